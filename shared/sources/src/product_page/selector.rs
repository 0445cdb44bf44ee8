//! The price selector: the text of the elements it matches, cut into
//! clauses with struck-through parts set apart. Which number in them is the
//! price (free text: "was" prices, shipping thresholds, instalments…) is
//! decided by [`choose_price_in_clauses`] in the core's `price` module.

use scraper::{ElementRef, Html, Node};

use super::decision::Decision;
use super::page::PageInfo;
use crate::ScrapeError;
use crate::css::Css;
use crate::domain::{Availability, Money};
use crate::price::{PriceHints, choose_price_in_clauses};

/// The price read with `price_selector`, overriding the structured data.
pub(super) fn selector_decision(
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
