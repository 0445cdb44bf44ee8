//! Which addresses, names, schemes and ports a URL that came from a user may
//! reach. Pure functions with no I/O: the fetcher calls them on every URL it
//! is asked for, on every redirect hop, and on every address a name resolves
//! to at connect time (see [`super::user_links`]).
//!
//! The rule is "the public internet only": a user must not be able to make
//! pricehound talk to this machine, the network it runs in, or the cloud's
//! metadata service. So besides the obvious ranges, every IPv6 form that
//! carries an IPv4 address (mapped, compatible, NAT64, 6to4) is judged by
//! the IPv4 address inside it, and ranges nobody serves a shop from
//! (documentation, benchmarking, reserved, deprecated) are refused too.
//!
//! Notation is not a concern here: the `url` crate parses hosts per the
//! WHATWG URL standard, so `2130706433`, `0x7f.1`, `0177.0.0.1` and
//! `127.0.0.1.` all arrive as `Host::Ipv4(127.0.0.1)`, and IPv6 literals as
//! `Host::Ipv6`. The tests below pin that down.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The only ports a user link may use: a shop's web server listens on
/// these, and anything else is more likely an internal service.
pub const ALLOWED_PORTS: [u16; 2] = [80, 443];

/// Why a user link, a redirect hop or a resolved address was refused. Safe to
/// log (it names the URL or address, never a header or a body); never shown
/// to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refused {
    pub reason: String,
}

impl Refused {
    pub fn new(reason: impl Into<String>) -> Self {
        Refused {
            reason: reason.into(),
        }
    }
}

/// Cloud metadata services: named separately only so the log says what was
/// attempted; every one of them is inside a refused range anyway.
const METADATA_V4: [Ipv4Addr; 4] = [
    // AWS, GCP, Azure, OpenStack, DigitalOcean...
    Ipv4Addr::new(169, 254, 169, 254),
    // ECS task metadata and credentials.
    Ipv4Addr::new(169, 254, 170, 2),
    // Alibaba Cloud.
    Ipv4Addr::new(100, 100, 100, 200),
    // Oracle Cloud (legacy).
    Ipv4Addr::new(192, 0, 0, 192),
];

/// AWS's IPv6 instance metadata endpoint (inside fc00::/7).
const METADATA_V6: [Ipv6Addr; 1] = [Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254)];

/// Why `ip` must not be connected to for a user link, or `None` if it is a
/// public unicast address.
pub fn ip_refusal(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => ipv4_refusal(v4),
        IpAddr::V6(v6) => ipv6_refusal(v6),
    }
}

/// IPv4: every special-purpose block of the IANA registry that is not
/// globally reachable, plus multicast and 240/4.
pub fn ipv4_refusal(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if METADATA_V4.contains(&ip) {
        return Some("cloud metadata address");
    }
    let reason = if ip.is_unspecified() {
        "unspecified address"
    } else if a == 0 {
        // "This network": 0.x.y.z reaches the local host on Linux.
        "this-network address (0.0.0.0/8)"
    } else if ip.is_loopback() {
        "loopback address"
    } else if ip.is_private() {
        "private address"
    } else if a == 100 && (b & 0xc0) == 64 {
        "shared (CGNAT) address (100.64.0.0/10)"
    } else if ip.is_link_local() {
        "link-local address"
    } else if a == 192 && b == 0 && c == 0 {
        "IETF protocol assignment (192.0.0.0/24)"
    } else if ip.is_documentation() {
        "documentation address"
    } else if a == 192 && b == 88 && c == 99 {
        // Deprecated 6to4 relay anycast (RFC 7526).
        "6to4 relay anycast address (192.88.99.0/24)"
    } else if a == 198 && (b & 0xfe) == 18 {
        "benchmarking address (198.18.0.0/15)"
    } else if ip.is_multicast() {
        "multicast address"
    } else if ip.is_broadcast() {
        "broadcast address"
    } else if a >= 240 {
        "reserved address (240.0.0.0/4)"
    } else {
        return None;
    };
    Some(reason)
}

