//! Currencies: the symbols, codes and names the parser knows, and where a
//! text mentions them.

use std::sync::LazyLock;

use super::{fold, is_invisible, is_letter, is_space, next_visible, prev_visible};
use crate::domain::Currency;

/// One way of writing a currency.
struct Name {
    /// Lower case unless `exact`; a ' ' matches any kind of space.
    pattern: &'static str,
    /// What it means with no hint; `None` for marks too ambiguous to guess.
    default: Option<&'static str>,
    /// What else it can mean: a hint among these wins over the default.
    alternatives: &'static [&'static str],
    /// Case matters (`DA` is dinars, Italian `da` is not).
    exact: bool,
}

const fn one(pattern: &'static str, code: &'static str) -> Name {
    Name {
        pattern,
        default: Some(code),
        alternatives: &[],
        exact: false,
    }
}
const fn exact(pattern: &'static str, code: &'static str) -> Name {
    Name {
        pattern,
        default: Some(code),
        alternatives: &[],
        exact: true,
    }
}
const fn ambiguous(
    pattern: &'static str,
    default: Option<&'static str>,
    alternatives: &'static [&'static str],
) -> Name {
    Name {
        pattern,
        default,
        alternatives,
        exact: false,
    }
}

/// Currencies written with a bare `$`.
const DOLLARS: &[&str] = &[
    "USD", "CAD", "AUD", "NZD", "HKD", "SGD", "MXN", "TWD", "ARS", "CLP", "COP", "UYU", "DOP",
    "JMD", "TTD", "BSD", "BBD", "BZD", "BMD", "KYD", "FJD", "SBD", "LRD", "NAD", "GYD", "SRD",
    "XCD", "BND", "CUP", "NIO",
];
const KRONER: &[&str] = &["SEK", "NOK", "DKK", "ISK"];
const DINARS: &[&str] = &[
    "DZD", "TND", "KWD", "BHD", "IQD", "JOD", "LYD", "RSD", "MKD",
];
const DIRHAMS: &[&str] = &["MAD", "AED"];
const RIYALS: &[&str] = &["SAR", "QAR", "OMR", "YER", "IRR"];
const RUPEES: &[&str] = &["INR", "PKR", "LKR", "NPR", "MUR", "SCR"];
const POUNDS: &[&str] = &["GBP", "EGP", "GIP", "FKP", "SHP"];
const YEN_YUAN: &[&str] = &["JPY", "CNY"];
const RUBLES: &[&str] = &["RUB", "BYN"];
const LEI: &[&str] = &["RON", "MDL"];
const CFA: &[&str] = &["XOF", "XAF"];
const PESOS: &[&str] = &["MXN", "ARS", "CLP", "COP", "UYU", "DOP", "PHP", "CUP"];

