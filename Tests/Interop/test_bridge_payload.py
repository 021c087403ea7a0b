#!/usr/bin/env python3
"""The bridge with the Payload adapter, called over raw HTTP as a Payload app's browser or server
calls it, against a SQLite database laid out exactly as ``@payloadcms/db-sqlite`` lays it out.

Users with integer ids and session rows are written here with Python's sqlite3; tokens are minted
by PyJWT with Payload's derived key and claim order. Covers the three transports (``JWT``,
``Bearer``, the ``payload-token`` cookie under the CSRF rule), logout, deleted and trashed users, API keys,
``Authorization: Basic`` falling through to the cookie, and,
with psycopg, the mapping of Payload ids to SMTA user ids and the email reaching
``core.users_meta``, on which email-bound invitations rely.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Payload migrations); see bridge_common.py.
"""

import base64
import datetime
import hashlib
import hmac
import json
import os
import secrets
import shutil
import signal
import sqlite3
import tempfile
import time
import uuid

from bridge_common import (
    CORE_TABLES, DATABASE_URL, Bridge, BridgeTestCase, Database, auth_collection_ddl, call, main, payload_timestamp,
    payload_token, require_environment)

ALLOWED_ORIGIN = "https://app.example.com"
FOREIGN_ORIGIN = "https://evil.example.com"
# core.identity_user_id's namespace: Payload subjects that are not UUIDs map to uuid5 of it.
IDENTITY_NAMESPACE = uuid.UUID("0721d336-6439-54d6-8816-c0c1b4983e2f")
TEAM_ROLE = "team"

# `users`: `useAPIKey` and `trash: true`; `members`: `auth.verify` (`_verified`, `_verificationtoken`).
PAYLOAD_DDL = (
    auth_collection_ddl("users", "  `enable_a_p_i_key` integer,\n  `api_key` text,\n  `api_key_index` text,\n",
                        ",\n  `deleted_at` text")
    + auth_collection_ddl("members", "  `_verified` integer,\n  `_verificationtoken` text,\n"))

bridge = None
database = None
payload = None
secret = None
minted = []


def mint(*arguments, **options):
    """A Payload token (bridge_common.payload_token), remembered for the log check at the end."""
    token = payload_token(*arguments, **options)
    minted.append(token)
    return token


class PayloadDatabase:
    """The Payload app's SQLite file, written as Payload's login, logout and user admin write it."""

    def __init__(self, path):
        self.path = path
        with self.connect() as connection:
            connection.executescript(PAYLOAD_DDL)

    def connect(self):
        return sqlite3.connect(self.path, isolation_level=None, timeout=5)

    def add_user(self, email, collection="users"):
        with self.connect() as connection:
            if collection == "members":
                # Payload sets _verified once the user followed the verification link.
                return connection.execute("insert into members (email, _verified) values (?, 1)", (email,)).lastrowid
            return connection.execute("insert into users (email) values (?)", (email,)).lastrowid

    def log_in(self, user_id, lifetime=7200, collection="users"):
        """Opens a session as Payload's login does and returns its id (the token's ``sid``)."""
        sid = str(uuid.uuid4())
        now = datetime.datetime.now(datetime.timezone.utc)
        with self.connect() as connection:
            order = connection.execute(
                f"select count(*) + 1 from {collection}_sessions where _parent_id = ?", (user_id,)).fetchone()[0]
            connection.execute(
                f"insert into {collection}_sessions (_order, _parent_id, id, created_at, expires_at) values (?, ?, ?, ?, ?)",
                (order, user_id, sid, payload_timestamp(now), payload_timestamp(now + datetime.timedelta(seconds=lifetime))))
        return sid

    def log_out(self, sid):
        with self.connect() as connection:
            connection.execute("delete from users_sessions where id = ?", (sid,))

    def delete_user(self, user_id):
        # Without PRAGMA foreign_keys the session rows stay: the user's absence alone must refuse.
        with self.connect() as connection:
            connection.execute("delete from users where id = ?", (user_id,))

    def set_api_key(self, user_id, api_key, enabled=True):
        """Writes the key as Payload's hooks do: ``api_key_index`` is the hex HMAC-SHA256 of the
        key, keyed with Payload's derived secret (``sha256(secret)`` hex, first 32 characters)."""
        derived = hashlib.sha256(secret.encode()).hexdigest()[:32].encode()
        index = hmac.new(derived, api_key.encode(), hashlib.sha256).hexdigest()
        with self.connect() as connection:
            connection.execute(
                "update users set enable_a_p_i_key = ?, api_key = ?, api_key_index = ? where id = ?",
                (1 if enabled else 0, "encrypted-by-payload", index, user_id))

    def trash_user(self, user_id):
        with self.connect() as connection:
            connection.execute("update users set deleted_at = ? where id = ?",
                               (payload_timestamp(datetime.datetime.now(datetime.timezone.utc)), user_id))

    def change_email(self, user_id, email):
        with self.connect() as connection:
            connection.execute("update users set email = ?, updated_at = ? where id = ?",
                               (email, payload_timestamp(datetime.datetime.now(datetime.timezone.utc)), user_id))


