#!/usr/bin/env python3
"""``smta serve`` with ``read_database_url`` naming a real streaming replica of its database.

The replica (made by ``pg_basebackup -R`` from the program's primary, see
``Tests/BridgeTests/ReplicatedCluster.swift``) is paused with ``pg_wal_replay_pause()`` so that a
row written on the primary is not yet on it: a stranger's GET of a ``STABLE`` function then shows
the replica's older row (the replica served it) while the writer's own GET, within
``replica_lag``, shows the new one (read-your-writes), a POST of the same function shows the new
one (POST goes to the primary), and once the replica is ``max_replica_lag`` behind every GET shows
the new one (the replica is skipped). The gate holds on the replica as on the primary: a
non-member sees nothing and may not name the organization as active (refused by
``core.set_caller`` on the replica), an anonymous caller is refused. A replica that is stopped is skipped
without an error, and used again once back. While the primary is stopped, the replica still
answers a stranger's GET through the gate, and everything else is 503 with nothing written.
``/metrics``, read with the Prometheus client's parser, counts the reads the replica answered and
shows whether it serves and how far behind it is.

Needs SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (the primary's database, migrated for the
Supabase adapter), SMTA_INTEROP_READ_DATABASE_URL (the same database on the replica),
SMTA_INTEROP_PG_CTL, SMTA_INTEROP_PGDATA and SMTA_INTEROP_PG_PORT (the primary's cluster),
SMTA_INTEROP_REPLICA_PGDATA and SMTA_INTEROP_REPLICA_PORT; see bridge_common.py.
"""

import math
import secrets
import signal
import socket
import sys
import time
import uuid

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as missing:
    sys.exit(f"test_bridge_read_replica.py needs prometheus_client (python3 -m pip install prometheus_client): {missing}")

from bridge_common import (
    DATABASE_URL, PG_CTL, PG_PORT, PGDATA, READ_DATABASE_URL, Bridge, BridgeTestCase, Cluster, Database, SupabaseTokens,
    call, main, require_environment, stop_cleanly)

REPLICA_PGDATA = "SMTA_INTEROP_REPLICA_PGDATA"
REPLICA_PORT = "SMTA_INTEROP_REPLICA_PORT"
# Wide enough that the checks made while the replica's replay is paused all end within
# max_replica_lag even on a loaded machine (they are guarded: see the first test).
MAX_REPLICA_LAG = 4
REPLICA_LAG = 5

environment = require_environment(DATABASE_URL, READ_DATABASE_URL, PG_CTL, PGDATA, PG_PORT, REPLICA_PGDATA, REPLICA_PORT)
primary = Database(environment[DATABASE_URL])
replica = Database(environment[READ_DATABASE_URL])
primary_cluster = Cluster(environment[PGDATA], environment[PG_CTL], environment[PG_PORT])
replica_cluster = Cluster(environment[REPLICA_PGDATA], environment[PG_CTL], environment[REPLICA_PORT])
tokens = SupabaseTokens(secrets.token_urlsafe(32))
bridge = None


def setUpModule():
    global bridge
    bridge = Bridge("read-replica", {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": environment[DATABASE_URL],
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_MAX_REPLICA_LAG": str(MAX_REPLICA_LAG),
        "SMTA_REPLICA_LAG": str(REPLICA_LAG),
    }).start()
    bridge.wait_for_health(200)
    wait_for_log("read replica in use", 1)


def tearDownModule():
    replica.execute("select pg_wal_replay_resume()")
    stop_cleanly([bridge], tokens.minted)


def wait_for_log(text, count, timeout=15.0):
    """Waits until the bridge has logged ``text`` at least ``count`` times."""
    deadline = time.monotonic() + timeout
    while bridge.log_text().count(text) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"the bridge did not log {text!r} {count} time(s) within {timeout:.0f} s:\n"
                                 + bridge.log_tail())
        time.sleep(0.05)


def wait_until_replayed(timeout=15.0):
    """Waits until the replica has replayed everything the primary has written so far."""
    target = primary.value("select pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while not replica.value("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)):
        if time.monotonic() > deadline:
            raise AssertionError("the replica did not catch up")
        time.sleep(0.05)


def replica_metrics():
    """The replica's samples in ``/metrics``, by name (its only replica, whatever its label)."""
    reply = call(bridge.url, "GET", "/metrics")
    assert reply.status == 200, reply
    samples = {}
    for family in text_string_to_metric_families(reply.body.decode()):
        for sample in family.samples:
            if sample.name.startswith("smta_replica_"):
                samples[sample.name] = sample.value
    return samples


