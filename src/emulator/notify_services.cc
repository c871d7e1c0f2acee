#include "emulator/notify_services.h"

#include <algorithm>
#include <regex>
#include <set>

#include "core/form.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "emulator/service.h"
#include "emulator/wire_text.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

constexpr std::string_view kSnsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/";
constexpr std::string_view kStsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr std::size_t kMaxSnsMessageBytes = std::size_t{256} * 1024;
constexpr std::size_t kMaxPutEventsBytes = std::size_t{256} * 1024;
constexpr std::size_t kMaxRecorded = 10000;

using wire::Dump;
using wire::XmlEscape;

WireResponse Xml(std::string body) {
  return {200, "text/xml", "<?xml version=\"1.0\"?>\n" + std::move(body), ""};
}

WireResponse JsonAnswer(const json& body, std::string_view content_type) {
  return {200, std::string(content_type), Dump(body), ""};
}

WireResponse JsonError(int status, std::string_view type, std::string_view message) {
  return {status, "application/x-amz-json-1.1", Dump(json{{"__type", type}, {"message", message}}),
          std::string(type)};
}

std::string Param(const std::map<std::string, std::string>& p, const std::string& key) {
  auto it = p.find(key);
  return it == p.end() ? std::string() : it->second;
}

bool ValidUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

bool IsRfc3339(const json& v) { return v.is_string() && ParseRfc3339(v.get<std::string>()).ok(); }

// The first problem of one ASFF finding, as Security Hub words it; "" when it is fine.
std::string FindingProblem(const json& f, const std::string& region,
                           const std::string& account_id) {
  auto required_string = [&](const char* key, std::size_t max) -> std::string {
    auto it = f.find(key);
    if (it == f.end() || it->is_null()) return std::string("data.") + key + " is required";
    if (!it->is_string()) return std::string("data.") + key + " should be string";
    const auto& s = it->get_ref<const std::string&>();
    if (s.empty() || s.size() > max) {
      return std::string("data.") + key + " should have 1 to " + std::to_string(max) +
             " characters";
    }
    return "";
  };
  if (!f.is_object()) return "data should be object";
  for (auto [key, max] : {std::pair<const char*, std::size_t>{"SchemaVersion", 32},
                          {"Id", 512},
                          {"ProductArn", 2048},
                          {"GeneratorId", 512},
                          {"AwsAccountId", 12},
                          {"CreatedAt", 64},
                          {"UpdatedAt", 64},
                          {"Title", 256},
                          {"Description", 1024}}) {
    if (std::string p = required_string(key, max); !p.empty()) return p;
  }
  if (f["SchemaVersion"] != "2018-10-08") return "data.SchemaVersion should be 2018-10-08";
  static const std::regex kAccount("[0-9]{12}");
  if (!std::regex_match(f["AwsAccountId"].get<std::string>(), kAccount)) {
    return "data.AwsAccountId should be 12 digits";
  }
  if (!IsRfc3339(f["CreatedAt"])) return "data.CreatedAt should be an ISO 8601 date-time";
  if (!IsRfc3339(f["UpdatedAt"])) return "data.UpdatedAt should be an ISO 8601 date-time";
  std::string product =
      "arn:aws:securityhub:" + region + ":" + account_id + ":product/" + account_id + "/default";
  if (f["ProductArn"] != product) {
    return "data.ProductArn " + f["ProductArn"].get<std::string>() +
           " is not a product this account may import into (expected " + product + ")";
  }
  auto severity = f.find("Severity");
  if (severity == f.end() || !severity->is_object()) return "data.Severity is required";
  static const std::set<std::string> kLabels = {"INFORMATIONAL", "LOW", "MEDIUM", "HIGH",
                                                "CRITICAL"};
  auto label = severity->find("Label");
  if (label == severity->end() || !label->is_string() ||
      !kLabels.count(label->get<std::string>())) {
    return "data.Severity.Label should be one of INFORMATIONAL, LOW, MEDIUM, HIGH, CRITICAL";
  }
  auto types = f.find("Types");
  if (types == f.end() || !types->is_array() || types->empty() || types->size() > 50) {
    return "data.Types should be an array of 1 to 50 strings";
  }
  static const std::regex kType(
      "(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data "
      "Identifications)(/[^/]+){0,2}");
  for (const json& t : *types) {
    if (!t.is_string() || !std::regex_match(t.get<std::string>(), kType)) {
      return "data.Types should be namespace/category/classifier with a known namespace";
    }
  }
  auto resources = f.find("Resources");
  if (resources == f.end() || !resources->is_array() || resources->empty() ||
      resources->size() > 32) {
    return "data.Resources should be an array of 1 to 32 resources";
  }
  for (const json& r : *resources) {
    if (!r.is_object() || !r.contains("Type") || !r["Type"].is_string() ||
        r["Type"].get<std::string>().empty() || !r.contains("Id") || !r["Id"].is_string() ||
        r["Id"].get<std::string>().empty()) {
      return "data.Resources[] should have a Type and an Id";
    }
  }
  return "";
}

}  // namespace

