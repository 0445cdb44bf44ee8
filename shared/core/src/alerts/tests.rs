use super::*;
use crate::domain::user::{AlertId, UserId};
use crate::domain::{Currency, ItemId, ObservationId, SeriesId, SourceId};
use chrono::TimeZone;
use std::str::FromStr;

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
}

fn money(amount: &str, currency: &str) -> Money {
    Money::new(
        Decimal::from_str(amount).unwrap(),
        Currency::new(currency).unwrap(),
    )
}

fn eur(amount: &str) -> Money {
    money(amount, "EUR")
}

fn item() -> ItemId {
    ItemId::new("shop:rtx-4070-asus").unwrap()
}

fn series() -> SeriesId {
    SeriesId::new("rtx-4070").unwrap()
}

/// A fresh alert on `item()`, as created: active and armed.
fn alert(rule: AlertRule) -> Alert {
    Alert {
        id: AlertId::random(),
        user: UserId(42),
        target: AlertTarget::Item(item()),
        rule,
        created_at: base(),
        active: true,
        armed: true,
        reference_price: None,
        last_fired_at: None,
    }
}

fn series_alert(rule: AlertRule) -> Alert {
    Alert {
        target: AlertTarget::Series(series()),
        ..alert(rule)
    }
}

/// An in-stock price change of `item()` (in `series()`) to `new`.
fn change(new: Option<Money>) -> PriceChanged {
    PriceChanged {
        item_id: item(),
        source_id: SourceId::new("shop").unwrap(),
        item_name: "ASUS RTX 4070".into(),
        series: Some(series()),
        new_item: false,
        old_price: None,
        new_price: new,
        old_availability: Some(Availability::InStock),
        availability: Availability::InStock,
        percent_change: None,
        observation_id: ObservationId::new("ab12").unwrap(),
        observed_at: base(),
        link: "https://shop.example/rtx-4070-asus".into(),
    }
}

fn price(amount: &str) -> PriceChanged {
    change(Some(eur(amount)))
}

fn stock(old: Availability, new: Availability, new_price: Option<Money>) -> PriceChanged {
    PriceChanged {
        old_availability: Some(old),
        availability: new,
        ..change(new_price)
    }
}

fn below(x: &str) -> AlertRule {
    AlertRule::Below { price: eur(x) }
}

fn above(x: &str) -> AlertRule {
    AlertRule::Above { price: eur(x) }
}

fn drop_rule(percent: &str) -> AlertRule {
    AlertRule::Drop {
        percent: Decimal::from_str(percent).unwrap(),
    }
}

/// Policy with no cooldown, for the rule tests that are not about it.
fn no_cooldown() -> AlertPolicy {
    AlertPolicy {
        cooldown: Duration::zero(),
        ..AlertPolicy::default()
    }
}

fn nothing() -> Evaluation {
    Evaluation {
        fire: false,
        updated: None,
    }
}

/// Evaluates at `now` with no cooldown and, like the notifier, keeps the
/// updated state.
fn step(alert: &mut Alert, change: &PriceChanged, now: DateTime<Utc>) -> Evaluation {
    step_with(alert, change, now, &no_cooldown())
}

fn step_with(
    alert: &mut Alert,
    change: &PriceChanged,
    now: DateTime<Utc>,
    policy: &AlertPolicy,
) -> Evaluation {
    let e = evaluate(alert, change, now, policy);
    if let Some(updated) = &e.updated {
        *alert = updated.clone();
    }
    e
}

/// `base()` plus the time tokio's (paused) clock has advanced since `start`.
fn clock_now(start: tokio::time::Instant) -> DateTime<Utc> {
    base() + Duration::from_std(start.elapsed()).unwrap()
}

// ---- Below ----

#[test]
fn below_fires_once_when_the_price_goes_under() {
    let a = alert(below("500"));
    let e = evaluate(&a, &price("499.99"), base(), &no_cooldown());
    assert!(e.fire);
    let updated = e.updated.unwrap();
    assert!(!updated.armed);
    assert_eq!(updated.last_fired_at, Some(base()));
    assert_eq!(updated.rule, a.rule);
    assert_eq!(updated.id, a.id);
}

