//! Local HTTP servers for source tests: the recorded demo pages, and a
//! scripted server whose answers a test sets per path. Loopback only.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use pricehound::ingest::Ingestor;
use pricehound::queue::memory::MemoryQueue;
use pricehound::scrape::Scraper;
use pricehound::sources::{Fetcher, SourcesConfig};
use pricehound::store::Store;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

/// Serves `router` on 127.0.0.1 (a free port) for the rest of the test.
pub async fn serve(router: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Url::parse(&format!("http://{addr}")).unwrap()
}

/// The default sources, pointed at the recorded demo pages.
pub async fn demo_sources() -> SourcesConfig {
    let base = serve(pricehound::demo::router()).await;
    let mut sources = SourcesConfig::default_sources();
    sources.rebase(&base);
    sources
}

/// What the scripted server answers for one path-and-query.
#[derive(Clone)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
    pub location: Option<String>,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
    /// Wait this long before answering (a slow server).
    pub delay: Option<std::time::Duration>,
}

impl Answer {
    pub fn html(body: impl Into<String>) -> Self {
        Answer {
            status: StatusCode::OK,
            body: body.into(),
            location: None,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            delay: None,
        }
    }
    pub fn json(body: impl Into<String>) -> Self {
        Answer {
            content_type: "application/json",
            ..Answer::html(body)
        }
    }
    pub fn status(status: u16) -> Self {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            ..Answer::html("")
        }
    }
    pub fn redirect(to: &str) -> Self {
        Answer {
            status: StatusCode::FOUND,
            location: Some(to.to_string()),
            ..Answer::html("")
        }
    }
    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
    pub fn delayed(mut self, by: std::time::Duration) -> Self {
        self.delay = Some(by);
        self
    }
}

