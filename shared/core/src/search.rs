//! Search over item names, brands and series: an in-memory index, built
//! once from the latest prices, queried without looking at every item.
//!
//! Text is cut into tokens (lowercase letters or digits; a letter-digit
//! boundary also cuts, so "RTX4070" and "RTX 4070" are both `rtx`, `4070`).
//! The index keeps the distinct tokens (sorted, for prefix lookups), each
//! token with one character deleted (for typos, as SymSpell does: two
//! words one edit apart share such a form), and for each token the items
//! that have it. A query token matches an index token exactly, as a prefix
//! ("darksid" → "darkside"), or within one edit for tokens of four letters
//! or more, never for numbers ("darkisde" → "darkside", but 3070 is not
//! 4070); an item matches when every query
//! token matches one of its tokens. So a query costs a few dictionary
//! lookups and the posting lists of the tokens it hits, however many items
//! there are.
//!
//! Ranking: the sum of each query token's best match (exact 3, prefix 2,
//! typo 1), then whether the name starts with the query, then shorter
//! names, then the id (a stable order).

use std::collections::{HashMap, HashSet};

/// What is indexed of one item.
pub struct Doc<'a> {
    pub name: &'a str,
    pub brand: Option<&'a str>,
    pub series: Option<&'a str>,
    /// The item id (its key is searchable too: "gold-18k").
    pub id: &'a str,
}

/// The longest query taken, in characters (the rest is ignored).
pub const MAX_QUERY_CHARS: usize = 200;
/// The most query tokens used.
const MAX_QUERY_TOKENS: usize = 8;

/// How a query token met an index token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hit {
    Typo = 1,
    Prefix = 2,
    Exact = 3,
}

pub struct SearchIndex {
    /// Distinct tokens, sorted (prefix lookups by binary search).
    tokens: Vec<String>,
    /// For each token, the items having it (ascending, no repeats).
    postings: Vec<Vec<u32>>,
    /// A token of 4+ characters with one character deleted → the tokens
    /// it comes from (for tokens of 3+ characters, the token itself too).
    deletions: HashMap<String, Vec<u32>>,
    /// Each item's normalised name (for ranking) and its id.
    names: Vec<String>,
    ids: Vec<String>,
}

/// Lowercase letters and digits; everything else separates. A change
/// between letters and digits separates too.
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut cur_digit = false;
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            let digit = c.is_numeric();
            if !cur.is_empty() && digit != cur_digit {
                out.push(std::mem::take(&mut cur));
            }
            cur_digit = digit;
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn normalized_name(name: &str) -> String {
    tokens(name).join(" ")
}

/// Shortest token that gets typo matching.
const TYPO_MIN_CHARS: usize = 4;
/// Longest token that gets typo matching (bounds the index and a query).
const TYPO_MAX_CHARS: usize = 24;

/// `token` and every form of it with one character deleted.
fn deletion_keys(token: &str) -> Vec<String> {
    let chars: Vec<char> = token.chars().collect();
    let mut out = vec![token.to_string()];
    for i in 0..chars.len() {
        let s: String = chars
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, c)| c)
            .collect();
        out.push(s);
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether `a` and `b` are at most one edit apart (insert, delete,
/// substitute, or swap two neighbours).
fn within_one_edit(a: &[char], b: &[char]) -> bool {
    let (la, lb) = (a.len(), b.len());
    if la.abs_diff(lb) > 1 {
        return false;
    }
    let mut i = 0;
    while i < la && i < lb && a[i] == b[i] {
        i += 1;
    }
    if i == la && i == lb {
        return true;
    }
    if la == lb {
        // Substitution, or a swap of neighbours.
        if a[i + 1..] == b[i + 1..] {
            return true;
        }
        return i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] && a[i + 2..] == b[i + 2..];
    }
    if la > lb {
        a[i + 1..] == b[i..]
    } else {
        a[i..] == b[i + 1..]
    }
}

