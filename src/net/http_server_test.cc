// The connection cap and the accept back-off of net::HttpServer (issue 15, "a connection flood
// delays revocations"). The rest of the server is tested through its owners (api/server_test.cc,
// emulator/emulator_test.cc).

#include "net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/testing.h"

namespace jit::net {
namespace {

using ::testing::HasSubstr;

// One client connection to 127.0.0.1:port over plain POSIX sockets (a refused connection must
// be observable as such, which a client that throws on EOF hides). Reads time out after 5 s.
class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    EXPECT_GE(fd_, 0) << std::strerror(errno);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0)
        << std::strerror(errno);
  }
  ~RawClient() { Close(); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void Send(const std::string& bytes) {
    EXPECT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }

  // Reads until `until` has been received (returns everything read), or the peer closes or
  // resets (returns what came before), or 5 s pass (returns "<timeout>").
  std::string ReadUntil(const std::string& until) {
    std::string got;
    char buf[4096];
    while (got.find(until) == std::string::npos) {
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n > 0) {
        got.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return "<timeout>";
      break;  // 0: closed; ECONNRESET: reset
    }
    return got;
  }

  // Whether the server closed (or reset) the connection; false when it is still open after 5 s.
  bool ClosedByServer() {
    std::string got = ReadUntil("\r\n\r\n");
    return got != "<timeout>" && got.find("HTTP/1.1") == std::string::npos;
  }

  // A GET and its answer's status line ("" when there was none).
  std::string Get() {
    Send("GET /x HTTP/1.1\r\nHost: t\r\n\r\n");
    std::string got = ReadUntil("ok");
    return got.substr(0, got.find("\r\n"));
  }

  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// Polls `done` every 5 ms for up to 5 s.
bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

// Sends the default logger's lines to a string while it lives.
class CapturedLog {
 public:
  CapturedLog()
      : previous_(spdlog::default_logger()),
        logger_(std::make_shared<spdlog::logger>(
            "test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_))) {
    logger_->set_pattern("%l %v");
    spdlog::set_default_logger(logger_);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;

  std::string Text() {
    logger_->flush();
    return out_.str();
  }
  int Count(const std::string& what) {
    std::string text = Text();
    int n = 0;
    for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++n;
    }
    return n;
  }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::logger> logger_;
};

class HttpServerCapTest : public ::testing::Test {
 protected:
  void Start(int max_connections, bool log = false) {
    HttpServerOptions options;
    options.name = "t";
    options.max_connections = max_connections;
    options.log_accept_errors = log;
    server_ = std::make_unique<HttpServer>(
        options,
        [](HttpRequest) {
          HttpResponse res;
          res.body = "ok";
          return res;
        },
        nullptr, clock_);
    Result<BoundAddress> bound = server_->Start();
    ASSERT_OK(bound);
    port_ = bound->port;
  }

  RealClock clock_;
  std::unique_ptr<HttpServer> server_;
  std::uint16_t port_ = 0;
};

// A request whose header has been read and whose body is still to come: the connection is busy
// (the "100 Continue" says the server has read the header).
void StartUpload(RawClient& c) {
  c.Send("POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n");
  EXPECT_THAT(c.ReadUntil("\r\n\r\n"), HasSubstr("100 Continue"));
  c.Send("ab");
}

TEST_F(HttpServerCapTest, RefusesTheConnectionPastTheCapAndServesAgainOnceOneCloses) {
  CapturedLog log;
  Start(/*max_connections=*/2, /*log=*/true);
  RawClient a(port_);
  RawClient b(port_);
  StartUpload(a);
  StartUpload(b);
  EXPECT_EQ(server_->Stats().open, 2);

  // Both connections are busy: the third is closed at once, and counted.
  RawClient c(port_);
  EXPECT_TRUE(c.ClosedByServer());
  EXPECT_EQ(server_->Stats().refused, 1u);
  EXPECT_EQ(server_->Stats().open, 2);
  EXPECT_EQ(log.Count("connections shed"), 1) << log.Text();

  // One client goes away: its place is free again.
  a.Close();
  ASSERT_TRUE(Eventually([&] { return server_->Stats().open == 1; }));
  RawClient d(port_);
  EXPECT_EQ(d.Get(), "HTTP/1.1 200 OK");
  // The busy upload was never disturbed.
  b.Send("cdefghij");
  EXPECT_THAT(b.ReadUntil("ok"), HasSubstr("HTTP/1.1 200 OK"));
  ConnectionStats stats = server_->Stats();
  EXPECT_EQ(stats.refused, 1u);
  EXPECT_EQ(stats.evicted, 0u);
  EXPECT_EQ(stats.accepted, 3u);
}

TEST_F(HttpServerCapTest, ClosesTheConnectionThatWaitedLongestToMakeRoom) {
  Start(/*max_connections=*/2);
  // Two clients that connect and send nothing, as in a connection flood.
  RawClient a(port_);
  ASSERT_TRUE(Eventually([&] { return server_->Stats().open == 1; }));
  RawClient b(port_);
  ASSERT_TRUE(Eventually([&] { return server_->Stats().open == 2; }));

  // A client with a request is served; the oldest idle connection made room.
  RawClient c(port_);
  EXPECT_EQ(c.Get(), "HTTP/1.1 200 OK");
  EXPECT_TRUE(a.ClosedByServer());
  EXPECT_EQ(b.Get(), "HTTP/1.1 200 OK");
  ASSERT_TRUE(Eventually([&] { return server_->Stats().open == 2; }));
  ConnectionStats stats = server_->Stats();
  EXPECT_EQ(stats.evicted, 1u);
  EXPECT_EQ(stats.refused, 0u);

  // Between keep-alive requests a connection is idle too: c answered before b, so it goes next.
  RawClient d(port_);
  EXPECT_EQ(d.Get(), "HTTP/1.1 200 OK");
  EXPECT_TRUE(c.ClosedByServer());
  EXPECT_EQ(server_->Stats().evicted, 2u);
}

TEST_F(HttpServerCapTest, NoCapByDefault) {
  Start(/*max_connections=*/0);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 20; ++i) clients.push_back(std::make_unique<RawClient>(port_));
  ASSERT_TRUE(Eventually([&] { return server_->Stats().open == 20; }));
  for (auto& c : clients) EXPECT_EQ(c->Get(), "HTTP/1.1 200 OK");
  EXPECT_EQ(server_->Stats().evicted + server_->Stats().refused, 0u);
}

// The number of the highest descriptor open in this process.
int HighestOpenDescriptor() {
  int highest = 2;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    int fd = std::atoi(entry.path().filename().c_str());
    highest = std::max(highest, fd);
  }
  return highest;
}

