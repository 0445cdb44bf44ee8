//! [`Store`] on DynamoDB: history, latest prices, the series registry,
//! checkpoints and source health (layout in the table at the top of
//! `mod.rs`).

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Utc};
use pricehound_core::domain::{
    Availability, Checkpoint, Currency, ItemDetails, ItemId, LastChange, LatestPrice, Money,
    Observation, ObservationId, SeriesId, SeriesSummary, SourceHealth, SourceId, SourceRun,
};
use pricehound_core::store::{
    Cursor, HistoryQuery, LatestQuery, Order, Page, Recorded, SERIES_SCAN_LIMIT, Store, StoreError,
    page_size, parse_sortable_time, sortable_time,
};

use super::attrs::{Item, corrupt, get_n_or_zero, get_opt_s, get_s, n, s};
use super::{
    A_AMOUNT, A_AVAILABILITY, A_CHANGE, A_CURRENCY, A_DETAILS, A_FAILURES, A_GSI1PK, A_GSI1SK,
    A_ITEM, A_ITEMS, A_ITEMS_SEEN, A_LAST_ERROR, A_LAST_ERROR_AT, A_LAST_POST, A_LAST_SUCCESS,
    A_NAME, A_OBS_ID, A_OBSERVED, A_PK, A_PROVENANCE, A_RUNS, A_SERIES, A_SK, A_SOURCE, A_UPDATED,
    CHECKPOINT_SK, DynamoStore, HEALTH_SK, Keys, LATEST_SK, OBS_PREFIX, Read, SERIES_PK, SortKeys,
    TTL_ATTRIBUTE, shard,
};

