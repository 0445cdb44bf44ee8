//! [`UserStore`](pricehound_core::store::UserStore) on SQLite, one `impl`
//! per narrow trait it is made of: the tables of migration 3 (users, watches,
//! alerts, telegram_updates, throttle, payloads, usage_events) and of
//! migration 4 (tracked_pages) and 5 (alert_quota).
//!
//! The rules this shares with the DynamoDB adapter (lifetimes, counter
//! periods, usage windows, stored kinds) are in
//! [`pricehound_core::store::rules`]; this module translates them to SQL.
//!
//! Times are Unix milliseconds, except the update dedupe, throttle windows
//! and alert quota days, which are whole seconds like the DynamoDB adapter's
//! keys and TTL. Short-lived rows (claimed updates, old throttle windows, old
//! alert quota days, expired payloads) are deleted opportunistically by the
//! calls that touch those tables.
//!
//! Track job claims and daily track counts live in `payloads`, under keys
//! that callback stashes (`cb…`) never use: they are short-lived values
//! with an expiry, which is what that table holds, so they need no
//! migration of their own.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, backend, corrupt, from_millis, millis};
use pricehound_core::domain::user::{
    Alert, AlertId, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageStats, User, UserId,
    UserProfile, Watch,
};
use pricehound_core::domain::{ItemId, SourceId};
use pricehound_core::store::rules::{
    self, Counter, USAGE_ALERT_SENT, USAGE_COMMAND, UsageWindows, alert_target_parts,
};
use pricehound_core::store::{
    AlertStore, Payloads, StoreError, TrackedPageStore, Tracking, Untracking, UpdateGuard,
    UsageLog, UserProfiles, Watches,
};

/// The `payloads` key of a user's track job claim.
fn track_job_key(user: UserId) -> String {
    format!("track-job:{user}")
}

/// The `payloads` key of a user's track requests on one day (epoch seconds).
fn track_quota_key(user: UserId, day: i64) -> String {
    format!("track-day:{user}:{day}")
}

const USER_COLUMNS: &str = "id, first_name, last_name, username, language_code, chosen_lang, referrer, first_seen, last_seen, blocked";

const ALERT_COLUMNS: &str = "user_id, id, target_kind, target_id, rule, created_at, active, armed, reference_amount, reference_currency, last_fired_at";

const TRACKED_PAGE_COLUMNS: &str = "source_id, url, name, added_by, added_at";

/// Reads a row of `USER_COLUMNS`.
fn user_from_row(row: &rusqlite::Row<'_>) -> Result<User, StoreError> {
    let opt = |i: usize| -> Result<Option<String>, StoreError> { row.get(i).map_err(backend) };
    let chosen_lang = opt(5)?
        .map(|code| Lang::from_code(&code).ok_or_else(|| corrupt("chosen_lang", &code)))
        .transpose()?;
    Ok(User {
        profile: UserProfile {
            id: UserId(row.get(0).map_err(backend)?),
            first_name: row.get(1).map_err(backend)?,
            last_name: opt(2)?,
            username: opt(3)?,
            language_code: opt(4)?,
        },
        chosen_lang,
        referrer: opt(6)?,
        first_seen: from_millis(row.get(7).map_err(backend)?)?,
        last_seen: from_millis(row.get(8).map_err(backend)?)?,
        blocked: row.get::<_, i64>(9).map_err(backend)? != 0,
    })
}

fn read_user(conn: &Connection, id: UserId) -> Result<Option<User>, StoreError> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users WHERE id = ?1"),
        [id.0],
        |row| Ok(user_from_row(row)),
    )
    .optional()
    .map_err(backend)?
    .transpose()
}