// Issue 15: out of descriptors, the server logged "accept failed" ten times a second. Now it
// waits longer between tries, logs once (then at most once in 10 s), and accepts again as soon
// as descriptors are free.
TEST_F(HttpServerCapTest, AcceptFailuresBackOffAndAreLoggedOnce) {
  CapturedLog log;
  Start(/*max_connections=*/0, /*log=*/true);
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(HighestOpenDescriptor() + 16);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  // Take every descriptor left, then give one back for the client's socket: the server's
  // accept has none.
  std::vector<int> taken;
  for (;;) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    taken.push_back(fd);
  }
  ASSERT_FALSE(taken.empty());
  ::close(taken.back());
  taken.pop_back();
  auto client = std::make_unique<RawClient>(port_);  // connected: the kernel's backlog holds it
  ASSERT_TRUE(Eventually([&] { return server_->Stats().accept_failures >= 4; }));
  // 50 + 100 + 200 ms of waits for the first four tries: not a busy loop.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::uint64_t failures = server_->Stats().accept_failures;
  EXPECT_LE(failures, 6u);

  for (int fd : taken) ::close(fd);
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
  // The next try (at most 1 s away) accepts the waiting client.
  EXPECT_EQ(client->Get(), "HTTP/1.1 200 OK");
  EXPECT_EQ(server_->Stats().accepted, 1u);
  EXPECT_EQ(log.Count("accept failed"), 1) << log.Text();
  EXPECT_THAT(log.Text(), HasSubstr("warning t: accept failed: Too many open files; trying again "
                                    "in 50 ms"));
}

}  // namespace
}  // namespace jit::net
