#include "aws/json_client.h"

#include <atomic>
#include <thread>

#include "aws/test_fakes.h"
#include "core/testing.h"

namespace jit::aws {
namespace {

using ::jit::aws::testing::FakeTransport;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

HttpResponse Answer(long status, std::string body,
                    std::vector<std::pair<std::string, std::string>> headers = {}) {
  return HttpResponse{.status = status, .headers = std::move(headers), .body = std::move(body)};
}

HttpResponse AwsErrorAnswer(long status, const std::string& type, const std::string& extra = "") {
  return Answer(status, R"({"__type":")" + type + R"(","message":"it went wrong")" + extra + "}",
                {{"x-amzn-requestid", "11111111-2222-3333-4444-555555555555"}});
}

// Counts what the client asks of the limiter; never blocks.
class CountingLimiter final : public Limiter {
 public:
  void AcquireCall() override { ++calls; }
  void AcquireCreate() override { ++creates; }
  void ReleaseCreate() override {}
  std::atomic<int> calls{0};
  std::atomic<int> creates{0};
};

class JsonClientTest : public ::testing::Test {
 protected:
  JsonClient MakeClient(HttpTransport& http, int max_attempts = 5) {
    RetryPolicy retry{.max_attempts = max_attempts,
                      .base = Duration(100),
                      .max = Duration(5000),
                      .sleep = [this](Duration d) { sleeps_.push_back(d); }};
    return JsonClient(spec_, http, *creds_, limiter_, clock_, retry);
  }

  ServiceSpec spec_{.endpoint = "https://sso.us-east-1.amazonaws.com",
                    .region = "us-east-1",
                    .signing_name = "sso",
                    .target_prefix = "SWBExternalService"};
  std::unique_ptr<CredentialSource> creds_ = NewStaticCredentials(
      {.access_key_id = "AKIDTEST", .secret_access_key = "secret", .session_token = "tok"});
  CountingLimiter limiter_;
  FakeClock clock_;
  std::vector<Duration> sleeps_;
};

TEST_F(JsonClientTest, SendsASignedAwsJsonPostThatVerifies) {
  FakeTransport http([](const HttpCall&) -> Result<HttpResponse> {
    return Answer(200, R"({"Instances":[{"InstanceArn":"arn:x"}]})");
  });
  JsonClient client = MakeClient(http);
  Result<nlohmann::json> r = client.Call("ListInstances", nullptr);
  ASSERT_OK(r);
  EXPECT_EQ((*r)["Instances"][0]["InstanceArn"], "arn:x");

  ASSERT_EQ(http.calls().size(), 1u);
  HttpCall call = http.calls()[0];
  EXPECT_EQ(call.method, "POST");
  EXPECT_EQ(call.url, "https://sso.us-east-1.amazonaws.com/");
  EXPECT_EQ(call.body, "{}");
  HttpRequest as_received{
      .method = call.method, .path = "/", .headers = call.headers, .body = call.body};
  EXPECT_EQ(as_received.Header("host"), "sso.us-east-1.amazonaws.com");
  EXPECT_EQ(as_received.Header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(as_received.Header("x-amz-target"), "SWBExternalService.ListInstances");
  EXPECT_EQ(as_received.Header("x-amz-date"), "20260101T000000Z");
  EXPECT_EQ(as_received.Header("x-amz-security-token"), "tok");
  std::string auth = as_received.Header("authorization").value_or("");
  EXPECT_THAT(auth, HasSubstr("Credential=AKIDTEST/20260101/us-east-1/sso/aws4_request"));
  EXPECT_THAT(auth, HasSubstr("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                              "x-amz-target"));
  // What the emulator will do with it.
  EXPECT_THAT(Verify(
                  as_received,
                  [](std::string_view akid) -> std::optional<std::string> {
                    if (akid == "AKIDTEST") return "secret";
                    return std::nullopt;
                  },
                  "sso", clock_.Now(), std::chrono::minutes(5)),
              IsOk());
  EXPECT_EQ(limiter_.calls, 1);
  EXPECT_EQ(limiter_.creates, 0);
}

TEST_F(JsonClientTest, SendsTheBodyAndUsesTheEndpointsHostAndPort) {
  spec_.endpoint = "http://127.0.0.1:9911/";
  FakeTransport http([](const HttpCall&) -> Result<HttpResponse> { return Answer(200, "{}"); });
  JsonClient client = MakeClient(http);
  ASSERT_OK(client.Call("CreateAccountAssignment", {{"TargetId", "111111111111"}}));
  HttpCall call = http.calls().at(0);
  EXPECT_EQ(call.url, "http://127.0.0.1:9911/");
  EXPECT_EQ(call.body, R"({"TargetId":"111111111111"})");
  EXPECT_THAT(call.headers,
              ::testing::Contains(std::pair<std::string, std::string>("Host", "127.0.0.1:9911")));
}

TEST_F(JsonClientTest, RetriesThrottlingThenSucceeds) {
  int n = 0;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    if (++n <= 2) return AwsErrorAnswer(400, "ThrottlingException");
    return Answer(200, R"({"ok":true})");
  });
  JsonClient client = MakeClient(http);
  Result<nlohmann::json> r = client.Call("ListInstances", nullptr);
  ASSERT_OK(r);
  EXPECT_EQ((*r)["ok"], true);
  EXPECT_EQ(http.calls().size(), 3u);
  EXPECT_EQ(limiter_.calls, 3);  // every attempt asks the limiter
  ASSERT_EQ(sleeps_.size(), 2u);
  // Full jitter: [0, base * 2^n].
  EXPECT_LE(sleeps_[0], Duration(100));
  EXPECT_LE(sleeps_[1], Duration(200));
  for (Duration d : sleeps_) EXPECT_GE(d, Duration(0));
}

TEST_F(JsonClientTest, RetriesTransportErrorsAndServerErrors) {
  int n = 0;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    ++n;
    if (n == 1) return UnavailableError("connection refused");
    if (n == 2) return Answer(503, "<html>busy</html>");
    if (n == 3) return AwsErrorAnswer(500, "InternalServerException");
    return Answer(200, "{}");
  });
  JsonClient client = MakeClient(http);
  EXPECT_OK(client.Call("ListInstances", nullptr));
  EXPECT_EQ(n, 4);
}

TEST_F(JsonClientTest, TellsTheObserverHowEveryAttemptEnded) {
  int n = 0;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    ++n;
    if (n == 1) return UnavailableError("connection refused");
    if (n == 2) return AwsErrorAnswer(400, "ThrottlingException");
    if (n == 3) return AwsErrorAnswer(500, "InternalServerException");
    if (n == 4) return Answer(200, "{}");
    return AwsErrorAnswer(400, "ValidationException");
  });
  JsonClient client = MakeClient(http);
  std::vector<std::string> seen;
  client.SetObserver([&seen](const std::string& op, std::string_view outcome) {
    seen.push_back(op + " " + std::string(outcome));
  });
  EXPECT_OK(client.Call("ListInstances", nullptr));
  EXPECT_THAT(client.Call("CreateAccountAssignment", nullptr),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(seen, ::testing::ElementsAre("ListInstances network_error", "ListInstances throttled",
                                           "ListInstances server_error", "ListInstances ok",
                                           "CreateAccountAssignment client_error"));
}

