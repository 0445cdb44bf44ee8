//! User links never reach inside: the fetcher for URLs that come from users
//! refuses loopback, private, link-local, metadata and other special
//! addresses in every notation, other schemes and ports, and redirects to
//! any of those, before a byte is sent; a local server counts what reaches it.
//!
//! Only loopback traffic: a hostile URL is either a loopback one (a guard bug
//! would reach the counting server, and the test would see it) or, for
//! non-loopback internal addresses, checked on the guard's decision alone
//! (URL check and resolver output), so a guard bug can never send a packet
//! to 10.x or 169.254.x from a test.

use pricehound::domain::user::{TrackedPage, UserId};
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::{Scraper, TrackedPages};
use pricehound::sources::fetch::net_guard::{self, ipv4_refusal, ipv6_refusal};
use pricehound::sources::fetch::user_links::{GuardedResolver, MAX_REDIRECTS};
use pricehound::sources::fetch::{FetchPolicy, LinkGuard};
use pricehound::sources::tracked::source_id_for;
use pricehound::sources::{FetchError, Fetcher, RequestOptions, SourcesConfig};
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{Store, TrackedPageStore, UserStore};
use pricehound_tests::pages::Answer;
use pricehound_tests::user_links::{
    PAGE, SHOP_HOST, fetcher, hostile_loopback_urls, on_host, on_shop_host, port, resolver, server,
};
use proptest::prelude::*;
use reqwest::dns::{Name, Resolve};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::Arc;
use url::Url;

#[tokio::test]
async fn an_allowed_host_reaches_the_server_and_every_loopback_spelling_of_it_does_not() {
    let (site, base) = server().await;
    let f = fetcher();
    for url in hostile_loopback_urls(port(&base)) {
        let u = Url::parse(&url).unwrap();
        let err = f.get_text(&u).await.unwrap_err();
        assert!(
            matches!(err, FetchError::Forbidden { .. }),
            "{url}: {err:?}"
        );
        // Without robots.txt first, the page request itself is refused.
        let no_robots = RequestOptions {
            respect_robots: false,
            accept: None,
        };
        let direct = f.get_text_with(&u, &no_robots).await.unwrap_err();
        assert!(
            matches!(direct, FetchError::Forbidden { .. }),
            "{url}: {direct:?}"
        );
        let json = f.get_json(&u, &Default::default()).await.unwrap_err();
        assert!(
            matches!(json, FetchError::Forbidden { .. }),
            "{url}: {json:?}"
        );
        assert_eq!(site.requests(), Vec::<String>::new(), "{url} reached it");
    }
    // The same server under the test host is reached: the guard is not
    // simply refusing everything.
    let ok = f
        .get_text(&on_shop_host(&base).join("/page").unwrap())
        .await
        .unwrap();
    assert!(ok.body.contains("ok"));
    assert_eq!(site.requests(), vec!["/robots.txt", "/page"]);
}

#[tokio::test]
async fn the_refusal_says_why_in_the_log_and_not_in_a_way_that_varies_by_network() {
    let (_site, base) = server().await;
    let f = fetcher();
    let reason = |url: String| {
        let f = f.clone();
        async move {
            match f.get_text(&Url::parse(&url).unwrap()).await {
                Err(FetchError::Forbidden { reason, url }) => {
                    assert!(!url.contains("pw"), "no password in {url}");
                    reason
                }
                other => panic!("{url}: {other:?}"),
            }
        }
    };
    let p = port(&base);
    assert!(
        reason(format!("http://127.0.0.1:{p}/"))
            .await
            .contains("loopback")
    );
    assert!(
        reason(format!("http://evil.test:{p}/"))
            .await
            .contains("refused addresses")
    );
    assert!(
        reason(format!("http://localhost:{p}/"))
            .await
            .contains("localhost")
    );
    assert!(
        reason("https://shop.example:8443/".into())
            .await
            .contains("port 8443")
    );
    assert!(
        reason("ftp://shop.example/".into())
            .await
            .contains("scheme")
    );
    assert!(
        reason(format!("http://u:pw@127.0.0.1:{p}/"))
            .await
            .contains("loopback")
    );
}

