//! Numbers: a run of digits and separators, and what its separators mean
//! (the rules are in the [`price`](super) module docs).

use rust_decimal::Decimal;

use super::currency::{Mentions, match_at};
use super::{
    Cursor, cursor, digit, is_dash, is_digit, is_invisible, is_letter, is_percent, is_space,
    next_visible, prev_visible,
};
use crate::domain::Currency;

/// A character that can sit between digit groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sep {
    Dot,
    Comma,
    /// Any width of space; groups only.
    Space,
    /// `'`, `’`, `ʼ` (Swiss) and the Arabic thousands mark `٬`; groups only.
    Apostrophe,
    /// The Arabic decimal mark `٫`; decimal only.
    ArabicDecimal,
}

impl Sep {
    fn of(c: char) -> Option<Sep> {
        match c {
            '.' | '．' => Some(Sep::Dot),
            ',' | '，' => Some(Sep::Comma),
            '\'' | '’' | 'ʼ' | '\u{066C}' => Some(Sep::Apostrophe),
            '\u{066B}' => Some(Sep::ArabicDecimal),
            c if is_space(c) => Some(Sep::Space),
            _ => None,
        }
    }

    fn char(self) -> Option<char> {
        match self {
            Sep::Dot => Some('.'),
            Sep::Comma => Some(','),
            _ => None,
        }
    }
}

/// More groups than any price has (10^27 grouped by three is ten groups).
const MAX_SEPARATORS: usize = 12;

/// One run of digits and separators, before deciding what the separators mean.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) start: usize,
    pub(super) end: usize,
    /// Every digit of the token in order; `None` past what a u128 holds.
    mantissa: Option<u128>,
    first_len: u32,
    /// The digits before the first separator are all zeros (`0,990`).
    first_zero: bool,
    seps: [Sep; MAX_SEPARATORS],
    /// `lens[i]`: the digits after `seps[i]`.
    lens: [u32; MAX_SEPARATORS],
    n: usize,
    too_many_groups: bool,
    /// Ended in `.-` / `,-`: no fraction.
    dash: bool,
}

impl Token {
    fn push_digit(&mut self, d: u8) {
        if self.n == 0 {
            self.first_len = self.first_len.saturating_add(1);
            self.first_zero &= d == 0;
        } else {
            self.lens[self.n - 1] = self.lens[self.n - 1].saturating_add(1);
        }
        self.mantissa = self
            .mantissa
            .and_then(|m| m.checked_mul(10))
            .and_then(|m| m.checked_add(u128::from(d)));
    }

    fn push_sep(&mut self, sep: Sep) {
        if self.n == MAX_SEPARATORS {
            self.too_many_groups = true;
            // Keep counting digits into the last group; the token is rejected.
            return;
        }
        self.seps[self.n] = sep;
        self.lens[self.n] = 0;
        self.n += 1;
    }

    fn current_group_len(&self) -> u32 {
        if self.n == 0 {
            self.first_len
        } else {
            self.lens[self.n - 1]
        }
    }

    /// A space groups digits only after spaces (or at the first separator),
    /// after at most three digits, and before exactly three: `13 500`,
    /// `1 234 567,89`, but not `12,50 100` or `2024 12`.
    fn space_may_follow(&self, after_space: Cursor<'_>) -> bool {
        if self.seps[..self.n].iter().any(|s| *s != Sep::Space) || self.current_group_len() > 3 {
            return false;
        }
        let mut c = after_space;
        for _ in 0..3 {
            if !c.next_char().is_some_and(is_digit) {
                return false;
            }
        }
        !c.peek().is_some_and(is_digit)
    }

    /// Which separator is the decimal one, if any (the module docs say why).
    fn decimal_index(&self, hint: Option<char>, currency: Option<Currency>) -> Option<usize> {
        if self.dash || self.n == 0 {
            return None;
        }
        let k = self.n - 1;
        let last = self.seps[k];
        match last {
            Sep::ArabicDecimal => Some(k),
            Sep::Space | Sep::Apostrophe => None,
            Sep::Dot | Sep::Comma => {
                if self.seps[..k].contains(&last) {
                    None
                } else if k > 0 || self.lens[k] != 3 || self.first_len > 3 || self.first_zero {
                    Some(k)
                } else {
                    match hint {
                        Some(h) if Some(h) == last.char() => Some(k),
                        Some('.' | ',') => None,
                        _ if currency.is_some_and(|c| c.minor_units() == 3) => Some(k),
                        _ => None,
                    }
                }
            }
        }
    }

    /// The token's value, or `None` when it is not a well-formed number
    /// (bad grouping such as a date) or does not fit a `Decimal`.
    pub(super) fn value(&self, hint: Option<char>, currency: Option<Currency>) -> Option<Decimal> {
        if self.too_many_groups {
            return None;
        }
        let mantissa = i128::try_from(self.mantissa?).ok()?;
        let decimal = self.decimal_index(hint, currency);
        let grouped = decimal.unwrap_or(self.n);
        let (seps, lens) = (&self.seps[..grouped], &self.lens[..grouped]);
        if let Some(&kind) = seps.first() {
            if kind == Sep::ArabicDecimal || seps.iter().any(|s| *s != kind) {
                return None;
            }
            let western = (1..=3).contains(&self.first_len) && lens.iter().all(|l| *l == 3);
            let indian = kind == Sep::Comma
                && lens.len() >= 2
                && (1..=2).contains(&self.first_len)
                && lens[..lens.len() - 1].iter().all(|l| *l == 2)
                && lens[lens.len() - 1] == 3;
            if !western && !indian {
                return None;
            }
        }
        let scale = decimal.map_or(0, |k| self.lens[k]);
        Decimal::try_from_i128_with_scale(mantissa, scale)
            .ok()
            .map(|d| d.normalize())
    }
}

