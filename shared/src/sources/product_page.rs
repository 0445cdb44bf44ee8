//! One product page: its price, availability, name, image and brand.
//!
//! # Where the price comes from
//!
//! Three layers of structured data are read, in this order:
//!
//! 1. **JSON-LD** (`<script type="application/ld+json">`): schema.org
//!    `Product` (and `ProductGroup`, `IndividualProduct`, `ProductModel`,
//!    `Vehicle`, `Car`, `Book`) with `offers` (an object or an array of
//!    `Offer` / `AggregateOffer`); `@graph` documents, top-level arrays and
//!    `@type` written as a string, an array or a full URL all work.
//!    Malformed blocks are skipped and counted; the others are still used.
//! 2. **Microdata** (`itemscope itemtype=".../Product"` with `itemprop`s),
//!    read into the same shape as JSON-LD and handled by the same code.
//! 3. **OpenGraph** meta tags: `product:price:amount` / `product:price:currency`
//!    (and Shopify's `og:price:*`, and `product:sale_price:*`, which wins
//!    over the regular price), `og:availability` / `product:availability`.
//!
//! The first layer that says anything about the offer decides. A layer that
//! gives a price decides price and availability. A layer whose offer is out
//! of stock and gives no price decides too: the listing has no price, and no
//! later layer is asked for one (that is how a related product's price
//! would sneak in). A layer that is in stock but priceless lets the later
//! layers supply the price, keeping its availability.
//!
//! `price_selector` (CSS, optionally `css@attr`) overrides all of them; the
//! structured data still supplies the currency when the text names none,
//! and the availability. Its text is read by [`choose_price_in_text`], which
//! ignores struck-through and "was" prices, shipping thresholds ("free
//! shipping over 50 €"), instalments ("4 x 25 €", "from 12 €/month"),
//! savings and percentages. A selector that matches nothing is a layout
//! error, unless the page says the product is out of stock.
//! `availability_selector` overrides the availability: its text with one
//! of `out_of_stock_words` is out of stock, any other text in stock.
//!
//! Availability values (`https://schema.org/InStock`, `InStock`, `in
//! stock`, `oos`…) map onto three states, see [`parse_availability`]:
//! PreOrder, PreSale and BackOrder count as in stock (orderable now at this
//! price), SoldOut, Discontinued and Reserved as out of stock.
//!
//! # The page's main product
//!
//! Related products appear as other `Product` nodes (separate JSON-LD
//! blocks, carousel cards with their own markup). Only the main product is
//! used, chosen among the *top-level* products of a layer (products nested
//! inside another node, e.g. an `ItemList`, are never candidates; a page's
//! `WebPage.mainEntity` is):
//!
//! - products whose markup sits inside an element whose class or id says
//!   related / similar / carousel / upsell / cross-sell / recommended /
//!   recently viewed are dropped;
//! - then the first product whose `url` or `@id` has the page's path (the
//!   page URL, its canonical link or `og:url`; the host is ignored so a
//!   recorded page served elsewhere still matches);
//! - else the `mainEntity` of a `WebPage`;
//! - else the product whose name is the page's `<h1>`;
//! - else the first remaining product in document order.
//!
//! # Several offers
//!
//! An `AggregateOffer` gives its `lowPrice`. Among several offers: offers in
//! the configured currency (else the first offer's currency) only; in-stock
//! offers first, then offers that say nothing, then out-of-stock ones; the
//! lowest price of that pool, the first one on a tie. `Listing.note` says
//! which rule chose the price and what was ignored.
//!
//! In an `Offer`, `price` wins; without it, `priceSpecification` is read,
//! skipping specifications with `priceType` ListPrice / StrikethroughPrice /
//! SRP / MSRP / InvoicePrice / MinimumAdvertisedPrice, instalment and fee
//! components (`priceComponentType`, `billingDuration`), and
//! delivery or payment charges; `OfferShippingDetails` is never read.
//!
//! # Amounts
//!
//! A JSON number becomes an exact decimal from its text, never through
//! float arithmetic: integers up to 64 bits are exact, and for the others
//! serde_json prints the shortest text that reads back as the same `f64`,
//! so `2650.31` stays `2650.31`. The limit: serde_json parses a number with
//! a fraction or exponent (or beyond 64 bits) as an `f64` first, so one with
//! more than about 17 significant digits has already lost digits, and one
//! beyond `f64` (`1e400`) makes serde_json reject the whole block. A
//! string that is a plain number (`"34990.00"`) is read the schema.org way,
//! `.` as the decimal point, unless the source sets `decimal_separator =
//! ","`; any other string (`"1,299.00"`, `"от 2 990 ₽"`) goes through the
//! price parser. Zero, negative, `NaN` and out-of-range prices are no price.
//! The legacy code `RUR`, common on Russian shops, is read as `RUB`.
//!
//! # Identity
//!
//! `Listing.key` is the canonical link, else `og:url`, else the page URL
//! (without fragment); a canonical link to the home page is ignored (shops
//! that put it on every page exist). `details.url` is the product's own
//! `url`, else the key. All URLs are made absolute against the page (or its
//! `<base href>`), and only http(s) URLs are kept.
//!
//! # Hostile input
//!
//! Nothing panics: serde_json refuses nesting deeper than 128 (the block is
//! skipped), blocks over 5 MiB are skipped, bogus types are ignored, every
//! walk over the document is iterative and bounded (blocks, nodes, scopes,
//! offers, elements visited). A page nesting more than 4,000 block elements
//! is refused before parsing, because the HTML tree builder's time grows
//! with the square of that depth.

use rust_decimal::Decimal;
use scraper::{ElementRef, Html, Node, Selector};
use serde_json::Value;
use std::collections::HashMap;
use std::str::FromStr;
use url::Url;

use super::config::ProductPageConfig;
use super::css::Css;
use super::listing::Listing;
use super::{ScrapeError, html_guard};
use crate::domain::{Availability, Currency, ItemDetails, Money};
use crate::price::{PriceHints, find_currency, parse_amount};

/// JSON-LD blocks larger than this are skipped (the fetcher caps pages at 5 MiB anyway).
const MAX_BLOCK_BYTES: usize = 5 * 1024 * 1024;
/// At most this many JSON-LD blocks, top-level nodes, microdata scopes and offers are looked at.
const MAX_BLOCKS: usize = 100;
const MAX_NODES: usize = 5_000;
const MAX_SCOPES: usize = 2_000;
const MAX_OFFERS: usize = 1_000;
/// How far up the tree a "related products" container is looked for.
const MAX_ANCESTORS: usize = 64;
/// Names, brands and price texts longer than this are cut.
const MAX_TEXT: usize = 300;

