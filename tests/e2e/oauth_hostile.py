#!/usr/bin/python3
"""oauth_hostile: plays hostile OAuth clients and a web attacker against the signer's page, over
plain HTTP (no browser), for t_oauth_hostile.sh. Prints "ok ..." lines; exits 1 with
"FAIL ..." on the first attack that gets through.

Usage: oauth_hostile.py CONFIG.json  (written by t_oauth_hostile.sh)."""

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.parse

import ssl
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oauth_common import fail, ok, b64u, otp_next as otp_of  # noqa: E402

CFG = json.load(open(sys.argv[1]))
T = CFG["tmp"]
URL = CFG["url"]
CA = CFG["cacert"]
SHA256 = "2.16.840.1.101.3.4.2.1"
SHA3_256 = "2.16.840.1.101.3.4.2.8"
RSA = "1.2.840.113549.1.1.1"
PSS = "1.2.840.113549.1.1.10"


def secret(v):
    """Codes, verifiers, tokens, cookies: the shell checks that no log or database holds one."""
    with open(f"{T}/oauth.secrets", "a") as f:
        f.write(v + "\n")
    return v


def otp_next(user):
    return otp_of(T, user)


CTX = ssl.create_default_context(cafile=CA)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None


OPENER = urllib.request.build_opener(urllib.request.HTTPSHandler(context=CTX), NoRedirect())


class Resp:
    def __init__(self, status, headers, body):
        self.status_code, self.headers, self.text = status, headers, body.decode(errors="replace")

    def json(self):
        return json.loads(self.text)


def http(method, url, data=None, headers=None, json_body=None):
    h = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        h["Content-Type"] = "application/json"
    elif data is not None:
        data = urllib.parse.urlencode(data).encode()
        h["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, headers=h, method=method)
    try:
        with OPENER.open(req, timeout=60) as r:
            return Resp(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Resp(e.code, e.headers, e.read())
    except (urllib.error.URLError, ConnectionError) as e:
        # the server closed the connection (e.g. on a request line too long)
        import email.message
        return Resp(0, email.message.Message(), str(e).encode())


def client_auth(c):
    return {"Authorization": "Basic " + base64.b64encode(f"{c['id']}:{c['secret']}".encode()).decode()}


class Flow:
    """One credential-scope authorization request of client c."""

    def __init__(self, c, cred, hashes, oid=SHA256, extra=None):
        self.c = c
        self.verifier = secret(b64u(secrets.token_bytes(48)))
        self.challenge = b64u(hashlib.sha256(self.verifier.encode()).digest())
        self.state = b64u(secrets.token_bytes(12))
        self.hashes = hashes
        self.params = {"response_type": "code", "client_id": c["id"], "redirect_uri": c["cb"],
                       "scope": "credential", "credentialID": cred,
                       "numSignatures": str(len(hashes)), "hashes": ",".join(b64u(h) for h in hashes),
                       "hashAlgorithmOID": oid, "state": self.state,
                       "code_challenge": self.challenge, "code_challenge_method": "S256"}
        self.params.update(extra or {})

    def url(self):
        return URL + "/oauth2/authorize?" + urllib.parse.urlencode(self.params)

    def exchange(self, code, verifier=None, c=None):
        c = c or self.c
        return http("POST", URL + "/oauth2/token", headers=client_auth(c), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": c["cb"],
            "code_verifier": verifier or self.verifier})


CSRF_RE = re.compile(r'name="csrf_token" value="([A-Za-z0-9_-]{43})"')


def csrf_of(html):
    m = CSRF_RE.search(html)
    if m is None:
        fail("no CSRF token on the page: " + html[:300])
    return m.group(1)


class Browser:
    """The signer's browser: one cookie jar."""

    def __init__(self):
        self.cookies = {}

    def _send(self, method, url, form=None):
        h = {}
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        r = http(method, url, data=form, headers=h)
        for sc in r.headers.get_all("Set-Cookie") or []:
            k, _, v = sc.split(";")[0].partition("=")
            self.cookies[k.strip()] = secret(v.strip())
        return r

    def get(self, url):
        return self._send("GET", url)

    def post(self, form):
        return self._send("POST", URL + "/oauth2/authorize", form)

    def open(self, flow):
        r = self.get(flow.url())
        if r.status_code != 200 or 'id="hashes"' not in r.text:
            fail(f"authorize GET: {r.status_code} {r.text[:300]}")
        return r

    def consent(self, csrf, pin, otp, user=None, pw=None):
        """The one form: user name, password, PIN and one OTP (one TOTP step per consent)."""
        return self.post({"csrf_token": csrf, "step": "consent", "action": "allow",
                          "username": user or USER, "password": pw or PW, "pin": pin, "otp": otp})


def code_from(r, c):
    loc = r.headers.get("Location", "")
    if r.status_code != 303 or not loc.startswith(c["cb"] + "?"):
        return None
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query)).get("code")
    return secret(code) if code else None


