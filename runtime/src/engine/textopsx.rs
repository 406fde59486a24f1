//! textopsx (Kamailio 5.6): applying the pending edits to the message
//! (`msg_apply_changes`), body removal, header filtering and shell-style
//! matching.
//!
//! `msg_apply_changes` builds the message with the script's edits so far
//! (lumps and the new Request-URI, without our Via), parses it and makes
//! it the message the rest of the script reads and edits, as Kamailio
//! replaces its buffer. The new Request-URI is then part of the message,
//! so it also becomes the "original" one (`$ou`, `revert_uri`).

use super::exec::{Ctx, Halt};
use super::fargs::{self, literal, ok, text, TEXTOPS};
use crate::sip::{HeaderName, MessageEditor, SipMessage};
use sercompat_compiler::ir::Value;

pub const FUNCTIONS: &[(&str, &str, usize, usize)] = &[
    ("textopsx", "msg_apply_changes", 0, 0),
    // Kamailio 3.0 had it in textops.
    ("textops", "msg_apply_changes", 0, 0),
    ("textopsx", "remove_body", 0, 0),
    // Kamailio 5.6.3 refuses `keep_hf()` without a regex at startup.
    ("textopsx", "keep_hf", 1, 1),
    ("textopsx", "fnmatch", 2, 3),
];

/// Header fields `keep_hf` never removes.
const ALWAYS_KEPT: &[&str] = &[
    "Via",
    "From",
    "To",
    "Call-ID",
    "CSeq",
    "Content-Length",
    "Content-Type",
    "Max-Forwards",
    "Contact",
    "Route",
    "Record-Route",
];

/// The flags of `fnmatch` are not checked: Kamailio 5.6.3 starts with any.
pub(crate) fn check(name: &str, args: &[Value]) -> Result<(), String> {
    match name {
        "keep_hf" => fargs::check_regex(&args[0], TEXTOPS),
        _ => Ok(()),
    }
}

pub(crate) fn call(ctx: &mut Ctx, name: &str, args: &[Value]) -> Result<i64, Halt> {
    Ok(match name {
        "msg_apply_changes" => apply_changes(ctx)?,
        "remove_body" => {
            let span = ctx.msg.body_span();
            if span.is_empty() {
                return Ok(1);
            }
            match ctx.editor.set_body(Vec::new()) {
                Ok(()) => 1,
                Err(e) => {
                    ctx.error(&format!("remove_body: {e}"));
                    -1
                }
            }
        }
        "keep_hf" => {
            let Some(re) = fargs::regex(ctx, name, &args[0], TEXTOPS)? else {
                return Ok(-1);
            };
            let kept: Vec<HeaderName> = ALWAYS_KEPT
                .iter()
                .filter_map(|n| HeaderName::new(n))
                .collect();
            let msg = ctx.msg;
            let drop: Vec<usize> = msg
                .headers()
                .filter(|h| !kept.contains(h.name()))
                .filter(|h| !re.is_match(&h.raw_name().to_string_lossy()))
                .map(|h| h.index())
                .filter(|i| !ctx.removed.contains(i))
                .collect();
            for i in drop {
                if let Err(e) = ctx.editor.remove_header(i) {
                    ctx.error(&format!("keep_hf: {e}"));
                    return Ok(-1);
                }
                ctx.removed.insert(i);
            }
            // Kamailio 5.6.3 answers -1 whether or not it removed anything.
            -1
        }
        "fnmatch" => {
            let value = text(ctx, &args[0])?;
            let pattern = text(ctx, &args[1])?;
            let icase = match args.get(2) {
                Some(f) => literal(ctx, f)?.contains('i'),
                None => false,
            };
            let (v, p) = if icase {
                (value.to_lowercase(), pattern.to_lowercase())
            } else {
                (value, pattern)
            };
            ok(fnmatch(
                &p.chars().collect::<Vec<_>>(),
                &v.chars().collect::<Vec<_>>(),
            ))
        }
        _ => {
            ctx.error(&format!(
                "`textopsx.{name}` has no handler; the script stops"
            ));
            return Err(Halt::Drop);
        }
    })
}

fn apply_changes(ctx: &mut Ctx) -> Result<i64, Halt> {
    let mut ed = ctx.editor.clone();
    if ctx.ruri != ctx.original_ruri {
        if let Err(e) = ed.set_request_uri(&ctx.ruri) {
            ctx.error(&format!("msg_apply_changes: {e}"));
            return Ok(-1);
        }
    }
    let bytes = match ed.build() {
        Ok(b) => b,
        Err(e) => {
            ctx.error(&format!("msg_apply_changes: {e}"));
            return Ok(-1);
        }
    };
    // Kamailio stops the script when the new content does not parse: the
    // old message is gone by then.
    let parsed = match SipMessage::parse_datagram(bytes) {
        Ok(m) => m,
        Err(e) => {
            ctx.error(&format!(
                "msg_apply_changes: the changed message does not parse ({e}); the script stops"
            ));
            return Err(Halt::Drop);
        }
    };
    let new = ctx.state.rebuilt.push(parsed);
    ctx.msg = new;
    ctx.editor = MessageEditor::new(new);
    ctx.removed.clear();
    ctx.original_ruri = ctx.ruri.clone();
    Ok(1)
}

/// POSIX `fnmatch()` without flags: `*` any run (slashes and leading dots
/// included), `?` one character, `[...]` a set (`!` or `^` negates, `a-z`
/// ranges), `\c` the character `c`.
fn fnmatch(p: &[char], s: &[char]) -> bool {
    let (mut pi, mut si) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        let step = match p.get(pi) {
            Some('*') => {
                star = Some((pi, si));
                pi += 1;
                continue;
            }
            Some('?') => Some(1),
            Some('[') => set_match(&p[pi..], s[si]),
            Some('\\') if pi + 1 < p.len() => (p[pi + 1] == s[si]).then_some(2),
            Some(c) => (*c == s[si]).then_some(1),
            None => None,
        };
        match step {
            Some(n) => {
                pi += n;
                si += 1;
            }
            None => match star {
                Some((sp, ss)) => {
                    pi = sp + 1;
                    si = ss + 1;
                    star = Some((sp, ss + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// Matches `c` against the set starting at `p[0] == '['`; the pattern
/// length it used if it matches. A `[` without a closing `]` matches
/// nothing.
fn set_match(p: &[char], c: char) -> Option<usize> {
    let mut i = 1;
    let negate = matches!(p.get(i), Some('!' | '^'));
    if negate {
        i += 1;
    }
    let mut found = false;
    let mut first = true;
    loop {
        let ch = *p.get(i)?;
        if ch == ']' && !first {
            break;
        }
        first = false;
        if p.get(i + 1) == Some(&'-') && p.get(i + 2).is_some_and(|&e| e != ']') {
            if (ch..=p[i + 2]).contains(&c) {
                found = true;
            }
            i += 3;
        } else {
            if ch == c {
                found = true;
            }
            i += 1;
        }
    }
    (found != negate).then_some(i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        fnmatch(
            &p.chars().collect::<Vec<_>>(),
            &s.chars().collect::<Vec<_>>(),
        )
    }

    #[test]
    fn shell_patterns() {
        assert!(m("123*", "12345"));
        assert!(!m("123*", "1245"));
        assert!(m("*", ""));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("[0-9][!a]x", "5bx"));
        assert!(!m("[0-9][!a]x", "5ax"));
        assert!(m("*.example.com", "sip.example.com"));
        assert!(m("a\\*", "a*"));
        assert!(!m("a\\*", "ab"));
        assert!(m("*a*b", "xxaxxb"));
    }
}
