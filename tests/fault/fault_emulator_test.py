"""Fault suite, cross-process: the real broker against a standalone `jit emulator` whose fault
injection (POST /_emulator/faults) throttles, fails with server errors, adds latency and ends
some creates and deletes FAILED, as in the AWS issue's fault test, but through the whole binary.

Every grant either becomes active or fails for good with nothing left behind; every revocation
finishes (failed deletes are issued again); no assignment was created or removed more often
than jit recorded (the emulator's history); the audit chain verifies. The worst revocation lag
is printed and bounded."""

import os
import random
import tempfile
import time
import unittest

import crashlib
from crashlib import ACCOUNTS, ENGINEERS, Broker, Emulator, http, token

# Throttling and 5xx are retried by the AWS client (jittered back-off) and then by the job;
# a FAILED delete is issued again with the job's back-off (capped at 30 s for revocations).
TOLERANCE_S = 40.0


class EmulatorFaultTest(unittest.TestCase):
    def run_with_faults(self, name, faults, requests, seed):
        rng = random.Random(seed)
        with tempfile.TemporaryDirectory(prefix="jit-fault-emu-") as folder:
            key = crashlib.make_checkpoint_key(folder)
            config = os.path.join(folder, "jit.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(crashlib.broker_config(None, key))
            emulator = Emulator(folder)
            broker = Broker("a", config, os.path.join(folder, "data"), emulator.env())
            try:
                broker.start()
                emulator.set_faults(**faults)
                load = crashlib.Load(rng.getrandbits(64), lambda: [broker.url])
                ids = []
                for _ in range(requests):
                    user = rng.choice(ENGINEERS)
                    status, body = http(broker.url, "POST", "/v1/requests", token(user),
                                        {"account": rng.choice(list(ACCOUNTS)),
                                         "permission_set": "ReadOnly",
                                         "duration": f"{rng.randint(2, 5)}s",
                                         "reason": "fault test"})
                    # Submitting looks the user up in the identity store: under faults that
                    # can fail (503), which is a clean refusal, not a lost request.
                    if status == 201:
                        ids.append(body["id"])
                        load.acked[body["id"]] = {"user": user, "account": body["account"]["id"],
                                                  "ps": "ReadOnly",
                                                  "seconds": body["duration_seconds"],
                                                  "answer": body, "at": time.time()}
                    else:
                        self.assertEqual(status, 503, body)
                        self.assertEqual(body["error"]["code"], "unavailable", body)
                    time.sleep(rng.uniform(0.1, 0.4))
                self.assertGreater(len(ids), requests // 2, "most submissions were refused")
                all_requests, quiet_s = crashlib.wait_quiet(broker.url, emulator, timeout=120)
                emulator.set_faults(throttle_rate=0, server_error_rate=0, latency_ms=0,
                                    failed_rate=0)
                history = emulator.history()
                state = emulator.state()
                problems = crashlib.check_acknowledged(load, all_requests)
                failed_ok = faults.get("failed_rate", 0) > 0
                problems += crashlib.check_histories(all_requests, operations_may_fail=failed_ok)
                truth, lags = crashlib.check_ground_truth(all_requests, history,
                                                          state["assignments"], lambda t: t)
                if failed_ok:
                    # FAILED operations are expected here; the counts check the rest.
                    truth = [p for p in truth if "failed operations at the emulator" not in p]
                problems += truth
                states = {}
                for r in all_requests.values():
                    states[r["state"]] = states.get(r["state"], 0) + 1
                    if r["state"] == "failed" and not failed_ok:
                        problems.append(f"{r['id']} failed: {r['failure_reason']}")
                code, report, err = crashlib.audit_verify(broker.url)
                if code != 0 or not report.get("ok"):
                    problems.append(f"audit verify: {code} {err} {report}")
                calls = state["calls"]
                worst = max((x[1] for x in lags), default=None)
                counts = history["triples"]
                print(f"\n{name}: {len(ids)} grants, states {states}; emulator calls "
                      f"{sum(calls.values())} ({calls.get('CreateAccountAssignment', 0)} creates,"
                      f" {calls.get('DeleteAccountAssignment', 0)} deletes); creates failed "
                      f"{sum(t['creates_failed'] for t in counts)}, deletes failed "
                      f"{sum(t['deletes_failed'] for t in counts)}; worst lag after the "
                      f"entitlement ended {worst if worst is None else round(worst, 2)}s; quiet "
                      f"{quiet_s:.1f}s after the last request", flush=True)
                self.assertEqual(problems, [])
                self.assertIsNotNone(worst)
                self.assertLess(worst, TOLERANCE_S)
                return states, counts
            finally:
                broker.close()
                emulator.close()

    def test_throttling_server_errors_and_latency(self):
        seed = crashlib.crash_seed()
        print(f"\nfault emulator: seed {seed}", flush=True)
        self.run_with_faults("fault emulator (throttle 30%, 5xx 10%, +50 ms)",
                             {"throttle_rate": 0.3, "server_error_rate": 0.1, "latency_ms": 50,
                              "seed": seed % 1000 + 1}, 20, seed)

    def test_operations_that_end_failed(self):
        """Every create ends FAILED for a while: those grants fail for good with nothing left
        behind. Then every delete ends FAILED across the expiry of active grants: the deletes
        are issued again until, once the fault is gone, they succeed."""
        with tempfile.TemporaryDirectory(prefix="jit-fault-emu-") as folder:
            key = crashlib.make_checkpoint_key(folder)
            config = os.path.join(folder, "jit.yaml")
            with open(config, "w", encoding="utf-8") as f:
                f.write(crashlib.broker_config(None, key))
            emulator = Emulator(folder)
            broker = Broker("a", config, os.path.join(folder, "data"), emulator.env())
            try:
                broker.start()
                load = crashlib.Load(1, lambda: [broker.url])

                def submit(user, account, seconds):
                    status, body = http(broker.url, "POST", "/v1/requests", token(user),
                                        {"account": account, "permission_set": "ReadOnly",
                                         "duration": f"{seconds}s", "reason": "fault test"})
                    self.assertEqual(status, 201, body)
                    load.acked[body["id"]] = {"user": user, "account": ACCOUNTS[account],
                                              "ps": "ReadOnly", "seconds": seconds,
                                              "answer": body, "at": time.time()}
                    return body["id"]

                def state_of(rid):
                    return http(broker.url, "GET", f"/v1/requests/{rid}", token("carol"))[1]

                emulator.set_faults(failed_rate=1)
                doomed = [submit(u, "sandbox", 30) for u in ("alice", "dave")]
                for rid in doomed:
                    r = crashlib_wait(lambda rid=rid: state_of(rid)["state"] == "failed", 20)
                    self.assertTrue(r, f"{rid} did not fail: {state_of(rid)}")
                    self.assertIn("could not create", state_of(rid)["failure_reason"])
                self.assertEqual(emulator.state()["assignments"], [])

                emulator.set_faults(failed_rate=0)
                kept = [submit(u, "prod", 4) for u in ("erin", "frank")]
                for rid in kept:
                    self.assertTrue(crashlib_wait(
                        lambda rid=rid: state_of(rid)["state"] == "active", 20))
                emulator.set_faults(failed_rate=1)  # every delete fails across the expiry
                time.sleep(8)
                self.assertEqual(len(emulator.state()["assignments"]), 2)
                emulator.set_faults(failed_rate=0)
                requests, quiet_s = crashlib.wait_quiet(broker.url, emulator, timeout=60)
                history = emulator.history()
                counts = history["triples"]
                problems = crashlib.check_acknowledged(load, requests)
                problems += crashlib.check_histories(requests, operations_may_fail=True)
                truth, _ = crashlib.check_ground_truth(requests, history, [], lambda t: t)
                problems += [p for p in truth if "failed operations at the emulator" not in p]
                code, report, err = crashlib.audit_verify(broker.url)
                if code != 0 or not report.get("ok"):
                    problems.append(f"audit verify: {code} {err} {report}")
                failed_creates = sum(t["creates_failed"] for t in counts)
                failed_deletes = sum(t["deletes_failed"] for t in counts)
                print(f"\nfault emulator (FAILED operations): {failed_creates} creates and "
                      f"{failed_deletes} deletes ended FAILED; the last assignment went "
                      f"{quiet_s:.1f}s after deletes could succeed again", flush=True)
                self.assertEqual(problems, [])
                self.assertEqual(failed_creates, 2)
                self.assertGreaterEqual(failed_deletes, 2)
                self.assertEqual([requests[r]["state"] for r in doomed], ["failed", "failed"])
                self.assertEqual([requests[r]["state"] for r in kept], ["ended", "ended"])
                # A delete is issued again after a back-off of at most 30 s (revocations).
                self.assertLess(quiet_s, 35.0)
            finally:
                broker.close()
                emulator.close()


def crashlib_wait(predicate, timeout):
    from harness import wait_for
    return wait_for(predicate, timeout, interval=0.1)


if __name__ == "__main__":
    unittest.main()
