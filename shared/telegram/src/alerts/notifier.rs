//! From price changes to the messages users get: match alerts by item and
//! series, evaluate them ([`super::rules`]), apply the per-user daily cap,
//! and render each message in its user's language.
//!
//! Planning and applying are separate so a caller can put the messages
//! somewhere safe (the notifications queue) before the alerts' new state is
//! stored: a crash in between re-plans the same change and sends again
//! (deduplicated by notification id) rather than losing the message.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use super::rules::{AlertPolicy, evaluate};
use crate::bot::button_data;
use crate::bot::views;
use crate::bus::PriceChanged;
use crate::callback::Callback;
use crate::domain::user::{Alert, AlertId, AlertTarget, Lang, User, UserId};
use crate::html;
use crate::methods::{Method, SendMessage};
use crate::store::{StoreError, UserStore};
use crate::texts::{Text, render};
use crate::types::{InlineKeyboardButton, InlineKeyboardMarkup};
use pricehound_core::metric;

/// One message to one user about one alert and one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Hash of the alert and the observation: the same firing planned twice
    /// (a redelivered event) has the same id, and is sent once.
    pub id: String,
    pub user: UserId,
    pub alert_id: AlertId,
    pub chat_id: i64,
    pub text: String,
    #[serde(default)]
    pub keyboard: InlineKeyboardMarkup,
    /// Failed tries so far (network errors, Bot API 5xx). A 429 is
    /// Telegram pacing us, not a failure, and does not count.
    #[serde(default)]
    pub attempts: u32,
    /// When the notifier planned it; a message older than
    /// [`super::outbox::MAX_AGE_HOURS`] is not tried again. None in messages
    /// queued before the field existed (their age is unknown: attempts bound them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub planned_at: Option<DateTime<Utc>>,
}

impl Notification {
    pub fn method(&self) -> Method {
        Method::SendMessage(
            SendMessage::html(self.chat_id, &self.text).with_keyboard(self.keyboard.clone()),
        )
    }
}

/// One alert's state change: stored only if the alert is still `before`.
#[derive(Debug, Clone)]
pub struct AlertUpdate {
    pub before: Alert,
    pub after: Alert,
}

/// What a batch of changes does.
#[derive(Debug, Default)]
pub struct Plan {
    pub notifications: Vec<Notification>,
    /// Alerts whose state changed (fired, re-armed, reference set), with
    /// the state the plan read them in.
    pub updates: Vec<AlertUpdate>,
    /// Alerts looked at.
    pub matched: usize,
    /// Firings dropped by the per-user daily cap.
    pub capped: usize,
    /// Changes an alert would have fired on but for its cooldown.
    pub cooled: usize,
}

pub struct Notifier {
    pub users: Arc<dyn UserStore>,
    pub policy: AlertPolicy,
}

impl Notifier {
    pub fn new(users: Arc<dyn UserStore>, policy: AlertPolicy) -> Self {
        Notifier { users, policy }
    }

    /// Plans the messages for `changes`: one lookup per distinct item and
    /// series (never a scan of all alerts, never a read per alert), rules
    /// applied in the changes' order, the daily cap counted per user.
    pub async fn plan(
        &self,
        changes: &[PriceChanged],
        now: DateTime<Utc>,
    ) -> Result<Plan, StoreError> {
        let mut targets: Vec<AlertTarget> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for c in changes {
            let mut push = |t: AlertTarget| {
                if seen.insert(t.clone()) {
                    targets.push(t);
                }
            };
            push(AlertTarget::Item(c.item_id.clone()));
            if let Some(s) = &c.series {
                push(AlertTarget::Series(s.clone()));
            }
        }
        let alerts = self.users.active_alerts_for(&targets).await?;
        let mut plan = Plan {
            matched: alerts.len(),
            ..Plan::default()
        };
        // Alerts by target; state carried across changes of one batch.
        let mut by_target: HashMap<AlertTarget, Vec<usize>> = HashMap::new();
        for (i, a) in alerts.iter().enumerate() {
            by_target.entry(a.target.clone()).or_default().push(i);
        }
        let read = alerts.clone();
        let mut state = alerts;
        let mut changed: BTreeMap<usize, ()> = BTreeMap::new();
        let mut users: HashMap<UserId, Option<User>> = HashMap::new();
        let day = crate::store::rules::utc_day_start(now);
        // Per user: messages sent today (read once) and planned here.
        let mut sent: HashMap<UserId, u32> = HashMap::new();
        let mut planned: HashMap<UserId, u32> = HashMap::new();
        for change in changes {
            let mut hits: Vec<usize> = by_target
                .get(&AlertTarget::Item(change.item_id.clone()))
                .cloned()
                .unwrap_or_default();
            if let Some(s) = &change.series {
                hits.extend(
                    by_target
                        .get(&AlertTarget::Series(s.clone()))
                        .cloned()
                        .unwrap_or_default(),
                );
            }
            for i in hits {
                let eval = evaluate(&state[i], change, now, &self.policy);
                if !eval.fire && self.cooled(&state[i], change, now) {
                    plan.cooled += 1;
                }
                if !eval.fire {
                    if let Some(updated) = eval.updated {
                        state[i] = updated;
                        changed.insert(i, ());
                    }
                    continue;
                }
                let alert = &state[i];
                let user = match users.get(&alert.user) {
                    Some(u) => u.clone(),
                    None => {
                        let u = self.users.user(alert.user).await?;
                        users.insert(alert.user, u.clone());
                        u
                    }
                };
                let Some(user) = user.filter(|u| !u.blocked) else {
                    // Blocked or unknown users get nothing; their alerts go quiet.
                    let mut a = alert.clone();
                    a.active = false;
                    state[i] = a;
                    changed.insert(i, ());
                    continue;
                };
                // The cap counts what was sent today (the sender spends it)
                // and what this plan already holds for the user; planning
                // spends nothing, so a retried plan cannot use it up.
                let planned_for_user = planned.entry(user.profile.id).or_insert(0);
                let sent_today = match sent.get(&user.profile.id) {
                    Some(n) => *n,
                    None => {
                        let n = self.users.alert_quota_used(user.profile.id, day).await?;
                        sent.insert(user.profile.id, n);
                        n
                    }
                };
                if sent_today.saturating_add(*planned_for_user) >= self.policy.daily_cap {
                    plan.capped += 1;
                    continue;
                }
                *planned_for_user += 1;
                let updated = eval.updated.unwrap_or_else(|| alert.clone());
                plan.notifications
                    .push(self.render(&user, &updated, change, now).await?);
                state[i] = updated;
                changed.insert(i, ());
            }
        }
        plan.updates = changed
            .keys()
            .map(|i| AlertUpdate {
                before: read[*i].clone(),
                after: state[*i].clone(),
            })
            .collect();
        metrics::counter!(metric::ALERTS_PLANNED).increment(plan.notifications.len() as u64);
        metrics::counter!(metric::ALERTS_SUPPRESSED, "reason" => metric::REASON_CAP)
            .increment(plan.capped as u64);
        metrics::counter!(metric::ALERTS_SUPPRESSED, "reason" => metric::REASON_COOLDOWN)
            .increment(plan.cooled as u64);
        Ok(plan)
    }

