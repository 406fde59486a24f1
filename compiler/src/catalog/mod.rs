//! The module catalog: every core parameter, core action and pseudo-variable,
//! and the functions and parameters of the modules of the reference, per era.
//! One source of truth for the checker, the translator and the runtime.
//!
//! # Data
//!
//! The facts live in tables that read like the reference, compiled in with
//! `include_str!` from `compiler/catalog/`:
//!
//! | file | one row per |
//! |---|---|
//! | `modules.tsv` | module name, with the releases it exists in |
//! | `functions.tsv` | function per module lineage (SER / OpenSER / merged code base) |
//! | `params.tsv` | module parameter |
//! | `core_params.tsv` | core parameter (with aliases, value kind, rename) |
//! | `core_actions.tsv` | core action (with aliases, arities, where it moved) |
//! | `pvs.tsv` | pseudo-variable per providing module (core, pv, tmx, …) |
//! | `renames.tsv` | renamed, moved or removed function, module, parameter, block |
//! | `implemented.txt` | entries the runtime implements |
//!
//! They were first extracted from `../shared/reference/` by
//! `scripts/extract-catalog.py` and then corrected by hand; they are the
//! source of truth now (`compiler/tests/catalog.rs` checks them against the
//! reference). Each file's header comment describes its columns.
//!
//! # Eras
//!
//! Facts are dated by the reference's sampled [`Release`]s and read as
//! [`EraSpan`]s on the lineage DAG (see [`release`] and [`span`] for the
//! order, the lineage and how a span crossing lineages is read). A grammar
//! [`Era`] stands for several releases ([`era_releases`]); era lookups take
//! the union over them, because a config of that era may be written for any.
//!
//! # Loading
//!
//! The tables are parsed once, on first use ([`catalog`]). A malformed row
//! panics with `file:line` and the reason; `cargo test` loads the catalog, so
//! a bad edit fails the tests rather than being skipped at run time.

pub mod arity;
pub mod entries;
pub mod kinds;
mod load;
pub mod release;
pub mod release_exports;
pub mod route;
pub mod span;
pub mod target;
mod tsv;

pub use arity::{Arity, AritySpans};
pub use entries::{
    CoreAction, CoreParam, Function, FunctionSource, ModParam, Module, PseudoVar, Rename,
    RenameKind,
};
pub use kinds::{ArgKind, ArgKinds, ArgSlot, CoreValueKind, ParamType, WriteAccess};
pub use release::{era_releases, release_era, Lineage, Release, Sampling, ALL_RELEASES};
pub use route::{RouteMask, RouteType};
pub use span::{Availability, EraSpan};

use sercompat_grammar::Era;
use std::collections::HashMap;
use std::fmt;
use std::sync::OnceLock;

/// All catalog entries, with indexes for the lookups.
pub struct Catalog {
    modules: Vec<Module>,
    functions: Vec<Function>,
    params: Vec<ModParam>,
    core_params: Vec<CoreParam>,
    core_actions: Vec<CoreAction>,
    pvs: Vec<PseudoVar>,
    renames: Vec<Rename>,
    by_function: HashMap<&'static str, Vec<usize>>,
    by_param: HashMap<(&'static str, &'static str), Vec<usize>>,
    by_core_param: HashMap<&'static str, usize>,
    by_pv: HashMap<&'static str, Vec<usize>>,
    by_rename: HashMap<&'static str, Vec<usize>>,
}

/// The catalog, parsed on first use.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(load::load)
}

