//! `sources.toml`: the sources pricehound reads and the schedule groups that
//! fire them. Loading validates everything a typo could break (unknown
//! group, duplicate id, a rule without an `amount` group) and says where.

use crate::pattern::Pattern;
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::{Arc, OnceLock};
use url::Url;

use super::css::Css;
use super::listing::{QualityFilters, SeriesRule};
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
    /// Follow the site's robots.txt (the default). Set to false only for a
    /// site whose owner agreed, or an API meant to be polled.
    #[serde(default = "yes")]
    pub respect_robots: bool,
    /// Listings dropped before they are stored (blacklisted words, price bounds).
    #[serde(default)]
    pub filters: QualityFilters,
    /// Name patterns that put items into a series for statistics.
    #[serde(default)]
    pub series: Vec<SeriesRule>,
    #[serde(flatten)]
    pub kind: SourceKind,
}

fn yes() -> bool {
    true
}

/// One variant per source adapter in this crate.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SourceKind {
    TelegramChannel(TelegramChannelConfig),
    // Boxed: selectors make this variant several times larger than the others.
    HtmlCatalog(Box<HtmlCatalogConfig>),
    ProductPage(ProductPageConfig),
    JsonApi(JsonApiConfig),
}

impl SourceKind {
    pub fn name(&self) -> &'static str {
        match self {
            SourceKind::TelegramChannel(_) => "telegram_channel",
            SourceKind::HtmlCatalog(_) => "html_catalog",
            SourceKind::ProductPage(_) => "product_page",
            SourceKind::JsonApi(_) => "json_api",
        }
    }
}

/// Catalogue or search-result pages described by CSS selectors (a tobacco
/// shop's brand pages, a marketplace search).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HtmlCatalogConfig {
    /// The first page of each listing to read (a brand page, a search URL).
    pub urls: Vec<Url>,
    /// Pages to follow through `selectors.next_page`, per start URL.
    #[serde(default = "default_max_pages")]
    pub max_pages: u32,
    /// The currency of prices whose text names none.
    pub currency: Currency,
    #[serde(default)]
    pub decimal_separator: Option<char>,
    pub selectors: CatalogSelectors,
    /// What identifies an item; default: its URL (`selectors.url`).
    #[serde(default)]
    pub key: Option<Css>,
    /// Text in `selectors.availability` (case-insensitive) that means "out of stock".
    #[serde(default = "default_out_of_stock_words")]
    pub out_of_stock_words: Vec<String>,
}

/// Selectors of a catalogue page. All but `item` are relative to one item
/// element; `page_brand`, `next_page` and `empty` to the whole page. Write
/// `css@attr` to read an attribute (`url` defaults to `href`, `image` to `src`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSelectors {
    pub item: Css,
    pub name: Css,
    #[serde(default)]
    pub price: Option<Css>,
    #[serde(default)]
    pub url: Option<Css>,
    #[serde(default)]
    pub image: Option<Css>,
    #[serde(default)]
    pub brand: Option<Css>,
    /// The brand of every item on the page (a brand page's heading).
    #[serde(default)]
    pub page_brand: Option<Css>,
    #[serde(default)]
    pub availability: Option<Css>,
    #[serde(default)]
    pub next_page: Option<Css>,
    /// Matches on a legitimately empty page ("no results"), so zero items
    /// is not mistaken for a changed layout.
    #[serde(default)]
    pub empty: Option<Css>,
}

/// One product URL. The price comes from schema.org JSON-LD, then
/// microdata, then OpenGraph, unless `price_selector` overrides them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPageConfig {
    pub url: Url,
    /// The currency when the page names none.
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub decimal_separator: Option<char>,
    #[serde(default)]
    pub price_selector: Option<Css>,
    #[serde(default)]
    pub name_selector: Option<Css>,
    #[serde(default)]
    pub availability_selector: Option<Css>,
    /// Text in `availability_selector` (case-insensitive) that means "out of stock".
    #[serde(default = "default_out_of_stock_words")]
    pub out_of_stock_words: Vec<String>,
}

impl ProductPageConfig {
    /// A page read by its structured data alone (JSON-LD, microdata,
    /// OpenGraph): what a page pasted into the bot gets.
    pub fn for_url(url: Url) -> Self {
        ProductPageConfig {
            url,
            currency: None,
            decimal_separator: None,
            price_selector: None,
            name_selector: None,
            availability_selector: None,
            out_of_stock_words: default_out_of_stock_words(),
        }
    }
}

/// A JSON document read with JSON Pointers (RFC 6901), e.g. a spot metal feed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonApiConfig {
    pub url: Url,
    /// Pointer to the array of items; omit when the document is one item.
    #[serde(default)]
    pub items: Option<String>,
    /// Pointer (within an item) to the price: a number or a price string.
    pub price: String,
    /// Pointer to the item's id; or a fixed `item_key` for a one-item feed.
    /// (`id_pointer`, not `id`: the source's own `id` shares the table.)
    #[serde(default)]
    pub id_pointer: Option<String>,
    #[serde(default)]
    pub item_key: Option<String>,
    /// Pointer to the item's name; or a fixed `item_name`.
    #[serde(default)]
    pub name_pointer: Option<String>,
    #[serde(default)]
    pub item_name: Option<String>,
    /// Pointer to the currency code; or a fixed `currency`.
    #[serde(default)]
    pub currency_pointer: Option<String>,
    #[serde(default)]
    pub currency: Option<Currency>,
    #[serde(default)]
    pub decimal_separator: Option<char>,
}

