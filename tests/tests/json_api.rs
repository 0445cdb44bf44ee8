//! The json_api source: the recorded gold spot feed, JSON Pointers that
//! point well and badly, exact decimals, and items that are skipped.

use pricehound::demo::page;
use pricehound::domain::Availability;
use pricehound::sources::config::JsonApiConfig;
use pricehound::sources::json_api::{extract, extract_report};
use pricehound::sources::{Fetcher, Listing, SourceKind, SourcesConfig, scrape_source};
use pricehound_tests::pages::serve;
use serde_json::{Value, json};

/// The gold source exactly as sources.toml has it (the URL aside).
fn gold_toml(url: &str) -> String {
    format!(
        r#"
[groups.gold]
schedule = "rate(15 minutes)"

[[sources]]
id = "gold-spot-usd"
name = "Gold spot price (goldprice.org)"
group = "gold"
kind = "json_api"
url = "{url}"
# A data endpoint meant to be polled, not a page for crawlers.
respect_robots = false
items = "/items"
price = "/xauPrice"
currency_pointer = "/curr"
item_key = "xau-usd"
item_name = "Gold spot (XAU/USD, troy ounce)"

[[sources.series]]
pattern = '^Gold spot \(XAU/USD'
series = "gold-spot-usd-oz"
"#
    )
}

/// A json_api config from `extra` keys (url, group and ids are filled in).
fn config(extra: &str) -> JsonApiConfig {
    let toml = format!(
        r#"
[groups.g]
schedule = "rate(1 hour)"

[[sources]]
id = "feed"
name = "Feed"
group = "g"
kind = "json_api"
url = "https://api.example.test/v1/prices"
{extra}
"#
    );
    let sources = SourcesConfig::from_toml(&toml).unwrap();
    match &sources.sources[0].kind {
        SourceKind::JsonApi(c) => c.clone(),
        other => panic!("not a json_api source: {}", other.name()),
    }
}

/// Sets the `id_pointer` and `name_pointer` of a config built from a snippet.
fn with_pointers(mut cfg: JsonApiConfig, id: Option<&str>, name: Option<&str>) -> JsonApiConfig {
    cfg.id_pointer = id.map(str::to_string);
    cfg.name_pointer = name.map(str::to_string);
    cfg
}

fn gold_feed() -> Value {
    serde_json::from_str(page("/dbXRates/USD").unwrap().body).unwrap()
}

fn prices(listings: &[Listing]) -> Vec<(String, String, String)> {
    listings
        .iter()
        .map(|l| {
            let p = l.price.as_ref().unwrap();
            (l.key.clone(), p.amount.to_string(), p.currency.to_string())
        })
        .collect()
}

fn triple(key: &str, amount: &str, currency: &str) -> (String, String, String) {
    (key.into(), amount.into(), currency.into())
}

#[test]
fn gold_feed_gives_the_spot_price_exactly() {
    let sources =
        SourcesConfig::from_toml(&gold_toml("https://data-asg.goldprice.org/dbXRates/USD"))
            .unwrap();
    let SourceKind::JsonApi(cfg) = &sources.sources[0].kind else {
        panic!("json_api expected");
    };
    assert!(!sources.sources[0].respect_robots);
    let listings = extract(&gold_feed(), cfg).unwrap();
    assert_eq!(prices(&listings), vec![triple("xau-usd", "2650.31", "USD")]);
    assert_eq!(listings[0].name, "Gold spot (XAU/USD, troy ounce)");
    assert_eq!(listings[0].price_text.as_deref(), Some("2650.31"));
    assert_eq!(listings[0].availability, Availability::Unknown);

    // The same feed, silver.
    let silver = config(
        "items = \"/items\"\nprice = \"/xagPrice\"\ncurrency_pointer = \"/curr\"\nitem_key = \"xag-usd\"\nitem_name = \"Silver spot\"",
    );
    assert_eq!(
        prices(&extract(&gold_feed(), &silver).unwrap()),
        vec![triple("xag-usd", "31.05", "USD")]
    );
}