WireResponse QueryError(int status, std::string_view code, std::string_view message) {
  std::string type = status >= 500 ? "Receiver" : "Sender";
  return {status, "text/xml",
          "<ErrorResponse xmlns=\"" + std::string(kSnsNamespace) + "\">\n  <Error>\n    <Type>" +
              type + "</Type>\n    <Code>" + XmlEscape(code) + "</Code>\n    <Message>" +
              XmlEscape(message) + "</Message>\n  </Error>\n  <RequestId>" + NewUuid() +
              "</RequestId>\n</ErrorResponse>\n",
          ""};
}

WireResponse RestJsonError(int status, std::string_view type, std::string_view message) {
  return {status, "application/json", Dump(json{{"Code", type}, {"Message", message}}),
          std::string(type)};
}

NotifyServices::NotifyServices(std::string region, std::string account_id,
                               std::string access_key_id, Clock& clock)
    : region_(std::move(region)),
      account_id_(std::move(account_id)),
      access_key_id_(std::move(access_key_id)),
      clock_(clock) {}

void NotifyServices::SetFaults(const Faults& faults) {
  MutexLock lock(&mu_);
  faults_ = faults;
  rng_state_ = faults.seed ^ 0x5bd1e995ULL;
}

void NotifyServices::Reset() {
  MutexLock lock(&mu_);
  faults_ = Faults{};
  sns_ = json::array();
  events_ = json::array();
  findings_.clear();
  fifo_seen_.clear();
}

json NotifyServices::State() const {
  MutexLock lock(&mu_);
  json findings = json::array();
  for (const json& f : findings_) findings.push_back(f);
  return {{"sns", sns_}, {"eventbridge", events_}, {"securityhub", std::move(findings)}};
}

int NotifyServices::FaultLocked() {
  if (faults_.throttle_rate <= 0 && faults_.server_error_rate <= 0) return 0;
  std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  double u = static_cast<double>(z >> 11) * 0x1.0p-53;
  if (u < faults_.throttle_rate) return 1;
  if (u < faults_.throttle_rate + faults_.server_error_rate) return 2;
  return 0;
}

WireResponse NotifyServices::HandleQuery(std::string_view service, std::string_view form_body) {
  std::optional<std::map<std::string, std::string>> params = ParseForm(form_body);
  if (!params) return QueryError(400, "MalformedQueryString", "The query string is malformed");
  std::string action = Param(*params, "Action");
  std::string version = Param(*params, "Version");
  if (service == "sts") {
    if (action != "GetCallerIdentity") {
      return QueryError(400, "InvalidAction", "Could not find operation " + action.substr(0, 64));
    }
    if (version != "2011-06-15") {
      return QueryError(
          400, "InvalidAction",
          "Could not find operation " + action + " for version " + version.substr(0, 32));
    }
    return Xml("<GetCallerIdentityResponse xmlns=\"" + std::string(kStsNamespace) +
               "\">\n  <GetCallerIdentityResult>\n    <Arn>arn:aws:iam::" + account_id_ +
               ":user/jit-emulator</Arn>\n    <UserId>" + XmlEscape(access_key_id_) +
               "</UserId>\n    <Account>" + account_id_ +
               "</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    "
               "<RequestId>" +
               NewUuid() + "</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n");
  }
  if (action != "Publish") {
    return QueryError(400, "InvalidAction",
                      "The action " + action.substr(0, 64) + " is not valid for this endpoint.");
  }
  if (version != "2010-03-31") {
    return QueryError(400, "InvalidAction",
                      "Could not find operation Publish for version " + version.substr(0, 32));
  }
  {
    MutexLock lock(&mu_);
    int fault = FaultLocked();
    if (fault == 1) return QueryError(400, "Throttled", "Rate exceeded");
    if (fault == 2) return QueryError(500, "InternalError", "Internal error (emulated)");
  }
  return Publish(*params);
}

