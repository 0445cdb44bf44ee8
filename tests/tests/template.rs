//! template.yaml agrees with sources.toml and keeps the guarantees the code
//! relies on (redrive, visibility timeout, batch item failures, the
//! PriceChanged route to the notifier, least-privilege policies).

use pricehound::alerts::rules::AlertPolicy;
use pricehound::bus::EVENT_SOURCE;
use pricehound::sources::SourcesConfig;
use serde_norway::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn template() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml");
    serde_norway::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resources(t: &Value) -> &serde_norway::Mapping {
    t["Resources"].as_mapping().unwrap()
}

#[test]
fn one_schedule_per_source_group_with_the_same_expression() {
    let t = template();
    let scrape = &resources(&t)["ScrapeFunction"]["Properties"]["Events"];
    let mut in_template = BTreeMap::new();
    for (_, ev) in scrape.as_mapping().unwrap() {
        if ev["Type"] != "ScheduleV2" {
            continue;
        }
        let input: serde_json::Value =
            serde_json::from_str(ev["Properties"]["Input"].as_str().unwrap()).unwrap();
        let group = input["group"].as_str().unwrap().to_string();
        let expr = ev["Properties"]["ScheduleExpression"]
            .as_str()
            .unwrap()
            .to_string();
        assert!(
            in_template.insert(group.clone(), expr).is_none(),
            "group {group} scheduled twice"
        );
    }
    let sources =
        SourcesConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../sources.toml"))
            .unwrap();
    let in_sources: BTreeMap<String, String> = sources
        .groups
        .iter()
        .map(|(name, g)| (name.clone(), g.schedule.expression().to_string()))
        .collect();
    assert_eq!(
        in_template, in_sources,
        "template.yaml ScheduleV2 events must match [groups] in sources.toml"
    );
}

