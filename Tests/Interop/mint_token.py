#!/usr/bin/env python3
"""Mints tokens the way Supabase (GoTrue) and Payload CMS do, with PyJWT and `cryptography`.

An implementation independent of the adapters: the Swift interop tests run this script and check
that the adapters accept what it prints. Output is one JSON object on standard output:
``{"token": ..., "claims": {...}}``, plus ``"jwks"`` (the public key set) for asymmetric modes.

Modes:
  supabase-hs256 SECRET SUB EMAIL
  supabase-es256 SUB EMAIL
  supabase-rs256 SUB EMAIL
  payload SECRET ID COLLECTION EMAIL SID
"""

import hashlib
import json
import sys
import time
import uuid

try:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from jwt.algorithms import ECAlgorithm, RSAAlgorithm
except ImportError as missing:
    sys.exit(f"mint_token.py needs PyJWT and cryptography (run the tests with scripts/test, which installs Tests/Interop/requirements.txt into .build/venv): {missing}")

SUPABASE_ISSUER = "http://127.0.0.1:54321/auth/v1"


def supabase_claims(sub, email):
    """A GoTrue access token's claims, in GoTrue's order, issued now and valid one hour."""
    issued_at = int(time.time())
    return {
        "iss": SUPABASE_ISSUER,
        "sub": sub,
        "aud": "authenticated",
        "exp": issued_at + 3600,
        "iat": issued_at,
        "email": email,
        "phone": "",
        "app_metadata": {"provider": "email", "providers": ["email"]},
        "user_metadata": {"name": "Interop"},
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": issued_at}],
        "session_id": str(uuid.uuid4()),
        "is_anonymous": False,
    }


def public_jwk(algorithm, public_key, kid, alg):
    """The public JWK as Supabase publishes it: key material plus kid, alg and use."""
    jwk = json.loads(algorithm.to_jwk(public_key))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    return jwk


def supabase_hs256(secret, sub, email):
    claims = supabase_claims(sub, email)
    token = jwt.encode(claims, secret.encode("utf-8"), algorithm="HS256")
    return {"token": token, "claims": claims}


def supabase_es256(sub, email):
    private_key = ec.generate_private_key(ec.SECP256R1())
    kid = str(uuid.uuid4())
    claims = supabase_claims(sub, email)
    token = jwt.encode(claims, private_key, algorithm="ES256", headers={"kid": kid})
    jwk = public_jwk(ECAlgorithm, private_key.public_key(), kid, "ES256")
    return {"token": token, "claims": claims, "jwks": {"keys": [jwk]}}


def supabase_rs256(sub, email):
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = str(uuid.uuid4())
    claims = supabase_claims(sub, email)
    token = jwt.encode(claims, private_key, algorithm="RS256", headers={"kid": kid})
    jwk = public_jwk(RSAAlgorithm, private_key.public_key(), kid, "RS256")
    return {"token": token, "claims": claims, "jwks": {"keys": [jwk]}}


def payload_key(secret):
    """Payload's HMAC key: the first 32 characters of the lowercase hex SHA-256, as ASCII bytes."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:32].encode("ascii")


def payload(secret, user_id, collection, email, sid):
    issued_at = int(time.time())
    claims = {
        "id": int(user_id) if user_id.isdigit() else user_id,
        "collection": collection,
        "email": email,
        "sid": sid,
        "iat": issued_at,
        "exp": issued_at + 7200,
    }
    token = jwt.encode(claims, payload_key(secret), algorithm="HS256")
    return {"token": token, "claims": claims}


MODES = {
    "supabase-hs256": (supabase_hs256, 3),
    "supabase-es256": (supabase_es256, 2),
    "supabase-rs256": (supabase_rs256, 2),
    "payload": (payload, 5),
}


def main(arguments):
    if not arguments or arguments[0] not in MODES:
        sys.exit(__doc__)
    mint, arity = MODES[arguments[0]]
    if len(arguments) - 1 != arity:
        sys.exit(f"{arguments[0]} takes {arity} arguments\n{__doc__}")
    print(json.dumps(mint(*arguments[1:])))


if __name__ == "__main__":
    main(sys.argv[1:])
