//! The OpenAPI 3.1 document and its human page. The document is assembled
//! by utoipa-axum while the Router is built (every route is registered with
//! `routes!`, which takes the handler's `#[utoipa::path]`), so what is
//! served and what is documented cannot drift. Chosen over aide because
//! utoipa keeps the schema next to the handler as an attribute and leaves
//! the handlers plain axum functions.
//!
//! `/api/docs` is rendered here, on the server, from the same document:
//! no Swagger UI bundle and no CDN (the CSP allows only our own origin).

use axum::extract::State;
use axum::response::{Html, IntoResponse, Response};
use std::fmt::Write;
use std::sync::{Arc, OnceLock};
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{OpenApi as Document, RefOr};

use super::api::{TAG_PRICES, TAG_SERVICE};
use super::error::ErrorBody;

pub const TAG_WEB: &str = "web";
pub const TAG_TELEGRAM: &str = "telegram";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "pricehound",
        description = "Prices seen at jewelers' Telegram channels, catalogues, marketplaces and pages users track: latest prices, history, series statistics. Money is a decimal string with an ISO 4217 currency; errors are `{\"error\": {\"code\", \"message\"}}`.",
        license(name = "MIT OR Apache-2.0")
    ),
    components(schemas(ErrorBody)),
    tags(
        (name = TAG_PRICES, description = "Prices, items, series and sources"),
        (name = TAG_SERVICE, description = "The service itself: health and this document"),
        (name = TAG_WEB, description = "The web app's page and assets"),
        (name = TAG_TELEGRAM, description = "The bot's webhook (only when this instance has a bot)"),
        (name = super::me::TAG_ME, description = "The signed-in Telegram user's watchlist and alerts, for the Mini App (only when this instance has a bot)"),
    )
)]
pub struct ApiDoc;

/// The document as served: made with the Router (the routes that serve it
/// are part of it), rendered when first asked for.
#[derive(Clone)]
pub struct Spec(Arc<SpecInner>);

struct SpecInner {
    build: Box<dyn Fn() -> Document + Send + Sync>,
    rendered: OnceLock<Rendered>,
}

/// Rendered once; each request clones a reference-counted buffer.
struct Rendered {
    json: axum::body::Bytes,
    html: axum::body::Bytes,
}

impl Spec {
    /// The document `build` makes, built and rendered (pretty JSON and the
    /// docs page) on the first request for it: a Lambda that never serves it
    /// never pays for it. Building and rendering it were about 2 ms of every
    /// api cold start.
    pub fn new(build: impl Fn() -> Document + Send + Sync + 'static) -> Self {
        Spec(Arc::new(SpecInner {
            build: Box::new(build),
            rendered: OnceLock::new(),
        }))
    }

    fn rendered(&self) -> &Rendered {
        self.0.rendered.get_or_init(|| {
            let doc = (self.0.build)();
            let json = doc.to_pretty_json().unwrap_or_else(|e| {
                tracing::error!(error = %e, "OpenAPI document not serialisable");
                "{}".into()
            });
            Rendered {
                json: json.into(),
                html: render_html(&doc).into(),
            }
        })
    }
}

/// OpenAPI links: how a client (or schemathesis' stateful phase) goes
/// from a list to the items in it, so the document says which field of
/// one answer feeds which parameter of the next request.
pub fn add_links(doc: &mut Document) {
    use utoipa::openapi::link::LinkBuilder;
    let item_links = |pointer: &str| {
        [
            ("get_item", "item"),
            ("item_history", "history"),
            ("item_image", "image"),
        ]
        .map(|(operation, name)| {
            let link = LinkBuilder::new()
                .operation_id(operation)
                .parameter("id", format!("$response.body#{pointer}"))
                .description(format!("The item at {pointer}"))
                .build();
            (name, link)
        })
    };
    let links: [(&str, Vec<(&str, utoipa::openapi::link::Link)>); 4] = [
        ("/api/prices", item_links("/prices/0/item_id").into()),
        ("/api/items/{id}", item_links("/item/item_id").into()),
        (
            "/api/series",
            vec![(
                "stats",
                LinkBuilder::new()
                    .operation_id("series_stats")
                    .parameter("id", "$response.body#/series/0/series")
                    .description("The first series' statistics")
                    .build(),
            )],
        ),
        (
            "/api/series/{id}/stats",
            vec![(
                "series_items",
                LinkBuilder::new()
                    .operation_id("series_stats")
                    .parameter("id", "$response.body#/series")
                    .description("The same series over another window")
                    .build(),
            )],
        ),
    ];
    for (path, links) in links {
        let Some(op) = doc.paths.paths.get_mut(path).and_then(|p| p.get.as_mut()) else {
            continue;
        };
        if let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") {
            for (name, link) in links {
                ok.links.insert(name.to_string(), RefOr::T(link));
            }
        }
    }
}

