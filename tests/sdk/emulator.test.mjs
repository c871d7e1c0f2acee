// Drives `jit emulator` with the official AWS SDK for JavaScript v3 (client-sso-admin and
// client-identitystore): an independent check that the emulator speaks the wire protocol the
// way AWS does (awsJson 1.1, SigV4, error shapes, pagination, asynchronous assignments).
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/sdk, after scripts/setup.sh)
// Loopback only: the emulator listens on 127.0.0.1 port 0 and every client points at it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

import { rejection, spawnEmulator } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// Keep the SDK away from any AWS configuration of the machine: explicit endpoint, region and
// credentials only, no profile, no endpoint override, no shared files.
for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";

const sdkMissing = !existsSync(join(here, "node_modules", "@aws-sdk", "client-sso-admin")) ||
                   !existsSync(join(here, "node_modules", "@aws-sdk", "client-identitystore"));
if (sdkMissing) {
  test("AWS SDK for JavaScript is installed", () => {
    assert.fail("tests/sdk/node_modules is missing the AWS SDK: run scripts/setup.sh");
  });
} else if (!process.env.JIT_BINARY) {
  test("JIT_BINARY is set", () => {
    assert.fail("set JIT_BINARY to the jit executable (ctest does this)");
  });
} else {
  await suite();
}

