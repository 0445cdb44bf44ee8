//! The embedded store: one SQLite file (or memory, for tests).
//!
//! rusqlite is synchronous, so every call runs on the blocking pool behind
//! one mutex-guarded connection. WAL mode lets the API read while ingest
//! writes. Schema changes are migrations applied at open. The [`Store`]
//! half lives here, the [`UserStore`](pricehound_core::store::UserStore) half (the bot's users) in
//! `users.rs`.

mod users;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rusqlite_migration::{M, Migrations};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use pricehound_core::delayed::{Delayed, DelayedQueue};
use pricehound_core::domain::{
    Availability, Checkpoint, Currency, ItemDetails, ItemId, LastChange, LatestPrice, Money,
    Observation, ObservationId, SeriesId, SeriesSummary, SourceHealth, SourceId, SourceRun,
    USER_PAGE_PREFIX,
};
use pricehound_core::events::{DomainEvent, price_change};
use pricehound_core::relay::{EventOutbox, PendingEvent};
use pricehound_core::retention::{Prune, Pruned, Retention};
use pricehound_core::store::{
    Cursor, HistoryQuery, LatestQuery, Order, Page, Recorded, SERIES_SCAN_LIMIT, Store, StoreError,
    USER_PAGES_END, page_size,
};

/// Append only: never edit a migration that has shipped.
const MIGRATIONS: &[M<'static>] = &[
    M::up(
        r#"
CREATE TABLE observations (
    id           TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    item_name    TEXT NOT NULL,
    series       TEXT,
    amount       TEXT NOT NULL,   -- decimal string, never REAL
    currency     TEXT NOT NULL,
    observed_at  INTEGER NOT NULL, -- Unix milliseconds
    provenance   TEXT NOT NULL    -- JSON
) STRICT;
CREATE INDEX observations_by_item_time ON observations (item_id, observed_at, id);

CREATE TABLE items (
    id           TEXT PRIMARY KEY,
    source_id    TEXT NOT NULL,
    name         TEXT NOT NULL,
    series       TEXT,
    latest_obs   TEXT NOT NULL REFERENCES observations (id),
    latest_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX items_by_source ON items (source_id, id);
CREATE INDEX items_by_series ON items (series) WHERE series IS NOT NULL;

CREATE TABLE checkpoints (
    source_id    TEXT PRIMARY KEY,
    last_post_id INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
"#,
    ),
    M::up(
        r#"
-- Prices become optional (an out-of-stock page shows none), observations
-- carry availability and item details, series get an index for statistics,
-- and sources get a health record. SQLite cannot relax NOT NULL in place, so
-- observations is rebuilt; deferring foreign keys lets items keep pointing
-- at it across the swap.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE observations_v2 (
    id           TEXT PRIMARY KEY,
    item_id      TEXT NOT NULL,
    source_id    TEXT NOT NULL,
    item_name    TEXT NOT NULL,
    series       TEXT,
    amount       TEXT,            -- decimal string, never REAL; NULL = no price shown
    currency     TEXT,
    availability TEXT NOT NULL DEFAULT 'unknown',
    details      TEXT,            -- JSON: url, image, brand
    observed_at  INTEGER NOT NULL, -- Unix milliseconds
    provenance   TEXT NOT NULL,   -- JSON
    CHECK ((amount IS NULL) = (currency IS NULL))
) STRICT;
INSERT INTO observations_v2 (id, item_id, source_id, item_name, series, amount, currency, observed_at, provenance)
    SELECT id, item_id, source_id, item_name, series, amount, currency, observed_at, provenance FROM observations;
DROP TABLE observations;
ALTER TABLE observations_v2 RENAME TO observations;
CREATE INDEX observations_by_item_time ON observations (item_id, observed_at, id);
CREATE INDEX observations_by_series_time ON observations (series, observed_at) WHERE series IS NOT NULL;

CREATE TABLE source_health (
    source_id            TEXT PRIMARY KEY,
    last_success_at      INTEGER,
    last_error_at        INTEGER,
    last_error           TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    items_seen           INTEGER NOT NULL DEFAULT 0,
    runs                 INTEGER NOT NULL DEFAULT 0
) STRICT;
"#,
    ),
    M::up(
        r#"
-- The bot's users and what they keep (`UserStore`, see users.rs). Times are
-- Unix milliseconds unless the column says seconds; amounts are decimal
-- strings, never REAL.
CREATE TABLE users (
    id            INTEGER PRIMARY KEY, -- Telegram user id
    first_name    TEXT NOT NULL,
    last_name     TEXT,
    username      TEXT,
    language_code TEXT,
    chosen_lang   TEXT,
    referrer      TEXT,                -- from the first contact only
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    blocked       INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX users_by_last_seen ON users (last_seen);

CREATE TABLE watches (
    user_id      INTEGER NOT NULL,
    item_id      TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (user_id, item_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE alerts (
    user_id            INTEGER NOT NULL,
    id                 TEXT NOT NULL,
    target_kind        TEXT NOT NULL,  -- 'item' or 'series'
    target_id          TEXT NOT NULL,
    rule               TEXT NOT NULL,  -- JSON AlertRule, amounts as decimal strings
    created_at         INTEGER NOT NULL,
    active             INTEGER NOT NULL,
    armed              INTEGER NOT NULL,
    reference_amount   TEXT,
    reference_currency TEXT,
    last_fired_at      INTEGER,
    PRIMARY KEY (user_id, id),
    CHECK ((reference_amount IS NULL) = (reference_currency IS NULL))
) STRICT, WITHOUT ROWID;
CREATE INDEX alerts_by_target ON alerts (target_kind, target_id, active, id);

CREATE TABLE telegram_updates (
    update_id    INTEGER PRIMARY KEY,
    expires_at   INTEGER NOT NULL     -- Unix seconds
) STRICT;
CREATE INDEX telegram_updates_by_expiry ON telegram_updates (expires_at);

CREATE TABLE throttle (
    user_id      INTEGER NOT NULL,
    window_start INTEGER NOT NULL,    -- Unix seconds
    count        INTEGER NOT NULL,
    PRIMARY KEY (user_id, window_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX throttle_by_window ON throttle (window_start);

CREATE TABLE payloads (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL,
    expires_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX payloads_by_expiry ON payloads (expires_at);

CREATE TABLE usage_events (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    kind         TEXT NOT NULL,       -- 'command' or 'alert_sent'
    name         TEXT                 -- the command, for 'command'
) STRICT;
CREATE INDEX usage_events_by_time ON usage_events (at);
"#,
    ),
    M::up(
        r#"
-- Product pages users pasted into the bot to track (`UserStore`, see
-- users.rs), one per source id: the same URL pasted twice is one source.
CREATE TABLE tracked_pages (
    source_id    TEXT PRIMARY KEY,    -- `page-<hash of the URL>`
    url          TEXT NOT NULL,
    name         TEXT NOT NULL,       -- the product's name when it was added
    added_by     INTEGER NOT NULL,    -- Telegram user id
    added_at     INTEGER NOT NULL     -- Unix milliseconds
) STRICT;
"#,
    ),
    M::up(
        r#"
-- Alert notifications sent per user and UTC day, for the daily cap
-- (`UserStore::alert_quota_hit`, see users.rs). Days older than 48 hours are
-- deleted by the calls that count.
CREATE TABLE alert_quota (
    user_id      INTEGER NOT NULL,
    day_start    INTEGER NOT NULL,    -- Unix seconds, midnight UTC
    count        INTEGER NOT NULL,
    PRIMARY KEY (user_id, day_start)
) STRICT, WITHOUT ROWID;
CREATE INDEX alert_quota_by_day ON alert_quota (day_start);
"#,
    ),
    M::up(
        r#"
-- Who tracks each tracked page (`UserStore::track_page`, see users.rs): a
-- page can be tracked by several users, each counted once against the
-- per-user cap; a page whose last tracker leaves is deleted (it expires).
CREATE TABLE tracked_page_users (
    source_id    TEXT NOT NULL REFERENCES tracked_pages (source_id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,    -- Telegram user id
    added_at     INTEGER NOT NULL,    -- Unix milliseconds
    PRIMARY KEY (source_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX tracked_page_users_by_user ON tracked_page_users (user_id, source_id);
-- Pages tracked before this table existed are tracked by whoever added them.
INSERT INTO tracked_page_users (source_id, user_id, added_at)
    SELECT source_id, added_by, added_at FROM tracked_pages;
"#,
    ),
    M::up(
        r#"
-- The outbox: each price event is written in the transaction that moved
-- the item's latest price, and deleted once the relay has published it
-- (pricehound_core::relay). AUTOINCREMENT: a sequence number is never
-- reused, so a late mark cannot delete a newer event.
CREATE TABLE event_outbox (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    event        TEXT NOT NULL,       -- a DomainEvent as JSON
    created_at   INTEGER NOT NULL     -- Unix milliseconds
) STRICT;
"#,
    ),
    M::up(
        r#"
-- Retention (pricehound_core::retention): the prune finds old history by
-- time and keeps each item's latest observation.
CREATE INDEX observations_by_time ON observations (observed_at);
CREATE INDEX items_by_latest_obs ON items (latest_obs);
"#,
    ),
    M::up(
        r#"
-- Messages due at a time (pricehound_core::delayed): serve's notifications
-- and their put-backs, so a restart loses none. A handed-out message is
-- leased by moving its due_at forward until it is removed or rescheduled.
CREATE TABLE delayed_messages (
    id           TEXT PRIMARY KEY,
    body         TEXT NOT NULL,
    due_at       INTEGER NOT NULL     -- Unix milliseconds
) STRICT, WITHOUT ROWID;
CREATE INDEX delayed_messages_by_due ON delayed_messages (due_at);
"#,
    ),
    M::up(
        r#"
-- An item's last price change (pricehound_core::domain::LastChange): the
-- price before it and when it changed, so lists sort by what moved.
ALTER TABLE items ADD COLUMN change_amount TEXT;
ALTER TABLE items ADD COLUMN change_currency TEXT;
ALTER TABLE items ADD COLUMN changed_at INTEGER;
"#,
    ),
    M::up(
        r#"
-- A watch marked bought (a wishlist entry ticked off), Unix milliseconds.
ALTER TABLE watches ADD COLUMN purchased_at INTEGER;
"#,
    ),
];

#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    /// A second connection to the same file that only asks `PRAGMA
    /// data_version`, which changes when any *other* connection commits:
    /// so it sees this store's writes and other processes' alike (None in
    /// memory, where no other connection can see the database).
    watch: Option<Arc<Mutex<Connection>>>,
    /// Connections for reads (none in memory): in WAL mode readers never
    /// wait for the writer nor for each other, so the API's reads go on
    /// while a scrape's observations are written.
    readers: Arc<[Mutex<Connection>]>,
    next_reader: Arc<AtomicUsize>,
}

/// How many read connections a file store opens: a few per core is what
/// SQLite's readers can use; each costs a page cache.
const READERS: usize = 4;

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path).map_err(|e| {
            StoreError::Backend(format!("cannot open SQLite file {}: {e}", path.display()))
        })?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(backend)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(backend)?;
        let mut store = Self::init(conn)?;
        let watch = Connection::open(path).map_err(|e| {
            StoreError::Backend(format!("cannot open SQLite file {}: {e}", path.display()))
        })?;
        // Reading the version only waits on WAL recovery; never for long.
        watch
            .busy_timeout(std::time::Duration::from_millis(100))
            .map_err(backend)?;
        store.watch = Some(Arc::new(Mutex::new(watch)));
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let reader = Connection::open(path).map_err(|e| {
                StoreError::Backend(format!("cannot open SQLite file {}: {e}", path.display()))
            })?;
            // A reader that tried to write would be a bug here, not a write.
            reader
                .pragma_update(None, "query_only", "ON")
                .map_err(backend)?;
            reader
                .busy_timeout(std::time::Duration::from_secs(5))
                .map_err(backend)?;
            readers.push(Mutex::new(reader));
        }
        store.readers = readers.into();
        Ok(store)
    }

    /// A private in-memory database, for tests.
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::init(Connection::open_in_memory().map_err(backend)?)
    }

    fn init(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(backend)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(backend)?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut conn)
            .map_err(|e| StoreError::Backend(format!("schema migration failed: {e}")))?;
        Ok(SqliteStore {
            conn: Arc::new(Mutex::new(conn)),
            watch: None,
            readers: Arc::new([]),
            next_reader: Arc::default(),
        })
    }

    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn
                .lock()
                .map_err(|_| StoreError::Backend("SQLite connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite task failed: {e}")))?
    }
}

impl SqliteStore {
    /// Runs a read on one of the read connections (an idle one if any),
    /// or on the connection of writes in memory. `f` must not write.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        if self.readers.is_empty() {
            return self.with(f).await;
        }
        let readers = self.readers.clone();
        let first = self.next_reader.fetch_add(1, Ordering::Relaxed);
        tokio::task::spawn_blocking(move || {
            let n = readers.len();
            for i in 0..n {
                if let Some(Ok(mut idle)) = readers.get((first + i) % n).map(Mutex::try_lock) {
                    return f(&mut idle);
                }
            }
            let reader = readers
                .get(first % n)
                .ok_or_else(|| StoreError::Backend("no SQLite reader".into()))?;
            let mut guard = reader
                .lock()
                .map_err(|_| StoreError::Backend("SQLite connection lock poisoned".into()))?;
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("SQLite task failed: {e}")))?
    }
}

