//! The EventBridge bus adapter against moto: a custom bus with a rule that
//! routes pricehound's events to an SQS queue, as template.yaml wires the
//! notifications queue.

use std::collections::HashMap;
use std::str::FromStr;

use aws_sdk_eventbridge::types::Target;
use aws_sdk_sqs::types::QueueAttributeName;
use pricehound::bus::eventbridge::EventBridgeBus;
use pricehound::bus::{Bus, BusError, DomainEvent, EVENT_SOURCE, PriceChanged};
use pricehound::domain::{Availability, SeriesId};
use pricehound_tests::conformance::{at, money, obs};
use pricehound_tests::services::{
    create_queue, eventbridge_client, receive_bodies, sqs_client, unique_name,
};
use rust_decimal::Decimal;

fn price_changed(n: usize) -> DomainEvent {
    let o = obs(
        &format!("eb:item-{n}"),
        "Золото 585 — ذهب",
        at(n as i64),
        &format!("{n}.5"),
        n as u64,
    );
    DomainEvent::PriceChanged(PriceChanged {
        item_id: o.item_id.clone(),
        source_id: o.source_id.clone(),
        item_name: o.item_name.clone(),
        series: n
            .is_multiple_of(3)
            .then(|| SeriesId::new("gold-18k").unwrap()),
        new_item: n % 4 == 1,
        old_price: n.is_multiple_of(2).then(|| money("10", "EUR")),
        // Every fifth event: the item went out of stock, no price shown.
        new_price: (n % 5 != 4).then(|| o.price.clone()).flatten(),
        old_availability: (n % 4 != 1).then_some(Availability::InStock),
        availability: if n % 5 == 4 {
            Availability::OutOfStock
        } else {
            Availability::InStock
        },
        percent_change: n
            .is_multiple_of(2)
            .then(|| Decimal::from_str("-12.25").unwrap()),
        observation_id: o.id.clone(),
        observed_at: o.observed_at,
        link: format!("https://t.me/eb/{n}"),
    })
}

/// A bus whose rule sends every pricehound event to a fresh queue.
async fn bus_to_queue() -> (EventBridgeBus, aws_sdk_sqs::Client, String) {
    let eb = eventbridge_client().await;
    let sqs = sqs_client().await;
    let bus_name = unique_name("bus");
    eb.create_event_bus().name(&bus_name).send().await.unwrap();
    let queue_url = create_queue(&sqs, "notify").await;
    let attrs = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let queue_arn = attrs
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .expect("queue ARN")
        .clone();
    let rule = unique_name("rule");
    eb.put_rule()
        .name(&rule)
        .event_bus_name(&bus_name)
        .event_pattern(format!(r#"{{"source":["{EVENT_SOURCE}"]}}"#))
        .send()
        .await
        .unwrap();
    eb.put_targets()
        .rule(&rule)
        .event_bus_name(&bus_name)
        .targets(
            Target::builder()
                .id("notify")
                .arn(queue_arn)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    (EventBridgeBus::new(eb, bus_name), sqs, queue_url)
}

#[tokio::test]
async fn publishes_every_event_exactly_once() {
    let (bus, sqs, queue_url) = bus_to_queue().await;
    // 23: three PutEvents calls of at most 10.
    let events: Vec<DomainEvent> = (0..23).map(price_changed).collect();
    bus.publish(&events).await.unwrap();

    let bodies = receive_bodies(&sqs, &queue_url, events.len()).await;
    assert_eq!(bodies.len(), events.len(), "no event delivered twice");
    let mut by_detail: HashMap<String, serde_json::Value> = HashMap::new();
    for body in &bodies {
        let envelope: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(envelope["source"], EVENT_SOURCE);
        assert_eq!(envelope["detail-type"], "PriceChanged");
        let key = envelope["detail"]["observation_id"]
            .as_str()
            .expect("detail carries the observation id")
            .to_string();
        assert!(
            by_detail.insert(key, envelope["detail"].clone()).is_none(),
            "duplicate event"
        );
    }
    for event in &events {
        let DomainEvent::PriceChanged(pc) = event;
        let want: serde_json::Value = serde_json::from_str(&event.detail_json()).unwrap();
        assert_eq!(
            by_detail.get(pc.observation_id.as_str()),
            Some(&want),
            "event {} arrived with its detail",
            pc.observation_id
        );
        // The detail parses back into the same event: money stays decimal.
        let back: PriceChanged = serde_json::from_value(want).unwrap();
        assert_eq!(&back, pc);
    }
}

#[tokio::test]
async fn publishing_nothing_is_ok() {
    let (bus, _, _) = bus_to_queue().await;
    bus.publish(&[]).await.unwrap();
}

#[tokio::test]
async fn publishing_to_a_missing_bus_is_an_error() {
    let bus_name = unique_name("no-such-bus");
    let bus = EventBridgeBus::new(eventbridge_client().await, bus_name.clone());
    let err = bus
        .publish(&[price_changed(1), price_changed(2)])
        .await
        .expect_err("a missing bus must not look like success");
    assert!(
        matches!(
            err,
            BusError::Backend(_) | BusError::Partial { count: 2, .. }
        ),
        "got {err:?}"
    );
    assert!(err.to_string().contains(&bus_name), "{err}");
}
