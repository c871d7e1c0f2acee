// E-mail delivered through libcurl to a real SMTP server started by the test (Debian's
// python3-aiosmtpd, src/notify/testdata/smtp_sink.py), read back with Python's email package.

#include "notify/email.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "core/mutex.h"
#include "core/testing.h"
#include "notify/render.h"
#include "notify/test_util.h"

namespace jit::notify {
namespace {

using ::jit::notify::testing::SampleMessage;
using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAre;

namespace fs = std::filesystem;

std::string Python() {
  const char* env = std::getenv("JIT_PYTHON");
  return env != nullptr && *env != '\0' ? env : "/usr/bin/python3";
}

// Runs `argv` and waits; its exit status (-1 when it could not run).
int RunProgram(const std::vector<std::string>& argv, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    FILE* out = std::freopen(log.c_str(), "a", stdout);
    FILE* err = std::freopen(log.c_str(), "a", stderr);
    (void)out;
    (void)err;
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The SMTP sink as a child process, stopped when this goes away.
class SmtpSink {
 public:
  SmtpSink(const fs::path& dir, const std::string& cert = "", const std::string& key = "")
      : out_(dir / "mail"), log_(dir / "sink.log") {
    fs::create_directories(out_);
    fs::path port_file = dir / "port";
    std::vector<std::string> argv = {Python(), JIT_SMTP_SINK, "--port-file",   port_file,
                                     "--out",  out_.string(), "--max-seconds", "60"};
    if (!cert.empty()) {
      argv.insert(argv.end(), {"--cert", cert, "--key", key});
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* out = std::freopen(log_.c_str(), "a", stdout);
      FILE* err = std::freopen(log_.c_str(), "a", stderr);
      (void)out;
      (void)err;
      std::vector<char*> args;
      for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      std::_Exit(127);
    }
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      if (in >> port_) break;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~SmtpSink() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  int port() const { return port_; }
  std::string Log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // The messages received so far, oldest first.
  std::vector<json> Messages() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(out_)) {
      if (e.path().extension() == ".json") files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<json> out;
    for (const fs::path& f : files) out.push_back(json::parse(std::ifstream(f)));
    return out;
  }

 private:
  fs::path out_;
  fs::path log_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Users by id, or a failure for every look-up.
class FakeDirectory final : public Directory {
 public:
  void AddUser(const std::string& user_id, std::vector<std::string> emails) {
    MutexLock lock(&mu_);
    users_[user_id] = std::move(emails);
  }
  void FailWith(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  // A group of these users (by username: the user id is "id-" + the name).
  void AddGroup(const std::string& group, std::vector<std::string> usernames) {
    MutexLock lock(&mu_);
    groups_[group] = std::move(usernames);
  }
  Result<std::vector<std::string>> Emails(const std::string& user_id) override {
    MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    auto it = users_.find(user_id);
    if (it == users_.end()) return NotFoundError("no user " + user_id);
    return it->second;
  }
  Result<std::vector<Person>> People(const std::vector<std::string>& users,
                                     const std::vector<std::string>& groups) override {
    MutexLock lock(&mu_);
    if (!fail_.ok()) return fail_;
    std::set<std::string> names(users.begin(), users.end());
    for (const std::string& g : groups) {
      auto it = groups_.find(g);
      if (it != groups_.end()) names.insert(it->second.begin(), it->second.end());
    }
    std::vector<Person> out;
    for (const std::string& n : names) {
      auto it = users_.find("id-" + n);
      if (it != users_.end()) out.push_back(Person{n, "id-" + n, it->second});
    }
    return out;
  }

 private:
  Mutex mu_;
  std::map<std::string, std::vector<std::string>> users_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> groups_ GUARDED_BY(mu_);
  Status fail_ GUARDED_BY(mu_);
};

class EmailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunProgram({Python(), "-c", "import aiosmtpd"}, dir_.path() / "probe.log") != 0) {
      FAIL() << "python3-aiosmtpd is missing (" << Python() << " cannot import aiosmtpd): run "
             << "scripts/setup.sh";
    }
    directory_.AddUser("a1b2c3d4-0000-4000-8000-000000000001", {"alice@example.com"});
  }

  std::unique_ptr<Channel> MakeChannel(int port, bool require_tls, std::vector<std::string> to,
                                       std::string ca_file = "") {
    EmailSettings email;
    email.smtp.url = "smtp://127.0.0.1:" + std::to_string(port);
    email.smtp.require_tls = require_tls;
    email.smtp.ca_file = std::move(ca_file);
    email.from = "jit@example.com";
    email.to = std::move(to);
    return NewEmailChannel(ChannelSettings{"mail", Filter{}, Duration(5000)}, email, *sender_,
                           nullptr, &directory_, clock_);
  }

  // The value of the only header of that name.
  static std::string Header(const json& message, const std::string& name) {
    std::string value;
    int n = 0;
    for (const json& h : message["headers"]) {
      if (h[0] == name) {
        value = h[1];
        ++n;
      }
    }
    EXPECT_EQ(n, 1) << name;
    return value;
  }

  ::jit::testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<SmtpSender> sender_ = NewCurlSmtpSender();
  FakeDirectory directory_;
};

TEST_F(EmailTest, DeliversProperMimeToTheListAndTheRequester) {
  SmtpSink sink(dir_.path());
  ASSERT_NE(sink.port(), 0) << sink.Log();
  auto channel = MakeChannel(sink.port(), /*require_tls=*/false, {"ops@example.com"});
  Message m = SampleMessage(Event::kRequestApproved, clock_.Now());
  m.request.reason = "Schlüssel rotieren\r\nBcc: victim@example.com";
  m.request.requester = "alice\nCc: victim@example.com";
  ASSERT_OK(channel->Send(m));

  std::vector<json> got = sink.Messages();
  ASSERT_EQ(got.size(), 1u) << sink.Log();
  const json& mail = got[0];
  EXPECT_EQ(mail["mail_from"], "jit@example.com");
  EXPECT_THAT(mail["rcpt_tos"], UnorderedElementsAre("ops@example.com", "alice@example.com"));
  EXPECT_EQ(Header(mail, "From"), "jit@example.com");
  EXPECT_EQ(Header(mail, "To"), "ops@example.com, alice@example.com");
  EXPECT_EQ(Header(mail, "Date"), "Thu, 01 Jan 2026 00:00:00 +0000");
  EXPECT_EQ(Header(mail, "Message-ID"), "<" + DeliveryId(m) + ".mail@example.com>");
  EXPECT_EQ(Header(mail, "MIME-Version"), "1.0");
  EXPECT_EQ(Header(mail, "X-Jit-Event"), "request.approved");
  EXPECT_EQ(mail["content_type"], "text/plain");
  EXPECT_EQ(mail["charset"], "utf-8");
  EXPECT_EQ(mail["subject"], "[jit] " + Title(m));
  // No header came from the request fields' line breaks.
  for (const json& h : mail["headers"]) {
    EXPECT_NE(h[0], "Bcc");
    EXPECT_NE(h[0], "Cc");
  }
  std::string body = mail["body"];
  EXPECT_THAT(body, HasSubstr(Title(m)));
  EXPECT_THAT(body, HasSubstr("Reason: Schlüssel rotieren  Bcc: victim@example.com"));
  EXPECT_THAT(body,
              HasSubstr("Open in jit: https://jit.example.com/#/mine?request=" + m.request.id));
  EXPECT_EQ(mail["tls"], false);

  // Approver events go to the list only.
  ASSERT_OK(channel->Send(SampleMessage(Event::kRequestCreated, clock_.Now())));
  got = sink.Messages();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_THAT(got[1]["rcpt_tos"], ElementsAre("ops@example.com"));
}

TEST_F(EmailTest, ClassifiesRefusalsAndAMissingServer) {
  std::optional<SmtpSink> sink;
  sink.emplace(dir_.path());
  ASSERT_NE(sink->port(), 0) << sink->Log();
  int port = sink->port();
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  EXPECT_THAT(MakeChannel(port, false, {"reject@example.com"})->Send(m),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("550")));
  EXPECT_THAT(MakeChannel(port, false, {"busy@example.com"})->Send(m),
              StatusIs(StatusCode::kUnavailable, HasSubstr("451")));
  // TLS required, and this server offers no STARTTLS: refused, nothing sent in the clear.
  EXPECT_THAT(MakeChannel(port, true, {"ops@example.com"})->Send(m),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("STARTTLS")));
  EXPECT_TRUE(sink->Messages().empty());
  // Requester look-ups that fail for now send nothing either (the retry mails everyone once).
  directory_.FailWith(UnavailableError("identitystore down"));
  EXPECT_THAT(MakeChannel(port, false, {"ops@example.com"})
                  ->Send(SampleMessage(Event::kGrantEnded, clock_.Now())),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(sink->Messages().empty());
  sink.reset();  // nobody listens on the port any more
  EXPECT_THAT(MakeChannel(port, false, {"ops@example.com"})->Send(m),
              StatusIs(StatusCode::kUnavailable));
}

TEST_F(EmailTest, StartTlsWithACertificateTheBrokerTrusts) {
  fs::path cert = dir_.path() / "cert.pem";
  fs::path key = dir_.path() / "key.pem";
  ASSERT_EQ(RunProgram({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key.string(), "-out", cert.string(), "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"},
                       dir_.path() / "openssl.log"),
            0)
      << "openssl could not make a test certificate: run scripts/setup.sh";
  SmtpSink sink(dir_.path(), cert.string(), key.string());
  ASSERT_NE(sink.port(), 0) << sink.Log();
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  // The system's CAs do not know the test's certificate.
  EXPECT_THAT(MakeChannel(sink.port(), true, {"ops@example.com"})->Send(m),
              StatusIs(StatusCode::kFailedPrecondition));
  ASSERT_OK(MakeChannel(sink.port(), true, {"ops@example.com"}, cert.string())->Send(m));
  std::vector<json> got = sink.Messages();
  ASSERT_EQ(got.size(), 1u) << sink.Log();
  EXPECT_EQ(got[0]["tls"], true);
  EXPECT_EQ(got[0]["subject"], "[jit] " + Title(m));
}

TEST_F(EmailTest, ToApproversMailsEachApproverButTheRequesterAndNotThoseWhoAnswered) {
  SmtpSink sink(dir_.path());
  ASSERT_NE(sink.port(), 0) << sink.Log();
  directory_.AddUser("id-alice", {"alice@example.com"});
  directory_.AddUser("id-bob", {"bob@example.com"});
  directory_.AddUser("id-carol", {"carol@example.com", "c@example.org"});
  directory_.AddGroup("approvers", {"alice", "bob", "carol"});
  EmailSettings email;
  email.smtp.url = "smtp://127.0.0.1:" + std::to_string(sink.port());
  email.smtp.require_tls = false;
  email.from = "jit@example.com";
  email.to_requester = false;
  email.to_approvers = true;
  auto channel = NewEmailChannel(ChannelSettings{"mail", Filter{}, Duration(5000)}, email, *sender_,
                                 nullptr, &directory_, clock_);
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  ASSERT_OK(channel->Send(m));
  // A reminder after carol approved (one of two): only bob.
  m = SampleMessage(Event::kApprovalReminder, clock_.Now());
  m.request.approvals_required = 2;
  m.request.approvals.push_back(model::Approval{"carol", "", clock_.Now()});
  ASSERT_OK(channel->Send(m));
  // Requester events do not go to approvers (and with to_requester: false, to nobody).
  ASSERT_OK(channel->Send(SampleMessage(Event::kRequestApproved, clock_.Now())));

  // One message per approver, addressed to them alone.
  std::vector<json> got = sink.Messages();
  ASSERT_EQ(got.size(), 3u) << sink.Log();
  EXPECT_THAT(got[0]["rcpt_tos"], UnorderedElementsAre("bob@example.com"));
  EXPECT_EQ(Header(got[0], "To"), "bob@example.com");
  EXPECT_THAT(got[1]["rcpt_tos"], UnorderedElementsAre("carol@example.com"));
  EXPECT_EQ(Header(got[1], "To"), "carol@example.com");
  EXPECT_NE(Header(got[0], "Message-ID"), Header(got[1], "Message-ID"));
  EXPECT_THAT(got[2]["rcpt_tos"], UnorderedElementsAre("bob@example.com"));
  EXPECT_EQ(Header(got[2], "X-Jit-Event"), "request.reminder");

  directory_.FailWith(UnavailableError("identity store busy"));
  EXPECT_THAT(channel->Send(SampleMessage(Event::kRequestCreated, clock_.Now())),
              StatusIs(StatusCode::kUnavailable));
}

}  // namespace
}  // namespace jit::notify
