//! `sercompat check --all-variants`: check a file under the combinations of
//! the `#!ifdef`/`#!ifndef` names it tests, and report each distinct
//! diagnostic once, with the define set that shows it.

use sercompat_grammar::{Diagnostic, Options, Parsed};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The code of the per-file note that says which variants were checked.
pub const VARIANTS_NOTE: &str = "N0002";

/// Up to this many free names, every combination is checked (2^6 = 64).
const EXHAUSTIVE_NAMES: usize = 6;

/// How many times the set of names is widened when variants reveal names
/// the first parse did not see (an `#!ifdef` in a file that only some
/// variants include).
const MAX_ROUNDS: usize = 4;

/// One checked variant: its parse and its lints.
pub struct Variant {
    /// The `-A` arguments this variant was read with.
    pub defines: Vec<String>,
    pub parsed: Parsed,
    pub lints: Vec<Diagnostic>,
}

/// The result of checking one file under all its variants.
pub struct Variants {
    /// Every variant, smallest define set first; `variants[0]` has only the
    /// names fixed with `-A`.
    pub variants: Vec<Variant>,
    /// Each distinct diagnostic once, with the index of the (first,
    /// smallest) variant that shows it: render it with that variant's
    /// source database.
    pub diags: Vec<(usize, Diagnostic)>,
    /// What was checked, about the whole file (no span).
    pub note: Diagnostic,
}

/// Names Kamailio defines itself (`KAMAILIO_5_6`, `OS_NAME`) or that
/// `loadmodule` defines (`MOD_tm`): not switches a user sets.
fn is_predefined(name: &str) -> bool {
    name.starts_with("MOD_") || name.starts_with("KAMAILIO_") || name == "OS_NAME"
}

/// Names a `#!define`, `#!trydef`, `#!redefine`, `#!defexp` or `#!defenv`
/// in one of the files read sets (in any branch): the config gives them
/// their value itself, so they are not switches for `-A` (defining one
/// would be an "already defined" error, or an empty value where the config
/// expects a number).
fn defined_by_config(p: &Parsed) -> BTreeSet<String> {
    use sercompat_grammar::preprocess::{parse_directive, Directive};
    let mut names = BTreeSet::new();
    for id in p.db.ids() {
        let file = p.db.file(id);
        if file.name.starts_with('<') && file.name.ends_with('>') {
            continue; // `-A` arguments, not the config
        }
        for line in file.text.lines() {
            let line = line.trim_start();
            if !(line.starts_with("#!") || line.starts_with("!!")) {
                continue;
            }
            let name = match parse_directive(line) {
                Ok(Directive::Define { name, .. } | Directive::DefExp { name, .. }) => name,
                Ok(Directive::DefEnv { id, .. }) => id,
                _ => continue,
            };
            names.insert(line[name].to_string());
        }
    }
    names
}

/// The name part of a `-A NAME[=VALUE]` argument.
fn define_name(arg: &str) -> &str {
    arg.split_once('=').map_or(arg, |(name, _)| name)
}

/// The define sets to check for `n` free names, as indices of the names
/// that are on, smallest set first: every combination up to
/// [`EXHAUSTIVE_NAMES`] names; beyond, all off, each name on alone, each
/// name off alone (all others on) and all on.
pub fn plan(n: usize) -> Vec<Vec<usize>> {
    let mut sets: Vec<Vec<usize>> = if n <= EXHAUSTIVE_NAMES {
        (0u32..1 << n)
            .map(|mask| (0..n).filter(|i| mask & (1 << i) != 0).collect())
            .collect()
    } else {
        let mut sets = vec![Vec::new(), (0..n).collect()];
        for i in 0..n {
            sets.push(vec![i]);
            sets.push((0..n).filter(|&j| j != i).collect());
        }
        sets
    };
    sets.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    sets.dedup();
    sets
}

/// `2^n` as text, exact while it fits.
fn combinations(n: usize) -> String {
    u32::try_from(n)
        .ok()
        .and_then(|n| 1u128.checked_shl(n))
        .map_or_else(|| format!("2^{n}"), |c| c.to_string())
}

