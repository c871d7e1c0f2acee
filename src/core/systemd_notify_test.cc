#include "core/systemd_notify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "core/testing.h"

namespace jit {
namespace {

using ::jit::testing::StatusIs;

// A datagram socket bound to `name` (a path, or "@name" for an abstract one), as systemd's
// notify socket is, and $NOTIFY_SOCKET naming it for the length of the test.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& name) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, name.data(), name.size());
    socklen_t length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    if (name[0] == '@') addr.sun_path[0] = '\0';
    bound_ = ::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), length) == 0;
    ::setenv("NOTIFY_SOCKET", name.c_str(), 1);
  }
  ~NotifySocket() {
    ::unsetenv("NOTIFY_SOCKET");
    ::close(fd_);
  }
  bool bound() const { return bound_; }
  std::string Receive() {
    char buf[256];
    ssize_t n = ::recv(fd_, buf, sizeof(buf), MSG_DONTWAIT);
    return n < 0 ? "<nothing>" : std::string(buf, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  bool bound_ = false;
};

TEST(SystemdNotifyTest, WithoutNotifySocketNothingIsSent) {
  ::unsetenv("NOTIFY_SOCKET");
  EXPECT_OK(NotifySystemd("READY=1"));
  ::setenv("NOTIFY_SOCKET", "", 1);
  EXPECT_OK(NotifySystemd("READY=1"));
  ::unsetenv("NOTIFY_SOCKET");
}

TEST(SystemdNotifyTest, SendsOneDatagramToAPathSocket) {
  ::jit::testing::TempDir dir;
  NotifySocket socket((dir.path() / "notify").string());
  ASSERT_TRUE(socket.bound());
  ASSERT_OK(NotifySystemd("READY=1"));
  EXPECT_EQ(socket.Receive(), "READY=1");
  ASSERT_OK(NotifySystemd("STOPPING=1"));
  EXPECT_EQ(socket.Receive(), "STOPPING=1");
}

TEST(SystemdNotifyTest, SendsToAnAbstractSocketNamedWithAnAt) {
  NotifySocket socket("@jit-notify-test-" + std::to_string(::getpid()));
  ASSERT_TRUE(socket.bound());
  ASSERT_OK(NotifySystemd("READY=1"));
  EXPECT_EQ(socket.Receive(), "READY=1");
}

TEST(SystemdNotifyTest, RefusesANameThatIsNoSocketAndReportsAMissingOne) {
  ::setenv("NOTIFY_SOCKET", "relative/path", 1);
  EXPECT_THAT(NotifySystemd("READY=1"), StatusIs(StatusCode::kInvalidArgument));
  ::setenv("NOTIFY_SOCKET", "/nonexistent/jit-notify", 1);
  EXPECT_THAT(NotifySystemd("READY=1"), StatusIs(StatusCode::kUnavailable));
  ::unsetenv("NOTIFY_SOCKET");
}

}  // namespace
}  // namespace jit
