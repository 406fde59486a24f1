//! Accepted argument counts, per era.
//!
//! Written as in the reference: `SPAN:COUNTS` segments separated by `;`,
//! e.g. `S0.8–S2.0:0; O1.1:0,1; O1.3–K1.5:0,1,2; K3.0–K6.x:0,2`. COUNTS is a
//! comma list of numbers (0–7) or `?` (not stated: any count is accepted).
//! Overlapping segments add up.

use super::release::{era_releases, Release, Sampling};
use super::span::EraSpan;
use sercompat_grammar::Era;
use std::fmt;

/// A set of accepted argument counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Arity {
    counts: u8,
    unknown: bool,
}

impl Arity {
    pub const MAX: u8 = 7;

    /// No count accepted (the function does not exist).
    pub const NONE: Arity = Arity {
        counts: 0,
        unknown: false,
    };

    /// The reference does not say: any count is accepted.
    pub const UNKNOWN: Arity = Arity {
        counts: 0,
        unknown: true,
    };

    pub fn exactly(n: u8) -> Arity {
        assert!(n <= Self::MAX);
        Arity {
            counts: 1 << n,
            unknown: false,
        }
    }

    /// Parse `0,2` or `?`.
    pub fn parse(s: &str) -> Result<Arity, String> {
        let mut a = Arity::NONE;
        for c in s.split(',') {
            let c = c.trim();
            if c == "?" {
                a.unknown = true;
                continue;
            }
            let n: u8 = c
                .parse()
                .map_err(|_| format!("bad argument count `{c}` in `{s}`"))?;
            if n > Self::MAX {
                return Err(format!("argument count {n} is above {}", Self::MAX));
            }
            a.counts |= 1 << n;
        }
        Ok(a)
    }

    pub fn accepts(self, n: usize) -> bool {
        self.unknown || (n <= Self::MAX as usize && self.counts & (1 << n) != 0)
    }

    /// Whether the counts are not stated by the reference.
    pub fn is_unknown(self) -> bool {
        self.unknown
    }

    pub fn is_none(self) -> bool {
        self.counts == 0 && !self.unknown
    }

    /// The stated counts, ascending.
    pub fn counts(self) -> Vec<u8> {
        (0..=Self::MAX)
            .filter(|n| self.counts & (1 << n) != 0)
            .collect()
    }

    pub fn max(self) -> Option<u8> {
        self.counts().last().copied()
    }

    pub fn union(self, o: Arity) -> Arity {
        Arity {
            counts: self.counts | o.counts,
            unknown: self.unknown || o.unknown,
        }
    }
}

impl fmt::Display for Arity {
    /// `2`, `0 or 2`, `0, 1 or 2`, `any number`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.unknown {
            return f.write_str("any number");
        }
        let c = self.counts();
        match c.as_slice() {
            [] => f.write_str("none"),
            [one] => write!(f, "{one}"),
            [init @ .., last] => {
                let init: Vec<String> = init.iter().map(u8::to_string).collect();
                write!(f, "{} or {last}", init.join(", "))
            }
        }
    }
}

/// Argument counts by era.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AritySpans {
    segments: Vec<(EraSpan, Arity)>,
}

impl AritySpans {
    pub fn parse(text: &str, sampling: Sampling) -> Result<AritySpans, String> {
        let mut segments = Vec::new();
        for seg in text.split(';') {
            let seg = seg.trim();
            let (span, counts) = seg
                .rsplit_once(':')
                .ok_or_else(|| format!("arity segment `{seg}` has no `:COUNTS`"))?;
            segments.push((EraSpan::parse(span, sampling)?, Arity::parse(counts)?));
        }
        Ok(AritySpans { segments })
    }

    /// The same counts for every release of `span`.
    pub fn uniform(span: EraSpan, arity: Arity) -> AritySpans {
        AritySpans {
            segments: vec![(span, arity)],
        }
    }

    pub fn segments(&self) -> &[(EraSpan, Arity)] {
        &self.segments
    }

    /// All releases with some accepted count.
    pub fn span(&self) -> EraSpan {
        self.segments
            .iter()
            .fold(EraSpan::EMPTY, |s, (sp, _)| s.union(*sp))
    }

    /// The counts accepted in one release (`None`: absent there).
    pub fn at(&self, r: Release) -> Option<Arity> {
        let a = self
            .segments
            .iter()
            .filter(|(s, _)| s.contains(r))
            .fold(Arity::NONE, |a, (_, b)| a.union(*b));
        (!a.is_none()).then_some(a)
    }

    /// The counts accepted in any release of `era` (`None`: absent in the era).
    /// An era spans several releases; the union is what a config of that era
    /// may legitimately use.
    pub fn in_era(&self, era: Era) -> Option<Arity> {
        era_releases(era)
            .iter()
            .filter_map(|r| self.at(*r))
            .reduce(Arity::union)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_query() {
        let t = AritySpans::parse(
            "S0.8–S2.0:0; O1.1:0,1; O1.3–K1.5:0,1,2; K3.0–K6.x:0,2",
            Sampling::Modules,
        )
        .unwrap();
        assert_eq!(t.in_era(Era::Kamailio5).unwrap().counts(), vec![0, 2]);
        assert_eq!(t.in_era(Era::OpenSer12).unwrap().counts(), vec![0, 1, 2]);
        assert_eq!(t.in_era(Era::OpenSer10).unwrap().counts(), vec![0, 1]);
        assert_eq!(t.in_era(Era::Ser08).unwrap().counts(), vec![0]);
        assert_eq!(t.at(Release::O1_0), None);
        assert_eq!(t.in_era(Era::Rules2001), None);
    }

    #[test]
    fn display() {
        assert_eq!(Arity::parse("0,2").unwrap().to_string(), "0 or 2");
        assert_eq!(Arity::parse("0,1,2").unwrap().to_string(), "0, 1 or 2");
        assert_eq!(Arity::parse("2").unwrap().to_string(), "2");
        assert_eq!(Arity::parse("?").unwrap().to_string(), "any number");
        assert!(Arity::parse("?").unwrap().accepts(5));
        assert!(Arity::parse("8").is_err());
        assert!(Arity::parse("x").is_err());
        assert!(AritySpans::parse("S0.8", Sampling::Modules).is_err());
    }
}
