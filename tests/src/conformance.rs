//! The store conformance suite: what every [`Store`] adapter must do, so
//! that `serve` on SQLite and the Lambda functions on DynamoDB behave the
//! same. Each case is a plain async function over `&dyn Store`;
//! [`conformance_suite!`](crate::conformance_suite) turns them into one
//! `#[tokio::test]` per case for a given adapter.
//!
//! Each case expects a fresh, empty store.

use std::collections::HashSet;
use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pricehound::domain::{
    Availability, Checkpoint, Currency, ItemDetails, ItemId, LastChange, LatestPrice, Money,
    Observation, Provenance, SeriesId, SeriesSummary, SourceHealth, SourceId, SourceRun,
};
use pricehound::store::{Cursor, HistoryQuery, LatestQuery, Order, Page, Store, StoreError};
use rust_decimal::Decimal;

/// Expands to one `#[tokio::test]` per conformance case. `$make` is an
/// expression evaluated afresh in every test that yields a future of the
/// store, e.g. `async { SqliteStore::in_memory().unwrap() }`.
#[macro_export]
macro_rules! conformance_suite {
    ($make:expr) => {
        $crate::conformance_suite!(@cases $make;
            record_is_idempotent,
            latest_only_moves_forward,
            equal_time_tie_broken_by_id,
            latest_prices_pages_filter_and_order,
            latest_prices_order_by_source_then_item,
            latest_prices_can_hide_user_pages,
            latest_prices_walk_many_items_once_in_order,
            history_range_order_and_pages,
            bad_cursor_is_rejected,
            checkpoint_moves_forward_only,
            decimal_amounts_round_trip,
            unicode_names_round_trip,
            provenance_and_series_round_trip,
            unpriced_out_of_stock_becomes_latest,
            details_round_trip,
            series_observations_filter_by_series_and_window,
            list_series_counts_items_per_series,
            source_health_tracks_runs,
            unknown_source_has_no_health,
            unknown_item_has_nothing,
            ping_answers,
            last_change_is_kept_with_the_latest_price,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::conformance::$case(&store).await;
            }
        )*
    };
}

/// 2024-05-01T10:00:00Z plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 10, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn money(amount: &str, currency: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        Currency::new(currency).unwrap(),
    )
}

/// An observation of `item` (`<source>:<key>`) from Telegram post `post`.
pub fn obs(item: &str, name: &str, when: DateTime<Utc>, amount: &str, post: u64) -> Observation {
    let item = ItemId::new(item).unwrap();
    let source = item.source_id();
    Observation::new(
        source.clone(),
        item,
        name,
        None,
        money(amount, "EUR"),
        when,
        Provenance::TelegramPost {
            channel: source.to_string(),
            post_id: post,
        },
    )
}

fn item(id: &str) -> ItemId {
    ItemId::new(id).unwrap()
}

fn latest(o: &Observation) -> LatestPrice {
    LatestPrice::from(o)
}

/// `o` as the latest price after its price moved from `from`.
fn latest_changed(o: &Observation, from: &Observation) -> LatestPrice {
    LatestPrice {
        change: Some(LastChange {
            from: from.price.clone().unwrap(),
            at: o.observed_at,
        }),
        ..LatestPrice::from(o)
    }
}

async fn all_history(store: &dyn Store, item: &ItemId) -> Vec<Observation> {
    let page = store.history(item, &HistoryQuery::default()).await.unwrap();
    assert!(
        page.next_cursor.is_none(),
        "a small history fits one default page"
    );
    page.items
}

/// Follows `next_cursor` to the end; fails on a loop or an oversized page.
async fn all_latest_pages(store: &dyn Store, mut query: LatestQuery) -> Vec<Page<LatestPrice>> {
    let mut pages = Vec::new();
    loop {
        let page = store.latest_prices(&query).await.unwrap();
        assert!(
            page.items.len() <= query.limit as usize,
            "page over the limit"
        );
        let next = page.next_cursor.clone();
        pages.push(page);
        assert!(pages.len() < 100, "latest_prices pagination does not end");
        match next {
            Some(c) => query.cursor = Some(c),
            None => return pages,
        }
    }
}

async fn all_history_pages(
    store: &dyn Store,
    item: &ItemId,
    mut query: HistoryQuery,
) -> Vec<Page<Observation>> {
    let mut pages = Vec::new();
    loop {
        let page = store.history(item, &query).await.unwrap();
        assert!(
            page.items.len() <= query.limit as usize,
            "page over the limit"
        );
        let next = page.next_cursor.clone();
        pages.push(page);
        assert!(pages.len() < 100, "history pagination does not end");
        match next {
            Some(c) => query.cursor = Some(c),
            None => return pages,
        }
    }
}

/// Recording the same observation twice (an SQS redelivery) stores it once.
pub async fn record_is_idempotent(store: &dyn Store) {
    let a = obs("src:gold", "Gold", at(0), "100", 1);
    let first = store.record(&a).await.unwrap();
    assert!(first.inserted);
    assert!(first.became_latest);
    assert_eq!(first.previous, None);

    let second = store.record(&a).await.unwrap();
    assert!(!second.inserted, "a redelivery must not insert again");
    assert!(
        !second.became_latest,
        "an observation is not newer than itself"
    );
    assert_eq!(second.previous, Some(latest(&a)));

    assert_eq!(all_history(store, &a.item_id).await, vec![a.clone()]);
    assert_eq!(
        store.latest_price(&a.item_id).await.unwrap(),
        Some(latest(&a))
    );
}

