#!/usr/bin/env python3
"""The bridge's lane (``RPCLane``): ``GET`` and ``POST /rpc/{function}`` answered from the
connection's channel pipeline, every other request by Hummingbird's router, and a client that
cannot tell them apart.

Over raw sockets: calls pipelined on one connection — lane calls, POSTs and other paths mixed, a
slow call first — are answered in the order sent, each with its own body. The same request
answered by the lane and by the router (``Connection: close`` hands it to the router) gets the same
status, body and header names, for a result, a page with ``Content-Range``, a single object, a
cross-origin call, an unknown function, an expired token and a GET of a function that writes; and for POSTs (a result, a page, an
unknown argument, an expired token — answered before the body is read — malformed JSON, a form,
a body over ``max_body_size``, which the router refuses). Lane
calls are counted in ``/metrics`` and logged once each, under the id their answer carries. A lane
call in flight at SIGTERM is answered before the bridge exits 0 — and one whose client went away
still runs to its end before the pool closes — and ``request_timeout`` bounds a lane call as it
bounds any other (504); a body still trickling in goes to the router, which answers 504 too.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Supabase migrations); see bridge_common.py.
"""

import json
import secrets
import signal
import socket
import struct
import threading
import time
import uuid

from bridge_common import (
    BINARY, DATABASE_URL, Bridge, BridgeTestCase, Database, SupabaseTokens, call, main, require_environment)

environment = require_environment(BINARY, DATABASE_URL)
database = Database(environment[DATABASE_URL])
tokens = SupabaseTokens(secrets.token_urlsafe(32))
bridge = None


def settings(**overrides):
    values = {
        "SMTA_ADAPTER": "supabase",
        "SMTA_DATABASE_URL": environment[DATABASE_URL],
        "SMTA_JWT_SECRET": tokens.secret,
        "SMTA_LOG_FORMAT": "json",
    }
    values.update(overrides)
    return values


def setUpModule():
    global bridge
    # A read-only function that takes its time: what makes pipelined answers wait for it.
    database.execute("""
        create or replace function public.interop_lane_echo(p_value integer, p_seconds double precision default 0)
        returns integer language sql stable as
        $$ select p_value from (select pg_catalog.pg_sleep(p_seconds)) as slept $$""")
    database.execute("grant execute on function public.interop_lane_echo(integer, double precision) to authenticated")
    bridge = Bridge("lane", settings()).start()
    bridge.wait_for_health(200)


class Connection:
    """One keep-alive connection, read as HTTP/1.1 answers with ``Content-Length``."""

    def __init__(self, port, timeout=15.0):
        self.socket = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buffer = b""

    def send(self, data):
        self.socket.sendall(data)

    def _fill(self):
        chunk = self.socket.recv(65536)
        if not chunk:
            raise ConnectionError(f"the bridge closed the connection; unread: {self.buffer!r}")
        self.buffer += chunk

    def answer(self):
        """The next answer: (status, {lower-case name: value}, body)."""
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            self._fill()
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return status, headers, body

    def close(self):
        self.socket.close()


def request(method, path, token=None, body=None, headers=None):
    """One request's bytes; ``body``: a JSON value, or a str sent as it is (JSON unless
    ``headers`` say otherwise)."""
    headers = dict(headers or {})
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    data = b""
    if body is not None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
        headers.setdefault("Content-Type", "application/json")
        headers["Content-Length"] = str(len(data))
    for name, value in headers.items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


