//! The selling price among the numbers of shop text. Numbers are passed
//! over when they are a was/list price, a saving, a percentage, a negative
//! amount, a shipping threshold or cost, or an instalment; see
//! [`choose_price_in_text`]. This works on strings only: cutting a page
//! element's text into clauses, and setting struck-through parts apart,
//! is done by the scraper before it calls [`choose_price_in_clauses`].

use rust_decimal::Decimal;

use super::{PriceHints, find_currency, parse_amount};
use crate::domain::Currency;

/// The price picked out of free text, and the numbers passed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextPrice {
    pub amount: Option<Decimal>,
    pub currency: Option<Currency>,
    /// The chosen number with what surrounds it.
    pub text: Option<String>,
    /// Each number passed over and why ("\"4 x 149,75 €\" (an instalment)").
    pub ignored: Vec<String>,
}

/// Picks the selling price out of shop text such as "Was €649.00 Now
/// €599.00 · Free shipping over €50 · or 4 x €149.75". Numbers are passed
/// over when they are a was/list price, a saving, a percentage, a negative
/// amount, a shipping threshold or cost, or an instalment (count or
/// amount); of the rest, the first with a currency next to it wins, else
/// the first. Key words are known in English, French, German, Spanish,
/// Italian, Russian, Bulgarian and Arabic.
pub fn choose_price_in_text(text: &str, hints: PriceHints) -> TextPrice {
    choose_price_in_clauses(&[text], hints)
}

/// [`choose_price_in_text`] over several runs of text read apart (a page
/// element's text cut at block boundaries): the words around a number are
/// only looked for within its own clause, and the first number with a
/// currency next to it in any clause wins, else the first. Each clause is
/// read up to its first 20,000 characters.
pub fn choose_price_in_clauses(clauses: &[&str], hints: PriceHints) -> TextPrice {
    let mut out = TextPrice::default();
    let mut first_any: Option<(Decimal, Option<Currency>, String)> = None;
    let mut first_with_currency: Option<(Decimal, Currency, String)> = None;
    for clause in clauses {
        let clause: String = clause.chars().take(20_000).collect();
        let runs = number_runs(&clause);
        for (k, &(start, end)) in runs.iter().enumerate() {
            let prev_end = if k == 0 { 0 } else { runs[k - 1].1 };
            let next_start = runs.get(k + 1).map(|r| r.0).unwrap_or(clause.len());
            let before = &clause[prev_end..start];
            let after = &clause[end..next_start];
            let number = &clause[start..end];
            // A number glued to letters is part of a word or a code
            // ("GDDR6X", "12GB", "24h"), unless the letters are a currency ("599zł").
            let glued_before: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_alphabetic())
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            let glued_after: String = after.chars().take_while(|c| c.is_alphabetic()).collect();
            if [glued_before, glued_after]
                .iter()
                .any(|g| !g.is_empty() && find_currency(g).is_none())
            {
                continue;
            }
            let shown = snippet(before, number, after);
            if let Some(why) = why_not_a_price(before, after) {
                out.ignored.push(format!("{shown:?} ({why})"));
                continue;
            }
            let Some(amount) = parse_amount(number, hints) else {
                continue;
            };
            if amount <= Decimal::ZERO {
                continue;
            }
            let currency = adjacent_currency(before, after);
            if first_any.is_none() {
                first_any = Some((amount, currency, shown.clone()));
            }
            if let Some(c) = currency
                && first_with_currency.is_none()
            {
                first_with_currency = Some((amount, c, shown.clone()));
            }
        }
    }
    let chosen = first_with_currency
        .map(|(a, c, s)| (a, Some(c), s))
        .or(first_any);
    if let Some((amount, currency, shown)) = chosen {
        out.amount = Some(amount);
        out.currency = currency.or(hints.currency);
        out.text = Some(shown);
    }
    out
}

