#!/usr/bin/env python3
"""The python-escpos side of `jiayuan bench print`: builds the same receipt (read as JSON blocks on
stdin) N times with python-escpos's Dummy printer and prints receipts per second as JSON."""
import contextlib
import io
import json
import logging
import sys
import time
import unicodedata
import warnings

from escpos.printer import Dummy

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)


def width(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def build(blocks, columns):
    p = Dummy()
    p.profile.profile_data.setdefault("media", {}).setdefault("width", {})["pixel"] = 576 if columns == 48 else 384
    p.hw("INIT")
    p._raw(b"\x1c\x26")  # Chinese mode, as the Swift encoder does
    for b in blocks:
        t = b["type"]
        if t in ("title", "big"):
            p.set(align="center", bold=True, double_height=True, double_width=True)
            p._raw((b["text"] + "\n").encode("gb18030", "replace"))
            p.set(align="left", normal_textsize=True, bold=False)
        elif t == "text":
            p.set(align=b.get("align", "left"), bold=b.get("bold", False))
            p._raw((b["text"] + "\n").encode("gb18030", "replace"))
            p.set(align="left", bold=False)
        elif t == "row":
            pad = max(1, columns - width(b["label"]) - width(b["value"]))
            p._raw((b["label"] + " " * pad + b["value"] + "\n").encode("gb18030", "replace"))
        elif t == "separator":
            p._raw(b"-" * columns + b"\n")
        elif t == "qr":
            p.qr(b["data"], size=4, native=False, center=False)
            if b.get("caption"):
                p._raw((b["caption"] + "\n").encode("gb18030", "replace"))
        elif t == "footer":
            p.set(align="center")
            p._raw((b["text"] + "\n").encode("gb18030", "replace"))
            p.set(align="left")
        elif t == "feed":
            p._raw(b"\n" * b["lines"])
    p.cut()
    return p.output


def main():
    count = int(sys.argv[1])
    doc = json.load(sys.stdin)
    with contextlib.redirect_stdout(io.StringIO()):  # python-escpos prints warnings on stdout
        out = build(doc["blocks"], doc["columns"])  # warm up
        start = time.perf_counter()
        for _ in range(count):
            out = build(doc["blocks"], doc["columns"])
        seconds = time.perf_counter() - start
    print(json.dumps({"count": count, "seconds": seconds, "bytes": len(out)}))


if __name__ == "__main__":
    main()
