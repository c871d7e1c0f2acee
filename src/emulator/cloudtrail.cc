#include "emulator/cloudtrail.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <regex>

#include "core/crypto.h"
#include "core/encoding.h"
#include "core/mutex.h"
#include "core/time_format.h"
#include "emulator/service.h"
#include "emulator/wire_text.h"

namespace jit::emulator {
namespace {

using nlohmann::json;

constexpr std::string_view kStsXmlns = "https://sts.amazonaws.com/doc/2011-06-15/";
constexpr std::size_t kMaxEvents = 10000;
constexpr std::size_t kMaxIssuedKeys = 10000;
constexpr int kMaxLookupResults = 50;
// CloudTrail keeps 90 days of management events.
constexpr auto kRetention = std::chrono::hours(24 * 90);

WireResponse CtJsonError(int status, std::string_view type, std::string_view message) {
  return {status, "application/x-amz-json-1.1",
          wire::Dump(json{{"__type", type}, {"message", message}}), std::string(type)};
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// RFC 3339 to the second, as CloudTrail writes eventTime and STS Expiration.
std::string SecondsRfc3339(Time t) {
  std::string s = FormatRfc3339(t);  // 2026-01-02T03:04:05.678Z
  std::size_t dot = s.find('.');
  return dot == std::string::npos ? s : s.substr(0, dot) + "Z";
}

double CtEpochSeconds(Time t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

std::string AssumedRoleArn(const CloudTrailEvent& e) {
  return "arn:aws:sts::" + e.account_id + ":assumed-role/" +
         ReservedSsoRoleName(e.account_id, e.permission_set) + "/" + e.user_name;
}

// The record CloudTrail keeps (LookupEvents' CloudTrailEvent), as JSON text.
std::string RecordJson(const CloudTrailEvent& e, const std::string& default_region) {
  std::string role = ReservedSsoRoleName(e.account_id, e.permission_set);
  std::string role_id = "AROA" + Upper(wire::Hex64(wire::Fnv1a(role))).substr(0, 16);
  json record = {
      {"eventVersion", "1.08"},
      {"userIdentity",
       {{"type", "AssumedRole"},
        {"principalId", role_id + ":" + e.user_name},
        {"arn", AssumedRoleArn(e)},
        {"accountId", e.account_id},
        {"accessKeyId", e.access_key_id},
        {"sessionContext",
         {{"sessionIssuer",
           {{"type", "Role"},
            {"principalId", role_id},
            {"arn",
             "arn:aws:iam::" + e.account_id + ":role/aws-reserved/sso.amazonaws.com/" + role},
            {"accountId", e.account_id},
            {"userName", role}}},
          {"attributes",
           {{"creationDate", SecondsRfc3339(e.event_time)}, {"mfaAuthenticated", "false"}}}}}}},
      {"eventTime", SecondsRfc3339(e.event_time)},
      {"eventSource", e.event_source},
      {"eventName", e.event_name},
      {"awsRegion", e.region.empty() ? default_region : e.region},
      {"sourceIPAddress", "198.51.100.7"},
      {"userAgent", "aws-cli/2.15.0"},
      {"requestParameters", nullptr},
      {"responseElements", nullptr},
      {"requestID", e.event_id},
      {"eventID", e.event_id},
      {"readOnly", e.read_only},
      {"eventType", "AwsApiCall"},
      {"managementEvent", true},
      {"recipientAccountId", e.account_id},
      {"eventCategory", "Management"}};
  if (!e.error_code.empty()) {
    record["errorCode"] = e.error_code;
    record["errorMessage"] = "emulated failure: " + e.error_code;
  }
  if (!e.resources.empty()) {
    json resources = json::array();
    for (const auto& [type, name] : e.resources) {
      resources.push_back({{"type", type}, {"ARN", name}, {"accountId", e.account_id}});
    }
    record["resources"] = std::move(resources);
  }
  return wire::Dump(record);
}

json EventJson(const CloudTrailEvent& e, const std::string& region) {
  json resources = json::array();
  for (const auto& [type, name] : e.resources) {
    resources.push_back({{"ResourceType", type}, {"ResourceName", name}});
  }
  return {{"EventId", e.event_id},
          {"EventName", e.event_name},
          {"ReadOnly", e.read_only ? "true" : "false"},
          {"AccessKeyId", e.access_key_id},
          {"EventTime", CtEpochSeconds(e.event_time)},
          {"EventSource", e.event_source},
          {"Username", e.user_name},
          {"Resources", std::move(resources)},
          {"CloudTrailEvent", RecordJson(e, region)}};
}

bool Matches(const CloudTrailEvent& e, const std::string& key, const std::string& value) {
  if (key.empty()) return true;
  if (key == "EventId") return e.event_id == value;
  if (key == "EventName") return e.event_name == value;
  if (key == "ReadOnly") return (e.read_only ? "true" : "false") == value;
  if (key == "Username") return e.user_name == value;
  if (key == "EventSource") return e.event_source == value;
  if (key == "AccessKeyId") return e.access_key_id == value;
  for (const auto& [type, name] : e.resources) {
    if (key == "ResourceType" && type == value) return true;
    if (key == "ResourceName" && name == value) return true;
  }
  return false;
}

// A random string of `n` characters from `alphabet`.
std::string RandomString(std::size_t n, std::string_view alphabet) {
  std::string out;
  while (out.size() < n) {
    for (char c : NewUuid()) {
      if (c == '-') continue;
      unsigned v = static_cast<unsigned>(c <= '9' ? c - '0' : c - 'a' + 10);
      out.push_back(alphabet[(v * 7 + out.size()) % alphabet.size()]);
      if (out.size() == n) break;
    }
  }
  return out;
}

}  // namespace

std::string ReservedSsoRoleName(std::string_view account_id, std::string_view permission_set) {
  std::string key = std::string(account_id) + "/" + std::string(permission_set);
  return "AWSReservedSSO_" + std::string(permission_set) + "_" + wire::Hex64(wire::Fnv1a(key));
}

Result<std::vector<CloudTrailEvent>> ParseCloudTrailEvents(const json& events,
                                                           const std::set<std::string>& accounts,
                                                           const std::string& where) {
  if (!events.is_array()) return InvalidArgumentError(where + " must be an array");
  if (events.size() > kMaxEvents) {
    return InvalidArgumentError(where + " holds more than " + std::to_string(kMaxEvents) +
                                " events");
  }
  static const std::set<std::string> kMembers = {
      "account_id", "user_name",  "permission_set", "event_name",    "event_source", "event_time",
      "read_only",  "error_code", "event_id",       "access_key_id", "region",       "resources"};
  static const std::regex kPermissionSet("[\\w+=,.@-]{1,32}");
  static const std::regex kUuid("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::vector<CloudTrailEvent> out;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& o = events[i];
    std::string w = where + "[" + std::to_string(i) + "]";
    if (!o.is_object()) return InvalidArgumentError(w + " must be an object");
    for (const auto& [key, value] : o.items()) {
      if (!kMembers.count(key)) return InvalidArgumentError(w + ": unknown member \"" + key + "\"");
    }
    auto text = [&](const char* key, bool required, std::string& dst) -> Status {
      auto it = o.find(key);
      if (it == o.end()) {
        if (required) return InvalidArgumentError(w + "." + key + " is required");
        return OkStatus();
      }
      if (!it->is_string() || it->get<std::string>().empty() ||
          it->get<std::string>().size() > 2000) {
        return InvalidArgumentError(w + "." + key + " must be a string of 1 to 2000 characters");
      }
      dst = it->get<std::string>();
      return OkStatus();
    };
    CloudTrailEvent e;
    std::string time_text;
    JIT_RETURN_IF_ERROR(text("account_id", true, e.account_id));
    JIT_RETURN_IF_ERROR(text("user_name", true, e.user_name));
    JIT_RETURN_IF_ERROR(text("permission_set", true, e.permission_set));
    JIT_RETURN_IF_ERROR(text("event_name", true, e.event_name));
    JIT_RETURN_IF_ERROR(text("event_source", true, e.event_source));
    JIT_RETURN_IF_ERROR(text("event_time", true, time_text));
    JIT_RETURN_IF_ERROR(text("error_code", false, e.error_code));
    JIT_RETURN_IF_ERROR(text("event_id", false, e.event_id));
    JIT_RETURN_IF_ERROR(text("access_key_id", false, e.access_key_id));
    JIT_RETURN_IF_ERROR(text("region", false, e.region));
    if (!accounts.count(e.account_id)) {
      return InvalidArgumentError(w + ".account_id \"" + e.account_id + "\" names no seed account");
    }
    if (!std::regex_match(e.permission_set, kPermissionSet)) {
      return InvalidArgumentError(w + ".permission_set must match [\\w+=,.@-]{1,32}");
    }
    Result<Time> t = ParseRfc3339(time_text);
    if (!t.has_value()) return InvalidArgumentError(w + ".event_time is not an RFC 3339 time");
    e.event_time = *t;
    if (auto it = o.find("read_only"); it != o.end()) {
      if (!it->is_boolean()) return InvalidArgumentError(w + ".read_only must be true or false");
      e.read_only = it->get<bool>();
    }
    if (auto it = o.find("resources"); it != o.end()) {
      if (!it->is_array()) return InvalidArgumentError(w + ".resources must be an array");
      for (const json& r : *it) {
        if (!r.is_object() || r.size() != 2 || !r.contains("type") || !r["type"].is_string() ||
            !r.contains("name") || !r["name"].is_string()) {
          return InvalidArgumentError(w + ".resources must hold {\"type\", \"name\"} strings");
        }
        e.resources.emplace_back(r["type"].get<std::string>(), r["name"].get<std::string>());
      }
    }
    if (e.event_id.empty()) {
      std::string k = wire::Dump(o) + "#" + std::to_string(i);
      std::uint64_t hi = wire::Fnv1a(k);
      std::uint64_t lo = wire::Fnv1a(k, 0x84222325cbf29ce4ULL);
      std::string h = wire::Hex64((hi & ~0xf000ULL) | 0x4000ULL) +
                      wire::Hex64((lo & ~(0xcULL << 60)) | (0x8ULL << 60));
      e.event_id = h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" +
                   h.substr(16, 4) + "-" + h.substr(20, 12);
    } else if (!std::regex_match(e.event_id, kUuid)) {
      return InvalidArgumentError(w + ".event_id must be a lowercase UUID");
    }
    if (e.access_key_id.empty()) {
      e.access_key_id = "ASIA" + Upper(wire::Hex64(wire::Fnv1a(
                                     e.account_id + "/" + e.permission_set + "/" + e.user_name)));
    }
    out.push_back(std::move(e));
  }
  return out;
}

CloudTrailService::CloudTrailService(const Seed& seed, std::string region, Clock& clock)
    : owner_account_(seed.instance.owner_account_id), region_(std::move(region)), clock_(clock) {
  for (const SeedAccount& a : seed.accounts) accounts_.insert(a.id);
  if (!seed.cloudtrail_events.is_null()) {
    Result<std::vector<CloudTrailEvent>> events =
        ParseCloudTrailEvents(seed.cloudtrail_events, accounts_, "cloudtrail_events");
    if (events.has_value()) seed_events_ = std::move(*events);  // Validate() checked it
  }
  MutexLock lock(&mu_);
  ResetLocked();
}

void CloudTrailService::ResetLocked() {
  faults_ = Faults{};
  rng_state_ = 1;
  events_ = seed_events_;
  issued_.clear();
  issued_order_.clear();
}

void CloudTrailService::Reset() {
  MutexLock lock(&mu_);
  ResetLocked();
}

void CloudTrailService::SetFaults(const Faults& faults) {
  MutexLock lock(&mu_);
  faults_ = faults;
  rng_state_ = faults.seed ^ 0x1b873593ULL;
}

int CloudTrailService::FaultLocked() {
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

std::optional<CloudTrailService::IssuedKey> CloudTrailService::Issued(
    std::string_view access_key_id) const {
  MutexLock lock(&mu_);
  auto it = issued_.find(std::string(access_key_id));
  if (it == issued_.end()) return std::nullopt;
  return it->second;
}

WireResponse CloudTrailService::AssumeRole(const std::map<std::string, std::string>& params) {
  auto param = [&](const char* key) -> std::optional<std::string> {
    auto it = params.find(key);
    if (it == params.end()) return std::nullopt;
    return it->second;
  };
  std::optional<std::string> role_arn = param("RoleArn");
  std::optional<std::string> session = param("RoleSessionName");
  if (!role_arn) {
    return QueryError(400, "ValidationError",
                      "1 validation error detected: Value null at 'roleArn' failed to satisfy "
                      "constraint: Member must not be null");
  }
  if (!session) {
    return QueryError(400, "ValidationError",
                      "1 validation error detected: Value null at 'roleSessionName' failed to "
                      "satisfy constraint: Member must not be null");
  }
  static const std::regex kRoleArn(
      "arn:aws:iam::([0-9]{12}):role/((?:[\\x21-\\x7e]*/)?([\\w+=,.@-]{1,64}))");
  std::smatch m;
  if (role_arn->size() < 20 || role_arn->size() > 2048 ||
      !std::regex_match(*role_arn, m, kRoleArn)) {
    return QueryError(400, "ValidationError", role_arn->substr(0, 100) + " is invalid");
  }
  static const std::regex kSessionName("[\\w+=,.@-]{2,64}");
  if (!std::regex_match(*session, kSessionName)) {
    return QueryError(400, "ValidationError",
                      "1 validation error detected: Value '" + session->substr(0, 80) +
                          "' at 'roleSessionName' failed to satisfy constraint: Member must "
                          "satisfy regular expression pattern: [\\w+=,.@-]* and have length "
                          "between 2 and 64");
  }
  std::int64_t duration = 3600;
  if (std::optional<std::string> d = param("DurationSeconds")) {
    char* end = nullptr;
    long long v = std::strtoll(d->c_str(), &end, 10);
    if (d->empty() || *end != '\0' || v < 900 || v > 43200) {
      return QueryError(400, "ValidationError",
                        "1 validation error detected: Value '" + d->substr(0, 20) +
                            "' at 'durationSeconds' failed to satisfy constraint: Member must "
                            "have value between 900 and 43200");
    }
    duration = v;
  }
  const std::string account = m[1].str();
  const std::string role_name = m[3].str();
  MutexLock lock(&mu_);
  int fault = FaultLocked();
  if (fault == 1) return QueryError(400, "Throttling", "Rate exceeded");
  if (fault == 2) return QueryError(500, "InternalFailure", "Internal error (emulated)");
  if (!accounts_.count(account)) {
    return QueryError(403, "AccessDenied",
                      "User: arn:aws:iam::" + owner_account_ +
                          ":user/jit-emulator is not authorized to perform: sts:AssumeRole on "
                          "resource: " +
                          *role_arn);
  }
  IssuedKey key;
  std::string key_id = "ASIA" + RandomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
  key.secret_access_key =
      RandomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
  key.session_token = "IQoJb3JpZ2luX2VjE" + RandomString(120,
                                                         "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklm"
                                                         "nopqrstuvwxyz0123456789+/");
  key.account_id = account;
  key.assumed_role_arn = "arn:aws:sts::" + account + ":assumed-role/" + role_name + "/" + *session;
  // STS writes Expiration to the second; the key expires then.
  key.expires = FromUnixMillis((ToUnixMillis(clock_.Now()) / 1000 + duration) * 1000);
  std::string role_id =
      "AROA" + Upper(wire::Hex64(wire::Fnv1a(account + "/" + role_name))).substr(0, 17);
  issued_[key_id] = key;
  issued_order_.push_back(key_id);
  while (issued_order_.size() > kMaxIssuedKeys) {
    issued_.erase(issued_order_.front());
    issued_order_.pop_front();
  }
  return {200, "text/xml",
          "<?xml version=\"1.0\"?>\n<AssumeRoleResponse xmlns=\"" + std::string(kStsXmlns) +
              "\">\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n      <Arn>" +
              wire::XmlEscape(key.assumed_role_arn) + "</Arn>\n      <AssumedRoleId>" + role_id +
              ":" + wire::XmlEscape(*session) +
              "</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      "
              "<AccessKeyId>" +
              key_id + "</AccessKeyId>\n      <SecretAccessKey>" + key.secret_access_key +
              "</SecretAccessKey>\n      <SessionToken>" + key.session_token +
              "</SessionToken>\n      <Expiration>" + SecondsRfc3339(key.expires) +
              "</Expiration>\n    </Credentials>\n  </AssumeRoleResult>\n  "
              "<ResponseMetadata>\n    <RequestId>" +
              NewUuid() + "</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n",
          ""};
}

WireResponse CloudTrailService::CallerIdentity(const IssuedKey& key) const {
  std::string role_and_session = key.assumed_role_arn.substr(key.assumed_role_arn.find('/') + 1);
  std::string role = role_and_session.substr(0, role_and_session.find('/'));
  std::string session = role_and_session.substr(role_and_session.find('/') + 1);
  std::string role_id =
      "AROA" + Upper(wire::Hex64(wire::Fnv1a(key.account_id + "/" + role))).substr(0, 17);
  return {200, "text/xml",
          "<?xml version=\"1.0\"?>\n<GetCallerIdentityResponse xmlns=\"" + std::string(kStsXmlns) +
              "\">\n  <GetCallerIdentityResult>\n    <Arn>" +
              wire::XmlEscape(key.assumed_role_arn) + "</Arn>\n    <UserId>" + role_id + ":" +
              wire::XmlEscape(session) + "</UserId>\n    <Account>" + key.account_id +
              "</Account>\n  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>" +
              NewUuid() + "</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n",
          ""};
}

WireResponse CloudTrailService::LookupEvents(const std::string& account_id, const json& input) {
  if (!input.is_object()) {
    return CtJsonError(400, "SerializationException", "The request body must be a JSON object");
  }
  static const std::set<std::string> kKeys = {"EventId",     "EventName",    "ReadOnly",
                                              "Username",    "ResourceType", "ResourceName",
                                              "EventSource", "AccessKeyId"};
  std::string attr_key;
  std::string attr_value;
  if (auto it = input.find("LookupAttributes"); it != input.end() && !it->is_null()) {
    if (!it->is_array()) {
      return CtJsonError(400, "SerializationException", "LookupAttributes must be a list");
    }
    if (it->size() > 1) {
      return CtJsonError(400, "InvalidLookupAttributesException",
                         "You cannot specify more than one lookup attribute.");
    }
    if (it->size() == 1) {
      const json& a = (*it)[0];
      if (!a.is_object() || !a.contains("AttributeKey") || !a["AttributeKey"].is_string() ||
          !kKeys.count(a["AttributeKey"].get<std::string>())) {
        return CtJsonError(400, "InvalidLookupAttributesException",
                           "AttributeKey must be one of EventId, EventName, ReadOnly, Username, "
                           "ResourceType, ResourceName, EventSource, AccessKeyId.");
      }
      if (!a.contains("AttributeValue") || !a["AttributeValue"].is_string() ||
          a["AttributeValue"].get<std::string>().empty() ||
          a["AttributeValue"].get<std::string>().size() > 2000) {
        return CtJsonError(400, "InvalidLookupAttributesException",
                           "AttributeValue must have 1 to 2000 characters.");
      }
      attr_key = a["AttributeKey"].get<std::string>();
      attr_value = a["AttributeValue"].get<std::string>();
    }
  }
  Time now = clock_.Now();
  auto time_of = [&](const char* key, Time fallback, Time& out) -> bool {
    auto it = input.find(key);
    if (it == input.end() || it->is_null()) {
      out = fallback;
      return true;
    }
    if (!it->is_number() || !std::isfinite(it->get<double>())) return false;
    out = FromUnixMillis(static_cast<std::int64_t>(std::llround(it->get<double>() * 1000.0)));
    return true;
  };
  Time start;
  Time end;
  if (!time_of("StartTime", now - kRetention, start) || !time_of("EndTime", now, end)) {
    return CtJsonError(400, "SerializationException", "StartTime and EndTime are epoch seconds");
  }
  if (start > end) {
    return CtJsonError(400, "InvalidTimeRangeException",
                       "Start time must be less than or equal to end time.");
  }
  if (auto it = input.find("EventCategory"); it != input.end() && !it->is_null()) {
    if (*it != "insight") {
      return CtJsonError(400, "InvalidEventCategoryException",
                         "EventCategory must be insight when it is given.");
    }
    // The emulator records no Insights events.
    return {200, "application/x-amz-json-1.1", wire::Dump(json{{"Events", json::array()}}), ""};
  }
  int max_results = kMaxLookupResults;
  if (auto it = input.find("MaxResults"); it != input.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<std::int64_t>() < 1 ||
        it->get<std::int64_t>() > kMaxLookupResults) {
      return CtJsonError(400, "InvalidMaxResultsException",
                         "MaxResults must be a whole number from 1 to 50.");
    }
    max_results = static_cast<int>(it->get<std::int64_t>());
  }
  // The token holds the offset and a digest of the inputs it belongs to.
  std::string binding = wire::Hex64(wire::Fnv1a(account_id + "|" + attr_key + "|" + attr_value +
                                                "|" + std::to_string(ToUnixMillis(start)) + "|" +
                                                std::to_string(ToUnixMillis(end))));
  std::size_t offset = 0;
  if (auto it = input.find("NextToken"); it != input.end() && !it->is_null()) {
    bool ok = it->is_string();
    if (ok) {
      std::string token = it->get<std::string>();
      std::size_t colon = token.find(':');
      ok = colon != std::string::npos && token.substr(colon + 1) == binding;
      if (ok) {
        std::string digits = token.substr(0, colon);
        ok = !digits.empty() && digits.size() <= 9 &&
             std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
        if (ok) offset = static_cast<std::size_t>(std::stoul(digits));
      }
    }
    if (!ok) {
      return CtJsonError(400, "InvalidNextTokenException",
                         "The NextToken is not valid for these lookup inputs.");
    }
  }
  MutexLock lock(&mu_);
  int fault = FaultLocked();
  if (fault == 1) return CtJsonError(400, "ThrottlingException", "Rate exceeded");
  if (fault == 2) return CtJsonError(500, "InternalServerException", "Internal error (emulated)");
  std::vector<const CloudTrailEvent*> hits;
  for (const CloudTrailEvent& e : events_) {
    if (e.account_id != account_id || e.event_time < start || e.event_time > end) continue;
    if (!Matches(e, attr_key, attr_value)) continue;
    hits.push_back(&e);
  }
  std::stable_sort(hits.begin(), hits.end(),
                   [](const CloudTrailEvent* a, const CloudTrailEvent* b) {
                     if (a->event_time != b->event_time) return a->event_time > b->event_time;
                     return a->event_id < b->event_id;
                   });
  json out_events = json::array();
  std::size_t stop = std::min(hits.size(), offset + static_cast<std::size_t>(max_results));
  for (std::size_t i = offset; i < stop; ++i) out_events.push_back(EventJson(*hits[i], region_));
  json answer = {{"Events", std::move(out_events)}};
  if (stop < hits.size()) answer["NextToken"] = std::to_string(stop) + ":" + binding;
  return {200, "application/x-amz-json-1.1", wire::Dump(answer), ""};
}

Result<std::vector<std::string>> CloudTrailService::AddEvents(const json& body) {
  if (!body.is_object() || !body.contains("events") || body.size() != 1) {
    return InvalidArgumentError("the body must be {\"events\": [...]}");
  }
  JIT_ASSIGN_OR_RETURN(std::vector<CloudTrailEvent> added,
                       ParseCloudTrailEvents(body["events"], accounts_, "events"));
  MutexLock lock(&mu_);
  if (events_.size() + added.size() > kMaxEvents) {
    return InvalidArgumentError("the emulator keeps at most " + std::to_string(kMaxEvents) +
                                " CloudTrail events");
  }
  std::vector<std::string> ids;
  for (CloudTrailEvent& e : added) {
    ids.push_back(e.event_id);
    events_.push_back(std::move(e));
  }
  return ids;
}

void CloudTrailService::RecordSessionCall(const std::string& user_name,
                                          const std::string& account_id,
                                          const std::string& permission_set,
                                          const std::string& action, const std::string& region,
                                          Time at, bool allowed) {
  CloudTrailEvent e;
  e.event_id = NewUuid();
  e.account_id = account_id;
  e.region = region;
  e.user_name = user_name;
  e.permission_set = permission_set;
  std::size_t colon = action.find(':');
  std::string service = colon == std::string::npos ? action : action.substr(0, colon);
  e.event_name = colon == std::string::npos ? action : action.substr(colon + 1);
  e.event_source = service + ".amazonaws.com";
  e.event_time = at;
  e.read_only = false;
  for (std::string_view verb : {"Get", "List", "Describe", "Head", "Lookup"}) {
    if (e.event_name.rfind(verb, 0) == 0) e.read_only = true;
  }
  if (!allowed) e.error_code = "AccessDenied";
  e.access_key_id =
      "ASIA" + Upper(wire::Hex64(wire::Fnv1a(account_id + "/" + permission_set + "/" + user_name)));
  MutexLock lock(&mu_);
  if (events_.size() >= kMaxEvents) events_.erase(events_.begin());
  events_.push_back(std::move(e));
}

void CloudTrailService::ClearEvents() {
  MutexLock lock(&mu_);
  events_.clear();
}

json CloudTrailService::State() const {
  MutexLock lock(&mu_);
  json roles = json::array();
  for (const std::string& id : issued_order_) {
    const IssuedKey& k = issued_.at(id);
    roles.push_back({{"access_key_id", id},
                     {"account_id", k.account_id},
                     {"assumed_role_arn", k.assumed_role_arn},
                     {"expiration", SecondsRfc3339(k.expires)}});
  }
  return {{"cloudtrail_events", events_.size()}, {"assumed_roles", std::move(roles)}};
}

}  // namespace jit::emulator