fn backend(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn from_millis(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| StoreError::Corrupt(format!("bad time {ms}")))
}

const OBS_COLUMNS: &str = "o.id, o.item_id, o.source_id, o.item_name, o.series, o.amount, o.currency, o.observed_at, o.provenance, o.availability, o.details";

fn corrupt(what: &str, e: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Reads a row of `OBS_COLUMNS` (starting at column 0).
fn obs_from_row(row: &rusqlite::Row<'_>) -> Result<Observation, StoreError> {
    let get = |i: usize| -> Result<String, StoreError> { row.get(i).map_err(backend) };
    let opt = |i: usize| -> Result<Option<String>, StoreError> { row.get(i).map_err(backend) };
    let price = match (opt(5)?, opt(6)?) {
        (Some(amount), Some(currency)) => Some(Money::new(
            amount.parse().map_err(|e| corrupt("amount", &e))?,
            Currency::new(&currency).map_err(|e| corrupt("currency", &e))?,
        )),
        _ => None,
    };
    let availability = get(9)?;
    Ok(Observation {
        id: ObservationId::new(get(0)?).map_err(|e| corrupt("id", &e))?,
        item_id: ItemId::new(get(1)?).map_err(|e| corrupt("item id", &e))?,
        source_id: SourceId::new(get(2)?).map_err(|e| corrupt("source id", &e))?,
        item_name: get(3)?,
        series: opt(4)?
            .map(SeriesId::new)
            .transpose()
            .map_err(|e| corrupt("series", &e))?,
        price,
        availability: Availability::parse(&availability)
            .ok_or_else(|| corrupt("availability", &availability))?,
        details: match opt(10)? {
            Some(json) => serde_json::from_str(&json).map_err(|e| corrupt("details", &e))?,
            None => ItemDetails::default(),
        },
        observed_at: from_millis(row.get(7).map_err(backend)?)?,
        provenance: serde_json::from_str(&get(8)?).map_err(|e| corrupt("provenance", &e))?,
    })
}

fn latest_from_row(row: &rusqlite::Row<'_>) -> Result<LatestPrice, StoreError> {
    // items.name / items.series win over the observation's: they track the newest.
    let obs = obs_from_row(row)?;
    let name: String = row.get(11).map_err(backend)?;
    let series: Option<String> = row.get(12).map_err(backend)?;
    let mut latest = LatestPrice::from(&obs);
    latest.change = match (
        row.get::<_, Option<String>>(13).map_err(backend)?,
        row.get::<_, Option<String>>(14).map_err(backend)?,
        row.get::<_, Option<i64>>(15).map_err(backend)?,
    ) {
        (Some(amount), Some(currency), Some(at)) => Some(LastChange {
            from: Money::new(
                amount.parse().map_err(|e| corrupt("change amount", &e))?,
                Currency::new(&currency).map_err(|e| corrupt("change currency", &e))?,
            ),
            at: from_millis(at)?,
        }),
        _ => None,
    };
    latest.name = name;
    latest.series = series
        .map(SeriesId::new)
        .transpose()
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    Ok(latest)
}

const LATEST_SELECT: &str = "SELECT o.id, o.item_id, o.source_id, o.item_name, o.series, o.amount, o.currency, o.observed_at, o.provenance, o.availability, o.details, i.name, i.series, i.change_amount, i.change_currency, i.changed_at
     FROM items i JOIN observations o ON o.id = i.latest_obs";

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn data_version(&self) -> Option<u64> {
        // A read of the WAL index in shared memory: microseconds, no I/O,
        // so it runs on the caller's thread.
        let watch = self.watch.as_ref()?.lock().ok()?;
        let mut stmt = watch.prepare_cached("PRAGMA data_version").ok()?;
        let version: i64 = stmt.query_row([], |r| r.get(0)).ok()?;
        Some(version as u64)
    }

    async fn record(&self, obs: &Observation) -> Result<Recorded, StoreError> {
        let obs = obs.clone();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let previous = tx
                .query_row(
                    &format!("{LATEST_SELECT} WHERE i.id = ?1"),
                    [obs.item_id.as_str()],
                    |row| Ok(latest_from_row(row)),
                )
                .optional()
                .map_err(backend)?
                .transpose()?;
            let provenance = serde_json::to_string(&obs.provenance)
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            let details = (!obs.details.is_empty())
                .then(|| serde_json::to_string(&obs.details))
                .transpose()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            let inserted = tx
                .execute(
                    "INSERT INTO observations (id, item_id, source_id, item_name, series, amount, currency, observed_at, provenance, availability, details)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (id) DO NOTHING",
                    params![
                        obs.id.as_str(),
                        obs.item_id.as_str(),
                        obs.source_id.as_str(),
                        obs.item_name,
                        obs.series.as_ref().map(|s| s.as_str()),
                        obs.price.as_ref().map(|p| p.amount.to_string()),
                        obs.price.as_ref().map(|p| p.currency.code().to_string()),
                        millis(obs.observed_at),
                        provenance,
                        obs.availability.as_str(),
                        details,
                    ],
                )
                .map_err(backend)?
                == 1;
            let became_latest = previous
                .as_ref()
                .is_none_or(|p| obs.is_newer_than(p.observed_at, &p.observation_id));
            // The event, derived from what is stored before and after,
            // goes into the outbox in this same transaction: it exists
            // exactly when the latest price moved.
            let event = if inserted && became_latest {
                price_change(previous.as_ref(), &LatestPrice::from(&obs))
            } else {
                None
            };
            if let Some(event) = event {
                let json = serde_json::to_string(&DomainEvent::PriceChanged(event))
                    .map_err(|e| StoreError::Backend(format!("event as JSON: {e}")))?;
                tx.execute(
                    "INSERT INTO event_outbox (event, created_at) VALUES (?1, ?2)",
                    params![json, millis(Utc::now())],
                )
                .map_err(backend)?;
            }
            if became_latest {
                let change = LastChange::after(previous.as_ref(), &obs);
                tx.execute(
                    "INSERT INTO items (id, source_id, name, series, latest_obs, latest_at, change_amount, change_currency, changed_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (id) DO UPDATE SET name = excluded.name, series = excluded.series,
                        latest_obs = excluded.latest_obs, latest_at = excluded.latest_at,
                        change_amount = excluded.change_amount, change_currency = excluded.change_currency,
                        changed_at = excluded.changed_at",
                    params![
                        obs.item_id.as_str(),
                        obs.source_id.as_str(),
                        obs.item_name,
                        obs.series.as_ref().map(|s| s.as_str()),
                        obs.id.as_str(),
                        millis(obs.observed_at),
                        change.as_ref().map(|c| c.from.amount.to_string()),
                        change.as_ref().map(|c| c.from.currency.code().to_string()),
                        change.as_ref().map(|c| millis(c.at)),
                    ],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(Recorded {
                inserted,
                previous,
                became_latest,
            })
        })
        .await
    }

    async fn latest_prices(&self, query: &LatestQuery) -> Result<Page<LatestPrice>, StoreError> {
        let limit = page_size(query.limit);
        // Ordered by (source, item) like the DynamoDB index, so both stores
        // page identically. The cursor is the last item id; its source is
        // its prefix.
        let after: Option<(String, String)> = match &query.cursor {
            None => None,
            Some(c) => {
                let item = ItemId::new(c.decode()?).map_err(|_| StoreError::BadCursor)?;
                Some((item.source_id().to_string(), item.to_string()))
            }
        };
        // As in DynamoDB, a cursor continues the listing it came from.
        if let (Some(source), Some((after_source, _))) = (&query.source, &after)
            && source.as_str() != after_source
        {
            return Err(StoreError::BadCursor);
        }
        let source = query.source.as_ref().map(|s| s.to_string());
        let hide = query.hide_user_pages;
        self.read(move |conn| {
            // Each case gets its own statement, every condition one the
            // (source_id, id) index can seek on: with `?x IS NULL OR …`
            // SQLite walked the index from the start on every page, and
            // listing a million items took a minute instead of seconds.
            let mut conditions = Vec::new();
            let mut args: Vec<(&str, &dyn rusqlite::ToSql)> = Vec::new();
            if let Some(source) = &source {
                conditions.push("i.source_id = :source");
                args.push((":source", source));
            }
            if let Some((after_source, after_item)) = &after {
                if source.is_some() {
                    conditions.push("i.id > :after_item");
                } else {
                    conditions.push("(i.source_id, i.id) > (:after_source, :after_item)");
                    args.push((":after_source", after_source));
                }
                args.push((":after_item", after_item));
            }
            if hide {
                // User pages' source ids all sort in [`page-`, `page.`):
                // '.' is the character after '-'.
                conditions.push("(i.source_id < :pages_start OR i.source_id >= :pages_end)");
                args.push((":pages_start", &USER_PAGE_PREFIX));
                args.push((":pages_end", &USER_PAGES_END));
            }
            let filter = if conditions.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conditions.join(" AND "))
            };
            let fetch = limit + 1;
            args.push((":limit", &fetch));
            let mut stmt = conn
                .prepare_cached(&format!(
                    "{LATEST_SELECT} {filter} ORDER BY i.source_id, i.id LIMIT :limit"
                ))
                .map_err(backend)?;
            let mut rows = stmt.query(args.as_slice()).map_err(backend)?;
            let mut items = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                items.push(latest_from_row(row)?);
            }
            Ok(paginate(items, limit, |l| {
                Cursor::encode(l.item_id.as_str())
            }))
        })
        .await
    }

    async fn latest_price(&self, item: &ItemId) -> Result<Option<LatestPrice>, StoreError> {
        let item = item.to_string();
        self.read(move |conn| {
            conn.query_row(&format!("{LATEST_SELECT} WHERE i.id = ?1"), [item], |row| {
                Ok(latest_from_row(row))
            })
            .optional()
            .map_err(backend)?
            .transpose()
        })
        .await
    }

    async fn history(
        &self,
        item: &ItemId,
        query: &HistoryQuery,
    ) -> Result<Page<Observation>, StoreError> {
        let limit = page_size(query.limit);
        let item = item.to_string();
        let from = query.from.map(millis).unwrap_or(i64::MIN);
        let to = query.to.map(millis).unwrap_or(i64::MAX);
        let order = query.order;
        // Cursor: "<millis>|<id>" of the last row returned.
        let after = match &query.cursor {
            None => None,
            Some(c) => {
                let raw = c.decode()?;
                let (t, id) = raw.split_once('|').ok_or(StoreError::BadCursor)?;
                Some((
                    t.parse::<i64>().map_err(|_| StoreError::BadCursor)?,
                    id.to_string(),
                ))
            }
        };
        self.read(move |conn| {
            let (cmp, dir) = match order {
                Order::Ascending => (">", "ASC"),
                Order::Descending => ("<", "DESC"),
            };
            let sql = format!(
                "SELECT {OBS_COLUMNS} FROM observations o
                 WHERE o.item_id = ?1 AND o.observed_at >= ?2 AND o.observed_at < ?3
                   AND (?4 IS NULL OR (o.observed_at, o.id) {cmp} (?4, ?5))
                 ORDER BY o.observed_at {dir}, o.id {dir} LIMIT ?6"
            );
            let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
            let (after_t, after_id) = match after {
                Some((t, id)) => (Some(t), Some(id)),
                None => (None, None),
            };
            let mut rows = stmt
                .query(params![item, from, to, after_t, after_id, limit + 1])
                .map_err(backend)?;
            let mut items = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                items.push(obs_from_row(row)?);
            }
            Ok(paginate(items, limit, |o| {
                Cursor::encode(&format!("{}|{}", millis(o.observed_at), o.id))
            }))
        })
        .await
    }

    async fn checkpoint(&self, source: &SourceId) -> Result<Option<Checkpoint>, StoreError> {
        let source = source.clone();
        self.read(move |conn| {
            let row: Option<(i64, i64)> = conn
                .query_row(
                    "SELECT last_post_id, updated_at FROM checkpoints WHERE source_id = ?1",
                    [source.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            row.map(|(id, at)| {
                Ok(Checkpoint {
                    source_id: source.clone(),
                    last_post_id: id as u64,
                    updated_at: from_millis(at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn advance_checkpoint(&self, cp: &Checkpoint) -> Result<(), StoreError> {
        let cp = cp.clone();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO checkpoints (source_id, last_post_id, updated_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (source_id) DO UPDATE SET last_post_id = excluded.last_post_id,
                    updated_at = excluded.updated_at
                 WHERE excluded.last_post_id > checkpoints.last_post_id",
                params![
                    cp.source_id.as_str(),
                    i64::try_from(cp.last_post_id).unwrap_or(i64::MAX),
                    millis(cp.updated_at)
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn series_observations(
        &self,
        series: &SeriesId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Observation>, StoreError> {
        let series = series.to_string();
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {OBS_COLUMNS} FROM observations o
                     WHERE o.series = ?1 AND o.observed_at >= ?2 AND o.observed_at < ?3
                     ORDER BY o.observed_at DESC LIMIT ?4"
                ))
                .map_err(backend)?;
            let mut rows = stmt
                .query(params![series, millis(from), millis(to), SERIES_SCAN_LIMIT])
                .map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                out.push(obs_from_row(row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn list_series(&self) -> Result<Vec<SeriesSummary>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT series, COUNT(*) FROM items WHERE series IS NOT NULL
                     GROUP BY series ORDER BY series",
                )
                .map_err(backend)?;
            let mut rows = stmt.query([]).map_err(backend)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(backend)? {
                let id: String = row.get(0).map_err(backend)?;
                let items: i64 = row.get(1).map_err(backend)?;
                out.push(SeriesSummary {
                    series: SeriesId::new(id).map_err(|e| corrupt("series", &e))?,
                    items: items as u64,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn record_source_run(&self, run: &SourceRun) -> Result<(), StoreError> {
        let run = run.clone();
        self.with(move |conn| {
            let at = millis(run.at);
            let source = run.source_id.as_str();
            match &run.outcome {
                Ok(items) => conn.execute(
                    "INSERT INTO source_health (source_id, last_success_at, consecutive_failures, items_seen, runs)
                     VALUES (?1, ?2, 0, ?3, 1)
                     ON CONFLICT (source_id) DO UPDATE SET last_success_at = excluded.last_success_at,
                        consecutive_failures = 0, items_seen = excluded.items_seen, runs = runs + 1",
                    params![source, at, items],
                ),
                Err(message) => conn.execute(
                    "INSERT INTO source_health (source_id, last_error_at, last_error, consecutive_failures, runs)
                     VALUES (?1, ?2, ?3, 1, 1)
                     ON CONFLICT (source_id) DO UPDATE SET last_error_at = excluded.last_error_at,
                        last_error = excluded.last_error,
                        consecutive_failures = consecutive_failures + 1, runs = runs + 1",
                    params![source, at, message],
                ),
            }
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn source_health(&self, source: &SourceId) -> Result<Option<SourceHealth>, StoreError> {
        let source = source.clone();
        self.read(move |conn| {
            conn.query_row(
                "SELECT last_success_at, last_error_at, last_error, consecutive_failures, items_seen, runs
                 FROM source_health WHERE source_id = ?1",
                [source.as_str()],
                |r| {
                    Ok((
                        r.get::<_, Option<i64>>(0)?,
                        r.get::<_, Option<i64>>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, i64>(5)?,
                    ))
                },
            )
            .optional()
            .map_err(backend)?
            .map(|(ok_at, err_at, err, fails, items, runs)| {
                Ok(SourceHealth {
                    source_id: source.clone(),
                    last_success_at: ok_at.map(from_millis).transpose()?,
                    last_error_at: err_at.map(from_millis).transpose()?,
                    last_error: err,
                    consecutive_failures: fails as u32,
                    items_seen: items as u32,
                    runs: runs as u64,
                })
            })
            .transpose()
        })
        .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|conn| conn.query_row("SELECT 1", [], |_| Ok(())).map_err(backend))
            .await
    }
}

/// Cuts `items` (fetched with one extra row) to `limit` and makes the cursor.
fn paginate<T>(mut items: Vec<T>, limit: u32, cursor_of: impl Fn(&T) -> Cursor) -> Page<T> {
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = if more {
        items.last().map(cursor_of)
    } else {
        None
    };
    Page { items, next_cursor }
}

#[async_trait]
impl EventOutbox for SqliteStore {
    async fn pending_events(&self, limit: usize) -> Result<Vec<PendingEvent>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT seq, event FROM event_outbox ORDER BY seq LIMIT ?1")
                .map_err(backend)?;
            let rows = stmt
                .query_map([limit], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(backend)?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, json) = row.map_err(backend)?;
                let event = serde_json::from_str(&json).map_err(|e| {
                    StoreError::Corrupt(format!("outbox event {seq} is not an event: {e}"))
                })?;
                out.push(PendingEvent {
                    seq: u64::try_from(seq)
                        .map_err(|_| StoreError::Corrupt(format!("outbox sequence {seq}")))?,
                    event,
                });
            }
            Ok(out)
        })
        .await
    }

    async fn mark_published(&self, seqs: &[u64]) -> Result<(), StoreError> {
        let seqs = seqs.to_vec();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            {
                let mut stmt = tx
                    .prepare_cached("DELETE FROM event_outbox WHERE seq = ?1")
                    .map_err(backend)?;
                for seq in seqs {
                    // Past i64::MAX no row can exist.
                    if let Ok(seq) = i64::try_from(seq) {
                        stmt.execute([seq]).map_err(backend)?;
                    }
                }
            }
            tx.commit().map_err(backend)
        })
        .await
    }
}

#[async_trait]
impl Prune for SqliteStore {
    async fn prune(&self, retention: &Retention, now: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let history_cutoff = millis(retention.history_cutoff(now));
        let usage_cutoff = millis(retention.usage_cutoff(now));
        let mut pruned = Pruned::default();
        // In chunks, so ingest and the API never wait long for the lock.
        loop {
            let deleted = self
                .with(move |conn| {
                    conn.execute(
                        "DELETE FROM observations WHERE id IN (
                             SELECT o.id FROM observations o
                             WHERE o.observed_at < ?1
                               AND NOT EXISTS (SELECT 1 FROM items i WHERE i.latest_obs = o.id)
                             LIMIT ?2)",
                        params![history_cutoff, PRUNE_CHUNK],
                    )
                    .map_err(backend)
                })
                .await?;
            pruned.observations += deleted as u64;
            if deleted < PRUNE_CHUNK as usize {
                break;
            }
        }
        pruned.usage_events = self
            .with(move |conn| {
                conn.execute("DELETE FROM usage_events WHERE at < ?1", [usage_cutoff])
                    .map_err(backend)
            })
            .await? as u64;
        Ok(pruned)
    }
}

/// Rows one prune statement deletes at most.
const PRUNE_CHUNK: i64 = 5_000;

#[async_trait]
impl DelayedQueue for SqliteStore {
    async fn schedule(&self, id: &str, body: &str, due: DateTime<Utc>) -> Result<(), StoreError> {
        let (id, body, due) = (id.to_string(), body.to_string(), millis(due));
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO delayed_messages (id, body, due_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, due_at = excluded.due_at",
                params![id, body, due],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn lease_due(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Delayed>, StoreError> {
        let (now, until) = (millis(now), millis(lease_until));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let due = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT id, body FROM delayed_messages WHERE due_at <= ?1
                         ORDER BY due_at, id LIMIT ?2",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query_map(params![now, limit], |r| {
                        Ok(Delayed {
                            id: r.get(0)?,
                            body: r.get(1)?,
                        })
                    })
                    .map_err(backend)?;
                rows.collect::<Result<Vec<_>, _>>().map_err(backend)?
            };
            for d in &due {
                tx.execute(
                    "UPDATE delayed_messages SET due_at = ?2 WHERE id = ?1",
                    params![d.id, until],
                )
                .map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            Ok(due)
        })
        .await
    }

    async fn remove(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_string();
        self.with(move |conn| {
            conn.execute("DELETE FROM delayed_messages WHERE id = ?1", [id])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }
}
