//! The people who use the bot and what they keep: a user record, the items
//! they watch, their alerts and the usage events admins read in `/stats`.
//!
//! These are plain values; the Telegram side (texts, buttons) lives in
//! `telegram`, the keeping in the [`crate::store::UserStore`] port.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

use super::{ItemId, Money, SeriesId};

/// A Telegram user id. For private chats it is also the chat id, which is
/// where pricehound sends alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct UserId(pub i64);

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A language the bot speaks. Adding one means adding a catalogue in
/// `telegram::texts`; the compiler then points at every text to translate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ru,
    Fr,
    Ar,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::En, Lang::Ru, Lang::Fr, Lang::Ar];

    /// The two-letter code Telegram uses in `language_code` and `setMyCommands`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ru => "ru",
            Lang::Fr => "fr",
            Lang::Ar => "ar",
        }
    }

    /// Reads a code such as `ru`, `fr-CA` or `en_US`; None for a language the
    /// bot does not speak.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match primary.as_str() {
            "en" => Some(Lang::En),
            "ru" => Some(Lang::Ru),
            "fr" => Some(Lang::Fr),
            "ar" => Some(Lang::Ar),
            _ => None,
        }
    }
}

/// What Telegram tells us about a user on each update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: UserId,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// Telegram's `language_code` (IETF tag), as sent.
    pub language_code: Option<String>,
}

/// A user as pricehound keeps them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub profile: UserProfile,
    /// The language picked with `/lang`; None follows Telegram's `language_code`.
    pub chosen_lang: Option<Lang>,
    /// The deep-link payload of the first `/start` (a referral), if any.
    pub referrer: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Set when Telegram says the user blocked the bot (403); cleared on
    /// their next message.
    pub blocked: bool,
}

impl User {
    /// The language to answer in: the user's choice, else Telegram's
    /// `language_code`, else English.
    pub fn lang(&self) -> Lang {
        self.chosen_lang
            .or_else(|| {
                self.profile
                    .language_code
                    .as_deref()
                    .and_then(Lang::from_code)
            })
            .unwrap_or_default()
    }
}

/// A first contact or a later one: what [`crate::store::UserProfiles::touch_user`] records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub profile: UserProfile,
    pub at: DateTime<Utc>,
    /// The `/start` payload of this contact; kept only on the first one.
    pub referrer: Option<String>,
}

/// A user follows an item: it shows in `/list` with its current price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Watch {
    pub user: UserId,
    pub item: ItemId,
    pub created_at: DateTime<Utc>,
    /// When the user marked it bought (a wishlist entry ticked off); the
    /// watch stays, so the list remembers what was bought and the alerts
    /// on it keep working until the user removes it.
    pub purchased_at: Option<DateTime<Utc>>,
}

/// A short random id for an alert, small enough for callback data.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct AlertId(String);

impl AlertId {
    const LEN: usize = 10;

    /// A fresh id: 10 characters of lowercase base32 (50 bits).
    pub fn random() -> Self {
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let bytes: [u8; Self::LEN] = crate::random::bytes();
        AlertId(
            bytes
                .iter()
                .map(|b| ALPHABET[(b & 31) as usize] as char)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AlertId {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.len() == Self::LEN
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        {
            Ok(AlertId(s))
        } else {
            Err(format!("{s:?} is not an alert id"))
        }
    }
}

impl From<AlertId> for String {
    fn from(id: AlertId) -> String {
        id.0
    }
}

impl fmt::Display for AlertId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an alert watches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum AlertTarget {
    Item(ItemId),
    /// A new listing in a series (e.g. any new "RTX 4070" under a price).
    Series(SeriesId),
}

/// When an alert fires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum AlertRule {
    /// The price goes below (strictly under) the threshold.
    Below { price: Money },
    /// The price goes above (strictly over) the threshold.
    Above { price: Money },
    /// The price drops by at least this many percent (0 < percent < 100)
    /// from the reference price.
    Drop { percent: Decimal },
    /// The item is back in stock.
    BackInStock,
    /// A new item appears in the series with a price under this one.
    NewListingUnder { price: Money },
}

/// A user's alert, with the state that makes it fire once and re-arm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub user: UserId,
    pub target: AlertTarget,
    pub rule: AlertRule,
    pub created_at: DateTime<Utc>,
    /// False once deactivated (item removed, user blocked the bot, muted).
    pub active: bool,
    /// True while the alert may fire; a fired threshold alert re-arms only
    /// after the price crosses back.
    pub armed: bool,
    /// The price a `drop` is measured from: at creation, then at each firing.
    pub reference_price: Option<Money>,
    pub last_fired_at: Option<DateTime<Utc>>,
}

/// A product page a user pasted into the bot and asked to track: it is
/// scraped like a `product_page` source from `sources.toml`, in the group
/// that holds product pages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackedPage {
    /// `page-<hash of the URL>`, so the same URL pasted twice is one source.
    pub source_id: super::SourceId,
    pub url: String,
    /// The product's name when it was added, shown until the next scrape.
    pub name: String,
    pub added_by: UserId,
    pub added_at: DateTime<Utc>,
}

/// Something a user did that admins count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum UsageKind {
    /// A command, by its name without the slash (`prices`, `search`, or
    /// `button` for callback queries, `text` for plain messages).
    Command(String),
    /// A notification was sent for an alert.
    AlertSent,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageEvent {
    pub user: UserId,
    pub at: DateTime<Utc>,
    pub kind: UsageKind,
}

/// What `/stats` shows admins.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct UsageStats {
    pub users: u64,
    /// Users seen in the 24 hours, 7 days and 30 days up to the query time.
    pub daily_active: u64,
    pub weekly_active: u64,
    pub monthly_active: u64,
    /// Commands used in the last 30 days, most used first (ties by name).
    pub commands: Vec<(String, u64)>,
    /// Alerts sent in the last 30 days.
    pub alerts_sent: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_ids_are_short_distinct_and_round_trip() {
        let a = AlertId::random();
        let b = AlertId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 10);
        assert_eq!(AlertId::try_from(a.to_string()).unwrap(), a);
        assert!(AlertId::try_from("UPPERCASE1".to_string()).is_err());
        assert!(AlertId::try_from("short".to_string()).is_err());
    }

    #[test]
    fn language_codes_map_to_the_bots_languages() {
        assert_eq!(Lang::from_code("ru"), Some(Lang::Ru));
        assert_eq!(Lang::from_code("fr-CA"), Some(Lang::Fr));
        assert_eq!(Lang::from_code("AR"), Some(Lang::Ar));
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::from_code(""), None);
    }
}
