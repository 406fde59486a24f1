//! One AoR's contacts, and how a REGISTER's contact finds its binding.

use super::config::MatchingMode;
use super::contact::{strip_angle_brackets, Contact};
use super::error::UsrlocError;
use super::store::{Change, LocationStore};

/// The contacts of one address of record.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Record {
    pub(crate) contacts: Vec<Contact>,
}

/// What a REGISTER says about one of its contacts, for matching.
#[derive(Debug, Clone, Copy)]
pub struct MatchKey<'a> {
    pub uri: &'a str,
    pub call_id: &'a str,
    pub cseq: u32,
    pub path: Option<&'a str>,
    /// `+sip.instance`; with it, matching is by instance and reg-id alone.
    pub instance: Option<&'a str>,
    pub reg_id: u32,
}

/// How a REGISTER's contact relates to the stored ones (Kamailio's
/// `get_ucontact_by_instance` results 0, 1, -1 and -2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The binding at this index.
    Found(usize),
    NotFound,
    /// Same Call-ID with a lower CSeq, or an equal one after `cseq_delay`:
    /// the REGISTER is out of order (400 Invalid CSeq number).
    OutOfOrder,
    /// Same Call-ID and CSeq within `cseq_delay` of the last change: a
    /// retransmission, answered without touching the binding.
    Retransmission,
}

impl Record {
    /// In table order: by q, highest first (equal q: older first), or
    /// newest first with `desc_time_order`.
    pub fn contacts(&self) -> &[Contact] {
        &self.contacts
    }

    pub fn is_empty(&self) -> bool {
        self.contacts.is_empty()
    }

    /// Contacts not expired at `now`, in table order.
    pub fn valid_contacts(&self, now: u64) -> impl Iterator<Item = &Contact> + '_ {
        self.contacts.iter().filter(move |c| c.is_valid(now))
    }

    pub fn find_ruid(&self, ruid: &str) -> Option<usize> {
        self.contacts.iter().position(|c| &*c.ruid == ruid)
    }

    /// Finds the binding a REGISTER's contact refers to. With an instance,
    /// by instance and reg-id (RFC 5626 §6), without CSeq checks, as
    /// Kamailio does; otherwise by `mode`, then the Call-ID/CSeq rule of
    /// RFC 3261 §10.3 step 7.
    pub fn find(&self, key: &MatchKey<'_>, mode: MatchingMode, cseq_delay: u32, now: u64) -> Match {
        if let Some(instance) = key.instance.filter(|i| !i.is_empty()) {
            let wanted = strip_angle_brackets(instance);
            return self
                .contacts
                .iter()
                .position(|c| c.reg_id == key.reg_id && c.instance_key() == Some(wanted))
                .map_or(Match::NotFound, Match::Found);
        }
        let same_uri = |c: &Contact| &*c.uri == key.uri;
        let same_call_id = |c: &Contact| &*c.call_id == key.call_id;
        let found = match mode {
            MatchingMode::ContactOnly => self.contacts.iter().position(same_uri),
            MatchingMode::ContactCallId => self
                .contacts
                .iter()
                .position(|c| same_uri(c) && same_call_id(c)),
            MatchingMode::ContactPath => match key.path {
                None => self.contacts.iter().position(same_uri),
                Some(path) => self
                    .contacts
                    .iter()
                    .position(|c| same_uri(c) && c.path.as_deref().unwrap_or("") == path),
            },
            MatchingMode::CallIdOnly => self.contacts.iter().position(same_call_id),
        };
        let Some(index) = found else {
            return Match::NotFound;
        };
        let stored = &self.contacts[index];
        if mode == MatchingMode::ContactCallId || same_call_id(stored) {
            if key.cseq < stored.cseq {
                return Match::OutOfOrder;
            }
            if key.cseq == stored.cseq {
                return if stored.last_modified + u64::from(cseq_delay) > now {
                    Match::Retransmission
                } else {
                    Match::OutOfOrder
                };
            }
        }
        Match::Found(index)
    }

    /// Where a contact of q `q` goes: after every contact with q >= it.
    fn position_for(&self, q: i16, desc_time_order: bool) -> usize {
        if desc_time_order {
            return 0;
        }
        self.contacts
            .iter()
            .position(|c| c.q < q)
            .unwrap_or(self.contacts.len())
    }
}

/// A record under its shard's lock: every change goes through here so the
/// store behind the table sees it.
pub struct RecordMut<'a> {
    pub(crate) table: &'a str,
    pub(crate) aor: &'a str,
    pub(crate) record: &'a mut Record,
    pub(crate) store: &'a dyn LocationStore,
    pub(crate) desc_time_order: bool,
}

