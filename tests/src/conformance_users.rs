//! The [`UserStore`] conformance suite: what every adapter must do for the
//! bot (users, watches, alerts, update dedupe, throttle, alert quota,
//! track job claims and quota, payloads, tracked pages, usage), so
//! that `serve` on SQLite and the Lambda functions on DynamoDB behave the
//! same. Each case is a plain async function over `&dyn UserStore`;
//! [`user_store_suite!`](crate::user_store_suite) turns them into one
//! `#[tokio::test]` per case for a given adapter.
//!
//! Each case expects a fresh, empty store. Times are whole seconds (both
//! adapters keep milliseconds), and the `now` passed to a store only moves
//! forward within a case, like a clock: adapters may clean up what expired
//! by then.

use std::str::FromStr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use pricehound::domain::user::{
    Alert, AlertId, AlertRule, AlertTarget, Contact, Lang, TrackedPage, UsageEvent, UsageKind,
    UsageStats, User, UserId, UserProfile, Watch,
};
use pricehound::domain::{Currency, ItemId, Money, SeriesId, SourceId};
use pricehound::store::{Tracking, Untracking, UserStore};
use rust_decimal::Decimal;

/// Expands to one `#[tokio::test]` per user store case. `$make` is an
/// expression evaluated afresh in every test that yields a future of the
/// store, e.g. `async { SqliteStore::in_memory().unwrap() }`.
#[macro_export]
macro_rules! user_store_suite {
    ($make:expr) => {
        $crate::user_store_suite!(@cases $make;
            claim_update_once_per_update_until_expiry,
            claim_update_races_have_one_winner,
            touch_user_creates_then_updates,
            touch_user_keeps_no_referrer_from_later_contacts,
            touch_user_never_moves_last_seen_back,
            unknown_user_is_none,
            set_language_sets_and_clears,
            set_language_of_unknown_user_creates_nothing,
            throttle_counts_per_user_and_window,
            throttle_hits_race_without_losing_counts,
            alert_quota_counts_per_user_and_day,
            alert_quota_is_apart_from_throttle,
            alert_quota_hits_race_without_losing_counts,
            alert_quota_release_gives_back_one_place_never_below_zero,
            track_job_claim_is_one_per_user_until_released_or_lapsed,
            track_job_claims_race_with_one_winner,
            track_quota_counts_per_user_and_day_apart_from_the_others,
            track_quota_hits_race_without_losing_counts,
            watches_add_list_remove_clear,
            watches_are_per_user,
            watches_can_be_marked_purchased,
            alerts_put_replace_list_delete,
            update_alert_only_over_the_state_it_read,
            alert_amounts_round_trip_exactly,
            active_alerts_for_items_and_series,
            mark_blocked_deactivates_alerts,
            mark_blocked_unknown_user_is_zero,
            payloads_expire_and_replace,
            payload_claims_win_only_over_nothing_or_lapsed,
            payload_claims_race_with_one_winner,
            tracked_pages_of_empty_store,
            tracked_page_add_new,
            tracked_page_add_same_source_again_keeps_first,
            tracked_pages_listed_by_source_id,
            tracked_page_unicode_names_round_trip,
            tracked_pages_counted_per_user_and_in_all_once,
            tracked_page_trackers_listed_per_user,
            untrack_keeps_a_page_others_track_and_expires_the_last,
            untrack_of_a_page_not_tracked_changes_nothing,
            tracked_page_retracked_after_expiry,
            tracked_page_concurrent_tracks_count_once,
            many_tracked_pages_listed_in_order_and_counted_once,
            usage_stats_of_empty_store,
            usage_stats_windows_and_counts,
            usage_stats_count_many_users_and_events_once,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $case() {
                let store = $make.await;
                $crate::conformance_users::$case(&store).await;
            }
        )*
    };
}

/// 2024-06-15T12:00:00Z (a Saturday) plus `minutes`.
pub fn t(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 12, 0, 0).unwrap() + Duration::minutes(minutes)
}

fn profile(id: i64, first_name: &str) -> UserProfile {
    UserProfile {
        id: UserId(id),
        first_name: first_name.to_string(),
        last_name: None,
        username: None,
        language_code: None,
    }
}

fn contact(profile: UserProfile, at: DateTime<Utc>, referrer: Option<&str>) -> Contact {
    Contact {
        profile,
        at,
        referrer: referrer.map(str::to_string),
    }
}

fn item(id: &str) -> ItemId {
    ItemId::new(id).unwrap()
}

fn series(id: &str) -> SeriesId {
    SeriesId::new(id).unwrap()
}

fn alert_id(id: &str) -> AlertId {
    AlertId::try_from(id.to_string()).unwrap()
}

/// Money exactly as written: `Money::new` would normalise "0.10" to "0.1".
fn exact_money(amount: &str, currency: &str) -> Money {
    Money {
        amount: Decimal::from_str(amount).unwrap(),
        currency: Currency::new(currency).unwrap(),
    }
}

