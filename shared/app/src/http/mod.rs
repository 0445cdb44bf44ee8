//! The one axum Router: the same value is served by the `api` Lambda
//! (through lambda_http) and bound to 127.0.0.1 by `pricehound serve`.
//!
//! Money leaves as decimal strings; errors as JSON with a code and a message.

mod error;
mod guard;
mod observe;
mod params;

pub use error::ApiError;
pub use guard::{CONTENT_SECURITY_POLICY, ClientLimiter, CorsOrigins, HttpConfig, RateLimit};

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router, middleware};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::domain::stats::{self, SeriesStats};
use crate::domain::{
    Availability, ItemId, LatestPrice, Money, Observation, SeriesId, SourceHealth, SourceId,
};
use crate::events::TELEGRAM_LINK_BASE;
use crate::sources::{SourceKind, SourcesConfig};
use crate::store::{HistoryQuery, LatestQuery, Store};
use crate::telegram::webhook::{self, WebhookState};
use params::ApiQuery;

/// Requests to this API are small; anything bigger is refused before it is read.
const MAX_BODY: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub sources: Arc<SourcesConfig>,
    /// The Telegram webhook, when a bot token and secret are configured;
    /// without it `POST /telegram/webhook` is a 404 like any unknown route.
    pub telegram: Option<WebhookState>,
}

/// What the handlers see: the app and the HTTP settings.
#[derive(Clone)]
struct Api {
    app: AppState,
    config: Arc<HttpConfig>,
}

impl FromRef<Api> for AppState {
    fn from_ref(api: &Api) -> AppState {
        api.app.clone()
    }
}

impl FromRef<Api> for Arc<HttpConfig> {
    fn from_ref(api: &Api) -> Arc<HttpConfig> {
        api.config.clone()
    }
}

/// The Router with the default [`HttpConfig`] (CORS `*`, no rate limit,
/// tracked pages private): what the Lambda and most tests serve.
pub fn router(state: AppState) -> Router {
    router_with(state, HttpConfig::default())
}

/// The Router with the operator's settings. With a rate limit, the caller
/// must serve it with `into_make_service_with_connect_info::<SocketAddr>()`
/// (requests without a peer address are not limited).
pub fn router_with(state: AppState, config: HttpConfig) -> Router {
    let limiter = config.rate_limit.map(ClientLimiter::new);
    router_with_limiter(state, config, limiter)
}

/// [`router_with`], with a limiter the caller keeps (to forget idle clients
/// now and then, see `local.rs`).
pub fn router_with_limiter(
    state: AppState,
    config: HttpConfig,
    limiter: Option<ClientLimiter>,
) -> Router {
    let telegram = state.telegram.clone();
    let cors = guard::cors(&config.cors);
    let mut api = Router::new()
        .route("/health", get(health))
        .route("/sources", get(list_sources))
        .route("/prices", get(list_prices))
        .route("/items/{id}", get(get_item))
        .route("/items/{id}/history", get(item_history))
        .route("/series", get(list_series))
        .route("/series/{id}/stats", get(series_stats))
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed);
    if let Some(limiter) = limiter {
        api = api.layer(middleware::from_fn_with_state(limiter, guard::rate_limit));
    }
    let mut app = Router::new()
        .route("/", get(index))
        .route("/assets/page.js", get(page_js))
        .route("/assets/page.css", get(page_css))
        .nest("/api", api)
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(cors)
        .with_state(Api {
            app: state,
            config: Arc::new(config),
        });
    // Merged after the API's body limit: the webhook has its own, and
    // answers 200 where the API would answer 413 (see telegram::webhook).
    if let Some(telegram) = telegram {
        app = app.merge(webhook::routes(telegram));
    }
    let app = app.route_layer(middleware::from_fn(observe::mark_route));
    harden(app)
        .layer(middleware::from_fn(observe::observe))
        .layer(TraceLayer::new_for_http())
}

/// `GET /metrics`: the Prometheus text of every counter (`serve` only; the
/// Lambdas write CloudWatch EMF lines instead). Kept off the public API's
/// prefix: `serve` listens on 127.0.0.1 unless told otherwise.
pub fn metrics_route(handle: pricehound_telemetry::metrics::PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
            }
        }),
    )
}

/// The layers every route runs under, innermost first: a panicking handler
/// answers our JSON 500 (and the process keeps serving), every error has
/// our JSON shape, and every response carries the security headers.
/// Public so a test can put a panicking route under the very same stack.
pub fn harden(router: Router) -> Router {
    let mut router = router
        .layer(CatchPanicLayer::custom(guard::panic_response))
        .layer(middleware::from_fn(guard::json_errors));
    for (name, value) in guard::security_headers() {
        router = router.layer(SetResponseHeaderLayer::if_not_present(name, value));
    }
    router
}

