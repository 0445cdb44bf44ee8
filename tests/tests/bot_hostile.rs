//! Hostile input through the real bot: property tests that post updates to
//! the webhook route (SQLite, the Bot API stand-in) with every command and
//! button fed arbitrary Unicode, huge numbers, empty and whitespace values,
//! percent-encoded garbage, HTML, very long texts, garbled and forged
//! callback data and deep-link payloads.
//!
//! For every payload: the webhook answers 200; every call the bot makes is
//! one Telegram accepts (text 1..=4096 visible characters of HTML Telegram
//! can parse, callback data ≤ 64 bytes, nothing the stand-in refuses); a
//! message in a private chat gets an answer; every callback query gets
//! exactly one `answerCallbackQuery` (≤ 200 characters), last; and a victim
//! user's watches and alerts, stored before the run, are still there
//! afterwards — whatever a stranger sends, and whatever the victim sends
//! short of a legitimate delete.
//!
//! Each property runs `BOT_HOSTILE_CASES` cases (default 512) and prints
//! how many payloads it sent (`cargo nextest run -p pricehound-tests --test
//! bot_hostile --no-capture`); the figures are in BENCHMARKS.md.

use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::Duration;
use pricehound::domain::user::{AlertId, Lang, UserId};
use pricehound::domain::{Currency, ItemId, Money, Observation, Provenance, SourceId};
use pricehound::store::Store;
use pricehound::telegram::bot::button_data;
use pricehound::telegram::callback::{Callback, ChartWindow};
use pricehound::telegram::commands::{self, Input};
use pricehound::telegram::html::visible_len;
use pricehound::telegram::texts::{Text, render};
use pricehound_tests::bot::{BotHarness, assert_sendable, now};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// The user whose data must survive.
const VICTIM: i64 = 4242;
/// Sends the hostile input in the stranger properties.
const STRANGER: i64 = 777;
const GROUP: i64 = -100_123;
const BOT: &str = "pricehound_test_bot";

fn cases() -> u32 {
    std::env::var("BOT_HOSTILE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(512)
}

// ---------------------------------------------------------------- the bot

/// A bot with the usual items, one item whose id is too long for callback
/// data (so its buttons are stashed), and a victim with watches and alerts.
struct World {
    h: BotHarness,
    /// What the victim had before the run: watched item ids and alert ids.
    watches: Vec<ItemId>,
    alerts: Vec<AlertId>,
    /// Callback data the bot really produces (plain and stashed `~…`).
    real_callbacks: Vec<String>,
    /// Stash keys that open destructive buttons (the victim's alerts).
    destructive_stash: Vec<String>,
    /// What the bot answered, by kind, to show what the inputs reached.
    seen: std::sync::Mutex<std::collections::BTreeMap<String, usize>>,
}

fn long_item() -> ItemId {
    ItemId::new(format!("olx-gpu:{}", "long-name-".repeat(19))).unwrap()
}

async fn world() -> World {
    let h = BotHarness::start().await;
    let at = now() - Duration::hours(3);
    let long = long_item();
    h.store
        .record(&Observation::new(
            long.source_id(),
            long.clone(),
            "A very long listing <b>&amp;</b>",
            None,
            Money::new(Decimal::from(10), Currency::new("BGN").unwrap()),
            at,
            Provenance::Page {
                url: "https://www.olx.bg/ad/long".into(),
                fetched_at: at,
            },
        ))
        .await
        .unwrap();
    for text in [
        "/watch darkside cola",
        "/watch htreviews-tobacco:musthave-pinkman",
        "/alert gold 18k below 13000",
        "/alert rtx 4070 back in stock",
        "/alert new rtx-4070 under 900",
    ] {
        let calls = h.say(VICTIM, "en", text).await;
        assert_sendable(&calls);
    }
    let watches: Vec<ItemId> = watches_of(&h, VICTIM).await;
    let alerts: Vec<AlertId> = alerts_of(&h, VICTIM).await;
    assert_eq!(watches.len(), 2, "seeded watches");
    assert_eq!(alerts.len(), 3, "seeded alerts");

    let items = [
        "htreviews-tobacco:darkside-cola",
        "tg-bijouterie-dz:gold-18k",
        "olx-gpu:rtx-4070-gaming-oc",
        long.as_str(),
    ];
    let mut all = Vec::new();
    for i in items {
        let i = ItemId::new(i).unwrap();
        all.extend([
            Callback::Item(i.clone()),
            Callback::Watch(i.clone()),
            Callback::Unwatch(i.clone()),
            Callback::AlertMenu(i.clone()),
            Callback::AlertDrop(i.clone(), 10),
            Callback::AlertBackInStock(i.clone()),
            Callback::Chart(i.clone(), ChartWindow::Week),
            Callback::Chart(i, ChartWindow::Year),
        ]);
    }
    all.extend([
        Callback::Clear(true),
        Callback::Clear(false),
        Callback::Lang(Lang::Ar),
        Callback::Prices {
            page: 0,
            source: None,
        },
        Callback::Prices {
            page: 9_999,
            source: Some(SourceId::new("olx-gpu").unwrap()),
        },
        Callback::Track("https://shop.example/p/1".into()),
        Callback::Track(format!("https://shop.example/{}", "x".repeat(100))),
    ]);
    for a in &alerts {
        all.push(Callback::DeleteAlert(a.clone()));
        all.push(Callback::Mute(a.clone()));
    }
    let mut real_callbacks = Vec::new();
    for c in &all {
        real_callbacks.push(button_data(h.users(), c, now()).await.unwrap());
    }
    // The victim's alerts behind stash keys, as if their ids were long.
    let mut destructive_stash = Vec::new();
    for a in &alerts {
        let full = Callback::DeleteAlert(a.clone()).encode();
        let key = Callback::stash_key(&full);
        h.users()
            .put_payload(&format!("cb{key}"), &full, now() + Duration::days(1))
            .await
            .unwrap();
        real_callbacks.push(key.clone());
        destructive_stash.push(key);
    }
    World {
        h,
        watches,
        alerts,
        real_callbacks,
        destructive_stash,
        seen: Default::default(),
    }
}

async fn watches_of(h: &BotHarness, user: i64) -> Vec<ItemId> {
    let mut w: Vec<ItemId> = h
        .users()
        .watches(UserId(user))
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.item)
        .collect();
    w.sort();
    w
}

