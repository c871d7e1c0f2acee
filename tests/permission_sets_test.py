"""Issue #14 deliverables 2 and 3, permission sets as code and region guardrails:
`jit permission-sets plan|apply` against a standalone `jit emulator`, as an operator runs them.

A plan of an org that matches the config prints no change; apply writes the definition (the
operator's statements from the policy file, the region guardrail) and provisions the set where
it is assigned; a second apply makes no write call; jit's own JitCutoff statements survive;
a permission set the config does not declare is never touched; a bad policy file is refused
with its file and line before any call.

It runs every sso-admin call `apply` makes against the emulator, which speaks them with AWS's
names and shapes (tests/sdk checks that with the official SDK).
"""

import datetime
import hashlib
import hmac
import json
import os
import re
import subprocess
import tempfile
import unittest
import urllib.parse
import urllib.request

from harness import JIT, Emulator, wait_for

INSTANCE = "arn:aws:sso:::instance/ssoins-1111111111111111"
PS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-"
READ_ONLY, ADMIN = PS + "1111111111111111", PS + "2222222222222222"
SANDBOX, PROD = "111111111111", "222222222222"
BOB = "b0b00000-0000-4000-8000-000000000002"

SEED = {
    "instance": {"arn": INSTANCE, "identity_store_id": "d-1111111111",
                 "owner_account_id": SANDBOX, "name": "jit-permission-sets-test"},
    "accounts": [{"id": SANDBOX, "name": "sandbox"}, {"id": PROD, "name": "prod"}],
    "permission_sets": [{"name": "ReadOnly", "arn": READ_ONLY, "session_duration": "PT1H"},
                        {"name": "Admin", "arn": ADMIN, "session_duration": "PT1H"}],
    "users": [{"user_name": "bob", "user_id": BOB, "display_name": "Bob",
               "emails": ["bob@example.com"]}],
    # ReadOnly is assigned in prod: apply must provision it there.
    "assignments": [{"account_id": PROD, "permission_set_arn": READ_ONLY,
                     "principal_type": "USER", "principal_id": BOB},
                    {"account_id": PROD, "permission_set_arn": ADMIN,
                     "principal_type": "USER", "principal_id": BOB}],
}

HEAD = """\
aws: {{region: us-east-1, instance_arn: "{instance}", identity_store_id: d-1111111111}}
accounts:
  - {{id: "{sandbox}", name: sandbox}}
  - {{id: "{prod}", name: prod}}
permission_sets:
  - name: ReadOnly
    arn: "{read_only}"
    max_duration: 8h
    definition:
"""
TAIL = """\
  - {{name: Admin, arn: "{admin}", max_duration: 1h}}
rules:
  - {{name: readonly, requesters: {{groups: [engineers]}}, accounts: {{all: true}},
     permission_sets: [ReadOnly], max_duration: 8h, approval: auto}}
"""

# Only what the emulator already serves: the inline policy (file + regions).
INLINE_ONLY = """\
      inline_policy_file: policies/readonly.json
      regions: [eu-central-1, eu-west-1]
"""
# Every key of a definition.
FULL = """\
      description: Read-only access
      session_duration: 2h
      relay_state: https://console.aws.amazon.com/
      managed_policies: [arn:aws:iam::aws:policy/ReadOnlyAccess]
      customer_managed_policies: [{name: JitExtra, path: /}]
      permissions_boundary: {managed_policy_arn: "arn:aws:iam::aws:policy/ReadOnlyAccess"}
      tags: {team: security}
      inline_policy_file: policies/readonly.json
      regions: [eu-central-1, eu-west-1]
"""

OPERATOR_STATEMENT = {"Sid": "OperatorNoSecrets", "Effect": "Deny",
                      "Action": ["secretsmanager:GetSecretValue"], "Resource": "*"}
CUTOFF = {"Sid": "JitCutoff222222222222T20261205001500", "Effect": "Deny", "Action": "*",
          "Resource": "*",
          "Condition": {"StringEquals": {"identitystore:userId": [BOB],
                                         "aws:PrincipalAccount": PROD},
                        "DateLessThan": {"aws:TokenIssueTime": "2026-12-05T00:15:00Z"}}}

# The calls that change something in Identity Center.
WRITES = {"CreatePermissionSet", "UpdatePermissionSet", "PutInlinePolicyToPermissionSet",
          "DeleteInlinePolicyFromPermissionSet", "AttachManagedPolicyToPermissionSet",
          "DetachManagedPolicyFromPermissionSet",
          "AttachCustomerManagedPolicyReferenceToPermissionSet",
          "DetachCustomerManagedPolicyReferenceFromPermissionSet",
          "PutPermissionsBoundaryToPermissionSet", "DeletePermissionsBoundaryFromPermissionSet",
          "TagResource", "UntagResource", "ProvisionPermissionSet"}


