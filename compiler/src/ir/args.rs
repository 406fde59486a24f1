//! Arguments typed by what the bound function reads them as (the catalog's
//! argument kinds), pre-parsed once as a module's fixup does at start: a
//! regular expression compiled, a route name resolved to its block, a flag
//! name resolved to its bit, a quoted number read as one. An argument that
//! is not a constant, or whose kind the catalog does not state, is left as
//! lowered.

use super::pv::{parse_format, FormatPart};
use super::*;
use crate::catalog::{ArgKind, ArgSlot};
use crate::routes::RouteTable;
use sercompat_grammar::ast::{self, ExprKind};

/// What typing needs from the lowering.
pub(super) struct Typing<'a> {
    pub table: &'a RouteTable<'a>,
    pub flags: &'a HashMap<String, u8>,
    /// Whether strings may hold pseudo-variables (a regex with one is
    /// built per call, not at start).
    pub pv_strings: bool,
}

/// The argument slots the bound function has for a call of `n` arguments
/// (`None`: unbound, or its counts not stated or not matched).
pub fn argument_slots(callee: &Callee, era: Era, n: usize) -> Option<&'static [ArgSlot]> {
    let (arity, kinds) = match callee {
        Callee::Core(a) => (a.arities(era), &a.args),
        Callee::Module(f) => (f.arities(era), &f.args),
        Callee::Unresolved(_) => return None,
    };
    let arity = arity?;
    if arity.is_unknown() || !arity.accepts(n) {
        return None;
    }
    kinds.for_count(n)
}

impl Typing<'_> {
    /// The typed form of argument `arg` of `func` in a slot of `slot`'s
    /// kinds, if it is a constant that kind pre-parses.
    pub fn typed(&self, func: &str, slot: &ArgSlot, arg: &ast::Expr) -> Option<Value> {
        let only = |k: ArgKind| slot.0 == [k];
        let text = constant_text(arg)?;
        let kind = if only(ArgKind::Re) {
            if self.pv_strings
                && parse_format(&text)
                    .iter()
                    .any(|p| matches!(p, FormatPart::Pv(_)))
            {
                return None;
            }
            ValueKind::Pattern(Arc::new(Pattern {
                regex: compile_regex_with(&text, ReFlags::MODULE),
                source: text.into(),
                flags: ReFlags::MODULE,
            }))
        } else if slot.0.contains(&ArgKind::Route) {
            let class = crate::routes::route_arg_class(func)?;
            let id = crate::routes::normalize(&text).and_then(|key| {
                self.table
                    .by_name
                    .get(&(class, key))
                    .map(|&i| RouteId(i as u32))
            });
            ValueKind::RouteArg(RouteArg {
                class,
                name: text.into(),
                id,
            })
        } else if only(ArgKind::Flag) {
            let t = text.trim();
            let bit = match t.parse::<i64>() {
                Ok(n) => u8::try_from(n).ok().filter(|b| *b < 32)?,
                Err(_) => *self.flags.get(t)?,
            };
            ValueKind::Int(i64::from(bit))
        } else if only(ArgKind::Int) {
            let n: i64 = text.parse().ok()?;
            // Only a number written canonically: `"007"` or `"+1"` read
            // back as text would not be what was written.
            if n.to_string() != text {
                return None;
            }
            ValueKind::Int(n)
        } else {
            return None;
        };
        let ty = match kind {
            ValueKind::Int(_) => Ty::Int,
            _ => Ty::Str,
        };
        Some(Value {
            kind,
            ty,
            span: arg.span,
        })
    }
}

/// A constant argument's text: a string, a number, or a bare word (which
/// Kamailio passes to a module function as its text).
fn constant_text(e: &ast::Expr) -> Option<String> {
    match &e.kind {
        ExprKind::Str(s) | ExprKind::Name(s) => Some(s.clone()),
        ExprKind::Int(i) => Some(i.to_string()),
        ExprKind::Paren(inner) => constant_text(inner),
        _ => None,
    }
}