/// IPv6: only global unicast (2000::/3) outside its special blocks; forms
/// that embed an IPv4 address are judged by that address.
pub fn ipv6_refusal(ip: Ipv6Addr) -> Option<&'static str> {
    if METADATA_V6.contains(&ip) {
        return Some("cloud metadata address");
    }
    if ip.is_unspecified() {
        return Some("unspecified address");
    }
    if ip.is_loopback() {
        return Some("loopback address");
    }
    if let Some(v4) = embedded_ipv4(ip) {
        return ipv4_refusal(v4).map(|_| "IPv6 address embedding a refused IPv4 address");
    }
    let s = ip.segments();
    let reason = if ip.is_multicast() {
        "multicast address"
    } else if ip.is_unicast_link_local() {
        "link-local address"
    } else if (s[0] & 0xffc0) == 0xfec0 {
        "site-local address (deprecated, fec0::/10)"
    } else if ip.is_unique_local() {
        "unique-local address (fc00::/7)"
    } else if s[0] == 0x64 && s[1] == 0xff9b {
        // 64:ff9b:1::/48 is for translators into private networks (RFC 8215);
        // the well-known /96 was handled above as an embedded address.
        "local-use NAT64 address (64:ff9b:1::/48)"
    } else if s[0] == 0x100 && s[1] == 0 && s[2] == 0 && s[3] == 0 {
        "discard-only address (100::/64)"
    } else if s[0] == 0x2001 && s[1] == 0x0db8 {
        "documentation address"
    } else if s[0] == 0x3fff && s[1] < 0x1000 {
        // 3fff::/20, the second documentation prefix (RFC 9637).
        "documentation address"
    } else if s[0] == 0x2001 && s[1] < 0x0200 {
        // 2001::/23: Teredo (whose IPv4 address is obfuscated), benchmarking,
        // ORCHID, AS112 and AMT; nobody serves a shop from there.
        "IETF protocol assignment (2001::/23)"
    } else if (s[0] & 0xe000) != 0x2000 {
        "reserved address (outside 2000::/3)"
    } else {
        return None;
    };
    Some(reason)
}

/// The IPv4 address carried by an IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`) or 6to4 (`2002:AABB:CCDD::`) address.
pub fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        [0, 0, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// Why a host name must not be looked up for a user link. The resolver's
/// answers are checked anyway; these names are refused before any lookup
/// because they are local by definition and a lookup could go to mDNS, a
/// hosts file or a search domain.
pub fn name_refusal(name: &str) -> Option<&'static str> {
    // `url` lowercases and punycodes domain names; a trailing dot (the
    // absolute form) names the same host.
    let name = name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase();
    if name.is_empty() {
        return Some("empty host name");
    }
    if name == "localhost" || name.ends_with(".localhost") {
        return Some("localhost name");
    }
    if !name.contains('.') {
        // Single-label names resolve through local search domains, never to a
        // public shop.
        return Some("single-label host name");
    }
    const LOCAL_SUFFIXES: [&str; 5] = [
        ".local",
        ".localdomain",
        ".internal",
        ".home.arpa",
        ".intranet",
    ];
    if LOCAL_SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return Some("local-network host name");
    }
    None
}

/// Whether a user link may be requested at all: http or https, port 80 or
/// 443, and a host that is neither a refused address nor a local name. The
/// addresses a name resolves to are checked later, at connect time.
pub fn check_url(url: &Url) -> Result<(), Refused> {
    check_scheme(url)?;
    check_host(url)?;
    check_port(url)
}

pub fn check_scheme(url: &Url) -> Result<(), Refused> {
    match url.scheme() {
        "http" | "https" => Ok(()),
        other => Err(Refused::new(format!("scheme {other:?} is not allowed"))),
    }
}

pub fn check_port(url: &Url) -> Result<(), Refused> {
    match url.port_or_known_default() {
        Some(p) if ALLOWED_PORTS.contains(&p) => Ok(()),
        Some(p) => Err(Refused::new(format!("port {p} is not allowed"))),
        None => Err(Refused::new("no port")),
    }
}

