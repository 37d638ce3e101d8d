#!/usr/bin/python3
"""oauth_service: the service scope (CSC API v2 section 8) for t_oauth_service.sh. A client asks
scope=service; headless Chromium plays the signer on the consent page (what the client may and
may not do; user name, password and one OTP); the client redeems the code for an access token
and a refresh token, lists and reads credentials with it, and is refused everywhere else
(signHash, credentials/authorize). Refresh tokens rotate; a reused one, one sent by another
client, or a replayed code ends the grant; a revoked access token ends alone.

Usage: oauth_service.py CONFIG.json. Prints "ok ..." lines; exits 1 with "FAIL ..." at the
first failure. Writes every token it saw to CONFIG's secrets file (none may reach a database)
and a live grant's tokens to live.json for the shell's restart check."""

import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oauth_common import fail, ok, b64u, chromium, otp_next as otp_of  # noqa: E402

CFG = json.load(open(sys.argv[1]))
T, URL, CB = CFG["tmp"], CFG["url"], CFG["redirect_uri"]
CTX = ssl.create_default_context(cafile=CFG["cacert"])
A, B = CFG["a"], CFG["b"]           # {"id", "secret"}: two confidential clients


def secret(v):
    with open(CFG["secrets"], "a") as f:
        f.write(v + "\n")
    return v


def otp_next(user):
    return otp_of(T, user)


RECEIVED = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path != "/cb":            # the browser's own asks (a favicon) are no answer
            self.send_response(404)
            self.end_headers()
            return
        RECEIVED.append(dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True)))
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!DOCTYPE html><title>client</title><p id='back'>back</p>")

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", CFG["cb_port"]), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def call(path, form=None, token=None, json_body=None, client=None):
    h = {}
    if token:
        h["Authorization"] = "Bearer " + token
    if client:
        h["Authorization"] = "Basic " + base64.b64encode(
            f"{client['id']}:{client['secret']}".encode()).decode()
    if json_body is not None:
        data, h["Content-Type"] = json.dumps(json_body).encode(), "application/json"
    else:
        data = urllib.parse.urlencode(form or {}).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(URL + path, data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=60) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


drv = chromium(T, 1000)
wait = WebDriverWait(drv, 30)
USER, PW, CRED = CFG["user"], CFG["password"], CFG["cred"]


def wait_for(elem_id):
    try:
        wait.until(lambda d: d.find_elements(By.ID, elem_id))
    except Exception:
        fail(f"no #{elem_id} on {drv.current_url[:120]}: " +
             drv.execute_script("return document.body ? document.body.innerText : ''")[:400])


class Grant:
    """One service-scope authorization of client A, consented in the browser."""

    def __init__(self, lang=None, shot=None, otp=None):
        self.verifier = b64u(secrets.token_bytes(48))
        q = {"response_type": "code", "client_id": A["id"], "redirect_uri": CB, "scope": "service",
             "state": b64u(secrets.token_bytes(9)),
             "code_challenge": b64u(hashlib.sha256(self.verifier.encode()).digest()),
             "code_challenge_method": "S256"}
        if lang:
            q["lang"] = lang
        self.state = q["state"]
        drv.get(URL + "/oauth2/authorize?" + urllib.parse.urlencode(q))
        wait_for("scope")
        items = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "#scope li")]
        if len(items) != 2 or drv.find_elements(By.ID, "pin") or drv.find_elements(By.ID, "hashes"):
            fail(f"the service consent page lists {items}, or asks a PIN or shows hashes")
        if len(drv.find_elements(By.CSS_SELECTOR, "input[autocomplete=one-time-code]")) != 1:
            fail("the service consent page does not ask exactly one OTP")
        if CFG["client_name"] not in drv.find_element(By.ID, "client").text or \
                not drv.find_element(By.ID, "cannot").text:
            fail("the service consent page lacks the client's name or what it cannot do")
        if shot:
            time.sleep(0.5)
            drv.save_screenshot(os.path.join(CFG["artefacts"], shot))
        drv.find_element(By.ID, "username").send_keys(USER)
        drv.find_element(By.ID, "password").send_keys(PW)
        drv.find_element(By.ID, "otp").send_keys(otp or otp_next(USER))
        drv.find_element(By.ID, "allow").click()

    def code(self):
        wait.until(lambda d: d.current_url.startswith(CB))
        wait.until(lambda d: RECEIVED)
        got = RECEIVED.pop(0)
        if got.get("state") != self.state or "code" not in got:
            fail(f"service consent: redirect without code or with another state: {got}")
        self.c = secret(got["code"])
        return self

    def exchange(self):
        st, r = call("/oauth2/token", {"grant_type": "authorization_code", "code": self.c,
                                       "redirect_uri": CB, "code_verifier": self.verifier},
                     client=A)
        if st != 200 or r.get("scope") != "service" or r.get("token_type") != "Bearer" or \
                not r.get("refresh_token") or not 0 < r.get("expires_in", 0) <= 600:
            fail(f"service token: {st} {r}")
        self.access, self.refresh = secret(r["access_token"]), secret(r["refresh_token"])
        return self


def refresh(tok, client=A):
    st, r = call("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": tok},
                 client=client)
    if st == 200:
        secret(r["access_token"])
        secret(r["refresh_token"])
    return st, r


def lists(token):
    return call("/csc/v2/credentials/list", token=token, json_body={})[0]


# 0. a wrong OTP on the service consent: the form again, no code
Grant(otp="000000")
wait_for("message")
if RECEIVED or not drv.find_elements(By.ID, "otp"):
    fail("a wrong OTP on the service consent page was not answered by the form again")
