//! Time to handle one Telegram webhook update in process, p50/p90/p99/max,
//! for `/prices` and `/search`: `POST /telegram/webhook` on the real Router
//! (secret check, body read, JSON parse, dedupe, throttle, user upsert,
//! usage event, the bot's answer, the JSON response body), over an
//! in-memory SQLite store seeded with ~500 items across the default
//! sources.
//!
//! `cargo bench -p pricehound --bench webhook` (results in BENCHMARKS.md).
//! Optional arguments pick cases: a case's name (`-- /prices`) or words
//! in names (`-- cold`);
//! `WEBHOOK_BENCH_N` sets the timed requests per case (default 2000);
//! `WEBHOOK_BENCH_SHOW=1` prints each case's response body;
//! `WEBHOOK_BENCH_METRICS=prometheus` (or `emf`) installs that metrics
//! exporter first, so the counters and the request histogram are recorded
//! as in `serve` (or a Lambda): the difference is the metrics' overhead.
//!
//! Criterion reports means and confidence intervals, not tail latencies,
//! so this is a small harness of its own (`harness = false`): per case, a
//! warm-up, then N sequential requests timed one by one with `Instant`.
//! Each request has a fresh `update_id` and one of 50 users in turn, so
//! dedupe and the throttle write as they do in production (the throttle's
//! burst is set too high to trip).
//!
//! What is not in the figures: the network, the TLS and API Gateway in front
//! of the Lambda, and log output (no tracing subscriber is installed).
//! `/prices` and `/search` answers ride in the webhook response body, so
//! no Bot API call is made; the `BotApi` points at a closed loopback port
//! and a request that did call it would fail the response check.

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use chrono::{DateTime, Duration, Utc};
use pricehound::domain::{
    Availability, Currency, ItemDetails, ItemId, Money, Observation, Provenance, SeriesId, SourceId,
};
use pricehound::http::{AppState, router};
use pricehound::sources::SourcesConfig;
use pricehound::store::Store;
use pricehound::telegram::api::{BotApi, BotToken};
use pricehound::telegram::bot::{Bot, BotConfig};
use pricehound::telegram::dispatch::Dispatcher;
use pricehound::telegram::webhook::{PATH, SECRET_HEADER, WebhookSecret, WebhookState};
use pricehound_sqlite::SqliteStore;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;
use tower::ServiceExt;

const TOKEN: &str = "123456789:AAE_bench-token-not-a-real-bot-0123456";
// 32 or more characters, as `WebhookSecret` requires.
const SECRET: &str = "bench-secret_0123456789-abcdefghijkl";
/// Nothing listens on the discard port; a Bot API call would fail fast.
const UNUSED_API: &str = "http://127.0.0.1:9";
const USERS: i64 = 50;
const WARM_UP: usize = 200;

struct Case {
    name: &'static str,
    text: &'static str,
    /// Forget the bot's cached item list before each request (outside the
    /// timed part), so every request reads all items from the store.
    cold: bool,
}

