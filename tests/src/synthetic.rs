//! A synthetic catalogue of any size for the store benchmarks
//! (`benches/store_scale.rs`): items with realistic names, brands and
//! series across several sources, a few observations of each, and alerts
//! spread over items and series. Everything is a pure function of the
//! item's (or alert's) index, so a process that only reads the store can
//! name the items another process wrote without asking it.
//!
//! The shape: four categories (graphics cards and phones on marketplaces
//! and shops, hookah tobacco catalogues, gold quotes from jewelers'
//! Telegram channels), two sources each. Within a category the model is
//! drawn with Zipf weights (the first model is the most common), so a few
//! series are big (tens of thousands of items at a million) and most are
//! small, as with real listings. One item in five has no series (a
//! listing nobody matched to a model).

use chrono::{DateTime, Duration, Utc};
use pricehound::domain::user::{Alert, AlertId, AlertRule, AlertTarget, UserId};
use pricehound::domain::{
    Availability, Checkpoint, Currency, ItemDetails, ItemId, Money, Observation, Provenance,
    SeriesId, SourceId, slug,
};
use pricehound::domain::{LastChange, LatestPrice};
use pricehound::store::sqlite::SqliteStore;
use pricehound::store::{HistoryQuery, LatestQuery, Page, Recorded, Store, StoreError, rules};
use rust_decimal::Decimal;
use std::path::Path;

