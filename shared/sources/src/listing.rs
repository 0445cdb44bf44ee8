//! What every page-based source extracts before it becomes an observation:
//! one [`Listing`] per item a page shows. Quality filters and series rules
//! (per source, in sources.toml) turn listings into observations here, the
//! same way for every source kind.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::config::SourceConfig;
use crate::domain::{
    Availability, ItemDetails, ItemId, Money, Observation, ObservationId, Provenance, SeriesId,
    slug,
};

/// One item as a page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Listing {
    /// What identifies the item within its source: its URL, or a configured key.
    pub key: String,
    pub name: String,
    /// The price text as the page shows it, for `pricehound scrape` and logs.
    pub price_text: Option<String>,
    pub price: Option<Money>,
    pub availability: Availability,
    pub details: ItemDetails,
    /// Why this price was chosen, when the page offered several.
    pub note: Option<String>,
}

/// A listing that did not become an observation, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    pub name: String,
    pub reason: String,
}

/// Per-source quality filters (marketplaces are full of junk).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityFilters {
    /// Words that mark a listing as not what we track ("за части", "for parts",
    /// "broken"); matched case-insensitively anywhere in the name.
    #[serde(default)]
    pub blacklist: Vec<String>,
    /// Prices below this are dropped (deposits, "1 лв." placeholder prices).
    #[serde(default)]
    pub min_price: Option<Decimal>,
    #[serde(default)]
    pub max_price: Option<Decimal>,
}

/// Maps an item to a series by its name: the first rule whose pattern
/// matches wins; `{1}`, `{2}`… and `{name}` in `series` are replaced by the
/// slugs of the pattern's groups ("RTX 4070 Ti" → `rtx-4070-ti`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeriesRule {
    pub pattern: crate::pattern::Pattern,
    pub series: String,
}

impl QualityFilters {
    /// Why `name` at `price` is dropped, if it is.
    pub fn reject_reason(&self, name: &str, price: Option<&Money>) -> Option<String> {
        let lower = name.to_lowercase();
        if let Some(word) = self
            .blacklist
            .iter()
            .find(|w| lower.contains(&w.to_lowercase()))
        {
            return Some(format!("name contains the blacklisted {word:?}"));
        }
        let amount = price.map(|p| p.amount)?;
        if let Some(min) = self.min_price
            && amount < min
        {
            return Some(format!("price {amount} is below the minimum {min}"));
        }
        if let Some(max) = self.max_price
            && amount > max
        {
            return Some(format!("price {amount} is above the maximum {max}"));
        }
        None
    }
}

/// The series `name` belongs to under `rules`, if any.
pub fn series_for(rules: &[SeriesRule], name: &str) -> Option<SeriesId> {
    rules.iter().find_map(|rule| {
        let caps = rule.pattern.regex().ok()?.captures(name)?;
        let mut out = rule.series.clone();
        for i in 1..caps.len() {
            let value = caps.get(i).map(|m| slug(m.as_str())).unwrap_or_default();
            out = out.replace(&format!("{{{i}}}"), &value);
        }
        for n in rule.pattern.capture_names() {
            let value = caps.name(n).map(|m| slug(m.as_str())).unwrap_or_default();
            out = out.replace(&format!("{{{n}}}"), &value);
        }
        // Empty optional groups leave "--" or a trailing "-".
        let cleaned = slug(&out);
        SeriesId::new(cleaned).ok()
    })
}

/// A stable item key from a listing key (usually a URL): readable when
/// short, hashed when long, so ids stay under their length limit.
pub fn item_key(key: &str) -> String {
    let trimmed = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let s = slug(trimmed);
    if s.len() <= 80 && !s.is_empty() {
        return s;
    }
    let digest = Sha256::digest(key.as_bytes());
    let head: String = s.chars().take(60).collect();
    format!(
        "{}-{}",
        head.trim_end_matches('-'),
        hex::encode(&digest[..8])
    )
}

