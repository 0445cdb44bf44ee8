//! The whole AWS chain on the binaries `sam build` made, each run through
//! a Lambda Runtime API (pricehound_tests::lambda_runtime) and wired as
//! template.yaml wires them:
//!
//!   schedule input ─▶ scrape ─▶ ObservationsQueue (moto) ─▶ ingest ─▶ table (dynalite)
//!   table stream ─▶ events ─▶ PriceEventsBus (moto) ─▶ PriceChangedRule ─▶ NotificationsQueue
//!   NotificationsQueue ─▶ notify ─▶ Bot API stand-in
//!   Function URL webhook ─▶ api (the user's /alert)
//!
//! What Lambda itself does between them is done here, as Lambda does it:
//! the SQS event source mappings (batches of the template's BatchSize,
//! ReportBatchItemFailures: the failed records stay on the queue and come
//! back, the rest are deleted) and the DynamoDB stream (dynalite has no
//! streams: the table is read before and after each ingest invocation, and
//! every item that changed becomes a NEW_AND_OLD_IMAGES record, filtered by
//! the template's FilterCriteria). Queue settings, the rule's pattern and
//! target, batch sizes, the schedule's input and each function's
//! environment come from template.yaml; only the endpoints, the table and
//! queue names and the Bot API address are the test's.
//!
//! Run by scripts/test after `scripts/sam-local build`.

use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::MessageSystemAttributeName;
use pricehound::domain::user::UserId;
use pricehound::domain::{ItemId, Money};
use pricehound::store::{AlertStore, HistoryQuery, Store};
use pricehound_tests::bot::TOKEN;
use pricehound_tests::deployment::{Deployment, FUNCTIONS, sam_built};
use pricehound_tests::lambda_runtime::{LambdaProcess, Outcome};
use pricehound_tests::pages::{Answer, Scripted, channel_page, channel_sources_toml};
use pricehound_tests::services::{REGION, unique_name};
use pricehound_tests::telegram_standin::TelegramStandin;
use pricehound_tests::template::get_att;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The webhook secret the api function reads from SSM.
const SECRET: &str = "chain-webhook-secret_0123456789abc";
/// The user who sets the alert (a private chat: chat id = user id).
const CHAT: i64 = 700_800_900;
const CHANNEL: &str = "bijouterie_or_dz";
const ITEM: &str = "tg-bijouterie-dz:or-18k-casse";

/// The stack made locally and the five functions running.
struct Chain {
    stack: Deployment,
    scrape: LambdaProcess,
    ingest: LambdaProcess,
    events: LambdaProcess,
    notify: LambdaProcess,
    api: LambdaProcess,
    /// The stream records of the last ingest round (to deliver them again).
    last_stream: Vec<Value>,
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Algiers jeweler's channel as sources.toml reads it, from `pages`.
fn sources_file(dir: &Path, pages: &url::Url) -> PathBuf {
    let path = dir.join("sources.toml");
    std::fs::write(&path, channel_sources_toml(pages, Some("tg-bijouterie-dz"))).unwrap();
    path
}

impl Chain {
    async fn start(pages: &url::Url, standin: &TelegramStandin) -> Chain {
        let stack = Deployment::create(TOKEN, SECRET).await;
        let home = std::env::temp_dir().join(unique_name("chain"));
        std::fs::create_dir_all(&home).unwrap();
        let extra = [
            ("PRICEHOUND_TELEGRAM_API", standin.base_url()),
            (
                "PRICEHOUND_SOURCES_FILE",
                sources_file(&home, pages).display().to_string(),
            ),
        ];
        let mut functions = Vec::new();
        for function in FUNCTIONS {
            let timeout = stack
                .template
                .function_setting(function, "Timeout")
                .unwrap();
            let memory = stack
                .template
                .function_setting(function, "MemorySize")
                .unwrap();
            functions.push(
                LambdaProcess::start(
                    function,
                    &sam_built(function),
                    &stack.environment(function, &home, &extra),
                    Duration::from_secs(timeout),
                    memory,
                    home.join(format!("{function}.log")),
                )
                .await,
            );
        }
        let [scrape, ingest, events, notify, api]: [LambdaProcess; 5] =
            functions.try_into().ok().unwrap();
        Chain {
            stack,
            scrape,
            ingest,
            events,
            notify,
            api,
            last_stream: Vec::new(),
        }
    }

