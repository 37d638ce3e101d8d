#!/usr/bin/env python3
"""der_tool: what the long-term signature tests do to a CAdES file (DER, definite lengths) with
a parser of their own, not inkan's.

  der_tool.py ats FILE          one line per archive-time-stamp-v3 value: START END (offsets)
  der_tool.py sigts FILE        the same for the signature-time-stamp values
  der_tool.py ocsp FILE         the same for the OCSP responses in SignedData.crls (otherRevInfo)
  der_tool.py certs FILE        the same for the certificates of SignedData.certificates
  der_tool.py flip FILE OUT OFF  OUT is FILE with the byte at OFF inverted
  der_tool.py ats-input FILE K DOC OUT-TOKEN OUT-INPUT   the K-th (from 0) archive time-stamp's
                                 token, and its message imprint input computed here as ETSI EN
                                 319 122-1 5.5.3 says (eContentType, SHA-256 of DOC, the
                                 SignerInfo from version to signature, the token's
                                 ats-hash-index-v3), for `openssl ts -verify -data`
  der_tool.py ats-index FILE     exit 0 when the newest archive time-stamp's ats-hash-index-v3
                                 is exactly (5.5.2, SHA-256, hashIndAlgorithm left out as DER
                                 wants for its default) the hashes of every certificate, every
                                 revocation value and every unsigned attribute value (attrType
                                 and value) before it, in their order
  der_tool.py swap-ocsp FILE DONOR OUT [drop-crls]   OUT is FILE with the OCSP responses of its
                                 crls field replaced by DONOR's (lengths re-encoded up to the
                                 ContentInfo); with drop-crls its CRLs are left out too
"""
import sys

def oid_der(dotted):
    parts = [int(x) for x in dotted.split(".")]
    body = bytearray([parts[0] * 40 + parts[1]])
    for p in parts[2:]:
        enc = [p & 0x7F]
        p >>= 7
        while p:
            enc.append(0x80 | (p & 0x7F))
            p >>= 7
        body += bytes(reversed(enc))
    return bytes([6, len(body)]) + bytes(body)


OID_ATS = oid_der("0.4.0.1733.2.4")
OID_SIGTS = oid_der("1.2.840.113549.1.9.16.2.14")
OID_RI_OCSP = oid_der("1.3.6.1.5.5.7.16.2")
OID_ATS_INDEX = oid_der("0.4.0.19122.1.5")


def tlv(buf, off):
    """(tag, header length, content length) of the element at off."""
    tag = buf[off]
    l = buf[off + 1]
    if l < 0x80:
        return tag, 2, l
    n = l & 0x7F
    if n == 0 or n > 4:
        raise ValueError("indefinite or huge length at %d" % off)
    return tag, 2 + n, int.from_bytes(buf[off + 2:off + 2 + n], "big")


def children(buf, off):
    tag, h, l = tlv(buf, off)
    p, end = off + h, off + h + l
    out = []
    while p < end:
        t, hh, ll = tlv(buf, p)
        out.append(p)
        p += hh + ll
    return out


def end_of(buf, off):
    _, h, l = tlv(buf, off)
    return off + h + l


def signed_data(buf):
    ci = 0
    wrap = children(buf, ci)[1]
    return children(buf, wrap)[0]


def fields(buf):
    sd = signed_data(buf)
    f = {}
    for c in children(buf, sd):
        t = buf[c]
        if t == 0xA0:
            f["certs"] = c
        elif t == 0xA1:
            f["crls"] = c
        elif t == 0x31:
            f["sis"] = c
    return sd, f


def unsigned_values(buf, oid):
    _, f = fields(buf)
    si = children(buf, f["sis"])[0]
    out = []
    for c in children(buf, si):
        if buf[c] != 0xA1:
            continue
        for attr in children(buf, c):
            typ, vals = children(buf, attr)
            if buf[typ:end_of(buf, typ)] == oid:
                out += [(v, end_of(buf, v)) for v in children(buf, vals)]
    return out


def ocsp_values(buf):
    _, f = fields(buf)
    out = []
    for c in children(buf, f["crls"]) if "crls" in f else []:
        if buf[c] != 0xA1:
            continue
        typ, val = children(buf, c)
        if buf[typ:end_of(buf, typ)] == OID_RI_OCSP:
            out.append((val, end_of(buf, val)))
    return out