class LaneTests(BridgeTestCase):
    def setUp(self):
        self.user = str(uuid.uuid4())
        self.email = f"{self.user[:8]}@example.com"
        self.token = tokens.user(self.user, self.email)
        for name in ("Lane One", "Lane Two"):
            reply = call(bridge.url, "POST", "/rpc/create_organization", {"p_name": name},
                         {"Authorization": f"Bearer {self.token}"})
            self.assertEqual(reply.status, 200, reply)

    def wait_until_a_call_sleeps(self):
        """Returns once a call of interop_lane_echo sleeps in PostgreSQL (the bridge's statement
        names its function in a parameter: the sleep shows it running)."""
        deadline = time.monotonic() + 10
        while not database.value("select count(*) from pg_stat_activity"
                                 " where datname = current_database() and wait_event = 'PgSleep'"):
            self.assertLess(time.monotonic(), deadline, "the call never reached PostgreSQL")
            time.sleep(0.05)

    def test_pipelined_calls_are_answered_in_the_order_sent(self):
        connection = Connection(bridge.port)
        try:
            connection.send(b"".join([
                request("GET", "/rpc/interop_lane_echo?p_value=1&p_seconds=0.6", self.token),
                request("POST", "/rpc/interop_lane_echo", self.token, {"p_value": 2}),
                request("GET", "/rest/v1/rpc/interop_lane_echo?p_value=3&p_seconds=0.3", self.token),
                request("GET", "/rpc/interop_lane_echo?p_value=4", self.token),
                request("GET", "/health"),
                request("GET", "/rpc/no_such_function", self.token),
                request("GET", "/rpc/interop_lane_echo?p_value=5", self.token),
            ]))
            answers = [connection.answer() for _ in range(7)]
        finally:
            connection.close()
        self.assertEqual([status for status, _, _ in answers], [200, 200, 200, 200, 200, 404, 200])
        self.assertEqual([json.loads(answers[index][2]) for index in (0, 1, 2, 3, 6)], [1, 2, 3, 4, 5])
        self.assertEqual(json.loads(answers[5][2])["code"], "PGRST202")
        ids = [headers["x-request-id"] for _, headers, _ in answers]
        self.assertEqual(len(set(ids)), 7, "every answer has its own request id")

    def test_the_lane_and_the_router_answer_alike(self):
        expired = tokens.expired(self.user, self.email)
        cases = {
            "a result": ("/rpc/list_my_organizations", self.token, {}),
            "a page": ("/rpc/list_my_organizations?order=name&limit=1&offset=1", self.token, {"Prefer": "count=exact"}),
            "one object": ("/rpc/list_my_organizations?name=eq.Lane%20Two", self.token,
                           {"Accept": "application/vnd.pgrst.object+json"}),
            "cross-origin": ("/rpc/list_my_organizations", self.token, {"Origin": "https://app.example.com"}),
            "unknown function": ("/rpc/list_my_organisations", self.token, {}),
            "expired token": ("/rpc/list_my_organizations", expired, {}),
            "a function that writes": ("/rpc/create_organization?p_name=x", self.token, {}),
            "anonymous": ("/rpc/interop_lane_echo?p_value=9", None, {}),
        }
        posts = {
            "a POST": ("/rpc/interop_lane_echo", self.token, {"p_value": 11}, {}),
            "a POST of a set, paged": ("/rpc/list_my_organizations?order=name&limit=1", self.token, {}, {"Prefer": "count=exact"}),
            "a POST with an unknown argument": ("/rpc/interop_lane_echo", self.token, {"p_nope": 1}, {}),
            "a POST with an expired token": ("/rpc/interop_lane_echo", expired, {"p_value": 1}, {}),
            "a POST of malformed JSON": ("/rpc/interop_lane_echo", self.token, "{\"p_value\": ", {}),
            "a POST sent as a form": ("/rpc/interop_lane_echo", self.token, "p_value=3",
                                      {"Content-Type": "application/x-www-form-urlencoded"}),
            "a POST over max_body_size": ("/rpc/interop_lane_echo", self.token, {"p_value": 1, "pad": "x" * (1 << 20)}, {}),
        }
        before = database.value("select count(*) from core.organizations")
        exchanges = [(what, "GET", path, token, None, headers) for what, (path, token, headers) in cases.items()]
        exchanges += [(what, "POST", path, token, body, headers) for what, (path, token, body, headers) in posts.items()]
        for what, method, path, token, body, headers in exchanges:
            with self.subTest(what):
                lane = Connection(bridge.port)
                try:
                    lane.send(request(method, path, token, body, headers=headers))
                    lane_answer = lane.answer()
                finally:
                    lane.close()
                routed = Connection(bridge.port)
                try:
                    routed.send(request(method, path, token, body, headers={**headers, "Connection": "close"}))
                    routed_answer = routed.answer()
                finally:
                    routed.close()
                self.assertEqual(lane_answer[0], routed_answer[0])
                self.assertEqual(lane_answer[2], routed_answer[2])
                self.assertEqual(set(lane_answer[1]) - {"connection"}, set(routed_answer[1]) - {"connection"})
                for name in ("content-type", "content-range", "server", "access-control-allow-origin",
                             "access-control-expose-headers", "vary", "www-authenticate"):
                    self.assertEqual(lane_answer[1].get(name), routed_answer[1].get(name), name)
                lane_timing = [entry.split(";")[0] for entry in lane_answer[1]["server-timing"].split(", ")]
                routed_timing = [entry.split(";")[0] for entry in routed_answer[1]["server-timing"].split(", ")]
                self.assertEqual(lane_timing, routed_timing)
                self.assertEqual(lane_timing[-1], "total")
                self.assertRegex(lane_answer[1]["date"], r"^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$")
                self.assertEqual(len(lane_answer[1]["x-request-id"]), len(routed_answer[1]["x-request-id"]))
        self.assertEqual(database.value("select count(*) from core.organizations"), before,
                         "a GET changed the organizations")

    def test_lane_calls_are_counted_and_logged_once_each(self):
        def count():
            for line in call(bridge.url, "GET", "/metrics").text.splitlines():
                if line.startswith("smta_rpc_requests_total{") and 'function="interop_lane_echo"' in line \
                        and 'status="200"' in line:
                    return float(line.rsplit(" ", 1)[1])
            return 0.0

        before = count()
        ids = []
        connection = Connection(bridge.port)
        try:
            for value in range(5):
                connection.send(request("GET", f"/rpc/interop_lane_echo?p_value={value}", self.token))
                status, headers, _ = connection.answer()
                self.assertEqual(status, 200)
                ids.append(headers["x-request-id"])
        finally:
            connection.close()
        self.assertEqual(count() - before, 5)
        time.sleep(0.2)
        lines = {}
        for line in bridge.log_text().splitlines():
            record = json.loads(line)
            if record.get("message") == "request":
                lines.setdefault(record["request_id"], []).append(record)
        for request_id in ids:
            self.assertEqual(len(lines.get(request_id, [])), 1, request_id)
            record = lines[request_id][0]
            self.assertEqual((record["method"], record["path"], record["status"], record["function"]),
                             ("GET", "/rpc/interop_lane_echo", 200, "interop_lane_echo"))
        self.assertNotIn(self.token.split(".")[2], bridge.log_text(), "the log holds the token's signature")

    def test_a_lane_call_in_flight_at_sigterm_is_answered_then_the_bridge_exits_zero(self):
        draining = Bridge("lane-drain", settings()).start()
        draining.wait_for_health(200)
        answer = {}

        def slow_call():
            connection = Connection(draining.port)
            try:
                connection.send(request("GET", "/rpc/interop_lane_echo?p_value=7&p_seconds=2", self.token))
                answer["reply"] = connection.answer()
            except OSError as error:
                answer["reply"] = error
            finally:
                connection.close()

        calling = threading.Thread(target=slow_call)
        calling.start()
        self.wait_until_a_call_sleeps()
        draining.send_signal(signal.SIGTERM)
        calling.join(30)
        reply = answer.get("reply")
        self.assertIsInstance(reply, tuple, f"the call in flight at SIGTERM got no answer: {reply!r}")
        self.assertEqual(reply[0], 200)
        self.assertEqual(json.loads(reply[2]), 7)
        self.assertEqual(draining.wait(timeout=10), 0, "smta serve's exit status after SIGTERM")

    def test_a_lane_call_whose_client_left_still_ends_before_the_pool_closes_at_sigterm(self):
        draining = Bridge("lane-abandoned", settings()).start()
        draining.wait_for_health(200)
        connection = Connection(draining.port)
        connection.send(request("GET", "/rpc/interop_lane_echo?p_value=8&p_seconds=2", self.token))
        self.wait_until_a_call_sleeps()
        # Reset, not closed: the connection ends at once, with no half-closure to wait behind.
        connection.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()
        time.sleep(0.2)
        draining.send_signal(signal.SIGTERM)
        self.assertEqual(draining.wait(timeout=20), 0, "smta serve's exit status after SIGTERM")
        lines = [json.loads(line) for line in draining.log_text().splitlines()]
        calls = [line for line in lines if line.get("message") == "request" and line.get("function") == "interop_lane_echo"]
        self.assertEqual([line["status"] for line in calls], [200], "the call ran to its end, on an open pool")
        self.assertFalse([line for line in lines if line.get("level") in ("error", "critical")], "errors at shutdown")

    def test_request_timeout_bounds_a_lane_call(self):
        bounded = Bridge("lane-timeout", settings(SMTA_REQUEST_TIMEOUT="1")).start()
        bounded.wait_for_health(200)
        try:
            connection = Connection(bounded.port)
            try:
                started = time.monotonic()
                connection.send(request("GET", "/rpc/interop_lane_echo?p_value=1&p_seconds=4", self.token))
                status, headers, body = connection.answer()
                elapsed = time.monotonic() - started
            finally:
                connection.close()
            self.assertEqual(status, 504, body)
            self.assertLess(elapsed, 3.5, "the answer waited for the statement, not for request_timeout")
            self.assertIn("retry-after", headers)
            # A body that trickles in: 504 at request_timeout too, with nothing run.
            connection = Connection(bounded.port)
            try:
                started = time.monotonic()
                connection.send(b"POST /rpc/interop_lane_echo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                + f"Authorization: Bearer {self.token}\r\n".encode()
                                + b"Content-Type: application/json\r\nContent-Length: 40\r\n\r\n{\"p_value\": ")
                status, headers, body = connection.answer()
                elapsed = time.monotonic() - started
            finally:
                connection.close()
            self.assertEqual(status, 504, body)
            self.assertLess(elapsed, 3.5)
        finally:
            bounded.stop()


if __name__ == "__main__":
    main()
