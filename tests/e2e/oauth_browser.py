#!/usr/bin/python3
"""oauth_browser: plays a CSC OAuth client and drives headless Chromium as the signer, for
t_oauth.sh. The client starts credential-scope authorizations (PKCE S256) with its own hashes,
the browser reads the consent page and enters user name, password, PIN and ONE one-time
password in its one form (no session is kept: every consent asks all four), the client takes
the code on a loopback listener, redeems it and signs with the token. Every refusal the brief lists is played here;
the shell checks the audit trail afterwards.

Usage: oauth_browser.py CONFIG.json  (written by t_oauth.sh). Prints "ok ..." lines; exits 1
with "FAIL ..." on the first failure."""

import base64
import hashlib
import http.server
import json
import os
import secrets
import ssl
import subprocess
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
T = CFG["tmp"]
URL = CFG["url"]
CTX = ssl.create_default_context(cafile=CFG["cacert"])
CB = CFG["redirect_uri"]          # http://127.0.0.1:PORT/cb, registered
CB2 = CFG["redirect_uri2"]        # another registered one
ART = CFG["artefacts"]


# ---- TOTP, sharing lib.sh's record of used steps ($T/otp/USER) ----

def otp_next(user):
    return otp_of(T, user)


# ---- the client's side: a loopback listener for the redirect, and an embedding page ----

RECEIVED = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path in ("/cb", "/cb2"):
            RECEIVED.append(dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True)))
            body = b"<!DOCTYPE html><title>client</title><p id='back'>back at the client</p>"
        elif u.path == "/frame":
            src = urllib.parse.parse_qs(u.query)["src"][0]
            body = ("<!DOCTYPE html><title>embedder</title><iframe id='f' width='800' height='600' src='"
                    + src.replace("'", "%27") + "'></iframe>").encode()
        else:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.ThreadingHTTPServer(("127.0.0.1", CFG["cb_port"]), Handler)
threading.Thread(target=srv.serve_forever, daemon=True).start()


