#include "notify/aws_channels.h"

#include "aws/json_client.h"
#include "aws/query_client.h"
#include "aws/sigv4.h"
#include "core/crypto.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "notify/render.h"

namespace jit::notify {
namespace {

using nlohmann::json;

// One attempt: the job queue retries.
aws::RetryPolicy OneAttempt() { return aws::RetryPolicy{.max_attempts = 1}; }

// "arn:aws-cn:..." -> "aws-cn"; "aws" when unknown.
std::string PartitionOf(std::string_view region) {
  if (region.rfind("cn-", 0) == 0) return "aws-cn";
  if (region.rfind("us-gov-", 0) == 0) return "aws-us-gov";
  return "aws";
}

// Subject: printable ASCII only (SNS refuses others), at most 100 characters.
std::string SnsSubject(const std::string& title) {
  std::string out;
  for (char c : title) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) out.push_back(c);
    if (out.size() == 100) break;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out.empty() ? "jit notification" : out;
}

class SnsChannel final : public BasicChannel {
 public:
  SnsChannel(ChannelSettings settings, AwsTarget target, std::string topic_arn, std::string format)
      : BasicChannel(std::move(settings)),
        limiter_(aws::NewLimiter(target.clock, 20, 0)),
        client_({.endpoint = target.endpoint,
                 .region = target.region,
                 .signing_name = "sns",
                 .version = "2010-03-31",
                 .timeout = timeout()},
                target.http, target.credentials, *limiter_, target.clock, OneAttempt()),
        topic_arn_(std::move(topic_arn)),
        format_(std::move(format)) {}

  Status Send(const Message& m) override {
    std::vector<std::pair<std::string, std::string>> params = {
        {"TopicArn", topic_arn_},
        {"Message", format_ == "text" ? PlainText(m) : DumpJson(EventJson(m))},
        {"Subject", SnsSubject(Title(m))},
        {"MessageAttributes.entry.1.Name", "event"},
        {"MessageAttributes.entry.1.Value.DataType", "String"},
        {"MessageAttributes.entry.1.Value.StringValue", std::string(EventName(m.event))},
    };
    if (topic_arn_.size() > 5 && topic_arn_.substr(topic_arn_.size() - 5) == ".fifo") {
      params.emplace_back("MessageGroupId", m.request.id.empty() ? "jit" : m.request.id);
      params.emplace_back("MessageDeduplicationId", DeliveryId(m));
    }
    Result<std::string> answer = client_.Call("Publish", params);
    if (!answer.has_value()) return ForJobQueue(answer.error().WithContext("sns " + name()));
    if (!aws::XmlElementText(*answer, "MessageId").has_value()) {
      return UnavailableError("sns " + name() + ": the Publish answer has no MessageId");
    }
    return OkStatus();
  }

 private:
  std::unique_ptr<aws::Limiter> limiter_;
  aws::QueryClient client_;
  const std::string topic_arn_;
  const std::string format_;
};

class EventBridgeChannel final : public BasicChannel {
 public:
  EventBridgeChannel(ChannelSettings settings, AwsTarget target, std::string bus,
                     std::string source)
      : BasicChannel(std::move(settings)),
        limiter_(aws::NewLimiter(target.clock, 20, 0)),
        client_({.endpoint = target.endpoint,
                 .region = target.region,
                 .signing_name = "events",
                 .target_prefix = "AWSEvents",
                 .timeout = timeout()},
                target.http, target.credentials, *limiter_, target.clock, OneAttempt()),
        bus_(std::move(bus)),
        source_(std::move(source)) {}

  Status Send(const Message& m) override {
    json entry = {{"Source", source_},
                  {"DetailType", std::string(EventName(m.event))},
                  {"Detail", DumpJson(EventJson(m))},
                  {"EventBusName", bus_},
                  {"Time", static_cast<double>(ToUnixMillis(m.at)) / 1000.0}};
    if (!m.request.permission_set_arn.empty()) {
      entry["Resources"] = json::array({m.request.permission_set_arn});
    }
    Result<json> answer = client_.Call("PutEvents", {{"Entries", json::array({entry})}});
    if (!answer.has_value())
      return ForJobQueue(answer.error().WithContext("eventbridge " + name()));
    auto failed = answer->find("FailedEntryCount");
    if (failed == answer->end() || !failed->is_number_integer()) {
      return UnavailableError("eventbridge " + name() + ": the answer has no FailedEntryCount");
    }
    if (failed->get<std::int64_t>() == 0) return OkStatus();
    std::string code;
    std::string message;
    if (auto entries = answer->find("Entries"); entries != answer->end() && entries->is_array()) {
      for (const json& e : *entries) {
        if (e.is_object() && e.contains("ErrorCode") && e["ErrorCode"].is_string()) {
          code = e["ErrorCode"].get<std::string>();
          message = e.value("ErrorMessage", "");
          break;
        }
      }
    }
    std::string text =
        "eventbridge " + name() + ": the event was refused: " + code + ": " + message;
    if (code == "ThrottlingException" || code == "InternalFailure" || code == "InternalException") {
      return UnavailableError(text);
    }
    return InvalidArgumentError(text);
  }