const CASES: &[Case] = &[
    Case {
        name: "/prices",
        text: "/prices",
        cold: false,
    },
    Case {
        name: "/search darkside",
        text: "/search darkside",
        cold: false,
    },
    Case {
        name: "/search rtx 4070",
        text: "/search rtx 4070",
        cold: false,
    },
    Case {
        name: "/prices (cold item cache)",
        text: "/prices",
        cold: true,
    },
    Case {
        name: "/search rtx 4070 (cold item cache)",
        text: "/search rtx 4070",
        cold: true,
    },
];

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let n: usize = std::env::var("WEBHOOK_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
        .max(1);
    let show = std::env::var_os("WEBHOOK_BENCH_SHOW").is_some();
    match std::env::var("WEBHOOK_BENCH_METRICS").as_deref() {
        Ok("prometheus") => {
            pricehound::telemetry::metrics::prometheus().expect("the Prometheus recorder installs");
        }
        Ok("emf") => {
            pricehound::telemetry::metrics::emf("bench").expect("the EMF recorder installs");
        }
        _ => {}
    }
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // As the Lambda and `pricehound serve` run: tokio's multi-thread
    // runtime, SQLite calls on its blocking pool.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    rt.block_on(async {
        let (app, bot, items) = setup().await;
        println!(
            "webhook: {items} items in {} sources, in-memory SQLite; {n} timed requests per case after {WARM_UP} warm-up; nproc = {cpus}; tokio multi-thread runtime ({cpus} workers)",
            SourcesConfig::default_sources().sources.len()
        );
        println!(
            "{:<36} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8} {:>6}",
            "case (µs per update)", "p50", "p90", "p99", "max", "mean", "cpu", "bytes"
        );
        let mut next_update = 1_000_000i64;
        for case in CASES {
            if !selected(case.name, &filters) {
                continue;
            }
            let mut response = String::new();
            for i in 0..WARM_UP {
                if case.cold {
                    bot.catalog.invalidate().await;
                }
                next_update += 1;
                (_, response) = request(&app, next_update, i as i64, case.text).await;
            }
            let mut times = Vec::with_capacity(n);
            let cpu_before = cpu_seconds();
            for i in 0..n {
                if case.cold {
                    bot.catalog.invalidate().await;
                }
                next_update += 1;
                let (t, _) = request(&app, next_update, i as i64, case.text).await;
                times.push(t);
            }
            let cpu = cpu_before
                .zip(cpu_seconds())
                .map(|(a, b)| format!("{:.0}", (b - a) * 1e6 / n as f64))
                .unwrap_or_else(|| "-".into());
            times.sort_unstable_by(f64::total_cmp);
            let pct = |p: f64| times[((times.len() as f64 * p).ceil() as usize).clamp(1, times.len()) - 1];
            let mean = times.iter().sum::<f64>() / times.len() as f64;
            println!(
                "{:<36} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>8} {:>6}",
                case.name,
                pct(0.50),
                pct(0.90),
                pct(0.99),
                times[times.len() - 1],
                mean,
                cpu,
                response.len()
            );
            if show {
                println!("  {} → {response}", case.text);
            }
        }
    });
}

/// With no filters every case; else the cases a filter names exactly, or
/// when none does, those whose name contains one.
fn selected(name: &str, filters: &[String]) -> bool {
    if filters.is_empty() {
        return true;
    }
    if CASES.iter().any(|c| filters.iter().any(|f| f == c.name)) {
        return filters.iter().any(|f| f == name);
    }
    filters.iter().any(|f| name.contains(f.as_str()))
}

/// The CPU time this process has used (user + system, every thread, from
/// `/proc/self/stat` in 10 ms ticks): its change over a case, divided by the
/// requests, is the CPU each request costs, against their wall time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): state is the
    // 3rd field, utime the 14th, stime the 15th.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// One update through the Router; the microseconds from the request to the
