//! CSS selectors as sources.toml writes them: `"a.title"` (the element's
//! text), `"a.title@href"` (an attribute), `"@data-id"` (an attribute of the
//! element the selector is relative to). Parsed and checked when the sources
//! file loads, so a typo fails at startup with the source's id, not at 3 am.

use scraper::{ElementRef, Selector};
use serde::{Deserialize, Deserializer};
use std::fmt;

#[derive(Clone)]
pub struct Css {
    /// None: the element itself (for `@attr`).
    selector: Option<Selector>,
    attr: Option<String>,
    text: String,
}

impl Css {
    pub fn parse(text: &str) -> Result<Self, String> {
        let (sel, attr) = match text.rsplit_once('@') {
            Some((sel, attr))
                if !attr.is_empty()
                    && attr
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':')) =>
            {
                (sel.trim(), Some(attr.to_string()))
            }
            _ => (text.trim(), None),
        };
        let selector = if sel.is_empty() {
            if attr.is_none() {
                return Err(
                    "an empty selector selects nothing; write `css` or `css@attribute`".into(),
                );
            }
            None
        } else {
            Some(
                Selector::parse(sel)
                    .map_err(|e| format!("CSS selector {sel:?} is not valid: {e}"))?,
            )
        };
        Ok(Css {
            selector,
            attr,
            text: text.to_string(),
        })
    }

    /// The first matching element under `scope` (or `scope` itself for `@attr`).
    pub fn first<'a>(&self, scope: ElementRef<'a>) -> Option<ElementRef<'a>> {
        match &self.selector {
            None => Some(scope),
            Some(s) => scope.select(s).next(),
        }
    }

    /// Every matching element under `scope`.
    pub fn all<'a>(&self, scope: ElementRef<'a>) -> Vec<ElementRef<'a>> {
        match &self.selector {
            None => vec![scope],
            Some(s) => scope.select(s).collect(),
        }
    }

    /// The value this selector names in `scope`: the attribute if one was
    /// given (else `default_attr` if given), else the element's text with
    /// whitespace collapsed. Empty values are None.
    pub fn value(&self, scope: ElementRef<'_>, default_attr: Option<&str>) -> Option<String> {
        let el = self.first(scope)?;
        let attr = self.attr.as_deref().or(default_attr);
        let raw = match attr {
            Some(a) => el.value().attr(a)?.to_string(),
            None => el.text().collect::<Vec<_>>().join(" "),
        };
        let v = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        (!v.is_empty()).then_some(v)
    }

    pub fn selector(&self) -> Option<&Selector> {
        self.selector.as_ref()
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl fmt::Debug for Css {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Css({:?})", self.text)
    }
}

impl<'de> Deserialize<'de> for Css {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Css::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scraper::Html;

    #[test]
    fn text_attribute_and_self() {
        let doc = Html::parse_fragment(
            r#"<div class="card" data-id="42"><a class="t" href="/x">  Al  Fakher
            Mint </a><img src="/i.png"></div>"#,
        );
        let card = doc
            .select(&Selector::parse(".card").unwrap())
            .next()
            .unwrap();
        assert_eq!(
            Css::parse("a.t").unwrap().value(card, None).unwrap(),
            "Al Fakher Mint"
        );
        assert_eq!(
            Css::parse("a.t@href").unwrap().value(card, None).unwrap(),
            "/x"
        );
        assert_eq!(
            Css::parse("a.t")
                .unwrap()
                .value(card, Some("href"))
                .unwrap(),
            "/x"
        );
        assert_eq!(
            Css::parse("@data-id").unwrap().value(card, None).unwrap(),
            "42"
        );
        assert_eq!(
            Css::parse("img").unwrap().value(card, Some("src")).unwrap(),
            "/i.png"
        );
        assert_eq!(Css::parse("span.none").unwrap().value(card, None), None);
        // An email-like selector keeps its '@' when what follows is not an attribute name.
        assert!(Css::parse("a[title='x@y.z']").is_ok());
    }

    #[test]
    fn bad_selectors_fail_with_a_message() {
        assert!(Css::parse("").is_err());
        assert!(Css::parse("@").is_err());
        assert!(Css::parse("div[").unwrap_err().contains("not valid"));
        assert!(Css::parse("((").is_err());
    }
}
