//! The logos lexer over one file's raw text. It keeps trivia (blanks,
//! newlines, comments) as tokens so that nothing of the file is lost; the
//! preprocessor drops them from the parser's stream but records where they
//! are.

use crate::dialect::{DollarMode, Era};
use logos::{Lexer, Logos};

/// State the lexer consults while scanning: the era and the `$` mode, which a
/// mode header line may change mid-file.
#[derive(Clone, Copy, Debug)]
pub struct LexState {
    pub era: Era,
    pub dollar: DollarMode,
}

impl Default for LexState {
    fn default() -> Self {
        LexState {
            era: Era::Kamailio5,
            dollar: DollarMode::MaxCompat,
        }
    }
}

/// What a `#…` or `!!…` line turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HashKind {
    Comment,
    /// `#!define` & co; the text of the token is the whole directive
    /// including continuation lines.
    Directive,
    /// `#!KAMAILIO`, `#!SER`, ... (also `//!KAMAILIO`).
    Mode(DollarMode),
    /// `#!else`/`#!endif` with trailing text: Kamailio reads the whole line
    /// as a comment, and so do we, but it deserves a warning.
    LostDirective,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NumKind {
    Decimal,
    Ipv4,
    /// `10.0.0.0/8`, `10.0.0.0/255.0.0.0`.
    IpNet,
}

/// How a `$…` token is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DollarKind {
    /// `$name`, `$name(…)`, `$(…)` read as a pseudo-variable.
    Pv,
    /// SER AVP: `$x`, `$f.x`, `$x[1]`, `%x`.
    SerAvp,
    /// Bare `$name` in MAXCOMPAT mode: a registered PV name, else an AVP.
    AvpOrPv,
    /// `$?` / `$rc` / `$retcode`: the last return code.
    RetCode,
    /// A `$` that starts nothing.
    Lone,
}

#[derive(Logos, Clone, Copy, Debug, PartialEq, Eq)]
#[logos(extras = LexState)]
pub enum RawTok {
    #[regex(r"[ \t\r\x0c\x08]+")]
    Blank,
    #[token("\n")]
    Newline,
    /// Backslash-newline outside strings joins lines.
    #[regex(r"\\\r?\n")]
    LineJoin,
    #[regex(r"#[^\n]*", hash_line)]
    Hash(HashKind),
    #[regex(r"//[^\n]*", slash_line)]
    SlashComment(HashKind),
    /// Block comment; `false` when unterminated at end of file.
    #[token("/*", block_comment)]
    BlockComment(bool),
    /// `!!word`: a directive when `word` is one, else `!`, `!`, `word`.
    #[regex(r"!![a-z_]+", bang_line)]
    BangBang(bool),

    /// `"…"`; `false` when unterminated.
    #[token("\"", |lex| quoted(lex, b'"'))]
    DqString(bool),
    #[token("'", |lex| quoted(lex, b'\''))]
    SqString(bool),

    /// Digits; extended by the callback into an IPv4 address or network
    /// when dots follow (IPv4 is one token here, four numbers in Kamailio's
    /// grammar: the result is the same).
    #[regex(r"[0-9]+", number)]
    Number(NumKind),
    #[regex(r"0[xX][0-9a-fA-F]+")]
    Hex,
    #[regex(r"[01]+b")]
    Binary,
    #[regex(r"(([0-9a-fA-F]{1,4}:)+[0-9a-fA-F]{0,4})?::([0-9a-fA-F]{1,4}(:[0-9a-fA-F]{1,4})*)?(:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)?")]
    #[regex(r"([0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}")]
    Ipv6,

    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// `msg:len`, `uri:host`, `uri:port`: single keywords.
    #[token("msg:len")]
    #[token("uri:host")]
    #[token("uri:port")]
    ColonWord,

    #[token("$", dollar)]
    Dollar(DollarKind),
    /// `%`: modulo, or a SER AVP `%name` in eras where `%` marks AVPs.
    #[token("%", percent)]
    Percent(bool),
    #[token("@", select)]
    Select(bool),

