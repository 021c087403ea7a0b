"""Billing webhooks through ``smta serve``: Stripe deliveries signed by the ``stripe`` package's own
``WebhookSignature``, Lemon Squeezy deliveries signed with Python's ``hmac``; realistic event
payloads; replays (also five at once), reordering, forgeries, secret rotation, unknown
organizations and prices; members reading their plan, a feature and the seat limit through the
bridge. psycopg shows what the ledger and the billing tables hold after each delivery.

Run by ``Tests/BridgeTests/BillingWebhookInteropTests.swift`` with ``SMTA_INTEROP_BINARY`` and
``SMTA_INTEROP_DATABASE_URL`` (a database migrated for the Supabase adapter).
"""

import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bridge_common import (  # noqa: E402
    BINARY, DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

try:
    import stripe
except ImportError as missing:
    sys.exit(f"the billing interop tests need the stripe package (run the tests with scripts/test, which installs Tests/Interop/requirements.txt into .build/venv): {missing}")

ENVIRONMENT = require_environment(BINARY, DATABASE_URL)
database = Database(ENVIRONMENT[DATABASE_URL])
JWT_SECRET = "billing-interop-jwt-secret-of-32-chars!!"
STRIPE_SECRET = "whsec_" + "n" * 32
STRIPE_OLD_SECRET = "whsec_" + "o" * 32
LEMON_SECRET = "lemon-signing-secret"
tokens = SupabaseTokens(JWT_SECRET)

LEDGER_AND_STATE = ("platform.billing_events", "platform.billing_subscriptions", "platform.billing_customers")

PRODUCTS = [
    {"price_id": "price_pro_monthly", "name": "Pro", "billing_interval": "month", "amount": 2900,
     "metadata": {"features": ["sso", "audit_export"], "limits": {"max_members": 2}}},
    {"price_id": "price_team_monthly", "name": "Team", "billing_interval": "month", "amount": 9900,
     "metadata": {"features": ["sso"], "limits": {"max_members": 50}}},
    {"price_id": "42", "name": "Pro (Lemon Squeezy)", "billing_interval": "month", "amount": 2900,
     "metadata": {"features": ["sso"]}},
]


def load_products():
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as file:
        json.dump(PRODUCTS, file)
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SMTA_")}
    environment["SMTA_DATABASE_URL"] = ENVIRONMENT[DATABASE_URL]
    result = subprocess.run(
        [ENVIRONMENT[BINARY], "billing", "products", "--file", file.name],
        env=environment, capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    os.unlink(file.name)
    if result.returncode != 0:
        raise AssertionError(f"smta billing products failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


PRODUCTS_OUTPUT = load_products()
bridge = Bridge("billing", {
    "SMTA_ADAPTER": "supabase",
    "SMTA_DATABASE_URL": ENVIRONMENT[DATABASE_URL],
    "SMTA_JWT_SECRET": JWT_SECRET,
    "SMTA_STRIPE_WEBHOOK_SECRET": f"{STRIPE_SECRET},{STRIPE_OLD_SECRET}",
    "SMTA_LEMONSQUEEZY_WEBHOOK_SECRET": LEMON_SECRET,
}).start()
bridge.wait_for_health()


class Member:
    """A Supabase user calling the bridge with raw HTTP."""

    def __init__(self, label):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)

    def rpc(self, name, params=None):
        return call(bridge.url, "POST", f"/rest/v1/rpc/{name}", params or {},
                    headers={"Authorization": f"Bearer {self.token}", "apikey": tokens.api_key("anon")})


def new_organization(owner, name):
    reply = owner.rpc("create_organization", {"p_name": name})
    assert reply.status == 200, reply
    return reply.json()[0]["id"]


def stripe_subscription_event(organization, subscription, status, created, price="price_pro_monthly",
                              event_type="customer.subscription.updated", cancel_at_period_end=False,
                              customer=None, event_id=None):
    """A Stripe event as the API (2024+ versions) sends it: the period end on the item."""
    period_end = created + 30 * 86400
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "api_version": "2025-03-31.basil",
        "created": created,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
        "data": {"object": {
            "id": subscription,
            "object": "subscription",
            "customer": customer or f"cus_{uuid.uuid5(uuid.NAMESPACE_URL, subscription).hex[:14]}",
            "status": status,
            "cancel_at_period_end": cancel_at_period_end,
            "created": created - 60,
            "metadata": {"organization_id": organization} if organization else {},
            "items": {"object": "list", "data": [{
                "id": f"si_{uuid.uuid4().hex[:14]}",
                "object": "subscription_item",
                "current_period_start": created,
                "current_period_end": period_end,
                "price": {"id": price, "object": "price", "product": "prod_Interop", "unit_amount": 2900,
                          "currency": "usd", "recurring": {"interval": "month", "interval_count": 1}},
                "quantity": 1,
            }]},
        }},
    }


def stripe_checkout_event(organization, subscription, customer, created):
    return {
        "id": f"evt_{uuid.uuid4().hex[:24]}", "object": "event", "api_version": "2025-03-31.basil",
        "created": created, "livemode": False, "type": "checkout.session.completed",
        "data": {"object": {
            "id": f"cs_test_{uuid.uuid4().hex[:20]}", "object": "checkout.session", "mode": "subscription",
            "client_reference_id": organization, "customer": customer, "subscription": subscription,
            "customer_details": {"email": "billing@example.com"}, "metadata": {}, "status": "complete",
        }},
    }


def lemon_subscription_event(organization, subscription_id, event_name, status, updated_at, variant_id=42):
    return {
        "meta": {"event_name": event_name, "custom_data": {"organization_id": organization}},
        "data": {
            "type": "subscriptions", "id": str(subscription_id),
            "attributes": {
                "store_id": 1, "customer_id": 9001, "order_id": 77, "product_id": 5, "variant_id": variant_id,
                "product_name": "Pro", "variant_name": "Monthly", "user_email": "billing@example.com",
                "status": status, "cancelled": status == "cancelled", "pause": None,
                "renews_at": "2027-01-01T00:00:00.000000Z", "ends_at": None,
                "trial_ends_at": "2026-12-15T00:00:00.000000Z",
                "created_at": "2026-11-01T00:00:00.000000Z", "updated_at": updated_at,
            },
        },
    }


def send_stripe(event, secret=STRIPE_SECRET, timestamp=None, header=None, body=None):
    body = body if body is not None else json.dumps(event, separators=(",", ":"))
    if header is None:
        header = stripe.WebhookSignature.generate_signature_header(body, secret, timestamp=timestamp)
    return call(bridge.url, "POST", "/webhooks/stripe", body.encode("utf-8"),
                headers={"Stripe-Signature": header, "Content-Type": "application/json"})


def send_lemon(event, secret=LEMON_SECRET, signature=None, body=None):
    body = body if body is not None else json.dumps(event, separators=(",", ":")).encode("utf-8")
    if signature is None:
        signature = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return call(bridge.url, "POST", "/webhooks/lemonsqueezy", body,
                headers={"X-Signature": signature, "Content-Type": "application/json"})


def subscription(provider_id):
    rows = database.rows(
        "select organization_id::text, provider, plan, status, cancel_at_period_end, current_period_end"
        " from platform.billing_subscriptions where provider_subscription_id = %s", (provider_id,))
    return rows[0] if rows else None


def ledger_count(event_id=None):
    if event_id is None:
        return database.value("select count(*) from platform.billing_events")
    return database.value("select count(*) from platform.billing_events where event_id = %s", (event_id,))


class BillingTestCase(BridgeTestCase):
    def assertOutcome(self, reply, outcome):
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.json()["outcome"], outcome, reply.json())


