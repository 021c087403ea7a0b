#!/usr/bin/env python3
"""The bridge with the OIDC adapter, called over raw HTTP with access tokens as Auth0, Clerk,
Keycloak or Cognito mint them: RS256 and ES256 keys generated here, tokens signed by PyJWT, the
issuer's JWKS served by a small ``http.server`` on a loopback port, so that the test can rotate
keys by changing what it serves.

Covers non-UUID subjects (``auth0|…``, ``user_2…``) mapped to the user id the adapter's SQL part
derives from issuer and subject (checked here with Python's ``uuid.uuid5``), two issuers sharing
one database without sharing a user, every token the adapter must refuse (issuer, audience,
algorithm allow-list, unknown ``kid``, lifetime, tampering) with PostgREST's 401 and nothing
written, email-bound invitations accepted only with an email the issuer marks verified, key
rotation by ``kid`` (one rate-limited JWKS refresh), and a JWKS that is down when the bridge
starts. With psycopg, what each call wrote, or that a refused call wrote nothing. When the
module ends, each bridge must exit 0 on SIGTERM and its log must hold no token.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
OIDC migrations); see bridge_common.py.
"""

import base64
import concurrent.futures
import hashlib
import hmac
import http.server
import json
import secrets
import signal
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from bridge_common import (
    CORE_TABLES, DATABASE_URL, Bridge, BridgeTestCase, Database, call, main, require_environment)

# Adapters/OIDC/SQL/0001_oidc.sql, core.oidc_user_id: uuid version 5 of this namespace and
# '<issuer>' LF '<subject>', exactly what Python's uuid.uuid5 computes.
OIDC_NAMESPACE = uuid.UUID("6d3f1c5e-2b7a-5e0f-9c41-8a2d7b6e4f10")
AUDIENCE = "https://api.smta.test"
LEEWAY = 10  # SMTA_JWT_LEEWAY of every bridge here, in seconds
TEAM_ROLE = "team"
# The tables a call may change, with the adapter's identity links.
TABLES = CORE_TABLES + ("core.identity_links",)

database = None
jwks = None
minted = []
# The bridges and their issuers, set by setUpModule.
main_bridge = other_bridge = None
ISSUER = OTHER_ISSUER = None
KEYS = {}


# ---------------------------------------------------------------------------------------------
# The issuer's side: keys, tokens and the JWKS endpoint
# ---------------------------------------------------------------------------------------------

def _segment(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_segment(value):
    return _segment(json.dumps(value, separators=(",", ":")).encode("utf-8"))


def keep(token):
    """Remembers ``token`` for the check that no bridge logs a credential."""
    minted.append(token)
    return token


class SigningKey:
    """An issuer's key pair: RS256 (RSA 2048) or ES256 (P-256), named by ``kid``."""

    def __init__(self, algorithm, kid):
        self.algorithm = algorithm
        self.kid = kid
        if algorithm.startswith("RS"):
            self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            self._jwk_algorithm = RSAAlgorithm
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            self._jwk_algorithm = ECAlgorithm
        self.public = self.private.public_key()

    def jwk(self, declare_alg=True, **extra):
        """The public JWK as an issuer publishes it (kid, use sig, alg unless ``declare_alg`` is false)."""
        key = json.loads(self._jwk_algorithm.to_jwk(self.public))
        key.update({"kid": self.kid, "use": "sig"})
        if declare_alg:
            key["alg"] = self.algorithm
        key.update(extra)
        return key

    def public_pem(self):
        return self.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, claims, algorithm=None, kid=None, **header):
        """``claims`` signed by this key (PyJWT), ``kid`` in the header unless ``kid`` is False."""
        fields = dict(header)
        if kid is not False:
            fields["kid"] = kid or self.kid
        return keep(jwt.encode(claims, self.private, algorithm=algorithm or self.algorithm, headers=fields))


# claims_for(verified=MISSING): a token without the email_verified claim.
MISSING = object()


def claims_for(subject, issuer=None, email=None, verified=True, lifetime=600, **overrides):
    """An access token's claims as Auth0 or Clerk write them, issued now; ``verified`` is the
    email_verified claim (``MISSING`` leaves it out); an override of None removes the claim."""
    issued_at = int(time.time())
    claims = {
        "iss": ISSUER if issuer is None else issuer,
        "sub": subject,
        "aud": [AUDIENCE, "https://tenant.example.com/userinfo"],
        "iat": issued_at,
        "exp": issued_at + lifetime,
        "azp": "interop-client",
        "scope": "openid profile email",
    }
    if email is not None:
        claims["email"] = email
        if verified is not MISSING:
            claims["email_verified"] = verified
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims


def hs256(claims, secret, kid):
    """An HS256 token signed by hand: PyJWT refuses to use a PEM public key as an HMAC secret,
    which is exactly the key-confusion attack this builds."""
    header = _json_segment({"alg": "HS256", "typ": "JWT", "kid": kid})
    signing_input = f"{header}.{_json_segment(claims)}".encode("ascii")
    return keep(f"{signing_input.decode()}.{_segment(hmac.new(secret, signing_input, hashlib.sha256).digest())}")


def with_payload(token, claims):
    """``token`` with its payload replaced by ``claims`` and its header and signature kept."""
    header, _, signature = token.split(".")
    return keep(f"{header}.{_json_segment(claims)}.{signature}")