#[test]
fn queue_redrives_to_a_dlq_and_outlasts_the_ingest_timeout() {
    let t = template();
    let r = resources(&t);
    let q = &r["ObservationsQueue"]["Properties"];
    assert_eq!(q["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(5));
    let ingest_timeout = r["IngestFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().unwrap();
    assert!(
        visibility >= 6 * ingest_timeout,
        "{visibility} < 6 x {ingest_timeout}"
    );
    let sqs = &r["IngestFunction"]["Properties"]["Events"]["Observations"]["Properties"];
    assert_eq!(sqs["FunctionResponseTypes"][0], "ReportBatchItemFailures");
    assert!(sqs["BatchSize"].as_u64().unwrap() <= 10);
}

#[test]
fn functions_are_arm64_al2023_cargo_lambda_builds() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    // arm64 unless a local run on x86_64 overrides it (scripts/sam-local).
    let (tag, param) = intrinsic(&globals["Architectures"][0]).expect("a !Ref");
    assert_eq!(
        (tag.as_str(), param.as_str()),
        ("Ref", Some("Architecture"))
    );
    assert_eq!(t["Parameters"]["Architecture"]["Default"], "arm64");
    for name in [
        "ScrapeFunction",
        "IngestFunction",
        "NotifyFunction",
        "ApiFunction",
        "EventsFunction",
    ] {
        let f = &resources(&t)[name];
        assert_eq!(f["Metadata"]["BuildMethod"], "rust-cargolambda", "{name}");
        // Under BuildProperties: SAM hands only those to cargo-lambda.
        let bin = f["Metadata"]["BuildProperties"]["Binary"].as_str().unwrap();
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../functions/{bin}/src/main.rs"))
                .exists(),
            "{name} builds binary {bin}, which must be functions/{bin}"
        );
    }
    let url = &resources(&t)["ApiFunction"]["Properties"]["FunctionUrlConfig"];
    assert_eq!(url["AuthType"], "NONE");
    let table = &resources(&t)["Table"]["Properties"];
    assert_eq!(table["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        table["TimeToLiveSpecification"]["AttributeName"],
        "expires_at"
    );
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
}

/// The tag and the value of a CloudFormation intrinsic such as
/// `!GetAtt NotificationsQueue.Arn` (`("GetAtt", "NotificationsQueue.Arn")`).
fn intrinsic(v: &Value) -> Option<(String, &Value)> {
    match v {
        Value::Tagged(t) => Some((
            t.tag.to_string().trim_start_matches('!').to_string(),
            &t.value,
        )),
        _ => None,
    }
}

fn is_ref(v: &Value, name: &str) -> bool {
    intrinsic(v).is_some_and(|(tag, v)| tag == "Ref" && v == name)
}

fn is_get_att(v: &Value, what: &str) -> bool {
    intrinsic(v).is_some_and(|(tag, v)| tag == "GetAtt" && v == what)
}

/// A scalar or a list of them, as IAM and event patterns allow.
fn strings(v: &Value) -> Vec<&Value> {
    match v.as_sequence() {
        Some(seq) => seq.iter().collect(),
        None => vec![v],
    }
}

#[test]
fn price_changed_events_reach_the_notifications_queue_and_only_from_their_rule() {
    let t = template();
    let r = resources(&t);
    let rules: Vec<&str> = r
        .iter()
        .filter(|(_, res)| {
            res["Type"] == "AWS::Events::Rule"
                && res["Properties"]["Targets"]
                    .as_sequence()
                    .is_some_and(|ts| {
                        ts.iter()
                            .any(|x| is_get_att(&x["Arn"], "NotificationsQueue.Arn"))
                    })
        })
        .map(|(name, _)| name.as_str().unwrap())
        .collect();
    assert_eq!(
        rules.len(),
        1,
        "one rule targets NotificationsQueue: {rules:?}"
    );
    let rule_name = rules[0];
    let rule = &r[rule_name]["Properties"];
    assert!(
        is_ref(&rule["EventBusName"], "PriceEventsBus"),
        "{:?}",
        rule["EventBusName"]
    );
    assert_ne!(rule["State"], "DISABLED");
    let pattern = &rule["EventPattern"];
    assert_eq!(strings(&pattern["source"]), vec![EVENT_SOURCE]);
    let change = pricehound::bus::DomainEvent::PriceChanged(
        serde_json::from_value(price_changed_json()).unwrap(),
    );
    assert_eq!(strings(&pattern["detail-type"]), vec![change.detail_type()]);
    let targets = rule["Targets"].as_sequence().unwrap();
    assert_eq!(targets.len(), 1, "{targets:?}");
    // No InputPath/InputTransformer: the queue gets the whole envelope, which
    // is what the notifier reads.
    for key in ["Input", "InputPath", "InputTransformer"] {
        assert!(
            targets[0].get(key).is_none(),
            "the rule's target sets {key}"
        );
    }

    // The queue policy: events.amazonaws.com may send, only for this rule.
    let policies: Vec<&Value> = r
        .values()
        .filter(|res| {
            res["Type"] == "AWS::SQS::QueuePolicy"
                && strings(&res["Properties"]["Queues"])
                    .iter()
                    .any(|q| is_ref(q, "NotificationsQueue"))
        })
        .collect();
    assert_eq!(policies.len(), 1, "one QueuePolicy on NotificationsQueue");
    let statements = policies[0]["Properties"]["PolicyDocument"]["Statement"]
        .as_sequence()
        .unwrap();
    let from_events: Vec<&Value> = statements
        .iter()
        .filter(|s| s["Effect"] == "Allow" && s["Principal"]["Service"] == "events.amazonaws.com")
        .collect();
    assert_eq!(from_events.len(), 1, "{statements:?}");
    let s = from_events[0];
    assert_eq!(strings(&s["Action"]), vec!["sqs:SendMessage"]);
    assert!(
        is_get_att(&s["Resource"], "NotificationsQueue.Arn"),
        "{:?}",
        s["Resource"]
    );
    let source_arn = s["Condition"]["ArnEquals"]
        .get("aws:SourceArn")
        .or_else(|| s["Condition"]["ArnLike"].get("aws:SourceArn"))
        .expect("the statement is conditioned on aws:SourceArn");
    assert!(
        is_get_att(source_arn, &format!("{rule_name}.Arn")),
        "{source_arn:?}"
    );
}

/// A PriceChanged as ingest publishes it, to check the pattern against the
/// code's detail-type.
fn price_changed_json() -> serde_json::Value {
    serde_json::json!({
        "item_id": "tg-bijouterie-dz:or-18k-casse",
        "source_id": "tg-bijouterie-dz",
        "item_name": "Or 18K cassé",
        "new_item": false,
        "old_price": {"amount": "13740", "currency": "DZD"},
        "new_price": {"amount": "12900", "currency": "DZD"},
        "availability": "unknown",
        "observation_id": "0123456789abcdef0123456789abcdef",
        "observed_at": "2026-11-21T08:00:00Z",
        "link": "https://t.me/bijouterie_or_dz/121"
    })
}

#[test]
fn notifications_queue_redrives_to_a_dlq_and_outlasts_the_notify_timeout() {
    let t = template();
    let r = resources(&t);
    let q = &r["NotificationsQueue"]["Properties"];
    assert_eq!(q["RedrivePolicy"]["maxReceiveCount"].as_u64(), Some(5));
    assert!(is_get_att(
        &q["RedrivePolicy"]["deadLetterTargetArn"],
        "NotificationsDLQ.Arn"
    ));
    assert_eq!(r["NotificationsDLQ"]["Type"], "AWS::SQS::Queue");
    for queue in ["NotificationsQueue", "NotificationsDLQ"] {
        assert_eq!(
            r[queue]["Properties"]["SqsManagedSseEnabled"], true,
            "{queue}"
        );
    }
    let timeout = r["NotifyFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().unwrap();
    assert!(visibility >= 6 * timeout, "{visibility} < 6 x {timeout}");
    for (output, queue) in [
        ("NotificationsQueueUrl", "NotificationsQueue"),
        ("NotificationsDLQUrl", "NotificationsDLQ"),
    ] {
        assert!(
            is_ref(&t["Outputs"][output]["Value"], queue),
            "output {output}"
        );
    }
}

/// The notify function's SQS event source reading `queue`.
fn notify_source<'t>(t: &'t Value, queue: &str) -> &'t Value {
    let f = &resources(t)["NotifyFunction"]["Properties"];
    let found: Vec<&Value> = f["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS" && is_get_att(&e["Properties"]["Queue"], queue))
        .collect();
    assert_eq!(found.len(), 1, "one SQS event source on {queue}");
    &found[0]["Properties"]
}

#[test]
fn notify_reads_its_queue_with_batch_failures_and_at_most_two_at_once() {
    let t = template();
    let f = &resources(&t)["NotifyFunction"]["Properties"];
    let sqs = f["Events"]
        .as_mapping()
        .unwrap()
        .values()
        .filter(|e| e["Type"] == "SQS")
        .count();
    assert_eq!(sqs, 2, "notifications and track jobs");
    let p = notify_source(&t, "NotificationsQueue.Arn");
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec!["ReportBatchItemFailures"]
    );
    assert!(p["BatchSize"].as_u64().unwrap() <= 10);
    // ~25 messages/s per running notifier; SQS allows no fewer than 2.
    assert_eq!(p["ScalingConfig"]["MaximumConcurrency"].as_u64(), Some(2));
}

