//! Property tests of the price parser: any amount written the way some
//! locale writes money reads back as the same amount and currency; any text
//! at all parses without panicking; text without digits never has an amount.

use pricehound::domain::Currency;
use pricehound::price::{PriceHints, parse_amount, parse_price};
use proptest::prelude::*;
use rust_decimal::Decimal;

/// How a locale writes a number.
#[derive(Debug, Clone)]
struct Style {
    /// Thousands separator; `None` writes the digits ungrouped.
    group: Option<char>,
    /// Indian grouping (`12,34,567`): groups of two above the last three.
    indian: bool,
    decimal: char,
    digits: Digits,
}

#[derive(Debug, Clone, Copy)]
enum Digits {
    Latin,
    ArabicIndic,
    Persian,
}

/// How a shop puts the currency next to it.
#[derive(Debug, Clone)]
struct Mark {
    text: &'static str,
    code: &'static str,
    before: bool,
    /// Between the mark and the number: nothing, a space or a NBSP.
    gap: &'static str,
}

/// Unambiguous currency marks: symbols, codes and local names.
const MARKS: &[(&str, &str)] = &[
    ("€", "EUR"),
    ("EUR", "EUR"),
    ("$", "USD"),
    ("US$", "USD"),
    ("USD", "USD"),
    ("C$", "CAD"),
    ("R$", "BRL"),
    ("HK$", "HKD"),
    ("£", "GBP"),
    ("¥", "JPY"),
    ("₹", "INR"),
    ("₽", "RUB"),
    ("руб.", "RUB"),
    ("лв.", "BGN"),
    ("грн", "UAH"),
    ("сум", "UZS"),
    ("DA", "DZD"),
    ("دج", "DZD"),
    ("DZD", "DZD"),
    ("CHF", "CHF"),
    ("zł", "PLN"),
    ("₺", "TRY"),
    ("TND", "TND"),
    ("KWD", "KWD"),
    ("AED", "AED"),
    ("د.إ", "AED"),
    ("ر.س", "SAR"),
    ("EGP", "EGP"),
];

/// (group, decimal) pairs that locales use, Arabic marks included.
const SEPARATORS: &[(Option<char>, char)] = &[
    (None, '.'),
    (None, ','),
    (Some(','), '.'),
    (Some('.'), ','),
    (Some(' '), ','),
    (Some(' '), '.'),
    (Some('\u{a0}'), ','),
    (Some('\u{2009}'), ','),
    (Some('\u{202f}'), ','),
    (Some('\''), '.'),
    (Some('’'), '.'),
    (Some('\''), ','),
    (Some('\u{66c}'), '\u{66b}'),
    (None, '\u{66b}'),
];

fn style() -> impl Strategy<Value = Style> {
    (
        prop::sample::select(SEPARATORS),
        any::<bool>(),
        prop::sample::select(&[Digits::Latin, Digits::ArabicIndic, Digits::Persian][..]),
    )
        .prop_map(|((group, decimal), indian, digits)| Style {
            group,
            indian: indian && group == Some(','),
            decimal,
            digits,
        })
}

fn mark() -> impl Strategy<Value = Mark> {
    (
        prop::sample::select(MARKS),
        any::<bool>(),
        prop::sample::select(&["", " ", "\u{a0}"][..]),
    )
        .prop_map(|((text, code), before, gap)| Mark {
            text,
            code,
            before,
            gap,
        })
}

/// An amount up to 10^12 with up to three fraction digits, and how many
/// fraction digits to write (trailing zeros included, as shops do: "12.50").
fn amount() -> impl Strategy<Value = (u64, u32, u32)> {
    (0u64..=1_000_000_000_000, 0u32..=3)
        .prop_flat_map(|(int, places)| (Just(int), 0..10u32.pow(places), Just(places)))
}

fn group_digits(int: &str, style: &Style) -> String {
    let Some(sep) = style.group else {
        return int.to_string();
    };
    let mut groups: Vec<&str> = Vec::new();
    let (mut rest, last) = int.split_at(int.len().saturating_sub(3));
    groups.push(last);
    let size = if style.indian { 2 } else { 3 };
    while !rest.is_empty() {
        let (head, tail) = rest.split_at(rest.len().saturating_sub(size));
        groups.push(tail);
        rest = head;
    }
    groups.reverse();
    groups.join(&sep.to_string())
}

/// The number as the locale writes it, in Latin digits.
fn format_number(int: u64, frac: u32, places: u32, style: &Style) -> String {
    let mut s = group_digits(&int.to_string(), style);
    if places > 0 {
        s.push(style.decimal);
        s.push_str(&format!("{frac:0width$}", width = places as usize));
    }
    s
}

