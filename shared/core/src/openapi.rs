//! Helpers for the OpenAPI schemas of the domain's validated strings (ids,
//! currency codes): what the REST API's document says a valid one is.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// A string schema: `what` it is, its allowed characters in words, its
/// length bounds and the same rule as a regular expression.
pub fn string_schema(
    what: &str,
    allowed: &str,
    min: usize,
    max: usize,
    pattern: &str,
    example: &str,
) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some(format!("A {what}: {allowed}.")))
        .min_length(Some(min))
        .max_length(Some(max))
        .pattern(Some(pattern))
        .examples([serde_json::Value::String(example.to_string())])
        .into()
}
