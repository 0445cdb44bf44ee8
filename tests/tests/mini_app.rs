//! `/api/me/*` for the Telegram Mini App: sign-in with initData exactly as
//! Telegram signs it, refusal of anything forged, expired or malformed,
//! and the same watchlist and alerts as the bot (a watch added in the app
//! is in `/list` at once, one the bot added is in the app).

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::Utc;
use http_body_util::BodyExt;
use pricehound::domain::user::UserId;
use pricehound::telegram::webapp::{WebAppKey, sign_init_data};
use pricehound_tests::bot::{BotHarness, TOKEN};
use serde_json::{Value, json};
use tower::ServiceExt;

const USER: i64 = 777_001;
const ITEM: &str = "htreviews-tobacco:darkside-cola";

fn init_data_for(token: &str, user: i64, auth_date: i64) -> String {
    let user_json = json!({"id": user, "first_name": "Mini", "username": "mini_app_user", "language_code": "en"}).to_string();
    sign_init_data(
        &WebAppKey::from_token(token),
        &[
            ("query_id", "AAHdF6IQAAAAAN0XohDhrOrc"),
            ("user", &user_json),
            ("auth_date", &auth_date.to_string()),
        ],
    )
}

fn signed(user: i64) -> String {
    format!(
        "tma {}",
        init_data_for(TOKEN, user, Utc::now().timestamp() - 5)
    )
}

async fn call(
    bot: &BotHarness,
    method: &str,
    uri: &str,
    auth: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value, axum::http::HeaderMap) {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let body = match body {
        Some(b) => {
            req = req.header("content-type", "application/json");
            Body::from(b.to_string())
        }
        None => Body::empty(),
    };
    let resp = bot
        .app
        .clone()
        .oneshot(req.body(body).unwrap())
        .await
        .unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, json, headers)
}

