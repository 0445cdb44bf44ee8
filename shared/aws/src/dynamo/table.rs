//! Creating the table, for tests and local DynamoDB-compatible servers.

use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, IndexStatus, KeySchemaElement, KeyType,
    Projection, ProjectionType, ScalarAttributeType, TableStatus, TimeToLiveSpecification,
};
use pricehound_core::store::StoreError;

use super::{A_GSI1PK, A_GSI1SK, A_PK, A_SK, DynamoStore, GSI1, TTL_ATTRIBUTE, is_code, sdk_error};

impl DynamoStore {
    /// Creates the table as `template.yaml` declares it (for tests and local
    /// DynamoDB-compatible servers) and waits until it and its index are
    /// ACTIVE. An existing table is fine. TTL is switched on where the server
    /// supports `UpdateTimeToLive` (dynalite does not).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), StoreError> {
        let key = |name: &str, kind: KeyType| {
            KeySchemaElement::builder()
                .attribute_name(name)
                .key_type(kind)
                .build()
                .map_err(|e| StoreError::Backend(format!("bad key schema: {e}")))
        };
        let attr = |name: &str| {
            AttributeDefinition::builder()
                .attribute_name(name)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(|e| StoreError::Backend(format!("bad attribute definition: {e}")))
        };
        let gsi = GlobalSecondaryIndex::builder()
            .index_name(GSI1)
            .key_schema(key(A_GSI1PK, KeyType::Hash)?)
            .key_schema(key(A_GSI1SK, KeyType::Range)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            )
            .build()
            .map_err(|e| StoreError::Backend(format!("bad index definition: {e}")))?;
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(attr(A_PK)?)
            .attribute_definitions(attr(A_SK)?)
            .attribute_definitions(attr(A_GSI1PK)?)
            .attribute_definitions(attr(A_GSI1SK)?)
            .key_schema(key(A_PK, KeyType::Hash)?)
            .key_schema(key(A_SK, KeyType::Range)?)
            .global_secondary_indexes(gsi)
            .send()
            .await;
        match created {
            Ok(_) => {}
            Err(e) if is_code(&e, "ResourceInUseException") => {}
            Err(e) => return Err(sdk_error("CreateTable", table, e)),
        }

        // Wait for ACTIVE: a new table rejects item operations until then.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        loop {
            let out = client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTable", table, e))?;
            let ready = out.table().is_some_and(|t| {
                t.table_status() == Some(&TableStatus::Active)
                    && t.global_secondary_indexes()
                        .iter()
                        .all(|i| i.index_status() == Some(&IndexStatus::Active))
            });
            if ready {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(StoreError::Backend(format!(
                    "DynamoDB table {table} did not become ACTIVE within 120 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| StoreError::Backend(format!("bad TTL specification: {e}")))?;
        match client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // dynalite does not implement UpdateTimeToLive.
            Err(e) if is_code(&e, "UnknownOperationException") => Ok(()),
            // Real DynamoDB refuses to enable TTL twice: the table already exists as wanted.
            Err(e) if e.message().is_some_and(|m| m.contains("already enabled")) => Ok(()),
            Err(e) => Err(sdk_error("UpdateTimeToLive", table, e)),
        }
    }
}
