//! [`UserStore`](pricehound_core::store::UserStore) on DynamoDB, one `impl`
//! per narrow trait it is made of: the bot's records in the same single table
//! (layout in `docs/dynamodb.md` and the table at the top of `dynamo/mod.rs`).
//!
//! | record          | pk                               | sk                            | gsi1pk                          | gsi1sk                      | TTL |
//! |-----------------|----------------------------------|-------------------------------|---------------------------------|-----------------------------|-----|
//! | user profile    | `USER#<user>`                    | `PROFILE`                     | `USERS#<shard of user>`         | `<sortable last_seen>#<user>` |   |
//! | watch           | `USER#<user>`                    | `WATCH#<item id>`             |                                 |                             |     |
//! | alert           | `USER#<user>`                    | `ALERT#<alert id>`            | `ALERTS#item#<item>` or `ALERTS#series#<series>`, only while active | `<alert id>` | |
//! | update claimed  | `UPDATE#<update id>`             | `UPDATE`                      |                                 |                             | +24 h |
//! | throttle window | `THROTTLE#<user>#<window epoch s>` | `THROTTLE`                  |                                 |                             | window + 24 h |
//! | alert quota day | `QUOTA#<user>#<day epoch s>`     | `QUOTA`                       |                                 |                             | day + 48 h |
//! | payload         | `PAYLOAD#<key>`                  | `PAYLOAD`                     |                                 |                             | its expiry |
//! | track job claim | `TRACKJOB#<user>`                | `TRACKJOB`                    |                                 |                             | its end |
//! | track requests of a day | `TRACKQUOTA#<user>#<day epoch s>` | `TRACKQUOTA`        |                                 |                             | day + 48 h |
//! | usage event     | `USAGE#<yyyy-mm-dd>#<shard of user>` | `<sortable at>#<user>#<random>` |                           |                             |     |
//! | tracked page    | `TRACKED#<shard of source>`      | `PAGE#<source id>`            |                                 |                             |     |
//! | page a user tracks | `USER#<user>`                 | `TRACK#<source id>`           |                                 |                             |     |
//!
//! The rules this shares with the SQLite adapter (lifetimes, counter
//! periods, usage windows, stored kinds) are in
//! [`pricehound_core::store::rules`]; these modules translate them to keys,
//! attributes and condition expressions.
//!
//! Conditions, not transactions, make the writes safe to race: a user is
//! created by a `PutItem` if `attribute_not_exists(pk)`, so is a tracked
//! page (the first add wins and keeps its URL, name and time), an update is claimed
//! by one conditional `PutItem` that also accepts an expired claim (TTL
//! deletes lazily), so is a track job (the claim's `until_ms` says when it
//! lapses), throttle, alert quota and track request counts are `ADD`s, and an alert is deactivated
//! by an update conditioned on `active = true`, so each is counted once.
//!
//! A tracked page keeps its trackers in a number set (`trackers`): one
//! `UpdateItem` creates the page if new (`if_not_exists` on every field) and
//! `ADD`s the user, so tracking is atomic and idempotent. Each tracker also
//! has a `TRACK#` record under the user, for the per-user count and list.
//! Untracking `DELETE`s the user from the set, then deletes the page only if
//! the set is gone (`attribute_not_exists(trackers)`: DynamoDB drops an empty
//! set), so a concurrent track either keeps the page or re-creates it whole.

mod alerts;
mod expiring;
mod profiles;
pub(super) mod reshard;
mod tracking;
mod usage;
mod watches;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::ReturnValue;
use chrono::{DateTime, Utc};
use pricehound_core::domain::user::{
    Alert, AlertId, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageStats, User, UserId,
    Watch,
};
use pricehound_core::domain::{ItemId, SourceId};
use pricehound_core::store::rules::Counter;
use pricehound_core::store::{
    AlertStore, Payloads, StoreError, TrackedPageStore, Tracking, Untracking, UpdateGuard,
    UsageLog, UserProfiles, Watches, sortable_time,
};

use super::attrs::{Item, get_n, n, s};
use super::{A_PK, A_SK, DynamoStore, Keys, SortKeys, TTL_ATTRIBUTE, is_code};

const PROFILE_SK: &str = "PROFILE";
const UPDATE_SK: &str = "UPDATE";
const THROTTLE_SK: &str = "THROTTLE";
const QUOTA_SK: &str = "QUOTA";
const PAYLOAD_SK: &str = "PAYLOAD";
const TRACK_JOB_SK: &str = "TRACKJOB";
const TRACK_QUOTA_SK: &str = "TRACKQUOTA";
const WATCH_PREFIX: &str = "WATCH#";
const ALERT_PREFIX: &str = "ALERT#";
/// The partitions holding the tracked pages (`TRACKED#<shard>`, by source
/// id), each sorted by source id.
const TRACKED_PK: &str = "TRACKED";
const PAGE_PREFIX: &str = "PAGE#";
/// A user's tracked pages, under the user.
const TRACK_PREFIX: &str = "TRACK#";
/// The index partitions holding the user profiles (`USERS#<shard>`, by
/// user id), each sorted by last seen.
const USERS_GSI1PK: &str = "USERS";

