//! Reading money out of text the way people write it: `1 234,56 €`,
//! `12.500 лв.`, `13 500 DA`, `١٣٥٠٠ دج`, `$1,450`, `US$ 12.99`.
//!
//! The rule that matters most: a lone separator followed by exactly three
//! digits is a thousands separator (`12.500` is twelve thousand five hundred),
//! unless the source says its decimal separator is that character.
//! Text without a number gives no amount, never zero.

use rust_decimal::Decimal;
use std::str::FromStr;

use crate::domain::Currency;

/// What a source tells the parser about how it writes numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceHints {
    /// The source's decimal separator, when known ('.' or ','). Overrides
    /// the three-digit rule.
    pub decimal_separator: Option<char>,
    /// The currency to use when the text names none.
    pub currency: Option<Currency>,
}

/// A price read from text: either part may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPrice {
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
}

/// Reads the first number in `text` as an amount, and a currency named
/// anywhere in it (else the hint's).
///
/// ```
/// use pricehound::price::{parse_price, PriceHints};
/// let p = parse_price("12.500 лв.", PriceHints::default());
/// assert_eq!(p.amount.unwrap().to_string(), "12500"); // not 12.5
/// assert_eq!(p.currency.unwrap().code(), "BGN");
/// assert_eq!(parse_price("Free", PriceHints::default()).amount, None); // never zero
/// ```
pub fn parse_price(text: &str, hints: PriceHints) -> ParsedPrice {
    let normalized = normalize(text);
    ParsedPrice {
        amount: parse_amount_normalized(&normalized, hints),
        currency: find_currency(&normalized).or(hints.currency),
    }
}

/// Reads the first number in `text` as an amount.
pub fn parse_amount(text: &str, hints: PriceHints) -> Option<Decimal> {
    parse_amount_normalized(&normalize(text), hints)
}

/// Maps Arabic-Indic and Eastern Arabic digits to ASCII, the Arabic decimal
/// and thousands marks to '.' and a thin space, and every kind of space to ' '.
fn normalize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\u{0660}'..='\u{0669}' => char::from(b'0' + (c as u32 - 0x0660) as u8),
            '\u{06F0}'..='\u{06F9}' => char::from(b'0' + (c as u32 - 0x06F0) as u8),
            '\u{066B}' => '.',
            '\u{066C}' | '\u{00A0}' | '\u{2007}' | '\u{2009}' | '\u{202F}' | '\u{2002}'
            | '\u{2003}' | '\u{200A}' => ' ',
            '\u{200F}' | '\u{200E}' | '\u{061C}' => '\u{0}',
            c => c,
        })
        .filter(|c| *c != '\u{0}')
        .collect()
}

fn parse_amount_normalized(text: &str, hints: PriceHints) -> Option<Decimal> {
    let token = first_number_token(text)?;
    let digits = resolve_separators(&token, hints.decimal_separator)?;
    Decimal::from_str(&digits).ok().map(|d| d.normalize())
}

/// The first run of digits with the separators that can sit inside a number
/// (`.`, `,`, `'`, `’`, and single spaces between digit groups).
fn first_number_token(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let start = chars.iter().position(|c| c.is_ascii_digit())?;
    let mut token = String::new();
    let mut i = start;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() {
            token.push(c);
        } else if matches!(c, '.' | ',' | '\'' | '’' | ' ') {
            // A separator only counts when a digit follows it directly
            // (a space: when exactly three digits follow, as in "13 500").
            let next_digit = chars.get(i + 1).is_some_and(|n| n.is_ascii_digit());
            if !next_digit {
                break;
            }
            if c == ' ' {
                let group: usize = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_digit())
                    .count();
                if group != 3 {
                    break;
                }
                token.push(' ');
            } else {
                token.push(c);
            }
        } else {
            break;
        }
        i += 1;
    }
    Some(token)
}

/// Turns a token such as `1.234,56` into `1234.56`, deciding which
/// separator is the decimal one.
fn resolve_separators(token: &str, decimal_hint: Option<char>) -> Option<String> {
    let token: String = token
        .chars()
        .filter(|c| !matches!(c, ' ' | '\'' | '’'))
        .collect();
    let has_dot = token.contains('.');
    let has_comma = token.contains(',');
    let decimal: Option<char> = match (has_dot, has_comma) {
        (false, false) => None,
        // Both present: the last one is the decimal separator.
        (true, true) => token.chars().rev().find(|c| *c == '.' || *c == ','),
        _ => {
            let sep = if has_dot { '.' } else { ',' };
            let count = token.matches(sep).count();
            let after = token.rsplit(sep).next().unwrap_or("").len();
            match decimal_hint {
                Some(h) if h == sep && count == 1 => Some(sep),
                Some(h) if h != sep => None,
                _ if count > 1 => None,
                _ if after == 3 => None,
                _ => Some(sep),
            }
        }
    };
    let mut out = String::with_capacity(token.len());
    for c in token.chars() {
        match c {
            '0'..='9' => out.push(c),
            c if Some(c) == decimal => out.push('.'),
            _ => {}
        }
    }
    if out.is_empty() || out == "." {
        return None;
    }
    Some(out)
}

