#include "aws/credentials.h"

#include <cstdlib>
#include <fstream>

#include "aws/test_fakes.h"
#include "aws/test_http_server.h"
#include "core/testing.h"
#include "core/time_format.h"

namespace jit::aws {
namespace {

using ::jit::aws::testing::CannedResponse;
using ::jit::aws::testing::FakeTransport;
using ::jit::aws::testing::ReceivedRequest;
using ::jit::aws::testing::TestHttpServer;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::jit::testing::TempDir;
using ::testing::HasSubstr;

void WriteFile(const std::filesystem::path& p, const std::string& text) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

std::string CredsJson(const std::string& akid, Time expiration) {
  return R"({"Code":"Success","AccessKeyId":")" + akid +
         R"(","SecretAccessKey":"secret","Token":"tok","Expiration":")" +
         FormatRfc3339(expiration) + R"("})";
}

class CredentialChainTest : public ::testing::Test {
 protected:
  CredentialChainTest() {
    // Hermetic: a private HOME, and the real instance metadata address is never tried.
    env_.vars["HOME"] = home_.path().string();
    env_.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  }
  Result<Credentials> GetWith(HttpTransport& http) {
    return NewDefaultCredentialChain(env_, http, clock_)->Get();
  }
  Result<Credentials> Get() { return GetWith(offline_); }

  TempDir home_;
  Environment env_;
  FakeClock clock_;
  FakeTransport offline_;
};

TEST_F(CredentialChainTest, NothingConfiguredIsNotFoundWithoutAnyHttpCall) {
  EXPECT_THAT(Get(), StatusIs(StatusCode::kNotFound, HasSubstr("no AWS credentials found")));
  EXPECT_TRUE(offline_.calls().empty());
}

TEST_F(CredentialChainTest, EnvironmentKeys) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AKENV";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SKENV";
  env_.vars["AWS_SESSION_TOKEN"] = "TKENV";
  auto chain = NewDefaultCredentialChain(env_, offline_, clock_);
  Result<Credentials> c = chain->Get();
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(c->secret_access_key, "SKENV");
  EXPECT_EQ(c->session_token, "TKENV");
  EXPECT_EQ(chain->Name(), "environment");
}

TEST_F(CredentialChainTest, HalfOfAnEnvironmentPairIsABrokenConfiguration) {
  env_.vars["AWS_ACCESS_KEY_ID"] = "AKENV";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("AWS_SECRET_ACCESS_KEY")));
}

TEST_F(CredentialChainTest, EnvironmentBeatsSharedFiles) {
  WriteFile(home_.path() / ".aws/credentials",
            "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = SKFILE\n");
  env_.vars["AWS_ACCESS_KEY_ID"] = "AKENV";
  env_.vars["AWS_SECRET_ACCESS_KEY"] = "SKENV";
  ASSERT_OK(Get());
  EXPECT_EQ(Get()->access_key_id, "AKENV");
}

TEST_F(CredentialChainTest, DefaultProfileFromTheHomeCredentialsFile) {
  WriteFile(home_.path() / ".aws/credentials",
            "# comment\n; another\n[other]\naws_access_key_id=AKOTHER\n"
            "aws_secret_access_key=SKOTHER\n\n[default]\n"
            "aws_access_key_id = AKFILE   # inline comment\n"
            "  aws_secret_access_key = SKFILE\n");
  Result<Credentials> c = Get();
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKFILE");
  EXPECT_EQ(c->secret_access_key, "SKFILE");
  EXPECT_EQ(c->session_token, "");
  EXPECT_FALSE(c->expiration.has_value());
}

