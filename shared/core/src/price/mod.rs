//! Reading money out of text the way people write it: `1 234,56 €`,
//! `12.500 лв.`, `13 500 DA`, `١٣٥٠٠ دج`, `$1,450`, `US$ 12.99`,
//! `Rs. 1,23,456`, `1'234.50 CHF`, `1.234,- €`.
//!
//! # How an amount is chosen
//!
//! The text is read as a sequence of numbers and currency mentions. The
//! amount is the first number written right next to a currency (only spaces,
//! `.` or `:` between them, as in `US$ 12.99`, `Rs. 1,23,456`, `12 500 лв.`);
//! when no number touches a currency, it is the first number. So
//! `Было 1 599, стало 1 299 ₽` reads 1299 and `12 шт. 150` reads 150. These
//! numbers are never an amount, and the search goes on past them:
//!
//! - a percentage (`-20%`, `Save 20 %`, Turkish `%20`): a discount is not a price;
//! - a quantity, `<n>x` / `<n> ×` / `<n> pcs` / `<n> шт` (`2x 19.99` is 19.99);
//! - a time or a fraction (`10:30`, `1/2`) and a date (`12.05.2024`: its
//!   digit groups are not thousands groups);
//! - a number glued to letters that are not a currency (`RTX4070`, `128GB`, `2nd`);
//! - a number too large for a `Decimal` (28–29 digits): no price, not a wrong one.
//!
//! A range (`12.50 - 15.00 €`, `от 2 990 до 3 500 ₽`) gives its first,
//! lowest number: "from" is the price a buyer can pay. A sign is ignored:
//! amounts are never negative.
//!
//! # Separators
//!
//! Spaces of every width (NBSP, thin, narrow NBSP…), `'` and `’` and the
//! Arabic `٬` only group thousands; the Arabic `٫` is always the decimal
//! mark. For `.` and `,`:
//!
//! - both present: the last one is the decimal separator (`1.234.567,89`,
//!   `1,234.56`), whatever the hint, since only that reading is possible;
//! - one of them more than once: it groups thousands (`1.450.000`, and Indian
//!   `1,23,456`);
//! - once, followed by other than exactly three digits: decimal (`12,50`,
//!   `0.5`); also when the part before it has more than three digits
//!   (`1234.567`) or is zero (`0,990`), because no one groups those;
//! - once, followed by exactly three digits (`12.500`, `1,450`): the source's
//!   decimal-separator hint decides; without one, a currency with three minor
//!   units (TND, KWD, BHD, JOD, OMR, IQD, LYD; named in the text or hinted)
//!   reads it as decimal (`12.500 TND` is twelve and a half dinars); otherwise
//!   it groups thousands (`12.500 лв.` is twelve thousand five hundred);
//! - followed by a dash (`12.-`, `12,-`, `1.234,- €`): no fraction.
//!
//! Digit groups are checked: after a grouping separator come exactly three
//! digits (or the Indian 2-2-…-3 pattern with commas), so `12.05.2024` is
//! not read as twelve million.
//!
//! # Currencies
//!
//! Symbols (`€`, `₽`, `US$`, `C$`, `R$`, `HK$`…), ISO codes (`EUR`, `TND`;
//! upper case when they are not in the table below) and local names (`руб`,
//! `лв`, `DA`, `دج`, `Rs`…). Names made of letters only count as whole words,
//! so `da` in `data` and `lei` in `Leipzig` are not currencies. Some marks
//! stand for several currencies: `$` is USD unless the hint is another
//! dollar (or peso); `¥` is JPY unless the hint is CNY; `kr`, `dinar`,
//! `dirham` and `CFA` give no currency unless the hint is one they can mean.
//! When the text names a currency next to the amount, that one wins; else the
//! first one named anywhere; else the hint's.
//!
//! Text without a number gives no amount, never zero. The parser allocates
//! nothing per call (a few tables are built once) and runs in linear time.
//!
//! # Prices in shop text
//!
//! [`parse_price`] reads one price. Shop text often shows several numbers
//! ("Was €649.00 Now €599.00 · Free shipping over €50 · or 4 x €149.75"):
//! [`choose_price_in_text`] picks the selling price among them, passing over
//! was/list prices, savings, percentages, shipping thresholds and
//! instalments, and says which numbers it passed over and why.
//! [`strict_decimal`] reads a plain number (`34990.00`,
//! `2.65031e3`) exactly, the way structured data (JSON-LD, JSON APIs) writes
//! prices.