#[test]
fn below_does_not_repeat_while_the_price_stays_under() {
    let mut a = alert(below("500"));
    assert!(step(&mut a, &price("480"), base()).fire);
    for (i, p) in ["470", "479.99", "300", "499.99"].into_iter().enumerate() {
        let t = base() + Duration::hours(i as i64 + 1);
        assert_eq!(step(&mut a, &price(p), t), nothing(), "price {p}");
    }
}

#[test]
fn below_rearms_after_crossing_back_then_fires_again() {
    let mut a = alert(below("500"));
    assert!(step(&mut a, &price("480"), base()).fire);

    let e = step(&mut a, &price("500"), base() + Duration::hours(1));
    assert!(!e.fire);
    let rearmed = e.updated.unwrap();
    assert!(rearmed.armed);
    assert_eq!(
        rearmed.last_fired_at,
        Some(base()),
        "re-arming is not firing"
    );

    // Staying above while armed writes nothing.
    assert_eq!(
        step(&mut a, &price("520"), base() + Duration::hours(2)),
        nothing()
    );

    let t = base() + Duration::hours(3);
    let e = step(&mut a, &price("490"), t);
    assert!(e.fire);
    assert_eq!(a.last_fired_at, Some(t));
    assert!(!a.armed);
}

#[test]
fn below_equal_to_the_threshold_does_not_fire() {
    let a = alert(below("500"));
    assert_eq!(
        evaluate(&a, &price("500"), base(), &no_cooldown()),
        nothing()
    );
    // Same value at another scale is still equal.
    assert_eq!(
        evaluate(&a, &price("500.000"), base(), &no_cooldown()),
        nothing()
    );
}

#[test]
fn first_observation_after_creation_fires_if_already_past_once() {
    let mut a = alert(below("500"));
    let mut first = price("450");
    first.new_item = true;
    first.old_availability = None;
    assert!(step(&mut a, &first, base()).fire);
    assert!(!step(&mut a, &price("450"), base() + Duration::hours(1)).fire);
}

#[test]
fn below_ignores_another_currency() {
    let a = alert(below("500"));
    let usd = change(Some(money("10", "USD")));
    assert_eq!(evaluate(&a, &usd, base(), &no_cooldown()), nothing());

    // Nor does another currency re-arm a fired alert.
    let fired = Alert { armed: false, ..a };
    let usd = change(Some(money("9000", "USD")));
    assert_eq!(evaluate(&fired, &usd, base(), &no_cooldown()), nothing());
}

#[test]
fn below_ignores_a_change_without_a_price() {
    let a = alert(below("500"));
    let gone = stock(Availability::InStock, Availability::OutOfStock, None);
    assert_eq!(evaluate(&a, &gone, base(), &no_cooldown()), nothing());
    let fired = Alert { armed: false, ..a };
    assert_eq!(evaluate(&fired, &gone, base(), &no_cooldown()), nothing());
}

// ---- Above ----

#[test]
fn above_is_symmetric() {
    let mut a = alert(above("500"));
    assert_eq!(
        step(&mut a, &price("500"), base()),
        nothing(),
        "equal is not above"
    );
    assert_eq!(step(&mut a, &price("450"), base()), nothing());

    let e = step(&mut a, &price("500.01"), base() + Duration::hours(1));
    assert!(e.fire);
    assert!(!a.armed);
    assert!(!step(&mut a, &price("600"), base() + Duration::hours(2)).fire);

    let e = step(&mut a, &price("500"), base() + Duration::hours(3));
    assert!(!e.fire);
    assert!(a.armed, "at the threshold re-arms");

    assert!(step(&mut a, &price("501"), base() + Duration::hours(4)).fire);
    let usd = change(Some(money("9000", "USD")));
    assert_eq!(evaluate(&a, &usd, base(), &no_cooldown()), nothing());
}

