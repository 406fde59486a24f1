//! The registrar (Kamailio's `registrar` module), sans IO: save() turns a
//! REGISTER into location changes and a reply; lookup() turns a
//! Request-URI into destinations; registered() and unregister() read and
//! remove bindings. RFC 3261 §10.3, RFC 3327 (Path), RFC 5626
//! (+sip.instance, reg-id).
//!
//! Nothing here knows the engine: the caller hands in the message, the
//! time and what only it knows (socket, received AVP, branch flags), and
//! gets back values — a [`RegistrarReply`] to send, a [`LookupOutcome`]
//! to apply to its Request-URI and branch set — with Kamailio's return
//! codes.

mod aor;
mod config;
mod error;
mod lookup;
mod reply;
mod request;
mod save;

pub use aor::extract_aor;
pub use config::{PathMode, RegistrarConfig, SaveFlags, Unsupported};
pub use error::RegError;
pub use lookup::{Binding, LookupOutcome, LookupRequest, RegisteredMatch};
pub use reply::RegistrarReply;
pub use save::{SaveContext, SaveOutcome};

use crate::sip::SipMessage;
use crate::usrloc::{Location, Usrloc};
use std::sync::Arc;

/// The registrar over a location table set.
pub struct Registrar {
    config: RegistrarConfig,
    usrloc: Arc<Usrloc>,
}

/// Why a registrar cannot be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfigError(pub Vec<Unsupported>);

impl std::fmt::Display for RegistrarConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&lines.join("; "))
    }
}

impl std::error::Error for RegistrarConfigError {}

impl Registrar {
    /// Refuses parameters whose behaviour is not implemented, naming them.
    pub fn new(config: RegistrarConfig, usrloc: Arc<Usrloc>) -> Result<Self, RegistrarConfigError> {
        let unsupported = config.unsupported();
        if !unsupported.is_empty() {
            return Err(RegistrarConfigError(unsupported));
        }
        Ok(Registrar { config, usrloc })
    }

    pub fn config(&self) -> &RegistrarConfig {
        &self.config
    }

    pub fn usrloc(&self) -> &Arc<Usrloc> {
        &self.usrloc
    }

    fn table(&self, domain: &str) -> Option<Arc<Location>> {
        self.usrloc.table(domain).ok()
    }

    /// `save(domain[, flags[, uri]])` over a REGISTER.
    pub fn save(
        &self,
        msg: &SipMessage,
        domain: &str,
        flags: SaveFlags,
        uri: Option<&str>,
        ctx: &SaveContext<'_>,
    ) -> SaveOutcome {
        let Some(table) = self.table(domain) else {
            return SaveOutcome {
                code: -1,
                reply: None,
                send_reply: false,
            };
        };
        save::Saver {
            config: &self.config,
            ul: self.usrloc.config(),
            table: &table,
        }
        .save(msg, flags, uri, ctx)
    }

    fn reader<R>(&self, domain: &str, f: impl FnOnce(&lookup::Reader<'_>) -> R) -> Option<R> {
        let table = self.table(domain)?;
        Some(f(&lookup::Reader {
            config: &self.config,
            ul: self.usrloc.config(),
            table: &table,
        }))
    }

    /// `lookup(domain[, uri])`.
    pub fn lookup(&self, domain: &str, req: &LookupRequest<'_>) -> LookupOutcome {
        self.reader(domain, |r| r.lookup(req, false))
            .unwrap_or_else(internal_error)
    }

    /// `lookup_to_dset(domain[, uri])`: every destination as a branch.
    pub fn lookup_to_dset(&self, domain: &str, req: &LookupRequest<'_>) -> LookupOutcome {
        self.reader(domain, |r| r.lookup(req, true))
            .unwrap_or_else(internal_error)
    }

    /// `registered(domain[, uri[, match_option]])`: 1 or -1.
    pub fn registered(
        &self,
        domain: &str,
        uri: &str,
        filter: &RegisteredMatch<'_>,
        now: u64,
    ) -> i32 {
        self.reader(domain, |r| r.registered(uri, filter, now))
            .unwrap_or(-1)
    }

    /// `unregister(domain, uri[, ruid])`.
    pub fn unregister(&self, domain: &str, uri: &str, ruid: Option<&str>) -> i32 {
        self.reader(domain, |r| r.unregister(uri, ruid))
            .unwrap_or(-2)
    }
}

fn internal_error() -> LookupOutcome {
    LookupOutcome {
        code: -3,
        request_uri: None,
        branches: Vec::new(),
    }
}
