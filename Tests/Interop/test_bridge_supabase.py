#!/usr/bin/env python3
"""The bridge with the Supabase adapter, called by Supabase's own PostgREST client (postgrest-py)
with tokens minted by PyJWT, exactly as a Supabase app calls PostgREST.

Organizations, membership and email invitations through ``rpc(...).execute()``; PostgREST's
result shapes (``.single()``, GET with query arguments, HEAD, ``.select()``); every refusal read
as postgrest-py's ``APIError`` with PostgREST's code and HTTP status, and psycopg showing that it
changed nothing. Requests the client cannot make (malformed or oversized bodies) go over raw HTTP.
When the module ends, the bridge must exit 0 on SIGTERM and its log must hold no token or secret.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import json
import secrets
import signal
import uuid

from postgrest import SyncPostgrestClient
from postgrest.exceptions import APIError

from bridge_common import (
    DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

MAX_BODY_SIZE = 4096
OBJECT_MEDIA_TYPE = "application/vnd.pgrst.object+json"

bridge = None
database = None
tokens = None
open_callers = []


def setUpModule():
    global bridge, database, tokens
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    database = Database(url)
    bridge = Bridge("supabase", {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": url,
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_MAX_BODY_SIZE": str(MAX_BODY_SIZE),
    }).start()
    bridge.wait_for_health(200)


def tearDownModule():
    status = bridge.stop(signal.SIGTERM)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    if tokens.secret in log:
        raise AssertionError("the bridge's log contains the JWT secret")
    for token in tokens.minted:
        _, payload, signature = token.split(".")
        if payload in log or (signature and signature in log):
            raise AssertionError("the bridge's log contains a credential")


class Caller:
    """A postgrest-py client as a Supabase app builds it (``apikey`` header, then ``.auth(token)``),
    which also remembers the last HTTP response, since ``APIError`` carries no status."""

    def __init__(self, token=None):
        self.client = SyncPostgrestClient(bridge.url + "/rest/v1", headers={"apikey": tokens.api_key("anon")})
        if token is not None:
            self.client.auth(token)
        self.last = None
        self.client.session.event_hooks = {"request": [], "response": [self._record]}
        open_callers.append(self)

    def _record(self, response):
        self.last = response

    def rpc(self, name, params=None, get=False):
        return self.client.rpc(name, params or {}, get=get)


class User:
    """A Supabase user: a fresh id, an email, an access token and a client using it."""

    def __init__(self, label):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)
        self.caller = Caller(self.token)

    def call(self, name, params=None, get=False):
        return self.caller.rpc(name, params, get=get).execute().data


class SupabaseBridgeTestCase(BridgeTestCase):
    def tearDown(self):
        while open_callers:
            open_callers.pop().client.aclose()

    def refused(self, caller, request, status, code):
        """Executes ``request`` (a postgrest-py builder) and returns the APIError it must raise,
        after checking PostgREST's status and code."""
        with self.assertRaises(APIError, msg=f"expected {status} {code}") as raised:
            request.execute()
        error = raised.exception
        self.assertEqual(caller.last.status_code, status, f"{error.json()}")
        self.assertEqual(error.code, code, f"{error.json()}")
        return error

    def new_organization(self, owner, name="Acme"):
        rows = owner.call("create_organization", {"p_name": name})
        self.assertEqual(len(rows), 1, rows)
        return rows[0]["id"]

    def team_role(self, owner, organization):
        roles = owner.call("list_roles", {"p_org_id": organization})
        return next(role["id"] for role in roles if role["name"] == "team")


