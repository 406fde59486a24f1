//! The destination set of one message: the branches added besides the
//! Request-URI (Kamailio's dset, filled by `lookup()` with
//! `append_branches`).
//!
//! Stateless `forward()` sends to the Request-URI (or `$du`) only, as in
//! Kamailio; the set is kept for the stateful relay (tm), which forks one
//! client transaction per entry.

/// One extra destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    /// The branch's Request-URI.
    pub uri: String,
    /// Where to send it, when not to the URI (`$du` of the branch).
    pub dst_uri: Option<String>,
    /// Path vector to send as Route headers (RFC 3327).
    pub path: Option<String>,
    /// Thousandths; -1 when the contact gave none.
    pub q: i16,
    /// Branch flags.
    pub flags: u32,
    /// The local socket to send from (`proto:ip:port`), when fixed.
    pub socket: Option<String>,
}

/// The `Contact` value of a local 3xx reply: the rewritten Request-URI
/// (when `ruri` is given) and every branch, each `<uri>` with `;q=` when
/// it has one, as Kamailio's print_dset writes it. None when empty.
pub(crate) fn contact_value(ruri: Option<(&str, i16)>, branches: &[Branch]) -> Option<String> {
    let entries: Vec<String> = ruri
        .into_iter()
        .chain(branches.iter().map(|b| (b.uri.as_str(), b.q)))
        .map(|(uri, q)| match q_text(q) {
            Some(q) => format!("<{uri}>;q={q}"),
            None => format!("<{uri}>"),
        })
        .collect();
    (!entries.is_empty()).then(|| entries.join(", "))
}

/// q in thousandths as Kamailio prints it (`1`, `0.5`, `0.25`, `0`);
/// None when unspecified (negative).
fn q_text(q: i16) -> Option<String> {
    match q {
        q if q < 0 => None,
        q if q >= 1000 => Some("1".to_owned()),
        0 => Some("0".to_owned()),
        q => Some(format!("0.{}", format!("{q:03}").trim_end_matches('0'))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(uri: &str, q: i16) -> Branch {
        Branch {
            uri: uri.into(),
            dst_uri: None,
            path: None,
            q,
            flags: 0,
            socket: None,
        }
    }

    #[test]
    fn redirect_contacts_print_like_kamailio() {
        assert_eq!(contact_value(None, &[]), None);
        assert_eq!(
            contact_value(
                Some(("sip:a@x", -1)),
                &[b("sip:b@y", 500), b("sip:c@z", 1000)]
            )
            .as_deref(),
            Some("<sip:a@x>, <sip:b@y>;q=0.5, <sip:c@z>;q=1")
        );
        assert_eq!(q_text(250).as_deref(), Some("0.25"));
        assert_eq!(q_text(5).as_deref(), Some("0.005"));
        assert_eq!(q_text(0).as_deref(), Some("0"));
    }
}
