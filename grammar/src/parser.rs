//! Glue between the preprocessed token stream and the LALRPOP grammar:
//! the action context (`Ctx`), statement-key marking, and turning parse
//! errors into diagnostics without cascades.

use crate::ast::*;
use crate::diagnostic::{codes, Diagnostic};
use crate::dialect::Era;
use crate::preprocess::Output;
use crate::source::SourceDb;
use crate::span::Span;
use crate::token::{Kw, Tok};
use lalrpop_util::{ErrorRecovery, ParseError};

lalrpop_util::lalrpop_mod!(
    #[allow(
        clippy::all,
        clippy::pedantic,
        unused_parens,
        unused_imports,
        dead_code
    )]
    grammar
);

/// What grammar actions need: token texts, spans and the era.
pub struct Ctx<'c> {
    pub db: &'c SourceDb,
    pub pp: &'c Output,
    pub era: Era,
    /// Delimiter facts, computed once on the first syntax error.
    delims: std::cell::OnceCell<Delims>,
}

/// Per-token facts about delimiters, computed in one pass so that reporting
/// many errors stays linear.
struct Delims {
    /// Number of `;`, `{`, `}` tokens before index i (len n+1).
    sync_before: Vec<u32>,
    /// Whether the closer at i has no opener (false for non-closers).
    unmatched: Vec<bool>,
    /// Innermost `{` still open before index i, `u32::MAX` if none (len n+1).
    open_brace_before: Vec<u32>,
}

impl Delims {
    fn new(tokens: &[crate::token::Token]) -> Delims {
        let n = tokens.len();
        let mut sync_before = Vec::with_capacity(n + 1);
        let mut unmatched = vec![false; n];
        let mut open_brace_before = Vec::with_capacity(n + 1);
        let mut braces: Vec<u32> = Vec::new();
        let (mut parens, mut brackets) = (0u32, 0u32);
        let mut syncs = 0u32;
        for (i, t) in tokens.iter().enumerate() {
            sync_before.push(syncs);
            open_brace_before.push(braces.last().copied().unwrap_or(u32::MAX));
            match t.tok {
                Tok::LBrace => braces.push(i as u32),
                Tok::RBrace => unmatched[i] = braces.pop().is_none(),
                Tok::LParen => parens += 1,
                Tok::RParen => {
                    unmatched[i] = parens == 0;
                    parens = parens.saturating_sub(1);
                }
                Tok::LBracket => brackets += 1,
                Tok::RBracket => {
                    unmatched[i] = brackets == 0;
                    brackets = brackets.saturating_sub(1);
                }
                _ => {}
            }
            if matches!(t.tok, Tok::Semi | Tok::LBrace | Tok::RBrace) {
                syncs += 1;
                // Parentheses never span statements.
                parens = 0;
            }
        }
        sync_before.push(syncs);
        open_brace_before.push(braces.last().copied().unwrap_or(u32::MAX));
        Delims {
            sync_before,
            unmatched,
            open_brace_before,
        }
    }
}

