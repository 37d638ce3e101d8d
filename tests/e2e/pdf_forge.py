#!/usr/bin/env python3
"""pdf_forge: writes incremental updates to a PDF the way an attacker (or a PDF library) would,
for the tests of `inkan verify`'s judgement of changes after signing. Standard library only;
signs with the openssl command line.

  pdf_forge.py update IN OUT [--obj N TEXT]... [--stream N DICT DATA]... [--zstream N DICT FILE]...
      [--raw TEXT]
      appends one revision replacing or adding objects (TEXT: the object's body; DICT: a stream
      dictionary without /Length; DATA: the stream's bytes) and, with --raw, some bytes inside
      the revision (a comment, say).
  pdf_forge.py sign IN OUT --cert C --key K [--subfilter NAME] [--docmdp P] [--cms FILE]
      [--sha1] [--doc-timestamp --tsa CONF] [--fieldmdp All|Include:F,..|Exclude:F,..] [--obj N TEXT]... [--stream N DICT DATA]...
      appends a revision with a signature field (invisible widget on page 1) and signs its byte
      range with `openssl cms`; --cms pastes a CMS made elsewhere instead; --sha1 writes
      adbe.pkcs7.sha1 (SHA-1 of the range as the CMS content); --docmdp makes it a
      certification signature (catalog /Perms /DocMDP, /Reference with /P); --doc-timestamp
      writes a document time-stamp made by `openssl ts -reply -config CONF`; --obj and --stream
      change other objects in the same revision.
  pdf_forge.py show IN N
      prints object N's body as qpdf reads it (for building --obj texts).
  pdf_forge.py bomb IN OUT [--hide]
      appends a revision whose cross-reference stream inflates to 64 MiB (a flate bomb); with
      --hide, a key ending in "obj" and a string holding an object header stand between its
      /Type and its data (a look for the nearest "obj" would find no /XRef).
"""
import hashlib
import re
import subprocess
import sys
import tempfile
import zlib

CONTENTS_HEX = 16384  # hex digits reserved for /Contents


def qpdf_obj(path, n):
    return subprocess.run(["qpdf", "--show-object=%s" % n, path], check=True, capture_output=True).stdout.decode("latin-1").strip()


def trailer_info(data, path):
    m = list(re.finditer(rb"startxref\s+(\d+)", data))
    if not m:
        sys.exit("no startxref")
    prev = int(m[-1].group(1))
    tr = qpdf_obj(path, "trailer")
    size = int(re.search(r"/Size (\d+)", tr).group(1))
    root = re.search(r"/Root (\d+ \d+ R)", tr).group(1)
    return prev, size, root


def append_revision(data, path, objs, raw=b""):
    """objs: {num: body-bytes}; returns the new file's bytes."""
    prev, size, root = trailer_info(data, path)
    out = bytearray(data)
    if not out.endswith(b"\n"):
        out += b"\n"
    out += raw
    offs = {}
    for n in sorted(objs):
        offs[n] = len(out)
        out += b"%d 0 obj\n" % n + objs[n] + b"\nendobj\n"
    x = len(out)
    out += b"xref\n"
    for n in sorted(objs):
        out += b"%d 1\n%010d 00000 n \n" % (n, offs[n])
    newsize = max([size] + [n + 1 for n in objs])
    out += b"trailer\n<< /Size %d /Root %s /Prev %d >>\nstartxref\n%d\n%%%%EOF\n" % (newsize, root.encode(), prev, x)
    return bytes(out)


def stream(d, content):
    return b"<< " + d + b" /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def obj_option(a, i, objs):
    """Takes --obj N TEXT or --stream N DICT DATA at a[i] into objs; returns the next index, or
    None when a[i] is another option."""
    if a[i] == "--obj":
        objs[int(a[i + 1])] = a[i + 2].encode("latin-1")
        return i + 3
    if a[i] == "--stream":
        objs[int(a[i + 1])] = stream(a[i + 2].encode("latin-1"), a[i + 3].encode("latin-1"))
        return i + 4
    if a[i] == "--zstream":  # N DICT FILE: the file's bytes, FlateDecode
        objs[int(a[i + 1])] = stream(a[i + 2].encode("latin-1") + b" /Filter /FlateDecode",
                                     zlib.compress(open(a[i + 3], "rb").read()))
        return i + 4
    return None


