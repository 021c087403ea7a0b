#!/usr/bin/env python3
"""The ``smta`` command line as a new user meets it after the README's two commands:
``smta dev`` with each adapter and the credentials ``smta token`` mints for it, the port it
takes (``--port``, ``SMTA_PORT``, ``smta.json``) and what it says when that port is busy,
``smta migrate --status`` reading the adapter from the database, and the one line ``migrate``
and ``doctor`` print when the database cannot be reached.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Payload migrations); see bridge_common.py.
"""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from bridge_common import BINARY, DATABASE_URL, BridgeTestCase, _die_with_parent, call, main, require_environment

ENVIRONMENT = require_environment(BINARY, DATABASE_URL)
SMTA = ENVIRONMENT[BINARY]
PAYLOAD_DATABASE = ENVIRONMENT[DATABASE_URL]
BANNER_PORT = re.compile(rb"bridge:\s+http://127\.0\.0\.1:(\d+)")


def clean_environment(**extra):
    """This process's environment without any SMTA_ variable, plus ``extra``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SMTA_")}
    environment.update(extra)
    return environment


def smta(*arguments, cwd=None, timeout=120, **environment):
    """Runs ``smta arguments`` to its end; returns (exit status, stdout, stderr)."""
    result = subprocess.run([SMTA, *arguments], cwd=cwd or tempfile.gettempdir(), env=clean_environment(**environment),
                            capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def claims(token):
    """A JWT's header and claims, unverified."""
    header, payload, _ = token.split(".")
    decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decode(header), decode(payload)