/// Latest moves forward only, whatever order observations arrive in, and
/// carries the newest observation's name and series.
pub async fn latest_only_moves_forward(store: &dyn Store) {
    let id = "src:gold-18k";
    let mut newer = obs(id, "Gold 18k", at(10), "110", 2);
    newer.series = Some(SeriesId::new("gold-18k").unwrap());
    let older = obs(id, "Old label", at(5), "105", 1);
    let newest = obs(id, "Gold 18k (new label)", at(20), "120", 3);

    let r = store.record(&newer).await.unwrap();
    assert_eq!(
        (r.inserted, r.became_latest, r.previous),
        (true, true, None)
    );

    let r = store.record(&older).await.unwrap();
    assert!(r.inserted, "an older observation still goes into history");
    assert!(
        !r.became_latest,
        "an older observation must not become latest"
    );
    assert_eq!(r.previous, Some(latest(&newer)));
    assert_eq!(
        store.latest_price(&item(id)).await.unwrap(),
        Some(latest(&newer))
    );

    let r = store.record(&newest).await.unwrap();
    assert!(r.inserted && r.became_latest);
    assert_eq!(r.previous, Some(latest(&newer)));
    let now = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(now, latest_changed(&newest, &newer));
    assert_eq!(now.name, "Gold 18k (new label)");
    assert_eq!(now.series, None, "the newest observation has no series");

    assert_eq!(
        all_history(store, &item(id)).await,
        vec![older, newer.clone(), newest.clone()]
    );
    // Re-recording the older one later changes nothing.
    let r = store
        .record(&obs(id, "Old label", at(5), "105", 1))
        .await
        .unwrap();
    assert_eq!((r.inserted, r.became_latest), (false, false));
    assert_eq!(r.previous, Some(latest_changed(&newest, &newer)));
}

/// Two observations at the same instant: the larger id wins, in either
/// arrival order, so two stores (or two deliveries) always agree.
pub async fn equal_time_tie_broken_by_id(store: &dyn Store) {
    for (key, swap) in [("tie:first-order", false), ("tie:second-order", true)] {
        let a = obs(key, "A", at(0), "1", 1);
        let b = obs(key, "B", at(0), "2", 2);
        let winner = if a.id > b.id { a.clone() } else { b.clone() };
        let (first, second) = if swap { (b, a) } else { (a, b) };
        store.record(&first).await.unwrap();
        let r = store.record(&second).await.unwrap();
        assert!(r.inserted);
        assert_eq!(r.became_latest, second.id > first.id, "{key}");
        assert_eq!(r.previous, Some(latest(&first)), "{key}");
        assert_eq!(
            store.latest_price(&item(key)).await.unwrap(),
            Some(latest(&winner)),
            "{key}: the larger id must win a tie"
        );
        let history = all_history(store, &item(key)).await;
        let mut expected = vec![first, second];
        expected.sort_by(|x, y| x.id.cmp(&y.id));
        assert_eq!(history, expected, "{key}: history orders a tie by id");
    }
}

/// `latest_prices`: ordered by source then item, every item exactly once
/// across pages, a cursor only when more follows, filtering by source.
pub async fn latest_prices_pages_filter_and_order(store: &dyn Store) {
    let ids = [
        "gamma:g2", "alpha:a2", "beta:b1", "alpha:a3", "gamma:g1", "alpha:a1", "beta:b2",
    ];
    let mut expected = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let o = obs(
            id,
            &format!("Item {id}"),
            at(n as i64),
            &format!("{}.5", n + 1),
            1,
        );
        store.record(&o).await.unwrap();
        expected.push(latest(&o));
    }
    expected.sort_by(|x, y| {
        (x.source_id.as_str(), x.item_id.as_str()).cmp(&(y.source_id.as_str(), y.item_id.as_str()))
    });

    let pages = all_latest_pages(
        store,
        LatestQuery {
            limit: 3,
            ..Default::default()
        },
    )
    .await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
    assert_eq!(sizes, vec![3, 3, 1], "7 items in pages of 3");
    let got: Vec<LatestPrice> = pages.into_iter().flat_map(|p| p.items).collect();
    let unique: HashSet<&str> = got.iter().map(|l| l.item_id.as_str()).collect();
    assert_eq!(unique.len(), got.len(), "an item appeared on two pages");
    assert_eq!(got, expected, "pages concatenate to all items in order");

    // Exactly one full page: no cursor, since nothing follows.
    let page = store
        .latest_prices(&LatestQuery {
            limit: 7,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page.items, expected);
    assert_eq!(page.next_cursor, None, "no cursor when nothing follows");

    // limit 0 means the default page size.
    let page = store.latest_prices(&LatestQuery::default()).await.unwrap();
    assert_eq!(page.items, expected);

    // Filter by source, paginated one item per page.
    let beta = SourceId::new("beta").unwrap();
    let pages = all_latest_pages(
        store,
        LatestQuery {
            source: Some(beta.clone()),
            limit: 1,
            cursor: None,
            hide_user_pages: false,
        },
    )
    .await;
    let got: Vec<LatestPrice> = pages.into_iter().flat_map(|p| p.items).collect();
    let want: Vec<LatestPrice> = expected
        .iter()
        .filter(|l| l.source_id == beta)
        .cloned()
        .collect();
    assert_eq!(got, want);

    let none = store
        .latest_prices(&LatestQuery {
            source: Some(SourceId::new("nobody").unwrap()),
            limit: 10,
            cursor: None,
            hide_user_pages: false,
        })
        .await
        .unwrap();
    assert!(none.items.is_empty() && none.next_cursor.is_none());
}

