"""The Python peer of `pricehound price` on stdin (issue 14).

What it measures: nothing by itself. `scripts/bench-price-cli` runs it next
to `pricehound price` on the same input: one text per line on stdin, one
JSON line per input on stdout, as our CLI writes them:

    {"input": "1 234,56 €", "amount": "1234.56", "currency": "€"}

with the PyPI `price-parser` package (`Price.fromstring`). `amount` is the
parsed decimal as a string, or null; `currency` is what price-parser
reports (the symbol or code as written, not an ISO 4217 code as ours),
or null. Plain buffered I/O, as a Python user would write it.

Run: python tests/peers/price_parser_peer.py < prices.txt > out.jsonl
"""

import json
import sys

from price_parser import Price


def main() -> None:
    # UTF-8 whatever the locale says, as our CLI reads and writes, and
    # block-buffered whatever PYTHONUNBUFFERED says (ours writes through a
    # BufWriter).
    stdin = open(sys.stdin.fileno(), encoding="utf-8", closefd=False)
    out = open(sys.stdout.fileno(), "w", encoding="utf-8", buffering=1 << 16, closefd=False)
    for line in stdin:
        text = line.rstrip("\n")
        p = Price.fromstring(text)
        out.write(
            json.dumps(
                {
                    "input": text,
                    "amount": None if p.amount is None else str(p.amount),
                    "currency": p.currency,
                },
                ensure_ascii=False,
            )
        )
        out.write("\n")
    out.flush()


if __name__ == "__main__":
    main()
