//! Property tests of the bot's pure parsers on hostile text: what a user
//! types (`telegram::commands::parse`), the arguments of `/alert`
//! (`telegram::bot::alert_args`), chart windows, and callback data
//! (`telegram::callback::Callback::decode`, and encode/decode round trips
//! of every valid button), and the chart drawn from prices anywhere in
//! Decimal's range. None may panic; each keeps its promises about
//! what it returns. The same parsers run through the real bot in
//! `bot_hostile.rs`.

use pricehound::domain::user::{AlertId, Lang};
use pricehound::domain::{ItemId, SourceId};
use pricehound::telegram::bot::alert_args::{self, RuleArg};
use pricehound::telegram::bot::item_deep_link;
use pricehound::telegram::callback::{Callback, ChartWindow};
use pricehound::telegram::commands::{Command, Input, parse};
use proptest::prelude::*;
use rust_decimal::Decimal;

const CASES: u32 = 2048;

/// Text that mixes what matters to these parsers with anything at all.
fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::collection::vec(any::<char>(), 0..12).prop_map(String::from_iter),
        3 => proptest::sample::select(&[
            "/", "@", "|", "~", "%", "%00", "%E2%80%AE", " ", "\u{a0}", "\u{3000}", "\n", "\t",
            "\u{0}", "\u{202e}", "\u{200f}", "\u{301}", "\u{fffd}", "👨‍👩‍👧", "<b>", "&amp",
            "start", "alert", "search", "@pricehound_bot", "@other", "below", "under", "ниже",
            "sous", "أقل", "above", "выше", "dessus", "أعلى", "drop", "падение", "baisse",
            "انخفاض", "back", "in", "stock", "в", "наличии", "en", "متوفر", "new", "новый",
            "nouveau", "جديد", "9999999999999999999999999999999", "1e999999", "-0", "NaN",
            "∞", "%", "12,5", "0", "100", "i_", "http://", "https://", "https://x.y/p",
            "i|", "d|", "p|", "t|", "x|", "a:b", "7d", "1y", "30D",
        ][..])
        .prop_map(str::to_string),
        1 => (1usize..400).prop_map(|n| "9".repeat(n)),
    ];
    proptest::collection::vec(piece, 0..10).prop_map(|v| v.concat())
}

fn item_id() -> impl Strategy<Value = ItemId> {
    "[a-z0-9_-]{1,30}:[a-z0-9_.:-]{1,160}".prop_map(|s| ItemId::new(s).unwrap())
}

fn source_id() -> impl Strategy<Value = SourceId> {
    "[a-z0-9_-]{1,64}".prop_map(|s| SourceId::new(s).unwrap())
}

fn alert_id() -> impl Strategy<Value = AlertId> {
    any::<u8>().prop_map(|_| AlertId::random())
}

