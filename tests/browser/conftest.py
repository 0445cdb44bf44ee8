"""Shared by the browser tests: one headless chromium per run, and a page
per test that fails the test on a console error, a CSP violation or any
request to another origin, and leaves a screenshot behind."""

import os
import re

import pytest
from playwright.sync_api import sync_playwright

BASE = os.environ["PRICEHOUND_BASE_URL"].rstrip("/")
CHROMIUM = os.environ.get("PRICEHOUND_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = os.environ.get("PRICEHOUND_ARTIFACTS", "target/browser-artifacts")


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))

    def foreign(req):
        if not req.url.startswith(BASE) and not req.url.startswith("data:"):
            problems.append(f"request to another origin: {req.url}")

    page.on("request", foreign)
    # Item pictures come through our image route, which answers 404/502
    # when the item has none or the source's picture cannot be fetched
    # (these machines have no internet). The page drops such an image
    # (test_broken_pictures_are_dropped); the browser still logs one
    # "Failed to load resource" line per failed image, removed below.
    failed_images = []
    page.on("response", lambda r: failed_images.append(r.url)
            if r.status >= 400 and re.search(r"/api/items/[^?]+/image$", r.url) else None)
    # A test that makes the API fail on purpose drops the browser's own
    # "failed to load" line for it from here.
    page.problems = problems
    yield page
    os.makedirs(ARTIFACTS, exist_ok=True)
    # The whole page, unless it is huge (10,000 rows): then what is in view.
    tall = page.evaluate("document.documentElement.scrollHeight") > 20_000
    page.screenshot(path=os.path.join(ARTIFACTS, f"{request.node.name}.png"), full_page=not tall)
    context.close()
    for _ in failed_images:
        line = next((p for p in problems if "Failed to load resource" in p and ("404" in p or "502" in p)), None)
        if line:
            problems.remove(line)
    assert problems == [], problems


