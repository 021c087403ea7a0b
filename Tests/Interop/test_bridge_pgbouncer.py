"""``smta serve``, ``smta migrate`` and ``smta doctor`` through PgBouncer in transaction mode.

PgBouncer 1.18 (Debian's) with ``pool_mode = transaction`` and ``default_pool_size = 2`` stands
between the bridge and PostgreSQL: every transaction may run on another server session, PgBouncer
refuses ``statement_timeout`` as a start-up parameter and keeps no prepared statement from one
transaction to the next. Checked here, with psycopg reading PostgreSQL directly:

- two users' calls, interleaved 1,000 times over the two server sessions, each answered with that
  user's organization only;
- a call past ``statement_timeout`` is cancelled by PostgreSQL (504 ``57014``) and applies nothing;
- without ``transaction_pooling`` the bridge cannot open a connection through PgBouncer (503);
- a statement prepared through PgBouncer collides with the next client's (measured with psycopg);
  the bridge prepares its statement straight to PostgreSQL and not through PgBouncer;
- LISTEN goes to ``direct_database_url``; without it the bridge says that it does not listen, and
  still finds a new function;
- ``smta migrate`` twice in a row, and twice at once, through PgBouncer; ``smta doctor`` through
  PgBouncer says what it says straight to PostgreSQL.

Needs SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (a database migrated with the core and Supabase
migrations), SMTA_INTEROP_PGBOUNCER_URL (the same database through PgBouncer) and
SMTA_INTEROP_PGBOUNCER_EMPTY (a JSON list of two empty databases, each ``{"direct": …, "pooled":
…}``).
"""

import concurrent.futures
import json
import re
import secrets
import signal
import subprocess
import time
import uuid

import psycopg

from bridge_common import (
    BINARY, DATABASE_URL, Bridge, BridgeTestCase, Database, SlowInserts, StatementTimeoutChecks, SupabaseTokens, call,
    main, require_environment, stop_cleanly)

PGBOUNCER_URL = "SMTA_INTEROP_PGBOUNCER_URL"
PGBOUNCER_EMPTY = "SMTA_INTEROP_PGBOUNCER_EMPTY"
ROUNDS = 1000

environment = None
tokens = SupabaseTokens(secrets.token_urlsafe(32))


def setUpModule():
    global environment
    environment = require_environment(BINARY, DATABASE_URL, PGBOUNCER_URL, PGBOUNCER_EMPTY)


def tearDownModule():
    stop_cleanly(Bridge.started, tokens.minted, expect_running=False)


def pooled_bridge(name, **settings):
    """A bridge whose database URL is PgBouncer's, started and healthy."""
    values = {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": environment[PGBOUNCER_URL],
        "SMTA_TRANSACTION_POOLING": "true",
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_POOL_SIZE": "8",
    }
    values.update(settings)
    bridge = Bridge(name, values).start()
    bridge.wait_for_health(200)
    return bridge


class User:
    def __init__(self, name):
        self.id = str(uuid.uuid4())
        self.headers = {"Authorization": f"Bearer {tokens.user(self.id, f'{name}-{self.id[:8]}@example.com')}"}


class IdentityTests(BridgeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.bridge = pooled_bridge("pgbouncer", SMTA_DIRECT_DATABASE_URL=environment[DATABASE_URL])

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)

    def server_sessions(self):
        """The bridge's server sessions in PostgreSQL (PgBouncer passes application_name on)."""
        return self.database.value(
            "select count(*) from pg_stat_activity where datname = current_database() and application_name = 'smta-bridge'")

    def test_two_users_interleaved_1000_times_over_two_server_sessions_each_see_only_their_own(self):
        alice, bob = User("alice"), User("bob")
        own = {}
        for user, name in ((alice, "Alice's"), (bob, "Bob's")):
            reply = call(self.bridge.url, "POST", "/rpc/create_organization", {"p_name": name}, user.headers)
            self.assertEqual(reply.status, 200, reply)
            own[user.id] = reply.json()[0]["id"]
        other = {alice.id: own[bob.id], bob.id: own[alice.id]}

        def ask(round_number, user):
            # GET runs the read path, POST the write path (committed, then confirmed).
            method = "GET" if round_number % 2 else "POST"
            reply = call(self.bridge.url, method, "/rpc/list_my_organizations", None, user.headers, timeout=30)
            return user, reply

        sessions = []
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            futures = [pool.submit(ask, n, user) for n in range(ROUNDS) for user in (alice, bob)]
            while not all(future.done() for future in futures):
                sessions.append(self.server_sessions())
                time.sleep(0.05)
            answers = [future.result() for future in futures]
        self.assertEqual(len(answers), 2 * ROUNDS)
        for user, reply in answers:
            self.assertEqual(reply.status, 200, reply)
            ids = [row["id"] for row in reply.json()]
            self.assertNotIn(other[user.id], ids, "one user's call answered with the other's organization")
            self.assertEqual(ids, [own[user.id]], reply)
        # Every call went through PgBouncer's two server sessions.
        self.assertLessEqual(max(sessions), 2, sessions)
        self.assertGreaterEqual(max(sessions), 1, sessions)

    def test_the_catalog_listener_holds_its_session_straight_to_postgresql(self):
        listeners = self.database.rows(
            "select query from pg_stat_activity where datname = current_database() "
            "and application_name = 'smta-bridge-listener'")
        self.assertTrue(listeners and all(query.lower().startswith("listen") for (query,) in listeners), listeners)
        self.assertNotIn("does not listen", self.bridge.log_text())


