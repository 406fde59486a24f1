//! What the location table can refuse.

use super::config::DbMode;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsrlocError {
    /// A db_mode that needs a database, and none is there.
    DbModeNeedsDatabase(DbMode),
    /// A parameter value Kamailio does not accept either.
    BadParameter { name: &'static str, value: i64 },
    /// The database behind the table failed (not reachable with db_mode 0).
    Store(String),
}

impl fmt::Display for UsrlocError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsrlocError::DbModeNeedsDatabase(mode) => write!(
                f,
                "usrloc db_mode {} ({}) needs a database, and sercompat has no database \
                 driver for usrloc yet; use db_mode 0 (memory only)",
                mode.number(),
                mode.name()
            ),
            UsrlocError::BadParameter { name, value } => {
                write!(f, "usrloc parameter {name} cannot be {value}")
            }
            UsrlocError::Store(text) => write!(f, "usrloc storage failed: {text}"),
        }
    }
}

impl std::error::Error for UsrlocError {}