impl<'c> Ctx<'c> {
    pub fn new(db: &'c SourceDb, pp: &'c Output, era: Era) -> Ctx<'c> {
        Ctx {
            db,
            pp,
            era,
            delims: std::cell::OnceCell::new(),
        }
    }

    fn delims(&self) -> &Delims {
        self.delims.get_or_init(|| Delims::new(&self.pp.tokens))
    }

    pub fn text(&self, i: usize) -> &'c str {
        self.pp.text(self.db, i)
    }

    fn site(&self, i: usize) -> Span {
        let n = self.pp.tokens.len();
        if n == 0 {
            return Span::default();
        }
        if i >= n {
            let last = self.pp.site(n - 1);
            return Span {
                start: last.end,
                ..last
            };
        }
        self.pp.site(i)
    }

    /// Span of tokens `l..r` (token indices; `r` exclusive).
    pub fn span(&self, l: usize, r: usize) -> Span {
        if r <= l {
            let s = self.site(l);
            return Span { end: s.start, ..s };
        }
        self.site(l).to(self.site(r - 1))
    }

    pub fn name(&self, i: usize) -> Name {
        Name {
            text: self.text(i).to_string(),
            span: self.site(i),
        }
    }

    pub fn str_name(&self, i: usize) -> Name {
        Name {
            text: crate::strings::decode(self.text(i)),
            span: self.site(i),
        }
    }

    pub fn item(&self, kind: ItemKind, l: usize, r: usize) -> Box<Item> {
        Box::new(Item {
            kind,
            span: self.span(l, r),
        })
    }

    pub fn stmt(&self, kind: StmtKind, l: usize, r: usize) -> Box<Stmt> {
        Box::new(Stmt {
            kind,
            span: self.span(l, r),
        })
    }

    pub fn expr(&self, kind: ExprKind, l: usize, r: usize) -> Expr {
        Expr::new(kind, self.span(l, r))
    }

    pub fn binary(&self, op: BinOp, a: Expr, b: Expr, l: usize, r: usize) -> Expr {
        // `!uri==myself` negates the whole match: in every era the
        // condition words form one element (`uri == myself`), so `!` does
        // not bind to `uri` alone as operator precedence would make it.
        if is_comparison(op) {
            if let ExprKind::Unary(UnOp::Not, inner) = &a.kind {
                if matches!(&inner.kind, ExprKind::Name(n) if CONDITION_WORDS.contains(&n.as_str()))
                {
                    let ExprKind::Unary(_, inner) = a.kind else {
                        unreachable!()
                    };
                    let span = self.span(l, r);
                    let test_span = inner.span.to(b.span);
                    let test = Expr::new(ExprKind::Binary(op, inner, Box::new(b)), test_span);
                    return Expr::new(ExprKind::Unary(UnOp::Not, Box::new(test)), span);
                }
            }
        }
        self.expr(ExprKind::Binary(op, Box::new(a), Box::new(b)), l, r)
    }

    pub fn unary(&self, op: UnOp, e: Expr, l: usize, r: usize) -> Expr {
        self.expr(ExprKind::Unary(op, Box::new(e)), l, r)
    }

    pub fn var(&self, kind: crate::lexer::DollarKind, i: usize) -> Expr {
        Expr::new(
            ExprKind::Var(VarRef {
                text: self.text(i).to_string(),
                kind: kind.into(),
            }),
            self.site(i),
        )
    }

    pub fn single_amp(&self) -> BinOp {
        if self.era.single_amp_is_logical() {
            BinOp::LegacyAnd
        } else {
            BinOp::BitAnd
        }
    }

    pub fn single_pipe(&self) -> BinOp {
        if self.era.single_amp_is_logical() {
            BinOp::LegacyOr
        } else {
            BinOp::BitOr
        }
    }

    pub fn reply_route_kind(&self) -> RouteKind {
        RouteKind::Reply {
            means_failure: self.era == Era::Ser08,
        }
    }

    pub fn stop(&self, keyword: StopKeyword, value: Option<Expr>) -> StmtKind {
        let meaning = match keyword {
            StopKeyword::Drop => Some(self.era.drop_meaning()),
            StopKeyword::Exit => Some(self.era.exit_meaning()),
            StopKeyword::Break => Some(self.era.break_meaning()),
            StopKeyword::Return => None,
        };
        StmtKind::Stop {
            keyword,
            meaning,
            value,
        }
    }

    pub fn assign_op(&self, i: usize) -> AssignOp {
        match self.text(i) {
            ":=" => AssignOp::Replace,
            "+=" => AssignOp::Compound(BinOp::Add),
            "-=" => AssignOp::Compound(BinOp::Sub),
            "*=" => AssignOp::Compound(BinOp::Mul),
            "/=" => AssignOp::Compound(BinOp::Div),
            "%=" => AssignOp::Compound(BinOp::Mod),
            "&=" => AssignOp::Compound(BinOp::BitAnd),
            "|=" => AssignOp::Compound(BinOp::BitOr),
            _ => AssignOp::Compound(BinOp::BitXor),
        }
    }

    pub fn int(&self, i: usize) -> i64 {
        parse_int(self.text(i)).unwrap_or(i64::MAX)
    }

    pub fn strs(&self, l: usize, r: usize) -> StrLit {
        let value = (l..r)
            .map(|i| crate::strings::decode(self.text(i)))
            .collect();
        StrLit {
            value,
            span: self.span(l, r),
        }
    }

    pub fn dotted(&self, l: usize, _r: usize, rest: &[usize]) -> String {
        let mut s = self.text(l).to_string();
        for &i in rest {
            s.push('.');
            s.push_str(self.text(i));
        }
        s
    }

    /// A route name written as several tokens (`tm:branch-failure:x`).
    pub fn joined_name(&self, l: usize, r: usize) -> Name {
        let text = (l..r)
            .map(|i| match self.pp.tokens[i].tok {
                Tok::Str => crate::strings::decode(self.text(i)),
                _ => self.text(i).to_string(),
            })
            .collect();
        Name {
            text,
            span: self.span(l, r),
        }
    }

    pub fn param_item(
        &self,
        key: usize,
        path: (Option<usize>, Vec<usize>),
        value: (usize, usize),
        l: usize,
        r: usize,
    ) -> Box<Item> {
        let (idx, segs) = path;
        let mut value = self.param_value(value.0, value.1);
        let kind = match segs.last() {
            None if idx.is_none() => {
                value.desc = None;
                ItemKind::CoreParam {
                    name: self.name(key),
                    value,
                }
            }
            _ => ItemKind::CfgVar {
                group: self.name(key),
                index: idx.map(|i| self.name(i)),
                var: segs
                    .last()
                    .map_or_else(|| self.name(key), |&s| self.name(s)),
                value,
            },
        };
        self.item(kind, l, r)
    }

    fn param_value(&self, l: usize, r: usize) -> ParamValue {
        let toks = &self.pp.tokens[l..r];
        let mut end = r;
        let mut desc = None;
        // `… desc "text"` (cfg variables).
        if r - l >= 3
            && toks[r - l - 1].tok == Tok::Str
            && matches!(self.text(r - 2), "desc" | "descr" | "description")
        {
            let mut s = r - 1;
            while s > l && self.pp.tokens[s - 1].tok == Tok::Str {
                s -= 1;
            }
            if s > l + 1 && matches!(self.text(s - 1), "desc" | "descr" | "description") {
                desc = Some(self.strs(s, r));
                end = s - 1;
            }
        }
        let words: Vec<String> = (l..end).map(|i| self.text(i).to_string()).collect();
        let kinds: Vec<Tok> = self.pp.tokens[l..end].iter().map(|t| t.tok).collect();
        let kind = match kinds.as_slice() {
            [Tok::Int] => {
                parse_int(&words[0]).map_or(ParamValueKind::Compound, ParamValueKind::Int)
            }
            [Tok::Minus, Tok::Int] => {
                parse_int(&words[1]).map_or(ParamValueKind::Compound, |v| ParamValueKind::Int(-v))
            }
            [Tok::Ident] => ParamValueKind::Word(words[0].clone()),
            k if !k.is_empty() && k.iter().all(|t| *t == Tok::Str) => {
                ParamValueKind::Str(self.strs(l, end).value)
            }
            _ => ParamValueKind::Compound,
        };
        ParamValue {
            kind,
            words,
            desc,
            span: self.span(l, end.max(l + 1)),
        }
    }
}

