//! schema.org values, shared by JSON-LD and microdata.

use rust_decimal::Decimal;
use serde_json::Value;
use std::collections::HashMap;

use super::MAX_OFFERS;
use super::decision::{Cand, Found};
use super::page::{PageInfo, clean};
use crate::domain::{Availability, Currency};
use crate::price::{PriceHints, choose_price_in_text, find_currency, strict_decimal};

pub(super) const PRODUCT_TYPES: &[&str] = &[
    "product",
    "productgroup",
    "individualproduct",
    "productmodel",
    "someproducts",
    "vehicle",
    "car",
    "motorcycle",
    "book",
];
pub(super) const OFFER_TYPES: &[&str] = &["offer", "aggregateoffer"];
pub(super) const PAGE_TYPES: &[&str] = &["webpage", "itempage", "productpage", "collectionpage"];

/// The normalised schema.org types of a node: `"Product"`,
/// `"http://schema.org/Product"` and `"schema:Product"` are all `product`.
fn types(v: &Value) -> Vec<String> {
    let norm = |s: &str| {
        s.rsplit(['/', ':', '#'])
            .next()
            .unwrap_or(s)
            .trim()
            .to_ascii_lowercase()
    };
    match v.get("@type") {
        Some(Value::String(s)) => s.split_whitespace().map(norm).collect(),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(norm).collect(),
        _ => Vec::new(),
    }
}

pub(super) fn has_type(v: &Value, set: &[&str]) -> bool {
    types(v).iter().any(|t| set.contains(&t.as_str()))
}

/// The first string a property holds (a string, or the first string of an array).
fn text_of(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Array(a) => a.iter().find_map(|x| text_of(Some(x))),
        _ => None,
    }
}

/// A thing's name: a string, or the `name` of an object (`{"@type":"Brand","name":…}`).
fn name_of(v: Option<&Value>, index: &IdIndex<'_>) -> Option<String> {
    let v = index.resolve(v?);
    let raw = match v {
        Value::Object(o) => text_of(o.get("name")),
        Value::Array(a) => a.iter().find_map(|x| name_of(Some(x), index)),
        other => text_of(Some(other)),
    }?;
    let c = clean(&raw);
    (!c.is_empty()).then_some(c)
}

/// An image: a URL string, an `ImageObject` (`url` / `contentUrl`), or the first of an array.
fn image_of(v: Option<&Value>, index: &IdIndex<'_>) -> Option<String> {
    let v = index.resolve(v?);
    match v {
        Value::String(s) => (!s.trim().is_empty()).then(|| s.trim().to_string()),
        Value::Object(o) => text_of(o.get("url"))
            .or_else(|| text_of(o.get("contentUrl")))
            .or_else(|| text_of(o.get("contentURL"))),
        Value::Array(a) => a.iter().find_map(|x| image_of(Some(x), index)),
        _ => None,
    }
}

/// `https://schema.org/InStock`, `InStock`, `in stock`, `oos`… mapped onto
/// three states. PreOrder, PreSale and BackOrder count as in stock: the
/// item can be ordered now at this price (it ships later). Discontinued,
/// SoldOut and Reserved count as out of stock.
pub fn parse_availability(s: &str) -> Option<Availability> {
    let last = s.trim().rsplit(['/', ':', '#']).next().unwrap_or("");
    let key: String = last
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    match key.as_str() {
        "instock"
        | "limitedavailability"
        | "onlineonly"
        | "instoreonly"
        | "preorder"
        | "presale"
        | "backorder"
        | "availablefororder"
        | "available"
        | "madetoorder" => Some(Availability::InStock),
        "outofstock" | "soldout" | "discontinued" | "oos" | "unavailable" | "notavailable"
        | "reserved" => Some(Availability::OutOfStock),
        _ => None,
    }
}

fn availability_of(v: Option<&Value>) -> Option<Availability> {
    match v? {
        Value::String(s) => parse_availability(s),
        Value::Array(a) => a.iter().find_map(|x| availability_of(Some(x))),
        Value::Object(o) => {
            availability_of(o.get("@id")).or_else(|| availability_of(o.get("name")))
        }
        _ => None,
    }
}

/// An ISO 4217 code as shops write it (`RUR` is the pre-1998 rouble code
/// many Russian shops still emit; a symbol is read by the price parser).
pub(super) fn currency_of(v: Option<&Value>) -> Option<Currency> {
    let s = text_of(v)?;
    let s = s.trim();
    if s.eq_ignore_ascii_case("RUR") {
        return Currency::new("RUB").ok();
    }
    Currency::new(s).ok().or_else(|| find_currency(s))
}

/// A price value: a JSON number or a string.
pub(super) struct Amount {
    pub(super) value: Decimal,
    pub(super) text: String,
    pub(super) currency: Option<Currency>,
    /// What the text reader ignored on the way, for the note.
    extra: Option<String>,
}