impl SearchIndex {
    pub fn build<'a>(docs: impl IntoIterator<Item = Doc<'a>>) -> SearchIndex {
        let mut by_token: HashMap<String, Vec<u32>> = HashMap::new();
        let mut names = Vec::new();
        let mut ids = Vec::new();
        for (n, doc) in docs.into_iter().enumerate() {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            let key = doc.id.split_once(':').map_or(doc.id, |(_, k)| k);
            let mut seen = HashSet::new();
            for text in [Some(doc.name), doc.brand, doc.series, Some(key)]
                .into_iter()
                .flatten()
            {
                for t in tokens(text) {
                    if seen.insert(t.clone()) {
                        by_token.entry(t).or_default().push(n);
                    }
                }
            }
            names.push(normalized_name(doc.name));
            ids.push(doc.id.to_string());
        }
        let mut entries: Vec<(String, Vec<u32>)> = by_token.into_iter().collect();
        entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut deletions: HashMap<String, Vec<u32>> = HashMap::new();
        for (i, (t, _)) in entries.iter().enumerate() {
            let n = t.chars().count();
            // A query of 4+ reaches a token of 3+ by one edit.
            if (TYPO_MIN_CHARS - 1..=TYPO_MAX_CHARS + 1).contains(&n) {
                for key in deletion_keys(t) {
                    deletions.entry(key).or_default().push(i as u32);
                }
            }
        }
        let (tokens, postings) = entries.into_iter().unzip();
        SearchIndex {
            tokens,
            postings,
            deletions,
            names,
            ids,
        }
    }

    /// How many items are indexed.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The index tokens a query token meets, with how.
    fn matches(&self, q: &str) -> Vec<(u32, Hit)> {
        let mut out: HashMap<u32, Hit> = HashMap::new();
        // Exact and prefix: the sorted range starting at `q`.
        let start = self.tokens.partition_point(|t| t.as_str() < q);
        for (i, t) in self.tokens.iter().enumerate().skip(start) {
            if !t.starts_with(q) {
                break;
            }
            let hit = if t == q { Hit::Exact } else { Hit::Prefix };
            out.insert(i as u32, hit);
        }
        // Typos, for tokens long enough to have them: two words one edit
        // apart share a deletion form (or one is the other's), then the
        // edit is checked.
        // Never for numbers: 3070 is not a typo of 4070.
        let qc: Vec<char> = q.chars().collect();
        let word = qc.iter().all(|c| !c.is_numeric());
        if word && (TYPO_MIN_CHARS..=TYPO_MAX_CHARS).contains(&qc.len()) {
            let mut candidates: HashSet<u32> = HashSet::new();
            for key in deletion_keys(q) {
                if let Some(list) = self.deletions.get(&key) {
                    candidates.extend(list.iter().copied());
                }
            }
            for i in candidates {
                if out.contains_key(&i) {
                    continue;
                }
                let tc: Vec<char> = self.tokens[i as usize].chars().collect();
                if within_one_edit(&qc, &tc) {
                    out.insert(i, Hit::Typo);
                }
            }
        }
        out.into_iter().collect()
    }

    /// The best `limit` items for `query`, as indexes into the docs given to
    /// [`SearchIndex::build`], best first.
    ///
    /// The rarest query word goes first and gives the candidates; each next
    /// word only filters them (a dense array of scores per word, so no
    /// hashing per item). Ranking then takes the best few `limit`s by score
    /// and name length, and orders those by the full key.
    pub fn search(&self, query: &str, limit: usize) -> Vec<usize> {
        let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
        let mut words = tokens(&query);
        words.dedup();
        words.truncate(MAX_QUERY_TOKENS);
        if words.is_empty() || limit == 0 || self.ids.is_empty() {
            return Vec::new();
        }
        let mut per_word: Vec<(usize, Vec<(u32, Hit)>)> = words
            .iter()
            .map(|w| {
                let m = self.matches(w);
                let size = m
                    .iter()
                    .map(|(t, _)| self.postings[*t as usize].len())
                    .sum();
                (size, m)
            })
            .collect();
        per_word.sort_by_key(|(size, _)| *size);
        let mut best = vec![0u8; self.ids.len()];
        let mut touched: Vec<u32> = Vec::new();
        let mut candidates: Option<Vec<(u32, u32)>> = None;
        for (_, matched) in &per_word {
            for (token, hit) in matched {
                for &doc in &self.postings[*token as usize] {
                    let b = &mut best[doc as usize];
                    if *b == 0 {
                        touched.push(doc);
                    }
                    *b = (*b).max(*hit as u8);
                }
            }
            candidates = Some(match candidates.take() {
                None => touched
                    .iter()
                    .map(|&d| (d, u32::from(best[d as usize])))
                    .collect(),
                Some(mut c) => {
                    c.retain_mut(|(doc, score)| {
                        let b = best[*doc as usize];
                        *score += u32::from(b);
                        b > 0
                    });
                    c
                }
            });
            for d in touched.drain(..) {
                best[d as usize] = 0;
            }
            if candidates.as_ref().is_some_and(Vec::is_empty) {
                return Vec::new();
            }
        }
        let mut hits = candidates.unwrap_or_default();
        // Stage one: the best few `limit`s by score, then shorter names.
        let rough = |h: &(u32, u32)| (std::cmp::Reverse(h.1), self.names[h.0 as usize].len(), h.0);
        let keep = limit.saturating_mul(8).max(64);
        if hits.len() > keep {
            hits.select_nth_unstable_by_key(keep - 1, rough);
            hits.truncate(keep);
        }
        // Stage two: the full order on those.
        let phrase = words.join(" ");
        let mut ranked: Vec<(std::cmp::Reverse<u32>, bool, usize, &str, u32)> = hits
            .into_iter()
            .map(|(doc, score)| {
                let name = &self.names[doc as usize];
                (
                    std::cmp::Reverse(score),
                    !name.starts_with(&phrase),
                    name.len(),
                    self.ids[doc as usize].as_str(),
                    doc,
                )
            })
            .collect();
        ranked.sort_unstable();
        ranked.truncate(limit);
        ranked.into_iter().map(|r| r.4 as usize).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS: &[(&str, Option<&str>, Option<&str>, &str)] = &[
        ("Darkside Cola", Some("Darkside"), None, "ht:darkside-cola"),
        (
            "Darkside Bounty Hunter",
            Some("Darkside"),
            None,
            "ht:darkside-bounty-hunter",
        ),
        (
            "Must Have Pinkman",
            Some("Must Have"),
            None,
            "ht:musthave-pinkman",
        ),
        (
            "ASUS Dual GeForce RTX 4070 SUPER 12GB",
            None,
            Some("rtx-4070"),
            "olx:asus-dual-4070",
        ),
        (
            "MSI RTX4070 Ventus 2X",
            None,
            Some("rtx-4070"),
            "olx:msi-4070",
        ),
        (
            "Gigabyte RTX 3070 Gaming",
            None,
            Some("rtx-3070"),
            "olx:gb-3070",
        ),
        ("Or 18K cassé", None, Some("gold-18k"), "tg:or-18k-casse"),
        ("ذهب عيار 21", None, Some("gold-21k"), "tg:gold-21k"),
    ];

    fn index() -> SearchIndex {
        SearchIndex::build(ITEMS.iter().map(|(name, brand, series, id)| Doc {
            name,
            brand: *brand,
            series: *series,
            id,
        }))
    }

    fn ids(ix: &SearchIndex, q: &str) -> Vec<&'static str> {
        ix.search(q, 10).into_iter().map(|i| ITEMS[i].3).collect()
    }

    #[test]
    fn tokens_cut_at_letter_digit_boundaries() {
        assert_eq!(tokens("RTX4070 Super"), vec!["rtx", "4070", "super"]);
        assert_eq!(tokens("Or 18K cassé!"), vec!["or", "18", "k", "cassé"]);
        assert_eq!(tokens("  --  "), Vec::<String>::new());
    }

    #[test]
    fn prefixes_typos_and_joined_model_numbers_find_their_items() {
        let ix = index();
        assert_eq!(
            ids(&ix, "darksid")[..2],
            ["ht:darkside-cola", "ht:darkside-bounty-hunter"]
        );
        assert_eq!(
            ids(&ix, "darkisde cola"),
            vec!["ht:darkside-cola"],
            "a swap"
        );
        assert_eq!(ids(&ix, "drakside cola"), vec!["ht:darkside-cola"]);
        let rtx = ids(&ix, "rtx4070");
        assert_eq!(rtx.len(), 2, "{rtx:?}");
        assert!(rtx.contains(&"olx:asus-dual-4070") && rtx.contains(&"olx:msi-4070"));
        assert_eq!(ids(&ix, "RTX 4070 super"), vec!["olx:asus-dual-4070"]);
        assert_eq!(ids(&ix, "pinkman"), vec!["ht:musthave-pinkman"]);
        assert_eq!(ids(&ix, "must have"), vec!["ht:musthave-pinkman"]);
        assert_eq!(ids(&ix, "cassé 18k"), vec!["tg:or-18k-casse"]);
        assert_eq!(ids(&ix, "ذهب"), vec!["tg:gold-21k"]);
        assert_eq!(ids(&ix, "gold-21k"), vec!["tg:gold-21k"], "the series");
        assert!(ids(&ix, "nothing like it").is_empty());
        assert!(ids(&ix, "").is_empty());
        assert!(ids(&ix, "!!!").is_empty());
    }

    #[test]
    fn exact_beats_prefix_beats_typo() {
        let ix = SearchIndex::build(
            [("Cola", "a:1"), ("Colada", "a:2"), ("Cila", "a:3")]
                .iter()
                .map(|(n, id)| Doc {
                    name: n,
                    brand: None,
                    series: None,
                    id,
                }),
        );
        let got: Vec<usize> = ix.search("cola", 10);
        assert_eq!(got, vec![0, 1, 2]);
        assert_eq!(ix.search("cola", 1), vec![0], "limit");
    }

    #[test]
    fn one_edit_means_one() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        for (a, b, want) in [
            ("darkside", "darkside", true),
            ("darksid", "darkside", true),
            ("darkisde", "darkside", true),
            ("darkxide", "darkside", true),
            ("darksidee", "darkside", true),
            ("dakrisde", "darkside", false),
            ("dark", "darkside", false),
            ("", "a", true),
            ("ab", "ba", true),
            ("abc", "cab", false),
        ] {
            assert_eq!(within_one_edit(&c(a), &c(b)), want, "{a} {b}");
        }
    }

    #[test]
    fn hostile_queries_are_bounded() {
        let ix = index();
        let long = "a".repeat(100_000);
        assert!(ix.search(&long, 10).is_empty());
        let many = "zq ".repeat(10_000);
        assert!(ix.search(&many, 10).is_empty());
        assert!(ix.search("\u{0}\u{fffe}\u{202e}", 10).is_empty());
    }

    proptest::proptest! {
        /// Any names and any query (odd Unicode, control characters,
        /// combining marks): no panic, at most `limit` results, each an
        /// indexed item, none twice.
        #[test]
        fn any_text_and_query_is_safe(
            names in proptest::collection::vec(".{0,40}", 0..40),
            query in ".{0,60}",
            limit in 0usize..20,
        ) {
            let ids: Vec<String> = (0..names.len()).map(|i| format!("p:{i}")).collect();
            let ix = SearchIndex::build(names.iter().zip(&ids).map(|(n, id)| Doc {
                name: n,
                brand: None,
                series: None,
                id,
            }));
            let got = ix.search(&query, limit);
            proptest::prop_assert!(got.len() <= limit);
            let mut seen = HashSet::new();
            for i in got {
                proptest::prop_assert!(i < names.len());
                proptest::prop_assert!(seen.insert(i));
            }
        }

        /// A name is always found by itself, whatever it is, when it has
        /// a token.
        #[test]
        fn every_name_finds_itself(names in proptest::collection::vec("[a-zA-Z0-9 éüßд]{1,30}", 1..30)) {
            let ids: Vec<String> = (0..names.len()).map(|i| format!("p:{i}")).collect();
            let ix = SearchIndex::build(names.iter().zip(&ids).map(|(n, id)| Doc {
                name: n,
                brand: None,
                series: None,
                id,
            }));
            for (i, n) in names.iter().enumerate() {
                if tokens(n).is_empty() {
                    continue;
                }
                proptest::prop_assert!(ix.search(n, names.len()).contains(&i), "{n:?}");
            }
        }
    }
}
