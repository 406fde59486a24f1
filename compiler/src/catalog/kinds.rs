//! Kinds of values: function arguments, module parameters, core parameters,
//! pseudo-variable write access.

use super::release::Sampling;
use super::span::EraSpan;
use std::fmt;

/// The kind of one function argument (modules.md §0: str, int, pv, re,
/// route; plus flag for flag numbers / SER flag names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArgKind {
    /// A string; since K3.0 usually a format that may contain PVs.
    Str,
    /// An integer (quoted in S0.x/O1.x/K1.x, where every arg is a string).
    Int,
    /// A pseudo-variable name (often a writable one).
    Pv,
    /// A POSIX extended regular expression.
    Re,
    /// A route block name or number.
    Route,
    /// A flag number (or a SER 2.0/K3.0+ `flags` name).
    Flag,
    /// Not stated by the reference.
    Unknown,
}

impl ArgKind {
    pub fn code(self) -> &'static str {
        match self {
            ArgKind::Str => "str",
            ArgKind::Int => "int",
            ArgKind::Pv => "pv",
            ArgKind::Re => "re",
            ArgKind::Route => "route",
            ArgKind::Flag => "flag",
            ArgKind::Unknown => "?",
        }
    }

    pub fn from_code(s: &str) -> Option<ArgKind> {
        Some(match s {
            "str" => ArgKind::Str,
            "int" => ArgKind::Int,
            "pv" => ArgKind::Pv,
            "re" => ArgKind::Re,
            "route" => ArgKind::Route,
            "flag" => ArgKind::Flag,
            "?" => ArgKind::Unknown,
            _ => return None,
        })
    }
}

/// The kinds one argument position accepts (`int|str`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgSlot(pub Vec<ArgKind>);

impl ArgSlot {
    pub fn accepts(&self, k: ArgKind) -> bool {
        self.0.contains(&ArgKind::Unknown) || self.0.contains(&k)
    }
}

impl fmt::Display for ArgSlot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v: Vec<&str> = self.0.iter().map(|k| k.code()).collect();
        f.write_str(&v.join("|"))
    }
}

/// Argument kinds of a function.
///
/// Syntax: `-` (takes no arguments); a positional list `str,int|str,pv`
/// (position i has the i-th kinds, whatever the count); or per-count lists
/// `1:str; 2:int|str,str` where the meaning of a position depends on the
/// count (xlog's optional leading level/facility).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArgKinds {
    None,
    Positional(Vec<ArgSlot>),
    ByCount(Vec<(u8, Vec<ArgSlot>)>),
}

fn parse_list(s: &str) -> Result<Vec<ArgSlot>, String> {
    s.split(',')
        .map(|slot| {
            slot.trim()
                .split('|')
                .map(|k| {
                    ArgKind::from_code(k.trim())
                        .ok_or_else(|| format!("unknown argument kind `{}`", k.trim()))
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ArgSlot)
        })
        .collect()
}

impl ArgKinds {
    pub fn parse(s: &str) -> Result<ArgKinds, String> {
        let s = s.trim();
        if s == "-" {
            return Ok(ArgKinds::None);
        }
        if s.is_empty() {
            return Err("empty argument kinds (use `-` for none)".into());
        }
        if !s.contains(':') {
            return Ok(ArgKinds::Positional(parse_list(s)?));
        }
        let mut out = Vec::new();
        for part in s.split(';') {
            let (n, list) = part
                .split_once(':')
                .ok_or_else(|| format!("`{part}`: expected COUNT:KINDS"))?;
            let n: u8 = n
                .trim()
                .parse()
                .map_err(|_| format!("bad argument count `{}`", n.trim()))?;
            let list = if list.trim() == "-" {
                Vec::new()
            } else {
                parse_list(list)?
            };
            if list.len() != n as usize {
                return Err(format!("{n}: lists {} kinds", list.len()));
            }
            out.push((n, list));
        }
        Ok(ArgKinds::ByCount(out))
    }

    /// The kinds of the arguments of a call with `n` arguments (`None` when
    /// nothing is recorded for that count).
    pub fn for_count(&self, n: usize) -> Option<&[ArgSlot]> {
        match self {
            ArgKinds::None => (n == 0).then_some(&[][..]),
            ArgKinds::Positional(v) => v.get(..n),
            ArgKinds::ByCount(v) => v
                .iter()
                .find(|(c, _)| *c as usize == n)
                .map(|(_, l)| l.as_slice()),
        }
    }

    /// The largest number of positions described.
    pub fn max_len(&self) -> usize {
        match self {
            ArgKinds::None => 0,
            ArgKinds::Positional(v) => v.len(),
            ArgKinds::ByCount(v) => v.iter().map(|(n, _)| *n as usize).max().unwrap_or(0),
        }
    }
}

/// The declared type of a module parameter (strict: an int parameter given a
/// string is an error, and vice versa).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamType {
    Int,
    Str,
    /// The reference gives different types by era or variant (recorded in
    /// the row's `type_ref`); either is accepted.
    IntOrStr,
}

