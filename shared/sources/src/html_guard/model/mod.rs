//! The model behind [`measure`](super::measure): a linear scan that follows
//! the tree builder's stack of open elements and list of active formatting
//! elements closely enough to estimate what a page costs.

use std::collections::HashMap;

use super::{Limits, Refusal, Usage};

mod known;
mod rules;
mod tokenizer;

use known::{
    BUTTON_SCOPE, CELL, FLAGS, HTML_CONTEXT, Known, MARKER, ROW, SCOPE, SECTION, SELECT, SPECIAL,
    TABLE, TEMPLATE, hash_name,
};
use tokenizer::{Tag, comment_end, find_byte, raw_text_end, read_tag};

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

pub(super) struct Model {
    limits: Limits,
    pub(super) usage: Usage,
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

impl Model {
    pub(super) fn new(limits: Limits) -> Self {
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

    pub(super) fn run(&mut self, b: &[u8]) -> Result<(), Refusal> {
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
}
