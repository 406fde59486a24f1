//! From `listen=` / `alias=` specs and the global socket settings to the
//! concrete addresses to bind.
//!
//! - `Addr::Ip`: as written.
//! - `Addr::Name`: an interface name (every address of the interface), else
//!   a host name (every address it resolves to), as Kamailio does.
//! - `Addr::Any` (`*`): `0.0.0.0` and `[::]`.
//! - Protocol `*` / none: UDP and TCP. TLS, SCTP and WebSocket sockets are
//!   not served yet; they are reported in [`Resolved::skipped`].
//! - No `listen=` at all: `*` on the `port=` value.
//! - Port: the spec's, else `port=`, else 5060.
//!
//! Name look-ups go through a [`Resolver`], so tests need no network and do
//! not depend on the machine's interfaces.

use super::listen::{Addr, SocketSpec};
use crate::sip::Proto;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

/// The default SIP port (RFC 3261 §19.1.2).
pub const DEFAULT_PORT: u16 = 5060;

/// A transport this server runs: the [`Proto`]s it can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn proto(self) -> Proto {
        match self {
            Transport::Udp => Proto::Udp,
            Transport::Tcp => Proto::Tcp,
        }
    }

    /// The transport serving `proto`, if the server has one.
    pub fn of(proto: Proto) -> Option<Transport> {
        match proto {
            Proto::Udp => Some(Transport::Udp),
            Proto::Tcp => Some(Transport::Tcp),
            _ => None,
        }
    }

    /// Whether the transport is reliable (RFC 3261 §18: TCP, TLS, SCTP).
    pub fn is_reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// As written in a Via (`UDP`, `TCP`).
    pub fn as_str(self) -> &'static str {
        self.proto().via_name()
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.proto().name())
    }
}

/// How names become addresses.
pub trait Resolver {
    /// Every address of the interface called `name`; `None` when there is
    /// no such interface.
    fn interface_addrs(&self, name: &str) -> Option<Vec<IpAddr>>;
    /// Every address a host name resolves to.
    fn host_addrs(&self, name: &str) -> Result<Vec<IpAddr>, String>;
}

/// The machine's interfaces (`if-addrs`) and resolver (`getaddrinfo`).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl Resolver for SystemResolver {
    fn interface_addrs(&self, name: &str) -> Option<Vec<IpAddr>> {
        let ifs = if_addrs::get_if_addrs().ok()?;
        let addrs: Vec<IpAddr> = ifs
            .iter()
            .filter(|i| i.name == name)
            .map(|i| i.ip())
            .collect();
        (!addrs.is_empty()).then_some(addrs)
    }

    fn host_addrs(&self, name: &str) -> Result<Vec<IpAddr>, String> {
        let addrs = (name, 0u16).to_socket_addrs().map_err(|e| e.to_string())?;
        let mut out: Vec<IpAddr> = Vec::new();
        for a in addrs {
            if !out.contains(&a.ip()) {
                out.push(a.ip());
            }
        }
        if out.is_empty() {
            return Err("no address".to_string());
        }
        Ok(out)
    }
}

/// The socket part of a config: `listen=`, `alias=`, `port=`,
/// `advertised_address=`, `advertised_port=`, `mhomed=`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SocketConfig {
    pub listen: Vec<SocketSpec>,
    pub aliases: Vec<SocketSpec>,
    /// `port=`; `None` means 5060.
    pub port: Option<u16>,
    pub advertised_address: Option<String>,
    pub advertised_port: Option<u16>,
    pub mhomed: bool,
    /// `disable_tcp=yes`: no TCP socket, even where `listen=` names one.
    pub disable_tcp: bool,
}

/// One socket to bind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedSocket {
    pub transport: Transport,
    pub addr: SocketAddr,
    /// What goes into Via / Record-Route instead of the bound address:
    /// the spec's `advertise`, else the global `advertised_address` /
    /// `advertised_port`. The port defaults to the bound port.
    pub advertise: Option<(String, u16)>,
    pub name: Option<String>,
    pub is_virtual: bool,
    /// The spec it came from, as [`describe`] writes it.
    pub spec: String,
}

/// A name the server answers to (`alias=`), for "is this URI mine?"
/// checks. `port: None` matches any port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub host: String,
    pub port: Option<u16>,
    pub transport: Option<Transport>,
}

/// Everything resolved.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resolved {
    pub sockets: Vec<ResolvedSocket>,
    pub aliases: Vec<Alias>,
    pub mhomed: bool,
    /// Specs (or parts of specs) not served: `(spec, why)`.
    pub skipped: Vec<(String, String)>,
}

/// A spec that cannot be resolved. Names the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolveError {
    pub spec: String,
    pub message: String,
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "listen `{}`: {}", self.spec, self.message)
    }
}

impl std::error::Error for ResolveError {}

fn proto_text(p: Option<Proto>) -> &'static str {
    p.map_or("*", Proto::name)
}

fn addr_text(a: &Addr) -> String {
    match a {
        Addr::Ip(IpAddr::V6(ip)) => format!("[{ip}]"),
        Addr::Ip(ip) => ip.to_string(),
        Addr::Name(n) => n.clone(),
        Addr::Any => "*".to_string(),
    }
}