use rust_decimal::Decimal;
use std::str::FromStr;

use crate::domain::Currency;

mod currency;
mod locale;
mod number;
mod text;

#[cfg(test)]
mod tests;

pub use locale::{locale_currency, locale_decimal_separator};
pub use text::{TextPrice, choose_price_in_clauses, choose_price_in_text};

use currency::Mentions;
use number::{is_not_an_amount, is_range_gap, next_number};

/// What a source tells the parser about how it writes numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PriceHints {
    /// The source's decimal separator, when known ('.' or ','). Breaks the
    /// tie when a lone separator is followed by exactly three digits; it
    /// never overrides what the digits make certain (`12.50` is 12.5 and
    /// `1.234,56` is 1234.56 whatever the hint).
    pub decimal_separator: Option<char>,
    /// The currency to use when the text names none, and to pick among the
    /// currencies an ambiguous mark can mean (`$` with CAD, `kr` with SEK).
    pub currency: Option<Currency>,
}

impl PriceHints {
    /// Hints for a locale tag such as `de-CH`, `fr_DZ`, `ru-RU` or `en`: the
    /// decimal separator the locale writes and the currency of its region.
    /// Unknown parts give `None`, never a guess.
    ///
    /// ```
    /// use pricehound_core::price::PriceHints;
    /// let h = PriceHints::for_locale("de-CH");
    /// assert_eq!(h.decimal_separator, Some('.'));
    /// assert_eq!(h.currency.unwrap().code(), "CHF");
    /// assert_eq!(PriceHints::for_locale("ru").decimal_separator, Some(','));
    /// ```
    pub fn for_locale(tag: &str) -> PriceHints {
        PriceHints {
            decimal_separator: locale_decimal_separator(tag),
            currency: locale_currency(tag),
        }
    }
}

/// A price read from text: either part may be missing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedPrice {
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
}

/// Reads the amount and currency of a price in `text` (see the module
/// documentation for the rules).
///
/// ```
/// use pricehound_core::price::{parse_price, PriceHints};
/// let p = parse_price("12.500 лв.", PriceHints::default());
/// assert_eq!(p.amount.unwrap().to_string(), "12500"); // not 12.5
/// assert_eq!(p.currency.unwrap().code(), "BGN");
/// assert_eq!(parse_price("Free", PriceHints::default()).amount, None); // never zero
/// assert_eq!(parse_price("-20%", PriceHints::default()).amount, None); // a discount
/// ```
pub fn parse_price(text: &str, hints: PriceHints) -> ParsedPrice {
    let mentions = Mentions::scan(text, hints.currency);
    // The currency of the text as a whole: the first one named, else the hint.
    let text_currency = if mentions.n > 0 {
        mentions.items[0].currency
    } else {
        hints.currency
    };
    let mut first: Option<Decimal> = None;
    // The previous number (its end) and the first amount of the range it
    // belongs to, for "12.50 - 15.00 €".
    let mut previous: Option<(usize, Decimal)> = None;
    let mut pos = 0;
    while let Some(token) = next_number(text, &mut pos) {
        if is_not_an_amount(text, &token, &mentions) {
            previous = None;
            continue;
        }
        let adjacent = mentions.adjacent(text, token.start, token.end);
        let currency = adjacent.map_or(text_currency, |m| m.currency);
        let Some(value) = token.value(hints.decimal_separator, currency) else {
            previous = None;
            continue;
        };
        let range_start = match previous {
            Some((end, start_value)) if is_range_gap(&text[end..token.start]) => start_value,
            _ => value,
        };
        if let Some(m) = adjacent {
            return ParsedPrice {
                amount: Some(range_start),
                currency: m.currency,
            };
        }
        first.get_or_insert(value);
        previous = Some((token.end, range_start));
    }
    ParsedPrice {
        amount: first,
        currency: text_currency,
    }
}