#[tokio::test]
async fn served_gold_feed_becomes_an_observation_in_its_series() {
    let base = serve(pricehound::demo::router()).await;
    let sources = SourcesConfig::from_toml(&gold_toml(&format!("{base}dbXRates/USD"))).unwrap();
    let out = scrape_source(&sources.sources[0], &Fetcher::for_tests(), None)
        .await
        .unwrap();
    assert_eq!(out.observations.len(), 1, "{:?}", out.rejected);
    let o = &out.observations[0];
    assert_eq!(o.item_id.as_str(), "gold-spot-usd:xau-usd");
    assert_eq!(o.price.as_ref().unwrap().to_string(), "2650.31 USD");
    assert_eq!(
        o.series.as_ref().map(|s| s.as_str()),
        Some("gold-spot-usd-oz")
    );
    // Money travels as a decimal string, never a float.
    let wire = serde_json::to_value(o).unwrap();
    assert_eq!(wire["price"]["amount"], json!("2650.31"));

    // A rebased default-style config points at the same recorded path.
    let mut sources =
        SourcesConfig::from_toml(&gold_toml("https://data-asg.goldprice.org/dbXRates/USD"))
            .unwrap();
    sources.rebase(&base);
    let out = scrape_source(&sources.sources[0], &Fetcher::for_tests(), None)
        .await
        .unwrap();
    assert_eq!(out.observations.len(), 1);
}

#[test]
fn pointers_for_id_name_price_and_currency() {
    let doc = json!({
        "data": {"quotes": [
            {"symbol": "XAU", "title": "Gold  ounce", "last": 2650.31, "ccy": "USD"},
            {"symbol": 42, "title": "Numbered", "last": "1,299.00", "ccy": "eur"},
            {"symbol": "XPT", "title": "Platinum", "last": "951.2", "ccy": "USD"}
        ]}
    });
    let cfg = with_pointers(
        config(
            "items = \"/data/quotes\"\nprice = \"/last\"\ncurrency_pointer = \"/ccy\"\nitem_key = \"unused\"\nitem_name = \"unused\"",
        ),
        Some("/symbol"),
        Some("/title"),
    );
    let listings = extract(&doc, &cfg).unwrap();
    assert_eq!(
        prices(&listings),
        vec![
            triple("XAU", "2650.31", "USD"),
            triple("42", "1299", "EUR"),
            triple("XPT", "951.2", "USD"),
        ]
    );
    // Whitespace in names is collapsed.
    assert_eq!(listings[0].name, "Gold ounce");

    // The whole document as one item; a fixed currency; RFC 6901 escapes (~1 is '/').
    let doc = json!({"price/usd": {"value": "2 650,31 $"}, "name": "Gold"});
    let cfg = with_pointers(
        config(
            "price = \"/price~1usd/value\"\nitem_key = \"gold\"\nitem_name = \"unused\"\ncurrency = \"USD\"",
        ),
        None,
        Some("/name"),
    );
    assert_eq!(
        prices(&extract(&doc, &cfg).unwrap()),
        vec![triple("gold", "2650.31", "USD")]
    );
    // A currency pointer that finds nothing falls back to the fixed currency.
    let cfg = config(
        "price = \"/price~1usd/value\"\nitem_key = \"gold\"\nitem_name = \"Gold\"\ncurrency_pointer = \"/ccy\"\ncurrency = \"USD\"",
    );
    assert_eq!(
        prices(&extract(&doc, &cfg).unwrap()),
        vec![triple("gold", "2650.31", "USD")]
    );
}

