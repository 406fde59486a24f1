//! save(): a REGISTER applied to the location table (RFC 3261 §10.3,
//! Kamailio's registrar save.c behaviour).

use super::aor::extract_aor;
use super::config::{PathMode, RegistrarConfig, SaveFlags};
use super::error::RegError;
use super::reply::{contact_list, GruuHost, RegistrarReply};
use super::request::{message_info, option_tags, read_contacts, MessageInfo};
use crate::sip::{unquote, HeaderName, NameAddr, SipMessage, Uri};
use crate::usrloc::{methods, Contact, Location, Match, MatchKey, RecordMut, UsrlocConfig};
use std::sync::Arc;

/// usrloc's FL_MEM: the contact lives in memory only.
const FL_MEM: u32 = 1;

/// What the caller knows about the REGISTER besides its bytes.
#[derive(Debug, Clone, Default)]
pub struct SaveContext<'a> {
    /// Unix seconds.
    pub now: u64,
    /// The local socket it arrived on, `proto:ip:port`.
    pub socket: Option<Arc<str>>,
    /// The value of the `received_avp` AVP, when the script set it
    /// (nathelper's fix_nated_register).
    pub received_avp: Option<&'a str>,
    /// The message's branch flags, stored as the contact's cflags.
    pub branch_flags: u32,
    /// `$xavp(<xavp_cfg>=>q|expires|max_contacts)`, when set.
    pub xavp_q: Option<i32>,
    pub xavp_expires: Option<u32>,
    pub xavp_max_contacts: Option<u32>,
}

/// What save() did and what to answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveOutcome {
    /// Kamailio's return code: 1 inserted, 2 updated, 3 deleted, 4 only
    /// listed; -1 error, -2 too many contacts.
    pub code: i32,
    /// The reply; None when save() gave up before it could build one (no
    /// AoR), as Kamailio then sends nothing either.
    pub reply: Option<RegistrarReply>,
    /// Whether save() itself sends `reply` (false with flag 0x02: the
    /// script may send it with reg_send_reply()). Kamailio sends only from
    /// request and failure routes; the caller knows which route it is in.
    pub send_reply: bool,
}

pub(crate) struct Saver<'a> {
    pub config: &'a RegistrarConfig,
    pub ul: &'a UsrlocConfig,
    pub table: &'a Location,
}

type Applied = Result<(i32, Option<String>), (RegError, Option<String>)>;

