//! The preprocessor: `#!define`/`#!ifdef`/`#!subst`/`include_file` and
//! define substitution, at token level as Kamailio does it. Its output is
//! the parser's token stream; every token keeps a span into the file a
//! person wrote, and tokens from defines link to their expansion.

mod directive;
mod subst;

pub use directive::{parse as parse_directive, DefineKind, Directive, SubstKind};
pub use subst::{split as split_subst, SubstRule};

use crate::diagnostic::{codes, Diagnostic};
use crate::dialect::{DollarMode, Era};
use crate::lexer::{DollarKind, HashKind, LexState, NumKind, RawTok};
use crate::source::SourceDb;
use crate::span::{FileId, Span};
use crate::token::{Expansion, Kw, Tok, Token};
use logos::Logos;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads included files. The CLI reads the file system; tests and the fuzz
/// target use an in-memory map.
pub trait FileLoader {
    fn load(&self, path: &Path) -> std::io::Result<String>;
}

pub struct FsLoader;

impl FileLoader for FsLoader {
    fn load(&self, path: &Path) -> std::io::Result<String> {
        let bytes = std::fs::read(path)?;
        Ok(String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
    }
}

/// Loads nothing: every include is missing.
pub struct NoFiles;

impl FileLoader for NoFiles {
    fn load(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no file system",
        ))
    }
}

/// Limits that keep any input finite. Kamailio's own are 10 nested includes
/// and 512 defines; expansion has no guard there (a self-referencing define
/// hangs it).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub include_depth: usize,
    pub expansion_depth: usize,
    pub max_tokens: usize,
    pub max_defines: usize,
    pub cond_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            include_depth: 10,
            expansion_depth: 64,
            max_tokens: 1_000_000,
            max_defines: 4096,
            cond_depth: 512,
        }
    }
}

pub struct Options<'a> {
    pub era: Era,
    pub dollar: DollarMode,
    /// `-A NAME[=VALUE]` from the command line, in order.
    pub cli_defines: &'a [String],
    pub loader: &'a dyn FileLoader,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Directory relative include names are tried against first (Kamailio
    /// uses its working directory), before the including file's directory.
    pub cwd: Option<PathBuf>,
    pub limits: Limits,
}

/// The preprocessed token stream and what the preprocessor learned.
#[derive(Debug, Default)]
pub struct Output {
    pub tokens: Vec<Token>,
    pub owned: Vec<Box<str>>,
    pub expansions: Vec<Expansion>,
    /// Every name tested by `#!ifdef`/`#!ifndef`, active region or not.
    pub tested_names: BTreeSet<String>,
    /// The mode header lines seen, with their spans.
    pub mode_headers: Vec<(DollarMode, Span)>,
}

impl Output {
    /// The text of token `i` (source slice, or the rewritten text).
    pub fn text<'a>(&'a self, db: &'a SourceDb, i: usize) -> &'a str {
        let t = &self.tokens[i];
        if t.owned > 0 {
            &self.owned[t.owned as usize - 1]
        } else {
            db.slice(t.span)
        }
    }

    /// The span to show a person for token `i`: for a token that came from
    /// a define, where the outermost define name was written.
    pub fn site(&self, i: usize) -> Span {
        let t = &self.tokens[i];
        self.outer_site(t.expansion).unwrap_or(t.span)
    }

    fn outer_site(&self, mut exp: u32) -> Option<Span> {
        let mut site = None;
        let mut guard = 0;
        while exp > 0 && guard < 256 {
            let e = &self.expansions[exp as usize - 1];
            site = Some(e.use_site);
            exp = e.parent;
            guard += 1;
        }
        site
    }

    /// The define names token `i` was expanded through, outermost first,
    /// with each define's body span.
    pub fn expansion_chain(&self, i: usize) -> Vec<&Expansion> {
        let mut chain = Vec::new();
        let mut exp = self.tokens[i].expansion;
        while exp > 0 && chain.len() < 256 {
            let e = &self.expansions[exp as usize - 1];
            chain.push(e);
            exp = e.parent;
        }
        chain.reverse();
        chain
    }
}

#[derive(Clone, Debug)]
enum Body {
    Empty,
    /// Text in a file (a define value, a `-A` value, a `#!substdef` value).
    Source(Span),
    /// Text no file holds (from the environment, a quoted `#!substdefs`
    /// value); its tokens are shown at `anchor`.
    Owned {
        text: Arc<str>,
        anchor: Span,
    },
}

#[derive(Clone, Debug)]
struct Define {
    body: Body,
    /// The name in the defining directive.
    site: Span,
}

#[derive(Clone, Debug)]
struct Cond {
    /// Whether lines are active here.
    active: bool,
    /// Whether the enclosing region is active.
    parent_active: bool,
    else_seen: bool,
    site: Span,
}

enum Pending {
    None,
    Include { import: bool, site: Span },
    LoadModule,
}

