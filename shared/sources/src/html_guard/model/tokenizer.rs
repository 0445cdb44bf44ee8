//! The tokenizer side of the scan: tags, comments and raw text, read as
//! html5ever's tokenizer reads them.

use super::Model;
use super::known::{FNV_OFFSET, Known, fnv};
use crate::html_guard::Refusal;

/// A tag as the tokenizer reads it.
pub(super) struct Tag {
    pub(super) name: u64,
    pub(super) known: Known,
    pub(super) self_closing: bool,
    pub(super) attributes: usize,
    /// Order-insensitive hash of the raw attributes (Noah's Ark clause).
    pub(super) attrs_hash: u64,
    /// Whether an attribute is named color, face or size (a `font` with one
    /// leaves SVG/MathML content).
    pub(super) font_breakout: bool,
}

/// Reads the tag whose name starts at `at`; returns it and the position
/// after its `>` (or the end of the page, where the tokenizer drops it).
pub(super) fn read_tag(b: &[u8], at: usize, m: &mut Model) -> Result<(Tag, usize), Refusal> {
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
pub(super) fn comment_end(b: &[u8], at: usize) -> usize {
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
pub(super) fn raw_text_end(b: &[u8], at: usize, name: &[u8]) -> (usize, usize) {
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

pub(super) fn find_byte(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    b.get(from..)?
        .iter()
        .position(|c| *c == needle)
        .map(|p| from + p)
}
