"""Issue #13 deliverable 8, standing access inventory: `jit assignments standing` against a
broker (`jit serve --config`) and a standalone `jit emulator` seeded with standing user and group
assignments. jit's own grant is not standing access; the pairs no rule offers are not jit's
business; every output form says the same thing; bad input is a one-line error."""

import csv
import hashlib
import io
import json
import os
import tempfile
import types
import unittest

from harness import Emulator, Server, cli, wait_for

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
PS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-"
READ_ONLY, ADMIN = PS + "1111111111111111", PS + "2222222222222222"
SANDBOX, PROD = "111111111111", "222222222222"
USERS = {"alice": "a11ce000-0000-4000-8000-000000000001",
         "bob": "b0b00000-0000-4000-8000-000000000002",
         "carol": "ca401000-0000-4000-8000-000000000003"}
OPS = "0a500000-0000-4000-8000-000000000010"
TOKENS = {"alice": "alice-" + "1" * 32, "carol": "carol-" + "2" * 32}  # made up for this test

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": SANDBOX, "name": "jit-standing-test"},
    "accounts": [{"id": SANDBOX, "name": "sandbox"}, {"id": PROD, "name": "prod"}],
    "permission_sets": [{"name": "ReadOnly", "arn": READ_ONLY, "session_duration": "PT1H"},
                        {"name": "Admin", "arn": ADMIN, "session_duration": "PT1H"}],
    "users": [{"user_name": n, "user_id": i, "display_name": n.title(),
               "emails": [n + "@example.com"]} for n, i in USERS.items()],
    # The display name carries an escape sequence: a table must not pass it to the terminal.
    "groups": [{"display_name": "ops\x1b[2J", "group_id": OPS, "members": ["bob"]}],
    "assignments": [
        {"account_id": PROD, "permission_set_arn": ADMIN, "principal_type": "USER",
         "principal_id": USERS["bob"]},
        {"account_id": SANDBOX, "permission_set_arn": READ_ONLY, "principal_type": "GROUP",
         "principal_id": OPS},
        # No rule offers Admin in sandbox: not jit's business.
        {"account_id": SANDBOX, "permission_set_arn": ADMIN, "principal_type": "USER",
         "principal_id": USERS["bob"]},
    ],
}

CONFIG = """\
aws: {{region: us-east-1, instance_arn: "{instance}", identity_store_id: d-1111111111}}
auth:
  tokens:
    - {{name: alice, sha256: "{alice}", groups: [engineers]}}
    - {{name: carol, sha256: "{carol}", groups: [admins]}}
admins: {{groups: [admins]}}
accounts:
  - {{id: "{sandbox}", name: sandbox}}
  - {{id: "{prod}", name: prod}}
permission_sets:
  - {{name: ReadOnly, arn: "{read_only}", max_duration: 8h}}
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
rules:
  - {{name: readonly, requesters: {{groups: [engineers]}}, accounts: {{all: true}},
     permission_sets: [ReadOnly], max_duration: 8h, approval: auto}}
  - {{name: prod-admin, requesters: {{groups: [engineers]}}, accounts: {{names: [prod]}},
     permission_sets: [Admin], max_duration: 1h, approval: {{approvers: {{groups: [admins]}}}}}}
"""


class StandingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory(prefix="jit-standing-")
        d = cls.dir.name
        config = os.path.join(d, "jit.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(
                instance=INSTANCE, sandbox=SANDBOX, prod=PROD, read_only=READ_ONLY, admin=ADMIN,
                **{n: hashlib.sha256(t.encode()).hexdigest() for n, t in TOKENS.items()}))
        cls.emulator = Emulator(d, seed=SEED)
        os.makedirs(os.path.join(d, "data"))
        cls.server = Server(data_dir=os.path.join(d, "data"), dev=False,
                            extra_args=["--config", config], env=cls.emulator.env())
        try:
            cls.server.start()
            # alice's own grant: an assignment jit made, which is not standing access.
            code, out, err = cli(cls.server.url, TOKENS["alice"], "-o", "json", "request",
                                 "sandbox", "ReadOnly", "--for", "30m", "--reason", "logs",
                                 "--wait")
            assert code == 0 and json.loads(out)["state"] == "active", (code, out, err)
        except Exception:
            cls.server.close()
            cls.emulator.close()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.server.close()
        cls.emulator.close()
        cls.dir.cleanup()
        assert code == 0, f"server exited with {code}"

    def standing(self, *args, token="carol", check=True):
        code, out, err = cli(self.server.url, TOKENS[token], "assignments", "standing", *args)
        if check:
            self.assertEqual(code, 0, err)
        return types.SimpleNamespace(returncode=code, stdout=out, stderr=err)

    def test_json_lists_standing_users_and_groups_but_not_jits_grant(self):
        self.assertTrue(wait_for(lambda: any(
            a["PrincipalId"] == USERS["alice"] for a in self.emulator.state()["assignments"]),
            10), "alice's grant never reached the emulator")
        rows = json.loads(self.standing("-o", "json").stdout)
        got = sorted((r["account_name"], r["permission_set"], r["principal_type"],
                      r["principal_name"]) for r in rows["items"])
        self.assertEqual(got, [("prod", "Admin", "USER", "bob"),
                               ("sandbox", "ReadOnly", "GROUP", "ops\x1b[2J")])
        self.assertEqual(rows["pairs_listed"], 3)  # sandbox/ReadOnly, prod/ReadOnly, prod/Admin

    def test_table_and_csv_say_the_same_and_escape_control_characters(self):
        table = self.standing().stdout
        self.assertIn("bob", table)
        self.assertIn("ops\\x1b[2J", table)
        self.assertNotIn("\x1b", table)
        self.assertNotIn(USERS["alice"], table)
        rows = list(csv.DictReader(io.StringIO(self.standing("-o", "csv").stdout)))
        self.assertEqual(sorted((r["account_id"], r["principal_type"]) for r in rows),
                         [(SANDBOX, "GROUP"), (PROD, "USER")])
        self.assertNotIn("\x1b", json.dumps(rows))

    def test_one_account(self):
        rows = json.loads(self.standing("--account", "sandbox", "-o", "json").stdout)["items"]
        self.assertEqual([r["principal_id"] for r in rows], [OPS])
        rows = json.loads(self.standing("--account", PROD, "-o", "json").stdout)["items"]
        self.assertEqual([r["principal_name"] for r in rows], ["bob"])

    def test_bad_input_and_the_wrong_caller_are_one_line_errors(self):
        for args, token, needle in [(("--account", "staging"), "carol", "not in the catalog"),
                                    ((), "alice", "only admins and auditors")]:
            out = self.standing(*args, token=token, check=False)
            self.assertEqual(out.returncode, 1, out)
            self.assertEqual(out.stdout, "")
            self.assertEqual(len(out.stderr.strip().splitlines()), 1, out.stderr)
            self.assertIn(needle, out.stderr)


if __name__ == "__main__":
    unittest.main()
