//! The one axum Router: the same value is served by the `api` Lambda
//! (through lambda_http) and bound to 127.0.0.1 by `pricehound serve`.
//!
//! Money leaves as decimal strings; errors as JSON with a code and a message.

mod api;
mod cache;
mod error;
mod gold;
mod guard;
mod image;
mod me;
mod observe;
mod openapi;
mod params;
mod search;
mod series;

pub use api::WINDOW_PATTERN;
pub use error::ApiError;
pub use guard::{CONTENT_SECURITY_POLICY, ClientLimiter, CorsOrigins, HttpConfig, RateLimit};
pub use image::ImageProxy;
pub use me::MiniApp;
pub use openapi::ApiDoc;

use axum::extract::FromRef;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Router, middleware};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::sources::Sources;
use crate::store::Store;
use crate::telegram::webhook::{self, WebhookState};
use openapi::{Spec, TAG_WEB};

/// Requests to this API are small; anything bigger is refused before it is read.
const MAX_BODY: usize = 64 * 1024;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    /// Read on first use when they are the compiled-in default ([`Sources`]).
    pub sources: Sources,
    /// The Telegram webhook, when a bot token and secret are configured;
    /// without it `POST /telegram/webhook` is a 404 like any unknown route.
    pub telegram: Option<WebhookState>,
}

/// What the handlers see: the app, the HTTP settings and the API's own
/// OpenAPI document.
#[derive(Clone)]
struct Api {
    app: AppState,
    config: Arc<HttpConfig>,
    spec: Spec,
    searcher: Arc<search::Searcher>,
    images: ImageProxy,
}

impl FromRef<Api> for Arc<search::Searcher> {
    fn from_ref(api: &Api) -> Arc<search::Searcher> {
        api.searcher.clone()
    }
}

impl FromRef<Api> for Spec {
    fn from_ref(api: &Api) -> Spec {
        api.spec.clone()
    }
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
    // Plain axum Routers from here on: the route lists' (empty) OpenAPI
    // parts are dropped at once rather than merged and nested, which was
    // utoipa code run at every cold start for nothing (bench api_init).
    let (api, _) = api_routes(Docs::Skip).split_for_parts();
    let mut api = api.fallback(api_not_found);
    // The Mini App's routes, where the bot runs: they need its token (to
    // check initData) and its user store.
    if let Some(t) = &telegram {
        let mini_app = MiniApp {
            key: t.dispatcher.api.web_app_key(),
            users: t.dispatcher.bot.users.clone(),
            store: t.dispatcher.bot.store.clone(),
            max_age: config.init_data_max_age,
        };
        let (me, _) = me_routes(Docs::Skip).split_for_parts();
        api = api.merge(me.with_state(mini_app));
    }
    // Compressed (gzip or brotli, as the client accepts) inside the ETag
    // layer, so each encoding has its own tag, as HTTP wants of strong
    // ETags; whole answers kept outside both (`cache::shared`, where the
    // store can tell that nothing changed). Inside the rate limit: a 429 is
    // not tagged, a 304 still counts.
    api = api
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(middleware::from_fn(cache::conditional))
        .layer(middleware::from_fn_with_state(
            cache::ReadCache::new(state.store.clone()),
            cache::shared,
        ));
    if let Some(limiter) = limiter {
        api = api.layer(middleware::from_fn_with_state(limiter, guard::rate_limit));
    }
    let (web, _) = web_routes(Docs::Skip).split_for_parts();
    let routes = web.nest("/api", api);
    let has_bot = telegram.is_some();
    let spec = Spec::new(move || document(has_bot));
    // Built once per Router (where no caller built it: tests).
    let images = config.images.clone().unwrap_or_default();
    let mut app = routes
        // The page, its assets and the chart library compressed too (the
        // API's answers already are, inside their ETag layer).
        .layer(tower_http::compression::CompressionLayer::new())
        .fallback(api_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(cors)
        .with_state(Api {
            searcher: search::Searcher::new(state.store.clone(), !config.public_tracked_pages),
            images,
            app: state,
            config: Arc::new(config),
            spec,
        });
    // Merged after the API's body limit: the webhook has its own, and
    // answers 200 where the API would answer 413 (see telegram::webhook).
    // Documented by hand (`webhook_operation`): its handler lives in the
    // telegram crate, which knows nothing of OpenAPI.
    if let Some(telegram) = telegram {
        app = app.merge(webhook::routes(telegram));
    }
    let app = app.route_layer(middleware::from_fn(observe::mark_route));
    harden(app)
        .layer(middleware::from_fn(observe::observe))
        .layer(TraceLayer::new_for_http())
}

/// Whether a route list builds its OpenAPI operations. The Router serves
/// the lists without them ([`Docs::Skip`]); [`document`] builds the same
/// lists with them when the document is first asked for. Building the
/// operations was most of building the Router (1 to 1.7 ms of every api
/// Lambda cold start), and most instances never serve the document.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Docs {
    Build,
    Skip,
}

