//! Re-keying a table written before the hot partitions were sharded
//! (`shard.rs`): until then every latest price sat in the index partition
//! `LATEST`, every profile in `USERS`, every tracked page in the table
//! partition `TRACKED` and a day's usage events in `USAGE#<day>`. The
//! readers query only the shards, so such records are invisible to them
//! until moved. Latest prices and profiles also move by themselves on their
//! next write (an item's next price, a user's next contact); this moves the
//! rest. Run it once after deploying the sharded code (before, the old code
//! would not see what it moved); it can be run again at any time, and a
//! run that finds nothing to move changes nothing.

use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use chrono::{Duration, NaiveDate};
use pricehound_core::domain::ItemId;
use pricehound_core::store::StoreError;

use super::attrs::{corrupt, get_s, s};
use super::prices::{item_pk, latest_gsi1pk};
use super::users::reshard;
use super::{A_GSI1PK, A_ITEM, A_PK, A_SK, DynamoStore, Keys, LATEST_SK, SortKeys};

/// What [`DynamoStore::reshard_legacy`] moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Resharded {
    pub latest: u64,
    pub users: u64,
    pub tracked_pages: u64,
    pub usage_events: u64,
}

impl DynamoStore {
    /// Moves every record still under an unsharded key into its shard:
    /// latest prices, user profiles, tracked pages, and the usage events of
    /// the days from `today` back over the store's usage retention (older
    /// ones have expired). Idempotent; see the module's documentation.
    pub async fn reshard_legacy(&self, today: NaiveDate) -> Result<Resharded, StoreError> {
        let first_day = today - Duration::days(i64::from(self.retention.usage_days));
        let days = first_day.iter_days().take_while(|d| *d <= today);
        Ok(Resharded {
            latest: self.reshard_latest().await?,
            users: reshard::users(self).await?,
            tracked_pages: reshard::tracked_pages(self).await?,
            usage_events: reshard::usage(self, days).await?,
        })
    }

    /// Moves every LATEST record still in the unsharded index partition
    /// `LATEST` (written before sharding) to its shard; returns how many
    /// it moved. Each move is conditioned on the record still being there,
    /// so a price written meanwhile (which moves it itself) or a second run
    /// changes nothing.
    async fn reshard_latest(&self) -> Result<u64, StoreError> {
        let base = self
            .partition(Keys::Gsi1, LATEST_SK.into(), SortKeys::All)
            .projection_expression("#item")
            .expression_attribute_names("#item", A_ITEM);
        let rows = self.query_upto(base, None, usize::MAX).await?;
        let mut moved = 0;
        for row in &rows {
            let item = ItemId::new(get_s(row, A_ITEM)?).map_err(|e| corrupt(A_ITEM, e))?;
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(A_PK, s(item_pk(&item)))
                .key(A_SK, s(LATEST_SK))
                .update_expression("SET #gsi1pk = :shard")
                .condition_expression("#gsi1pk = :legacy")
                .expression_attribute_names("#gsi1pk", A_GSI1PK)
                .expression_attribute_values(":shard", s(latest_gsi1pk(&item)))
                .expression_attribute_values(":legacy", s(LATEST_SK))
                .send()
                .await;
            match result {
                Ok(_) => moved += 1,
                Err(e)
                    if matches!(
                        e.as_service_error(),
                        Some(UpdateItemError::ConditionalCheckFailedException(_))
                    ) => {}
                Err(e) => return Err(self.err("UpdateItem (reshard latest)", e)),
            }
        }
        Ok(moved)
    }
}
