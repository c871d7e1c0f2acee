"""Issue 17 item 1's "done when": approvers reached by name. `jit serve --dev --config` on the
embedded emulator (dev users alice, bob and carol; bob and carol are the group `approvers`), a
loopback fake of Slack's Web API (users.info, users.lookupByEmail, chat.postMessage,
chat.update) and the SMTP sink of the notify tests: alice asks for prod Admin; bob and carol
each get a direct message and an e-mail; bob presses Approve in Slack; carol's message and the
channel message then show it approved by bob. Also the `/jit` slash command's three verbs, a bad
signature, and `jit config check` naming a channel's unknown rule."""

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

from harness import JIT, Server, http, wait_for
from reload_test import CONFIG

SIGNING_SECRET = "slack-signing-secret-for-the-approvers-test"
BOT_TOKEN = "xoxb-approvers-test"
CHANNEL = "C0APPROVE"
SLACK_USERS = {"UALICE": "alice@example.com", "UBOB": "bob@example.com",
               "UCAROL": "carol@example.com"}
# The sink needs Debian's python3-aiosmtpd, as src/notify/email_test.cc does (JIT_PYTHON picks
# another interpreter).
SINK_PYTHON = os.environ.get("JIT_PYTHON") or "/usr/bin/python3"
SMTP_SINK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "notify",
                         "testdata", "smtp_sink.py")