TEST_F(CredentialChainTest, AwsProfileSelectsANamedProfileInEitherFile) {
  WriteFile(home_.path() / "creds",
            "[default]\naws_access_key_id=AKDEF\naws_secret_access_key=SKDEF\n");
  WriteFile(home_.path() / "config",
            "[default]\nregion = eu-west-1\n[profile  ops]\naws_access_key_id = AKOPS\n"
            "aws_secret_access_key = SKOPS\naws_session_token = TKOPS\n"
            "s3 =\n  max_concurrent_requests = 20\n");
  env_.vars["AWS_SHARED_CREDENTIALS_FILE"] = (home_.path() / "creds").string();
  env_.vars["AWS_CONFIG_FILE"] = (home_.path() / "config").string();
  env_.vars["AWS_PROFILE"] = "ops";
  Result<Credentials> c = Get();
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKOPS");
  EXPECT_EQ(c->session_token, "TKOPS");
}

TEST_F(CredentialChainTest, TheCredentialsFileWinsOverTheConfigFile) {
  WriteFile(home_.path() / ".aws/credentials",
            "[default]\naws_access_key_id=AKCRED\naws_secret_access_key=SKCRED\n");
  WriteFile(home_.path() / ".aws/config",
            "[default]\naws_access_key_id=AKCONF\naws_secret_access_key=SKCONF\n");
  Result<Credentials> c = Get();
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKCRED");
  EXPECT_EQ(c->secret_access_key, "SKCRED");
}

TEST_F(CredentialChainTest, AMissingProfileFallsThrough) {
  WriteFile(home_.path() / ".aws/credentials",
            "[default]\naws_access_key_id=AK\naws_secret_access_key=SK\n");
  env_.vars["AWS_PROFILE"] = "absent";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kNotFound, HasSubstr("'absent'")));
}

TEST(ProfileFromIni, ReadsOneProfileFromTextWithoutTouchingFiles) {
  const std::string config =
      "[default]\nregion = eu-west-1\n[profile  ops]\nAWS_Access_Key_Id = AKOPS ; note\n"
      "s3 =\n  max_concurrent_requests = 20\n[profile ops]\nregion = us-east-1\n";
  Result<std::optional<ProfileSettings>> ops = ProfileFromIni(config, "config", "ops", true);
  ASSERT_OK(ops);
  ASSERT_TRUE(ops->has_value());
  EXPECT_EQ(**ops,
            (ProfileSettings{{"aws_access_key_id", "AKOPS"}, {"region", "us-east-1"}, {"s3", ""}}));
  Result<std::optional<ProfileSettings>> absent = ProfileFromIni(config, "config", "x", true);
  ASSERT_OK(absent);
  EXPECT_FALSE(absent->has_value());
  EXPECT_THAT(ProfileFromIni("[a]\njunk\n", "creds", "a", false),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("creds:2:")));
}

TEST(SharedConfigCredentials, TheCredentialsFileWinsSettingBySetting) {
  Result<Credentials> c = SharedConfigCredentials(
      ProfileSettings{{"aws_access_key_id", "AKCRED"}},
      ProfileSettings{{"aws_access_key_id", "AKCONF"}, {"aws_secret_access_key", "SKCONF"}}, "p");
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "AKCRED");
  EXPECT_EQ(c->secret_access_key, "SKCONF");
  EXPECT_THAT(SharedConfigCredentials(std::nullopt, std::nullopt, "p"),
              StatusIs(StatusCode::kNotFound, HasSubstr("'p'")));
  EXPECT_THAT(SharedConfigCredentials(ProfileSettings{{"role_arn", "arn"}}, std::nullopt, "p"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("role_arn")));
}

TEST_F(CredentialChainTest, AMalformedFileIsInvalidArgumentWithItsLine) {
  WriteFile(home_.path() / ".aws/credentials", "[default]\naws_access_key_id=AK\nthis is junk\n");
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("credentials:3:")));
  WriteFile(home_.path() / ".aws/credentials", "aws_access_key_id=AK\n");
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("outside")));
  WriteFile(home_.path() / ".aws/credentials", "[default\n");
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument));
}

