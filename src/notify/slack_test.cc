// Slack with a bot token (docs/NOTIFY.md "slack"): direct messages to each approver, channel
// messages through chat.postMessage, the messages kept and updated after the decision; the
// approvers asked (ApproversToAsk); per-rule routing; the new config keys.

#include "notify/slack.h"

#include <map>
#include <set>

#include "aws/test_fakes.h"
#include "core/form.h"
#include "core/mutex.h"
#include "core/testing.h"
#include "notify/channel_types.h"
#include "notify/directory.h"
#include "notify/render.h"
#include "notify/test_util.h"

namespace jit::notify {
namespace slack_test {

using ::jit::aws::HttpCall;
using ::jit::aws::HttpResponse;
using ::jit::aws::testing::FakeTransport;
using ::jit::notify::testing::ParseNotifySection;
using ::jit::notify::testing::SampleMessage;
using ::jit::testing::IsOk;
using ::jit::testing::StatusIs;
using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

// People by username; groups of usernames. Counts People calls.
class FakePeople final : public Directory {
 public:
  void Add(const std::string& username, std::string email) {
    MutexLock lock(&mu_);
    people_[username] = Person{username, "id-" + username, {std::move(email)}};
  }
  void Group(const std::string& name, std::vector<std::string> members) {
    MutexLock lock(&mu_);
    groups_[name] = std::move(members);
  }
  void FailWith(Status s) {
    MutexLock lock(&mu_);
    fail_ = std::move(s);
  }
  Result<std::vector<std::string>> Emails(const std::string& user_id) override {
    MutexLock lock(&mu_);
    for (const auto& [name, p] : people_) {
      if (p.user_id == user_id) return p.emails;
    }
    return NotFoundError("no user " + user_id);
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
      auto it = people_.find(n);
      if (it != people_.end()) out.push_back(it->second);
    }
    return out;
  }

 private:
  Mutex mu_;
  std::map<std::string, Person> people_ GUARDED_BY(mu_);
  std::map<std::string, std::vector<std::string>> groups_ GUARDED_BY(mu_);
  Status fail_ GUARDED_BY(mu_);
};

class MemorySent final : public SentMessages {
 public:
  Status Keep(const std::string& request_id, const SentMessage& m) override {
    MutexLock lock(&mu_);
    kept_[request_id][m.channel + "/" + m.ts] = m;
    return OkStatus();
  }
  Result<std::vector<SentMessage>> Kept(const std::string& request_id) override {
    MutexLock lock(&mu_);
    std::vector<SentMessage> out;
    for (const auto& [key, m] : kept_[request_id]) out.push_back(m);
    return out;
  }

 private:
  Mutex mu_;
  std::map<std::string, std::map<std::string, SentMessage>> kept_ GUARDED_BY(mu_);
};

// Slack's Web API as the channel uses it: users.lookupByEmail, chat.postMessage (a user id
// becomes the DM "D" + the rest of it), chat.update; the incoming webhook at /hook.
class FakeSlackApi {
 public:
  FakeSlackApi() : http_([this](const HttpCall& call) { return Answer(call); }) {}

  void FailPostsTo(const std::string& channel, int times) {
    MutexLock lock(&mu_);
    fail_[channel] = times;
  }
  // (method, channel, text) of each chat call, in order.
  struct Chat {
    std::string method;
    std::string channel;
    std::string ts;
    json body;
  };
  std::vector<Chat> chats() const {
    MutexLock lock(&mu_);
    return chats_;
  }
  int lookups() const {
    MutexLock lock(&mu_);
    return lookups_;
  }
  FakeTransport& http() { return http_; }

