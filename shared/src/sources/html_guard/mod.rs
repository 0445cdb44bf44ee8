//! The budget every HTML parser runs under before parsing untrusted pages.
//!
//! html5ever, behind `scraper`, is a faithful HTML tree builder, and the
//! HTML parsing algorithm has costs that grow faster than the page:
//!
//! - scope checks and end tags walk the stack of open elements, so a deep
//!   stack (any elements, not only blocks) makes every later tag cost its
//!   depth: 5,000 open `<span>`s followed by stray `</x>` tags take half a
//!   second per 64 KiB;
//! - formatting elements (`b`, `i`, `a`, `font`, `nobr`…) left open go into
//!   the list of active formatting elements, which is scanned on each new
//!   one (6,000 `<b id=N>`: 1.3 s) and *re-created* before every later piece
//!   of text: 39 unclosed formatting tags followed by `<p>x` repeated build
//!   600,000 elements from 64 KiB, tens of millions (gigabytes) from 5 MiB;
//! - each attribute of a tag is compared with the ones before it (10,000
//!   attributes on one tag: 0.2 s);
//! - and every token costs roughly half a microsecond to a microsecond, so
//!   a 5 MiB page of nothing but tags, comments or `&amp;` takes a second.
//!
//! [`check`] is a linear scan over the bytes that follows the tree builder
//! closely enough to estimate those costs (a simplified model of the stack
//! of open elements, with the implied end tags of `p`, `li`, table parts…,
//! and of the list of active formatting elements), and refuses the page,
//! unparsed, when any estimate passes its limit in [`LIMITS`]. The model errs
//! on the side of more elements and a deeper stack than html5ever builds in
//! the shapes it knows; it is a model, and fuzzing found corners where it
//! counts less (the adoption agency inside SVG and MathML). So
//! [`parse_document`] does not trust it for the two limits that matter most
//! afterwards: [`parse`] feeds the page to html5ever in chunks, counts every
//! element it creates and stops past [`Limits::elements`], and measures the
//! finished tree's depth. The `html_guard` fuzz target checks that every page
//! accepted is within the limits in the real tree.
//!
//! The scan works on bytes: tags, quotes and `&` are ASCII, so no character
//! boundary matters, and no index is taken without a bounds check.

use std::collections::HashMap;

use scraper::Html;

use super::ScrapeError;

mod parse;

/// What a page may cost the HTML parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Elements the tree builder creates: start tags, plus the ones it makes
    /// up (implied `tbody`/`tr`, a `p` for a stray `</p>`, formatting
    /// elements re-created before text).
    pub elements: usize,
    /// Tokens handled one by one: start and end tags, comments, doctypes and
    /// character references (`&amp;`).
    pub tokens: usize,
    /// Depth of the stack of open elements (void elements such as `br` or
    /// `img` are never on it).
    pub depth: usize,
    /// Formatting elements (`b`, `i`, `a`, `font`, `nobr`…) left open at once
    /// (what the list of active formatting elements holds).
    pub open_formatting: usize,
    /// End tags that close nothing (`</b>` with no open `b`).
    pub unmatched_end_tags: usize,
    /// Misnested formatting end tags (`<b><div></b>`) that make the parser
    /// move and clone elements (the adoption agency algorithm).
    pub misnested: usize,
    /// Attributes on one tag.
    pub attributes: usize,
    /// Estimated steps of the tree builder's walks over its stack and list,
    /// and of its duplicate-attribute checks.
    pub work: usize,
    /// Table parts (`td`, `tr`, `tbody`…) inside a `template` with no table
    /// nearer. html5ever inserts or ignores them depending on the mode the
    /// template's first child chose, which the scan does not follow: it
    /// ignores them, so each may be one element (and one level) it did not
    /// count. Capping them caps that error.
    pub template_table_parts: usize,
}

/// The limits every source runs under.
///
/// The recorded pages of `pricehound::demo` (real captures, 4-100 kB) use at
/// most 1,113 elements, 2,700 tokens, a depth of 17 and 3 open formatting
/// elements; heavy real shop pages have 5,000-20,000 elements. The limits
/// leave a margin of about 20-40x over the recorded pages and 2-10x over a
/// heavy page, and keep the worst accepted page under 100 ms of parsing on
/// one core (BENCHMARKS.md, "HTML parsing budget"). The depth limit is
/// Chromium's: its parser nests no deeper than 512 either, so no page that
/// works in a browser needs more.
pub const LIMITS: Limits = Limits {
    elements: 50_000,
    tokens: 100_000,
    depth: 512,
    open_formatting: 100,
    unmatched_end_tags: 10_000,
    misnested: 100,
    attributes: 256,
    work: 2_000_000,
    // Real pages rarely put table rows in templates at all; a list of
    // rows rendered by script has a handful.
    template_table_parts: 256,
};

/// What a page costs, as far as the scan reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub elements: usize,
    pub tokens: usize,
    /// The deepest the stack got.
    pub depth: usize,
    /// The most formatting elements open at once.
    pub open_formatting: usize,
    pub unmatched_end_tags: usize,
    pub misnested: usize,
    /// The most attributes on one tag.
    pub attributes: usize,
    pub work: usize,
    pub template_table_parts: usize,
}

/// Which limit a page passed, with the limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Elements(usize),
    Tokens(usize),
    Depth(usize),
    OpenFormatting(usize),
    UnmatchedEndTags(usize),
    Misnested(usize),
    Attributes(usize),
    Work(usize),
    TemplateTableParts(usize),
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::Elements(n) => write!(f, "the page has more than {n} elements"),
            Refusal::Tokens(n) => write!(
                f,
                "the page has more than {n} tags, comments and character references"
            ),
            Refusal::Depth(n) => {
                write!(f, "the page nests more than {n} elements inside each other")
            }
            Refusal::OpenFormatting(n) => write!(
                f,
                "the page leaves more than {n} formatting elements (b, i, a, font…) open at once"
            ),
            Refusal::UnmatchedEndTags(n) => {
                write!(f, "the page has more than {n} end tags that close nothing")
            }
            Refusal::Misnested(n) => write!(
                f,
                "the page has more than {n} misnested formatting end tags (<b><div></b>)"
            ),
            Refusal::Attributes(n) => write!(f, "a tag of the page has more than {n} attributes"),
            Refusal::TemplateTableParts(n) => write!(
                f,
                "the page has more than {n} table parts (td, tr…) inside templates"
            ),
            Refusal::Work(n) => write!(
                f,
                "building the page's tree would take more than {n} steps (deep nesting with many tags)"
            ),
        }
    }
}

/// Refuses a page that would cost the parser more than [`LIMITS`] allow.
pub fn check(html: &str) -> Result<(), ScrapeError> {
    measure(html, &LIMITS).map(|_| ()).map_err(|r| {
        ScrapeError::Layout(format!(
            "{r}; refused unparsed: the HTML parser's time and memory grow faster than such a page"
        ))
    })
}

/// [`check`], then the parse, counted (see [`parse`]): what every source
/// kind calls on a fetched page. A page comes back only when html5ever really
/// built no more than [`LIMITS`] allow in elements and depth, whatever the
/// scan estimated.
pub fn parse_document(html: &str) -> Result<Html, ScrapeError> {
    check(html)?;
    parse::parse_counted(html, &LIMITS).map_err(|r| {
        ScrapeError::Layout(format!(
            "{r}; the parse was stopped there, so the page was not read"
        ))
    })
}

/// The scan behind [`check`]: what `html` costs, or the first limit it
/// passes (the scan stops there, so refusing is as fast as the page is
/// short).
pub fn measure(html: &str, limits: &Limits) -> Result<Usage, Refusal> {
    let mut m = Model::new(*limits);
    m.run(html.as_bytes())?;
    Ok(m.usage)
}

