//! What a layer found about the main product, and the decision it leads to.

use rust_decimal::Decimal;

use crate::domain::{Availability, Currency, Money};
use crate::price::find_currency;

/// The main product as one layer describes it.
pub(super) struct Found {
    pub(super) layer: &'static str,
    /// The product's type as written ("Product", "Offer", "product tags").
    pub(super) kind: String,
    /// How the main product was told apart from others, when there were several.
    pub(super) how: Option<String>,
    pub(super) name: Option<String>,
    pub(super) image: Option<String>,
    pub(super) brand: Option<String>,
    pub(super) url: Option<String>,
    pub(super) offers: Vec<Cand>,
}

/// One price a layer offers.
#[derive(Debug, Clone)]
pub(super) struct Cand {
    /// "Offer price", "AggregateOffer lowPrice", "product:price:amount"...
    pub(super) what: String,
    pub(super) amount: Option<Decimal>,
    /// The price as written.
    pub(super) text: Option<String>,
    pub(super) currency: Option<Currency>,
    pub(super) availability: Option<Availability>,
    /// Why a price that was there is not usable.
    pub(super) problem: Option<String>,
    /// Said in the note when this candidate is chosen (a range, ignored text).
    pub(super) extra: Option<String>,
}

impl Cand {
    pub(super) fn new(what: impl Into<String>) -> Self {
        Cand {
            what: what.into(),
            amount: None,
            text: None,
            currency: None,
            availability: None,
            problem: None,
            extra: None,
        }
    }

    fn says_something(&self) -> bool {
        self.amount.is_some() || self.availability.is_some() || self.problem.is_some()
    }
}

pub(super) struct Decision {
    pub(super) price: Option<Money>,
    /// The currency the structured data names, even when no price was usable.
    pub(super) currency: Option<Currency>,
    pub(super) price_text: Option<String>,
    pub(super) availability: Availability,
    pub(super) note: String,
}

/// Decides the price one layer gives; None when it says nothing about an offer.
pub(super) fn decide(found: &Found, default_currency: Option<Currency>) -> Option<Decision> {
    let cands: Vec<&Cand> = found.offers.iter().filter(|c| c.says_something()).collect();
    if cands.is_empty() {
        return None;
    }
    let layer = found.layer;
    let named_currency = cands.iter().find_map(|c| c.currency);
    let mut priced: Vec<(usize, Money)> = Vec::new();
    let mut no_currency = 0usize;
    for (i, c) in cands.iter().enumerate() {
        if let Some(a) = c.amount {
            match c.currency.or(default_currency) {
                Some(cur) => priced.push((i, Money::new(a, cur))),
                None => no_currency += 1,
            }
        }
    }
    let without_price = cands.iter().filter(|c| c.amount.is_none()).count();

    if priced.is_empty() {
        let availability = overall_availability(cands.iter().map(|c| c.availability));
        let first_text = cands.iter().find_map(|c| c.text.clone());
        let note = if no_currency > 0 {
            format!(
                "{layer} {} {} names no currency; set `currency` for this source",
                cands[0].what,
                first_text.as_deref().unwrap_or("")
            )
        } else if availability == Availability::OutOfStock {
            format!("{layer} {}: out of stock, no price given", found.kind)
        } else if let Some(p) = cands.iter().find_map(|c| c.problem.as_deref()) {
            format!("{layer} {}: no usable price ({p})", found.kind)
        } else {
            format!(
                "{layer} {}: {} but no price",
                found.kind,
                availability.as_str()
            )
        };
        return Some(Decision {
            price: None,
            currency: named_currency.or(default_currency),
            price_text: first_text,
            availability,
            note,
        });
    }

    // One currency: the configured one if offered, else the first offer's.
    let currency = default_currency
        .filter(|d| priced.iter().any(|(_, m)| m.currency == *d))
        .unwrap_or(priced[0].1.currency);
    let same: Vec<&(usize, Money)> = priced
        .iter()
        .filter(|(_, m)| m.currency == currency)
        .collect();
    let other_currency = priced.len() - same.len();
    let avail = |i: usize| cands[i].availability.unwrap_or(Availability::Unknown);
    let in_stock: Vec<_> = same
        .iter()
        .copied()
        .filter(|(i, _)| avail(*i) == Availability::InStock)
        .collect();
    let unknown: Vec<_> = same
        .iter()
        .copied()
        .filter(|(i, _)| avail(*i) == Availability::Unknown)
        .collect();
    let (pool, pool_word) = if !in_stock.is_empty() {
        (in_stock, "in-stock ")
    } else if !unknown.is_empty() {
        (unknown, "")
    } else {
        (same.clone(), "out-of-stock ")
    };
    let (best_i, best) = pool
        .iter()
        .min_by(|a, b| a.1.amount.cmp(&b.1.amount).then(a.0.cmp(&b.0)))
        .map(|(i, m)| (*i, m.clone()))
        .expect("the pool is never empty: `same` holds the chosen currency's offers");
    let chosen = cands[best_i];

    let mut reasons = Vec::new();
    if pool.len() > 1 {
        reasons.push(format!(
            "lowest of {} {pool_word}offers in {currency}",
            pool.len()
        ));
    } else if same.len() > 1 {
        reasons.push(format!("the only {pool_word}offer in {currency}"));
    }
    let set_aside = same.len() - pool.len();
    if set_aside > 0 {
        let what = if pool_word == "in-stock " {
            "not in stock"
        } else {
            "out of stock"
        };
        reasons.push(format!(
            "{set_aside} offer{} {what} ignored",
            if set_aside == 1 { "" } else { "s" }
        ));
    }
    if other_currency > 0 {
        reasons.push(format!(
            "{other_currency} offer{} in other currencies ignored",
            if other_currency == 1 { "" } else { "s" }
        ));
    }
    if without_price > 0 && cands.len() > 1 {
        reasons.push(format!(
            "{without_price} offer{} without a usable price",
            if without_price == 1 { "" } else { "s" }
        ));
    }
    if let Some(extra) = &chosen.extra {
        reasons.push(extra.clone());
    }
    let mut note = format!("{layer} {}", chosen.what);
    if !reasons.is_empty() {
        note = format!("{note} ({})", reasons.join("; "));
    }
    let price_text = chosen.text.clone().map(|t| {
        if chosen.currency.is_some() && find_currency(&t).is_none() {
            format!("{t} {currency}")
        } else {
            t
        }
    });
    Some(Decision {
        availability: chosen.availability.unwrap_or(Availability::Unknown),
        price: Some(best),
        currency: Some(currency),
        price_text,
        note,
    })
}

/// In stock if any offer is, out of stock if all that say are, else unknown.
fn overall_availability(all: impl Iterator<Item = Option<Availability>>) -> Availability {
    let said: Vec<Availability> = all.flatten().collect();
    if said.contains(&Availability::InStock) {
        Availability::InStock
    } else if said.contains(&Availability::OutOfStock) {
        Availability::OutOfStock
    } else {
        Availability::Unknown
    }
}
