#!/usr/bin/env python3
"""The bridge as a real browser calls it: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium, loading a page from another origin on loopback that calls
``smta serve`` (Payload adapter) with ``fetch``, and CORS as PostgREST answers it by default.

Three page origins, each a Python ``http.server`` on 127.0.0.1, serve the same page, which reads
what to fetch from its URL fragment and writes what it received (status, body, the headers it may
read, or the error) into ``<pre id="result">``:

- ``LISTED``: ``http://127.0.0.1:P1``, in ``SMTA_CORS_ORIGINS`` and Payload's CSRF list;
- ``UNLISTED``: ``http://127.0.0.1:P2``, in neither;
- ``CROSS_SITE``: ``http://localhost:P3``, in both lists, but another *site* than the bridge.

The Payload session cookie ``payload-token`` is set in the browser for the bridge's host as
Payload sets it (HttpOnly, Path=/, SameSite=Lax). Cookies are scoped by host, not port, and a site
is scheme plus host: ``http://127.0.0.1:P1`` and the bridge at ``http://127.0.0.1:B`` are
cross-origin but same-site, so a Lax cookie goes with a ``credentials: "include"`` fetch and CORS
alone decides whether the page may read the answer. ``http://localhost:P3`` is cross-site to
``127.0.0.1``: the Lax cookie is not sent at all, and the call is anonymous (a Payload app on
``app.example.com`` calling a bridge on ``api.example.com`` is same-site and works like P1; one on
another registrable domain needs ``SameSite=None; Secure`` over HTTPS).

Every write is checked in PostgreSQL with psycopg; every refused or blocked call must change
nothing. Loopback only: Chromium resolves no other host.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Payload migrations); see bridge_common.py. Optional: SMTA_INTEROP_CHROMIUM and
SMTA_INTEROP_CHROMEDRIVER (default /usr/bin/chromium and /usr/bin/chromedriver).
"""

import http.server
import json
import os
import secrets
import shutil
import signal
import sys
import tempfile
import threading
import urllib.parse
import uuid

try:
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError as missing:
    sys.exit(f"test_bridge_browser.py needs selenium (run the tests with scripts/test, which installs Tests/Interop/requirements.txt into .build/venv): {missing}")

from bridge_common import (
    DATABASE_URL, Bridge, BridgeTestCase, Database, call, main, payload_token, require_environment)
from test_bridge_payload import IDENTITY_NAMESPACE, PayloadDatabase