/// Currency symbols, codes and local names, longest first within a
/// shared prefix so `US$` wins over `$`.
const CURRENCY_NAMES: &[(&str, &str)] = &[
    ("US$", "USD"),
    ("usd", "USD"),
    ("$", "USD"),
    ("€", "EUR"),
    ("eur", "EUR"),
    ("£", "GBP"),
    ("₽", "RUB"),
    ("руб", "RUB"),
    ("лв", "BGN"),
    ("bgn", "BGN"),
    ("دج", "DZD"),
    ("د.ج", "DZD"),
    ("dzd", "DZD"),
    ("da", "DZD"),
    ("сум", "UZS"),
    ("so'm", "UZS"),
    ("uzs", "UZS"),
    ("₸", "KZT"),
    ("₴", "UAH"),
    ("грн", "UAH"),
    ("zł", "PLN"),
    ("₺", "TRY"),
    ("د.م", "MAD"),
    ("dh", "MAD"),
    ("د.ت", "TND"),
    ("د.إ", "AED"),
    ("aed", "AED"),
    ("ر.س", "SAR"),
    ("ج.م", "EGP"),
    ("₹", "INR"),
    ("¥", "JPY"),
    ("₩", "KRW"),
    ("chf", "CHF"),
    ("rub", "RUB"),
];

/// Finds a currency named in `text`: an ISO code standing alone, or a
/// symbol or local name from the table above. Short Latin names (`da`,
/// `dh`) only count as whole words.
pub fn find_currency(text: &str) -> Option<Currency> {
    let lower = text.to_lowercase();
    for (name, code) in CURRENCY_NAMES {
        let name_lower = name.to_lowercase();
        let whole_word = name_lower.chars().all(|c| c.is_ascii_alphabetic());
        if whole_word {
            if contains_word(&lower, &name_lower) {
                return Currency::new(code).ok();
            }
        } else if lower.contains(&name_lower) {
            return Currency::new(code).ok();
        }
    }
    // Any ISO 4217 code written as a word: "1200 DZD", "MAD 300".
    for word in text.split(|c: char| !c.is_ascii_alphabetic()) {
        if word.len() == 3
            && word.chars().all(|c| c.is_ascii_uppercase())
            && let Ok(c) = Currency::new(word)
        {
            return Some(c);
        }
    }
    None
}

fn contains_word(haystack: &str, word: &str) -> bool {
    haystack.match_indices(word).any(|(i, _)| {
        let before = haystack[..i].chars().next_back();
        let after = haystack[i + word.len()..].chars().next();
        !before.is_some_and(|c| c.is_alphabetic()) && !after.is_some_and(|c| c.is_alphabetic())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amount(text: &str) -> Option<String> {
        parse_amount(text, PriceHints::default()).map(|d| d.to_string())
    }
    fn price(text: &str) -> (Option<String>, Option<String>) {
        let p = parse_price(text, PriceHints::default());
        (
            p.amount.map(|d| d.to_string()),
            p.currency.map(|c| c.to_string()),
        )
    }

    #[test]
    fn local_formats() {
        assert_eq!(
            price("1 234,56 €"),
            (Some("1234.56".into()), Some("EUR".into()))
        );
        assert_eq!(
            price("€1.234,56"),
            (Some("1234.56".into()), Some("EUR".into()))
        );
        assert_eq!(
            price("12.500 лв."),
            (Some("12500".into()), Some("BGN".into()))
        );
        assert_eq!(
            price("13 500 DA"),
            (Some("13500".into()), Some("DZD".into()))
        );
        assert_eq!(
            price("١٣٥٠٠ دج"),
            (Some("13500".into()), Some("DZD".into()))
        );
        assert_eq!(price("$1,450"), (Some("1450".into()), Some("USD".into())));
        assert_eq!(
            price("1.450.000 сум"),
            (Some("1450000".into()), Some("UZS".into()))
        );
        assert_eq!(
            price("US$ 12.99"),
            (Some("12.99".into()), Some("USD".into()))
        );
        assert_eq!(
            price("от 2 990 ₽"),
            (Some("2990".into()), Some("RUB".into()))
        );
        assert_eq!(
            price("13\u{a0}500\u{a0}DA"),
            (Some("13500".into()), Some("DZD".into()))
        );
        assert_eq!(
            price("1\u{202f}234,5 €"),
            (Some("1234.5".into()), Some("EUR".into()))
        );
    }

    #[test]
    fn no_number_is_no_price_never_zero() {
        assert_eq!(amount("Free"), None);
        assert_eq!(amount("—"), None);
        assert_eq!(amount(""), None);
        assert_eq!(amount("цена по запросу"), None);
        assert_eq!(amount("0"), Some("0".into()));
    }

    #[test]
    fn decimal_hint_overrides_the_three_digit_rule() {
        let hints = PriceHints {
            decimal_separator: Some('.'),
            currency: None,
        };
        assert_eq!(parse_amount("12.500", hints).unwrap().to_string(), "12.5");
        let hints = PriceHints {
            decimal_separator: Some(','),
            currency: None,
        };
        assert_eq!(parse_amount("1.234", hints).unwrap().to_string(), "1234");
        assert_eq!(parse_amount("1,5", hints).unwrap().to_string(), "1.5");
    }

    #[test]
    fn short_latin_names_are_whole_words_only() {
        // "da" inside "data" is not dinars.
        assert_eq!(find_currency("data 100"), None);
        assert_eq!(find_currency("100 DA"), Currency::new("DZD").ok());
        assert_eq!(find_currency("100 MAD"), Currency::new("MAD").ok());
    }

    #[test]
    fn hostile_input_does_not_panic() {
        for s in [
            "...",
            ",,,",
            "1..2",
            "9".repeat(500).as_str(),
            "1,",
            ".5",
            "\u{0}\u{202e}12",
        ] {
            let _ = parse_price(s, PriceHints::default());
        }
        assert_eq!(amount(".5"), Some("5".into()));
        assert_eq!(
            amount("9".repeat(40).as_str()),
            None,
            "overflow is no price"
        );
    }
}
