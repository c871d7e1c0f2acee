"""Issue #13, deliverables 2 and 3: the container recipe (Dockerfile) and the AWS side as code
(deploy/cloudformation/jit.yaml). Static checks only: no base image or AWS account is reachable,
so nothing here builds the image or deploys the stack (docs/DEPLOY.md).

- The CloudFormation template: its broker role's policy JitIdentityCenter, evaluated with the
  example ids of deploy/iam-policy.json as parameter values, is that file statement by statement;
  the role gets no other action than sns:Publish on its own topic and events:PutEvents on its
  own bus, each only when the stack makes them; `cfn-lint` (npm, tests/deploy/node_modules,
  installed by scripts/setup.sh) finds no problem; and every resource type, property (required
  ones too) and attribute it uses is one the CloudFormation resource specification knows
  (the one @aws-cdk/cfnspec ships, in tests/deploy/node_modules).
- The Dockerfile: two stages on Debian 12 and Debian 12 slim, a non-root USER, the
  /var/lib/jit VOLUME, a HEALTHCHECK on /readyz, the entrypoint and command; the packages it
  installs are Debian's (apt-cache, when this machine has package lists) and cover the
  libraries the built binary links (JIT_BINARY, when set).
- Each check is shown to fail on a broken copy: an extra action, an unknown property, an unknown
  resource type, a missing required property.

Needs python3-yaml and, for the cfn-lint and specification checks, node and
tests/deploy/node_modules: without them those tests fail and say to run scripts/setup.sh."""

import copy
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

try:
    import yaml
except ImportError as e:  # fail, do not skip: CI must run these checks
    raise ImportError(f"{e}: install Debian's python3-yaml (run scripts/setup.sh)") from e

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "jit.yaml")
POLICY = os.path.join(ROOT, "deploy", "iam-policy.json")
# The opt-in policies of issue 14 and the template resources that attach them.
OPT_IN_POLICIES = {
    "SessionCutoffPolicy": ("SessionCutoff",
                            os.path.join(ROOT, "deploy", "iam-policy-session-cutoff.json")),
    "PermissionSetsPolicy": ("PermissionSetsAsCode",
                             os.path.join(ROOT, "deploy", "iam-policy-permission-sets.json")),
    # Issue 17's session activity: sts:AssumeRole of the read-only role in every account.
    "SessionActivityPolicy": ("SessionActivity",
                              os.path.join(ROOT, "deploy", "iam-policy-session-activity.json")),
}
# What each opt-in policy's actions are: Identity Center's, or assuming the activity role.
OPT_IN_ACTIONS = {"SessionCutoffPolicy": "sso:", "PermissionSetsPolicy": "sso:",
                  "SessionActivityPolicy": "sts:AssumeRole"}
# The StackSet template of the role session activity assumes in each account.
ACTIVITY_TEMPLATE = os.path.join(ROOT, "deploy", "cloudformation", "activity-reader-role.yaml")
SCP = os.path.join(ROOT, "deploy", "scp", "region-allow-list.json")
GUARDRAIL_SOURCE = os.path.join(ROOT, "src", "permsets", "definition.cc")
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
DOCKERIGNORE = os.path.join(ROOT, ".dockerignore")
SETUP = os.path.join(ROOT, "scripts", "setup.sh")
MODULES = os.path.join(HERE, "deploy", "node_modules")
LINT = os.path.join(HERE, "deploy", "lint.cjs")
SPEC = os.path.join(MODULES, "@aws-cdk", "cfnspec", "spec", "specification.json")
SETUP_HINT = "run scripts/setup.sh (it installs node and tests/deploy/node_modules)"

