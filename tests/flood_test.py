"""Connection flood (issue 15, finding 1), cross-process: a broker started with `ulimit -n` at
systemd's default (soft 512 here, hard 1024: the broker raises the soft limit to the hard one at
start) against a standalone `jit emulator`, while this process holds 2,000 idle TCP connections
to it and opens a new one for each the broker closes.

Before the fix the flood took every descriptor of the broker: /healthz stopped answering, the
log filled with "accept failed: Too many open files" ten times a second, and a grant that
expired during the flood was revoked 25 s late because DeleteAccountAssignment could not open a
socket. Now the API's connections are capped below the file limit (a quarter of it kept for
the broker's own calls), the connection that has waited longest for a request makes room for a
new one, and this test shows during the flood: /healthz answers (its latency is printed), a
grant requested during the flood is granted and revoked on time (measured against the
emulator's history), and the broker never holds more descriptors than its limit allows.

Figures are printed; docs/RELIABILITY.md "Connection flood" records them."""

import http.client
import os
import re
import resource
import selectors
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash"))

import crashlib  # noqa: E402
from crashlib import ACCOUNTS, PS, USERS, Broker, Emulator, token  # noqa: E402
from harness import parse_time, wait_for  # noqa: E402

call = crashlib.http  # one API call: (status, JSON body); `http` is the standard package here

BROKER_SOFT, BROKER_HARD = 512, 1024
# The cap the broker derives from 1,024 open files: 256 are kept for its own use.
EXPECTED_CAP = 768
FLOOD = 2000
GRANT_SECONDS = 4
# The emulator settles a delete 200 ms after the call; the revoke job runs at expires_at.
MAX_REVOCATION_LAG_S = 2.0
MAX_HEALTH_LATENCY_S = 2.0


def broker_limits():
    """In the broker's child process, before exec: what `ulimit -Sn 512 -Hn 1024` would set."""
    resource.setrlimit(resource.RLIMIT_NOFILE, (BROKER_SOFT, BROKER_HARD))


