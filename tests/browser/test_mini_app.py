"""The Telegram Mini App at /app in headless chromium: signed in with
initData signed as Telegram signs it (for the made-up bot that
scripts/browser-test starts serve with), following the theme Telegram
passes, and acting on the same data as the bot: a watch added in the app
is in the bot's /list at once. Forged initData gets nowhere."""

import hashlib
import hmac
import json
import os
import time
import urllib.parse
import urllib.request

from playwright.sync_api import expect


BASE = os.environ["PRICEHOUND_BASE_URL"].rstrip("/")
TOKEN = os.environ["PRICEHOUND_TEST_BOT_TOKEN"]
SECRET = os.environ["PRICEHOUND_TEST_WEBHOOK_SECRET"]


def init_data(user_id, token=TOKEN, age=0, lang="en"):
    """initData as Telegram builds it (core.telegram.org/bots/webapps)."""
    fields = {
        "query_id": "AAHbrowser",
        "user": json.dumps({"id": user_id, "first_name": "Mini", "language_code": lang}, separators=(",", ":")),
        "auth_date": str(int(time.time()) - age),
    }
    check = "\n".join(f"{k}={fields[k]}" for k in sorted(fields))
    key = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(key, check.encode(), hashlib.sha256).hexdigest()
    return urllib.parse.urlencode(fields)


def open_app(page, data, theme=None):
    fragment = {"tgWebAppData": data, "tgWebAppVersion": "8.0", "tgWebAppPlatform": "tdesktop"}
    if theme:
        fragment["tgWebAppThemeParams"] = json.dumps(theme)
    page.goto(BASE + "/app#" + urllib.parse.urlencode(fragment))


def bot_says(user_id, text):
    """A message to the bot through its webhook; the texts it answers with
    (the reply travels in the webhook's response body)."""
    update = {
        "update_id": int(time.time() * 1000) % 2_000_000_000,
        "message": {
            "message_id": 1, "date": int(time.time()), "text": text,
            "chat": {"id": user_id, "type": "private"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Mini", "language_code": "en"},
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}] if text.startswith("/") else [],
        },
    }
    req = urllib.request.Request(
        BASE + "/telegram/webhook", data=json.dumps(update).encode(),
        headers={"content-type": "application/json", "x-telegram-bot-api-secret-token": SECRET})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = r.read()
    return json.loads(body).get("text", "") if body else ""


def test_a_watch_added_in_the_mini_app_is_in_the_bots_list(page):
    user = 880_001
    open_app(page, init_data(user), theme={"bg_color": "#112233", "text_color": "#eeeeee", "button_color": "#ff8800"})
    expect(page.locator("#who")).to_have_text("Mini", timeout=15_000)
    # Telegram's theme is followed.
    bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(17, 34, 51)", bg
    expect(page.locator("#status")).to_contain_text("empty")
    page.locator("#tab-find").click()
    page.locator("#q").fill("darksid")
    first = page.locator("#found li").first
    expect(first).to_contain_text("Darkside", timeout=10_000)
    name = first.locator(".what div").first.inner_text()
    first.get_by_role("button", name="Watch").click()
    expect(page.locator("#status")).to_contain_text("Watching", timeout=10_000)
    # The bot's /list shows it at once.
    listed = bot_says(user, "/list")
    assert name in listed, listed
    # And the app's watchlist, where it can be removed.
    page.locator("#tab-list").click()
    item = page.locator("#watches li").first
    expect(item).to_contain_text(name, timeout=10_000)
    # Ticked off as bought: still listed, struck through, and checked in
    # the bot's /list too; then wanted again.
    item.get_by_role("button", name="Bought").click()
    expect(page.locator("#watches li.done").first).to_contain_text(name, timeout=10_000)
    assert "✅" in bot_says(user, "/list")
    page.locator("#watches li").first.get_by_role("button", name="Want again").click()
    expect(page.locator("#watches li.done")).to_have_count(0, timeout=10_000)
    item = page.locator("#watches li").first
    item.get_by_role("button", name="Remove").click()
    expect(page.locator("#status")).to_contain_text("empty", timeout=10_000)
    assert name not in bot_says(user, "/list")


def test_an_alert_set_in_the_app_can_be_muted_and_deleted(page):
    user = 880_002
    open_app(page, init_data(user))
    expect(page.locator("#who")).to_have_text("Mini", timeout=15_000)
    page.locator("#tab-find").click()
    page.locator("#q").fill("pinkman")
    first = page.locator("#found li").first
    expect(first).to_be_visible(timeout=10_000)
    first.get_by_role("button", name="Alert").click()
    expect(page.locator("#status")).to_contain_text("back in stock", timeout=10_000)
    page.locator("#tab-alerts").click()
    alert = page.locator("#alerts li").first
    expect(alert).to_contain_text("back in stock", timeout=10_000)
    alert.get_by_role("button", name="Mute").click()
    expect(page.locator("#alerts li").first).to_contain_text("(muted)", timeout=10_000)
    page.locator("#alerts li").first.get_by_role("button", name="Delete").click()
    expect(page.locator("#status")).to_contain_text("No alerts", timeout=10_000)


def test_forged_or_expired_init_data_gets_nowhere(page):
    for data, says in [
        (init_data(880_003, token="987654321:AAHanother-bot-token_0123456789ab"), "not signed"),
        (init_data(880_003, age=3 * 3600), "older than"),
        ("user=%7B%22id%22%3A1%7D&auth_date=1&hash=00", "hash"),
    ]:
        page.goto("about:blank")
        open_app(page, data)
        expect(page.locator("#status")).to_contain_text(says, timeout=10_000)
        expect(page.locator("#status")).to_have_class("err")
    # The browser logs each refused call; that is what this test is about.
    page.problems[:] = [p for p in page.problems if "status of 401" not in p]
    assert "Darkside" not in bot_says(880_003, "/list")


def test_the_mini_app_speaks_the_users_language(page):
    open_app(page, init_data(880_004, lang="ar"))
    expect(page.locator("#who")).to_have_text("Mini", timeout=15_000)
    assert page.evaluate("document.documentElement.dir") == "rtl"
    expect(page.locator("#tab-list")).to_have_text("قائمتي")
    expect(page.locator("#status")).to_contain_text("قائمتك فارغة")
    page.goto("about:blank")
    open_app(page, init_data(880_005, lang="ru"))
    expect(page.locator("#tab-find")).to_have_text("Найти", timeout=15_000)
    assert page.evaluate("document.documentElement.dir") == "ltr"
