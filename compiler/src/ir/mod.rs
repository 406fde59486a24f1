//! The typed IR: what the runtime executes. Routes are an indexed table,
//! calls are bound to catalog entries, pseudo-variables and format strings
//! are parsed, constant regexes compiled, constants folded, and every
//! operator carries the meaning of the file's era.

mod args;
mod lower;
pub mod pv;
pub mod readiness;
pub mod visit;

pub use args::argument_slots;
pub use lower::{lower, lower_with};
/// The regex type of the IR, for code that holds compiled patterns.
pub use regex::Regex;

use crate::catalog::entries::{CoreAction, Function};
use crate::routes::RouteClass;
use pv::{AvpRef, FormatPart, PvRef};
use sercompat_grammar::ast::{AssignOp, BinOp, CastTo, StopKeyword, UnOp};
use sercompat_grammar::dialect::StopMeaning;
use sercompat_grammar::{Era, Span};
use std::collections::HashMap;
use std::sync::Arc;

/// Index of a route in [`Program::routes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteId(pub u32);

#[derive(Debug)]
pub struct Program {
    pub era: Era,
    pub routes: Vec<Route>,
    /// Route blocks by class and name (numbers as names: `1` ≡ `"1"`).
    pub by_name: HashMap<(RouteClass, String), RouteId>,
    /// The default block of each class (`route {}`/`request_route {}`,
    /// `onreply_route {}`, ...); several main blocks run in order.
    pub defaults: HashMap<RouteClass, Vec<RouteId>>,
    /// Named flags (`flags NAME : bit`) resolved to bits.
    pub flags: HashMap<String, u8>,
    /// Module names loaded, in order.
    pub modules: Vec<String>,
    /// The 2001 rule table (era `Rules2001`), in file order: the first rule
    /// whose method and Request-URI regexes both match forwards the request
    /// statelessly to its destination; no match drops it. Empty otherwise.
    pub rules: Vec<TableRule>,
    /// Every `loadmodule`: the module name and the path's span.
    pub module_loads: Vec<(String, Span)>,
    /// Every `modparam`, one per loaded module it applies to (a pattern
    /// such as `"usrloc|registrar"` gives one per matching module), in
    /// file order.
    pub module_params: Vec<ModuleParam>,
    /// Every core parameter setting (`name = value`), in file order.
    pub core_settings: Vec<CoreSetting>,
}

/// One `modparam(module, name, value)` as the runtime applies it.
#[derive(Clone, Debug, PartialEq)]
pub struct ModuleParam {
    /// The loaded module it applies to.
    pub module: String,
    pub name: String,
    pub value: ParamConst,
    /// The name's span (what a diagnostic points at).
    pub span: Span,
    pub value_span: Span,
}

/// A module parameter's value: Kamailio's modparam takes an integer or a
/// string, nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamConst {
    Int(i64),
    Str(String),
}

impl ParamConst {
    /// The value as a number: an integer, or a string that is one
    /// (`"1"`), as Kamailio's modules read an int parameter written quoted.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            ParamConst::Int(n) => Some(*n),
            ParamConst::Str(s) => s.trim().parse().ok(),
        }
    }
}

/// One core parameter setting, with its value's shapes as parsed.
#[derive(Clone, Debug)]
pub struct CoreSetting {
    pub name: String,
    pub value: sercompat_grammar::ast::ParamValue,
    pub span: Span,
}

/// One line of the 2001 rule table: `method_regex uri_regex destination`.
#[derive(Debug)]
pub struct TableRule {
    /// POSIX extended, case-insensitive (as `=~`); `Err` holds why the
    /// pattern did not compile (the runtime refuses such a rule).
    pub method: Result<Arc<Regex>, String>,
    pub uri: Result<Arc<Regex>, String>,
    /// `host[:port]` as written.
    pub dest: String,
    pub span: Span,
}

/// Compiles a pattern the way the IR compiles constant `=~` operands
/// (POSIX extended, case-insensitive), for patterns only known at run time.
pub fn compile_regex(pattern: &str) -> Result<Arc<Regex>, String> {
    crate::lints::regex::compile(pattern, true).map(Arc::new)
}

/// The `regcomp` flags a module compiles a regular-expression argument
/// with (always `REG_EXTENDED`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReFlags {
    /// `REG_ICASE`.
    pub icase: bool,
    /// `REG_NEWLINE`: `.` and bracket lists do not match a newline, `^`
    /// and `$` match at line ends. Without it `.` matches a newline.
    pub newline: bool,
}

impl ReFlags {
    /// What Kamailio's regex fixup (`FPARAM_REGEX`, used by textops, rr,
    /// ...) passes: `REG_EXTENDED|REG_ICASE|REG_NEWLINE`. The IR compiles
    /// constant regex arguments with these.
    pub const MODULE: ReFlags = ReFlags {
        icase: true,
        newline: true,
    };
}

/// Compiles a POSIX extended pattern with a module's `regcomp` flags.
pub fn compile_regex_with(pattern: &str, flags: ReFlags) -> Result<Arc<Regex>, String> {
    let mut translated = String::with_capacity(pattern.len() + 12);
    if !flags.icase {
        translated.push_str("(?-i)");
    }
    translated.push_str(if flags.newline { "(?m)" } else { "(?s)" });
    translated.push_str(pattern);
    compile_regex(&translated)
}

