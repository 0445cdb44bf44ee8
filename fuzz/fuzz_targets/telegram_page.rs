//! The Telegram preview page parser on arbitrary HTML: it must never panic,
//! and posts come back in ascending id order without duplicates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::telegram_channel::parse_page;

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(page) = parse_page(html, "bijouterie_or_dz") {
        assert!(
            page.posts.windows(2).all(|w| w[0].id < w[1].id),
            "posts out of order or duplicated"
        );
    }
});
