// Drives `jit emulator` with the official AWS SDK for JavaScript v3 (client-identitystore): an
// independent check that the emulator's identitystore group memberships (issue 16, group
// elevation: CreateGroupMembership, DeleteGroupMembership, GetGroupMembershipId,
// DescribeGroupMembership, ListGroupMemberships) speak the wire protocol as AWS does (shapes,
// modelled error types, NextToken paging through the SDK's paginator), and that a membership
// made or removed this way changes the emulator's access check (/_emulator/sessions) at once.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/sdk, after scripts/setup.sh)
// Loopback only: the emulator listens on 127.0.0.1 port 0 and the clients point at it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";

import { rejection, spawnEmulator } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// Keep the SDK away from any AWS configuration of the machine.
for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";

const sdkMissing = !existsSync(join(here, "node_modules", "@aws-sdk", "client-identitystore")) ||
                   !existsSync(join(here, "node_modules", "@aws-sdk", "client-sso-admin"));
if (sdkMissing) {
  test("@aws-sdk/client-identitystore and client-sso-admin are installed", () => {
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
  const ids = await import("@aws-sdk/client-identitystore");
  const sso = await import("@aws-sdk/client-sso-admin");

  // The emulator's default seed (emulator/seed.cc DefaultSeed).
  const STORE = "d-1111111111";
  const INSTANCE_ARN = "arn:aws:sso:::instance/ssoins-1111111111111111";
  const ADMIN = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  const PROD = "222222222222";
  const ALICE = "a11ce000-0000-4000-8000-000000000001";
  const BOB = "b0b00000-0000-4000-8000-000000000002";
  const CAROL = "ca401000-0000-4000-8000-000000000003";
  const ENGINEERS = "e0000000-0000-4000-8000-000000000011";  // alice
  const APPROVERS = "a0000000-0000-4000-8000-000000000012";  // bob, carol
  const NOBODY = "00000000-0000-4000-8000-00000000dead";
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  let emulator;
  let endpoint;
  let emulatorLog = "";
  let store;
  let admin;

  function stopEmulator() {
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      emulator.kill("SIGTERM");
    }
  }
  process.once("exit", stopEmulator);

  function clientConfig() {
    return {
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDJITEMULATOR", secretAccessKey: "jit-emulator-secret" },
      maxAttempts: 1,
    };
  }

  async function startEmulator() {
    const started = spawnEmulator(["--listen", "127.0.0.1:0"], (text) => { emulatorLog += text; });
    emulator = started.proc;
    return await started.url;
  }

  function assertServiceError(e, name, status = 400) {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.ok(e instanceof ids.IdentitystoreServiceException, "a modelled identitystore error");
    assert.equal(e.$metadata?.httpStatusCode, status);
    assert.equal(e.$fault, status >= 500 ? "server" : "client");
    assert.ok(e.message.length > 0, "error has a message");
    assert.ok(e.$metadata.requestId, "error carries x-amzn-RequestId");
  }

  async function reset() {
    const res = await fetch(`${endpoint}/_emulator/reset`, { method: "POST" });
    assert.equal(res.status, 200, "POST /_emulator/reset");
  }

  const create = (GroupId, UserId) => store.send(new ids.CreateGroupMembershipCommand({
    IdentityStoreId: STORE, GroupId, MemberId: { UserId },
  }));
  const remove = (MembershipId) => store.send(new ids.DeleteGroupMembershipCommand({
    IdentityStoreId: STORE, MembershipId,
  }));
  const idOf = (GroupId, UserId) => store.send(new ids.GetGroupMembershipIdCommand({
    IdentityStoreId: STORE, GroupId, MemberId: { UserId },
  }));

  // Every membership of the group through the SDK's paginator; returns [memberships, pages].
  async function members(GroupId, pageSize) {
    const out = [];
    let pages = 0;
    for await (const page of ids.paginateListGroupMemberships(
      { client: store, pageSize }, { IdentityStoreId: STORE, GroupId })) {
      out.push(...(page.GroupMemberships ?? []));
      pages += 1;
    }
    return [out, pages];
  }

  before(async () => {
    try {
      endpoint = await startEmulator();
    } catch (e) {
      stopEmulator();
      throw e;
    }
    store = new ids.IdentitystoreClient(clientConfig());
    admin = new sso.SSOAdminClient(clientConfig());
  });

  after(async () => {
    store?.destroy();
    admin?.destroy();
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      const exited = new Promise((r) => emulator.once("exit", r));
      emulator.kill("SIGTERM");
      await exited;
    }
  });

  describe("group memberships", () => {
    test("Create, GetGroupMembershipId, Describe, List and Delete agree", async () => {
      await reset();
      const made = await create(ENGINEERS, BOB);
      assert.equal(made.IdentityStoreId, STORE);
      assert.match(made.MembershipId, UUID_RE);

      const got = await idOf(ENGINEERS, BOB);
      assert.equal(got.MembershipId, made.MembershipId);
      const described = await store.send(new ids.DescribeGroupMembershipCommand({
        IdentityStoreId: STORE, MembershipId: made.MembershipId,
      }));
      assert.equal(described.IdentityStoreId, STORE);
      assert.equal(described.MembershipId, made.MembershipId);
      assert.equal(described.GroupId, ENGINEERS);
      assert.deepEqual(described.MemberId, { UserId: BOB });

      const [listed] = await members(ENGINEERS, 100);
      assert.deepEqual(listed.map((m) => m.MemberId.UserId), [ALICE, BOB]);
      for (const m of listed) {
        assert.equal(m.IdentityStoreId, STORE);
        assert.equal(m.GroupId, ENGINEERS);
        assert.match(m.MembershipId, UUID_RE);
      }
      const check = await store.send(new ids.IsMemberInGroupsCommand({
        IdentityStoreId: STORE, MemberId: { UserId: BOB }, GroupIds: [ENGINEERS],
      }));
      assert.equal(check.Results[0].MembershipExists, true);

      await remove(made.MembershipId);
      const [after] = await members(ENGINEERS, 100);
      assert.deepEqual(after.map((m) => m.MemberId.UserId), [ALICE]);
      const forBob = await store.send(new ids.ListGroupMembershipsForMemberCommand({
        IdentityStoreId: STORE, MemberId: { UserId: BOB },
      }));
      assert.deepEqual(forBob.GroupMemberships.map((m) => m.GroupId), [APPROVERS]);
    });

    test("a duplicate membership is a ConflictException with its Reason", async () => {
      await reset();
      const e = await rejection(() => create(ENGINEERS, ALICE));
      assertServiceError(e, "ConflictException");
      assert.ok(e instanceof ids.ConflictException);
      assert.equal(e.Reason, "UNIQUENESS_CONSTRAINT_VIOLATION");
      const [listed] = await members(ENGINEERS, 100);
      assert.equal(listed.length, 1, "nothing was added");
    });

    test("unknown groups, users and memberships are ResourceNotFoundException", async () => {
      await reset();
      const group = await rejection(() => create(NOBODY, BOB));
      assertServiceError(group, "ResourceNotFoundException");
      assert.equal(group.ResourceType, "GROUP");
      assert.equal(group.ResourceId, NOBODY);
      const user = await rejection(() => create(ENGINEERS, NOBODY));
      assertServiceError(user, "ResourceNotFoundException");
      assert.equal(user.ResourceType, "USER");
      const gone = await rejection(() => remove(NOBODY));
      assertServiceError(gone, "ResourceNotFoundException");
      assert.equal(gone.ResourceType, "GROUP_MEMBERSHIP");
      const notMember = await rejection(() => idOf(ENGINEERS, BOB));
      assertServiceError(notMember, "ResourceNotFoundException");
      assert.equal(notMember.ResourceType, "GROUP_MEMBERSHIP");
      const list = await rejection(() => members(NOBODY, 10));
      assertServiceError(list, "ResourceNotFoundException");
    });

    test("malformed ids are a ValidationException", async () => {
      const e = await rejection(() => create("engineers", BOB));
      assertServiceError(e, "ValidationException");
      assert.match(e.message, /GroupId/);
      const bad = await rejection(() => remove("not-an-id"));
      assertServiceError(bad, "ValidationException");
    });

    test("ListGroupMemberships pages through the SDK's paginator", async () => {
      await reset();
      await create(APPROVERS, ALICE);
      const [one, pages] = await members(APPROVERS, 1);
      assert.deepEqual(one.map((m) => m.MemberId.UserId), [BOB, CAROL, ALICE]);
      assert.equal(pages, 3);
      const [two, twoPages] = await members(APPROVERS, 2);
      assert.equal(two.length, 3);
      assert.equal(twoPages, 2);
    });

    test("a membership yields the group's assignment in the access check from the call on", async () => {
      await reset();
      const started = await admin.send(new sso.CreateAccountAssignmentCommand({
        InstanceArn: INSTANCE_ARN, TargetId: PROD, TargetType: "AWS_ACCOUNT",
        PermissionSetArn: ADMIN, PrincipalType: "GROUP", PrincipalId: ENGINEERS,
      }));
      const requestId = started.AccountAssignmentCreationStatus.RequestId;
      for (let i = 0; ; ++i) {
        const st = await admin.send(new sso.DescribeAccountAssignmentCreationStatusCommand({
          InstanceArn: INSTANCE_ARN, AccountAssignmentCreationRequestId: requestId,
        }));
        if (st.AccountAssignmentCreationStatus.Status === "SUCCEEDED") break;
        assert.equal(st.AccountAssignmentCreationStatus.Status, "IN_PROGRESS");
        assert.ok(i < 200, "the assignment was not made within 20 s");
        await sleep(100);
      }
      const open = async () => (await fetch(`${endpoint}/_emulator/sessions`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ user_id: BOB, account_id: PROD, permission_set_arn: ADMIN }),
      })).status;
      assert.equal(await open(), 403, "bob is not an engineer yet");
      const made = await create(ENGINEERS, BOB);
      assert.equal(await open(), 201, "bob holds Admin through engineers");
      await remove(made.MembershipId);
      assert.equal(await open(), 403, "bob no longer holds it");
    });
  });
}