class User:
    """A Payload user of the `users` collection (or ``collection``), logged in once."""

    def __init__(self, label, domain="example.com", collection="users"):
        self.email = f"{label}.{secrets.token_hex(4)}@{domain}"
        self.id = payload.add_user(self.email, collection)
        self.sid = payload.log_in(self.id, collection=collection)
        self.token = mint(secret, self.id, self.email, self.sid, collection=collection)
        self.smta_id = str(uuid.uuid5(IDENTITY_NAMESPACE, f"payload:{collection}:{self.id}"))

    def headers(self, transport="JWT"):
        if transport == "cookie":
            return {"Cookie": f"payload-token={self.token}", "Origin": ALLOWED_ORIGIN}
        return {"Authorization": f"{transport} {self.token}"}

    def post(self, name, arguments=None, headers=None):
        return call(bridge.url, "POST", f"/rpc/{name}", arguments or {}, headers or self.headers())

    def call(self, name, arguments=None):
        reply = self.post(name, arguments)
        if reply.status != 200:
            raise AssertionError(f"{name} answered {reply!r}")
        return reply.json()


def users_meta_email(user):
    """The email SMTA holds for ``user`` in core.users_meta (None without a row)."""
    return database.value("select email from core.users_meta where id = %s::uuid", (user.smta_id,))


def setUpModule():
    global bridge, database, payload, secret
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    database = Database(url)
    secret = secrets.token_urlsafe(24)
    payload = PayloadDatabase(os.path.join(tempfile.mkdtemp(prefix="smta-payload-sessions-"), "payload.db"))
    bridge = Bridge("payload", {
        "SMTA_ADAPTER": "payload",
        "SMTA_DATABASE_URL": url,
        "SMTA_PAYLOAD_SECRET": secret,
        "SMTA_PAYLOAD_DATABASE": payload.path,
        "SMTA_PAYLOAD_CSRF": ALLOWED_ORIGIN,
        "SMTA_PAYLOAD_COLLECTIONS": "users:apikey, members:verified",
    }).start()
    bridge.wait_for_health(200)


def tearDownModule():
    try:
        status = bridge.stop(signal.SIGTERM)
    finally:
        shutil.rmtree(os.path.dirname(payload.path), ignore_errors=True)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    if secret in log:
        raise AssertionError("the bridge's log contains PAYLOAD_SECRET")
    if any(part in log for token in minted for part in (token.split(".")[1:] if "." in token else [token])):
        raise AssertionError("the bridge's log contains a credential")


class PayloadBridgeTestCase(BridgeTestCase):
    def assertRefused(self, reply, code="PGRST301"):
        """401 with a Bearer challenge: PGRST301, or PGRST303 for a well-signed token whose
        claims fail (expired, no sid, an auth collection that is not configured)."""
        self.assertPostgrestError(reply, 401, code)
        self.assertTrue(reply.headers.get("www-authenticate", "").startswith("Bearer"), reply.headers)

    def new_organization(self, owner, name="Acme"):
        return owner.call("create_organization", {"p_name": name})[0]["id"]

    def team_role(self, owner, organization):
        roles = owner.call("list_roles", {"p_org_id": organization})
        return next(role["id"] for role in roles if role["name"] == TEAM_ROLE)