# The example ids of deploy/iam-policy.json, as the template's parameters and pseudo parameters.
EXAMPLE = {
    "InstanceArn": "arn:aws:sso:::instance/ssoins-1111111111111111",
    "IdentityStoreId": "d-1111111111",
    "AccountIds": "111111111111,222222222222",
    "AWS::AccountId": "111111111111",
    "AWS::Region": "us-east-1",
    "AWS::Partition": "aws",
    "AWS::StackName": "jit",
}
# Every option on: a topic, a bus, an ECS task role also trusted by another account, two named
# permission sets and an identity store in another account.
EVERYTHING = dict(
    EXAMPLE, CreateTopic="yes", CreateEventBus="yes", TrustedService="ecs-tasks.amazonaws.com",
    TrustedPrincipalArn="arn:aws:iam::222222222222:root", IdentityStoreAccountId="222222222222",
    FindingsBrokerUrl="https://jit.example.com",
    FindingsTokenSecretArn="arn:aws:secretsmanager:us-east-1:111111111111:secret:jit-automation-AbCdEf",
    PermissionSetArns="arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111,"
                      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222")


# --- CloudFormation YAML and a small evaluator of its intrinsic functions -----------------------

class CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short tags: !Ref X is {"Ref": X}, !GetAtt A.B is
    {"Fn::GetAtt": ["A", "B"]}, !Condition C is {"Condition": C}, !Name V is {"Fn::Name": V}."""


def _construct_tag(loader, suffix, node):
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {"Fn::" + suffix: value}


CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(text=None):
    if text is None:
        with open(TEMPLATE, encoding="utf-8") as f:
            text = f.read()
    return yaml.load(text, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)


NO_VALUE = object()  # AWS::NoValue: the key or list item is left out


class Evaluator:
    """Evaluates Ref, Fn::Join, Fn::Split, Fn::Select, Fn::Sub, Fn::If, Fn::Equals, Fn::Not,
    Fn::Or, Fn::And and Condition over given parameter values (the template's defaults for the
    rest). Fn::GetAtt and a Ref to a resource give "<Logical.Attribute>" and "<Logical>"."""

    def __init__(self, template, values):
        self.template = template
        self.params = {}
        for name, spec in template.get("Parameters", {}).items():
            value = values.get(name, spec.get("Default"))
            if value is None:
                raise AssertionError(f"parameter {name} has no value and no default")
            if spec["Type"] == "CommaDelimitedList":
                value = value.split(",")
            self.params[name] = value
        for name, value in values.items():
            if name.startswith("AWS::"):
                self.params[name] = value
        self.conditions = {}
        for name in template.get("Conditions", {}):
            self.condition(name)

    def condition(self, name):
        if name not in self.conditions:
            self.conditions[name] = self.eval(self.template["Conditions"][name])
        return self.conditions[name]

    def eval(self, node):
        if isinstance(node, list):
            return [v for v in (self.eval(x) for x in node) if v is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            if key == "Ref":
                if arg == "AWS::NoValue":
                    return NO_VALUE
                if arg in self.params:
                    return self.params[arg]
                if arg in self.template.get("Resources", {}):
                    return f"<{arg}>"
                raise AssertionError(f"Ref to unknown {arg}")
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::GetAtt":
                return f"<{arg[0]}.{arg[1]}>"
            if key == "Fn::Join":
                sep, items = arg
                return sep.join(self.eval(items))
            if key == "Fn::Split":
                sep, value = arg
                return self.eval(value).split(sep)
            if key == "Fn::Select":
                index, items = arg
                return self.eval(items)[int(self.eval(index))]
            if key == "Fn::Sub":
                text, names = (arg, {}) if isinstance(arg, str) else arg
                names = {k: self.eval(v) for k, v in names.items()}

                def sub(m):
                    name = m.group(1)
                    if name in names:
                        return names[name]
                    if "." in name:
                        return self.eval({"Fn::GetAtt": name.split(".", 1)})
                    return self.eval({"Ref": name})

                return re.sub(r"\$\{([^}!][^}]*)\}", sub, text)
            if key == "Fn::If":
                cond, yes, no = arg
                return self.eval(yes if self.condition(cond) else no)
            if key == "Fn::Equals":
                a, b = (self.eval(x) for x in arg)
                return a == b
            if key == "Fn::Not":
                return not self.eval(arg[0])
            if key == "Fn::Or":
                return any(self.eval(x) for x in arg)
            if key == "Fn::And":
                return all(self.eval(x) for x in arg)
            if key.startswith("Fn::"):
                raise AssertionError(f"the test's evaluator does not know {key}")
        out = {}
        for k, v in node.items():
            v = self.eval(v)
            if v is not NO_VALUE:
                out[k] = v
        return out

    def resources(self):
        """The resources the stack makes with these values, evaluated."""
        made = {}
        for name, res in self.template["Resources"].items():
            if "Condition" in res and not self.condition(res["Condition"]):
                continue
            made[name] = self.eval(res)
        return made


def as_list(v):
    return v if isinstance(v, list) else [v]


def normalized(statement):
    """A statement with Action/Resource as sorted lists, for comparing."""
    s = dict(statement)
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if key in s:
            s[key] = sorted(as_list(s[key]))
    return s


def role_policy(template, values, name="JitIdentityCenter"):
    ev = Evaluator(template, values)
    role = ev.resources()["BrokerRole"]
    for p in role["Properties"].get("Policies", []):
        if p["PolicyName"] == name:
            return p["PolicyDocument"]
    raise AssertionError(f"BrokerRole has no policy {name}")


def other_grants(template, values, role="BrokerRole"):
    """What the stack allows `role` besides JitIdentityCenter: a set of (action, resource) pairs
    of its other inline policies and of AWS::IAM::Policy/ManagedPolicy resources attached to it
    (a managed policy ARN attached to it counts as ("<managed>", ARN))."""
    grants = set()
    for name, res in Evaluator(template, values).resources().items():
        props = res.get("Properties", {})
        docs = []
        if res["Type"] == "AWS::IAM::Role" and name == role:
            docs += [p["PolicyDocument"] for p in props.get("Policies", [])
                     if p["PolicyName"] != "JitIdentityCenter"]
            grants |= {("<managed>", arn) for arn in props.get("ManagedPolicyArns", [])}
        elif (res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
              and f"<{role}>" in props.get("Roles", [])):
            docs.append(props["PolicyDocument"])
        for doc in docs:
            for s in doc["Statement"]:
                for a in as_list(s.get("Action", s.get("NotAction", []))):
                    for r in as_list(s.get("Resource", s.get("NotResource", []))):
                        grants.add((a if s.get("Effect") == "Allow" else "Deny " + a, r))
    return grants


def policy_differences(template, expected):
    """How the template's JitIdentityCenter, with the example ids, differs from `expected`
    (deploy/iam-policy.json): one line per difference, empty when equal."""
    got = role_policy(template, EXAMPLE)
    problems = []
    if got.get("Version") != expected.get("Version"):
        problems.append(f"Version {got.get('Version')!r} != {expected.get('Version')!r}")
    got_sids = [s.get("Sid") for s in got["Statement"]]
    want_sids = [s.get("Sid") for s in expected["Statement"]]
    if got_sids != want_sids:
        problems.append(f"statements {got_sids} != {want_sids}")
    for g, w in zip(got["Statement"], expected["Statement"]):
        g, w = normalized(g), normalized(w)
        for key in sorted(set(g) | set(w)):
            if g.get(key) != w.get(key):
                problems.append(f"{w.get('Sid')}: {key}: template {g.get(key)!r} != "
                                f"deploy/iam-policy.json {w.get(key)!r}")
    return problems


# --- The CloudFormation resource specification -----------------------------------------------

INTRINSICS = {"Ref", "Fn::GetAtt", "Fn::Join", "Fn::Split", "Fn::Select", "Fn::Sub", "Fn::If",
              "Fn::ImportValue", "Fn::FindInMap", "Fn::Base64", "Fn::GetAZs", "Fn::Cidr"}


def is_intrinsic(v):
    return isinstance(v, dict) and len(v) == 1 and next(iter(v)) in INTRINSICS


def spec_problems(template, spec):
    """Resource types, properties (and required ones), property types and Fn::GetAtt attributes
    of `template` that `spec` (a CloudFormation resource specification) does not know: one line
    per problem."""
    problems = []
    rtypes, ptypes = spec["ResourceTypes"], spec["PropertyTypes"]

    def check_props(where, owner, props, type_spec):
        if is_intrinsic(props):
            return
        if not isinstance(props, dict):
            problems.append(f"{where}: expected properties, got {props!r}")
            return
        known = type_spec.get("Properties", {})
        for name in props:
            if name not in known:
                problems.append(f"{where}: {owner} has no property {name}")
        for name, p in known.items():
            if p.get("Required") and name not in props:
                problems.append(f"{where}: {owner} needs property {name}")
        for name, value in props.items():
            if name in known:
                check_value(f"{where}.{name}", owner, known[name], value)

    def check_value(where, owner, pspec, value):
        # Fn::If: both branches; other intrinsic functions give values this check cannot see.
        if isinstance(value, dict) and list(value) == ["Fn::If"]:
            for branch in value["Fn::If"][1:]:
                if branch != {"Ref": "AWS::NoValue"}:
                    check_value(where, owner, pspec, branch)
            return
        if is_intrinsic(value):
            return
        kind = pspec.get("Type")
        item = pspec.get("ItemType")
        if kind in ("List", "Map"):
            if not item:  # a list or map of primitive values
                return
            if kind == "List" and not isinstance(value, list):
                problems.append(f"{where}: expected a list")
                return
            if kind == "Map" and not isinstance(value, dict):
                problems.append(f"{where}: expected a map")
                return
            items = value if kind == "List" else list(value.values())
            for i, v in enumerate(items):
                check_value(f"{where}[{i}]", owner, {"Type": item}, v)
        elif kind:
            # A property type of this resource type ("AWS::IAM::Role.Policy"), else a shared one
            # ("Tag").
            base = owner.split(".")[0]
            name = f"{base}.{kind}" if f"{base}.{kind}" in ptypes else kind
            if name not in ptypes:
                problems.append(f"{where}: unknown property type {name}")
                return
            check_props(where, name, value, ptypes[name])

    resources = template.get("Resources", {})
    for logical, res in resources.items():
        rtype = res.get("Type", "")
        if rtype not in rtypes:
            problems.append(f"{logical}: unknown resource type {rtype}")
            continue
        check_props(logical, rtype, res.get("Properties", {}), rtypes[rtype])

    def walk_getatt(node):
        if isinstance(node, dict):
            if list(node) == ["Fn::GetAtt"]:
                logical, attr = node["Fn::GetAtt"]
                rtype = resources.get(logical, {}).get("Type")
                if rtype in rtypes and attr not in rtypes[rtype].get("Attributes", {}):
                    problems.append(f"Fn::GetAtt {logical}.{attr}: {rtype} has no attribute "
                                    f"{attr}")
            for v in node.values():
                walk_getatt(v)
        elif isinstance(node, list):
            for v in node:
                walk_getatt(v)

    walk_getatt(template)
    return problems


def lint(template_path, values):
    """Runs tests/deploy/lint.cjs (cfn-lint) on a template: (exit code, output)."""
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        raise AssertionError(f"node not found: {SETUP_HINT}")
    if not os.path.isdir(os.path.join(MODULES, "cfn-lint")):
        raise AssertionError(f"{MODULES}/cfn-lint is missing: {SETUP_HINT}")
    args = [node, LINT, template_path]
    args += [f"{k}={v}" for k, v in values.items() if not k.startswith("AWS::")]
    r = subprocess.run(args, capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout + r.stderr


def load_spec():
    if not os.path.isfile(SPEC):
        raise AssertionError(f"{SPEC} is missing: {SETUP_HINT}")
    with open(SPEC, encoding="utf-8") as f:
        return json.load(f)


class TemplateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = load_template()
        with open(POLICY, encoding="utf-8") as f:
            cls.policy = json.load(f)
        cls.tmp = tempfile.TemporaryDirectory(prefix="jit-deploy-")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def write(self, name, template):
        path = os.path.join(self.tmp.name, name)
        with open(path, "w", encoding="utf-8") as f:
            # JSON is YAML too: cfn-lint reads the long-form functions of a dumped copy.
            json.dump(template, f, indent=1)
        return path

    # The role's policy is deploy/iam-policy.json.

    def test_role_policy_is_the_iam_policy_file(self):
        self.assertEqual(policy_differences(self.template, self.policy), [])
        # And literally, once Action/Resource lists are sorted the same way.
        got = role_policy(self.template, EXAMPLE)
        self.assertEqual([normalized(s) for s in got["Statement"]],
                         [normalized(s) for s in self.policy["Statement"]])

    def test_role_policy_follows_the_parameters(self):
        got = role_policy(self.template, EVERYTHING)
        by_sid = {s["Sid"]: s for s in got["Statement"]}
        want = ["arn:aws:sso:::instance/ssoins-1111111111111111",
                "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111",
                "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222",
                "arn:aws:sso:::account/111111111111", "arn:aws:sso:::account/222222222222"]
        for sid in ("JitCreatesAndDeletesAssignments", "JitReadsAssignmentsAndPermissionSets"):
            self.assertEqual(by_sid[sid]["Resource"], want, sid)
        self.assertEqual(by_sid["JitLooksUpUsers"]["Resource"][0],
                         "arn:aws:identitystore::222222222222:identitystore/d-1111111111")
        # "all" among ARNs is no wildcard: it stays a literal (invalid) resource, so the stack
        # fails rather than granting every permission set.
        mixed = dict(EXAMPLE, PermissionSetArns="all," + EVERYTHING["PermissionSetArns"])
        resources = role_policy(self.template, mixed)["Statement"][0]["Resource"]
        self.assertIn("all", resources)
        self.assertFalse([r for r in resources if "*" in r], resources)
        three = dict(EXAMPLE, AccountIds="111111111111,222222222222,333333333333")
        got = role_policy(self.template, three)
        self.assertIn("arn:aws:sso:::account/333333333333", got["Statement"][0]["Resource"])
        self.assertEqual(len(got["Statement"][0]["Resource"]), 5)

    def test_the_role_gets_only_publish_and_put_events_besides(self):
        for values, extra in ((EXAMPLE, set()),
                              (dict(EXAMPLE, CreateTopic="yes"), {("sns:Publish", "<Topic>")}),
                              (dict(EXAMPLE, CreateEventBus="yes"),
                               {("events:PutEvents", "<EventBus.Arn>")}),
                              (EVERYTHING, {("sns:Publish", "<Topic>"),
                                            ("events:PutEvents", "<EventBus.Arn>")})):
            self.assertEqual(other_grants(self.template, values), extra, values)
            made = Evaluator(self.template, values).resources()
            self.assertEqual("Topic" in made, ("sns:Publish", "<Topic>") in extra)
            self.assertEqual("EventBus" in made, ("events:PutEvents", "<EventBus.Arn>") in extra)

    # The opt-in policies of issue 14 (session cut-off, permission sets as code).

    def test_opt_in_policies_are_their_files_and_off_by_default(self):
        made = Evaluator(self.template, EXAMPLE).resources()
        for resource, (param, path) in OPT_IN_POLICIES.items():
            self.assertNotIn(resource, made, "off unless asked for")
            with open(path, encoding="utf-8") as f:
                want = json.load(f)
            on = Evaluator(self.template, dict(EXAMPLE, **{param: "yes"})).resources()
            self.assertEqual(on[resource]["Properties"]["Roles"], ["<BrokerRole>"])
            got = on[resource]["Properties"]["PolicyDocument"]
            self.assertEqual(got["Version"], want["Version"])
            self.assertEqual([normalized(s) for s in got["Statement"]],
                             [normalized(s) for s in want["Statement"]], resource)
            for s in want["Statement"]:
                for action in as_list(s["Action"]):
                    self.assertTrue(action.startswith(OPT_IN_ACTIONS[resource]), action)
                for r in as_list(s["Resource"]):
                    self.assertNotEqual(r, "*", f"{path}: {s['Sid']} is scoped")

    def test_opt_in_policies_follow_the_parameters(self):
        values = dict(EVERYTHING, SessionCutoff="yes", PermissionSetsAsCode="yes")
        made = Evaluator(self.template, values).resources()
        cutoff = made["SessionCutoffPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
        self.assertEqual(cutoff["Resource"], [
            "arn:aws:sso:::instance/ssoins-1111111111111111",
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111",
            "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222",
            "arn:aws:sso:::account/111111111111", "arn:aws:sso:::account/222222222222"])
        # apply creates permission sets: every set of the instance, whatever the list says.
        for s in made["PermissionSetsPolicy"]["Properties"]["PolicyDocument"]["Statement"]:
            self.assertIn("arn:aws:sso:::permissionSet/ssoins-1111111111111111/*", s["Resource"])
        grants = other_grants(self.template, values)
        self.assertIn(("sso:PutInlinePolicyToPermissionSet",
                       "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"),
                      grants)
        self.assertFalse([g for g in grants if g[1] == "*"], "nothing on every resource")

    def test_scp_exempts_the_guardrails_global_services(self):
        with open(SCP, encoding="utf-8") as f:
            scp = json.load(f)
        [statement] = scp["Statement"]
        self.assertEqual(statement["Effect"], "Deny")
        self.assertEqual(statement["Resource"], "*")
        self.assertIn("aws:RequestedRegion", statement["Condition"]["StringNotEquals"])
        with open(GUARDRAIL_SOURCE, encoding="utf-8") as f:
            source = f.read()
        block = source[source.index("kActions = {"):]
        block = block[:block.index("};")]
        self.assertEqual(statement["NotAction"], re.findall(r'"([^"]+)"', block),
                         "the SCP and the JitRegionGuardrail statement exempt the same actions")
        for action in ("iam:*", "sts:*", "organizations:*", "support:*", "route53:*"):
            self.assertIn(action, statement["NotAction"])

    def test_findings_rule_destination_and_connection(self):
        """Issue 17: off by default; with a broker URL, every GuardDuty and Security Hub finding
        goes to <url>/v1/findings with the automation token as a bearer token, through a role
        that may invoke that destination and nothing else."""
        names = ("FindingsConnection", "FindingsDestination", "FindingsRole", "FindingsRule")
        made = Evaluator(self.template, EXAMPLE).resources()
        for name in names:
            self.assertNotIn(name, made, "off unless FindingsBrokerUrl is set")
        made = Evaluator(self.template, EVERYTHING).resources()
        connection = made["FindingsConnection"]["Properties"]
        self.assertEqual(connection["AuthorizationType"], "API_KEY")
        key = connection["AuthParameters"]["ApiKeyAuthParameters"]
        self.assertEqual(key["ApiKeyName"], "Authorization")
        self.assertEqual(key["ApiKeyValue"], "Bearer {{resolve:secretsmanager:"
                         + EVERYTHING["FindingsTokenSecretArn"] + ":SecretString}}")
        destination = made["FindingsDestination"]["Properties"]
        self.assertEqual(destination["InvocationEndpoint"], "https://jit.example.com/v1/findings")
        self.assertEqual(destination["HttpMethod"], "POST")
        self.assertEqual(destination["ConnectionArn"], "<FindingsConnection.Arn>")
        rule = made["FindingsRule"]["Properties"]
        self.assertEqual(rule["EventPattern"], {
            "source": ["aws.guardduty", "aws.securityhub"],
            "detail-type": ["GuardDuty Finding", "Security Hub Findings - Imported"]})
        [target] = rule["Targets"]
        self.assertEqual(target["Arn"], "<FindingsDestination.Arn>")
        self.assertEqual(target["RoleArn"], "<FindingsRole.Arn>")
        trust = made["FindingsRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust, [{"Effect": "Allow",
                                  "Principal": {"Service": "events.amazonaws.com"},
                                  "Action": "sts:AssumeRole"}])
        self.assertEqual(other_grants(self.template, EVERYTHING, role="FindingsRole"),
                         {("events:InvokeApiDestination", "<FindingsDestination.Arn>")})
        # The broker's role gains nothing from it.
        self.assertEqual(other_grants(self.template, EVERYTHING),
                         other_grants(self.template, dict(EVERYTHING, FindingsBrokerUrl="")))
        # Without the token's secret the reference names no secret: CloudFormation fails the
        # stack rather than make a connection that posts unsigned.
        made = Evaluator(self.template, dict(EVERYTHING, FindingsTokenSecretArn="")).resources()
        self.assertEqual(made["FindingsConnection"]["Properties"]["AuthParameters"][
            "ApiKeyAuthParameters"]["ApiKeyValue"], "Bearer {{resolve:secretsmanager::SecretString}}")

    def test_trust_and_instance_profile(self):
        made = Evaluator(self.template, EXAMPLE).resources()
        trust = made["BrokerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust, [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                  "Action": "sts:AssumeRole"}])
        self.assertEqual(made["BrokerInstanceProfile"]["Properties"]["Roles"], ["<BrokerRole>"])
        made = Evaluator(self.template, EVERYTHING).resources()
        trust = made["BrokerRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust[0]["Principal"], {"Service": "ecs-tasks.amazonaws.com",
                                                 "AWS": "arn:aws:iam::222222222222:root"})
        self.assertNotIn("BrokerInstanceProfile", made)

    def test_parameter_patterns(self):
        params = self.template["Parameters"]

        def ok(name, value):
            pattern = params[name].get("AllowedPattern")
            items = value.split(",") if params[name]["Type"] == "CommaDelimitedList" else [value]
            return all(re.fullmatch(pattern, v) for v in items) if pattern else True

        for name, value in EVERYTHING.items():
            if name in params:
                self.assertTrue(ok(name, value), f"{name}={value}")
        for name, spec in params.items():
            if "Default" in spec:
                self.assertTrue(ok(name, spec["Default"]), f"default of {name}")
        for name, value in (("InstanceArn", "ssoins-1111111111111111"),
                            ("IdentityStoreId", "1111111111"),
                            ("AccountIds", "111111111111,2222"),
                            ("PermissionSetArns", "*"),
                            ("TrustedPrincipalArn", "*"),
                            ("FindingsBrokerUrl", "http://jit.example.com"),
                            ("FindingsBrokerUrl", "https://jit.example.com/"),
                            ("FindingsTokenSecretArn", "jit-automation")):
            self.assertFalse(ok(name, value), f"{name}={value} is accepted")

    def test_outputs_name_what_the_config_needs(self):
        outputs = self.template["Outputs"]
        for name in ("Region", "InstanceArn", "IdentityStoreId", "RoleArn", "TopicArn",
                     "EventBusName", "EventBusArn", "InstanceProfileName", "FindingsRuleArn"):
            self.assertIn(name, outputs)
        conditions = set(self.template["Conditions"])
        for name, out in list(outputs.items()) + list(self.template["Resources"].items()):
            if "Condition" in out:
                self.assertIn(out["Condition"], conditions, name)

    # cfn-lint and the resource specification.

    def test_cfn_lint(self):
        for values in (EXAMPLE, EVERYTHING,
                       dict(EVERYTHING, SessionCutoff="yes", PermissionSetsAsCode="yes",
                            SessionActivity="yes")):
            code, out = lint(TEMPLATE, values)
            self.assertEqual(code, 0, out)
            self.assertIn("valid", out)

    def test_types_and_properties_are_known(self):
        self.assertEqual(spec_problems(self.template, load_spec()), [])

    # Each check catches what it is there for.

    def test_an_extra_action_is_caught(self):
        broken = copy.deepcopy(self.template)
        stmt = broken["Resources"]["BrokerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        stmt["Statement"][0]["Action"].append("sso:CreatePermissionSet")
        problems = policy_differences(broken, self.policy)
        self.assertTrue(any("sso:CreatePermissionSet" in p for p in problems), problems)
        broken = copy.deepcopy(self.template)
        stmt = broken["Resources"]["BrokerRole"]["Properties"]["Policies"][0]["PolicyDocument"]
        stmt["Statement"][2]["Resource"] = "arn:aws:sso:::instance/*"
        self.assertNotEqual(policy_differences(broken, self.policy), [])
        broken = copy.deepcopy(self.template)
        broken["Resources"]["BrokerRole"]["Properties"]["ManagedPolicyArns"] = [
            "arn:aws:iam::aws:policy/AdministratorAccess"]
        self.assertEqual(other_grants(broken, EXAMPLE),
                         {("<managed>", "arn:aws:iam::aws:policy/AdministratorAccess")})
        broken = copy.deepcopy(self.template)
        broken["Resources"]["PublishPolicy"]["Properties"]["PolicyDocument"]["Statement"][0][
            "Action"] = "sns:*"
        self.assertIn(("sns:*", "<Topic>"), other_grants(broken, EVERYTHING))

    def test_an_unknown_property_is_caught(self):
        broken = copy.deepcopy(self.template)
        broken["Resources"]["Topic"]["Properties"]["Encrypted"] = True
        self.assertEqual(spec_problems(broken, load_spec()),
                         ["Topic: AWS::SNS::Topic has no property Encrypted"])
        code, out = lint(self.write("property.json", broken), EVERYTHING)
        self.assertEqual(code, 1, out)
        self.assertIn("Encrypted is not a valid property of AWS::SNS::Topic", out)
        # A nested one: a key of the role's inline policy.
        broken = copy.deepcopy(self.template)
        broken["Resources"]["BrokerRole"]["Properties"]["Policies"][0]["Document"] = {}
        self.assertIn("BrokerRole.Policies[0]: AWS::IAM::Role.Policy has no property Document",
                      spec_problems(broken, load_spec()))
        # And in a list of a shared property type.
        broken = copy.deepcopy(self.template)
        broken["Resources"]["Topic"]["Properties"]["Tags"] = [{"Key": "team", "Val": "sec"}]
        problems = spec_problems(broken, load_spec())
        self.assertIn("Topic.Tags[0]: Tag has no property Val", problems)
        self.assertIn("Topic.Tags[0]: Tag needs property Value", problems)

    def test_an_unknown_resource_type_is_caught(self):
        broken = copy.deepcopy(self.template)
        broken["Resources"]["EventBus"]["Type"] = "AWS::EventBridge::Bus"
        self.assertIn("EventBus: unknown resource type AWS::EventBridge::Bus",
                      spec_problems(broken, load_spec()))
        code, out = lint(self.write("type.json", broken), EVERYTHING)
        self.assertNotEqual(code, 0, out)  # cfn-lint stops at it: "No such resource ..."
        self.assertIn("AWS::EventBridge::Bus", out)

    def test_a_missing_required_property_and_attribute_are_caught(self):
        broken = copy.deepcopy(self.template)
        del broken["Resources"]["EventBus"]["Properties"]["Name"]
        broken["Outputs"]["EventBusArn"]["Value"] = {"Fn::GetAtt": ["EventBus", "BusArn"]}
        problems = spec_problems(broken, load_spec())
        self.assertIn("EventBus: AWS::Events::EventBus needs property Name", problems)
        self.assertIn("Fn::GetAtt EventBus.BusArn: AWS::Events::EventBus has no attribute BusArn",
                      problems)
        code, out = lint(self.write("required.json", broken), EVERYTHING)
        self.assertEqual(code, 1, out)
        self.assertIn("Required property Name missing", out)


# --- The Dockerfile -----------------------------------------------------------------------

def dockerfile_instructions(text):
    """(instruction, arguments) pairs of a Dockerfile, continuation lines joined, comments
    dropped."""
    out, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        word, _, rest = current.partition(" ")
        out.append((word.upper(), rest.strip()))
        current = ""
    return out


def stages(instructions):
    """The instructions of each stage: [(FROM arguments, [(instruction, arguments), ...])]."""
    result = []
    for word, rest in instructions:
        if word == "FROM":
            result.append((rest, []))
        elif result:
            result[-1][1].append((word, rest))
    return result


def installed_packages(stage):
    """The package names of the stage's `apt-get install` commands."""
    names = []
    for word, rest in stage:
        if word != "RUN":
            continue
        for m in re.finditer(r"apt-get install ((?:[^&;|]|\\\s)+)", rest):
            names += [w for w in m.group(1).split() if not w.startswith("-")]
    return names


def apt_lists_present():
    lists = "/var/lib/apt/lists"
    return shutil.which("apt-cache") is not None and os.path.isdir(lists) and any(
        "Packages" in f for f in os.listdir(lists))


class ActivityReaderRoleTest(unittest.TestCase):
    """deploy/cloudformation/activity-reader-role.yaml (issue 17, session activity): the role the
    broker assumes in each account trusts the broker's role alone and may only look up
    CloudTrail events; the broker's opt-in policy may assume exactly that role name."""

    VALUES = {"BrokerRoleArn": "arn:aws:iam::111111111111:role/jit-broker",
              "AWS::AccountId": "222222222222", "AWS::Region": "us-east-1",
              "AWS::Partition": "aws", "AWS::StackName": "jit-activity"}

    @classmethod
    def setUpClass(cls):
        with open(ACTIVITY_TEMPLATE, encoding="utf-8") as f:
            cls.template = load_template(f.read())

    def role(self, template=None):
        made = Evaluator(template or self.template, self.VALUES).resources()
        roles = [r for r in made.values() if r["Type"] == "AWS::IAM::Role"]
        self.assertEqual(len(made), 1, "one resource: the role")
        return roles[0]["Properties"]

    def grants(self, template=None):
        props = self.role(template)
        return sorted((a, r) for p in props.get("Policies", [])
                      for s in p["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
                      for a in as_list(s["Action"]) for r in as_list(s["Resource"]))

    def test_trusts_the_broker_role_only(self):
        trust = self.role()["AssumeRolePolicyDocument"]["Statement"]
        self.assertEqual(trust, [{"Sid": "TheBrokerOnly", "Effect": "Allow",
                                  "Principal": {"AWS": self.VALUES["BrokerRoleArn"]},
                                  "Action": "sts:AssumeRole"}])
        self.assertEqual(self.role()["RoleName"], "jit-activity-reader")
        self.assertNotIn("ManagedPolicyArns", self.role())

    def test_may_only_look_up_events(self):
        self.assertEqual(self.grants(), [("cloudtrail:LookupEvents", "*")])
        broken = copy.deepcopy(self.template)
        broken["Resources"]["ActivityReaderRole"]["Properties"]["Policies"][0][
            "PolicyDocument"]["Statement"][0]["Action"] = ["cloudtrail:LookupEvents", "s3:*"]
        self.assertNotEqual(self.grants(broken), [("cloudtrail:LookupEvents", "*")])

    def test_the_broker_may_assume_that_role_name(self):
        jit = load_template()
        on = Evaluator(jit, dict(EXAMPLE, SessionActivity="yes")).resources()
        stmt = on["SessionActivityPolicy"]["Properties"]["PolicyDocument"]["Statement"]
        self.assertEqual(stmt[0]["Resource"], "arn:aws:iam::*:role/" + self.role()["RoleName"])
        renamed = Evaluator(jit, dict(EXAMPLE, SessionActivity="yes",
                                      ActivityRoleName="reader")).resources()
        self.assertEqual(renamed["SessionActivityPolicy"]["Properties"]["PolicyDocument"][
            "Statement"][0]["Resource"], "arn:aws:iam::*:role/reader")

    def test_cfn_lint_and_specification(self):
        code, out = lint(ACTIVITY_TEMPLATE, self.VALUES)
        self.assertEqual(code, 0, out)
        self.assertEqual(spec_problems(self.template, load_spec()), [])


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(DOCKERFILE, encoding="utf-8") as f:
            cls.instructions = dockerfile_instructions(f.read())
        cls.stages = stages(cls.instructions)
        cls.build_stage = next(s for f, s in cls.stages if f.endswith(" AS build"))
        cls.run_from, cls.runtime = cls.stages[-1]

    def problems(self, instructions):
        """What is wrong with a Dockerfile's shape: one line per problem."""
        st = stages(instructions)
        problems = []
        froms = [f for f, _ in st]
        if len(st) != 2 or froms[0] != "debian:12 AS build" or froms[1] != "debian:12-slim":
            problems.append(f"stages {froms}: want 'debian:12 AS build' then 'debian:12-slim'")
            if not st:
                return problems
        run = dict()
        for word, rest in st[-1][1]:
            run.setdefault(word, []).append(rest)
        users = run.get("USER", [])
        if not users or users[-1].split(":")[0] in ("root", "0"):
            problems.append(f"USER {users}: the run stage must end as a non-root user")
        if "/var/lib/jit" not in " ".join(run.get("VOLUME", [])):
            problems.append("no VOLUME /var/lib/jit")
        if run.get("WORKDIR", [""])[-1] != "/var/lib/jit":
            problems.append("WORKDIR is not /var/lib/jit")
        if "8080" not in run.get("EXPOSE", []):
            problems.append("no EXPOSE 8080")
        health = " ".join(run.get("HEALTHCHECK", []))
        if "CMD" not in health or "/readyz" not in health:
            problems.append(f"HEALTHCHECK {health!r} does not check /readyz")
        if run.get("ENTRYPOINT") != ['["/usr/bin/jit"]']:
            problems.append(f"ENTRYPOINT {run.get('ENTRYPOINT')}")
        if run.get("CMD") != [
                '["serve", "--config", "/etc/jit/config.yaml", "--data", "/var/lib/jit"]']:
            problems.append(f"CMD {run.get('CMD')}")
        return problems

    def test_shape(self):
        self.assertEqual(self.problems(self.instructions), [])

    def test_shape_checks_fail_on_broken_copies(self):
        for word, broken_value, expect in (
                ("USER", "root", "non-root"), ("VOLUME", "/data", "VOLUME"),
                ("HEALTHCHECK", "NONE", "/readyz"), ("EXPOSE", "80", "EXPOSE")):
            broken = [(w, broken_value if w == word else r) for w, r in self.instructions]
            problems = self.problems(broken)
            self.assertTrue(any(expect in p for p in problems), (word, problems))
        broken = [(w, "debian:12" if w == "FROM" and r == "debian:12-slim" else r)
                  for w, r in self.instructions]
        self.assertTrue(any("stages" in p for p in self.problems(broken)))
        broken = [(w, r) for w, r in self.instructions if w != "USER"]
        self.assertTrue(any("non-root" in p for p in self.problems(broken)))

    def test_user_is_made_and_owns_the_data_folder(self):
        runs = " ".join(r for w, r in self.runtime if w == "RUN")
        user = [r for w, r in self.runtime if w == "USER"][-1]
        uid = user.split(":")[0]
        m = re.search(r"useradd [^&]*--uid (\d+)[^&]* jit\b", runs)
        self.assertIsNotNone(m, runs)
        self.assertIn(uid, (m.group(1), "jit"))
        self.assertRegex(runs, r"install -d -o jit -g jit -m 0700 /var/lib/jit")

    def test_build_stage_builds_the_release_preset(self):
        runs = " ".join(r for w, r in self.build_stage if w == "RUN")
        self.assertIn("cmake --preset release", runs)
        self.assertIn("cmake --build --preset release --target jit", runs)
        copies = [r for w, r in self.runtime if w == "COPY"]
        self.assertIn("--from=build /src/build/release/jit /usr/bin/jit", copies)
        self.assertIn("deploy/debian/config.yaml /etc/jit/config.yaml", copies)
        self.assertTrue(os.path.isfile(os.path.join(ROOT, "deploy", "debian", "config.yaml")))

    def test_build_packages_are_setup_packages(self):
        # The build stage installs a subset of what scripts/setup.sh installs for CI, so the
        # image builds with what CI builds with.
        with open(SETUP, encoding="utf-8") as f:
            m = re.search(r"packages=\((.*?)\)", f.read(), re.S)
        setup = set(m.group(1).split())
        extra = set(installed_packages(self.build_stage)) - setup - {"ca-certificates"}
        self.assertEqual(extra, set())

    def test_packages_exist_in_debian(self):
        if not apt_lists_present():
            self.skipTest("apt-cache has no package lists here (run apt-get update): the "
                          "package names are not checked against Debian's archive")
        names = sorted(set(installed_packages(self.build_stage) + installed_packages(self.runtime)))
        # One apt-cache call for all (each call reads the lists, seconds on a busy machine); it
        # shows the packages it knows and says "No packages found" for the others.
        r = subprocess.run(["apt-cache", "show", "--no-all-versions", *names],
                           capture_output=True, text=True, timeout=300)
        known = set(re.findall(r"^Package: (\S+)$", r.stdout, re.M))
        self.assertEqual(sorted(set(names) - known), [], r.stderr.strip())

    def test_run_stage_has_the_libraries_the_binary_links(self):
        binary = os.environ.get("JIT_BINARY")
        if not binary or not shutil.which("readelf") or not shutil.which("dpkg"):
            self.skipTest("needs JIT_BINARY, readelf and dpkg")
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]",
                            subprocess.run(["readelf", "-d", binary], capture_output=True,
                                           text=True, check=True).stdout)
        self.assertTrue(needed)
        packages = set(installed_packages(self.runtime)) | {"libc6"}  # libc6: in every Debian image
        sanitizer_runtime = ("libasan", "libubsan", "libclang_rt")
        needed = [lib for lib in needed if not lib.startswith(sanitizer_runtime)]
        r = subprocess.run(["dpkg", "-S", *(f"*/{lib}" for lib in needed)], capture_output=True,
                           text=True, timeout=120)
        owners = {}  # library -> Debian packages that ship it (not -dev ones)
        for line in r.stdout.splitlines():
            package, _, path = line.partition(": ")
            package = package.split(":")[0]
            for lib in needed:
                if path.endswith("/" + lib) and not package.endswith("-dev"):
                    owners.setdefault(lib, set()).add(package)
        for lib in needed:
            self.assertIn(lib, owners, f"dpkg -S finds no package of {lib}: {r.stderr.strip()}")
            self.assertTrue(owners[lib] & packages,
                            f"{lib} (Debian package {sorted(owners[lib])}) is not installed by "
                            f"the Dockerfile's run stage")

    def test_dockerignore(self):
        with open(DOCKERIGNORE, encoding="utf-8") as f:
            lines = {line.strip() for line in f if line.strip() and not line.startswith("#")}
        for entry in ("build/", "**/node_modules/", "jit-data/"):
            self.assertIn(entry, lines)
        self.assertNotIn(".git", lines)  # the build reads the commit from it


if __name__ == "__main__":
    unittest.main()
