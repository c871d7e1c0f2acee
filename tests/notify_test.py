"""Notifications end to end with the real binary: `jit serve --dev --config` with notify channels,
Slack's Approve / Deny buttons posted to /v1/slack/interactions (signed like Slack signs them)
deciding a request as the Slack user's Identity Center identity (users.info on a loopback fake
of Slack's Web API, then identitystore on the embedded emulator), and `jit config check` naming
the line of a notify mistake."""

import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import JIT, Server, http
from reload_test import CONFIG

SIGNING_SECRET = "slack-signing-secret-for-tests"
BOT_TOKEN = "xoxb-test-token"
SLACK_USERS = {"UALICE": "alice@example.com", "UBOB": "bob@example.com",
               "UMALLORY": "mallory@example.com"}


class FakeSlack(BaseHTTPRequestHandler):
    """users.info, the incoming webhook and response_url, on one loopback server."""
    received = []

    def log_message(self, *args):
        pass

    def _answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/api/users.info":
            return self._answer(404, {"ok": False})
        if self.headers.get("Authorization") != "Bearer " + BOT_TOKEN:
            return self._answer(200, {"ok": False, "error": "invalid_auth"})
        user = urllib.parse.parse_qs(url.query).get("user", [""])[0]
        if user not in SLACK_USERS:
            return self._answer(200, {"ok": False, "error": "user_not_found"})
        self._answer(200, {"ok": True, "user": {"id": user,
                                                "profile": {"email": SLACK_USERS[user]}}})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        FakeSlack.received.append((self.path, self.rfile.read(length).decode()))
        self._answer(200, {"ok": True})


def signed(body, ts=None, secret=SIGNING_SECRET):
    ts = str(int(time.time()) if ts is None else ts)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


def press(user, action, request_id):
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
               "team": {"id": "T1"}, "actions": [{"action_id": action, "value": request_id}]}
    return "payload=" + urllib.parse.quote(json.dumps(payload), safe="")


class NotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-notify-")
        d = cls.dir.name
        cls.slack = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlack)
        threading.Thread(target=cls.slack.serve_forever, daemon=True).start()
        slack_url = f"http://127.0.0.1:{cls.slack.server_address[1]}"

        def write(name, text):
            path = os.path.join(d, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            return path

        url_file = write("slack-url", slack_url + "/services/T1/B1/x")
        secret_file = write("slack-secret", SIGNING_SECRET)
        token_file = write("slack-token", BOT_TOKEN)
        hook_secret = write("hook-secret", "s3cr3t")
        cls.config = os.path.join(d, "jit.yaml")
        with open(cls.config, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            # Each test asks for prod Admin on the one shared server, and leaves it open.
            f.write("limits: {refuse_duplicates: false}\n")
            f.write("notify:\n")
            f.write(f"  - {{type: slack, webhook_url_file: {url_file}, signing_secret_file: "
                    f"{secret_file}, bot_token_file: {token_file}, api_url: \"{slack_url}/api\", "
                    f"team_id: T1}}\n")
            f.write(f"  - {{type: webhook, url: \"{slack_url}/hook\", secret_file: {hook_secret}}}\n")
            f.write("  - {type: sns, topic_arn: \"arn:aws:sns:us-east-1:111111111111:jit\"}\n")
            f.write("  - {type: eventbridge, bus: jit-events}\n")
            f.write("  - {type: securityhub}\n")
        cls.server = Server(data_dir=os.path.join(d, "data"), extra_args=["--config", cls.config])
        os.makedirs(cls.server.data_dir)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.slack.shutdown()
        cls.slack.server_close()
        cls.dir.cleanup()

    def pending(self):
        status, req = http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                           body={"account": "prod", "permission_set": "Admin", "duration": "10m",
                                 "reason": "notify test"})
        self.assertEqual(status, 201, req)
        self.assertEqual(req["state"], "pending")
        return req["id"]

    def interact(self, body, **kw):
        return http(self.server.url, "POST", "/v1/slack/interactions", raw=body.encode(),
                    headers=signed(body, **kw))

    def test_the_channels_are_built_at_start(self):
        log = self.server.read_log()
        for name in ("slack", "webhook", "sns", "eventbridge", "securityhub"):
            self.assertIn(f"notify: channel {name} ready", log)
        self.assertIn("Slack interactions accepted", log)

    def test_a_slack_approval_decides_as_the_mapped_user(self):
        rid = self.pending()
        status, body = self.interact(press("UBOB", "jit_approve", rid))
        self.assertEqual(status, 200, body)
        self.assertEqual(body["response_type"], "ephemeral")
        self.assertIn("You approved " + rid, body["text"])
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual(status, 200, req)
        self.assertIn(req["state"], ("approved", "active"))
        self.assertEqual([a["approver"] for a in req["approvals"]], ["bob"])
        self.assertEqual(req["approvals"][0]["comment"], "approved in Slack")

    def test_self_approval_and_strangers_are_refused(self):
        rid = self.pending()
        status, body = self.interact(press("UALICE", "jit_approve", rid))
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"]["code"], "permission_denied")
        status, body = self.interact(press("UMALLORY", "jit_approve", rid))
        self.assertEqual(status, 403, body)
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual(req["state"], "pending")
        status, body = self.interact(press("UBOB", "jit_deny", rid))
        self.assertEqual(status, 200, body)
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual(req["state"], "denied")
        self.assertEqual(req["end_reason"], "denied in Slack by bob")

    def test_bad_signatures_old_timestamps_and_garbage_are_refused(self):
        rid = self.pending()
        body = press("UBOB", "jit_approve", rid)
        for name, headers in {
            "wrong secret": signed(body, secret="not-it"),
            "old timestamp": signed(body, ts=int(time.time()) - 600),
            "no signature": {"Content-Type": "application/x-www-form-urlencoded"},
        }.items():
            with self.subTest(name):
                status, answer = http(self.server.url, "POST", "/v1/slack/interactions",
                                      raw=body.encode(), headers=headers)
                self.assertEqual(status, 401, answer)
                self.assertEqual(answer["error"]["code"], "unauthenticated")
        status, answer = self.interact("payload=%7Bgarbage")
        self.assertEqual(status, 400, answer)
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual(req["state"], "pending")

    def test_config_check_names_the_line_of_a_notify_mistake(self):
        bad = os.path.join(self.dir.name, "bad.yaml")
        with open(bad, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write("notify:\n")
            f.write("  - {type: webhook, url: \"https://hooks.example.com/x\", "
                    "secret_file: /nonexistent/secret}\n")
            f.write("  - {type: slak, webhook_url_file: /x}\n")
        p = subprocess.run([JIT, "config", "check", bad], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        lines = CONFIG.count("\n") + 3
        self.assertIn(f"bad.yaml:{lines}: unknown channel type 'slak'", p.stderr + p.stdout)
        with open(bad, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write("notify:\n")
            f.write("  - {type: webhook, url: \"https://hooks.example.com/x\", "
                    "secret_file: /nonexistent/secret}\n")
        p = subprocess.run([JIT, "config", "check", bad], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(f"bad.yaml:{lines - 1}: webhook channel 'webhook': 'secret_file': cannot "
                      "read /nonexistent/secret", p.stderr + p.stdout)


if __name__ == "__main__":
    unittest.main()
