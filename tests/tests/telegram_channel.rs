//! The telegram_channel source against recorded preview pages and a scripted
//! local server: parsing, extraction, paging, checkpoints, and every way a
//! page can go wrong.

use chrono::Utc;
use pricehound::demo::telegram_page;
use pricehound::sources::telegram_channel::{extract, parse_page};
use pricehound::sources::{Fetcher, ScrapeError, SourceKind, SourcesConfig, scrape_source};
use pricehound_tests::pages::{Answer, Scripted, channel_page, demo_sources};
use url::Url;

const DZ: &str = "bijouterie_or_dz";

fn dz_source(sources: &SourcesConfig) -> &pricehound::sources::SourceConfig {
    sources.source("tg-bijouterie-dz").unwrap()
}

fn source_at(base: &Url, max_pages: u32) -> SourcesConfig {
    let mut s = SourcesConfig::default_sources();
    s.rebase(base);
    for src in &mut s.sources {
        if let SourceKind::TelegramChannel(tc) = &mut src.kind {
            tc.max_pages = max_pages;
        }
    }
    s
}

#[test]
fn recorded_page_parses_posts_text_dates_and_paging() {
    let page = parse_page(telegram_page(DZ, None).unwrap(), DZ).unwrap();
    assert_eq!(page.title.as_deref(), Some("Bijouterie El Djazair 💍"));
    assert_eq!(page.before, Some(101));
    let ids: Vec<u64> = page.posts.iter().map(|p| p.id).collect();
    assert_eq!(ids, (101..=120).collect::<Vec<_>>());
    assert!(ids.windows(2).all(|w| w[0] < w[1]));

    let post = |id: u64| page.posts.iter().find(|p| p.id == id).unwrap();
    // <br> becomes a newline; &nbsp; stays a (non-breaking) space inside numbers.
    let p117 = &post(117).text;
    assert!(
        p117.starts_with("Prix actualisés 👇\nOr 18K cassé = "),
        "{p117:?}"
    );
    // Entities are decoded and links keep their text.
    assert!(
        post(104).text.contains("Itinéraire & parking."),
        "{:?}",
        post(104).text
    );
    // A reply quote is not part of the reply's text.
    assert_eq!(
        post(103).text,
        "Oui, le prix est au gramme, façon comprise."
    );
    // An album caption nested twice is read once.
    assert_eq!(
        post(102).text,
        "Nouvelle collection de bagues en or 18K 💍\nDisponible en magasin."
    );
    // Dates are UTC (the page gives +01:00).
    assert_eq!(
        post(117).date.unwrap().to_rfc3339(),
        "2026-11-20T08:00:00+00:00"
    );
}

#[test]
fn service_messages_are_skipped() {
    let page = parse_page(telegram_page(DZ, Some(101)).unwrap(), DZ).unwrap();
    assert!(
        page.posts.iter().all(|p| p.id != 90),
        "post 90 is a service message"
    );
    assert_eq!(page.posts.len(), 19);
    assert_eq!(page.before, None, "the oldest page links to nothing older");
}

#[test]
fn rules_extract_every_price_in_a_post_with_series() {
    let sources = SourcesConfig::default_sources();
    let src = dz_source(&sources);
    let SourceKind::TelegramChannel(cfg) = &src.kind else {
        unreachable!("a telegram source")
    };
    let page = parse_page(telegram_page(DZ, None).unwrap(), DZ).unwrap();
    let post = page.posts.iter().find(|p| p.id == 117).unwrap();
    let found = extract(src, cfg, post, Utc::now());
    let got: Vec<(String, String, String, Option<String>)> = found
        .iter()
        .map(|o| {
            (
                o.item_id.to_string(),
                o.price.as_ref().unwrap().amount.to_string(),
                o.price.as_ref().unwrap().currency.to_string(),
                o.series.as_ref().map(|s| s.to_string()),
            )
        })
        .collect();
    let want = |i: &str, a: &str, s: &str| {
        (
            format!("tg-bijouterie-dz:{i}"),
            a.to_string(),
            "DZD".to_string(),
            Some(s.to_string()),
        )
    };
    assert_eq!(
        got,
        vec![
            want("or-18k-casse", "13740", "gold-18k"),
            want("or-18k-neuf", "15440", "gold-18k"),
            want("or-21k", "17040", "gold-21k"),
            want("or-24k", "19540", "gold-24k"),
        ]
    );
    // Arabic-Indic digits and the Arabic currency name.
    let p113 = page.posts.iter().find(|p| p.id == 113).unwrap();
    let found = extract(src, cfg, p113, Utc::now());
    assert_eq!(found[0].item_name, "Or 18K cassé");
    assert_eq!(found[0].price.as_ref().unwrap().amount.to_string(), "13680");
    // A reply that quotes a price does not produce one.
    let p103 = page.posts.iter().find(|p| p.id == 103).unwrap();
    assert!(extract(src, cfg, p103, Utc::now()).is_empty());
}