def cmd_update(a):
    path, outp = a[0], a[1]
    data = open(path, "rb").read()
    objs, raw, i = {}, b"", 2
    while i < len(a):
        if (j := obj_option(a, i, objs)) is not None:
            i = j
        elif a[i] == "--raw":
            raw += a[i + 1].encode("latin-1")
            i += 2
        else:
            sys.exit("unknown option " + a[i])
    open(outp, "wb").write(append_revision(data, path, objs, raw))


def dict_add(body, extra):
    """Adds keys to the dictionary text body (qpdf's form '<< ... >>')."""
    body = body.strip()
    assert body.startswith("<<") and body.endswith(">>"), body
    return body[:-2] + " " + extra + " >>"


def first_page(path):
    root = qpdf_obj(path, "trailer")
    rootn = re.search(r"/Root (\d+) \d+ R", root).group(1)
    cat = qpdf_obj(path, rootn)
    pages = re.search(r"/Pages (\d+) \d+ R", cat).group(1)
    kids = re.search(r"/Kids \[ *(\d+) \d+ R", qpdf_obj(path, pages)).group(1)
    return int(rootn), cat, int(kids)


def cmd_sign(a):
    path, outp = a[0], a[1]
    opts = {"--subfilter": "ETSI.CAdES.detached", "--docmdp": None, "--cms": None, "--cert": None, "--key": None, "--tsa": None,
            "--fieldmdp": None}
    flags = set()
    extra = {}
    i = 2
    while i < len(a):
        if a[i] in ("--sha1", "--doc-timestamp"):
            flags.add(a[i])
            i += 1
        elif (j := obj_option(a, i, extra)) is not None:
            i = j
        else:
            opts[a[i]] = a[i + 1]
            i += 2
    data = open(path, "rb").read()
    prev, size, root = trailer_info(data, path)
    rootn, cat, page = first_page(path)
    sub = "adbe.pkcs7.sha1" if "--sha1" in flags else "ETSI.RFC3161" if "--doc-timestamp" in flags else opts["--subfilter"]
    sig_n, field_n = size, size + 1
    ref = b""
    objs = {}
    cat_extra = "/AcroForm << /Fields [ %d 0 R ] /SigFlags 3 >>" % field_n
    m = re.search(r"/AcroForm (\d+) 0 R", cat)
    if m:  # an indirect AcroForm gets the field; the catalog stays as it is
        acro = int(m.group(1))
        objs[acro] = re.sub(r"/Fields \[", "/Fields [ %d 0 R" % field_n, qpdf_obj(path, acro), count=1).encode()
        cat_extra = ""
    elif "/AcroForm" in cat:
        cat = re.sub(r"/Fields \[", "/Fields [ %d 0 R" % field_n, cat, count=1)
        cat_extra = ""
    if opts["--docmdp"]:
        ref = b" /Reference [ << /Type /SigRef /TransformMethod /DocMDP /TransformParams << /Type /TransformParams /P %d /V /1.2 >> >> ]" % int(opts["--docmdp"])
        cat_extra += " /Perms << /DocMDP %d 0 R >>" % sig_n
    if opts["--fieldmdp"]:  # ACTION[:NAME,NAME...]
        action, _, names = opts["--fieldmdp"].partition(":")
        flds = b" /Fields [ " + b" ".join(b"(" + n.encode() + b")" for n in names.split(",") if n) + b" ]" if names else b""
        ref += (b" /Reference [ << /Type /SigRef /TransformMethod /FieldMDP /TransformParams << /Type /TransformParams /Action /" +
                action.encode() + flds + b" /V /1.2 >> >> ]")
    if "--doc-timestamp" in flags and not opts["--tsa"]:
        sys.exit("sign: --doc-timestamp needs --tsa CONF")
    typ = b"/DocTimeStamp" if "--doc-timestamp" in flags else b"/Sig"
    sig = (b"<< /Type " + typ + b" /Filter /Adobe.PPKLite /SubFilter /" + sub.encode() +
           b" /ByteRange [0000000000 0000000000 0000000000 0000000000]" + ref +
           b" /Contents <" + b"0" * CONTENTS_HEX + b"> >>")
    pg = qpdf_obj(path, page)
    if "/Annots" in pg:
        pg = re.sub(r"/Annots \[", "/Annots [ %d 0 R" % field_n, pg)
    else:
        pg = dict_add(pg, "/Annots [ %d 0 R ]" % field_n)
    field = "<< /Type /Annot /Subtype /Widget /FT /Sig /T (Sig%d) /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>" % (sig_n, sig_n, page)
    objs.update({sig_n: sig, field_n: field.encode(), page: pg.encode(), rootn: (dict_add(cat, cat_extra) if cat_extra else cat).encode()})
    objs.update(extra)
    out = bytearray(append_revision(data, path, objs))
    cpos = out.index(b"/Contents <" + b"0" * CONTENTS_HEX) + len(b"/Contents ")
    cend = cpos + CONTENTS_HEX + 2
    br = b"[%010d %010d %010d %010d]" % (0, cpos, cend, len(out) - cend)
    bpos = out.index(b"[0000000000 0000000000 0000000000 0000000000]")
    out[bpos:bpos + len(br)] = br
    signed = bytes(out[:cpos] + out[cend:])
    with tempfile.TemporaryDirectory() as t:
        if opts["--cms"]:
            der = open(opts["--cms"], "rb").read()
        elif opts["--tsa"]:
            open(t + "/in", "wb").write(signed)
            subprocess.run(["openssl", "ts", "-query", "-data", t + "/in", "-sha256", "-cert", "-out", t + "/q"], check=True, capture_output=True)
            subprocess.run(["openssl", "ts", "-reply", "-config", opts["--tsa"], "-queryfile", t + "/q", "-token_out", "-out", t + "/sig"], check=True, capture_output=True)
            der = open(t + "/sig", "rb").read()
        else:
            open(t + "/in", "wb").write(hashlib.sha1(signed).digest() if "--sha1" in flags else signed)
            args = ["openssl", "cms", "-sign", "-binary", "-in", t + "/in", "-signer", opts["--cert"],
                    "-inkey", opts["--key"], "-outform", "DER", "-out", t + "/sig", "-md", "sha256"]
            if "--sha1" in flags:
                args.append("-nodetach")
            subprocess.run(args, check=True)
            der = open(t + "/sig", "rb").read()
    h = der.hex().encode()
    if len(h) > CONTENTS_HEX:
        sys.exit("signature too large")
    out[cpos + 1:cpos + 1 + len(h)] = h
    open(outp, "wb").write(bytes(out))


