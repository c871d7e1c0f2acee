"""Issue #16, accounts from AWS Organizations end to end: `jit serve --config` whose accounts
come from the organization that `jit emulator` serves (3 OUs, 200 accounts, some suspended).

A rule by OU and one by tag offer exactly the right accounts; `jit config check --aws` prints the
resolved set; moving an account out of the OU ends its grant (after a SIGHUP, which refreshes at
once) with the reason in the audit trail and the assignment gone from Identity Center; a broker
restarted while Organizations cannot be read offers the accounts of its last read at once."""

import signal
import subprocess
import unittest

from harness import JIT, EmulatedBroker, cli, cli_json, http, token_hashes, wait_for

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
READ_ONLY = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"
ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222"
ALICE = "a11ce000-0000-4000-8000-000000000001"
TOKENS = {"alice": "alice-" + "5" * 32, "carol": "carol-" + "6" * 32}  # made up for this test
ROOT = "r-jit1"
PROD, STAGING, DEV = "ou-jit1-prod0000", "ou-jit1-stag0000", "ou-jit1-devl0000"
MANAGEMENT = "111111111111"


def account_id(i):
    return f"3000000{i:05d}"


def build_accounts():
    """200 accounts: 60 in prod, 70 in staging, 70 in dev; every 10th of prod is suspended;
    every 4th account of any OU carries team=payments."""
    accounts = [{"id": MANAGEMENT, "name": "management", "parent_id": ROOT}]
    for i in range(200):
        ou, env = (PROD, "prod") if i < 60 else (STAGING, "staging") if i < 130 else (DEV, "dev")
        a = {"id": account_id(i), "name": f"{env}-{i:03d}", "parent_id": ou,
             "tags": {"env": env}}
        if i % 4 == 0:
            a["tags"]["team"] = "payments"
        if ou == PROD and i % 10 == 9:
            a["status"] = "SUSPENDED"
        accounts.append(a)
    return accounts


ACCOUNTS = build_accounts()

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": MANAGEMENT, "name": "jit-org-test"},
    "accounts": ACCOUNTS,
    "permission_sets": [{"name": "ReadOnly", "arn": READ_ONLY, "session_duration": "PT1H"},
                        {"name": "Admin", "arn": ADMIN, "session_duration": "PT1H"}],
    "users": [{"user_name": "alice", "user_id": ALICE, "display_name": "Alice",
               "emails": ["alice@example.com"]}],
    "organization": {"id": "o-jit1test00", "master_account_id": MANAGEMENT,
                     "roots": [{"id": ROOT, "name": "Root"}],
                     "organizational_units": [{"id": PROD, "name": "prod", "parent_id": ROOT},
                                              {"id": STAGING, "name": "staging",
                                               "parent_id": ROOT},
                                              {"id": DEV, "name": "dev", "parent_id": ROOT}]},
}

CONFIG = """\
aws: {{region: us-east-1, instance_arn: "{instance}", identity_store_id: d-1111111111,
       organizations_calls_per_second: 100}}
auth:
  tokens:
    - {{name: alice, sha256: "{alice}", groups: [engineers]}}
    - {{name: carol, sha256: "{carol}", groups: [admins]}}
admins: {{groups: [admins]}}
accounts:
  - {{organization: true}}
permission_sets:
  - {{name: ReadOnly, arn: "{read_only}", max_duration: 8h}}
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
rules:
  - {{name: prod-readonly, requesters: {{groups: [engineers]}}, accounts: {{ous: [{prod}]}},
     permission_sets: [ReadOnly], max_duration: 1h, approval: auto}}
  - {{name: payments-admin, requesters: {{groups: [engineers]}},
     accounts: {{tags: [team=payments]}}, permission_sets: [Admin], max_duration: 1h,
     approval: auto}}
"""


def active_in(ou):
    return {a["id"] for a in ACCOUNTS
            if a.get("parent_id") == ou and a.get("status", "ACTIVE") == "ACTIVE"}