class StatementTimeoutTests(StatementTimeoutChecks, BridgeTestCase):
    """The bridge's statement_timeout holds through PgBouncer, which refuses it at start-up (the
    checks are :class:`bridge_common.StatementTimeoutChecks`')."""

    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.slow_inserts = SlowInserts(environment[DATABASE_URL], "interop_pgbouncer")
        cls.slow_inserts.install()
        cls.bridge = pooled_bridge("pgbouncer-timeout", SMTA_STATEMENT_TIMEOUT="0.5", SMTA_REQUEST_TIMEOUT="5")

    @classmethod
    def tearDownClass(cls):
        cls.bridge.stop(signal.SIGTERM)
        cls.slow_inserts.remove()

    def create(self, name, key=None):
        headers = dict(User("timeout").headers)
        if key is not None:
            headers["Idempotency-Key"] = key
        started = time.monotonic()
        reply = call(self.bridge.url, "POST", "/rpc/create_organization", {"p_name": name}, headers)
        return reply, time.monotonic() - started


class PreparedStatementTests(BridgeTestCase):
    PROBE = ("create function public.pgbouncer_prepared() returns text[] language sql stable as "
             "$$ select coalesce(array_agg(name::text order by name), '{}') from pg_catalog.pg_prepared_statements $$")

    @classmethod
    def setUpClass(cls):
        cls.database = Database(environment[DATABASE_URL])
        cls.database.execute(cls.PROBE)
        cls.database.execute("grant execute on function public.pgbouncer_prepared() to authenticated")

    @classmethod
    def tearDownClass(cls):
        cls.database.execute("drop function public.pgbouncer_prepared()")

    def test_measured_a_statement_prepared_through_pgbouncer_collides_with_the_next_clients(self):
        failures = []
        with psycopg.connect(environment[PGBOUNCER_URL], autocommit=True, prepare_threshold=0) as one, \
                psycopg.connect(environment[PGBOUNCER_URL], autocommit=True, prepare_threshold=0) as two:
            for connection in (one, two) * 5:
                try:
                    connection.execute("select 1 + %s::int", (1,)).fetchall()
                except psycopg.Error as error:
                    failures.append(error.sqlstate)
        self.assertTrue(failures, "PgBouncer 1.18 kept prepared statements apart: measure again")
        self.assertLessEqual(set(failures), {"42P05", "26000"}, failures)

    def prepared_in_the_bridges_session(self, bridge):
        user = User("prepared")
        reply = call(bridge.url, "GET", "/rpc/list_my_organizations", None, user.headers)
        self.assertEqual(reply.status, 200, reply)
        reply = call(bridge.url, "GET", "/rpc/pgbouncer_prepared", None, user.headers)
        self.assertEqual(reply.status, 200, reply)
        return reply.json()

    def test_the_bridge_prepares_its_statement_straight_to_postgresql_and_not_through_pgbouncer(self):
        direct = Bridge("direct-prepared", {
            "SMTA_ADAPTER": "supabase", "SMTA_DATABASE_URL": environment[DATABASE_URL], "SMTA_JWT_SECRET": tokens.secret,
            "SMTA_POOL_SIZE": "1"}).start()
        try:
            direct.wait_for_health(200)
            self.assertIn("smta_gate_call", self.prepared_in_the_bridges_session(direct))
        finally:
            direct.stop(signal.SIGTERM)
        pooled = pooled_bridge("pgbouncer-prepared", SMTA_POOL_SIZE="1")
        try:
            for _ in range(5):
                self.assertNotIn("smta_gate_call", self.prepared_in_the_bridges_session(pooled))
        finally:
            pooled.stop(signal.SIGTERM)


