//! Which network addresses and hosts samvideo may fetch media from.
//!
//! samvideo downloads URLs that strangers send it, so by default it must never be a door into
//! the network it runs in. [`NetPolicy`] decides, for one URL hop, whether its scheme and host
//! are acceptable ([`NetPolicy::check_url`]) and, for every IP address the connection may go
//! to, whether that address is acceptable ([`NetPolicy::check_ip`]).
//!
//! Data enters as a parsed [`Url`] (the WHATWG parser has already turned odd IPv4 spellings
//! such as `2130706433`, `0177.0.0.1`, `0x7f.1` and `127.1` into `127.0.0.1`) or as the
//! [`IpAddr`]s a resolver produced; it leaves as `Ok` or a [`MediaError`]
//! (`AddressNotAllowed`, `HostNotAllowed`, `UnsupportedScheme`).
//!
//! The range table lives in one pure function, [`classify`] (and [`is_forbidden`], its
//! reason string). Embedded IPv4 forms (IPv4-mapped `::ffff:a.b.c.d`, IPv4-translated,
//! NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by the IPv4 address they carry.
//!
//! Architecture Invariant: this module never performs I/O. `http.rs` calls it before every
//! connection with the address actually connected to.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use reqwest::Url;

use super::MediaError;

/// Why an address is refused by default. [`Range::is_private_network`] tells which of these
/// `allow_private_network` opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Range {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64.0.0/10 carrier-grade NAT.
    SharedCgnat,
    /// fc00::/7.
    UniqueLocal,
    /// 169.254.0.0/16 (cloud metadata 169.254.169.254 included), fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, :: (on Linux, connecting to 0.0.0.0 reaches the local host).
    Unspecified,
    /// 224.0.0.0/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20.
    Documentation,
    /// 198.18.0.0/15, 2001:2::/48.
    Benchmarking,
    /// 192.0.0/24 and 2001::/23 (IETF protocol assignments, Teredo included), 64:ff9b:1::/48.
    ProtocolAssignment,
    /// 240.0.0.0/4, 192.88.99/24, and IPv6 outside 2000::/3 not named above.
    Reserved,
    /// ::/96 IPv4-compatible (deprecated), fec0::/10 site-local (deprecated).
    Deprecated,
}

impl Range {
    /// A short human reason, used in logs and docs.
    pub fn reason(self) -> &'static str {
        match self {
            Range::Loopback => "loopback",
            Range::Private => "private network",
            Range::SharedCgnat => "shared address space (CGNAT)",
            Range::UniqueLocal => "unique-local IPv6",
            Range::LinkLocal => "link-local",
            Range::Unspecified => "unspecified address",
            Range::Multicast => "multicast",
            Range::Broadcast => "broadcast",
            Range::Documentation => "documentation range",
            Range::Benchmarking => "benchmarking range",
            Range::ProtocolAssignment => "IETF protocol assignment",
            Range::Reserved => "reserved range",
            Range::Deprecated => "deprecated IPv6 form",
        }
    }

    /// True for the ranges a self-hosted setup legitimately serves media from: loopback,
    /// RFC 1918 private, CGNAT and unique-local. Link-local (cloud metadata), unspecified,
    /// multicast, broadcast and reserved stay refused even with `allow_private_network`;
    /// open them one by one with [`NetPolicy::allow_network`].
    pub fn is_private_network(self) -> bool {
        matches!(self, Range::Loopback | Range::Private | Range::SharedCgnat | Range::UniqueLocal)
    }
}

/// The reason `ip` is refused by the default policy, or `None` if it is a public address.
pub fn is_forbidden(ip: IpAddr) -> Option<&'static str> {
    classify(ip).map(Range::reason)
}

/// The non-public range `ip` falls in, or `None` for a public unicast address.
pub fn classify(ip: IpAddr) -> Option<Range> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn in_v4(ip: u32, net: [u8; 4], prefix: u32) -> bool {
    let net = u32::from_be_bytes(net);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) };
    ip & mask == net & mask
}