/// Reads the product on a page fetched from `page_url`.
pub fn extract(
    html: &str,
    page_url: &Url,
    cfg: &ProductPageConfig,
) -> Result<Listing, ScrapeError> {
    let doc = html_guard::parse_document(html)?;
    let page = PageInfo::read(&doc, page_url);
    let hints = PriceHints {
        decimal_separator: cfg.decimal_separator,
        currency: cfg.currency,
    };

    let mut jsonld = JsonLd::read(&doc);
    let mut micro = Microdata::read(&doc);
    let found_jsonld = jsonld.main_product(&page, hints);
    let found_micro = micro.main_product(&page, hints);
    let found_og = opengraph(&page, hints);
    let layers: Vec<&Found> = [&found_jsonld, &found_micro, &found_og]
        .into_iter()
        .flatten()
        .collect();

    if layers.is_empty() && cfg.price_selector.is_none() {
        return Err(ScrapeError::Layout(nothing_found_message(&jsonld, &micro)));
    }

    // The structured decision: the first layer that says anything about the offer.
    let mut decision: Option<Decision> = None;
    let mut priceless: Option<Decision> = None;
    for found in &layers {
        let Some(d) = decide(found, cfg.currency) else {
            continue;
        };
        if d.price.is_some() {
            decision = Some(match priceless.take() {
                Some(first) => merge_priceless(first, d),
                None => d,
            });
            break;
        }
        if d.availability == Availability::OutOfStock {
            decision = Some(d);
            break;
        }
        if priceless.is_none() {
            priceless = Some(d);
        }
    }
    let mut decision = decision.or(priceless);

    // Availability from its selector: present text without an out-of-stock word is in stock.
    let selected_availability = cfg
        .availability_selector
        .as_ref()
        .and_then(|css| css.value(doc.root_element(), None))
        .map(|text| {
            let lower = text.to_lowercase();
            let out = cfg
                .out_of_stock_words
                .iter()
                .any(|w| !w.is_empty() && lower.contains(&w.to_lowercase()));
            if out {
                Availability::OutOfStock
            } else {
                Availability::InStock
            }
        });

    // The selector override.
    if let Some(css) = &cfg.price_selector {
        let structured_currency = decision.as_ref().and_then(|d| d.currency);
        let text_hints = PriceHints {
            decimal_separator: cfg.decimal_separator,
            currency: cfg.currency.or(structured_currency),
        };
        let availability = selected_availability
            .or(decision.as_ref().map(|d| d.availability))
            .unwrap_or_default();
        let mut chosen = selector_decision(&doc, css, text_hints, availability, &page)?;
        if let Some(d) = &decision
            && let Some(p) = &d.price
        {
            chosen.note = format!("{}; overrides the {} of {p}", chosen.note, d.note);
        }
        decision = Some(chosen);
    }

    let mut decision = decision.unwrap_or_else(|| Decision {
        price: None,
        currency: None,
        price_text: None,
        availability: Availability::Unknown,
        note: format!(
            "{} gives no offer (no price, no availability)",
            layers
                .iter()
                .map(|f| format!("{} {}", f.layer, f.kind))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    });

    if let Some(a) = selected_availability {
        decision.availability = a;
    }

    let name = cfg
        .name_selector
        .as_ref()
        .and_then(|css| css.value(doc.root_element(), None))
        .map(|n| clean(&n))
        .or_else(|| layers.iter().find_map(|f| f.name.clone()))
        .or_else(|| {
            page.meta_value("og:title")
                .map(clean)
                .filter(|s| !s.is_empty())
        })
        .or_else(|| page.title.clone())
        .unwrap_or_default();

    // A canonical link to the home page (a common misconfiguration) is not this product's.
    let not_home = |u: &Url| u.path() != "/" || page.url.path() == "/";
    let key = [page.canonical.clone(), page.og_url.clone()]
        .into_iter()
        .flatten()
        .find(not_home)
        .unwrap_or_else(|| page.url.clone());
    let details = ItemDetails {
        url: layers
            .iter()
            .find_map(|f| f.url.as_deref().and_then(|u| page.absolute(u)))
            .or_else(|| Some(key.to_string())),
        image: layers
            .iter()
            .find_map(|f| f.image.as_deref().and_then(|u| page.absolute(u))),
        brand: layers.iter().find_map(|f| f.brand.clone()),
    };

    let mut note = decision.note;
    if let Some(how) = layers.iter().find_map(|f| f.how.clone()) {
        note = format!("{note}; {how}");
    }
    Ok(Listing {
        key: key.to_string(),
        name: if name.is_empty() {
            key.to_string()
        } else {
            name
        },
        price_text: decision.price_text,
        price: decision.price,
        availability: decision.availability,
        details,
        note: Some(note),
    })
}

/// The error for a page with no product data at all: what was tried.
fn nothing_found_message(jsonld: &JsonLd, micro: &Microdata) -> String {
    let mut tried = vec![format!(
        "no schema.org Product or Offer in JSON-LD ({} block{}{})",
        jsonld.blocks.len() + jsonld.malformed,
        if jsonld.blocks.len() + jsonld.malformed == 1 {
            ""
        } else {
            "s"
        },
        if jsonld.malformed > 0 {
            format!(", {} malformed and skipped", jsonld.malformed)
        } else {
            String::new()
        }
    )];
    tried.push(format!(
        "none in microdata ({} itemscope element{})",
        micro.scopes_seen,
        if micro.scopes_seen == 1 { "" } else { "s" }
    ));
    tried.push(
        "no OpenGraph product tags (product:price:amount, og:price:amount, product:availability, og:type=product)"
            .into(),
    );
    let related = jsonld.related_products + micro.related_products;
    let related = if related > 0 {
        format!(" ({related} product(s) in related-product blocks were not used)")
    } else {
        String::new()
    };
    format!(
        "no product data on the page: {}{related}; set `price_selector` to read the price from the page's text",
        tried.join(", ")
    )
}

/// When a layer said "in stock" but gave no price and a later one gave the
/// price: the price from the later one, the availability from the first.
fn merge_priceless(first: Decision, priced: Decision) -> Decision {
    let availability = if priced.availability == Availability::Unknown {
        first.availability
    } else {
        priced.availability
    };
    Decision {
        availability,
        note: format!("{}; {}", priced.note, first.note),
        ..priced
    }
}

// ---------------------------------------------------------------------------
// The page itself: URLs, titles, meta tags.

struct PageInfo {
    /// The page URL without its fragment.
    url: Url,
    /// What relative URLs resolve against: `<base href>` or the page URL.
    base: Url,
    canonical: Option<Url>,
    og_url: Option<Url>,
    /// `meta[property]` / `meta[name]` (lowercased) → content, in page order.
    meta: Vec<(String, String)>,
    h1: Option<String>,
    title: Option<String>,
}

impl PageInfo {
    fn read(doc: &Html, page_url: &Url) -> Self {
        let mut url = page_url.clone();
        url.set_fragment(None);
        let base = first(doc, "base[href]")
            .and_then(|b| b.value().attr("href"))
            .and_then(|h| url.join(h.trim()).ok())
            .filter(is_http)
            .unwrap_or_else(|| url.clone());
        let mut info = PageInfo {
            url,
            base,
            canonical: None,
            og_url: None,
            meta: Vec::new(),
            h1: first(doc, "h1")
                .map(|h| clean(&h.text().collect::<String>()))
                .filter(|s| !s.is_empty()),
            title: first(doc, "title")
                .map(|t| clean(&t.text().collect::<String>()))
                .filter(|s| !s.is_empty()),
        };
        if let Ok(sel) = Selector::parse("link[rel][href]") {
            info.canonical = doc
                .select(&sel)
                .find(|l| {
                    l.value().attr("rel").is_some_and(|r| {
                        r.split_whitespace()
                            .any(|t| t.eq_ignore_ascii_case("canonical"))
                    })
                })
                .and_then(|l| l.value().attr("href"))
                .and_then(|h| info.absolute_url(h));
        }
        if let Ok(sel) = Selector::parse("meta[content]") {
            for m in doc.select(&sel).take(MAX_NODES) {
                let key = m
                    .value()
                    .attr("property")
                    .or_else(|| m.value().attr("name"));
                if let (Some(key), Some(content)) = (key, m.value().attr("content")) {
                    info.meta
                        .push((key.trim().to_ascii_lowercase(), content.trim().to_string()));
                }
            }
        }
        info.og_url = info.meta_value("og:url").and_then(|u| info.absolute_url(u));
        info
    }

    fn meta_value(&self, key: &str) -> Option<&str> {
        self.meta_values(key).next()
    }

    fn meta_values<'a, 'k>(&'a self, key: &'k str) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
        self.meta
            .iter()
            .filter(move |(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }

    /// `raw` made absolute against the page, if it is an http(s) URL.
    fn absolute_url(&self, raw: &str) -> Option<Url> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 4096 {
            return None;
        }
        let mut u = self.base.join(raw).ok().filter(is_http)?;
        u.set_fragment(None);
        Some(u)
    }

    fn absolute(&self, raw: &str) -> Option<String> {
        self.absolute_url(&decode_entities(raw)).map(String::from)
    }

    /// Whether `raw` (a product's `url` or `@id`) names this page: same
    /// path as the page URL, its canonical link or `og:url`. Hosts are not
    /// compared, so a recorded page served from another host still matches.
    fn is_this_page(&self, raw: &str) -> bool {
        let Some(u) = self.absolute_url(raw) else {
            return false;
        };
        let path = norm_path(&u);
        let page_path = norm_path(&self.url);
        [
            Some(&self.url),
            self.canonical.as_ref(),
            self.og_url.as_ref(),
        ]
        .into_iter()
        .flatten()
        .map(norm_path)
        // A canonical link to the home page names no product.
        .filter(|p| p != "/" || page_path == "/")
        .any(|p| p == path)
    }
}

fn norm_path(u: &Url) -> String {
    let p = u.path().trim_end_matches('/').to_lowercase();
    if p.is_empty() { "/".into() } else { p }
}

fn is_http(u: &Url) -> bool {
    matches!(u.scheme(), "http" | "https") && u.host().is_some()
}

fn first<'a>(doc: &'a Html, css: &str) -> Option<ElementRef<'a>> {
    let sel = Selector::parse(css).ok()?;
    doc.select(&sel).next()
}

