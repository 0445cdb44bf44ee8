//! [`UserStore`] on DynamoDB: the bot's records in the same single table
//! (layout in `docs/dynamodb.md` and the table at the top of `mod.rs`).
//!
//! | record          | pk                               | sk                            | gsi1pk                          | gsi1sk                      | TTL |
//! |-----------------|----------------------------------|-------------------------------|---------------------------------|-----------------------------|-----|
//! | user profile    | `USER#<user>`                    | `PROFILE`                     | `USERS`                         | `<sortable last_seen>#<user>` |   |
//! | watch           | `USER#<user>`                    | `WATCH#<item id>`             |                                 |                             |     |
//! | alert           | `USER#<user>`                    | `ALERT#<alert id>`            | `ALERTS#item#<item>` or `ALERTS#series#<series>`, only while active | `<alert id>` | |
//! | update claimed  | `UPDATE#<update id>`             | `UPDATE`                      |                                 |                             | +24 h |
//! | throttle window | `THROTTLE#<user>#<window epoch s>` | `THROTTLE`                  |                                 |                             | window + 24 h |
//! | alert quota day | `QUOTA#<user>#<day epoch s>`     | `QUOTA`                       |                                 |                             | day + 48 h |
//! | payload         | `PAYLOAD#<key>`                  | `PAYLOAD`                     |                                 |                             | its expiry |
//! | track job claim | `TRACKJOB#<user>`                | `TRACKJOB`                    |                                 |                             | its end |
//! | track requests of a day | `TRACKQUOTA#<user>#<day epoch s>` | `TRACKQUOTA`        |                                 |                             | day + 48 h |
//! | usage event     | `USAGE#<yyyy-mm-dd>`             | `<sortable at>#<user>#<random>` |                               |                             |     |
//! | tracked page    | `TRACKED`                        | `PAGE#<source id>`            |                                 |                             |     |
//! | page a user tracks | `USER#<user>`                 | `TRACK#<source id>`           |                                 |                             |     |
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

use chrono::{DateTime, Duration, NaiveDate, Utc};
use futures::future::try_join_all;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, Select};

use super::{
    A_GSI1PK, A_GSI1SK, A_ITEM, A_NAME, A_PK, A_SK, A_SOURCE, DynamoStore, GSI1, Item,
    TTL_ATTRIBUTE, corrupt, get_opt_s, get_s, is_code, n, s,
};
use pricehound_core::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageKind,
    UsageStats, User, UserId, UserProfile, Watch,
};
use pricehound_core::domain::{Currency, ItemId, Money, SeriesId, SourceId};
use pricehound_core::store::{
    StoreError, Tracking, UPDATE_DEDUPE_TTL_HOURS, Untracking, UserStore, parse_sortable_time,
    sortable_time,
};

const PROFILE_SK: &str = "PROFILE";
const UPDATE_SK: &str = "UPDATE";
const THROTTLE_SK: &str = "THROTTLE";
const QUOTA_SK: &str = "QUOTA";
const PAYLOAD_SK: &str = "PAYLOAD";
const TRACK_JOB_SK: &str = "TRACKJOB";
const TRACK_QUOTA_SK: &str = "TRACKQUOTA";
const WATCH_PREFIX: &str = "WATCH#";
const ALERT_PREFIX: &str = "ALERT#";
/// The partition holding every tracked page, sorted by source id.
const TRACKED_PK: &str = "TRACKED";
const PAGE_PREFIX: &str = "PAGE#";
/// A user's tracked pages, under the user.
const TRACK_PREFIX: &str = "TRACK#";
/// The index partition holding every user profile, sorted by last seen.
const USERS_GSI1PK: &str = "USERS";

/// How long a throttle window's counter is kept after the window started
/// (its TTL). Windows are much shorter; this only bounds the table.
const THROTTLE_KEEP_SECS: i64 = 24 * 3600;
/// How long a day's alert quota counter is kept after the day started (its TTL).
const ALERT_QUOTA_KEEP_SECS: i64 = 48 * 3600;
/// How long a day's track request counter is kept after the day started (its TTL).
const TRACK_QUOTA_KEEP_SECS: i64 = 48 * 3600;
/// How many day partitions of usage events `usage_stats` reads at once.
const USAGE_QUERY_CONCURRENCY: usize = 8;

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

const KIND_COMMAND: &str = "command";
const KIND_ALERT_SENT: &str = "alert_sent";

fn user_pk(user: UserId) -> String {
    format!("USER#{user}")
}

/// A profile's place in the `USERS` index partition: last seen, then id, so
/// "seen in a window" is one key range.
fn user_gsi1sk(last_seen: DateTime<Utc>, user: UserId) -> String {
    format!("{}#{user}", sortable_time(last_seen))
}

fn watch_sk(item: &ItemId) -> String {
    format!("{WATCH_PREFIX}{item}")
}

fn alert_sk(id: &AlertId) -> String {
    format!("{ALERT_PREFIX}{id}")
}

fn target_parts(target: &AlertTarget) -> (&'static str, &str) {
    match target {
        AlertTarget::Item(item) => ("item", item.as_str()),
        AlertTarget::Series(series) => ("series", series.as_str()),
    }
}

/// The index partition of the active alerts on `target`.
fn alert_gsi1pk(target: &AlertTarget) -> String {
    let (kind, id) = target_parts(target);
    format!("ALERTS#{kind}#{id}")
}

