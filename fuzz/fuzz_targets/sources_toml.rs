//! `sources.toml` parsing and validation on arbitrary text: a config is
//! outside data too, and a bad one must be an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::SourcesConfig;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(config) = SourcesConfig::from_toml(text) else {
        return;
    };
    // What validation promises: unique ids, and every source in a defined group.
    let mut ids = std::collections::HashSet::new();
    for s in &config.sources {
        assert!(
            ids.insert(s.id.as_str()),
            "id {} is used twice",
            s.id.as_str()
        );
        assert!(
            config.groups.contains_key(&s.group),
            "source {} is in the undefined group {:?}",
            s.id.as_str(),
            s.group
        );
    }
});
