// Drives the notification services of `jit emulator` (SNS Publish, EventBridge PutEvents,
// Security Hub BatchImportFindings) and identitystore DescribeGroup with the official AWS SDK for
// JavaScript v3: an independent check of the query protocol (SNS, XML), awsJson 1.1 (EventBridge)
// and REST-JSON (Security Hub) as jit's emulator speaks them. client-sns and client-eventbridge
// are pinned to the version of the other clients; client-securityhub to its newest release
// (3.1108.0), as it has none of that number.
//
// Run: JIT_BINARY=/path/to/jit node --test   (from tests/sdk, after scripts/setup.sh)
// Loopback only: the emulator listens on 127.0.0.1 port 0 and every client points at it.

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { rejection, spawnEmulator } from "./support.mjs";

const here = dirname(fileURLToPath(import.meta.url));

for (const k of Object.keys(process.env)) {
  if (k.startsWith("AWS_")) delete process.env[k];
}
process.env.AWS_CONFIG_FILE = "/dev/null";
process.env.AWS_SHARED_CREDENTIALS_FILE = "/dev/null";

const clients = ["client-sns", "client-eventbridge", "client-securityhub", "client-identitystore"];
const sdkMissing = clients.some((c) => !existsSync(join(here, "node_modules", "@aws-sdk", c)));
if (sdkMissing) {
  test("AWS SDK for JavaScript (SNS, EventBridge, Security Hub) is installed", () => {
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
  const sns = await import("@aws-sdk/client-sns");
  const eb = await import("@aws-sdk/client-eventbridge");
  const hub = await import("@aws-sdk/client-securityhub");
  const ids = await import("@aws-sdk/client-identitystore");

  const ACCESS_KEY_ID = "AKIDJITEMULATOR";
  const SECRET = "jit-emulator-secret";
  const TOPIC = "arn:aws:sns:us-east-1:111111111111:jit";
  const PRODUCT = "arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default";
  const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

  let emulator;
  let endpoint;
  let emulatorLog = "";

  function stopEmulator() {
    if (emulator && emulator.exitCode === null && emulator.signalCode === null) {
      emulator.kill("SIGTERM");
    }
  }
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
  const wrongSecret = { credentials: { accessKeyId: ACCESS_KEY_ID, secretAccessKey: "nope" } };

  async function startEmulator() {
    const started = spawnEmulator(["--listen", "127.0.0.1:0"], (text) => { emulatorLog += text; });
    emulator = started.proc;
    return await started.url;
  }

  function assertServiceError(e, names, status) {
    const list = Array.isArray(names) ? names : [names];
    assert.ok(list.includes(e.name), `error name ${e.name} (${e.message}) is not ${list.join(" or ")}`);
    assert.equal(e.$metadata?.httpStatusCode, status, `HTTP status for ${e.name}`);
    assert.equal(e.$fault, status >= 500 ? "server" : "client");
    assert.ok(typeof e.message === "string" && e.message.length > 0, "error has a message");
    assert.ok(e.$metadata.requestId, "error carries a request id");
  }

  async function state() {
    const res = await fetch(`${endpoint}/_emulator/state`);
    assert.equal(res.status, 200, "GET /_emulator/state");
    return await res.json();
  }

  function finding(id, overrides = {}) {
    return {
      SchemaVersion: "2018-10-08",
      Id: id,
      ProductArn: PRODUCT,
      GeneratorId: "jit/breakglass",
      AwsAccountId: "222222222222",
      Types: ["Unusual Behaviors/User/Break-glass access"],
      CreatedAt: "2026-01-01T00:00:00.000Z",
      UpdatedAt: "2026-01-01T00:00:00.000Z",
      Severity: { Label: "HIGH" },
      Title: "BREAK-GLASS: carol activated BreakGlass on prod",
      Description: "carol used break-glass",
      Resources: [{ Type: "AwsAccount", Id: "AWS::::Account:222222222222" }],
      ...overrides,
    };
  }

  describe("jit emulator notification services with the official AWS SDK", () => {
    let snsClient, ebClient, hubClient, idsClient;

    before(async () => {
      endpoint = await startEmulator();
      snsClient = new sns.SNSClient(clientConfig());
      ebClient = new eb.EventBridgeClient(clientConfig());
      hubClient = new hub.SecurityHubClient(clientConfig());
      idsClient = new ids.IdentitystoreClient(clientConfig());
    });

    after(() => {
      for (const c of [snsClient, ebClient, hubClient, idsClient]) c?.destroy();
      stopEmulator();
    });

    test("SNS Publish answers a MessageId and the emulator records the message", async () => {
      const out = await snsClient.send(new sns.PublishCommand({
        TopicArn: TOPIC,
        Message: JSON.stringify({ event: "request.created", note: "ünïcode & <xml>" }),
        Subject: "Approval needed",
        MessageAttributes: { event: { DataType: "String", StringValue: "request.created" } },
      }));
      assert.match(out.MessageId, UUID_RE);
      assert.ok(out.$metadata.requestId);
      const doc = await state();
      const got = doc.sns.find((m) => m.MessageId === out.MessageId);
      assert.ok(got, `state lists the message: ${JSON.stringify(doc.sns)}`);
      assert.equal(got.TopicArn, TOPIC);
      assert.deepEqual(JSON.parse(got.Message), { event: "request.created", note: "ünïcode & <xml>" });
      assert.equal(got.Subject, "Approval needed");
      assert.deepEqual(got.MessageAttributes.event, { DataType: "String", StringValue: "request.created" });
    });

    test("SNS refuses a malformed topic ARN, a missing message and FIFO without a group", async () => {
      const e1 = await rejection(() => snsClient.send(new sns.PublishCommand({
        TopicArn: "arn:aws:sns:us-east-1:123:jit", Message: "x",
      })));
      assertServiceError(e1, "InvalidParameterException", 400);
      assert.ok(e1 instanceof sns.InvalidParameterException);
      const e2 = await rejection(() => snsClient.send(new sns.PublishCommand({
        TopicArn: `${TOPIC}.fifo`, Message: "x",
      })));
      assertServiceError(e2, "InvalidParameterException", 400);
      const e3 = await rejection(() => snsClient.send(new sns.PublishCommand({
        TopicArn: TOPIC, Message: "x", Subject: "a\nb",
      })));
      assertServiceError(e3, "InvalidParameterException", 400);
    });

    test("SNS refuses a wrong secret (403)", async () => {
      const bad = new sns.SNSClient(clientConfig(wrongSecret));
      try {
        const e = await rejection(() => bad.send(new sns.PublishCommand({ TopicArn: TOPIC, Message: "x" })));
        assertServiceError(e, ["SignatureDoesNotMatch", "InvalidClientTokenId"], 403);
      } finally {
        bad.destroy();
      }
    });

    test("EventBridge PutEvents records entries and reports the failed ones", async () => {
      const out = await ebClient.send(new eb.PutEventsCommand({
        Entries: [
          { Source: "jit", DetailType: "grant.activated", Detail: JSON.stringify({ event: "grant.activated" }),
            EventBusName: "jit-events", Time: new Date("2026-01-01T00:00:00Z") },
          { Source: "jit", DetailType: "grant.ended" },
          { Source: "jit", DetailType: "grant.ended", Detail: "[1]" },
        ],
      }));
      assert.equal(out.FailedEntryCount, 2);
      assert.equal(out.Entries.length, 3);
      assert.match(out.Entries[0].EventId, UUID_RE);
      assert.equal(out.Entries[1].ErrorCode, "InvalidArgument");
      assert.equal(out.Entries[2].ErrorCode, "MalformedDetail");
      const doc = await state();
      const got = doc.eventbridge.find((e) => e.EventId === out.Entries[0].EventId);
      assert.ok(got, `state lists the event: ${JSON.stringify(doc.eventbridge)}`);
      assert.equal(got.EventBusName, "jit-events");
      assert.equal(got.DetailType, "grant.activated");
      assert.deepEqual(got.Detail, { event: "grant.activated" });
      assert.equal(got.Time, 1767225600);
    });

    test("EventBridge refuses no entries and more than 10 (ValidationException, 400)", async () => {
      const e1 = await rejection(() => ebClient.send(new eb.PutEventsCommand({ Entries: [] })));
      assertServiceError(e1, "ValidationException", 400);
      const entry = { Source: "jit", DetailType: "x", Detail: "{}" };
      const e2 = await rejection(() => ebClient.send(new eb.PutEventsCommand({
        Entries: Array.from({ length: 11 }, () => entry),
      })));
      assertServiceError(e2, "ValidationException", 400);
      const bad = new eb.EventBridgeClient(clientConfig(wrongSecret));
      try {
        const e3 = await rejection(() => bad.send(new eb.PutEventsCommand({ Entries: [entry] })));
        assertServiceError(e3, ["InvalidSignatureException", "UnrecognizedClientException"], 403);
      } finally {
        bad.destroy();
      }
    });

    test("Security Hub BatchImportFindings imports ASFF and updates by Id", async () => {
      const out = await hubClient.send(new hub.BatchImportFindingsCommand({
        Findings: [finding("jit/req_1/breakglass.activated"),
                   finding("jit/req_2/breakglass.activated", { Severity: { Label: "SEVERE" } })],
      }));
      assert.equal(out.SuccessCount, 1);
      assert.equal(out.FailedCount, 1);
      assert.equal(out.FailedFindings[0].Id, "jit/req_2/breakglass.activated");
      assert.ok(out.FailedFindings[0].ErrorMessage.includes("Severity"));
      await hubClient.send(new hub.BatchImportFindingsCommand({
        Findings: [finding("jit/req_1/breakglass.activated", { UpdatedAt: "2026-01-01T00:05:00.000Z" })],
      }));
      const doc = await state();
      const got = doc.securityhub.filter((f) => f.Id === "jit/req_1/breakglass.activated");
      assert.equal(got.length, 1, "one finding per Id");
      assert.equal(got[0].UpdatedAt, "2026-01-01T00:05:00.000Z");
      assert.equal(got[0].ProductArn, PRODUCT);
    });

    test("Security Hub refuses more than 100 findings and a wrong secret", async () => {
      const many = Array.from({ length: 101 }, (_, i) => finding(`jit/${i}`));
      const e1 = await rejection(() => hubClient.send(new hub.BatchImportFindingsCommand({ Findings: many })));
      assertServiceError(e1, "InvalidInputException", 400);
      assert.ok(e1 instanceof hub.InvalidInputException);
      const bad = new hub.SecurityHubClient(clientConfig(wrongSecret));
      try {
        const e2 = await rejection(() => bad.send(new hub.BatchImportFindingsCommand({ Findings: [finding("jit/x")] })));
        assertServiceError(e2, ["InvalidSignatureException", "UnrecognizedClientException"], 403);
      } finally {
        bad.destroy();
      }
    });

    test("identitystore DescribeGroup names a group, and an unknown one is ResourceNotFoundException", async () => {
      const groupId = (await idsClient.send(new ids.GetGroupIdCommand({
        IdentityStoreId: "d-1111111111",
        AlternateIdentifier: { UniqueAttribute: { AttributePath: "displayName", AttributeValue: "approvers" } },
      }))).GroupId;
      const out = await idsClient.send(new ids.DescribeGroupCommand({ IdentityStoreId: "d-1111111111", GroupId: groupId }));
      assert.equal(out.DisplayName, "approvers");
      assert.equal(out.GroupId, groupId);
      const e = await rejection(() => idsClient.send(new ids.DescribeGroupCommand({
        IdentityStoreId: "d-1111111111", GroupId: "00000000-0000-4000-8000-000000000999",
      })));
      assertServiceError(e, "ResourceNotFoundException", 400);
    });
  });
}