fn alert(user: i64, id: &str, target: AlertTarget, created: i64, active: bool) -> Alert {
    Alert {
        id: alert_id(id),
        user: UserId(user),
        target,
        rule: AlertRule::Below {
            price: exact_money("100", "EUR"),
        },
        created_at: t(created),
        active,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

fn watch(user: i64, item_id: &str, created: i64) -> Watch {
    Watch {
        user: UserId(user),
        item: item(item_id),
        created_at: t(created),
        purchased_at: None,
    }
}

fn tracked_page(source: &str, url: &str, name: &str, user: i64, added: i64) -> TrackedPage {
    TrackedPage {
        source_id: SourceId::new(source).unwrap(),
        url: url.to_string(),
        name: name.to_string(),
        added_by: UserId(user),
        added_at: t(added),
    }
}

fn ids(alerts: &[Alert]) -> Vec<(i64, String)> {
    alerts
        .iter()
        .map(|a| (a.user.0, a.id.to_string()))
        .collect()
}

fn command(user: i64, at: DateTime<Utc>, name: &str) -> UsageEvent {
    UsageEvent {
        user: UserId(user),
        at,
        kind: UsageKind::Command(name.to_string()),
    }
}

pub async fn claim_update_once_per_update_until_expiry(store: &dyn UserStore) {
    let h = |hours: i64| t(0) + Duration::hours(hours);
    assert!(store.claim_update(1, h(0)).await.unwrap(), "first delivery");
    assert!(
        !store.claim_update(1, h(0)).await.unwrap(),
        "immediate retry"
    );
    assert!(
        !store.claim_update(1, h(1)).await.unwrap(),
        "retry 1 h later"
    );
    assert!(
        store.claim_update(2, h(1)).await.unwrap(),
        "another update is its own"
    );
    assert!(
        !store.claim_update(1, h(24)).await.unwrap(),
        "remembered up to 24 h, inclusive"
    );
    assert!(
        !store.claim_update(2, h(24)).await.unwrap(),
        "update 2 is still remembered"
    );
    assert!(
        store.claim_update(1, h(25)).await.unwrap(),
        "an expired claim does not block"
    );
    assert!(
        !store
            .claim_update(1, h(25) + Duration::minutes(1))
            .await
            .unwrap(),
        "the new claim holds again"
    );
    assert!(
        store.claim_update(2, h(26)).await.unwrap(),
        "update 2 expired"
    );
    assert!(store.claim_update(-5, h(0)).await.unwrap(), "any i64 id");
}

pub async fn claim_update_races_have_one_winner(store: &dyn UserStore) {
    let now = t(0);
    let (a, b, c, d) = tokio::join!(
        store.claim_update(77, now),
        store.claim_update(77, now),
        store.claim_update(77, now),
        store.claim_update(77, now),
    );
    let won = [a, b, c, d]
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1, "exactly one delivery claims the update");
}

pub async fn touch_user_creates_then_updates(store: &dyn UserStore) {
    let first = UserProfile {
        id: UserId(42),
        first_name: "Ada".into(),
        last_name: Some("Lovelace".into()),
        username: Some("ada".into()),
        language_code: Some("en-GB".into()),
    };
    let (user, is_new) = store
        .touch_user(&contact(first.clone(), t(0), Some("ref-news")))
        .await
        .unwrap();
    assert!(is_new);
    let expected = User {
        profile: first.clone(),
        chosen_lang: None,
        referrer: Some("ref-news".into()),
        first_seen: t(0),
        last_seen: t(0),
        blocked: false,
    };
    assert_eq!(user, expected);
    assert_eq!(store.user(UserId(42)).await.unwrap(), Some(expected));

    // A later contact: new names and language, another referrer (ignored),
    // a field Telegram no longer sends is dropped.
    let later = UserProfile {
        id: UserId(42),
        first_name: "Augusta Ada".into(),
        last_name: None,
        username: Some("countess".into()),
        language_code: Some("fr".into()),
    };
    let (user, is_new) = store
        .touch_user(&contact(later.clone(), t(60), Some("ref-other")))
        .await
        .unwrap();
    assert!(!is_new);
    let expected = User {
        profile: later,
        chosen_lang: None,
        referrer: Some("ref-news".into()),
        first_seen: t(0),
        last_seen: t(60),
        blocked: false,
    };
    assert_eq!(user, expected);
    assert_eq!(user.lang(), Lang::Fr);
    assert_eq!(store.user(UserId(42)).await.unwrap(), Some(expected));

    // Blocked, then back: the next contact clears it.
    store.mark_blocked(UserId(42)).await.unwrap();
    assert!(store.user(UserId(42)).await.unwrap().unwrap().blocked);
    let (user, is_new) = store
        .touch_user(&contact(profile(42, "Ada"), t(120), None))
        .await
        .unwrap();
    assert!(!is_new);
    assert!(!user.blocked);
    assert_eq!(user.referrer.as_deref(), Some("ref-news"));
    assert_eq!(user.profile, profile(42, "Ada"));
    assert!(!store.user(UserId(42)).await.unwrap().unwrap().blocked);

    // Another user is another record.
    let (other, is_new) = store
        .touch_user(&contact(profile(43, "Bob"), t(5), None))
        .await
        .unwrap();
    assert!(is_new);
    assert_eq!(other.referrer, None);
    assert_eq!(
        store
            .user(UserId(42))
            .await
            .unwrap()
            .unwrap()
            .profile
            .first_name,
        "Ada"
    );
}

pub async fn touch_user_keeps_no_referrer_from_later_contacts(store: &dyn UserStore) {
    let (_, is_new) = store
        .touch_user(&contact(profile(7, "Eve"), t(0), None))
        .await
        .unwrap();
    assert!(is_new);
    let (user, is_new) = store
        .touch_user(&contact(profile(7, "Eve"), t(1), Some("late-ref")))
        .await
        .unwrap();
    assert!(!is_new);
    assert_eq!(
        user.referrer, None,
        "only the first contact's referrer counts"
    );
    assert_eq!(store.user(UserId(7)).await.unwrap().unwrap().referrer, None);
}

pub async fn touch_user_never_moves_last_seen_back(store: &dyn UserStore) {
    store
        .touch_user(&contact(profile(9, "Old"), t(0), None))
        .await
        .unwrap();
    store
        .touch_user(&contact(profile(9, "New"), t(30), None))
        .await
        .unwrap();
    // A late retry of an older update.
    let (user, is_new) = store
        .touch_user(&contact(profile(9, "Retry"), t(10), None))
        .await
        .unwrap();
    assert!(!is_new);
    assert_eq!(user.last_seen, t(30), "last seen only moves forward");
    assert_eq!(user.first_seen, t(0));
    assert_eq!(user.profile.first_name, "Retry", "names still update");
    assert_eq!(
        store.user(UserId(9)).await.unwrap().unwrap().last_seen,
        t(30)
    );
    // The same time again is not news either.
    let (user, _) = store
        .touch_user(&contact(profile(9, "Same"), t(30), None))
        .await
        .unwrap();
    assert_eq!(user.last_seen, t(30));
    assert_eq!(user.profile.first_name, "Same");
}

pub async fn unknown_user_is_none(store: &dyn UserStore) {
    assert_eq!(store.user(UserId(12345)).await.unwrap(), None);
    store
        .touch_user(&contact(profile(1, "A"), t(0), None))
        .await
        .unwrap();
    assert_eq!(store.user(UserId(2)).await.unwrap(), None);
}

pub async fn set_language_sets_and_clears(store: &dyn UserStore) {
    let mut p = profile(5, "Lena");
    p.language_code = Some("de".into());
    store.touch_user(&contact(p, t(0), None)).await.unwrap();
    assert_eq!(
        store.user(UserId(5)).await.unwrap().unwrap().lang(),
        Lang::En,
        "a language the bot does not speak falls back to English"
    );
    store.set_language(UserId(5), Some(Lang::Ru)).await.unwrap();
    let user = store.user(UserId(5)).await.unwrap().unwrap();
    assert_eq!(user.chosen_lang, Some(Lang::Ru));
    assert_eq!(user.lang(), Lang::Ru);
    store.set_language(UserId(5), Some(Lang::Ar)).await.unwrap();
    assert_eq!(
        store.user(UserId(5)).await.unwrap().unwrap().chosen_lang,
        Some(Lang::Ar)
    );
    // A later contact keeps the choice.
    let (user, _) = store
        .touch_user(&contact(profile(5, "Lena"), t(5), None))
        .await
        .unwrap();
    assert_eq!(user.chosen_lang, Some(Lang::Ar));
    store.set_language(UserId(5), None).await.unwrap();
    let user = store.user(UserId(5)).await.unwrap().unwrap();
    assert_eq!(user.chosen_lang, None);
    assert_eq!(user.profile.first_name, "Lena", "nothing else changed");
}

pub async fn set_language_of_unknown_user_creates_nothing(store: &dyn UserStore) {
    store
        .set_language(UserId(99), Some(Lang::Fr))
        .await
        .unwrap();
    assert_eq!(store.user(UserId(99)).await.unwrap(), None);
    assert_eq!(store.usage_stats(t(0)).await.unwrap().users, 0);
}

pub async fn throttle_counts_per_user_and_window(store: &dyn UserStore) {
    let (a, b) = (UserId(1), UserId(2));
    let w = t(0);
    let next = t(1);
    assert_eq!(store.throttle_hit(a, w).await.unwrap(), 1);
    assert_eq!(store.throttle_hit(a, w).await.unwrap(), 2);
    assert_eq!(store.throttle_hit(a, w).await.unwrap(), 3);
    assert_eq!(
        store.throttle_hit(b, w).await.unwrap(),
        1,
        "another user counts apart"
    );
    assert_eq!(
        store.throttle_hit(a, next).await.unwrap(),
        1,
        "the next window starts again"
    );
    assert_eq!(store.throttle_hit(a, next).await.unwrap(), 2);
    assert_eq!(store.throttle_hit(b, w).await.unwrap(), 2);
    // Much later: a fresh window, whatever was cleaned up meanwhile.
    assert_eq!(
        store
            .throttle_hit(a, t(0) + Duration::days(3))
            .await
            .unwrap(),
        1
    );
}

pub async fn throttle_hits_race_without_losing_counts(store: &dyn UserStore) {
    let u = UserId(3);
    let w = t(0);
    let (a, b, c, d, e) = tokio::join!(
        store.throttle_hit(u, w),
        store.throttle_hit(u, w),
        store.throttle_hit(u, w),
        store.throttle_hit(u, w),
        store.throttle_hit(u, w),
    );
    let mut counts: Vec<u32> = [a, b, c, d, e].into_iter().map(|r| r.unwrap()).collect();
    counts.sort();
    assert_eq!(counts, vec![1, 2, 3, 4, 5]);
}

/// Midnight UTC of 2024-06-15 (the day of [`t`]) plus `days`.
fn day(days: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 15, 0, 0, 0).unwrap() + Duration::days(days)
}

