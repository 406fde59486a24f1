//! The era (dialect) of a config, how it was chosen, and the meanings that
//! differ between eras.

use std::fmt;

/// A family of releases sharing one grammar. Ordered roughly by history,
/// but the SER and OpenSER lines are parallel: use the predicates, not `<`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Era {
    /// The 2001 sip_router rule table: `method_re uri_re destination` lines.
    Rules2001,
    /// SER 0.8.x (2002–2004).
    Ser08,
    /// SER 0.9.x.
    Ser09,
    /// SER 2.0 (CVS trunk 2005–2008): AVPs `$f.x`, selects, named routes/flags.
    Ser2,
    /// OpenSER 1.0 / 1.1.
    OpenSer10,
    /// OpenSER 1.2 / 1.3 and Kamailio 1.4 / 1.5: pseudo-variables, `$var`, `%` modulo.
    OpenSer12,
    /// sip-router / Kamailio 3.x (and SER 3.x).
    Kamailio3,
    Kamailio4,
    Kamailio5,
    Kamailio6,
}

pub const ALL_ERAS: [Era; 10] = [
    Era::Rules2001,
    Era::Ser08,
    Era::Ser09,
    Era::Ser2,
    Era::OpenSer10,
    Era::OpenSer12,
    Era::Kamailio3,
    Era::Kamailio4,
    Era::Kamailio5,
    Era::Kamailio6,
];

impl Era {
    /// The names accepted by `--dialect` (first is canonical).
    pub fn names(self) -> &'static [&'static str] {
        match self {
            Era::Rules2001 => &["rules-2001", "sip-router-2001"],
            Era::Ser08 => &["ser-0.8", "ser08"],
            Era::Ser09 => &["ser-0.9", "ser09"],
            Era::Ser2 => &["ser-2", "ser-2.x", "ser2"],
            Era::OpenSer10 => &["openser-1.0", "openser-1.1"],
            Era::OpenSer12 => &[
                "openser-1.2",
                "openser-1.3",
                "openser-1.x",
                "openser",
                "kamailio-1",
                "kamailio-1.x",
                "kamailio-1.4",
                "kamailio-1.5",
            ],
            Era::Kamailio3 => &[
                "kamailio-3",
                "kamailio-3.x",
                "sr-3",
                "sr-3.x",
                "ser-3",
                "sip-router",
            ],
            Era::Kamailio4 => &["kamailio-4", "kamailio-4.x"],
            Era::Kamailio5 => &["kamailio-5", "kamailio-5.x", "kamailio"],
            Era::Kamailio6 => &["kamailio-6", "kamailio-6.x"],
        }
    }

    pub fn name(self) -> &'static str {
        self.names()[0]
    }

    pub fn from_name(s: &str) -> Option<Era> {
        let s = s.to_ascii_lowercase();
        ALL_ERAS
            .into_iter()
            .find(|e| e.names().contains(&s.as_str()))
    }

    /// The era label of `../shared/corpus/INDEX.tsv`.
    pub fn from_corpus_label(s: &str) -> Option<Era> {
        Some(match s {
            "ser-0.8" => Era::Ser08,
            "ser-0.9" => Era::Ser09,
            "ser-2.x" => Era::Ser2,
            "openser-1.x" | "kamailio-1.x" => Era::OpenSer12,
            "sr-3.x" => Era::Kamailio3,
            "kamailio-4.x" => Era::Kamailio4,
            "kamailio-5.x" => Era::Kamailio5,
            "kamailio-6.x" => Era::Kamailio6,
            _ => return None,
        })
    }

    pub fn is_merged_core(self) -> bool {
        matches!(
            self,
            Era::Kamailio3 | Era::Kamailio4 | Era::Kamailio5 | Era::Kamailio6
        )
    }

    pub fn is_old_ser(self) -> bool {
        matches!(self, Era::Ser08 | Era::Ser09)
    }

    /// Whether `#!define` and friends are directives (K3.0+); before, every `#` line is a comment.
    pub fn has_preprocessor(self) -> bool {
        self.is_merged_core()
    }

    /// SER 0.8/0.9 and OpenSER 1.0/1.1: single `&` and `|` are logical AND/OR.
    pub fn single_amp_is_logical(self) -> bool {
        matches!(self, Era::Ser08 | Era::Ser09 | Era::OpenSer10)
    }

    /// `%` is the modulo operator in OpenSER 1.2 – Kamailio 1.5; in SER 2 and
    /// Kamailio 3.0+ it marks a SER AVP (`%f.x`).
    pub fn percent_is_modulo(self) -> bool {
        matches!(
            self,
            Era::OpenSer12 | Era::OpenSer10 | Era::Ser08 | Era::Ser09
        )
    }

    /// What `break;` means in this era.
    pub fn break_meaning(self) -> StopMeaning {
        match self {
            Era::Rules2001 | Era::Ser08 | Era::Ser09 => StopMeaning::Drop,
            Era::OpenSer10 | Era::OpenSer12 => StopMeaning::LeaveSwitch,
            Era::Ser2 => StopMeaning::ReturnZero,
            _ => StopMeaning::LeaveLoopOrReturn,
        }
    }

    /// What `drop;` means in this era.
    pub fn drop_meaning(self) -> StopMeaning {
        match self {
            Era::Ser2 | Era::Rules2001 | Era::Ser08 | Era::Ser09 => StopMeaning::Exit,
            _ => StopMeaning::Drop,
        }
    }

    pub fn exit_meaning(self) -> StopMeaning {
        match self {
            Era::Ser2 => StopMeaning::Drop,
            _ => StopMeaning::Exit,
        }
    }

    /// The default `$`-lexing mode when no mode header is present.
    pub fn default_dollar_mode(self) -> DollarMode {
        match self {
            Era::Ser2 => DollarMode::Ser,
            Era::OpenSer10 | Era::OpenSer12 => DollarMode::Kamailio,
            Era::Rules2001 | Era::Ser08 | Era::Ser09 => DollarMode::Ser,
            _ => DollarMode::MaxCompat,
        }
    }
}

