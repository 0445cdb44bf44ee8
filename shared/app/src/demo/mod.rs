//! Recorded sample pages for the default sources, served from the binary
//! itself: `pricehound serve --demo` points every source here so a newcomer
//! sees prices with no network, and the tests use the same server.
//!
//! It answers like the real sites: `/s/<channel>` and `?before=<id>` for
//! Telegram previews; an unknown channel redirects to `/<channel>`, as
//! Telegram does for a channel without a public preview.

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use std::net::SocketAddr;
use url::Url;

mod catalog_pages;
mod product_pages;

/// A recorded page at a fixed path (and query) on the demo server.
pub struct DemoPage {
    /// Path and query exactly as requested, e.g. `/ads/q-rtx-4070/?page=2`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

/// Every recorded non-Telegram page: catalogues, marketplaces, product pages, JSON feeds.
pub fn pages() -> impl Iterator<Item = &'static DemoPage> {
    catalog_pages::PAGES
        .iter()
        .chain(product_pages::PAGES.iter())
}

/// The recorded page at `path_and_query`, if there is one.
pub fn page(path_and_query: &str) -> Option<&'static DemoPage> {
    pages().find(|p| p.path == path_and_query)
}

/// (channel, before, page). `before = None` is the newest page.
const PAGES: &[(&str, Option<u64>, &str)] = &[
    (
        "bijouterie_or_dz",
        None,
        include_str!("pages/bijouterie_or_dz.html"),
    ),
    (
        "bijouterie_or_dz",
        Some(101),
        include_str!("pages/bijouterie_or_dz.before-101.html"),
    ),
    (
        "zoloto_lombard_ru",
        None,
        include_str!("pages/zoloto_lombard_ru.html"),
    ),
    (
        "zoloto_lombard_ru",
        Some(221),
        include_str!("pages/zoloto_lombard_ru.before-221.html"),
    ),
];

/// The recorded page for `channel` (newest, or before a post id).
pub fn telegram_page(channel: &str, before: Option<u64>) -> Option<&'static str> {
    PAGES
        .iter()
        .find(|(c, b, _)| *c == channel && *b == before)
        .map(|(_, _, html)| *html)
}

/// A channel page with its header but no posts: what t.me/s shows past the
/// oldest post.
const EMPTY_HISTORY: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram</title></head><body><main class="tgme_main"><section class="tgme_channel_history js-message_history"></section></main></body></html>"#;

/// What t.me/<channel> shows for a channel without a public preview.
const NO_PREVIEW: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Telegram: Contact @private</title></head><body class="no_transition"><div class="tgme_page_wrap"><div class="tgme_page"><div class="tgme_page_title"><span dir="auto">Private jeweler</span></div><div class="tgme_page_extra">2 345 subscribers</div><a class="tgme_action_button_new" href="tg://resolve?domain=private">View in Telegram</a></div></div></body></html>"#;

#[derive(Deserialize)]
struct PreviewParams {
    before: Option<u64>,
}

async fn preview(Path(channel): Path<String>, Query(p): Query<PreviewParams>) -> Response {
    let known = PAGES.iter().any(|(c, _, _)| *c == channel);
    if !known {
        return Redirect::to(&format!("/{channel}")).into_response();
    }
    let body = telegram_page(&channel, p.before).unwrap_or(EMPTY_HISTORY);
    html(body)
}

async fn channel_page(Path(channel): Path<String>, uri: axum::http::Uri) -> Response {
    // One-segment paths may be recorded pages too (e.g. `/robots.txt`).
    if let Some(p) = uri.path_and_query().and_then(|p| page(p.as_str())) {
        return (
            StatusCode::OK,
            [(header::CONTENT_TYPE, p.content_type)],
            p.body,
        )
            .into_response();
    }
    let _ = channel;
    html(NO_PREVIEW)
}

fn html(body: &'static str) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn recorded(uri: axum::http::Uri) -> Response {
    let key = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    match page(key) {
        Some(p) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, p.content_type)],
            p.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no recorded page here").into_response(),
    }
}

pub fn router() -> Router {
    Router::new()
        .route("/s/{channel}", get(preview))
        .route("/{channel}", get(channel_page))
        .fallback(recorded)
}

/// The port `spawn` prefers for the demo pages.
pub const DEMO_PORT: u16 = 47_231;

/// Serves the recorded pages on 127.0.0.1 ([`DEMO_PORT`], else a free port)
/// until the process ends; returns the base URL to point sources at.
pub async fn spawn() -> std::io::Result<Url> {
    // A fixed port when it is free: listing URLs (and so item ids) contain
    // the host and port, and `serve --demo --db FILE` run twice should see
    // the same items, not a new set per run.
    let listener =
        match tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], DEMO_PORT))).await {
            Ok(l) => l,
            Err(_) => tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?,
        };
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router()).await {
            tracing::error!(error = %e, "demo page server stopped");
        }
    });
    Ok(Url::parse(&format!("http://{addr}")).expect("socket address is a valid URL"))
}
