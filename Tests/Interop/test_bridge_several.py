#!/usr/bin/env python3
"""Two ``smta serve`` processes on one database, called in turn as a round-robin balancer would:
nothing either keeps in its memory may change an answer.

Each test sends its requests alternately to bridge A and bridge B and checks with psycopg what the
database holds: a token accepted by one is accepted by the other (and a forged one refused by
both, writing nothing); a membership ended through one is closed through the other at once; the
same Stripe and Lemon Squeezy deliveries (signed by the ``stripe`` package and ``hmac``) sent to
both at the same moment are recorded and applied once; a function made ``STABLE`` and announced
with ``NOTIFY smta, 'reload schema'`` is callable with GET on both; a write sent to A under an
``Idempotency-Key`` is replayed by B; an issuer key removed from the JWKS stops verifying on both
within ``jwks_refresh_interval``, even on the one that never met a token with an unknown ``kid``;
a Payload session ended (logout) is refused by both at once; a Payload session seen by one bridge
before an address was provisioned through SCIM is bound by neither afterwards (the first request of a
session is the database's to know), while a new sign-in binds on either.

Needs SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations) and SMTA_INTEROP_PAYLOAD_DATABASE_URL (one migrated with the core and Payload
migrations); see bridge_common.py.
"""

import datetime
import hashlib
import hmac
import http.server
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid

from bridge_common import (
    BINARY, DATABASE_URL, Bridge, BridgeTestCase, Database, SigningKey, SupabaseTokens, auth_collection_ddl, call, main,
    payload_timestamp, payload_token, require_environment, stop_cleanly)

import stripe

PAYLOAD_DATABASE_URL = "SMTA_INTEROP_PAYLOAD_DATABASE_URL"
JWKS_REFRESH_INTERVAL = 2
STRIPE_SECRET = "whsec_" + secrets.token_hex(16)
LEMON_SECRET = secrets.token_hex(16)
PRODUCTS = [
    {"price_id": "price_several", "name": "Several", "billing_interval": "month", "amount": 1000,
     "metadata": {"features": ["sso"]}},
    {"price_id": "77", "name": "Several (Lemon Squeezy)", "billing_interval": "month", "amount": 1000,
     "metadata": {"features": ["sso"]}},
]

environment = require_environment(BINARY, DATABASE_URL)
database = Database(environment[DATABASE_URL])
tokens = SupabaseTokens(secrets.token_urlsafe(32))
bridges = []
jwks = None


class JWKSServer:
    """The project's JWKS endpoint on a loopback port, serving the keys a test sets."""

    def __init__(self):
        self.lock = threading.Lock()
        self.keys = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                with server.lock:
                    body = json.dumps({"keys": server.keys}).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *arguments):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def serve(self, *keys):
        with self.lock:
            self.keys = [key.jwk() for key in keys]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/auth/v1/.well-known/jwks.json"


FIRST_KEY = SigningKey("first", tokens.minted)


def load_products():
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(PRODUCTS, file)
    child = {key: value for key, value in os.environ.items() if not key.startswith("SMTA_")}
    child["SMTA_DATABASE_URL"] = environment[DATABASE_URL]
    result = subprocess.run([environment[BINARY], "billing", "products", "--file", file.name], env=child,
                            capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    os.unlink(file.name)
    if result.returncode != 0:
        raise AssertionError(f"smta billing products failed ({result.returncode}):\n{result.stdout}{result.stderr}")


def setUpModule():
    global jwks
    load_products()
    jwks = JWKSServer()
    jwks.serve(FIRST_KEY)
    for name in ("a", "b"):
        bridge = Bridge(f"several-{name}", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": environment[DATABASE_URL],
            "SMTA_JWT_SECRET": tokens.secret,
            "SMTA_JWKS_URL": jwks.url,
            "SMTA_JWKS_REFRESH_INTERVAL": str(JWKS_REFRESH_INTERVAL),
            "SMTA_STRIPE_WEBHOOK_SECRET": STRIPE_SECRET,
            "SMTA_LEMONSQUEEZY_WEBHOOK_SECRET": LEMON_SECRET,
        }).start()
        bridges.append(bridge)
    for bridge in bridges:
        bridge.wait_for_health(200)


