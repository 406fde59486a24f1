//! registrar module parameters (Kamailio 5.6 names, defaults and meanings)
//! and the flags of `save()`.

use std::fmt;

/// `path_mode`: what to do with Path headers of a REGISTER (RFC 3327).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathMode {
    /// 0: stored, never echoed in the reply.
    Off,
    /// 1: stored, echoed when the UA said `Supported: path`.
    Lazy,
    /// 2: stored; echoed when the UA said `Supported: path`, else the
    /// reply is 420 Bad Extension with `Unsupported: path`.
    Strict,
}

impl PathMode {
    pub fn from_number(n: i64) -> Option<PathMode> {
        Some(match n {
            0 => PathMode::Off,
            1 => PathMode::Lazy,
            2 => PathMode::Strict,
            _ => return None,
        })
    }
}

/// The registrar parameters. The engine fills it from
/// `modparam("registrar", ...)`; [`RegistrarConfig::unsupported`] names
/// the values this implementation cannot honour, for the engine to refuse
/// at load time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrarConfig {
    /// Seconds when neither the contact nor the request gives any.
    pub default_expires: u32,
    /// Percent subtracted at random from default_expires (0 = none).
    pub default_expires_range: u32,
    /// Percent subtracted at random from a requested expires (0 = none).
    pub expires_range: u32,
    /// Lowest accepted expires; 0 disables the check.
    pub min_expires: u32,
    /// false: raise a too small expires to min_expires; true: answer 423.
    pub min_expires_mode: bool,
    /// Highest accepted expires, lowered to it; 0 = no limit.
    pub max_expires: u32,
    /// q in thousandths for contacts without one; -1 = unspecified.
    pub default_q: i16,
    /// Stripped from the domain of an AoR (`sip.` makes sip.example.com
    /// the same as example.com); only with use_domain.
    pub realm_prefix: Option<String>,
    /// lookup() adds the other contacts as branches for forking.
    pub append_branches: bool,
    /// AoR user part compared case-sensitively (the domain never is).
    pub case_sensitive: bool,
    /// The AVP whose value (set by nathelper) is stored as `received`;
    /// its value reaches save() through the caller.
    pub received_avp: Option<String>,
    /// Name of the contact parameter carrying `received` in the 200 OK;
    /// empty = not added.
    pub received_param: String,
    /// Most contacts per AoR; 0 = no limit.
    pub max_contacts: u32,
    /// Retry-After seconds added to 5xx replies; 0 = none.
    pub retry_after: u32,
    /// lookup() skips contacts whose methods exclude the request's
    /// (initial requests only).
    pub method_filtering: bool,
    pub use_path: bool,
    pub path_mode: PathMode,
    /// The first Path URI's `received` parameter becomes the contact's
    /// received address and sets the NAT branch flag.
    pub path_use_received: bool,
    pub path_check_local: bool,
    pub gruu_enabled: bool,
    pub outbound_mode: u8,
    pub regid_mode: u8,
    pub flow_timer: u32,
    /// Longest accepted contact URI.
    pub contact_max_size: usize,
    pub xavp_cfg: Option<String>,
    pub xavp_rcd: Option<String>,
    pub sock_flag: Option<u8>,
    pub sock_hdr_name: Option<String>,
    pub sock_mode: u8,
    pub lookup_filter_mode: u32,
    pub use_expired_contacts: bool,
}

impl Default for RegistrarConfig {
    fn default() -> Self {
        RegistrarConfig {
            default_expires: 3600,
            default_expires_range: 0,
            expires_range: 0,
            min_expires: 60,
            min_expires_mode: false,
            max_expires: 0,
            default_q: crate::usrloc::Q_UNSPECIFIED,
            realm_prefix: None,
            append_branches: true,
            case_sensitive: false,
            received_avp: None,
            received_param: "received".to_owned(),
            max_contacts: 0,
            retry_after: 0,
            method_filtering: false,
            use_path: false,
            path_mode: PathMode::Strict,
            path_use_received: false,
            path_check_local: false,
            gruu_enabled: true,
            outbound_mode: 0,
            regid_mode: 0,
            flow_timer: 0,
            contact_max_size: 512,
            xavp_cfg: None,
            xavp_rcd: None,
            sock_flag: None,
            sock_hdr_name: None,
            sock_mode: 0,
            lookup_filter_mode: 0,
            use_expired_contacts: false,
        }
    }
}

/// A parameter value this registrar cannot honour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    pub parameter: &'static str,
    pub why: &'static str,
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "registrar parameter {} is not supported by sercompat: {}",
            self.parameter, self.why
        )
    }
}