struct Pp<'a> {
    db: &'a mut SourceDb,
    opts: &'a Options<'a>,
    diags: &'a mut Vec<Diagnostic>,
    out: Output,
    defines: HashMap<String, Define>,
    conds: Vec<Cond>,
    substs: Vec<SubstRule>,
    include_stack: Vec<(FileId, PathBuf)>,
    expanding: Vec<String>,
    state: LexState,
    pending: Pending,
    overflowed: bool,
    /// The current outermost define expansion ran away (already reported).
    poisoned: bool,
    /// `#!else`/`#!endif` lines lost to trailing text, to explain what
    /// they unbalance.
    lost: Vec<Span>,
}

/// Preprocesses `root` (already in `db`), reading includes through the loader.
pub fn preprocess(
    db: &mut SourceDb,
    root: FileId,
    root_path: &Path,
    opts: &Options,
    diags: &mut Vec<Diagnostic>,
) -> Output {
    let mut pp = Pp {
        db,
        opts,
        diags,
        out: Output::default(),
        defines: HashMap::new(),
        conds: Vec::new(),
        substs: Vec::new(),
        include_stack: Vec::new(),
        expanding: Vec::new(),
        state: LexState {
            era: opts.era,
            dollar: opts.dollar,
        },
        pending: Pending::None,
        overflowed: false,
        poisoned: false,
        lost: Vec::new(),
    };
    // About one token per five bytes of config: avoid regrowing the stream.
    pp.out.tokens.reserve(pp.db.text(root).len() / 5);
    pp.predefine();
    pp.cli_defines();
    pp.include_stack.push((root, root_path.to_path_buf()));
    pp.run_file(root);
    pp.include_stack.pop();
    pp.finish_pending();
    for c in std::mem::take(&mut pp.conds) {
        let d = pp.unbalanced(
            codes::UNCLOSED_IFDEF,
            "this conditional is never closed with `#!endif`",
        );
        let mut d = d.primary(c.site, "opened here");
        for lost in pp
            .lost
            .iter()
            .filter(|l| l.file != c.site.file || l.start > c.site.start)
        {
            d = d.secondary(*lost, "this line is a comment, not an `#!endif`/`#!else`");
        }
        pp.diags.push(d);
    }
    pp.out
}

