#include "aws/http.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "aws/test_http_server.h"
#include "core/testing.h"

namespace jit::aws {
namespace {

using ::jit::aws::testing::CannedResponse;
using ::jit::aws::testing::ReceivedRequest;
using ::jit::aws::testing::TestHttpServer;
using ::jit::testing::StatusIs;

// A loopback socket that listens but never accepts: connections complete in the kernel's
// backlog and then hear nothing.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// A loopback port that nothing listens on.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(CurlTransport, ReturnsStatusLowercasedHeadersAndBody) {
  TestHttpServer server([](const ReceivedRequest&) {
    return CannedResponse{.status = 201,
                          .headers = {{"X-Amzn-RequestId", "req-1"}, {"Content-Type", "a/b"}},
                          .body = "hello"};
  });
  auto http = NewCurlTransport();
  Result<HttpResponse> r = http->Send({.method = "GET", .url = server.url() + "/x?y=1"});
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->Header("x-amzn-requestid"), "req-1");
  EXPECT_EQ(r->Header("content-type"), "a/b");
  EXPECT_EQ(r->Header("absent"), "");
  for (const auto& [name, value] : r->headers) {
    for (char c : name) EXPECT_FALSE(std::isupper(static_cast<unsigned char>(c))) << name;
  }
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].method, "GET");
  EXPECT_EQ(server.requests()[0].target, "/x?y=1");
}

TEST(CurlTransport, PostSendsOurHeadersAndBodyUnchanged) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{.body = "{}"}; });
  auto http = NewCurlTransport();
  HttpCall call{.method = "POST",
                .url = server.url() + "/",
                .headers = {{"Host", "sso.us-east-1.amazonaws.com"},
                            {"Content-Type", "application/x-amz-json-1.1"},
                            {"X-Amz-Target", "SWBExternalService.ListInstances"}},
                .body = R"({"MaxResults":10})"};
  ASSERT_OK(http->Send(call));
  ASSERT_EQ(server.requests().size(), 1u);
  const ReceivedRequest got = server.requests()[0];
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.Header("host"), "sso.us-east-1.amazonaws.com");
  EXPECT_EQ(got.Header("content-type"), "application/x-amz-json-1.1");
  EXPECT_EQ(got.Header("x-amz-target"), "SWBExternalService.ListInstances");
  EXPECT_EQ(got.body, R"({"MaxResults":10})");
  EXPECT_FALSE(got.HasHeader("expect"));
}

TEST(CurlTransport, PutWithAnEmptyBodyAndAnEmptyHeaderValue) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{.body = "tok"}; });
  auto http = NewCurlTransport();
  Result<HttpResponse> r =
      http->Send({.method = "PUT",
                  .url = server.url() + "/latest/api/token",
                  .headers = {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}, {"X-Empty", ""}}});
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "tok");
  const ReceivedRequest got = server.requests().at(0);
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.Header("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_TRUE(got.HasHeader("x-empty"));
  EXPECT_EQ(got.body, "");
}

TEST(CurlTransport, AnErrorStatusIsAResponseNotAnError) {
  TestHttpServer server(
      [](const ReceivedRequest&) { return CannedResponse{.status = 503, .body = "busy"}; });
  auto http = NewCurlTransport();
  Result<HttpResponse> r = http->Send({.method = "GET", .url = server.url()});
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "busy");
}

TEST(CurlTransport, ConnectionRefusedIsUnavailable) {
  auto http = NewCurlTransport();
  EXPECT_THAT(
      http->Send({.method = "GET", .url = "http://127.0.0.1:" + std::to_string(ClosedPort())}),
      StatusIs(StatusCode::kUnavailable));
}

TEST(CurlTransport, ASilentServerTimesOutAsUnavailable) {
  SilentListener silent;
  auto http = NewCurlTransport();
  EXPECT_THAT(http->Send({.method = "GET",
                          .url = "http://127.0.0.1:" + std::to_string(silent.port()),
                          .total_timeout = Duration(200)}),
              StatusIs(StatusCode::kUnavailable));
}

TEST(CurlTransport, MalformedUrlsAreInvalidArguments) {
  auto http = NewCurlTransport();
  EXPECT_THAT(http->Send({.method = "GET", .url = "ftp://127.0.0.1/"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(http->Send({.method = "GET", .url = "not a url"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(http->Send({.method = "GET", .url = "http://[::1/"}),
              StatusIs(StatusCode::kInvalidArgument));
}

TEST(CurlTransport, LoopbackBypassesAProxyFromTheEnvironment) {
  TestHttpServer server([](const ReceivedRequest&) { return CannedResponse{.body = "direct"}; });
  std::string dead_proxy = "http://127.0.0.1:" + std::to_string(ClosedPort());
  ::setenv("http_proxy", dead_proxy.c_str(), 1);
  ::setenv("HTTP_PROXY", dead_proxy.c_str(), 1);
  auto http = NewCurlTransport();
  Result<HttpResponse> r = http->Send({.method = "GET", .url = server.url()});
  ::unsetenv("http_proxy");
  ::unsetenv("HTTP_PROXY");
  ASSERT_OK(r);
  EXPECT_EQ(r->body, "direct");
}

}  // namespace
}  // namespace jit::aws
