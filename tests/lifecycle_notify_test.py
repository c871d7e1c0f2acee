"""Issue #5's "done when": a grant's lifecycle produces signed webhooks, SNS messages and
EventBridge events that arrive intact, and /metrics shows it. The broker is `jit serve --dev
--config` (its AWS channels go to the embedded emulator, which checks their signatures and
records what arrives); the webhook goes to a receiver started here, which checks every
X-Jit-Signature and answers 503 to its first deliveries, to show that a receiver that fails for
a while gets everything once it recovers."""

import hashlib
import hmac
import json
import os
import re
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from harness import Server, http, wait_for
from reload_test import CONFIG

SECRET = "webhook-secret-for-the-lifecycle-test"


class Receiver(BaseHTTPRequestHandler):
    """A webhook receiver that verifies the signature like docs/NOTIFY.md says and fails the first
    `fail_first` deliveries with 503."""
    lock = threading.Lock()
    fail_first = 0
    attempts = 0
    bad = []
    events = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with Receiver.lock:
            Receiver.attempts += 1
            if Receiver.attempts <= Receiver.fail_first:
                self.send_response(503)
                self.end_headers()
                return
            sig = self.headers.get("X-Jit-Signature", "")
            m = re.fullmatch(r"t=(\d+),v1=([0-9a-f]{64})", sig)
            ok = False
            if m:
                want = hmac.new(SECRET.encode(), m.group(1).encode() + b"." + body,
                                hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(want, m.group(2)) and abs(int(m.group(1)) - time.time()) < 300
            if ok:
                Receiver.events.append(json.loads(body))
            else:
                Receiver.bad.append(sig)
        self.send_response(200 if ok else 401)
        self.end_headers()


class LifecycleNotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-notify-life-")
        d = cls.dir.name
        Receiver.fail_first = 3
        cls.receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
        threading.Thread(target=cls.receiver.serve_forever, daemon=True).start()
        secret = os.path.join(d, "webhook-secret")
        with open(secret, "w", encoding="utf-8") as f:
            f.write(SECRET)
        config = os.path.join(d, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.replace("READONLY_MAX", "8h"))
            f.write("notify:\n")
            f.write(f"  - {{type: webhook, url: \"http://127.0.0.1:{cls.receiver.server_port}/jit\","
                    f" secret_file: {secret}}}\n")
            f.write("  - {type: sns, topic_arn: \"arn:aws:sns:us-east-1:111111111111:jit\"}\n")
            f.write("  - {type: eventbridge, bus: jit-events}\n")
        os.makedirs(os.path.join(d, "data"))
        cls.server = Server(data_dir=os.path.join(d, "data"), extra_args=["--config", config])
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.close()
        cls.receiver.shutdown()
        cls.dir.cleanup()

    def test_a_lifecycle_arrives_signed_on_every_channel(self):
        url = self.server.url
        status, r = http(url, "POST", "/v1/requests", token="dev-alice",
                         body={"account": "prod", "permission_set": "Admin", "duration": "10m",
                               "reason": "rotate the keys"})
        self.assertEqual(status, 201, r)
        rid = r["id"]
        path = "/v1/requests/" + rid
        self.assertEqual(http(url, "POST", path + "/approve", token="dev-bob",
                              body={"comment": "go"})[0], 200)
        self.assertTrue(wait_for(lambda: http(url, "GET", path, token="dev-alice")[1]["state"]
                                 == "active", 10))
        self.assertEqual(http(url, "POST", path + "/revoke", token="dev-carol", body={})[0], 200)
        self.assertTrue(wait_for(lambda: http(url, "GET", path, token="dev-alice")[1]["state"]
                                 == "ended", 10))
        lifecycle = ["request.created", "request.approved", "grant.activated", "grant.ended"]

        # The webhook: every event signed, none lost though the first three attempts got 503.
        def webhook_events():
            with Receiver.lock:
                return [e["event"] for e in Receiver.events if e["request"]["id"] == rid]
        self.assertTrue(wait_for(lambda: sorted(webhook_events()) == sorted(lifecycle), 30),
                        webhook_events())
        self.assertEqual(Receiver.bad, [])
        self.assertGreater(Receiver.attempts, len(lifecycle))
        with Receiver.lock:
            ended = [e for e in Receiver.events if e["event"] == "grant.ended"][0]
        self.assertEqual(ended["request"]["state"], "ended")
        self.assertEqual(ended["request"]["account"]["id"], "222222222222")

        # SNS and EventBridge at the emulator, which checked their signatures.
        def emulator():
            return http(self.server.emulator_url, "GET", "/_emulator/state")[1]
        def sns_events():
            return [json.loads(m["Message"])["event"] for m in emulator().get("sns", [])
                    if json.loads(m["Message"]).get("request", {}).get("id") == rid]
        def detail(e):  # the emulator shows the Detail string parsed
            return e["Detail"] if isinstance(e["Detail"], dict) else json.loads(e["Detail"])
        def bus_events():
            return [e["DetailType"] for e in emulator().get("eventbridge", [])
                    if detail(e).get("request", {}).get("id") == rid]
        self.assertTrue(wait_for(lambda: sorted(sns_events()) == sorted(lifecycle), 15),
                        (sns_events(), emulator().get("sns")))
        self.assertTrue(wait_for(lambda: sorted(bus_events()) == sorted(lifecycle), 15),
                        bus_events())
        entry = [e for e in emulator()["eventbridge"] if e["DetailType"] == "grant.activated"][0]
        self.assertEqual(entry["Source"], "jit")
        self.assertEqual(entry["EventBusName"], "jit-events")

        # /metrics shows the lifecycle and its deliveries.
        with urllib.request.urlopen(url + "/metrics", timeout=10) as resp:
            text = resp.read().decode()
        def metric(name):
            m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
            return float(m.group(1)) if m else None
        self.assertEqual(metric('jit_requests_total{state="ended"}'), 1)
        self.assertGreaterEqual(
            metric('jit_notifications_total{channel="webhook",outcome="delivered"}'), 4)
        self.assertGreaterEqual(
            metric('jit_notifications_total{channel="webhook",outcome="retried"}'), 3)
        self.assertGreaterEqual(
            metric('jit_notifications_total{channel="sns",outcome="delivered"}'), 4)
        self.assertGreaterEqual(
            metric('jit_notifications_total{channel="eventbridge",outcome="delivered"}'), 4)


if __name__ == "__main__":
    unittest.main()