#[test]
fn json_numbers_become_exact_decimals() {
    let cfg = with_pointers(
        config(
            "items = \"\"\nprice = \"/p\"\nitem_key = \"unused\"\nitem_name = \"x\"\ncurrency = \"EUR\"",
        ),
        Some("/id"),
        None,
    );
    let doc: Value = serde_json::from_str(
        r#"[{"id":"a","p":0.1},{"id":"b","p":2650.31},{"id":"c","p":12345678901234567890},{"id":"d","p":1e3},{"id":"e","p":"2650.310"},{"id":"f","p":1.5e-3}]"#,
    )
    .unwrap();
    assert_eq!(
        prices(&extract(&doc, &cfg).unwrap()),
        vec![
            triple("a", "0.1", "EUR"),
            triple("b", "2650.31", "EUR"),
            triple("c", "12345678901234567890", "EUR"),
            triple("d", "1000", "EUR"),
            triple("e", "2650.31", "EUR"),
            triple("f", "0.0015", "EUR"),
        ]
    );
    // A string "12.500" is a plain decimal, unless the source writes ',' as its decimal separator.
    let doc = json!([{"id": "a", "p": "12.500"}]);
    assert_eq!(prices(&extract(&doc, &cfg).unwrap())[0].1, "12.5");
    let comma = with_pointers(
        config(
            "items = \"\"\nprice = \"/p\"\nitem_key = \"unused\"\nitem_name = \"x\"\ncurrency = \"BGN\"\ndecimal_separator = \",\"",
        ),
        Some("/id"),
        None,
    );
    assert_eq!(prices(&extract(&doc, &comma).unwrap())[0].1, "12500");
}

#[test]
fn bad_items_are_skipped_with_a_reason_and_good_ones_kept() {
    let mut cfg = with_pointers(
        config(
            "items = \"/items\"\nprice = \"/price\"\ncurrency_pointer = \"/ccy\"\nitem_key = \"unused\"\nitem_name = \"unused\"",
        ),
        Some("/id"),
        Some("/name"),
    );
    // With a pointer and no fixed fallback, a missing id or name skips the item.
    cfg.item_key = None;
    cfg.item_name = None;
    let doc = json!({"items": [
        {"id": "ok", "name": "Fine", "price": 10, "ccy": "USD"},
        {"id": "no-price", "name": "No price", "ccy": "USD"},
        {"id": "neg", "name": "Negative", "price": -1, "ccy": "USD"},
        {"id": "neg-str", "name": "Negative", "price": "-5.00", "ccy": "USD"},
        {"id": "nan", "name": "NaN", "price": "NaN", "ccy": "USD"},
        {"id": "zero", "name": "Zero", "price": 0, "ccy": "USD"},
        {"id": "null", "name": "Null", "price": null, "ccy": "USD"},
        {"id": "obj", "name": "Object", "price": {"v": 1}, "ccy": "USD"},
        {"id": "huge", "name": "Huge", "price": 1e300, "ccy": "USD"},
        {"id": "bad-ccy", "name": "Bad currency", "price": 5, "ccy": "DOLLARS"},
        {"id": true, "name": "Bool id", "price": 5, "ccy": "USD"},
        {"name": "No id", "price": 5, "ccy": "USD"},
        {"id": "no-name", "price": 5, "ccy": "USD"},
        {"id": "no-ccy", "name": "No currency", "price": 5},
        "not an object",
        7
    ]});
    let report = extract_report(&doc, &cfg).unwrap();
    assert_eq!(prices(&report.listings), vec![triple("ok", "10", "USD")]);
    assert_eq!(report.skipped.len(), 15);
    let reason = |i: usize| {
        report
            .skipped
            .iter()
            .find(|s| s.index == i)
            .map(|s| s.reason.clone())
            .unwrap_or_default()
    };
    assert!(
        reason(1).contains("`price = \"/price\"` is missing"),
        "{}",
        reason(1)
    );
    assert!(reason(2).contains("negative"), "{}", reason(2));
    assert!(reason(3).contains("negative"), "{}", reason(3));
    assert!(reason(4).contains("not a price"), "{}", reason(4));
    assert!(reason(5).contains("zero"), "{}", reason(5));
    assert!(reason(6).contains("null"), "{}", reason(6));
    assert!(reason(7).contains("an object"), "{}", reason(7));
    assert!(reason(8).contains("out of range"), "{}", reason(8));
    assert!(reason(9).contains("not an ISO 4217 code"), "{}", reason(9));
    assert!(reason(10).contains("a boolean"), "{}", reason(10));
    assert!(
        reason(11).contains("`id = \"/id\"` is missing"),
        "{}",
        reason(11)
    );
    assert!(
        reason(12).contains("`name = \"/name\"` is missing"),
        "{}",
        reason(12)
    );
    assert!(reason(13).contains("currency_pointer"), "{}", reason(13));
    // `extract` keeps the good one (and logs the rest).
    assert_eq!(extract(&doc, &cfg).unwrap().len(), 1);
}

