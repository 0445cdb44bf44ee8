//! Pictures ([`Fetcher::get_image`]): the bytes of an item's image, for the
//! API to serve from its own origin. Only raster types a browser shows as an
//! image are taken (PNG, JPEG, WebP, GIF, AVIF), and each twice: by the
//! answer's `Content-Type` (before its body is read) and by the body's first
//! bytes, so an HTML page or a script labelled `image/png` is refused. SVG is
//! never taken: it is a document that can carry script.

use url::Url;

use super::{BodyCap, FetchError, Fetcher, RequestOptions, safe_url};

/// The `Accept` header of a picture request.
pub const IMAGE_ACCEPT: &str = "image/avif,image/webp,image/png,image/jpeg,image/gif;q=0.9";

/// A picture type [`Fetcher::get_image`] takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageType {
    Png,
    Jpeg,
    Webp,
    Gif,
    Avif,
}

/// The ISO-BMFF brands of an AVIF file (still image, image sequence).
const AVIF_BRANDS: [&[u8]; 2] = [b"avif", b"avis"];
/// How far into an `ftyp` box its compatible brands are looked for.
const MAX_FTYP: usize = 256;

impl ImageType {
    pub const ALL: [ImageType; 5] = [
        ImageType::Png,
        ImageType::Jpeg,
        ImageType::Webp,
        ImageType::Gif,
        ImageType::Avif,
    ];

    /// The media type to serve it with.
    pub fn mime(self) -> &'static str {
        match self {
            ImageType::Png => "image/png",
            ImageType::Jpeg => "image/jpeg",
            ImageType::Webp => "image/webp",
            ImageType::Gif => "image/gif",
            ImageType::Avif => "image/avif",
        }
    }

    /// The type a `Content-Type` value names (parameters and case ignored;
    /// `image/jpg` and `image/pjpeg`, which servers send, count as JPEG).
    /// None for anything else, `image/svg+xml` included.
    pub fn from_content_type(value: &str) -> Option<ImageType> {
        let essence = value.split(';').next().unwrap_or_default().trim();
        let essence = essence.to_ascii_lowercase();
        match essence.as_str() {
            "image/png" => Some(ImageType::Png),
            "image/jpeg" | "image/jpg" | "image/pjpeg" => Some(ImageType::Jpeg),
            "image/webp" => Some(ImageType::Webp),
            "image/gif" => Some(ImageType::Gif),
            "image/avif" => Some(ImageType::Avif),
            _ => None,
        }
    }

    /// The type the first bytes of `body` show (its magic number), if any.
    pub fn sniff(body: &[u8]) -> Option<ImageType> {
        if body.starts_with(b"\x89PNG\r\n\x1a\n") {
            Some(ImageType::Png)
        } else if body.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(ImageType::Jpeg)
        } else if body.starts_with(b"GIF87a") || body.starts_with(b"GIF89a") {
            Some(ImageType::Gif)
        } else if body.starts_with(b"RIFF") && body.get(8..12) == Some(&b"WEBP"[..]) {
            Some(ImageType::Webp)
        } else if is_avif(body) {
            Some(ImageType::Avif)
        } else {
            None
        }
    }
}

/// An ISO-BMFF file whose `ftyp` box names an AVIF brand, as its major
/// brand or a compatible one (files often say `mif1` first).
fn is_avif(body: &[u8]) -> bool {
    if body.get(4..8) != Some(&b"ftyp"[..]) {
        return false;
    }
    let Some(size) = body
        .get(0..4)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(|b| u32::from_be_bytes(b) as usize)
    else {
        return false;
    };
    // size, type, major brand, minor version: 16 bytes at least.
    if size < 16 {
        return false;
    }
    let end = size.min(body.len()).min(MAX_FTYP);
    let major = body.get(8..12);
    let compatible = body.get(16..end).unwrap_or_default().chunks_exact(4);
    major
        .into_iter()
        .chain(compatible)
        .any(|brand| AVIF_BRANDS.contains(&brand))
}

/// A fetched picture.
#[derive(Debug, Clone)]
pub struct FetchedImage {
    /// Where it was found after redirects.
    pub final_url: Url,
    /// What its bytes are (not what the server said).
    pub image_type: ImageType,
    pub body: Vec<u8>,
}

/// The label check, before the body is read: an accepted picture type.
fn labelled_as_image(content_type: Option<&str>) -> Result<(), String> {
    match content_type {
        None => Err("the answer has no Content-Type; a picture must say it is one".into()),
        Some(v) if ImageType::from_content_type(v).is_some() => Ok(()),
        Some(v) => {
            // The server's text: cut short for the log.
            let shown: String = v.chars().take(60).collect();
            Err(format!(
                "Content-Type {shown:?} is not a PNG, JPEG, WebP, GIF or AVIF picture"
            ))
        }
    }
}

