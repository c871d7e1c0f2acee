// Fuzzes what POST /v1/slack/interactions (src/api/slack.h) reads from Slack, piece by piece
// (notify/slack.h), with a fixed signing secret. The first byte picks what the rest is:
//   0: a form body: notify::ParseSlackAction;
//   1: "TIMESTAMP\nBODY", which the harness signs with the secret as Slack would:
//      VerifySlackSignature must accept it exactly when the timestamp is a unix time within
//      5 minutes of now; then ParseSlackAction on the body;
//   2: "TIMESTAMP\nSIGNATURE\nBODY" as anyone may send it: VerifySlackSignature;
//   3: "STATUS\nBODY", the answer of Slack's users.info (over a fake transport; nothing leaves
//      the process): SlackWebApi::UserEmail.
// Slack slash commands are not handled by jit (there is no parser for them), so there is no
// mode for them.
// What must hold (a violation aborts): a parsed action names a user and an action; a refused
// body is InvalidArgument; a signature the harness did not make never passes and a refusal is
// Unauthenticated; users.info gives a non-empty e-mail (then from the cache) or NotFound,
// PermissionDenied, Unavailable, FailedPrecondition or InvalidArgument; nothing throws.

#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "core/clock.h"
#include "notify/slack.h"

namespace {

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "slack_fuzzer: %s\n", why.c_str());
  std::abort();
}

constexpr std::string_view kSecret = "fuzz-signing-secret-8f14e45fceea167a";
const jit::Time kNow = jit::FromUnixMillis(1767225600000);  // 2026-01-01T00:00:00Z
constexpr std::int64_t kNowSeconds = 1767225600;

// Splits off the text before the first '\n'.
std::string_view Line(std::string_view& rest) {
  std::size_t nl = rest.find('\n');
  std::string_view line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
  return line;
}

void CheckAction(std::string_view body) {
  auto action = jit::notify::ParseSlackAction(body);
  if (!action.has_value()) {
    if (action.error().code() != jit::StatusCode::kInvalidArgument) {
      Fail("ParseSlackAction error is not InvalidArgument: " + action.error().ToString());
    }
    if (action.error().message().empty()) Fail("ParseSlackAction error has no message");
    return;
  }
  if (action->user_id.empty()) Fail("a parsed action names no user");
  if (action->action_id.empty()) Fail("a parsed action has no action_id");
}

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

long ParseStatus(std::string_view text) {
  long status = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), status);
  if (ec != std::errc() || status < 0 || status > 999) return 200;
  return status;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0] % 4;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (mode == 0) {
    CheckAction(rest);
    return 0;
  }
  if (mode == 1) {
    std::string_view timestamp = Line(rest);
    std::string signature = jit::notify::SlackSignature(kSecret, timestamp, rest);
    jit::Status s = jit::notify::VerifySlackSignature(kSecret, timestamp, signature, rest, kNow);
    std::int64_t ts = 0;
    auto [ptr, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), ts);
    bool fresh = !timestamp.empty() && timestamp.size() <= 12 && ec == std::errc() &&
                 ptr == timestamp.data() + timestamp.size() && ts >= kNowSeconds - 300 &&
                 ts <= kNowSeconds + 300;
    if (s.ok() != fresh) {
      Fail("a signed request with timestamp '" + std::string(timestamp) + "' was " +
           (s.ok() ? "accepted" : "refused: " + s.ToString()));
    }
    if (!s.ok() && s.code() != jit::StatusCode::kUnauthenticated) {
      Fail("a refused signature is not Unauthenticated: " + s.ToString());
    }
    // Checked with another secret: refused.
    if (jit::notify::VerifySlackSignature("another-secret", timestamp, signature, rest, kNow)
            .ok()) {
      Fail("a request signed with another secret was accepted");
    }
    CheckAction(rest);
    return 0;
  }
  if (mode == 2) {
    std::string_view timestamp = Line(rest);
    std::string_view signature = Line(rest);
    jit::Status s = jit::notify::VerifySlackSignature(kSecret, timestamp, signature, rest, kNow);
    if (s.ok() && signature != jit::notify::SlackSignature(kSecret, timestamp, rest)) {
      Fail("a signature the secret did not make was accepted");
    }
    if (!s.ok() && s.code() != jit::StatusCode::kUnauthenticated) {
      Fail("a refused signature is not Unauthenticated: " + s.ToString());
    }
    return 0;
  }
  // mode 3: users.info's answer.
  jit::aws::HttpResponse answer;
  answer.status = ParseStatus(Line(rest));
  answer.body = std::string(rest);
  OneAnswer http(answer);
  jit::FakeClock clock(kNow);
  jit::notify::SlackWebApi api("https://slack.example.com/api", "xoxb-fuzz", http, clock);
  auto email = api.UserEmail("U0123ABCD");
  if (email.has_value()) {
    if (email->empty()) Fail("users.info gave an empty e-mail");
    auto again = api.UserEmail("U0123ABCD");
    if (!again.has_value() || *again != *email || http.calls() != 1) {
      Fail("a known e-mail was not answered from the cache");
    }
    return 0;
  }
  switch (email.error().code()) {
    case jit::StatusCode::kNotFound:
    case jit::StatusCode::kPermissionDenied:
    case jit::StatusCode::kUnavailable:
    case jit::StatusCode::kFailedPrecondition:
    case jit::StatusCode::kInvalidArgument:
      break;
    default:
      Fail("users.info error has an unexpected code: " + email.error().ToString());
  }
  return 0;
}
