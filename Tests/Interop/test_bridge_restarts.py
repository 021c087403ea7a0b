#!/usr/bin/env python3
"""The bridge across restarts: of PostgreSQL under it, and of the bridge itself.

While the database is down or restarting, every call is answered at once with 503, a
``Retry-After`` header and PostgREST's error body (never a hang: every call here has a client
timeout of a few seconds), ``/health`` says 503; once the database is back, calls succeed again
within a bounded time without restarting the bridge — within seconds even after a 45 s outage,
when PostgresNIO's own reconnection backoff would keep the old pool waiting. SIGTERM lets the request in flight finish
and exits 0; a new bridge on the same port serves at once.

Needs a cluster of its own, which this program stops and restarts (never the shared test
cluster): SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (a database of that cluster migrated
with the core and Supabase migrations), SMTA_INTEROP_PGDATA, SMTA_INTEROP_PG_CTL and
SMTA_INTEROP_PG_PORT; see bridge_common.py.
"""

import secrets
import signal
import threading
import time
import uuid

import psycopg

from bridge_common import (
    CALL_TIMEOUT, DATABASE_URL, PG_CTL, PG_PORT, PGDATA, Bridge, BridgeTestCase, Cluster, Database, SupabaseTokens,
    call, main, require_environment)

# How long the bridge may take to serve again once the database is back.
RECOVERY_BOUND = 30.0
# The long outage's length, and how soon after it the bridge must serve.
LONG_OUTAGE = 45.0
LONG_OUTAGE_RECOVERY = 3.0

cluster = None
database = None
tokens = None
database_url = None


def setUpModule():
    global cluster, database, tokens, database_url
    environment = require_environment(DATABASE_URL, PGDATA, PG_CTL, PG_PORT)
    database_url = environment[DATABASE_URL]
    cluster = Cluster(environment[PGDATA], environment[PG_CTL], environment[PG_PORT])
    database = Database(database_url)
    tokens = SupabaseTokens(secrets.token_urlsafe(32))


class RestartTestCase(BridgeTestCase):
    def setUp(self):
        if not cluster.running:
            cluster.start()
        self.bridge = Bridge(self._testMethodName.removeprefix("test_")[:40], {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": database_url,
            "SMTA_JWT_SECRET": tokens.secret,
        })
        self.user = str(uuid.uuid4())
        self.headers = {"Authorization": f"Bearer {tokens.user(self.user, f'{self.user[:8]}@example.com')}"}

    def tearDown(self):
        self.bridge.stop(signal.SIGKILL)
        if not cluster.running:
            cluster.start()

    def rpc(self, name, arguments=None, timeout=CALL_TIMEOUT):
        return call(self.bridge.url, "POST", f"/rpc/{name}", arguments or {}, self.headers, timeout=timeout)

    def list_organizations(self):
        """One call; a call that gets no answer within the client timeout fails the test, and so
        does a bridge that no longer accepts connections."""
        try:
            return self.rpc("list_my_organizations")
        except TimeoutError:
            problem = f"got no answer within {CALL_TIMEOUT:.0f} s (the bridge hangs)"
        except ConnectionError as error:
            state = "running" if self.bridge.running else f"exited with status {self.bridge.process.returncode}"
            problem = f"failed to connect ({error}); the bridge process {state}"
        self.fail(f"POST /rpc/list_my_organizations {problem}")

    def assertServesWithin(self, bound):
        """Calls until one succeeds, within ``bound`` seconds; each answer before is a clean 503."""
        started = time.monotonic()
        while True:
            reply = self.list_organizations()
            if reply.status == 200:
                return
            self.assertUnavailable(reply)
            self.assertLess(time.monotonic() - started, bound, f"no call succeeded within {bound:.0f} s")
            time.sleep(0.2)

    def assertOutageAnswered(self, attempts=3):
        """While the database is down: calls are 503 at once, and /health is 503."""
        for _ in range(attempts):
            self.assertUnavailable(self.list_organizations())
        health = call(self.bridge.url, "GET", "/health")
        self.assertEqual(health.status, 503, health)
        self.assertEqual(health.json(), {"status": "unavailable", "database": "down"})


