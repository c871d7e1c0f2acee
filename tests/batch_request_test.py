"""Issue #16, several accounts in one request, end to end against `jit emulator`: alice asks for
Admin in three accounts at once; bob gets one notification-free approval to give (one request),
approves once, and the three accounts are granted each on its own: the third, which Identity
Center does not know, fails without holding the other two back, which end on time. A request
naming an account no rule allows files nothing."""

import json
import unittest

from harness import EmulatedBroker, cli, http, token_hashes, wait_for

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
SANDBOX, PROD, GHOST = "111111111111", "222222222222", "333333333333"
ALICE = "a11ce000-0000-4000-8000-000000000001"
TOKENS = {"alice": "alice-" + "7" * 32, "bob": "bob-" + "8" * 32}  # made up for this test

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": SANDBOX, "name": "jit-batch-test"},
    # GHOST is in jit's config but not in this Identity Center: its grant fails for good.
    "accounts": [{"id": SANDBOX, "name": "sandbox"}, {"id": PROD, "name": "prod"}],
    "permission_sets": [{"name": "Admin", "arn": ADMIN, "session_duration": "PT1H"}],
    "users": [{"user_name": "alice", "user_id": ALICE, "display_name": "Alice",
               "emails": ["alice@example.com"]}],
}

CONFIG = """\
aws: {{region: us-east-1, instance_arn: "{instance}", identity_store_id: d-1111111111}}
auth:
  tokens:
    - {{name: alice, sha256: "{alice}", groups: [engineers]}}
    - {{name: bob, sha256: "{bob}", groups: [approvers]}}
accounts:
  - {{id: "{sandbox}", name: sandbox}}
  - {{id: "{prod}", name: prod}}
  - {{id: "{ghost}", name: ghost}}
permission_sets:
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
rules:
  - {{name: admin, requesters: {{groups: [engineers]}}, accounts: {{names: [sandbox, prod, ghost]}},
     permission_sets: [Admin], max_duration: 1h,
     approval: {{approvers: {{groups: [approvers]}}, required: 1}}}}
"""


class BatchRequestTest(unittest.TestCase):
    def setUp(self):
        self.broker = EmulatedBroker("jit-batch-", SEED, CONFIG.format(
            instance=INSTANCE, admin=ADMIN, sandbox=SANDBOX, prod=PROD, ghost=GHOST,
            **token_hashes(TOKENS)))
        self.server, self.emulator = self.broker.server, self.broker.emulator

    def tearDown(self):
        self.broker.close()

    def jit(self, token, *args, ok=True):
        code, out, err = cli(self.server.url, TOKENS[token], "-o", "json", *args)
        if ok:
            self.assertEqual(code, 0, err)
        return (json.loads(out) if out.strip() else None), code, err

    def targets(self, request_id):
        status, body = http(self.server.url, "GET", f"/v1/requests/{request_id}",
                            token=TOKENS["alice"])
        self.assertEqual(status, 200, body)
        return {t["account"]["name"]: t["state"] for t in body["targets"]}

    def held(self):
        return {a["AccountId"] for a in self.emulator.state()["assignments"]
                if a["PrincipalId"] == ALICE}

    def test_three_accounts_approved_once_one_fails_two_end_on_time(self):
        lead, _, _ = self.jit("alice", "request", "sandbox,prod,ghost", "Admin", "--for", "20s",
                              "--reason", "incident 42")
        self.assertEqual(len(lead["batch"]), 3)
        self.assertEqual(self.targets(lead["id"]),
                         {"sandbox": "pending", "prod": "pending", "ghost": "pending"})
        pending, _, _ = self.jit("bob", "ls", "--state", "pending")
        self.assertEqual(len(pending["items"]), 3)  # bob sees each account's request
        self.jit("bob", "approve", lead["batch"][2])  # one approval, from any of them
        self.assertTrue(wait_for(
            lambda: self.targets(lead["id"]) ==
            {"sandbox": "active", "prod": "active", "ghost": "failed"}, 30),
            self.targets(lead["id"]))
        self.assertEqual(self.held(), {SANDBOX, PROD})
        # The CLI shows each target; --wait fails naming the one that did not get access.
        out, code, err = self.jit("alice", "show", lead["id"])
        self.assertEqual([t["state"] for t in out["targets"]], ["active", "active", "failed"])
        code, text, err = cli(self.server.url, TOKENS["alice"], "-o", "table", "show", lead["id"])
        self.assertEqual(code, 0, err)
        self.assertIn("Target:", text)
        self.assertIn("ghost (333333333333): failed", text)
        # Each ends on time, on its own.
        self.assertTrue(wait_for(
            lambda: self.targets(lead["id"]) ==
            {"sandbox": "ended", "prod": "ended", "ghost": "failed"}, 40),
            self.targets(lead["id"]))
        self.assertEqual(self.held(), set())

    def test_a_refused_account_files_nothing(self):
        _, code, err = self.jit("alice", "request", "sandbox,nowhere", "Admin", "--for", "10m",
                                "--reason", "x", ok=False)
        self.assertNotEqual(code, 0)
        self.assertIn("account nowhere: unknown account", err)
        _, code, err = self.jit("alice", "request", "sandbox,", "Admin", "--for", "10m",
                                "--reason", "x", ok=False)
        self.assertEqual(code, 2)
        self.assertIn("an empty name", err)
        mine, _, _ = self.jit("alice", "ls", "--mine")
        self.assertEqual(mine["items"], [])
        status, body = http(self.server.url, "POST", "/v1/requests", token=TOKENS["alice"],
                            body={"account": "sandbox", "accounts": ["prod"],
                                  "permission_set": "Admin", "duration": "10m", "reason": "x"})
        self.assertEqual(status, 422, body)
        status, body = http(self.server.url, "POST", "/v1/requests", token=TOKENS["alice"],
                            body={"accounts": "prod", "permission_set": "Admin",
                                  "duration": "10m", "reason": "x"})
        self.assertEqual(status, 400, body)


if __name__ == "__main__":
    unittest.main()
