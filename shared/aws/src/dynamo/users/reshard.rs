//! Moving the bot's records written before sharding into their shards:
//! user profiles from the index partition `USERS`, tracked pages from the
//! table partition `TRACKED`, usage events from `USAGE#<day>`. Every step
//! can be repeated (a second run finds nothing to move) and races only
//! with writes that put records in their shards anyway.

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::NaiveDate;
use pricehound_core::domain::SourceId;
use pricehound_core::domain::user::UserId;
use pricehound_core::store::StoreError;

use super::profiles::user_gsi1pk;
use super::tracking::tracked_pk;
use super::usage::{usage_day, usage_pk};
use super::{
    A_ADDED_AT, A_ADDED_BY, A_TRACKERS, A_URL, A_USER, PAGE_PREFIX, TRACKED_PK, USERS_GSI1PK,
    condition_failed,
};
use crate::dynamo::attrs::{Item, corrupt, get_n, get_s, s};
use crate::dynamo::shard::SHARD_CONCURRENCY;
use crate::dynamo::{A_GSI1PK, A_NAME, A_PK, A_SK, A_SOURCE, DynamoStore, Keys, SortKeys};

/// Moves each profile still in the index partition `USERS` to its shard
/// (its index key `gsi1pk` only; the profile stays where it is). Returns
/// how many moved. Conditioned on the old index key, so a contact that
/// moved it meanwhile is left alone.
pub(in crate::dynamo) async fn users(store: &DynamoStore) -> Result<u64, StoreError> {
    let base = store
        .partition(Keys::Gsi1, USERS_GSI1PK.into(), SortKeys::All)
        .projection_expression("#user")
        .expression_attribute_names("#user", A_USER);
    let rows = store.query_upto(base, None, usize::MAX).await?;
    let mut moved = 0;
    for row in &rows {
        let user = UserId(get_n(row, A_USER)?);
        let result = store
            .client
            .update_item()
            .table_name(&store.table)
            .key(A_PK, s(super::user_pk(user)))
            .key(A_SK, s(super::PROFILE_SK))
            .update_expression("SET #gsi1pk = :shard")
            .condition_expression("#gsi1pk = :legacy")
            .expression_attribute_names("#gsi1pk", A_GSI1PK)
            .expression_attribute_values(":shard", s(user_gsi1pk(user)))
            .expression_attribute_values(":legacy", s(USERS_GSI1PK))
            .send()
            .await;
        match result {
            Ok(_) => moved += 1,
            Err(e) if condition_failed(&e) => {}
            Err(e) => return Err(store.err("UpdateItem (reshard user)", e)),
        }
    }
    Ok(moved)
}

/// Moves each tracked page from the partition `TRACKED` to its shard:
/// merged into whatever the shard holds the way `track_page` merges (the
/// first URL, name, adder and time stay; trackers join the set), then the
/// old record deleted. Returns how many moved.
pub(in crate::dynamo) async fn tracked_pages(store: &DynamoStore) -> Result<u64, StoreError> {
    let base = store
        .partition(
            Keys::Table,
            TRACKED_PK.into(),
            SortKeys::Prefix(PAGE_PREFIX.into()),
        )
        .consistent_read(true);
    let rows = store.query_upto(base, None, usize::MAX).await?;
    let mut moved = 0;
    for row in &rows {
        let sk = get_s(row, A_SK)?;
        let source = SourceId::new(get_s(row, A_SOURCE)?).map_err(|e| corrupt(A_SOURCE, e))?;
        let mut update = store
            .client
            .update_item()
            .table_name(&store.table)
            .key(A_PK, s(tracked_pk(&source)))
            .key(A_SK, s(sk));
        let mut sets = Vec::new();
        for name in [A_SOURCE, A_URL, A_NAME, A_ADDED_BY, A_ADDED_AT] {
            if let Some(value) = row.get(name) {
                sets.push(format!("#{name} = if_not_exists(#{name}, :{name})"));
                update = update
                    .expression_attribute_names(format!("#{name}"), name)
                    .expression_attribute_values(format!(":{name}"), value.clone());
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if let Some(trackers @ AttributeValue::Ns(ids)) = row.get(A_TRACKERS)
            && !ids.is_empty()
        {
            expression.push_str(" ADD #trackers :trackers");
            update = update
                .expression_attribute_names("#trackers", A_TRACKERS)
                .expression_attribute_values(":trackers", trackers.clone());
        }
        update
            .update_expression(expression)
            .send()
            .await
            .map_err(|e| store.err("UpdateItem (reshard tracked page)", e))?;
        store
            .delete_record(TRACKED_PK.into(), sk.to_string())
            .await?;
        moved += 1;
    }
    Ok(moved)
}

/// Moves the usage events of each day in `days` from `USAGE#<day>` to
/// `USAGE#<day>#<shard of the user>`: the same record under the new key
/// (a repeated put of it writes the same), then the old one deleted.
/// Several days at once (most are empty). Returns how many moved.
pub(in crate::dynamo) async fn usage(
    store: &DynamoStore,
    days: impl Iterator<Item = NaiveDate>,
) -> Result<u64, StoreError> {
    use futures::stream::{self, StreamExt, TryStreamExt};
    stream::iter(days)
        .map(|day| usage_of_day(store, day))
        .buffer_unordered(SHARD_CONCURRENCY)
        .try_fold(0, |total, n| async move { Ok(total + n) })
        .await
}

async fn usage_of_day(store: &DynamoStore, day: NaiveDate) -> Result<u64, StoreError> {
    let base = store.partition(Keys::Table, usage_day(day), SortKeys::All);
    let rows: Vec<Item> = store.query_upto(base, None, usize::MAX).await?;
    let mut moved = 0;
    for row in rows {
        let user = UserId(get_n(&row, A_USER)?);
        let sk = get_s(&row, A_SK)?.to_string();
        let mut moved_row = row.clone();
        moved_row.insert(A_PK.to_string(), s(usage_pk(day, user)));
        store
            .client
            .put_item()
            .table_name(&store.table)
            .set_item(Some(moved_row))
            .send()
            .await
            .map_err(|e| store.err("PutItem (reshard usage)", e))?;
        store.delete_record(usage_day(day), sk).await?;
        moved += 1;
    }
    Ok(moved)
}