class OrganizationsTests(SupabaseBridgeTestCase):
    def test_created_organizations_are_listed_for_their_member_and_not_for_another_user(self):
        alice, bob = User("alice"), User("bob")
        created = alice.call("create_organization", {"p_name": "Acme", "p_description": "anvils"})
        self.assertEqual(len(created), 1)
        self.assertEqual(set(created[0]), {"id", "name", "created_at"})
        self.assertEqual(created[0]["name"], "Acme")
        second = self.new_organization(alice, "Beta")

        mine = alice.call("list_my_organizations")
        self.assertEqual([(row["id"], row["name"], row["role"]) for row in mine],
                         [(created[0]["id"], "Acme", "super_admin"), (second, "Beta", "super_admin")])
        self.assertEqual(mine[0]["description"], "anvils")
        self.assertEqual(bob.call("list_my_organizations"), [])
        self.assertEqual(bob.call("get_organization", {"p_id": second}), [])

        rows = database.rows(
            "select o.name, o.created_by::text, m.user_id::text, m.is_super_admin from core.organizations o "
            "join core.memberships m on m.organization_id = o.id where o.id = any(%s::uuid[]) order by o.name",
            ([created[0]["id"], second],))
        self.assertEqual(rows, [("Acme", alice.id, alice.id, True), ("Beta", alice.id, alice.id, True)])
        self.assertGreater(database.value(
            "select count(*) from core.audit_logs where organization_id = %s::uuid", (second,)), 0)

    def test_an_email_invitation_is_accepted_by_the_invitee_and_the_membership_is_visible(self):
        alice, bob, carol = User("alice"), User("bob"), User("carol")
        organization = self.new_organization(alice)
        team = self.team_role(alice, organization)
        invitation = alice.call("create_invitation", {
            "p_email": bob.email.upper(), "p_organization_id": organization, "p_role_id": team})[0]
        self.assertEqual(invitation["email"], bob.email)

        # The landing page: anonymous, GET, the raw token as the only credential.
        details = Caller().rpc("get_invitation_details", {"p_token": invitation["token"]}, get=True).execute().data
        self.assertEqual([(row["email"], row["status"], row["role_name"]) for row in details],
                         [(bob.email, "pending", "team")])

        before = database.fingerprint()
        accept = {"p_token": invitation["token"]}
        error = self.refused(carol.caller, carol.caller.rpc("accept_invitation", accept), 403, "42501")
        self.assertIn("different email", error.message)
        self.assertUnchanged(database, before, "an acceptance by another email")

        accepted = bob.call("accept_invitation", accept)
        self.assertEqual([(row["organization_id"], row["role_id"], row["organization_name"]) for row in accepted],
                         [(organization, team, "Acme")])
        mine = bob.call("list_my_organizations")
        self.assertEqual([(row["id"], row["role"]) for row in mine], [(organization, "team")])
        members = {row["user_id"] for row in alice.call("list_organization_members", {"p_id": organization})}
        self.assertEqual(members, {alice.id, bob.id})
        self.assertEqual(database.rows(
            "select status, accepted_by::text from core.invitations where id = %s::uuid", (invitation["id"],)),
            [("accepted", bob.id)])
        self.assertEqual(database.value(
            "select count(*) from core.memberships"
            " where organization_id = %s::uuid and user_id = %s::uuid and not is_deleted",
            (organization, bob.id)), 1)

        before = database.fingerprint()
        error = self.refused(bob.caller, bob.caller.rpc("accept_invitation", accept), 400, "P0001")
        self.assertIn("already been accepted", error.message)
        self.assertUnchanged(database, before, "a second acceptance")

    def test_a_body_just_under_the_size_limit_is_served(self):
        alice = User("alice")
        description = "x" * (MAX_BODY_SIZE - 100)
        rows = alice.call("create_organization", {"p_name": "Near the limit", "p_description": description})
        stored = database.value("select description from core.organizations where id = %s::uuid", (rows[0]["id"],))
        self.assertEqual(stored, description)


