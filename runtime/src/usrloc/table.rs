//! The sharded table: AoR → record, one lock per shard.

use super::config::{DbMode, UsrlocConfig};
use super::contact::Contact;
use super::error::UsrlocError;
use super::record::{Record, RecordMut};
use super::store::{Change, LocationStore, MemoryOnly};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

type Shard = HashMap<Box<str>, Record>;

/// Every location table of a server, by name (`save("location")`).
pub struct Usrloc {
    config: UsrlocConfig,
    store: Arc<dyn LocationStore>,
    tables: RwLock<HashMap<String, Arc<Location>>>,
    ruids: Arc<AtomicU64>,
}

impl Usrloc {
    /// Memory only. Any other db_mode is refused: there is no database.
    pub fn new(config: UsrlocConfig) -> Result<Self, UsrlocError> {
        Self::with_store(config, Arc::new(MemoryOnly))
    }

    /// With a store behind every table; its mode must be the configured
    /// one. DB-only (3) is refused whatever the store: it needs a table
    /// without a memory cache, which does not exist yet.
    pub fn with_store(
        config: UsrlocConfig,
        store: Arc<dyn LocationStore>,
    ) -> Result<Self, UsrlocError> {
        config.check()?;
        if config.db_mode == DbMode::DbOnly || store.mode() != config.db_mode {
            return Err(UsrlocError::DbModeNeedsDatabase(config.db_mode));
        }
        Ok(Usrloc {
            config,
            store,
            tables: RwLock::new(HashMap::new()),
            ruids: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn config(&self) -> &UsrlocConfig {
        &self.config
    }

    /// The table called `name`, made (and loaded from the store) on first
    /// use, as Kamailio registers a domain when a function names it.
    pub fn table(&self, name: &str) -> Result<Arc<Location>, UsrlocError> {
        if let Some(t) = read(&self.tables).get(name) {
            return Ok(t.clone());
        }
        let mut tables = self.tables.write().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = tables.get(name) {
            return Ok(t.clone());
        }
        let table = Arc::new(Location::new(
            name,
            self.config.clone(),
            self.store.clone(),
            self.ruids.clone(),
        )?);
        tables.insert(name.to_owned(), table.clone());
        Ok(table)
    }

    /// Names of the tables made so far.
    pub fn table_names(&self) -> Vec<String> {
        read(&self.tables).keys().cloned().collect()
    }

    /// The expiry sweep over every table (the usrloc timer); returns what
    /// expired, for `event_route[usrloc:contact-expired]`.
    pub fn expire(&self, now: u64) -> Result<Vec<ExpiredContact>, UsrlocError> {
        let tables: Vec<Arc<Location>> = read(&self.tables).values().cloned().collect();
        let mut out = Vec::new();
        for t in tables {
            out.extend(t.expire(now)?);
        }
        Ok(out)
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

/// A contact the sweep removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpiredContact {
    pub table: String,
    pub aor: String,
    pub contact: Contact,
}

/// One location table.
pub struct Location {
    name: Box<str>,
    config: UsrlocConfig,
    store: Arc<dyn LocationStore>,
    shards: Box<[Mutex<Shard>]>,
    ruids: Arc<AtomicU64>,
}

impl Location {
    fn new(
        name: &str,
        config: UsrlocConfig,
        store: Arc<dyn LocationStore>,
        ruids: Arc<AtomicU64>,
    ) -> Result<Self, UsrlocError> {
        let shards = (0..1usize << config.hash_size)
            .map(|_| Mutex::new(Shard::new()))
            .collect();
        let table = Location {
            name: name.into(),
            config,
            store,
            shards,
            ruids,
        };
        for (aor, contact) in table.store.load_all(name)? {
            let mut shard = table.shard(&aor);
            let record = shard.entry(aor.into()).or_default();
            let at = record
                .contacts
                .iter()
                .position(|c| c.q < contact.q)
                .unwrap_or(record.contacts.len());
            record.contacts.insert(at, contact);
        }
        Ok(table)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn config(&self) -> &UsrlocConfig {
        &self.config
    }

    /// The AoR's hash (Kamailio's aorhash): picks the shard and is part
    /// of a temporary GRUU, so it must not change while the server runs.
    /// FNV-1a; the maps inside the shards keep std's keyed hashing.
    pub fn aor_hash(aor: &str) -> u32 {
        aor.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        })
    }

    fn shard_by_hash(&self, hash: u32) -> MutexGuard<'_, Shard> {
        let index = (hash as usize) & (self.shards.len() - 1);
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The contact with `ruid` among the AoRs of hash `hash`, and its AoR
    /// (Kamailio's get_urecord_by_ruid, for temporary GRUUs).
    pub fn find_by_ruid(&self, hash: u32, ruid: &str) -> Option<(String, Contact)> {
        let shard = self.shard_by_hash(hash);
        shard
            .iter()
            .filter(|(aor, _)| Self::aor_hash(aor) == hash)
            .find_map(|(aor, record)| {
                record
                    .contacts
                    .iter()
                    .find(|c| &*c.ruid == ruid)
                    .map(|c| (aor.to_string(), c.clone()))
            })
    }

    fn shard(&self, aor: &str) -> MutexGuard<'_, Shard> {
        let index = (Self::aor_hash(aor) as usize) & (self.shards.len() - 1);
        self.shards[index].lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new record unique id: the configured prefix and a counter shared
    /// by every table of the server.
    pub fn next_ruid(&self) -> String {
        let n = self.ruids.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{n:x}", self.config.ruid_prefix)
    }

    /// Runs `f` on the record of `aor` under its shard lock: Kamailio's
    /// lock_udomain / get_urecord / release_urecord. The record is made
    /// empty when missing and dropped when left empty, so `f` sees one
    /// consistent view and nobody sees an empty record.
    pub fn with_record<R>(&self, aor: &str, f: impl FnOnce(&mut RecordMut<'_>) -> R) -> R {
        let mut shard = self.shard(aor);
        // The record stays in the map while `f` runs, so a panic in `f`
        // cannot lose the AoR's other bindings.
        if let Some(record) = shard.get_mut(aor) {
            let result = f(&mut self.view(aor, record));
            if record.is_empty() {
                shard.remove(aor);
            }
            return result;
        }
        let mut record = Record::default();
        let result = f(&mut self.view(aor, &mut record));
        if !record.is_empty() {
            shard.insert(aor.into(), record);
        }
        result
    }

    fn view<'a>(&'a self, aor: &'a str, record: &'a mut Record) -> RecordMut<'a> {
        RecordMut {
            table: &self.name,
            aor,
            record,
            store: &*self.store,
            desc_time_order: self.config.desc_time_order,
        }
    }

    /// A copy of the record of `aor`, when it has contacts.
    pub fn get(&self, aor: &str) -> Option<Record> {
        self.shard(aor).get(aor).cloned()
    }

    pub fn insert_contact(&self, aor: &str, contact: Contact) -> Result<(), UsrlocError> {
        self.with_record(aor, |r| r.insert(contact).map(drop))
    }

    /// Deletes the contact with `ruid` from `aor`; false when there is none.
    pub fn delete_contact(&self, aor: &str, ruid: &str) -> Result<bool, UsrlocError> {
        self.with_record(aor, |r| match r.record().find_ruid(ruid) {
            Some(i) => r.remove(i).map(|c| c.is_some()),
            None => Ok(false),
        })
    }

    /// Deletes every contact of `aor`; returns how many there were.
    pub fn delete_record(&self, aor: &str) -> Result<usize, UsrlocError> {
        self.with_record(aor, |r| {
            let n = r.contacts().len();
            r.clear().map(|()| n)
        })
    }

    /// Removes every contact expired at `now` (Kamailio's nodb_timer),
    /// then lets a write-back store flush.
    pub fn expire(&self, now: u64) -> Result<Vec<ExpiredContact>, UsrlocError> {
        let mut out = Vec::new();
        for shard in self.shards.iter() {
            let mut shard = shard.lock().unwrap_or_else(|e| e.into_inner());
            let mut first_error = None;
            shard.retain(|aor, record| {
                record.contacts.retain(|c| {
                    if c.is_valid(now) {
                        return true;
                    }
                    let change = Change::Expire { aor, contact: c };
                    if let Err(e) = self.store.apply(&self.name, change) {
                        first_error.get_or_insert(e);
                    }
                    out.push(ExpiredContact {
                        table: self.name.to_string(),
                        aor: aor.to_string(),
                        contact: c.clone(),
                    });
                    false
                });
                !record.is_empty()
            });
            if let Some(e) = first_error {
                return Err(e);
            }
        }
        self.store.flush(&self.name)?;
        Ok(out)
    }

    /// AoRs with at least one contact (expired ones not yet swept count).
    pub fn count_records(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    pub fn count_contacts(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                s.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .values()
                    .map(|r| r.contacts.len())
                    .sum::<usize>()
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(uri: &str, q: i16, expires: u64) -> Contact {
        Contact {
            uri: uri.into(),
            received: None,
            path: None,
            q,
            expires,
            call_id: "c".into(),
            cseq: 1,
            user_agent: "ua".into(),
            flags: 0,
            cflags: 0,
            socket: None,
            instance: None,
            reg_id: 0,
            ruid: uri.into(),
            methods: u32::MAX,
            last_modified: 0,
        }
    }

    fn table() -> Arc<Location> {
        Usrloc::new(UsrlocConfig::default())
            .unwrap()
            .table("location")
            .unwrap()
    }

    #[test]
    fn db_modes_other_than_memory_are_refused() {
        for n in 1..=4 {
            let config = UsrlocConfig {
                db_mode: DbMode::from_number(n).unwrap(),
                ..UsrlocConfig::default()
            };
            let err = Usrloc::new(config).err().unwrap();
            assert_eq!(
                err,
                UsrlocError::DbModeNeedsDatabase(DbMode::from_number(n).unwrap())
            );
            assert!(err.to_string().contains("needs a database"), "{err}");
        }
        let bad = UsrlocConfig {
            hash_size: 0,
            ..UsrlocConfig::default()
        };
        assert!(Usrloc::new(bad).is_err());
    }

    #[test]
    fn contacts_stay_in_q_order_and_records_vanish_when_empty() {
        let t = table();
        t.insert_contact("alice", contact("sip:a@1", 500, 100))
            .unwrap();
        t.insert_contact("alice", contact("sip:a@2", 1000, 100))
            .unwrap();
        t.insert_contact("alice", contact("sip:a@3", 500, 100))
            .unwrap();
        t.insert_contact("alice", contact("sip:a@4", -1, 100))
            .unwrap();
        let uris: Vec<_> = t
            .get("alice")
            .unwrap()
            .contacts()
            .iter()
            .map(|c| c.uri.to_string())
            .collect();
        assert_eq!(uris, ["sip:a@2", "sip:a@1", "sip:a@3", "sip:a@4"]);
        assert_eq!((t.count_records(), t.count_contacts()), (1, 4));
        // An update that raises q moves the contact up.
        t.with_record("alice", |r| {
            let mut c = r.contacts()[3].clone();
            c.q = 700;
            assert_eq!(r.update(3, c).unwrap(), 1);
        });
        assert_eq!(&*t.get("alice").unwrap().contacts()[1].uri, "sip:a@4");
        assert!(t.delete_contact("alice", "sip:a@2").unwrap());
        assert!(!t.delete_contact("alice", "sip:a@2").unwrap());
        assert_eq!(t.delete_record("alice").unwrap(), 3);
        assert!(t.get("alice").is_none());
        assert_eq!(t.count_records(), 0);
    }

    #[test]
    fn sweep_removes_what_expired_at_now() {
        let t = table();
        t.insert_contact("a", contact("sip:a@1", -1, 100)).unwrap();
        t.insert_contact("a", contact("sip:a@2", -1, 200)).unwrap();
        t.insert_contact("b", contact("sip:b@1", -1, 0)).unwrap();
        assert!(t.expire(99).unwrap().is_empty());
        let gone = t.expire(100).unwrap();
        assert_eq!(gone.len(), 1);
        assert_eq!(
            (gone[0].aor.as_str(), &*gone[0].contact.uri),
            ("a", "sip:a@1")
        );
        assert_eq!(t.expire(10_000).unwrap().len(), 1);
        // expires 0 is permanent.
        assert_eq!((t.count_records(), t.count_contacts()), (1, 1));
    }

    /// A write-through store that records changes and can be told to fail.
    struct Recorder {
        log: Mutex<Vec<String>>,
        fail: std::sync::atomic::AtomicBool,
    }

    impl LocationStore for Recorder {
        fn mode(&self) -> DbMode {
            DbMode::WriteThrough
        }
        fn load_all(&self, _: &str) -> Result<Vec<(String, Contact)>, UsrlocError> {
            Ok(vec![("loaded".to_owned(), contact("sip:l@1", -1, 0))])
        }
        fn load_record(&self, _: &str, _: &str) -> Result<Vec<Contact>, UsrlocError> {
            Ok(Vec::new())
        }
        fn apply(&self, table: &str, change: Change<'_>) -> Result<(), UsrlocError> {
            if self.fail.load(Ordering::Relaxed) {
                return Err(UsrlocError::Store("database down".into()));
            }
            let (op, aor, c) = match change {
                Change::Insert { aor, contact } => ("insert", aor, contact),
                Change::Update { aor, contact } => ("update", aor, contact),
                Change::Delete { aor, contact } => ("delete", aor, contact),
                Change::Expire { aor, contact } => ("expire", aor, contact),
            };
            self.log
                .lock()
                .unwrap()
                .push(format!("{table} {op} {aor} {}", c.uri));
            Ok(())
        }
        fn flush(&self, table: &str) -> Result<(), UsrlocError> {
            self.log.lock().unwrap().push(format!("{table} flush"));
            Ok(())
        }
    }

    #[test]
    fn a_store_sees_every_change_and_its_failure_fails_the_operation() {
        let recorder = Arc::new(Recorder {
            log: Mutex::new(Vec::new()),
            fail: std::sync::atomic::AtomicBool::new(false),
        });
        let config = UsrlocConfig {
            db_mode: DbMode::WriteThrough,
            ..UsrlocConfig::default()
        };
        // The store's mode must be the configured one.
        assert!(Usrloc::with_store(UsrlocConfig::default(), recorder.clone()).is_err());
        let ul = Usrloc::with_store(config, recorder.clone()).unwrap();
        let t = ul.table("location").unwrap();
        assert_eq!(t.count_contacts(), 1, "load_all fills the table");
        t.insert_contact("a", contact("sip:a@1", -1, 100)).unwrap();
        t.with_record("a", |r| {
            let c = r.contacts()[0].clone();
            r.update(0, c).unwrap();
        });
        t.expire(100).unwrap();
        recorder.fail.store(true, Ordering::Relaxed);
        let err = t
            .insert_contact("b", contact("sip:b@1", -1, 100))
            .unwrap_err();
        assert_eq!(err.to_string(), "usrloc storage failed: database down");
        assert!(
            t.get("b").is_none(),
            "nothing kept in memory when the store refused"
        );
        assert_eq!(
            *recorder.log.lock().unwrap(),
            [
                "location insert a sip:a@1",
                "location update a sip:a@1",
                "location expire a sip:a@1",
                "location flush",
            ]
        );
        let db_only = UsrlocConfig {
            db_mode: DbMode::DbOnly,
            ..UsrlocConfig::default()
        };
        assert!(Usrloc::with_store(db_only, recorder).is_err());
    }

    #[test]
    fn ruids_are_unique_across_tables() {
        let ul = Usrloc::new(UsrlocConfig::default()).unwrap();
        let a = ul.table("location").unwrap();
        let b = ul.table("other").unwrap();
        assert_eq!(a.next_ruid(), "uloc-1");
        assert_eq!(b.next_ruid(), "uloc-2");
        assert!(Arc::ptr_eq(&a, &ul.table("location").unwrap()));
    }
}
