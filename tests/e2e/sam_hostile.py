#!/usr/bin/env python3
"""sam_hostile: plays a compromised inkand. It starts an unmodified inkan-sam on a socketpair
over a copy of a live data directory and sends nothing but protocol frames (length-prefixed,
as src/sam/sam.h describes them), trying each attack of issue 13; every one must be refused.

Usage: sam_hostile.py INKAN_SAM DATA FACTS.json LOG   (inkan-sam's stderr is appended to LOG)
FACTS: ids and TOTP seeds of the persons, live session hashes read from inkan.db (hex), a
credential of alice, max_login_failures. Prints one "ok - ..." line per attack; exits 1 at the
first attack that is not refused."""
import base64, hashlib, hmac, json, os, socket, struct, subprocess, sys, time

# message types and error codes (src/sam/sam.h, src/common/common.h)
PING, KEY_CREATE, KEY_REVOKE, KEY_UNLOCK, BACKUP, RESTORE = 1, 10, 15, 18, 21, 22
AUTHORIZE, LOGIN, REGISTER, ROLE_SET, PERSON_UNLOCK = 23, 51, 55, 56, 57
OAUTH_CONSENT, OAUTH_SERVICE, SIGN = 62, 63, 24
RETIRED_OAUTH_AUTHORIZE = 29   # refused as an unknown message since the one-step consent
KEY_AUTH_MODE = 64
LOG_HEAD, LOG_EXTEND, LOG_PENDING, LOG_CLOSE = 40, 41, 42, 43
REENROL, PERSON_REMOVE, PERSON_GET, BOOTSTRAP, ENROL = 58, 59, 60, 50, 53
OK, ERR = 0x80, 0x81
E = {"INVALID": 3, "DISABLED": 10, "NOT_FOUND": 5, "EXISTS": 6, "AUTH": 7, "DENIED": 8, "LOCKED": 9, "SOD": 13,
     "POLICY": 14, "PROTOCOL": 19, "BAD_PIN": 25, "ENROL": 26}
ROLE_SO, ROLE_RO, ROLE_SIGNER = 1, 16, 32


def fail(msg):
    print("sam_hostile: FAIL: " + msg, flush=True)
    sys.exit(1)


def ok(msg):
    print("sam_hostile: ok - " + msg, flush=True)


def u8(v): return struct.pack(">B", v)
def u32(v): return struct.pack(">I", v)
def u64(v): return struct.pack(">Q", v & 0xFFFFFFFFFFFFFFFF)
def string(b): return u32(len(b)) + b
def cstr(s): return string(s.encode())


def totp(secret_b32, step):
    s = secret_b32 + "=" * (-len(secret_b32) % 8)
    key = base64.b32decode(s)
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    v = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000
    return "%06d" % v


class Sam:
    """One unmodified inkan-sam on a socketpair: the channel a compromised inkand holds."""

    def __init__(self, path, data):
        self.ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.proc = subprocess.Popen([path, "--fd", str(theirs.fileno()), "--data", data],
                                     pass_fds=(theirs.fileno(),), stderr=open(LOG, "a"))
        theirs.close()

    def call(self, payload):
        self.ours.sendall(u32(len(payload)) + payload)
        n = struct.unpack(">I", self._read(4))[0]
        rep = self._read(n)
        if rep[0] == OK:
            return 0, rep[1:]
        if rep[0] == ERR:
            return struct.unpack(">I", rep[1:5])[0], b""
        fail("reply of unknown type %d" % rep[0])

    def _read(self, n):
        b = b""
        while len(b) < n:
            chunk = self.ours.recv(n - len(b))
            if not chunk:
                fail("inkan-sam closed the channel")
            b += chunk
        return b

    def close(self):
        self.ours.close()
        self.proc.wait(timeout=20)


def expect(sam, payload, err, what):
    r, _ = sam.call(payload)
    want = E[err] if isinstance(err, str) else err
    if r != want:
        fail("%s: SAM answered %d, want %s (%d)" % (what, r, err, want))


LOG = os.devnull


def get_string(b, off):
    n = struct.unpack(">I", b[off:off + 4])[0]
    return b[off + 4:off + 4 + n], off + 4 + n


