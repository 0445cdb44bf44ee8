use super::page::decode_entities;
use super::parse_availability;
use crate::domain::Availability;

/// Found by `scripts/fuzz product_page`: an `&` followed by multi-byte
/// characters used to slice inside a character and panic.
#[test]
fn entities_next_to_non_ascii_text_do_not_panic() {
    assert_eq!(decode_entities("&ééééééé"), "&ééééééé");
    assert_eq!(decode_entities("a&éé;b &amp; c"), "a&éé;b & c");
    assert_eq!(decode_entities("&#1097;и"), "щи");
    assert_eq!(decode_entities("x&"), "x&");
}

#[test]
fn availability_words() {
    assert_eq!(
        parse_availability("https://schema.org/InStock"),
        Some(Availability::InStock)
    );
    assert_eq!(
        parse_availability("http://schema.org/OutOfStock"),
        Some(Availability::OutOfStock)
    );
    assert_eq!(
        parse_availability("schema:SoldOut"),
        Some(Availability::OutOfStock)
    );
    assert_eq!(parse_availability("PreOrder"), Some(Availability::InStock));
    assert_eq!(
        parse_availability("out of stock"),
        Some(Availability::OutOfStock)
    );
    assert_eq!(parse_availability("oos"), Some(Availability::OutOfStock));
    assert_eq!(parse_availability("pending"), None);
}

#[test]
fn entities_decode() {
    assert_eq!(
        decode_entities("Tom &amp; Jerry &#8211; x &#x41; &bogus; &"),
        "Tom & Jerry – x A &bogus; &"
    );
}