TEST_F(JsonClientTest, GivesUpAfterMaxAttempts) {
  FakeTransport http([](const HttpCall&) -> Result<HttpResponse> {
    return AwsErrorAnswer(400, "ThrottlingException");
  });
  JsonClient client = MakeClient(http, 4);
  EXPECT_THAT(
      client.Call("ListInstances", nullptr),
      StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("ThrottlingException: it went wrong"),
                                               HasSubstr("after 4 attempts"))));
  EXPECT_EQ(http.calls().size(), 4u);
  EXPECT_EQ(sleeps_.size(), 3u);
  for (Duration d : sleeps_) EXPECT_LE(d, Duration(5000));
}

TEST_F(JsonClientTest, NonRetryableErrorsComeBackAtOnceWithTheirCode) {
  struct Case {
    long status;
    std::string type;
    StatusCode code;
  };
  for (const Case& c :
       std::vector<Case>{{400, "ValidationException", StatusCode::kInvalidArgument},
                         {409, "ConflictException", StatusCode::kAborted},
                         {400, "ResourceNotFoundException", StatusCode::kNotFound},
                         {403, "AccessDeniedException", StatusCode::kPermissionDenied},
                         {402, "ServiceQuotaExceededException", StatusCode::kResourceExhausted},
                         {400, "UnrecognizedClientException", StatusCode::kUnauthenticated},
                         {403, "InvalidSignatureException", StatusCode::kUnauthenticated}}) {
    sleeps_.clear();
    FakeTransport http(
        [&](const HttpCall&) -> Result<HttpResponse> { return AwsErrorAnswer(c.status, c.type); });
    JsonClient client = MakeClient(http);
    EXPECT_THAT(client.Call("CreateAccountAssignment", nullptr),
                StatusIs(c.code, AllOf(HasSubstr(c.type + ": it went wrong"),
                                       HasSubstr("11111111-2222-3333-4444-555555555555"))))
        << c.type;
    EXPECT_EQ(http.calls().size(), 1u) << c.type;
    EXPECT_TRUE(sleeps_.empty()) << c.type;
  }
}

