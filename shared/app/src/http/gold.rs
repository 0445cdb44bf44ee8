//! `GET /api/gold`: the jeweler board of a gold-price frontend. Each
//! jeweler's latest quote per fineness side by side (karats and Russian
//! probes on one scale: 18K and 750 are the same gold), with the spot price
//! per gram at each fineness for comparison, converted into the jewelers'
//! currencies where an exchange rate is known.
//!
//! Exchange rates are ordinary items in a series `fx-<base>-<quote>`
//! (lower-case ISO codes) priced in the quote currency per one unit of the
//! base: `fx-usd-rub` at 95.2 RUB is one US dollar. Any source can feed
//! one (sources.toml reads the Bank of Russia's daily JSON).

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use utoipa::ToSchema;

use super::api::{PriceView, TAG_PRICES};
use super::error::{ApiError, ErrorResponses};
use super::search::Searcher;
use super::{AppState, HttpConfig};
use crate::domain::{Currency, LatestPrice, Money, SourceId};

/// Grams in a troy ounce (spot is quoted per ounce).
const GRAMS_PER_TROY_OUNCE: Decimal = Decimal::from_parts(311_034_768, 0, 0, false, 7);
/// The spot series (per troy ounce); its currency is the spot's.
const SPOT_SERIES_PREFIX: &str = "gold-spot";
/// Exchange rate series: `fx-<base>-<quote>`.
const FX_SERIES_PREFIX: &str = "fx-";

/// The currencies of an exchange rate series id: `fx-usd-rub` is
/// (USD, RUB). None for anything else.
pub fn fx_pair(series: &str) -> Option<(Currency, Currency)> {
    let (base, quote) = series.strip_prefix(FX_SERIES_PREFIX)?.split_once('-')?;
    let code = |c: &str| {
        (c.len() == 3 && c.bytes().all(|b| b.is_ascii_lowercase()))
            .then(|| Currency::new(c).ok())
            .flatten()
    };
    Some((code(base)?, code(quote)?)).filter(|(b, q)| b != q)
}

/// The newest known rates, by (base, quote): how many `quote` one `base` buys.
struct Rates(BTreeMap<(Currency, Currency), (Decimal, DateTime<Utc>)>);

impl Rates {
    fn from_items<'a>(items: impl Iterator<Item = &'a LatestPrice>) -> Rates {
        let mut rates = BTreeMap::new();
        for i in items {
            let Some((base, quote)) = i.series.as_ref().and_then(|s| fx_pair(s.as_str())) else {
                continue;
            };
            // A rate is only a rate in its quote currency, and above zero.
            let Some(p) = i
                .price
                .as_ref()
                .filter(|p| p.currency == quote && p.amount > Decimal::ZERO)
            else {
                continue;
            };
            let newer = rates
                .get(&(base, quote))
                .is_none_or(|(_, at): &(Decimal, DateTime<Utc>)| i.observed_at > *at);
            if newer {
                rates.insert((base, quote), (p.amount, i.observed_at));
            }
        }
        Rates(rates)
    }

    /// `amount` of `from` in `to`, with the rate used: direct, or the
    /// inverse of the opposite pair. None without a rate, or on overflow.
    fn convert(&self, amount: Decimal, from: Currency, to: Currency) -> Option<(Decimal, Rate)> {
        if let Some((r, at)) = self.0.get(&(from, to)) {
            let rate = Rate {
                base: from,
                quote: to,
                rate: *r,
                observed_at: *at,
            };
            return Some((amount.checked_mul(*r)?, rate));
        }
        let (r, at) = self.0.get(&(to, from))?;
        let rate = Rate {
            base: to,
            quote: from,
            rate: *r,
            observed_at: *at,
        };
        Some((amount.checked_div(*r)?, rate))
    }
}

