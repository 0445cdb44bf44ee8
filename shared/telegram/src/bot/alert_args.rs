//! Reading `/alert <item> below|above <price>`, `/alert <item> drop <n>%`
//! and `/alert <item> back in stock`, with the keywords in every language
//! the bot speaks.

use rust_decimal::Decimal;
use std::str::FromStr;

/// The rule a user asked for, its number still as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleArg {
    Below(String),
    Above(String),
    Drop(String),
    BackInStock,
}

const BELOW: &[&str] = &[
    "below",
    "under",
    "<",
    "ниже",
    "дешевле",
    "sous",
    "moins",
    "أقل",
    "تحت",
];
const ABOVE: &[&str] = &[
    "above",
    "over",
    ">",
    "выше",
    "дороже",
    "dessus",
    "au-dessus",
    "plus",
    "أعلى",
    "فوق",
];
const DROP: &[&str] = &[
    "drop",
    "drops",
    "падение",
    "упадёт",
    "упадет",
    "baisse",
    "انخفاض",
];
const STOCK: &[&str] = &[
    "stock",
    "instock",
    "наличии",
    "наличие",
    "dispo",
    "disponible",
    "متوفر",
];

/// Splits the arguments into the item words and the rule; None when no
/// rule keyword is there.
pub fn parse(args: &str) -> Option<(String, RuleArg)> {
    let words: Vec<&str> = args.split_whitespace().collect();
    let lower: Vec<String> = words.iter().map(|w| w.to_lowercase()).collect();
    for i in (1..words.len()).rev() {
        let w = lower[i].as_str();
        let rest = words[i + 1..].join(" ");
        let item = || {
            let mut end = i;
            // "back in stock", "en stock", "в наличии": drop the lead-in words.
            while end > 1
                && matches!(
                    lower[end - 1].as_str(),
                    "back" | "in" | "en" | "в" | "de" | "retour" | "снова"
                )
            {
                end -= 1;
            }
            words[..end].join(" ")
        };
        let rule = if BELOW.contains(&w) && !rest.is_empty() {
            RuleArg::Below(rest)
        } else if ABOVE.contains(&w) && !rest.is_empty() {
            RuleArg::Above(rest)
        } else if DROP.contains(&w) && !rest.is_empty() {
            RuleArg::Drop(rest)
        } else if STOCK.contains(&w) && rest.is_empty() {
            return Some((item(), RuleArg::BackInStock));
        } else {
            continue;
        };
        return Some((words[..i].join(" "), rule));
    }
    None
}

const NEW: &[&str] = &[
    "new",
    "новый",
    "новое",
    "новые",
    "nouveau",
    "nouvelle",
    "جديد",
];

/// `/alert new <series> under <price>`: the series words and the price, for
/// an alert on new listings in a series.
pub fn new_listing(args: &str) -> Option<(String, String)> {
    let (first, rest) = args.trim().split_once(char::is_whitespace)?;
    if !NEW.contains(&first.to_lowercase().as_str()) {
        return None;
    }
    match parse(rest)? {
        (series, RuleArg::Below(price)) if !series.is_empty() => Some((series, price)),
        _ => None,
    }
}

/// A percentage for `drop`: `10`, `10%`, `12,5 %`; strictly between 0 and 100.
pub fn percent(text: &str) -> Option<Decimal> {
    let t = text.trim().trim_end_matches('%').trim().replace(',', ".");
    let p = Decimal::from_str(&t).ok()?;
    (p > Decimal::ZERO && p < Decimal::ONE_HUNDRED).then(|| p.normalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_in_every_language() {
        assert_eq!(
            parse("al fakher mint below 12.50"),
            Some(("al fakher mint".into(), RuleArg::Below("12.50".into())))
        );
        assert_eq!(
            parse("rtx 4070 under 1 200 лв."),
            Some(("rtx 4070".into(), RuleArg::Below("1 200 лв.".into())))
        );
        assert_eq!(
            parse("gold 18k выше 13500"),
            Some(("gold 18k".into(), RuleArg::Above("13500".into())))
        );
        assert_eq!(
            parse("gold drop 10%"),
            Some(("gold".into(), RuleArg::Drop("10%".into())))
        );
        assert_eq!(
            parse("darkside cola back in stock"),
            Some(("darkside cola".into(), RuleArg::BackInStock))
        );
        assert_eq!(
            parse("ذهب أقل 13000"),
            Some(("ذهب".into(), RuleArg::Below("13000".into())))
        );
        // The last keyword wins: "under" is part of the name here.
        assert_eq!(
            parse("under armour above 50"),
            Some(("under armour".into(), RuleArg::Above("50".into())))
        );
    }

    #[test]
    fn missing_parts_are_none() {
        assert_eq!(parse(""), None);
        assert_eq!(parse("below 10"), None);
        assert_eq!(parse("gold below"), None);
        assert_eq!(parse("just an item"), None);
    }

    #[test]
    fn new_listings_in_a_series() {
        assert_eq!(
            new_listing("new rtx-4070 under 500"),
            Some(("rtx-4070".into(), "500".into()))
        );
        assert_eq!(
            new_listing("новый rtx 4070 ниже 1 200 лв."),
            Some(("rtx 4070".into(), "1 200 лв.".into()))
        );
        assert_eq!(new_listing("new rtx above 5"), None);
        assert_eq!(new_listing("rtx under 5"), None);
        assert_eq!(new_listing("new under 5"), None);
    }

    #[test]
    fn percentages() {
        assert_eq!(percent("10%"), Some(Decimal::from(10)));
        assert_eq!(percent("12,5 %"), Some(Decimal::from_str("12.5").unwrap()));
        assert_eq!(percent("0"), None);
        assert_eq!(percent("100"), None);
        assert_eq!(percent("-5"), None);
        assert_eq!(percent("lots"), None);
    }
}