// ---- Inactive, wrong target ----

#[test]
fn inactive_alerts_never_fire_nor_change() {
    let cases = [
        (below("500"), price("1")),
        (above("500"), price("1000")),
        (drop_rule("10"), price("1")),
        (
            AlertRule::BackInStock,
            stock(
                Availability::OutOfStock,
                Availability::InStock,
                Some(eur("1")),
            ),
        ),
    ];
    for (rule, c) in cases {
        let a = Alert {
            active: false,
            reference_price: Some(eur("100")),
            ..alert(rule)
        };
        assert_eq!(evaluate(&a, &c, base(), &no_cooldown()), nothing());
        let unarmed = Alert { armed: false, ..a };
        assert_eq!(
            evaluate(&unarmed, &price("700"), base(), &no_cooldown()),
            nothing()
        );
    }
    let mut new_listing = price("100");
    new_listing.new_item = true;
    let a = Alert {
        active: false,
        ..series_alert(AlertRule::NewListingUnder { price: eur("500") })
    };
    assert_eq!(
        evaluate(&a, &new_listing, base(), &no_cooldown()),
        nothing()
    );
}

#[test]
fn a_change_of_another_item_or_series_is_ignored() {
    let other_item = PriceChanged {
        item_id: ItemId::new("shop:rtx-4070-msi").unwrap(),
        series: None,
        ..price("100")
    };
    let a = alert(below("500"));
    assert_eq!(evaluate(&a, &other_item, base(), &no_cooldown()), nothing());
    let a = Alert {
        reference_price: None,
        ..alert(drop_rule("10"))
    };
    assert_eq!(
        evaluate(&a, &other_item, base(), &no_cooldown()),
        nothing(),
        "nor does it set a drop's reference"
    );

    let other_series = PriceChanged {
        series: Some(SeriesId::new("rtx-4080").unwrap()),
        new_item: true,
        ..price("100")
    };
    let s = series_alert(AlertRule::NewListingUnder { price: eur("500") });
    assert_eq!(
        evaluate(&s, &other_series, base(), &no_cooldown()),
        nothing()
    );
    let no_series = PriceChanged {
        series: None,
        ..other_series
    };
    assert_eq!(evaluate(&s, &no_series, base(), &no_cooldown()), nothing());
    let s = series_alert(below("500"));
    assert_eq!(evaluate(&s, &no_series, base(), &no_cooldown()), nothing());
}

#[test]
fn a_series_target_matches_the_items_of_its_series() {
    let a = series_alert(below("500"));
    let e = evaluate(&a, &price("450"), base(), &no_cooldown());
    assert!(e.fire);
}

// ---- Drop ----

#[test]
fn drop_measures_from_the_creation_price_then_from_the_last_fired_price() {
    let mut a = Alert {
        reference_price: Some(eur("1000")),
        ..alert(drop_rule("10"))
    };
    // 9.99 % and a rise: nothing, the reference stays.
    assert_eq!(step(&mut a, &price("900.1"), base()), nothing());
    assert_eq!(step(&mut a, &price("1200"), base()), nothing());
    assert_eq!(a.reference_price, Some(eur("1000")), "rises do not move it");

    // Exactly 10 % fires and moves the reference.
    let t1 = base() + Duration::hours(1);
    let e = step(&mut a, &price("900"), t1);
    assert!(e.fire);
    assert_eq!(a.reference_price, Some(eur("900")));
    assert_eq!(a.last_fired_at, Some(t1));

    // 850 is 15 % under 1000 but only 5.6 % under 900.
    assert_eq!(
        step(&mut a, &price("850"), base() + Duration::hours(2)),
        nothing()
    );
    // 810 is 10 % under 900.
    let t3 = base() + Duration::hours(3);
    assert!(step(&mut a, &price("810"), t3).fire);
    assert_eq!(a.reference_price, Some(eur("810")));
    assert_eq!(a.last_fired_at, Some(t3));
}