/// The built-in condition words (left side of a condition element).
const CONDITION_WORDS: &[&str] = &[
    "method",
    "uri",
    "status",
    "from_uri",
    "to_uri",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "snd_ip",
    "snd_port",
    "snd_proto",
    "snd_af",
    "to_ip",
    "to_port",
    "to_proto",
    "to_af",
    "proto",
    "af",
    "msg:len",
    "myself",
    "retcode",
];

fn is_comparison(op: BinOp) -> bool {
    matches!(
        op,
        BinOp::Eq
            | BinOp::Ne
            | BinOp::Match
            | BinOp::NotMatch
            | BinOp::StrEq
            | BinOp::StrNe
            | BinOp::IntEq
            | BinOp::IntNe
            | BinOp::Lt
            | BinOp::Gt
            | BinOp::Le
            | BinOp::Ge
    )
}

/// Statements as the tree keeps them (the parser moves them boxed).
pub fn unbox(v: Vec<Box<Stmt>>) -> Vec<Stmt> {
    v.into_iter().map(|b| *b).collect()
}

/// Decimal, `0x` hex, leading-zero octal and `101b` binary integers.
pub fn parse_int(t: &str) -> Option<i64> {
    if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        return i64::from_str_radix(h, 16).ok();
    }
    if let Some(b) = t.strip_suffix('b') {
        return i64::from_str_radix(b, 2).ok();
    }
    if t.len() > 1 && t.starts_with('0') && t.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
        return i64::from_str_radix(&t[1..], 8).ok();
    }
    t.parse().ok()
}

