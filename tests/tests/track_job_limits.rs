//! What one user can make us fetch: at most one pasted page read at a time
//! (a claim that the job frees, and that lapses by itself if the job dies),
//! a daily quota of "Track" presses, their pages untracked when they block
//! the bot, and `/untrack` never echoing an unbounded query.

use pricehound::domain::user::{Lang, TrackedPage, UserId};
use pricehound::sources::tracked::source_id_for;
use pricehound::telegram::bot::BotConfig;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, assert_sendable, buttons, now};
use pricehound_tests::pages::{Answer, Scripted};
use serde_json::{Value, json};

const LEGO: &str =
    include_str!("../../shared/app/src/demo/pages/products/briques-et-cie-lego-42143.html");

fn text_of(call: &Value) -> &str {
    call["text"].as_str().unwrap_or_default()
}

/// A shop with a few product pages on the test's public shop host.
async fn shop() -> url::Url {
    let site = Scripted::default();
    for n in 1..=5 {
        site.set(&format!("/p/lego-{n}"), Answer::html(LEGO));
    }
    pricehound_tests::user_links::on_shop_host(&site.start().await)
}

/// Pastes `url` and presses "Track"; returns the text answering the press.
async fn press_track(h: &BotHarness, user: i64, lang: &str, url: &url::Url) -> String {
    let offer = h.say(user, lang, url.as_str()).await;
    let (_, data) = buttons(&offer).pop().expect("a Track button");
    let pressed = h.press(user, lang, &data).await;
    assert_sendable(&pressed);
    text_of(&pressed[0]).to_string()
}

/// Presses "Track" and waits for the job's answer, which must be a success.
async fn track(h: &BotHarness, user: i64, url: &url::Url) {
    let reading = render(Lang::En, &Text::TrackReading);
    assert_eq!(press_track(h, user, "en", url).await, reading);
    let answer = h.wait_for_message(user, |t| t != reading).await;
    assert!(text_of(&answer).starts_with('✅'), "{answer}");
}

#[tokio::test]
async fn one_page_at_a_time_per_user_and_the_slot_is_freed_when_the_job_ends() {
    // A page that answers only when the test says so: the job stays in
    // flight for as long as the test needs, with no timing involved.
    let page = pricehound_tests::pages::gated_page("/p/slow", LEGO).await;
    let (gate, arrived) = (page.gate, page.arrived);
    let slow_base = pricehound_tests::user_links::on_shop_host(&page.base);
    let base = shop().await;
    let h = BotHarness::start_tracking().await;
    let reading = render(Lang::En, &Text::TrackReading);

    let slow = slow_base.join("/p/slow").unwrap();
    assert_eq!(press_track(&h, 50, "en", &slow).await, reading);
    arrived.notified().await;

    // While it is read, another page of the same user waits its turn, in
    // every language...
    let other = base.join("/p/lego-1").unwrap();
    for (lang, code) in [
        (Lang::En, "en"),
        (Lang::Ru, "ru"),
        (Lang::Fr, "fr"),
        (Lang::Ar, "ar"),
    ] {
        assert_eq!(
            press_track(&h, 50, code, &other).await,
            render(lang, &Text::TrackInFlight)
        );
    }
    // ... so does a forged button (the `t|` data of a pasted link) ...
    let forged = h.press(50, "en", &format!("t|{other}")).await;
    assert!(
        !pricehound_tests::bot::texts(&forged).contains(&reading),
        "{forged:?}"
    );
    // ... while another user is not held up by the first one's job.
    track(&h, 51, &other).await;

    // The job ends: its answer comes, and the user may press again.
    gate.notify_one();
    let answer = h.wait_for_message(50, |t| t != reading).await;
    assert!(text_of(&answer).contains("42143"), "{answer}");
    track(&h, 50, &other).await;
    assert_eq!(
        h.users().tracked_pages_of(UserId(50)).await.unwrap().len(),
        2
    );
}

#[tokio::test]
async fn a_slot_no_job_freed_lapses_by_itself() {
    let base = shop().await;
    let h = BotHarness::start_tracking().await;
    let url = base.join("/p/lego-1").unwrap();
    // A job that died without freeing its slot, still within its time.
    let t = now();
    assert!(
        h.users()
            .claim_track_job(UserId(52), t, t + chrono::Duration::hours(1))
            .await
            .unwrap()
    );
    assert_eq!(
        press_track(&h, 52, "en", &url).await,
        render(Lang::En, &Text::TrackInFlight)
    );
    // One whose time is up (deadline and margin behind us) blocks nothing.
    h.users().release_track_job(UserId(52)).await.unwrap();
    assert!(
        h.users()
            .claim_track_job(
                UserId(52),
                t - chrono::Duration::hours(2),
                t - chrono::Duration::hours(1)
            )
            .await
            .unwrap()
    );
    track(&h, 52, &url).await;
}

