//! Pasting a product link into the bot: offered, read off the webhook's
//! path (the answer follows as a message), tracked within the caps,
//! watched, untracked, and meanwhile scraped with the product pages of
//! `sources.toml`.

use pricehound::domain::user::{Lang, UserId};
use pricehound::queue::QueueMessage;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::{Scraper, TrackedPages};
use pricehound::sources::Fetcher;
use pricehound::sources::tracked::source_id_for;
use pricehound::store::UserStore;
use pricehound::telegram::bot::{BotConfig, TrackLimits};
use pricehound::telegram::callback::Callback;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, assert_sendable, buttons};
use pricehound_tests::pages::{Answer, Scripted, demo_sources};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const LEGO: &str =
    include_str!("../../shared/app/src/demo/pages/products/briques-et-cie-lego-42143.html");

/// With tracking tags in the query string and a fragment, which are not kept.
const LEGO_PATH: &str =
    "/p/lego-42143?utm_source=telegram&utm_medium=share&utm_campaign=winter#reviews";

async fn shop() -> (Scripted, url::Url) {
    let site = Scripted::default();
    // The site answers whatever query string comes along.
    site.set("/p/lego-42143", Answer::html(LEGO));
    for n in 1..=3 {
        site.set(&format!("/p/lego-{n}"), Answer::html(LEGO));
    }
    site.set(
        "/p/blog-post",
        Answer::html(
            "<html><head><title>Not a shop</title></head><body><p>Hello</p></body></html>",
        ),
    );
    site.set("/p/gone", Answer::status(404));
    site.set(
        "/p/never",
        Answer::html(LEGO).delayed(Duration::from_secs(3600)),
    );
    let base = pricehound_tests::user_links::on_shop_host(&site.start().await);
    (site, base)
}

fn text_of(call: &Value) -> &str {
    call["text"].as_str().unwrap_or_default()
}

/// Pastes `url`, presses "Track"; returns the press's calls (the webhook's
/// answer) after checking it says the page is being read.
async fn paste_and_press(h: &BotHarness, user: i64, lang: &str, url: &url::Url) -> Vec<Value> {
    let offer = h.say(user, lang, &format!("look {url}")).await;
    assert_sendable(&offer);
    let (_, data) = buttons(&offer).pop().expect("a Track button");
    let pressed = h.press(user, lang, &data).await;
    assert_sendable(&pressed);
    assert_eq!(pressed.last().unwrap()["method"], "answerCallbackQuery");
    pressed
}

/// Pastes, presses and waits for the job's answer (anything but "Reading").
async fn track(h: &BotHarness, user: i64, url: &url::Url) -> Value {
    let pressed = paste_and_press(h, user, "en", url).await;
    assert_eq!(
        text_of(&pressed[0]),
        render(Lang::En, &Text::TrackReading),
        "{pressed:?}"
    );
    let reading = render(Lang::En, &Text::TrackReading);
    h.wait_for_message(user, |t| t != reading).await
}

