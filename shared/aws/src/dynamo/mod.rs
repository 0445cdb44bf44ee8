//! The DynamoDB store: one table, the single-table design described in
//! `docs/dynamodb.md` and declared in `template.yaml`.
//!
//! | record     | pk                 | sk                              | gsi1pk              | gsi1sk                    |
//! |------------|--------------------|---------------------------------|---------------------|---------------------------|
//! | latest     | `ITEM#<item id>`   | `LATEST`                        | `LATEST`            | `<source id>#<item id>`   |
//! | history    | `ITEM#<item id>`   | `OBS#<sortable time>#<obs id>`  | `SERIES#<series>`¹  | `<sortable time>#<obs id>`¹ |
//! | series     | `SERIES`           | `<series id>`                   |                     |                           |
//! | checkpoint | `SOURCE#<source>`  | `CHECKPOINT`                    |                     |                           |
//! | health     | `SOURCE#<source>`  | `HEALTH`                        |                     |                           |
//! | user       | `USER#<user id>`   | `PROFILE`                       | `USERS`             | `<sortable last_seen>#<user id>` |
//! | watch      | `USER#<user id>`   | `WATCH#<item id>`               |                     |                           |
//! | alert      | `USER#<user id>`   | `ALERT#<alert id>`              | `ALERTS#item#<item id>` or `ALERTS#series#<series id>`² | `<alert id>`² |
//! | update     | `UPDATE#<update id>` | `UPDATE`                      |                     |                           |
//! | throttle   | `THROTTLE#<user id>#<window epoch s>` | `THROTTLE`   |                     |                           |
//! | quota      | `QUOTA#<user id>#<day epoch s>` | `QUOTA`            |                     |                           |
//! | payload    | `PAYLOAD#<key>`    | `PAYLOAD`                       |                     |                           |
//! | usage      | `USAGE#<yyyy-mm-dd>` | `<sortable at>#<user id>#<random>` |                |                           |
//! | tracked    | `TRACKED`          | `PAGE#<source id>`              |                     |                           |
//!
//! ¹ only for observations that belong to a series: the index is overloaded
//! (one `LATEST` partition, one `SERIES#…` partition per series, one `USERS`
//! partition, one `ALERTS#…` partition per alert target).
//! ² only while the alert is active: deactivating it removes both.
//!
//! Update claims, throttle windows, alert quota days and payloads carry the TTL attribute
//! `expires_at`; their readers check it too, since DynamoDB deletes lazily.
//! The user half of the store (`UserStore`) lives in `users.rs`.
//!
//! There are no transactions: idempotency comes from condition expressions.
//! A history row is written once (`attribute_not_exists`), and the latest
//! record only moves forward in the store's total order (observed time, then
//! observation id), so SQS redelivering a message in any order converges on
//! the same state as the SQLite adapter. The series registry's item counter
//! is incremented by the write that creates an item's LATEST record, so a
//! redelivery never counts an item twice.

mod users;

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
use chrono::{DateTime, Utc};

use pricehound_core::domain::{
    Availability, Checkpoint, Currency, ItemDetails, ItemId, LatestPrice, Money, Observation,
    ObservationId, SeriesId, SeriesSummary, SourceHealth, SourceId, SourceRun,
};
use pricehound_core::store::{
    Cursor, HistoryQuery, LatestQuery, Order, Page, Recorded, SERIES_SCAN_LIMIT, Store, StoreError,
    page_size, parse_sortable_time, sortable_time,
};

/// The global secondary index, overloaded and sparse: `LATEST` records list
/// latest prices by source and item, history records of a series list that
/// series' observations by time, `USERS` lists user profiles by last seen and
/// `ALERTS#<kind>#<target>` the active alerts on a target; other records do
/// not carry `gsi1pk`.
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
const A_LAST_POST: &str = "last_post_id";
const A_UPDATED: &str = "updated_at";
const A_ITEMS: &str = "items";
const A_LAST_SUCCESS: &str = "last_success_at";
const A_LAST_ERROR_AT: &str = "last_error_at";
const A_LAST_ERROR: &str = "last_error";
const A_FAILURES: &str = "consecutive_failures";
const A_ITEMS_SEEN: &str = "items_seen";
const A_RUNS: &str = "runs";

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
        // What the newest observation does not have goes, so nothing of an
        // older one lingers: a series the item left, the price of an item
        // now out of stock, details the page no longer shows.
        let mut removes = Vec::new();
        if obs.series.is_none() {
            removes.push(A_SERIES);
        }
        if obs.price.is_none() {
            removes.extend([A_AMOUNT, A_CURRENCY]);
        }
        if obs.details.is_empty() {
            removes.push(A_DETAILS);
        }
        if !removes.is_empty() {
            for name in &removes {
                update = update.expression_attribute_names(format!("#{name}"), *name);
            }
            let names: Vec<String> = removes.iter().map(|n| format!("#{n}")).collect();
            expression.push_str(&format!(" REMOVE {}", names.join(", ")));
        }
        match update.update_expression(expression).send().await {
            Ok(out) => {
                // No old attributes: this write created the item.
                let previous = match out.attributes() {
                    Some(item) if !item.is_empty() => Some(latest_from_item(item)?),
                    _ => None,
                };
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

    /// Counts a new item in its series' registry record.
    async fn count_new_item(&self, series: &SeriesId) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(SERIES_PK))
            .key(A_SK, s(series.as_str()))
            .update_expression("ADD #items :one")
            .expression_attribute_names("#items", A_ITEMS)
            .expression_attribute_values(":one", n(1))
            .send()
            .await
            .map_err(|e| self.err("UpdateItem (series registry)", e))?;
        Ok(())
    }
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
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