def sso_admin(emulator, operation, body):
    """One signed sso-admin call to the emulator (SigV4, as the AWS SDKs sign), for what the
    test sets up behind jit's back (a cut-off statement, as session cut-off writes it)."""
    url = emulator.url + "/"
    host = urllib.parse.urlparse(url).netloc
    payload = json.dumps(body).encode()
    now = datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = {"content-type": "application/x-amz-json-1.1", "host": host,
               "x-amz-date": amz_date, "x-amz-target": "SWBExternalService." + operation}
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["POST", "/", "", "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                           signed, hashlib.sha256(payload).hexdigest()])
    scope = f"{day}/us-east-1/sso/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + emulator.secret_access_key).encode()
    for part in (day, "us-east-1", "sso", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={emulator.access_key_id}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    del headers["host"]
    req = urllib.request.Request(url, data=payload, method="POST", headers=headers)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"{}")


class PermissionSetsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="jit-permsets-")
        self.emulator = Emulator(self.dir.name, seed=SEED)
        os.makedirs(os.path.join(self.dir.name, "policies"))
        self.write_policy({"Version": "2012-10-17", "Statement": [OPERATOR_STATEMENT]})

    def tearDown(self):
        self.emulator.close()
        self.dir.cleanup()

    def write_policy(self, doc, text=None):
        with open(os.path.join(self.dir.name, "policies", "readonly.json"), "w",
                  encoding="utf-8") as f:
            f.write(text if text is not None else json.dumps(doc, indent=2))

    def write_config(self, definition):
        path = os.path.join(self.dir.name, "jit.yaml")
        values = dict(instance=INSTANCE, sandbox=SANDBOX, prod=PROD, read_only=READ_ONLY,
                      admin=ADMIN)
        with open(path, "w", encoding="utf-8") as f:
            f.write(HEAD.format(**values) + definition + TAIL.format(**values))
        return path

    def jit(self, *args, check=True):
        result = subprocess.run([JIT, *args], capture_output=True, text=True, timeout=120,
                                env=self.emulator.env())
        if check:
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        return result

    def permission_set(self, arn):
        return next(p for p in self.emulator.state()["permission_sets"]
                    if p["PermissionSetArn"] == arn)

    def write_calls(self):
        calls = self.emulator.state()["calls"]
        return {op: n for op, n in calls.items() if op in WRITES}

    def check_plan_apply_apply(self, definition):
        config = self.write_config(definition)
        admin_before = self.permission_set(ADMIN)

        plan = self.jit("permission-sets", "plan", "--config", config)
        self.assertIn("ReadOnly (" + READ_ONLY + "):", plan.stdout)
        self.assertIn("~ put inline policy: 1 statement from policies/readonly.json + region "
                      "guardrail (eu-central-1, eu-west-1)", plan.stdout)
        self.assertIn("> provision to 1 account", plan.stdout)
        self.assertNotIn("Admin", plan.stdout)
        self.assertEqual(self.write_calls(), {}, "plan writes nothing")
        as_json = json.loads(self.jit("-o", "json", "permission-sets", "plan", "--config",
                                      config).stdout)
        self.assertIn("put_inline_policy", [c["action"] for c in as_json["changes"]])

        self.jit("permission-sets", "apply", "--config", config)
        policy = json.loads(self.permission_set(READ_ONLY)["InlinePolicy"])
        self.assertEqual(policy["Statement"][0], OPERATOR_STATEMENT)
        guardrail = policy["Statement"][1]
        self.assertEqual(guardrail["Sid"], "JitRegionGuardrail")
        self.assertEqual(guardrail["Effect"], "Deny")
        self.assertIn("iam:*", guardrail["NotAction"])
        self.assertEqual(guardrail["Condition"]["StringNotEquals"]["aws:RequestedRegion"],
                         ["eu-central-1", "eu-west-1"])
        # Provisioned where it is assigned, and the provisioning finished.
        self.assertTrue(wait_for(lambda: any(
            p["PermissionSetArn"] == READ_ONLY and PROD in p["Accounts"]
            and p["Status"] == "SUCCEEDED" for p in self.emulator.state()["provisioning"]), 10))
        self.assertEqual(self.permission_set(ADMIN), admin_before, "Admin is not the config's")

        writes = self.write_calls()
        self.assertIn("no changes", self.jit("permission-sets", "plan", "--config",
                                             config).stdout)
        second = self.jit("permission-sets", "apply", "--config", config)
        self.assertIn("no changes", second.stdout)
        self.assertEqual(self.write_calls(), writes, "a second apply writes nothing")
        return config

    def test_inline_policy_and_regions(self):
        self.check_plan_apply_apply(INLINE_ONLY)

    def test_every_key_of_a_definition(self):
        config = self.check_plan_apply_apply(FULL)
        plan = self.jit("-o", "json", "permission-sets", "plan", "--config", config)
        self.assertEqual(json.loads(plan.stdout)["changes"], [])

    def test_cutoff_statements_survive_and_are_not_a_difference(self):
        config = self.write_config(INLINE_ONLY)
        self.jit("permission-sets", "apply", "--config", config)
        policy = json.loads(self.permission_set(READ_ONLY)["InlinePolicy"])
        # Session cut-off adds its statement.
        policy["Statement"].append(CUTOFF)
        sso_admin(self.emulator, "PutInlinePolicyToPermissionSet",
                  {"InstanceArn": INSTANCE, "PermissionSetArn": READ_ONLY,
                   "InlinePolicy": json.dumps(policy)})
        self.assertIn("no changes", self.jit("permission-sets", "plan", "--config",
                                             config).stdout)
        # The operator changes their file: apply rewrites it and keeps the cut-off.
        changed = dict(OPERATOR_STATEMENT, Action=["secretsmanager:*"])
        self.write_policy({"Version": "2012-10-17", "Statement": [changed]})
        out = self.jit("permission-sets", "apply", "--config", config).stdout
        self.assertIn("1 JitCutoff statement kept", out)
        policy = json.loads(self.permission_set(READ_ONLY)["InlinePolicy"])
        self.assertEqual(policy["Statement"][0], changed)
        self.assertIn(CUTOFF, policy["Statement"])

    def test_a_bad_policy_file_is_refused_with_its_line_before_any_call(self):
        self.write_policy(None, text='{\n  "Version": "2012-10-17",\n  "Statement": [\n'
                                     '    {"Effect": "Allow",, }\n  ]\n}\n')
        config = self.write_config(INLINE_ONLY)
        for action in ("plan", "apply"):
            result = self.jit("permission-sets", action, "--config", config, check=False)
            self.assertEqual(result.returncode, 1)
            self.assertRegex(result.stderr, r"jit\.yaml:\d+: permission set ReadOnly: "
                                            r"policies/readonly\.json:4: not valid JSON")
        self.assertEqual(self.emulator.state()["calls"].get("ListPermissionSets", 0), 0)
        self.assertEqual(self.write_calls(), {})
        # config check says the same.
        check = self.jit("config", "check", config, check=False)
        self.assertEqual(check.returncode, 1)
        self.assertIn("policies/readonly.json:4: not valid JSON", check.stderr)

    def test_a_missing_set_is_created_and_its_arn_printed(self):
        placeholder = PS + "3333333333333333"
        config = self.write_config(INLINE_ONLY)
        with open(config, encoding="utf-8") as f:
            text = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write(text.replace("rules:\n", f"""\
  - name: Audit
    arn: "{placeholder}"
    definition:
      description: Reads the audit trail
      session_duration: 1h
      tags: {{team: security}}
      regions: [eu-central-1]
rules:
""", 1))
        plan = self.jit("permission-sets", "plan", "--config", config).stdout
        self.assertIn("Audit (new):\n  + create permission set Audit", plan)
        out = self.jit("permission-sets", "apply", "--config", config).stdout
        created = re.search(r"Audit: created as (arn:aws:sso:::permissionSet/\S+)", out)
        self.assertIsNotNone(created, out)
        # Until the config names the new ARN, plan says which one to write.
        result = self.jit("permission-sets", "plan", "--config", config, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("is not Identity Center's " + created.group(1), result.stderr)
        with open(config, encoding="utf-8") as f:
            text = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write(text.replace(placeholder, created.group(1)))
        self.assertIn("no changes", self.jit("permission-sets", "plan", "--config",
                                             config).stdout)

    def test_a_wrong_arn_is_an_error_naming_the_right_one(self):
        config = self.write_config(INLINE_ONLY)
        with open(config, encoding="utf-8") as f:
            text = f.read()
        with open(config, "w", encoding="utf-8") as f:
            f.write(text.replace(READ_ONLY, PS + "9999999999999999", 1))
        result = self.jit("permission-sets", "plan", "--config", config, check=False)
        self.assertEqual(result.returncode, 1)
        self.assertIn("is not Identity Center's " + READ_ONLY, result.stderr)
        self.assertEqual(self.write_calls(), {})


if __name__ == "__main__":
    unittest.main()
