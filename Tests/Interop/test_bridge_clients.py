#!/usr/bin/env python3
"""The bridge with the Supabase adapter, called by Supabase's official Python client (``supabase``
from PyPI: ``create_client(url, key)``), as a Supabase app calls its project.

A signed-in user is a session minted by PyJWT and kept in the client's session storage, exactly as
supabase-py keeps it after ``sign_in_with_password``; the client finds it there at ``create_client``
and sends its access token as the bearer. Through ``client.rpc(...)`` on set-returning functions:
PostgREST's horizontal filters (eq … isdistinct, ``not``, ``or``/``and``), ``order``, ``limit``,
``offset``, ``range`` and the ``Range`` header, ``count=exact|planned|estimated`` with
``Content-Range``, ``head=True``, ``single()`` / ``maybe_single()``, ``schema(...)``; Supabase's
publishable and secret API keys; ``PGRST303`` for an expired token; ``Server-Timing`` (the OpenAPI
document has its own program, test_bridge_openapi.py). Every result is compared with what the database holds, read with psycopg (the same
filter written in SQL over the tables the function reads), and every refusal must change nothing.

The fixture is made through the API by users: Alice owns seven organizations and is a ``team``
member of two of Bob's (nine rows of ``list_my_organizations``), and has six units in one.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import base64
import datetime
import json
import re
import secrets
import signal
import sys
import uuid
import warnings

try:
    from postgrest.exceptions import APIError
    from supabase import ClientOptions, create_client
    from supabase_auth import SyncMemoryStorage
    from supabase_auth.constants import STORAGE_KEY
    from supabase_auth.types import Session
    from supabase_auth.types import User as AuthUser
except ImportError as missing:
    sys.exit(f"test_bridge_clients.py needs the supabase package (run the tests with scripts/test, which installs Tests/Interop/requirements.txt into .build/venv): {missing}")

# supabase-py passes postgrest-py a timeout argument that postgrest-py itself deprecates.
warnings.filterwarnings("ignore", message="The '(timeout|verify|proxy)' parameter is deprecated", category=DeprecationWarning)

from bridge_common import (
    DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

# Supabase's new API keys, configured on the bridge; the unconfigured ones have the right shape.
PUBLISHABLE_KEY = "sb_publishable_" + secrets.token_urlsafe(18)
SECRET_KEY = "sb_secret_" + secrets.token_urlsafe(18)
UNCONFIGURED_PUBLISHABLE_KEY = "sb_publishable_" + secrets.token_urlsafe(18)
UNCONFIGURED_SECRET_KEY = "sb_secret_" + secrets.token_urlsafe(18)

OBJECT_MEDIA_TYPE = "application/vnd.pgrst.object+json"
# Server-Timing (W3C): metric *( OWS ";" OWS param ), metrics separated by commas.
SERVER_TIMING = re.compile(
    r'^\s*[!#$%&\'*+.^_`|~0-9A-Za-z-]+(\s*;\s*[A-Za-z]+(=("[^"]*"|[^,;\s]+))?)*'
    r'(\s*,\s*[!#$%&\'*+.^_`|~0-9A-Za-z-]+(\s*;\s*[A-Za-z]+(=("[^"]*"|[^,;\s]+))?)*)*\s*$')

# Alice's own organizations (name, description): mixed case, a comma, parentheses, a null and an
# empty description, so that like/ilike, in (quoted values), is.null and eq.'' differ.
ALICE_ORGANIZATIONS = [
    ("Acme Corp", "anvils"),
    ("acme labs", None),
    ("Acme, Inc.", "rockets"),
    ("Beta", "anvils"),
    ("Delta", "dynamite"),
    ("Gamma", None),
    ("Zeta (old)", ""),
]
# Bob's organizations, where Alice is a `team` member.
BOB_ORGANIZATIONS = [("Bobcat", "felines"), ("Bob's Shop", None)]
# Units of Alice's "Acme Corp", created one after the other (distinct created_at).
UNITS = [
    ("Design", "pixels"),
    ("design ops", None),
    ("Engineering", "code"),
    ("Finance", None),
    ("Legal", "contracts"),
    ("Marketing", "ads"),
]

bridge = None
database = None
tokens = None
fixture = None
open_clients = []


class Client:
    """A supabase-py client made by ``create_client(bridge, key, options)``; with ``session``, the
    session sits in the client's storage as supabase-py leaves it after a sign-in. Remembers the
    last HTTP response of its PostgREST client (``APIError`` carries no status)."""

    def __init__(self, key, session=None, headers=None):
        storage = SyncMemoryStorage()
        if session is not None:
            storage.set_item(STORAGE_KEY, session.model_dump_json())
        options = ClientOptions(storage=storage, auto_refresh_token=False)
        if headers:
            options.headers = {**options.headers, **headers}
        self.client = create_client(bridge.url, key, options)
        self.last = None
        self.client.postgrest.session.event_hooks = {"request": [], "response": [self._record]}
        open_clients.append(self)

    def _record(self, response):
        self.last = response

    def rpc(self, name, params=None, count=None, head=False, get=False):
        return self.client.rpc(name, params or {}, count=count, head=head, get=get)

    def close(self):
        self.client.postgrest.aclose()


class User:
    """A Supabase user: an id, an email, a GoTrue access token minted by PyJWT, and a client
    (``create_client`` with the project's ``key``) that holds the user's session."""

    def __init__(self, label, key=None):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)
        self.session = self.make_session()
        self.client = Client(key or tokens.api_key("anon"), session=self.session)

    def make_session(self):
        claims = json.loads(_b64(self.token.split(".")[1]))
        user = AuthUser(
            id=self.id, app_metadata=claims["app_metadata"], user_metadata=claims["user_metadata"],
            aud="authenticated", email=self.email, role="authenticated",
            created_at=datetime.datetime.now(datetime.timezone.utc))
        return Session(
            access_token=self.token, refresh_token=secrets.token_urlsafe(12), token_type="bearer",
            expires_in=claims["exp"] - claims["iat"], expires_at=claims["exp"], user=user)

    def rpc(self, name, params=None, **options):
        return self.client.rpc(name, params, **options)

    def call(self, name, params=None, get=False):
        return self.client.rpc(name, params, get=get).execute().data

    def headers(self):
        """Raw-HTTP headers carrying this user's credentials, as supabase-py sends them."""
        return {"apikey": tokens.api_key("anon"), "Authorization": f"Bearer {self.token}"}


def _b64(segment):
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class Fixture:
    """What setUpModule made through the API: the users, organizations, units, an invitation."""

    def __init__(self):
        self.alice = User("alice")
        self.bob = User("bob")
        self.organizations = {}
        for name, description in ALICE_ORGANIZATIONS:
            self.organizations[name] = self.alice.call(
                "create_organization", {"p_name": name, "p_description": description})[0]["id"]
        for name, description in BOB_ORGANIZATIONS:
            organization = self.bob.call("create_organization", {"p_name": name, "p_description": description})[0]["id"]
            self.organizations[name] = organization
            team = next(role["id"] for role in self.bob.call("list_roles", {"p_org_id": organization})
                        if role["name"] == "team")
            invitation = self.bob.call("create_invitation", {
                "p_email": self.alice.email, "p_organization_id": organization, "p_role_id": team})[0]
            self.alice.call("accept_invitation", {"p_token": invitation["token"]})
        self.unit_organization = self.organizations["Acme Corp"]
        for name, description in UNITS:
            self.alice.call("create_unit", {
                "p_org_id": self.unit_organization, "p_name": name, "p_description": description})
        # A pending invitation whose landing page anonymous callers may read.
        organization = self.organizations["Beta"]
        team = next(role["id"] for role in self.alice.call("list_roles", {"p_org_id": organization})
                    if role["name"] == "team")
        self.pending = self.alice.call("create_invitation", {
            "p_email": f"guest.{secrets.token_hex(4)}@example.com", "p_organization_id": organization,
            "p_role_id": team})[0]


# ---------------------------------------------------------------------------------------------
# What the database holds: the same filters in SQL, over the tables the functions read
# ---------------------------------------------------------------------------------------------

MY_ORGANIZATIONS_SQL = (
    "select id, name, description, role from ("
    " select o.id::text as id, o.name, o.description, r.name as role"
    " from core.memberships as m"
    " join core.organizations as o on o.id = m.organization_id"
    " join core.roles as r on r.id = m.role_id"
    " where m.user_id = %s::uuid and not m.is_deleted and not o.is_deleted) as mine")

UNITS_SQL = (
    "select id, name, description, created_at from ("
    " select u.id::text as id, u.name, u.description, u.created_at from core.units as u"
    " where u.organization_id = %s::uuid and not u.is_deleted) as units")


def held_organizations(where="true", parameters=(), order="name, id"):
    """Alice's rows of list_my_organizations as the database holds them: (id, name, description, role)."""
    return database.rows(f"{MY_ORGANIZATIONS_SQL} where {where} order by {order}",
                         (fixture.alice.id, *parameters))


def held_units(where="true", parameters=(), order="name, id"):
    """The units of Alice's "Acme Corp" as the database holds them: (id, name, description, created_at)."""
    return database.rows(f"{UNITS_SQL} where {where} order by {order}", (fixture.unit_organization, *parameters))


def organization_rows(data):
    return [(row["id"], row["name"], row["description"], row["role"]) for row in data]


def unordered(rows):
    return sorted(rows, key=lambda row: row[0])


# ---------------------------------------------------------------------------------------------
# The module
# ---------------------------------------------------------------------------------------------

def setUpModule():
    global bridge, database, tokens, fixture
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    database = Database(url)
    bridge = Bridge("supabase-clients", {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": url,
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_SUPABASE_PUBLISHABLE_KEYS": f"{PUBLISHABLE_KEY},sb_publishable_{secrets.token_urlsafe(18)}",
        "SMTA_SUPABASE_SECRET_KEYS": SECRET_KEY,
    }).start()
    bridge.wait_for_health(200)
    fixture = Fixture()


def tearDownModule():
    for client in open_clients:
        client.close()
    status = bridge.stop(signal.SIGTERM)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    for secret in (tokens.secret, PUBLISHABLE_KEY, SECRET_KEY, UNCONFIGURED_PUBLISHABLE_KEY, UNCONFIGURED_SECRET_KEY):
        if secret in log:
            raise AssertionError("the bridge's log contains a secret or an API key")
    for token in tokens.minted:
        _, payload, signature = token.split(".")
        if payload in log or (signature and signature in log):
            raise AssertionError("the bridge's log contains a credential")


class ClientTestCase(BridgeTestCase):
    def served(self, client, request):
        """Executes ``request`` (a supabase-py builder) and returns its response; a refusal fails
        the test with the bridge's status and body rather than erroring."""
        try:
            return request.execute()
        except APIError as error:
            last = client.last
            self.fail(f"{last.request.method} {last.request.url} answered {last.status_code}: {error.json()}")

    def refused(self, client, request, status, code=None):
        """Executes ``request``, which must raise APIError with PostgREST's ``status`` and ``code``."""
        try:
            response = request.execute()
        except APIError as error:
            self.assertEqual(client.last.status_code, status, f"{client.last.request.url}: {error.json()}")
            if code is not None:
                self.assertEqual(error.code, code, f"{client.last.request.url}: {error.json()}")
            return error
        self.fail(f"{client.last.request.method} {client.last.request.url} answered "
                  f"{client.last.status_code} {getattr(response, 'data', response)!r}, expected {status} {code}")

    def for_post_and_get(self):
        """(label, get) for the two ways to call a stable function."""
        return (("POST", False), ("GET", True))

    def assertFiltered(self, build, where, parameters=(), what=""):
        """``build(get)`` (a request on Alice's list_my_organizations) returns, by POST and by GET,
        exactly the rows the database holds under ``where``."""
        expected = unordered(held_organizations(where, parameters))
        self.assertTrue(expected, f"the fixture holds no row for {where}: the test proves nothing")
        self.assertLess(len(expected), len(ALICE_ORGANIZATIONS) + len(BOB_ORGANIZATIONS),
                        f"every row matches {where}: the test proves nothing")
        for method, get in self.for_post_and_get():
            with self.subTest(what, method=method):
                client = fixture.alice.client
                response = self.served(client, build(get))
                self.assertEqual(unordered(organization_rows(response.data)), expected,
                                 f"{client.last.request.method} {client.last.request.url}")


# ---------------------------------------------------------------------------------------------
# Horizontal filters
# ---------------------------------------------------------------------------------------------

class FilterTests(ClientTestCase):
    def rpc(self, get):
        return fixture.alice.rpc("list_my_organizations", get=get)

    def test_the_fixture_is_what_the_database_holds(self):
        data = fixture.alice.call("list_my_organizations")
        self.assertEqual(organization_rows(data), held_organizations())
        self.assertEqual(len(data), len(ALICE_ORGANIZATIONS) + len(BOB_ORGANIZATIONS))

    def test_eq_and_neq_return_the_rows_whose_column_equals_or_differs(self):
        self.assertFiltered(lambda get: self.rpc(get).eq("role", "team"), "role = 'team'", what="eq")
        self.assertFiltered(lambda get: self.rpc(get).neq("role", "team"), "role <> 'team'", what="neq")
        self.assertFiltered(lambda get: self.rpc(get).eq("description", ""), "description = ''", what="eq empty")
        self.assertFiltered(lambda get: self.rpc(get).eq("name", "Acme, Inc."), "name = 'Acme, Inc.'",
                            what="eq with a comma")
        self.assertFiltered(lambda get: self.rpc(get).eq("id", fixture.organizations["Delta"]),
                            "id = %s", (fixture.organizations["Delta"],), what="eq uuid")

    def test_gt_gte_lt_lte_compare_text_as_postgresql_collates_it(self):
        for operator, sql in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            self.assertFiltered(lambda get, operator=operator: getattr(self.rpc(get), operator)("name", "Beta"),
                                f"name {sql} 'Beta'", what=operator)

    def test_gt_gte_lt_lte_compare_timestamps_beside_the_functions_argument(self):
        # list_units(p_org_id): on GET the argument and the filter are both query parameters.
        units = held_units(order="created_at, id")
        middle = fixture.alice.call("list_units", {"p_org_id": fixture.unit_organization})
        pivot = next(row["created_at"] for row in middle if row["id"] == units[2][0])
        for operator, sql in (("gt", ">"), ("gte", ">="), ("lt", "<"), ("lte", "<=")):
            expected = unordered([row[:3] for row in held_units(f"created_at {sql} %s::timestamptz", (pivot,))])
            self.assertTrue(0 < len(expected) < len(UNITS))
            for method, get in self.for_post_and_get():
                with self.subTest(operator, method=method):
                    client = fixture.alice.client
                    request = getattr(fixture.alice.rpc(
                        "list_units", {"p_org_id": fixture.unit_organization}, get=get), operator)("created_at", pivot)
                    data = self.served(client, request).data
                    self.assertEqual(unordered([(row["id"], row["name"], row["description"]) for row in data]),
                                     expected, f"{client.last.request.url}")

    def test_like_and_ilike_match_with_star_or_percent_wildcards(self):
        self.assertFiltered(lambda get: self.rpc(get).like("name", "Acme*"), "name like 'Acme%%'", what="like *")
        self.assertFiltered(lambda get: self.rpc(get).like("name", "Acme%"), "name like 'Acme%%'", what="like %")
        self.assertFiltered(lambda get: self.rpc(get).ilike("name", "acme*"), "name ilike 'acme%%'", what="ilike")
        self.assertFiltered(lambda get: self.rpc(get).like("name", "*(old)"), "name like '%%(old)'",
                            what="like with parentheses")

    def test_match_and_imatch_are_posix_regular_expressions(self):
        self.assertFiltered(lambda get: self.rpc(get).filter("name", "match", "^[AB].*[a-z]$"),
                            "name ~ '^[AB].*[a-z]$'", what="match")
        self.assertFiltered(lambda get: self.rpc(get).filter("name", "imatch", "^acme"),
                            "name ~* '^acme'", what="imatch")

    def test_in_keeps_only_the_listed_values_quoted_ones_included(self):
        names = ["Beta", "Acme, Inc.", "Zeta (old)", "Bob's Shop", "No such name"]
        self.assertFiltered(lambda get: self.rpc(get).in_("name", names), "name = any(%s)", (names,), what="in")
        self.assertFiltered(lambda get: self.rpc(get).not_.in_("name", names), "not (name = any(%s))", (names,),
                            what="not.in")

    def test_is_null_not_null_and_isdistinct_treat_null_as_postgresql_does(self):
        self.assertFiltered(lambda get: self.rpc(get).is_("description", None), "description is null", what="is.null")
        self.assertFiltered(lambda get: self.rpc(get).not_.is_("description", None), "description is not null",
                            what="not.is.null")
        self.assertFiltered(lambda get: self.rpc(get).filter("description", "is", "not_null"),
                            "description is not null", what="is.not_null")
        self.assertFiltered(lambda get: self.rpc(get).filter("description", "isdistinct", "anvils"),
                            "description is distinct from 'anvils'", what="isdistinct")
        self.assertFiltered(lambda get: self.rpc(get).neq("description", "anvils"),
                            "description <> 'anvils'", what="neq leaves nulls out")

    def test_is_true_and_false_filter_a_boolean_column(self):
        organization = fixture.organizations["Bobcat"]
        held = dict(database.rows(
            "select user_id::text, is_super_admin from core.memberships"
            " where organization_id = %s::uuid and not is_deleted", (organization,)))
        self.assertEqual(held, {fixture.bob.id: True, fixture.alice.id: False})
        for value in (True, False):
            for method, get in self.for_post_and_get():
                with self.subTest(value=value, method=method):
                    client = fixture.alice.client
                    request = fixture.alice.rpc("list_organization_members", {"p_id": organization}, get=get).is_(
                        "is_super_admin", value)
                    data = self.served(client, request).data
                    self.assertEqual([row["user_id"] for row in data],
                                     [user for user, flag in held.items() if flag is value], f"{client.last.request.url}")

    def test_not_negates_eq_like_and_ilike(self):
        self.assertFiltered(lambda get: self.rpc(get).not_.eq("role", "super_admin"), "not (role = 'super_admin')",
                            what="not.eq")
        self.assertFiltered(lambda get: self.rpc(get).not_.like("name", "*a*"), "not (name like '%%a%%')",
                            what="not.like")
        self.assertFiltered(lambda get: self.rpc(get).not_.ilike("name", "ACME*"), "not (name ilike 'acme%%')",
                            what="not.ilike")

    def test_or_and_nested_and_combine_conditions_as_postgrest_parses_them(self):
        self.assertFiltered(lambda get: self.rpc(get).or_("name.eq.Beta,description.eq.rockets"),
                            "name = 'Beta' or description = 'rockets'", what="or")
        self.assertFiltered(
            lambda get: self.rpc(get).or_("name.eq.Gamma,and(role.eq.team,name.like.Bob*)"),
            "name = 'Gamma' or (role = 'team' and name like 'Bob%%')", what="or with a nested and")
        self.assertFiltered(
            lambda get: self.rpc(get).or_('name.in.("Acme, Inc.",Delta),description.is.null'),
            "name in ('Acme, Inc.', 'Delta') or description is null", what="or with a quoted in list")
        self.assertFiltered(lambda get: self.rpc(get).not_.or_("role.eq.team,description.is.null"),
                            "not (role = 'team' or description is null)", what="not.or")

    def test_a_top_level_and_is_the_conjunction_of_its_conditions(self):
        # postgrest-py has no and_(); PostgREST's `and=(…)` over raw HTTP, POST and GET.
        expected = unordered(held_organizations(
            "role = 'super_admin' and (description is null or name like 'Acme%%')"))
        self.assertTrue(expected)
        query = "and=(role.eq.super_admin,or(description.is.null,name.like.Acme*))"
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                reply = call(bridge.url, method, f"/rest/v1/rpc/list_my_organizations?{query}",
                             {} if method == "POST" else None, fixture.alice.headers())
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(unordered(organization_rows(reply.json())), expected)

    def test_several_filters_on_one_request_all_apply(self):
        self.assertFiltered(
            lambda get: self.rpc(get).eq("role", "super_admin").ilike("name", "*a*").not_.is_("description", None),
            "role = 'super_admin' and name ilike '%%a%%' and description is not null", what="three filters")

    def test_filters_apply_to_the_result_and_the_arguments_stay_arguments(self):
        # `name` is a column of list_units' result; `p_org_id` its argument: on GET both are in the query.
        expected = [row[:3] for row in held_units("name ilike 'design%%'")]
        self.assertEqual(len(expected), 2)
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                request = fixture.alice.rpc("list_units", {"p_org_id": fixture.unit_organization}, get=get).ilike(
                    "name", "design*")
                data = self.served(client, request).data
                self.assertEqual(unordered([(row["id"], row["name"], row["description"]) for row in data]),
                                 unordered(expected), f"{client.last.request.url}")

    def test_filters_narrow_the_rows_before_select_narrows_the_columns(self):
        held = held_organizations("role = 'team'")
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                data = self.served(client, self.rpc(get).select("id").eq("role", "team")).data
                self.assertEqual(sorted(data, key=lambda row: row["id"]), [{"id": row[0]} for row in unordered(held)])

    def test_not_applies_to_and_or_and_to_conditions_inside_them(self):
        query = "not.and=(role.eq.super_admin,description.is.null)&or=(name.not.like.Acme*,description.eq.anvils)"
        expected = unordered(held_organizations(
            "not (role = 'super_admin' and description is null)"
            " and (not (name like 'Acme%%') or description = 'anvils')"))
        self.assertTrue(0 < len(expected) < 9)
        for method in ("POST", "GET"):
            with self.subTest(method=method):
                reply = call(bridge.url, method, f"/rest/v1/rpc/list_my_organizations?{query}",
                             {} if method == "POST" else None, fixture.alice.headers())
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(unordered(organization_rows(reply.json())), expected)

    def test_a_filter_on_a_volatile_functions_result_does_not_stop_the_call(self):
        # PostgREST runs the function, then filters what it returned: the organization exists
        # although the answer is empty.
        grace = User("grace")  # writes go to a user of their own: Alice's rows are the fixture
        name = f"Filtered away {secrets.token_hex(3)}"
        data = self.served(grace.client, grace.rpc("create_organization", {"p_name": name}).eq("name", "Not it")).data
        self.assertEqual(data, [])
        self.assertEqual(database.rows("select created_by::text from core.organizations where name = %s", (name,)),
                         [(grace.id,)])

    def test_an_unknown_column_or_operator_is_400_with_postgrests_code_and_changes_nothing(self):
        # PostgREST: a filter (a value with an operator, e.g. eq.1) or an order on a column the
        # function does not return reaches PostgreSQL: 42703, 400; an unbalanced or=(…) or an
        # unknown order direction is PGRST100, 400. On POST, a query value without a known
        # operator is a filter that does not parse: PGRST100.
        before = database.fingerprint()
        cases = {
            "filter on an unknown column": ("no_such_column=eq.1", "42703", ("POST", "GET")),
            "negated filter on an unknown column": ("no_such_column=not.is.null", "42703", ("POST", "GET")),
            "order on an unknown column": ("order=no_such_column.desc", "42703", ("POST", "GET")),
            "unbalanced or": ("or=(name.eq.Beta", "PGRST100", ("POST", "GET")),
            "or on an unknown column": ("or=(name.eq.Beta,no_such_column.eq.1)", "42703", ("POST", "GET")),
            "unknown order direction": ("order=name.sideways", "PGRST100", ("POST", "GET")),
            "unknown operator": ("name=resembles.Beta", "PGRST100", ("POST",)),
            "no operator": ("name=Beta", "PGRST100", ("POST",)),
        }
        for case, (query, code, methods) in cases.items():
            for method in methods:
                with self.subTest(case, method=method):
                    reply = call(bridge.url, method, f"/rest/v1/rpc/list_my_organizations?{query}",
                                 {} if method == "POST" else None, fixture.alice.headers())
                    self.assertPostgrestError(reply, 400, code)
        with self.subTest("GET: a value without an operator is an argument"):
            # As PostgREST: it looks for list_my_organizations(name), which does not exist.
            reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?name=Beta", None,
                         fixture.alice.headers())
            body = self.assertPostgrestError(reply, 404, "PGRST202")
            self.assertEqual(body["message"],
                             "Could not find the function public.list_my_organizations(name) in the schema cache")
        self.assertUnchanged(database, before, "refused filters")