pub async fn alert_quota_counts_per_user_and_day(store: &dyn UserStore) {
    let (a, b) = (UserId(1), UserId(2));
    assert_eq!(store.alert_quota_used(a, day(0)).await.unwrap(), 0);
    assert_eq!(store.alert_quota_hit(a, day(0)).await.unwrap(), 1);
    assert_eq!(store.alert_quota_hit(a, day(0)).await.unwrap(), 2);
    assert_eq!(store.alert_quota_hit(a, day(0)).await.unwrap(), 3);
    assert_eq!(
        store.alert_quota_hit(b, day(0)).await.unwrap(),
        1,
        "another user counts apart"
    );
    assert_eq!(
        store.alert_quota_hit(a, day(1)).await.unwrap(),
        1,
        "the next day starts again"
    );
    assert_eq!(store.alert_quota_hit(a, day(1)).await.unwrap(), 2);
    assert_eq!(store.alert_quota_hit(b, day(0)).await.unwrap(), 2);
    assert_eq!(store.alert_quota_hit(b, day(1)).await.unwrap(), 1);
    // Reading the count does not add to it.
    assert_eq!(store.alert_quota_used(a, day(0)).await.unwrap(), 3);
    assert_eq!(store.alert_quota_used(a, day(0)).await.unwrap(), 3);
    assert_eq!(store.alert_quota_used(b, day(1)).await.unwrap(), 1);
    assert_eq!(store.alert_quota_used(b, day(2)).await.unwrap(), 0);
    // Much later: a fresh day, whatever was cleaned up meanwhile.
    assert_eq!(store.alert_quota_hit(a, day(5)).await.unwrap(), 1);
}

pub async fn alert_quota_is_apart_from_throttle(store: &dyn UserStore) {
    let u = UserId(4);
    let at = day(0);
    assert_eq!(store.throttle_hit(u, at).await.unwrap(), 1);
    assert_eq!(store.throttle_hit(u, at).await.unwrap(), 2);
    assert_eq!(
        store.alert_quota_hit(u, at).await.unwrap(),
        1,
        "throttle hits at the same time do not count toward the quota"
    );
    assert_eq!(store.alert_quota_hit(u, at).await.unwrap(), 2);
    assert_eq!(
        store.throttle_hit(u, at).await.unwrap(),
        3,
        "quota hits do not count toward the throttle"
    );
}

pub async fn alert_quota_hits_race_without_losing_counts(store: &dyn UserStore) {
    let u = UserId(3);
    let d = day(0);
    let hits = tokio::join!(
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
        store.alert_quota_hit(u, d),
    );
    let mut counts: Vec<u32> = [
        hits.0, hits.1, hits.2, hits.3, hits.4, hits.5, hits.6, hits.7, hits.8, hits.9,
    ]
    .into_iter()
    .map(|r| r.unwrap())
    .collect();
    counts.sort();
    assert_eq!(
        counts,
        (1..=10).collect::<Vec<u32>>(),
        "each count exactly once"
    );
    assert_eq!(store.alert_quota_hit(u, d).await.unwrap(), 11);
}

pub async fn alert_quota_release_gives_back_one_place_never_below_zero(store: &dyn UserStore) {
    let (u, other) = (UserId(5), UserId(6));
    store.alert_quota_release(u, day(0)).await.unwrap();
    assert_eq!(
        store.alert_quota_used(u, day(0)).await.unwrap(),
        0,
        "a release on a day without a count leaves it at zero"
    );
    assert_eq!(store.alert_quota_hit(u, day(0)).await.unwrap(), 1);
    assert_eq!(store.alert_quota_hit(u, day(0)).await.unwrap(), 2);
    assert_eq!(store.alert_quota_hit(other, day(0)).await.unwrap(), 1);
    store.alert_quota_release(u, day(0)).await.unwrap();
    assert_eq!(store.alert_quota_used(u, day(0)).await.unwrap(), 1);
    assert_eq!(
        store.alert_quota_used(other, day(0)).await.unwrap(),
        1,
        "another user's count is untouched"
    );
    store.alert_quota_release(u, day(1)).await.unwrap();
    assert_eq!(
        store.alert_quota_used(u, day(0)).await.unwrap(),
        1,
        "another day's release does not touch this day"
    );
    store.alert_quota_release(u, day(0)).await.unwrap();
    store.alert_quota_release(u, day(0)).await.unwrap();
    assert_eq!(
        store.alert_quota_used(u, day(0)).await.unwrap(),
        0,
        "never below zero"
    );
    assert_eq!(
        store.alert_quota_hit(u, day(0)).await.unwrap(),
        1,
        "the place is there to take again"
    );
}

pub async fn watches_add_list_remove_clear(store: &dyn UserStore) {
    let a = UserId(1);
    assert_eq!(store.watches(a).await.unwrap(), vec![]);
    assert!(store.add_watch(&watch(1, "shop:gpu", 10)).await.unwrap());
    assert!(store.add_watch(&watch(1, "shop:cpu", 5)).await.unwrap());
    assert!(store.add_watch(&watch(1, "gold:18k", 20)).await.unwrap());
    assert!(
        !store.add_watch(&watch(1, "shop:gpu", 30)).await.unwrap(),
        "already watched"
    );
    assert_eq!(
        store.watches(a).await.unwrap(),
        vec![
            watch(1, "shop:cpu", 5),
            watch(1, "shop:gpu", 10),
            watch(1, "gold:18k", 20)
        ],
        "oldest first; a duplicate add keeps the first time"
    );

    assert!(store.remove_watch(a, &item("shop:gpu")).await.unwrap());
    assert!(
        !store.remove_watch(a, &item("shop:gpu")).await.unwrap(),
        "gone already"
    );
    assert!(!store.remove_watch(a, &item("never:watched")).await.unwrap());
    assert_eq!(
        store.watches(a).await.unwrap(),
        vec![watch(1, "shop:cpu", 5), watch(1, "gold:18k", 20)]
    );
    // Watching again after a remove is a new watch.
    assert!(store.add_watch(&watch(1, "shop:gpu", 40)).await.unwrap());
    assert_eq!(store.clear_watches(a).await.unwrap(), 3);
    assert_eq!(store.watches(a).await.unwrap(), vec![]);
    assert_eq!(store.clear_watches(a).await.unwrap(), 0);
}

pub async fn watches_are_per_user(store: &dyn UserStore) {
    assert!(store.add_watch(&watch(1, "shop:gpu", 1)).await.unwrap());
    assert!(
        store.add_watch(&watch(2, "shop:gpu", 2)).await.unwrap(),
        "another user may watch the same item"
    );
    assert!(store.add_watch(&watch(2, "shop:ram", 3)).await.unwrap());
    assert!(
        !store
            .remove_watch(UserId(1), &item("shop:ram"))
            .await
            .unwrap()
    );
    assert_eq!(store.clear_watches(UserId(1)).await.unwrap(), 1);
    assert_eq!(
        store.watches(UserId(2)).await.unwrap(),
        vec![watch(2, "shop:gpu", 2), watch(2, "shop:ram", 3)]
    );
    assert_eq!(store.watches(UserId(3)).await.unwrap(), vec![]);
}