class InvitationLinkTests(SupabaseBridgeTestCase):
    """Invitation links through postgrest-py. A domain link needs an email GoTrue confirmed:
    auth.users, which this database lacks, is created here with GoTrue's columns that matter
    (id, email, email_confirmed_at) and dropped afterwards."""

    def setUp(self):
        database.execute("create table if not exists auth.users (id uuid primary key, email text, email_confirmed_at timestamptz)")

    def tearDown(self):
        database.execute("drop table if exists auth.users")
        super().tearDown()

    def test_a_link_is_created_accepted_listed_and_revoked_through_the_client(self):
        alice, bob, carol = User("alice"), User("bob"), User("carol")
        organization = self.new_organization(alice, "Linked")
        team = self.team_role(alice, organization)
        link = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team, "p_max_uses": 5})[0]
        accepted = bob.call("accept_invitation_link", {"p_token": link["token"]})
        self.assertEqual([(row["organization_id"], row["role_id"]) for row in accepted], [(organization, team)])
        listed = alice.call("list_invitation_links", {"p_org_id": organization}, get=True)
        self.assertEqual([(row["id"], row["status"], row["use_count"], row["max_uses"]) for row in listed],
                         [(link["id"], "active", 1, 5)])
        self.assertNotIn(link["token"], json.dumps(listed))

        before = database.fingerprint()
        error = self.refused(bob.caller, bob.caller.rpc("revoke_invitation_link", {"p_link_id": link["id"]}), 403, "42501")
        self.assertUnchanged(database, before, "a revocation by a plain member of another's link")
        alice.call("revoke_invitation_link", {"p_link_id": link["id"]})
        before = database.fingerprint()
        error = self.refused(carol.caller, carol.caller.rpc("accept_invitation_link", {"p_token": link["token"]}), 400, "P0001")
        self.assertIn("revoked", error.message)
        self.assertUnchanged(database, before, "an accept of a revoked link")

    def test_a_domain_link_needs_an_email_gotrue_confirmed_not_one_the_token_claims(self):
        domain = f"corp{secrets.token_hex(3)}.example"
        alice = User("alice")
        victor_id = str(uuid.uuid4())
        victor_email = f"victor@{domain}"
        # user_metadata is the user's own to write (auth.updateUser({ data })): not proof.
        claiming = tokens.user(victor_id, victor_email, email_verified=True,
                               user_metadata={"email": victor_email, "email_verified": True})
        victor = Caller(claiming)
        organization = self.new_organization(alice, "Domain linked")
        team = self.team_role(alice, organization)
        link = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team, "p_email_domain": domain})[0]
        accept = {"p_token": link["token"]}

        before = database.fingerprint()
        error = self.refused(victor, victor.rpc("accept_invitation_link", accept), 403, "42501")
        self.assertIn(domain, error.message)
        database.execute("insert into auth.users (id, email, email_confirmed_at) values (%s::uuid, %s, null)",
                         (victor_id, victor_email))
        self.refused(victor, victor.rpc("accept_invitation_link", accept), 403, "42501")
        self.assertUnchanged(database, before, "accepts without a confirmed email")

        database.execute("update auth.users set email_confirmed_at = now() where id = %s::uuid", (victor_id,))
        accepted = victor.rpc("accept_invitation_link", accept).execute().data
        self.assertEqual([row["organization_id"] for row in accepted], [organization])


class DomainTests(SupabaseBridgeTestCase):
    """Joining by a verified domain with Supabase identities: only an email GoTrue confirmed
    counts (auth.users, created here with GoTrue's columns that matter and dropped after)."""

    def setUp(self):
        database.execute("create table if not exists auth.users (id uuid primary key, email text, email_confirmed_at timestamptz)")

    def tearDown(self):
        database.execute("drop table if exists auth.users")
        super().tearDown()

    def test_a_verified_domain_admits_an_email_gotrue_confirmed_and_nobody_else(self):
        domain = f"corp{secrets.token_hex(3)}.example"
        alice = User("alice")
        organization = self.new_organization(alice, "By domain")
        claim = alice.call("add_organization_domain", {"p_org_id": organization, "p_domain": domain})[0]
        database.execute("select platform.verify_organization_domain(%s)", (claim["id"],))
        vera_id, vera_email = str(uuid.uuid4()), f"vera@{domain}"
        vera = Caller(tokens.user(vera_id, vera_email, user_metadata={"email_verified": True}))

        self.assertEqual(vera.rpc("list_joinable_organizations", get=True).execute().data, [])
        before = database.fingerprint()
        self.refused(vera, vera.rpc("join_organization_by_domain", {"p_org_id": organization}), 403, "42501")
        self.assertUnchanged(database, before, "a join with an unconfirmed email")

        database.execute("insert into auth.users (id, email, email_confirmed_at) values (%s::uuid, %s, now())", (vera_id, vera_email))
        listed = vera.rpc("list_joinable_organizations", get=True).execute().data
        self.assertEqual([(row["organization_id"], row["domain"]) for row in listed], [(organization, domain)])
        joined = vera.rpc("join_organization_by_domain", {"p_org_id": organization}).execute().data
        self.assertEqual([row["organization_id"] for row in joined], [organization])


