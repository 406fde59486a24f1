//! Request-URI text surgery for the `rewrite*`/`prefix`/`strip` actions and
//! the `$rU`/`$rd`/`$rp` writes: the URI is split into scheme, user info,
//! host, port and the rest (`;params?headers`), one part replaced, and the
//! text rebuilt. Reading uses the SIP layer's parser.

use crate::sip::Uri;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UriParts {
    pub scheme: String,
    pub user: Option<String>,
    pub password: Option<String>,
    pub host: String,
    pub port: Option<String>,
    /// `;params` and `?headers`, as written.
    pub rest: String,
}

impl UriParts {
    /// Splits a `sip:`/`sips:` URI; `None` for any other scheme or a URI
    /// the SIP layer does not accept.
    pub fn split(text: &str) -> Option<UriParts> {
        let parsed = Uri::parse(text.as_bytes()).ok()?;
        parsed.as_sip()?;
        Self::split_sip(text)
    }

    /// [`UriParts::split`] of a `text` the caller knows parses as a
    /// `sip:`/`sips:` URI.
    pub fn split_sip(text: &str) -> Option<UriParts> {
        let (scheme, body) = text.split_once(':')?;
        let (userinfo, hostpart) = match body.find('@') {
            Some(at) => (Some(&body[..at]), &body[at + 1..]),
            None => (None, body),
        };
        let (user, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
                None => (Some(u.to_string()), None),
            },
            None => (None, None),
        };
        let end = hostpart.find([';', '?']).unwrap_or(hostpart.len());
        let (hostport, rest) = hostpart.split_at(end);
        let (host, port) = split_hostport(hostport);
        Some(UriParts {
            scheme: scheme.to_string(),
            user,
            password,
            host: host.to_string(),
            port: port.map(str::to_string),
            rest: rest.to_string(),
        })
    }

    pub fn build(&self) -> String {
        let mut s = format!("{}:", self.scheme);
        if let Some(u) = &self.user {
            s.push_str(u);
            if let Some(p) = &self.password {
                s.push(':');
                s.push_str(p);
            }
            s.push('@');
        }
        s.push_str(&self.host);
        if let Some(p) = &self.port {
            s.push(':');
            s.push_str(p);
        }
        s.push_str(&self.rest);
        s
    }

    pub fn is_secure(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("sips")
    }

    /// The `transport=` parameter, lower-cased.
    pub fn transport(&self) -> Option<String> {
        let params = self.rest.split('?').next().unwrap_or_default();
        params.split(';').skip(1).find_map(|p| {
            let (n, v) = p.split_once('=')?;
            n.trim()
                .eq_ignore_ascii_case("transport")
                .then(|| v.trim().to_ascii_lowercase())
        })
    }
}

/// `host[:port]`, `[v6][:port]`.
pub(crate) fn split_hostport(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(close) => {
                let after = &s[close + 1..];
                (&s[..=close], after.strip_prefix(':'))
            }
            None => (s, None),
        };
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_and_rebuild() {
        let u = UriParts::split("sip:alice:pw@example.com:5070;transport=TCP?x=y").unwrap();
        assert_eq!(u.user.as_deref(), Some("alice"));
        assert_eq!(u.password.as_deref(), Some("pw"));
        assert_eq!(u.host, "example.com");
        assert_eq!(u.port.as_deref(), Some("5070"));
        assert_eq!(u.transport().as_deref(), Some("tcp"));
        assert_eq!(u.build(), "sip:alice:pw@example.com:5070;transport=TCP?x=y");
        let v = UriParts::split("sip:[2001:db8::1]:5080").unwrap();
        assert_eq!(
            (v.host.as_str(), v.port.as_deref()),
            ("[2001:db8::1]", Some("5080"))
        );
        assert!(UriParts::split("tel:+123").is_none());
    }
}
