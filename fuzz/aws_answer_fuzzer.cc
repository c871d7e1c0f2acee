// Fuzzes how jit reads AWS's answers (src/aws/json_client.h, query_client.h): error mapping of
// JSON and XML error bodies and headers, retries and RetryAfterSeconds, the JSON answer parse,
// and the XML element reader of query-protocol answers (SNS, STS). The answers come from a fake
// transport; nothing leaves the process (the emulator is not the target here). The first byte
// picks the client, the rest is one HTTP answer, given on every attempt:
//   "STATUS\nname: value\n...\n\nBODY" (header lines up to the first empty line, then the body).
//   0: JsonClient::Call (awsJson 1.1); 1: JsonClient::CallRest (REST-JSON); 2: QueryClient::Call;
//   3: no client: the whole rest is XML for XmlElementText (the names jit reads) and XmlUnescape.
// What must hold (a violation aborts): a call succeeds exactly when the answer is 2xx (and, for
// JSON, blank or JSON, which it returns); otherwise its code is ToStatus(ParseAwsError(answer)),
// or Internal for a 2xx that is not JSON; only Unavailable is retried, up to max_attempts, and
// never waits more than 60 s; every attempt is observed as OutcomeOf(status, type); an error
// type is normalised (no ':' or '#', no surrounding white space); nothing throws or crashes.

#include <cctype>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "aws/query_client.h"
#include "core/clock.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "aws_answer_fuzzer: %s\n", why.c_str());
  std::abort();
}

constexpr int kAttempts = 3;

// Answers every call with one response; counts the calls.
class OneAnswer final : public jit::aws::HttpTransport {
 public:
  explicit OneAnswer(jit::aws::HttpResponse answer) : answer_(std::move(answer)) {}
  jit::Result<jit::aws::HttpResponse> Send(const jit::aws::HttpCall&) override {
    std::lock_guard<std::mutex> lock(mu_);
    ++calls_;
    return answer_;
  }
  int calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  const jit::aws::HttpResponse answer_;
  std::mutex mu_;
  int calls_ = 0;  // GUARDED_BY(mu_)
};