def post(path, form=None, headers=None, json_body=None):
    h = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        h["Content-Type"] = "application/json"
    else:
        data = urllib.parse.urlencode(form).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(URL + path, data=data, headers=h, method="POST")
    try:
        with urllib.request.urlopen(req, context=CTX, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def basic():
    return {"Authorization": "Basic " + base64.b64encode(
        f"{CFG['client_id']}:{CFG['client_secret']}".encode()).decode()}


class Flow:
    """One authorization request of the client."""

    def __init__(self, cred, hashes, redirect=CB, lang=None, state=None, labels=None):
        self.verifier = b64u(secrets.token_bytes(48))
        self.challenge = b64u(hashlib.sha256(self.verifier.encode()).digest())
        self.state = state or b64u(secrets.token_bytes(12))
        self.hashes = hashes
        self.redirect = redirect
        q = {"response_type": "code", "client_id": CFG["client_id"], "redirect_uri": redirect,
             "scope": "credential", "credentialID": cred, "numSignatures": str(len(hashes)),
             "hashes": ",".join(b64u(h) for h in hashes),
             "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
             "description": CFG["description"], "state": self.state,
             "code_challenge": self.challenge, "code_challenge_method": "S256"}
        if labels:
            # RFC 9396, CSC type "credential": digests with a label each
            for k in ("scope", "credentialID", "numSignatures", "hashes", "hashAlgorithmOID"):
                del q[k]
            q["authorization_details"] = json.dumps([{
                "type": "credential", "credentialID": cred, "numSignatures": len(hashes),
                "hashAlgorithmOID": "2.16.840.1.101.3.4.2.1",
                "documentDigests": [{"hash": base64.b64encode(h).decode(), "label": l}
                                    for h, l in zip(hashes, labels)]}])
        self.labels = labels
        if lang:
            q["lang"] = lang
        self.params = q
        self.url = URL + "/oauth2/authorize?" + urllib.parse.urlencode(q)

    def push(self):
        """RFC 9126: the request goes in an authenticated POST; the URL carries a handle."""
        st, r = post("/oauth2/pushed_authorize", {k: v for k, v in self.params.items()
                                                   if k != "lang"}, basic())
        if st != 201 or not r.get("request_uri", "").startswith("urn:ietf:params:oauth:request_uri:"):
            fail(f"pushed_authorize: {st} {r}")
        self.url = URL + "/oauth2/authorize?" + urllib.parse.urlencode(
            {"client_id": CFG["client_id"], "request_uri": r["request_uri"]})
        return self.url

    def exchange(self, verifier=None, redirect=None, code=None):
        return post("/oauth2/token", {"grant_type": "authorization_code", "code": code or self.code,
                                      "redirect_uri": redirect or self.redirect,
                                      "code_verifier": verifier or self.verifier}, basic())


def sign(token, cred, hashes, v="v2"):
    body = {"credentialID": cred, "signAlgo": "1.2.840.10045.4.3.2",
            ("hashes" if v == "v2" else "hash"): [base64.b64encode(h).decode() for h in hashes]}
    if v == "v2":
        body["hashAlgorithmOID"] = "2.16.840.1.101.3.4.2.1"
    else:
        body["hashAlgo"] = "2.16.840.1.101.3.4.2.1"
    return post(f"/csc/{v}/signatures/signHash", headers={"Authorization": "Bearer " + token},
                json_body=body)


# ---- the browser ----

drv = chromium(T)
wait = WebDriverWait(drv, 30)


def wait_for(elem_id):
    try:
        wait.until(lambda d: d.find_elements(By.ID, elem_id))
    except Exception:
        fail(f"no #{elem_id} on {drv.current_url[:120]}: " +
             drv.execute_script("return document.body ? document.body.innerText : ''")[:400])


def text(css):
    return drv.find_element(By.CSS_SELECTOR, css).text


def shot(name):
    path = os.path.join(ART, name)
    # the whole page: the window as tall as the document
    h = drv.execute_script("return document.documentElement.scrollHeight")
    drv.set_window_size(1100, max(800, int(h) + 40))
    time.sleep(0.5)
    drv.save_screenshot(path)
    ok(f"screenshot {path}")


def wait_redirect(prefix):
    wait.until(lambda d: d.current_url.startswith(prefix))
    wait.until(lambda d: RECEIVED)
    got = RECEIVED.pop(0)
    return got


def consent_shows(flow, cred):
    hexes = [e.text.replace(" ", "") for e in drv.find_elements(By.CSS_SELECTOR, "code.hex")]
    b64s = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "code.b64")]
    want_hex = [h.hex() for h in flow.hashes]
    want_b64 = [base64.b64encode(h).decode() for h in flow.hashes]
    if hexes != want_hex or b64s != want_b64:
        fail(f"the consent page shows other hashes: {hexes} {b64s}, sent {want_hex}")
    if text("#count") != str(len(flow.hashes)) or text("#credential") != cred:
        fail("the consent page shows another count or credential")
    if CFG["description"] not in text("#description") or CFG["client_name"] not in text("#client"):
        fail("the consent page lacks the description or the client's name")
    if flow.labels:
        rows = [e.text for e in drv.find_elements(By.CSS_SELECTOR, "tr.hash span.label")]
        if rows != flow.labels:
            fail(f"the consent page shows other document labels: {rows}")
    # nothing of the credential's owner before the person proved who they are
    if drv.find_elements(By.ID, "subject") or drv.find_elements(By.ID, "signer"):
        fail("the consent form shows the credential's owner before the signer signed in")
    if len(drv.find_elements(By.CSS_SELECTOR, "input[autocomplete=one-time-code]")) != 1:
        fail("the consent form does not ask exactly one one-time password")


