//! `sources.toml`: the sources pricehound reads and the schedule groups that
//! fire them. Loading validates everything a typo could break (unknown
//! group, duplicate id, a rule without an `amount` group) and says where.

use regex::Regex;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use url::Url;

use crate::domain::{Currency, SourceId};
use crate::schedule::Schedule;

/// The default `sources.toml`, compiled in so a Lambda needs no file.
pub const DEFAULT_SOURCES_TOML: &str = include_str!("../../../sources.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("sources file is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("source {source_id:?}: {message}")]
    Source { source_id: String, message: String },
    #[error("group {group:?}: {message}")]
    Group { group: String, message: String },
}

/// The whole sources file.
#[derive(Debug, Clone)]
pub struct SourcesConfig {
    pub groups: BTreeMap<String, Group>,
    pub sources: Vec<SourceConfig>,
}

/// A schedule group: the sources that are scraped together on one schedule
/// (one EventBridge schedule in AWS, one timer in `serve`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Group {
    /// An EventBridge schedule expression: `rate(15 minutes)` or `cron(0 8-20 * * ? *)`.
    pub schedule: Schedule,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SourceConfig {
    pub id: SourceId,
    /// A human name, shown in the API and the bot.
    pub name: String,
    pub group: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(flatten)]
    pub kind: SourceKind,
}

fn yes() -> bool {
    true
}

/// One variant per source adapter in [`crate::sources`].
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    TelegramChannel(TelegramChannelConfig),
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::TelegramChannel(_) => "telegram_channel",
        }
    }
}

/// A public Telegram channel read through its web preview `<base_url>/s/<channel>`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramChannelConfig {
    /// The channel's public username, without `@`.
    pub channel: String,
    /// Where the preview lives; tests and `serve --demo` point this at a local server.
    #[serde(default = "default_telegram_base")]
    pub base_url: Url,
    /// How many pages (about 20 posts each) to read back on the first run,
    /// and at most per run when many posts arrived since the last one.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// The currency of prices whose text names none.
    pub default_currency: Currency,
    /// The source's decimal separator when it is not the usual guess.
    #[serde(default)]
    pub decimal_separator: Option<char>,
    pub rules: Vec<ExtractionRule>,
}

fn default_telegram_base() -> Url {
    Url::parse("https://t.me").expect("static URL")
}
fn default_max_pages() -> u32 {
    3
}

/// How to pull prices out of a post's text: a regex with named groups
/// `amount` (required), `item` (the label, unless `item` is given here) and
/// `currency` (optional). Every match in a post is one price.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractionRule {
    #[serde(with = "serde_regex")]
    pub pattern: Regex,
    /// A fixed item label, for rules whose regex has no `item` group.
    #[serde(default)]
    pub item: Option<String>,
    /// Series template: `{item}` is replaced by the item label's slug and
    /// `{<group>}` by the slug of that named group, e.g. `gold-{karat}k`.
    #[serde(default)]
    pub series: Option<String>,
}