/// The conditional GET of `cache.rs` in the document: each JSON read takes
/// `If-None-Match`, answers 200 with `ETag` and `Cache-Control`, or 304.
pub fn add_conditional_gets(doc: &mut Document) {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::path::ParameterBuilder;
    use utoipa::openapi::response::ResponseBuilder;
    use utoipa::openapi::{ObjectBuilder, Required, Type};
    let string = || ObjectBuilder::new().schema_type(Type::String);
    for (path, item) in doc.paths.paths.iter_mut() {
        let Some(op) = item.get.as_mut().filter(|_| path.starts_with("/api/")) else {
            continue;
        };
        let Some(RefOr::T(ok)) = op.responses.responses.get_mut("200") else {
            continue;
        };
        if !ok.content.contains_key("application/json") {
            continue;
        }
        ok.headers.insert(
            "ETag".into(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(string()))
                    .description(Some(
                        "This version of the answer: send it back in If-None-Match",
                    ))
                    .build(),
            ),
        );
        ok.headers.insert(
            "Cache-Control".into(),
            RefOr::T(
                HeaderBuilder::new()
                    .schema(Some(string()))
                    .description(Some("How long caches may keep it (no-store for health)"))
                    .build(),
            ),
        );
        op.responses.responses.insert(
            "304".into(),
            RefOr::T(
                ResponseBuilder::new()
                    .description("Not modified: the version named in If-None-Match is current")
                    .build(),
            ),
        );
        let param = ParameterBuilder::new()
            .name("If-None-Match")
            .parameter_in(utoipa::openapi::path::ParameterIn::Header)
            .required(Required::False)
            .schema(Some(string()))
            .description(Some("ETags the client has; a match answers 304"))
            .build();
        op.parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(param));
    }
}

/// The `tma` scheme the `/api/me` routes name: the Mini App's initData in
/// the Authorization header.
pub fn add_mini_app_security(doc: &mut Document) {
    use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        super::me::SECURITY,
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "Authorization",
            "`tma <initData>`: the Telegram Mini App's initData, as Telegram signed it (checked with the bot's token; at most PRICEHOUND_INIT_DATA_MAX_AGE old, default an hour)",
        ))),
    );
    add_mini_app_links(doc);
}