TEST_F(JsonClientTest, HonoursRetryAfterSeconds) {
  int n = 0;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    if (++n == 1) return AwsErrorAnswer(400, "ThrottlingException", R"(,"RetryAfterSeconds":2)");
    if (n == 2) {
      return AwsErrorAnswer(500, "InternalServerException", R"(,"RetryAfterSeconds":"0.5")");
    }
    return Answer(200, "{}");
  });
  JsonClient client = MakeClient(http);
  ASSERT_OK(client.Call("GetUserId", nullptr));
  EXPECT_THAT(sleeps_, ::testing::ElementsAre(Duration(2000), Duration(500)));
}

TEST_F(JsonClientTest, EmptySuccessIsAnEmptyObjectAndInvalidJsonIsInternal) {
  std::string body;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> { return Answer(200, body); });
  JsonClient client = MakeClient(http);
  Result<nlohmann::json> r = client.Call("DeleteInlinePolicy", nullptr);
  ASSERT_OK(r);
  EXPECT_EQ(*r, nlohmann::json::object());
  body = " \n";
  ASSERT_OK(client.Call("DeleteInlinePolicy", nullptr));
  EXPECT_EQ(*client.Call("DeleteInlinePolicy", nullptr), nlohmann::json::object());
  body = "{\"truncated\":";
  EXPECT_THAT(client.Call("ListInstances", nullptr), StatusIs(StatusCode::kInternal));
}