const A_USER: &str = "user_id";
const A_FIRST_NAME: &str = "first_name";
const A_LAST_NAME: &str = "last_name";
const A_USERNAME: &str = "username";
const A_LANGUAGE_CODE: &str = "language_code";
const A_CHOSEN_LANG: &str = "chosen_lang";
const A_REFERRER: &str = "referrer";
const A_FIRST_SEEN: &str = "first_seen";
const A_LAST_SEEN: &str = "last_seen";
const A_BLOCKED: &str = "blocked";
const A_CREATED: &str = "created_at";
const A_ALERT_ID: &str = "alert_id";
const A_TARGET_KIND: &str = "target_kind";
const A_TARGET_ID: &str = "target_id";
const A_RULE: &str = "rule";
const A_ACTIVE: &str = "active";
const A_ARMED: &str = "armed";
const A_REF_AMOUNT: &str = "reference_amount";
const A_REF_CURRENCY: &str = "reference_currency";
const A_LAST_FIRED: &str = "last_fired_at";
const A_UPDATE_ID: &str = "update_id";
const A_WINDOW: &str = "window_start";
const A_COUNT: &str = "count";
const A_DAY: &str = "day_start";
const A_PAYLOAD: &str = "payload";
/// A payload's exact expiry (epoch milliseconds); `expires_at` is the TTL in
/// whole seconds, rounded up so DynamoDB never deletes a payload early.
const A_EXPIRES_MS: &str = "expires_ms";
/// When a track job claim lapses (epoch milliseconds); 0 once released.
const A_UNTIL_MS: &str = "until_ms";
const A_AT: &str = "at";
const A_URL: &str = "url";
const A_ADDED_BY: &str = "added_by";
const A_ADDED_AT: &str = "added_at";
/// The users tracking a page (a number set of user ids).
const A_TRACKERS: &str = "trackers";
const A_KIND: &str = "kind";

fn user_pk(user: UserId) -> String {
    format!("USER#{user}")
}

/// Epoch seconds for the TTL attribute, rounded up so DynamoDB never
/// deletes a record before `ms`.
fn ttl_secs(ms: i64) -> i64 {
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)
}

/// Sort key bounds for the times in `[from, to]`, to the millisecond, on
/// keys that start `<sortable time>#`: `<t>#` sorts before every key at `t`
/// (what follows the '#' is longer), so `BETWEEN <from># AND <to + 1 ms>#`
/// is exactly the range.
fn time_range(from: DateTime<Utc>, to: DateTime<Utc>) -> (String, String) {
    let bound = |t: DateTime<Utc>| format!("{}#", sortable_time(t));
    (bound(from), bound(to + chrono::Duration::milliseconds(1)))
}

fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    is_code(e, "ConditionalCheckFailedException")
}

/// Where a per-user counter for one period (a throttle window, a day)
/// lives; how long it is kept is the [`Counter`]'s rule.
struct CounterRecord {
    counter: Counter,
    pk: String,
    sk: &'static str,
    /// The attribute that holds the period's start (epoch seconds).
    period_attribute: &'static str,
}

impl DynamoStore {
    /// Adds one to `record` for `user` in the period starting at `start`
    /// and returns the new count: one atomic `ADD`, so concurrent hits never
    /// undercount; the record expires (TTL) as the counter's rule says.
    async fn bump_counter(
        &self,
        record: CounterRecord,
        user: UserId,
        start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let period = Counter::period(start);
        let what = record.counter.name();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(record.pk))
            .key(A_SK, s(record.sk))
            .update_expression(
                "SET #user = :user, #period = :period, #expires = :expires ADD #count :one",
            )
            .expression_attribute_names("#user", A_USER)
            .expression_attribute_names("#period", record.period_attribute)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", A_COUNT)
            .expression_attribute_values(":user", n(user.0))
            .expression_attribute_values(":period", n(period))
            .expression_attribute_values(":expires", n(record.counter.expires_at(period)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.err(&format!("UpdateItem ({what})"), e))?;
        let attrs = out
            .attributes()
            .ok_or_else(|| StoreError::Corrupt(format!("{what} update returned no count")))?;
        let count: u64 = get_n(attrs, A_COUNT)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Every record of `user` whose sort key starts with `prefix`, read
    /// consistently (a user's next message sees what the last one changed).
    async fn user_records(&self, user: UserId, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let base = self
            .partition(Keys::Table, user_pk(user), SortKeys::Prefix(prefix.into()))
            .consistent_read(true);
        self.query_upto(base, None, usize::MAX).await
    }

    /// Deletes one record; true if it existed.
    async fn delete_record(&self, pk: String, sk: String) -> Result<bool, StoreError> {
        let out = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(A_PK, s(pk))
            .key(A_SK, s(sk))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.err("DeleteItem", e))?;
        Ok(out.attributes().is_some_and(|a| !a.is_empty()))
    }
}