/// Track jobs (pasted links, each up to the 20 s page deadline) have a
/// queue and an event source of their own, and the notify reservation
/// holds both sources' pollers: however many jobs wait, alerts keep their
/// 2 instances.
#[test]
fn track_jobs_have_their_own_queue_source_and_room_beside_alerts() {
    let t = template();
    let r = resources(&t);
    let q = &r["TrackJobsQueue"]["Properties"];
    assert_eq!(r["TrackJobsQueue"]["Type"], "AWS::SQS::Queue");
    assert!(is_get_att(
        &q["RedrivePolicy"]["deadLetterTargetArn"],
        "TrackJobsDLQ.Arn"
    ));
    assert!(q["RedrivePolicy"]["maxReceiveCount"].as_u64().unwrap() >= 1);
    assert_eq!(r["TrackJobsDLQ"]["Type"], "AWS::SQS::Queue");
    for queue in ["TrackJobsQueue", "TrackJobsDLQ"] {
        assert_eq!(
            r[queue]["Properties"]["SqsManagedSseEnabled"], true,
            "{queue}"
        );
    }
    let timeout = r["NotifyFunction"]["Properties"]["Timeout"]
        .as_u64()
        .unwrap();
    let visibility = q["VisibilityTimeout"].as_u64().unwrap();
    assert!(visibility >= 6 * timeout, "{visibility} < 6 x {timeout}");
    // Messages outlive a visibility timeout, or a retry could never come.
    assert!(q["MessageRetentionPeriod"].as_u64().unwrap() > visibility);

    let p = notify_source(&t, "TrackJobsQueue.Arn");
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec!["ReportBatchItemFailures"]
    );
    // Jobs of a batch run at once, each up to the deadline (BotConfig).
    let batch = p["BatchSize"].as_u64().unwrap();
    let deadline = pricehound::telegram::bot::BotConfig::default()
        .track_deadline
        .as_secs();
    assert!((1..=5).contains(&batch), "BatchSize {batch}");
    assert!(deadline < timeout, "a job's deadline fits the timeout");
    assert_eq!(p["ScalingConfig"]["MaximumConcurrency"].as_u64(), Some(2));

    // Both sources' pollers fit in any reservation the parameter accepts.
    let alerts = notify_source(&t, "NotificationsQueue.Arn")["ScalingConfig"]["MaximumConcurrency"]
        .as_u64()
        .unwrap();
    let (param, declared) = parameter(
        &t,
        &r["NotifyFunction"]["Properties"]["ReservedConcurrentExecutions"],
        "notify",
    );
    assert_eq!(param, "NotifyReservedConcurrency");
    for bound in ["Default", "MinValue"] {
        let v = declared[bound].as_u64().unwrap();
        assert!(v >= alerts + 2, "{param} {bound} {v} < {alerts} + 2");
    }

    // Operators find both queues (and what was dead-lettered) in the outputs.
    for (output, queue) in [
        ("TrackJobsQueueUrl", "TrackJobsQueue"),
        ("TrackJobsDLQUrl", "TrackJobsDLQ"),
    ] {
        assert!(
            is_ref(&t["Outputs"][output]["Value"], queue),
            "output {output}"
        );
    }
}