#[tokio::test]
async fn redirects_from_an_allowed_host_to_an_internal_one_are_not_followed() {
    let (site, base) = server().await;
    let p = port(&base);
    let targets = [
        format!("http://127.0.0.1:{p}/page"),
        format!("http://0x7f.1:{p}/page"),
        format!("http://2130706433:{p}/page"),
        format!("http://[::1]:{p}/page"),
        format!("http://[::ffff:127.0.0.1]:{p}/page"),
        format!("http://localhost:{p}/page"),
        format!("http://evil.test:{p}/page"),
        format!("http://mapped.test:{p}/page"),
        "ftp://shop.example/page".to_string(),
        "https://shop.example:8443/page".to_string(),
    ];
    let f = fetcher();
    for (i, target) in targets.iter().enumerate() {
        let from = format!("/r/{i}");
        site.set(&from, Answer::redirect(target));
        let start = on_shop_host(&base).join(&from).unwrap();
        let err = f.get_text(&start).await.unwrap_err();
        match &err {
            FetchError::Forbidden { reason, .. } => assert!(
                reason.contains("redirect") || reason.contains("refused"),
                "{target}: {reason}"
            ),
            other => panic!("{target}: {other:?}"),
        }
    }
    // Only the allowed first hops (and the test host's robots.txt) arrived.
    let reqs = site.requests();
    assert!(!reqs.iter().any(|r| r == "/page"), "{reqs:?}");
    assert_eq!(
        reqs.iter().filter(|r| r.starts_with("/r/")).count(),
        targets.len(),
        "{reqs:?}"
    );

    // A redirect that stays on the allowed host is followed.
    site.set("/r/ok", Answer::redirect("/page"));
    let ok = f
        .get_text(&on_shop_host(&base).join("/r/ok").unwrap())
        .await
        .unwrap();
    assert_eq!(ok.final_url.path(), "/page");
}

#[tokio::test]
async fn at_most_five_redirect_hops_are_followed() {
    let (site, base) = server().await;
    for i in 0..=MAX_REDIRECTS {
        site.set(
            &format!("/hop/{i}"),
            Answer::redirect(&format!("/hop/{}", i + 1)),
        );
    }
    site.set(&format!("/hop/{}", MAX_REDIRECTS + 1), Answer::html(PAGE));
    let start = on_shop_host(&base).join("/hop/0").unwrap();
    let err = fetcher().get_text(&start).await.unwrap_err();
    assert!(
        matches!(&err, FetchError::Forbidden { reason, .. } if reason.contains("redirects")),
        "{err:?}"
    );
    let hops = site
        .requests()
        .iter()
        .filter(|r| r.starts_with("/hop/"))
        .count();
    assert_eq!(hops, MAX_REDIRECTS + 1, "{:?}", site.requests());
}

/// Non-loopback internal addresses are checked on the guard's decision only:
/// a guard bug here must never turn into a packet to the LAN or the cloud's
/// metadata service.
#[test]
fn internal_literals_are_refused_before_any_connection() {
    let strict = LinkGuard::default();
    let test_guard = LinkGuard::for_tests_allowing(SHOP_HOST);
    for url in [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.169.254.:80/latest/meta-data/",
        "http://2852039166/latest/meta-data/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://0251.0376.0251.0376/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/latest/meta-data/",
        "http://100.100.100.200/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://10.0.0.1/",
        "http://012.0.0.1/",
        "http://167772161/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://[::ffff:192.168.1.1]/",
        "http://[64:ff9b::c0a8:101]/",
        "http://[2002:c0a8:101::]/",
        "http://100.64.0.1/",
        "http://[fe80::1]/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://192.0.2.1/",
        "http://198.18.0.1/",
        "http://240.0.0.1/",
        "http://[2001:db8::1]/",
        "http://[ff02::1]/",
        "http://router/",
        "http://printer.local/",
    ] {
        let u = Url::parse(url).unwrap();
        assert!(strict.check_url(&u).is_err(), "{url}");
        assert!(test_guard.check_url(&u).is_err(), "{url} (test guard)");
    }
}

