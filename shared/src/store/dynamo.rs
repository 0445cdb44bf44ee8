//! The DynamoDB store: one table, the single-table design described in
//! `docs/dynamodb.md` and declared in `template.yaml`.
//!
//! | record     | pk                 | sk                              | gsi1pk   | gsi1sk                  |
//! |------------|--------------------|---------------------------------|----------|-------------------------|
//! | latest     | `ITEM#<item id>`   | `LATEST`                        | `LATEST` | `<source id>#<item id>` |
//! | history    | `ITEM#<item id>`   | `OBS#<sortable time>#<obs id>`  |          |                         |
//! | checkpoint | `SOURCE#<source>`  | `CHECKPOINT`                    |          |                         |
//!
//! There are no transactions: idempotency comes from condition expressions.
//! A history row is written once (`attribute_not_exists`), and the latest
//! record only moves forward in the store's total order (observed time, then
//! observation id), so SQS redelivering a message in any order converges on
//! the same state as the SQLite adapter.

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, GlobalSecondaryIndex, IndexStatus,
    KeySchemaElement, KeyType, Projection, ProjectionType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};

use super::{
    Cursor, HistoryQuery, LatestQuery, Order, Page, Recorded, Store, StoreError, page_size,
    parse_sortable_time, sortable_time,
};
use crate::domain::{
    Checkpoint, Currency, ItemId, LatestPrice, Money, Observation, ObservationId, SeriesId,
    SourceId,
};

/// The global secondary index that lists latest prices (sparse: only
/// `LATEST` records carry `gsi1pk`).
pub const GSI1: &str = "gsi1";
/// The TTL attribute (epoch seconds) the table is configured with. Nothing
/// writes it yet; it exists so short-lived records can be added later
/// without a table change.
pub const TTL_ATTRIBUTE: &str = "expires_at";

const LATEST_SK: &str = "LATEST";
const CHECKPOINT_SK: &str = "CHECKPOINT";
const OBS_PREFIX: &str = "OBS#";

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
const A_LAST_POST: &str = "last_post_id";
const A_UPDATED: &str = "updated_at";

type Item = HashMap<String, AttributeValue>;