// Each method lives with its record kind, in the module named here (one
// `impl` per narrow trait of `UserStore`).
#[async_trait]
impl UserProfiles for DynamoStore {
    async fn touch_user(&self, contact: &Contact) -> Result<(User, bool), StoreError> {
        profiles::touch_user(self, contact).await
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        profiles::user(self, id).await
    }

    async fn set_language(&self, id: UserId, lang: Option<Lang>) -> Result<(), StoreError> {
        profiles::set_language(self, id, lang).await
    }

    async fn mark_blocked(&self, id: UserId) -> Result<u32, StoreError> {
        profiles::mark_blocked(self, id).await
    }
}

#[async_trait]
impl Watches for DynamoStore {
    async fn add_watch(&self, watch: &Watch) -> Result<bool, StoreError> {
        watches::add_watch(self, watch).await
    }

    async fn remove_watch(&self, user: UserId, item: &ItemId) -> Result<bool, StoreError> {
        watches::remove_watch(self, user, item).await
    }

    async fn watches(&self, user: UserId) -> Result<Vec<Watch>, StoreError> {
        watches::watches(self, user).await
    }

    async fn clear_watches(&self, user: UserId) -> Result<u32, StoreError> {
        watches::clear_watches(self, user).await
    }

    async fn set_purchased(
        &self,
        user: UserId,
        item: &ItemId,
        at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        watches::set_purchased(self, user, item, at).await
    }
}

#[async_trait]
impl AlertStore for DynamoStore {
    async fn put_alert(&self, alert: &Alert) -> Result<(), StoreError> {
        alerts::put_alert(self, alert).await
    }

    async fn update_alert(&self, before: &Alert, after: &Alert) -> Result<bool, StoreError> {
        alerts::update_alert(self, before, after).await
    }

    async fn alerts(&self, user: UserId) -> Result<Vec<Alert>, StoreError> {
        alerts::alerts(self, user).await
    }

    async fn active_alerts_for(&self, targets: &[AlertTarget]) -> Result<Vec<Alert>, StoreError> {
        alerts::active_alerts_for(self, targets).await
    }

    async fn delete_alert(&self, user: UserId, id: &AlertId) -> Result<bool, StoreError> {
        alerts::delete_alert(self, user, id).await
    }

    async fn alert_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        expiring::alert_quota_hit(self, user, day_start).await
    }

    async fn alert_quota_used(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        expiring::alert_quota_used(self, user, day_start).await
    }

    async fn alert_quota_release(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        expiring::alert_quota_release(self, user, day_start).await
    }
}

#[async_trait]
impl TrackedPageStore for DynamoStore {
    async fn track_page(&self, page: &TrackedPage) -> Result<Tracking, StoreError> {
        tracking::track_page(self, page).await
    }

    async fn untrack_page(
        &self,
        user: UserId,
        source: &SourceId,
    ) -> Result<Untracking, StoreError> {
        tracking::untrack_page(self, user, source).await
    }

    async fn tracked_pages_of(&self, user: UserId) -> Result<Vec<TrackedPage>, StoreError> {
        tracking::tracked_pages_of(self, user).await
    }

    async fn tracked_page_count(&self) -> Result<u64, StoreError> {
        tracking::tracked_page_count(self).await
    }

    async fn tracked_pages(&self) -> Result<Vec<TrackedPage>, StoreError> {
        tracking::tracked_pages(self).await
    }

    async fn claim_track_job(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        tracking::claim_track_job(self, user, now, until).await
    }

    async fn release_track_job(&self, user: UserId) -> Result<(), StoreError> {
        tracking::release_track_job(self, user).await
    }

    async fn track_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        tracking::track_quota_hit(self, user, day_start).await
    }
}

#[async_trait]
impl UpdateGuard for DynamoStore {
    async fn claim_update(&self, update_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        expiring::claim_update(self, update_id, now).await
    }

    async fn throttle_hit(
        &self,
        user: UserId,
        window_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        expiring::throttle_hit(self, user, window_start).await
    }
}

#[async_trait]
impl Payloads for DynamoStore {
    async fn put_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        expiring::put_payload(self, key, value, expires_at).await
    }

    async fn payload(&self, key: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        expiring::payload(self, key, now).await
    }

    async fn claim_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        expiring::claim_payload(self, key, value, expires_at, now).await
    }
}

#[async_trait]
impl UsageLog for DynamoStore {
    async fn record_usage(&self, event: &UsageEvent) -> Result<(), StoreError> {
        usage::record_usage(self, event).await
    }

    async fn usage_stats(&self, now: DateTime<Utc>) -> Result<UsageStats, StoreError> {
        usage::usage_stats(self, now).await
    }
}
