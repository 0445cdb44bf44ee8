//! The REST API's read routes: each handler carries its OpenAPI operation
//! (`#[utoipa::path]`), each body type its schema, so `GET /api/openapi.json`
//! is generated from exactly what is served.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::HttpConfig;
use super::error::{ApiError, ErrorResponses};
use super::params::{self, ApiQuery};
use super::search::Searcher;
use crate::domain::{
    Availability, Currency, ItemId, LatestPrice, Money, Observation, SeriesId, SourceHealth,
    SourceId,
};
use crate::events::TELEGRAM_LINK_BASE;
use crate::sources::SourceKind;
use crate::store::{HistoryQuery, LatestQuery, MAX_PAGE};

pub const TAG_PRICES: &str = "prices";
/// What `stats::parse_window` takes: 1 to 9600 hours, 400 days, 57 weeks
/// or 1 year, no leading zeros (a test holds the two together, and this
/// to the document's copy: attributes take only literals).
pub const WINDOW_PATTERN: &str = "^(([1-9][0-9]{0,2}|[1-8][0-9]{3}|9[0-5][0-9]{2}|9600)h|([1-9][0-9]?|[1-3][0-9]{2}|400)d|([1-9]|[1-4][0-9]|5[0-7])w|1y)$";
pub const TAG_SERVICE: &str = "service";

/// Items of pages users pasted into the bot are theirs, not the public
/// catalogue's, unless the operator says otherwise.
pub(super) fn visible(config: &HttpConfig, source: &SourceId) -> bool {
    config.public_tracked_pages || !crate::sources::tracked::is_user_source(source)
}

/// The service's state: 200 when the store answers, 503 when it does not.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "ok", "version": "0.1.0", "store": "sqlite"}))]
pub struct Health {
    /// `ok`, or `degraded` when the store does not answer.
    #[schema(pattern = "^(ok|degraded)$")]
    status: &'static str,
    version: &'static str,
    /// The store backend: `sqlite` or `dynamodb`.
    store: &'static str,
}

