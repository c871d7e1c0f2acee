"""End-to-end: the real binary in dev mode, driven through its CLI and HTTP API."""

import json
import time
import unittest

from harness import Server, cli, http, parse_time, wait_for


class DevFlowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server().start()
        cls.url = cls.server.url

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.close()
        assert code == 0, f"server exited with {code} on SIGTERM"

    def cli_json(self, token, *args):
        code, out, err = cli(self.url, token, "--output", "json", *args)
        self.assertEqual(code, 0, f"jit {' '.join(args)} failed: {err}")
        return json.loads(out)

    def emulator_assignments(self):
        self.assertIsNotNone(self.server.emulator_url, self.server.banner)
        status, state = http(self.server.emulator_url, "GET", "/_emulator/state")
        self.assertEqual(status, 200)
        return [{k: a[k] for k in ("AccountId", "PrincipalType", "PrincipalId",
                                   "PermissionSetArn")} for a in state["assignments"]]

    def show(self, token, rid):
        return self.cli_json(token, "show", rid)

    def test_banner_names_users_tokens_and_what_to_try(self):
        banner = self.server.banner
        for word in ("alice", "bob", "carol", "dev-alice", "dev-bob", "dev-carol", "Try this"):
            self.assertIn(word, banner)

    def test_request_approve_active_expire_end(self):
        req = self.cli_json("dev-alice", "request", "prod", "Admin", "--for", "5s",
                            "--reason", "e2e: rotate keys")
        self.assertEqual(req["state"], "pending")
        self.assertEqual(req["account"]["id"], "222222222222")
        self.assertEqual(req["permission_set"]["name"], "Admin")
        rid = req["id"]

        # Not active before approval.
        time.sleep(0.3)
        self.assertEqual(self.show("dev-alice", rid)["state"], "pending")

        approved = self.cli_json("dev-bob", "approve", rid, "--comment", "go")
        self.assertIn(approved["state"], ("approved", "active"))
        active = wait_for(lambda: (lambda r: r if r["state"] == "active" else None)(
            self.show("dev-alice", rid)), 10)
        self.assertTrue(active, "the grant never became active")
        expires = parse_time(active["expires_at"])
        self.assertAlmostEqual(expires - parse_time(active["activated_at"]), 5.0, places=2)

        # Dev mode makes the assignment in the embedded Identity Center emulator, over the
        # signed AWS wire protocol.
        alice_admin = {"AccountId": "222222222222", "PrincipalType": "USER",
                       "PrincipalId": "a11ce000-0000-4000-8000-000000000001",
                       "PermissionSetArn": active["permission_set"]["arn"]}
        self.assertIn(alice_admin, self.emulator_assignments())

        ended = wait_for(lambda: (lambda r: r if r["state"] == "ended" else None)(
            self.show("dev-alice", rid)), 15)
        self.assertTrue(ended, "the grant never ended")
        lag = parse_time(ended["ended_at"]) - expires
        self.assertGreaterEqual(lag, 0.0)
        self.assertLess(lag, 1.0, f"ended {lag:.3f}s after expires_at")
        self.assertNotIn(alice_admin, self.emulator_assignments())
        actions = [h["action"] for h in ended["history"]]
        for a in ("request.created", "request.approval", "request.approved",
                  "request.activated", "request.expired", "request.ended"):
            self.assertIn(a, actions)

        # The table views work for people too.
        code, out, _ = cli(self.url, "dev-alice", "ls")
        self.assertEqual(code, 0)
        self.assertIn(rid, out)
        self.assertIn("ended", out)

    def test_self_approval_is_refused(self):
        req = self.cli_json("dev-carol", "request", "sandbox", "BreakGlass", "--for", "5m",
                            "--reason", "self")  # carol is an approver herself
        pending = self.cli_json("dev-alice", "request", "prod", "Admin", "--for", "5m",
                                "--reason", "mine")
        code, _, err = cli(self.url, "dev-alice", "approve", pending["id"])
        self.assertNotEqual(code, 0)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        self.assertIn("own request", err)
        status, body = http(self.url, "POST", f"/v1/requests/{pending['id']}/approve",
                            token="dev-alice", body={})
        self.assertEqual(status, 403)
        self.assertEqual(body["error"]["code"], "permission_denied")
        self.assertEqual(self.show("dev-alice", pending["id"])["state"], "pending")
        self.cli_json("dev-alice", "cancel", pending["id"])
        self.assertEqual(req["break_glass"], True)

    def test_catalog_and_whoami(self):
        me = self.cli_json("dev-carol", "whoami")
        self.assertEqual(me["username"], "carol")
        self.assertIn("admins", me["groups"])
        cat = self.cli_json("dev-alice", "catalog")
        pairs = {(i["account"]["name"], i["permission_set"]["name"]) for i in cat["items"]}
        self.assertIn(("prod", "Admin"), pairs)
        self.assertIn(("sandbox", "ReadOnly"), pairs)
        self.assertNotIn(("sandbox", "Admin"), pairs)

    def test_bad_inputs_get_statuses_with_json_errors(self):
        def check(status, body, want_status, want_code):
            self.assertEqual(status, want_status, body)
            self.assertIsInstance(body, dict)
            self.assertEqual(body["error"]["code"], want_code, body)
            self.assertTrue(body["error"]["message"])

        good = {"account": "prod", "permission_set": "Admin", "duration": "30m",
                "reason": "x"}
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    raw=b"{not json"), 400, "bad_request")
        check(*http(self.url, "POST", "/v1/requests", body=good), 401, "unauthenticated")
        check(*http(self.url, "POST", "/v1/requests", token="dev-mallory", body=good),
              401, "unauthenticated")
        check(*http(self.url, "GET", "/v1/requests/req_01JD3Q8W5C2M7X9K4T6B1N0R8P",
                    token="dev-alice"), 404, "not_found")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    body=dict(good, duration="2h")), 422, "invalid_argument")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    body=dict(good, account="nope")), 422, "invalid_argument")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    body=dict(good, permission_set="Nope")), 422, "invalid_argument")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    body=dict(good, reason="")), 422, "invalid_argument")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    body=dict(good, duration="5 parsecs")), 422, "invalid_argument")
        check(*http(self.url, "POST", "/v1/requests", token="dev-alice",
                    raw=b'{"account": "' + b"a" * (100 * 1024) + b'"}'),
              413, "payload_too_large")
        status, created = http(self.url, "POST", "/v1/requests", token="dev-alice", body=good)
        self.assertEqual(status, 201)
        self.assertEqual(http(self.url, "POST", f"/v1/requests/{created['id']}/cancel",
                              token="dev-alice", body={})[0], 200)
        check(*http(self.url, "POST", f"/v1/requests/{created['id']}/approve",
                    token="dev-bob", body={}), 409, "conflict")

        # The CLI says the same in one line and exits non-zero.
        code, _, err = cli(self.url, "dev-alice", "request", "prod", "Admin", "--for", "9h",
                           "--reason", "x")
        self.assertNotEqual(code, 0)
        self.assertEqual(len(err.strip().splitlines()), 1, err)
        code, _, err = cli(self.url, "dev-alice", "request", "prod", "Admin", "--for", "zz",
                           "--reason", "x")
        self.assertNotEqual(code, 0)

    def test_policy_explain_is_a_dry_run(self):
        code, out, err = cli(self.url, "dev-alice", "policy", "explain", "--account", "prod",
                             "--permission-set", "Admin", "--for", "30m", "--reason", "x")
        self.assertEqual(code, 0, err)
        self.assertIn("prod-admin", out)
        self.assertIn("outcome: needs 1 approval from groups approvers", out)
        # Explaining for someone else takes an admin or an auditor.
        code, _, err = cli(self.url, "dev-alice", "policy", "explain", "--user", "bob",
                           "--account", "prod", "--permission-set", "Admin")
        self.assertNotEqual(code, 0)
        self.assertIn("only admins and auditors", err)
        got = self.cli_json("dev-carol", "policy", "explain", "--user", "dave", "--groups",
                            "engineers", "--account", "sandbox", "--permission-set", "ReadOnly",
                            "--for", "9h")
        self.assertEqual(got["outcome"], "refused")
        self.assertIn("8h", got["refusal"]["message"])
        # Nothing was requested.
        status, listed = http(self.url, "GET", "/v1/requests?mine=true", token="dev-carol")
        self.assertEqual(status, 200)
        self.assertFalse(any(r["requester"] == "dave" for r in listed["items"]))

    def test_health_and_readiness(self):
        self.assertEqual(http(self.url, "GET", "/healthz")[0], 200)
        self.assertEqual(http(self.url, "GET", "/readyz")[0], 200)


class DevModeContractTest(unittest.TestCase):
    def test_refuses_a_non_loopback_address(self):
        import subprocess
        import tempfile
        from harness import JIT
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run([JIT, "serve", "--dev", "--listen", "0.0.0.0:0", "--data", d],
                               capture_output=True, text=True, timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("loopback", p.stderr)

    def test_second_server_on_same_data_is_refused(self):
        import subprocess
        from harness import JIT
        with _Started() as first:
            p = subprocess.run([JIT, "serve", "--dev", "--listen", "127.0.0.1:0", "--data",
                                first.data_dir], capture_output=True, text=True, timeout=30)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("another jit server", p.stderr)


class _Started:
    def __enter__(self):
        self.server = Server().start()
        return self.server

    def __exit__(self, *exc):
        self.server.close()


if __name__ == "__main__":
    unittest.main()