// Element flags. Each has a stack of the positions of the open elements that
// carry it, so "is there a `p` in button scope" is a comparison of two
// positions instead of a walk down the stack.
const SPECIAL: u32 = 1 << 0; // the spec's "special" category
const SPECIAL_NOT_ADP: u32 = 1 << 1; // special but not address, div, p (the li/dd/dt walk)
const SCOPE: u32 = 1 << 2; // bounds "in scope"
const BUTTON_SCOPE: u32 = 1 << 3; // SCOPE plus button
const LIST_SCOPE: u32 = 1 << 4; // SCOPE plus ol, ul
const TABLE: u32 = 1 << 5;
const CELL: u32 = 1 << 6; // td, th, caption
const ROW: u32 = 1 << 7;
const SECTION: u32 = 1 << 8; // tbody, thead, tfoot
const HEADING: u32 = 1 << 9;
const HTML_NS: u32 = 1 << 10; // an element in the HTML namespace
const HTML_CONTEXT: u32 = 1 << 11; // HTML, or an integration point (svg foreignObject, math mi…)
const TEMPLATE: u32 = 1 << 12;
const SELECT: u32 = 1 << 13;
const NOT_IMPLIED: u32 = 1 << 14; // not one of the elements "generate implied end tags" pops
const MARKER: u32 = 1 << 15; // puts a marker on the list of active formatting elements
const FORMATTING: u32 = 1 << 16;
// What a template's first child made of it (html5ever's "in template"
// switches to a table mode for a table part, to "in body" for anything
// else; head elements leave it undecided).
const TEMPLATE_TABLE: u32 = 1 << 17;
const TEMPLATE_BODY: u32 = 1 << 18;
// A foreign element in the MathML namespace (else SVG): which names are
// integration points depends on it.
const MATH_NS: u32 = 1 << 19;
const FLAGS: usize = 20;

#[derive(Clone, Copy)]
struct Open {
    name: u64,
    flags: u32,
    serial: u32,
}

/// What the scan does after a start tag.
enum Skip {
    No,
    RawText { rcdata: bool },
    ToEnd,
}

/// One entry of the list of active formatting elements.
#[derive(Clone, Copy)]
enum Active {
    Marker,
    Element { name: u64, attrs: u64, serial: u32 },
}

struct Model {
    limits: Limits,
    usage: Usage,
    stack: Vec<Open>,
    /// Per flag, the stack positions of the open elements carrying it.
    by_flag: [Vec<u32>; FLAGS],
    /// Per (hashed, lowercased) name, the stack positions of open elements.
    by_name: HashMap<u64, Vec<u32>>,
    active: Vec<Active>,
    /// Non-marker entries of `active`.
    active_elements: usize,
    /// Per element serial, its stack position while it is open.
    position: Vec<Option<u32>>,
    form_open: bool,
}

/// A tag as the tokenizer reads it.
struct Tag {
    name: u64,
    known: Known,
    self_closing: bool,
    attributes: usize,
    /// Order-insensitive hash of the raw attributes (Noah's Ark clause).
    attrs_hash: u64,
    /// Whether an attribute is named color, face or size (a `font` with one
    /// leaves SVG/MathML content).
    font_breakout: bool,
}

impl Model {
    fn new(limits: Limits) -> Self {
        let mut m = Model {
            limits,
            usage: Usage::default(),
            stack: Vec::new(),
            by_flag: std::array::from_fn(|_| Vec::new()),
            by_name: HashMap::new(),
            active: Vec::new(),
            active_elements: 0,
            position: Vec::new(),
            form_open: false,
        };
        // The html and body elements every document gets; `<html>`,
        // `<head>` and `<body>` tags merge into them.
        for known in [Known::Html, Known::Body] {
            let flags = known.flags();
            m.push_raw(hash_name(known.name()), flags);
        }
        m.usage.elements = 0;
        m
    }

