"""Issue #4's "done when": a production config (OIDC with a JWKS file, a hashed static API token,
a rule with two-of-n approval and a ticket pattern) on `jit serve --config` (not --dev) against a
standalone `jit emulator` reached only through the AWS settings. Every hostile token is refused
with 401, every forbidden action with 403 (404 where the object must not even be seen), and the
allowed flows work end to end, down to the assignment in the emulator."""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import tempfile
import time
import unittest

from harness import Emulator, Server, http, wait_for

ISSUER = "https://idp.example.com"
INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
PS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-"
ADMIN_ARN = PS + "2222222222222222"
CI_TOKEN = "ci-" + "0123456789abcdef" * 2  # made up for this test; only its hash is configured

# Identity Center's view: users and their ids (groups come from the IdP's tokens).
USERS = {"alice": "a11ce000-0000-4000-8000-000000000001",
         "bob": "b0b00000-0000-4000-8000-000000000002",
         "carol": "ca401000-0000-4000-8000-000000000003",
         "dave": "da7e0000-0000-4000-8000-000000000004",
         "erin": "e4140000-0000-4000-8000-000000000005",
         "ci-bot": "c1b00000-0000-4000-8000-000000000006"}

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": "111111111111", "name": "jit-production-test"},
    "accounts": [{"id": "111111111111", "name": "sandbox"}, {"id": "222222222222", "name": "prod"}],
    "permission_sets": [
        {"name": "ReadOnly", "arn": PS + "1111111111111111", "session_duration": "PT1H"},
        {"name": "Admin", "arn": ADMIN_ARN, "session_duration": "PT1H"}],
    "users": [{"user_name": name, "user_id": uid, "display_name": name.title(),
               "emails": [name + "@example.com"]} for name, uid in USERS.items()],
}

CONFIG = """\
aws:
  region: us-east-1
  instance_arn: "{instance}"
  identity_store_id: d-1111111111
auth:
  oidc: {{issuer: "{issuer}", audience: jit, jwks_file: {jwks}}}
  tokens:
    - {{name: ci-bot, sha256: "{ci_hash}", groups: [automation]}}
admins: {{groups: [admins]}}
auditors: {{groups: [auditors]}}
accounts:
  - {{id: "111111111111", name: sandbox, tags: [dev]}}
  - {{id: "222222222222", name: prod, tags: [prod]}}
permission_sets:
  - {{name: ReadOnly, arn: "{ps}1111111111111111", max_duration: 8h}}
  - {{name: Admin, arn: "{ps}2222222222222222", max_duration: 1h}}
rules:
  - name: prod-admin
    requesters: {{groups: [engineers]}}
    accounts: {{tags: [prod]}}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    ticket: "^(INC|CHG)-[0-9]+$"
    approval: {{approvers: {{groups: [approvers]}}, required: 2, timeout: 15m}}
  - name: automation
    requesters: {{groups: [automation]}}
    accounts: {{names: [sandbox]}}
    permission_sets: [ReadOnly]
    max_duration: 1h
    min_duration: 5s
    reason: required
    approval: auto
"""

# Who carries which groups in the IdP's tokens.
GROUPS = {"alice": ["engineers"], "bob": ["approvers"], "dave": ["approvers"],
          "carol": ["approvers", "admins", "engineers"], "erin": ["auditors"]}


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_rsa_key(folder, kid):
    path = os.path.join(folder, kid + ".pem")
    subprocess.run(["openssl", "genrsa", "-out", path, "2048"], check=True, capture_output=True)
    modulus = subprocess.run(["openssl", "rsa", "-in", path, "-noout", "-modulus"], check=True,
                             capture_output=True, text=True).stdout
    public_pem = subprocess.run(["openssl", "rsa", "-in", path, "-pubout"], check=True,
                                capture_output=True).stdout
    n = bytes.fromhex(modulus.strip().split("=", 1)[1])
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64url(n),
           "e": b64url((65537).to_bytes(3, "big"))}
    return path, jwk, public_pem