# ---------------------------------------------------------------------------------------------
# Ordering
# ---------------------------------------------------------------------------------------------

class OrderTests(ClientTestCase):
    def ordered(self, build, order, what):
        expected = held_organizations(order=order)
        for method, get in self.for_post_and_get():
            with self.subTest(what, method=method):
                client = fixture.alice.client
                data = self.served(client, build(fixture.alice.rpc("list_my_organizations", get=get))).data
                self.assertEqual(organization_rows(data), expected, f"{client.last.request.url}")

    def test_order_by_one_column_ascending_and_descending(self):
        self.ordered(lambda request: request.order("name", desc=True), "name desc", "name.desc")
        self.ordered(lambda request: request.order("name"), "name asc", "name.asc")

    def test_order_by_several_columns_applies_them_in_sequence(self):
        self.ordered(lambda request: request.order("role").order("name", desc=True), "role asc, name desc",
                     "role.asc,name.desc")

    def test_nullsfirst_and_nullslast_place_the_null_descriptions(self):
        self.ordered(lambda request: request.order("description", nullsfirst=True).order("name"),
                     "description asc nulls first, name", "description.asc.nullsfirst")
        self.ordered(lambda request: request.order("description", desc=True, nullsfirst=False).order("name"),
                     "description desc nulls last, name", "description.desc.nullslast")

    def test_order_by_a_timestamp_of_a_function_with_an_argument(self):
        expected = [row[0] for row in held_units(order="created_at desc, id")]
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                request = fixture.alice.rpc("list_units", {"p_org_id": fixture.unit_organization}, get=get).order(
                    "created_at", desc=True)
                self.assertEqual([row["id"] for row in self.served(client, request).data], expected)


