//! The HTML parsing budget (`sources::html_guard`) on arbitrary HTML: the
//! scan never panics, and a page it accepts never builds much more than the
//! scan counted. The scan models html5ever's stack of open elements and its
//! list of active formatting elements; if the model under-counts some
//! construct, a crafted page could slip through the budget, and this target
//! finds it: the real element count must stay within the model's count plus
//! one round of re-created formatting elements, and the real nesting within
//! the model's depth plus what misnested formatting end tags can add.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pricehound::sources::html_guard::{LIMITS, measure, parse_document};

fuzz_target!(|data: &[u8]| {
    let Ok(html) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(usage) = measure(html, &LIMITS) else {
        return;
    };
    let doc = parse_document(html).expect("accepted by measure, so by parse_document");
    let (mut elements, mut deepest) = (0, 0);
    let mut todo = vec![(doc.tree.root(), 0usize)];
    while let Some((node, depth)) = todo.pop() {
        let depth = depth + usize::from(node.value().is_element());
        elements += usize::from(node.value().is_element());
        deepest = deepest.max(depth);
        todo.extend(node.children().map(|c| (c, depth)));
    }
    assert!(
        elements <= usage.elements + usage.open_formatting + usage.template_table_parts + 3,
        "{elements} real elements, the model counted {usage:?}"
    );
    assert!(
        deepest <= usage.depth + 1 + 8 * usage.misnested + usage.template_table_parts,
        "real depth {deepest}, the model counted {usage:?}"
    );
});
