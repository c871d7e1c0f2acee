// Drives `jit emulator` with the official AWS SDK for JavaScript v3 (client-organizations): an
// independent check that the emulator's AWS Organizations (issue 16) speaks the wire protocol
// as AWS does (awsJson 1.1 with X-Amz-Target AWSOrganizationsV20161128.*, SigV4 for
// `organizations` in us-east-1, error types, NextToken paging), on a seeded organization of 3
// OUs (one nested) and 200 accounts generated here.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/sdk, after scripts/setup.sh)
// Loopback only: the emulator listens on 127.0.0.1 port 0 and the client points at it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { rejection, spawnEmulator } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));

// Keep the SDK away from any AWS configuration of the machine.
for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";

if (!existsSync(join(here, "node_modules", "@aws-sdk", "client-organizations"))) {
  test("@aws-sdk/client-organizations is installed", () => {
    assert.fail("tests/sdk/node_modules is missing @aws-sdk/client-organizations: run scripts/setup.sh");
  });
} else if (!process.env.JIT_BINARY) {
  test("JIT_BINARY is set", () => {
    assert.fail("set JIT_BINARY to the jit executable (ctest does this)");
  });
} else {
  await suite();
}

async function suite() {
  const org = await import("@aws-sdk/client-organizations");

  const ORG_ID = "o-abcdef1234";
  const ROOT = "r-ab12";
  const PROD = "ou-ab12-prod0001";
  const PROD_WEB = "ou-ab12-prodweb1";  // nested in PROD
  const SANDBOX = "ou-ab12-sandbox1";
  const MANAGEMENT = "111111111111";
  const COUNT = 200;

  // Account i: 111111111111 and 222222222222 first, then 3000000xxxxx; in PROD, PROD_WEB,
  // SANDBOX or the root by i % 4; env=prod when even; SUSPENDED when i % 25 == 7.
  const accountId = (i) => (i === 0 ? MANAGEMENT : i === 1 ? "222222222222"
                                                            : `3000000${String(i).padStart(5, "0")}`);
  const parentOf = (i) => [PROD, PROD_WEB, SANDBOX, ROOT][i % 4];
  const accounts = Array.from({ length: COUNT }, (_, i) => ({
    id: accountId(i),
    name: `account-${i}`,
    parent_id: parentOf(i),
    status: i % 25 === 7 ? "SUSPENDED" : "ACTIVE",
    tags: { env: i % 2 === 0 ? "prod" : "dev", team: `t${i % 3}` },
  }));
  const seed = {
    accounts,
    organization: {
      id: ORG_ID,
      master_account_id: MANAGEMENT,
      roots: [{ id: ROOT, name: "Root" }],
      organizational_units: [
        { id: PROD, name: "Prod", parent_id: ROOT, tags: { "cost-center": "42" } },
        { id: PROD_WEB, name: "ProdWeb", parent_id: PROD },
        { id: SANDBOX, name: "Sandbox", parent_id: ROOT },
      ],
    },
  };
  const expectedIn = (parent) =>
    new Set(accounts.filter((a) => a.parent_id === parent).map((a) => a.id));

  let emulator;
  let endpoint;
  let emulatorLog = "";
  let client;
  const dir = mkdtempSync(join(tmpdir(), "jit-sdk-org-"));

  function stopEmulator() {
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      emulator.kill("SIGTERM");
    }
  }
  process.once("exit", () => {
    stopEmulator();
    rmSync(dir, { recursive: true, force: true });
  });

  function clientConfig(overrides = {}) {
    return {
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "AKIDJITEMULATOR", secretAccessKey: "jit-emulator-secret" },
      maxAttempts: 1,
      ...overrides,
    };
  }

  async function startEmulator(seedFile) {
    const started = spawnEmulator(["--listen", "127.0.0.1:0", "--seed", seedFile],
                                  (text) => { emulatorLog += text; });
    emulator = started.proc;
    return await started.url;
  }

  function assertServiceError(e, name, status = 400) {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.ok(e instanceof org.OrganizationsServiceException, "a modelled Organizations error");
    assert.equal(e.$metadata?.httpStatusCode, status);
    assert.equal(e.$fault, status >= 500 ? "server" : "client");
    assert.ok(e.message.length > 0, "error has a message");
    assert.ok(e.$metadata.requestId, "error carries x-amzn-RequestId");
  }

  // Every item over all pages through the SDK's own paginator; returns [items, pages].
  async function paginate(paginator, input, key, pageSize) {
    const items = [];
    let pages = 0;
    for await (const page of paginator({ client, pageSize }, input)) {
      items.push(...(page[key] ?? []));
      pages += 1;
    }
    return [items, pages];
  }

  before(async () => {
    const seedFile = join(dir, "seed.json");
    writeFileSync(seedFile, JSON.stringify(seed));
    try {
      endpoint = await startEmulator(seedFile);
    } catch (e) {
      stopEmulator();
      throw e;
    }
    client = new org.OrganizationsClient(clientConfig());
  });

  after(async () => {
    client?.destroy();
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      const exited = new Promise((r) => emulator.once("exit", r));
      emulator.kill("SIGTERM");
      const timer = setTimeout(() => emulator.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  describe("organizations", () => {
    test("DescribeOrganization names the organization and its management account", async () => {
      const out = await client.send(new org.DescribeOrganizationCommand({}));
      assert.equal(out.$metadata.httpStatusCode, 200);
      assert.equal(out.Organization.Id, ORG_ID);
      assert.equal(out.Organization.MasterAccountId, MANAGEMENT);
      assert.equal(out.Organization.Arn, `arn:aws:organizations::${MANAGEMENT}:organization/${ORG_ID}`);
      assert.equal(out.Organization.FeatureSet, "ALL");
    });

    test("ListRoots answers the root", async () => {
      const [roots, pages] = await paginate(org.paginateListRoots, {}, "Roots", 20);
      assert.equal(pages, 1);
      assert.equal(roots.length, 1);
      assert.equal(roots[0].Id, ROOT);
      assert.equal(roots[0].Name, "Root");
      assert.match(roots[0].Arn, /^arn:aws:organizations::\d{12}:root\/o-[a-z0-9]{10,32}\/r-[0-9a-z]{4,32}$/);
    });

    test("ListAccounts pages through all 200 accounts", async () => {
      const [all, pages] = await paginate(org.paginateListAccounts, {}, "Accounts", 20);
      assert.equal(all.length, COUNT);
      assert.equal(pages, 10);
      assert.equal(new Set(all.map((a) => a.Id)).size, COUNT);
      const seventh = all.find((a) => a.Id === accountId(7));
      assert.equal(seventh.Status, "SUSPENDED");
      const first = all[0];
      assert.equal(first.Id, MANAGEMENT);
      assert.equal(first.Name, "account-0");
      assert.match(first.Arn, /^arn:aws:organizations::\d{12}:account\/o-[a-z0-9]{10,32}\/\d{12}$/);
      assert.ok(first.JoinedTimestamp instanceof Date, "JoinedTimestamp is a timestamp");
      assert.match(first.Email, /^[^\s@]+@[^\s@]+\.[^\s@]+$/);
    });

    test("ListChildren lists each parent's OUs and accounts", async () => {
      const [ous] = await paginate(org.paginateListChildren,
                                   { ParentId: ROOT, ChildType: "ORGANIZATIONAL_UNIT" }, "Children", 1);
      assert.deepEqual(ous.map((c) => c.Id).sort(), [PROD, SANDBOX].sort());
      assert.ok(ous.every((c) => c.Type === "ORGANIZATIONAL_UNIT"));
      const [nested] = await paginate(org.paginateListChildren,
                                      { ParentId: PROD, ChildType: "ORGANIZATIONAL_UNIT" }, "Children", 20);
      assert.deepEqual(nested.map((c) => c.Id), [PROD_WEB]);
      for (const parent of [ROOT, PROD, PROD_WEB, SANDBOX]) {
        const [children, pages] = await paginate(org.paginateListChildren,
                                                 { ParentId: parent, ChildType: "ACCOUNT" }, "Children", 20);
        assert.deepEqual(new Set(children.map((c) => c.Id)), expectedIn(parent), parent);
        assert.equal(pages, 3, parent);
        assert.ok(children.every((c) => c.Type === "ACCOUNT"));
      }
    });

    test("ListAccountsForParent and ListOrganizationalUnitsForParent page", async () => {
      const [inWeb, pages] = await paginate(org.paginateListAccountsForParent,
                                            { ParentId: PROD_WEB }, "Accounts", 7);
      assert.deepEqual(new Set(inWeb.map((a) => a.Id)), expectedIn(PROD_WEB));
      assert.equal(pages, 8);  // 50 accounts, 7 a page
      const [ous] = await paginate(org.paginateListOrganizationalUnitsForParent,
                                   { ParentId: ROOT }, "OrganizationalUnits", 1);
      assert.deepEqual(ous.map((u) => u.Name), ["Prod", "Sandbox"]);
      assert.match(ous[0].Arn, /^arn:aws:organizations::\d{12}:ou\/o-[a-z0-9]{10,32}\/ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/);
    });

    test("DescribeAccount and ListTagsForResource of accounts and OUs", async () => {
      const out = await client.send(new org.DescribeAccountCommand({ AccountId: accountId(4) }));
      assert.equal(out.Account.Name, "account-4");
      assert.equal(out.Account.Status, "ACTIVE");
      const [tags] = await paginate(org.paginateListTagsForResource,
                                    { ResourceId: accountId(4) }, "Tags");
      assert.deepEqual(tags, [{ Key: "env", Value: "prod" }, { Key: "team", Value: "t1" }]);
      const [ouTags] = await paginate(org.paginateListTagsForResource, { ResourceId: PROD }, "Tags");
      assert.deepEqual(ouTags, [{ Key: "cost-center", Value: "42" }]);
    });

    test("MoveAccount takes an account out of an OU", async () => {
      const id = accountId(8);  // in PROD
      const out = await client.send(new org.MoveAccountCommand({
        AccountId: id, SourceParentId: PROD, DestinationParentId: SANDBOX }));
      assert.equal(out.$metadata.httpStatusCode, 200);
      const [prod] = await paginate(org.paginateListAccountsForParent, { ParentId: PROD }, "Accounts", 20);
      assert.ok(!prod.some((a) => a.Id === id), "no longer in Prod");
      const [sandbox] = await paginate(org.paginateListAccountsForParent, { ParentId: SANDBOX }, "Accounts", 20);
      assert.ok(sandbox.some((a) => a.Id === id), "now in Sandbox");
      assertServiceError(await rejection(() => client.send(new org.MoveAccountCommand({
        AccountId: id, SourceParentId: SANDBOX, DestinationParentId: SANDBOX }))),
                         "DuplicateAccountException");
      assertServiceError(await rejection(() => client.send(new org.MoveAccountCommand({
        AccountId: id, SourceParentId: "ou-ab12-nothere1", DestinationParentId: ROOT }))),
                         "SourceParentNotFoundException");
      assertServiceError(await rejection(() => client.send(new org.MoveAccountCommand({
        AccountId: id, SourceParentId: SANDBOX, DestinationParentId: "r-zz99" }))),
                         "DestinationParentNotFoundException");
      // Put it back for the other tests.
      await client.send(new org.MoveAccountCommand({
        AccountId: id, SourceParentId: SANDBOX, DestinationParentId: PROD }));
    });

    test("errors carry AWS's exception types", async () => {
      assertServiceError(await rejection(() => client.send(
        new org.DescribeAccountCommand({ AccountId: "999999999999" }))), "AccountNotFoundException");
      assertServiceError(await rejection(() => client.send(
        new org.ListChildrenCommand({ ParentId: "ou-ab12-nothere1", ChildType: "ACCOUNT" }))),
                         "ParentNotFoundException");
      assertServiceError(await rejection(() => client.send(
        new org.ListTagsForResourceCommand({ ResourceId: "999999999999" }))), "TargetNotFoundException");
      const bad = await rejection(() => client.send(new org.ListAccountsCommand({ MaxResults: 21 })));
      assertServiceError(bad, "InvalidInputException");
      assert.equal(bad.Reason, "MAX_VALUE_EXCEEDED");
      const token = await rejection(() => client.send(
        new org.ListAccountsForParentCommand({ ParentId: PROD, NextToken: "bm90LWEtdG9rZW4=" })));
      assertServiceError(token, "InvalidInputException");
      assert.equal(token.Reason, "INVALID_PAGINATION_TOKEN");
    });

    test("a client signing with another key is refused", async () => {
      const other = new org.OrganizationsClient(clientConfig({
        credentials: { accessKeyId: "AKIDOTHER", secretAccessKey: "other" } }));
      try {
        const e = await rejection(() => other.send(new org.ListRootsCommand({})));
        assert.equal(e.$metadata?.httpStatusCode, 403);
        assert.equal(e.name, "UnrecognizedClientException");
      } finally {
        other.destroy();
      }
    });
  });
}