class Flood:
    """Holds `size` idle connections to 127.0.0.1:`port` (nothing is ever sent on them). A
    thread watches them; each one the server closes is replaced by a new one, at most
    `refill_per_round` every 0.2 s, so that the pressure lasts."""

    def __init__(self, port, size, refill_per_round=250):
        self.port = port
        self.size = size
        self.refill_per_round = refill_per_round
        self.selector = selectors.DefaultSelector()
        self.opened = 0
        self.closed_by_server = 0
        self.connect_failures = 0
        self.most_held = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _open(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(("127.0.0.1", self.port))
        except OSError:
            s.close()
            self.connect_failures += 1
            return
        s.setblocking(False)
        self.selector.register(s, selectors.EVENT_READ)
        self.opened += 1

    def held(self):
        return len(self.selector.get_map())

    def start(self):
        for _ in range(self.size):
            self._open()
        self._thread.start()
        return self

    def _run(self):
        last_refill = time.monotonic()
        while not self._stop.is_set():
            for key, _ in self.selector.select(timeout=0.05):
                s = key.fileobj
                try:
                    data = s.recv(1)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self.selector.unregister(s)
                    s.close()
                    self.closed_by_server += 1
            self.most_held = max(self.most_held, self.held())
            if time.monotonic() - last_refill >= 0.2:
                last_refill = time.monotonic()
                for _ in range(min(self.refill_per_round, self.size - self.held())):
                    self._open()

    def stop(self):
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(10)
        for key in list(self.selector.get_map().values()):
            key.fileobj.close()
        self.selector.close()


class HealthProbe:
    """GET /healthz on a new connection every 0.1 s; keeps each call's latency and status."""

    def __init__(self, port):
        self.port = port
        self.latencies = []
        self.failures = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", "/healthz")
                resp = conn.getresponse()
                resp.read()
                conn.close()
                if resp.status == 200:
                    self.latencies.append(time.monotonic() - start)
                else:
                    self.failures.append(f"HTTP {resp.status}")
            except OSError as e:
                self.failures.append(f"{type(e).__name__}: {e}")
            self._stop.wait(0.1)

    def stop(self):
        self._stop.set()
        self._thread.join(15)


def metric(text, name):
    m = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    return float(m.group(1)) if m else None


def open_descriptors(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class ConnectionFloodTest(unittest.TestCase):
    def test_health_and_revocation_stay_on_time_during_a_connection_flood(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        needed = FLOOD + 500
        if hard != resource.RLIM_INFINITY and hard < needed:
            self.skipTest(f"this process may open {hard} files; the flood needs {needed}")
        if soft != resource.RLIM_INFINITY and soft < needed:
            resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
        try:
            self.run_flood()
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

    def run_flood(self):
        with tempfile.TemporaryDirectory(prefix="jit-flood-") as folder:
            key = crashlib.make_checkpoint_key(folder)
            config = os.path.join(folder, "jit.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(crashlib.broker_config(None, key))
            emulator = Emulator(folder)
            broker = Broker("a", config, os.path.join(folder, "data"), emulator.env(),
                            preexec_fn=broker_limits)
            flood = probe = None
            try:
                broker.start()
                pid = broker.proc.pid
                log = broker.read_log()
                self.assertIn(f"open files: soft limit raised from {BROKER_SOFT} to "
                              f"{BROKER_HARD}", log)
                self.assertIn(f"at most {EXPECTED_CAP} connections open at once", log)

                flood_start = time.monotonic()
                flood = Flood(broker.port, FLOOD).start()
                opened_at_start = flood.opened
                probe = HealthProbe(broker.port).start()
                descriptors = [open_descriptors(pid)]

                # A grant requested during the flood: the API answers, and the grant is active.
                status, body = call(broker.url, "POST", "/v1/requests", token("alice"),
                                    {"account": "sandbox", "permission_set": "ReadOnly",
                                     "duration": f"{GRANT_SECONDS}s", "reason": "flood test"})
                self.assertEqual(status, 201, body)
                rid = body["id"]

                def settled():
                    status, r = call(broker.url, "GET", f"/v1/requests/{rid}", token("alice"))
                    if status == 200 and r["state"] in ("active", "ended", "failed"):
                        return r
                    return None

                grant = wait_for(settled, timeout=15)
                self.assertTrue(grant, "the grant never became active")
                self.assertEqual(grant["state"], "active", grant)
                expires_at = parse_time(grant["expires_at"])

                # Its assignment is removed at the emulator (the ground truth) on time.
                triple = (USERS["alice"][0], ACCOUNTS["sandbox"], PS["ReadOnly"])
                removed_at = None
                deadline = time.time() + GRANT_SECONDS + 20
                while time.time() < deadline:
                    descriptors.append(open_descriptors(pid))
                    spans = crashlib.presence_intervals(emulator.history()).get(triple, [])
                    ends = [b for _, b in spans if b is not None]
                    if ends:
                        removed_at = ends[0]
                        break
                    time.sleep(0.1)
                self.assertIsNotNone(removed_at, "the assignment was never removed")
                lag = removed_at - expires_at

                conn = http.client.HTTPConnection("127.0.0.1", broker.port, timeout=10)
                conn.request("GET", "/metrics")
                resp = conn.getresponse()
                status, metrics_text = resp.status, resp.read().decode()
                conn.close()
                ready_status, _ = call(broker.url, "GET", "/readyz")
                flood_seconds = time.monotonic() - flood_start
                probe.stop()
                held_at_end = flood.held()
                flood.stop()
                self.assertEqual(status, 200)

                lat = sorted(probe.latencies)
                p50 = lat[len(lat) // 2] if lat else None
                worst = lat[-1] if lat else None
                opened_in_all = flood.opened
                evicted = metric(metrics_text, "jit_http_connections_evicted_total")
                refused = metric(metrics_text, "jit_http_connections_refused_total")
                open_now = metric(metrics_text, "jit_http_connections_open")
                cap = metric(metrics_text, "jit_http_connections_max")
                accept_failed_lines = broker.read_log().count("accept failed")
                print(f"\nconnection flood: broker limit {BROKER_SOFT}->{BROKER_HARD} files, cap "
                      f"{cap:.0f}; {opened_at_start} connections opened at once, "
                      f"{opened_in_all} in {flood_seconds:.1f} s, up to {flood.most_held} open on "
                      f"the client's side ({held_at_end} at the end), {flood.closed_by_server} "
                      f"closed by the broker, {flood.connect_failures} connects failed; broker "
                      f"open {open_now:.0f}, evicted {evicted:.0f}, refused {refused:.0f}, "
                      f"descriptors at most {max(descriptors)}; /healthz {len(lat)} answers, "
                      f"p50 {p50 * 1000:.1f} ms, max {worst * 1000:.1f} ms, "
                      f"{len(probe.failures)} failures; revocation lag {lag:.2f} s after "
                      f"expiry; 'accept failed' log lines {accept_failed_lines}", flush=True)

                self.assertEqual(probe.failures, [])
                # The sanitizer build answers two to three times slower (crashlib.timing_scale).
                scale = crashlib.timing_scale()
                self.assertGreater(len(lat), 10 / scale)
                self.assertLess(worst, MAX_HEALTH_LATENCY_S * scale)
                self.assertEqual(ready_status, 200)
                self.assertGreaterEqual(lag, -0.01, "removed before the entitlement ended")
                self.assertLess(lag, MAX_REVOCATION_LAG_S)
                self.assertEqual(cap, EXPECTED_CAP)
                # The flood really was larger than the cap, and the broker shed it.
                self.assertGreater(opened_in_all, FLOOD)
                self.assertGreater(evicted, FLOOD - EXPECTED_CAP - 1)
                # The broker's descriptors stayed below its limit with room for its own calls.
                self.assertLess(max(descriptors), BROKER_HARD - 64)
                self.assertEqual(accept_failed_lines, 0)
            finally:
                if probe:
                    probe.stop()
                if flood:
                    flood.stop()
                broker.close()
                emulator.close()


if __name__ == "__main__":
    unittest.main()
