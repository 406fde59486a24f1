//! Era spans: the set of releases in which something exists.
//!
//! # Syntax
//!
//! A span is one or more segments separated by `;`:
//!
//! | segment | releases |
//! |---|---|
//! | `K6.x` | that release (plus the unsampled releases after it, see below) |
//! | `S0.8–K1.5` (or `-`) | every release on a lineage path from the first to the second |
//! | `K3.3–` or `K3.3+` | that release and every release descending from it |
//!
//! # Spans that cross lineages
//!
//! A range `A–B` is read on the lineage DAG (see [`super::release`]): it holds
//! every release that descends from `A` and is an ancestor of `B`. So
//!
//! * `S0.8–O1.1` = SER 0.8, 0.9, then OpenSER 1.0 and 1.1 (not SER 2.0);
//! * `S0.8–S2.0` = the SER line only (not OpenSER, which forked off 0.9);
//! * `O1.1–K6.x` = OpenSER 1.1 … Kamailio 1.5 and the merged tree, not SER 2.0;
//! * `S2.0–K4.4` = SER 2.0 and K3.0 … K4.4, not the OpenSER line;
//! * `S0.8–K6.x` (or `…–K6.x` from any start before the fork) = both lines
//!   and the merged tree, since both lead into K3.0.
//!
//! `A–B` where `A` does not precede `B` on any path (`S2.0–O1.3`) is an error.
//!
//! # Unsampled releases
//!
//! A span is parsed for the sample set it was written in ([`Sampling`]): a
//! segment ending at `B` also covers the releases right after `B` that the set
//! did not sample, on `B`'s own line (a fact seen at a sample holds until the
//! next sample). So in modules.md terms `K1.5–K5.0` includes K5.4 and
//! `K5.0` alone covers K5.0 and K5.4, while `S0.8–S0.9` does not reach into
//! OpenSER 1.0 (another line).

use super::release::{era_mask, era_releases, Lineage, Release, Sampling, ALL_RELEASES};
use sercompat_grammar::Era;
use std::fmt;

/// A set of releases.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct EraSpan {
    mask: u32,
}

impl EraSpan {
    pub const EMPTY: EraSpan = EraSpan { mask: 0 };

    /// Every release.
    pub fn all() -> EraSpan {
        ALL_RELEASES.into_iter().collect()
    }

    /// Parse `text` written in the sample set `sampling`.
    pub fn parse(text: &str, sampling: Sampling) -> Result<EraSpan, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty era span".into());
        }
        let mut span = EraSpan::EMPTY;
        for seg in text.split(';') {
            span = span.union(parse_segment(seg.trim(), sampling)?);
        }
        Ok(span)
    }

    pub fn single(r: Release) -> EraSpan {
        EraSpan { mask: r.bit() }
    }

    pub fn contains(self, r: Release) -> bool {
        self.mask & r.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.mask == 0
    }

    pub fn union(self, other: EraSpan) -> EraSpan {
        EraSpan {
            mask: self.mask | other.mask,
        }
    }

    pub fn intersect(self, other: EraSpan) -> EraSpan {
        EraSpan {
            mask: self.mask & other.mask,
        }
    }

    /// The releases, in catalog order.
    pub fn releases(self) -> impl Iterator<Item = Release> {
        ALL_RELEASES.into_iter().filter(move |r| self.contains(*r))
    }

    /// Whether some release of `era` is in the span.
    pub fn in_era(self, era: Era) -> bool {
        self.mask & era_mask(era) != 0
    }

    /// The releases of `era` that are in the span.
    pub fn releases_in_era(self, era: Era) -> impl Iterator<Item = Release> {
        era_releases(era)
            .iter()
            .copied()
            .filter(move |r| self.contains(*r))
    }

    /// How the span relates to `era`: present, not yet, removed, or only on
    /// another line. "Removed" names the last releases seen before the era
    /// and the first ones without it (on each line that leads to the era).
    pub fn availability(self, era: Era) -> Availability {
        let Some(&e0) = era_releases(era).first() else {
            return Availability::NoReleases;
        };
        if self.in_era(era) {
            return Availability::Present;
        }
        let before: Vec<Release> = self
            .releases()
            .filter(|r| *r != e0 && r.is_ancestor_of(e0))
            .collect();
        if !before.is_empty() {
            let gone_in: Vec<Release> = ALL_RELEASES
                .into_iter()
                .filter(|g| {
                    !self.contains(*g)
                        && g.is_ancestor_of(e0)
                        && g.parents().iter().any(|p| self.contains(*p))
                })
                .collect();
            let last_seen = ALL_RELEASES
                .into_iter()
                .filter(|r| self.contains(*r) && gone_in.iter().any(|g| g.parents().contains(r)))
                .collect();
            return Availability::Removed { last_seen, gone_in };
        }
        if let Some(first) = self.releases().find(|r| e0.is_ancestor_of(*r)) {
            return Availability::NotYet { first };
        }
        Availability::OtherLine {
            releases: self.releases().collect(),
        }
    }
}