    /// True when `alert` would have fired on `change` but for its cooldown.
    fn cooled(&self, alert: &Alert, change: &PriceChanged, now: DateTime<Utc>) -> bool {
        let no_cooldown = AlertPolicy {
            cooldown: chrono::Duration::zero(),
            ..self.policy
        };
        evaluate(alert, change, now, &no_cooldown).fire
    }

    /// Stores the alerts' new state, each only if the stored alert is still
    /// what the plan read: a delete, mute or edit made meanwhile wins.
    pub async fn apply(&self, plan: &Plan) -> Result<(), StoreError> {
        for u in &plan.updates {
            if !self.users.update_alert(&u.before, &u.after).await? {
                tracing::info!(
                    alert = %u.after.id,
                    "alert changed since it was planned (deleted, muted or edited); its planned state is dropped"
                );
            }
        }
        Ok(())
    }

    /// The message: item, rule, old → new price, percent, and buttons to
    /// open the item, open the source and mute the alert.
    async fn render(
        &self,
        user: &User,
        alert: &Alert,
        change: &PriceChanged,
        now: DateTime<Utc>,
    ) -> Result<Notification, StoreError> {
        let lang: Lang = user.lang();
        let price = |m: &Option<crate::domain::Money>| match m {
            Some(m) => html::money(lang, m),
            None => "—".to_string(),
        };
        let percent = change
            .percent_change
            .map(|p| {
                format!(
                    "{}{}%",
                    if p.is_sign_positive() && !p.is_zero() {
                        "+"
                    } else {
                        ""
                    },
                    p.normalize()
                )
            })
            .unwrap_or_default();
        let rule_html = views::rule(lang, alert);
        let text = render(
            lang,
            &Text::AlertFired {
                item: &change.item_name,
                rule_html: &rule_html,
                old: &price(&change.old_price),
                new: &price(&change.new_price),
                percent: &percent,
            },
        );
        let users = self.users.as_ref();
        let mut row = vec![InlineKeyboardButton::callback(
            render(lang, &Text::BtnOpen),
            button_data(users, &Callback::Item(change.item_id.clone()), now).await?,
        )];
        if change.link.starts_with("https://") || change.link.starts_with("http://") {
            row.push(InlineKeyboardButton::link(
                views::plain(&render(lang, &Text::OpenAtSource)),
                change.link.clone(),
            ));
        }
        row.push(InlineKeyboardButton::callback(
            render(lang, &Text::BtnMute),
            Callback::Mute(alert.id.clone()).encode(),
        ));
        let id = hex::encode(Sha256::digest(
            format!("{}\n{}", alert.id, change.observation_id).as_bytes(),
        ));
        Ok(Notification {
            id: id[..32].to_string(),
            user: user.profile.id,
            alert_id: alert.id.clone(),
            chat_id: user.profile.id.0,
            text,
            keyboard: InlineKeyboardMarkup {
                inline_keyboard: vec![row],
            },
            attempts: 0,
            planned_at: Some(now),
        })
    }
}
