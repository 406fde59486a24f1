//! The sampled releases the reference was written from, their lineage, and
//! which releases each grammar [`Era`] stands for.
//!
//! The reference (`../shared/reference/*.md`) dates every fact by a small set
//! of *sampled* releases; facts between two samples are unknown. Both files
//! sampled slightly different sets, so [`Release`] is their union and every
//! span records which set it was written in ([`Sampling`]).
//!
//! # Lineage
//!
//! The releases form a DAG, not a line: OpenSER forked from the SER 0.9 trunk,
//! SER 2.0 and OpenSER 1.x / Kamailio 1.x were developed in parallel, and
//! sip-router 3.0 (= Kamailio 3.0) merged both:
//!
//! ```text
//!              ┌─► S2.0 ──────────────────────────────────┐
//! S0.8 ─► S0.9 ┤                                          ├─► K3.0 ─► K3.1 ─► … ─► K6.x
//!              └─► O1.0 ─► O1.1 ─► O1.2 ─► O1.3 ─► K1.4 ─► K1.5 ┘
//! ```
//!
//! # Total order
//!
//! `Release` derives `Ord` in declaration order, which is a topological order
//! of that DAG: SER line (S0.8, S0.9, S2.0), then the OpenSER line (O1.0 …
//! K1.5), then the merged tree (K3.0 … K6.x). So `a.is_ancestor_of(b)`
//! implies `a < b`, but `a < b` does **not** imply that `a` precedes `b` in
//! history (S2.0 < O1.0 although they are parallel). Use the order for
//! sorting and display; use [`Release::is_ancestor_of`] for "before".

use sercompat_grammar::Era;
use std::fmt;

/// A sampled release (see the module docs for order and lineage).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Release {
    /// SER 0.8.x (0.8.8 … 0.8.14, 2002–2004).
    S0_8,
    /// SER 0.9.x (2005–2007).
    S0_9,
    /// SER 2.0 (CVS trunk 2005–2008).
    S2_0,
    /// OpenSER 1.0 (2005-06; config-language samples only).
    O1_0,
    /// OpenSER 1.1 (2006).
    O1_1,
    /// OpenSER 1.2 (2007; config-language samples only).
    O1_2,
    /// OpenSER 1.3 (2008-01).
    O1_3,
    /// Kamailio 1.4 (2008-07; config-language samples only).
    K1_4,
    /// Kamailio 1.5 (2009-03; modules samples only).
    K1_5,
    /// sip-router 3.0 = Kamailio 3.0 = SER 3.0 (2010-01).
    K3_0,
    /// Kamailio 3.1 (config-language samples only).
    K3_1,
    /// Kamailio 3.3 (2012-06).
    K3_3,
    /// Kamailio 4.0 (2013-03).
    K4_0,
    /// Kamailio 4.4 (config-language samples only).
    K4_4,
    /// Kamailio 5.0 (2017-02).
    K5_0,
    /// Kamailio 5.4 (config-language samples only).
    K5_4,
    /// Kamailio 5.6 (the version the reference was checked against).
    K5_6,
    /// Kamailio 6.0 (config-language samples only).
    K6_0,
    /// Kamailio 6.1 / the current devel tree (`K6.x` in modules.md).
    K6x,
}

/// Which code base a release — or a module — belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Lineage {
    /// The SER tree: SER 0.8, 0.9 and 2.0; for modules also the SER code
    /// carried on in sip-router/Kamailio 3.x+ (`modules_s`, SER-origin modules).
    Ser,
    /// The OpenSER / Kamailio 1.x tree (O1.0 … K1.5); for modules also the
    /// OpenSER/Kamailio code carried on in 3.x+ (`modules_k`, K-origin modules).
    OpenSer,
    /// The merged sip-router/Kamailio tree (K3.0+); for modules: code common
    /// to both old trees (a span crossing the fork) or modules that merged
    /// both variants or were new in the merged tree (sl, tmx, kex, corex …).
    Merged,
}

impl Lineage {
    pub fn code(self) -> &'static str {
        match self {
            Lineage::Ser => "ser",
            Lineage::OpenSer => "openser",
            Lineage::Merged => "merged",
        }
    }

    pub fn from_code(s: &str) -> Option<Lineage> {
        Some(match s {
            "ser" => Lineage::Ser,
            "openser" => Lineage::OpenSer,
            "merged" => Lineage::Merged,
            _ => return None,
        })
    }
}