mod serde_regex {
    use regex::Regex;
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Regex, D::Error> {
        let s = String::deserialize(d)?;
        // Bounded size: a rule comes from a config file, but a typo must not
        // build a gigantic automaton.
        regex::RegexBuilder::new(&s)
            .size_limit(1 << 20)
            .build()
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: BTreeMap<String, Group>,
    #[serde(default)]
    sources: Vec<SourceConfig>,
}

impl SourcesConfig {
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let raw: RawFile = toml::from_str(text)?;
        let config = SourcesConfig {
            groups: raw.groups,
            sources: raw.sources,
        };
        config.validate()?;
        Ok(config)
    }

    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_toml(&text)
    }

    /// The compiled-in default `sources.toml`.
    pub fn default_sources() -> Self {
        Self::from_toml(DEFAULT_SOURCES_TOML).expect("the default sources.toml is valid (tested)")
    }

    fn validate(&self) -> Result<(), ConfigError> {
        for name in self.groups.keys() {
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(ConfigError::Group {
                    group: name.clone(),
                    message: "group names may only contain a-z, 0-9 and '-'".into(),
                });
            }
        }
        let mut seen = HashSet::new();
        for s in &self.sources {
            let err = |message: String| ConfigError::Source {
                source_id: s.id.to_string(),
                message,
            };
            if !seen.insert(s.id.clone()) {
                return Err(err("the id is used twice; ids must be unique".into()));
            }
            if !self.groups.contains_key(&s.group) {
                return Err(err(format!(
                    "group {:?} is not defined; add [groups.{}] with a schedule",
                    s.group, s.group
                )));
            }
            match &s.kind {
                SourceKind::TelegramChannel(tc) => {
                    if tc.channel.is_empty()
                        || !tc
                            .channel
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        return Err(err(format!(
                            "channel {:?} is not a public channel username (letters, digits, '_')",
                            tc.channel
                        )));
                    }
                    if tc.rules.is_empty() {
                        return Err(err(
                            "a telegram_channel source needs at least one [[sources.rules]]".into(),
                        ));
                    }
                    if let Some(sep) = tc.decimal_separator
                        && sep != '.'
                        && sep != ','
                    {
                        return Err(err("decimal_separator must be \".\" or \",\"".into()));
                    }
                    for (i, rule) in tc.rules.iter().enumerate() {
                        let names: Vec<&str> = rule.pattern.capture_names().flatten().collect();
                        if !names.contains(&"amount") {
                            return Err(err(format!(
                                "rule {} has no (?P<amount>...) group",
                                i + 1
                            )));
                        }
                        if !names.contains(&"item") && rule.item.is_none() {
                            return Err(err(format!(
                                "rule {} needs a (?P<item>...) group or an `item = \"label\"`",
                                i + 1
                            )));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    pub fn source(&self, id: &str) -> Option<&SourceConfig> {
        self.sources.iter().find(|s| s.id.as_str() == id)
    }

    /// The enabled sources of one group.
    pub fn group_sources<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a SourceConfig> {
        self.sources
            .iter()
            .filter(move |s| s.enabled && s.group == group)
    }

    /// Points every source at `base` instead of its real host (tests, `serve --demo`).
    pub fn rebase(&mut self, base: &Url) {
        for s in &mut self.sources {
            match &mut s.kind {
                SourceKind::TelegramChannel(tc) => tc.base_url = base.clone(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[groups.gold]
schedule = "rate(15 minutes)"

[[sources]]
id = "tg-a"
name = "A"
group = "gold"
kind = "telegram_channel"
channel = "a_gold"
default_currency = "DZD"
[[sources.rules]]
pattern = '(?P<item>\d+k)\s*:\s*(?P<amount>[\d .,]+)'
"#;

    #[test]
    fn default_sources_file_is_valid() {
        let c = SourcesConfig::default_sources();
        assert!(!c.sources.is_empty());
        assert!(!c.groups.is_empty());
    }

    #[test]
    fn good_file_loads() {
        let c = SourcesConfig::from_toml(GOOD).unwrap();
        assert_eq!(c.group_sources("gold").count(), 1);
    }

    #[test]
    fn mistakes_are_reported_with_where_and_what_to_do() {
        let e = SourcesConfig::from_toml(&GOOD.replace("group = \"gold\"", "group = \"silver\""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("tg-a") && e.contains("[groups.silver]"), "{e}");
        let e = SourcesConfig::from_toml(&GOOD.replace("(?P<amount>", "(?P<price>"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("amount"), "{e}");
        let e = SourcesConfig::from_toml(&GOOD.replace("DZD", "DINAR"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("ISO 4217"), "{e}");
        let e = SourcesConfig::from_toml(&GOOD.replace("rate(15 minutes)", "every 15 minutes"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("rate("), "{e}");
        let twice = format!("{GOOD}\n{}", &GOOD[GOOD.find("[[sources]]").unwrap()..]);
        assert!(
            SourcesConfig::from_toml(&twice)
                .unwrap_err()
                .to_string()
                .contains("twice")
        );
        assert!(SourcesConfig::from_toml("[[sources]]\nid = 3").is_err());
        assert!(SourcesConfig::from_toml("not toml [").is_err());
    }
}