/// `update_alert` stores the notifier's new state only over the state it
/// read: after a mute, an edit or a delete it changes nothing (and brings
/// nothing back), and with a matching state it stores `after` whole,
/// index keys included.
pub async fn update_alert_only_over_the_state_it_read(store: &dyn UserStore) {
    let gpu = AlertTarget::Item(item("shop:gpu"));
    let read = alert(1, "eeeeeeeeee", gpu.clone(), 10, true);
    store.put_alert(&read).await.unwrap();
    let mut fired = read.clone();
    fired.armed = false;
    fired.last_fired_at = Some(t(30));
    fired.reference_price = Some(Money::new(
        Decimal::new(1250, 2),
        Currency::new("EUR").unwrap(),
    ));
    assert!(store.update_alert(&read, &fired).await.unwrap());
    assert_eq!(store.alerts(UserId(1)).await.unwrap(), vec![fired.clone()]);
    // A second plan that read the old state loses: the stored one moved on.
    assert!(!store.update_alert(&read, &fired).await.unwrap());
    // Fired from the stored state again: re-armed.
    let mut rearmed = fired.clone();
    rearmed.armed = true;
    assert!(store.update_alert(&fired, &rearmed).await.unwrap());

    // The user mutes it meanwhile: the notifier's update is dropped.
    let mut muted = rearmed.clone();
    muted.active = false;
    store.put_alert(&muted).await.unwrap();
    let mut planned = rearmed.clone();
    planned.armed = false;
    assert!(!store.update_alert(&rearmed, &planned).await.unwrap());
    assert_eq!(store.alerts(UserId(1)).await.unwrap(), vec![muted.clone()]);
    assert!(
        store
            .active_alerts_for(std::slice::from_ref(&gpu))
            .await
            .unwrap()
            .is_empty(),
        "still off the index"
    );

    // Deleted meanwhile: nothing comes back.
    store.delete_alert(UserId(1), &muted.id).await.unwrap();
    assert!(!store.update_alert(&muted, &rearmed).await.unwrap());
    assert!(store.alerts(UserId(1)).await.unwrap().is_empty());

    // Another user's alert of the same id is not touched.
    let theirs = alert(2, "eeeeeeeeee", gpu.clone(), 10, true);
    store.put_alert(&theirs).await.unwrap();
    let mut other = read.clone();
    other.armed = false;
    assert!(!store.update_alert(&read, &other).await.unwrap());
    assert_eq!(store.alerts(UserId(2)).await.unwrap(), vec![theirs]);
}

pub async fn alerts_put_replace_list_delete(store: &dyn UserStore) {
    let gpu = AlertTarget::Item(item("shop:gpu"));
    let a1 = alert(1, "cccccccccc", gpu.clone(), 10, true);
    let a2 = alert(
        1,
        "aaaaaaaaaa",
        AlertTarget::Series(series("rtx-4070")),
        20,
        true,
    );
    let a3 = alert(1, "bbbbbbbbbb", gpu.clone(), 5, false);
    let b1 = alert(2, "dddddddddd", gpu.clone(), 1, true);
    for a in [&a1, &a2, &a3, &b1] {
        store.put_alert(a).await.unwrap();
    }
    assert_eq!(
        store.alerts(UserId(1)).await.unwrap(),
        vec![a3.clone(), a1.clone(), a2.clone()],
        "oldest first, active or not"
    );
    assert_eq!(store.alerts(UserId(2)).await.unwrap(), vec![b1.clone()]);
    assert_eq!(store.alerts(UserId(3)).await.unwrap(), vec![]);

    // Replace: same id, new state.
    let mut fired = a1.clone();
    fired.armed = false;
    fired.last_fired_at = Some(t(30));
    fired.reference_price = Some(exact_money("499.99", "EUR"));
    fired.rule = AlertRule::Drop {
        percent: Decimal::from_str("12.5").unwrap(),
    };
    store.put_alert(&fired).await.unwrap();
    assert_eq!(
        store.alerts(UserId(1)).await.unwrap(),
        vec![a3.clone(), fired.clone(), a2.clone()]
    );

    // Another user's id deletes nothing.
    assert!(!store.delete_alert(UserId(2), &a1.id).await.unwrap());
    assert!(!store.delete_alert(UserId(1), &b1.id).await.unwrap());
    assert_eq!(store.alerts(UserId(1)).await.unwrap().len(), 3);
    assert_eq!(store.alerts(UserId(2)).await.unwrap(), vec![b1.clone()]);

    assert!(store.delete_alert(UserId(1), &a1.id).await.unwrap());
    assert!(!store.delete_alert(UserId(1), &a1.id).await.unwrap());
    assert!(
        !store
            .delete_alert(UserId(1), &alert_id("zzzzzzzzzz"))
            .await
            .unwrap()
    );
    assert_eq!(
        store.alerts(UserId(1)).await.unwrap(),
        vec![a3.clone(), a2.clone()]
    );
    assert_eq!(
        ids(&store.active_alerts_for(&[gpu]).await.unwrap()),
        vec![(2, "dddddddddd".to_string())],
        "a deleted alert no longer matches"
    );
}

pub async fn alert_amounts_round_trip_exactly(store: &dyn UserStore) {
    let cases = [
        (
            "aaaaaaaaaa",
            AlertRule::Below {
                price: exact_money("0.10", "EUR"),
            },
            Some(exact_money("0.10", "EUR")),
        ),
        (
            "bbbbbbbbbb",
            AlertRule::Above {
                price: exact_money("12500", "DZD"),
            },
            Some(exact_money("12500", "DZD")),
        ),
        (
            "cccccccccc",
            AlertRule::Drop {
                percent: Decimal::from_str("7.50").unwrap(),
            },
            Some(exact_money("1234567.891", "KWD")),
        ),
        ("dddddddddd", AlertRule::BackInStock, None),
        (
            "eeeeeeeeee",
            AlertRule::NewListingUnder {
                price: exact_money("0.000001", "XAU"),
            },
            None,
        ),
    ];
    let target = AlertTarget::Series(series("gold-18k"));
    let mut expected = Vec::new();
    for (n, (id, rule, reference)) in cases.into_iter().enumerate() {
        let mut a = alert(4, id, target.clone(), n as i64, true);
        a.rule = rule;
        a.reference_price = reference;
        store.put_alert(&a).await.unwrap();
        expected.push(a);
    }
    let stored = store.alerts(UserId(4)).await.unwrap();
    assert_eq!(stored, expected);
    // Not only equal in value: the scale survives ("0.10" stays "0.10").
    let text = |a: &Alert| match &a.rule {
        AlertRule::Below { price } | AlertRule::Above { price } => price.amount.to_string(),
        AlertRule::NewListingUnder { price } => price.amount.to_string(),
        AlertRule::Drop { percent } => percent.to_string(),
        AlertRule::BackInStock => String::new(),
    };
    let rules: Vec<String> = stored.iter().map(text).collect();
    assert_eq!(rules, ["0.10", "12500", "7.50", "", "0.000001"]);
    assert_eq!(
        stored[0]
            .reference_price
            .as_ref()
            .unwrap()
            .amount
            .to_string(),
        "0.10"
    );
    assert_eq!(
        stored[2]
            .reference_price
            .as_ref()
            .map(|m| (m.amount.to_string(), m.currency.code().to_string())),
        Some(("1234567.891".to_string(), "KWD".to_string()))
    );
    assert_eq!(store.active_alerts_for(&[target]).await.unwrap(), expected);
}