def allow(user, pw=None, pin=None):
    """The one form: user name, password, PIN and one OTP, then Sign."""
    wait_for("username")
    drv.find_element(By.ID, "username").send_keys(user)
    drv.find_element(By.ID, "password").send_keys(pw or CFG["password"])
    drv.find_element(By.ID, "pin").send_keys(pin or CFG["pin"])
    drv.find_element(By.ID, "otp").send_keys(otp_next(user))
    drv.find_element(By.ID, "allow").click()


def approve(flow):
    """The signer consents in one form (one OTP); the client gets a code."""
    drv.get(flow.url)
    wait_for("allow")
    consent_shows(flow, cred)
    allow(user)
    return code_of(flow)


def code_of(flow):
    got = wait_redirect(flow.redirect)
    if got.get("state") != flow.state or "code" not in got:
        fail(f"redirect without code or with another state: {got}")
    flow.code = got["code"]
    return flow.code


user, pw, cred = CFG["user"], CFG["password"], CFG["cred"]
h1 = hashlib.sha256(b"contract 2026-12 page 1").digest()
h2 = hashlib.sha256(b"contract 2026-12 annex").digest()
h3 = hashlib.sha256(b"a document never shown").digest()

# 1. the whole flow in English: three hashes, one form, code, token, signHash, openssl
h4 = hashlib.sha256(b"contract 2026-12 signature page").digest()
f1 = Flow(cred, [h1, h2, h4])
drv.get(f1.url)
wait_for("username")
if drv.execute_script("return document.documentElement.lang") != "en":
    fail("the consent page is not in English")
consent_shows(f1, cred)
shot("oauth-consent-en.png")
ok("the consent form shows client, credential, count, description and every hash as sent (hex and base64), and asks user name, password, PIN and one OTP")
# a wrong password in the one form: the page again, nothing signed, no code
drv.find_element(By.ID, "username").send_keys(user)
drv.find_element(By.ID, "password").send_keys("not-" + pw)
drv.find_element(By.ID, "pin").send_keys(CFG["pin"])
drv.find_element(By.ID, "otp").send_keys("000000")
drv.find_element(By.ID, "allow").click()
wait_for("message")
if RECEIVED or not drv.find_elements(By.ID, "allow"):
    fail("a wrong password in the consent form was not answered by the form again")
ok("a wrong password in the one form: the form again with a message, no code")
allow(user)
code_of(f1)
st, tok = f1.exchange()
if st != 200 or tok.get("token_type") != "Bearer" or not tok.get("access_token") or tok.get("expires_in", 0) <= 0:
    fail(f"token exchange: {st} {tok}")
token = tok["access_token"]
ok("the code is exchanged for a Bearer token (client_secret_basic, PKCE S256)")
st, r = sign(token, cred, [h1])
if st != 200:
    fail(f"signHash v2 with the token: {st} {r}")
open(f"{T}/oauth-h1.bin", "wb").write(h1)
open(f"{T}/oauth-sig1.der", "wb").write(base64.b64decode(r["signatures"][0]))
st, r = sign(token, cred, [h2], v="v1")
if st != 200:
    fail(f"signHash v1 with the token: {st} {r}")
open(f"{T}/oauth-h2.bin", "wb").write(h2)
open(f"{T}/oauth-sig2.der", "wb").write(base64.b64decode(r["signatures"][0]))
ok("signHash v2 and v1 accept the access token as bearer and SAD")
st, r = sign(token, cred, [h3])
if st != 400 or r.get("error") != "invalid_request":
    fail(f"signHash for a hash the token does not cover: {st} {r}")
st, r = sign(token, cred, [h1])
if st == 200:
    fail("the token signed a hash twice")
ok("the token is refused for a hash it does not cover, and for one it covered once already")
st, r = sign(token, CFG["other_cred"], [h4])
if st == 200:
    fail("the token signed with another credential")
# code replay: refused, and the token issued from it revoked (h4 is still covered by its SAD)
st, r = f1.exchange()
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"code replay: {st} {r}")
st, r = sign(token, cred, [h4])
if st != 401:
    fail(f"the token still signs after its code was replayed: {st} {r}")
