#!/usr/bin/env python3
"""Faults at the bridge's edges: what ``smta serve`` answers while something it depends on, other
than PostgreSQL, misbehaves — and that it keeps serving afterwards.

- The Supabase adapter's JWKS endpoint (a ``http.server`` run here) down, answering errors, or
  slower than ``request_timeout``: tokens whose ``kid`` is cached still verify; a token with an
  unknown ``kid`` is answered 503 + ``Retry-After`` within the budget (not 401), and a burst of
  them costs at most one fetch per second (``JWKSKeyRing``'s retry delay after a failure).
- The Payload adapter's SQLite file locked by a writer (``BEGIN EXCLUSIVE``), missing, replaced or
  corrupt: 503 within the budget (not 401, not 500), and 200 again once the file is back.
- A Stripe delivery cut mid-body, one shorter than its ``Content-Length`` (400), and bodies
  trickling a byte per second, deliveries and an RPC call (504 + ``Retry-After`` at the
  deadline): nothing recorded in ``platform.billing_events`` or written by the call, other
  requests answered meanwhile.
- A statement cancelled by ``statement_timeout`` (a trigger that sleeps past it): 504 ``57014`` +
  ``Retry-After``, its transaction rolled back (no row, no Idempotency-Key record).
- ``core.gate_call`` missing when the bridge's one pooled connection first prepares it (a schema
  being migrated): that call fails, and once the function is back the next call is served —
  PostgresNIO keeps a failed preparation for the connection's life, so the bridge must replace
  the connection; a gate_call replaced while prepared is used in its new form.

Every answer must come within ``request_timeout`` + 1 s (``SMTA_REQUEST_TIMEOUT`` is 2 here), is
never a 500, and a refused call writes nothing (psycopg).

Needs SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations) and SMTA_INTEROP_PAYLOAD_DATABASE_URL (one migrated with the core and Payload
migrations); see bridge_common.py.
"""

import concurrent.futures
import datetime
import hashlib
import hmac
import http.server
import json
import os
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import tempfile
import threading
import time
import uuid

import psycopg

from bridge_common import (
    DATABASE_URL, Bridge, BridgeTestCase, Database, SigningKey, SlowInserts, StatementTimeoutChecks, SupabaseTokens,
    auth_collection_ddl, call, main, payload_timestamp, payload_token, require_environment, stop_cleanly)

PAYLOAD_DATABASE_URL = "SMTA_INTEROP_PAYLOAD_DATABASE_URL"
# SMTA_REQUEST_TIMEOUT of every bridge here, and the longest any answer may take.
REQUEST_TIMEOUT = 2
BUDGET = REQUEST_TIMEOUT + 1.0
# How long the slow JWKS endpoint waits before answering: past the request's budget and past
# JWKSEndpoint's own 5 s fetch timeout.
SLOW_JWKS_SECONDS = 8
STRIPE_SECRET = "whsec_" + "f" * 32

environment = None
minted = []


def setUpModule():
    global environment
    environment = require_environment(DATABASE_URL)


def tearDownModule():
    # Some tests stop or kill their bridge on purpose.
    stop_cleanly(Bridge.started, minted, expect_running=False)


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
        self.known = SigningKey("known", minted)
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
        tokens = [SigningKey(f"{label}{n}", minted).token() for n in range(count)]
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

        rotated = SigningKey("rotated", minted)
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

        rotated = SigningKey("after-slow", minted)
        self.jwks.set("ok", [self.known, rotated])
        self.eventually_ok(lambda: create_organization(bridge, rotated.token(), "After the slow fetch"),
                           "a new kid once the endpoint answers in time")


# ---------------------------------------------------------------------------------------------
# b. The Payload adapter's SQLite session file
# ---------------------------------------------------------------------------------------------

# @payloadcms/db-sqlite's DDL for the `users` auth collection with sessions (Payload 3.x).
PAYLOAD_DDL = auth_collection_ddl("users")