    /// The scheduled run of the gold group, with the schedule's own input.
    async fn scrape_gold(&mut self) -> Value {
        let input = &self
            .stack
            .template
            .event_source("ScrapeFunction", "ScheduleGold")["Input"];
        let input: Value = serde_json::from_str(input.as_str().unwrap()).unwrap();
        self.scrape.invoke(&input).await.response("scrape")
    }

    /// The event source mapping of `function`'s SQS event `event`: batches
    /// of the template's size until the queue is empty; records the
    /// function reports failed stay and come back (at once here: Lambda
    /// waits for the visibility timeout), the rest are deleted. Returns
    /// the bodies of the invocations' records, in order.
    async fn deliver_queue(&mut self, function: &str, event: &str) -> Delivered {
        let props = self.stack.template.event_source(function, event);
        let queue_id = get_att(&props["Queue"]).unwrap().resource;
        let batch = props["BatchSize"].as_u64().unwrap_or(10) as i32;
        let queue = &self.stack.queues[&queue_id];
        let mut delivered = Delivered::default();
        for _ in 0..50 {
            let got = self
                .stack
                .sqs
                .receive_message()
                .queue_url(&queue.url)
                .max_number_of_messages(batch)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .send()
                .await
                .unwrap();
            let messages = got.messages.unwrap_or_default();
            if messages.is_empty() {
                return delivered;
            }
            let records: Vec<Value> = messages
                .iter()
                .map(|m| {
                    let attrs: serde_json::Map<String, Value> = m
                        .attributes()
                        .map(|a| {
                            a.iter()
                                .map(|(k, v)| (k.as_str().to_string(), json!(v)))
                                .collect()
                        })
                        .unwrap_or_default();
                    json!({
                        "messageId": m.message_id(),
                        "receiptHandle": m.receipt_handle(),
                        "body": m.body(),
                        "attributes": attrs,
                        "messageAttributes": {},
                        "md5OfBody": m.md5_of_body(),
                        "eventSource": "aws:sqs",
                        "eventSourceARN": queue.arn,
                        "awsRegion": REGION,
                    })
                })
                .collect();
            let process = match function {
                "IngestFunction" => &mut self.ingest,
                "NotifyFunction" => &mut self.notify,
                other => panic!("no SQS event source for {other}"),
            };
            let failed: Vec<String> = match process.invoke(&json!({ "Records": records })).await {
                Outcome::Response(r) => r["batchItemFailures"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["itemIdentifier"].as_str().map(str::to_string))
                    .collect(),
                // A failed invocation returns the whole batch to the queue.
                Outcome::Error(_) => messages
                    .iter()
                    .filter_map(|m| m.message_id().map(str::to_string))
                    .collect(),
            };
            delivered.invocations += 1;
            for m in &messages {
                let body = m.body().unwrap_or_default().to_string();
                let handle = m.receipt_handle().unwrap();
                if failed.iter().any(|id| Some(id.as_str()) == m.message_id()) {
                    delivered.failed.push(body);
                    self.stack
                        .sqs
                        .change_message_visibility()
                        .queue_url(&queue.url)
                        .receipt_handle(handle)
                        .visibility_timeout(0)
                        .send()
                        .await
                        .unwrap();
                } else {
                    delivered.ok.push(body);
                    self.stack
                        .sqs
                        .delete_message()
                        .queue_url(&queue.url)
                        .receipt_handle(handle)
                        .send()
                        .await
                        .unwrap();
                }
            }
        }
        panic!("{queue_id} never emptied")
    }