pub async fn active_alerts_for_items_and_series(store: &dyn UserStore) {
    let gpu = AlertTarget::Item(item("shop:gpu"));
    let cpu = AlertTarget::Item(item("shop:cpu"));
    let rtx = AlertTarget::Series(series("rtx-4070"));
    // Series and item ids may look alike: the kind keeps them apart.
    let gpu_series = AlertTarget::Series(series("gpu"));
    let alerts = [
        alert(1, "mmmmmmmmmm", gpu.clone(), 1, true),
        alert(2, "bbbbbbbbbb", gpu.clone(), 2, true),
        alert(1, "cccccccccc", gpu.clone(), 3, false),
        alert(3, "zzzzzzzzzz", rtx.clone(), 4, true),
        alert(2, "aaaaaaaaaa", rtx.clone(), 5, true),
        alert(1, "pppppppppp", cpu.clone(), 6, true),
        alert(1, "qqqqqqqqqq", gpu_series.clone(), 7, true),
    ];
    for a in &alerts {
        store.put_alert(a).await.unwrap();
    }
    let found = store
        .active_alerts_for(&[rtx.clone(), gpu.clone()])
        .await
        .unwrap();
    assert_eq!(
        ids(&found),
        vec![
            (2, "aaaaaaaaaa".to_string()),
            (3, "zzzzzzzzzz".to_string()),
            (2, "bbbbbbbbbb".to_string()),
            (1, "mmmmmmmmmm".to_string()),
        ],
        "by target as given, then by id; inactive ones left out"
    );
    assert_eq!(found[0], alerts[4], "whole alerts come back");
    assert_eq!(
        ids(&store
            .active_alerts_for(&[gpu.clone(), rtx.clone()])
            .await
            .unwrap()),
        vec![
            (2, "bbbbbbbbbb".to_string()),
            (1, "mmmmmmmmmm".to_string()),
            (2, "aaaaaaaaaa".to_string()),
            (3, "zzzzzzzzzz".to_string()),
        ]
    );
    assert_eq!(
        ids(&store
            .active_alerts_for(std::slice::from_ref(&gpu_series))
            .await
            .unwrap()),
        vec![(1, "qqqqqqqqqq".to_string())]
    );
    assert_eq!(store.active_alerts_for(&[]).await.unwrap(), vec![]);
    assert_eq!(
        store
            .active_alerts_for(&[AlertTarget::Item(item("shop:none"))])
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        ids(&store
            .active_alerts_for(&[cpu.clone(), cpu.clone()])
            .await
            .unwrap()),
        vec![(1, "pppppppppp".to_string())],
        "a target given twice is looked up once"
    );

    // Deactivating and reactivating by put.
    let mut off = alerts[1].clone();
    off.active = false;
    store.put_alert(&off).await.unwrap();
    let mut on = alerts[2].clone();
    on.active = true;
    store.put_alert(&on).await.unwrap();
    assert_eq!(
        ids(&store
            .active_alerts_for(std::slice::from_ref(&gpu))
            .await
            .unwrap()),
        vec![(1, "cccccccccc".to_string()), (1, "mmmmmmmmmm".to_string())]
    );
    // Moving an alert to another target moves it in the lookup too.
    let mut moved = alerts[0].clone();
    moved.target = cpu.clone();
    store.put_alert(&moved).await.unwrap();
    assert_eq!(
        ids(&store.active_alerts_for(&[gpu, cpu]).await.unwrap()),
        vec![
            (1, "cccccccccc".to_string()),
            (1, "mmmmmmmmmm".to_string()),
            (1, "pppppppppp".to_string()),
        ]
    );
}

pub async fn mark_blocked_deactivates_alerts(store: &dyn UserStore) {
    let gpu = AlertTarget::Item(item("shop:gpu"));
    let rtx = AlertTarget::Series(series("rtx-4070"));
    store
        .touch_user(&contact(profile(1, "Ann"), t(0), None))
        .await
        .unwrap();
    store
        .touch_user(&contact(profile(2, "Ben"), t(0), None))
        .await
        .unwrap();
    for a in [
        alert(1, "aaaaaaaaaa", gpu.clone(), 1, true),
        alert(1, "bbbbbbbbbb", rtx.clone(), 2, true),
        alert(1, "cccccccccc", gpu.clone(), 3, false),
        alert(2, "dddddddddd", gpu.clone(), 4, true),
    ] {
        store.put_alert(&a).await.unwrap();
    }
    assert_eq!(store.mark_blocked(UserId(1)).await.unwrap(), 2);
    let user = store.user(UserId(1)).await.unwrap().unwrap();
    assert!(user.blocked);
    assert!(
        !store.user(UserId(2)).await.unwrap().unwrap().blocked,
        "only that user"
    );
    let mine = store.alerts(UserId(1)).await.unwrap();
    assert_eq!(mine.len(), 3, "deactivated, not deleted");
    assert!(mine.iter().all(|a| !a.active));
    assert_eq!(
        ids(&store
            .active_alerts_for(&[gpu.clone(), rtx.clone()])
            .await
            .unwrap()),
        vec![(2, "dddddddddd".to_string())]
    );
    assert_eq!(
        store.mark_blocked(UserId(1)).await.unwrap(),
        0,
        "nothing left to deactivate"
    );
    // Coming back clears `blocked`; alerts stay off until the user acts.
    let (user, _) = store
        .touch_user(&contact(profile(1, "Ann"), t(10), None))
        .await
        .unwrap();
    assert!(!user.blocked);
    assert!(
        store
            .alerts(UserId(1))
            .await
            .unwrap()
            .iter()
            .all(|a| !a.active)
    );
}

pub async fn mark_blocked_unknown_user_is_zero(store: &dyn UserStore) {
    assert_eq!(store.mark_blocked(UserId(404)).await.unwrap(), 0);
    assert_eq!(store.user(UserId(404)).await.unwrap(), None);
}

pub async fn payload_claims_win_only_over_nothing_or_lapsed(store: &dyn UserStore) {
    assert!(
        store
            .claim_payload("c", "sending", t(10), t(0))
            .await
            .unwrap()
    );
    assert!(
        !store
            .claim_payload("c", "other", t(50), t(5))
            .await
            .unwrap(),
        "a live claim holds"
    );
    assert_eq!(
        store.payload("c", t(5)).await.unwrap().as_deref(),
        Some("sending"),
        "and keeps its value"
    );
    assert!(
        store
            .claim_payload("c", "again", t(40), t(10))
            .await
            .unwrap(),
        "a lapsed one (at its expiry) is taken over"
    );
    assert_eq!(
        store.payload("c", t(11)).await.unwrap().as_deref(),
        Some("again")
    );
    // A put replaces a claim (the sender records "sent" over "sending"),
    // and a claim cannot take a live put.
    store.put_payload("c", "1", t(100)).await.unwrap();
    assert!(
        !store
            .claim_payload("c", "sending", t(60), t(20))
            .await
            .unwrap()
    );
    assert_eq!(
        store.payload("c", t(20)).await.unwrap().as_deref(),
        Some("1")
    );
    // Expiring a claim at once frees it.
    assert!(
        store
            .claim_payload("d", "sending", t(60), t(0))
            .await
            .unwrap()
    );
    store.put_payload("d", "", t(1)).await.unwrap();
    assert!(
        store
            .claim_payload("d", "sending", t(60), t(1))
            .await
            .unwrap()
    );
}

pub async fn payload_claims_race_with_one_winner(store: &dyn UserStore) {
    let now = t(0);
    let (a, b, c, d) = tokio::join!(
        store.claim_payload("race", "a", t(10), now),
        store.claim_payload("race", "b", t(10), now),
        store.claim_payload("race", "c", t(10), now),
        store.claim_payload("race", "d", t(10), now),
    );
    let won: Vec<&str> = [(a, "a"), (b, "b"), (c, "c"), (d, "d")]
        .into_iter()
        .filter(|(r, _)| *r.as_ref().unwrap())
        .map(|(_, v)| v)
        .collect();
    assert_eq!(won.len(), 1, "exactly one claim wins: {won:?}");
    assert_eq!(
        store.payload("race", now).await.unwrap().as_deref(),
        Some(won[0]),
        "the winner's value is stored"
    );
}

pub async fn payloads_expire_and_replace(store: &dyn UserStore) {
    let url = "https://shop.example/catalogue/gpu/rtx-4070-super-ti?ref=bot&utm=é";
    store.put_payload("k1", url, t(10)).await.unwrap();
    store.put_payload("k2", "other", t(100)).await.unwrap();
    assert_eq!(
        store.payload("k1", t(0)).await.unwrap().as_deref(),
        Some(url)
    );
    assert_eq!(
        store.payload("k1", t(9)).await.unwrap().as_deref(),
        Some(url)
    );
    assert_eq!(store.payload("missing", t(0)).await.unwrap(), None);
    // Replacing sets the value and the expiry.
    store.put_payload("k1", "second", t(20)).await.unwrap();
    assert_eq!(
        store.payload("k1", t(15)).await.unwrap().as_deref(),
        Some("second")
    );
    assert_eq!(
        store.payload("k1", t(20)).await.unwrap(),
        None,
        "expired at its expiry"
    );
    assert_eq!(store.payload("k1", t(30)).await.unwrap(), None);
    assert_eq!(
        store.payload("k2", t(30)).await.unwrap().as_deref(),
        Some("other"),
        "other keys keep theirs"
    );
    // An expired key can be put again.
    store.put_payload("k1", "third", t(60)).await.unwrap();
    assert_eq!(
        store.payload("k1", t(31)).await.unwrap().as_deref(),
        Some("third")
    );
}

