//! `/api/me/*`: one user's watchlist and alerts, for the Telegram Mini App
//! (and any frontend inside Telegram). Every request carries the Mini App's
//! initData as `Authorization: tma <initData>`, checked against the bot's
//! token ([`crate::telegram::webapp`]); anything else is a 401 that says
//! what is wrong. The routes exist only where the bot runs (they need its
//! token and its user store), and they act on the same records as the bot:
//! a watch added here is in `/list` at once.
//!
//! Answers are the user's own: `Cache-Control: private, no-store`.

use axum::Json;
use axum::extract::{FromRef, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::api::PriceView;
use super::error::{ApiError, ErrorResponses};
use super::params::ApiJson;
use crate::domain::user::{Alert, AlertId, AlertRule, AlertTarget, Contact, UserProfile, Watch};
use crate::domain::{ItemId, LatestPrice, Money, SeriesId};
use crate::sources::tracked::is_user_source;
use crate::store::{Store, UserStore};
use crate::telegram::webapp::{self, WebAppKey};

pub const TAG_ME: &str = "me";
/// The scheme's name in the OpenAPI document.
pub const SECURITY: &str = "tma";

/// What the `/api/me` routes need: the key initData is signed with, the
/// bot's stores and how old initData may be.
#[derive(Clone)]
pub struct MiniApp {
    pub key: WebAppKey,
    pub users: Arc<dyn UserStore>,
    pub store: Arc<dyn Store>,
    pub max_age: Duration,
}

/// The signed-in user, from `Authorization: tma <initData>`.
pub struct Me {
    pub user: UserProfile,
    pub now: DateTime<Utc>,
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError {
        status: StatusCode::UNAUTHORIZED,
        code,
        message: message.into(),
    }
}

impl<S> FromRequestParts<S> for Me
where
    S: Send + Sync,
    MiniApp: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Me, ApiError> {
        let app = MiniApp::from_ref(state);
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| {
                unauthorized(
                    "missing_init_data",
                    "send the Mini App's initData as `Authorization: tma <initData>`",
                )
            })?
            .to_str()
            .map_err(|_| {
                unauthorized("invalid_init_data", "the Authorization header is not text")
            })?;
        let raw = header.strip_prefix("tma ").ok_or_else(|| {
            unauthorized(
                "missing_init_data",
                "the Authorization header must be `tma <initData>`",
            )
        })?;
        let now = Utc::now();
        let data = webapp::validate(raw.trim(), &app.key, now, app.max_age).map_err(|e| {
            let code = match e {
                webapp::InitDataError::Expired { .. } => "expired_init_data",
                _ => "invalid_init_data",
            };
            unauthorized(code, e.to_string())
        })?;
        let user = UserProfile {
            id: crate::domain::user::UserId(data.user.id),
            first_name: data.user.first_name,
            last_name: data.user.last_name,
            username: data.user.username,
            language_code: data.user.language_code,
        };
        // The bot knows the user from now on, as after a first message.
        app.users
            .touch_user(&Contact {
                profile: user.clone(),
                at: now,
                referrer: None,
            })
            .await?;
        Ok(Me { user, now })
    }
}

fn private(resp: impl IntoResponse) -> Response {
    let mut resp = resp.into_response();
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("private, no-store"),
    );
    resp
}

/// The signed-in user.
#[derive(Serialize, ToSchema)]
pub struct Profile {
    id: i64,
    first_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    /// The language the bot speaks to them (`en`, `ru`, `ar`, `fr`).
    language: String,
    watches: usize,
    alerts: usize,
}