/// The DynamoDB adapter of [`Store`]. Cheap to clone: the SDK client is an
/// `Arc` inside.
#[derive(Clone, Debug)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// Creates the table as `template.yaml` declares it (for tests and local
    /// DynamoDB-compatible servers) and waits until it and its index are
    /// ACTIVE. An existing table is fine. TTL is switched on where the server
    /// supports `UpdateTimeToLive` (dynalite does not).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Backend(format!("bad key schema: {e}")))
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Backend(format!("bad attribute definition: {e}")))
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key(A_GSI1PK, KeyType::Hash)?)
            .key_schema(key(A_GSI1SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| StoreError::Backend(format!("bad index definition: {e}")))?;
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(A_PK)?)
            .attribute_definitions(attr(A_SK)?)
            .attribute_definitions(attr(A_GSI1PK)?)
            .attribute_definitions(attr(A_GSI1SK)?)
            .key_schema(key(A_PK, KeyType::Hash)?)
            .key_schema(key(A_SK, KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if is_code(&e, "ResourceInUseException") => {}
            Err(e) => return Err(sdk_error("CreateTable", table, e)),
        }

        // Wait for ACTIVE: a new table rejects item operations until then.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let out = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTable", table, e))?;
            let ready = out.table().is_some_and(|t| {
                t.table_status() == Some(&TableStatus::Active)
                    && t.global_secondary_indexes()
                        .iter()
                        .all(|i| i.index_status() == Some(&IndexStatus::Active))
            });
            if ready {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Backend(format!(
                    "DynamoDB table {table} did not become ACTIVE within 120 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| StoreError::Backend(format!("bad TTL specification: {e}")))?;
        match client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // dynalite does not implement UpdateTimeToLive.
            Err(e) if is_code(&e, "UnknownOperationException") => Ok(()),
            // Real DynamoDB refuses to enable TTL twice: the table already exists as wanted.
            Err(e) if e.message().is_some_and(|m| m.contains("already enabled")) => Ok(()),
            Err(e) => Err(sdk_error("UpdateTimeToLive", table, e)),
        }
    }

    fn err<E, R>(&self, op: &str, e: SdkError<E, R>) -> StoreError
    where
        E: std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        sdk_error(op, &self.table, e)
    }

    /// The LATEST record of `item`, read consistently when `consistent`.
    async fn get_latest(
        &self,
        item: &ItemId,
        consistent: bool,
    ) -> Result<Option<LatestPrice>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(item_pk(item)))
            .key(A_SK, s(LATEST_SK))
            .consistent_read(consistent)
            .send()
            .await
            .map_err(|e| self.err("GetItem", e))?;
        out.item().map(latest_from_item).transpose()
    }

    /// Moves the LATEST record to `obs` if it is newer. Returns the previous
    /// latest and whether `obs` became the latest.
    async fn advance_latest(
        &self,
        obs: &Observation,
    ) -> Result<(Option<LatestPrice>, bool), StoreError> {
        let at = sortable_time(obs.observed_at);
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(item_pk(&obs.item_id)))
            .key(A_SK, s(LATEST_SK))
            // Newer by (observed time, id): the same total order as
            // `Observation::is_newer_than` and the SQLite adapter.
            .condition_expression(
                "attribute_not_exists(#pk) OR #observed_at < :t OR (#observed_at = :t AND #obs_id < :id)",
            )
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_values(":t", s(&at))
            .expression_attribute_values(":id", s(obs.id.as_str()))
            .return_values(ReturnValue::AllOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);

        let mut sets = Vec::new();
        let mut values: Vec<(&str, AttributeValue)> = vec![
            (A_GSI1PK, s(LATEST_SK)),
            (A_GSI1SK, s(latest_gsi1sk(&obs.source_id, &obs.item_id))),
        ];
        values.extend(observation_attributes(obs));
        for (name, value) in values {
            // `observed_at` and `obs_id` are in the condition too; their
            // `:t` / `:id` values are the same ones written here.
            update = update.expression_attribute_names(format!("#{name}"), name);
            match name {
                A_OBSERVED => sets.push(format!("#{name} = :t")),
                A_OBS_ID => sets.push(format!("#{name} = :id")),
                _ => {
                    sets.push(format!("#{name} = :{name}"));
                    update = update.expression_attribute_values(format!(":{name}"), value);
                }
            }
        }
        let mut expression = format!("SET {}", sets.join(", "));
        if obs.series.is_none() {
            // The item may have had a series before; the newest observation wins.
            update = update.expression_attribute_names("#series", A_SERIES);
            expression.push_str(" REMOVE #series");
        }
        match update.update_expression(expression).send().await {
            Ok(out) => {
                let previous = out.attributes().map(latest_from_item).transpose()?;
                Ok((previous, true))
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(failed)) => {
                    // The condition only fails when a LATEST record exists and
                    // is at least as new as `obs`. DynamoDB returns it with the
                    // failure; servers that ignore
                    // ReturnValuesOnConditionCheckFailure (dynalite) need a
                    // read. Latest only moves forward, so what that read
                    // returns is still the latest that kept `obs` out.
                    let previous = match failed.item() {
                        Some(item) if !item.is_empty() => Some(latest_from_item(item)?),
                        _ => self.get_latest(&obs.item_id, true).await?,
                    };
                    Ok((previous, false))
                }
                _ => Err(self.err("UpdateItem", e)),
            },
        }
    }

    /// Runs a query page by page until it has `want` items or runs out, so
    /// the caller knows exactly whether there is more (DynamoDB may return a
    /// LastEvaluatedKey even when nothing follows, and may stop early at 1 MB).
    async fn query_upto(
        &self,
        base: aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder,
        start: Option<Item>,
        want: usize,
    ) -> Result<Vec<Item>, StoreError> {
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
                Some(key) if items.len() < want => start = Some(key.clone()),
                _ => break,
            }
        }
        Ok(items)
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn item_pk(item: &ItemId) -> String {
    format!("ITEM#{item}")
}

fn source_pk(source: &SourceId) -> String {
    format!("SOURCE#{source}")
}

fn obs_sk(obs: &Observation) -> String {
    format!("{OBS_PREFIX}{}#{}", sortable_time(obs.observed_at), obs.id)
}

/// Source first, then item: `#` sorts before every character an id may
/// contain, so this orders by source id, then item id.
fn latest_gsi1sk(source: &SourceId, item: &ItemId) -> String {
    format!("{source}#{item}")
}

/// The attributes an observation is stored with, in history and latest records alike.
fn observation_attributes(obs: &Observation) -> Vec<(&'static str, AttributeValue)> {
    let provenance = serde_json::to_string(&obs.provenance).expect("provenance always serialises");
    let mut attrs = vec![
        (A_ITEM, s(obs.item_id.as_str())),
        (A_SOURCE, s(obs.source_id.as_str())),
        (A_NAME, s(&obs.item_name)),
        // Decimal strings, never N: N would lose the scale ("12.50" vs "12.5")
        // and is read back through floats by careless tools.
        (A_AMOUNT, s(obs.price.amount.to_string())),
        (A_CURRENCY, s(obs.price.currency.code())),
        (A_OBSERVED, s(sortable_time(obs.observed_at))),
        (A_OBS_ID, s(obs.id.as_str())),
        (A_PROVENANCE, s(provenance)),
    ];
    if let Some(series) = &obs.series {
        attrs.push((A_SERIES, s(series.as_str())));
    }
    attrs
}

fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a string"
        ))),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn observation_from_item(item: &Item) -> Result<Observation, StoreError> {
    let series = match item.get(A_SERIES) {
        None | Some(AttributeValue::Null(_)) => None,
        Some(_) => Some(SeriesId::new(get_s(item, A_SERIES)?).map_err(|e| corrupt("series", e))?),
    };
    Ok(Observation {
        id: ObservationId::new(get_s(item, A_OBS_ID)?).map_err(|e| corrupt("obs_id", e))?,
        source_id: SourceId::new(get_s(item, A_SOURCE)?).map_err(|e| corrupt("source_id", e))?,
        item_id: ItemId::new(get_s(item, A_ITEM)?).map_err(|e| corrupt("item_id", e))?,
        item_name: get_s(item, A_NAME)?.to_string(),
        series,
        price: Money::new(
            get_s(item, A_AMOUNT)?
                .parse()
                .map_err(|e| corrupt("amount", e))?,
            Currency::new(get_s(item, A_CURRENCY)?).map_err(|e| corrupt("currency", e))?,
        ),
        observed_at: parse_sortable_time(get_s(item, A_OBSERVED)?)?,
        provenance: serde_json::from_str(get_s(item, A_PROVENANCE)?)
            .map_err(|e| corrupt("provenance", e))?,
    })
}

