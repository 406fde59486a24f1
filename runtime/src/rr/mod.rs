//! Record-routing as Kamailio 5.6's `rr` module does it, sans IO (RFC
//! 3261 §16.6 step 4, §16.4, §16.12, strict/loose router interop).
//!
//! ```text
//! record_route*/add_rr_param ─► RrState (pending Record-Route, params)
//!                               └─ headers(incoming, outgoing) at send time
//! loose_route(editor, R-URI, myself) ─► RrOutcome (code, new R-URI, $du,
//!                                       lumps on the editor, our Route's params)
//! ```
//!
//! The Record-Route header(s) are *deferred*: Kamailio decides at send time
//! (lump conditions) whether the outgoing socket differs from the incoming
//! one and a second, `r2=on` header is needed. Here the script-time calls
//! only record what was asked ([`RrState`]); whoever builds the outgoing
//! message asks [`RrState::headers`] with both sockets and inserts the
//! values at the top of the header section.

mod config;
mod loose;
mod record;
mod routes;

pub use config::RrConfig;
pub use loose::{
    check_route_param, is_direction, loose_route, loose_route_mode, Direction, RrOutcome,
};
pub use record::{RecordRouteKind, RequestUri, RrError, RrSocket, RrState};
pub use routes::{route_entries, RouteEntry};