async fn guarded_answer(guard: LinkGuard, name: &str) -> Result<Vec<IpAddr>, String> {
    let r = GuardedResolver::new(Arc::new(resolver()), Arc::new(guard));
    let name = Name::from_str(name).map_err(|_| "bad name".to_string())?;
    match r.resolve(name).await {
        Ok(addrs) => Ok(addrs.map(|a| a.ip()).collect()),
        Err(e) => Err(e.to_string()),
    }
}

#[tokio::test]
async fn names_that_resolve_to_internal_addresses_are_refused_at_connect_time() {
    for guard in [
        LinkGuard::default(),
        LinkGuard::for_tests_allowing(SHOP_HOST),
    ] {
        for name in [
            "private.test",
            "lan.test",
            "metadata.test",
            "evil.test",
            "evil6.test",
            "mapped.test",
            "localhost",
        ] {
            let answer = guarded_answer(guard.clone(), name).await;
            assert!(answer.is_err(), "{name}: {answer:?}");
        }
    }
    // The test host reaches loopback only under the test guard.
    assert!(
        guarded_answer(LinkGuard::default(), SHOP_HOST)
            .await
            .is_err()
    );
    assert_eq!(
        guarded_answer(LinkGuard::for_tests_allowing(SHOP_HOST), SHOP_HOST).await,
        Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)])
    );
}

#[tokio::test]
async fn the_production_user_link_fetcher_is_strict_and_small() {
    let f = Fetcher::for_user_links();
    let p = f.policy();
    assert_eq!(p.link_guard, Some(LinkGuard::default()));
    assert_eq!(p.max_body, pricehound::sources::fetch::USER_LINK_MAX_BODY);
    assert_eq!(p.max_body, 1024 * 1024);
    assert!(p.max_retries <= 1 && p.respect_robots);
    // A guarded fetcher with a test resolver but no guard in its policy gets
    // the strict guard, not none: the test host cannot reach loopback.
    let (site, base) = server().await;
    let f = Fetcher::for_user_links_with(FetchPolicy::for_tests(), Arc::new(resolver()));
    assert_eq!(f.policy().link_guard, Some(LinkGuard::default()));
    let err = f
        .get_text(&on_shop_host(&base).join("/page").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err:?}");
    let err = f
        .get_text(&on_host(&base, "evil.test").join("/page").unwrap())
        .await
        .unwrap_err();
    assert!(matches!(err, FetchError::Forbidden { .. }), "{err:?}");
    assert_eq!(site.requests(), Vec::<String>::new());
}

#[tokio::test]
async fn the_operator_fetcher_still_reaches_loopback() {
    let (site, base) = server().await;
    let ok = Fetcher::for_tests()
        .get_text(&base.join("/page").unwrap())
        .await
        .unwrap();
    assert!(ok.body.contains("ok"));
    assert!(site.requests().contains(&"/page".to_string()));
}

#[tokio::test]
async fn a_tracked_page_with_a_hostile_url_is_never_fetched_by_the_scraper() {
    let (site, base) = server().await;
    let p = port(&base);
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    // Distinct paths: `0x7f.1` and `127.0.0.1` are the same URL once parsed.
    let hostile = [
        format!("http://127.0.0.1:{p}/page/1"),
        format!("http://0x7f.1:{p}/page/2"),
        format!("http://[::ffff:127.0.0.1]:{p}/page/3"),
        format!("http://localhost:{p}/page/4"),
        format!("http://evil.test:{p}/page/5"),
    ];
    for url in &hostile {
        let url = Url::parse(url).unwrap();
        store
            .track_page(&TrackedPage {
                source_id: source_id_for(&url),
                url: url.to_string(),
                name: "hostile".into(),
                added_by: UserId(1),
                added_at: chrono::Utc::now(),
            })
            .await
            .unwrap();
    }
    // Only tracked pages in the group: every configured source is off.
    let mut sources = SourcesConfig::default_sources();
    for s in &mut sources.sources {
        s.enabled = false;
    }
    assert!(sources.groups.contains_key("products"));
    let (queue, _rx) = MemoryQueue::new();
    let users: Arc<dyn UserStore> = store.clone();
    let scraper = Scraper {
        sources: Arc::new(sources),
        // The operator's fetcher would reach the server: it must not be used.
        fetcher: Fetcher::for_tests(),
        user_fetcher: fetcher(),
        store: store.clone(),
        queue: Arc::new(queue),
        tracked: Some(TrackedPages {
            users,
            group: "products".into(),
        }),
    };
    let report = scraper.run_group("products").await.unwrap();
    assert_eq!(report.sources.len(), hostile.len(), "{report:?}");
    for s in &report.sources {
        assert!(!s.ok, "{s:?}");
        assert!(
            s.error.as_deref().is_some_and(|e| e.contains("refused")),
            "{s:?}"
        );
        let health = store.source_health(&s.source_id).await.unwrap().unwrap();
        assert_eq!(health.consecutive_failures, 1, "{health:?}");
        assert!(health.last_error.is_some());
    }
    assert_eq!(site.requests(), Vec::<String>::new());
}

