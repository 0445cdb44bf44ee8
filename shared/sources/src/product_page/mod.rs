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

mod decision;
mod jsonld;
mod microdata;
mod opengraph;
mod page;
mod schema;
mod selector;

#[cfg(test)]
mod tests;

use url::Url;

use super::config::ProductPageConfig;
use super::listing::Listing;
use super::{ScrapeError, html_guard};
use crate::domain::{Availability, ItemDetails};
use crate::price::PriceHints;
use decision::{Decision, Found, decide};
use jsonld::JsonLd;
use microdata::Microdata;
use opengraph::opengraph;
use page::{PageInfo, clean};
use selector::selector_decision;

// The free-text rules live with the price parser in the core; re-exported
// here, where they were first written, so the old paths keep working.
pub use crate::price::{TextPrice, choose_price_in_text};
pub use schema::parse_availability;

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