async fn alerts_of(h: &BotHarness, user: i64) -> Vec<AlertId> {
    h.users()
        .alerts(UserId(user))
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.active)
        .map(|a| a.id)
        .collect()
}

impl World {
    fn count(&self, calls: &[Value]) {
        let expired: Vec<String> = Lang::ALL
            .iter()
            .map(|l| render(*l, &Text::ButtonExpired))
            .collect();
        let mut seen = self.seen.lock().unwrap();
        if calls.is_empty() {
            *seen.entry("(no answer)".into()).or_default() += 1;
        }
        for c in calls {
            let mut kind = c["method"].as_str().unwrap_or("?").to_string();
            if kind == "answerCallbackQuery" {
                let text = c["text"].as_str().unwrap_or_default();
                kind += if expired.iter().any(|e| e == text) {
                    " (expired)"
                } else {
                    " (acted)"
                };
            }
            *seen.entry(kind).or_default() += 1;
        }
    }

    /// Prints what the bot answered during a property.
    fn report(&self, name: &str) {
        println!(
            "bot_hostile {name}: answers {:?}",
            self.seen.lock().unwrap()
        );
    }

    /// Everything the victim had is still there (and their alerts active).
    async fn victim_intact(&self) {
        let watches = watches_of(&self.h, VICTIM).await;
        for w in &self.watches {
            assert!(watches.contains(w), "the victim lost the watch {w}");
        }
        let alerts = alerts_of(&self.h, VICTIM).await;
        for a in &self.alerts {
            assert!(
                alerts.contains(a),
                "the victim lost or had muted the alert {a}"
            );
        }
    }
}

// ---------------------------------------------------------- the updates

/// Who sends: id, and a `from` with hostile names and language codes.
#[derive(Debug, Clone)]
struct Sender {
    id: i64,
    first_name: String,
    last_name: Option<String>,
    username: Option<String>,
    lang: Option<String>,
}

impl Sender {
    fn json(&self) -> Value {
        let mut u = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        if let Some(l) = &self.last_name {
            u["last_name"] = json!(l);
        }
        if let Some(n) = &self.username {
            u["username"] = json!(n);
        }
        if let Some(l) = &self.lang {
            u["language_code"] = json!(l);
        }
        u
    }
}

fn message(from: &Sender, chat: i64, text: &str) -> Value {
    let chat = if chat > 0 {
        json!({ "id": chat, "type": "private", "first_name": from.first_name })
    } else {
        json!({ "id": chat, "type": "group", "title": "A group <b>" })
    };
    json!({ "message": {
        "message_id": 10,
        "from": from.json(),
        "chat": chat,
        "date": 1_700_000_000,
        "text": text,
    }})
}

/// Where a pressed button sits: a normal message, one too old to edit
/// (`date` 0), none (an inline message), or a message in a group.
#[derive(Debug, Clone, Copy)]
enum ButtonOn {
    Private,
    Inaccessible,
    Inline,
    Group,
}

