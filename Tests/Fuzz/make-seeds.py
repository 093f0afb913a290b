#!/usr/bin/env python3
"""Writes the seed corpora Tests/Fuzz/<target>/ (small, real examples). Run again after changing a harness's input
layout; the files are committed, so the fuzz script does not need Python."""
import base64, gzip, json, os, struct
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

here = os.path.dirname(os.path.abspath(__file__))
key = Ed25519PrivateKey.from_private_bytes(bytes([7] * 32))  # the key the scan target trusts as key id 1


def card(member, key_id=1, serial=1, issued=700, valid=2525, signer=key):
    payload = struct.pack(">BBIHHH", 1, key_id, member, serial, issued, valid)
    sig = signer.sign(b"JY1" + payload)
    return "JY1:" + base64.b32encode(payload + sig).decode().rstrip("=")


def write(target, name, data):
    os.makedirs(os.path.join(here, target), exist_ok=True)
    with open(os.path.join(here, target, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# scan: cards, pickup slips, legacy numbers, junk
write("scan", "card", card(123))
write("scan", "card-lower-spaces", "  " + card(999999, serial=7).lower() + "\r\n")
write("scan", "card-unknown-key", card(5, key_id=2))
write("scan", "card-other-signer", card(5, signer=Ed25519PrivateKey.from_private_bytes(bytes([9] * 32))))
write("scan", "pickup", "JYK:ACD")
write("scan", "pickup-lower", "jyk:x7q")
write("scan", "legacy", "00012345")
write("scan", "junk", "hello, 世界")

# line: [n][n read sizes][time step /100 s] + the stream
def line(name, sizes, step, stream):
    write("line", name, bytes([len(sizes)] + sizes + [step]) + stream)

line("crlf", [5, 3], 1, (card(1) + "\r\n12345\n\n").encode())
line("lone-cr", [], 0, b"JYK:ACD\r00012345\rhalf")
line("bad-utf8", [1], 2, b"ab\xff\xfecd\n\xe4\xb8\n")
line("control", [7], 20, b"12\x1b[A34\n" + b"x" * 600 + b"\n")

# evdev: [mode][n][n read sizes][gap flag] + events (mode 0 raw input_event, 1 compact, 2 text to type)
def ev(sec, usec, typ, code, value):
    return struct.pack("<qqHHi", sec, usec, typ, code, value)

def typing(keys):
    out, t = b"", 0
    for code, shift in keys:
        t += 3000
        if shift: out += ev(100, t, 1, 42, 1)
        out += ev(100, t, 4, 4, 0x70000 + code) + ev(100, t, 1, code, 1) + ev(100, t, 0, 0, 0)
        out += ev(100, t + 500, 1, code, 0) + ev(100, t + 500, 0, 0, 0)
        if shift: out += ev(100, t + 600, 1, 42, 0)
    return out

digits = [(2 + i, False) for i in range(9)]  # 1..9
write("evdev", "raw-digits-enter", bytes([0, 2, 24, 7, 0]) + typing(digits + [(28, False)]))
write("evdev", "raw-capitals-no-enter", bytes([0, 0, 1]) + typing([(36, True), (21, True), (37, True), (39, True), (30, True)]))
write("evdev", "raw-syn-dropped", bytes([0, 1, 100, 0]) + typing(digits[:3]) + ev(100, 99999, 0, 3, 0) + typing([(28, False)]))
write("evdev", "compact", bytes([1, 1, 4, 0]) + bytes([0, 42, 1, 1, 0, 30, 1, 2, 0, 30, 0, 1, 0, 42, 0, 1, 0, 58, 1, 1, 0, 31, 2, 1, 2, 0, 0, 1, 0, 28, 1, 1]))
write("evdev", "text", bytes([2, 1, 5, 0]) + card(42).encode())

# toml and config: the shipped example, a minimal file, and bits of the syntax
example = open(os.path.join(here, "../../kiosk/jiayuan.toml.example"), "rb").read()
minimal = b'kiosk_id = "k1"\n[[venue]]\nid = "gym"\nname = { zh = "\xe5\x81\xa5\xe8\xba\xab\xe6\x88\xbf", en = "Gym" }\nhours = "24h"\ncapacity = 10\n'
for t in ["toml", "config"]:
    write(t, "example", example)
    write(t, "minimal", minimal)
write("config", "upload", minimal + b'[upload]\nhub = "http://127.0.0.1:8090"\nallow_http = true\ntoken = "jyt_x"\n[[scanner]]\nsource = "stdin"\nvenue = "gym"\n')
write("config", "console", minimal + b'[server]\nhost = "::1"\nport = 8080\n[console]\nhost = "0.0.0.0"\nport = 8443\ntls_cert = "c.pem"\ntls_key = "k.pem"\n')
write("toml", "syntax", b"\xef\xbb\xbf# all of it\r\na.b.'c d' = [1, -0x1F, 0o17, 0b101, 1_000, +3.5e-2, inf, -nan, true]\r\n"
      b"s = \"\\u00e9\\t\\\"q\\\"\"\nl = 'C:\\dir'\nm = \"\"\"\nline\\\n  two\"\"\"\nn = '''\nraw\n'''\n"
      b"[t]\ni = { x = 1, y = { z = [] } }\n[[arr]]\nk = 1\n[[arr]]\nk = 2\n")
write("toml", "errors", b"x = 1\nx = 2\n[t]\n[t]\ny = 2024-01-01\n")

# csv
write("csv", "members", "\ufeffname,group,born,phone,flags,guardians\r\n王秀英,elder,1948,13800000001,low_income;blind,\r\n"
      "李明,resident,1985,13900000002,,\n\"张,小\"\"宝\"\"\",child,2018,,,M000002;13900000002\n")
write("csv", "columns-reordered", "guardians,group,name\n,veteran,\"Multi\nline\"\n")
write("csv", "bad-row", "name,group\nA,elder\nB,alien\n")

# wire: upload batches
def event(seq, member="M000123", reason=None):
    return {"seq": seq, "id": "01JD%020d" % seq, "at": "2026-11-29T02:45:32Z", "venue": "gym", "member": member,
            "group": "elder", "direction": "in", "outcome": "accepted" if reason is None else "denied", "reason": reason,
            "via": "scan", "prev_hash": "0" * 64, "hash": "%064x" % seq}

batch = {"kiosk": "K-LOBBY-1", "centre": "C-01", "events": [event(1), event(2, None, "invalid_code")]}
write("wire", "batch", json.dumps(batch, separators=(",", ":")))
write("wire", "batch-spaced", json.dumps({"events": [event(9)], "centre": "C-01", "kiosk": "家园\n\"k\""}, indent=2, ensure_ascii=True))
write("wire", "empty-events", '{"kiosk":"k","centre":"c","events":[]}')
write("wire", "bad-seq", '{"kiosk":"k","centre":"c","events":[{"seq":01}]}')

# gzip: [limit high][limit low][level] + a gzip body
body = json.dumps(batch, separators=(",", ":")).encode()
write("gzip", "batch", bytes([1, 0, 1]) + gzip.compress(body, mtime=0))
write("gzip", "two-members", bytes([1, 0, 9]) + gzip.compress(b"abc", mtime=0) + gzip.compress(b"def", mtime=0))
write("gzip", "too-large", bytes([0, 16, 5]) + gzip.compress(b"a" * 5000, mtime=0))
write("gzip", "truncated", bytes([4, 0, 0]) + gzip.compress(body, mtime=0)[:40])
