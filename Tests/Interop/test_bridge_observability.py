#!/usr/bin/env python3
"""What the bridge tells operators, and how it treats clients that misbehave at the HTTP level.

``/metrics`` is scraped and parsed with the real Prometheus client's parser: counters move by
exactly the calls made (a 200, a 401 counted under its refusal reason, a 404 for a made-up
function counted under ``unknown``, never under its name), the latency histogram counts every
call. ``/live`` and ``/ready`` answer as PostgREST's admin server does (ready is 503 while the
database is stopped, 200 once it is back), on the main port and on ``admin_port``. With
``log_format: json`` every log line is a JSON object, each request has one line with its id,
status, duration and function, and no credential is ever logged. A 40 KB header section gets a
431 in PostgREST's error shape; a client sending its header a byte a second is closed after
``header_timeout`` while a normal client keeps being served; 200 idle keep-alive connections are
closed after ``idle_timeout`` and the bridge's file descriptors return to where they were.

Needs a cluster of its own, which this program stops and starts (never the shared test
cluster): SMTA_INTEROP_BINARY, SMTA_INTEROP_DATABASE_URL (a database of that cluster migrated
with the core and Supabase migrations), SMTA_INTEROP_PGDATA, SMTA_INTEROP_PG_CTL and
SMTA_INTEROP_PG_PORT; see bridge_common.py.
"""

import json
import os
import secrets
import socket
import sys
import threading
import time
import uuid

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as missing:
    sys.exit(f"test_bridge_observability.py needs prometheus_client (python3 -m pip install prometheus_client): {missing}")

from bridge_common import (
    DATABASE_URL, PG_CTL, PG_PORT, PGDATA, Bridge, BridgeTestCase, Cluster, SupabaseTokens, call, main,
    require_environment)

HEADER_TIMEOUT = 2.0
IDLE_TIMEOUT = 4.0
POOL_SIZE = 7
IDLE_CONNECTIONS = 200

cluster = None
tokens = None
bridge = None
admin_port = None


