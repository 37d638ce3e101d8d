#!/usr/bin/env python3
"""cms_add_crl: puts CRLs into the `crls` field of a DER CMS SignedData (RFC 5652 5.1,
RevocationInfoChoices [1] IMPLICIT), as a signer or anyone after them may: the field is not
signed. Plays the relying party's adversary who carries an old CRL in the signature
(t_revoc). Definite-length DER only; shares no code with inkan.

usage: cms_add_crl.py IN.p7s OUT.p7s CRL.der..."""
import sys


def tlv(b, i):
    """(tag, header length, content length) of the element at b[i]."""
    tag, n = b[i], b[i + 1]
    if n < 0x80:
        return tag, 2, n
    k = n & 0x7F
    return tag, 2 + k, int.from_bytes(b[i + 2:i + 2 + k], "big")


def enc(tag, content):
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(ln)]) + ln + content


def children(b):
    out, i = [], 0
    while i < len(b):
        tag, h, n = tlv(b, i)
        out.append((tag, b[i:i + h + n], b[i + h:i + h + n]))
        i += h + n
    return out


def main():
    der = open(sys.argv[1], "rb").read()
    crls = b"".join(open(f, "rb").read() for f in sys.argv[3:])
    tag, h, n = tlv(der, 0)
    ci = children(der[h:h + n])                    # contentType, [0] content
    _, h0, n0 = tlv(ci[1][1], 0)
    sd_tlv = ci[1][1][h0:h0 + n0]
    _, hs, ns = tlv(sd_tlv, 0)
    fields = children(sd_tlv[hs:hs + ns])
    out = []
    for k, (t, whole, content) in enumerate(fields):
        if t == 0xA1:                              # crls already there: add to them
            out.append(enc(0xA1, content + crls))
            crls = b""
        elif k == len(fields) - 1 and crls:        # signerInfos: the crls field goes before it
            out.append(enc(0xA1, crls))
            out.append(whole)
            crls = b""
        else:
            out.append(whole)
    sd = enc(0x30, b"".join(out))
    open(sys.argv[2], "wb").write(enc(0x30, ci[0][1] + enc(0xA0, sd)))


if __name__ == "__main__":
    main()
