// Drives `jit emulator`'s STS AssumeRole and CloudTrail LookupEvents (issue 17, session
// activity) with the official AWS SDK for JavaScript v3: an independent check of the query
// protocol's AssumeRole answer (XML credentials the SDK can sign with, session token included)
// and of awsJson 1.1 LookupEvents (timestamps, paging, errors) as jit's emulator speaks them.
// client-sts is pinned to the version of the other clients; client-cloudtrail to its newest
// release (3.1137.0), as it has none of that number.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/sdk, after scripts/setup.sh)
// Loopback only: the emulator listens on 127.0.0.1 port 0 and every client points at it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { rejection, spawnEmulator } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));

for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";

const clients = ["client-sts", "client-cloudtrail"];
const sdkMissing = clients.some((c) => !existsSync(join(here, "node_modules", "@aws-sdk", c)));
if (sdkMissing) {
  test("AWS SDK for JavaScript (STS, CloudTrail) is installed", () => {
    assert.fail("tests/sdk/node_modules is missing an AWS SDK client: run scripts/setup.sh");
  });
} else if (!process.env.JIT_BINARY) {
  test("JIT_BINARY is set", () => {
    assert.fail("set JIT_BINARY to the jit executable (ctest does this)");
  });
} else {
  await suite();
}

