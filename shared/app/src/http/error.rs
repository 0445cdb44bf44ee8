//! API errors: always JSON `{"error": {"code": "...", "message": "..."}}`
//! with a status that tells the client whether retrying can help.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "bad_request",
            message: message.into(),
        }
    }
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status: StatusCode::NOT_FOUND,
            code,
            message: message.into(),
        }
    }
}

impl ApiError {
    /// A bug of ours (a handler panicked): the client learns nothing more.
    pub fn internal() -> Self {
        ApiError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: "something went wrong on our side; it has been logged. Try again later".into(),
        }
    }

    /// An error some layer answered as plain text (axum's rejections,
    /// tower-http's limits), in our shape. `text` becomes the message when
    /// there is one.
    pub fn for_status(status: StatusCode, text: impl Into<String>) -> Self {
        let text = text.into();
        let (code, fallback) = match status.as_u16() {
            400 => ("bad_request", "the request is malformed"),
            401 => ("unauthorized", "missing or wrong credentials"),
            403 => ("forbidden", "not allowed"),
            404 => ("not_found", "no such route; GET /api/health lists the API"),
            405 => ("method_not_allowed", "this route answers GET only"),
            408 => ("timeout", "the request took too long to arrive"),
            413 => ("too_large", "the request body is too large"),
            414 | 431 => ("too_large", "the request line or headers are too large"),
            415 => ("unsupported_media_type", "unsupported content type"),
            422 => ("bad_request", "the request could not be understood"),
            429 => ("rate_limited", "too many requests; slow down"),
            500..=599 => (
                "internal",
                "something went wrong on our side; try again later",
            ),
            _ => ("error", "the request failed"),
        };
        let message = if text.is_empty() || status.is_server_error() {
            fallback.to_string()
        } else {
            text
        };
        ApiError {
            status,
            code,
            message,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::BadCursor => ApiError::bad_request(e.to_string()),
            e => {
                // The detail goes to the log, not to the client.
                tracing::error!(error = %e, "store error while serving a request");
                ApiError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    code: "store_unavailable",
                    message: "the price store is unavailable; try again shortly".into(),
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// The body of every error: `{"error": {"code": ..., "message": ...}}`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(example = json!({"error": {"code": "bad_request", "message": "limit must be a whole number from 1 to 1000, got \"0\""}}))]
pub struct ErrorBody {
    error: ErrorDetail,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable and machine-readable: `bad_request`, `not_found`,
    /// `unknown_item`, `rate_limited`, `store_unavailable`, ...
    code: String,
    /// For people: what was wrong and what to do.
    message: String,
}

/// The error answers any route may give, for the OpenAPI document.
pub struct ErrorResponses;

impl utoipa::IntoResponses for ErrorResponses {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::content::ContentBuilder;
        use utoipa::openapi::response::ResponseBuilder;
        [
            ("400", "A parameter is malformed; the message names it"),
            ("404", "No such item, source, series or route"),
            ("405", "The route does not answer this method"),
            ("413", "The request is too large"),
            ("429", "Too many requests from this client; slow down"),
            ("500", "Something went wrong on our side"),
            ("503", "The price store is unavailable; try again shortly"),
        ]
        .into_iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build();
            let response = ResponseBuilder::new()
                .description(description)
                .content("application/json", content)
                .build();
            (status.to_string(), response.into())
        })
        .collect()
    }
}