class OrganizationsTest(unittest.TestCase):
    def setUp(self):
        self.broker = EmulatedBroker("jit-org-", SEED, CONFIG.format(
            instance=INSTANCE, read_only=READ_ONLY, admin=ADMIN, prod=PROD,
            **token_hashes(TOKENS)))
        self.server, self.emulator = self.broker.server, self.broker.emulator
        self.config = self.broker.config_path

    def tearDown(self):
        self.broker.close()

    def jit(self, token, *args):
        return cli_json(self, self.server.url, TOKENS[token], *args)

    def offered(self):
        """(permission set -> account ids) of alice's catalog."""
        status, body = http(self.server.url, "GET", "/v1/catalog", token=TOKENS["alice"])
        self.assertEqual(status, 200, body)
        out = {}
        for item in body["items"]:
            out.setdefault(item["permission_set"]["name"], set()).add(item["account"]["id"])
        return out

    def wait_offered(self, want_readonly):
        self.assertTrue(wait_for(lambda: self.offered().get("ReadOnly") == want_readonly, 30),
                        self.offered().get("ReadOnly"))

    def test_rules_by_ou_and_tag_offer_exactly_the_right_accounts(self):
        prod = active_in(PROD)
        self.assertEqual(len(prod), 54)  # 60, less 6 suspended
        self.wait_offered(prod)
        payments = {a["id"] for a in ACCOUNTS
                    if a.get("tags", {}).get("team") == "payments"
                    and a.get("status", "ACTIVE") == "ACTIVE"}
        self.assertEqual(self.offered()["Admin"], payments)
        # The catalog names each account as the organization does, with its OU and tags.
        status, body = http(self.server.url, "GET", "/v1/catalog", token=TOKENS["alice"])
        first = next(i["account"] for i in body["items"]
                     if i["account"]["id"] == account_id(0))
        self.assertEqual(first["name"], "prod-000")
        self.assertEqual(first["ou"], PROD)
        self.assertIn("env=prod", first["tags"])
        # `jit catalog` names the OU beside the account.
        code, out, err = cli(self.server.url, TOKENS["alice"], "-o", "table", "catalog")
        self.assertEqual(code, 0, err)
        self.assertIn(f"prod-000 ({account_id(0)}) · {PROD}", out)
        # A suspended account is not offered and cannot be asked for.
        code, _, err = cli(self.server.url, TOKENS["alice"], "request", account_id(9),
                           "ReadOnly", "--for", "10m", "--reason", "x")
        self.assertNotEqual(code, 0)
        self.assertIn("unknown account", err)

    def test_config_check_aws_prints_the_resolved_set(self):
        p = subprocess.run([JIT, "config", "check", self.config, "--aws"], capture_output=True,
                           text=True, timeout=120, env=self.emulator.env())
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("AWS: accounts from AWS Organizations, line 9: the whole organization: "
                      "195 active accounts", p.stdout)
        self.assertIn(f"AWS: account {account_id(0)} prod-000 ({PROD}; env=prod,team=payments)",
                      p.stdout)
        self.assertNotIn(account_id(9), p.stdout)  # suspended

    def test_an_account_moved_out_of_the_ou_ends_its_grant(self):
        self.wait_offered(active_in(PROD))
        moved, stays = account_id(1), account_id(2)
        grants = [self.jit("alice", "request", a, "ReadOnly", "--for", "30m", "--reason",
                           "incident", "--wait") for a in (moved, stays)]
        for g in grants:
            self.assertEqual(g["state"], "active", g)
        status, body = self.emulator.aws(
            "organizations", "AWSOrganizationsV20161128.MoveAccount",
            {"AccountId": moved, "SourceParentId": PROD, "DestinationParentId": DEV})
        self.assertEqual(status, 200, body)
        self.server.proc.send_signal(signal.SIGHUP)  # a reload refreshes the organization now
        self.assertTrue(wait_for(
            lambda: self.jit("carol", "show", grants[0]["id"])["state"] == "ended", 30))
        ended = self.jit("carol", "show", grants[0]["id"])
        self.assertIn("rule prod-readonly no longer selects account " + moved,
                      ended["end_reason"])
        revoked = [e for e in ended["history"] if e["action"] == "request.revoked"]
        self.assertEqual(len(revoked), 1)
        self.assertEqual(revoked[0]["actor"], "jit")
        self.assertEqual(self.jit("carol", "show", grants[1]["id"])["state"], "active")
        held = {(a["AccountId"], a["PrincipalId"])
                for a in self.emulator.state()["assignments"]}
        self.assertNotIn((moved, ALICE), held)
        self.assertIn((stays, ALICE), held)
        self.assertNotIn(moved, self.offered()["ReadOnly"])

    def test_a_restart_offers_the_last_accounts_read_at_once(self):
        prod = active_in(PROD)
        self.wait_offered(prod)
        self.server.close()
        env = self.emulator.env()
        env["AWS_ENDPOINT_URL_ORGANIZATIONS"] = "http://127.0.0.1:9"  # nothing listens there
        self.server = self.broker.server = self.broker.start_server(env)
        self.assertEqual(self.offered().get("ReadOnly"), prod)


if __name__ == "__main__":
    unittest.main()