fn callback(from: &Sender, on: ButtonOn, data: &str, n: usize) -> Value {
    let mut q = json!({
        "id": format!("cbq-{n}"),
        "from": from.json(),
        "chat_instance": "-42",
        "data": data,
    });
    match on {
        ButtonOn::Private => {
            q["message"] = json!({
                "message_id": 500, "date": 1_700_000_000, "text": "earlier",
                "chat": { "id": from.id, "type": "private" },
            })
        }
        ButtonOn::Inaccessible => {
            q["message"] = json!({
                "message_id": 500, "date": 0,
                "chat": { "id": from.id, "type": "private" },
            })
        }
        ButtonOn::Inline => q["inline_message_id"] = json!("AAAAinline"),
        ButtonOn::Group => {
            q["message"] = json!({
                "message_id": 501, "date": 1_700_000_000, "text": "earlier",
                "chat": { "id": GROUP, "type": "group", "title": "g" },
            })
        }
    }
    json!({ "callback_query": q })
}

// ------------------------------------------------------------ the checks

/// Sends an update; returns the calls after checking what every call must
/// satisfy, whatever the input.
async fn send_checked(w: &World, update: Value) -> Vec<Value> {
    let h = &w.h;
    let calls = h.send(update).await;
    w.count(&calls);
    assert_sendable(&calls);
    for c in h.standin.calls() {
        assert!(
            !c.failed,
            "Telegram would refuse {} {:#}",
            c.method, c.params
        );
    }
    for c in &calls {
        if c["method"] == "answerCallbackQuery"
            && let Some(t) = c["text"].as_str()
        {
            assert!(
                t.chars().count() <= 200,
                "callback answer of {} chars",
                t.chars().count()
            );
        }
        if let Some(t) = c["text"].as_str() {
            assert!(visible_len(t) >= 1, "empty text");
        }
    }
    calls
}

/// A message in a private chat always gets a visible answer; in a group,
/// plain text gets none (the bot only answers commands there).
fn check_message_answer(calls: &[Value], private: bool, text: &str) {
    let answers = calls
        .iter()
        .filter(|c| matches!(c["method"].as_str(), Some("sendMessage" | "sendPhoto")))
        .count();
    match commands::parse(text, Some(BOT)) {
        Input::NotForUs => assert!(calls.is_empty(), "answered {text:?}: {calls:#?}"),
        Input::Command(_) => assert!(answers >= 1, "no answer to {text:?}: {calls:#?}"),
        Input::Text(_) | Input::Link(_) if private => {
            assert!(answers >= 1, "no answer to {text:?}: {calls:#?}")
        }
        Input::Text(_) | Input::Link(_) => {
            assert!(
                calls.is_empty(),
                "answered plain text in a group: {calls:#?}"
            )
        }
    }
}

/// Exactly one answer to the query, last.
fn check_callback_answer(calls: &[Value], n: usize) {
    let answers: Vec<&Value> = calls
        .iter()
        .filter(|c| c["method"] == "answerCallbackQuery")
        .collect();
    assert_eq!(
        answers.len(),
        1,
        "one answerCallbackQuery expected: {calls:#?}"
    );
    assert_eq!(calls.last().unwrap()["method"], "answerCallbackQuery");
    assert_eq!(answers[0]["callback_query_id"], format!("cbq-{n}"));
}