fn is_ident_text(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

impl<'a> Pp<'a> {
    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.active)
    }

    /// Unbalanced conditionals: Kamailio 3.x–5.3 warn and go on; 5.4 and
    /// later refuse to start. Reported at the severity of the file's era.
    fn unbalanced(&self, code: &'static str, message: &str) -> Diagnostic {
        let note = if code == codes::UNCLOSED_IFDEF {
            "Kamailio 3.x to 5.3 warn at the end of the file; 5.4 and later refuse to start: \"different number of preprocessor directives\""
        } else {
            "Kamailio 3.x to 5.3 warn and ignore the directive; 5.4 and later refuse to start: \"different number of preprocessor directives\""
        };
        match self.opts.era {
            Era::Kamailio3 | Era::Kamailio4 => Diagnostic::warning(code, message).note(note),
            _ => Diagnostic::error(code, message).note(note),
        }
    }

    /// Names the Kamailio binary of the era defines before reading (5.2+:
    /// `KAMAILIO_X[_Y[_Z]]`; 5.7+: `KAMAILIO_VERSION`, `OS_NAME`). Kamailio
    /// 5.x is taken as 5.6.3, the reference binary; 6.x as 6.0.0.
    fn predefine(&mut self) {
        let (version, number): (&[&str], Option<&str>) = match self.opts.era {
            Era::Kamailio5 => (&["KAMAILIO_5", "KAMAILIO_5_6", "KAMAILIO_5_6_3"], None),
            Era::Kamailio6 => (
                &["KAMAILIO_6", "KAMAILIO_6_0", "KAMAILIO_6_0_0"],
                Some("6000000"),
            ),
            _ => return,
        };
        for name in version {
            self.defines.insert(
                name.to_string(),
                Define {
                    body: Body::Empty,
                    site: Span::default(),
                },
            );
        }
        if let Some(n) = number {
            for (name, value) in [("KAMAILIO_VERSION", n), ("OS_NAME", "\"linux\"")] {
                self.defines.insert(
                    name.to_string(),
                    Define {
                        body: Body::Owned {
                            text: value.into(),
                            anchor: Span::default(),
                        },
                        site: Span::default(),
                    },
                );
            }
        }
    }

    fn cli_defines(&mut self) {
        if self.opts.cli_defines.is_empty() {
            return;
        }
        let text: String = self
            .opts
            .cli_defines
            .iter()
            .map(|d| format!("-A {d}\n"))
            .collect();
        let file = self.db.add("<command line>", text.clone(), None);
        let mut pos = 0;
        for line in text.lines() {
            let def = &line[3..];
            let start = pos + 3;
            pos += line.len() + 1;
            let (name, value) = match def.find('=') {
                Some(eq) => (&def[..eq], Some(start + eq + 1..start + def.len())),
                None => (def, None),
            };
            let site = Span::new(file, start, start + name.len());
            if !is_ident_text(name) {
                self.diags.push(
                    Diagnostic::error(
                        codes::BAD_DIRECTIVE,
                        format!("`-A {def}`: `{name}` is not a valid define name"),
                    )
                    .primary(site, "expected a name made of letters, digits and `_`"),
                );
                continue;
            }
            let body = match value {
                Some(r) if !r.is_empty() => Body::Source(Span::new(file, r.start, r.end)),
                _ => Body::Empty,
            };
            self.defines.insert(name.to_string(), Define { body, site });
        }
    }

    fn run_file(&mut self, file: FileId) {
        let text = self.db.text_arc(file);
        let mut lex = RawTok::lexer_with_extras(&text, self.state);
        let mut lead: Option<u32> = None;
        while let Some(res) = lex.next() {
            let range = lex.span();
            let span = Span::new(file, range.start, range.end);
            let raw = match res {
                Ok(raw) => raw,
                Err(()) => {
                    if self.active() {
                        self.diags.push(
                            Diagnostic::error(
                                codes::INVALID_TOKEN,
                                format!(
                                    "unexpected character {}",
                                    describe_char(&text[range.clone()])
                                ),
                            )
                            .primary(span, "not part of any token of the config language"),
                        );
                    }
                    continue;
                }
            };
            match raw {
                RawTok::Hash(HashKind::Directive) | RawTok::BangBang(true) => {
                    self.directive(span, &text[range]);
                    // A mode header or an include may have changed the lexing state.
                    lex.extras = self.state;
                    lead = None;
                    if !self.active() {
                        skip_inactive(&mut lex);
                    }
                    continue;
                }
                RawTok::Hash(HashKind::Mode(m)) | RawTok::SlashComment(HashKind::Mode(m)) => {
                    if self.active() {
                        self.state.dollar = m;
                        lex.extras = self.state;
                        self.out.mode_headers.push((m, span));
                    }
                    continue;
                }
                RawTok::Hash(HashKind::LostDirective) => {
                    // Reported even in an inactive region: that is where a
                    // lost `#!endif` does its damage.
                    self.diags.push(
                        Diagnostic::warning(codes::LOST_DIRECTIVE, "text after this directive turns the whole line into a comment")
                            .primary(span, "Kamailio ignores this line")
                            .note("`#!else` and `#!endif` must be alone on their line; move the comment to the line above"),
                    );
                    self.lost.push(span);
                    lead.get_or_insert(span.start);
                    continue;
                }
                _ if !self.active() => continue,
                RawTok::BlockComment(false) => {
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNTERMINATED_COMMENT,
                            "block comment is not closed",
                        )
                        .primary(
                            Span::new(file, range.start, range.start + 2),
                            "opened here; `*/` never follows (block comments nest)",
                        ),
                    );
                    continue;
                }
                t if t.is_trivia() => {
                    lead.get_or_insert(span.start);
                    continue;
                }
                RawTok::BangBang(false) => {
                    // `!!name` where name is no directive: two negations and a name.
                    let l = lead.take().unwrap_or(span.start);
                    self.push(
                        Tok::Bang,
                        Span::new(file, range.start, range.start + 1),
                        l,
                        0,
                        None,
                    );
                    self.push(
                        Tok::Bang,
                        Span::new(file, range.start + 1, range.start + 2),
                        range.start as u32 + 1,
                        0,
                        None,
                    );
                    let word = Span::new(file, range.start + 2, range.end);
                    self.token(
                        RawTok::Ident,
                        word,
                        word.start,
                        0,
                        &text[range.start + 2..range.end],
                    );
                }
                raw => {
                    let l = lead.take().unwrap_or(span.start);
                    self.token(raw, span, l, 0, &text[range]);
                }
            }
            if self.overflowed {
                return;
            }
        }
    }

    fn push(&mut self, tok: Tok, span: Span, lead: u32, expansion: u32, owned: Option<String>) {
        if self.out.tokens.len() >= self.opts.limits.max_tokens {
            if !self.overflowed {
                self.overflowed = true;
                self.diags.push(
                    Diagnostic::error(
                        codes::EXPANSION_LIMIT,
                        format!(
                            "the config expands to more than {} tokens",
                            self.opts.limits.max_tokens
                        ),
                    )
                    .primary(span, "stopped reading here"),
                );
            }
            return;
        }
        let owned = match owned {
            Some(s) => {
                self.out.owned.push(s.into_boxed_str());
                self.out.owned.len() as u32
            }
            None => 0,
        };
        self.out.tokens.push(Token {
            tok,
            span,
            lead,
            expansion,
            owned,
        });
    }

    /// The span to report for a token at `span` inside expansion `exp`.
    fn report_site(&self, span: Span, exp: u32) -> Span {
        self.out.outer_site(exp).unwrap_or(span)
    }

    /// Handles one significant token of an active region.
    fn token(&mut self, raw: RawTok, span: Span, lead: u32, exp: u32, text: &str) {
        let tok = match raw {
            RawTok::Ident => match Kw::from_word(text) {
                Some(Kw::LoadModule) | Some(Kw::LoadModuleX) => {
                    self.finish_pending();
                    self.pending = Pending::LoadModule;
                    Tok::Kw(Kw::from_word(text).unwrap())
                }
                Some(kw) => Tok::Kw(kw),
                None => {
                    if text == "include_file" || text == "import_file" {
                        self.finish_pending();
                        self.pending = Pending::Include {
                            import: text == "import_file",
                            site: self.report_site(span, exp),
                        };
                        return;
                    }
                    if self.defines.contains_key(text) {
                        self.finish_pending();
                        self.expand(text, span, exp);
                        return;
                    }
                    Tok::Ident
                }
            },
            RawTok::ColonWord => Tok::Ident,
            RawTok::DqString(closed) | RawTok::SqString(closed) => {
                if !closed {
                    self.diags.push(
                        Diagnostic::error(codes::UNTERMINATED_STRING, "string is not closed")
                            .primary(
                                Span::new(span.file, span.start as usize, span.start as usize + 1),
                                "opened here; the closing quote never follows",
                            ),
                    );
                }
                if let Pending::Include { import, site } =
                    std::mem::replace(&mut self.pending, Pending::None)
                {
                    let name = self.substituted(text).unwrap_or_else(|| text.to_string());
                    self.include(
                        &crate::strings::decode(&name),
                        import,
                        site.to(self.report_site(span, exp)),
                    );
                    return;
                }
                if let Pending::LoadModule = self.pending {
                    self.pending = Pending::None;
                    self.define_module(&crate::strings::decode(text));
                }
                let owned = self.substituted(text);
                self.push(Tok::Str, span, lead, exp, owned);
                return;
            }
            RawTok::Number(NumKind::Decimal) | RawTok::Hex | RawTok::Binary => Tok::Int,
            RawTok::Number(NumKind::Ipv4) => Tok::Ipv4,
            RawTok::Number(NumKind::IpNet) => Tok::IpNet,
            RawTok::Ipv6 => Tok::Ipv6,
            RawTok::Dollar(DollarKind::Lone) => {
                self.diags.push(
                    Diagnostic::error(codes::INVALID_TOKEN, "`$` does not start a variable here")
                        .primary(
                            self.report_site(span, exp),
                            "expected a name or `(` after `$`",
                        ),
                );
                return;
            }
            RawTok::Dollar(k) => Tok::Var(k),
            RawTok::Percent(true) => Tok::Var(DollarKind::SerAvp),
            RawTok::Percent(false) => Tok::Percent,
            RawTok::Select(true) => Tok::Select,
            RawTok::Select(false) => {
                self.diags.push(
                    Diagnostic::error(codes::INVALID_TOKEN, "`@` does not start a select here")
                        .primary(self.report_site(span, exp), "expected a name after `@`"),
                );
                return;
            }
            RawTok::CastInt => Tok::CastInt,
            RawTok::CastStr => Tok::CastStr,
            RawTok::Semi => Tok::Semi,
            RawTok::Comma => Tok::Comma,
            RawTok::Colon => Tok::Colon,
            RawTok::Dot => Tok::Dot,
            RawTok::LParen => Tok::LParen,
            RawTok::RParen => Tok::RParen,
            RawTok::LBrace => Tok::LBrace,
            RawTok::RBrace => Tok::RBrace,
            RawTok::LBracket(false) => Tok::LBracket,
            RawTok::LBracket(true) => Tok::Ipv6,
            RawTok::RBracket => Tok::RBracket,
            RawTok::Slash => Tok::Slash,
            RawTok::Star => Tok::Star,
            RawTok::Plus => Tok::Plus,
            RawTok::Minus => Tok::Minus,
            RawTok::Assign => Tok::Assign,
            RawTok::Eq => Tok::Eq,
            RawTok::Ne => Tok::Ne,
            RawTok::Match => Tok::Match,
            RawTok::NotMatch => Tok::NotMatch,
            RawTok::Lt => Tok::Lt,
            RawTok::Gt => Tok::Gt,
            RawTok::Le => Tok::Le,
            RawTok::Ge => Tok::Ge,
            RawTok::AndAnd => Tok::AndAnd,
            RawTok::OrOr => Tok::OrOr,
            RawTok::Bang => Tok::Bang,
            RawTok::Amp => Tok::Amp,
            RawTok::Pipe => Tok::Pipe,
            RawTok::Caret => Tok::Caret,
            RawTok::Tilde => Tok::Tilde,
            RawTok::Shl => Tok::Shl,
            RawTok::Shr => Tok::Shr,
            RawTok::ColonAssign
            | RawTok::PlusAssign
            | RawTok::MinusAssign
            | RawTok::StarAssign
            | RawTok::SlashAssign
            | RawTok::PercentAssign
            | RawTok::AmpAssign
            | RawTok::PipeAssign
            | RawTok::CaretAssign => Tok::OpAssign,
            // Trivia and directives never reach here.
            RawTok::Blank
            | RawTok::Newline
            | RawTok::LineJoin
            | RawTok::Hash(_)
            | RawTok::SlashComment(_)
            | RawTok::BlockComment(_)
            | RawTok::BangBang(_) => return,
        };
        self.finish_pending();
        // Tokens of a define body that is not in a file carry their text.
        let owned = (span.len() != text.len() || exp > 0 && self.db.slice(span) != text)
            .then(|| text.to_string());
        self.push(tok, span, lead, exp, owned);
    }

    /// An `include_file` not followed by a string, or a `loadmodule` at end.
    fn finish_pending(&mut self) {
        if let Pending::Include { site, .. } = std::mem::replace(&mut self.pending, Pending::None) {
            self.diags.push(
                Diagnostic::error(
                    codes::INCLUDE_NAME,
                    "included file name must be between double quotes",
                )
                .primary(site, "expected a quoted file name after this"),
            );
        }
    }

    /// `loadmodule "…/name.so"` defines `MOD_name` (Kamailio 4.1+).
    fn define_module(&mut self, path: &str) {
        let base = path.rsplit('/').next().unwrap_or(path);
        let name = base.strip_suffix(".so").unwrap_or(base);
        if is_ident_text(name) {
            let key = format!("MOD_{name}");
            self.defines.entry(key).or_insert(Define {
                body: Body::Empty,
                site: Span::default(),
            });
        }
    }

    /// The string token's text after the `#!subst` rules, if any changed it.
    fn substituted(&self, text: &str) -> Option<String> {
        if self.substs.is_empty() || text.len() < 2 {
            return None;
        }
        let (open, inner) = text.split_at(1);
        let (inner, close) = if inner.ends_with(open) {
            inner.split_at(inner.len() - 1)
        } else {
            (inner, "")
        };
        let mut cur: Option<String> = None;
        for rule in &self.substs {
            if let Some(next) = rule.apply(cur.as_deref().unwrap_or(inner)) {
                cur = Some(next);
            }
        }
        cur.map(|c| format!("{open}{c}{close}"))
    }

    fn expand(&mut self, name: &str, span: Span, parent: u32) {
        if self.poisoned {
            return;
        }
        let site = self.report_site(span, parent);
        if let Some(pos) = self.expanding.iter().position(|n| n == name) {
            let through: Vec<&str> = self.expanding[pos + 1..]
                .iter()
                .map(|s| s.as_str())
                .collect();
            let mut cycle: Vec<&str> = self.expanding[pos..].iter().map(|s| s.as_str()).collect();
            cycle.push(name);
            let message = if through.is_empty() {
                format!("define `{name}` expands to itself")
            } else {
                format!(
                    "define `{name}` expands to itself through `{}`",
                    through.join("`, `")
                )
            };
            let mut d = Diagnostic::error(codes::RECURSIVE_DEFINE, message)
                .primary(
                    span,
                    format!("`{name}` is used again inside its own expansion"),
                )
                .note(format!("expansion cycle: {}", cycle.join(" → ")))
                .note("Kamailio has no guard against this and hangs while reading the config");
            if site != span {
                d = d.secondary(site, "the expansion starts here");
            }
            self.diags.push(d);
            self.poisoned = true;
            return;
        }
        if self.expanding.len() >= self.opts.limits.expansion_depth {
            let depth = self.opts.limits.expansion_depth;
            self.expansion_limit(site, format!("defines nest deeper than {depth} levels"));
            return;
        }
        if self.expanding.is_empty() {
            self.expand_outermost(name, span);
            return;
        }
        self.expand_body(name, span, parent);
    }

    /// Reports a runaway expansion once and stops the outermost one.
    fn expansion_limit(&mut self, site: Span, message: String) {
        self.diags.push(
            Diagnostic::error(codes::EXPANSION_LIMIT, message)
                .primary(site, "while expanding this"),
        );
        self.poisoned = true;
    }

    /// Expands a name written in a file. When the expansion runs away
    /// (recursion, nesting limit), everything it produced is replaced by the
    /// name itself, so that the parser sees one plain name there instead of
    /// a broken fragment (one error, no cascade).
    fn expand_outermost(&mut self, name: &str, span: Span) {
        let start = self.out.tokens.len();
        self.expand_body(name, span, 0);
        if self.poisoned {
            self.poisoned = false;
            self.out.tokens.truncate(start);
            self.push(Tok::Ident, span, span.start, 0, Some(name.to_string()));
        }
    }

    fn expand_body(&mut self, name: &str, span: Span, parent: u32) {
        let site = self.report_site(span, parent);
        if self.out.expansions.len() >= self.opts.limits.max_tokens {
            if !self.overflowed {
                self.overflowed = true;
                let most = self.opts.limits.max_tokens;
                self.expansion_limit(site, format!("defines are expanded more than {most} times"));
            }
            self.poisoned = true;
            return;
        }
        let def = self.defines[name].clone();
        let (text, base, anchor) = match &def.body {
            Body::Empty => return,
            Body::Source(s) => (self.db.text_arc(s.file), Some(*s), *s),
            Body::Owned { text, anchor } => (text.clone(), None, *anchor),
        };
        self.out.expansions.push(Expansion {
            name: name.to_string(),
            use_site: span,
            body: anchor,
            parent,
        });
        let exp = self.out.expansions.len() as u32;
        let body_text: &str = match base {
            Some(s) => &text[s.range()],
            None => &text,
        };
        let offset = base.map_or(0, |s| s.start as usize);
        self.expanding.push(name.to_string());
        let mut lex = RawTok::lexer_with_extras(body_text, self.state);
        while let Some(res) = lex.next() {
            let r = lex.span();
            let tspan = match base {
                Some(s) => Span::new(s.file, offset + r.start, offset + r.end),
                None => anchor,
            };
            match res {
                Ok(raw) if raw.is_trivia() || matches!(raw, RawTok::Hash(_)) => {}
                Ok(RawTok::BangBang(_)) => {}
                Ok(raw) => {
                    let t = &body_text[r.clone()];
                    self.token(raw, tspan, tspan.start, exp, t);
                }
                Err(()) => self.diags.push(
                    Diagnostic::error(
                        codes::INVALID_TOKEN,
                        format!(
                            "unexpected character {} in the value of `{name}`",
                            describe_char(&body_text[r])
                        ),
                    )
                    .primary(site, "expanded here")
                    .secondary(tspan, "in this define"),
                ),
            }
            if self.overflowed || self.poisoned {
                break;
            }
        }
        self.expanding.pop();
    }

    fn directive(&mut self, span: Span, text: &str) {
        let d = match parse_directive(text) {
            Ok(d) => d,
            Err((r, msg)) => {
                if self.active() {
                    let at = Span::new(
                        span.file,
                        span.start as usize + r.start,
                        span.start as usize + r.end.max(r.start),
                    );
                    self.diags.push(
                        Diagnostic::error(codes::BAD_DIRECTIVE, msg.clone()).primary(at, msg),
                    );
                }
                return;
            }
        };
        let sub = |r: &std::ops::Range<usize>| {
            Span::new(
                span.file,
                span.start as usize + r.start,
                span.start as usize + r.end,
            )
        };
        let word = |r: &std::ops::Range<usize>| text[r.clone()].to_string();
        match d {
            Directive::IfDef { negate, name } => {
                let n = word(&name);
                self.out.tested_names.insert(n.clone());
                let parent_active = self.active();
                if self.conds.len() >= self.opts.limits.cond_depth {
                    self.diags.push(
                        Diagnostic::error(codes::EXPANSION_LIMIT, "conditionals nest too deep")
                            .primary(span, "at this `#!ifdef`"),
                    );
                }
                let defined = self.defines.contains_key(&n);
                self.conds.push(Cond {
                    active: parent_active && (defined != negate),
                    parent_active,
                    else_seen: false,
                    site: span,
                });
            }
            Directive::IfExp { expr } => {
                let parent_active = self.active();
                let value = if parent_active {
                    match crate::ppexpr::eval(&text[expr.clone()], &|n| self.define_text(n)) {
                        Ok(v) => v.truthy(),
                        Err(msg) => {
                            self.diags.push(
                                Diagnostic::error(codes::BAD_EXPRESSION, msg)
                                    .primary(sub(&expr), "in this expression"),
                            );
                            false
                        }
                    }
                } else {
                    false
                };
                self.conds.push(Cond {
                    active: parent_active && value,
                    parent_active,
                    else_seen: false,
                    site: span,
                });
            }
            Directive::Else => match self.conds.last_mut() {
                Some(c) if !c.else_seen => {
                    c.else_seen = true;
                    c.active = c.parent_active && !c.active;
                }
                Some(c) => {
                    let first = c.site;
                    self.diags.push(
                        Diagnostic::error(
                            codes::UNBALANCED_ELSE_ENDIF,
                            "a second `#!else` for the same conditional",
                        )
                        .primary(span, "second `#!else`")
                        .secondary(first, "conditional opened here"),
                    );
                }
                None => {
                    let d = self.unbalanced(
                        codes::UNBALANCED_ELSE_ENDIF,
                        "`#!else` without an open `#!ifdef`/`#!ifndef`",
                    );
                    self.diags.push(d.primary(span, "nothing to toggle here"));
                }
            },
            Directive::Endif => {
                if self.conds.pop().is_none() {
                    let d = self.unbalanced(
                        codes::UNBALANCED_ELSE_ENDIF,
                        "`#!endif` without an open `#!ifdef`/`#!ifndef`",
                    );
                    self.diags.push(d.primary(span, "nothing to close here"));
                }
            }
            _ if !self.active() => {}
            Directive::Define { kind, name, value } => {
                let n = word(&name);
                let body = value.map_or(Body::Empty, |v| Body::Source(sub(&v)));
                self.define(n, kind, body, sub(&name));
            }
            Directive::Undef { try_only, name } => {
                let n = word(&name);
                if self.defines.remove(&n).is_none() && !try_only {
                    self.diags.push(
                        Diagnostic::error(codes::UNDEFINED_UNDEF, format!("`{n}` is not defined"))
                            .primary(sub(&name), "cannot undefine it"),
                    );
                }
            }
            Directive::Subst { kind, arg } => self.subst(kind, sub(&arg), &text[arg]),
            Directive::DefEnv {
                quoted,
                try_only,
                id,
                var,
            } => {
                let v = word(&var);
                match (self.opts.env)(&v) {
                    Some(value) => {
                        let value = if quoted {
                            format!("\"{value}\"")
                        } else {
                            value
                        };
                        let body = Body::Owned {
                            text: value.into(),
                            anchor: sub(&var),
                        };
                        self.define(word(&id), DefineKind::Define, body, sub(&id));
                    }
                    None if try_only => {}
                    None => self.diags.push(
                        Diagnostic::error(
                            codes::MISSING_ENV,
                            format!("environment variable `{v}` is not set"),
                        )
                        .primary(sub(&var), "needed by this directive")
                        .note("use `#!trydefenv` to skip it when unset"),
                    ),
                }
            }
            Directive::DefExp { quoted, name, expr } => {
                match crate::ppexpr::eval(&text[expr.clone()], &|n| self.define_text(n)) {
                    Ok(v) => {
                        let value = v.to_define_value(quoted);
                        let body = Body::Owned {
                            text: value.into(),
                            anchor: sub(&expr),
                        };
                        self.define(word(&name), DefineKind::Define, body, sub(&name));
                    }
                    Err(msg) => self.diags.push(
                        Diagnostic::error(codes::BAD_EXPRESSION, msg)
                            .primary(sub(&expr), "in this expression"),
                    ),
                }
            }
            Directive::Include { import, arg } => {
                let raw = &text[arg.clone()];
                if !raw.starts_with('"') || raw.len() < 2 || !raw.ends_with('"') {
                    self.diags.push(
                        Diagnostic::error(
                            codes::INCLUDE_NAME,
                            "included file name must be between double quotes",
                        )
                        .primary(sub(&arg), "expected \"file name\""),
                    );
                    return;
                }
                let name = self.substituted(raw).unwrap_or_else(|| raw.to_string());
                self.include(&crate::strings::decode(&name), import, span);
            }
        }
    }

    /// The raw value of a define, for `#!ifexp`/`#!defexp`.
    fn define_text(&self, name: &str) -> Option<String> {
        self.defines.get(name).map(|d| match &d.body {
            Body::Empty => String::new(),
            Body::Source(s) => self.db.slice(*s).to_string(),
            Body::Owned { text, .. } => text.to_string(),
        })
    }

    fn define(&mut self, name: String, kind: DefineKind, body: Body, site: Span) {
        if let Some(prev) = self.defines.get(&name) {
            match kind {
                DefineKind::TryDef => return,
                DefineKind::Redef => {}
                DefineKind::Define => {
                    let mut d = Diagnostic::error(codes::ALREADY_DEFINED, format!("`{name}` is already defined"))
                        .primary(site, "defined again here")
                        .note("use `#!redefine` to replace the value, or `#!trydef` to keep the first one");
                    if prev.site != Span::default() {
                        d = d.secondary(prev.site, "first defined here");
                    }
                    self.diags.push(d);
                    return;
                }
            }
        }
        if self.defines.len() >= self.opts.limits.max_defines {
            self.diags.push(
                Diagnostic::error(codes::EXPANSION_LIMIT, "too many defines")
                    .primary(site, "one too many"),
            );
            return;
        }
        self.defines.insert(name, Define { body, site });
    }

    fn subst(&mut self, kind: SubstKind, arg_span: Span, arg: &str) {
        let expr = crate::strings::decode(arg);
        let rule = split_subst(&expr).and_then(|parts| SubstRule::new(&parts).map(|r| (r, parts)));
        match rule {
            Ok((rule, parts)) => {
                self.substs.push(rule);
                if kind != SubstKind::Subst {
                    if !is_ident_text(&parts.regex) {
                        self.diags.push(
                            Diagnostic::error(
                                codes::BAD_SUBST,
                                format!("`{}` is not a name that can be defined", parts.regex),
                            )
                            .primary(arg_span, "the pattern of #!substdef must be a plain name"),
                        );
                        return;
                    }
                    let value = if kind == SubstKind::SubstDefs {
                        format!("\"{}\"", parts.replacement)
                    } else {
                        parts.replacement.clone()
                    };
                    let body = if value.is_empty() {
                        Body::Empty
                    } else {
                        Body::Owned {
                            text: value.into(),
                            anchor: arg_span,
                        }
                    };
                    self.define(parts.regex, DefineKind::Define, body, arg_span);
                }
            }
            Err(msg) => self.diags.push(
                Diagnostic::error(codes::BAD_SUBST, format!("bad substitution: {msg}"))
                    .primary(arg_span, msg),
            ),
        }
    }

    fn include(&mut self, name: &str, import: bool, site: Span) {
        if self.include_stack.len() > self.opts.limits.include_depth {
            self.diags.push(
                Diagnostic::error(
                    codes::INCLUDE_DEPTH,
                    format!(
                        "includes nest deeper than {} files",
                        self.opts.limits.include_depth
                    ),
                )
                .primary(site, "this include is one too deep"),
            );
            return;
        }
        let (_, cur_path) = self
            .include_stack
            .last()
            .cloned()
            .expect("include stack has the root");
        let given = Path::new(name);
        let mut candidates: Vec<PathBuf> = Vec::new();
        let mut keys: Vec<PathBuf> = Vec::new();
        let mut add = |p: PathBuf| {
            // Both tries may name one file (a relative including path is
            // relative to the working directory): try it once.
            let key = match &self.opts.cwd {
                Some(cwd) if p.is_relative() => normalize(&cwd.join(&p)),
                _ => normalize(&p),
            };
            if !keys.contains(&key) {
                keys.push(key);
                candidates.push(normalize(&p));
            }
        };
        if given.is_absolute() {
            add(given.to_path_buf());
        } else {
            if let Some(cwd) = &self.opts.cwd {
                add(cwd.join(given));
            }
            if let Some(dir) = cur_path.parent() {
                add(dir.join(given));
            }
        }
        for cand in &candidates {
            let key = normalize(cand);
            if let Some(pos) = self
                .include_stack
                .iter()
                .position(|(_, p)| normalize(p) == key)
            {
                let cycle: Vec<String> = self.include_stack[pos..]
                    .iter()
                    .map(|(_, p)| p.display().to_string())
                    .chain(std::iter::once(cand.display().to_string()))
                    .collect();
                let current = cur_path.file_name().map_or_else(
                    || cur_path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                self.diags.push(
                    Diagnostic::error(
                        codes::INCLUDE_CYCLE,
                        format!("`{current}` includes `{name}`, which is already being read"),
                    )
                    .primary(site, "this include closes a cycle")
                    .note(format!("include cycle: {}", cycle.join(" → "))),
                );
                return;
            }
            match self.opts.loader.load(cand) {
                Ok(text) => {
                    let id = self.db.add(cand.display().to_string(), text, Some(site));
                    self.include_stack.push((id, cand.clone()));
                    self.run_file(id);
                    self.include_stack.pop();
                    return;
                }
                Err(_) => continue,
            }
        }
        if !import {
            let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            self.diags.push(
                Diagnostic::error(
                    codes::MISSING_INCLUDE,
                    format!("cannot open included file `{name}`"),
                )
                .primary(site, "included here")
                .note(format!("tried: {}", tried.join(", ")))
                .note("use `import_file` for a file that may be absent"),
            );
        }
    }
}