async fn api_not_found() -> ApiError {
    ApiError::not_found(
        "not_found",
        "no such route; see GET /api/health, /api/sources, /api/prices, /api/items/{id}/history",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this route answers GET only (the Telegram webhook takes POST)".into(),
    }
}

fn cached(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

async fn index() -> Response {
    cached(Html(include_str!("page.html")).into_response())
}

async fn page_js() -> Response {
    cached(
        (
            [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
            include_str!("page.js"),
        )
            .into_response(),
    )
}

async fn page_css() -> Response {
    cached(
        (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            include_str!("page.css"),
        )
            .into_response(),
    )
}

/// Items of pages users pasted into the bot are theirs, not the public
/// catalogue's, unless the operator says otherwise.
fn visible(config: &HttpConfig, source: &SourceId) -> bool {
    config.public_tracked_pages || !crate::sources::tracked::is_user_source(source)
}

async fn health(State(state): State<AppState>) -> Response {
    let store_ok = state.store.ping().await.is_ok();
    let status = if store_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if store_ok { "ok" } else { "degraded" },
        "version": env!("CARGO_PKG_VERSION"),
        "store": state.store.backend(),
    });
    (status, Json(body)).into_response()
}

#[derive(Serialize)]
struct SourceView {
    id: SourceId,
    name: String,
    kind: &'static str,
    group: String,
    schedule: String,
    enabled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    channel: Option<String>,
    last_post_id: Option<u64>,
    checkpoint_updated_at: Option<DateTime<Utc>>,
    /// Last success, last error, consecutive failures, items seen; null before the first run.
    health: Option<SourceHealth>,
}

async fn list_sources(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
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
    Ok(Json(json!({ "sources": out })))
}

/// A latest price as the API shows it.
#[derive(Serialize)]
struct PriceView {
    item_id: ItemId,
    source_id: SourceId,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    series: Option<SeriesId>,
    /// null when the source shows no price (out of stock).
    price: Option<Money>,
    availability: Availability,
    #[serde(skip_serializing_if = "Option::is_none")]
    brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    observed_at: DateTime<Utc>,
    link: String,
}

impl From<LatestPrice> for PriceView {
    fn from(l: LatestPrice) -> Self {
        PriceView {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PricesParams {
    source: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
}

async fn list_prices(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    ApiQuery(p): ApiQuery<PricesParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let source = params::source(p.source.as_deref())?;
    if let Some(s) = &source
        && state.sources.source(s.as_str()).is_none()
    {
        return Err(ApiError::not_found(
            "unknown_source",
            format!("no source {s}; GET /api/sources lists them"),
        ));
    }
    let query = LatestQuery {
        source,
        limit: params::limit(p.limit.as_deref(), 100)?,
        cursor: params::cursor(p.cursor.as_deref())?,
        // Hidden by the store, not dropped here: a cursor made from the
        // last item of a page would otherwise name a hidden item.
        hide_user_pages: !config.public_tracked_pages,
    };
    let page = state.store.latest_prices(&query).await?;
    let prices: Vec<PriceView> = page.items.into_iter().map(PriceView::from).collect();
    Ok(Json(json!({
        "prices": prices,
        "next_cursor": page.next_cursor.map(|c| c.as_str().to_string()),
    })))
}

fn item_id(raw: &str) -> Result<ItemId, ApiError> {
    ItemId::new(raw).map_err(|e| ApiError::bad_request(format!("item id: {e}")))
}

async fn get_item(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = item_id(&id)?;
    let latest = state
        .store
        .latest_price(&id)
        .await?
        .filter(|l| visible(&config, &l.source_id))
        .ok_or_else(|| unknown_item(&id))?;
    Ok(Json(json!({ "item": PriceView::from(latest) })))
}

fn unknown_item(id: &ItemId) -> ApiError {
    ApiError::not_found(
        "unknown_item",
        format!("no item {id}; GET /api/prices lists the known items"),
    )
}

#[derive(Serialize)]
struct ObservationView {
    id: String,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryParams {
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
    cursor: Option<String>,
    order: Option<String>,
}

async fn item_history(
    State(state): State<AppState>,
    State(config): State<Arc<HttpConfig>>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<HistoryParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    let observations: Vec<ObservationView> =
        page.items.into_iter().map(ObservationView::from).collect();
    Ok(Json(json!({
        "item_id": id,
        "observations": observations,
        "next_cursor": page.next_cursor.map(|c| c.as_str().to_string()),
    })))
}

async fn list_series(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let series = state.store.list_series().await?;
    Ok(Json(json!({ "series": series })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsParams {
    window: Option<String>,
    to: Option<String>,
}

/// Statistics of a series over a window (default 7 days) ending at `to`
/// (default now).
async fn series_stats(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StatsParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let series = SeriesId::new(id).map_err(|e| ApiError::bad_request(format!("series id: {e}")))?;
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
    Ok(Json(json!({
        "series": series,
        "window": window_text,
        "from": from,
        "to": to,
        "stats": stats,
    })))
}