/// A spec as `proto:addr[:port]` (several addresses in `( )`), for
/// messages.
pub fn describe(spec: &SocketSpec) -> String {
    let addrs = match spec.addrs.as_slice() {
        [one] => addr_text(one),
        many => format!(
            "({})",
            many.iter().map(addr_text).collect::<Vec<_>>().join(", ")
        ),
    };
    match spec.port {
        Some(p) => format!("{}:{addrs}:{p}", proto_text(spec.proto)),
        None => format!("{}:{addrs}", proto_text(spec.proto)),
    }
}

fn transports(proto: Option<Proto>) -> Result<&'static [Transport], &'static str> {
    match proto {
        Some(Proto::Udp) => Ok(&[Transport::Udp]),
        Some(Proto::Tcp) => Ok(&[Transport::Tcp]),
        None => Ok(&[Transport::Udp, Transport::Tcp]),
        Some(Proto::Tls) => Err("TLS is not served yet"),
        Some(Proto::Sctp) => Err("SCTP is not served yet"),
        Some(Proto::Ws | Proto::Wss) => Err("WebSocket is not served yet"),
    }
}

fn addr_ips(addr: &Addr, resolver: &dyn Resolver) -> Result<Vec<IpAddr>, String> {
    match addr {
        Addr::Ip(ip) => Ok(vec![*ip]),
        Addr::Any => Ok(vec![
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        ]),
        Addr::Name(name) => match resolver.interface_addrs(name) {
            Some(ips) => Ok(ips),
            None => resolver.host_addrs(name).map_err(|e| {
                format!("`{name}` is neither an interface nor a host that resolves ({e})")
            }),
        },
    }
}

