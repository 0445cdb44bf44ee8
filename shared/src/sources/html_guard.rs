//! A check every HTML parser runs before parsing untrusted pages.
//!
//! html5ever, behind `scraper`, walks its stack of open elements for each
//! block-level tag, so a page nesting thousands of `<div>`s costs time
//! growing with the square of the depth: 10,000 take seconds, a 5 MB page of
//! them hours. No real page nests more than a few hundred, so deeper pages
//! are refused with a clear error instead of hanging a Lambda.

use super::ScrapeError;

/// Deeper nesting of block elements is refused before parsing.
pub const MAX_BLOCK_NESTING: usize = 4_000;

/// Refuses a page that nests block elements deeper than [`MAX_BLOCK_NESTING`].
pub fn check(html: &str) -> Result<(), ScrapeError> {
    if block_nesting_exceeds(html, MAX_BLOCK_NESTING) {
        return Err(ScrapeError::Layout(format!(
            "the page nests more than {MAX_BLOCK_NESTING} block elements (div, section, ul…) inside each other; \
             refused unparsed: building such a tree takes time growing with the square of the depth"
        )));
    }
    Ok(())
}

/// Whether `html` nests the elements whose start and end tags make the
/// HTML tree builder walk its whole stack of open elements (`div`, `ul`,
/// `section`…) deeper than `limit`. html5ever does that walk for every
/// such tag, so 10,000 nested `<div>`s take seconds and a 5 MB page of
/// them would take hours; no real page nests more than a few hundred.
/// A linear scan of the tags, skipping comments and raw text (scripts,
/// styles); an estimate, but one that only errs on unclosed tags.
pub fn block_nesting_exceeds(html: &str, limit: usize) -> bool {
    const BLOCKS: &[&[u8]] = &[
        b"address",
        b"article",
        b"aside",
        b"blockquote",
        b"center",
        b"details",
        b"dialog",
        b"dir",
        b"div",
        b"dl",
        b"fieldset",
        b"figcaption",
        b"figure",
        b"footer",
        b"header",
        b"hgroup",
        b"main",
        b"menu",
        b"nav",
        b"ol",
        b"search",
        b"section",
        b"summary",
        b"ul",
        b"table",
        b"form",
        b"pre",
        b"listing",
    ];
    const RAW: &[&[u8]] = &[
        b"script",
        b"style",
        b"textarea",
        b"title",
        b"xmp",
        b"noscript",
        b"template",
    ];
    let b = html.as_bytes();
    let mut i = 0;
    let mut depth = 0usize;
    let name_at = |mut j: usize| {
        let start = j;
        while j < b.len() && b[j].is_ascii_alphanumeric() {
            j += 1;
        }
        (start, j)
    };
    let find = |from: usize, needle: &[u8]| {
        b.get(from..)
            .and_then(|rest| {
                rest.windows(needle.len())
                    .position(|w| w.eq_ignore_ascii_case(needle))
            })
            .map(|p| from + p + needle.len())
    };
    while let Some(p) = b
        .get(i..)
        .and_then(|rest| rest.iter().position(|c| *c == b'<'))
    {
        i += p + 1;
        match b.get(i) {
            Some(b'!') => {
                let end = if b[i..].starts_with(b"!--") {
                    find(i, b"-->")
                } else {
                    find(i, b">")
                };
                match end {
                    Some(e) => i = e,
                    None => return false,
                }
            }
            Some(b'/') => {
                let (s, e) = name_at(i + 1);
                if BLOCKS.iter().any(|n| n.eq_ignore_ascii_case(&b[s..e])) {
                    depth = depth.saturating_sub(1);
                }
                i = e;
            }
            Some(c) if c.is_ascii_alphabetic() => {
                let (s, e) = name_at(i);
                let name = &b[s..e];
                if let Some(raw) = RAW.iter().find(|n| n.eq_ignore_ascii_case(name)) {
                    let mut close = b"</".to_vec();
                    close.extend_from_slice(raw);
                    match find(e, &close) {
                        Some(end) => i = end,
                        None => return false,
                    }
                    continue;
                }
                if BLOCKS.iter().any(|n| n.eq_ignore_ascii_case(name)) {
                    depth += 1;
                    if depth > limit {
                        return true;
                    }
                }
                i = e;
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_pages_are_refused_and_normal_ones_pass() {
        let deep = "<div>".repeat(MAX_BLOCK_NESTING + 1);
        assert!(check(&deep).is_err());
        let flat = "<div></div>".repeat(50_000);
        assert!(check(&flat).is_ok());
        // Tags inside scripts and comments do not count.
        let hidden = format!("<script>{deep}</script><!-- {deep} -->");
        assert!(check(&hidden).is_ok());
        assert!(check("").is_ok());
        assert!(check("<").is_ok());
    }
}
