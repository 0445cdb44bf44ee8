//! OpenGraph.

use serde_json::Value;

use super::MAX_OFFERS;
use super::decision::{Cand, Found};
use super::page::{PageInfo, clean};
use super::schema::{amount_of, currency_of, parse_availability};
use crate::price::PriceHints;

pub(super) fn opengraph(page: &PageInfo, hints: PriceHints) -> Option<Found> {
    let availability = page
        .meta_value("product:availability")
        .or_else(|| page.meta_value("og:availability"))
        .map(|a| (a, parse_availability(a)));
    let product_type = page
        .meta_value("og:type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("product"));
    let pairs = |prefix: &str| -> Vec<Cand> {
        let amount_key = format!("{prefix}:amount");
        let currency_key = format!("{prefix}:currency");
        let amounts: Vec<String> = page
            .meta_values(&amount_key)
            .take(MAX_OFFERS)
            .map(str::to_string)
            .collect();
        let currencies: Vec<String> = page
            .meta_values(&currency_key)
            .map(str::to_string)
            .collect();
        amounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                let mut c = Cand::new(format!("{prefix}:amount"));
                c.availability = availability.and_then(|(_, a)| a);
                let cur = currencies.get(i).or(currencies.first());
                c.currency = cur.and_then(|s| currency_of(Some(&Value::String(s.clone()))));
                match amount_of(&Value::String(a.clone()), hints) {
                    Ok(amount) => {
                        c.amount = Some(amount.value);
                        c.text = Some(amount.text);
                        c.currency = c.currency.or(amount.currency);
                    }
                    Err(p) => {
                        c.text = Some(a.clone());
                        c.problem = Some(p);
                    }
                }
                c
            })
            .collect()
    };
    let sale = pairs("product:sale_price");
    let regular = {
        let mut r = pairs("product:price");
        if r.is_empty() {
            r = pairs("og:price");
        }
        r
    };
    let mut offers = if sale.iter().any(|c| c.amount.is_some()) {
        let regular_text: Vec<String> = regular.iter().filter_map(|c| c.text.clone()).collect();
        sale.into_iter()
            .map(|mut c| {
                if !regular_text.is_empty() {
                    c.extra = Some(format!("regular price {} ignored", regular_text.join(", ")));
                }
                c
            })
            .collect()
    } else {
        regular
    };
    if offers.is_empty()
        && let Some((_, a)) = availability
    {
        let mut c = Cand::new("availability");
        c.availability = a;
        offers.push(c);
    }
    if offers.is_empty() && availability.is_none() && !product_type {
        return None;
    }
    Some(Found {
        layer: "OpenGraph",
        kind: "product tags".into(),
        how: None,
        name: page
            .meta_value("og:title")
            .map(clean)
            .filter(|s| !s.is_empty()),
        image: page
            .meta_value("og:image:secure_url")
            .or_else(|| page.meta_value("og:image"))
            .or_else(|| page.meta_value("og:image:url"))
            .map(str::to_string),
        brand: page
            .meta_value("product:brand")
            .or_else(|| page.meta_value("og:brand"))
            .map(clean)
            .filter(|s| !s.is_empty()),
        url: None,
        offers,
    })
}
