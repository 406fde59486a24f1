//! Lints: checks over the parsed config that find what Kamailio's own
//! `kamailio -c` does not. Each lint has a stable code, a name, a default
//! severity and a paragraph in `docs/lints.md`; one file per family.

mod args;
pub(crate) mod config;
pub(crate) mod era;
mod flags;
mod flow;
pub(crate) mod functions;
pub(crate) mod regex;
mod renames;
mod routes;
mod security;

use crate::routes::RouteTable;
use sercompat_grammar::{Diagnostic, Parsed, Severity};

/// A lint's identity. `code` and `name` never change once published.
#[derive(Clone, Copy, Debug)]
pub struct Lint {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what it finds.
    pub summary: &'static str,
}

impl Lint {
    /// A diagnostic of this lint at its default severity.
    pub fn diag(&self, message: impl Into<String>) -> Diagnostic {
        self.diag_at(self.severity, message)
    }

    /// A diagnostic of this lint at another severity (for findings whose
    /// weight depends on the era).
    pub fn diag_at(&self, severity: Severity, message: impl Into<String>) -> Diagnostic {
        let mut d = Diagnostic::error(self.code, message).note(format!(
            "lint `{}` ({}); see docs/lints.md",
            self.name, self.code
        ));
        d.severity = severity;
        d
    }
}

/// The code of the duplicate-route lint, which translation also reports.
pub const DUPLICATE_ROUTE_CODE: &str = routes::DUPLICATE_ROUTE.code;

/// The lints whose error-severity findings Kamailio itself refuses to start
/// on (while parsing the config or fixing up its calls); `sercompat run`
/// refuses them too, although its modules are built in and it could run
/// most of them. At warning severity (eras whose tables are sampled) they
/// do not stop a start.
pub const REFUSED_AT_START: &[&Lint] = &[
    &functions::UNKNOWN_FUNCTION,
    &functions::MODULE_NOT_LOADED,
    &functions::WRONG_ARITY,
    &config::UNKNOWN_CORE_PARAM,
    &config::MODPARAM_NOT_LOADED,
    &config::PV_MODULE_NOT_LOADED,
    &config::MODPARAM_UNKNOWN_PARAM,
    &config::MODPARAM_VALUE_TYPE,
    &config::PV_UNKNOWN,
];

/// Whether `d` is a finding Kamailio would not start with.
pub fn refused_at_start(d: &Diagnostic) -> bool {
    d.is_error() && REFUSED_AT_START.iter().any(|l| l.code == d.code)
}

/// Every lint, in code order (the docs test walks this list).
pub const ALL: &[&Lint] = &[
    &routes::UNDEFINED_ROUTE,
    &routes::DUPLICATE_ROUTE,
    &routes::UNUSED_ROUTE,
    &flow::UNREACHABLE,
    &regex::INVALID_REGEX,
    &functions::UNKNOWN_FUNCTION,
    &functions::MODULE_NOT_LOADED,
    &functions::WRONG_ARITY,
    &config::UNKNOWN_CORE_PARAM,
    &config::MODPARAM_NOT_LOADED,
    &config::MODULE_NOT_IN_ERA,
    &config::PV_MODULE_NOT_LOADED,
    &args::WRONG_ARGUMENT_KIND,
    &args::ROUTE_TYPE,
    &config::MODPARAM_UNKNOWN_PARAM,
    &config::MODPARAM_VALUE_TYPE,
    &config::PV_UNKNOWN,
    &flags::FLAG_OUT_OF_RANGE,
    &flags::UNDECLARED_FLAG,
    &era::STOP_MEANING,
    &era::TIMER_UNITS,
    &era::LOG_LEVELS,
    &era::AVP_TRUTH,
    &renames::RENAMED_SINCE,
    &security::OPEN_RELAY,
    &security::NO_MAX_FORWARDS,
    &security::UNAUTHENTICATED_REGISTER,
];

/// What every lint may look at: the parsed file, its route table and the
/// IR lowered from them.
pub struct LintCtx<'a> {
    pub parsed: &'a Parsed,
    pub routes: &'a RouteTable<'a>,
    pub program: &'a crate::ir::Program,
}

/// Runs every lint.
pub fn run(cx: &LintCtx) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    routes::check(cx, &mut out);
    flow::check(cx, &mut out);
    regex::check(cx, &mut out);
    functions::check(cx, &mut out);
    config::check(cx, &mut out);
    args::check(cx, &mut out);
    flags::check(cx, &mut out);
    era::check(cx, &mut out);
    renames::check(cx, &mut out);
    security::check(cx, &mut out);
    out
}
