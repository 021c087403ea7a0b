"""Shared tools of the bridge interop programs (``test_bridge_*.py``).

Starts and stops ``smta serve`` as a subprocess on a free port, mints tokens with PyJWT exactly as
Supabase (GoTrue) and Payload CMS do, calls the bridge over raw HTTP, and reads PostgreSQL with
psycopg to show what a call changed, or that a refused call changed nothing. Standard library
plus PyJWT, cryptography, postgrest and psycopg only.

The Swift suites in ``Tests/BridgeTests`` run the programs with these variables:

``SMTA_INTEROP_BINARY``
    the ``smta`` executable.
``SMTA_INTEROP_DATABASE_URL``
    a database migrated for the program's adapter (``postgres://…?sslmode=disable``).
``SMTA_INTEROP_PAYLOAD_DATABASE_URL``
    for ``test_bridge_fault_edges.py`` only: a second database, migrated for the Payload adapter.
``SMTA_INTEROP_BRIDGE_SETTINGS``
    optional: a JSON object of ``SMTA_*`` settings given to every bridge whose
    ``SMTA_DATABASE_URL`` is ``SMTA_INTEROP_DATABASE_URL``, over the program's own (the suite
    that runs the programs through PgBouncer puts PgBouncer's URL and ``SMTA_TRANSACTION_POOLING``
    there; the programs' psycopg checks still connect straight to PostgreSQL).
``SMTA_INTEROP_PGDATA``, ``SMTA_INTEROP_PG_CTL``, ``SMTA_INTEROP_PG_PORT``
    for ``test_bridge_restarts.py`` only: the data folder, ``pg_ctl`` and port of a cluster the
    program may stop and restart (never the shared test cluster).
``SMTA_INTEROP_READ_DATABASE_URL``
    when set, every bridge started gets it as ``SMTA_READ_DATABASE_URL`` (a streaming replica of
    the program's database) unless its settings name one: any program then runs with a replica.
``SMTA_INTEROP_REPLICA_PGDATA``, ``SMTA_INTEROP_REPLICA_PORT``
    for ``test_bridge_read_replica.py`` only: the data folder and port of that replica, which
    the program stops and starts with ``SMTA_INTEROP_PG_CTL``.

To run a program by hand, set the same variables and run ``python3 Tests/Interop/test_bridge_….py``.
"""

import base64
import ctypes
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

try:
    import jwt
    import psycopg
    from cryptography.hazmat.primitives.asymmetric import ec
    from jwt.algorithms import ECAlgorithm
except ImportError as missing:
    sys.exit("the bridge interop tests need PyJWT and psycopg "
             f"(run the tests with scripts/test, which installs Tests/Interop/requirements.txt into .build/venv): {missing}")

from mint_token import payload_key, supabase_claims

BINARY = "SMTA_INTEROP_BINARY"
DATABASE_URL = "SMTA_INTEROP_DATABASE_URL"
BRIDGE_SETTINGS = "SMTA_INTEROP_BRIDGE_SETTINGS"
PGDATA = "SMTA_INTEROP_PGDATA"
PG_CTL = "SMTA_INTEROP_PG_CTL"
PG_PORT = "SMTA_INTEROP_PG_PORT"
READ_DATABASE_URL = "SMTA_INTEROP_READ_DATABASE_URL"

# Client timeout of every HTTP call: a bridge that hangs fails the test instead of stalling it.
CALL_TIMEOUT = 5.0

# The tables whose rows a call may change; a refused call must leave every one as it was.
CORE_TABLES = (
    "core.organizations",
    "core.memberships",
    "core.invitations",
    "core.invitation_links",
    "core.users_meta",
    "core.audit_logs",
)


def require_environment(*names):
    """The values of the variables ``names``; exits with status 2 naming the missing ones."""
    missing = [name for name in names if not os.environ.get(name)]
    if missing:
        sys.exit(f"{os.path.basename(sys.argv[0])}: set {', '.join(missing)} (see Tests/Interop/bridge_common.py)")
    return {name: os.environ[name] for name in names}