/// Every callback the bot can put on a button.
fn valid_callback() -> impl Strategy<Value = Callback> {
    let window = prop_oneof![
        Just(ChartWindow::Week),
        Just(ChartWindow::Month),
        Just(ChartWindow::Year)
    ];
    prop_oneof![
        item_id().prop_map(Callback::Item),
        item_id().prop_map(Callback::Watch),
        item_id().prop_map(Callback::Unwatch),
        item_id().prop_map(Callback::AlertMenu),
        (item_id(), 1u32..100).prop_map(|(i, p)| Callback::AlertDrop(i, p)),
        item_id().prop_map(Callback::AlertBackInStock),
        (item_id(), window).prop_map(|(i, w)| Callback::Chart(i, w)),
        alert_id().prop_map(Callback::DeleteAlert),
        alert_id().prop_map(Callback::Mute),
        any::<bool>().prop_map(Callback::Clear),
        proptest::sample::select(Lang::ALL.to_vec()).prop_map(Callback::Lang),
        (0u32..10_000, proptest::option::of(source_id()))
            .prop_map(|(page, source)| Callback::Prices { page, source }),
        (
            "https?",
            "[a-z0-9]{1,20}(\\.[a-z]{2,6}){1,2}",
            "(/[a-zA-Z0-9_.~|%-]{0,20}){0,4}"
        )
            .prop_map(|(s, h, p)| {
                // As the decoder keeps it: the URL's own normal form.
                let url = url::Url::parse(&format!("{s}://{h}{p}")).unwrap();
                Callback::Track(url.to_string())
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn commands_parse_anything_within_bounds(text in hostile(), me in proptest::option::of("[a-z_]{1,20}")) {
        let input = parse(&text, me.as_deref());
        let trimmed = text.trim();
        match &input {
            Input::Command(cmd) => {
                prop_assert!(trimmed.starts_with('/'));
                let args = match cmd {
                    Command::Search(a) | Command::Item(a) | Command::Watch(a)
                    | Command::Unwatch(a) | Command::Alert(a) | Command::Chart(a) => Some(a.as_str()),
                    Command::Prices(a) | Command::Lang(a) | Command::Start(a) => a.as_deref(),
                    Command::Unknown(name) => {
                        prop_assert!(name.chars().count() <= 32);
                        None
                    }
                    _ => None,
                };
                if let Some(a) = args {
                    prop_assert!(a.chars().count() <= 256, "{} chars", a.chars().count());
                }
                if let Command::Start(Some(p)) = cmd {
                    prop_assert!((1..=64).contains(&p.len()));
                    prop_assert!(p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
                }
            }
            Input::NotForUs => {
                prop_assert!(trimmed.starts_with('/') && me.is_some());
                let head = trimmed.split(char::is_whitespace).next().unwrap();
                prop_assert!(head.contains('@'), "{head:?}");
            }
            Input::Link(url) => {
                prop_assert!(matches!(url.scheme(), "http" | "https"));
                prop_assert!(url.host_str().is_some());
            }
            Input::Text(t) => prop_assert_eq!(t.as_str(), trimmed),
        }
    }

    /// Addressing a command to this bot changes nothing.
    #[test]
    fn a_command_to_this_bot_is_the_same_command(name in "[a-z]{1,12}", args in hostile()) {
        let plain = parse(&format!("/{name} {args}"), Some("pricehound_bot"));
        let addressed = parse(&format!("/{name}@PriceHound_Bot {args}"), Some("pricehound_bot"));
        prop_assert_eq!(plain, addressed);
    }

    /// Deep links to items survive `/start`.
    #[test]
    fn item_deep_links_come_back(item in item_id()) {
        if let Some(payload) = item_deep_link(&item) {
            prop_assert!(payload.len() <= 64);
            prop_assert_eq!(
                parse(&format!("/start {payload}"), None),
                Input::Command(Command::Start(Some(payload)))
            );
        }
    }

    #[test]
    fn alert_arguments_split_into_the_words_typed(args in hostile()) {
        let words: Vec<&str> = args.split_whitespace().collect();
        if let Some((item, rule)) = alert_args::parse(&args) {
            // The item is the leading words, the number the trailing ones.
            prop_assert!(words.join(" ").starts_with(&item), "{item:?} from {words:?}");
            match rule {
                RuleArg::Below(n) | RuleArg::Above(n) | RuleArg::Drop(n) => {
                    prop_assert!(!n.is_empty());
                    prop_assert!(words.join(" ").ends_with(&n), "{n:?} from {words:?}");
                    if let Some(p) = alert_args::percent(&n) {
                        prop_assert!(p > Decimal::ZERO && p < Decimal::ONE_HUNDRED);
                    }
                }
                RuleArg::BackInStock => {}
            }
        }
        if let Some((series, price)) = alert_args::new_listing(&args) {
            prop_assert!(!series.is_empty() && !price.is_empty());
        }
        if let Some(p) = alert_args::percent(&args) {
            prop_assert!(p > Decimal::ZERO && p < Decimal::ONE_HUNDRED);
        }
        let _ = ChartWindow::parse(&args);
    }

    /// Every rule keyword, in every language, with any item and number.
    #[test]
    fn alert_rules_are_found_behind_any_item(
        item in "[a-z0-9 ]{1,30}",
        kw in proptest::sample::select(&["below", "under", "ниже", "sous", "أقل", "above", "выше", "dessus", "أعلى", "drop", "падение", "baisse", "انخفاض"][..]),
        n in "[0-9]{1,30}([.,][0-9]{1,10})?%?",
    ) {
        prop_assume!(!item.trim().is_empty());
        let (got_item, rule) = alert_args::parse(&format!("{item} {kw} {n}")).expect("a rule");
        prop_assert_eq!(got_item, item.split_whitespace().collect::<Vec<_>>().join(" "));
        let got_n = match rule {
            RuleArg::Below(n) | RuleArg::Above(n) | RuleArg::Drop(n) => n,
            RuleArg::BackInStock => unreachable!(),
        };
        prop_assert_eq!(got_n, n);
    }

    /// Callback data the bot did not make decodes to nothing or to a
    /// callback that encodes back to data decoding the same.
    #[test]
    fn callback_data_decodes_or_is_refused(data in prop_oneof![
        hostile(),
        (proptest::sample::select(&["i", "w", "u", "a", "d", "s", "c", "x", "k", "l", "p", "t", "m", "v"][..]), hostile())
            .prop_map(|(t, a)| format!("{t}|{a}")),
        valid_callback().prop_map(|c| c.encode()),
    ]) {
        if let Some(c) = Callback::decode(&data) {
            let again = c.encode();
            prop_assert_eq!(Callback::decode(&again), Some(c));
        }
    }

    /// Every button the bot can make reads back as itself, and fits in 64
    /// bytes or gets a stash key that does.
    #[test]
    fn every_valid_callback_round_trips(c in valid_callback()) {
        let data = c.encode();
        prop_assert_eq!(Callback::decode(&data), Some(c));
        if !Callback::fits(&data) {
            let key = Callback::stash_key(&data);
            prop_assert!(Callback::fits(&key) && key.starts_with('~'));
            prop_assert_eq!(Callback::decode(&key), None);
        }
    }

    /// Any cut of a valid encoding decodes to nothing or to a valid callback.
    #[test]
    fn truncated_callbacks_never_panic(c in valid_callback(), cut in any::<proptest::sample::Index>()) {
        let data = c.encode();
        let at = cut.index(data.len() + 1);
        if data.is_char_boundary(at)
            && let Some(d) = Callback::decode(&data[..at])
        {
            prop_assert_eq!(Callback::decode(&d.encode()), Some(d));
        }
    }
}

/// Prices anywhere in Decimal's range, from a scraped page, reach the chart
/// (`/chart`, the chart button): it draws them or says it cannot, never
/// panics. Each case draws a PNG, so there are fewer of them.
mod charts {
    use chrono::{Duration, TimeZone, Utc};
    use pricehound::telegram::chart::{ChartPoint, ChartRequest, render_png};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn price() -> impl Strategy<Value = Decimal> {
        prop_oneof![
            Just(Decimal::MAX),
            Just(Decimal::MIN),
            Just(Decimal::ZERO),
            Just(Decimal::new(1, 28)),
            (any::<i64>(), 0u32..=28).prop_map(|(m, s)| Decimal::new(m, s)),
            (
                any::<u32>(),
                any::<u32>(),
                any::<u32>(),
                any::<bool>(),
                0u32..=28
            )
                .prop_map(|(lo, mid, hi, neg, s)| Decimal::from_parts(lo, mid, hi, neg, s)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

        #[test]
        fn charts_of_extreme_prices_never_panic(
            points in proptest::collection::vec((-40i64..10, price()), 0..40),
            title in "\\PC{0,300}",
            days in prop_oneof![Just(7i64), Just(30), Just(365), Just(0), Just(-1)],
        ) {
            let to = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
            let from = to - Duration::days(days);
            let points: Vec<ChartPoint> = points
                .into_iter()
                .map(|(d, price)| ChartPoint { at: to + Duration::hours(d * 12), price })
                .collect();
            let req = ChartRequest { title: &title, currency: "BGN", points: &points, from, to };
            if let Ok(png) = render_png(&req) {
                prop_assert!(png.starts_with(b"\x89PNG"));
            }
        }
    }
}