impl fmt::Display for Lineage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The sample set a span was written in. A fact observed at a sample holds
/// for the releases after it that the same set did not sample (up to the
/// next sample of that set, and never across the SER → OpenSER fork): so in
/// modules.md `K1.5–K5.0:0` also covers K5.4, which modules.md did not
/// sample, while `K5.6–K6.x` does not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Sampling {
    /// modules.md: S0.8 S0.9 S2.0 O1.1 O1.3 K1.5 K3.0 K3.3 K4.0 K5.0 K5.6 K6.x.
    Modules,
    /// config-language.md: every release except K1.5.
    Language,
}

impl Sampling {
    pub fn samples(self, r: Release) -> bool {
        use Release::*;
        match self {
            Sampling::Modules => matches!(
                r,
                S0_8 | S0_9 | S2_0 | O1_1 | O1_3 | K1_5 | K3_0 | K3_3 | K4_0 | K5_0 | K5_6 | K6x
            ),
            Sampling::Language => r != K1_5,
        }
    }
}

pub const ALL_RELEASES: [Release; 19] = [
    Release::S0_8,
    Release::S0_9,
    Release::S2_0,
    Release::O1_0,
    Release::O1_1,
    Release::O1_2,
    Release::O1_3,
    Release::K1_4,
    Release::K1_5,
    Release::K3_0,
    Release::K3_1,
    Release::K3_3,
    Release::K4_0,
    Release::K4_4,
    Release::K5_0,
    Release::K5_4,
    Release::K5_6,
    Release::K6_0,
    Release::K6x,
];

impl Release {
    /// The era code of the reference (`S0.8`, `O1.3`, `K6.x`, …).
    pub fn code(self) -> &'static str {
        use Release::*;
        match self {
            S0_8 => "S0.8",
            S0_9 => "S0.9",
            S2_0 => "S2.0",
            O1_0 => "O1.0",
            O1_1 => "O1.1",
            O1_2 => "O1.2",
            O1_3 => "O1.3",
            K1_4 => "K1.4",
            K1_5 => "K1.5",
            K3_0 => "K3.0",
            K3_1 => "K3.1",
            K3_3 => "K3.3",
            K4_0 => "K4.0",
            K4_4 => "K4.4",
            K5_0 => "K5.0",
            K5_4 => "K5.4",
            K5_6 => "K5.6",
            K6_0 => "K6.0",
            K6x => "K6.x",
        }
    }

    /// A human name (`SER 0.9`, `OpenSER 1.1`, `Kamailio 5.6`).
    pub fn product(self) -> &'static str {
        use Release::*;
        match self {
            S0_8 => "SER 0.8",
            S0_9 => "SER 0.9",
            S2_0 => "SER 2.0",
            O1_0 => "OpenSER 1.0",
            O1_1 => "OpenSER 1.1",
            O1_2 => "OpenSER 1.2",
            O1_3 => "OpenSER 1.3",
            K1_4 => "Kamailio 1.4",
            K1_5 => "Kamailio 1.5",
            K3_0 => "sip-router/Kamailio 3.0",
            K3_1 => "Kamailio 3.1",
            K3_3 => "Kamailio 3.3",
            K4_0 => "Kamailio 4.0",
            K4_4 => "Kamailio 4.4",
            K5_0 => "Kamailio 5.0",
            K5_4 => "Kamailio 5.4",
            K5_6 => "Kamailio 5.6",
            K6_0 => "Kamailio 6.0",
            K6x => "Kamailio 6.1/devel",
        }
    }

    pub fn from_code(s: &str) -> Option<Release> {
        ALL_RELEASES.into_iter().find(|r| r.code() == s)
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn bit(self) -> u32 {
        1 << self.index()
    }

    /// The tree this release belongs to.
    pub fn lineage(self) -> Lineage {
        use Release::*;
        match self {
            S0_8 | S0_9 | S2_0 => Lineage::Ser,
            O1_0 | O1_1 | O1_2 | O1_3 | K1_4 | K1_5 => Lineage::OpenSer,
            _ => Lineage::Merged,
        }
    }

    /// Direct predecessors in the lineage DAG.
    pub fn parents(self) -> &'static [Release] {
        use Release::*;
        match self {
            S0_8 => &[],
            S0_9 => &[S0_8],
            S2_0 => &[S0_9],
            O1_0 => &[S0_9],
            O1_1 => &[O1_0],
            O1_2 => &[O1_1],
            O1_3 => &[O1_2],
            K1_4 => &[O1_3],
            K1_5 => &[K1_4],
            K3_0 => &[S2_0, K1_5],
            K3_1 => &[K3_0],
            K3_3 => &[K3_1],
            K4_0 => &[K3_3],
            K4_4 => &[K4_0],
            K5_0 => &[K4_4],
            K5_4 => &[K5_0],
            K5_6 => &[K5_4],
            K6_0 => &[K5_6],
            K6x => &[K6_0],
        }
    }

    /// Direct successors in the lineage DAG.
    pub fn children(self) -> impl Iterator<Item = Release> {
        ALL_RELEASES
            .into_iter()
            .filter(move |c| c.parents().contains(&self))
    }

    /// Bit set of this release and all its ancestors.
    pub(crate) fn ancestors_mask(self) -> u32 {
        let mut m = self.bit();
        for p in self.parents() {
            m |= p.ancestors_mask();
        }
        m
    }

    /// `self` is `other` or precedes it on a lineage path.
    pub fn is_ancestor_of(self, other: Release) -> bool {
        other.ancestors_mask() & self.bit() != 0
    }
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The releases a grammar era stands for. The 2001 rule table predates every
/// sampled release and has no functions, parameters or variables: it maps to
/// none, so every lookup for it is empty.
pub fn era_releases(era: Era) -> &'static [Release] {
    use Release::*;
    match era {
        Era::Rules2001 => &[],
        Era::Ser08 => &[S0_8],
        Era::Ser09 => &[S0_9],
        Era::Ser2 => &[S2_0],
        Era::OpenSer10 => &[O1_0, O1_1],
        Era::OpenSer12 => &[O1_2, O1_3, K1_4, K1_5],
        Era::Kamailio3 => &[K3_0, K3_1, K3_3],
        Era::Kamailio4 => &[K4_0, K4_4],
        Era::Kamailio5 => &[K5_0, K5_4, K5_6],
        Era::Kamailio6 => &[K6_0, K6x],
    }
}