fn classify_v4(ip: Ipv4Addr) -> Option<Range> {
    let n = u32::from(ip);
    let table: &[([u8; 4], u32, Range)] = &[
        ([0, 0, 0, 0], 8, Range::Unspecified),
        ([10, 0, 0, 0], 8, Range::Private),
        ([100, 64, 0, 0], 10, Range::SharedCgnat),
        ([127, 0, 0, 0], 8, Range::Loopback),
        ([169, 254, 0, 0], 16, Range::LinkLocal),
        ([172, 16, 0, 0], 12, Range::Private),
        ([192, 0, 0, 0], 24, Range::ProtocolAssignment),
        ([192, 0, 2, 0], 24, Range::Documentation),
        ([192, 88, 99, 0], 24, Range::Reserved),
        ([192, 168, 0, 0], 16, Range::Private),
        ([198, 18, 0, 0], 15, Range::Benchmarking),
        ([198, 51, 100, 0], 24, Range::Documentation),
        ([203, 0, 113, 0], 24, Range::Documentation),
        ([224, 0, 0, 0], 4, Range::Multicast),
        ([255, 255, 255, 255], 32, Range::Broadcast),
        ([240, 0, 0, 0], 4, Range::Reserved),
    ];
    table.iter().find(|(net, prefix, _)| in_v4(n, *net, *prefix)).map(|(_, _, range)| *range)
}

fn in_v6(ip: u128, net: u128, prefix: u32) -> bool {
    let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - prefix) };
    ip & mask == net & mask
}

fn classify_v6(ip: Ipv6Addr) -> Option<Range> {
    let n = u128::from(ip);
    let low_v4 = Ipv4Addr::from((n & 0xffff_ffff) as u32);
    if n == 0 {
        return Some(Range::Unspecified);
    }
    if n == 1 {
        return Some(Range::Loopback);
    }
    // IPv4-mapped ::ffff:0:0/96 and IPv4-translated ::ffff:0:0:0/96: the socket goes to
    // the embedded IPv4 address, so judge that.
    if in_v6(n, 0xffff_0000_0000, 96) || in_v6(n, 0xffff_0000_0000_0000, 96) {
        return classify_v4(low_v4);
    }
    // NAT64 well-known prefix: a NAT64 gateway forwards to the embedded IPv4 address.
    if in_v6(n, 0x0064_ff9b_0000_0000_0000_0000_0000_0000, 96) {
        return classify_v4(low_v4);
    }
    // 6to4: 2002:AABB:CCDD::/48 carries AA.BB.CC.DD.
    if in_v6(n, 0x2002_0000_0000_0000_0000_0000_0000_0000, 16) {
        let v4 = Ipv4Addr::from(((n >> 80) & 0xffff_ffff) as u32);
        return classify_v4(v4);
    }
    let table: &[(u128, u32, Range)] = &[
        // ::/96 IPv4-compatible (deprecated by RFC 4291); :: and ::1 handled above.
        (0, 96, Range::Deprecated),
        (0x0064_ff9b_0001_0000_0000_0000_0000_0000, 48, Range::ProtocolAssignment),
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64, Range::Reserved),
        (0x2001_0002_0000_0000_0000_0000_0000_0000, 48, Range::Benchmarking),
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 23, Range::ProtocolAssignment),
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32, Range::Documentation),
        (0x3fff_0000_0000_0000_0000_0000_0000_0000, 20, Range::Documentation),
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7, Range::UniqueLocal),
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10, Range::LinkLocal),
        (0xfec0_0000_0000_0000_0000_0000_0000_0000, 10, Range::Deprecated),
        (0xff00_0000_0000_0000_0000_0000_0000_0000, 8, Range::Multicast),
    ];
    if let Some((_, _, range)) = table.iter().find(|(net, prefix, _)| in_v6(n, *net, *prefix)) {
        return Some(*range);
    }
    // Only 2000::/3 is allocated as global unicast.
    if !in_v6(n, 0x2000_0000_0000_0000_0000_0000_0000_0000, 3) {
        return Some(Range::Reserved);
    }
    None
}

/// An IP network in CIDR form, e.g. `10.1.2.0/24` or `fd00::/8`; a bare address means /32
/// (IPv4) or /128 (IPv6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// A CIDR string that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid network {0:?} (expected an address or address/prefix, e.g. 10.1.2.0/24)")]
pub struct InvalidNet(pub String);