/// SplitMix64: a fixed, fast mix of a 64-bit value.
pub fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn mix2(a: u64, b: u64) -> u64 {
    mix(mix(a) ^ b.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A model: its name (after the brand), its series (None: brand and name
/// slugged together), its base price in the category's currency, and its
/// brand when the model has one maker (None: one of the category's brands).
struct Model {
    brand: Option<&'static str>,
    name: &'static str,
    series: Option<&'static str>,
    price: u32,
}

const fn m(
    brand: Option<&'static str>,
    name: &'static str,
    series: Option<&'static str>,
    price: u32,
) -> Model {
    Model {
        brand,
        name,
        series,
        price,
    }
}

struct Category {
    sources: [&'static str; 2],
    currency: &'static str,
    /// Out of 100.
    weight: u64,
    /// Decimal places of its prices.
    scale: u32,
    brands: &'static [&'static str],
    models: &'static [Model],
    variants: &'static [&'static str],
    /// Read from Telegram channels (posts) rather than web pages.
    telegram: bool,
}

const GPU_BRANDS: &[&str] = &[
    "ASUS",
    "MSI",
    "Gigabyte",
    "Palit",
    "Zotac",
    "PNY",
    "Inno3D",
    "Gainward",
    "Sapphire",
    "PowerColor",
    "XFX",
];
const GPUS: &[Model] = &[
    m(None, "GeForce RTX 4070 12GB", Some("rtx-4070"), 599),
    m(None, "GeForce RTX 4060 8GB", Some("rtx-4060"), 299),
    m(
        None,
        "GeForce RTX 4070 Super 12GB",
        Some("rtx-4070-super"),
        619,
    ),
    m(None, "GeForce RTX 4060 Ti 16GB", Some("rtx-4060-ti"), 449),
    m(None, "GeForce RTX 3060 12GB", Some("rtx-3060"), 279),
    m(
        None,
        "GeForce RTX 4080 Super 16GB",
        Some("rtx-4080-super"),
        999,
    ),
    m(None, "Radeon RX 7800 XT 16GB", Some("rx-7800-xt"), 499),
    m(None, "GeForce RTX 4090 24GB", Some("rtx-4090"), 1799),
    m(None, "Radeon RX 7600 8GB", Some("rx-7600"), 259),
    m(None, "GeForce RTX 3070 8GB", Some("rtx-3070"), 329),
    m(None, "Radeon RX 7900 XTX 24GB", Some("rx-7900-xtx"), 949),
    m(
        None,
        "GeForce RTX 4070 Ti Super 16GB",
        Some("rtx-4070-ti-super"),
        799,
    ),
    m(None, "Radeon RX 7700 XT 12GB", Some("rx-7700-xt"), 419),
    m(None, "GeForce RTX 3080 10GB", Some("rtx-3080"), 449),
    m(None, "Radeon RX 6700 XT 12GB", Some("rx-6700-xt"), 309),
    m(None, "Arc A770 16GB", Some("arc-a770"), 279),
];
const GPU_VARIANTS: &[&str] = &[
    "Dual OC",
    "Gaming X Trio",
    "Eagle OC",
    "TUF Gaming",
    "ROG Strix",
    "Ventus 2X",
    "AMP",
    "JetStream",
    "Windforce",
    "Pulse",
    "Nitro+",
    "Phantom",
    "Twin Edge",
    "Aero OC",
    "Used, boxed",
];

const PHONES: &[Model] = &[
    m(Some("Apple"), "iPhone 15 Pro", Some("iphone-15-pro"), 999),
    m(
        Some("Samsung"),
        "Galaxy S24 Ultra",
        Some("galaxy-s24-ultra"),
        1199,
    ),
    m(Some("Apple"), "iPhone 15", Some("iphone-15"), 799),
    m(
        Some("Xiaomi"),
        "Redmi Note 13 Pro",
        Some("redmi-note-13-pro"),
        329,
    ),
    m(Some("Samsung"), "Galaxy A54", Some("galaxy-a54"), 349),
    m(Some("Apple"), "iPhone 14", Some("iphone-14"), 629),
    m(Some("Google"), "Pixel 8 Pro", Some("pixel-8-pro"), 899),
    m(
        Some("Apple"),
        "iPhone 15 Pro Max",
        Some("iphone-15-pro-max"),
        1199,
    ),
    m(Some("Samsung"), "Galaxy S24", Some("galaxy-s24"), 799),
    m(Some("Xiaomi"), "14 Ultra", Some("xiaomi-14-ultra"), 1299),
    m(Some("Google"), "Pixel 8", Some("pixel-8"), 599),
    m(Some("OnePlus"), "12", Some("oneplus-12"), 799),
    m(Some("Apple"), "iPhone 13", Some("iphone-13"), 499),
    m(Some("Nothing"), "Phone (2)", Some("nothing-phone-2"), 549),
    m(
        Some("Samsung"),
        "Galaxy Z Flip5",
        Some("galaxy-z-flip5"),
        999,
    ),
    m(Some("Motorola"), "Edge 40", Some("motorola-edge-40"), 449),
];
const PHONE_VARIANTS: &[&str] = &[
    "128GB Black",
    "256GB Blue",
    "256GB Natural Titanium",
    "512GB White",
    "128GB Green",
    "256GB Graphite, refurbished",
    "1TB Black Titanium",
    "128GB Pink",
    "256GB Cream",
];

const TOBACCO_BRANDS: &[&str] = &[
    "Darkside",
    "Al Fakher",
    "Musthave",
    "Tangiers",
    "Element",
    "Black Burn",
    "Duft",
    "Sebero",
    "Fumari",
    "Starbuzz",
];
const TOBACCO: &[Model] = &[
    m(None, "Cola", None, 1100),
    m(None, "Mint", None, 950),
    m(None, "Double Apple", None, 990),
    m(None, "Grape", None, 1000),
    m(None, "Watermelon", None, 1050),
    m(None, "Blueberry", None, 1020),
    m(None, "Lemon Pie", None, 1150),
    m(None, "Mango Lassi", None, 1200),
    m(None, "Peach Iced Tea", None, 1180),
    m(None, "Cherry", None, 990),
    m(None, "Pineapple", None, 1010),
    m(None, "Kiwi Smoothie", None, 1170),
    m(None, "Strawberry Lychee", None, 1190),
    m(None, "Orange Cream", None, 1080),
    m(None, "Bergamot", None, 1060),
    m(None, "Banana Split", None, 1130),
];
const TOBACCO_VARIANTS: &[&str] = &[
    "25 g",
    "100 g",
    "200 g",
    "250 g",
    "Strong 100 g",
    "Medium 250 g",
];

const GOLD: &[Model] = &[
    m(None, "Gold 750 (18k) per gram", Some("gold-750"), 14_500),
    m(None, "Gold 585 (14k) per gram", Some("gold-585"), 11_200),
    m(None, "Gold 916 (22k) per gram", Some("gold-916"), 17_600),
    m(None, "Gold 999 (24k) per gram", Some("gold-999"), 19_300),
    m(None, "Gold 375 (9k) per gram", Some("gold-375"), 7_300),
];
const GOLD_VARIANTS: &[&str] = &[
    "buy",
    "sell",
    "ring",
    "chain",
    "bracelet",
    "earrings",
    "scrap",
    "new jewellery",
    "Italian chain",
];

const CATEGORIES: &[Category] = &[
    Category {
        sources: ["gpu-market", "gpu-shop"],
        currency: "USD",
        weight: 30,
        scale: 2,
        brands: GPU_BRANDS,
        models: GPUS,
        variants: GPU_VARIANTS,
        telegram: false,
    },
    Category {
        sources: ["phone-market", "phone-shop"],
        currency: "EUR",
        weight: 30,
        scale: 2,
        brands: &[],
        models: PHONES,
        variants: PHONE_VARIANTS,
        telegram: false,
    },
    Category {
        sources: ["hookah-catalog", "tobacco-store"],
        currency: "RUB",
        weight: 30,
        scale: 0,
        brands: TOBACCO_BRANDS,
        models: TOBACCO,
        variants: TOBACCO_VARIANTS,
        telegram: false,
    },
    Category {
        sources: ["tg-gold-alger", "tg-gold-oran"],
        currency: "DZD",
        weight: 10,
        scale: 0,
        brands: &[
            "Bijouterie Amine",
            "Or du Sahel",
            "Bijoux Yasmine",
            "Atlas Or",
        ],
        models: GOLD,
        variants: GOLD_VARIANTS,
        telegram: true,
    },
];

/// Words that find something in every catalogue of this module (typos and
/// joined model numbers included): the search benchmark's queries.
pub const QUERIES: &[&str] = &[
    "rtx 4070",
    "darkside cola",
    "iphone 15 pro",
    "gold 750",
    "al fakher mint",
    "rtx4070",
    "darksid",
    "galaxy s24 ultra",
    "gaming x trio",
    "musthave grape",
    "pixel 8 pro 256",
    "rx 7800 xt",
    "iphon 15",
    "chain 585",
    "tangiers watermelon 250",
    "palit dual",
];

/// One synthetic item.
#[derive(Debug, Clone)]
pub struct ItemSpec {
    pub index: usize,
    pub source: SourceId,
    pub id: ItemId,
    pub name: String,
    pub brand: Option<String>,
    pub series: Option<SeriesId>,
    pub currency: Currency,
    /// Its typical price.
    pub base: Decimal,
    scale: u32,
    telegram: bool,
}

/// A catalogue of `items` items with `points` observations each and as
/// many alerts as items, observed up to `now`.
#[derive(Debug, Clone)]
pub struct Synthetic {
    pub items: usize,
    pub points: usize,
    pub now: DateTime<Utc>,
}

/// The observations lie in the 6 days before `now` (inside the default 7
/// day window of a series' statistics), the last an hour before it at most.
const SPAN_HOURS: i64 = 6 * 24;

/// One alert in this many is on a series ("a new listing under a price"),
/// the rest on items.
pub const SERIES_ALERT_EVERY: u64 = 50;

fn zipf_pick(len: usize, u: u64) -> usize {
    // Weights 1/(r+1); the total for up to 16 models is small, so a scan.
    let total: f64 = (0..len).map(|r| 1.0 / (r as f64 + 1.0)).sum();
    let mut x = (u >> 11) as f64 / (1u64 << 53) as f64 * total;
    for r in 0..len {
        x -= 1.0 / (r as f64 + 1.0);
        if x < 0.0 {
            return r;
        }
    }
    len - 1
}

fn category_of(u: u64) -> &'static Category {
    let mut x = u % 100;
    for c in CATEGORIES {
        if x < c.weight {
            return c;
        }
        x -= c.weight;
    }
    &CATEGORIES[0]
}

/// `amount` scaled by `permille`/1000, rounded to `scale` places.
fn scaled(amount: Decimal, permille: i64, scale: u32) -> Decimal {
    (amount * Decimal::new(permille, 3)).round_dp(scale)
}

impl Synthetic {
    pub fn new(items: usize, points: usize, now: DateTime<Utc>) -> Self {
        Synthetic { items, points, now }
    }

    /// Item `i` (0-based).
    pub fn item(&self, i: usize) -> ItemSpec {
        let h = mix2(1, i as u64);
        let cat = category_of(h);
        let source = cat.sources[(mix2(2, i as u64) & 1) as usize];
        let model = &cat.models[zipf_pick(cat.models.len(), mix2(3, i as u64))];
        let brand = model
            .brand
            .unwrap_or_else(|| cat.brands[(mix2(4, i as u64) % cat.brands.len() as u64) as usize]);
        let variant = cat.variants[(mix2(5, i as u64) % cat.variants.len() as u64) as usize];
        let name = format!("{brand} {} {variant}", model.name);
        // One in five is not matched to a model.
        let series = (!mix2(6, i as u64).is_multiple_of(5)).then(|| {
            let id = match model.series {
                Some(s) => s.to_string(),
                None => slug(&format!("{brand} {}", model.name)),
            };
            SeriesId::new(id).expect("series ids of the catalogue are valid")
        });
        // Brand and variant move the price by -10 % to +30 %.
        let permille = 900 + (mix2(7, i as u64) % 400) as i64;
        let base = scaled(Decimal::from(model.price), permille, cat.scale);
        let source = SourceId::new(source).expect("valid source id");
        let id = ItemId::for_source(&source, &format!("{name} {i}")).expect("valid item id");
        ItemSpec {
            index: i,
            source,
            id,
            name,
            brand: Some(brand.to_string()),
            series,
            currency: Currency::new(cat.currency).expect("valid currency"),
            base,
            scale: cat.scale,
            telegram: cat.telegram,
        }
    }

    /// Observation `j` (0-based, oldest first) of item `i`.
    pub fn observation(&self, i: usize, j: usize) -> Observation {
        let item = self.item(i);
        let start = self.now - Duration::hours(SPAN_HOURS);
        let step = SPAN_HOURS * 60 / self.points.max(1) as i64;
        let jitter = (mix2(8 + j as u64, i as u64) % 50) as i64;
        let observed_at = start + Duration::minutes(step * j as i64 + jitter);
        let observed_at = observed_at.min(self.now - Duration::hours(1));
        // The price walks within ±5 % of the base.
        let permille = 950 + (mix2(100 + j as u64, i as u64) % 101) as i64;
        let price = Money::new(scaled(item.base, permille, item.scale), item.currency);
        let provenance = if item.telegram {
            Provenance::TelegramPost {
                channel: item.source.as_str().replace('-', "_"),
                post_id: (i * self.points + j + 1) as u64,
            }
        } else {
            Provenance::Page {
                url: format!("https://{}.example/listing/{i}", item.source),
                fetched_at: observed_at,
            }
        };
        let details = ItemDetails {
            url: (!item.telegram).then(|| format!("https://{}.example/listing/{i}", item.source)),
            image: None,
            brand: item.brand.clone(),
        };
        let obs = Observation::new(
            item.source.clone(),
            item.id.clone(),
            item.name.clone(),
            item.series.clone(),
            price,
            observed_at,
            provenance,
        )
        .with_details(details);
        if item.telegram {
            obs
        } else if j + 1 == self.points && mix2(9, i as u64).is_multiple_of(33) {
            // About 3 % are sold out now: no price shown.
            obs.without_price()
                .with_availability(Availability::OutOfStock)
        } else {
            obs.with_availability(Availability::InStock)
        }
    }

    /// The series alert `k` would be on, if it is a series alert.
    fn series_of_alert(&self, k: usize) -> Option<SeriesId> {
        if !mix2(10, k as u64).is_multiple_of(SERIES_ALERT_EVERY) {
            return None;
        }
        // Drawn like an item's series: the series of a random item (one
        // that has a series), so big series get most of the alerts.
        (0..)
            .map(|t| self.item((mix2(11 + t, k as u64) % self.items as u64) as usize))
            .find_map(|it| it.series)
    }

    /// Alert `k` (0-based): active and armed, by user `k / 4` (four alerts
    /// each), on a random item or (one in [`SERIES_ALERT_EVERY`]) a series.
    pub fn alert(&self, k: usize) -> Alert {
        // A deterministic 10-character base32 id (what AlertId::random makes).
        const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let bits = mix2(12, k as u64);
        let id: String = (0..10)
            .map(|c| ALPHABET[((bits >> (5 * c)) & 31) as usize] as char)
            .collect();
        let id = AlertId::try_from(id).expect("valid alert id");
        let user = UserId(1_000_000_000 + (k / 4) as i64);
        let created_at = self.now - Duration::hours(SPAN_HOURS + 24);
        let (target, rule, reference) = match self.series_of_alert(k) {
            Some(series) => {
                let item = (0..)
                    .map(|t| self.item((mix2(11 + t, k as u64) % self.items as u64) as usize))
                    .find(|it| it.series.is_some())
                    .expect("the alert's series came from an item");
                let under = Money::new(scaled(item.base, 850, item.scale), item.currency);
                (
                    AlertTarget::Series(series),
                    AlertRule::NewListingUnder { price: under },
                    None,
                )
            }
            None => {
                let item = self.item((mix2(13, k as u64) % self.items as u64) as usize);
                let at =
                    |permille| Money::new(scaled(item.base, permille, item.scale), item.currency);
                let target = AlertTarget::Item(item.id.clone());
                match mix2(14, k as u64) % 4 {
                    0 => (target, AlertRule::Below { price: at(900) }, None),
                    1 => (target, AlertRule::Above { price: at(1150) }, None),
                    2 => (
                        target,
                        AlertRule::Drop {
                            percent: Decimal::from(10),
                        },
                        Some(at(1000)),
                    ),
                    _ => (target, AlertRule::BackInStock, None),
                }
            }
        };
        Alert {
            id,
            user,
            target,
            rule,
            created_at,
            active: true,
            armed: true,
            reference_price: reference,
            last_fired_at: None,
        }
    }
}

/// A store that passes every call through to another but says it cannot tell
/// cheaply whether anything changed (`data_version` None), so the Router
/// keeps no whole answers over it: every request reaches the store, as
/// under the Lambda. What the benchmarks measure the store's cost with.
pub struct NoReadCache(pub std::sync::Arc<dyn Store>);

#[async_trait::async_trait]
impl Store for NoReadCache {
    fn backend(&self) -> &'static str {
        self.0.backend()
    }
    fn data_version(&self) -> Option<u64> {
        None
    }
    async fn record(&self, obs: &Observation) -> Result<Recorded, StoreError> {
        self.0.record(obs).await
    }
    async fn latest_prices(
        &self,
        query: &LatestQuery,
    ) -> Result<Page<pricehound::domain::LatestPrice>, StoreError> {
        self.0.latest_prices(query).await
    }
    async fn latest_price(
        &self,
        item: &ItemId,
    ) -> Result<Option<pricehound::domain::LatestPrice>, StoreError> {
        self.0.latest_price(item).await
    }
    async fn history(
        &self,
        item: &ItemId,
        query: &HistoryQuery,
    ) -> Result<Page<Observation>, StoreError> {
        self.0.history(item, query).await
    }
    async fn checkpoint(&self, source: &SourceId) -> Result<Option<Checkpoint>, StoreError> {
        self.0.checkpoint(source).await
    }
    async fn advance_checkpoint(&self, checkpoint: &Checkpoint) -> Result<(), StoreError> {
        self.0.advance_checkpoint(checkpoint).await
    }
    async fn series_observations(
        &self,
        series: &SeriesId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Observation>, StoreError> {
        self.0.series_observations(series, from, to).await
    }
    async fn list_series(&self) -> Result<Vec<pricehound::domain::SeriesSummary>, StoreError> {
        self.0.list_series().await
    }
    async fn record_source_run(
        &self,
        run: &pricehound::domain::SourceRun,
    ) -> Result<(), StoreError> {
        self.0.record_source_run(run).await
    }
    async fn source_health(
        &self,
        source: &SourceId,
    ) -> Result<Option<pricehound::domain::SourceHealth>, StoreError> {
        self.0.source_health(source).await
    }
    async fn ping(&self) -> Result<(), StoreError> {
        self.0.ping().await
    }
}

/// Writes the catalogue (observations round by round, as [`Store::record`]
/// would one by one, then the alerts, as `AlertStore::put_alert`) into the
/// SQLite database at `path` in one transaction on a connection of its
/// own: the rows `SqliteStore` writes, with the outbox's events already
/// relayed (so none), many times faster than a transaction per
/// observation. The store opens the file first, so the schema is its own.
/// [`check_bulk_sqlite`] proves the rows equal the store's.
///
/// Returns the seconds spent on the observations and on the alerts (with
/// the commit).
pub fn bulk_sqlite(path: &Path, synthetic: &Synthetic) -> Result<(f64, f64), String> {
    drop(SqliteStore::open(path).map_err(|e| e.to_string())?);
    let mut conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    // This connection only: no syncs, and a page cache that holds the
    // indexes of a million items (they do not change what is written).
    conn.pragma_update(None, "synchronous", "OFF")
        .map_err(|e| e.to_string())?;
    conn.pragma_update(None, "cache_size", -1_048_576)
        .map_err(|e| e.to_string())?;
    let tx = conn.transaction().map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    let observations_s;
    {
        // The statements of SqliteStore::record and ::put_alert.
        let mut obs_stmt = tx
            .prepare(
                "INSERT INTO observations (id, item_id, source_id, item_name, series, amount, currency, observed_at, provenance, availability, details)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO NOTHING",
            )
            .map_err(|e| e.to_string())?;
        let mut item_stmt = tx
            .prepare(
                "INSERT INTO items (id, source_id, name, series, latest_obs, latest_at, change_amount, change_currency, changed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, series = excluded.series,
                    latest_obs = excluded.latest_obs, latest_at = excluded.latest_at,
                    change_amount = excluded.change_amount, change_currency = excluded.change_currency,
                    changed_at = excluded.changed_at",
            )
            .map_err(|e| e.to_string())?;
        let mut alert_stmt = tx
            .prepare(
                "INSERT OR REPLACE INTO alerts (user_id, id, target_kind, target_id, rule, created_at, active, armed, reference_amount, reference_currency, last_fired_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )
            .map_err(|e| e.to_string())?;
        // The previous round's latest price of every item (what `record`
        // reads back before it writes).
        let mut latest: Vec<Option<LastChange>> = vec![None; synthetic.items];
        let mut prices: Vec<Option<Money>> = vec![None; synthetic.items];
        for j in 0..synthetic.points {
            for i in 0..synthetic.items {
                let obs = synthetic.observation(i, j);
                let change = if j == 0 {
                    None
                } else {
                    // The previous latest price, as far as LastChange::after
                    // looks at it: its price and its last change.
                    let mut previous = LatestPrice::from(&obs);
                    previous.price = prices[i].take();
                    previous.change = latest[i].take();
                    LastChange::after(Some(&previous), &obs)
                };
                let provenance =
                    serde_json::to_string(&obs.provenance).map_err(|e| e.to_string())?;
                let details = (!obs.details.is_empty())
                    .then(|| serde_json::to_string(&obs.details))
                    .transpose()
                    .map_err(|e| e.to_string())?;
                obs_stmt
                    .execute(rusqlite::params![
                        obs.id.as_str(),
                        obs.item_id.as_str(),
                        obs.source_id.as_str(),
                        obs.item_name,
                        obs.series.as_ref().map(|s| s.as_str()),
                        obs.price.as_ref().map(|p| p.amount.to_string()),
                        obs.price.as_ref().map(|p| p.currency.code().to_string()),
                        obs.observed_at.timestamp_millis(),
                        provenance,
                        obs.availability.as_str(),
                        details,
                    ])
                    .map_err(|e| e.to_string())?;
                item_stmt
                    .execute(rusqlite::params![
                        obs.item_id.as_str(),
                        obs.source_id.as_str(),
                        obs.item_name,
                        obs.series.as_ref().map(|s| s.as_str()),
                        obs.id.as_str(),
                        obs.observed_at.timestamp_millis(),
                        change.as_ref().map(|c| c.from.amount.to_string()),
                        change.as_ref().map(|c| c.from.currency.code().to_string()),
                        change.as_ref().map(|c| c.at.timestamp_millis()),
                    ])
                    .map_err(|e| e.to_string())?;
                latest[i] = change;
                prices[i] = obs.price;
                if (i + 1).is_multiple_of((synthetic.items / 4).max(1)) {
                    eprintln!(
                        "  bulk observations, round {}: {}/{} at {:.1} s",
                        j + 1,
                        i + 1,
                        synthetic.items,
                        started.elapsed().as_secs_f64()
                    );
                }
            }
        }
        observations_s = started.elapsed().as_secs_f64();
        for k in 0..synthetic.items {
            let alert = synthetic.alert(k);
            let (kind, target_id) = rules::alert_target_parts(&alert.target);
            let (amount, currency) = rules::money_parts(alert.reference_price.as_ref());
            alert_stmt
                .execute(rusqlite::params![
                    alert.user.0,
                    alert.id.as_str(),
                    kind,
                    target_id,
                    rules::alert_rule_json(&alert.rule),
                    alert.created_at.timestamp_millis(),
                    alert.active,
                    alert.armed,
                    amount,
                    currency,
                    alert.last_fired_at.map(|t| t.timestamp_millis()),
                ])
                .map_err(|e| e.to_string())?;
        }
    }
    tx.commit().map_err(|e| e.to_string())?;
    Ok((
        observations_s,
        started.elapsed().as_secs_f64() - observations_s,
    ))
}

/// Every row of every table of the database at `path` (but
/// `sqlite_sequence`: the outbox's counter, which only the events the
/// bulk writer never queued moved), sorted, with the schema.
pub fn sqlite_contents(path: &Path) -> Result<Vec<(String, Vec<String>)>, String> {
    let conn = rusqlite::Connection::open(path).map_err(|e| e.to_string())?;
    let tables: Vec<(String, String)> = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name <> 'sqlite_sequence' ORDER BY name")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()
        })
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (table, sql) in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{table}\""))
            .map_err(|e| e.to_string())?;
        let columns = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                let mut row = Vec::new();
                for c in 0..columns {
                    row.push(format!("{:?}", r.get_ref(c)?));
                }
                Ok(row.join("|"))
            })
            .and_then(|rows| rows.collect::<Result<_, _>>())
            .map_err(|e| e.to_string())?;
        rows.sort();
        rows.insert(0, sql);
        out.push((table, rows));
    }
    Ok(out)
}