pub(super) fn amount_of(v: &Value, hints: PriceHints) -> Result<Amount, String> {
    match v {
        Value::Number(n) => {
            let text = n.to_string();
            let value =
                strict_decimal(&text).unwrap_or_else(|| Err(format!("{text} is not a number")))?;
            Ok(Amount {
                value,
                text,
                currency: None,
                extra: None,
            })
        }
        Value::String(s) => {
            let s = s.trim();
            if s.is_empty() {
                return Err("the price is empty".into());
            }
            let shown: String = s.chars().take(40).collect();
            if hints.decimal_separator != Some(',')
                && let Some(strict) = strict_decimal(s)
            {
                return strict.map(|value| Amount {
                    value,
                    text: shown,
                    currency: None,
                    extra: None,
                });
            }
            if s.starts_with(['-', '−']) {
                return Err(format!("{shown:?} is negative"));
            }
            let pick = choose_price_in_text(s, hints);
            match pick.amount {
                Some(value) => Ok(Amount {
                    value,
                    text: shown,
                    currency: pick.currency,
                    extra: (!pick.ignored.is_empty())
                        .then(|| format!("ignored: {}", pick.ignored.join(", "))),
                }),
                None => Err(format!("{shown:?} is not a price")),
            }
        }
        Value::Array(a) if a.len() == 1 => amount_of(&a[0], hints),
        Value::Null => Err("the price is null".into()),
        _ => Err("the price is neither a number nor a string".into()),
    }
}

/// `@id` → node, for the top-level nodes of a layer.
#[derive(Default)]
pub(super) struct IdIndex<'a> {
    by_id: HashMap<&'a str, &'a Value>,
}

impl<'a> IdIndex<'a> {
    pub(super) fn add(&mut self, v: &'a Value) {
        if let Some(id) = v.get("@id").and_then(Value::as_str) {
            self.by_id.entry(id).or_insert(v);
        }
    }

    /// `{"@id": "…#product"}` (a reference) → the node it names; anything else unchanged.
    fn resolve<'b>(&self, v: &'b Value) -> &'b Value
    where
        'a: 'b,
    {
        if let Value::Object(o) = v
            && o.len() <= 2
            && o.keys().all(|k| k == "@id" || k == "@type")
            && let Some(id) = o.get("@id").and_then(Value::as_str)
            && let Some(found) = self.by_id.get(id)
        {
            return found;
        }
        v
    }
}

/// A top-level node of a layer and whether its markup sits in a related-products block.
pub(super) struct TopNode<'a> {
    pub(super) value: &'a Value,
    pub(super) related: bool,
}

/// Picks the main product among a layer's top-level nodes (see the module docs).
pub(super) fn main_product<'a>(
    layer: &'static str,
    nodes: &[TopNode<'a>],
    index: &IdIndex<'a>,
    page: &PageInfo,
    hints: PriceHints,
) -> (Option<Found>, usize) {
    struct Candidate<'a> {
        value: &'a Value,
        related: bool,
        main_entity: bool,
    }
    let mut cands: Vec<Candidate<'a>> = Vec::new();
    let mut main_entities: Vec<&'a Value> = Vec::new();
    for n in nodes {
        if has_type(n.value, PAGE_TYPES)
            && let Some(me) = n.value.get("mainEntity")
        {
            let me = index.resolve(me);
            if has_type(me, PRODUCT_TYPES) {
                main_entities.push(me);
                if !nodes.iter().any(|m| std::ptr::eq(m.value, me)) {
                    cands.push(Candidate {
                        value: me,
                        related: n.related,
                        main_entity: true,
                    });
                }
            }
        }
    }
    for n in nodes {
        if has_type(n.value, PRODUCT_TYPES) {
            cands.push(Candidate {
                value: n.value,
                related: n.related,
                main_entity: main_entities.iter().any(|m| std::ptr::eq(*m, n.value)),
            });
        }
    }
    let related = cands.iter().filter(|c| c.related).count();
    cands.retain(|c| !c.related);

    let names_page = |v: &Value| {
        ["url", "@id"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(Value::as_str))
            .any(|u| page.is_this_page(u))
    };
    let same_name = |v: &Value| {
        let h1 = page.h1.as_deref().map(str::to_lowercase);
        h1.is_some() && name_of(v.get("name"), index).map(|n| n.to_lowercase()) == h1
    };
    let total = cands.len();
    let chosen: Option<(&Value, &str)> = cands
        .iter()
        .find(|c| names_page(c.value))
        .map(|c| (c.value, "the one whose url matches the page"))
        .or_else(|| {
            cands
                .iter()
                .find(|c| c.main_entity)
                .map(|c| (c.value, "the WebPage's mainEntity"))
        })
        .or_else(|| {
            cands
                .iter()
                .find(|c| same_name(c.value))
                .map(|c| (c.value, "the one named like the page's <h1>"))
        })
        .or_else(|| {
            cands
                .first()
                .map(|c| (c.value, "the first one on the page"))
        });

    if let Some((product, rule)) = chosen {
        let kind = types(product).first().cloned().unwrap_or_default();
        let mut found = found_from_product(layer, product, index, hints);
        found.kind = schema_name(&kind);
        if total > 1 || related > 0 {
            found.how = Some(format!(
                "main product: {rule} among {total} {layer} product{}{}",
                if total == 1 { "" } else { "s" },
                if related > 0 {
                    format!(", {related} in related-product blocks ignored")
                } else {
                    String::new()
                }
            ));
        }
        return (Some(found), related);
    }

    // No product: a standalone top-level Offer (offers sometimes come without one).
    let offer = nodes
        .iter()
        .find(|n| !n.related && has_type(n.value, OFFER_TYPES))
        .map(|n| n.value);
    if let Some(offer) = offer {
        let mut found = Found {
            layer,
            kind: schema_name(&types(offer).first().cloned().unwrap_or_default()),
            how: None,
            name: name_of(offer.get("itemOffered"), index)
                .or_else(|| name_of(offer.get("name"), index)),
            image: image_of(offer.get("image"), index),
            brand: None,
            url: text_of(offer.get("url")),
            offers: Vec::new(),
        };
        offers_from(offer, index, hints, 0, &mut found.offers);
        return (Some(found), related);
    }
    (None, related)
}

