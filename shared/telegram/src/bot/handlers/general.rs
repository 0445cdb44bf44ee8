//! The bot itself rather than the catalogue: `/start`, `/help`, `/lang`,
//! `/stats` and commands it does not know.

use crate::domain::user::Lang;

use crate::bot::views::{keyboard, plain};
use crate::callback::Callback;
use crate::html::escape;
use crate::texts::{Text, lang_name, render};
use crate::types::{InlineKeyboardButton as Button, InlineKeyboardMarkup};

use super::{Bot, ButtonReply, Ctx, Reply, item_from_deep_link};

impl Bot {
    /// `/start [payload]`: a deep link to an item opens it; else a welcome.
    pub(super) async fn start(&self, ctx: &Ctx, payload: Option<&str>, is_new: bool) -> Reply {
        if let Some(item) = payload.and_then(item_from_deep_link)
            && let Some(latest) = self.visible_item(ctx, &item).await?
        {
            return self.item_view(ctx, &latest, None).await.map(|m| vec![m]);
        }
        let first_name = ctx.user.profile.first_name.as_str();
        let text = if is_new {
            Text::Welcome { first_name }
        } else {
            Text::WelcomeBack { first_name }
        };
        Ok(vec![ctx.send(ctx.t(&text))])
    }

    /// `/help`.
    pub(super) fn help(&self, ctx: &Ctx) -> Reply {
        Ok(vec![ctx.send(ctx.t(&Text::Help))])
    }

    /// `/lang [code]`: sets the language, or offers them all as buttons.
    pub(super) async fn lang_command(&self, ctx: &Ctx, code: Option<&str>) -> Reply {
        if let Some(lang) = code.and_then(Lang::from_code) {
            self.users
                .set_language(ctx.user.profile.id, Some(lang))
                .await?;
            return Ok(vec![ctx.send(render(lang, &Text::LangSet))]);
        }
        let row = Lang::ALL
            .iter()
            .map(|l| Button::callback(lang_name(*l), Callback::Lang(*l).encode()))
            .collect();
        Ok(ctx.send_all(&ctx.t(&Text::LangChoose), keyboard(vec![row])))
    }

    /// A language picked under `/lang`: said in that language.
    pub(super) async fn lang_pressed(
        &self,
        ctx: &Ctx,
        lang: Lang,
        message_id: Option<i64>,
    ) -> ButtonReply {
        self.users
            .set_language(ctx.user.profile.id, Some(lang))
            .await?;
        let text = render(lang, &Text::LangSet);
        Ok((
            Some(plain(&text)),
            vec![ctx.edit_or_send(message_id, text, InlineKeyboardMarkup::default())],
        ))
    }

    /// `/stats`, for admins: users, commands used, alerts sent.
    pub(super) async fn stats(&self, ctx: &Ctx) -> Reply {
        if !self.config.admins.contains(&ctx.user.profile.id.0) {
            return Ok(vec![ctx.send(ctx.t(&Text::AdminOnly))]);
        }
        let s = self.users.usage_stats(ctx.now).await?;
        let mut lines = vec![
            ctx.t(&Text::StatsTitle),
            ctx.t(&Text::StatsUsers {
                users: s.users,
                daily: s.daily_active,
                weekly: s.weekly_active,
                monthly: s.monthly_active,
            }),
            String::new(),
            ctx.t(&Text::StatsCommandsTitle),
        ];
        for (name, count) in &s.commands {
            lines.push(format!("/{} — {count}", escape(name)));
        }
        lines.push(String::new());
        lines.push(ctx.t(&Text::StatsAlertsSent {
            count: s.alerts_sent,
        }));
        Ok(ctx.send_all(&lines.join("\n"), InlineKeyboardMarkup::default()))
    }

    /// A command the bot does not know (`name` as typed, cut to 32 characters).
    pub(super) fn unknown_command(&self, ctx: &Ctx, name: &str) -> Reply {
        Ok(vec![
            ctx.send(ctx.t(&Text::UnknownCommand { command: name })),
        ])
    }
}
