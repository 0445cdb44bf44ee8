//! The one HTTP client every source fetches through: rustls, a User-Agent
//! that names pricehound, timeouts and a response size cap.

use std::time::Duration;
use url::Url;

/// Bodies larger than this are refused: a price page is never this big, and
/// a hostile or broken server must not exhaust a 256 MB Lambda.
pub const DEFAULT_MAX_BODY: usize = 5 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("GET {url}: {message}")]
    Transport { url: String, message: String },
    #[error("GET {url}: HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("GET {url}: response larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// A fetched page and where it ended up after redirects.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub final_url: Url,
    pub body: String,
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    max_body: usize,
}

impl Fetcher {
    pub fn new() -> Self {
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "pricehound/",
                env!("CARGO_PKG_VERSION"),
                " (+https://github.com/pricehound/pricehound)"
            ))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .expect("reqwest client with static settings");
        Fetcher {
            client,
            max_body: DEFAULT_MAX_BODY,
        }
    }

    pub fn with_max_body(mut self, max_body: usize) -> Self {
        self.max_body = max_body;
        self
    }

    /// GETs `url` and returns its body as text. Non-2xx is an error.
    pub async fn get_text(&self, url: &Url) -> Result<Fetched, FetchError> {
        let transport = |e: reqwest::Error| FetchError::Transport {
            url: url.to_string(),
            message: error_chain(&e.without_url()),
        };
        let mut resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(transport)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(FetchError::Status {
                url: url.to_string(),
                status: status.as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: url.to_string(),
            limit: self.max_body,
        };
        if resp
            .content_length()
            .is_some_and(|n| n as usize > self.max_body)
        {
            return Err(too_large());
        }
        let final_url = resp.url().clone();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            final_url,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// "error sending request: connection refused": reqwest's own message hides
/// the cause that says what to fix.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::new()
    }
}