class TransportTests(PayloadBridgeTestCase):
    def test_jwt_bearer_and_cookie_from_an_allowed_origin_identify_the_same_user(self):
        alice = User("alice")
        claims = json.loads(base64.urlsafe_b64decode(alice.token.split(".")[1] + "=="))
        self.assertEqual(list(claims), ["id", "collection", "email", "sid", "iat", "exp"], "Payload's claim order")
        self.assertIsInstance(claims["id"], int)
        organization = self.new_organization(alice, "Transports")
        variants = {
            "Authorization: JWT": alice.headers("JWT"),
            "Authorization: Bearer": alice.headers("Bearer"),
            "cookie, allowed Origin": alice.headers("cookie"),
            "cookie, Sec-Fetch-Site same-origin": {
                "Cookie": f"payload-token={alice.token}", "Sec-Fetch-Site": "same-origin"},
            "JWT header from a foreign Origin": {**alice.headers("JWT"), "Origin": FOREIGN_ORIGIN},
        }
        for variant, headers in variants.items():
            with self.subTest(variant):
                profile = alice.post("get_user_profile", headers=headers)
                self.assertEqual(profile.status, 200, profile)
                self.assertEqual([(row["id"], row["email"]) for row in profile.json()], [(alice.smta_id, alice.email)])
                mine = alice.post("list_my_organizations", headers=headers)
                self.assertEqual([row["id"] for row in mine.json()], [organization])

    def test_the_cookie_is_refused_from_a_foreign_origin_or_a_cross_site_request_and_changes_nothing(self):
        alice = User("alice")
        alice.call("get_user_profile")
        before = database.fingerprint()
        variants = {
            "foreign Origin": {"Cookie": f"payload-token={alice.token}", "Origin": FOREIGN_ORIGIN},
            "no Origin, Sec-Fetch-Site cross-site": {
                "Cookie": f"payload-token={alice.token}", "Sec-Fetch-Site": "cross-site"},
            "no Origin, no Sec-Fetch-Site": {"Cookie": f"payload-token={alice.token}"},
        }
        for variant, headers in variants.items():
            with self.subTest(variant):
                reply = alice.post("create_organization", {"p_name": "From elsewhere"}, headers)
                self.assertRefused(reply)
                self.assertNotEchoed(reply, alice.token)
        self.assertUnchanged(database, before, "a cookie call from a foreign origin")