#[test]
fn drop_with_no_reference_takes_the_first_price() {
    let mut a = alert(drop_rule("10"));
    assert_eq!(step(&mut a, &change(None), base()), nothing());
    let e = step(&mut a, &price("250"), base());
    assert!(!e.fire);
    assert_eq!(e.updated.unwrap().reference_price, Some(eur("250")));
    assert_eq!(a.last_fired_at, None);
    assert!(step(&mut a, &price("225"), base() + Duration::hours(1)).fire);
}

#[test]
fn drop_ignores_another_currency_and_no_price() {
    let a = Alert {
        reference_price: Some(eur("1000")),
        ..alert(drop_rule("10"))
    };
    let usd = change(Some(money("1", "USD")));
    assert_eq!(evaluate(&a, &usd, base(), &no_cooldown()), nothing());
    let gone = stock(Availability::InStock, Availability::OutOfStock, None);
    assert_eq!(evaluate(&a, &gone, base(), &no_cooldown()), nothing());
}

#[test]
fn drop_with_fractional_percent_is_exact() {
    let a = Alert {
        reference_price: Some(eur("0.3")),
        ..alert(drop_rule("33.3"))
    };
    // 0.3 -> 0.2001 is 33.3 % exactly.
    assert!(evaluate(&a, &price("0.2001"), base(), &no_cooldown()).fire);
    assert!(!evaluate(&a, &price("0.20011"), base(), &no_cooldown()).fire);
}

// ---- Back in stock ----

#[test]
fn back_in_stock_fires_only_coming_from_out_of_stock() {
    let a = alert(AlertRule::BackInStock);
    let from_unknown = stock(Availability::Unknown, Availability::InStock, Some(eur("5")));
    assert_eq!(
        evaluate(&a, &from_unknown, base(), &no_cooldown()),
        nothing()
    );
    let from_in = stock(Availability::InStock, Availability::InStock, Some(eur("5")));
    assert_eq!(evaluate(&a, &from_in, base(), &no_cooldown()), nothing());
    let first_seen = PriceChanged {
        old_availability: None,
        new_item: true,
        ..from_in
    };
    assert_eq!(evaluate(&a, &first_seen, base(), &no_cooldown()), nothing());
    let still_out = stock(Availability::OutOfStock, Availability::OutOfStock, None);
    assert_eq!(evaluate(&a, &still_out, base(), &no_cooldown()), nothing());
    // Unknown availability without a price is not back.
    let unknown_no_price = stock(Availability::OutOfStock, Availability::Unknown, None);
    assert_eq!(
        evaluate(&a, &unknown_no_price, base(), &no_cooldown()),
        nothing()
    );

    let back = stock(Availability::OutOfStock, Availability::InStock, None);
    let e = evaluate(&a, &back, base(), &no_cooldown());
    assert!(e.fire);
    assert!(!e.updated.as_ref().unwrap().armed);
    let price_back = stock(
        Availability::OutOfStock,
        Availability::Unknown,
        Some(eur("5")),
    );
    assert!(evaluate(&a, &price_back, base(), &no_cooldown()).fire);
}

#[test]
fn back_in_stock_rearms_when_out_of_stock_again() {
    let mut a = alert(AlertRule::BackInStock);
    let back = stock(
        Availability::OutOfStock,
        Availability::InStock,
        Some(eur("5")),
    );
    let out = stock(Availability::InStock, Availability::OutOfStock, None);
    assert!(step(&mut a, &back, base()).fire);
    // Fired and unarmed: the same transition again (e.g. a redelivery) is quiet.
    assert_eq!(
        step(&mut a, &back, base() + Duration::minutes(1)),
        nothing()
    );

    let e = step(&mut a, &out, base() + Duration::hours(1));
    assert!(!e.fire);
    assert!(a.armed);
    // Armed and out of stock again: nothing more to write.
    assert_eq!(step(&mut a, &out, base() + Duration::hours(2)), nothing());

    let t = base() + Duration::hours(3);
    assert!(step(&mut a, &back, t).fire);
    assert_eq!(a.last_fired_at, Some(t));
}