/// Appends a `}` (at the end of the text) for each `{` still open, so that
/// an include fragment cut inside a route parses as the piece it is.
pub fn close_open_blocks(pp: &mut Output) {
    let mut open = 0usize;
    for t in &pp.tokens {
        match t.tok {
            Tok::LBrace => open += 1,
            Tok::RBrace => open = open.saturating_sub(1),
            _ => {}
        }
    }
    let Some(last) = pp.tokens.iter().rev().find(|t| t.expansion == 0).copied() else {
        return;
    };
    let at = Span {
        start: last.span.end,
        ..last.span
    };
    for _ in 0..open {
        pp.tokens.push(crate::token::Token {
            tok: Tok::RBrace,
            span: at,
            lead: at.start,
            expansion: 0,
            owned: 1 + push_owned(&mut pp.owned, "}"),
        });
    }
}

fn push_owned(owned: &mut Vec<Box<str>>, s: &str) -> u32 {
    owned.push(s.into());
    owned.len() as u32 - 1
}

/// Marks the identifiers that start a top-level `name = value` statement
/// (outside any braces or parentheses, followed by `=` or by a cfg-variable
/// path `.var` / `[N].var` and `=`). The grammar needs this to know where a
/// parameter's value ends, since statements have no terminator at top level.
pub fn mark_param_keys(pp: &mut Output) {
    let toks = &mut pp.tokens;
    let mut depth: i64 = 0;
    let mut skip_to = 0;
    for i in 0..toks.len() {
        if i < skip_to {
            continue;
        }
        match toks[i].tok {
            Tok::LBrace | Tok::LParen => depth += 1,
            Tok::RBrace | Tok::RParen => depth = (depth - 1).max(0),
            Tok::Ident if depth == 0 => {
                let mut j = i + 1;
                loop {
                    match toks.get(j).map(|t| t.tok) {
                        Some(Tok::Dot)
                            if matches!(
                                toks.get(j + 1).map(|t| t.tok),
                                Some(Tok::Ident | Tok::Int | Tok::Kw(Kw::Default))
                            ) =>
                        {
                            j += 2
                        }
                        Some(Tok::LBracket)
                            if toks.get(j + 1).map(|t| t.tok) == Some(Tok::Int)
                                && toks.get(j + 2).map(|t| t.tok) == Some(Tok::RBracket) =>
                        {
                            j += 3
                        }
                        _ => break,
                    }
                }
                if toks.get(j).map(|t| t.tok) == Some(Tok::Assign) {
                    toks[i].tok = Tok::ParamKey;
                    skip_to = j;
                }
            }
            _ => {}
        }
    }
}

