//! The parse itself, counted as html5ever builds it.
//!
//! The scan in the parent module estimates a page's cost before parsing,
//! and its model of the tree builder is close but not exact (fuzzing keeps
//! finding corners of the spec, such as the adoption agency inside SVG, where
//! html5ever nests a little deeper than the model counted). So the limits
//! that matter most downstream, how many elements the tree has and how deep
//! it nests (every selector walks ancestors), are not left to the estimate:
//! the page is fed to html5ever in small chunks through a tree sink that
//! counts every element it creates, the parse stops at the first chunk that
//! passes [`Limits::elements`], and the finished tree's depth is measured
//! before anyone selects on it. The scan still bounds the work inside a
//! chunk and the costs a sink cannot see (scope walks, attribute checks).

use std::borrow::Cow;
use std::cell::{Cell, Ref};

use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{Attribute, QualName};
use scraper::{Html, HtmlTreeSink};

use super::{Limits, Refusal};

/// scraper's node id (ego_tree's), named through the sink so the crate
/// needs no direct dependency on ego_tree.
type NodeId = <HtmlTreeSink as TreeSink>::Handle;

/// Bytes fed to the parser between two looks at the element count. Small
/// enough that a page the scan under-counted cannot build much past the
/// limit inside one chunk; large enough that the per-chunk overhead is lost
/// in the parse.
const CHUNK: usize = 4 * 1024;

/// Parses `html` with scraper's tree sink, refusing it once html5ever has
/// created more than `limits.elements` elements or built a tree deeper than
/// `limits.depth`.
pub(super) fn parse_counted(html: &str, limits: &Limits) -> Result<Html, Refusal> {
    let sink = Counted {
        inner: HtmlTreeSink::new(Html::new_document()),
        elements: Cell::new(0),
    };
    let mut parser = html5ever::driver::parse_document(sink, Default::default());
    let mut rest = html;
    while !rest.is_empty() {
        let Some((chunk, after)) = rest.split_at_checked(char_boundary_at_most(rest, CHUNK)) else {
            break; // not reached: the cut is always a character boundary
        };
        parser.process(StrTendril::from_slice(chunk));
        rest = after;
        if parser.tokenizer.sink.sink.elements.get() > limits.elements {
            return Err(Refusal::Elements(limits.elements));
        }
    }
    let doc = parser.finish();
    if depth(&doc) > limits.depth {
        return Err(Refusal::Depth(limits.depth));
    }
    Ok(doc)
}

/// The largest `n <= max` that is a character boundary of `s` and greater
/// than zero (a character is at most 4 bytes, so `max >= 4` always finds
/// one).
fn char_boundary_at_most(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (1..=max)
        .rev()
        .find(|&n| s.is_char_boundary(n))
        .unwrap_or(s.len())
}

/// The deepest nesting of elements in the tree, without recursion.
pub(super) fn depth(doc: &Html) -> usize {
    let mut deepest = 0;
    let mut todo = vec![(doc.tree.root(), 0usize)];
    while let Some((node, depth)) = todo.pop() {
        let depth = depth + usize::from(node.value().is_element());
        deepest = deepest.max(depth);
        todo.extend(node.children().map(|c| (c, depth)));
    }
    deepest
}

/// scraper's tree sink, counting the elements html5ever asks it to create
/// (start tags, implied elements, re-created and cloned formatting
/// elements alike). Everything else is passed through unchanged.
struct Counted {
    inner: HtmlTreeSink,
    elements: Cell<usize>,
}

impl TreeSink for Counted {
    type Handle = NodeId;
    type Output = Html;
    type ElemName<'a> = Ref<'a, QualName>;

    fn finish(self) -> Html {
        self.inner.finish()
    }

    fn create_element(&self, name: QualName, attrs: Vec<Attribute>, flags: ElementFlags) -> NodeId {
        self.elements.set(self.elements.get().saturating_add(1));
        self.inner.create_element(name, attrs, flags)
    }