/// Runs `cases()` cases of `strategy` through `check`, panicking with the
/// (shrunk) input on failure; prints how many payloads were sent.
fn run<S: Strategy>(
    name: &str,
    strategy: S,
    check: impl Fn(&tokio::runtime::Runtime, S::Value) -> usize,
    rt: &tokio::runtime::Runtime,
) where
    S::Value: std::fmt::Debug + Clone,
{
    let sent = AtomicUsize::new(0);
    let cases = cases();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    });
    let result = runner.run(&strategy, |v| {
        sent.fetch_add(check(rt, v), Ordering::Relaxed);
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    println!(
        "bot_hostile {name}: {cases} cases, {} hostile payloads sent",
        sent.load(Ordering::Relaxed)
    );
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

// -------------------------------------------------------- the generators

/// Single characters and short strings that break naive code.
const SPECIAL: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\u{200f}",
    "\u{200e}",
    "\u{202e}",
    "\u{2066}",
    "\u{200b}",
    "\u{feff}",
    "\u{fffd}",
    "\u{301}",
    "e\u{301}\u{302}\u{303}\u{304}",
    "\u{a0}",
    "\u{3000}",
    "\u{2028}",
    "\u{85}",
    "\t",
    "\r\n",
    "\n\n",
    "👨‍👩‍👧‍👦",
    "🇩🇿",
    "🏳️‍🌈",
    "ﷺ",
    "ﷻ",
    "٫",
    "١٣٥٠٠",
    "۱۲۳",
    "𝟗𝟗",
    "Ⅻ",
    "½",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "<b>",
    "</b>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<script>alert(1)</script>",
    "&amp",
    "&lt;",
    "&#0;",
    "&#xFFFFFFFF;",
    "&nbsp;",
    "<tg-spoiler>",
    "|",
    "||",
    "~",
    "@",
    "@@",
    "/",
    "//start",
    "\\",
    "%",
    "%%",
    "%00",
    "%zz",
    "%E2%80%AE",
    "%FF%FE%FD",
    "%25%32%35",
    "%u202e",
    "?start=",
    "#",
    "null",
    "undefined",
    "true",
    "[]",
    "{}",
    "{\"a\":",
    "' OR 1=1 --",
    "'; DROP TABLE watches; --",
    "${jndi:ldap://x}",
    "{{7*7}}",
    "..",
    "../../etc/passwd",
    ":",
    "a:b",
    "A:B",
    "htreviews-tobacco:",
    ":darkside-cola",
];

/// Numbers a parser may choke on.
const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "+0",
    "00000",
    "-1",
    "1e999999",
    "1e-999999",
    "-1e999999",
    "1E308",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "∞",
    "-∞",
    "0x7fffffff",
    "0b1010",
    "0o777",
    "18446744073709551616",
    "-9223372036854775809",
    "9223372036854775807",
    "4294967296",
    "79228162514264337593543950336",
    "79228162514264337593543950335",
    "0.0000000000000000000000000001",
    "0.00000000000000000000000000001",
    "1.",
    ".5",
    "1..2",
    "1,2,3",
    "1.234.567,89",
    "1 234,56 €",
    "12.500 лв.",
    "١٣٥٠٠ دج",
    "13 500 DZD",
    "$-5",
    "5%",
    "100%",
    "99.9999999999999999999999999999%",
    "%5",
    "-5%",
    "1/2",
    "½",
    "5e",
    "e5",
    "--5",
    "+-5",
    "5-",
    "1_000",
];

const WORDS: &[&str] = &[
    "darkside",
    "darkside cola",
    "Darkside Cola",
    "DARKSIDE",
    "must have",
    "pinkman",
    "gold",
    "gold 18k",
    "gold-18k",
    "or 18 carats",
    "rtx",
    "rtx 4070",
    "rtx-4070",
    "htreviews-tobacco:darkside-cola",
    "tg-bijouterie-dz:gold-18k",
    "olx-gpu:rtx-4070-gaming-oc",
    "olx-gpu",
    "htreviews-tobacco",
    "long-name",
    "milky rice <&>",
    "en",
    "ru",
    "fr",
    "ar",
    "EN",
    "de",
    "7d",
    "30d",
    "1y",
    "week",
    "month",
    "year",
    "365d",
    "0d",
    "-7d",
    "99999999999d",
    "new",
    "новый",
    "nouveau",
    "جديد",
    "back",
    "in",
    "stock",
    "back in stock",
    "в наличии",
    "de retour en stock",
    "متوفر",
    "below",
    "under",
    "<",
    "above",
    "over",
    ">",
    "drop",
    "ниже",
    "выше",
    "падение",
    "sous",
    "dessus",
    "baisse",
    "أقل",
    "أعلى",
    "انخفاض",
];

/// One hostile piece of text.
fn piece() -> BoxedStrategy<String> {
    prop_oneof![
        3 => proptest::collection::vec(any::<char>(), 0..24).prop_map(String::from_iter),
        3 => proptest::sample::select(SPECIAL).prop_map(str::to_string),
        3 => proptest::sample::select(NUMBERS).prop_map(str::to_string),
        4 => proptest::sample::select(WORDS).prop_map(str::to_string),
        1 => (1usize..450).prop_map(|n| "9".repeat(n)),
        1 => (1u64..u64::MAX).prop_map(|n| format!("1e{n}")),
        1 => any::<i128>().prop_map(|n| n.to_string()),
        1 => any::<f64>().prop_map(|n| n.to_string()),
        1 => proptest::collection::vec((any::<u8>(), any::<bool>()), 1..12).prop_map(|v| {
            v.into_iter()
                .map(|(b, hex)| if hex { format!("%{b:02X}") } else { format!("%{}", b as char) })
                .collect()
        }),
        1 => "[a-z0-9_.:-]{0,210}",
    ]
    .boxed()
}