#[utoipa::path(
    get,
    path = "/me",
    tag = TAG_ME,
    summary = "Who is signed in, with counts",
    security(("tma" = [])),
    responses((status = 200, description = "The user", body = Profile), (status = 401, description = "No valid initData", body = super::error::ErrorBody), ErrorResponses)
)]
pub async fn me(State(app): State<MiniApp>, me: Me) -> Result<Response, ApiError> {
    let user = app.users.user(me.user.id).await?;
    let language = user
        .as_ref()
        .map(|u| u.lang().code().to_string())
        .unwrap_or_else(|| "en".into());
    let watches = app.users.watches(me.user.id).await?.len();
    let alerts = app.users.alerts(me.user.id).await?.len();
    Ok(private(Json(Profile {
        id: me.user.id.0,
        first_name: me.user.first_name,
        username: me.user.username,
        language,
        watches,
        alerts,
    })))
}

/// A watched item, with its latest price (null when the item is gone).
#[derive(Serialize, ToSchema)]
pub struct WatchView {
    item_id: ItemId,
    added_at: DateTime<Utc>,
    /// When the user marked it bought; null while it is still wanted.
    purchased_at: Option<DateTime<Utc>>,
    item: Option<PriceView>,
}

#[derive(Serialize, ToSchema)]
pub struct Watchlist {
    watches: Vec<WatchView>,
}

/// The item a user may see: the operator's, or a pasted page of their own.
async fn visible_item(app: &MiniApp, me: &Me, id: &ItemId) -> Result<LatestPrice, ApiError> {
    let unknown = || {
        ApiError::not_found(
            "unknown_item",
            format!("no item {id}; GET /api/prices lists them"),
        )
    };
    let item = app.store.latest_price(id).await?.ok_or_else(unknown)?;
    if is_user_source(&item.source_id) {
        let own = app
            .users
            .tracked_pages_of(me.user.id)
            .await?
            .iter()
            .any(|p| p.source_id == item.source_id);
        let watched = app
            .users
            .watches(me.user.id)
            .await?
            .iter()
            .any(|w| &w.item == id);
        if !own && !watched {
            return Err(unknown());
        }
    }
    Ok(item)
}

async fn watchlist(app: &MiniApp, me: &Me) -> Result<Watchlist, ApiError> {
    let mut out = Vec::new();
    for w in app.users.watches(me.user.id).await? {
        let item = app.store.latest_price(&w.item).await?.map(PriceView::from);
        out.push(WatchView {
            item_id: w.item,
            added_at: w.created_at,
            purchased_at: w.purchased_at,
            item,
        });
    }
    Ok(Watchlist { watches: out })
}