/// Whitespace collapsed, HTML entities decoded, cut at [`MAX_TEXT`] characters.
fn clean(s: &str) -> String {
    let s = decode_entities(s);
    let collapsed = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > MAX_TEXT {
        collapsed
            .chars()
            .take(MAX_TEXT)
            .collect::<String>()
            .trim_end()
            .to_string()
    } else {
        collapsed
    }
}

/// Decodes the entities shops leave in JSON-LD strings (`&amp;`, `&#8211;`).
fn decode_entities(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        // Searched as bytes: the 12-byte window may end inside a multi-byte
        // character, and `;` is ASCII, so its position is always a boundary.
        let end = rest.as_bytes()[..rest.len().min(12)]
            .iter()
            .position(|&b| b == b';');
        let decoded = end.and_then(|e| {
            let name = &rest[1..e];
            let c = match name {
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "nbsp" => Some('\u{a0}'),
                _ => {
                    let num = name.strip_prefix('#')?;
                    let code = match num.strip_prefix(['x', 'X']) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                        None => num.parse().ok()?,
                    };
                    char::from_u32(code)
                }
            }?;
            Some((c, e + 1))
        });
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `el` sits inside a related-products block (carousel, "you may
/// also like", recently viewed), judged by the class and id of its ancestors.
fn in_related_block(el: ElementRef<'_>) -> bool {
    const MARKS: &[&str] = &[
        "related",
        "similar",
        "carousel",
        "upsell",
        "up-sell",
        "crosssell",
        "cross-sell",
        "cross_sell",
        "recommend",
        "recently",
        "viewed",
        "alsobought",
        "also-bought",
        "bought-together",
        "also-like",
    ];
    el.ancestors().take(MAX_ANCESTORS).any(|node| {
        let Some(e) = ElementRef::wrap(node) else {
            return false;
        };
        // Page-wide classes on <body> say nothing about one block.
        if matches!(e.value().name(), "body" | "html") {
            return false;
        }
        let attrs = [e.value().attr("class"), e.value().attr("id")];
        attrs.into_iter().flatten().any(|a| {
            a.split_whitespace().any(|token| {
                let t = token.to_ascii_lowercase();
                MARKS.iter().any(|m| t.contains(m))
            })
        })
    })
}

// ---------------------------------------------------------------------------
// What a layer found about the main product, and the decision it leads to.

/// The main product as one layer describes it.
struct Found {
    layer: &'static str,
    /// The product's type as written ("Product", "Offer", "product tags").
    kind: String,
    /// How the main product was told apart from others, when there were several.
    how: Option<String>,
    name: Option<String>,
    image: Option<String>,
    brand: Option<String>,
    url: Option<String>,
    offers: Vec<Cand>,
}

/// One price a layer offers.
#[derive(Debug, Clone)]
struct Cand {
    /// "Offer price", "AggregateOffer lowPrice", "product:price:amount"...
    what: String,
    amount: Option<Decimal>,
    /// The price as written.
    text: Option<String>,
    currency: Option<Currency>,
    availability: Option<Availability>,
    /// Why a price that was there is not usable.
    problem: Option<String>,
    /// Said in the note when this candidate is chosen (a range, ignored text).
    extra: Option<String>,
}

impl Cand {
    fn new(what: impl Into<String>) -> Self {
        Cand {
            what: what.into(),
            amount: None,
            text: None,
            currency: None,
            availability: None,
            problem: None,
            extra: None,
        }
    }

    fn says_something(&self) -> bool {
        self.amount.is_some() || self.availability.is_some() || self.problem.is_some()
    }
}

struct Decision {
    price: Option<Money>,
    /// The currency the structured data names, even when no price was usable.
    currency: Option<Currency>,
    price_text: Option<String>,
    availability: Availability,
    note: String,
}

/// Decides the price one layer gives; None when it says nothing about an offer.
fn decide(found: &Found, default_currency: Option<Currency>) -> Option<Decision> {
    let cands: Vec<&Cand> = found.offers.iter().filter(|c| c.says_something()).collect();
    if cands.is_empty() {
        return None;
    }
    let layer = found.layer;
    let named_currency = cands.iter().find_map(|c| c.currency);
    let mut priced: Vec<(usize, Money)> = Vec::new();
    let mut no_currency = 0usize;
    for (i, c) in cands.iter().enumerate() {
        if let Some(a) = c.amount {
            match c.currency.or(default_currency) {
                Some(cur) => priced.push((i, Money::new(a, cur))),
                None => no_currency += 1,
            }
        }
    }
    let without_price = cands.iter().filter(|c| c.amount.is_none()).count();

    if priced.is_empty() {
        let availability = overall_availability(cands.iter().map(|c| c.availability));
        let first_text = cands.iter().find_map(|c| c.text.clone());
        let note = if no_currency > 0 {
            format!(
                "{layer} {} {} names no currency; set `currency` for this source",
                cands[0].what,
                first_text.as_deref().unwrap_or("")
            )
        } else if availability == Availability::OutOfStock {
            format!("{layer} {}: out of stock, no price given", found.kind)
        } else if let Some(p) = cands.iter().find_map(|c| c.problem.as_deref()) {
            format!("{layer} {}: no usable price ({p})", found.kind)
        } else {
            format!(
                "{layer} {}: {} but no price",
                found.kind,
                availability.as_str()
            )
        };
        return Some(Decision {
            price: None,
            currency: named_currency.or(default_currency),
            price_text: first_text,
            availability,
            note,
        });
    }

    // One currency: the configured one if offered, else the first offer's.
    let currency = default_currency
        .filter(|d| priced.iter().any(|(_, m)| m.currency == *d))
        .unwrap_or(priced[0].1.currency);
    let same: Vec<&(usize, Money)> = priced
        .iter()
        .filter(|(_, m)| m.currency == currency)
        .collect();
    let other_currency = priced.len() - same.len();
    let avail = |i: usize| cands[i].availability.unwrap_or(Availability::Unknown);
    let in_stock: Vec<_> = same
        .iter()
        .copied()
        .filter(|(i, _)| avail(*i) == Availability::InStock)
        .collect();
    let unknown: Vec<_> = same
        .iter()
        .copied()
        .filter(|(i, _)| avail(*i) == Availability::Unknown)
        .collect();
    let (pool, pool_word) = if !in_stock.is_empty() {
        (in_stock, "in-stock ")
    } else if !unknown.is_empty() {
        (unknown, "")
    } else {
        (same.clone(), "out-of-stock ")
    };
    let (best_i, best) = pool
        .iter()
        .min_by(|a, b| a.1.amount.cmp(&b.1.amount).then(a.0.cmp(&b.0)))
        .map(|(i, m)| (*i, m.clone()))
        .expect("the pool is never empty: `same` holds the chosen currency's offers");
    let chosen = cands[best_i];

    let mut reasons = Vec::new();
    if pool.len() > 1 {
        reasons.push(format!(
            "lowest of {} {pool_word}offers in {currency}",
            pool.len()
        ));
    } else if same.len() > 1 {
        reasons.push(format!("the only {pool_word}offer in {currency}"));
    }
    let set_aside = same.len() - pool.len();
    if set_aside > 0 {
        let what = if pool_word == "in-stock " {
            "not in stock"
        } else {
            "out of stock"
        };
        reasons.push(format!(
            "{set_aside} offer{} {what} ignored",
            if set_aside == 1 { "" } else { "s" }
        ));
    }
    if other_currency > 0 {
        reasons.push(format!(
            "{other_currency} offer{} in other currencies ignored",
            if other_currency == 1 { "" } else { "s" }
        ));
    }
    if without_price > 0 && cands.len() > 1 {
        reasons.push(format!(
            "{without_price} offer{} without a usable price",
            if without_price == 1 { "" } else { "s" }
        ));
    }
    if let Some(extra) = &chosen.extra {
        reasons.push(extra.clone());
    }
    let mut note = format!("{layer} {}", chosen.what);
    if !reasons.is_empty() {
        note = format!("{note} ({})", reasons.join("; "));
    }
    let price_text = chosen.text.clone().map(|t| {
        if chosen.currency.is_some() && find_currency(&t).is_none() {
            format!("{t} {currency}")
        } else {
            t
        }
    });
    Some(Decision {
        availability: chosen.availability.unwrap_or(Availability::Unknown),
        price: Some(best),
        currency: Some(currency),
        price_text,
        note,
    })
}

/// In stock if any offer is, out of stock if all that say are, else unknown.
fn overall_availability(all: impl Iterator<Item = Option<Availability>>) -> Availability {
    let said: Vec<Availability> = all.flatten().collect();
    if said.contains(&Availability::InStock) {
        Availability::InStock
    } else if said.contains(&Availability::OutOfStock) {
        Availability::OutOfStock
    } else {
        Availability::Unknown
    }
}

// ---------------------------------------------------------------------------
// schema.org values, shared by JSON-LD and microdata.

const PRODUCT_TYPES: &[&str] = &[
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
const OFFER_TYPES: &[&str] = &["offer", "aggregateoffer"];
const PAGE_TYPES: &[&str] = &["webpage", "itempage", "productpage", "collectionpage"];

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

fn has_type(v: &Value, set: &[&str]) -> bool {
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
fn currency_of(v: Option<&Value>) -> Option<Currency> {
    let s = text_of(v)?;
    let s = s.trim();
    if s.eq_ignore_ascii_case("RUR") {
        return Currency::new("RUB").ok();
    }
    Currency::new(s).ok().or_else(|| find_currency(s))
}

/// A price value: a JSON number or a string.
struct Amount {
    value: Decimal,
    text: String,
    currency: Option<Currency>,
    /// What the text reader ignored on the way, for the note.
    extra: Option<String>,
}

fn amount_of(v: &Value, hints: PriceHints) -> Result<Amount, String> {
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

/// A plain number (`34990`, `34990.00`, `2.65031e3`) read exactly: None
/// when `s` is not one, Err when it is but is not a usable price.
pub(super) fn strict_decimal(s: &str) -> Option<Result<Decimal, String>> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !ok {
        return None;
    }
    if s.starts_with('-') && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return Some(Err(format!("{s} is negative")));
    }
    let body = body.strip_prefix('+').unwrap_or(body);
    let parsed = if exponent.is_some() {
        Decimal::from_scientific(body)
    } else {
        Decimal::from_str(body)
    };
    Some(match parsed {
        Ok(d) if d > Decimal::ZERO => Ok(d.normalize()),
        Ok(_) => Err("the price is zero (a placeholder, not a price)".into()),
        Err(_) => Err(format!(
            "{} is out of range",
            s.chars().take(40).collect::<String>()
        )),
    })
}

/// `@id` → node, for the top-level nodes of a layer.
#[derive(Default)]
struct IdIndex<'a> {
    by_id: HashMap<&'a str, &'a Value>,
}

impl<'a> IdIndex<'a> {
    fn add(&mut self, v: &'a Value) {
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
struct TopNode<'a> {
    value: &'a Value,
    related: bool,
}

/// Picks the main product among a layer's top-level nodes (see the module docs).
fn main_product<'a>(
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

// ---------------------------------------------------------------------------
// JSON-LD.

struct JsonLd {
    /// Parsed blocks and whether their script sits in a related-products block.
    blocks: Vec<(Value, bool)>,
    malformed: usize,
    related_products: usize,
}

impl JsonLd {
    fn read(doc: &Html) -> Self {
        let mut out = JsonLd {
            blocks: Vec::new(),
            malformed: 0,
            related_products: 0,
        };
        let Ok(sel) = Selector::parse("script[type]") else {
            return out;
        };
        for script in doc.select(&sel) {
            let is_ld = script.value().attr("type").is_some_and(|t| {
                t.trim()
                    .to_ascii_lowercase()
                    .starts_with("application/ld+json")
            });
            if !is_ld {
                continue;
            }
            if out.blocks.len() + out.malformed >= MAX_BLOCKS {
                break;
            }
            let text: String = script.text().collect();
            match parse_block(&text) {
                Some(v) => out.blocks.push((v, in_related_block(script))),
                None => out.malformed += 1,
            }
        }
        out
    }

    fn main_product(&mut self, page: &PageInfo, hints: PriceHints) -> Option<Found> {
        let mut nodes = Vec::new();
        for (v, related) in &self.blocks {
            top_nodes(v, *related, 0, &mut nodes);
        }
        let mut index = IdIndex::default();
        for n in &nodes {
            index.add(n.value);
        }
        let (found, related) = main_product("JSON-LD", &nodes, &index, page, hints);
        self.related_products = related;
        found
    }
}

/// A JSON-LD block's value, or None when it is not JSON. Tolerates what
/// shops get wrong: HTML comment or CDATA wrappers, raw control characters
/// (newlines) inside strings.
fn parse_block(text: &str) -> Option<Value> {
    if text.len() > MAX_BLOCK_BYTES {
        return None;
    }
    let mut t = text.trim();
    for (open, close) in [
        ("<!--", "-->"),
        ("//<![CDATA[", "//]]>"),
        ("<![CDATA[", "]]>"),
    ] {
        if let Some(inner) = t.strip_prefix(open) {
            t = inner.trim();
            if let Some(inner) = t.strip_suffix(close) {
                t = inner.trim();
            }
        }
    }
    if t.is_empty() {
        return None;
    }
    serde_json::from_str(t).ok().or_else(|| {
        if t.chars().any(|c| c.is_control()) {
            let fixed: String = t
                .chars()
                .map(|c| if c.is_control() { ' ' } else { c })
                .collect();
            serde_json::from_str(&fixed).ok()
        } else {
            None
        }
    })
}

/// The top-level nodes of a block: the object itself, the elements of a
/// top-level array, the members of `@graph`.
fn top_nodes<'a>(v: &'a Value, related: bool, depth: usize, out: &mut Vec<TopNode<'a>>) {
    if depth > 4 || out.len() >= MAX_NODES {
        return;
    }
    match v {
        Value::Array(a) => {
            for x in a.iter().take(MAX_NODES) {
                top_nodes(x, related, depth + 1, out);
            }
        }
        Value::Object(o) => {
            if let Some(graph) = o.get("@graph") {
                top_nodes(graph, related, depth + 1, out);
            }
            if o.contains_key("@type") {
                out.push(TopNode { value: v, related });
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Microdata, read into JSON-LD's shape.

struct Microdata {
    /// Top-level items and whether they sit in a related-products block.
    items: Vec<(Value, bool)>,
    scopes_seen: usize,
    related_products: usize,
}

impl Microdata {
    fn read(doc: &Html) -> Self {
        let mut out = Microdata {
            items: Vec::new(),
            scopes_seen: 0,
            related_products: 0,
        };
        let Ok(sel) = Selector::parse("[itemscope]") else {
            return out;
        };
        let mut budget = 200_000usize;
        for scope in doc.select(&sel).take(MAX_SCOPES) {
            out.scopes_seen += 1;
            // Top-level: not a property of another item (or an orphan property).
            let is_property = scope.value().attr("itemprop").is_some()
                && scope
                    .ancestors()
                    .take(1_000)
                    .filter_map(ElementRef::wrap)
                    .any(|a| a.value().attr("itemscope").is_some());
            if is_property {
                continue;
            }
            let item = item_json(scope, 0, &mut budget);
            if has_type(&item, PRODUCT_TYPES)
                || has_type(&item, OFFER_TYPES)
                || has_type(&item, PAGE_TYPES)
            {
                out.items.push((item, in_related_block(scope)));
            }
            if budget == 0 {
                break;
            }
        }
        out
    }

    fn main_product(&mut self, page: &PageInfo, hints: PriceHints) -> Option<Found> {
        let nodes: Vec<TopNode<'_>> = self
            .items
            .iter()
            .map(|(v, related)| TopNode {
                value: v,
                related: *related,
            })
            .collect();
        let mut index = IdIndex::default();
        for n in &nodes {
            index.add(n.value);
        }
        let (found, related) = main_product("microdata", &nodes, &index, page, hints);
        self.related_products = related;
        found
    }
}

/// One microdata item as a JSON object: `@type` from `itemtype`, `@id`
/// from `itemid`, each `itemprop` as a string (or a nested item), repeated
/// properties as arrays. Walks without recursion except into nested items
/// (at most 6 deep); `budget` bounds the elements visited per page.
fn item_json(scope: ElementRef<'_>, depth: usize, budget: &mut usize) -> Value {
    let mut obj = serde_json::Map::new();
    if let Some(t) = scope.value().attr("itemtype") {
        let t: Vec<Value> = t
            .split_whitespace()
            .map(|s| Value::String(s.to_string()))
            .collect();
        obj.insert("@type".into(), Value::Array(t));
    }
    if let Some(id) = scope.value().attr("itemid") {
        obj.insert("@id".into(), Value::String(id.trim().to_string()));
    }
    let mut stack: Vec<_> = scope.children().collect();
    stack.reverse();
    while let Some(node) = stack.pop() {
        if *budget == 0 {
            break;
        }
        *budget -= 1;
        let Some(el) = ElementRef::wrap(node) else {
            continue;
        };
        let is_scope = el.value().attr("itemscope").is_some();
        if let Some(props) = el.value().attr("itemprop") {
            let nested = if is_scope && depth < 6 {
                Some(item_json(el, depth + 1, budget))
            } else {
                None
            };
            for name in props.split_whitespace() {
                let name = name.rsplit(['/', '#']).next().unwrap_or(name).to_string();
                let value = match &nested {
                    Some(item) => item.clone(),
                    None if is_scope => Value::Null,
                    None => Value::String(property_text(el, &name)),
                };
                match obj.get_mut(&name) {
                    None => {
                        obj.insert(name, value.clone());
                    }
                    Some(Value::Array(a)) if name != "@type" => a.push(value.clone()),
                    Some(existing) => {
                        let prev = existing.take();
                        *existing = Value::Array(vec![prev, value.clone()]);
                    }
                }
            }
        }
        if !is_scope {
            let mut children: Vec<_> = el.children().collect();
            children.reverse();
            stack.extend(children);
        }
    }
    Value::Object(obj)
}

/// A microdata property's value: `content` wins (shops put the clean value
/// there and the display text inside). Then, for properties that hold a
/// link (`url`, `image`, `availability`…), the element's own attribute
/// (`href`, `src`); for the others its text, so `<a itemprop="brand"
/// href="/al-fakher">Al Fakher</a>` is the brand "Al Fakher", not a URL.
fn property_text(el: ElementRef<'_>, prop: &str) -> String {
    const LINKS: &[&str] = &[
        "url",
        "image",
        "availability",
        "itemcondition",
        "sameas",
        "logo",
        "item",
        "thumbnailurl",
        "contenturl",
        "pricetype",
    ];
    let v = el.value();
    let link_attr = || match v.name() {
        "a" | "area" | "link" => v.attr("href"),
        "img" | "audio" | "video" | "source" | "embed" | "iframe" | "track" => v.attr("src"),
        "object" => v.attr("data"),
        "data" | "meter" => v.attr("value"),
        "time" => v.attr("datetime"),
        _ => None,
    };
    let text = || {
        let text: String = el.text().take(200).collect();
        let t: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        (!t.is_empty()).then(|| t.chars().take(4096).collect::<String>())
    };
    let value = if LINKS.contains(&prop.to_ascii_lowercase().as_str()) {
        v.attr("content")
            .or_else(link_attr)
            .map(str::to_string)
            .or_else(text)
    } else {
        v.attr("content")
            .map(str::to_string)
            .or_else(text)
            .or_else(|| link_attr().map(str::to_string))
    };
    value
        .map(|s| s.trim().chars().take(4096).collect())
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------
// OpenGraph.

fn opengraph(page: &PageInfo, hints: PriceHints) -> Option<Found> {
    let availability = page
        .meta_value("product:availability")
        .or_else(|| page.meta_value("og:availability"))
        .map(|a| (a, parse_availability(a)));
    let product_type = page
        .meta_value("og:type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("product"));
    let pairs = |prefix: &str| -> Vec<Cand> {
        let amount_key = format!("{prefix}:amount");
        let currency_key = format!("{prefix}:currency");
        let amounts: Vec<String> = page
            .meta_values(&amount_key)
            .take(MAX_OFFERS)
            .map(str::to_string)
            .collect();
        let currencies: Vec<String> = page
            .meta_values(&currency_key)
            .map(str::to_string)
            .collect();
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut c = Cand::new(format!("{prefix}:amount"));
                c.availability = availability.and_then(|(_, a)| a);
                let cur = currencies.get(i).or(currencies.first());
                c.currency = cur.and_then(|s| currency_of(Some(&Value::String(s.clone()))));
                match amount_of(&Value::String(a.clone()), hints) {
                    Ok(amount) => {
                        c.amount = Some(amount.value);
                        c.text = Some(amount.text);
                        c.currency = c.currency.or(amount.currency);
                    }
                    Err(p) => {
                        c.text = Some(a.clone());
                        c.problem = Some(p);
                    }
                }
                c
            })
            .collect()
    };
    let sale = pairs("product:sale_price");
    let regular = {
        let mut r = pairs("product:price");
        if r.is_empty() {
            r = pairs("og:price");
        }
        r
    };
    let mut offers = if sale.iter().any(|c| c.amount.is_some()) {
        let regular_text: Vec<String> = regular.iter().filter_map(|c| c.text.clone()).collect();
        sale.into_iter()
            .map(|mut c| {
                if !regular_text.is_empty() {
                    c.extra = Some(format!("regular price {} ignored", regular_text.join(", ")));
                }
                c
            })
            .collect()
    } else {
        regular
    };
    if offers.is_empty()
        && let Some((_, a)) = availability
    {
        let mut c = Cand::new("availability");
        c.availability = a;
        offers.push(c);
    }
    if offers.is_empty() && availability.is_none() && !product_type {
        return None;
    }
    Some(Found {
        layer: "OpenGraph",
        kind: "product tags".into(),
        how: None,
        name: page
            .meta_value("og:title")
            .map(clean)
            .filter(|s| !s.is_empty()),
        image: page
            .meta_value("og:image:secure_url")
            .or_else(|| page.meta_value("og:image"))
            .or_else(|| page.meta_value("og:image:url"))
            .map(str::to_string),
        brand: page
            .meta_value("product:brand")
            .or_else(|| page.meta_value("og:brand"))
            .map(clean)
            .filter(|s| !s.is_empty()),
        url: None,
        offers,
    })
}

// ---------------------------------------------------------------------------
// The price selector and prices in free text.

/// The price read with `price_selector`, overriding the structured data.
fn selector_decision(
    doc: &Html,
    css: &Css,
    hints: PriceHints,
    availability: Availability,
    page: &PageInfo,
) -> Result<Decision, ScrapeError> {
    let root = doc.root_element();
    let elements = css.all(root);
    let mut clauses: Vec<Clause> = Vec::new();
    match selector_attr(css) {
        Some(attr) => {
            for el in elements.iter().take(50) {
                if let Some(v) = el.value().attr(attr) {
                    clauses.push(Clause {
                        text: v.to_string(),
                        struck: false,
                    });
                }
            }
        }
        None => {
            for el in elements.iter().take(50) {
                clauses.extend(text_clauses(*el));
            }
        }
    }
    clauses.retain(|c| !c.text.trim().is_empty());
    let shown = css.as_str();
    if clauses.is_empty() {
        if availability == Availability::OutOfStock {
            return Ok(Decision {
                price: None,
                currency: hints.currency,
                price_text: None,
                availability,
                note: format!(
                    "price_selector `{shown}` matched nothing and the page says out of stock"
                ),
            });
        }
        return Err(ScrapeError::Layout(format!(
            "price_selector `{shown}` matched nothing on {}",
            page.url
        )));
    }
    let mut ignored = Vec::new();
    let mut texts = Vec::new();
    for c in &clauses {
        if c.struck {
            ignored.push(format!("{:?} (struck through)", short(&c.text)));
        } else {
            texts.push(c.text.as_str());
        }
    }
    let pick = choose_price_in_clauses(&texts, hints);
    ignored.extend(pick.ignored);
    let ignored = if ignored.is_empty() {
        String::new()
    } else {
        format!(" (ignored: {})", ignored.join(", "))
    };
    let price_text = pick
        .text
        .clone()
        .or_else(|| texts.first().map(|t| short(t)));
    let price = match (pick.amount, pick.currency) {
        (Some(a), Some(c)) => Some(Money::new(a, c)),
        _ => None,
    };
    let note = match (&price, pick.amount) {
        (Some(_), _) => format!("price_selector `{shown}`{ignored}"),
        (None, Some(_)) => format!(
            "price_selector `{shown}`: the price names no currency; set `currency` for this source{ignored}"
        ),
        (None, None) => format!("price_selector `{shown}`: no price in the text{ignored}"),
    };
    Ok(Decision {
        currency: pick.currency,
        price,
        price_text,
        availability,
        note,
    })
}

/// The attribute a `css@attr` selector reads (the rule of [`Css::parse`]).
fn selector_attr(css: &Css) -> Option<&str> {
    let (_, attr) = css.as_str().rsplit_once('@')?;
    (!attr.is_empty()
        && attr
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':')))
    .then_some(attr)
}

fn short(s: &str) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(59).collect::<String>())
    } else {
        s
    }
}