    fn run(&mut self, b: &[u8]) -> Result<(), Refusal> {
        let mut i = 0;
        let mut text_start = 0;
        while i < b.len() {
            match b[i] {
                b'&' => {
                    // A character reference: `&` then a letter or `#`.
                    if b.get(i + 1)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'#')
                    {
                        self.token()?;
                    }
                    i += 1;
                }
                b'<' => {
                    let had_text = i > text_start;
                    match b.get(i + 1) {
                        Some(c) if c.is_ascii_alphabetic() => {
                            if had_text {
                                self.text()?;
                            }
                            let (tag, end) = read_tag(b, i + 1, self)?;
                            i = end;
                            match self.start_tag(&tag)? {
                                Skip::No => {}
                                Skip::ToEnd => i = b.len(),
                                // Raw text up to its end tag, which is
                                // consumed here (it closes nothing on the
                                // model's stack: the element was never
                                // pushed).
                                Skip::RawText { rcdata } => {
                                    let (close, refs) = raw_text_end(b, i, tag.known.name());
                                    if rcdata {
                                        for _ in 0..refs {
                                            self.token()?;
                                        }
                                    }
                                    i = close;
                                    if i < b.len() {
                                        self.token()?;
                                        i = read_tag(b, i + 2, self)?.1;
                                    }
                                }
                            }
                            text_start = i;
                        }
                        Some(b'/') => match b.get(i + 2) {
                            Some(c) if c.is_ascii_alphabetic() => {
                                if had_text {
                                    self.text()?;
                                }
                                let (tag, end) = read_tag(b, i + 2, self)?;
                                i = end;
                                self.end_tag(&tag)?;
                                text_start = i;
                            }
                            // `</>` is dropped; `</3…>` is a bogus comment.
                            Some(b'>') => {
                                i += 3;
                                text_start = i;
                            }
                            Some(_) => {
                                self.token()?;
                                i = find_byte(b, i + 2, b'>').map_or(b.len(), |e| e + 1);
                                text_start = i;
                            }
                            None => i += 2,
                        },
                        Some(b'!') => {
                            self.token()?;
                            i = comment_end(b, i + 2);
                            text_start = i;
                        }
                        Some(b'?') => {
                            self.token()?;
                            i = find_byte(b, i + 2, b'>').map_or(b.len(), |e| e + 1);
                            text_start = i;
                        }
                        _ => i += 1,
                    }
                }
                _ => i += 1,
            }
        }
        Ok(())
    }

    // --- counters ---------------------------------------------------------

    fn token(&mut self) -> Result<(), Refusal> {
        self.usage.tokens += 1;
        if self.usage.tokens > self.limits.tokens {
            return Err(Refusal::Tokens(self.limits.tokens));
        }
        Ok(())
    }

    fn work(&mut self, steps: usize) -> Result<(), Refusal> {
        self.usage.work = self.usage.work.saturating_add(steps);
        if self.usage.work > self.limits.work {
            return Err(Refusal::Work(self.limits.work));
        }
        Ok(())
    }

    fn created(&mut self, n: usize) -> Result<(), Refusal> {
        self.usage.elements += n;
        if self.usage.elements > self.limits.elements {
            return Err(Refusal::Elements(self.limits.elements));
        }
        Ok(())
    }

    fn unmatched(&mut self) -> Result<(), Refusal> {
        self.usage.unmatched_end_tags += 1;
        if self.usage.unmatched_end_tags > self.limits.unmatched_end_tags {
            return Err(Refusal::UnmatchedEndTags(self.limits.unmatched_end_tags));
        }
        Ok(())
    }

    // --- the stack of open elements ---------------------------------------

    fn push_raw(&mut self, name: u64, flags: u32) -> u32 {
        let pos = self.stack.len() as u32;
        let serial = self.position.len() as u32;
        self.position.push(Some(pos));
        self.stack.push(Open {
            name,
            flags,
            serial,
        });
        for (bit, positions) in self.by_flag.iter_mut().enumerate() {
            if flags & (1 << bit) != 0 {
                positions.push(pos);
            }
        }
        self.by_name.entry(name).or_default().push(pos);
        self.usage.elements += 1;
        self.usage.depth = self.usage.depth.max(self.stack.len());
        serial
    }

    fn push(&mut self, name: u64, flags: u32) -> Result<u32, Refusal> {
        let serial = self.push_raw(name, flags);
        if self.usage.elements > self.limits.elements {
            return Err(Refusal::Elements(self.limits.elements));
        }
        if self.stack.len() > self.limits.depth {
            return Err(Refusal::Depth(self.limits.depth));
        }
        Ok(serial)
    }

    fn pop(&mut self) {
        // The html element is never popped: end tags cannot reach it.
        if self.stack.len() <= 1 {
            return;
        }
        let Some(top) = self.stack.pop() else {
            return;
        };
        for (bit, positions) in self.by_flag.iter_mut().enumerate() {
            if top.flags & (1 << bit) != 0 {
                positions.pop();
            }
        }
        if let Some(positions) = self.by_name.get_mut(&top.name) {
            positions.pop();
        }
        if let Some(p) = self.position.get_mut(top.serial as usize) {
            *p = None;
        }
        if top.flags & MARKER != 0 {
            self.clear_to_marker();
        }
    }

    /// Pops elements until the one at `pos` is popped.
    fn pop_to(&mut self, pos: u32) {
        while self.stack.len() > pos as usize && self.stack.len() > 1 {
            self.pop();
        }
    }

    fn last(&self, flag: u32) -> Option<u32> {
        self.by_flag[flag.trailing_zeros() as usize].last().copied()
    }

    fn last_named(&self, name: u64) -> Option<u32> {
        self.by_name.get(&name).and_then(|p| p.last().copied())
    }

    /// The position of the open `name` if no element of `bound` is above it
    /// (the spec's "has an element in … scope").
    fn in_scope(&self, name: u64, bound: u32) -> Option<u32> {
        let at = self.last_named(name)?;
        match self.last(bound) {
            Some(b) if b > at => None,
            _ => Some(at),
        }
    }

    fn top(&self) -> Option<Open> {
        self.stack.last().copied()
    }

    fn top_is(&self, known: Known) -> bool {
        self.top()
            .is_some_and(|t| t.name == hash_name(known.name()))
    }

    fn in_foreign_content(&self) -> bool {
        self.top().is_some_and(|t| t.flags & HTML_CONTEXT == 0)
    }

    fn in_select(&self) -> bool {
        match (self.last(SELECT), self.last(TEMPLATE)) {
            (Some(s), Some(t)) => s > t,
            (s, _) => s.is_some(),
        }
    }

    /// html5ever's "in select in table" (a select whose nearest table or
    /// template ancestor is a table): a table tag (`<td>`, `</tr>`…) closes
    /// the select, then is processed as usual; says whether it did. Without
    /// this the scan ignored `<td>` inside such a select while html5ever
    /// built the cell, its row and more (found by fuzzing).
    fn leave_select_in_table(&mut self, tag: &Tag, end: bool) -> bool {
        use Known::*;
        if !matches!(
            tag.known,
            Caption | Table | Tbody | Tfoot | Thead | Tr | Td | Th
        ) {
            return false;
        }
        let Some(select) = self.last(SELECT) else {
            return false;
        };
        // The select took "in select in table" if it was opened in a table
        // mode: its nearest table, cell, row or section is nearer than any
        // template (a select in a template's td counts too).
        let table = [TABLE, CELL, ROW, SECTION]
            .into_iter()
            .filter_map(|flag| self.last_below(flag, select))
            .max();
        let template = self.last_below(TEMPLATE, select);
        let in_table = match (table, template) {
            (Some(t), Some(tp)) => t > tp,
            (t, _) => t.is_some(),
        };
        if !in_table {
            return false;
        }
        if end {
            // An end tag only if its element is in table scope; otherwise
            // the select ignores it.
            let in_scope = self.last_named(tag.name).is_some_and(|at| {
                self.last(TABLE).is_none_or(|t| t <= at)
                    && self.last(TEMPLATE).is_none_or(|t| t <= at)
            });
            if !in_scope {
                return false;
            }
        }
        self.pop_to(select);
        true
    }

    /// The highest position below `pos` of an open element with `flag`.
    fn last_below(&self, flag: u32, pos: u32) -> Option<u32> {
        let positions = &self.by_flag[flag.trailing_zeros() as usize];
        let n = positions.partition_point(|&p| p < pos);
        n.checked_sub(1).and_then(|i| positions.get(i).copied())
    }

    /// Whether html5ever is "in table" (or a table body or row): a table
    /// is open with no cell, caption or template above it. Foster-parented
    /// elements above the table do not change that.
    fn in_table_mode(&self) -> bool {
        self.last(TABLE).is_some_and(|t| {
            self.last(CELL).is_none_or(|c| c < t) && self.last(TEMPLATE).is_none_or(|tp| tp < t)
        })
    }

    fn close_p(&mut self) {
        if let Some(p) = self.in_scope(hash_name(b"p"), BUTTON_SCOPE) {
            self.pop_to(p);
        }
    }

    // --- the list of active formatting elements ---------------------------

    fn clear_to_marker(&mut self) {
        while let Some(entry) = self.active.pop() {
            match entry {
                Active::Marker => break,
                Active::Element { .. } => self.active_elements -= 1,
            }
        }
    }

    fn is_open(&self, serial: u32) -> bool {
        self.position
            .get(serial as usize)
            .is_some_and(|p| p.is_some())
    }

    /// Re-creates the formatting elements that were closed implicitly, as
    /// the tree builder does before text and most start tags.
    fn reconstruct(&mut self) -> Result<(), Refusal> {
        let mut first = self.active.len();
        while first > 0 {
            match self.active[first - 1] {
                Active::Marker => break,
                Active::Element { serial, .. } if self.is_open(serial) => break,
                Active::Element { .. } => first -= 1,
            }
        }
        if first == self.active.len() {
            return Ok(());
        }
        self.work(self.active.len() - first)?;
        for k in first..self.active.len() {
            if let Active::Element { name, attrs, .. } = self.active[k] {
                let serial = self.push(name, Known::B.flags())?;
                self.active[k] = Active::Element {
                    name,
                    attrs,
                    serial,
                };
            }
        }
        Ok(())
    }

    fn push_formatting(&mut self, tag: &Tag) -> Result<(), Refusal> {
        // Noah's Ark: at most three identical entries after the last marker.
        let mut same = 0;
        let mut earliest = None;
        let mut scanned = 0;
        for (k, entry) in self.active.iter().enumerate().rev() {
            scanned += 1;
            match *entry {
                Active::Marker => break,
                Active::Element { name, attrs, .. }
                    if name == tag.name && attrs == tag.attrs_hash =>
                {
                    same += 1;
                    earliest = Some(k);
                }
                Active::Element { .. } => {}
            }
        }
        self.work(scanned)?;
        if same >= 3
            && let Some(k) = earliest
        {
            self.active.remove(k);
            self.active_elements -= 1;
        }
        let serial = self.push(tag.name, tag.known.flags())?;
        self.active.push(Active::Element {
            name: tag.name,
            attrs: tag.attrs_hash,
            serial,
        });
        self.active_elements += 1;
        self.usage.open_formatting = self.usage.open_formatting.max(self.active_elements);
        if self.active_elements > self.limits.open_formatting {
            return Err(Refusal::OpenFormatting(self.limits.open_formatting));
        }
        Ok(())
    }

    /// The adoption agency algorithm for a formatting end tag (or a start tag
    /// `a`/`nobr` that closes an open one). Returns false when no such
    /// element is in the list, for the caller to treat it as another end tag.
    fn adoption_agency(&mut self, name: u64) -> Result<bool, Refusal> {
        self.work(self.stack.len() + self.active.len())?;
        let mut found = None;
        for (k, entry) in self.active.iter().enumerate().rev() {
            match *entry {
                Active::Marker => break,
                Active::Element {
                    name: n, serial, ..
                } if n == name => {
                    found = Some((k, serial));
                    break;
                }
                Active::Element { .. } => {}
            }
        }
        let Some((k, serial)) = found else {
            return Ok(false);
        };
        let Some(Some(pos)) = self.position.get(serial as usize).copied() else {
            // In the list but no longer open: dropped from the list.
            self.active.remove(k);
            self.active_elements -= 1;
            return Ok(true);
        };
        if self.last(SCOPE).is_some_and(|s| s > pos) {
            self.unmatched()?;
            return Ok(true);
        }
        if self.last(SPECIAL).is_some_and(|s| s > pos) {
            // A block inside the formatting element: the tree builder moves
            // and clones elements, up to eight rounds of up to four clones;
            // the stack keeps its depth.
            self.usage.misnested += 1;
            if self.usage.misnested > self.limits.misnested {
                return Err(Refusal::Misnested(self.limits.misnested));
            }
            self.work(8 * (self.stack.len() + self.active.len()))?;
            self.created(8)?;
            return Ok(true);
        }
        self.pop_to(pos);
        if let Some(k) = self
            .active
            .iter()
            .rposition(|e| matches!(e, Active::Element { serial: s, .. } if *s == serial))
        {
            self.active.remove(k);
            self.active_elements -= 1;
        }
        Ok(true)
    }

    // --- tokens -----------------------------------------------------------

    fn text(&mut self) -> Result<(), Refusal> {
        if !self.in_foreign_content() {
            self.reconstruct()?;
        }
        Ok(())
    }

    /// Handles a start tag; says whether the element's content is raw text
    /// (script, style…) or the rest of the page is (plaintext).
    fn start_tag(&mut self, tag: &Tag) -> Result<Skip, Refusal> {
        self.token()?;
        self.work(self.stack.len())?;
        use Known::*;
        self.decide_template_mode(tag.known);
        if self.in_foreign_content() {
            let breakout =
                tag.known.breaks_out_of_foreign() || (tag.known == Font && tag.font_breakout);
            if !breakout {
                // A new foreign element takes the namespace of the one it
                // is in (an `svg` inside `math` is a MathML element).
                let math = self.top().is_some_and(|t| t.flags & MATH_NS != 0);
                self.push(tag.name, foreign_flags(tag.known, math))?;
                if tag.self_closing {
                    self.pop();
                }
                return Ok(Skip::No);
            }
            while self.in_foreign_content() && self.stack.len() > 1 {
                self.pop();
            }
        }
        if self.in_select() && !self.leave_select_in_table(tag, false) {
            match tag.known {
                Option => {
                    if self.top_is(Option) {
                        self.pop();
                    }
                }
                Optgroup => {
                    if self.top_is(Option) {
                        self.pop();
                    }
                    if self.top_is(Optgroup) {
                        self.pop();
                    }
                }
                Select | Input | Keygen | Textarea => {
                    if let Some(s) = self.last(SELECT) {
                        self.pop_to(s);
                    }
                    if tag.known == Select {
                        return Ok(Skip::No);
                    }
                }
                // html5ever's "in select" hands only script and template to
                // the "in head" rules. A `<style>` there is *ignored*, so
                // what follows is markup, not raw text: counting it as raw
                // text let `<select><style><select>` + 200,000 `<div>`s
                // through unmeasured (found by fuzzing; the seed
                // `select-style-bypass.html` keeps it found).
                Script | Template | Hr => {}
                // Everything else is ignored inside a select.
                _ => return Ok(Skip::No),
            }
        }
        match tag.known {
            Html | Head | Body => return Ok(Skip::No),
            Plaintext => {
                self.created(1)?;
                return Ok(Skip::ToEnd);
            }
            _ => {}
        }
        if tag.known.is_raw_text() {
            self.created(1)?;
            return Ok(Skip::RawText {
                rcdata: matches!(tag.known, Textarea | Title),
            });
        }
        if tag.known.is_void() {
            if tag.known == Hr {
                self.close_p();
            } else {
                self.reconstruct()?;
            }
            return self.created(1).map(|()| Skip::No);
        }
        match tag.known {
            Svg | Math => {
                self.reconstruct()?;
                self.push(tag.name, foreign_flags(tag.known, tag.known == Math))?;
                if tag.self_closing {
                    self.pop();
                }
            }
            A | Nobr => {
                if tag.known == Nobr {
                    if self.in_scope(tag.name, SCOPE).is_some() {
                        self.adoption_agency(tag.name)?;
                    }
                } else {
                    self.adoption_agency(tag.name)?;
                }
                self.reconstruct()?;
                self.push_formatting(tag)?;
            }
            B | Big | Code | Em | Font | I | S | Small | Strike | Strong | Tt | U => {
                self.reconstruct()?;
                self.push_formatting(tag)?;
            }
            Li | Dd | Dt => {
                let (names, bound): (&[Known], u32) = if tag.known == Li {
                    (&[Li], SPECIAL_NOT_ADP)
                } else {
                    (&[Dd, Dt], SPECIAL_NOT_ADP)
                };
                let nearest = names
                    .iter()
                    .filter_map(|k| self.last_named(hash_name(k.name())))
                    .max();
                if let Some(at) = nearest
                    && self.last(bound).is_none_or(|s| s <= at)
                {
                    self.pop_to(at);
                }
                self.close_p();
                self.push(tag.name, tag.known.flags())?;
            }
            H1 | H2 | H3 | H4 | H5 | H6 => {
                self.close_p();
                if self.top().is_some_and(|t| t.flags & HEADING != 0) {
                    self.pop();
                }
                self.push(tag.name, tag.known.flags())?;
            }
            Form if self.in_table_mode() => {
                // "In table" a form is inserted and popped at once, and
                // closes no p: closing one here (the body rule) popped
                // formatting elements html5ever keeps, and it then re-creates
                // them for every paragraph unseen (found by fuzzing).
                if !self.form_open && self.last(TEMPLATE).is_none() {
                    self.form_open = true;
                    self.created(1)?;
                }
            }
            Form => {
                if !self.form_open || self.last(TEMPLATE).is_some() {
                    self.close_p();
                    self.form_open = true;
                    self.push(tag.name, tag.known.flags())?;
                }
            }
            Button => {
                if let Some(at) = self.in_scope(tag.name, SCOPE) {
                    self.pop_to(at);
                }
                self.reconstruct()?;
                self.push(tag.name, tag.known.flags())?;
            }
            Option | Optgroup => {
                if self.top_is(Option) {
                    self.pop();
                }
                self.reconstruct()?;
                self.push(tag.name, tag.known.flags())?;
            }
            Table => {
                // A table directly inside a table (not in a cell, nor in a
                // template, whose content has a mode of its own) closes it.
                if let Some(t) = self.last(TABLE)
                    && self.last(CELL).is_none_or(|c| c < t)
                    && self.last(TEMPLATE).is_none_or(|tp| tp < t)
                {
                    self.pop_to(t);
                }
                // In quirks mode (no doctype) a table does not close a `p`:
                // not closing it only over-counts.
                self.push(tag.name, tag.known.flags())?;
            }
            Td | Th | Tr | Tbody | Thead | Tfoot | Caption | Colgroup => {
                self.table_part(tag)?;
            }
            _ => {
                if tag.known.closes_p() {
                    self.close_p();
                } else {
                    self.reconstruct()?;
                }
                self.push(tag.name, tag.known.flags())?;
                if tag.known.has_marker() {
                    self.active.push(Active::Marker);
                }
            }
        }
        Ok(Skip::No)
    }

    /// A start tag that is the first child of the template on top of the
    /// stack decides what html5ever makes of the template's content.
    fn decide_template_mode(&mut self, known: Known) {
        use Known::*;
        let pos = self.stack.len().saturating_sub(1) as u32;
        let Some(top) = self.stack.last_mut() else {
            return;
        };
        if top.flags & TEMPLATE == 0 || top.flags & (TEMPLATE_TABLE | TEMPLATE_BODY) != 0 {
            return;
        }
        let mode = match known {
            Caption | Colgroup | Col | Tbody | Tfoot | Thead | Tr | Td | Th => TEMPLATE_TABLE,
            // "In head" elements keep the template undecided.
            Base | Basefont | Bgsound | Link | Meta | Noframes | Script | Style | Template
            | Title => return,
            _ => TEMPLATE_BODY,
        };
        top.flags |= mode;
        self.by_flag[mode.trailing_zeros() as usize].push(pos);
    }

    fn table_part(&mut self, tag: &Tag) -> Result<(), Refusal> {
        use Known::*;
        let table = self.last(TABLE);
        if let Some(template) = self.last(TEMPLATE)
            && table.is_none_or(|tb| tb < template)
        {
            // A template is nearer than any table. If its first child made
            // it a body, html5ever ignores table parts in it, as the scan
            // does. If it made it a table (or nothing decided yet), they
            // are inserted: the scan pushes them where they come, popping
            // nothing, which may over-count but never under-counts.
            // (Ignoring them let `<template><td>` pairs nest twice as deep
            // as counted, and a td html5ever keeps stops end tags the scan
            // let through; both found by fuzzing.) The parts counted here
            // are capped, since the scan cannot place them exactly.
            if self.last(TEMPLATE_BODY) == Some(template) {
                return Ok(());
            }
            self.usage.template_table_parts += 1;
            if self.usage.template_table_parts > self.limits.template_table_parts {
                return Err(Refusal::TemplateTableParts(
                    self.limits.template_table_parts,
                ));
            }
            self.push(tag.name, tag.known.flags())?;
            if matches!(tag.known, Td | Th | Caption) {
                self.active.push(Active::Marker);
            }
            return Ok(());
        }
        let Some(table) = table else {
            // Outside a table these tags are ignored.
            return Ok(());
        };
        // Inside a cell of this table, a new part closes the cell.
        if let Some(cell) = self.last(CELL)
            && cell > table
        {
            self.pop_to(cell);
        }
        let row = self.last(ROW).filter(|r| *r > table);
        let section = self.last(SECTION).filter(|s| *s > table);
        match tag.known {
            Td | Th => {
                match (row, section) {
                    (Some(r), _) => self.pop_to(r + 1),
                    (None, Some(s)) => {
                        self.pop_to(s + 1);
                        self.push(hash_name(b"tr"), Tr.flags())?;
                    }
                    (None, None) => {
                        self.pop_to(table + 1);
                        self.push(hash_name(b"tbody"), Tbody.flags())?;
                        self.push(hash_name(b"tr"), Tr.flags())?;
                    }
                }
                self.push(tag.name, tag.known.flags())?;
            }
            Tr => {
                match (row, section) {
                    (Some(r), _) => self.pop_to(r),
                    (None, Some(s)) => self.pop_to(s + 1),
                    (None, None) => {
                        self.pop_to(table + 1);
                        self.push(hash_name(b"tbody"), Tbody.flags())?;
                    }
                }
                self.push(tag.name, tag.known.flags())?;
            }
            _ => {
                self.pop_to(table + 1);
                self.push(tag.name, tag.known.flags())?;
            }
        }
        if matches!(tag.known, Td | Th | Caption) {
            self.active.push(Active::Marker);
        }
        Ok(())
    }

    fn end_tag(&mut self, tag: &Tag) -> Result<(), Refusal> {
        self.token()?;
        self.work(self.stack.len())?;
        use Known::*;
        if self.in_foreign_content() && matches!(tag.known, P | Br) {
            // `</p>` and `</br>` leave foreign content altogether, then act
            // as in HTML (found by fuzzing: the scan stayed inside the svg).
            while self.in_foreign_content() && self.stack.len() > 1 {
                self.pop();
            }
        }
        if self.in_foreign_content()
            && let Some(at) = self.last_named(tag.name)
            && self.last(HTML_NS).is_none_or(|h| h < at)
        {
            self.pop_to(at);
            return Ok(());
        }
        if self.in_select() && !self.leave_select_in_table(tag, true) {
            match tag.known {
                Option if self.top_is(Option) => self.pop(),
                Optgroup => {
                    if self.top_is(Option) {
                        self.pop();
                    }
                    if self.top_is(Optgroup) {
                        self.pop();
                    }
                }
                Select => {
                    if let Some(s) = self.last(SELECT) {
                        self.pop_to(s);
                    }
                }
                Template => {
                    if let Some(t) = self.last(TEMPLATE) {
                        self.pop_to(t);
                    }
                }
                _ => {}
            }
            return Ok(());
        }
        match tag.known {
            // The document's own elements are never closed by end tags.
            Html | Head | Body => Ok(()),
            Br => {
                self.reconstruct()?;
                self.created(1)
            }
            P => match self.in_scope(tag.name, BUTTON_SCOPE) {
                Some(at) => {
                    self.pop_to(at);
                    Ok(())
                }
                // A stray `</p>` makes an empty `p`.
                None => {
                    self.unmatched()?;
                    self.created(1)
                }
            },
            Li => self.close_in_scope(tag.name, LIST_SCOPE),
            H1 | H2 | H3 | H4 | H5 | H6 => {
                match self.last(HEADING) {
                    Some(h) if self.last(SCOPE).is_none_or(|s| s < h) => self.pop_to(h),
                    _ => self.unmatched()?,
                }
                Ok(())
            }
            // With a template open, html5ever ignores the form pointer and
            // `</form>` pops everything down to the form, formatting
            // elements included (which then get re-created); leaving them
            // open hid that (found by fuzzing).
            Form if self.last(TEMPLATE).is_some() => match self.in_scope(tag.name, SCOPE) {
                Some(at) => {
                    self.pop_to(at);
                    Ok(())
                }
                None => self.unmatched(),
            },
            Form => {
                let was_open = std::mem::replace(&mut self.form_open, false);
                match self.in_scope(tag.name, SCOPE) {
                    // The form is removed from the stack, the elements above
                    // it are not: popped only when they are ones the end tag
                    // closes implicitly (p, li, option…), otherwise left open
                    // in the model, which over-counts.
                    Some(at) if was_open => {
                        if self.last(NOT_IMPLIED).is_none_or(|n| n <= at) {
                            self.pop_to(at);
                        }
                        Ok(())
                    }
                    _ => self.unmatched(),
                }
            }
            A | B | Big | Code | Em | Font | I | Nobr | S | Small | Strike | Strong | Tt | U => {
                if self.adoption_agency(tag.name)? {
                    Ok(())
                } else {
                    self.any_other_end_tag(tag.name)
                }
            }
            Table | Tbody | Thead | Tfoot | Tr | Td | Th | Caption | Colgroup => {
                match self.last_named(tag.name) {
                    Some(at) if self.last(TABLE).is_none_or(|t| t <= at) => self.pop_to(at),
                    _ => self.unmatched()?,
                }
                Ok(())
            }
            Template => {
                match self.last(TEMPLATE) {
                    Some(t) => self.pop_to(t),
                    None => self.unmatched()?,
                }
                Ok(())
            }
            _ if tag.known.is_special() => self.close_in_scope(tag.name, SCOPE),
            _ => self.any_other_end_tag(tag.name),
        }
    }

    fn close_in_scope(&mut self, name: u64, bound: u32) -> Result<(), Refusal> {
        // The element itself may be a scope boundary (`</td>`, `</object>`).
        let at = self.last_named(name);
        match at {
            Some(at) if self.last(bound).is_none_or(|b| b <= at) => {
                self.pop_to(at);
                Ok(())
            }
            _ => self.unmatched(),
        }
    }

    /// "Any other end tag": closes the nearest element of that name unless a
    /// special element (div, li, table…) is above it.
    fn any_other_end_tag(&mut self, name: u64) -> Result<(), Refusal> {
        match self.last_named(name) {
            Some(at) if self.last(SPECIAL).is_none_or(|s| s <= at) => {
                self.pop_to(at);
                Ok(())
            }
            _ => self.unmatched(),
        }
    }
}