    #[token("(int)")]
    CastInt,
    #[token("(str)")]
    CastStr,
    #[token(";")]
    Semi,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    /// `[`; `true` when it opened a bracketed IPv6 address (`[::1]`),
    /// which the token then covers.
    #[token("[", bracketed_ipv6)]
    LBracket(bool),
    #[token("]")]
    RBracket,
    #[token("/")]
    Slash,
    #[token("*")]
    Star,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("=")]
    Assign,
    #[token("==")]
    Eq,
    #[token("!=")]
    Ne,
    #[token("=~")]
    Match,
    #[token("!~")]
    NotMatch,
    #[token("<")]
    Lt,
    #[token(">")]
    Gt,
    #[token("<=")]
    Le,
    #[token(">=")]
    Ge,
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    #[token("!")]
    Bang,
    #[token("&")]
    Amp,
    #[token("|")]
    Pipe,
    #[token("^")]
    Caret,
    #[token("~")]
    Tilde,
    #[token("<<")]
    Shl,
    #[token(">>")]
    Shr,
    #[token(":=")]
    ColonAssign,
    #[token("+=")]
    PlusAssign,
    #[token("-=")]
    MinusAssign,
    #[token("*=")]
    StarAssign,
    #[token("/=")]
    SlashAssign,
    #[token("%=")]
    PercentAssign,
    #[token("&=")]
    AmpAssign,
    #[token("|=")]
    PipeAssign,
    #[token("^=")]
    CaretAssign,
}

const DIRECTIVES: &[&str] = &[
    "define",
    "def",
    "trydef",
    "trydefine",
    "redef",
    "redefine",
    "undef",
    "undefine",
    "tryundef",
    "tryundefine",
    "ifdef",
    "ifndef",
    "ifexp",
    "else",
    "endif",
    "subst",
    "substdef",
    "substdefs",
    "defenv",
    "defenvs",
    "trydefenv",
    "trydefenvs",
    "defexp",
    "defexps",
    "include_file",
    "import_file",
];

/// Directives whose value may continue on the next line after a backslash.
const CONTINUED: &[&str] = &["define", "def", "trydef", "trydefine", "redef", "redefine"];

fn mode_of(word: &str) -> Option<DollarMode> {
    match word {
        "SER" => Some(DollarMode::Ser),
        "KAMAILIO" | "OPENSER" => Some(DollarMode::Kamailio),
        "MAXCOMPAT" | "ALL" => Some(DollarMode::MaxCompat),
        _ => None,
    }
}

/// Classifies `!…` text after the `#!`/`!!` prefix, and extends the token
/// over continuation lines of a multi-line define.
fn directive_after_prefix(lex: &mut Lexer<RawTok>, body: &str) -> HashKind {
    let word_len = body
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
        .count();
    let word = &body[..word_len];
    let rest = &body[word_len..];
    if let Some(mode) = mode_of(word) {
        if rest.trim().is_empty() {
            return HashKind::Mode(mode);
        }
        return HashKind::Comment;
    }
    if !DIRECTIVES.contains(&word) || !lex.extras.era.has_preprocessor() {
        return HashKind::Comment;
    }
    if word == "else" || word == "endif" {
        if !rest.trim().is_empty() {
            return HashKind::LostDirective;
        }
        return HashKind::Directive;
    }
    // A keyword needs a blank (or end of line) after it: `#!defines` is a comment.
    if !(rest.is_empty() || rest.starts_with([' ', '\t', '\r'])) {
        return HashKind::Comment;
    }
    if CONTINUED.contains(&word) {
        let mut line = lex.slice().to_owned();
        while line.trim_end_matches('\r').ends_with('\\') {
            let rem = lex.remainder();
            if !rem.starts_with('\n') {
                break;
            }
            let next_len = rem[1..].find('\n').unwrap_or(rem.len() - 1);
            lex.bump(1 + next_len);
            line = rem[1..1 + next_len].to_owned();
        }
    }
    HashKind::Directive
}

fn hash_line(lex: &mut Lexer<RawTok>) -> HashKind {
    let text = lex.slice();
    match text.strip_prefix("#!") {
        Some(body) => directive_after_prefix(lex, body),
        None => HashKind::Comment,
    }
}

fn slash_line(lex: &mut Lexer<RawTok>) -> HashKind {
    match lex
        .slice()
        .strip_prefix("//!")
        .and_then(|b| mode_of(b.trim_end()))
    {
        Some(mode) => HashKind::Mode(mode),
        None => HashKind::Comment,
    }
}

fn bang_line(lex: &mut Lexer<RawTok>) -> bool {
    let word = &lex.slice()[2..];
    if !DIRECTIVES.contains(&word) || !lex.extras.era.has_preprocessor() {
        return false;
    }
    let rem = lex.remainder();
    let line_len = rem.find('\n').unwrap_or(rem.len());
    lex.bump(line_len);
    let body = lex.slice()[2..].to_owned();
    matches!(directive_after_prefix(lex, &body), HashKind::Directive)
}

/// Nested block comment; returns whether it was closed.
fn block_comment(lex: &mut Lexer<RawTok>) -> bool {
    let bytes = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    lex.bump(i);
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    lex.bump(bytes.len());
    false
}

