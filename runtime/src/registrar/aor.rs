//! The address of record of a URI, as Kamailio's `extract_aor` forms it:
//! the unescaped user, `@domain` with use_domain, lower-cased.

use super::config::RegistrarConfig;
use super::error::RegError;
use crate::sip::{percent_decode, Uri};

/// Kamailio's USERNAME_MAX_SIZE and DOMAIN_MAX_SIZE.
const USER_MAX: usize = 64;
const DOMAIN_MAX: usize = 64;

pub fn extract_aor(
    uri: &str,
    config: &RegistrarConfig,
    use_domain: bool,
) -> Result<String, RegError> {
    let parsed = Uri::parse(uri.as_bytes()).map_err(|_| RegError::AorParse)?;
    aor_of(&parsed, config, use_domain)
}

/// [`extract_aor`] of a URI parsed already.
pub fn aor_of(
    parsed: &Uri,
    config: &RegistrarConfig,
    use_domain: bool,
) -> Result<String, RegError> {
    let (user, host): (&[u8], &[u8]) = match parsed {
        Uri::Sip(u) => (
            u.user().map_or(&b""[..], |s| s.as_bytes()),
            u.host().text().as_bytes(),
        ),
        Uri::Tel(t) => (t.number().as_bytes(), b""),
        Uri::Other(_) => return Err(RegError::AorParse),
    };
    if user.len() > USER_MAX || host.len() > DOMAIN_MAX {
        return Err(RegError::AorTooLong);
    }
    let user = percent_decode(user).map_err(|_| RegError::Unescape)?;
    let user = String::from_utf8_lossy(&user).into_owned();
    let mut aor = user.clone();
    if use_domain {
        if !user.is_empty() {
            aor.push('@');
        }
        let host = String::from_utf8_lossy(host);
        let host = match config.realm_prefix.as_deref() {
            Some(prefix)
                if !prefix.is_empty() && prefix.len() < host.len() && host.starts_with(prefix) =>
            {
                &host[prefix.len()..]
            }
            _ => &host[..],
        };
        aor.push_str(host);
    }
    if config.case_sensitive && !user.is_empty() {
        let (u, d) = aor.split_at(user.len());
        Ok(format!("{u}{}", d.to_ascii_lowercase()))
    } else {
        Ok(aor.to_ascii_lowercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aor_forms() {
        let c = RegistrarConfig::default();
        assert_eq!(
            extract_aor("sip:Alice@Example.COM;transport=tcp", &c, false).unwrap(),
            "alice"
        );
        assert_eq!(
            extract_aor("sip:Alice@Example.COM", &c, true).unwrap(),
            "alice@example.com"
        );
        assert_eq!(extract_aor("sip:al%69ce@x", &c, false).unwrap(), "alice");
        let sensitive = RegistrarConfig {
            case_sensitive: true,
            realm_prefix: Some("sip.".into()),
            ..RegistrarConfig::default()
        };
        assert_eq!(
            extract_aor("sips:Alice@SIP.example.com", &sensitive, true).unwrap(),
            "Alice@sip.example.com"
        );
        assert_eq!(
            extract_aor("sips:Alice@sip.example.com", &sensitive, true).unwrap(),
            "Alice@example.com"
        );
        assert_eq!(extract_aor("tel:+4930123", &c, false).unwrap(), "+4930123");
        assert_eq!(extract_aor("http://x", &c, false), Err(RegError::AorParse));
        assert_eq!(extract_aor("not a uri", &c, false), Err(RegError::AorParse));
        let long = format!("sip:{}@x", "a".repeat(65));
        assert_eq!(extract_aor(&long, &c, false), Err(RegError::AorTooLong));
    }
}