#[utoipa::path(
    get,
    path = "/health",
    tag = TAG_SERVICE,
    summary = "Whether the service and its store are up",
    responses(
        (status = 200, description = "Up", body = Health),
        (status = 503, description = "The store does not answer", body = Health),
        ErrorResponses,
    )
)]
pub async fn health(State(state): State<AppState>) -> Response {
    let store_ok = state.store.ping().await.is_ok();
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if store_ok { "ok" } else { "degraded" },
        version: env!("CARGO_PKG_VERSION"),
        store: state.store.backend(),
    };
    // Never cached: an uptime check must see the store as it is now.
    (
        status,
        [(axum::http::header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// A configured source and how it has been doing.
#[derive(Serialize, ToSchema)]
pub struct SourceView {
    id: SourceId,
    name: String,
    /// The kind of source: `telegram_channel`, `html_catalog`, `json_api`, ...
    kind: &'static str,
    /// The schedule group it is read with.
    group: String,
    /// The group's schedule (an EventBridge cron or rate expression).
    schedule: String,
    enabled: bool,
    /// The public channel, for Telegram channel sources.
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    /// The last channel post read, for Telegram channel sources.
    last_post_id: Option<u64>,
    checkpoint_updated_at: Option<DateTime<Utc>>,
    /// Last success, last error, consecutive failures, items seen; null before the first run.
    health: Option<SourceHealth>,
}

#[derive(Serialize, ToSchema)]
pub struct Sources {
    sources: Vec<SourceView>,
}

#[utoipa::path(
    get,
    path = "/sources",
    tag = TAG_PRICES,
    summary = "The configured sources and their health",
    responses((status = 200, description = "Every source, in sources.toml order", body = Sources), ErrorResponses)
)]
pub async fn list_sources(State(state): State<AppState>) -> Result<Json<Sources>, ApiError> {
    let mut out = Vec::with_capacity(state.sources.sources.len());
    for s in &state.sources.sources {
        let cp = state.store.checkpoint(&s.id).await?;
        let health = state.store.source_health(&s.id).await?;
        out.push(SourceView {
            id: s.id.clone(),
            name: s.name.clone(),
            kind: s.kind.name(),
            group: s.group.clone(),
            schedule: state
                .sources
                .groups
                .get(&s.group)
                .map(|g| g.schedule.to_string())
                .unwrap_or_default(),
            enabled: s.enabled,
            channel: match &s.kind {
                SourceKind::TelegramChannel(tc) => Some(tc.channel.clone()),
                _ => None,
            },
            last_post_id: cp.as_ref().map(|c| c.last_post_id),
            checkpoint_updated_at: cp.map(|c| c.updated_at),
            health,
        });
    }
    Ok(Json(Sources { sources: out }))
}

/// An item's latest price.
#[derive(Serialize, ToSchema)]
pub struct PriceView {
    item_id: ItemId,
    source_id: SourceId,
    pub(super) name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    series: Option<SeriesId>,
    /// null when the source shows no price (out of stock, price on request).
    price: Option<Money>,
    availability: Availability,
    #[serde(skip_serializing_if = "Option::is_none")]
    brand: Option<String>,
    /// The item's picture at the source.
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    observed_at: DateTime<Utc>,
    /// Where the price was seen: the channel post or the page.
    link: String,
    /// The item's last price change; absent until its price first moves.
    #[serde(skip_serializing_if = "Option::is_none")]
    change: Option<ChangeView>,
}

/// An item's last price change.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"from": {"amount": "100", "currency": "EUR"}, "at": "2026-12-01T10:00:00Z", "percent": "-10"}))]
pub struct ChangeView {
    /// The price before the change.
    from: Money,
    /// When the new price was first seen.
    at: DateTime<Utc>,
    /// The change to the current price in percent (a decimal string,
    /// negative for a drop); null while the item shows no price.
    #[schema(value_type = Option<String>, pattern = "^-?[0-9]+(\\.[0-9]{1,2})?$")]
    percent: Option<String>,
}

impl From<LatestPrice> for PriceView {
    fn from(l: LatestPrice) -> Self {
        let change = l.change.clone().map(|c| ChangeView {
            percent: l.change_percent().map(|p| p.to_string()),
            from: c.from,
            at: c.at,
        });
        PriceView {
            change,
            link: l.link(TELEGRAM_LINK_BASE),
            item_id: l.item_id,
            source_id: l.source_id,
            name: l.name,
            series: l.series,
            price: l.price,
            availability: l.availability,
            brand: l.details.brand,
            image: l.details.image,
            observed_at: l.observed_at,
        }
    }
}

/// A page of latest prices.
#[derive(Serialize, ToSchema)]
pub struct PricesPage {
    prices: Vec<PriceView>,
    /// Pass as `cursor` for the next page; null on the last one.
    next_cursor: Option<String>,
}

// The parameters are strings here and parsed by `params`, so a bad value
// gets our message (naming the parameter) rather than serde's; the
// documented types are what the parsers take.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PricesParams {
    /// Only this source's items.
    #[param(value_type = Option<SourceId>)]
    source: Option<String>,
    /// Items per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 50)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page, unchanged (with the same filters).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{1,2048}$")]
    cursor: Option<String>,
    /// Only this series' items.
    #[param(value_type = Option<SeriesId>)]
    series: Option<String>,
    /// Only this brand's items (as the source writes it; case does not matter).
    #[param(min_length = 1, max_length = 100, example = "Darkside")]
    brand: Option<String>,
    /// Only items with this availability.
    #[param(value_type = Option<Availability>)]
    availability: Option<String>,
    /// Only prices in this currency (ISO 4217).
    #[param(value_type = Option<Currency>)]
    currency: Option<String>,
    /// Only prices at least this (a plain decimal); items without a price drop out.
    #[param(value_type = Option<String>, pattern = "^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,8})?$", example = "100")]
    min_price: Option<String>,
    /// Only prices at most this (a plain decimal); items without a price drop out.
    #[param(value_type = Option<String>, pattern = "^(0|[1-9][0-9]{0,11})(\\.[0-9]{1,8})?$", example = "2000")]
    max_price: Option<String>,
    /// The order: `name` (the default with any filter), `price_asc`,
    /// `price_desc` (items without a price last), `newest`, `oldest`,
    /// `change_asc` (biggest drops first), `change_desc` (biggest rises
    /// first; for both, items whose price never moved last).
    /// Without filters or sort, the store's order (source, then item).
    #[param(value_type = Option<String>, pattern = "^(name|price_asc|price_desc|newest|oldest|change_asc|change_desc)$", example = "change_asc")]
    sort: Option<String>,
}

