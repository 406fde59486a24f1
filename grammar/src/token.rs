//! Tokens as the parser sees them: after preprocessing, with spans into the
//! original files and a link to the define expansion they came from.

use crate::lexer::DollarKind;
use crate::span::Span;

/// Reserved words. Everything else that looks like a name is an identifier
/// (core actions and condition words included: the compiler tells them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kw {
    If,
    Else,
    Switch,
    Case,
    Default,
    While,
    Break,
    Return,
    Exit,
    Drop,
    Route,
    RequestRoute,
    ReplyRoute,
    OnReplyRoute,
    FailureRoute,
    BranchRoute,
    OnSendRoute,
    EventRoute,
    ErrorRoute,
    LocalRoute,
    LoadModule,
    LoadModuleX,
    LoadPath,
    ModParam,
    ModParamX,
    Flags,
    AvpFlags,
    CfgEngine,
    And,
    Or,
    Not,
    Mod,
    StrEq,
    StrNe,
    IntEq,
    IntNe,
    Defined,
}

impl Kw {
    pub fn from_word(w: &str) -> Option<Kw> {
        Some(match w {
            "if" => Kw::If,
            "else" => Kw::Else,
            "switch" => Kw::Switch,
            "case" => Kw::Case,
            "default" => Kw::Default,
            "while" => Kw::While,
            "break" => Kw::Break,
            "return" => Kw::Return,
            "exit" => Kw::Exit,
            "drop" => Kw::Drop,
            "route" => Kw::Route,
            "request_route" => Kw::RequestRoute,
            "reply_route" => Kw::ReplyRoute,
            "onreply_route" => Kw::OnReplyRoute,
            "failure_route" => Kw::FailureRoute,
            "branch_route" => Kw::BranchRoute,
            "onsend_route" => Kw::OnSendRoute,
            "event_route" => Kw::EventRoute,
            "error_route" => Kw::ErrorRoute,
            "local_route" => Kw::LocalRoute,
            "loadmodule" => Kw::LoadModule,
            "loadmodulex" => Kw::LoadModuleX,
            "loadpath" => Kw::LoadPath,
            "modparam" => Kw::ModParam,
            "modparamx" => Kw::ModParamX,
            "flags" | "bool" => Kw::Flags,
            "avpflags" => Kw::AvpFlags,
            "cfgengine" => Kw::CfgEngine,
            "and" => Kw::And,
            "or" => Kw::Or,
            "not" => Kw::Not,
            "mod" => Kw::Mod,
            "eq" => Kw::StrEq,
            "ne" => Kw::StrNe,
            "ieq" => Kw::IntEq,
            "ine" => Kw::IntNe,
            "defined" => Kw::Defined,
            _ => return None,
        })
    }
}

/// A token kind as the LALRPOP grammar consumes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Tok {
    Ident,
    /// An identifier that starts a top-level `name = value` statement
    /// (core parameter or cfg-framework variable).
    ParamKey,
    Kw(Kw),
    Str,
    Int,
    Ipv4,
    IpNet,
    Ipv6,
    Var(DollarKind),
    Select,
    CastInt,
    CastStr,
    Semi,
    Comma,
    Colon,
    Dot,
    LParen,
    RParen,
    LBrace,
    RBrace,
    LBracket,
    RBracket,
    Slash,
    Star,
    Plus,
    Minus,
    Percent,
    Assign,
    Eq,
    Ne,
    Match,
    NotMatch,
    Lt,
    Gt,
    Le,
    Ge,
    AndAnd,
    OrOr,
    Bang,
    Amp,
    Pipe,
    Caret,
    Tilde,
    Shl,
    Shr,
    /// `:=` `+=` ... (OpenSER assignment operators); the text tells which.
    OpAssign,
}

impl Tok {
    /// How the token is named in "expected …" messages.
    pub fn describe(self) -> &'static str {
        match self {
            Tok::Ident => "a name",
            Tok::ParamKey => "a parameter name",
            Tok::Kw(_) => "a keyword",
            Tok::Str => "a string",
            Tok::Int => "a number",
            Tok::Ipv4 => "an IPv4 address",
            Tok::IpNet => "a network",
            Tok::Ipv6 => "an IPv6 address",
            Tok::Var(_) => "a variable",
            Tok::Select => "a select",
            _ => "a symbol",
        }
    }
}

/// One token of the preprocessed stream.
#[derive(Clone, Copy, Debug)]
pub struct Token {
    pub tok: Tok,
    /// Where the token's text is: in the file, or in a `#!define` body.
    pub span: Span,
    /// Start of the trivia (blanks, comments) before the token, in the same
    /// file as `span`; equal to `span.start` when there is none.
    pub lead: u32,
    /// Index+1 into the expansion table when the token came from a define.
    pub expansion: u32,
    /// Index+1 into the owned-text table when the text is not the source
    /// slice (strings rewritten by `#!subst`, values from the environment).
    pub owned: u32,
}

/// One use of a `#!define` name.
#[derive(Clone, Debug)]
pub struct Expansion {
    pub name: String,
    /// Where the name was used (a token span; for nested expansions, in the
    /// body of the outer define).
    pub use_site: Span,
    /// The define's value.
    pub body: Span,
    /// Index+1 of the expansion that produced the use site, if any.
    pub parent: u32,
}