    /// Every record of the table, by key.
    async fn snapshot(&self) -> BTreeMap<(String, String), HashMap<String, AttributeValue>> {
        let mut all = BTreeMap::new();
        let mut start = None;
        loop {
            let page = self
                .stack
                .ddb
                .scan()
                .table_name(&self.stack.table)
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .unwrap();
            for item in page.items.unwrap_or_default() {
                let key = |k: &str| match item.get(k) {
                    Some(AttributeValue::S(s)) => s.clone(),
                    _ => String::new(),
                };
                all.insert((key("pk"), key("sk")), item);
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return all;
            }
        }
    }

    /// Ingest's queue delivered, and what that changed in the table handed
    /// to the events function as its stream mapping would.
    async fn ingest_round(&mut self) -> Delivered {
        let before = self.snapshot().await;
        let delivered = self.deliver_queue("IngestFunction", "Observations").await;
        let after = self.snapshot().await;
        let stream = self
            .stack
            .template
            .event_source("EventsFunction", "LatestChanges");
        let filters: Vec<Value> = stream["FilterCriteria"]["Filters"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
            .collect();
        let mut records = Vec::new();
        for (key, new) in &after {
            let old = before.get(key);
            if old == Some(new) {
                continue;
            }
            let image = |item: &HashMap<String, AttributeValue>| {
                serde_json::to_value(serde_dynamo::Item::from(item.clone())).unwrap()
            };
            let seq = format!("{:021}", self.last_stream.len() + records.len() + 1);
            let mut change = json!({
                "Keys": {"pk": {"S": key.0}, "sk": {"S": key.1}},
                "NewImage": image(new),
                "SequenceNumber": seq,
                "SizeBytes": 100,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            });
            if let Some(old) = old {
                change["OldImage"] = image(old);
            }
            let record = json!({
                "eventID": seq,
                "eventName": if old.is_some() { "MODIFY" } else { "INSERT" },
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": change,
                "eventSourceARN": format!("arn:aws:dynamodb:{REGION}:123456789012:table/{}/stream/2026-12-04T00:00:00.000", self.stack.table),
            });
            if filters.iter().any(|f| matches_filter(f, &record)) {
                records.push(record);
            }
        }
        self.stream(records.clone()).await;
        self.last_stream = records;
        delivered
    }

    /// The events function fed `records` in batches of the mapping's size;
    /// a reported failure is retried from that record on.
    async fn stream(&mut self, mut records: Vec<Value>) {
        let props = self
            .stack
            .template
            .event_source("EventsFunction", "LatestChanges");
        let batch = props["BatchSize"].as_u64().unwrap_or(100) as usize;
        let mut retries = 0;
        while !records.is_empty() {
            let take = records.len().min(batch);
            let chunk: Vec<Value> = records[..take].to_vec();
            let answer = self
                .events
                .invoke(&json!({ "Records": chunk }))
                .await
                .response("events");
            let failed = answer["batchItemFailures"]
                .as_array()
                .and_then(|f| f.first())
                .and_then(|f| f["itemIdentifier"].as_str())
                .map(str::to_string);
            match failed {
                None => {
                    records.drain(..take);
                }
                Some(seq) => {
                    retries += 1;
                    assert!(retries < 5, "the events function keeps failing: {answer}");
                    let at = records
                        .iter()
                        .position(|r| r["dynamodb"]["SequenceNumber"] == seq.as_str())
                        .unwrap();
                    records.drain(..at);
                }
            }
        }
    }

    /// The notify function fed from the notifications queue until it stays
    /// empty (a planned notification is put back on the queue and sent on
    /// its next delivery).
    async fn notify_round(&mut self) -> usize {
        let mut invocations = 0;
        let mut quiet = 0;
        while quiet < 3 {
            let d = self.deliver_queue("NotifyFunction", "Notifications").await;
            invocations += d.invocations;
            if d.invocations == 0 {
                quiet += 1;
                tokio::time::sleep(Duration::from_millis(300)).await;
            } else {
                quiet = 0;
            }
        }
        invocations
    }

    /// A Telegram update through the Function URL, as Telegram posts it.
    async fn webhook(&mut self, update_id: i64, text: &str) -> Value {
        let sample =
            std::fs::read_to_string(root().join("events/api-telegram-webhook-start.json")).unwrap();
        let mut event: Value = serde_json::from_str(&sample).unwrap();
        event["headers"]["x-telegram-bot-api-secret-token"] = json!(SECRET);
        let update = json!({
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 1_795_255_200,
                "chat": {"id": CHAT, "type": "private", "first_name": "Amina"},
                "from": {"id": CHAT, "is_bot": false, "first_name": "Amina", "language_code": "fr"},
                "text": text,
            }
        });
        event["body"] = json!(update.to_string());
        event["isBase64Encoded"] = json!(false);
        let answer = self.api.invoke(&event).await.response("api");
        assert_eq!(answer["statusCode"], 200, "{answer}");
        serde_json::from_str(answer["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
    }

    async fn dlq_bodies(&self, queue: &str) -> Vec<String> {
        let got = self
            .stack
            .sqs
            .receive_message()
            .queue_url(&self.stack.queues[queue].url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        got.messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.body)
            .collect()
    }

    async fn history_len(&self) -> usize {
        let item = ItemId::new(ITEM).unwrap();
        self.stack
            .dynamo
            .history(
                &item,
                &HistoryQuery {
                    limit: 100,
                    ..Default::default()
                },
            )
            .await
            .unwrap()
            .items
            .len()
    }

    async fn latest(&self) -> Option<Money> {
        let item = ItemId::new(ITEM).unwrap();
        self.stack
            .dynamo
            .latest_price(&item)
            .await
            .unwrap()
            .and_then(|l| l.price)
    }
}

#[derive(Default, Debug)]
struct Delivered {
    invocations: usize,
    ok: Vec<String>,
    failed: Vec<String>,
}

/// Lambda's event filter for the patterns the template uses: an object
/// matches when each key matches, an array of values when the value is one
/// of them.
fn matches_filter(pattern: &Value, value: &Value) -> bool {
    match pattern {
        Value::Object(keys) => keys
            .iter()
            .all(|(k, p)| value.get(k).is_some_and(|v| matches_filter(p, v))),
        Value::Array(options) => options.iter().any(|o| o == value),
        other => other == value,
    }
}

fn post(text: &str) -> String {
    text.replace('\n', "<br/>")
}

fn sends_to_chat(standin: &TelegramStandin) -> Vec<String> {
    standin
        .calls_to("sendMessage")
        .into_iter()
        .filter(|c| c.params["chat_id"] == CHAT && !c.failed)
        .map(|c| c.params["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_jewelers_new_price_reaches_the_user_who_set_an_alert_exactly_once() {
    let started = Instant::now();
    let pages = Scripted::default();
    let page_path = format!("/s/{CHANNEL}");
    pages.set(
        &page_path,
        Answer::html(channel_page(
            CHANNEL,
            &[(
                101,
                &post("Prix du jour\nOr 18K cassé : 13 740 DA\nOr 24K : 17 900 DA"),
                "2026-12-04T08:00:00+00:00",
            )],
            None,
        )),
    );
    let base = pages.start().await;
    let standin = TelegramStandin::start(TOKEN).await;
    let mut chain = Chain::start(&base, &standin).await;

    // 1. The schedule fires: one post, two prices, on the queue.
    let report = chain.scrape_gold().await;
    assert_eq!(report["group"], "gold", "{report}");
    assert_eq!(report["sources"][0]["observations"], 2, "{report}");
    // A message no scraper wrote (anyone with the queue's ARN and a bad
    // policy could): it fails alone, comes back, and ends in the DLQ.
    let observations = chain.stack.queues["ObservationsQueue"].url.clone();
    chain
        .stack
        .sqs
        .send_message()
        .queue_url(&observations)
        .message_body(r#"{"item_id":"../../etc","price":{"amount":"1e999"}}"#)
        .send()
        .await
        .unwrap();

    // 2. Ingest: the prices stored, the stranger retried until the redrive
    // policy moves it aside.
    let delivered = chain.ingest_round().await;
    assert_eq!(delivered.ok.len(), 2, "{delivered:?}");
    let max_receives =
        chain.stack.template.properties("ObservationsQueue")["RedrivePolicy"]["maxReceiveCount"]
            .as_u64()
            .unwrap() as usize;
    assert_eq!(delivered.failed.len(), max_receives, "{delivered:?}");
    assert_eq!(
        chain.dlq_bodies("ObservationsDLQ").await.len(),
        1,
        "the bad message is kept in the dead-letter queue"
    );
    assert_eq!(chain.latest().await.unwrap().amount.to_string(), "13740");
    assert_eq!(chain.history_len().await, 1);
    assert_eq!(chain.last_stream.len(), 2, "two new items in the stream");
    // Two new items reach notify through the bus and its rule; with no
    // alerts yet, it sends nothing.
    assert_eq!(chain.notify_round().await, 1, "one batch of two events");
    assert!(sends_to_chat(&standin).is_empty());

    // SQS delivers a message twice now and then: the copy writes nothing.
    let copy = delivered.ok[0].clone();
    chain
        .stack
        .sqs
        .send_message()
        .queue_url(&observations)
        .message_body(copy)
        .send()
        .await
        .unwrap();
    let again = chain.ingest_round().await;
    assert_eq!((again.ok.len(), again.failed.len()), (1, 0));
    assert_eq!(chain.history_len().await, 1, "no second history entry");

    // 3. The user sets an alert through the webhook.
    let hello = chain.webhook(1001, "/start").await;
    assert_eq!(hello["method"], "sendMessage", "{hello}");
    let set = chain.webhook(1002, "/alert or 18k cassé below 13000").await;
    let alerts = chain.stack.dynamo.alerts(UserId(CHAT)).await.unwrap();
    assert_eq!(alerts.len(), 1, "the alert is stored: {set}");
    assert!(alerts[0].active && alerts[0].armed);

    // 4. The jeweler posts a lower price; the next run reads only the new post.
    pages.set(
        &page_path,
        Answer::html(channel_page(
            CHANNEL,
            &[
                (
                    101,
                    &post("Prix du jour\nOr 18K cassé : 13 740 DA\nOr 24K : 17 900 DA"),
                    "2026-12-04T08:00:00+00:00",
                ),
                (
                    102,
                    &post("Nouveau prix\nOr 18K cassé : 12 900 DA"),
                    "2026-12-04T11:00:00+00:00",
                ),
            ],
            None,
        )),
    );
    let report = chain.scrape_gold().await;
    assert_eq!(report["sources"][0]["observations"], 1, "{report}");
    let delivered = chain.ingest_round().await;
    assert_eq!((delivered.ok.len(), delivered.failed.len()), (1, 0));
    assert_eq!(chain.latest().await.unwrap().amount.to_string(), "12900");
    assert_eq!(chain.history_len().await, 2);
    assert_eq!(chain.last_stream.len(), 1, "one change of LATEST");

    // 5. EventBridge's rule put the change on the notifications queue;
    // notify plans the alert and sends it.
    chain.notify_round().await;
    let sent = sends_to_chat(&standin);
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(
        sent[0].contains("Or 18K cassé") && sent[0].contains("-6.11%"),
        "{}",
        sent[0]
    );
    // Amounts are grouped with (no-break) spaces: compare without them.
    let compact: String = sent[0].chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        compact.contains("13740DZD→<b>12900DZD</b>"),
        "the old and the new price: {}",
        sent[0]
    );

    // 6. The stream delivers the same change again (at least once): the
    // alert, disarmed, stays quiet.
    let replay = chain.last_stream.clone();
    chain.stream(replay).await;
    assert!(
        chain.notify_round().await >= 1,
        "the repeated event reached notify"
    );
    assert_eq!(sends_to_chat(&standin).len(), 1, "exactly once");
    let alerts = chain.stack.dynamo.alerts(UserId(CHAT)).await.unwrap();
    assert!(alerts[0].active && !alerts[0].armed, "{alerts:?}");

    // Nothing else went astray.
    for dlq in ["NotificationsDLQ", "PriceChangedRuleDLQ", "EventsDLQ"] {
        assert!(chain.dlq_bodies(dlq).await.is_empty(), "{dlq}");
    }
    eprintln!("the whole chain took {:?}", started.elapsed());
}