/// Arguments: a few pieces with odd separators, or one very long run.
fn args() -> BoxedStrategy<String> {
    let sep =
        proptest::sample::select(&[" ", " ", " ", "", "  ", "\n", "\t", "\u{3000}", "\u{a0}"][..]);
    prop_oneof![
        8 => proptest::collection::vec((piece(), sep), 0..6).prop_map(|v| {
            v.into_iter().map(|(p, s)| format!("{p}{s}")).collect::<String>()
        }),
        1 => (any::<char>(), 200usize..4100).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
        1 => (proptest::sample::select(WORDS), 1000usize..4000)
            .prop_map(|(w, n)| format!("{w} ").repeat(n / (w.len() + 1) + 1)),
    ]
    .boxed()
}

const COMMANDS: &[&str] = &[
    "start",
    "help",
    "prices",
    "search",
    "find",
    "item",
    "watch",
    "add",
    "unwatch",
    "remove",
    "list",
    "wishlist",
    "clear",
    "alert",
    "alerts",
    "chart",
    "lang",
    "language",
    "stats",
    "START",
    "Prices",
    "ALERT",
    "untrack",
    "track",
    "settings",
    "frobnicate",
    "",
];

/// How a command is addressed: to nobody, to us (any case), to another
/// bot, or to a garbled name.
fn addressee() -> BoxedStrategy<String> {
    prop_oneof![
        6 => Just(String::new()),
        2 => Just(format!("@{BOT}")),
        1 => Just(format!("@{}", BOT.to_uppercase())),
        1 => Just("@otherbot".to_string()),
        1 => Just("@".to_string()),
        1 => piece().prop_map(|p| format!("@{p}")),
    ]
    .boxed()
}

/// Alert arguments of every shape, keywords in all four languages.
fn alert_args() -> BoxedStrategy<String> {
    let kw = proptest::sample::select(WORDS);
    let num = prop_oneof![
        proptest::sample::select(NUMBERS).prop_map(str::to_string),
        piece()
    ];
    let item = prop_oneof![
        proptest::sample::select(WORDS).prop_map(str::to_string),
        piece()
    ];
    prop_oneof![
        (item.clone(), kw, num.clone()).prop_map(|(i, k, n)| format!("{i} {k} {n}")),
        (item.clone(), num.clone()).prop_map(|(i, n)| format!("new {i} under {n}")),
        (item.clone(), num).prop_map(|(i, n)| format!("{i} drop {n}")),
        item.clone().prop_map(|i| format!("{i} back in stock")),
        item,
        args(),
    ]
    .boxed()
}

/// A message text: a command with arguments, or anything at all.
fn text() -> BoxedStrategy<String> {
    let name = prop_oneof![
        8 => proptest::sample::select(COMMANDS).prop_map(str::to_string),
        1 => "[a-z0-9_]{1,40}",
        1 => piece(),
    ];
    prop_oneof![
        6 => (name, addressee(), args()).prop_map(|(n, a, args)| format!("/{n}{a} {args}")),
        2 => alert_args().prop_map(|a| format!("/alert {a}")),
        1 => (addressee(), alert_args()).prop_map(|(to, a)| format!("/alert{to} {a}")),
        1 => (proptest::sample::select(WORDS), proptest::sample::select(&["7d", "30d", "1y", "week", "1w", "2d", "", "1Y "][..]))
            .prop_map(|(i, w)| format!("/chart {i} {w}")),
        1 => args().prop_map(|a| format!("/chart {a}")),
        1 => start_payload().prop_map(|p| format!("/start {p}")),
        1 => proptest::sample::select(COMMANDS).prop_map(|c| format!("/{c}")),
        1 => args().prop_map(|a| format!("/{a}")),
        2 => args(),
        1 => piece().prop_map(|p| format!("https://{p}")),
        1 => piece().prop_map(|p| format!("look http://shop.example/{p}?x=%ZZ#frag")),
    ]
    .boxed()
}

/// URL-safe base64 without padding, as deep links carry item ids.
fn b64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Deep-link payloads: real item links, base64 of anything, and junk.
fn start_payload() -> BoxedStrategy<String> {
    prop_oneof![
        proptest::sample::select(
            &[
                "htreviews-tobacco:darkside-cola",
                "tg-bijouterie-dz:gold-18k",
                "nope:nope",
                "UPPER:CASE",
                "",
            ][..]
        )
        .prop_map(|i| format!("i_{}", b64(i.as_bytes()))),
        proptest::collection::vec(any::<u8>(), 0..60).prop_map(|b| format!("i_{}", b64(&b))),
        "i_[A-Za-z0-9_=+/-]{0,70}",
        "[A-Za-z0-9_-]{0,80}",
        Just("i_".to_string()),
        Just("i".to_string()),
        piece(),
    ]
    .boxed()
}