/// Byte ranges of the numbers in `text`: digits (any script) with the
/// separators that sit inside numbers (a space only before a 3-digit group).
fn number_runs(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut runs = Vec::new();
    let mut i = 0;
    while i < chars.len() && runs.len() < 200 {
        if !chars[i].1.is_numeric() {
            i += 1;
            continue;
        }
        let start = i;
        let mut j = i;
        while j < chars.len() {
            let c = chars[j].1;
            if c.is_numeric() {
                j += 1;
                continue;
            }
            let next_digit = chars.get(j + 1).is_some_and(|(_, n)| n.is_numeric());
            let spaced = matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '\u{2009}' | '\u{2007}');
            if spaced && next_digit {
                let group = chars[j + 1..]
                    .iter()
                    .take_while(|(_, c)| c.is_numeric())
                    .count();
                if group == 3 {
                    j += 1;
                    continue;
                }
                break;
            }
            if matches!(c, '.' | ',' | '\'' | '’' | '٫' | '٬') && next_digit {
                j += 1;
                continue;
            }
            break;
        }
        let end = chars.get(j).map(|(b, _)| *b).unwrap_or(text.len());
        runs.push((chars[start].0, end));
        i = j;
    }
    runs
}

fn tail(s: &str, n: usize) -> String {
    let count = s.chars().count();
    s.chars().skip(count.saturating_sub(n)).collect()
}