/// The answer of [`Catalog::core_param`].
#[derive(Debug)]
pub enum CoreParamLookup {
    Present(&'static CoreParam),
    /// Known, but not in this era.
    Absent {
        param: &'static CoreParam,
        /// The name that was asked for (may be an alias).
        name: &'static str,
        era: Era,
        availability: Availability,
    },
    /// Never a core parameter.
    Unknown,
}

impl fmt::Display for CoreParamLookup {
    /// For an absent parameter: why, e.g. "`fifo` is not a core parameter in
    /// kamailio-5: removed: last seen in S0.9, O1.1, absent from S2.0, O1.2 on".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreParamLookup::Present(p) => write!(f, "`{}` is a core parameter", p.name),
            CoreParamLookup::Unknown => f.write_str("unknown core parameter"),
            CoreParamLookup::Absent {
                param,
                name,
                era,
                availability,
            } => {
                write!(
                    f,
                    "`{name}` is not a core parameter in {era}: {availability}"
                )?;
                if let Some((new, when)) = param.renamed_to {
                    write!(f, "; renamed to `{new}` in {when}")?;
                }
                Ok(())
            }
        }
    }
}

/// The key of a pseudo-variable reference: `$ru` → `ru`,
/// `$(avp(x)[0])` → `avp`, `$hdr(Via)` → `hdr`, `$ruri.user` → `ruri.user`.
pub fn pv_key(s: &str) -> &str {
    let s = s.strip_prefix('$').unwrap_or(s);
    let s = s.strip_prefix('(').unwrap_or(s);
    let end = s
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.' || (*c == '?' && *i == 0))
        })
        .map_or(s.len(), |(i, _)| i);
    &s[..end]
}

impl Catalog {
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }
    pub fn params(&self) -> &[ModParam] {
        &self.params
    }
    pub fn core_params(&self) -> &[CoreParam] {
        &self.core_params
    }
    pub fn core_actions(&self) -> &[CoreAction] {
        &self.core_actions
    }
    pub fn pvs(&self) -> &[PseudoVar] {
        &self.pvs
    }
    pub fn renames(&self) -> &[Rename] {
        &self.renames
    }

    /// The module of that name, whatever the era.
    pub fn module_named(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.name == name)
    }

    /// The module of that name if it exists in `era`.
    pub fn module(&self, name: &str, era: Era) -> Option<&Module> {
        self.module_named(name).filter(|m| m.exists_in(era))
    }

    /// Every function row of that name, whatever the era.
    pub fn functions_named(&self, name: &str) -> Vec<&Function> {
        self.by_function
            .get(name)
            .map(|v| v.iter().map(|i| &self.functions[*i]).collect())
            .unwrap_or_default()
    }

    /// All modules exporting `name` in `era` (one row per module lineage);
    /// [`Function::arities`] gives the accepted counts.
    pub fn function(&self, name: &str, era: Era) -> Vec<&Function> {
        let mut v = self.functions_named(name);
        v.retain(|f| f.exists_in(era));
        v
    }

    /// The functions of `module` in `era`.
    pub fn module_functions(&self, module: &str, era: Era) -> Vec<&Function> {
        self.functions
            .iter()
            .filter(|f| f.module == module && f.exists_in(era))
            .collect()
    }

    /// Every row of that module parameter, whatever the era.
    pub fn module_params_named(&self, module: &str, param: &str) -> Vec<&ModParam> {
        self.by_param
            .get(&(module, param))
            .map(|v| v.iter().map(|i| &self.params[*i]).collect())
            .unwrap_or_default()
    }

    /// The module parameter if it exists in `era`.
    pub fn module_param(&self, module: &str, param: &str, era: Era) -> Option<&ModParam> {
        self.module_params_named(module, param)
            .into_iter()
            .find(|p| p.exists_in(era))
    }

    /// The parameters of `module` in `era`.
    pub fn module_params(&self, module: &str, era: Era) -> Vec<&ModParam> {
        self.params
            .iter()
            .filter(|p| p.module == module && p.exists_in(era))
            .collect()
    }

    /// A core parameter by name or alias, with why it is absent from `era`
    /// when it is.
    pub fn core_param(&'static self, name: &str, era: Era) -> CoreParamLookup {
        let Some(&i) = self.by_core_param.get(name) else {
            return CoreParamLookup::Unknown;
        };
        let param = &self.core_params[i];
        if param.eras.in_era(era) {
            return CoreParamLookup::Present(param);
        }
        let name = param
            .names()
            .find(|n| *n == name)
            .expect("indexed by its names");
        CoreParamLookup::Absent {
            param,
            name,
            era,
            availability: param.eras.availability(era),
        }
    }

    /// A core action by name or alias, whatever the era.
    pub fn core_action_named(&self, name: &str) -> Option<&CoreAction> {
        self.core_actions
            .iter()
            .find(|a| a.names().any(|n| n == name))
    }

    /// A core action by name or alias if the core provides it in `era`.
    pub fn core_action(&self, name: &str, era: Era) -> Option<&CoreAction> {
        self.core_action_named(name).filter(|a| a.eras.in_era(era))
    }

    /// Every row of a pseudo-variable (any provider, any era). `name` may be
    /// written as in a config (`$ru`, `$hdr(Via)`, `$(avp(x)[0])`).
    pub fn pvs_named(&self, name: &str) -> Vec<&PseudoVar> {
        let key = pv_key(name);
        if let Some(v) = self.by_pv.get(key) {
            return v.iter().map(|i| &self.pvs[*i]).collect();
        }
        // families written with a trailing `*` (`$tls_peer_*`)
        self.pvs
            .iter()
            .filter(|p| {
                p.key
                    .strip_suffix('*')
                    .is_some_and(|prefix| key.starts_with(prefix))
            })
            .collect()
    }

    /// The providers of a pseudo-variable in `era` (usually one; an era
    /// spanning a change of provider has both).
    pub fn pv(&self, name: &str, era: Era) -> Vec<&PseudoVar> {
        let mut v = self.pvs_named(name);
        v.retain(|p| p.eras.in_era(era));
        v
    }

    /// What became of an old name (function, module, parameter, block).
    pub fn rename_of(&self, name: &str) -> Vec<&Rename> {
        self.by_rename
            .get(name)
            .map(|v| v.iter().map(|i| &self.renames[*i]).collect())
            .unwrap_or_default()
    }
}

