//! lookup(), registered() and unregister(): reading and removing
//! bindings (Kamailio's registrar lookup.c and unregister()).

use super::aor::{aor_of, extract_aor};
use super::config::RegistrarConfig;
use super::reply::parse_reversed_hex;
use super::request::first_path_uri;
use crate::sip::{Method, Uri};
use crate::usrloc::{methods, Contact, Location, UsrlocConfig};
use std::sync::Arc;

/// One destination lookup() produced: the new Request-URI, or a branch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    /// The contact URI: the new Request-URI of this branch.
    pub uri: String,
    /// Where to send it: the first Path hop, else the received address.
    pub dst_uri: Option<String>,
    /// The Path vector, to become Route headers.
    pub path: Option<String>,
    pub q: i16,
    /// Branch flags to set (the contact's cflags).
    pub branch_flags: u32,
    /// The socket to send from (the one the REGISTER came in on).
    pub socket: Option<Arc<str>>,
    pub instance: Option<String>,
    pub reg_id: u32,
    pub ruid: String,
    pub user_agent: String,
}

impl Binding {
    fn from_contact(c: &Contact) -> Self {
        let path_dst = c.path.as_deref().and_then(first_path_uri);
        let dst_uri = path_dst.or_else(|| c.received.as_deref().map(str::to_owned));
        Binding {
            uri: c.uri.to_string(),
            dst_uri,
            path: c.path.as_deref().map(str::to_owned),
            q: c.q,
            branch_flags: c.cflags,
            socket: c.socket.clone(),
            instance: c.instance.as_deref().map(str::to_owned),
            reg_id: if c.instance.is_some() { c.reg_id } else { 0 },
            ruid: c.ruid.to_string(),
            user_agent: c.user_agent.to_string(),
        }
    }
}

/// What lookup() found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupOutcome {
    /// 1 found; -1 no contact; -2 contacts, but none accepts the method
    /// (method_filtering); -3 internal error.
    pub code: i32,
    /// The new Request-URI and its attributes (None for lookup_to_dset
    /// and when nothing was found).
    pub request_uri: Option<Binding>,
    /// Further destinations, in q order (append_branches).
    pub branches: Vec<Binding>,
}

impl LookupOutcome {
    fn code(code: i32) -> Self {
        LookupOutcome {
            code,
            request_uri: None,
            branches: Vec::new(),
        }
    }
}

/// The request lookup() works for.
#[derive(Debug, Clone, Copy)]
pub struct LookupRequest<'a> {
    /// The URI whose AoR is looked up: the current Request-URI, or the
    /// function's `uri` argument.
    pub uri: &'a str,
    /// The parse of `uri`, when the caller has it (the engine keeps the
    /// Request-URI's); `None` has it parsed here.
    pub parsed_uri: Option<&'a Uri>,
    pub method: &'a Method,
    /// A To tag means a request within a dialog: method_filtering does
    /// not apply.
    pub to_has_tag: bool,
    pub now: u64,
}

/// Optional tighter matches of registered() (match_option 1, 2, 4 with
/// the values of `$xavp(<xavp_cfg>=>match_callid|match_received|match_contact)`).
#[derive(Debug, Clone, Copy, Default)]
pub struct RegisteredMatch<'a> {
    pub call_id: Option<&'a str>,
    pub received: Option<&'a str>,
    pub contact: Option<&'a str>,
}

pub(crate) struct Reader<'a> {
    pub config: &'a RegistrarConfig,
    pub ul: &'a UsrlocConfig,
    pub table: &'a Location,
}

