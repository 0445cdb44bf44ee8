//! Telegram's HTML parse mode: escaping, money and time formatting for
//! messages, and splitting long replies under the 4096-character limit.
//!
//! An unescaped `<` in a scraped name makes Telegram refuse the whole
//! message ("can't parse entities"), so every string that did not come from
//! our catalogues goes through [`escape`].

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

use crate::domain::Money;
use crate::domain::user::Lang;

/// Escapes `<`, `>`, `&` and `"` (for attribute values) for HTML parse mode.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `max` characters of `s`, with an ellipsis when cut.
pub fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The number of characters Telegram counts in a message: the text after
/// entity parsing, so tags do not count and an entity counts as one.
pub fn visible_len(html: &str) -> usize {
    let mut n = 0;
    let mut in_tag = false;
    let mut in_entity = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            '&' if !in_tag => {
                in_entity = true;
                n += 1;
            }
            ';' if in_entity => in_entity = false,
            _ if in_tag || in_entity => {}
            _ => n += 1,
        }
    }
    n
}

/// Splits a reply into messages of at most `max` visible characters, at
/// line breaks. Our texts keep every tag within one line, so a cut between
/// lines never splits a tag. A single line longer than `max` (a hostile
/// scraped name) is cut by characters with its tags dropped.
pub fn split(html: &str, max: usize) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut current_len = 0;
    for line in html.split('\n') {
        let line_len = visible_len(line);
        if line_len > max {
            if !current.is_empty() {
                parts.push(std::mem::take(&mut current));
                current_len = 0;
            }
            let chars: Vec<char> = plain(line).chars().collect();
            for chunk in chars.chunks(max) {
                parts.push(escape(&chunk.iter().collect::<String>()));
            }
            continue;
        }
        let extra = if current.is_empty() { 0 } else { 1 };
        if current_len + extra + line_len > max {
            parts.push(std::mem::take(&mut current));
            current_len = 0;
        }
        if !current.is_empty() {
            current.push('\n');
            current_len += 1;
        }
        current.push_str(line);
        current_len += line_len;
    }
    if !current.trim().is_empty() || parts.is_empty() {
        parts.push(current);
    }
    parts
}

/// The text of a rendered text without tags, entities decoded: what the
/// user reads (button labels, toasts, the length of a line).
pub fn plain(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if in_tag => {}
            c => out.push(c),
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// A price as people of `lang` write it: grouped thousands, the currency's
/// minor units when the amount has cents, the ISO code after.
pub fn money(lang: Lang, m: &Money) -> String {
    format!(
        "{} {}",
        amount(lang, m.amount, m.currency.minor_units()),
        m.currency
    )
}

/// An amount with grouping: `1,234.5` in English, `1 234,5` in Russian and
/// French (a narrow no-break space), `1,234.5` in Arabic (Western digits,
/// which Arabic-speaking shoppers in the Maghreb read on price tags).
pub fn amount(lang: Lang, amount: Decimal, minor_units: u32) -> String {
    let rounded = if amount.fract().is_zero() {
        amount.trunc()
    } else {
        amount.round_dp(minor_units.max(2))
    };
    let mut text = rounded.normalize().to_string();
    if !rounded.fract().is_zero() && minor_units > 0 {
        // 12.5 EUR reads as 12.50 EUR.
        text = format!("{:.*}", minor_units.max(rounded.scale()) as usize, rounded);
    }
    let (neg, text) = match text.strip_prefix('-') {
        Some(t) => (true, t.to_string()),
        None => (false, text),
    };
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i.to_string(), Some(f.to_string())),
        None => (text, None),
    };
    let (group, decimal) = match lang {
        Lang::En | Lang::Ar => (",", "."),
        Lang::Ru | Lang::Fr => ("\u{202f}", ","),
    };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push_str(group);
        }
        grouped.push(c);
    }
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    out.push_str(&grouped);
    if let Some(f) = frac {
        out.push_str(decimal);
        out.push_str(&f);
    }
    out
}

/// A date and time in UTC, compact: `2026-11-22 14:05 UTC`.
pub fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Currency;
    use std::str::FromStr;

    fn m(a: &str, c: &str) -> Money {
        Money::new(Decimal::from_str(a).unwrap(), Currency::new(c).unwrap())
    }

    #[test]
    fn escapes_what_telegram_parses() {
        assert_eq!(escape("<b>A & B</b>"), "&lt;b&gt;A &amp; B&lt;/b&gt;");
        assert_eq!(escape("\"q\""), "&quot;q&quot;");
        assert_eq!(escape("ذهب 18"), "ذهب 18");
    }

    #[test]
    fn money_follows_the_language() {
        assert_eq!(money(Lang::En, &m("1234.5", "EUR")), "1,234.50 EUR");
        assert_eq!(money(Lang::Ru, &m("12500", "BGN")), "12\u{202f}500 BGN");
        assert_eq!(
            money(Lang::Fr, &m("1234567.891", "KWD")),
            "1\u{202f}234\u{202f}567,891 KWD"
        );
        assert_eq!(money(Lang::En, &m("13500", "DZD")), "13,500 DZD");
        assert_eq!(money(Lang::En, &m("99", "JPY")), "99 JPY");
        assert_eq!(money(Lang::Ar, &m("0.1", "USD")), "0.10 USD");
    }

    #[test]
    fn visible_length_ignores_tags_and_counts_entities_once() {
        assert_eq!(visible_len("<b>ab</b> &amp; <a href=\"x\">c</a>"), 6);
    }

    #[test]
    fn long_replies_split_at_lines_under_the_limit() {
        let line = "<b>item</b> — 1,234 EUR";
        let text = vec![line; 500].join("\n");
        let parts = split(&text, 4096);
        assert!(parts.len() > 1);
        for p in &parts {
            assert!(visible_len(p) <= 4096);
            assert_eq!(p.matches("<b>").count(), p.matches("</b>").count());
        }
        assert_eq!(parts.join("\n"), text);
    }

    #[test]
    fn a_single_huge_line_is_cut_without_tags() {
        let text = format!("<b>{}</b>", "x".repeat(10_000));
        let parts = split(&text, 4096);
        assert_eq!(parts.len(), 3);
        assert!(
            parts
                .iter()
                .all(|p| visible_len(p) <= 4096 && !p.contains('<'))
        );
    }
}