TEST_F(JsonClientTest, CredentialErrorsStopTheCall) {
  auto none = NewStaticCredentials({});
  FakeTransport http;
  JsonClient client(spec_, http, *none, limiter_, clock_,
                    {.sleep = [this](Duration d) { sleeps_.push_back(d); }});
  EXPECT_THAT(client.Call("ListInstances", nullptr), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(http.calls().empty());
}

// ---- error parsing

TEST(ParseAwsError, NormalisesTheTypeAndReadsMessageAndRequestId) {
  struct Case {
    std::string type;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{
           {"ThrottlingException", "ThrottlingException"},
           {"com.amazonaws.swbexternalservice#ThrottlingException", "ThrottlingException"},
           {"ValidationException:http://internal.amazon.com/coral/com.amazon.coral.validate/",
            "ValidationException"},
           {"com.amazon.coral#ConflictException:http://x#y", "ConflictException"},
           {"aws.a#b#ResourceNotFoundException", "ResourceNotFoundException"}}) {
    AwsError e = ParseAwsError(Answer(400, R"({"__type":")" + c.type + R"(","Message":"m"})",
                                      {{"x-amzn-requestid", "rid"}}));
    EXPECT_EQ(e.type, c.want) << c.type;
    EXPECT_EQ(e.message, "m");
    EXPECT_EQ(e.request_id, "rid");
    EXPECT_EQ(e.http_status, 400);
  }
  EXPECT_EQ(ParseAwsError(Answer(400, R"({"__type":"X","message":"lower"})")).message, "lower");
}

TEST(ParseAwsError, FallsBackToTheErrorTypeHeader) {
  AwsError e = ParseAwsError(
      Answer(400, "", {{"x-amzn-errortype", "AccessDeniedException:http://internal/"}}));
  EXPECT_EQ(e.type, "AccessDeniedException");
  EXPECT_EQ(ToStatus(e).code(), StatusCode::kPermissionDenied);
  AwsError html = ParseAwsError(Answer(502, "<html>Bad Gateway</html>"));
  EXPECT_EQ(html.type, "");
  EXPECT_EQ(html.message, "<html>Bad Gateway</html>");
  EXPECT_THAT(ToStatus(html), StatusIs(StatusCode::kUnavailable, HasSubstr("HTTP 502")));
}

TEST(ToStatus, MapsTypesAndStatuses) {
  auto code = [](std::string type, long status = 400) {
    return ToStatus({.http_status = status, .type = std::move(type), .message = "m"}).code();
  };
  EXPECT_EQ(code("ThrottlingException"), StatusCode::kUnavailable);
  EXPECT_EQ(code("InternalServerException", 500), StatusCode::kUnavailable);
  EXPECT_EQ(code("ServiceUnavailable", 503), StatusCode::kUnavailable);
  EXPECT_EQ(code("", 500), StatusCode::kUnavailable);
  EXPECT_EQ(code("", 429), StatusCode::kUnavailable);
  EXPECT_EQ(code("ConflictException", 409), StatusCode::kAborted);
  EXPECT_EQ(code("ResourceNotFoundException"), StatusCode::kNotFound);
  EXPECT_EQ(code("AccessDeniedException"), StatusCode::kPermissionDenied);
  EXPECT_EQ(code("ValidationException"), StatusCode::kInvalidArgument);
  EXPECT_EQ(code("ServiceQuotaExceededException"), StatusCode::kResourceExhausted);
  EXPECT_EQ(code("IncompleteSignatureException"), StatusCode::kUnauthenticated);
  EXPECT_EQ(code("ExpiredTokenException"), StatusCode::kUnauthenticated);
  EXPECT_EQ(code("SomethingNew"), StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ToStatus({.http_status = 400, .type = "ValidationException", .message = "bad"}).message(),
      "ValidationException: bad");
}

// ---- limiter

TEST(Limiter, BurstsThenWaitsForTheClock) {
  FakeClock clock;
  auto limiter = NewLimiter(clock, 5, 10);
  for (int i = 0; i < 5; ++i) limiter->AcquireCall();  // the burst: no waiting
  std::atomic<bool> done{false};
  std::thread waiter([&] {
    limiter->AcquireCall();
    done = true;
  });
  // The sixth call waits on a clock timer; only moving the clock lets it through.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (clock.PendingTimers() == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  EXPECT_EQ(clock.PendingTimers(), 1u);
  EXPECT_FALSE(done);
  clock.Advance(Duration(200));
  waiter.join();
  EXPECT_TRUE(done);
}

TEST(Limiter, UrgentCallsTakeTheTokensFirst) {
  // Revocations go before grants when the pacing rate is the limit (issue 18).
  FakeClock clock;
  auto limiter = NewLimiter(clock, 5, 10);
  for (int i = 0; i < 5; ++i) limiter->AcquireCall();
  auto wait_for_timers = [&](std::size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (clock.PendingTimers() < n && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::yield();
    }
    ASSERT_GE(clock.PendingTimers(), n);
  };
  std::atomic<bool> ordinary_done{false};
  std::thread ordinary([&] {
    limiter->AcquireCall();
    ordinary_done = true;
  });
  wait_for_timers(1);  // the ordinary call waits first
  std::atomic<bool> urgent_done{false};
  std::thread urgent([&] {
    limiter->AcquireUrgentCall();
    urgent_done = true;
  });
  wait_for_timers(2);
  clock.Advance(Duration(200));  // one token
  urgent.join();
  EXPECT_TRUE(urgent_done);
  // The ordinary call still waits (this check can only miss a bug, never flake).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(ordinary_done);
  clock.Advance(Duration(200));  // the next token is its
  ordinary.join();
  EXPECT_TRUE(ordinary_done);
}

TEST(Limiter, HoldsTheRateInRealTime) {
  RealClock clock;
  auto limiter = NewLimiter(clock, 100, 10);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 130; ++i) limiter->AcquireCall();
  auto elapsed = std::chrono::steady_clock::now() - start;
  // 100 come from the burst; 30 more need at least ~300 ms at 100/s.
  EXPECT_GE(elapsed, std::chrono::milliseconds(250));
}

TEST(Limiter, CapsCreatesInFlight) {
  FakeClock clock;
  auto limiter = NewLimiter(clock, 18, 2);
  limiter->AcquireCreate();
  limiter->AcquireCreate();
  std::atomic<bool> third{false};
  std::thread t([&] {
    limiter->AcquireCreate();
    third = true;
  });
  // Cannot pass while two are in flight (this check can only miss a bug, never flake).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(third);
  limiter->ReleaseCreate();
  t.join();
  EXPECT_TRUE(third);
  limiter->ReleaseCreate();
  limiter->ReleaseCreate();
}

TEST(Limiter, ZeroMeansUnlimited) {
  FakeClock clock;
  auto limiter = NewLimiter(clock, 0, 0);
  for (int i = 0; i < 1000; ++i) limiter->AcquireCall();
  for (int i = 0; i < 100; ++i) limiter->AcquireCreate();
  EXPECT_EQ(clock.PendingTimers(), 0u);
}

}  // namespace
}  // namespace jit::aws