class SessionTests(PayloadBridgeTestCase):
    def test_after_logout_the_next_call_is_401_and_changes_nothing(self):
        alice = User("alice")
        self.new_organization(alice, "Before logout")
        payload.log_out(alice.sid)
        before = database.fingerprint()
        for transport in ("JWT", "Bearer", "cookie"):
            with self.subTest(transport):
                reply = alice.post("create_organization", {"p_name": "After logout"}, alice.headers(transport))
                self.assertRefused(reply)
        self.assertUnchanged(database, before, "a call after logout")
        again = mint(secret, alice.id, alice.email, payload.log_in(alice.id))
        self.assertEqual(alice.post("list_my_organizations", headers={"Authorization": f"JWT {again}"}).status, 200)

    def test_a_deleted_user_is_401_even_with_a_live_session_row(self):
        alice = User("alice")
        alice.call("get_user_profile")
        payload.delete_user(alice.id)
        before = database.fingerprint(("core.organizations", "core.users_meta", "core.identity_links"))
        self.assertRefused(alice.post("create_organization", {"p_name": "Ghost"}))
        self.assertUnchanged(database, before, "a call by a deleted user")

    def test_a_trashed_user_is_401_with_a_live_session_and_changes_nothing(self):
        alice = User("alice")
        alice.call("get_user_profile")
        payload.trash_user(alice.id)
        before = database.fingerprint()
        for transport in ("JWT", "cookie"):
            with self.subTest(transport):
                self.assertRefused(alice.post("create_organization", {"p_name": "From the trash"}, alice.headers(transport)))
        self.assertUnchanged(database, before, "a call by a trashed user")

    def test_basic_authorization_falls_through_to_the_cookie_as_in_payload(self):
        alice = User("alice")
        headers = {**alice.headers("cookie"), "Authorization": "Basic dXNlcjpwYXNzd29yZA=="}
        profile = alice.post("get_user_profile", headers=headers)
        self.assertEqual(profile.status, 200, profile)
        self.assertEqual([row["id"] for row in profile.json()], [alice.smta_id])
        before = database.fingerprint()
        alone = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": "Basic"},
                     {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="})
        self.assertRefused(alone)
        self.assertUnchanged(database, before, "a Basic header without a cookie")


class APIKeyTests(PayloadBridgeTestCase):
    def test_an_enabled_api_key_acts_as_its_user_and_a_disabled_or_wrong_one_reaches_nothing(self):
        robot = User("robot")
        api_key = str(uuid.uuid4())
        minted.append(api_key)
        payload.set_api_key(robot.id, api_key)
        key_headers = {"Authorization": f"users API-Key {api_key}"}
        profile = robot.post("get_user_profile", headers=key_headers)
        self.assertEqual(profile.status, 200, profile)
        self.assertEqual([(row["id"], row["email"]) for row in profile.json()], [(robot.smta_id, robot.email)])
        organization = robot.post("create_organization", {"p_name": "Keyed"}, key_headers)
        self.assertEqual(organization.status, 200, organization)
        self.assertEqual(database.rows(
            "select user_id::text from core.memberships where organization_id = %s::uuid",
            (organization.json()[0]["id"],)), [(robot.smta_id,)])

        before = database.fingerprint()
        cases = {
            "wrong key": {"Authorization": f"users API-Key {uuid.uuid4()}"},
            "another collection's scheme": {"Authorization": f"admins API-Key {api_key}"},
        }
        for case, headers in cases.items():
            with self.subTest(case):
                reply = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": case}, headers)
                self.assertRefused(reply)
                self.assertNotEchoed(reply, api_key)
        payload.set_api_key(robot.id, api_key, enabled=False)
        self.assertRefused(robot.post("create_organization", {"p_name": "Disabled"}, key_headers))
        self.assertUnchanged(database, before, "refused API keys")

    def test_tokens_payload_would_refuse_are_401_and_reach_nothing(self):
        alice, bob = User("alice"), User("bob")
        before = database.fingerprint(("core.organizations", "core.users_meta", "core.identity_links"))
        now = int(time.time())
        cases = {
            "signed with the raw secret": mint(secret, alice.id, alice.email, alice.sid, key=secret.encode()),
            "another app's secret": mint("another-app-secret", alice.id, alice.email, alice.sid),
            "expired": (mint(secret, alice.id, alice.email, alice.sid, issued_at=now - 7300, lifetime=7200), "PGRST303"),
            "no sid": (mint(secret, alice.id, alice.email, None), "PGRST303"),
            "unknown sid": mint(secret, alice.id, alice.email, str(uuid.uuid4())),
            "another user's session": mint(secret, bob.id, bob.email, alice.sid),
            "a user who does not exist": mint(secret, bob.id + 1000, bob.email, bob.sid),
            "unconfigured collection": (mint(secret, alice.id, alice.email, alice.sid, collection="admins"), "PGRST303"),
        }
        for case, token in cases.items():
            token, code = token if isinstance(token, tuple) else (token, "PGRST301")
            with self.subTest(case):
                reply = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": case},
                             {"Authorization": f"JWT {token}"})
                self.assertRefused(reply, code)
                self.assertNotEchoed(reply, token)
        self.assertUnchanged(database, before, "refused tokens")