/// The `source` parameter: a valid id (400 otherwise) of a configured
/// source (404 otherwise).
fn known_source(state: &AppState, raw: Option<&str>) -> Result<Option<SourceId>, ApiError> {
    let source = params::source(raw)?;
    if let Some(s) = &source
        && state.sources.source(s.as_str()).is_none()
    {
        return Err(ApiError::not_found(
            "unknown_source",
            format!("no source {s}; GET /api/sources lists them"),
        ));
    }
    Ok(source)
}

/// A non-negative price bound, as the document's pattern gives it.
fn price_bound(name: &str, raw: Option<&str>) -> Result<Option<rust_decimal::Decimal>, ApiError> {
    let Some(s) = raw else { return Ok(None) };
    params::plain_decimal(s, 12, false)
        .map(Some)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name} must be a plain decimal such as 100 or 12.50, got {s:?}"
            ))
        })
}

/// What the filtered, sorted view of `/api/prices` is asked for.
struct Filter {
    series: Option<SeriesId>,
    brand: Option<String>,
    availability: Option<Availability>,
    currency: Option<Currency>,
    min: Option<rust_decimal::Decimal>,
    max: Option<rust_decimal::Decimal>,
    sort: &'static str,
}

impl Filter {
    /// None when no filter or sort is asked for (the store's own pages).
    fn from(p: &PricesParams) -> Result<Option<Filter>, ApiError> {
        let asked = p.series.is_some()
            || p.brand.is_some()
            || p.availability.is_some()
            || p.currency.is_some()
            || p.min_price.is_some()
            || p.max_price.is_some()
            || p.sort.is_some();
        if !asked {
            return Ok(None);
        }
        let series = p
            .series
            .as_deref()
            .map(super::series::series_id)
            .transpose()?;
        let brand = match p.brand.as_deref() {
            Some(b) if b.is_empty() || b.chars().count() > 100 => {
                return Err(ApiError::bad_request("brand must be 1 to 100 characters"));
            }
            // Lower-cased char by char, as `keeps` compares each brand.
            b => b.map(|b| b.chars().flat_map(char::to_lowercase).collect()),
        };
        let availability = match p.availability.as_deref() {
            None => None,
            Some("in_stock") => Some(Availability::InStock),
            Some("out_of_stock") => Some(Availability::OutOfStock),
            Some("unknown") => Some(Availability::Unknown),
            Some(a) => {
                return Err(ApiError::bad_request(format!(
                    "availability must be in_stock, out_of_stock or unknown, got {a:?}"
                )));
            }
        };
        let currency = p
            .currency
            .as_deref()
            .map(|c| {
                // Exactly a code (the document's enum): not " eur ".
                let exact = c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase());
                c.parse::<Currency>().ok().filter(|_| exact).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "currency must be an ISO 4217 code such as EUR, got {c:?}"
                    ))
                })
            })
            .transpose()?;
        let sort = match p.sort.as_deref() {
            None | Some("name") => "name",
            Some("price_asc") => "price_asc",
            Some("price_desc") => "price_desc",
            Some("newest") => "newest",
            Some("oldest") => "oldest",
            Some("change_asc") => "change_asc",
            Some("change_desc") => "change_desc",
            Some(s) => {
                return Err(ApiError::bad_request(format!(
                    "sort must be name, price_asc, price_desc, newest, oldest, change_asc or change_desc, got {s:?}"
                )));
            }
        };
        Ok(Some(Filter {
            series,
            brand,
            availability,
            currency,
            min: price_bound("min_price", p.min_price.as_deref())?,
            max: price_bound("max_price", p.max_price.as_deref())?,
            sort,
        }))
    }

    fn keeps(&self, i: &LatestPrice, source: Option<&SourceId>) -> bool {
        let amount = i.price.as_ref().map(|p| p.amount);
        source.is_none_or(|s| &i.source_id == s)
            && self
                .series
                .as_ref()
                .is_none_or(|s| i.series.as_ref() == Some(s))
            && self.brand.as_ref().is_none_or(|b| {
                i.details
                    .brand
                    .as_ref()
                    .is_some_and(|x| x.chars().flat_map(char::to_lowercase).eq(b.chars()))
            })
            && self.availability.is_none_or(|a| i.availability == a)
            && self
                .currency
                .is_none_or(|c| i.price.as_ref().is_some_and(|p| p.currency == c))
            && self.min.is_none_or(|m| amount.is_some_and(|a| a >= m))
            && self.max.is_none_or(|m| amount.is_some_and(|a| a <= m))
    }
}