fn page_sk(source: &SourceId) -> String {
    format!("{PAGE_PREFIX}{source}")
}

fn track_sk(source: &SourceId) -> String {
    format!("{TRACK_PREFIX}{source}")
}

/// True when `item` has a number set `trackers` holding `user`.
fn tracked_by(item: Option<&Item>, user: UserId) -> bool {
    let want = user.0.to_string();
    matches!(item.and_then(|i| i.get(A_TRACKERS)), Some(AttributeValue::Ns(ids)) if ids.contains(&want))
}

fn update_pk(update_id: i64) -> String {
    format!("UPDATE#{update_id}")
}

fn throttle_pk(user: UserId, window: i64) -> String {
    format!("THROTTLE#{user}#{window}")
}

fn quota_pk(user: UserId, day: i64) -> String {
    format!("QUOTA#{user}#{day}")
}

fn track_job_pk(user: UserId) -> String {
    format!("TRACKJOB#{user}")
}

fn track_quota_pk(user: UserId, day: i64) -> String {
    format!("TRACKQUOTA#{user}#{day}")
}

/// Epoch seconds for the TTL attribute, rounded up so DynamoDB never
/// deletes a record before `ms`.
fn ttl_secs(ms: i64) -> i64 {
    ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)
}

fn payload_pk(key: &str) -> String {
    format!("PAYLOAD#{key}")
}

/// The partition of the usage events of one UTC day.
fn usage_pk(day: NaiveDate) -> String {
    format!("USAGE#{}", day.format("%Y-%m-%d"))
}

/// The first sort key of usage events at or after `t` (the random part
/// follows the second `#`, so `<t>#` sorts before every event at `t`).
fn usage_bound(t: DateTime<Utc>) -> String {
    format!("{}#", sortable_time(t))
}

/// 16 hex characters that keep two events of one user in one millisecond
/// apart. Not secret: the std hasher is seeded per process, a counter and the
/// clock tell calls apart.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    format!("{:016x}", h.finish())
}

fn condition_failed<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    is_code(e, "ConditionalCheckFailedException")
}

fn boolean(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

fn get_bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    match item.get(name) {
        Some(AttributeValue::Bool(v)) => Ok(*v),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a boolean"
        ))),
    }
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|e| corrupt(name, e)),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
    }
}

fn opt_string(item: &Item, name: &str) -> Result<Option<String>, StoreError> {
    Ok(get_opt_s(item, name)?.map(str::to_string))
}

fn user_from_item(item: &Item) -> Result<User, StoreError> {
    let chosen_lang = get_opt_s(item, A_CHOSEN_LANG)?
        .map(|code| Lang::from_code(code).ok_or_else(|| corrupt(A_CHOSEN_LANG, code)))
        .transpose()?;
    Ok(User {
        profile: UserProfile {
            id: UserId(get_n(item, A_USER)?),
            first_name: get_s(item, A_FIRST_NAME)?.to_string(),
            last_name: opt_string(item, A_LAST_NAME)?,
            username: opt_string(item, A_USERNAME)?,
            language_code: opt_string(item, A_LANGUAGE_CODE)?,
        },
        chosen_lang,
        referrer: opt_string(item, A_REFERRER)?,
        first_seen: parse_sortable_time(get_s(item, A_FIRST_SEEN)?)?,
        last_seen: parse_sortable_time(get_s(item, A_LAST_SEEN)?)?,
        blocked: get_bool(item, A_BLOCKED)?,
    })
}

fn watch_from_item(item: &Item) -> Result<Watch, StoreError> {
    Ok(Watch {
        user: UserId(get_n(item, A_USER)?),
        item: ItemId::new(get_s(item, A_ITEM)?).map_err(|e| corrupt(A_ITEM, e))?,
        created_at: parse_sortable_time(get_s(item, A_CREATED)?)?,
    })
}

/// The attributes of an alert record, index keys included while it is active.
fn alert_attributes(alert: &Alert) -> Vec<(&'static str, AttributeValue)> {
    let (kind, target_id) = target_parts(&alert.target);
    // Amounts inside the rule are decimal strings (serde-str), never floats.
    let rule = serde_json::to_string(&alert.rule).expect("alert rules always serialise");
    let mut attrs = vec![
        (A_PK, s(user_pk(alert.user))),
        (A_SK, s(alert_sk(&alert.id))),
        (A_USER, n(alert.user.0)),
        (A_ALERT_ID, s(alert.id.as_str())),
        (A_TARGET_KIND, s(kind)),
        (A_TARGET_ID, s(target_id)),
        (A_RULE, s(rule)),
        (A_CREATED, s(sortable_time(alert.created_at))),
        (A_ACTIVE, boolean(alert.active)),
        (A_ARMED, boolean(alert.armed)),
    ];
    if alert.active {
        attrs.push((A_GSI1PK, s(alert_gsi1pk(&alert.target))));
        attrs.push((A_GSI1SK, s(alert.id.as_str())));
    }
    if let Some(price) = &alert.reference_price {
        attrs.push((A_REF_AMOUNT, s(price.amount.to_string())));
        attrs.push((A_REF_CURRENCY, s(price.currency.code())));
    }
    if let Some(t) = alert.last_fired_at {
        attrs.push((A_LAST_FIRED, s(sortable_time(t))));
    }
    attrs
}