def sign(token, cred, hashes, oid=SHA256, algo=RSA, v="v2"):
    body = {"credentialID": cred, "signAlgo": algo,
            ("hashes" if v == "v2" else "hash"): [base64.b64encode(h).decode() for h in hashes]}
    body["hashAlgorithmOID" if v == "v2" else "hashAlgo"] = oid
    return http("POST", URL + f"/csc/{v}/signatures/signHash", json_body=body,
                headers={"Authorization": "Bearer " + token})


A, B = CFG["client_a"], CFG["client_b"]
USER, PW, PIN, CRED = CFG["user"], CFG["password"], CFG["pin"], CFG["cred"]


SIGNER = None


def full_flow(flow):
    """The signer's one form (user name, password, PIN, one OTP): the code."""
    global SIGNER
    if SIGNER is None:
        SIGNER = Browser()
    page = SIGNER.open(flow)
    r = SIGNER.consent(csrf_of(page.text), PIN, otp_next(USER))
    code = code_from(r, flow.c)
    if code is None:
        fail(f"consent: {r.status_code} {r.headers.get('Location')} {r.text[:300]}")
    return code


def attack_swap():
    """A same-site page (or any request carrying the page cookie) opens another authorization
    request in the signer's page session while the consent page of the first is on screen: the
    signer's PIN and OTP, typed under hashes H_A for client A, must not authorize anything else."""
    ha = [hashlib.sha256(b"what the signer reads").digest()]
    hb = [hashlib.sha256(b"what the attacker wants signed").digest()]
    br = Browser()
    page_a = br.open(Flow(A, CRED, ha))
    shown_csrf = csrf_of(page_a.text)
    if b64u(ha[0]) not in page_a.text.replace("=", "") and base64.b64encode(ha[0]).decode() not in page_a.text:
        fail("the consent page does not show H_A")
    # the attacker's request, sent with the signer's cookie (e.g. <img src> from a same-site page)
    fb = Flow(B, CRED, hb)
    br.get(fb.url())
    r = br.consent(shown_csrf, PIN, otp_next(USER))
    if r.status_code == 303 and code_from(r, B) is not None:
        fail("the consent given on the page showing H_A for client A authorized H_B for client B "
             "(the pending request was swapped under the displayed page)")
    if r.status_code != 403:
        fail(f"consent after a swapped request: {r.status_code} {r.text[:200]}")
    ok("a request swapped in under a displayed consent page: the form of the page the signer "
       "read is refused (403), no code for the other client")


def attack_otp_replay_consent():
    """One consent, one TOTP step: the OTP of a consent is not good for a second consent, and
    the one form never asks two."""
    br = Browser()
    page = br.open(Flow(A, CRED, [hashlib.sha256(b"otp replay 1").digest()]))
    if page.text.count('autocomplete="one-time-code"') != 1:
        fail("the consent form does not ask exactly one OTP")
    otp = otp_next(USER)
    r = br.consent(csrf_of(page.text), PIN, otp)
    if code_from(r, A) is None:
        fail(f"consent with a fresh OTP: {r.status_code} {r.text[:200]}")
    page = br.open(Flow(A, CRED, [hashlib.sha256(b"otp replay 2").digest()]))
    r = br.consent(csrf_of(page.text), PIN, otp)
    if r.status_code == 303:
        fail("the OTP of one consent authorized a second one")
    ok(f"the OTP of a consent replayed on the next consent is refused ({r.status_code}); the form asks one OTP")