# ---------------------------------------------------------------------------------------------
# Paging and counting
# ---------------------------------------------------------------------------------------------

class PagingTests(ClientTestCase):
    def test_limit_and_offset_page_through_the_ordered_rows(self):
        held = held_organizations(order="name desc")
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                pages = []
                for offset in range(0, len(held), 4):
                    request = fixture.alice.rpc("list_my_organizations", get=get).order("name", desc=True).limit(
                        4).offset(offset)
                    response = self.served(client, request)
                    pages.append(organization_rows(response.data))
                    self.assertEqual(client.last.headers.get("content-range"),
                                     f"{offset}-{offset + len(response.data) - 1}/*", "Content-Range without a count")
                self.assertEqual([len(page) for page in pages], [4, 4, 1])
                self.assertEqual([row for page in pages for row in page], held)

    def test_range_returns_the_rows_between_its_bounds_inclusive(self):
        held = held_organizations(order="name")
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                data = self.served(client, fixture.alice.rpc("list_my_organizations", get=get).order(
                    "name").range(2, 5)).data
                self.assertEqual(organization_rows(data), held[2:6])

    def test_a_limit_past_the_last_row_returns_what_there_is(self):
        held = held_organizations(order="name")
        client = fixture.alice.client
        data = self.served(client, fixture.alice.rpc("list_my_organizations").order("name").range(7, 20)).data
        self.assertEqual(organization_rows(data), held[7:])
        self.assertEqual(client.last.headers.get("content-range"), f"7-{len(held) - 1}/*")

    def test_the_range_request_header_pages_get_as_postgrest_does(self):
        held = held_organizations()  # the function's own order: name, id
        cases = {"2-4": held[2:5], "6-": held[6:], "0-0": held[:1]}
        for value, expected in cases.items():
            with self.subTest(range=value):
                headers = {**fixture.alice.headers(), "Range-Unit": "items", "Range": value}
                reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations", None, headers)
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(organization_rows(reply.json()), expected)
                lower = int(value.split("-")[0])
                self.assertEqual(reply.headers.get("content-range"), f"{lower}-{lower + len(expected) - 1}/*")
            with self.subTest("POST ignores Range (RFC 9110, as PostgREST)", range=value):
                reply = call(bridge.url, "POST", "/rest/v1/rpc/list_my_organizations", {}, headers)
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(organization_rows(reply.json()), held)
                self.assertEqual(reply.headers.get("content-range"), f"0-{len(held) - 1}/*")

    def test_every_read_carries_content_range_even_unpaged(self):
        # PostgREST sends Content-Range on every function result: 0-<n-1>/* without a count.
        total = len(held_organizations())
        for method in ("POST", "GET", "HEAD"):
            with self.subTest(method=method):
                reply = call(bridge.url, method, "/rest/v1/rpc/list_my_organizations",
                             {} if method == "POST" else None, fixture.alice.headers())
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(reply.headers.get("content-range"), f"0-{total - 1}/*")
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?name=eq.No%20such%20name", None,
                     fixture.alice.headers())
        self.assertEqual((reply.status, reply.json(), reply.headers.get("content-range")), (200, [], "*/*"))

    def test_limit_zero_returns_no_row_and_the_count_still_counts(self):
        total = len(held_organizations())
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?limit=0", None, fixture.alice.headers())
        self.assertEqual((reply.status, reply.json(), reply.headers.get("content-range")), (200, [], "*/*"))
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?limit=0", None,
                     {**fixture.alice.headers(), "Prefer": "count=exact"})
        self.assertEqual((reply.status, reply.json(), reply.headers.get("content-range")), (206, [], f"*/{total}"))

    def test_a_negative_limit_is_416_pgrst103(self):
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?limit=-1", None, fixture.alice.headers())
        body = self.assertPostgrestError(reply, 416, "PGRST103")
        self.assertEqual(body["details"], "Limit should be greater than or equal to zero.")

    def test_a_range_header_whose_lower_bound_passes_the_upper_is_416_pgrst103(self):
        headers = {**fixture.alice.headers(), "Range-Unit": "items", "Range": "4-2"}
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations", None, headers)
        self.assertPostgrestError(reply, 416, "PGRST103")