impl Saver<'_> {
    pub fn save(
        &self,
        msg: &SipMessage,
        flags: SaveFlags,
        uri: Option<&str>,
        ctx: &SaveContext<'_>,
    ) -> SaveOutcome {
        let aor_uri = match uri.filter(|u| !u.is_empty()) {
            Some(u) => u.to_owned(),
            None => match msg.to_header() {
                Ok(Some(to)) => to.uri().raw().to_string(),
                _ => return give_up(),
            },
        };
        let Ok(aor) = extract_aor(&aor_uri, self.config, self.ul.use_domain) else {
            return give_up();
        };
        let host = match Uri::parse(aor_uri.as_bytes()) {
            Ok(Uri::Sip(u)) => u.host().text().to_string_lossy().into_owned(),
            _ => String::new(),
        };
        let wants_gruu = self.config.gruu_enabled
            && option_tags(msg, &HeaderName::Supported)
                .iter()
                .any(|t| t == "gruu");
        let gruu = wants_gruu.then_some(GruuHost {
            aor: &aor,
            host: &host,
        });
        let mut reply = RegistrarReply::ok();
        let mut path_echo = None;
        let result = self.apply(msg, &aor, flags, ctx, gruu.as_ref(), &mut path_echo);
        let (code, contacts, error) = match result {
            Ok((code, contacts)) => (code, contacts, None),
            Err((error, contacts)) => {
                let code = if error == RegError::TooManyContacts {
                    -2
                } else {
                    -1
                };
                (code, contacts, Some(error))
            }
        };
        if let Some(list) = contacts {
            reply.headers.push(("Contact", list));
        }
        let mut error = error;
        if error.is_none() {
            if let Some(path) = path_echo {
                let supports_path = option_tags(msg, &HeaderName::Supported)
                    .iter()
                    .any(|t| t == "path");
                if supports_path {
                    reply.headers.push(("Path", path));
                } else if self.config.path_mode == PathMode::Strict {
                    // Kamailio has stored the contacts by now and still
                    // answers 420; the return code stays positive.
                    error = Some(RegError::PathUnsupported);
                    reply.headers.push(("Unsupported", "path".to_owned()));
                    reply.headers.push(("Path", path));
                }
            }
        }
        match error {
            Some(RegError::OutboundRequiredByUa) => {
                reply.headers.push(("Unsupported", "outbound".to_owned()));
            }
            Some(RegError::ExpiresTooBrief) => {
                reply
                    .headers
                    .push(("Min-Expires", self.config.min_expires.to_string()));
            }
            _ => {}
        }
        if let Some(e) = error {
            reply.set_error(e);
            reply
                .headers
                .push(("P-Registrar-Error", e.text().to_owned()));
            if (500..600).contains(&reply.status) && self.config.retry_after > 0 {
                reply
                    .headers
                    .push(("Retry-After", self.config.retry_after.to_string()));
            }
        }
        SaveOutcome {
            code,
            reply: Some(reply),
            send_reply: !flags.has(SaveFlags::NO_REPLY),
        }
    }

    fn apply(
        &self,
        msg: &SipMessage,
        aor: &str,
        flags: SaveFlags,
        ctx: &SaveContext<'_>,
        gruu: Option<&GruuHost<'_>>,
        path_echo: &mut Option<String>,
    ) -> Applied {
        let request = read_contacts(msg, self.config).map_err(|e| (e, None))?;
        let requires_outbound = option_tags(msg, &HeaderName::Require)
            .iter()
            .any(|t| t == "outbound");
        if requires_outbound {
            return Err((RegError::OutboundRequiredByUa, None));
        }
        let now = ctx.now;
        if request.star {
            return match self.table.delete_record(aor) {
                Ok(_) => Ok((3, None)),
                Err(_) => {
                    let left = self
                        .table
                        .get(aor)
                        .and_then(|r| contact_list(r.contacts(), now, self.config, gruu));
                    Err((RegError::StoreFailed("usrloc_record_delete failed"), left))
                }
            };
        }
        if request.contacts.is_empty() {
            let list = self
                .table
                .get(aor)
                .and_then(|r| contact_list(r.contacts(), now, self.config, gruu));
            return Ok((4, list));
        }
        let info = message_info(msg, self.config);
        if let Ok(i) = &info {
            if self.config.path_mode != PathMode::Off {
                path_echo.clone_from(&i.path);
            }
        }
        let job = Job {
            saver: self,
            contacts: &request.contacts,
            expires_header: request.expires_header,
            info,
            flags,
            ctx,
        };
        self.table.with_record(aor, |r| {
            let result = if r.contacts().is_empty() {
                job.insert_contacts(r)
            } else {
                job.update_contacts(r)
            };
            let list = contact_list(r.contacts(), now, self.config, gruu);
            match result {
                Ok(rc) => Ok((if rc == 0 { 1 } else { rc }, list)),
                Err(e) => Err((e, list)),
            }
        })
    }
}

fn give_up() -> SaveOutcome {
    SaveOutcome {
        code: -1,
        reply: None,
        send_reply: false,
    }
}

/// One REGISTER's contacts against one record.
struct Job<'a> {
    saver: &'a Saver<'a>,
    contacts: &'a [&'a NameAddr],
    expires_header: Option<u32>,
    info: Result<MessageInfo, RegError>,
    flags: SaveFlags,
    ctx: &'a SaveContext<'a>,
}