/// A run of text between block boundaries; struck text is an old price.
struct Clause {
    text: String,
    struck: bool,
}

/// The text of `el` cut at block elements and `<br>`, with struck-through
/// parts (`<del>`, `<s>`, `<strike>`, classes such as `old-price`,
/// `price--compare`, `was-price`) set apart. Scripts and styles are skipped.
fn text_clauses(el: ElementRef<'_>) -> Vec<Clause> {
    enum Step<N> {
        Open(N),
        Close(N),
    }
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut struck = 0usize;
    let mut skip = 0usize;
    let root_id = el.id();
    let flush = |cur: &mut String, struck: bool, out: &mut Vec<Clause>| {
        let t = cur.split_whitespace().collect::<Vec<_>>().join(" ");
        if !t.is_empty() {
            out.push(Clause { text: t, struck });
        }
        cur.clear();
    };
    let mut stack = vec![Step::Open(*el)];
    let mut visited = 0usize;
    while let Some(step) = stack.pop() {
        visited += 1;
        if visited > 100_000 || out.len() > 500 {
            break;
        }
        match step {
            Step::Open(node) => match node.value() {
                Node::Text(t) if skip == 0 && cur.len() < 20_000 => cur.push_str(t),
                Node::Element(e) => {
                    let name = e.name();
                    let is_root = node.id() == root_id;
                    if matches!(name, "script" | "style" | "noscript" | "template") {
                        skip += 1;
                    } else if !is_root && (is_block(name) || is_struck(e)) {
                        flush(&mut cur, struck > 0, &mut out);
                    }
                    if !is_root && is_struck(e) {
                        struck += 1;
                    }
                    stack.push(Step::Close(node));
                    let mut children: Vec<_> = node.children().collect();
                    children.reverse();
                    stack.extend(children.into_iter().map(Step::Open));
                }
                _ => {}
            },
            Step::Close(node) => {
                if let Node::Element(e) = node.value() {
                    let name = e.name();
                    let is_root = node.id() == root_id;
                    if matches!(name, "script" | "style" | "noscript" | "template") {
                        skip = skip.saturating_sub(1);
                    } else if !is_root && (is_block(name) || is_struck(e)) {
                        flush(&mut cur, struck > 0, &mut out);
                    }
                    if !is_root && is_struck(e) {
                        struck = struck.saturating_sub(1);
                    }
                }
            }
        }
    }
    flush(&mut cur, false, &mut out);
    out
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "address"
            | "article"
            | "aside"
            | "blockquote"
            | "br"
            | "dd"
            | "details"
            | "div"
            | "dl"
            | "dt"
            | "fieldset"
            | "figcaption"
            | "figure"
            | "footer"
            | "form"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "header"
            | "hr"
            | "li"
            | "main"
            | "nav"
            | "ol"
            | "option"
            | "p"
            | "pre"
            | "section"
            | "summary"
            | "table"
            | "td"
            | "th"
            | "tr"
            | "ul"
    )
}