#[test]
fn wrong_pointers_are_layout_errors_that_name_them() {
    let cfg = config(
        "items = \"/data\"\nprice = \"/price\"\nitem_key = \"k\"\nitem_name = \"n\"\ncurrency = \"USD\"",
    );
    let err = extract(&json!({"items": [], "ts": 1}), &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"/data\"") && err.contains("points at nothing"),
        "{err}"
    );
    assert!(err.contains("top-level keys: items, ts"), "{err}");

    let err = extract(&json!({"data": {"price": 1}}), &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"/data\"") && err.contains("an object, not an array"),
        "{err}"
    );

    // Every item fails on the same pointer: the error names it.
    let cfg = config(
        "items = \"/items\"\nprice = \"/xauPrice\"\nitem_key = \"k\"\nitem_name = \"n\"\ncurrency = \"USD\"",
    );
    let err = extract(&json!({"items": [{"gold": 1}, {"gold": 2}]}), &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("none of the 2 items") && err.contains("\"/xauPrice\""),
        "{err}"
    );
    let err = extract(&json!({"items": [{"xauPrice": "n/a"}]}), &cfg)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("\"/xauPrice\"") && err.contains("not a price"),
        "{err}"
    );

    // An empty array is an empty feed, not an error.
    assert!(extract(&json!({"items": []}), &cfg).unwrap().is_empty());
    // The whole document as the item, when it is not an object.
    let one = config("price = \"/p\"\nitem_key = \"k\"\nitem_name = \"n\"\ncurrency = \"USD\"");
    assert!(extract(&json!([1, 2]), &one).is_err());
    assert!(extract(&json!("text"), &one).is_err());
}

#[test]
fn config_checks_pointers_and_required_fields() {
    let base = "[groups.g]\nschedule = \"rate(1 hour)\"\n[[sources]]\nid = \"f\"\nname = \"F\"\ngroup = \"g\"\nkind = \"json_api\"\nurl = \"https://a.test/x\"\n";
    let e = SourcesConfig::from_toml(&format!(
        "{base}price = \"xauPrice\"\nitem_key = \"k\"\nitem_name = \"n\"\ncurrency = \"USD\""
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("JSON Pointer"), "{e}");
    let e = SourcesConfig::from_toml(&format!(
        "{base}price = \"/p\"\nitem_name = \"n\"\ncurrency = \"USD\""
    ))
    .unwrap_err()
    .to_string();
    assert!(e.contains("item_key"), "{e}");
}

#[test]
fn id_and_name_pointers_are_settable_from_sources_toml() {
    // `id_pointer`/`name_pointer`, because `id`/`name` are the source's own keys.
    let toml = r#"
[groups.g]
schedule = "rate(1 hour)"
[[sources]]
id = "feed"
name = "A feed"
group = "g"
kind = "json_api"
url = "https://example.test/feed.json"
items = "/items"
id_pointer = "/curr"
name_pointer = "/curr"
price = "/xauPrice"
currency_pointer = "/curr"
"#;
    let sources = SourcesConfig::from_toml(toml).unwrap();
    let SourceKind::JsonApi(cfg) = &sources.sources[0].kind else {
        panic!("not a json_api source")
    };
    assert_eq!(cfg.id_pointer.as_deref(), Some("/curr"));
    let listings = pricehound::sources::json_api::extract(&gold_feed(), cfg).unwrap();
    assert_eq!(listings[0].key, "USD");
    assert_eq!(
        listings[0].price.as_ref().unwrap().amount.to_string(),
        "2650.31"
    );
}