/// Every SQS queue that is not itself a dead-letter queue redrives to one.
#[test]
fn every_queue_redrives_to_a_dead_letter_queue() {
    let t = template();
    let r = resources(&t);
    let mut dlqs = Vec::new();
    let mut queues = Vec::new();
    for (name, res) in r {
        if res["Type"] != "AWS::SQS::Queue" {
            continue;
        }
        let name = name.as_str().unwrap();
        match intrinsic(&res["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]) {
            Some((_, target)) => {
                let target = target.as_str().unwrap();
                let dlq = target.strip_suffix(".Arn").unwrap_or(target);
                assert_eq!(r[dlq]["Type"], "AWS::SQS::Queue", "{name} -> {dlq}");
                dlqs.push(dlq.to_string());
                queues.push(name.to_string());
            }
            None => assert!(
                name.ends_with("DLQ"),
                "{name} has no redrive policy and is not a DLQ"
            ),
        }
    }
    queues.sort();
    assert_eq!(
        queues,
        ["NotificationsQueue", "ObservationsQueue", "TrackJobsQueue"]
    );
    dlqs.sort();
    dlqs.dedup();
    assert_eq!(dlqs.len(), 3, "one DLQ per queue: {dlqs:?}");
}

/// The Function URL answers CORS itself (its headers override the
/// function's), so it follows the CorsOrigins parameter like the code.
#[test]
fn function_url_cors_follows_the_cors_origins_parameter() {
    let t = template();
    let api = &resources(&t)["ApiFunction"]["Properties"];
    let cors = &api["FunctionUrlConfig"]["Cors"];
    let (tag, split) = intrinsic(&cors["AllowOrigins"])
        .unwrap_or_else(|| panic!("AllowOrigins is not !Split: {:?}", cors["AllowOrigins"]));
    assert_eq!(tag, "Split");
    let split = split.as_sequence().unwrap();
    assert_eq!(split.len(), 2);
    assert_eq!(split[0], ",");
    assert!(is_ref(&split[1], "CorsOrigins"), "{:?}", split[1]);
    // The same parameter reaches the code (serve-equivalent CORS layer).
    assert!(is_ref(
        &api["Environment"]["Variables"]["PRICEHOUND_CORS_ORIGINS"],
        "CorsOrigins"
    ));
    let mut methods: Vec<&str> = strings(&cors["AllowMethods"])
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    methods.sort();
    assert_eq!(methods, ["GET", "HEAD"], "browsers only read the API");
    // Every value the parameter accepts splits into valid origins.
    let pattern = t["Parameters"]["CorsOrigins"]["AllowedPattern"]
        .as_str()
        .unwrap();
    assert!(pattern.contains(','), "a comma-separated list: {pattern}");
    assert_eq!(t["Parameters"]["CorsOrigins"]["Default"], "*");
}

#[test]
fn notify_gets_its_settings_from_the_template() {
    let t = template();
    let vars = &resources(&t)["NotifyFunction"]["Properties"]["Environment"]["Variables"];
    assert!(is_ref(
        &vars["PRICEHOUND_NOTIFY_QUEUE_URL"],
        "NotificationsQueue"
    ));
    assert!(is_ref(
        &vars["PRICEHOUND_BOT_TOKEN_PARAMETER"],
        "BotTokenParameter"
    ));
    assert!(
        vars.get("PRICEHOUND_BOT_TOKEN").is_none(),
        "the token stays in SSM"
    );
    // The table comes from Globals.
    assert!(is_ref(
        &t["Globals"]["Function"]["Environment"]["Variables"]["PRICEHOUND_TABLE"],
        "Table"
    ));
    // The flood limits' parameters default to the code's defaults.
    let defaults = AlertPolicy::default();
    for (var, default) in [
        (
            "PRICEHOUND_ALERT_COOLDOWN_MINUTES",
            defaults.cooldown.num_minutes(),
        ),
        ("PRICEHOUND_ALERT_DAILY_CAP", i64::from(defaults.daily_cap)),
    ] {
        let (tag, param) = intrinsic(&vars[var]).unwrap_or_else(|| panic!("{var} is not a !Ref"));
        assert_eq!(tag, "Ref", "{var}");
        let param = param.as_str().unwrap();
        let declared = &t["Parameters"][param];
        assert_eq!(declared["Type"], "Number", "{param}");
        assert_eq!(declared["Default"].as_i64(), Some(default), "{param}");
    }
}

#[test]
fn notify_policies_are_least_privilege() {
    let t = template();
    let f = &resources(&t)["NotifyFunction"]["Properties"];
    let mut actions = Vec::new();
    for policy in f["Policies"].as_sequence().unwrap() {
        let statements = policy["Statement"]
            .as_sequence()
            .unwrap_or_else(|| panic!("NotifyFunction policies are inline statements: {policy:?}"));
        for s in statements {
            assert_eq!(s["Effect"], "Allow");
            for a in strings(&s["Action"]) {
                let a = a.as_str().unwrap();
                assert!(!a.contains('*'), "wildcard action {a}");
                actions.push(a.to_string());
            }
            for res in strings(&s["Resource"]) {
                assert_ne!(res, "*", "wildcard resource in {s:?}");
                if let Some(sub) = intrinsic(res).filter(|(tag, _)| tag == "Sub") {
                    let sub = sub.1.as_str().unwrap();
                    assert!(
                        !sub.ends_with(":*") && !sub.ends_with("/*"),
                        "wildcard resource {sub}"
                    );
                }
            }
            if strings(&s["Action"])
                .iter()
                .any(|a| a.as_str().unwrap().starts_with("ssm:"))
            {
                let res = strings(&s["Resource"]);
                assert_eq!(res.len(), 1, "the token parameter only");
                let (_, sub) = intrinsic(res[0]).unwrap();
                assert!(
                    sub.as_str()
                        .unwrap()
                        .ends_with(":parameter${BotTokenParameter}"),
                    "{sub:?}"
                );
            }
        }
    }
    actions.sort();
    actions.dedup();
    assert_eq!(
        actions,
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "sqs:SendMessage",
            "ssm:GetParameter",
        ]
    );
}