def free_port():
    """A port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def bridge_settings(database_url, **overrides):
    settings = {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": database_url,
        "SMTA_JWT_SECRET": tokens.secret,
    }
    settings.update(overrides)
    return settings


def setUpModule():
    global cluster, tokens, bridge, admin_port
    environment = require_environment(DATABASE_URL, PGDATA, PG_CTL, PG_PORT)
    cluster = Cluster(environment[PGDATA], environment[PG_CTL], environment[PG_PORT])
    if not cluster.running:
        cluster.start()
    tokens = SupabaseTokens(secrets.token_urlsafe(32))
    admin_port = free_port()
    bridge = Bridge("observability", bridge_settings(
        environment[DATABASE_URL],
        SMTA_ADMIN_PORT=str(admin_port), SMTA_LOG_FORMAT="json", SMTA_POOL_SIZE=str(POOL_SIZE),
        SMTA_HEADER_TIMEOUT=str(HEADER_TIMEOUT), SMTA_IDLE_TIMEOUT=str(IDLE_TIMEOUT))).start()
    bridge.wait_for_health(200)
    wait_for(lambda: call(bridge.url, "GET", "/ready").status == 200, 10, "GET /ready never answered 200")


def tearDownModule():
    if not cluster.running:
        cluster.start()


def wait_for(condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(message)


def scrape(base_url):
    """``GET /metrics`` parsed by prometheus_client: {(sample name, frozenset of labels): value}."""
    reply = call(base_url, "GET", "/metrics")
    assert reply.status == 200, reply
    assert reply.headers["content-type"].startswith("text/plain"), reply.headers
    samples = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def sample(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def raw_exchange(request, timeout=5.0):
    """Sends ``request`` bytes on a new connection and reads until the server closes it."""
    with socket.create_connection(("127.0.0.1", bridge.port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                return received
            received += chunk


def open_file_descriptors():
    return len(os.listdir(f"/proc/{bridge.process.pid}/fd"))


class ObservabilityTests(BridgeTestCase):
    def setUp(self):
        self.user = str(uuid.uuid4())
        self.email = f"{self.user[:8]}@example.com"
        self.token = tokens.user(self.user, self.email)

    def rpc(self, name, token, base_url=None):
        return call(base_url or bridge.url, "POST", f"/rpc/{name}", {}, {"Authorization": f"Bearer {token}"})

    def test_1_counters_and_the_histogram_move_by_exactly_the_calls_made(self):
        before = scrape(bridge.url)
        made_up = f"no_such_function_{secrets.token_hex(4)}"
        self.assertEqual(self.rpc("list_my_organizations", self.token).status, 200)
        self.assertPostgrestError(self.rpc("list_my_organizations", tokens.expired(self.user, self.email)), 401, "PGRST303")
        self.assertPostgrestError(self.rpc(made_up, self.token), 404, "PGRST202")
        after = scrape(bridge.url)

        def moved(name, **labels):
            return sample(after, name, **labels) - sample(before, name, **labels)

        requests = "smta_rpc_requests_total"
        self.assertEqual(moved(requests, function="list_my_organizations", status="200", adapter="supabase"), 1)
        self.assertEqual(moved(requests, function="list_my_organizations", status="401", adapter="supabase"), 1)
        self.assertEqual(moved(requests, function="unknown", status="404", adapter="supabase"), 1)
        self.assertFalse([labels for _, labels in after if made_up in str(labels)],
                         "a made-up function name became a label value")
        self.assertEqual(moved("smta_credential_refusals_total", reason="expired"), 1)
        self.assertEqual(sum(moved(name, **dict(labels)) for name, labels in after if name == "smta_credential_refusals_total"), 1)

        latency = "smta_rpc_request_duration_seconds"
        self.assertEqual(moved(f"{latency}_count", function="list_my_organizations"), 2)
        self.assertEqual(moved(f"{latency}_count", function="unknown"), 1)
        self.assertGreater(moved(f"{latency}_sum", function="list_my_organizations"), 0)
        buckets = sorted((float(dict(labels)["le"]), value) for (name, labels), value in after.items()
                         if name == f"{latency}_bucket" and dict(labels)["function"] == "list_my_organizations")
        self.assertEqual([value for _, value in buckets], sorted(value for _, value in buckets), "buckets are cumulative")
        self.assertEqual(buckets[-1], (float("inf"), sample(after, f"{latency}_count", function="list_my_organizations")))

        self.assertEqual(sample(after, "smta_pool_connections_max"), POOL_SIZE)
        self.assertEqual(sample(after, "smta_calls_in_flight"), 0)
        self.assertEqual(sample(after, "smta_calls_waiting"), 0)
        self.assertEqual(sample(after, "smta_database_up"), 1)

    def test_2_live_ready_and_metrics_answer_on_the_main_port_and_the_admin_port(self):
        admin = f"http://127.0.0.1:{admin_port}"
        for base_url in (bridge.url, admin):
            for path in ("/live", "/ready"):
                for method in ("GET", "HEAD"):
                    with self.subTest(base_url=base_url, path=path, method=method):
                        reply = call(base_url, method, path)
                        self.assertEqual((reply.status, reply.body), (200, b""), reply)
            with self.subTest(base_url=base_url, path="/metrics"):
                self.assertEqual(sample(scrape(base_url), "smta_database_up"), 1)
        self.assertEqual(call(admin, "POST", "/rpc/list_my_organizations", {}).status, 404,
                         "the admin port serves the probes and metrics only")

    def test_3_json_log_has_one_line_per_request_with_its_id_and_never_a_credential(self):
        expired = tokens.expired(self.user, self.email)
        replies = {
            "ok": self.rpc("list_my_organizations", self.token),
            "refused": self.rpc("list_my_organizations", expired),
            "health": call(bridge.url, "GET", "/health"),
        }
        time.sleep(0.2)
        lines = [line for line in bridge.log_text().splitlines() if line.strip()]
        records = []
        for line in lines:
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                self.fail(f"a log line is not JSON: {line!r}")
        for record in records:
            self.assertLessEqual({"time", "level", "logger", "message"}, set(record), record)
        by_id = {}
        for record in records:
            if record["message"] == "request":
                by_id.setdefault(record["request_id"], []).append(record)
        for what, reply in replies.items():
            with self.subTest(what):
                request_id = reply.headers["x-request-id"]
                self.assertEqual(len(by_id.get(request_id, [])), 1, f"request lines for {request_id}")
                record = by_id[request_id][0]
                self.assertEqual(record["status"], reply.status)
                self.assertIsInstance(record["duration_ms"], (int, float))
                self.assertGreaterEqual(record["duration_ms"], 0)
                self.assertIn(record["method"], ("GET", "POST"))
                if what == "health":
                    self.assertEqual(record["path"], "/health")
                    self.assertNotIn("function", record)
                else:
                    self.assertEqual(record["function"], "list_my_organizations")
                    self.assertEqual(record["path"], "/rpc/list_my_organizations")
                if what == "refused":
                    self.assertEqual(record["refusal"], "expired")
                else:
                    self.assertNotIn("refusal", record)
        log = bridge.log_text()
        for token in tokens.minted:
            _, payload, signature = token.split(".")
            self.assertNotIn(payload, log, "the log contains a credential")
            self.assertNotIn(signature, log, "the log contains a credential")
        self.assertNotIn(tokens.secret, log)

    def test_4_an_oversized_header_section_gets_431_in_postgrests_shape(self):
        request = (b"GET /rpc/list_my_organizations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"X-Padding: " + b"a" * 40 * 1024 + b"\r\n\r\n")
        received = raw_exchange(request)
        head, _, body = received.partition(b"\r\n\r\n")
        status_line, *fields = head.decode("latin-1").split("\r\n")
        self.assertTrue(status_line.startswith("HTTP/1.1 431"), status_line)
        headers = {name.lower(): value.strip() for name, value in (field.split(":", 1) for field in fields)}
        self.assertTrue(headers["content-type"].startswith("application/json"), headers)
        self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(int(headers["content-length"]), len(body))
        error = json.loads(body)
        self.assertEqual(set(error), {"code", "message", "details", "hint"}, error)
        self.assertEqual(call(bridge.url, "GET", "/live").status, 200, "the bridge still serves")

    def test_5_a_slow_header_is_closed_after_header_timeout_while_a_normal_client_is_served(self):
        closed = {}

        def slowloris():
            with socket.create_connection(("127.0.0.1", bridge.port), timeout=HEADER_TIMEOUT + 10) as connection:
                started = time.monotonic()
                connection.sendall(b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                connection.settimeout(1.0)
                received = b""
                while time.monotonic() - started < HEADER_TIMEOUT + 10:
                    try:
                        connection.sendall(b"a")
                        chunk = connection.recv(1024)
                        if not chunk:
                            break
                        received += chunk
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                closed.update(after=time.monotonic() - started, received=received)

        slow = threading.Thread(target=slowloris)
        slow.start()
        served = []
        # A normal keep-alive client, idle between requests longer than header_timeout: the header
        # clock runs only while a request's header is being read.
        with socket.create_connection(("127.0.0.1", bridge.port), timeout=5) as normal:
            while slow.is_alive():
                normal.sendall(b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                served.append(normal.recv(4096).split(b"\r\n", 1)[0])
                time.sleep(0.25)
            time.sleep(HEADER_TIMEOUT + 0.5)
            normal.sendall(b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            served.append(normal.recv(4096).split(b"\r\n", 1)[0])
        slow.join()
        self.assertEqual(closed["received"], b"", "the slow client got an answer")
        self.assertGreater(closed["after"], HEADER_TIMEOUT - 0.5)
        self.assertLess(closed["after"], HEADER_TIMEOUT + 1.5, "the slow client was not closed after header_timeout")
        self.assertGreater(len(served), 3)
        self.assertEqual(set(served), {b"HTTP/1.1 200 OK"})

    def test_6_idle_keep_alive_connections_are_closed_after_idle_timeout(self):
        time.sleep(0.5)
        baseline = open_file_descriptors()
        connections = []
        try:
            for _ in range(IDLE_CONNECTIONS):
                connection = socket.create_connection(("127.0.0.1", bridge.port), timeout=5)
                connections.append(connection)
                connection.sendall(b"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                self.assertTrue(connection.recv(4096).startswith(b"HTTP/1.1 200"))
                if len(connections) == 1:
                    first_answered = time.monotonic()
            opened = open_file_descriptors()
            self.assertGreaterEqual(opened, baseline + IDLE_CONNECTIONS * 0.9, "the connections are open on the bridge")
            deadline = time.monotonic() + IDLE_TIMEOUT + 5
            for index, connection in enumerate(connections):
                connection.settimeout(max(0.1, deadline - time.monotonic()))
                self.assertEqual(connection.recv(4096), b"", "an idle connection was not closed")
                if index == 0:
                    idle_for = time.monotonic() - first_answered
                    self.assertGreater(idle_for, IDLE_TIMEOUT - 0.5, "closed before idle_timeout")
                    self.assertLess(idle_for, IDLE_TIMEOUT + 2, "not closed at idle_timeout")
        finally:
            for connection in connections:
                connection.close()
        wait_for(lambda: open_file_descriptors() <= baseline + 5, 5,
                 f"the bridge's file descriptors did not return near {baseline}: {open_file_descriptors()}")

    def test_7_ready_is_503_while_the_database_is_stopped_and_200_when_it_returns(self):
        admin = f"http://127.0.0.1:{admin_port}"
        outages_before = sample(scrape(bridge.url), "smta_database_outages_total")
        cluster.stop()
        try:
            wait_for(lambda: call(admin, "GET", "/ready").status == 503, 10, "/ready did not answer 503")
            self.assertEqual(call(bridge.url, "GET", "/ready").status, 503)
            self.assertEqual(call(bridge.url, "GET", "/live").status, 200)
            during = scrape(admin)
            self.assertEqual(sample(during, "smta_database_up"), 0)
            self.assertEqual(sample(during, "smta_database_outages_total") - outages_before, 1)
        finally:
            cluster.start()
        wait_for(lambda: call(admin, "GET", "/ready").status == 200, 30, "/ready did not answer 200 again")
        self.assertEqual(sample(scrape(bridge.url), "smta_database_up"), 1)
        wait_for(lambda: self.rpc("list_my_organizations", self.token).status == 200, 30,
                 "calls did not succeed again after the database returned")


class ConfigurationTests(BridgeTestCase):
    def test_a_bad_value_stops_start_up_naming_the_key(self):
        database_url = require_environment(DATABASE_URL)[DATABASE_URL]
        cases = {
            "SMTA_LOG_FORMAT": "xml",
            "SMTA_HEADER_TIMEOUT": "0",
            "SMTA_IDLE_TIMEOUT": "soon",
            "SMTA_ADMIN_PORT": "70000",
        }
        for key, value in cases.items():
            with self.subTest(key):
                refused = Bridge(f"bad-{key.lower()}", bridge_settings(database_url, **{key: value}))
                with self.assertRaises(AssertionError) as raised:
                    refused.start()
                self.assertIn("exited with status", str(raised.exception))
                self.assertIn(key, refused.log_text())


if __name__ == "__main__":
    main()
