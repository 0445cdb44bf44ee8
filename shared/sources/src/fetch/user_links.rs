//! The guard a fetcher for user links runs with: [`net_guard`]'s rules
//! applied where they cannot be dodged.
//!
//! - Before each request, the URL (scheme, port, literal address, name):
//!   reqwest never asks the resolver about an IP-literal host, so a literal
//!   can only be caught here.
//! - On every redirect hop, the same check, by a custom redirect policy
//!   (at most [`MAX_REDIRECTS`] hops).
//! - At connect time, the addresses a name resolves to: [`GuardedResolver`]
//!   wraps the real resolver and drops every refused address, so the
//!   addresses checked are the ones connected to (no window for DNS
//!   rebinding between a check and the connection).
//!
//! The client also ignores proxy settings from the environment: through a
//! proxy the connection would go to the proxy, and the target's address
//! would never be checked.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

use super::net_guard::{self, Refused};

/// Redirect hops followed for a user link, as for operator sources.
pub const MAX_REDIRECTS: usize = 5;

/// Turns a fetcher into one for user links. Production code only ever uses
/// [`LinkGuard::default`]; the one escape, [`LinkGuard::for_tests_allowing`],
/// exists so tests can prove an allowed host is still reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkGuard {
    /// A `.test` host name that may resolve to loopback (and, while set,
    /// every `.test` name may use any port).
    test_host: Option<String>,
}

impl LinkGuard {
    /// TESTS ONLY. Lets `host` (a name under the reserved `.test` top-level
    /// domain, e.g. `shop.test`) reach a local test server: it may resolve to
    /// a loopback address (never to any other refused one). Test servers
    /// listen on random ports, so `.test` names may also use any port: then
    /// `evil.test:PORT` mapped to 127.0.0.1 gets past the URL check and shows
    /// the refusal at connect time.
    ///
    /// Why this cannot open loopback in production: it applies only to a
    /// name, never to a literal address (`http://127.0.0.1/` stays refused),
    /// and only to a `.test` name, which the public DNS never resolves (RFC
    /// 6761); a non-`.test` `host` is ignored, leaving the strict guard.
    /// Tests pair it with a [`StaticResolver`] that maps the name.
    pub fn for_tests_allowing(host: &str) -> Self {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        LinkGuard {
            test_host: is_test_name(&host).then_some(host),
        }
    }

    fn is_test_host(&self, name: &str) -> bool {
        self.test_host
            .as_deref()
            .is_some_and(|t| t == name.trim_end_matches('.').to_ascii_lowercase())
    }

    /// Whether `url` may be requested (before any lookup): see
    /// [`net_guard::check_url`].
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        if let Some(Host::Domain(name)) = url.host()
            && self.test_host.is_some()
            && is_test_name(name)
        {
            net_guard::check_scheme(url)?;
            return net_guard::check_host(url);
        }
        net_guard::check_url(url)
    }

    /// Whether `name` may connect to `ip`.
    fn allows(&self, name: &str, ip: IpAddr) -> bool {
        match net_guard::ip_refusal(ip) {
            None => true,
            Some(_) => ip.is_loopback() && self.is_test_host(name),
        }
    }

    /// The redirect policy of a guarded client: every hop is checked like
    /// the first URL, and at most [`MAX_REDIRECTS`] are followed.
    pub(super) fn redirect_policy(self: Arc<Self>) -> reqwest::redirect::Policy {
        reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(Refused::new(format!("more than {MAX_REDIRECTS} redirects")));
            }
            match self.check_url(attempt.url()) {
                Ok(()) => attempt.follow(),
                Err(why) => {
                    let reason = format!("redirect to {}: {}", hop_for_log(attempt.url()), why);
                    attempt.error(Refused::new(reason))
                }
            }
        })
    }
}

/// A name under `.test` (RFC 6761: never resolved by the public DNS).
fn is_test_name(name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name.ends_with(".test") && name.len() > ".test".len()
}

