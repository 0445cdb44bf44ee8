"""First render of `/` and `/app` in headless chromium: bytes transferred
(every response's headers and body as sent, compressed) and time from navigation to the first
price row. A benchmark, not a test: run with
`scripts/browser-test --first-render`; results go in BENCHMARKS.md."""

import os
import statistics
import time

from playwright.sync_api import sync_playwright

BASE = os.environ["PRICEHOUND_BASE_URL"].rstrip("/")
CHROMIUM = os.environ.get("PRICEHOUND_CHROMIUM", "/usr/bin/chromium")
RUNS = 7


def measure(browser, path, first_row):
    context = browser.new_context()
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda r: finished.append(r))
    start = time.perf_counter()
    page.goto(BASE + path)
    page.wait_for_selector(first_row, timeout=30_000)
    elapsed = (time.perf_counter() - start) * 1000
    page.wait_for_load_state("networkidle")
    # Bytes on the wire: headers and the body as sent (compressed).
    total = 0
    for r in finished:
        s = r.sizes()
        total += s["responseBodySize"] + s["responseHeadersSize"]
    context.close()
    return elapsed, total, len(finished)


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
    for path, row in [("/", "#rows tr")]:
        measure(browser, path, row)  # warm: the first search index build
        runs = [measure(browser, path, row) for _ in range(RUNS)]
        ms = sorted(r[0] for r in runs)
        print(f"{path}: time to first row median {statistics.median(ms):.0f} ms (min {ms[0]:.0f}, max {ms[-1]:.0f}, {RUNS} runs); "
              f"{runs[-1][1]:,} bytes in {runs[-1][2]} responses")
    browser.close()
