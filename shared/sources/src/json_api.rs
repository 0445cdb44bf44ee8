//! JSON documents read with JSON Pointers (RFC 6901), e.g. a spot metal
//! price feed such as goldprice.org's `dbXRates/USD`:
//!
//! ```toml
//! items = "/items"           # the array of items; omit when the document is one item
//! price = "/xauPrice"        # within an item: a number or a price string
//! currency_pointer = "/curr" # or a fixed `currency = "USD"`
//! item_key = "xau-usd"       # or `id = "/symbol"`
//! item_name = "Gold spot (XAU/USD, troy ounce)"  # or `name = "/title"`
//! ```
//!
//! Per item: the key from the `id_pointer` (a string or a number), else
//! the fixed `item_key`; the name from the `name_pointer`, else
//! `item_name`; the price from the `price` pointer; the currency from
//! `currency_pointer` (an ISO 4217 code), else `currency`, else one named
//! in a price string. A fixed key or name applies to every item, so use
//! them for one-item feeds.
//!
//! A JSON number becomes an exact decimal from its text (serde_json's
//! shortest round-trip form of the `f64` it parsed: `2650.31` stays
//! `2650.31`; a number with more than ~17 significant digits has lost
//! digits before we see it). A string goes through the price parser
//! (`"1,299.00"`, `"2 650,31 $"`), or is read as a plain decimal when it is
//! one (`"2650.310"`). Zero, negative, `NaN` and out-of-range prices are
//! no price.
//!
//! Items missing a required field are skipped with a reason (logged, and
//! returned by [`extract_report`]); when every item fails, the error names
//! the pointer that failed.

use rust_decimal::Decimal;
use serde_json::Value;

use super::ScrapeError;
use super::config::JsonApiConfig;
use super::listing::Listing;
use crate::domain::{Currency, Money};
use crate::price::strict_decimal;
use crate::price::{PriceHints, find_currency, parse_price};

/// An item that did not become a listing, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedItem {
    /// The item's index in the items array (0 for a one-item document).
    pub index: usize,
    pub reason: String,
}

/// What one document yielded: listings, and the items skipped.
#[derive(Debug, Clone, Default)]
pub struct JsonApiReport {
    pub listings: Vec<Listing>,
    pub skipped: Vec<SkippedItem>,
}

/// Reads the items of one JSON document. Skipped items are logged.
pub fn extract(doc: &Value, cfg: &JsonApiConfig) -> Result<Vec<Listing>, ScrapeError> {
    let report = extract_report(doc, cfg)?;
    for s in &report.skipped {
        tracing::warn!(url = %cfg.url, item = s.index, reason = %s.reason, "json_api item skipped");
    }
    Ok(report.listings)
}

/// Reads the items of one JSON document and says why any were skipped.
pub fn extract_report(doc: &Value, cfg: &JsonApiConfig) -> Result<JsonApiReport, ScrapeError> {
    let items: Vec<&Value> = match &cfg.items {
        None => vec![doc],
        Some(pointer) => match doc.pointer(pointer) {
            None => {
                return Err(ScrapeError::Layout(format!(
                    "json_api: `items = {pointer:?}` points at nothing in the document{}",
                    top_keys(doc)
                )));
            }
            Some(Value::Array(a)) => a.iter().collect(),
            Some(other) => {
                return Err(ScrapeError::Layout(format!(
                    "json_api: `items = {pointer:?}` points at {}, not an array",
                    kind(other)
                )));
            }
        },
    };
    let hints = PriceHints {
        decimal_separator: cfg.decimal_separator,
        currency: cfg.currency,
    };
    let mut report = JsonApiReport::default();
    for (index, item) in items.iter().enumerate() {
        match read_item(item, cfg, hints) {
            Ok(l) => report.listings.push(l),
            Err(reason) => report.skipped.push(SkippedItem { index, reason }),
        }
    }
    if report.listings.is_empty() && !report.skipped.is_empty() {
        let n = report.skipped.len();
        let first = &report.skipped[0].reason;
        return Err(ScrapeError::Layout(if n == 1 {
            format!("json_api: the item is not usable: {first}")
        } else {
            format!("json_api: none of the {n} items is usable; item 0: {first}")
        }));
    }
    Ok(report)
}