impl Job<'_> {
    fn config(&self) -> &RegistrarConfig {
        self.saver.config
    }

    fn max_contacts(&self) -> u32 {
        self.ctx
            .xavp_max_contacts
            .unwrap_or(self.config().max_contacts)
    }

    /// A new AoR: every contact with a non-zero expires is inserted; on
    /// any error the record is dropped again (Kamailio's insert_contacts).
    fn insert_contacts(&self, r: &mut RecordMut<'_>) -> Result<i32, RegError> {
        let result = self.insert_all(r);
        if result.is_err() {
            let _ = r.clear();
        }
        result
    }

    fn insert_all(&self, r: &mut RecordMut<'_>) -> Result<i32, RegError> {
        let max = self.max_contacts();
        let mut count = 0;
        for &address in self.contacts {
            let expires = self.expires(address)?;
            if expires == 0 {
                continue;
            }
            if max > 0 && count >= max {
                return Err(RegError::TooManyContacts);
            }
            count += 1;
            let info = self.info.as_ref().map_err(|e| *e)?;
            let contact = self.pack(info, address, expires)?;
            // Phones that list one contact twice: the second one updates
            // the first (Kamailio looks it up with CSeq + 1 for this).
            let mut key = key_of(&contact);
            key.cseq = key.cseq.saturating_add(1);
            match self.find(r, &key) {
                Match::Found(i) => r.update(i, contact).map(drop),
                _ => r.insert(contact).map(drop),
            }
            .map_err(|_| RegError::StoreFailed("usrloc_contact_insert failed"))?;
        }
        Ok(1)
    }

    /// An AoR with contacts: insert, refresh or remove each (Kamailio's
    /// update_contacts). Changes made before an error stay, as there.
    fn update_contacts(&self, r: &mut RecordMut<'_>) -> Result<i32, RegError> {
        let info = self.info.as_ref().map_err(|e| *e)?;
        let single = self.flags.has(SaveFlags::SINGLE_CONTACT);
        let max = self.max_contacts();
        if !single && max > 0 {
            self.check_max_contacts(r, info, max)?;
        }
        let mut rc = 0;
        for &address in self.contacts {
            let expires = self.expires(address)?;
            let contact = self.pack(info, address, expires)?;
            let mut updated = false;
            match self.find(r, &key_of(&contact)) {
                Match::OutOfOrder => return Err(RegError::InvalidCseq),
                Match::Retransmission => {
                    if expires != 0 && single {
                        break;
                    }
                    continue;
                }
                Match::NotFound => {
                    if expires == 0 {
                        continue;
                    }
                    let at = r
                        .insert(contact)
                        .map_err(|_| store("usrloc_contact_insert failed"))?;
                    rc = 1;
                    if single {
                        r.keep_only(at)
                            .map_err(|_| store("usrloc_contact_delete failed"))?;
                        updated = true;
                    }
                }
                Match::Found(at) if expires == 0 => {
                    r.remove(at)
                        .map_err(|_| store("usrloc_contact_delete failed"))?;
                    rc = 3;
                }
                Match::Found(mut at) => {
                    if single {
                        at = r
                            .keep_only(at)
                            .map_err(|_| store("usrloc_contact_delete failed"))?;
                        updated = true;
                    }
                    let stored = &r.contacts()[at];
                    // A new Call-ID for an instance: the phone restarted;
                    // its other bindings of that instance are stale.
                    if contact.instance.is_some() && stored.call_id != contact.call_id {
                        let ruid = stored.ruid.clone();
                        let instance = stored.instance.clone();
                        let mut i = r.contacts().len();
                        while i > 0 {
                            i -= 1;
                            let c = &r.contacts()[i];
                            if c.ruid != ruid && c.instance == instance {
                                r.remove(i)
                                    .map_err(|_| store("usrloc_contact_delete failed"))?;
                            }
                        }
                        at = r.record().find_ruid(&ruid).unwrap_or(0);
                        updated = true;
                    }
                    r.update(at, contact)
                        .map_err(|_| store("usrloc_contact_update failed"))?;
                    rc = 2;
                }
            }
            if updated {
                break;
            }
        }
        Ok(rc)
    }

    /// max_contacts against the record as it would be after this REGISTER
    /// (Kamailio's test_max_contacts).
    fn check_max_contacts(
        &self,
        r: &RecordMut<'_>,
        info: &MessageInfo,
        max: u32,
    ) -> Result<(), RegError> {
        let now = self.ctx.now;
        let mut count = r.record().valid_contacts(now).count() as i64;
        for &address in self.contacts {
            // Too brief counts as registering; the main loop answers 423.
            let expires = self.expires(address).unwrap_or(1);
            let instance = instance_of(address);
            let key = MatchKey {
                uri: &address.uri().raw().to_string_lossy(),
                call_id: &info.call_id,
                cseq: info.cseq,
                path: info.path.as_deref(),
                instance: instance.as_deref(),
                reg_id: reg_id_of(address).unwrap_or(0),
            };
            match self.find(r, &key) {
                Match::OutOfOrder => return Err(RegError::InvalidCseq),
                Match::Retransmission => {}
                Match::NotFound if expires != 0 => count += 1,
                Match::Found(_) if expires == 0 => count -= 1,
                _ => {}
            }
        }
        if count > i64::from(max) {
            return Err(RegError::TooManyContacts);
        }
        Ok(())
    }

    fn find(&self, r: &RecordMut<'_>, key: &MatchKey<'_>) -> Match {
        let ul = self.saver.ul;
        r.record()
            .find(key, ul.matching_mode, ul.cseq_delay, self.ctx.now)
    }

    /// Absolute expiry for one contact, 0 for "remove" (Kamailio's
    /// calc_contact_expires): the xavp override, else the contact's
    /// `expires`, else the Expires header, else default_expires; raised to
    /// min_expires (or 423) and lowered to max_expires.
    fn expires(&self, address: &NameAddr) -> Result<u64, RegError> {
        let config = self.config();
        let param = address.params().value("expires").filter(|v| !v.is_empty());
        let requested = match (self.ctx.xavp_expires, param) {
            (Some(x), _) => x,
            // A parameter that is not a number counts as absent, with
            // default_expires, as Kamailio's str2int failure does.
            (None, Some(_)) => address
                .expires()
                .ok()
                .flatten()
                .unwrap_or(config.default_expires),
            (None, None) => self.expires_header.unwrap_or(config.default_expires),
        };
        if requested == 0 {
            return Ok(0);
        }
        let mut e = requested;
        if e < config.min_expires {
            if config.min_expires_mode {
                return Err(RegError::ExpiresTooBrief);
            }
            e = config.min_expires;
        }
        if config.max_expires > 0 && e > config.max_expires {
            e = config.max_expires;
        }
        Ok(self.ctx.now + u64::from(e))
    }

    /// The binding to store for one contact (Kamailio's pack_ci).
    fn pack(
        &self,
        info: &MessageInfo,
        address: &NameAddr,
        expires: u64,
    ) -> Result<Contact, RegError> {
        let config = self.config();
        let q = match self.ctx.xavp_q {
            Some(q) if (0..=1000).contains(&q) => q as i16,
            Some(_) => return Err(RegError::InvalidQ),
            None => match address.q() {
                Ok(Some(q)) => q as i16,
                Ok(None) => config.default_q,
                Err(_) => return Err(RegError::InvalidQ),
            },
        };
        let methods = match address
            .params()
            .get("methods")
            .and_then(|p| p.unquoted_value())
        {
            Some(list) => methods::parse_list(&list),
            None => info.allow,
        };
        let mut cflags = self.ctx.branch_flags;
        let received = if let Some(r) = &info.path_received {
            cflags |= self.saver.ul.nat_flag_mask();
            Some(r.clone())
        } else if let Some(p) = address.params().get("received") {
            p.unquoted_value()
                .map(|v| String::from_utf8_lossy(&v).into_owned())
        } else {
            self.ctx
                .received_avp
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let instance = instance_of(address);
        let reg_id = if instance.is_some() {
            reg_id_of(address).map_err(|()| RegError::InvalidRegId)?
        } else {
            0
        };
        Ok(Contact {
            uri: address.uri().raw().to_string_lossy().into(),
            received: received.map(Into::into),
            path: info.path.as_deref().map(Into::into),
            q,
            expires,
            call_id: info.call_id.as_str().into(),
            cseq: info.cseq,
            user_agent: info.user_agent.as_str().into(),
            flags: if self.flags.has(SaveFlags::MEMORY_ONLY) {
                FL_MEM
            } else {
                0
            },
            cflags,
            socket: self.ctx.socket.clone(),
            instance: instance.map(Into::into),
            reg_id,
            ruid: self.saver.table.next_ruid().into(),
            methods,
            last_modified: self.ctx.now,
        })
    }
}

fn store(what: &'static str) -> RegError {
    RegError::StoreFailed(what)
}

fn key_of(c: &Contact) -> MatchKey<'_> {
    MatchKey {
        uri: &c.uri,
        call_id: &c.call_id,
        cseq: c.cseq,
        path: c.path.as_deref(),
        instance: c.instance.as_deref(),
        reg_id: c.reg_id,
    }
}

/// `+sip.instance`, unquoted; None when absent or empty.
fn instance_of(address: &NameAddr) -> Option<String> {
    let value = address.params().value("+sip.instance")?;
    let text = String::from_utf8_lossy(&unquote(value)).into_owned();
    (!text.is_empty()).then_some(text)
}

/// `reg-id`: 0 when absent; an error when not a positive number.
fn reg_id_of(address: &NameAddr) -> Result<u32, ()> {
    match address.params().value("reg-id").filter(|v| !v.is_empty()) {
        None => Ok(0),
        Some(v) => match v.to_str().and_then(|t| t.parse::<u32>().ok()) {
            Some(n) if n > 0 => Ok(n),
            _ => Err(()),
        },
    }
}