#[tokio::test]
async fn a_pasted_product_link_is_offered_read_off_the_webhook_tracked_watched_and_scraped() {
    let (site, base) = shop().await;
    let h = BotHarness::start_tracking().await;
    let url = base.join(LEGO_PATH).unwrap();
    let canonical = base.join("/p/lego-42143").unwrap();
    for (lang, code) in [(Lang::En, "en"), (Lang::Fr, "fr")] {
        let user = 40 + lang as i64;
        let offer = h.say(user, code, &format!("regarde ça {url} !")).await;
        assert_sendable(&offer);
        // Offered as it will be stored: no query string, no fragment.
        assert_eq!(
            offer[0]["text"],
            render(
                lang,
                &Text::TrackOffer {
                    url: canonical.as_str()
                }
            )
        );
        let (_, data) = buttons(&offer).pop().expect("a Track button");
        let pressed = h.press(user, code, &data).await;
        assert_sendable(&pressed);
        assert_eq!(text_of(&pressed[0]), render(lang, &Text::TrackReading));
        assert_eq!(pressed.last().unwrap()["method"], "answerCallbackQuery");

        let reading = render(lang, &Text::TrackReading);
        let result = h.wait_for_message(user, |t| t != reading).await;
        assert_sendable(std::slice::from_ref(&result));
        let text = text_of(&result);
        assert!(text.contains("42143") || text.contains("LEGO"), "{text}");
        // The confirmation carries the Untrack button.
        let (_, untrack) = buttons(std::slice::from_ref(&result)).pop().unwrap();
        assert_eq!(
            Callback::decode(&untrack),
            Some(Callback::Untrack(source_id_for(&canonical)))
        );
        let watches = h.users().watches(UserId(user)).await.unwrap();
        assert_eq!(watches.len(), 1);
        assert!(
            watches[0]
                .item
                .as_str()
                .starts_with(source_id_for(&url).as_str())
        );
    }
    // Two users, one page: tracked once, by both; stored without the query.
    let pages = h.users().tracked_pages().await.unwrap();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].source_id, source_id_for(&url));
    assert_eq!(pages[0].url, canonical.as_str());
    assert!(!pages[0].url.contains('?') && !pages[0].url.contains('#'));
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 1);
    // The page was fetched without the query string either.
    assert!(
        site.requests().iter().all(|r| !r.contains("utm_")),
        "{:?}",
        site.requests()
    );

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
async fn every_failure_gets_the_same_polite_answer_and_nothing_is_tracked() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking().await;
    let polite = render(Lang::En, &Text::TrackFailed);
    for path in ["/p/blog-post", "/p/gone"] {
        let result = track(&h, 7, &base.join(path).unwrap()).await;
        assert_eq!(text_of(&result), polite, "no reason, whatever happened");
    }
    // A private address: refused by the guard, with the very same words.
    let private = url::Url::parse("http://private.test/p/1").unwrap();
    assert_eq!(text_of(&track(&h, 7, &private).await), polite);
    assert!(h.users().tracked_pages().await.unwrap().is_empty());
    assert!(h.users().watches(UserId(7)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_page_that_never_answers_hits_the_deadline_and_the_user_is_told_politely() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking_with(BotConfig {
        track_deadline: Duration::from_millis(500),
        ..BotConfig::default()
    })
    .await;
    let result = track(&h, 8, &base.join("/p/never").unwrap()).await;
    assert_eq!(text_of(&result), render(Lang::En, &Text::TrackFailed));
    assert!(h.users().tracked_pages().await.unwrap().is_empty());
}

/// A page that answers only when the test says so: if the webhook waited
/// for the fetch, `press` would never return and the test would hang.
#[tokio::test]
async fn the_webhook_answers_at_once_while_the_page_is_slow_and_the_result_follows() {
    let page = pricehound_tests::pages::gated_page("/p/slow", LEGO).await;
    let (gate, arrived) = (page.gate, page.arrived);
    let base = pricehound_tests::user_links::on_shop_host(&page.base);
    let h = BotHarness::start_tracking().await;
    let url = base.join("/p/slow").unwrap();

    let pressed = paste_and_press(&h, 9, "en", &url).await;
    assert_eq!(text_of(&pressed[0]), render(Lang::En, &Text::TrackReading));
    // The fetch is under way and held: nothing is tracked yet.
    arrived.notified().await;
    assert!(h.users().tracked_pages().await.unwrap().is_empty());

    gate.notify_one();
    let reading = render(Lang::En, &Text::TrackReading);
    let result = h.wait_for_message(9, |t| t != reading).await;
    assert!(text_of(&result).contains("42143"), "{result}");
    assert_eq!(h.users().tracked_pages().await.unwrap().len(), 1);
}

#[tokio::test]
async fn the_per_user_cap_is_told_and_a_repasted_page_does_not_count_twice() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking_with(BotConfig {
        track_limits: TrackLimits {
            per_user: 2,
            global: 100,
        },
        ..BotConfig::default()
    })
    .await;
    let started = |t: &str| t.starts_with("✅");
    for n in 1..=2 {
        let result = track(&h, 10, &base.join(&format!("/p/lego-{n}")).unwrap()).await;
        assert!(started(text_of(&result)), "{result}");
    }
    // The same page again (other tracking tags): still fine, not counted.
    let again = base.join("/p/lego-1?utm_source=again").unwrap();
    let result = track(&h, 10, &again).await;
    assert!(started(text_of(&result)), "{result}");
    assert_eq!(
        h.users().tracked_pages_of(UserId(10)).await.unwrap().len(),
        2
    );

    // A third page: refused at once, nothing read.
    let third = base.join("/p/lego-3").unwrap();
    let pressed = paste_and_press(&h, 10, "en", &third).await;
    assert_eq!(
        text_of(&pressed[0]),
        render(Lang::En, &Text::TrackLimitUser { limit: 2 })
    );
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 2);
    // Another user is not limited by the first one's pages.
    assert!(started(text_of(&track(&h, 11, &third).await)));
}

