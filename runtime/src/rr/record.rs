//! `record_route`, `record_route_preset`, `record_route_advertised_address`,
//! `add_rr_param`, `remove_record_route`: what was asked for one request,
//! turned into Record-Route values once the outgoing socket is known.

use super::config::RrConfig;
use crate::sip::SipMessage;
use std::fmt;

/// A socket of ours as a Record-Route URI names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrSocket {
    /// An IP address or a name; IPv6 without brackets is bracketed.
    pub host: String,
    pub port: u16,
    /// Lowercase transport name (`udp`, `tcp`, `tls`, ...).
    pub transport: String,
}

impl RrSocket {
    pub fn new(host: impl Into<String>, port: u16, transport: impl Into<String>) -> Self {
        RrSocket {
            host: host.into(),
            port,
            transport: transport.into().to_ascii_lowercase(),
        }
    }

    /// `host[:port]`, the port left out when it is 5060 (Kamailio writes
    /// the socket that way).
    fn hostport(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == 5060 {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

/// Which function asked for the Record-Route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordRouteKind {
    /// `record_route([params])`: our sockets; the params follow `lr;ftag`.
    Sockets { params: String },
    /// `record_route_preset(first[, second])`: the text as given.
    Preset {
        first: String,
        second: Option<String>,
    },
    /// `record_route_advertised_address(addr)`.
    Advertised { address: String },
}

/// Why a record-route call did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RrError {
    /// A Record-Route was already asked for this request (Kamailio: "Double
    /// attempt to record-route").
    AlreadyRecordRouted,
    /// The text would break the header (a control character, `>`).
    BadText(String),
}

impl fmt::Display for RrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RrError::AlreadyRecordRouted => f.write_str("double attempt to record-route"),
            RrError::BadText(t) => write!(f, "`{t}` cannot go into a Record-Route URI"),
        }
    }
}

impl std::error::Error for RrError {}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    kind: RecordRouteKind,
    /// `sip` or `sips` (the Request-URI's scheme when asked).
    scheme: &'static str,
    user: Option<String>,
    ftag: Option<String>,
}

/// The Request-URI record-routing reads (its scheme and user): its text,
/// or its parse when the caller has one (`None`: it does not parse).
#[derive(Debug, Clone, Copy)]
pub enum RequestUri<'a> {
    Text(&'a str),
    Parsed(Option<&'a crate::sip::Uri>),
}

impl<'a> From<&'a str> for RequestUri<'a> {
    fn from(text: &'a str) -> Self {
        RequestUri::Text(text)
    }
}

impl<'a> From<&'a String> for RequestUri<'a> {
    fn from(text: &'a String) -> Self {
        RequestUri::Text(text)
    }
}

/// The record-routing asked for one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RrState {
    pending: Option<Pending>,
    /// `add_rr_param` texts, in call order; they go after the header's own
    /// parameters whether given before or after the record-route call.
    extra: Vec<String>,
    /// The parameters of the Route that named us, once `loose_route` ran.
    route_params: Option<String>,
}