# ---------------------------------------------------------------------------------------------
# The bridge process
# ---------------------------------------------------------------------------------------------

def _die_with_parent():
    """Runs in the child before exec: SIGKILL it if the Python program dies first."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Bridge:
    """One ``smta serve`` process, configured by ``SMTA_*`` variables only.

    The process gets this program's environment without any ``SMTA_*`` variable, plus
    ``settings``; it runs in a folder of its own (so no ``smta.json`` is picked up) and logs to a
    file there, one file per start. When the program ends, every bridge still running is killed
    and every bridge's folder deleted (``main`` prints the logs' tails first when a test failed).
    """

    started = []
    LISTENING = re.compile(rb"smta bridge listening on http://([^:\s]+):(\d+)")

    def __init__(self, name, settings):
        self.name = name
        self.binary = require_environment(BINARY)[BINARY]
        self.settings = dict(settings)
        self.folder = tempfile.mkdtemp(prefix=f"smta-bridge-{name}-")
        self.process = None
        self.port = None
        self.logs = []
        self.given_replica = False
        Bridge.started.append(self)

    @property
    def url(self):
        """``http://127.0.0.1:PORT``, the bridge's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self):
        return self.process is not None and self.process.poll() is None

    def start(self, port=0, timeout=60.0):
        """Starts the bridge on ``port`` (0: a free one) and waits until it prints that it listens.

        Does not call the bridge: use ``wait_for_health`` for that.
        """
        assert not self.running, f"bridge {self.name} is already running"
        environment = {key: value for key, value in os.environ.items() if not key.startswith("SMTA_")}
        if os.environ.get(READ_DATABASE_URL) and "SMTA_READ_DATABASE_URL" not in self.settings:
            environment["SMTA_READ_DATABASE_URL"] = os.environ[READ_DATABASE_URL]
            self.given_replica = True
        environment.update(self.settings)
        if os.environ.get(BRIDGE_SETTINGS) and self.settings.get("SMTA_DATABASE_URL") == os.environ.get(DATABASE_URL):
            environment.update(json.loads(os.environ[BRIDGE_SETTINGS]))
        environment["SMTA_HOST"] = "127.0.0.1"
        environment["SMTA_PORT"] = str(port)
        log_path = os.path.join(self.folder, f"serve-{len(self.logs) + 1}.log")
        self.logs.append(log_path)
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(
                [self.binary, "serve"], cwd=self.folder, env=environment, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(log_path, "rb") as log:
                found = self.LISTENING.search(log.read())
            if found:
                self.port = int(found.group(2))
                return self
            if self.process.poll() is not None:
                raise AssertionError(
                    f"smta serve ({self.name}) exited with status {self.process.returncode} before listening:\n"
                    + self.log_tail())
            time.sleep(0.05)
        self.process.kill()
        self.process.wait()
        raise AssertionError(f"smta serve ({self.name}) did not listen within {timeout:.0f} s:\n" + self.log_tail())

    def wait_for_health(self, expected=200, timeout=30.0):
        """Calls ``GET /health`` until it answers ``expected``; returns that reply."""
        deadline = time.monotonic() + timeout
        reply = None
        while time.monotonic() < deadline:
            try:
                reply = call(self.url, "GET", "/health")
                if reply.status == expected:
                    return reply
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(
            f"GET /health of bridge {self.name} did not answer {expected} within {timeout:.0f} s "
            f"(last: {reply.status if reply else 'no answer'})\n" + self.log_tail())

    def send_signal(self, sig=signal.SIGTERM):
        """Sends ``sig`` to the running bridge."""
        assert self.running, f"bridge {self.name} is not running"
        self.process.send_signal(sig)

    def wait(self, timeout=20.0):
        """Waits for the bridge to exit and returns its status; kills it and fails if it lingers."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"smta serve ({self.name}) did not exit within {timeout:.0f} s:\n" + self.log_tail())

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        """Sends ``sig`` and returns the exit status (None when it was not running)."""
        if not self.running:
            return None if self.process is None else self.process.returncode
        self.send_signal(sig)
        return self.wait(timeout)

    def log_text(self):
        """Everything the bridge logged, over all its starts."""
        text = []
        for path in self.logs:
            with open(path, "rb") as log:
                text.append(log.read().decode("utf-8", "replace"))
        return "".join(text)

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])

    @classmethod
    def stop_all(cls):
        """Kills every bridge still running and deletes every bridge's folder (logs included)."""
        for bridge in cls.started:
            if bridge.running:
                bridge.process.kill()
                bridge.process.wait()
            shutil.rmtree(bridge.folder, ignore_errors=True)


def stop_cleanly(bridges, minted, expect_running=True):
    """A tearDownModule's checks: stops each of ``bridges`` with SIGTERM and fails unless it exits 0
    and no token of ``minted`` has its payload or signature in the bridge's log. With
    ``expect_running`` a bridge that had already exited fails too; without, it is only searched."""
    for bridge in bridges:
        if bridge.running or expect_running:
            status = bridge.stop(signal.SIGTERM)
            if status != 0:
                raise AssertionError(f"smta serve ({bridge.name}) exited with status {status} on SIGTERM")
        log = bridge.log_text()
        for token in minted:
            if any(part and part in log for part in token.split(".")[1:]):
                raise AssertionError(f"the log of bridge {bridge.name} contains a credential")


# ---------------------------------------------------------------------------------------------
# A cluster a program may stop and restart
# ---------------------------------------------------------------------------------------------

class Cluster:
    """A program's own PostgreSQL cluster, driven with pg_ctl as LocalCluster drives it (as the
    `postgres` user when this program runs as root)."""

    def __init__(self, data, pg_ctl, port):
        self.data = data
        self.pg_ctl = pg_ctl
        self.log = os.path.join(data, "server.log")
        self.options = (f"-p {port} -c listen_addresses=127.0.0.1 -k {data} "
                        "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")

    def _run(self, *arguments):
        command = [self.pg_ctl, "-D", self.data, *arguments]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--"] + command
        # Output to a file, not a pipe: the server pg_ctl starts must not inherit a pipe.
        with tempfile.TemporaryFile() as output:
            status = subprocess.run(
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT).returncode
            output.seek(0)
            return status, output.read().decode("utf-8", "replace")

    def _checked(self, *arguments):
        status, output = self._run(*arguments)
        if status != 0:
            raise AssertionError(f"pg_ctl {arguments[-1]} exited with status {status}: {output}")

    @property
    def running(self):
        return self._run("status")[0] == 0

    def start(self):
        self._checked("-l", self.log, "-o", self.options, "-w", "-t", "60", "start")

    def stop(self):
        self._checked("-m", "fast", "-w", "-t", "60", "stop")

    def restart(self):
        self._checked("-l", self.log, "-o", self.options, "-m", "fast", "-w", "-t", "60", "restart")


# ---------------------------------------------------------------------------------------------
# Raw HTTP
# ---------------------------------------------------------------------------------------------

class Reply:
    """An HTTP answer: status, headers (lower-case names) and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return f"<{self.status} {self.text[:300]}>"


def call(base_url, method, path, body=None, headers=None, timeout=CALL_TIMEOUT):
    """One HTTP request on a fresh connection; ``body`` is bytes, str or a JSON-encodable value.

    Raises ``TimeoutError`` when no answer comes within ``timeout`` seconds.
    """
    host, port = base_url.removeprefix("http://").split(":")
    headers = dict(headers or {})
    if body is not None and not isinstance(body, (bytes, str)):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    if isinstance(body, str):
        body = body.encode("utf-8")
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, response.read())
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------

def _segment(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class SupabaseTokens:
    """Mints tokens as a Supabase project with the HS256 secret ``secret`` does; remembers every
    token it minted, so a test can check that none reaches a response or the bridge's log."""

    def __init__(self, secret):
        self.secret = secret
        self.minted = []

    def _keep(self, token):
        self.minted.append(token)
        return token

    def user(self, sub, email, **overrides):
        """A GoTrue access token for ``sub``; ``overrides`` replace or add claims."""
        claims = supabase_claims(sub, email)
        claims.update(overrides)
        return self._keep(jwt.encode(claims, self.secret, algorithm="HS256"))

    def api_key(self, role):
        """The project's ``anon`` or ``service_role`` API key (what the ``apikey`` header carries)."""
        issued_at = int(time.time())
        claims = {"iss": "supabase-demo", "role": role, "iat": issued_at, "exp": issued_at + 3600}
        return self._keep(jwt.encode(claims, self.secret, algorithm="HS256"))

    def expired(self, sub, email):
        issued_at = int(time.time()) - 7200
        return self.user(sub, email, iat=issued_at, exp=issued_at + 3600)

    def unsigned(self, sub, email):
        """The same claims with ``alg: none`` and no signature."""
        return self._keep(jwt.encode(supabase_claims(sub, email), None, algorithm="none"))

    def signed_elsewhere(self, sub, email):
        """A well-formed token signed with another project's secret."""
        other_secret = "another-project-secret-of-32-characters!"
        return self._keep(jwt.encode(supabase_claims(sub, email), other_secret, algorithm="HS256"))

    def escalated(self, sub, email):
        """A valid token whose payload was replaced after signing (role service_role)."""
        header, _, signature = self.user(sub, email).split(".")
        claims = supabase_claims(sub, email)
        claims["role"] = "service_role"
        payload = _segment(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
        return self._keep(f"{header}.{payload}.{signature}")


def auth_collection_ddl(table, option_columns="", trailing_columns=""):
    """@payloadcms/db-sqlite's DDL (Payload 3.x) for an auth collection with sessions: the columns
    every auth collection has, its options' columns (SQL lines) before ``login_attempts`` and
    any after ``lock_until``, as Payload orders them; its indexes and its sessions array table."""
    return f"""
CREATE TABLE `{table}` (
  `id` integer PRIMARY KEY NOT NULL,
  `updated_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
  `created_at` text DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) NOT NULL,
  `email` text NOT NULL,
  `reset_password_token` text,
  `reset_password_expiration` text,
  `salt` text,
  `hash` text,
{option_columns}  `login_attempts` numeric DEFAULT 0,
  `lock_until` text{trailing_columns}
);
CREATE UNIQUE INDEX `{table}_email_idx` ON `{table}` (`email`);
CREATE INDEX `{table}_updated_at_idx` ON `{table}` (`updated_at`);
CREATE INDEX `{table}_created_at_idx` ON `{table}` (`created_at`);
CREATE TABLE `{table}_sessions` (
  `_order` integer NOT NULL,
  `_parent_id` integer NOT NULL,
  `id` text PRIMARY KEY NOT NULL,
  `created_at` text,
  `expires_at` text NOT NULL,
  FOREIGN KEY (`_parent_id`) REFERENCES `{table}`(`id`) ON UPDATE no action ON DELETE cascade
);
CREATE INDEX `{table}_sessions_order_idx` ON `{table}_sessions` (`_order`);
CREATE INDEX `{table}_sessions_parent_id_idx` ON `{table}_sessions` (`_parent_id`);
"""


def payload_timestamp(moment):
    """Payload's timestamp text: ``2026-01-12T20:49:47.977Z``."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class SigningKey:
    """A Supabase project's ES256 signing key, named by ``kid``; the tokens it signs are added to
    ``minted`` (the program's list of credentials that must never appear in a log)."""

    def __init__(self, label, minted):
        self.kid = f"{label}-{secrets.token_hex(3)}"
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.minted = minted

    def jwk(self):
        key = json.loads(ECAlgorithm.to_jwk(self.private.public_key()))
        key.update({"kid": self.kid, "alg": "ES256", "use": "sig"})
        return key

    def token(self, sub=None):
        """A GoTrue access token signed by this key, for a fresh user unless ``sub`` is given."""
        sub = sub or str(uuid.uuid4())
        token = jwt.encode(supabase_claims(sub, f"{sub[:8]}@example.com"), self.private, algorithm="ES256",
                           headers={"kid": self.kid})
        self.minted.append(token)
        return token


def payload_token(secret, user_id, email, sid, collection="users", issued_at=None, lifetime=7200, key=None):
    """A Payload CMS 3.x token: HS256 with the key derived from ``PAYLOAD_SECRET`` (or ``key``),
    claims in Payload's order: id, collection, email, sid, iat, exp."""
    issued_at = int(time.time()) if issued_at is None else issued_at
    claims = {"id": user_id, "collection": collection, "email": email}
    if sid is not None:
        claims["sid"] = sid
    claims["iat"] = issued_at
    claims["exp"] = issued_at + lifetime
    return jwt.encode(claims, payload_key(secret) if key is None else key, algorithm="HS256")


# ---------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------

class Database:
    """Reads the bridge's database directly (as the cluster's superuser, which row-level security
    does not restrict), one short connection per call so that database restarts do not matter."""

    def __init__(self, url):
        self.url = url

    def rows(self, sql, parameters=()):
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            return connection.execute(sql, parameters).fetchall()

    def execute(self, sql, parameters=()):
        """Runs one statement that returns no rows (as the superuser, autocommit)."""
        with psycopg.connect(self.url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(sql, parameters)

    def value(self, sql, parameters=()):
        rows = self.rows(sql, parameters)
        return rows[0][0] if rows else None

    def fingerprint(self, tables=CORE_TABLES):
        """Row count and a digest of every row of each table: equal fingerprints, same contents."""
        result = {}
        for table in tables:
            count, digest = self.rows(
                "select count(*), md5(coalesce(string_agg(t::text, E'\\n' order by t::text), ''))"
                f" from {table} as t")[0]
            result[table] = (count, digest)
        return result


# ---------------------------------------------------------------------------------------------
# Assertions and the program's entry point
# ---------------------------------------------------------------------------------------------

class BridgeTestCase(unittest.TestCase):
    """Assertions shared by the bridge interop tests."""

    maxDiff = None

    def assertPostgrestError(self, reply, status, code=None):
        """``reply`` is ``status`` with PostgREST's error body (code, message, details, hint)."""
        self.assertEqual(reply.status, status, f"expected {status}, got {reply!r}")
        self.assertTrue(reply.headers.get("content-type", "").startswith("application/json"), reply.headers)
        body = reply.json()
        self.assertEqual(set(body), {"code", "message", "details", "hint"}, body)
        self.assertIsInstance(body["message"], str)
        if code is not None:
            self.assertEqual(body["code"], code, body)
        return body

    def assertUnavailable(self, reply):
        """A clean 503: ``Retry-After`` in whole seconds and PostgREST's PGRST000 body."""
        body = self.assertPostgrestError(reply, 503, "PGRST000")
        retry_after = reply.headers.get("retry-after")
        self.assertIsNotNone(retry_after, f"503 without Retry-After: {reply.headers}")
        self.assertTrue(retry_after.isdigit() and int(retry_after) >= 1, f"Retry-After: {retry_after!r}")
        return body

    def assertUnchanged(self, database, before, what):
        """The tables hold exactly what they held in ``before``."""
        after = database.fingerprint(tuple(before))
        changed = [table for table in before if before[table] != after[table]]
        self.assertEqual(changed, [], f"{what} changed {', '.join(changed)} (rows before/after: "
                         + ", ".join(f"{t} {before[t][0]}->{after[t][0]}" for t in changed) + ")")

    def assertNotEchoed(self, reply, token):
        """The reply carries neither the credential nor, for a JWT, its payload or signature."""
        for part in [token] + token.split(".")[1:]:
            if part:
                self.assertNotIn(part.encode("ascii"), reply.body, "the reply echoes the credential")
                for value in reply.headers.values():
                    self.assertNotIn(part, value, "a reply header echoes the credential")


class SlowInserts:
    """Makes organizations named "Slow …" take 6 s to insert (a trigger in a schema of its own),
    twelve times the 0.5 s ``statement_timeout`` of :class:`StatementTimeoutChecks`' bridges: far
    enough apart that a loaded machine cannot blur a cancellation into the trigger's end."""

    def __init__(self, url, schema):
        self.url = url
        self.schema = schema

    def install(self):
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"create schema {self.schema}")
            connection.execute(f"""
                create function {self.schema}.slow_insert() returns trigger language plpgsql as $$
                begin perform pg_catalog.pg_sleep(6); return new; end $$""")
            connection.execute(f"""
                create trigger {self.schema}_slow_insert before insert on core.organizations
                for each row when (new.name like 'Slow %') execute function {self.schema}.slow_insert()""")

    def remove(self):
        with psycopg.connect(self.url, autocommit=True) as connection:
            connection.execute(f"drop trigger {self.schema}_slow_insert on core.organizations")
            connection.execute(f"drop schema {self.schema} cascade")


class StatementTimeoutChecks:
    """Tests mixed into a :class:`BridgeTestCase` whose ``bridge`` runs with ``statement_timeout``
    0.5 s over ``database``, where :class:`SlowInserts` is installed: PostgreSQL cancels the
    statement (57014) and rolls its transaction back, so the answer is 504 with ``Retry-After``
    (nothing applied, safe to send again), never PostgREST's 500. The class provides
    ``create(name, key=None)``, which returns the reply of ``create_organization`` and its time."""

    def assertCancelled(self, reply, elapsed):
        body = self.assertPostgrestError(reply, 504, "57014")
        self.assertIn("statement timeout", body["message"])
        self.assertIn("nothing was applied", body["hint"])
        self.assertEqual(reply.headers.get("retry-after"), "1", reply.headers)
        self.assertLess(elapsed, 3.0, "cancelled by statement_timeout, not by the trigger's end")

    def test_a_write_past_statement_timeout_is_504_with_retry_after_and_applies_nothing(self):
        before = self.database.fingerprint()
        reply, elapsed = self.create("Slow unkeyed")
        self.assertCancelled(reply, elapsed)
        self.assertUnchanged(self.database, before, "a write cancelled by statement_timeout")
        self.assertEqual(self.database.value("select count(*) from core.organizations where name like %s", ("Slow %",)), 0)

    def test_a_keyed_write_past_statement_timeout_records_no_outcome_so_its_key_can_be_sent_again(self):
        key = str(uuid.uuid4())
        reply, elapsed = self.create("Slow keyed", key)
        self.assertCancelled(reply, elapsed)
        self.assertEqual(self.database.value("select count(*) from platform.idempotent_calls where key = %s", (key,)), 0)
        self.assertEqual(self.database.value("select count(*) from core.organizations where name = 'Slow keyed'"), 0)

    def test_calls_within_the_timeout_are_answered(self):
        reply, elapsed = self.create("Quick")
        self.assertEqual(reply.status, 200, reply)
        self.assertLess(elapsed, 3.0, "a quick call, not held up by the slow trigger")


def main():
    """Runs the module's tests, prints unittest's summary, and on failure the bridges' log tails;
    exits non-zero on any failure, or when a bridge given ``SMTA_INTEROP_READ_DATABASE_URL`` never
    put the replica in use."""
    program = unittest.main(module="__main__", verbosity=2, exit=False)
    successful = program.result.wasSuccessful()
    # A program run with a replica proves nothing about replicas unless its bridges used it.
    for bridge in Bridge.started:
        if bridge.given_replica and bridge.logs and "read replica in use" not in bridge.log_text():
            print(f"\nbridge {bridge.name} was given {READ_DATABASE_URL} but never used the replica", file=sys.stderr)
            successful = False
    if not successful:
        for bridge in Bridge.started:
            if bridge.logs:
                print(f"\n--- last lines logged by bridge {bridge.name} ---\n{bridge.log_tail(30)}", file=sys.stderr)
    Bridge.stop_all()
    sys.exit(0 if successful else 1)
