#include "aws/sigv4.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/crypto.h"
#include "core/testing.h"
#include "core/time_format.h"

namespace jit::aws {
namespace {

namespace fs = std::filesystem;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// AWS's published SigV4 suite (tests/testdata/sigv4, AWS's published vectors, with
// its LICENSE and NOTICE). JIT_SIGV4_VECTORS in the environment overrides the folder compiled in.
fs::path VectorsDir() {
  if (const char* env = std::getenv("JIT_SIGV4_VECTORS"); env != nullptr && *env != '\0') {
    return env;
  }
#ifdef JIT_SIGV4_VECTORS
  return JIT_SIGV4_VECTORS;
#else
  return {};
#endif
}

// Every case folder; the suite holds only header-signing and query-signing files, and jit
// implements header signing, so every folder runs (no case is skipped).
std::vector<std::string> VectorCases() {
  std::vector<std::string> out;
  std::error_code ec;
  fs::path dir = VectorsDir();
  if (dir.empty() || !fs::is_directory(dir, ec)) return out;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (entry.is_directory() && fs::exists(entry.path() / "request.txt")) {
      out.push_back(entry.path().filename().string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Parses a raw HTTP request as the suite writes it: request line, "Name:value" headers (values
// may continue on lines that start with white space), a blank line, the body.
HttpRequest ParseRawRequest(const std::string& raw) {
  HttpRequest req;
  std::size_t pos = 0;
  auto next_line = [&](std::string& line) {
    if (pos >= raw.size()) return false;
    std::size_t nl = raw.find('\n', pos);
    if (nl == std::string::npos) nl = raw.size();
    line = raw.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = nl + 1;
    return true;
  };
  std::string line;
  if (!next_line(line)) return req;
  std::size_t sp = line.find(' ');
  req.method = line.substr(0, sp);
  std::string target = line.substr(sp + 1, line.rfind(" HTTP/") - sp - 1);
  std::size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) req.query = target.substr(q + 1);
  while (next_line(line)) {
    if (line.empty()) {
      if (pos < raw.size()) req.body = raw.substr(pos);
      break;
    }
    if ((line[0] == ' ' || line[0] == '\t') && !req.headers.empty()) {
      req.headers.back().second += "\n" + line;
      continue;
    }
    std::size_t colon = line.find(':');
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return req;
}

TEST(SigV4Vectors, FolderIsPresent) {
  ASSERT_FALSE(VectorsDir().empty()) << "JIT_SIGV4_VECTORS is not set";
  ASSERT_TRUE(fs::is_directory(VectorsDir())) << VectorsDir() << " is missing";
  EXPECT_GE(VectorCases().size(), 30u);
}

class SigV4VectorTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SigV4VectorTest, ReproducesCanonicalRequestStringToSignAndSignature) {
  fs::path dir = VectorsDir() / GetParam();
  HttpRequest req = ParseRawRequest(ReadFile(dir / "request.txt"));
  nlohmann::json ctx = nlohmann::json::parse(ReadFile(dir / "context.json"));

  Credentials creds;
  creds.access_key_id = ctx["credentials"]["access_key_id"];
  creds.secret_access_key = ctx["credentials"]["secret_access_key"];
  creds.session_token = ctx["credentials"].value("token", "");
  SigningParams params;
  params.region = ctx["region"];
  params.service = ctx["service"];
  Result<Time> t = ParseRfc3339(ctx["timestamp"].get<std::string>());
  ASSERT_OK(t);
  params.time = *t;
  params.normalize_path = ctx.value("normalize", true);
  params.sign_body = ctx.value("sign_body", false);
  params.omit_session_token = ctx.value("omit_session_token", false);

  Result<Signature> sig = Sign(req, creds, params);
  ASSERT_OK(sig);
  EXPECT_EQ(sig->canonical_request, ReadFile(dir / "header-canonical-request.txt"));
  EXPECT_EQ(sig->string_to_sign, ReadFile(dir / "header-string-to-sign.txt"));
  EXPECT_EQ(sig->signature, ReadFile(dir / "header-signature.txt"));

  HttpRequest expected = ParseRawRequest(ReadFile(dir / "header-signed-request.txt"));
  EXPECT_EQ(req.Header("Authorization"), expected.Header("Authorization"));
  EXPECT_EQ(req.Header("X-Amz-Security-Token"), expected.Header("X-Amz-Security-Token"));
}

INSTANTIATE_TEST_SUITE_P(Aws, SigV4VectorTest, ::testing::ValuesIn(VectorCases()),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                           std::string name = param_info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });
// With the folder missing there are no cases; FolderIsPresent fails then.
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(SigV4VectorTest);

TEST(SigV4, GetVanillaSignsToThePublishedSignature) {
  HttpRequest req{.method = "GET", .path = "/", .headers = {{"Host", "example.amazonaws.com"}}};
  Credentials creds{.access_key_id = "AKIDEXAMPLE",
                    .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"};
  SigningParams params{.region = "us-east-1", .service = "service"};
  params.time = *ParseRfc3339("2015-08-30T12:36:00Z");
  Result<Signature> sig = Sign(req, creds, params);
  ASSERT_OK(sig);
  EXPECT_EQ(sig->signature, "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  EXPECT_EQ(req.Header("x-amz-date"), "20150830T123600Z");
}

TEST(SigV4, SignRefusesMissingParts) {
  Credentials creds{.access_key_id = "AK", .secret_access_key = "SK"};
  SigningParams params{.region = "us-east-1", .service = "sso"};
  HttpRequest no_host{.method = "POST", .path = "/"};
  EXPECT_THAT(Sign(no_host, creds, params), StatusIs(StatusCode::kInvalidArgument));
  HttpRequest req{.method = "POST", .path = "/", .headers = {{"Host", "h"}}};
  EXPECT_THAT(Sign(req, Credentials{}, params), StatusIs(StatusCode::kInvalidArgument));
  SigningParams no_region{.service = "sso"};
  EXPECT_THAT(Sign(req, creds, no_region), StatusIs(StatusCode::kInvalidArgument));
}

TEST(SigV4, UriEncodeKeepsUnreservedAndUppercasesHex) {
  EXPECT_EQ(UriEncode("a b/c~d*", false), "a%20b%2Fc~d%2A");
  EXPECT_EQ(UriEncode("a b/c", true), "a%20b/c");
  EXPECT_EQ(UriEncode("\xe1\x88\xb4", false), "%E1%88%B4");
}

TEST(SigV4, HeaderHelpersAreCaseInsensitive) {
  HttpRequest req;
  req.headers = {{"X-A", "1"}, {"x-a", "2"}, {"B", "3"}};
  EXPECT_EQ(req.Header("x-A"), "1");
  EXPECT_EQ(req.Header("c"), std::nullopt);
  req.SetHeader("X-a", "9");
  ASSERT_EQ(req.headers.size(), 2u);
  EXPECT_EQ(req.Header("x-a"), "9");
}

TEST(SigV4, Sha256AndHmacMatchKnownValues) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  std::string mac = HmacSha256("Jefe", "what do ya want for nothing?");
  ASSERT_EQ(mac.size(), 32u);
  EXPECT_EQ(static_cast<unsigned char>(mac[0]), 0x5b);
  EXPECT_EQ(static_cast<unsigned char>(mac[31]), 0x43);
}

TEST(SigV4, ParseAuthorizationReadsEveryPart) {
  Result<AuthorizationHeader> a = ParseAuthorization(
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
      "SignedHeaders=host;x-amz-date, "
      "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
  ASSERT_OK(a);
  EXPECT_EQ(a->access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(a->date, "20150830");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->service, "service");
  EXPECT_THAT(a->signed_headers, ::testing::ElementsAre("host", "x-amz-date"));
  EXPECT_THAT(ParseAuthorization("Bearer x"),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("IncompleteSignatureException")));
  EXPECT_THAT(ParseAuthorization("AWS4-HMAC-SHA256 Credential=a/b/c/d/aws4_request"),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("IncompleteSignatureException")));
}

// Verify, as the emulator uses it.
class SigV4Verify : public ::testing::Test {
 protected:
  void SetUp() override {
    now_ = *ParseRfc3339("2026-03-01T10:00:00Z");
    req_ = HttpRequest{.method = "POST",
                       .path = "/",
                       .headers = {{"Host", "127.0.0.1:8080"},
                                   {"Content-Type", "application/x-amz-json-1.1"},
                                   {"X-Amz-Target", "SWBExternalService.ListInstances"}},
                       .body = "{}"};
    SigningParams params{.region = "us-east-1", .service = "sso", .time = now_};
    ASSERT_OK(Sign(req_, creds_, params));
  }
  Status Check(const HttpRequest& req, Time now) {
    return Verify(
        req,
        [](std::string_view akid) -> std::optional<std::string> {
          if (akid == "AKIDJITEMULATOR") return "jit-emulator-secret";
          return std::nullopt;
        },
        "sso", now, std::chrono::minutes(5));
  }

  Credentials creds_{.access_key_id = "AKIDJITEMULATOR",
                     .secret_access_key = "jit-emulator-secret"};
  Time now_;
  HttpRequest req_;
};

TEST_F(SigV4Verify, AcceptsAGoodSignature) {
  EXPECT_THAT(Check(req_, now_), IsOk());
  EXPECT_THAT(Check(req_, now_ + std::chrono::minutes(4)), IsOk());
}

TEST_F(SigV4Verify, AcceptsTemporaryCredentialsWithSessionToken) {
  HttpRequest req = req_;
  Credentials temp = creds_;
  temp.session_token = "token";
  SigningParams params{.region = "us-east-1", .service = "sso", .time = now_};
  ASSERT_OK(Sign(req, temp, params));
  EXPECT_THAT(Check(req, now_), IsOk());
}

TEST_F(SigV4Verify, RejectsATamperedBody) {
  req_.body = R"({"x":1})";
  EXPECT_THAT(Check(req_, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
}

TEST_F(SigV4Verify, RejectsATamperedSignedHeader) {
  req_.SetHeader("X-Amz-Target", "SWBExternalService.DeleteAccountAssignment");
  EXPECT_THAT(Check(req_, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
}

TEST_F(SigV4Verify, RejectsTheWrongSecret) {
  HttpRequest req = req_;
  Credentials wrong = creds_;
  wrong.secret_access_key = "not-the-secret";
  ASSERT_OK(Sign(req, wrong, {.region = "us-east-1", .service = "sso", .time = now_}));
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, HasSubstr("InvalidSignatureException")));
}

TEST_F(SigV4Verify, RejectsClockSkewBothWays) {
  EXPECT_THAT(Check(req_, now_ + std::chrono::minutes(6)),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
  EXPECT_THAT(Check(req_, now_ - std::chrono::minutes(6)),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
}

TEST_F(SigV4Verify, RejectsAnUnknownKey) {
  HttpRequest req = req_;
  Credentials other{.access_key_id = "AKIDOTHER", .secret_access_key = "jit-emulator-secret"};
  ASSERT_OK(Sign(req, other, {.region = "us-east-1", .service = "sso", .time = now_}));
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("UnrecognizedClientException: ")));
}

TEST_F(SigV4Verify, RejectsAMissingOrIncompleteAuthorization) {
  HttpRequest req = req_;
  std::erase_if(req.headers, [](const auto& h) { return h.first == "Authorization"; });
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("IncompleteSignatureException: ")));
  req.SetHeader("Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIDJITEMULATOR/20260301/"
                "us-east-1/sso/aws4_request, SignedHeaders=host;x-amz-date");
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("IncompleteSignatureException: ")));
}

TEST_F(SigV4Verify, RejectsTheWrongService) {
  HttpRequest req = req_;
  ASSERT_OK(Sign(req, creds_, {.region = "us-east-1", .service = "identitystore", .time = now_}));
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
}

TEST_F(SigV4Verify, RejectsAScopeDateThatDiffersFromXAmzDate) {
  std::string auth = *req_.Header("Authorization");
  auth.replace(auth.find("/20260301/"), 10, "/20260302/");
  req_.SetHeader("Authorization", auth);
  EXPECT_THAT(Check(req_, now_),
              StatusIs(StatusCode::kUnauthenticated,
                       AllOf(StartsWith("InvalidSignatureException: "), HasSubstr("date"))));
}

TEST_F(SigV4Verify, RequiresHostAndDateToBeSigned) {
  HttpRequest req{.method = "POST", .path = "/", .headers = {{"X-Amz-Target", "x"}}};
  req.headers.emplace_back("Host", "h");
  ASSERT_OK(Sign(req, creds_, {.region = "us-east-1", .service = "sso", .time = now_}));
  std::string auth = *req.Header("Authorization");
  auth.replace(auth.find("host;"), 5, "");
  req.SetHeader("Authorization", auth);
  EXPECT_THAT(Check(req, now_),
              StatusIs(StatusCode::kUnauthenticated, StartsWith("InvalidSignatureException: ")));
}

TEST_F(SigV4Verify, UnsignedExtraHeadersDoNotMatter) {
  req_.headers.emplace_back("User-Agent", "curl/8");
  EXPECT_THAT(Check(req_, now_), IsOk());
}

}  // namespace
}  // namespace jit::aws
