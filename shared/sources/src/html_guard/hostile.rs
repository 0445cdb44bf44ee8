/// `unit` repeated after `prefix` to at most `bytes`.
pub fn page(prefix: &str, unit: &str, bytes: usize) -> String {
    let mut s = String::from(prefix);
    while s.len() + unit.len() <= bytes {
        s.push_str(unit);
    }
    s
}

/// `unit(0)`, `unit(1)`… to at most `bytes`.
pub fn numbered(unit: impl Fn(usize) -> String, bytes: usize) -> String {
    let mut s = String::new();
    for i in 0.. {
        let u = unit(i);
        if s.len() + u.len() > bytes {
            break;
        }
        s.push_str(&u);
    }
    s
}

/// Every shape, about `bytes` long (ASCII, so any prefix is a page too).
pub fn shapes(bytes: usize) -> Vec<(&'static str, String)> {
    let half = bytes / 2;
    vec![
        ("nested_divs", page("", "<div>", bytes)),
        ("nested_spans", page("", "<span>", bytes)),
        (
            "unclosed_inline",
            page("", "<b><i><a><span><font><nobr>", bytes),
        ),
        (
            "distinct_unclosed_b",
            numbered(|i| format!("<b id={i}>"), bytes),
        ),
        ("unclosed_a", page("", "<a>x", bytes)),
        ("unmatched_end_tags", page("", "</b></div></p>", bytes)),
        ("stray_end_under_spans", {
            let mut s = page("", "<span>", half.min(3_000));
            s.push_str(&page("", "</x>", bytes - s.len()));
            s
        }),
        ("stray_p_under_divs", {
            let mut s = page("", "<div>", half.min(2_500));
            s.push_str(&page("", "</p>", bytes - s.len()));
            s
        }),
        ("misnested_b_div", page("", "<b><div>x</b>", bytes)),
        ("nested_tables", page("", "<table><tr><td>", bytes)),
        ("nested_lists", page("", "<ul><li>", bytes)),
        ("misnested_select", page("", "<div><select><option>", bytes)),
        // Found by fuzzing: a style start tag in a select is ignored,
        // so what follows is markup, not raw text.
        (
            "style_in_select",
            page("<select><style><select>", "<div>", bytes),
        ),
        // Found by fuzzing: `</span>` closes through svg's
        // foreignObject, and the b's are re-created for each paragraph.
        // Found by fuzzing: "in table" a form closes no p, so the b's
        // stay in the list and are re-created for each paragraph.
        ("recreated_after_form_in_table", {
            let mut s = String::from("<table><p>x");
            for i in 0..90 {
                s.push_str(&format!("<b id={i}>"));
            }
            s.push_str("x<form><span>");
            s.push_str(&page("", "<p>x", bytes.saturating_sub(s.len())));
            s
        }),
        ("recreated_past_foreign_object", {
            let mut s = String::from("<span><svg><foreignObject>");
            for i in 0..90 {
                s.push_str(&format!("<b id={i}>"));
            }
            s.push_str("</span>");
            s.push_str(&page("", "<p>x", bytes.saturating_sub(s.len())));
            s
        }),
        ("formatting_recreated", {
            let mut s = String::from("<p>");
            s.push_str(
                &"<b><i><u><s><em><tt><big><small><strike><strong><code><font><nobr>".repeat(3),
            );
            s.push_str(&page("", "<p>x", bytes - s.len()));
            s
        }),
        (
            "attributes",
            numbered(
                |i| {
                    if i == 0 {
                        "<div".into()
                    } else {
                        format!(" a{i}")
                    }
                },
                bytes,
            ),
        ),
        ("comments", page("", "<!---->", bytes)),
        ("character_references", page("", "&amp;", bytes)),
        ("nested_svg", page("<svg>", "<g>", bytes)),
        ("nested_templates", page("", "<template>", bytes)),
        ("flat_elements", page("", "<i>x</i>", bytes)),
    ]
}
