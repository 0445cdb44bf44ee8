//! The floor again, on tokio's current-thread runtime, which our functions
//! use (one event at a time needs no worker threads). The cold-start
//! benchmark measures the functions against the usual multi-threaded
//! hello-world (src/bin/hello-lambda.rs, the Lambda runtime's own example)
//! and shows this one next to it, so the runtime's share is visible.

use lambda_runtime::{Error, LambdaEvent, run, service_fn};
use serde_json::{Value, json};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    run(service_fn(|_: LambdaEvent<Value>| async {
        Ok::<Value, Error>(json!({"statusCode": 200, "body": "{\"status\":\"ok\"}"}))
    }))
    .await
}