/// Symbols, local names and lower-case codes. ISO codes in upper case are
/// recognised without being listed (see `ISO_WORD_DENY`).
const NAMES: &[Name] = &[
    // Dollars: a letter prefix names the country.
    one("us$", "USD"),
    one("us $", "USD"),
    one("u$s", "USD"),
    one("c$", "CAD"),
    one("ca$", "CAD"),
    one("a$", "AUD"),
    one("au$", "AUD"),
    one("nz$", "NZD"),
    one("hk$", "HKD"),
    one("s$", "SGD"),
    one("sg$", "SGD"),
    one("mx$", "MXN"),
    one("nt$", "TWD"),
    one("r$", "BRL"),
    one("rd$", "DOP"),
    one("j$", "JMD"),
    one("tt$", "TTD"),
    one("ec$", "XCD"),
    ambiguous("$", Some("USD"), DOLLARS),
    ambiguous("dollar", Some("USD"), DOLLARS),
    ambiguous("dollars", Some("USD"), DOLLARS),
    ambiguous("доллар", Some("USD"), DOLLARS),
    ambiguous("долларов", Some("USD"), DOLLARS),
    ambiguous("доллара", Some("USD"), DOLLARS),
    ambiguous("долл", Some("USD"), DOLLARS),
    ambiguous("peso", None, PESOS),
    ambiguous("pesos", None, PESOS),
    one("usd", "USD"),
    // Euro, pound, franc.
    one("€", "EUR"),
    one("eur", "EUR"),
    one("euro", "EUR"),
    one("euros", "EUR"),
    one("евро", "EUR"),
    ambiguous("£", Some("GBP"), POUNDS),
    one("gbp", "GBP"),
    one("chf", "CHF"),
    one("sfr", "CHF"),
    // Rubles, hryvnias, levs, sums, tenge.
    ambiguous("₽", Some("RUB"), RUBLES),
    ambiguous("руб", Some("RUB"), RUBLES),
    ambiguous("рубль", Some("RUB"), RUBLES),
    ambiguous("рубля", Some("RUB"), RUBLES),
    ambiguous("рублей", Some("RUB"), RUBLES),
    ambiguous("р", Some("RUB"), RUBLES),
    one("rub", "RUB"),
    one("₴", "UAH"),
    one("грн", "UAH"),
    one("гривен", "UAH"),
    one("гривень", "UAH"),
    one("гривня", "UAH"),
    one("uah", "UAH"),
    one("лв", "BGN"),
    one("лева", "BGN"),
    one("лев", "BGN"),
    one("bgn", "BGN"),
    one("сум", "UZS"),
    one("сўм", "UZS"),
    one("so'm", "UZS"),
    one("soʻm", "UZS"),
    one("so‘m", "UZS"),
    one("uzs", "UZS"),
    one("₸", "KZT"),
    one("тг", "KZT"),
    one("тенге", "KZT"),
    one("kzt", "KZT"),
    // Central Europe, the Nordics.
    one("zł", "PLN"),
    one("pln", "PLN"),
    one("kč", "CZK"),
    one("czk", "CZK"),
    exact("Ft", "HUF"),
    one("huf", "HUF"),
    ambiguous("lei", Some("RON"), LEI),
    ambiguous("leu", Some("RON"), LEI),
    ambiguous("kr", None, KRONER),
    one("sek", "SEK"),
    one("nok", "NOK"),
    one("dkk", "DKK"),
    // North Africa and the Middle East.
    exact("DA", "DZD"),
    exact("Da", "DZD"),
    one("dzd", "DZD"),
    one("دج", "DZD"),
    one("د.ج", "DZD"),
    exact("DT", "TND"),
    exact("Dt", "TND"),
    one("tnd", "TND"),
    one("د.ت", "TND"),
    ambiguous("dinar", None, DINARS),
    ambiguous("dinars", None, DINARS),
    ambiguous("دينار", None, DINARS),
    ambiguous("dh", Some("MAD"), DIRHAMS),
    ambiguous("dhs", Some("MAD"), DIRHAMS),
    ambiguous("dirham", None, DIRHAMS),
    ambiguous("dirhams", None, DIRHAMS),
    ambiguous("درهم", None, DIRHAMS),
    one("د.م", "MAD"),
    one("aed", "AED"),
    one("د.إ", "AED"),
    exact("SR", "SAR"),
    one("sar", "SAR"),
    one("ر.س", "SAR"),
    ambiguous("riyal", Some("SAR"), RIYALS),
    ambiguous("riyals", Some("SAR"), RIYALS),
    ambiguous("rial", Some("SAR"), RIYALS),
    ambiguous("ريال", Some("SAR"), RIYALS),
    one("qar", "QAR"),
    one("ر.ق", "QAR"),
    one("egp", "EGP"),
    one("l.e.", "EGP"),
    one("ج.م", "EGP"),
    ambiguous("جنيه", Some("EGP"), &["EGP", "SDG"]),
    one("kwd", "KWD"),
    one("د.ك", "KWD"),
    one("bhd", "BHD"),
    one("د.ب", "BHD"),
    one("omr", "OMR"),
    one("ر.ع", "OMR"),
    one("jod", "JOD"),
    one("د.أ", "JOD"),
    one("د.ع", "IQD"),
    one("د.ل", "LYD"),
    one("ل.ل", "LBP"),
    one("₪", "ILS"),
    one("₺", "TRY"),
    one("tl", "TRY"),
    // Asia.
    one("₹", "INR"),
    ambiguous("₨", Some("INR"), RUPEES),
    ambiguous("rs", Some("INR"), RUPEES),
    ambiguous("rupee", Some("INR"), RUPEES),
    ambiguous("rupees", Some("INR"), RUPEES),
    one("inr", "INR"),
    ambiguous("¥", Some("JPY"), YEN_YUAN),
    ambiguous("￥", Some("JPY"), YEN_YUAN),
    one("円", "JPY"),
    one("yen", "JPY"),
    one("jpy", "JPY"),
    one("元", "CNY"),
    one("rmb", "CNY"),
    one("yuan", "CNY"),
    one("cny", "CNY"),
    one("₩", "KRW"),
    one("₫", "VND"),
    one("₱", "PHP"),
    one("฿", "THB"),
    one("₭", "LAK"),
    one("₮", "MNT"),
    one("₾", "GEL"),
    one("₼", "AZN"),
    one("֏", "AMD"),
    // Africa and the Americas.
    one("₦", "NGN"),
    one("₵", "GHS"),
    ambiguous("fcfa", None, CFA),
    ambiguous("cfa", None, CFA),
    one("₡", "CRC"),
    one("₲", "PYG"),
    one("brl", "BRL"),
    one("aud", "AUD"),
];