impl Reader<'_> {
    /// `to_dset`: lookup_to_dset(), every destination a branch and the
    /// Request-URI left alone.
    pub fn lookup(&self, req: &LookupRequest<'_>, to_dset: bool) -> LookupOutcome {
        // One parse for the AoR and the GRUU check.
        let parsed_here;
        let parsed = match req.parsed_uri {
            Some(parsed) => parsed,
            None => match Uri::parse(req.uri.as_bytes()) {
                Ok(parsed) => {
                    parsed_here = parsed;
                    &parsed_here
                }
                Err(_) => return LookupOutcome::code(-3),
            },
        };
        let Ok(aor) = aor_of(parsed, self.config, self.ul.use_domain) else {
            return LookupOutcome::code(-3);
        };
        let gruu = match parsed {
            Uri::Sip(u) => u.params().get("gr").map(|p| p.value().cloned()),
            _ => None,
        };
        let instance = match gruu {
            Some(Some(v)) if !v.is_empty() => Some(v.to_string_lossy().into_owned()),
            Some(_) => {
                let user = match parsed {
                    Uri::Sip(u) => u.user().map(|s| s.to_string_lossy().into_owned()),
                    _ => None,
                };
                return self.lookup_temp_gruu(user.as_deref().unwrap_or(""), req, to_dset);
            }
            None => None,
        };
        let Some(record) = self.table.get(&aor) else {
            return LookupOutcome::code(-1);
        };
        let method_bit = methods::bit(req.method.as_bytes());
        let allowed = |c: &Contact| {
            !self.config.method_filtering || c.methods & method_bit != 0 || req.to_has_tag
        };
        let contacts = record.contacts();
        let mut code = -1;
        let mut first = None;
        for (i, c) in contacts.iter().enumerate() {
            if !c.is_valid(req.now) {
                continue;
            }
            if !allowed(c) {
                code = -2;
                continue;
            }
            let wanted = match &instance {
                Some(gr) => c.instance_key() == Some(crate::usrloc::strip_angle_brackets(gr)),
                None => true,
            };
            if wanted {
                first = Some(i);
                break;
            }
        }
        let Some(first) = first else {
            return LookupOutcome::code(code);
        };
        let mut out = LookupOutcome::code(1);
        let rest_from = if to_dset {
            first
        } else {
            out.request_uri = Some(Binding::from_contact(&contacts[first]));
            first + 1
        };
        if instance.is_some() || !self.config.append_branches {
            if to_dset {
                out.branches.push(Binding::from_contact(&contacts[first]));
            }
            return out;
        }
        out.branches = contacts[rest_from..]
            .iter()
            .filter(|c| c.is_valid(req.now) && allowed(c))
            .map(Binding::from_contact)
            .collect();
        out
    }

    /// A temporary GRUU (`sip:<ruid>-<aor hash>@host;gr`, RFC 5627 §3.2)
    /// names one contact by its ruid; no branches.
    fn lookup_temp_gruu(
        &self,
        user: &str,
        req: &LookupRequest<'_>,
        to_dset: bool,
    ) -> LookupOutcome {
        let Some((ruid, hash)) = user.rsplit_once('-') else {
            return LookupOutcome::code(-3);
        };
        let Some(hash) = parse_reversed_hex(hash) else {
            return LookupOutcome::code(-3);
        };
        let Some((_, contact)) = self.table.find_by_ruid(hash, ruid) else {
            return LookupOutcome::code(-1);
        };
        if !contact.is_valid(req.now) {
            return LookupOutcome::code(-1);
        }
        let method_bit = methods::bit(req.method.as_bytes());
        if self.config.method_filtering && contact.methods & method_bit == 0 && !req.to_has_tag {
            return LookupOutcome::code(-2);
        }
        let mut out = LookupOutcome::code(1);
        let binding = Binding::from_contact(&contact);
        if to_dset {
            out.branches.push(binding);
        } else {
            out.request_uri = Some(binding);
        }
        out
    }

    /// 1 when the AoR of `uri` has a valid contact passing `filter`, else -1.
    pub fn registered(&self, uri: &str, filter: &RegisteredMatch<'_>, now: u64) -> i32 {
        let Ok(aor) = extract_aor(uri, self.config, self.ul.use_domain) else {
            return -1;
        };
        let Some(record) = self.table.get(&aor) else {
            return -1;
        };
        let passes = |want: Option<&str>, have: Option<&str>| match want.filter(|w| !w.is_empty()) {
            Some(w) => have == Some(w),
            None => true,
        };
        let found = record.valid_contacts(now).any(|c| {
            passes(filter.call_id, Some(&c.call_id))
                && passes(filter.received, c.received.as_deref())
                && passes(filter.contact, Some(&c.uri))
        });
        if found {
            1
        } else {
            -1
        }
    }

    /// unregister(domain, uri[, ruid]): 1 done; -1 bad AoR; -2 error (a
    /// ruid without a uri needs db_mode 3); -3 no such contact.
    pub fn unregister(&self, uri: &str, ruid: Option<&str>) -> i32 {
        let ruid = ruid.filter(|r| !r.is_empty());
        if uri.is_empty() {
            return if ruid.is_some() { -2 } else { -1 };
        }
        let Ok(aor) = extract_aor(uri, self.config, self.ul.use_domain) else {
            return -1;
        };
        match ruid {
            None => match self.table.delete_record(&aor) {
                Ok(_) => 1,
                Err(_) => -2,
            },
            Some(ruid) => match self.table.delete_contact(&aor, ruid) {
                Ok(true) => 1,
                Ok(false) => -3,
                Err(_) => -2,
            },
        }
    }
}