impl RecordMut<'_> {
    pub fn aor(&self) -> &str {
        self.aor
    }

    pub fn record(&self) -> &Record {
        self.record
    }

    pub fn contacts(&self) -> &[Contact] {
        &self.record.contacts
    }

    /// Adds a binding in table order; returns its index.
    pub fn insert(&mut self, contact: Contact) -> Result<usize, UsrlocError> {
        self.store.apply(
            self.table,
            Change::Insert {
                aor: self.aor,
                contact: &contact,
            },
        )?;
        let at = self.record.position_for(contact.q, self.desc_time_order);
        // Most AoRs have one contact: do not let Vec round the first
        // allocation up to four.
        if self.record.contacts.capacity() == 0 {
            self.record.contacts.reserve_exact(1);
        }
        self.record.contacts.insert(at, contact);
        Ok(at)
    }

    /// Replaces the binding at `index` with `contact`, keeping its ruid,
    /// and moves it if its q (or, newest-first, its age) says so.
    pub fn update(&mut self, index: usize, mut contact: Contact) -> Result<usize, UsrlocError> {
        let Some(old) = self.record.contacts.get(index) else {
            return Ok(index);
        };
        contact.ruid = old.ruid.clone();
        self.store.apply(
            self.table,
            Change::Update {
                aor: self.aor,
                contact: &contact,
            },
        )?;
        let contacts = &mut self.record.contacts;
        let in_place = if self.desc_time_order {
            index == 0
        } else {
            let prev_ok = index == 0 || contacts[index - 1].q >= contact.q;
            let next_ok = match contacts.get(index + 1) {
                Some(next) => next.q <= contact.q,
                None => true,
            };
            prev_ok && next_ok
        };
        if in_place {
            contacts[index] = contact;
            return Ok(index);
        }
        contacts.remove(index);
        let at = self.record.position_for(contact.q, self.desc_time_order);
        self.record.contacts.insert(at, contact);
        Ok(at)
    }

    pub fn remove(&mut self, index: usize) -> Result<Option<Contact>, UsrlocError> {
        let Some(contact) = self.record.contacts.get(index) else {
            return Ok(None);
        };
        self.store.apply(
            self.table,
            Change::Delete {
                aor: self.aor,
                contact,
            },
        )?;
        Ok(Some(self.record.contacts.remove(index)))
    }

    /// Removes every binding but the one at `keep`; returns `keep`'s new
    /// index (0).
    pub fn keep_only(&mut self, keep: usize) -> Result<usize, UsrlocError> {
        let mut index = self.record.contacts.len();
        while index > 0 {
            index -= 1;
            if index != keep {
                self.remove(index)?;
            }
        }
        Ok(0)
    }

    /// Removes every binding.
    pub fn clear(&mut self) -> Result<(), UsrlocError> {
        while !self.record.contacts.is_empty() {
            self.remove(self.record.contacts.len() - 1)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn contact(uri: &str, q: i16, call_id: &str, cseq: u32) -> Contact {
        Contact {
            uri: uri.into(),
            received: None,
            path: None,
            q,
            expires: 1000,
            call_id: call_id.into(),
            cseq,
            user_agent: "ua".into(),
            flags: 0,
            cflags: 0,
            socket: None,
            instance: None,
            reg_id: 0,
            ruid: format!("r-{uri}").into(),
            methods: u32::MAX,
            last_modified: 100,
        }
    }

    fn key<'a>(uri: &'a str, call_id: &'a str, cseq: u32) -> MatchKey<'a> {
        MatchKey {
            uri,
            call_id,
            cseq,
            path: None,
            instance: None,
            reg_id: 0,
        }
    }

    fn record(contacts: Vec<Contact>) -> Record {
        Record { contacts }
    }

    #[test]
    fn call_id_and_cseq_decide_over_a_uri_match() {
        let r = record(vec![contact("sip:a@1", -1, "c1", 5)]);
        let m = |k: MatchKey<'_>, now| r.find(&k, MatchingMode::ContactOnly, 20, now);
        assert_eq!(m(key("sip:a@1", "c1", 6), 100), Match::Found(0));
        assert_eq!(m(key("sip:a@1", "c1", 4), 100), Match::OutOfOrder);
        assert_eq!(m(key("sip:a@1", "c1", 5), 119), Match::Retransmission);
        assert_eq!(m(key("sip:a@1", "c1", 5), 120), Match::OutOfOrder);
        // Another Call-ID: a new registration of the same contact, any CSeq.
        assert_eq!(m(key("sip:a@1", "c2", 1), 100), Match::Found(0));
        assert_eq!(m(key("sip:a@2", "c1", 9), 100), Match::NotFound);
    }

    #[test]
    fn matching_modes() {
        let mut with_path = contact("sip:a@1", -1, "c1", 5);
        with_path.path = Some("<sip:p;lr>".into());
        let r = record(vec![with_path]);
        let k = key("sip:a@1", "c2", 1);
        assert_eq!(
            r.find(&k, MatchingMode::ContactCallId, 20, 100),
            Match::NotFound
        );
        assert_eq!(
            r.find(&k, MatchingMode::ContactOnly, 20, 100),
            Match::Found(0)
        );
        let mut k2 = k;
        k2.path = Some("<sip:other;lr>");
        assert_eq!(
            r.find(&k2, MatchingMode::ContactPath, 20, 100),
            Match::NotFound
        );
        k2.path = Some("<sip:p;lr>");
        assert_eq!(
            r.find(&k2, MatchingMode::ContactPath, 20, 100),
            Match::Found(0)
        );
        let k3 = key("sip:zzz@9", "c1", 6);
        assert_eq!(
            r.find(&k3, MatchingMode::CallIdOnly, 20, 100),
            Match::Found(0)
        );
    }

    #[test]
    fn instance_and_reg_id_match_whatever_the_uri() {
        let mut c = contact("sip:a@1", -1, "c1", 5);
        c.instance = Some("<urn:uuid:x>".into());
        c.reg_id = 1;
        let r = record(vec![c]);
        let mut k = key("sip:a@2", "c9", 1);
        k.instance = Some("urn:uuid:x");
        k.reg_id = 1;
        assert_eq!(
            r.find(&k, MatchingMode::ContactOnly, 20, 100),
            Match::Found(0)
        );
        k.reg_id = 2;
        assert_eq!(
            r.find(&k, MatchingMode::ContactOnly, 20, 100),
            Match::NotFound
        );
    }
}