def tearDownModule():
    stop_cleanly(bridges, tokens.minted)
    jwks.httpd.shutdown()


class RoundRobin:
    """Hands out bridge A, B, A, B, … as a round-robin load balancer does."""

    def __init__(self):
        self.turn = 0

    def next(self):
        bridge = bridges[self.turn % len(bridges)]
        self.turn += 1
        return bridge


balancer = RoundRobin()


class User:
    """A Supabase user with an HS256 token, each call sent to the next bridge in turn."""

    def __init__(self, label):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)

    def rpc(self, name, params=None, bridge=None, get=False, headers=None, token=None):
        bridge = bridge or balancer.next()
        headers = {"Authorization": f"Bearer {token or self.token}", **(headers or {})}
        if get:
            query = "&".join(f"{key}={value}" for key, value in (params or {}).items())
            return call(bridge.url, "GET", f"/rpc/{name}" + (f"?{query}" if query else ""), headers=headers)
        return call(bridge.url, "POST", f"/rpc/{name}", params or {}, headers=headers)

    def ok(self, name, params=None, **options):
        reply = self.rpc(name, params, **options)
        assert reply.status in (200, 204), f"{name}: {reply!r}"
        return reply.json() if reply.status == 200 else None


def concurrently(functions):
    """Runs every function at the same moment (one thread each) and returns their results."""
    results = [None] * len(functions)
    start = threading.Barrier(len(functions))

    def run(index):
        start.wait()
        results[index] = functions[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(functions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


class CallsAcrossBridgesTests(BridgeTestCase):
    def test_a_token_accepted_by_one_bridge_is_accepted_by_the_other_and_a_forged_one_by_neither(self):
        alice = User("alice")
        created = alice.ok("create_organization", {"p_name": "Round robin"}, bridge=bridges[0])[0]
        for bridge in bridges:
            listed = alice.ok("list_my_organizations", bridge=bridge)
            self.assertEqual([row["id"] for row in listed], [created["id"]], bridge.name)
        before = database.fingerprint()
        forged = tokens.signed_elsewhere(alice.id, alice.email)
        expired = tokens.expired(alice.id, alice.email)
        for bridge in bridges:
            for token in (forged, expired):
                reply = alice.rpc("create_organization", {"p_name": "Forged"}, bridge=bridge, token=token)
                self.assertPostgrestError(reply, 401)
        self.assertUnchanged(database, before, "forged and expired tokens sent to both bridges")

    def test_alternate_calls_see_each_others_writes_at_once(self):
        alice = User("alice")
        organization = alice.ok("create_organization", {"p_name": "Alternating"})[0]["id"]
        for turn in range(6):
            name = f"Alternating {turn}"
            alice.ok("update_organization", {"p_id": organization, "p_name": name})
            self.assertEqual(alice.ok("get_organization", {"p_id": organization}, get=True)[0]["name"], name)
        self.assertEqual(database.value("select name from core.organizations where id = %s", (organization,)),
                         "Alternating 5")

    def test_a_membership_ended_through_one_bridge_is_closed_through_the_other_at_once(self):
        alice, bob = User("alice"), User("bob")
        organization = alice.ok("create_organization", {"p_name": "Members"}, bridge=bridges[0])[0]["id"]
        team = next(role["id"] for role in alice.ok("list_roles", {"p_org_id": organization}, bridge=bridges[1])
                    if role["name"] == "team")
        invitation = alice.ok("create_invitation", {
            "p_email": bob.email, "p_organization_id": organization, "p_role_id": team}, bridge=bridges[0])[0]
        bob.ok("accept_invitation", {"p_token": invitation["token"]}, bridge=bridges[1])
        self.assertEqual([row["id"] for row in bob.ok("list_my_organizations", bridge=bridges[0])], [organization])
        alice.ok("remove_member_from_organization", {"p_org_id": organization, "p_user_id": bob.id}, bridge=bridges[1])
        for bridge in bridges:
            self.assertEqual(bob.ok("list_my_organizations", bridge=bridge), [], bridge.name)
            self.assertEqual(bob.ok("get_organization", {"p_id": organization}, bridge=bridge, get=True), [], bridge.name)
        before = database.fingerprint()
        for bridge in bridges:
            reply = bob.rpc("update_organization", {"p_id": organization, "p_name": "Taken over"}, bridge=bridge)
            self.assertIn(reply.status, (403, 404), reply)
        self.assertUnchanged(database, before, "a removed member's writes through either bridge")

    def test_an_idempotency_key_used_on_one_bridge_replays_on_the_other(self):
        alice = User("alice")
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = alice.rpc("create_organization", {"p_name": "Once"}, bridge=bridges[0], headers=key)
        self.assertEqual(first.status, 200, first)
        self.assertIsNone(first.headers.get("idempotent-replayed"))
        again = alice.rpc("create_organization", {"p_name": "Once"}, bridge=bridges[1], headers=key)
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.headers.get("idempotent-replayed"), "true")
        self.assertEqual(again.json(), first.json())
        self.assertEqual(database.value(
            "select count(*) from core.organizations where created_by = %s::uuid", (alice.id,)), 1)
        before = database.fingerprint()
        other = alice.rpc("create_organization", {"p_name": "Another"}, bridge=bridges[1], headers=key)
        self.assertPostgrestError(other, 422, "PT422")
        self.assertUnchanged(database, before, "another request under a used key, on the other bridge")


class CatalogReloadTests(BridgeTestCase):
    def test_a_function_made_stable_and_announced_is_callable_with_get_on_both_bridges(self):
        name = f"several_probe_{secrets.token_hex(3)}"
        database.execute(f"create function public.{name}(p_x int) returns int language sql volatile as 'select p_x + 1'")
        database.execute(f"grant execute on function public.{name}(int) to authenticated")
        database.execute("notify smta, 'reload schema'")
        alice = User("alice")
        for bridge in bridges:
            self.assertEqual(self.eventually_ok(lambda: alice.rpc(name, {"p_x": 1}, bridge=bridge)), 2, bridge.name)
            self.assertPostgrestError(alice.rpc(name, {"p_x": 1}, bridge=bridge, get=True), 405, "PGRST101")
        database.execute(f"alter function public.{name}(int) stable")
        database.execute("notify smta, 'reload schema'")
        for bridge in bridges:
            self.assertEqual(self.eventually_ok(lambda: alice.rpc(name, {"p_x": 41}, bridge=bridge, get=True)), 42,
                             bridge.name)

    def eventually_ok(self, send, within=3.0):
        """The JSON of ``send()``'s first 200 within ``within`` seconds: well within the catalog's
        10-second background refresh, so the notification is what reloaded it."""
        announced = time.monotonic()
        while True:
            reply = send()
            if reply.status == 200 or time.monotonic() - announced > within:
                break
            time.sleep(0.05)
        self.assertEqual(reply.status, 200, reply)
        return reply.json()


class SigningKeyRemovalTests(BridgeTestCase):
    def test_a_key_removed_from_the_jwks_stops_verifying_on_both_bridges(self):
        owner = str(uuid.uuid4())
        revoked_token = FIRST_KEY.token(owner)
        for bridge in bridges:
            reply = call(bridge.url, "POST", "/rpc/list_my_organizations", {},
                         {"Authorization": f"Bearer {revoked_token}"})
            self.assertEqual(reply.status, 200, f"{bridge.name}: {reply!r}")
        rotated = SigningKey("rotated", tokens.minted)
        jwks.serve(rotated)
        # Bridge A meets a token of the new key and refreshes its set at once; bridge B meets none.
        reply = call(bridges[0].url, "POST", "/rpc/list_my_organizations", {},
                     {"Authorization": f"Bearer {rotated.token(owner)}"})
        self.assertEqual(reply.status, 200, reply)
        self.assertPostgrestError(call(bridges[0].url, "POST", "/rpc/list_my_organizations", {},
                                       {"Authorization": f"Bearer {revoked_token}"}), 401)
        removed = time.monotonic()
        while True:
            reply = call(bridges[1].url, "POST", "/rpc/list_my_organizations", {},
                         {"Authorization": f"Bearer {revoked_token}"})
            if reply.status == 401 or time.monotonic() - removed > 2 * JWKS_REFRESH_INTERVAL + 3:
                break
            time.sleep(0.1)
        self.assertPostgrestError(reply, 401)
        elapsed = time.monotonic() - removed
        self.assertLess(elapsed, 2 * JWKS_REFRESH_INTERVAL + 3)
        before = database.fingerprint()
        for bridge in bridges:
            refused = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": "Revoked key"},
                           {"Authorization": f"Bearer {revoked_token}"})
            self.assertPostgrestError(refused, 401)
        self.assertUnchanged(database, before, "a token of a removed key, on both bridges")


