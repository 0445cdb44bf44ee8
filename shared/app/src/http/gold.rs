//! `GET /api/gold`: the jeweler board of a gold-price frontend. Each
//! jeweler's latest quote per fineness side by side (karats and Russian
//! probes on one scale: 18K and 750 are the same gold), with the spot price
//! per gram at each fineness for comparison.

use axum::Json;
use axum::extract::State;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

use super::api::{PriceView, TAG_PRICES};
use super::error::{ApiError, ErrorResponses};
use super::search::Searcher;
use super::{AppState, HttpConfig};
use crate::domain::{LatestPrice, Money, SourceId};

/// Grams in a troy ounce (spot is quoted per ounce).
const GRAMS_PER_TROY_OUNCE: Decimal = Decimal::from_parts(311_034_768, 0, 0, false, 7);
/// The spot series (per troy ounce); its currency is the spot's.
const SPOT_SERIES_PREFIX: &str = "gold-spot";

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
    /// Per gram at each fineness on the board, in the spot's currency
    /// (no exchange rate is known to convert it into the jewelers').
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
    let spot = spot.and_then(|s| {
        let per_oz = s.price.as_ref()?;
        let per_gram = all
            .iter()
            .map(|f| SpotQuote {
                fineness: *f,
                price: Money::new(
                    (per_oz.amount / GRAMS_PER_TROY_OUNCE * Decimal::from(*f)
                        / Decimal::from(1000))
                    .round_dp(2),
                    per_oz.currency,
                ),
            })
            .collect();
        Some(Spot {
            item: PriceView::from(s.clone()),
            per_gram,
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
}