class IdentityMappingTests(PayloadBridgeTestCase):
    def test_a_payload_user_maps_to_a_stable_smta_id_with_its_email_in_users_meta(self):
        alice = User("alice")
        links = "select user_id::text, provider, email from core.identity_links where subject = %s"
        self.assertEqual(database.rows(links, (f"users:{alice.id}",)), [])
        organization = self.new_organization(alice, "Mapped")
        self.assertEqual(database.rows(links, (f"users:{alice.id}",)), [(alice.smta_id, "payload", alice.email)])
        self.assertEqual(users_meta_email(alice), alice.email)
        self.assertEqual(database.rows(
            "select user_id::text, is_super_admin from core.memberships where organization_id = %s::uuid",
            (organization,)), [(alice.smta_id, True)])
        # A second session of the same user is the same SMTA user.
        second = mint(secret, alice.id, alice.email, payload.log_in(alice.id))
        mine = alice.post("list_my_organizations", headers={"Authorization": f"Bearer {second}"})
        self.assertEqual([row["id"] for row in mine.json()], [organization])
        self.assertEqual(len(database.rows(links, (f"users:{alice.id}",))), 1)

    def test_an_email_changed_in_payload_reaches_users_meta_on_the_next_call(self):
        alice = User("alice")
        alice.call("get_user_profile")
        renamed = f"renamed.{secrets.token_hex(4)}@example.com"
        payload.change_email(alice.id, renamed)
        # The token still carries the old email: the users table is the truth.
        profile = alice.call("get_user_profile")
        self.assertEqual([(row["id"], row["email"]) for row in profile], [(alice.smta_id, renamed)])
        self.assertEqual(users_meta_email(alice), renamed)
        self.assertEqual(
            database.value("select email from core.identity_links where user_id = %s::uuid", (alice.smta_id,)), renamed)

    def test_an_email_bound_invitation_is_accepted_through_the_bridge_by_that_email_only(self):
        alice, bob, carol = User("alice"), User("bob"), User("carol")
        organization = self.new_organization(alice, "Invited")
        team = self.team_role(alice, organization)
        invitation = alice.call("create_invitation", {
            "p_email": bob.email.upper(), "p_organization_id": organization, "p_role_id": team})[0]

        before = database.fingerprint(("core.memberships", "core.invitations", "core.audit_logs"))
        wrong = carol.post("accept_invitation", {"p_token": invitation["token"]})
        body = self.assertPostgrestError(wrong, 403, "42501")
        self.assertIn("different email", body["message"])
        self.assertUnchanged(database, before, "an acceptance by another email")

        # Bob's first call ever: his email reaches users_meta in the same statement.
        accepted = bob.call("accept_invitation", {"p_token": invitation["token"]})
        self.assertEqual([(row["organization_id"], row["role_id"]) for row in accepted], [(organization, team)])
        mine = bob.call("list_my_organizations")
        self.assertEqual([(row["id"], row["role"]) for row in mine], [(organization, TEAM_ROLE)])
        self.assertEqual(database.rows(
            "select status, accepted_by::text from core.invitations where id = %s::uuid", (invitation["id"],)),
            [("accepted", bob.smta_id)])
        self.assertEqual(users_meta_email(bob), bob.email)
        members = {row["user_id"] for row in alice.call("list_organization_members", {"p_id": organization})}
        self.assertEqual(members, {alice.smta_id, bob.smta_id})



class InvitationLinkTests(PayloadBridgeTestCase):
    def test_a_link_admits_as_many_callers_as_it_has_uses_and_none_once_revoked(self):
        alice, bob, carol, dave = User("alice"), User("bob"), User("carol"), User("dave")
        organization = self.new_organization(alice, "Linked")
        team = self.team_role(alice, organization)
        link = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team, "p_max_uses": 1})[0]
        self.assertEqual(len(link["token"]), 64)

        accepted = bob.call("accept_invitation_link", {"p_token": link["token"]})
        self.assertEqual([(row["organization_id"], row["role_id"]) for row in accepted], [(organization, team)])

        before = database.fingerprint()
        body = self.assertPostgrestError(carol.post("accept_invitation_link", {"p_token": link["token"]}), 400, "P0001")
        self.assertIn("used up", body["message"])
        self.assertUnchanged(database, before, "an accept of a used-up link")

        listed = call(bridge.url, "GET", f"/rpc/list_invitation_links?p_org_id={organization}", None, alice.headers())
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([(row["id"], row["status"], row["use_count"]) for row in listed.json()], [(link["id"], "used_up", 1)])
        self.assertNotIn(link["token"], listed.text)
        self.assertTrue(all("token" not in column for row in listed.json() for column in row))

        second = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team})[0]
        before = database.fingerprint()
        body = self.assertPostgrestError(bob.post("revoke_invitation_link", {"p_link_id": second["id"]}), 403, "42501")
        self.assertUnchanged(database, before, "a revocation by a member who neither created the link nor manages")
        self.assertEqual(alice.post("revoke_invitation_link", {"p_link_id": second["id"]}).status, 204)
        before = database.fingerprint()
        body = self.assertPostgrestError(dave.post("accept_invitation_link", {"p_token": second["token"]}), 400, "P0001")
        self.assertIn("revoked", body["message"])
        self.assertUnchanged(database, before, "an accept of a revoked link")
        members = {row["user_id"] for row in alice.call("list_organization_members", {"p_id": organization})}
        self.assertEqual(members, {alice.smta_id, bob.smta_id})

    def test_a_domain_link_admits_only_an_email_payload_verified_at_that_domain(self):
        domain = f"corp{secrets.token_hex(3)}.example"
        alice = User("alice")
        unverified = User("ursula", domain=domain)                        # `users` does not verify email
        elsewhere = User("vera", domain="elsewhere.example", collection="members")
        verified = User("victor", domain=domain, collection="members")    # `members` does
        organization = self.new_organization(alice, "Domain linked")
        team = self.team_role(alice, organization)
        link = alice.call("create_invitation_link", {
            "p_org_id": organization, "p_role_id": team, "p_email_domain": domain.upper()})[0]

        before = database.fingerprint()
        for refused in (unverified, elsewhere):
            with self.subTest(refused.email):
                body = self.assertPostgrestError(
                    refused.post("accept_invitation_link", {"p_token": link["token"]}), 403, "42501")
                self.assertIn(domain, body["message"])
        self.assertUnchanged(database, before, "accepts by an unverified email or another domain")

        accepted = verified.call("accept_invitation_link", {"p_token": link["token"]})
        self.assertEqual([row["organization_id"] for row in accepted], [organization])
        self.assertEqual(database.value(
            "select count(*) from core.memberships where organization_id = %s::uuid and not is_deleted", (organization,)), 2)


