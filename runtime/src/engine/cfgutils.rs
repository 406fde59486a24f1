//! cfgutils (Kamailio 5.6) basics: random events, sleeping, global flags,
//! named locks, route lookups, `core_hash`, memory reports, `abort`.
//!
//! Global flags, the probability and the locks live in
//! [`super::Shared`], seen by every worker; the random numbers come from
//! the injected [`super::RandomSource`].
//!
//! Deliberate differences, all towards not hanging a server:
//! - locks exist without `lock_set_size` (Kamailio answers -1 until it is
//!   set), one per key (no two keys share a lock), re-entrant for the
//!   script run holding them (Kamailio's would deadlock), and released
//!   with an error line when the run ends (Kamailio's stay locked).
//! - `sleep`/`usleep` block the worker, as in Kamailio: with the single
//!   engine of `sercompat run` that stalls all message processing for the
//!   time given.

use super::exec::{Ctx, Halt};
use super::fargs::{self, ok, text};
use super::level;
use sercompat_compiler::ir::{Value, ValueKind};
use sercompat_compiler::routes::RouteClass;
use std::sync::atomic::Ordering;

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("cfgutils", "rand_event", 0, 0),
    ("cfgutils", "rand_set_prob", 1, 1),
    ("cfgutils", "rand_reset_prob", 0, 0),
    ("cfgutils", "rand_get_prob", 0, 0),
    ("cfgutils", "sleep", 1, 1),
    ("cfgutils", "usleep", 1, 1),
    ("cfgutils", "abort", 0, 0),
    ("cfgutils", "pkg_status", 0, 0),
    ("cfgutils", "pkg_summary", 0, 0),
    ("cfgutils", "shm_status", 0, 0),
    ("cfgutils", "shm_summary", 0, 0),
    ("cfgutils", "set_gflag", 1, 1),
    ("cfgutils", "reset_gflag", 1, 1),
    ("cfgutils", "is_gflag", 1, 1),
    ("cfgutils", "lock", 1, 1),
    ("cfgutils", "trylock", 1, 1),
    ("cfgutils", "unlock", 1, 1),
    ("cfgutils", "check_route_exists", 1, 1),
    ("cfgutils", "route_if_exists", 1, 1),
    ("cfgutils", "core_hash", 3, 3),
];

/// Static-integer parameters are fixed up at startup in Kamailio: a bad
/// one stops it.
pub(crate) fn check(name: &str, args: &[Value]) -> Result<(), String> {
    let constant_int = |v: &Value| -> Result<Option<u32>, String> {
        match fargs::constant(v) {
            Some(c) => c
                .trim()
                .parse::<u32>()
                .map(Some)
                .map_err(|_| format!("`{c}` is not a number")),
            None => Ok(None),
        }
    };
    match name {
        "rand_set_prob" => match constant_int(&args[0])? {
            Some(p) if p > 100 => Err(format!("probability {p} is not in 0..100")),
            Some(_) => Ok(()),
            None => Err("rand_set_prob takes a number, not a variable".into()),
        },
        "set_gflag" | "reset_gflag" | "is_gflag" => match constant_int(&args[0])? {
            Some(f) if f >= 32 => Err(format!("global flag {f} is not in 0..31")),
            Some(_) => Ok(()),
            None => Err(format!("{name} takes a flag number, not a variable")),
        },
        _ => Ok(()),
    }
}

pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    let shared = ctx.cfg.shared.clone();
    Ok(match name {
        "rand_event" => {
            let p = shared.probability.load(Ordering::Relaxed);
            match p {
                0 => -1,
                100.. => 1,
                p => ok(ctx.cfg.random.below(100) < p),
            }
        }
        "rand_set_prob" => {
            let p = static_int(ctx, &args[0])?;
            shared.probability.store(p.min(100), Ordering::Relaxed);
            1
        }
        "rand_reset_prob" => {
            shared
                .probability
                .store(shared.initial_probability, Ordering::Relaxed);
            1
        }
        // The probability is the return code (0 ends the script, as in
        // Kamailio).
        "rand_get_prob" => i64::from(shared.probability.load(Ordering::Relaxed)),
        "sleep" | "usleep" => {
            let n = ctx.eval(&args[0])?.as_int();
            let Ok(n) = u64::try_from(n) else {
                ctx.error(&format!("{name}: `{n}` is not a time to wait"));
                return Ok(-1);
            };
            let d = if name == "sleep" {
                std::time::Duration::from_secs(n)
            } else {
                std::time::Duration::from_micros(n)
            };
            std::thread::sleep(d);
            1
        }
        "abort" => {
            ctx.log(level::L_CRIT, "abort called\n");
            std::process::abort();
        }
        "pkg_status" | "pkg_summary" | "shm_status" | "shm_summary" => {
            ctx.log(level::L_INFO, &memory_report(name));
            1
        }
        "set_gflag" | "reset_gflag" | "is_gflag" => {
            let bit = 1u32 << static_int(ctx, &args[0])?.min(31);
            match name {
                "set_gflag" => {
                    shared.gflags.fetch_or(bit, Ordering::SeqCst);
                    1
                }
                "reset_gflag" => {
                    shared.gflags.fetch_and(!bit, Ordering::SeqCst);
                    1
                }
                _ => ok(shared.gflags.load(Ordering::SeqCst) & bit != 0),
            }
        }
        "lock" => {
            let key = text(ctx, &args[0])?;
            shared.locks.lock(&key, ctx.state.run);
            1
        }
        "trylock" => {
            let key = text(ctx, &args[0])?;
            ok(shared.locks.try_lock(&key, ctx.state.run))
        }
        "unlock" => {
            let key = text(ctx, &args[0])?;
            if shared.locks.unlock(&key, ctx.state.run) {
                1
            } else {
                ctx.error(&format!("unlock: `{key}` is not locked by this script run"));
                -1
            }
        }
        "check_route_exists" | "route_if_exists" => {
            let route = text(ctx, &args[0])?;
            let key = route.trim().trim_start_matches('0').to_string();
            let Some(&id) = ctx.prog.by_name.get(&(RouteClass::Request, key)) else {
                return Ok(-1);
            };
            if name == "check_route_exists" {
                return Ok(1);
            }
            // `exit` inside the route: Kamailio returns 0, which ends the
            // script; `drop` stops it as well.
            ctx.run_route(id)?
        }
        "core_hash" => {
            let s1 = text(ctx, &args[0])?;
            let s2 = text(ctx, &args[1])?;
            let bits = ctx.eval(&args[2])?.as_int();
            let size = if bits <= 0 { 2 } else { 1u32 << bits.min(31) };
            let s2 = (!s2.is_empty()).then_some(s2.as_bytes());
            i64::from(core_hash(s1.as_bytes(), s2, size)) + 1
        }
        _ => {
            ctx.error(&format!(
                "`cfgutils.{name}` has no handler; the script stops"
            ));
            return Err(Halt::Drop);
        }
    })
}

/// A parameter Kamailio fixes up to an integer at startup.
fn static_int(ctx: &mut Ctx, v: &Value) -> Result<u32, Halt> {
    let n = match &v.kind {
        ValueKind::Int(i) => *i,
        _ => fargs::literal(ctx, v)?.trim().parse::<i64>().unwrap_or(0),
    };
    Ok(u32::try_from(n).unwrap_or(0))
}

/// The SER/Kamailio core hash: 4 bytes at a time (as signed chars, as C
/// reads them), the remainder as one word, over one or two strings; then
/// folded and masked to `size` (a power of two).
pub(crate) fn core_hash(s1: &[u8], s2: Option<&[u8]>, size: u32) -> u32 {
    fn step(h: &mut u32, v: u32) {
        *h = h.wrapping_add(v ^ (v >> 3));
    }
    fn feed(h: &mut u32, s: &[u8]) {
        let c = |b: u8| b as i8 as i32 as u32;
        let mut chunks = s.chunks_exact(4);
        for w in &mut chunks {
            let v = (c(w[0]) << 24)
                .wrapping_add(c(w[1]) << 16)
                .wrapping_add(c(w[2]) << 8)
                .wrapping_add(c(w[3]));
            step(h, v);
        }
        let mut v: u32 = 0;
        for &b in chunks.remainder() {
            v = (v << 8).wrapping_add(c(b));
        }
        step(h, v);
    }
    let mut h = 0u32;
    feed(&mut h, s1);
    if let Some(s2) = s2 {
        feed(&mut h, s2);
    }
    let h = h
        .wrapping_add(h >> 11)
        .wrapping_add((h >> 13).wrapping_add(h >> 23));
    if size == 0 {
        h
    } else {
        h & (size - 1)
    }
}

/// What the memory reports can say: sercompat has no private/shared pools
/// of its own, so the process' resident size is reported for all four.
fn memory_report(name: &str) -> String {
    let rss_kb = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map(|pages| pages * 4);
    match rss_kb {
        Some(kb) => format!(
            "{name}: process resident memory {kb} kB (one system allocator; no separate pkg/shm pools)\n"
        ),
        None => format!("{name}: memory figures are not available on this system\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_hash_folds_and_masks() {
        // Worked by hand: "abcd" is one word 0x61626364.
        let v: u32 = 0x6162_6364;
        let h0 = v ^ (v >> 3);
        let h = h0; // then the empty remainder adds 0 ^ 0
        let folded = h
            .wrapping_add(h >> 11)
            .wrapping_add((h >> 13).wrapping_add(h >> 23));
        assert_eq!(core_hash(b"abcd", None, 0), folded);
        assert_eq!(core_hash(b"abcd", None, 16), folded & 15);
        assert_ne!(core_hash(b"abcd", Some(b"x"), 0), folded);
        assert!(core_hash(b"anything", None, 4) < 4);
    }
}
