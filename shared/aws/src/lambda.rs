//! The Lambda handlers that need nothing but the core and these adapters
//! (the ingest function links no bot, no scraper, no HTTP router). The
//! others are in the app crate (`pricehound::lambda`).

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use futures::future::join_all;

use pricehound_core::ingest::{IngestError, Ingested, Ingestor};

/// Ingests an SQS batch. Records that fail come back as batch item
/// failures, so SQS retries only them (and, after maxReceiveCount, moves
/// them to the dead-letter queue); the rest of the batch is not redone.
pub async fn ingest(ingestor: &Ingestor, event: SqsEvent) -> SqsBatchResponse {
    let results = join_all(event.records.iter().map(|record| async move {
        let id = record.message_id.clone().unwrap_or_default();
        let result = match record.body.as_deref() {
            Some(body) => ingestor.ingest_body(body).await,
            None => Err(IngestError::Malformed("record has no body".into())),
        };
        (id, result)
    }))
    .await;
    let mut response = SqsBatchResponse::default();
    for (message_id, result) in results {
        match result {
            Ok(Ingested::Stored { price_changed }) => {
                tracing::info!(%message_id, price_changed, "observation stored");
            }
            Ok(Ingested::Duplicate) => tracing::info!(%message_id, "duplicate delivery ignored"),
            Err(e) => {
                let permanent = matches!(e, IngestError::Malformed(_));
                tracing::warn!(%message_id, error = %e, permanent, "record failed");
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = message_id;
                response.batch_item_failures.push(failure);
            }
        }
    }
    response
}
