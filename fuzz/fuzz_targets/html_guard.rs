//! The HTML parsing budget (`sources::html_guard`) on arbitrary HTML: the
//! scan and the counted parse never panic, and a page `parse_document`
//! accepts really is within the limits, counted on the tree html5ever built
//! (not on the scan's estimate, which is a model of the tree builder and
//! can be off). libFuzzer's `-timeout` in scripts/fuzz catches a page that
//! is accepted but slow to parse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::html_guard::{LIMITS, measure, parse_document};

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    let scanned = measure(html, &LIMITS);
    let Ok(doc) = parse_document(html) else {
        return;
    };
    assert!(scanned.is_ok(), "parse_document accepted what the scan refused");
    let (mut elements, mut deepest) = (0, 0);
    let mut todo = vec![(doc.tree.root(), 0usize)];
    while let Some((node, depth)) = todo.pop() {
        let depth = depth + usize::from(node.value().is_element());
        elements += usize::from(node.value().is_element());
        deepest = deepest.max(depth);
        todo.extend(node.children().map(|c| (c, depth)));
    }
    assert!(elements <= LIMITS.elements, "{elements} elements accepted");
    assert!(deepest <= LIMITS.depth, "depth {deepest} accepted");
});