pub fn check_host(url: &Url) -> Result<(), Refused> {
    let refused = |what: String, why: &str| Err(Refused::new(format!("{what}: {why}")));
    match url.host() {
        Some(Host::Ipv4(ip)) => match ipv4_refusal(ip) {
            Some(why) => refused(ip.to_string(), why),
            None => Ok(()),
        },
        Some(Host::Ipv6(ip)) => match ipv6_refusal(ip) {
            Some(why) => refused(format!("[{ip}]"), why),
            None => Ok(()),
        },
        Some(Host::Domain(name)) => match name_refusal(name) {
            Some(why) => refused(name.to_string(), why),
            None => Ok(()),
        },
        None => Err(Refused::new("no host")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        check_url(&Url::parse(url).unwrap()).is_err()
    }

    #[test]
    fn every_notation_of_loopback_is_parsed_to_the_same_address_and_refused() {
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://0x7f.1/",
            "http://0177.0.0.1/",
            "http://0177.0.0.01/",
            "http://127.1/",
            "http://127.0.1/",
            "http://127.0.0.1./",
            "http://0x7F.0.0.1/",
            "http://017700000001/",
            "http://%31%32%37.0.0.1/",
            "http://127.000.000.001/",
        ] {
            let u = Url::parse(url).unwrap();
            assert_eq!(
                u.host(),
                Some(Host::Ipv4(Ipv4Addr::LOCALHOST)),
                "{url} is 127.0.0.1 to url"
            );
            assert!(refused(url), "{url}");
        }
        for url in [
            "http://[::1]/",
            "http://[0:0:0:0:0:0:0:1]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::127.0.0.1]/",
            "http://[2002:7f00:1::]/",
            "http://[::ffff:0:127.0.0.1]/",
            "http://[::]/",
            "http://0.0.0.0/",
            "http://0/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://shop.localhost/",
            "http://xn--lcalhost-9za/",
            "http://ｌｏｃａｌｈｏｓｔ/",
        ] {
            assert!(refused(url), "{url}");
        }
    }

    #[test]
    fn private_link_local_metadata_and_special_ranges_are_refused() {
        for ip in [
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "169.254.170.2",
            "169.254.0.1",
            "100.64.0.1",
            "100.127.255.254",
            "100.100.100.200",
            "192.0.0.192",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.255",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "0.1.2.3",
            "192.88.99.1",
        ] {
            let v4: Ipv4Addr = ip.parse().unwrap();
            assert!(ipv4_refusal(v4).is_some(), "{ip}");
            assert!(refused(&format!("http://{ip}/")), "{ip}");
            assert!(refused(&format!("http://[::ffff:{ip}]/")), "mapped {ip}");
            assert!(refused(&format!("http://[64:ff9b::{ip}]/")), "NAT64 {ip}");
            let [a, b, c, d] = v4.octets();
            let six_to_four = format!("http://[2002:{a:02x}{b:02x}:{c:02x}{d:02x}::1]/");
            assert!(refused(&six_to_four), "{six_to_four}");
            // The same address written as one decimal number.
            assert!(refused(&format!("http://{}/", u32::from(v4))), "{ip}");
        }
        assert_eq!(
            ipv4_refusal(Ipv4Addr::new(169, 254, 169, 254)),
            Some("cloud metadata address")
        );
        for ip in [
            "fd00:ec2::254",
            "fc00::1",
            "fdff:ffff::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
            "2001:2::1",
            "100::1",
            "64:ff9b:1::1",
            "::2",
            "4000::1",
        ] {
            let v6: Ipv6Addr = ip.parse().unwrap();
            assert!(ipv6_refusal(v6).is_some(), "{ip}");
            assert!(refused(&format!("http://[{ip}]/")), "{ip}");
        }
        assert_eq!(
            ipv6_refusal("fd00:ec2::254".parse().unwrap()),
            Some("cloud metadata address")
        );
    }

    #[test]
    fn public_addresses_and_names_pass() {
        for url in [
            "http://93.184.215.14/",
            "https://8.8.8.8/",
            "http://1.1.1.1:443/",
            "https://[2606:4700::1111]/",
            "https://[::ffff:8.8.8.8]/",
            "https://[64:ff9b::808:808]/",
            "https://[2002:808:808::1]/",
            "https://shop.example/p/1?x=1",
            "https://xn--caf-dma.example./",
            "http://172.32.0.1/",
            "http://100.128.0.1/",
            "http://192.169.0.1/",
            "http://11.0.0.1/",
            "http://223.255.255.255/",
        ] {
            assert!(!refused(url), "{url}");
        }
    }

    #[test]
    fn only_http_and_https_on_ports_80_and_443() {
        for url in [
            "ftp://shop.example/",
            "file:///etc/passwd",
            "gopher://shop.example/",
            "data:text/html,hi",
            "javascript:alert(1)",
            "https://shop.example:8443/",
            "http://shop.example:8080/",
            "http://shop.example:22/",
            "https://shop.example:0/",
        ] {
            assert!(refused(url), "{url}");
        }
        for url in [
            "http://shop.example:443/",
            "https://shop.example:80/",
            "https://shop.example:443/",
        ] {
            assert!(!refused(url), "{url}");
        }
    }

    #[test]
    fn local_names_are_refused_before_any_lookup() {
        for name in [
            "localhost",
            "localhost.",
            "a.b.localhost",
            "router",
            "metadata.google.internal",
            "ip-10-0-0-1.ec2.internal",
            "printer.local",
            "nas.home.arpa",
            "box.localdomain",
            "",
            ".",
        ] {
            assert!(name_refusal(name).is_some(), "{name:?}");
        }
        for name in ["shop.example", "shop.example.", "localhost.example.com"] {
            assert!(name_refusal(name).is_none(), "{name:?}");
        }
    }

    #[test]
    fn embedded_ipv4_forms() {
        let v4 = Ipv4Addr::new(10, 1, 2, 3);
        for ip in [
            "::ffff:10.1.2.3",
            "::ffff:0:10.1.2.3",
            "::10.1.2.3",
            "64:ff9b::10.1.2.3",
            "2002:a01:203::",
            "2002:a01:203:ffff::1",
        ] {
            assert_eq!(embedded_ipv4(ip.parse().unwrap()), Some(v4), "{ip}");
        }
        assert_eq!(embedded_ipv4("2606:4700::1".parse().unwrap()), None);
    }
}