/// Many more items than a page, from several sources, some of them pasted
/// pages (a store that spreads them over partitions, as the DynamoDB one
/// shards them, must merge them back): every page size walks every item
/// exactly once, in source-then-item order, with full pages until the last,
/// a cursor exactly when more follows, and the same answer for the same
/// cursor twice; a source filter and hiding user pages page the same way.
pub async fn latest_prices_walk_many_items_once_in_order(store: &dyn Store) {
    let mut ids: Vec<String> = Vec::new();
    for source in ["alpha", "beta", "gamma-2", "gamma", "page-0123456789ab"] {
        let count = if source.starts_with("page-") { 17 } else { 61 };
        // Unpadded numbers, so string order differs from number order.
        ids.extend((0..count).map(|n| format!("{source}:item-{n}")));
    }
    let mut expected = Vec::new();
    // Recorded interleaved, not in key order.
    for (n, id) in ids.iter().enumerate().rev() {
        let o = obs(id, id, at(n as i64 % 50), &format!("{n}.25"), n as u64 + 1);
        store.record(&o).await.unwrap();
        expected.push(latest(&o));
    }
    expected.sort_by(|x, y| {
        (x.source_id.as_str(), x.item_id.as_str()).cmp(&(y.source_id.as_str(), y.item_id.as_str()))
    });
    let total = expected.len();
    assert_eq!(total, 4 * 61 + 17);

    for limit in [7u32, 50, 100, 261, 1000] {
        let pages = all_latest_pages(
            store,
            LatestQuery {
                limit,
                ..Default::default()
            },
        )
        .await;
        let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
        let full = total / limit as usize;
        let mut want_sizes = vec![limit as usize; full];
        if total % limit as usize != 0 {
            want_sizes.push(total % limit as usize);
        }
        assert_eq!(
            sizes, want_sizes,
            "limit {limit}: full pages, then the rest"
        );
        assert!(
            pages.last().unwrap().next_cursor.is_none(),
            "limit {limit}: no cursor after the last page"
        );
        let got: Vec<LatestPrice> = pages.iter().flat_map(|p| p.items.clone()).collect();
        assert_eq!(got, expected, "limit {limit}: every item once, in order");
        // The same cursor gives the same page.
        if let Some(c) = pages[0].next_cursor.clone() {
            let query = LatestQuery {
                limit,
                cursor: Some(c),
                ..Default::default()
            };
            let again = store.latest_prices(&query).await.unwrap();
            assert_eq!(again, pages[1], "limit {limit}: a cursor replays its page");
        }
    }
    // limit 0: the default page of 100.
    let first = store.latest_prices(&LatestQuery::default()).await.unwrap();
    assert_eq!(first.items, expected[..100].to_vec());
    assert!(first.next_cursor.is_some());

    // One source, a page of one item at a time and a page of 13.
    let gamma = SourceId::new("gamma").unwrap();
    let want: Vec<LatestPrice> = expected
        .iter()
        .filter(|l| l.source_id == gamma)
        .cloned()
        .collect();
    assert_eq!(want.len(), 61, "gamma-2's items are not gamma's");
    for limit in [1, 13] {
        let pages = all_latest_pages(
            store,
            LatestQuery {
                source: Some(gamma.clone()),
                limit,
                ..Default::default()
            },
        )
        .await;
        assert_eq!(pages.len(), 61usize.div_ceil(limit as usize));
        let got: Vec<LatestPrice> = pages.into_iter().flat_map(|p| p.items).collect();
        assert_eq!(got, want, "source gamma, limit {limit}");
    }

    // Pasted pages hidden: the others, in order, in pages of 9.
    let visible: Vec<LatestPrice> = expected
        .iter()
        .filter(|l| !l.source_id.as_str().starts_with("page-"))
        .cloned()
        .collect();
    let pages = all_latest_pages(
        store,
        LatestQuery {
            limit: 9,
            hide_user_pages: true,
            ..Default::default()
        },
    )
    .await;
    assert!(pages[..pages.len() - 1].iter().all(|p| p.items.len() == 9));
    let got: Vec<LatestPrice> = pages.into_iter().flat_map(|p| p.items).collect();
    assert_eq!(got, visible, "user pages hidden, the rest in order");
}