class CountTests(ClientTestCase):
    def test_count_exact_is_the_total_of_the_filtered_rows_and_the_page_is_206(self):
        total = len(held_organizations("role = 'super_admin'"))
        everything = len(held_organizations())
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                response = self.served(client, fixture.alice.rpc(
                    "list_my_organizations", count="exact", get=get).eq("role", "super_admin").order("name").limit(3))
                self.assertEqual(response.count, total)
                self.assertEqual(len(response.data), 3)
                self.assertEqual(client.last.headers.get("content-range"), f"0-2/{total}")
                # PostgREST answers 206 Partial Content when the count shows rows left out.
                self.assertEqual(client.last.status_code, 206)
                whole = self.served(client, fixture.alice.rpc("list_my_organizations", count="exact", get=get))
                self.assertEqual((whole.count, len(whole.data)), (everything, everything))
                self.assertEqual(client.last.headers.get("content-range"), f"0-{everything - 1}/{everything}")
                self.assertEqual(client.last.status_code, 200)

    def test_count_planned_and_estimated_report_a_total(self):
        for count in ("planned", "estimated"):
            for method, get in self.for_post_and_get():
                with self.subTest(count=count, method=method):
                    client = fixture.alice.client
                    response = self.served(client, fixture.alice.rpc(
                        "list_my_organizations", count=count, get=get).limit(2))
                    self.assertIsInstance(response.count, int, client.last.headers)
                    self.assertGreaterEqual(response.count, 0)
                    self.assertRegex(client.last.headers.get("content-range", ""), r"^0-1/\d+$")
                    self.assertEqual(len(response.data), 2)

    def test_an_empty_result_with_a_count_is_content_range_star_slash_zero(self):
        stranger = User("stranger")
        self.assertEqual(database.value(
            "select count(*) from core.memberships where user_id = %s::uuid", (stranger.id,)), 0)
        for method, get in self.for_post_and_get():
            with self.subTest("no rows at all", method=method):
                response = self.served(stranger.client, stranger.rpc("list_my_organizations", count="exact", get=get))
                self.assertEqual((response.data, response.count), ([], 0))
                self.assertEqual(stranger.client.last.headers.get("content-range"), "*/0")
                self.assertEqual(stranger.client.last.status_code, 200)
            with self.subTest("a filter keeps none", method=method):
                client = fixture.alice.client
                response = self.served(client, fixture.alice.rpc(
                    "list_my_organizations", count="exact", get=get).eq("name", "No such name"))
                self.assertEqual((response.data, response.count), ([], 0))
                self.assertEqual(client.last.headers.get("content-range"), "*/0")

    def test_head_with_a_count_answers_headers_only(self):
        total = len(held_organizations("role = 'team'"))
        client = fixture.alice.client
        response = self.served(client, fixture.alice.rpc(
            "list_my_organizations", count="exact", head=True).eq("role", "team"))
        self.assertEqual(client.last.request.method, "HEAD")
        self.assertEqual(client.last.status_code, 200)
        self.assertEqual(response.count, total)
        self.assertEqual(client.last.content, b"")
        self.assertEqual(client.last.headers.get("content-range"), f"0-{total - 1}/{total}")

    def test_an_offset_at_the_total_is_an_empty_206_page(self):
        total = len(held_organizations())
        reply = call(bridge.url, "GET", f"/rest/v1/rpc/list_my_organizations?offset={total}", None,
                     {**fixture.alice.headers(), "Prefer": "count=exact"})
        self.assertEqual((reply.status, reply.json(), reply.headers.get("content-range")), (206, [], f"*/{total}"))

    def test_an_offset_into_an_empty_result_with_count_exact_is_416(self):
        stranger = User("stranger")
        reply = call(bridge.url, "GET", "/rest/v1/rpc/list_my_organizations?offset=1", None,
                     {**stranger.headers(), "Prefer": "count=exact"})
        self.assertPostgrestError(reply, 416, "PGRST103")

    def test_a_count_on_a_function_returning_one_value_is_one(self):
        # PostgREST: a scalar result counts as one row (Content-Range 0-0/1).
        organization = fixture.organizations["Delta"]
        client = fixture.alice.client
        response = self.served(client, fixture.alice.rpc("get_user_role", {"p_org_id": organization}, count="exact",
                                                        get=True))
        self.assertEqual(response.data, database.value(
            "select r.name from core.memberships m join core.roles r on r.id = m.role_id"
            " where m.organization_id = %s::uuid and m.user_id = %s::uuid", (organization, fixture.alice.id)))
        self.assertEqual((response.count, client.last.headers.get("content-range")), (1, "0-0/1"))

    def test_an_offset_past_the_total_with_count_exact_is_416_pgrst103(self):
        total = len(held_organizations())
        client = fixture.alice.client
        error = self.refused(client, fixture.alice.rpc("list_my_organizations", count="exact").range(
            total + 5, total + 9), 416, "PGRST103")
        self.assertEqual(client.last.headers.get("content-range"), f"*/{total}")
        self.assertIn(f"only {total} rows", error.details or "")