/// Resolves the socket settings of a config.
pub fn resolve(cfg: &SocketConfig, resolver: &dyn Resolver) -> Result<Resolved, ResolveError> {
    let default_port = cfg.port.unwrap_or(DEFAULT_PORT);
    let implicit;
    let listen: &[SocketSpec] = if cfg.listen.is_empty() {
        implicit = [SocketSpec {
            proto: None,
            addrs: vec![Addr::Any],
            port: None,
            advertise: None,
            name: None,
            is_virtual: false,
        }];
        &implicit
    } else {
        &cfg.listen
    };

    let mut out = Resolved {
        mhomed: cfg.mhomed,
        ..Resolved::default()
    };
    for spec in listen {
        let text = describe(spec);
        let transports = match transports(spec.proto) {
            Ok(t) if cfg.disable_tcp && t == [Transport::Tcp] => {
                out.skipped
                    .push((text, "TCP is disabled (`disable_tcp=yes`)".to_string()));
                continue;
            }
            Ok(t) if cfg.disable_tcp => &t[..1],
            Ok(t) => t,
            Err(why) => {
                out.skipped.push((text, why.to_string()));
                continue;
            }
        };
        if spec.addrs.is_empty() {
            return Err(ResolveError {
                spec: text,
                message: "no address".to_string(),
            });
        }
        let port = spec.port.unwrap_or(default_port);
        let advertise = match (&spec.advertise, &cfg.advertised_address) {
            (Some((host, p)), _) => Some((host.clone(), p.unwrap_or(port))),
            (None, Some(host)) => Some((host.clone(), cfg.advertised_port.unwrap_or(port))),
            (None, None) => None,
        };
        for addr in &spec.addrs {
            let ips = addr_ips(addr, resolver).map_err(|message| ResolveError {
                spec: text.clone(),
                message,
            })?;
            for ip in ips {
                for &transport in transports {
                    let addr = SocketAddr::new(ip, port);
                    if out
                        .sockets
                        .iter()
                        .any(|s| s.transport == transport && s.addr == addr)
                    {
                        continue;
                    }
                    out.sockets.push(ResolvedSocket {
                        transport,
                        addr,
                        advertise: advertise.clone(),
                        name: spec.name.clone(),
                        is_virtual: spec.is_virtual,
                        spec: text.clone(),
                    });
                }
            }
        }
    }

    for spec in &cfg.aliases {
        let transport = spec.proto.and_then(Transport::of);
        for addr in &spec.addrs {
            let host = match addr {
                Addr::Ip(ip) => ip.to_string(),
                Addr::Name(n) => n.clone(),
                Addr::Any => {
                    return Err(ResolveError {
                        spec: describe(spec),
                        message: "an alias must name a host".to_string(),
                    })
                }
            };
            out.aliases.push(Alias {
                host,
                port: spec.port,
                transport,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::listen::parse;
    use std::collections::HashMap;

    #[derive(Default)]
    struct FakeResolver {
        ifaces: HashMap<&'static str, Vec<IpAddr>>,
        hosts: HashMap<&'static str, Vec<IpAddr>>,
    }

    impl Resolver for FakeResolver {
        fn interface_addrs(&self, name: &str) -> Option<Vec<IpAddr>> {
            self.ifaces.get(name).cloned()
        }
        fn host_addrs(&self, name: &str) -> Result<Vec<IpAddr>, String> {
            self.hosts
                .get(name)
                .cloned()
                .ok_or_else(|| "unknown host".to_string())
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn fake() -> FakeResolver {
        let mut r = FakeResolver::default();
        r.ifaces.insert("eth0", vec![ip("10.0.0.5"), ip("fe80::5")]);
        r.hosts.insert("sip.example.org", vec![ip("192.0.2.7")]);
        // A host called like an interface: the interface wins.
        r.hosts.insert("eth0", vec![ip("198.51.100.1")]);
        r
    }

    fn cfg(listen: &[&str]) -> SocketConfig {
        SocketConfig {
            listen: listen.iter().map(|l| parse(l).unwrap()).collect(),
            ..SocketConfig::default()
        }
    }

    fn pairs(r: &Resolved) -> Vec<(Transport, String)> {
        r.sockets
            .iter()
            .map(|s| (s.transport, s.addr.to_string()))
            .collect()
    }

    #[test]
    fn disable_tcp_keeps_only_udp() {
        let config = SocketConfig {
            disable_tcp: true,
            ..cfg(&["127.0.0.1:5070", "tcp:127.0.0.1:5071"])
        };
        let r = resolve(&config, &fake()).unwrap();
        assert_eq!(pairs(&r), vec![(Transport::Udp, "127.0.0.1:5070".into())]);
        assert_eq!(r.skipped.len(), 1);
        assert!(r.skipped[0].1.contains("disable_tcp"), "{:?}", r.skipped);
    }

    #[test]
    fn ips_names_interfaces_and_wildcards() {
        let r = resolve(
            &cfg(&["udp:127.0.0.1:5070", "tcp:eth0", "sip.example.org:5080"]),
            &fake(),
        )
        .unwrap();
        assert_eq!(
            pairs(&r),
            vec![
                (Transport::Udp, "127.0.0.1:5070".into()),
                (Transport::Tcp, "10.0.0.5:5060".into()),
                (Transport::Tcp, "[fe80::5]:5060".into()),
                (Transport::Udp, "192.0.2.7:5080".into()),
                (Transport::Tcp, "192.0.2.7:5080".into()),
            ]
        );
        let r = resolve(&cfg(&["udp:*:5062"]), &fake()).unwrap();
        assert_eq!(
            pairs(&r),
            vec![
                (Transport::Udp, "0.0.0.0:5062".into()),
                (Transport::Udp, "[::]:5062".into()),
            ]
        );
    }

    #[test]
    fn defaults_port_and_advertise() {
        let mut c = SocketConfig {
            port: Some(5090),
            advertised_address: Some("203.0.113.9".into()),
            advertised_port: Some(5999),
            mhomed: true,
            ..SocketConfig::default()
        };
        let r = resolve(&c, &fake()).unwrap();
        assert!(r.mhomed);
        assert_eq!(r.sockets.len(), 4, "no listen= means * on port=");
        assert!(r.sockets.iter().all(|s| s.addr.port() == 5090));
        assert_eq!(
            r.sockets[0].advertise,
            Some(("203.0.113.9".to_string(), 5999))
        );
        c.listen = vec![
            parse("udp:10.0.0.1 advertise 198.51.100.2").unwrap(),
            parse("udp:10.0.0.1:5064 advertise 198.51.100.3:7000").unwrap(),
        ];
        c.advertised_address = None;
        let r = resolve(&c, &fake()).unwrap();
        assert_eq!(
            r.sockets[0].advertise,
            Some(("198.51.100.2".to_string(), 5090))
        );
        assert_eq!(
            r.sockets[1].advertise,
            Some(("198.51.100.3".to_string(), 7000))
        );
        assert_eq!(
            resolve(&SocketConfig::default(), &fake()).unwrap().sockets[0]
                .addr
                .port(),
            5060
        );
    }

    #[test]
    fn duplicates_aliases_and_skipped() {
        let mut c = cfg(&["127.0.0.1:5060", "udp:127.0.0.1", "tls:127.0.0.1:5061"]);
        c.aliases = vec![
            parse("sip.example.org").unwrap(),
            parse("udp:10.1.1.1:5070").unwrap(),
        ];
        let r = resolve(&c, &fake()).unwrap();
        assert_eq!(r.sockets.len(), 2);
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].0, "tls:127.0.0.1:5061");
        assert_eq!(
            r.aliases,
            vec![
                Alias {
                    host: "sip.example.org".into(),
                    port: None,
                    transport: None
                },
                Alias {
                    host: "10.1.1.1".into(),
                    port: Some(5070),
                    transport: Some(Transport::Udp)
                },
            ]
        );
    }

    #[test]
    fn errors_name_the_spec() {
        let e = resolve(&cfg(&["udp:nowhere.invalid:5060"]), &fake()).unwrap_err();
        assert_eq!(e.spec, "udp:nowhere.invalid:5060");
        assert!(e.to_string().contains("nowhere.invalid"), "{e}");
        assert!(e.message.contains("unknown host"));
    }
}