/// Parses the token stream; returns the items and the syntax diagnostics.
pub fn parse_tokens(db: &SourceDb, pp: &Output, era: Era) -> (Vec<Item>, Vec<Diagnostic>) {
    let ctx = Ctx::new(db, pp, era);
    if let Some(d) = too_deep(&ctx) {
        return (Vec::new(), vec![d]);
    }
    let mut recovered: Vec<ErrorRecovery<usize, Tok, ()>> = Vec::new();
    let tokens = pp
        .tokens
        .iter()
        .enumerate()
        .map(|(i, t)| Ok::<_, ()>((i, t.tok, i + 1)));
    let result = grammar::ConfigParser::new().parse(&ctx, &mut recovered, tokens);
    let mut errors: Vec<ParseError<usize, Tok, ()>> =
        recovered.into_iter().map(|e| e.error).collect();
    let items = match result {
        Ok(items) => items,
        Err(e) => {
            errors.push(e);
            Vec::new()
        }
    };
    let mut diags = Vec::new();
    let mut last: Option<usize> = None;
    for e in errors {
        let at = match &e {
            ParseError::InvalidToken { location }
            | ParseError::UnrecognizedEof { location, .. } => *location,
            ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => {
                token.0
            }
            ParseError::User { .. } => continue,
        };
        // One report per broken statement: a second error before the parser
        // got past a `;`, `{` or `}` is a consequence of the first.
        if let Some(prev) = last {
            let sync = &ctx.delims().sync_before;
            let end = at.min(pp.tokens.len());
            let synced = end > prev + 1 && sync[end] > sync[prev + 1];
            if !synced && at >= prev {
                continue;
            }
        }
        if diags.len() >= MAX_SYNTAX_ERRORS {
            diags.push(Diagnostic::note_diag(
                codes::SYNTAX,
                format!("stopped after {MAX_SYNTAX_ERRORS} syntax errors"),
            ));
            break;
        }
        // A brace already reported as left open explains the end of file too.
        let names_open_brace = |d: &Diagnostic| {
            d.labels
                .iter()
                .any(|l| !l.primary && l.message.contains("is still open"))
        };
        if matches!(e, ParseError::UnrecognizedEof { .. }) && diags.iter().any(names_open_brace) {
            continue;
        }
        last = Some(at);
        diags.push(syntax_diagnostic(&ctx, &e));
    }
    (items, diags)
}

fn describe_expected(e: &str) -> String {
    let bare = e.trim_matches('"');
    match bare {
        "name" => "a name".into(),
        "parameter name" => "a parameter name".into(),
        "string" => "a string".into(),
        "number" => "a number".into(),
        "variable" => "a variable".into(),
        "select" => "a select".into(),
        "IPv4 address" | "IPv6 address" | "network" => {
            format!("an {bare}").replace("an network", "a network")
        }
        other => format!("`{other}`"),
    }
}

fn token_desc(ctx: &Ctx, i: usize) -> String {
    let t = ctx.pp.tokens[i].tok;
    let text = ctx.text(i);
    let shown: String = text.chars().take(40).collect();
    match t {
        Tok::Str => format!("string {shown}"),
        Tok::Kw(_) => format!("keyword `{shown}`"),
        _ => format!("`{shown}`"),
    }
}

/// What came just before token `i`, for "expected `;` after …".
fn what_precedes(ctx: &Ctx, i: usize) -> Option<String> {
    let prev = i.checked_sub(1)?;
    match ctx.pp.tokens[prev].tok {
        Tok::RParen => {
            let mut depth = 0;
            let mut j = prev;
            loop {
                match ctx.pp.tokens[j].tok {
                    Tok::RParen => depth += 1,
                    Tok::LParen => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                if j == 0 || prev - j > 4096 {
                    return Some("`)`".into());
                }
                j -= 1;
            }
            match j.checked_sub(1).map(|k| (k, ctx.pp.tokens[k].tok)) {
                Some((k, Tok::Ident | Tok::Kw(Kw::Route))) => {
                    Some(format!("`{}(...)`", ctx.text(k)))
                }
                _ => Some("`)`".into()),
            }
        }
        Tok::Ident | Tok::Var(_) | Tok::Int | Tok::Kw(_) => Some(format!("`{}`", ctx.text(prev))),
        _ => None,
    }
}

fn starts_top_level(kw: Kw) -> bool {
    matches!(
        kw,
        Kw::Route
            | Kw::RequestRoute
            | Kw::ReplyRoute
            | Kw::OnReplyRoute
            | Kw::FailureRoute
            | Kw::BranchRoute
            | Kw::OnSendRoute
            | Kw::EventRoute
            | Kw::ErrorRoute
            | Kw::LocalRoute
            | Kw::LoadModule
            | Kw::LoadModuleX
            | Kw::ModParam
            | Kw::ModParamX
            | Kw::LoadPath
    )
}

fn closing_char(t: Tok) -> Option<&'static str> {
    match t {
        Tok::RBrace => Some("}"),
        Tok::RParen => Some(")"),
        Tok::RBracket => Some("]"),
        _ => None,
    }
}

/// Whether the closing delimiter at `i` has no opening one before it.
fn unmatched_close(ctx: &Ctx, i: usize) -> bool {
    ctx.delims().unmatched[i]
}