CHROMIUM = os.environ.get("SMTA_INTEROP_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("SMTA_INTEROP_CHROMEDRIVER", "/usr/bin/chromedriver")
PAGE_TIMEOUT = 15.0

# What supabase-js and postgrest-js send, which a preflight must allow.
CLIENT_HEADERS = ("apikey", "authorization", "content-type", "accept", "prefer", "range", "accept-profile",
                  "content-profile", "x-client-info")
EXPOSED = ("content-range", "x-request-id", "server-timing")
COOKIE = "payload-token"

PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>SMTA bridge caller</title></head>
<body>
<pre id="result"></pre>
<script>
// The fragment holds what to fetch: {"url", "method", "headers", "body", "credentials"}.
(async () => {
  const order = JSON.parse(decodeURIComponent(location.hash.slice(1)));
  const out = {origin: location.origin};
  try {
    const init = {method: order.method, headers: order.headers || {}, credentials: order.credentials || "same-origin"};
    if (order.body !== undefined) init.body = order.body;
    const response = await fetch(order.url, init);
    out.status = response.status;
    out.body = await response.text();
    out.headers = {};
    for (const name of ["content-type", "content-range", "x-request-id", "server-timing"]) {
      out.headers[name] = response.headers.get(name);
    }
  } catch (error) {
    out.error = String(error);
  }
  const result = document.getElementById("result");
  result.textContent = JSON.stringify(out);
  result.dataset.done = "1";
})();
</script>
</body></html>
"""

bridge = None
database = None
payload = None
secret = None
browser = None
profile = None
origins = {}
servers = []
minted = []


class PageHandler(http.server.BaseHTTPRequestHandler):
    """Serves the page at every path; logs nothing."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *arguments):
        pass


def serve_page():
    """Starts a page server on a free loopback port; returns its port."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PageHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    servers.append(server)
    return server.server_address[1]


def start_browser():
    """Headless Chromium on a throwaway profile, resolving no host but loopback."""
    global profile
    profile = tempfile.mkdtemp(prefix="smta-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--user-data-dir={profile}",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
            "--disable-background-networking", "--disable-component-update", "--disable-domain-reliability",
            "--no-pings", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def setUpModule():
    global bridge, database, payload, secret, browser
    url = require_environment(DATABASE_URL)[DATABASE_URL]
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            sys.exit(f"test_bridge_browser.py needs {path} (apt-get install chromium chromium-driver)")
    database = Database(url)
    secret = secrets.token_urlsafe(24)
    payload = PayloadDatabase(os.path.join(tempfile.mkdtemp(prefix="smta-payload-sessions-"), "payload.db"))
    origins["listed"] = f"http://127.0.0.1:{serve_page()}"
    origins["unlisted"] = f"http://127.0.0.1:{serve_page()}"
    origins["cross_site"] = f"http://localhost:{serve_page()}"
    allowed = f"{origins['listed']},{origins['cross_site']}"
    bridge = Bridge("payload-browser", {
        "SMTA_ADAPTER": "payload",
        "SMTA_DATABASE_URL": url,
        "SMTA_PAYLOAD_SECRET": secret,
        "SMTA_PAYLOAD_DATABASE": payload.path,
        "SMTA_PAYLOAD_CSRF": allowed,
        "SMTA_CORS_ORIGINS": allowed,
    }).start()
    bridge.wait_for_health(200)
    browser = start_browser()


def tearDownModule():
    try:
        if browser is not None:
            browser.quit()
        for server in servers:
            server.shutdown()
            server.server_close()
        status = bridge.stop(signal.SIGTERM)
    finally:
        shutil.rmtree(os.path.dirname(payload.path), ignore_errors=True)
        if profile:
            shutil.rmtree(profile, ignore_errors=True)
    if status != 0:
        raise AssertionError(f"smta serve exited with status {status} on SIGTERM")
    log = bridge.log_text()
    if secret in log:
        raise AssertionError("the bridge's log contains PAYLOAD_SECRET")
    if any(token.split(".")[1] in log or token.split(".")[2] in log for token in minted):
        raise AssertionError("the bridge's log contains a credential")


class User:
    """A Payload user of the `users` collection with a live session and its token."""

    def __init__(self, label):
        self.email = f"{label}.{secrets.token_hex(4)}@example.com"
        # A random id: the SMTA id derives from it, so a rerun on the same database meets no one.
        with payload.connect() as connection:
            self.id = connection.execute("insert into users (id, email) values (?, ?)",
                                         (secrets.randbelow(10**9) + 10**6, self.email)).lastrowid
        self.sid = payload.log_in(self.id)
        self.token = payload_token(secret, self.id, self.email, self.sid)
        minted.append(self.token)
        self.subject = f"users:{self.id}"
        self.smta_id = str(uuid.uuid5(IDENTITY_NAMESPACE, f"payload:{self.subject}"))


def organizations_named(name):
    """(created_by, member) of every organization called ``name``, as the database holds them."""
    return database.rows(
        "select o.created_by::text, m.user_id::text from core.organizations o"
        " left join core.memberships m on m.organization_id = o.id and not m.is_deleted where o.name = %s", (name,))


def identity_links(user):
    return database.rows("select user_id::text from core.identity_links where subject = %s", (user.subject,))


class BrowserTestCase(BridgeTestCase):
    def setUp(self):
        browser.execute_cdp_cmd("Network.enable", {})
        browser.execute_cdp_cmd("Network.clearBrowserCookies", {})
        browser.get_log("browser")  # drop what earlier pages logged

    def set_payload_cookie(self, user):
        """The cookie Payload's login sets, for the bridge's host (no port: cookies ignore ports)."""
        done = browser.execute_cdp_cmd("Network.setCookie", {
            "name": COOKIE, "value": user.token, "url": bridge.url, "path": "/", "httpOnly": True,
            "sameSite": "Lax"})
        self.assertTrue(done.get("success", True), done)

    def fetch_from(self, origin, path, method="POST", body=None, headers=None, credentials="same-origin"):
        """Loads the page from ``origin`` and returns what its fetch of ``bridge.url + path`` got:
        a dict with status, body and readable headers, or ``error``; plus the browser's console."""
        order = {"url": bridge.url + path, "method": method, "headers": headers or {}, "credentials": credentials}
        if body is not None:
            order["body"] = body if isinstance(body, str) else json.dumps(body)
        # A fresh query string per load: a change of fragment alone would keep the old document.
        browser.get(f"{origins[origin]}/page.html?load={uuid.uuid4().hex}#{urllib.parse.quote(json.dumps(order))}")
        try:
            WebDriverWait(browser, PAGE_TIMEOUT).until(
                lambda driver: driver.find_element(By.ID, "result").get_attribute("data-done") == "1")
        except TimeoutException:
            self.fail(f"the page at {origins[origin]} did not finish its fetch within {PAGE_TIMEOUT:.0f} s")
        result = json.loads(browser.find_element(By.ID, "result").text)
        self.assertEqual(result["origin"], origins[origin], "the page ran from another origin than intended")
        result["console"] = [entry["message"] for entry in browser.get_log("browser")]
        return result

    def assertReceived(self, result, status):
        self.assertNotIn("error", result, f"the page's fetch failed: {result}")
        self.assertEqual(result["status"], status, result)
        return json.loads(result["body"]) if result["body"] else None

    def assertBlockedByCors(self, result):
        """The fetch rejected (the page read nothing) and the browser says CORS blocked it."""
        self.assertNotIn("status", result, f"the page could read the answer: {result}")
        self.assertIn("Failed to fetch", result.get("error", ""), result)
        self.assertTrue(any("blocked by CORS policy" in message for message in result["console"]),
                        f"the console does not name CORS: {result['console']}")


class BrowserTests(BrowserTestCase):
    def test_a_bearer_token_works_from_an_origin_not_listed_and_the_write_lands(self):
        alice = User("alice")
        name = f"Bearer {secrets.token_hex(3)}"
        result = self.fetch_from("unlisted", "/rpc/create_organization", body={"p_name": name},
                                 headers={"Authorization": f"JWT {alice.token}", "Content-Type": "application/json"})
        rows = self.assertReceived(result, 200)
        self.assertEqual([row["name"] for row in rows], [name])
        self.assertEqual(organizations_named(name), [(alice.smta_id, alice.smta_id)])
        self.assertIsNotNone(result["headers"]["x-request-id"], "X-Request-Id is not exposed to the page")
        self.assertIsNotNone(result["headers"]["server-timing"], "Server-Timing is not exposed to the page")

    def test_the_page_reads_content_range_of_a_counted_page(self):
        alice = User("alice")
        for index in range(3):
            call(bridge.url, "POST", "/rpc/create_organization", {"p_name": f"Counted {index}"},
                 {"Authorization": f"JWT {alice.token}"})
        held = database.value("select count(*) from core.memberships where user_id = %s::uuid", (alice.smta_id,))
        self.assertEqual(held, 3)
        # The headers supabase-js sends for rpc(..., {count: "exact", get: true}).order(...).limit(2).
        result = self.fetch_from("unlisted", "/rest/v1/rpc/list_my_organizations?order=name.desc&limit=2",
                                 method="GET", headers={
                                     "apikey": "sb_publishable_page", "Authorization": f"Bearer {alice.token}",
                                     "X-Client-Info": "supabase-js-web/2.50.0", "Accept-Profile": "public",
                                     "Prefer": "count=exact"})
        rows = self.assertReceived(result, 206)
        self.assertEqual([row["name"] for row in rows], ["Counted 2", "Counted 1"])
        self.assertEqual(result["headers"]["content-range"], "0-1/3", "Content-Range is not exposed to the page")

    def test_the_payload_cookie_with_credentials_include_works_from_a_listed_origin(self):
        bob = User("bob")
        self.set_payload_cookie(bob)
        name = f"Cookie {secrets.token_hex(3)}"
        result = self.fetch_from("listed", "/rpc/create_organization", body={"p_name": name},
                                 headers={"Content-Type": "application/json"}, credentials="include")
        rows = self.assertReceived(result, 200)
        self.assertEqual([row["name"] for row in rows], [name])
        self.assertEqual(organizations_named(name), [(bob.smta_id, bob.smta_id)])
        self.assertEqual(identity_links(bob), [(bob.smta_id,)])

    def test_the_payload_cookie_from_an_origin_not_listed_fails_in_the_browser_and_writes_nothing(self):
        carol = User("carol")
        self.set_payload_cookie(carol)
        name = f"Not listed {secrets.token_hex(3)}"
        before = database.fingerprint(("core.organizations", "core.identity_links", "core.users_meta"))
        with self.subTest("preflighted POST"):
            # JSON needs a preflight; a wildcard cannot admit a credentialed request: nothing is sent.
            result = self.fetch_from("unlisted", "/rpc/create_organization", body={"p_name": name},
                                     headers={"Content-Type": "application/json"}, credentials="include")
            self.assertBlockedByCors(result)
        with self.subTest("simple GET, sent with the cookie"):
            # No preflight: the browser sends it (cookie included), the bridge refuses the cookie
            # from an origin outside Payload's CSRF list, and the page may not read the answer.
            result = self.fetch_from("unlisted", "/rpc/get_user_profile", method="GET", credentials="include")
            self.assertBlockedByCors(result)
        with self.subTest("simple text/plain POST, sent with the cookie"):
            result = self.fetch_from("unlisted", "/rpc/create_organization", body=json.dumps({"p_name": name}),
                                     headers={"Content-Type": "text/plain"}, credentials="include")
            self.assertBlockedByCors(result)
        self.assertEqual(organizations_named(name), [])
        self.assertEqual(identity_links(carol), [], "a refused cookie created Carol's identity link")
        self.assertUnchanged(database, before, "cookie calls from an origin not listed")

    def test_an_error_is_readable_from_any_origin_without_credentials(self):
        # CORS headers on errors too: the page reads PostgREST's body of a 401.
        result = self.fetch_from("unlisted", "/rpc/create_organization", body={"p_name": "Anonymous"},
                                 headers={"Content-Type": "application/json"}, credentials="omit")
        body = self.assertReceived(result, 401)
        self.assertEqual(body["code"], "42501", body)
        self.assertEqual(organizations_named("Anonymous"), [])

    def test_a_lax_cookie_is_not_sent_cross_site_so_a_listed_cross_site_origin_calls_anonymously(self):
        # localhost and 127.0.0.1 are different sites: SameSite=Lax keeps the cookie home. The
        # origin is listed, so the page reads the answer: the bridge saw no credential at all.
        dave = User("dave")
        self.set_payload_cookie(dave)
        name = f"Cross-site {secrets.token_hex(3)}"
        result = self.fetch_from("cross_site", "/rpc/create_organization", body={"p_name": name},
                                 headers={"Content-Type": "application/json"}, credentials="include")
        body = self.assertReceived(result, 401)
        self.assertEqual(body["code"], "42501", "the call should be anonymous (no cookie sent), not a refused cookie")
        self.assertEqual(organizations_named(name), [])
        self.assertEqual(identity_links(dave), [])
        with self.subTest("the same page, same-site, sends it"):
            result = self.fetch_from("listed", "/rpc/get_user_profile", method="GET", credentials="include")
            rows = self.assertReceived(result, 200)
            self.assertEqual([(row["id"], row["email"]) for row in rows], [(dave.smta_id, dave.email)])


# ---------------------------------------------------------------------------------------------
# The CORS headers themselves, over raw HTTP
# ---------------------------------------------------------------------------------------------

class CorsHeaderTests(BridgeTestCase):
    ROUTES = ("/rpc/create_organization", "/rest/v1/rpc/list_my_organizations", "/health", "/rest/v1/",
              "/webhooks/stripe", "/no/such/route")

    def preflight(self, path, origin, method="POST", headers=",".join(CLIENT_HEADERS)):
        return call(bridge.url, "OPTIONS", path, None, {
            "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})

    def names(self, value):
        return {name.strip().lower() for name in (value or "").split(",") if name.strip()}

    def assertExposes(self, reply):
        exposed = self.names(reply.headers.get("access-control-expose-headers"))
        self.assertLessEqual(set(EXPOSED), exposed, reply.headers)

    def test_any_origin_gets_a_wildcard_without_credentials(self):
        for path in ("/rpc/list_my_organizations", "/health", "/rest/v1/rpc/no_such_function"):
            with self.subTest(path):
                method = "GET" if path == "/health" else "POST"
                reply = call(bridge.url, method, path, {} if method == "POST" else None,
                             {"Origin": origins["unlisted"]})
                self.assertEqual(reply.headers.get("access-control-allow-origin"), "*", reply.headers)
                self.assertNotIn("access-control-allow-credentials", reply.headers)
                self.assertExposes(reply)
                self.assertTrue(reply.headers.get("server-timing"), reply.headers)

    def test_a_listed_origin_is_echoed_with_credentials_and_vary_origin(self):
        alice = User("alice")
        reply = call(bridge.url, "POST", "/rpc/get_user_profile", {},
                     {"Origin": origins["listed"], "Cookie": f"{COOKIE}={alice.token}"})
        self.assertEqual(reply.status, 200, reply)
        self.assertEqual(reply.headers.get("access-control-allow-origin"), origins["listed"])
        self.assertEqual(reply.headers.get("access-control-allow-credentials"), "true")
        self.assertIn("origin", self.names(reply.headers.get("vary")))
        self.assertExposes(reply)
        self.assertEqual([row["id"] for row in reply.json()], [alice.smta_id])

    def test_an_origin_that_differs_from_a_listed_one_only_by_port_is_not_listed(self):
        port = int(origins["listed"].rsplit(":", 1)[1])
        near = f"http://127.0.0.1:{port + 1 if port < 65535 else port - 1}"
        reply = call(bridge.url, "GET", "/health", None, {"Origin": near})
        self.assertNotEqual(reply.headers.get("access-control-allow-origin"), near)
        self.assertNotIn("access-control-allow-credentials", reply.headers)

    def test_a_preflight_on_any_route_is_200_with_the_methods_headers_and_max_age(self):
        before = database.fingerprint()
        for path in self.ROUTES:
            for origin in ("unlisted", "listed"):
                with self.subTest(path, origin=origin):
                    reply = self.preflight(path, origins[origin])
                    self.assertEqual(reply.status, 200, reply)
                    methods = {name.upper() for name in self.names(reply.headers.get("access-control-allow-methods"))}
                    self.assertLessEqual({"GET", "POST", "HEAD", "OPTIONS"}, methods, reply.headers)
                    self.assertLessEqual(set(CLIENT_HEADERS), self.names(reply.headers.get("access-control-allow-headers")),
                                         reply.headers)
                    self.assertEqual(reply.headers.get("access-control-max-age"), "86400")
                    self.assertTrue(reply.headers.get("server-timing"), reply.headers)
                    if origin == "listed":
                        self.assertEqual(reply.headers.get("access-control-allow-origin"), origins["listed"])
                        self.assertEqual(reply.headers.get("access-control-allow-credentials"), "true")
                    else:
                        self.assertEqual(reply.headers.get("access-control-allow-origin"), "*")
                        self.assertNotIn("access-control-allow-credentials", reply.headers)
        self.assertUnchanged(database, before, "preflights")

    def test_a_preflight_allows_the_headers_it_is_asked_for_as_postgrest_does(self):
        # PostgREST (wai-cors) echoes Access-Control-Request-Headers into Allow-Headers, so a
        # supabase-js app with its own global headers works from a browser.
        reply = self.preflight("/rest/v1/rpc/list_my_organizations", origins["unlisted"],
                               headers="x-my-app-version, authorization")
        self.assertEqual(reply.status, 200, reply)
        self.assertLessEqual({"x-my-app-version", "authorization"},
                             self.names(reply.headers.get("access-control-allow-headers")), reply.headers)


if __name__ == "__main__":
    main()
