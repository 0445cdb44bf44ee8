//! Scatter-gather reads over the shards of a sharded partition
//! (`shard.rs`): every shard is queried, at most [`SHARD_CONCURRENCY`] at
//! once, and the answers are combined into what one partition holding all
//! the records would have returned: the same order, the same count.

use std::collections::VecDeque;

use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::Select;
use futures::stream::{self, StreamExt, TryStreamExt};
use pricehound_core::store::StoreError;

use super::DynamoStore;
use super::attrs::{Item, get_s};
use super::shard::SHARD_CONCURRENCY;

/// One shard's part of a merged read: its query, where it goes on from,
/// and what it fetched that is not merged yet (with its sort key).
struct ShardRead {
    base: QueryFluentBuilder,
    /// The exclusive start key of the next request; `None` before the first
    /// request means "from the start".
    start: Option<Item>,
    buffered: VecDeque<(String, Item)>,
    /// Nothing more in this shard (within the query's key condition).
    exhausted: bool,
}

/// How many records to ask each shard for first, when `want` are wanted
/// from `shards` shards. The hash spreads records evenly, so a shard holds
/// about `want / shards` of the first `want` (binomially, standard deviation
/// about the square root of that); two deviations more keeps the second
/// round trip (one query, to the one shard that ran out) to about one page
/// of 50 in 16 and one page of 100 in 3, while a page of 100 reads 12
/// records a shard, 192 in all, instead of the 16 x 101 a merge asking
/// every shard for a whole page would. `docs/scale.md` prices it.
fn first_batch(want: usize, shards: usize) -> usize {
    let even = want.div_ceil(shards.max(1));
    even + 2 * even.isqrt() + 1
}

impl DynamoStore {
    /// The first `want` records of the union of `shards` (each a query with
    /// its exclusive start key), in ascending order of the string attribute
    /// `order_by`, which must be the queries' sort key: exactly the records
    /// and order one query of one partition holding them all returns.
    ///
    /// A k-way merge that fetches lazily: each shard is asked for a batch,
    /// and a shard whose batch is used up is asked again before anything
    /// is taken past it, so no record is skipped however unevenly the
    /// shards fill; a shard's records come in its own sort order, so the
    /// smallest head is the next record overall. Equal sort keys (which the
    /// callers' keys never have) keep shard order.
    pub(super) async fn merge_shards(
        &self,
        shards: Vec<(QueryFluentBuilder, Option<Item>)>,
        order_by: &str,
        want: usize,
    ) -> Result<Vec<Item>, StoreError> {
        let batch = first_batch(want, shards.len());
        let mut reads: Vec<ShardRead> = shards
            .into_iter()
            .map(|(base, start)| ShardRead {
                base,
                start,
                buffered: VecDeque::new(),
                exhausted: false,
            })
            .collect();
        let mut out = Vec::with_capacity(want);
        while out.len() < want {
            // A shard with nothing buffered may hold the next record: ask
            // every such shard (at once) before choosing.
            let size = batch.min(want - out.len());
            let requests: Vec<(usize, QueryFluentBuilder, Option<Item>)> = reads
                .iter_mut()
                .enumerate()
                .filter(|(_, r)| r.buffered.is_empty() && !r.exhausted)
                .map(|(i, r)| (i, r.base.clone(), r.start.take()))
                .collect();
            if !requests.is_empty() {
                let fetched: Vec<(usize, Vec<Item>, Option<Item>)> = stream::iter(requests)
                    .map(|(i, base, start)| async move {
                        let (items, next) = self.query_with_next(base, start, size).await?;
                        Ok::<_, StoreError>((i, items, next))
                    })
                    .buffer_unordered(SHARD_CONCURRENCY)
                    .try_collect()
                    .await?;
                for (i, items, next) in fetched {
                    let read = &mut reads[i];
                    for item in items {
                        let key = get_s(&item, order_by)?.to_string();
                        read.buffered.push_back((key, item));
                    }
                    read.exhausted = next.is_none();
                    read.start = next;
                }
            }
            // The smallest head; the first shard wins a tie.
            let mut next: Option<usize> = None;
            for (i, read) in reads.iter().enumerate() {
                if let Some((key, _)) = read.buffered.front()
                    && next.is_none_or(|j| reads[j].buffered.front().is_some_and(|(k, _)| key < k))
                {
                    next = Some(i);
                }
            }
            let Some((_, item)) = next.and_then(|i| reads[i].buffered.pop_front()) else {
                break; // every shard is exhausted
            };
            out.push(item);
        }
        Ok(out)
    }

    /// Every record of every shard query, all pages, shard by shard (in the
    /// order of `shards`). Callers sort what they need sorted.
    pub(super) async fn gather_shards(
        &self,
        shards: Vec<QueryFluentBuilder>,
    ) -> Result<Vec<Item>, StoreError> {
        let per_shard: Vec<Vec<Item>> = stream::iter(shards)
            .map(|base| self.query_upto(base, None, usize::MAX))
            .buffered(SHARD_CONCURRENCY)
            .try_collect()
            .await?;
        Ok(per_shard.into_iter().flatten().collect())
    }

    /// The number of records the shard queries match, summed (each a
    /// `Select=COUNT` query over all its pages).
    pub(super) async fn count_shards(
        &self,
        shards: Vec<QueryFluentBuilder>,
    ) -> Result<u64, StoreError> {
        stream::iter(shards)
            .map(|base| self.count_query(base))
            .buffer_unordered(SHARD_CONCURRENCY)
            .try_fold(0u64, |total, n| async move { Ok(total + n) })
            .await
    }

    /// Runs a `Select=COUNT` query over all its pages.
    pub(super) async fn count_query(&self, base: QueryFluentBuilder) -> Result<u64, StoreError> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = base
                .clone()
                .select(Select::Count)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| self.err("Query (count)", e))?;
            total += u64::try_from(out.count()).unwrap_or_default();
            match out.last_evaluated_key() {
                Some(key) if !key.is_empty() => start = Some(key.clone()),
                _ => return Ok(total),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_batches_cover_an_even_share_with_room() {
        // A page of 100 (101 wanted: one more tells whether more follow).
        assert_eq!(first_batch(101, 16), 7 + 4 + 1);
        // The biggest page: 63 expected per shard, about two deviations of room.
        assert_eq!(first_batch(1001, 16), 63 + 14 + 1);
        // A page of one still asks each shard for a few.
        assert_eq!(first_batch(2, 16), 1 + 2 + 1);
        assert_eq!(first_batch(5, 1), 5 + 4 + 1);
        assert_eq!(first_batch(1, 0), 1 + 2 + 1);
    }
}