// ---- classification against std's rules, in every notation ----

/// The oracle: std's address predicates where they are stable, and the
/// IANA special-purpose blocks spelled out where std's are not (yet).
fn v4_forbidden(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 192 && b == 88 && c == 99)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240
}

fn v6_forbidden(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_forbidden(v4);
    }
    let s = ip.segments();
    if ip.is_unspecified() || ip.is_loopback() {
        return true;
    }
    // IPv4-compatible, IPv4-translated, NAT64 and 6to4 carry an IPv4 address.
    let low = Ipv4Addr::from(((s[6] as u32) << 16) | s[7] as u32);
    if s[..6] == [0; 6] || s[..6] == [0, 0, 0, 0, 0xffff, 0] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0]
    {
        return v4_forbidden(low);
    }
    if s[0] == 0x2002 {
        return v4_forbidden(Ipv4Addr::from(((s[1] as u32) << 16) | s[2] as u32));
    }
    ip.is_multicast()
        || ip.is_unique_local()
        || ip.is_unicast_link_local()
        || (s[0] & 0xe000) != 0x2000
        || (s[0] == 0x2001 && s[1] < 0x200)
        || (s[0] == 0x2001 && s[1] == 0xdb8)
        || (s[0] == 0x3fff && s[1] < 0x1000)
}

/// IPv4 addresses, biased towards the edges of the special blocks.
fn any_v4() -> impl Strategy<Value = Ipv4Addr> {
    let specials: Vec<(u32, u32)> = vec![
        (0x0000_0000, 8),
        (0x0a00_0000, 8),
        (0x6440_0000, 10),
        (0x7f00_0000, 8),
        (0xa9fe_0000, 16),
        (0xac10_0000, 12),
        (0xc000_0000, 24),
        (0xc000_0200, 24),
        (0xc058_6300, 24),
        (0xc0a8_0000, 16),
        (0xc612_0000, 15),
        (0xc633_6400, 24),
        (0xcb00_7100, 24),
        (0xe000_0000, 4),
        (0xf000_0000, 4),
    ];
    prop_oneof![
        any::<u32>().prop_map(Ipv4Addr::from),
        (proptest::sample::select(specials), any::<u32>(), -2i64..=2).prop_map(
            |((net, len), r, edge)| {
                // Inside the block, or just around its first/last address.
                let size = 1u64 << (32 - len);
                let inside = (net as u64 + (r as u64 % size)) as i64;
                let around = if edge < 0 {
                    net as i64 + edge
                } else if edge > 0 {
                    net as i64 + size as i64 - 1 + edge
                } else {
                    inside
                };
                Ipv4Addr::from(around.clamp(0, u32::MAX as i64) as u32)
            }
        ),
    ]
}