/// A quoted string; double quotes honour backslash escapes, single quotes
/// do not. Returns whether the closing quote was found.
fn quoted(lex: &mut Lexer<RawTok>, quote: u8) -> bool {
    let bytes = lex.remainder().as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == quote {
            lex.bump(i + 1);
            return true;
        }
        if b == b'\\' && quote == b'"' {
            i += 2;
            continue;
        }
        i += 1;
    }
    lex.bump(bytes.len());
    false
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Length of a balanced `(…)` group starting at `bytes[0] == b'('`,
/// skipping quoted strings; `None` when it is not closed on this line run.
fn balanced(bytes: &[u8], open: u8, close: u8) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == open {
            depth += 1;
        } else if b == close {
            depth -= 1;
            if depth == 0 {
                return Some(i + 1);
            }
        } else if b == b'"' {
            // A quoted argument inside a PV (`$hdr("X")` is rare but legal in
            // some transformations): skip to its end.
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' && bytes[j] != b'\n' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            i = j;
        } else if b == b'\n' || b == b';' && depth == 1 && open == b'[' {
            return None;
        }
        i += 1;
    }
    None
}

/// Length of an identifier at the start of `bytes`.
fn ident_len(bytes: &[u8]) -> usize {
    if bytes.first().copied().is_some_and(is_ident_start) {
        bytes.iter().take_while(|b| is_ident_char(**b)).count()
    } else {
        0
    }
}

const SER_AVP_CLASSES: &[&str] = &["f", "t", "fr", "tr", "fu", "tu", "fd", "td", "g"];

/// Scans the rest of a `$` or `%` variable. Returns (kind, length after the sigil).
fn scan_variable(rem: &[u8], dollar: DollarMode, era: Era, sigil: u8) -> (DollarKind, usize) {
    if sigil == b'$' {
        match rem.first() {
            Some(b'?') => return (DollarKind::RetCode, 1),
            Some(b'(') => {
                return match balanced(rem, b'(', b')') {
                    Some(n) => (DollarKind::Pv, n),
                    None => (DollarKind::Lone, 0),
                }
            }
            _ => {}
        }
    }
    let name = ident_len(rem);
    if name == 0 {
        return (DollarKind::Lone, 0);
    }
    let name_text = std::str::from_utf8(&rem[..name]).unwrap_or("");
    let mut len = name;
    let mut has_parens = false;
    if sigil == b'$' && rem.get(len) == Some(&b'(') {
        if let Some(n) = balanced(&rem[len..], b'(', b')') {
            len += n;
            has_parens = true;
        }
    }
    let mut has_class = false;
    if !has_parens {
        // `$f.x` (SER AVP with class) or, in OpenSER, `$ruri.user`-style names.
        while rem.get(len) == Some(&b'.') {
            let seg = ident_len(&rem[len + 1..]);
            if seg == 0 {
                break;
            }
            len += 1 + seg;
            has_class = true;
        }
    }
    if rem.get(len) == Some(&b'[') {
        if let Some(n) = balanced(&rem[len..], b'[', b']') {
            len += n;
        }
    }
    if matches!(rem.get(len), Some(b'{')) && has_parens {
        if let Some(n) = balanced(&rem[len..], b'{', b'}') {
            len += n;
        }
    }
    if sigil == b'%' {
        return (DollarKind::SerAvp, len);
    }
    if !has_parens && (name_text == "rc" || name_text == "retcode") && len == name {
        return (DollarKind::RetCode, len);
    }
    let kind = if has_parens {
        DollarKind::Pv
    } else {
        match (dollar, era) {
            (_, Era::OpenSer10 | Era::OpenSer12) => DollarKind::Pv,
            (DollarMode::Ser, _) | (_, Era::Ser2) => DollarKind::SerAvp,
            (DollarMode::Kamailio, _) => DollarKind::Pv,
            (DollarMode::MaxCompat, _) => {
                let class = has_class
                    && SER_AVP_CLASSES.contains(&name_text)
                    && !rem[name + 1..len].contains(&b'.');
                if class || rem[..len].ends_with(b"]") {
                    DollarKind::SerAvp
                } else {
                    DollarKind::AvpOrPv
                }
            }
        }
    };
    (kind, len)
}

fn dollar(lex: &mut Lexer<RawTok>) -> DollarKind {
    let (kind, len) = scan_variable(
        lex.remainder().as_bytes(),
        lex.extras.dollar,
        lex.extras.era,
        b'$',
    );
    lex.bump(len);
    kind
}

/// `true` when the `%` started a SER AVP.
fn percent(lex: &mut Lexer<RawTok>) -> bool {
    if lex.extras.era.percent_is_modulo() {
        return false;
    }
    let rem = lex.remainder().as_bytes();
    if !rem.first().copied().is_some_and(is_ident_start) {
        return false;
    }
    let (_, len) = scan_variable(rem, lex.extras.dollar, lex.extras.era, b'%');
    lex.bump(len);
    true
}