/// Reads a row of `ALERT_COLUMNS`.
fn alert_from_row(row: &rusqlite::Row<'_>) -> Result<Alert, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { row.get(i).map_err(backend) };
    let opt = |i: usize| -> Result<Option<String>, StoreError> { row.get(i).map_err(backend) };
    let flag =
        |i: usize| -> Result<bool, StoreError> { Ok(row.get::<_, i64>(i).map_err(backend)? != 0) };
    let (amount, currency) = (opt(8)?, opt(9)?);
    Ok(Alert {
        user: UserId(row.get(0).map_err(backend)?),
        id: AlertId::try_from(text(1)?).map_err(|e| corrupt("alert id", &e))?,
        target: rules::alert_target_from_parts(&text(2)?, &text(3)?)?,
        rule: rules::alert_rule_from_json(&text(4)?)?,
        created_at: from_millis(row.get(5).map_err(backend)?)?,
        active: flag(6)?,
        armed: flag(7)?,
        reference_price: rules::money_from_parts(amount.as_deref(), currency.as_deref())?,
        last_fired_at: row
            .get::<_, Option<i64>>(10)
            .map_err(backend)?
            .map(from_millis)
            .transpose()?,
    })
}

/// Reads a row of `TRACKED_PAGE_COLUMNS`.
fn tracked_page_from_row(row: &rusqlite::Row<'_>) -> Result<TrackedPage, StoreError> {
    let text = |i: usize| -> Result<String, StoreError> { row.get(i).map_err(backend) };
    Ok(TrackedPage {
        source_id: SourceId::new(text(0)?).map_err(|e| corrupt("source id", &e))?,
        url: text(1)?,
        name: text(2)?,
        added_by: UserId(row.get(3).map_err(backend)?),
        added_at: from_millis(row.get(4).map_err(backend)?)?,
    })
}

fn collect<T>(
    mut rows: rusqlite::Rows<'_>,
    read: impl Fn(&rusqlite::Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        out.push(read(row)?);
    }
    Ok(out)
}

fn count(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> Result<u64, StoreError> {
    let n: i64 = conn.query_row(sql, params, |r| r.get(0)).map_err(backend)?;
    Ok(n as u64)
}

#[async_trait]
impl UserProfiles for SqliteStore {
    async fn touch_user(&self, contact: &Contact) -> Result<(User, bool), StoreError> {
        let contact = contact.clone();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let p = &contact.profile;
            let at = millis(contact.at);
            let created = tx
                .execute(
                    "INSERT INTO users (id, first_name, last_name, username, language_code, referrer, first_seen, last_seen, blocked)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 0) ON CONFLICT (id) DO NOTHING",
                    params![
                        p.id.0,
                        p.first_name,
                        p.last_name,
                        p.username,
                        p.language_code,
                        contact.referrer,
                        at
                    ],
                )
                .map_err(backend)?
                == 1;
            if !created {
                // The referrer stays the first contact's; last seen only
                // moves forward (a late retry of an old update is no news).
                tx.execute(
                    "UPDATE users SET first_name = ?2, last_name = ?3, username = ?4,
                        language_code = ?5, last_seen = MAX(last_seen, ?6), blocked = 0
                     WHERE id = ?1",
                    params![
                        p.id.0,
                        p.first_name,
                        p.last_name,
                        p.username,
                        p.language_code,
                        at
                    ],
                )
                .map_err(backend)?;
            }
            let user = read_user(&tx, p.id)?
                .ok_or_else(|| StoreError::Backend(format!("user {} vanished", p.id)))?;
            tx.commit().map_err(backend)?;
            Ok((user, created))
        })
        .await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.read(move |conn| read_user(conn, id)).await
    }

    async fn set_language(&self, id: UserId, lang: Option<Lang>) -> Result<(), StoreError> {
        self.with(move |conn| {
            conn.execute(
                "UPDATE users SET chosen_lang = ?2 WHERE id = ?1",
                params![id.0, lang.map(Lang::code)],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn mark_blocked(&self, id: UserId) -> Result<u32, StoreError> {
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            tx.execute("UPDATE users SET blocked = 1 WHERE id = ?1", [id.0])
                .map_err(backend)?;
            let deactivated = tx
                .execute(
                    "UPDATE alerts SET active = 0 WHERE user_id = ?1 AND active = 1",
                    [id.0],
                )
                .map_err(backend)?;
            tx.commit().map_err(backend)?;
            Ok(deactivated as u32)
        })
        .await
    }
}

#[async_trait]
impl Watches for SqliteStore {
    async fn add_watch(&self, watch: &Watch) -> Result<bool, StoreError> {
        let watch = watch.clone();
        self.with(move |conn| {
            let added = conn
                .execute(
                    "INSERT INTO watches (user_id, item_id, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, item_id) DO NOTHING",
                    params![watch.user.0, watch.item.as_str(), millis(watch.created_at)],
                )
                .map_err(backend)?;
            Ok(added == 1)
        })
        .await
    }

    async fn remove_watch(&self, user: UserId, item: &ItemId) -> Result<bool, StoreError> {
        let item = item.to_string();
        self.with(move |conn| {
            let removed = conn
                .execute(
                    "DELETE FROM watches WHERE user_id = ?1 AND item_id = ?2",
                    params![user.0, item],
                )
                .map_err(backend)?;
            Ok(removed == 1)
        })
        .await
    }

    async fn watches(&self, user: UserId) -> Result<Vec<Watch>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT item_id, created_at, purchased_at FROM watches WHERE user_id = ?1
                     ORDER BY created_at, item_id",
                )
                .map_err(backend)?;
            let rows = stmt.query([user.0]).map_err(backend)?;
            collect(rows, |row| {
                let item: String = row.get(0).map_err(backend)?;
                Ok(Watch {
                    user,
                    item: ItemId::new(item).map_err(|e| corrupt("item id", &e))?,
                    created_at: from_millis(row.get(1).map_err(backend)?)?,
                    purchased_at: row
                        .get::<_, Option<i64>>(2)
                        .map_err(backend)?
                        .map(from_millis)
                        .transpose()?,
                })
            })
        })
        .await
    }

    async fn clear_watches(&self, user: UserId) -> Result<u32, StoreError> {
        self.with(move |conn| {
            let removed = conn
                .execute("DELETE FROM watches WHERE user_id = ?1", [user.0])
                .map_err(backend)?;
            Ok(removed as u32)
        })
        .await
    }

    async fn set_purchased(
        &self,
        user: UserId,
        item: &ItemId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let item = item.to_string();
        self.with(move |conn| {
            let found = conn
                .execute(
                    // COALESCE: marking it bought again keeps the first time.
                    "UPDATE watches SET purchased_at = CASE WHEN ?3 IS NULL THEN NULL
                        ELSE COALESCE(purchased_at, ?3) END
                     WHERE user_id = ?1 AND item_id = ?2",
                    params![user.0, item, at.map(millis)],
                )
                .map_err(backend)?;
            Ok(found == 1)
        })
        .await
    }
}