def log_head(sam):
    """-> (size, closed) of the SAM's last signed head."""
    r, rep = sam.call(u8(LOG_HEAD))
    if r != 0:
        fail("LOG_HEAD: %d" % r)
    size = struct.unpack(">Q", rep[:8])[0]
    off = 8
    _, off = get_string(rep, off)       # root
    off += 8                            # time
    _, off = get_string(rep, off)       # signature
    return size, rep[off]


def log_pending(sam):
    r, rep = sam.call(u8(LOG_PENDING) + u64(0))
    if r != 0:
        fail("LOG_PENDING: %d" % r)
    ep, off = get_string(rep, 0)
    n = struct.unpack(">I", rep[off:off + 4])[0]
    off, out = off + 4, []
    for _ in range(n):
        rid, t = struct.unpack(">QQ", rep[off:off + 16])
        off += 16
        fields = []
        for _ in range(6):
            v, off = get_string(rep, off)
            fields.append(v)
        out.append((rid, t, fields, ep))
    return out


def leaf_of(rec, seq):
    """SHA-256(0x00 || canonical record) as docs/audit.md defines it."""
    rid, t, (actor, role, action, subject, result, detail), ep = rec
    entry = u8(1) + u64(seq) + u64(t)
    for v in (actor, role, action, subject, result, b"sam-" + ep + (b"-%d" % rid), b"inkan-sam", detail):
        entry += string(v)
    return hashlib.sha256(b"\x00" + entry).digest()


def extend(size, final, pairs, leaves):
    p = u8(LOG_EXTEND) + u64(size) + u8(final) + u32(len(pairs))
    for rid, seq in pairs:
        p += u64(rid) + u64(seq)
    return p + u32(len(leaves)) + b"".join(leaves)


