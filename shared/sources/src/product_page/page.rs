//! The page itself: URLs, titles, meta tags.

use scraper::{ElementRef, Html, Selector};
use url::Url;

use super::{MAX_ANCESTORS, MAX_NODES, MAX_TEXT};

pub(super) struct PageInfo {
    /// The page URL without its fragment.
    pub(super) url: Url,
    /// What relative URLs resolve against: `<base href>` or the page URL.
    base: Url,
    pub(super) canonical: Option<Url>,
    pub(super) og_url: Option<Url>,
    /// `meta[property]` / `meta[name]` (lowercased) → content, in page order.
    meta: Vec<(String, String)>,
    pub(super) h1: Option<String>,
    pub(super) title: Option<String>,
}

impl PageInfo {
    pub(super) fn read(doc: &Html, page_url: &Url) -> Self {
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

    pub(super) fn meta_value(&self, key: &str) -> Option<&str> {
        self.meta_values(key).next()
    }

    pub(super) fn meta_values<'a, 'k>(
        &'a self,
        key: &'k str,
    ) -> impl Iterator<Item = &'a str> + use<'a, 'k> {
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

    pub(super) fn absolute(&self, raw: &str) -> Option<String> {
        self.absolute_url(&decode_entities(raw)).map(String::from)
    }

    /// Whether `raw` (a product's `url` or `@id`) names this page: same
    /// path as the page URL, its canonical link or `og:url`. Hosts are not
    /// compared, so a recorded page served from another host still matches.
    pub(super) fn is_this_page(&self, raw: &str) -> bool {
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
pub(super) fn clean(s: &str) -> String {
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
pub(super) fn decode_entities(s: &str) -> String {
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
pub(super) fn in_related_block(el: ElementRef<'_>) -> bool {
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