 private:
  std::unique_ptr<aws::Limiter> limiter_;
  aws::JsonClient client_;
  const std::string bus_;
  const std::string source_;
};

class SecurityHubChannel final : public BasicChannel {
 public:
  SecurityHubChannel(ChannelSettings settings, AwsTarget target, std::string account_id,
                     std::string sts_endpoint)
      : BasicChannel(std::move(settings)),
        limiter_(aws::NewLimiter(target.clock, 10, 0)),
        client_({.endpoint = target.endpoint,
                 .region = target.region,
                 .signing_name = "securityhub",
                 .target_prefix = "",
                 .timeout = timeout()},
                target.http, target.credentials, *limiter_, target.clock, OneAttempt()),
        sts_({.endpoint = std::move(sts_endpoint),
              .region = target.region,
              .signing_name = "sts",
              .version = "2011-06-15",
              .timeout = timeout()},
             target.http, target.credentials, *limiter_, target.clock, OneAttempt()),
        region_(target.region),
        account_id_(std::move(account_id)) {}

  bool Wants(const Message& m) const override {
    return IsSecurityHubEvent(m.event) && BasicChannel::Wants(m);
  }

  Status Send(const Message& m) override {
    if (!IsSecurityHubEvent(m.event)) {
      return InvalidArgumentError("securityhub " + name() + ": " + std::string(EventName(m.event)) +
                                  " is not a security event");
    }
    Result<std::string> account = AccountId();
    if (!account.has_value())
      return ForJobQueue(account.error().WithContext("securityhub " + name()));
    json finding = SecurityHubFinding(m, region_, *account);
    Result<json> answer = client_.CallRest("BatchImportFindings", "POST", "/findings/import",
                                           {{"Findings", json::array({finding})}});
    if (!answer.has_value())
      return ForJobQueue(answer.error().WithContext("securityhub " + name()));
    auto failed = answer->find("FailedCount");
    if (failed == answer->end() || !failed->is_number_integer()) {
      return UnavailableError("securityhub " + name() + ": the answer has no FailedCount");
    }
    if (failed->get<std::int64_t>() == 0) return OkStatus();
    std::string code;
    std::string message;
    if (auto list = answer->find("FailedFindings"); list != answer->end() && list->is_array()) {
      for (const json& f : *list) {
        if (!f.is_object()) continue;
        code = f.value("ErrorCode", "");
        message = f.value("ErrorMessage", "");
        break;
      }
    }
    std::string text =
        "securityhub " + name() + ": the finding was refused: " + code + ": " + message;
    if (code == "ThrottlingException" || code == "InternalException" ||
        code == "LimitExceededException") {
      return UnavailableError(text);
    }
    return InvalidArgumentError(text);
  }

 private:
  Result<std::string> AccountId() {
    {
      MutexLock lock(&mu_);
      if (!account_id_.empty()) return account_id_;
    }
    JIT_ASSIGN_OR_RETURN(std::string xml, sts_.Call("GetCallerIdentity", {}));
    std::optional<std::string> account = aws::XmlElementText(xml, "Account");
    if (!account || account->size() != 12) {
      return UnavailableError("STS GetCallerIdentity answered without an account id");
    }
    MutexLock lock(&mu_);
    account_id_ = *account;
    return account_id_;
  }

  std::unique_ptr<aws::Limiter> limiter_;
  aws::JsonClient client_;
  aws::QueryClient sts_;
  const std::string region_;
  Mutex mu_;
  std::string account_id_ GUARDED_BY(mu_);  // learnt from STS when not configured
};

}  // namespace

bool IsSecurityHubEvent(Event e) {
  return e == Event::kBreakGlassActivated || e == Event::kDriftDetected ||
         e == Event::kRevocationOverdue || e == Event::kFindingRevoked;
}