fn alert_from_item(item: &Item) -> Result<Alert, StoreError> {
    let target_id = get_s(item, A_TARGET_ID)?;
    let target = match get_s(item, A_TARGET_KIND)? {
        "item" => AlertTarget::Item(ItemId::new(target_id).map_err(|e| corrupt(A_TARGET_ID, e))?),
        "series" => {
            AlertTarget::Series(SeriesId::new(target_id).map_err(|e| corrupt(A_TARGET_ID, e))?)
        }
        other => return Err(corrupt(A_TARGET_KIND, other)),
    };
    let rule: AlertRule =
        serde_json::from_str(get_s(item, A_RULE)?).map_err(|e| corrupt(A_RULE, e))?;
    let reference_price = match (
        get_opt_s(item, A_REF_AMOUNT)?,
        get_opt_s(item, A_REF_CURRENCY)?,
    ) {
        (Some(amount), Some(currency)) => Some(Money {
            amount: amount.parse().map_err(|e| corrupt(A_REF_AMOUNT, e))?,
            currency: Currency::new(currency).map_err(|e| corrupt(A_REF_CURRENCY, e))?,
        }),
        (None, None) => None,
        _ => {
            return Err(StoreError::Corrupt(format!(
                "{A_REF_AMOUNT} and {A_REF_CURRENCY} must be both present or both absent"
            )));
        }
    };
    Ok(Alert {
        id: AlertId::try_from(get_s(item, A_ALERT_ID)?.to_string())
            .map_err(|e| corrupt(A_ALERT_ID, e))?,
        user: UserId(get_n(item, A_USER)?),
        target,
        rule,
        created_at: parse_sortable_time(get_s(item, A_CREATED)?)?,
        active: get_bool(item, A_ACTIVE)?,
        armed: get_bool(item, A_ARMED)?,
        reference_price,
        last_fired_at: get_opt_s(item, A_LAST_FIRED)?
            .map(parse_sortable_time)
            .transpose()?,
    })
}

fn tracked_page_from_item(item: &Item) -> Result<TrackedPage, StoreError> {
    Ok(TrackedPage {
        source_id: SourceId::new(get_s(item, A_SOURCE)?).map_err(|e| corrupt(A_SOURCE, e))?,
        url: get_s(item, A_URL)?.to_string(),
        name: get_s(item, A_NAME)?.to_string(),
        added_by: UserId(get_n(item, A_ADDED_BY)?),
        added_at: parse_sortable_time(get_s(item, A_ADDED_AT)?)?,
    })
}

/// A per-user counter record for one period (a throttle window, a day):
/// where it lives and how long it is kept.
struct Counter {
    pk: String,
    sk: &'static str,
    /// The attribute that holds the period's start (epoch seconds).
    period_attribute: &'static str,
    keep_secs: i64,
    /// For errors: "throttle", "track quota".
    what: &'static str,
}