/// Length of `.d+.d+.d+` at the start of `b`, if present.
fn three_more_octets(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    for _ in 0..3 {
        if b.get(i) != Some(&b'.') {
            return None;
        }
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return None;
        }
        i += 1 + digits;
    }
    Some(i)
}

fn number(lex: &mut Lexer<RawTok>) -> NumKind {
    let rem = lex.remainder().as_bytes();
    let Some(ip) = three_more_octets(rem) else {
        return NumKind::Decimal;
    };
    // An identifier character right after means a host name such as `1.2.3.4x`: not an address.
    if rem
        .get(ip)
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
    {
        return NumKind::Decimal;
    }
    let mut len = ip;
    let mut kind = NumKind::Ipv4;
    if rem.get(len) == Some(&b'/') {
        let digits = rem[len + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits > 0 {
            len += 1 + digits;
            kind = NumKind::IpNet;
            if let Some(mask) = three_more_octets(&rem[len..]) {
                len += mask;
            }
        }
    }
    lex.bump(len);
    kind
}

fn bracketed_ipv6(lex: &mut Lexer<RawTok>) -> bool {
    let rem = lex.remainder().as_bytes();
    let len = rem
        .iter()
        .take_while(|b| b.is_ascii_hexdigit() || **b == b':' || **b == b'.')
        .count();
    if len >= 2 && rem.get(len) == Some(&b']') && rem[..len].contains(&b':') {
        lex.bump(len + 1);
        return true;
    }
    false
}

/// `@name(.name|[idx])*`; `false` when `@` is not followed by a name.
fn select(lex: &mut Lexer<RawTok>) -> bool {
    let rem = lex.remainder().as_bytes();
    let mut len = ident_len(rem);
    if len == 0 {
        return false;
    }
    loop {
        match rem.get(len) {
            Some(b'.') => {
                let seg = ident_len(&rem[len + 1..]);
                if seg == 0 {
                    break;
                }
                len += 1 + seg;
            }
            Some(b'[') => match balanced(&rem[len..], b'[', b']') {
                Some(n) => len += n,
                None => break,
            },
            _ => break,
        }
    }
    lex.bump(len);
    true
}

impl RawTok {
    pub fn is_trivia(self) -> bool {
        matches!(
            self,
            RawTok::Blank
                | RawTok::Newline
                | RawTok::LineJoin
                | RawTok::Hash(HashKind::Comment | HashKind::LostDirective)
                | RawTok::SlashComment(HashKind::Comment)
                | RawTok::BlockComment(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<(RawTok, String)> {
        let mut lex = RawTok::lexer_with_extras(src, LexState::default());
        let mut out = Vec::new();
        while let Some(t) = lex.next() {
            let t = t.unwrap_or_else(|_| panic!("lex error at {:?} in {src:?}", lex.span()));
            if !t.is_trivia() {
                out.push((t, lex.slice().to_string()));
            }
        }
        out
    }

    #[test]
    fn partial_matches_fall_back() {
        let k = kinds("case 1: x; 1.2 ; abc: ; route[AUTH] dead:beef");
        let texts: Vec<&str> = k.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(
            texts,
            [
                "case", "1", ":", "x", ";", "1", ".", "2", ";", "abc", ":", ";", "route", "[",
                "AUTH", "]", "dead", ":", "beef"
            ]
        );
    }

    #[test]
    fn addresses() {
        let k = kinds("10.0.0.0/8 [::1] 2001:db8::1 ::1 uri:host msg:len");
        let kinds: Vec<RawTok> = k.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            kinds,
            [
                RawTok::Number(NumKind::IpNet),
                RawTok::LBracket(true),
                RawTok::Ipv6,
                RawTok::Ipv6,
                RawTok::ColonWord,
                RawTok::ColonWord
            ]
        );
    }

    #[test]
    fn variables() {
        let k = kinds("$var(x) $(ru{uri.user}) $f.uid $fu $rU $x[1] $? @from.uri.user %f.x");
        let kinds: Vec<RawTok> = k.iter().map(|(t, _)| *t).collect();
        assert_eq!(
            kinds,
            [
                RawTok::Dollar(DollarKind::Pv),
                RawTok::Dollar(DollarKind::Pv),
                RawTok::Dollar(DollarKind::SerAvp),
                RawTok::Dollar(DollarKind::AvpOrPv),
                RawTok::Dollar(DollarKind::AvpOrPv),
                RawTok::Dollar(DollarKind::SerAvp),
                RawTok::Dollar(DollarKind::RetCode),
                RawTok::Select(true),
                RawTok::Percent(true),
            ]
        );
    }
}