#[tokio::test]
async fn the_global_cap_is_told_but_an_already_tracked_page_may_still_be_joined() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking_with(BotConfig {
        track_limits: TrackLimits {
            per_user: 20,
            global: 1,
        },
        ..BotConfig::default()
    })
    .await;
    let first = base.join("/p/lego-1").unwrap();
    assert!(text_of(&track(&h, 20, &first).await).starts_with("✅"));
    let pressed = paste_and_press(&h, 21, "fr", &base.join("/p/lego-2").unwrap()).await;
    assert_eq!(
        text_of(&pressed[0]),
        render(Lang::Fr, &Text::TrackLimitGlobal)
    );
    // Joining a page someone tracks adds no fetch: allowed at the cap.
    assert!(text_of(&track(&h, 21, &first).await).starts_with("✅"));
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 1);
}

#[tokio::test]
async fn untrack_by_command_and_button_and_the_last_tracker_leaving_expires_the_page() {
    let (_site, base) = shop().await;
    let h = BotHarness::start_tracking().await;
    let url = base.join("/p/lego-1").unwrap();
    let source = source_id_for(&url);
    for user in [30, 31] {
        assert!(text_of(&track(&h, user, &url).await).starts_with("✅"));
    }
    let item = h.users().watches(UserId(30)).await.unwrap()[0].item.clone();

    // The item's view shows an Untrack button to a tracker only.
    let view = h.say(30, "en", &format!("/item {item}")).await;
    let untrack = Callback::Untrack(source.clone()).encode();
    assert!(
        buttons(&view).iter().any(|(_, d)| *d == untrack),
        "{view:?}"
    );
    let stranger = h.say(32, "en", &format!("/item {item}")).await;
    assert!(!buttons(&stranger).iter().any(|(_, d)| *d == untrack));

    // /untrack lists the user's pages with buttons; the button untracks.
    let listed = h.say(30, "en", "/untrack").await;
    assert_sendable(&listed);
    assert_eq!(text_of(&listed[0]), render(Lang::En, &Text::UntrackChoose));
    let (_, data) = buttons(&listed).pop().unwrap();
    let done = h.press(30, "en", &data).await;
    assert_sendable(&done);
    assert!(
        text_of(&done[0]).starts_with("Stopped tracking"),
        "{done:?}"
    );
    assert!(h.users().watches(UserId(30)).await.unwrap().is_empty());
    // User 31 still tracks it: the page stays.
    assert_eq!(h.users().tracked_pages().await.unwrap().len(), 1);
    // A stranger's forged button changes nothing.
    let forged = h.press(32, "en", &untrack).await;
    assert!(text_of(&forged[0]).starts_with("You are not tracking"));
    assert_eq!(h.users().tracked_pages().await.unwrap().len(), 1);

    // The last tracker leaves by name: the page expires.
    let done = h.say(31, "en", "/untrack lego").await;
    assert_sendable(&done);
    assert!(
        text_of(&done[0]).starts_with("Stopped tracking"),
        "{done:?}"
    );
    assert!(h.users().tracked_pages().await.unwrap().is_empty());
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 0);
    let none = h.say(31, "ru", "/untrack").await;
    assert_eq!(text_of(&none[0]), render(Lang::Ru, &Text::UntrackNone));
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
    let not_a_page = h.press(8, "en", "v|olx-gpu").await;
    assert_eq!(
        not_a_page[0]["text"],
        render(Lang::En, &Text::ButtonExpired)
    );
}

