"""The web page at `/` in a real browser (Debian's chromium, headless,
driven by Playwright for Python) against `pricehound serve --demo`.

scripts/browser-test starts serve and runs this with pytest; screenshots go
to PRICEHOUND_ARTIFACTS (target/browser-artifacts by default). Every test
fails on a console error, a CSP violation or any request to another origin:
the page must work from our own origin alone.
"""

import json
import os
import re

from playwright.sync_api import expect

BASE = os.environ["PRICEHOUND_BASE_URL"].rstrip("/")


def test_the_page_loads_and_lists_prices(page):
    page.goto(BASE + "/")
    rows = page.locator("#rows tr")
    expect(rows.first).to_be_visible(timeout=15_000)
    assert rows.count() >= 10
    # A gold quote and a tobacco, as the demo's sources show them.
    text = page.locator("#rows").inner_text()
    assert re.search(r"\d", text)
    expect(page.locator("#status")).to_have_text("")


def test_search_as_you_type_finds_typos(page):
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    page.locator("#q").fill("darksid")
    expect(page.locator("#rows tr").first).to_contain_text("Darkside", timeout=10_000)
    names = page.locator("#rows tr td:first-child").all_inner_texts()
    # The brand is Darkside (the demo's flavours are named Needls, Pinkman…).
    assert names and all("darkside" in n.lower() for n in names), names
    page.locator("#q").fill("nothing like this at all")
    expect(page.locator("#status")).to_contain_text("Nothing matches", timeout=10_000)
    page.locator("#q").fill("")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=10_000)


def test_an_item_page_draws_its_chart(page):
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    # Click only once the search's answer replaced the list.
    with page.expect_response(lambda r: "/api/search?" in r.url):
        page.locator("#q").fill("or 18k")
    expect(page.locator("#status")).to_have_text("")
    first = page.locator("#rows tr").first
    expect(first).to_contain_text("18K")
    expect(first).to_be_visible(timeout=15_000)
    first.click()
    heading = page.locator("#chart h3")
    expect(heading).to_be_visible(timeout=10_000)
    # uPlot's canvas (two prices or more), or the one-price note.
    canvas = page.locator("#chart .uplot canvas")
    note = page.locator("#chart p.muted")
    expect(canvas.or_(note).first).to_be_visible(timeout=10_000)
    # The time ranges redraw it.
    for label in ["7d", "30d", "1y", "all"]:
        page.locator("#chart .ranges button", has_text=label).click()
        expect(page.locator("#chart .ranges button.on")).to_have_text(label, timeout=10_000)
    expect(canvas.or_(note).first).to_be_visible(timeout=10_000)


def test_a_series_item_shows_the_series_band(page):
    """An item with a long history in a series: its line, and the series'
    min-max band and median drawn by uPlot (five series in its legend)."""
    now = 1_765_000_000
    history = [{"id": f"{i:x}", "price": {"amount": str(500 + (i % 7) * 10), "currency": "EUR"},
                "availability": "in_stock", "observed_at": f"2025-12-{1 + i % 28:02d}T10:00:00Z", "link": "https://example.invalid/"}
               for i in range(28)]
    history.sort(key=lambda o: o["observed_at"])
    item = {"item_id": "olx-gpu:band", "source_id": "olx-gpu", "name": "RTX 4070 band test", "series": "rtx-4070",
            "price": {"amount": "520", "currency": "EUR"}, "availability": "in_stock",
            "observed_at": "2025-12-28T10:00:00Z", "link": "https://example.invalid/"}
    stats = {"series": "rtx-4070", "window": "1y", "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z",
             "stats": {"series": "rtx-4070", "from": "2025-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z", "currency": "EUR",
                       "count": 12, "min": "450", "max": "600", "mean": "520", "median": "515", "p25": "490",
                       "outliers": [], "other_currency": 0}}
    page.route("**/api/prices?*", lambda route: fake_prices(route, [item]))
    page.route("**/api/items/*/history?*", lambda route: route.fulfill(
        status=200, content_type="application/json",
        body=json.dumps({"item_id": item["item_id"], "observations": history, "next_cursor": None})))
    page.route("**/api/series/rtx-4070/stats?*", lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(stats)))
    page.goto(BASE + "/")
    page.locator("#rows tr").first.click()
    expect(page.locator("#chart .uplot canvas").first).to_be_visible(timeout=10_000)
    legend = page.locator("#chart .u-legend .u-series")
    expect(legend).to_have_count(5)
    assert "median" in page.locator("#chart .u-legend").inner_text()


def fake_prices(route, prices):
    route.fulfill(status=200, content_type="application/json",
                  body=json.dumps({"prices": prices, "next_cursor": None}))