impl RegistrarConfig {
    /// Every set parameter whose behaviour is not implemented. Empty for
    /// the defaults.
    pub fn unsupported(&self) -> Vec<Unsupported> {
        let checks: [(bool, &'static str, &'static str); 11] = [
            (
                self.default_expires_range != 0,
                "default_expires_range",
                "randomised expires are not implemented",
            ),
            (
                self.expires_range != 0,
                "expires_range",
                "randomised expires are not implemented",
            ),
            (
                self.path_check_local,
                "path_check_local",
                "skipping a local first Path hop is not implemented",
            ),
            (
                self.outbound_mode != 0,
                "outbound_mode",
                "RFC 5626 outbound procedures (Require/Supported: outbound, flows) are not implemented",
            ),
            (
                self.flow_timer != 0,
                "flow_timer",
                "Flow-Timer needs outbound support",
            ),
            (
                self.xavp_rcd.is_some(),
                "xavp_rcd",
                "record details in XAVPs are not implemented",
            ),
            (
                self.sock_flag.is_some() || self.sock_hdr_name.is_some(),
                "sock_flag/sock_hdr_name",
                "taking the socket from a header is not implemented",
            ),
            (
                self.sock_mode != 0,
                "sock_mode",
                "storing the advertised address as socket is not implemented",
            ),
            (
                self.lookup_filter_mode != 0,
                "lookup_filter_mode",
                "lookup filters are not implemented",
            ),
            (
                self.use_expired_contacts,
                "use_expired_contacts",
                "using expired contacts is not implemented",
            ),
            (
                !(-1..=1000).contains(&self.default_q),
                "default_q",
                "q must be -1 (unspecified) or 0 to 1000",
            ),
        ];
        checks
            .into_iter()
            .filter(|(set, _, _)| *set)
            .map(|(_, parameter, why)| Unsupported { parameter, why })
            .collect()
    }
}

/// The flags of `save(domain, flags)` (Kamailio 5.6 registrar docs §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SaveFlags(pub u32);

impl SaveFlags {
    /// 0x01: memory only, no database operation.
    pub const MEMORY_ONLY: u32 = 0x01;
    /// 0x02: do not send a reply (the caller may send it later with
    /// `reg_send_reply()`).
    pub const NO_REPLY: u32 = 0x02;
    /// 0x04: one contact per AoR; the others are removed.
    pub const SINGLE_CONTACT: u32 = 0x04;
    /// 0x08: no expires randomisation.
    pub const NO_VARIATION: u32 = 0x08;
    /// 0x10: prepare the reply headers (with 0x02).
    pub const PREPARE_REPLY: u32 = 0x10;

    pub fn has(self, flag: u32) -> bool {
        self.0 & flag != 0
    }

    /// The flags argument as the script writes it: decimal or `0x` hex.
    pub fn parse(text: &str) -> Option<SaveFlags> {
        let t = text.trim();
        let n = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => t.parse().ok()?,
        };
        Some(SaveFlags(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_kamailios_and_all_supported() {
        let c = RegistrarConfig::default();
        assert_eq!(
            (
                c.default_expires,
                c.min_expires,
                c.max_expires,
                c.max_contacts
            ),
            (3600, 60, 0, 0)
        );
        assert_eq!(c.default_q, -1);
        assert!(c.append_branches && !c.method_filtering && !c.use_path);
        assert_eq!(c.path_mode, PathMode::Strict);
        assert!(c.unsupported().is_empty());
        let odd = RegistrarConfig {
            outbound_mode: 2,
            expires_range: 30,
            ..RegistrarConfig::default()
        };
        let names: Vec<_> = odd.unsupported().iter().map(|u| u.parameter).collect();
        assert_eq!(names, ["expires_range", "outbound_mode"]);
        assert!(odd.unsupported()[1].to_string().contains("outbound_mode"));
    }

    #[test]
    fn save_flags_parse_like_the_script_writes_them() {
        assert_eq!(SaveFlags::parse("0x04"), Some(SaveFlags(4)));
        assert_eq!(SaveFlags::parse("6"), Some(SaveFlags(6)));
        assert_eq!(SaveFlags::parse("0x1F"), Some(SaveFlags(31)));
        assert_eq!(SaveFlags::parse("x"), None);
        assert!(SaveFlags(6).has(SaveFlags::NO_REPLY));
        assert!(!SaveFlags(6).has(SaveFlags::MEMORY_ONLY));
    }
}
