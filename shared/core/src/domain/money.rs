//! Decimal money. Amounts are `rust_decimal::Decimal` everywhere and travel
//! as decimal strings ("1234.50"), never as floats, so 0.1 + 0.2 stays 0.3
//! and a price read as "12.500" is stored exactly as read.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Active ISO 4217 alphabetic codes (plus XAU/XAG for metal quotes).
const ISO_4217: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT",
    "BGN", "BHD", "BIF", "BMD", "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD",
    "CDF", "CHF", "CLP", "CNY", "COP", "CRC", "CUP", "CVE", "CZK", "DJF", "DKK", "DOP", "DZD",
    "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP", "GMD", "GNF", "GTQ",
    "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IQD", "IRR", "ISK", "JMD", "JOD",
    "JPY", "KES", "KGS", "KHR", "KMF", "KPW", "KRW", "KWD", "KYD", "KZT", "LAK", "LBP", "LKR",
    "LRD", "LSL", "LYD", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP", "MRU", "MUR", "MVR",
    "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "OMR", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "PYG", "QAR", "RON", "RSD", "RUB", "RWF", "SAR", "SBD", "SCR",
    "SDG", "SEK", "SGD", "SHP", "SLE", "SOS", "SRD", "SSP", "STN", "SYP", "SZL", "THB", "TJS",
    "TMT", "TND", "TOP", "TRY", "TTD", "TWD", "TZS", "UAH", "UGX", "USD", "UYU", "UZS", "VES",
    "VND", "VUV", "WST", "XAF", "XAG", "XAU", "XCD", "XOF", "XPF", "YER", "ZAR", "ZMW", "ZWG",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not an ISO 4217 currency code (three letters such as EUR, USD, DZD)")]
pub struct CurrencyError(pub String);

/// An ISO 4217 currency code, always three uppercase ASCII letters from the
/// standard's list.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Currency {
    /// The ISO 4217 codes this type takes, as an enum: a client (and
    /// schemathesis) knows exactly which strings are currencies.
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("An ISO 4217 currency code: three uppercase letters."))
            .enum_values(Some(ISO_4217.iter().copied()))
            .examples([serde_json::Value::String("EUR".into())])
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Currency {}

impl Currency {
    pub fn new(code: &str) -> Result<Self, CurrencyError> {
        let upper = code.trim().to_ascii_uppercase();
        match ISO_4217.binary_search(&upper.as_str()) {
            Ok(_) => {
                let b = upper.as_bytes();
                Ok(Currency([b[0], b[1], b[2]]))
            }
            Err(_) => Err(CurrencyError(code.to_string())),
        }
    }

    pub fn code(&self) -> &str {
        // Only ever built from ASCII codes in ISO_4217.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Minor units shown when formatting (JPY 0, KWD 3, most 2).
    pub fn minor_units(&self) -> u32 {
        match self.code() {
            "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF"
            | "UGX" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
            "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = CurrencyError;
    fn try_from(s: String) -> Result<Self, CurrencyError> {
        Currency::new(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_string()
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}
impl std::str::FromStr for Currency {
    type Err = CurrencyError;
    fn from_str(s: &str) -> Result<Self, CurrencyError> {
        Currency::new(s)
    }
}

/// An amount in a currency. Serialised as `{"amount": "12.50", "currency": "EUR"}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"amount": "12.50", "currency": "EUR"})))]
pub struct Money {
    /// Serialised as a string by `rust_decimal`'s `serde-with-str` feature.
    /// A decimal string, exact (never a float): e.g. "12.50".
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "12.50"))]
    pub amount: Decimal,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Money {
            amount: amount.normalize(),
            currency,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn list_is_sorted_for_binary_search() {
        assert!(ISO_4217.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn currency_accepts_iso_codes_only() {
        assert_eq!(Currency::new("eur").unwrap().code(), "EUR");
        assert!(Currency::new("EURO").is_err());
        assert!(Currency::new("ABC").is_err());
        assert!(Currency::new("").is_err());
        assert!(Currency::new("€").is_err());
    }

    #[test]
    fn money_travels_as_decimal_strings() {
        let m = Money::new(
            Decimal::from_str("1234.50").unwrap(),
            Currency::new("DZD").unwrap(),
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"{"amount":"1234.5","currency":"DZD"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        // A float on the wire is not money.
        assert!(serde_json::from_str::<Money>(r#"{"amount":"x","currency":"EUR"}"#).is_err());
        assert!(serde_json::from_str::<Money>(r#"{"amount":"1","currency":"XYZ"}"#).is_err());
    }
}