    fn parse_error(&self, msg: Cow<'static, str>) {
        self.inner.parse_error(msg)
    }
    fn get_document(&self) -> NodeId {
        self.inner.get_document()
    }
    fn elem_name<'a>(&'a self, target: &'a NodeId) -> Ref<'a, QualName> {
        self.inner.elem_name(target)
    }
    fn create_comment(&self, text: StrTendril) -> NodeId {
        self.inner.create_comment(text)
    }
    fn create_pi(&self, target: StrTendril, data: StrTendril) -> NodeId {
        self.inner.create_pi(target, data)
    }
    fn append(&self, parent: &NodeId, child: NodeOrText<NodeId>) {
        self.inner.append(parent, child)
    }
    fn append_based_on_parent_node(
        &self,
        element: &NodeId,
        prev_element: &NodeId,
        child: NodeOrText<NodeId>,
    ) {
        self.inner
            .append_based_on_parent_node(element, prev_element, child)
    }
    fn append_doctype_to_document(
        &self,
        name: StrTendril,
        public_id: StrTendril,
        system_id: StrTendril,
    ) {
        self.inner
            .append_doctype_to_document(name, public_id, system_id)
    }
    fn mark_script_already_started(&self, node: &NodeId) {
        self.inner.mark_script_already_started(node)
    }
    fn pop(&self, node: &NodeId) {
        self.inner.pop(node)
    }
    fn get_template_contents(&self, target: &NodeId) -> NodeId {
        self.inner.get_template_contents(target)
    }
    fn same_node(&self, x: &NodeId, y: &NodeId) -> bool {
        self.inner.same_node(x, y)
    }
    fn set_quirks_mode(&self, mode: QuirksMode) {
        self.inner.set_quirks_mode(mode)
    }
    fn append_before_sibling(&self, sibling: &NodeId, new_node: NodeOrText<NodeId>) {
        self.inner.append_before_sibling(sibling, new_node)
    }
    fn add_attrs_if_missing(&self, target: &NodeId, attrs: Vec<Attribute>) {
        self.inner.add_attrs_if_missing(target, attrs)
    }
    fn associate_with_form(
        &self,
        target: &NodeId,
        form: &NodeId,
        nodes: (&NodeId, Option<&NodeId>),
    ) {
        self.inner.associate_with_form(target, form, nodes)
    }
    fn remove_from_parent(&self, target: &NodeId) {
        self.inner.remove_from_parent(target)
    }
    fn reparent_children(&self, node: &NodeId, new_parent: &NodeId) {
        self.inner.reparent_children(node, new_parent)
    }
    fn is_mathml_annotation_xml_integration_point(&self, handle: &NodeId) -> bool {
        self.inner
            .is_mathml_annotation_xml_integration_point(handle)
    }
    fn set_current_line(&self, line_number: u64) {
        self.inner.set_current_line(line_number)
    }
    fn allow_declarative_shadow_roots(&self, intended_parent: &NodeId) -> bool {
        self.inner.allow_declarative_shadow_roots(intended_parent)
    }
    fn attach_declarative_shadow(
        &self,
        location: &NodeId,
        template: &NodeId,
        attrs: &[Attribute],
    ) -> bool {
        self.inner
            .attach_declarative_shadow(location, template, attrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html_guard::LIMITS;

    #[test]
    fn the_same_tree_as_scraper_builds_in_one_piece() {
        let page = format!(
            "<!doctype html><title>x</title><table><tr><td>é{}</table><b><p>a</b>b<svg><g/></svg>",
            "<td>ü€😀".repeat(3_000)
        );
        let counted = parse_counted(&page, &LIMITS).expect("within the limits");
        assert_eq!(counted.html(), Html::parse_document(&page).html());
    }

    #[test]
    fn counts_the_elements_html5ever_makes_up() {
        // 30 formatting elements left open in a paragraph (different, or
        // the list keeps only 3 alike), re-created in each of 2,000 more:
        // 62,000 elements from 9 kB, past the limit.
        let open: String = (0..30).map(|i| format!("<b id={i}>")).collect();
        let page = format!("<p>{open}{}", "<p>x".repeat(2_000));
        let limits = Limits {
            elements: 10_000,
            ..LIMITS
        };
        assert_eq!(
            parse_counted(&page, &limits).err(),
            Some(Refusal::Elements(10_000))
        );
    }

    #[test]
    fn measures_the_real_depth() {
        let limits = Limits {
            depth: 100,
            ..LIMITS
        };
        // html and body are two more levels.
        let ok = "<div>".repeat(98);
        assert!(parse_counted(&ok, &limits).is_ok());
        let deep = "<div>".repeat(99);
        assert_eq!(
            parse_counted(&deep, &limits).err(),
            Some(Refusal::Depth(100))
        );
    }

    /// Found by fuzzing: misnested formatting end tags inside SVG and
    /// MathML integration points, where html5ever nests about 1.7 times as
    /// deep as the scan's model counts. 30 copies pass the scan (depth 422)
    /// and build a tree 722 deep; the counted parse refuses them.
    #[test]
    fn the_real_depth_catches_what_the_scan_misses() {
        let unit = "<div><div><div><textarsvg><foreignObject><b><svg><g><svg><foreignObject>/i><b><b><div>x</b><b></b></div></b></b></b></div></div></div><foreignObject><mi><font color=red><p>x<math><mi><font color=red><p>x<math><mi><font color=red><p>x<math><mi>";
        let page = unit.repeat(30);
        let usage = super::super::measure(&page, &LIMITS).expect("the scan lets it through");
        assert!(usage.depth < LIMITS.depth, "{usage:?}");
        assert!(depth(&Html::parse_document(&page)) > LIMITS.depth);
        assert_eq!(
            parse_counted(&page, &LIMITS).err(),
            Some(Refusal::Depth(LIMITS.depth))
        );
        let err = super::super::parse_document(&page).expect_err("refused");
        assert!(err.to_string().contains("nests more than 512"), "{err}");
    }

    #[test]
    fn chunks_end_on_character_boundaries() {
        let s = "aé€😀".repeat(10);
        for max in 4..s.len() + 2 {
            let n = char_boundary_at_most(&s, max);
            assert!(
                n > 0 && n <= max.max(1) && s.is_char_boundary(n),
                "{max}: {n}"
            );
        }
    }
}