class JWKSServer:
    """The issuer's JWKS endpoint: serves, per path, a document (or an error status) that a test
    may change at any time, and counts the GETs of each path."""

    def __init__(self):
        self.lock = threading.Lock()
        self.documents = {}
        self.fetches = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.fetches[self.path] = server.fetches.get(self.path, 0) + 1
                    status, body = server.documents.get(self.path, (404, b'{"error":"not found"}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def publish(self, path, keys):
        """Serves ``{"keys": keys}`` (JWK dicts) at ``path``."""
        with self.lock:
            self.documents[path] = (200, json.dumps({"keys": keys}).encode("utf-8"))

    def fail(self, path, status=503):
        with self.lock:
            self.documents[path] = (status, b'{"error":"unavailable"}')

    def fetch_count(self, path):
        with self.lock:
            return self.fetches.get(path, 0)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def oidc_bridge(name, issuer, jwks_path, **settings):
    """A bridge with the OIDC adapter for ``issuer``, its JWKS at ``jwks_path`` of the server."""
    values = {
        "SMTA_ADAPTER": "oidc",
        "SMTA_DATABASE_URL": database.url,
        "SMTA_OIDC_ISSUER": issuer,
        "SMTA_OIDC_AUDIENCE": AUDIENCE,
        "SMTA_OIDC_ALGORITHMS": "RS256,ES256",
        "SMTA_JWKS_URL": jwks.url(jwks_path),
        "SMTA_JWT_LEEWAY": str(LEEWAY),
    }
    values.update(settings)
    return Bridge(name, values)


def wait_for_jwks_load(bridge, outcome="JWKS loaded", timeout=10.0):
    """Waits until ``bridge`` logged the outcome of its start-up JWKS fetch (``JWKS loaded``, or
    ``JWKS refresh failed`` when it failed: the adapter goes on, refreshing in the background), so
    that no test token shares that fetch or races it for the rate-limited refresh."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if outcome in bridge.log_text():
            return
        time.sleep(0.02)
    raise AssertionError(f"bridge {bridge.name} did not log {outcome!r} within {timeout:.0f} s:\n" + bridge.log_tail())


def bridge_with_jwks_down(name, path):
    """A started bridge whose JWKS at ``path`` answers 503, after its failed start-up fetch."""
    jwks.fail(path, 503)
    bridge = oidc_bridge(name, ISSUER, path).start()
    bridge.wait_for_health(200)
    wait_for_jwks_load(bridge, outcome="JWKS refresh failed")
    return bridge


def user_id(issuer, subject):
    """The SMTA user id core.oidc_user_id derives for ``subject`` of ``issuer``."""
    return str(uuid.uuid5(OIDC_NAMESPACE, f"{issuer}\n{subject}"))


class Person:
    """A user of an issuer: a subject (``auth0|…`` by default), an email, the SMTA id it maps to."""

    def __init__(self, label, subject=None, issuer=None, key=None):
        tag = secrets.token_hex(5)
        self.subject = subject or f"auth0|{label}{tag}"
        self.email = f"{label}.{tag}@example.com"
        self.issuer = issuer or ISSUER
        self.key = key or KEYS["rsa"]
        self.smta_id = user_id(self.issuer, self.subject)

    def token(self, verified=True, key=None, **overrides):
        """A fresh, valid access token (a new ``jti`` each time)."""
        overrides.setdefault("jti", secrets.token_hex(8))
        return (key or self.key).sign(
            claims_for(self.subject, self.issuer, self.email, verified, **overrides))


def rpc(bridge, name, arguments=None, token=None, headers=None):
    headers = dict(headers or {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return call(bridge.url, "POST", f"/rest/v1/rpc/{name}", arguments or {}, headers)


def links_of(subject):
    """core.identity_links rows of ``subject`` (any issuer): (user_id, provider, email)."""
    return database.rows(
        "select user_id::text, provider, email from core.identity_links where subject = %s order by provider",
        (subject,))


def users_meta_email(smta_id):
    return database.value("select email from core.users_meta where id = %s::uuid", (smta_id,))


def setUpModule():
    global database, jwks, main_bridge, other_bridge, ISSUER, OTHER_ISSUER
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    database = Database(url)
    jwks = JWKSServer()
    # The issuer and its keys live on the same loopback origin, as with a real issuer.
    ISSUER = f"http://127.0.0.1:{jwks.port}/"
    OTHER_ISSUER = f"http://localhost:{jwks.port}/tenant-b"
    KEYS.update({
        "rsa": SigningKey("RS256", "rsa-" + secrets.token_hex(4)),
        "ec": SigningKey("ES256", "ec-" + secrets.token_hex(4)),
        "enc": SigningKey("RS256", "enc-" + secrets.token_hex(4)),
        "other": SigningKey("RS256", "other-" + secrets.token_hex(4)),
    })
    KEYS["oct"] = secrets.token_bytes(32)
    jwks.publish("/.well-known/jwks.json", [
        KEYS["rsa"].jwk(),
        # No alg: P-256 implies ES256.
        KEYS["ec"].jwk(declare_alg=False),
        # An encryption key and a symmetric key: a JWKS may hold them; neither verifies anything.
        KEYS["enc"].jwk(use="enc"),
        {"kty": "oct", "kid": "oct-1", "alg": "HS256", "k": _segment(KEYS["oct"])},
    ])
    jwks.publish("/tenant-b/jwks.json", [KEYS["other"].jwk()])
    main_bridge = oidc_bridge("oidc", ISSUER, "/.well-known/jwks.json").start()
    other_bridge = oidc_bridge("oidc-tenant-b", OTHER_ISSUER, "/tenant-b/jwks.json").start()
    for bridge in (main_bridge, other_bridge):
        bridge.wait_for_health(200)
        wait_for_jwks_load(bridge)


def tearDownModule():
    try:
        for bridge in Bridge.started:
            if bridge.running:
                status = bridge.stop(signal.SIGTERM)
                if status != 0:
                    raise AssertionError(f"smta serve ({bridge.name}) exited with status {status} on SIGTERM")
            log = bridge.log_text()
            for token in minted:
                header, payload, signature = token.split(".")
                if payload in log or (signature and signature in log):
                    raise AssertionError(f"the log of bridge {bridge.name} contains a credential")
    finally:
        jwks.close()


class OIDCBridgeTestCase(BridgeTestCase):
    def ok(self, reply):
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def assertRefused(self, reply, code, message="Invalid credential", token=None):
        """PostgREST's 401 with a Bearer challenge naming ``invalid_token``."""
        body = self.assertPostgrestError(reply, 401, code)
        self.assertEqual(body["message"], message, body)
        challenge = reply.headers.get("www-authenticate", "")
        self.assertTrue(challenge.startswith('Bearer error="invalid_token"'), reply.headers)
        if token is not None and token.count(".") == 2:
            self.assertNotEchoed(reply, token)
        return body

    def new_organization(self, bridge, token, name):
        rows = self.ok(rpc(bridge, "create_organization", {"p_name": name}, token))
        self.assertEqual([row["name"] for row in rows], [name])
        return rows[0]["id"]

    def assertOwnedBy(self, organization, smta_id):
        """core.organizations and core.memberships say ``smta_id`` created and owns ``organization``."""
        self.assertEqual(database.rows(
            "select o.created_by::text, m.user_id::text, m.is_super_admin from core.organizations o"
            " join core.memberships m on m.organization_id = o.id and not m.is_deleted"
            " where o.id = %s::uuid", (organization,)), [(smta_id, smta_id, True)])


# ---------------------------------------------------------------------------------------------
# Accepted tokens and the identity mapping
# ---------------------------------------------------------------------------------------------

class IdentityMappingTests(OIDCBridgeTestCase):
    def test_an_rs256_token_with_an_auth0_subject_creates_an_organization_for_the_derived_user_id(self):
        alice = Person("alice")
        self.assertEqual(links_of(alice.subject), [])
        organization = self.new_organization(main_bridge, alice.token(), "Auth0 tenant")
        self.assertEqual(links_of(alice.subject), [(alice.smta_id, ISSUER, alice.email)])
        self.assertEqual(database.value(
            "select core.oidc_user_id(%s, %s)::text", (ISSUER, alice.subject)), alice.smta_id)
        self.assertOwnedBy(organization, alice.smta_id)
        self.assertEqual(users_meta_email(alice.smta_id), alice.email)

        # A second token of the same subject (another jti, issued later) is the same SMTA user.
        second = alice.token(iat=int(time.time()) + 1)
        mine = self.ok(rpc(main_bridge, "list_my_organizations", token=second))
        self.assertEqual([(row["id"], row["role"]) for row in mine], [(organization, "super_admin")])
        profile = self.ok(rpc(main_bridge, "get_user_profile", token=second))
        self.assertEqual([(row["id"], row["email"]) for row in profile], [(alice.smta_id, alice.email)])
        self.assertEqual(len(links_of(alice.subject)), 1)

    def test_an_es256_token_with_a_clerk_subject_and_a_jwk_without_alg_is_accepted(self):
        bob = Person("bob", subject=f"user_2{secrets.token_hex(6)}", key=KEYS["ec"])
        token = bob.token()
        self.assertEqual(jwt.get_unverified_header(token)["alg"], "ES256")
        organization = self.new_organization(main_bridge, token, "Clerk tenant")
        self.assertOwnedBy(organization, bob.smta_id)
        self.assertEqual(links_of(bob.subject), [(bob.smta_id, ISSUER, bob.email)])
        again = self.ok(rpc(main_bridge, "list_my_organizations", token=bob.token()))
        self.assertEqual([row["id"] for row in again], [organization])

    def test_concurrent_first_calls_of_a_new_subject_link_it_once(self):
        quinn = Person("quinn")
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(lambda _: rpc(main_bridge, "get_user_profile", token=quinn.token()), range(8)))
        for reply in replies:
            self.assertEqual([(row["id"], row["email"]) for row in self.ok(reply)], [(quinn.smta_id, quinn.email)])
        self.assertEqual(links_of(quinn.subject), [(quinn.smta_id, ISSUER, quinn.email)])
        self.assertEqual(database.value(
            "select count(*) from core.users_meta where id = %s::uuid", (quinn.smta_id,)), 1)

    def test_a_subject_that_is_a_uuid_is_hashed_like_any_other(self):
        # Keycloak's subjects are uuids: used as they are, an issuer could choose SMTA user ids.
        subject = str(uuid.uuid4())
        carol = Person("carol", subject=subject)
        self.assertNotEqual(carol.smta_id, subject)
        organization = self.new_organization(main_bridge, carol.token(), "Keycloak realm")
        self.assertOwnedBy(organization, carol.smta_id)
        self.assertEqual(database.value(
            "select count(*) from core.memberships where user_id = %s::uuid", (subject,)), 0)

    def test_a_subject_of_255_bytes_is_accepted(self):
        subject = "oauth2|" + "x" * (255 - 7 - 12) + secrets.token_hex(6)
        self.assertEqual(len(subject.encode()), 255)
        olga = Person("olga", subject=subject)
        profile = self.ok(rpc(main_bridge, "get_user_profile", token=olga.token()))
        self.assertEqual([row["id"] for row in profile], [olga.smta_id])
        self.assertEqual(links_of(subject), [(olga.smta_id, ISSUER, olga.email)])

    def test_a_user_whose_verified_email_the_sql_part_does_not_record_is_still_served(self):
        # RFC 5322 allows an apostrophe in the local part (o'brien@…), RFC 6531 non-ASCII
        # addresses; issuers verify them. core.link_identity's pattern refuses both with 22023,
        # which must not turn every call of that user into an error: the user is who the
        # token says, whatever becomes of the email.
        for label, email in {"apostrophe": "o'brien.{}@example.com", "non-ASCII": "jörg.{}@example.de"}.items():
            with self.subTest(label):
                paul = Person("paul")
                paul.email = email.format(secrets.token_hex(4))
                reply = rpc(main_bridge, "get_user_profile", token=paul.token())
                self.assertEqual([row["id"] for row in self.ok(reply)], [paul.smta_id])
                organization = self.new_organization(main_bridge, paul.token(), f"Owned by {label}")
                self.assertOwnedBy(organization, paul.smta_id)

    def test_a_single_audience_string_and_an_exp_within_the_leeway_are_accepted(self):
        dave = Person("dave")
        now = int(time.time())
        variants = {
            "aud a string": dave.token(aud=AUDIENCE),
            f"exp 3 s ago, leeway {LEEWAY} s": dave.token(iat=now - 600, exp=now - 3),
            "nbf 3 s ahead": dave.token(nbf=now + 3),
        }
        for variant, token in variants.items():
            with self.subTest(variant):
                profile = self.ok(rpc(main_bridge, "get_user_profile", token=token))
                self.assertEqual([row["id"] for row in profile], [dave.smta_id])

    def test_a_role_claim_in_the_token_does_not_make_the_caller_service_role(self):
        # Without SMTA_OIDC_ROLE_CLAIM every verified token is `authenticated`, whatever it says.
        erin = Person("erin")
        token = erin.token(role="service_role", app_metadata={"role": "service_role"})
        organization = self.new_organization(main_bridge, token, "Not escalated")
        self.assertOwnedBy(organization, erin.smta_id)
        self.assertEqual(links_of(erin.subject), [(erin.smta_id, ISSUER, erin.email)])

    def test_an_email_not_marked_verified_is_never_recorded(self):
        for variant, verified in {"false": False, "missing": MISSING, "the string 'false'": "false"}.items():
            with self.subTest(variant):
                frank = Person("frank")
                profile = self.ok(rpc(main_bridge, "get_user_profile", token=frank.token(verified=verified)))
                self.assertEqual([(row["id"], row["email"]) for row in profile], [(frank.smta_id, None)])
                self.assertEqual(links_of(frank.subject), [(frank.smta_id, ISSUER, None)])
                self.assertIsNone(users_meta_email(frank.smta_id))
                # Verified later: recorded then.
                self.ok(rpc(main_bridge, "get_user_profile", token=frank.token(verified=True)))
                self.assertEqual(links_of(frank.subject), [(frank.smta_id, ISSUER, frank.email)])
                self.assertEqual(users_meta_email(frank.smta_id), frank.email)


class TwoIssuersTests(OIDCBridgeTestCase):
    def test_the_same_subject_of_two_issuers_is_two_users_on_one_database(self):
        subject = f"auth0|shared{secrets.token_hex(5)}"
        at_a = Person("gina", subject=subject)
        at_b = Person("gina", subject=subject, issuer=OTHER_ISSUER, key=KEYS["other"])
        self.assertNotEqual(at_a.smta_id, at_b.smta_id)

        org_a = self.new_organization(main_bridge, at_a.token(), "Issuer A")
        org_b = self.new_organization(other_bridge, at_b.token(), "Issuer B")
        self.assertOwnedBy(org_a, at_a.smta_id)
        self.assertOwnedBy(org_b, at_b.smta_id)
        self.assertEqual(links_of(subject), sorted([
            (at_a.smta_id, ISSUER, at_a.email), (at_b.smta_id, OTHER_ISSUER, at_b.email)], key=lambda row: row[1]))
        self.assertEqual([row["id"] for row in self.ok(rpc(main_bridge, "list_my_organizations", token=at_a.token()))],
                         [org_a])
        self.assertEqual([row["id"] for row in self.ok(rpc(other_bridge, "list_my_organizations", token=at_b.token()))],
                         [org_b])
        self.assertEqual(self.ok(rpc(main_bridge, "get_organization", {"p_id": org_b}, at_a.token())), [])

    def test_each_bridge_refuses_the_other_issuers_tokens(self):
        subject = f"auth0|cross{secrets.token_hex(5)}"
        at_a = Person("hank", subject=subject)
        at_b = Person("hank", subject=subject, issuer=OTHER_ISSUER, key=KEYS["other"])
        before = database.fingerprint(TABLES)
        cases = {
            "issuer A's token at bridge B": (other_bridge, at_a.token()),
            "issuer B's token at bridge A": (main_bridge, at_b.token()),
            # Signed by B's own key, but naming issuer A: the issuer is checked, not only the key.
            "issuer A's claims signed by B's key at bridge B": (other_bridge, at_a.token(key=KEYS["other"])),
        }
        codes = {"issuer A's claims signed by B's key at bridge B": "PGRST303"}
        for case, (bridge, token) in cases.items():
            with self.subTest(case):
                reply = rpc(bridge, "create_organization", {"p_name": case}, token)
                self.assertRefused(reply, codes.get(case, "PGRST301"), token=token)
        self.assertUnchanged(database, before, "tokens of the other issuer")
        self.assertEqual(links_of(subject), [])


# ---------------------------------------------------------------------------------------------
# Refused tokens
# ---------------------------------------------------------------------------------------------

class RefusalTests(OIDCBridgeTestCase):
    """Every token the adapter must refuse is PostgREST's 401 (PGRST301 when it does not verify,
    PGRST303 when it verifies but its claims fail) and writes nothing, not even an identity link."""

    def test_tokens_an_oidc_resource_server_must_refuse_are_401_and_write_nothing(self):
        ivan = Person("ivan")
        rsa_key, ec_key = KEYS["rsa"], KEYS["ec"]
        now = int(time.time())

        def claims(**overrides):
            return claims_for(ivan.subject, ISSUER, ivan.email, True, **overrides)

        valid_rsa = rsa_key.sign(claims())
        valid_ec = ec_key.sign(claims())
        forged_key = SigningKey("RS256", rsa_key.kid)  # another key pair claiming the listed kid
        unlisted = SigningKey("RS256", "unlisted-" + secrets.token_hex(4))
        expired = "PGRST303", "JWT expired"
        cases = {
            # The issuer and the audience.
            "another issuer": (rsa_key.sign(claims(iss="https://evil.example.com/")), "PGRST303"),
            "the issuer without its trailing slash": (rsa_key.sign(claims(iss=ISSUER.rstrip("/"))), "PGRST303"),
            "no iss": (rsa_key.sign(claims(iss=None)), "PGRST303"),
            "another audience": (rsa_key.sign(claims(aud="https://api.other.test")), "PGRST303"),
            "an audience list without ours": (rsa_key.sign(claims(aud=["a", "b"])), "PGRST303"),
            "no aud": (rsa_key.sign(claims(aud=None)), "PGRST303"),
            # The algorithm allow-list and the key's own algorithm.
            "HS256 signed with the RSA public key (PEM)": (hs256(claims(), rsa_key.public_pem(), rsa_key.kid), "PGRST301"),
            "HS256 with the JWKS's symmetric key": (hs256(claims(), KEYS["oct"], "oct-1"), "PGRST301"),
            "alg none": (keep(jwt.encode(claims(), None, algorithm="none", headers={"kid": rsa_key.kid})), "PGRST301"),
            "RS384 by the listed RSA key (not on the allow-list)": (rsa_key.sign(claims(), algorithm="RS384"), "PGRST301"),
            "ES256 header naming the RSA key": (ec_key.sign(claims(), kid=rsa_key.kid), "PGRST301"),
            "RS256 header naming the EC key": (rsa_key.sign(claims(), kid=ec_key.kid), "PGRST301"),
            # The key.
            "an unknown kid": (unlisted.sign(claims()), "PGRST301"),
            "no kid": (rsa_key.sign(claims(), kid=False), "PGRST301"),
            "the listed kid, another key pair": (forged_key.sign(claims()), "PGRST301"),
            "a key the JWKS marks use=enc": (KEYS["enc"].sign(claims()), "PGRST301"),
            "a crit header": (rsa_key.sign(claims(), crit=["exp"]), "PGRST301"),
            # The lifetime.
            f"exp {LEEWAY + 50} s ago": (rsa_key.sign(claims(iat=now - 3600, exp=now - LEEWAY - 50)), *expired),
            "ES256, exp an hour ago": (ec_key.sign(claims(iat=now - 7200, exp=now - 3600)), *expired),
            "no exp": (rsa_key.sign(claims(exp=None)), "PGRST303"),
            "exp a string": (rsa_key.sign(claims(exp=str(now + 600))), "PGRST301"),
            f"nbf {LEEWAY + 50} s ahead": (rsa_key.sign(claims(nbf=now + LEEWAY + 50)), "PGRST303"),
            f"iat {LEEWAY + 50} s ahead": (rsa_key.sign(claims(iat=now + LEEWAY + 50)), "PGRST303"),
            # The subject.
            "no sub": (rsa_key.sign(claims(sub=None)), "PGRST303"),
            "an empty sub": (rsa_key.sign(claims(sub="")), "PGRST303"),
            "a sub with a line feed": (rsa_key.sign(claims(sub="auth0|a\nb")), "PGRST303"),
            "a sub of 256 bytes": (rsa_key.sign(claims(sub="auth0|" + "x" * 250)), "PGRST303"),
            # Tampering after signing.
            "RS256, another sub": (with_payload(valid_rsa, claims(sub="auth0|victim")), "PGRST301"),
            "ES256, exp extended": (with_payload(valid_ec, claims(exp=now + 86400)), "PGRST301"),
            "RS256, signature cut": (keep(valid_rsa.rsplit(".", 1)[0] + "."), "PGRST301"),
            "ES256, signature of another token": (
                keep(valid_ec.rsplit(".", 1)[0] + "." + ec_key.sign(claims(sub="x")).rsplit(".", 1)[1]), "PGRST301"),
            "not a JWT": ("not-a-token", "PGRST301"),
        }
        before = database.fingerprint(TABLES)
        for case, (token, code, *message) in cases.items():
            with self.subTest(case):
                name = f"Refused {secrets.token_hex(4)}"
                reply = rpc(main_bridge, "create_organization", {"p_name": name}, token)
                body = self.assertRefused(reply, code, *message, token=token)
                if message:
                    self.assertEqual(reply.headers["www-authenticate"],
                                     'Bearer error="invalid_token", error_description="JWT expired"')
                self.assertEqual(database.value(
                    "select count(*) from core.organizations where name = %s", (name,)), 0, body)
        self.assertUnchanged(database, before, "refused tokens")
        self.assertEqual(links_of(ivan.subject), [])
        # The same claims, well signed, are accepted: the cases failed for their one difference.
        self.ok(rpc(main_bridge, "get_user_profile", token=valid_rsa))
        self.ok(rpc(main_bridge, "get_user_profile", token=valid_ec))

    def test_another_scheme_or_an_empty_bearer_is_401_pgrst301(self):
        token = Person("judy").token()
        before = database.fingerprint(TABLES)
        for value in (f"Basic {token}", f"JWT {token}", "Bearer", "Bearer ", token):
            with self.subTest(authorization=value[:12]):
                reply = call(main_bridge.url, "POST", "/rest/v1/rpc/create_organization",
                             {"p_name": "Other scheme"}, {"Authorization": value})
                self.assertRefused(reply, "PGRST301", token=token)
        self.assertUnchanged(database, before, "another Authorization scheme")

    def test_no_authorization_header_is_anon_and_may_not_create_an_organization(self):
        before = database.fingerprint(TABLES)
        reply = rpc(main_bridge, "create_organization", {"p_name": "Anonymous"})
        self.assertPostgrestError(reply, 401, "42501")
        self.assertUnchanged(database, before, "an anonymous call")


# ---------------------------------------------------------------------------------------------
# Email-bound invitations
# ---------------------------------------------------------------------------------------------

class InvitationTests(OIDCBridgeTestCase):
    def setUp(self):
        self.owner = Person("owner")
        self.organization = self.new_organization(main_bridge, self.owner.token(), "Inviting")
        roles = self.ok(rpc(main_bridge, "list_roles", {"p_org_id": self.organization}, self.owner.token()))
        self.team = next(role["id"] for role in roles if role["name"] == TEAM_ROLE)

    def invite(self, email):
        rows = self.ok(rpc(main_bridge, "create_invitation", {
            "p_email": email, "p_organization_id": self.organization, "p_role_id": self.team}, self.owner.token()))
        self.assertEqual([row["email"] for row in rows], [email.lower()])
        return rows[0]

    def invitation_state(self, invitation):
        return database.rows(
            "select status, accepted_by::text from core.invitations where id = %s::uuid", (invitation["id"],))

    def membership_count(self, person):
        return database.value(
            "select count(*) from core.memberships where organization_id = %s::uuid and user_id = %s::uuid",
            (self.organization, person.smta_id))

    def test_an_invitation_is_accepted_only_with_the_invited_email_marked_verified(self):
        bob = Person("bob", subject=f"user_2{secrets.token_hex(6)}", key=KEYS["ec"])
        mallory = Person("mallory")
        invitation = self.invite(bob.email.upper())
        accept = {"p_token": invitation["token"]}

        # Bob has called before with his email unverified: SMTA knows his user, not his email.
        self.ok(rpc(main_bridge, "get_user_profile", token=bob.token(verified=False)))
        self.assertIsNone(users_meta_email(bob.smta_id))

        before = database.fingerprint(TABLES)
        attempts = {
            "bob, email_verified false": bob.token(verified=False),
            "bob, email_verified missing": bob.token(verified=MISSING),
            "bob, email_verified 'false'": bob.token(verified="false"),
            # Another subject claiming bob's email without the issuer vouching for it.
            "mallory with bob's email, false": mallory.key.sign(claims_for(mallory.subject, ISSUER, bob.email, False)),
            "mallory with bob's email, missing": mallory.key.sign(claims_for(mallory.subject, ISSUER, bob.email, MISSING)),
        }
        for attempt, token in attempts.items():
            with self.subTest(attempt):
                reply = rpc(main_bridge, "accept_invitation", accept, token)
                body = self.assertPostgrestError(reply, 403, "42501")
                self.assertIn("different email", body["message"])
                self.assertNotEchoed(reply, token)
        self.assertUnchanged(database, before, "acceptances without a verified email")
        self.assertEqual(self.invitation_state(invitation), [("pending", None)])
        self.assertEqual(self.membership_count(bob), 0)
        self.assertEqual(links_of(mallory.subject), [])

        accepted = self.ok(rpc(main_bridge, "accept_invitation", accept, bob.token(verified=True)))
        self.assertEqual([(row["organization_id"], row["role_id"]) for row in accepted], [(self.organization, self.team)])
        self.assertEqual(self.invitation_state(invitation), [("accepted", bob.smta_id)])
        self.assertEqual(self.membership_count(bob), 1)
        self.assertEqual(users_meta_email(bob.smta_id), bob.email)
        mine = self.ok(rpc(main_bridge, "list_my_organizations", token=bob.token(verified=False)))
        self.assertEqual([(row["id"], row["role"]) for row in mine], [(self.organization, TEAM_ROLE)])

    def test_email_verified_as_a_number_is_not_verified(self):
        # OIDC Core: email_verified is a boolean; the adapter also takes the string "true"
        # (Cognito), and nothing else.
        for verified in (1, 1.0):
            with self.subTest(email_verified=verified):
                nick = Person("nick")
                invitation = self.invite(nick.email)
                before = database.fingerprint(TABLES)
                reply = rpc(main_bridge, "accept_invitation", {"p_token": invitation["token"]},
                            nick.token(verified=verified))
                body = self.assertPostgrestError(reply, 403, "42501")
                self.assertIn("different email", body["message"])
                self.assertUnchanged(database, before, f"an acceptance with email_verified {verified!r}")
                self.assertEqual(self.invitation_state(invitation), [("pending", None)])
                self.assertEqual(self.membership_count(nick), 0)

    def test_email_verified_as_the_string_true_is_verified_as_cognito_writes_it(self):
        carol = Person("carol")
        invitation = self.invite(carol.email)
        accepted = self.ok(rpc(main_bridge, "accept_invitation", {"p_token": invitation["token"]},
                               carol.token(verified="true")))
        self.assertEqual([row["organization_id"] for row in accepted], [self.organization])
        self.assertEqual(self.invitation_state(invitation), [("accepted", carol.smta_id)])
        self.assertEqual(self.membership_count(carol), 1)

    def test_an_invitation_names_an_email_so_another_issuers_user_with_it_verified_joins_as_that_user(self):
        # The invitation names an email, not an issuer: issuer B's user with that email verified
        # may accept it, and becomes a member as issuer B's user, never as issuer A's.
        subject = f"auth0|twin{secrets.token_hex(5)}"
        at_a = Person("dana", subject=subject)
        at_b = Person("dana", subject=subject, issuer=OTHER_ISSUER, key=KEYS["other"])
        at_b.email = at_a.email
        invitation = self.invite(at_a.email)
        self.ok(rpc(other_bridge, "accept_invitation", {"p_token": invitation["token"]}, at_b.token()))
        self.assertEqual(self.invitation_state(invitation), [("accepted", at_b.smta_id)])
        self.assertEqual((self.membership_count(at_b), self.membership_count(at_a)), (1, 0))

    def test_a_domain_link_admits_only_an_email_the_issuer_verified_at_that_domain(self):
        domain = f"corp{secrets.token_hex(3)}.example"
        erin, frank = Person("erin"), Person("frank")
        erin.email = f"erin@{domain}"
        frank.email = f"frank@{domain}"
        link = self.ok(rpc(main_bridge, "create_invitation_link", {
            "p_org_id": self.organization, "p_role_id": self.team, "p_email_domain": domain}, self.owner.token()))[0]
        accept = {"p_token": link["token"]}

        # Their first calls link their identities; the link and the memberships must not move.
        before = database.fingerprint(("core.memberships", "core.invitation_links"))
        for attempt, token in {"email_verified false": erin.token(verified=False),
                               "email_verified missing": frank.token(verified=MISSING)}.items():
            with self.subTest(attempt):
                body = self.assertPostgrestError(rpc(main_bridge, "accept_invitation_link", accept, token), 403, "42501")
                self.assertIn(domain, body["message"])
        self.assertUnchanged(database, before, "accepts without a verified email")
        self.assertEqual((self.membership_count(erin), self.membership_count(frank)), (0, 0))

        accepted = self.ok(rpc(main_bridge, "accept_invitation_link", accept, erin.token(verified=True)))
        self.assertEqual([row["organization_id"] for row in accepted], [self.organization])
        self.assertEqual(self.membership_count(erin), 1)


# ---------------------------------------------------------------------------------------------
# Key rotation and JWKS availability
# ---------------------------------------------------------------------------------------------

class KeyRotationTests(OIDCBridgeTestCase):
    """A bridge of its own: an unknown kid triggers one JWKS refresh, then no other for 30 s
    (OIDCSettings.jwksRefreshInterval), so the order of these steps matters."""

    def test_a_new_kid_is_picked_up_by_one_refresh_and_the_removed_kid_is_refused(self):
        path = "/rotating/jwks.json"
        old = SigningKey("RS256", "2024-old-" + secrets.token_hex(3))
        new = SigningKey("ES256", "2025-new-" + secrets.token_hex(3))
        later = SigningKey("RS256", "2026-later-" + secrets.token_hex(3))
        jwks.publish(path, [old.jwk()])
        bridge = oidc_bridge("oidc-rotation", ISSUER, path).start()
        bridge.wait_for_health(200)
        wait_for_jwks_load(bridge)
        self.assertEqual(jwks.fetch_count(path), 1, "one fetch at start-up")

        kate = Person("kate", key=old)
        # One token used again and again (the bridge remembers tokens it verified).
        remembered = kate.token()
        organization = self.new_organization(bridge, remembered, "Rotating")
        self.assertOwnedBy(organization, kate.smta_id)
        self.assertEqual([row["id"] for row in self.ok(rpc(bridge, "list_my_organizations", token=remembered))], [organization])
        self.assertEqual(jwks.fetch_count(path), 1, "a known kid fetches nothing")

        # The issuer rotates: the new key replaces the old one.
        jwks.publish(path, [new.jwk()])
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            replies = list(pool.map(
                lambda _: rpc(bridge, "list_my_organizations", token=kate.token(key=new)), range(8)))
        for reply in replies:
            self.assertEqual([row["id"] for row in self.ok(reply)], [organization])
        self.assertEqual(jwks.fetch_count(path), 2, "eight concurrent calls with the new kid share one refresh")

        before = database.fingerprint(TABLES)
        stale = kate.token(key=old)
        self.assertRefused(rpc(bridge, "create_organization", {"p_name": "Old key"}, stale), "PGRST301", token=stale)
        # The token accepted before the rotation, signed by the withdrawn key: refused too.
        self.assertRefused(rpc(bridge, "create_organization", {"p_name": "Remembered"}, remembered), "PGRST301",
                           token=remembered)

        # Within the refresh interval, forged kids cost no fetch, and neither does a key the
        # issuer published only after the last refresh.
        jwks.publish(path, [new.jwk(), later.jwk()])
        tokens = [kate.token(key=SigningKey("ES256", f"forged-{n}-{secrets.token_hex(2)}")) for n in range(10)]
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            replies = list(pool.map(lambda token: rpc(bridge, "create_organization", {"p_name": "Forged"}, token), tokens))
        for reply, token in zip(replies, tokens):
            self.assertRefused(reply, "PGRST301", token=token)
        early = kate.token(key=later)
        self.assertRefused(rpc(bridge, "create_organization", {"p_name": "Too early"}, early), "PGRST301", token=early)
        self.assertEqual(jwks.fetch_count(path), 2, "refreshes are rate-limited")
        self.assertUnchanged(database, before, "tokens of removed, forged or not yet fetched keys")
        self.assertEqual(self.ok(rpc(bridge, "list_my_organizations", token=kate.token(key=new)))[0]["id"], organization)


class JWKSAvailabilityTests(OIDCBridgeTestCase):
    def test_a_jwks_down_at_start_up_is_loaded_by_the_first_token_once_it_is_back(self):
        path = "/late/jwks.json"
        key = SigningKey("RS256", "late-" + secrets.token_hex(3))
        bridge = bridge_with_jwks_down("oidc-late-jwks", path)
        self.assertEqual(jwks.fetch_count(path), 1, "the start-up fetch")
        jwks.publish(path, [key.jwk()])
        leo = Person("leo", key=key)
        organization = self.new_organization(bridge, leo.token(), "Late keys")
        self.assertOwnedBy(organization, leo.smta_id)
        self.assertEqual(jwks.fetch_count(path), 2)

    def test_a_valid_token_while_the_jwks_cannot_be_fetched_is_503_not_401(self):
        # With no key ever loaded and the JWKS unreachable the bridge cannot check any token: the
        # answer is "try again" (503, as when Payload's session store is down), not "this
        # credential is invalid" (401), on which clients sign their user out.
        path = "/down/jwks.json"
        key = SigningKey("RS256", "down-" + secrets.token_hex(3))
        bridge = bridge_with_jwks_down("oidc-jwks-down", path)
        before = database.fingerprint(TABLES)
        token = Person("mia", key=key).token()
        reply = rpc(bridge, "create_organization", {"p_name": "While down"}, token)
        self.assertUnavailable(reply)
        self.assertNotEchoed(reply, token)
        self.assertUnchanged(database, before, "a call while the JWKS is down")


class ConfigurationTests(OIDCBridgeTestCase):
    def test_serve_refuses_a_shared_secret_algorithm_or_a_plain_http_remote_issuer_and_names_the_key(self):
        cases = {
            "SMTA_OIDC_ALGORITHMS": {"SMTA_OIDC_ALGORITHMS": "RS256,HS256"},
            "SMTA_OIDC_ISSUER": {"SMTA_OIDC_ISSUER": "http://issuer.example.com/"},
        }
        for key, settings in cases.items():
            with self.subTest(key):
                bridge = oidc_bridge(f"oidc-bad-{key.lower()}", ISSUER, "/.well-known/jwks.json", **settings)
                with self.assertRaises(AssertionError) as raised:
                    bridge.start()
                self.assertIn("exited with status", str(raised.exception))
                self.assertNotEqual(bridge.process.returncode, 0)
                self.assertIn(key, bridge.log_text())


if __name__ == "__main__":
    main()
