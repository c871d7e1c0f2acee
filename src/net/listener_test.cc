#include "net/listener.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing.h"

namespace jit::net {
namespace {

using ::jit::testing::StatusIs;
using ::testing::HasSubstr;

TEST(ParseListen, ReadsHostsAndPorts) {
  auto v4 = ParseListen("127.0.0.1:8080");
  ASSERT_OK(v4);
  EXPECT_EQ(v4->port(), 8080);
  EXPECT_TRUE(v4->address().is_loopback());
  auto v6 = ParseListen("[::1]:0");
  ASSERT_OK(v6);
  EXPECT_TRUE(v6->address().is_v6());
  EXPECT_TRUE(ParseListen("localhost:1")->address().is_loopback());
  EXPECT_TRUE(ParseListen(":9")->address().is_unspecified());
}

TEST(ParseListen, RefusesWhatIsNotHostPort) {
  EXPECT_THAT(ParseListen("8080"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("HOST:PORT")));
  EXPECT_THAT(ParseListen("127.0.0.1:99999"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListen("127.0.0.1:x"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseListen("::1:80"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("brackets")));
  EXPECT_THAT(ParseListen("example.com:80"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(Listen, BindsAPortAndRefusesNonLoopbackWhenAsked) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io);
  auto local = Listen(a, "127.0.0.1:0", true, "loopback only");
  ASSERT_OK(local);
  EXPECT_NE(local->port(), 0);
  boost::asio::ip::tcp::acceptor b(io);
  EXPECT_THAT(Listen(b, "0.0.0.0:0", true, "loopback only"),
              StatusIs(StatusCode::kInvalidArgument, "loopback only"));
  // The port is taken by `a`.
  boost::asio::ip::tcp::acceptor c(io);
  EXPECT_THAT(Listen(c, "127.0.0.1:" + std::to_string(local->port()), false, ""),
              StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace jit::net
