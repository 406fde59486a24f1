//! The transaction layer (Kamailio's `tm`), sans IO: RFC 3261 §17 server
//! and client transactions and the §16 proxy core that ties one server
//! transaction to N client branches (a "cell").
//!
//! Shaped like quinn-proto's `Endpoint`: nothing here owns a socket or
//! reads a clock. The caller hands in messages and the current time and
//! drains what the layer wants done:
//!
//! ```text
//! table.handle_request(&req, hop, now)   ─► RequestOutcome (absorbed / CANCEL for a cell / new)
//! table.create(&req, hop, now)           ─► CellId                      (t_newtran)
//! table.forward(cell, Outgoing, now)     ─► branch index                (t_relay, one per branch)
//! table.handle_response(&resp, now)      ─► ResponseOutcome             (reply path)
//! table.reply / cancel / failure_done / release / set_fr / status …     (script functions)
//! table.poll_transmit()  ─► Transmit { to: H, bytes }   (send these)
//! table.poll_event()     ─► Event (failure_route point, cell released)
//! table.poll_timeout()   ─► Option<Instant>; table.handle_timeout(now)
//! ```
//!
//! A [`Table`] is one shard: no locks inside, all state in plain values.
//! Several workers run N tables behind N locks and pick one with
//! [`shard_for_request`] (Call-ID and CSeq number, shared by an INVITE, its
//! CANCEL and its ACK) or [`shard_for_response`] (the hash is part of the
//! branch we put in our Via). `H` is the caller's notion of where a
//! message goes ([`Hop`]); the layer only asks whether it is reliable.

mod build;
mod cell;
mod client;
mod config;
mod key;
pub(crate) mod labels;
mod own_via;
mod server;
mod table;

pub use client::ClientState;
pub use config::{FailureReplyMode, Timers, TmConfig, UnrepliedCancel};
pub use key::{request_hash, shard_for_request, shard_for_response};
pub use server::ServerState;
pub use table::Table;

use std::collections::VecDeque;
use std::fmt;

use bytes::Bytes;

use crate::sip::{SipError, SipMessage};

/// Where a message goes (or came from): a resolved address plus transport,
/// as the network layer sees it. Reliable transports (TCP, TLS, SCTP)
/// switch off retransmissions and zero Timers D, I, J and K.
pub trait Hop: Clone + fmt::Debug {
    fn is_reliable(&self) -> bool;
}

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<H> {
    pub to: H,
    pub bytes: Bytes,
}

/// A transaction (cell) of one table. The label is unique in the table;
/// the hash is the request's ([`request_hash`]), which picks the shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellId {
    pub hash: u32,
    pub label: u64,
}

impl fmt::Display for CellId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}:{:x}", self.hash, self.label)
    }
}

/// Something the script side must know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Every branch completed without a 2xx and `t_on_failure` armed the
    /// cell: run the failure route now. `branch` holds the best reply
    /// (§16.7), `status` its code. The route may add branches
    /// ([`Table::forward`], serial forking) or reply ([`Table::reply`]);
    /// then call [`Table::failure_done`], which relays the best reply if
    /// it did neither.
    Failure {
        cell: CellId,
        branch: usize,
        status: u16,
    },
    /// The cell is gone (all its transactions terminated, or `t_release`
    /// ran out); per-transaction script state can be dropped.
    Released { cell: CellId },
    /// The first final reply went upstream (only with
    /// [`TmConfig::report_finals`]: accounting wants it), or a 183 with a
    /// body did (early media, with [`TmConfig::report_early_media`]).
    Replied { cell: CellId, reply: FinalReply },
}

/// What accounting records of a reply that went upstream: its code,
/// reason phrase and To tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalReply {
    pub code: u16,
    pub reason: String,
    pub to_tag: String,
}

