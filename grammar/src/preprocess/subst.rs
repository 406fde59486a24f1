//! `#!subst "/regex/replacement/flags"` rules, applied to string tokens.

use regex::{Regex, RegexBuilder};

#[derive(Clone, Debug)]
pub struct SubstRule {
    re: Regex,
    replacement: Vec<Piece>,
    global: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Group(usize),
}

/// The parts of a `/re/repl/flags` expression (the string literal's content).
#[derive(Debug, PartialEq, Eq)]
pub struct SubstParts {
    pub regex: String,
    pub replacement: String,
    pub flags: String,
}

/// Splits `/re/repl/flags` on its separator (the first character);
/// `\<sep>` escapes the separator.
pub fn split(expr: &str) -> Result<SubstParts, String> {
    let mut chars = expr.chars();
    let sep = chars.next().ok_or("empty substitution")?;
    if sep == '\\' {
        return Err("the separator cannot be `\\`".into());
    }
    let mut fields = vec![String::new()];
    let mut escaped = false;
    for c in chars {
        if escaped {
            if c != sep {
                fields.last_mut().unwrap().push('\\');
            }
            fields.last_mut().unwrap().push(c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            fields.push(String::new());
        } else {
            fields.last_mut().unwrap().push(c);
        }
    }
    if escaped {
        fields.last_mut().unwrap().push('\\');
    }
    if fields.len() < 3 {
        return Err(format!("expected `{sep}regex{sep}replacement{sep}flags`"));
    }
    if fields.len() > 3 && !(fields.len() == 4 && fields[3].is_empty()) {
        return Err(format!("too many `{sep}` separators"));
    }
    let flags = fields.remove(2);
    let replacement = fields.remove(1);
    let regex = fields.remove(0);
    Ok(SubstParts {
        regex,
        replacement,
        flags,
    })
}

impl SubstRule {
    pub fn new(parts: &SubstParts) -> Result<SubstRule, String> {
        let mut global = false;
        let mut icase = false;
        let mut dotall = false;
        for f in parts.flags.chars() {
            match f {
                'g' => global = true,
                'i' => icase = true,
                's' => dotall = true,
                other => return Err(format!("unknown flag `{other}` (allowed: i, g, s)")),
            }
        }
        let re = RegexBuilder::new(&parts.regex)
            .case_insensitive(icase)
            .dot_matches_new_line(dotall)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("invalid regular expression: {e}"))?;
        Ok(SubstRule {
            re,
            replacement: parse_replacement(&parts.replacement),
            global,
        })
    }

    /// Applies the rule; `None` when it did not match.
    pub fn apply(&self, input: &str) -> Option<String> {
        let mut out = String::new();
        let mut last = 0;
        let mut matched = false;
        for caps in self.re.captures_iter(input) {
            let m = caps.get(0).expect("group 0 always matches");
            out.push_str(&input[last..m.start()]);
            for piece in &self.replacement {
                match piece {
                    Piece::Text(t) => out.push_str(t),
                    Piece::Group(g) => out.push_str(caps.get(*g).map_or("", |m| m.as_str())),
                }
            }
            last = m.end();
            matched = true;
            if !self.global {
                break;
            }
        }
        if !matched {
            return None;
        }
        out.push_str(&input[last..]);
        Some(out)
    }
}

fn parse_replacement(repl: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = repl.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some(d @ '0'..='9') => {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(Piece::Group(d as usize - '0' as usize));
            }
            Some('n') => text.push('\n'),
            Some('r') => text.push('\r'),
            Some('t') => text.push('\t'),
            Some(other) => text.push(other),
            None => text.push('\\'),
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(text));
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_first_or_all() {
        let one = SubstRule::new(&split("/a/b/").unwrap()).unwrap();
        assert_eq!(one.apply("aaa").as_deref(), Some("baa"));
        let all = SubstRule::new(&split("!a!b!g").unwrap()).unwrap();
        assert_eq!(all.apply("aaa").as_deref(), Some("bbb"));
        assert_eq!(all.apply("xyz"), None);
    }

    #[test]
    fn back_references() {
        let r = SubstRule::new(&split("/(x+)y/<\\1>/").unwrap()).unwrap();
        assert_eq!(r.apply("axxyb").as_deref(), Some("a<xx>b"));
    }

    #[test]
    fn bad_flag_is_an_error() {
        assert!(SubstRule::new(&split("/a/b/q").unwrap()).is_err());
    }
}
