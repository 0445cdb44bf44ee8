//! The DynamoDB store: one table, the single-table design described in
//! `docs/dynamodb.md` and declared in `template.yaml`.
//!
//! | record     | pk                 | sk                              | gsi1pk              | gsi1sk                    |
//! |------------|--------------------|---------------------------------|---------------------|---------------------------|
//! | latest     | `ITEM#<item id>`   | `LATEST`                        | `LATEST#<shard>`³   | `<source id>#<item id>`   |
//! | history    | `ITEM#<item id>`   | `OBS#<sortable time>#<obs id>`  | `SERIES#<series>`¹  | `<sortable time>#<obs id>`¹ |
//! | series     | `SERIES`           | `<series id>`                   |                     |                           |
//! | checkpoint | `SOURCE#<source>`  | `CHECKPOINT`                    |                     |                           |
//! | health     | `SOURCE#<source>`  | `HEALTH`                        |                     |                           |
//! | user       | `USER#<user id>`   | `PROFILE`                       | `USERS#<shard>`³    | `<sortable last_seen>#<user id>` |
//! | watch      | `USER#<user id>`   | `WATCH#<item id>`               |                     |                           |
//! | alert      | `USER#<user id>`   | `ALERT#<alert id>`              | `ALERTS#item#<item id>` or `ALERTS#series#<series id>`² | `<alert id>`² |
//! | update     | `UPDATE#<update id>` | `UPDATE`                      |                     |                           |
//! | throttle   | `THROTTLE#<user id>#<window epoch s>` | `THROTTLE`   |                     |                           |
//! | quota      | `QUOTA#<user id>#<day epoch s>` | `QUOTA`            |                     |                           |
//! | payload    | `PAYLOAD#<key>`    | `PAYLOAD`                       |                     |                           |
//! | usage      | `USAGE#<yyyy-mm-dd>#<shard>`³ | `<sortable at>#<user id>#<random>` |     |                           |
//! | tracked    | `TRACKED#<shard>`³ | `PAGE#<source id>`              |                     |                           |
//!
//! ¹ only for observations that belong to a series: the index is overloaded
//! (16 `LATEST#…` partitions, one `SERIES#…` partition per series, 16
//! `USERS#…` partitions, one `ALERTS#…` partition per alert target).
//! ² only while the alert is active: deactivating it removes both.
//! ³ `<shard>` is `00`..`15`, [`shard_of`] the item id, user id or source id
//! (`shard.rs`): what would be one hot partition is 16, and readers query
//! all of them and merge (`scatter.rs`) into what the one partition gave.
//! `reshard.rs` moves records written before sharding.
//!
//! History rows and usage events carry `expires_at` from the store's
//! [`Retention`] (LATEST records never do, so an item's last price stays).
//! Update claims, throttle windows, alert quota days and payloads carry the TTL attribute
//! `expires_at`; their readers check it too, since DynamoDB deletes lazily.
//! The price half of the store (`Store`) lives in `prices.rs`, the user half
//! (`UserStore`) in `users/`; item attribute conversions in `attrs.rs`.
//!
//! There are no transactions: idempotency comes from condition expressions.
//! A history row is written once (`attribute_not_exists`), and the latest
//! record only moves forward in the store's total order (observed time, then
//! observation id), so SQS redelivering a message in any order converges on
//! the same state as the SQLite adapter. The series registry's item counter
//! is incremented by the write that creates an item's LATEST record, so a
//! redelivery never counts an item twice. An item's last price change
//! (`change` on LATEST) is set by a second write, conditioned on the LATEST
//! record still holding the observation that changed it.

mod attrs;
mod prices;
mod reshard;
mod scatter;
mod shard;
mod table;
mod users;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use pricehound_core::retention::Retention;
use pricehound_core::store::StoreError;

use attrs::{Item, s};
/// The layout's shard function, public so tools and tests can find a
/// record's partition (`LATEST#<shard_of(item id)>`, …).
pub use reshard::Resharded;
pub use shard::{SHARDS, shard_of};

/// The global secondary index, overloaded and sparse: `LATEST#<shard>`
/// records list latest prices by source and item, history records of a
/// series list that series' observations by time, `USERS#<shard>` lists user
/// profiles by last seen and `ALERTS#<kind>#<target>` the active alerts on a
/// target; other records do not carry `gsi1pk`.
pub const GSI1: &str = "gsi1";
/// The TTL attribute (epoch seconds) the table is configured with: update
/// claims, throttle windows and payloads set it. Deletion is lazy, so
/// readers check it as well.
pub const TTL_ATTRIBUTE: &str = "expires_at";

const LATEST_SK: &str = "LATEST";
const CHECKPOINT_SK: &str = "CHECKPOINT";
const HEALTH_SK: &str = "HEALTH";
const OBS_PREFIX: &str = "OBS#";
/// The partition of the series registry (one record per series).
const SERIES_PK: &str = "SERIES";

// Attribute names. `name` and `source` are DynamoDB reserved words, so every
// expression refers to attributes through `#placeholders`.
const A_PK: &str = "pk";
const A_SK: &str = "sk";
const A_GSI1PK: &str = "gsi1pk";
const A_GSI1SK: &str = "gsi1sk";
const A_ITEM: &str = "item_id";
const A_SOURCE: &str = "source_id";
const A_NAME: &str = "name";
const A_SERIES: &str = "series";
const A_AMOUNT: &str = "amount";
const A_CURRENCY: &str = "currency";
const A_OBSERVED: &str = "observed_at";
const A_OBS_ID: &str = "obs_id";
const A_PROVENANCE: &str = "provenance";
const A_AVAILABILITY: &str = "availability";
const A_DETAILS: &str = "details";
/// On LATEST only: the item's last price change as JSON (`LastChange`).
const A_CHANGE: &str = "change";
const A_LAST_POST: &str = "last_post_id";
const A_UPDATED: &str = "updated_at";
const A_ITEMS: &str = "items";
const A_LAST_SUCCESS: &str = "last_success_at";
const A_LAST_ERROR_AT: &str = "last_error_at";
const A_LAST_ERROR: &str = "last_error";
const A_FAILURES: &str = "consecutive_failures";
const A_ITEMS_SEEN: &str = "items_seen";
const A_RUNS: &str = "runs";