/// Struck-through or marked as an old price by its tag or class.
fn is_struck(e: &scraper::node::Element) -> bool {
    const PARTS: &[&str] = &[
        "old",
        "was",
        "oldprice",
        "strike",
        "strikethrough",
        "crossed",
        "compare",
        "rrp",
        "msrp",
        "uvp",
        "listprice",
    ];
    matches!(e.name(), "del" | "s" | "strike")
        || e.attr("class").is_some_and(|c| {
            c.split_whitespace().any(|token| {
                token
                    .split(['-', '_'])
                    .any(|part| PARTS.contains(&part.to_ascii_lowercase().as_str()))
            })
        })
}

/// The price picked out of free text, and the numbers passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextPrice {
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    /// The chosen number with what surrounds it.
    pub text: Option<String>,
    /// Each number passed over and why ("\"4 x 149,75 €\" (an instalment)").
    pub ignored: Vec<String>,
}

/// Picks the selling price out of shop text such as "Was €649.00 Now
/// €599.00 · Free shipping over €50 · or 4 x €149.75". Numbers are passed
/// over when they are a was/list price, a saving, a percentage, a negative
/// amount, a shipping threshold or cost, or an instalment (count or
/// amount); of the rest, the first with a currency next to it wins, else
/// the first. Key words are known in English, French, German, Spanish,
/// Italian, Russian, Bulgarian and Arabic.
pub fn choose_price_in_text(text: &str, hints: PriceHints) -> TextPrice {
    choose_price_in_clauses(&[text], hints)
}