# ---------------------------------------------------------------------------------------------
# One row
# ---------------------------------------------------------------------------------------------

class SingleTests(ClientTestCase):
    def test_single_after_a_filter_returns_the_one_matching_row_as_an_object(self):
        held = held_organizations("name = 'Delta'")
        self.assertEqual(len(held), 1)
        for method, get in self.for_post_and_get():
            with self.subTest(method=method):
                client = fixture.alice.client
                row = self.served(client, fixture.alice.rpc("list_my_organizations", get=get).eq(
                    "name", "Delta").single()).data
                self.assertIsInstance(row, dict)
                self.assertEqual(organization_rows([row]), held)
                self.assertTrue(client.last.headers["content-type"].startswith(OBJECT_MEDIA_TYPE))

    def test_single_on_several_filtered_rows_is_406_pgrst116(self):
        several = len(held_organizations("role = 'team'"))
        self.assertEqual(several, 2)
        client = fixture.alice.client
        error = self.refused(client, fixture.alice.rpc("list_my_organizations").eq("role", "team").single(),
                             406, "PGRST116")
        self.assertIn("2 rows", error.details or "")

    def test_maybe_single_returns_none_for_no_row_and_the_row_for_one(self):
        client = fixture.alice.client
        self.assertIsNone(fixture.alice.rpc("list_my_organizations").eq("name", "No such name").maybe_single().execute())
        found = fixture.alice.rpc("list_my_organizations").eq("name", "Beta").maybe_single().execute()
        self.assertIsNotNone(found, f"maybe_single found nothing ({client.last.request.url} answered "
                                    f"{client.last.status_code} with {client.last.content[:200]!r})")
        self.assertEqual(organization_rows([found.data]), held_organizations("name = 'Beta'"))