ok("a wrong OTP on the service consent page: the form again, no code")

# 1. the whole flow; what the token allows and what it does not
g1 = Grant(shot="oauth-service-en.png").code().exchange()
ok("the service consent page lists what the client may do and may not (no PIN, no hash), asks one OTP; the code gives an access and a refresh token")
st, r = call("/csc/v2/credentials/list", token=g1.access, json_body={})
if st != 200 or CRED not in r.get("credentialIDs", []) or CFG["other_cred"] in r.get("credentialIDs", []):
    fail(f"credentials/list with the service token: {st} {r}")
st, r = call("/csc/v1/credentials/list", token=g1.access, json_body={})
if st != 200:
    fail(f"credentials/list v1 with the service token: {st} {r}")
st, r = call("/csc/v2/credentials/info", token=g1.access, json_body={"credentialID": CRED, "certificates": "single"})
if st != 200 or not r.get("cert", {}).get("certificates"):
    fail(f"credentials/info with the service token: {st} {r}")
st, r = call("/csc/v2/credentials/info", token=g1.access, json_body={"credentialID": CFG["other_cred"]})
if st == 200:
    fail("credentials/info with the service token showed another signer's credential")
ok("the service token lists the signer's credentials (v2 and v1) and reads their info, not another signer's")
h = base64.b64encode(hashlib.sha256(b"never signed").digest()).decode()
for path, body in (("/csc/v2/signatures/signHash", {"credentialID": CRED, "SAD": "x" * 43, "hashes": [h],
                                                     "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                                                     "signAlgo": "1.2.840.10045.4.3.2"}),
                   ("/csc/v1/signatures/signHash", {"credentialID": CRED, "SAD": "x" * 43, "hash": [h],
                                                     "hashAlgo": "2.16.840.1.101.3.4.2.1",
                                                     "signAlgo": "1.2.840.10045.4.3.2"}),
                   ("/csc/v2/credentials/authorize", {"credentialID": CRED, "numSignatures": 1,
                                                      "hashes": [h], "PIN": CFG["pin"], "OTP": "123456"}),
                   ("/csc/v2/signatures/timestamp", {"hash": h, "hashAlgo": "2.16.840.1.101.3.4.2.1"}),
                   ("/csc/v2/auth/revoke", {})):
    st, r = call(path, token=g1.access, json_body=body)
    if st != 401:
        fail(f"{path} with the service token: {st} {r}")
st, r = call("/csc/v2/signatures/signHash", token=CFG["session"], json_body={
    "credentialID": CRED, "SAD": g1.access, "hashes": [h], "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
    "signAlgo": "1.2.840.10045.4.3.2"})
if st == 200:
    fail("the service token signed as a SAD")
ok("the service token is refused by signHash (v2, v1), credentials/authorize, timestamp and auth/revoke, and is no SAD")

# 2. rotation, an access token revoked alone, a refresh token sent by another client
st, r = call("/oauth2/revoke", {"token": g1.access}, client=A)
if st != 200 or lists(g1.access) != 401:
    fail(f"a revoked service access token still lists: {st}")
st, r = refresh(g1.refresh)
if st != 200 or r.get("scope") != "service" or r["refresh_token"] == g1.refresh or lists(r["access_token"]) != 200:
    fail(f"refresh: {st} {r}")
a1, r1 = r["access_token"], r["refresh_token"]
ok("a revoked access token ends alone; the refresh token rotates (a new pair that lists)")
st, r = refresh(r1, client=B)
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"client B refreshed client A's grant: {st} {r}")
st, r = refresh(r1)
if st != 400 or lists(a1) != 401:
    fail(f"client A's grant lives on after B presented its refresh token: {st} {r}")
ok("a refresh token presented by another client is refused and ends its grant")

# 3. reuse of a rotated refresh token ends the family (RFC 9700 4.14.2)
g2 = Grant().code().exchange()
st, r = refresh(g2.refresh)
if st != 200:
    fail(f"refresh of the second grant: {st} {r}")
a2, r2 = r["access_token"], r["refresh_token"]
st, r = refresh(g2.refresh)
if st != 400 or r.get("error") != "invalid_grant" or "reused" not in r.get("error_description", ""):
    fail(f"a rotated refresh token used again: {st} {r}")
st, r = refresh(r2)
if st != 400 or lists(a2) != 401 or lists(g2.access) != 401:
    fail(f"the family lives on after its refresh token was reused: {st} {r}")
ok("a rotated refresh token used again is refused and revokes its whole family (the newest refresh and access tokens too)")

# 4. a replayed service code ends the grant issued from it
g3 = Grant(lang="ja", shot="oauth-service-ja.png").code().exchange()
st, r = call("/oauth2/token", {"grant_type": "authorization_code", "code": g3.c, "redirect_uri": CB,
                               "code_verifier": g3.verifier}, client=A)
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"a service code redeemed twice: {st} {r}")
if lists(g3.access) != 401 or refresh(g3.refresh)[0] != 400:
    fail("the grant of a replayed code lives on")
ok("a service code redeemed twice is refused and ends the grant issued from it")

# 5. two live grants for the shell (restart, revocation of a refresh token; a locked account)
g4 = Grant().code().exchange()
g5 = Grant().code().exchange()
json.dump({"access": g4.access, "refresh": g4.refresh, "access2": g5.access,
           "refresh2": g5.refresh}, open(f"{T}/live.json", "w"))
drv.quit()
srv.shutdown()
ok("service flows done")
