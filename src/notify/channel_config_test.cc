// The `notify:` section of the config (docs/NOTIFY.md).

#include "notify/channel_config.h"

#include <fstream>

#include "config/reader.h"
#include "core/testing.h"

namespace jit::notify {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A config file that holds only a `notify:` section, read as config::ParseConfig and
// config::LoadConfigFile read it.
struct Config {
  std::vector<ChannelConfig> notify;
};

Result<Config> ParseConfig(const std::string& yaml, const std::string& file) {
  Config out;
  JIT_RETURN_IF_ERROR(config::ReadDocument(yaml, file, {"notify"},
                                           [&](const config::Fields& top, config::Reader& r) {
                                             if (const config::Field* f = top.Get("notify"))
                                               out.notify = ParseChannels(*f, r);
                                           }));
  return out;
}

Result<Config> LoadConfigFile(const std::string& path) {
  JIT_ASSIGN_OR_RETURN(std::string text, config::ReadConfigText(path));
  JIT_ASSIGN_OR_RETURN(Config c, ParseConfig(text, path));
  JIT_RETURN_IF_ERROR(CheckChannelFiles(c.notify, path));
  return c;
}

Result<Config> Parse(const std::string& notify) {
  return ParseConfig("notify:\n" + notify, "jit.yaml");
}

std::string ErrorOf(const std::string& notify) {
  Result<Config> c = Parse(notify);
  EXPECT_FALSE(c.has_value()) << notify;
  return c.has_value() ? "" : c.error().message();
}

TEST(NotifyConfig, ReadsEveryChannelTypeWithDefaults) {
  Result<Config> c = Parse(R"(
  - {type: webhook, url: "https://hooks.example.com/jit", secret_file: /etc/jit/webhook-secret}
  - {type: slack, webhook_url_file: /etc/jit/slack-url, signing_secret_file: /etc/jit/slack-secret,
     bot_token_file: /etc/jit/slack-bot, team_id: T123}
  - {type: teams, url: "https://example.webhook.office.com/x", audiences: [approvers, security]}
  - {type: email, smtp_url: "smtp://mail.example.com:587", from: jit@example.com,
     to: [ops@example.com], username: jit, password_file: /etc/jit/smtp-password}
  - {type: sns, topic_arn: "arn:aws:sns:us-east-1:111111111111:jit", format: text}
  - {type: eventbridge, bus: jit-events}
  - {type: securityhub, account_id: "111111111111", region: eu-west-1}
  - {type: webhook, name: audit-hook, url: "http://127.0.0.1:9000/x", secret_file: /s,
     events: [request.created, grant.ended], timeout: 3s}
  - {type: webhook, url: "https://two.example.com/", secret_file: /s}
)");
  ASSERT_OK(c);
  ASSERT_EQ(c->notify.size(), 9u);
  const auto& n = c->notify;
  EXPECT_EQ(n[0].type, "webhook");
  EXPECT_EQ(n[0].name, "webhook");
  EXPECT_EQ(n[0].As<WebhookOptions>().url, "https://hooks.example.com/jit");
  EXPECT_EQ(n[0].As<WebhookOptions>().secret_file, "/etc/jit/webhook-secret");
  EXPECT_EQ(n[0].timeout, Duration(10000));
  EXPECT_EQ(n[1].name, "slack");
  EXPECT_EQ(n[1].As<SlackOptions>().signing_secret_file, "/etc/jit/slack-secret");
  EXPECT_EQ(n[1].As<SlackOptions>().bot_token_file, "/etc/jit/slack-bot");
  EXPECT_EQ(n[1].As<SlackOptions>().api_url, "https://slack.com/api");
  EXPECT_EQ(n[1].As<SlackOptions>().team_id, "T123");
  EXPECT_THAT(n[2].audiences, ElementsAre("approvers", "security"));
  EXPECT_EQ(n[3].As<EmailOptions>().smtp_url, "smtp://mail.example.com:587");
  EXPECT_TRUE(n[3].As<EmailOptions>().starttls);
  EXPECT_TRUE(n[3].As<EmailOptions>().to_requester);
  EXPECT_THAT(n[3].As<EmailOptions>().to, ElementsAre("ops@example.com"));
  EXPECT_EQ(n[3].As<EmailOptions>().username, "jit");
  EXPECT_EQ(n[4].As<SnsOptions>().format, "text");
  EXPECT_EQ(n[5].As<EventBridgeOptions>().bus, "jit-events");
  EXPECT_EQ(n[5].As<EventBridgeOptions>().source, "jit");
  EXPECT_EQ(n[6].As<SecurityHubOptions>().account_id, "111111111111");
  EXPECT_EQ(n[6].As<SecurityHubOptions>().region, "eu-west-1");
  EXPECT_EQ(n[7].name, "audit-hook");
  EXPECT_THAT(n[7].events, ElementsAre("request.created", "grant.ended"));
  EXPECT_EQ(n[7].timeout, Duration(3000));
  EXPECT_EQ(n[8].name, "webhook-2");
  EXPECT_EQ(n[0].line, 3);
  EXPECT_EQ(n[8].line, 14);
}

TEST(NotifyConfig, NamesTheLineOfEachMistake) {
  struct Case {
    std::string yaml;
    std::string error;
  };
  for (const Case& c : std::vector<Case>{
           {"  - {type: webhok, url: x}\n",
            "jit.yaml:2: unknown channel type 'webhok' (did you "
            "mean 'webhook'?)"},
           {"  - {url: x}\n", "jit.yaml:2: a 'notify' entry needs a 'type'"},
           {"  - just-a-string\n", "jit.yaml:2: a 'notify' entry must be a map"},
           {"  - {type: webhook, secret_file: /s}\n", "jit.yaml:2: a webhook channel has no 'url'"},
           {"  - {type: webhook, url: \"http://example.com/x\", secret_file: /s}\n",
            "jit.yaml:2: 'url' must be an https URL (http only on a loopback host)"},
           {"  - {type: webhook, url: \"https://x.example.com\"}\n",
            "a webhook channel has no 'secret_file'"},
           {"  - {type: webhook, url: \"https://x.example.com\", secret_file: /s, topic_arn: x}\n",
            "unknown key 'topic_arn' in a webhook channel"},
           {"  - {type: slack, webhook_url_file: /u, signing_secret_file: /s}\n",
            "'signing_secret_file' (Approve / Deny buttons) needs 'bot_token_file' too"},
           {"  - {type: teams}\n", "exactly one of 'url' and 'webhook_url_file'"},
           {"  - {type: email, smtp_url: \"smtp://mail.example.com\", from: jit@example.com, "
            "to: [ops@example.com], starttls: false}\n",
            "'starttls: false' is allowed only for a loopback SMTP server"},
           {"  - {type: email, smtp_url: \"smtp://user@mail.example.com\", from: jit@example.com, "
            "to: [a@b.c]}\n",
            "'smtp_url' must be smtp://HOST[:PORT]"},
           {"  - {type: email, smtp_url: \"smtp://m.example.com\", from: \"jit <j@x.y>\", to: "
            "[a@b.c]}\n",
            "'from' is not an e-mail address"},
           {"  - {type: email, smtp_url: \"smtp://m.example.com\", from: j@x.y, to: "
            "[\"a@b.c\\r\\nBcc: d@e.f\"]}\n",
            "is not an e-mail address"},
           {"  - {type: email, smtp_url: \"smtp://m.example.com\", from: j@x.y, to_requester: "
            "false}\n",
            "needs 'to' recipients"},
           {"  - {type: sns, topic_arn: \"arn:aws:sns:us-east-1:1111:jit\"}\n",
            "is not an SNS topic ARN"},
           {"  - {type: eventbridge, bus: \"no spaces\"}\n", "is not an event bus name or ARN"},
           {"  - {type: eventbridge, bus: b, source: aws.jit}\n", "must not start with 'aws.'"},
           {"  - {type: securityhub, account_id: \"12\"}\n",
            "'account_id' must be exactly 12 digits"},
           {"  - {type: sns, topic_arn: \"arn:aws:sns:us-east-1:111111111111:jit\", region: "
            "mars}\n",
            "'mars' is not an AWS region"},
           {"  - {type: webhook, url: \"https://x.example.com\", secret_file: /s, events: "
            "[request.create]}\n",
            "unknown event 'request.create' (did you mean 'request.created'?)"},
           {"  - {type: webhook, url: \"https://x.example.com\", secret_file: /s, audiences: "
            "[approver]}\n",
            "unknown audience 'approver'"},
           {"  - {type: webhook, url: \"https://x.example.com\", secret_file: /s, audiences: "
            "[security], events: [request.created]}\n",
            "have no event in common"},
           {"  - {type: webhook, url: \"https://x.example.com\", secret_file: /s, timeout: 90s}\n",
            "'timeout' must be a duration from 1s to 60s"},
           {"  - {type: webhook, name: a, url: \"https://x.example.com\", secret_file: /s}\n"
            "  - {type: slack, name: a, webhook_url_file: /u}\n",
            "jit.yaml:3: channel name 'a' is already used on line 2"},
       }) {
    EXPECT_THAT(ErrorOf(c.yaml), HasSubstr(c.error)) << c.yaml;
  }
  EXPECT_THAT(ParseConfig("notify: {type: webhook}\n", "jit.yaml"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("jit.yaml:1: 'notify' must be a "
                                                               "list of channels")));
}

TEST(NotifyConfig, StartTlsMayBeOffOnlyOnLoopback) {
  Result<Config> c = Parse(
      "  - {type: email, smtp_url: \"smtp://127.0.0.1:2525\", from: jit@example.com, to: "
      "[ops@example.com], starttls: false}\n");
  ASSERT_OK(c);
  EXPECT_FALSE(c->notify[0].As<EmailOptions>().starttls);
  EXPECT_THAT(ErrorOf("  - {type: email, smtp_url: \"smtps://127.0.0.1:2525\", from: j@x.y, "
                      "to: [a@b.c], starttls: false}\n"),
              HasSubstr("makes no sense with smtps://"));
}

TEST(NotifyConfig, LoadConfigFileChecksThatTheFilesCanBeRead) {
  ::jit::testing::TempDir dir;
  std::string secret = (dir.path() / "secret").string();
  std::ofstream(secret) << "s3cr3t\n";
  std::string path = (dir.path() / "jit.yaml").string();
  std::ofstream(path) << "notify:\n"
                      << "  - {type: webhook, url: \"https://x.example.com\", secret_file: "
                      << secret << "}\n"
                      << "  - {type: slack, webhook_url_file: " << (dir.path() / "missing").string()
                      << "}\n";
  Result<Config> c = LoadConfigFile(path);
  ASSERT_FALSE(c.has_value());
  EXPECT_THAT(c.error().message(),
              HasSubstr(path + ":3: slack channel 'slack': 'webhook_url_file': cannot read "));
  EXPECT_THAT(c.error().message(), ::testing::Not(HasSubstr("secret_file")));
}

}  // namespace
}  // namespace jit::notify