fn transliterate(s: &str, digits: Digits) -> String {
    let zero = match digits {
        Digits::Latin => return s.to_string(),
        Digits::ArabicIndic => 0x660,
        Digits::Persian => 0x6F0,
    };
    s.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(zero + d).unwrap(),
            None => c,
        })
        .collect()
}

/// The decimal-separator hint a source in this locale would give, needed
/// only when the number is ambiguous: a lone `.` or `,` followed by exactly
/// three digits (`1.500` is 1500 in Germany and 1.5 in Tunisia).
fn hint_for(latin: &str, style: &Style) -> Option<char> {
    let seps: Vec<(usize, char)> = latin
        .char_indices()
        .filter(|(_, c)| !c.is_ascii_digit())
        .collect();
    let ambiguous = matches!(seps.as_slice(), [(i, '.' | ',')] if latin.len() - i - 1 == 3);
    if !ambiguous {
        return None;
    }
    Some(match style.decimal {
        '.' | ',' => style.decimal,
        // Arabic decimal mark: say the lone Latin mark is not a decimal one.
        _ if style.group == Some('.') => ',',
        _ => '.',
    })
}

fn expected(int: u64, frac: u32, places: u32) -> Decimal {
    Decimal::from(int) + Decimal::new(i64::from(frac), places)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Formatting then parsing gives back the amount and the currency.
    #[test]
    fn every_locale_style_round_trips(
        (int, frac, places) in amount(),
        style in style(),
        mark in mark(),
    ) {
        let latin = format_number(int, frac, places, &style);
        let number = transliterate(&latin, style.digits);
        let text = if mark.before {
            format!("{}{}{number}", mark.text, mark.gap)
        } else {
            format!("{number}{}{}", mark.gap, mark.text)
        };
        let hints = PriceHints {
            decimal_separator: hint_for(&latin, &style),
            currency: None,
        };
        let parsed = parse_price(&text, hints);
        prop_assert_eq!(parsed.amount, Some(expected(int, frac, places)), "text {:?} hints {:?}", text, hints);
        prop_assert_eq!(parsed.currency, Some(Currency::new(mark.code).unwrap()), "text {:?}", text);
    }

    /// With no currency in the text, the source's currency is the one.
    #[test]
    fn the_hint_currency_fills_in(
        (int, frac, places) in amount(),
        style in style(),
        code in prop::sample::select(&["DZD", "RUB", "TND", "EUR", "UZS"][..]),
    ) {
        let latin = format_number(int, frac, places, &style);
        let text = transliterate(&latin, style.digits);
        let currency = Currency::new(code).ok();
        let hints = PriceHints { decimal_separator: hint_for(&latin, &style), currency };
        let parsed = parse_price(&text, hints);
        prop_assert_eq!(parsed.amount, Some(expected(int, frac, places)), "text {:?}", text);
        prop_assert_eq!(parsed.currency, currency);
    }

    /// A locale's own hint is always safe to give, ambiguous or not.
    #[test]
    fn the_locale_hint_never_hurts(
        (int, frac, places) in amount(),
        style in style().prop_filter("Latin separators", |s| matches!(s.decimal, '.' | ',')),
    ) {
        let text = format_number(int, frac, places, &style);
        let hints = PriceHints { decimal_separator: Some(style.decimal), currency: None };
        prop_assert_eq!(parse_amount(&text, hints), Some(expected(int, frac, places)), "text {:?}", text);
    }

    /// Nothing panics, amounts are never negative, and `parse_amount` agrees
    /// with `parse_price`.
    #[test]
    fn arbitrary_text_never_panics(text in any::<String>(), sep in prop::option::of(prop::sample::select(&['.', ',', '\''][..]))) {
        let hints = PriceHints { decimal_separator: sep, currency: Currency::new("SEK").ok() };
        let parsed = parse_price(&text, hints);
        prop_assert!(parsed.amount.is_none_or(|a| !a.is_sign_negative()));
        prop_assert_eq!(parse_amount(&text, hints), parsed.amount);
    }

    /// The same, over the characters prices are made of, where bugs live.
    #[test]
    fn price_like_text_never_panics(
        text in "[0-9٠-٩۰-۹.,'’٫٬ \u{a0}\u{2009}\u{200f}€$₽¥£a-zA-Zа-я%x×:/\\-–]{0,40}",
    ) {
        let parsed = parse_price(&text, PriceHints::default());
        prop_assert!(parsed.amount.is_none_or(|a| !a.is_sign_negative()));
    }

    /// No digit, no amount: never zero, never a guess.
    #[test]
    fn text_without_digits_has_no_amount(text in "\\PN{0,60}") {
        prop_assert_eq!(parse_amount(&text, PriceHints::default()), None);
        let hints = PriceHints { decimal_separator: Some(','), currency: Currency::new("EUR").ok() };
        prop_assert_eq!(parse_amount(&text, hints), None);
    }
}