/// Fills two databases under `dir` with a small catalogue like `like`
/// (same clock and points), one through the store API (`Store::record`,
/// the outbox relayed, `AlertStore::put_alert`) and one by [`bulk_sqlite`],
/// and fails unless every table holds the same rows.
pub async fn check_bulk_sqlite(dir: &Path, like: &Synthetic, items: usize) -> Result<(), String> {
    use pricehound::relay::EventOutbox;
    use pricehound::store::AlertStore;
    let small = Synthetic::new(items, like.points, like.now);
    let api_path = dir.join("check-api.db");
    let bulk_path = dir.join("check-bulk.db");
    {
        let store = SqliteStore::open(&api_path).map_err(|e| e.to_string())?;
        for j in 0..small.points {
            for i in 0..small.items {
                store
                    .record(&small.observation(i, j))
                    .await
                    .map_err(|e| e.to_string())?;
            }
            loop {
                let pending = store
                    .pending_events(10_000)
                    .await
                    .map_err(|e| e.to_string())?;
                if pending.is_empty() {
                    break;
                }
                let seqs: Vec<u64> = pending.iter().map(|p| p.seq).collect();
                store
                    .mark_published(&seqs)
                    .await
                    .map_err(|e| e.to_string())?;
            }
        }
        for k in 0..small.items {
            store
                .put_alert(&small.alert(k))
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    bulk_sqlite(&bulk_path, &small)?;
    let (api, bulk) = (sqlite_contents(&api_path)?, sqlite_contents(&bulk_path)?);
    for p in [&api_path, &bulk_path] {
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", p.display()));
        }
    }
    let names = |c: &[(String, Vec<String>)]| c.iter().map(|t| t.0.clone()).collect::<Vec<_>>();
    if names(&api) != names(&bulk) {
        return Err(format!(
            "tables differ: {:?} vs {:?}",
            names(&api),
            names(&bulk)
        ));
    }
    for ((table, a), (_, b)) in api.iter().zip(&bulk) {
        if a != b {
            let first = a.iter().zip(b).find(|(x, y)| x != y);
            return Err(format!(
                "table {table}: the store wrote {} rows, the bulk writer {}; first difference: {first:?}",
                a.len() - 1,
                b.len() - 1
            ));
        }
    }
    let rows: usize = api.iter().map(|t| t.1.len() - 1).sum();
    if rows < items * (like.points + 1) {
        return Err(format!("only {rows} rows compared"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_and_alerts_are_valid_and_stable() {
        let now = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let s = Synthetic::new(1000, 3, now);
        let mut series = std::collections::HashMap::new();
        for i in 0..1000 {
            let it = s.item(i);
            assert_eq!(it.id, s.item(i).id);
            *series.entry(it.series.clone()).or_insert(0) += 1;
            for j in 0..3 {
                let o = s.observation(i, j);
                assert!(o.observed_at < now);
                assert_eq!(o.item_id, it.id);
            }
            assert!(s.observation(i, 0).observed_at < s.observation(i, 1).observed_at);
        }
        assert!(series.len() > 20, "{series:?}");
        let a = s.alert(7);
        assert_eq!(a, s.alert(7));
        let on_series = (0..1000)
            .filter(|k| matches!(s.alert(*k).target, AlertTarget::Series(_)))
            .count();
        assert!((5..60).contains(&on_series), "{on_series}");
    }

    #[tokio::test]
    async fn the_bulk_writer_writes_what_the_store_writes() {
        let dir = std::env::temp_dir().join(crate::services::unique_name("bulk"));
        std::fs::create_dir_all(&dir).unwrap();
        let like = Synthetic::new(10, 3, Utc::now());
        check_bulk_sqlite(&dir, &like, 300).await.unwrap();
        // And the comparison sees a changed row.
        let (a, b) = (dir.join("a.db"), dir.join("b.db"));
        bulk_sqlite(&a, &like).unwrap();
        bulk_sqlite(&b, &like).unwrap();
        assert_eq!(sqlite_contents(&a).unwrap(), sqlite_contents(&b).unwrap());
        rusqlite::Connection::open(&b)
            .unwrap()
            .execute("UPDATE items SET change_amount = '1' WHERE rowid = 3", [])
            .unwrap();
        assert_ne!(sqlite_contents(&a).unwrap(), sqlite_contents(&b).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
