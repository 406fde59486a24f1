//! Pseudo-variable references, parsed once at load time into their parts:
//! `$(hdr(Via)[-1]{s.len})` → class `hdr`, inner `Via`, index -1,
//! transformation `s.len`.

/// An index of a pseudo-variable or AVP: `[2]`, `[-1]`, `[*]`, `[$var(i)]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Index {
    At(i64),
    All,
    /// Computed at run time from another pseudo-variable.
    Var(Box<PvRef>),
}

/// One transformation `{class.name,arg,…}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transform {
    pub class: String,
    pub name: String,
    pub args: Vec<String>,
}

/// A pseudo-variable as the runtime will read it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PvRef {
    /// `ru`, `hdr`, `avp`, `var`, `T_reply_code`, …
    pub class: String,
    /// The argument in parentheses: `Via` of `$hdr(Via)`.
    pub inner: Option<String>,
    pub index: Option<Index>,
    pub transforms: Vec<Transform>,
}

/// A SER AVP (`$f.x`, `%t.y[1]`, `$x` in SER mode).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvpRef {
    /// `f t fr tr fu tu fd td g`, if given.
    pub class: Option<String>,
    pub name: String,
    pub index: Option<Index>,
}

/// Splits at the matching close of `open` starting at `s[0] == open`.
fn balanced(s: &str, open: char, close: char) -> Option<usize> {
    let mut depth = 0usize;
    for (i, c) in s.char_indices() {
        if c == open {
            depth += 1;
        } else if c == close {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

fn parse_index(s: &str) -> Result<Index, String> {
    let s = s.trim();
    if s == "*" || s.is_empty() {
        return Ok(Index::All);
    }
    if let Ok(n) = s.parse::<i64>() {
        return Ok(Index::At(n));
    }
    if s.starts_with('$') {
        return Ok(Index::Var(Box::new(parse_pv(s)?)));
    }
    Err(format!("bad index `[{s}]`"))
}

fn parse_transforms(mut s: &str) -> Result<Vec<Transform>, String> {
    let mut out = Vec::new();
    while let Some(rest) = s.strip_prefix('{') {
        let end = balanced(s, '{', '}').ok_or("transformation `{` is not closed")?;
        let body = &rest[..end - 1];
        let mut parts = body.splitn(2, ',');
        let head = parts.next().unwrap_or_default().trim();
        let (class, name) = head
            .split_once('.')
            .ok_or_else(|| format!("transformation `{{{body}}}` has no class"))?;
        let args = parts
            .next()
            .map(|a| a.split(',').map(|x| x.to_string()).collect())
            .unwrap_or_default();
        out.push(Transform {
            class: class.to_string(),
            name: name.to_string(),
            args,
        });
        s = &s[end + 1..];
    }
    if !s.trim().is_empty() {
        return Err(format!("unexpected `{s}` after the transformations"));
    }
    Ok(out)
}

/// Parses a pseudo-variable token (`$ru`, `$hdr(Via)`, `$(avp(x)[0]{s.len})`).
pub fn parse_pv(text: &str) -> Result<PvRef, String> {
    let body = text
        .strip_prefix('$')
        .ok_or("a pseudo-variable starts with `$`")?;
    // `$(class(inner)[idx]{tr})`
    let (body, outer) = match body.strip_prefix('(') {
        Some(_) => {
            let end = balanced(body, '(', ')').ok_or("`$(` is not closed")?;
            (&body[1..end], true)
        }
        None => (body, false),
    };
    let name_len = body
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '?'))
        .unwrap_or(body.len());
    if name_len == 0 {
        return Err(format!("`{text}` has no pseudo-variable name"));
    }
    let class = body[..name_len].to_string();
    let mut rest = &body[name_len..];
    let mut inner = None;
    if rest.starts_with('(') {
        let end = balanced(rest, '(', ')').ok_or("`(` is not closed")?;
        inner = Some(rest[1..end].to_string());
        rest = &rest[end + 1..];
    }
    let mut index = None;
    if rest.starts_with('[') {
        let end = balanced(rest, '[', ']').ok_or("`[` is not closed")?;
        index = Some(parse_index(&rest[1..end])?);
        rest = &rest[end + 1..];
    }
    let transforms = if outer {
        parse_transforms(rest)?
    } else {
        Vec::new()
    };
    if !outer && !rest.is_empty() {
        return Err(format!("unexpected `{rest}` in `{text}`"));
    }
    Ok(PvRef {
        class,
        inner,
        index,
        transforms,
    })
}

const AVP_CLASSES: &[&str] = &["f", "t", "fr", "tr", "fu", "tu", "fd", "td", "g"];

/// Parses a SER AVP token (`$f.x`, `%x[1]`, `$x[*]`).
pub fn parse_avp(text: &str) -> Result<AvpRef, String> {
    let body = text
        .strip_prefix(['$', '%'])
        .ok_or("an AVP starts with `$` or `%`")?;
    let (body, index) = match body.find('[') {
        Some(i) => {
            let close = body.rfind(']').ok_or("`[` is not closed")?;
            (&body[..i], Some(parse_index(&body[i + 1..close])?))
        }
        None => (body, None),
    };
    let (class, name) = match body.split_once('.') {
        Some((c, n)) if AVP_CLASSES.contains(&c) => (Some(c.to_string()), n),
        _ => (None, body),
    };
    if name.is_empty() {
        return Err(format!("`{text}` has no AVP name"));
    }
    Ok(AvpRef {
        class,
        name: name.to_string(),
        index,
    })
}

/// A string with pseudo-variables in it (`"$rm from $fu\n"`), split once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FormatPart {
    Text(String),
    Pv(PvRef),
}