/// [`Catalog::function`] on the catalog.
pub fn function(name: &str, era: Era) -> Vec<&'static Function> {
    catalog().function(name, era)
}

/// [`Catalog::module_functions`] on the catalog.
pub fn module_functions(module: &str, era: Era) -> Vec<&'static Function> {
    catalog().module_functions(module, era)
}

/// [`Catalog::module_param`] on the catalog.
pub fn module_param(module: &str, param: &str, era: Era) -> Option<&'static ModParam> {
    catalog().module_param(module, param, era)
}

/// [`Catalog::core_param`] on the catalog.
pub fn core_param(name: &str, era: Era) -> CoreParamLookup {
    catalog().core_param(name, era)
}

/// [`Catalog::core_action`] on the catalog.
pub fn core_action(name: &str, era: Era) -> Option<&'static CoreAction> {
    catalog().core_action(name, era)
}

/// [`Catalog::pv`] on the catalog.
pub fn pv(name: &str, era: Era) -> Vec<&'static PseudoVar> {
    catalog().pv(name, era)
}

/// [`Catalog::rename_of`] on the catalog.
pub fn rename_of(name: &str) -> Vec<&'static Rename> {
    catalog().rename_of(name)
}

/// [`Catalog::module`] on the catalog.
pub fn module(name: &str, era: Era) -> Option<&'static Module> {
    catalog().module(name, era)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads() {
        let c = catalog();
        assert!(!c.functions().is_empty());
    }

    #[test]
    fn pv_keys() {
        assert_eq!(pv_key("$ru"), "ru");
        assert_eq!(pv_key("ru"), "ru");
        assert_eq!(pv_key("$(avp(s:x)[0])"), "avp");
        assert_eq!(pv_key("$hdr(Via)"), "hdr");
        assert_eq!(pv_key("$ruri.user"), "ruri.user");
        assert_eq!(pv_key("$?"), "?");
        assert_eq!(pv_key("$T(id_index)"), "T");
    }
}