class DomainTests(PayloadBridgeTestCase):
    def test_a_verified_domain_admits_a_payload_verified_email_and_nobody_else(self):
        domain = f"acme{secrets.token_hex(3)}.example"
        alice = User("alice")
        organization = self.new_organization(alice, "Domain owners")
        claim = alice.call("add_organization_domain", {"p_org_id": organization, "p_domain": domain})[0]
        self.assertEqual(claim["record_name"], f"_smta-verification.{domain}")
        verified, unverified = User("val", domain=domain, collection="members"), User("uma", domain=domain)

        # Claimed but not verified: nobody joins.
        self.assertEqual(verified.call("list_joinable_organizations"), [])
        before = database.fingerprint(CORE_TABLES + ("core.organization_domains",))
        self.assertPostgrestError(verified.post("join_organization_by_domain", {"p_org_id": organization}), 403, "42501")
        self.assertUnchanged(database, before, "a join by an unverified domain")

        database.execute("select platform.verify_organization_domain(%s)", (claim["id"],))
        listed = call(bridge.url, "GET", "/rpc/list_joinable_organizations", None, verified.headers())
        self.assertEqual(listed.status, 200, listed)
        self.assertEqual([(row["organization_id"], row["domain"], row["role_name"]) for row in listed.json()],
                         [(organization, domain, TEAM_ROLE)])
        self.assertEqual(unverified.call("list_joinable_organizations"), [])
        before = database.fingerprint(CORE_TABLES + ("core.organization_domains",))
        self.assertPostgrestError(unverified.post("join_organization_by_domain", {"p_org_id": organization}), 403, "42501")
        self.assertUnchanged(database, before, "a join by an email Payload did not verify")

        joined = verified.call("join_organization_by_domain", {"p_org_id": organization})
        self.assertEqual([row["organization_id"] for row in joined], [organization])
        members = {row["user_id"] for row in alice.call("list_organization_members", {"p_id": organization})}
        self.assertEqual(members, {alice.smta_id, verified.smta_id})


class SCIMBindingTests(PayloadBridgeTestCase):
    """SCIM provisioning with Payload sign-ins: Payload's sessions live in its own store, so the
    bridge binds a provisioned address on the first request of each session it sees."""

    def scim(self, token, method, path, body=None):
        return call(bridge.url, method, "/scim/v2" + path, body, {"Authorization": f"Bearer {token}"})

    def test_a_provisioned_address_binds_on_the_first_request_of_a_verified_session(self):
        domain = f"scim{secrets.token_hex(3)}.example"
        alice = User("alice")
        organization = self.new_organization(alice, "Provisioning")
        claim = alice.call("add_organization_domain", {"p_org_id": organization, "p_domain": domain})[0]
        database.execute("select platform.verify_organization_domain(%s)", (claim["id"],))
        token = alice.call("create_scim_token", {"p_org_id": organization, "p_label": "Okta"})[0]["token"]

        verified = User("val", domain=domain, collection="members")     # `members` verifies email
        unverified = User("uma", domain=domain)                           # `users` does not
        outsider = User("otto", domain="elsewhere.example", collection="members")
        for user in (verified, unverified, outsider):
            reply = self.scim(token, "POST", "/Users", {"userName": user.email})
            self.assertEqual(reply.status, 201, reply)

        listed = verified.call("list_my_organizations")
        self.assertEqual([row["id"] for row in listed], [organization], "bound by the session's first request")
        # (A first call records the caller's identity in users_meta: the memberships are what must not change.)
        before = database.fingerprint(("core.memberships", "core.unit_memberships"))
        self.assertEqual(unverified.call("list_my_organizations"), [])
        self.assertEqual(outsider.call("list_my_organizations"), [])
        self.assertUnchanged(database, before, "first requests by an unverified email and by an address outside the domain")

        # The outsider consents.
        self.assertEqual([row["organization_id"] for row in outsider.call("list_provisioned_memberships")], [organization])
        self.assertEqual([row["organization_id"] for row in outsider.call("claim_provisioned_memberships")], [organization])
        self.assertEqual([row["id"] for row in outsider.call("list_my_organizations")], [organization])