class MembershipExpiryTests(SupabaseBridgeTestCase):
    def test_an_expired_membership_is_absent_at_once_and_renewing_it_restores_access(self):
        alice, bob = User("alice"), User("bob")
        organization = self.new_organization(alice, "Timed")
        team = self.team_role(alice, organization)
        link = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team})[0]
        bob.call("accept_invitation_link", {"p_token": link["token"]})
        membership = next(row["membership_id"] for row in alice.call("list_organization_members", {"p_id": organization})
                          if row["user_id"] == bob.id)

        before = database.fingerprint()
        self.refused(bob.caller, bob.caller.rpc("set_membership_expiry", {"p_membership_id": membership, "p_expires_at": None}),
                     403, "42501")
        self.assertUnchanged(database, before, "a member setting their own expiry")

        alice.call("set_membership_expiry", {"p_membership_id": membership, "p_expires_at": "2999-01-01T00:00:00Z"})
        listed = {row["user_id"]: row["expires_at"] for row in alice.call("list_organization_members", {"p_id": organization})}
        self.assertTrue(listed[bob.id].startswith("2999-01-01"), listed)
        self.assertEqual([row["id"] for row in bob.call("list_my_organizations")], [organization])

        # Time passes: the expiry is now behind us (written as the clock would have it).
        database.execute("update core.memberships set expires_at = now() - interval '1 second' where id = %s::uuid", (membership,))
        self.assertEqual(bob.call("list_my_organizations"), [])
        self.assertEqual(bob.call("list_organization_members", {"p_id": organization}), [])
        before = database.fingerprint()
        self.refused(bob.caller, bob.caller.rpc("create_invitation_link", {"p_org_id": organization, "p_role_id": team}),
                     403, "42501")
        self.assertUnchanged(database, before, "an expired member creating a link")

        alice.call("set_membership_expiry", {"p_membership_id": membership, "p_expires_at": None})
        self.assertEqual([row["id"] for row in bob.call("list_my_organizations")], [organization])

        # The story, read back by the owner from the audit log (GET: the function is stable).
        history = alice.call("get_access_history", {"p_org_id": organization, "p_user_id": bob.id}, get=True)
        self.assertEqual([(row["event"], row["actor_id"]) for row in history],
                         [("joined", bob.id), ("expiry_set", alice.id), ("expiry_set", None), ("expiry_cleared", alice.id)])
        self.refused(bob.caller, bob.caller.rpc("get_access_history", {"p_org_id": organization, "p_user_id": alice.id}, get=True),
                     403, "42501")


class ActiveOrganizationTests(SupabaseBridgeTestCase):
    """X-SMTA-Organization over raw HTTP (as any client sends a header), and the token claim on a
    second bridge configured with organization_claim."""

    def rpc(self, url, name, token, arguments=None, headers=None):
        return call(url, "POST", f"/rest/v1/rpc/{name}", arguments or {},
                    {"Authorization": f"Bearer {token}", **(headers or {})})

    def two_organizations(self):
        alice, bob = User("alice"), User("bob")
        first = self.new_organization(alice, "First")
        second = self.new_organization(bob, "Second")
        team = self.team_role(bob, second)
        link = bob.call("create_invitation_link", {"p_org_id": second, "p_role_id": team})[0]
        alice.call("accept_invitation_link", {"p_token": link["token"]})
        return alice, bob, first, second

    def test_the_header_narrows_a_call_to_one_organization_and_a_foreign_one_is_403(self):
        alice, bob, first, second = self.two_organizations()
        third = self.new_organization(bob, "Third")
        mine = lambda headers: [row["id"] for row in self.rpc(bridge.url, "list_my_organizations", alice.token, headers=headers).json()]
        self.assertEqual(sorted(mine({})), sorted([first, second]))
        self.assertEqual(mine({"X-SMTA-Organization": first}), [first])
        self.assertEqual(mine({"X-SMTA-Organization": second.upper()}), [second])

        # A write aimed at the other organization fails under the header, as if it were not hers.
        before = database.fingerprint()
        reply = self.rpc(bridge.url, "update_organization", alice.token, {"p_id": first, "p_name": "Renamed"},
                         {"X-SMTA-Organization": second})
        self.assertNotEqual(reply.status, 200, reply)
        self.assertUnchanged(database, before, "a write to another organization than the active one")

        for value, status, code in ((third, 403, "42501"), (str(uuid.uuid4()), 403, "42501"), ("not-a-uuid", 400, "22P02")):
            with self.subTest(value):
                before = database.fingerprint()
                reply = self.rpc(bridge.url, "create_organization", alice.token, {"p_name": "Under a bad header"},
                                 {"X-SMTA-Organization": value})
                self.assertPostgrestError(reply, status, code)
                self.assertUnchanged(database, before, f"a call with X-SMTA-Organization {value}")

        # The key of an idempotent call covers the active organization: the same key for another
        # organization is another request, refused as such (never replayed).
        key = {"Idempotency-Key": secrets.token_hex(8)}
        first_reply = self.rpc(bridge.url, "create_invitation_link", alice.token,
                               {"p_org_id": first, "p_role_id": self.team_role(alice, first)}, {**key, "X-SMTA-Organization": first})
        self.assertEqual(first_reply.status, 200, first_reply)
        again = self.rpc(bridge.url, "create_invitation_link", alice.token,
                         {"p_org_id": first, "p_role_id": self.team_role(alice, first)}, {**key, "X-SMTA-Organization": second})
        self.assertNotEqual(again.status, 200, again)
        self.assertNotEqual(again.headers.get("idempotent-replayed"), "true")

    def test_a_configured_claim_names_the_organization_and_the_header_must_agree(self):
        alice, bob, first, second = self.two_organizations()
        claimed = Bridge("supabase-claim", {
            "SMTA_ADAPTER": "supabase", "SMTA_DATABASE_URL": database.url, "SMTA_JWT_SECRET": tokens.secret,
            "SMTA_ORGANIZATION_CLAIM": "app_metadata.organization_id",
        }).start()
        try:
            claimed.wait_for_health(200)
            pinned = tokens.user(alice.id, alice.email, app_metadata={"provider": "email", "organization_id": second})
            mine = self.rpc(claimed.url, "list_my_organizations", pinned)
            self.assertEqual([row["id"] for row in mine.json()], [second], mine)
            self.assertEqual([row["id"] for row in self.rpc(
                claimed.url, "list_my_organizations", pinned, headers={"X-SMTA-Organization": second}).json()], [second])
            self.assertPostgrestError(
                self.rpc(claimed.url, "list_my_organizations", pinned, headers={"X-SMTA-Organization": first}), 403, "42501")
            unpinned = tokens.user(alice.id, alice.email)
            self.assertEqual(sorted(row["id"] for row in self.rpc(claimed.url, "list_my_organizations", unpinned).json()),
                             sorted([first, second]))
            garbled = tokens.user(alice.id, alice.email, app_metadata={"organization_id": "second"})
            self.assertPostgrestError(self.rpc(claimed.url, "list_my_organizations", garbled), 400, "22P02")
        finally:
            self.assertEqual(claimed.stop(signal.SIGTERM), 0)