/// Reads the tag whose name starts at `at`; returns it and the position
/// after its `>` (or the end of the page, where the tokenizer drops it).
fn read_tag(b: &[u8], at: usize, m: &mut Model) -> Result<(Tag, usize), Refusal> {
    let is_space = |c: u8| matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    let mut i = at;
    let mut h = FNV_OFFSET;
    let mut lower = [0u8; 16];
    let mut len = 0;
    while let Some(&c) = b.get(i) {
        if is_space(c) || c == b'/' || c == b'>' {
            break;
        }
        let c = c.to_ascii_lowercase();
        h = fnv(h, c);
        if len < lower.len() {
            lower[len] = c;
        }
        len += 1;
        i += 1;
    }
    let known = if len <= lower.len() {
        Known::from_name(&lower[..len])
    } else {
        Known::Other
    };
    let mut tag = Tag {
        name: h,
        known,
        self_closing: false,
        attributes: 0,
        attrs_hash: 0,
        font_breakout: false,
    };
    // Attributes, as the tokenizer's attribute states read them, so the `>`
    // found is the one that ends the tag (`<a title=">">`).
    loop {
        let Some(&c) = b.get(i) else {
            return Ok((tag, b.len()));
        };
        if is_space(c) {
            i += 1;
            continue;
        }
        if c == b'>' {
            i += 1;
            break;
        }
        if c == b'/' {
            i += 1;
            if b.get(i) == Some(&b'>') {
                tag.self_closing = true;
                i += 1;
                break;
            }
            continue;
        }
        // An attribute name (a leading `=` belongs to it).
        let name_start = i;
        i += 1;
        while let Some(&c) = b.get(i) {
            if is_space(c) || c == b'/' || c == b'>' || c == b'=' {
                break;
            }
            i += 1;
        }
        let name = b.get(name_start..i).unwrap_or_default();
        if ["color", "face", "size"]
            .iter()
            .any(|n| n.as_bytes().eq_ignore_ascii_case(name))
        {
            tag.font_breakout = true;
        }
        while b.get(i).is_some_and(|c| is_space(*c)) {
            i += 1;
        }
        let mut value = (i, i);
        if b.get(i) == Some(&b'=') {
            i += 1;
            while b.get(i).is_some_and(|c| is_space(*c)) {
                i += 1;
            }
            match b.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let start = i + 1;
                    match find_byte(b, start, q) {
                        Some(e) => {
                            value = (start, e);
                            i = e + 1;
                        }
                        None => return Ok((tag, b.len())),
                    }
                }
                _ => {
                    let start = i;
                    while let Some(&c) = b.get(i) {
                        if is_space(c) || c == b'>' {
                            break;
                        }
                        i += 1;
                    }
                    value = (start, i);
                }
            }
        }
        tag.attributes += 1;
        // The tokenizer compares each attribute's name with those before it.
        m.work(tag.attributes)?;
        if tag.attributes > m.limits.attributes {
            return Err(Refusal::Attributes(m.limits.attributes));
        }
        m.usage.attributes = m.usage.attributes.max(tag.attributes);
        let mut ah = FNV_OFFSET;
        for &c in b.get(name_start..i).unwrap_or_default() {
            ah = fnv(ah, c);
        }
        tag.attrs_hash = tag.attrs_hash.wrapping_add(ah);
        for k in value.0..value.1 {
            if b.get(k) == Some(&b'&')
                && b.get(k + 1)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'#')
            {
                m.token()?;
            }
        }
    }
    Ok((tag, i))
}