impl DynamoStore {
    /// Adds one to `counter` for `user` in the period starting at `period`
    /// and returns the new count: one atomic `ADD`, so concurrent hits never
    /// undercount; the record expires (TTL) `keep_secs` after the period.
    async fn bump_counter(
        &self,
        counter: Counter,
        user: UserId,
        period: i64,
    ) -> Result<u32, StoreError> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(counter.pk))
            .key(A_SK, s(counter.sk))
            .update_expression(
                "SET #user = :user, #period = :period, #expires = :expires ADD #count :one",
            )
            .expression_attribute_names("#user", A_USER)
            .expression_attribute_names("#period", counter.period_attribute)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", A_COUNT)
            .expression_attribute_values(":user", n(user.0))
            .expression_attribute_values(":period", n(period))
            .expression_attribute_values(":expires", n(period + counter.keep_secs))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.err(&format!("UpdateItem ({})", counter.what), e))?;
        let attrs = out.attributes().ok_or_else(|| {
            StoreError::Corrupt(format!("{} update returned no count", counter.what))
        })?;
        let count: u64 = get_n(attrs, A_COUNT)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    /// Every record of `user` whose sort key starts with `prefix`, read
    /// consistently (a user's next message sees what the last one changed).
    async fn user_records(&self, user: UserId, prefix: &str) -> Result<Vec<Item>, StoreError> {
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#sk", A_SK)
            .expression_attribute_values(":pk", s(user_pk(user)))
            .expression_attribute_values(":prefix", s(prefix))
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

    /// Runs a `Select=COUNT` query over all its pages.
    async fn count_query(
        &self,
        base: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
    ) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = base
                .clone()
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.err("Query (count)", e))?;
            total += u64::try_from(out.count()).unwrap_or_default();
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(total),
            }
        }
    }

    /// Users whose last seen lies in `[from, to]` (milliseconds), counted on
    /// the `USERS` index partition; without bounds, every user.
    async fn count_users(
        &self,
        range: Option<(DateTime<Utc>, DateTime<Utc>)>,
    ) -> Result<u64, StoreError> {
        let mut base = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", A_GSI1PK)
            .expression_attribute_values(":pk", s(USERS_GSI1PK));
        base = match range {
            None => base.key_condition_expression("#pk = :pk"),
            // `<t>#` sorts before every key at t (the id follows the '#'):
            // BETWEEN `<from>#` AND `<to + 1 ms>#` is [from, to] to the millisecond.
            Some((from, to)) => base
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .expression_attribute_names("#sk", A_GSI1SK)
                .expression_attribute_values(":lo", s(format!("{}#", sortable_time(from))))
                .expression_attribute_values(
                    ":hi",
                    s(format!(
                        "{}#",
                        sortable_time(to + Duration::milliseconds(1))
                    )),
                ),
        };
        self.count_query(base).await
    }

    /// The usage events of one day partition with times in `[lo, hi]` (sort
    /// key bounds), only the attributes the statistics need.
    async fn usage_events_of_day(
        &self,
        day: NaiveDate,
        lo: &str,
        hi: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .projection_expression("#kind, #name")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#sk", A_SK)
            .expression_attribute_names("#kind", A_KIND)
            .expression_attribute_names("#name", A_NAME)
            .expression_attribute_values(":pk", s(usage_pk(day)))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi));
        self.query_upto(base, None, usize::MAX).await
    }

    /// Updates a known user's profile from a later contact and clears
    /// `blocked`. With `forward`, only if the contact is newer than last seen,
    /// and then last seen (and its index key) move to it; returns None when
    /// the condition fails (no such user, or not newer).
    async fn update_profile(
        &self,
        contact: &Contact,
        forward: bool,
    ) -> Result<Option<Item>, StoreError> {
        let p = &contact.profile;
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(p.id)))
            .key(A_SK, s(PROFILE_SK))
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#first_name", A_FIRST_NAME)
            .expression_attribute_names("#blocked", A_BLOCKED)
            .expression_attribute_values(":first_name", s(&p.first_name))
            .expression_attribute_values(":false", boolean(false))
            .return_values(ReturnValue::AllNew);
        let mut sets = vec![
            "#first_name = :first_name".to_string(),
            "#blocked = :false".into(),
        ];
        let mut removes = Vec::new();
        for (name, value) in [
            (A_LAST_NAME, &p.last_name),
            (A_USERNAME, &p.username),
            (A_LANGUAGE_CODE, &p.language_code),
        ] {
            update = update.expression_attribute_names(format!("#{name}"), name);
            match value {
                Some(v) => {
                    sets.push(format!("#{name} = :{name}"));
                    update = update.expression_attribute_values(format!(":{name}"), s(v));
                }
                None => removes.push(format!("#{name}")),
            }
        }
        if forward {
            sets.push("#last_seen = :at".into());
            sets.push("#gsi1sk = :gsi1sk".into());
            update = update
                .condition_expression("attribute_exists(#pk) AND #last_seen < :at")
                .expression_attribute_names("#last_seen", A_LAST_SEEN)
                .expression_attribute_names("#gsi1sk", A_GSI1SK)
                .expression_attribute_values(":at", s(sortable_time(contact.at)))
                .expression_attribute_values(":gsi1sk", s(user_gsi1sk(contact.at, p.id)));
        } else {
            update = update.condition_expression("attribute_exists(#pk)");
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if !removes.is_empty() {
            expression.push_str(&format!(" REMOVE {}", removes.join(", ")));
        }
        match update.update_expression(expression).send().await {
            Ok(out) => Ok(Some(out.attributes().cloned().unwrap_or_default())),
            Err(e) if condition_failed(&e) => Ok(None),
            Err(e) => Err(self.err("UpdateItem (user)", e)),
        }
    }

    /// Sets or removes one attribute of a known user's profile; an unknown
    /// user is left unknown (no half record is created).
    async fn update_known_user(
        &self,
        id: UserId,
        name: &str,
        value: Option<AttributeValue>,
    ) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(id)))
            .key(A_SK, s(PROFILE_SK))
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#attr", name);
        let update = match value {
            Some(v) => update
                .update_expression("SET #attr = :v")
                .expression_attribute_values(":v", v),
            None => update.update_expression("REMOVE #attr"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.err("UpdateItem (user)", e)),
        }
    }

    /// The active alerts on one target, by alert id (then user).
    async fn active_alerts_on(&self, target: &AlertTarget) -> Result<Vec<Alert>, StoreError> {
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", A_GSI1PK)
            .expression_attribute_values(":pk", s(alert_gsi1pk(target)));
        let rows = self.query_upto(base, None, usize::MAX).await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        // Only active alerts carry the index keys; this is a guard.
        alerts.retain(|a| a.active);
        // Equal index keys (one id at two users) have no defined order.
        alerts.sort_by(|a, b| (&a.id, a.user).cmp(&(&b.id, b.user)));
        Ok(alerts)
    }
}