/// utoipa-axum's `routes!` without the OpenAPI operation: the handlers'
/// paths and methods, read from their `#[utoipa::path]` (cheap constants),
/// on one `MethodRouter`. It reaches the path and methods through
/// `routes!`'s own `@path` rule (the only way to name the `__path_*` type
/// `#[utoipa::path]` generates for a handler given by path); the lock file
/// pins utoipa-axum, and a change to that rule fails to compile, not to
/// route.
macro_rules! served {
    ($($handler:path),+ $(,)?) => {{
        use utoipa_axum::PathItemExt;
        let mut paths = utoipa::openapi::path::Paths::new();
        let mut router = axum::routing::MethodRouter::new();
        $(
            let (path, methods) = utoipa_axum::paste! {(
                utoipa_axum::routes!(@path [path()] of $handler),
                utoipa_axum::routes!(@path [methods()] of $handler),
            )};
            for method in methods.iter() {
                router = router.on(method.to_method_filter(), $handler);
            }
            paths.paths.insert(path, utoipa::openapi::path::PathItem::default());
        )+
        (Vec::new(), paths, router)
    }};
}

/// One route list, with or without its documentation: the only way a
/// route is added, so what is served and what is documented cannot drift
/// (tests/tests/openapi.rs checks the document against the routes).
macro_rules! route {
    ($docs:expr; $($handler:path),+ $(,)?) => {
        match $docs {
            Docs::Build => routes!($($handler),+),
            Docs::Skip => served!($($handler),+),
        }
    };
}

/// The public API under `/api`.
fn api_routes(docs: Docs) -> OpenApiRouter<Api> {
    OpenApiRouter::new()
        .routes(route!(docs; api::health))
        .routes(route!(docs; api::list_sources))
        .routes(route!(docs; api::list_prices))
        .routes(route!(docs; api::get_item))
        .routes(route!(docs; api::item_history))
        .routes(route!(docs; image::item_image))
        .routes(route!(docs; api::search))
        .routes(route!(docs; gold::board))
        .routes(route!(docs; series::list_series))
        .routes(route!(docs; series::get_series))
        .routes(route!(docs; series::series_stats))
        .routes(route!(docs; openapi::openapi_json))
        .routes(route!(docs; openapi::docs))
}

/// The signed-in Telegram user's routes under `/api/me` (where the bot runs).
fn me_routes(docs: Docs) -> OpenApiRouter<MiniApp> {
    OpenApiRouter::new()
        .routes(route!(docs; me::me))
        .routes(route!(docs; me::list_watches, me::add_watch, me::clear_watches))
        .routes(route!(docs; me::remove_watch, me::change_watch))
        .routes(route!(docs; me::list_alerts, me::create_alert))
        .routes(route!(docs; me::change_alert, me::delete_alert))
}

/// The web app's page, the Mini App and their assets, at the root.
fn web_routes(docs: Docs) -> OpenApiRouter<Api> {
    let router = match docs {
        Docs::Build => OpenApiRouter::with_openapi(openapi::ApiDoc::openapi()),
        Docs::Skip => OpenApiRouter::new(),
    };
    router
        .routes(route!(docs; index))
        .routes(route!(docs; page_js))
        .routes(route!(docs; page_css))
        .routes(route!(docs; uplot_js))
        .routes(route!(docs; uplot_css))
        .routes(route!(docs; mini_app))
        .routes(route!(docs; mini_app_js))
        .routes(route!(docs; mini_app_css))
}

/// The OpenAPI document of a Router built by [`router_with_limiter`]: the
/// same route lists, with their operations, and what is documented by hand.
fn document(has_bot: bool) -> utoipa::openapi::OpenApi {
    let mut api = api_routes(Docs::Build);
    if has_bot {
        let (_, me) = me_routes(Docs::Build).split_for_parts();
        api = api.merge(OpenApiRouter::with_openapi(me));
    }
    let (_, mut doc) = web_routes(Docs::Build).nest("/api", api).split_for_parts();
    openapi::add_links(&mut doc);
    openapi::add_conditional_gets(&mut doc);
    if has_bot {
        webhook_operation(&mut doc);
        openapi::add_mini_app_security(&mut doc);
    }
    doc
}

/// `POST /telegram/webhook` in the document, when this instance has a bot.
fn webhook_operation(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::HttpMethod;
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Required};
    let operation = OperationBuilder::new()
        .tag(openapi::TAG_TELEGRAM)
        .summary(Some("Telegram's updates for the bot"))
        .description(Some(
            "Called by Telegram only (set with `pricehound webhook set`): a request without the secret set with the webhook is refused with 401. Any other body is answered 200 and dropped, so Telegram does not retry it.",
        ))
        .parameter(
            ParameterBuilder::new()
                .name(webhook::SECRET_HEADER)
                .parameter_in(ParameterIn::Header)
                .required(Required::True)
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .min_length(Some(1))
                        .max_length(Some(256))
                        .pattern(Some("^[A-Za-z0-9_-]{1,256}$")),
                ))
                .description(Some("The secret given to setWebhook")),
        )
        .request_body(Some(
            RequestBodyBuilder::new()
                .description(Some(
                    "A Telegram Update. Any body is answered 200 (what is not an update is dropped and logged), so Telegram never retries it.",
                ))
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(ObjectBuilder::new().schema_type(
                            utoipa::openapi::schema::SchemaType::AnyValue,
                        )))
                        .build(),
                )
                .build(),
        ))
        .response("200", ResponseBuilder::new().description("Taken (or dropped as not an update)"))
        .response("401", ResponseBuilder::new().description("Without the webhook's secret"))
        .build();
    doc.paths.paths.insert(
        webhook::PATH.to_string(),
        PathItem::new(HttpMethod::Post, operation),
    );
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

