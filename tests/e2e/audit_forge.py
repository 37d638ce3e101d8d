#!/usr/bin/env python3
"""audit_forge: plays the forger of an inkan audit export bundle (t_audit_anchor). It drops
every record whose action starts with a prefix, renumbers the rest from seq 1, recomputes the
RFC 9162 tree from the documented record encoding (docs/audit.md), and signs fresh checkpoints
with another ECDSA P-384 key through `openssl dgst`, replacing the bundle's log public key: a
bundle that agrees with itself in every respect but the key. Shares no code with inkan.

usage: audit_forge.py BUNDLE.json ACTION_PREFIX FORGER_KEY.pem FORGER_PUB.pem OUT.json
prints the number of records removed."""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile


def entry(r):
    # u8 version 1, u64 seq, i64 time (big-endian), then eight u32-length-prefixed strings
    out = struct.pack(">BQq", 1, r["seq"], r["time"])
    for f in ("actor", "role", "action", "subject", "result", "request_id", "source", "detail"):
        b = r[f].encode()
        out += struct.pack(">I", len(b)) + b
    return out


def mth(leaves):
    # RFC 9162 2.1.1
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(leaves[:k]) + mth(leaves[k:])).digest()


def sign(key, text):
    with tempfile.TemporaryDirectory() as d:
        tf = os.path.join(d, "head")
        open(tf, "w").write(text)
        return subprocess.run(["openssl", "dgst", "-sha384", "-sign", key, tf],
                              capture_output=True, check=True).stdout


def main():
    src, prefix, key, pub, out = sys.argv[1:6]
    b = json.load(open(src))
    if b["prefix"]["size"] != 0:
        sys.exit("the bundle must start at seq 1")
    kept = [r for r in b["records"] if not r["action"].startswith(prefix)]
    removed = len(b["records"]) - len(kept)
    for i, r in enumerate(kept):
        r["seq"] = i + 1
    leaves = [hashlib.sha256(b"\x00" + entry(r)).digest() for r in kept]
    t = b["checkpoints"][-1]["time"] if b["checkpoints"] else kept[-1]["time"]
    cps = []
    # a checkpoint every 10 records and one over all of them, as the service would sign
    sizes = sorted(set(list(range(10, len(kept), 10)) + [len(kept)]))
    for n, size in enumerate(sizes):
        root = mth(leaves[:size])
        text = "inkan audit checkpoint v1\nsize=%d\nroot=%s\ntime=%d\n" % (size, root.hex(), t)
        cps.append({"id": n + 1, "size": size, "root": root.hex(), "time": t,
                    "signature": sign(key, text).hex()})
    b["records"] = kept
    b["checkpoints"] = cps
    b["to"] = len(kept)
    b["log_public_key"] = open(pub).read()
    json.dump(b, open(out, "w"))
    print(removed)


if __name__ == "__main__":
    main()