fn change_at(i: &LatestPrice) -> Option<DateTime<Utc>> {
    i.change.as_ref().map(|c| c.at)
}

/// The cursor of the filtered view: the offset of the next page.
fn offset_cursor(raw: Option<&str>) -> Result<usize, ApiError> {
    match raw {
        None => Ok(0),
        Some(c) => c
            .strip_prefix('o')
            .and_then(|n| n.parse::<usize>().ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "cursor: pass back the next_cursor of the previous page unchanged, with the same filters",
                )
            }),
    }
}

#[utoipa::path(
    get,
    path = "/prices",
    tag = TAG_PRICES,
    summary = "Latest prices, a page at a time; filtered and sorted on request",
    params(PricesParams),
    responses((status = 200, description = "A page of latest prices", body = PricesPage), ErrorResponses)
)]
pub async fn list_prices(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    State(searcher): State<Arc<Searcher>>,
    ApiQuery(p): ApiQuery<PricesParams>,
) -> Result<Json<PricesPage>, ApiError> {
    let source = known_source(&state, p.source.as_deref())?;
    let limit = params::limit(p.limit.as_deref(), 100)?;
    if let Some(filter) = Filter::from(&p)? {
        // Filtered and sorted lists come from the search index's copy of
        // the latest prices (at most a minute or so old): the stores page
        // by source and item only.
        let offset = offset_cursor(p.cursor.as_deref())?;
        let built = searcher.index().await?;
        let mut rows: Vec<&LatestPrice> = built
            .items
            .iter()
            .filter(|i| visible(&config, &i.source_id) && filter.keeps(i, source.as_ref()))
            .collect();
        let price = |i: &LatestPrice| i.price.as_ref().map(|p| p.amount);
        match filter.sort {
            "price_asc" => rows.sort_by(|a, b| {
                (price(a).is_none(), price(a), &a.item_id).cmp(&(
                    price(b).is_none(),
                    price(b),
                    &b.item_id,
                ))
            }),
            "price_desc" => rows.sort_by(|a, b| {
                (price(a).is_none(), std::cmp::Reverse(price(a)), &a.item_id).cmp(&(
                    price(b).is_none(),
                    std::cmp::Reverse(price(b)),
                    &b.item_id,
                ))
            }),
            // Percent, then how recent the change, then id: a stable order.
            "change_asc" => rows.sort_by_cached_key(|i| {
                let p = i.change_percent();
                (
                    p.is_none(),
                    p,
                    std::cmp::Reverse(change_at(i)),
                    i.item_id.clone(),
                )
            }),
            "change_desc" => rows.sort_by_cached_key(|i| {
                let p = i.change_percent();
                (
                    p.is_none(),
                    std::cmp::Reverse(p),
                    std::cmp::Reverse(change_at(i)),
                    i.item_id.clone(),
                )
            }),
            "newest" => {
                rows.sort_by(|a, b| (b.observed_at, &a.item_id).cmp(&(a.observed_at, &b.item_id)))
            }
            "oldest" => {
                rows.sort_by(|a, b| (a.observed_at, &a.item_id).cmp(&(b.observed_at, &b.item_id)))
            }
            _ => rows.sort_by(|a, b| (&a.name, &a.item_id).cmp(&(&b.name, &b.item_id))),
        }
        let end = offset.saturating_add(limit as usize);
        let next_cursor = (end < rows.len()).then(|| format!("o{end}"));
        let prices = rows
            .into_iter()
            .skip(offset)
            .take(limit as usize)
            .cloned()
            .map(PriceView::from)
            .collect();
        return Ok(Json(PricesPage {
            prices,
            next_cursor,
        }));
    }
    let query = LatestQuery {
        source,
        limit,
        cursor: params::cursor(p.cursor.as_deref())?,
        // Hidden by the store, not dropped here: a cursor made from the
        // last item of a page would otherwise name a hidden item.
        hide_user_pages: !config.public_tracked_pages,
    };
    let page = state.store.latest_prices(&query).await?;
    Ok(Json(PricesPage {
        prices: page.items.into_iter().map(PriceView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.as_str().to_string()),
    }))
}

