#!/usr/bin/python3
"""xades_tool: the test's own reading of ETSI EN 319 132-1 on a XAdES file, with lxml (libxml2
through Python, none of inkan's C) — to check what inkan writes by other means.

  ats-input FILE K [DOCUMENT] TOKEN INPUT  the K-th (0: oldest) ArchiveTimeStamp's token (DER)
                                           into TOKEN and the octets its imprint covers (clause
                                           5.5.2.2) into INPUT
  signed FILE                              SHA-256 of the exclusive canonical SignedInfo and
                                           SignedProperties (what must not change)
  siginfo FILE SI SIG CERT                 the exclusive canonical SignedInfo, the signature value
                                           and KeyInfo's first certificate (DER) into files
  count FILE NAME                          how many unsigned signature properties NAME there are
  values FILE KIND [N]                     the base64 values of KIND (cert, ocsp, crl), one a line
                                           (only the N-th: 0 the first)
  replace FILE OUT OLD NEW                 OUT is FILE with the last OLD replaced by NEW
  swap-ats FILE FROM OUT                   OUT is FILE with its first ArchiveTimeStamp token
                                           replaced by FROM's first
"""
import base64
import copy
import sys

from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
X141 = "http://uri.etsi.org/01903/v1.4.1#"
ENVELOPED = DS + "enveloped-signature"
EXC = "http://www.w3.org/2001/10/xml-exc-c14n#"


def q(ns, name):
    return "{%s}%s" % (ns, name)


def parse(path):
    return etree.parse(path, etree.XMLParser(resolve_entities=False, no_network=True))


def signature(tree):
    for sig in tree.iter(q(DS, "Signature")):
        if sig.find(".//" + q(XADES, "QualifyingProperties")) is not None:
            return sig
    sys.exit("no XAdES signature")


def usp(sig):
    return sig.find(".//" + q(XADES, "UnsignedSignatureProperties"))


def c14n(el, exclusive=True):
    return etree.tostring(el, method="c14n", exclusive=exclusive, with_comments=False)


def without(tree, sig):
    """The document less the signature element (the enveloped-signature transform): a copy."""
    t = copy.deepcopy(tree)
    s = list(t.iter())[list(tree.iter()).index(sig)]
    parent, prev = s.getparent(), s.getprevious()
    if s.tail:
        if prev is not None:
            prev.tail = (prev.tail or "") + s.tail
        else:
            parent.text = (parent.text or "") + s.tail
    parent.remove(s)
    return t


def ats_input(tree, sig, ats, document):
    out = b""
    for ref in sig.find(q(DS, "SignedInfo")).findall(q(DS, "Reference")):
        uri = ref.get("URI")
        algs = [t.get("Algorithm") for t in ref.findall(q(DS, "Transforms") + "/" + q(DS, "Transform"))]
        assert all(a in (ENVELOPED, EXC) for a in algs), algs
        if uri == "":
            t = without(tree, sig) if ENVELOPED in algs else tree
            out += etree.tostring(t, method="c14n", exclusive=True, with_comments=False)
        elif uri.startswith("#"):
            (el,) = tree.xpath("//*[@Id=$v]", v=uri[1:])
            out += c14n(el)
        else:
            out += open(document, "rb").read()
    for name in ("SignedInfo", "SignatureValue", "KeyInfo"):
        el = sig.find(q(DS, name))
        if el is not None:
            out += c14n(el)
    for p in usp(sig):
        if p is ats:
            break
        if isinstance(p.tag, str):
            out += c14n(p)
    for obj in sig.findall(q(DS, "Object")):
        if obj.find(q(XADES, "QualifyingProperties")) is None:
            out += c14n(obj)
    return out


def main():
    cmd = sys.argv[1]
    if cmd == "ats-input":
        args = sys.argv[2:]
        path, k = args[0], int(args[1])
        document = args[2] if len(args) == 5 else None
        token, inp = args[-2], args[-1]
        tree = parse(path)
        sig = signature(tree)
        stamps = usp(sig).findall(q(X141, "ArchiveTimeStamp"))
        ats = stamps[k]
        assert ats.find(q(DS, "CanonicalizationMethod")).get("Algorithm") == EXC
        tok = ats.find(q(XADES, "EncapsulatedTimeStamp")).text
        open(token, "wb").write(base64.b64decode("".join(tok.split())))
        open(inp, "wb").write(ats_input(tree, sig, ats, document))
    elif cmd == "signed":
        import hashlib
        sig = signature(parse(sys.argv[2]))
        for el in (sig.find(q(DS, "SignedInfo")), sig.find(".//" + q(XADES, "SignedProperties"))):
            print(hashlib.sha256(c14n(el)).hexdigest())
    elif cmd == "siginfo":
        sig = signature(parse(sys.argv[2]))
        assert sig.find(q(DS, "SignedInfo") + "/" + q(DS, "CanonicalizationMethod")).get("Algorithm") == EXC
        open(sys.argv[3], "wb").write(c14n(sig.find(q(DS, "SignedInfo"))))
        open(sys.argv[4], "wb").write(base64.b64decode("".join(sig.find(q(DS, "SignatureValue")).text.split())))
        cert = sig.find(".//" + q(DS, "X509Certificate")).text
        open(sys.argv[5], "wb").write(base64.b64decode("".join(cert.split())))
    elif cmd == "count":
        tree = parse(sys.argv[2])
        u = usp(signature(tree))
        print(0 if u is None else sum(1 for p in u if isinstance(p.tag, str) and
                                      etree.QName(p).localname == sys.argv[3]))
    elif cmd == "values":
        tag = {"cert": "EncapsulatedX509Certificate", "ocsp": "EncapsulatedOCSPValue",
               "crl": "EncapsulatedCRLValue"}[sys.argv[3]]
        vals = ["".join(el.text.split()) for el in parse(sys.argv[2]).iter(q(XADES, tag))]
        for v in vals if len(sys.argv) < 5 else vals[int(sys.argv[4]):int(sys.argv[4]) + 1]:
            print(v)
    elif cmd == "replace":
        data = open(sys.argv[2], "rb").read()
        old, new = sys.argv[4].encode(), sys.argv[5].encode()
        i = data.rfind(old)
        assert i >= 0, "text not found"
        open(sys.argv[3], "wb").write(data[:i] + new + data[i + len(old):])
    elif cmd == "swap-ats":
        tree, other = parse(sys.argv[2]), parse(sys.argv[3])
        mine = usp(signature(tree)).find(q(X141, "ArchiveTimeStamp")).find(q(XADES, "EncapsulatedTimeStamp"))
        theirs = usp(signature(other)).find(q(X141, "ArchiveTimeStamp")).find(q(XADES, "EncapsulatedTimeStamp"))
        mine.text = theirs.text
        tree.write(sys.argv[4], xml_declaration=True, encoding="UTF-8")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
