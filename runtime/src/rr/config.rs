//! The `rr` module parameters the runtime applies.

/// `modparam("rr", ...)` values; defaults are Kamailio 5.6's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RrConfig {
    /// `;lr=on` instead of `;lr`.
    pub enable_full_lr: bool,
    /// `;ftag=<From tag>` in our Record-Route (needed by `is_direction`).
    pub append_fromtag: bool,
    /// 0: never two headers; 1: two (`r2=on`) when the outgoing socket
    /// differs from the incoming one; 2: always two (an advertised address
    /// then names both transports).
    pub enable_double_rr: u8,
    /// The Request-URI's user part goes into the Record-Route URI.
    pub add_username: bool,
}

impl Default for RrConfig {
    fn default() -> Self {
        RrConfig {
            enable_full_lr: false,
            append_fromtag: true,
            enable_double_rr: 1,
            add_username: false,
        }
    }
}

impl RrConfig {
    /// The loose-routing flag as this configuration writes it.
    pub(crate) fn lr(&self) -> &'static str {
        if self.enable_full_lr {
            "lr=on"
        } else {
            "lr"
        }
    }
}