fn choose_price_in_clauses(clauses: &[&str], hints: PriceHints) -> TextPrice {
    let mut out = TextPrice::default();
    let mut first_any: Option<(Decimal, Option<Currency>, String)> = None;
    let mut first_with_currency: Option<(Decimal, Currency, String)> = None;
    for clause in clauses {
        let clause: String = clause.chars().take(20_000).collect();
        let runs = number_runs(&clause);
        for (k, &(start, end)) in runs.iter().enumerate() {
            let prev_end = if k == 0 { 0 } else { runs[k - 1].1 };
            let next_start = runs.get(k + 1).map(|r| r.0).unwrap_or(clause.len());
            let before = &clause[prev_end..start];
            let after = &clause[end..next_start];
            let number = &clause[start..end];
            // A number glued to letters is part of a word or a code
            // ("GDDR6X", "12GB", "24h"), unless the letters are a currency ("599zł").
            let glued_before: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_alphabetic())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let glued_after: String = after.chars().take_while(|c| c.is_alphabetic()).collect();
            if [glued_before, glued_after]
                .iter()
                .any(|g| !g.is_empty() && find_currency(g).is_none())
            {
                continue;
            }
            let shown = snippet(before, number, after);
            if let Some(why) = why_not_a_price(before, after) {
                out.ignored.push(format!("{shown:?} ({why})"));
                continue;
            }
            let Some(amount) = parse_amount(number, hints) else {
                continue;
            };
            if amount <= Decimal::ZERO {
                continue;
            }
            let currency = adjacent_currency(before, after);
            if first_any.is_none() {
                first_any = Some((amount, currency, shown.clone()));
            }
            if let Some(c) = currency
                && first_with_currency.is_none()
            {
                first_with_currency = Some((amount, c, shown.clone()));
            }
        }
    }
    let chosen = first_with_currency
        .map(|(a, c, s)| (a, Some(c), s))
        .or(first_any);
    if let Some((amount, currency, shown)) = chosen {
        out.amount = Some(amount);
        out.currency = currency.or(hints.currency);
        out.text = Some(shown);
    }
    out
}