pub(super) fn item_pk(item: &ItemId) -> String {
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

/// The index partition (`LATEST#<shard>`) holding `item`'s latest price:
/// every item in one partition would cap ingest at one partition's write
/// rate (`shard.rs`).
pub(super) fn latest_gsi1pk(item: &ItemId) -> String {
    shard::key_for(LATEST_SK, item.as_str())
}

/// The position a `latest_prices` cursor names: the index sort key of the
/// last item of the page before, `<source>#<item>`, checked to be one. It
/// comes from outside: anything else is `BadCursor`, never a panic or a
/// backend error.
fn latest_cursor(
    cursor: &Cursor,
    source: Option<&SourceId>,
) -> Result<(String, ItemId), StoreError> {
    let raw = cursor.decode()?;
    let (cursor_source, item) = raw.split_once('#').ok_or(StoreError::BadCursor)?;
    let cursor_source = SourceId::new(cursor_source).map_err(|_| StoreError::BadCursor)?;
    let item = ItemId::new(item).map_err(|_| StoreError::BadCursor)?;
    // DynamoDB rejects a start key outside the key condition.
    if source.is_some_and(|q| *q != cursor_source) {
        return Err(StoreError::BadCursor);
    }
    Ok((raw, item))
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

pub(super) fn latest_from_item(item: &Item) -> Result<LatestPrice, StoreError> {
    let mut latest = LatestPrice::from(&observation_from_item(item)?);
    latest.change = get_opt_s(item, A_CHANGE)?
        .map(|json| serde_json::from_str(json).map_err(|e| corrupt("change", e)))
        .transpose()?;
    Ok(latest)
}

impl DynamoStore {
    /// The LATEST record of `item`, read consistently when `consistent`.
    async fn get_latest(
        &self,
        item: &ItemId,
        consistent: bool,
    ) -> Result<Option<LatestPrice>, StoreError> {
        let read = if consistent {
            Read::Consistent
        } else {
            Read::Eventual
        };
        self.get_record(item_pk(item), LATEST_SK, read, "latest price")
            .await?
            .as_ref()
            .map(latest_from_item)
            .transpose()
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
        // The index keys are set on every write, so a record written before
        // the index was sharded moves to its shard with its next price.
        let mut values: Vec<(&str, AttributeValue)> = vec![
            (A_GSI1PK, s(latest_gsi1pk(&obs.item_id))),
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

    /// Writes the item's last change after `obs` became its latest price
    /// (the update in `advance_latest` leaves `change` as it was, which is
    /// right when the price did not move). Conditioned on LATEST still
    /// holding `obs`: a newer observation that landed in between has
    /// written its own change.
    async fn set_change(
        &self,
        obs: &Observation,
        previous: Option<&LatestPrice>,
    ) -> Result<(), StoreError> {
        let change = LastChange::after(previous, obs);
        if change.as_ref() == previous.and_then(|p| p.change.as_ref()) {
            return Ok(());
        }
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(A_PK, s(item_pk(&obs.item_id)))
            .key(A_SK, s(LATEST_SK))
            .condition_expression("#obs_id = :id")
            .expression_attribute_names("#obs_id", A_OBS_ID)
            .expression_attribute_names("#change", A_CHANGE)
            .expression_attribute_values(":id", s(obs.id.as_str()));
        let update = match &change {
            Some(c) => {
                let json = serde_json::to_string(c)
                    .map_err(|e| StoreError::Backend(format!("change as JSON: {e}")))?;
                update
                    .update_expression("SET #change = :change")
                    .expression_attribute_values(":change", s(json))
            }
            None => update.update_expression("REMOVE #change"),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => Ok(()),
                _ => Err(self.err("UpdateItem (last change)", e)),
            },
        }
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
        // Never on LATEST: only history rows expire.
        let expires = self.retention.history_expires_at(obs.observed_at);
        put = put.item(TTL_ATTRIBUTE, n(expires.timestamp()));
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
        if became_latest {
            self.set_change(obs, previous.as_ref()).await?;
        }
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
        let after = query
            .cursor
            .as_ref()
            .map(|c| latest_cursor(c, query.source.as_ref()))
            .transpose()?;
        let sort = match &query.source {
            None => SortKeys::All,
            Some(source) => SortKeys::Prefix(format!("{source}#")),
        };
        // Every shard of the index, each from just after the cursor: the
        // start key names the cursor's item in a shard it may not be in,
        // which DynamoDB accepts (a start key is a position in the key
        // order, not a record that must exist).
        let shards = shard::all_keys(LATEST_SK)
            .map(|gsi1pk| {
                let start = after.as_ref().map(|(raw, item)| {
                    HashMap::from([
                        (A_PK.to_string(), s(item_pk(item))),
                        (A_SK.to_string(), s(LATEST_SK)),
                        (A_GSI1PK.to_string(), s(&gsi1pk)),
                        (A_GSI1SK.to_string(), s(raw)),
                    ])
                });
                let mut base = self.partition(Keys::Gsi1, gsi1pk, sort.clone());
                if query.hide_user_pages {
                    // Not a key condition: user pages sit in the middle of the
                    // index's order. Filtered items still count against each
                    // request's Limit, and the reads page on until they have
                    // enough, so the cursor below is always a visible item's.
                    base = base
                        .filter_expression("NOT begins_with(#src, :userpages)")
                        .expression_attribute_names("#src", A_SOURCE)
                        .expression_attribute_values(
                            ":userpages",
                            s(pricehound_core::domain::USER_PAGE_PREFIX),
                        );
                }
                (base, start)
            })
            .collect();
        // Merged by the index sort key: the order of the one partition the
        // records shared before sharding, so pages and cursors are as they were.
        let rows = self.merge_shards(shards, A_GSI1SK, limit + 1).await?;
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
            .partition(Keys::Table, item_pk(item), SortKeys::Between(lo, hi))
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
        // The scraper decides what to read from this: never a stale value.
        let record = self
            .get_record(
                source_pk(source),
                CHECKPOINT_SK,
                Read::Consistent,
                "checkpoint",
            )
            .await?;
        let Some(item) = &record else {
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
            .partition(Keys::Gsi1, series_gsi1pk(series), SortKeys::Between(lo, hi))
            // Newest first, so the cap keeps the most recent observations.
            .scan_index_forward(false);
        let rows = self
            .query_upto(base, None, SERIES_SCAN_LIMIT as usize)
            .await?;
        rows.iter().map(observation_from_item).collect()
    }

    async fn list_series(&self) -> Result<Vec<SeriesSummary>, StoreError> {
        let base = self.partition(Keys::Table, SERIES_PK.into(), SortKeys::All);
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
        let record = self
            .get_record(
                source_pk(source),
                HEALTH_SK,
                Read::Eventual,
                "source health",
            )
            .await?;
        let Some(item) = &record else {
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
        self.get_record("PING".into(), "PING", Read::Eventual, "ping")
            .await?;
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
    fn latest_records_are_sharded_by_item() {
        let item = ItemId::new("shop:gpu").unwrap();
        assert_eq!(latest_gsi1pk(&item), "LATEST#06");
    }

    /// A cursor comes from outside: everything but a `<source>#<item>` of
    /// valid ids (and of the queried source, if any) is `BadCursor`.
    #[test]
    fn latest_cursors_are_validated() {
        let shop = SourceId::new("shop").unwrap();
        let ok = latest_cursor(&Cursor::encode("shop#shop:gpu"), Some(&shop)).unwrap();
        assert_eq!(
            ok,
            (
                "shop#shop:gpu".to_string(),
                ItemId::new("shop:gpu").unwrap()
            )
        );
        assert!(latest_cursor(&Cursor::encode("shop#shop:gpu"), None).is_ok());
        for bad in [
            Cursor::from_param("%%%"),
            Cursor::from_param("c2hvcA"), // "shop": no '#'
            Cursor::encode(""),
            Cursor::encode("#shop:gpu"),
            Cursor::encode("shop#"),
            Cursor::encode("Shop#shop:gpu"),
            Cursor::encode("shop#shop:gpu#x"),
            Cursor::encode("shop#shop gpu"),
            Cursor::encode(&format!("shop#{}", "a".repeat(201))),
            Cursor::encode("other#other:gpu"), // not the queried source
        ] {
            assert!(
                matches!(latest_cursor(&bad, Some(&shop)), Err(StoreError::BadCursor)),
                "{bad:?}"
            );
        }
        // Bytes that are not UTF-8.
        let raw = base64_of(&[0xff, 0xfe, b'#', b'a']);
        assert!(matches!(
            latest_cursor(&Cursor::from_param(&raw), None),
            Err(StoreError::BadCursor)
        ));
    }

    /// URL-safe base64 without padding, as `Cursor` writes it.
    fn base64_of(bytes: &[u8]) -> String {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let n =
                chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
            for i in 0..=chunk.len() {
                out.push(ABC[((n >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
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