/// Where a comment, doctype or `<!…>` bogus comment starting after `<!` ends.
fn comment_end(b: &[u8], at: usize) -> usize {
    if b.get(at..at + 2) == Some(b"--") {
        let body = at + 2;
        // `<!-->` and `<!--->` are whole (empty) comments.
        if b.get(body) == Some(&b'>') {
            return body + 1;
        }
        if b.get(body..body + 2) == Some(b"->") {
            return body + 2;
        }
        let mut i = body;
        while let Some(p) = find_byte(b, i, b'-') {
            if b.get(p..p + 3) == Some(b"-->") {
                return p + 3;
            }
            if b.get(p..p + 4) == Some(b"--!>") {
                return p + 4;
            }
            i = p + 1;
        }
        return b.len();
    }
    find_byte(b, at, b'>').map_or(b.len(), |e| e + 1)
}

/// The position of the `</name` that ends raw text starting at `at` (or
/// the end of the page), and the character references before it (which
/// `textarea` and `title` decode).
fn raw_text_end(b: &[u8], at: usize, name: &[u8]) -> (usize, usize) {
    let mut refs = 0;
    let mut i = at;
    while let Some(&c) = b.get(i) {
        if c == b'&'
            && b.get(i + 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'#')
        {
            refs += 1;
        }
        if c == b'<'
            && b.get(i + 1) == Some(&b'/')
            && b.get(i + 2..i + 2 + name.len())
                .is_some_and(|n| n.eq_ignore_ascii_case(name))
            && b.get(i + 2 + name.len())
                .is_none_or(|c| matches!(c, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' | b'/' | b'>'))
        {
            return (i, refs);
        }
        i += 1;
    }
    (b.len(), refs)
}

fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|c| *c == needle)
        .map(|p| from + p)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(h: u64, c: u8) -> u64 {
    (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
}

fn hash_name(name: &[u8]) -> u64 {
    name.iter()
        .fold(FNV_OFFSET, |h, c| fnv(h, c.to_ascii_lowercase()))
}

/// The flags of a foreign element named `known` in the MathML namespace
/// (`math`) or the SVG one. Integration points are per namespace: an `mi`
/// inside an svg is an ordinary svg element, and taking it for one let
/// table tags inside it close cells html5ever keeps open (found by fuzzing).
fn foreign_flags(known: Known, math: bool) -> u32 {
    let integration = if math {
        matches!(
            known,
            Known::Mi | Known::Mo | Known::Mn | Known::Ms | Known::Mtext | Known::AnnotationXml
        )
    } else {
        matches!(known, Known::ForeignObject | Known::Desc | Known::Title)
    };
    let ns = if math { MATH_NS } else { 0 };
    if integration {
        // In scope checks, but *not* special: html5ever's `special_tag`
        // set names HTML elements only, so an end tag like `</span>` walks
        // through an svg foreignObject and closes what is under it. Taking
        // them for special let `<span><svg><foreignObject>` + 90 `<b id=N>`
        // + `</span>` + `<p>x`… through with 80× more elements than counted
        // (found by the html_guard fuzz target).
        SCOPE | BUTTON_SCOPE | LIST_SCOPE | HTML_CONTEXT | NOT_IMPLIED | ns
    } else {
        NOT_IMPLIED | ns
    }
}

macro_rules! known {
    ($($v:ident = $s:literal),* $(,)?) => {
        /// The element names the model treats specially.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        enum Known { $($v,)* Other }
        impl Known {
            fn from_name(n: &[u8]) -> Known {
                match n { $($s => Known::$v,)* _ => Known::Other }
            }
            fn name(self) -> &'static [u8] {
                match self { $(Known::$v => $s,)* Known::Other => b"" }
            }
        }
    };
}

known! {
    A = b"a", Address = b"address", AnnotationXml = b"annotation-xml", Applet = b"applet",
    Area = b"area", Article = b"article", Aside = b"aside", B = b"b", Base = b"base",
    Basefont = b"basefont", Bgsound = b"bgsound", Big = b"big", Blockquote = b"blockquote",
    Body = b"body", Br = b"br", Button = b"button", Caption = b"caption", Center = b"center",
    Code = b"code", Col = b"col", Colgroup = b"colgroup", Dd = b"dd", Desc = b"desc",
    Details = b"details", Dialog = b"dialog", Dir = b"dir", Div = b"div", Dl = b"dl",
    Dt = b"dt", Em = b"em", Embed = b"embed", Fieldset = b"fieldset",
    Figcaption = b"figcaption", Figure = b"figure", Font = b"font", Footer = b"footer",
    ForeignObject = b"foreignobject", Form = b"form", Frame = b"frame", Frameset = b"frameset",
    H1 = b"h1", H2 = b"h2", H3 = b"h3", H4 = b"h4", H5 = b"h5", H6 = b"h6", Head = b"head",
    Header = b"header", Hgroup = b"hgroup", Hr = b"hr", Html = b"html", I = b"i",
    Iframe = b"iframe", Image = b"image", Img = b"img", Input = b"input", Keygen = b"keygen",
    Li = b"li", Link = b"link", Listing = b"listing", Main = b"main", Marquee = b"marquee",
    Math = b"math", Menu = b"menu", Meta = b"meta", Mi = b"mi", Mn = b"mn", Mo = b"mo",
    Ms = b"ms", Mtext = b"mtext", Nav = b"nav", Nobr = b"nobr", Noembed = b"noembed",
    Noframes = b"noframes", Object = b"object", Ol = b"ol", Optgroup = b"optgroup",
    Option = b"option", P = b"p", Param = b"param", Plaintext = b"plaintext", Pre = b"pre",
    Ruby = b"ruby", S = b"s", Script = b"script", Search = b"search", Section = b"section",
    Select = b"select", Small = b"small", Source = b"source", Span = b"span",
    Strike = b"strike", Strong = b"strong", Style = b"style", Sub = b"sub",
    Summary = b"summary", Sup = b"sup", Svg = b"svg", Table = b"table", Tbody = b"tbody",
    Td = b"td", Template = b"template", Textarea = b"textarea", Tfoot = b"tfoot", Th = b"th",
    Thead = b"thead", Title = b"title", Tr = b"tr", Track = b"track", Tt = b"tt", U = b"u",
    Ul = b"ul", Var = b"var", Wbr = b"wbr", Xmp = b"xmp",
}

impl Known {
    fn is_void(self) -> bool {
        use Known::*;
        matches!(
            self,
            Area | Base
                | Basefont
                | Bgsound
                | Br
                | Col
                | Embed
                | Frame
                | Hr
                | Image
                | Img
                | Input
                | Keygen
                | Link
                | Meta
                | Param
                | Source
                | Track
                | Wbr
        )
    }

    /// Elements whose content the tokenizer reads as text up to their end
    /// tag (in HTML content; scraper parses with scripting off, so
    /// `noscript` content is markup and counted).
    fn is_raw_text(self) -> bool {
        use Known::*;
        matches!(
            self,
            Script | Style | Xmp | Iframe | Noembed | Noframes | Textarea | Title
        )
    }

    fn is_special(self) -> bool {
        use Known::*;
        matches!(
            self,
            Address
                | Applet
                | Area
                | Article
                | Aside
                | Base
                | Basefont
                | Bgsound
                | Blockquote
                | Body
                | Br
                | Button
                | Caption
                | Center
                | Col
                | Colgroup
                | Dd
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Dt
                | Embed
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Form
                | Frame
                | Frameset
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Head
                | Header
                | Hgroup
                | Hr
                | Html
                | Iframe
                | Img
                | Input
                | Keygen
                | Li
                | Link
                | Listing
                | Main
                | Marquee
                | Menu
                | Meta
                | Nav
                | Noembed
                | Noframes
                | Object
                | Ol
                | P
                | Param
                | Plaintext
                | Pre
                | Script
                | Search
                | Section
                | Select
                | Source
                | Style
                | Summary
                | Table
                | Tbody
                | Td
                | Template
                | Textarea
                | Tfoot
                | Th
                | Thead
                | Title
                | Tr
                | Track
                | Ul
                | Wbr
                | Xmp
        )
    }

    fn closes_p(self) -> bool {
        use Known::*;
        matches!(
            self,
            Address
                | Article
                | Aside
                | Blockquote
                | Center
                | Details
                | Dialog
                | Dir
                | Div
                | Dl
                | Fieldset
                | Figcaption
                | Figure
                | Footer
                | Header
                | Hgroup
                | Main
                | Menu
                | Nav
                | Ol
                | P
                | Search
                | Section
                | Summary
                | Ul
                | Pre
                | Listing
        )
    }

    fn has_marker(self) -> bool {
        matches!(
            self,
            Known::Applet | Known::Object | Known::Marquee | Known::Template
        )
    }

    /// HTML start tags that end SVG/MathML content (`font` only with a
    /// color, face or size attribute).
    fn breaks_out_of_foreign(self) -> bool {
        use Known::*;
        matches!(
            self,
            B | Big
                | Blockquote
                | Body
                | Br
                | Center
                | Code
                | Dd
                | Div
                | Dl
                | Dt
                | Em
                | Embed
                | H1
                | H2
                | H3
                | H4
                | H5
                | H6
                | Head
                | Hr
                | I
                | Img
                | Li
                | Listing
                | Menu
                | Meta
                | Nobr
                | Ol
                | P
                | Pre
                | Ruby
                | S
                | Small
                | Span
                | Strong
                | Strike
                | Sub
                | Sup
                | Table
                | Tt
                | U
                | Ul
                | Var
        )
    }

    fn flags(self) -> u32 {
        use Known::*;
        let mut f = HTML_NS | HTML_CONTEXT;
        if self.is_special() {
            f |= SPECIAL;
            if !matches!(self, Address | Div | P) {
                f |= SPECIAL_NOT_ADP;
            }
        }
        if matches!(
            self,
            Applet | Caption | Html | Table | Td | Th | Marquee | Object | Template
        ) {
            f |= SCOPE | BUTTON_SCOPE | LIST_SCOPE;
        }
        match self {
            Button => f |= BUTTON_SCOPE,
            Ol | Ul => f |= LIST_SCOPE,
            Table => f |= TABLE,
            Td | Th | Caption => f |= CELL | MARKER,
            Tr => f |= ROW,
            Tbody | Thead | Tfoot => f |= SECTION,
            H1 | H2 | H3 | H4 | H5 | H6 => f |= HEADING,
            Template => f |= TEMPLATE | MARKER,
            Applet | Object | Marquee => f |= MARKER,
            Select => f |= SELECT,
            A | B | Big | Code | Em | Font | I | Nobr | S | Small | Strike | Strong | Tt | U => {
                f |= FORMATTING
            }
            _ => {}
        }
        if !matches!(self, Dd | Dt | Li | Optgroup | Option | P) {
            f |= NOT_IMPLIED;
        }
        f
    }
}

/// Pages crafted against the HTML parser, one per costly shape, for the
/// tests, the benchmark (`html_budget`) and the fuzz seeds. Not for
/// production use.
#[doc(hidden)]
pub mod hostile {
    /// `unit` repeated after `prefix` to at most `bytes`.
    pub fn page(prefix: &str, unit: &str, bytes: usize) -> String {
        let mut s = String::from(prefix);
        while s.len() + unit.len() <= bytes {
            s.push_str(unit);
        }
        s
    }

    /// `unit(0)`, `unit(1)`… to at most `bytes`.
    pub fn numbered(unit: impl Fn(usize) -> String, bytes: usize) -> String {
        let mut s = String::new();
        for i in 0.. {
            let u = unit(i);
            if s.len() + u.len() > bytes {
                break;
            }
            s.push_str(&u);
        }
        s
    }

    /// Every shape, about `bytes` long (ASCII, so any prefix is a page too).
    pub fn shapes(bytes: usize) -> Vec<(&'static str, String)> {
        let half = bytes / 2;
        vec![
            ("nested_divs", page("", "<div>", bytes)),
            ("nested_spans", page("", "<span>", bytes)),
            (
                "unclosed_inline",
                page("", "<b><i><a><span><font><nobr>", bytes),
            ),
            (
                "distinct_unclosed_b",
                numbered(|i| format!("<b id={i}>"), bytes),
            ),
            ("unclosed_a", page("", "<a>x", bytes)),
            ("unmatched_end_tags", page("", "</b></div></p>", bytes)),
            ("stray_end_under_spans", {
                let mut s = page("", "<span>", half.min(3_000));
                s.push_str(&page("", "</x>", bytes - s.len()));
                s
            }),
            ("stray_p_under_divs", {
                let mut s = page("", "<div>", half.min(2_500));
                s.push_str(&page("", "</p>", bytes - s.len()));
                s
            }),
            ("misnested_b_div", page("", "<b><div>x</b>", bytes)),
            ("nested_tables", page("", "<table><tr><td>", bytes)),
            ("nested_lists", page("", "<ul><li>", bytes)),
            ("misnested_select", page("", "<div><select><option>", bytes)),
            // Found by fuzzing: a style start tag in a select is ignored,
            // so what follows is markup, not raw text.
            (
                "style_in_select",
                page("<select><style><select>", "<div>", bytes),
            ),
            // Found by fuzzing: `</span>` closes through svg's
            // foreignObject, and the b's are re-created for each paragraph.
            // Found by fuzzing: "in table" a form closes no p, so the b's
            // stay in the list and are re-created for each paragraph.
            ("recreated_after_form_in_table", {
                let mut s = String::from("<table><p>x");
                for i in 0..90 {
                    s.push_str(&format!("<b id={i}>"));
                }
                s.push_str("x<form><span>");
                s.push_str(&page("", "<p>x", bytes.saturating_sub(s.len())));
                s
            }),
            ("recreated_past_foreign_object", {
                let mut s = String::from("<span><svg><foreignObject>");
                for i in 0..90 {
                    s.push_str(&format!("<b id={i}>"));
                }
                s.push_str("</span>");
                s.push_str(&page("", "<p>x", bytes.saturating_sub(s.len())));
                s
            }),
            ("formatting_recreated", {
                let mut s = String::from("<p>");
                s.push_str(
                    &"<b><i><u><s><em><tt><big><small><strike><strong><code><font><nobr>".repeat(3),
                );
                s.push_str(&page("", "<p>x", bytes - s.len()));
                s
            }),
            (
                "attributes",
                numbered(
                    |i| {
                        if i == 0 {
                            "<div".into()
                        } else {
                            format!(" a{i}")
                        }
                    },
                    bytes,
                ),
            ),
            ("comments", page("", "<!---->", bytes)),
            ("character_references", page("", "&amp;", bytes)),
            ("nested_svg", page("<svg>", "<g>", bytes)),
            ("nested_templates", page("", "<template>", bytes)),
            ("flat_elements", page("", "<i>x</i>", bytes)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::hostile::{numbered, page};
    use super::*;

    #[test]
    fn recorded_pages_pass_with_a_wide_margin() {
        let telegram = [
            ("bijouterie_or_dz", None),
            ("bijouterie_or_dz", Some(101)),
            ("zoloto_lombard_ru", None),
            ("zoloto_lombard_ru", Some(221)),
        ]
        .into_iter()
        .filter_map(|(c, b)| crate::demo::telegram_page(c, b).map(|body| (c, body)));
        let pages = crate::demo::pages()
            .filter(|p| p.content_type.contains("html"))
            .map(|p| (p.path, p.body))
            .chain(telegram);
        let mut n = 0;
        for (path, body) in pages {
            n += 1;
            let usage = measure(body, &LIMITS).unwrap_or_else(|r| panic!("{path} refused: {r}"));
            println!("{path}: {usage:?}");
            assert!(usage.elements * 20 < LIMITS.elements, "{path}: {usage:?}");
            assert!(usage.depth * 10 < LIMITS.depth, "{path}: {usage:?}");
            assert!(usage.tokens * 20 < LIMITS.tokens, "{path}: {usage:?}");
            assert!(usage.work * 20 < LIMITS.work, "{path}: {usage:?}");
            assert!(
                usage.unmatched_end_tags * 20 < LIMITS.unmatched_end_tags,
                "{path}: {usage:?}"
            );
            assert!(
                usage.open_formatting * 10 < LIMITS.open_formatting,
                "{path}: {usage:?}"
            );
        }
        assert!(n >= 15, "only {n} recorded pages");
    }

    #[test]
    fn every_hostile_shape_is_refused_with_its_reason() {
        const MIB: usize = 1024 * 1024;
        type Expected = fn(&Refusal) -> bool;
        let cases: Vec<(&str, String, Expected)> = vec![
            ("nested divs", page("", "<div>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            ("nested spans", page("", "<span>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            (
                "unclosed inline mix",
                page("", "<b><i><a><span><font><nobr>", MIB),
                |r| matches!(r, Refusal::Depth(_)),
            ),
            (
                "distinct unclosed b",
                numbered(|i| format!("<b id={i}>"), MIB),
                |r| matches!(r, Refusal::OpenFormatting(_) | Refusal::Depth(_)),
            ),
            ("unclosed a", page("", "<a>x", MIB), |r| {
                matches!(r, Refusal::Elements(_))
            }),
            ("unmatched end tags", page("", "</b></div></p>", MIB), |r| {
                matches!(r, Refusal::UnmatchedEndTags(_))
            }),
            (
                "stray </x> under spans",
                {
                    let mut s = "<span>".repeat(400);
                    s.push_str(&"</x>".repeat(20_000));
                    s
                },
                |r| matches!(r, Refusal::UnmatchedEndTags(_) | Refusal::Work(_)),
            ),
            ("misnested b/div", page("", "<b><div>x</b>", MIB), |r| {
                matches!(r, Refusal::Misnested(_) | Refusal::Depth(_))
            }),
            ("nested tables", page("", "<table><tr><td>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            ("nested lists", page("", "<ul><li>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            (
                "nested selects",
                page("", "<div><select><option>", MIB),
                |r| matches!(r, Refusal::Depth(_) | Refusal::Elements(_)),
            ),
            (
                // `</span>` walks through svg's foreignObject (not special
                // in html5ever), so the b's are popped and then re-created
                // for every paragraph (found by fuzzing).
                "formatting re-created past a foreignObject",
                {
                    let bs: String = (0..90).map(|n| format!("<b id={n}>")).collect();
                    page(
                        &format!("<span><svg><foreignObject>{bs}</span>"),
                        "<p>x",
                        MIB,
                    )
                },
                |r| matches!(r, Refusal::Elements(_) | Refusal::Work(_)),
            ),
            (
                "table parts in templates",
                page("", "<template><tbody><tr><td>", MIB),
                |r| matches!(r, Refusal::TemplateTableParts(_) | Refusal::Depth(_)),
            ),
            (
                // A style start tag inside a select is ignored, not raw
                // text: the divs after it are real (found by fuzzing).
                "style ignored in a select",
                page("<select><style><select>", "<div>", MIB),
                |r| matches!(r, Refusal::Depth(_)),
            ),
            (
                "formatting re-created before text",
                {
                    let mut s = String::from("<p>");
                    s.push_str(
                        &"<b><i><u><s><em><tt><big><small><strike><strong><code><font><nobr>"
                            .repeat(3),
                    );
                    s.push_str(&"<p>x".repeat(MIB / 4));
                    s
                },
                |r| matches!(r, Refusal::Elements(_)),
            ),
            (
                "many attributes",
                numbered(
                    |i| {
                        if i == 0 {
                            "<div".into()
                        } else {
                            format!(" a{i}")
                        }
                    },
                    MIB,
                ),
                |r| matches!(r, Refusal::Attributes(_)),
            ),
            ("comments", page("", "<!---->", MIB), |r| {
                matches!(r, Refusal::Tokens(_))
            }),
            ("character references", page("", "&amp;", MIB), |r| {
                matches!(r, Refusal::Tokens(_))
            }),
            ("nested svg", page("<svg>", "<g>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            ("nested templates", page("", "<template>", MIB), |r| {
                matches!(r, Refusal::Depth(_))
            }),
            (
                "form/span removal",
                page("", "<form><span></form>", MIB),
                |r| matches!(r, Refusal::Depth(_)),
            ),
            (
                "span in select",
                page("", "<span><select></span></select>", MIB),
                |r| matches!(r, Refusal::Depth(_)),
            ),
            (
                "hidden behind <!-->",
                format!("<!-->{}-->", "<div>".repeat(10_000)),
                |r| matches!(r, Refusal::Depth(_)),
            ),
        ];
        for (what, html, expected) in cases {
            let refusal = measure(&html, &LIMITS).expect_err(what);
            assert!(expected(&refusal), "{what}: refused for {refusal}");
            let msg = check(&html).expect_err(what).to_string();
            assert!(msg.contains("refused unparsed"), "{what}: {msg}");
        }
    }

    /// The real parser's element count and deepest element nesting.
    fn real_cost(html: &str) -> (usize, usize) {
        let doc = Html::parse_document(html);
        let (mut elements, mut deepest) = (0, 0);
        let mut todo = vec![(doc.tree.root(), 0usize)];
        while let Some((node, depth)) = todo.pop() {
            let depth = depth + usize::from(node.value().is_element());
            elements += usize::from(node.value().is_element());
            deepest = deepest.max(depth);
            todo.extend(node.children().map(|c| (c, depth)));
        }
        (elements, deepest)
    }

    #[test]
    fn the_model_counts_at_least_what_html5ever_builds() {
        let sloppy = "<ul><li>a<li>b</ul><p>one<p>two<dl><dt>x<dd>y</dl><table><tr><td>1<td>2<tr><td>3</table><font color=red><p>x<p>y";
        let pages = [512, 2_048, 8_192]
            .into_iter()
            .flat_map(hostile::shapes)
            .chain([("sloppy", sloppy.repeat(20))]);
        // The fuzz seeds, with the constructs the scan must follow exactly
        // (comment and raw text ends, quoted `>`, SVG, forms, selects).
        let seeds =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/html_guard");
        let seeds = std::fs::read_dir(seeds)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                // `beyond-model-*`: shapes the model is known to under-count;
                // the counted parse holds them (parse::tests).
                let name = e.file_name().to_string_lossy().into_owned();
                (!name.starts_with("beyond-model"))
                    .then(|| std::fs::read_to_string(e.path()).ok())
                    .flatten()
                    .map(|html| ("seed", html))
            })
            .collect::<Vec<_>>();
        assert!(seeds.len() >= 20, "fuzz/seeds/html_guard not found");
        let pages = pages.chain(seeds);
        for (what, html) in pages {
            let Ok(usage) = measure(&html, &LIMITS) else {
                continue;
            };
            let (elements, depth) = real_cost(&html);
            // html, head and body are not in the model's count, and it may
            // miss one round of re-created formatting elements: a bounded
            // difference, not a growing one.
            assert!(
                elements <= usage.elements + usage.open_formatting + usage.template_table_parts + 3,
                "{what}: {elements} real elements, {usage:?}"
            );
            assert!(
                depth <= usage.depth + 1 + 8 * usage.misnested + usage.template_table_parts,
                "{what}: real depth {depth}, {usage:?}"
            );
        }
    }

    /// What the budget promises, on every fuzz seed and hostile shape: a
    /// page `parse_document` accepts has at most `LIMITS.elements` elements
    /// and nests at most `LIMITS.depth` deep in html5ever's real tree.
    #[test]
    fn accepted_pages_are_within_the_limits() {
        let seeds =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/html_guard");
        let seeds = std::fs::read_dir(seeds)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok());
        let shapes = [2_048, 65_536]
            .into_iter()
            .flat_map(hostile::shapes)
            .map(|(_, html)| html);
        let mut accepted = 0;
        for html in seeds.chain(shapes) {
            let Ok(doc) = parse_document(&html) else {
                continue;
            };
            accepted += 1;
            let (elements, depth) = (
                doc.tree.nodes().filter(|n| n.value().is_element()).count(),
                parse::depth(&doc),
            );
            assert!(elements <= LIMITS.elements, "{elements} elements");
            assert!(depth <= LIMITS.depth, "depth {depth}");
        }
        assert!(accepted >= 20, "only {accepted} pages accepted");
    }

    #[test]
    fn normal_markup_passes() {
        let flat = "<div><p>x <b>y</b> <a href='/a?b=1&amp;c=2'>z</a></p></div>".repeat(1_000);
        assert!(check(&flat).is_ok());
        // Implied end tags keep sloppy pages shallow.
        let sloppy = "<ul><li>a<li>b</ul><p>one<p>two<dl><dt>x<dd>y</dl><table><tr><td>1<td>2<tr><td>3</table>"
            .repeat(500);
        let usage = measure(&sloppy, &LIMITS).expect("sloppy but shallow");
        assert!(usage.depth < 10, "{usage:?}");
        // An unclosed <font> re-created in each paragraph is fine.
        let font = format!("<font color=red>{}", "<p>text".repeat(2_000));
        assert!(check(&font).is_ok());
        // Tags inside scripts, styles and comments do not count; `>` in a
        // quoted attribute does not end the tag.
        let deep = "<div>".repeat(LIMITS.depth + 1);
        let hidden = format!(
            "<script>{deep}</script><style>{deep}</style><!-- {deep} --><a title='>{deep}'>"
        );
        assert!(check(&hidden).is_ok());
        // Inline SVG: self-closing elements close.
        let icons = format!("<svg>{}</svg>", "<path d='M0 0'/>".repeat(5_000));
        assert!(check(&icons).is_ok());
        for edge in [
            "",
            "<",
            "</",
            "<!",
            "<!--",
            "<a",
            "<a b='",
            "&",
            "</a",
            "<é>",
            "é<b>é</b>é",
        ] {
            assert!(check(edge).is_ok(), "{edge:?}");
        }
    }
}