impl fmt::Display for Era {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How `$name` lexes (K3.0+ mode header lines `#!SER`, `#!KAMAILIO`, ...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DollarMode {
    /// `#!SER`: every `$name` is a SER AVP.
    Ser,
    /// `#!KAMAILIO` / `#!OPENSER`: every `$name` is a pseudo-variable.
    Kamailio,
    /// `#!MAXCOMPAT` / `#!ALL` (the K3.0+ default): `$name(...)` is a
    /// pseudo-variable, `$f.x` a SER AVP, bare `$name` is resolved at load
    /// time (a registered pseudo-variable, else an AVP).
    MaxCompat,
}

/// What a stop-like keyword (`break`, `drop`, `exit`) does in the file's era.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopMeaning {
    /// Stop the script and do not forward (request) / relay (reply).
    Drop,
    /// Stop the script; forwarding decisions already made stand.
    Exit,
    /// Return 0 from the current route (SER 2.0 `break`).
    ReturnZero,
    /// End the current `switch` case (OpenSER / Kamailio 1.x `break`).
    LeaveSwitch,
    /// Leave the innermost `switch`/`while`; outside them, return from the route (K3.0+).
    LeaveLoopOrReturn,
}

/// The era used for a file, and why.
#[derive(Clone, Debug)]
pub struct EraChoice {
    pub era: Era,
    pub reason: EraReason,
}

#[derive(Clone, Debug)]
pub enum EraReason {
    /// `--dialect` on the command line.
    CommandLine,
    /// A mode header line such as `#!KAMAILIO` (line number).
    ModeHeader(String, usize),
    /// Detected from the content: the evidence, strongest first.
    Detected(Vec<String>),
    /// Nothing pointed anywhere: the current grammar is assumed.
    Default,
}

impl fmt::Display for EraReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EraReason::CommandLine => f.write_str("chosen with --dialect"),
            EraReason::ModeHeader(h, line) => write!(f, "mode header `{h}` on line {line}"),
            EraReason::Detected(ev) => write!(f, "detected from {}", ev.join("; ")),
            EraReason::Default => {
                f.write_str("no era-specific construct found; assuming current Kamailio")
            }
        }
    }
}