 private:
  static HttpResponse Ok(json j) {
    j["ok"] = true;
    return HttpResponse{200, {}, j.dump()};
  }
  Result<HttpResponse> Answer(const HttpCall& call) {
    MutexLock lock(&mu_);
    if (call.url.find("/hook") != std::string::npos) {
      chats_.push_back({"webhook", "", "", json::parse(call.body)});
      return HttpResponse{200, {}, "ok"};
    }
    bool authed = false;
    for (const auto& [k, v] : call.headers)
      authed = authed || (k == "Authorization" && v == "Bearer xoxb-t");
    if (!authed) return HttpResponse{200, {}, R"({"ok":false,"error":"invalid_auth"})"};
    if (call.url.find("/api/users.lookupByEmail?email=") != std::string::npos) {
      ++lookups_;
      std::string email = *FormDecode(call.url.substr(call.url.find("email=") + 6));
      static const std::map<std::string, std::string> kIds = {{"bob@example.com", "UBOB"},
                                                              {"carol@example.com", "UCAROL"},
                                                              {"alice@example.com", "UALICE"}};
      auto it = kIds.find(email);
      if (it == kIds.end())
        return HttpResponse{200, {}, R"({"ok":false,"error":"users_not_found"})"};
      return Ok({{"user", {{"id", it->second}}}});
    }
    json body = json::parse(call.body, nullptr, false);
    std::string channel = body.value("channel", "");
    if (call.url.ends_with("/api/chat.postMessage")) {
      if (fail_[channel] > 0) {
        --fail_[channel];
        return HttpResponse{503, {}, "busy"};
      }
      std::string in = channel[0] == 'U' ? "D" + channel.substr(1) : channel;
      std::string ts = "1700000000.00010" + std::to_string(chats_.size());
      chats_.push_back({"chat.postMessage", in, ts, body});
      return Ok({{"channel", in}, {"ts", ts}});
    }
    if (call.url.ends_with("/api/chat.update")) {
      chats_.push_back({"chat.update", channel, body.value("ts", ""), body});
      if (channel == "DGONE")
        return HttpResponse{200, {}, R"({"ok":false,"error":"message_not_found"})"};
      return Ok({{"channel", channel}, {"ts", body.value("ts", "")}});
    }
    return HttpResponse{404, {}, "no such method"};
  }

  mutable Mutex mu_;
  std::vector<Chat> chats_ GUARDED_BY(mu_);
  std::map<std::string, int> fail_ GUARDED_BY(mu_);
  int lookups_ GUARDED_BY(mu_) = 0;
  FakeTransport http_;
};

class SlackBotTest : public ::testing::Test {
 protected:
  SlackBotTest() {
    people_.Add("alice", "alice@example.com");
    people_.Add("bob", "bob@example.com");
    people_.Add("carol", "carol@example.com");
    people_.Add("dave", "dave@example.com");  // not in Slack
    people_.Group("approvers", {"alice", "bob", "carol", "dave"});
  }

  std::unique_ptr<Channel> Make(SlackChannelOptions o, Filter filter = {}) {
    o.bot_token = "xoxb-t";
    o.api_url = "https://slack.example/api";
    return NewSlackChannel(ChannelSettings{"slack", std::move(filter), Duration(2000)},
                           std::move(o), slack_.http(), clock_, &people_, &sent_);
  }

  std::vector<std::string> Posted(const std::string& method) {
    std::vector<std::string> out;
    for (const auto& c : slack_.chats()) {
      if (c.method == method) out.push_back(c.channel);
    }
    return out;
  }

