//! Microdata, read into JSON-LD's shape.

use scraper::{ElementRef, Html, Selector};
use serde_json::Value;

use super::MAX_SCOPES;
use super::decision::Found;
use super::page::{PageInfo, in_related_block};
use super::schema::{
    IdIndex, OFFER_TYPES, PAGE_TYPES, PRODUCT_TYPES, TopNode, has_type, main_product,
};
use crate::price::PriceHints;

pub(super) struct Microdata {
    /// Top-level items and whether they sit in a related-products block.
    items: Vec<(Value, bool)>,
    pub(super) scopes_seen: usize,
    pub(super) related_products: usize,
}

impl Microdata {
    pub(super) fn read(doc: &Html) -> Self {
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

    pub(super) fn main_product(&mut self, page: &PageInfo, hints: PriceHints) -> Option<Found> {
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