class StripeTests(BillingTestCase):
    def setUp(self):
        self.owner = Member("owner")
        self.organization = new_organization(self.owner, "Billed")
        self.subscription = f"sub_{uuid.uuid4().hex[:14]}"

    def test_products_load_from_a_file(self):
        self.assertIn("Loaded 3 product(s)", PRODUCTS_OUTPUT)
        self.assertEqual(database.value(
            "select metadata->'limits'->>'max_members' from platform.subscription_products"
            " where paymentprocessor_price_id = 'price_pro_monthly'"), "2")

    def test_a_signed_subscription_event_sets_the_organizations_subscription(self):
        now = int(time.time())
        customer = f"cus_{uuid.uuid4().hex[:14]}"
        self.assertOutcome(send_stripe(stripe_checkout_event(self.organization, self.subscription, customer, now - 5)),
                           "applied")
        self.assertEqual(database.value(
            "select provider_customer_id from platform.billing_customers where organization_id = %s",
            (self.organization,)), customer)
        self.assertOutcome(send_stripe(stripe_subscription_event(
            self.organization, self.subscription, "active", now, customer=customer)), "applied")
        organization, provider, plan, status, cancel, period_end = subscription(self.subscription)
        self.assertEqual((organization, provider, status, cancel), (self.organization, "stripe", "active", False))
        self.assertIsNotNone(period_end)
        self.assertTrue(plan)

        reply = self.owner.rpc("get_subscription", {"p_org_id": self.organization})
        self.assertEqual(reply.status, 200, reply)
        rows = reply.json()
        self.assertEqual(len(rows), 1, rows)
        self.assertEqual((rows[0]["provider"], rows[0]["status"], rows[0]["cancel_at_period_end"]),
                         ("stripe", "active", False))
        has_sso = self.owner.rpc("org_has_feature", {"p_org_id": self.organization, "p_feature": "sso"})
        self.assertEqual((has_sso.status, has_sso.json()), (200, True))
        has_other = self.owner.rpc("org_has_feature", {"p_org_id": self.organization, "p_feature": "white_label"})
        self.assertEqual((has_other.status, has_other.json()), (200, False))

        outsider = Member("outsider")
        self.assertEqual(outsider.rpc("org_has_feature", {"p_org_id": self.organization, "p_feature": "sso"}).json(),
                         False)
        refused = outsider.rpc("get_subscription", {"p_org_id": self.organization})
        self.assertTrue(refused.status in (403, 404) or (refused.status == 200 and refused.json() == []), refused)

    def test_a_replayed_event_is_acknowledged_and_changes_nothing(self):
        event = stripe_subscription_event(self.organization, self.subscription, "active", int(time.time()))
        self.assertOutcome(send_stripe(event), "applied")
        before = database.fingerprint(LEDGER_AND_STATE)
        self.assertOutcome(send_stripe(event), "duplicate")
        self.assertUnchanged(database, before, "a replayed event")
        self.assertEqual(ledger_count(event["id"]), 1)

    def test_five_copies_at_the_same_moment_apply_once(self):
        event = stripe_subscription_event(self.organization, self.subscription, "trialing", int(time.time()))
        body = json.dumps(event, separators=(",", ":"))
        header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
        replies, start = [], threading.Barrier(5)

        def deliver():
            start.wait()
            replies.append(send_stripe(event, header=header, body=body))

        threads = [threading.Thread(target=deliver) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(sorted(reply.status for reply in replies), [200] * 5, replies)
        outcomes = sorted(reply.json()["outcome"] for reply in replies)
        self.assertEqual(outcomes, ["applied", "duplicate", "duplicate", "duplicate", "duplicate"])
        self.assertEqual(ledger_count(event["id"]), 1)
        self.assertEqual(subscription(self.subscription)[3], "trialing")

    def test_an_older_event_never_overwrites_newer_state(self):
        now = int(time.time())
        newer = stripe_subscription_event(self.organization, self.subscription, "past_due", now)
        older = stripe_subscription_event(self.organization, self.subscription, "active", now - 600)
        self.assertOutcome(send_stripe(newer), "applied")
        self.assertOutcome(send_stripe(older), "stale")
        self.assertEqual(subscription(self.subscription)[3], "past_due")
        self.assertEqual(ledger_count(older["id"]), 1, "a stale event is still recorded")

    def test_a_deleted_subscription_is_canceled(self):
        now = int(time.time())
        self.assertOutcome(send_stripe(stripe_subscription_event(self.organization, self.subscription, "active", now - 10)),
                           "applied")
        self.assertOutcome(send_stripe(stripe_subscription_event(
            self.organization, self.subscription, "canceled", now, event_type="customer.subscription.deleted")), "applied")
        self.assertEqual(subscription(self.subscription)[3], "canceled")

    def test_an_unknown_organization_is_recorded_as_rejected_and_creates_nothing(self):
        ghost = str(uuid.uuid4())
        event = stripe_subscription_event(ghost, self.subscription, "active", int(time.time()))
        self.assertOutcome(send_stripe(event), "rejected")
        self.assertIsNone(subscription(self.subscription))
        self.assertEqual(ledger_count(event["id"]), 1)
        self.assertTrue(database.value("select reason from platform.billing_events where event_id = %s", (event["id"],)))

    def test_an_unknown_price_is_recorded_as_rejected(self):
        event = stripe_subscription_event(self.organization, self.subscription, "active", int(time.time()),
                                          price="price_nobody_sells")
        self.assertOutcome(send_stripe(event), "rejected")
        self.assertIsNone(subscription(self.subscription))

    def test_an_event_type_we_do_not_act_on_is_recorded_as_ignored(self):
        event = stripe_subscription_event(self.organization, self.subscription, "active", int(time.time()),
                                          event_type="customer.subscription.trial_will_end")
        self.assertOutcome(send_stripe(event), "ignored")
        self.assertIsNone(subscription(self.subscription))

    def test_the_seat_limit_of_the_plan_holds_when_inviting(self):
        self.assertOutcome(send_stripe(stripe_subscription_event(self.organization, self.subscription, "active",
                                                                 int(time.time()))), "applied")
        roles = self.owner.rpc("list_roles", {"p_org_id": self.organization}).json()
        team = next(role["id"] for role in roles if role["name"] == "team")
        first = self.owner.rpc("create_invitation", {"p_email": "second@example.com", "p_organization_id": self.organization,
                                                     "p_role_id": team})
        self.assertEqual(first.status, 200, first)
        invitee = Member("second")
        invitee.email = "second@example.com"
        invitee.token = tokens.user(invitee.id, invitee.email)
        accepted = invitee.rpc("accept_invitation", {"p_token": first.json()[0]["token"]})
        self.assertEqual(accepted.status, 200, accepted)
        third = self.owner.rpc("create_invitation", {"p_email": "third@example.com", "p_organization_id": self.organization,
                                                     "p_role_id": team})
        body = self.assertPostgrestError(third, 400, "P0001")
        self.assertIn("seat limit", body["message"])


class StripeForgeryTests(BillingTestCase):
    def setUp(self):
        self.owner = Member("owner")
        self.organization = new_organization(self.owner, "Forged")
        self.event = stripe_subscription_event(self.organization, f"sub_{uuid.uuid4().hex[:14]}", "active", int(time.time()))
        self.before = database.fingerprint(LEDGER_AND_STATE)

    def refused(self, reply):
        self.assertEqual(reply.status, 400, reply)
        self.assertNotIn(STRIPE_SECRET.encode(), reply.body)
        self.assertUnchanged(database, self.before, "a refused delivery")

    def test_a_wrong_secret_is_refused(self):
        self.refused(send_stripe(self.event, secret="whsec_" + "x" * 32))

    def test_a_tampered_body_is_refused(self):
        body = json.dumps(self.event, separators=(",", ":"))
        header = stripe.WebhookSignature.generate_signature_header(body, STRIPE_SECRET)
        self.refused(send_stripe(self.event, header=header, body=body.replace('"active"', '"canceled"')))

    def test_a_missing_or_malformed_header_is_refused(self):
        body = json.dumps(self.event)
        self.refused(call(bridge.url, "POST", "/webhooks/stripe", body.encode(), headers={"Content-Type": "application/json"}))
        for header in ("", "garbage", "t=abc,v1=00", f"t={int(time.time())}", "v1=" + "0" * 64):
            with self.subTest(header=header):
                self.refused(send_stripe(self.event, header=header))

    def test_a_stale_or_future_timestamp_is_refused(self):
        # Past the 300 s tolerance either way. A future one needs room: the fraction of a second
        # int() drops and the delivery's own time bring it closer to the bridge's clock (at +301,
        # one delivery on a loaded machine landed inside the tolerance and was applied).
        for offset in (-301, -3600, 330):
            with self.subTest(offset=offset):
                self.refused(send_stripe(self.event, timestamp=int(time.time()) + offset))

    def test_during_rotation_any_configured_secret_and_any_listed_signature_verify(self):
        body = json.dumps(self.event, separators=(",", ":"))
        timestamp = int(time.time())
        old = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", STRIPE_OLD_SECRET)
        unknown = stripe.WebhookSignature._compute_signature(f"{timestamp}.{body}", "whsec_" + "u" * 32)
        self.assertOutcome(send_stripe(self.event, header=f"t={timestamp},v1={unknown},v1={old}", body=body), "applied")

    def test_an_oversized_body_is_refused_with_413(self):
        reply = send_stripe(self.event, body=json.dumps(self.event) + " " * (2 << 20))
        self.assertEqual(reply.status, 413, reply)
        self.assertUnchanged(database, self.before, "an oversized delivery")


class LemonSqueezyTests(BillingTestCase):
    def setUp(self):
        self.owner = Member("owner")
        self.organization = new_organization(self.owner, "Lemon")
        self.subscription_id = int(time.time() * 1000) % 10_000_000

    def test_a_signed_subscription_event_is_applied_with_its_status_normalised(self):
        event = lemon_subscription_event(self.organization, self.subscription_id, "subscription_created", "on_trial",
                                         "2026-11-27T10:00:00.000000Z")
        self.assertOutcome(send_lemon(event), "applied")
        row = subscription(str(self.subscription_id))
        self.assertEqual((row[0], row[1], row[3]), (self.organization, "lemon_squeezy", "trialing"))
        self.assertOutcome(send_lemon(event), "duplicate")
        later = lemon_subscription_event(self.organization, self.subscription_id, "subscription_expired", "expired",
                                         "2026-11-28T10:00:00.000000Z")
        self.assertOutcome(send_lemon(later), "applied")
        self.assertEqual(subscription(str(self.subscription_id))[3], "canceled")

    def test_forged_and_tampered_deliveries_are_refused_and_write_nothing(self):
        event = lemon_subscription_event(self.organization, self.subscription_id, "subscription_created", "active",
                                         "2026-11-27T10:00:00.000000Z")
        before = database.fingerprint(LEDGER_AND_STATE)
        body = json.dumps(event).encode()
        good = hmac.new(LEMON_SECRET.encode(), body, hashlib.sha256).hexdigest()
        for name, reply in (
            ("wrong secret", send_lemon(event, secret="another-secret")),
            ("tampered", send_lemon(event, signature=good, body=body.replace(b'"active"', b'"paused"'))),
            ("not hex", send_lemon(event, signature="z" * 64)),
            ("missing", call(bridge.url, "POST", "/webhooks/lemonsqueezy", body, headers={"Content-Type": "application/json"})),
        ):
            with self.subTest(name):
                self.assertEqual(reply.status, 400, reply)
        self.assertUnchanged(database, before, "refused Lemon Squeezy deliveries")


class UnconfiguredTests(BillingTestCase):
    def test_a_provider_without_a_secret_answers_501_and_records_nothing(self):
        plain = Bridge("billing-unconfigured", {
            "SMTA_ADAPTER": "supabase", "SMTA_DATABASE_URL": ENVIRONMENT[DATABASE_URL], "SMTA_JWT_SECRET": JWT_SECRET,
        }).start()
        try:
            plain.wait_for_health()
            before = database.fingerprint(LEDGER_AND_STATE)
            reply = call(plain.url, "POST", "/webhooks/stripe", b"{}", headers={"Stripe-Signature": "t=1,v1=00"})
            self.assertEqual(reply.status, 501, reply)
            self.assertUnchanged(database, before, "an unconfigured webhook")
        finally:
            plain.stop()


if __name__ == "__main__":
    main()