/// Who sends: `id`, with hostile names and language codes.
fn sender(id: i64) -> BoxedStrategy<Sender> {
    let lang = proptest::option::of(prop_oneof![
        4 => proptest::sample::select(&["en", "ru", "fr", "ar"][..]).prop_map(str::to_string),
        1 => proptest::sample::select(&["", "EN", "ar-SA", "pt-br", "zz", "ru-RU", "\u{0}"][..]).prop_map(str::to_string),
        1 => piece(),
    ]);
    let name = prop_oneof![
        4 => proptest::sample::select(&["Ann", "Ана", "أحمد"][..]).prop_map(str::to_string),
        2 => piece(),
        1 => (any::<char>(), 60usize..300).prop_map(|(c, n)| std::iter::repeat_n(c, n).collect()),
    ];
    (
        lang,
        name,
        proptest::option::of(piece()),
        proptest::option::of(piece()),
    )
        .prop_map(move |(lang, first_name, last_name, username)| Sender {
            id,
            first_name,
            last_name,
            username,
            lang,
        })
        .boxed()
}

/// Callback data: real encodings, garbled ones, forged ones, stash keys.
fn callback_data(real: Vec<String>) -> BoxedStrategy<String> {
    let real = proptest::sample::select(real);
    let tags = proptest::sample::select(
        &[
            "i", "w", "u", "a", "d", "s", "c", "x", "k", "l", "p", "t", "m", "~", "", "I", "ii",
        ][..],
    );
    prop_oneof![
        // As the bot made it.
        6 => real.clone(),
        // Truncated (at a character boundary) or extended.
        2 => (real.clone(), any::<proptest::sample::Index>()).prop_map(|(r, i)| {
            let cut = i.index(r.len() + 1);
            let cut = (0..=cut).rev().find(|c| r.is_char_boundary(*c)).unwrap_or(0);
            r[..cut].to_string()
        }),
        1 => (real.clone(), piece()).prop_map(|(r, p)| format!("{r}{p}")),
        1 => (real.clone(), piece()).prop_map(|(r, p)| format!("{p}{r}")),
        // One byte of an ASCII encoding replaced.
        2 => (real.clone(), any::<proptest::sample::Index>(), any::<char>()).prop_map(|(r, i, c)| {
            let mut chars: Vec<char> = r.chars().collect();
            if !chars.is_empty() {
                let i = i.index(chars.len());
                chars[i] = c;
            }
            chars.into_iter().collect()
        }),
        // A tag and hostile arguments.
        4 => (tags.clone(), args()).prop_map(|(t, a)| format!("{t}|{a}")),
        2 => (tags, piece(), piece()).prop_map(|(t, a, b)| format!("{t}|{a}|{b}")),
        // Numbers where the bot expects small ones.
        2 => (proptest::sample::select(NUMBERS), proptest::sample::select(&[
            "htreviews-tobacco:darkside-cola", "olx-gpu", "", "nope",
        ][..])).prop_map(|(n, i)| format!("d|{n}|{i}")),
        2 => (proptest::sample::select(NUMBERS), proptest::option::of(piece()))
            .prop_map(|(n, s)| match s { Some(s) => format!("p|{n}|{s}"), None => format!("p|{n}") }),
        1 => (0u64..u64::MAX).prop_map(|n| format!("p|{n}")),
        // Stash keys: well-formed but unknown, malformed, over 64 bytes.
        1 => "~[0-9a-f]{20}",
        1 => "~[0-9a-fA-F~|]{0,90}",
        1 => piece().prop_map(|p| format!("~{p}")),
        // Anything, up to and beyond Telegram's 64 bytes.
        2 => proptest::collection::vec(any::<char>(), 0..80).prop_map(String::from_iter),
        1 => "[ -~]{60,200}",
    ]
    .boxed()
}

fn button_on() -> impl Strategy<Value = ButtonOn> {
    prop_oneof![
        4 => Just(ButtonOn::Private),
        1 => Just(ButtonOn::Inaccessible),
        1 => Just(ButtonOn::Inline),
        1 => Just(ButtonOn::Group),
    ]
}

/// True for callback data a user may legitimately press to delete their
/// own data (unwatch, clear, delete or mute an alert).
fn is_delete(w: &World, data: &str) -> bool {
    if w.destructive_stash.iter().any(|k| k == data) {
        return true;
    }
    matches!(
        Callback::decode(data),
        Some(
            Callback::Unwatch(_)
                | Callback::Clear(true)
                | Callback::DeleteAlert(_)
                | Callback::Mute(_)
                | Callback::Untrack(_)
        )
    )
}