/// Spot per gram of `fineness` from spot per troy ounce; None on overflow
/// (scraped amounts reach `Decimal::MAX`, and rust_decimal panics on it).
fn per_gram(per_oz: Decimal, fineness: u16) -> Option<Decimal> {
    per_oz
        .checked_div(GRAMS_PER_TROY_OUNCE)?
        .checked_mul(Decimal::from(fineness))?
        .checked_div(Decimal::from(1000))
        .map(|d| d.round_dp(2))
}

/// Fineness in thousandths from a gold series id: `gold-18k` (karats) or
/// `gold-750` (a probe). None for anything else.
pub fn fineness(series: &str) -> Option<u16> {
    let rest = series.strip_prefix("gold-")?;
    if let Some(k) = rest.strip_suffix('k') {
        let karat: u16 = k.parse().ok().filter(|k| (1..=24).contains(k))?;
        // The hallmarks jewelers use: 24K is 999, not 1000.
        return Some(match karat {
            9 => 375,
            14 => 585,
            18 => 750,
            21 => 875,
            22 => 916,
            24 => 999,
            k => ((u32::from(k) * 1000 + 12) / 24) as u16,
        });
    }
    rest.parse().ok().filter(|p| (1..=1000).contains(p))
}

/// One jeweler's quote at one fineness.
#[derive(Serialize, ToSchema)]
pub struct Quote {
    /// Thousandths of gold: 750 is 18 karat.
    fineness: u16,
    item: PriceView,
}

#[derive(Serialize, ToSchema)]
pub struct Jeweler {
    source_id: SourceId,
    name: String,
    /// Latest quote per fineness, finest first.
    quotes: Vec<Quote>,
}

/// Spot per gram at one fineness.
#[derive(Serialize, ToSchema)]
pub struct SpotQuote {
    fineness: u16,
    price: Money,
}

#[derive(Serialize, ToSchema)]
pub struct Spot {
    /// The spot quote itself (per troy ounce).
    item: PriceView,
    /// Per gram at each fineness on the board, in the spot's currency.
    per_gram: Vec<SpotQuote>,
    /// The same in each jeweler currency an exchange rate is known for.
    converted: Vec<ConvertedSpot>,
}

/// An exchange rate: one `base` buys `rate` of `quote`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"base": "USD", "quote": "RUB", "rate": "95.2", "observed_at": "2026-12-01T09:00:00Z"}))]
pub struct Rate {
    base: Currency,
    quote: Currency,
    #[schema(value_type = String, example = "95.2")]
    #[serde(with = "rust_decimal::serde::str")]
    rate: Decimal,
    observed_at: DateTime<Utc>,
}

/// Spot per gram in a jeweler currency, and the rate it was converted at.
#[derive(Serialize, ToSchema)]
pub struct ConvertedSpot {
    currency: Currency,
    rate: Rate,
    per_gram: Vec<SpotQuote>,
}

/// The board.
#[derive(Serialize, ToSchema)]
pub struct GoldBoard {
    /// Every fineness some jeweler quotes, finest first.
    fineness: Vec<u16>,
    jewelers: Vec<Jeweler>,
    /// null when no spot source has a price yet.
    spot: Option<Spot>,
}

