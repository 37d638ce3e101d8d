#!/usr/bin/env python3
"""sam_conc: a compromised inkand on several SAM channels at once.
Usage: sam_conc.py INKAN_SAM DATA FACTS.json LOG"""
import hashlib, json, os, socket, struct, subprocess, sys, threading, time

PING, KEY_CREATE, KEY_GET, KEY_REVOKE, AUTHORIZE, SIGN = 1, 10, 12, 15, 23, 24
LOGIN, PERSON_GET, LOG_PENDING = 51, 60, 42
OK, ERR = 0x80, 0x81
E = {"AUTH": 7, "LOCKED": 9, "NOT_FOUND": 5, "DENIED": 8, "PROTOCOL": 19}
LOG = os.devnull


def fail(msg):
    print("sam_conc: FAIL: " + msg, flush=True)
    sys.exit(1)


FINDINGS = []


def finding(msg):
    print("sam_conc: FINDING: " + msg, flush=True)
    FINDINGS.append(msg)


def ok(msg):
    print("sam_conc: ok - " + msg, flush=True)


# the SAM protocol's encodings and TOTP, as the single-channel attacker speaks them
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sam_hostile import cstr, get_string, string, totp, u8, u32, u64  # noqa: E402

# SAM_MSG_SIGN's salt: none (not RSASSA-PSS)
NO_SALT = u32(0xFFFFFFFF)


class Chan:
    def __init__(self, sock):
        self.s = sock
        self.s.settimeout(120)

    def call(self, payload):
        self.s.sendall(u32(len(payload)) + payload)
        n = struct.unpack(">I", self._read(4))[0]
        rep = self._read(n)
        if rep[0] == OK:
            return 0, rep[1:]
        return struct.unpack(">I", rep[1:5])[0], b""

    def _read(self, n):
        b = b""
        while len(b) < n:
            try:
                c = self.s.recv(n - len(b))
            except socket.timeout:
                fail("no answer from inkan-sam within 120 s (deadlock?)")
            if not c:
                fail("inkan-sam closed the channel")
            b += c
        return b


class Sam:
    def __init__(self, path, data, n):
        pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(n)]
        fds = [p[1].fileno() for p in pairs]
        self.proc = subprocess.Popen([path, "--fd", ",".join(map(str, fds)), "--data", data],
                                     pass_fds=fds, stderr=open(LOG, "a"))
        for p in pairs:
            p[1].close()
        self.ch = [Chan(p[0]) for p in pairs]

    def close(self):
        for c in self.ch:
            c.s.close()
        self.proc.wait(timeout=60)


def pending_all(ch):
    out, after = [], 0
    while True:
        r, rep = ch.call(u8(LOG_PENDING) + u64(after))
        if r != 0:
            fail("LOG_PENDING: %d" % r)
        _, off = get_string(rep, 0)
        n = struct.unpack(">I", rep[off:off + 4])[0]
        off += 4
        if n == 0:
            return out
        for _ in range(n):
            rid, t = struct.unpack(">QQ", rep[off:off + 16])
            off += 16
            f = []
            for _ in range(6):
                v, off = get_string(rep, off)
                f.append(v.decode())
            out.append((rid, f))
            after = rid
        if n < 1000:
            return out