#[test]
fn every_function_has_a_log_group_with_retention() {
    let t = template();
    let r = resources(&t);
    for (name, res) in r {
        if res["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let name = name.as_str().unwrap();
        let group = &r[format!("{name}LogGroup").as_str()];
        assert_eq!(
            group["Type"], "AWS::Logs::LogGroup",
            "{name} has no {name}LogGroup"
        );
        let (tag, path) = intrinsic(&group["Properties"]["LogGroupName"]).unwrap();
        assert_eq!(
            (tag.as_str(), path.as_str()),
            ("Sub", Some(format!("/aws/lambda/${{{name}}}").as_str()))
        );
        assert!(is_ref(
            &group["Properties"]["RetentionInDays"],
            "LogRetentionDays"
        ));
    }
}

/// The parameter a `!Ref` names, with its declaration.
fn parameter<'t>(t: &'t Value, v: &Value, what: &str) -> (String, &'t Value) {
    let (tag, name) = intrinsic(v).unwrap_or_else(|| panic!("{what} is not a !Ref: {v:?}"));
    assert_eq!(tag, "Ref", "{what}");
    let name = name.as_str().unwrap().to_string();
    let declared = &t["Parameters"][name.as_str()];
    assert!(
        declared.is_mapping(),
        "{what} refers to {name}, not a parameter"
    );
    (name, declared)
}

fn functions(t: &Value) -> Vec<(&str, &Value)> {
    resources(t)
        .iter()
        .filter(|(_, res)| res["Type"] == "AWS::Serverless::Function")
        .map(|(name, res)| (name.as_str().unwrap(), res))
        .collect()
}