class UnitRoleTests(SupabaseBridgeTestCase):
    def test_a_unit_role_above_the_organization_role_counts_in_that_unit_and_below(self):
        alice, bob = User("alice"), User("bob")
        organization = self.new_organization(alice, "Units")
        team = self.team_role(alice, organization)
        manager = next(role["id"] for role in alice.call("list_roles", {"p_org_id": organization}) if role["name"] == "manager")
        parent = alice.call("create_unit", {"p_org_id": organization, "p_name": "Kitchen"})[0]["id"]
        child = alice.call("create_unit", {"p_org_id": organization, "p_name": "Pastry", "p_parent_unit_id": parent})[0]["id"]
        other = alice.call("create_unit", {"p_org_id": organization, "p_name": "Bar"})[0]["id"]
        link = alice.call("create_invitation_link", {"p_org_id": organization, "p_role_id": team})[0]
        bob.call("accept_invitation_link", {"p_token": link["token"]})
        alice.call("assign_user_to_unit", {"p_user_id": bob.id, "p_unit_id": parent, "p_role_id": manager})

        role = lambda unit: [row["role_name"] for row in bob.call(
            "get_user_permissions", {"p_org_id": organization, **({"p_unit_id": unit} if unit else {})}, get=True)]
        self.assertEqual(role(None), ["team"])
        self.assertEqual(role(parent), ["manager"])
        self.assertEqual(role(child), ["manager"])
        self.assertEqual(role(other), [])