fn item_id(raw: &str) -> Result<ItemId, ApiError> {
    ItemId::new(raw).map_err(|e| ApiError::bad_request(format!("item id: {e}")))
}

#[derive(Serialize, ToSchema)]
pub struct ItemBody {
    item: PriceView,
}

#[utoipa::path(
    get,
    path = "/items/{id}",
    tag = TAG_PRICES,
    summary = "One item's latest price",
    params(("id" = ItemId, Path, description = "The item's id")),
    responses((status = 200, description = "The item", body = ItemBody), ErrorResponses)
)]
pub async fn get_item(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    Path(id): Path<String>,
) -> Result<Json<ItemBody>, ApiError> {
    let id = item_id(&id)?;
    let latest = state
        .store
        .latest_price(&id)
        .await?
        .filter(|l| visible(&config, &l.source_id))
        .ok_or_else(|| unknown_item(&id))?;
    Ok(Json(ItemBody {
        item: PriceView::from(latest),
    }))
}

fn unknown_item(id: &ItemId) -> ApiError {
    ApiError::not_found(
        "unknown_item",
        format!("no item {id}; GET /api/prices lists the known items"),
    )
}

/// One observation of an item's price.
#[derive(Serialize, ToSchema)]
pub struct ObservationView {
    /// The observation's id (a hash of the item and where it was seen).
    id: String,
    /// null when the source showed no price.
    price: Option<Money>,
    availability: Availability,
    observed_at: DateTime<Utc>,
    link: String,
}

impl From<Observation> for ObservationView {
    fn from(o: Observation) -> Self {
        ObservationView {
            link: o.link(TELEGRAM_LINK_BASE),
            id: o.id.to_string(),
            price: o.price,
            availability: o.availability,
            observed_at: o.observed_at,
        }
    }
}

