"""Config reload: `jit serve` re-reads its --config file on SIGHUP, and keeps the config in force
(logging why) when the new file is bad."""

import os
import signal
import tempfile
import unittest

from harness import Server, http, wait_for

# The dev config (src/policy DevConfigYaml) with ReadOnly's limits as a placeholder.
CONFIG = """\
admins: {groups: [admins]}
auditors: {groups: [auditors]}
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: READONLY_MAX}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", max_duration: 1h}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: READONLY_MAX
    min_duration: 5s
    approval: auto
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    min_duration: 5s
    reason: required
    break_glass: true
"""


class ReloadTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="jit-reload-")
        self.config_path = os.path.join(self.dir.name, "jit.yaml")
        self.write(CONFIG.replace("READONLY_MAX", "8h"))
        self.server = Server(data_dir=os.path.join(self.dir.name, "data"),
                             extra_args=["--config", self.config_path])
        os.makedirs(self.server.data_dir)
        self.server.start()

    def tearDown(self):
        code = self.server.stop()
        self.server.close()
        self.dir.cleanup()
        self.assertEqual(code, 0, f"server exited with {code} on SIGTERM")

    def write(self, text):
        with open(self.config_path, "w", encoding="utf-8") as f:
            f.write(text)

    def request_readonly_30m(self):
        return http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                    body={"account": "sandbox", "permission_set": "ReadOnly",
                          "duration": "30m", "reason": "reload test"})

    def hup_and_wait_for_log(self, text):
        before = self.server.read_log().count(text)
        self.server.proc.send_signal(signal.SIGHUP)
        self.assertTrue(wait_for(lambda: self.server.read_log().count(text) > before, 10),
                        f"no '{text}' in the log:\n{self.server.read_log()}")

    def test_sighup_applies_a_good_config_and_keeps_it_when_the_next_is_bad(self):
        status, body = self.request_readonly_30m()
        self.assertEqual(status, 201, body)

        # Lower ReadOnly's limit to 10m: a 30m request is now outside policy.
        self.write(CONFIG.replace("READONLY_MAX", "10m"))
        self.hup_and_wait_for_log("SIGHUP: reloaded the config")
        status, body = self.request_readonly_30m()
        self.assertEqual(status, 422, body)
        self.assertEqual(body["error"]["code"], "invalid_argument")

        # A broken file: the server keeps running with the 10m config and says why.
        self.write(CONFIG.replace("READONLY_MAX", "10m").replace("approval: auto",
                                                                 "approval: sometimes"))
        self.hup_and_wait_for_log("SIGHUP: keeping the old config")
        log = self.server.read_log()
        line = [l for l in log.splitlines() if "keeping the old config" in l][-1]
        self.assertIn("jit.yaml:", line)
        self.assertIsNone(self.server.proc.poll(), "the server died on a bad config")
        status, _ = http(self.server.url, "GET", "/readyz")
        self.assertEqual(status, 200)
        status, body = self.request_readonly_30m()
        self.assertEqual(status, 422, body)
        # prod: sandbox ReadOnly is still active from the first request, and a second would
        # be a duplicate (docs/POLICY.md "Limits").
        status, body = http(self.server.url, "POST", "/v1/requests", token="dev-alice",
                            body={"account": "prod", "permission_set": "ReadOnly",
                                  "duration": "10m", "reason": "reload test"})
        self.assertEqual(status, 201, body)

    def test_sighup_names_the_settings_that_need_a_restart(self):
        # A rule change and a session lifetime change: the rule applies at once, the session
        # lifetime (read once at start) is named as needing a restart.
        self.write(CONFIG.replace("READONLY_MAX", "10m") + "ui:\n  session_lifetime: 1h\n")
        self.hup_and_wait_for_log("SIGHUP: reloaded the config")
        self.assertTrue(wait_for(lambda: "applies after a restart" in self.server.read_log(), 10),
                        self.server.read_log())
        line = [l for l in self.server.read_log().splitlines()
                if "applies after a restart" in l][-1]
        self.assertIn("ui.session_lifetime", line)
        self.assertNotIn("rules", line)
        status, body = self.request_readonly_30m()
        self.assertEqual(status, 422, body)

    def test_sighup_puts_new_api_tokens_in_force_and_drops_removed_ones(self):
        import hashlib
        def tokens(*names):
            lines = "auth:\n  tokens:\n"
            for name in names:
                digest = hashlib.sha256(("tok-" + name).encode()).hexdigest()
                lines += f"    - {{name: {name}, sha256: \"{digest}\", groups: [auditors]}}\n"
            return lines
        base = CONFIG.replace("READONLY_MAX", "8h")
        status, _ = http(self.server.url, "GET", "/v1/me", token="tok-audit-bot")
        self.assertEqual(status, 401)

        self.write(base + tokens("audit-bot"))
        self.hup_and_wait_for_log("SIGHUP: reloaded the config")
        status, me = http(self.server.url, "GET", "/v1/me", token="tok-audit-bot")
        self.assertEqual(status, 200, me)
        self.assertEqual(me["username"], "audit-bot")
        self.assertEqual(me["roles"], ["auditor"])
        status, _ = http(self.server.url, "GET", "/v1/audit", token="tok-audit-bot")
        self.assertEqual(status, 200)

        # A bad OIDC section keeps the old config, tokens included.
        self.write(base + tokens("other-bot") +
                   "  oidc: {issuer: \"https://idp.example.com\", audience: jit, "
                   "jwks_file: /nonexistent/jwks.json}\n")
        self.hup_and_wait_for_log("SIGHUP: keeping the old config")
        self.assertIn("auth.oidc", [l for l in self.server.read_log().splitlines()
                                    if "keeping the old config" in l][-1])
        status, _ = http(self.server.url, "GET", "/v1/me", token="tok-audit-bot")
        self.assertEqual(status, 200)
        status, _ = http(self.server.url, "GET", "/v1/me", token="tok-other-bot")
        self.assertEqual(status, 401)

        # The token is removed: refused at once.
        self.write(base + tokens("other-bot"))
        self.hup_and_wait_for_log("SIGHUP: reloaded the config")
        status, _ = http(self.server.url, "GET", "/v1/me", token="tok-audit-bot")
        self.assertEqual(status, 401)
        status, _ = http(self.server.url, "GET", "/v1/me", token="tok-other-bot")
        self.assertEqual(status, 200)


class ReloadWithoutConfigTest(unittest.TestCase):
    def test_dev_mode_without_config_has_nothing_to_reload(self):
        server = Server().start()
        try:
            server.proc.send_signal(signal.SIGHUP)
            self.assertTrue(wait_for(lambda: "nothing to reload" in server.read_log(), 10),
                            server.read_log())
            status, _ = http(server.url, "GET", "/readyz")
            self.assertEqual(status, 200)
        finally:
            code = server.stop()
            server.close()
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