def attack_hash_algorithm():
    """The page shows SHA-256; the token must not sign the same bytes as another digest."""
    h = [hashlib.sha256(b"algorithm binding").digest()]
    flow = Flow(A, CRED, h, oid=SHA256)
    code = full_flow(flow)
    r = flow.exchange(code)
    if r.status_code != 200:
        fail(f"token: {r.status_code} {r.text}")
    tok = secret(r.json()["access_token"])
    for v in ("v2", "v1"):
        for algo in (RSA, PSS):
            s = sign(tok, CRED, h, oid=SHA3_256, algo=algo, v=v)
            if s.status_code == 200:
                fail(f"an access token for SHA-256 (as the page showed) signed the hash as "
                     f"SHA3-256 ({v}, signAlgo {algo})")
    s = sign(tok, CRED, h, oid=SHA256)
    if s.status_code != 200:
        fail(f"the token does not sign what it was issued for: {s.status_code} {s.text}")
    ok("a token issued for SHA-256 hashes (as shown) cannot sign them as SHA3-256 (PKCS#1 or PSS) "
       "on v1 or v2; "
       "it signs them as SHA-256")


def attack_xss():
    """A client registered with markup in its name, markup in every reflected parameter."""
    x = CFG["client_x"]
    evil = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>"
    h = [hashlib.sha256(b"xss").digest()]
    flow = Flow(x, CRED + evil, h, extra={"description": evil, "state": evil, "lang": evil,
                                          "clientData": evil})
    br = Browser()
    for url in (flow.url(), Flow(x, CRED, h, extra={"description": evil, "state": evil}).url()):
        r = br.get(url)
        for bad in ("<script", "<img", "onerror=alert(2)>", "\"'>"):
            if bad in r.text:
                fail(f"the page reflects {bad!r} unescaped: {r.status_code} {r.text[:400]}")
    ok("markup in a client's name, credentialID, description, state, lang and clientData is "
       "escaped on the pages")


def attack_page_headers_and_sizes():
    """The page cookie cannot be read by script, sent cross-site or set by a sibling host; no
    page is cached or framed; oversized requests are refused without a page session."""
    h = [hashlib.sha256(b"headers").digest()]
    br = Browser()
    r = br.get(Flow(A, CRED, h).url())
    sc = r.headers.get("Set-Cookie", "")
    attrs = {a.strip().split("=")[0].lower() for a in sc.split(";")[1:]}
    if not sc.startswith("__Host-") or not {"secure", "httponly", "samesite", "path"} <= attrs or \
            "samesite=strict" not in sc.lower().replace(" ", "") or "domain" in attrs:
        fail(f"the page cookie: {sc!r}")
    for k, want in (("Cache-Control", "no-store"), ("X-Frame-Options", "DENY"),
                    ("Referrer-Policy", "no-referrer")):
        if r.headers.get(k) != want:
            fail(f"consent page {k}: {r.headers.get(k)!r}")
    csp = r.headers.get("Content-Security-Policy", "")
    if "frame-ancestors 'none'" not in csp or "default-src 'none'" not in csp:
        fail(f"consent page CSP: {csp!r}")
    # 101 hashes, a 1 MB parameter, 40 parameters: refused, no page session opened
    many = Flow(A, CRED, [hashlib.sha256(b"%d" % i).digest() for i in range(101)])
    big = Flow(A, CRED, h, extra={"description": "x" * 1000000})
    lots = Flow(A, CRED, h, extra={f"p{i}": "1" for i in range(40)})
    for name, f in (("101 hashes", many), ("a 1 MB description", big), ("40 parameters", lots)):
        r = Browser().get(f.url())
        if r.status_code == 200 or r.headers.get("Set-Cookie"):
            fail(f"{name}: {r.status_code}, cookie {r.headers.get('Set-Cookie')!r}")
    ok("the page cookie is __Host-, Secure, HttpOnly, SameSite=Strict, no Domain; the consent page "
       "is no-store, DENY, no-referrer, frame-ancestors 'none'; 101 hashes, a 1 MB parameter "
       "and 40 parameters are refused without a page session")


