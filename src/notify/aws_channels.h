#pragma once
// The AWS channels: SNS Publish, EventBridge PutEvents and Security Hub BatchImportFindings
// (docs/AWS.md "What jit does on the wire"), each one signed attempt per Send.

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "aws/credentials.h"
#include "aws/http.h"
#include "core/clock.h"
#include "notify/channel_base.h"

namespace jit::notify {

// Where an AWS channel sends and with what. References must outlive the channel.
struct AwsTarget {
  aws::HttpTransport& http;
  aws::CredentialSource& credentials;
  Clock& clock;
  std::string region;    // the signing region
  std::string endpoint;  // "https://sns.us-east-1.amazonaws.com" or an override
};

// SNS Publish of `m` to `topic_arn`: Message is the EventJson text (`format` "json") or the
// PlainText (`format` "text"); Subject is the title cut to 100 printable ASCII characters; a
// String message attribute "event" carries the event name (for subscription filter policies).
// FIFO topics (".fifo") get MessageGroupId = the request id (or "jit") and
// MessageDeduplicationId = the DeliveryId, so a re-delivery is dropped by SNS.
std::unique_ptr<Channel> NewSnsChannel(ChannelSettings settings, AwsTarget target,
                                       std::string topic_arn, std::string format);

// EventBridge PutEvents of one entry {Source: `source`, DetailType: the event name, Detail: the
// EventJson text, EventBusName: `bus`, Time: m.at}. A failed entry is an error: Unavailable
// when its ErrorCode is ThrottlingException or InternalFailure, else InvalidArgument.
std::unique_ptr<Channel> NewEventBridgeChannel(ChannelSettings settings, AwsTarget target,
                                               std::string bus, std::string source);

// The ASFF finding for a security event (break-glass, drift, overdue revocation) imported by
// `account_id` in `region`: Id "jit/<request id>/<event>" (drift without a request:
// "jit/drift/<hash of the detail>"; access ended on a threat finding: "jit/finding/<hash of the
// detail>") so a re-delivery updates the same finding; ProductArn
// arn:<partition>:securityhub:<region>:<account>:product/<account>/default; AwsAccountId the
// request's account (else `account_id`); Severity CRITICAL (finding.revoked), HIGH
// (break-glass, overdue) or MEDIUM (drift);
// Resources the account and the permission set; CreatedAt = UpdatedAt = m.at.
nlohmann::json SecurityHubFinding(const Message& m, const std::string& region,
                                  const std::string& account_id);
// True for the events Security Hub takes.
bool IsSecurityHubEvent(Event e);

// Security Hub BatchImportFindings of SecurityHubFinding(m). `account_id` empty: asked of STS
// GetCallerIdentity (at `sts_endpoint`) on first use and kept. A failed finding is an error
// (InvalidArgument, or Unavailable for throttling and internal errors). Wants only the security
// events, whatever the filter says.
std::unique_ptr<Channel> NewSecurityHubChannel(ChannelSettings settings, AwsTarget target,
                                               std::string account_id, std::string sts_endpoint);

}  // namespace jit::notify
