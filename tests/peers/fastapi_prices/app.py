"""The Python peer of `GET /api/prices` (issue 14): FastAPI + SQLite.

What it measures: nothing by itself. It is the "usual stack" that
`scripts/bench-local-api` runs next to `pricehound serve` under wrk: a
small, idiomatic FastAPI app over the SAME SQLite file `serve` writes,
answering `GET /api/prices?limit=&cursor=&source=` (the unfiltered,
default-sorted view) with the same rows, order and JSON as ours:

- rows: items joined to their latest observation, items of pages users
  pasted into the bot (source ids `page-...`) left out, as `serve` does by
  default, ordered by (source_id, id), `limit` 1..1000 (default 100);
- `next_cursor`: URL-safe base64 (no padding) of the page's last item id
  when there are more rows, else null;
- each price: item_id, source_id, name, series?, price {amount, currency}
  or null, availability, brand?, image?, observed_at (RFC 3339, UTC,
  milliseconds only when non-zero), link (the item's page, else the
  Telegram post / fetched page), change? {from, at, percent}
  (`?` = left out when absent, as serde's skip_serializing_if does).

The file is opened read-only (`mode=ro`; `serve` keeps it in WAL mode, so
readers never block its writer), one connection per worker thread, as a
small app would. FastAPI runs the plain `def` handler in its thread pool
(the documented way for blocking I/O such as sqlite3) and validates and
serialises the answer through its declared pydantic response model, its
normal path (about twice as fast as returning a bare dict, which goes
through `jsonable_encoder`).

Run (the bench does this):
    PEER_DB=/path/to/pricehound.db uvicorn app:app \
        --app-dir tests/peers/fastapi_prices --workers 2 --no-access-log
"""

import base64
import json
import os
import sqlite3
import threading
from datetime import datetime, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Optional

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field

DB_PATH = os.environ.get("PEER_DB", "pricehound.db")
TELEGRAM = "https://t.me"

# The same statement as the SQLite adapter's LATEST_SELECT, minus the
# columns the answer does not show.
SELECT = """
SELECT i.id, i.source_id, i.name, i.series, o.amount, o.currency,
       o.availability, o.details, o.observed_at, o.provenance,
       i.change_amount, i.change_currency, i.changed_at
  FROM items i JOIN observations o ON o.id = i.latest_obs
 WHERE (i.source_id < 'page-' OR i.source_id >= 'page.') {extra}
 ORDER BY i.source_id, i.id
 LIMIT ?
"""


# The answer's shape, as FastAPI apps declare it: the response is validated
# and serialised by pydantic. Optional fields our API leaves out when absent
# are left unset (`response_model_exclude_unset`); `price` and `percent`
# are set, to null when there is none, as ours.
class Money(BaseModel):
    amount: str
    currency: str


class Change(BaseModel):
    from_: Money = Field(alias="from")
    at: str
    percent: Optional[str]


class PriceView(BaseModel):
    item_id: str
    source_id: str
    name: str
    series: Optional[str] = None
    price: Optional[Money]
    availability: str
    brand: Optional[str] = None
    image: Optional[str] = None
    observed_at: str
    link: str
    change: Optional[Change] = None


class PricesPage(BaseModel):
    prices: list[PriceView]
    next_cursor: Optional[str]


app = FastAPI(title="prices peer")
_local = threading.local()


def db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(f"file:{DB_PATH}?mode=ro", uri=True)
        conn.execute("PRAGMA busy_timeout = 5000")
        _local.conn = conn
    return conn


def rfc3339(ms: int) -> str:
    t = datetime.fromtimestamp(ms // 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{t}.{ms % 1000:03d}Z" if ms % 1000 else f"{t}Z"


def percent(old: str, new: str) -> Optional[str]:
    """The change in percent, 2 places, trailing zeros dropped ("-10")."""
    old_d, new_d = Decimal(old), Decimal(new)
    if old_d == 0:
        return None
    p = ((new_d - old_d) / old_d * 100).quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    return format(p.normalize() + 0, "f")  # + 0 turns -0 into 0


def price_view(row) -> dict:
    (item_id, source_id, name, series, amount, currency, availability,
     details, observed_at, provenance, ch_amount, ch_currency, changed_at) = row
    details = json.loads(details) if details else {}
    prov = json.loads(provenance)
    if details.get("url") is not None:
        link = details["url"]
    elif prov["kind"] == "telegram_post":
        link = f"{TELEGRAM}/{prov['channel']}/{prov['post_id']}"
    else:
        link = prov["url"]
    out = {"item_id": item_id, "source_id": source_id, "name": name}
    if series is not None:
        out["series"] = series
    out["price"] = {"amount": amount, "currency": currency} if amount is not None else None
    out["availability"] = availability
    if details.get("brand") is not None:
        out["brand"] = details["brand"]
    if details.get("image") is not None:
        out["image"] = details["image"]
    out["observed_at"] = rfc3339(observed_at)
    out["link"] = link
    if ch_amount is not None and ch_currency is not None and changed_at is not None:
        out["change"] = {
            "from": {"amount": ch_amount, "currency": ch_currency},
            "at": rfc3339(changed_at),
            "percent": percent(ch_amount, amount)
            if amount is not None and currency == ch_currency
            else None,
        }
    return out


@app.get("/api/prices", response_model=PricesPage, response_model_exclude_unset=True)
def list_prices(
    limit: int = Query(100, ge=1, le=1000),
    cursor: Optional[str] = Query(None, pattern="^[A-Za-z0-9_-]{1,2048}$"),
    source: Optional[str] = None,
):
    extra, args = "", []
    if source is not None:
        extra += " AND i.source_id = ?"
        args.append(source)
    if cursor is not None:
        try:
            after = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            raise HTTPException(400, "bad cursor")
        extra += " AND (i.source_id, i.id) > (?, ?)"
        args += [after.split(":", 1)[0], after]
    try:
        rows = db().execute(SELECT.format(extra=extra), [*args, limit + 1]).fetchall()
        prices = [price_view(r) for r in rows[:limit]]
    except (InvalidOperation, KeyError, ValueError) as e:
        raise HTTPException(500, f"stored data is corrupt: {e}")
    next_cursor = None
    if len(rows) > limit:
        next_cursor = base64.urlsafe_b64encode(prices[-1]["item_id"].encode()).decode().rstrip("=")
    return {"prices": prices, "next_cursor": next_cursor}
