"""Issue #17 item 2, session activity end to end: `jit serve --config` with `activity:` on,
against `jit emulator`, which answers STS AssumeRole and CloudTrail LookupEvents over events a
test adds (`/_emulator/cloudtrail/events`).

alice is granted prod Admin and revokes it a moment later. The emulator holds events of hers in
prod with that permission set inside the window (one after the grant ended, while her sessions
could still act: the window runs until the end plus the permission set's session duration),
and events that must not show: bob's, hers in another account, hers with another permission
set, hers before the grant and after the window. alice's grant's activity lists exactly hers,
through the API and `jit activity` (JSON and CSV); the summary is in the audit trail; and after
the events are removed from the emulator and the broker restarted, the same activity is served
from the store's cache."""

import csv
import datetime
import io
import time
import unittest

from harness import EmulatedBroker, cli, cli_json, http, parse_time, token_hashes, wait_for

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
READ_ONLY = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"
ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
SANDBOX, PROD = "111111111111", "222222222222"
USERS = {"alice": "a11ce000-0000-4000-8000-000000000001",
         "bob": "b0b00000-0000-4000-8000-000000000002",
         "carol": "ca401000-0000-4000-8000-000000000003"}
TOKENS = {"alice": "alice-" + "5" * 32, "bob": "bob-" + "6" * 32,
          "carol": "carol-" + "7" * 32}  # made up for this test
SESSION_SECONDS = 3  # Admin's session duration: the window closes 3 s after the grant ends

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": SANDBOX, "name": "jit-activity-test"},
    "accounts": [{"id": SANDBOX, "name": "sandbox"}, {"id": PROD, "name": "prod"}],
    "permission_sets": [
        {"name": "ReadOnly", "arn": READ_ONLY, "session_duration": "PT1H"},
        # Shorter than AWS allows (PT1H): the emulator takes it from a seed, so that the window
        # closes within the test.
        {"name": "Admin", "arn": ADMIN, "session_duration": f"PT{SESSION_SECONDS}S"}],
    "users": [{"user_name": n, "user_id": i, "display_name": n.title(),
               "emails": [n + "@example.com"]} for n, i in USERS.items()],
}

CONFIG = """\
aws: {{region: us-east-1, instance_arn: "{instance}", identity_store_id: d-1111111111}}
auth:
  tokens:
    - {{name: alice, sha256: "{alice}", groups: [engineers]}}
    - {{name: bob, sha256: "{bob}", groups: [engineers]}}
    - {{name: carol, sha256: "{carol}", groups: [admins]}}
admins: {{groups: [admins]}}
accounts:
  - {{id: "{sandbox}", name: sandbox}}
  - {{id: "{prod}", name: prod}}
permission_sets:
  - {{name: ReadOnly, arn: "{read_only}", max_duration: 8h}}
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
limits: {{refuse_duplicates: false}}
rules:
  - {{name: prod-admin, requesters: {{groups: [engineers]}}, accounts: {{names: [prod]}},
     permission_sets: [Admin], max_duration: 1h, approval: auto}}
activity: {{role_name: jit-activity-reader, live_cache: 1s, settle: 0s}}
"""


