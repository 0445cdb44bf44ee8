//! Hostile links pasted into the real bot (webhook → track job → guarded
//! fetcher with the test resolver): every one gets the same polite answer,
//! and a local server counting its requests receives none of them. Only
//! loopback traffic: non-loopback targets are refused before connecting,
//! and the names of the test resolver that lead elsewhere are private ones
//! nothing is sent to (see `tests/tests/user_links.rs` for the guard alone).

use pricehound::domain::user::Lang;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, assert_sendable, buttons};
use pricehound_tests::pages::Answer;
use pricehound_tests::user_links::{hostile_loopback_urls, on_shop_host, port, server};

/// The real bot, driven like a user would: every hostile link pasted and
/// its Track button pressed gets the one polite answer, and the counting
/// server receives nothing but the allowed first hops of the redirects.
#[tokio::test]
async fn hostile_links_pasted_into_the_bot_never_reach_the_server() {
    let (site, base) = server().await;
    let p = port(&base);
    site.set(
        "/r/literal",
        Answer::redirect(&format!("http://127.0.0.1:{p}/page")),
    );
    site.set(
        "/r/name",
        Answer::redirect(&format!("http://evil.test:{p}/page")),
    );
    site.set(
        "/r/hex",
        Answer::redirect(&format!("http://0x7f.1:{p}/page")),
    );
    let mut links = hostile_loopback_urls(p);
    links.extend(
        ["/r/literal", "/r/name", "/r/hex"]
            .map(|r| on_shop_host(&base).join(r).unwrap().to_string()),
    );
    links.extend([
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://private.test/p".to_string(),
        "http://metadata.test/latest".to_string(),
    ]);
    let h = BotHarness::start_tracking().await;
    let polite = render(Lang::En, &Text::TrackFailed);
    let reading = render(Lang::En, &Text::TrackReading);
    let mut offered = Vec::new();
    for (i, link) in links.iter().enumerate() {
        // One user per link: the per-user burst limit is not what is tested.
        let user = 1000 + i as i64;
        let offer = h.say(user, "en", &format!("look {link}")).await;
        assert_sendable(&offer);
        let Some((_, data)) = buttons(&offer).pop() else {
            continue; // not offered at all (not a web link to the bot): nothing fetched
        };
        offered.push(link.clone());
        let pressed = h.press(user, "en", &data).await;
        assert_sendable(&pressed);
        let answer = h.wait_for_message(user, |t| t != reading).await;
        assert_eq!(answer["text"].as_str(), Some(polite.as_str()), "{link}");
    }
    let reqs = site.requests();
    assert!(
        reqs.iter()
            .all(|r| r == "/robots.txt" || r.starts_with("/r/")),
        "{reqs:?}"
    );
    // The redirects' first hops did arrive: the links really were read.
    assert_eq!(
        reqs.iter().filter(|r| r.starts_with("/r/")).count(),
        3,
        "{reqs:?}"
    );
    assert!(offered.len() > links.len() / 2, "offered only {offered:?}");
    assert!(h.users().tracked_pages().await.unwrap().is_empty());
}