class DevSetup:
    """``smta dev`` run in a folder of its own, as in a fresh clone: its setup goes to ``./.smta``
    (the cluster is created once and reused by each start)."""

    def __init__(self):
        self.folder = tempfile.mkdtemp(prefix="smta-cli-")
        # The cluster runs as the postgres user, who must be able to enter the folder.
        os.chmod(self.folder, 0o755)
        self.process = None
        self.log_path = None

    def start(self, *arguments, timeout=180, **environment):
        """Starts ``smta dev arguments`` and waits for its banner; returns the banner's text and port."""
        self.log_path = os.path.join(self.folder, f"dev-{time.monotonic_ns()}.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [SMTA, "dev", *arguments], cwd=self.folder, env=clean_environment(**environment),
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            found = BANNER_PORT.search(text.encode())
            if found and "Ctrl-C stops" in text:
                return text, int(found.group(1))
            if self.process.poll() is not None:
                raise AssertionError(f"smta dev exited with status {self.process.returncode}:\n{text}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"smta dev printed no banner within {timeout} s:\n{self.log()}")

    def log(self):
        with open(self.log_path, "rb") as log:
            return log.read().decode("utf-8", "replace")

    def stop(self):
        """Ctrl-C, as a person stops it; returns the exit status."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                return self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                return self.process.wait()
        return self.process.returncode if self.process else None

    def remove(self):
        """Stops everything and deletes the folder: `smta dev --reset` stops the cluster and removes
        its data, then stops at once on a port held busy here."""
        self.stop()
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            smta("dev", "--reset", "--port", str(busy.getsockname()[1]), cwd=self.folder, timeout=60)
        shutil.rmtree(self.folder, ignore_errors=True)


dev = None


def setUpModule():
    global dev
    dev = DevSetup()


def tearDownModule():
    dev.remove()


class DevAndTokenTests(BridgeTestCase):
    """``smta token`` mints what the running ``smta dev`` accepts, whichever the adapter."""

    def check_adapter(self, adapter, scheme, banner, port):
        self.assertIn(f"adapter {adapter}", banner)
        self.assertIn(f'Authorization: {scheme} $SMTA_TOKEN', banner)
        self.assertIn("swift run smta token --email", banner)
        status, token, errors = smta("token", "--email", "other@example.com", cwd=dev.folder)
        self.assertEqual(status, 0, errors)
        token = token.strip()
        reply = call(f"http://127.0.0.1:{port}", "POST", "/rpc/list_my_organizations", "{}",
                     {"Authorization": f"{scheme} {token}", "Content-Type": "application/json"})
        self.assertEqual(reply.status, 200, f"the token smta token minted for {adapter} was refused: {reply}")
        return claims(token)

    def test_each_adapter_gets_its_own_credentials_and_port_settings_are_honoured(self):
        port = free_port()
        with self.subTest("supabase, port from SMTA_PORT"):
            banner, listening = dev.start("--adapter", "supabase", SMTA_PORT=str(port))
            try:
                self.assertEqual(listening, port)
                header, body = self.check_adapter("supabase", "Bearer", banner, listening)
                self.assertEqual((header["alg"], body["aud"], body["role"]), ("HS256", "authenticated", "authenticated"))
                self.assertNotIn("collection", body)

                # The port is taken now: another dev and a serve say so, naming it and --port.
                status, _, errors = smta("dev", "--port", str(port), cwd=dev.folder)
                self.assertNotEqual(status, 0)
                self.assertIn(f"port {port}", errors)
                self.assertIn("--port", errors)
                self.assertNotIn("errno", errors)
                database = re.search(r"database:\s+(\S+)", banner).group(1)
                status, _, errors = smta("serve", SMTA_ADAPTER="supabase", SMTA_DATABASE_URL=database,
                                         SMTA_JWT_SECRET="s" * 32, SMTA_PORT=str(port))
                self.assertNotEqual(status, 0)
                self.assertIn(f"port {port}", errors)
                self.assertIn("--port", errors)
                self.assertNotIn("bind(descriptor", errors)
            finally:
                self.assertEqual(dev.stop(), 0, dev.log())

        with self.subTest("payload, port from smta.json"):
            port = free_port()
            with open(os.path.join(dev.folder, "smta.json"), "w") as file:
                json.dump({"port": port}, file)
            try:
                banner, listening = dev.start()
                self.assertEqual(listening, port)
                header, body = self.check_adapter("payload", "JWT", banner, listening)
                self.assertEqual(body["collection"], "users")
                self.assertIn("sid", body)
            finally:
                os.unlink(os.path.join(dev.folder, "smta.json"))
                self.assertEqual(dev.stop(), 0, dev.log())

        with self.subTest("oidc, port from --port"):
            port = free_port()
            banner, listening = dev.start("--adapter", "oidc", "--port", str(port))
            try:
                self.assertEqual(listening, port)
                header, body = self.check_adapter("oidc", "Bearer", banner, listening)
                self.assertEqual((header["alg"], body["sub"]), ("ES256", "dev|other@example.com"))
            finally:
                self.assertEqual(dev.stop(), 0, dev.log())


class MigrateStatusTests(BridgeTestCase):
    """``smta migrate --status`` is read-only and finds the adapter in the database."""

    def test_without_an_adapter_the_status_reads_it_from_the_database(self):
        status, output, errors = smta("migrate", "--status", "--database-url", PAYLOAD_DATABASE)
        self.assertEqual(status, 0, errors)
        self.assertIn("adapter payload, read from the database", output)
        self.assertIn("payload/0001_payload", output)
        self.assertIn("0 pending.", output)
        self.assertNotIn("unknown to this smta", output)

    def test_the_other_adapter_is_said_plainly_and_exits_non_zero(self):
        status, output, errors = smta("migrate", "--status", "--adapter", "supabase", "--database-url", PAYLOAD_DATABASE)
        self.assertEqual(status, 1, output + errors)
        self.assertIn("migrated for the payload adapter, not supabase", errors)
        self.assertIn("--adapter payload", errors)

    def test_what_is_missing_is_named_with_its_option(self):
        status, _, errors = smta("migrate", "--status")
        self.assertNotEqual(status, 0)
        self.assertIn("--database-url", errors)
        status, _, errors = smta("migrate", "--database-url", PAYLOAD_DATABASE)
        self.assertNotEqual(status, 0)
        self.assertIn("--adapter", errors)
        self.assertIn("this database was migrated with --adapter payload", errors)


class UnreachableDatabaseTests(BridgeTestCase):
    """One line: where (never the password), why, what to check."""

    def assertOneClearLine(self, errors, *expected):
        lines = [line for line in errors.splitlines() if line.strip()]
        self.assertEqual(len(lines), 1, errors)
        for text in expected:
            self.assertIn(text, lines[0])
        self.assertNotIn("hunter2", errors)
        self.assertNotIn("SingleConnectionFailure", errors)

    def test_a_refused_connection_names_the_host_port_and_what_to_check(self):
        port = free_port()
        url = f"postgres://app:hunter2@127.0.0.1:{port}/app"
        for arguments in (("migrate", "--status", "--database-url", url),
                          ("migrate", "--adapter", "payload", "--database-url", url),
                          ("doctor", "--database-url", url)):
            with self.subTest(" ".join(arguments[:2])):
                status, _, errors = smta(*arguments)
                self.assertNotEqual(status, 0)
                self.assertOneClearLine(errors, f"127.0.0.1:{port}", "connection refused", "is PostgreSQL running")

    def test_an_unknown_host_is_said_so(self):
        status, _, errors = smta("doctor", "--database-url", "postgres://app:hunter2@no-such-host.invalid:5432/app")
        self.assertEqual(status, 2)
        self.assertOneClearLine(errors, "no-such-host.invalid:5432", "unknown host")


if __name__ == "__main__":
    main()
