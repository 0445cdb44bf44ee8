//! Russian.

use super::{Text, esc};

pub const COMMANDS: &[(&str, &str)] = &[
    ("start", "Начать и узнать, что умеет pricehound"),
    ("help", "Как пользоваться ботом"),
    ("prices", "Свежие цены, можно по одному источнику"),
    ("search", "Найти товар по названию или бренду"),
    ("item", "Показать товар и его цену"),
    ("list", "Ваш список с текущими ценами"),
    ("add", "Добавить товар в список"),
    ("remove", "Убрать товар из списка"),
    ("watch", "Следить за товаром"),
    ("unwatch", "Перестать следить за товаром"),
    ("clear", "Очистить список"),
    ("alert", "Сообщить, когда цена ниже/выше или упала"),
    ("alerts", "Ваши оповещения"),
    ("chart", "График цены: 7d, 30d или 1y"),
    ("lang", "Сменить язык"),
    ("untrack", "Перестать отслеживать присланную страницу"),
];

/// The Russian form for `n`: `one` (1, 21, 101…), `few` (2–4, 22–24…)
/// or `many` (0, 5–20, 25–30, 111…).
fn plural<'a>(n: u64, one: &'a str, few: &'a str, many: &'a str) -> &'a str {
    let (n10, n100) = (n % 10, n % 100);
    if n10 == 1 && n100 != 11 {
        one
    } else if (2..=4).contains(&n10) && !(12..=14).contains(&n100) {
        few
    } else {
        many
    }
}

/// "1 товар", "3 товара", "5 товаров".
fn items(n: usize) -> String {
    let n = n as u64;
    format!("{n} {}", plural(n, "товар", "товара", "товаров"))
}