/// `product` → `Product` for notes.
fn schema_name(lower: &str) -> String {
    const NAMES: &[&str] = &[
        "Product",
        "ProductGroup",
        "IndividualProduct",
        "ProductModel",
        "SomeProducts",
        "Vehicle",
        "Car",
        "Motorcycle",
        "Book",
        "Offer",
        "AggregateOffer",
    ];
    NAMES
        .iter()
        .find(|n| n.eq_ignore_ascii_case(lower))
        .map(|n| n.to_string())
        .unwrap_or_else(|| "Product".into())
}

fn found_from_product(
    layer: &'static str,
    product: &Value,
    index: &IdIndex<'_>,
    hints: PriceHints,
) -> Found {
    let mut offers = Vec::new();
    if let Some(o) = product.get("offers") {
        for offer in as_list(o).take(MAX_OFFERS) {
            offers_from(index.resolve(offer), index, hints, 0, &mut offers);
        }
    }
    // Sloppy markup: the price right on the product.
    if offers.is_empty() && (product.get("price").is_some() || product.get("lowPrice").is_some()) {
        offers_from(product, index, hints, 0, &mut offers);
        for c in &mut offers {
            c.what = c
                .what
                .replace("AggregateOffer", "Product")
                .replace("Offer", "Product");
        }
    }
    // A product sold in variants: the group's offers are its variants' offers.
    if offers.is_empty()
        && let Some(variants) = product.get("hasVariant")
    {
        for v in as_list(variants).take(MAX_OFFERS) {
            let v = index.resolve(v);
            let before = offers.len();
            for offer in v
                .get("offers")
                .map(as_list)
                .into_iter()
                .flatten()
                .take(MAX_OFFERS)
            {
                offers_from(index.resolve(offer), index, hints, 0, &mut offers);
            }
            for c in &mut offers[before..] {
                c.what = format!("variant {}", c.what);
            }
        }
    }
    Found {
        layer,
        kind: "Product".into(),
        how: None,
        name: name_of(product.get("name"), index),
        image: image_of(product.get("image"), index),
        brand: name_of(product.get("brand"), index)
            .or_else(|| name_of(product.get("manufacturer"), index)),
        url: text_of(product.get("url")),
        offers,
    }
}

fn as_list(v: &Value) -> Box<dyn Iterator<Item = &Value> + '_> {
    match v {
        Value::Array(a) => Box::new(a.iter()),
        other => Box::new(std::iter::once(other)),
    }
}