impl FromIterator<Release> for EraSpan {
    fn from_iter<I: IntoIterator<Item = Release>>(iter: I) -> EraSpan {
        EraSpan {
            mask: iter.into_iter().fold(0, |m, r| m | r.bit()),
        }
    }
}

fn parse_release(s: &str) -> Result<Release, String> {
    Release::from_code(s.trim()).ok_or_else(|| format!("unknown release `{}`", s.trim()))
}

fn parse_segment(seg: &str, sampling: Sampling) -> Result<EraSpan, String> {
    if seg.is_empty() {
        return Err("empty segment in era span".into());
    }
    if let Some(start) = seg.strip_suffix('+') {
        return Ok(descendants(parse_release(start)?));
    }
    let dash = seg.find(['–', '-']);
    let Some(i) = dash else {
        let r = parse_release(seg)?;
        return Ok(EraSpan::single(r).union(unsampled_after(r, sampling)));
    };
    let dash_len = seg[i..].chars().next().map_or(1, char::len_utf8);
    let (a, b) = (&seg[..i], &seg[i + dash_len..]);
    let a = parse_release(a)?;
    if b.trim().is_empty() {
        return Ok(descendants(a));
    }
    let b = parse_release(b)?;
    if !a.is_ancestor_of(b) {
        return Err(format!(
            "{a} does not precede {b} on any lineage path (`{seg}`)"
        ));
    }
    let path: EraSpan = ALL_RELEASES
        .into_iter()
        .filter(|r| a.is_ancestor_of(*r) && r.is_ancestor_of(b))
        .collect();
    Ok(path.union(unsampled_after(b, sampling)))
}

fn descendants(a: Release) -> EraSpan {
    ALL_RELEASES
        .into_iter()
        .filter(|r| a.is_ancestor_of(*r))
        .collect()
}

/// The run of releases after `b` on its own line that `sampling` skipped.
fn unsampled_after(b: Release, sampling: Sampling) -> EraSpan {
    let mut out = EraSpan::EMPTY;
    let mut frontier = vec![b];
    while let Some(r) = frontier.pop() {
        for c in r.children() {
            if !sampling.samples(c) && same_line(r, c) {
                out = out.union(EraSpan::single(c));
                frontier.push(c);
            }
        }
    }
    out
}

fn same_line(a: Release, b: Release) -> bool {
    a.lineage() == b.lineage()
        || (a.lineage() == Lineage::OpenSer && b.lineage() == Lineage::Merged)
}

impl fmt::Display for EraSpan {
    /// Maximal runs per line, `A–B` / `A–` (open to K6.x) / `A`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("(none)");
        }
        let mut first = true;
        for line in [Lineage::Ser, Lineage::OpenSer, Lineage::Merged] {
            let rel: Vec<Release> = ALL_RELEASES
                .into_iter()
                .filter(|r| r.lineage() == line)
                .collect();
            let mut i = 0;
            while i < rel.len() {
                if !self.contains(rel[i]) {
                    i += 1;
                    continue;
                }
                let mut j = i;
                while j + 1 < rel.len() && self.contains(rel[j + 1]) {
                    j += 1;
                }
                if !first {
                    f.write_str("; ")?;
                }
                first = false;
                if i == j {
                    write!(f, "{}", rel[i])?;
                } else if rel[j] == Release::K6x {
                    write!(f, "{}–", rel[i])?;
                } else {
                    write!(f, "{}–{}", rel[i], rel[j])?;
                }
                i = j + 1;
            }
        }
        Ok(())
    }
}

/// How a span relates to an era ([`EraSpan::availability`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    Present,
    /// Only in releases after the era; `first` is the earliest.
    NotYet {
        first: Release,
    },
    /// In releases before the era but not in it.
    Removed {
        /// The latest releases before the era that have it.
        last_seen: Vec<Release>,
        /// The first releases (on the way to the era) without it.
        gone_in: Vec<Release>,
    },
    /// Only on a line that does not lead to the era (e.g. SER 2.0 only,
    /// asked for OpenSER 1.2).
    OtherLine {
        releases: Vec<Release>,
    },
    /// The era has no sampled release (the 2001 rule table).
    NoReleases,
}

fn join(rs: &[Release]) -> String {
    rs.iter().map(|r| r.code()).collect::<Vec<_>>().join(", ")
}