fn default_out_of_stock_words() -> Vec<String> {
    [
        "out of stock",
        "sold out",
        "unavailable",
        "нет в наличии",
        "распродано",
        "изчерпан",
        "няма наличност",
        "épuisé",
        "rupture",
        "indisponible",
        "غير متوفر",
        "نفدت",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
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
    pub pattern: Pattern,
    /// A fixed item label, for rules whose regex has no `item` group.
    #[serde(default)]
    pub item: Option<String>,
    /// Series template: `{item}` is replaced by the item label's slug and
    /// `{<group>}` by the slug of that named group, e.g. `gold-{karat}k`.
    #[serde(default)]
    pub series: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    groups: BTreeMap<String, Group>,
    #[serde(default)]
    sources: Vec<SourceConfig>,
}

/// The sources a process serves, shared: a file named by the operator is
/// read (and checked) at start, and the compiled-in default on first use.
/// Reading the default is the largest step of the api Lambda's init (its
/// TOML: about 0.5 ms, bench `api_init`), and most requests (health, prices,
/// items, search) never look at the sources; it cannot fail (tested).
#[derive(Clone)]
pub struct Sources(Arc<OnceLock<Arc<SourcesConfig>>>);

impl Sources {
    /// `path`'s file, read now, or the compiled-in default, read when first used.
    pub fn load_or_default(path: Option<&Path>) -> Result<Sources, ConfigError> {
        match path {
            Some(path) => SourcesConfig::load(path).map(Sources::from),
            None => Ok(Sources::builtin()),
        }
    }

    /// The compiled-in `sources.toml`, read on first use.
    pub fn builtin() -> Sources {
        Sources(Arc::new(OnceLock::new()))
    }

    /// The configuration (read now if it is the default and was not yet).
    pub fn shared(&self) -> Arc<SourcesConfig> {
        self.get().clone()
    }

    fn get(&self) -> &Arc<SourcesConfig> {
        self.0
            .get_or_init(|| Arc::new(SourcesConfig::default_sources()))
    }
}

impl std::ops::Deref for Sources {
    type Target = SourcesConfig;

    fn deref(&self) -> &SourcesConfig {
        self.get()
    }
}

impl From<Arc<SourcesConfig>> for Sources {
    fn from(config: Arc<SourcesConfig>) -> Sources {
        Sources(Arc::new(OnceLock::from(config)))
    }
}

impl From<SourcesConfig> for Sources {
    fn from(config: SourcesConfig) -> Sources {
        Sources::from(Arc::new(config))
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.get() {
            Some(config) => config.fmt(f),
            None => f.write_str("Sources(the compiled-in default, not read yet)"),
        }
    }
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

    /// A sources file, every pattern compiled at once so that its errors
    /// show at start (the compiled-in default is tested, and compiles each
    /// pattern when a scrape first uses it).
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let config = Self::from_toml(&text)?;
        config.compile_patterns()?;
        Ok(config)
    }

    /// Builds every pattern's automaton now; the first that cannot be built.
    pub fn compile_patterns(&self) -> Result<(), ConfigError> {
        for s in &self.sources {
            let rules = match &s.kind {
                SourceKind::TelegramChannel(tc) => tc.rules.iter().map(|r| &r.pattern).collect(),
                _ => Vec::new(),
            };
            for pattern in rules.into_iter().chain(s.series.iter().map(|r| &r.pattern)) {
                pattern.regex().map_err(|e| ConfigError::Source {
                    source_id: s.id.to_string(),
                    message: format!("pattern {:?}: {e}", pattern.as_str()),
                })?;
            }
        }
        Ok(())
    }

    /// The variable naming a sources file (`PRICEHOUND_SOURCES_FILE`).
    pub const FILE_VAR: &'static str = "PRICEHOUND_SOURCES_FILE";

    /// The file `PRICEHOUND_SOURCES_FILE` names, read with `var` (the app's
    /// settings and the scrape function both read it through here).
    pub fn file_from_vars(var: &dyn Fn(&str) -> Option<String>) -> Option<std::path::PathBuf> {
        var(Self::FILE_VAR)
            .filter(|v| !v.trim().is_empty())
            .map(std::path::PathBuf::from)
    }

    /// `path` if given, else the `sources.toml` compiled into the binary
    /// (so a deploy needs no extra file).
    pub fn load_or_default(path: Option<&Path>) -> Result<Self, ConfigError> {
        match path {
            Some(path) => SourcesConfig::load(path),
            None => Ok(SourcesConfig::default_sources()),
        }
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
                    check_separator(tc.decimal_separator).map_err(err)?;
                    for (i, rule) in tc.rules.iter().enumerate() {
                        let names: Vec<&str> = rule.pattern.capture_names().collect();
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
                SourceKind::HtmlCatalog(c) => {
                    if c.urls.is_empty() {
                        return Err(err(
                            "an html_catalog source needs at least one URL in `urls`".into(),
                        ));
                    }
                    for u in &c.urls {
                        check_url(u).map_err(err)?;
                    }
                    check_separator(c.decimal_separator).map_err(err)?;
                    if c.selectors.price.is_none() && c.selectors.availability.is_none() {
                        return Err(err(
                            "selectors need a `price` (or at least `availability`)".into()
                        ));
                    }
                }
                SourceKind::ProductPage(c) => {
                    check_url(&c.url).map_err(err)?;
                    check_separator(c.decimal_separator).map_err(err)?;
                }
                SourceKind::JsonApi(c) => {
                    check_url(&c.url).map_err(err)?;
                    check_separator(c.decimal_separator).map_err(err)?;
                    for p in [
                        Some(&c.price),
                        c.items.as_ref(),
                        c.id_pointer.as_ref(),
                        c.name_pointer.as_ref(),
                        c.currency_pointer.as_ref(),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        if !p.is_empty() && !p.starts_with('/') {
                            return Err(err(format!(
                                "{p:?} is not a JSON Pointer: it must start with '/' (e.g. \"/items/0/price\")"
                            )));
                        }
                    }
                    if c.id_pointer.is_none() && c.item_key.is_none() {
                        return Err(err(
                            "a json_api source needs `id_pointer` or a fixed `item_key`".into(),
                        ));
                    }
                    if c.name_pointer.is_none() && c.item_name.is_none() {
                        return Err(err(
                            "a json_api source needs `name_pointer` or a fixed `item_name`".into(),
                        ));
                    }
                    if c.currency_pointer.is_none() && c.currency.is_none() {
                        return Err(err(
                            "a json_api source needs `currency_pointer` or `currency`".into(),
                        ));
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

    /// Points every source at `base` instead of its real host, keeping paths
    /// and queries (tests, `serve --demo`).
    pub fn rebase(&mut self, base: &Url) {
        for s in &mut self.sources {
            match &mut s.kind {
                SourceKind::TelegramChannel(tc) => tc.base_url = base.clone(),
                SourceKind::HtmlCatalog(c) => {
                    for u in &mut c.urls {
                        *u = rebase_url(u, base);
                    }
                }
                SourceKind::ProductPage(c) => c.url = rebase_url(&c.url, base),
                SourceKind::JsonApi(c) => c.url = rebase_url(&c.url, base),
            }
        }
    }
}

/// `url` with the scheme, host and port of `base`.
pub fn rebase_url(url: &Url, base: &Url) -> Url {
    let mut out = base.clone();
    out.set_path(url.path());
    out.set_query(url.query());
    out
}

fn check_url(u: &Url) -> Result<(), String> {
    match u.scheme() {
        "http" | "https" if u.host().is_some() => Ok(()),
        _ => Err(format!("{u} is not an http(s) URL")),
    }
}

fn check_separator(sep: Option<char>) -> Result<(), String> {
    match sep {
        None | Some('.') | Some(',') => Ok(()),
        Some(_) => Err("decimal_separator must be \".\" or \",\"".into()),
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
        // Its patterns are built on first use: every one of them builds.
        c.compile_patterns().unwrap();
    }

    #[test]
    fn a_file_with_a_pattern_that_cannot_be_built_fails_to_load() {
        let dir = std::env::temp_dir().join(format!("sources-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("huge.toml");
        // Too big an automaton, and a Unicode class that does not exist
        // (the syntax check at parse time reads neither).
        for bad in [r"(?P<item>\w{1000}{1000})", r"(?P<item>\p{Nope}+)"] {
            std::fs::write(&path, GOOD.replace(r"(?P<item>\d+k)", bad)).unwrap();
            let err = SourcesConfig::load(&path).unwrap_err().to_string();
            assert!(
                err.contains("tg-a") && err.contains("pattern"),
                "{bad}: {err}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_default_is_read_on_first_use_and_a_file_at_once() {
        let lazy = Sources::load_or_default(None).unwrap();
        assert!(lazy.0.get().is_none(), "not read before it is used");
        let copy = lazy.clone();
        assert_eq!(
            lazy.sources.len(),
            SourcesConfig::default_sources().sources.len()
        );
        assert!(
            Arc::ptr_eq(&lazy.shared(), &copy.shared()),
            "read once, shared by clones"
        );
        let dir = std::env::temp_dir().join(format!("sources-lazy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bad.toml");
        std::fs::write(
            &path,
            GOOD.replace("group = \"gold\"", "group = \"silver\""),
        )
        .unwrap();
        assert!(
            Sources::load_or_default(Some(&path)).is_err(),
            "a bad file fails at start"
        );
        std::fs::write(&path, GOOD).unwrap();
        let file = Sources::load_or_default(Some(&path)).unwrap();
        assert!(file.0.get().is_some());
        let _ = std::fs::remove_dir_all(&dir);
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
