//! Where location changes go besides memory: the seam for Kamailio's
//! db_mode 1–4. Only memory (db_mode 0) exists today; the table refuses
//! any other mode unless a store is handed to it.

use super::config::DbMode;
use super::contact::Contact;
use super::error::UsrlocError;

/// One change to a table, as a database behind it would apply it.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    Insert {
        aor: &'a str,
        contact: &'a Contact,
    },
    Update {
        aor: &'a str,
        contact: &'a Contact,
    },
    Delete {
        aor: &'a str,
        contact: &'a Contact,
    },
    /// A contact removed by the expiry sweep.
    Expire {
        aor: &'a str,
        contact: &'a Contact,
    },
}

/// A persistent store behind a location table.
///
/// * write-through (1): [`LocationStore::apply`] is called under the shard
///   lock for every change, and its error fails the operation;
/// * write-back (2): `apply` only marks, [`LocationStore::flush`] writes,
///   from the same timer that runs the expiry sweep;
/// * DB-only (3): the memory table becomes a per-request cache filled by
///   [`LocationStore::load_record`] and dropped after;
/// * read-only (4): [`LocationStore::load_all`] at start, nothing after.
pub trait LocationStore: Send + Sync {
    fn mode(&self) -> DbMode;

    /// Every stored contact of `table`, at start (`db_load`, `preload`).
    fn load_all(&self, table: &str) -> Result<Vec<(String, Contact)>, UsrlocError>;

    /// One AoR's contacts (db_mode 3).
    fn load_record(&self, table: &str, aor: &str) -> Result<Vec<Contact>, UsrlocError>;

    fn apply(&self, table: &str, change: Change<'_>) -> Result<(), UsrlocError>;

    /// Writes what `apply` deferred (db_mode 2).
    fn flush(&self, table: &str) -> Result<(), UsrlocError>;
}

/// db_mode 0: nothing besides memory.
#[derive(Debug, Default, Clone, Copy)]
pub struct MemoryOnly;

impl LocationStore for MemoryOnly {
    fn mode(&self) -> DbMode {
        DbMode::MemoryOnly
    }

    fn load_all(&self, _table: &str) -> Result<Vec<(String, Contact)>, UsrlocError> {
        Ok(Vec::new())
    }

    fn load_record(&self, _table: &str, _aor: &str) -> Result<Vec<Contact>, UsrlocError> {
        Ok(Vec::new())
    }

    fn apply(&self, _table: &str, _change: Change<'_>) -> Result<(), UsrlocError> {
        Ok(())
    }

    fn flush(&self, _table: &str) -> Result<(), UsrlocError> {
        Ok(())
    }
}