impl RrState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records what `loose_route` found in our Route
    /// ([`RrOutcome::our_params`](super::RrOutcome)): `check_route_param`
    /// and `is_direction` read it, and an upstream in-dialog request gets
    /// the dialog's original From tag (its To tag) as `ftag`.
    pub fn set_route_params(&mut self, params: Option<String>) {
        self.route_params = params;
    }

    pub fn route_params(&self) -> Option<&str> {
        self.route_params.as_deref()
    }

    /// Whether a Record-Route will be added.
    pub fn is_pending(&self) -> bool {
        self.pending.is_some()
    }

    /// `record_route([params])`.
    pub fn record_route<'u>(
        &mut self,
        msg: &SipMessage,
        ruri: impl Into<RequestUri<'u>>,
        cfg: &RrConfig,
        params: &str,
    ) -> Result<(), RrError> {
        check_text(params)?;
        self.ask(
            msg,
            ruri.into(),
            cfg,
            RecordRouteKind::Sockets {
                params: params.to_string(),
            },
        )
    }

    /// `record_route_preset(first[, second])`.
    pub fn record_route_preset<'u>(
        &mut self,
        msg: &SipMessage,
        ruri: impl Into<RequestUri<'u>>,
        cfg: &RrConfig,
        first: &str,
        second: Option<&str>,
    ) -> Result<(), RrError> {
        check_text(first)?;
        if let Some(s) = second {
            check_text(s)?;
        }
        self.ask(
            msg,
            ruri.into(),
            cfg,
            RecordRouteKind::Preset {
                first: first.to_string(),
                second: second.map(str::to_string),
            },
        )
    }

    /// `record_route_advertised_address(address)`.
    pub fn record_route_advertised_address<'u>(
        &mut self,
        msg: &SipMessage,
        ruri: impl Into<RequestUri<'u>>,
        cfg: &RrConfig,
        address: &str,
    ) -> Result<(), RrError> {
        check_text(address)?;
        self.ask(
            msg,
            ruri.into(),
            cfg,
            RecordRouteKind::Advertised {
                address: address.to_string(),
            },
        )
    }

    /// `add_rr_param(param)`: kept for the Record-Route of this request,
    /// added before or after it.
    pub fn add_rr_param(&mut self, param: &str) -> Result<(), RrError> {
        check_text(param)?;
        self.extra.push(param.to_string());
        Ok(())
    }

    /// `remove_record_route()`: forgets the Record-Route and its
    /// parameters.
    pub fn remove_record_route(&mut self) {
        self.pending = None;
        self.extra.clear();
    }

    /// The Record-Route values to insert at the top of the header section,
    /// top first, now that the outgoing socket is known. Empty when none
    /// was asked for.
    pub fn headers(&self, cfg: &RrConfig, incoming: &RrSocket, outgoing: &RrSocket) -> Vec<String> {
        let Some(p) = &self.pending else {
            return Vec::new();
        };
        let user = p
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        let ftag = p
            .ftag
            .as_deref()
            .map(|t| format!(";ftag={t}"))
            .unwrap_or_default();
        let extra: String = self.extra.concat();
        let lr = cfg.lr();
        let scheme = p.scheme;
        let always = cfg.enable_double_rr >= 2;
        match &p.kind {
            RecordRouteKind::Sockets { params } => {
                let differ = incoming != outgoing;
                let uri = |s: &RrSocket, r2: &str| {
                    let transport = if s.transport != "udp" {
                        format!(";transport={}", s.transport)
                    } else {
                        String::new()
                    };
                    format!(
                        "<{scheme}:{user}{}{transport}{r2};{lr}{ftag}{params}{extra}>",
                        s.hostport()
                    )
                };
                if always || (cfg.enable_double_rr == 1 && differ) {
                    vec![uri(outgoing, ";r2=on"), uri(incoming, ";r2=on")]
                } else {
                    vec![uri(incoming, "")]
                }
            }
            RecordRouteKind::Preset { first, second } => {
                let uri = |text: &str| format!("<{scheme}:{user}{text}{ftag};{lr}{extra}>");
                let mut out = vec![uri(first)];
                out.extend(second.as_deref().map(uri));
                out
            }
            RecordRouteKind::Advertised { address } => {
                let differ = incoming.transport != outgoing.transport;
                if always || (cfg.enable_double_rr == 1 && differ) {
                    let uri = |s: &RrSocket| {
                        format!(
                            "<{scheme}:{user}{address};transport={};r2=on{ftag};{lr}{extra}>",
                            s.transport
                        )
                    };
                    vec![uri(outgoing), uri(incoming)]
                } else {
                    vec![format!("<{scheme}:{user}{address}{ftag};{lr}{extra}>")]
                }
            }
        }
    }

    fn ask(
        &mut self,
        msg: &SipMessage,
        ruri: RequestUri<'_>,
        cfg: &RrConfig,
        kind: RecordRouteKind,
    ) -> Result<(), RrError> {
        if self.pending.is_some() {
            return Err(RrError::AlreadyRecordRouted);
        }
        let parsed_here;
        let parsed = match ruri {
            RequestUri::Text(text) => {
                parsed_here = crate::sip::Uri::parse(text.as_bytes()).ok();
                parsed_here.as_ref()
            }
            RequestUri::Parsed(parsed) => parsed,
        };
        let sip = parsed.and_then(|u| u.as_sip());
        let scheme = if sip.is_some_and(|u| u.is_secure()) {
            "sips"
        } else {
            "sip"
        };
        let user = if cfg.add_username {
            sip.and_then(|u| u.user())
                .map(|u| u.to_string_lossy().into_owned())
                .filter(|u| !u.is_empty())
        } else {
            None
        };
        let tag_of = |h: Option<&crate::sip::NameAddr>| {
            h.and_then(|a| a.tag())
                .map(|t| t.to_string_lossy().into_owned())
                .filter(|t| !t.is_empty())
        };
        let from_tag = tag_of(msg.from_header().ok().flatten());
        let upstream = super::is_direction(
            self.route_params.as_deref(),
            from_tag.as_deref(),
            super::Direction::Upstream,
        );
        let ftag = match (cfg.append_fromtag, upstream) {
            (false, _) => None,
            (true, false) => from_tag,
            (true, true) => tag_of(msg.to_header().ok().flatten()),
        };
        self.pending = Some(Pending {
            kind,
            scheme,
            user,
            ftag,
        });
        Ok(())
    }
}

/// Script text that would end the URI or the header line early.
fn check_text(text: &str) -> Result<(), RrError> {
    if text
        .bytes()
        .any(|b| b.is_ascii_control() || b == b'>' || b == b'<')
    {
        return Err(RrError::BadText(text.to_string()));
    }
    Ok(())
}