/// Parses (and, when `lint`, lints) `path` with each define list, on up
/// to as many threads as the machine has cores.
fn run_all(
    path: &Path,
    opts: &Options,
    defines: &[Vec<String>],
    lint: bool,
) -> std::io::Result<Vec<Variant>> {
    let one = |defines: &Vec<String>| -> std::io::Result<Variant> {
        let opts = Options {
            defines: defines.clone(),
            ..opts.clone()
        };
        let parsed = sercompat_grammar::parse_file(path, &opts)?;
        let lints = if lint {
            crate::check(&parsed)
        } else {
            Vec::new()
        };
        Ok(Variant {
            defines: defines.clone(),
            parsed,
            lints,
        })
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(defines.len());
    if threads <= 1 {
        return defines.iter().map(one).collect();
    }
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, std::io::Result<Variant>)> = std::thread::scope(|s| {
        let work = || {
            let mut mine = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(d) = defines.get(i) else { break };
                mine.push((i, one(d)));
            }
            mine
        };
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                // The main thread's stack size: the parser's limits
                // (nesting depth) were measured with it.
                std::thread::Builder::new()
                    .stack_size(8 << 20)
                    .spawn_scoped(s, work)
                    .expect("spawning a checker thread")
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, v)| v).collect()
}

/// What makes two diagnostics of different variants the same: code,
/// message and primary span (file name and byte range; file ids differ
/// between variants that include different files).
type Key = (&'static str, String, Option<(String, u32, u32)>);

fn key(p: &Parsed, d: &Diagnostic) -> Key {
    (
        d.code,
        d.message.clone(),
        d.primary_span()
            .map(|s| (p.db.file(s.file).name.clone(), s.start, s.end)),
    )
}

/// Reading order across variants: the root file, then included files by
/// name, by position; diagnostics without a span last.
fn order(p: &Parsed, d: &Diagnostic) -> (u8, String, u32, u32) {
    match d.primary_span() {
        Some(s) => (
            u8::from(s.file != p.root),
            p.db.file(s.file).name.clone(),
            s.start,
            s.end,
        ),
        None => (2, String::new(), 0, 0),
    }
}

/// `-A A -A B`, or that there were none.
pub fn shown_with(defines: &[String]) -> String {
    if defines.is_empty() {
        "shown without -A".to_string()
    } else {
        let args: Vec<String> = defines.iter().map(|d| format!("-A {d}")).collect();
        format!("shown with {}", args.join(" "))
    }
}

/// Checks `path` under every variant (see the module docs). `opts.defines`
/// are the names fixed with `-A`: on in every variant.
pub fn check(path: &Path, opts: &Options, lint: bool) -> std::io::Result<Variants> {
    let fixed: HashSet<&str> = opts.defines.iter().map(|d| define_name(d)).collect();
    let base = sercompat_grammar::parse_file(path, opts)?;
    let mut tested: BTreeSet<String> = base.tokens.tested_names.clone();
    let mut own: BTreeSet<String> = defined_by_config(&base);
    drop(base);
    let switches = |tested: &BTreeSet<String>, own: &BTreeSet<String>| -> BTreeSet<String> {
        tested
            .iter()
            .filter(|n| !fixed.contains(n.as_str()) && !is_predefined(n) && !own.contains(*n))
            .cloned()
            .collect()
    };
    let mut rounds = 1;
    let (names, defines, variants, unsettled) = loop {
        let names = switches(&tested, &own);
        let list: Vec<String> = names.iter().cloned().collect();
        let defines: Vec<Vec<String>> = plan(list.len())
            .iter()
            .map(|set| {
                let mut d = opts.defines.clone();
                d.extend(set.iter().map(|&i| list[i].clone()));
                d
            })
            .collect();
        let variants = run_all(path, opts, &defines, lint)?;
        for v in &variants {
            tested.extend(v.parsed.tokens.tested_names.iter().cloned());
            own.extend(defined_by_config(&v.parsed));
        }
        let now = switches(&tested, &own);
        if now == names {
            break (list, defines, variants, BTreeSet::new());
        }
        if rounds >= MAX_ROUNDS {
            let new = now.difference(&names).cloned().collect();
            break (list, defines, variants, new);
        }
        rounds += 1;
    };
    let own_tested: Vec<&str> = own
        .iter()
        .filter(|n| tested.contains(*n) && !fixed.contains(n.as_str()) && !is_predefined(n))
        .map(String::as_str)
        .collect();

    // Each distinct diagnostic once, counting the variants that show it.
    struct Entry {
        variant: usize,
        diag: Diagnostic,
        count: usize,
    }
    let mut entries: Vec<Entry> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for (vi, v) in variants.iter().enumerate() {
        let mut here: HashSet<Key> = HashSet::new();
        for d in v.parsed.diagnostics.iter().chain(&v.lints) {
            let k = key(&v.parsed, d);
            if !here.insert(k.clone()) {
                continue;
            }
            match index.get(&k) {
                Some(&e) => entries[e].count += 1,
                None => {
                    index.insert(k, entries.len());
                    entries.push(Entry {
                        variant: vi,
                        diag: d.clone(),
                        count: 1,
                    });
                }
            }
        }
    }
    let total = variants.len();
    let mut diags: Vec<(usize, Diagnostic)> = entries
        .into_iter()
        .map(|mut e| {
            if total > 1 {
                e.diag.notes.push(shown_with(&defines[e.variant]));
                if e.count < total {
                    e.diag
                        .notes
                        .push(format!("in {} of {total} variants", e.count));
                }
            }
            (e.variant, e.diag)
        })
        .collect();
    diags.sort_by_cached_key(|(vi, d)| {
        let p = &variants[*vi].parsed;
        (order(p, d), d.code, d.message.clone())
    });

    let base = &variants[0].parsed;
    let file = &base.db.file(base.root).name;
    let mut message = match names.len() {
        0 => format!("{file}: checked 1 variant: no #!ifdef/#!ifndef name to vary"),
        n if n <= EXHAUSTIVE_NAMES => format!(
            "{file}: checked {total} variants, every combination of {n} name{}: {}",
            if n == 1 { "" } else { "s" },
            names.join(", ")
        ),
        n => format!(
            "{file}: checked {total} of {} variants (all off, each name on alone, each name off alone, all on) of {n} names: {}",
            combinations(n),
            names.join(", ")
        ),
    };
    if !opts.defines.is_empty() {
        message.push_str(&format!("; fixed with -A: {}", opts.defines.join(", ")));
    }
    if !own_tested.is_empty() {
        message.push_str(&format!(
            "; not varied, as the config defines them itself: {}",
            own_tested.join(", ")
        ));
    }
    if !unsettled.is_empty() {
        let more: Vec<&str> = unsettled.iter().map(String::as_str).collect();
        message.push_str(&format!(
            "; after {MAX_ROUNDS} rounds these names were still being found and were not varied: {}",
            more.join(", ")
        ));
    }
    Ok(Variants {
        variants,
        diags,
        note: Diagnostic::note_diag(VARIANTS_NOTE, message),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_combination_up_to_six_names() {
        assert_eq!(plan(0), vec![Vec::<usize>::new()]);
        assert_eq!(plan(2), vec![vec![], vec![0], vec![1], vec![0, 1]]);
        let six = plan(6);
        assert_eq!(six.len(), 64);
        assert_eq!(six[0], Vec::<usize>::new());
        assert_eq!(six[63], (0..6).collect::<Vec<_>>());
    }

    #[test]
    fn reduced_set_beyond_six_names() {
        let seven = plan(7);
        assert_eq!(seven.len(), 2 * 7 + 2);
        assert_eq!(seven[0], Vec::<usize>::new());
        assert_eq!(seven[1], vec![0]);
        assert_eq!(seven[8], vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(seven[14], vec![1, 2, 3, 4, 5, 6]);
        assert_eq!(seven[15], (0..7).collect::<Vec<_>>());
        assert_eq!(plan(10).len(), 22);
    }

    #[test]
    fn predefined_names_are_not_switches() {
        assert!(is_predefined("MOD_tm"));
        assert!(is_predefined("KAMAILIO_5_6"));
        assert!(is_predefined("OS_NAME"));
        assert!(!is_predefined("WITH_NAT"));
        assert_eq!(define_name("DBURL=\"x\""), "DBURL");
        assert_eq!(define_name("WITH_NAT"), "WITH_NAT");
    }

    #[test]
    fn combination_counts() {
        assert_eq!(combinations(10), "1024");
        assert_eq!(combinations(200), "2^200");
    }
}
