"""Issue #17 item 5, ticket checks end to end: `jit serve --config` against `jit emulator` and a
fake Jira REST API on loopback. A rule with `ticket_check: assigned` files alice's request only
for an open Jira issue assigned to her, records what Jira said in the request's history
(`ticket.checked`), and refuses a missing, closed or someone else's ticket with a message that
says why; a Jira that cannot answer refuses the request too (503). The token reaches Jira as a
bearer token, read from its file."""

import json
import os
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import EmulatedBroker, cli, http, token_hashes

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
PROD = "222222222222"
ALICE = "a11ce000-0000-4000-8000-000000000001"
TOKENS = {"alice": "alice-" + "7" * 32, "bob": "bob-" + "8" * 32}  # made up for this test
JIRA_TOKEN = "jira-token-for-tests"

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": PROD, "name": "jit-tickets-test"},
    "accounts": [{"id": PROD, "name": "prod"}],
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
jira: {{url: "{jira}", token_file: "{token_file}", timeout: 2s}}
accounts:
  - {{id: "{prod}", name: prod}}
permission_sets:
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
rules:
  - {{name: prod-admin, requesters: {{groups: [engineers]}}, accounts: {{names: [prod]}},
     permission_sets: [Admin], max_duration: 1h, ticket_check: assigned,
     approval: {{approvers: {{groups: [approvers]}}, required: 1}}}}
"""

# Issues the fake Jira knows: key -> (status name, status category, assignee or None).
ISSUES = {
    "OPS-1": ("In Progress", "indeterminate", {"name": "alice", "displayName": "Alice"}),
    "OPS-2": ("Done", "done", {"name": "alice", "displayName": "Alice"}),
    "OPS-3": ("To Do", "new", {"name": "bob", "displayName": "Bob"}),
}


class FakeJira(BaseHTTPRequestHandler):
    calls = []
    down = False

    def do_GET(self):
        FakeJira.calls.append((self.path, self.headers.get("Authorization")))
        if FakeJira.down:
            self.answer(503, {"errorMessages": ["maintenance"]})
            return
        if self.headers.get("Authorization") != "Bearer " + JIRA_TOKEN:
            self.answer(401, {"errorMessages": ["not logged in"]})
            return
        prefix = "/rest/api/2/issue/"
        key = self.path[len(prefix):].split("?")[0] if self.path.startswith(prefix) else ""
        if key not in ISSUES:
            self.answer(404, {"errorMessages": ["Issue does not exist or you do not have "
                                                "permission to see it."]})
            return
        status, category, assignee = ISSUES[key]
        self.answer(200, {"id": "10001", "key": key, "fields": {
            "status": {"name": status, "statusCategory": {"key": category}},
            "assignee": assignee}})

    def answer(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class TicketChecksTest(unittest.TestCase):
    def setUp(self):
        FakeJira.calls, FakeJira.down = [], False
        self.jira = ThreadingHTTPServer(("127.0.0.1", 0), FakeJira)
        threading.Thread(target=self.jira.serve_forever, daemon=True).start()
        self.token_dir = __import__("tempfile").TemporaryDirectory(prefix="jit-jira-")
        token_file = os.path.join(self.token_dir.name, "jira-token")
        with open(token_file, "w", encoding="utf-8") as f:
            f.write(JIRA_TOKEN + "\n")
        self.broker = EmulatedBroker("jit-tickets-", SEED, CONFIG.format(
            instance=INSTANCE, admin=ADMIN, prod=PROD,
            jira=f"http://127.0.0.1:{self.jira.server_address[1]}", token_file=token_file,
            **token_hashes(TOKENS)))
        self.server = self.broker.server

    def tearDown(self):
        self.broker.close()
        self.jira.shutdown()
        self.jira.server_close()
        self.token_dir.cleanup()

    def submit(self, ticket):
        body = {"account": "prod", "permission_set": "Admin", "duration": "30m",
                "reason": "deploy"}
        if ticket is not None:
            body["ticket"] = ticket
        return http(self.server.url, "POST", "/v1/requests", token=TOKENS["alice"], body=body)

    def test_an_open_ticket_assigned_to_the_requester_is_filed_with_the_check(self):
        status, created = self.submit("OPS-1")
        self.assertEqual(status, 201, created)
        self.assertEqual(created["ticket"], "OPS-1")
        self.assertEqual(FakeJira.calls[-1],
                         ("/rest/api/2/issue/OPS-1?fields=status,assignee",
                          "Bearer " + JIRA_TOKEN))
        checked = [e for e in created["history"] if e["action"] == "ticket.checked"]
        self.assertEqual(len(checked), 1, created["history"])
        details = checked[0]["details"]
        self.assertEqual(details["result"], "passed")
        self.assertEqual(details["status"], "In Progress")
        self.assertEqual(details["assignee"], "alice")
        self.assertTrue(details["assigned_to_requester"])
        # The CLI shows it in the request's history too.
        code, out, err = cli(self.server.url, TOKENS["bob"], "-o", "json", "show", created["id"])
        self.assertEqual(code, 0, err)
        self.assertIn("ticket.checked", [e["action"] for e in json.loads(out)["history"]])

    def test_a_missing_closed_or_someone_elses_ticket_files_nothing(self):
        for ticket, words in [(None, "a Jira ticket is required"),
                              ("OPS-404", "OPS-404 does not exist in Jira"),
                              ("OPS-2", "OPS-2 is closed in Jira (Done)"),
                              ("OPS-3", "OPS-3 is assigned to bob in Jira"),
                              ("ops/../1", "not a Jira issue key")]:
            status, body = self.submit(ticket)
            self.assertEqual(status, 422, (ticket, body))
            self.assertIn(words, body["error"]["message"])
        self.assertEqual([c[0].split("?")[0] for c in FakeJira.calls],
                         ["/rest/api/2/issue/OPS-404", "/rest/api/2/issue/OPS-2",
                          "/rest/api/2/issue/OPS-3"])
        # The CLI says the same on one line, with a non-zero exit.
        code, out, err = cli(self.server.url, TOKENS["alice"], "request", "prod", "Admin",
                             "--for", "30m", "--reason", "deploy", "--ticket", "OPS-2")
        self.assertNotEqual(code, 0)
        self.assertIn("OPS-2 is closed in Jira", err)
        status, body = http(self.server.url, "GET", "/v1/requests?mine=true",
                            token=TOKENS["alice"])
        self.assertEqual(body["items"], [])

    def test_a_jira_that_cannot_answer_refuses_the_request(self):
        FakeJira.down = True
        status, body = self.submit("OPS-1")
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"]["code"], "unavailable")  # the API says "retry later"
        self.assertIn("could not be checked: HTTP 503", self.server.read_log())
        FakeJira.down = False
        status, body = self.submit("OPS-1")
        self.assertEqual(status, 201, body)


if __name__ == "__main__":
    unittest.main()
