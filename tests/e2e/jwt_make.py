#!/usr/bin/python3
"""jwt_make: signs a compact JWS for the OAuth tests (t_oauth_jwt.sh) with the Python
cryptography package — a signer we did not write, so that inkan's verifier is checked against
an independent one. Prints the token.

Usage: jwt_make.py ALG CLAIMS_JSON [--key PEM_FILE] [--hmac-secret S] [--hmac-raw-hex H]
                   [--header JSON]
  ALG ES256 | ES384 | RS256 | PS256 (with --key, a private key), HS256 (keyed by
  SHA-256(S) as CSC's account_token is, or by the raw bytes H), none."""

import argparse
import base64
import hashlib
import hmac
import json
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


p = argparse.ArgumentParser()
p.add_argument("alg")
p.add_argument("claims")
p.add_argument("--key")
p.add_argument("--hmac-secret")
p.add_argument("--hmac-raw-hex")
p.add_argument("--header")
a = p.parse_args()

header = json.loads(a.header) if a.header else {"alg": a.alg, "typ": "JWT"}
signing_input = (b64u(json.dumps(header, separators=(",", ":")).encode()) + "." +
                 b64u(json.dumps(json.loads(a.claims), separators=(",", ":")).encode())).encode()
sig = b""
if a.alg in ("ES256", "ES384", "RS256", "PS256"):
    key = serialization.load_pem_private_key(open(a.key, "rb").read(), password=None)
    h = hashes.SHA384() if a.alg == "ES384" else hashes.SHA256()
    if a.alg.startswith("ES"):
        r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(h)))
        n = (key.curve.key_size + 7) // 8
        sig = r.to_bytes(n, "big") + s.to_bytes(n, "big")
    elif a.alg == "PS256":
        sig = key.sign(signing_input, padding.PSS(mgf=padding.MGF1(h), salt_length=32), h)
    else:
        sig = key.sign(signing_input, padding.PKCS1v15(), h)
elif a.alg == "HS256":
    k = (bytes.fromhex(a.hmac_raw_hex) if a.hmac_raw_hex is not None else
         hashlib.sha256(a.hmac_secret.encode()).digest())
    sig = hmac.new(k, signing_input, hashlib.sha256).digest()
elif a.alg != "none":
    sys.exit("unknown alg")
print(signing_input.decode() + "." + b64u(sig))