def stripe_event(organization, subscription, status, created):
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2025-03-31.basil",
        "created": created, "livemode": False, "type": "customer.subscription.updated",
        "data": {"object": {
            "id": subscription, "object": "subscription", "customer": f"cus_{uuid.uuid4().hex[:14]}",
            "status": status, "cancel_at_period_end": False, "created": created - 60,
            "metadata": {"organization_id": organization},
            "items": {"object": "list", "data": [{
                "id": f"si_{uuid.uuid4().hex[:14]}", "object": "subscription_item",
                "current_period_start": created, "current_period_end": created + 30 * 86400,
                "price": {"id": "price_several", "object": "price", "product": "prod_Several", "unit_amount": 1000,
                          "currency": "usd", "recurring": {"interval": "month", "interval_count": 1}},
                "quantity": 1,
            }]},
        }},
    }


def lemon_event(organization, subscription, status):
    return {
        "meta": {"event_name": "subscription_created", "custom_data": {"organization_id": organization}},
        "data": {"type": "subscriptions", "id": subscription, "attributes": {
            "store_id": 1, "customer_id": 9002, "order_id": 78, "product_id": 6, "variant_id": 77,
            "product_name": "Several", "variant_name": "Monthly", "user_email": "billing@example.com",
            "status": status, "cancelled": False, "pause": None, "renews_at": "2027-01-01T00:00:00.000000Z",
            "ends_at": None, "trial_ends_at": None, "created_at": "2026-11-01T00:00:00.000000Z",
            "updated_at": "2026-12-01T00:00:00.000000Z"}},
    }


