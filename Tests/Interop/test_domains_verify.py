#!/usr/bin/env python3
"""``smta domains verify`` against a real DNS server: dnslib's, serving TXT records on loopback
as an organization's DNS host would. A claim whose record holds its token is verified; a claim
whose record is missing, holds another token or belongs to another organization is not; an
unreachable server is said so and exits 1. The database is read with psycopg.

Needs SMTA_INTEROP_BINARY and SMTA_INTEROP_DATABASE_URL (a database migrated with the core and
Payload migrations); see bridge_common.py.
"""

import os
import secrets
import socket
import subprocess
import tempfile
import threading
import uuid

import psycopg

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSServer

from bridge_common import BINARY, DATABASE_URL, BridgeTestCase, Database, main, require_environment

ENVIRONMENT = require_environment(BINARY, DATABASE_URL)
SMTA = ENVIRONMENT[BINARY]
database = Database(ENVIRONMENT[DATABASE_URL])


class Zone(BaseResolver):
    """TXT records by name; every other question gets NXDOMAIN. Records the names asked."""

    def __init__(self):
        self.records = {}
        self.asked = []
        self.lock = threading.Lock()

    def publish(self, name, *values):
        with self.lock:
            self.records[name.rstrip(".").lower()] = list(values)

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            self.asked.append(name)
            values = self.records.get(name)
        if request.q.qtype == QTYPE.TXT and values is not None:
            for value in values:
                reply.add_answer(RR(request.q.qname, QTYPE.TXT, rdata=TXT(value), ttl=60))
        elif values is None:
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


def smta(*arguments):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SMTA_")}
    environment["SMTA_DATABASE_URL"] = ENVIRONMENT[DATABASE_URL]
    result = subprocess.run([SMTA, *arguments], cwd=tempfile.gettempdir(), env=environment,
                            capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def as_user(user_id, email, sql, parameters=()):
    """Runs ``sql`` as the signed-in Payload user ``user_id`` (identity settings as the bridge
    sets them), in one transaction, after recording their email as the adapter does."""
    with psycopg.connect(ENVIRONMENT[DATABASE_URL]) as connection:
        connection.execute("insert into core.users_meta (id, email) values (%s, %s) on conflict (id) do nothing",
                           (user_id, email))
        connection.execute("select set_config('app.current_user_id', %s, true)", (str(user_id),))
        connection.execute("set local role authenticated")
        return connection.execute(sql, parameters).fetchall()


def claim(label, domain=None):
    """A new organization, its owner a new user, claiming ``domain`` (``<label>-<tag>.example``
    by default); returns the claim as add_organization_domain gives it, with its domain id."""
    owner = uuid.uuid4()
    email = f"owner.{label}.{secrets.token_hex(3)}@example.com"
    organization = as_user(owner, email, "select id from public.create_organization(%s)", (f"Domains {label}",))[0][0]
    domain = domain or f"{label}-{secrets.token_hex(4)}.example"
    domain_id, name, token, record = as_user(
        owner, email, "select id, domain, verification_token, record_name from public.add_organization_domain(%s, %s)",
        (organization, domain))[0]
    return {"id": domain_id, "domain": name, "token": token, "record": record, "organization": organization,
            "value": f"smta-domain-verification={token}"}


def verified(domain_id):
    return database.value("select verified_at is not null from core.organization_domains where id = %s", (domain_id,))


class DomainsVerifyTests(BridgeTestCase):
    @classmethod
    def setUpClass(cls):
        cls.zone = Zone()
        cls.port = free_udp_port()
        cls.server = DNSServer(cls.zone, port=cls.port, address="127.0.0.1")
        cls.server.start_thread()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        # Every run checks every pending claim: start each test without the others' leftovers.
        database.execute("delete from core.organization_domains where verified_at is null")

    def test_a_published_record_verifies_its_claim_and_only_that_one(self):
        good = claim("good")
        wrong = claim("wrong")
        missing = claim("missing")
        rival = claim("rival", domain=good["domain"])   # a second organization claims the same domain
        self.zone.publish(good["record"], good["value"], rival["value"])
        self.zone.publish(wrong["record"], "smta-domain-verification=" + secrets.token_urlsafe(48))

        status, out, err = smta("domains", "verify", "--dns-server", f"127.0.0.1:{self.port}")
        self.assertEqual(status, 0, out + err)
        self.assertIn(f"verified: {good['domain']}", out)
        self.assertIn(f"not verified: {good['domain']}: another organization verified it first", out)
        self.assertIn(f"not yet: {wrong['domain']}", out)
        self.assertIn(f"not yet: {missing['domain']}", out)
        self.assertIn("4 pending claim(s): 1 verified, 0 not checked.", out)
        self.assertEqual([verified(c["id"]) for c in (good, wrong, missing, rival)], [True, False, False, False])
        self.assertTrue({good["record"], wrong["record"], missing["record"]} <= set(self.zone.asked), self.zone.asked)
        self.assertNotIn(good["token"], err)

        # Published later, the record verifies the claim on the next run; verified claims are not
        # checked again (the rival, still pending, is: its domain stays another organization's).
        self.zone.publish(missing["record"], missing["value"])
        status, out, err = smta("domains", "verify", "--dns-server", f"127.0.0.1:{self.port}")
        self.assertEqual(status, 0, out + err)
        self.assertIn("3 pending claim(s): 1 verified, 0 not checked.", out)
        self.assertIn(f"verified: {missing['domain']}", out)
        self.assertIn(f"not verified: {good['domain']}: another organization verified it first", out)
        self.assertEqual([verified(c["id"]) for c in (good, wrong, missing, rival)], [True, False, True, False])

    def test_an_unreachable_dns_server_is_said_so_exits_1_and_verifies_nothing(self):
        pending = claim("unreachable")
        self.zone.publish(pending["record"], pending["value"])
        silent = free_udp_port()   # nobody listens there
        status, out, err = smta("domains", "verify", "--dns-server", f"127.0.0.1:{silent}", "--dns-timeout", "0.5")
        self.assertEqual(status, 1, out + err)
        self.assertIn(f"not checked: {pending['domain']}", out)
        self.assertIn("no DNS server answered", out)
        self.assertFalse(verified(pending["id"]))

    def test_a_dns_server_that_is_not_an_address_is_refused_before_anything(self):
        pending = claim("refused")
        status, out, err = smta("domains", "verify", "--dns-server", "dns.example")
        self.assertNotEqual(status, 0)
        self.assertIn("--dns-server dns.example: not an IP address", err)
        self.assertFalse(verified(pending["id"]))


if __name__ == "__main__":
    main()
