//! The engine's function tables indexed by `(module, name)`, built once:
//! a call looks its handler entry up by hash instead of scanning every
//! table and comparing names (the scan cost about 1,000 instructions per
//! call, a dozen calls per SIP call).

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::OnceLock;

/// A table entry: `(module, name, fewest arguments, most arguments)`.
pub(crate) type Entry = (&'static str, &'static str, usize, usize);

/// The entry of each `(module, name)`; the first table that has it wins,
/// as the scan it replaces returned the first match.
pub(crate) struct FuncIndex(HashMap<(&'static str, &'static str), Entry, BuildHasherDefault<Fnv>>);

impl FuncIndex {
    fn build<'a>(entries: impl Iterator<Item = &'a Entry>) -> Self {
        let mut map = HashMap::default();
        for e in entries {
            map.entry((e.0, e.1)).or_insert(*e);
        }
        FuncIndex(map)
    }

    pub(crate) fn get(&self, module: &str, name: &str) -> Option<Entry> {
        self.0.get(&(module, name)).copied()
    }
}

/// Core actions (module `core`): [`super::funcs::CORE`], then the actions
/// module's.
pub(crate) fn core() -> &'static FuncIndex {
    static INDEX: OnceLock<FuncIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let entries: Vec<Entry> = super::funcs::CORE
            .iter()
            .chain(super::actions::CORE)
            .map(|&(n, lo, hi)| ("core", n, lo, hi))
            .collect();
        FuncIndex::build(entries.iter())
    })
}

/// Module functions: every table of [`super::funcs::FUNCTION_TABLES`], in
/// order.
pub(crate) fn modules() -> &'static FuncIndex {
    static INDEX: OnceLock<FuncIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        FuncIndex::build(super::funcs::FUNCTION_TABLES.iter().flat_map(|t| t.iter()))
    })
}

/// FNV-1a: the keys are names from the config and our own tables, short
/// and not chosen by a peer, so a fast hash without DoS resistance fits.
pub(crate) type Fnv = fnv::FnvHasher;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_table_with_a_name_wins() {
        let first = ("m", "f", 0, 1);
        let later = ("m", "f", 2, 2);
        let index = FuncIndex::build([first, later, ("m", "g", 1, 1)].iter());
        assert_eq!(index.get("m", "f"), Some(first));
        assert_eq!(index.get("m", "g"), Some(("m", "g", 1, 1)));
        assert_eq!(index.get("n", "f"), None);
    }

    #[test]
    fn every_table_entry_is_found() {
        for t in super::super::funcs::FUNCTION_TABLES {
            for &(m, n, ..) in t.iter() {
                assert!(modules().get(m, n).is_some(), "{m}.{n}");
            }
        }
        for &(n, ..) in super::super::funcs::CORE {
            assert!(core().get("core", n).is_some(), "{n}");
        }
    }
}