pub fn render(text: &Text) -> String {
    match *text {
        Text::Welcome { first_name } => format!(
            "👋 Привет, {}! Я слежу за ценами: золото у ювелиров, табак для кальяна, б/у видеокарты и любые страницы магазинов, которые вы пришлёте.\n\n\
             • /prices — свежие цены\n• /search <i>название</i> — найти товар\n• /add <i>название</i> — добавить в список\n\
             • /alert <i>товар</i> ниже <i>цена</i> — сообщу, когда подешевеет\n\n\
             Пришлите ссылку на товар, чтобы следить за ним. Все команды — в /help.",
            esc(first_name)
        ),
        Text::WelcomeBack { first_name } => format!(
            "👋 С возвращением, {}! В /list — ваши товары, в /alerts — оповещения.",
            esc(first_name)
        ),
        Text::Help => "<b>Что я умею</b>\n\
            /prices [источник] — свежие цены\n\
            /search <i>текст</i> — поиск по названию или бренду\n\
            /item <i>название или id</i> — товар с кнопками\n\
            /list — ваш список с текущими ценами\n\
            /add, /watch <i>товар</i> — добавить в список\n\
            /remove, /unwatch <i>товар</i> — убрать из списка\n\
            /clear — очистить список\n\
            /alert <i>товар</i> ниже|выше <i>цена</i>\n\
            /alert <i>товар</i> упадёт <i>10</i>%\n\
            /alerts — ваши оповещения, удаляются кнопкой\n\
            /chart <i>товар</i> [7d|30d|1y] — график цены\n\
            /untrack — перестать отслеживать страницу\n\
            /lang — язык\n\n\
            Пришлите ссылку на страницу товара, и я предложу следить за его ценой."
            .to_string(),
        Text::UnknownCommand { command } => format!(
            "Я не знаю команды /{}. Что я умею — в /help.",
            esc(command)
        ),
        Text::SlowDown => {
            "🐢 Не так быстро! Слишком много сообщений сразу — попробуйте через несколько секунд."
                .to_string()
        }
        Text::SomethingWentWrong => {
            "У меня что-то пошло не так. Попробуйте ещё раз через минуту.".to_string()
        }
        Text::ButtonExpired => "Эта кнопка устарела — отправьте команду ещё раз.".to_string(),

        Text::PricesTitle => "<b>Свежие цены</b>".to_string(),
        Text::PricesTitleSource { source } => format!("<b>Свежие цены — {}</b>", esc(source)),
        Text::PricesEmpty => {
            "Цен пока нет: источники ещё не проверялись. Попробуйте позже.".to_string()
        }
        Text::UnknownSource { source, known } => format!(
            "Источника {} нет. Известные источники: {}",
            esc(source),
            esc(known)
        ),
        Text::PageOf { page, pages } => format!("Страница {page} из {pages}"),
        Text::SearchUsage => {
            "Что искать? /search <i>название или бренд</i>, например /search rtx 4070".to_string()
        }
        Text::SearchResults { query, count } => format!(
            "🔎 По запросу <b>{}</b> {} {}. Выберите:",
            esc(query),
            plural(count as u64, "найден", "найдено", "найдено"),
            items(count)
        ),
        Text::SearchNothing { query } => format!(
            "🔎 По запросу <b>{}</b> ничего не нашлось. Попробуйте название покороче или бренд.",
            esc(query)
        ),
        Text::ItemUsage => "Какой товар? /item <i>название или id</i>".to_string(),
        Text::ItemNotFound { query } => format!(
            "Я не знаю товара <b>{}</b>. Найти его поможет /search.",
            esc(query)
        ),
        Text::ItemChoose { query } => format!(
            "Под запрос <b>{}</b> подходит несколько товаров — выберите один:",
            esc(query)
        ),
        Text::NoPrice => "нет цены".to_string(),
        Text::InStock => "в наличии".to_string(),
        Text::OutOfStock => "нет в наличии".to_string(),
        Text::Updated { when } => format!("обновлено {}", esc(when)),
        Text::SourceLine { source } => format!("источник: {}", esc(source)),
        Text::OpenAtSource => "открыть на сайте".to_string(),

        Text::WatchUsage => "Какой товар? Например: /add al fakher mint".to_string(),
        Text::Watching { item } => format!("👀 <b>{}</b> теперь в вашем списке.", esc(item)),
        Text::AlreadyWatching { item } => format!("<b>{}</b> уже в вашем списке.", esc(item)),
        Text::Unwatched { item } => format!("Товар <b>{}</b> убран из списка.", esc(item)),
        Text::NotWatching { item } => format!("<b>{}</b> нет в вашем списке.", esc(item)),
        Text::ListTitle { count } => format!("<b>Ваш список</b> ({count})"),
        Text::ListEmpty => {
            "Ваш список пуст. Найдите товар через /search и нажмите ➕ или отправьте /add <i>название</i>."
                .to_string()
        }
        Text::ClearConfirm { count } => format!("Убрать из списка {}?", items(count)),
        Text::Cleared { count } => format!(
            "Готово: {} {}.",
            plural(count as u64, "убран", "убрано", "убрано"),
            items(count)
        ),
        Text::ClearCancelled => "Ничего не удалено.".to_string(),

        Text::AlertUsage => "Создайте оповещение так:\n\
            /alert <i>товар</i> ниже <i>100</i>\n\
            /alert <i>товар</i> выше <i>200</i>\n\
            /alert <i>товар</i> упадёт <i>10</i>%\n\
            /alert <i>товар</i> снова в наличии\n\
            /alert новый <i>rtx-4070</i> ниже <i>500</i> — новое объявление в серии"
            .to_string(),
        Text::AlertBadPrice { input } => format!(
            "Не могу прочитать цену «{}». Напишите число, например 99,90 или 1 250.",
            esc(input)
        ),
        Text::AlertBadPercent { input } => format!(
            "«{}» — не процент от 0 до 100. Пример: упадёт 10%.",
            esc(input)
        ),
        Text::AlertCreated { item, rule_html } => format!(
            "🔔 Оповещение создано: <b>{}</b> — {rule_html}. Я напишу один раз, когда это случится, а повторно — только после того, как условие сбросится.",
            esc(item),
        ),
        Text::AlertPick { item } => format!(
            "Оповещение для <b>{}</b>: выберите вариант или отправьте /alert с ценой.",
            esc(item)
        ),
        Text::AlertsTitle { count } => format!(
            "<b>Ваши оповещения</b> ({count}). Нажмите на оповещение, чтобы удалить его:"
        ),
        Text::AlertsEmpty => {
            "Оповещений пока нет. Создать: /alert <i>товар</i> ниже <i>цена</i>.".to_string()
        }
        Text::AlertDeleted => "Оповещение удалено.".to_string(),
        Text::AlertGone => "Этого оповещения больше нет.".to_string(),
        Text::RuleBelow { price } => format!("ниже {}", esc(price)),
        Text::RuleAbove { price } => format!("выше {}", esc(price)),
        Text::RuleDrop { percent } => format!("падение на {}%", esc(percent)),
        Text::RuleBackInStock => "снова в наличии".to_string(),
        Text::RuleNewListing { series, price } => {
            format!("новое предложение {} дешевле {}", esc(series), esc(price))
        }
        Text::AlertFired { item, rule_html, old, new, percent } => format!(
            "🔔 <b>{}</b> — {rule_html}\n{} → <b>{}</b>{}",
            esc(item),
            esc(old),
            esc(new),
            if percent.is_empty() { String::new() } else { format!(" ({})", esc(percent)) }
        ),
        Text::AlertMuted => "🔕 Оповещение выключено. /alerts — все ваши оповещения.".to_string(),
        Text::Paused => "на паузе".to_string(),

        Text::ChartUsage => "Какой товар? /chart <i>товар</i> [7d|30d|1y]".to_string(),
        Text::ChartNoData { item } => {
            format!("Для <b>{}</b> за этот период цен пока нет.", esc(item))
        }
        Text::ChartCaption { item, window } => {
            format!("📈 <b>{}</b> — {}", esc(item), esc(window))
        }

        Text::LangChoose => "Выберите язык:".to_string(),
        Text::LangSet => "Готово: теперь я говорю по-русски.".to_string(),

        Text::AdminOnly => "Команда /stats доступна только администраторам.".to_string(),
        Text::StatsTitle => "<b>Статистика</b>".to_string(),
        Text::StatsUsers {
            users,
            daily,
            weekly,
            monthly,
        } => format!(
            "Пользователей: {users}\nАктивных: сегодня {daily}, за неделю {weekly}, за месяц {monthly}"
        ),
        Text::StatsCommandsTitle => "<b>Команды (30 дней)</b>".to_string(),
        Text::StatsAlertsSent { count } => format!("Отправлено оповещений (30 дней): {count}"),

        Text::TrackOffer { url } => format!("Следить за ценой на этой странице?\n{}", esc(url)),
        Text::TrackStarted { item, price } => format!(
            "✅ Слежу за <b>{}</b> — {}. Товар в вашем списке; оповещение можно создать через /alert.",
            esc(item),
            esc(price)
        ),
        Text::TrackFailed => "Извините, эту страницу отслеживать не получится: мне не удалось прочитать на ней цену товара. Лучше всего подходят страницы товаров интернет-магазинов.".to_string(),
        Text::TrackReading => "⏳ Читаю страницу… Цену пришлю через минуту.".to_string(),
        Text::TrackBusy => "Сейчас я читаю много страниц; нажмите кнопку ещё раз через минуту.".to_string(),
        Text::TrackLimitUser { limit } => format!("Вы уже отслеживаете {limit} страниц — это максимум на человека. Удалите одну через /untrack, чтобы освободить место."),
        Text::TrackLimitGlobal => "Сейчас я отслеживаю столько страниц, сколько могу, и новые добавить не получится. Попробуйте позже.".to_string(),
        Text::TrackInFlight => "Я ещё читаю страницу, которую вы прислали раньше. Дождитесь ответа и нажмите кнопку ещё раз.".to_string(),
        Text::TrackLimitDaily { limit } => format!("Сегодня вы уже просили отследить {limit} страниц — это максимум на человека в день. Попробуйте завтра."),
        Text::Untracked { item } => format!("Больше не отслеживаю <b>{}</b>; товар убран из вашего списка.", esc(item)),
        Text::NotTracking { item } => format!("Вы не отслеживаете <b>{}</b>. /untrack покажет ваши страницы.", esc(item)),
        Text::UntrackChoose => "Какую страницу перестать отслеживать?".to_string(),
        Text::UntrackNone => "Вы не отслеживаете ни одной страницы. Пришлите ссылку на товар, чтобы начать.".to_string(),
        Text::TrackUnavailable => {
            "В этом боте отслеживание новых страниц не включено.".to_string()
        }

        Text::BtnWatch => "➕ Следить".to_string(),
        Text::BtnUnwatch => "➖ Не следить".to_string(),
        Text::BtnAlert => "🔔 Оповещение".to_string(),
        Text::BtnChart => "📈 График".to_string(),
        Text::BtnApp => "📱 Открыть приложение".to_string(),
        Text::BtnOpen => "🔗 Открыть".to_string(),
        Text::BtnDelete => "🗑 Удалить".to_string(),
        Text::BtnClearYes => "Да, очистить".to_string(),
        Text::BtnClearNo => "Нет".to_string(),
        Text::BtnPrev => "◀ Назад".to_string(),
        Text::BtnNext => "Далее ▶".to_string(),
        Text::BtnDrop { percent } => format!("Упадёт на {percent}%"),
        Text::BtnBackInStock => "Снова в наличии".to_string(),
        Text::BtnMute => "🔕 Выключить".to_string(),
        Text::BtnTrack => "✅ Следить".to_string(),
        Text::BtnUntrack => "✖ Не отслеживать".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn russian_plurals() {
        let forms = |n| plural(n, "товар", "товара", "товаров");
        assert_eq!(forms(0), "товаров");
        assert_eq!(forms(1), "товар");
        assert_eq!(forms(2), "товара");
        assert_eq!(forms(4), "товара");
        assert_eq!(forms(5), "товаров");
        assert_eq!(forms(11), "товаров");
        assert_eq!(forms(12), "товаров");
        assert_eq!(forms(14), "товаров");
        assert_eq!(forms(21), "товар");
        assert_eq!(forms(22), "товара");
        assert_eq!(forms(111), "товаров");
        assert_eq!(forms(1001), "товар");
        assert_eq!(items(3), "3 товара");
    }
}
