//! Reading and writing item attributes: one place for the conversions
//! every record uses.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use pricehound_core::store::StoreError;

pub(super) type Item = HashMap<String, AttributeValue>;

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn boolean(value: bool) -> AttributeValue {
    AttributeValue::Bool(value)
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a string"
        ))),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
    }
}

/// A string attribute that may be absent.
pub(super) fn get_opt_s<'a>(item: &'a Item, name: &str) -> Result<Option<&'a str>, StoreError> {
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => Ok(None),
        Some(_) => get_s(item, name).map(Some),
    }
}

pub(super) fn opt_string(item: &Item, name: &str) -> Result<Option<String>, StoreError> {
    Ok(get_opt_s(item, name)?.map(str::to_string))
}

pub(super) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    match item.get(name) {
        Some(AttributeValue::N(v)) => v.parse().map_err(|e| corrupt(name, e)),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
    }
}

/// A number attribute that may be absent (then 0: counters start there).
pub(super) fn get_n_or_zero<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    match item.get(name) {
        None | Some(AttributeValue::Null(_)) => "0".parse().map_err(|e| corrupt(name, e)),
        Some(AttributeValue::N(v)) => v.parse().map_err(|e| corrupt(name, e)),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a number"
        ))),
    }
}

pub(super) fn get_bool(item: &Item, name: &str) -> Result<bool, StoreError> {
    match item.get(name) {
        Some(AttributeValue::Bool(v)) => Ok(*v),
        None => Err(StoreError::Corrupt(format!("attribute {name} is missing"))),
        Some(_) => Err(StoreError::Corrupt(format!(
            "attribute {name} is not a boolean"
        ))),
    }
}

pub(super) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}
