//! Catalogue and search-result pages described by CSS selectors: a tobacco
//! catalogue's brand pages, a marketplace's search results.
//!
//! A page is a list of item elements (`selectors.item`); every other
//! selector reads one field within an item, except `page_brand`,
//! `next_page` and `empty`, which read the whole page. Pages come from
//! sites we do not control, so parsing never panics, never invents an item
//! (no name, no listing), and tells "the layout changed" apart from "this
//! search has no results".

use scraper::{ElementRef, Html, Node, Selector};
use std::collections::HashSet;
use std::sync::LazyLock;
use url::Url;

use super::ScrapeError;
use super::config::HtmlCatalogConfig;
use super::css::Css;
use super::listing::Listing;
use crate::domain::{Availability, ItemDetails, Money};
use crate::price::{PriceHints, parse_price};

/// One parsed catalogue page.
#[derive(Debug, Clone, Default)]
pub struct CatalogPage {
    pub listings: Vec<Listing>,
    /// The next page's absolute URL, from `selectors.next_page`.
    pub next_page: Option<Url>,
}

/// An attribute name no parsed element can carry (the HTML parser replaces
/// NUL). Passed as `default_attr` to [`Css::value`], it tells a `css@attr`
/// selector (which reads its own attribute) from a text selector (which
/// then finds nothing).
const NO_SUCH_ATTRIBUTE: &str = "\u{0}";

/// Attributes lazy-loading scripts keep the real image in while `src`
/// holds nothing or a `data:` placeholder.
const LAZY_IMAGE_ATTRIBUTES: &[&str] = &["data-src", "data-lazy-src"];

static TEMPLATE: LazyLock<Selector> =
    LazyLock::new(|| Selector::parse("template").expect("static selector"));

/// Parses one catalogue page fetched from `page_url` into listings and the
/// next page's URL.
///
/// Why it reads pages this way:
/// - An item without a name is skipped, not guessed: cards without a title
///   are ads, banners or placeholders, and a listing must be something a
///   user can recognise. When item elements exist but *none* has a name, the
///   name selector no longer fits the page: that is a layout error, not an
///   empty page.
/// - The price text goes through [`parse_price`] with the source's decimal
///   separator and currency, so `1 190 ₽`, `1&nbsp;250 лв.` and `640 €` read
///   the same way everywhere; text without a number ("Цена по запросу",
///   "Договаряне") is no price, never zero. The text is kept in
///   `price_text` so `pricehound scrape` shows what was read.
/// - Links and images are resolved against `page_url` (pages use relative
///   links) and only `http(s)` URLs are kept: `javascript:`, `data:` and
///   `mailto:` are not places a user can go. A fragment never names another
///   item, so it is dropped, and a link to the page itself (`href="#"`) is no
///   item URL. An image whose `src` is missing or a `data:` placeholder is
///   read from `data-src` / `data-lazy-src`, where lazy loaders keep it.
/// - The brand comes from the item, else from the page (`page_brand`: a
///   brand page names its brand once, in its heading).
/// - Availability: the `availability` element's text containing one of
///   `out_of_stock_words` (case-insensitive) is out of stock, any other
///   text is in stock, and no such element is unknown: a card without a
///   stock badge says nothing either way, and its price still counts.
/// - The key is `cfg.key` when it finds a value (a marketplace's ad id
///   survives a title edit that changes the URL), else the item's absolute
///   URL, else its name.
/// - The next page is ignored when it resolves to this page (a disabled
///   "next" link on the last page), so paging stops instead of looping.
/// - Zero items is only a result when `selectors.empty` matches (a "no
///   results" message); otherwise it means the site changed its markup, and
///   the error names the selector to fix.
/// - Text inside `<script>`, `<style>` and `<template>` is never read, and
///   items inside a `<template>` are not on the page.
pub fn parse_page(
    html: &str,
    page_url: &Url,
    cfg: &HtmlCatalogConfig,
) -> Result<CatalogPage, ScrapeError> {
    let doc = super::html_guard::parse_document(html)?;
    let root = doc.root_element();
    let sel = &cfg.selectors;

    let in_template = template_contents(&doc);
    let items: Vec<ElementRef<'_>> = sel
        .item
        .all(root)
        .into_iter()
        .filter(|e| !in_template(e))
        .collect();

    let page = PageContext {
        url: page_url,
        cfg,
        hints: PriceHints {
            decimal_separator: cfg.decimal_separator,
            currency: Some(cfg.currency),
        },
        brand: sel.page_brand.as_ref().and_then(|c| text_value(c, root)),
        out_of_stock_words: cfg
            .out_of_stock_words
            .iter()
            .map(|w| w.trim().to_lowercase())
            .filter(|w| !w.is_empty())
            .collect(),
    };
    let listings: Vec<Listing> = items
        .iter()
        .filter_map(|item| parse_item(*item, &page))
        .collect();

    let next_page = sel
        .next_page
        .as_ref()
        .and_then(|c| c.value(root, Some("href")))
        .and_then(|href| resolve(page_url, &href))
        .filter(|next| !same_page(next, page_url));

    if listings.is_empty() {
        let legitimately_empty = sel.empty.as_ref().is_some_and(|c| c.first(root).is_some());
        if legitimately_empty {
            return Ok(CatalogPage {
                listings,
                next_page: None,
            });
        }
        let message = if items.is_empty() {
            format!(
                "no element matches the item selector `{}` on {page_url}: the page layout may have changed",
                sel.item.as_str()
            )
        } else {
            format!(
                "{} elements match the item selector `{}` on {page_url} but none has a name (selector `{}`): the page layout may have changed",
                items.len(),
                sel.item.as_str(),
                sel.name.as_str()
            )
        };
        return Err(ScrapeError::Layout(message));
    }
    Ok(CatalogPage {
        listings,
        next_page,
    })
}

