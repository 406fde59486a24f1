//! Reading module-function arguments the way Kamailio's fixups do: some
//! parameters take pseudo-variables (evaluated per call), others are
//! static strings (a `$` in them is just a character), and regular
//! expressions are POSIX extended, compiled with the flags the module
//! uses.

use super::exec::{Ctx, Halt};
use sercompat_compiler::ir::pv::{FormatPart, Index, PvRef};
use sercompat_compiler::ir::{compile_regex_with, Value, ValueKind};
use std::sync::Arc;

pub(crate) type Regex = Arc<regex::Regex>;

/// The module convention: > 0 true, < 0 false.
pub(crate) fn ok(b: bool) -> i64 {
    if b {
        1
    } else {
        -1
    }
}

/// A parameter that takes variables: evaluated.
pub(crate) fn text(ctx: &mut Ctx, v: &Value) -> Result<String, Halt> {
    Ok(ctx.eval(v)?.as_string())
}

/// A parameter Kamailio reads as a static string: the IR splits any string
/// with `$name` in it into a format, which is put back together here.
pub(crate) fn literal(ctx: &mut Ctx, v: &Value) -> Result<String, Halt> {
    match &v.kind {
        ValueKind::Format(parts) => Ok(unparse(parts)),
        _ => text(ctx, v),
    }
}

/// The constant text of an argument, if it is one (load-time checks).
pub(crate) fn constant(v: &Value) -> Option<String> {
    match &v.kind {
        ValueKind::Format(parts) => Some(unparse(parts)),
        _ => v.constant_text(),
    }
}

/// A format as it was written.
pub(crate) fn unparse(parts: &[FormatPart]) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            FormatPart::Text(t) => s.push_str(t),
            FormatPart::Pv(p) => s.push_str(&pv_text(p)),
        }
    }
    s
}

fn pv_text(p: &PvRef) -> String {
    let mut body = p.class.clone();
    if let Some(i) = &p.inner {
        body.push('(');
        body.push_str(i);
        body.push(')');
    }
    match &p.index {
        None => {}
        Some(Index::At(n)) => body.push_str(&format!("[{n}]")),
        Some(Index::All) => body.push_str("[*]"),
        Some(Index::Var(v)) => body.push_str(&format!("[{}]", pv_text(v))),
    }
    if p.transforms.is_empty() {
        return format!("${body}");
    }
    for t in &p.transforms {
        body.push_str(&format!("{{{}.{}", t.class, t.name));
        for a in &t.args {
            body.push(',');
            body.push_str(a);
        }
        body.push('}');
    }
    format!("$({body})")
}

pub(crate) use sercompat_compiler::ir::ReFlags;

/// textops' `REG_EXTENDED|REG_ICASE|REG_NEWLINE` (the IR's module default).
pub(crate) const TEXTOPS: ReFlags = ReFlags::MODULE;

/// `REG_EXTENDED|REG_ICASE`, for header names and values.
pub(crate) const ICASE: ReFlags = ReFlags {
    icase: true,
    newline: false,
};

/// A regular-expression parameter (static in Kamailio), compiled; `None`
/// after logging why it does not compile.
pub(crate) fn regex(
    ctx: &mut Ctx,
    func: &str,
    v: &Value,
    flags: ReFlags,
) -> Result<Option<Regex>, Halt> {
    // Compiled by the IR when the config was loaded, with these flags.
    if let ValueKind::Pattern(p) = &v.kind {
        if p.flags == flags {
            if let Ok(re) = &p.regex {
                return Ok(Some(re.clone()));
            }
        }
    }
    let re = literal(ctx, v)?;
    match compile_regex_with(&re, flags) {
        Ok(r) => Ok(Some(r)),
        Err(why) => {
            ctx.error(&format!("{func}: bad regular expression `{re}`: {why}"));
            Ok(None)
        }
    }
}

/// Load-time check of a constant regular-expression argument.
/// A pattern the IR compiled is checked once, for every function, in
/// `funcs::check`.
pub(crate) fn check_regex(v: &Value, flags: ReFlags) -> Result<(), String> {
    if matches!(v.kind, ValueKind::Pattern(_)) {
        return Ok(());
    }
    match constant(v) {
        Some(c) => compile_regex_with(&c, flags)
            .map(|_| ())
            .map_err(|why| format!("`{c}` is not a valid regular expression: {why}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sercompat_compiler::ir::pv::parse_format;

    #[test]
    fn formats_unparse_as_written() {
        for s in [
            "a $ru b",
            "$(hdr(Via)[-1]{s.len})x",
            "$avp(x)[*]",
            "/^(.*)$/\\1 $fU/",
        ] {
            assert_eq!(unparse(&parse_format(s)), s);
        }
    }

    #[test]
    fn posix_flags() {
        let r = compile_regex_with("^b", TEXTOPS).unwrap();
        assert!(r.is_match("a\nB"));
        let r = compile_regex_with(
            "^b",
            ReFlags {
                icase: false,
                newline: false,
            },
        )
        .unwrap();
        assert!(!r.is_match("a\nb"));
        assert!(compile_regex_with("a.b", ICASE).unwrap().is_match("a\nb"));
        assert!(!compile_regex_with("a.b", TEXTOPS).unwrap().is_match("a\nb"));
    }
}