class FakeSlackApi(BaseHTTPRequestHandler):
    """Slack's Web API as jit calls it, recording every chat call as (method, body)."""
    lock = threading.Lock()
    chats = []
    next_ts = 0

    def log_message(self, *args):
        pass

    def _answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authed(self):
        return self.headers.get("Authorization") == "Bearer " + BOT_TOKEN

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        if not self._authed():
            return self._answer({"ok": False, "error": "invalid_auth"})
        if url.path == "/api/users.info":
            user = query.get("user", [""])[0]
            if user not in SLACK_USERS:
                return self._answer({"ok": False, "error": "user_not_found"})
            return self._answer({"ok": True, "user": {"id": user,
                                                      "profile": {"email": SLACK_USERS[user]}}})
        if url.path == "/api/users.lookupByEmail":
            email = query.get("email", [""])[0]
            for user, known in SLACK_USERS.items():
                if known == email:
                    return self._answer({"ok": True, "user": {"id": user}})
            return self._answer({"ok": False, "error": "users_not_found"})
        self._answer({"ok": False, "error": "unknown_method"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        if not self._authed():
            return self._answer({"ok": False, "error": "invalid_auth"})
        method = self.path.rsplit("/", 1)[-1]
        with FakeSlackApi.lock:
            if method == "chat.postMessage":
                FakeSlackApi.next_ts += 1
                channel = body["channel"]
                # A direct message to a user id lands in the DM conversation, D + the rest.
                where = "D" + channel[1:] if channel.startswith("U") else channel
                ts = "1700000000.%06d" % FakeSlackApi.next_ts
                FakeSlackApi.chats.append(("chat.postMessage", where, ts, body))
                return self._answer({"ok": True, "channel": where, "ts": ts})
            if method == "chat.update":
                FakeSlackApi.chats.append(("chat.update", body["channel"], body["ts"], body))
                return self._answer({"ok": True, "channel": body["channel"], "ts": body["ts"]})
        self._answer({"ok": False, "error": "unknown_method"})

    @staticmethod
    def calls(method, request_id):
        with FakeSlackApi.lock:
            return [(where, ts, body) for (m, where, ts, body) in FakeSlackApi.chats
                    if m == method and request_id in json.dumps(body)]


def signed(body, ts=None, secret=SIGNING_SECRET):
    ts = str(int(time.time()) if ts is None else ts)
    sig = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(),
                           hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
            "Content-Type": "application/x-www-form-urlencoded"}


class ApproversTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-approvers-")
        d = cls.dir.name
        cls.slack = ThreadingHTTPServer(("127.0.0.1", 0), FakeSlackApi)
        threading.Thread(target=cls.slack.serve_forever, daemon=True).start()
        slack_url = f"http://127.0.0.1:{cls.slack.server_address[1]}"

        cls.mail = os.path.join(d, "mail")
        os.makedirs(cls.mail)
        port_file = os.path.join(d, "smtp-port")
        cls.sink = subprocess.Popen([SINK_PYTHON, SMTP_SINK, "--port-file", port_file,
                                     "--out", cls.mail, "--max-seconds", "280"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for(lambda: os.path.exists(port_file), 20):
            raise RuntimeError("the SMTP sink did not start (python3-aiosmtpd missing? run "
                               "scripts/setup.sh)")
        with open(port_file, encoding="utf-8") as f:
            smtp_port = int(f.read())

        def write(name, text):
            path = os.path.join(d, name)
            with open(path, "w", encoding="utf-8") as f:
                f.write(text + "\n")
            return path

        secret_file = write("slack-secret", SIGNING_SECRET)
        token_file = write("slack-token", BOT_TOKEN)
        cls.config = os.path.join(d, "jit.yaml")
        with open(cls.config, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write("limits: {refuse_duplicates: false}\n")
            f.write("notify:\n")
            f.write(f"  - {{type: slack, channel: {CHANNEL}, bot_token_file: {token_file}, "
                    f"signing_secret_file: {secret_file}, api_url: \"{slack_url}/api\", "
                    f"team_id: T1, rules: [prod-admin]}}\n")
            f.write(f"  - {{type: email, smtp_url: \"smtp://127.0.0.1:{smtp_port}\", "
                    f"starttls: false, from: jit@example.com, to_requester: false, "
                    f"to_approvers: true}}\n")
        cls.server = Server(data_dir=os.path.join(d, "data"), extra_args=["--config", cls.config])
        os.makedirs(cls.server.data_dir)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.slack.shutdown()
        cls.slack.server_close()
        cls.sink.terminate()
        cls.sink.wait(10)
        cls.dir.cleanup()

    def request(self, account="prod", permission_set="Admin"):
        status, req = http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                           body={"account": account, "permission_set": permission_set,
                                 "duration": "10m", "reason": "approvers test"})
        self.assertEqual(status, 201, req)
        return req

    def mails(self, request_id):
        out = []
        for name in sorted(os.listdir(self.mail)):
            if not name.endswith(".json"):
                continue
            with open(os.path.join(self.mail, name), encoding="utf-8") as f:
                m = json.load(f)
            if request_id in m["body"]:
                out.append(m)
        return out

    def interact(self, body, **kw):
        return http(self.server.url, "POST", "/v1/slack/interactions", raw=body.encode(),
                    headers=signed(body, **kw))

    def command(self, user, text, **kw):
        body = urllib.parse.urlencode({
            "token": "legacy", "team_id": "T1", "channel_id": CHANNEL, "user_id": user,
            "user_name": user.lower(), "command": "/jit", "text": text,
            "response_url": "https://hooks.slack.com/commands/T1/1/x", "trigger_id": "1.2"})
        return http(self.server.url, "POST", "/v1/slack/commands", raw=body.encode(),
                    headers=signed(body, **kw))

    def test_bob_and_carol_are_asked_and_see_bobs_approval(self):
        rid = self.request()["id"]
        # Each approver a direct message with the buttons, and the channel its message; never
        # alice, who asked.
        def posted():
            return sorted(where for where, _, _ in FakeSlackApi.calls("chat.postMessage", rid))
        self.assertTrue(wait_for(lambda: posted() == sorted(["DBOB", "DCAROL", CHANNEL]), 20),
                        posted())
        for where, _, body in FakeSlackApi.calls("chat.postMessage", rid):
            actions = [e["action_id"] for b in body["blocks"] if b["type"] == "actions"
                       for e in b["elements"]]
            self.assertIn("jit_approve", actions, where)
            self.assertIn("jit_deny", actions, where)
        # And an e-mail of its own to each one's own address.
        self.assertTrue(wait_for(lambda: len(self.mails(rid)) == 2, 20), self.mails(rid))
        self.assertEqual(sorted(m["rcpt_tos"][0] for m in self.mails(rid)),
                         ["bob@example.com", "carol@example.com"])
        for mail in self.mails(rid):
            self.assertEqual(len(mail["rcpt_tos"]), 1, mail["rcpt_tos"])
            self.assertIn("Approval needed", mail["subject"])

        # bob presses Approve in his direct message.
        payload = {"type": "block_actions", "user": {"id": "UBOB", "username": "bob"},
                   "team": {"id": "T1"},
                   "actions": [{"action_id": "jit_approve", "value": rid}]}
        status, answer = self.interact(
            "payload=" + urllib.parse.quote(json.dumps(payload), safe=""))
        self.assertEqual(status, 200, answer)
        self.assertIn("You approved " + rid, answer["text"])

        # Every message that asked now shows the decision and who made it, without buttons.
        def updated():
            return sorted(where for where, _, _ in FakeSlackApi.calls("chat.update", rid))
        self.assertTrue(wait_for(lambda: {"DCAROL", CHANNEL} <= set(updated()), 20), updated())
        self.assertEqual(sorted(set(updated())), sorted(["DBOB", "DCAROL", CHANNEL]))
        asked = {where: ts for where, ts, body in FakeSlackApi.calls("chat.postMessage", rid)
                 if "jit_approve" in json.dumps(body)}
        for where, ts, body in FakeSlackApi.calls("chat.update", rid):
            self.assertEqual(ts, asked[where], where)  # the very message that asked
            self.assertIn("Approved", body["text"])
            self.assertIn("by bob", body["text"])
            self.assertNotIn("jit_approve", json.dumps(body), where)
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual([a["approver"] for a in req["approvals"]], ["bob"])

    def test_a_channel_for_one_rule_hears_nothing_of_another(self):
        rid = self.request(account="sandbox", permission_set="ReadOnly")["id"]  # auto-approved
        self.assertTrue(wait_for(lambda: http(self.server.url, "GET", "/v1/requests/" + rid,
                                              token="dev-alice")[1]["state"] == "active", 20))
        time.sleep(1)  # its notifications have had time to go out
        self.assertEqual(FakeSlackApi.calls("chat.postMessage", rid), [])

    def test_the_slash_command_requests_lists_and_approves(self):
        status, answer = self.command("UALICE", "request prod Admin 15m rotate the keys")
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["response_type"], "ephemeral")
        self.assertIn("Filed req_", answer["text"])
        rid = answer["text"][answer["text"].index("req_"):][:30]
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual(status, 200, req)
        self.assertEqual(req["requester"], "alice")
        self.assertEqual(req["reason"], "rotate the keys")

        status, answer = self.command("UCAROL", "ls")
        self.assertEqual(status, 200, answer)
        waiting = answer["text"].split("Waiting for your approval:")[1]
        self.assertIn(rid, waiting)

        status, answer = self.command("UCAROL", "approve " + rid)
        self.assertEqual(status, 200, answer)
        self.assertIn("You approved " + rid, answer["text"])
        status, req = http(self.server.url, "GET", "/v1/requests/" + rid, token="dev-alice")
        self.assertEqual([a["approver"] for a in req["approvals"]], ["carol"])

        status, answer = self.command("UCAROL", "approve")
        self.assertEqual(status, 400, answer)
        self.assertIn("usage: /jit request", answer["text"])
        self.assertEqual(answer["error"]["code"], "bad_request")

        status, answer = self.command("UCAROL", "ls", ts=int(time.time()) - 3600)
        self.assertEqual(status, 401, answer)
        body = "team_id=T1&user_id=UCAROL&command=%2Fjit&text=ls"
        status, answer = http(self.server.url, "POST", "/v1/slack/commands", raw=body.encode(),
                              headers=signed(body, secret="not-the-secret"))
        self.assertEqual(status, 401, answer)
        self.assertEqual(answer["error"]["code"], "unauthenticated")

    def test_config_check_names_a_channels_unknown_rule(self):
        bad = os.path.join(self.dir.name, "bad.yaml")
        with open(bad, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write("notify:\n")
            f.write("  - {type: email, smtp_url: \"smtp://127.0.0.1:25\", starttls: false, "
                    "from: jit@example.com, to_approvers: true, rules: [prod-admn]}\n")
        p = subprocess.run([JIT, "config", "check", bad], capture_output=True, text=True,
                           timeout=60)
        self.assertNotEqual(p.returncode, 0)
        line = CONFIG.count("\n") + 2
        self.assertIn(f"bad.yaml:{line}: email channel 'email': 'rules' names no rule "
                      "'prod-admn'", p.stderr + p.stdout)


if __name__ == "__main__":
    unittest.main()