/// The next run of digits and separators at or after `*pos`; moves `*pos`
/// past it.
pub(super) fn next_number(text: &str, pos: &mut usize) -> Option<Token> {
    let (offset, _) = text
        .get(*pos..)?
        .char_indices()
        .find(|(_, c)| is_digit(*c))?;
    let start = *pos + offset;
    let token = lex(text, start);
    *pos = token.end;
    Some(token)
}

fn lex(text: &str, start: usize) -> Token {
    let mut t = Token {
        start,
        end: start,
        mantissa: Some(0),
        first_len: 0,
        first_zero: true,
        seps: [Sep::Dot; MAX_SEPARATORS],
        lens: [0; MAX_SEPARATORS],
        n: 0,
        too_many_groups: false,
        dash: false,
    };
    let mut cur = cursor(text, start);
    while let Some(c) = cur.next_char() {
        if let Some(d) = digit(c) {
            t.push_digit(d);
            t.end = cur.at;
            continue;
        }
        let Some(sep) = Sep::of(c) else { break };
        let mut ahead = cur;
        match ahead.next_char() {
            Some(n) if is_digit(n) => {
                if sep == Sep::Space && !t.space_may_follow(cur) {
                    break;
                }
                t.push_sep(sep);
            }
            Some(n) if is_dash(n) && matches!(sep, Sep::Dot | Sep::Comma) => {
                // Swiss and Scandinavian "12.-", "1.234,–": whole units.
                t.dash = true;
                t.end = ahead.at;
                while ahead.next_char().is_some_and(is_dash) {
                    t.end = ahead.at;
                }
                break;
            }
            _ => break,
        }
    }
    t
}

/// Words after a count that make it a quantity, not a price.
const QUANTITY_UNITS: &[&str] = &["pcs", "pc", "pieces", "piece", "шт", "штук", "штуки"];

/// A number that is there but is not a price: a percentage, a quantity, a
/// time or fraction, or a model number glued to letters.
pub(super) fn is_not_an_amount(text: &str, t: &Token, mentions: &Mentions) -> bool {
    let next = next_visible(text, t.end);
    let prev = prev_visible(text, t.start);
    // "20%", "20 %", Turkish "%20".
    let mut after_space = next;
    if let Some((i, c)) = next
        && is_space(c)
    {
        after_space = next_visible(text, i + c.len_utf8());
    }
    if after_space.is_some_and(|(_, c)| is_percent(c)) || prev.is_some_and(|(_, c)| is_percent(c)) {
        return true;
    }
    // "2x 19.99", "2 × 19.99", "3 pcs".
    if t.n == 0
        && !t.dash
        && let Some((i, _)) = after_space
        && is_quantity_mark(text, i)
    {
        return true;
    }
    // "10:30", "1/2".
    if let Some((i, c)) = next
        && matches!(c, ':' | '/')
        && next_visible(text, i + c.len_utf8()).is_some_and(|(_, d)| is_digit(d))
    {
        return true;
    }
    if let Some((i, c)) = prev
        && matches!(c, ':' | '/')
        && prev_visible(text, i).is_some_and(|(_, d)| is_digit(d))
    {
        return true;
    }
    // "RTX4070", "128GB", "2nd": glued to letters that name no currency.
    if let Some((i, c)) = next
        && is_letter(c)
        && !mentions.starts_at(i)
    {
        return true;
    }
    if let Some((i, c)) = prev
        && is_letter(c)
        && !mentions.ends_at(i + c.len_utf8())
        && !is_times_after_count(text, i, c)
    {
        return true;
    }
    false
}

/// `x`, `×` or a unit word at byte `at`, as a whole word.
fn is_quantity_mark(text: &str, at: usize) -> bool {
    let Some(c) = text[at..].chars().next() else {
        return false;
    };
    if matches!(c, 'x' | 'X' | '×' | 'х' | 'Х') {
        let after = at + c.len_utf8();
        return !next_visible(text, after).is_some_and(|(_, n)| is_letter(n));
    }
    QUANTITY_UNITS.iter().any(|unit| {
        match_at(text, at, unit, false)
            .is_some_and(|end| !next_visible(text, end).is_some_and(|(_, n)| is_letter(n)))
    })
}

/// The `x` of `2x19.99`, at byte `at`: a count comes right before it.
fn is_times_after_count(text: &str, at: usize, c: char) -> bool {
    matches!(c, 'x' | 'X' | 'х' | 'Х') && prev_visible(text, at).is_some_and(|(_, d)| is_digit(d))
}

/// What may stand between two numbers of a range: `12 - 15`, `от 10 до 20`.
pub(super) fn is_range_gap(gap: &str) -> bool {
    let g = gap.trim_matches(|c| is_space(c) || is_invisible(c));
    matches!(g, "-" | "–" | "—" | "−" | "~" | "…" | "..." | "до" | "à")
        || g.eq_ignore_ascii_case("to")
        || g.eq_ignore_ascii_case("bis")
}
