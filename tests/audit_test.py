"""The audit trail proves itself (issue #5): `jit audit verify` reports ok for an untouched trail
and names the first bad event of one tampered with behind the broker's back: an edited row, a
deleted row, two rows swapped, the newest rows cut off, an older copy of the database swapped
in. The broker is stopped, the SQLite file is changed with the sqlite3 tool (after dropping the
triggers that keep the table append-only, as an intruder would), and the broker started again.

Also: /metrics after a known scenario, and `jit audit export` in both formats."""

import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import unittest
import urllib.request as req

from harness import Server, cli, http, wait_for


def sql(db_path, *statements):
    """Runs statements on the stopped broker's database the way an intruder with the file would."""
    conn = sqlite3.connect(db_path)
    try:
        conn.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
        for s in statements:
            conn.execute(s)
        conn.commit()
    finally:
        conn.close()


class AuditTamperTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="jit-audit-")
        self.data = os.path.join(self.dir.name, "data")
        os.makedirs(self.data)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.close()
        self.dir.cleanup()

    def start(self):
        self.server = Server(data_dir=self.data)
        self.server.start()
        return self.server

    def stop(self):
        """SIGTERM: the broker signs a last checkpoint of everything written."""
        self.assertEqual(self.server.stop(), 0)
        self.server.close()
        self.server = None

    def make_events(self, n_requests=3):
        for i in range(n_requests):
            status, body = http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                                body={"account": "sandbox", "permission_set": "ReadOnly",
                                      "duration": "30m", "reason": f"audit test {i}"})
            self.assertEqual(status, 201, body)
            path = "/v1/requests/" + body["id"]
            self.assertTrue(wait_for(lambda: http(self.server.url, "GET", path,
                                                  token="dev-alice")[1]["state"] == "active",
                                     10))
            # Ended, so that the next one is not a duplicate of an open request
            # (docs/POLICY.md "Limits") and the trail is settled.
            self.assertEqual(http(self.server.url, "POST", path + "/revoke", token="dev-alice",
                                  body={})[0], 200)
            self.assertTrue(wait_for(lambda: http(self.server.url, "GET", path,
                                                  token="dev-alice")[1]["state"] == "ended",
                                     10))

    def verify(self):
        code, out, err = cli(self.server.url, "dev-carol", "--output", "json", "audit", "verify")
        return code, json.loads(out), err

    def db(self):
        return os.path.join(self.data, "jit.db")

    def checkpointed_trail(self):
        """A trail of some requests, checkpointed at stop; returns its last seq."""
        self.start()
        self.make_events()
        code, report, err = self.verify()
        self.assertEqual(code, 0, err)
        last = report["last_seq"]
        self.stop()
        with open(os.path.join(self.data, "audit-checkpoints.jsonl"), encoding="utf-8") as f:
            self.assertEqual(json.loads(f.readlines()[-1])["seq"], last)
        return last

    def assertCaught(self, problem, first_bad_seq):
        self.start()
        code, report, err = self.verify()
        self.assertEqual(code, 1, report)
        self.assertFalse(report["ok"])
        self.assertEqual(report["problem"], problem, report)
        self.assertEqual(report["first_bad_seq"], first_bad_seq, report)
        self.assertEqual(err.count("\n"), 1, err)
        self.assertIn(f"at seq {first_bad_seq}", err)
        return report

    def test_untouched_trail_verifies_with_its_checkpoint(self):
        last = self.checkpointed_trail()
        self.start()
        code, report, err = self.verify()
        self.assertEqual(code, 0, err)
        self.assertTrue(report["ok"])
        self.assertGreaterEqual(report["last_seq"], last)
        self.assertEqual(report["checkpoints"], 1)
        self.assertEqual(report["latest_checkpoint"]["seq"], last)
        code, out, _ = cli(self.server.url, "dev-carol", "audit", "verify")
        self.assertEqual(code, 0)
        self.assertRegex(out, r"ok:\s+true")

    def test_an_edited_row_is_reported(self):
        self.checkpointed_trail()
        sql(self.db(), "UPDATE audit_events SET details = '{\"reason\":\"nothing happened\"}' "
                       "WHERE seq = 4")
        report = self.assertCaught("edited", 4)
        self.assertIn("was edited", report["why"])

    def test_a_deleted_row_is_reported(self):
        self.checkpointed_trail()
        sql(self.db(), "DELETE FROM audit_events WHERE seq = 5")
        self.assertCaught("missing", 6)

    def test_swapped_rows_are_reported(self):
        self.checkpointed_trail()
        sql(self.db(),
            "UPDATE audit_events SET seq = -3 WHERE seq = 3",
            "UPDATE audit_events SET seq = 3 WHERE seq = 4",
            "UPDATE audit_events SET seq = 4 WHERE seq = -3")
        self.assertCaught("reordered", 3)

    def test_a_cut_off_tail_is_caught_by_the_checkpoint(self):
        last = self.checkpointed_trail()
        sql(self.db(), f"DELETE FROM audit_events WHERE seq > {last - 3}")
        report = self.assertCaught("truncated", last - 2)
        self.assertIn(f"the trail ends at seq {last - 3}", report["why"])

    def test_an_older_copy_of_the_database_is_caught(self):
        self.checkpointed_trail()
        old = os.path.join(self.dir.name, "old")
        os.makedirs(old)
        for name in os.listdir(self.data):
            if name.startswith("jit.db"):
                shutil.copy(os.path.join(self.data, name), old)
        self.start()
        self.make_events(2)
        self.stop()
        for name in os.listdir(self.data):
            if name.startswith("jit.db"):
                os.remove(os.path.join(self.data, name))
        for name in os.listdir(old):
            shutil.copy(os.path.join(old, name), self.data)
        # The broker goes on writing on top of the old copy.
        self.start()
        self.make_events(1)
        code, report, _ = self.verify()
        self.assertEqual(code, 1, report)
        self.assertIn(report["problem"], ("replaced", "truncated"), report)