/// Items of pages users pasted (`page-…` sources) can be left out by the
/// store, so that no page's cursor names one: sources just before and after
/// the `page-` range ("page", "page0", "pagex") stay visible, and paging
/// one item at a time walks straight past the hidden ones.
pub async fn latest_prices_can_hide_user_pages(store: &dyn Store) {
    let ids = [
        "page:a",
        "page-0123456789ab:lamp",
        "page-0123456789ab:lamp-2",
        "page-ffffffffffff:chair",
        "page0:b",
        "page_x:c",
        "pagex:d",
        "alpha:e",
    ];
    for (n, id) in ids.iter().enumerate() {
        store
            .record(&obs(id, id, at(n as i64), "1", 1))
            .await
            .unwrap();
    }
    let pages = all_latest_pages(
        store,
        LatestQuery {
            limit: 1,
            hide_user_pages: true,
            ..Default::default()
        },
    )
    .await;
    let got: Vec<String> = pages
        .iter()
        .flat_map(|p| p.items.iter().map(|l| l.item_id.to_string()))
        .collect();
    assert_eq!(got, ["alpha:e", "page:a", "page0:b", "page_x:c", "pagex:d"]);
    for page in &pages {
        if let Some(c) = &page.next_cursor {
            let raw = c.decode().unwrap();
            assert!(
                !raw.contains("page-"),
                "a cursor names a hidden item: {raw}"
            );
        }
    }
    // Without the flag, everything (the bot shows a user their own pages).
    let all = all_latest_pages(
        store,
        LatestQuery {
            limit: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(all.iter().map(|p| p.items.len()).sum::<usize>(), ids.len());
}

/// Source ids where one is a prefix of another ("ab", "ab-c", "ab1"): the
/// order is by source id first, which differs from plain item-id order
/// ("ab-c:a" < "ab:z" as strings). Both adapters must agree on it.
pub async fn latest_prices_order_by_source_then_item(store: &dyn Store) {
    let ids = ["ab:z", "ab-c:a", "ab1:m", "abc:b", "a:x", "ab:a"];
    for (n, id) in ids.iter().enumerate() {
        store
            .record(&obs(id, id, at(n as i64), "1", 1))
            .await
            .unwrap();
    }
    let want = ["a:x", "ab:a", "ab:z", "ab-c:a", "ab1:m", "abc:b"];
    let pages = all_latest_pages(
        store,
        LatestQuery {
            limit: 2,
            ..Default::default()
        },
    )
    .await;
    let got: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.items)
        .map(|l| l.item_id.to_string())
        .collect();
    assert_eq!(got, want, "latest prices are ordered by source, then item");
}

/// `history`: `from` inclusive, `to` exclusive, both orders, paginated.
pub async fn history_range_order_and_pages(store: &dyn Store) {
    let id = "hist:item";
    let mut all = Vec::new();
    for m in 0..10 {
        all.push(obs(id, "H", at(m), &format!("{m}"), m as u64 + 1));
    }
    // A tie at minute 4, ordered by id.
    all.push(obs(id, "H", at(4), "4.5", 100));
    // Another item's history must not leak in.
    store
        .record(&obs("hist:other", "O", at(3), "1", 1))
        .await
        .unwrap();
    for o in all.iter().rev() {
        store.record(o).await.unwrap();
    }
    all.sort_by(|a, b| (a.observed_at, &a.id).cmp(&(b.observed_at, &b.id)));

    let everything = all_history(store, &item(id)).await;
    assert_eq!(everything, all);

    let in_range: Vec<Observation> = all
        .iter()
        .filter(|o| o.observed_at >= at(2) && o.observed_at < at(7))
        .cloned()
        .collect();
    assert_eq!(in_range.len(), 6, "minutes 2, 3, 4, 4, 5, 6");
    let range = |order, limit| HistoryQuery {
        from: Some(at(2)),
        to: Some(at(7)),
        limit,
        order,
        cursor: None,
    };

    let asc = store
        .history(&item(id), &range(Order::Ascending, 0))
        .await
        .unwrap();
    assert_eq!(asc.items, in_range);
    assert_eq!(asc.next_cursor, None);

    let desc = store
        .history(&item(id), &range(Order::Descending, 0))
        .await
        .unwrap();
    let mut reversed = in_range.clone();
    reversed.reverse();
    assert_eq!(desc.items, reversed);

    for (order, want) in [
        (Order::Ascending, &in_range),
        (Order::Descending, &reversed),
    ] {
        let pages = all_history_pages(store, &item(id), range(order, 2)).await;
        let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
        assert_eq!(sizes, vec![2, 2, 2], "{order:?}: 6 rows in pages of 2");
        let got: Vec<Observation> = pages.into_iter().flat_map(|p| p.items).collect();
        assert_eq!(&got, want, "{order:?}: pages concatenate in order");

        let pages = all_history_pages(store, &item(id), range(order, 4)).await;
        let sizes: Vec<usize> = pages.iter().map(|p| p.items.len()).collect();
        assert_eq!(sizes, vec![4, 2], "{order:?}");
    }

    // One-sided ranges.
    let from_only = store
        .history(
            &item(id),
            &HistoryQuery {
                from: Some(at(8)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        from_only.items,
        all[all.len() - 2..].to_vec(),
        "minutes 8 and 9"
    );
    let to_only = store
        .history(
            &item(id),
            &HistoryQuery {
                to: Some(at(1)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(to_only.items, all[..1].to_vec(), "minute 0 only");

    // Empty and reversed ranges are empty, not errors.
    for (from, to) in [(at(3), at(3)), (at(7), at(2))] {
        let page = store
            .history(
                &item(id),
                &HistoryQuery {
                    from: Some(from),
                    to: Some(to),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        assert!(page.items.is_empty() && page.next_cursor.is_none());
    }
}

/// A cursor the store did not hand out is `BadCursor`, not a backend error.
pub async fn bad_cursor_is_rejected(store: &dyn Store) {
    store
        .record(&obs("cur:item", "C", at(0), "1", 1))
        .await
        .unwrap();
    let garbage = Cursor::from_param("%%% not base64 %%%");
    let err = store
        .latest_prices(&LatestQuery {
            limit: 1,
            cursor: Some(garbage.clone()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor), "got {err:?}");

    let err = store
        .history(
            &item("cur:item"),
            &HistoryQuery {
                cursor: Some(garbage),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor), "got {err:?}");

    // Valid base64, but not a key this store made.
    let err = store
        .history(
            &item("cur:item"),
            &HistoryQuery {
                cursor: Some(Cursor::encode("not a history position")),
                ..Default::default()
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::BadCursor), "got {err:?}");
}

/// Checkpoints: absent, then forward only.
pub async fn checkpoint_moves_forward_only(store: &dyn Store) {
    let src = SourceId::new("tg-gold").unwrap();
    assert_eq!(store.checkpoint(&src).await.unwrap(), None);

    let cp = |id: u64, m: i64| Checkpoint {
        source_id: src.clone(),
        last_post_id: id,
        updated_at: at(m),
    };
    store.advance_checkpoint(&cp(10, 1)).await.unwrap();
    assert_eq!(store.checkpoint(&src).await.unwrap(), Some(cp(10, 1)));

    // Older and equal checkpoints are ignored, without an error.
    store.advance_checkpoint(&cp(5, 2)).await.unwrap();
    store.advance_checkpoint(&cp(10, 3)).await.unwrap();
    assert_eq!(store.checkpoint(&src).await.unwrap(), Some(cp(10, 1)));

    store
        .advance_checkpoint(&cp(2_000_000_000_000, 4))
        .await
        .unwrap();
    assert_eq!(
        store.checkpoint(&src).await.unwrap(),
        Some(cp(2_000_000_000_000, 4))
    );

    let other = SourceId::new("tg-other").unwrap();
    assert_eq!(store.checkpoint(&other).await.unwrap(), None);
}

/// Amounts come back exactly as recorded: no float, no lost digits, no
/// exponent notation.
pub async fn decimal_amounts_round_trip(store: &dyn Store) {
    let amounts = [
        ("12500", "12500"),
        ("0.1", "0.1"),
        ("1234.56", "1234.56"),
        ("12345678901234567890", "12345678901234567890"),
        ("98765432109876543.21", "98765432109876543.21"),
        ("12.500", "12.5"),
        ("0.00000001", "0.00000001"),
    ];
    for (n, (amount, shown)) in amounts.iter().enumerate() {
        let id = format!("dec:amount-{n}");
        let o = obs(&id, "D", at(0), amount, 1);
        store.record(&o).await.unwrap();
        let got = store.latest_price(&item(&id)).await.unwrap().unwrap();
        assert_eq!(got.price, o.price, "{amount}");
        assert_eq!(got.price.unwrap().amount.to_string(), *shown, "{amount}");
        let history = all_history(store, &item(&id)).await;
        let stored = history[0].price.as_ref().expect("a priced observation");
        assert_eq!(stored.amount.to_string(), *shown, "{amount}");
    }
    let dzd = Observation {
        price: Some(money("1234.5", "DZD")),
        ..obs("dec:dzd", "D", at(0), "1", 1)
    };
    store.record(&dzd).await.unwrap();
    let got = store.latest_price(&item("dec:dzd")).await.unwrap().unwrap();
    assert_eq!(got.price.unwrap().currency.code(), "DZD");
}

/// Names in any script come back unchanged.
pub async fn unicode_names_round_trip(store: &dyn Store) {
    let names = [
        ("uni:arabic", "ذهب عيار 21 — سعر الغرام"),
        ("uni:cyrillic", "Золото 585 проба, грамм"),
        ("uni:mixed", "Café ☕ «spécial» 500 g 🇩🇿"),
    ];
    for (id, name) in names {
        store.record(&obs(id, name, at(0), "1", 1)).await.unwrap();
    }
    for (id, name) in names {
        let got = store.latest_price(&item(id)).await.unwrap().unwrap();
        assert_eq!(got.name, name);
        assert_eq!(all_history(store, &item(id)).await[0].item_name, name);
    }
    let page = store.latest_prices(&LatestQuery::default()).await.unwrap();
    let got: HashSet<&str> = page.items.iter().map(|l| l.name.as_str()).collect();
    let want: HashSet<&str> = names.iter().map(|(_, n)| *n).collect();
    assert_eq!(got, want);
}

/// Page provenance (URL and fetch time) and series survive a round trip.
pub async fn provenance_and_series_round_trip(store: &dyn Store) {
    let fetched = at(0) + Duration::milliseconds(123);
    let source = SourceId::new("shop").unwrap();
    let o = Observation::new(
        source.clone(),
        ItemId::for_source(&source, "RTX 4070 Super").unwrap(),
        "RTX 4070 Super",
        Some(SeriesId::new("rtx-4070").unwrap()),
        money("649.99", "EUR"),
        fetched,
        Provenance::Page {
            url: "https://shop.example/p/rtx-4070?ref=a&b=ü".into(),
            fetched_at: fetched,
        },
    );
    store.record(&o).await.unwrap();
    assert_eq!(
        store.latest_price(&o.item_id).await.unwrap(),
        Some(latest(&o))
    );
    assert_eq!(all_history(store, &o.item_id).await, vec![o]);
}

/// An out-of-stock page shows no price: the observation is stored without
/// one (never a zero, never the old price), becomes latest like any newer
/// observation, and a later priced observation brings the price back.
pub async fn unpriced_out_of_stock_becomes_latest(store: &dyn Store) {
    let id = "stock:gpu";
    let in_stock = obs(id, "GPU", at(0), "499.90", 1).with_availability(Availability::InStock);
    let gone = obs(id, "GPU", at(5), "0", 2)
        .without_price()
        .with_availability(Availability::OutOfStock);
    let back = obs(id, "GPU", at(9), "479", 3).with_availability(Availability::InStock);

    store.record(&in_stock).await.unwrap();
    let r = store.record(&gone).await.unwrap();
    assert!(
        r.inserted && r.became_latest,
        "an unpriced observation is newer"
    );
    assert_eq!(r.previous, Some(latest(&in_stock)));
    let now = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(now.price, None, "no price shown, none stored");
    assert_eq!(now.availability, Availability::OutOfStock);
    assert_eq!(now, latest(&gone));
    let page = store.latest_prices(&LatestQuery::default()).await.unwrap();
    assert_eq!(page.items, vec![latest(&gone)]);

    // An older priced observation arriving late does not hide the stock-out.
    let late = obs(id, "GPU", at(3), "489", 4).with_availability(Availability::InStock);
    let r = store.record(&late).await.unwrap();
    assert!(!r.became_latest);
    assert_eq!(r.previous, Some(latest(&gone)));

    let r = store.record(&back).await.unwrap();
    assert!(r.became_latest);
    assert_eq!(r.previous, Some(latest(&gone)), "previous had no price");
    assert_eq!(
        store.latest_price(&item(id)).await.unwrap(),
        Some(latest(&back))
    );
    assert_eq!(
        all_history(store, &item(id)).await,
        vec![in_stock, late, gone, back]
    );

    // An item first seen without a price.
    let first = obs("stock:new", "New", at(1), "0", 1).without_price();
    let r = store.record(&first).await.unwrap();
    assert_eq!(
        (r.inserted, r.became_latest, r.previous),
        (true, true, None)
    );
    let now = store.latest_price(&first.item_id).await.unwrap().unwrap();
    assert_eq!((now.price, now.availability), (None, Availability::Unknown));
}

/// Item details (own page, image, brand) round-trip on history and latest;
/// a newer observation without them clears them from latest.
pub async fn details_round_trip(store: &dyn Store) {
    let id = "det:item";
    let full = ItemDetails {
        url: Some("https://shop.example/p/42?ref=a&b=ü".into()),
        image: Some("https://cdn.example/img/42.jpg".into()),
        brand: Some("Äcme «Brand»".into()),
    };
    let url_only = ItemDetails {
        url: Some("https://shop.example/p/42".into()),
        ..Default::default()
    };
    let a = obs(id, "Item", at(0), "10", 1).with_details(full.clone());
    let b = obs(id, "Item", at(1), "11", 2).with_details(url_only.clone());
    let c = obs(id, "Item", at(2), "12", 3);

    store.record(&a).await.unwrap();
    let now = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(now.details, full);
    assert_eq!(now, latest(&a));

    store.record(&b).await.unwrap();
    let now = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(now.details, url_only, "image and brand do not linger");

    let r = store.record(&c).await.unwrap();
    assert_eq!(r.previous, Some(latest_changed(&b, &a)));
    let now = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert!(now.details.is_empty(), "got {:?}", now.details);
    assert_eq!(now, latest_changed(&c, &b));

    assert_eq!(all_history(store, &item(id)).await, vec![a, b, c]);
}

fn in_series(o: Observation, series: &str) -> Observation {
    Observation {
        series: Some(SeriesId::new(series).unwrap()),
        ..o
    }
}

/// `series_observations`: the series' observations in `[from, to)`, newest
/// first, across items and sources; nothing of other series, nothing
/// without a series.
pub async fn series_observations_filter_by_series_and_window(store: &dyn Store) {
    let gold = SeriesId::new("gold-18k").unwrap();
    let mut recorded = Vec::new();
    for m in 0..10 {
        // Two sources take turns; each minute is unique, so the order is total.
        let id = if m % 2 == 0 {
            "jeweler-a:gold"
        } else {
            "jeweler-b:gold"
        };
        recorded.push(in_series(
            obs(id, "Gold 18k", at(m), &format!("9{m}.5"), m as u64 + 1),
            "gold-18k",
        ));
    }
    // An unpriced observation of the series is part of it too.
    recorded.push(
        in_series(
            obs(
                "jeweler-c:gold",
                "Gold",
                at(4) + Duration::seconds(30),
                "0",
                1,
            ),
            "gold-18k",
        )
        .without_price()
        .with_availability(Availability::OutOfStock),
    );
    // Another series, and observations without one, at the same times.
    let others = [
        in_series(
            obs("jeweler-a:gold-21k", "Gold 21k", at(3), "120", 50),
            "gold-21k",
        ),
        obs("jeweler-a:silver", "Silver", at(4), "1", 51),
        // The same item as a series observation, but this one has no series.
        obs(
            "jeweler-a:gold",
            "Gold 18k",
            at(5) + Duration::seconds(1),
            "95",
            52,
        ),
    ];
    for o in recorded.iter().chain(others.iter()) {
        store.record(o).await.unwrap();
    }

    let mut want: Vec<Observation> = recorded
        .iter()
        .filter(|o| o.observed_at >= at(2) && o.observed_at < at(7))
        .cloned()
        .collect();
    want.sort_by_key(|o| std::cmp::Reverse(o.observed_at));
    assert_eq!(want.len(), 6, "minutes 2, 3, 4, 4:30, 5, 6");
    let got = store
        .series_observations(&gold, at(2), at(7))
        .await
        .unwrap();
    assert_eq!(got, want, "from inclusive, to exclusive, newest first");

    let all = store
        .series_observations(&gold, at(-60), at(60))
        .await
        .unwrap();
    assert_eq!(all.len(), recorded.len());
    assert!(
        all.windows(2).all(|w| w[0].observed_at > w[1].observed_at),
        "newest first"
    );
    assert!(all.iter().all(|o| o.series.as_ref() == Some(&gold)));

    let k21 = store
        .series_observations(&SeriesId::new("gold-21k").unwrap(), at(0), at(10))
        .await
        .unwrap();
    assert_eq!(k21, vec![others[0].clone()]);

    let none = store
        .series_observations(&SeriesId::new("no-such-series").unwrap(), at(0), at(10))
        .await
        .unwrap();
    assert!(none.is_empty());
    // Empty and reversed windows are empty, not errors.
    for (from, to) in [(at(3), at(3)), (at(7), at(2))] {
        assert!(
            store
                .series_observations(&gold, from, to)
                .await
                .unwrap()
                .is_empty()
        );
    }
}

/// `list_series`: every series with an item, by id, counting each item once
/// however often it was observed or redelivered.
pub async fn list_series_counts_items_per_series(store: &dyn Store) {
    assert_eq!(store.list_series().await.unwrap(), vec![]);
    let plan = [
        ("jeweler-a:gold", "gold-18k"),
        ("jeweler-b:gold", "gold-18k"),
        ("jeweler-c:gold-18", "gold-18k"),
        ("market:rtx-1", "rtx-4070"),
        ("shop:rtx", "rtx-4070"),
        ("jeweler-a:gold-21", "gold-21k"),
    ];
    for (n, (id, series)) in plan.iter().enumerate() {
        // Three observations per item, one of them delivered twice, in an
        // order where the second to arrive is older.
        for (m, post) in [(5, 2), (1, 1), (9, 3), (9, 3)] {
            let o = in_series(obs(id, "X", at(n as i64 * 10 + m), "1", post), series);
            store.record(&o).await.unwrap();
        }
    }
    // Items without a series are in no series.
    store
        .record(&obs("jeweler-a:silver", "Silver", at(0), "1", 1))
        .await
        .unwrap();

    let summary = |s: &str, items| SeriesSummary {
        series: SeriesId::new(s).unwrap(),
        items,
    };
    assert_eq!(
        store.list_series().await.unwrap(),
        vec![
            summary("gold-18k", 3),
            summary("gold-21k", 1),
            summary("rtx-4070", 2)
        ],
        "ordered by series id, items counted once"
    );
}

/// Source health over ok → err → err → ok: failures count up and reset,
/// runs always count, the last error stays visible after a success.
pub async fn source_health_tracks_runs(store: &dyn Store) {
    let src = SourceId::new("shop-health").unwrap();
    let run = |m: i64, outcome: Result<u32, String>| SourceRun {
        source_id: src.clone(),
        at: at(m) + Duration::milliseconds(m * 7),
        outcome,
    };
    let health = |ok: Option<i64>, err: Option<(i64, &str)>, fails, seen, runs| SourceHealth {
        source_id: src.clone(),
        last_success_at: ok.map(|m| at(m) + Duration::milliseconds(m * 7)),
        last_error_at: err.map(|(m, _)| at(m) + Duration::milliseconds(m * 7)),
        last_error: err.map(|(_, e)| e.to_string()),
        consecutive_failures: fails,
        items_seen: seen,
        runs,
    };

    store.record_source_run(&run(1, Ok(12))).await.unwrap();
    assert_eq!(
        store.source_health(&src).await.unwrap(),
        Some(health(Some(1), None, 0, 12, 1))
    );
    store
        .record_source_run(&run(2, Err("HTTP 503 from shop.example".into())))
        .await
        .unwrap();
    assert_eq!(
        store.source_health(&src).await.unwrap(),
        Some(health(
            Some(1),
            Some((2, "HTTP 503 from shop.example")),
            1,
            12,
            2
        ))
    );
    let message = "selector `.price` matched nothing — «ü»";
    store
        .record_source_run(&run(3, Err(message.into())))
        .await
        .unwrap();
    assert_eq!(
        store.source_health(&src).await.unwrap(),
        Some(health(Some(1), Some((3, message)), 2, 12, 3))
    );
    store.record_source_run(&run(4, Ok(0))).await.unwrap();
    assert_eq!(
        store.source_health(&src).await.unwrap(),
        Some(health(Some(4), Some((3, message)), 0, 0, 4)),
        "a success resets the failures and keeps the last error"
    );

    // A source that has only failed.
    let broken = SourceId::new("broken").unwrap();
    store
        .record_source_run(&SourceRun {
            source_id: broken.clone(),
            at: at(5),
            outcome: Err("timeout".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        store.source_health(&broken).await.unwrap(),
        Some(SourceHealth {
            source_id: broken,
            last_success_at: None,
            last_error_at: Some(at(5)),
            last_error: Some("timeout".into()),
            consecutive_failures: 1,
            items_seen: 0,
            runs: 1,
        })
    );
}

/// A source that never ran has no health record.
pub async fn unknown_source_has_no_health(store: &dyn Store) {
    let src = SourceId::new("never-ran").unwrap();
    assert_eq!(store.source_health(&src).await.unwrap(), None);
    // Another source's runs do not make it known.
    store
        .record_source_run(&SourceRun {
            source_id: SourceId::new("never-ran-2").unwrap(),
            at: at(0),
            outcome: Ok(1),
        })
        .await
        .unwrap();
    assert_eq!(store.source_health(&src).await.unwrap(), None);
}

/// Unknown items and sources read as empty, not as errors.
pub async fn unknown_item_has_nothing(store: &dyn Store) {
    let unknown = item("nobody:nothing");
    assert_eq!(store.latest_price(&unknown).await.unwrap(), None);
    let page = store
        .history(&unknown, &HistoryQuery::default())
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
    let page = store.latest_prices(&LatestQuery::default()).await.unwrap();
    assert!(page.items.is_empty() && page.next_cursor.is_none());
}

pub async fn ping_answers(store: &dyn Store) {
    store.ping().await.unwrap();
    assert!(["sqlite", "dynamodb"].contains(&store.backend()));
}

/// An item's last price change rides on its latest price: set when the
/// amount moves, kept while the same price is seen again or the item is out
/// of stock, untouched by an older observation arriving late, replaced by
/// the next move, and listed by `latest_prices` as by `latest_price`.
pub async fn last_change_is_kept_with_the_latest_price(store: &dyn Store) {
    let id = "src:cola";
    let change = |store_latest: &LatestPrice| {
        store_latest.change.as_ref().map(|c| {
            (
                c.from.amount.to_string(),
                c.at,
                store_latest.change_percent().map(|p| p.to_string()),
            )
        })
    };
    store
        .record(&obs(id, "Cola", at(0), "100", 1))
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(change(&l), None, "a first price is no change");

    store
        .record(&obs(id, "Cola", at(10), "90", 2))
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    let dropped = Some(("100".to_string(), at(10), Some("-10".to_string())));
    assert_eq!(change(&l), dropped);

    // The same price again, an out-of-stock page, and an older observation
    // redelivered late: the drop from 100 stays.
    store
        .record(&obs(id, "Cola", at(20), "90", 3))
        .await
        .unwrap();
    store
        .record(&obs(id, "Cola", at(5), "120", 9))
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(change(&l), dropped);
    store
        .record(
            &obs(id, "Cola", at(30), "90", 4)
                .without_price()
                .with_availability(Availability::OutOfStock),
        )
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(l.change.as_ref().map(|c| c.at), Some(at(10)));
    assert_eq!(l.change_percent(), None, "no price, no percent");

    // Back at 90 (no move from the last price seen, which was none), then up.
    store
        .record(&obs(id, "Cola", at(40), "90", 5))
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(change(&l), dropped);
    store
        .record(&obs(id, "Cola", at(50), "99", 6))
        .await
        .unwrap();
    let l = store.latest_price(&item(id)).await.unwrap().unwrap();
    assert_eq!(
        change(&l),
        Some(("90".to_string(), at(50), Some("10".to_string())))
    );
    // Redelivering the observation that moved it changes nothing.
    store
        .record(&obs(id, "Cola", at(50), "99", 6))
        .await
        .unwrap();
    let listed = store
        .latest_prices(&LatestQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(listed.items, vec![l]);
}