TEST_F(CredentialChainTest, HalfAKeyPairOrAnUnsupportedProfileIsInvalidArgument) {
  WriteFile(home_.path() / ".aws/credentials", "[default]\naws_access_key_id=AK\n");
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument));
  WriteFile(home_.path() / ".aws/credentials", "");
  WriteFile(home_.path() / ".aws/config",
            "[profile sso]\nsso_session = corp\n[profile assume]\nrole_arn = arn:x\n");
  env_.vars["AWS_PROFILE"] = "assume";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("role_arn")));
}

// ---- web identity

class WebIdentityTest : public CredentialChainTest {
 protected:
  WebIdentityTest()
      : sts_([this](const ReceivedRequest&) {
          return CannedResponse{.status = status_, .body = answer_};
        }) {
    WriteFile(home_.path() / "token", "eyJ.token.sig\n");
    env_.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (home_.path() / "token").string();
    env_.vars["AWS_ROLE_ARN"] = "arn:aws:iam::111111111111:role/jit-broker";
    env_.vars["AWS_ROLE_SESSION_NAME"] = "jit session";
    env_.vars["AWS_REGION"] = "eu-central-1";
    env_.vars["AWS_ENDPOINT_URL_STS"] = sts_.url();
  }

  int status_ = 200;
  std::string answer_ =
      "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n"
      "  <AssumeRoleWithWebIdentityResult>\n    <Credentials>\n"
      "      <AccessKeyId>ASIAWEB</AccessKeyId>\n"
      "      <SecretAccessKey>wJalr/K7+EXAMPLE</SecretAccessKey>\n"
      "      <SessionToken>FwoG&amp;token</SessionToken>\n"
      "      <Expiration>2026-01-01T01:00:00Z</Expiration>\n"
      "    </Credentials>\n  </AssumeRoleWithWebIdentityResult>\n"
      "</AssumeRoleWithWebIdentityResponse>\n";
  std::unique_ptr<HttpTransport> http_ = NewCurlTransport();
  TestHttpServer sts_;
};

TEST_F(WebIdentityTest, CallsStsUnsignedWithTheFormBodyAndReadsTheXml) {
  auto chain = NewDefaultCredentialChain(env_, *http_, clock_);
  Result<Credentials> c = chain->Get();
  ASSERT_OK(c);
  EXPECT_EQ(chain->Name(), "web-identity");
  EXPECT_EQ(c->access_key_id, "ASIAWEB");
  EXPECT_EQ(c->secret_access_key, "wJalr/K7+EXAMPLE");
  EXPECT_EQ(c->session_token, "FwoG&token");
  ASSERT_TRUE(c->expiration.has_value());
  EXPECT_EQ(FormatRfc3339(*c->expiration), "2026-01-01T01:00:00.000Z");

  ASSERT_EQ(sts_.requests().size(), 1u);
  ReceivedRequest got = sts_.requests()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.target, "/");
  EXPECT_THAT(got.Header("content-type"), HasSubstr("application/x-www-form-urlencoded"));
  EXPECT_FALSE(got.HasHeader("authorization"));
  EXPECT_EQ(got.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"
            "&RoleArn=arn%3Aaws%3Aiam%3A%3A111111111111%3Arole%2Fjit-broker"
            "&RoleSessionName=jit%20session&WebIdentityToken=eyJ.token.sig");
}

TEST_F(WebIdentityTest, ADeniedAssumeRoleIsPermissionDenied) {
  status_ = 403;
  answer_ =
      "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
      "<Message>bad token</Message></Error></ErrorResponse>";
  EXPECT_THAT(GetWith(*http_),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("InvalidIdentityToken")));
}

TEST_F(WebIdentityTest, AThrottledAssumeRoleIsUnavailable) {
  status_ = 400;
  answer_ =
      "<ErrorResponse><Error><Code>Throttling</Code><Message>slow</Message></Error>"
      "</ErrorResponse>";
  EXPECT_THAT(GetWith(*http_), StatusIs(StatusCode::kUnavailable));
}