def jws(header, claims, sign):
    signing_input = (b64url(json.dumps(header).encode()) + "." +
                     b64url(json.dumps(claims).encode()))
    return signing_input + "." + sign(signing_input.encode())


def rs256(key_path):
    def sign(data):
        return b64url(subprocess.run(["openssl", "dgst", "-sha256", "-sign", key_path],
                                     input=data, check=True, capture_output=True).stdout)
    return sign


class ProductionConfigTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-prod-")
        d = cls.dir.name
        cls.key, jwk, cls.public_pem = make_rsa_key(d, "idp-1")
        cls.rogue_key, _, _ = make_rsa_key(d, "rogue")  # never published
        jwks = os.path.join(d, "jwks.json")
        with open(jwks, "w", encoding="utf-8") as f:
            json.dump({"keys": [jwk]}, f)
        config = os.path.join(d, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(instance=INSTANCE, issuer=ISSUER, jwks=jwks, ps=PS,
                                  ci_hash=hashlib.sha256(CI_TOKEN.encode()).hexdigest()))
        cls.emulator = Emulator(d, seed=SEED)
        os.makedirs(os.path.join(d, "data"))
        cls.server = Server(data_dir=os.path.join(d, "data"), dev=False,
                            extra_args=["--config", config], env=cls.emulator.env())
        try:
            cls.server.start()
        except Exception:
            cls.emulator.close()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.close()
        cls.emulator.close()
        cls.dir.cleanup()
        assert code == 0, f"server exited with {code}"

    # --- tokens ---

    def claims(self, user, **over):
        now = int(time.time())
        c = {"iss": ISSUER, "aud": "jit", "iat": now, "nbf": now, "exp": now + 600,
             "sub": USERS[user], "preferred_username": user, "groups": GROUPS[user]}
        c.update(over)
        return {k: v for k, v in c.items() if v is not None}

    def token(self, user, header=None, key=None, **over):
        h = {"alg": "RS256", "typ": "JWT", "kid": "idp-1"}
        h.update(header or {})
        return jws(h, self.claims(user, **over), rs256(key or self.key))

    def call(self, user_or_token, method, path, body=None):
        token = user_or_token if user_or_token not in GROUPS else self.token(user_or_token)
        return http(self.server.url, method, path, token=token, body=body)

    def submit(self, who, **over):
        body = {"account": "prod", "permission_set": "Admin", "duration": "30m",
                "reason": "rotate the database keys", "ticket": "CHG-1042"}
        body.update(over)
        return self.call(who, "POST", "/v1/requests", body)

    def assertRefused(self, answer, status, code):
        got, body = answer
        self.assertEqual(got, status, body)
        self.assertEqual(body["error"]["code"], code, body)
        self.assertTrue(body["error"]["message"], body)

    # --- the tests ---

    def test_hostile_tokens_are_all_refused_with_401(self):
        now = int(time.time())
        unsigned = lambda data: ""  # noqa: E731
        hs256_with_public_key = lambda data: b64url(  # noqa: E731
            hmac.new(self.public_pem, data, hashlib.sha256).digest())
        valid = self.token("alice")
        head, payload, sig = valid.split(".")
        hostile = {
            "alg none": jws({"alg": "none", "typ": "JWT"}, self.claims("alice"), unsigned),
            "alg None": jws({"alg": "None", "kid": "idp-1"}, self.claims("alice"), unsigned),
            "alg NONE": jws({"alg": "NONE"}, self.claims("alice"), unsigned),
            "alg nOnE with a signature": jws({"alg": "nOnE", "kid": "idp-1"},
                                             self.claims("alice"), rs256(self.key)),
            "HS256 keyed with the RSA public key": jws(
                {"alg": "HS256", "kid": "idp-1"}, self.claims("alice"), hs256_with_public_key),
            "unknown kid": self.token("alice", header={"kid": "idp-9"}, key=self.rogue_key),
            "another key with the same kid": self.token("alice", key=self.rogue_key),
            "expired": self.token("alice", exp=now - 3600, iat=now - 7200, nbf=now - 7200),
            "nbf in the future": self.token("alice", nbf=now + 3600),
            "iat in the future": self.token("alice", iat=now + 3600),
            "wrong iss": self.token("alice", iss="https://evil.example.com"),
            "wrong aud": self.token("alice", aud="someone-else"),
            "no exp": self.token("alice", exp=None),
            "no username": self.token("alice", preferred_username=None),
            "no iss": self.token("alice", iss=None),
            "truncated": valid[: len(valid) // 2],
            "signature cut": head + "." + payload + "." + sig[:-4],
            "payload swapped": head + "." + b64url(json.dumps(
                self.claims("carol")).encode()) + "." + sig,
            "two parts": head + "." + payload,
            "garbage": "\u00ff\u00fe not a token at all",
            "dots only": "..",
            "empty": "",
        }
        for name, token in hostile.items():
            with self.subTest(name):
                status, body = http(self.server.url, "GET", "/v1/me", token=token or None)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["code"], "unauthenticated")
                if len(token) > 20:
                    self.assertNotIn(token[:20], json.dumps(body))
        # The real thing works, and so does the hashed static token; the hash itself does not.
        status, me = self.call("alice", "GET", "/v1/me")
        self.assertEqual((status, me["username"], me["groups"]), (200, "alice", ["engineers"]))
        self.assertEqual(me["principal_id"], None)  # mapped to Identity Center on request
        status, me = http(self.server.url, "GET", "/v1/me", token=CI_TOKEN)
        self.assertEqual((status, me["username"]), (200, "ci-bot"), me)
        status, _ = http(self.server.url, "GET", "/v1/me",
                         token=hashlib.sha256(CI_TOKEN.encode()).hexdigest())
        self.assertEqual(status, 401)

    def test_two_of_n_approval_with_a_ticket_then_an_admin_revokes(self):
        # What the rule asks for is checked first.
        self.assertRefused(self.submit("alice", ticket=None), 422, "invalid_argument")
        self.assertRefused(self.submit("alice", ticket="JIRA-7"), 422, "invalid_argument")
        self.assertRefused(self.submit("alice", reason=""), 422, "invalid_argument")
        self.assertRefused(self.submit("alice", duration="2h"), 422, "invalid_argument")
        self.assertRefused(self.submit("bob"), 403, "permission_denied")  # no rule for bob
        self.assertRefused(self.submit(CI_TOKEN), 403, "permission_denied")

        status, r = self.submit("alice")
        self.assertEqual(status, 201, r)
        self.assertEqual((r["state"], r["rule"], r["approvals_required"]),
                         ("pending", "prod-admin", 2))
        rid = r["id"]
        path = "/v1/requests/" + rid

        # Nobody approves their own request; someone who may not see it gets 404, not a hint.
        self.assertRefused(self.call("alice", "POST", path + "/approve", {}), 403,
                           "permission_denied")
        self.assertRefused(self.call(CI_TOKEN, "POST", path + "/approve", {}), 404, "not_found")
        self.assertRefused(self.call(CI_TOKEN, "GET", path), 404, "not_found")
        # An auditor reads it but may not decide it.
        status, _ = self.call("erin", "GET", path)
        self.assertEqual(status, 200)
        self.assertRefused(self.call("erin", "POST", path + "/approve", {}), 403,
                           "permission_denied")
        self.assertRefused(self.call("alice", "POST", path + "/revoke", {}), 409, "conflict")

        status, r = self.call("bob", "POST", path + "/approve", {"comment": "looks right"})
        self.assertEqual((status, r["state"], len(r["approvals"])), (200, "pending", 1), r)
        self.assertRefused(self.call("bob", "POST", path + "/approve", {}), 409, "conflict")
        self.assertRefused(self.call("bob", "POST", path + "/revoke", {}), 403,
                           "permission_denied")
        status, r = self.call("dave", "POST", path + "/approve", {"comment": "second pair"})
        self.assertEqual((status, r["state"]), (200, "approved"), r)

        active = wait_for(lambda: self.call("alice", "GET", path)[1]["state"] == "active", 15)
        self.assertTrue(active, self.call("alice", "GET", path)[1])
        assignment = {"AccountId": "222222222222", "PermissionSetArn": ADMIN_ARN,
                      "PrincipalType": "USER", "PrincipalId": USERS["alice"]}
        self.assertIn(assignment, self.emulator.state()["assignments"])

        # An approver is not an admin: bob may not end it. carol (admin) may.
        self.assertRefused(self.call("bob", "POST", path + "/revoke", {}), 403,
                           "permission_denied")
        status, r = self.call("carol", "POST", path + "/revoke", {"reason": "change done"})
        self.assertEqual(status, 200, r)
        ended = wait_for(lambda: self.call("alice", "GET", path)[1]["state"] == "ended", 15)
        self.assertTrue(ended, self.call("alice", "GET", path)[1])
        self.assertNotIn(assignment, self.emulator.state()["assignments"])
        status, r = self.call("alice", "GET", path)
        actions = [h["action"] for h in r["history"]]
        for action in ("request.created", "request.approval", "request.approved",
                       "grant.succeeded", "request.activated", "request.revoked",
                       "revoke.succeeded", "request.ended"):
            self.assertIn(action, actions)

    def test_admins_never_approve_their_own_request(self):
        status, r = self.submit("carol", ticket="INC-77")
        self.assertEqual(status, 201, r)
        self.assertRefused(self.call("carol", "POST", "/v1/requests/" + r["id"] + "/approve", {}),
                           403, "permission_denied")
        status, r = self.call("carol", "POST", "/v1/requests/" + r["id"] + "/cancel", {})
        self.assertEqual((status, r["state"]), (200, "cancelled"), r)

    def test_the_static_token_requests_automation_access_that_expires(self):
        status, r = http(self.server.url, "POST", "/v1/requests", token=CI_TOKEN,
                         body={"account": "sandbox", "permission_set": "ReadOnly",
                               "duration": "5s", "reason": "nightly export"})
        self.assertEqual(status, 201, r)
        path = "/v1/requests/" + r["id"]
        state = lambda: http(self.server.url, "GET", path, token=CI_TOKEN)[1]["state"]  # noqa
        self.assertTrue(wait_for(lambda: state() == "active", 15), state())
        self.assertTrue(wait_for(lambda: state() == "ended", 20), state())
        self.assertNotIn(USERS["ci-bot"],
                         [a["PrincipalId"] for a in self.emulator.state()["assignments"]])

    def test_reading_is_by_role(self):
        for who in ("alice", "bob", CI_TOKEN):
            self.assertRefused(self.call(who, "GET", "/v1/audit"), 403, "permission_denied")
            self.assertRefused(self.call(who, "GET", "/v1/audit/verify"), 403,
                               "permission_denied")
        status, events = self.call("erin", "GET", "/v1/audit")
        self.assertEqual(status, 200, events)
        status, events = self.call("carol", "GET", "/v1/audit")
        self.assertEqual(status, 200, events)
        # Explaining the policy for someone else takes an admin or an auditor.
        ask = {"user": "alice", "groups": ["engineers"], "account": "prod",
               "permission_set": "Admin", "duration": "30m", "ticket": "INC-1",
               "reason": "x"}
        self.assertRefused(self.call("bob", "POST", "/v1/policy/explain", ask), 403,
                           "permission_denied")
        status, e = self.call("erin", "POST", "/v1/policy/explain", ask)
        self.assertEqual((status, e["outcome"], e["approvals"]["required"]),
                         (200, "approval", 2), e)
        # The dev users do not exist outside dev mode.
        for dev_token in ("dev-alice", "dev-carol"):
            status, _ = http(self.server.url, "GET", "/v1/me", token=dev_token)
            self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