pub async fn tracked_pages_of_empty_store(store: &dyn UserStore) {
    assert_eq!(store.tracked_pages().await.unwrap(), vec![]);
}

pub async fn tracked_page_add_new(store: &dyn UserStore) {
    let page = tracked_page(
        "page-3f9a0c1d2e4b",
        "https://shop.example/gpu/rtx-4070?ref=bot",
        "RTX 4070 Super",
        42,
        0,
    );
    assert_eq!(
        store.track_page(&page).await.unwrap(),
        Tracking {
            page_added: true,
            user_added: true
        },
        "a new page"
    );
    assert_eq!(store.tracked_pages().await.unwrap(), vec![page.clone()]);
    // Another page is another source; a Telegram id beyond 32 bits round-trips.
    let other = tracked_page(
        "page-00aa11bb22cc",
        "https://other.example/p/1",
        "Kettle",
        7_000_000_001,
        5,
    );
    assert!(store.track_page(&other).await.unwrap().page_added);
    assert_eq!(store.tracked_pages().await.unwrap(), vec![other, page]);
}

pub async fn tracked_page_add_same_source_again_keeps_first(store: &dyn UserStore) {
    let first = tracked_page(
        "page-3f9a0c1d2e4b",
        "https://shop.example/gpu/rtx-4070",
        "RTX 4070",
        1,
        0,
    );
    assert!(store.track_page(&first).await.unwrap().page_added);
    // The same source again, whatever else differs: the page stays as first
    // added; the second user joins its trackers.
    let again = tracked_page(
        "page-3f9a0c1d2e4b",
        "https://shop.example/gpu/rtx-4070?utm=x",
        "RTX 4070 (renamed)",
        2,
        30,
    );
    assert_eq!(
        store.track_page(&again).await.unwrap(),
        Tracking {
            page_added: false,
            user_added: true
        },
        "already tracked, by another user"
    );
    assert_eq!(
        store.track_page(&first).await.unwrap(),
        Tracking {
            page_added: false,
            user_added: false
        },
        "an identical add is no news either"
    );
    assert_eq!(
        store.tracked_pages().await.unwrap(),
        vec![first],
        "the first add's URL, name, user and time stay"
    );
}

pub async fn tracked_pages_listed_by_source_id(store: &dyn UserStore) {
    // Added out of order, by several users. Byte order: '-' before digits,
    // '_' after digits but before letters, a prefix before what extends it.
    let sources = [
        "page-ff00",
        "page-0a",
        "page-a",
        "page-a_b",
        "page-a-b",
        "page-9",
        "page-ab",
    ];
    for (n, source) in sources.iter().enumerate() {
        let page = tracked_page(
            source,
            &format!("https://shop.example/{source}"),
            &format!("Item {n}"),
            n as i64 % 3,
            n as i64,
        );
        assert!(store.track_page(&page).await.unwrap().page_added);
    }
    let listed = store.tracked_pages().await.unwrap();
    let order: Vec<&str> = listed.iter().map(|p| p.source_id.as_str()).collect();
    assert_eq!(
        order,
        [
            "page-0a",
            "page-9",
            "page-a",
            "page-a-b",
            "page-a_b",
            "page-ab",
            "page-ff00",
        ]
    );
    // Whole pages come back, not only their ids.
    assert_eq!(
        listed[0],
        tracked_page("page-0a", "https://shop.example/page-0a", "Item 1", 1, 1)
    );
}

pub async fn tracked_page_unicode_names_round_trip(store: &dyn UserStore) {
    let names = [
        ("page-01", "Золото 585 пробы — кольцо"),
        ("page-02", "ساعة يد رجالية – فضة"),
        ("page-03", "Café crème « édition limitée »"),
        ("page-04", "日本語の商品名 🎧 ヘッドホン"),
        // Decomposed: e + combining acute, kept as written (no normalising).
        ("page-05", "Cafe\u{301} noir"),
        ("page-06", "👨‍👩‍👧 family pack 🇩🇿"),
    ];
    let mut expected = Vec::new();
    for (n, (source, name)) in names.into_iter().enumerate() {
        let page = tracked_page(
            source,
            &format!("https://магазин.example/товар/{n}?q=é&ar=ساعة"),
            name,
            9,
            n as i64,
        );
        assert!(store.track_page(&page).await.unwrap().page_added);
        expected.push(page);
    }
    let listed = store.tracked_pages().await.unwrap();
    assert_eq!(listed, expected);
    assert_eq!(listed[4].name.chars().count(), 10, "combining mark kept");
}

pub async fn tracked_pages_counted_per_user_and_in_all_once(store: &dyn UserStore) {
    assert_eq!(store.tracked_page_count().await.unwrap(), 0);
    assert!(store.tracked_pages_of(UserId(1)).await.unwrap().is_empty());
    let a = tracked_page("page-aaaaaaaaaaaa", "https://shop.example/a", "A", 1, 0);
    let b = tracked_page("page-bbbbbbbbbbbb", "https://shop.example/b", "B", 1, 1);
    for _ in 0..3 {
        // Re-pasting the same pages never counts them twice.
        store.track_page(&a).await.unwrap();
        store.track_page(&b).await.unwrap();
    }
    let mut a2 = a.clone();
    a2.added_by = UserId(2);
    a2.added_at = t(9);
    store.track_page(&a2).await.unwrap();
    store.track_page(&a2).await.unwrap();
    assert_eq!(
        store.tracked_page_count().await.unwrap(),
        2,
        "pages, not trackers"
    );
    assert_eq!(store.tracked_pages_of(UserId(1)).await.unwrap().len(), 2);
    assert_eq!(store.tracked_pages_of(UserId(2)).await.unwrap().len(), 1);
    assert!(store.tracked_pages_of(UserId(3)).await.unwrap().is_empty());
}

/// Many pages from many users (a store that spreads them over partitions,
/// as the DynamoDB one shards them, must gather them all): listed once each
/// in source id order, counted once each, each user's own listed.
pub async fn many_tracked_pages_listed_in_order_and_counted_once(store: &dyn UserStore) {
    let mut pages = Vec::new();
    for n in 0..45u64 {
        // Scrambled, so the order they are added in is not the listed one.
        let hash = format!("{:012x}", n.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 16);
        let source = format!("page-{}", &hash[..12]);
        let page = tracked_page(
            &source,
            &format!("https://shop.example/{n}"),
            &format!("Item {n}"),
            n as i64 % 5 + 1,
            n as i64,
        );
        assert!(store.track_page(&page).await.unwrap().page_added);
        pages.push(page);
    }
    // A second tracker of some: still one page each.
    for page in pages.iter().step_by(4) {
        let mut again = page.clone();
        again.added_by = UserId(99);
        store.track_page(&again).await.unwrap();
    }
    pages.sort_by(|a, b| a.source_id.cmp(&b.source_id));
    assert_eq!(store.tracked_pages().await.unwrap(), pages);
    assert_eq!(store.tracked_page_count().await.unwrap(), 45);
    for user in 1..=5 {
        let mut mine: Vec<String> = store
            .tracked_pages_of(UserId(user))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.source_id.to_string())
            .collect();
        mine.sort();
        let want: Vec<String> = pages
            .iter()
            .filter(|p| p.added_by == UserId(user))
            .map(|p| p.source_id.to_string())
            .collect();
        assert_eq!(mine, want, "user {user}'s pages");
    }
    assert_eq!(store.tracked_pages_of(UserId(99)).await.unwrap().len(), 12);
}