/// True for commands that delete the sender's own data.
fn is_delete_command(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let Some(rest) = t.strip_prefix('/') else {
        return false;
    };
    let name = rest
        .split(|c: char| c.is_whitespace() || c == '@')
        .next()
        .unwrap_or("");
    matches!(name, "unwatch" | "remove" | "untrack")
}

// ---------------------------------------------------------- the properties

/// Every command with hostile arguments, from a stranger, in private chats.
#[test]
fn hostile_commands_from_a_stranger() {
    let rt = runtime();
    let w = rt.block_on(world());
    run(
        "commands",
        (sender(STRANGER), text()),
        |rt, (from, text)| {
            rt.block_on(async {
                let calls = send_checked(&w, message(&from, from.id, &text)).await;
                check_message_answer(&calls, true, &text);
                w.victim_intact().await;
            });
            1
        },
        &rt,
    );
    w.report("commands");
}

/// The same in a group: commands addressed to us, to nobody and to other
/// bots, and plain text (which gets no answer).
#[test]
fn hostile_commands_in_groups() {
    let rt = runtime();
    let w = rt.block_on(world());
    run(
        "group commands",
        (sender(STRANGER + 1), text()),
        |rt, (from, text)| {
            rt.block_on(async {
                let calls = send_checked(&w, message(&from, GROUP, &text)).await;
                check_message_answer(&calls, false, &text);
                w.victim_intact().await;
            });
            1
        },
        &rt,
    );
    w.report("group commands");
}

/// Buttons: real, garbled, forged and stashed callback data from a
/// stranger, on every kind of message. The victim's ids are in the real
/// data, so a stranger presses "delete alert" and "mute" on them too.
#[test]
fn hostile_callbacks_from_a_stranger() {
    let rt = runtime();
    let w = rt.block_on(world());
    let n = AtomicUsize::new(0);
    run(
        "callbacks",
        (
            sender(STRANGER + 2),
            button_on(),
            callback_data(w.real_callbacks.clone()),
        ),
        |rt, (from, on, data)| {
            let n = n.fetch_add(1, Ordering::Relaxed);
            rt.block_on(async {
                let calls = send_checked(&w, callback(&from, on, &data, n)).await;
                check_callback_answer(&calls, n);
                w.victim_intact().await;
            });
            1
        },
        &rt,
    );
    w.report("callbacks");
}

/// The victim themselves: every command and button short of a delete
/// leaves what they had.
#[test]
fn hostile_input_from_the_owner_keeps_their_data() {
    let rt = runtime();
    let w = rt.block_on(world());
    let n = AtomicUsize::new(0);
    let data = callback_data(w.real_callbacks.clone());
    run(
        "owner input",
        (
            sender(VICTIM),
            proptest::collection::vec(
                prop_oneof![
                    text().prop_map(|t| (true, t)),
                    data.prop_map(|d| (false, d)),
                ],
                1..4,
            ),
        ),
        |rt, (from, inputs)| {
            let mut sent = 0;
            rt.block_on(async {
                for (is_text, input) in inputs {
                    if is_text && is_delete_command(&input) || !is_text && is_delete(&w, &input) {
                        continue;
                    }
                    sent += 1;
                    if is_text {
                        let calls = send_checked(&w, message(&from, from.id, &input)).await;
                        check_message_answer(&calls, true, &input);
                    } else {
                        let n = n.fetch_add(1, Ordering::Relaxed);
                        let on = ButtonOn::Private;
                        let calls = send_checked(&w, callback(&from, on, &input, n)).await;
                        check_callback_answer(&calls, n);
                    }
                    w.victim_intact().await;
                }
            });
            sent
        },
        &rt,
    );
    w.report("owner input");
}