/// One user's pasted page is theirs: it is not in another user's /search,
/// /item or /prices (nor in the REST API, see tests/api.rs), but its
/// tracker finds it.
#[tokio::test]
async fn a_pasted_page_is_not_in_other_users_search_or_prices() {
    use pricehound::domain::user::TrackedPage;
    use pricehound::domain::{Currency, ItemId, Money, Observation, Provenance};
    use pricehound::store::Store;
    let h = BotHarness::start().await;
    let url = url::Url::parse("https://shop.example/p/zephyr-lamp").unwrap();
    let source = source_id_for(&url);
    let item = ItemId::new(format!("{source}:product")).unwrap();
    let now = chrono::Utc::now();
    h.store
        .record(&Observation::new(
            source.clone(),
            item.clone(),
            "Zephyr reading lamp",
            None,
            Money::new(
                rust_decimal::Decimal::from(39),
                Currency::new("EUR").unwrap(),
            ),
            now,
            Provenance::Page {
                url: url.to_string(),
                fetched_at: now,
            },
        ))
        .await
        .unwrap();
    let owner = 4242;
    let stranger = 4343;
    h.users()
        .track_page(&TrackedPage {
            source_id: source.clone(),
            url: url.to_string(),
            name: "Zephyr reading lamp".into(),
            added_by: UserId(owner),
            added_at: now,
        })
        .await
        .unwrap();

    let everything = |calls: &[Value]| {
        let mut text = pricehound_tests::bot::texts(calls);
        for (label, _) in buttons(calls) {
            text.push('\n');
            text.push_str(&label);
        }
        text
    };
    for cmd in ["/search zephyr", "/item zephyr", "/prices"] {
        let seen = everything(&h.say(stranger, "en", cmd).await);
        assert!(
            !seen.contains("Zephyr"),
            "{cmd} shows a stranger's page: {seen}"
        );
    }
    let by_id = everything(&h.say(stranger, "en", &format!("/item {item}")).await);
    assert!(!by_id.contains("Zephyr"), "by id too: {by_id}");
    // Nor through a deep link or a forged button naming the item.
    let link = pricehound::telegram::bot::item_deep_link(&item).unwrap();
    let deep = everything(&h.say(stranger, "en", &format!("/start {link}")).await);
    assert!(!deep.contains("Zephyr"), "deep link: {deep}");
    for data in [
        Callback::Item(item.clone()).encode(),
        Callback::Watch(item.clone()).encode(),
        Callback::AlertMenu(item.clone()).encode(),
    ] {
        let pressed = everything(&h.press(stranger, "en", &data).await);
        assert!(!pressed.contains("Zephyr"), "{data}: {pressed}");
    }
    assert!(
        h.users()
            .watches(UserId(stranger))
            .await
            .unwrap()
            .is_empty(),
        "a forged watch button did nothing"
    );
    let deep = everything(&h.say(owner, "en", &format!("/start {link}")).await);
    assert!(deep.contains("Zephyr"), "the tracker opens it: {deep}");
    let mine = everything(&h.say(owner, "en", "/search zephyr").await);
    assert!(mine.contains("Zephyr"), "the tracker finds it: {mine}");

    // Unwatching the page's only item ends the tracking: a page nobody
    // watches expires and is no longer read.
    h.users()
        .add_watch(&pricehound::domain::user::Watch {
            user: UserId(owner),
            item: item.clone(),
            created_at: now,
            purchased_at: None,
        })
        .await
        .unwrap();
    h.press(owner, "en", &Callback::Unwatch(item.clone()).encode())
        .await;
    assert!(
        h.users()
            .tracked_pages_of(UserId(owner))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 0);
}
