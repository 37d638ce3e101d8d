#!/usr/bin/env python3
"""net_attack: an attacker on the network, for t_network.sh. Each mode speaks TLS to inkand
from its own loopback source addresses (127.0.0.2, ...) and prints one JSON line of what
happened.

  logins    --n N: N logins for unknown users at once (Argon2id work for nothing); with
            --seconds S each connection sends one login after another for S seconds
  slowloris --n N --seconds S: N connections that send one header byte every --interval
            seconds and reconnect whenever they are cut, for S seconds
  hold      --n N: N connections from each source that complete TLS and then send nothing;
            counts how many the server keeps (per-source connection limit)
"""
import argparse
import asyncio
import base64
import json
import resource
import ssl
import sys
import time


def tls_context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = False
    return ctx


async def open_tls(args, src):
    return await asyncio.wait_for(
        asyncio.open_connection(args.host, args.port, ssl=tls_context(args.cafile),
                                local_addr=(src, 0), server_hostname="localhost"),
        timeout=args.connect_timeout)


def source(args, i):
    return args.sources[i % len(args.sources)]


async def one_login(args, i, counts):
    try:
        r, w = await open_tls(args, source(args, i))
    except Exception:
        counts["connect_failed"] = counts.get("connect_failed", 0) + 1
        return
    cred = base64.b64encode(f"nobody{i}:not-a-password-{i}".encode()).decode()
    body = b'{"otp": "123456"}'
    req = (f"POST /csc/v2/auth/login HTTP/1.1\r\nHost: localhost\r\n"
           f"Authorization: Basic {cred}\r\nContent-Type: application/json\r\n"
           f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode() + body
    try:
        w.write(req)
        await w.drain()
        line = await asyncio.wait_for(r.readline(), timeout=args.reply_timeout)
        parts = line.decode(errors="replace").split()
        key = parts[1] if len(parts) > 1 else "no_reply"
        while True:
            h = await asyncio.wait_for(r.readline(), timeout=args.reply_timeout)
            if h in (b"\r\n", b""):
                break
            if h.lower().startswith(b"retry-after:"):
                counts["retry_after_" + key] = counts.get("retry_after_" + key, 0) + 1
    except Exception:
        key = "reset"
    counts[key] = counts.get(key, 0) + 1
    w.close()


async def login_loop(args, i, counts, deadline):
    await one_login(args, i, counts)
    while time.monotonic() < deadline:
        await one_login(args, i, counts)


async def logins(args):
    counts = {}
    t0 = time.monotonic()
    # --seconds 0: one login each; else each keeps sending logins until the time is up
    deadline = t0 + args.seconds if args.seconds > 0 else 0
    await asyncio.gather(*(login_loop(args, i, counts, deadline) for i in range(args.n)))
    counts["seconds"] = round(time.monotonic() - t0, 2)
    return counts


async def slow_conn(args, i, stats, deadline):
    src = source(args, i)
    header = b"POST /csc/v2/auth/login HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
    while time.monotonic() < deadline:
        try:
            r, w = await open_tls(args, src)
        except Exception:
            stats["connect_failed"] += 1
            await asyncio.sleep(0.5)
            continue
        stats["opened"] += 1
        t0 = time.monotonic()
        pos = 0
        try:
            while time.monotonic() < deadline:
                w.write(header[pos % len(header):pos % len(header) + 1])
                pos += 1
                await w.drain()
                try:
                    data = await asyncio.wait_for(r.read(1), timeout=args.interval)
                    if data == b"":
                        raise ConnectionResetError()
                except asyncio.TimeoutError:
                    pass
        except Exception:
            stats["cut"] += 1
            stats["longest_held"] = max(stats["longest_held"], round(time.monotonic() - t0, 1))
            continue
        w.close()


async def slowloris(args):
    stats = {"opened": 0, "cut": 0, "connect_failed": 0, "longest_held": 0.0}
    deadline = time.monotonic() + args.seconds
    await asyncio.gather(*(slow_conn(args, i, stats, deadline) for i in range(args.n)))
    return stats


async def hold(args):
    kept = {}
    conns = []

    async def one(i):
        src = source(args, i)
        try:
            r, w = await open_tls(args, src)
        except Exception:
            return
        conns.append((src, r, w))

    await asyncio.gather(*(one(i) for i in range(args.n * len(args.sources))))
    await asyncio.sleep(args.settle)
    for src, r, w in conns:
        try:
            data = await asyncio.wait_for(r.read(1), timeout=0.05)
            alive = data != b""
        except asyncio.TimeoutError:
            alive = True
        except Exception:
            alive = False
        if alive:
            kept[src] = kept.get(src, 0) + 1
        w.close()
    return {"kept": kept}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["logins", "slowloris", "hold"])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--cafile", required=True)
    ap.add_argument("--sources", default="127.0.0.2")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=0)
    ap.add_argument("--interval", type=float, default=12)
    ap.add_argument("--settle", type=float, default=1)
    ap.add_argument("--connect-timeout", type=float, default=20)
    ap.add_argument("--reply-timeout", type=float, default=120)
    args = ap.parse_args()
    args.sources = args.sources.split(",")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    out = asyncio.run({"logins": logins, "slowloris": slowloris, "hold": hold}[args.mode](args))
    print(json.dumps(out))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