#[test]
fn every_function_has_reserved_concurrency_from_a_parameter() {
    let t = template();
    let mut total = 0;
    let fns = functions(&t);
    assert_eq!(
        fns.len(),
        5,
        "{:?}",
        fns.iter().map(|f| f.0).collect::<Vec<_>>()
    );
    for (name, f) in fns {
        let (param, declared) = parameter(
            &t,
            &f["Properties"]["ReservedConcurrentExecutions"],
            &format!("{name}.ReservedConcurrentExecutions"),
        );
        assert_eq!(declared["Type"], "Number", "{param}");
        let default = declared["Default"]
            .as_u64()
            .unwrap_or_else(|| panic!("{param} has no default"));
        // 0 would throttle the function entirely.
        let min = declared["MinValue"]
            .as_u64()
            .unwrap_or_else(|| panic!("{param} has no MinValue"));
        assert!(
            min >= 1 && default >= min,
            "{param}: default {default}, MinValue {min}"
        );
        total += default;
    }
    // The account's default limit is 1000 concurrent executions, of which
    // at least 100 must stay unreserved: the defaults must deploy there.
    assert!(total <= 900, "the default reservations add up to {total}");
    let api = &resources(&t)["ApiFunction"]["Properties"];
    let (param, declared) = parameter(&t, &api["ReservedConcurrentExecutions"], "api");
    assert_eq!(param, "ApiReservedConcurrency");
    assert_eq!(declared["Default"].as_u64(), Some(20));
}

