//! Recorded catalogue and marketplace pages for the `html_catalog` sources:
//! a hookah tobacco catalogue's brand pages (htreviews.org style, prices in
//! ₽) and a second-hand marketplace search (OLX.bg style, лв. and €).
//! Paths are exactly what the sources in sources.toml request once rebased
//! onto the demo server; links inside the pages are relative, so paging
//! stays on the demo server.

use super::DemoPage;

const HTML: &str = "text/html; charset=utf-8";

pub const PAGES: &[DemoPage] = &[
    // Two brand pages of two pages each. Darkside cards name their brand;
    // Must Have cards do not (the brand is the page heading). The last
    // Darkside page keeps a disabled "next" arrow linking to itself.
    DemoPage {
        path: "/tobaccos/brands/darkside",
        content_type: HTML,
        body: include_str!("pages/catalog/htreviews-darkside.html"),
    },
    DemoPage {
        path: "/tobaccos/brands/darkside?page=2",
        content_type: HTML,
        body: include_str!("pages/catalog/htreviews-darkside.page-2.html"),
    },
    DemoPage {
        path: "/tobaccos/brands/musthave",
        content_type: HTML,
        body: include_str!("pages/catalog/htreviews-musthave.html"),
    },
    DemoPage {
        path: "/tobaccos/brands/musthave?page=2",
        content_type: HTML,
        body: include_str!("pages/catalog/htreviews-musthave.page-2.html"),
    },
    // A marketplace search: 40 cards a page (one promoted ad shown twice on
    // the first), and a third page that has no results any more.
    DemoPage {
        path: "/ads/q-rtx-4070/",
        content_type: HTML,
        body: include_str!("pages/catalog/olx-q-rtx-4070.html"),
    },
    DemoPage {
        path: "/ads/q-rtx-4070/?page=2",
        content_type: HTML,
        body: include_str!("pages/catalog/olx-q-rtx-4070.page-2.html"),
    },
    DemoPage {
        path: "/ads/q-rtx-4070/?page=3",
        content_type: HTML,
        body: include_str!("pages/catalog/olx-q-rtx-4070.page-3.html"),
    },
];