#[test]
fn decimal_comma_prices_keep_their_cents() {
    let sources = SourcesConfig::default_sources();
    let src = sources.source("tg-zoloto-lombard").unwrap();
    let SourceKind::TelegramChannel(cfg) = &src.kind else {
        unreachable!("a telegram source")
    };
    let page = parse_page(
        telegram_page("zoloto_lombard_ru", None).unwrap(),
        "zoloto_lombard_ru",
    )
    .unwrap();
    let all: Vec<_> = page
        .posts
        .iter()
        .flat_map(|p| extract(src, cfg, p, Utc::now()))
        .collect();
    let p999 = all
        .iter()
        .find(|o| o.item_id.as_str() == "tg-zoloto-lombard:999-proba")
        .unwrap();
    assert!(
        p999.price
            .as_ref()
            .unwrap()
            .amount
            .to_string()
            .ends_with(".5"),
        "{:?}",
        p999.price
    );
    assert_eq!(p999.price.as_ref().unwrap().currency.code(), "RUB");
    assert_eq!(p999.series.as_ref().unwrap().as_str(), "gold-999");
}

#[tokio::test]
async fn first_run_pages_back_then_each_post_is_read_once() {
    let sources = demo_sources().await;
    let src = dz_source(&sources);
    let fetcher = Fetcher::new();
    let first = scrape_source(src, &fetcher, None).await.unwrap();
    assert_eq!(
        first.pages_fetched, 2,
        "newest page + one older page, then no more link"
    );
    assert_eq!(first.checkpoint, Some(120));
    assert_eq!(first.posts_read, 39);
    assert_eq!(first.observations.len(), 30);
    let mut ids: Vec<_> = first.observations.iter().map(|o| o.id.clone()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 30, "observation ids are unique");

    let again = scrape_source(src, &fetcher, first.checkpoint)
        .await
        .unwrap();
    assert_eq!(
        again.pages_fetched, 1,
        "the newest page already reaches the checkpoint"
    );
    assert_eq!(again.posts_read, 0);
    assert!(again.observations.is_empty());
    assert_eq!(
        again.checkpoint,
        Some(120),
        "the checkpoint never moves back"
    );
}