/// Updates of hostile shape: fields of the wrong type, extreme ids, a
/// `from` missing, texts that are numbers, callback data that is an
/// object. The webhook answers 200 and whatever is sent is valid.
#[test]
fn hostile_update_shapes() {
    let rt = runtime();
    let w = rt.block_on(world());
    let ids = prop_oneof![
        8 => any::<i64>().prop_map(|n| json!(n)),
        1 => proptest::sample::select(vec![
            json!(i64::MAX),
            json!(i64::MIN),
            json!(0),
            json!(-1),
            json!(u64::MAX),
            json!(1e300),
            json!(1.5),
            json!("123"),
            json!(null),
            json!([]),
        ]),
    ];
    let value = prop_oneof![
        text().prop_map(|t| json!(t)),
        ids.clone(),
        Just(json!({})),
        Just(json!({"text": "/start"})),
        Just(json!(true)),
    ];
    let shape = (ids.clone(), ids, value.clone(), value, 0u8..6, text());
    let next = AtomicUsize::new(1_000_000);
    run(
        "update shapes",
        shape,
        |rt, (id, chat, field, other, kind, text)| {
            let update_id = next.fetch_add(1, Ordering::Relaxed);
            let update = match kind {
                0 => json!({ "update_id": update_id, "message": {
                    "message_id": 1, "date": 1, "text": text,
                    "from": { "id": id, "is_bot": false, "first_name": field },
                    "chat": { "id": chat, "type": "private" },
                }}),
                1 => json!({ "update_id": update_id, "message": {
                    "message_id": other, "date": 1, "text": field,
                    "chat": { "id": chat, "type": "private" },
                }}),
                2 => json!({ "update_id": update_id, "callback_query": {
                    "id": field, "data": other, "chat_instance": "1",
                    "from": { "id": id, "is_bot": false, "first_name": "x" },
                }}),
                3 => json!({ "update_id": update_id, "callback_query": {
                    "id": "q", "data": text, "chat_instance": "1",
                    "from": { "id": id, "is_bot": false, "first_name": "x", "language_code": field },
                    "message": { "message_id": other, "date": 1, "chat": { "id": chat, "type": other } },
                }}),
                4 => json!({ "update_id": update_id, "my_chat_member": {
                    "chat": { "id": chat, "type": "private" },
                    "from": { "id": id, "is_bot": false, "first_name": "x" },
                    "date": 1,
                    "old_chat_member": { "status": "member", "user": { "id": 1, "is_bot": true, "first_name": "b" } },
                    "new_chat_member": { "status": field, "user": { "id": 1, "is_bot": true, "first_name": "b" } },
                }}),
                _ => json!({ "update_id": id, "message": field, "callback_query": other }),
            };
            rt.block_on(async {
                // A stranger "kicking" the bot must not pause the victim.
                let calls = send_checked(&w, update).await;
                let _ = calls;
                w.victim_intact().await;
            });
            1
        },
        &rt,
    );
    w.report("update shapes");
}

/// A sanity check of the generators: they reach the interesting shapes.
#[test]
fn the_generators_reach_every_command_and_long_texts() {
    let mut runner = TestRunner::deterministic();
    let strategy = text();
    let mut seen = std::collections::HashSet::new();
    let mut longest = 0;
    for _ in 0..3000 {
        let t = strategy.new_tree(&mut runner).unwrap().current();
        longest = longest.max(t.chars().count());
        if let Some(rest) = t.strip_prefix('/') {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            seen.insert(name.to_lowercase());
        }
    }
    for c in [
        "start", "prices", "search", "item", "watch", "add", "unwatch", "remove", "list", "clear",
        "alert", "alerts", "chart", "lang", "stats",
    ] {
        assert!(seen.contains(c), "/{c} never generated");
    }
    assert!(longest >= 4000, "longest text {longest}");
}

/// Regression: a 429 whose `retry_after` is absurd (here u64::MAX seconds)
/// made the alert sender add it to an `Instant`, which panics. It is capped
/// when the answer is read, and the notification is put back.
#[tokio::test]
async fn an_absurd_retry_after_puts_the_notification_back() {
    use pricehound::alerts::notifier::Notification;
    use pricehound::alerts::sender::{Delivery, Sender};
    use pricehound::telegram::api::{BotApi, BotToken, MAX_RETRY_AFTER_SECS};
    use pricehound_tests::bot::TOKEN;
    use pricehound_tests::telegram_standin::Failure;

    let h = BotHarness::start().await;
    let api = BotApi::new(
        reqwest::Client::new(),
        &h.standin.base_url(),
        BotToken::new(TOKEN).unwrap(),
    );
    let sender = Sender::new(api, h.store.clone());
    h.standin.fail_next(
        "sendMessage",
        Failure::TooManyRequests {
            retry_after: u64::MAX,
        },
        1,
    );
    // The alert the message is about, still on (the sender checks).
    let alert = pricehound::domain::user::Alert {
        id: AlertId::random(),
        user: UserId(VICTIM),
        target: pricehound::domain::user::AlertTarget::Item("shop:x".parse().unwrap()),
        rule: pricehound::domain::user::AlertRule::BackInStock,
        created_at: now(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    };
    pricehound::store::AlertStore::put_alert(h.store.as_ref(), &alert)
        .await
        .unwrap();
    let n = Notification {
        id: "n-absurd".into(),
        user: UserId(VICTIM),
        alert_id: alert.id.clone(),
        chat_id: VICTIM,
        text: "price alert".into(),
        keyboard: Default::default(),
        attempts: 0,
        planned_at: None,
    };
    let got = sender.deliver(&n, now()).await.unwrap();
    assert_eq!(
        got,
        Delivery::RetryAfter(std::time::Duration::from_secs(MAX_RETRY_AFTER_SECS))
    );
}