#[utoipa::path(
    get,
    path = "/gold",
    tag = TAG_PRICES,
    summary = "The jeweler board: each jeweler's latest gold quote per fineness, and spot per gram",
    responses((status = 200, description = "The board", body = GoldBoard), ErrorResponses)
)]
pub async fn board(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    State(searcher): State<Arc<Searcher>>,
) -> Result<Json<GoldBoard>, ApiError> {
    let built = searcher.index().await?;
    let visible = |i: &&LatestPrice| {
        config.public_tracked_pages || !crate::sources::tracked::is_user_source(&i.source_id)
    };
    let mut by_source: BTreeMap<SourceId, BTreeMap<u16, &LatestPrice>> = BTreeMap::new();
    let mut spot: Option<&LatestPrice> = None;
    for item in built.items.iter().filter(visible) {
        let Some(series) = item.series.as_ref().map(|s| s.as_str()) else {
            continue;
        };
        if series.starts_with(FX_SERIES_PREFIX) {
            continue;
        }
        if series.starts_with(SPOT_SERIES_PREFIX) {
            if item.price.is_some() && spot.is_none_or(|s| item.is_newer_than(s)) {
                spot = Some(item);
            }
            continue;
        }
        let Some(f) = fineness(series) else { continue };
        let quotes = by_source.entry(item.source_id.clone()).or_default();
        // Several items at one fineness (18K "cassé" and "neuf"): the newest.
        if quotes.get(&f).is_none_or(|q| item.is_newer_than(q)) {
            quotes.insert(f, item);
        }
    }
    let mut all: Vec<u16> = by_source.values().flat_map(|q| q.keys().copied()).collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.dedup();
    // The currencies the jewelers quote in, for the converted spot rows.
    let currencies: BTreeSet<Currency> = by_source
        .values()
        .flat_map(|q| q.values())
        .filter_map(|i| i.price.as_ref().map(|p| p.currency))
        .collect();
    let jewelers = by_source
        .into_iter()
        .map(|(source_id, quotes)| Jeweler {
            name: state
                .sources
                .source(source_id.as_str())
                .map_or_else(|| source_id.to_string(), |s| s.name.clone()),
            source_id,
            quotes: quotes
                .into_iter()
                .rev()
                .map(|(fineness, item)| Quote {
                    fineness,
                    item: PriceView::from(item.clone()),
                })
                .collect(),
        })
        .collect();
    let rates = Rates::from_items(built.items.iter().filter(visible));
    let table = |amount: Decimal, currency: Currency| -> Vec<SpotQuote> {
        all.iter()
            .filter_map(|f| {
                Some(SpotQuote {
                    fineness: *f,
                    price: Money::new(per_gram(amount, *f)?, currency),
                })
            })
            .collect()
    };
    let spot = spot.and_then(|s| {
        let per_oz = s.price.as_ref()?;
        let converted = currencies
            .iter()
            .filter(|c| **c != per_oz.currency)
            .filter_map(|c| {
                let (amount, rate) = rates.convert(per_oz.amount, per_oz.currency, *c)?;
                Some(ConvertedSpot {
                    currency: *c,
                    rate,
                    per_gram: table(amount, *c),
                })
            })
            .collect();
        Some(Spot {
            item: PriceView::from(s.clone()),
            per_gram: table(per_oz.amount, per_oz.currency),
            converted,
        })
    });
    Ok(Json(GoldBoard {
        fineness: all,
        jewelers,
        spot,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn karats_and_probes_meet_on_one_scale() {
        assert_eq!(fineness("gold-18k"), Some(750));
        assert_eq!(fineness("gold-750"), Some(750));
        assert_eq!(fineness("gold-21k"), Some(875));
        assert_eq!(fineness("gold-24k"), Some(999));
        assert_eq!(fineness("gold-585"), Some(585));
        assert_eq!(fineness("gold-10k"), Some(417));
        for bad in [
            "gold-0k",
            "gold-25k",
            "gold-xk",
            "gold-",
            "gold-1001",
            "silver-925",
            "gold-spot-usd-oz",
        ] {
            assert_eq!(fineness(bad), None, "{bad}");
        }
    }

    #[test]
    fn rate_series_name_two_different_currencies() {
        let c = |s| Currency::new(s).unwrap();
        assert_eq!(fx_pair("fx-usd-rub"), Some((c("USD"), c("RUB"))));
        for bad in [
            "fx-usd-usd",
            "fx-USD-rub",
            "fx-usd",
            "fx-usd-rub-x",
            "fx-zzz-rub",
            "fx--",
            "gold-18k",
            "fx-ééé-rub",
        ] {
            assert_eq!(fx_pair(bad), None, "{bad}");
        }
    }

    #[test]
    fn spot_per_gram_never_overflows() {
        assert_eq!(per_gram(Decimal::MAX, 999), None);
        assert_eq!(
            per_gram(Decimal::from(3110), 1000).map(|d| d.to_string()),
            Some("99.99".into())
        );
    }
}