/// Splits a format string; `$$` is a literal `$`. A `$` that starts no
/// variable stays text (Kamailio prints it as is).
pub fn parse_format(s: &str) -> Vec<FormatPart> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        rest = &rest[i..];
        if let Some(after) = rest.strip_prefix("$$") {
            text.push('$');
            rest = after;
            continue;
        }
        let len = pv_len(rest);
        match (len > 1).then(|| parse_pv(&rest[..len])) {
            Some(Ok(pv)) => {
                if !text.is_empty() {
                    parts.push(FormatPart::Text(std::mem::take(&mut text)));
                }
                parts.push(FormatPart::Pv(pv));
                rest = &rest[len..];
            }
            _ => {
                text.push('$');
                rest = &rest[1..];
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        parts.push(FormatPart::Text(text));
    }
    parts
}

/// Length of the pseudo-variable at the start of `s` (`s` starts with `$`),
/// as the PV parser reads names inside strings: `[A-Za-z0-9_.?]` then an
/// optional `(…)` and `[…]`, or a whole `$(…)`.
fn pv_len(s: &str) -> usize {
    let b = &s[1..];
    if b.starts_with('(') {
        return balanced(b, '(', ')').map_or(0, |e| e + 2);
    }
    let mut n = b
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '?'))
        .unwrap_or(b.len());
    if n == 0 {
        return 0;
    }
    if b[n..].starts_with('(') {
        match balanced(&b[n..], '(', ')') {
            Some(e) => n += e + 1,
            None => return 0,
        }
    }
    n + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pv_forms() {
        let p = parse_pv("$(hdr(Via)[-1]{s.len})").unwrap();
        assert_eq!(
            (p.class.as_str(), p.inner.as_deref(), p.index.clone()),
            ("hdr", Some("Via"), Some(Index::At(-1)))
        );
        assert_eq!(p.transforms[0].name, "len");
        let p = parse_pv("$(avp(x)[$var(i)])").unwrap();
        assert!(matches!(p.index, Some(Index::Var(_))));
        assert_eq!(parse_pv("$ru").unwrap().class, "ru");
        assert_eq!(
            parse_pv("$xavp(r=>f)").unwrap().inner.as_deref(),
            Some("r=>f")
        );
        assert!(parse_pv("$(hdr(Via)").is_err());
    }

    #[test]
    fn avp_forms() {
        let a = parse_avp("$f.uid").unwrap();
        assert_eq!((a.class.as_deref(), a.name.as_str()), (Some("f"), "uid"));
        assert_eq!(parse_avp("%x[2]").unwrap().index, Some(Index::At(2)));
    }

    #[test]
    fn formats() {
        let parts = parse_format("$rm from $fu costs $$5 $(ru{uri.user})\n");
        let shape: Vec<String> = parts
            .iter()
            .map(|p| match p {
                FormatPart::Text(t) => format!("T{t:?}"),
                FormatPart::Pv(v) => format!("P{}", v.class),
            })
            .collect();
        assert_eq!(
            shape,
            [
                "Prm",
                "T\" from \"",
                "Pfu",
                "T\" costs $5 \"",
                "Pru",
                "T\"\\n\""
            ]
        );
    }
}