#[tokio::test]
async fn without_valid_init_data_every_route_is_401_with_a_reason() {
    let bot = BotHarness::start().await;
    let now = Utc::now().timestamp();
    let other_bot = format!(
        "tma {}",
        init_data_for("987654321:AAHanother-bot-token_0123456789ab", USER, now)
    );
    let expired = format!("tma {}", init_data_for(TOKEN, USER, now - 3 * 3600));
    let good = init_data_for(TOKEN, USER, now);
    let tampered = format!("tma {}", good.replace("777001", "777002"));
    let twice = format!("tma auth_date={now}&{good}");
    let no_hash = format!("tma {}", &good[..good.rfind("&hash=").unwrap()]);
    let cases: Vec<(Option<String>, &str)> = vec![
        (None, "missing_init_data"),
        (Some("Bearer abc".into()), "missing_init_data"),
        (Some("tma ".into()), "invalid_init_data"),
        (Some(other_bot), "invalid_init_data"),
        (Some(tampered), "invalid_init_data"),
        (Some(twice), "invalid_init_data"),
        (Some(no_hash), "invalid_init_data"),
        (Some(expired), "expired_init_data"),
    ];
    for (method, uri, body) in [
        ("GET", "/api/me", None),
        ("GET", "/api/me/watches", None),
        ("POST", "/api/me/watches", Some(json!({"item_id": ITEM}))),
        ("DELETE", "/api/me/watches", None),
        ("GET", "/api/me/alerts", None),
        ("DELETE", "/api/me/alerts/abcdefghij", None),
    ] {
        for (auth, code) in &cases {
            let (s, v, _) = call(&bot, method, uri, auth.as_deref(), body.clone()).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "{method} {uri} with {auth:?}: {v}"
            );
            assert_eq!(
                v["error"]["code"], *code,
                "{method} {uri} with {auth:?}: {v}"
            );
            assert!(!v.to_string().contains(TOKEN), "the token never leaks");
        }
    }
    // Nothing was written for anyone.
    assert!(bot.users().watches(UserId(USER)).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_watch_added_in_the_app_is_in_the_bots_list_and_back() {
    let bot = BotHarness::start().await;
    let auth = signed(USER);
    let (s, me, h) = call(&bot, "GET", "/api/me", Some(&auth), None).await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(me["id"], USER);
    assert_eq!(me["watches"], 0);
    assert_eq!(h["cache-control"], "private, no-store");

    let (s, list, _) = call(
        &bot,
        "POST",
        "/api/me/watches",
        Some(&auth),
        Some(json!({"item_id": ITEM})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{list}");
    assert_eq!(list["watches"][0]["item_id"], ITEM);
    assert_eq!(list["watches"][0]["item"]["name"], "Darkside Cola");
    let (s, _, _) = call(
        &bot,
        "POST",
        "/api/me/watches",
        Some(&auth),
        Some(json!({"item_id": ITEM})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "already watched");

    // The bot shows it in /list at once.
    let calls = bot.say(USER, "en", "/list").await;
    let text = calls
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("Darkside Cola"), "{text}");

    // And what the bot adds is in the app.
    bot.say(USER, "en", "/add musthave pinkman").await;
    let (_, list, _) = call(&bot, "GET", "/api/me/watches", Some(&auth), None).await;
    let ids: Vec<&str> = list["watches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["item_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![ITEM, "htreviews-tobacco:musthave-pinkman"],
        "{list}"
    );

    // Marked bought in the app: still listed, ticked off in the bot's /list.
    let (s, list, _) = call(
        &bot,
        "PATCH",
        &format!("/api/me/watches/{ITEM}"),
        Some(&auth),
        Some(json!({"purchased": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert!(list["watches"][0]["purchased_at"].is_string(), "{list}");
    assert!(list["watches"][1]["purchased_at"].is_null(), "{list}");
    let calls = bot.say(USER, "en", "/list").await;
    let text = calls
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("✅ <b>Darkside Cola</b>"), "{text}");
    assert!(!text.contains("✅ <b>Musthave"), "{text}");
    for (uri, body, status) in [
        (
            format!("/api/me/watches/{ITEM}"),
            json!({"purchased": "yes"}),
            StatusCode::BAD_REQUEST,
        ),
        (
            format!("/api/me/watches/{ITEM}"),
            json!({}),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/me/watches/htreviews-tobacco:nope".to_string(),
            json!({"purchased": true}),
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (s, v, _) = call(&bot, "PATCH", &uri, Some(&auth), Some(body.clone())).await;
        assert_eq!(s, status, "{uri} {body}: {v}");
    }
    let (s, list, _) = call(
        &bot,
        "PATCH",
        &format!("/api/me/watches/{ITEM}"),
        Some(&auth),
        Some(json!({"purchased": false})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{list}");
    assert!(list["watches"][0]["purchased_at"].is_null(), "{list}");

    // Another user sees none of it.
    let (_, other, _) = call(
        &bot,
        "GET",
        "/api/me/watches",
        Some(&signed(USER + 1)),
        None,
    )
    .await;
    assert_eq!(other["watches"], json!([]));

    let (s, _, _) = call(
        &bot,
        "DELETE",
        &format!("/api/me/watches/{ITEM}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v, _) = call(
        &bot,
        "DELETE",
        &format!("/api/me/watches/{ITEM}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_watched"))
    );
    let (s, v, _) = call(&bot, "DELETE", "/api/me/watches", Some(&auth), None).await;
    assert_eq!((s, v["removed"].as_u64()), (StatusCode::OK, Some(1)));
    assert!(bot.users().watches(UserId(USER)).await.unwrap().is_empty());

    // Unknown items and bad bodies are 4xx with a reason, nothing stored.
    for (body, status) in [
        (
            json!({"item_id": "htreviews-tobacco:nope"}),
            StatusCode::NOT_FOUND,
        ),
        (json!({"item_id": "NOT AN ID"}), StatusCode::BAD_REQUEST),
        (json!({"item": ITEM}), StatusCode::BAD_REQUEST),
        (json!([1, 2]), StatusCode::BAD_REQUEST),
    ] {
        let (s, v, _) = call(
            &bot,
            "POST",
            "/api/me/watches",
            Some(&auth),
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, status, "{body}: {v}");
        assert!(v["error"]["message"].is_string());
    }
    assert!(bot.users().watches(UserId(USER)).await.unwrap().is_empty());
}

#[tokio::test]
async fn alerts_are_made_muted_changed_and_deleted_from_the_app() {
    let bot = BotHarness::start().await;
    let auth = signed(USER);
    let (s, a, _) = call(
        &bot,
        "POST",
        "/api/me/alerts",
        Some(&auth),
        Some(json!({"item_id": ITEM, "rule": {"kind": "below", "price": "1400"}})),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["rule"], json!({"kind": "below", "price": "1400"}));
    assert_eq!(a["currency"], "RUB");
    assert_eq!(a["active"], true);
    let id = a["id"].as_str().unwrap().to_string();

    // The bot lists it.
    let calls = bot.say(USER, "en", "/alerts").await;
    let text = calls
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("Darkside Cola"), "{text}");

    // Mute, then change the rule.
    let (s, a, _) = call(
        &bot,
        "PATCH",
        &format!("/api/me/alerts/{id}"),
        Some(&auth),
        Some(json!({"active": false})),
    )
    .await;
    assert_eq!((s, &a["active"]), (StatusCode::OK, &json!(false)), "{a}");
    let (s, a, _) = call(
        &bot,
        "PATCH",
        &format!("/api/me/alerts/{id}"),
        Some(&auth),
        Some(json!({"rule": {"kind": "drop", "percent": "15"}, "active": true})),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert_eq!(a["rule"], json!({"kind": "drop", "percent": "15"}));
    let stored = bot.users().alerts(UserId(USER)).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].active);

    // Bad rules, someone else's alert, malformed ids.
    for rule in [
        json!({"kind": "drop", "percent": "150"}),
        json!({"kind": "below", "price": "-3"}),
        json!({"kind": "below", "price": "abc"}),
        json!({"kind": "sideways"}),
        json!({"kind": "new_listing_under", "price": "5"}),
    ] {
        let (s, v, _) = call(
            &bot,
            "POST",
            "/api/me/alerts",
            Some(&auth),
            Some(json!({"item_id": ITEM, "rule": rule})),
        )
        .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{rule}: {v}");
    }
    let (s, _, _) = call(
        &bot,
        "DELETE",
        &format!("/api/me/alerts/{id}"),
        Some(&signed(USER + 1)),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "not theirs");
    let (s, _, _) = call(
        &bot,
        "DELETE",
        "/api/me/alerts/NOT-AN-ID",
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(bot.users().alerts(UserId(USER)).await.unwrap().len(), 2 - 1);

    let (s, _, _) = call(
        &bot,
        "DELETE",
        &format!("/api/me/alerts/{id}"),
        Some(&auth),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert!(bot.users().alerts(UserId(USER)).await.unwrap().is_empty());
    let (s, _, _) = call(
        &bot,
        "PATCH",
        &format!("/api/me/alerts/{id}"),
        Some(&auth),
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "a deleted alert does not come back"
    );
}

#[tokio::test]
async fn the_mini_app_routes_are_documented_with_their_security() {
    let bot = BotHarness::start().await;
    let (_, doc, _) = call(&bot, "GET", "/api/openapi.json", None, None).await;
    let scheme = &doc["components"]["securitySchemes"]["tma"];
    assert_eq!(scheme["type"], "apiKey", "{scheme}");
    assert_eq!(scheme["in"], "header");
    assert_eq!(scheme["name"], "Authorization");
    for (path, method) in [
        ("/api/me", "get"),
        ("/api/me/watches", "get"),
        ("/api/me/watches", "post"),
        ("/api/me/watches", "delete"),
        ("/api/me/watches/{item_id}", "delete"),
        ("/api/me/alerts", "get"),
        ("/api/me/alerts", "post"),
        ("/api/me/alerts/{id}", "patch"),
        ("/api/me/alerts/{id}", "delete"),
    ] {
        let op = &doc["paths"][path][method];
        assert_eq!(op["security"], json!([{"tma": []}]), "{method} {path}");
        assert!(op["responses"]["401"].is_object(), "{method} {path}");
    }
}

/// The document's pattern for an alert's price is exactly what the route
/// takes: every candidate is accepted (201) if and only if it matches.
#[tokio::test]
async fn the_documented_price_pattern_is_what_the_route_takes() {
    let bot = BotHarness::start().await;
    let auth = signed(USER);
    let (_, doc, _) = call(&bot, "GET", "/api/openapi.json", None, None).await;
    let doc = doc.to_string();
    let start = doc
        .find("\"pattern\":\"^([1-9][0-9]{0,11}")
        .expect("the price pattern")
        + 11;
    let end = start + doc[start..].find('"').unwrap();
    let pattern = doc[start..end].replace("\\\\", "\\");
    let re = regex::Regex::new(&pattern).unwrap();
    for price in [
        "1",
        "12.50",
        "0.5",
        "0.05",
        "0.50",
        "0",
        "0.0",
        "01",
        "1.",
        ".5",
        "-1",
        "+1",
        "1e3",
        " 1",
        "1 ",
        "123456789012",
        "1234567890123",
        "1.12345678",
        "1.123456789",
        "١٢",
        "1,5",
        "",
    ] {
        let (s, v, _) = call(
            &bot,
            "POST",
            "/api/me/alerts",
            Some(&auth),
            Some(json!({"item_id": ITEM, "rule": {"kind": "above", "price": price}})),
        )
        .await;
        let want = if re.is_match(price) {
            StatusCode::CREATED
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_eq!(s, want, "{price:?}: {v}");
    }
}

/// With the app's URL configured, the bot's item view, /list and /alerts
/// carry an "open in app" button (a web_app button to the right tab); without
/// it, none.
#[tokio::test]
async fn the_bot_offers_the_app_where_it_is_configured() {
    use pricehound::telegram::bot::BotConfig;
    let app_url = "https://abc.lambda-url.eu-west-1.on.aws/app";
    let bot = BotHarness::start_with(BotConfig {
        app_url: Some(app_url.into()),
        ..BotConfig::default()
    })
    .await;
    let web_apps = |calls: &[Value]| -> Vec<String> {
        calls
            .iter()
            .flat_map(|c| {
                c["reply_markup"]["inline_keyboard"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["web_app"]["url"].as_str().map(str::to_string))
            .collect()
    };
    bot.say(USER, "en", "/add darkside cola").await;
    let list = bot.say(USER, "en", "/list").await;
    assert_eq!(
        web_apps(&list),
        vec![format!("{app_url}?tab=list")],
        "{list:?}"
    );
    bot.say(USER, "en", "/alert darkside cola below 1000").await;
    let alerts = bot.say(USER, "ru", "/alerts").await;
    assert_eq!(web_apps(&alerts), vec![format!("{app_url}?tab=alerts")]);
    let button_text = alerts
        .iter()
        .flat_map(|c| {
            c["reply_markup"]["inline_keyboard"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flatten_rows();
    assert!(
        button_text.iter().any(|t| t.contains("Открыть приложение")),
        "{button_text:?}"
    );

    let plain = BotHarness::start().await;
    plain.say(USER, "en", "/add darkside cola").await;
    assert!(web_apps(&plain.say(USER, "en", "/list").await).is_empty());
}

trait FlattenRows {
    fn flatten_rows(self) -> Vec<String>;
}

impl<I: Iterator<Item = Value>> FlattenRows for I {
    fn flatten_rows(self) -> Vec<String> {
        self.flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["text"].as_str().map(str::to_string))
            .collect()
    }
}