/// The layers every request runs under, outermost first: every response
/// carries the security headers, every error has our JSON shape, and a
/// panicking handler answers our JSON 500 (and the process keeps serving).
/// They wrap the whole Router once, around its routing, instead of going on
/// with `Router::layer`, which wraps each route's every method on its own
/// (with some forty endpoints, hundreds of boxed services built at every
/// cold start). Public so a test can put a panicking route under the very
/// same stack.
pub fn harden(router: Router) -> Router {
    let [h1, h2, h3, h4] = guard::security_headers()
        .map(|(name, value)| SetResponseHeaderLayer::if_not_present(name, value));
    let service = tower::ServiceBuilder::new()
        .layer(h1)
        .layer(h2)
        .layer(h3)
        .layer(h4)
        .layer(middleware::from_fn(guard::json_errors))
        .layer(CatchPanicLayer::custom(guard::panic_response))
        .service(router);
    Router::new().fallback_service(service)
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
        message: "this route does not answer this method; GET /api/docs lists each route's methods"
            .into(),
    }
}

fn cached(mut resp: Response) -> Response {
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    resp
}

/// A file served from the binary (a script, a style sheet, the document),
/// cached for five minutes.
fn asset(content_type: &'static str, body: impl Into<axum::body::Body>) -> Response {
    cached(([(header::CONTENT_TYPE, content_type)], body.into()).into_response())
}

/// The web app.
#[utoipa::path(get, path = "/", tag = TAG_WEB, summary = "The web app", responses((status = 200, description = "The page", content_type = "text/html", body = String), error::ErrorResponses))]
async fn index() -> Response {
    cached(Html(include_str!("page.html")).into_response())
}

#[utoipa::path(get, path = "/assets/page.js", tag = TAG_WEB, summary = "The web app's script", responses((status = 200, description = "The script", content_type = "text/javascript", body = String), error::ErrorResponses))]
async fn page_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("page.js"))
}

#[utoipa::path(get, path = "/assets/page.css", tag = TAG_WEB, summary = "The web app's style sheet", responses((status = 200, description = "The style sheet", content_type = "text/css", body = String), error::ErrorResponses))]
async fn page_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("page.css"))
}

/// The Telegram Mini App (opened from the bot's menu button).
#[utoipa::path(get, path = "/app", tag = TAG_WEB, summary = "The Telegram Mini App", responses((status = 200, description = "The page", content_type = "text/html", body = String), error::ErrorResponses))]
async fn mini_app() -> Response {
    let mut resp = cached(Html(include_str!("miniapp.html")).into_response());
    // Framed by Telegram's web clients; CSP frame-ancestors overrides the
    // X-Frame-Options the other pages carry.
    resp.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(guard::MINI_APP_CONTENT_SECURITY_POLICY),
    );
    resp.headers_mut().insert(
        header::X_FRAME_OPTIONS,
        HeaderValue::from_static("SAMEORIGIN"),
    );
    resp
}

#[utoipa::path(get, path = "/assets/miniapp.js", tag = TAG_WEB, summary = "The Mini App's script", responses((status = 200, description = "The script", content_type = "text/javascript", body = String), error::ErrorResponses))]
async fn mini_app_js() -> Response {
    asset("text/javascript; charset=utf-8", include_str!("miniapp.js"))
}

#[utoipa::path(get, path = "/assets/miniapp.css", tag = TAG_WEB, summary = "The Mini App's style sheet", responses((status = 200, description = "The style sheet", content_type = "text/css", body = String), error::ErrorResponses))]
async fn mini_app_css() -> Response {
    asset("text/css; charset=utf-8", include_str!("miniapp.css"))
}

/// uPlot, the chart library, vendored (see `vendor/uplot/README.md`).
#[utoipa::path(get, path = "/assets/vendor/uPlot.iife.min.js", tag = TAG_WEB, summary = "uPlot 1.6.32 (MIT), the page's chart library", responses((status = 200, description = "The script", content_type = "text/javascript", body = String), error::ErrorResponses))]
async fn uplot_js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("vendor/uplot/uPlot.iife.min.js"),
    )
}

#[utoipa::path(get, path = "/assets/vendor/uPlot.min.css", tag = TAG_WEB, summary = "uPlot's style sheet", responses((status = 200, description = "The style sheet", content_type = "text/css", body = String), error::ErrorResponses))]
async fn uplot_css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("vendor/uplot/uPlot.min.css"),
    )
}