# ---------------------------------------------------------------------------------------------
# Schemas, API keys, expired tokens
# ---------------------------------------------------------------------------------------------

class SchemaTests(ClientTestCase):
    def test_schema_public_is_served_for_post_and_get(self):
        public = fixture.alice.client.client.schema("public")
        for get in (False, True):
            with self.subTest(get=get):
                data = public.rpc("list_my_organizations", {}, get=get).execute().data
                self.assertEqual(organization_rows(data), held_organizations())
        frank = User("frank")  # writes go to a user of their own: Alice's rows are the fixture
        created = frank.client.client.schema("public").rpc(
            "create_organization", {"p_name": "Through schema(public)"}).execute().data
        self.assertEqual(database.value("select created_by::text from core.organizations where id = %s::uuid",
                                        (created[0]["id"],)), frank.id)

    def test_another_existing_schema_is_406_pgrst106_and_changes_nothing(self):
        self.assertEqual(database.value("select count(*) from pg_namespace where nspname = 'core'"), 1)
        client = fixture.alice.client
        before = database.fingerprint()
        core = client.client.schema("core")
        for name, get in (("current_user_org_ids", True), ("require_user_id", False)):
            with self.subTest(name):
                with self.assertRaises(APIError) as raised:
                    core.rpc(name, {}, get=get).execute()
                self.assertEqual(client.last.status_code, 406, raised.exception.json())
                self.assertEqual(raised.exception.code, "PGRST106")
        self.assertUnchanged(database, before, "a call into schema core")