  FakeClock clock_;
  FakePeople people_;
  MemorySent sent_;
  FakeSlackApi slack_;
};

TEST_F(SlackBotTest, EachApproverButTheRequesterGetsADirectMessageWithTheButtons) {
  auto channel = Make({.channel = "C0123"});
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  ASSERT_THAT(channel->Send(m), IsOk());
  // alice asked; dave has no Slack account; the channel gets its message too.
  EXPECT_THAT(Posted("chat.postMessage"), ElementsAre("DBOB", "DCAROL", "C0123"));
  for (const auto& c : slack_.chats()) {
    EXPECT_EQ(c.body["blocks"], SlackBlocks(m)["blocks"]);
    EXPECT_THAT(c.body.dump(), HasSubstr("jit_approve"));
  }
  Result<std::vector<SentMessage>> kept = sent_.Kept(m.request.id);
  ASSERT_THAT(kept.error(), IsOk());
  std::set<std::string> where;
  for (const SentMessage& k : *kept) {
    where.insert(k.channel);
    EXPECT_EQ(k.delivery, DeliveryId(m));
  }
  EXPECT_THAT(where, UnorderedElementsAre("DBOB", "DCAROL", "C0123"));
}

TEST_F(SlackBotTest, ARetriedDeliveryPostsOnlyWhatFailed) {
  auto channel = Make({.channel = "C0123"});
  slack_.FailPostsTo("UCAROL", 1);
  Message m = SampleMessage(Event::kRequestCreated, clock_.Now());
  EXPECT_THAT(channel->Send(m), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(Posted("chat.postMessage"), ElementsAre("DBOB"));
  ASSERT_THAT(channel->Send(m), IsOk());
  EXPECT_THAT(Posted("chat.postMessage"), ElementsAre("DBOB", "DCAROL", "C0123"));
  // Slack user ids were looked up once per e-mail (cached).
  EXPECT_EQ(slack_.lookups(), 3);  // bob, carol, dave
}

TEST_F(SlackBotTest, ARemindersGoesOnlyToApproversWhoHaveNotAnswered) {
  auto channel = Make({});
  Message m = SampleMessage(Event::kApprovalReminder, clock_.Now());
  m.request.approvals_required = 2;
  m.request.approvals.push_back(model::Approval{"bob", "ok", clock_.Now()});
  ASSERT_THAT(channel->Send(m), IsOk());
  EXPECT_THAT(Posted("chat.postMessage"), ElementsAre("DCAROL"));
  EXPECT_THAT(Posted("webhook"), IsEmpty());  // no webhook, no channel: DMs only
}

TEST_F(SlackBotTest, TheDecisionUpdatesEveryKeptMessageWithoutButtons) {
  auto channel = Make({.channel = "C0123"}, Filter{.audiences = {Audience::kApprovers}});
  Message created = SampleMessage(Event::kRequestCreated, clock_.Now());
  ASSERT_THAT(channel->Send(created), IsOk());

  Message approved = SampleMessage(Event::kRequestApproved, clock_.Now());
  approved.request.state = model::RequestState::kApproved;
  approved.actor = "bob";
  // The filter lists approver events only, yet the channel takes the decision to update.
  EXPECT_TRUE(channel->Wants(approved));
  ASSERT_THAT(channel->Send(approved), IsOk());
  EXPECT_THAT(Posted("chat.update"), UnorderedElementsAre("DBOB", "DCAROL", "C0123"));
  for (const auto& c : slack_.chats()) {
    if (c.method != "chat.update") continue;
    EXPECT_THAT(c.body["text"].get<std::string>(), HasSubstr("Approved"));
    EXPECT_THAT(c.body["text"].get<std::string>(), HasSubstr("by bob"));
    EXPECT_THAT(c.body.dump(), ::testing::Not(HasSubstr("jit_approve")));
    EXPECT_FALSE(c.ts.empty());
  }
  // Not posted anew: the filter does not list request.approved.
  EXPECT_EQ(Posted("chat.postMessage").size(), 3u);

  // A channel routed to other rules takes no decision of this one, not even to update.
  auto routed = Make({.channel = "C0123"}, Filter{.rules = {"readonly"}});
  EXPECT_FALSE(routed->Wants(approved));
  EXPECT_FALSE(routed->Wants(created));
}

TEST_F(SlackBotTest, AMessageThatIsGoneIsSkippedAndOtherFailuresRetry) {
  auto channel = Make({});
  Message approved = SampleMessage(Event::kRequestDenied, clock_.Now());
  ASSERT_THAT(sent_.Keep(approved.request.id, SentMessage{"DGONE", "1.1", "UX", "evt"}), IsOk());
  ASSERT_THAT(sent_.Keep(approved.request.id, SentMessage{"DBOB", "1.2", "UBOB", "evt"}), IsOk());
  EXPECT_THAT(channel->Send(approved), IsOk());
  EXPECT_THAT(Posted("chat.update"), ElementsAre("DBOB", "DGONE"));

  people_.FailWith(UnavailableError("identity store busy"));
  Message created = SampleMessage(Event::kRequestCreated, clock_.Now());
  EXPECT_THAT(channel->Send(created), StatusIs(StatusCode::kUnavailable));
}

TEST_F(SlackBotTest, RefusedDirectMessagesDoNotKeepTheChannelMessageBack) {
  // users.lookupByEmail refused for good (as without the users:read.email scope).
  FakeTransport http([&](const HttpCall& call) -> Result<HttpResponse> {
    if (call.url.find("lookupByEmail") != std::string::npos) {
      return HttpResponse{200, {}, R"({"ok":false,"error":"missing_scope"})"};
    }
    return slack_.http().Send(call);
  });
  SlackChannelOptions o{.channel = "C0123"};
  o.bot_token = "xoxb-t";
  o.api_url = "https://slack.example/api";
  auto channel = NewSlackChannel(ChannelSettings{"slack", Filter{}, Duration(2000)}, o, http,
                                 clock_, &people_, &sent_);
  ASSERT_THAT(channel->Send(SampleMessage(Event::kRequestCreated, clock_.Now())), IsOk());
  EXPECT_THAT(Posted("chat.postMessage"), ElementsAre("C0123"));
}

TEST_F(SlackBotTest, ARefusedTokenIsNotRetried) {
  SlackChannelOptions o{.channel = "C0123"};
  o.bot_token = "xoxb-wrong";
  o.api_url = "https://slack.example/api";
  auto channel = NewSlackChannel(ChannelSettings{"slack", Filter{}, Duration(2000)}, o,
                                 slack_.http(), clock_, nullptr, nullptr);
  EXPECT_THAT(channel->Send(SampleMessage(Event::kRequestCreated, clock_.Now())),
              StatusIs(StatusCode::kPermissionDenied));
}

TEST(ApproversToAsk, NeverTheRequesterNorThoseWhoAnswered) {
  FakePeople people;
  for (const char* n : {"alice", "bob", "carol"}) people.Add(n, std::string(n) + "@example.com");
  people.Group("approvers", {"alice", "bob", "carol"});
  FakeClock clock;
  model::Request r = testing::SampleRequest(clock.Now());
  r.approver_users = {"carol"};
  Result<std::vector<Person>> asked = ApproversToAsk(r, people);
  ASSERT_THAT(asked.error(), IsOk());
  ASSERT_EQ(asked->size(), 2u);
  EXPECT_EQ((*asked)[0].username, "bob");
  EXPECT_EQ((*asked)[1].username, "carol");

  r.approvals.push_back(model::Approval{"carol", "", clock.Now()});
  asked = ApproversToAsk(r, people);
  ASSERT_THAT(asked.error(), IsOk());
  ASSERT_EQ(asked->size(), 1u);
  EXPECT_EQ((*asked)[0].username, "bob");

  // An active grant's pending extension: its own approvals count.
  r.state = model::RequestState::kActive;
  r.extension = model::PendingExtension{};
  r.extension->approvals.push_back(model::Approval{"bob", "", clock.Now()});
  asked = ApproversToAsk(r, people);
  ASSERT_EQ(asked->size(), 1u);
  EXPECT_EQ((*asked)[0].username, "carol");

  // Nothing waits any more: nobody is asked (a delivery that runs after the decision).
  r.extension.reset();
  EXPECT_THAT(*ApproversToAsk(r, people), IsEmpty());
  r.state = model::RequestState::kApproved;
  EXPECT_THAT(*ApproversToAsk(r, people), IsEmpty());

  r.state = model::RequestState::kPending;
  r.approvals.clear();
  r.approver_users.clear();
  r.approver_groups.clear();
  EXPECT_THAT(*ApproversToAsk(r, people), IsEmpty());
}

TEST(Routing, ChannelsForSomeRulesOrAccountsTakeOnlyTheirRequests) {
  FakeClock clock;
  Message m = SampleMessage(Event::kRequestCreated, clock.Now());  // prod-admin, 222222222222
  Filter f;
  EXPECT_TRUE(f.Routes(m.request));
  f.rules = {"prod-admin"};
  EXPECT_TRUE(f.Routes(m.request));
  f.accounts = {"sandbox"};
  EXPECT_FALSE(f.Routes(m.request));
  f.accounts = {"prod"};
  EXPECT_TRUE(f.Routes(m.request));
  f.accounts = {"222222222222"};
  EXPECT_TRUE(f.Routes(m.request));
  f.rules = {"readonly"};
  EXPECT_FALSE(f.Routes(m.request));
  // Drift names no request: a routed channel does not take it.
  EXPECT_FALSE(f.Routes(model::Request{}));
  EXPECT_TRUE(Filter{}.Routes(model::Request{}));

  auto parsed = ParseNotifySection(
      "notify:\n"
      "  - {type: webhook, url: \"https://h.example.com\", secret_file: /s, rules: [prod-admin],"
      " accounts: [prod, \"111111111111\"]}\n",
      "jit.yaml");
  ASSERT_THAT(parsed.error(), IsOk());
  ASSERT_EQ(parsed->size(), 1u);
  EXPECT_THAT((*parsed)[0].rules, ElementsAre("prod-admin"));
  EXPECT_THAT((*parsed)[0].accounts, ElementsAre("prod", "111111111111"));
  Filter from = Filter::FromConfig((*parsed)[0], Filter{});
  EXPECT_TRUE(from.Routes(m.request));
  m.request.rule = "other";
  EXPECT_FALSE(from.Routes(m.request));
}

TEST(SlackConfig, ChannelDirectMessagesAndTheirMistakes) {
  auto ok = ParseNotifySection(
      "notify:\n"
      "  - {type: slack, bot_token_file: /t, channel: C0123ABCD}\n"
      "  - {type: slack, name: dm-only, bot_token_file: /t, direct_messages: false,"
      " webhook_url_file: /u}\n",
      "jit.yaml");
  ASSERT_THAT(ok.error(), IsOk());
  const auto& a = (*ok)[0].As<SlackOptions>();
  EXPECT_EQ(a.channel, "C0123ABCD");
  EXPECT_TRUE(a.direct_messages);
  EXPECT_FALSE((*ok)[1].As<SlackOptions>().direct_messages);

  struct Case {
    const char* entry;
    const char* says;
  };
  for (const Case& c : {
           Case{"{type: slack, channel: C0123}", "'channel' needs 'bot_token_file'"},
           Case{"{type: slack, bot_token_file: /t, channel: general}", "Slack channel id"},
           Case{"{type: slack}", "needs 'webhook_url_file', or 'bot_token_file'"},
           Case{"{type: slack, webhook_url_file: /u, bot_token_file: /t, channel: C0123}",
                "keep one"},
           Case{"{type: webhook, url: \"https://h.example.com\", secret_file: /s, rules: []}",
                "'rules' must not be empty"},
           Case{"{type: email, smtp_url: \"smtp://m.example.com\", from: j@example.com,"
                " to_requester: false}",
                "to_approvers: true"},
       }) {
    auto bad = ParseNotifySection(std::string("notify:\n  - ") + c.entry + "\n", "jit.yaml");
    EXPECT_THAT(bad.error(), StatusIs(StatusCode::kInvalidArgument)) << c.entry;
    EXPECT_THAT(bad.error().message(), HasSubstr(c.says)) << c.entry;
    EXPECT_THAT(bad.error().message(), HasSubstr("jit.yaml:2")) << c.entry;
  }
  auto email = ParseNotifySection(
      "notify:\n  - {type: email, smtp_url: \"smtp://m.example.com\", from: j@example.com,"
      " to_requester: false, to_approvers: true}\n",
      "jit.yaml");
  ASSERT_THAT(email.error(), IsOk());
  EXPECT_TRUE((*email)[0].As<EmailOptions>().to_approvers);
}

}  // namespace slack_test
}  // namespace jit::notify