WireResponse NotifyServices::Publish(const std::map<std::string, std::string>& p) {
  std::string topic = Param(p, "TopicArn");
  std::string target = Param(p, "TargetArn");
  std::string phone = Param(p, "PhoneNumber");
  if (topic.empty() && target.empty() && phone.empty()) {
    return QueryError(400, "InvalidParameter",
                      "Invalid parameter: TopicArn or TargetArn Reason: no value for required "
                      "parameter");
  }
  if (topic.empty()) {
    return QueryError(400, "InvalidParameter",
                      "Invalid parameter: the emulator publishes to topics only");
  }
  static const std::regex kTopic("arn:aws:sns:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9_-]{1,256})");
  static const std::regex kFifoTopic(
      "arn:aws:sns:([a-z0-9-]+):([0-9]{12}):([A-Za-z0-9_-]{1,251}\\.fifo)");
  std::smatch m;
  bool fifo = std::regex_match(topic, m, kFifoTopic);
  if (!fifo && !std::regex_match(topic, m, kTopic)) {
    return QueryError(400, "InvalidParameter", "Invalid parameter: TopicArn");
  }
  if (m[1].str() != region_) {
    return QueryError(400, "InvalidParameter",
                      "Invalid parameter: TopicArn Reason: the topic is in " + m[1].str() +
                          ", this endpoint serves " + region_);
  }
  auto message_it = p.find("Message");
  if (message_it == p.end()) {
    return QueryError(400, "ValidationError",
                      "1 validation error detected: Value null at 'message' failed to satisfy "
                      "constraint: Member must not be null");
  }
  const std::string& message = message_it->second;
  if (message.empty()) {
    return QueryError(400, "InvalidParameter", "Invalid parameter: Empty message");
  }
  if (message.size() > kMaxSnsMessageBytes || !ValidUtf8(message)) {
    return QueryError(400, "InvalidParameter",
                      "Invalid parameter: Message too long or not valid UTF-8");
  }
  json record = {{"TopicArn", topic}, {"Message", message}};
  if (auto s = p.find("Subject"); s != p.end()) {
    const std::string& subject = s->second;
    bool printable = std::all_of(subject.begin(), subject.end(), [](char c) {
      return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f;
    });
    if (subject.empty() || subject.size() > 100 || !printable || subject.front() == ' ') {
      return QueryError(400, "InvalidParameter",
                        "Invalid parameter: Subject Reason: must be 1 to 100 printable ASCII "
                        "characters without line breaks and not start with a space");
    }
    record["Subject"] = subject;
  }
  json attributes = json::object();
  for (int i = 1; i <= 11; ++i) {
    std::string base = "MessageAttributes.entry." + std::to_string(i) + ".";
    std::string name = Param(p, base + "Name");
    if (name.empty()) break;
    if (i == 11) {
      return QueryError(400, "InvalidParameter",
                        "Invalid parameter: MessageAttributes: at most 10 attributes");
    }
    std::string type = Param(p, base + "Value.DataType");
    if (type != "String" && type != "Number" && type != "String.Array" && type != "Binary") {
      return QueryError(
          400, "ParameterValueInvalid",
          "The message attribute '" + name + "' has an invalid message attribute type");
    }
    std::string value = Param(p, base + "Value.StringValue");
    if (value.empty() && type != "Binary") {
      return QueryError(400, "ParameterValueInvalid",
                        "The message attribute '" + name +
                            "' must contain non-empty message "
                            "attribute value");
    }
    attributes[name] = {{"DataType", type}, {"StringValue", value}};
  }
  if (!attributes.empty()) record["MessageAttributes"] = std::move(attributes);
  std::string group = Param(p, "MessageGroupId");
  std::string dedup = Param(p, "MessageDeduplicationId");
  if (fifo) {
    if (group.empty()) {
      return QueryError(400, "InvalidParameter",
                        "Invalid parameter: The MessageGroupId parameter is required for FIFO "
                        "topics");
    }
    if (dedup.empty()) {
      return QueryError(400, "InvalidParameter",
                        "Invalid parameter: The topic should either have ContentBasedDeduplication "
                        "enabled or MessageDeduplicationId provided explicitly");
    }
    record["MessageGroupId"] = group;
    record["MessageDeduplicationId"] = dedup;
  } else if (!group.empty() || !dedup.empty()) {
    return QueryError(400, "InvalidParameter",
                      "Invalid parameter: MessageGroupId and MessageDeduplicationId are for FIFO "
                      "topics only");
  }
  MutexLock lock(&mu_);
  std::string message_id = NewUuid();
  Time now = clock_.Now();
  if (fifo) {
    // SNS drops a message whose deduplication id it saw within five minutes.
    auto key = std::make_pair(topic, dedup);
    auto seen = fifo_seen_.find(key);
    if (seen != fifo_seen_.end() && now - seen->second.second < std::chrono::minutes(5)) {
      message_id = seen->second.first;
    } else {
      fifo_seen_[key] = {message_id, now};
      record["MessageId"] = message_id;
      if (sns_.size() < kMaxRecorded) sns_.push_back(record);
    }
  } else {
    record["MessageId"] = message_id;
    if (sns_.size() < kMaxRecorded) sns_.push_back(std::move(record));
  }
  return Xml("<PublishResponse xmlns=\"" + std::string(kSnsNamespace) +
             "\">\n  <PublishResult>\n    <MessageId>" + message_id +
             "</MessageId>\n  </PublishResult>\n  <ResponseMetadata>\n    <RequestId>" + NewUuid() +
             "</RequestId>\n  </ResponseMetadata>\n</PublishResponse>\n");
}

