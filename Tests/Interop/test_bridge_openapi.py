"""The bridge's OpenAPI document (``GET /``, ``GET /rest/v1/``, ``smta openapi``), judged by
independent tools: ``openapi-spec-validator`` validates it, psycopg compares it with what the
database's catalog says each role may execute, and ``schemathesis`` fuzzes every documented
operation against the running bridge, which must never answer with a server error.

Run by ``Tests/BridgeTests/OpenAPIInteropTests.swift`` with ``SMTA_INTEROP_BINARY`` and
``SMTA_INTEROP_DATABASE_URL`` (a database migrated for the Supabase adapter).
"""

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import uuid

from openapi_spec_validator import validate

from bridge_common import (
    BINARY, DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

bridge = None
database = None
tokens = None
user = None


def setUpModule():
    global bridge, database, tokens, user
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    database = Database(url)
    bridge = Bridge("openapi", {
        "SMTA_ADAPTER": "supabase", "SMTA_DATABASE_URL": url, "SMTA_JWT_SECRET": tokens.secret,
    }).start()
    bridge.wait_for_health(200)
    user = str(uuid.uuid4())
    database.rows("insert into core.users_meta (id, email) values (%s, %s) on conflict do nothing returning id",
                  (user, "fuzz@example.com"))


def tearDownModule():
    status = bridge.stop(signal.SIGTERM)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")


def executable_functions(role):
    """The names of the public functions `role` may execute, as the catalog says."""
    return {name for (name,) in database.rows(
        "select distinct p.proname::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
        "where n.nspname = 'public' and p.prokind = 'f' and has_function_privilege(%s, p.oid, 'execute')",
        (role,))}


class DocumentTests(BridgeTestCase):
    def document(self, path, token=None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        reply = call(bridge.url, "GET", path, None, headers)
        self.assertEqual(reply.status, 200, reply)
        self.assertTrue(reply.headers["content-type"].startswith("application/openapi+json"), reply.headers)
        return reply.json()

    def test_the_root_document_validates_and_lists_only_what_anon_may_execute(self):
        document = self.document("/")
        validate(document)
        listed = {path.removeprefix("/rpc/") for path in document["paths"]}
        self.assertEqual(listed, executable_functions("anon"))
        self.assertEqual(listed, {"get_invitation_details"})

    def test_a_signed_in_user_gets_every_function_authenticated_may_execute_with_its_arguments(self):
        document = self.document("/rest/v1/", tokens.user(user, "fuzz@example.com"))
        validate(document)
        self.assertEqual(document["servers"], [{"url": "/rest/v1"}])
        listed = {path.removeprefix("/rpc/") for path in document["paths"]}
        self.assertEqual(listed, executable_functions("authenticated"))
        for name, required, volatile, comment in database.rows(
                "select p.proname::text, "
                "coalesce((select array_agg(a) from unnest(p.proargnames[1:p.pronargs - p.pronargdefaults]) a), '{}'), "
                "p.provolatile = 'v', obj_description(p.oid, 'pg_proc') "
                "from pg_proc p join pg_namespace n on n.oid = p.pronamespace "
                "where n.nspname = 'public' and p.prokind = 'f' and has_function_privilege('authenticated', p.oid, 'execute') "
                "and (select count(*) from pg_proc q where q.proname = p.proname and q.pronamespace = p.pronamespace) = 1"):
            with self.subTest(name):
                item = document["paths"][f"/rpc/{name}"]
                body = item["post"]["requestBody"]["content"]["application/json"]["schema"]
                self.assertEqual(sorted(body.get("required", [])), sorted(required))
                self.assertEqual("get" in item, not volatile, "GET only for STABLE/IMMUTABLE functions")
                self.assertEqual(item["post"]["description"], comment)

    def test_smta_openapi_prints_the_document_the_bridge_serves(self):
        printed = subprocess.run(
            [require_environment(BINARY)[BINARY], "openapi", "--role", "anon"],
            env={"PATH": os.environ.get("PATH", ""), "SMTA_ADAPTER": "supabase",
                 "SMTA_DATABASE_URL": require_environment(DATABASE_URL)[DATABASE_URL]},
            capture_output=True, timeout=30, cwd=bridge.folder)
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertEqual(json.loads(printed.stdout), self.document("/"))

    def test_a_refused_credential_gets_no_document(self):
        reply = call(bridge.url, "GET", "/", None, {"Authorization": "Bearer not-a-token"})
        self.assertPostgrestError(reply, 401, "PGRST301")


class FuzzTests(BridgeTestCase):
    def test_schemathesis_finds_no_server_error_in_any_documented_operation(self):
        # Beside this interpreter first: the virtualenv scripts/test makes need not be on PATH.
        here = os.path.dirname(sys.executable)
        schemathesis = (shutil.which("schemathesis", path=here) or shutil.which("schemathesis")
                        or shutil.which("st"))
        self.assertIsNotNone(schemathesis, "schemathesis is not installed (run the tests with scripts/test, which installs "
                                           "Tests/Interop/requirements.txt into .build/venv)")
        token = tokens.user(user, "fuzz@example.com")
        run = subprocess.run(
            [schemathesis, "run", f"{bridge.url}/", "--checks", "not_a_server_error",
             "--max-examples", "8", "--seed", "20261202", "--request-timeout", "10",
             "--header", f"Authorization: Bearer {token}"],
            capture_output=True, text=True, timeout=600)
        self.assertEqual(run.returncode, 0, run.stdout[-4000:] + run.stderr[-2000:])
        self.assertNotIn("Server error", run.stdout)


if __name__ == "__main__":
    main()