class DatabaseRestartTests(RestartTestCase):
    def test_a_database_restart_under_traffic_answers_only_200_or_a_clean_503_and_recovers(self):
        self.bridge.start()
        self.bridge.wait_for_health(200)
        self.assertEqual(self.rpc("create_organization", {"p_name": "Busy"}).status, 200)
        pid = self.bridge.process.pid

        replies = []
        stop = threading.Event()

        def traffic():
            while not stop.is_set():
                started = time.monotonic()
                try:
                    replies.append((started, self.rpc("list_my_organizations")))
                except OSError as error:
                    replies.append((started, error))
                time.sleep(0.02)

        workers = [threading.Thread(target=traffic) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            time.sleep(0.5)
            cluster.restart()
            restarted = time.monotonic()
            while time.monotonic() - restarted < RECOVERY_BOUND:
                recent = replies[-8:]
                if len(recent) == 8 and all(started > restarted and getattr(reply, "status", None) == 200
                                            for started, reply in recent):
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            for worker in workers:
                worker.join()

        failures = [(started, reply) for started, reply in replies if isinstance(reply, Exception)]
        self.assertEqual(failures, [], "calls got no answer (timeout or connection error) during the restart")
        for started, reply in replies:
            if reply.status != 200:
                self.assertUnavailable(reply)
        self.assertTrue(any(started > restarted and reply.status == 200 for started, reply in replies),
                        f"no call succeeded within {RECOVERY_BOUND:.0f} s of the restart")
        self.bridge.wait_for_health(200, timeout=RECOVERY_BOUND)
        self.assertEqual((self.bridge.process.pid, self.bridge.running), (pid, True), "the bridge itself restarted")
        print(f"\n  {len(replies)} calls during the restart, "
              f"{sum(1 for _, reply in replies if reply.status == 503)} answered 503", flush=True)

    def test_while_the_database_is_down_calls_get_503_at_once_then_succeed_when_it_returns(self):
        self.bridge.start()
        self.bridge.wait_for_health(200)
        self.assertEqual(self.rpc("create_organization", {"p_name": "Outage"}).status, 200)
        pid = self.bridge.process.pid
        time.sleep(0.5)  # the pool's connections are idle when the database goes away
        cluster.stop()
        with self.subTest("during the outage"):
            self.assertOutageAnswered()
        cluster.start()
        with self.subTest("after the database returns"):
            self.assertServesWithin(RECOVERY_BOUND)
            self.bridge.wait_for_health(200, timeout=RECOVERY_BOUND)
            self.assertEqual([row["name"] for row in self.list_organizations().json()], ["Outage"])
            self.assertEqual((self.bridge.process.pid, self.bridge.running), (pid, True), "the bridge itself restarted")

    def test_after_a_long_outage_the_bridge_serves_within_seconds_of_the_databases_return(self):
        # PostgresNIO's pool retries with a backoff that grows to a minute: after 45 s its next
        # attempt could be 10 s away. The bridge renews the pool when its watch sees the database
        # again, so the return is served at once (measured before the renewal: 4–9 s).
        self.bridge.start()
        self.bridge.wait_for_health(200)
        self.assertEqual(self.list_organizations().status, 200)
        cluster.stop()
        outage_ends = time.monotonic() + LONG_OUTAGE
        with self.subTest("during the outage"):
            while time.monotonic() < outage_ends:
                started = time.monotonic()
                self.assertUnavailable(self.list_organizations())
                self.assertLess(time.monotonic() - started, 1.0, "a call during the outage was not answered at once")
                time.sleep(0.5)
        cluster.start()
        with self.subTest("after the database returns"):
            self.assertServesWithin(LONG_OUTAGE_RECOVERY)

    def test_a_bridge_started_while_the_database_is_down_answers_503_then_serves(self):
        cluster.stop()
        self.bridge.start()
        with self.subTest("before the database is up"):
            self.assertOutageAnswered()
        cluster.start()
        with self.subTest("after the database is up"):
            self.assertServesWithin(RECOVERY_BOUND)
            self.bridge.wait_for_health(200, timeout=RECOVERY_BOUND)


class BridgeRestartTests(RestartTestCase):
    def test_sigterm_finishes_the_request_in_flight_exits_zero_and_a_new_bridge_serves(self):
        self.bridge.start()
        self.bridge.wait_for_health(200)
        organization = self.rpc("create_organization", {"p_name": "Before"}).json()[0]["id"]
        port = self.bridge.port

        # Hold the organization's row so that the rename waits in PostgreSQL, in flight.
        blocker = psycopg.connect(database_url, connect_timeout=5)
        try:
            blocker.execute("select 1 from core.organizations where id = %s for update", (organization,))
            answer = {}

            def rename():
                try:
                    answer["reply"] = self.rpc(
                        "update_organization", {"p_id": organization, "p_name": "After"}, timeout=30)
                except OSError as error:
                    answer["reply"] = error

            renaming = threading.Thread(target=rename)
            renaming.start()
            deadline = time.monotonic() + 10
            # Only the bridge can be waiting for a lock in this program's own cluster.
            while not database.value("select count(*) from pg_stat_activity "
                                     "where datname = current_database() and wait_event_type = 'Lock'"):
                self.assertLess(time.monotonic(), deadline, "the rename never reached PostgreSQL")
                time.sleep(0.05)

            self.bridge.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            self.assertTrue(self.bridge.running, "the bridge exited with a request in flight")
            blocker.commit()
        finally:
            blocker.close()
        released = time.monotonic()
        renaming.join(30)

        reply = answer.get("reply")
        self.assertNotIsInstance(reply, Exception, f"the request in flight at SIGTERM got no answer: {reply!r}")
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual([row["name"] for row in reply.json()], ["After"])
        self.assertEqual(self.bridge.wait(timeout=10), 0, "smta serve's exit status after SIGTERM")
        self.assertLess(time.monotonic() - released, 10)
        self.assertEqual(
            database.value("select name from core.organizations where id = %s::uuid", (organization,)), "After")

        self.bridge.start(port=port)
        self.bridge.wait_for_health(200)
        self.assertEqual([row["name"] for row in self.list_organizations().json()], ["After"])
        self.assertEqual(self.bridge.stop(signal.SIGINT), 0, "smta serve's exit status after SIGINT")

    def hold_organization_and_rename(self, organization, callers):
        """Locks the organization's row, starts ``callers`` renames of it (each waits in
        PostgreSQL, in flight), and returns the lock's connection, the threads and their answers."""
        blocker = psycopg.connect(database_url, connect_timeout=5)
        blocker.execute("select 1 from core.organizations where id = %s for update", (organization,))
        answers = [None] * callers

        def rename(index):
            try:
                answers[index] = self.rpc(
                    "update_organization", {"p_id": organization, "p_name": f"Renamed {index}"}, timeout=30)
            except OSError as error:
                answers[index] = error

        threads = [threading.Thread(target=rename, args=(index,)) for index in range(callers)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while database.value("select count(*) from pg_stat_activity "
                             "where datname = current_database() and wait_event_type = 'Lock'") < min(callers, 16):
            self.assertLess(time.monotonic(), deadline, "the renames never reached PostgreSQL")
            time.sleep(0.05)
        # The pool's 16 connections wait on the lock; the other calls, on loopback, have been
        # read by the bridge by now and wait for a connection.
        time.sleep(0.5)
        return blocker, threads, answers

    def test_sigterm_under_load_answers_every_accepted_request_and_refuses_new_connections(self):
        self.bridge.start()
        self.bridge.wait_for_health(200)
        organization = self.rpc("create_organization", {"p_name": "Loaded"}).json()[0]["id"]
        # 24 calls in flight over a pool of 16: 16 wait on the row lock, 8 for a connection.
        blocker, threads, answers = self.hold_organization_and_rename(organization, 24)
        try:
            self.bridge.send_signal(signal.SIGTERM)
            time.sleep(1.0)
            self.assertTrue(self.bridge.running, "the bridge exited with requests in flight")
            with self.assertRaises(OSError, msg="a new connection was accepted after SIGTERM"):
                call(self.bridge.url, "GET", "/health", timeout=2)
            blocker.commit()
        finally:
            blocker.close()
        for thread in threads:
            thread.join(30)
        failures = [answer for answer in answers if isinstance(answer, Exception) or answer is None]
        self.assertEqual(failures, [], "requests accepted before SIGTERM got no answer")
        self.assertEqual([answer.status for answer in answers], [200] * 24, [answer.body for answer in answers])
        self.assertEqual(self.bridge.wait(timeout=10), 0, "smta serve's exit status after SIGTERM")
        name = database.value("select name from core.organizations where id = %s::uuid", (organization,))
        self.assertIn(name, {f"Renamed {index}" for index in range(24)})

    def test_a_drain_longer_than_drain_timeout_is_cut_short(self):
        self.bridge = Bridge("drain_timeout", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": database_url,
            "SMTA_JWT_SECRET": tokens.secret,
            "SMTA_DRAIN_TIMEOUT": "2",
        })
        self.bridge.start()
        self.bridge.wait_for_health(200)
        organization = self.rpc("create_organization", {"p_name": "Stuck"}).json()[0]["id"]
        blocker, threads, answers = self.hold_organization_and_rename(organization, 2)
        try:
            signalled = time.monotonic()
            self.bridge.send_signal(signal.SIGTERM)
            self.bridge.wait(timeout=15)
            self.assertLess(time.monotonic() - signalled, 6, "the bridge outlived its drain_timeout of 2 s")
        finally:
            blocker.rollback()
            blocker.close()
        for thread in threads:
            thread.join(30)
        # A call cut short may or may not have been applied (PostgreSQL finishes a statement whose
        # client left): what matters is that no answer claimed it was.
        for answer in answers:
            if not isinstance(answer, Exception) and answer is not None:
                self.assertNotEqual(answer.status, 200, "a call cut short by the drain timeout was answered 200")


if __name__ == "__main__":
    main()
