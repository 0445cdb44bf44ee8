//! Pasting a product link into the bot: offered, tracked, watched, and from
//! then on scraped with the product pages of `sources.toml`.

use pricehound::domain::user::{Lang, UserId};
use pricehound::queue::QueueMessage;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::{Scraper, TrackedPages};
use pricehound::sources::Fetcher;
use pricehound::sources::tracked::source_id_for;
use pricehound::store::UserStore;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, assert_sendable, buttons};
use pricehound_tests::pages::{Answer, Scripted, demo_sources};
use std::sync::Arc;

const LEGO: &str =
    include_str!("../../shared/src/demo/pages/products/briques-et-cie-lego-42143.html");

/// Long enough that the button's data must be stashed (over 64 bytes).
const LEGO_PATH: &str = "/p/lego-42143?utm_source=telegram&utm_medium=share&utm_campaign=winter";

async fn shop() -> (Scripted, url::Url) {
    let site = Scripted::default();
    site.set(LEGO_PATH, Answer::html(LEGO));
    site.set(
        "/p/blog-post",
        Answer::html(
            "<html><head><title>Not a shop</title></head><body><p>Hello</p></body></html>",
        ),
    );
    site.set("/p/gone", Answer::status(404));
    let base = pricehound_tests::user_links::on_shop_host(&site.start().await);
    (site, base)
}

#[tokio::test]
async fn a_pasted_product_link_is_offered_tracked_watched_and_scraped_with_the_products() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking().await;
    let url = base.join(LEGO_PATH).unwrap();
    for (lang, code) in [(Lang::En, "en"), (Lang::Fr, "fr")] {
        let user = 40 + lang as i64;
        let offer = h.say(user, code, &format!("regarde ça {url} !")).await;
        assert_sendable(&offer);
        assert_eq!(
            offer[0]["text"],
            render(lang, &Text::TrackOffer { url: url.as_str() })
        );
        let (_, data) = buttons(&offer).pop().expect("a Track button");
        assert!(data.starts_with('~'), "a long URL is stashed: {data}");

        let tracked = h.press(user, code, &data).await;
        assert_sendable(&tracked);
        let text = tracked[0]["text"].as_str().unwrap();
        assert!(text.contains("42143") || text.contains("LEGO"), "{text}");
        assert_eq!(tracked.last().unwrap()["method"], "answerCallbackQuery");
        let watches = h.users().watches(UserId(user)).await.unwrap();
        assert_eq!(watches.len(), 1);
        assert!(
            watches[0]
                .item
                .as_str()
                .starts_with(source_id_for(&url).as_str())
        );
    }
    // Two users, one page: tracked once.
    let pages = h.users().tracked_pages().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].source_id, source_id_for(&url));

    // The products group now scrapes it along with the configured pages.
    let (queue, mut rx) = MemoryQueue::new();
    let users: Arc<dyn UserStore> = h.store.clone();
    let scraper = Scraper {
        sources: Arc::new(demo_sources().await),
        fetcher: Fetcher::new(),
        user_fetcher: pricehound_tests::user_links::fetcher(),
        store: h.store.clone(),
        queue: Arc::new(queue),
        tracked: Some(TrackedPages {
            users,
            group: "products".into(),
        }),
    };
    let report = scraper.run_group("products").await.unwrap();
    let mine = report
        .sources
        .iter()
        .find(|s| s.source_id == pages[0].source_id)
        .expect("the tracked page is in the group run");
    assert!(mine.ok && mine.observations == 1, "{mine:?}");
    assert!(
        report.sources.len() > 1,
        "configured product pages still run"
    );
    drop(scraper);
    let mut found = false;
    while let Some(QueueMessage::Observation(o)) = rx.recv().await {
        found |= o.source_id == pages[0].source_id;
    }
    assert!(found, "its observation was queued");
}

#[tokio::test]
async fn a_page_without_a_price_or_a_404_is_explained_and_nothing_is_tracked() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking().await;
    for path in ["/p/blog-post", "/p/gone"] {
        let url = base.join(path).unwrap();
        let offer = h.say(7, "en", url.as_str()).await;
        let (_, data) = buttons(&offer).pop().unwrap();
        let answer = h.press(7, "en", &data).await;
        assert_sendable(&answer);
        let text = answer[0]["text"].as_str().unwrap();
        let prefix = render(Lang::En, &Text::TrackFailed { reason: "" });
        assert!(
            text.starts_with(&prefix) && text.len() > prefix.len(),
            "{text}"
        );
    }
    assert!(h.users().tracked_pages().await.unwrap().is_empty());
    assert!(h.users().watches(UserId(7)).await.unwrap().is_empty());
}

#[tokio::test]
async fn links_in_groups_are_ignored_and_forged_track_buttons_are_refused() {
    let h = BotHarness::start_tracking().await;
    let mut group = pricehound_tests::bot::message(8, "en", "https://shop.example/p/1");
    group["message"]["chat"] = serde_json::json!({"id": -1001, "type": "supergroup", "title": "g"});
    assert!(h.send(group).await.is_empty());
    let forged = h.press(8, "en", "t|javascript:alert(1)").await;
    assert_eq!(forged.len(), 1);
    assert_eq!(forged[0]["text"], render(Lang::En, &Text::ButtonExpired));
    let unknown_stash = h.press(8, "en", "~0123456789abcdef0123").await;
    assert_eq!(
        unknown_stash[0]["text"],
        render(Lang::En, &Text::ButtonExpired)
    );
}
