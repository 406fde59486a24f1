//! sercompat's compiler: everything that reasons about a parsed config.
//! Today: the module catalog (`catalog`: every era's core parameters, core
//! actions, pseudo-variables, module functions and parameters), the route
//! table (the first part of the IR) and the lints that need only the syntax
//! tree; typed lowering and translation follow (issues 3 and 4).

pub mod catalog;
pub mod ir;
pub mod lints;
pub mod routes;
pub mod translate;
pub mod variants;
pub mod walk;

pub use lints::era::timer_in_seconds;

use sercompat_grammar::{Diagnostic, Parsed};

/// Runs the checks after parsing. A file with syntax errors is not linted:
/// what is missing from its tree would show up as false findings.
pub fn check(parsed: &Parsed) -> Vec<Diagnostic> {
    if parsed.has_errors() {
        return Vec::new();
    }
    let routes = routes::RouteTable::build(&parsed.config, parsed.era.era);
    let (program, mut found) = ir::lower_with(parsed, &routes);
    found.extend(lints::run(&lints::LintCtx {
        parsed,
        routes: &routes,
        program: &program,
    }));
    // As a reader meets them: by file, then position.
    found.sort_by_key(|d| d.primary_span().map(|s| (s.file.0, s.start)));
    found
}