fn any_v6() -> impl Strategy<Value = Ipv6Addr> {
    let prefixes: Vec<u16> = vec![
        0x0000, 0x0064, 0x0100, 0x1fff, 0x2000, 0x2001, 0x2002, 0x2606, 0x3fff, 0x4000, 0xfc00,
        0xfd00, 0xfe80, 0xfebf, 0xfec0, 0xff02,
    ];
    prop_oneof![
        any::<u128>().prop_map(Ipv6Addr::from),
        (
            proptest::sample::select(prefixes),
            any::<[u16; 7]>(),
            0u8..4
        )
            .prop_map(|(first, rest, zeros)| {
                let mut s = [
                    first, rest[0], rest[1], rest[2], rest[3], rest[4], rest[5], rest[6],
                ];
                // Zero runs make the embedded-IPv4 forms and ::x likely.
                for seg in s.iter_mut().take(6).skip(1 + zeros as usize) {
                    *seg = 0;
                }
                Ipv6Addr::from(s)
            }),
        any::<u32>().prop_map(|v4| Ipv4Addr::from(v4).to_ipv6_mapped()),
        (any_v4(), 0u8..4).prop_map(|(v4, form)| {
            let [a, b, c, d] = v4.octets();
            let (hi, lo) = (u16::from_be_bytes([a, b]), u16::from_be_bytes([c, d]));
            let s = match form {
                0 => [0, 0, 0, 0, 0, 0, hi, lo],
                1 => [0x64, 0xff9b, 0, 0, 0, 0, hi, lo],
                2 => [0x2002, hi, lo, 0, 0, 0, 0, 1],
                _ => [0, 0, 0, 0, 0xffff, 0, hi, lo],
            };
            Ipv6Addr::from(s)
        }),
    ]
}

/// The ways a URL can spell one IPv4 address.
fn v4_spellings(ip: Ipv4Addr) -> Vec<String> {
    let n = u32::from(ip);
    let [a, b, c, d] = ip.octets();
    vec![
        format!("{a}.{b}.{c}.{d}"),
        format!("{a}.{b}.{c}.{d}."),
        format!("{n}"),
        format!("0x{n:x}"),
        format!("0X{n:08X}"),
        format!("0{n:o}"),
        format!("0{a:o}.0{b:o}.0{c:o}.0{d:o}"),
        format!("0x{a:x}.0x{b:x}.0x{c:x}.0x{d:x}"),
        format!("{a}.{}", n & 0x00ff_ffff),
        format!("0x{a:x}.{b}.{}", n & 0xffff),
        format!("{a}.0{b:o}.0x{:x}", n & 0xffff),
        format!("[::ffff:{a}.{b}.{c}.{d}]"),
        format!("[::ffff:{:x}:{:x}]", n >> 16, n & 0xffff),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn ipv4_in_every_notation_is_classified_by_the_rules(ip in any_v4(), https in any::<bool>()) {
        let expected = v4_forbidden(ip);
        prop_assert_eq!(ipv4_refusal(ip).is_some(), expected, "{}", ip);
        let scheme = if https { "https" } else { "http" };
        for host in v4_spellings(ip) {
            let url = Url::parse(&format!("{scheme}://{host}/p")).unwrap();
            prop_assert_eq!(
                net_guard::check_url(&url).is_err(),
                expected,
                "{} spelled {} parsed as {:?}", ip, host, url.host()
            );
        }
    }

    #[test]
    fn ipv6_is_classified_by_the_rules(ip in any_v6()) {
        let expected = v6_forbidden(ip);
        prop_assert_eq!(ipv6_refusal(ip).is_some(), expected, "{}", ip);
        for host in [format!("[{ip}]"), format!("[{}]", expanded(ip))] {
            let url = Url::parse(&format!("http://{host}:80/")).unwrap();
            prop_assert_eq!(net_guard::check_url(&url).is_err(), expected, "{}", host);
        }
    }

    #[test]
    fn other_ports_and_schemes_are_refused_for_public_addresses(
        port in 1u16..,
        scheme in prop_oneof![Just("http"), Just("https"), Just("ftp"), Just("ws"), Just("gopher")],
    ) {
        let url = Url::parse(&format!("{scheme}://93.184.215.14:{port}/")).unwrap();
        let allowed = matches!(scheme, "http" | "https") && (port == 80 || port == 443);
        prop_assert_eq!(net_guard::check_url(&url).is_ok(), allowed, "{}", url);
    }
}

fn expanded(ip: Ipv6Addr) -> String {
    ip.segments()
        .iter()
        .map(|s| format!("{s:04x}"))
        .collect::<Vec<_>>()
        .join(":")
}