pub async fn tracked_page_trackers_listed_per_user(store: &dyn UserStore) {
    let first = tracked_page(
        "page-cccccccccccc",
        "https://shop.example/c",
        "Kettle",
        1,
        0,
    );
    store.track_page(&first).await.unwrap();
    let mut later = tracked_page(
        "page-cccccccccccc",
        "https://shop.example/c-other",
        "Kettle (renamed)",
        2,
        30,
    );
    store.track_page(&later).await.unwrap();
    // The page is the first add's; the time is when each user started.
    later.url = first.url.clone();
    later.name = first.name.clone();
    assert_eq!(
        store.tracked_pages_of(UserId(1)).await.unwrap(),
        vec![first.clone()]
    );
    assert_eq!(
        store.tracked_pages_of(UserId(2)).await.unwrap(),
        vec![later]
    );
    // The shared list still shows the first add.
    assert_eq!(store.tracked_pages().await.unwrap(), vec![first]);
    // A user's list is by source id.
    store
        .track_page(&tracked_page(
            "page-0000",
            "https://shop.example/0",
            "Zero",
            1,
            5,
        ))
        .await
        .unwrap();
    let mine: Vec<String> = store
        .tracked_pages_of(UserId(1))
        .await
        .unwrap()
        .iter()
        .map(|p| p.source_id.to_string())
        .collect();
    assert_eq!(mine, ["page-0000", "page-cccccccccccc"]);
}

pub async fn untrack_keeps_a_page_others_track_and_expires_the_last(store: &dyn UserStore) {
    let page = tracked_page("page-dddddddddddd", "https://shop.example/d", "D", 1, 0);
    let source = page.source_id.clone();
    store.track_page(&page).await.unwrap();
    let mut theirs = page.clone();
    theirs.added_by = UserId(2);
    store.track_page(&theirs).await.unwrap();
    let other = tracked_page("page-eeeeeeeeeeee", "https://shop.example/e", "E", 1, 1);
    store.track_page(&other).await.unwrap();

    assert_eq!(
        store.untrack_page(UserId(1), &source).await.unwrap(),
        Untracking {
            was_tracking: true,
            page_removed: false
        },
        "user 2 still tracks it"
    );
    assert_eq!(
        store.tracked_pages_of(UserId(1)).await.unwrap(),
        vec![other.clone()]
    );
    assert_eq!(store.tracked_page_count().await.unwrap(), 2);

    assert_eq!(
        store.untrack_page(UserId(2), &source).await.unwrap(),
        Untracking {
            was_tracking: true,
            page_removed: true
        },
        "nobody tracks it any more: it expires"
    );
    assert_eq!(store.tracked_pages().await.unwrap(), vec![other]);
    assert_eq!(store.tracked_page_count().await.unwrap(), 1);
    assert!(store.tracked_pages_of(UserId(2)).await.unwrap().is_empty());
    // Again: nothing left to do.
    assert_eq!(
        store.untrack_page(UserId(2), &source).await.unwrap(),
        Untracking {
            was_tracking: false,
            page_removed: false
        }
    );
}

pub async fn untrack_of_a_page_not_tracked_changes_nothing(store: &dyn UserStore) {
    let page = tracked_page("page-ffffffffffff", "https://shop.example/f", "F", 1, 0);
    store.track_page(&page).await.unwrap();
    // Another user's (forged) untrack neither removes the page nor counts.
    assert_eq!(
        store
            .untrack_page(UserId(99), &page.source_id)
            .await
            .unwrap(),
        Untracking {
            was_tracking: false,
            page_removed: false
        }
    );
    let unknown = SourceId::new("page-000000000000").unwrap();
    assert_eq!(
        store.untrack_page(UserId(1), &unknown).await.unwrap(),
        Untracking {
            was_tracking: false,
            page_removed: false
        }
    );
    assert_eq!(store.tracked_pages().await.unwrap(), vec![page.clone()]);
    assert_eq!(store.tracked_pages_of(UserId(1)).await.unwrap(), vec![page]);
}

pub async fn tracked_page_retracked_after_expiry(store: &dyn UserStore) {
    let page = tracked_page("page-121212121212", "https://shop.example/g", "G", 1, 0);
    store.track_page(&page).await.unwrap();
    assert!(
        store
            .untrack_page(UserId(1), &page.source_id)
            .await
            .unwrap()
            .page_removed
    );
    // Pasted again later: a new page, with the new add's details.
    let again = tracked_page("page-121212121212", "https://shop.example/g2", "G2", 3, 50);
    assert_eq!(
        store.track_page(&again).await.unwrap(),
        Tracking {
            page_added: true,
            user_added: true
        }
    );
    assert_eq!(store.tracked_pages().await.unwrap(), vec![again.clone()]);
    assert_eq!(
        store.tracked_pages_of(UserId(3)).await.unwrap(),
        vec![again]
    );
    assert!(store.tracked_pages_of(UserId(1)).await.unwrap().is_empty());
}

pub async fn tracked_page_concurrent_tracks_count_once(store: &dyn UserStore) {
    let page = tracked_page("page-343434343434", "https://shop.example/h", "H", 5, 0);
    let (a, b, c, d) = tokio::join!(
        store.track_page(&page),
        store.track_page(&page),
        store.track_page(&page),
        store.track_page(&page),
    );
    let added = [a, b, c, d]
        .into_iter()
        .map(|r| r.unwrap())
        .filter(|t| t.page_added)
        .count();
    assert_eq!(added, 1, "one of the racing adds created the page");
    assert_eq!(store.tracked_page_count().await.unwrap(), 1);
    assert_eq!(store.tracked_pages_of(UserId(5)).await.unwrap().len(), 1);
}

pub async fn usage_stats_of_empty_store(store: &dyn UserStore) {
    assert_eq!(
        store.usage_stats(t(0)).await.unwrap(),
        UsageStats::default()
    );
}

pub async fn usage_stats_windows_and_counts(store: &dyn UserStore) {
    let now = t(0);
    let s = Duration::seconds(1);
    let day = Duration::hours(24);
    let week = Duration::days(7);
    let month = Duration::days(30);
    let seen = [
        (1, now),                      // daily (the window includes now)
        (2, now - day + s),            // daily
        (3, now - day),                // weekly, not daily (the window excludes its start)
        (4, now - week + s),           // weekly
        (5, now - week),               // monthly, not weekly
        (6, now - month + s),          // monthly
        (7, now - month),              // none
        (8, now - Duration::days(31)), // none
        (9, now + Duration::hours(1)), // after `now`: none
    ];
    for (id, at) in seen {
        store
            .touch_user(&contact(profile(id, "U"), at, None))
            .await
            .unwrap();
    }
    // First seen long ago, last seen an hour ago: daily.
    store
        .touch_user(&contact(profile(10, "Old"), now - Duration::days(40), None))
        .await
        .unwrap();
    store
        .touch_user(&contact(profile(10, "Old"), now - Duration::hours(1), None))
        .await
        .unwrap();

    let mut events = vec![
        command(1, now, "prices"),
        command(2, now - Duration::hours(3), "prices"),
        command(3, now - Duration::days(29), "prices"),
        command(1, now - Duration::days(2), "search"),
        // Two identical events are two events.
        command(1, now - Duration::days(2), "search"),
        command(2, now - month + s, "alerts"),
        command(2, now - Duration::days(10), "alerts"),
        command(4, now - Duration::days(15), "start"),
        // Outside the window.
        command(5, now - month, "prices"),
        command(5, now - Duration::days(31), "old"),
        command(5, now + s, "future"),
    ];
    for at in [now, now - month + s, now - month, now + s] {
        events.push(UsageEvent {
            user: UserId(1),
            at,
            kind: UsageKind::AlertSent,
        });
    }
    for e in &events {
        store.record_usage(e).await.unwrap();
    }

    let stats = store.usage_stats(now).await.unwrap();
    assert_eq!(
        stats,
        UsageStats {
            users: 10,
            daily_active: 3,
            weekly_active: 5,
            monthly_active: 7,
            commands: vec![
                ("prices".to_string(), 3),
                ("alerts".to_string(), 2),
                ("search".to_string(), 2),
                ("start".to_string(), 1),
            ],
            alerts_sent: 2,
        }
    );

    // A day later the windows have moved.
    let stats = store.usage_stats(now + day).await.unwrap();
    assert_eq!(stats.users, 10);
    assert_eq!(stats.daily_active, 1, "only the user seen after `now`");
    assert_eq!(
        stats.commands,
        vec![
            ("prices".to_string(), 2),
            ("search".to_string(), 2),
            ("alerts".to_string(), 1),
            ("future".to_string(), 1),
            ("start".to_string(), 1),
        ]
    );
    assert_eq!(stats.alerts_sent, 2);
}