#[tokio::test]
async fn new_posts_since_the_checkpoint_are_read_across_pages() {
    let server = Scripted::default();
    let base = server.start().await;
    let ch = DZ;
    let line = |n: u32| format!("Or 18K cassé : {n} DA");
    let texts: Vec<String> = (0..50).map(|i| line(13_000 + i)).collect();
    let post = |id: u64| {
        (
            id,
            texts[(id - 100) as usize].as_str(),
            "2026-11-21T10:00:00+00:00",
        )
    };
    // 12 new posts since checkpoint 130: the newest page holds 135..=142,
    // the older one 125..=134.
    let newest: Vec<_> = (135..=142).map(post).collect();
    let older: Vec<_> = (125..=134).map(post).collect();
    server.set(
        &format!("/s/{ch}"),
        Answer::html(channel_page(ch, &newest, Some(135))),
    );
    server.set(
        &format!("/s/{ch}?before=135"),
        Answer::html(channel_page(ch, &older, Some(125))),
    );
    let sources = source_at(&base, 5);
    let out = scrape_source(dz_source(&sources), &Fetcher::new(), Some(130))
        .await
        .unwrap();
    let posts: Vec<u64> = out
        .observations
        .iter()
        .map(|o| match &o.provenance {
            pricehound::domain::Provenance::TelegramPost { post_id, .. } => *post_id,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(posts, (131..=142).collect::<Vec<_>>());
    assert_eq!(out.checkpoint, Some(142));
    assert_eq!(
        server.requests(),
        vec![format!("/s/{ch}"), format!("/s/{ch}?before=135")],
        "stops paging once the checkpoint is reached"
    );
}

#[tokio::test]
async fn page_limit_bounds_the_first_run() {
    let server = Scripted::default();
    let base = server.start().await;
    let ch = DZ;
    for (path, before) in [
        (format!("/s/{ch}"), Some(200)),
        (format!("/s/{ch}?before=200"), Some(180)),
        (format!("/s/{ch}?before=180"), Some(160)),
    ] {
        server.set(
            &path,
            Answer::html(channel_page(
                ch,
                &[(
                    before.unwrap() + 1,
                    "Or 21K : 17 000 DA",
                    "2026-11-21T10:00:00Z",
                )],
                before,
            )),
        );
    }
    let sources = source_at(&base, 2);
    let out = scrape_source(dz_source(&sources), &Fetcher::new(), None)
        .await
        .unwrap();
    assert_eq!(out.pages_fetched, 2);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test]
async fn channel_without_public_preview_is_reported_not_empty() {
    let sources = demo_sources().await;
    let mut src = dz_source(&sources).clone();
    let SourceKind::TelegramChannel(tc) = &mut src.kind else {
        unreachable!("a telegram source")
    };
    tc.channel = "private_jeweler".into();
    let err = scrape_source(&src, &Fetcher::new(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ScrapeError::NoPublicPreview { .. }),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("@private_jeweler has no public web preview")
    );
}

#[tokio::test]
async fn broken_answers_are_clear_errors() {
    let server = Scripted::default();
    let base = server.start().await;
    let sources = source_at(&base, 3);
    let src = dz_source(&sources);
    let path = format!("/s/{DZ}");
    let fetcher = Fetcher::for_tests().with_max_body(64 * 1024);

    // 404 (Scripted answers 404 for unknown paths).
    let e = scrape_source(src, &fetcher, None).await.unwrap_err();
    assert!(matches!(e, ScrapeError::NotFound(_)), "{e:?}");
    assert!(e.to_string().contains("404"));

    server.set(&path, Answer::status(500));
    let e = scrape_source(src, &fetcher, None).await.unwrap_err();
    assert!(e.to_string().contains("HTTP 500"), "{e}");

    // A page that is not a channel preview (layout changed, captcha page...).
    server.set(
        &path,
        Answer::html("<html><body><h1>Please verify you are human</h1></body></html>"),
    );
    let e = scrape_source(src, &fetcher, None).await.unwrap_err();
    assert!(matches!(e, ScrapeError::Layout(_)), "{e:?}");

    // An oversized body is refused, not read into memory.
    server.set(&path, Answer::html("x".repeat(200 * 1024)));
    let e = scrape_source(src, &fetcher, None).await.unwrap_err();
    assert!(e.to_string().contains("larger than"), "{e}");

    // A redirect away from /s/ is a channel without preview.
    server.set(&path, Answer::redirect(&format!("/{DZ}")));
    server.set(&format!("/{DZ}"), Answer::html("<html></html>"));
    let e = scrape_source(src, &fetcher, None).await.unwrap_err();
    assert!(matches!(e, ScrapeError::NoPublicPreview { .. }), "{e:?}");

    // An empty channel is fine: no posts, no checkpoint, no error.
    server.set(&path, Answer::html(channel_page(DZ, &[], None)));
    let out = scrape_source(src, &fetcher, None).await.unwrap();
    assert!(out.observations.is_empty());
    assert_eq!(out.checkpoint, None);
}

#[test]
fn hostile_html_does_not_panic_or_invent_posts() {
    let deep = "<div>".repeat(5000) + "x" + &"</div>".repeat(5000);
    let cases = [
        String::new(),
        "<<<>>>".to_string(),
        deep,
        format!(r#"<section class="tgme_channel_history"><div class="tgme_widget_message" data-post="{}"></div></section>"#, "a".repeat(100_000)),
        r#"<section class="tgme_channel_history"><div class="tgme_widget_message" data-post="bijouterie_or_dz/-1"></div><div class="tgme_widget_message" data-post="bijouterie_or_dz/99999999999999999999999"></div><div class="tgme_widget_message" data-post="/"></div><div class="tgme_widget_message" data-post="other_channel/5"><div class="tgme_widget_message_text js-message_text">Or 18K : 1 DA</div></div></section>"#.to_string(),
        r#"<section class="tgme_channel_history"><a class="tme_messages_more" data-before="abc"></a><div class="tgme_widget_message" data-post="bijouterie_or_dz/7"><time datetime="not a date"></time><div class="tgme_widget_message_text js-message_text"><script>alert(1)</script>Or 18K : <b>13&nbsp;500</b> DA</div></div></section>"#.to_string(),
    ];
    for html in &cases {
        if let Some(page) = parse_page(html, DZ) {
            assert!(
                page.posts.iter().all(|p| p.id == 7),
                "only the well-formed post of this channel"
            );
        }
    }
    let page = parse_page(&cases[5], DZ).unwrap();
    assert_eq!(page.posts.len(), 1);
    assert_eq!(page.before, None);
    assert_eq!(
        page.posts[0].date, None,
        "a bad date is no date, not a guess"
    );
    let sources = SourcesConfig::default_sources();
    let src = dz_source(&sources);
    let SourceKind::TelegramChannel(cfg) = &src.kind else {
        unreachable!("a telegram source")
    };
    let fetched_at = Utc::now();
    let found = extract(src, cfg, &page.posts[0], fetched_at);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].price.as_ref().unwrap().amount.to_string(), "13500");
    assert_eq!(
        found[0].observed_at, fetched_at,
        "no post date: the fetch time"
    );
}