fn head(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

/// The words right before and right after a number (a symbol may be glued to it).
fn adjacent_tokens(before: &str, after: &str) -> (String, String) {
    let b = before.trim_end();
    let b = b.rsplit(char::is_whitespace).next().unwrap_or("");
    let a = after.trim_start();
    let a = a
        .split(|c: char| c.is_whitespace() || c == '/')
        .next()
        .unwrap_or("");
    (tail(b, 8), head(a, 8))
}

/// A currency written right next to a number ("€599", "599 €", "13 500 DA", "US$ 12").
fn adjacent_currency(before: &str, after: &str) -> Option<Currency> {
    let (b, a) = adjacent_tokens(before, after);
    find_currency(&b).or_else(|| find_currency(&a))
}

/// The number with its currency symbol or code, for notes.
fn snippet(before: &str, number: &str, after: &str) -> String {
    let (b, a) = adjacent_tokens(before, after);
    let mut s = number.to_string();
    if find_currency(&b).is_some() {
        s = format!(
            "{b}{}{s}",
            if before.ends_with(char::is_whitespace) {
                " "
            } else {
                ""
            }
        );
    }
    if find_currency(&a).is_some() {
        s = format!(
            "{s}{}{a}",
            if after.starts_with(char::is_whitespace) {
                " "
            } else {
                ""
            }
        );
    }
    s
}

const WAS_WORDS: &[&str] = &[
    "was",
    "were",
    "war",
    "old price",
    "list price",
    "original price",
    "rrp",
    "msrp",
    "srp",
    "uvp",
    "statt",
    "vorher",
    "ursprünglich*",
    "au lieu de",
    "prix barré",
    "ancien prix",
    "prix conseillé",
    "antes",
    "precio anterior",
    "invece di",
    "prezzo di listino",
    "было",
    "старая цена",
    "вместо",
    "зачеркн*",
    "беше",
    "стара цена",
    "كان~",
    "السعر القديم~",
    "بدلا من~",
    "بدلاً من~",
];
const SAVE_WORDS: &[&str] = &[
    "save",
    "you save",
    "saving*",
    "économisez",
    "sparen",
    "sie sparen",
    "ersparnis",
    "ahorra*",
    "risparmi*",
    "экономия",
    "выгода",
    "вы экономите",
    "спестявате",
    "وفر~",
    "توفير~",
];
const INSTALMENT_WORDS: &[&str] = &[
    "instal*",
    "payment*",
    "per month",
    "a month",
    "/month",
    "/mo",
    "month*",
    "pay in",
    "financing",
    "apr",
    "klarna",
    "afterpay",
    "affirm",
    "scalapay",
    "clearpay",
    "mois",
    "/mois",
    "fois",
    "mensualité*",
    "monat*",
    "mtl",
    "/monat",
    "raten",
    "ratenzahlung",
    "cuota*",
    "al mes",
    "/mes",
    "rata",
    "rate",
    "al mese",
    "мес.",
    "месяц*",
    "/мес",
    "платеж*",
    "платёж*",
    "рассрочк*",
    "долями",
    "частями",
    "кредит*",
    "вноск*",
    "лизинг",
    "شهر~",
    "قسط~",
    "أقساط~",
    "تقسيط~",
];
const SHIP_WORDS: &[&str] = &[
    "ship*",
    "delivery",
    "deliver*",
    "postage",
    "livraison",
    "port",
    "frais de port",
    "versand*",
    "liefer*",
    "envío",
    "envio",
    "spedizion*",
    "достав*",
    "توصيل~",
    "شحن~",
];
const THRESHOLD_WORDS: &[&str] = &[
    "over",
    "above",
    "from",
    "orders",
    "order",
    "spend",
    "min",
    "minimum",
    "more than",
    "ab",
    "über",
    "dès",
    "à partir de",
    "plus de",
    "desde",
    "a partir de",
    "oltre",
    "da",
    "от",
    "свыше",
    "более",
    "при заказе",
    "над",
    "من",
    "فوق",
    "ابتداء من~",
];

/// Why the number between `before` and `after` is not the selling price.
fn why_not_a_price(before: &str, after: &str) -> Option<&'static str> {
    let near_before = tail(before, 48).to_lowercase();
    // Only the words since the last sentence break count.
    let clause_before = near_before
        .rsplit(['!', '|', '•', '·', ';', '\n'])
        .next()
        .unwrap_or("")
        .rsplit(". ")
        .next()
        .unwrap_or("")
        .to_string();
    let near_after = head(after, 32).to_lowercase();
    let after_trim = near_after.trim_start();

    let no_symbols = near_before.trim_end_matches(['€', '$', '£', '₽', '¥', '₹', '₺', '₴', '₸']);
    if no_symbols.ends_with(['-', '−']) {
        return Some("a negative amount");
    }
    if after_trim.starts_with('%') {
        return Some("a percentage");
    }
    let stripped = no_symbols.trim_end();
    if (stripped.ends_with(['x', '×', 'х'])
        && stripped
            .chars()
            .rev()
            .nth(1)
            .is_none_or(|c| c.is_whitespace() || c.is_numeric()))
        || (after_trim.starts_with(['x', '×', 'х'])
            && after_trim.chars().nth(1).is_none_or(|c| !c.is_alphabetic()))
    {
        return Some("an instalment");
    }
    if has_any(&clause_before, INSTALMENT_WORDS) || has_any(&near_after, INSTALMENT_WORDS) {
        return Some("an instalment");
    }
    if has_any(&clause_before, WAS_WORDS) {
        return Some("a was/list price");
    }
    if has_any(&clause_before, SAVE_WORDS) || after_trim.starts_with("off ") || after_trim == "off"
    {
        return Some("a saving");
    }
    if has_any(&clause_before, SHIP_WORDS)
        || (has_any(&near_after, SHIP_WORDS)
            && (has_any(&clause_before, THRESHOLD_WORDS) || stripped.ends_with('+')))
    {
        return Some("a shipping threshold or cost");
    }
    None
}

/// Whether `hay` (lowercase) contains one of `words`: a word or phrase
/// standing alone, `word*` at the start of a word, `word~` anywhere;
/// entries with punctuation match anywhere.
fn has_any(hay: &str, words: &[&str]) -> bool {
    words.iter().any(|w| {
        if let Some(sub) = w.strip_suffix('~') {
            return hay.contains(sub);
        }
        let (w, prefix) = match w.strip_suffix('*') {
            Some(p) => (p, true),
            None => (*w, false),
        };
        if !w.chars().all(|c| c.is_alphabetic() || c == ' ') {
            return hay.contains(w);
        }
        hay.match_indices(w).any(|(i, _)| {
            let before = hay[..i].chars().next_back();
            let after = hay[i + w.len()..].chars().next();
            !before.is_some_and(char::is_alphabetic)
                && (prefix || !after.is_some_and(char::is_alphabetic))
        })
    })
}
