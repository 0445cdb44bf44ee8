//! Usage events (commands, alerts sent), in `SHARDS` (16)
//! partitions per UTC day (by user), and the statistics over them.

use chrono::{DateTime, NaiveDate, Utc};
use pricehound_core::domain::user::{UsageEvent, UsageStats, UserId};
use pricehound_core::random;
use pricehound_core::store::rules::{self, USAGE_ALERT_SENT, USAGE_COMMAND, UsageWindows};
use pricehound_core::store::{StoreError, sortable_time};

use super::{A_AT, A_KIND, A_USER, time_range};
use crate::dynamo::attrs::{Item, corrupt, get_s, n, s};
use crate::dynamo::shard::{self, SHARD_CONCURRENCY};
use crate::dynamo::{A_NAME, A_PK, A_SK, DynamoStore, Keys, SortKeys, TTL_ATTRIBUTE};

/// The partition family of the usage events of one UTC day.
pub(super) fn usage_day(day: NaiveDate) -> String {
    format!("USAGE#{}", day.format("%Y-%m-%d"))
}

/// The partition of `user`'s usage events of `day`, `USAGE#<day>#<shard>`:
/// every event of a day in one partition would put the whole bot's
/// traffic on one key (`shard.rs`). By user, the shard of the user's
/// profile: one user's burst stays in one shard, which the throttle caps.
pub(super) fn usage_pk(day: NaiveDate, user: UserId) -> String {
    shard::key_for(&usage_day(day), &user.0.to_string())
}

/// 16 hex characters that keep two events of one user in one millisecond
/// apart (not secret; from the OS generator, so no two processes collide).
fn random_token() -> String {
    format!("{:016x}", random::next_u64())
}

impl DynamoStore {
    /// The usage events of one day shard partition (`pk`) with times in
    /// `[lo, hi]` (sort key bounds), only the attributes the statistics need.
    async fn usage_events_of_shard(
        &self,
        pk: String,
        lo: &str,
        hi: &str,
    ) -> Result<Vec<Item>, StoreError> {
        let base = self
            .partition(Keys::Table, pk, SortKeys::Between(lo.into(), hi.into()))
            .projection_expression("#kind, #name")
            .expression_attribute_names("#kind", A_KIND)
            .expression_attribute_names("#name", A_NAME);
        self.query_upto(base, None, usize::MAX).await
    }
}

pub(super) async fn record_usage(
    store: &DynamoStore,
    event: &UsageEvent,
) -> Result<(), StoreError> {
    let sk = format!(
        "{}#{}#{}",
        sortable_time(event.at),
        event.user,
        random_token()
    );
    let mut put = store
        .client
        .put_item()
        .table_name(&store.table)
        .item(A_PK, s(usage_pk(event.at.date_naive(), event.user)))
        .item(A_SK, s(sk))
        .item(A_USER, n(event.user.0))
        .item(A_AT, s(sortable_time(event.at)))
        .item(
            TTL_ATTRIBUTE,
            n(store.retention.usage_expires_at(event.at).timestamp()),
        );
    let (kind, name) = rules::usage_kind_parts(&event.kind);
    put = put.item(A_KIND, s(kind));
    if let Some(name) = name {
        put = put.item(A_NAME, s(name));
    }
    put.send()
        .await
        .map_err(|e| store.err("PutItem (usage)", e))?;
    Ok(())
}

pub(super) async fn usage_stats(
    store: &DynamoStore,
    now: DateTime<Utc>,
) -> Result<UsageStats, StoreError> {
    // Every window is [first, now] to the millisecond (rules).
    let windows = UsageWindows::ending_at(now)?;
    let now = windows.now;
    let users = store.count_users(None).await?;
    let daily_active = store.count_users(Some((windows.day, now))).await?;
    let weekly_active = store.count_users(Some((windows.week, now))).await?;
    let monthly_active = store.count_users(Some((windows.month, now))).await?;

    // Usage events: one query per shard of each UTC day the window touches
    // (31 days of 16 shards), bounded by the window's sort keys (the random
    // part follows the second `#`). Only counted, so the order they come
    // in does not matter.
    let (lo, hi) = time_range(windows.month, now);
    let partitions: Vec<String> = windows
        .month
        .date_naive()
        .iter_days()
        .take_while(|d| *d <= now.date_naive())
        .flat_map(|day| shard::all_keys(&usage_day(day)).collect::<Vec<_>>())
        .collect();
    use futures::stream::{self, StreamExt, TryStreamExt};
    let pages: Vec<Vec<Item>> = stream::iter(partitions)
        .map(|pk| {
            let (lo, hi) = (lo.clone(), hi.clone());
            async move { store.usage_events_of_shard(pk, &lo, &hi).await }
        })
        .buffer_unordered(SHARD_CONCURRENCY)
        .try_collect()
        .await?;
    let mut alerts_sent = 0u64;
    let mut commands: std::collections::HashMap<String, u64> = Default::default();
    for row in pages.iter().flatten() {
        match get_s(row, A_KIND)? {
            USAGE_COMMAND => *commands.entry(get_s(row, A_NAME)?.to_string()).or_default() += 1,
            USAGE_ALERT_SENT => alerts_sent += 1,
            other => return Err(corrupt(A_KIND, other)),
        }
    }
    Ok(UsageStats {
        users,
        daily_active,
        weekly_active,
        monthly_active,
        commands: rules::rank_commands(commands),
        alerts_sent,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_events_of_a_day_share_the_shard_of_their_profile() {
        let day = NaiveDate::from_ymd_opt(2024, 6, 15).unwrap();
        assert_eq!(usage_pk(day, UserId(42)), "USAGE#2024-06-15#08");
        assert_eq!(usage_pk(day, UserId(1)), "USAGE#2024-06-15#07");
    }

    #[test]
    fn random_tokens_differ() {
        assert_ne!(random_token(), random_token());
        assert_eq!(random_token().len(), 16);
    }
}