/// Many users and their events (a store that spreads them over partitions,
/// as the DynamoDB one shards them by user, must gather every one): each
/// user and each event counted once, in the right windows.
pub async fn usage_stats_count_many_users_and_events_once(store: &dyn UserStore) {
    let now = t(0);
    let users = 48i64;
    for i in 0..users {
        // Telegram ids: large, and near each other.
        let id = 5_000_000_000 + i * 7;
        let at = now - Duration::hours(i);
        store
            .touch_user(&contact(profile(id, "U"), at, None))
            .await
            .unwrap();
        for n in 0..(i % 3 + 1) {
            let name = ["prices", "search", "alerts"][n as usize];
            store.record_usage(&command(id, at, name)).await.unwrap();
        }
        if i % 4 == 0 {
            store
                .record_usage(&UsageEvent {
                    user: UserId(id),
                    at,
                    kind: UsageKind::AlertSent,
                })
                .await
                .unwrap();
        }
    }
    let stats = store.usage_stats(now).await.unwrap();
    assert_eq!(
        stats,
        UsageStats {
            users: 48,
            // Seen 0 to 23 hours ago; 24 hours ago is outside the day.
            daily_active: 24,
            weekly_active: 48,
            monthly_active: 48,
            commands: vec![
                ("prices".to_string(), 48),
                ("search".to_string(), 32),
                ("alerts".to_string(), 16),
            ],
            alerts_sent: 12,
        }
    );
}

pub async fn track_job_claim_is_one_per_user_until_released_or_lapsed(store: &dyn UserStore) {
    let (a, b) = (UserId(1), UserId(2));
    assert!(store.claim_track_job(a, t(0), t(1)).await.unwrap());
    assert!(
        !store.claim_track_job(a, t(0), t(1)).await.unwrap(),
        "one job in flight per user"
    );
    assert!(
        store.claim_track_job(b, t(0), t(1)).await.unwrap(),
        "another user claims apart"
    );
    // Released when the job ends: the user may press again at once.
    store.release_track_job(a).await.unwrap();
    assert!(store.claim_track_job(a, t(0), t(2)).await.unwrap());
    // A claim nobody released lapses by itself at its end, not before.
    assert!(!store.claim_track_job(a, t(1), t(3)).await.unwrap());
    assert!(store.claim_track_job(a, t(2), t(4)).await.unwrap());
    assert!(!store.claim_track_job(a, t(3), t(5)).await.unwrap());
    // Releasing with no claim (twice, or for a stranger) is harmless.
    store.release_track_job(a).await.unwrap();
    store.release_track_job(a).await.unwrap();
    store.release_track_job(UserId(404)).await.unwrap();
    assert!(store.claim_track_job(a, t(3), t(5)).await.unwrap());
    // Claims are not payloads, throttle windows or quotas.
    assert_eq!(store.payload("cb", t(3)).await.unwrap(), None);
    assert_eq!(store.throttle_hit(a, t(3)).await.unwrap(), 1);
}

pub async fn track_job_claims_race_with_one_winner(store: &dyn UserStore) {
    let u = UserId(3);
    let claims = tokio::join!(
        store.claim_track_job(u, t(0), t(1)),
        store.claim_track_job(u, t(0), t(1)),
        store.claim_track_job(u, t(0), t(1)),
        store.claim_track_job(u, t(0), t(1)),
        store.claim_track_job(u, t(0), t(1)),
    );
    let won = [claims.0, claims.1, claims.2, claims.3, claims.4]
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1, "exactly one concurrent press gets the slot");
}

pub async fn track_quota_counts_per_user_and_day_apart_from_the_others(store: &dyn UserStore) {
    let (a, b) = (UserId(1), UserId(2));
    assert_eq!(store.track_quota_hit(a, day(0)).await.unwrap(), 1);
    assert_eq!(store.track_quota_hit(a, day(0)).await.unwrap(), 2);
    assert_eq!(
        store.track_quota_hit(b, day(0)).await.unwrap(),
        1,
        "another user counts apart"
    );
    assert_eq!(
        store.track_quota_hit(a, day(1)).await.unwrap(),
        1,
        "the next day starts again"
    );
    assert_eq!(store.track_quota_hit(a, day(0)).await.unwrap(), 3);
    // Alert quota and throttle at the same moment are other counters.
    assert_eq!(store.alert_quota_hit(a, day(0)).await.unwrap(), 1);
    assert_eq!(store.throttle_hit(a, day(0)).await.unwrap(), 1);
    assert_eq!(store.track_quota_hit(a, day(0)).await.unwrap(), 4);
    // A job claim is not a count either.
    assert!(store.claim_track_job(a, day(0), day(1)).await.unwrap());
    assert_eq!(store.track_quota_hit(a, day(0)).await.unwrap(), 5);
    // Much later: a fresh day, whatever was cleaned up meanwhile.
    assert_eq!(store.track_quota_hit(a, day(5)).await.unwrap(), 1);
}

pub async fn track_quota_hits_race_without_losing_counts(store: &dyn UserStore) {
    let u = UserId(3);
    let d = day(0);
    let hits = tokio::join!(
        store.track_quota_hit(u, d),
        store.track_quota_hit(u, d),
        store.track_quota_hit(u, d),
        store.track_quota_hit(u, d),
        store.track_quota_hit(u, d),
        store.track_quota_hit(u, d),
    );
    let mut counts: Vec<u32> = [hits.0, hits.1, hits.2, hits.3, hits.4, hits.5]
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    counts.sort();
    assert_eq!(counts, (1..=6).collect::<Vec<u32>>(), "each count once");
}

/// A watch marked bought stays on the list with the time it was bought;
/// marking again keeps the first time, unmarking clears it, and only an
/// existing watch of that user can be marked.
pub async fn watches_can_be_marked_purchased(store: &dyn UserStore) {
    store.add_watch(&watch(1, "src:a", 1)).await.unwrap();
    store.add_watch(&watch(1, "src:b", 2)).await.unwrap();
    assert!(
        store
            .set_purchased(UserId(1), &item("src:a"), Some(t(5)))
            .await
            .unwrap()
    );
    assert!(
        store
            .set_purchased(UserId(1), &item("src:a"), Some(t(9)))
            .await
            .unwrap()
    );
    let list = store.watches(UserId(1)).await.unwrap();
    assert_eq!(
        list.iter()
            .map(|w| (w.item.as_str(), w.purchased_at))
            .collect::<Vec<_>>(),
        vec![("src:a", Some(t(5))), ("src:b", None)]
    );
    assert!(
        !store
            .set_purchased(UserId(2), &item("src:a"), Some(t(5)))
            .await
            .unwrap(),
        "another user's watch is not theirs to mark"
    );
    assert!(
        !store
            .set_purchased(UserId(1), &item("src:zz"), Some(t(5)))
            .await
            .unwrap(),
        "no watch, nothing marked"
    );
    assert!(
        store.watches(UserId(2)).await.unwrap().is_empty(),
        "and none is created"
    );
    assert!(
        store
            .set_purchased(UserId(1), &item("src:a"), None)
            .await
            .unwrap()
    );
    assert_eq!(
        store.watches(UserId(1)).await.unwrap()[0].purchased_at,
        None
    );
}