// ---- New listing ----

#[test]
fn new_listing_under_fires_for_each_new_item_of_the_series_under_the_price() {
    let a = series_alert(AlertRule::NewListingUnder { price: eur("600") });
    let new_at = |id: &str, p: &str| PriceChanged {
        item_id: ItemId::new(id).unwrap(),
        new_item: true,
        old_availability: None,
        ..price(p)
    };
    let mut a1 = a.clone();
    let e = step(&mut a1, &new_at("shop:a", "599"), base());
    assert!(e.fire);
    assert_eq!(a1.last_fired_at, Some(base()));
    let t = base() + Duration::hours(1);
    assert!(step(&mut a1, &new_at("shop:b", "550"), t).fire, "no arming");
    assert_eq!(a1.last_fired_at, Some(t));

    // Not new, at the price, other currency, no price: nothing.
    assert_eq!(
        evaluate(&a, &price("100"), base(), &no_cooldown()),
        nothing()
    );
    assert_eq!(
        evaluate(&a, &new_at("shop:c", "600"), base(), &no_cooldown()),
        nothing()
    );
    let usd = PriceChanged {
        new_price: Some(money("1", "USD")),
        ..new_at("shop:d", "1")
    };
    assert_eq!(evaluate(&a, &usd, base(), &no_cooldown()), nothing());
    let no_price = PriceChanged {
        new_price: None,
        ..new_at("shop:e", "1")
    };
    assert_eq!(evaluate(&a, &no_price, base(), &no_cooldown()), nothing());

    // On an item target it has nothing to match.
    let on_item = alert(AlertRule::NewListingUnder { price: eur("600") });
    let mut new_item = price("100");
    new_item.new_item = true;
    assert_eq!(
        evaluate(&on_item, &new_item, base(), &no_cooldown()),
        nothing()
    );
}

// ---- Cooldown (paused tokio clock) ----

#[tokio::test(start_paused = true)]
async fn cooldown_suppresses_firing_then_allows_it_once_passed() {
    let start = tokio::time::Instant::now();
    let policy = AlertPolicy {
        cooldown: Duration::minutes(30),
        daily_cap: 50,
    };
    let mut a = alert(below("500"));
    assert!(step_with(&mut a, &price("480"), clock_now(start), &policy).fire);
    let fired_at = clock_now(start);

    tokio::time::advance(std::time::Duration::from_secs(5 * 60)).await;
    // Crossing back re-arms even in the cooldown...
    let e = step_with(&mut a, &price("510"), clock_now(start), &policy);
    assert!(!e.fire);
    assert!(a.armed);
    // ...but going under again does not fire, nor change the alert.
    tokio::time::advance(std::time::Duration::from_secs(5 * 60)).await;
    assert_eq!(
        step_with(&mut a, &price("470"), clock_now(start), &policy),
        nothing()
    );
    assert!(a.armed);
    assert_eq!(a.last_fired_at, Some(fired_at));

    // One second before the end, still quiet.
    tokio::time::advance(std::time::Duration::from_secs(20 * 60 - 1)).await;
    assert_eq!(
        step_with(&mut a, &price("470"), clock_now(start), &policy),
        nothing()
    );

    // At 30 minutes the condition is checked again, and fires.
    tokio::time::advance(std::time::Duration::from_secs(1)).await;
    let now = clock_now(start);
    assert_eq!(now - fired_at, Duration::minutes(30));
    assert!(step_with(&mut a, &price("470"), now, &policy).fire);
    assert_eq!(a.last_fired_at, Some(now));
}

