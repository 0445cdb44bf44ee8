//! Public Telegram channels, read through the web preview `t.me/s/<channel>`.
//!
//! A page holds about 20 posts, oldest first; `?before=<id>` gives older
//! ones. We keep a checkpoint (the highest post id read) so each post is
//! read once, and walk back page by page only as far as needed (and at most
//! `max_pages`). Posts are deduplicated on their id, never on their date:
//! an edited post keeps its id.

use chrono::{DateTime, Utc};
use scraper::{ElementRef, Html, Node, Selector};
use std::collections::BTreeMap;
use std::sync::LazyLock;
use url::Url;

use super::config::{SourceConfig, TelegramChannelConfig};
use super::fetch::{FetchError, Fetcher};
use super::{ScrapeError, ScrapeOutput};
use crate::domain::{ItemId, Money, Observation, Provenance, SeriesId, slug};
use crate::price::{PriceHints, parse_price};

/// One post as the preview shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Post {
    pub id: u64,
    /// The text with `<br>` as newlines and HTML entities decoded.
    pub text: String,
    pub date: Option<DateTime<Utc>>,
}

/// One parsed preview page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelPage {
    pub title: Option<String>,
    /// Posts in ascending id order, without service messages.
    pub posts: Vec<Post>,
    /// The id to pass as `?before=` for older posts, when the page links to them.
    pub before: Option<u64>,
}

macro_rules! sel {
    ($name:ident, $css:literal) => {
        static $name: LazyLock<Selector> =
            LazyLock::new(|| Selector::parse($css).expect("static selector"));
    };
}
sel!(MESSAGE, "div.tgme_widget_message[data-post]");
sel!(TEXT, ".tgme_widget_message_text.js-message_text");
sel!(TIME, "a.tgme_widget_message_date time[datetime]");
sel!(SERVICE, ".service_message");
sel!(TITLE, ".tgme_channel_info_header_title");
sel!(MORE, "a.tme_messages_more[data-before]");
sel!(HISTORY, ".tgme_channel_history, .tgme_channel_info");

/// Parses one preview page. Returns `None` when the HTML is not a channel
/// preview at all (no history section, no channel info): that is how a
/// channel without a public preview looks, and it must not read as empty.
///
/// A page past the HTML budget ([`super::html_guard`]) reads as `None` here;
/// the scraper reports the refusal itself.
pub fn parse_page(html: &str, channel: &str) -> Option<ChannelPage> {
    read_page(&super::html_guard::parse_document(html).ok()?, channel)
}

/// [`parse_page`] on a parsed page.
fn read_page(doc: &Html, channel: &str) -> Option<ChannelPage> {
    if doc.select(&HISTORY).next().is_none() && doc.select(&MESSAGE).next().is_none() {
        return None;
    }
    let title = doc
        .select(&TITLE)
        .next()
        .map(|t| collapse_spaces(&t.text().collect::<String>()));
    let mut posts = BTreeMap::new();
    for msg in doc.select(&MESSAGE) {
        let Some(id) = post_id(msg.value().attr("data-post")?, channel) else {
            continue;
        };
        if msg.select(&SERVICE).next().is_some()
            || msg.value().classes().any(|c| c == "service_message")
        {
            continue;
        }
        let text = message_text(msg);
        let date = msg
            .select(&TIME)
            .next()
            .and_then(|t| t.value().attr("datetime"))
            .and_then(|d| DateTime::parse_from_rfc3339(d).ok())
            .map(|d| d.with_timezone(&Utc));
        posts.insert(id, Post { id, text, date });
    }
    let before = doc
        .select(&MORE)
        .filter_map(|a| a.value().attr("data-before")?.parse().ok())
        .min();
    Some(ChannelPage {
        title,
        posts: posts.into_values().collect(),
        before,
    })
}

/// `data-post="<channel>/<id>"`: the id, if the channel matches (case-insensitively,
/// as Telegram usernames are).
fn post_id(data_post: &str, channel: &str) -> Option<u64> {
    let (ch, id) = data_post.rsplit_once('/')?;
    if !ch.eq_ignore_ascii_case(channel) {
        return None;
    }
    id.parse().ok()
}

