"""Fault suite, cross-process: the real broker (`jit serve --config`) against a standalone
`jit emulator` while its store fails.

- SQLite busy: another connection holds the write lock (`BEGIN IMMEDIATE` from Python's
  sqlite3) across a grant's expiry. Writes answer 503 with a JSON error after the busy timeout;
  reads and the emulator's assignment stay as they were (the revocation cannot be recorded, so
  it is not issued); once the lock is gone the revocation finishes within seconds.
- PostgreSQL lost and back: the test's PostgreSQL server is stopped under a live broker across
  a grant's expiry, then started again on the same port. The API answers 503 cleanly meanwhile,
  /readyz fails, no grant is made; once the server is back the broker reconnects by itself and
  the overdue revocation runs first.

The measured times are printed (docs/RELIABILITY.md quotes them)."""

import os
import sqlite3
import tempfile
import time
import unittest

from crashlib import (ACCOUNTS, USERS, Broker, Emulator, broker_config, http,
                      make_checkpoint_key, token)
from harness import parse_time, wait_for
from pgserver import PgServer

ALICE = USERS["alice"][0]


def assignment(emulator, principal, account):
    return [a for a in emulator.state()["assignments"]
            if a["PrincipalId"] == principal and a["AccountId"] == account]


class StoreFaultTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="jit-fault-")
        self.folder = self.dir.name
        self.key = make_checkpoint_key(self.folder)
        self.emulator = Emulator(self.folder)
        self.brokers = []
        self.pg = None

    def tearDown(self):
        for b in self.brokers:
            b.close()
        self.emulator.close()
        if self.pg:
            self.pg.close()
        self.dir.cleanup()

    def broker(self, store_url=None, name="a"):
        config = os.path.join(self.folder, f"jit-{name}.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(broker_config(store_url, self.key))
        b = Broker(name, config, os.path.join(self.folder, "data-" + name),
                   self.emulator.env())
        self.brokers.append(b)
        b.start()
        return b

    def active_grant(self, url, seconds):
        status, req = http(url, "POST", "/v1/requests", token("alice"),
                           {"account": "sandbox", "permission_set": "ReadOnly",
                            "duration": f"{seconds}s", "reason": "fault test"})
        self.assertEqual(status, 201, req)
        got = wait_for(lambda: (lambda r: r[1] if r[1] and r[1].get("state") == "active"
                                else None)(http(url, "GET", f"/v1/requests/{req['id']}",
                                                token("alice"))), 15)
        self.assertTrue(got, "the grant never became active")
        return got

    def assert_clean_503(self, status, body, what):
        self.assertEqual(status, 503, f"{what}: {status} {body}")
        self.assertIsInstance(body, dict, what)
        self.assertEqual(set(body), {"error"}, f"{what}: {body}")
        self.assertEqual(body["error"]["code"], "unavailable", f"{what}: {body}")
        self.assertIsInstance(body["error"]["message"], str)

    def test_sqlite_write_lock_held_by_another_connection(self):
        b = self.broker()
        active = self.active_grant(b.url, 6)
        expires = parse_time(active["expires_at"])
        db = sqlite3.connect(os.path.join(b.data_dir, "jit.db"), isolation_level=None,
                             timeout=10)
        db.execute("BEGIN IMMEDIATE")  # the write lock, until ROLLBACK
        locked_at = time.time()
        try:
            t0 = time.time()
            status, body = http(b.url, "POST", "/v1/requests", token("alice"),
                                {"account": "prod", "permission_set": "ReadOnly",
                                 "duration": "1m", "reason": "while locked"})
            waited = time.time() - t0
            self.assert_clean_503(status, body, "POST /v1/requests while locked")
            status, body = http(b.url, "GET", "/readyz")
            self.assertEqual(status, 503, body)
            # Reads go on (WAL); the request is as it was.
            status, seen = http(b.url, "GET", f"/v1/requests/{active['id']}", token("alice"))
            self.assertEqual(status, 200, seen)
            # Across the expiry and beyond: the revocation cannot be recorded, so it is not issued.
            while time.time() < max(expires + 4, locked_at + 8):
                self.assertEqual(len(assignment(self.emulator, ALICE, ACCOUNTS["sandbox"])), 1)
                time.sleep(0.25)
        finally:
            db.execute("ROLLBACK")
            db.close()
        released = time.time()
        gone = wait_for(lambda: not assignment(self.emulator, ALICE, ACCOUNTS["sandbox"]), 40,
                        interval=0.05)
        self.assertTrue(gone, "the revocation did not finish after the lock was released")
        lag = time.time() - released
        ended = wait_for(lambda: (lambda r: r[1] if r[1] and r[1].get("state") == "ended"
                                  else None)(http(b.url, "GET", f"/v1/requests/{active['id']}",
                                                  token("alice"))), 20)
        self.assertTrue(ended)
        print(f"\nfault sqlite busy: writes answered 503 after {waited:.2f}s (busy timeout); "
              f"assignment removed {lag:.2f}s after the lock was released "
              f"({released - expires:.1f}s past its expiry)", flush=True)
        self.assertGreater(waited, 4.0, "answered before the busy timeout")
        self.assertLess(lag, 35.0)
        status, _ = http(b.url, "POST", "/v1/requests", token("alice"),
                         {"account": "prod", "permission_set": "ReadOnly", "duration": "2s",
                          "reason": "after the lock"})
        self.assertEqual(status, 201)

    def test_postgres_lost_and_back_under_a_live_broker(self):
        self.pg = PgServer().start()
        url = self.pg.create_database("jit_fault")
        b = self.broker(url)
        active = self.active_grant(b.url, 5)
        expires = parse_time(active["expires_at"])
        self.pg.stop("fast")
        down_at = time.time()
        try:
            status, body = http(b.url, "POST", "/v1/requests", token("alice"),
                                {"account": "prod", "permission_set": "ReadOnly",
                                 "duration": "1m", "reason": "while down"})
            self.assert_clean_503(status, body, "POST /v1/requests while PostgreSQL is down")
            status, body = http(b.url, "GET", f"/v1/requests/{active['id']}", token("alice"))
            self.assert_clean_503(status, body, "GET while PostgreSQL is down")
            status, _ = http(b.url, "GET", "/readyz")
            self.assertEqual(status, 503)
            # Nothing revokes without the database: the assignment outlives its expiry.
            while time.time() < max(expires + 3, down_at + 5):
                self.assertEqual(len(assignment(self.emulator, ALICE, ACCOUNTS["sandbox"])), 1)
                time.sleep(0.25)
        finally:
            self.pg.restart()
        back = time.time()
        gone = wait_for(lambda: not assignment(self.emulator, ALICE, ACCOUNTS["sandbox"]), 40,
                        interval=0.05)
        self.assertTrue(gone, "the revocation did not finish after PostgreSQL came back")
        lag = time.time() - back
        ready = wait_for(lambda: http(b.url, "GET", "/readyz")[0] == 200, 20)
        self.assertTrue(ready, "the broker is not ready again")
        ended = wait_for(lambda: (lambda r: r[1] if r[1] and r[1].get("state") == "ended"
                                  else None)(http(b.url, "GET", f"/v1/requests/{active['id']}",
                                                  token("alice"))), 20)
        self.assertTrue(ended)
        print(f"\nfault postgres: down {back - down_at:.1f}s across the expiry; assignment "
              f"removed {lag:.2f}s after PostgreSQL was back", flush=True)
        self.assertLess(lag, 35.0)
        status, _ = http(b.url, "POST", "/v1/requests", token("alice"),
                         {"account": "prod", "permission_set": "ReadOnly", "duration": "2s",
                          "reason": "after the outage"})
        self.assertEqual(status, 201)
        self.assertEqual(b.proc.poll(), None, "the broker died during the outage")


if __name__ == "__main__":
    unittest.main()
