//! Kamailio's sed-style substitution expressions (`subst*` of textops):
//! `<sep>re<sep>replacement<sep>flags`, the separator being the first
//! character. Flags: `i` case-insensitive, `g` every match, `s` no
//! `REG_NEWLINE` (`.` matches a newline, `^`/`$` only at the ends). In the
//! replacement: `\0`-`\9` the match and its groups, `\u` the Request-URI,
//! `\n` `\r` `\t` `\\` `\$` characters, any other `\c` is `c`, and
//! pseudo-variables are read per match.

use super::exec::{Ctx, Halt};
use super::fargs::{ReFlags, Regex};
use sercompat_compiler::ir::compile_regex_with;
use sercompat_compiler::ir::pv::{parse_format, FormatPart};

#[derive(Debug, Clone)]
enum Piece {
    Text(String),
    Group(usize),
    Uri,
    Format(Vec<FormatPart>),
}

/// The replacements of one run: (start, end, new text) per match, or why
/// the run failed.
pub(crate) type Replacements = Result<Vec<(usize, usize, String)>, String>;

#[derive(Debug, Clone)]
pub(crate) struct Subst {
    re: Regex,
    pieces: Vec<Piece>,
    pub global: bool,
}

impl Subst {
    pub fn parse(expr: &str) -> Result<Subst, String> {
        let mut chars = expr.char_indices();
        let sep = match chars.next() {
            Some((_, '\\')) | None => {
                return Err(format!("`{expr}` is not a substitution (bad separator)"))
            }
            Some((_, c)) => c,
        };
        let body = &expr[sep.len_utf8()..];
        // The expression ends at the first separator not right after a
        // backslash.
        let mut re_end = None;
        let mut prev = None;
        for (i, c) in body.char_indices() {
            if c == sep && prev != Some('\\') {
                re_end = Some(i);
                break;
            }
            prev = Some(c);
        }
        let re_end =
            re_end.ok_or_else(|| format!("`{expr}`: no separator after the expression"))?;
        let re_text = &body[..re_end];
        let rest = &body[re_end + sep.len_utf8()..];
        let (pieces, flags_text) = parse_replacement(rest, sep)
            .ok_or_else(|| format!("`{expr}`: no separator after the replacement"))?;
        let mut flags = ReFlags {
            icase: false,
            newline: true,
        };
        let mut global = false;
        for f in flags_text.chars() {
            match f {
                'i' => flags.icase = true,
                's' => flags.newline = false,
                'g' => global = true,
                other => return Err(format!("`{expr}`: unknown flag `{other}`")),
            }
        }
        let re = compile_regex_with(re_text, flags)
            .map_err(|why| format!("`{re_text}` is not a valid regular expression: {why}"))?;
        Ok(Subst { re, pieces, global })
    }

    /// The replacements for `input`: (start, end, new text) per match;
    /// `Err` on an empty match (Kamailio refuses those).
    pub fn run(&self, ctx: &mut Ctx, input: &str) -> Result<Replacements, Halt> {
        let mut out = Vec::new();
        for caps in self.re.captures_iter(input) {
            let m = caps.get(0).expect("group 0");
            if m.start() == m.end() {
                return Ok(Err("the expression matched an empty string".into()));
            }
            let mut s = String::new();
            for p in &self.pieces {
                match p {
                    Piece::Text(t) => s.push_str(t),
                    Piece::Group(n) => {
                        if let Some(g) = caps.get(*n) {
                            s.push_str(g.as_str());
                        }
                    }
                    Piece::Uri => s.push_str(&ctx.ruri),
                    Piece::Format(parts) => s.push_str(&ctx.format(parts)?),
                }
            }
            out.push((m.start(), m.end(), s));
            if !self.global {
                break;
            }
        }
        Ok(Ok(out))
    }
}

/// The replacement up to the closing separator, and what follows it.
fn parse_replacement(s: &str, sep: char) -> Option<(Vec<Piece>, &str)> {
    let mut pieces = Vec::new();
    let mut run = String::new();
    let flush = |run: &mut String, pieces: &mut Vec<Piece>| {
        if run.is_empty() {
            return;
        }
        let parts = parse_format(run);
        if parts.iter().any(|p| matches!(p, FormatPart::Pv(_))) {
            pieces.push(Piece::Format(parts));
        } else {
            pieces.push(Piece::Text(std::mem::take(run)));
        }
        run.clear();
    };
    let mut it = s.char_indices();
    while let Some((i, c)) = it.next() {
        if c == sep {
            flush(&mut run, &mut pieces);
            return Some((pieces, &s[i + sep.len_utf8()..]));
        }
        if c != '\\' {
            run.push(c);
            continue;
        }
        let (_, e) = it.next()?;
        let special = match e {
            '0'..='9' => Some(Piece::Group(e as usize - '0' as usize)),
            'u' => Some(Piece::Uri),
            _ => None,
        };
        match special {
            Some(p) => {
                flush(&mut run, &mut pieces);
                pieces.push(p);
            }
            None => {
                let ch = match e {
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    other => other,
                };
                // A literal `$` must not start a variable when the run is
                // read as a format.
                flush(&mut run, &mut pieces);
                pieces.push(Piece::Text(ch.to_string()));
            }
        }
    }
    None
}

/// Load-time check of a constant substitution argument.
pub(crate) fn check(expr: &str) -> Result<(), String> {
    Subst::parse(expr).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_separator_flags_and_escapes() {
        let s = Subst::parse("/a\\/b/x\\1\\u\\n$fU/ig").unwrap();
        assert!(s.global);
        assert!(s.re.is_match("A/B"));
        assert_eq!(s.pieces.len(), 5);
        assert!(matches!(s.pieces[1], Piece::Group(1)));
        assert!(matches!(s.pieces[2], Piece::Uri));
        assert!(matches!(&s.pieces[4], Piece::Format(p) if p.len() == 1));
        let s = Subst::parse("#^(.*)$#<\\1>#").unwrap();
        assert!(!s.global);
        assert!(Subst::parse("/a/b/").is_ok());
        assert!(Subst::parse("/a/b").is_err());
        assert!(Subst::parse("/a/b/q").is_err());
        assert!(Subst::parse("/(/b/").is_err());
        assert!(Subst::parse("\\a\\b\\").is_err());
    }
}
