//! Every text the bot shows, in every language it speaks.
//!
//! A text is a [`Text`] value; each language is a module with one `render`
//! function that matches on every variant, so adding a text without
//! translating it, or a language without every text, does not compile.
//! Parameters are raw strings (scraped names, user input): the catalogues
//! escape them with [`esc`], and a test renders every text in every language
//! with hostile parameters and checks the result is valid Telegram HTML.

mod ar;
mod en;
mod fr;
mod ru;

use crate::domain::user::Lang;

pub(crate) use super::html::escape as esc;

/// One user-facing text and its parameters. Prices and times arrive
/// already formatted for the language (see `telegram::html`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text<'a> {
    // Greeting and help.
    Welcome {
        first_name: &'a str,
    },
    WelcomeBack {
        first_name: &'a str,
    },
    Help,
    UnknownCommand {
        command: &'a str,
    },
    SlowDown,
    SomethingWentWrong,
    ButtonExpired,

    // Prices, search and items.
    PricesTitle,
    PricesTitleSource {
        source: &'a str,
    },
    PricesEmpty,
    UnknownSource {
        source: &'a str,
        known: &'a str,
    },
    PageOf {
        page: usize,
        pages: usize,
    },
    SearchUsage,
    SearchResults {
        query: &'a str,
        count: usize,
    },
    SearchNothing {
        query: &'a str,
    },
    ItemUsage,
    ItemNotFound {
        query: &'a str,
    },
    ItemChoose {
        query: &'a str,
    },
    NoPrice,
    InStock,
    OutOfStock,
    Updated {
        when: &'a str,
    },
    SourceLine {
        source: &'a str,
    },
    OpenAtSource,

    // Watch list / wishlist.
    WatchUsage,
    Watching {
        item: &'a str,
    },
    AlreadyWatching {
        item: &'a str,
    },
    Unwatched {
        item: &'a str,
    },
    NotWatching {
        item: &'a str,
    },
    ListTitle {
        count: usize,
    },
    ListEmpty,
    ClearConfirm {
        count: usize,
    },
    Cleared {
        count: usize,
    },
    ClearCancelled,

    // Alerts.
    AlertUsage,
    AlertBadPrice {
        input: &'a str,
    },
    AlertBadPercent {
        input: &'a str,
    },
    /// `rule_html` is a rendered `Rule*` text (already escaped).
    AlertCreated {
        item: &'a str,
        rule_html: &'a str,
    },
    AlertPick {
        item: &'a str,
    },
    AlertsTitle {
        count: usize,
    },
    AlertsEmpty,
    AlertDeleted,
    AlertGone,
    RuleBelow {
        price: &'a str,
    },
    RuleAbove {
        price: &'a str,
    },
    RuleDrop {
        percent: &'a str,
    },
    RuleBackInStock,
    RuleNewListing {
        series: &'a str,
        price: &'a str,
    },
    Paused,
    /// A fired alert: `rule_html` is a rendered `Rule*` text; `old`, `new`
    /// are formatted prices ("—" when none), `percent` like "-12.5%" or empty.
    AlertFired {
        item: &'a str,
        rule_html: &'a str,
        old: &'a str,
        new: &'a str,
        percent: &'a str,
    },
    AlertMuted,

    // Charts.
    ChartUsage,
    ChartNoData {
        item: &'a str,
    },
    ChartCaption {
        item: &'a str,
        window: &'a str,
    },

    // Language.
    LangChoose,
    LangSet,

    // Admin statistics.
    AdminOnly,
    StatsTitle,
    StatsUsers {
        users: u64,
        daily: u64,
        weekly: u64,
        monthly: u64,
    },
    StatsCommandsTitle,
    StatsAlertsSent {
        count: u64,
    },

    // Pasted product links.
    TrackOffer {
        url: &'a str,
    },
    TrackStarted {
        item: &'a str,
        price: &'a str,
    },
    /// Any failure to read a pasted page, whatever it was: the user must
    /// not learn what the fetch met (no port-scanner oracle).
    TrackFailed,
    TrackUnavailable,
    /// "Track" was pressed: the page is being read, the answer follows.
    TrackReading,
    /// Too many pages are being read right now.
    TrackBusy,
    TrackLimitUser {
        limit: u32,
    },
    TrackLimitGlobal,
    /// "Track" was pressed while the user's previous page is still being read.
    TrackInFlight,
    /// The user pressed "Track" `limit` times today, the most per day.
    TrackLimitDaily {
        limit: u32,
    },
    Untracked {
        item: &'a str,
    },
    NotTracking {
        item: &'a str,
    },
    UntrackChoose,
    UntrackNone,

    // Buttons (plain text: Telegram does not parse HTML in button labels).
    BtnWatch,
    BtnUnwatch,
    BtnAlert,
    BtnChart,
    BtnOpen,
    /// Opens the Mini App.
    BtnApp,
    BtnDelete,
    BtnClearYes,
    BtnClearNo,
    BtnPrev,
    BtnNext,
    BtnDrop {
        percent: u32,
    },
    BtnBackInStock,
    BtnTrack,
    BtnMute,
    BtnUntrack,
}

/// Renders `text` in `lang`.
pub fn render(lang: Lang, text: &Text) -> String {
    match lang {
        Lang::En => en::render(text),
        Lang::Ru => ru::render(text),
        Lang::Fr => fr::render(text),
        Lang::Ar => ar::render(text),
    }
}

/// The command menu (`setMyCommands`) in `lang`: name and description.
/// `/stats` is left out: admins know it, and others would only be refused.
pub fn commands(lang: Lang) -> Vec<(&'static str, &'static str)> {
    match lang {
        Lang::En => en::COMMANDS.to_vec(),
        Lang::Ru => ru::COMMANDS.to_vec(),
        Lang::Fr => fr::COMMANDS.to_vec(),
        Lang::Ar => ar::COMMANDS.to_vec(),
    }
}

/// The language's own name, for the `/lang` buttons.
pub fn lang_name(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "English",
        Lang::Ru => "Русский",
        Lang::Fr => "Français",
        Lang::Ar => "العربية",
    }
}

#[cfg(test)]
mod tests;
