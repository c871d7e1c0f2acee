"""Crash: SIGKILL the broker while a grant is active, restart it after the expiry; the grant
must end promptly once the broker is ready again."""

import json
import os
import tempfile
import time
import unittest

from harness import Server, cli, parse_time, wait_for


class CrashTest(unittest.TestCase):
    def test_grant_ends_after_sigkill_and_restart_past_expiry(self):
        with tempfile.TemporaryDirectory(prefix="jit-crash-") as data:
            first = Server(data_dir=data).start()
            try:
                code, out, err = cli(first.url, "dev-alice", "--output", "json", "request",
                                     "sandbox", "ReadOnly", "--for", "5s", "--reason", "crash")
                self.assertEqual(code, 0, err)
                rid = json.loads(out)["id"]

                def state(url):
                    c, o, _ = cli(url, "dev-alice", "--output", "json", "show", rid)
                    return json.loads(o) if c == 0 else None

                active = wait_for(lambda: (lambda r: r if r and r["state"] == "active"
                                           else None)(state(first.url)), 10)
                self.assertTrue(active)
                expires = parse_time(active["expires_at"])
            finally:
                first.kill()
                first.close()

            # Stay down until the grant is past its expiry.
            time.sleep(max(0.0, expires - time.time()) + 1.5)

            second = Server(data_dir=data)
            try:
                second.start()
                ready_at = time.time()
                ended = wait_for(lambda: (lambda r: r if r and r["state"] == "ended"
                                          else None)(state(second.url)), 10, interval=0.02)
                self.assertTrue(ended, "the grant did not end after the restart")
                lag = parse_time(ended["ended_at"]) - ready_at
                self.assertLess(lag, 2.0, f"ended {lag:.3f}s after the broker was ready")
                self.assertEqual(ended["end_reason"], "expired")
            finally:
                second.close()


if __name__ == "__main__":
    unittest.main()