class MembershipFeatureTests(PayloadBridgeTestCase):
    """Issue 16's membership features through the bridge with Payload sessions: the active
    organization, an expiring membership, the access history and a unit role."""

    def test_active_organization_expiry_history_and_unit_roles_through_the_bridge(self):
        alice, bob = User("alice"), User("bob")
        first = self.new_organization(alice, "First")
        second = self.new_organization(bob, "Second")
        team = self.team_role(alice, first)
        manager = next(role["id"] for role in alice.call("list_roles", {"p_org_id": first}) if role["name"] == "manager")
        link = alice.call("create_invitation_link", {"p_org_id": first, "p_role_id": team})[0]
        bob.call("accept_invitation_link", {"p_token": link["token"]})

        # The active organization narrows bob's calls; a foreign one is refused and changes nothing.
        narrowed = lambda organization: [row["id"] for row in bob.post(
            "list_my_organizations", {}, {**bob.headers(), "X-SMTA-Organization": organization}).json()]
        self.assertEqual(sorted(row["id"] for row in bob.call("list_my_organizations")), sorted([first, second]))
        self.assertEqual(narrowed(first), [first])
        self.assertEqual(narrowed(second), [second])
        outsider = self.new_organization(User("carol"), "Third")
        before = database.fingerprint()
        self.assertPostgrestError(
            bob.post("create_organization", {"p_name": "x"}, {**bob.headers(), "X-SMTA-Organization": outsider}), 403, "42501")
        self.assertUnchanged(database, before, "a call naming a foreign organization")

        # A unit role above the organization role counts in that unit.
        unit = alice.call("create_unit", {"p_org_id": first, "p_name": "Ops"})[0]["id"]
        self.assertEqual(alice.post("assign_user_to_unit", {"p_user_id": bob.smta_id, "p_unit_id": unit, "p_role_id": manager}).status, 204)
        self.assertEqual([row["role_name"] for row in bob.call("get_user_permissions", {"p_org_id": first, "p_unit_id": unit})],
                         ["manager"])

        # An expiring membership: absent once past, back when renewed; the history tells it.
        membership = next(row["membership_id"] for row in alice.call("list_organization_members", {"p_id": first})
                          if row["user_id"] == bob.smta_id)
        self.assertEqual(alice.post("set_membership_expiry", {"p_membership_id": membership, "p_expires_at": "2999-01-01T00:00:00Z"}).status, 204)
        database.execute("update core.memberships set expires_at = now() - interval '1 second' where id = %s::uuid", (membership,))
        self.assertEqual([row["id"] for row in bob.call("list_my_organizations")], [second])
        self.assertPostgrestError(
            bob.post("list_my_organizations", {}, {**bob.headers(), "X-SMTA-Organization": first}), 403, "42501")
        self.assertEqual(alice.post("set_membership_expiry", {"p_membership_id": membership, "p_expires_at": None}).status, 204)
        self.assertEqual(narrowed(first), [first])
        events = [row["event"] for row in alice.call("get_access_history", {"p_org_id": first, "p_user_id": bob.smta_id})]
        self.assertEqual(events, ["joined", "joined", "expiry_set", "expiry_set", "expiry_cleared"])
        self.assertPostgrestError(
            bob.post("get_access_history", {"p_org_id": first, "p_user_id": alice.smta_id}), 403, "42501")


if __name__ == "__main__":
    main()