#[utoipa::path(
    get,
    path = "/me/watches",
    tag = TAG_ME,
    summary = "The user's watchlist (the bot's /list), oldest first",
    security(("tma" = [])),
    responses((status = 200, description = "The watchlist", body = Watchlist), (status = 401, description = "No valid initData", body = super::error::ErrorBody), ErrorResponses)
)]
pub async fn list_watches(State(app): State<MiniApp>, me: Me) -> Result<Response, ApiError> {
    Ok(private(Json(watchlist(&app, &me).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWatch {
    item_id: ItemId,
}

#[utoipa::path(
    post,
    path = "/me/watches",
    tag = TAG_ME,
    summary = "Watch an item (the bot's /add)",
    security(("tma" = [])),
    request_body = NewWatch,
    responses(
        (status = 201, description = "Added; the whole watchlist", body = Watchlist),
        (status = 200, description = "Already watched; the whole watchlist", body = Watchlist),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn add_watch(
    State(app): State<MiniApp>,
    me: Me,
    ApiJson(body): ApiJson<NewWatch>,
) -> Result<Response, ApiError> {
    let item = visible_item(&app, &me, &body.item_id).await?;
    let added = app
        .users
        .add_watch(&Watch {
            user: me.user.id,
            item: item.item_id,
            created_at: me.now,
            purchased_at: None,
        })
        .await?;
    let status = if added {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(private((status, Json(watchlist(&app, &me).await?))))
}

#[utoipa::path(
    delete,
    path = "/me/watches/{item_id}",
    tag = TAG_ME,
    summary = "Stop watching an item (the bot's /remove)",
    security(("tma" = [])),
    params(("item_id" = ItemId, Path, description = "The watched item")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn remove_watch(
    State(app): State<MiniApp>,
    me: Me,
    Path(item_id): Path<String>,
) -> Result<Response, ApiError> {
    let id = ItemId::new(item_id).map_err(|e| ApiError::bad_request(format!("item id: {e}")))?;
    if !app.users.remove_watch(me.user.id, &id).await? {
        return Err(ApiError::not_found(
            "not_watched",
            format!("{id} is not on your watchlist"),
        ));
    }
    Ok(private(StatusCode::NO_CONTENT))
}

/// A change to a watch.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"purchased": true}))]
pub struct WatchChange {
    /// true marks the item bought (it stays on the list, ticked off);
    /// false puts it back on the wishlist.
    purchased: bool,
}

#[utoipa::path(
    patch,
    path = "/me/watches/{item_id}",
    tag = TAG_ME,
    summary = "Mark a watched item as purchased, or not",
    security(("tma" = [])),
    params(("item_id" = ItemId, Path, description = "The watched item")),
    request_body = WatchChange,
    responses(
        (status = 200, description = "Changed; the whole watchlist", body = Watchlist),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn change_watch(
    State(app): State<MiniApp>,
    me: Me,
    Path(item_id): Path<String>,
    ApiJson(body): ApiJson<WatchChange>,
) -> Result<Response, ApiError> {
    let id = ItemId::new(item_id).map_err(|e| ApiError::bad_request(format!("item id: {e}")))?;
    let at = body.purchased.then_some(me.now);
    if !app.users.set_purchased(me.user.id, &id, at).await? {
        return Err(ApiError::not_found(
            "not_watched",
            format!("{id} is not on your watchlist"),
        ));
    }
    Ok(private(Json(watchlist(&app, &me).await?)))
}

#[derive(Serialize, ToSchema)]
pub struct Cleared {
    removed: u32,
}

#[utoipa::path(
    delete,
    path = "/me/watches",
    tag = TAG_ME,
    summary = "Clear the watchlist (the bot's /clear)",
    security(("tma" = [])),
    responses(
        (status = 200, description = "How many were removed", body = Cleared),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn clear_watches(State(app): State<MiniApp>, me: Me) -> Result<Response, ApiError> {
    let removed = app.users.clear_watches(me.user.id).await?;
    Ok(private(Json(Cleared { removed })))
}

/// When an alert fires. Prices are decimal strings in the item's currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum RuleView {
    /// The price goes under `price`.
    Below {
        #[schema(value_type = String, pattern = "^([1-9][0-9]{0,11}(\\.[0-9]{1,8})?|0\\.[0-9]{0,7}[1-9])$", example = "12.50")]
        price: String,
    },
    /// The price goes over `price`.
    Above {
        #[schema(value_type = String, pattern = "^([1-9][0-9]{0,11}(\\.[0-9]{1,8})?|0\\.[0-9]{0,7}[1-9])$", example = "99.90")]
        price: String,
    },
    /// The price drops by at least `percent` (0 < percent < 100).
    Drop {
        #[schema(value_type = String, pattern = "^([1-9][0-9]?(\\.[0-9]{1,8})?|0\\.[0-9]{0,7}[1-9])$", example = "10")]
        percent: String,
    },
    /// The item is back in stock.
    BackInStock,
    /// A new listing in the series under `price` (made in the bot).
    NewListingUnder {
        #[schema(value_type = String, example = "450")]
        price: String,
    },
}

impl RuleView {
    fn of(rule: &AlertRule) -> RuleView {
        match rule {
            AlertRule::Below { price } => RuleView::Below {
                price: price.amount.normalize().to_string(),
            },
            AlertRule::Above { price } => RuleView::Above {
                price: price.amount.normalize().to_string(),
            },
            AlertRule::Drop { percent } => RuleView::Drop {
                percent: percent.normalize().to_string(),
            },
            AlertRule::BackInStock => RuleView::BackInStock,
            AlertRule::NewListingUnder { price } => RuleView::NewListingUnder {
                price: price.amount.normalize().to_string(),
            },
        }
    }

    /// The rule for `item`: thresholds in the item's currency.
    fn to_rule(&self, item: &LatestPrice) -> Result<AlertRule, ApiError> {
        let threshold = |text: &str| -> Result<Money, ApiError> {
            let currency = item.price.as_ref().map(|p| p.currency).ok_or_else(|| {
                ApiError::bad_request(
                    "the item has no price yet, so its currency is unknown; use back_in_stock",
                )
            })?;
            let amount = super::params::plain_decimal(text, 12, true).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "price must be a positive decimal such as \"12.50\" (at most 12 digits, 8 after the point), got {text:?}"
                ))
            })?;
            Ok(Money::new(amount, currency))
        };
        Ok(match self {
            RuleView::Below { price } => AlertRule::Below {
                price: threshold(price)?,
            },
            RuleView::Above { price } => AlertRule::Above {
                price: threshold(price)?,
            },
            RuleView::Drop { percent } => {
                let p = super::params::plain_decimal(percent, 2, true).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "percent must be a number above 0 and below 100 such as \"10\" or \"2.5\", got {percent:?}"
                    ))
                })?;
                AlertRule::Drop { percent: p }
            }
            RuleView::BackInStock => AlertRule::BackInStock,
            RuleView::NewListingUnder { .. } => {
                return Err(ApiError::bad_request(
                    "new_listing_under alerts are on series; make them in the bot with /alert new",
                ));
            }
        })
    }
}