#[tokio::test]
async fn the_daily_quota_of_track_requests_is_told_politely() {
    let base = shop().await;
    let h = BotHarness::start_tracking_with(BotConfig {
        track_daily: 3,
        ..BotConfig::default()
    })
    .await;
    for n in 1..=3 {
        track(&h, 53, &base.join(&format!("/p/lego-{n}")).unwrap()).await;
    }
    // The fourth press of the day: refused at once, nothing queued, in the
    // user's language.
    let fourth = base.join("/p/lego-4").unwrap();
    for (lang, code) in [
        (Lang::En, "en"),
        (Lang::Ru, "ru"),
        (Lang::Fr, "fr"),
        (Lang::Ar, "ar"),
    ] {
        assert_eq!(
            press_track(&h, 53, code, &fourth).await,
            render(lang, &Text::TrackLimitDaily { limit: 3 })
        );
    }
    assert_eq!(
        h.users().tracked_pages_of(UserId(53)).await.unwrap().len(),
        3
    );
    // A refused press holds no slot, and other users have quotas of their own.
    track(&h, 54, &fourth).await;
    // The default is 30 a day.
    assert_eq!(BotConfig::default().track_daily, 30);
}

fn blocked(user: i64) -> Value {
    json!({ "my_chat_member": {
        "chat": { "id": user, "type": "private", "first_name": "x" },
        "from": pricehound_tests::bot::user_json(user, "en"),
        "date": 1_700_000_000,
        "old_chat_member": { "status": "member", "user": { "id": 1, "is_bot": true, "first_name": "b" } },
        "new_chat_member": { "status": "kicked", "user": { "id": 1, "is_bot": true, "first_name": "b" } },
    }})
}

#[tokio::test]
async fn a_user_who_blocks_the_bot_stops_tracking_and_lone_pages_expire() {
    let base = shop().await;
    let h = BotHarness::start_tracking().await;
    let shared = base.join("/p/lego-1").unwrap();
    let own = base.join("/p/lego-2").unwrap();
    track(&h, 60, &shared).await;
    track(&h, 60, &own).await;
    track(&h, 61, &shared).await;
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 2);
    assert_eq!(h.users().watches(UserId(60)).await.unwrap().len(), 2);

    assert!(h.send(blocked(60)).await.is_empty());
    assert!(h.users().user(UserId(60)).await.unwrap().unwrap().blocked);
    assert!(
        h.users()
            .tracked_pages_of(UserId(60))
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.users().watches(UserId(60)).await.unwrap().is_empty());
    // The page only they tracked expired; the shared one stays for user 61.
    let left: Vec<_> = h
        .users()
        .tracked_pages()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.source_id)
        .collect();
    assert_eq!(left, vec![source_id_for(&shared)]);
    assert_eq!(
        h.users().tracked_pages_of(UserId(61)).await.unwrap().len(),
        1
    );
    assert_eq!(h.users().watches(UserId(61)).await.unwrap().len(), 1);

    // Blocking again (a redelivery) changes nothing; the last tracker
    // blocking expires the shared page too.
    assert!(h.send(blocked(60)).await.is_empty());
    assert!(h.send(blocked(61)).await.is_empty());
    assert_eq!(h.users().tracked_page_count().await.unwrap(), 0);
}

#[tokio::test]
async fn untrack_never_echoes_more_than_a_short_piece_of_the_query() {
    let h = BotHarness::start_tracking().await;
    let url = url::Url::parse("https://shop.example/p/kept").unwrap();
    h.users()
        .track_page(&TrackedPage {
            source_id: source_id_for(&url),
            url: url.to_string(),
            name: "Kept lamp".into(),
            added_by: UserId(62),
            added_at: now(),
        })
        .await
        .unwrap();
    // Long, multi-byte and HTML-special: cut by characters, never bytes.
    for query in ["é".repeat(4000), "<b>".repeat(1500), "🦀x".repeat(2000)] {
        let calls = h.say(62, "en", &format!("/untrack {query}")).await;
        assert_sendable(&calls);
        let text = text_of(&calls[0]);
        assert!(text.starts_with("You are not tracking"), "{text}");
        assert!(
            pricehound::telegram::html::visible_len(text) < 300,
            "{} characters",
            text.chars().count()
        );
    }
    // A short query is echoed whole.
    let calls = h.say(62, "en", "/untrack zeppelin").await;
    assert_eq!(
        text_of(&calls[0]),
        render(Lang::En, &Text::NotTracking { item: "zeppelin" })
    );
}
