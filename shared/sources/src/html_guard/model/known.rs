//! The element names and flags the model knows.

// Element flags. Each has a stack of the positions of the open elements that
// carry it, so "is there a `p` in button scope" is a comparison of two
// positions instead of a walk down the stack.
pub(super) const SPECIAL: u32 = 1 << 0; // the spec's "special" category
pub(super) const SPECIAL_NOT_ADP: u32 = 1 << 1; // special but not address, div, p (the li/dd/dt walk)
pub(super) const SCOPE: u32 = 1 << 2; // bounds "in scope"
pub(super) const BUTTON_SCOPE: u32 = 1 << 3; // SCOPE plus button
pub(super) const LIST_SCOPE: u32 = 1 << 4; // SCOPE plus ol, ul
pub(super) const TABLE: u32 = 1 << 5;
pub(super) const CELL: u32 = 1 << 6; // td, th, caption
pub(super) const ROW: u32 = 1 << 7;
pub(super) const SECTION: u32 = 1 << 8; // tbody, thead, tfoot
pub(super) const HEADING: u32 = 1 << 9;
pub(super) const HTML_NS: u32 = 1 << 10; // an element in the HTML namespace
pub(super) const HTML_CONTEXT: u32 = 1 << 11; // HTML, or an integration point (svg foreignObject, math mi…)
pub(super) const TEMPLATE: u32 = 1 << 12;
pub(super) const SELECT: u32 = 1 << 13;
pub(super) const NOT_IMPLIED: u32 = 1 << 14; // not one of the elements "generate implied end tags" pops
pub(super) const MARKER: u32 = 1 << 15; // puts a marker on the list of active formatting elements
pub(super) const FORMATTING: u32 = 1 << 16;
// What a template's first child made of it (html5ever's "in template"
// switches to a table mode for a table part, to "in body" for anything
// else; head elements leave it undecided).
pub(super) const TEMPLATE_TABLE: u32 = 1 << 17;
pub(super) const TEMPLATE_BODY: u32 = 1 << 18;
// A foreign element in the MathML namespace (else SVG): which names are
// integration points depends on it.
pub(super) const MATH_NS: u32 = 1 << 19;
pub(super) const FLAGS: usize = 20;

pub(super) const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

pub(super) fn fnv(h: u64, c: u8) -> u64 {
    (h ^ u64::from(c)).wrapping_mul(0x0100_0000_01b3)
}

pub(super) fn hash_name(name: &[u8]) -> u64 {
    name.iter()
        .fold(FNV_OFFSET, |h, c| fnv(h, c.to_ascii_lowercase()))
}

/// The flags of a foreign element named `known` in the MathML namespace
/// (`math`) or the SVG one. Integration points are per namespace: an `mi`
/// inside an svg is an ordinary svg element, and taking it for one let
/// table tags inside it close cells html5ever keeps open (found by fuzzing).
pub(super) fn foreign_flags(known: Known, math: bool) -> u32 {
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
        pub(super) enum Known { $($v,)* Other }
        impl Known {
            pub(super) fn from_name(n: &[u8]) -> Known {
                match n { $($s => Known::$v,)* _ => Known::Other }
            }
            pub(super) fn name(self) -> &'static [u8] {
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
    pub(super) fn is_void(self) -> bool {
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
    pub(super) fn is_raw_text(self) -> bool {
        use Known::*;
        matches!(
            self,
            Script | Style | Xmp | Iframe | Noembed | Noframes | Textarea | Title
        )
    }

    pub(super) fn is_special(self) -> bool {
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

    pub(super) fn closes_p(self) -> bool {
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

    pub(super) fn has_marker(self) -> bool {
        matches!(
            self,
            Known::Applet | Known::Object | Known::Marquee | Known::Template
        )
    }

    /// HTML start tags that end SVG/MathML content (`font` only with a
    /// color, face or size attribute).
    pub(super) fn breaks_out_of_foreign(self) -> bool {
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

    pub(super) fn flags(self) -> u32 {
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