TEST_F(WebIdentityTest, RoleArnWithoutTokenFileIsInvalidArgument) {
  env_.vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
  EXPECT_THAT(GetWith(*http_), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(sts_.requests().empty());
}

TEST_F(WebIdentityTest, SharedFilesComeFirst) {
  WriteFile(home_.path() / ".aws/credentials",
            "[default]\naws_access_key_id=AKFILE\naws_secret_access_key=SKFILE\n");
  ASSERT_OK(GetWith(*http_));
  EXPECT_EQ(GetWith(*http_)->access_key_id, "AKFILE");
  EXPECT_TRUE(sts_.requests().empty());
}

// ---- container

TEST_F(CredentialChainTest, ContainerFullUriOnLoopbackWithTokenFromAFile) {
  TestHttpServer agent([&](const ReceivedRequest&) {
    return CannedResponse{.body = CredsJson("ASIACONT", clock_.Now() + std::chrono::hours(6))};
  });
  WriteFile(home_.path() / "auth", "Bearer abc\n");
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = agent.url() + "/v1/credentials";
  env_.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_.path() / "auth").string();
  env_.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "ignored-when-file-set";
  auto http = NewCurlTransport();
  Result<Credentials> c = GetWith(*http);
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "ASIACONT");
  EXPECT_EQ(c->session_token, "tok");
  ASSERT_EQ(agent.requests().size(), 1u);
  EXPECT_EQ(agent.requests()[0].method, "GET");
  EXPECT_EQ(agent.requests()[0].target, "/v1/credentials");
  EXPECT_EQ(agent.requests()[0].Header("authorization"), "Bearer abc");
}

TEST_F(CredentialChainTest, ContainerTokenFromTheEnvironment) {
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    return HttpResponse{.status = 200, .body = CredsJson("ASIA", clock_.Now())};
  });
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://localhost:9/creds";
  env_.vars["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "secret-token";
  ASSERT_OK(GetWith(http));
  ASSERT_EQ(http.calls().size(), 1u);
  EXPECT_THAT(http.calls()[0].headers, ::testing::Contains(std::pair<std::string, std::string>(
                                           "Authorization", "secret-token")));
}

TEST_F(CredentialChainTest, ContainerRelativeUriUsesTheEcsAgentAddress) {
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    return HttpResponse{.status = 200, .body = CredsJson("ASIAECS", clock_.Now())};
  });
  env_.vars["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = "/v2/credentials/abc";
  ASSERT_OK(GetWith(http));
  ASSERT_EQ(http.calls().size(), 1u);
  EXPECT_EQ(http.calls()[0].url, "http://169.254.170.2/v2/credentials/abc");
}

TEST_F(CredentialChainTest, ContainerFullUriMustBeHttpsOrLoopback) {
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("loopback")));
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1.example.com/creds";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_TRUE(offline_.calls().empty());
  // https is accepted anywhere (the fake answers; nothing leaves the process).
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "https://creds.example.com/x";
  EXPECT_THAT(Get(), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(offline_.calls().size(), 1u);
}

TEST_F(CredentialChainTest, ContainerErrorsMapToCodes) {
  int status = 500;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    return HttpResponse{.status = status, .body = "nope"};
  });
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  EXPECT_THAT(GetWith(http), StatusIs(StatusCode::kUnavailable));
  status = 403;
  EXPECT_THAT(GetWith(http), StatusIs(StatusCode::kPermissionDenied));
  status = 200;
  EXPECT_THAT(GetWith(http), StatusIs(StatusCode::kUnavailable, HasSubstr("JSON")));
}

// ---- instance metadata v2