#[async_trait]
impl AlertStore for SqliteStore {
    async fn put_alert(&self, alert: &Alert) -> Result<(), StoreError> {
        let alert = alert.clone();
        self.with(move |conn| {
            let (kind, target_id) = alert_target_parts(&alert.target);
            let (amount, currency) = rules::money_parts(alert.reference_price.as_ref());
            conn.execute(
                &format!(
                    "INSERT OR REPLACE INTO alerts ({ALERT_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                ),
                params![
                    alert.user.0,
                    alert.id.as_str(),
                    kind,
                    target_id,
                    rules::alert_rule_json(&alert.rule),
                    millis(alert.created_at),
                    alert.active,
                    alert.armed,
                    amount,
                    currency,
                    alert.last_fired_at.map(millis),
                ],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn update_alert(&self, before: &Alert, after: &Alert) -> Result<bool, StoreError> {
        if (&before.user, &before.id) != (&after.user, &after.id) {
            return Ok(false);
        }
        let (before, after) = (before.clone(), after.clone());
        self.with(move |conn| {
            let (b_amount, b_currency) = rules::money_parts(before.reference_price.as_ref());
            let (a_amount, a_currency) = rules::money_parts(after.reference_price.as_ref());
            let changed = conn
                .execute(
                    "UPDATE alerts SET rule = ?3, active = ?4, armed = ?5,
                        reference_amount = ?6, reference_currency = ?7, last_fired_at = ?8
                     WHERE user_id = ?1 AND id = ?2
                       AND rule = ?9 AND active = ?10 AND armed = ?11
                       AND reference_amount IS ?12 AND reference_currency IS ?13
                       AND last_fired_at IS ?14",
                    params![
                        after.user.0,
                        after.id.as_str(),
                        rules::alert_rule_json(&after.rule),
                        after.active,
                        after.armed,
                        a_amount,
                        a_currency,
                        after.last_fired_at.map(millis),
                        rules::alert_rule_json(&before.rule),
                        before.active,
                        before.armed,
                        b_amount,
                        b_currency,
                        before.last_fired_at.map(millis),
                    ],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn alerts(&self, user: UserId) -> Result<Vec<Alert>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts WHERE user_id = ?1 ORDER BY created_at, id"
                ))
                .map_err(backend)?;
            let rows = stmt.query([user.0]).map_err(backend)?;
            collect(rows, alert_from_row)
        })
        .await
    }

    async fn active_alerts_for(&self, targets: &[AlertTarget]) -> Result<Vec<Alert>, StoreError> {
        let unique: Vec<AlertTarget> = rules::unique_targets(targets)
            .into_iter()
            .cloned()
            .collect();
        self.read(move |conn| {
            // One lookup per target on alerts_by_target.
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {ALERT_COLUMNS} FROM alerts
                     WHERE target_kind = ?1 AND target_id = ?2 AND active = 1
                     ORDER BY id, user_id"
                ))
                .map_err(backend)?;
            let mut out = Vec::new();
            for target in &unique {
                let (kind, id) = alert_target_parts(target);
                let rows = stmt.query(params![kind, id]).map_err(backend)?;
                out.extend(collect(rows, alert_from_row)?);
            }
            Ok(out)
        })
        .await
    }

    async fn delete_alert(&self, user: UserId, id: &AlertId) -> Result<bool, StoreError> {
        let id = id.to_string();
        self.with(move |conn| {
            let deleted = conn
                .execute(
                    "DELETE FROM alerts WHERE user_id = ?1 AND id = ?2",
                    params![user.0, id],
                )
                .map_err(backend)?;
            Ok(deleted == 1)
        })
        .await
    }

    async fn alert_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let day = Counter::period(day_start);
        self.with(move |conn| {
            bump_counter(
                conn,
                "alert_quota",
                "day_start",
                Counter::AlertQuota,
                user,
                day,
            )
        })
        .await
    }

    async fn alert_quota_used(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let day = Counter::period(day_start);
        self.with(move |conn| {
            let count: Option<i64> = conn
                .query_row(
                    "SELECT count FROM alert_quota WHERE user_id = ?1 AND day_start = ?2",
                    [user.0, day],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            Ok(count.map_or(0, |c| u32::try_from(c).unwrap_or(u32::MAX)))
        })
        .await
    }

    async fn alert_quota_release(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let day = Counter::period(day_start);
        self.with(move |conn| {
            conn.execute(
                "UPDATE alert_quota SET count = count - 1
                 WHERE user_id = ?1 AND day_start = ?2 AND count > 0",
                [user.0, day],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

#[async_trait]
impl TrackedPageStore for SqliteStore {
    async fn track_page(&self, page: &TrackedPage) -> Result<Tracking, StoreError> {
        let page = page.clone();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            // A second add keeps the first one's URL, name and time.
            let page_added = tx
                .execute(
                    &format!(
                        "INSERT INTO tracked_pages ({TRACKED_PAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5)
                         ON CONFLICT (source_id) DO NOTHING"
                    ),
                    params![
                        page.source_id.as_str(),
                        page.url,
                        page.name,
                        page.added_by.0,
                        millis(page.added_at)
                    ],
                )
                .map_err(backend)?
                == 1;
            let user_added = tx
                .execute(
                    "INSERT INTO tracked_page_users (source_id, user_id, added_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (source_id, user_id) DO NOTHING",
                    params![
                        page.source_id.as_str(),
                        page.added_by.0,
                        millis(page.added_at)
                    ],
                )
                .map_err(backend)?
                == 1;
            tx.commit().map_err(backend)?;
            Ok(Tracking {
                page_added,
                user_added,
            })
        })
        .await
    }

    async fn untrack_page(
        &self,
        user: UserId,
        source: &SourceId,
    ) -> Result<Untracking, StoreError> {
        let source = source.clone();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let was_tracking = tx
                .execute(
                    "DELETE FROM tracked_page_users WHERE source_id = ?1 AND user_id = ?2",
                    params![source.as_str(), user.0],
                )
                .map_err(backend)?
                == 1;
            // Expiry: a page without trackers leaves the tracked set, in
            // the same transaction, so a concurrent track either lands
            // before (and keeps it) or after (and adds it again).
            let page_removed = tx
                .execute(
                    "DELETE FROM tracked_pages WHERE source_id = ?1 AND NOT EXISTS
                     (SELECT 1 FROM tracked_page_users WHERE source_id = ?1)",
                    params![source.as_str()],
                )
                .map_err(backend)?
                == 1;
            tx.commit().map_err(backend)?;
            Ok(Untracking {
                was_tracking,
                page_removed,
            })
        })
        .await
    }

    async fn tracked_pages_of(&self, user: UserId) -> Result<Vec<TrackedPage>, StoreError> {
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT p.source_id, p.url, p.name, u.user_id, u.added_at
                     FROM tracked_page_users u JOIN tracked_pages p ON p.source_id = u.source_id
                     WHERE u.user_id = ?1 ORDER BY u.source_id",
                )
                .map_err(backend)?;
            let rows = stmt.query(params![user.0]).map_err(backend)?;
            collect(rows, tracked_page_from_row)
        })
        .await
    }