/// The era a release belongs to.
pub fn release_era(r: Release) -> Era {
    use Release::*;
    match r {
        S0_8 => Era::Ser08,
        S0_9 => Era::Ser09,
        S2_0 => Era::Ser2,
        O1_0 | O1_1 => Era::OpenSer10,
        O1_2 | O1_3 | K1_4 | K1_5 => Era::OpenSer12,
        K3_0 | K3_1 | K3_3 => Era::Kamailio3,
        K4_0 | K4_4 => Era::Kamailio4,
        K5_0 | K5_4 | K5_6 => Era::Kamailio5,
        K6_0 | K6x => Era::Kamailio6,
    }
}

pub(crate) fn era_mask(era: Era) -> u32 {
    era_releases(era).iter().fold(0, |m, r| m | r.bit())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sercompat_grammar::dialect::ALL_ERAS;

    #[test]
    fn order_is_topological() {
        for a in ALL_RELEASES {
            for b in ALL_RELEASES {
                if a.is_ancestor_of(b) {
                    assert!(a <= b, "{a} is an ancestor of {b} but sorts after it");
                }
            }
        }
        assert_eq!(ALL_RELEASES.len(), Release::K6x.index() + 1);
        for (i, r) in ALL_RELEASES.into_iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(Release::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn lines_are_parallel() {
        use Release::*;
        assert!(S0_9.is_ancestor_of(S2_0));
        assert!(S0_9.is_ancestor_of(O1_0));
        assert!(!S2_0.is_ancestor_of(O1_1));
        assert!(!O1_3.is_ancestor_of(S2_0));
        assert!(S2_0.is_ancestor_of(K3_0) && K1_5.is_ancestor_of(K3_0));
        assert_eq!(S0_9.children().collect::<Vec<_>>(), vec![S2_0, O1_0]);
    }

    #[test]
    fn every_release_belongs_to_exactly_one_era() {
        for r in ALL_RELEASES {
            let eras: Vec<_> = ALL_ERAS
                .into_iter()
                .filter(|e| era_releases(*e).contains(&r))
                .collect();
            assert_eq!(eras, vec![release_era(r)], "{r}");
        }
        assert!(era_releases(Era::Rules2001).is_empty());
    }
}