class ResultShapeTests(SupabaseBridgeTestCase):
    def test_single_asks_for_one_object_and_gets_406_for_several_or_none(self):
        alice = User("alice")
        created = alice.caller.rpc("create_organization", {"p_name": "Solo"}).single().execute().data
        self.assertIsInstance(created, dict)
        self.assertEqual(created["name"], "Solo")
        self.assertTrue(alice.caller.last.headers["content-type"].startswith(OBJECT_MEDIA_TYPE))
        only = alice.caller.rpc("list_my_organizations").single().execute().data
        self.assertEqual((only["id"], only["role"]), (created["id"], "super_admin"))

        self.new_organization(alice, "Second")
        error = self.refused(alice.caller, alice.caller.rpc("list_my_organizations").single(), 406, "PGRST116")
        self.assertIn("2 rows", error.details)
        stranger = User("stranger")
        error = self.refused(stranger.caller, stranger.caller.rpc("list_my_organizations").single(), 406, "PGRST116")
        self.assertIn("0 rows", error.details)

    def test_a_single_object_keeps_the_key_order_postgresql_wrote(self):
        alice = User("alice")
        self.new_organization(alice, "Ordered")
        headers = {"Authorization": f"Bearer {alice.token}", "Content-Type": "application/json"}
        rows = call(bridge.url, "POST", "/rpc/list_my_organizations", "{}", headers)
        self.assertEqual(rows.status, 200, rows)
        array_keys = list(json.loads(rows.body, object_pairs_hook=lambda pairs: pairs)[0])
        single = call(bridge.url, "POST", "/rpc/list_my_organizations", "{}", {**headers, "Accept": OBJECT_MEDIA_TYPE})
        self.assertEqual(single.status, 200, single)
        self.assertEqual(json.loads(single.body, object_pairs_hook=lambda pairs: pairs), array_keys)
        self.assertEqual([key for key, _ in array_keys], ["id", "name", "description", "role", "role_label"])

    def test_a_stable_function_is_called_with_get_and_query_arguments(self):
        alice = User("alice")
        organization = self.new_organization(alice, "Readable")
        rows = alice.caller.rpc("get_organization", {"p_id": organization}, get=True).execute().data
        request = alice.caller.last.request
        self.assertEqual(request.method, "GET")
        self.assertEqual(request.url.params.get("p_id"), organization)
        self.assertEqual([(row["id"], row["name"]) for row in rows], [(organization, "Readable")])
        role = alice.caller.rpc("get_user_role", {"p_org_id": organization}, get=True).execute().data
        self.assertEqual(role, "super_admin")

    def test_head_on_a_stable_function_answers_like_get_without_a_body(self):
        # postgrest-py's rpc(..., head=True) (with count=…) sends HEAD, which PostgREST serves for
        # the functions it serves with GET.
        alice = User("alice")
        self.new_organization(alice, "Counted")
        with self.subTest("HEAD through postgrest-py"):
            try:
                alice.caller.client.rpc("list_my_organizations", {}, head=True).execute()
            except APIError as error:
                self.fail(f"HEAD /rpc/list_my_organizations answered {alice.caller.last.status_code}: {error.json()}")
            self.assertEqual(alice.caller.last.request.method, "HEAD")
            self.assertEqual(alice.caller.last.status_code, 200)
        headers = {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {alice.token}"}
        reply = call(bridge.url, "HEAD", "/rest/v1/rpc/list_my_organizations", headers=headers)
        self.assertEqual((reply.status, reply.body), (200, b""), reply.headers)

    def test_select_shapes_the_rows_of_a_function_as_postgrest_does(self):
        # PostgREST treats `select` as a reserved query parameter on /rpc (POST and GET), never
        # as a function argument: postgrest-py's .select() after .rpc() narrows the columns.
        alice = User("alice")
        organization = self.new_organization(alice, "Narrow")
        for get in (False, True):
            with self.subTest(method="GET" if get else "POST"):
                rows = alice.caller.rpc("list_my_organizations", get=get).select("id,name").execute().data
                self.assertEqual(rows, [{"id": organization, "name": "Narrow"}])


class RefusalTests(SupabaseBridgeTestCase):
    """Every bad request gets PostgREST's status and code, and changes nothing."""

    def setUp(self):
        self.alice = User("alice")
        self.organization = self.new_organization(self.alice, "Guarded")
        self.team = self.team_role(self.alice, self.organization)
        self.before = database.fingerprint()

    def tearDown(self):
        super().tearDown()
        self.assertUnchanged(database, self.before, self.id().rsplit(".", 1)[-1])

    def test_an_unknown_function_is_404_pgrst202(self):
        caller = self.alice.caller
        error = self.refused(caller, caller.rpc("no_such_function", {"p_name": "x"}), 404, "PGRST202")
        self.assertIn("no_such_function", error.message)

    def test_a_misspelt_function_gets_postgrests_hint_naming_the_closest_one(self):
        caller = self.alice.caller
        error = self.refused(caller, caller.rpc("create_organisation", {"p_name": "x"}), 404, "PGRST202")
        self.assertEqual(error.hint, "Perhaps you meant to call the function public.create_organization")
        error = self.refused(caller, caller.rpc("zzzqqq", {}), 404, "PGRST202")
        self.assertNotIn("Perhaps", error.hint or "")

    def test_json_sent_as_a_form_as_curl_d_sends_it_is_read_as_a_form_and_the_hint_names_the_header(self):
        # curl -d '{"p_name": …}' without -H 'Content-Type: application/json' sends
        # application/x-www-form-urlencoded; PostgREST reads that as a form, and so does the bridge.
        headers = {"Authorization": f"Bearer {self.alice.token}",
                   "Content-Type": "application/x-www-form-urlencoded"}
        reply = call(bridge.url, "POST", "/rpc/create_organization", '{"p_name": "NoCT"}', headers)
        self.assertPostgrestError(reply, 404, "PGRST202")
        self.assertIn("Content-Type: application/json", reply.json()["hint"])
        # A real form still works, and a JSON body without any Content-Type is JSON, as in PostgREST.
        reply = call(bridge.url, "POST", "/rpc/get_organization", f"p_id={self.organization}", headers)
        self.assertEqual(reply.status, 200, reply)
        del headers["Content-Type"]
        reply = call(bridge.url, "POST", "/rpc/get_organization", json.dumps({"p_id": self.organization}), headers)
        self.assertEqual(reply.status, 200, reply)

    def test_names_past_their_length_limit_are_400_and_the_constraint_says_the_limit(self):
        caller = self.alice.caller
        error = self.refused(caller, caller.rpc("create_organization", {"p_name": "n" * 300}), 400, "23514")
        self.assertIn("organizations_name_at_most_255_characters", error.message)
        error = self.refused(caller, caller.rpc("create_unit", {"p_org_id": self.organization, "p_name": "u" * 256}),
                             400, "23514")
        self.assertIn("units_name_at_most_255_characters", error.message)

    def test_an_unknown_argument_is_404_pgrst202_as_postgrest_and_the_hint_names_it(self):
        # PostgREST looks a function up by its name and argument names: none takes p_owner.
        caller = self.alice.caller
        error = self.refused(caller, caller.rpc("create_organization", {"p_name": "X", "p_owner": str(uuid.uuid4())}),
                             404, "PGRST202")
        self.assertEqual(error.message,
                         "Could not find the function public.create_organization(p_name, p_owner) in the schema cache")
        self.assertIn("has no argument p_owner", error.hint)

    def test_a_missing_argument_is_404_pgrst202_as_postgrest_and_the_hint_names_it(self):
        caller = self.alice.caller
        error = self.refused(caller, caller.rpc("create_invitation", {
            "p_email": "x@example.com", "p_organization_id": self.organization}), 404, "PGRST202")
        self.assertIn("create_invitation(p_email, p_organization_id)", error.message)
        self.assertIn("needs the argument p_role_id", error.hint)

    def test_a_value_of_the_wrong_type_is_400_22p02(self):
        caller = self.alice.caller
        for get in (False, True):
            self.refused(caller, caller.rpc("get_organization", {"p_id": "nope"}, get=get), 400, "22P02")
        self.refused(caller, caller.rpc("create_invitation", {
            "p_email": "x@example.com", "p_organization_id": "nope", "p_role_id": self.team}), 400, "22P02")

    def test_no_credential_calls_as_anon_and_is_401_42501(self):
        anonymous = Caller()
        self.refused(anonymous, anonymous.rpc("create_organization", {"p_name": "Anon"}), 401, "42501")
        bare = call(bridge.url, "POST", "/rest/v1/rpc/create_organization", {"p_name": "Bare"})
        self.assertPostgrestError(bare, 401, "42501")

    def test_a_forged_expired_unsigned_or_misdirected_token_is_401_and_never_echoed(self):
        """PGRST301 for a token that does not verify; PGRST303 (as PostgREST) for a well-signed
        one whose claims fail, "JWT expired" for an expired one, which clients refresh on."""
        sub, email = self.alice.id, self.alice.email
        valid = self.alice.token
        header, payload, signature = valid.split(".")
        flipped = signature[:-2] + ("AA" if not signature.endswith("AA") else "BB")
        cases = {
            "altered signature": (f"{header}.{payload}.{flipped}", "PGRST301"),
            "escalated payload": (tokens.escalated(sub, email), "PGRST301"),
            "other project's secret": (tokens.signed_elsewhere(sub, email), "PGRST301"),
            "expired": (tokens.expired(sub, email), "PGRST303"),
            "alg none": (tokens.unsigned(sub, email), "PGRST301"),
            "wrong audience": (tokens.user(sub, email, aud="someone-else"), "PGRST303"),
            "not a JWT": ("not-a-token", "PGRST301"),
        }
        for case, (token, code) in cases.items():
            with self.subTest(case):
                caller = Caller(token)
                self.refused(caller, caller.rpc("create_organization", {"p_name": case}), 401, code)
                challenge = caller.last.headers.get("www-authenticate", "")
                self.assertTrue(challenge.startswith("Bearer"), caller.last.headers)
                raw = call(bridge.url, "POST", "/rest/v1/rpc/create_organization", {"p_name": case},
                           {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {token}"})
                self.assertPostgrestError(raw, 401, code)
                if case == "expired":
                    self.assertEqual(raw.json()["message"], "JWT expired")
                if token.count(".") == 2:
                    self.assertNotEchoed(raw, token)

    def test_an_outsider_calling_a_member_only_function_gets_what_the_function_raises(self):
        bob = User("bob")
        invite = bob.caller.rpc("create_invitation", {
            "p_email": "friend@example.com", "p_organization_id": self.organization, "p_role_id": self.team})
        error = self.refused(bob.caller, invite, 403, "42501")
        self.assertIn("member of this organization", error.message)

    def test_a_member_who_is_not_the_owner_cannot_rename_the_organization(self):
        bob = User("bob")
        invitation = self.alice.call("create_invitation", {
            "p_email": bob.email, "p_organization_id": self.organization, "p_role_id": self.team})[0]
        bob.call("accept_invitation", {"p_token": invitation["token"]})
        self.before = database.fingerprint()
        error = self.refused(bob.caller, bob.caller.rpc("update_organization", {
            "p_id": self.organization, "p_name": "Taken over"}), 403, "42501")
        self.assertIn("super_admin", error.message)

    def test_an_outsider_renaming_an_organization_reads_the_functions_not_found(self):
        # update_organization raises P0002 'Organization not found' for a non-member (SMTA's
        # convention, so that the organization's existence does not leak). That message is the
        # function's, written for the caller: it must reach the client, as a 404 (the bridge's
        # one departure from PostgREST, which would answer 500 for P0002).
        bob = User("bob")
        error = self.refused(bob.caller, bob.caller.rpc("update_organization", {
            "p_id": self.organization, "p_name": "Taken over"}), 404, "P0002")
        self.assertEqual(error.message, "Organization not found")

    def test_a_duplicate_invitation_is_409_23505(self):
        self.alice.call("create_invitation", {
            "p_email": "dup@example.com", "p_organization_id": self.organization, "p_role_id": self.team})
        self.before = database.fingerprint()
        again = self.alice.caller.rpc("create_invitation", {
            "p_email": "DUP@example.com", "p_organization_id": self.organization, "p_role_id": self.team})
        error = self.refused(self.alice.caller, again, 409, "23505")
        self.assertIn("already exists", error.message)

    def test_get_on_a_volatile_function_is_405(self):
        caller = self.alice.caller
        self.refused(caller, caller.rpc("create_organization", {"p_name": "By GET"}, get=True), 405, "PGRST101")

    def test_malformed_json_and_bodies_that_are_not_objects_are_400_pgrst102(self):
        headers = {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {self.alice.token}",
                   "Content-Type": "application/json"}
        bodies = [b'{"p_name": ', b'{"p_name": "x",}', b"not json",  # not JSON (a trailing comma included)
                  b'[{"p_name": "x"}]', b'"x"', b"42", b"null", b"true"]  # JSON, but not an object
        for body in bodies:
            with self.subTest(body=body):
                reply = call(bridge.url, "POST", "/rest/v1/rpc/create_organization", body, headers)
                self.assertPostgrestError(reply, 400, "PGRST102")

    def test_a_body_over_the_size_limit_is_413(self):
        headers = {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {self.alice.token}"}
        reply = call(bridge.url, "POST", "/rest/v1/rpc/create_organization",
                     {"p_name": "Big", "p_description": "x" * MAX_BODY_SIZE}, headers)
        self.assertPostgrestError(reply, 413)

    def test_another_schema_profile_is_406_pgrst106(self):
        other = self.alice.caller.client.schema("other")
        with self.assertRaises(APIError) as raised:
            other.rpc("create_organization", {"p_name": "Elsewhere"}).execute()
        self.assertEqual(self.alice.caller.last.status_code, 406)
        self.assertEqual(raised.exception.code, "PGRST106")
        headers = {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {self.alice.token}",
                   "Content-Profile": "other"}
        reply = call(bridge.url, "POST", "/rest/v1/rpc/create_organization", {"p_name": "Elsewhere"}, headers)
        self.assertPostgrestError(reply, 406, "PGRST106")


if __name__ == "__main__":
    main()
