#!/usr/bin/python3
"""oauth_restart: one OAuth flow in steps, each step run by a new process against whatever
inkand is listening now (t_oauth_restart.sh restarts it between the steps): the pushed request,
the consent page, the consent and the code all live in the store, not in one inkand's memory.
Prints "ok ..." lines; exits 1 with "FAIL ..." when a step fails.

Usage: oauth_restart.py CONFIG.json STEP [NAME]  (STEP: push, page, consent, token, replay,
sign; NAME: the flow, kept in $tmp/flow-NAME.json between steps)."""

import base64
import hashlib
import json
import os
import re
import secrets
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oauth_common import fail, ok, b64u, otp_next  # noqa: E402

CFG = json.load(open(sys.argv[1]))
STEP = sys.argv[2]
NAME = sys.argv[3] if len(sys.argv) > 3 else "a"
T, URL, C = CFG["tmp"], CFG["url"], CFG["client"]
STATE = f"{T}/flow-{NAME}.json"
SHA256 = "2.16.840.1.101.3.4.2.1"
ECDSA_SHA256 = "1.2.840.10045.4.3.2"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


OPENER = urllib.request.build_opener(
    urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=CFG["cacert"])),
    NoRedirect())


def secret(v):
    """The shell checks that no log or database holds one of these."""
    with open(f"{T}/oauth.secrets", "a") as f:
        f.write(v + "\n")
    return v


def http(method, path, form=None, body=None, headers=None):
    h = dict(headers or {})
    data = None
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    req = urllib.request.Request(URL + path, data=data, headers=h, method=method)
    try:
        with OPENER.open(req, timeout=60) as r:
            return r.status, r.headers, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode(errors="replace")


def basic():
    return {"Authorization": "Basic " + base64.b64encode(f"{C['id']}:{C['secret']}".encode()).decode()}


def load():
    return json.load(open(STATE))


def save(st):
    with open(STATE, "w") as f:
        json.dump(st, f)
    os.chmod(STATE, 0o600)


def cookie_header(st):
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in st["cookies"].items())}


if STEP == "push":
    # the client pushes the request (RFC 9126): hashes never in a URL
    hashes = [hashlib.sha256(f"document {NAME} {i}".encode()).digest() for i in range(2)]
    verifier = secret(b64u(secrets.token_bytes(48)))
    st = {"verifier": verifier, "state": b64u(secrets.token_bytes(12)),
          "hashes": [base64.b64encode(h).decode() for h in hashes], "cookies": {}}
    code, _, text = http("POST", "/oauth2/pushed_authorize", headers=basic(), form={
        "response_type": "code", "client_id": C["id"], "redirect_uri": C["cb"],
        "scope": "credential", "credentialID": CFG["cred"], "numSignatures": "2",
        "hashes": ",".join(b64u(h) for h in hashes), "hashAlgorithmOID": SHA256,
        "state": st["state"], "code_challenge_method": "S256",
        "code_challenge": b64u(hashlib.sha256(verifier.encode()).digest())})
    if code != 201:
        fail(f"pushed_authorize: {code} {text[:300]}")
    st["request_uri"] = secret(json.loads(text)["request_uri"])
    save(st)
    ok(f"flow {NAME}: request pushed")
elif STEP == "page":
    st = load()
    code, hdrs, text = http("GET", "/oauth2/authorize?" + urllib.parse.urlencode(
        {"client_id": C["id"], "request_uri": st["request_uri"]}))
    if code != 200 or 'id="hashes"' not in text:
        fail(f"flow {NAME}: the pushed request was not found by this inkand: {code} {text[:300]}")
    # the page shows the hashes that were pushed (hex groups)
    for h in st["hashes"]:
        hx = base64.b64decode(h).hex()
        if hx[:8] not in text.replace(" ", "").lower():
            fail(f"flow {NAME}: the page does not show hash {hx}")
    for sc in hdrs.get_all("Set-Cookie") or []:
        k, _, v = sc.split(";")[0].partition("=")
        st["cookies"][k.strip()] = secret(v.strip())
    m = re.search(r'name="csrf_token" value="([A-Za-z0-9_-]{43})"', text)
    if m is None:
        fail(f"flow {NAME}: no CSRF token on the page")
    st["csrf"] = secret(m.group(1))
    save(st)
    ok(f"flow {NAME}: the consent page of the pushed request, with its hashes")
elif STEP == "consent":
    st = load()
    code, hdrs, text = http("POST", "/oauth2/authorize", headers=cookie_header(st), form={
        "csrf_token": st["csrf"], "step": "consent", "action": "allow", "username": CFG["user"],
        "password": CFG["password"], "pin": CFG["pin"], "otp": otp_next(T, CFG["user"])})
    loc = hdrs.get("Location", "")
    if code != 303 or not loc.startswith(C["cb"] + "?"):
        fail(f"flow {NAME}: consent on this inkand: {code} {loc} {text[:300]}")
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
    if q.get("state") != st["state"] or not q.get("code"):
        fail(f"flow {NAME}: the redirect carries no code or another state: {loc}")
    st["code"] = secret(q["code"])
    save(st)
    ok(f"flow {NAME}: consent (page session and CSRF token found by this inkand), code issued")
elif STEP in ("token", "replay"):
    st = load()
    code, _, text = http("POST", "/oauth2/token", headers=basic(), form={
        "grant_type": "authorization_code", "code": st["code"], "redirect_uri": C["cb"],
        "code_verifier": st["verifier"]})
    if STEP == "replay":
        if code != 400 or json.loads(text).get("error") != "invalid_grant":
            fail(f"flow {NAME}: a replayed code on this inkand: {code} {text[:300]}")
        ok(f"flow {NAME}: the code replayed to this inkand: invalid_grant")
        sys.exit(0)
    if code != 200:
        fail(f"flow {NAME}: the code on this inkand: {code} {text[:300]}")
    st["token"] = secret(json.loads(text)["access_token"])
    save(st)
    ok(f"flow {NAME}: the code redeemed on this inkand")
elif STEP == "sign":
    st = load()
    code, _, text = http("POST", "/csc/v2/signatures/signHash",
                         headers={"Authorization": "Bearer " + st["token"]},
                         body={"credentialID": CFG["cred"], "signAlgo": ECDSA_SHA256,
                               "hashAlgorithmOID": SHA256, "hashes": st["hashes"]})
    if code != 200:
        fail(f"flow {NAME}: signHash with the token: {code} {text[:300]}")
    sigs = json.loads(text)["signatures"]
    if len(sigs) != len(st["hashes"]):
        fail(f"flow {NAME}: {len(sigs)} signatures for {len(st['hashes'])} hashes")
    for i, (h, sig) in enumerate(zip(st["hashes"], sigs)):
        with open(f"{T}/dg-{NAME}-{i}.bin", "wb") as f:
            f.write(base64.b64decode(h))
        with open(f"{T}/sig-{NAME}-{i}.bin", "wb") as f:
            f.write(base64.b64decode(sig))
    ok(f"flow {NAME}: signHash with the token: {len(sigs)} signatures")
else:
    fail("unknown step " + STEP)