def main():
    global LOG
    sam_path, data, facts_path, LOG = sys.argv[1:5]
    f = json.load(open(facts_path))
    alice, bob, so, ro, op = f["alice"], f["bob"], f["so"], f["ro"], f["op"]
    sess = {k: bytes.fromhex(v) for k, v in f["sessions"].items()}
    invented = hashlib.sha256(b"a token nobody was ever given").digest()
    max_fail = int(f["max_login_failures"])
    sam = Sam(sam_path, data)
    r, _ = sam.call(u8(PING))
    if r != 0:
        fail("ping")

    # ---- 1. certificates in anyone's name ----
    # The old KEY_CREATE layout (owner, CN, serialNumber from inkand) is not a request any more.
    old = u8(KEY_CREATE) + cstr("f" * 32) + cstr("Alice Example") + cstr(alice["id"]) + \
        cstr("P-256") + cstr("pin-Mallory-1234") + u8(0)
    expect(sam, old, "PROTOCOL", "KEY_CREATE with owner, CN and serialNumber of inkand's choosing")
    # A key for an invented session; for a live session of an officer (no signer role).
    expect(sam, u8(KEY_CREATE) + string(invented) + cstr("P-256") + cstr("pin-Mallory-1234") + u8(0),
           "AUTH", "KEY_CREATE under an invented session")
    expect(sam, u8(KEY_CREATE) + string(sess["so"]) + cstr("P-256") + cstr("pin-Mallory-1234") + u8(0),
           "DENIED", "KEY_CREATE under the security officer's live session")
    # Invent a person: no bootstrap once the SAM serves someone, no registration without a
    # registration officer's live SAM session.
    expect(sam, u8(BOOTSTRAP) + cstr("e" * 32) + cstr("mallory") + cstr("0" * 64), "AUTH",
           "a second BOOTSTRAP (the init token is spent)")
    reg = lambda s, uid, name, doc: u8(REGISTER) + string(s) + cstr(uid) + cstr(name) + \
        cstr(alice["display_name"]) + u32(ROLE_SIGNER) + cstr("in person") + cstr("file") + \
        cstr("passport") + cstr(doc)
    expect(sam, reg(invented, "e" * 32, "mallory", "MAL-1"), "AUTH",
           "REGISTER a copy of alice under an invented session")
    expect(sam, reg(sess["so"], "e" * 32, "mallory", "MAL-1"), "DENIED",
           "REGISTER a signer under the security officer's session")
    expect(sam, reg(sess["alice"], "e" * 32, "mallory", "MAL-1"), "DENIED",
           "REGISTER a signer under a signer's session")
    # Even with the registration officer's live session, alice's identity document is hers.
    expect(sam, reg(sess["ro"], "e" * 32, "mallory", f["alice_doc"]), 27,
           "REGISTER alice's identity document a second time (registration officer's session)")
    # A registered person who has not activated the account: inkand alone cannot open their
    # first session (the SAM checks its own one-time activation code), so cannot enrol a seed
    # of its choosing for them.
    carol = f["carol"]
    for code in ("", "123456", "x" * 20):
        expect(sam, u8(LOGIN) + cstr(carol["id"]) + string(invented) + cstr("") + cstr(code) + cstr("x"),
               "AUTH", "LOGIN of carol (not activated) with activation code %r" % code)
    expect(sam, u8(ENROL) + string(invented), "AUTH", "ENROL without the SAM's set-up session")
    # Logins of persons the SAM never registered.
    expect(sam, u8(LOGIN) + cstr("e" * 32) + string(invented) + cstr("123456") + cstr("") + cstr("x"),
           "AUTH", "LOGIN of an invented person")
    # The SAM's record of alice says what her certificates carry.
    r, rep = sam.call(u8(PERSON_GET) + cstr(alice["id"]))
    if r != 0 or alice["display_name"].encode() not in rep or alice["pseudonym"].encode() not in rep:
        fail("PERSON_GET: the SAM's record of alice is not what was registered")
    ok("forged subjects: old KEY_CREATE layout, invented sessions, second bootstrap, "
       "registrations without a registration officer, a second registration of one document, "
       "activation of a registered person without the SAM's one-time code")

    # ---- trivial PINs (issue 15): inkand's own check is not what keeps them out ----
    for pin in ("000000", "123456", "654321", "890123", "121212", "159753", "7391", ""):
        expect(sam, u8(KEY_CREATE) + string(sess["alice"]) + cstr("P-256") + cstr(pin) + u8(0),
               "POLICY", "KEY_CREATE under alice's live session with the trivial or short PIN %r" % pin)
    ok("trivial PINs (one digit, runs up, down and wrapping, a repeated pair, a common one, "
       "too short) sent straight to the SAM under a live signer session: no key made")

    # ---- 2. roles and officers' acts without the SAM-checked proof ----
    expect(sam, u8(ROLE_SET) + string(invented) + cstr(bob["id"]) + u32(ROLE_SO) + u8(1), "AUTH",
           "ROLE_SET under an invented session")
    expect(sam, u8(ROLE_SET) + string(sess["ro"]) + cstr(ro["id"]) + u32(ROLE_SO) + u8(1), "DENIED",
           "the registration officer granting themselves security officer")
    expect(sam, u8(ROLE_SET) + string(sess["so"]) + cstr(so["id"]) + u32(ROLE_RO) + u8(1), "SOD",
           "the security officer granting themselves registration officer")
    expect(sam, u8(ROLE_SET) + string(sess["so"]) + cstr(ro["id"]) + u32(ROLE_SO) + u8(1), "SOD",
           "security officer + registration officer in one account")
    expect(sam, u8(KEY_UNLOCK) + string(invented) + cstr(alice["cred"]), "AUTH",
           "KEY_UNLOCK without a session")
    expect(sam, u8(KEY_UNLOCK) + string(sess["alice"]) + cstr(alice["cred"]), "DENIED",
           "KEY_UNLOCK under the signer's own session")
    expect(sam, u8(KEY_UNLOCK) + string(sess["so"]) + cstr(alice["cred"]), "DENIED",
           "KEY_UNLOCK under the security officer's session")
    expect(sam, u8(PERSON_UNLOCK) + string(invented) + cstr(alice["id"]), "AUTH",
           "PERSON_UNLOCK without a session")
    expect(sam, u8(KEY_REVOKE) + string(invented) + cstr(alice["cred"]) + u32(1), "AUTH",
           "KEY_REVOKE without a session")
    expect(sam, u8(KEY_REVOKE) + string(sess["bob"]) + cstr(alice["cred"]) + u32(1), "NOT_FOUND",
           "KEY_REVOKE of alice's key under bob's session")
    expect(sam, u8(KEY_REVOKE) + string(sess["ro"]) + cstr(alice["cred"]) + u32(1), "DENIED",
           "KEY_REVOKE under the registration officer's session")
    expect(sam, u8(PERSON_REMOVE) + string(invented) + cstr(alice["id"]) + cstr("123456"), "AUTH",
           "PERSON_REMOVE (key destruction) without a session")
    expect(sam, u8(PERSON_REMOVE) + string(sess["so"]) + cstr(alice["id"]) + cstr("123456"), "DENIED",
           "PERSON_REMOVE of a signer under the security officer's session")
    wrong = "%06d" % ((int(totp(ro["secret"], int(time.time()) // 30)) + 1) % 1000000)
    expect(sam, u8(PERSON_REMOVE) + string(sess["ro"]) + cstr(alice["id"]) + cstr(wrong), "AUTH",
           "PERSON_REMOVE under the registration officer's session without their fresh OTP")
    expect(sam, u8(REENROL) + string(sess["ro"]) + cstr(alice["id"]) + cstr(""), "AUTH",
           "REENROL without the registration officer's fresh OTP")
    # the registration officer acts on signers only: a security officer's second factor or lock
    # is a security officer's business (else an RO could take an SO's account over)
    expect(sam, u8(REENROL) + string(sess["ro"]) + cstr(so["id"]) + cstr(totp(ro["secret"], int(time.time()) // 30)),
           "DENIED", "REENROL of the security officer by the registration officer")
    expect(sam, u8(PERSON_UNLOCK) + string(sess["ro"]) + cstr(so["id"]) + cstr(""), "DENIED",
           "PERSON_UNLOCK of the security officer by the registration officer")
    # an unlock of a person who is not locked changes nothing: no resetting the failure count
    # between guesses
    for _ in range(2):
        expect(sam, u8(LOGIN) + cstr(bob["id"]) + string(invented) + cstr("000000") + cstr("") + cstr("x"),
               "AUTH", "a wrong code for bob")
    expect(sam, u8(PERSON_UNLOCK) + string(sess["ro"]) + cstr(bob["id"]) + cstr(""), 0,
           "PERSON_UNLOCK of bob, who is not locked")
    r, rep = sam.call(u8(PERSON_GET) + cstr(bob["id"]))
    if r != 0 or struct.unpack(">Q", rep[-8:])[0] < 2:
        fail("an unlock of a person who is not locked reset the failure count")
    expect(sam, u8(BACKUP) + string(invented), "AUTH", "BACKUP without a session")
    expect(sam, u8(BACKUP) + string(sess["so"]), "DENIED", "BACKUP under the security officer's session")
    expect(sam, u8(RESTORE) + string(invented) + cstr("123456") + string(b"x" * 64), "AUTH",
           "RESTORE without a session")
    expect(sam, u8(RESTORE) + string(sess["op"]) + cstr("") + string(b"x" * 64), "AUTH",
           "RESTORE under the operator's session without their fresh OTP")
    r, rep = sam.call(u8(PERSON_GET) + cstr(alice["id"]))
    if r != 0 or struct.unpack(">I", rep[rep.index(alice["pseudonym"].encode()) +
                                        len(alice["pseudonym"]) + 4:][:4])[0] != 1:
        fail("alice's record changed: %r" % rep)
    ok("unlock, revoke, destroy, re-enrol, backup, restore, role grants: each refused without "
       "the acting officer's SAM session, role and (where grave) fresh OTP; a registration "
       "officer cannot re-enrol or unlock a security officer; an unlock resets no counter")

    # ---- message 29 (OAUTH_AUTHORIZE, a consent under a session) is retired: unknown now,
    # whatever it carries — a compromised inkand cannot mint a SAD through it ----
    oauthz = lambda s, client, cred, ttl=60: u8(RETIRED_OAUTH_AUTHORIZE) + string(s) + cstr(client) + \
        cstr(cred) + cstr("123456") + cstr(f["alice_pin"]) + cstr("") + u32(ttl) + u32(1) + \
        string(b"\x01" * 32)
    expect(sam, oauthz(sess["alice"], "c" * 32, alice["cred"]), "PROTOCOL",
           "message 29 (retired OAUTH_AUTHORIZE) in its old layout, under alice's own session")
    expect(sam, u8(RETIRED_OAUTH_AUTHORIZE), "PROTOCOL", "message 29 with nothing in it")
    ok("message 29 (the retired OAUTH_AUTHORIZE): refused as unknown, whatever it carries")

    # ---- OAuth one-step consent (issue 17, message 62): a signer without a session; the SAM
    # names the person, checks them in its own record, one OTP, the PIN; opens no session ----
    consent = lambda pid, client, cred, otp="123456", ttl=60, binding=invented, pin=None: \
        u8(OAUTH_CONSENT) + cstr(pid) + string(binding) + cstr(client) + cstr(cred) + cstr(otp) + \
        cstr(f["alice_pin"] if pin is None else pin) + cstr("") + u32(ttl) + u32(1) + \
        string(hashlib.sha256(b"consent").digest())
    expect(sam, consent("f" * 32, "c" * 32, alice["cred"]), "AUTH",
           "OAUTH_CONSENT naming a person the SAM does not know")
    expect(sam, consent(bob["id"], "c" * 32, alice["cred"]), "NOT_FOUND",
           "OAUTH_CONSENT of alice's key naming bob")
    expect(sam, consent(so["id"], "c" * 32, alice["cred"]), "DENIED",
           "OAUTH_CONSENT naming the security officer (no signer)")
    expect(sam, consent(f["carol"]["id"], "c" * 32, alice["cred"]), "ENROL",
           "OAUTH_CONSENT naming carol, who never enrolled")
    expect(sam, consent(alice["id"], "", alice["cred"]), "PROTOCOL", "OAUTH_CONSENT naming no client")
    # the client id goes into the SAM's own record: nothing else may ride in it
    for forged in ("c" * 31 + "\n", "c" * 32 + ", certificate serial 00", "C" * 32, "c" * 31 + " "):
        expect(sam, consent(alice["id"], forged, alice["cred"]), "PROTOCOL",
               "OAUTH_CONSENT naming a client id that is not inkand's form (%r)" % forged)
    expect(sam, consent("", "c" * 32, alice["cred"]), "PROTOCOL", "OAUTH_CONSENT naming nobody")
    expect(sam, consent(alice["id"], "c" * 32, alice["cred"], ttl=3600), "POLICY",
           "OAUTH_CONSENT asking a SAD beyond the SAM's sad_ttl")
    expect(sam, consent(alice["id"], "c" * 32, alice["cred"], ttl=100000), "PROTOCOL",
           "OAUTH_CONSENT asking a SAD of 100000 s")
    expect(sam, u8(OAUTH_CONSENT) + string(invented) + cstr(alice["cred"]) + cstr("123456") +
           cstr(f["alice_pin"]) + cstr("") + u32(60) + u32(1) + string(b"\x01" * 32), "PROTOCOL",
           "OAUTH_CONSENT in AUTHORIZE's layout (no person, no client)")
    # the right OTP and PIN: a SAD bound to the consent's binding; its OTP step is spent for
    # every other door (LOGIN, AUTHORIZE, another consent)
    binding = hashlib.sha256(b"this consent alone").digest()
    while True:
        cstep = int(time.time()) // 30
        code = totp(alice["secret"], cstep)
        r, rep = sam.call(consent(alice["id"], "c" * 32, alice["cred"], otp=code, binding=binding))
        if r == 0:
            break
        if r != E["AUTH"]:
            fail("alice's consent with a fresh code: %d" % r)
        # this step was spent by the test's own acts: take the next one
        time.sleep(30 - time.time() % 30 + 1)
    sad, _ = get_string(rep, 0)
    h = hashlib.sha256(b"consent").digest()
    sign = lambda sess_b, owner=alice["id"]: u8(SIGN) + cstr(owner) + string(sess_b) + \
        cstr(alice["cred"]) + string(sad) + cstr("1.2.840.10045.4.3.2") + cstr("") + \
        u32(0xFFFFFFFF) + u32(1) + string(h)
    expect(sam, sign(sess["alice"]), "AUTH", "the consent's SAD under alice's own session")
    expect(sam, sign(binding, owner=bob["id"]), "AUTH", "the consent's SAD named as bob's")
    r, _ = sam.call(sign(binding))
    if r != 0:
        fail("the consent's SAD under its binding: %d" % r)
    expect(sam, sign(binding), "AUTH", "the consent's SAD a second time")
    expect(sam, u8(LOGIN) + cstr(alice["id"]) + string(hashlib.sha256(b"after consent").digest()) +
           cstr(code) + cstr("") + cstr("x"), "AUTH", "a LOGIN with the code a consent spent")
    expect(sam, consent(alice["id"], "c" * 32, alice["cred"], otp=code), "AUTH",
           "a second consent with the same code")
    service = lambda pid, client="c" * 32, otp="123456": u8(OAUTH_SERVICE) + cstr(pid) + \
        cstr(client) + cstr(otp)
    expect(sam, service(alice["id"], otp=code), "AUTH", "a service grant with the code a consent spent")
    spent = 3      # each counts against alice
    # the service scope's OTP check (message 63): the SAM's own person checks, no session
    expect(sam, service("f" * 32), "AUTH", "OAUTH_SERVICE naming a person the SAM does not know")
    expect(sam, service(so["id"]), "DENIED", "OAUTH_SERVICE naming the security officer (no signer)")
    expect(sam, service(f["carol"]["id"]), "ENROL", "OAUTH_SERVICE naming carol, who never enrolled")
    for forged in ("", "C" * 32, "c" * 32 + ", OTP step 1"):
        expect(sam, service(alice["id"], client=forged), "PROTOCOL",
               "OAUTH_SERVICE naming a client id that is not inkand's form (%r)" % forged)
    ok("OAUTH_CONSENT: refused for an unknown person, another signer's key, an officer, a person "
       "not enrolled, without a client or with text posing as one, beyond sad_ttl; a good one "
       "mints a SAD that signs once under its own binding only and spends its OTP step for "
       "LOGIN, consent and service grant alike; OAUTH_SERVICE refused for an unknown person, an "
       "officer, a person not enrolled, a forged client")
    # ---- per-credential authMode (issue 17): bob chose the consent page only for his key ----
    # The SAM refuses AUTHORIZE (PIN and OTP forwarded by a client) for it even with bob's
    # live session, his PIN and the right OTP; inkand cannot turn explicit authorization back
    # on without bob's fresh OTP and PIN.
    kb, bpin = bob["cred"], f["bob_pin"]
    bstep = int(time.time()) // 30
    bz = lambda otp: u8(AUTHORIZE) + string(sess["bob"]) + cstr(kb) + cstr(otp) + cstr(bpin) + \
        cstr("") + u32(60) + u32(1) + string(b"\x02" * 32)
    expect(sam, bz(totp(bob["secret"], bstep)), "DENIED",
           "AUTHORIZE of bob's OAuth-only key with his session, PIN and right OTP")
    mode = lambda s, pin, m, otp: u8(KEY_AUTH_MODE) + string(s) + cstr(kb) + cstr(pin) + u32(m) + cstr(otp)
    expect(sam, mode(invented, bpin, 0, totp(bob["secret"], bstep)), "AUTH",
           "KEY_AUTH_MODE back to explicit under an invented session")
    expect(sam, mode(sess["bob"], bpin, 0, ""), "AUTH", "KEY_AUTH_MODE back to explicit without an OTP")
    expect(sam, mode(sess["so"], bpin, 0, ""), "DENIED", "KEY_AUTH_MODE under the security officer's session")
    expect(sam, mode(sess["bob"], bpin, 7, totp(bob["secret"], bstep)), "PROTOCOL", "KEY_AUTH_MODE of an unknown mode")
    # the right OTP (a step bob's own change did not spend), a wrong PIN: refused
    for st in (bstep, bstep + 1, None):
        if st is None:
            fail("KEY_AUTH_MODE with a fresh OTP and a wrong PIN was never refused for the PIN")
        r, _ = sam.call(mode(sess["bob"], "pin-Guess-0000", 0, totp(bob["secret"], st)))
        if r == E["BAD_PIN"]:
            break
        if r != E["AUTH"]:
            fail("KEY_AUTH_MODE back to explicit with a wrong PIN: SAM answered %d" % r)
    expect(sam, bz(totp(bob["secret"], bstep + 1)), "DENIED",
           "AUTHORIZE of bob's key after the refused changes")
    ok("authMode oauth2code: the SAM refuses AUTHORIZE of the owner's OAuth-only key (session, PIN, OTP all right), "
       "and turns it back only for the owner's session with a fresh OTP and the PIN")

    # ---- 3. OTP brute force: the SAM counts, locks, and the lock survives a restart ----
    step = int(time.time()) // 30
    good = totp(alice["secret"], step)
    guesses = ["%06d" % i for i in range(1000000) if "%06d" % i not in
               {totp(alice["secret"], s) for s in range(step - 3, step + 4)}]
    authz = lambda otp: u8(AUTHORIZE) + string(sess["alice"]) + cstr(alice["cred"]) + cstr(otp) + \
        cstr(f["alice_pin"]) + cstr("") + u32(60) + u32(1) + string(b"\x01" * 32)
    consent_otp = lambda otp: consent(alice["id"], "c" * 32, alice["cred"], otp=otp)
    service_otp = lambda otp: service(alice["id"], otp=otp)
    # the guesses go through every door (credentials/authorize, the OAuth consent page with a
    # session and without one, the service grant): one counter for all, which the spent codes
    # above (LOGIN, consent, service) started
    doors = (authz, consent_otp, service_otp)
    for i, g in enumerate(guesses[:max_fail - 1 - spent]):
        expect(sam, doors[i % 3](g), "AUTH", "a wrong OTP guess")
    expect(sam, consent_otp(guesses[max_fail - 1]), "AUTH", "the last OTP guess before the lock")
    expect(sam, authz(good), "LOCKED", "the right OTP after %d wrong ones" % max_fail)
    expect(sam, consent_otp(good), "LOCKED", "the right OTP through OAUTH_CONSENT after the lock")
    expect(sam, service_otp(good), "LOCKED", "the right OTP through OAUTH_SERVICE after the lock")
    # the SAM's own record of each refused OAuth attempt names the client it was made for
    refused = [p for p in log_pending(sam) if p[2][2] == b"sam.oauth.consent" and
               p[2][3] == alice["cred"].encode() and p[2][4] != b"success"]
    if len(refused) < (max_fail - 1 - spent) // 3 + 2 or any(b"c" * 32 not in p[2][5] for p in refused):
        fail("the SAM's records of refused OAUTH_CONSENT do not name the client: %r" %
             [(p[2][4], p[2][5]) for p in refused][:5])
    expect(sam, u8(PERSON_UNLOCK) + string(sess["ro"]) + cstr(alice["id"]) + cstr(""), "AUTH",
           "PERSON_UNLOCK of locked alice without the officer's fresh OTP")
    expect(sam, u8(LOGIN) + cstr(alice["id"]) + string(invented) + cstr(good) + cstr("") + cstr("x"), "LOCKED",
           "a login of the locked person")
    sam.close()
    sam = Sam(sam_path, data)
    expect(sam, authz(good), "LOCKED", "the right OTP after a restart of the SAM")
    ok("OTP brute force through AUTHORIZE, OAUTH_CONSENT and OAUTH_SERVICE together (and codes a consent spent): locked after %d wrong codes, and still after a SAM "
       "restart" % max_fail)

    # ---- 4. replay: the used-step memory is persistent and cannot be flushed ----
    code = totp(bob["secret"], step)
    h1 = hashlib.sha256(b"hostile-1").digest()
    r, _ = sam.call(u8(LOGIN) + cstr(bob["id"]) + string(h1) + cstr(code) + cstr("") + cstr("x"))
    if r not in (0, E["AUTH"]):
        fail("bob's login with a fresh code: %d" % r)
    if r == E["AUTH"]:
        # bob's current step was spent by the test's own login: take the next one.
        time.sleep(30 - time.time() % 30 + 1)
        step = int(time.time()) // 30
        code = totp(bob["secret"], step)
        expect(sam, u8(LOGIN) + cstr(bob["id"]) + string(h1) + cstr(code) + cstr("") + cstr("x"), 0,
               "bob's login with the next code")
    for i in range(5000):
        sam.call(u8(LOGIN) + cstr("%032x" % i) + string(h1) + cstr(code) + cstr("") + cstr("x"))
    expect(sam, u8(LOGIN) + cstr(bob["id"]) + string(hashlib.sha256(b"h2").digest()) + cstr(code) +
           cstr("") + cstr("x"), "AUTH", "bob's code replayed after 5000 invented persons")
    sam.close()
    sam = Sam(sam_path, data)
    expect(sam, u8(LOGIN) + cstr(bob["id"]) + string(hashlib.sha256(b"h3").digest()) + cstr(code) +
           cstr("") + cstr("x"), "AUTH", "bob's code replayed after a SAM restart")
    ok("replay: one code, one act — after 5000 invented persons and after a SAM restart")

    # ---- 5. the SAM's own records: not dropped, not altered; the shutdown marker is its own ----
    expect(sam, u8(KEY_UNLOCK) + string(invented) + cstr(alice["cred"]), "AUTH", "one more refusal")
    pending = log_pending(sam)
    acts = [p[2][2] for p in pending]
    for want in (b"sam.start", b"sam.login", b"sam.key.unlock"):
        if want not in acts:
            fail("the SAM kept no record of %s: %r" % (want.decode(), acts[:20]))
    size, closed = log_head(sam)
    junk = hashlib.sha256(b"a leaf inkand made up").digest()
    expect(sam, extend(size, 1, [], [junk]), "INVALID", "a final head (shutdown marker) the SAM did not close")
    last = pending[-1]
    expect(sam, extend(size, 0, [(last[0], size + 1)], [junk]), "INVALID",
           "a head naming a SAM record at a leaf that is not it")
    expect(sam, extend(size, 0, [(last[0] + 100000, size + 1)], [junk]), "INVALID",
           "a head naming a SAM record the SAM never made")
    altered = (last[0], last[1], last[2][:4] + [b"success"] + last[2][5:], last[3])
    expect(sam, extend(size, 0, [(last[0], size + 1)], [leaf_of(altered, size + 1)]), "INVALID",
           "a head over an altered SAM record (result changed to success)")
    if len(pending) > 1:
        expect(sam, extend(size, 0, [(pending[1][0], size + 1)], [leaf_of(pending[1], size + 1)]),
               "INVALID", "a head over the SAM's records with the oldest one dropped")
        # several nodes' checkpoints name each SAM record once: never one twice
        p0 = pending[0]
        expect(sam, extend(size, 0, [(p0[0], size + 1), (p0[0], size + 2)],
                           [leaf_of(p0, size + 1), leaf_of(p0, size + 2)]), "INVALID",
               "a head naming one SAM record twice")
        p1 = pending[1]
        expect(sam, extend(size, 0, [(p1[0], size + 1), (p0[0], size + 2)],
                           [leaf_of(p1, size + 1), leaf_of(p0, size + 2)]), "INVALID",
               "a head over the SAM's two oldest records in the wrong order")
    # a size that is not the last head's: refused before anything is checked (another node's
    # SAM signed first: the caller reads back from the new head)
    expect(sam, extend(size + 1, 0, [], [junk]), "EXISTS", "a head that does not extend the last one")
    # The flood above left thousands: carried into the log a request at a time (at most 1000).
    carried = 0
    while True:
        pending = log_pending(sam)
        if not pending:
            break
        size, _ = log_head(sam)
        expect(sam, extend(size, 0, [(p[0], size + 1 + i) for i, p in enumerate(pending)],
                           [leaf_of(p, size + 1 + i) for i, p in enumerate(pending)]), 0,
               "a head over the next %d SAM records" % len(pending))
        carried += len(pending)
    size, _ = log_head(sam)
    expect(sam, u8(LOG_CLOSE), 0, "LOG_CLOSE")
    expect(sam, u8(KEY_UNLOCK) + string(sess["ro"]) + cstr(alice["cred"]), "DISABLED",
           "an act after the log's close")
    pending = log_pending(sam)
    if pending[-1][2][2] != b"sam.log.close":
        fail("the SAM's close is not its last record: %r" % pending[-1][2][2])
    leaves = [leaf_of(p, size + 1 + i) for i, p in enumerate(pending)]
    pairs = [(p[0], size + 1 + i) for i, p in enumerate(pending)]
    expect(sam, extend(size, 1, pairs[:-1], leaves[:-1]), "INVALID",
           "a final head without the SAM's own close record")
    if log_head(sam) != (size, 0):
        fail("a refused head changed the SAM's state")
    expect(sam, extend(size, 1, pairs, leaves), 0, "the final head over every SAM record")
    if log_head(sam) != (size + len(leaves), 1):
        fail("the final head is not the closed head over the SAM's records")
    ok("the SAM's own records (%d): a head that drops, alters, misplaces, reorders, repeats or "
       "invents one, or does "
       "not extend the last head, is refused; "
       "the close is the SAM's own record, after which it serves the log only" % (carried + len(pending)))
    sam.close()


if __name__ == "__main__":
    main()