    async fn tracked_page_count(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            let n: i64 = conn
                .query_row("SELECT COUNT(*) FROM tracked_pages", [], |r| r.get(0))
                .map_err(backend)?;
            Ok(n.max(0) as u64)
        })
        .await
    }

    async fn tracked_pages(&self) -> Result<Vec<TrackedPage>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {TRACKED_PAGE_COLUMNS} FROM tracked_pages ORDER BY source_id"
                ))
                .map_err(backend)?;
            let rows = stmt.query([]).map_err(backend)?;
            collect(rows, tracked_page_from_row)
        })
        .await
    }

    async fn claim_track_job(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let key = track_job_key(user);
        let (now, until) = (millis(now), millis(until));
        self.with(move |conn| {
            // One statement: a new claim is inserted, a lapsed one
            // (`expires_at <= now`, rules::lapsed) is replaced, a live one
            // is left alone (no row changes).
            let changed = conn
                .execute(
                    "INSERT INTO payloads (key, value, expires_at) VALUES (?1, '', ?2)
                     ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at
                     WHERE payloads.expires_at <= ?3",
                    params![key, until, now],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_track_job(&self, user: UserId) -> Result<(), StoreError> {
        let key = track_job_key(user);
        self.with(move |conn| {
            conn.execute("DELETE FROM payloads WHERE key = ?1", [key])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn track_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let day = Counter::period(day_start);
        let key = track_quota_key(user, day);
        let expires = Counter::TrackQuota.expires_at(day).saturating_mul(1000);
        self.with(move |conn| {
            let count: String = conn
                .query_row(
                    "INSERT INTO payloads (key, value, expires_at) VALUES (?1, '1', ?2)
                     ON CONFLICT (key) DO UPDATE
                         SET value = CAST(CAST(payloads.value AS INTEGER) + 1 AS TEXT)
                     RETURNING value",
                    params![key, expires],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            let count: u64 = count
                .parse()
                .map_err(|_| corrupt("track request count", &count))?;
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        })
        .await
    }
}

#[async_trait]
impl UpdateGuard for SqliteStore {
    async fn claim_update(&self, update_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let expires_at = rules::update_claim_expires_at(now);
        let now = now.timestamp();
        self.with(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            // A claim holds through its expiry second (rules).
            tx.execute(
                "DELETE FROM telegram_updates WHERE expires_at < ?1",
                [now],
            )
            .map_err(backend)?;
            let claimed = tx
                .execute(
                    "INSERT OR IGNORE INTO telegram_updates (update_id, expires_at) VALUES (?1, ?2)",
                    [update_id, expires_at],
                )
                .map_err(backend)?
                == 1;
            tx.commit().map_err(backend)?;
            Ok(claimed)
        })
        .await
    }

    async fn throttle_hit(
        &self,
        user: UserId,
        window_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let window = Counter::period(window_start);
        self.with(move |conn| {
            bump_counter(
                conn,
                "throttle",
                "window_start",
                Counter::Throttle,
                user,
                window,
            )
        })
        .await
    }
}

#[async_trait]
impl Payloads for SqliteStore {
    async fn put_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO payloads (key, value, expires_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                params![key, value, millis(expires_at)],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn payload(&self, key: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        let key = key.to_string();
        let now = millis(now);
        self.with(move |conn| {
            // Expired payloads go now: they can never be read again.
            conn.execute("DELETE FROM payloads WHERE expires_at <= ?1", [now])
                .map_err(backend)?;
            conn.query_row(
                "SELECT value FROM payloads WHERE key = ?1 AND expires_at > ?2",
                params![key, now],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn claim_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (key, value) = (key.to_string(), value.to_string());
        let (expires_at, now) = (millis(expires_at), millis(now));
        self.with(move |conn| {
            // One statement: a new key is inserted, a lapsed one replaced,
            // a live one left alone (no row changes).
            let changed = conn
                .execute(
                    "INSERT INTO payloads (key, value, expires_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at
                     WHERE payloads.expires_at <= ?4",
                    params![key, value, expires_at, now],
                )
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }
}

#[async_trait]
impl UsageLog for SqliteStore {
    async fn record_usage(&self, event: &UsageEvent) -> Result<(), StoreError> {
        let event = event.clone();
        self.with(move |conn| {
            let (kind, name) = rules::usage_kind_parts(&event.kind);
            conn.execute(
                "INSERT INTO usage_events (user_id, at, kind, name) VALUES (?1, ?2, ?3, ?4)",
                params![event.user.0, millis(event.at), kind, name],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn usage_stats(&self, now: DateTime<Utc>) -> Result<UsageStats, StoreError> {
        // Every window is [first, now], to the millisecond (rules).
        let windows = UsageWindows::ending_at(now)?;
        let now_ms = millis(windows.now);
        let (day, week, month) = (
            millis(windows.day),
            millis(windows.week),
            millis(windows.month),
        );
        self.read(move |conn| {
            let tx = conn.transaction().map_err(backend)?;
            let active = |first: i64| {
                count(
                    &tx,
                    "SELECT COUNT(*) FROM users WHERE last_seen >= ?1 AND last_seen <= ?2",
                    [first, now_ms],
                )
            };
            let (daily_active, weekly_active, monthly_active) =
                (active(day)?, active(week)?, active(month)?);
            let users = count(&tx, "SELECT COUNT(*) FROM users", [])?;
            let alerts_sent = count(
                &tx,
                "SELECT COUNT(*) FROM usage_events WHERE at >= ?1 AND at <= ?2 AND kind = ?3",
                params![month, now_ms, USAGE_ALERT_SENT],
            )?;
            let commands = {
                let mut stmt = tx
                    .prepare_cached(
                        "SELECT name, COUNT(*) FROM usage_events
                         WHERE at >= ?1 AND at <= ?2 AND kind = ?3 AND name IS NOT NULL
                         GROUP BY name",
                    )
                    .map_err(backend)?;
                let rows = stmt
                    .query(params![month, now_ms, USAGE_COMMAND])
                    .map_err(backend)?;
                rules::rank_commands(collect(rows, |row| {
                    let name: String = row.get(0).map_err(backend)?;
                    let n: i64 = row.get(1).map_err(backend)?;
                    Ok((name, n as u64))
                })?)
            };
            Ok(UsageStats {
                users,
                daily_active,
                weekly_active,
                monthly_active,
                commands,
                alerts_sent,
            })
        })
        .await
    }
}

/// Adds one to `user`'s count in `period` of a windowed counter table
/// (`table`, keyed by `user_id` and the period `column`), dropping the
/// periods the counter no longer keeps, in one transaction; returns the new
/// count. `table` and `column` are names from this file, never input.
fn bump_counter(
    conn: &mut Connection,
    table: &'static str,
    column: &'static str,
    counter: Counter,
    user: UserId,
    period: i64,
) -> Result<u32, StoreError> {
    let tx = conn.transaction().map_err(backend)?;
    tx.execute(
        &format!("DELETE FROM {table} WHERE {column} < ?1"),
        [counter.oldest_kept(period)],
    )
    .map_err(backend)?;
    let count: i64 = tx
        .query_row(
            &format!(
                "INSERT INTO {table} (user_id, {column}, count) VALUES (?1, ?2, 1)
                 ON CONFLICT (user_id, {column}) DO UPDATE SET count = count + 1
                 RETURNING count"
            ),
            [user.0, period],
            |r| r.get(0),
        )
        .map_err(backend)?;
    tx.commit().map_err(backend)?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}
