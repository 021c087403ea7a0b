#!/usr/bin/env python3
"""``Idempotency-Key`` through ``smta serve``: writes applied at most once per caller and key.

Raw HTTP with Supabase tokens minted by PyJWT; psycopg reads ``core.organizations`` and
``platform.idempotent_calls`` to show what each call wrote. Covers the same request sent twice
(one row, the same body, the second marked ``Idempotent-Replayed: true``), another request under a
used key (422 ``PT422``, nothing written), the same key from another user (another key), ten
concurrent copies under one key (one row, ten identical answers), keys the bridge refuses (400,
nothing written), a call that fails (its error, no record, the key usable again), reads that
ignore the header, and a record that holds no credential.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import concurrent.futures
import http.client
import secrets
import signal
import uuid

from bridge_common import (
    DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

bridge = None
database = None
tokens = None


def setUpModule():
    global bridge, database, tokens
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    database = Database(url)
    bridge = Bridge("idempotency", {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": url,
        "SMTA_JWT_SECRET": tokens.secret,
    }).start()
    bridge.wait_for_health(200)


def tearDownModule():
    status = bridge.stop(signal.SIGTERM)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    for token in tokens.minted:
        _, payload, signature = token.split(".")
        if payload in log or signature in log:
            raise AssertionError("the bridge's log contains a credential")


class User:
    """A Supabase user with a fresh id and token, calling the bridge over raw HTTP."""

    def __init__(self, label):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)

    def post(self, name, arguments, key=None, method="POST", path=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        return call(bridge.url, method, path or f"/rest/v1/rpc/{name}", arguments if method == "POST" else None, headers)

    def organizations(self, name):
        """The ids of the organizations named ``name`` this user created."""
        return [row[0] for row in database.rows(
            "select id::text from core.organizations where created_by = %s::uuid and name = %s order by id",
            (self.id, name))]


def records(key):
    """platform.idempotent_calls rows under ``key``, any caller: (scope, request_hash, result text)."""
    return database.rows(
        "select scope, request_hash, result::text from platform.idempotent_calls where key = %s order by scope", (key,))


def raw_post(path, headers, body):
    """A POST whose header values are sent as given bytes (http.client would refuse non-Latin-1 text)."""
    host, port = bridge.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        connection.putrequest("POST", path)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class IdempotencyKeyTests(BridgeTestCase):
    def test_the_same_request_twice_under_one_key_creates_one_organization_and_replays_the_answer(self):
        ann = User("ann")
        key = str(uuid.uuid4())
        first = ann.post("create_organization", {"p_name": "Once Ltd"}, key)
        second = ann.post("create_organization", {"p_name": "Once Ltd"}, key)
        self.assertEqual((first.status, second.status), (200, 200), (first, second))
        self.assertNotIn("idempotent-replayed", first.headers)
        self.assertEqual(second.headers.get("idempotent-replayed"), "true", second.headers)
        self.assertEqual(second.json(), first.json())
        self.assertEqual(second.body, first.body)
        self.assertEqual(ann.organizations("Once Ltd"), [first.json()[0]["id"]])
        self.assertEqual(len(records(key)), 1)

    def test_another_request_under_a_used_key_is_422_pt422_and_writes_nothing(self):
        ben = User("ben")
        key = str(uuid.uuid4())
        self.assertEqual(ben.post("create_organization", {"p_name": "First body"}, key).status, 200)
        before = records(key)
        reply = ben.post("create_organization", {"p_name": "Second body"}, key)
        self.assertPostgrestError(reply, 422, "PT422")
        self.assertEqual(ben.organizations("Second body"), [])
        self.assertEqual(len(ben.organizations("First body")), 1)
        self.assertEqual(records(key), before)
        # The same arguments with another result option are another request too.
        reply = ben.post(None, {"p_name": "First body"}, key, path="/rest/v1/rpc/create_organization?select=id")
        self.assertPostgrestError(reply, 422, "PT422")
        self.assertEqual(len(ben.organizations("First body")), 1)

    def test_the_same_key_from_another_user_is_another_key_and_runs_as_that_user(self):
        cid, dee = User("cid"), User("dee")
        key = str(uuid.uuid4())
        mine = cid.post("create_organization", {"p_name": "Shared key"}, key)
        theirs = dee.post("create_organization", {"p_name": "Shared key"}, key)
        self.assertEqual((mine.status, theirs.status), (200, 200), (mine, theirs))
        self.assertNotIn("idempotent-replayed", theirs.headers)
        self.assertNotEqual(mine.json()[0]["id"], theirs.json()[0]["id"])
        self.assertEqual(cid.organizations("Shared key"), [mine.json()[0]["id"]])
        self.assertEqual(dee.organizations("Shared key"), [theirs.json()[0]["id"]])
        owner = database.value(
            "select user_id::text from core.memberships where organization_id = %s::uuid and is_super_admin",
            (theirs.json()[0]["id"],))
        self.assertEqual(owner, dee.id)
        self.assertEqual(len(records(key)), 2)

    def test_ten_concurrent_copies_under_one_key_create_one_organization_and_all_answer_it(self):
        eve = User("eve")
        key = str(uuid.uuid4())
        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            replies = list(pool.map(
                lambda _: eve.post("create_organization", {"p_name": "Concurrent"}, key), range(10)))
        self.assertEqual([reply.status for reply in replies], [200] * 10, replies)
        ids = {reply.json()[0]["id"] for reply in replies}
        self.assertEqual(len(ids), 1, ids)
        self.assertEqual(eve.organizations("Concurrent"), list(ids))
        self.assertEqual(sum(reply.headers.get("idempotent-replayed") == "true" for reply in replies), 9)

    def test_an_empty_over_long_or_non_ascii_key_is_400_and_writes_nothing(self):
        fay = User("fay")
        body = b'{"p_name": "Bad key"}'
        path = "/rest/v1/rpc/create_organization"
        authorization = f"Bearer {fay.token}".encode("ascii")
        keys = {
            "empty": b"",
            "300 characters": b"k" * 300,
            "non-ASCII": "cl\u00e9-\u00fc".encode("utf-8"),
            "inner space": b"two words",
        }
        for label, key in keys.items():
            with self.subTest(label):
                status, answer = raw_post(path, {"Authorization": authorization, "Idempotency-Key": key}, body)
                self.assertEqual(status, 400, answer)
        self.assertEqual(fay.organizations("Bad key"), [])
        self.assertEqual(database.value(
            "select count(*) from platform.idempotent_calls where scope like %s", (f"%{fay.id}",)), 0)

    def test_a_call_that_fails_records_nothing_and_its_key_may_be_sent_again(self):
        gus = User("gus")
        key = str(uuid.uuid4())
        refused = gus.post("create_organization", {"p_name": "   "}, key)
        self.assertPostgrestError(refused, 400, "22023")
        self.assertEqual(records(key), [])
        retried = gus.post("create_organization", {"p_name": "After failure"}, key)
        self.assertEqual(retried.status, 200, retried)
        self.assertNotIn("idempotent-replayed", retried.headers)
        self.assertEqual(gus.organizations("After failure"), [retried.json()[0]["id"]])
        self.assertEqual(len(records(key)), 1)

    def test_get_and_stable_functions_ignore_the_header(self):
        hal = User("hal")
        self.assertEqual(hal.post("create_organization", {"p_name": "Readable"}).status, 200)
        key = str(uuid.uuid4())
        for method in ("GET", "POST"):
            with self.subTest(method):
                reply = hal.post("list_my_organizations", {}, key, method=method)
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual([row["name"] for row in reply.json()], ["Readable"])
                self.assertNotIn("idempotent-replayed", reply.headers)
        self.assertEqual(records(key), [])
        # So a read under a key, then a write under it, is the write's first use.
        self.assertEqual(hal.post("create_organization", {"p_name": "Written"}, key).status, 200)
        self.assertEqual(len(records(key)), 1)

    def test_the_record_holds_the_caller_and_the_result_but_no_credential(self):
        ivy = User("ivy")
        key = str(uuid.uuid4())
        reply = ivy.post("create_organization", {"p_name": "Recorded"}, key)
        self.assertEqual(reply.status, 200, reply)
        [(scope, request_hash, result)] = records(key)
        self.assertEqual(scope, f"authenticated:{ivy.id}")
        self.assertRegex(request_hash, r"^[0-9a-f]{64}$")
        # The statement's whole result (rows, and the counts of a paged call), which a replay shapes again.
        self.assertIn(reply.json()[0]["id"], result)
        _, payload, signature = ivy.token.split(".")
        text = database.value(
            "select row_to_json(c)::text from platform.idempotent_calls c where key = %s", (key,))
        for part in (ivy.token, payload, signature, ivy.email):
            self.assertNotIn(part, text)


if __name__ == "__main__":
    main()