class WebhookAcrossBridgesTests(BridgeTestCase):
    LEDGER = ("platform.billing_events", "platform.billing_subscriptions", "platform.billing_customers")

    def deliver_to_both(self, path, body, headers, copies=3):
        """``copies`` deliveries of the same bytes to each bridge, all at the same moment."""
        send = [lambda bridge=bridge: call(bridge.url, "POST", path, body, headers)
                for bridge in bridges for _ in range(copies)]
        return concurrently(send)

    def assertAppliedOnce(self, replies, event_id, provider_subscription, status):
        self.assertEqual([reply.status for reply in replies], [200] * len(replies), replies)
        outcomes = sorted(reply.json()["outcome"] for reply in replies)
        self.assertEqual(outcomes, ["applied"] + ["duplicate"] * (len(replies) - 1))
        self.assertEqual(database.value(
            "select count(*) from platform.billing_events where event_id = %s", (event_id,)), 1)
        self.assertEqual(database.rows(
            "select status from platform.billing_subscriptions where provider_subscription_id = %s",
            (provider_subscription,)), [(status,)])

    def test_the_same_stripe_delivery_to_both_bridges_at_once_applies_once(self):
        organization = User("owner").ok("create_organization", {"p_name": "Billed twice"})[0]["id"]
        subscription = f"sub_{uuid.uuid4().hex[:14]}"
        event = stripe_event(organization, subscription, "active", int(time.time()))
        body = json.dumps(event, separators=(",", ":")).encode("utf-8")
        header = stripe.WebhookSignature.generate_signature_header(body.decode("utf-8"), STRIPE_SECRET)
        replies = self.deliver_to_both("/webhooks/stripe", body,
                                       {"Stripe-Signature": header, "Content-Type": "application/json"})
        self.assertAppliedOnce(replies, event["id"], subscription, "active")

        before = database.fingerprint(self.LEDGER)
        forged = stripe_event(organization, subscription, "canceled", int(time.time()) + 5)
        forged_body = json.dumps(forged, separators=(",", ":")).encode("utf-8")
        forged_header = stripe.WebhookSignature.generate_signature_header(
            forged_body.decode("utf-8"), "whsec_" + "f" * 32)
        for reply in self.deliver_to_both("/webhooks/stripe", forged_body,
                                          {"Stripe-Signature": forged_header, "Content-Type": "application/json"}, 1):
            self.assertEqual(reply.status, 400, reply)
        self.assertUnchanged(database, before, "a forged delivery to both bridges")

    def test_the_same_lemon_squeezy_delivery_to_both_bridges_at_once_applies_once(self):
        organization = User("owner").ok("create_organization", {"p_name": "Lemon twice"})[0]["id"]
        subscription = str(secrets.randbelow(10**9))
        body = json.dumps(lemon_event(organization, subscription, "active"), separators=(",", ":")).encode("utf-8")
        signature = hmac.new(LEMON_SECRET.encode("utf-8"), body, hashlib.sha256).hexdigest()
        replies = self.deliver_to_both("/webhooks/lemonsqueezy", body,
                                       {"X-Signature": signature, "Content-Type": "application/json"})
        event_id = "ls_" + hashlib.sha256(body).hexdigest()
        self.assertAppliedOnce(replies, event_id, subscription, "active")