/// A constant regular-expression argument of a module function, compiled
/// once when the config is lowered, as the module's fixup does at start.
#[derive(Debug)]
pub struct Pattern {
    /// The pattern as written.
    pub source: Arc<str>,
    pub flags: ReFlags,
    /// `Err` holds why it does not compile (lint L0105; the runtime
    /// refuses to start on it).
    pub regex: Result<Arc<Regex>, String>,
}

/// A constant route-name argument (`t_on_failure("1")`), resolved to its
/// block of the class the function arms.
#[derive(Debug)]
pub struct RouteArg {
    pub class: RouteClass,
    /// The name as written.
    pub name: Arc<str>,
    /// `None`: no block of that class has the name (lint L0101).
    pub id: Option<RouteId>,
}

#[derive(Debug)]
pub struct Route {
    pub class: RouteClass,
    pub name: Option<String>,
    pub body: Vec<Op>,
    pub span: Span,
}

/// What a call is bound to.
#[derive(Debug)]
pub enum Callee {
    Core(&'static CoreAction),
    Module(&'static Function),
    /// Neither the core nor a catalogued module of this era: the lints
    /// say why; the runtime refuses to start on it.
    Unresolved(String),
}

#[derive(Debug)]
pub enum RouteTarget {
    Static(RouteId),
    /// `route($var(x))`: looked up by name at run time.
    Dynamic(Box<Value>),
    /// Names no block (L0101).
    Missing(String),
}

#[derive(Debug)]
pub enum Op {
    Call {
        callee: Callee,
        name: String,
        args: Vec<Value>,
        span: Span,
    },
    Route {
        target: RouteTarget,
        span: Span,
    },
    If {
        cond: Value,
        then: Vec<Op>,
        otherwise: Vec<Op>,
    },
    While {
        cond: Value,
        body: Vec<Op>,
    },
    Switch {
        subject: Value,
        cases: Vec<Case>,
    },
    Assign {
        target: Value,
        op: AssignOp,
        value: Value,
        span: Span,
    },
    /// `drop`/`exit`/`return`/`break` with the era's meaning.
    Stop {
        keyword: StopKeyword,
        meaning: Option<StopMeaning>,
        value: Option<Value>,
        span: Span,
    },
}

#[derive(Debug)]
pub struct Case {
    pub label: CaseMatch,
    pub body: Vec<Op>,
}

#[derive(Debug)]
pub enum CaseMatch {
    Int(i64),
    Str(String),
    Regex(Arc<regex::Regex>),
    Default,
    /// Not a constant (reported by the lints); never matches.
    Invalid(String),
}

/// The static type of a value (Kamailio 3.0+ rvalue rules).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Str,
    /// Known at run time only (pseudo-variables, calls, AVPs).
    Any,
}

#[derive(Debug)]
pub struct Value {
    pub kind: ValueKind,
    pub ty: Ty,
    pub span: Span,
}

#[derive(Debug)]
pub enum ValueKind {
    Int(i64),
    Str(Arc<str>),
    /// A string with pseudo-variables, split once.
    Format(Vec<FormatPart>),
    Pv(PvRef),
    Avp(AvpRef),
    /// `$?`, `$rc`, `$retcode`.
    RetCode,
    Select(String),
    /// A condition word or symbol: `method`, `uri`, `myself`, `INVITE`, `udp`…
    Word(String),
    Address(String),
    /// A constant regex (right side of `=~`), compiled once.
    Regex(Arc<regex::Regex>),
    /// A constant argument the function reads as a regex (catalog kind
    /// `re`), compiled with the module's flags.
    Pattern(Arc<Pattern>),
    /// A constant argument the function reads as a route name (catalog
    /// kind `route`), resolved.
    RouteArg(RouteArg),
    Call(Box<Op>),
    Unary(UnOp, Box<Value>),
    Binary(BinOp, Box<Value>, Box<Value>),
    /// `+` on a string left operand: concatenation.
    Concat(Box<Value>, Box<Value>),
    Cast(CastTo, Box<Value>),
    /// A block used as a condition (SER).
    Block(Vec<Op>),
    AssignExpr(Box<Value>, Box<Value>),
    /// Did not lower (already reported).
    Invalid,
}

impl Value {
    /// The text of a constant as written: a number, a string, a bare word,
    /// or a typed constant argument (a pattern's source, a route's name).
    /// `None` for anything evaluated at run time (formats included).
    pub fn constant_text(&self) -> Option<String> {
        match &self.kind {
            ValueKind::Int(i) => Some(i.to_string()),
            ValueKind::Str(s) => Some(s.to_string()),
            ValueKind::Word(w) => Some(w.clone()),
            ValueKind::Pattern(p) => Some(p.source.to_string()),
            ValueKind::RouteArg(r) => Some(r.name.to_string()),
            _ => None,
        }
    }
}

impl Program {
    pub fn route(&self, id: RouteId) -> &Route {
        &self.routes[id.0 as usize]
    }

    /// Number of operations in all routes (for statistics and tests).
    pub fn op_count(&self) -> usize {
        fn count(ops: &[Op]) -> usize {
            ops.iter()
                .map(|op| {
                    1 + match op {
                        Op::If {
                            then, otherwise, ..
                        } => count(then) + count(otherwise),
                        Op::While { body, .. } => count(body),
                        Op::Switch { cases, .. } => cases.iter().map(|c| count(&c.body)).sum(),
                        _ => 0,
                    }
                })
                .sum()
        }
        self.routes.iter().map(|r| count(&r.body)).sum()
    }
}
