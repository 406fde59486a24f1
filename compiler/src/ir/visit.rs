//! A walk over the IR: every call a route body makes, wherever it
//! stands (a statement, a condition, an argument, a switch case), for the
//! checks that look at calls one by one.

use super::{Callee, Op, Value, ValueKind};
use sercompat_grammar::Span;

/// One call of a route body.
pub struct CallSite<'p> {
    pub callee: &'p Callee,
    pub name: &'p str,
    pub args: &'p [Value],
    pub span: Span,
}

/// Calls `f` for every call in `list`, outer calls before the calls in
/// their arguments, in program order.
pub fn each_call<'p>(list: &'p [Op], f: &mut dyn FnMut(CallSite<'p>)) {
    for op in list {
        match op {
            Op::Call {
                callee,
                name,
                args,
                span,
            } => {
                f(CallSite {
                    callee,
                    name,
                    args,
                    span: *span,
                });
                args.iter().for_each(|a| value(a, f));
            }
            Op::Route { .. } => {}
            Op::If {
                cond,
                then,
                otherwise,
            } => {
                value(cond, f);
                each_call(then, f);
                each_call(otherwise, f);
            }
            Op::While { cond, body } => {
                value(cond, f);
                each_call(body, f);
            }
            Op::Switch { subject, cases } => {
                value(subject, f);
                cases.iter().for_each(|c| each_call(&c.body, f));
            }
            Op::Assign {
                target, value: v, ..
            } => {
                value(target, f);
                value(v, f);
            }
            Op::Stop { value: v, .. } => {
                if let Some(v) = v {
                    value(v, f);
                }
            }
        }
    }
}

fn value<'p>(v: &'p Value, f: &mut dyn FnMut(CallSite<'p>)) {
    match &v.kind {
        ValueKind::Call(op) => each_call(std::slice::from_ref(op), f),
        ValueKind::Unary(_, a) | ValueKind::Cast(_, a) => value(a, f),
        ValueKind::Binary(_, a, b) | ValueKind::Concat(a, b) | ValueKind::AssignExpr(a, b) => {
            value(a, f);
            value(b, f);
        }
        ValueKind::Block(list) => each_call(list, f),
        _ => {}
    }
}
