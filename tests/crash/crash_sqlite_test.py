"""Crash suite, SQLite: one broker (`jit serve --config`, SQLite in its data folder) against a
standalone `jit emulator`, under a steady lifecycle load with durations of a few seconds, is
killed with SIGKILL at random moments and started again each time. At the end the store is
compared with the emulator's ground truth (see crashlib.report_and_check): nothing
acknowledged is lost, every history is one consistent path, no assignment was created or
removed more often than jit recorded, none outlived its entitlement by more than TOLERANCE_S
after the broker was ready again, and the audit chain with its signed checkpoints verifies.

JIT_CRASH_SEED=N repeats a run's random choices (kill moments, down times, the load's actions;
thread timing still varies); JIT_CRASH_KILLS=N sets the number of kills (default 20, about a
minute). See docs/RELIABILITY.md."""

import os
import random
import sqlite3
import tempfile
import time
import unittest

import crashlib
from crashlib import Broker, Emulator, Load
from ha_test import chain_hash

# How long after the broker is ready again (or after the entitlement ended, when it was up)
# an assignment may still exist: the overdue revocation runs at start, then the delete takes
# the emulator's 200 ms.
TOLERANCE_S = 5.0


class CrashSqliteTest(unittest.TestCase):
    def test_sigkill_at_random_moments_loses_nothing_and_revokes_on_time(self):
        seed = crashlib.crash_seed()
        kills = crashlib.crash_kills(20)
        print(f"\ncrash_sqlite: seed {seed} (JIT_CRASH_SEED={seed} repeats its choices), "
              f"{kills} kills", flush=True)
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="jit-crash-sqlite-") as folder:
            key = crashlib.make_checkpoint_key(folder)
            config = os.path.join(folder, "jit.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(crashlib.broker_config(None, key))
            emulator = Emulator(folder)
            broker = Broker("sqlite", config, os.path.join(folder, "data"), emulator.env())
            fixed_url = None
            try:
                broker.start()
                fixed_url = broker.url
                load = Load(rng.getrandbits(64), lambda: [fixed_url])
                load.start()
                restart_s = []
                started = time.time()
                for _ in range(kills):
                    time.sleep(rng.uniform(0.3, 3.0))
                    killed_at = broker.kill()
                    time.sleep(rng.uniform(0.0, 1.0))
                    restart_s.append(broker.start() - killed_at)
                time.sleep(2.0)
                load.stop()
                loaded_s = time.time() - started
                requests, quiet_s = crashlib.wait_quiet(broker.url, emulator, timeout=60)

                def reference(t):
                    return broker.ready_after(t)

                numbers = crashlib.report_and_check(self, "crash_sqlite", load, requests,
                                                    emulator, reference, TOLERANCE_S,
                                                    [broker.url])
                print(f"crash_sqlite: {kills} kills in {loaded_s:.0f}s of load; down (kill to "
                      f"ready) {min(restart_s):.2f}..{max(restart_s):.2f}s, mean "
                      f"{sum(restart_s) / len(restart_s):.2f}s; quiet {quiet_s:.1f}s after the "
                      f"load stopped", flush=True)
                self.assertGreater(numbers["acknowledged"], 5 * kills // 2,
                                   "the load hardly ran")
                self.assertGreater(numbers["revocations_due_while_down"], 0,
                                   "no revocation fell due while the broker was down: the "
                                   "crashes tested nothing")
                broker.stop()
                self.check_database(os.path.join(broker.data_dir, "jit.db"), requests)
            finally:
                broker.close()
                emulator.close()

    def check_database(self, path, requests):
        """The audit chain recomputed from the database's own rows after a clean stop."""
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT seq, at_ms, actor, action, request_id, severity, details, "
                              "prev_hash, hash FROM audit_events ORDER BY seq").fetchall()
            jobs = db.execute("SELECT id, kind FROM jobs").fetchall()
            ledger = db.execute("SELECT principal_id, account_id FROM ledger").fetchall()
        finally:
            db.close()
        prev = "0" * 64
        for i, (seq, at_ms, actor, action, request_id, severity, details, prev_hash,
                h) in enumerate(rows):
            self.assertEqual(seq, i + 1)
            self.assertEqual(prev_hash, prev, f"seq {seq}")
            self.assertEqual(chain_hash(seq, at_ms, actor, action, request_id or "", severity,
                                        details, prev_hash), h, f"seq {seq}")
            prev = h
        self.assertEqual(len([r for r in rows if r[4]]),
                         sum(len(r["history"]) for r in requests.values()))
        self.assertEqual(jobs, [], "jobs left after every request ended")
        self.assertEqual(ledger, [], "ledger entries left after every request ended")


if __name__ == "__main__":
    unittest.main()