#[tokio::test(start_paused = true)]
async fn cooldown_applies_to_drops_but_never_loses_one_off_events() {
    let start = tokio::time::Instant::now();
    let policy = AlertPolicy {
        cooldown: Duration::hours(1),
        daily_cap: 50,
    };
    let mut d = Alert {
        reference_price: Some(eur("100")),
        ..alert(drop_rule("10"))
    };
    assert!(step_with(&mut d, &price("90"), clock_now(start), &policy).fire);
    tokio::time::advance(std::time::Duration::from_secs(10 * 60)).await;
    assert_eq!(
        step_with(&mut d, &price("80"), clock_now(start), &policy),
        nothing()
    );
    assert_eq!(d.reference_price, Some(eur("90")), "the reference stays");

    // Each new listing is its own event: two within minutes both fire.
    let mut n = series_alert(AlertRule::NewListingUnder { price: eur("600") });
    let mut listing = price("500");
    listing.new_item = true;
    assert!(step_with(&mut n, &listing, clock_now(start), &policy).fire);
    tokio::time::advance(std::time::Duration::from_secs(10 * 60)).await;
    assert!(step_with(&mut n, &listing, clock_now(start), &policy).fire);

    // Back in stock, out again, back again within minutes: both returns fire.
    let mut b = alert(AlertRule::BackInStock);
    let back = stock(
        Availability::OutOfStock,
        Availability::InStock,
        Some(eur("5")),
    );
    let out = stock(Availability::InStock, Availability::OutOfStock, None);
    assert!(step_with(&mut b, &back, clock_now(start), &policy).fire);
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    assert!(!step_with(&mut b, &out, clock_now(start), &policy).fire);
    assert!(b.armed, "re-armed by going out of stock");
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    assert!(step_with(&mut b, &back, clock_now(start), &policy).fire);
    // While in stock it does not fire again.
    assert!(!step_with(&mut b, &back, clock_now(start), &policy).fire);

    tokio::time::advance(std::time::Duration::from_secs(60 * 60)).await;
    assert!(step_with(&mut d, &price("80"), clock_now(start), &policy).fire);
    assert_eq!(d.reference_price, Some(eur("80")));
}

/// A seller nudging the price by 0.1 around the threshold every minute
/// for 100 minutes: with the default 30-minute cooldown the user hears
/// about it at most once per cooldown, not 50 times.
#[tokio::test(start_paused = true)]
async fn price_wiggles_around_the_threshold_do_not_flood() {
    let start = tokio::time::Instant::now();
    let policy = AlertPolicy::default();
    let wiggle = |i: usize| {
        if i.is_multiple_of(2) {
            price("99.9")
        } else {
            price("100.0")
        }
    };

    let mut a = alert(below("100"));
    let mut fired_at = Vec::new();
    for i in 0..100 {
        let now = clock_now(start);
        if step_with(&mut a, &wiggle(i), now, &policy).fire {
            fired_at.push(now);
        }
        tokio::time::advance(std::time::Duration::from_secs(60)).await;
    }
    let minutes: Vec<i64> = fired_at
        .iter()
        .map(|t| (*t - base()).num_minutes())
        .collect();
    assert_eq!(minutes, [0, 30, 60, 90]);
    assert!(fired_at.windows(2).all(|w| w[1] - w[0] >= policy.cooldown));

    // Without the cooldown the same sequence would fire 50 times.
    let mut a = alert(below("100"));
    let t = base();
    let fires = (0..100)
        .filter(|&i| step(&mut a, &wiggle(i), t + Duration::minutes(i as i64)).fire)
        .count();
    assert_eq!(fires, 50);
}

/// Regression: a negative amount at the far end of Decimal's range (a
/// forged queue message) overflowed the subtraction and panicked.
#[test]
fn drops_at_the_ends_of_decimals_range_do_not_panic() {
    let a = Alert {
        reference_price: Some(eur("79228162514264337593543950335")),
        ..alert(drop_rule("10"))
    };
    let e = evaluate(
        &a,
        &price("-79228162514264337593543950335"),
        base(),
        &no_cooldown(),
    );
    assert!(!e.fire);
    let a = Alert {
        reference_price: Some(eur("100")),
        ..a
    };
    let e = evaluate(
        &a,
        &price("-79228162514264337593543950335"),
        base(),
        &no_cooldown(),
    );
    assert!(!e.fire);
    assert!(evaluate(&a, &price("50"), base(), &no_cooldown()).fire);
}
