#!/usr/bin/env python3
"""Faults at the bridge's edges: what ``smta serve`` answers while something it depends on, other
than PostgreSQL, misbehaves — and that it keeps serving afterwards.

- The Supabase adapter's JWKS endpoint (a ``http.server`` run here) down, answering errors, or
  slower than ``request_timeout``: tokens whose ``kid`` is cached still verify; a token with an
  unknown ``kid`` is answered 503 + ``Retry-After`` within the budget (not 401), and a burst of
  them costs at most one fetch per second (``JWKSKeyRing``'s retry delay after a failure).

Every answer must come within ``request_timeout`` + 1 s (``SMTA_REQUEST_TIMEOUT`` is 2 here), is
never a 500, and a refused call writes nothing (psycopg).

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import concurrent.futures
import http.server
import json
import secrets
import signal
import threading
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from bridge_common import DATABASE_URL, Bridge, BridgeTestCase, Database, call, main, require_environment
from mint_token import supabase_claims

# SMTA_REQUEST_TIMEOUT of every bridge here, and the longest any answer may take.
REQUEST_TIMEOUT = 2
BUDGET = REQUEST_TIMEOUT + 1.0
# How long the slow JWKS endpoint waits before answering: past the request's budget and past
# JWKSEndpoint's own 5 s fetch timeout.
SLOW_JWKS_SECONDS = 8

environment = None
minted = []


def setUpModule():
    global environment
    environment = require_environment(DATABASE_URL)


def tearDownModule():
    for bridge in Bridge.started:
        if bridge.running:
            status = bridge.stop(signal.SIGTERM)
            if status != 0:
                raise AssertionError(f"smta serve ({bridge.name}) exited with status {status} on SIGTERM")
        log = bridge.log_text()
        for token in minted:
            if any(part and part in log for part in token.split(".")[1:]):
                raise AssertionError(f"the log of bridge {bridge.name} contains a credential")


def timed(function, *arguments, **options):
    """``function(...)``'s result and how many seconds it took."""
    started = time.monotonic()
    result = function(*arguments, **options)
    return result, time.monotonic() - started


class FaultTestCase(BridgeTestCase):
    def assertInBudget(self, reply, elapsed, what):
        """An answer that came within the budget and is not a 500."""
        self.assertLessEqual(elapsed, BUDGET, f"{what} answered {reply!r} after {elapsed:.2f} s")
        self.assertNotEqual(reply.status, 500, f"{what}: {reply!r}")
        return reply

    def assertUnavailableInBudget(self, function, what):
        """``function()`` answers 503 PGRST000 + Retry-After within the budget."""
        reply, elapsed = timed(function)
        self.assertInBudget(reply, elapsed, what)
        self.assertUnavailable(reply)
        return reply

    def assertServing(self, bridge):
        """The bridge answers /health at once."""
        reply, elapsed = timed(call, bridge.url, "GET", "/health")
        self.assertEqual(reply.status, 200, reply)
        self.assertLess(elapsed, 1.0, f"GET /health took {elapsed:.2f} s")

    def eventually_ok(self, function, what, within=12.0):
        """Calls ``function()`` until it answers 200; each answer in budget and 503 until then."""
        deadline = time.monotonic() + within
        while True:
            reply, elapsed = timed(function)
            self.assertInBudget(reply, elapsed, what)
            if reply.status == 200:
                return reply
            self.assertUnavailable(reply)
            self.assertLess(time.monotonic(), deadline, f"{what} still {reply!r} after {within:.0f} s")
            time.sleep(0.25)


# ---------------------------------------------------------------------------------------------
# a. The JWKS endpoint
# ---------------------------------------------------------------------------------------------

class SigningKey:
    """A Supabase project's ES256 signing key, named by ``kid``."""

    def __init__(self, label):
        self.kid = f"{label}-{secrets.token_hex(3)}"
        self.private = ec.generate_private_key(ec.SECP256R1())

    def jwk(self):
        key = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        key.update({"kid": self.kid, "alg": "ES256", "use": "sig"})
        return key

    def token(self, sub=None):
        """A GoTrue access token signed by this key, for a fresh user unless ``sub`` is given."""
        sub = sub or str(uuid.uuid4())
        token = jwt.encode(supabase_claims(sub, f"{sub[:8]}@example.com"), self.private, algorithm="ES256",
                           headers={"kid": self.kid})
        minted.append(token)
        return token