def test_missing_prices_long_names_and_rtl_text_render(page):
    """The API as it may answer: an item without a price (out of stock),
    a name far longer than the table, Arabic and Hebrew text, markup in a
    name (shown as text, never run)."""
    long_name = "Super long listing name " * 30
    prices = [
        {"item_id": "olx-gpu:nothing", "source_id": "olx-gpu", "name": "RTX 4070 (sold out)", "price": None,
         "availability": "out_of_stock", "observed_at": "2026-12-01T10:00:00Z", "link": "https://example.invalid/x"},
        {"item_id": "olx-gpu:long", "source_id": "olx-gpu", "name": long_name,
         "price": {"amount": "499.90", "currency": "EUR"}, "availability": "in_stock",
         "observed_at": "2026-12-01T10:00:00Z", "link": "https://example.invalid/y"},
        {"item_id": "tg-bijouterie-dz:or-21k", "source_id": "tg-bijouterie-dz", "name": "ذهب عيار 21 — السعر",
         "price": {"amount": "16450", "currency": "DZD"}, "availability": "unknown",
         "observed_at": "2026-12-01T10:00:00Z", "link": "https://t.me/x/1"},
        {"item_id": "x:markup", "source_id": "x", "name": "<img src=x onerror=alert(1)>",
         "price": {"amount": "1", "currency": "USD"}, "availability": "unknown",
         "observed_at": "2026-12-01T10:00:00Z", "link": "https://example.invalid/z"},
    ]
    page.route("**/api/prices?*", lambda route: fake_prices(route, prices))
    page.goto(BASE + "/")
    rows = page.locator("#rows tr")
    expect(rows).to_have_count(4, timeout=15_000)
    assert "out of stock" in rows.nth(0).inner_text()
    assert "16450 DZD" in rows.nth(2).inner_text()
    assert "<img" in rows.nth(3).inner_text(), "markup is shown as text"
    assert page.locator("#rows img").count() == 0, "and never becomes an element"
    # The long name wraps inside the page instead of widening it.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1100, width


def test_ten_thousand_items_render(page):
    prices = [
        {"item_id": f"bulk:item-{i}", "source_id": "bulk", "name": f"Item number {i}",
         "price": {"amount": f"{i}.50", "currency": "EUR"}, "availability": "in_stock",
         "observed_at": "2026-12-01T10:00:00Z", "link": "https://example.invalid/"}
        for i in range(10_000)
    ]
    page.route("**/api/prices?*", lambda route: fake_prices(route, prices))
    page.goto(BASE + "/")
    expect(page.locator("#rows tr")).to_have_count(10_000, timeout=30_000)


def test_an_api_error_is_shown_not_swallowed(page):
    page.route("**/api/prices?*", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body=json.dumps({"error": {"code": "store_unavailable", "message": "the price store is unavailable; try again shortly"}})))
    page.goto(BASE + "/")
    expect(page.locator("#status")).to_contain_text("unavailable", timeout=10_000)
    expect(page.locator("#status")).to_have_class("err")
    page.problems[:] = [p for p in page.problems if "status of 503" not in p]


def test_the_arabic_page_is_right_to_left_and_every_language_is_there(page):
    page.goto(BASE + "/?lang=ar")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    expect(page.locator("[data-t=search]")).to_have_text("بحث")
    expect(page.locator("th[data-t=price]")).to_have_text("السعر")
    for lang, search in [("ru", "Поиск"), ("fr", "Chercher"), ("en", "Search")]:
        page.goto(BASE + f"/?lang={lang}")
        expect(page.locator("[data-t=search]")).to_have_text(search)
        assert page.evaluate("document.documentElement.dir") == "ltr"
    # An unknown language falls back to English.
    page.goto(BASE + "/?lang=xx")
    expect(page.locator("[data-t=search]")).to_have_text("Search")


def test_dark_mode_follows_the_system(browser):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    os.makedirs(os.environ.get("PRICEHOUND_ARTIFACTS", "target/browser-artifacts"), exist_ok=True)
    page.screenshot(path=os.path.join(os.environ.get("PRICEHOUND_ARTIFACTS", "target/browser-artifacts"), "dark.png"))
    context.close()
    # A dark canvas: every channel well under the middle.
    channels = [int(c) for c in re.findall(r"\d+", bg)[:3]]
    assert channels and max(channels) < 100, bg


