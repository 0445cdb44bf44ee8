//! Tracked pages (one record per page, its trackers in a number set, and
//! one record per tracker under the user), track job claims and the track
//! requests of a day.

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use chrono::{DateTime, Utc};
use pricehound_core::domain::SourceId;
use pricehound_core::domain::user::{TrackedPage, UserId};
use pricehound_core::store::rules::Counter;
use pricehound_core::store::{
    StoreError, Tracking, Untracking, parse_sortable_time, sortable_time,
};

use super::{
    A_ADDED_AT, A_ADDED_BY, A_DAY, A_TRACKERS, A_UNTIL_MS, A_URL, A_USER, CounterRecord,
    PAGE_PREFIX, TRACK_JOB_SK, TRACK_PREFIX, TRACK_QUOTA_SK, TRACKED_PK, condition_failed,
    ttl_secs, user_pk,
};
use crate::dynamo::attrs::{Item, corrupt, get_n, get_s, n, s};
use crate::dynamo::{
    A_NAME, A_PK, A_SK, A_SOURCE, DynamoStore, Keys, Read, SortKeys, TTL_ATTRIBUTE, shard,
};

/// The partition (`TRACKED#<shard>`) holding the page of `source`: the
/// global cap counts every page on each "Track", and one partition would
/// take all of those reads and every page's writes (`shard.rs`).
pub(super) fn tracked_pk(source: &SourceId) -> String {
    shard::key_for(TRACKED_PK, source.as_str())
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

fn track_job_pk(user: UserId) -> String {
    format!("TRACKJOB#{user}")
}

fn track_quota_pk(user: UserId, day: i64) -> String {
    format!("TRACKQUOTA#{user}#{day}")
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

pub(super) async fn claim_track_job(
    store: &DynamoStore,
    user: UserId,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let until_ms = until.timestamp_millis();
    // One conditional put: a new claim, or one over a lapsed or released
    // claim (`until <= now`, rules::lapsed; TTL deletes lazily, so the time
    // is checked).
    let result = store
        .client
        .put_item()
        .table_name(&store.table)
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
        Err(e) => Err(store.err("PutItem (track job)", e)),
    }
}

pub(super) async fn release_track_job(store: &DynamoStore, user: UserId) -> Result<(), StoreError> {
    // An update, not a delete: the notify function, which ends most
    // jobs, may update the table but not delete from it. Conditioned
    // on the claim existing, so a release never creates a record.
    let result = store
        .client
        .update_item()
        .table_name(&store.table)
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
        Err(e) => Err(store.err("UpdateItem (track job)", e)),
    }
}

pub(super) async fn track_quota_hit(
    store: &DynamoStore,
    user: UserId,
    day_start: DateTime<Utc>,
) -> Result<u32, StoreError> {
    let record = CounterRecord {
        counter: Counter::TrackQuota,
        pk: track_quota_pk(user, Counter::period(day_start)),
        sk: TRACK_QUOTA_SK,
        period_attribute: A_DAY,
    };
    store.bump_counter(record, user, day_start).await
}

pub(super) async fn track_page(
    store: &DynamoStore,
    page: &TrackedPage,
) -> Result<Tracking, StoreError> {
    let user = page.added_by;
    // One atomic update: the first add sets URL, name, adder and time
    // (later adds keep them), and the user joins the set once.
    let out = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(A_PK, s(tracked_pk(&page.source_id)))
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
        .map_err(|e| store.err("UpdateItem (tracked page)", e))?;
    let old = out.attributes().filter(|a| !a.is_empty());
    let page_added = old.is_none_or(|a| !a.contains_key(A_URL));
    let user_added = !tracked_by(old, user);
    // The user's own record, for their count and list; a second track
    // keeps the first one's time.
    let put = store
        .client
        .put_item()
        .table_name(&store.table)
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
        Err(e) => return Err(store.err("PutItem (tracked page of user)", e)),
    }
    Ok(Tracking {
        page_added,
        user_added,
    })
}