/// The series index partition of `series`.
fn series_gsi1pk(series: &SeriesId) -> String {
    format!("SERIES#{series}")
}

/// A history record's place in its series' index partition: time, then id.
fn series_gsi1sk(obs: &Observation) -> String {
    format!("{}#{}", sortable_time(obs.observed_at), obs.id)
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
        (A_AVAILABILITY, s(obs.availability.as_str())),
        (A_OBSERVED, s(sortable_time(obs.observed_at))),
        (A_OBS_ID, s(obs.id.as_str())),
        (A_PROVENANCE, s(provenance)),
    ];
    if let Some(price) = &obs.price {
        // Decimal strings, never N: N would lose the scale ("12.50" vs "12.5")
        // and is read back through floats by careless tools. No price, no
        // amount and no currency: never a zero.
        attrs.push((A_AMOUNT, s(price.amount.to_string())));
        attrs.push((A_CURRENCY, s(price.currency.code())));
    }
    if let Some(series) = &obs.series {
        attrs.push((A_SERIES, s(series.as_str())));
    }
    if !obs.details.is_empty() {
        let details = serde_json::to_string(&obs.details).expect("details always serialise");
        attrs.push((A_DETAILS, s(details)));
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

/// A string attribute that may be absent.
fn get_opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => get_s(item, name).map(Some),
    }
}