def attack_flood():
    """Anyone on the network opens page sessions by the thousand from one address: a signer's
    page opened from another address (not logged in yet) must survive it."""
    import http.client as hc
    h = [hashlib.sha256(b"flood").digest()]
    victim = Browser()
    r = victim.get(Flow(A, CRED, h).url())
    csrf = csrf_of(r.text)
    time.sleep(1.1)  # the signer's page is the oldest one
    u = urllib.parse.urlsplit(URL)
    path = "/oauth2/authorize?" + urllib.parse.urlsplit(Flow(A, CRED, h).url()).query
    conn, n, t0, stats = None, 0, time.time(), {}
    while n < CFG.get("flood", 4200):
        if conn is None:
            conn = hc.HTTPSConnection(u.hostname, u.port, context=CTX, timeout=30,
                                               source_address=("127.0.0.2", 0))
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            n += 1
            stats[resp.status] = stats.get(resp.status, 0) + 1
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (hc.HTTPException, OSError):
            conn.close()
            conn = None
    r = victim.consent(csrf, PIN, otp_next(USER))
    if code_from(r, A) is None:
        fail(f"after {n} pages opened from another address, the signer's page is gone: "
             f"{r.status_code} {r.text[:300]}")
    if stats.get(200, 0) < n:
        fail(f"the flood was not served as the test expects: {stats}")
    ok(f"{n} page sessions opened from one address ({time.time() - t0:.0f} s) do not push out "
       "a signer's page opened from another")


def attack_redirects():
    """A sloppy or malicious client's redirect_uri tricks: an error page, never a redirect; a
    checked redirect carries state percent-encoded (no header or parameter injection)."""
    h = [hashlib.sha256(b"redirects").digest()]
    cb = A["cb"]
    u = urllib.parse.urlsplit(cb)
    tricks = [cb + "/", cb[:-1], cb + "x", cb.upper(), cb.replace("http://", "HTTP://"),
              cb + "?x=1", cb + "#f", cb + "%2F", f"http://evil@{u.netloc}{u.path}",
              f"http://{u.netloc}@evil.example{u.path}", f"http://127.0.0.1:{u.port + 1}{u.path}",
              f"http://localhost:{u.port}{u.path}", f"http://[::1]:{u.port}{u.path}",
              cb.replace("/a", "/%61"), "https" + cb[4:], B["cb"], cb + "\r\nX-Evil: 1", ""]
    br = Browser()
    for t in tricks:
        f = Flow(A, CRED, h)
        f.params["redirect_uri"] = t
        r = br.get(f.url())
        if r.status_code != 400 or r.headers.get("Location"):
            fail(f"redirect_uri {t!r}: {r.status_code} Location {r.headers.get('Location')}")
    # a second redirect_uri parameter
    r = br.get(Flow(A, CRED, h).url() + "&redirect_uri=" + urllib.parse.quote(B["cb"]))
    if r.status_code != 400 or r.headers.get("Location"):
        fail(f"two redirect_uri parameters: {r.status_code} {r.headers.get('Location')}")
    # errors after the checks go back to the registered URI only, state encoded
    evil_state = "x\r\nSet-Cookie: a=b&code=forged#frag"
    for extra in ({"code_challenge_method": "plain"}, {"code_challenge_method": None},
                  {"code_challenge": "short"}, {"code_challenge": None}, {"numSignatures": "2"},
                  {"scope": "service"}, {"response_type": "token"}):
        f = Flow(A, CRED, h, extra={"state": evil_state})
        for k, v in extra.items():
            if v is None:
                del f.params[k]
            else:
                f.params[k] = v
        r = br.get(f.url())
        loc = r.headers.get("Location", "")
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(loc).query))
        if r.status_code != 303 or not loc.startswith(cb + "?") or "code" in q or \
                q.get("state") != evil_state or "\r" in loc or "\n" in loc or "#" in loc or \
                r.headers.get("Set-Cookie", "").startswith("a="):
            fail(f"{extra}: {r.status_code} Location {loc!r}")
    ok(f"{len(tricks) + 1} redirect_uri tricks (prefix, suffix, case, slash, userinfo, port, host, "
       "fragment, encoding, query, CRLF, the other client's, a second parameter): error page, no "
       "redirect; PKCE plain/missing/short and other bad requests go back with error and the "
       "state percent-encoded (no CRLF, no injected code)")


