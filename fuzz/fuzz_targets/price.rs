//! `parse_price` on arbitrary text, with every kind of hint: it must never
//! panic, and what it returns must hold together.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::domain::Currency;
use pricehound::price::{PriceHints, parse_amount, parse_price};

fuzz_target!(|data: &[u8]| {
    // The first byte picks the hints; the rest is the text.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let decimal_separator = match pick & 0b11 {
        0 => None,
        1 => Some('.'),
        2 => Some(','),
        _ => Some('\''),
    };
    let currency = match (pick >> 2) & 0b11 {
        0 => None,
        1 => Currency::new("TND").ok(),
        2 => Currency::new("SEK").ok(),
        _ => Currency::new("CAD").ok(),
    };
    let hints = PriceHints {
        decimal_separator,
        currency,
    };
    let parsed = parse_price(text, hints);
    if let Some(amount) = parsed.amount {
        assert!(!amount.is_sign_negative(), "negative amount from {text:?}");
        assert!(
            text.chars().any(|c| c.is_numeric()),
            "an amount from text without digits: {text:?}"
        );
    }
    // parse_amount is parse_price's amount.
    assert_eq!(parse_amount(text, hints), parsed.amount);
});