impl Fetcher {
    /// GETs a picture: the guard (for a guarded fetcher, on the URL, every
    /// redirect hop and every address), robots.txt, the policy's timeouts
    /// and body cap (reading stops past it: [`FetchError::TooLarge`]). The
    /// answer must be labelled PNG, JPEG, WebP, GIF or AVIF (else refused
    /// unread) and its first bytes must be one of those; otherwise
    /// [`FetchError::Decode`]. The type returned is what the bytes are.
    pub async fn get_image(&self, url: &Url) -> Result<FetchedImage, FetchError> {
        self.check_link(url)?;
        self.check_robots(url, &RequestOptions::default()).await?;
        let (final_url, body) = self
            .fetch_checked(
                url,
                Some(IMAGE_ACCEPT),
                BodyCap::Refuse(self.policy.max_body),
                Some(labelled_as_image),
            )
            .await?;
        let Some(image_type) = ImageType::sniff(&body) else {
            return Err(FetchError::Decode {
                url: safe_url(url),
                message: "the body is not a PNG, JPEG, WebP, GIF or AVIF picture".into(),
            });
        };
        Ok(FetchedImage {
            final_url,
            image_type,
            body,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8], compatible: &[&[u8]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut b = (size as u32).to_be_bytes().to_vec();
        b.extend_from_slice(b"ftyp");
        b.extend_from_slice(major);
        b.extend_from_slice(&[0, 0, 0, 0]);
        for c in compatible {
            b.extend_from_slice(c);
        }
        b.extend_from_slice(b"\0\0\0\x08meta");
        b
    }

    #[test]
    fn magic_numbers() {
        let cases: [(&[u8], Option<ImageType>); 12] = [
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some(ImageType::Png)),
            (&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10], Some(ImageType::Jpeg)),
            (b"GIF89a\x01\0\x01\0", Some(ImageType::Gif)),
            (b"GIF87a", Some(ImageType::Gif)),
            (b"RIFF\x24\0\0\0WEBPVP8 ", Some(ImageType::Webp)),
            (b"RIFF\x24\0\0\0WAVEfmt ", None),
            (b"<!doctype html><html>", None),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\">", None),
            (b"\x89PNG", None),
            (b"", None),
            (&[0xFF, 0xD8], None),
            (b"RIFF", None),
        ];
        for (bytes, want) in cases {
            assert_eq!(ImageType::sniff(bytes), want, "{bytes:?}");
        }
        assert_eq!(
            ImageType::sniff(&ftyp(b"avif", &[b"mif1"])),
            Some(ImageType::Avif)
        );
        assert_eq!(
            ImageType::sniff(&ftyp(b"mif1", &[b"miaf", b"avif"])),
            Some(ImageType::Avif)
        );
        assert_eq!(ImageType::sniff(&ftyp(b"avis", &[])), Some(ImageType::Avif));
        assert_eq!(ImageType::sniff(&ftyp(b"heic", &[b"mif1"])), None);
        assert_eq!(ImageType::sniff(&ftyp(b"isom", &[b"mp41"])), None);
        // A box that claims to be shorter than its header, or longer than
        // the body: no panic, and no brand read from outside the box.
        let mut short = ftyp(b"mif1", &[b"avif"]);
        short[3] = 8;
        assert_eq!(ImageType::sniff(&short), None);
        let mut long = ftyp(b"mif1", &[b"avif"]);
        long[0] = 0xFF;
        assert_eq!(ImageType::sniff(&long), Some(ImageType::Avif));
        assert_eq!(ImageType::sniff(&long[..10]), None);
    }

    #[test]
    fn content_types() {
        for (v, want) in [
            ("image/png", Some(ImageType::Png)),
            ("IMAGE/PNG; charset=binary", Some(ImageType::Png)),
            (" image/jpeg ", Some(ImageType::Jpeg)),
            ("image/jpg", Some(ImageType::Jpeg)),
            ("image/webp", Some(ImageType::Webp)),
            ("image/gif", Some(ImageType::Gif)),
            ("image/avif", Some(ImageType::Avif)),
            ("image/svg+xml", None),
            ("text/html", None),
            ("application/octet-stream", None),
            ("image/png+xml", None),
            ("", None),
        ] {
            assert_eq!(ImageType::from_content_type(v), want, "{v:?}");
        }
        for t in ImageType::ALL {
            assert_eq!(ImageType::from_content_type(t.mime()), Some(t));
        }
        assert!(labelled_as_image(None).is_err());
        assert!(labelled_as_image(Some("image/gif")).is_ok());
        let e = labelled_as_image(Some(&"x".repeat(500))).unwrap_err();
        assert!(e.len() < 200, "{e}");
    }
}
