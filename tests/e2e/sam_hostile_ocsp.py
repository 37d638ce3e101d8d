#!/usr/bin/env python3
"""sam_hostile_ocsp: plays a compromised inkand against inkan-sam's OCSP message (issue 16).
It starts an unmodified inkan-sam on a socketpair over a copy of a live data directory and
sends SAM_MSG_OCSP frames (src/sam/sam.h) of its own making: a status is not a field of the
request, so all it can do is choose CertIDs; the SAM must answer revoked for a revoked serial,
unknown for a serial it never issued or a CertID of another issuer, and refuse malformed ones.

Usage: sam_hostile_ocsp.py INKAN_SAM DATA GOOD.req REVOKED.req UNKNOWN.req ROOT.pem TMPDIR LOG
(each .req an OCSPRequest without nonce for one certificate, made by openssl ocsp -reqout)."""
import os, struct, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sam_hostile  # noqa: E402  (the Sam channel, frames, fail/ok)
from sam_hostile import Sam, fail, ok, u8, u32, string, E  # noqa: E402
from cms_add_crl import tlv  # noqa: E402  (the DER element at an offset)

OCSP = 31


def certid(req):
    """The first CertID of an OCSPRequest: OCSPRequest > TBSRequest > requestList > Request > CertID."""
    off = 0
    for _ in range(4):
        _, h, _ = tlv(req, off)
        off += h
    _, h, n = tlv(req, off)
    return req[off:off + h + n]


def ocsp(sam, ids, nonce=b"", may_sign=1):
    payload = u8(OCSP) + u8(may_sign) + string(nonce) + u32(len(ids))
    for i in ids:
        payload += string(i)
    return sam.call(payload)


def statuses(resp, root, tmp, verify=True):
    """The Cert Status lines of a response, after checking its signature against the root (a
    delegated responder's answer about another issuer's CertID is no answer openssl accepts:
    verify=False reads it unverified)."""
    path = os.path.join(tmp, "hostile.resp")
    n = struct.unpack(">I", resp[:4])[0]
    open(path, "wb").write(resp[4:4 + n])
    out = subprocess.run(["openssl", "ocsp", "-respin", path, "-resp_text"] +
                         (["-CAfile", root] if verify else ["-noverify"]), capture_output=True, text=True)
    text = out.stdout + out.stderr
    if verify and "Response verify OK" not in text:
        fail("a response of the SAM does not verify: " + text)
    return [l.split(":", 1)[1].strip() for l in text.splitlines() if "Cert Status:" in l]


def main():
    sam_path, data, good_req, rev_req, unk_req, root, tmp = sys.argv[1:8]
    sam_hostile.LOG = sys.argv[8]
    good, rev, unk = (certid(open(p, "rb").read()) for p in (good_req, rev_req, unk_req))
    sam = Sam(sam_path, data)

    r, rep = ocsp(sam, [good])
    if r != 0 or statuses(rep, root, tmp) != ["good"]:
        fail("the active certificate is not good (%d)" % r)
    # 1. a revoked serial: revoked, asked alone, with a nonce, among others, without the cache
    for ids, nonce in (([rev], b""), ([rev], b"\x04\x02ab"), ([good, rev, good], b"")):
        r, rep = ocsp(sam, ids, nonce)
        st = statuses(rep, root, tmp) if r == 0 else None
        if st is None or st[ids.index(rev)] != "revoked" or st.count("good") != ids.count(good):
            fail("a revoked serial was answered %s (%d)" % (st, r))
    ok("a revoked serial is revoked, alone, with a nonce and among good ones: never good")
    # 2. a serial the CA never issued, and the good serial under another issuer's key hash
    r, rep = ocsp(sam, [unk])
    if r != 0 or statuses(rep, root, tmp) != ["unknown"]:
        fail("a serial never issued is not unknown")
    forged = bytearray(good)
    # CertID: SEQ { AlgorithmIdentifier, OCTET STRING nameHash, OCTET STRING keyHash, serial }
    _, h, _ = tlv(good, 0)
    off = h
    for _ in range(2):
        _, hh, nn = tlv(good, off)
        off += hh + nn
    forged[off + 2] ^= 0xFF                 # first byte of issuerKeyHash
    r, rep = ocsp(sam, [bytes(forged)])
    if r != 0 or statuses(rep, root, tmp, verify=False) != ["unknown"]:
        fail("the good serial under another issuer's key hash is not unknown")
    ok("a serial never issued and a CertID of another issuer are unknown")
    # 3. malformed requests are refused before anything is signed
    bad = [
        (u8(OCSP) + u8(1) + string(b"") + u32(0), "PROTOCOL", "no CertID"),
        (u8(OCSP) + u8(1) + string(b"") + u32(9) + string(good) * 9, "PROTOCOL", "nine CertIDs"),
        (u8(OCSP) + u8(1) + string(b"x" * 65) + u32(1) + string(good), "PROTOCOL", "a 65-byte nonce"),
        (u8(OCSP) + u8(2) + string(b"") + u32(1) + string(good), "PROTOCOL", "may_sign 2"),
        (u8(OCSP) + u8(1) + string(b"") + u32(1) + string(good) + u8(0), "PROTOCOL",
         "a status byte (good) after the CertID"),
        (u8(OCSP) + u8(1) + string(b"") + u32(1) + string(good + b"\x00"), "INVALID",
         "a CertID with a trailing byte"),
        (u8(OCSP) + u8(1) + string(b"") + u32(1) + string(b"\x30\x03\x02\x01\x01"), "INVALID",
         "a CertID that is not one"),
        (u8(OCSP) + u8(1) + string(b"") + u32(1) + string(b"\x30" * 257), "PROTOCOL",
         "a 257-byte CertID"),
    ]
    for payload, err, what in bad:
        r, _ = sam.call(payload)
        if r != E[err]:
            fail("%s: SAM answered %d, want %s" % (what, r, err))
    ok("malformed OCSP messages are refused (count, sizes, extra fields, CertIDs that are not)")
    # 4. without may_sign only a pre-produced answer: the revoked serial's is its revoked one
    r, rep = ocsp(sam, [rev], may_sign=0)
    if r != 0 or statuses(rep, root, tmp) != ["revoked"]:
        fail("the pre-produced answer for the revoked serial is not revoked (%d)" % r)
    ok("pre-produced answers state the status of now")
    sam.close()


if __name__ == "__main__":
    main()