impl IpNet {
    /// Whether `ip` lies in this network. IPv4-mapped IPv6 addresses match IPv4 networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => in_v4(u32::from(ip), net.octets(), u32::from(self.prefix)),
            (IpAddr::V6(net), IpAddr::V6(ip)) => in_v6(u128::from(ip), u128::from(net), u32::from(self.prefix)),
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = InvalidNet;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || InvalidNet(s.to_string());
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(IpNet { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A host name pattern: an exact host (`media.example.com`) or every subdomain of a suffix
/// (`*.example.com`, which does not match `example.com` itself). Case-insensitive; a
/// trailing dot is ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern(String);

impl HostPattern {
    /// A pattern from its text form.
    pub fn new(pattern: &str) -> Self {
        HostPattern(normalize_host(pattern))
    }

    /// Whether `host` (as it appears in a URL) matches.
    pub fn matches(&self, host: &str) -> bool {
        let host = normalize_host(host);
        match self.0.strip_prefix("*.") {
            Some(suffix) => host.len() > suffix.len() + 1 && host.ends_with(&format!(".{suffix}")),
            None => host == self.0,
        }
    }
}

fn normalize_host(host: &str) -> String {
    let host = host.trim().trim_end_matches('.');
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.to_ascii_lowercase()
}

/// The network policy for fetching media. The default refuses every non-public address
/// (see [`classify`]) and every scheme but http and https.
///
/// Lists only ever narrow what the address check allows, except `allow_networks`, which
/// names address ranges an operator trusts explicitly.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetPolicy {
    /// Open loopback, private (RFC 1918), CGNAT and unique-local addresses (operator flag
    /// `--allow-private-network`, for self-hosted setups that serve media from the LAN).
    pub allow_private_network: bool,
    /// Networks allowed even though [`classify`] refuses them, e.g. one internal media
    /// server (`10.1.2.3`) without opening the whole private network.
    pub allow_networks: Vec<IpNet>,
    /// If not empty, only these hosts may be fetched (each redirect hop too).
    pub allow_hosts: Vec<HostPattern>,
    /// These hosts are never fetched, whatever else allows them.
    pub deny_hosts: Vec<HostPattern>,
}

impl NetPolicy {
    /// The default, refusing policy.
    pub fn new() -> Self {
        NetPolicy::default()
    }

    /// Set `allow_private_network`.
    pub fn with_allow_private_network(mut self, allow: bool) -> Self {
        self.allow_private_network = allow;
        self
    }

    /// Trust one more network.
    pub fn allow_network(mut self, net: IpNet) -> Self {
        self.allow_networks.push(net);
        self
    }

    /// Add a host to the allow-list (which, once non-empty, is exclusive).
    pub fn allow_host(mut self, pattern: &str) -> Self {
        self.allow_hosts.push(HostPattern::new(pattern));
        self
    }

    /// Add a host to the deny-list.
    pub fn deny_host(mut self, pattern: &str) -> Self {
        self.deny_hosts.push(HostPattern::new(pattern));
        self
    }

    /// Whether the policy accepts a connection to `ip`; `Some(range)` names why not.
    pub fn refusal(&self, ip: IpAddr) -> Option<Range> {
        let range = classify(ip)?;
        if self.allow_networks.iter().any(|net| net.contains(ip)) {
            return None;
        }
        if self.allow_private_network && range.is_private_network() {
            return None;
        }
        Some(range)
    }

    /// Check one address the connection would go to. `host` is how the URL named it (for
    /// the message: `address localhost (127.0.0.1) is not allowed`).
    pub fn check_ip(&self, host: &str, ip: IpAddr) -> Result<(), MediaError> {
        match self.refusal(ip) {
            None => Ok(()),
            Some(range) => {
                tracing::info!(host, %ip, reason = range.reason(), "media address refused");
                let shown = normalize_host(host);
                let ip_text = ip.to_string();
                // A literal is shown as the address; a name with the address it resolved to.
                Err(MediaError::AddressNotAllowed(if shown.parse::<IpAddr>().is_ok() {
                    ip_text
                } else {
                    format!("{shown} ({ip_text})")
                }))
            }
        }
    }

    /// Check everything about one URL hop that can be known without resolving it: the
    /// scheme, the host lists and, when the host is an IP literal, the address itself
    /// (the resolver is never asked about literals, so this is the connected address).
    pub fn check_url(&self, url: &Url) -> Result<(), MediaError> {
        match url.scheme() {
            "http" | "https" => {}
            other => return Err(MediaError::UnsupportedScheme(other.to_string())),
        }
        let host = url.host_str().ok_or_else(|| MediaError::InvalidUrl(format!("{url} has no host")))?;
        self.check_host(host)?;
        // `host_str` is the parser's normal form: IPv4 spellings are already dotted-quad,
        // IPv6 literals are bracketed. Anything that reads as an address is one.
        match normalize_host(host).parse::<IpAddr>() {
            Ok(ip) => self.check_ip(host, ip),
            Err(_) => Ok(()),
        }
    }

    /// Check a host name against the allow- and deny-lists.
    pub fn check_host(&self, host: &str) -> Result<(), MediaError> {
        let denied = self.deny_hosts.iter().any(|p| p.matches(host));
        let listed = self.allow_hosts.is_empty() || self.allow_hosts.iter().any(|p| p.matches(host));
        if denied || !listed {
            tracing::info!(host, denied, "media host refused by host list");
            return Err(MediaError::HostNotAllowed(normalize_host(host)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test address")
    }

    fn range(s: &str) -> Option<Range> {
        classify(ip(s))
    }

    #[test]
    fn ipv4_ranges() {
        let cases = [
            ("0.0.0.0", Range::Unspecified),
            ("0.1.2.3", Range::Unspecified),
            ("10.0.0.1", Range::Private),
            ("10.255.255.255", Range::Private),
            ("100.64.0.1", Range::SharedCgnat),
            ("100.127.255.255", Range::SharedCgnat),
            ("127.0.0.1", Range::Loopback),
            ("127.255.0.9", Range::Loopback),
            ("169.254.169.254", Range::LinkLocal),
            ("169.254.0.1", Range::LinkLocal),
            ("172.16.0.1", Range::Private),
            ("172.31.255.254", Range::Private),
            ("192.0.0.170", Range::ProtocolAssignment),
            ("192.0.2.1", Range::Documentation),
            ("192.88.99.1", Range::Reserved),
            ("192.168.1.1", Range::Private),
            ("198.18.0.1", Range::Benchmarking),
            ("198.19.255.255", Range::Benchmarking),
            ("198.51.100.7", Range::Documentation),
            ("203.0.113.9", Range::Documentation),
            ("224.0.0.1", Range::Multicast),
            ("239.255.255.250", Range::Multicast),
            ("240.0.0.1", Range::Reserved),
            ("255.255.255.254", Range::Reserved),
            ("255.255.255.255", Range::Broadcast),
        ];
        for (addr, want) in cases {
            assert_eq!(range(addr), Some(want), "{addr}");
            assert_eq!(is_forbidden(ip(addr)), Some(want.reason()), "{addr}");
        }
    }

    #[test]
    fn ipv4_public_and_range_edges() {
        for addr in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "169.255.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.0",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert_eq!(range(addr), None, "{addr} is public");
        }
    }

    #[test]
    fn ipv6_ranges() {
        let cases = [
            ("::", Range::Unspecified),
            ("::1", Range::Loopback),
            ("::2", Range::Deprecated),
            ("::127.0.0.1", Range::Deprecated),
            ("100::1", Range::Reserved),
            ("64:ff9b:1::1", Range::ProtocolAssignment),
            ("2001::1", Range::ProtocolAssignment),
            ("2001:2::1", Range::Benchmarking),
            ("2001:db8::1", Range::Documentation),
            ("3fff::1", Range::Documentation),
            ("fc00::1", Range::UniqueLocal),
            ("fd00::1", Range::UniqueLocal),
            ("fe80::1", Range::LinkLocal),
            ("febf::1", Range::LinkLocal),
            ("fec0::1", Range::Deprecated),
            ("ff02::1", Range::Multicast),
            ("4000::1", Range::Reserved),
            ("1::", Range::Reserved),
        ];
        for (addr, want) in cases {
            assert_eq!(range(addr), Some(want), "{addr}");
        }
        for addr in ["2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2001:4860::8888"] {
            assert_eq!(range(addr), None, "{addr} is public");
        }
    }

    #[test]
    fn embedded_ipv4_is_judged_by_the_ipv4_address() {
        let cases = [
            ("::ffff:127.0.0.1", Some(Range::Loopback)),
            ("::ffff:7f00:1", Some(Range::Loopback)),
            ("::ffff:10.0.0.1", Some(Range::Private)),
            ("::ffff:169.254.169.254", Some(Range::LinkLocal)),
            ("::ffff:0.0.0.0", Some(Range::Unspecified)),
            ("::ffff:0:127.0.0.1", Some(Range::Loopback)),
            ("64:ff9b::127.0.0.1", Some(Range::Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(Range::LinkLocal)),
            ("2002:7f00:1::", Some(Range::Loopback)),
            ("2002:c0a8:101::1", Some(Range::Private)),
            ("2002:a9fe:a9fe::1", Some(Range::LinkLocal)),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::8.8.8.8", None),
            ("2002:808:808::1", None),
        ];
        for (addr, want) in cases {
            assert_eq!(range(addr), want, "{addr}");
        }
    }

    #[test]
    fn opt_in_opens_only_private_networks() {
        let open = NetPolicy::new().with_allow_private_network(true);
        for addr in ["127.0.0.1", "::1", "10.0.0.1", "192.168.1.1", "100.64.0.1", "fd00::1", "::ffff:127.0.0.1"] {
            assert_eq!(open.refusal(ip(addr)), None, "{addr}");
            assert!(NetPolicy::new().refusal(ip(addr)).is_some(), "{addr}");
        }
        for addr in ["0.0.0.0", "169.254.169.254", "fe80::1", "224.0.0.1", "255.255.255.255", "::"] {
            assert!(open.refusal(ip(addr)).is_some(), "{addr} stays refused");
        }
    }

    #[test]
    fn allow_networks_open_exactly_their_range() {
        let policy = NetPolicy::new().allow_network("10.1.2.0/24".parse().expect("net"));
        assert_eq!(policy.refusal(ip("10.1.2.200")), None);
        assert_eq!(policy.refusal(ip("::ffff:10.1.2.3")), None);
        assert_eq!(policy.refusal(ip("10.1.3.1")), Some(Range::Private));
        let one = NetPolicy::new().allow_network("127.0.0.1".parse().expect("net"));
        assert_eq!(one.refusal(ip("127.0.0.1")), None);
        assert_eq!(one.refusal(ip("127.0.0.2")), Some(Range::Loopback));
    }

    #[test]
    fn ip_net_parsing() {
        assert_eq!("fd00::/8".parse::<IpNet>().map(|n| n.to_string()), Ok("fd00::/8".into()));
        assert_eq!("1.2.3.4".parse::<IpNet>().map(|n| n.to_string()), Ok("1.2.3.4/32".into()));
        for bad in ["", "10.0.0.0/33", "::/129", "example.com/8", "10.0.0.0/x"] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad:?}");
        }
        let all: IpNet = "0.0.0.0/0".parse().expect("net");
        assert!(all.contains(ip("8.8.8.8")));
        assert!(!all.contains(ip("2001:4860::8888")));
    }

    #[test]
    fn host_patterns() {
        let exact = HostPattern::new("Media.Example.com.");
        assert!(exact.matches("media.example.com"));
        assert!(exact.matches("MEDIA.example.com."));
        assert!(!exact.matches("x.media.example.com"));
        let wild = HostPattern::new("*.example.com");
        assert!(wild.matches("a.example.com"));
        assert!(wild.matches("a.b.example.com"));
        assert!(!wild.matches("example.com"));
        assert!(!wild.matches("badexample.com"));
        assert!(HostPattern::new("[::1]").matches("[::1]"));
    }

    #[test]
    fn url_checks() {
        let policy = NetPolicy::new();
        let check = |u: &str| policy.check_url(&Url::parse(u).expect("url"));
        let refused = |u: &str| matches!(check(u), Err(MediaError::AddressNotAllowed(_)));
        for u in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://127.1/",
            "http://0/",
            "http://[::1]/",
            "http://[::ffff:127.0.0.1]/",
            "https://169.254.169.254/latest/meta-data/",
            "http://0251.0376.0251.0376/",
            "http://10.0.0.1/",
            "http://192.168.1.1/",
            "http://[fd00::1]/",
            "http://[fe80::1]/",
            "http://0.0.0.0/",
        ] {
            assert!(refused(u), "{u}: {:?}", check(u));
        }
        assert_eq!(check("http://2130706433/"), Err(MediaError::AddressNotAllowed("127.0.0.1".into())));
        assert_eq!(check("file:///etc/passwd"), Err(MediaError::UnsupportedScheme("file".into())));
        assert_eq!(check("gopher://x/"), Err(MediaError::UnsupportedScheme("gopher".into())));
        assert_eq!(check("https://example.com/a.png"), Ok(()));
        assert_eq!(check("http://8.8.8.8/"), Ok(()));

        let listed = NetPolicy::new().allow_host("*.cdn.example").deny_host("bad.cdn.example");
        let check = |u: &str| listed.check_url(&Url::parse(u).expect("url"));
        assert_eq!(check("https://a.cdn.example/x.png"), Ok(()));
        assert_eq!(check("https://bad.cdn.example/x.png"), Err(MediaError::HostNotAllowed("bad.cdn.example".into())));
        assert_eq!(check("https://other.example/x.png"), Err(MediaError::HostNotAllowed("other.example".into())));
    }
}