/// A page of an item's price history.
#[derive(Serialize, ToSchema)]
pub struct HistoryPage {
    item_id: ItemId,
    observations: Vec<ObservationView>,
    /// Pass as `cursor` for the next page; null on the last one.
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryParams {
    /// From this time on (RFC 3339, or a date for midnight UTC).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-11-01T00:00:00Z")]
    from: Option<String>,
    /// Before this time (RFC 3339, or a date); after `from`.
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00Z")]
    to: Option<String>,
    /// Observations per page (default 100).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 1000, example = 100)]
    limit: Option<String>,
    /// The `next_cursor` of the previous page, unchanged.
    #[param(value_type = Option<String>, pattern = "^[A-Za-z0-9_-]{1,2048}$")]
    cursor: Option<String>,
    /// Oldest first (`asc`, the default) or newest first (`desc`).
    #[param(value_type = Option<String>, pattern = "^(asc|desc)$", example = "desc")]
    order: Option<String>,
}

#[utoipa::path(
    get,
    path = "/items/{id}/history",
    tag = TAG_PRICES,
    summary = "An item's price history, a page at a time",
    params(("id" = ItemId, Path, description = "The item's id"), HistoryParams),
    responses((status = 200, description = "A page of observations", body = HistoryPage), ErrorResponses)
)]
pub async fn item_history(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<HistoryPage>, ApiError> {
    let id = item_id(&id)?;
    let query = HistoryQuery {
        from: params::time("from", p.from.as_deref())?,
        to: params::time("to", p.to.as_deref())?,
        limit: params::limit(p.limit.as_deref(), 100)?,
        order: params::order(p.order.as_deref())?,
        cursor: params::cursor(p.cursor.as_deref())?,
    };
    if let (Some(f), Some(t)) = (query.from, query.to)
        && f >= t
    {
        return Err(ApiError::bad_request("from must be before to"));
    }
    // A 404 tells a client the id is wrong, where an empty list would not.
    let known = state.store.latest_price(&id).await?;
    if !known.is_some_and(|l| visible(&config, &l.source_id)) {
        return Err(unknown_item(&id));
    }
    let page = state.store.history(&id, &query).await?;
    Ok(Json(HistoryPage {
        item_id: id,
        observations: page.items.into_iter().map(ObservationView::from).collect(),
        next_cursor: page.next_cursor.map(|c| c.as_str().to_string()),
    }))
}

const _: () = assert!(MAX_PAGE == 1000, "the documented limit maximum is MAX_PAGE");

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words of a name, brand or series; typos and joined model numbers
    /// ("darksid", "rtx4070") are found.
    #[param(min_length = 1, max_length = 200, example = "darkside cola")]
    q: String,
    /// How many results (default 20).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100, example = 20)]
    limit: Option<String>,
    /// Only this source's items.
    #[param(value_type = Option<SourceId>)]
    source: Option<String>,
}

/// Search results, best first.
#[derive(Serialize, ToSchema)]
pub struct SearchResults {
    query: String,
    results: Vec<PriceView>,
    /// Items in the index searched, and when it was built (it is rebuilt
    /// in the background every minute).
    indexed: usize,
    indexed_at: DateTime<Utc>,
}

#[utoipa::path(
    get,
    path = "/search",
    tag = TAG_PRICES,
    summary = "Items by name, brand or series: ranked, typo-tolerant",
    params(SearchParams),
    responses((status = 200, description = "The best matches", body = SearchResults), ErrorResponses)
)]
pub async fn search(
    State(state): State<AppState>,
    State(searcher): State<Arc<Searcher>>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchResults>, ApiError> {
    let chars = p.q.chars().count();
    if chars == 0 || chars > 200 {
        return Err(ApiError::bad_request(format!(
            "q must be 1 to 200 characters, got {chars}"
        )));
    }
    let limit = params::limit_up_to(p.limit.as_deref(), 20, 100)? as usize;
    let source = known_source(&state, p.source.as_deref())?;
    let built = searcher.index().await?;
    let hits = match &source {
        None => built.index.search(&p.q, limit),
        Some(_) => built.index.search(&p.q, usize::MAX),
    };
    let results = hits
        .into_iter()
        .filter_map(|i| built.items.get(i))
        .filter(|item| source.as_ref().is_none_or(|s| &item.source_id == s))
        .take(limit)
        .cloned()
        .map(PriceView::from)
        .collect();
    Ok(Json(SearchResults {
        query: p.q,
        results,
        indexed: built.items.len(),
        indexed_at: built.built_at,
    }))
}