impl fmt::Display for Availability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Availability::Present => f.write_str("present"),
            Availability::NotYet { first } => {
                write!(f, "not yet: first in {} ({})", first, first.product())
            }
            Availability::Removed { last_seen, gone_in } => write!(
                f,
                "removed: last seen in {}, absent from {} on",
                join(last_seen),
                join(gone_in)
            ),
            Availability::OtherLine { releases } => {
                write!(f, "only in {} (another line)", join(releases))
            }
            Availability::NoReleases => f.write_str("no release sampled for this era"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Release::*;

    fn m(s: &str) -> EraSpan {
        EraSpan::parse(s, Sampling::Modules).unwrap()
    }
    fn l(s: &str) -> EraSpan {
        EraSpan::parse(s, Sampling::Language).unwrap()
    }
    fn rel(s: EraSpan) -> Vec<Release> {
        s.releases().collect()
    }

    #[test]
    fn ser_line_only() {
        assert_eq!(rel(m("S0.8–S2.0")), vec![S0_8, S0_9, S2_0]);
        assert_eq!(rel(l("S0.8-S2.0")), vec![S0_8, S0_9, S2_0]);
    }

    #[test]
    fn crossing_the_fork() {
        assert_eq!(rel(l("S0.8–O1.1")), vec![S0_8, S0_9, O1_0, O1_1]);
        // modules.md did not sample O1.2: O1.1 stands for it
        assert_eq!(rel(m("S0.8–O1.1")), vec![S0_8, S0_9, O1_0, O1_1, O1_2]);
        let all = m("S0.8–K6.x");
        assert_eq!(all, EraSpan::all());
        let o = rel(m("O1.1–K6.x"));
        assert!(!o.contains(&S2_0) && !o.contains(&O1_0) && o.contains(&K3_0));
        let s = rel(l("S2.0–K4.4"));
        assert_eq!(s, vec![S2_0, K3_0, K3_1, K3_3, K4_0, K4_4]);
    }

    #[test]
    fn open_and_single_forms() {
        assert_eq!(
            rel(l("K3.3–")),
            vec![K3_3, K4_0, K4_4, K5_0, K5_4, K5_6, K6_0, K6x]
        );
        assert_eq!(l("K3.3+"), l("K3.3–"));
        assert_eq!(rel(m("K6.x")), vec![K6x]);
        assert_eq!(rel(l("K6.0")), vec![K6_0]);
        assert_eq!(l("O1.0–"), l("O1.0–K6.x"));
        assert!(!l("O1.0–").contains(S2_0));
    }

    #[test]
    fn unsampled_releases_follow_the_previous_sample() {
        assert_eq!(rel(m("K5.0")), vec![K5_0, K5_4]);
        assert!(m("K1.5–K5.0").contains(K5_4));
        assert!(!m("K5.6–K6.x").contains(K5_4));
        assert!(m("K5.6–K6.x").contains(K6_0));
        assert_eq!(rel(m("S0.8–S0.9")), vec![S0_8, S0_9]);
        assert_eq!(rel(m("O1.3")), vec![O1_3, K1_4]);
        assert_eq!(rel(l("K1.4")), vec![K1_4, K1_5]);
        assert_eq!(rel(l("K5.0")), vec![K5_0]);
    }

    #[test]
    fn multi_segment() {
        let s = l("S0.8–O1.0; S2.0–K4.4");
        assert_eq!(
            rel(s),
            vec![S0_8, S0_9, S2_0, O1_0, K3_0, K3_1, K3_3, K4_0, K4_4]
        );
    }

    #[test]
    fn errors() {
        assert!(EraSpan::parse("S2.0–O1.3", Sampling::Modules)
            .unwrap_err()
            .contains("does not precede"));
        assert!(EraSpan::parse("K7.0", Sampling::Modules).is_err());
        assert!(EraSpan::parse("", Sampling::Modules).is_err());
        assert!(EraSpan::parse("K3.0;", Sampling::Modules).is_err());
        assert!(EraSpan::parse("K5.0–K3.0", Sampling::Modules).is_err());
    }

    #[test]
    fn display_compresses_runs() {
        assert_eq!(
            l("S0.8–O1.0; S2.0–K4.4").to_string(),
            "S0.8–S2.0; O1.0; K3.0–K4.4"
        );
        assert_eq!(l("K3.3+").to_string(), "K3.3–");
        assert_eq!(m("K6.x").to_string(), "K6.x");
    }

    #[test]
    fn availability() {
        let fifo = l("S0.8–O1.1");
        assert_eq!(fifo.availability(Era::Ser08), Availability::Present);
        assert_eq!(
            fifo.availability(Era::Kamailio5),
            Availability::Removed {
                last_seen: vec![S0_9, O1_1],
                gone_in: vec![S2_0, O1_2]
            }
        );
        assert_eq!(
            l("K5.6–").availability(Era::Kamailio4),
            Availability::NotYet { first: K5_6 }
        );
        assert!(matches!(
            l("S2.0").availability(Era::OpenSer12),
            Availability::OtherLine { .. }
        ));
        assert_eq!(
            l("S0.8–").availability(Era::Rules2001),
            Availability::NoReleases
        );
        let s = l("S0.8–O1.1").availability(Era::Kamailio5).to_string();
        assert_eq!(
            s,
            "removed: last seen in S0.9, O1.1, absent from S2.0, O1.2 on"
        );
    }
}