/// A number attribute that may be absent (then 0: counters start there).
fn get_n_or_zero<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => "0".parse().map_err(|e| corrupt(name, e)),
        Some(AttributeValue::N(v)) => v.parse().map_err(|e| corrupt(name, e)),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn observation_from_item(item: &Item) -> Result<Observation, StoreError> {
    let series = get_opt_s(item, A_SERIES)?
        .map(|v| SeriesId::new(v).map_err(|e| corrupt("series", e)))
        .transpose()?;
    let price = match (get_opt_s(item, A_AMOUNT)?, get_opt_s(item, A_CURRENCY)?) {
        (Some(amount), Some(currency)) => Some(Money::new(
            amount.parse().map_err(|e| corrupt("amount", e))?,
            Currency::new(currency).map_err(|e| corrupt("currency", e))?,
        )),
        (None, None) => None,
        _ => {
            return Err(StoreError::Corrupt(format!(
                "{A_AMOUNT} and {A_CURRENCY} must be both present or both absent"
            )));
        }
    };
    // Records written before availability existed read as unknown.
    let availability = match get_opt_s(item, A_AVAILABILITY)? {
        None => Availability::Unknown,
        Some(v) => Availability::parse(v).ok_or_else(|| corrupt("availability", v))?,
    };
    let details = match get_opt_s(item, A_DETAILS)? {
        None => ItemDetails::default(),
        Some(json) => serde_json::from_str(json).map_err(|e| corrupt("details", e))?,
    };
    Ok(Observation {
        id: ObservationId::new(get_s(item, A_OBS_ID)?).map_err(|e| corrupt("obs_id", e))?,
        source_id: SourceId::new(get_s(item, A_SOURCE)?).map_err(|e| corrupt("source_id", e))?,
        item_id: ItemId::new(get_s(item, A_ITEM)?).map_err(|e| corrupt("item_id", e))?,
        item_name: get_s(item, A_NAME)?.to_string(),
        series,
        price,
        availability,
        details,
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
        if let Some(series) = &obs.series {
            // The series index (`series_observations`).
            put = put
                .item(A_GSI1PK, s(series_gsi1pk(series)))
                .item(A_GSI1SK, s(series_gsi1sk(obs)));
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
        if became_latest
            && previous.is_none()
            && let Some(series) = &obs.series
        {
            // This write created the item's LATEST record; the conditional
            // update guarantees exactly one write does. (If this increment
            // fails, the redelivery finds LATEST and does not count again:
            // the registry undercounts rather than double counts.)
            self.count_new_item(series).await?;
        }
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
        if query.hide_user_pages {
            // Not a key condition: user pages sit in the middle of the
            // index's order. Filtered items still count against each
            // request's Limit, and query_upto pages on until it has enough,
            // so the cursor below is always a visible item's.
            base = base
                .filter_expression("NOT begins_with(#src, :userpages)")
                .expression_attribute_names("#src", A_SOURCE)
                .expression_attribute_values(
                    ":userpages",
                    s(pricehound_core::domain::USER_PAGE_PREFIX),
                );
        }
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

    async fn series_observations(
        &self,
        series: &SeriesId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<Observation>, StoreError> {
        // `<time>#` sorts before every key at <time> (ids follow the '#'),
        // so BETWEEN lo AND hi is [from, to), as in `history`.
        let lo = format!("{}#", sortable_time(from));
        let hi = format!("{}#", sortable_time(to));
        if lo >= hi {
            // An empty window; DynamoDB refuses BETWEEN with bounds reversed.
            return Ok(Vec::new());
        }
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI1)
            .key_condition_expression("#pk = :pk AND #sk BETWEEN :lo AND :hi")
            .expression_attribute_names("#pk", A_GSI1PK)
            .expression_attribute_names("#sk", A_GSI1SK)
            .expression_attribute_values(":pk", s(series_gsi1pk(series)))
            .expression_attribute_values(":lo", s(lo))
            .expression_attribute_values(":hi", s(hi))
            // Newest first, so the cap keeps the most recent observations.
            .scan_index_forward(false);
        let rows = self
            .query_upto(base, None, SERIES_SCAN_LIMIT as usize)
            .await?;
        rows.iter().map(observation_from_item).collect()
    }

    async fn list_series(&self) -> Result<Vec<SeriesSummary>, StoreError> {
        let base = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", A_PK)
            .expression_attribute_values(":pk", s(SERIES_PK));
        // Sort keys are series ids: DynamoDB returns them in id order.
        let rows = self.query_upto(base, None, usize::MAX).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in &rows {
            let series = SeriesId::new(get_s(row, A_SK)?).map_err(|e| corrupt("series", e))?;
            let items: u64 = get_n_or_zero(row, A_ITEMS)?;
            if items > 0 {
                out.push(SeriesSummary { series, items });
            }
        }
        Ok(out)
    }

    async fn record_source_run(&self, run: &SourceRun) -> Result<(), StoreError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(source_pk(&run.source_id)))
            .key(A_SK, s(HEALTH_SK))
            .expression_attribute_names("#source", A_SOURCE)
            .expression_attribute_names("#runs", A_RUNS)
            .expression_attribute_names("#fails", A_FAILURES)
            .expression_attribute_values(":source", s(run.source_id.as_str()))
            .expression_attribute_values(":at", s(sortable_time(run.at)))
            .expression_attribute_values(":one", n(1));
        let update = match &run.outcome {
            // The last error stays: it is what went wrong most recently.
            Ok(items) => update
                .update_expression(
                    "SET #source = :source, #ok_at = :at, #seen = :seen, #fails = :zero ADD #runs :one",
                )
                .expression_attribute_names("#ok_at", A_LAST_SUCCESS)
                .expression_attribute_names("#seen", A_ITEMS_SEEN)
                .expression_attribute_values(":seen", n(items))
                .expression_attribute_values(":zero", n(0)),
            Err(message) => update
                .update_expression(
                    "SET #source = :source, #err_at = :at, #err = :err ADD #fails :one, #runs :one",
                )
                .expression_attribute_names("#err_at", A_LAST_ERROR_AT)
                .expression_attribute_names("#err", A_LAST_ERROR)
                .expression_attribute_values(":err", s(message)),
        };
        update
            .send()
            .await
            .map_err(|e| self.err("UpdateItem (source health)", e))?;
        Ok(())
    }

    async fn source_health(&self, source: &SourceId) -> Result<Option<SourceHealth>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(A_PK, s(source_pk(source)))
            .key(A_SK, s(HEALTH_SK))
            .send()
            .await
            .map_err(|e| self.err("GetItem (source health)", e))?;
        let Some(item) = out.item().filter(|i| !i.is_empty()) else {
            return Ok(None);
        };
        let time = |name: &str| get_opt_s(item, name)?.map(parse_sortable_time).transpose();
        Ok(Some(SourceHealth {
            source_id: source.clone(),
            last_success_at: time(A_LAST_SUCCESS)?,
            last_error_at: time(A_LAST_ERROR_AT)?,
            last_error: get_opt_s(item, A_LAST_ERROR)?.map(str::to_string),
            consecutive_failures: get_n_or_zero(item, A_FAILURES)?,
            items_seen: get_n_or_zero(item, A_ITEMS_SEEN)?,
            runs: get_n_or_zero(item, A_RUNS)?,
        }))
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

    #[test]
    fn series_bounds_make_a_half_open_window() {
        use chrono::TimeZone;
        let t = |s: u32| Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, s).unwrap();
        let bound = |at| format!("{}#", sortable_time(at));
        let key = |at, post| {
            let source = SourceId::new("src").unwrap();
            let item = ItemId::new("src:item").unwrap();
            let price = Money::new(1.into(), Currency::new("EUR").unwrap());
            let provenance = pricehound_core::domain::Provenance::TelegramPost {
                channel: "src".into(),
                post_id: post,
            };
            series_gsi1sk(&Observation::new(
                source, item, "I", None, price, at, provenance,
            ))
        };
        // `from` inclusive, `to` exclusive, whatever the id.
        assert!(bound(t(1)) < key(t(1), 1) && key(t(1), 1) < bound(t(2)));
        assert!(key(t(2), 2) > bound(t(2)));
        assert!(key(t(0), 3) < bound(t(1)));
    }
}