/// A character for a message: quoted, with its code point when it is not
/// plainly visible (a backtick inside backticks would vanish).
fn describe_char(text: &str) -> String {
    match text.chars().next() {
        Some(c) if text.chars().count() == 1 && (c == '`' || c.is_control() || !c.is_ascii()) => {
            format!("'{}' (U+{:04X})", c.escape_debug(), c as u32)
        }
        _ => format!("`{text}`"),
    }
}

/// Moves the lexer to the next line that may hold a directive: an inactive
/// region is not lexed at all (a quote or `/*` there means nothing).
fn skip_inactive(lex: &mut logos::Lexer<RawTok>) {
    let rem = lex.remainder();
    let mut pos = 0;
    // The rest of the directive's own line is already consumed.
    while pos < rem.len() {
        let line_end = rem[pos..].find('\n').map_or(rem.len(), |n| pos + n + 1);
        let line = &rem[pos..line_end];
        let trimmed = line.trim_start_matches([' ', '\t', '\r']);
        if trimmed.starts_with("#!") || trimmed.starts_with("!!") {
            break;
        }
        pos = line_end;
    }
    lex.bump(pos);
}

/// A lexical normalisation of a path (no file-system access), so that
/// `a/./b.cfg` and `a/x/../b.cfg` compare equal in cycle detection.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}
