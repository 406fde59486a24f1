//! The user location table (Kamailio's `usrloc`), sans IO: address of
//! record → contacts, shared by every worker thread.
//!
//! ```text
//! Usrloc ─ one Location per table name ("location", ...)
//! Location ─ 2^hash_size shards, each a Mutex<HashMap<AoR, Record>>
//! Record ─ the AoR's contacts, kept in q order (or newest first)
//! LocationStore ─ where changes go besides memory (db_mode)
//! ```
//!
//! No clock: every call that needs the time takes `now` (Unix seconds),
//! and expiry is a sweep the caller runs from its timer.

mod config;
mod contact;
mod error;
mod record;
mod store;
mod table;

pub use config::{DbMode, MatchingMode, UsrlocConfig};
pub use contact::{methods, strip_angle_brackets, Contact, Q_UNSPECIFIED};
pub use error::UsrlocError;
pub use record::{Match, MatchKey, Record, RecordMut};
pub use store::{Change, LocationStore, MemoryOnly};
pub use table::{ExpiredContact, Location, Usrloc};
