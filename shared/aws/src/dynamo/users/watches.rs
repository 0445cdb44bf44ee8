//! Watches: the items a user follows.

use chrono::{DateTime, Utc};
use pricehound_core::domain::ItemId;
use pricehound_core::domain::user::{UserId, Watch};
use pricehound_core::store::{StoreError, parse_sortable_time, sortable_time};

use super::{A_CREATED, A_USER, WATCH_PREFIX, condition_failed, user_pk};
use crate::dynamo::attrs::{Item, corrupt, get_n, get_opt_s, get_s, n, s};

/// When the watch was marked bought (sortable time); absent when not.
const A_PURCHASED: &str = "purchased_at";
use crate::dynamo::{A_ITEM, A_PK, A_SK, DynamoStore};

fn watch_sk(item: &ItemId) -> String {
    format!("{WATCH_PREFIX}{item}")
}

fn watch_from_item(item: &Item) -> Result<Watch, StoreError> {
    Ok(Watch {
        user: UserId(get_n(item, A_USER)?),
        item: ItemId::new(get_s(item, A_ITEM)?).map_err(|e| corrupt(A_ITEM, e))?,
        created_at: parse_sortable_time(get_s(item, A_CREATED)?)?,
        purchased_at: get_opt_s(item, A_PURCHASED)?
            .map(parse_sortable_time)
            .transpose()?,
    })
}

pub(super) async fn add_watch(store: &DynamoStore, watch: &Watch) -> Result<bool, StoreError> {
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(user_pk(watch.user)))
        .item(A_SK, s(watch_sk(&watch.item)))
        .item(A_USER, n(watch.user.0))
        .item(A_ITEM, s(watch.item.as_str()))
        .item(A_CREATED, s(sortable_time(watch.created_at)));
    let put = match watch.purchased_at {
        Some(at) => put.item(A_PURCHASED, s(sortable_time(at))),
        None => put,
    };
    let result = put
        // A second add keeps the first one's time.
        .condition_expression("attribute_not_exists(#pk)")
        .expression_attribute_names("#pk", A_PK)
        .send()
        .await;
    match result {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(store.err("PutItem (watch)", e)),
    }
}

pub(super) async fn remove_watch(
    store: &DynamoStore,
    user: UserId,
    item: &ItemId,
) -> Result<bool, StoreError> {
    store.delete_record(user_pk(user), watch_sk(item)).await
}

pub(super) async fn watches(store: &DynamoStore, user: UserId) -> Result<Vec<Watch>, StoreError> {
    let rows = store.user_records(user, WATCH_PREFIX).await?;
    let mut watches = rows
        .iter()
        .map(watch_from_item)
        .collect::<Result<Vec<_>, _>>()?;
    // The table orders by item; the trait wants oldest first.
    watches.sort_by(|a, b| (a.created_at, &a.item).cmp(&(b.created_at, &b.item)));
    Ok(watches)
}

pub(super) async fn clear_watches(store: &DynamoStore, user: UserId) -> Result<u32, StoreError> {
    let mut removed = 0;
    for row in store.user_records(user, WATCH_PREFIX).await? {
        // Counted by what each delete found, so a racing clear or
        // remove never makes the total wrong.
        if store
            .delete_record(user_pk(user), get_s(&row, A_SK)?.to_string())
            .await?
        {
            removed += 1;
        }
    }
    Ok(removed)
}

pub(super) async fn set_purchased(
    store: &DynamoStore,
    user: UserId,
    item: &ItemId,
    at: Option<DateTime<Utc>>,
) -> Result<bool, StoreError> {
    let update = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(A_PK, s(user_pk(user)))
        .key(A_SK, s(watch_sk(item)))
        // Only an existing watch: an update would otherwise create one.
        .condition_expression("attribute_exists(#pk)")
        .expression_attribute_names("#pk", A_PK)
        .expression_attribute_names("#purchased", A_PURCHASED);
    let update = match at {
        // if_not_exists: marking it bought again keeps the first time.
        Some(at) => update
            .update_expression("SET #purchased = if_not_exists(#purchased, :at)")
            .expression_attribute_values(":at", s(sortable_time(at))),
        None => update.update_expression("REMOVE #purchased"),
    };
    match update.send().await {
        Ok(_) => Ok(true),
        Err(e) if condition_failed(&e) => Ok(false),
        Err(e) => Err(store.err("UpdateItem (watch purchased)", e)),
    }
}
