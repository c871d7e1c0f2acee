"""Issue 17 item 3, revocation on a threat finding, end to end (docs/FINDINGS.md): the real
binary (`jit serve --dev --config`, on its embedded Identity Center emulator) with an automation
token and a `findings:` section.

alice holds two active grants (and has a request waiting for approval); a GuardDuty finding
about her role session, posted as an EventBridge API destination posts it (the EventBridge
envelope, "Authorization: Bearer <automation token>"), ends both grants within one second of the
answer and their assignments are gone from the emulator; the waiting request is denied; bob's
grant stays; the security channel (Security Hub, in the emulator) gets a CRITICAL finding. The same finding posted again changes nothing: the answer says duplicate and the
audit trail gains no event. Posted with no token, a wrong token, or a person's token (admins
too), it is refused and nothing changes; the automation token reaches no other route."""

import json
import os
import tempfile
import time
import unittest

from harness import Server, http, wait_for

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLE = os.path.join(ROOT, "src", "findings", "testdata", "guardduty_assumed_role.json")
SCALE = float(os.environ.get("JIT_TIMING_SCALE", "1"))
AUTOMATION_TOKEN = "automation-" + "7" * 40  # made up for this test
ALICE_ID = "a11ce000-0000-4000-8000-000000000001"

# The dev policy (docs/ARCHITECTURE.md "Dev mode") with the automation token and findings on.
CONFIG = """\
admins: {{groups: [admins]}}
auditors: {{groups: [auditors]}}
auth:
  automation:
    - {{name: eventbridge, token_file: "{token_file}"}}
findings:
  min_severity: HIGH
notify:
  - {{type: securityhub}}
accounts:
  - {{id: "111111111111", name: sandbox}}
  - {{id: "222222222222", name: prod}}
permission_sets:
  - {{name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}}
  - {{name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}}
limits: {{refuse_duplicates: false}}
rules:
  - {{name: readonly, requesters: {{groups: [engineers, approvers]}}, accounts: {{all: true}},
     permission_sets: [ReadOnly], max_duration: 8h, approval: auto}}
  - {{name: prod-admin, requesters: {{groups: [engineers]}}, accounts: {{names: [prod]}},
     permission_sets: [Admin], max_duration: 1h, reason: required,
     approval: {{approvers: {{groups: [approvers]}}, required: 1, timeout: 15m}}}}
"""


class FindingsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="jit-findings-")
        token_file = os.path.join(self.dir.name, "automation-token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(AUTOMATION_TOKEN + "\n")
        config = os.path.join(self.dir.name, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(token_file=token_file))
        data = os.path.join(self.dir.name, "data")
        os.makedirs(data)
        self.server = Server(data_dir=data, extra_args=["--config", config]).start()
        self.url = self.server.url
        with open(SAMPLE, encoding="utf-8") as f:
            self.event = f.read()

    def tearDown(self):
        self.server.close()
        self.dir.cleanup()

    # ---- helpers ----------------------------------------------------------------------------

    def request(self, token, account, permission_set, reason="look"):
        status, r = http(self.url, "POST", "/v1/requests", token,
                         {"account": account, "permission_set": permission_set,
                          "duration": "30m", "reason": reason})
        self.assertEqual(status, 201, r)
        return r["id"]

    def state(self, rid):
        status, r = http(self.url, "GET", "/v1/requests/" + rid, "dev-carol")
        self.assertEqual(status, 200, r)
        return r["state"]

    def wait_state(self, rid, want, timeout=10):
        return wait_for(lambda: self.state(rid) == want, timeout * SCALE, interval=0.01)

    def assignments(self):
        status, state = http(self.server.emulator_url, "GET", "/_emulator/state")
        self.assertEqual(status, 200)
        return {(a["PrincipalId"], a["AccountId"]) for a in state["assignments"]}

    def post(self, token=None, body=None, headers=None):
        return http(self.url, "POST", "/v1/findings", token,
                    raw=(body if body is not None else self.event).encode(), headers=headers)

    def trail(self):
        status, page = http(self.url, "GET", "/v1/audit?limit=1000", "dev-carol")
        self.assertEqual(status, 200, page)
        return page["items"]

    # ---- the Done-when ------------------------------------------------------------------------

    def test_a_guardduty_finding_ends_both_grants_within_a_second_once(self):
        sandbox = self.request("dev-alice", "sandbox", "ReadOnly")
        prod = self.request("dev-alice", "prod", "ReadOnly")
        waiting = self.request("dev-alice", "prod", "Admin", "deploy")
        bobs = self.request("dev-bob", "sandbox", "ReadOnly")
        for rid in (sandbox, prod, bobs):
            self.assertTrue(self.wait_state(rid, "active"), rid)
        self.assertTrue({(ALICE_ID, "111111111111"), (ALICE_ID, "222222222222")}
                        <= self.assignments())

        # As an EventBridge API destination posts it: the event envelope, the connection's API
        # key as the Authorization header.
        status, answer = self.post(headers={"Authorization": "Bearer " + AUTOMATION_TOKEN})
        answered = time.monotonic()
        self.assertEqual(status, 200, answer)
        self.assertFalse(answer["duplicate"])
        [finding] = answer["findings"]
        self.assertEqual(finding["id"], "16afba5c5c43e07c9e3e5e2e544e95df")
        self.assertEqual(finding["outcome"], "acted")
        self.assertEqual(finding["users"], ["alice"])
        self.assertEqual(sorted(finding["revoked"]), sorted([sandbox, prod]))
        self.assertEqual(finding["denied"], [waiting])

        ended = wait_for(lambda: all(self.state(r) == "ended" for r in (sandbox, prod)),
                         5 * SCALE, interval=0.01)
        took = time.monotonic() - answered
        self.assertTrue(ended, "the grants never ended")
        self.assertLess(took, 1.0 * SCALE, f"both grants ended {took:.3f}s after the answer")
        held = self.assignments()
        self.assertNotIn((ALICE_ID, "111111111111"), held)
        self.assertNotIn((ALICE_ID, "222222222222"), held)
        self.assertEqual(self.state(waiting), "denied")
        self.assertEqual(self.state(bobs), "active")

        trail = self.trail()
        acted = [e for e in trail if e["action"] == "finding.acted"]
        self.assertEqual(len(acted), 1)
        self.assertEqual(acted[0]["actor"], "automation:eventbridge")
        self.assertEqual(acted[0]["severity"], "high")
        self.assertEqual(acted[0]["details"]["finding_id"], "16afba5c5c43e07c9e3e5e2e544e95df")
        self.assertEqual(acted[0]["details"]["event_id"], "c8c4daa7-a20c-2f03-0070-b7393dd542ad")
        status, shown = http(self.url, "GET", "/v1/requests/" + prod, "dev-alice")
        self.assertIn("revoked on a threat finding", shown["end_reason"])

        # The critical notification, as a Security Hub finding of jit's own.
        def imported():
            status, state = http(self.server.emulator_url, "GET", "/_emulator/state")
            return [f for f in state.get("securityhub", [])
                    if f.get("GeneratorId") == "jit/finding"]
        hub = wait_for(imported, 10 * SCALE)
        self.assertEqual(len(hub), 1, hub)
        self.assertEqual(hub[0]["Severity"]["Label"], "CRITICAL")
        self.assertIn("about alice", hub[0]["Description"])
        self.assertIn(prod, hub[0]["Description"])

        # The same finding again, after alice was granted anew: nothing changes, nothing is
        # audited.
        again = self.request("dev-alice", "sandbox", "ReadOnly")
        self.assertTrue(self.wait_state(again, "active"))
        before = self.trail()
        status, answer = self.post(headers={"Authorization": "Bearer " + AUTOMATION_TOKEN})
        self.assertEqual(status, 200, answer)
        self.assertTrue(answer["duplicate"])
        self.assertEqual(answer["findings"][0]["outcome"], "duplicate")
        time.sleep(0.3)
        self.assertEqual(self.state(again), "active")
        self.assertEqual(self.trail(), before)

    def test_other_tokens_and_no_token_are_refused(self):
        sandbox = self.request("dev-alice", "sandbox", "ReadOnly")
        self.assertTrue(self.wait_state(sandbox, "active"))
        for headers, want in (({}, 401),
                              ({"Authorization": "Bearer wrong-" + "7" * 40}, 401),
                              ({"Authorization": "Bearer " + AUTOMATION_TOKEN[:-1]}, 401),
                              ({"Authorization": "Bearer dev-alice"}, 403),
                              ({"Authorization": "Bearer dev-carol"}, 403)):
            status, answer = self.post(headers=headers)
            self.assertEqual(status, want, (headers, answer))
            self.assertIn("error", answer)
        self.assertEqual(self.state(sandbox), "active")
        self.assertNotIn("finding.acted", [e["action"] for e in self.trail()])
        # The automation token may do nothing else.
        for method, path in (("GET", "/v1/requests"), ("GET", "/v1/me"), ("GET", "/v1/audit"),
                             ("POST", "/v1/requests/" + sandbox + "/revoke")):
            status, answer = http(self.url, method, path, AUTOMATION_TOKEN,
                                  body={} if method == "POST" else None)
            self.assertEqual(status, 403, (method, path, answer))
        self.assertEqual(self.state(sandbox), "active")
        # Not an EventBridge finding event: 400, nothing done.
        status, answer = self.post(AUTOMATION_TOKEN, body='{"id": "x", "source": "aws.ec2"}')
        self.assertEqual(status, 400, answer)
        self.assertEqual(self.state(sandbox), "active")


if __name__ == "__main__":
    unittest.main()
