//! A regex from the sources file: its syntax and groups are checked when
//! the file is read, and the automaton is built when a scrape first uses
//! it. Building every rule's automaton took most of reading the default
//! sources (about 1.6 ms of 2.4, case-insensitive Unicode classes are
//! costly), which every function paid at cold start, while only scrape
//! ever matches, and only for the group it runs (BENCHMARKS.md, "Cold
//! starts"). For the same reason the check reads the pattern's syntax tree
//! only: translating it (where `(?i)\W` becomes a case-folded Unicode
//! class) is left to the build, and a name like `\p{Nope}` fails there.
//! A file given by path is compiled whole when it is read
//! ([`crate::SourcesConfig::load`]), so its errors still show at start.

use regex::{Regex, RegexBuilder};
use regex_syntax::ast::{Ast, GroupKind};
use std::fmt;
use std::sync::{Arc, OnceLock};

/// The most a rule's compiled automaton may take: a rule comes from a
/// config file, but a typo must not build a gigantic one.
const SIZE_LIMIT: usize = 1 << 20;

#[derive(Clone)]
pub struct Pattern {
    inner: Arc<Inner>,
}

struct Inner {
    source: String,
    /// The named groups, in order.
    names: Vec<String>,
    compiled: OnceLock<Result<Regex, String>>,
}

impl Pattern {
    /// Checks `source`'s syntax (as the regex crate reads it) and reads its
    /// named groups; the automaton is built later, by [`Pattern::regex`].
    pub fn new(source: &str) -> Result<Pattern, String> {
        let ast = regex_syntax::ast::parse::ParserBuilder::new()
            .build()
            .parse(source)
            .map_err(|e| e.to_string())?;
        let mut names = Vec::new();
        collect_names(&ast, &mut names);
        Ok(Pattern {
            inner: Arc::new(Inner {
                source: source.to_string(),
                names,
                compiled: OnceLock::new(),
            }),
        })
    }

    /// The regex, built on first use. Err (the same each time) when its
    /// automaton would exceed the size limit.
    pub fn regex(&self) -> Result<&Regex, &str> {
        self.inner
            .compiled
            .get_or_init(|| {
                RegexBuilder::new(&self.inner.source)
                    .size_limit(SIZE_LIMIT)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// The named groups, in the order they open.
    pub fn capture_names(&self) -> impl Iterator<Item = &str> {
        self.inner.names.iter().map(String::as_str)
    }

    pub fn as_str(&self) -> &str {
        &self.inner.source
    }
}

/// Named groups in the order they open. Recursion is bounded by the
/// parser's nesting limit (250).
fn collect_names(ast: &Ast, out: &mut Vec<String>) {
    match ast {
        Ast::Group(g) => {
            if let GroupKind::CaptureName { name, .. } = &g.kind {
                out.push(name.name.clone());
            }
            collect_names(&g.ast, out);
        }
        Ast::Concat(c) => c.asts.iter().for_each(|a| collect_names(a, out)),
        Ast::Alternation(a) => a.asts.iter().for_each(|a| collect_names(a, out)),
        Ast::Repetition(r) => collect_names(&r.ast, out),
        Ast::Empty(_)
        | Ast::Flags(_)
        | Ast::Literal(_)
        | Ast::Dot(_)
        | Ast::Assertion(_)
        | Ast::ClassUnicode(_)
        | Ast::ClassPerl(_)
        | Ast::ClassBracketed(_) => {}
    }
}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pattern({:?})", self.inner.source)
    }
}

impl<'de> serde::Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Pattern::new(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_without_building_the_automaton() {
        let p = Pattern::new(r"(?P<item>\w+)\s*(x)?(?:(?P<amount>\d+)|(?P<currency>€))").unwrap();
        assert_eq!(
            p.capture_names().collect::<Vec<_>>(),
            ["item", "amount", "currency"]
        );
        assert!(p.inner.compiled.get().is_none());
        let re = p.regex().unwrap();
        let names: Vec<&str> = re.capture_names().flatten().collect();
        assert_eq!(names, p.capture_names().collect::<Vec<_>>());
    }

    #[test]
    fn bad_syntax_fails_at_once_and_a_huge_automaton_on_use() {
        assert!(Pattern::new("(unclosed").is_err());
        assert!(Pattern::new("(?P<a>x)(?P<a>y)").is_err(), "duplicate names");
        let huge = Pattern::new(r"\w{1000}{1000}").unwrap();
        assert!(huge.regex().is_err());
        assert!(huge.regex().is_err(), "the same error again, not a panic");
        // Valid syntax naming no Unicode class: found when it is built.
        let unknown = Pattern::new(r"(?P<amount>\p{Nope})").unwrap();
        assert!(unknown.regex().is_err());
    }

    #[test]
    fn names_inside_alternations_repetitions_and_flags_groups() {
        let p = Pattern::new(r"(?i:(?P<a>x)|(?<b>y))*(?:(?P<c>z)+)?").unwrap();
        assert_eq!(p.capture_names().collect::<Vec<_>>(), ["a", "b", "c"]);
    }
}