class AuditExportAndMetricsTest(unittest.TestCase):
    def setUp(self):
        self.server = Server().start()

    def tearDown(self):
        self.server.close()

    def metric(self, text, name):
        m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
        return float(m.group(1)) if m else None

    def test_metrics_after_a_request_approve_activate_revoke(self):
        url = self.server.url
        status, r = http(url, "POST", "/v1/requests", token="dev-alice",
                         body={"account": "prod", "permission_set": "Admin", "duration": "10m",
                               "reason": "metrics"})
        self.assertEqual(status, 201, r)
        path = "/v1/requests/" + r["id"]
        self.assertEqual(http(url, "POST", path + "/approve", token="dev-bob", body={})[0], 200)
        self.assertTrue(wait_for(lambda: http(url, "GET", path, token="dev-alice")[1]["state"]
                                 == "active", 10))
        text = ""
        with req.urlopen(url + "/metrics", timeout=10) as resp:
            self.assertEqual(resp.headers["Content-Type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            text = resp.read().decode()
        self.assertIn("# HELP jit_requests_total ", text)
        self.assertIn("# TYPE jit_revoke_lag_seconds histogram", text)
        self.assertEqual(self.metric(text, 'jit_requests_total{state="pending"}'), 1)
        self.assertEqual(self.metric(text, 'jit_requests_total{state="approved"}'), 1)
        self.assertEqual(self.metric(text, 'jit_requests_total{state="active"}'), 1)
        self.assertEqual(self.metric(text, "jit_active_grants"), 1)
        self.assertEqual(self.metric(text, "jit_approval_seconds_count"), 1)
        self.assertEqual(self.metric(
            text, 'jit_provider_calls_total{operation="CreateAccountAssignment",outcome="ok"}'), 1)

        self.assertEqual(http(url, "POST", path + "/revoke", token="dev-carol", body={})[0], 200)
        self.assertTrue(wait_for(lambda: http(url, "GET", path, token="dev-alice")[1]["state"]
                                 == "ended", 10))
        with req.urlopen(url + "/metrics", timeout=10) as resp:
            text = resp.read().decode()
        self.assertEqual(self.metric(text, 'jit_requests_total{state="revoking"}'), 1)
        self.assertEqual(self.metric(text, 'jit_requests_total{state="ended"}'), 1)
        self.assertEqual(self.metric(text, "jit_active_grants"), 0)
        self.assertEqual(self.metric(text, "jit_revoke_lag_seconds_count"), 0)  # not an expiry
        status, audit = http(url, "GET", "/v1/audit?limit=1000", token="dev-carol")
        self.assertEqual(self.metric(text, "jit_audit_events_total"), len(audit["items"]))

    def test_export_jsonl_and_ocsf(self):
        status, r = http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                         body={"account": "sandbox", "permission_set": "ReadOnly",
                               "duration": "5m", "reason": "export"})
        self.assertEqual(status, 201, r)
        # Settled, so that both exports see the same events.
        self.assertTrue(wait_for(lambda: http(self.server.url, "GET", "/v1/requests/" + r["id"],
                                              token="dev-alice")[1]["state"] == "active", 10))
        code, out, err = cli(self.server.url, "dev-carol", "audit", "export", "--format", "jsonl")
        self.assertEqual(code, 0, err)
        lines = [json.loads(l) for l in out.splitlines()]
        self.assertGreaterEqual(len(lines), 2)
        self.assertEqual([e["seq"] for e in lines], list(range(1, len(lines) + 1)))
        code, out, err = cli(self.server.url, "dev-carol", "audit", "export", "--format", "ocsf")
        self.assertEqual(code, 0, err)
        ocsf = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(len(ocsf), len(lines))
        self.assertTrue(all(o["class_uid"] == 3005 for o in ocsf))
        code, _, err = cli(self.server.url, "dev-alice", "audit", "export")
        self.assertEqual(code, 1)
        self.assertIn("403", err)


if __name__ == "__main__":
    unittest.main()