class SessionWorkTests(BridgeTestCase):
    def test_without_transaction_pooling_pgbouncer_refuses_the_bridges_connections(self):
        database = Database(environment[DATABASE_URL])
        before = database.fingerprint()
        bridge = Bridge("pgbouncer-unconfigured", {
            "SMTA_ADAPTER": "supabase", "SMTA_DATABASE_URL": environment[PGBOUNCER_URL], "SMTA_JWT_SECRET": tokens.secret,
        }).start()
        try:
            bridge.wait_for_health(503)
            reply = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": "Refused"}, User("refused").headers)
            self.assertUnavailable(reply)
        finally:
            bridge.stop(signal.SIGTERM)
        self.assertUnchanged(database, before, "calls through PgBouncer without transaction_pooling")

    def test_without_a_direct_url_the_bridge_says_it_does_not_listen_and_still_finds_new_functions(self):
        database = Database(environment[DATABASE_URL])
        bridge = pooled_bridge("pgbouncer-no-direct")
        try:
            self.assertIn("does not listen for them", bridge.log_text())
            user = User("probe")
            reply = call(bridge.url, "POST", "/rpc/list_my_organizations", None, user.headers)
            self.assertEqual(reply.status, 200, reply)
            database.execute(
                "create function public.pgbouncer_probe() returns text language sql stable as $$ select 'found' $$")
            try:
                # An unknown name reloads the catalog at most once a second; well before the
                # 10-second refresh.
                deadline = time.monotonic() + 5
                while True:
                    reply = call(bridge.url, "GET", "/rpc/pgbouncer_probe", None, user.headers)
                    if reply.status == 200 or time.monotonic() > deadline:
                        break
                    time.sleep(0.25)
                self.assertEqual(reply.status, 200, reply)
                self.assertEqual(reply.json(), "found")
            finally:
                database.execute("drop function public.pgbouncer_probe()")
        finally:
            bridge.stop(signal.SIGTERM)


APPLIED = re.compile(r"^\s+applied\s+(\S+) in ", re.MULTILINE)


def smta(*arguments, timeout=180):
    """Runs the smta executable in a clean environment; returns (status, output)."""
    result = subprocess.run(
        [environment[BINARY], *arguments], capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
        env={"PATH": "/usr/bin:/bin"})
    return result.returncode, result.stdout + result.stderr


class CommandTests(BridgeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.empty = json.loads(environment[PGBOUNCER_EMPTY])

    def advisory_locks(self, database):
        return database.value(
            "select count(*) from pg_locks where locktype = 'advisory' "
            "and database = (select oid from pg_database where datname = current_database())")

    def test_migrate_twice_in_a_row_through_pgbouncer(self):
        target = self.empty[0]
        database = Database(target["direct"])
        status, first = smta("migrate", "--adapter", "supabase", "--database-url", target["pooled"])
        self.assertEqual(status, 0, first)
        applied = APPLIED.findall(first)
        self.assertGreater(len(applied), 10, first)
        self.assertEqual(self.advisory_locks(database), 0)
        status, second = smta("migrate", "--adapter", "supabase", "--database-url", target["pooled"], timeout=60)
        self.assertEqual(status, 0, second)
        self.assertIn("Up to date: nothing to apply.", second)
        self.assertEqual(database.value("select count(*) from smta.schema_migrations"), len(applied))

    def test_two_migrates_at_once_through_pgbouncer_apply_each_migration_once(self):
        target = self.empty[1]
        database = Database(target["direct"])
        arguments = [environment[BINARY], "migrate", "--adapter", "supabase", "--database-url", target["pooled"]]
        runs = [subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                 stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin"}) for _ in range(2)]
        outputs = [run.communicate(timeout=180)[0] for run in runs]
        self.assertEqual([run.returncode for run in runs], [0, 0], outputs)
        applied = APPLIED.findall(outputs[0]) + APPLIED.findall(outputs[1])
        self.assertEqual(len(applied), len(set(applied)), outputs)
        recorded = [row[0] for row in database.rows("select id from smta.schema_migrations")]
        self.assertEqual(sorted(applied), sorted(recorded))
        self.assertEqual(self.advisory_locks(database), 0)

    def test_doctor_through_pgbouncer_says_what_it_says_straight_to_postgresql(self):
        reports = []
        for url in (environment[DATABASE_URL], environment[PGBOUNCER_URL]):
            status, output = smta("doctor", "--database-url", url, "--json")
            self.assertIn(status, (0, 1), output)
            report = json.loads(output)
            self.assertEqual(report.pop("database"), url)
            reports.append((status, report))
        self.assertEqual(reports[1], reports[0])
        self.assertGreater(reports[0][1]["inspected"]["functions"], 0, reports[0])


if __name__ == "__main__":
    main()