ok("code replay is refused (invalid_grant) and revokes the token issued from it")

# 1b. the consent opened no session: the next request asks who the signer is again
drv.get(Flow(cred, [h1]).url)
wait_for("allow")
if not drv.find_elements(By.ID, "username") or not drv.find_elements(By.ID, "password"):
    fail("a consent left a session behind: the next form does not ask the password")
ok("no session outlives a consent: the next request's form asks user name and password again")

# 2. wrong PKCE verifier
f2 = Flow(cred, [h1])
approve(f2)
st, r = f2.exchange(verifier=b64u(secrets.token_bytes(48)))
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"wrong verifier: {st} {r}")
st, r = f2.exchange()
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"the right verifier after a wrong one: {st} {r}")
ok("a wrong PKCE verifier is refused and burns the code")

# 3. a redirect_uri at the token endpoint other than the request's (another registered one)
f3 = Flow(cred, [h2])
approve(f3)
st, r = f3.exchange(redirect=CB2)
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"another redirect_uri at the token endpoint: {st} {r}")
ok("a redirect_uri differing from the request's is refused at the token endpoint")

# 4. an expired code (oauth_code_ttl is short in this test)
f4 = Flow(cred, [h1])
approve(f4)
time.sleep(CFG["code_ttl"] + 2)
st, r = f4.exchange()
if st != 400 or r.get("error") != "invalid_grant":
    fail(f"an expired code: {st} {r}")
ok("an expired code is refused")

# 4b. a pushed authorization request (RFC 9126): no hash in the browser's URL
f4b = Flow(cred, [h2, h4], labels=["Contract <main> & terms", "契約書 別紙"])
par_url = f4b.push()
if b64u(h2) in par_url or "hashes" in par_url:
    fail("a hash in the URL of a pushed request")
approve(f4b)
st, tok = f4b.exchange()
if st != 200:
    fail(f"token after a pushed request: {st} {tok}")
st, r = sign(tok["access_token"], cred, [h2])
if st != 200 or len(r.get("signatures", [])) != 1:
    fail(f"signHash after a pushed request: {st} {r}")
# RFC 7009: the client revokes its token; h4, still covered by the SAD, no longer signs
st, r = post("/oauth2/revoke", {"token": tok["access_token"]}, basic())
if st != 200:
    fail(f"revoke: {st} {r}")
st, r = sign(tok["access_token"], cred, [h4])
if st != 401:
    fail(f"a revoked token still signs: {st} {r}")
drv.get(par_url)
wait_for("message")
if drv.find_elements(By.ID, "allow"):
    fail("a request_uri served twice")
ok("a pushed authorization request with authorization_details (RFC 9396): the URL carries client_id and request_uri only; the page shows each document's label (escaped); consent, token and signHash work; the request_uri serves once; a token revoked by its client signs no more")

# 5. an unregistered or extended redirect_uri: an error page, and the browser stays here
for bad in ("http://127.0.0.1:9/evil", CB + "?extra=1", CB + "/x"):
    f = Flow(cred, [h1], redirect=bad)
    drv.get(f.url)
    wait_for("message")
    if not drv.current_url.startswith(URL) or RECEIVED:
        fail(f"the browser left for an unregistered redirect_uri {bad}")
ok("wrong or extended redirect_uri: an error page, no redirect")

# 6. another signer's credential: refused by the SAM, no code
f6 = Flow(CFG["other_cred"], [h1])
drv.get(f6.url)
allow(user)
wait_for("message")
if drv.find_elements(By.ID, "allow") or RECEIVED:
    fail("the consent for another signer's credential was not refused")
ok("another signer's credential is refused (an error page, no code)")