class ImdsTest : public CredentialChainTest {
 protected:
  ImdsTest()
      : imds_([this](const ReceivedRequest& r) {
          if (r.method == "PUT" && r.target == "/latest/api/token") {
            return CannedResponse{.body = "IMDSTOKEN"};
          }
          if (r.Header("x-aws-ec2-metadata-token") != "IMDSTOKEN") {
            return CannedResponse{.status = 401};
          }
          if (r.target == "/latest/meta-data/iam/security-credentials/") {
            return role_.empty() ? CannedResponse{.status = 404}
                                 : CannedResponse{.body = role_ + "\n"};
          }
          if (r.target == "/latest/meta-data/iam/security-credentials/" + role_) {
            return CannedResponse{.body =
                                      CredsJson("ASIAIMDS", clock_.Now() + std::chrono::hours(6))};
          }
          return CannedResponse{.status = 404};
        }) {
    env_.vars.erase("AWS_EC2_METADATA_DISABLED");
    env_.vars["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds_.url() + "/";
  }

  std::string role_ = "jit-broker-role";
  std::unique_ptr<HttpTransport> http_ = NewCurlTransport();
  TestHttpServer imds_;
};

TEST_F(ImdsTest, PutsForATokenFirstThenSendsItOnEveryGet) {
  auto chain = NewDefaultCredentialChain(env_, *http_, clock_);
  Result<Credentials> c = chain->Get();
  ASSERT_OK(c);
  EXPECT_EQ(c->access_key_id, "ASIAIMDS");
  EXPECT_EQ(chain->Name(), "instance-metadata");
  std::vector<ReceivedRequest> got = imds_.requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].method, "PUT");
  EXPECT_EQ(got[0].target, "/latest/api/token");
  EXPECT_EQ(got[0].Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(got[1].method, "GET");
  EXPECT_EQ(got[1].target, "/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(got[1].Header("x-aws-ec2-metadata-token"), "IMDSTOKEN");
  EXPECT_EQ(got[2].target, "/latest/meta-data/iam/security-credentials/jit-broker-role");
  EXPECT_EQ(got[2].Header("x-aws-ec2-metadata-token"), "IMDSTOKEN");
}

TEST_F(ImdsTest, AnInstanceWithoutARoleIsNotFound) {
  role_.clear();
  EXPECT_THAT(GetWith(*http_), StatusIs(StatusCode::kNotFound));
}

TEST_F(ImdsTest, DisabledMeansNoCallAtAll) {
  env_.vars["AWS_EC2_METADATA_DISABLED"] = "TRUE";
  EXPECT_THAT(GetWith(*http_), StatusIs(StatusCode::kNotFound));
  EXPECT_TRUE(imds_.requests().empty());
}

TEST_F(ImdsTest, ContainerComesBeforeInstanceMetadata) {
  FakeTransport http([&](const HttpCall& call) -> Result<HttpResponse> {
    if (call.url.find("/creds") != std::string::npos) {
      return HttpResponse{.status = 200, .body = CredsJson("ASIACONT", clock_.Now())};
    }
    return http_->Send(call);
  });
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  ASSERT_OK(GetWith(http));
  EXPECT_EQ(GetWith(http)->access_key_id, "ASIACONT");
  EXPECT_TRUE(imds_.requests().empty());
}

// ---- cache and refresh

TEST_F(CredentialChainTest, TemporaryCredentialsAreCachedAndRefreshedFiveMinutesEarly) {
  int fetches = 0;
  bool fail = false;
  FakeTransport http([&](const HttpCall&) -> Result<HttpResponse> {
    if (fail) return UnavailableError("agent down");
    ++fetches;
    return HttpResponse{
        .status = 200,
        .body = CredsJson("ASIA" + std::to_string(fetches), clock_.Now() + std::chrono::hours(1))};
  });
  env_.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://127.0.0.1:9/creds";
  auto chain = NewDefaultCredentialChain(env_, http, clock_);
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA1");
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA1");
  clock_.Advance(std::chrono::minutes(54));
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA1");
  EXPECT_EQ(fetches, 1);
  clock_.Advance(std::chrono::minutes(1) + std::chrono::seconds(1));  // 4m59s left
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA2");
  EXPECT_EQ(fetches, 2);

  // A failed refresh keeps using credentials that have not expired yet...
  fail = true;
  clock_.Advance(std::chrono::minutes(56));
  EXPECT_EQ(chain->Get()->access_key_id, "ASIA2");
  // ...and reports the failure once they have.
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_THAT(chain->Get(), StatusIs(StatusCode::kUnavailable));
}

TEST(StaticCredentials, ReturnsTheKeys) {
  auto s = NewStaticCredentials({.access_key_id = "AK", .secret_access_key = "SK"});
  ASSERT_OK(s->Get());
  EXPECT_EQ(s->Get()->access_key_id, "AK");
  EXPECT_EQ(s->Name(), "static");
  EXPECT_THAT(NewStaticCredentials({})->Get(), StatusIs(StatusCode::kNotFound));
}

// ---- region and endpoints

TEST_F(CredentialChainTest, RegionFromEnvironmentThenProfile) {
  EXPECT_THAT(ResolveRegion(env_), StatusIs(StatusCode::kNotFound));
  WriteFile(home_.path() / ".aws/config",
            "[default]\nregion = us-west-2\n[profile ops]\nregion = eu-west-1\n");
  EXPECT_EQ(ResolveRegion(env_).value_or(""), "us-west-2");
  env_.vars["AWS_PROFILE"] = "ops";
  EXPECT_EQ(ResolveRegion(env_).value_or(""), "eu-west-1");
  env_.vars["AWS_DEFAULT_REGION"] = "ap-south-1";
  EXPECT_EQ(ResolveRegion(env_).value_or(""), "ap-south-1");
  env_.vars["AWS_REGION"] = "us-east-2";
  EXPECT_EQ(ResolveRegion(env_).value_or(""), "us-east-2");
}

TEST_F(CredentialChainTest, RegionFromABrokenConfigIsInvalidArgument) {
  WriteFile(home_.path() / ".aws/config", "[default]\nregion\n");
  EXPECT_THAT(ResolveRegion(env_), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ResolveEndpoint, ServiceOverrideThenGlobalOverrideThenDefault) {
  Environment env;
  EXPECT_EQ(ResolveEndpoint(env, "SSO Admin", "sso", "us-east-1"),
            "https://sso.us-east-1.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint(env, "STS", "sts", ""), "https://sts.amazonaws.com");
  env.vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:4566/";
  EXPECT_EQ(ResolveEndpoint(env, "SSO Admin", "sso", "us-east-1"), "http://127.0.0.1:4566");
  env.vars["AWS_ENDPOINT_URL_SSO_ADMIN"] = "http://127.0.0.1:9000";
  EXPECT_EQ(ResolveEndpoint(env, "SSO Admin", "sso", "us-east-1"), "http://127.0.0.1:9000");
  EXPECT_EQ(ResolveEndpoint(env, "sso-admin", "sso", "us-east-1"), "http://127.0.0.1:9000");
  EXPECT_EQ(ResolveEndpoint(env, "identitystore", "identitystore", "us-east-1"),
            "http://127.0.0.1:4566");
}

TEST(Environment, FromProcessKeepsAwsVariablesAndHome) {
  ::setenv("AWS_JIT_TEST_VAR", "yes", 1);
  ::setenv("JIT_UNRELATED_VAR", "no", 1);
  Environment env = Environment::FromProcess();
  ::unsetenv("AWS_JIT_TEST_VAR");
  ::unsetenv("JIT_UNRELATED_VAR");
  EXPECT_EQ(env.Get("AWS_JIT_TEST_VAR"), "yes");
  EXPECT_EQ(env.Get("JIT_UNRELATED_VAR"), "");
  if (const char* home = std::getenv("HOME")) {
    EXPECT_EQ(env.Get("HOME"), home);
  }
}

}  // namespace
}  // namespace jit::aws