def ats_input(buf, k, doc):
    """(token, imprint input) of the k-th archive-time-stamp-v3 of the first signer."""
    import hashlib
    sd, f = fields(buf)
    encap = [c for c in children(buf, sd) if buf[c] == 0x30][0]
    ctype = children(buf, encap)[0]
    si = children(buf, f["sis"])[0]
    parts = children(buf, si)
    sig = [c for c in parts if buf[c] == 0x04][0]
    s, e = unsigned_values(buf, OID_ATS)[k]
    token = buf[s:e]
    tsd, tf = fields(token)
    tsi = children(token, tf["sis"])[0]
    index = None
    for c in children(token, tsi):
        if token[c] != 0xA1:
            continue
        for attr in children(token, c):
            typ, vals = children(token, attr)
            if token[typ:end_of(token, typ)] == OID_ATS_INDEX:
                v = children(token, vals)[0]
                index = token[v:end_of(token, v)]
    if index is None:
        raise ValueError("no ats-hash-index-v3 in the token")
    data = buf[ctype:end_of(buf, ctype)] + hashlib.sha256(doc).digest() + \
        buf[parts[0]:end_of(buf, sig)] + index
    return token, data


def ats_index_expected(buf):
    """The ATSHashIndexV3 the newest archive time-stamp must carry, DER."""
    import hashlib
    h = lambda b: hashlib.sha256(b).digest()
    _, f = fields(buf)
    lists = []
    for key in ("certs", "crls"):
        els = children(buf, f[key]) if key in f else []
        lists.append([h(buf[c:end_of(buf, c)]) for c in els])
    si = children(buf, f["sis"])[0]
    last = unsigned_values(buf, OID_ATS)[-1][0]
    vals = []
    for c in children(buf, si):
        if buf[c] != 0xA1:
            continue
        for attr in children(buf, c):
            typ, vs = children(buf, attr)
            for v in children(buf, vs):
                if v == last:
                    break
                vals.append(h(buf[typ:end_of(buf, typ)] + buf[v:end_of(buf, v)]))
            else:
                continue
            break
    lists.append(vals)
    body = b""
    for l in lists:
        inner = b"".join(hdr(0x04, len(x)) + x for x in l)
        body += hdr(0x30, len(inner)) + inner
    return hdr(0x30, len(body)) + body


def hdr(tag, n):
    if n < 0x80:
        return bytes([tag, n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(b)]) + b


def swap_ocsp(buf, donor, drop_crls=False):
    """The crls field rebuilt with donor's OCSP responses in place of buf's, and every
    enclosing length re-encoded."""
    sd, f = fields(buf)
    new_ocsp = [donor[s:e] for s, e in ocsp_values(donor)]
    items = []
    for c in children(buf, f["crls"]):
        if buf[c] == 0xA1:
            typ, val = children(buf, c)
            if buf[typ:end_of(buf, typ)] == OID_RI_OCSP:
                continue
        elif drop_crls:
            continue
        items.append(buf[c:end_of(buf, c)])
    for o in new_ocsp:
        body = OID_RI_OCSP + o
        items.append(hdr(0xA1, len(body)) + body)
    crls_body = b"".join(items)
    new_crls = hdr(0xA1, len(crls_body)) + crls_body
    sd_body = b""
    for c in children(buf, sd):
        sd_body += new_crls if c == f["crls"] else buf[c:end_of(buf, c)]
    sd_der = hdr(0x30, len(sd_body)) + sd_body
    wrap = hdr(0xA0, len(sd_der)) + sd_der
    ci = children(buf, 0)
    ci_body = buf[ci[0]:end_of(buf, ci[0])] + wrap
    return hdr(0x30, len(ci_body)) + ci_body


def main():
    cmd = sys.argv[1]
    buf = open(sys.argv[2], "rb").read()
    if cmd == "certs":
        _, f = fields(buf)
        for c in children(buf, f["certs"]):
            print(c, end_of(buf, c))
    elif cmd in ("ats", "sigts", "ocsp"):
        vals = ocsp_values(buf) if cmd == "ocsp" else \
            unsigned_values(buf, OID_ATS if cmd == "ats" else OID_SIGTS)
        for s, e in vals:
            print(s, e)
    elif cmd == "ats-input":
        token, data = ats_input(buf, int(sys.argv[3]), open(sys.argv[4], "rb").read())
        open(sys.argv[5], "wb").write(token)
        open(sys.argv[6], "wb").write(data)
    elif cmd == "ats-index":
        n = len(unsigned_values(buf, OID_ATS))
        token, data = ats_input(buf, n - 1, b"")
        want = ats_index_expected(buf)
        if not data.endswith(want):
            sys.exit("the newest archive time-stamp's ats-hash-index-v3 is not what 5.5.2 makes")
    elif cmd == "flip":
        off = int(sys.argv[4])
        b = bytearray(buf)
        b[off] ^= 0xFF
        open(sys.argv[3], "wb").write(bytes(b))
    elif cmd == "swap-ocsp":
        donor = open(sys.argv[3], "rb").read()
        drop = len(sys.argv) > 5 and sys.argv[5] == "drop-crls"
        open(sys.argv[4], "wb").write(swap_ocsp(buf, donor, drop))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