/// What every item of a page is read with.
struct PageContext<'a> {
    url: &'a Url,
    cfg: &'a HtmlCatalogConfig,
    hints: PriceHints,
    /// The page's brand (`selectors.page_brand`), for items that name none.
    brand: Option<String>,
    /// `cfg.out_of_stock_words`, lowercased once per page.
    out_of_stock_words: Vec<String>,
}

/// One item element as a listing; `None` when it has no name.
fn parse_item(item: ElementRef<'_>, page: &PageContext<'_>) -> Option<Listing> {
    let (cfg, page_url) = (page.cfg, page.url);
    let sel = &cfg.selectors;
    let name = text_value(&sel.name, item)?;

    let price_text = sel.price.as_ref().and_then(|c| text_value(c, item));
    let price = price_text.as_deref().and_then(|text| {
        let parsed = parse_price(text, page.hints);
        Some(Money::new(parsed.amount?, parsed.currency?))
    });

    let url = sel
        .url
        .as_ref()
        .and_then(|c| c.value(item, Some("href")))
        .and_then(|href| resolve(page_url, &href))
        .filter(|u| !same_page(u, page_url));
    let image = sel
        .image
        .as_ref()
        .and_then(|c| image_value(c, item))
        .and_then(|src| resolve(page_url, &src));
    let brand = sel
        .brand
        .as_ref()
        .and_then(|c| text_value(c, item))
        .or_else(|| page.brand.clone());
    let availability = match &sel.availability {
        None => Availability::Unknown,
        Some(c) => match c.first(item) {
            None => Availability::Unknown,
            Some(_) => {
                let text = text_value(c, item).unwrap_or_default().to_lowercase();
                if page.out_of_stock_words.iter().any(|w| text.contains(w)) {
                    Availability::OutOfStock
                } else {
                    Availability::InStock
                }
            }
        },
    };
    let key = cfg
        .key
        .as_ref()
        .and_then(|c| text_value(c, item))
        .or_else(|| url.as_ref().map(|u| u.to_string()))
        .unwrap_or_else(|| name.clone());

    Some(Listing {
        key,
        name,
        price_text,
        price,
        availability,
        details: ItemDetails {
            url: url.map(String::from),
            image: image.map(String::from),
            brand,
        },
        note: None,
    })
}

/// What a text-or-attribute selector names in `scope`: the attribute for
/// `css@attr`, else the element's visible text (no script or style),
/// whitespace collapsed. Empty is `None`.
fn text_value(css: &Css, scope: ElementRef<'_>) -> Option<String> {
    if let Some(attribute) = css.value(scope, Some(NO_SUCH_ATTRIBUTE)) {
        return Some(attribute);
    }
    // A `css@attr` whose attribute is missing finds nothing here either.
    css.value(scope, None)?;
    let text = visible_text(css.first(scope)?);
    (!text.is_empty()).then_some(text)
}