json SecurityHubFinding(const Message& m, const std::string& region,
                        const std::string& account_id) {
  const model::Request& r = m.request;
  std::string partition = PartitionOf(region);
  std::string event(EventName(m.event));
  std::string id = !r.id.empty() ? "jit/" + r.id + "/" + event
                   : m.event == Event::kFindingRevoked
                       ? "jit/finding/" + Sha256Hex(m.detail).substr(0, 32)
                       : "jit/drift/" + Sha256Hex(m.detail).substr(0, 32);
  std::string generator;
  std::string type;
  std::string severity = "HIGH";
  std::string description;
  if (m.event == Event::kBreakGlassActivated) {
    generator = "jit/breakglass";
    type = "Unusual Behaviors/User/Break-glass access";
    description = r.requester + " activated break-glass access (" + r.permission_set_name +
                  " on account " + r.account_id + ") without approval. Reason: " + r.reason;
  } else if (m.event == Event::kRevocationOverdue) {
    generator = "jit/revocation-overdue";
    type = "Software and Configuration Checks/AWS Security Best Practices/Overdue revocation";
    description = "The Identity Center assignment of " + r.permission_set_name + " on account " +
                  r.account_id + " for " + r.requester +
                  " should have been removed but is still there; jit keeps trying.";
  } else if (m.event == Event::kFindingRevoked) {
    generator = "jit/finding";
    type = "Unusual Behaviors/User/Access ended on a threat finding";
    severity = "CRITICAL";
    description =
        "A threat finding named a user who held or awaited access through jit; jit "
        "ended all of it.";
  } else {
    generator = "jit/drift";
    type = "Software and Configuration Checks/AWS Security Best Practices/Assignment drift";
    severity = "MEDIUM";
    description = "Identity Center differs from what jit granted.";
  }
  if (!m.detail.empty()) description += " " + m.detail;
  description = OneLine(description, 1024);
  std::string finding_account = r.account_id.empty() ? account_id : r.account_id;
  std::string at = FormatRfc3339(m.at);
  json resources = json::array({{{"Type", "AwsAccount"},
                                 {"Id", "AWS::::Account:" + finding_account},
                                 {"Partition", partition},
                                 {"Region", region}}});
  if (!r.permission_set_arn.empty()) {
    resources.push_back({{"Type", "Other"},
                         {"Id", r.permission_set_arn},
                         {"Partition", partition},
                         {"Region", region},
                         {"Details",
                          {{"Other",
                            {{"jit_request", r.id},
                             {"requester", OneLine(r.requester, 128)},
                             {"permission_set", OneLine(r.permission_set_name, 128)}}}}}});
  }
  json finding = {
      {"SchemaVersion", "2018-10-08"},
      {"Id", id},
      {"ProductArn", "arn:" + partition + ":securityhub:" + region + ":" + account_id +
                         ":product/" + account_id + "/default"},
      {"GeneratorId", generator},
      {"AwsAccountId", finding_account},
      {"Types", json::array({type})},
      {"CreatedAt", at},
      {"UpdatedAt", at},
      {"Severity", {{"Label", severity}}},
      {"Title", OneLine(Title(m), 256)},
      {"Description", description},
      {"Resources", std::move(resources)},
      {"Workflow", {{"Status", "NEW"}}},
      {"RecordState", "ACTIVE"},
      {"ProductFields", {{"jit/event", event}, {"jit/delivery", DeliveryId(m)}}},
  };
  std::string link = RequestLink(m);
  if (!link.empty()) finding["SourceUrl"] = link;
  return finding;
}

std::unique_ptr<Channel> NewSnsChannel(ChannelSettings settings, AwsTarget target,
                                       std::string topic_arn, std::string format) {
  return std::make_unique<SnsChannel>(std::move(settings), std::move(target), std::move(topic_arn),
                                      std::move(format));
}

std::unique_ptr<Channel> NewEventBridgeChannel(ChannelSettings settings, AwsTarget target,
                                               std::string bus, std::string source) {
  return std::make_unique<EventBridgeChannel>(std::move(settings), std::move(target),
                                              std::move(bus), std::move(source));
}

std::unique_ptr<Channel> NewSecurityHubChannel(ChannelSettings settings, AwsTarget target,
                                               std::string account_id, std::string sts_endpoint) {
  return std::make_unique<SecurityHubChannel>(std::move(settings), std::move(target),
                                              std::move(account_id), std::move(sts_endpoint));
}

}  // namespace jit::notify
