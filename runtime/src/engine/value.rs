//! Run-time values: int, string, or undefined (`$null`), with the
//! conversions of Kamailio 3.0+ rvalues.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Val {
    Null,
    Int(i64),
    Str(String),
}

/// `int("123")` = 123, `int("12ab")` = 12, `int("abc")` = 0 (leading
/// white space and sign accepted).
pub(crate) fn str_to_int(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n = digits[..end].parse::<i64>().unwrap_or(0);
    if neg {
        -n
    } else {
        n
    }
}

impl Val {
    pub fn str(s: impl Into<String>) -> Val {
        Val::Str(s.into())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_int(&self) -> i64 {
        match self {
            Val::Null => 0,
            Val::Int(i) => *i,
            Val::Str(s) => str_to_int(s),
        }
    }

    /// The string form; `$null` is the empty string.
    pub fn as_string(&self) -> String {
        match self {
            Val::Null => String::new(),
            Val::Int(i) => i.to_string(),
            Val::Str(s) => s.clone(),
        }
    }

    /// As xlog prints it (`<null>` for an undefined value).
    pub fn printed(&self) -> String {
        match self {
            Val::Null => "<null>".to_string(),
            other => other.as_string(),
        }
    }
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.printed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions() {
        assert_eq!(str_to_int(" 42x"), 42);
        assert_eq!(str_to_int("-7"), -7);
        assert_eq!(str_to_int("abc"), 0);
        assert_eq!(Val::Null.printed(), "<null>");
        assert_eq!(Val::Int(3).as_string(), "3");
    }
}