def main():
    global LOG
    sam_path, data, facts_path, LOG = sys.argv[1:5]
    f = json.load(open(facts_path))
    alice, bob = f["alice"], f["bob"]
    sess = {k: bytes.fromhex(v) for k, v in f["sessions"].items()}
    pin = f["pin"]
    sam = Sam(sam_path, data, 8)
    c = sam.ch
    if c[0].call(u8(PING))[0] != 0:
        fail("ping")

    # ---- 1. a person locked while their authorization waits for Argon2id ----
    now = time.time()
    cur = int(now) // 30
    step = max(alice["last"] + 1, cur - 1 if now % 30 < 25 else cur)
    while step > cur + 1:
        time.sleep(1)
        cur = int(time.time()) // 30
    code = totp(alice["secret"], step)
    res = {}

    def create():
        t0 = time.time()
        res["create"] = c[0].call(u8(KEY_CREATE) + string(sess["bob"]) + cstr("P-256") + cstr(pin) + u8(0))[0]
        res["create_t"] = time.time() - t0

    def authz():
        res["authz"] = c[1].call(u8(AUTHORIZE) + string(sess["alice"]) + cstr(alice["cred"]) + cstr(code) +
                                 cstr(pin) + cstr("") + u32(60) + u32(1) + string(b"\x42" * 32))
        res["authz_done"] = time.time()

    t1 = threading.Thread(target=create)
    t1.start()
    time.sleep(0.3)           # bob's key creation holds the only Argon2id slot
    t2 = threading.Thread(target=authz)
    t2.start()
    time.sleep(0.3)           # alice's OTP is checked; her PIN stretching waits for the slot
    codes = []
    for i in range(f["max_login_failures"]):
        wrong = "%06d" % ((int(code) + 1 + i) % 1000000)
        codes.append(c[2].call(u8(LOGIN) + cstr(alice["id"]) + string(hashlib.sha256(b"x%d" % i).digest()) +
                               cstr(wrong) + cstr("") + cstr("x"))[0])
    r, rep = c[2].call(u8(PERSON_GET) + cstr(alice["id"]))
    locked_at = time.time()
    status_after_lock = None
    if r == 0:
        off = 0
        for _ in range(3):
            _, off = get_string(rep, off)
        status_after_lock = struct.unpack(">I", rep[off + 4:off + 8])[0]
    t2.join()
    t1.join()
    ar, arep = res["authz"]
    print("sam_conc: info: key creation %d in %.2fs; wrong-code logins %r; alice's status %r at %.2f; "
          "authorize -> %d at %.2f" % (res["create"], res["create_t"], codes, status_after_lock,
                                       locked_at - now, ar, res["authz_done"] - now), flush=True)
    if status_after_lock == 2 and locked_at < res["authz_done"] and ar == 0:
        sad, _ = get_string(arep, 0)
        sr, _ = c[3].call(u8(SIGN) + cstr(alice["id"]) + string(sess["alice"]) + cstr(alice["cred"]) +
                          string(sad) + cstr("1.2.840.10045.4.3.2") + cstr("") + NO_SALT + u32(1) + string(b"\x42" * 32))
        finding("alice was LOCKED (after %d wrong codes) before her authorization returned, and the "
             "SAM still minted a SAD for her; SIGN with it -> %d (0 = signed for a locked person)"
             % (len(codes), sr))
    else:
        ok("no SAD minted for a person locked during the authorization")

    # ---- 2. every act recorded once, with its actor, under a concurrent mix ----
    before = pending_all(c[5])
    start = before[-1][0] if before else 0
    sent = {}
    lock = threading.Lock()

    def count(key):
        with lock:
            sent[key] = sent.get(key, 0) + 1

    def creates(ch, n):
        for _ in range(n):
            r, _ = ch.call(u8(KEY_CREATE) + string(sess["bob"]) + cstr("P-256") + cstr(pin) + u8(0))
            count(("sam.key.create", "bob", r))

    def logins(ch, n):
        for i in range(n):
            r, _ = ch.call(u8(LOGIN) + cstr("%032x" % (i + 7)) + string(os.urandom(32)) + cstr("000000") +
                           cstr("") + cstr("x"))
            count(("sam.login", "", r))

    def signs(ch, n):
        for _ in range(n):
            r, _ = ch.call(u8(SIGN) + cstr(alice["id"]) + string(sess["alice"]) + cstr(alice["cred"]) +
                           string(os.urandom(32)) + cstr("1.2.840.10045.4.3.2") + cstr("") + NO_SALT + u32(1) +
                           string(os.urandom(32)))
            count(("sam.sign", alice["id"], r))

    def revokes(ch, n):
        for _ in range(n):
            r, _ = ch.call(u8(KEY_REVOKE) + string(sess["bob"]) + cstr(alice["cred"]) + u32(1))
            count(("sam.key.revoke", "bob", r))

    def reads(ch, n):
        for _ in range(n):
            ch.call(u8(KEY_GET) + cstr("") + cstr(alice["cred"]))
            ch.call(u8(PERSON_GET) + cstr(bob["id"]))

    def pendings(ch, n):
        for _ in range(n):
            ch.call(u8(LOG_PENDING) + u64(start))

    jobs = [(creates, c[0], 3), (creates, c[1], 3), (logins, c[2], 300), (signs, c[3], 300),
            (revokes, c[4], 150), (reads, c[5], 200), (pendings, c[6], 40), (signs, c[7], 300)]
    th = [threading.Thread(target=j[0], args=(j[1], j[2])) for j in jobs]
    t0 = time.time()
    for t in th:
        t.start()
    for t in th:
        t.join()
    recs = [r for r in pending_all(c[5]) if r[0] > start]
    got = {}
    for rid, (actor, role, action, subject, result, detail) in recs:
        res = 0 if result == "success" else result
        key = (action, "" if actor == "-" else actor, res)
        got[key] = got.get(key, 0) + 1
    want = {}
    names = {0: 0, 7: "authentication failed", 5: "not found", 23: None}
    by_action_sent, by_action_got = {}, {}
    for (a, actor, r), n in sent.items():
        by_action_sent[(a, actor)] = by_action_sent.get((a, actor), 0) + n
    for (a, actor, r), n in got.items():
        by_action_got[(a, actor)] = by_action_got.get((a, actor), 0) + n
    print("sam_conc: info: %.1fs; sent %r" % (time.time() - t0, sorted(sent.items())), flush=True)
    print("sam_conc: info: recorded %r" % sorted(by_action_got.items()), flush=True)
    if by_action_sent != by_action_got:
        finding("the SAM's records do not match the acts: sent %r, recorded %r" %
                (sorted(by_action_sent.items()), sorted(by_action_got.items())))
    else:
        ok("%d concurrent acts on 8 channels, each recorded once under its actor" % len(recs))
    # ---- 3. one SAD of 200 hashes spent on 6 channels at once, a revocation in the middle ----
    r, rep = c[0].call(u8(KEY_CREATE) + string(sess["bob"]) + cstr("P-256") + cstr(pin) + u8(0))
    if r != 0:
        fail("bob's key: %d" % r)
    kb, _ = get_string(rep, 0)
    kb = kb.decode()
    now = time.time()
    cur = int(now) // 30
    bstep = max(bob["last"] + 1, cur - 1 if now % 30 < 25 else cur)
    while bstep > int(time.time()) // 30 + 1:
        time.sleep(1)
    hashes = [os.urandom(32) for _ in range(1000)]
    r, rep = c[0].call(u8(AUTHORIZE) + string(sess["bob"]) + cstr(kb) + cstr(totp(bob["secret"], bstep)) +
                       cstr(pin) + cstr("") + u32(120) + u32(len(hashes)) + b"".join(string(h) for h in hashes))
    if r != 0:
        fail("bob's authorization: %d" % r)
    sad, _ = get_string(rep, 0)
    signed, late = {}, []
    revoked_at = [None]

    def spend(ch, order):
        for i in order:
            t = time.time()
            r, _ = ch.call(u8(SIGN) + cstr(bob["id"]) + string(sess["bob"]) + cstr(kb) + string(sad) +
                           cstr("1.2.840.10045.4.3.2") + cstr("") + NO_SALT + u32(1) + string(hashes[i]))
            if r == 0:
                with lock:
                    signed[i] = signed.get(i, 0) + 1
                    if revoked_at[0] is not None and t > revoked_at[0]:
                        late.append(i)

    def revoke(ch):
        time.sleep(0.3)
        r, _ = ch.call(u8(KEY_REVOKE) + string(sess["bob"]) + cstr(kb) + u32(1))
        revoked_at[0] = time.time()
        if r != 0:
            finding("bob's revocation: %d" % r)

    import random
    th = [threading.Thread(target=spend, args=(c[i], random.sample(range(1000), 200))) for i in range(6)]
    th.append(threading.Thread(target=revoke, args=(c[6],)))
    for t in th:
        t.start()
    for t in th:
        t.join()
    twice = [i for i, n in signed.items() if n > 1]
    recs = [r for r in pending_all(c[5]) if r[0] > start]
    sign_ok = sum(1 for _, f_ in recs if f_[2] == "sam.sign" and f_[3] == kb and f_[4] == "success")
    print("sam_conc: info: %d hashes signed (of 1000) before the revocation; %d recorded as signed"
          % (len(signed), sign_ok), flush=True)
    if twice:
        finding("a SAD's hash signed more than once: %r" % twice[:5])
    if late:
        finding("signatures started after the revocation returned: %r" % late[:5])
    if sign_ok != sum(signed.values()):
        finding("%d signatures handed out, %d recorded" % (sum(signed.values()), sign_ok))
    if not twice and not late and sign_ok == sum(signed.values()):
        ok("one SAD spent on 6 channels: each hash at most once, none after the revocation, each recorded")
    if sam.proc.poll() is not None:
        finding("inkan-sam exited: %r" % sam.proc.returncode)
    sam.close()
    if FINDINGS:
        sys.exit(1)


main()