/// Turns a page's listings into observations: filters, series, ids.
pub fn to_observations(
    source: &SourceConfig,
    listings: Vec<Listing>,
    page_url: &str,
    fetched_at: DateTime<Utc>,
) -> (Vec<Observation>, Vec<Rejected>) {
    let mut observations = Vec::with_capacity(listings.len());
    let mut rejected = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in listings {
        // Page strings are bounded before they can reach SQS or DynamoDB.
        let l = super::limits::capped(l);
        if let Some(reason) = source.filters.reject_reason(&l.name, l.price.as_ref()) {
            rejected.push(Rejected {
                name: l.name,
                reason,
            });
            continue;
        }
        if l.price.is_none() && l.availability != Availability::OutOfStock {
            rejected.push(Rejected {
                name: l.name,
                reason: format!(
                    "no price found{}",
                    l.price_text
                        .as_deref()
                        .map(|t| format!(" in {t:?}"))
                        .unwrap_or_default()
                ),
            });
            continue;
        }
        let Ok(item_id) = ItemId::for_source(&source.id, &item_key(&l.key)) else {
            rejected.push(Rejected {
                name: l.name,
                reason: "no usable item key (empty URL and key)".into(),
            });
            continue;
        };
        if !seen.insert(item_id.clone()) {
            continue; // the same item twice on a page (a "featured" copy)
        }
        let provenance = Provenance::Page {
            url: l.details.url.clone().unwrap_or_else(|| {
                super::limits::cap_chars(page_url, super::limits::MAX_URL_CHARS)
            }),
            fetched_at,
        };
        let observation = Observation {
            id: ObservationId::derive(&item_id, &provenance),
            source_id: source.id.clone(),
            series: series_for(&source.series, &l.name),
            item_id,
            item_name: l.name,
            price: l.price,
            availability: l.availability,
            details: l.details,
            observed_at: fetched_at,
            provenance,
        };
        observations.push(observation);
    }
    (observations, rejected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(p: &str, s: &str) -> SeriesRule {
        SeriesRule {
            pattern: crate::pattern::Pattern::new(p).unwrap(),
            series: s.into(),
        }
    }

    #[test]
    fn gpu_names_map_to_model_series() {
        let rules = vec![
            rule(
                r"(?i)\b(rtx|gtx)\s*-?\s*(\d{4})\s*(ti|super)?\b",
                "{1}-{2}-{3}",
            ),
            rule(r"(?i)\brx\s*(\d{4})\s*(xt|xtx)?\b", "rx-{1}-{2}"),
        ];
        assert_eq!(
            series_for(&rules, "MSI GeForce RTX 4070 Ti 12GB")
                .unwrap()
                .as_str(),
            "rtx-4070-ti"
        );
        assert_eq!(
            series_for(&rules, "Видеокарта RTX4070 Gaming X")
                .unwrap()
                .as_str(),
            "rtx-4070"
        );
        assert_eq!(
            series_for(&rules, "rtx-3060 super").unwrap().as_str(),
            "rtx-3060-super"
        );
        assert_eq!(
            series_for(&rules, "Sapphire RX 6700 XT").unwrap().as_str(),
            "rx-6700-xt"
        );
        assert_eq!(series_for(&rules, "Intel Arc A770"), None);
    }

    #[test]
    fn filters_say_why() {
        let f = QualityFilters {
            blacklist: vec!["за части".into(), "broken".into()],
            min_price: Some(Decimal::from(50)),
            max_price: None,
        };
        let bgn = |a: i64| {
            Money::new(
                Decimal::from(a),
                crate::domain::Currency::new("BGN").unwrap(),
            )
        };
        assert!(
            f.reject_reason("RTX 3060 ЗА ЧАСТИ", Some(&bgn(300)))
                .unwrap()
                .contains("за части")
        );
        assert!(
            f.reject_reason("RTX 3060", Some(&bgn(1)))
                .unwrap()
                .contains("below")
        );
        assert_eq!(f.reject_reason("RTX 3060", Some(&bgn(400))), None);
        assert_eq!(f.reject_reason("RTX 3060", None), None);
    }

    #[test]
    fn item_keys_are_short_and_stable() {
        assert_eq!(
            item_key("https://shop.test/p/al-fakher-mint"),
            "shop-test-p-al-fakher-mint"
        );
        let long = format!("https://shop.test/{}", "x/".repeat(200));
        let k = item_key(&long);
        assert!(k.len() <= 80, "{k}");
        assert_eq!(k, item_key(&long));
        assert_ne!(k, item_key(&format!("{long}y")));
    }
}
