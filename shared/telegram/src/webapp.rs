//! Telegram Mini App sign-in: the `initData` string Telegram hands the
//! Mini App, checked as Telegram documents it ("Validating data received
//! via the Mini App"):
//!
//! 1. the data-check-string is every field but `hash`, sorted by key,
//!    `key=value` joined with `\n` (values URL-decoded);
//! 2. the secret key is HMAC-SHA256 with key `"WebAppData"` over the bot
//!    token;
//! 3. the data is Telegram's if hex(HMAC-SHA256(secret key, data-check-
//!    string)) equals `hash` (compared in constant time) and `auth_date` is
//!    recent.
//!
//! The string comes from anyone who calls the API: it is bounded, parsed
//! without panics, and any doubt (a repeated key, a field twice, a hash of
//! the wrong length) is a refusal.

use chrono::{DateTime, Duration, TimeZone, Utc};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;
use std::collections::BTreeMap;
use std::fmt;

type HmacSha256 = Hmac<Sha256>;

/// The longest initData taken (Telegram's are well under 2 KiB).
pub const MAX_INIT_DATA: usize = 8 * 1024;
/// How old `auth_date` may be by default.
pub const DEFAULT_MAX_AGE: Duration = Duration::hours(1);
/// How far in the future `auth_date` may be (clock skew).
const MAX_SKEW: Duration = Duration::minutes(5);

/// HMAC-SHA256("WebAppData", bot token): the key initData is signed with.
/// Derived once from the token; never printed.
#[derive(Clone)]
pub struct WebAppKey([u8; 32]);

impl WebAppKey {
    pub fn from_token(token: &str) -> WebAppKey {
        let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("HMAC takes any key length");
        mac.update(token.as_bytes());
        WebAppKey(mac.finalize().into_bytes().into())
    }

    /// The hash Telegram would put on `data_check_string` (hex). Public so
    /// tests (and a local Mini App harness) can sign initData.
    pub fn sign(&self, data_check_string: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data_check_string.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(&self, data_check_string: &str, hash: &[u8]) -> bool {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(data_check_string.as_bytes());
        // Constant time (hmac's verify_slice).
        mac.verify_slice(hash).is_ok()
    }
}

impl fmt::Debug for WebAppKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebAppKey(***)")
    }
}

/// The Telegram user the Mini App was opened by.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WebAppUser {
    pub id: i64,
    pub first_name: String,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub language_code: Option<String>,
}

/// initData that passed the check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitData {
    pub user: WebAppUser,
    pub auth_date: DateTime<Utc>,
    pub query_id: Option<String>,
}

