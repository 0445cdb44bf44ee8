//! Recorded product pages and a JSON feed for the `product_page` and
//! `json_api` sources. Each path is the real page's path (the demo server
//! keeps path and query and swaps the host), and each page is a realistic
//! copy of its kind of shop, chosen for what it exercises:
//!
//! | path | shop and markup | what it tests |
//! |---|---|---|
//! | `/shop/kalyany/alpha-hookah-model-x` | Russian hookah shop (Bitrix), JSON-LD Product with 3 Offers in RUB | in-stock offers preferred over a cheaper out-of-stock one |
//! | `/shop/product/tangiers-noir-kashmir-peach-250g/` | German WooCommerce + Yoast `@graph`, a "frequently bought" Product block first, related products | main product by URL; `priceSpecification` with a ListPrice; `@id` references; a raw newline inside a JSON string |
//! | `/shop/karty-graficzne/msi-geforce-rtx-4070-super-ventus-2x-oc-12g` | Polish price comparison, AggregateOffer | `lowPrice`; a relative image URL |
//! | `/shop/tabak/al-fakher-mint-250g` | Czech OpenCart, microdata only, a "similar products" carousel with its own microdata | microdata; `<base href>`; related products ignored |
//! | `/shop/p/lego-technic-42143-ferrari-daytona-sp3` | French shop rendered client-side, OpenGraph product tags only | `product:sale_price` over `product:price` |
//! | `/shop/kalyany/mamay-customs-coilover-micro` | the hookah shop again: out of stock, no price; related products with prices in JSON-LD, microdata and HTML | no price borrowed from a related product |
//! | `/shop/gpu/asus-dual-rtx-4070-super-evo-oc-12g` | Irish shop, no structured data; "Was" price, free-shipping banner, Klarna instalments | only `price_selector` finds the price |
//! | `/shop/montres/casio-mtp-1302d-7a1v` | Algerian shop in Arabic (RTL), microdata with the price as text `١٣٥٠٠ دج` | Arabic-Indic digits, currency from the text |
//! | `/dbXRates/USD` | goldprice.org's data endpoint | the `json_api` gold spot feed |
//! | `/daily_json.js` | the Bank of Russia's daily rates (cbr-xml-daily.ru) | a one-item `json_api` feed deep in the document: the USD/RUB rate for the gold board |

use super::DemoPage;

const HTML: &str = "text/html; charset=utf-8";

pub const PAGES: &[DemoPage] = &[
    DemoPage {
        path: "/shop/kalyany/alpha-hookah-model-x",
        content_type: HTML,
        body: include_str!("pages/products/kalyan-lab-alpha-hookah-model-x.html"),
    },
    DemoPage {
        path: "/shop/product/tangiers-noir-kashmir-peach-250g/",
        content_type: HTML,
        body: include_str!("pages/products/shisha-depot-tangiers-noir-kashmir-peach.html"),
    },
    DemoPage {
        path: "/shop/karty-graficzne/msi-geforce-rtx-4070-super-ventus-2x-oc-12g",
        content_type: HTML,
        body: include_str!("pages/products/cenoteka-msi-rtx-4070-super-ventus.html"),
    },
    DemoPage {
        path: "/shop/tabak/al-fakher-mint-250g",
        content_type: HTML,
        body: include_str!("pages/products/dymka-shop-al-fakher-mint.html"),
    },
    DemoPage {
        path: "/shop/p/lego-technic-42143-ferrari-daytona-sp3",
        content_type: HTML,
        body: include_str!("pages/products/briques-et-cie-lego-42143.html"),
    },
    DemoPage {
        path: "/shop/kalyany/mamay-customs-coilover-micro",
        content_type: HTML,
        body: include_str!("pages/products/kalyan-lab-mamay-coilover-micro.html"),
    },
    DemoPage {
        path: "/shop/gpu/asus-dual-rtx-4070-super-evo-oc-12g",
        content_type: HTML,
        body: include_str!("pages/products/pixelparts-asus-dual-rtx-4070-super.html"),
    },
    DemoPage {
        path: "/shop/montres/casio-mtp-1302d-7a1v",
        content_type: HTML,
        body: include_str!("pages/products/saa3a-dz-casio-mtp-1302d.html"),
    },
    DemoPage {
        path: "/dbXRates/USD",
        content_type: "application/json",
        body: include_str!("pages/products/goldprice-dbxrates-usd.json"),
    },
    DemoPage {
        path: "/daily_json.js",
        // As the mirror serves it: JSON labelled as JavaScript.
        content_type: "application/javascript; charset=utf-8",
        body: include_str!("pages/products/cbr-daily-json.js"),
    },
];
