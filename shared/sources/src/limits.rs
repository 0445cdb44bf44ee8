//! Length caps on strings that come from pages, applied before an
//! observation leaves the scraper. A page can put megabytes in a product
//! name or an image URL; unbounded, one such field would exceed an SQS
//! message (256 KiB) or a DynamoDB item (400 KB) and the observation would
//! fail at every retry until the DLQ. The caps are far above any real
//! product name or link, and count characters (never bytes, so a cut never
//! lands inside a UTF-8 sequence).

use super::listing::Listing;

/// The longest item name kept (characters).
pub const MAX_NAME_CHARS: usize = 300;
/// The longest brand kept (characters).
pub const MAX_BRAND_CHARS: usize = 200;
/// The longest URL kept, for links and images (characters). Longer URLs
/// are dropped rather than cut: a cut URL points somewhere else.
pub const MAX_URL_CHARS: usize = 2_000;

/// The first `max` characters of `s`.
pub fn cap_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((end, _)) => s.get(..end).unwrap_or(s).to_string(),
        None => s.to_string(),
    }
}

/// `url` if it has at most [`MAX_URL_CHARS`] characters.
pub fn bounded_url(url: Option<String>) -> Option<String> {
    url.filter(|u| u.chars().count() <= MAX_URL_CHARS)
}

/// A listing with every page-supplied field within its cap.
pub fn capped(mut l: Listing) -> Listing {
    if l.name.chars().count() > MAX_NAME_CHARS {
        l.name = cap_chars(&l.name, MAX_NAME_CHARS);
    }
    l.details.brand = l.details.brand.map(|b| cap_chars(&b, MAX_BRAND_CHARS));
    l.details.url = bounded_url(l.details.url);
    l.details.image = bounded_url(l.details.image);
    l
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ItemDetails;

    #[test]
    fn caps_count_characters_not_bytes() {
        assert_eq!(cap_chars("abc", 5), "abc");
        assert_eq!(cap_chars("abcdef", 3), "abc");
        // Multi-byte characters at the cut stay whole.
        assert_eq!(cap_chars("ééé", 2), "éé");
        assert_eq!(cap_chars("🙂🙂🙂", 1), "🙂");
        assert_eq!(cap_chars("", 0), "");
    }

    #[test]
    fn a_hostile_listing_is_bounded() {
        let l = capped(Listing {
            key: "k".into(),
            name: "я".repeat(1_000_000),
            details: ItemDetails {
                url: Some(format!("https://shop.example/{}", "a".repeat(5_000))),
                image: Some("https://img.example/x.png".into()),
                brand: Some("b".repeat(10_000)),
            },
            ..Listing::default()
        });
        assert_eq!(l.name.chars().count(), MAX_NAME_CHARS);
        assert_eq!(l.details.brand.map(|b| b.len()), Some(MAX_BRAND_CHARS));
        assert_eq!(l.details.url, None, "a cut URL would point elsewhere");
        assert_eq!(
            l.details.image.as_deref(),
            Some("https://img.example/x.png")
        );
    }
}
