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

use scraper::Html;

use super::ScrapeError;

mod model;
mod parse;

/// Pages crafted against the HTML parser, one per costly shape, for the
/// tests, the benchmark (`html_budget`) and the fuzz seeds. Not for
/// production use.
#[doc(hidden)]
pub mod hostile;

#[cfg(test)]
mod tests;

use model::Model;

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