class JWKSServer:
    """A JWKS endpoint on a fixed loopback port that a test can take down (connections refused),
    make answer 503, make slow, or serve keys from; it counts the GETs it receives."""

    def __init__(self):
        self.lock = threading.Lock()
        self.mode = "ok"
        self.keys = []
        self.hits = 0
        self.httpd = None
        self.port = 0
        self.start()

    def start(self):
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    server.hits += 1
                    mode, body = server.mode, json.dumps({"keys": server.keys}).encode("utf-8")
                if mode == "slow":
                    time.sleep(SLOW_JWKS_SECONDS)
                status = 503 if mode == "error" else 200
                if status != 200:
                    body = b'{"error":"unavailable"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:
                    pass  # the client gave up

            def log_message(self, *arguments):
                pass

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        """Down: the port refuses connections."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def set(self, mode=None, keys=None):
        with self.lock:
            if mode is not None:
                self.mode = mode
            if keys is not None:
                self.keys = [key.jwk() for key in keys]

    def hit_count(self):
        with self.lock:
            return self.hits

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/auth/v1/.well-known/jwks.json"


def jwks_bridge(name, jwks):
    """A started Supabase bridge reading its keys from ``jwks`` only, after its start-up fetch."""
    bridge = Bridge(name, {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": environment[DATABASE_URL],
        "SMTA_JWKS_URL": jwks.url,
        "SMTA_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
    }).start()
    bridge.wait_for_health(200)
    deadline = time.monotonic() + 10
    while "JWKS loaded" not in bridge.log_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"bridge {name} did not load its JWKS:\n{bridge.log_tail()}")
        time.sleep(0.02)
    return bridge


def create_organization(bridge, token, name):
    return call(bridge.url, "POST", "/rest/v1/rpc/create_organization", {"p_name": name},
                {"Authorization": f"Bearer {token}"})


class JWKSEndpointFaultTests(FaultTestCase):
    def setUp(self):
        self.database = Database(environment[DATABASE_URL])
        self.known = SigningKey("known")
        self.jwks = JWKSServer()
        self.jwks.set("ok", [self.known])

    def tearDown(self):
        try:
            self.jwks.stop()
        except Exception:
            pass

    def assertUnknownKidsUnavailable(self, bridge, count, label):
        """``count`` concurrent calls with unknown kids: each 503 within the budget, nothing written."""
        before = self.database.fingerprint()
        tokens = [SigningKey(f"{label}{n}").token() for n in range(count)]
        with concurrent.futures.ThreadPoolExecutor(count) as pool:
            outcomes = list(pool.map(lambda token: timed(create_organization, bridge, token, label), tokens))
        for reply, elapsed in outcomes:
            self.assertInBudget(reply, elapsed, f"an unknown kid ({label})")
            self.assertUnavailable(reply)
        self.assertUnchanged(self.database, before, f"calls with unknown kids ({label})")

    def test_while_the_endpoint_is_down_cached_kids_verify_and_unknown_kids_are_503_in_time(self):
        bridge = jwks_bridge("jwks-down", self.jwks)
        self.assertEqual(create_organization(bridge, self.known.token(), "Before the outage").status, 200)
        self.jwks.stop()

        reply, elapsed = timed(create_organization, bridge, self.known.token(), "During the outage")
        self.assertInBudget(reply, elapsed, "a cached kid")
        self.assertEqual(reply.status, 200, reply)
        self.assertUnknownKidsUnavailable(bridge, 1, "down-single")
        self.assertUnknownKidsUnavailable(bridge, 10, "down-burst")
        self.assertServing(bridge)

        rotated = SigningKey("rotated")
        self.jwks.start()
        self.jwks.set("ok", [self.known, rotated])
        self.eventually_ok(lambda: create_organization(bridge, rotated.token(), "After the outage"),
                           "a new kid once the endpoint is back")

    def test_an_endpoint_answering_errors_is_fetched_at_most_once_a_second_by_a_burst_of_unknown_kids(self):
        bridge = jwks_bridge("jwks-errors", self.jwks)
        self.jwks.set("error")
        hits_before = self.jwks.hit_count()
        started = time.monotonic()
        for wave in range(6):
            self.assertUnknownKidsUnavailable(bridge, 5, f"errors-{wave}")
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        fetches = self.jwks.hit_count() - hits_before
        self.assertGreaterEqual(fetches, 1)
        self.assertLessEqual(fetches, int(elapsed) + 2,
                             f"30 unknown kids over {elapsed:.1f} s fetched the JWKS {fetches} times")
        reply, elapsed = timed(create_organization, bridge, self.known.token(), "Cached while failing")
        self.assertInBudget(reply, elapsed, "a cached kid")
        self.assertEqual(reply.status, 200, reply)

    def test_an_endpoint_slower_than_the_budget_holds_no_request_past_it(self):
        bridge = jwks_bridge("jwks-slow", self.jwks)
        self.jwks.set("slow")
        hits_before = self.jwks.hit_count()
        reply, elapsed = timed(create_organization, bridge, self.known.token(), "Cached while slow")
        self.assertInBudget(reply, elapsed, "a cached kid")
        self.assertEqual(reply.status, 200, reply)
        self.assertLess(elapsed, 1.0, "a cached kid waits for no fetch")

        self.assertUnknownKidsUnavailable(bridge, 1, "slow-single")
        self.assertUnknownKidsUnavailable(bridge, 8, "slow-burst")
        self.assertLessEqual(self.jwks.hit_count() - hits_before, 2, "the calls share the fetch in flight")
        self.assertServing(bridge)

        rotated = SigningKey("after-slow")
        self.jwks.set("ok", [self.known, rotated])
        self.eventually_ok(lambda: create_organization(bridge, rotated.token(), "After the slow fetch"),
                           "a new kid once the endpoint answers in time")


if __name__ == "__main__":
    main()