class User:
    """A Supabase user calling the bridge over raw HTTP."""

    def __init__(self, label):
        self.id = str(uuid.uuid4())
        self.email = f"{label}.{self.id[:8]}@example.com"
        self.token = tokens.user(self.id, self.email)

    def post(self, name, params=None):
        return call(bridge.url, "POST", f"/rpc/{name}", params or {}, {"Authorization": f"Bearer {self.token}"})

    def get(self, name, params=None):
        query = "&".join(f"{key}={value}" for key, value in (params or {}).items())
        return call(bridge.url, "GET", f"/rpc/{name}" + (f"?{query}" if query else ""),
                    headers={"Authorization": f"Bearer {self.token}"})

    def ok(self, reply):
        assert reply.status in (200, 204), reply
        return reply.json() if reply.status == 200 else None


class ReadReplicaTests(BridgeTestCase):
    def setUp(self):
        replica.execute("select pg_wal_replay_resume()")
        # Alice owns an organization Bob belongs to; neither has written within replica_lag.
        self.alice, self.bob, self.carol = User("alice"), User("bob"), User("carol")
        self.organization = self.alice.ok(self.alice.post("create_organization", {"p_name": "Before"}))[0]["id"]
        team = next(role["id"] for role in self.alice.ok(self.alice.post("list_roles", {"p_org_id": self.organization}))
                    if role["name"] == "team")
        invitation = self.alice.ok(self.alice.post("create_invitation", {
            "p_email": self.bob.email, "p_organization_id": self.organization, "p_role_id": team}))[0]
        self.bob.ok(self.bob.post("accept_invitation", {"p_token": invitation["token"]}))
        wait_until_replayed()
        time.sleep(REPLICA_LAG + 0.5)

    def tearDown(self):
        for cluster in (primary_cluster, replica_cluster):
            if not cluster.running:
                cluster.start()
        replica.execute("select pg_wal_replay_resume()")

    def name_seen_by(self, user, method="get"):
        reply = user.get("get_organization", {"p_id": self.organization}) if method == "get" \
            else user.post("get_organization", {"p_id": self.organization})
        rows = user.ok(reply)
        return rows[0]["name"] if rows else None

    def test_a_stranger_reads_the_replica_the_writer_the_primary_and_a_lagging_replica_is_skipped(self):
        self.assertEqual(self.name_seen_by(self.bob), "Before")
        replica.execute("select pg_wal_replay_pause()")
        self.alice.ok(self.alice.post("update_organization", {"p_id": self.organization, "p_name": "After"}))
        written = time.monotonic()
        self.assertEqual(primary.value("select name from core.organizations where id = %s", (self.organization,)), "After")
        self.assertEqual(replica.value("select name from core.organizations where id = %s", (self.organization,)), "Before")

        # Within max_replica_lag: the replica serves Bob's GET, and shows what it holds.
        served = replica_metrics()["smta_replica_reads_total"]
        self.assertEqual(self.name_seen_by(self.bob), "Before", "Bob's GET was not served by the paused replica")
        metrics = replica_metrics()
        self.assertEqual(metrics["smta_replica_reads_total"], served + 1, "the replica's read was not counted")
        self.assertEqual(metrics["smta_replica_up"], 1)
        self.assertLessEqual(metrics["smta_replica_lag_seconds"], MAX_REPLICA_LAG)
        # The writer reads its own write: its reads stay on the primary for replica_lag.
        self.assertEqual(self.name_seen_by(self.alice), "After", "the writer's GET went to the replica")
        # POST always goes to the primary, STABLE function or not.
        self.assertEqual(self.name_seen_by(self.bob, "post"), "After", "a POST went to the replica")
        # The gate runs on the replica as on the primary.
        self.assertEqual(self.carol.ok(self.carol.get("get_organization", {"p_id": self.organization})), [])
        narrowed = call(bridge.url, "GET", "/rpc/list_my_organizations",
                        headers={"Authorization": f"Bearer {self.carol.token}", "X-SMTA-Organization": self.organization})
        self.assertPostgrestError(narrowed, 403, "42501")
        anonymous = call(bridge.url, "GET", f"/rpc/get_organization?p_id={self.organization}")
        self.assertPostgrestError(anonymous, 401, "42501")
        self.assertLess(time.monotonic() - written, MAX_REPLICA_LAG, "the checks above took too long to mean anything")

        # Past max_replica_lag (measured by the next probes), the replica is skipped.
        while self.name_seen_by(self.bob) != "After":
            self.assertLess(time.monotonic() - written, MAX_REPLICA_LAG + 5,
                            "a replica past max_replica_lag still serves GETs")
            time.sleep(0.1)
        # Skipped max_replica_lag after the newest primary position it replayed: a sample taken
        # up to a probe period (and the probe's own time) before the pause, so up to about two
        # seconds before the write.
        self.assertGreaterEqual(time.monotonic() - written, MAX_REPLICA_LAG - 2, "the replica was skipped too early")
        # Skipped as soon as its lag, growing since the last probe, passes the limit; the next
        # probe (a second later at most) finds it behind and says so.
        metrics = replica_metrics()
        self.assertEqual(metrics["smta_replica_up"], 0, "a lagging replica is shown serving")
        self.assertGreater(metrics["smta_replica_lag_seconds"], MAX_REPLICA_LAG)
        wait_for_log("read replica behind max_replica_lag", 1, timeout=5.0)

        in_use = bridge.log_text().count("read replica in use")
        replica.execute("select pg_wal_replay_resume()")
        wait_for_log("read replica in use", in_use + 1)
        self.assertEqual(self.name_seen_by(self.bob), "After")

    def test_a_replica_that_is_down_is_skipped_without_an_error(self):
        unreachable = bridge.log_text().count("read replica unreachable")
        in_use = bridge.log_text().count("read replica in use")
        replica_cluster.stop()
        for turn in range(10):
            self.assertEqual(self.name_seen_by(self.bob), "Before", f"GET {turn} with the replica down")
        wait_for_log("read replica unreachable", unreachable + 1)
        metrics = replica_metrics()
        self.assertEqual(metrics["smta_replica_up"], 0, "an unreachable replica is shown serving")
        self.assertTrue(math.isnan(metrics["smta_replica_lag_seconds"]), "an unreachable replica shows a lag")
        self.alice.ok(self.alice.post("update_organization", {"p_id": self.organization, "p_name": "While down"}))
        self.assertEqual(self.name_seen_by(self.bob), "While down")
        replica_cluster.start()
        wait_for_log("read replica in use", in_use + 1, timeout=30)
        wait_until_replayed()
        for turn in range(5):
            self.assertEqual(self.name_seen_by(self.bob), "While down", f"GET {turn} with the replica back")
        self.assertEqual(replica_metrics()["smta_replica_up"], 1, "the replica back is not shown serving")

    def test_while_the_primary_is_down_the_replica_still_answers_reads_and_nothing_else(self):
        self.alice.ok(self.alice.post("update_organization", {"p_id": self.organization, "p_name": "Last write"}))
        written = time.monotonic()
        wait_until_replayed()
        unreachable = bridge.log_text().count("database unreachable")
        reachable = bridge.log_text().count("database reachable")
        primary_cluster.stop()
        try:
            wait_for_log("database unreachable", unreachable + 1)
            # A stranger's GET: the replica answers, through the gate.
            self.assertEqual(self.name_seen_by(self.bob), "Last write")
            self.assertEqual(self.carol.ok(self.carol.get("get_organization", {"p_id": self.organization})), [])
            anonymous = call(bridge.url, "GET", f"/rpc/get_organization?p_id={self.organization}")
            self.assertPostgrestError(anonymous, 401, "42501")
            # The writer's own reads need the primary, and so does every POST.
            self.assertPostgrestError(self.alice.get("get_organization", {"p_id": self.organization}), 503, "PGRST000")
            self.assertLess(time.monotonic() - written, REPLICA_LAG, "the writer's read came after replica_lag")
            self.assertPostgrestError(self.bob.post("get_organization", {"p_id": self.organization}), 503, "PGRST000")
            refused = self.alice.post("update_organization", {"p_id": self.organization, "p_name": "During the outage"})
            self.assertPostgrestError(refused, 503, "PGRST000")
            self.assertEqual(refused.headers.get("retry-after"), "1")
            self.assertEqual(replica_metrics()["smta_replica_up"], 1, "the replica stopped serving with the primary")
        finally:
            primary_cluster.start()
        wait_for_log("database reachable", reachable + 1, timeout=30)
        self.assertEqual(primary.value("select name from core.organizations where id = %s", (self.organization,)),
                         "Last write", "a write was applied during the outage")
        self.alice.ok(self.alice.post("update_organization", {"p_id": self.organization, "p_name": "After the outage"}))

    def test_a_bridge_that_never_reached_its_primary_uses_no_replica(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            nowhere = probe.getsockname()[1]
        orphan = Bridge("never-primary", {
            "SMTA_ADAPTER": "supabase",
            "SMTA_DATABASE_URL": f"postgres://postgres@127.0.0.1:{nowhere}/smta",
            "SMTA_READ_DATABASE_URL": environment[READ_DATABASE_URL],
            "SMTA_JWT_SECRET": tokens.secret,
            "SMTA_MAX_REPLICA_LAG": str(MAX_REPLICA_LAG),
        }).start()
        try:
            orphan.wait_for_health(503)
            # Several probes' time: the replica answers them, but there is nothing to measure it against.
            time.sleep(3)
            reply = call(orphan.url, "GET", f"/rpc/get_organization?p_id={self.organization}",
                         headers={"Authorization": f"Bearer {self.bob.token}"})
            self.assertPostgrestError(reply, 503, "PGRST000")
            self.assertNotIn("read replica in use", orphan.log_text())
        finally:
            orphan.stop(signal.SIGTERM)


if __name__ == "__main__":
    main()