fn read_item(item: &Value, cfg: &JsonApiConfig, hints: PriceHints) -> Result<Listing, String> {
    let key = match (&cfg.id_pointer, &cfg.item_key) {
        (Some(p), fixed) => match item.pointer(p) {
            Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(v) if fixed.is_none() => {
                return Err(format!(
                    "`id = {p:?}` is {}, not a string or number",
                    kind(v)
                ));
            }
            None if fixed.is_none() => return Err(format!("`id = {p:?}` is missing")),
            _ => fixed.clone().unwrap_or_default(),
        },
        (None, Some(fixed)) => fixed.clone(),
        (None, None) => return Err("no `id_pointer` and no `item_key`".into()),
    };
    let name = match (&cfg.name_pointer, &cfg.item_name) {
        (Some(p), fixed) => match item.pointer(p) {
            Some(Value::String(s)) if !s.trim().is_empty() => {
                s.split_whitespace().collect::<Vec<_>>().join(" ")
            }
            Some(Value::Number(n)) => n.to_string(),
            Some(v) if fixed.is_none() => {
                return Err(format!("`name = {p:?}` is {}, not a string", kind(v)));
            }
            None if fixed.is_none() => return Err(format!("`name = {p:?}` is missing")),
            _ => fixed.clone().unwrap_or_default(),
        },
        (None, Some(fixed)) => fixed.clone(),
        (None, None) => return Err("no `name_pointer` and no `item_name`".into()),
    };

    let p = &cfg.price;
    let (amount, text, text_currency) = match item.pointer(p) {
        None => return Err(format!("`price = {p:?}` is missing")),
        Some(Value::Number(n)) => {
            let text = n.to_string();
            let amount = strict_decimal(&text)
                .unwrap_or_else(|| Err(format!("{text} is not a number")))
                .map_err(|e| format!("`price = {p:?}`: {e}"))?;
            (amount, text, None)
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            let shown: String = s.chars().take(40).collect();
            match strict_decimal(s).filter(|_| hints.decimal_separator != Some(',')) {
                Some(r) => (r.map_err(|e| format!("`price = {p:?}`: {e}"))?, shown, None),
                None => {
                    if s.starts_with(['-', '−']) {
                        return Err(format!("`price = {p:?}` is negative ({shown:?})"));
                    }
                    let parsed = parse_price(s, hints);
                    let amount = parsed
                        .amount
                        .ok_or_else(|| format!("`price = {p:?}` is {shown:?}, not a price"))?;
                    if amount <= Decimal::ZERO {
                        return Err(format!("`price = {p:?}` is zero"));
                    }
                    (amount, shown, find_currency(s))
                }
            }
        }
        Some(v) => {
            return Err(format!(
                "`price = {p:?}` is {}, not a number or string",
                kind(v)
            ));
        }
    };

    let currency = match &cfg.currency_pointer {
        Some(cp) => match item.pointer(cp) {
            Some(Value::String(s)) => Some(currency_code(s).ok_or_else(|| {
                format!("`currency_pointer = {cp:?}` is {s:?}, not an ISO 4217 code")
            })?),
            Some(v) if !v.is_null() => {
                return Err(format!(
                    "`currency_pointer = {cp:?}` is {}, not a currency code",
                    kind(v)
                ));
            }
            _ => None,
        },
        None => None,
    }
    .or(cfg.currency)
    .or(text_currency)
    .ok_or_else(|| match &cfg.currency_pointer {
        Some(cp) => {
            format!("`currency_pointer = {cp:?}` is missing and no fixed `currency` is set")
        }
        None => "no currency: set `currency` or `currency_pointer`".into(),
    })?;

    Ok(Listing {
        key,
        name,
        price_text: Some(text),
        price: Some(Money::new(amount, currency)),
        ..Listing::default()
    })
}

fn currency_code(s: &str) -> Option<Currency> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("RUR") {
        return Currency::new("RUB").ok();
    }
    Currency::new(s).ok()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// " (top-level keys: a, b, c)" to help fix a wrong pointer.
fn top_keys(doc: &Value) -> String {
    match doc {
        Value::Object(o) if !o.is_empty() => {
            let keys: Vec<&str> = o.keys().take(12).map(String::as_str).collect();
            format!(" (top-level keys: {})", keys.join(", "))
        }
        other => format!(" (the document is {})", kind(other)),
    }
}