def attack_codes_and_token():
    """One code: client B, and client A twice, redeem it at the same moment: exactly one wins,
    and it is A. The token then works only on signHash, for its hashes, until revoked."""
    h = [hashlib.sha256(b"code race").digest(), hashlib.sha256(b"code race 2").digest()]
    flow = Flow(A, CRED, h)
    code = full_flow(flow)
    results = {}
    go = threading.Barrier(4)

    def redeem(name, c, verifier):
        go.wait()
        results[name] = flow.exchange(code, verifier=verifier, c=c)

    ts = [threading.Thread(target=redeem, args=a) for a in
          (("b", B, flow.verifier), ("a1", A, flow.verifier), ("a2", A, flow.verifier),
           ("plain", A, flow.challenge))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    won = [k for k, r in results.items() if r.status_code == 200]
    if len(won) > 1 or (won and won[0] not in ("a1", "a2")):
        fail(f"one code redeemed by {won}: {[(k, r.status_code, r.text[:80]) for k, r in results.items()]}")
    # whoever came second revoked it (RFC 6749 4.1.2), or B/plain spent it: no live token now
    for k in won:
        tok = secret(results[k].json()["access_token"])
        if sign(tok, CRED, h[:1], algo="1.2.840.113549.1.1.11").status_code == 200:
            fail("a token of a code redeemed concurrently several times still signs")
    ok(f"one code redeemed at once by client B, client A twice and a PKCE 'plain' verifier: "
       f"{len(won)} winner(s) ({won}), never B; the token of a code tried twice is dead")

    # a fresh token: other endpoints, other hashes, more than its count, after revocation
    flow = Flow(A, CRED, h)
    r = flow.exchange(full_flow(flow))
    tok = secret(r.json()["access_token"])
    for method, path, body in (("POST", "/csc/v2/credentials/list", {}),
                               ("POST", "/csc/v2/credentials/info", {"credentialID": CRED}),
                               ("POST", "/csc/v2/credentials/authorize", {"credentialID": CRED}),
                               ("POST", "/csc/v2/auth/revoke", {}),
                               ("POST", "/csc/v2/signatures/timestamp", {"hash": b64u(h[0]), "hashAlgo": SHA256}),
                               ("GET", "/api/v1/me", None), ("GET", "/api/v1/keys", None),
                               ("POST", "/api/v1/keys", {"pin": PIN, "algorithm": "P-256"})):
        r = http(method, URL + path, json_body=body, headers={"Authorization": "Bearer " + tok})
        if r.status_code != 401:
            fail(f"the OAuth access token as a bearer token on {method} {path}: {r.status_code} {r.text[:200]}")
    pk = "1.2.840.113549.1.1.11"
    other = hashlib.sha256(b"not consented").digest()
    for bad in ([other], [h[0], h[0]], h + [h[0]]):
        if sign(tok, CRED, bad, algo=pk).status_code == 200:
            fail("the token signed other hashes or more than consented")
    if sign(tok, CRED, h[:1], algo=pk, v="v1").status_code != 200:
        fail("the token does not sign a consented hash on v1")
    if sign(tok, CRED, h[:1], algo=pk).status_code == 200:
        fail("the token signed one hash twice")
    r = http("POST", URL + "/oauth2/revoke", headers=client_auth(B), data={"token": tok})
    if sign(tok, CRED, h[1:], algo=pk).status_code != 200:
        fail("client B revoked client A's token")
    ok("the access token is no bearer token elsewhere (credentials/list, info, authorize, "
       "auth/revoke, timestamp, /api/v1/me, keys): 401; it signs no other hash, no hash "
       "twice, nothing beyond its count (v1 and v2); client B cannot revoke it")
    h3 = [hashlib.sha256(b"revoked").digest()]
    flow = Flow(A, CRED, h3)
    tok = secret(flow.exchange(full_flow(flow)).json()["access_token"])
    r = http("POST", URL + "/oauth2/revoke", headers=client_auth(A), data={"token": tok})
    if r.status_code != 200 or sign(tok, CRED, h3, algo=pk).status_code == 200:
        fail("a revoked token still signs")
    ok("a revoked token signs nothing")


def attack_removed_client():
    """A security officer removes client A on another inkand node (the store is shared; the
    codes and tokens are in each node's memory): A's live token must stop signing here too."""
    h = [hashlib.sha256(b"removed elsewhere").digest()]
    flow = Flow(A, CRED, h)
    tok = secret(flow.exchange(full_flow(flow)).json()["access_token"])
    subprocess.check_call(["sqlite3", "-cmd", ".timeout 5000", CFG["db"],
                           f"UPDATE oauth_clients SET removed_at = {int(time.time())} "
                           f"WHERE id = '{A['id']}';"])
    r = sign(tok, CRED, h, algo="1.2.840.113549.1.1.11")
    if r.status_code == 200:
        fail("the token of a client removed (by another node) still signs")
    ok(f"the token of a client removed by another node signs nothing ({r.status_code})")


def attack_par_flood():
    """A public client's id is public and PKCE is its only proof: anyone on the network can
    push requests in its name. A flood of them from one address must not refuse the pushed
    requests of another client from another address."""
    import http.client as hc
    pub = CFG["client_pub"]
    h = [hashlib.sha256(b"par flood").digest()]
    f = Flow(pub, CRED, h)
    body = urllib.parse.urlencode(f.params)
    u = urllib.parse.urlsplit(URL)
    conn, stats = None, {}
    for _ in range(CFG.get("par_flood", 1100)):
        if conn is None:
            conn = hc.HTTPSConnection(u.hostname, u.port, context=CTX, timeout=30,
                                               source_address=("127.0.0.2", 0))
        try:
            conn.request("POST", "/oauth2/pushed_authorize", body,
                         {"Content-Type": "application/x-www-form-urlencoded"})
            resp = conn.getresponse()
            resp.read()
            stats[resp.status] = stats.get(resp.status, 0) + 1
            if resp.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (hc.HTTPException, OSError):
            conn.close()
            conn = None
    if stats.get(201, 0) == 0:
        fail(f"the public client's pushed requests were not served as the test expects: {stats}")
    fa = Flow(A, CRED, h)
    r = http("POST", URL + "/oauth2/pushed_authorize", data=fa.params, headers=client_auth(A))
    if r.status_code != 201:
        fail(f"after {sum(stats.values())} pushed requests in a public client's name from one "
             f"address ({stats}), client A's own is refused: {r.status_code} {r.text[:200]}")
    ok(f"{sum(stats.values())} pushed requests in a public client's name from one address "
       f"({stats}) do not refuse another client's")


def attack_otp_cross():
    """One TOTP step, one act: a code spent on credentials/authorize is not good on the consent
    page, and one spent on the consent page is not good on credentials/authorize."""
    r = http("POST", URL + "/csc/v2/auth/login", json_body={"otp": otp_next(USER), "rememberMe": False},
             headers={"Authorization": "Basic " + base64.b64encode(f"{USER}:{PW}".encode()).decode()})
    if r.status_code != 200:
        fail(f"API login: {r.status_code} {r.text[:200]}")
    api = secret(r.json()["access_token"])
    h = [hashlib.sha256(b"cross").digest()]

    def authorize(otp):
        return http("POST", URL + "/csc/v2/credentials/authorize", headers={"Authorization": "Bearer " + api},
                    json_body={"credentialID": CRED, "numSignatures": 1, "hashes": [base64.b64encode(h[0]).decode()],
                               "PIN": PIN, "OTP": otp})

    flow = Flow(A, CRED, h)
    if SIGNER is None:
        fail("attack_otp_cross needs the signer's browser (run after codes)")
    page = SIGNER.open(flow)
    otp = otp_next(USER)
    r = authorize(otp)
    if r.status_code != 200:
        fail(f"credentials/authorize with a fresh OTP: {r.status_code} {r.text[:200]}")
    r = SIGNER.consent(csrf_of(page.text), PIN, otp)
    if r.status_code == 303:
        fail("an OTP spent on credentials/authorize authorized the consent page too")
    page = r
    otp = otp_next(USER)
    r = SIGNER.consent(csrf_of(page.text), PIN, otp)
    if code_from(r, A) is None:
        fail(f"consent with a fresh OTP: {r.status_code} {r.text[:200]}")
    r = authorize(otp)
    if r.status_code == 200:
        fail("an OTP spent on the consent page authorized credentials/authorize too")
    ok("one TOTP step, one act across credentials/authorize and the consent page (both ways)")


def account_token(c, sub, jti=None, key=None, iat=None):
    """CSC v2 8.3.2: HS256 over header.payload keyed by SHA256(client_secret)."""
    hdr = b64u(json.dumps({"typ": "JWT", "alg": "HS256"}).encode())
    body = b64u(json.dumps({"sub": sub, "iat": iat or int(time.time()), "jti": jti or b64u(secrets.token_bytes(9)),
                            "iss": c.get("name", "client"), "azp": c["id"]}).encode())
    k = key if key is not None else hashlib.sha256(c["secret"].encode()).digest()
    sig = hmac.new(k, (hdr + "." + body).encode(), hashlib.sha256).digest()
    return hdr + "." + body + "." + b64u(sig)


def attack_account_token():
    """A client names the signer's account (account_token): that signer consents; a token
    naming another signer gets no consent from this one, and a token that is forged (keyed by
    the secret itself, another client's secret), stale, replayed or a public client's is
    refused back to the client."""
    h = [hashlib.sha256(b"account token").digest()]
    flow = Flow(A, CRED, h, extra={"account_token": account_token(A, USER)})
    r = flow.exchange(full_flow(flow))
    if r.status_code != 200:
        fail(f"the signer an account_token names could not consent: {r.status_code} {r.text[:200]}")
    secret(r.json()["access_token"])
    # another signer named: the one form (nobody is known before it) refuses the signer who
    # types their name, before the SAM is asked anything; no code comes of it (two browsers)
    for br in (SIGNER, Browser()):
        flow = Flow(A, CRED, h, extra={"account_token": account_token(A, "someone-else"), "lang": "en"})
        page = br.open(flow)
        r = br.consent(csrf_of(page.text), PIN, otp_next(USER))
        if code_from(r, A) is not None or r.status_code != 403 or "another signer" not in r.text:
            fail(f"a consent for an account_token naming another signer: {r.status_code} {r.text[:300]}")
    import sqlite3
    con = sqlite3.connect(f"file:{CFG['db']}?mode=ro", uri=True, timeout=10)
    n = con.execute("SELECT count(*) FROM audit_log WHERE action = 'oauth.authorize' AND "
                    "result LIKE 'the signer is not the account%'").fetchone()[0]
    con.close()
    if n < 2:
        fail(f"the refusals of another signer's account_token are not audited ({n} records)")
    ok("account_token: the signer it names consents; another signer's is refused in the one form (no code, no SAD), audited")

    tok = account_token(A, USER)
    used = Flow(A, CRED, h, extra={"account_token": tok})
    SIGNER.get(used.url())
    now = int(time.time())
    for what, t, c in (("keyed by the secret itself", account_token(A, USER, key=A["secret"].encode()), A),
                       ("keyed by another client's secret", account_token(A, USER, key=hashlib.sha256(B["secret"].encode()).digest()), A),
                       ("an hour old", account_token(A, USER, iat=now - 3600), A),
                       ("replayed", tok, A),
                       ("of another client (azp)", account_token(B, USER), A),
                       ("of a public client", account_token(dict(CFG["client_pub"], secret="x"), USER), CFG["client_pub"])):
        flow = Flow(c, CRED, h, extra={"account_token": t})
        r = http("GET", flow.url())
        loc = r.headers.get("Location", "")
        if r.status_code != 303 or not loc.startswith(c["cb"] + "?") or "error=invalid_request" not in loc:
            fail(f"an account_token {what}: {r.status_code} {loc} {r.text[:200]}")
    ok("account_token forged (secret itself, other secret), stale, replayed, another client's or a public client's: refused to the client")


def assertion(c, jti=None, aud=None, exp_in=120):
    """A private_key_jwt client assertion (RFC 7523) signed by c's key with Python's cryptography."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
    key = serialization.load_pem_private_key(open(c["key"], "rb").read(), password=None)
    now = int(time.time())
    hdr = b64u(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
    body = b64u(json.dumps({"iss": c["id"], "sub": c["id"], "aud": aud or URL + "/oauth2/token",
                            "iat": now, "exp": now + exp_in,
                            "jti": jti or b64u(secrets.token_bytes(12))}).encode())
    r, s = decode_dss_signature(key.sign((hdr + "." + body).encode(), ec.ECDSA(hashes.SHA256())))
    return hdr + "." + body + "." + b64u(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def attack_private_key_jwt():
    """A client registered by its key goes through the whole flow with a client assertion and
    signs; its assertion is taken once; a secret or nothing is not taken from it."""
    K = CFG["client_key"]
    h = [hashlib.sha256(b"private_key_jwt").digest()]
    flow = Flow(K, CRED, h)
    code = full_flow(flow)
    a = assertion(K)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": K["cb"],
            "code_verifier": flow.verifier,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": a}
    r = http("POST", URL + "/oauth2/token", data=form)
    if r.status_code != 200:
        fail(f"private_key_jwt token exchange: {r.status_code} {r.text[:300]}")
    tok = secret(r.json()["access_token"])
    r = sign(tok, CRED, h, algo="1.2.840.113549.1.1.11")
    if r.status_code != 200:
        fail(f"signHash with a private_key_jwt client's token: {r.status_code} {r.text[:200]}")
    # the same assertion for another code; a secret or nothing from the keyed client
    flow = Flow(K, CRED, h)
    code = full_flow(flow)
    for what, extra, headers in (("a replayed assertion", {"client_assertion": a}, None),
                                 ("no authentication", {"client_id": K["id"]}, None),
                                 ("a secret", {}, {"Authorization": "Basic " + base64.b64encode(
                                     (K["id"] + ":" + A["secret"]).encode()).decode()})):
        f2 = {k: v for k, v in form.items() if not k.startswith("client_assertion")}
        f2["code"], f2["code_verifier"] = code, flow.verifier
        if "client_assertion" in extra:
            f2["client_assertion_type"] = form["client_assertion_type"]
        f2.update(extra)
        r = http("POST", URL + "/oauth2/token", data=f2, headers=headers)
        if r.status_code != 401 or r.json().get("error") != "invalid_client":
            fail(f"private_key_jwt client with {what}: {r.status_code} {r.text[:200]}")
    # the code is still good for the client's fresh assertion
    f2 = dict(form, code=code, code_verifier=flow.verifier, client_assertion=assertion(K))
    r = http("POST", URL + "/oauth2/token", data=f2)
    if r.status_code != 200:
        fail(f"a fresh assertion after the refusals: {r.status_code} {r.text[:200]}")
    secret(r.json()["access_token"])
    ok("private_key_jwt: consent, token by a signed assertion, signHash; its replay, a secret or nothing refused")


def main():
    what = sys.argv[2:] or ["xss", "headers", "redirects", "swap", "otp", "alg", "codes", "cross", "flood", "par", "account", "jwt", "removed"]
    if "xss" in what:
        attack_xss()
    if "headers" in what:
        attack_page_headers_and_sizes()
    if "redirects" in what:
        attack_redirects()
    if "codes" in what:
        attack_codes_and_token()
    if "cross" in what:
        attack_otp_cross()
    if "flood" in what:
        attack_flood()
    if "par" in what:
        attack_par_flood()
    if "swap" in what:
        attack_swap()
    if "otp" in what:
        attack_otp_replay_consent()
    if "alg" in what:
        attack_hash_algorithm()
    if "account" in what:
        attack_account_token()
    if "jwt" in what:
        attack_private_key_jwt()
    if "removed" in what:
        attack_removed_client()  # last: client A is gone


main()