/// last byte of the response, and the response.
async fn request(app: &Router, update_id: i64, i: i64, text: &str) -> (f64, String) {
    let user = 700_000 + i % USERS;
    let update = serde_json::json!({
        "update_id": update_id,
        "message": {
            "message_id": 10 + i,
            "from": { "id": user, "is_bot": false, "first_name": format!("User{user}"), "language_code": "en" },
            "chat": { "id": user, "type": "private", "first_name": format!("User{user}") },
            "date": 1_760_000_000,
            "text": text,
        }
    });
    let req = Request::post(PATH)
        .header("content-type", "application/json")
        .header(SECRET_HEADER, SECRET)
        .body(Body::from(serde_json::to_vec(&update).unwrap()))
        .unwrap();
    let app = app.clone();
    let start = Instant::now();
    let resp = app.oneshot(req).await.unwrap();
    let status = resp.status();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let took = start.elapsed();
    assert_eq!(
        status,
        StatusCode::OK,
        "{text}: {}",
        String::from_utf8_lossy(&body)
    );
    let json = std::str::from_utf8(&body).expect("a JSON body");
    assert!(
        json.contains(r#""method":"sendMessage""#) && json.contains("inline_keyboard"),
        "{text}: expected a sendMessage with buttons in the response body, got {json}"
    );
    (took.as_secs_f64() * 1e6, json.to_string())
}

async fn setup() -> (Router, Arc<Bot>, usize) {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let now = Utc::now();
    let observations = seed(now);
    let items = observations
        .iter()
        .map(|o| &o.item_id)
        .collect::<std::collections::HashSet<_>>()
        .len();
    for o in &observations {
        store.record(o).await.unwrap();
    }
    let sources = Arc::new(SourcesConfig::default_sources());
    let config = BotConfig {
        username: Some("pricehound_bench_bot".into()),
        burst: u32::MAX - 1,
        ..BotConfig::default()
    };
    let bot = Arc::new(Bot::new(
        store.clone(),
        store.clone(),
        sources.clone(),
        config,
    ));
    let api = BotApi::new(
        reqwest::Client::new(),
        UNUSED_API,
        BotToken::new(TOKEN).unwrap(),
    );
    let dispatcher = Arc::new(Dispatcher::new(bot.clone(), api));
    let app = router(AppState {
        store: store.clone(),
        sources: sources.into(),
        telegram: Some(WebhookState {
            dispatcher,
            secret: WebhookSecret::new(SECRET).unwrap(),
        }),
    });
    (app, bot, items)
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// An item seen twice (yesterday and now), in stock, like a scrape leaves it.
struct Seed<'a> {
    source: &'a str,
    key: String,
    name: String,
    brand: Option<&'a str>,
    series: Option<String>,
    price: Decimal,
    currency: &'a str,
    /// A Telegram channel for channel sources; else the item's page.
    channel: Option<&'a str>,
}

fn observations(s: Seed<'_>, now: DateTime<Utc>, out: &mut Vec<Observation>) {
    let source = SourceId::new(s.source).unwrap();
    let id = ItemId::new(format!("{}:{}", s.source, s.key)).unwrap();
    let url = format!("https://{}.example/{}", s.source, s.key);
    for (n, at) in [now - Duration::days(1), now - Duration::minutes(5)]
        .into_iter()
        .enumerate()
    {
        let provenance = match s.channel {
            Some(channel) => Provenance::TelegramPost {
                channel: channel.to_string(),
                post_id: (out.len() + n) as u64,
            },
            None => Provenance::Page {
                url: url.clone(),
                fetched_at: at,
            },
        };
        let price = s.price + Decimal::from(n as i64 * 10);
        out.push(
            Observation::new(
                source.clone(),
                id.clone(),
                s.name.clone(),
                s.series.as_deref().map(|x| SeriesId::new(x).unwrap()),
                Money::new(price, Currency::new(s.currency).unwrap()),
                at,
                provenance,
            )
            .with_availability(Availability::InStock)
            .with_details(ItemDetails {
                url: s.channel.is_none().then(|| url.clone()),
                image: None,
                brand: s.brand.map(str::to_string),
            }),
        );
    }
}

/// About 500 items over the seven default sources, with names as the
/// sources show them: many tobacco flavours of a few brands, GPU listings
/// of several models and makers, gold by karat and purity.
fn seed(now: DateTime<Utc>) -> Vec<Observation> {
    let mut out = Vec::new();
    let d = |v: i64| Decimal::from(v);

    const FLAVOURS: &[&str] = &[
        "Cola",
        "Bounty Hunter",
        "Pinkman",
        "Milky Rice",
        "Supernova",
        "Torpedo",
        "Mango Lassi",
        "Grape Core",
        "Cosmo Flower",
        "Red Tea",
        "Ice Baby",
        "Fruity Dust",
        "Lemon Blast",
        "Bananapapa",
        "Generis Raspberry",
        "Blackcurrant",
        "Applecot",
        "Kiwi Smoothie",
        "Skyline",
        "Needls",
        "Hola",
        "Wild Forest",
        "Barvy Citrus",
        "Dark Passion",
        "Pear",
        "Cherry Rocks",
        "Tropic Ray",
        "Strawberry Jam",
        "Mint",
        "Double Apple",
        "Watermelon",
        "Blueberry",
        "Peach Yogurt",
        "Lime",
        "Orange Soda",
        "Pineapple",
        "Melon",
        "Coconut",
        "Vanilla",
        "Cinnamon",
    ];
    let brands: &[(&str, usize)] = &[
        ("Darkside", 40),
        ("Must Have", 35),
        ("Black Burn", 30),
        ("Al Fakher", 30),
        ("Tangiers", 25),
        ("Element", 25),
        ("Sebero", 25),
        ("Duft", 20),
    ];
    for (b, (brand, count)) in brands.iter().enumerate() {
        for (f, flavour) in FLAVOURS.iter().take(*count).enumerate() {
            let name = format!("{brand} {flavour}");
            observations(
                Seed {
                    source: "htreviews-tobacco",
                    key: slug(&name),
                    name,
                    brand: Some(brand),
                    series: None,
                    price: d(900 + 50 * b as i64 + 10 * (f as i64 % 7)),
                    currency: "RUB",
                    channel: None,
                },
                now,
                &mut out,
            );
        }
    }

    let models: &[(&str, i64)] = &[
        ("RTX 4070", 1050),
        ("RTX 4070 Super", 1200),
        ("RTX 4070 Ti", 1400),
        ("RTX 4060 Ti", 780),
        ("RTX 4060", 600),
        ("RX 7800 XT", 950),
        ("RX 7700 XT", 820),
        ("RTX 3080", 900),
    ];
    let makers = [
        "ASUS Dual",
        "MSI Ventus 2X",
        "Gigabyte Gaming OC",
        "Palit JetStream",
        "Zotac Twin Edge",
        "PNY Verto",
    ];
    let notes = ["12GB", "като нов, с гаранция", "без кутия"];
    for (model, base) in models {
        for (m, maker) in makers.iter().enumerate() {
            for (k, note) in notes.iter().enumerate() {
                let name = format!("{maker} {model} {note}");
                let series = slug(model);
                observations(
                    Seed {
                        source: "olx-gpu",
                        key: format!("{}-{m}{k}", slug(&format!("{maker} {model}"))),
                        name,
                        brand: maker.split(' ').next(),
                        series: Some(series),
                        price: d(base + 15 * m as i64 - 40 * k as i64),
                        currency: "BGN",
                        channel: None,
                    },
                    now,
                    &mut out,
                );
            }
        }
    }

    let pieces = [
        "le gramme",
        "cassé",
        "neuf",
        "bracelet",
        "chaîne",
        "bague",
        "boucles d'oreilles",
    ];
    for (k, karat) in [9, 14, 18, 21, 22, 24].into_iter().enumerate() {
        for (p, piece) in pieces.iter().enumerate() {
            let name = format!("Or {karat} carats {piece}");
            observations(
                Seed {
                    source: "tg-bijouterie-dz",
                    key: slug(&name),
                    name,
                    brand: None,
                    series: Some(format!("gold-{karat}k")),
                    price: d(5000 + 1500 * k as i64 + 200 * p as i64),
                    currency: "DZD",
                    channel: Some("bijouterie_or_dz"),
                },
                now,
                &mut out,
            );
        }
    }

    for (i, purity) in [375, 500, 583, 585, 750, 850, 900, 958, 999]
        .into_iter()
        .enumerate()
    {
        for (j, what) in ["скупка", "продажа", "лом", "изделия"].iter().enumerate()
        {
            let name = format!("Золото {purity} пробы, {what}");
            observations(
                Seed {
                    source: "tg-zoloto-lombard",
                    key: format!("gold-{purity}-{j}"),
                    name,
                    brand: None,
                    series: Some(format!("gold-{purity}")),
                    price: d(3000 + 400 * i as i64 + 100 * j as i64),
                    currency: "RUB",
                    channel: Some("zoloto_lombard"),
                },
                now,
                &mut out,
            );
        }
    }

    for (metal, unit, usd) in [
        ("Gold", "ounce", 2410),
        ("Gold", "gram", 77),
        ("Silver", "ounce", 30),
        ("Silver", "gram", 1),
        ("Platinum", "ounce", 990),
        ("Platinum", "gram", 32),
        ("Palladium", "ounce", 1010),
        ("Palladium", "gram", 32),
    ] {
        let name = format!("{metal} spot, USD per {unit}");
        observations(
            Seed {
                source: "gold-spot-usd",
                key: slug(&name),
                name,
                brand: None,
                series: Some(format!("{}-spot-{unit}", metal.to_lowercase())),
                price: d(usd),
                currency: "USD",
                channel: None,
            },
            now,
            &mut out,
        );
    }

    const COLOURS: &[&str] = &[
        "Black",
        "White",
        "Red",
        "Blue",
        "Green",
        "Gold",
        "Silver",
        "Bronze",
        "Graphite",
        "Purple",
        "Orange",
        "Sand",
        "Ocean",
        "Carbon",
        "Matte Black",
        "Rose",
        "Steel",
        "Emerald",
        "Ruby",
        "Onyx",
    ];
    for (i, colour) in COLOURS.iter().enumerate() {
        let name = format!("Alpha Hookah Model X {colour}");
        observations(
            Seed {
                source: "kalyan-lab-alpha-model-x",
                key: slug(&name),
                name,
                brand: Some("Alpha Hookah"),
                series: None,
                price: d(21_990 + 500 * (i as i64 % 4)),
                currency: "RUB",
                channel: None,
            },
            now,
            &mut out,
        );
        let name = format!("ASUS Dual RTX 4070 SUPER EVO OC 12GB {colour}");
        observations(
            Seed {
                source: "pixelparts-rtx-4070-super",
                key: slug(&name),
                name,
                brand: Some("ASUS"),
                series: Some("rtx-4070-super".into()),
                price: d(629 + 5 * (i as i64 % 6)),
                currency: "EUR",
                channel: None,
            },
            now,
            &mut out,
        );
    }
    out
}