impl ParamType {
    pub fn parse(s: &str) -> Result<ParamType, String> {
        Ok(match s {
            "int" => ParamType::Int,
            "str" => ParamType::Str,
            "int|str" => ParamType::IntOrStr,
            _ => return Err(format!("unknown parameter type `{s}`")),
        })
    }
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ParamType::Int => "int",
            ParamType::Str => "str",
            ParamType::IntOrStr => "int|str",
        })
    }
}

/// The value kind of a core parameter (config-language.md §2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CoreValueKind {
    /// int (incl. yes/no words); `negative`: may be negative.
    Int {
        negative: bool,
    },
    /// `"string"`.
    Str,
    /// a bare identifier.
    Id,
    /// `"string"` or identifier.
    StrOrId,
    /// int or identifier.
    IntOrId,
    /// int or `"string"`.
    IntOrStr,
    /// `listen`/`alias`/`domain`: socket list (with `advertise`, `name`, …).
    SocketList,
    /// host name, IP, or `"string"`.
    Host,
    Ipv4,
    Ipv6,
    /// `dst_blacklist = name: { (proto, net, port, "re"), … }` (O1.2–K1.5).
    BlacklistDecl,
    /// One of these words.
    Enum(Vec<&'static str>),
}

impl CoreValueKind {
    pub fn parse(s: &'static str) -> Result<CoreValueKind, String> {
        if let Some(words) = s.strip_prefix("enum:") {
            return Ok(CoreValueKind::Enum(words.split('|').collect()));
        }
        Ok(match s {
            "int" => CoreValueKind::Int { negative: false },
            "int-neg" => CoreValueKind::Int { negative: true },
            "str" => CoreValueKind::Str,
            "id" => CoreValueKind::Id,
            "str-or-id" => CoreValueKind::StrOrId,
            "int-or-id" => CoreValueKind::IntOrId,
            "int-or-str" => CoreValueKind::IntOrStr,
            "socket-list" => CoreValueKind::SocketList,
            "host" => CoreValueKind::Host,
            "ipv4" => CoreValueKind::Ipv4,
            "ipv6" => CoreValueKind::Ipv6,
            "blacklist" => CoreValueKind::BlacklistDecl,
            _ => return Err(format!("unknown core value kind `{s}`")),
        })
    }
}

/// Whether a pseudo-variable can be assigned to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteAccess {
    /// Read-only.
    No,
    /// Writable wherever it exists.
    Yes,
    /// Some attributes or forms are writable (`$branch(attr)`).
    Partly,
    /// Writable only in these releases.
    In(EraSpan),
    /// Not stated by the reference (treated as writable).
    Unknown,
}

impl WriteAccess {
    pub fn parse(s: &str) -> Result<WriteAccess, String> {
        Ok(match s {
            "-" => WriteAccess::No,
            "*" => WriteAccess::Yes,
            "partly" => WriteAccess::Partly,
            "?" => WriteAccess::Unknown,
            _ => WriteAccess::In(EraSpan::parse(s, Sampling::Language)?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arg_kinds() {
        assert_eq!(ArgKinds::parse("-").unwrap(), ArgKinds::None);
        let p = ArgKinds::parse("int|str,str").unwrap();
        assert_eq!(p.for_count(2).unwrap()[0].to_string(), "int|str");
        assert!(p.for_count(3).is_none());
        let x = ArgKinds::parse("1:str; 2:int|str,str").unwrap();
        assert_eq!(x.for_count(1).unwrap().len(), 1);
        assert_eq!(x.for_count(2).unwrap()[0].to_string(), "int|str");
        assert!(ArgKinds::parse("str,bogus").is_err());
        assert!(ArgKinds::parse("2:str").is_err());
        assert!(ArgKinds::parse("").is_err());
        assert!(ArgSlot(vec![ArgKind::Unknown]).accepts(ArgKind::Re));
    }

    #[test]
    fn value_kinds() {
        assert_eq!(
            CoreValueKind::parse("enum:udp|tcp").unwrap(),
            CoreValueKind::Enum(vec!["udp", "tcp"])
        );
        assert!(CoreValueKind::parse("float").is_err());
        assert_eq!(ParamType::parse("int|str").unwrap(), ParamType::IntOrStr);
        assert!(matches!(
            WriteAccess::parse("K3.3–"),
            Ok(WriteAccess::In(_))
        ));
    }
}