/// Byte ranges of the numbers in `text`: digits (any script) with the
/// separators that sit inside numbers (a space only before a 3-digit group).
fn number_runs(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() && runs.len() < 200 {
        if !chars[i].1.is_numeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j].1;
            if c.is_numeric() {
                j += 1;
                continue;
            }
            let next_digit = chars.get(j + 1).is_some_and(|(_, n)| n.is_numeric());
            let spaced = matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}');
            if spaced && next_digit {
                let group = chars[j + 1..]
                    .iter()
                    .take_while(|(_, c)| c.is_numeric())
                    .count();
                if group == 3 {
                    j += 1;
                    continue;
                }
                break;
            }
            if matches!(c, '.' | ',' | '\'' | '’' | '٫' | '٬') && next_digit {
                j += 1;
                continue;
            }
            break;
        }
        let end = chars.get(j).map(|(b, _)| *b).unwrap_or(text.len());
        runs.push((chars[start].0, end));
        i = j;
    }
    runs
}

fn tail(s: &str, n: usize) -> String {
    let count = s.chars().count();
    s.chars().skip(count.saturating_sub(n)).collect()
}

fn head(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The words right before and right after a number (a symbol may be glued to it).
fn adjacent_tokens(before: &str, after: &str) -> (String, String) {
    let b = before.trim_end();
    let b = b.rsplit(char::is_whitespace).next().unwrap_or("");
    let a = after.trim_start();
    let a = a
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or("");
    (tail(b, 8), head(a, 8))
}

/// A currency written right next to a number ("€599", "599 €", "13 500 DA", "US$ 12").
fn adjacent_currency(before: &str, after: &str) -> Option<Currency> {
    let (b, a) = adjacent_tokens(before, after);
    find_currency(&b).or_else(|| find_currency(&a))
}

/// The number with its currency symbol or code, for notes.
fn snippet(before: &str, number: &str, after: &str) -> String {
    let (b, a) = adjacent_tokens(before, after);
    let mut s = number.to_string();
    if find_currency(&b).is_some() {
        s = format!(
            "{b}{}{s}",
            if before.ends_with(char::is_whitespace) {
                " "
            } else {
                ""
            }
        );
    }
    if find_currency(&a).is_some() {
        s = format!(
            "{s}{}{a}",
            if after.starts_with(char::is_whitespace) {
                " "
            } else {
                ""
            }
        );
    }
    s
}

const WAS_WORDS: &[&str] = &[
    "was",
    "were",
    "war",
    "old price",
    "list price",
    "original price",
    "rrp",
    "msrp",
    "srp",
    "uvp",
    "statt",
    "vorher",
    "ursprünglich*",
    "au lieu de",
    "prix barré",
    "ancien prix",
    "prix conseillé",
    "antes",
    "precio anterior",
    "invece di",
    "prezzo di listino",
    "было",
    "старая цена",
    "вместо",
    "зачеркн*",
    "беше",
    "стара цена",
    "كان~",
    "السعر القديم~",
    "بدلا من~",
    "بدلاً من~",
];
const SAVE_WORDS: &[&str] = &[
    "save",
    "you save",
    "saving*",
    "économisez",
    "sparen",
    "sie sparen",
    "ersparnis",
    "ahorra*",
    "risparmi*",
    "экономия",
    "выгода",
    "вы экономите",
    "спестявате",
    "وفر~",
    "توفير~",
];
const INSTALMENT_WORDS: &[&str] = &[
    "instal*",
    "payment*",
    "per month",
    "a month",
    "/month",
    "/mo",
    "month*",
    "pay in",
    "financing",
    "apr",
    "klarna",
    "afterpay",
    "affirm",
    "scalapay",
    "clearpay",
    "mois",
    "/mois",
    "fois",
    "mensualité*",
    "monat*",
    "mtl",
    "/monat",
    "raten",
    "ratenzahlung",
    "cuota*",
    "al mes",
    "/mes",
    "rata",
    "rate",
    "al mese",
    "мес.",
    "месяц*",
    "/мес",
    "платеж*",
    "платёж*",
    "рассрочк*",
    "долями",
    "частями",
    "кредит*",
    "вноск*",
    "лизинг",
    "شهر~",
    "قسط~",
    "أقساط~",
    "تقسيط~",
];
const SHIP_WORDS: &[&str] = &[
    "ship*",
    "delivery",
    "deliver*",
    "postage",
    "livraison",
    "port",
    "frais de port",
    "versand*",
    "liefer*",
    "envío",
    "envio",
    "spedizion*",
    "достав*",
    "توصيل~",
    "شحن~",
];
const THRESHOLD_WORDS: &[&str] = &[
    "over",
    "above",
    "from",
    "orders",
    "order",
    "spend",
    "min",
    "minimum",
    "more than",
    "ab",
    "über",
    "dès",
    "à partir de",
    "plus de",
    "desde",
    "a partir de",
    "oltre",
    "da",
    "от",
    "свыше",
    "более",
    "при заказе",
    "над",
    "من",
    "فوق",
    "ابتداء من~",
];

/// Why the number between `before` and `after` is not the selling price.
fn why_not_a_price(before: &str, after: &str) -> Option<&'static str> {
    let near_before = tail(before, 48).to_lowercase();
    // Only the words since the last sentence break count.
    let clause_before = near_before
        .rsplit(['!', '|', '•', '·', ';', '\n'])
        .next()
        .unwrap_or("")
        .rsplit(". ")
        .next()
        .unwrap_or("")
        .to_string();
    let near_after = head(after, 32).to_lowercase();
    let after_trim = near_after.trim_start();

    let no_symbols = near_before.trim_end_matches(['€', '$', '£', '₽', '¥', '₹', '₺', '₴', '₸']);
    if no_symbols.ends_with(['-', '−']) {
        return Some("a negative amount");
    }
    if after_trim.starts_with('%') {
        return Some("a percentage");
    }
    let stripped = no_symbols.trim_end();
    if (stripped.ends_with(['x', '×', 'х'])
        && stripped
            .chars()
            .rev()
            .nth(1)
            .is_none_or(|c| c.is_whitespace() || c.is_numeric()))
        || (after_trim.starts_with(['x', '×', 'х'])
            && after_trim.chars().nth(1).is_none_or(|c| !c.is_alphabetic()))
    {
        return Some("an instalment");
    }
    if has_any(&clause_before, INSTALMENT_WORDS) || has_any(&near_after, INSTALMENT_WORDS) {
        return Some("an instalment");
    }
    if has_any(&clause_before, WAS_WORDS) {
        return Some("a was/list price");
    }
    if has_any(&clause_before, SAVE_WORDS) || after_trim.starts_with("off ") || after_trim == "off"
    {
        return Some("a saving");
    }
    if has_any(&clause_before, SHIP_WORDS)
        || (has_any(&near_after, SHIP_WORDS)
            && (has_any(&clause_before, THRESHOLD_WORDS) || stripped.ends_with('+')))
    {
        return Some("a shipping threshold or cost");
    }
    None
}