/// A request seen by [`Table::handle_request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestOutcome {
    /// No transaction: route it (and call [`Table::create`] to make one).
    Unmatched,
    /// A retransmission; the last reply was re-sent if there was one.
    Retransmission { cell: CellId },
    /// The hop-by-hop ACK for our non-2xx final reply: absorbed.
    AckAbsorbed { cell: CellId },
    /// A new CANCEL for the INVITE of `cell`: call [`Table::cancel`]
    /// (what `t_relay()` does for a CANCEL in Kamailio).
    CancelFor { cell: CellId },
}

/// What [`Table::new_transaction`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewTransaction {
    /// The request had no transaction; this one was made for it.
    Created(CellId),
    /// It belonged to one: what [`Table::handle_request`] would have said
    /// (never `Unmatched`).
    Existing(RequestOutcome),
}

/// A response seen by [`Table::handle_response`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseOutcome {
    /// Not a reply to anything we sent: forward it statelessly or drop it.
    Unmatched,
    /// A retransmission, a reply to our CANCEL or a late reply; handled.
    Absorbed { cell: CellId, branch: usize },
    /// Processed by the cell (relayed, stored, or it completed the cell).
    Processed {
        cell: CellId,
        branch: usize,
        status: u16,
    },
}

/// One branch to create: the request as the script left it (Request-URI,
/// headers, body) without our Via, where to send it, and the start of our
/// Via (`SIP/2.0/UDP 192.0.2.1:5060`); the layer appends `;branch=`.
/// Parsed by the caller, who usually keeps it too (the failure route
/// runs on it).
#[derive(Debug, Clone)]
pub struct Outgoing<H> {
    pub request: SipMessage,
    pub hop: H,
    pub via: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TmError {
    Sip(SipError),
    MissingHeader(&'static str),
    NotARequest,
    NotAResponse,
    /// ACK never creates a transaction (§17.2.1).
    AckHasNoTransaction,
    /// `create` for a request that already has one.
    Exists(CellId),
    NoSuchCell(CellId),
    NoSuchBranch {
        cell: CellId,
        branch: usize,
    },
    /// The server transaction cannot send this reply in its state.
    ReplyNotAllowed {
        code: u16,
        sent: u16,
    },
    /// No new branches after a CANCEL (§16.10) ...
    Canceled,
    /// ... or after a 6xx (§16.7 step 5) ...
    After6xx,
    /// ... or once a final reply went upstream.
    AlreadyReplied(u16),
}

impl From<SipError> for TmError {
    fn from(e: SipError) -> Self {
        TmError::Sip(e)
    }
}

impl fmt::Display for TmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TmError::Sip(e) => write!(f, "{e}"),
            TmError::MissingHeader(name) => write!(f, "no {name}"),
            TmError::NotARequest => f.write_str("not a request"),
            TmError::NotAResponse => f.write_str("not a response"),
            TmError::AckHasNoTransaction => f.write_str("an ACK has no transaction of its own"),
            TmError::Exists(cell) => write!(f, "transaction {cell} exists"),
            TmError::NoSuchCell(cell) => write!(f, "no transaction {cell}"),
            TmError::NoSuchBranch { cell, branch } => {
                write!(f, "transaction {cell} has no branch {branch}")
            }
            TmError::ReplyNotAllowed { code, sent } => {
                write!(f, "cannot send {code} after {sent}")
            }
            TmError::Canceled => f.write_str("the transaction was canceled"),
            TmError::After6xx => f.write_str("a branch answered 6xx"),
            TmError::AlreadyReplied(code) => write!(f, "final reply {code} already sent"),
        }
    }
}

impl std::error::Error for TmError {}

/// What the state machines produce while handling one input.
#[derive(Debug)]
pub(crate) struct Out<H> {
    transmits: VecDeque<Transmit<H>>,
    events: VecDeque<Event>,
}

impl<H: Clone> Out<H> {
    fn new() -> Self {
        Out {
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    pub(crate) fn send(&mut self, to: &H, bytes: Bytes) {
        self.transmits.push_back(Transmit {
            to: to.clone(),
            bytes,
        });
    }

    pub(crate) fn event(&mut self, event: Event) {
        self.events.push_back(event);
    }
}