/// ISO codes that are also common English (or brand) words in capitals
/// ("ALL", "TOP", "AMD Ryzen"): they count only when the hint is that
/// currency.
const ISO_WORD_DENY: &[&str] = &[
    "ALL", "AMD", "BAM", "BOB", "CUP", "CVE", "DOP", "GEL", "MOP", "PAB", "PEN", "SOS", "TOP",
];

struct Entry {
    pattern: &'static str,
    exact: bool,
    starts_with_letter: bool,
    ends_with_letter: bool,
    /// Has a symbol or is an ISO code, so it wins over a word name next to
    /// the same amount ("da 12 €" is euros).
    strong: bool,
    default: Option<Currency>,
    alternatives: Vec<Currency>,
}

impl Entry {
    fn resolve(&self, hint: Option<Currency>) -> Option<Currency> {
        match hint {
            Some(h) if self.alternatives.contains(&h) => Some(h),
            _ => self.default,
        }
    }
}

/// The names table, indexed by folded first character.
struct Table {
    entries: Vec<Entry>,
    /// (first char, entry index), sorted.
    index: Vec<(char, usize)>,
}

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let entries: Vec<Entry> = NAMES
        .iter()
        .map(|n| {
            let first = n.pattern.chars().next().unwrap_or(' ');
            let last = n.pattern.chars().next_back().unwrap_or(' ');
            let is_code =
                n.pattern.len() == 3 && n.pattern.chars().all(|c| c.is_ascii_alphabetic());
            Entry {
                pattern: n.pattern,
                exact: n.exact,
                starts_with_letter: is_letter(first),
                ends_with_letter: is_letter(last),
                strong: is_code || !n.pattern.chars().all(is_letter),
                default: n.default.and_then(|c| Currency::new(c).ok()),
                alternatives: n
                    .alternatives
                    .iter()
                    .filter_map(|c| Currency::new(c).ok())
                    .collect(),
            }
        })
        .collect();
    let mut index: Vec<(char, usize)> = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (fold(e.pattern.chars().next().unwrap_or(' ')), i))
        .collect();
    index.sort_unstable();
    Table { entries, index }
});