WireResponse NotifyServices::HandleEvents(std::string_view operation, const json& input) {
  if (operation != "PutEvents") {
    return JsonError(400, "UnknownOperationException",
                     "Unknown operation AWSEvents." + std::string(operation.substr(0, 100)));
  }
  {
    MutexLock lock(&mu_);
    int fault = FaultLocked();
    if (fault == 1) return JsonError(400, "ThrottlingException", "Rate exceeded");
    if (fault == 2) return JsonError(500, "InternalException", "Internal error (emulated)");
  }
  return PutEvents(input);
}

WireResponse NotifyServices::PutEvents(const json& input) {
  auto entries = input.find("Entries");
  if (entries == input.end() || entries->is_null()) {
    return JsonError(400, "ValidationException",
                     "1 validation error detected: Value null at 'entries' failed to satisfy "
                     "constraint: Member must not be null");
  }
  if (!entries->is_array() || entries->empty() || entries->size() > 10) {
    return JsonError(400, "ValidationException",
                     "1 validation error detected: Value at 'entries' failed to satisfy "
                     "constraint: Member must have length between 1 and 10");
  }
  if (Dump(*entries).size() > kMaxPutEventsBytes) {
    return JsonError(400, "ValidationException",
                     "Total size of the entries in the request is over the limit.");
  }
  static const std::regex kBus(
      "[/\\.\\-_A-Za-z0-9]{1,256}|arn:aws[\\w-]*:events:[a-z0-9-]+:\\d{12}:event-bus/"
      "[/\\.\\-_A-Za-z0-9]+");
  json results = json::array();
  json accepted = json::array();
  int failed = 0;
  for (const json& e : *entries) {
    auto fail = [&](const char* code, const std::string& message) {
      results.push_back({{"ErrorCode", code}, {"ErrorMessage", message}});
      ++failed;
    };
    if (!e.is_object()) {
      return JsonError(400, "SerializationException", "An entry is not an object");
    }
    auto text = [&](const char* key) -> std::optional<std::string> {
      auto it = e.find(key);
      if (it == e.end() || !it->is_string() || it->get<std::string>().empty()) return std::nullopt;
      return it->get<std::string>();
    };
    std::optional<std::string> source = text("Source");
    std::optional<std::string> detail_type = text("DetailType");
    std::optional<std::string> detail = text("Detail");
    std::string bus = text("EventBusName").value_or("default");
    if (!source) {
      fail("InvalidArgument",
           "Parameter Source is not valid. Reason: Source is a required "
           "argument.");
      continue;
    }
    if (source->size() > 256 || source->rfind("aws.", 0) == 0) {
      fail("InvalidArgument",
           "Parameter Source is not valid. Reason: Source must not start with "
           "aws. and must be at most 256 characters.");
      continue;
    }
    if (!detail_type) {
      fail("InvalidArgument",
           "Parameter DetailType is not valid. Reason: DetailType is a "
           "required argument.");
      continue;
    }
    if (detail_type->size() > 128) {
      fail("InvalidArgument", "Parameter DetailType is not valid. Reason: longer than 128.");
      continue;
    }
    if (!detail) {
      fail("InvalidArgument",
           "Parameter Detail is not valid. Reason: Detail is a required "
           "argument.");
      continue;
    }
    json parsed = json::parse(*detail, nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded() || !parsed.is_object()) {
      fail("MalformedDetail", "Detail is malformed.");
      continue;
    }
    if (bus.size() > 1600 || !std::regex_match(bus, kBus)) {
      return JsonError(400, "ValidationException",
                       "1 validation error detected: Value '" + bus.substr(0, 100) +
                           "' at 'entries.member.eventBusName' failed to satisfy constraint");
    }
    json resources = json::array();
    if (auto r = e.find("Resources"); r != e.end() && !r->is_null()) {
      if (!r->is_array()) return JsonError(400, "SerializationException", "Resources is a list");
      bool arns = std::all_of(r->begin(), r->end(), [](const json& arn) {
        return arn.is_string() && arn.get<std::string>().rfind("arn:", 0) == 0;
      });
      if (!arns) {
        fail("InvalidArgument", "Parameter Resources is not valid. Reason: not an ARN.");
        continue;
      }
      resources = *r;
    }
    {
      double t = static_cast<double>(ToUnixMillis(clock_.Now())) / 1000.0;
      if (auto time = e.find("Time"); time != e.end() && !time->is_null()) {
        if (!time->is_number()) {
          return JsonError(400, "SerializationException", "Time must be a timestamp");
        }
        t = time->get<double>();
      }
      std::string id = NewUuid();
      results.push_back({{"EventId", id}});
      accepted.push_back({{"EventId", id},
                          {"EventBusName", bus},
                          {"Source", *source},
                          {"DetailType", *detail_type},
                          {"Detail", std::move(parsed)},
                          {"Time", t},
                          {"Resources", std::move(resources)}});
    }
  }
  {
    MutexLock lock(&mu_);
    for (json& a : accepted) {
      if (events_.size() < kMaxRecorded) events_.push_back(std::move(a));
    }
  }
  return JsonAnswer({{"FailedEntryCount", failed}, {"Entries", std::move(results)}},
                    "application/x-amz-json-1.1");
}