/// The post's own text: the outermost `.js-message_text` (album captions can
/// be nested twice; reply quotes use `js-message_reply_text` and are skipped).
fn message_text(msg: ElementRef<'_>) -> String {
    let Some(outer) = msg.select(&TEXT).next() else {
        return String::new();
    };
    let mut out = String::new();
    push_text(outer, &mut out);
    out.lines()
        .map(collapse_spaces)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn push_text(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) if e.name() == "br" => out.push('\n'),
            Node::Element(e) if matches!(e.name(), "script" | "style" | "template") => {}
            Node::Element(_) => {
                if let Some(child_el) = ElementRef::wrap(child) {
                    // A nested copy of the text class (album caption) is the same text.
                    let nested_copy = child_el.value().classes().any(|c| c == "js-message_text");
                    if !nested_copy || out.trim().is_empty() {
                        push_text(child_el, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Collapses runs of spaces, but keeps non-breaking spaces as they are:
/// the price parser reads them as digit-group separators.
fn collapse_spaces(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c == ' ' || c == '\t' || c == '\r' {
            if !space {
                out.push(' ');
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out.trim_matches(' ').to_string()
}

/// The preview URL of `channel`, optionally before a post id.
pub fn page_url(base: &Url, channel: &str, before: Option<u64>) -> Url {
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/s/{channel}",
        base.path().trim_end_matches('/')
    ));
    url.set_query(None);
    if let Some(b) = before {
        url.query_pairs_mut().append_pair("before", &b.to_string());
    }
    url
}

/// Reads new posts since `checkpoint` (or up to `max_pages` pages back on the
/// first run) and extracts their prices.
pub async fn scrape(
    source: &SourceConfig,
    cfg: &TelegramChannelConfig,
    fetcher: &Fetcher,
    checkpoint: Option<u64>,
) -> Result<ScrapeOutput, ScrapeError> {
    let mut posts: BTreeMap<u64, Post> = BTreeMap::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let url = page_url(&cfg.base_url, &cfg.channel, before);
        let fetched = fetcher.get_text(&url).await.map_err(|e| match e {
            FetchError::Status { status: 404, .. } => ScrapeError::NotFound(url.to_string()),
            e => ScrapeError::Fetch(e),
        })?;
        // A channel without a public preview redirects /s/<ch> to /<ch>.
        if !fetched.final_url.path().contains("/s/") {
            return Err(ScrapeError::NoPublicPreview {
                channel: cfg.channel.clone(),
            });
        }
        let channel = cfg.channel.clone();
        let page = super::parse_blocking(move || {
            let doc = super::html_guard::parse_document(&fetched.body)?;
            Ok(read_page(&doc, &channel))
        })
        .await?
        .ok_or_else(|| {
            ScrapeError::Layout(format!(
                "{url} is not a channel preview page (no message history found)"
            ))
        })?;
        pages += 1;
        let oldest_on_page = page.posts.first().map(|p| p.id);
        for post in page.posts {
            posts.insert(post.id, post);
        }
        let reached_checkpoint = match (checkpoint, oldest_on_page) {
            (Some(cp), Some(oldest)) => oldest <= cp + 1,
            (_, None) => true,
            (None, _) => false,
        };
        // Only follow the page's own "older posts" link: its absence means
        // there is nothing older.
        let next_before = page.before.filter(|b| *b > 1);
        match next_before {
            Some(b) if !reached_checkpoint && pages < cfg.max_pages && Some(b) != before => {
                before = Some(b);
            }
            _ => break,
        }
    }
    let new_posts: Vec<&Post> = posts
        .values()
        .filter(|p| checkpoint.is_none_or(|cp| p.id > cp))
        .collect();
    let mut output = ScrapeOutput {
        pages_fetched: pages,
        checkpoint: posts.keys().next_back().copied().max(checkpoint),
        ..ScrapeOutput::default()
    };
    let fetched_at = Utc::now();
    for post in new_posts {
        output.posts_read += 1;
        let found = extract(source, cfg, post, fetched_at);
        if found.is_empty() {
            output.posts_without_price += 1;
        }
        output.observations.extend(found);
    }
    Ok(output)
}

/// Applies the source's rules to one post. Every regex match is a price.
pub fn extract(
    source: &SourceConfig,
    cfg: &TelegramChannelConfig,
    post: &Post,
    fetched_at: DateTime<Utc>,
) -> Vec<Observation> {
    let hints = PriceHints {
        decimal_separator: cfg.decimal_separator,
        currency: Some(cfg.default_currency),
    };
    let mut out = Vec::new();
    let mut seen_items = std::collections::HashSet::new();
    for rule in &cfg.rules {
        // Built on first use; the default sources' patterns all build (a
        // test says so), and a file's are built when it is loaded.
        let Ok(pattern) = rule.pattern.regex() else {
            continue;
        };
        for caps in pattern.captures_iter(&post.text) {
            let label = caps
                .name("item")
                .map(|m| m.as_str().trim().to_string())
                .or_else(|| rule.item.clone())
                .unwrap_or_default();
            let Some(amount_text) = caps.name("amount") else {
                continue;
            };
            let currency_text = caps.name("currency").map(|m| m.as_str()).unwrap_or("");
            let parsed = parse_price(&format!("{} {currency_text}", amount_text.as_str()), hints);
            let (Some(amount), Some(currency)) = (parsed.amount, parsed.currency) else {
                continue;
            };
            let Ok(item_id) = ItemId::for_source(&source.id, &label) else {
                continue;
            };
            // The first match for an item in a post wins; a post that repeats
            // a label (a summary line) does not make two prices at one time.
            if !seen_items.insert(item_id.clone()) {
                continue;
            }
            let series = rule
                .series
                .as_ref()
                .and_then(|t| SeriesId::new(fill_template(t, pattern, &caps, &label)).ok());
            out.push(Observation::new(
                source.id.clone(),
                item_id,
                label,
                series,
                Money::new(amount, currency),
                post.date.unwrap_or(fetched_at),
                Provenance::TelegramPost {
                    channel: cfg.channel.clone(),
                    post_id: post.id,
                },
            ));
        }
    }
    out
}

/// Fills `{item}` and `{<group>}` in a series template with the slugs of the
/// match's named groups.
fn fill_template(
    template: &str,
    pattern: &regex::Regex,
    caps: &regex::Captures<'_>,
    label: &str,
) -> String {
    let mut out = template.replace("{item}", &slug(label));
    for name in pattern.capture_names().flatten() {
        if let Some(m) = caps.name(name) {
            out = out.replace(&format!("{{{name}}}"), &slug(m.as_str()));
        }
    }
    out
}
