//! Alert matching at scale: 10,000 price changes planned against 100,000
//! alerts in the SQLite store (`Notifier::plan`: one indexed lookup per
//! item, rules in memory). Custom harness: one plan is seconds of work, so
//! we time a few runs and print alerts matched per second.
//!
//!     cargo bench -p pricehound --bench alerts

use chrono::Utc;
use pricehound::alerts::notifier::Notifier;
use pricehound::alerts::rules::AlertPolicy;
use pricehound::bus::PriceChanged;
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, UserId, UserProfile,
};
use pricehound::domain::{Availability, Currency, ItemId, Money, ObservationId, SourceId};
use pricehound::store::{AlertStore, UserProfiles};
use pricehound_sqlite::SqliteStore;
use rust_decimal::Decimal;
use std::sync::Arc;
use std::time::Instant;

const ITEMS: usize = 50_000;
const ALERTS: usize = 100_000;
const CHANGES: usize = 10_000;
const USERS: i64 = 5_000;

fn eur(n: i64) -> Money {
    Money::new(Decimal::from(n), Currency::new("EUR").unwrap())
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Arc::new(SqliteStore::in_memory().unwrap());
        let setup = Instant::now();
        for u in 0..USERS {
            store
                .touch_user(&Contact {
                    profile: UserProfile { id: UserId(u), first_name: format!("u{u}"), last_name: None, username: None, language_code: Some("en".into()) },
                    at: Utc::now(),
                    referrer: None,
                })
                .await
                .unwrap();
        }
        let item = |i: usize| ItemId::new(format!("bench:item-{i}")).unwrap();
        for a in 0..ALERTS {
            // Two alerts per item; none fires at 50 EUR (thresholds below 10),
            // so this measures matching and rule evaluation, not sending.
            let rule = if a % 2 == 0 { AlertRule::Below { price: eur(10) } } else { AlertRule::Above { price: eur(1_000) } };
            store
                .put_alert(&Alert {
                    id: AlertId::random(),
                    user: UserId((a as i64) % USERS),
                    target: AlertTarget::Item(item(a % ITEMS)),
                    rule,
                    created_at: Utc::now(),
                    active: true,
                    armed: true,
                    reference_price: None,
                    last_fired_at: None,
                })
                .await
                .unwrap();
        }
        eprintln!("setup: {} users, {ALERTS} alerts on {ITEMS} items in {:.1?}", USERS, setup.elapsed());
        let changes: Vec<PriceChanged> = (0..CHANGES)
            .map(|i| PriceChanged {
                item_id: item(i * (ITEMS / CHANGES)),
                source_id: SourceId::new("bench").unwrap(),
                item_name: format!("Item {i}"),
                series: None,
                new_item: false,
                old_price: Some(eur(60)),
                new_price: Some(eur(50)),
                old_availability: Some(Availability::InStock),
                availability: Availability::InStock,
                percent_change: Some(Decimal::from(-16)),
                observation_id: ObservationId::new(format!("{:032x}", i + 1)).unwrap(),
                observed_at: Utc::now(),
                link: String::new(),
            })
            .collect();
        let notifier = Notifier::new(store.clone(), AlertPolicy::default());
        let mut rates = Vec::new();
        for run in 0..5 {
            let t = Instant::now();
            let plan = notifier.plan(&changes, Utc::now()).await.unwrap();
            let secs = t.elapsed().as_secs_f64();
            assert_eq!(plan.matched, 2 * CHANGES);
            assert!(plan.notifications.is_empty());
            let rate = plan.matched as f64 / secs;
            eprintln!("run {run}: {CHANGES} changes, {} alerts matched in {:.0} ms: {:.0} alerts/s, {:.0} changes/s", plan.matched, secs * 1000.0, rate, CHANGES as f64 / secs);
            rates.push(rate);
        }
        rates.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!(
            "alerts matched per second (median of 5): {:.0}  [{CHANGES} changes x {ALERTS} alerts, SQLite in memory, {} cores]",
            rates[2],
            std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
        );
    });
}