pub(super) async fn untrack_page(
    store: &DynamoStore,
    user: UserId,
    source: &SourceId,
) -> Result<Untracking, StoreError> {
    // Out of the page's set first: a crash before the user's record is
    // deleted leaves a record a retry removes, never a page kept alive
    // by nobody.
    let removed = store
        .client
        .update_item()
        .table_name(&store.table)
        .key(A_PK, s(tracked_pk(source)))
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
        Err(e) => return Err(store.err("UpdateItem (untrack page)", e)),
    };
    let record = store
        .client
        .delete_item()
        .table_name(&store.table)
        .key(A_PK, s(user_pk(user)))
        .key(A_SK, s(track_sk(source)))
        .return_values(ReturnValue::AllOld)
        .send()
        .await
        .map_err(|e| store.err("DeleteItem (tracked page of user)", e))?;
    let had_record = record.attributes().is_some_and(|a| !a.is_empty());
    let was_tracking = in_set || had_record;
    let mut page_removed = false;
    // Only someone who tracked the page may make it expire (a forged
    // untrack of another's page must not delete it).
    if was_tracking && now_empty {
        let deleted = store
            .client
            .delete_item()
            .table_name(&store.table)
            .key(A_PK, s(tracked_pk(source)))
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
            Err(e) => return Err(store.err("DeleteItem (expired tracked page)", e)),
        };
    }
    Ok(Untracking {
        was_tracking,
        page_removed,
    })
}

pub(super) async fn tracked_pages_of(
    store: &DynamoStore,
    user: UserId,
) -> Result<Vec<TrackedPage>, StoreError> {
    let rows = store.user_records(user, TRACK_PREFIX).await?;
    let mut pages = Vec::with_capacity(rows.len());
    // A user tracks at most a few dozen pages: one read each is cheap,
    // and keeps URL and name in one place (the page record).
    for row in rows {
        let source = SourceId::new(get_s(&row, A_SOURCE)?).map_err(|e| corrupt(A_SOURCE, e))?;
        let record = store
            .get_record(
                tracked_pk(&source),
                page_sk(&source),
                Read::Consistent,
                "tracked page",
            )
            .await?;
        // A record whose page is gone (an interrupted untrack) is not
        // tracking anything.
        let Some(page) = record.as_ref().filter(|i| i.contains_key(A_URL)) else {
            continue;
        };
        let mut page = tracked_page_from_item(page)?;
        page.added_by = user;
        page.added_at = parse_sortable_time(get_s(&row, A_ADDED_AT)?)?;
        pages.push(page);
    }
    Ok(pages)
}

pub(super) async fn tracked_page_count(store: &DynamoStore) -> Result<u64, StoreError> {
    // Every shard, counted and summed: each page is in exactly one.
    let shards = tracked_shards(store).collect();
    store.count_shards(shards).await
}

pub(super) async fn tracked_pages(store: &DynamoStore) -> Result<Vec<TrackedPage>, StoreError> {
    let rows = store.gather_shards(tracked_shards(store).collect()).await?;
    let mut pages = rows
        .iter()
        .map(|row| Ok((get_s(row, A_SK)?, tracked_page_from_item(row)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    // Each shard comes sorted by its sort key; the whole list is sorted the
    // same way (byte order of `PAGE#<source id>`), the order the one
    // partition gave and the trait's (source id).
    pages.sort_by_key(|(key, _)| *key);
    Ok(pages.into_iter().map(|(_, page)| page).collect())
}

/// A consistent query of every page record in each `TRACKED#<shard>`
/// partition: the caps decide from these, so no stale count.
fn tracked_shards(
    store: &DynamoStore,
) -> impl Iterator<Item = aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder> + '_ {
    shard::all_keys(TRACKED_PK).map(|pk| {
        store
            .partition(Keys::Table, pk, SortKeys::Prefix(PAGE_PREFIX.into()))
            .consistent_read(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_lives_in_the_shard_of_its_source() {
        let source = SourceId::new("page-3f9a").unwrap();
        assert_eq!(tracked_pk(&source), "TRACKED#15");
        assert_eq!(page_sk(&source), "PAGE#page-3f9a");
    }
}
