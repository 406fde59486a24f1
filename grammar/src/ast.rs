//! The syntax tree. One family of nodes for every era; where a construct
//! means different things in different eras, the node records the meaning
//! the file's era gives it. Every node has a span.

use crate::dialect::{Era, StopMeaning};
use crate::lexer::DollarKind;
use crate::span::Span;

#[derive(Clone, Debug)]
pub struct Config {
    pub era: Era,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Item {
    pub kind: ItemKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ItemKind {
    /// `name = value` (core parameter).
    CoreParam {
        name: Name,
        value: ParamValue,
    },
    /// `group[.idx].var = value [desc "…"]` (cfg-framework variable).
    CfgVar {
        group: Name,
        index: Option<Name>,
        var: Name,
        value: ParamValue,
    },
    LoadModule {
        path: StrLit,
        evaluated: bool,
    },
    LoadPath {
        path: StrLit,
    },
    ModParam {
        module: StrLit,
        param: StrLit,
        value: Expr,
        evaluated: bool,
    },
    /// `flags A : 1, B;` / `bool X;`
    Flags(Vec<FlagDecl>),
    AvpFlags(Vec<Name>),
    CfgEngine(StrLit),
    Route(RouteBlock),
    /// The 2001 rule table.
    Rules(Vec<Rule>),
    /// A stray `;`.
    Empty,
    /// Something that did not parse (already reported).
    Error,
}

#[derive(Clone, Debug)]
pub struct StrLit {
    /// The decoded value (adjacent literals concatenated).
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct FlagDecl {
    pub name: Name,
    pub bit: Option<i64>,
    pub span: Span,
}

/// The value of a core parameter or cfg variable: kept as the token texts,
/// with the common shapes recognised.
#[derive(Clone, Debug)]
pub struct ParamValue {
    pub kind: ParamValueKind,
    /// The tokens' texts as written (after define expansion).
    pub words: Vec<String>,
    /// `desc "…"` of a cfg variable.
    pub desc: Option<StrLit>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParamValueKind {
    Int(i64),
    Str(String),
    /// A single name: `yes`, `LOG_LOCAL0`, `eth0`.
    Word(String),
    /// Anything longer: socket lists, `host:port`, `advertise`, ...
    Compound,
}

#[derive(Clone, Debug)]
pub struct RouteBlock {
    pub kind: RouteKind,
    pub keyword_span: Span,
    pub name: Option<Name>,
    pub body: Block,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteKind {
    /// `route { }` / `route[N]`.
    Request,
    /// `request_route { }` (K3.2+ spelling of the main route).
    RequestAlias,
    Failure,
    /// `reply_route`: in SER 0.8.8–0.8.10 `reply_route[N]` is a failure
    /// route; in K3.2+ `reply_route { }` is the core reply route.
    Reply {
        means_failure: bool,
    },
    OnReply,
    Branch,
    OnSend,
    Event,
    Error,
    Local,
}

impl RouteKind {
    pub fn keyword(self) -> &'static str {
        match self {
            RouteKind::Request => "route",
            RouteKind::RequestAlias => "request_route",
            RouteKind::Failure => "failure_route",
            RouteKind::Reply { .. } => "reply_route",
            RouteKind::OnReply => "onreply_route",
            RouteKind::Branch => "branch_route",
            RouteKind::OnSend => "onsend_route",
            RouteKind::Event => "event_route",
            RouteKind::Error => "error_route",
            RouteKind::Local => "local_route",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StmtKind {
    /// A function or core-action call (`f(a, b);`, `revert_uri;`).
    Call(Call),
    If {
        cond: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    Switch {
        subject: Expr,
        cases: Vec<Case>,
    },
    While {
        cond: Expr,
        body: Box<Stmt>,
    },
    Assign {
        target: Expr,
        op: AssignOp,
        value: Expr,
    },
    /// `drop`, `exit`, `return`, `break` with what they mean in this era.
    Stop {
        keyword: StopKeyword,
        meaning: Option<StopMeaning>,
        value: Option<Expr>,
    },
    Block(Block),
    /// A lone `;` (SER's `if (...) { ... };` leaves many).
    Empty,
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopKeyword {
    Drop,
    Exit,
    Return,
    Break,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Assign,
    /// OpenSER `:=` (replace all values).
    Replace,
    /// OpenSER `+=` `-=` ... ; the operator text without `=`.
    Compound(BinOp),
}

#[derive(Clone, Debug)]
pub struct Case {
    pub label: CaseLabel,
    pub body: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum CaseLabel {
    Int(i64),
    Str(String),
    Regex(String),
    /// A name left after define expansion (not a constant: the compiler reports it).
    Name(String),
    Default,
}

#[derive(Clone, Debug)]
pub struct Call {
    pub name: Name,
    pub args: Vec<Expr>,
    /// `false` for `revert_uri;` written without parentheses.
    pub parens: bool,
}

#[derive(Clone, Debug)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum ExprKind {
    Int(i64),
    Str(String),
    Var(VarRef),
    Select(String),
    /// A bare name (`myself`, `INVITE`, `udp`, condition words such as
    /// `method`/`uri`, a host label), or a dotted host name.
    Name(String),
    Ipv4(String),
    Ipv6(String),
    /// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`.
    Net(String),
    /// `proto:host:port`, `host:port` (socket specs in calls).
    Address(Vec<String>),
    Call(Call),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Cast(CastTo, Box<Expr>),
    /// OpenSER `[ expr ]` arithmetic test.
    Test(Box<Expr>),
    Paren(Box<Expr>),
    /// `{ actions }` used as a value (SER 0.8 conditions).
    Block(Block),
    /// `(lval = expr)` used as a value.
    AssignExpr(Box<Expr>, Box<Expr>),
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CastTo {
    Int,
    Str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Not,
    Neg,
    BitNot,
    Defined,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Or,
    And,
    /// Single `|`/`&` as bitwise (S2.0, OpenSER 1.2+, K3.0+).
    BitOr,
    BitAnd,
    /// Single `|`/`&` as *logical* OR/AND (SER 0.8/0.9, OpenSER 1.0/1.1).
    LegacyOr,
    LegacyAnd,
    BitXor,
    Shl,
    Shr,
    Eq,
    Ne,
    Match,
    NotMatch,
    StrEq,
    StrNe,
    IntEq,
    IntNe,
    Lt,
    Gt,
    Le,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    /// `mod`, or `%` where `%` is modulo (OpenSER 1.2 – Kamailio 1.5).
    Mod,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::BitOr | BinOp::LegacyOr => "|",
            BinOp::BitAnd | BinOp::LegacyAnd => "&",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Match => "=~",
            BinOp::NotMatch => "!~",
            BinOp::StrEq => "eq",
            BinOp::StrNe => "ne",
            BinOp::IntEq => "ieq",
            BinOp::IntNe => "ine",
            BinOp::Lt => "<",
            BinOp::Gt => ">",
            BinOp::Le => "<=",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "mod",
        }
    }
}

/// A `$…` or `%…` variable as written, with how the era reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VarRef {
    pub text: String,
    pub kind: VarKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarKind {
    /// A pseudo-variable (`$ru`, `$avp(x)`, `$(hdr(Via)[0])`).
    Pv,
    /// A SER AVP (`$f.x`, `$x` in SER mode, `%x`).
    SerAvp,
    /// Bare `$name` in K3.0+ MAXCOMPAT mode: a registered pseudo-variable
    /// name, else a SER AVP — decided when modules are known.
    AvpOrPv,
    /// `$?`, `$rc`, `$retcode`.
    RetCode,
}

impl From<DollarKind> for VarKind {
    fn from(k: DollarKind) -> VarKind {
        match k {
            DollarKind::Pv | DollarKind::Lone => VarKind::Pv,
            DollarKind::SerAvp => VarKind::SerAvp,
            DollarKind::AvpOrPv => VarKind::AvpOrPv,
            DollarKind::RetCode => VarKind::RetCode,
        }
    }
}

/// One line of the 2001 rule table: requests whose method matches
/// `method` and whose Request-URI matches `uri` are forwarded to `dest`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Name,
    pub uri: Name,
    pub dest: Name,
    pub span: Span,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }
}