#[test]
fn queue_pollers_never_exceed_the_reservation() {
    let t = template();
    let mut checked = 0;
    for (name, f) in functions(&t) {
        let Some(events) = f["Properties"]["Events"].as_mapping() else {
            continue;
        };
        for ev in events.values().filter(|e| e["Type"] == "SQS") {
            let max = ev["Properties"]["ScalingConfig"]["MaximumConcurrency"]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}'s SQS event sets no MaximumConcurrency"));
            assert!(max >= 2, "{name}: SQS allows no MaximumConcurrency below 2");
            let (param, declared) =
                parameter(&t, &f["Properties"]["ReservedConcurrentExecutions"], name);
            // Any value the parameter accepts keeps the pollers within the
            // reservation (more pollers than instances = throttled batches).
            for bound in ["Default", "MinValue"] {
                let v = declared[bound].as_u64().unwrap();
                assert!(
                    max <= v,
                    "{name}: MaximumConcurrency {max} > {param} {bound} {v}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(
        checked, 3,
        "ingest reads one queue, notify two (notifications, track jobs)"
    );
}

/// The api function's inline statements.
fn api_statements(t: &Value) -> Vec<&Value> {
    let f = &resources(t)["ApiFunction"]["Properties"];
    let mut out = Vec::new();
    for policy in f["Policies"].as_sequence().unwrap() {
        // A managed or SAM policy template (`DynamoDBCrudPolicy: {...}`,
        // `AmazonDynamoDBFullAccess`) is not an inline statement list.
        let statements = policy
            .as_mapping()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.get("Statement"))
            .and_then(Value::as_sequence)
            .unwrap_or_else(|| {
                panic!("ApiFunction policies are inline statements only: {policy:?}")
            });
        out.extend(statements.iter());
    }
    out
}

fn leading_keys(s: &Value) -> Option<Vec<String>> {
    let keys = s["Condition"]["ForAllValues:StringLike"].get("dynamodb:LeadingKeys")?;
    Some(
        strings(keys)
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect(),
    )
}

#[test]
fn api_policies_are_least_privilege() {
    let t = template();
    let statements = api_statements(&t);
    let mut dynamo_actions = Vec::new();
    let mut others = Vec::new();
    for s in &statements {
        assert_eq!(s["Effect"], "Allow", "{s:?}");
        assert!(s.get("NotAction").is_none() && s.get("NotResource").is_none());
        let actions: Vec<String> = strings(&s["Action"])
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        for a in &actions {
            assert!(!a.contains('*'), "wildcard action {a}");
        }
        for res in strings(&s["Resource"]) {
            assert_ne!(res, "*", "wildcard resource in {s:?}");
        }
        if !actions.iter().any(|a| a.starts_with("dynamodb:")) {
            others.extend(actions);
            continue;
        }
        dynamo_actions.extend(actions.iter().cloned());
        let resources = strings(&s["Resource"]);
        assert_eq!(
            resources.len(),
            1,
            "one resource per DynamoDB statement: {s:?}"
        );
        if is_get_att(resources[0], "Table.Arn") {
            // Every table statement names the partitions it may touch.
            let keys = leading_keys(s)
                .unwrap_or_else(|| panic!("no dynamodb:LeadingKeys condition on {s:?}"));
            assert!(!keys.is_empty());
            for k in &keys {
                assert!(
                    !k.is_empty()
                        && k != "*"
                        && k.find('*').is_none_or(|i| i + 1 == k.len() && i > 0),
                    "{k:?}: exact partitions or `PREFIX*` only"
                );
            }
            let writes = actions
                .iter()
                .any(|a| a != "dynamodb:GetItem" && a != "dynamodb:Query");
            if writes {
                // The public function never writes prices or operator
                // data: no items, series, source health or checkpoints (a
                // pasted page's first price is the notify function's track
                // job), no alert quotas.
                for k in &keys {
                    assert!(
                        !["ITEM#", "SERIES", "SOURCE#", "QUOTA#"]
                            .iter()
                            .any(|p| k.starts_with(p)),
                        "{actions:?} on {k}"
                    );
                }
            }
        } else {
            // The index: read-only.
            let (tag, sub) = intrinsic(resources[0]).unwrap();
            assert_eq!(tag, "Sub");
            assert_eq!(sub.as_str(), Some("${Table.Arn}/index/gsi1"));
            assert_eq!(actions, ["dynamodb:Query"], "{s:?}");
        }
    }
    dynamo_actions.sort();
    dynamo_actions.dedup();
    // What shared/aws/src/dynamo issues for the router and the bot
    // (docs/dynamodb.md): no Scan, no batch or transaction, no DescribeTable.
    assert_eq!(
        dynamo_actions,
        [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
        ]
    );
    others.sort();
    assert_eq!(others, ["sqs:SendMessage", "ssm:GetParameter"]);
    let sqs = statements
        .iter()
        .find(|s| {
            strings(&s["Action"])
                .iter()
                .any(|a| *a == "sqs:SendMessage")
        })
        .unwrap();
    // Track jobs only: nothing the public function does can delay alerts.
    assert!(
        is_get_att(&sqs["Resource"], "TrackJobsQueue.Arn"),
        "{sqs:?}"
    );
    let vars = &resources(&t)["ApiFunction"]["Properties"]["Environment"]["Variables"];
    assert!(is_ref(
        &vars["PRICEHOUND_TRACK_QUEUE_URL"],
        "TrackJobsQueue"
    ));
    assert!(
        vars.get("PRICEHOUND_NOTIFY_QUEUE_URL").is_none(),
        "the api function does not write to the notifications queue"
    );
    // The track job slot and the day's count are claimed and counted by
    // the bot (shared/telegram/src/bot/tracking.rs).
    let keys_of = |action: &str| -> Vec<String> {
        statements
            .iter()
            .filter(|s| strings(&s["Action"]).iter().any(|a| *a == action))
            .filter_map(|s| leading_keys(s))
            .flatten()
            .collect()
    };
    assert!(keys_of("dynamodb:PutItem").contains(&"TRACKJOB#*".to_string()));
    let updates = keys_of("dynamodb:UpdateItem");
    for k in ["TRACKJOB#*", "TRACKQUOTA#*"] {
        assert!(updates.contains(&k.to_string()), "UpdateItem on {k}");
    }
}

/// Price events come from the table's stream, not from ingest: the table
/// streams old and new images, the events function reads only LATEST
/// records with batch failures, bounded retries and a DLQ, and ingest may
/// no longer publish.
#[test]
fn price_events_come_from_the_table_stream() {
    let t = template();
    let r = resources(&t);
    assert_eq!(
        r["Table"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES"
    );
    let events = &r["EventsFunction"]["Properties"];
    let source = &events["Events"]["LatestChanges"];
    assert_eq!(source["Type"], "DynamoDB");
    let p = &source["Properties"];
    assert!(
        is_get_att(&p["Stream"], "Table.StreamArn"),
        "{:?}",
        p["Stream"]
    );
    assert_eq!(p["StartingPosition"], "TRIM_HORIZON");
    assert_eq!(
        strings(&p["FunctionResponseTypes"]),
        vec![&Value::from("ReportBatchItemFailures")]
    );
    assert!(
        p["MaximumRetryAttempts"]
            .as_u64()
            .is_some_and(|n| n > 0 && n <= 100)
    );
    assert!(is_get_att(
        &p["DestinationConfig"]["OnFailure"]["Destination"],
        "EventsDLQ.Arn"
    ));
    let pattern: serde_json::Value = serde_json::from_str(
        p["FilterCriteria"]["Filters"][0]["Pattern"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        pattern,
        serde_json::json!({"dynamodb": {"Keys": {"sk": {"S": ["LATEST"]}}}})
    );
    assert!(is_ref(
        &events["Environment"]["Variables"]["PRICEHOUND_EVENT_BUS"],
        "PriceEventsBus"
    ));
    let ingest = serde_norway::to_string(&r["IngestFunction"]).unwrap();
    assert!(
        !ingest.contains("events:PutEvents") && !ingest.contains("PRICEHOUND_EVENT_BUS"),
        "ingest publishes nothing any more"
    );
}

/// Every alarm resource with its metric, the resource its dimension names
/// (`!GetAtt X.QueueName` / `!Ref X`) or the literal value, by alarm name.
fn alarms(t: &Value) -> Vec<(&str, &Value)> {
    resources(t)
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::CloudWatch::Alarm")
        .map(|(name, r)| (name.as_str().unwrap(), &r["Properties"]))
        .collect()
}

/// The resource an alarm's first dimension refers to.
fn alarmed_resource(props: &Value) -> String {
    let value = &props["Dimensions"][0]["Value"];
    match intrinsic(value) {
        Some((tag, v)) if tag == "GetAtt" => {
            let v = v.as_str().unwrap();
            v.split('.').next().unwrap().to_string()
        }
        Some((_, v)) => v.as_str().unwrap().to_string(),
        None => value.as_str().unwrap_or_default().to_string(),
    }
}

/// The operator hears of every way work can pile up or be lost: a depth
/// alarm on every dead-letter queue, an age alarm on every other queue,
/// errors and throttles of every function, and a failing-source alarm per
/// group of sources.toml, all on the alarm topic; schedules and the
/// PriceChanged rule retry and keep what they could not deliver.
#[test]
fn every_queue_function_and_source_group_has_its_alarm() {
    let t = template();
    let r = resources(&t);
    let alarms = alarms(&t);
    let with = |namespace: &str, metric: &str| -> Vec<String> {
        let mut v: Vec<String> = alarms
            .iter()
            .filter(|(_, p)| p["Namespace"] == namespace && p["MetricName"] == metric)
            .map(|(_, p)| alarmed_resource(p))
            .collect();
        v.sort();
        v
    };
    let mut dlqs = Vec::new();
    let mut queues = Vec::new();
    for (name, res) in r {
        if res["Type"] == "AWS::SQS::Queue" {
            let name = name.as_str().unwrap().to_string();
            if name.ends_with("DLQ") {
                dlqs.push(name);
            } else {
                queues.push(name);
            }
        }
    }
    dlqs.sort();
    queues.sort();
    assert_eq!(with("AWS/SQS", "ApproximateNumberOfMessagesVisible"), dlqs);
    assert_eq!(with("AWS/SQS", "ApproximateAgeOfOldestMessage"), queues);
    let mut fns: Vec<String> = functions(&t).iter().map(|f| f.0.to_string()).collect();
    fns.sort();
    assert_eq!(with("AWS/Lambda", "Errors"), fns);
    assert_eq!(with("AWS/Lambda", "Throttles"), fns);

    let sources =
        SourcesConfig::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../sources.toml"))
            .unwrap();
    let mut groups: Vec<String> = sources.groups.keys().cloned().collect();
    groups.sort();
    let mut failing: Vec<String> = alarms
        .iter()
        .filter(|(_, p)| {
            p["Namespace"] == "pricehound" && p["MetricName"] == "source_failing_hours"
        })
        .map(|(_, p)| {
            assert_eq!(p["Dimensions"][0]["Value"], "scrape");
            assert_eq!(p["Dimensions"][1]["Name"], "group");
            assert!(is_ref(&p["Threshold"], "SourceFailingHours"));
            p["Dimensions"][1]["Value"].as_str().unwrap().to_string()
        })
        .collect();
    failing.sort();
    assert_eq!(failing, groups);
    // The metric's name is the one the scraper sets.
    assert_eq!(
        pricehound::metric::SOURCE_FAILING_HOURS,
        "source_failing_hours"
    );

    for (name, p) in &alarms {
        assert!(
            strings(&p["AlarmActions"])
                .iter()
                .any(|a| is_ref(a, "AlarmTopic")),
            "{name} notifies nobody"
        );
        assert!(
            p["AlarmDescription"]
                .as_str()
                .unwrap()
                .contains("docs/operations.md"),
            "{name} does not say where its runbook is"
        );
    }

    for (_, ev) in r["ScrapeFunction"]["Properties"]["Events"]
        .as_mapping()
        .unwrap()
    {
        let p = &ev["Properties"];
        assert!(p["RetryPolicy"]["MaximumRetryAttempts"].as_u64().is_some());
        assert!(is_get_att(
            &p["DeadLetterConfig"]["Arn"],
            "SchedulesDLQ.Arn"
        ));
    }
    let target = &r["PriceChangedRule"]["Properties"]["Targets"][0];
    assert!(
        target["RetryPolicy"]["MaximumEventAgeInSeconds"]
            .as_u64()
            .is_some()
    );
    assert!(is_get_att(
        &target["DeadLetterConfig"]["Arn"],
        "PriceChangedRuleDLQ.Arn"
    ));
}