fn latest_from_item(item: &Item) -> Result<LatestPrice, StoreError> {
    Ok(LatestPrice::from(&observation_from_item(item)?))
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

#[async_trait]
impl Store for DynamoStore {
    fn backend(&self) -> &'static str {
        "dynamodb"
    }

    async fn record(&self, obs: &Observation) -> Result<Recorded, StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(A_PK, s(item_pk(&obs.item_id)))
            .item(A_SK, s(obs_sk(obs)))
            .condition_expression("attribute_not_exists(#pk)")
            .expression_attribute_names("#pk", A_PK);
        for (name, value) in observation_attributes(obs) {
            put = put.item(name, value);
        }
        let inserted = match put.send().await {
            Ok(_) => true,
            Err(e) => match e.as_service_error() {
                Some(PutItemError::ConditionalCheckFailedException(_)) => false,
                _ => return Err(self.err("PutItem", e)),
            },
        };
        // Always, even for a duplicate: if an earlier delivery stored the
        // history row and then failed before this step, the redelivery
        // finishes its work. The condition makes it a no-op otherwise.
        let (previous, became_latest) = self.advance_latest(obs).await?;
        Ok(Recorded {
            inserted,
            previous,
            became_latest,
        })
    }

    async fn latest_prices(&self, query: &LatestQuery) -> Result<Page<LatestPrice>, StoreError> {
        let limit = page_size(query.limit) as usize;
        let start = match &query.cursor {
            None => None,
            Some(c) => {
                let raw = c.decode()?;
                let (source, item) = raw.split_once('#').ok_or(StoreError::BadCursor)?;
                let source = SourceId::new(source).map_err(|_| StoreError::BadCursor)?;
                let item = ItemId::new(item).map_err(|_| StoreError::BadCursor)?;
                // DynamoDB rejects a start key outside the key condition.
                if query.source.as_ref().is_some_and(|q| *q != source) {
                    return Err(StoreError::BadCursor);
                }
                Some(HashMap::from([
                    (A_PK.to_string(), s(item_pk(&item))),
                    (A_SK.to_string(), s(LATEST_SK)),
                    (A_GSI1PK.to_string(), s(LATEST_SK)),
                    (A_GSI1SK.to_string(), s(raw)),
                ]))
            }
        };
        let mut base = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .expression_attribute_names("#pk", A_GSI1PK)
            .expression_attribute_values(":pk", s(LATEST_SK));
        base = match &query.source {
            None => base.key_condition_expression("#pk = :pk"),
            Some(source) => base
                .key_condition_expression("#pk = :pk AND begins_with(#sk, :prefix)")
                .expression_attribute_names("#sk", A_GSI1SK)
                .expression_attribute_values(":prefix", s(format!("{source}#"))),
        };
        let rows = self.query_upto(base, start, limit + 1).await?;
        let mut items = rows
            .iter()
            .map(latest_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items
                .last()
                .map(|l| Cursor::encode(&latest_gsi1sk(&l.source_id, &l.item_id)))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn latest_price(&self, item: &ItemId) -> Result<Option<LatestPrice>, StoreError> {
        self.get_latest(item, false).await
    }

    async fn history(
        &self,
        item: &ItemId,
        query: &HistoryQuery,
    ) -> Result<Page<Observation>, StoreError> {
        let limit = page_size(query.limit) as usize;
        // `OBS#<time>#` sorts before every key at <time> (ids follow the
        // second '#'), so BETWEEN lo AND hi is [from, to): `from` inclusive,
        // `to` exclusive. `$` is the character after `#`.
        let lo = match query.from {
            Some(t) => format!("{OBS_PREFIX}{}#", sortable_time(t)),
            None => OBS_PREFIX.to_string(),
        };
        let hi = match query.to {
            Some(t) => format!("{OBS_PREFIX}{}#", sortable_time(t)),
            None => "OBS$".to_string(),
        };
        let start = match &query.cursor {
            None => None,
            Some(c) => {
                let sk = c.decode()?;
                let valid = sk
                    .strip_prefix(OBS_PREFIX)
                    .and_then(|rest| rest.split_once('#'))
                    .is_some_and(|(t, id)| {
                        parse_sortable_time(t).is_ok() && ObservationId::new(id).is_ok()
                    });
                // DynamoDB rejects a start key outside the key condition.
                if !valid || sk < lo || sk > hi {
                    return Err(StoreError::BadCursor);
                }
                Some(HashMap::from([
                    (A_PK.to_string(), s(item_pk(item))),
                    (A_SK.to_string(), s(sk)),
                ]))
            }
        };
        if lo >= hi {
            // An empty range; DynamoDB refuses BETWEEN with bounds reversed.
            return Ok(Page {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#sk", A_SK)
            .expression_attribute_values(":pk", s(item_pk(item)))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            .scan_index_forward(query.order == Order::Ascending);
        let rows = self.query_upto(base, start, limit + 1).await?;
        let mut items = rows
            .iter()
            .map(observation_from_item)
            .collect::<Result<Vec<_>, _>>()?;
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(|o| Cursor::encode(&obs_sk(o)))
        } else {
            None
        };
        Ok(Page { items, next_cursor })
    }

    async fn checkpoint(&self, source: &SourceId) -> Result<Option<Checkpoint>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(source_pk(source)))
            .key(A_SK, s(CHECKPOINT_SK))
            // The scraper decides what to read from this: never a stale value.
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.err("GetItem", e))?;
        let Some(item) = out.item() else {
            return Ok(None);
        };
        let last_post_id = match item.get(A_LAST_POST) {
            Some(AttributeValue::N(n)) => n.parse().map_err(|e| corrupt(A_LAST_POST, e))?,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "checkpoint of {source} has no numeric {A_LAST_POST}"
                )));
            }
        };
        Ok(Some(Checkpoint {
            source_id: source.clone(),
            last_post_id,
            updated_at: parse_sortable_time(get_s(item, A_UPDATED)?)?,
        }))
    }

    async fn advance_checkpoint(&self, cp: &Checkpoint) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(source_pk(&cp.source_id)))
            .key(A_SK, s(CHECKPOINT_SK))
            .update_expression("SET #last = :id, #updated = :at, #source = :source")
            .condition_expression("attribute_not_exists(#pk) OR #last < :id")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_names("#last", A_LAST_POST)
            .expression_attribute_names("#updated", A_UPDATED)
            .expression_attribute_names("#source", A_SOURCE)
            .expression_attribute_values(":id", AttributeValue::N(cp.last_post_id.to_string()))
            .expression_attribute_values(":at", s(sortable_time(cp.updated_at)))
            .expression_attribute_values(":source", s(cp.source_id.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Not newer than the stored one: nothing to do, by design.
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(UpdateItemError::ConditionalCheckFailedException(_))
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(self.err("UpdateItem", e)),
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        // A GetItem of a key that never exists: the API function's role may
        // only GetItem and Query, not DescribeTable.
        self.client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s("PING"))
            .key(A_SK, s("PING"))
            .send()
            .await
            .map_err(|e| self.err("GetItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsi1sk_orders_by_source_then_item() {
        let key = |src: &str, item: &str| {
            latest_gsi1sk(&SourceId::new(src).unwrap(), &ItemId::new(item).unwrap())
        };
        // "ab" sorts before "ab-c" as a source, although "ab-c:a" < "ab:z" as item ids.
        assert!(key("ab", "ab:z") < key("ab-c", "ab-c:a"));
        assert!(key("ab", "ab:a") < key("ab", "ab:b"));
    }
}
