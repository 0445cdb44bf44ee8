//! The floor for cold starts: a Rust Lambda function that answers every
//! event with a fixed Function URL response, built like the real ones
//! (the workspace's release profile, lambda_runtime, tokio). The cold-start
//! benchmark (benches/cold_start.rs) runs it next to them.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({"statusCode": 200, "body": "{\"status\":\"ok\"}"}))
    }))
    .await
}
