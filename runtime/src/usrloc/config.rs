//! usrloc module parameters (Kamailio 5.6 names, defaults and meanings).

use super::error::UsrlocError;

/// `db_mode`: where contacts live besides memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbMode {
    /// 0: memory only; contacts do not survive a restart.
    MemoryOnly,
    /// 1: every change written to the database at once.
    WriteThrough,
    /// 2: changes flushed to the database by the timer.
    WriteBack,
    /// 3: no memory cache; every operation goes to the database.
    DbOnly,
    /// 4: loaded from the database at start, then memory only.
    ReadOnly,
}

impl DbMode {
    pub fn from_number(n: i64) -> Option<DbMode> {
        Some(match n {
            0 => DbMode::MemoryOnly,
            1 => DbMode::WriteThrough,
            2 => DbMode::WriteBack,
            3 => DbMode::DbOnly,
            4 => DbMode::ReadOnly,
            _ => return None,
        })
    }

    pub fn number(self) -> u8 {
        match self {
            DbMode::MemoryOnly => 0,
            DbMode::WriteThrough => 1,
            DbMode::WriteBack => 2,
            DbMode::DbOnly => 3,
            DbMode::ReadOnly => 4,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DbMode::MemoryOnly => "memory only",
            DbMode::WriteThrough => "write-through",
            DbMode::WriteBack => "write-back",
            DbMode::DbOnly => "DB-only",
            DbMode::ReadOnly => "read-only DB",
        }
    }
}

/// `matching_mode`: how a REGISTER's contact finds the stored one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchingMode {
    /// 0: contact URI only (RFC 3261), Call-ID/CSeq checked after.
    ContactOnly,
    /// 1: contact URI and Call-ID.
    ContactCallId,
    /// 2: contact URI and Path (contact only when the REGISTER has no Path).
    ContactPath,
    /// 3: Call-ID only.
    CallIdOnly,
}

impl MatchingMode {
    pub fn from_number(n: i64) -> Option<MatchingMode> {
        Some(match n {
            0 => MatchingMode::ContactOnly,
            1 => MatchingMode::ContactCallId,
            2 => MatchingMode::ContactPath,
            3 => MatchingMode::CallIdOnly,
            _ => return None,
        })
    }
}

/// The usrloc parameters this table uses. The engine fills it from
/// `modparam("usrloc", ...)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsrlocConfig {
    pub db_mode: DbMode,
    pub matching_mode: MatchingMode,
    /// Seconds during which a REGISTER with the same Call-ID and CSeq is a
    /// retransmission (answered, not applied) rather than an error.
    pub cseq_delay: u32,
    /// The table has 2^hash_size shards, each with its own lock.
    pub hash_size: u8,
    /// AoR is user@domain rather than user.
    pub use_domain: bool,
    /// Keep contacts newest first instead of by q.
    pub desc_time_order: bool,
    /// Branch flag index marking a contact as behind NAT (`nat_bflag`).
    pub nat_bflag: Option<u8>,
    /// Seconds between expiry sweeps; the caller's timer reads it.
    pub timer_interval: u32,
    /// Start of every record unique id (Kamailio's sruid prefix).
    pub ruid_prefix: String,
}

impl Default for UsrlocConfig {
    fn default() -> Self {
        UsrlocConfig {
            db_mode: DbMode::MemoryOnly,
            matching_mode: MatchingMode::ContactOnly,
            cseq_delay: 20,
            hash_size: 10,
            use_domain: false,
            desc_time_order: false,
            nat_bflag: None,
            timer_interval: 60,
            ruid_prefix: "uloc".to_owned(),
        }
    }
}

impl UsrlocConfig {
    /// The NAT branch flag as a bit mask (0 when unset).
    pub fn nat_flag_mask(&self) -> u32 {
        self.nat_bflag.filter(|&b| b < 32).map_or(0, |b| 1u32 << b)
    }

    pub(crate) fn check(&self) -> Result<(), UsrlocError> {
        if self.hash_size == 0 || self.hash_size > 16 {
            return Err(UsrlocError::BadParameter {
                name: "hash_size",
                value: i64::from(self.hash_size),
            });
        }
        if let Some(b) = self.nat_bflag.filter(|&b| b >= 32) {
            return Err(UsrlocError::BadParameter {
                name: "nat_bflag",
                value: i64::from(b),
            });
        }
        Ok(())
    }
}