/// An alert as the user sees it.
#[derive(Serialize, ToSchema)]
pub struct AlertView {
    #[schema(value_type = String, example = "k3j9x0q2m1")]
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    item_id: Option<ItemId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    series_id: Option<SeriesId>,
    rule: RuleView,
    /// The currency of the rule's prices.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "EUR")]
    currency: Option<String>,
    /// False while muted.
    active: bool,
    created_at: DateTime<Utc>,
    last_fired_at: Option<DateTime<Utc>>,
}

impl AlertView {
    fn of(a: &Alert) -> AlertView {
        let (item_id, series_id) = match &a.target {
            AlertTarget::Item(i) => (Some(i.clone()), None),
            AlertTarget::Series(s) => (None, Some(s.clone())),
        };
        let currency = match &a.rule {
            AlertRule::Below { price }
            | AlertRule::Above { price }
            | AlertRule::NewListingUnder { price } => Some(price.currency.to_string()),
            _ => None,
        };
        AlertView {
            id: a.id.to_string(),
            item_id,
            series_id,
            rule: RuleView::of(&a.rule),
            currency,
            active: a.active,
            created_at: a.created_at,
            last_fired_at: a.last_fired_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Alerts {
    alerts: Vec<AlertView>,
}

#[utoipa::path(
    get,
    path = "/me/alerts",
    tag = TAG_ME,
    summary = "The user's alerts (the bot's /alerts), oldest first",
    security(("tma" = [])),
    responses((status = 200, description = "The alerts", body = Alerts), (status = 401, description = "No valid initData", body = super::error::ErrorBody), ErrorResponses)
)]
pub async fn list_alerts(State(app): State<MiniApp>, me: Me) -> Result<Response, ApiError> {
    let alerts = app.users.alerts(me.user.id).await?;
    Ok(private(Json(Alerts {
        alerts: alerts.iter().map(AlertView::of).collect(),
    })))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAlert {
    item_id: ItemId,
    rule: RuleView,
}

#[utoipa::path(
    post,
    path = "/me/alerts",
    tag = TAG_ME,
    summary = "Set an alert on an item (the bot's /alert)",
    security(("tma" = [])),
    request_body = NewAlert,
    responses(
        (status = 201, description = "The new alert", body = AlertView),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn create_alert(
    State(app): State<MiniApp>,
    me: Me,
    ApiJson(body): ApiJson<NewAlert>,
) -> Result<Response, ApiError> {
    let item = visible_item(&app, &me, &body.item_id).await?;
    let rule = body.rule.to_rule(&item)?;
    let alert = Alert {
        id: AlertId::random(),
        user: me.user.id,
        target: AlertTarget::Item(item.item_id.clone()),
        rule,
        created_at: me.now,
        active: true,
        armed: true,
        reference_price: item.price.clone(),
        last_fired_at: None,
    };
    app.users.put_alert(&alert).await?;
    Ok(private((StatusCode::CREATED, Json(AlertView::of(&alert)))))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertChange {
    /// false mutes the alert, true turns it back on.
    #[serde(default)]
    active: Option<bool>,
    /// A new rule (for an item alert).
    #[serde(default)]
    rule: Option<RuleView>,
}

async fn own_alert(app: &MiniApp, me: &Me, raw: &str) -> Result<Alert, ApiError> {
    let unknown = || ApiError::not_found("unknown_alert", "you have no alert with this id");
    let id = AlertId::try_from(raw.to_string()).map_err(|_| {
        ApiError::bad_request("an alert id is 10 characters: lowercase letters and digits 2-7")
    })?;
    app.users
        .alerts(me.user.id)
        .await?
        .into_iter()
        .find(|a| a.id == id)
        .ok_or_else(unknown)
}

#[utoipa::path(
    patch,
    path = "/me/alerts/{id}",
    tag = TAG_ME,
    summary = "Mute, unmute or change an alert",
    security(("tma" = [])),
    params(("id" = String, Path, pattern = "^[a-z2-7]{10}$", description = "The alert's id")),
    request_body = AlertChange,
    responses(
        (status = 200, description = "The alert as it is now", body = AlertView),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        (status = 409, description = "The alert changed meanwhile (in the bot or when it fired); read it again", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn change_alert(
    State(app): State<MiniApp>,
    me: Me,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<AlertChange>,
) -> Result<Response, ApiError> {
    let before = own_alert(&app, &me, &id).await?;
    let mut after = before.clone();
    if let Some(active) = change.active {
        after.active = active;
    }
    if let Some(rule) = &change.rule {
        let AlertTarget::Item(item_id) = &before.target else {
            return Err(ApiError::bad_request(
                "a series alert's rule is changed in the bot",
            ));
        };
        let item = visible_item(&app, &me, item_id).await?;
        after.rule = rule.to_rule(&item)?;
        after.armed = true;
        after.reference_price = item.price.clone();
    }
    // Conditional on what was read: a delete, mute or firing in between
    // wins, and the client is told to read again.
    if before != after && !app.users.update_alert(&before, &after).await? {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "changed_meanwhile",
            message: "the alert changed meanwhile (in the bot, or it fired); read it again".into(),
        });
    }
    Ok(private(Json(AlertView::of(&after))))
}

#[utoipa::path(
    delete,
    path = "/me/alerts/{id}",
    tag = TAG_ME,
    summary = "Delete an alert",
    security(("tma" = [])),
    params(("id" = String, Path, pattern = "^[a-z2-7]{10}$", description = "The alert's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid initData", body = super::error::ErrorBody),
        ErrorResponses
    )
)]
pub async fn delete_alert(
    State(app): State<MiniApp>,
    me: Me,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let alert = own_alert(&app, &me, &id).await?;
    if !app.users.delete_alert(me.user.id, &alert.id).await? {
        return Err(ApiError::not_found(
            "unknown_alert",
            "you have no alert with this id",
        ));
    }
    Ok(private(StatusCode::NO_CONTENT))
}