async function suite() {
  const sso = await import("@aws-sdk/client-sso-admin");
  const ids = await import("@aws-sdk/client-identitystore");

  const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1111111111111111";
  const IDENTITY_STORE_ID = "d-1111111111";
  const ALICE_ID = "a11ce000-0000-4000-8000-000000000001";
  const SANDBOX = "111111111111";
  const PROD = "222222222222";
  const ACCESS_KEY_ID = "AKIDJITEMULATOR";
  const SECRET = "jit-emulator-secret";
  const PS_ARN_RE =
    /^arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet\/(sso)?ins-[a-zA-Z0-9-.]{16}\/ps-[a-zA-Z0-9-./]{16}$/;
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const POLL_DEADLINE_MS = 20_000;

  let emulator;          // the child process
  let endpoint;          // http://127.0.0.1:PORT
  let emulatorLog = "";  // everything it printed, shown when something goes wrong
  let admin, store;      // clients with the right key pair

  function stopEmulator() {
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      emulator.kill("SIGTERM");
    }
  }
  // Last resort if the runner dies before `after` runs.
  process.once("exit", stopEmulator);

  function clientConfig(overrides = {}) {
    return {
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      maxAttempts: 1,
      ...overrides,
    };
  }

  async function startEmulator() {
    const started = spawnEmulator(["--listen", "127.0.0.1:0"], (text) => { emulatorLog += text; });
    emulator = started.proc;
    return await started.url;
  }

  function assertServiceError(e, names, status) {
    const list = Array.isArray(names) ? names : [names];
    assert.ok(list.includes(e.name),
              `error name ${e.name} (${e.message}) is not ${list.join(" or ")}`);
    assert.equal(e.$metadata?.httpStatusCode, status, `HTTP status for ${e.name}`);
    assert.equal(e.$fault, status >= 500 ? "server" : "client");
    assert.ok(typeof e.message === "string" && e.message.length > 0, "error has a message");
    assert.ok(e.$metadata.requestId, "error carries x-amzn-RequestId");
  }

  async function state() {
    const res = await fetch(`${endpoint}/_emulator/state`);
    assert.equal(res.status, 200, "GET /_emulator/state");
    return await res.json();
  }

  // True when the state document's "assignments" lists exactly this assignment.
  function stateHasAssignment(doc, a) {
    assert.ok(Array.isArray(doc.assignments), `state has an "assignments" list: ${JSON.stringify(doc)}`);
    return doc.assignments.some((x) =>
      x.AccountId === a.AccountId && x.PermissionSetArn === a.PermissionSetArn &&
      x.PrincipalType === a.PrincipalType && x.PrincipalId === a.PrincipalId);
  }

  async function pollUntilDone(describe, what) {
    const deadline = Date.now() + POLL_DEADLINE_MS;
    for (;;) {
      const status = await describe();
      if (status.Status !== "IN_PROGRESS") return status;
      if (Date.now() > deadline) assert.fail(`${what} still IN_PROGRESS after ${POLL_DEADLINE_MS} ms`);
      await sleep(100);
    }
  }

  async function listAll(cmd, input, key) {
    const out = [];
    let NextToken;
    do {
      const page = await admin.send(new cmd({ ...input, NextToken }));
      out.push(...(page[key] ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
    return out;
  }

  const permissionSets = new Map();  // name -> arn

  before(async () => {
    try {
      endpoint = await startEmulator();
    } catch (e) {
      stopEmulator();
      throw e;
    }
    admin = new sso.SSOAdminClient(clientConfig());
    store = new ids.IdentitystoreClient(clientConfig());
  });

  after(async () => {
    admin?.destroy();
    store?.destroy();
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      const exited = new Promise((r) => emulator.once("exit", r));
      emulator.kill("SIGTERM");
      const timer = setTimeout(() => emulator.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  });

  describe("sso-admin", () => {
    test("ListInstances returns the seeded instance", async () => {
      const out = await admin.send(new sso.ListInstancesCommand({}));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.match(out.$metadata.requestId ?? "", UUID_RE, "x-amzn-RequestId is a lowercase UUID");
      assert.equal(out.Instances.length, 1);
      const [inst] = out.Instances;
      assert.equal(inst.InstanceArn, INSTANCE_ARN);
      assert.equal(inst.IdentityStoreId, IDENTITY_STORE_ID);
      if (inst.OwnerAccountId !== undefined) assert.match(inst.OwnerAccountId, /^\d{12}$/);
      if (inst.Status !== undefined) assert.equal(inst.Status, "ACTIVE");
    });

    test("ListPermissionSets paginates one at a time through all three", async () => {
      const arns = [];
      let NextToken;
      let pages = 0;
      do {
        const page = await admin.send(new sso.ListPermissionSetsCommand({
          InstanceArn: INSTANCE_ARN, MaxResults: 1, NextToken,
        }));
        pages++;
        assert.ok(page.PermissionSets.length <= 1, "MaxResults 1 is honoured");
        arns.push(...page.PermissionSets);
        NextToken = page.NextToken;
        if (NextToken !== undefined) assert.ok(NextToken.length > 0 && NextToken.length <= 2048);
        assert.ok(pages <= 10, "pagination terminates");
      } while (NextToken);
      assert.equal(arns.length, 3);
      assert.equal(new Set(arns).size, 3, "no permission set returned twice");
      for (const arn of arns) assert.match(arn, PS_ARN_RE);

      // The same through the SDK's paginator.
      const viaPaginator = [];
      for await (const page of sso.paginateListPermissionSets(
          { client: admin, pageSize: 1 }, { InstanceArn: INSTANCE_ARN })) {
        viaPaginator.push(...page.PermissionSets);
      }
      assert.deepEqual([...viaPaginator].sort(), [...arns].sort());

      // And in one page.
      const all = await admin.send(new sso.ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
      assert.deepEqual([...all.PermissionSets].sort(), [...arns].sort());
      assert.equal(all.NextToken, undefined);
    });

    test("DescribePermissionSet describes ReadOnly, Admin and BreakGlass", async () => {
      const list = await admin.send(new sso.ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN }));
      for (const arn of list.PermissionSets) {
        const { PermissionSet: ps } = await admin.send(new sso.DescribePermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: arn,
        }));
        assert.equal(ps.PermissionSetArn, arn);
        assert.ok(ps.Name, "Name is set");
        assert.ok(ps.CreatedDate instanceof Date && !Number.isNaN(ps.CreatedDate.getTime()),
                  `CreatedDate parses as epoch seconds (got ${ps.CreatedDate})`);
        if (ps.SessionDuration !== undefined) {
          assert.match(ps.SessionDuration, /^PT(\d+H)?(\d+M)?(\d+S)?$/, "ISO-8601 SessionDuration");
        }
        permissionSets.set(ps.Name, arn);
      }
      assert.deepEqual([...permissionSets.keys()].sort(), ["Admin", "BreakGlass", "ReadOnly"]);
    });

    test("an assignment is created, listed, seen in the state and deleted asynchronously", async () => {
      const psArn = permissionSets.get("ReadOnly");
      assert.ok(psArn, "ReadOnly was described");
      const assignment = {
        AccountId: SANDBOX, PermissionSetArn: psArn, PrincipalType: "USER", PrincipalId: ALICE_ID,
      };
      const request = {
        InstanceArn: INSTANCE_ARN, TargetId: SANDBOX, TargetType: "AWS_ACCOUNT",
        PermissionSetArn: psArn, PrincipalType: "USER", PrincipalId: ALICE_ID,
      };
      const listed = async () => (await listAll(sso.ListAccountAssignmentsCommand, {
        InstanceArn: INSTANCE_ARN, AccountId: SANDBOX, PermissionSetArn: psArn,
      }, "AccountAssignments"));

      assert.deepEqual((await listed()).filter((a) => a.PrincipalId === ALICE_ID), [],
                       "alice holds no ReadOnly assignment on sandbox before the test");

      // Create: IN_PROGRESS, then SUCCEEDED through the creation status.
      const created = await admin.send(new sso.CreateAccountAssignmentCommand(request));
      const cs = created.AccountAssignmentCreationStatus;
      assert.equal(cs.Status, "IN_PROGRESS");
      assert.match(cs.RequestId, UUID_RE);
      assert.equal(cs.TargetId, SANDBOX);
      assert.equal(cs.TargetType, "AWS_ACCOUNT");
      assert.equal(cs.PermissionSetArn, psArn);
      assert.equal(cs.PrincipalType, "USER");
      assert.equal(cs.PrincipalId, ALICE_ID);
      if (cs.CreatedDate !== undefined) assert.ok(cs.CreatedDate instanceof Date);

      const done = await pollUntilDone(async () => (await admin.send(
        new sso.DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN, AccountAssignmentCreationRequestId: cs.RequestId,
        }))).AccountAssignmentCreationStatus, "creation");
      assert.equal(done.Status, "SUCCEEDED", `creation failed: ${done.FailureReason}`);
      assert.equal(done.RequestId, cs.RequestId);
      assert.equal(done.PrincipalId, ALICE_ID);

      // Visible through both list calls and the emulator's state.
      assert.deepEqual((await listed()).filter((a) => a.PrincipalId === ALICE_ID), [assignment]);

      const forPrincipal = await admin.send(new sso.ListAccountAssignmentsForPrincipalCommand({
        InstanceArn: INSTANCE_ARN, PrincipalId: ALICE_ID, PrincipalType: "USER",
        Filter: { AccountId: SANDBOX },
      }));
      assert.ok(forPrincipal.AccountAssignments.some((a) =>
        a.AccountId === SANDBOX && a.PermissionSetArn === psArn &&
        a.PrincipalId === ALICE_ID && a.PrincipalType === "USER"),
        `ListAccountAssignmentsForPrincipal: ${JSON.stringify(forPrincipal.AccountAssignments)}`);
      const onProd = await admin.send(new sso.ListAccountAssignmentsForPrincipalCommand({
        InstanceArn: INSTANCE_ARN, PrincipalId: ALICE_ID, PrincipalType: "USER",
        Filter: { AccountId: PROD },
      }));
      assert.ok(!onProd.AccountAssignments.some((a) => a.AccountId === SANDBOX),
                "the AccountId filter is applied");

      const st = await state();
      assert.ok(stateHasAssignment(st, assignment),
                `GET /_emulator/state shows the assignment: ${JSON.stringify(st)}`);

      // Delete: IN_PROGRESS, then SUCCEEDED, then gone.
      const deleted = await admin.send(new sso.DeleteAccountAssignmentCommand(request));
      const ds = deleted.AccountAssignmentDeletionStatus;
      assert.equal(ds.Status, "IN_PROGRESS");
      assert.match(ds.RequestId, UUID_RE);
      assert.notEqual(ds.RequestId, cs.RequestId);
      assert.equal(ds.PrincipalId, ALICE_ID);
      assert.equal(ds.PermissionSetArn, psArn);

      const gone = await pollUntilDone(async () => (await admin.send(
        new sso.DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: INSTANCE_ARN, AccountAssignmentDeletionRequestId: ds.RequestId,
        }))).AccountAssignmentDeletionStatus, "deletion");
      assert.equal(gone.Status, "SUCCEEDED", `deletion failed: ${gone.FailureReason}`);
      assert.equal(gone.RequestId, ds.RequestId);

      assert.deepEqual((await listed()).filter((a) => a.PrincipalId === ALICE_ID), []);
      const afterDelete = await admin.send(new sso.ListAccountAssignmentsForPrincipalCommand({
        InstanceArn: INSTANCE_ARN, PrincipalId: ALICE_ID, PrincipalType: "USER",
        Filter: { AccountId: SANDBOX },
      }));
      assert.ok(!afterDelete.AccountAssignments.some((a) => a.PermissionSetArn === psArn),
                "ListAccountAssignmentsForPrincipal no longer shows it");
      assert.ok(!stateHasAssignment(await state(), assignment),
                "GET /_emulator/state no longer shows the assignment");
    });

    test("ListAccountAssignments paginates", async () => {
      const psArn = permissionSets.get("Admin");
      const users = [];
      for (const name of ["alice", "bob", "carol"]) {
        users.push((await store.send(new ids.GetUserIdCommand({
          IdentityStoreId: IDENTITY_STORE_ID,
          AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: name } },
        }))).UserId);
      }
      const base = { InstanceArn: INSTANCE_ARN, TargetId: PROD, TargetType: "AWS_ACCOUNT",
                     PermissionSetArn: psArn, PrincipalType: "USER" };
      const waitCreated = async (RequestId) => pollUntilDone(async () => (await admin.send(
        new sso.DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN, AccountAssignmentCreationRequestId: RequestId,
        }))).AccountAssignmentCreationStatus, "creation");
      const waitDeleted = async (RequestId) => pollUntilDone(async () => (await admin.send(
        new sso.DescribeAccountAssignmentDeletionStatusCommand({
          InstanceArn: INSTANCE_ARN, AccountAssignmentDeletionRequestId: RequestId,
        }))).AccountAssignmentDeletionStatus, "deletion");
      try {
        for (const PrincipalId of users) {
          const c = await admin.send(new sso.CreateAccountAssignmentCommand({ ...base, PrincipalId }));
          assert.equal((await waitCreated(c.AccountAssignmentCreationStatus.RequestId)).Status,
                       "SUCCEEDED");
        }
        const seen = [];
        let NextToken;
        let pages = 0;
        do {
          const page = await admin.send(new sso.ListAccountAssignmentsCommand({
            InstanceArn: INSTANCE_ARN, AccountId: PROD, PermissionSetArn: psArn,
            MaxResults: 1, NextToken,
          }));
          pages++;
          assert.ok(page.AccountAssignments.length <= 1, "MaxResults 1 is honoured");
          seen.push(...page.AccountAssignments.map((a) => a.PrincipalId));
          NextToken = page.NextToken;
          assert.ok(pages <= 10, "pagination terminates");
        } while (NextToken);
        assert.deepEqual([...seen].sort(), [...users].sort());
      } finally {
        for (const PrincipalId of users) {
          try {
            const d = await admin.send(new sso.DeleteAccountAssignmentCommand({ ...base, PrincipalId }));
            await waitDeleted(d.AccountAssignmentDeletionStatus.RequestId);
          } catch { /* not created */ }
        }
      }
    });
  });

  // The inline policy and provisioning calls session cut-off (issue 14) will make.
  describe("sso-admin inline policies and provisioning", () => {
    const BREAK_GLASS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333";
    const UNKNOWN_PS = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-9999999999999999";
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{
        Sid: "JitCutoffSdkTest", Effect: "Deny", Action: "*", Resource: "*",
        Condition: {
          StringEquals: { "identitystore:userId": ALICE_ID },
          DateLessThan: { "aws:TokenIssueTime": "2026-01-01T12:00:00Z" },
        },
      }],
    });
    const getPolicy = async (PermissionSetArn) => (await admin.send(
      new sso.GetInlinePolicyForPermissionSetCommand({ InstanceArn: INSTANCE_ARN, PermissionSetArn })));

    test("PutInlinePolicyToPermissionSet then GetInlinePolicyForPermissionSet returns the same document", async () => {
      const put = await admin.send(new sso.PutInlinePolicyToPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS, InlinePolicy: policy,
      }));
      assert.equal(put.$metadata.httpStatusCode, 200);
      const got = await getPolicy(BREAK_GLASS);
      assert.equal(got.InlinePolicy, policy);
      assert.deepEqual(JSON.parse(got.InlinePolicy), JSON.parse(policy));
    });

    test("DeleteInlinePolicyFromPermissionSet then Get returns an empty policy", async () => {
      const del = await admin.send(new sso.DeleteInlinePolicyFromPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS,
      }));
      assert.equal(del.$metadata.httpStatusCode, 200);
      assert.equal((await getPolicy(BREAK_GLASS)).InlinePolicy ?? "", "");
      // Deleting none succeeds too.
      await admin.send(new sso.DeleteInlinePolicyFromPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS,
      }));
    });

    test("a policy that is not a JSON object or is too long is a ValidationException", async () => {
      for (const InlinePolicy of ["[1]", "not json", JSON.stringify({ a: "x".repeat(32768) })]) {
        const e = await rejection(() => admin.send(new sso.PutInlinePolicyToPermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS, InlinePolicy,
        })));
        assertServiceError(e, "ValidationException", 400);
      }
    });

    test("ProvisionPermissionSet reaches SUCCEEDED through DescribePermissionSetProvisioningStatus", async () => {
      await admin.send(new sso.PutInlinePolicyToPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS, InlinePolicy: policy,
      }));
      const started = await admin.send(new sso.ProvisionPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS,
        TargetType: "AWS_ACCOUNT", TargetId: PROD,
      }));
      const ps = started.PermissionSetProvisioningStatus;
      assert.equal(ps.Status, "IN_PROGRESS");
      assert.match(ps.RequestId, UUID_RE);
      assert.equal(ps.AccountId, PROD);
      assert.equal(ps.PermissionSetArn, BREAK_GLASS);
      if (ps.CreatedDate !== undefined) assert.ok(ps.CreatedDate instanceof Date);

      const done = await pollUntilDone(async () => (await admin.send(
        new sso.DescribePermissionSetProvisioningStatusCommand({
          InstanceArn: INSTANCE_ARN, ProvisionPermissionSetRequestId: ps.RequestId,
        }))).PermissionSetProvisioningStatus, "provisioning");
      assert.equal(done.Status, "SUCCEEDED", `provisioning failed: ${done.FailureReason}`);
      assert.equal(done.RequestId, ps.RequestId);

      const st = await state();
      const entry = st.permission_sets.find((p) => p.PermissionSetArn === BREAK_GLASS);
      assert.ok(entry, `GET /_emulator/state lists the permission set: ${JSON.stringify(st.permission_sets)}`);
      assert.equal(entry.InlinePolicy, policy);
      assert.equal(entry.provisioned[PROD], policy, "the account has the provisioned policy");
      assert.ok(st.provisioning.some((p) => p.RequestId === ps.RequestId && p.Status === "SUCCEEDED"));

      await admin.send(new sso.DeleteInlinePolicyFromPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: BREAK_GLASS,
      }));
    });

    test("an unknown permission set or request id is ResourceNotFoundException", async () => {
      const calls = [
        new sso.GetInlinePolicyForPermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: UNKNOWN_PS }),
        new sso.PutInlinePolicyToPermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: UNKNOWN_PS, InlinePolicy: policy }),
        new sso.DeleteInlinePolicyFromPermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: UNKNOWN_PS }),
        new sso.ProvisionPermissionSetCommand({
          InstanceArn: INSTANCE_ARN, PermissionSetArn: UNKNOWN_PS,
          TargetType: "AWS_ACCOUNT", TargetId: PROD }),
        new sso.DescribePermissionSetProvisioningStatusCommand({
          InstanceArn: INSTANCE_ARN,
          ProvisionPermissionSetRequestId: "00000000-0000-4000-8000-000000000000" }),
      ];
      for (const cmd of calls) {
        const e = await rejection(() => admin.send(cmd));
        assertServiceError(e, "ResourceNotFoundException", 400);
      }
    });
  });

  // The calls `jit permission-sets plan|apply` makes (issue 14), with the official client.
  describe("sso-admin permission sets as code", () => {
    const provision = (PermissionSetArn, TargetId) => admin.send(new sso.ProvisionPermissionSetCommand({
      InstanceArn: INSTANCE_ARN, PermissionSetArn, TargetType: "AWS_ACCOUNT", TargetId,
    }));
    const waitProvisioned = (RequestId) => pollUntilDone(async () => (await admin.send(
      new sso.DescribePermissionSetProvisioningStatusCommand({
        InstanceArn: INSTANCE_ARN, ProvisionPermissionSetRequestId: RequestId,
      }))).PermissionSetProvisioningStatus, "provisioning");
    let created;  // the PermissionSet CreatePermissionSet answered

    // The emulator is shared with the tests above: leave it as the seed made it.
    after(async () => {
      const res = await fetch(`${endpoint}/_emulator/reset`, { method: "POST" });
      assert.equal(res.status, 200);
    });

    test("CreatePermissionSet answers the new set; Describe, List and ListTags see it", async () => {
      const out = await admin.send(new sso.CreatePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, Name: "JitSdkTest", Description: "Made by the SDK suite",
        SessionDuration: "PT2H", RelayState: "https://console.aws.amazon.com/",
        Tags: [{ Key: "team", Value: "security" }],
      }));
      created = out.PermissionSet;
      assert.match(created.PermissionSetArn,
                   /^arn:aws:sso:::permissionSet\/ssoins-1111111111111111\/ps-[0-9a-f]{16}$/);
      assert.equal(created.Name, "JitSdkTest");
      assert.equal(created.Description, "Made by the SDK suite");
      assert.equal(created.SessionDuration, "PT2H");
      assert.equal(created.RelayState, "https://console.aws.amazon.com/");
      assert.ok(created.CreatedDate instanceof Date && !Number.isNaN(created.CreatedDate.getTime()));

      const { PermissionSet: described } = await admin.send(new sso.DescribePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn,
      }));
      assert.deepEqual(described, created);
      const arns = await listAll(sso.ListPermissionSetsCommand, { InstanceArn: INSTANCE_ARN },
                                 "PermissionSets");
      assert.ok(arns.includes(created.PermissionSetArn), "ListPermissionSets lists it");
      const tags = await admin.send(new sso.ListTagsForResourceCommand({
        InstanceArn: INSTANCE_ARN, ResourceArn: created.PermissionSetArn,
      }));
      assert.deepEqual(tags.Tags, [{ Key: "team", Value: "security" }]);
    });

    test("a taken name is a ConflictException, a session over 12 hours a ValidationException", async () => {
      const taken = await rejection(() => admin.send(new sso.CreatePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, Name: "JitSdkTest",
      })));
      assert.ok(taken instanceof sso.ConflictException, `${taken.name} is the SDK's ConflictException`);
      assertServiceError(taken, "ConflictException", 400);
      const long = await rejection(() => admin.send(new sso.CreatePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, Name: "JitSdkTooLong", SessionDuration: "PT13H",
      })));
      assertServiceError(long, "ValidationException", 400);
    });

    test("UpdatePermissionSet changes what it is given", async () => {
      await admin.send(new sso.UpdatePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn,
        SessionDuration: "PT4H",
      }));
      const { PermissionSet: ps } = await admin.send(new sso.DescribePermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn,
      }));
      assert.equal(ps.SessionDuration, "PT4H");
      assert.equal(ps.Description, "Made by the SDK suite", "left out, kept");
    });

    test("managed policies attach, list and detach", async () => {
      const base = { InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn };
      const arn = "arn:aws:iam::aws:policy/ReadOnlyAccess";
      await admin.send(new sso.AttachManagedPolicyToPermissionSetCommand({ ...base, ManagedPolicyArn: arn }));
      const twice = await rejection(() => admin.send(
        new sso.AttachManagedPolicyToPermissionSetCommand({ ...base, ManagedPolicyArn: arn })));
      assertServiceError(twice, "ConflictException", 400);
      const listed = await listAll(sso.ListManagedPoliciesInPermissionSetCommand, base,
                                   "AttachedManagedPolicies");
      assert.deepEqual(listed, [{ Arn: arn, Name: "ReadOnlyAccess" }]);
      await admin.send(new sso.DetachManagedPolicyFromPermissionSetCommand({ ...base, ManagedPolicyArn: arn }));
      const missing = await rejection(() => admin.send(
        new sso.DetachManagedPolicyFromPermissionSetCommand({ ...base, ManagedPolicyArn: arn })));
      assertServiceError(missing, "ResourceNotFoundException", 400);
      assert.deepEqual(await listAll(sso.ListManagedPoliciesInPermissionSetCommand, base,
                                     "AttachedManagedPolicies"), []);
    });

    test("customer managed policy references attach, list and detach", async () => {
      const base = { InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn };
      const ref = { Name: "JitExtra", Path: "/jit/" };
      await admin.send(new sso.AttachCustomerManagedPolicyReferenceToPermissionSetCommand({
        ...base, CustomerManagedPolicyReference: ref }));
      await admin.send(new sso.AttachCustomerManagedPolicyReferenceToPermissionSetCommand({
        ...base, CustomerManagedPolicyReference: { Name: "JitRoot" } }));
      const twice = await rejection(() => admin.send(
        new sso.AttachCustomerManagedPolicyReferenceToPermissionSetCommand({
          ...base, CustomerManagedPolicyReference: ref })));
      assertServiceError(twice, "ConflictException", 400);
      const listed = await listAll(sso.ListCustomerManagedPolicyReferencesInPermissionSetCommand,
                                   base, "CustomerManagedPolicyReferences");
      assert.deepEqual(listed, [ref, { Name: "JitRoot", Path: "/" }]);
      await admin.send(new sso.DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({
        ...base, CustomerManagedPolicyReference: ref }));
      const missing = await rejection(() => admin.send(
        new sso.DetachCustomerManagedPolicyReferenceFromPermissionSetCommand({
          ...base, CustomerManagedPolicyReference: ref })));
      assertServiceError(missing, "ResourceNotFoundException", 400);
    });

    test("a permissions boundary is put, read and deleted", async () => {
      const base = { InstanceArn: INSTANCE_ARN, PermissionSetArn: created.PermissionSetArn };
      const none = await rejection(() => admin.send(
        new sso.GetPermissionsBoundaryForPermissionSetCommand(base)));
      assertServiceError(none, "ResourceNotFoundException", 400);
      const boundary = { ManagedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" };
      await admin.send(new sso.PutPermissionsBoundaryToPermissionSetCommand({
        ...base, PermissionsBoundary: boundary }));
      const got = await admin.send(new sso.GetPermissionsBoundaryForPermissionSetCommand(base));
      assert.deepEqual(got.PermissionsBoundary, boundary);
      const customer = { CustomerManagedPolicyReference: { Name: "JitBoundary", Path: "/" } };
      await admin.send(new sso.PutPermissionsBoundaryToPermissionSetCommand({
        ...base, PermissionsBoundary: customer }));
      assert.deepEqual((await admin.send(
        new sso.GetPermissionsBoundaryForPermissionSetCommand(base))).PermissionsBoundary, customer);
      await admin.send(new sso.DeletePermissionsBoundaryFromPermissionSetCommand(base));
      const gone = await rejection(() => admin.send(
        new sso.GetPermissionsBoundaryForPermissionSetCommand(base)));
      assertServiceError(gone, "ResourceNotFoundException", 400);
    });

    test("TagResource adds and replaces, UntagResource removes", async () => {
      const ResourceArn = created.PermissionSetArn;
      await admin.send(new sso.TagResourceCommand({
        InstanceArn: INSTANCE_ARN, ResourceArn,
        Tags: [{ Key: "team", Value: "platform" }, { Key: "env", Value: "prod" }],
      }));
      await admin.send(new sso.UntagResourceCommand({
        InstanceArn: INSTANCE_ARN, ResourceArn, TagKeys: ["env"],
      }));
      const out = await admin.send(new sso.ListTagsForResourceCommand({
        InstanceArn: INSTANCE_ARN, ResourceArn }));
      assert.deepEqual(out.Tags, [{ Key: "team", Value: "platform" }]);
    });

    test("provisioned accounts are listed both ways; a second provisioning at once conflicts", async () => {
      const arn = created.PermissionSetArn;
      // The second call must come while the first is IN_PROGRESS (200 ms): try a few times.
      let conflict;
      let first;
      for (let i = 0; i < 5 && !conflict; i++) {
        first = (await provision(arn, PROD)).PermissionSetProvisioningStatus;
        try {
          await provision(arn, SANDBOX);
        } catch (e) {
          conflict = e;
        }
        await waitProvisioned(first.RequestId);
      }
      assert.ok(conflict, "a provisioning while one is IN_PROGRESS is refused");
      assert.ok(conflict instanceof sso.ConflictException, `${conflict.name} is ConflictException`);
      assertServiceError(conflict, "ConflictException", 400);
      const done = await waitProvisioned(first.RequestId);
      assert.equal(done.Status, "SUCCEEDED", `provisioning failed: ${done.FailureReason}`);

      const accounts = await listAll(sso.ListAccountsForProvisionedPermissionSetCommand, {
        InstanceArn: INSTANCE_ARN, PermissionSetArn: arn,
        ProvisioningStatus: "LATEST_PERMISSION_SET_PROVISIONED",
      }, "AccountIds");
      assert.ok(accounts.includes(PROD), `ListAccountsForProvisionedPermissionSet: ${accounts}`);
      const sets = await listAll(sso.ListPermissionSetsProvisionedToAccountCommand, {
        InstanceArn: INSTANCE_ARN, AccountId: PROD,
      }, "PermissionSets");
      assert.ok(sets.includes(arn), `ListPermissionSetsProvisionedToAccount: ${sets}`);
      const st = await state();
      assert.ok(st.calls.CreatePermissionSet >= 1, "GET /_emulator/state counts the calls");
    });

    test("a session is denied by the policy as provisioned (POST /_emulator/sessions)", async () => {
      const post = async (path, body) => {
        const res = await fetch(`${endpoint}${path}`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.json() };
      };
      const arn = created.PermissionSetArn;
      const open = { user_name: "alice", account_id: PROD, permission_set_arn: arn };
      const refused = await post("/_emulator/sessions", open);
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      assert.ok(refused.body.error, "403 says why");

      const c = await admin.send(new sso.CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE_ARN, TargetId: PROD, TargetType: "AWS_ACCOUNT",
        PermissionSetArn: arn, PrincipalType: "USER", PrincipalId: ALICE_ID,
      }));
      const cs = await pollUntilDone(async () => (await admin.send(
        new sso.DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN,
          AccountAssignmentCreationRequestId: c.AccountAssignmentCreationStatus.RequestId,
        }))).AccountAssignmentCreationStatus, "creation");
      assert.equal(cs.Status, "SUCCEEDED");

      const opened = await post("/_emulator/sessions", open);
      assert.equal(opened.status, 201, JSON.stringify(opened.body));
      const { session_id: id, issued_at: issued, expires_at: expires } = opened.body;
      assert.match(id, /^sess-/);
      assert.equal(opened.body.user_id, ALICE_ID);
      assert.equal(Date.parse(expires) - Date.parse(issued), 4 * 3600 * 1000, "PT4H");
      const call = (body) => post(`/_emulator/sessions/${id}/calls`, body);
      assert.deepEqual((await call({ action: "s3:ListBuckets" })).body,
                       { allowed: true, reason: "allowed" });

      // Cut off sessions issued before a time after this one's, and provision that.
      const cut = new Date(Date.parse(issued) + 60_000).toISOString().replace(/\.\d+Z$/, "Z");
      await admin.send(new sso.PutInlinePolicyToPermissionSetCommand({
        InstanceArn: INSTANCE_ARN, PermissionSetArn: arn,
        InlinePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [{
            Sid: "JitCutoffSdk", Effect: "Deny", Action: "*", Resource: "*",
            Condition: {
              StringEquals: { "identitystore:userId": [ALICE_ID], "aws:PrincipalAccount": PROD },
              DateLessThan: { "aws:TokenIssueTime": cut },
            },
          }],
        }),
      }));
      assert.equal((await call({ action: "s3:ListBuckets" })).body.allowed, true,
                   "not provisioned yet");
      const p = (await provision(arn, PROD)).PermissionSetProvisioningStatus;
      assert.equal((await waitProvisioned(p.RequestId)).Status, "SUCCEEDED");
      assert.deepEqual((await call({ action: "s3:ListBuckets", region: "eu-west-1" })).body,
                       { allowed: false, reason: "explicit deny by statement JitCutoffSdk" });
      // After it expired.
      const late = await call({ action: "s3:ListBuckets", at: expires });
      assert.deepEqual(late.body, { allowed: false, reason: "session expired" });

      const res = await fetch(`${endpoint}/_emulator/sessions`);
      const listed = (await res.json()).sessions;
      assert.ok(listed.some((x) => x.session_id === id && x.permission_set_arn === arn));
      assert.equal((await post("/_emulator/sessions/sess-nope/calls", { action: "s3:X" })).status, 404);
    });
  });

  describe("identitystore", () => {
    const getUserId = (name) => store.send(new ids.GetUserIdCommand({
      IdentityStoreId: IDENTITY_STORE_ID,
      AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: name } },
    }));
    const groupsOf = async (UserId) => (await store.send(new ids.ListGroupMembershipsForMemberCommand({
      IdentityStoreId: IDENTITY_STORE_ID, MemberId: { UserId },
    }))).GroupMemberships;

    test("GetUserId finds alice by userName", async () => {
      const out = await getUserId("alice");
      assert.equal(out.UserId, ALICE_ID);
      assert.equal(out.IdentityStoreId, IDENTITY_STORE_ID);
    });

    test("DescribeUser describes alice", async () => {
      const out = await store.send(new ids.DescribeUserCommand({
        IdentityStoreId: IDENTITY_STORE_ID, UserId: ALICE_ID,
      }));
      assert.equal(out.UserId, ALICE_ID);
      assert.equal(out.UserName, "alice");
      assert.equal(out.IdentityStoreId, IDENTITY_STORE_ID);
    });

    test("ListGroupMembershipsForMember and IsMemberInGroups agree", async () => {
      const alice = await groupsOf(ALICE_ID);
      assert.equal(alice.length, 1, "alice is in engineers only");
      for (const m of alice) {
        assert.equal(m.IdentityStoreId, IDENTITY_STORE_ID);
        assert.deepEqual(m.MemberId, { UserId: ALICE_ID });
        assert.ok(m.GroupId, "GroupId is set");
      }
      const carolId = (await getUserId("carol")).UserId;
      const carol = await groupsOf(carolId);
      assert.equal(carol.length, 3, "carol is in approvers, sre and admins");
      const carolGroups = carol.map((m) => m.GroupId);

      const aliceGroups = alice.map((m) => m.GroupId);
      const out = await store.send(new ids.IsMemberInGroupsCommand({
        IdentityStoreId: IDENTITY_STORE_ID, MemberId: { UserId: ALICE_ID },
        GroupIds: [...aliceGroups, ...carolGroups],
      }));
      const results = new Map(out.Results.map((r) => [r.GroupId, r.MembershipExists]));
      assert.equal(results.size, 4);
      for (const g of aliceGroups) assert.equal(results.get(g), true, `alice in ${g}`);
      for (const g of carolGroups) assert.equal(results.get(g), false, `alice not in ${g}`);
      for (const r of out.Results) assert.deepEqual(r.MemberId, { UserId: ALICE_ID });
    });
  });

  describe("errors as the SDK reports them", () => {
    test("a malformed account id is a ValidationException (400)", async () => {
      const psArn = (await admin.send(new sso.ListPermissionSetsCommand({ InstanceArn: INSTANCE_ARN })))
        .PermissionSets[0];
      const e = await rejection(() => admin.send(new sso.CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE_ARN, TargetId: "12345", TargetType: "AWS_ACCOUNT",
        PermissionSetArn: psArn, PrincipalType: "USER", PrincipalId: ALICE_ID,
      })));
      assert.ok(e instanceof sso.ValidationException, `${e.name} is the SDK's ValidationException`);
      assertServiceError(e, "ValidationException", 400);
    });

    test("MaxResults outside 1-100 is a ValidationException (400)", async () => {
      for (const MaxResults of [0, 101]) {
        const e = await rejection(() => admin.send(new sso.ListPermissionSetsCommand({
          InstanceArn: INSTANCE_ARN, MaxResults,
        })));
        assertServiceError(e, "ValidationException", 400);
      }
    });

    test("a NextToken that no list handed out is a ValidationException (400)", async () => {
      const e = await rejection(() => admin.send(new sso.ListPermissionSetsCommand({
        InstanceArn: INSTANCE_ARN, NextToken: "not-a-token-this-list-issued",
      })));
      assertServiceError(e, "ValidationException", 400);
    });

    test("a malformed instance ARN is a ValidationException (400)", async () => {
      const e = await rejection(() => admin.send(new sso.ListPermissionSetsCommand({
        InstanceArn: "arn:aws:sso:::instance/nope",
      })));
      assertServiceError(e, "ValidationException", 400);
    });

    test("an unknown permission set is a ResourceNotFoundException (400)", async () => {
      const e = await rejection(() => admin.send(new sso.DescribePermissionSetCommand({
        InstanceArn: INSTANCE_ARN,
        PermissionSetArn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-ffffffffffffffff",
      })));
      assert.ok(e instanceof sso.ResourceNotFoundException);
      assertServiceError(e, "ResourceNotFoundException", 400);
    });

    test("an unknown creation request id is a ResourceNotFoundException (400)", async () => {
      const e = await rejection(() => admin.send(new sso.DescribeAccountAssignmentCreationStatusCommand({
        InstanceArn: INSTANCE_ARN,
        AccountAssignmentCreationRequestId: "00000000-0000-4000-8000-000000000000",
      })));
      assertServiceError(e, "ResourceNotFoundException", 400);
    });

    test("GetUserId for an unknown user is a ResourceNotFoundException (400)", async () => {
      const e = await rejection(() => store.send(new ids.GetUserIdCommand({
        IdentityStoreId: IDENTITY_STORE_ID,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: "userName", AttributeValue: "nobody" } },
      })));
      assert.ok(e instanceof ids.ResourceNotFoundException);
      assertServiceError(e, "ResourceNotFoundException", 400);
    });

    test("an unsupported unique attribute path is a ValidationException (400)", async () => {
      const e = await rejection(() => store.send(new ids.GetUserIdCommand({
        IdentityStoreId: IDENTITY_STORE_ID,
        AlternateIdentifier: { UniqueAttribute: { AttributePath: "nickName", AttributeValue: "alice" } },
      })));
      assertServiceError(e, "ValidationException", 400);
    });

    test("a wrong secret key fails the signature check (403)", async () => {
      const badAdmin = new sso.SSOAdminClient(clientConfig({
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: "not-the-secret" },
      }));
      const badStore = new ids.IdentitystoreClient(clientConfig({
        credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: "not-the-secret" },
      }));
      try {
        const e1 = await rejection(() => badAdmin.send(new sso.ListInstancesCommand({})));
        assertServiceError(e1, ["InvalidSignatureException", "UnrecognizedClientException"], 403);
        const e2 = await rejection(() => badStore.send(new ids.DescribeUserCommand({
          IdentityStoreId: IDENTITY_STORE_ID, UserId: ALICE_ID,
        })));
        assertServiceError(e2, ["InvalidSignatureException", "UnrecognizedClientException"], 403);
      } finally {
        badAdmin.destroy();
        badStore.destroy();
      }
    });

    test("an unknown access key id is rejected (403)", async () => {
      const bad = new sso.SSOAdminClient(clientConfig({
        credentials: { accessKeyId: "AKIDSOMEONEELSE", secretAccessKey: SECRET },
      }));
      try {
        const e = await rejection(() => bad.send(new sso.ListInstancesCommand({})));
        assertServiceError(e, ["UnrecognizedClientException", "InvalidSignatureException"], 403);
      } finally {
        bad.destroy();
      }
    });
  });
}
