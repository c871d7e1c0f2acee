"""Crash suite, PostgreSQL: two replicas (`jit serve --config`, store postgres://...) on one
throwaway PostgreSQL 15 (tests/pgserver.py) against a standalone `jit emulator`, under a steady
lifecycle load sent to both. Replica A is killed with SIGKILL at random moments, many times, and
started again each time; replica B keeps going. The same end checks as the SQLite run
(crashlib.report_and_check), with the bound measured from the entitlement's end itself (B was
always up): no assignment outlives its entitlement by more than TOLERANCE_S. Also measured: the
take-over time, from A's death to another replica holding (or having finished) each job A held
a lease on, and how many of the grants A made were revoked by another process.

JIT_CRASH_SEED and JIT_CRASH_KILLS as for crash_sqlite_test.py (default 15 kills here)."""

import os
import random
import re
import tempfile
import threading
import time
import unittest

import crashlib
from crashlib import Broker, Emulator, Load
from pgserver import PgServer

# A revocation whose job A held when it died waits for A's lease (5 s after its last renewal),
# then B's next re-scan (1 s), then the delete (0.2 s) and, if A had issued it, B's poll (1 s).
TOLERANCE_S = 9.0


class TakeOverWatch:
    """After a kill: the jobs the dead process held a lease on, and when each was next held by
    another process (or finished)."""

    def __init__(self, pg, database, pid, killed_at):
        self.pg = pg
        self.database = database
        self.killed_at = killed_at
        self.pattern = f"%-{pid}-%"
        self.times = {}  # job id -> seconds from the kill to the take-over
        self.jobs = {}
        now_ms = int(killed_at * 1000)
        rows = pg.psql(database, "SELECT id, kind FROM jobs WHERE lease_owner LIKE "
                                 f"'{self.pattern}' AND lease_until_ms > {now_ms}")
        self.jobs = {r[0]: r[1] for r in rows}
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def _watch(self):
        pending = dict(self.jobs)
        deadline = time.time() + 30
        while pending and time.time() < deadline:
            ids = ",".join(f"'{j}'" for j in pending)
            rows = self.pg.psql(self.database,
                                f"SELECT id FROM jobs WHERE id IN ({ids}) AND lease_owner LIKE "
                                f"'{self.pattern}'")
            still = {r[0] for r in rows}
            now = time.time()
            for j in list(pending):
                if j not in still:
                    self.times[j] = now - self.killed_at
                    del pending[j]
            time.sleep(0.1)
        for j in pending:
            self.times[j] = None  # never taken over within 30 s

    def join(self):
        self.thread.join(40)


class CrashPostgresTest(unittest.TestCase):
    def test_one_replica_killed_again_and_again_while_the_other_keeps_going(self):
        seed = crashlib.crash_seed()
        kills = crashlib.crash_kills(15)
        print(f"\ncrash_postgres: seed {seed} (JIT_CRASH_SEED={seed} repeats its choices), "
              f"{kills} kills of replica a", flush=True)
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="jit-crash-pg-") as folder:
            pg = PgServer().start()
            emulator = None
            brokers = {}
            try:
                url = pg.create_database("jit_crash")
                key = crashlib.make_checkpoint_key(folder)
                config = os.path.join(folder, "jit.yaml")
                with open(config, "w", encoding="utf-8") as f:
                    f.write(crashlib.broker_config(url, key))
                emulator = Emulator(folder)
                for name in ("a", "b"):
                    brokers[name] = Broker(name, config, os.path.join(folder, "data-" + name),
                                           emulator.env())
                    brokers[name].start()
                a, b = brokers["a"], brokers["b"]
                urls = [a.url, b.url]
                load = Load(rng.getrandbits(64), lambda: urls)
                load.start()
                watches = []
                restart_s = []
                started = time.time()
                for _ in range(kills):
                    time.sleep(rng.uniform(0.5, 4.0))
                    pid = a.proc.pid
                    killed_at = a.kill()
                    watches.append(TakeOverWatch(pg, "jit_crash", pid, killed_at))
                    time.sleep(rng.uniform(0.0, 1.5))
                    restart_s.append(a.start() - killed_at)
                time.sleep(2.0)
                load.stop()
                loaded_s = time.time() - started
                for w in watches:
                    w.join()
                requests, quiet_s = crashlib.wait_quiet(b.url, emulator, timeout=60)
                numbers = crashlib.report_and_check(self, "crash_postgres", load, requests,
                                                    emulator, lambda t: t, TOLERANCE_S,
                                                    [a.url, b.url])
                takeovers = [t for w in watches for t in w.times.values()]
                held = sum(len(w.jobs) for w in watches)
                kinds = {}
                for w in watches:
                    for k in w.jobs.values():
                        kinds[k] = kinds.get(k, 0) + 1
                self.assertNotIn(None, takeovers, "a job of the dead replica was never taken over")
                handed = self.grants_revoked_elsewhere(a, b)
                print(f"crash_postgres: {kills} kills of a in {loaded_s:.0f}s of load; a down "
                      f"(kill to ready) {min(restart_s):.2f}..{max(restart_s):.2f}s; jobs a held "
                      f"a lease on when killed: {held} {kinds}; take-over "
                      + (f"{min(takeovers):.2f}..{max(takeovers):.2f}s" if takeovers else "n/a")
                      + f"; grants made by one process and revoked by another: {handed}; quiet "
                      f"{quiet_s:.1f}s after the load stopped", flush=True)
                self.assertGreater(numbers["acknowledged"], 5 * kills // 2, "the load hardly ran")
                self.assertGreater(handed, 0, "no grant outlived the process that made it")
                if takeovers:
                    self.assertLess(max(takeovers), TOLERANCE_S * crashlib.timing_scale())
            finally:
                for br in brokers.values():
                    br.close()
                if emulator:
                    emulator.close()
                pg.close()

    @staticmethod
    def grants_revoked_elsewhere(a, b):
        """Requests whose grant job one process finished and whose revoke job another did."""
        done = {}
        for log in (a.read_log(), b.read_log()):
            for m in re.finditer(r"scheduler: (grant|revoke) job \S+ \(request (req_\w+)\) "
                                 r"done by (\S+?)\"?[,}\s]", log):
                done.setdefault(m.group(2), {})[m.group(1)] = m.group(3)
        return sum(1 for d in done.values()
                   if "grant" in d and "revoke" in d and d["grant"] != d["revoke"])


if __name__ == "__main__":
    unittest.main()