class PayloadSessionFileFaultTests(FaultTestCase):
    """One Payload bridge over a SQLite file (Payload's default rollback journal) that each test
    breaks and restores."""

    @classmethod
    def setUpClass(cls):
        environment.update(require_environment(PAYLOAD_DATABASE_URL))
        cls.database = Database(environment[PAYLOAD_DATABASE_URL])
        cls.folder = tempfile.mkdtemp(prefix="smta-payload-faults-")
        cls.path = os.path.join(cls.folder, "payload.db")
        cls.secret = secrets.token_urlsafe(24)
        now = datetime.datetime.now(datetime.timezone.utc)
        with sqlite3.connect(cls.path, isolation_level=None) as connection:
            connection.executescript(PAYLOAD_DDL)
            cls.user_id = connection.execute(
                "insert into users (email) values (?)", ("faults@example.com",)).lastrowid
            cls.sid = str(uuid.uuid4())
            connection.execute(
                "insert into users_sessions (_order, _parent_id, id, created_at, expires_at) values (1, ?, ?, ?, ?)",
                (cls.user_id, cls.sid, payload_timestamp(now), payload_timestamp(now + datetime.timedelta(hours=2))))
        cls.token = payload_token(cls.secret, cls.user_id, "faults@example.com", cls.sid)
        minted.append(cls.token)
        cls.bridge = Bridge("payload-faults", {
            "SMTA_ADAPTER": "payload",
            "SMTA_DATABASE_URL": environment[PAYLOAD_DATABASE_URL],
            "SMTA_PAYLOAD_SECRET": cls.secret,
            "SMTA_PAYLOAD_DATABASE": cls.path,
            "SMTA_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
        }).start()
        cls.bridge.wait_for_health(200)

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)
        shutil.rmtree(cls.folder, ignore_errors=True)

    def setUp(self):
        with open(self.path, "rb") as file:
            self.good = file.read()
        self.assertEqual(self.create("Before the fault").status, 200)
        self.before = self.database.fingerprint()

    def create(self, name):
        return call(self.bridge.url, "POST", "/rpc/create_organization", {"p_name": name},
                    {"Authorization": f"JWT {self.token}"})

    def assertUnavailableAndUnchanged(self, what):
        self.assertUnavailableInBudget(lambda: self.create(what), what)
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            outcomes = list(pool.map(lambda _: timed(self.create, what), range(4)))
        for reply, elapsed in outcomes:
            self.assertInBudget(reply, elapsed, what)
            self.assertUnavailable(reply)
        self.assertUnchanged(self.database, self.before, what)
        self.assertServing(self.bridge)

    def test_a_file_locked_by_a_writer_is_503_within_the_budget_and_200_once_unlocked(self):
        writer = sqlite3.connect(self.path, isolation_level=None)
        try:
            writer.execute("BEGIN EXCLUSIVE")
            self.assertUnavailableAndUnchanged("a call while Payload holds an exclusive lock")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        reply, elapsed = timed(self.create, "After the lock")
        self.assertInBudget(reply, elapsed, "the first call after the lock")
        self.assertEqual(reply.status, 200, reply)

    def test_a_missing_file_is_503_and_the_file_put_back_is_read_again(self):
        away = self.path + ".away"
        os.rename(self.path, away)
        try:
            self.assertUnavailableAndUnchanged("a call while the session file is missing")
        finally:
            os.rename(away, self.path)
        self.assertEqual(self.eventually_ok(lambda: self.create("File back"), "the file put back").status, 200)

    def test_a_file_replaced_under_the_bridge_is_the_one_read(self):
        # Payload's file replaced by another one (a restore, a fresh `payload migrate`) in which
        # this session does not exist: the bridge must read the new file, not the one it opened.
        replacement = self.path + ".new"
        shutil.copyfile(self.path, replacement)
        with sqlite3.connect(replacement, isolation_level=None) as connection:
            connection.execute("delete from users_sessions where id = ?", (self.sid,))
        original = self.path + ".orig"
        os.rename(self.path, original)
        os.rename(replacement, self.path)
        try:
            reply, elapsed = timed(self.create, "Replaced file")
            self.assertInBudget(reply, elapsed, "a call after the file was replaced")
            self.assertPostgrestError(reply, 401, "PGRST301")
            self.assertUnchanged(self.database, self.before, "a call whose session the new file lacks")
        finally:
            os.replace(original, self.path)
        self.assertEqual(self.eventually_ok(lambda: self.create("Original back"), "the original put back").status, 200)

    def test_a_corrupt_file_is_503_and_200_once_restored(self):
        garbage = secrets.token_bytes(len(self.good))
        with open(self.path, "r+b") as file:  # overwritten in place: the same inode
            file.write(garbage)
        try:
            self.assertUnavailableAndUnchanged("a call while the session file is garbage")
        finally:
            with open(self.path, "r+b") as file:
                file.write(self.good)
        self.assertEqual(self.eventually_ok(lambda: self.create("Repaired"), "the file repaired").status, 200)
        self.before = self.database.fingerprint()

        corrupt = self.path + ".corrupt"
        with open(corrupt, "wb") as file:  # a garbage file renamed over it: another inode
            file.write(garbage)
        original = self.path + ".orig"
        os.rename(self.path, original)
        os.rename(corrupt, self.path)
        try:
            self.assertUnavailableAndUnchanged("a call after a garbage file replaced the session file")
        finally:
            os.replace(original, self.path)
        self.assertEqual(self.eventually_ok(lambda: self.create("Restored"), "the file restored").status, 200)


