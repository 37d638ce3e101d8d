"""oauth_common: what the OAuth e2e scripts share (oauth_browser.py, oauth_hostile.py,
oauth_service.py): their "ok"/"FAIL" lines, base64url, the next unused TOTP code of a test user (lib.sh's record of used
steps, $T/otp/USER), and headless Chromium as the tests run it."""

import base64
import os
import subprocess
import sys
import time


def fail(msg):
    print("FAIL " + msg, flush=True)
    sys.exit(1)


def ok(msg):
    print("ok " + msg, flush=True)


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def otp_next(tmp, user):
    """The code of the earliest step after the last one used; waits when that step is ahead."""
    secret = open(f"{tmp}/users/{user}.secret").read().strip()
    path = f"{tmp}/otp/{user}"
    last = int(open(path).read().strip()) if os.path.exists(path) else 0
    while True:
        now = int(time.time())
        cur, remain = now // 30, 30 - now % 30
        step = last + 1
        # cur-1 is only safe if the request reaches the server before the step turns
        if step < cur:
            step = cur - 1 if remain > 4 else cur
        if step <= cur + 1:
            break
        time.sleep((step - 1) * 30 - now + 1)
    with open(path, "w") as f:
        f.write(f"{step}\n")
    s = secret + "=" * (-len(secret) % 8)
    return subprocess.check_output(["oathtool", "--totp", "-b", s, "-N", f"@{step * 30}"],
                                   text=True).strip()


def chromium(tmp, height=1400):
    """Headless Chromium through chromedriver (as root: no sandbox), its profile under tmp."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
              f"--window-size=1100,{height}", "--ignore-certificate-errors", "--lang=en-US",
              f"--user-data-dir={tmp}/chromium-profile"):
        opts.add_argument(a)
    opts.binary_location = "/usr/bin/chromium"
    opts.accept_insecure_certs = True
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
