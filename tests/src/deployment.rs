//! The stack template.yaml describes, made on the local stand-ins: the table
//! in dynalite; every queue (with its visibility timeout and redrive
//! policy), the bus and its rules (pattern and queue targets) and the bot's
//! SSM parameters in moto. [`Deployment::environment`] gives each function
//! the environment the template gives it, `!Ref`s resolved to what was
//! made here and the SDK pointed at the stand-ins.
//!
//! Used by the whole-chain test (tests/aws_chain.rs) and the cold-start
//! benchmark (benches/cold_start.rs), so both run the functions as deployed.

use crate::services::{
    DYNAMODB_ENDPOINT_VAR, MOTO_ENDPOINT_VAR, REGION, dynamodb_client, endpoint,
    eventbridge_client, sdk_config, sqs_client, unique_name,
};
use crate::template::{Template, get_att, reference};
use aws_sdk_sqs::types::QueueAttributeName;
use pricehound::store::dynamo::DynamoStore;
use serde_json::json;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A queue the template declares, made in moto.
pub struct Queue {
    pub url: String,
    pub arn: String,
}

pub struct Deployment {
    pub template: Template,
    pub table: String,
    pub dynamo: Arc<DynamoStore>,
    pub ddb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    /// By logical id (ObservationsQueue, ...).
    pub queues: HashMap<String, Queue>,
    /// Bus names by logical id.
    pub buses: HashMap<String, String>,
}

/// The functions template.yaml declares, by logical id.
pub const FUNCTIONS: [&str; 5] = [
    "ScrapeFunction",
    "IngestFunction",
    "EventsFunction",
    "NotifyFunction",
    "ApiFunction",
];

impl Deployment {
    /// Makes everything; the bot's token and webhook secret go into the
    /// SSM parameters the template names.
    pub async fn create(bot_token: &str, webhook_secret: &str) -> Deployment {
        let template = Template::load();

        let ddb = dynamodb_client().await;
        let table = unique_name("stack");
        DynamoStore::create_table(&ddb, &table).await.unwrap();
        let dynamo = Arc::new(DynamoStore::new(ddb.clone(), table.clone()));

        // Every queue, then their redrive policies (which name other queues).
        let sqs = sqs_client().await;
        let mut queues = HashMap::new();
        for id in template.resources_of("AWS::SQS::Queue") {
            let props = template.properties(&id);
            let mut create = sqs.create_queue().queue_name(unique_name("stack"));
            if let Some(t) = props["VisibilityTimeout"].as_u64() {
                create = create.attributes(QueueAttributeName::VisibilityTimeout, t.to_string());
            }
            let url = create.send().await.unwrap().queue_url.unwrap();
            let arn = sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::QueueArn)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()[&QueueAttributeName::QueueArn]
                .clone();
            queues.insert(id, Queue { url, arn });
        }
        for id in template.resources_of("AWS::SQS::Queue") {
            let redrive = &template.properties(&id)["RedrivePolicy"];
            if redrive.is_null() {
                continue;
            }
            let dlq = get_att(&redrive["deadLetterTargetArn"]).unwrap().resource;
            let policy = json!({
                "deadLetterTargetArn": queues[&dlq].arn,
                "maxReceiveCount": redrive["maxReceiveCount"].as_u64().unwrap(),
            });
            sqs.set_queue_attributes()
                .queue_url(&queues[&id].url)
                .attributes(QueueAttributeName::RedrivePolicy, policy.to_string())
                .send()
                .await
                .unwrap();
        }

        // The buses and the rules on them, with their queue targets.
        let eb = eventbridge_client().await;
        let mut buses = HashMap::new();
        for id in template.resources_of("AWS::Events::EventBus") {
            let name = unique_name("stack");
            eb.create_event_bus().name(&name).send().await.unwrap();
            buses.insert(id, name);
        }
        for id in template.resources_of("AWS::Events::Rule") {
            let props = template.properties(&id);
            let bus = &buses[&reference(&props["EventBusName"]).unwrap()];
            let rule = unique_name("rule");
            eb.put_rule()
                .name(&rule)
                .event_bus_name(bus)
                .event_pattern(Template::json(&props["EventPattern"]).to_string())
                .send()
                .await
                .unwrap();
            for target in props["Targets"].as_sequence().unwrap() {
                let queue = get_att(&target["Arn"]).unwrap().resource;
                eb.put_targets()
                    .rule(&rule)
                    .event_bus_name(bus)
                    .targets(
                        aws_sdk_eventbridge::types::Target::builder()
                            .id(target["Id"].as_str().unwrap())
                            .arn(&queues[&queue].arn)
                            .build()
                            .unwrap(),
                    )
                    .send()
                    .await
                    .unwrap();
            }
        }

        // The bot's secrets where the template says the functions read them.
        let ssm = aws_sdk_ssm::Client::new(&sdk_config(&endpoint(MOTO_ENDPOINT_VAR)).await);
        for (param, value) in [
            ("BotTokenParameter", bot_token),
            ("WebhookSecretParameter", webhook_secret),
        ] {
            ssm.put_parameter()
                .name(template.parameter_default(param).unwrap())
                .value(value)
                .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
                .overwrite(true)
                .send()
                .await
                .unwrap();
        }

        Deployment {
            template,
            table,
            dynamo,
            ddb,
            sqs,
            queues,
            buses,
        }
    }

    /// `function`'s environment as the template sets it, with the SDK
    /// pointed at dynalite and moto, made-up credentials, `home` as HOME
    /// (no developer's ~/.aws), and `extra` on top.
    pub fn environment(
        &self,
        function: &str,
        home: &Path,
        extra: &[(&str, String)],
    ) -> Vec<(String, String)> {
        let dynamo = endpoint(DYNAMODB_ENDPOINT_VAR);
        let moto = endpoint(MOTO_ENDPOINT_VAR);
        let mut local: Vec<(String, String)> = [
            (
                "PRICEHOUND_LOCAL_ENDPOINTS",
                format!("DYNAMODB={dynamo},SQS={moto},EVENTBRIDGE={moto},SSM={moto}"),
            ),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", REGION.into()),
            ("AWS_DEFAULT_REGION", REGION.into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("HOME", home.display().to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        local.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let resolve = |name: &str| -> Option<String> {
            if name == "Table" {
                return Some(self.table.clone());
            }
            self.queues
                .get(name)
                .map(|q| q.url.clone())
                .or_else(|| self.buses.get(name).cloned())
        };
        let mut env = self.template.environment(function, &resolve);
        env.retain(|(k, _)| !local.iter().any(|(l, _)| l == k));
        env.extend(local);
        env
    }
}

/// Where `sam build` put a function's binary.
pub fn sam_built(function: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../.aws-sam/build")
        .join(function)
        .join("bootstrap")
}