/// The image URL an image selector names: its attribute (`src` unless the
/// selector says), or a lazy loader's attribute when that is missing or a
/// `data:` placeholder.
fn image_value(css: &Css, scope: ElementRef<'_>) -> Option<String> {
    let usable = |v: &String| {
        let v = v.trim();
        !v.is_empty() && !v.get(..5).is_some_and(|s| s.eq_ignore_ascii_case("data:"))
    };
    if let Some(v) = css.value(scope, Some("src")).filter(usable) {
        return Some(v);
    }
    let el = css.first(scope)?;
    LAZY_IMAGE_ATTRIBUTES
        .iter()
        .filter_map(|a| el.value().attr(a))
        .map(|v| v.trim().to_string())
        .find(usable)
}

/// `href` resolved against `base`, if it is an http(s) URL; without its fragment.
fn resolve(base: &Url, href: &str) -> Option<Url> {
    let mut url = base.join(href.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

fn same_page(url: &Url, page_url: &Url) -> bool {
    let mut page = page_url.clone();
    page.set_fragment(None);
    *url == page
}

/// Whether an element lies inside a `<template>` (inert markup, not shown).
/// Each node is visited at most once, however deeply templates nest.
fn template_contents(doc: &Html) -> impl Fn(&ElementRef<'_>) -> bool + '_ {
    let mut hidden = HashSet::new();
    for template in doc.select(&TEMPLATE) {
        if hidden.contains(&template.id()) {
            continue; // nested: already counted with its outer template
        }
        hidden.extend(template.descendants().skip(1).map(|n| n.id()));
    }
    move |e| hidden.contains(&e.id())
}

/// Elements whose text is not page text.
fn is_hidden(name: &str) -> bool {
    matches!(
        name,
        "script" | "style" | "template" | "noscript" | "head" | "title" | "svg" | "iframe"
    )
}

/// Elements that do not break a line: their text joins the text around them
/// (`<b>RTX</b>4070` stays `RTX4070`); every other element separates words.
fn is_inline(name: &str) -> bool {
    matches!(
        name,
        "a" | "abbr"
            | "b"
            | "bdi"
            | "bdo"
            | "cite"
            | "code"
            | "data"
            | "del"
            | "dfn"
            | "em"
            | "font"
            | "i"
            | "ins"
            | "kbd"
            | "mark"
            | "q"
            | "s"
            | "samp"
            | "small"
            | "span"
            | "strong"
            | "sub"
            | "sup"
            | "time"
            | "u"
            | "var"
            | "wbr"
    )
}

/// The text a reader sees in `el`: no script, style or template text,
/// a space between block elements, whitespace (non-breaking included)
/// collapsed. Walks the tree with a loop, not recursion, so a hostile page
/// nested thousands deep cannot overflow the stack.
fn visible_text(el: ElementRef<'_>) -> String {
    let mut out = String::new();
    let separate = |out: &mut String, name: &str| {
        if !is_inline(name) {
            out.push(' ');
        }
    };
    let mut next = el.first_child();
    while let Some(node) = next {
        let mut descend = false;
        match node.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) if !is_hidden(e.name()) => {
                separate(&mut out, e.name());
                descend = true;
            }
            _ => {}
        }
        next = if descend { node.first_child() } else { None };
        if next.is_none() {
            // Up to the next sibling, closing the elements left on the way.
            let mut at = node;
            let mut closing = descend;
            next = loop {
                if closing && let Node::Element(e) = at.value() {
                    separate(&mut out, e.name());
                }
                if let Some(sibling) = at.next_sibling() {
                    break Some(sibling);
                }
                match at.parent() {
                    Some(parent) if parent.id() != el.id() => {
                        at = parent;
                        closing = true;
                    }
                    _ => break None,
                }
            };
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(html: &str) -> String {
        let doc = Html::parse_fragment(html);
        let sel = Selector::parse("#x").unwrap();
        visible_text(doc.select(&sel).next().unwrap())
    }

    #[test]
    fn visible_text_joins_inline_separates_blocks_and_skips_code() {
        assert_eq!(
            text_of(r#"<div id="x"><b>RTX</b>4070 <i>Ti</i></div>"#),
            "RTX4070 Ti"
        );
        assert_eq!(
            text_of(r#"<div id="x"><h4>Title</h4><p>1 250 лв.</p>end</div>"#),
            "Title 1 250 лв. end"
        );
        assert_eq!(
            text_of(
                r#"<div id="x">A<script>var b = 1;</script><style>.c{}</style><template>D</template>E</div>"#
            ),
            "AE"
        );
        assert_eq!(
            text_of("<p id=\"x\">1\u{a0}190\u{a0}₽ <br>today</p>"),
            "1 190 ₽ today"
        );
        assert_eq!(text_of(r#"<div id="x"></div>"#), "");
    }
}