WireResponse NotifyServices::HandleFindings(std::string_view body) {
  json input = json::parse(body.empty() ? std::string_view("{}") : body, nullptr,
                           /*allow_exceptions=*/false);
  if (input.is_discarded() || !input.is_object()) {
    return RestJsonError(400, "InvalidInputException", "The request body is not a JSON object");
  }
  auto findings = input.find("Findings");
  if (findings == input.end() || !findings->is_array()) {
    return RestJsonError(400, "InvalidInputException", "Findings is required and must be a list");
  }
  if (findings->empty() || findings->size() > 100) {
    return RestJsonError(
        400, "InvalidInputException",
        "Findings must hold 1 to 100 findings, not " + std::to_string(findings->size()));
  }
  MutexLock lock(&mu_);
  int fault = FaultLocked();
  if (fault == 1) return RestJsonError(429, "LimitExceededException", "Rate exceeded");
  if (fault == 2) return RestJsonError(500, "InternalException", "Internal error (emulated)");
  json failed = json::array();
  int success = 0;
  for (const json& f : *findings) {
    std::string problem = FindingProblem(f, region_, account_id_);
    if (!problem.empty()) {
      std::string id = f.is_object() && f.contains("Id") && f["Id"].is_string()
                           ? f["Id"].get<std::string>()
                           : "";
      failed.push_back({{"Id", id},
                        {"ErrorCode", "InvalidInput"},
                        {"ErrorMessage",
                         "Finding does not adhere to Amazon Security Finding Format. " + problem}});
      continue;
    }
    ++success;
    // The same Id (and product) updates the finding that is there.
    auto same = std::find_if(findings_.begin(), findings_.end(), [&](const json& old) {
      return old["Id"] == f["Id"] && old["ProductArn"] == f["ProductArn"];
    });
    if (same != findings_.end()) {
      *same = f;
    } else if (findings_.size() < kMaxRecorded) {
      findings_.push_back(f);
    }
  }
  return JsonAnswer({{"FailedCount", failed.size()},
                     {"SuccessCount", success},
                     {"FailedFindings", std::move(failed)}},
                    "application/json");
}

}  // namespace jit::emulator