/// The DynamoDB adapter of [`Store`](pricehound_core::store::Store). Cheap to
/// clone: the SDK client is an `Arc` inside.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
    /// History rows and usage events are written with `expires_at` from it.
    retention: Retention,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
            retention: Retention::default(),
        }
    }

    /// How long the history rows and usage events this store writes are
    /// kept (DynamoDB's TTL deletes them after).
    pub fn with_retention(mut self, retention: Retention) -> Self {
        self.retention = retention;
        self
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    fn err<E, R>(&self, op: &str, e: SdkError<E, R>) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        sdk_error(op, &self.table, e)
    }

    /// One record by its key, or `None` when there is none. `Read::Consistent`
    /// where the caller decides what to write next from it.
    async fn get_record(
        &self,
        pk: String,
        sk: impl Into<String>,
        read: Read,
        what: &str,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(pk))
            .key(A_SK, s(sk))
            .consistent_read(matches!(read, Read::Consistent))
            .send()
            .await
            .map_err(|e| self.err(&format!("GetItem ({what})"), e))?;
        Ok(out.item.filter(|i| !i.is_empty()))
    }

    /// A query of one partition of the table or of GSI1, limited to the
    /// sort keys `sort` names. Callers add projection, order, consistency
    /// and filters, then run it through [`DynamoStore::query_upto`].
    fn partition(&self, keys: Keys, pk: String, sort: SortKeys) -> QueryFluentBuilder {
        let (pk_name, sk_name) = match keys {
            Keys::Table => (A_PK, A_SK),
            Keys::Gsi1 => (A_GSI1PK, A_GSI1SK),
        };
        let mut query = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_names("#pk", pk_name)
            .expression_attribute_values(":pk", s(pk));
        if let Keys::Gsi1 = keys {
            query = query.index_name(GSI1);
        }
        match sort {
            SortKeys::All => query.key_condition_expression("#pk = :pk"),
            SortKeys::Prefix(prefix) => query
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":prefix", s(prefix)),
            SortKeys::Between(lo, hi) => query
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
                .expression_attribute_names("#sk", sk_name)
                .expression_attribute_values(":lo", s(lo))
                .expression_attribute_values(":hi", s(hi)),
        }
    }

    /// Runs a query page by page until it has `want` items or runs out, so
    /// the caller knows exactly whether there is more (DynamoDB may return a
    /// LastEvaluatedKey even when nothing follows, and may stop early at 1 MB).
    async fn query_upto(
        &self,
        base: QueryFluentBuilder,
        start: Option<Item>,
        want: usize,
    ) -> Result<Vec<Item>, StoreError> {
        Ok(self.query_with_next(base, start, want).await?.0)
    }

    /// [`DynamoStore::query_upto`], and where to go on from: the last
    /// evaluated key when it stopped because it had `want` items and
    /// DynamoDB said more may follow, `None` when the query ran out.
    async fn query_with_next(
        &self,
        base: QueryFluentBuilder,
        start: Option<Item>,
        want: usize,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut items = Vec::new();
        let mut start = start;
        loop {
            let remaining = want - items.len();
            let out = base
                .clone()
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.err("Query", e))?;
            items.extend(out.items().iter().cloned());
            match out.last_evaluated_key() {
                Some(key) if key.is_empty() => return Ok((items, None)),
                Some(key) if items.len() < want => start = Some(key.clone()),
                // Limit was what remained, so the last evaluated record is
                // the last one returned: the next request starts after it.
                Some(key) => return Ok((items, Some(key.clone()))),
                None => return Ok((items, None)),
            }
        }
    }
}

/// The latest price a stream image holds, or None when the image is not an
/// item's LATEST record (the stream carries every record of the table).
pub fn latest_from_image(
    image: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>,
) -> Result<Option<pricehound_core::domain::LatestPrice>, StoreError> {
    match image.get(A_SK) {
        Some(aws_sdk_dynamodb::types::AttributeValue::S(sk)) if sk == LATEST_SK => {
            prices::latest_from_item(image).map(Some)
        }
        _ => Ok(None),
    }
}

/// How a [`DynamoStore::get_record`] reads.
#[derive(Clone, Copy, Debug)]
enum Read {
    /// Sees every write that succeeded before it.
    Consistent,
    /// May miss a write of the last second; half the cost.
    Eventual,
}

/// The key pair a [`DynamoStore::partition`] query runs on.
#[derive(Clone, Copy, Debug)]
enum Keys {
    Table,
    Gsi1,
}

/// The sort keys of one partition a query reads.
#[derive(Clone, Debug)]
enum SortKeys {
    All,
    Prefix(String),
    /// Inclusive at both ends; the caller makes sure `lo <= hi`, which
    /// DynamoDB requires.
    Between(String, String),
}

fn is_code<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>, code: &str) -> bool {
    e.as_service_error().and_then(|e| e.code()) == Some(code)
}

/// A backend error that names the operation and the table, with the SDK's
/// whole error chain (the top-level message alone is often just "service error").
fn sdk_error<E, R>(op: &str, table: &str, e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Backend(format!(
        "DynamoDB {op} on table {table} failed: {}",
        DisplayErrorContext(&e)
    ))
}