/// The amount `parse_price` reads from `text`.
pub fn parse_amount(text: &str, hints: PriceHints) -> Option<Decimal> {
    parse_price(text, hints).amount
}

/// The currency `parse_price` reads from `text` with no hint: the one named
/// next to the amount, else the first one named. Ambiguous marks (`kr`)
/// give `None`.
pub fn find_currency(text: &str) -> Option<Currency> {
    parse_price(text, PriceHints::default()).currency
}

/// A plain number (`34990`, `34990.00`, `2.65031e3`) read exactly: None
/// when `s` is not one, Err when it is but is not a usable price.
pub fn strict_decimal(s: &str) -> Option<Result<Decimal, String>> {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    let ok = digits(int)
        && frac.is_none_or(digits)
        && exponent.is_none_or(|e| digits(e.strip_prefix(['+', '-']).unwrap_or(e)));
    if !ok {
        return None;
    }
    if s.starts_with('-') && mantissa.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        return Some(Err(format!("{s} is negative")));
    }
    let body = body.strip_prefix('+').unwrap_or(body);
    let parsed = if exponent.is_some() {
        Decimal::from_scientific(body)
    } else {
        Decimal::from_str(body)
    };
    Some(match parsed {
        Ok(d) if d > Decimal::ZERO => Ok(d.normalize()),
        Ok(_) => Err("the price is zero (a placeholder, not a price)".into()),
        Err(_) => Err(format!(
            "{} is out of range",
            s.chars().take(40).collect::<String>()
        )),
    })
}

// ---------------------------------------------------------------------------
// Characters

/// The value of a decimal digit: ASCII, Arabic-Indic (`٠`–`٩`), Eastern
/// Arabic / Persian (`۰`–`۹`), Devanagari and full-width digits.
fn digit(c: char) -> Option<u8> {
    let base = match c {
        '0'..='9' => '0',
        '\u{0660}'..='\u{0669}' => '\u{0660}',
        '\u{06F0}'..='\u{06F9}' => '\u{06F0}',
        '\u{0966}'..='\u{096F}' => '\u{0966}',
        '\u{FF10}'..='\u{FF19}' => '\u{FF10}',
        _ => return None,
    };
    Some((c as u32 - base as u32) as u8)
}

fn is_digit(c: char) -> bool {
    digit(c).is_some()
}

/// Every kind of space shops put between digit groups and around symbols.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}'
    )
}

/// Marks that take no room (bidi controls around Arabic amounts, zero-width
/// spaces, soft hyphens): skipped everywhere as if absent.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

fn is_letter(c: char) -> bool {
    c.is_alphabetic()
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '–' | '—' | '−')
}

fn is_percent(c: char) -> bool {
    matches!(c, '%' | '٪' | '％' | '﹪')
}

/// Case folding for the names table: ASCII and Cyrillic capitals to lower
/// case (enough for the names we know, and allocation-free).
fn fold(c: char) -> char {
    match c {
        'A'..='Z' => c.to_ascii_lowercase(),
        '\u{0410}'..='\u{042F}' => char::from_u32(c as u32 + 0x20).unwrap_or(c),
        '\u{0400}'..='\u{040F}' => char::from_u32(c as u32 + 0x50).unwrap_or(c),
        _ => c,
    }
}

/// A position in the text that steps over invisible marks.
#[derive(Clone, Copy)]
struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl Cursor<'_> {
    fn next_char(&mut self) -> Option<char> {
        loop {
            let c = self.text.get(self.at..)?.chars().next()?;
            self.at += c.len_utf8();
            if !is_invisible(c) {
                return Some(c);
            }
        }
    }

    fn peek(self) -> Option<char> {
        let mut c = self;
        c.next_char()
    }
}

fn cursor(text: &str, at: usize) -> Cursor<'_> {
    Cursor { text, at }
}

/// The visible character before byte `at`, with its start.
fn prev_visible(text: &str, at: usize) -> Option<(usize, char)> {
    text[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| !is_invisible(*c))
}

/// The visible character at or after byte `at`, with its start.
fn next_visible(text: &str, at: usize) -> Option<(usize, char)> {
    text[at..]
        .char_indices()
        .find(|(_, c)| !is_invisible(*c))
        .map(|(i, c)| (at + i, c))
}
