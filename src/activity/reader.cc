#include "activity/reader.h"

#include <algorithm>

#include "aws/assume_role.h"

namespace jit::activity {
namespace {

constexpr char kTargetPrefix[] = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
constexpr int kPageSize = 50;  // LookupEvents' largest page

double EpochSeconds(Time t) { return static_cast<double>(ToUnixMillis(t)) / 1000.0; }

}  // namespace

CloudTrailReader::CloudTrailReader(CloudTrailReaderOptions options, aws::HttpTransport& http,
                                   aws::CredentialSource& base, Clock& clock)
    : options_(std::move(options)),
      http_(http),
      base_(base),
      clock_(clock),
      sts_limiter_(aws::NewLimiter(clock, 5, 0)) {}

CloudTrailReader::~CloudTrailReader() = default;

CloudTrailReader::Account& CloudTrailReader::AccountFor(const std::string& account_id) {
  MutexLock lock(&mu_);
  std::unique_ptr<Account>& slot = accounts_[account_id];
  if (slot == nullptr) {
    auto a = std::make_unique<Account>();
    aws::AssumeRoleSpec spec;
    spec.role_arn = "arn:aws:iam::" + account_id + ":role/" + options_.role_name;
    spec.session_name = options_.session_name;
    spec.sts = {options_.sts_endpoint, options_.region, "sts", "2011-06-15"};
    a->role =
        aws::NewAssumeRoleCredentials(spec, http_, base_, *sts_limiter_, clock_, options_.retry);
    a->limiter = aws::NewLimiter(clock_, options_.calls_per_second, 0);
    a->cloudtrail = std::make_unique<aws::JsonClient>(
        aws::ServiceSpec{options_.cloudtrail_endpoint, options_.region, "cloudtrail",
                         kTargetPrefix},
        http_, *a->role, *a->limiter, clock_, options_.retry);
    if (options_.observer) a->cloudtrail->SetObserver(options_.observer);
    slot = std::move(a);
  }
  return *slot;
}

Result<Lookup> CloudTrailReader::Read(const std::string& account_id, const std::string& user_name,
                                      Time start, Time end, int max_events) {
  Account& account = AccountFor(account_id);
  // Fail early and clearly when the role cannot be assumed.
  if (Result<aws::Credentials> creds = account.role->Get(); !creds.has_value()) {
    return creds.error().WithContext("activity: assume role " + options_.role_name + " in " +
                                     account_id);
  }
  nlohmann::json in = {
      {"LookupAttributes", {{{"AttributeKey", "Username"}, {"AttributeValue", user_name}}}},
      {"StartTime", EpochSeconds(start)},
      {"EndTime", EpochSeconds(end)},
      {"MaxResults", kPageSize}};
  Lookup out;
  while (true) {
    Result<nlohmann::json> page = account.cloudtrail->Call("LookupEvents", in);
    if (!page.has_value()) {
      return page.error().WithContext("activity: CloudTrail LookupEvents in " + account_id);
    }
    ++out.calls;
    auto events = page->find("Events");
    if (events != page->end() && events->is_array()) {
      for (nlohmann::json& e : *events) {
        if (static_cast<int>(out.events.size()) >= max_events) {
          out.truncated = true;
          return out;
        }
        out.events.push_back(std::move(e));
      }
    }
    auto token = page->find("NextToken");
    if (token == page->end() || !token->is_string() || token->get<std::string>().empty()) break;
    if (static_cast<int>(out.events.size()) >= max_events) {
      out.truncated = true;
      break;
    }
    in["NextToken"] = *token;
  }
  return out;
}

}  // namespace jit::activity