/// Why initData was refused. Each says what to do, for the 401's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    #[error("initData is longer than {MAX_INIT_DATA} bytes")]
    TooLong,
    #[error("initData is not a query string of key=value pairs")]
    Malformed,
    #[error("initData has the field {0:?} more than once")]
    DuplicateField(String),
    #[error("initData has no {0} field; open the app from the bot so Telegram signs it")]
    Missing(&'static str),
    #[error("initData's {0} field is malformed")]
    BadField(&'static str),
    #[error("initData's hash does not match: it was not signed by Telegram for this bot")]
    BadHash,
    #[error("initData is older than {max_age_secs} s; reopen the app")]
    Expired { max_age_secs: i64 },
    #[error("initData's auth_date is in the future")]
    FromTheFuture,
}

/// Checks `raw` (the initData string as the Mini App has it) against `key`
/// at `now`: signed by Telegram for this bot, at most `max_age` old.
pub fn validate(
    raw: &str,
    key: &WebAppKey,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<InitData, InitDataError> {
    if raw.len() > MAX_INIT_DATA {
        return Err(InitDataError::TooLong);
    }
    if raw.trim().is_empty() {
        return Err(InitDataError::Missing("hash"));
    }
    let mut fields: BTreeMap<String, String> = BTreeMap::new();
    for pair in raw.split('&') {
        if pair.is_empty() {
            return Err(InitDataError::Malformed);
        }
        let Some((k, v)) = pair.split_once('=') else {
            return Err(InitDataError::Malformed);
        };
        let key_text = decode(k)?;
        let value = decode(v)?;
        if key_text.is_empty() {
            return Err(InitDataError::Malformed);
        }
        if fields.insert(key_text.clone(), value).is_some() {
            return Err(InitDataError::DuplicateField(key_text));
        }
    }
    let hash = fields
        .remove("hash")
        .ok_or(InitDataError::Missing("hash"))?;
    let hash = match hex::decode(&hash) {
        Ok(h) if h.len() == 32 => h,
        _ => return Err(InitDataError::BadHash),
    };
    let check: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    if !key.verify(&check.join("\n"), &hash) {
        return Err(InitDataError::BadHash);
    }
    // Signed by Telegram: now read what it says.
    let auth_secs: i64 = fields
        .get("auth_date")
        .ok_or(InitDataError::Missing("auth_date"))?
        .parse()
        .map_err(|_| InitDataError::BadField("auth_date"))?;
    let auth_date = Utc
        .timestamp_opt(auth_secs, 0)
        .single()
        .ok_or(InitDataError::BadField("auth_date"))?;
    if auth_date > now + MAX_SKEW {
        return Err(InitDataError::FromTheFuture);
    }
    if now.signed_duration_since(auth_date) > max_age {
        return Err(InitDataError::Expired {
            max_age_secs: max_age.num_seconds(),
        });
    }
    let user: WebAppUser =
        serde_json::from_str(fields.get("user").ok_or(InitDataError::Missing("user"))?)
            .map_err(|_| InitDataError::BadField("user"))?;
    if user.id <= 0 {
        return Err(InitDataError::BadField("user"));
    }
    Ok(InitData {
        user,
        auth_date,
        query_id: fields.get("query_id").cloned(),
    })
}

/// One URL-encoded part: `+` is a space, `%XX` a byte; the result must be
/// UTF-8.
fn decode(part: &str) -> Result<String, InitDataError> {
    let mut out: Vec<u8> = Vec::with_capacity(part.len());
    let bytes = part.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(InitDataError::Malformed)?;
                let text = std::str::from_utf8(hex).map_err(|_| InitDataError::Malformed)?;
                let byte = u8::from_str_radix(text, 16).map_err(|_| InitDataError::Malformed)?;
                out.push(byte);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| InitDataError::Malformed)
}

/// Signs `fields` as Telegram would and returns the initData string (URL-
/// encoded, `hash` last): for tests and local Mini App development.
pub fn sign_init_data(key: &WebAppKey, fields: &[(&str, &str)]) -> String {
    let mut sorted: Vec<(&str, &str)> = fields.to_vec();
    sorted.sort();
    let check: Vec<String> = sorted.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let hash = key.sign(&check.join("\n"));
    let mut out: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    out.push(format!("hash={hash}"));
    out.join("&")
}

fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "123456789:AAHfake-token-for-tests_only_0123456789";

    fn user_json() -> String {
        r#"{"id":4242,"first_name":"Ада","last_name":"L","username":"ada","language_code":"ru"}"#
            .into()
    }

    fn signed(auth: i64) -> String {
        let key = WebAppKey::from_token(TOKEN);
        sign_init_data(
            &key,
            &[
                ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
                ("user", &user_json()),
                ("auth_date", &auth.to_string()),
            ],
        )
    }

    fn now() -> DateTime<Utc> {
        Utc.timestamp_opt(1_765_000_000, 0).unwrap()
    }

    #[test]
    fn telegrams_documented_algorithm_by_hand() {
        // The algorithm written out with the hmac crate directly, not
        // through WebAppKey: secret = HMAC("WebAppData", token), hash =
        // HMAC(secret, sorted fields joined by \n).
        let dcs = "auth_date=1765000000\nquery_id=Q\nuser={\"id\":1,\"first_name\":\"A\"}";
        let mut m = HmacSha256::new_from_slice(b"WebAppData").unwrap();
        m.update(TOKEN.as_bytes());
        let secret = m.finalize().into_bytes();
        let mut m = HmacSha256::new_from_slice(&secret).unwrap();
        m.update(dcs.as_bytes());
        let hash = hex::encode(m.finalize().into_bytes());
        let raw = format!(
            "user=%7B%22id%22%3A1%2C%22first_name%22%3A%22A%22%7D&query_id=Q&auth_date=1765000000&hash={hash}"
        );
        let data = validate(&raw, &WebAppKey::from_token(TOKEN), now(), DEFAULT_MAX_AGE).unwrap();
        assert_eq!(data.user.id, 1);
        assert_eq!(data.query_id.as_deref(), Some("Q"));
    }

    #[test]
    fn valid_init_data_names_the_user() {
        let key = WebAppKey::from_token(TOKEN);
        let data = validate(&signed(1_765_000_000 - 60), &key, now(), DEFAULT_MAX_AGE).unwrap();
        assert_eq!(data.user.id, 4242);
        assert_eq!(data.user.first_name, "Ада");
        assert_eq!(data.user.language_code.as_deref(), Some("ru"));
    }

    #[test]
    fn forged_expired_and_malformed_init_data_is_refused() {
        let key = WebAppKey::from_token(TOKEN);
        let good = signed(1_765_000_000 - 60);
        let other_bot = WebAppKey::from_token("987654321:AAHanother-bot-token_0123456789ab");
        assert_eq!(
            validate(&good, &other_bot, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::BadHash),
            "signed for another bot"
        );
        // One changed character of the user, the hash kept.
        let tampered = good.replace("4242", "4243");
        assert_eq!(
            validate(&tampered, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::BadHash)
        );
        // A flipped hash digit.
        let i = good.rfind("hash=").unwrap() + 5;
        let mut flipped = good.clone().into_bytes();
        flipped[i] = if flipped[i] == b'0' { b'1' } else { b'0' };
        let flipped = String::from_utf8(flipped).unwrap();
        assert_eq!(
            validate(&flipped, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::BadHash)
        );
        let old = signed(1_765_000_000 - 3601);
        assert_eq!(
            validate(&old, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::Expired { max_age_secs: 3600 })
        );
        assert!(
            validate(&old, &key, now(), Duration::hours(2)).is_ok(),
            "configurable"
        );
        let future = signed(1_765_000_000 + 3600);
        assert_eq!(
            validate(&future, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::FromTheFuture)
        );
        // A repeated field: even a signed one is refused (which value
        // would count is exactly what a forger would play with).
        let twice = format!("auth_date=1&{good}");
        assert_eq!(
            validate(&twice, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::DuplicateField("auth_date".into()))
        );
        // Missing fields, signed: no user, no auth_date.
        let no_user = sign_init_data(&key, &[("auth_date", "1764999990")]);
        assert_eq!(
            validate(&no_user, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::Missing("user"))
        );
        let no_date = sign_init_data(&key, &[("user", &user_json())]);
        assert_eq!(
            validate(&no_date, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::Missing("auth_date"))
        );
        let no_hash = good[..good.rfind("&hash=").unwrap()].to_string();
        assert_eq!(
            validate(&no_hash, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::Missing("hash"))
        );
        for bad in [
            "",
            "&",
            "a",
            "=x",
            "a=%zz&hash=00",
            "a=%e2%28&hash=00",
            "a=%4",
        ] {
            assert!(
                validate(bad, &key, now(), DEFAULT_MAX_AGE).is_err(),
                "{bad:?}"
            );
        }
        let huge = format!("{good}&x={}", "a".repeat(MAX_INIT_DATA));
        assert_eq!(
            validate(&huge, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::TooLong)
        );
        // A signed but nonsensical user.
        let bad_user = sign_init_data(
            &key,
            &[
                ("auth_date", "1764999990"),
                ("user", "{\"id\":-5,\"first_name\":\"x\"}"),
            ],
        );
        assert_eq!(
            validate(&bad_user, &key, now(), DEFAULT_MAX_AGE),
            Err(InitDataError::BadField("user"))
        );
    }

    #[test]
    fn the_key_never_prints() {
        assert_eq!(
            format!("{:?}", WebAppKey::from_token(TOKEN)),
            "WebAppKey(***)"
        );
    }

    proptest::proptest! {
        /// Anything at all as initData (odd Unicode, stray `%`, `&` and
        /// `=`, huge values): an error or a user, never a panic.
        #[test]
        fn any_string_is_refused_or_read_never_a_panic(raw in ".{0,400}") {
            let _ = validate(&raw, &WebAppKey::from_token(TOKEN), now(), DEFAULT_MAX_AGE);
        }

        /// Query-string-like noise around real field names.
        #[test]
        fn field_soup_is_refused(
            parts in proptest::collection::vec(("(hash|user|auth_date|query_id|[a-z%+]{0,6})", "[^&]{0,40}"), 0..8)
        ) {
            let raw: Vec<String> = parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let got = validate(&raw.join("&"), &WebAppKey::from_token(TOKEN), now(), DEFAULT_MAX_AGE);
            proptest::prop_assert!(got.is_err(), "unsigned data accepted: {raw:?}");
        }

        /// A valid string with any one byte changed no longer passes as the
        /// same user (or at all).
        #[test]
        fn one_changed_byte_breaks_the_signature(at in 0usize..400, to in proptest::char::range('!', '~')) {
            let good = signed(1_765_000_000 - 60);
            let i = at % good.len();
            proptest::prop_assume!(good.is_char_boundary(i) && good.is_char_boundary(i + 1));
            let mut bad = good.clone();
            bad.replace_range(i..i + 1, &to.to_string());
            proptest::prop_assume!(bad != good);
            let got = validate(&bad, &WebAppKey::from_token(TOKEN), now(), DEFAULT_MAX_AGE);
            if let Ok(data) = got {
                // Only a change the decoding undoes (e.g. a hex digit's case in the hash) may pass.
                proptest::prop_assert_eq!(data.user.id, 4242);
            }
        }
    }
}
