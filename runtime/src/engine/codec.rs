//! Text codecs behind the `s.` transformations: base64 (RFC 4648 standard
//! alphabet, padded or not) and the URL encoding of `s.urlencode.param`
//! (unreserved `A-Z a-z 0-9 - _ . ~` kept, the rest `%xx`, lower case as
//! Kamailio writes it).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub(crate) fn base64_encode(data: &[u8], pad: bool) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (b[0] as u32) << 16 | (b[1] as u32) << 8 | b[2] as u32;
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes padded or unpadded base64; `None` on any other character or
/// a length no encoder produces.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let body = text.trim_end_matches('=');
    if text.len() - body.len() > 2 {
        return None;
    }
    let mut out = Vec::with_capacity(body.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in body.bytes() {
        let v = ALPHABET.iter().position(|a| *a == c)? as u32;
        acc = acc << 6 | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits & 0xff) as u8);
        }
    }
    // A lone 6-bit group cannot encode a byte.
    (body.len() % 4 != 1).then_some(out)
}

pub(crate) fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02x}"));
        }
    }
    out
}

/// `%xx` decoded and `+` read as a space; `None` on a broken escape.
pub(crate) fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let h = b.get(i + 1).and_then(|c| (*c as char).to_digit(16))?;
                let l = b.get(i + 2).and_then(|c| (*c as char).to_digit(16))?;
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_encode(b"Hi there", true), "SGkgdGhlcmU=");
        assert_eq!(base64_encode(b"Hi there", false), "SGkgdGhlcmU");
        assert_eq!(base64_encode(b"", true), "");
        assert_eq!(base64_decode("SGkgdGhlcmU=").unwrap(), b"Hi there");
        assert_eq!(base64_decode("SGkgdGhlcmU").unwrap(), b"Hi there");
        assert!(base64_decode("Hi there").is_none());
        assert!(base64_decode("QQ===").is_none());
    }

    #[test]
    fn url_codec() {
        assert_eq!(url_encode("a b/~"), "a%20b%2f~");
        assert_eq!(url_decode("a+b%2F").as_deref(), Some("a b/"));
        assert_eq!(url_decode("%4"), None);
    }
}
