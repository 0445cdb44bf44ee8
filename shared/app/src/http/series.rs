//! The series routes: the list, a series' statistics over a window, and a
//! series with every listing and its deal against the median (the
//! marketplace case: "how good is this RTX 4070 at 450?").

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use super::api::{PriceView, TAG_PRICES, visible};
use super::error::{ApiError, ErrorResponses};
use super::params::{self, ApiQuery};
use super::search::Searcher;
use super::{AppState, HttpConfig};
use crate::domain::stats::{self, SeriesStats};
use crate::domain::{LatestPrice, SeriesId, SeriesSummary};

#[derive(Serialize, ToSchema)]
pub struct SeriesList {
    series: Vec<SeriesSummary>,
}

#[utoipa::path(
    get,
    path = "/series",
    tag = TAG_PRICES,
    summary = "The series (groups of comparable items) and their sizes",
    responses((status = 200, description = "Every series", body = SeriesList), ErrorResponses)
)]
pub async fn list_series(State(state): State<AppState>) -> Result<Json<SeriesList>, ApiError> {
    let series = state.store.list_series().await?;
    Ok(Json(SeriesList { series }))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// How far back from `to`: a number and a unit h, d, w or y, at most 400 days (default 7d).
    #[param(value_type = Option<String>, pattern = "^(([1-9][0-9]{0,2}|[1-8][0-9]{3}|9[0-5][0-9]{2}|9600)h|([1-9][0-9]?|[1-3][0-9]{2}|400)d|([1-9]|[1-4][0-9]|5[0-7])w|1y)$", example = "7d")]
    window: Option<String>,
    /// The window's end (RFC 3339 or a date; default now).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    to: Option<String>,
}

/// A series' statistics over a window.
#[derive(Serialize, ToSchema)]
pub struct StatsBody {
    series: SeriesId,
    window: String,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    /// null when no item of the series has a price in the window.
    stats: Option<SeriesStats>,
}

/// Statistics of a series over a window (default 7 days) ending at `to`
/// (default now).
#[utoipa::path(
    get,
    path = "/series/{id}/stats",
    tag = TAG_PRICES,
    summary = "A series' price statistics, outliers filtered",
    params(("id" = SeriesId, Path, description = "The series' id"), StatsParams),
    responses((status = 200, description = "The statistics", body = StatsBody), ErrorResponses)
)]
pub async fn series_stats(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<StatsBody>, ApiError> {
    let series = series_id(&id)?;
    Ok(Json(stats_over(&state, series, &p).await?))
}

pub(super) fn series_id(raw: &str) -> Result<SeriesId, ApiError> {
    SeriesId::new(raw).map_err(|e| ApiError::bad_request(format!("series id: {e}")))
}

/// A series' statistics over the window `p` asks for; 404 for a series
/// the store has never seen.
async fn stats_over(
    state: &AppState,
    series: SeriesId,
    p: &StatsParams,
) -> Result<StatsBody, ApiError> {
    let window_text = p.window.as_deref().unwrap_or("7d");
    let window = stats::parse_window(window_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "window must be a number and a unit h, d, w or y, at most 400 days (e.g. 24h, 7d, 4w), got {window_text:?}"
        ))
    })?;
    let to = params::time("to", p.to.as_deref())?.unwrap_or_else(Utc::now);
    // `to` may be any date chrono can hold; subtracting a window from the
    // earliest of them must be an error, not an overflow panic.
    let from = to
        .checked_sub_signed(window)
        .ok_or_else(|| ApiError::bad_request("to is too far in the past for this window"))?;
    let observations = state.store.series_observations(&series, from, to).await?;
    let stats: Option<SeriesStats> = stats::compute(&series, &observations, from, to);
    if stats.is_none()
        && !state
            .store
            .list_series()
            .await?
            .iter()
            .any(|s| s.series == series)
    {
        return Err(ApiError::not_found(
            "unknown_series",
            format!("no series {series}; GET /api/series lists them"),
        ));
    }
    // A known series with no price in the window: 200 with null stats.
    Ok(StatsBody {
        series,
        window: window_text.to_string(),
        from,
        to,
        stats,
    })
}

/// How a listing's price compares with its series' median.
#[derive(Serialize, ToSchema)]
pub struct Deal {
    /// (price − median) / median, in percent, one decimal: −20.0 is a
    /// fifth under the median.
    #[schema(value_type = String, example = "-20.0")]
    vs_median_percent: String,
    /// 0 to 100: 50 at the median, one point per percent under it (capped);
    /// null for an outlier (a price too far off to trust: a box without the
    /// card, a typo).
    score: Option<u8>,
    /// The statistics dropped this price as an outlier.
    outlier: bool,
}

/// A listing of the series, with its deal against the median.
#[derive(Serialize, ToSchema)]
pub struct SeriesItem {
    #[serde(flatten)]
    item: PriceView,
    /// null without a price in the series' currency, or without statistics.
    deal: Option<Deal>,
}

/// A series: its statistics and its listings, best deals first.
#[derive(Serialize, ToSchema)]
pub struct SeriesBody {
    #[serde(flatten)]
    stats: StatsBody,
    items: Vec<SeriesItem>,
}

fn deal_of(item: &LatestPrice, stats: &SeriesStats) -> Option<Deal> {
    let price = item
        .price
        .as_ref()
        .filter(|p| p.currency == stats.currency)?;
    if stats.median.is_zero() {
        return None;
    }
    let hundred = rust_decimal::Decimal::ONE_HUNDRED;
    let vs = ((price.amount - stats.median) / stats.median * hundred).round_dp(1);
    let outlier = stats.outliers.iter().any(|o| o.item_id == item.item_id);
    let score = (!outlier).then(|| {
        let s = (rust_decimal::Decimal::from(50) - vs).round();
        s.clamp(rust_decimal::Decimal::ZERO, hundred)
            .to_string()
            .parse::<u8>()
            .unwrap_or(0)
    });
    Some(Deal {
        vs_median_percent: format!("{vs:.1}"),
        score,
        outlier,
    })
}

/// A series with its listings: what a marketplace frontend shows for "RTX
/// 4070" (statistics, then each listing with how good a deal it is).
#[utoipa::path(
    get,
    path = "/series/{id}",
    tag = TAG_PRICES,
    summary = "A series: statistics and every listing with its deal score",
    params(("id" = SeriesId, Path, description = "The series' id"), StatsParams),
    responses((status = 200, description = "The series", body = SeriesBody), ErrorResponses)
)]
pub async fn get_series(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    State(searcher): State<Arc<Searcher>>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<SeriesBody>, ApiError> {
    let series = series_id(&id)?;
    let stats = stats_over(&state, series.clone(), &p).await?;
    let built = searcher.index().await?;
    let mut items: Vec<SeriesItem> = built
        .items
        .iter()
        .filter(|i| i.series.as_ref() == Some(&series) && visible(&config, &i.source_id))
        .map(|i| SeriesItem {
            deal: stats.stats.as_ref().and_then(|s| deal_of(i, s)),
            item: PriceView::from(i.clone()),
        })
        .collect();
    // Best deals first; items without a deal after, by name.
    items.sort_by(|a, b| {
        let key = |x: &SeriesItem| x.deal.as_ref().and_then(|d| d.score).map_or(-1, i16::from);
        key(b)
            .cmp(&key(a))
            .then_with(|| a.item.name.cmp(&b.item.name))
    });
    Ok(Json(SeriesBody { stats, items }))
}
