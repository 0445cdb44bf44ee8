//! What a button means: the `callback_data` of inline buttons, encoded as
//! short `tag|arg|arg` strings.
//!
//! Telegram allows 64 bytes. Item ids can reach 200 characters and pasted
//! URLs far more, so a value that does not fit is stashed in the store
//! under a hash (`~<hash>`) by the bot (see `bot::buttons`), and looked up
//! when the button is pressed. [`Callback::encode`] never has to truncate.

use sha2::{Digest, Sha256};

use crate::domain::user::{AlertId, Lang};
use crate::domain::{ItemId, SourceId};

use super::methods::MAX_CALLBACK_DATA;

/// A chart's time window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartWindow {
    Week,
    Month,
    Year,
}

impl ChartWindow {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "7d" | "1w" | "week" => Some(ChartWindow::Week),
            "30d" | "1m" | "month" => Some(ChartWindow::Month),
            "1y" | "365d" | "year" => Some(ChartWindow::Year),
            _ => None,
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            ChartWindow::Week => "7d",
            ChartWindow::Month => "30d",
            ChartWindow::Year => "1y",
        }
    }
    pub fn duration(self) -> chrono::Duration {
        match self {
            ChartWindow::Week => chrono::Duration::days(7),
            ChartWindow::Month => chrono::Duration::days(30),
            ChartWindow::Year => chrono::Duration::days(365),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Callback {
    /// Open an item's view.
    Item(ItemId),
    Watch(ItemId),
    Unwatch(ItemId),
    /// Show the quick alert choices for an item.
    AlertMenu(ItemId),
    AlertDrop(ItemId, u32),
    AlertBackInStock(ItemId),
    Chart(ItemId, ChartWindow),
    DeleteAlert(AlertId),
    /// Answer to "clear your list?".
    Clear(bool),
    Lang(Lang),
    /// A page of `/prices`, optionally of one source.
    Prices {
        page: u32,
        source: Option<SourceId>,
    },
    /// Track a pasted product page.
    Track(String),
    /// Mute (deactivate) an alert from its notification.
    Mute(AlertId),
    /// Stop tracking a pasted page (only `page-…` sources).
    Untrack(SourceId),
}

/// The prefix of stashed callback data.
pub const STASH_PREFIX: char = '~';

impl Callback {
    /// The full encoding, which may exceed 64 bytes (see [`Callback::fits`]).
    pub fn encode(&self) -> String {
        match self {
            Callback::Item(i) => format!("i|{i}"),
            Callback::Watch(i) => format!("w|{i}"),
            Callback::Unwatch(i) => format!("u|{i}"),
            Callback::AlertMenu(i) => format!("a|{i}"),
            Callback::AlertDrop(i, p) => format!("d|{p}|{i}"),
            Callback::AlertBackInStock(i) => format!("s|{i}"),
            Callback::Chart(i, w) => format!("c|{}|{i}", w.code()),
            Callback::DeleteAlert(id) => format!("x|{id}"),
            Callback::Clear(yes) => format!("k|{}", if *yes { "y" } else { "n" }),
            Callback::Lang(l) => format!("l|{}", l.code()),
            Callback::Prices { page, source } => match source {
                Some(s) => format!("p|{page}|{s}"),
                None => format!("p|{page}"),
            },
            Callback::Track(url) => format!("t|{url}"),
            Callback::Mute(id) => format!("m|{id}"),
            Callback::Untrack(source) => format!("v|{source}"),
        }
    }

    /// True when the encoding fits Telegram's 64 bytes as is.
    pub fn fits(encoded: &str) -> bool {
        !encoded.is_empty() && encoded.len() <= MAX_CALLBACK_DATA
    }

    /// The stash key for an encoding that does not fit: `~` and 20 hex
    /// digits of its SHA-256, so the same button always gets the same key.
    pub fn stash_key(encoded: &str) -> String {
        let hash = Sha256::digest(encoded.as_bytes());
        format!("{STASH_PREFIX}{}", &hex::encode(hash)[..20])
    }

    /// Reads callback data; None for anything this bot did not produce
    /// (old buttons of another version, forged data).
    pub fn decode(data: &str) -> Option<Callback> {
        let (tag, rest) = data.split_once('|')?;
        let item = |s: &str| ItemId::new(s).ok();
        Some(match tag {
            "i" => Callback::Item(item(rest)?),
            "w" => Callback::Watch(item(rest)?),
            "u" => Callback::Unwatch(item(rest)?),
            "a" => Callback::AlertMenu(item(rest)?),
            "d" => {
                let (p, i) = rest.split_once('|')?;
                let p: u32 = p.parse().ok().filter(|p| (1..100).contains(p))?;
                Callback::AlertDrop(item(i)?, p)
            }
            "s" => Callback::AlertBackInStock(item(rest)?),
            "c" => {
                let (w, i) = rest.split_once('|')?;
                Callback::Chart(item(i)?, ChartWindow::parse(w)?)
            }
            "x" => Callback::DeleteAlert(AlertId::try_from(rest.to_string()).ok()?),
            "m" => Callback::Mute(AlertId::try_from(rest.to_string()).ok()?),
            "k" => match rest {
                "y" => Callback::Clear(true),
                "n" => Callback::Clear(false),
                _ => return None,
            },
            "l" => Callback::Lang(Lang::from_code(rest)?),
            "p" => {
                let (page, source) = match rest.split_once('|') {
                    Some((p, s)) => (p, Some(SourceId::new(s).ok()?)),
                    None => (rest, None),
                };
                Callback::Prices {
                    page: page.parse().ok().filter(|p| *p < 10_000)?,
                    source,
                }
            }
            "t" => {
                let url = url::Url::parse(rest).ok()?;
                if !matches!(url.scheme(), "http" | "https") {
                    return None;
                }
                Callback::Track(url.to_string())
            }
            "v" => {
                let source = SourceId::new(rest).ok()?;
                if !crate::sources::tracked::is_user_source(&source) {
                    return None;
                }
                Callback::Untrack(source)
            }
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(s: &str) -> ItemId {
        ItemId::new(s).unwrap()
    }

    #[test]
    fn every_callback_round_trips() {
        let long = item(&format!("olx-gpu:{}", "a".repeat(190)));
        let all = vec![
            Callback::Item(item("tg-x:gold-18k")),
            Callback::Watch(long.clone()),
            Callback::Unwatch(item("a:b")),
            Callback::AlertMenu(item("a:b")),
            Callback::AlertDrop(item("a:b.c"), 10),
            Callback::AlertBackInStock(item("a:b")),
            Callback::Chart(long, ChartWindow::Year),
            Callback::DeleteAlert(AlertId::random()),
            Callback::Mute(AlertId::random()),
            Callback::Clear(true),
            Callback::Clear(false),
            Callback::Lang(Lang::Ar),
            Callback::Prices {
                page: 3,
                source: Some(SourceId::new("olx-gpu").unwrap()),
            },
            Callback::Prices {
                page: 0,
                source: None,
            },
            Callback::Track("https://shop.example/p?id=1|2".into()),
            Callback::Untrack(SourceId::new("page-0123456789ab").unwrap()),
        ];
        for c in all {
            assert_eq!(Callback::decode(&c.encode()), Some(c.clone()), "{c:?}");
        }
    }

    #[test]
    fn stash_keys_fit_and_are_stable() {
        let enc = format!("t|https://example.com/{}", "x".repeat(500));
        let key = Callback::stash_key(&enc);
        assert!(Callback::fits(&key));
        assert_eq!(key, Callback::stash_key(&enc));
        assert!(!Callback::fits(&enc));
    }

    #[test]
    fn forged_or_foreign_data_is_refused() {
        for bad in [
            "",
            "|",
            "i|",
            "i|UPPER",
            "d|0|a:b",
            "d|100|a:b",
            "d|x|a:b",
            "c|2d|a:b",
            "x|nope",
            "k|maybe",
            "l|de",
            "p|99999",
            "p|1|BAD ID",
            "t|javascript:alert(1)",
            "t|not a url",
            "z|a:b",
            "v|olx-gpu",
            "v|",
            "i|a:b\u{0}",
        ] {
            assert_eq!(Callback::decode(bad), None, "{bad:?}");
        }
    }
}
