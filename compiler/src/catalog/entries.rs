//! The typed catalog entries. Text fields borrow from the compiled-in TSVs.
//! Fields ending in `_ref` hold the reference's cell verbatim (for the
//! consistency test and for messages); the others are our typed reading.

use super::arity::{Arity, AritySpans};
use super::kinds::{ArgKinds, CoreValueKind, ParamType, WriteAccess};
use super::release::{Lineage, Release};
use super::route::RouteMask;
use super::span::EraSpan;
use sercompat_grammar::Era;

/// A module, by the name it is loaded with. The SER and the OpenSER/Kamailio
/// module of one name are different code bases: `lineages` says which code
/// base the catalog's functions of this module belong to, and when.
#[derive(Debug)]
pub struct Module {
    pub name: &'static str,
    /// Releases in which a module of this name exists (any lineage).
    pub eras: EraSpan,
    pub eras_ref: &'static str,
    pub note: &'static str,
    /// Per code base: the releases its functions cover (from functions.tsv).
    pub lineages: Vec<(Lineage, EraSpan)>,
    pub implemented: bool,
}

impl Module {
    pub fn exists_in(&self, era: Era) -> bool {
        self.eras.in_era(era)
    }

    /// A module the catalog adds beyond ../shared/reference/modules.md
    /// (its eras cell says so), because a config the runtime must run
    /// loads it.
    pub fn beyond_reference(&self) -> bool {
        self.eras_ref.contains("not in reference")
    }
}

/// Where a function row comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FunctionSource {
    /// A module table of modules.md §2.
    Table,
    /// The removed-functions table of modules.md §1 (SER 0.8 names).
    Removed,
}

/// A module function of one lineage.
#[derive(Debug)]
pub struct Function {
    pub module: &'static str,
    pub lineage: Lineage,
    pub name: &'static str,
    /// Accepted argument counts by era; the span is where the function exists.
    pub arity: AritySpans,
    /// The arity segments as the reference writes them.
    pub arity_ref: &'static str,
    pub routes: RouteMask,
    pub args: ArgKinds,
    pub args_ref: &'static str,
    /// Return codes and notes (reference text).
    pub returns: &'static str,
    pub source: FunctionSource,
    pub implemented: bool,
}

impl Function {
    /// The releases in which this function exists.
    pub fn eras(&self) -> EraSpan {
        self.arity.span()
    }

    pub fn exists_in(&self, era: Era) -> bool {
        self.eras().in_era(era)
    }

    /// The argument counts accepted in `era` (union over its releases).
    pub fn arities(&self, era: Era) -> Option<Arity> {
        self.arity.in_era(era)
    }

    pub fn arities_at(&self, r: Release) -> Option<Arity> {
        self.arity.at(r)
    }
}

/// A module parameter (`modparam("module", "name", value)`).
#[derive(Debug)]
pub struct ModParam {
    pub module: &'static str,
    pub name: &'static str,
    pub ty: ParamType,
    pub ty_ref: &'static str,
    pub default: &'static str,
    /// Releases in which the parameter exists: the row's span (or the
    /// module's lifetime when the reference gives none / "all"), intersected
    /// with the module's lifetime.
    pub eras: EraSpan,
    pub eras_ref: &'static str,
    /// The reference row's name cell (several names may share a row).
    pub reference: &'static str,
    pub notes: &'static str,
    pub implemented: bool,
}

impl ModParam {
    pub fn exists_in(&self, era: Era) -> bool {
        self.eras.in_era(era)
    }
}

/// A core parameter (`name = value` at top level).
#[derive(Debug)]
pub struct CoreParam {
    pub name: &'static str,
    pub aliases: Vec<&'static str>,
    pub kind: CoreValueKind,
    pub eras: EraSpan,
    pub eras_ref: &'static str,
    pub value_ref: &'static str,
    pub reference: &'static str,
    /// The new name and the release that renamed it (the old name is then
    /// rejected).
    pub renamed_to: Option<(&'static str, Release)>,
    pub note: &'static str,
    pub implemented: bool,
}

impl CoreParam {
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }
}

/// A core action (built-in function or keyword action).
#[derive(Debug)]
pub struct CoreAction {
    pub name: &'static str,
    pub aliases: Vec<&'static str>,
    /// Accepted argument counts while it is a core action.
    pub arity: AritySpans,
    pub args: ArgKinds,
    /// Releases in which the core provides it.
    pub eras: EraSpan,
    pub eras_ref: &'static str,
    /// The module that provides it afterwards, and from when.
    pub moved_to: Option<(&'static str, Release)>,
    pub reference: &'static str,
    /// config-language.md section (`5.1` …).
    pub section: &'static str,
    pub meaning: &'static str,
    pub implemented: bool,
}

impl CoreAction {
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    pub fn arities(&self, era: Era) -> Option<Arity> {
        self.arity.in_era(era)
    }
}

/// A pseudo-variable as provided by one module (or the core) in some
/// releases. The same PV has several rows when its provider changed
/// (`$ru`: core in O1.2–K1.5, `pv` module from K3.0).
#[derive(Debug)]
pub struct PseudoVar {
    /// The name after `$` without arguments (`ru`, `hdr`, `T_req`,
    /// `tls_peer_*` for a family).
    pub key: &'static str,
    /// How the reference writes it (`$hdr(name)`).
    pub form: &'static str,
    pub aliases: Vec<&'static str>,
    /// The provider: `core`, `pv`, `xlog`, `tmx`, `htable`, ….
    pub module: &'static str,
    pub write: WriteAccess,
    pub eras: EraSpan,
    pub eras_ref: &'static str,
    pub reference: &'static str,
    pub meaning: &'static str,
    pub implemented: bool,
}

impl PseudoVar {
    /// Whether an assignment to it is accepted in `era` (a PV whose write
    /// access the reference does not state counts as writable).
    pub fn writable_in(&self, era: Era) -> bool {
        match self.write {
            WriteAccess::No => false,
            WriteAccess::Yes | WriteAccess::Partly | WriteAccess::Unknown => true,
            WriteAccess::In(s) => s.intersect(self.eras).in_era(era),
        }
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        std::iter::once(self.key).chain(self.aliases.iter().copied())
    }
}

/// What kind of name a rename is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RenameKind {
    Function,
    Module,
    Param,
    CoreParam,
    CoreAction,
    RouteBlock,
    /// Not a rename but a usage that changed (`sl_send_reply` in failure
    /// routes → `t_reply`).
    Usage,
}

impl RenameKind {
    pub fn parse(s: &str) -> Result<RenameKind, String> {
        Ok(match s {
            "function" => RenameKind::Function,
            "module" => RenameKind::Module,
            "param" => RenameKind::Param,
            "core_param" => RenameKind::CoreParam,
            "core_action" => RenameKind::CoreAction,
            "route_block" => RenameKind::RouteBlock,
            "usage" => RenameKind::Usage,
            _ => return Err(format!("unknown rename kind `{s}`")),
        })
    }
}

/// A renamed, moved or removed function, module, parameter or block.
#[derive(Debug)]
pub struct Rename {
    pub kind: RenameKind,
    pub old: &'static str,
    /// The module of the old name (`core` for core items).
    pub old_module: Option<&'static str>,
    /// Where the old name exists.
    pub old_eras: Option<EraSpan>,
    /// The replacement (a name, or a short description; `none` if removed
    /// without replacement).
    pub new: &'static str,
    pub new_module: Option<&'static str>,
    /// The release from which the replacement applies.
    pub since: Option<Release>,
    /// Where the reference states it.
    pub source: &'static str,
    pub note: &'static str,
}
