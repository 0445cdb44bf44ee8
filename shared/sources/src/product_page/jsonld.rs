//! JSON-LD.

use scraper::{Html, Selector};
use serde_json::Value;

use super::decision::Found;
use super::page::{PageInfo, in_related_block};
use super::schema::{IdIndex, TopNode, main_product};
use super::{MAX_BLOCK_BYTES, MAX_BLOCKS, MAX_NODES};
use crate::price::PriceHints;

pub(super) struct JsonLd {
    /// Parsed blocks and whether their script sits in a related-products block.
    pub(super) blocks: Vec<(Value, bool)>,
    pub(super) malformed: usize,
    pub(super) related_products: usize,
}

impl JsonLd {
    pub(super) fn read(doc: &Html) -> Self {
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

    pub(super) fn main_product(&mut self, page: &PageInfo, hints: PriceHints) -> Option<Found> {
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