class APIKeyTests(ClientTestCase):
    """Supabase's new keys: the bridge is configured with SMTA_SUPABASE_PUBLISHABLE_KEYS (two,
    comma-separated) and SMTA_SUPABASE_SECRET_KEYS; supabase-py sends the key as ``apikey`` and,
    without a session, as the bearer too."""

    def assertLandingPage(self, client):
        """The pending invitation's landing page, read with ``client``, is what the database holds."""
        data = self.served(client, client.rpc("get_invitation_details", {"p_token": fixture.pending["token"]},
                                              get=True)).data
        held = database.rows("select id::text, email, status from core.invitations where id = %s::uuid",
                             (fixture.pending["id"],))
        self.assertEqual([(row["id"], row["email"], row["status"]) for row in data], held)

    def test_a_publishable_key_alone_is_the_anon_role(self):
        anonymous = Client(PUBLISHABLE_KEY)
        self.assertLandingPage(anonymous)
        self.assertEqual(anonymous.last.request.headers["authorization"], f"Bearer {PUBLISHABLE_KEY}")
        before = database.fingerprint()
        # anon may not execute create_organization: refused before the database, 401 42501.
        self.refused(anonymous, anonymous.rpc("create_organization", {"p_name": "By anon"}), 401, "42501")
        self.refused(anonymous, anonymous.rpc("list_my_organizations"), 401, "42501")
        self.assertUnchanged(database, before, "calls with a publishable key alone")

    def test_a_user_session_beside_a_publishable_key_is_that_user(self):
        carol = User("carol", key=PUBLISHABLE_KEY)
        created = self.served(carol.client, carol.rpc("create_organization", {"p_name": "Published"})).data
        self.assertEqual(carol.client.last.request.headers["apikey"], PUBLISHABLE_KEY)
        self.assertEqual(carol.client.last.request.headers["authorization"], f"Bearer {carol.token}")
        self.assertEqual(database.rows(
            "select o.name, o.created_by::text, m.user_id::text, m.is_super_admin from core.organizations o"
            " join core.memberships m on m.organization_id = o.id where o.id = %s::uuid", (created[0]["id"],)),
            [("Published", carol.id, carol.id, True)])
        mine = self.served(carol.client, carol.rpc("list_my_organizations")).data
        self.assertEqual([row["id"] for row in mine], [created[0]["id"]])

    def test_the_second_configured_publishable_key_works_too(self):
        # Both keys of SMTA_SUPABASE_PUBLISHABLE_KEYS are accepted (a rotation keeps the old one).
        second = bridge.settings["SMTA_SUPABASE_PUBLISHABLE_KEYS"].split(",")[1]
        self.assertLandingPage(Client(second))

    def test_a_secret_key_is_the_service_role(self):
        service = Client(SECRET_KEY)
        self.assertLandingPage(service)
        before = database.fingerprint()
        # service_role may execute list_my_organizations (it holds app_user), so the call reaches
        # the function, which finds no user: its own 42501, answered 403 as PostgREST answers a
        # privilege error for an authenticated role (anon gets 401 before the database).
        error = self.refused(service, service.rpc("list_my_organizations"), 403, "42501")
        self.assertEqual(error.message, "Authentication required")
        self.assertUnchanged(database, before, "a call with the secret key")

    def test_a_secret_key_sent_by_a_browser_is_401_as_supabase_refuses_it(self):
        # Supabase blocks secret keys in requests that come from a browser (its API-keys docs:
        # "Browser requests using secret keys are blocked", matched on the User-Agent), so a
        # key leaked into a web app cannot be used from pages. The request is Chromium's fetch.
        browser = {
            "apikey": SECRET_KEY, "Authorization": f"Bearer {SECRET_KEY}",
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                          "Chrome/156.0.0.0 Safari/537.36",
            "Origin": "https://app.example.com", "Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors",
            "Sec-Fetch-Dest": "empty",
        }
        before = database.fingerprint()
        reply = call(bridge.url, "GET", f"/rest/v1/rpc/get_invitation_details?p_token={fixture.pending['token']}",
                     None, browser)
        self.assertPostgrestError(reply, 401)
        self.assertNotIn(SECRET_KEY.encode(), reply.body)
        self.assertUnchanged(database, before, "a secret key from a browser")

    def test_an_unconfigured_sb_key_is_401_and_changes_nothing(self):
        before = database.fingerprint()
        for label, key in (("publishable", UNCONFIGURED_PUBLISHABLE_KEY), ("secret", UNCONFIGURED_SECRET_KEY)):
            with self.subTest(label):
                stranger = Client(key)
                self.refused(stranger, stranger.rpc("get_invitation_details", {"p_token": fixture.pending["token"]},
                                                    get=True), 401)
                self.assertNotIn(key, stranger.last.text)
        with self.subTest("an unconfigured publishable key beside a valid user session"):
            # Supabase checks `apikey` before the session: an unknown key is refused whatever follows.
            dave = User("dave", key=UNCONFIGURED_PUBLISHABLE_KEY)
            self.refused(dave.client, dave.rpc("create_organization", {"p_name": "Unknown key"}), 401)
        self.assertUnchanged(database, before, "calls with unconfigured keys")