std::string_view Line(std::string_view& rest) {
  std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

jit::aws::HttpResponse ParseAnswer(std::string_view rest) {
  jit::aws::HttpResponse r;
  std::string_view status = Line(rest);
  long code = 0;
  auto [ptr, ec] = std::from_chars(status.data(), status.data() + status.size(), code);
  r.status = ec == std::errc() && code >= 0 && code <= 999 ? code : 400;
  while (!rest.empty()) {
    std::string_view line = Line(rest);
    if (line.empty()) break;
    std::size_t colon = line.find(':');
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    r.headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  }
  r.body = std::string(rest);
  return r;
}

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (!std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

void CheckType(const std::string& type) {
  if (type.find_first_of(":#") != std::string::npos)
    Fail("an error type is not normalised: " + type);
  if (!type.empty() && (std::isspace(static_cast<unsigned char>(type.front())) ||
                        std::isspace(static_cast<unsigned char>(type.back())))) {
    Fail("an error type has white space around it: '" + type + "'");
  }
}

// What a failed call must have come to, by the public mapping.
jit::StatusCode Expected(const jit::aws::HttpResponse& answer) {
  jit::aws::AwsError e = jit::aws::ParseAwsError(answer);
  CheckType(e.type);
  jit::Status s = jit::aws::ToStatus(e);
  if (s.ok()) Fail("ToStatus of an error is OK");
  return s.code();
}

struct Observed {
  std::mutex mu;
  std::vector<std::string> outcomes;  // GUARDED_BY(mu)
  std::vector<jit::Duration> waits;   // GUARDED_BY(mu)
};

void CheckCall(const jit::aws::HttpResponse& answer, int calls, const Observed& seen, bool ok,
               const jit::Status& error, bool json_answer) {
  const bool success = answer.status >= 200 && answer.status <= 299;
  if (success) {
    bool parses = !json_answer || IsBlank(answer.body) || json::accept(answer.body);
    if (ok != parses) Fail(ok ? "a call took an answer that is not JSON" : "a 2xx call failed");
    if (!ok && error.code() != jit::StatusCode::kInternal) {
      Fail("a 2xx answer that is not JSON is not Internal: " + error.ToString());
    }
    if (calls != 1) Fail("a 2xx answer was retried");
    return;
  }
  if (ok) Fail("a call with HTTP status " + std::to_string(answer.status) + " succeeded");
  jit::StatusCode want = Expected(answer);
  if (error.code() != want) {
    Fail("the call's error is not ToStatus(ParseAwsError): " + error.ToString());
  }
  int want_calls = want == jit::StatusCode::kUnavailable ? kAttempts : 1;
  if (calls != want_calls) {
    Fail(std::to_string(calls) + " attempts for " + error.ToString());
  }
  if (static_cast<int>(seen.waits.size()) != calls - 1) Fail("waits do not match the attempts");
  for (jit::Duration w : seen.waits) {
    if (w < jit::Duration(0) || w > jit::Duration(60000)) {
      Fail("a retry waits " + std::to_string(w.count()) + " ms");
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 3) {
    for (const char* name : {"Code", "Message", "RequestId", "MessageId", "Account", "Error"}) {
      if (auto text = jit::aws::XmlElementText(rest, name)) {
        if (text->size() > rest.size()) Fail("an element's text is longer than the document");
      }
    }
    if (jit::aws::XmlUnescape(rest).size() > rest.size()) Fail("unescaping made text longer");
    return 0;
  }
  jit::aws::HttpResponse answer = ParseAnswer(rest);
  OneAnswer http(answer);
  jit::FakeClock clock;
  auto creds = jit::aws::NewStaticCredentials(
      {.access_key_id = "AKIDEXAMPLE", .secret_access_key = "fuzz-secret"});
  auto limiter = jit::aws::NewLimiter(clock, 0, 0);
  Observed seen;
  jit::aws::RetryPolicy retry{.max_attempts = kAttempts, .sleep = [&seen](jit::Duration d) {
                                std::lock_guard<std::mutex> lock(seen.mu);
                                seen.waits.push_back(d);
                              }};
  if (mode == 2) {
    jit::aws::QueryClient client({.endpoint = "https://sts.amazonaws.com",
                                  .region = "us-east-1",
                                  .signing_name = "sts",
                                  .version = "2011-06-15"},
                                 http, *creds, *limiter, clock, retry);
    auto r = client.Call("GetCallerIdentity", {});
    CheckCall(answer, http.calls(), seen, r.has_value(), r.has_value() ? jit::Status() : r.error(),
              false);
    if (r.has_value() && *r != answer.body) Fail("the query answer is not the body");
    return 0;
  }
  jit::aws::JsonClient client({.endpoint = "https://sso.us-east-1.amazonaws.com",
                               .region = "us-east-1",
                               .signing_name = "sso",
                               .target_prefix = "SWBExternalService"},
                              http, *creds, *limiter, clock, retry);
  client.SetObserver([&seen](const std::string&, std::string_view outcome) {
    std::lock_guard<std::mutex> lock(seen.mu);
    seen.outcomes.emplace_back(outcome);
  });
  auto r = mode == 0 ? client.Call("ListInstances", json::object())
                     : client.CallRest("GetFindings", "POST", "/findings", json::object());
  CheckCall(answer, http.calls(), seen, r.has_value(), r.has_value() ? jit::Status() : r.error(),
            true);
  if (static_cast<int>(seen.outcomes.size()) != http.calls()) {
    Fail("not every attempt was observed");
  }
  const std::string type = jit::aws::ParseAwsError(answer).type;
  for (const std::string& o : seen.outcomes) {
    if (o != jit::aws::OutcomeOf(answer.status, type)) Fail("an attempt was observed as " + o);
  }
  if (r.has_value()) {
    json want = IsBlank(answer.body) ? json::object() : json::parse(answer.body);
    if (*r != want) Fail("the call's answer is not the body's JSON");
  }
  return 0;
}
