//! Parsing of one `#!…` / `!!…` directive line into its parts. Ranges are
//! byte offsets into the directive's text.

use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefineKind {
    /// `#!define` / `#!def`: error when the name exists.
    Define,
    /// `#!trydef` / `#!trydefine`: ignored when the name exists.
    TryDef,
    /// `#!redef` / `#!redefine`: define or replace.
    Redef,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubstKind {
    Subst,
    SubstDef,
    SubstDefs,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Directive {
    Define {
        kind: DefineKind,
        name: Range<usize>,
        value: Option<Range<usize>>,
    },
    Undef {
        try_only: bool,
        name: Range<usize>,
    },
    IfDef {
        negate: bool,
        name: Range<usize>,
    },
    IfExp {
        expr: Range<usize>,
    },
    Else,
    Endif,
    Subst {
        kind: SubstKind,
        arg: Range<usize>,
    },
    /// `#!defenv ID=VAR` or `#!defenv VAR`.
    DefEnv {
        quoted: bool,
        try_only: bool,
        id: Range<usize>,
        var: Range<usize>,
    },
    DefExp {
        quoted: bool,
        name: Range<usize>,
        expr: Range<usize>,
    },
    Include {
        import: bool,
        arg: Range<usize>,
    },
}

/// A syntax problem inside a directive: where, and what.
pub type DirectiveError = (Range<usize>, String);

fn is_blank(b: u8) -> bool {
    b == b' ' || b == b'\t' || b == b'\r'
}

fn skip_blanks(t: &[u8], mut i: usize) -> usize {
    while i < t.len() && is_blank(t[i]) {
        i += 1;
    }
    i
}

fn name_at(text: &str, start: usize, what: &str) -> Result<Range<usize>, DirectiveError> {
    let t = text.as_bytes();
    let mut end = start;
    if end < t.len() && (t[end].is_ascii_alphabetic() || t[end] == b'_') {
        while end < t.len() && (t[end].is_ascii_alphanumeric() || t[end] == b'_') {
            end += 1;
        }
    }
    if end == start {
        let stop = text[start..]
            .find(['\n', ' ', '\t'])
            .map_or(text.len(), |n| start + n);
        return Err((
            start..stop.max(start + 1).min(text.len().max(start)),
            format!("expected {what}"),
        ));
    }
    if t.get(end) == Some(&b'-') {
        return Err((end..end + 1, "'-' not allowed in a define name".to_string()));
    }
    Ok(start..end)
}

fn line_end(text: &str, from: usize) -> usize {
    text[from..].find('\n').map_or(text.len(), |n| from + n)
}

/// Parses a directive token's text (`#!define X 1`, `!!ifdef Y`, ...).
pub fn parse(text: &str) -> Result<Directive, DirectiveError> {
    let t = text.as_bytes();
    let kw_start = 2;
    let mut kw_end = kw_start;
    while kw_end < t.len() && (t[kw_end].is_ascii_alphanumeric() || t[kw_end] == b'_') {
        kw_end += 1;
    }
    let kw = &text[kw_start..kw_end];
    let args = skip_blanks(t, kw_end);
    let need_name = |what: &str| name_at(text, args, what);
    Ok(match kw {
        "define" | "def" | "trydef" | "trydefine" | "redef" | "redefine" => {
            let kind = match kw {
                "define" | "def" => DefineKind::Define,
                "trydef" | "trydefine" => DefineKind::TryDef,
                _ => DefineKind::Redef,
            };
            let name = need_name("a name after the directive")?;
            let vstart = skip_blanks(t, name.end);
            // The value runs to the end of the token (continuation lines are
            // part of the token already).
            let mut vend = text.len();
            while vend > vstart && (t[vend - 1] == b'\n' || t[vend - 1] == b'\r') {
                vend -= 1;
            }
            let value =
                (vstart < vend && !text[vstart..vend].trim().is_empty()).then_some(vstart..vend);
            Directive::Define { kind, name, value }
        }
        "undef" | "undefine" | "tryundef" | "tryundefine" => Directive::Undef {
            try_only: kw.starts_with("try"),
            name: need_name("a name to undefine")?,
        },
        "ifdef" | "ifndef" => Directive::IfDef {
            negate: kw == "ifndef",
            name: need_name("a name to test")?,
        },
        "ifexp" => Directive::IfExp {
            expr: args..line_end(text, args),
        },
        "else" => Directive::Else,
        "endif" => Directive::Endif,
        "subst" | "substdef" | "substdefs" => {
            let end = line_end(text, args);
            let arg = args..text[..end].trim_end().len().max(args);
            if !text[arg.clone()].starts_with(['"', '\'']) {
                return Err((
                    arg,
                    "the substitution must be a quoted string: \"/regex/replacement/flags\"".into(),
                ));
            }
            Directive::Subst {
                kind: match kw {
                    "subst" => SubstKind::Subst,
                    "substdef" => SubstKind::SubstDef,
                    _ => SubstKind::SubstDefs,
                },
                arg,
            }
        }
        "defenv" | "defenvs" | "trydefenv" | "trydefenvs" => {
            let first = need_name("an environment variable name")?;
            let (id, var) = if t.get(first.end) == Some(&b'=') {
                let var = name_at(
                    text,
                    first.end + 1,
                    "an environment variable name after `=`",
                )?;
                (first, var)
            } else {
                (first.clone(), first)
            };
            Directive::DefEnv {
                quoted: kw.ends_with('s'),
                try_only: kw.starts_with("try"),
                id,
                var,
            }
        }
        "defexp" | "defexps" => {
            let name = need_name("a name to define")?;
            let e = skip_blanks(t, name.end);
            Directive::DefExp {
                quoted: kw == "defexps",
                name,
                expr: e..line_end(text, e),
            }
        }
        "include_file" | "import_file" => {
            let end = line_end(text, args);
            Directive::Include {
                import: kw == "import_file",
                arg: args..text[..end].trim_end().len().max(args),
            }
        }
        _ => return Err((0..kw_end, format!("unknown directive `{kw}`"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn define_with_value_keeps_it_verbatim() {
        let d = parse("#!define V 5 # x").unwrap();
        let Directive::Define { name, value, .. } = d else {
            panic!()
        };
        assert_eq!(name, 9..10);
        assert_eq!(&"#!define V 5 # x"[value.unwrap()], "5 # x");
    }

    #[test]
    fn dash_after_name_is_an_error() {
        assert!(parse("#!define A-B 1").is_err());
    }

    #[test]
    fn defenv_forms() {
        let text = "#!defenv ID=HOME";
        let Directive::DefEnv { id, var, .. } = parse(text).unwrap() else {
            panic!()
        };
        assert_eq!((&text[id], &text[var]), ("ID", "HOME"));
    }
}