async function suite() {
  const sts = await import("@aws-sdk/client-sts");
  const ct = await import("@aws-sdk/client-cloudtrail");

  const ACCESS_KEY_ID = "AKIDJITEMULATOR";
  const SECRET = "jit-emulator-secret";
  const SANDBOX = "111111111111";
  const PROD = "222222222222";
  const ROLE = (account) => `arn:aws:iam::${account}:role/jit-activity-reader`;

  // Seeded: alice's and bob's events in prod, alice's in sandbox, an hour ago and before.
  const base = Date.now() - 3600_000;
  const at = (minutes) => new Date(base + minutes * 60_000).toISOString();
  const seed = {
    accounts: [{ id: SANDBOX, name: "sandbox" }, { id: PROD, name: "prod" }],
    cloudtrail_events: [
      ...Array.from({ length: 7 }, (_, i) => ({
        account_id: PROD, user_name: "alice", permission_set: "Admin",
        event_name: `Describe${i}`, event_source: "ec2.amazonaws.com", event_time: at(i),
      })),
      { account_id: PROD, user_name: "alice", permission_set: "Admin", event_name: "PutObject",
        event_source: "s3.amazonaws.com", event_time: at(10), read_only: false,
        error_code: "AccessDenied", resources: [{ type: "AWS::S3::Bucket", name: "logs" }] },
      { account_id: PROD, user_name: "bob", permission_set: "Admin", event_name: "GetObject",
        event_source: "s3.amazonaws.com", event_time: at(5) },
      { account_id: SANDBOX, user_name: "alice", permission_set: "Admin",
        event_name: "DeleteBucket", event_source: "s3.amazonaws.com", event_time: at(5) },
    ],
  };

  let emulator;
  let endpoint;
  let emulatorLog = "";
  const folder = mkdtempSync(join(tmpdir(), "jit-sdk-cloudtrail-"));

  function stopEmulator() {
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      emulator.kill("SIGTERM");
    }
  }
  process.once("exit", stopEmulator);

  function clientConfig(credentials) {
    return {
      endpoint,
      region: "us-east-1",
      credentials: credentials ?? { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET },
      maxAttempts: 1,
    };
  }

  async function assume(account) {
    const client = new sts.STSClient(clientConfig());
    try {
      return await client.send(new sts.AssumeRoleCommand({
        RoleArn: ROLE(account), RoleSessionName: "jit-activity", DurationSeconds: 900,
      }));
    } finally {
      client.destroy();
    }
  }

  function trailAs(credentials) {
    return new ct.CloudTrailClient(clientConfig({
      accessKeyId: credentials.AccessKeyId, secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
    }));
  }

  describe("jit emulator STS AssumeRole and CloudTrail LookupEvents with the official AWS SDK", () => {
    before(async () => {
      const seedFile = join(folder, "seed.json");
      writeFileSync(seedFile, JSON.stringify(seed));
      const started = spawnEmulator(["--listen", "127.0.0.1:0", "--seed", seedFile],
                                    (text) => { emulatorLog += text; });
      emulator = started.proc;
      endpoint = await started.url;
    });

    after(() => {
      stopEmulator();
      rmSync(folder, { recursive: true, force: true });
    });

    test("AssumeRole answers credentials and the assumed role's ARN", async () => {
      const out = await assume(PROD);
      assert.match(out.Credentials.AccessKeyId, /^ASIA[A-Z2-7]{16}$/);
      assert.ok(out.Credentials.SecretAccessKey.length >= 40);
      assert.ok(out.Credentials.SessionToken.length > 0);
      assert.ok(out.Credentials.Expiration instanceof Date);
      const left = out.Credentials.Expiration.getTime() - Date.now();
      assert.ok(left > 800_000 && left <= 901_000, `expires in ${left} ms`);
      assert.equal(out.AssumedRoleUser.Arn,
                   `arn:aws:sts::${PROD}:assumed-role/jit-activity-reader/jit-activity`);
      assert.match(out.AssumedRoleUser.AssumedRoleId, /^AROA[0-9A-F]+:jit-activity$/);

      // The temporary credentials sign GetCallerIdentity as the assumed role.
      const asRole = new sts.STSClient(clientConfig({
        accessKeyId: out.Credentials.AccessKeyId,
        secretAccessKey: out.Credentials.SecretAccessKey,
        sessionToken: out.Credentials.SessionToken,
      }));
      const who = await asRole.send(new sts.GetCallerIdentityCommand({}));
      asRole.destroy();
      assert.equal(who.Account, PROD);
      assert.equal(who.Arn, out.AssumedRoleUser.Arn);
    });

    test("AssumeRole of a role in an unknown account is AccessDenied", async () => {
      const client = new sts.STSClient(clientConfig());
      const e = await rejection(() => client.send(new sts.AssumeRoleCommand({
        RoleArn: ROLE("333333333333"), RoleSessionName: "jit-activity",
      })));
      client.destroy();
      assert.equal(e.name, "AccessDenied", e.message);
      assert.equal(e.$metadata.httpStatusCode, 403);
    });

    test("LookupEvents pages through the account's events of a user, newest first", async () => {
      const { Credentials } = await assume(PROD);
      const trail = trailAs(Credentials);
      const names = [];
      const end = new Date();  // the same inputs on every page: the token is bound to them
      let token;
      let pages = 0;
      do {
        const page = await trail.send(new ct.LookupEventsCommand({
          LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "alice" }],
          StartTime: new Date(base - 60_000), EndTime: end, MaxResults: 3, NextToken: token,
        }));
        pages += 1;
        for (const e of page.Events) names.push(e.EventName);
        token = page.NextToken;
        if (pages === 1) {
          const put = page.Events[0];
          assert.equal(put.EventName, "PutObject");
          assert.equal(put.ReadOnly, "false");
          assert.ok(put.EventTime instanceof Date);
          assert.equal(put.EventTime.toISOString(), at(10));
          assert.deepEqual(put.Resources, [{ ResourceType: "AWS::S3::Bucket", ResourceName: "logs" }]);
          const record = JSON.parse(put.CloudTrailEvent);
          assert.equal(record.userIdentity.type, "AssumedRole");
          assert.match(record.userIdentity.arn,
                       new RegExp(`^arn:aws:sts::${PROD}:assumed-role/AWSReservedSSO_Admin_[0-9a-f]{16}/alice$`));
          assert.equal(record.errorCode, "AccessDenied");
          assert.equal(record.recipientAccountId, PROD);
        }
      } while (token);
      trail.destroy();
      assert.equal(pages, 3);
      // Not bob's, not sandbox's.
      assert.deepEqual(names, ["PutObject", "Describe6", "Describe5", "Describe4", "Describe3",
                               "Describe2", "Describe1", "Describe0"]);
    });

    test("LookupEvents refuses what CloudTrail refuses, with its error types", async () => {
      const { Credentials } = await assume(SANDBOX);
      const trail = trailAs(Credentials);
      const tooMany = await rejection(() => trail.send(new ct.LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "alice" },
                           { AttributeKey: "EventName", AttributeValue: "DeleteBucket" }],
      })));
      assert.equal(tooMany.name, "InvalidLookupAttributesException");
      const range = await rejection(() => trail.send(new ct.LookupEventsCommand({
        StartTime: new Date(), EndTime: new Date(Date.now() - 60_000),
      })));
      assert.equal(range.name, "InvalidTimeRangeException");
      const size = await rejection(() => trail.send(new ct.LookupEventsCommand({ MaxResults: 51 })));
      assert.equal(size.name, "InvalidMaxResultsException");
      // This account's key reads this account only.
      const mine = await trail.send(new ct.LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: "Username", AttributeValue: "alice" }],
      }));
      assert.deepEqual(mine.Events.map((e) => e.EventName), ["DeleteBucket"]);
      trail.destroy();
    });
  });
}
