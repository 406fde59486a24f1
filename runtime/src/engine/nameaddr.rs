//! A name-addr or addr-spec in text (`"Bob" <sip:b@h>;tag=1`,
//! `sip:b@h;tag=1`), split the way Kamailio's To-body parser does, for the
//! `nameaddr.`/`tobody.` transformations and the header pseudo-variables
//! (`$fn`, `$ai`, `$pu`, ...) that read any header as a name-addr.

/// The parts of one name-addr, borrowed from the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NameAddrText<'a> {
    /// The display name as written (quotes kept); empty when none.
    pub display: &'a str,
    /// Everything before `<` (trailing white space kept), as Kamailio's
    /// `nameaddr.name` gives it.
    pub name_as_written: &'a str,
    pub uri: &'a str,
    /// Header parameters after the address, without the first `;`.
    pub params: &'a str,
    /// Length of the name-addr up to and including `>` (the whole text for
    /// an addr-spec).
    pub len: usize,
}

impl<'a> NameAddrText<'a> {
    pub fn parse(text: &'a str) -> Option<NameAddrText<'a>> {
        let t = text.trim_start();
        let lead = text.len() - t.len();
        match open_angle(t) {
            Some(open) => {
                let close = open + t[open..].find('>')?;
                let display = t[..open].trim();
                let after = t[close + 1..].trim_start();
                let params = after.strip_prefix(';').unwrap_or("").trim();
                Some(NameAddrText {
                    display,
                    name_as_written: &t[..open],
                    uri: t[open + 1..close].trim(),
                    params,
                    len: lead + close + 1,
                })
            }
            None => {
                let body = t.trim_end();
                if body.is_empty() {
                    return None;
                }
                // In an addr-spec, `;` starts the header parameters.
                let (uri, params) = match body.split_once(';') {
                    Some((u, p)) => (u.trim_end(), p.trim()),
                    None => (body, ""),
                };
                Some(NameAddrText {
                    display: "",
                    name_as_written: "",
                    uri,
                    params,
                    len: text.len(),
                })
            }
        }
    }

    /// A header parameter's value (`tag`), unquoted; `Some("")` for a
    /// parameter without a value.
    pub fn param(&self, name: &str) -> Option<String> {
        self.params.split(';').find_map(|p| {
            let (n, v) = p.split_once('=').unwrap_or((p, ""));
            n.trim().eq_ignore_ascii_case(name).then(|| {
                let v = v.trim();
                v.strip_prefix('"')
                    .and_then(|x| x.strip_suffix('"'))
                    .unwrap_or(v)
                    .to_string()
            })
        })
    }
}

/// The elements of a comma-separated header body (`a, "x,y" <b>, c`):
/// commas inside quotes or `<>` do not separate; each is trimmed.
pub(crate) fn split_list(body: &str) -> Vec<&str> {
    let (mut quoted, mut angle, mut escaped) = (false, false, false);
    let mut out = Vec::new();
    let mut start = 0;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' if !quoted && !angle => {
                out.push(body[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(body[start..].trim());
    out
}

/// The `<` that opens the address, outside a quoted display name.
fn open_angle(t: &str) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in t.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let n = NameAddrText::parse("\"A <x>\" <sip:a@h;lr>;tag=5;x").unwrap();
        assert_eq!(
            (n.display, n.uri, n.params, n.len),
            ("\"A <x>\"", "sip:a@h;lr", "tag=5;x", 20)
        );
        assert_eq!(n.param("tag").as_deref(), Some("5"));
        let a = NameAddrText::parse("sip:b@h;tag=9").unwrap();
        assert_eq!((a.display, a.uri, a.params), ("", "sip:b@h", "tag=9"));
        assert!(NameAddrText::parse("  ").is_none());
        assert_eq!(
            split_list("<sip:a,b@h>, \"x,y\" <sip:c@h> ,d"),
            ["<sip:a,b@h>", "\"x,y\" <sip:c@h>", "d"]
        );
    }
}