def rfc3339(epoch):
    t = datetime.datetime.fromtimestamp(epoch, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class ActivityTest(unittest.TestCase):
    def setUp(self):
        self.broker = EmulatedBroker("jit-activity-", SEED, CONFIG.format(
            instance=INSTANCE, sandbox=SANDBOX, prod=PROD, read_only=READ_ONLY, admin=ADMIN,
            **token_hashes(TOKENS)))
        self.server, self.emulator = self.broker.server, self.broker.emulator

    def tearDown(self):
        self.broker.close()

    def jit(self, token, *args):
        return cli_json(self, self.server.url, TOKENS[token], *args)

    def activity(self, token, request_id):
        return http(self.server.url, "GET", f"/v1/requests/{request_id}/activity",
                    token=TOKENS[token])

    def add_events(self, events):
        status, body = http(self.emulator.url, "POST", "/_emulator/cloudtrail/events",
                            body={"events": events})
        self.assertEqual(status, 200, body)
        return body["event_ids"]

    @staticmethod
    def event(user, account, ps, name, at, **extra):
        e = {"account_id": account, "user_name": user, "permission_set": ps, "event_name": name,
             "event_source": "ec2.amazonaws.com", "event_time": rfc3339(at)}
        e.update(extra)
        return e

    def summaries(self, request_id):
        status, body = http(self.server.url, "GET", "/v1/audit?limit=1000", token=TOKENS["carol"])
        self.assertEqual(status, 200, body)
        return [e for e in body["items"]
                if e["action"] == "activity.summary" and e["request_id"] == request_id]

    def test_a_grants_activity_is_exactly_its_sessions_events_across_a_restart(self):
        granted = self.jit("alice", "request", "prod", "Admin", "--for", "30m", "--reason",
                           "deploy", "--wait")
        self.assertEqual(granted["state"], "active", granted)
        rid = granted["id"]
        time.sleep(1.0)
        self.jit("alice", "revoke", rid, "--reason", "done")
        ended = wait_for(lambda: self.jit("alice", "show", rid)["state"] == "ended", 20)
        self.assertTrue(ended, "the grant never ended")
        request = self.jit("alice", "show", rid)
        start, end = parse_time(request["activated_at"]), parse_time(request["ended_at"])

        mine = self.add_events([
            self.event("alice", PROD, "Admin", "RunInstances", start + 0.3, read_only=False,
                       error_code="UnauthorizedOperation",
                       resources=[{"type": "AWS::EC2::Instance", "name": "i-0123"}]),
            self.event("alice", PROD, "Admin", "DescribeInstances", start + 0.6),
            # After the grant ended, while a session opened before the end still lives.
            self.event("alice", PROD, "Admin", "ListBuckets", end + 1.0,
                       **{"event_source": "s3.amazonaws.com"}),
        ])
        self.add_events([
            self.event("bob", PROD, "Admin", "TerminateInstances", start + 0.5),
            self.event("alice", SANDBOX, "Admin", "DeleteBucket", start + 0.5),
            self.event("alice", PROD, "ReadOnly", "GetObject", start + 0.5),
            self.event("alice", PROD, "Admin", "Before", start - 30),
            self.event("alice", PROD, "Admin", "After", end + SESSION_SECONDS + 0.5),
        ])

        # Only the requester, the approvers, auditors and admins see it; here: alice and carol.
        status, body = self.activity("bob", rid)
        self.assertEqual(status, 404, body)

        # Once the window has closed: read from CloudTrail, then kept.
        wait_for(lambda: time.time() > end + SESSION_SECONDS + 1.0, SESSION_SECONDS + 5)
        status, body = self.activity("alice", rid)
        self.assertEqual(status, 200, body)
        self.assertTrue(body["window"]["closed"], body["window"])
        self.assertEqual(body["window"]["ends_by"], "session_duration")
        # (Read from CloudTrail by this call, or a moment before by the summary job, which runs
        # when the window closes and stores what it read.)
        self.assertEqual(sorted(e["event_id"] for e in body["events"]), sorted(mine))
        self.assertEqual([e["event_name"] for e in body["events"]],
                         ["ListBuckets", "DescribeInstances", "RunInstances"])  # newest first
        self.assertEqual(body["summary"], {"events": 3, "write_calls": 1, "errors": 1,
                                           "services": ["ec2.amazonaws.com",
                                                        "s3.amazonaws.com"]})
        run = body["events"][2]
        self.assertEqual((run["read_only"], run["error_code"], run["resources"]),
                         (False, "UnauthorizedOperation", ["i-0123"]))
        status, as_admin = self.activity("carol", rid)
        self.assertEqual(status, 200, as_admin)

        # The CLI: JSON is the API's object; CSV one row per event.
        as_json = self.jit("alice", "activity", rid)
        self.assertEqual(as_json["events"], body["events"])
        code, out, err = cli(self.server.url, TOKENS["alice"], "-o", "csv", "activity", rid)
        self.assertEqual(code, 0, err)
        rows = list(csv.DictReader(io.StringIO(out)))
        self.assertEqual([r["event_id"] for r in rows], [e["event_id"] for e in body["events"]])
        self.assertEqual(rows[2]["read_only"], "false")
        self.assertEqual(rows[2]["error_code"], "UnauthorizedOperation")
        code, out, err = cli(self.server.url, TOKENS["alice"], "activity", rid)
        self.assertEqual(code, 0, err)
        self.assertIn("RunInstances", out)
        self.assertIn("3 (1 write calls, 1 errors)", out)

        # The summary in the audit trail, once.
        self.assertTrue(wait_for(lambda: self.summaries(rid), 20), "no activity.summary")
        details = self.summaries(rid)[0]["details"]
        self.assertEqual((details["available"], details["events"], details["write_calls"],
                          details["errors"]), (True, 3, 1, 1))

        # Across a restart, with CloudTrail emptied: the store's copy answers.
        self.server.close()
        status, _ = http(self.emulator.url, "DELETE", "/_emulator/cloudtrail/events")
        self.assertEqual(status, 200)
        self.assertEqual(self.emulator.state()["cloudtrail_events"], 0)
        self.server = self.broker.server = self.broker.start_server()
        status, again = self.activity("alice", rid)
        self.assertEqual(status, 200, again)
        self.assertEqual(again["source"], "cache")
        self.assertEqual(again["events"], body["events"])
        code, out, err = cli(self.server.url, TOKENS["alice"], "-o", "csv", "activity", rid)
        self.assertEqual(code, 0, err)
        self.assertEqual(len(list(csv.DictReader(io.StringIO(out)))), 3)
        self.assertEqual(len(self.summaries(rid)), 1, "summarized again after the restart")

    def test_an_open_window_is_read_live(self):
        granted = self.jit("alice", "request", "prod", "Admin", "--for", "30m", "--reason",
                           "deploy", "--wait")
        rid = granted["id"]
        start = parse_time(granted["activated_at"])
        ids = self.add_events([self.event("alice", PROD, "Admin", "DescribeInstances",
                                          start + 0.2)])
        wait_for(lambda: time.time() > start + 0.5, 5)
        status, body = self.activity("alice", rid)
        self.assertEqual(status, 200, body)
        self.assertFalse(body["window"]["closed"])
        self.assertEqual(body["window"]["ends_by"], "open")
        self.assertEqual([e["event_id"] for e in body["events"]], ids)
        self.assertEqual(body["source"], "cloudtrail")

        # A call made with one of alice's sessions (the emulator's sessions stand in for the
        # access portal's) is in her grant's activity, once the live answer is not reused.
        status, opened = http(self.emulator.url, "POST", "/_emulator/sessions",
                              body={"user_name": "alice", "account_id": PROD,
                                    "permission_set_arn": ADMIN})
        self.assertEqual(status, 201, opened)
        status, called = http(self.emulator.url, "POST",
                              f"/_emulator/sessions/{opened['session_id']}/calls",
                              body={"action": "ec2:StopInstances"})
        self.assertEqual(status, 200, called)
        time.sleep(1.1)  # live_cache: 1s
        status, body = self.activity("alice", rid)
        self.assertEqual(status, 200, body)
        self.assertEqual([(e["event_source"], e["event_name"], e["read_only"])
                          for e in body["events"]][0],
                         ("ec2.amazonaws.com", "StopInstances", False))
        self.assertEqual(len(body["events"]), 2)


if __name__ == "__main__":
    unittest.main()