# 7. CSRF token missing: the form posted without it is refused
drv.delete_all_cookies()
f7 = Flow(cred, [h1])
drv.get(f7.url)
wait_for("username")
drv.execute_script("document.querySelector('input[name=csrf_token]').remove()")
drv.find_element(By.ID, "username").send_keys(user)
drv.find_element(By.ID, "password").send_keys(pw)
drv.find_element(By.ID, "pin").send_keys(CFG["pin"])
drv.find_element(By.ID, "otp").send_keys("000000")
drv.find_element(By.ID, "allow").click()
wait_for("message")
if drv.find_elements(By.ID, "allow") or drv.find_elements(By.ID, "username"):
    fail("a form without its CSRF token was served")
ok("a POST without the CSRF token is refused")

# 8. Japanese pages, and Cancel -> access_denied
drv.delete_all_cookies()
f8 = Flow(cred, [h1, h2], lang="ja")
drv.get(f8.url)
wait_for("username")
if drv.execute_script("return document.documentElement.lang") != "ja" or "署名" not in drv.title:
    fail("the consent page is not in Japanese")
consent_shows(f8, cred)
shot("oauth-consent-ja.png")
drv.find_element(By.ID, "cancel").click()
got = wait_redirect(CB)
if got.get("error") != "access_denied" or got.get("state") != f8.state or "code" in got:
    fail(f"cancel: {got}")
ok("the Japanese consent form; Cancel returns error=access_denied with the state")

# 10. `inkan sign --browser`: the CLI is the OAuth client; the browser plays the signer
cli = CFG["cli"]
env = dict(os.environ, INKAN_BROWSER_WAIT="120")
proc = subprocess.Popen([cli["inkan"], "--server", URL, "--cacert", CFG["cacert"], "--token-file",
                         cli["token_file"], "sign", cli["pdf"], "--credential", cred, "--browser",
                         cli["client_id"], "--yes", "--level", "B-B"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                        text=True, env=env)
cli_url, lines = None, []
for line in proc.stderr:
    lines.append(line)
    if line.strip().startswith(URL + "/oauth2/authorize?"):
        cli_url = line.strip()
        break
if cli_url is None:
    proc.kill()
    fail("inkan sign --browser printed no authorization URL: " + "".join(lines)[-400:])
if "PIN" in cli_url or "OTP" in cli_url.upper().split("?")[0]:
    fail("a secret field in the CLI's URL")
drv.get(cli_url)
wait_for("allow")
if text("#count") != "1" or "inkan sign" not in text("#description"):
    fail("the consent page for the CLI does not show one hash and the file")
cli_hex = drv.find_element(By.CSS_SELECTOR, "code.hex").text.replace(" ", "")
allow(user)
try:
    out, err = proc.communicate(timeout=120)
except subprocess.TimeoutExpired:
    proc.kill()
    fail("inkan sign --browser did not finish")
if proc.returncode != 0:
    fail(f"inkan sign --browser: rc {proc.returncode}: {''.join(lines)[-200:]} {err[-400:]}")
with open(f"{T}/cli-hash.hex", "w") as fh:
    fh.write(cli_hex + "\n")
ok("inkan sign --browser: the CLI prints the page's address, takes the code on its loopback port, and signs the PDF")

# 9. the consent page inside another origin's iframe shows nothing
f9 = Flow(cred, [h1])
drv.get(CB.replace("/cb", "/frame") + "?" + urllib.parse.urlencode({"src": f9.url}))
time.sleep(3)
drv.switch_to.frame(drv.find_element(By.ID, "f"))
framed = drv.execute_script("return document.body ? document.body.innerText : ''") or ""
found = drv.find_elements(By.ID, "username") + drv.find_elements(By.ID, "allow")
drv.switch_to.default_content()
if found or "Sign in" in framed or "inkan" in framed:
    fail("the page was rendered inside another origin's iframe")
shot("oauth-iframe-blocked.png")
ok("Chromium shows nothing of the page inside another origin's iframe (frame-ancestors 'none')")

drv.quit()
srv.shutdown()
ok("browser flows done")
