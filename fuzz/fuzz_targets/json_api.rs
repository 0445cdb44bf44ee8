//! The JSON feed extractor on arbitrary JSON, with the `gold-spot-usd`
//! source's pointers: it must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::config::JsonApiConfig;
use pricehound::sources::json_api::extract;
use pricehound::sources::{SourceKind, SourcesConfig};
use std::sync::LazyLock;

static CONFIG: LazyLock<JsonApiConfig> = LazyLock::new(|| {
    let sources = SourcesConfig::default_sources();
    match &sources
        .source("gold-spot-usd")
        .expect("a default source")
        .kind
    {
        SourceKind::JsonApi(cfg) => cfg.clone(),
        other => panic!("gold-spot-usd is a {} source", other.name()),
    }
});

fuzz_target!(|data: &[u8]| {
    let Ok(doc) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(listings) = extract(&doc, &CONFIG) else {
        return;
    };
    for listing in &listings {
        if let Some(price) = &listing.price {
            assert!(!price.amount.is_sign_negative(), "negative price in {doc}");
        }
    }
});