#[async_trait]
impl UserStore for DynamoStore {
    async fn claim_update(&self, update_id: i64, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let now = now.timestamp();
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(update_pk(update_id)))
            .item(A_SK, s(UPDATE_SK))
            .item(A_UPDATE_ID, n(update_id))
            .item(TTL_ATTRIBUTE, n(now + UPDATE_DEDUPE_TTL_HOURS * 3600))
            // TTL deletes lazily: a claim past its expiry may still be there
            // and must not block.
            .condition_expression("attribute_not_exists(#pk) OR #expires < :now")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err("PutItem (update claim)", e)),
        }
    }

    async fn touch_user(&self, contact: &Contact) -> Result<(User, bool), StoreError> {
        let p = &contact.profile;
        let at = sortable_time(contact.at);
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(user_pk(p.id)))
            .item(A_SK, s(PROFILE_SK))
            .item(A_GSI1PK, s(USERS_GSI1PK))
            .item(A_GSI1SK, s(user_gsi1sk(contact.at, p.id)))
            .item(A_USER, n(p.id.0))
            .item(A_FIRST_NAME, s(&p.first_name))
            .item(A_FIRST_SEEN, s(&at))
            .item(A_LAST_SEEN, s(&at))
            .item(A_BLOCKED, boolean(false))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", A_PK);
        for (name, value) in [
            (A_LAST_NAME, &p.last_name),
            (A_USERNAME, &p.username),
            (A_LANGUAGE_CODE, &p.language_code),
            (A_REFERRER, &contact.referrer),
        ] {
            if let Some(v) = value {
                put = put.item(name, s(v));
            }
        }
        match put.send().await {
            Ok(_) => {
                // Read back through the parser, so both paths return the
                // stored precision (milliseconds).
                let user = User {
                    profile: p.clone(),
                    chosen_lang: None,
                    referrer: contact.referrer.clone(),
                    first_seen: parse_sortable_time(&at)?,
                    last_seen: parse_sortable_time(&at)?,
                    blocked: false,
                };
                return Ok((user, true));
            }
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(self.err("PutItem (user)", e)),
        }
        // A later contact. Usually newer than last seen; a late retry of an
        // older update still refreshes the profile but not last seen.
        let item = match self.update_profile(contact, true).await? {
            Some(item) => item,
            None => self.update_profile(contact, false).await?.ok_or_else(|| {
                StoreError::Backend(format!("user {} vanished while being updated", p.id))
            })?,
        };
        Ok((user_from_item(&item)?, false))
    }

    async fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(id)))
            .key(A_SK, s(PROFILE_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem (user)", e))?;
        out.item()
            .filter(|i| !i.is_empty())
            .map(user_from_item)
            .transpose()
    }

    async fn set_language(&self, id: UserId, lang: Option<Lang>) -> Result<(), StoreError> {
        self.update_known_user(id, A_CHOSEN_LANG, lang.map(|l| s(l.code())))
            .await
    }

    async fn mark_blocked(&self, id: UserId) -> Result<u32, StoreError> {
        self.update_known_user(id, A_BLOCKED, Some(boolean(true)))
            .await?;
        let mut deactivated = 0;
        for row in self.user_records(id, ALERT_PREFIX).await? {
            if !get_bool(&row, A_ACTIVE)? {
                continue;
            }
            // Conditioned on still being active, so a racing call counts
            // each alert once; the index keys go with `active`.
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(A_PK, s(get_s(&row, A_PK)?))
                .key(A_SK, s(get_s(&row, A_SK)?))
                .update_expression("SET #active = :false REMOVE #gsi1pk, #gsi1sk")
                .condition_expression("#active = :true")
                .expression_attribute_names("#active", A_ACTIVE)
                .expression_attribute_names("#gsi1pk", A_GSI1PK)
                .expression_attribute_names("#gsi1sk", A_GSI1SK)
                .expression_attribute_values(":false", boolean(false))
                .expression_attribute_values(":true", boolean(true))
                .send()
                .await;
            match result {
                Ok(_) => deactivated += 1,
                Err(e) if condition_failed(&e) => {}
                Err(e) => return Err(self.err("UpdateItem (alert)", e)),
            }
        }
        Ok(deactivated)
    }

    async fn throttle_hit(
        &self,
        user: UserId,
        window_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let window = window_start.timestamp();
        self.bump_counter(
            Counter {
                pk: throttle_pk(user, window),
                sk: THROTTLE_SK,
                period_attribute: A_WINDOW,
                keep_secs: THROTTLE_KEEP_SECS,
                what: "throttle",
            },
            user,
            window,
        )
        .await
    }

    async fn alert_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let day = day_start.timestamp();
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(quota_pk(user, day)))
            .key(A_SK, s(QUOTA_SK))
            .update_expression(
                "SET #user = :user, #day = :day, #expires = :expires ADD #count :one",
            )
            .expression_attribute_names("#user", A_USER)
            .expression_attribute_names("#day", A_DAY)
            .expression_attribute_names("#expires", TTL_ATTRIBUTE)
            .expression_attribute_names("#count", A_COUNT)
            .expression_attribute_values(":user", n(user.0))
            .expression_attribute_values(":day", n(day))
            .expression_attribute_values(":expires", n(day + ALERT_QUOTA_KEEP_SECS))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| self.err("UpdateItem (alert quota)", e))?;
        let attrs = out
            .attributes()
            .ok_or_else(|| StoreError::Corrupt("alert quota update returned no count".into()))?;
        let count: u64 = get_n(attrs, A_COUNT)?;
        Ok(u32::try_from(count).unwrap_or(u32::MAX))
    }

    async fn claim_track_job(
        &self,
        user: UserId,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let until_ms = until.timestamp_millis();
        // One conditional put: a new claim, or one over a lapsed or
        // released claim (TTL deletes lazily, so the time is checked).
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(track_job_pk(user)))
            .item(A_SK, s(TRACK_JOB_SK))
            .item(A_USER, n(user.0))
            .item(A_UNTIL_MS, n(until_ms))
            .item(TTL_ATTRIBUTE, n(ttl_secs(until_ms)))
            .condition_expression("attribute_not_exists(#pk) OR #until <= :now")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#until", A_UNTIL_MS)
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err("PutItem (track job)", e)),
        }
    }

    async fn release_track_job(&self, user: UserId) -> Result<(), StoreError> {
        // An update, not a delete: the notify function, which ends most
        // jobs, may update the table but not delete from it. Conditioned
        // on the claim existing, so a release never creates a record.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(track_job_pk(user)))
            .key(A_SK, s(TRACK_JOB_SK))
            .update_expression("SET #until = :zero")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#until", A_UNTIL_MS)
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if condition_failed(&e) => Ok(()),
            Err(e) => Err(self.err("UpdateItem (track job)", e)),
        }
    }

    async fn track_quota_hit(
        &self,
        user: UserId,
        day_start: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let day = day_start.timestamp();
        self.bump_counter(
            Counter {
                pk: track_quota_pk(user, day),
                sk: TRACK_QUOTA_SK,
                period_attribute: A_DAY,
                keep_secs: TRACK_QUOTA_KEEP_SECS,
                what: "track quota",
            },
            user,
            day,
        )
        .await
    }

    async fn add_watch(&self, watch: &Watch) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(user_pk(watch.user)))
            .item(A_SK, s(watch_sk(&watch.item)))
            .item(A_USER, n(watch.user.0))
            .item(A_ITEM, s(watch.item.as_str()))
            .item(A_CREATED, s(sortable_time(watch.created_at)))
            // A second add keeps the first one's time.
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err("PutItem (watch)", e)),
        }
    }

    async fn remove_watch(&self, user: UserId, item: &ItemId) -> Result<bool, StoreError> {
        self.delete_record(user_pk(user), watch_sk(item)).await
    }

    async fn watches(&self, user: UserId) -> Result<Vec<Watch>, StoreError> {
        let rows = self.user_records(user, WATCH_PREFIX).await?;
        let mut watches = rows
            .iter()
            .map(watch_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        // The table orders by item; the trait wants oldest first.
        watches.sort_by(|a, b| (a.created_at, &a.item).cmp(&(b.created_at, &b.item)));
        Ok(watches)
    }

    async fn clear_watches(&self, user: UserId) -> Result<u32, StoreError> {
        let mut removed = 0;
        for row in self.user_records(user, WATCH_PREFIX).await? {
            // Counted by what each delete found, so a racing clear or
            // remove never makes the total wrong.
            if self
                .delete_record(user_pk(user), get_s(&row, A_SK)?.to_string())
                .await?
            {
                removed += 1;
            }
        }
        Ok(removed)
    }

    async fn put_alert(&self, alert: &Alert) -> Result<(), StoreError> {
        // A whole-record replace: an inactive alert's put leaves no index keys.
        let mut put = self.client.put_item().table_name(&self.table);
        for (name, value) in alert_attributes(alert) {
            put = put.item(name, value);
        }
        put.send()
            .await
            .map_err(|e| self.err("PutItem (alert)", e))?;
        Ok(())
    }

    async fn alerts(&self, user: UserId) -> Result<Vec<Alert>, StoreError> {
        let rows = self.user_records(user, ALERT_PREFIX).await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        alerts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(alerts)
    }

    async fn active_alerts_for(&self, targets: &[AlertTarget]) -> Result<Vec<Alert>, StoreError> {
        // A target given twice is looked up once; one query per target, all at once.
        let mut unique: Vec<&AlertTarget> = Vec::with_capacity(targets.len());
        for t in targets {
            if !unique.contains(&t) {
                unique.push(t);
            }
        }
        let per_target = try_join_all(unique.into_iter().map(|t| self.active_alerts_on(t))).await?;
        Ok(per_target.into_iter().flatten().collect())
    }

    async fn delete_alert(&self, user: UserId, id: &AlertId) -> Result<bool, StoreError> {
        // The key holds the user: another user's alert id finds nothing.
        self.delete_record(user_pk(user), alert_sk(id)).await
    }

    async fn put_payload(
        &self,
        key: &str,
        value: &str,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let ms = expires_at.timestamp_millis();
        self.client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(payload_pk(key)))
            .item(A_SK, s(PAYLOAD_SK))
            .item(A_PAYLOAD, s(value))
            .item(A_EXPIRES_MS, n(ms))
            .item(
                TTL_ATTRIBUTE,
                n(ms.div_euclid(1000) + i64::from(ms.rem_euclid(1000) > 0)),
            )
            .send()
            .await
            .map_err(|e| self.err("PutItem (payload)", e))?;
        Ok(())
    }

    async fn payload(&self, key: &str, now: DateTime<Utc>) -> Result<Option<String>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(payload_pk(key)))
            .key(A_SK, s(PAYLOAD_SK))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem (payload)", e))?;
        let Some(item) = out.item().filter(|i| !i.is_empty()) else {
            return Ok(None);
        };
        // TTL deletion is lazy: an expired record may still be there.
        let expires_ms: i64 = get_n(item, A_EXPIRES_MS)?;
        if expires_ms <= now.timestamp_millis() {
            return Ok(None);
        }
        Ok(Some(get_s(item, A_PAYLOAD)?.to_string()))
    }

    async fn track_page(&self, page: &TrackedPage) -> Result<Tracking, StoreError> {
        let user = page.added_by;
        // One atomic update: the first add sets URL, name, adder and time
        // (later adds keep them), and the user joins the set once.
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(TRACKED_PK))
            .key(A_SK, s(page_sk(&page.source_id)))
            .update_expression(
                "SET #source = if_not_exists(#source, :source), #url = if_not_exists(#url, :url), \
                 #name = if_not_exists(#name, :name), #by = if_not_exists(#by, :by), \
                 #at = if_not_exists(#at, :at) ADD #trackers :user",
            )
            .expression_attribute_names("#source", A_SOURCE)
            .expression_attribute_names("#url", A_URL)
            .expression_attribute_names("#name", A_NAME)
            .expression_attribute_names("#by", A_ADDED_BY)
            .expression_attribute_names("#at", A_ADDED_AT)
            .expression_attribute_names("#trackers", A_TRACKERS)
            .expression_attribute_values(":source", s(page.source_id.as_str()))
            .expression_attribute_values(":url", s(&page.url))
            .expression_attribute_values(":name", s(&page.name))
            .expression_attribute_values(":by", n(user.0))
            .expression_attribute_values(":at", s(sortable_time(page.added_at)))
            .expression_attribute_values(":user", AttributeValue::Ns(vec![user.0.to_string()]))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.err("UpdateItem (tracked page)", e))?;
        let old = out.attributes().filter(|a| !a.is_empty());
        let page_added = old.is_none_or(|a| !a.contains_key(A_URL));
        let user_added = !tracked_by(old, user);
        // The user's own record, for their count and list; a second track
        // keeps the first one's time.
        let put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(user_pk(user)))
            .item(A_SK, s(track_sk(&page.source_id)))
            .item(A_SOURCE, s(page.source_id.as_str()))
            .item(A_ADDED_AT, s(sortable_time(page.added_at)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .send()
            .await;
        match put {
            Ok(_) => {}
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(self.err("PutItem (tracked page of user)", e)),
        }
        Ok(Tracking {
            page_added,
            user_added,
        })
    }

    async fn untrack_page(
        &self,
        user: UserId,
        source: &SourceId,
    ) -> Result<Untracking, StoreError> {
        // Out of the page's set first: a crash before the user's record is
        // deleted leaves a record a retry removes, never a page kept alive
        // by nobody.
        let removed = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(TRACKED_PK))
            .key(A_SK, s(page_sk(source)))
            .update_expression("DELETE #trackers :user")
            .condition_expression("attribute_exists(#pk)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#trackers", A_TRACKERS)
            .expression_attribute_values(":user", AttributeValue::Ns(vec![user.0.to_string()]))
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let (in_set, now_empty) = match removed {
            Ok(out) => {
                let old = out.attributes().filter(|a| !a.is_empty());
                let want = user.0.to_string();
                let empty = match old.and_then(|a| a.get(A_TRACKERS)) {
                    Some(AttributeValue::Ns(ids)) => ids.iter().all(|id| *id == want),
                    _ => true,
                };
                (tracked_by(old, user), empty)
            }
            Err(e) if condition_failed(&e) => (false, false),
            Err(e) => return Err(self.err("UpdateItem (untrack page)", e)),
        };
        let record = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(A_PK, s(user_pk(user)))
            .key(A_SK, s(track_sk(source)))
            .return_values(ReturnValue::AllOld)
            .send()
            .await
            .map_err(|e| self.err("DeleteItem (tracked page of user)", e))?;
        let had_record = record.attributes().is_some_and(|a| !a.is_empty());
        let was_tracking = in_set || had_record;
        let mut page_removed = false;
        // Only someone who tracked the page may make it expire (a forged
        // untrack of another's page must not delete it).
        if was_tracking && now_empty {
            let deleted = self
                .client
                .delete_item()
                .table_name(&self.table)
                .key(A_PK, s(TRACKED_PK))
                .key(A_SK, s(page_sk(source)))
                .condition_expression("attribute_exists(#pk) AND attribute_not_exists(#trackers)")
                .expression_attribute_names("#pk", A_PK)
                .expression_attribute_names("#trackers", A_TRACKERS)
                .send()
                .await;
            page_removed = match deleted {
                Ok(_) => true,
                // Someone started tracking it in between: it stays.
                Err(e) if condition_failed(&e) => false,
                Err(e) => return Err(self.err("DeleteItem (expired tracked page)", e)),
            };
        }
        Ok(Untracking {
            was_tracking,
            page_removed,
        })
    }

    async fn tracked_pages_of(&self, user: UserId) -> Result<Vec<TrackedPage>, StoreError> {
        let rows = self.user_records(user, TRACK_PREFIX).await?;
        let mut pages = Vec::with_capacity(rows.len());
        // A user tracks at most a few dozen pages: one read each is cheap,
        // and keeps URL and name in one place (the page record).
        for row in rows {
            let source = SourceId::new(get_s(&row, A_SOURCE)?).map_err(|e| corrupt(A_SOURCE, e))?;
            let out = self
                .client
                .get_item()
                .table_name(&self.table)
                .key(A_PK, s(TRACKED_PK))
                .key(A_SK, s(page_sk(&source)))
                .consistent_read(true)
                .send()
                .await
                .map_err(|e| self.err("GetItem (tracked page)", e))?;
            // A record whose page is gone (an interrupted untrack) is not
            // tracking anything.
            let Some(page) = out.item().filter(|i| i.contains_key(A_URL)) else {
                continue;
            };
            let mut page = tracked_page_from_item(page)?;
            page.added_by = user;
            page.added_at = parse_sortable_time(get_s(&row, A_ADDED_AT)?)?;
            pages.push(page);
        }
        Ok(pages)
    }

    async fn tracked_page_count(&self) -> Result<u64, StoreError> {
        let mut count = 0u64;
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#pk", A_PK)
                .expression_attribute_names("#sk", A_SK)
                .expression_attribute_values(":pk", s(TRACKED_PK))
                .expression_attribute_values(":prefix", s(PAGE_PREFIX))
                .select(Select::Count)
                .consistent_read(true)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.err("Query (tracked page count)", e))?;
            count += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        Ok(count)
    }

    async fn tracked_pages(&self) -> Result<Vec<TrackedPage>, StoreError> {
        // One partition, sorted by source id: the table order is the trait's.
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#sk", A_SK)
            .expression_attribute_values(":pk", s(TRACKED_PK))
            .expression_attribute_values(":prefix", s(PAGE_PREFIX))
            .consistent_read(true);
        let rows = self.query_upto(base, None, usize::MAX).await?;
        rows.iter().map(tracked_page_from_item).collect()
    }

    async fn record_usage(&self, event: &UsageEvent) -> Result<(), StoreError> {
        let sk = format!(
            "{}#{}#{}",
            sortable_time(event.at),
            event.user,
            random_token()
        );
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(usage_pk(event.at.date_naive())))
            .item(A_SK, s(sk))
            .item(A_USER, n(event.user.0))
            .item(A_AT, s(sortable_time(event.at)));
        put = match &event.kind {
            UsageKind::Command(name) => put.item(A_KIND, s(KIND_COMMAND)).item(A_NAME, s(name)),
            UsageKind::AlertSent => put.item(A_KIND, s(KIND_ALERT_SENT)),
        };
        put.send()
            .await
            .map_err(|e| self.err("PutItem (usage)", e))?;
        Ok(())
    }

    async fn usage_stats(&self, now: DateTime<Utc>) -> Result<UsageStats, StoreError> {
        // Every window is (now - length, now] to the millisecond, like SQLite:
        // the inclusive range starts one millisecond after now - length.
        let now = DateTime::from_timestamp_millis(now.timestamp_millis())
            .ok_or_else(|| StoreError::Backend(format!("time out of range: {now}")))?;
        let after = |d: Duration| now - d + Duration::milliseconds(1);
        let users = self.count_users(None).await?;
        let daily_active = self
            .count_users(Some((after(Duration::hours(24)), now)))
            .await?;
        let weekly_active = self
            .count_users(Some((after(Duration::days(7)), now)))
            .await?;
        let monthly_active = self
            .count_users(Some((after(Duration::days(30)), now)))
            .await?;

        // Usage events: one query per UTC day partition the window touches
        // (31 of them), bounded by the window's sort keys.
        let from = after(Duration::days(30));
        let (lo, hi) = (
            usage_bound(from),
            usage_bound(now + Duration::milliseconds(1)),
        );
        let days: Vec<NaiveDate> = from
            .date_naive()
            .iter_days()
            .take_while(|d| *d <= now.date_naive())
            .collect();
        use futures::stream::{self, StreamExt, TryStreamExt};
        let pages: Vec<Vec<Item>> = stream::iter(days)
            .map(|day| {
                let (lo, hi) = (lo.clone(), hi.clone());
                async move { self.usage_events_of_day(day, &lo, &hi).await }
            })
            .buffered(USAGE_QUERY_CONCURRENCY)
            .try_collect()
            .await?;
        let mut alerts_sent = 0u64;
        let mut commands: std::collections::HashMap<String, u64> = Default::default();
        for row in pages.iter().flatten() {
            match get_s(row, A_KIND)? {
                KIND_COMMAND => *commands.entry(get_s(row, A_NAME)?.to_string()).or_default() += 1,
                KIND_ALERT_SENT => alerts_sent += 1,
                other => return Err(corrupt(A_KIND, other)),
            }
        }
        let mut commands: Vec<(String, u64)> = commands.into_iter().collect();
        commands.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(UsageStats {
            users,
            daily_active,
            weekly_active,
            monthly_active,
            commands,
            alerts_sent,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn user_index_keys_sort_by_last_seen_and_bound_to_the_millisecond() {
        let t = |ms: i64| Utc.timestamp_millis_opt(1_714_557_600_000 + ms).unwrap();
        let bound = |at| format!("{}#", sortable_time(at));
        let key = |ms, id| user_gsi1sk(t(ms), UserId(id));
        assert!(key(0, 999) < key(1, 1));
        assert!(bound(t(0)) < key(0, 1) && key(0, 999_999) < bound(t(1)));
    }

    #[test]
    fn alert_index_partitions_name_the_target_kind() {
        let item = AlertTarget::Item(ItemId::new("a:b").unwrap());
        let series = AlertTarget::Series(SeriesId::new("a").unwrap());
        assert_eq!(alert_gsi1pk(&item), "ALERTS#item#a:b");
        assert_eq!(alert_gsi1pk(&series), "ALERTS#series#a");
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 16);
    }
}