# ---------------------------------------------------------------------------------------------
# c. Webhook deliveries cut or trickling
# ---------------------------------------------------------------------------------------------

def stripe_event(size=None):
    """A Stripe event (a type SMTA records as ignored) as bytes, padded to ``size`` bytes."""
    event = {"id": f"evt_{secrets.token_hex(12)}", "object": "event", "api_version": "2024-06-20",
             "created": int(time.time()), "type": "invoice.created", "livemode": False,
             "data": {"object": {"id": f"in_{secrets.token_hex(8)}", "object": "invoice"}}, "padding": ""}
    body = json.dumps(event, separators=(",", ":")).encode("utf-8")
    if size is not None:
        event["padding"] = "x" * (size - len(body))
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        assert len(body) == size
    return event["id"], body


def stripe_signature(body):
    stamp = int(time.time())
    digest = hmac.new(STRIPE_SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={digest}"


def delivery_head(bridge, body, length):
    return (f"POST /webhooks/stripe HTTP/1.1\r\nHost: 127.0.0.1:{bridge.port}\r\n"
            f"Content-Type: application/json\r\nStripe-Signature: {stripe_signature(body)}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode("ascii")


def answer_or_close(sock, timeout):
    """What the server does next within ``timeout`` seconds: ("answer", status), ("closed", None)
    or ("nothing", None)."""
    deadline = time.monotonic() + timeout
    received = b""
    while time.monotonic() < deadline:
        readable, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not readable:
            break
        try:
            chunk = sock.recv(4096)
        except ConnectionError:
            return "closed", None
        if not chunk:
            return ("answer", int(received.split()[1])) if received else ("closed", None)
        received += chunk
        if b"\r\n" in received:
            return "answer", int(received.split()[1])
    return "nothing", None


class WebhookDeliveryFaultTests(FaultTestCase):
    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.tokens = SupabaseTokens(secrets.token_urlsafe(32))
        cls.bridge = Bridge("webhook-faults", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": environment[DATABASE_URL],
            "SMTA_JWT_SECRET": cls.tokens.secret,
            "SMTA_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
            "SMTA_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
        }).start()
        cls.bridge.wait_for_health(200)

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)

    def recorded(self, event_id):
        return self.database.value(
            "select count(*) from platform.billing_events where provider = 'stripe' and event_id = %s", (event_id,))

    def connect(self):
        return socket.create_connection(("127.0.0.1", self.bridge.port), timeout=5)

    def assertDeliveredNormally(self):
        event_id, body = stripe_event()
        reply, elapsed = timed(call, self.bridge.url, "POST", "/webhooks/stripe", body,
                               {"Stripe-Signature": stripe_signature(body), "Content-Type": "application/json"})
        self.assertEqual(reply.status, 200, reply)
        self.assertLess(elapsed, 1.0, f"a normal delivery took {elapsed:.2f} s")
        self.assertEqual(self.recorded(event_id), 1)

    def test_a_delivery_cut_mid_body_records_nothing(self):
        event_id, body = stripe_event(size=2000)
        with self.connect() as sock:
            sock.sendall(delivery_head(self.bridge, body, 2000) + body[:500])
        time.sleep(0.2)
        self.assertDeliveredNormally()
        time.sleep(BUDGET - 0.2)
        self.assertEqual(self.recorded(event_id), 0)

    def test_a_body_shorter_than_its_content_length_is_never_recorded(self):
        # The bytes sent are a whole event, signed: only the Content-Length says more was coming.
        event_id, body = stripe_event()
        with self.connect() as sock:
            sock.sendall(delivery_head(self.bridge, body, len(body) + 1500) + body)
            sock.shutdown(socket.SHUT_WR)
            started = time.monotonic()
            outcome, status = answer_or_close(sock, BUDGET + 1)
            elapsed = time.monotonic() - started
        # 400: the body ended before its Content-Length (not 413, "too large").
        self.assertEqual((outcome, status), ("answer", 400), "a truncated delivery")
        self.assertLessEqual(elapsed, BUDGET)
        self.assertEqual(self.recorded(event_id), 0)
        self.assertDeliveredNormally()

    def trickle(self, head, body):
        """Sends ``head``, then ``body`` a byte per second until the bridge answers or closes;
        returns (outcome, status, seconds from the head to that)."""
        with self.connect() as sock:
            sock.sendall(head)
            started = time.monotonic()
            sent = 0
            outcome, status = "nothing", None
            while time.monotonic() - started < BUDGET + 3:
                outcome, status = answer_or_close(sock, 1.0)
                if outcome != "nothing":
                    break
                try:
                    sock.send(body[sent:sent + 1])
                    sent += 1
                except OSError:
                    outcome = "closed"
                    break
            return outcome, status, time.monotonic() - started

    def test_bodies_trickling_a_byte_per_second_are_cut_at_the_request_timeout(self):
        results = []

        def trickle():
            event_id, body = stripe_event(size=2000)
            results.append((event_id, *self.trickle(delivery_head(self.bridge, body, len(body)), body)))

        threads = [threading.Thread(target=trickle) for _ in range(4)]
        for thread in threads:
            thread.start()
        time.sleep(0.5)
        while any(thread.is_alive() for thread in threads):
            self.assertServing(self.bridge)
            time.sleep(0.3)
        for thread in threads:
            thread.join()
        self.assertEqual(len(results), 4)
        for event_id, outcome, status, elapsed in results:
            # 504 + Retry-After: the time ran out before anything was recorded (not 413, "too large").
            self.assertEqual((outcome, status), ("answer", 504), f"a trickle after {elapsed:.2f} s")
            self.assertLessEqual(elapsed, BUDGET, f"a trickle was {outcome} after {elapsed:.2f} s")
            self.assertEqual(self.recorded(event_id), 0)
        self.assertDeliveredNormally()

    def test_a_call_whose_body_trickles_is_cut_at_the_request_timeout_and_writes_nothing(self):
        user = str(uuid.uuid4())
        token = self.tokens.user(user, f"{user[:8]}@example.com")
        minted.append(token)
        body = json.dumps({"p_name": "Trickled", "p_description": "x" * 200}).encode("utf-8")
        head = (f"POST /rpc/create_organization HTTP/1.1\r\nHost: 127.0.0.1:{self.bridge.port}\r\n"
                f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode("ascii")
        outcome, status, elapsed = self.trickle(head, body)
        # 504 PGRST003 + Retry-After, as for any call whose budget ran out before the database.
        self.assertEqual((outcome, status), ("answer", 504), f"a trickled call after {elapsed:.2f} s")
        self.assertLessEqual(elapsed, BUDGET)
        self.assertEqual(self.database.value(
            "select count(*) from core.organizations where created_by = %s::uuid", (user,)), 0)
        self.assertServing(self.bridge)


# ---------------------------------------------------------------------------------------------
# d. A statement that runs past statement_timeout
# ---------------------------------------------------------------------------------------------

class StatementTimeoutTests(StatementTimeoutChecks, FaultTestCase):
    """A statement that runs past statement_timeout, straight to PostgreSQL (the checks are
    :class:`bridge_common.StatementTimeoutChecks`'), each answer also within the budget."""

    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.slow_inserts = SlowInserts(environment[DATABASE_URL], "interop_faults")
        cls.slow_inserts.install()
        cls.tokens = SupabaseTokens(secrets.token_urlsafe(32))
        cls.bridge = Bridge("statement-timeout", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": environment[DATABASE_URL],
            "SMTA_JWT_SECRET": cls.tokens.secret,
            "SMTA_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
            "SMTA_STATEMENT_TIMEOUT": "0.5",
        }).start()
        cls.bridge.wait_for_health(200)

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)
        cls.slow_inserts.remove()

    def create(self, name, key=None):
        user = str(uuid.uuid4())
        token = self.tokens.user(user, f"{user[:8]}@example.com")
        minted.append(token)
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        reply, elapsed = timed(call, self.bridge.url, "POST", "/rpc/create_organization", {"p_name": name}, headers)
        self.assertInBudget(reply, elapsed, f"creating {name!r}")
        return reply, elapsed