/// The innermost `{` still open before token `upto`.
fn unclosed_brace(ctx: &Ctx, upto: usize) -> Option<usize> {
    let b = ctx.delims().open_brace_before[upto.min(ctx.pp.tokens.len())];
    (b != u32::MAX).then_some(b as usize)
}

/// More syntax errors than this in one file are not worth reading.
const MAX_SYNTAX_ERRORS: usize = 200;
/// Deeper nesting than this is refused before parsing: the tree would be
/// too deep to walk (and no real config comes near it).
const MAX_NESTING: usize = 1000;
/// Longer operator chains in one statement are refused for the same reason.
const MAX_OPERATORS: usize = 10_000;

/// Refuses token streams whose syntax tree would be pathologically deep.
fn too_deep(ctx: &Ctx) -> Option<Diagnostic> {
    let mut depth = 0usize;
    let mut operators = 0usize;
    // `else if` chains nest without braces.
    let mut elses = 0usize;
    for (i, t) in ctx.pp.tokens.iter().enumerate() {
        match t.tok {
            Tok::LParen | Tok::LBracket | Tok::LBrace => depth += 1,
            Tok::RParen | Tok::RBracket | Tok::RBrace => depth = depth.saturating_sub(1),
            Tok::Kw(Kw::Else) => elses += 1,
            _ => {}
        }
        if matches!(t.tok, Tok::LBrace | Tok::RBrace) {
            elses = 0;
        }
        if matches!(t.tok, Tok::Semi | Tok::LBrace | Tok::RBrace) {
            operators = 0;
        } else if !matches!(
            t.tok,
            Tok::Ident
                | Tok::ParamKey
                | Tok::Str
                | Tok::Int
                | Tok::Ipv4
                | Tok::Ipv6
                | Tok::IpNet
                | Tok::Var(_)
                | Tok::Select
                | Tok::Comma
                | Tok::RParen
                | Tok::RBracket
        ) {
            operators += 1;
        }
        if depth.max(elses) > MAX_NESTING || operators > MAX_OPERATORS {
            let what = if depth.max(elses) > MAX_NESTING {
                format!("nesting deeper than {MAX_NESTING} levels")
            } else {
                format!("a statement with more than {MAX_OPERATORS} operators")
            };
            return Some(
                Diagnostic::error(codes::TOO_DEEP, format!("{what}: the file is not parsed"))
                    .primary(ctx.site(i), "the limit is reached here"),
            );
        }
    }
    None
}

/// Adds "from the value of `NAME`" labels when the tokens at or just before
/// the error came from a define, so the reader sees the text that was parsed.
fn with_expansion_labels(ctx: &Ctx, at: usize, mut d: Diagnostic) -> Diagnostic {
    let mut seen = Vec::new();
    for i in [at.checked_sub(1), Some(at)].into_iter().flatten() {
        if i >= ctx.pp.tokens.len() {
            continue;
        }
        for e in ctx.pp.expansion_chain(i) {
            if !seen.contains(&e.name) && e.body != Span::default() {
                seen.push(e.name.clone());
                d = d.secondary(e.body, format!("from the value of `{}`", e.name));
            }
        }
    }
    d
}

fn syntax_diagnostic(ctx: &Ctx, e: &ParseError<usize, Tok, ()>) -> Diagnostic {
    let at = match e {
        ParseError::UnrecognizedToken { token, .. } | ParseError::ExtraToken { token } => token.0,
        ParseError::UnrecognizedEof { location, .. } | ParseError::InvalidToken { location } => {
            *location
        }
        ParseError::User { .. } => 0,
    };
    with_expansion_labels(ctx, at, bare_syntax_diagnostic(ctx, e))
}