def test_the_gold_board_shows_jewelers_side_by_side_with_spot(page):
    page.goto(BASE + "/")
    page.locator("#nav-gold").click()
    table = page.locator("#gold")
    expect(table.locator("tr").nth(1)).to_be_visible(timeout=15_000)
    head = table.locator("tr").first.inner_text()
    assert "750" in head, head
    text = table.inner_text()
    assert "DZD" in text and "RUB" in text, text
    expect(table.locator("tr.spot").first).to_contain_text("USD")


def test_a_series_lists_listings_with_deal_scores(page):
    page.goto(BASE + "/?lang=fr")
    page.locator("#nav-series").click()
    pick = page.locator("#series-pick")
    expect(pick.locator("option").first).to_be_attached(timeout=15_000)
    values = pick.locator("option").evaluate_all("os => os.map(o => o.value)")
    gpu = next((v for v in values if v.startswith("rtx-")), values[0])
    pick.select_option(gpu)
    expect(page.locator("#series-items tr").nth(1)).to_be_visible(timeout=10_000)
    expect(page.locator("#series-stats")).to_contain_text("médiane")
    deals = page.locator("#series-items tr td:last-child").all_inner_texts()
    assert any("%" in d or d in ("aberrant", "—") for d in deals), deals
    # A listing opens its chart in the prices view.
    page.locator("#series-items tr").nth(1).click()
    expect(page.locator("#chart h3")).to_be_visible(timeout=10_000)


def test_filters_sort_and_narrow_the_list(page):
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    # Out of stock only: every row says so.
    with page.expect_response(lambda r: "availability=out_of_stock" in r.url) as answer:
        page.locator("#avail").select_option("out_of_stock")
    listed = answer.value.json()["prices"]
    assert listed and all(p["availability"] == "out_of_stock" for p in listed), listed
    expect(page.locator("#rows tr")).to_have_count(len(listed), timeout=10_000)
    expect(page.locator("#status")).not_to_have_class("err")
    # Cheapest first among roubles priced 1,000 to 100,000.
    page.locator("#avail").select_option("")
    page.locator("#min").fill("1000")
    page.locator("#max").fill("100000")
    with page.expect_response(lambda r: "sort=price_asc" in r.url and "min_price=1000" in r.url):
        page.locator("#sort").select_option("price_asc")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=10_000)
    amounts = [float(c.split()[0]) for c in page.locator("#rows tr td:nth-child(3)").all_inner_texts()]
    assert amounts and amounts == sorted(amounts), amounts
    assert all(1000 <= a <= 100000 for a in amounts), amounts
    # A bound that is not a number is refused in the page, with a reason.
    page.locator("#min").fill("lots")
    page.locator("#min").dispatch_event("change")
    expect(page.locator("#status")).to_have_class("err")
    expect(page.locator("#status")).to_contain_text("plain numbers")


def test_an_item_page_has_its_own_address(page):
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    item = page.evaluate("fetch('/api/prices?limit=1').then(r => r.json()).then(b => b.prices[0])")
    page.goto(BASE + "/#item=" + item["item_id"])
    head = page.locator("#chart h3")
    expect(head).to_contain_text(item["name"][:20], timeout=10_000)
    # The source's own link is there, and the series' page when it has one.
    link = page.locator("#chart .item-head a").first
    assert link.get_attribute("href") == item["link"]
    if item.get("series"):
        page.locator("#chart .item-head a", has_text=item["series"]).click()
        expect(page.locator("#view-series")).to_be_visible(timeout=10_000)
        # The list of series arrives after the view shows.
        expect(page.locator("#series-pick")).to_have_value(item["series"], timeout=10_000)
        expect(page.locator("#series-stats")).not_to_have_text("", timeout=10_000)


def test_the_gold_board_converts_spot_into_the_jewelers_currency(page):
    page.goto(BASE + "/#gold")
    spots = page.locator("#gold tr.spot")
    expect(spots.nth(1)).to_contain_text("RUB", timeout=15_000)
    expect(spots.nth(1)).to_contain_text("USD")
    assert "RUB" in spots.nth(1).locator("td").nth(1).inner_text()


def test_broken_pictures_are_dropped(page):
    """An item's picture that cannot be fetched (no internet here) leaves
    no broken-image icon: the image element is removed."""
    page.goto(BASE + "/")
    expect(page.locator("#rows tr").first).to_be_visible(timeout=15_000)
    with_image = page.evaluate("fetch('/api/prices?limit=1000').then(r => r.json()).then(b => b.prices.filter(p => p.image).length)")
    assert with_image > 0, "the demo has items with pictures"
    page.wait_for_load_state("networkidle")
    broken = page.evaluate("[...document.querySelectorAll('img.thumb')].filter(i => i.complete && i.naturalWidth === 0).length")
    assert broken == 0, broken
