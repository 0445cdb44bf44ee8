//! The records that expire (TTL): update claims (each Telegram update
//! handled once), throttle windows, alert quota days and button payloads.
//! A track job's claim and its request days are in `tracking.rs`.

use chrono::{DateTime, Utc};
use pricehound_core::domain::user::UserId;
use pricehound_core::store::StoreError;
use pricehound_core::store::rules::{self, Counter};

use super::{
    A_COUNT, A_DAY, A_EXPIRES_MS, A_PAYLOAD, A_UPDATE_ID, A_WINDOW, CounterRecord, PAYLOAD_SK,
    QUOTA_SK, THROTTLE_SK, UPDATE_SK, condition_failed, ttl_secs,
};
use crate::dynamo::attrs::{get_n, get_s, n, s};
use crate::dynamo::{A_PK, A_SK, DynamoStore, Read, TTL_ATTRIBUTE};

fn update_pk(update_id: i64) -> String {
    format!("UPDATE#{update_id}")
}

fn throttle_pk(user: UserId, window: i64) -> String {
    format!("THROTTLE#{user}#{window}")
}

fn quota_pk(user: UserId, day: i64) -> String {
    format!("QUOTA#{user}#{day}")
}

fn payload_pk(key: &str) -> String {
    format!("PAYLOAD#{key}")
}

pub(super) async fn claim_update(
    store: &DynamoStore,
    update_id: i64,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let expires_at = rules::update_claim_expires_at(now);
    let now = now.timestamp();
    let result = store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(update_pk(update_id)))
        .item(A_SK, s(UPDATE_SK))
        .item(A_UPDATE_ID, n(update_id))
        .item(TTL_ATTRIBUTE, n(expires_at))
        // TTL deletes lazily: a claim past its expiry may still be there
        // and must not block (it holds through its expiry second).
        .condition_expression("attribute_not_exists(#pk) OR #expires < :now")
        .expression_attribute_names("#pk", A_PK)
        .expression_attribute_names("#expires", TTL_ATTRIBUTE)
        .expression_attribute_values(":now", n(now))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(store.err("PutItem (update claim)", e)),
    }
}

pub(super) async fn throttle_hit(
    store: &DynamoStore,
    user: UserId,
    window_start: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let record = CounterRecord {
        counter: Counter::Throttle,
        pk: throttle_pk(user, Counter::period(window_start)),
        sk: THROTTLE_SK,
        period_attribute: A_WINDOW,
    };
    store.bump_counter(record, user, window_start).await
}

pub(super) async fn alert_quota_hit(
    store: &DynamoStore,
    user: UserId,
    day_start: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let record = CounterRecord {
        counter: Counter::AlertQuota,
        pk: quota_pk(user, Counter::period(day_start)),
        sk: QUOTA_SK,
        period_attribute: A_DAY,
    };
    store.bump_counter(record, user, day_start).await
}

pub(super) async fn alert_quota_used(
    store: &DynamoStore,
    user: UserId,
    day_start: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let record = store
        .get_record(
            quota_pk(user, Counter::period(day_start)),
            QUOTA_SK,
            Read::Consistent,
            "alert quota",
        )
        .await?;
    // The record expires by TTL, lazily; the day in its key keeps an old
    // day's count from being read as today's.
    match record {
        None => Ok(0),
        Some(item) => {
            let count: u64 = get_n(&item, A_COUNT)?;
            Ok(u32::try_from(count).unwrap_or(u32::MAX))
        }
    }
}

pub(super) async fn alert_quota_release(
    store: &DynamoStore,
    user: UserId,
    day_start: DateTime<Utc>,
) -> Result<(), StoreError> {
    // Conditional on a positive count, so a release never drives the day
    // below zero nor creates a record for a day that has none.
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(A_PK, s(quota_pk(user, Counter::period(day_start))))
        .key(A_SK, s(QUOTA_SK))
        .update_expression("ADD #count :minus_one")
        .condition_expression("#count > :zero")
        .expression_attribute_names("#count", A_COUNT)
        .expression_attribute_values(":minus_one", n(-1))
        .expression_attribute_values(":zero", n(0))
        .send()
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(e) if condition_failed(&e) => Ok(()),
        Err(e) => Err(store.err("UpdateItem (alert quota release)", e)),
    }
}

pub(super) async fn put_payload(
    store: &DynamoStore,
    key: &str,
    value: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let ms = expires_at.timestamp_millis();
    store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(payload_pk(key)))
        .item(A_SK, s(PAYLOAD_SK))
        .item(A_PAYLOAD, s(value))
        .item(A_EXPIRES_MS, n(ms))
        .item(TTL_ATTRIBUTE, n(ttl_secs(ms)))
        .send()
        .await
        .map_err(|e| store.err("PutItem (payload)", e))?;
    Ok(())
}

pub(super) async fn claim_payload(
    store: &DynamoStore,
    key: &str,
    value: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let ms = expires_at.timestamp_millis();
    // TTL deletion is lazy: a lapsed record may still be there, and a claim
    // takes its place (rules::lapsed: over when expires <= now).
    let result = store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(payload_pk(key)))
        .item(A_SK, s(PAYLOAD_SK))
        .item(A_PAYLOAD, s(value))
        .item(A_EXPIRES_MS, n(ms))
        .item(TTL_ATTRIBUTE, n(ttl_secs(ms)))
        .condition_expression("attribute_not_exists(#pk) OR #expires <= :now")
        .expression_attribute_names("#pk", A_PK)
        .expression_attribute_names("#expires", A_EXPIRES_MS)
        .expression_attribute_values(":now", n(now.timestamp_millis()))
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(store.err("PutItem (payload claim)", e)),
    }
}

pub(super) async fn payload(
    store: &DynamoStore,
    key: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, StoreError> {
    let record = store
        .get_record(payload_pk(key), PAYLOAD_SK, Read::Consistent, "payload")
        .await?;
    let Some(item) = &record else {
        return Ok(None);
    };
    // TTL deletion is lazy: an expired record may still be there.
    let expires_ms: i64 = get_n(item, A_EXPIRES_MS)?;
    if rules::lapsed(expires_ms, now) {
        return Ok(None);
    }
    Ok(Some(get_s(item, A_PAYLOAD)?.to_string()))
}
