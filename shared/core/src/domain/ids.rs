//! Identifiers. Each is a validated string so it can go into a URL path, a
//! DynamoDB key and a SQLite column without escaping surprises.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;

use super::Provenance;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("{kind} must not be empty")]
    Empty { kind: &'static str },
    #[error("{kind} {value:?} is too long (at most {max} characters)")]
    TooLong {
        kind: &'static str,
        value: String,
        max: usize,
    },
    #[error("{kind} {value:?} may only contain {allowed}")]
    BadChar {
        kind: &'static str,
        value: String,
        allowed: &'static str,
    },
}

fn validate(
    kind: &'static str,
    value: &str,
    max: usize,
    ok: fn(char) -> bool,
    allowed: &'static str,
) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty { kind });
    }
    if value.len() > max {
        return Err(IdError::TooLong {
            kind,
            value: value.chars().take(max + 8).collect(),
            max,
        });
    }
    if !value.chars().all(ok) {
        return Err(IdError::BadChar {
            kind,
            value: value.to_string(),
            allowed,
        });
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident, $kind:literal, $max:expr, $ok:expr, $allowed:literal, $pattern:literal, $example:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                validate($kind, &value, $max, $ok, $allowed)?;
                Ok(Self(value))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, IdError> {
                Self::new(value)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::new(s)
            }
        }
        /// In the OpenAPI document: a string with the id's length and
        /// characters, so clients (and schemathesis) know a valid one.
        #[cfg(feature = "openapi")]
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                crate::openapi::string_schema($kind, $allowed, 1, $max, $pattern, $example)
            }
        }
        #[cfg(feature = "openapi")]
        impl utoipa::ToSchema for $name {}
    };
}

fn slug_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

string_id!(
    /// A source's id as written in `sources.toml`, e.g. `tg-zoloto-alger`.
    SourceId, "source id", 64, slug_char, "lowercase ASCII letters, digits, '-' and '_'",
    "^[a-z0-9_-]{1,64}$", "tg-zoloto-alger"
);
string_id!(
    /// `<source id>:<item key>`, e.g. `tg-zoloto-alger:gold-18k`.
    ItemId, "item id", 200, |c| slug_char(c) || c == ':' || c == '.', "lowercase ASCII letters, digits, '-', '_', '.' and ':'",
    "^[a-z0-9_.:-]{1,200}$", "tg-zoloto-alger:gold-18k"
);
string_id!(
    /// A group of comparable items across sources, e.g. `gold-18k` or `rtx-4070`.
    SeriesId, "series id", 100, slug_char, "lowercase ASCII letters, digits, '-' and '_'",
    "^[a-z0-9_-]{1,100}$", "gold-18k"
);
string_id!(
    /// Hex of a hash of the item id and the provenance key (see [`ObservationId::derive`]).
    ObservationId, "observation id", 64, |c| c.is_ascii_hexdigit(), "hex digits",
    "^[0-9a-fA-F]{1,64}$", "3f2a9c0d5e7b1a44"
);

/// The source ids of pages users pasted into the bot start with this
/// (`page-` and a hash of the URL, see `sources::tracked`). They are one
/// user's links, not the operator's catalogue: the public API hides them,
/// and `sources.toml` may not use the prefix.
pub const USER_PAGE_PREFIX: &str = "page-";

impl SourceId {
    /// Whether this is a page a user pasted (see [`USER_PAGE_PREFIX`]).
    pub fn is_user_page(&self) -> bool {
        self.0.starts_with(USER_PAGE_PREFIX)
    }
}

impl ItemId {
    /// The item id for `key` at `source`: the key is slugged, so any label a
    /// source shows ("18K Gold", "Al Fakher — Mint") gives a valid id.
    pub fn for_source(source: &SourceId, key: &str) -> Result<Self, IdError> {
        let key = slug(key);
        if key.is_empty() {
            return Err(IdError::Empty { kind: "item key" });
        }
        let key: String = key.chars().take(200 - source.as_str().len() - 1).collect();
        Self::new(format!("{source}:{key}"))
    }

    /// The source this item belongs to.
    pub fn source_id(&self) -> SourceId {
        let source = self.0.split(':').next().unwrap_or_default();
        SourceId(source.to_string())
    }
}

impl ObservationId {
    /// Same item + same provenance = same id, so a redelivered or re-read
    /// observation writes nothing new.
    pub fn derive(item: &ItemId, provenance: &Provenance) -> Self {
        let mut h = Sha256::new();
        h.update(item.as_str().as_bytes());
        h.update(b"\n");
        h.update(provenance.key().as_bytes());
        let digest = h.finalize();
        ObservationId(hex::encode(&digest[..16]))
    }
}

/// Lowercase ASCII slug: letters and digits kept (Unicode letters are
/// transliterated only for the common Cyrillic ones; others become '-'),
/// runs of anything else become one '-'.
pub fn slug(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut dash = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        let mapped: Option<&str> = match c {
            'a'..='z' | '0'..='9' => None,
            _ => translit(c),
        };
        match (c, mapped) {
            ('a'..='z' | '0'..='9', _) => {
                out.push(c);
                dash = false;
            }
            (_, Some(s)) => {
                out.push_str(s);
                dash = false;
            }
            _ => {
                if !dash && !out.is_empty() {
                    out.push('-');
                    dash = true;
                }
            }
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

fn translit(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'д' => "d",
        'е' | 'э' => "e",
        'ё' => "yo",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "h",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "sht",
        'ъ' => "a",
        'ы' => "y",
        'ь' => "",
        'ю' => "yu",
        'я' => "ya",
        'é' | 'è' | 'ê' | 'ë' => "e",
        'à' | 'â' | 'ä' => "a",
        'ô' | 'ö' => "o",
        'û' | 'ü' | 'ù' => "u",
        'î' | 'ï' => "i",
        'ç' => "c",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_reject_what_would_break_a_key_or_url() {
        assert!(SourceId::new("tg-gold").is_ok());
        assert_eq!(SourceId::new(""), Err(IdError::Empty { kind: "source id" }));
        assert!(SourceId::new("Gold Shop").is_err());
        assert!(SourceId::new("a/b").is_err());
        assert!(SourceId::new("x".repeat(65)).is_err());
        assert!(ItemId::new("tg-gold:18k").is_ok());
        assert!(ItemId::new("tg-gold:18k#x").is_err());
        assert!(serde_json::from_str::<SourceId>("\"UPPER\"").is_err());
    }

    #[test]
    fn item_ids_slug_any_label() {
        let src = SourceId::new("tg-gold").unwrap();
        assert_eq!(
            ItemId::for_source(&src, "Or 18 K — cassé")
                .unwrap()
                .as_str(),
            "tg-gold:or-18-k-casse"
        );
        assert_eq!(
            ItemId::for_source(&src, "Золото 585 проба")
                .unwrap()
                .as_str(),
            "tg-gold:zoloto-585-proba"
        );
        assert!(ItemId::for_source(&src, "—").is_err());
        assert_eq!(ItemId::new("a:b").unwrap().source_id().as_str(), "a");
    }

    #[test]
    fn observation_ids_are_deterministic() {
        let item = ItemId::new("s:x").unwrap();
        let p = Provenance::TelegramPost {
            channel: "c".into(),
            post_id: 7,
        };
        let a = ObservationId::derive(&item, &p);
        assert_eq!(a, ObservationId::derive(&item, &p));
        assert_eq!(a.as_str().len(), 32);
        let q = Provenance::TelegramPost {
            channel: "c".into(),
            post_id: 8,
        };
        assert_ne!(a, ObservationId::derive(&item, &q));
    }
}