class PreparedGateCallTests(FaultTestCase):
    """The bridge sends ``core.gate_call`` as a statement prepared once per connection."""

    SIGNATURE = "core.gate_call(text, uuid, text, text, text, text, text, boolean, uuid, text, json)"

    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.tokens = SupabaseTokens(secrets.token_urlsafe(32))
        cls.bridge = Bridge("prepared-gate-call", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": environment[DATABASE_URL],
            "SMTA_JWT_SECRET": cls.tokens.secret,
            "SMTA_REQUEST_TIMEOUT": str(REQUEST_TIMEOUT),
            # One connection: a call after a failed preparation gets the same one unless the
            # bridge closed it.
            "SMTA_POOL_SIZE": "1",
        }).start()
        cls.bridge.wait_for_health(200)

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)

    def ddl(self, statement):
        with psycopg.connect(environment[DATABASE_URL], autocommit=True) as connection:
            connection.execute(statement)

    def organizations(self, token):
        return timed(call, self.bridge.url, "GET", "/rpc/list_my_organizations", None,
                     {"Authorization": f"Bearer {token}"})

    def test_a_failed_preparation_does_not_outlive_its_connection(self):
        user = str(uuid.uuid4())
        token = self.tokens.user(user, f"{user[:8]}@example.com")
        minted.append(token)
        self.ddl(f"alter function {self.SIGNATURE} rename to gate_call_away")
        try:
            reply, elapsed = self.organizations(token)
            self.assertInBudget(reply, elapsed, "a call while core.gate_call is missing")
            self.assertNotEqual(reply.status, 200, reply)
        finally:
            self.ddl("alter function core.gate_call_away(text, uuid, text, text, text, text, text, boolean, uuid, text, json) "
                     "rename to gate_call")
        reply, elapsed = self.organizations(token)
        self.assertInBudget(reply, elapsed, "the first call once core.gate_call is back")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json(), [])

    def test_a_gate_call_replaced_while_prepared_is_used_in_its_new_form(self):
        user = str(uuid.uuid4())
        token = self.tokens.user(user, f"{user[:8]}@example.com")
        minted.append(token)
        reply, _ = self.organizations(token)
        self.assertEqual(reply.status, 200, reply)
        definition = self.database.value(f"select pg_get_functiondef('{self.SIGNATURE}'::regprocedure)")
        # The same function, answering a marker (in the bridge's form for a set of rows: count,
        # total, rows): the prepared statement must run the new body.
        self.ddl(definition.replace(
            "return v_result;", "return pg_catalog.json_build_array(1, null, pg_catalog.json_build_array('replaced'));", 1))
        try:
            reply, elapsed = self.organizations(token)
            self.assertInBudget(reply, elapsed, "a call after core.gate_call was replaced")
            self.assertEqual(reply.status, 200, reply)
            self.assertEqual(reply.json(), ["replaced"])
        finally:
            self.ddl(definition)
        reply, _ = self.organizations(token)
        self.assertEqual(reply.json(), [])


if __name__ == "__main__":
    main()
