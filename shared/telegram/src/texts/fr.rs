//! French.

use super::{Text, esc};

pub const COMMANDS: &[(&str, &str)] = &[
    (
        "start",
        "Démarrer et découvrir ce que sait faire pricehound",
    ),
    ("help", "Comment utiliser le bot"),
    ("prices", "Derniers prix, éventuellement d’une seule source"),
    ("search", "Chercher un article par nom ou par marque"),
    ("item", "Afficher un article et son prix"),
    ("list", "Votre liste avec les prix actuels"),
    ("add", "Ajouter un article à votre liste"),
    ("remove", "Retirer un article de votre liste"),
    ("watch", "Suivre un article"),
    ("unwatch", "Ne plus suivre un article"),
    ("clear", "Vider votre liste"),
    (
        "alert",
        "M’alerter sous/au-dessus d’un prix ou en cas de baisse",
    ),
    ("alerts", "Vos alertes"),
    ("chart", "Graphique des prix : 7d, 30d ou 1y"),
    ("lang", "Changer de langue"),
    ("untrack", "Arrêter le suivi d’une page envoyée"),
];

/// "1 article", "0 article", "3 articles": French counts 0 and 1 as singular.
fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n <= 1 { one } else { many }
}

pub fn render(text: &Text) -> String {
    match *text {
        Text::Welcome { first_name } => format!(
            "👋 Bonjour {} ! Je surveille les prix pour vous : l’or chez les bijoutiers, le tabac à chicha, les cartes graphiques d’occasion et toute page de boutique que vous m’envoyez.\n\n\
             • /prices — derniers prix\n• /search <i>nom</i> — trouver un article\n• /add <i>nom</i> — l’ajouter à votre liste\n\
             • /alert <i>article</i> sous <i>prix</i> — être prévenu quand le prix baisse\n\n\
             Collez le lien d’un produit pour le suivre. /help présente tout le reste.",
            esc(first_name)
        ),
        Text::WelcomeBack { first_name } => format!(
            "👋 Content de vous revoir, {} ! /list affiche vos articles, /alerts vos alertes.",
            esc(first_name)
        ),
        Text::Help => "<b>Ce que je sais faire</b>\n\
            /prices [source] — derniers prix\n\
            /search <i>texte</i> — chercher par nom ou par marque\n\
            /item <i>nom ou id</i> — un article avec ses boutons\n\
            /list — votre liste avec les prix actuels\n\
            /add, /watch <i>article</i> — ajouter à votre liste\n\
            /remove, /unwatch <i>article</i> — retirer de votre liste\n\
            /clear — vider votre liste\n\
            /alert <i>article</i> sous|au-dessus <i>prix</i>\n\
            /alert <i>article</i> baisse <i>10</i>%\n\
            /alerts — vos alertes, à supprimer d’un bouton\n\
            /chart <i>article</i> [7d|30d|1y] — graphique des prix\n\
            /untrack — arrêter le suivi d’une page\n\
            /lang — langue\n\n\
            Collez le lien d’une page produit et je vous proposerai d’en suivre le prix."
            .to_string(),
        Text::UnknownCommand { command } => format!(
            "Je ne connais pas /{}. /help liste ce que je sais faire.",
            esc(command)
        ),
        Text::SlowDown => {
            "🐢 Doucement ! Trop de messages d’un coup ; réessayez dans quelques secondes."
                .to_string()
        }
        Text::SomethingWentWrong => {
            "Un problème est survenu de mon côté. Réessayez dans une minute.".to_string()
        }
        Text::ButtonExpired => "Ce bouton a expiré ; relancez la commande.".to_string(),

        Text::PricesTitle => "<b>Derniers prix</b>".to_string(),
        Text::PricesTitleSource { source } => format!("<b>Derniers prix — {}</b>", esc(source)),
        Text::PricesEmpty => {
            "Pas encore de prix : les sources n’ont pas encore été lues. Réessayez plus tard."
                .to_string()
        }
        Text::UnknownSource { source, known } => format!(
            "La source {} n’existe pas. Sources connues : {}",
            esc(source),
            esc(known)
        ),
        Text::PageOf { page, pages } => format!("Page {page} sur {pages}"),
        Text::SearchUsage => {
            "Dites-moi quoi chercher : /search <i>nom ou marque</i>, par ex. /search rtx 4070"
                .to_string()
        }
        Text::SearchResults { query, count } => format!(
            "🔎 {count} {} pour <b>{}</b> ; choisissez :",
            plural(count, "résultat", "résultats"),
            esc(query)
        ),
        Text::SearchNothing { query } => format!(
            "🔎 Aucun résultat pour <b>{}</b>. Essayez un nom plus court ou une marque.",
            esc(query)
        ),
        Text::ItemUsage => "Quel article ? /item <i>nom ou id</i>".to_string(),
        Text::ItemNotFound { query } => format!(
            "Je ne connais aucun article nommé <b>{}</b>. /search vous aidera à le trouver.",
            esc(query)
        ),
        Text::ItemChoose { query } => format!(
            "Plusieurs articles correspondent à <b>{}</b> ; choisissez-en un :",
            esc(query)
        ),
        Text::NoPrice => "pas de prix".to_string(),
        Text::InStock => "en stock".to_string(),
        Text::OutOfStock => "en rupture de stock".to_string(),
        Text::Updated { when } => format!("mis à jour le {}", esc(when)),
        Text::SourceLine { source } => format!("chez {}", esc(source)),
        Text::OpenAtSource => "voir sur le site".to_string(),

        Text::WatchUsage => "Quel article ? Par ex. /add al fakher mint".to_string(),
        Text::Watching { item } => format!("👀 <b>{}</b> est dans votre liste.", esc(item)),
        Text::AlreadyWatching { item } => {
            format!("<b>{}</b> est déjà dans votre liste.", esc(item))
        }
        Text::Unwatched { item } => format!("<b>{}</b> a été retiré de votre liste.", esc(item)),
        Text::NotWatching { item } => format!("<b>{}</b> n’est pas dans votre liste.", esc(item)),
        Text::ListTitle { count } => format!("<b>Votre liste</b> ({count})"),
        Text::ListEmpty => {
            "Votre liste est vide. Cherchez un article avec /search et touchez ➕, ou utilisez /add <i>nom</i>."
                .to_string()
        }
        Text::ClearConfirm { count } => {
            if count <= 1 {
                format!("Retirer {count} article de votre liste ?")
            } else {
                format!("Retirer les {count} articles de votre liste ?")
            }
        }
        Text::Cleared { count } => format!(
            "C’est fait : {count} {}.",
            plural(count, "article retiré", "articles retirés")
        ),
        Text::ClearCancelled => "Rien n’a été retiré.".to_string(),

        Text::AlertUsage => "Créez une alerte comme ceci :\n\
            /alert <i>article</i> sous <i>100</i>\n\
            /alert <i>article</i> au-dessus <i>200</i>\n\
            /alert <i>article</i> baisse <i>10</i>%\n\
            /alert <i>article</i> de retour en stock\n\
            /alert nouveau <i>rtx-4070</i> sous <i>500</i> — nouvelle annonce d’une série"
            .to_string(),
        Text::AlertBadPrice { input } => format!(
            "Je ne sais pas lire « {} » comme un prix. Écrivez un nombre, par ex. 99,90 ou 1 250.",
            esc(input)
        ),
        Text::AlertBadPercent { input } => format!(
            "« {} » n’est pas un pourcentage entre 0 et 100 ; par ex. baisse 10 %.",
            esc(input)
        ),
        Text::AlertCreated { item, rule_html } => format!(
            "🔔 Alerte créée : <b>{}</b> — {rule_html}. Je vous écrirai une fois quand cela arrivera, puis de nouveau seulement une fois l’alerte réarmée.",
            esc(item),
        ),
        Text::AlertPick { item } => format!(
            "Alerte pour <b>{}</b> : choisissez-en une, ou tapez /alert avec un prix.",
            esc(item)
        ),
        Text::AlertsTitle { count } => {
            format!("<b>Vos alertes</b> ({count}) ; touchez-en une pour la supprimer :")
        }
        Text::AlertsEmpty => {
            "Vous n’avez aucune alerte. /alert <i>article</i> sous <i>prix</i> en crée une."
                .to_string()
        }
        Text::AlertDeleted => "Alerte supprimée.".to_string(),
        Text::AlertGone => "Cette alerte n’existe plus.".to_string(),
        Text::RuleBelow { price } => format!("en dessous de {}", esc(price)),
        Text::RuleAbove { price } => format!("au-dessus de {}", esc(price)),
        Text::RuleDrop { percent } => format!("baisse de {} %", esc(percent)),
        Text::RuleBackInStock => "de retour en stock".to_string(),
        Text::RuleNewListing { series, price } => {
            format!("nouvelle annonce {} à moins de {}", esc(series), esc(price))
        }
        Text::AlertFired { item, rule_html, old, new, percent } => format!(
            "🔔 <b>{}</b> — {rule_html}\n{} → <b>{}</b>{}",
            esc(item),
            esc(old),
            esc(new),
            if percent.is_empty() { String::new() } else { format!(" ({})", esc(percent)) }
        ),
        Text::AlertMuted => "🔕 Alerte désactivée. /alerts liste vos alertes.".to_string(),
        Text::Paused => "en pause".to_string(),

        Text::ChartUsage => "Quel article ? /chart <i>article</i> [7d|30d|1y]".to_string(),
        Text::ChartNoData { item } => format!(
            "Pas encore de prix pour <b>{}</b> sur cette période.",
            esc(item)
        ),
        Text::ChartCaption { item, window } => {
            format!("📈 <b>{}</b> — {}", esc(item), esc(window))
        }

        Text::LangChoose => "Choisissez votre langue :".to_string(),
        Text::LangSet => "C’est fait : je vous parle désormais en français.".to_string(),

        Text::AdminOnly => "Seuls les administrateurs peuvent utiliser /stats.".to_string(),
        Text::StatsTitle => "<b>Utilisation</b>".to_string(),
        Text::StatsUsers {
            users,
            daily,
            weekly,
            monthly,
        } => format!(
            "Utilisateurs : {users}\nActifs : {daily} aujourd’hui, {weekly} cette semaine, {monthly} ce mois-ci"
        ),
        Text::StatsCommandsTitle => "<b>Commandes (30 jours)</b>".to_string(),
        Text::StatsAlertsSent { count } => format!("Alertes envoyées (30 jours) : {count}"),

        Text::TrackOffer { url } => format!("Suivre le prix de cette page ?\n{}", esc(url)),
        Text::TrackStarted { item, price } => format!(
            "✅ Je suis désormais <b>{}</b> — {}. L’article est dans votre liste ; /alert crée une alerte.",
            esc(item),
            esc(price)
        ),
        Text::TrackFailed => "Désolé, je ne peux pas suivre cette page : je n’y ai pas trouvé de prix de produit. Les pages produit des boutiques en ligne conviennent le mieux.".to_string(),
        Text::TrackReading => "⏳ Je lis la page… Je vous envoie son prix dans un instant.".to_string(),
        Text::TrackBusy => "Je lis beaucoup de pages en ce moment ; appuyez de nouveau sur le bouton dans une minute.".to_string(),
        Text::TrackLimitUser { limit } => format!("Vous suivez déjà {limit} pages, le maximum par personne. Retirez-en une avec /untrack pour faire de la place."),
        Text::TrackLimitGlobal => "Je suis déjà autant de pages que possible et ne peux pas en ajouter. Réessayez plus tard.".to_string(),
        Text::TrackInFlight => "Je lis encore la page que vous m'avez envoyée avant. Attendez sa réponse, puis appuyez de nouveau sur le bouton.".to_string(),
        Text::TrackLimitDaily { limit } => format!("Vous m'avez demandé de suivre {limit} pages aujourd'hui, le maximum par personne et par jour. Réessayez demain."),
        Text::Untracked { item } => format!("Je ne suis plus <b>{}</b> ; l’article a quitté votre liste.", esc(item)),
        Text::NotTracking { item } => format!("Vous ne suivez pas <b>{}</b>. /untrack liste les pages que vous suivez.", esc(item)),
        Text::UntrackChoose => "Quelle page dois-je cesser de suivre ?".to_string(),
        Text::UntrackNone => "Vous ne suivez aucune page. Collez le lien d’un produit pour en suivre une.".to_string(),
        Text::TrackUnavailable => {
            "Le suivi de nouvelles pages n’est pas activé sur ce bot.".to_string()
        }

        Text::BtnWatch => "➕ Suivre".to_string(),
        Text::BtnUnwatch => "➖ Ne plus suivre".to_string(),
        Text::BtnAlert => "🔔 Alerte".to_string(),
        Text::BtnChart => "📈 Graphique".to_string(),
        Text::BtnApp => "📱 Ouvrir l’app".to_string(),
        Text::BtnOpen => "🔗 Ouvrir".to_string(),
        Text::BtnDelete => "🗑 Supprimer".to_string(),
        Text::BtnClearYes => "Oui, vider".to_string(),
        Text::BtnClearNo => "Non".to_string(),
        Text::BtnPrev => "◀ Précédent".to_string(),
        Text::BtnNext => "Suivant ▶".to_string(),
        Text::BtnDrop { percent } => format!("Baisse de {percent} %"),
        Text::BtnBackInStock => "De retour en stock".to_string(),
        Text::BtnMute => "🔕 Désactiver".to_string(),
        Text::BtnTrack => "✅ Suivre le prix".to_string(),
        Text::BtnUntrack => "✖ Arrêter le suivi".to_string(),
    }
}