class ExpiryTests(ClientTestCase):
    def test_an_expired_token_is_401_pgrst303_jwt_expired_and_changes_nothing(self):
        erin = User("erin")
        expired = tokens.expired(erin.id, erin.email)
        client = Client(tokens.api_key("anon"), headers={"Authorization": f"Bearer {expired}"})
        before = database.fingerprint()
        for name, get in (("create_organization", False), ("list_my_organizations", True)):
            with self.subTest(name):
                params = {"p_name": "Expired"} if name == "create_organization" else {}
                error = self.refused(client, client.rpc(name, params, get=get), 401, "PGRST303")
                self.assertEqual(error.message, "JWT expired")
                challenge = client.last.headers.get("www-authenticate", "")
                self.assertTrue(challenge.startswith('Bearer error="invalid_token"'), challenge)
        self.assertUnchanged(database, before, "calls with an expired token")


# ---------------------------------------------------------------------------------------------
# Server-Timing
# ---------------------------------------------------------------------------------------------

class ServerTimingTests(ClientTestCase):
    def test_every_answer_carries_a_server_timing_header(self):
        alice = fixture.alice
        requests = {
            "200 POST": ("POST", "/rest/v1/rpc/list_my_organizations", {}, alice.headers()),
            "200 GET": ("GET", "/rest/v1/rpc/list_my_organizations", None, alice.headers()),
            "200 HEAD": ("HEAD", "/rest/v1/rpc/list_my_organizations", None, alice.headers()),
            "200 /rpc": ("POST", "/rpc/list_my_organizations", {}, alice.headers()),
            "health": ("GET", "/health", None, {}),
            "401": ("POST", "/rest/v1/rpc/create_organization", {"p_name": "x"}, {"Authorization": "Bearer nope"}),
            "404": ("POST", "/rest/v1/rpc/no_such_function", {}, alice.headers()),
            "400": ("POST", "/rest/v1/rpc/create_organization", b"{", alice.headers()),
            "unknown route": ("GET", "/no/such/route", None, {}),
        }
        for case, (method, path, body, headers) in requests.items():
            with self.subTest(case):
                reply = call(bridge.url, method, path, body, headers)
                timing = reply.headers.get("server-timing")
                self.assertIsNotNone(timing, f"{method} {path} answered {reply.status} without Server-Timing")
                self.assertRegex(timing, SERVER_TIMING)
                self.assertRegex(timing, r"dur=\d+(\.\d+)?", "a metric with its duration")


if __name__ == "__main__":
    main()
