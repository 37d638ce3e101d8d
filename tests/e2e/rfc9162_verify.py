#!/usr/bin/env python3
"""rfc9162_verify: a separate, small verifier of one inkan audit inclusion proof, written
from RFC 9162 section 2.1.3.2 only (it shares no code with inkan). Inputs: the proof answer
of GET /api/v1/audit/proof (for its entry, leaf index and path) and the log public key (PEM);
the checkpoint's signature is checked with `openssl dgst` against that key.

usage: rfc9162_verify.py PROOF.json LOG_PUBKEY.pem [HEX_THAT_MUST_BE_IN_THE_ENTRY]
exit 0 when the record is proven to be in the signed tree."""
import base64
import hashlib
import json
import os
import subprocess
import sys
import tempfile


def node(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def verify_inclusion(leaf_index, tree_size, leaf_hash, path, root):
    # RFC 9162 2.1.3.2, step by step
    if leaf_index >= tree_size:
        return False
    fn, sn, r = leaf_index, tree_size - 1, leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def main():
    proof = json.load(open(sys.argv[1]))
    pubkey = sys.argv[2]
    cp = proof["checkpoint"]
    size, root, t = int(cp["size"]), bytes.fromhex(cp["root"]), int(cp["time"])
    # the signed text is rebuilt here from the documented format, not taken from the answer
    text = "inkan audit checkpoint v1\nsize=%d\nroot=%s\ntime=%d\n" % (size, root.hex(), t)
    with tempfile.TemporaryDirectory() as d:
        tf, sf = os.path.join(d, "head"), os.path.join(d, "sig")
        open(tf, "w").write(text)
        open(sf, "wb").write(bytes.fromhex(cp["signature"]))
        res = subprocess.run(["openssl", "dgst", "-sha384", "-verify", pubkey, "-signature", sf, tf],
                             capture_output=True)
        if res.returncode != 0:
            print("checkpoint signature does NOT verify with the log key")
            return 1
    entry = base64.b64decode(proof["entry"])
    if len(sys.argv) > 3 and sys.argv[3].encode() not in entry:
        print("the entry does not carry %s" % sys.argv[3])
        return 1
    leaf = hashlib.sha256(b"\x00" + entry).digest()
    path = [bytes.fromhex(h) for h in proof["inclusion_path"]]
    if not verify_inclusion(int(proof["leaf_index"]), size, leaf, path, root):
        print("inclusion proof does NOT verify")
        return 1
    print("included: leaf %d of %d under a checkpoint signed by the log key" % (int(proof["leaf_index"]), size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