def cmd_bomb(a):
    data = open(a[0], "rb").read()
    prev = int(re.findall(rb"startxref\s+(\d+)", data)[-1])
    tr = qpdf_obj(a[0], "trailer")
    size = int(re.search(r"/Size (\d+)", tr).group(1))
    root = re.search(r"/Root (\d+ \d+ R)", tr).group(1).encode()
    c = zlib.compressobj(9)
    z = b"".join(c.compress(b"\0" * (1 << 20)) for _ in range(64)) + c.flush()
    hide = b"/Xobj (1 0 obj) " if "--hide" in a[2:] else b""
    out = bytearray(data)
    x = len(out)
    out += (b"%d 0 obj\n<< /Type /XRef /Size %d /Root %s /Prev %d /W [1 4 2] /Index [%d 1] "
            b"/Filter /FlateDecode %s/Length %d >>\nstream\n"
            % (size, size + 1, root, prev, size, hide, len(z)) + z + b"\nendstream\nendobj\n")
    out += b"startxref\n%d\n%%%%EOF\n" % x
    open(a[1], "wb").write(bytes(out))


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    c, a = sys.argv[1], sys.argv[2:]
    if c == "update":
        cmd_update(a)
    elif c == "sign":
        cmd_sign(a)
    elif c == "show":
        print(qpdf_obj(a[0], a[1]))
    elif c == "bomb":
        cmd_bomb(a)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