fn bare_syntax_diagnostic(ctx: &Ctx, e: &ParseError<usize, Tok, ()>) -> Diagnostic {
    match e {
        ParseError::UnrecognizedToken {
            token: (i, _, _),
            expected,
        } => {
            let mut i = *i;
            let wants_semi = expected.iter().any(|x| x == "\";\"");
            // `route[X]` inside a block fails at the `[`: report it at `route`.
            if ctx.pp.tokens[i].tok == Tok::LBracket
                && i > 0
                && ctx.pp.tokens[i - 1].tok == Tok::Kw(Kw::Route)
            {
                i -= 1;
            }
            let site = ctx.site(i);
            let tok = ctx.pp.tokens[i].tok;
            if let Some(close) = closing_char(tok) {
                if !expected.iter().any(|x| x.trim_matches('"') == close) && unmatched_close(ctx, i)
                {
                    let open = match close {
                        "}" => "{",
                        ")" => "(",
                        _ => "[",
                    };
                    return Diagnostic::error(
                        codes::SYNTAX,
                        format!("`{close}` without a matching `{open}`"),
                    )
                    .primary(site, format!("nothing to close here: no `{open}` is open"));
                }
            }
            if let Tok::Kw(kw) = tok {
                let is_call =
                    kw == Kw::Route && ctx.pp.tokens.get(i + 1).map(|t| t.tok) == Some(Tok::LParen);
                if starts_top_level(kw) && !is_call {
                    if let Some(b) = unclosed_brace(ctx, i) {
                        return Diagnostic::error(
                            codes::SYNTAX,
                            format!("`{}` starts inside another block", ctx.text(i)),
                        )
                        .primary(site, "a top-level statement cannot appear here")
                        .secondary(ctx.site(b), "this `{` is still open: a `}` is missing after it")
                        .note("count the braces of the block above; Kamailio reports a syntax error here too");
                    }
                }
            }
            if wants_semi {
                if let Some(prev) = what_precedes(ctx, i) {
                    let p = ctx.site(i - 1);
                    let at = Span { start: p.end, ..p };
                    return Diagnostic::error(codes::SYNTAX, format!("expected `;` after {prev}"))
                        .primary(at, "add `;` here")
                        .secondary(site, format!("found {} instead", token_desc(ctx, i)));
                }
            }
            let expects_value = expected.iter().any(|x| x == "\"number\"")
                && expected.iter().any(|x| x == "\"variable\"");
            if expects_value && !expected.iter().any(|x| x == "\";\"") {
                return Diagnostic::error(
                    codes::SYNTAX,
                    format!("expected an expression, found {}", token_desc(ctx, i)),
                )
                .primary(
                    site,
                    "an expression (a value, variable or call) must come here",
                );
            }
            let mut names: Vec<String> = expected.iter().map(|x| describe_expected(x)).collect();
            names.sort();
            names.dedup();
            if let [only] = names.as_slice() {
                return Diagnostic::error(
                    codes::SYNTAX,
                    format!("expected {only}, found {}", token_desc(ctx, i)),
                )
                .primary(site, format!("expected {only} here"));
            }
            let mut d =
                Diagnostic::error(codes::SYNTAX, format!("unexpected {}", token_desc(ctx, i)))
                    .primary(site, "not expected here");
            if !names.is_empty() {
                let list = if names.len() > 10 {
                    format!(
                        "{} or another of {} possible tokens",
                        names[..6].join(", "),
                        names.len() - 6
                    )
                } else {
                    names.join(", ")
                };
                d = d.note(format!("expected one of: {list}"));
            }
            d
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let site = ctx.site(*location);
            let mut d = Diagnostic::error(codes::UNEXPECTED_EOF, "unexpected end of file")
                .primary(site, "the config ends here");
            if let Some(b) = unclosed_brace(ctx, ctx.pp.tokens.len()) {
                d = d.secondary(ctx.site(b), "this `{` is never closed");
            } else if !expected.is_empty() {
                let names: Vec<String> = expected.iter().map(|x| describe_expected(x)).collect();
                d = d.note(format!("expected one of: {}", names.join(", ")));
            }
            d
        }
        ParseError::ExtraToken { token: (i, _, _) } => {
            Diagnostic::error(codes::SYNTAX, format!("unexpected {}", token_desc(ctx, *i)))
                .primary(ctx.site(*i), "extra token")
        }
        ParseError::InvalidToken { location } => {
            Diagnostic::error(codes::INVALID_TOKEN, "invalid token")
                .primary(ctx.site(*location), "here")
        }
        ParseError::User { .. } => Diagnostic::error(codes::SYNTAX, "syntax error"),
    }
}