/// `pattern` at byte `at` of `text`: the end of the match.
pub(super) fn match_at(text: &str, at: usize, pattern: &str, exact: bool) -> Option<usize> {
    let mut chars = text[at..].char_indices();
    for p in pattern.chars() {
        let (_, c) = chars.next()?;
        let same = if p == ' ' {
            is_space(c)
        } else if exact {
            c == p
        } else {
            fold(c) == p
        };
        if !same {
            return None;
        }
    }
    Some(at + chars.offset())
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Mention {
    start: usize,
    end: usize,
    pub(super) currency: Option<Currency>,
    strong: bool,
}

/// Enough for any price text; mentions past this are ignored.
const MAX_MENTIONS: usize = 16;

/// The currency mentions of a text, in order.
pub(super) struct Mentions {
    pub(super) items: [Mention; MAX_MENTIONS],
    pub(super) n: usize,
}

impl Mentions {
    pub(super) fn scan(text: &str, hint: Option<Currency>) -> Mentions {
        let table = &*TABLE;
        let mut ms = Mentions {
            items: [Mention {
                start: 0,
                end: 0,
                currency: None,
                strong: false,
            }; MAX_MENTIONS],
            n: 0,
        };
        let mut prev_letter = false;
        let mut at = 0;
        while let Some(c) = text[at..].chars().next() {
            if ms.n == MAX_MENTIONS {
                break;
            }
            if let Some(m) = mention_at(table, text, at, c, prev_letter, hint) {
                ms.items[ms.n] = m;
                ms.n += 1;
                prev_letter = prev_visible(text, m.end).is_some_and(|(_, c)| is_letter(c));
                at = m.end;
                continue;
            }
            if !is_invisible(c) {
                prev_letter = is_letter(c);
            }
            at += c.len_utf8();
        }
        ms
    }

    fn all(&self) -> &[Mention] {
        &self.items[..self.n]
    }

    pub(super) fn starts_at(&self, at: usize) -> bool {
        self.all().iter().any(|m| m.start == at)
    }

    pub(super) fn ends_at(&self, at: usize) -> bool {
        self.all().iter().any(|m| m.end == at)
    }

    /// The mention written right before or after the number at
    /// `start..end`, if any; a symbol or code beats a word, then before
    /// beats after (`US$ 12 USD`).
    pub(super) fn adjacent(&self, text: &str, start: usize, end: usize) -> Option<Mention> {
        let before = self
            .all()
            .iter()
            .rev()
            .find(|m| m.end <= start)
            .filter(|m| is_adjacent_gap(&text[m.end..start]));
        let after = self
            .all()
            .iter()
            .find(|m| m.start >= end)
            .filter(|m| is_adjacent_gap(&text[end..m.start]));
        match (before, after) {
            (Some(b), Some(a)) if a.strong && !b.strong => Some(*a),
            (b, a) => b.or(a).copied(),
        }
    }
}

/// What may stand between an amount and its currency: spaces, and a `.` or
/// `:` (`Rs. 12`, `12 руб.`, `USD: 12`).
fn is_adjacent_gap(gap: &str) -> bool {
    gap.len() <= 16
        && gap
            .chars()
            .filter(|c| !is_space(*c) && !is_invisible(*c))
            .try_fold(0, |n, c| (matches!(c, '.' | ':') && n < 2).then_some(n + 1))
            .is_some()
}

/// A currency mention starting at byte `at` (whose character is `c`).
fn mention_at(
    table: &Table,
    text: &str,
    at: usize,
    c: char,
    prev_letter: bool,
    hint: Option<Currency>,
) -> Option<Mention> {
    if c.is_ascii_digit() || c == ' ' {
        return None;
    }
    let key = fold(c);
    let from = table.index.partition_point(|(k, _)| *k < key);
    let mut best: Option<(usize, &Entry)> = None;
    for &(k, i) in &table.index[from..] {
        if k != key {
            break;
        }
        let e = &table.entries[i];
        if e.starts_with_letter && prev_letter {
            continue;
        }
        let Some(end) = match_at(text, at, e.pattern, e.exact) else {
            continue;
        };
        if e.ends_with_letter && next_visible(text, end).is_some_and(|(_, n)| is_letter(n)) {
            continue;
        }
        if best.is_none_or(|(b, _)| end > b) {
            best = Some((end, e));
        }
    }
    if let Some((end, e)) = best {
        return Some(Mention {
            start: at,
            end,
            currency: e.resolve(hint),
            strong: e.strong,
        });
    }
    // Any ISO code in capitals, as a word: "1200 DZD", "MAD 300".
    if !c.is_ascii_uppercase() || prev_letter {
        return None;
    }
    let word = text.get(at..at + 3)?;
    if !word.bytes().all(|b| b.is_ascii_uppercase())
        || next_visible(text, at + 3).is_some_and(|(_, n)| is_letter(n))
    {
        return None;
    }
    let code = Currency::new(word).ok()?;
    if ISO_WORD_DENY.contains(&word) && hint != Some(code) {
        return None;
    }
    Some(Mention {
        start: at,
        end: at + 3,
        currency: Some(code),
        strong: true,
    })
}
