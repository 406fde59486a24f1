//! State every worker sees, as Kamailio keeps it in shared memory: the
//! `cfgutils` global flags, random-event probability and named locks, and
//! the random source behind `rand_event()` (injected, so tests are
//! deterministic).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};

/// Where `rand_event()` gets its numbers.
pub trait RandomSource: Send + Sync {
    /// A number in `0..n` (`n > 0`).
    fn below(&self, n: u32) -> u32;
}

/// The default [`RandomSource`]: `fastrand`'s generator, seeded from the
/// system. Not for cryptography (neither is Kamailio's).
#[derive(Debug)]
pub struct SystemRandom {
    rng: Mutex<fastrand::Rng>,
}

impl Default for SystemRandom {
    fn default() -> Self {
        SystemRandom {
            rng: Mutex::new(fastrand::Rng::new()),
        }
    }
}

impl RandomSource for SystemRandom {
    fn below(&self, n: u32) -> u32 {
        let mut rng = self.rng.lock().unwrap_or_else(|e| e.into_inner());
        rng.u32(0..n.max(1))
    }
}

/// `cfgutils` state shared by all workers.
#[derive(Debug)]
pub struct Shared {
    /// `set_gflag`/`reset_gflag`/`is_gflag` (modparam `initial_gflags`).
    pub gflags: AtomicU32,
    /// `rand_event()` probability in percent.
    pub probability: AtomicU32,
    /// What `rand_reset_prob()` goes back to (modparam
    /// `initial_probability`, default 10).
    pub initial_probability: u32,
    pub locks: NamedLocks,
    runs: AtomicU64,
}

impl Default for Shared {
    fn default() -> Self {
        Shared::new(0, 10)
    }
}

impl Shared {
    pub fn new(initial_gflags: u32, initial_probability: u32) -> Self {
        Shared {
            gflags: AtomicU32::new(initial_gflags),
            probability: AtomicU32::new(initial_probability.min(100)),
            initial_probability: initial_probability.min(100),
            locks: NamedLocks::default(),
            runs: AtomicU64::new(1),
        }
    }

    /// A fresh identity for one script run (the owner of the locks it
    /// takes).
    pub(crate) fn next_run(&self) -> u64 {
        self.runs.fetch_add(1, Ordering::Relaxed)
    }
}

/// `lock(key)`/`trylock(key)`/`unlock(key)`: one lock per key (Kamailio
/// hashes keys onto a fixed lock array, where two keys may share a lock;
/// here they never do). Re-entrant for the run that holds it, as
/// Kamailio's recursive locks are.
#[derive(Debug, Default)]
pub struct NamedLocks {
    held: Mutex<HashMap<String, (u64, u32)>>,
    freed: Condvar,
}

impl NamedLocks {
    /// Takes `key` for run `owner`, waiting while another run holds it.
    pub(crate) fn lock(&self, key: &str, owner: u64) {
        let mut held = self.held.lock().expect("lock table");
        loop {
            match held.get_mut(key) {
                None => {
                    held.insert(key.to_string(), (owner, 1));
                    return;
                }
                Some((o, depth)) if *o == owner => {
                    *depth += 1;
                    return;
                }
                Some(_) => held = self.freed.wait(held).expect("lock table"),
            }
        }
    }

    /// Takes `key` if no other run holds it.
    pub(crate) fn try_lock(&self, key: &str, owner: u64) -> bool {
        let mut held = self.held.lock().expect("lock table");
        match held.get_mut(key) {
            None => {
                held.insert(key.to_string(), (owner, 1));
                true
            }
            Some((o, depth)) if *o == owner => {
                *depth += 1;
                true
            }
            Some(_) => false,
        }
    }

    /// Releases one level of `key`; false if `owner` does not hold it.
    pub(crate) fn unlock(&self, key: &str, owner: u64) -> bool {
        let mut held = self.held.lock().expect("lock table");
        match held.get_mut(key) {
            Some((o, depth)) if *o == owner => {
                *depth -= 1;
                if *depth == 0 {
                    held.remove(key);
                    self.freed.notify_all();
                }
                true
            }
            _ => false,
        }
    }

    /// Releases every key `owner` still holds; returns them.
    pub(crate) fn release_all(&self, owner: u64) -> Vec<String> {
        let mut held = self.held.lock().expect("lock table");
        let keys: Vec<String> = held
            .iter()
            .filter(|(_, (o, _))| *o == owner)
            .map(|(k, _)| k.clone())
            .collect();
        for k in &keys {
            held.remove(k);
        }
        if !keys.is_empty() {
            self.freed.notify_all();
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn locks_are_reentrant_exclusive_and_released() {
        let l = NamedLocks::default();
        l.lock("a", 1);
        assert!(l.try_lock("a", 1));
        assert!(!l.try_lock("a", 2));
        assert!(l.try_lock("b", 2));
        assert!(l.unlock("a", 1));
        assert!(!l.try_lock("a", 2));
        assert!(l.unlock("a", 1));
        assert!(l.try_lock("a", 2));
        assert!(!l.unlock("a", 1));
        let mut freed = l.release_all(2);
        freed.sort();
        assert_eq!(freed, ["a", "b"]);
        assert!(l.try_lock("a", 3));
    }

    #[test]
    fn a_waiting_lock_gets_the_key_when_released() {
        let l = Arc::new(NamedLocks::default());
        l.lock("k", 1);
        let l2 = Arc::clone(&l);
        let t = std::thread::spawn(move || {
            l2.lock("k", 2);
            l2.unlock("k", 2)
        });
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(l.unlock("k", 1));
        assert!(t.join().unwrap());
    }

    #[test]
    fn random_numbers_stay_below_the_bound() {
        let r = SystemRandom::default();
        assert!((0..1000).all(|_| r.below(100) < 100));
    }
}