/// Whether `hay` (lowercase) contains one of `words`: a word or phrase
/// standing alone, `word*` at the start of a word, `word~` anywhere;
/// entries with punctuation match anywhere.
fn has_any(hay: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        if let Some(sub) = w.strip_suffix('~') {
            return hay.contains(sub);
        }
        let (w, prefix) = match w.strip_suffix('*') {
            Some(p) => (p, true),
            None => (*w, false),
        };
        if !w.chars().all(|c| c.is_alphabetic() || c == ' ') {
            return hay.contains(w);
        }
        hay.match_indices(w).any(|(i, _)| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphabetic)
                && (prefix || !after.is_some_and(char::is_alphabetic))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pick(text: &str) -> (Option<String>, Option<String>) {
        let p = choose_price_in_text(text, PriceHints::default());
        (
            p.amount.map(|a| a.to_string()),
            p.currency.map(|c| c.to_string()),
        )
    }

    #[test]
    fn text_prices_skip_was_shipping_and_instalments() {
        assert_eq!(
            pick("Was €649.00 Now €599.00"),
            (Some("599".into()), Some("EUR".into()))
        );
        assert_eq!(
            pick("Free shipping over 50 € · 49,90 €"),
            (Some("49.9".into()), Some("EUR".into()))
        );
        assert_eq!(
            pick("4 x 25 € or 99,90 €"),
            (Some("99.9".into()), Some("EUR".into()))
        );
        assert_eq!(pick("from 12 €/month"), (None, None));
        assert_eq!(
            pick("-15% 2 490 ₽"),
            (Some("2490".into()), Some("RUB".into()))
        );
        assert_eq!(
            pick("Free shipping! Now €599.00"),
            (Some("599".into()), Some("EUR".into()))
        );
        assert_eq!(
            pick("Washing machine 399 €"),
            (Some("399".into()), Some("EUR".into()))
        );
        assert_eq!(
            pick("RTX 4070 Super 12GB — €599.00"),
            (Some("599".into()), Some("EUR".into()))
        );
        assert_eq!(pick("١٣٥٠٠ دج"), (Some("13500".into()), Some("DZD".into())));
        assert_eq!(pick("Бесплатная доставка от 3000 ₽"), (None, None));
        assert_eq!(pick("Save €50"), (None, None));
    }

    /// Found by `scripts/fuzz product_page`: an `&` followed by multi-byte
    /// characters used to slice inside a character and panic.
    #[test]
    fn entities_next_to_non_ascii_text_do_not_panic() {
        assert_eq!(decode_entities("&ééééééé"), "&ééééééé");
        assert_eq!(decode_entities("a&éé;b &amp; c"), "a&éé;b & c");
        assert_eq!(decode_entities("&#1097;и"), "щи");
        assert_eq!(decode_entities("x&"), "x&");
    }

    #[test]
    fn plain_numbers_are_exact_and_bounded() {
        let d = |s: &str| strict_decimal(s).map(|r| r.map(|d| d.to_string()));
        assert_eq!(d("34990.00"), Some(Ok("34990".into())));
        assert_eq!(d("2.65031e3"), Some(Ok("2650.31".into())));
        assert!(matches!(d("-1"), Some(Err(_))));
        assert!(matches!(d("0"), Some(Err(_))));
        assert!(matches!(d("1e400"), Some(Err(_))));
        assert!(matches!(d("9".repeat(60).as_str()), Some(Err(_))));
        assert_eq!(d("1,299.00"), None);
        assert_eq!(d("NaN"), None);
    }

    #[test]
    fn availability_words() {
        assert_eq!(
            parse_availability("https://schema.org/InStock"),
            Some(Availability::InStock)
        );
        assert_eq!(
            parse_availability("http://schema.org/OutOfStock"),
            Some(Availability::OutOfStock)
        );
        assert_eq!(
            parse_availability("schema:SoldOut"),
            Some(Availability::OutOfStock)
        );
        assert_eq!(parse_availability("PreOrder"), Some(Availability::InStock));
        assert_eq!(
            parse_availability("out of stock"),
            Some(Availability::OutOfStock)
        );
        assert_eq!(parse_availability("oos"), Some(Availability::OutOfStock));
        assert_eq!(parse_availability("pending"), None);
    }

    #[test]
    fn entities_decode() {
        assert_eq!(
            decode_entities("Tom &amp; Jerry &#8211; x &#x41; &bogus; &"),
            "Tom & Jerry – x A &bogus; &"
        );
    }
}