/// A redirect target for the log: scheme, host and port only (its path and
/// query came from a remote server and may be anything).
fn hop_for_log(url: &Url) -> String {
    match url.host_str() {
        Some(host) => match url.port() {
            Some(port) => format!("{}://{host}:{port}", url.scheme()),
            None => format!("{}://{host}", url.scheme()),
        },
        None => format!("{}:", url.scheme()),
    }
}

/// Resolves with `inner`, then keeps only the addresses the guard allows;
/// an error if none is left. reqwest connects only to what this returns.
pub struct GuardedResolver {
    inner: Arc<dyn Resolve>,
    guard: Arc<LinkGuard>,
}

impl GuardedResolver {
    pub fn new(inner: Arc<dyn Resolve>, guard: Arc<LinkGuard>) -> Self {
        GuardedResolver { inner, guard }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        let guard = self.guard.clone();
        // Local names are refused before a lookup (mDNS, hosts files and
        // search domains answer them); the test host is looked up normally.
        if !guard.is_test_host(&host)
            && let Some(why) = net_guard::name_refusal(&host)
        {
            let refused = Refused::new(format!("{host}: {why}"));
            return Box::pin(async move { Err(refused.into()) });
        }
        let lookup = self.inner.resolve(name);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = lookup.await?.collect();
            let (kept, dropped): (Vec<SocketAddr>, Vec<SocketAddr>) =
                addrs.into_iter().partition(|a| guard.allows(&host, a.ip()));
            if let Some(first) = dropped.first() {
                let why = net_guard::ip_refusal(first.ip()).unwrap_or("refused");
                tracing::warn!(
                    host = %host,
                    dropped = dropped.len(),
                    kept = kept.len(),
                    first = %first.ip(),
                    why,
                    "user link: resolved addresses refused"
                );
            }
            if kept.is_empty() {
                let reason = match dropped.first() {
                    Some(first) => format!(
                        "{host} resolves only to refused addresses ({}: {})",
                        first.ip(),
                        net_guard::ip_refusal(first.ip()).unwrap_or("refused")
                    ),
                    None => format!("{host} resolves to no address"),
                };
                return Err(Refused::new(reason).into());
            }
            Ok(Box::new(kept.into_iter()) as Addrs)
        })
    }
}

/// The system's resolver (getaddrinfo, through tokio's blocking pool).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            // Port 0: reqwest puts the URL's port in.
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// A resolver with a fixed table, for tests: `shop.test` → 127.0.0.1,
/// `evil.test` → 10.0.0.1, ... Its answers go through the same guard as the
/// system resolver's. Unknown names fail like NXDOMAIN.
#[derive(Debug, Default, Clone)]
pub struct StaticResolver {
    table: HashMap<String, Vec<IpAddr>>,
}

impl StaticResolver {
    pub fn new<'a>(entries: impl IntoIterator<Item = (&'a str, IpAddr)>) -> Self {
        let mut r = StaticResolver::default();
        for (name, ip) in entries {
            r = r.with(name, ip);
        }
        r
    }

    /// Adds one more answer for `name` (a name may have several).
    pub fn with(mut self, name: &str, ip: IpAddr) -> Self {
        self.table
            .entry(name.trim_end_matches('.').to_ascii_lowercase())
            .or_default()
            .push(ip);
        self
    }
}