/// A server whose answers the test sets and changes; it records every request.
#[derive(Clone, Default)]
pub struct Scripted {
    /// Answers per path, in order; the last one repeats.
    answers: Arc<Mutex<HashMap<String, Vec<Answer>>>>,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl Scripted {
    pub fn set(&self, path_and_query: &str, answer: Answer) {
        self.set_sequence(path_and_query, vec![answer]);
    }

    /// Answers requests to `path_and_query` with `answers` in turn, then the last one again.
    pub fn set_sequence(&self, path_and_query: &str, answers: Vec<Answer>) {
        assert!(!answers.is_empty());
        self.answers
            .lock()
            .unwrap()
            .insert(path_and_query.to_string(), answers);
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    pub async fn start(&self) -> Url {
        let router = Router::new().fallback(answer).with_state(self.clone());
        serve(router).await
    }
}

async fn answer(State(s): State<Scripted>, req: Request) -> Response {
    let key = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    s.requests.lock().unwrap().push(key.clone());
    let found = {
        let mut answers = s.answers.lock().unwrap();
        answers.get_mut(&key).map(|list| {
            if list.len() > 1 {
                list.remove(0)
            } else {
                list[0].clone()
            }
        })
    };
    match found {
        None => (StatusCode::NOT_FOUND, "no such page").into_response(),
        Some(a) => {
            if let Some(d) = a.delay {
                tokio::time::sleep(d).await;
            }
            let mut resp = Response::builder()
                .status(a.status)
                .header(header::CONTENT_TYPE, a.content_type);
            if let Some(l) = a.location {
                resp = resp.header(header::LOCATION, l);
            }
            for (name, value) in a.headers {
                resp = resp.header(name, value);
            }
            resp.body(Body::from(a.body)).unwrap()
        }
    }
}

/// A minimal channel preview page with the given posts `(id, text_html, iso_date)`,
/// and an "older posts" link when `before` is set.
pub fn channel_page(channel: &str, posts: &[(u64, &str, &str)], before: Option<u64>) -> String {
    let more = before
        .map(|b| format!(r#"<a href="/s/{channel}?before={b}" class="tme_messages_more js-messages_more" data-before="{b}"></a>"#))
        .unwrap_or_default();
    let posts: String = posts
        .iter()
        .map(|(id, text, date)| {
            format!(
                r#"<div class="tgme_widget_message_wrap js-widget_message_wrap"><div class="tgme_widget_message js-widget_message" data-post="{channel}/{id}"><div class="tgme_widget_message_bubble"><div class="tgme_widget_message_text js-message_text" dir="auto">{text}</div><div class="tgme_widget_message_footer"><a class="tgme_widget_message_date" href="https://t.me/{channel}/{id}"><time datetime="{date}" class="time">10:00</time></a></div></div></div></div>"#
            )
        })
        .collect();
    format!(
        r#"<!DOCTYPE html><html><body><div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span>Test channel</span></div></div><section class="tgme_channel_history js-message_history">{more}{posts}</section></body></html>"#
    )
}

/// The default sources restricted to the two recorded Telegram channels, so
/// counts in tests do not move when other sources are added.
pub async fn channel_sources() -> SourcesConfig {
    let mut sources = demo_sources().await;
    sources
        .sources
        .retain(|s| matches!(s.kind, pricehound::sources::SourceKind::TelegramChannel(_)));
    sources
}

/// Runs the real pipeline (scrape every group → queue → ingest) into `store`
/// from the recorded channel pages; returns how many observations were ingested.
pub async fn seed(store: Arc<dyn Store>) -> usize {
    let sources = Arc::new(channel_sources().await);
    let (queue, mut rx) = MemoryQueue::new();
    let scraper = Scraper {
        sources: sources.clone(),
        fetcher: Fetcher::new(),
        user_fetcher: Fetcher::for_user_links(),
        store: store.clone(),
        queue: Arc::new(queue),
        tracked: None,
    };
    for group in sources.groups.keys() {
        scraper.run_group(group).await.unwrap();
    }
    drop(scraper);
    let ingestor = Ingestor::new(store);
    let mut n = 0;
    while let Some(m) = rx.recv().await {
        ingestor.ingest(&m).await.unwrap();
        n += 1;
    }
    n
}

/// A server whose one page answers only when the test opens the gate, so
/// work that fetches it stays in flight as long as the test needs, with no
/// timing involved.
pub struct GatedPage {
    /// `notify_one` lets the (next) waiting request answer.
    pub gate: Arc<tokio::sync::Notify>,
    /// Notified when a request for the page has arrived.
    pub arrived: Arc<tokio::sync::Notify>,
    /// The server's base URL on 127.0.0.1.
    pub base: Url,
}

/// Serves `body` as HTML at `path`, behind a [`GatedPage`] gate.
pub async fn gated_page(path: &str, body: &'static str) -> GatedPage {
    let gate = Arc::new(tokio::sync::Notify::new());
    let arrived = Arc::new(tokio::sync::Notify::new());
    let app = {
        let (gate, arrived) = (gate.clone(), arrived.clone());
        Router::new().route(
            path,
            axum::routing::get(move || {
                let (gate, arrived) = (gate.clone(), arrived.clone());
                async move {
                    arrived.notify_one();
                    gate.notified().await;
                    axum::response::Html(body)
                }
            }),
        )
    };
    GatedPage {
        gate,
        arrived,
        base: serve(app).await,
    }
}

/// sources.toml's gold group and its Telegram channels (their parsing rules
/// as deployed), read from `base` instead of t.me, as TOML text for a
/// function's `PRICEHOUND_SOURCES_FILE`; with `only`, that one source.
/// Everything else in the file (other groups, the JSON and HTML sources)
/// is left out, as [`channel_sources`] leaves it out.
pub fn channel_sources_toml(base: &Url, only: Option<&str>) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sources.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let mut doc: toml::Table = toml::from_str(&text).unwrap();
    let groups = doc["groups"].as_table_mut().unwrap();
    groups.retain(|name, _| name == "gold");
    let sources = doc["sources"].as_array_mut().unwrap();
    sources.retain(|s| {
        s["kind"].as_str() == Some("telegram_channel")
            && only.is_none_or(|id| s["id"].as_str() == Some(id))
    });
    assert!(!sources.is_empty(), "sources.toml has the channel {only:?}");
    for s in sources.iter_mut() {
        s.as_table_mut()
            .unwrap()
            .insert("base_url".into(), toml::Value::String(base.to_string()));
    }
    let out = toml::to_string(&doc).unwrap();
    SourcesConfig::from_toml(&out).expect("the channel sources are valid");
    out
}