# `users`; `members`: `auth.verify` (`_verified`), whose users' emails the adapter marks verified.
PAYLOAD_DDL = auth_collection_ddl("users") + auth_collection_ddl("members", "  `_verified` integer,\n")


class PayloadAcrossBridgesTests(BridgeTestCase):
    """Two Payload bridges over one Payload SQLite file and one database."""

    @classmethod
    def setUpClass(cls):
        url = require_environment(PAYLOAD_DATABASE_URL)[PAYLOAD_DATABASE_URL]
        cls.database = Database(url)
        cls.folder = tempfile.mkdtemp(prefix="smta-several-payload-")
        cls.path = os.path.join(cls.folder, "payload.db")
        cls.secret = secrets.token_urlsafe(24)
        with sqlite3.connect(cls.path, isolation_level=None) as connection:
            connection.executescript(PAYLOAD_DDL)
        cls.bridges = [Bridge(f"several-payload-{name}", {
            "SMTA_ADAPTER": "payload",
            "SMTA_DATABASE_URL": url,
            "SMTA_PAYLOAD_SECRET": cls.secret,
            "SMTA_PAYLOAD_DATABASE": cls.path,
            "SMTA_PAYLOAD_COLLECTIONS": "users, members:verified",
        }).start() for name in ("a", "b")]
        for bridge in cls.bridges:
            bridge.wait_for_health(200)

    @classmethod
    def tearDownClass(cls):
        for bridge in cls.bridges:
            bridge.stop(signal.SIGTERM)
        shutil.rmtree(cls.folder, ignore_errors=True)

    def sign_up(self, email, collection="users"):
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            if collection == "members":
                return connection.execute("insert into members (email, _verified) values (?, 1)", (email,)).lastrowid
            return connection.execute("insert into users (email) values (?)", (email,)).lastrowid

    def sign_in(self, user, email, collection="users"):
        """A new session of ``user``, as Payload's login opens one: its id and token."""
        now = datetime.datetime.now(datetime.timezone.utc)
        sid = str(uuid.uuid4())
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            connection.execute(
                f"insert into {collection}_sessions (_order, _parent_id, id, created_at, expires_at) values (1, ?, ?, ?, ?)",
                (user, sid, payload_timestamp(now), payload_timestamp(now + datetime.timedelta(hours=2))))
        token = payload_token(self.secret, user, email, sid, collection=collection)
        tokens.minted.append(token)
        return sid, token

    def rpc(self, bridge, token, name, params=None):
        return call(bridge.url, "POST", f"/rpc/{name}", params or {}, {"Authorization": f"JWT {token}"})

    def ok(self, bridge, token, name, params=None):
        reply = self.rpc(bridge, token, name, params)
        self.assertIn(reply.status, (200, 204), reply)
        return reply.json() if reply.status == 200 else None

    def test_a_session_logged_out_is_refused_by_both_bridges_at_once(self):
        email = f"logout.{secrets.token_hex(4)}@example.com"
        user = self.sign_up(email)
        sid, token = self.sign_in(user, email)
        for bridge in self.bridges:
            self.ok(bridge, token, "create_organization", {"p_name": f"Before logout {bridge.name}"})
        with sqlite3.connect(self.path, isolation_level=None) as connection:
            connection.execute("delete from users_sessions where id = ?", (sid,))
        before = self.database.fingerprint()
        for bridge in self.bridges:
            self.assertPostgrestError(self.rpc(bridge, token, "create_organization", {"p_name": "After logout"}), 401)
        self.assertUnchanged(self.database, before, "a logged-out session on both bridges")

    def test_a_session_seen_by_one_bridge_before_a_provisioning_is_bound_by_neither_after_it(self):
        domain = f"several{secrets.token_hex(3)}.example"
        alice_email = f"alice.{secrets.token_hex(4)}@example.com"
        _, alice = self.sign_in(self.sign_up(alice_email), alice_email)
        a, b = self.bridges
        organization = self.ok(a, alice, "create_organization", {"p_name": "Provisioned"})[0]["id"]
        claim = self.ok(a, alice, "add_organization_domain", {"p_org_id": organization, "p_domain": domain})[0]
        self.database.execute("select platform.verify_organization_domain(%s)", (claim["id"],))
        scim = self.ok(b, alice, "create_scim_token", {"p_org_id": organization, "p_label": "Okta"})[0]["token"]

        val_email = f"val.{secrets.token_hex(4)}@{domain}"
        val = self.sign_up(val_email, "members")
        _, first_session = self.sign_in(val, val_email, "members")
        # The session's first request, on bridge A: nothing is provisioned for Val yet.
        self.assertEqual(self.ok(a, first_session, "list_my_organizations"), [])
        provisioned = call(b.url, "POST", "/scim/v2/Users", {"userName": val_email}, {"Authorization": f"Bearer {scim}"})
        self.assertEqual(provisioned.status, 201, provisioned)

        # The same session's next requests answer alike on both bridges: it signed in before the
        # provisioning, so neither binds it (bridge B has never seen it, the database has).
        before = self.database.fingerprint(("core.memberships", "core.scim_users"))
        for bridge in (a, b, a, b):
            self.assertEqual(self.ok(bridge, first_session, "list_my_organizations"), [], bridge.name)
        self.assertUnchanged(self.database, before, "later requests of a session seen before the provisioning")
        self.assertEqual(self.database.value(
            "select count(*) from core.scim_users where organization_id = %s and user_id is null", (organization,)), 1)

        # A new sign-in binds, on whichever bridge it first reaches, and both then agree.
        _, second_session = self.sign_in(val, val_email, "members")
        self.assertEqual([row["id"] for row in self.ok(b, second_session, "list_my_organizations")], [organization])
        for bridge in (a, b):
            self.assertEqual([row["id"] for row in self.ok(bridge, first_session, "list_my_organizations")],
                             [organization], bridge.name)
        self.assertEqual(self.database.value(
            "select count(*) from core.scim_users where organization_id = %s and user_id is null", (organization,)), 0)


if __name__ == "__main__":
    main()
