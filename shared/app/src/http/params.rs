//! Query-string parsing for the REST API. Every parameter is validated here,
//! with a message that names the parameter and says what it takes.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use chrono::{DateTime, NaiveDate, Utc};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::domain::SourceId;
use crate::store::{Cursor, MAX_PAGE, Order};

/// Like axum's `Query`, but a bad query string is our JSON 400.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "invalid query string: {}",
                e.body_text()
                    .trim_start_matches("Failed to deserialize query string: ")
            ))),
        }
    }
}

/// Like axum's `Json`, but any bad body (not JSON, wrong fields, no
/// `Content-Type: application/json`) is our JSON 400 naming what is wrong.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiError::bad_request(format!(
                "invalid JSON body: {}",
                e.body_text()
            ))),
        }
    }
}

/// A page size: 1 to the store's `MAX_PAGE`.
pub fn limit(raw: Option<&str>, default: u32) -> Result<u32, ApiError> {
    limit_up_to(raw, default, MAX_PAGE)
}

/// A result count from 1 to `max` (search answers fewer than a page).
pub fn limit_up_to(raw: Option<&str>, default: u32, max: u32) -> Result<u32, ApiError> {
    match raw {
        None => Ok(default),
        Some(s) => match s.parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(ApiError::bad_request(format!(
                "limit must be a whole number from 1 to {max}, got {s:?}"
            ))),
        },
    }
}

pub fn source(raw: Option<&str>) -> Result<Option<SourceId>, ApiError> {
    raw.map(|s| SourceId::new(s).map_err(|e| ApiError::bad_request(format!("source: {e}"))))
        .transpose()
}

pub fn cursor(raw: Option<&str>) -> Result<Option<Cursor>, ApiError> {
    match raw {
        None => Ok(None),
        Some(s)
            if !s.is_empty()
                && s.len() <= 2048
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
        {
            Ok(Some(Cursor::from_param(s)))
        }
        Some(_) => Err(ApiError::bad_request(
            "cursor: pass back the next_cursor of the previous page unchanged",
        )),
    }
}

/// RFC 3339 (`2026-11-01T12:00:00Z`) or a plain date (`2026-11-01`, midnight UTC).
pub fn time(name: &str, raw: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    let Some(s) = raw else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).map(|t| t.and_utc()));
    }
    Err(ApiError::bad_request(format!(
        "{name} must be an RFC 3339 time (2026-11-01T12:00:00Z) or a date (2026-11-01), got {s:?}"
    )))
}

pub fn order(raw: Option<&str>) -> Result<Order, ApiError> {
    match raw {
        None | Some("asc") => Ok(Order::Ascending),
        Some("desc") => Ok(Order::Descending),
        Some(s) => Err(ApiError::bad_request(format!(
            "order must be asc or desc, got {s:?}"
        ))),
    }
}

/// A decimal written plainly, as the OpenAPI document's patterns give it:
/// up to `max_int` digits before the point (no leading zero but a lone 0),
/// up to 8 after it; no sign, exponent or spaces. With `positive`, zero is
/// refused, and `0.x` must end in a non-zero digit (`0.5`, not `0.50`), so
/// the document can say it with a pattern. Schemathesis sends values on
/// both sides of each pattern, so this must be exactly it.
pub fn plain_decimal(text: &str, max_int: usize, positive: bool) -> Option<rust_decimal::Decimal> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (int, frac) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text, None),
    };
    if !digits(int) || frac.is_some_and(|f| !digits(f) || f.len() > 8) {
        return None;
    }
    let ok = if int == "0" {
        !positive || frac.is_some_and(|f| !f.ends_with('0'))
    } else {
        int.len() <= max_int && !int.starts_with('0')
    };
    if !ok {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::plain_decimal;

    #[test]
    fn plain_decimals_are_exactly_the_documented_pattern() {
        for (text, non_negative, positive) in [
            ("0", true, false),
            ("0.0", true, false),
            ("0.5", true, true),
            ("0.50", true, false),
            ("12.50", true, true),
            ("999999999999", true, true),
            ("1000000000000", false, false),
            ("1.12345678", true, true),
            ("1.123456789", false, false),
            ("01", false, false),
            ("1.", false, false),
            (".5", false, false),
            ("-1", false, false),
            ("+1", false, false),
            ("1e3", false, false),
            (" 1", false, false),
            ("١٢", false, false),
            ("", false, false),
        ] {
            assert_eq!(
                plain_decimal(text, 12, false).is_some(),
                non_negative,
                "{text:?} non-negative"
            );
            assert_eq!(
                plain_decimal(text, 12, true).is_some(),
                positive,
                "{text:?} positive"
            );
        }
        assert!(plain_decimal("99.5", 2, true).is_some());
        assert!(
            plain_decimal("100", 2, true).is_none(),
            "a percent stays under 100"
        );
    }
}