/// The price candidates of one offer (an `AggregateOffer` may nest offers).
fn offers_from(
    offer: &Value,
    index: &IdIndex<'_>,
    hints: PriceHints,
    depth: usize,
    out: &mut Vec<Cand>,
) {
    if !offer.is_object() || out.len() >= MAX_OFFERS {
        return;
    }
    let availability = availability_of(offer.get("availability"));
    let currency = currency_of(offer.get("priceCurrency"));
    let is_aggregate = types(offer).iter().any(|t| t == "aggregateoffer");

    let with_amount = |what: &str, v: &Value, currency: Option<Currency>| -> Cand {
        let mut c = Cand::new(what);
        c.availability = availability;
        c.currency = currency;
        match amount_of(v, hints) {
            Ok(a) => {
                c.amount = Some(a.value);
                c.text = Some(a.text);
                c.currency = currency.or(a.currency);
                c.extra = a.extra;
            }
            Err(p) => {
                c.text = text_of(Some(v));
                c.problem = Some(p);
            }
        }
        c
    };

    if is_aggregate || offer.get("lowPrice").is_some() {
        if let Some(low) = offer.get("lowPrice") {
            let mut c = with_amount("AggregateOffer lowPrice", low, currency);
            if c.amount.is_some() {
                let count = text_of(offer.get("offerCount"));
                let high = offer
                    .get("highPrice")
                    .and_then(|h| amount_of(h, hints).ok());
                let mut range = Vec::new();
                if let Some(n) = count {
                    range.push(format!("{n} offers"));
                }
                if let Some(h) = high {
                    range.push(format!("highPrice {} ignored", h.value));
                }
                if !range.is_empty() {
                    c.extra = Some(range.join(", "));
                }
                out.push(c);
                return;
            }
        }
        if let Some(p) = offer.get("price") {
            let c = with_amount("AggregateOffer price", p, currency);
            if c.amount.is_some() {
                out.push(c);
                return;
            }
        }
        if depth < 2
            && let Some(nested) = offer.get("offers")
        {
            let before = out.len();
            for o in as_list(nested).take(MAX_OFFERS) {
                offers_from(index.resolve(o), index, hints, depth + 1, out);
            }
            if out.len() > before {
                return;
            }
        }
        let mut c = Cand::new("AggregateOffer");
        c.availability = availability;
        c.currency = currency;
        out.push(c);
        return;
    }

    let mut problem = None;
    if let Some(p) = offer.get("price") {
        let c = with_amount("Offer price", p, currency);
        if c.amount.is_some() {
            out.push(c);
            return;
        }
        problem = c.problem;
    }
    if let Some(spec) = price_specification(offer.get("priceSpecification"), index, hints, currency)
    {
        let mut c = spec;
        c.availability = availability;
        out.push(c);
        return;
    }
    let mut c = Cand::new("Offer");
    c.availability = availability;
    c.currency = currency;
    c.problem = problem;
    out.push(c);
}

/// The selling price among an offer's `priceSpecification`s: not a list,
/// strikethrough or recommended price, not an instalment, fee or delivery
/// charge; a plain one before a unit price (per kg, per 100 ml).
fn price_specification(
    v: Option<&Value>,
    index: &IdIndex<'_>,
    hints: PriceHints,
    offer_currency: Option<Currency>,
) -> Option<Cand> {
    const NOT_SELLING: &[&str] = &[
        "listprice",
        "strikethroughprice",
        "srp",
        "msrp",
        "invoiceprice",
        "minimumadvertisedprice",
    ];
    let mut best: Option<(bool, Cand)> = None;
    let mut skipped = Vec::new();
    for spec in as_list(v?).take(MAX_OFFERS) {
        let spec = index.resolve(spec);
        if !spec.is_object() {
            continue;
        }
        let t = types(spec);
        if t.iter()
            .any(|t| t == "deliverychargespecification" || t == "paymentchargespecification")
        {
            continue;
        }
        let price_type = text_of(spec.get("priceType")).map(|p| {
            p.rsplit(['/', ':', '#'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase()
        });
        if let Some(pt) = &price_type
            && NOT_SELLING.contains(&pt.as_str())
        {
            if let Some(p) = text_of(spec.get("price")) {
                skipped.push(format!("{} {p}", schema_price_type(pt)));
            }
            continue;
        }
        if spec.get("priceComponentType").is_some()
            || spec.get("billingDuration").is_some()
            || spec.get("billingIncrement").is_some()
        {
            continue;
        }
        let Some(price) = spec.get("price").or_else(|| spec.get("minPrice")) else {
            continue;
        };
        let Ok(a) = amount_of(price, hints) else {
            continue;
        };
        let unit = spec.get("referenceQuantity").is_some();
        let mut c = Cand::new("Offer priceSpecification");
        c.amount = Some(a.value);
        c.text = Some(a.text);
        c.currency = currency_of(spec.get("priceCurrency"))
            .or(offer_currency)
            .or(a.currency);
        let better = match &best {
            None => true,
            Some((best_unit, _)) => *best_unit && !unit,
        };
        if better {
            best = Some((unit, c));
        }
    }
    let (_, mut c) = best?;
    if !skipped.is_empty() {
        c.extra = Some(format!("ignored: {}", skipped.join(", ")));
    }
    Some(c)
}

fn schema_price_type(lower: &str) -> &'static str {
    match lower {
        "listprice" => "ListPrice",
        "strikethroughprice" => "StrikethroughPrice",
        "srp" => "SRP",
        "msrp" => "MSRP",
        "invoiceprice" => "InvoicePrice",
        _ => "MinimumAdvertisedPrice",
    }
}
