//! Whether the runtime can execute a program: every call must be bound to
//! a catalog entry the runtime implements (`compiler/catalog/implemented.txt`).
//! `sercompat run` refuses to start otherwise, naming each call — a
//! function the runtime lacks must never be a silent no-op.

use super::visit::each_call;
use super::{Callee, Program};
use sercompat_grammar::{Diagnostic, Span};

/// The code of "the runtime does not implement this call".
pub const NOT_IMPLEMENTED: &str = "R0001";

/// One diagnostic per call site the runtime cannot execute.
pub fn unimplemented_calls(program: &Program) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for route in &program.routes {
        each_call(&route.body, &mut |c| {
            call(c.callee, c.name, c.span, &mut out)
        });
    }
    out.sort_by_key(|d| d.primary_span().map(|s| (s.file.0, s.start)));
    out.dedup_by(|a, b| a.primary_span() == b.primary_span() && a.message == b.message);
    out
}

fn call(callee: &Callee, name: &str, span: Span, out: &mut Vec<Diagnostic>) {
    let what = match callee {
        Callee::Core(a) if a.implemented => return,
        Callee::Module(f) if f.implemented => return,
        Callee::Core(_) => format!("core action `{name}`"),
        Callee::Module(f) => format!("`{name}` of module `{}`", f.module),
        Callee::Unresolved(_) => format!("`{name}`, which no loaded module of this era provides,"),
    };
    out.push(
        Diagnostic::error(
            NOT_IMPLEMENTED,
            format!("{what} is not implemented by the sercompat runtime yet"),
        )
        .primary(span, "the runtime cannot execute this call")
        .note("`sercompat run` refuses to start rather than skip it; `sercompat check --fix` translates the config for Kamailio 5.6 meanwhile"),
    );
}

/// The code of "this core parameter has no effect under `sercompat run`".
pub const SETTING_IGNORED: &str = "R0005";

/// The code of "this management interface is not served".
pub const INTERFACE_NOT_SERVED: &str = "R0006";

/// Modules that only give operators a control channel (kamctl, kamcmd,
/// sercmd) and change nothing in how SIP is routed. The runtime starts
/// without them, with a warning, rather than refuse nearly every
/// default config of 2006–2020.
pub const MANAGEMENT_INTERFACES: &[&str] =
    &["mi_fifo", "mi_rpc", "mi_datagram", "mi_xmlrpc", "ctl"];

/// What the runtime cannot honour among the config's settings:
/// - an error per `loadmodule` of a module the runtime does not implement
///   (its own behaviour — a FIFO, accounting, NAT pings — would silently be
///   missing);
/// - an error per `modparam` of a parameter the runtime does not implement
///   (the module would behave otherwise than the config says);
/// - a warning per management-interface module (no FIFO or control socket
///   is created; routing does not depend on it);
/// - a warning per core parameter the runtime does not read: most tune
///   Kamailio's own machinery (memory, DNS cache, TCP buffers), and refusing
///   them all would refuse nearly every real config.
pub fn unimplemented_settings(program: &Program) -> Vec<Diagnostic> {
    let cat = crate::catalog::catalog();
    let mut out = Vec::new();
    for (module, span) in &program.module_loads {
        if cat.module_named(module).is_some_and(|m| m.implemented) {
            continue;
        }
        if MANAGEMENT_INTERFACES.contains(&module.as_str()) {
            out.push(
                Diagnostic::warning(
                    INTERFACE_NOT_SERVED,
                    format!("module `{module}` is a management interface the sercompat runtime does not serve"),
                )
                .primary(*span, "loaded without its control channel")
                .note("kamctl, kamcmd and sercmd cannot reach this server; SIP routing is unaffected, and the module's parameters are not read"),
            );
            continue;
        }
        out.push(
            Diagnostic::error(
                NOT_IMPLEMENTED,
                format!("module `{module}` is not implemented by the sercompat runtime yet"),
            )
            .primary(*span, "the runtime cannot load this module")
            .note("`sercompat run` refuses to start rather than run without what the module does; `sercompat check --fix` translates the config for Kamailio 5.6 meanwhile"),
        );
    }
    for p in &program.module_params {
        if !cat.module_named(&p.module).is_some_and(|m| m.implemented) {
            continue; // the module itself is refused above
        }
        let implemented = cat
            .module_params_named(&p.module, &p.name)
            .iter()
            .any(|x| x.implemented);
        if implemented {
            continue;
        }
        out.push(
            Diagnostic::error(
                NOT_IMPLEMENTED,
                format!(
                    "parameter `{}` of module `{}` is not implemented by the sercompat runtime yet",
                    p.name, p.module
                ),
            )
            .primary(p.span, "the runtime cannot apply this parameter")
            .note("remove the `modparam` if its default is what you want; `sercompat run` refuses to start rather than ignore it"),
        );
    }
    for s in &program.core_settings {
        let honoured = cat
            .core_params()
            .iter()
            .any(|c| c.implemented && c.names().any(|n| n == s.name));
        if honoured {
            continue;
        }
        out.push(
            Diagnostic::warning(
                SETTING_IGNORED,
                format!(
                    "core parameter `{}` has no effect under `sercompat run`",
                    s.name
                ),
            )
            .primary(s.span, "not read by the sercompat runtime"),
        );
    }
    out
}