impl Resolve for StaticResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let key = name.as_str().trim_end_matches('.').to_ascii_lowercase();
        let found = self.table.get(&key).cloned();
        Box::pin(async move {
            let ips = found.ok_or_else(|| format!("{key}: no such host (test resolver)"))?;
            let addrs: Vec<SocketAddr> = ips.into_iter().map(|ip| SocketAddr::new(ip, 0)).collect();
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The guard's refusal somewhere in an error's chain (reqwest wraps the
/// resolver's and the redirect policy's errors in its own).
pub(super) fn refusal_in<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a Refused> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(r) = err.downcast_ref::<Refused>() {
            return Some(r);
        }
        current = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use std::str::FromStr;

    async fn resolve(
        guard: LinkGuard,
        r: StaticResolver,
        name: &str,
    ) -> Result<Vec<IpAddr>, String> {
        let g = GuardedResolver::new(Arc::new(r), Arc::new(guard));
        match g
            .resolve(Name::from_str(name).map_err(|_| "bad name".to_string())?)
            .await
        {
            Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn resolved_addresses_are_filtered() {
        let r = StaticResolver::new([
            ("shop.test", ip("93.184.215.14")),
            ("evil.test", ip("127.0.0.1")),
            ("private.test", ip("10.0.0.1")),
            ("meta.test", ip("169.254.169.254")),
            ("mapped.test", ip("::ffff:192.168.0.1")),
            ("ula.test", ip("fd00:ec2::254")),
        ])
        .with("mixed.test", ip("10.1.1.1"))
        .with("mixed.test", ip("93.184.215.14"))
        .with("mixed.test", ip("::1"));
        let strict = LinkGuard::default;
        assert_eq!(
            resolve(strict(), r.clone(), "shop.test").await,
            Ok(vec![ip("93.184.215.14")])
        );
        assert_eq!(
            resolve(strict(), r.clone(), "mixed.test").await,
            Ok(vec![ip("93.184.215.14")]),
            "refused addresses are dropped, allowed ones kept"
        );
        for name in [
            "evil.test",
            "private.test",
            "meta.test",
            "mapped.test",
            "ula.test",
        ] {
            let e = resolve(strict(), r.clone(), name).await.unwrap_err();
            assert!(
                e.contains("resolves only to refused addresses"),
                "{name}: {e}"
            );
        }
        let e = resolve(strict(), r.clone(), "localhost").await.unwrap_err();
        assert!(e.contains("localhost"), "{e}");
        assert!(resolve(strict(), r.clone(), "unknown.test").await.is_err());
    }

    #[tokio::test]
    async fn the_test_escape_admits_loopback_for_one_test_name_only() {
        let r = StaticResolver::new([
            ("shop.test", ip("127.0.0.1")),
            ("evil.test", ip("127.0.0.1")),
            ("private.test", ip("10.0.0.1")),
        ]);
        let g = || LinkGuard::for_tests_allowing("shop.test");
        assert_eq!(
            resolve(g(), r.clone(), "shop.test").await,
            Ok(vec![ip("127.0.0.1")])
        );
        assert!(resolve(g(), r.clone(), "evil.test").await.is_err());
        let private = LinkGuard::for_tests_allowing("private.test");
        assert!(
            resolve(private, r.clone(), "private.test").await.is_err(),
            "the escape is loopback only"
        );
        // Never for a literal, a non-.test name, or another port's rules elsewhere.
        let u = |s: &str| Url::parse(s).unwrap();
        assert!(g().check_url(&u("http://shop.test:5000/")).is_ok());
        assert!(g().check_url(&u("ftp://shop.test/")).is_err());
        // Any port for .test names (test servers' ports are random); their
        // addresses are still filtered at connect time.
        assert!(g().check_url(&u("http://evil.test:5000/")).is_ok());
        assert!(g().check_url(&u("http://shop.example:5000/")).is_err());
        assert!(
            LinkGuard::default()
                .check_url(&u("http://shop.test:5000/"))
                .is_err()
        );
        assert!(g().check_url(&u("http://127.0.0.1:5000/")).is_err());
        assert_eq!(
            LinkGuard::for_tests_allowing("localhost"),
            LinkGuard::default()
        );
        assert_eq!(
            LinkGuard::for_tests_allowing("shop.example"),
            LinkGuard::default()
        );
        assert_eq!(LinkGuard::for_tests_allowing(".test"), LinkGuard::default());
        assert!(!LinkGuard::default().allows("shop.test", IpAddr::V4(Ipv4Addr::LOCALHOST)));
    }

    #[test]
    fn refusals_are_found_through_wrapping_errors() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Outer(#[source] Box<dyn std::error::Error + Send + Sync>);
        let e = Outer(Box::new(Refused::new("x")));
        assert_eq!(refusal_in(&e).map(|r| r.reason.as_str()), Some("x"));
        assert!(refusal_in(&Outer("plain".into())).is_none());
    }
}
