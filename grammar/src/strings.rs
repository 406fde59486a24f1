//! String literal values.

/// The value of a string token's text (with its quotes), with escapes
/// decoded as Kamailio does: `\n \r \t \a \\ \"`, `\xH[H]`, `\NN[N]` octal
/// (two or three digits, so `\1` back-references survive), backslash-newline
/// removed; any other `\c` kept with its backslash. Single-quoted strings
/// take no escapes.
pub fn decode(raw: &str) -> String {
    let (quote, body) = match raw.as_bytes().first() {
        Some(b'\'') => ('\'', &raw[1..]),
        Some(b'"') => ('"', &raw[1..]),
        _ => return raw.to_string(),
    };
    let body = body.strip_suffix(quote).unwrap_or(body);
    if quote == '\'' || !body.contains('\\') {
        return body.to_string();
    }
    let b = body.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b'r' => out.push(b'\r'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'\\' => out.push(b'\\'),
            b'"' => out.push(b'"'),
            b'\n' => {}
            b'x' => {
                let digits = b[i..]
                    .iter()
                    .take(2)
                    .take_while(|d| d.is_ascii_hexdigit())
                    .count();
                if digits == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    let v = u8::from_str_radix(std::str::from_utf8(&b[i..i + digits]).unwrap(), 16)
                        .unwrap();
                    out.push(v);
                    i += digits;
                }
            }
            b'0'..=b'7' => {
                let digits = 1 + b[i..]
                    .iter()
                    .take(2)
                    .take_while(|d| (b'0'..=b'7').contains(d))
                    .count();
                if digits < 2 {
                    out.push(b'\\');
                    out.push(c);
                } else {
                    let v = u32::from_str_radix(
                        std::str::from_utf8(&b[i - 1..i - 1 + digits]).unwrap(),
                        8,
                    )
                    .unwrap();
                    out.push((v & 0xff) as u8);
                    i += digits - 1;
                }
            }
            other => {
                out.push(b'\\');
                out.push(other);
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[test]
    fn escapes() {
        assert_eq!(decode(r#""a\nb""#), "a\nb");
        assert_eq!(decode(r#""^\+1\d""#), r"^\+1\d");
        assert_eq!(decode(r#""\1 \101""#), r"\1 A");
        assert_eq!(decode(r#"'a\nb'"#), r"a\nb");
        assert_eq!(decode(r#""\x41""#), "A");
    }
}
