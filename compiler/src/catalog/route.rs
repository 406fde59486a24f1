//! The route types a function may be called from.
//!
//! Letters as in modules.md (as of K5.6, or the last era with the function):
//! `R` request_route / route[], `F` failure_route, `O` onreply_route,
//! `B` branch_route, `S` onsend_route, `L` local_route /
//! `event_route[tm:local-request]`, `V` event_route (tm:branch-failure),
//! `*` any route.

use std::fmt;

/// A route block type, as far as function restrictions go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RouteType {
    Request,
    Failure,
    OnReply,
    Branch,
    OnSend,
    Local,
    Event,
}

impl RouteType {
    pub fn letter(self) -> char {
        match self {
            RouteType::Request => 'R',
            RouteType::Failure => 'F',
            RouteType::OnReply => 'O',
            RouteType::Branch => 'B',
            RouteType::OnSend => 'S',
            RouteType::Local => 'L',
            RouteType::Event => 'V',
        }
    }

    pub fn from_letter(c: char) -> Option<RouteType> {
        ALL_ROUTE_TYPES.into_iter().find(|t| t.letter() == c)
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

pub const ALL_ROUTE_TYPES: [RouteType; 7] = [
    RouteType::Request,
    RouteType::Failure,
    RouteType::OnReply,
    RouteType::Branch,
    RouteType::OnSend,
    RouteType::Local,
    RouteType::Event,
];

/// A set of route types; `*` is every type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RouteMask {
    bits: u8,
    any: bool,
}

impl RouteMask {
    pub const ANY: RouteMask = RouteMask { bits: 0, any: true };
    /// No route type this catalog checks (`ERROR_ROUTE` only).
    pub const NONE: RouteMask = RouteMask {
        bits: 0,
        any: false,
    };

    /// Both masks' route types.
    pub fn union(self, other: RouteMask) -> RouteMask {
        RouteMask {
            bits: self.bits | other.bits,
            any: self.any || other.any,
        }
    }

    /// Parse `BFOR`, `R`, `*`.
    pub fn parse(s: &str) -> Result<RouteMask, String> {
        if s == "*" {
            return Ok(RouteMask::ANY);
        }
        if s.is_empty() {
            return Err("empty route letters".into());
        }
        let mut bits = 0;
        for c in s.chars() {
            let t = RouteType::from_letter(c)
                .ok_or_else(|| format!("unknown route letter `{c}` in `{s}`"))?;
            bits |= t.bit();
        }
        Ok(RouteMask { bits, any: false })
    }

    pub fn allows(self, t: RouteType) -> bool {
        self.any || self.bits & t.bit() != 0
    }

    pub fn is_any(self) -> bool {
        self.any
    }
}

impl fmt::Display for RouteMask {
    /// The reference's letters in its usual order (`BFLOR`), or `*`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.any {
            return f.write_str("*");
        }
        for c in ['B', 'F', 'L', 'O', 'R', 'S', 'V'] {
            if self.allows(RouteType::from_letter(c).expect("known letter")) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        let m = RouteMask::parse("BFOR").unwrap();
        assert!(m.allows(RouteType::Failure) && !m.allows(RouteType::OnSend));
        assert_eq!(m.to_string(), "BFOR");
        assert!(RouteMask::parse("*").unwrap().allows(RouteType::Event));
        assert!(RouteMask::parse("RX").is_err());
        assert!(RouteMask::parse("").is_err());
    }
}
