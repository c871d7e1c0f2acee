"""`jit backup` and `jit restore` with the real binary, a broker (`jit serve --config`) and
`jit emulator` as Identity Center (docs/STORAGE.md "Backup and restore"): a backup taken under
load restores to a store whose audit chain verifies and whose grants end on time; what happened
after the backup (a revoke, an assignment made since) is carried forward from the replaced store
so that nothing is granted again and nothing jit made is left behind; bad input is one line on
stderr, exit 1, and no change in the data folder."""

import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash"))

import crashlib  # noqa: E402
from crashlib import ACCOUNTS, PS, USERS, http, token  # noqa: E402
from harness import JIT, parse_time, wait_for  # noqa: E402

SCALE = crashlib.timing_scale()


def run(*args):
    p = subprocess.run([JIT] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def listing(folder):
    """Names, sizes and modification times of a folder's files."""
    out = {}
    for name in os.listdir(folder):
        st = os.stat(os.path.join(folder, name))
        out[name] = (st.st_size, st.st_mtime_ns)
    return out


def triple(user, account, ps):
    return (USERS[user][0], ACCOUNTS[account], PS[ps])


def held(emulator):
    return {(a["PrincipalId"], a["AccountId"], a["PermissionSetArn"])
            for a in emulator.state()["assignments"]}


class BackupTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="jit-backup-")
        cls.root = cls.tmp.name
        cls.emulator = crashlib.Emulator(cls.root)
        key = crashlib.make_checkpoint_key(cls.root)
        cls.config = os.path.join(cls.root, "config.yaml")
        with open(cls.config, "w", encoding="utf-8") as f:
            f.write(crashlib.broker_config(None, key))
        cls.pg_config = os.path.join(cls.root, "pg.yaml")
        with open(cls.pg_config, "w", encoding="utf-8") as f:
            f.write(crashlib.broker_config("postgresql://jit@127.0.0.1:1/jit", key))

    @classmethod
    def tearDownClass(cls):
        cls.emulator.close()
        cls.tmp.cleanup()

    def setUp(self):
        self.folder = tempfile.mkdtemp(dir=self.root)
        self.data = os.path.join(self.folder, "data")
        self.broker = crashlib.Broker("b", self.config, self.data, self.emulator.env())
        self.addCleanup(self.broker.close)

    def submit(self, user, account, ps, seconds):
        status, r = http(self.broker.url, "POST", "/v1/requests", token(user),
                         {"account": account, "permission_set": ps, "duration": f"{seconds}s",
                          "reason": "backup suite"})
        self.assertEqual(status, 201, r)
        return r["id"]

    def get(self, rid):
        return http(self.broker.url, "GET", f"/v1/requests/{rid}", token("carol"))

    def wait_state(self, rid, states, timeout=15):
        def state():
            status, r = self.get(rid)
            return r if status == 200 and r["state"] in states else None
        r = wait_for(state, timeout * SCALE)
        self.assertIsNotNone(r, f"{rid} never reached {states}: {self.get(rid)}")
        return r

    def audit_actions(self):
        status, page = http(self.broker.url, "GET", "/v1/audit?limit=1000", token("carol"))
        self.assertEqual(status, 200, page)
        return [e["action"] for e in page["items"]]

    def verify(self):
        code, report, err = crashlib.audit_verify(self.broker.url)
        self.assertEqual(code, 0, (report, err))
        self.assertTrue(report and report.get("ok"), report)
        return report

    def restore(self, backup):
        code, out, err = run("restore", backup, "--data", self.data)
        self.assertEqual(code, 0, out + err)
        return out, err

    # ---------------------------------------------------------------------------------------

    def test_backup_under_load_restores_a_verified_trail_whose_grants_end_on_time(self):
        self.broker.start()
        load = crashlib.Load(7, lambda: [self.broker.url] if self.broker.url else [],
                             workers=3, pause=(0.05, 0.2), durations=(6, 12))
        load.start()
        try:
            time.sleep(2 * SCALE)
            backup = os.path.join(self.folder, "under-load.db")
            code, out, err = run("backup", backup, "--data", self.data)
            self.assertEqual(code, 0, out + err)
            with sqlite3.connect(backup) as db:
                version = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            self.assertIn("schema version %d" % version, out)
            self.assertFalse(os.path.exists(backup + ".tmp"))
            time.sleep(1.5 * SCALE)
        finally:
            load.stop()
        self.assertGreater(len(load.acked), 5, load.summary())
        self.broker.stop()

        out, _ = self.restore(backup)
        self.assertIn("The replaced store is kept as", out)
        ready = self.broker.start()
        self.verify()
        actions = self.audit_actions()
        self.assertIn("store.restored", actions)

        # Every grant ends; revocations due while the broker was down run at start, the others
        # on time; nothing is left at the emulator.
        requests, _ = crashlib.wait_quiet(self.broker.url, self.emulator, 60 * SCALE)
        late = []
        for r in requests.values():
            if r["state"] != "ended" or not r.get("expires_at") or not r.get("ended_at"):
                continue
            if "expired" not in (r.get("end_reason") or ""):
                continue
            due = max(parse_time(r["expires_at"]), ready)
            lag = parse_time(r["ended_at"]) - due
            if lag > 3 * SCALE:
                late.append((r["id"], round(lag, 2)))
        self.assertEqual(late, [], "grants that ended late after the restore")
        self.verify()

    def test_restore_carries_forward_what_happened_after_the_backup(self):
        self.broker.start()
        revoked = self.submit("dave", "sandbox", "ReadOnly", 600)
        short = self.submit("alice", "prod", "ReadOnly", 8)
        approved_later = self.submit("frank", "prod", "Admin", 10)  # needs an approver
        self.wait_state(revoked, {"active"})
        short_r = self.wait_state(short, {"active"})
        self.wait_state(approved_later, {"pending"})

        backup = os.path.join(self.folder, "b.db")
        code, out, err = run("backup", backup, "--data", self.data)
        self.assertEqual(code, 0, out + err)

        # After the backup: one request approved (first, well within its approval timeout of
        # crashlib.APPROVAL_TIMEOUT_S, which the sanitizer build's slower steps below could
        # outlast), one grant revoked, one made.
        status, r = http(self.broker.url, "POST", f"/v1/requests/{approved_later}/approve",
                         token("bob"), {"comment": "after the backup"})
        self.assertEqual(status, 200, r)
        status, r = http(self.broker.url, "POST", f"/v1/requests/{revoked}/revoke",
                         token("carol"), {"reason": "after the backup"})
        self.assertEqual(status, 200, r)
        self.wait_state(revoked, {"ended"})
        made = self.submit("erin", "sandbox", "ReadOnly", 600)
        self.wait_state(made, {"active"})
        granted = self.wait_state(approved_later, {"active"})
        self.assertIn(triple("erin", "sandbox", "ReadOnly"), held(self.emulator))
        self.assertNotIn(triple("dave", "sandbox", "ReadOnly"), held(self.emulator))
        self.broker.stop()

        out, err = self.restore(backup)
        # The revoked grant (and the short one, if a slow machine let it expire meanwhile).
        self.assertRegex(out, r"[12] requests ended since the backup")
        self.assertIn("1 granted since", out)
        self.assertEqual(err, "")
        restarted = time.time()
        self.broker.start()

        # The assignment made after the backup is found and removed (the reconciler at start).
        self.assertTrue(wait_for(
            lambda: triple("erin", "sandbox", "ReadOnly") not in held(self.emulator),
            10 * SCALE), "the assignment made after the backup was left behind")
        self.assertEqual(self.get(made)[0], 404)
        # The grant revoked after the backup stays ended and is not granted again.
        status, r = self.get(revoked)
        self.assertEqual(r["state"], "ended", r)
        self.assertIn("after the backup", r.get("end_reason", ""))
        # The grant active in the backup still ends on time.
        ended = self.wait_state(short, {"ended"}, timeout=20)
        self.assertLess(parse_time(ended["ended_at"]) - parse_time(short_r["expires_at"]),
                        3 * SCALE)
        self.assertNotIn(triple("alice", "prod", "ReadOnly"), held(self.emulator))
        # The grant approved after the backup keeps its expiry (no new full-length grant) and
        # ends then.
        status, r = self.get(approved_later)
        self.assertEqual(r["expires_at"], granted["expires_at"], r)
        ended = self.wait_state(approved_later, {"ended"}, timeout=20)
        self.assertLess(parse_time(ended["ended_at"]) - parse_time(granted["expires_at"]),
                        3 * SCALE)
        self.assertNotIn(triple("frank", "prod", "Admin"), held(self.emulator))
        history = self.emulator.history()
        readds = [e for e in history["events"]
                  if e["phase"] == "settled" and e["effect"] == "added"
                  and e["at_ms"] / 1000.0 >= restarted
                  and (e["PrincipalId"], e["AccountId"], e["PermissionSetArn"])
                  == triple("dave", "sandbox", "ReadOnly")]
        self.assertEqual(readds, [], "the revoked grant was granted again")
        actions = self.audit_actions()
        for a in ("restore.request_ended", "restore.request_granted", "restore.ledger_carried",
                  "store.restored", "drift.deleted"):
            self.assertIn(a, actions)
        self.verify()

    def test_restore_into_an_empty_folder_warns_about_what_it_cannot_see(self):
        self.broker.start()
        self.wait_state(self.submit("frank", "sandbox", "ReadOnly", 5), {"active"})
        backup = os.path.join(self.folder, "b.db")
        self.assertEqual(run("backup", backup, "--config", self.config, "--data", self.data)[0], 0)
        self.broker.stop()
        fresh = os.path.join(self.folder, "fresh")
        code, out, err = run("restore", backup, "--data", fresh)
        self.assertEqual(code, 0, out + err)
        self.assertIn("jit assignments standing", err)
        other = crashlib.Broker("fresh", self.config, fresh, self.emulator.env())
        self.addCleanup(other.close)
        other.start()
        self.broker = other
        self.verify()
        crashlib.wait_quiet(other.url, self.emulator, 30 * SCALE)

    def test_bad_input_is_one_line_and_changes_nothing(self):
        self.broker.start()
        # Something to back up, over before the broker stops (the emulator is shared).
        self.wait_state(self.submit("frank", "prod", "ReadOnly", 1), {"ended"})
        good = os.path.join(self.folder, "good.db")
        self.assertEqual(run("backup", good, "--data", self.data)[0], 0)

        def refused(args, *words):
            code, out, err = run(*args)
            self.assertEqual(code, 1, out + err)
            self.assertTrue(err.startswith("jit: "), err)
            self.assertEqual(err.count("\n"), 1, err)
            for w in words:
                self.assertIn(w, err)

        # Backups: an unwritable path, an existing file, a PostgreSQL store.
        refused(["backup", "/proc/jit-backup.db", "--data", self.data], "cannot write")
        refused(["backup", os.path.join(self.folder, "no", "such", "b.db"), "--data",
                 self.data], "cannot write")
        refused(["backup", good, "--data", self.data], "exists")
        refused(["backup", os.path.join(self.folder, "pg.db"), "--config", self.pg_config],
                "pg_dump", "docs/STORAGE.md")

        # Restore while the broker runs.
        names = set(os.listdir(self.data))
        refused(["restore", good, "--data", self.data], "a jit server is running")
        self.assertEqual(set(os.listdir(self.data)), names)
        self.broker.stop()

        before = listing(self.data)
        corrupt = os.path.join(self.folder, "corrupt.db")
        shutil.copy(good, corrupt)
        with open(corrupt, "r+b") as f:
            f.seek(4096 + 8)
            f.write(b"\xff" * 300)
        refused(["restore", corrupt, "--data", self.data], "cannot restore")
        garbage = os.path.join(self.folder, "garbage.db")
        with open(garbage, "wb") as f:
            f.write(os.urandom(16384))
        refused(["restore", garbage, "--data", self.data], "not a SQLite database")
        newer = os.path.join(self.folder, "newer.db")
        shutil.copy(good, newer)
        with sqlite3.connect(newer) as db:
            known = db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
            db.execute("UPDATE schema_version SET version = version + 1")
        refused(["restore", newer, "--data", self.data], "schema version is %d" % (known + 1),
                "newer than this jit knows (%d)" % known)
        refused(["restore", os.path.join(self.folder, "missing.db"), "--data", self.data],
                "no such file")
        self.assertEqual(listing(self.data), before)


if __name__ == "__main__":
    unittest.main()
