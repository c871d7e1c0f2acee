#include "cli/cli.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/http_client.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "policy/config.h"

namespace jit::cli {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A tiny HTTP/1.1 server on 127.0.0.1 (port 0) that records what it receives and answers with
// scripted replies, one per request, in order; the last reply repeats once the script runs out.
class CannedServer {
 public:
  struct Received {
    std::string method;
    std::string path;                            // with the query
    std::map<std::string, std::string> headers;  // names lower-cased
    std::string body;
  };
  struct Scripted {
    int status = 200;
    std::string body;
  };

  CannedServer() {
    listen_fd_ = socket(AF_INET, SOCK_STREAM, 0);
    JIT_CHECK(listen_fd_ >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    JIT_CHECK(bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    JIT_CHECK(listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    JIT_CHECK(getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~CannedServer() {
    stop_ = true;
    thread_.join();
    close(listen_fd_);
  }
  CannedServer(const CannedServer&) = delete;
  CannedServer& operator=(const CannedServer&) = delete;

  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  // Queues a reply with `body` as is.
  void RespondRaw(int status, std::string body) {
    MutexLock lock(&mu_);
    replies_.push_back({status, std::move(body)});
  }
  // Queues a reply with a JSON body.
  void Respond(int status, const json& body) { RespondRaw(status, body.dump()); }

  std::vector<Received> Requests() const {
    MutexLock lock(&mu_);
    return received_;
  }
  Received Only() const {
    std::vector<Received> all = Requests();
    EXPECT_EQ(all.size(), 1u);
    return all.empty() ? Received{} : all.front();
  }

 private:
  void Loop() {
    while (!stop_) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int fd = accept(listen_fd_, nullptr, nullptr);
      if (fd < 0) continue;
      Serve(fd);
      close(fd);
    }
  }

  void Serve(int fd) {
    std::string data;
    char buf[4096];
    size_t header_end = std::string::npos;
    while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) return;
      data.append(buf, static_cast<size_t>(n));
    }
    Received r;
    std::istringstream head(data.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    std::istringstream request_line(line);
    request_line >> r.method >> r.path;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      size_t value_start = line.find_first_not_of(' ', colon + 1);
      r.headers[name] = value_start == std::string::npos ? "" : line.substr(value_start);
    }
    size_t length = r.headers.count("content-length") ? std::stoul(r.headers["content-length"]) : 0;
    r.body = data.substr(header_end + 4);
    while (r.body.size() < length) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      r.body.append(buf, static_cast<size_t>(n));
    }
    Scripted reply{404, R"({"error":{"code":"not_found","message":"no script"}})"};
    {
      MutexLock lock(&mu_);
      received_.push_back(r);
      if (!replies_.empty()) {
        reply = replies_.front();
        if (replies_.size() > 1) replies_.pop_front();
      }
    }
    std::string response = "HTTP/1.1 " + std::to_string(reply.status) +
                           " X\r\nContent-Type: application/json\r\nContent-Length: " +
                           std::to_string(reply.body.size()) + "\r\nConnection: close\r\n\r\n" +
                           reply.body;
    size_t sent = 0;
    while (sent < response.size()) {
      ssize_t n = write(fd, response.data() + sent, response.size() - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable Mutex mu_;
  std::deque<Scripted> replies_ GUARDED_BY(mu_);
  std::vector<Received> received_ GUARDED_BY(mu_);
};

// A port on 127.0.0.1 that nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  JIT_CHECK(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  JIT_CHECK(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

json Request(const std::string& id, const std::string& state) {
  return {
      {"id", id},
      {"requester", "alice"},
      {"account", {{"id", "222222222222"}, {"name", "prod"}}},
      {"permission_set", {{"name", "Admin"}, {"arn", "arn:aws:sso:::permissionSet/ssoins-1/ps-1"}}},
      {"duration_seconds", 3600},
      {"duration", "1h"},
      {"reason", "INC-42 outage"},
      {"ticket", nullptr},
      {"rule", "admin-prod"},
      {"break_glass", false},
      {"state", state},
      {"approvals_required", 1},
      {"approvals", json::array()},
      {"created_at", "2026-01-01T00:00:00.000Z"},
      {"approval_deadline", "2026-01-01T00:15:00.000Z"},
      {"decided_at", nullptr},
      {"activated_at", nullptr},
      {"expires_at", nullptr},
      {"ended_at", nullptr},
      {"decided_by", nullptr},
      {"end_reason", nullptr},
      {"failure_reason", nullptr}};
}

json ActiveRequest(const std::string& id) {
  json r = Request(id, "active");
  r["approvals"] = json::array(
      {{{"approver", "bob"}, {"comment", "go ahead"}, {"at", "2026-01-01T00:01:00.000Z"}}});
  r["decided_at"] = "2026-01-01T00:01:00.000Z";
  r["decided_by"] = "bob";
  r["activated_at"] = "2026-01-01T00:02:00.000Z";
  r["expires_at"] = "2026-01-01T01:02:00.000Z";
  r["history"] = json::array({{{"seq", 7},
                               {"at", "2026-01-01T00:00:00.000Z"},
                               {"actor", "alice"},
                               {"action", "request.created"},
                               {"severity", "info"},
                               {"details", json::object()}},
                              {{"seq", 9},
                               {"at", "2026-01-01T00:02:00.000Z"},
                               {"actor", "jit"},
                               {"action", "grant.succeeded"},
                               {"severity", "info"},
                               {"details", {{"assignment", "created"}}}}});
  return r;
}

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    unsetenv("JIT_SERVER");
    unsetenv("JIT_TOKEN");
  }
  void TearDown() override {
    unsetenv("JIT_SERVER");
    unsetenv("JIT_TOKEN");
  }

  // Runs `jit <args...>` against nothing in particular (no --server, no --token added).
  Outcome RunRaw(std::vector<std::string> args) {
    args.insert(args.begin(), "jit");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    std::ostringstream out, err;
    Outcome o;
    cli::Commands commands;
    commands.serve = [this](const ServeOptions& opts) {
      served_.push_back(opts);
      return serve_status_;
    };
    commands.emulator = [this](const cli::EmulatorCommandOptions& opts) {
      emulated_.push_back(opts);
      return serve_status_;
    };
    commands.check_aws = [this](const config::Config& config) -> Result<cli::AwsCheck> {
      ++aws_checks_;
      checked_rules_ = static_cast<int>(config.policy.rules.size());
      return aws_answer_;
    };
    o.code = cli::Run(static_cast<int>(args.size()), argv.data(), out, err, commands, clock_,
                      [this](Duration d) {
                        sleeps_.push_back(d);
                        clock_.Advance(d);
                      });
    o.out = out.str();
    o.err = err.str();
    return o;
  }

  // Runs `jit --server <canned> --token dev-alice <args...>`.
  Outcome RunCli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--server", server_.Url(), "--token", "dev-alice"});
    return RunRaw(std::move(args));
  }

  CannedServer server_;
  FakeClock clock_;
  std::vector<Duration> sleeps_;
  std::vector<ServeOptions> served_;
  std::vector<cli::EmulatorCommandOptions> emulated_;
  int serve_status_ = 0;
  int aws_checks_ = 0;
  int checked_rules_ = 0;
  Result<cli::AwsCheck> aws_answer_ = cli::AwsCheck{};
};

// --- request ----------------------------------------------------------------------------------

TEST_F(CliTest, RequestPostsTheRequestWithTheBearerToken) {
  server_.Respond(201, Request("r-1", "pending"));
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "INC-42 outage",
                      "--ticket", "INC-42"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(o.err, "");
  CannedServer::Received r = server_.Only();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/v1/requests");
  EXPECT_EQ(r.headers["authorization"], "Bearer dev-alice");
  EXPECT_EQ(r.headers["content-type"], "application/json");
  EXPECT_EQ(json::parse(r.body), json({{"account", "prod"},
                                       {"permission_set", "Admin"},
                                       {"duration", "1h"},
                                       {"reason", "INC-42 outage"},
                                       {"ticket", "INC-42"}}));
  EXPECT_THAT(o.out, HasSubstr("r-1"));
  EXPECT_THAT(o.out, HasSubstr("pending"));
  EXPECT_THAT(o.out, HasSubstr("prod (222222222222)"));
  EXPECT_THAT(o.out, HasSubstr("Admin"));
  EXPECT_THAT(o.out, HasSubstr("0 of 1"));
  EXPECT_TRUE(sleeps_.empty());
}

TEST_F(CliTest, RequestWithoutTicketLeavesTicketOut) {
  server_.Respond(201, Request("r-1", "pending"));
  Outcome o = RunCli({"request", "sandbox", "ReadOnly", "--for", "30m", "--reason", "look"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_FALSE(json::parse(server_.Only().body).contains("ticket"));
}

TEST_F(CliTest, RequestWaitPollsEverySecondUntilActive) {
  server_.Respond(201, Request("r-7", "pending"));
  server_.Respond(200, Request("r-7", "pending"));
  server_.Respond(200, Request("r-7", "approved"));
  server_.Respond(200, ActiveRequest("r-7"));
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 0) << o.err;
  std::vector<CannedServer::Received> all = server_.Requests();
  ASSERT_EQ(all.size(), 4u);
  EXPECT_EQ(all[0].method, "POST");
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(all[i].method, "GET");
    EXPECT_EQ(all[i].path, "/v1/requests/r-7");
    EXPECT_EQ(all[i].headers["authorization"], "Bearer dev-alice");
  }
  EXPECT_THAT(sleeps_, ElementsAre(Duration(1000), Duration(1000), Duration(1000)));
  EXPECT_THAT(o.out, HasSubstr("active"));
  EXPECT_THAT(o.out, HasSubstr("grant.succeeded"));
}

TEST_F(CliTest, RequestWaitJsonPrintsOnlyTheFinalRequest) {
  server_.Respond(201, Request("r-7", "pending"));
  server_.Respond(200, ActiveRequest("r-7"));
  Outcome o = RunCli(
      {"--output", "json", "request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), ActiveRequest("r-7"));
}

TEST_F(CliTest, RequestWaitFailsWhenDenied) {
  server_.Respond(201, Request("r-7", "pending"));
  json denied = Request("r-7", "denied");
  denied["end_reason"] = "not during the freeze";
  server_.Respond(200, denied);
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: request r-7 ended denied: not during the freeze\n");
}

TEST_F(CliTest, RequestWaitSucceedsWhenAlreadyEnded) {
  server_.Respond(201, Request("r-7", "pending"));
  server_.Respond(200, Request("r-7", "ended"));
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "5s", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 0) << o.err;
}

TEST_F(CliTest, RequestWaitGivesUpAfterTheTimeout) {
  server_.Respond(201, Request("r-7", "pending"));
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait",
                      "--wait-timeout", "3s"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(sleeps_.size(), 3u);
  EXPECT_EQ(o.err, "jit: gave up waiting for request r-7 after 3s (it is still pending)\n");
}

TEST_F(CliTest, RequestWaitKeepsPollingThroughServerErrors) {
  server_.Respond(201, Request("r-7", "pending"));
  server_.RespondRaw(503, R"({"error":{"code":"unavailable","message":"store busy"}})");
  server_.Respond(200, ActiveRequest("r-7"));
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 0);
  EXPECT_EQ(server_.Requests().size(), 3u);
}

TEST_F(CliTest, RequestWaitStopsOnAClientError) {
  server_.Respond(201, Request("r-7", "pending"));
  server_.RespondRaw(403, R"({"error":{"code":"forbidden","message":"not yours"}})");
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "1h", "--reason", "x", "--wait"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: not yours (HTTP 403)\n");
}

TEST_F(CliTest, RequestRefusesABadDurationBeforeCallingTheServer) {
  Outcome o = RunCli({"request", "prod", "Admin", "--for", "5x", "--reason", "x"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, StartsWith("jit: --for: "));
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CliTest, RequestStartAtTakesATimeOrAnOffsetFromNow) {
  json scheduled = Request("r-1", "approved");
  scheduled["start_at"] = "2026-01-01T02:00:00.000Z";
  server_.Respond(201, scheduled);
  Outcome o = RunCli(
      {"request", "sandbox", "ReadOnly", "--for", "30m", "--reason", "x", "--start-at", "+2h"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server_.Requests().back().body)["start_at"], "2026-01-01T02:00:00.000Z");
  EXPECT_THAT(o.out, HasSubstr("Starts"));
  EXPECT_THAT(o.out, HasSubstr("2026-01-01 02:00:00Z"));

  o = RunCli({"request", "sandbox", "ReadOnly", "--for", "30m", "--reason", "x", "--start-at",
              "2026-01-03T09:30:00+01:00"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(server_.Requests().back().body)["start_at"], "2026-01-03T08:30:00.000Z");
}

TEST_F(CliTest, RequestRefusesABadStartAtBeforeCallingTheServer) {
  for (const char* bad : {"tomorrow", "+2x", "2026-13-01T00:00:00Z"}) {
    Outcome o = RunCli(
        {"request", "sandbox", "ReadOnly", "--for", "30m", "--reason", "x", "--start-at", bad});
    EXPECT_EQ(o.code, 2) << bad;
    EXPECT_THAT(o.err, StartsWith("jit: --start-at: ")) << bad;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << o.err;
  }
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CliTest, ExtendSaysWhenTheExtensionAwaitsApproval) {
  json r = ActiveRequest("r-1");
  r["extension"] = {{"duration_seconds", 600},
                    {"duration", "10m"},
                    {"requested_at", "2026-01-01T00:30:00.000Z"},
                    {"deadline", "2026-01-01T00:45:00.000Z"},
                    {"approvals_required", 2},
                    {"approvals", json::array()}};
  server_.Respond(200, r);
  Outcome o = RunCli({"extend", "r-1", "--for", "10m"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("extension by 10m awaits approval (0 of 2)"));
  server_.Respond(200, r);
  o = RunCli({"show", "r-1"});
  EXPECT_THAT(o.out, HasSubstr("+10m awaiting approval (0 of 2, until 2026-01-01 00:45:00Z)"));
}

// --- ls / show --------------------------------------------------------------------------------

TEST_F(CliTest, LsSendsTheFiltersAsQuery) {
  server_.Respond(200,
                  json{{"items", json::array({ActiveRequest("r-1"), Request("r-2", "pending")})},
                       {"next_cursor", "c2"}});
  Outcome o = RunCli({"ls", "--state", "active", "--mine", "--limit", "5"});
  EXPECT_EQ(o.code, 0) << o.err;
  CannedServer::Received r = server_.Only();
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.path, "/v1/requests?state=active&mine=true&limit=5");
  EXPECT_EQ(r.headers["authorization"], "Bearer dev-alice");
  EXPECT_THAT(o.out, HasSubstr("ID"));
  EXPECT_THAT(o.out, HasSubstr("PERMISSION SET"));
  EXPECT_THAT(o.out, HasSubstr("r-1"));
  EXPECT_THAT(o.out, HasSubstr("r-2"));
  EXPECT_THAT(o.out, HasSubstr("alice"));
  EXPECT_THAT(o.out, HasSubstr("2026-01-01 01:02:00Z"));
  EXPECT_THAT(o.out, HasSubstr("--cursor c2"));
}

TEST_F(CliTest, LsReviewOpenAsksForOpenReviews) {
  server_.Respond(200, json{{"items", json::array()}, {"next_cursor", nullptr}});
  Outcome o = RunCli({"ls", "--review", "open"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/requests?review=open");
  o = RunCli({"ls", "--review", "maybe"});
  EXPECT_EQ(o.code, 2);
}

TEST_F(CliTest, LsAlignsColumns) {
  json longer = Request("r-1000000", "pending");
  server_.Respond(200, json{{"items", json::array({Request("r-1", "active"), longer})},
                            {"next_cursor", nullptr}});
  Outcome o = RunCli({"ls"});
  ASSERT_EQ(o.code, 0) << o.err;
  std::istringstream lines(o.out);
  std::string header, row1, row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_EQ(header.find("STATE"), row1.find("active"));
  EXPECT_EQ(header.find("STATE"), row2.find("pending"));
}

TEST_F(CliTest, LsEncodesQueryValues) {
  server_.Respond(200, json{{"items", json::array()}, {"next_cursor", nullptr}});
  Outcome o = RunCli({"ls", "--state", "a b&c=d"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/requests?state=a%20b%26c%3Dd");
  EXPECT_THAT(o.out, HasSubstr("No requests."));
}

TEST_F(CliTest, LsJsonPrintsTheBodyAsReceived) {
  json body{{"items", json::array({ActiveRequest("r-1")})}, {"next_cursor", nullptr}};
  server_.Respond(200, body);
  Outcome o = RunCli({"ls", "--output", "json"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), body);
  EXPECT_EQ(o.out.back(), '\n');
}

TEST_F(CliTest, ShowPrintsOneRequestWithHistoryAndTimeLeft) {
  server_.Respond(200, ActiveRequest("r-1"));
  clock_.Advance(std::chrono::minutes(20));  // 00:20; expires 01:02
  Outcome o = RunCli({"show", "r-1"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/requests/r-1");
  EXPECT_EQ(server_.Only().method, "GET");
  EXPECT_THAT(o.out, HasSubstr("active (42m left)"));
  EXPECT_THAT(o.out, HasSubstr("INC-42 outage"));
  EXPECT_THAT(o.out, HasSubstr("bob"));
  EXPECT_THAT(o.out, HasSubstr("go ahead"));
  EXPECT_THAT(o.out, HasSubstr("History:"));
  EXPECT_THAT(o.out, HasSubstr("request.created"));
  EXPECT_THAT(o.out, HasSubstr("grant.succeeded"));
  EXPECT_THAT(o.out, HasSubstr(R"({"assignment":"created"})"));
}

// What a requester typed reaches an approver's terminal escaped: a clear-screen sequence and a
// fake "APPROVED" in the reason, ticket, end reason, an approval comment or a user name are shown
// as text, in `show`, `ls`, `audit tail` and in the one-line answers of the decision verbs.
constexpr char kClearAndLie[] =
    "\x1b[2J\x1b[1;1HAPPROVED\xc2\x9b"
    "31m";

bool HasRawControl(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c < 0x20 && c != '\n') || c == 0x7f) return true;
    if (c == 0xc2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
        static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      return true;
    }
  }
  return false;
}

TEST_F(CliTest, ShowEscapesControlCharactersInWhatUsersTyped) {
  json r = ActiveRequest("r-1");
  r["reason"] = std::string("fix ") + kClearAndLie;
  r["ticket"] = kClearAndLie;
  r["end_reason"] = kClearAndLie;
  r["requester"] = std::string("mal\rlory");
  r["approvals"][0]["comment"] = kClearAndLie;
  r["history"][0]["actor"] = kClearAndLie;
  server_.Respond(200, r);
  Outcome o = RunCli({"show", "r-1"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_FALSE(HasRawControl(o.out)) << o.out;
  EXPECT_THAT(o.out, HasSubstr("fix \\x1b[2J\\x1b[1;1HAPPROVED\\u009b31m"));
  EXPECT_THAT(o.out, HasSubstr("mal\\rlory"));
}

TEST_F(CliTest, ShowNamesTheGroupOfAGroupMembership) {
  json r = ActiveRequest("r-1");
  r["account"] = {{"id", "group"}, {"name", "group"}};
  r["permission_set"] = {{"name", "sre"}, {"arn", "5e000000-0000-4000-8000-000000000013"}};
  r["group"] = {{"id", "5e000000-0000-4000-8000-000000000013"}, {"name", "sre"}};
  server_.Respond(200, r);
  Outcome o = RunCli({"show", "r-1"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("Group:"));
  EXPECT_THAT(o.out, HasSubstr("sre (5e000000-0000-4000-8000-000000000013)"));
  EXPECT_THAT(o.out, Not(HasSubstr("Account:")));
  EXPECT_THAT(o.out, Not(HasSubstr("Permission set:")));
}

TEST_F(CliTest, RequestForAGroupSendsTheGroupAccount) {
  server_.Respond(201, Request("r-1", "pending"));
  Outcome o = RunCli({"request", "group", "sre", "--for", "30m", "--reason", "incident"});
  EXPECT_EQ(o.code, 0) << o.err;
  json sent = json::parse(server_.Only().body);
  EXPECT_EQ(sent["account"], "group");
  EXPECT_EQ(sent["permission_set"], "sre");
}

TEST_F(CliTest, LsAndAuditTailEscapeControlCharacters) {
  json listed = Request("r-1", "pending");
  listed["requester"] = kClearAndLie;
  server_.Respond(200, json{{"items", json::array({listed})}, {"next_cursor", nullptr}});
  Outcome ls = RunCli({"ls"});
  EXPECT_EQ(ls.code, 0) << ls.err;
  EXPECT_FALSE(HasRawControl(ls.out)) << ls.out;
  EXPECT_THAT(ls.out, HasSubstr("\\x1b[2J"));

  json event{{"seq", 3},
             {"at", "2026-01-01T00:00:00.000Z"},
             {"actor", kClearAndLie},
             {"action", "x"},
             {"request_id", kClearAndLie},
             {"severity", "info"},
             {"details", {{"reason", kClearAndLie}}}};
  server_.Respond(200, json{{"items", json::array({event})}, {"next_after", nullptr}});
  Outcome tail = RunCli({"audit", "tail"});
  EXPECT_EQ(tail.code, 0) << tail.err;
  EXPECT_FALSE(HasRawControl(tail.out)) << tail.out;
}

TEST_F(CliTest, ServerErrorMessagesAreEscaped) {
  server_.Respond(422, json{{"error",
                             {{"code", "invalid_argument"},
                              {"message", std::string("bad ticket '") + kClearAndLie + "'"}}}});
  Outcome o = RunCli({"show", "r-1"});
  EXPECT_NE(o.code, 0);
  EXPECT_FALSE(HasRawControl(o.err)) << o.err;
  EXPECT_THAT(o.err, HasSubstr("\\x1b[2J"));
}

TEST_F(CliTest, ShowEncodesTheId) {
  server_.Respond(200, Request("a/b", "pending"));
  Outcome o = RunCli({"show", "a/b"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/requests/a%2Fb");
}

TEST_F(CliTest, ShowJsonPrintsTheBodyAsReceived) {
  server_.Respond(200, ActiveRequest("r-1"));
  Outcome o = RunCli({"show", "r-1", "--output", "json"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), ActiveRequest("r-1"));
}

// --- decisions --------------------------------------------------------------------------------

struct DecisionCase {
  std::vector<std::string> args;
  std::string path;
  json body;
};

// Names each case by its command line in test listings (ctest shows the parameter).
void PrintTo(const DecisionCase& c, std::ostream* os) {
  for (std::size_t i = 0; i < c.args.size(); ++i) *os << (i ? " " : "") << c.args[i];
}

class DecisionTest : public CliTest, public ::testing::WithParamInterface<DecisionCase> {};

TEST_P(DecisionTest, PostsTheVerbWithItsBody) {
  server_.Respond(200, ActiveRequest("r-1"));
  Outcome o = RunCli(GetParam().args);
  EXPECT_EQ(o.code, 0) << o.err;
  CannedServer::Received r = server_.Only();
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, GetParam().path);
  EXPECT_EQ(r.headers["authorization"], "Bearer dev-alice");
  EXPECT_EQ(json::parse(r.body), GetParam().body);
  EXPECT_THAT(o.out, HasSubstr("r-1"));
  EXPECT_THAT(o.out, HasSubstr("active"));
}

INSTANTIATE_TEST_SUITE_P(
    Verbs, DecisionTest,
    ::testing::Values(
        DecisionCase{{"approve", "r-1"}, "/v1/requests/r-1/approve", json::object()},
        DecisionCase{
            {"approve", "r-1", "--comment", "ok"}, "/v1/requests/r-1/approve", {{"comment", "ok"}}},
        DecisionCase{
            {"deny", "r-1", "--reason", "no"}, "/v1/requests/r-1/deny", {{"reason", "no"}}},
        DecisionCase{{"cancel", "r-1"}, "/v1/requests/r-1/cancel", json::object()},
        DecisionCase{{"revoke", "r-1"}, "/v1/requests/r-1/revoke", json::object()},
        DecisionCase{
            {"revoke", "r-1", "--reason", "done"}, "/v1/requests/r-1/revoke", {{"reason", "done"}}},
        DecisionCase{
            {"extend", "r-1", "--for", "30m"}, "/v1/requests/r-1/extend", {{"duration", "30m"}}},
        DecisionCase{{"review", "r-1"}, "/v1/requests/r-1/review", json::object()},
        DecisionCase{{"review", "r-1", "--comment", "keys rotated"},
                     "/v1/requests/r-1/review",
                     {{"comment", "keys rotated"}}}));

TEST_F(CliTest, ReviewSaysWhoClosedIt) {
  json r = ActiveRequest("r-1");
  r["break_glass"] = true;
  r["review_state"] = "closed";
  r["reviewed_by"] = "bob";
  r["review_comment"] = "fine";
  r["reviewed_at"] = "2026-01-01T00:01:00.000Z";
  server_.Respond(200, r);
  Outcome o = RunCli({"review", "r-1", "--comment", "fine"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("r-1: review closed by bob"));

  server_.Respond(200, r);
  o = RunCli({"show", "r-1"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("closed by bob"));
  EXPECT_THAT(o.out, HasSubstr(": fine"));
}

TEST_F(CliTest, DecisionJsonPrintsTheRequestAsReceived) {
  server_.Respond(200, ActiveRequest("r-1"));
  Outcome o = RunCli({"-o", "json", "approve", "r-1"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), ActiveRequest("r-1"));
}

TEST_F(CliTest, DenyNeedsAReason) {
  Outcome o = RunCli({"deny", "r-1"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, StartsWith("jit: "));
  EXPECT_THAT(o.err, HasSubstr("--reason"));
  EXPECT_TRUE(server_.Requests().empty());
}

// --- catalog, whoami, audit -------------------------------------------------------------------

TEST_F(CliTest, CatalogPrintsATable) {
  json catalog{
      {"items",
       json::array({{{"account", {{"id", "222222222222"}, {"name", "prod"}, {"tags", {"prod"}}}},
                     {"permission_set", {{"name", "Admin"}, {"arn", "arn:x"}}},
                     {"rule", "admin-prod"},
                     {"max_duration", "1h"},
                     {"max_duration_seconds", 3600},
                     {"min_duration_seconds", 5},
                     {"approval", "approvers"},
                     {"approvals_required", 1},
                     {"reason_required", true},
                     {"ticket_pattern", "INC-[0-9]+"}}})}};
  server_.Respond(200, catalog);
  Outcome o = RunCli({"catalog"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/catalog");
  EXPECT_EQ(server_.Only().method, "GET");
  for (const char* s : {"ACCOUNT", "prod (222222222222)", "Admin", "admin-prod", "1h",
                        "approvers (1)", "required", "INC-[0-9]+"}) {
    EXPECT_THAT(o.out, HasSubstr(s));
  }
  server_.Respond(200, catalog);
  Outcome j = RunCli({"catalog", "--output", "json"});
  EXPECT_EQ(json::parse(j.out), catalog);
}

TEST_F(CliTest, CatalogNamesTheOuOfAnAccountFromTheOrganization) {
  json account = {
      {"id", "222222222222"}, {"name", "prod"}, {"tags", {"env=prod"}}, {"ou", "ou-ab12-prod0000"}};
  server_.Respond(200, json{{"items", json::array({{{"account", account},
                                                    {"permission_set", {{"name", "Admin"}}},
                                                    {"rule", "by-ou"},
                                                    {"approval", "auto"}}})}});
  Outcome o = RunCli({"catalog"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr("prod (222222222222) · ou-ab12-prod0000"));
}

TEST_F(CliTest, WhoamiPrintsTheIdentity) {
  server_.Respond(200, json{{"username", "carol"},
                            {"groups", {"approvers", "sre"}},
                            {"principal_id", "u-3"},
                            {"roles", {"admin"}}});
  Outcome o = RunCli({"whoami"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/me");
  EXPECT_THAT(o.out, HasSubstr("carol"));
  EXPECT_THAT(o.out, HasSubstr("approvers, sre"));
  EXPECT_THAT(o.out, HasSubstr("u-3"));
}

TEST_F(CliTest, AuditTailSendsAfterAndLimit) {
  server_.Respond(200, json{{"items", json::array({{{"seq", 12},
                                                    {"at", "2026-01-01T00:00:00Z"},
                                                    {"actor", "bob"},
                                                    {"action", "request.approved"},
                                                    {"request_id", "r-1"},
                                                    {"severity", "info"},
                                                    {"details", json::object()},
                                                    {"prev_hash", "aa"},
                                                    {"hash", "bb"}}})},
                            {"next_after", 12}});
  Outcome o = RunCli({"audit", "tail", "--after", "11", "--limit", "50"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/audit?after=11&limit=50");
  EXPECT_THAT(o.out, HasSubstr("request.approved"));
  EXPECT_THAT(o.out, HasSubstr("r-1"));
  EXPECT_THAT(o.out, HasSubstr("--after 12"));
}

TEST_F(CliTest, AuditTailWithoutFlagsSendsNoQuery) {
  server_.Respond(200, json{{"items", json::array()}, {"next_after", nullptr}});
  Outcome o = RunCli({"audit", "tail"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/audit");
}

json AuditPage(int first, int count) {
  json items = json::array();
  for (int i = first; i < first + count; ++i) {
    items.push_back({{"seq", i},
                     {"at", "2026-01-01T00:00:00.000Z"},
                     {"actor", "alice"},
                     {"action", "request.created"},
                     {"request_id", "r-1"},
                     {"severity", "info"},
                     {"details", json::object()}});
  }
  return {{"items", items}, {"next_after", count > 0 ? json(first + count - 1) : json(nullptr)}};
}

TEST_F(CliTest, AuditExportPagesThroughEverything) {
  server_.Respond(200, AuditPage(1, 1000));
  server_.Respond(200, AuditPage(1001, 2));
  Outcome o = RunCli({"audit", "export", "--format", "ocsf"});
  EXPECT_EQ(o.code, 0) << o.err;
  std::vector<CannedServer::Received> got = server_.Requests();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].path, "/v1/audit?after=0&limit=1000&format=ocsf");
  EXPECT_EQ(got[1].path, "/v1/audit?after=1000&limit=1000&format=ocsf");
  EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 1002);
  EXPECT_EQ(json::parse(o.out.substr(0, o.out.find('\n')))["seq"], 1);
  o = RunCli({"audit", "export", "--format", "csv"});
  EXPECT_EQ(o.code, 2);
}

TEST_F(CliTest, AuditTailFollowPollsForNewEvents) {
  server_.Respond(200, AuditPage(1, 2));
  server_.Respond(200, AuditPage(3, 0));
  server_.Respond(200, AuditPage(3, 1));
  Outcome o = RunCli({"audit", "tail", "-f", "--max-polls", "3"});
  EXPECT_EQ(o.code, 0) << o.err;
  std::vector<CannedServer::Received> got = server_.Requests();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].path, "/v1/audit?after=0&limit=1000");
  EXPECT_EQ(got[1].path, "/v1/audit?after=2&limit=1000");
  EXPECT_EQ(got[2].path, "/v1/audit?after=2&limit=1000");
  EXPECT_EQ(std::count(o.out.begin(), o.out.end(), '\n'), 3);
  EXPECT_THAT(o.out, HasSubstr("3  2026-01-01 00:00:00Z  alice  request.created  r-1  info  {}"));
  EXPECT_EQ(sleeps_.size(), 2u);
}

TEST_F(CliTest, AuditVerifyReportsABrokenChain) {
  server_.Respond(200, json{{"ok", true}, {"events", 40}});
  Outcome good = RunCli({"audit", "verify"});
  EXPECT_EQ(good.code, 0) << good.err;
  EXPECT_EQ(server_.Requests().at(0).path, "/v1/audit/verify");

  CannedServer other;
  other.Respond(200, json{{"ok", false}, {"first_bad_seq", 17}, {"why", "hash mismatch"}});
  Outcome bad = RunRaw({"--server", other.Url(), "--token", "t", "audit", "verify"});
  EXPECT_EQ(bad.code, 1);
  EXPECT_EQ(bad.err, "jit: the audit chain is broken at seq 17: hash mismatch\n");
}

// --- server, token, errors --------------------------------------------------------------------

TEST_F(CliTest, EnvironmentGivesServerAndToken) {
  server_.Respond(200, json{{"username", "bob"}});
  setenv("JIT_SERVER", server_.Url().c_str(), 1);
  setenv("JIT_TOKEN", "dev-bob", 1);
  Outcome o = RunRaw({"whoami"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().headers["authorization"], "Bearer dev-bob");
}

TEST_F(CliTest, FlagsOverrideTheEnvironment) {
  server_.Respond(200, json{{"username", "carol"}});
  setenv("JIT_SERVER", ("http://127.0.0.1:" + std::to_string(ClosedPort())).c_str(), 1);
  setenv("JIT_TOKEN", "dev-bob", 1);
  Outcome o = RunRaw({"whoami", "--server", server_.Url(), "--token", "dev-carol"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().headers["authorization"], "Bearer dev-carol");
}

TEST_F(CliTest, GlobalOptionsWorkAfterNestedSubcommands) {
  server_.Respond(200, json{{"items", json::array()}, {"next_after", nullptr}});
  Outcome o = RunRaw({"audit", "tail", "--server", server_.Url(), "--token", "x", "--output",
                      "json", "--limit", "2"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/audit?limit=2");
}

TEST_F(CliTest, TrailingSlashOnServerIsIgnored) {
  server_.Respond(200, json{{"username", "alice"}});
  Outcome o = RunRaw({"--server", server_.Url() + "/", "--token", "t", "whoami"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/me");
}

TEST_F(CliTest, MissingTokenIsAUsageError) {
  Outcome o = RunRaw({"--server", server_.Url(), "ls"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "jit: no token: use --token or JIT_TOKEN\n");
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CliTest, ApiErrorPrintsTheMessageAndStatus) {
  server_.RespondRaw(404, R"({"error":{"code":"not_found","message":"no request r-9"}})");
  Outcome o = RunCli({"show", "r-9"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: no request r-9 (HTTP 404)\n");
  EXPECT_EQ(o.out, "");
}

TEST_F(CliTest, ApiErrorWithoutJsonBodyStillGivesOneLine) {
  server_.RespondRaw(502, std::string("Bad Gateway\nfrom proxy"));
  Outcome o = RunCli({"whoami"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: Bad Gateway from proxy (HTTP 502)\n");
}

TEST_F(CliTest, SuccessWithNonJsonBodyFails) {
  server_.RespondRaw(200, std::string("<html>"));
  Outcome o = RunCli({"whoami"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: the server's answer is not JSON (HTTP 200)\n");
}

TEST_F(CliTest, ConnectionRefusedNamesTheServer) {
  std::string url = "http://127.0.0.1:" + std::to_string(ClosedPort());
  Outcome o = RunRaw({"--server", url, "--token", "t", "whoami"});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, StartsWith("jit: cannot reach the jit server at " + url + ": "));
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

TEST_F(CliTest, ServerMustBeAnHttpUrl) {
  Outcome o = RunRaw({"--server", "ftp://x", "--token", "t", "whoami"});
  EXPECT_EQ(o.code, 2);
  EXPECT_THAT(o.err, StartsWith("jit: --server must be an http:// or https:// URL"));
}

// --- usage ------------------------------------------------------------------------------------

TEST_F(CliTest, UsageErrorsExitTwoWithOneLine) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{},
                                             {"frobnicate"},
                                             {"request", "prod", "Admin", "--for", "1h"},
                                             {"request", "prod"},
                                             {"show"},
                                             {"--output", "yaml", "whoami"},
                                             {"ls", "--limit", "0"},
                                             {"ls", "--limit", "many"},
                                             {"audit"},
                                             {"audit", "tail", "--after", "-3"},
                                             {"config"},
                                             {"extend", "r-1", "--for", "soon"},
                                             {"whoami", "extra"}}) {
    Outcome o = RunCli(args);
    std::string shown = ::testing::PrintToString(args);
    EXPECT_EQ(o.code, 2) << shown << " " << o.err;
    EXPECT_THAT(o.err, StartsWith("jit: ")) << shown;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << shown << " " << o.err;
    EXPECT_EQ(o.out, "") << shown;
  }
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CliTest, HelpPrintsToOutAndExitsZero) {
  Outcome o = RunRaw({"--help"});
  EXPECT_EQ(o.code, 0);
  EXPECT_THAT(o.out, HasSubstr("request"));
  EXPECT_THAT(o.out, HasSubstr("--server"));
  EXPECT_EQ(o.err, "");
  Outcome sub = RunRaw({"request", "--help"});
  EXPECT_EQ(sub.code, 0);
  EXPECT_THAT(sub.out, HasSubstr("--wait-timeout"));
}

TEST_F(CliTest, VersionPrintsTheVersion) {
  Outcome o = RunRaw({"--version"});
  EXPECT_EQ(o.code, 0);
  EXPECT_THAT(o.out, StartsWith("jit "));
}

// --- serve, emulator --------------------------------------------------------------------------

TEST_F(CliTest, ServePassesItsFlagsAndReturnsTheStatus) {
  serve_status_ = 3;
  Outcome o = RunRaw({"serve", "--dev", "--config", "c.yaml", "--listen", "127.0.0.1:9000",
                      "--data", "/tmp/d", "--emulator-listen", "127.0.0.1:9001"});
  EXPECT_EQ(o.code, 3);
  ASSERT_EQ(served_.size(), 1u);
  EXPECT_TRUE(served_[0].dev);
  EXPECT_EQ(served_[0].config_file, "c.yaml");
  EXPECT_EQ(served_[0].listen, "127.0.0.1:9000");
  EXPECT_EQ(served_[0].data_dir, "/tmp/d");
  EXPECT_EQ(served_[0].emulator_listen, "127.0.0.1:9001");
}

TEST_F(CliTest, ServeDefaults) {
  Outcome o = RunRaw({"serve"});
  EXPECT_EQ(o.code, 0);
  ASSERT_EQ(served_.size(), 1u);
  EXPECT_FALSE(served_[0].dev);
  EXPECT_EQ(served_[0].config_file, "");
  EXPECT_EQ(served_[0].listen, "");
  EXPECT_EQ(served_[0].data_dir, "./jit-data");
}

TEST_F(CliTest, EmulatorPassesItsFlagsAndReturnsTheStatus) {
  serve_status_ = 4;
  Outcome o = RunRaw({"emulator", "--listen", "127.0.0.1:9100", "--seed", "seed.json",
                      "--access-key-id", "AKIDTEST", "--secret-access-key", "s3cret"});
  EXPECT_EQ(o.code, 4) << o.err;
  EXPECT_TRUE(served_.empty());
  ASSERT_EQ(emulated_.size(), 1u);
  EXPECT_EQ(emulated_[0].listen, "127.0.0.1:9100");
  EXPECT_EQ(emulated_[0].seed_file, "seed.json");
  EXPECT_EQ(emulated_[0].access_key_id, "AKIDTEST");
  EXPECT_EQ(emulated_[0].secret_access_key, "s3cret");
}

TEST_F(CliTest, EmulatorDefaultsToTheDevKeyPair) {
  Outcome o = RunRaw({"emulator"});
  EXPECT_EQ(o.code, 0) << o.err;
  ASSERT_EQ(emulated_.size(), 1u);
  EXPECT_EQ(emulated_[0].listen, "127.0.0.1:8081");
  EXPECT_EQ(emulated_[0].seed_file, "");
  EXPECT_EQ(emulated_[0].access_key_id, "AKIDJITEMULATOR");
  EXPECT_EQ(emulated_[0].secret_access_key, "jit-emulator-secret");
}

TEST_F(CliTest, EmulatorRefusesUnknownFlagsAndAnEmptyKey) {
  Outcome bad = RunRaw({"emulator", "--bogus"});
  EXPECT_EQ(bad.code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--bogus"));
  Outcome empty = RunRaw({"emulator", "--access-key-id", ""});
  EXPECT_EQ(empty.code, 2);
  EXPECT_TRUE(emulated_.empty());
}

TEST_F(CliTest, EmulatorWithoutACallbackIsNotAvailable) {
  const char* argv[] = {"jit", "emulator", nullptr};
  std::ostringstream out, err;
  int code = cli::Run(
      2, argv, out, err, [](const ServeOptions&) { return 0; }, clock_, [](Duration) {});
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str(), "jit: emulator is not available in this build\n");
}

// --- config check -----------------------------------------------------------------------------

TEST_F(CliTest, ConfigCheckCountsAGoodFile) {
  testing::TempDir dir;
  std::string path = (dir.path() / "good.yaml").string();
  std::ofstream(path) << config::DevConfigYaml();
  Outcome o = RunRaw({"config", "check", path});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, StartsWith(path + ": ok ("));
  EXPECT_THAT(o.out, HasSubstr("2 accounts, 3 permission sets"));
  EXPECT_EQ(o.err, "");
}

TEST_F(CliTest, ConfigCheckNamesTheLineOfEachError) {
  testing::TempDir dir;
  std::string path = (dir.path() / "bad.yaml").string();
  std::ofstream(path) << "accounts:\n  - id: nope\n    name: x\n";
  Outcome o = RunRaw({"config", "check", path});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, HasSubstr(path + ":2:"));
  EXPECT_EQ(o.out, "");
}

TEST_F(CliTest, ConfigCheckCallsAwsOnlyWithTheFlag) {
  testing::TempDir dir;
  std::string path = (dir.path() / "good.yaml").string();
  std::ofstream(path) << config::DevConfigYaml();
  Outcome o = RunRaw({"config", "check", path});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(aws_checks_, 0);

  aws_answer_ = cli::AwsCheck{{"accounts from AWS Organizations, line 7: ou-ab12-prod0000: 3"},
                              {"permission set ReadOnly: sessions outlive grants"}};
  o = RunRaw({"config", "check", path, "--aws"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(aws_checks_, 1);
  EXPECT_EQ(checked_rules_, 3);
  EXPECT_THAT(o.out, HasSubstr(path + ": warning: permission set ReadOnly: sessions outlive "
                                      "grants\n"));
  EXPECT_THAT(o.out, HasSubstr(path + ": AWS: accounts from AWS Organizations, line 7: "
                                      "ou-ab12-prod0000: 3\n"));

  aws_answer_ = cli::AwsCheck{};
  o = RunRaw({"config", "check", "--aws", path});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_THAT(o.out, HasSubstr(path + ": AWS: no warnings\n"));

  aws_answer_ = UnavailableError("no credentials found\nanywhere");
  o = RunRaw({"config", "check", path, "--aws"});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, StartsWith("jit: cannot check the config against AWS: no credentials"));
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

TEST_F(CliTest, ConfigCheckDoesNotAskAwsAboutABadFile) {
  testing::TempDir dir;
  std::string path = (dir.path() / "bad.yaml").string();
  std::ofstream(path) << "accounts:\n  - id: nope\n    name: x\n";
  Outcome o = RunRaw({"config", "check", path, "--aws"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(aws_checks_, 0);
}

TEST_F(CliTest, ConfigCheckOfAMissingFileFails) {
  Outcome o = RunRaw({"config", "check", "/nonexistent/jit.yaml"});
  EXPECT_EQ(o.code, 1);
  EXPECT_THAT(o.err, StartsWith("jit: "));
  EXPECT_THAT(o.err, HasSubstr("/nonexistent/jit.yaml"));
  EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1);
}

// --- report -----------------------------------------------------------------------------------

// A summary as GET /v1/reports/summary answers it, with a requester name that carries a control
// character, a comma and a quote.
json Summary() {
  return json::parse(R"({
    "since": "2026-11-04T00:00:00Z", "until": "2026-12-04T00:00:00Z", "window": "30d",
    "requests": {"total": 10, "open": 4, "by_state": {"pending": 1, "approved": 0, "active": 2,
      "revoking": 1, "ended": 3, "denied": 1, "cancelled": 1, "timed_out": 1, "failed": 0}},
    "time_to_approve": {"count": 2, "p50_seconds": 60, "p95_seconds": 300},
    "approval_to_active": {"count": 6, "p50_seconds": 2, "p95_seconds": 5.25},
    "revoke_lag": {"count": 2, "p50_seconds": 0.212, "p99_seconds": 120, "max_seconds": 120,
      "objective_seconds": 60, "ended_late": 1, "overdue_now": 0},
    "break_glass": {"uses": 2, "open_reviews": 1},
    "decisions": {"decided": 4, "denial_rate": 0.25, "timeout_rate": null},
    "top": {
      "requesters": [{"name": "al\u001b[31mice, \"the\" admin", "requests": 3},
                     {"name": "=cmd", "requests": 1}],
      "accounts": [{"id": "222222222222", "name": "prod", "requests": 7}],
      "permission_sets": [{"name": "Admin", "arn": "arn:aws:sso:::permissionSet/ssoins-1/ps-2",
                           "requests": 6}]}
  })");
}

TEST_F(CliTest, ReportAsksForTheWindowAndPrintsTables) {
  server_.Respond(200, Summary());
  Outcome o = RunCli({"report", "--since", "7d"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().method, "GET");
  EXPECT_EQ(server_.Only().path, "/v1/reports/summary?since=7d");
  EXPECT_THAT(o.out, HasSubstr("(30d): 10, 4 open"));
  EXPECT_THAT(o.out, HasSubstr("timed_out  1"));
  EXPECT_THAT(o.out, HasSubstr("time to approve     2      1m      5m"));
  EXPECT_THAT(o.out, HasSubstr("revoke lag          2      0.212s  -       2m   2m"));
  EXPECT_THAT(o.out, HasSubstr("Denial rate:"));
  EXPECT_THAT(o.out, HasSubstr("25.0%"));
  EXPECT_THAT(o.out, HasSubstr("prod (222222222222)  7"));
  // What users typed reaches the terminal escaped.
  EXPECT_EQ(o.out.find('\x1b'), std::string::npos);
  EXPECT_THAT(o.out, HasSubstr("al\\x1b[31mice"));
}

TEST_F(CliTest, ReportDefaultsToThirtyDays) {
  server_.Respond(200, Summary());
  Outcome o = RunCli({"report"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/reports/summary?since=30d");
}

TEST_F(CliTest, ReportJsonPrintsTheBodyAsReceived) {
  server_.Respond(200, Summary());
  Outcome o = RunCli({"-o", "json", "report"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out), Summary());
}

TEST_F(CliTest, ReportCsvQuotesAndEscapesWhatUsersTyped) {
  server_.Respond(200, Summary());
  Outcome o = RunCli({"report", "--output", "csv"});
  EXPECT_EQ(o.code, 0) << o.err;
  std::vector<std::string> lines;
  std::istringstream in(o.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.front(), "section,name,id,value");
  auto has = [&lines](const std::string& want) {
    return std::find(lines.begin(), lines.end(), want) != lines.end();
  };
  EXPECT_TRUE(has("window,window,,30d"));
  EXPECT_TRUE(has("requests,total,,10"));
  EXPECT_TRUE(has("by_state,timed_out,,1"));
  EXPECT_TRUE(has("time_to_approve,p95_seconds,,300"));
  EXPECT_TRUE(has("revoke_lag,p50_seconds,,0.212"));
  EXPECT_TRUE(has("decisions,timeout_rate,,"));  // null: nothing to show
  EXPECT_TRUE(has(R"(top_requesters,"al\x1b[31mice, ""the"" admin",,3)"));
  EXPECT_TRUE(has("top_requesters,'=cmd,,1"));
  EXPECT_TRUE(has("top_accounts,prod,222222222222,7"));
  EXPECT_TRUE(has("top_permission_sets,Admin,arn:aws:sso:::permissionSet/ssoins-1/ps-2,6"));
  EXPECT_EQ(o.out.find('\x1b'), std::string::npos);
}

TEST_F(CliTest, ReportRefusesABadSinceBeforeCallingTheServer) {
  for (const char* since : {"5x", "", "0d", "367d", "soon", "-1d"}) {
    Outcome o = RunCli({"report", "--since", since});
    EXPECT_EQ(o.code, 2) << since;
    EXPECT_THAT(o.err, StartsWith("jit: --since: expected a duration such as 30d")) << since;
    EXPECT_EQ(std::count(o.err.begin(), o.err.end(), '\n'), 1) << since << " " << o.err;
    EXPECT_EQ(o.out, "");
  }
  EXPECT_TRUE(server_.Requests().empty());
}

TEST_F(CliTest, ReportErrorsFromTheServerAreOneLine) {
  server_.Respond(403, {{"error",
                         {{"code", "permission_denied"},
                          {"message", "only admins and auditors can read reports"}}}});
  Outcome o = RunCli({"report"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: only admins and auditors can read reports (HTTP 403)\n");
}

// GET /v1/assignments/standing as the server answers it (issue 13 deliverable 8).
json Standing() {
  return json::parse(R"({"pairs_listed": 5, "items": [
    {"account_id": "222222222222", "account_name": "prod", "permission_set": "Admin",
     "permission_set_arn": "arn:aws:sso:::permissionSet/ssoins-1/ps-2", "principal_type": "USER",
     "principal_id": "b0b00000-0000-4000-8000-000000000002", "principal_name": "bob",
     "held_through_jit": true},
    {"account_id": "111111111111", "account_name": "sandbox", "permission_set": "ReadOnly",
     "permission_set_arn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1", "principal_type": "GROUP",
     "principal_id": "0a500000-0000-4000-8000-000000000010", "principal_name": "=ops\u001b[2J, x",
     "held_through_jit": false},
    {"account_id": "111111111111", "account_name": "sandbox", "permission_set": "ReadOnly",
     "permission_set_arn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1", "principal_type": "USER",
     "principal_id": "90000000-0000-4000-8000-000000000009", "principal_name": null,
     "held_through_jit": false}]})");
}

TEST_F(CliTest, AssignmentsStandingPrintsATableEscaped) {
  server_.Respond(200, Standing());
  Outcome o = RunCli({"assignments", "standing", "--account", "prod env"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().method, "GET");
  EXPECT_EQ(server_.Only().path, "/v1/assignments/standing?account=prod%20env");
  EXPECT_THAT(o.out, HasSubstr("ACCOUNT"));
  EXPECT_THAT(o.out, HasSubstr("prod (222222222222)"));
  EXPECT_THAT(o.out, HasSubstr("jit grants it on top too"));
  EXPECT_THAT(o.out, HasSubstr("group"));
  EXPECT_THAT(o.out, HasSubstr("=ops\\x1b[2J, x"));
  EXPECT_THAT(o.out, HasSubstr("90000000-0000-4000-8000-000000000009 (no name)"));
  EXPECT_EQ(o.out.find('\x1b'), std::string::npos);
}

TEST_F(CliTest, AssignmentsStandingSaysWhenThereIsNone) {
  server_.Respond(200, json{{"pairs_listed", 3}, {"items", json::array()}});
  Outcome o = RunCli({"assignments", "standing"});
  EXPECT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(server_.Only().path, "/v1/assignments/standing");
  EXPECT_EQ(o.out, "No standing assignments in 3 account and permission set pairs jit offers.\n");
}

TEST_F(CliTest, AssignmentsStandingAsJsonAndCsv) {
  server_.Respond(200, Standing());
  Outcome j = RunCli({"-o", "json", "assignments", "standing"});
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(json::parse(j.out), Standing());
  server_.Respond(200, Standing());
  Outcome c = RunCli({"assignments", "standing", "-o", "csv"});
  EXPECT_EQ(c.code, 0) << c.err;
  std::vector<std::string> lines;
  std::istringstream in(c.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 4u) << c.out;
  EXPECT_EQ(lines[0],
            "account_id,account_name,permission_set,permission_set_arn,principal_type,"
            "principal_id,principal_name,held_through_jit");
  EXPECT_EQ(lines[1],
            "222222222222,prod,Admin,arn:aws:sso:::permissionSet/ssoins-1/ps-2,USER,"
            "b0b00000-0000-4000-8000-000000000002,bob,true");
  EXPECT_EQ(lines[2],
            "111111111111,sandbox,ReadOnly,arn:aws:sso:::permissionSet/ssoins-1/ps-1,GROUP,"
            R"(0a500000-0000-4000-8000-000000000010,"'=ops\x1b[2J, x",false)");
  EXPECT_EQ(lines[3].substr(lines[3].size() - 7), ",,false");
  EXPECT_EQ(c.out.find('\x1b'), std::string::npos);
}

TEST_F(CliTest, AssignmentsNeedsASubcommandAndErrorsAreOneLine) {
  Outcome o = RunCli({"assignments"});
  EXPECT_EQ(o.code, 2);
  EXPECT_EQ(o.err, "jit: assignments needs a command: standing (see jit assignments --help)\n");
  server_.Respond(422,
                  {{"error",
                    {{"code", "invalid_argument"},
                     {"message", "account 'x' is not in the catalog (an account id or name)"}}}});
  o = RunCli({"assignments", "standing", "--account", "x"});
  EXPECT_EQ(o.code, 1);
  EXPECT_EQ(o.err, "jit: account 'x' is not in the catalog (an account id or name) (HTTP 422)\n");
  EXPECT_EQ(o.out, "");
}

TEST_F(CliTest, CsvIsRefusedByCommandsWithoutACsvForm) {
  for (const auto& [args, name] : std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"-o", "csv", "ls"}, "ls"},
           {{"--output", "csv", "whoami"}, "whoami"},
           {{"audit", "tail", "-o", "csv"}, "audit tail"},
           {{"-o", "csv", "show", "req_1"}, "show"},
           {{"-o", "csv", "config", "check", "/nonexistent.yaml"}, "config check"},
           {{"-o", "csv", "serve", "--dev"}, "serve"}}) {
    Outcome o = RunCli(args);
    EXPECT_EQ(o.code, 2) << name;
    EXPECT_EQ(o.err, "jit: --output csv is not supported by " + name + "\n");
    EXPECT_EQ(o.out, "");
  }
  EXPECT_TRUE(server_.Requests().empty());
  EXPECT_TRUE(served_.empty());
}

// --- http client ------------------------------------------------------------------------------

TEST(UrlEncode, KeepsUnreservedAndEncodesTheRest) {
  EXPECT_EQ(UrlEncode("aZ09-._~"), "aZ09-._~");
  EXPECT_EQ(UrlEncode("a b/c?d=e&f%"), "a%20b%2Fc%3Fd%3De%26f%25");
  EXPECT_EQ(UrlEncode("\xC3\xA9"), "%C3%A9");
}

TEST(HttpCall, ReturnsUnavailableWhenNothingListens) {
  Result<HttpResponse> r =
      HttpCall("GET", "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/", "", "");
  EXPECT_THAT(r, testing::StatusIs(StatusCode::kUnavailable));
}

TEST(HttpCall, SendsMethodHeadersAndBody) {
  CannedServer server;
  server.RespondRaw(418, std::string(R"({"x":1})"));
  Result<HttpResponse> r = HttpCall("PUT", server.Url() + "/p?q=1", "tok", R"({"a":2})");
  ASSERT_OK(r);
  EXPECT_EQ(r->status, 418);
  EXPECT_EQ(r->body, R"({"x":1})");
  CannedServer::Received got = server.Only();
  EXPECT_EQ(got.method, "PUT");
  EXPECT_EQ(got.path, "/p?q=1");
  EXPECT_EQ(got.headers["authorization"], "Bearer tok");
  EXPECT_EQ(got.body, R"({"a":2})");
}

// --- backup, restore ----------------------------------------------------------------------------

// Runs `jit <args...>` with only the backup and restore commands, recording what they get.
struct BackupRestoreRun {
  int code = 0;
  std::string out;
  std::string err;
  std::vector<BackupOptions> backups;
  std::vector<RestoreOptions> restores;
};

BackupRestoreRun RunBackupRestore(std::vector<std::string> args) {
  args.insert(args.begin(), "jit");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  BackupRestoreRun run;
  Commands commands;
  commands.backup = [&run](const BackupOptions& o) {
    run.backups.push_back(o);
    return 5;
  };
  commands.restore = [&run](const RestoreOptions& o) {
    run.restores.push_back(o);
    return 6;
  };
  std::ostringstream out, err;
  FakeClock clock;
  // A --server that is no URL does not matter to local commands.
  run.code =
      Run(static_cast<int>(args.size()), argv.data(), out, err, commands, clock, [](Duration) {});
  run.out = out.str();
  run.err = err.str();
  return run;
}

TEST(CliBackupTest, BackupPassesItsFlags) {
  BackupRestoreRun r = RunBackupRestore({"backup", "b.db"});
  EXPECT_EQ(r.code, 5) << r.err;
  ASSERT_EQ(r.backups.size(), 1u);
  EXPECT_EQ(r.backups[0].file, "b.db");
  EXPECT_EQ(r.backups[0].data_dir, "./jit-data");
  EXPECT_EQ(r.backups[0].config_file, "");

  r = RunBackupRestore({"--server", "nonsense", "backup", "b.db", "--data", "/var/lib/jit",
                        "--config", "/etc/jit/config.yaml"});
  EXPECT_EQ(r.code, 5) << r.err;
  ASSERT_EQ(r.backups.size(), 1u);
  EXPECT_EQ(r.backups[0].data_dir, "/var/lib/jit");
  EXPECT_EQ(r.backups[0].config_file, "/etc/jit/config.yaml");
}

TEST(CliBackupTest, RestoreNeedsAFileAndAFolder) {
  BackupRestoreRun r = RunBackupRestore({"restore", "b.db", "--data", "/var/lib/jit"});
  EXPECT_EQ(r.code, 6) << r.err;
  ASSERT_EQ(r.restores.size(), 1u);
  EXPECT_EQ(r.restores[0].file, "b.db");
  EXPECT_EQ(r.restores[0].data_dir, "/var/lib/jit");

  r = RunBackupRestore({"restore", "b.db"});
  EXPECT_EQ(r.code, 2);
  EXPECT_THAT(r.err, HasSubstr("--data"));
  r = RunBackupRestore({"backup"});
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.backups.empty());
  EXPECT_TRUE(r.restores.empty());
}

TEST(CliBackupTest, WithoutACallbackTheyAreNotAvailable) {
  const char* argv[] = {"jit", "restore", "b.db", "--data", "d", nullptr};
  std::ostringstream out, err;
  FakeClock clock;
  int code = cli::Run(5, argv, out, err, Commands{}, clock, [](Duration) {});
  EXPECT_EQ(code, 1);
  EXPECT_EQ(err.str(), "jit: restore is not available in this build\n");
}

// --- permission-sets -------------------------------------------------------------------------

TEST(CliPermissionSetsTest, PlanAndApplyPassTheirFlags) {
  std::vector<PermissionSetsOptions> got;
  Commands commands;
  commands.permission_sets = [&got](const PermissionSetsOptions& o) {
    got.push_back(o);
    return 7;
  };
  auto run = [&](std::vector<const char*> argv, std::string* err_out = nullptr) {
    argv.insert(argv.begin(), "jit");
    std::ostringstream out, err;
    FakeClock clock;
    int n = static_cast<int>(argv.size());
    argv.push_back(nullptr);
    int code = cli::Run(n, argv.data(), out, err, commands, clock, [](Duration) {});
    if (err_out != nullptr) *err_out = err.str();
    return code;
  };
  EXPECT_EQ(run({"permission-sets", "plan"}), 7);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_FALSE(got[0].apply);
  EXPECT_FALSE(got[0].json);
  EXPECT_EQ(got[0].config_file, "/etc/jit/config.yaml");
  // A --server that is no URL does not matter to a local command.
  EXPECT_EQ(
      run({"--server", "nonsense", "-o", "json", "permission-sets", "apply", "--config", "j.yaml"}),
      7);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[1].apply);
  EXPECT_TRUE(got[1].json);
  EXPECT_EQ(got[1].config_file, "j.yaml");
  std::string err;
  EXPECT_EQ(run({"permission-sets"}, &err), 2);
  EXPECT_THAT(err, HasSubstr("plan or apply"));
  EXPECT_EQ(run({"-o", "csv", "permission-sets", "plan"}, &err), 2);
  EXPECT_EQ(got.size(), 2u);
  commands.permission_sets = nullptr;
  EXPECT_EQ(run({"permission-sets", "plan"}, &err), 1);
  EXPECT_EQ(err, "jit: permission-sets is not available in this build\n");
}

}  // namespace
}  // namespace jit::cli
