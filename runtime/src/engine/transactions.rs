//! The transaction state every worker shares: the tm tables (sharded, one
//! lock each) and, per transaction, what the script armed for it
//! (`t_on_failure`, `t_on_reply`) and the request its failure route runs
//! on. The tables are sans-IO (`crate::tm`); this is where the engine's
//! notion of a next hop meets them.

use super::{Destination, Output, Proto, RecvInfo};
use crate::sip::SipMessage;
use crate::tm::labels::LabelHasher;
use crate::tm::{self, CellId, Table, TmConfig, Transmit};
use bytes::Bytes;
use sercompat_compiler::ir::RouteId;
use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Where a transaction sends: replies upstream to the address RFC 3261
/// §18.2.2 gives, requests downstream to a next hop the transport
/// resolves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hop {
    Upstream {
        to: SocketAddr,
        proto: Proto,
    },
    /// `from`: the local socket `force_send_socket` chose for the branch
    /// (its CANCEL leaves from the same one).
    Downstream {
        to: Destination,
        from: Option<SocketAddr>,
    },
}

impl tm::Hop for Hop {
    fn is_reliable(&self) -> bool {
        let proto = match self {
            Hop::Upstream { proto, .. } => *proto,
            Hop::Downstream { to, .. } => to.proto,
        };
        proto != Proto::Udp
    }
}

impl From<Transmit<Hop>> for Output {
    fn from(t: Transmit<Hop>) -> Output {
        match t.to {
            Hop::Upstream { to, proto } => Output::Reply {
                bytes: t.bytes,
                to,
                proto,
            },
            Hop::Downstream { to, from } => Output::Forward {
                bytes: t.bytes,
                to,
                from,
            },
        }
    }
}

/// What the script attached to one transaction.
#[derive(Clone, Debug)]
pub struct CellScript {
    /// The request as received (the cell's own copy, shared).
    pub request: SipMessage,
    /// The request as the request route left it when it was relayed (its
    /// header edits applied, without our Via): what the failure route
    /// runs on and new branches are built from. Kept as bytes and parsed
    /// when a failure route runs: most transactions never fail, and a
    /// parsed copy in every cell cost more memory than the bytes.
    pub relayed: Option<Bytes>,
    pub recv: RecvInfo,
    /// `t_on_failure`: the failure route to run when every branch failed.
    pub failure_route: Option<RouteId>,
    /// `t_on_reply`: the onreply route for this transaction's replies.
    pub reply_route: Option<RouteId>,
    /// The message flags as `t_relay` (or `t_flush_flags`) left them; the
    /// failure and reply routes start with them and keep their changes.
    pub flags: u32,
}

impl CellScript {
    /// What the failure route runs on: the request as relayed, else as
    /// received.
    pub fn failure_request(&self) -> SipMessage {
        self.relayed
            .as_ref()
            .and_then(|b| SipMessage::parse_datagram(b.clone()).ok())
            .unwrap_or_else(|| self.request.clone())
    }
}

/// The tm tables of all workers, and the script state of each cell.
#[derive(Debug)]
pub struct Transactions {
    shards: Vec<Mutex<Table<Hop>>>,
    /// The tables' branch instance, to find a response's shard without
    /// locking a table.
    instance: String,
    /// Keyed by our own cell ids (a counter's labels), never by what a
    /// peer sends: no SipHash needed.
    scripts: Mutex<HashMap<CellId, CellScript, BuildHasherDefault<LabelHasher>>>,
}

impl Transactions {
    /// `shards` tables (at least one) with the same settings.
    pub fn new(config: TmConfig, shards: usize) -> Transactions {
        Transactions {
            instance: config.instance.clone(),
            shards: (0..shards.max(1))
                .map(|_| Mutex::new(Table::new(config.clone())))
                .collect(),
            scripts: Mutex::new(HashMap::default()),
        }
    }

    pub fn shard_count(&self) -> usize {
        self.shards.len()
    }

    /// The table holding `request`'s transaction (and its CANCEL's and
    /// ACK's).
    pub fn for_request(&self, request: &SipMessage) -> Option<(usize, MutexGuard<'_, Table<Hop>>)> {
        let i = tm::shard_for_request(request, self.shards.len()).ok()?;
        Some((i, self.lock(i)))
    }

    /// The table holding the client transaction `response` answers, when
    /// its top Via is one of ours.
    pub fn for_response(
        &self,
        response: &SipMessage,
    ) -> Option<(usize, MutexGuard<'_, Table<Hop>>)> {
        let i = tm::shard_for_response(response, &self.instance, self.shards.len())?;
        Some((i, self.lock(i)))
    }

    /// The table of `cell`.
    pub fn for_cell(&self, cell: CellId) -> MutexGuard<'_, Table<Hop>> {
        self.lock(cell.hash as usize % self.shards.len())
    }

    pub fn lock(&self, shard: usize) -> MutexGuard<'_, Table<Hop>> {
        // A panic while a table was locked leaves it as it was; serving
        // on is better than stopping every worker.
        self.shards[shard]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn scripts(
        &self,
    ) -> MutexGuard<'_, HashMap<CellId, CellScript, BuildHasherDefault<LabelHasher>>> {
        self.scripts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn set_script(&self, cell: CellId, script: CellScript) {
        self.scripts().insert(cell, script);
    }

    pub fn script(&self, cell: CellId) -> Option<CellScript> {
        self.scripts().get(&cell).cloned()
    }

    /// The `t_on_reply` route armed for `cell` and the transaction's
    /// flags it starts with (asked on every reply, so without copying the
    /// rest of the script state).
    pub fn reply_route(&self, cell: CellId) -> Option<(RouteId, u32)> {
        self.scripts()
            .get(&cell)
            .and_then(|s| Some((s.reply_route?, s.flags)))
    }

    /// The transaction's message flags.
    pub fn flags(&self, cell: CellId) -> Option<u32> {
        self.scripts().get(&cell).map(|s| s.flags)
    }

    pub fn update_script(&self, cell: CellId, f: impl FnOnce(&mut CellScript)) {
        if let Some(s) = self.scripts().get_mut(&cell) {
            f(s);
        }
    }

    /// How many transactions have script state (tests: nothing leaks).
    pub fn script_count(&self) -> usize {
        self.scripts().len()
    }

    pub fn forget(&self, cell: CellId) {
        self.scripts().remove(&cell);
    }

    /// The earliest deadline of any table.
    pub fn next_timeout(&self) -> Option<Instant> {
        (0..self.shards.len())
            .filter_map(|i| self.lock(i).poll_timeout())
            .min()
    }
}