/// Links among the Mini App's routes: from a new alert to changing and
/// deleting it, from the watchlist to removing an entry, from the price
/// list to watching or alerting on an item.
fn add_mini_app_links(doc: &mut Document) {
    use utoipa::openapi::link::{Link, LinkBuilder};
    let link = |operation: &str,
                param: Option<(&str, &str)>,
                body: Option<serde_json::Value>,
                about: &str| {
        let mut b = LinkBuilder::new()
            .operation_id(operation)
            .description(about);
        if let Some((name, value)) = param {
            b = b.parameter(name, value);
        }
        if let Some(body) = body {
            b = b.request_body(Some(body));
        }
        b.build()
    };
    // (path, method, status, its links)
    type Links<'a> = (&'a str, &'a str, &'a str, Vec<(&'a str, Link)>);
    let links: [Links; 3] = [
        (
            "/api/me/alerts",
            "post",
            "201",
            vec![
                (
                    "change",
                    link(
                        "change_alert",
                        Some(("id", "$response.body#/id")),
                        None,
                        "Mute or change the new alert",
                    ),
                ),
                (
                    "delete",
                    link(
                        "delete_alert",
                        Some(("id", "$response.body#/id")),
                        None,
                        "Delete the new alert",
                    ),
                ),
            ],
        ),
        (
            "/api/me/watches",
            "post",
            "201",
            vec![(
                "remove",
                link(
                    "remove_watch",
                    Some(("item_id", "$response.body#/watches/0/item_id")),
                    None,
                    "Stop watching the first item",
                ),
            )],
        ),
        (
            "/api/prices",
            "get",
            "200",
            vec![
                (
                    "watch",
                    link(
                        "add_watch",
                        None,
                        Some(serde_json::json!({"item_id": "$response.body#/prices/0/item_id"})),
                        "Watch the first item",
                    ),
                ),
                (
                    "alert",
                    link(
                        "create_alert",
                        None,
                        Some(
                            serde_json::json!({"item_id": "$response.body#/prices/0/item_id", "rule": {"kind": "back_in_stock"}}),
                        ),
                        "Alert when the first item is back in stock",
                    ),
                ),
            ],
        ),
    ];
    for (path, method, status, links) in links {
        let Some(item) = doc.paths.paths.get_mut(path) else {
            continue;
        };
        let op = match method {
            "post" => item.post.as_mut(),
            _ => item.get.as_mut(),
        };
        let Some(op) = op else { continue };
        if let Some(RefOr::T(r)) = op.responses.responses.get_mut(status) {
            for (name, l) in links {
                r.links.insert(name.to_string(), RefOr::T(l));
            }
        }
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = TAG_SERVICE,
    summary = "This API's OpenAPI 3.1 document",
    responses((status = 200, description = "The document", content_type = "application/json", body = Object), super::error::ErrorResponses)
)]
pub async fn openapi_json(State(spec): State<Spec>) -> Response {
    let body = spec.rendered().json.clone();
    super::asset("application/json", body)
}

/// The document as a page for people.
#[utoipa::path(
    get,
    path = "/docs",
    tag = TAG_SERVICE,
    summary = "This API's documentation, as a web page",
    responses((status = 200, description = "The page", content_type = "text/html", body = String), super::error::ErrorResponses)
)]
pub async fn docs(State(spec): State<Spec>) -> Response {
    let body = spec.rendered().html.clone();
    Html(body).into_response()
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn schema_text(schema: &Option<RefOr<utoipa::openapi::schema::Schema>>) -> String {
    match schema {
        None => String::new(),
        Some(RefOr::Ref(r)) => r
            .ref_location
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        Some(RefOr::T(s)) => serde_json::to_string(s).unwrap_or_default(),
    }
}

fn operation_html(out: &mut String, method: &str, path: &str, op: &Operation) {
    let _ = write!(
        out,
        "<section class=\"op\"><h3><code>{} {}</code></h3>",
        esc(method),
        esc(path)
    );
    if let Some(s) = &op.summary {
        let _ = write!(out, "<p>{}</p>", esc(s));
    }
    if let Some(d) = &op.description {
        let _ = write!(out, "<p>{}</p>", esc(d));
    }
    if let Some(params) = op.parameters.as_ref().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>about</th></tr>");
        for p in params {
            let RefOr::T(p) = p else { continue };
            let place = match p.parameter_in {
                ParameterIn::Query | ParameterIn::QueryString => "query",
                ParameterIn::Path => "path",
                ParameterIn::Header => "header",
                ParameterIn::Cookie => "cookie",
            };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td>{place}</td><td><code>{}</code></td><td>{}</td></tr>",
                esc(&p.name),
                esc(&schema_text(&p.schema)),
                esc(p.description.as_deref().unwrap_or_default())
            );
        }
        out.push_str("</table>");
    }
    out.push_str("<table><tr><th>status</th><th>means</th><th>body</th></tr>");
    for (status, response) in &op.responses.responses {
        let (description, body) = match response {
            RefOr::T(r) => (
                r.description.clone(),
                r.content
                    .iter()
                    .map(|(ty, c)| match c {
                        RefOr::T(c) => format!("{ty} {}", schema_text(&c.schema)),
                        RefOr::Ref(r) => format!("{ty} {}", r.ref_location),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            RefOr::Ref(r) => (r.ref_location.clone(), String::new()),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            esc(status),
            esc(&description),
            esc(&body)
        );
    }
    out.push_str("</table></section>");
}

/// The whole document as one page: operations by path, then the schemas.
fn render_html(doc: &Document) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>pricehound API</title><link rel=\"stylesheet\" href=\"/assets/page.css\"></head><body><main>",
    );
    let _ = write!(
        out,
        "<h1>{} API {}</h1>",
        esc(&doc.info.title),
        esc(&doc.info.version)
    );
    if let Some(d) = &doc.info.description {
        let _ = write!(out, "<p>{}</p>", esc(d));
    }
    out.push_str(
        "<p>The machine-readable document: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1).</p><h2>Routes</h2>",
    );
    for (path, item) in &doc.paths.paths {
        for (method, op) in [
            ("GET", &item.get),
            ("POST", &item.post),
            ("PUT", &item.put),
            ("PATCH", &item.patch),
            ("DELETE", &item.delete),
        ] {
            if let Some(op) = op {
                operation_html(&mut out, method, path, op);
            }
        }
    }
    if let Some(components) = &doc.components {
        out.push_str("<h2>Schemas</h2>");
        for (name, schema) in &components.schemas {
            let text = serde_json::to_string_pretty(schema).unwrap_or_default();
            let _ = write!(
                out,
                "<section class=\"schema\" id=\"{}\"><h3>{}</h3><pre>{}</pre></section>",
                esc(name),
                esc(name),
                esc(&text)
            );
        }
    }
    out.push_str("</main></body></html>");
    out
}
