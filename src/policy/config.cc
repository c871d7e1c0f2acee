#include "policy/config.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <exception>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "aws/names.h"
#include "core/duration.h"
#include "core/email_address.h"

namespace jit::policy {
namespace {

// Edit distance, for "did you mean" hints. Inputs are short keys and names.
std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// " (did you mean 'x'?)" when one of `candidates` is close to `word`, else "".
std::string Hint(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = (word.size() <= 3 ? 1 : 2) + 1;  // beyond that hints are noise
  for (const std::string& c : candidates) {
    std::size_t d = EditDistance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best.empty() ? std::string() : " (did you mean '" + best + "'?)";
}

bool IsDigits(std::string_view s, std::size_t n) {
  return s.size() == n &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool IsLowerHex(std::string_view s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// AWS.md "PermissionSetArn".
bool IsPermissionSetArn(const std::string& arn) {
  static const std::regex kArn(
      "arn:aws(-[a-z]{1,5}){0,3}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9.-]{16}/"
      "ps-[a-zA-Z0-9./-]{16}");
  return std::regex_match(arn, kArn);
}

// A string from a list, with the line it stands on.
struct Named {
  std::string value;
  int line = 0;
};

// One `key: value` of a YAML map.
struct Field {
  std::string key;
  YAML::Node value;
  int line = 0;  // of the key
};

// The fields of one YAML map, in file order.
class Fields {
 public:
  const Field* Get(std::string_view key) const {
    for (const Field& f : fields_) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }
  std::vector<Field>& all() { return fields_; }
  const std::vector<Field>& all() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

// Reads the YAML tree into a Config, collecting every problem with its line. yaml-cpp may
// throw from node accessors; ParseConfig catches around all of it.
class Parser {
 public:
  Parser(std::string_view file_name, std::string_view zoneinfo_dir)
      : file_name_(file_name), zoneinfo_dir_(zoneinfo_dir) {}

  Result<Config> Run(const YAML::Node& root) {
    if (root.IsNull()) {
      Error(1, "the config is empty; expected a map of settings such as accounts and rules");
      return Finish();
    }
    std::optional<Fields> top =
        Map(root, LineOf(root, 1), "the config",
            {"server", "store", "aws", "auth", "admins", "auditors", "accounts", "permission_sets",
             "rules", "notify", "audit", "ui"});
    if (!top) return Finish();
    // Rules refer to accounts and permission sets, which may stand after them in the file.
    const Field* rules = nullptr;
    for (const Field& f : top->all()) {
      if (f.key == "server") {
        ReadServer(f);
      } else if (f.key == "store") {
        if (auto s = String(f)) config_.store = *s;
      } else if (f.key == "aws") {
        ReadAws(f);
      } else if (f.key == "audit") {
        ReadAudit(f);
      } else if (f.key == "notify") {
        ReadNotify(f);
      } else if (f.key == "auth") {
        ReadAuth(f);
      } else if (f.key == "ui") {
        ReadUi(f);
      } else if (f.key == "admins") {
        config_.admins = ReadSubjects(f, false);
      } else if (f.key == "auditors") {
        config_.auditors = ReadSubjects(f, false);
      } else if (f.key == "accounts") {
        ReadAccounts(f);
      } else if (f.key == "permission_sets") {
        ReadPermissionSets(f);
      } else if (f.key == "rules") {
        rules = &f;
      }
    }
    if (rules != nullptr) ReadRules(*rules);
    return Finish();
  }

 private:
  // --- error collection ---------------------------------------------------------------------

  // `what` may quote the file's own text: control characters in it are escaped, so that each
  // problem stays on one line (a key holding a newline broke "one line per problem" and could
  // forge lines of `jit config check` output; found by fuzz/config_fuzzer).
  void Error(int line, const std::string& what) {
    errors_.emplace_back(line, EscapeControls(what));
  }

  static std::string EscapeControls(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
      auto u = static_cast<unsigned char>(c);
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\t') {
        out += "\\t";
      } else if (u < 0x20 || u == 0x7f) {
        static constexpr std::string_view kHex = "0123456789abcdef";
        out += "\\x";
        out += kHex[u >> 4];
        out += kHex[u & 15];
      } else {
        out += c;
      }
    }
    return out;
  }

  Result<Config> Finish() {
    if (errors_.empty()) return std::move(config_);
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string message;
    for (const auto& [line, what] : errors_) {
      if (!message.empty()) message += '\n';
      message += file_name_ + ":" + std::to_string(line) + ": " + what;
    }
    return InvalidArgumentError(std::move(message));
  }

  static int LineOf(const YAML::Node& n, int fallback) {
    int line = n.Mark().line;
    return line >= 0 ? line + 1 : fallback;
  }
  // Problems with a value are reported on its key's line: a block value starts on the next
  // line, and an empty one carries the mark of whatever follows it.
  static int LineOf(const Field& f) { return f.line; }

  // --- typed readers; each reports its own errors and returns nullopt on one ----------------

  // The fields of a map. Reports a non-map, duplicate keys and keys not in `allowed`.
  std::optional<Fields> Map(const YAML::Node& node, int line, const std::string& what,
                            const std::vector<std::string>& allowed) {
    if (!node.IsMap()) {
      Error(line, what + " must be a map");
      return std::nullopt;
    }
    Fields fields;
    std::set<std::string> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      // Copies: `it->first` lives in a proxy that dies at the end of the full expression.
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      int key_line = LineOf(key, line);
      if (!key.IsScalar()) {
        Error(key_line, "a key in " + what + " must be a plain name");
        continue;
      }
      std::string name = key.Scalar();
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        if (what == "a rule" && name == "regions") {
          // Silently ignoring a region restriction would widen access.
          Error(key_line, "'" + name + "' is not supported yet");
        } else {
          Error(key_line, "unknown key '" + name + "' in " + what + Hint(name, allowed));
        }
        continue;
      }
      if (!seen.insert(name).second) {
        Error(key_line, "duplicate key '" + name + "' in " + what);
        continue;
      }
      fields.all().push_back({name, value, key_line});
    }
    return fields;
  }

  std::optional<Fields> Map(const Field& f, const std::vector<std::string>& allowed) {
    return Map(f.value, LineOf(f), "'" + f.key + "'", allowed);
  }

  std::optional<std::string> String(const Field& f) {
    if (!f.value.IsScalar()) {
      Error(LineOf(f), "'" + f.key + "' must be a string");
      return std::nullopt;
    }
    return f.value.Scalar();
  }

  // A required string: present, a scalar and not empty.
  std::optional<std::string> RequiredString(const Fields& fields, std::string_view key, int line,
                                            const std::string& what) {
    const Field* f = fields.Get(key);
    if (f == nullptr) {
      Error(line, what + " has no '" + std::string(key) + "'");
      return std::nullopt;
    }
    std::optional<std::string> s = String(*f);
    if (s && s->empty()) {
      Error(LineOf(*f), "'" + f->key + "' must not be empty");
      return std::nullopt;
    }
    return s;
  }

  // A list of non-empty strings.
  std::optional<std::vector<Named>> Names(const Field& f) {
    if (!f.value.IsSequence()) {
      Error(LineOf(f), "'" + f.key + "' must be a list of names");
      return std::nullopt;
    }
    std::vector<Named> out;
    bool ok = true;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, LineOf(f));
      if (!item.IsScalar() || item.Scalar().empty()) {
        Error(line, "'" + f.key + "' must be a list of names");
        ok = false;
        continue;
      }
      out.push_back({item.Scalar(), line});
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::vector<std::string> NameList(const Field* f) {
    std::vector<std::string> out;
    if (f == nullptr) return out;
    if (auto names = Names(*f)) {
      for (Named& n : *names) out.push_back(std::move(n.value));
    }
    return out;
  }

  std::optional<bool> Bool(const Field& f) {
    bool b = false;
    if (!f.value.IsScalar() || !YAML::convert<bool>::decode(f.value, b)) {
      Error(LineOf(f), "'" + f.key + "' must be true or false");
      return std::nullopt;
    }
    return b;
  }

  std::optional<int> Int(const Field& f, int min, int max) {
    std::string s = f.value.IsScalar() ? f.value.Scalar() : std::string();
    bool digits = !s.empty() && s.size() <= 9 &&
                  std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    int n = digits ? std::stoi(s) : -1;
    if (!digits || n < min || n > max) {
      Error(LineOf(f), "'" + f.key + "' must be a whole number from " + std::to_string(min) +
                           " to " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  // A positive duration ("15m").
  std::optional<Duration> PositiveDuration(const Field& f) {
    if (!f.value.IsScalar()) {
      Error(LineOf(f), "'" + f.key + "' must be a duration such as 15m or 1h30m");
      return std::nullopt;
    }
    Result<Duration> d = ParseDuration(f.value.Scalar());
    if (!d.ok()) {
      Error(LineOf(f), "'" + f.key + "': " + d.error().message());
      return std::nullopt;
    }
    if (d->count() <= 0) {
      Error(LineOf(f), "'" + f.key + "' must be longer than 0s");
      return std::nullopt;
    }
    return *d;
  }

  // {users: [...], groups: [...]}.
  Subjects ReadSubjects(const Field& f, bool required_not_empty) {
    Subjects s;
    std::optional<Fields> fields = Map(f, {"users", "groups"});
    if (!fields) return s;
    s.users = NameList(fields->Get("users"));
    s.groups = NameList(fields->Get("groups"));
    if (required_not_empty && s.Empty()) {
      Error(LineOf(f), "'" + f.key + "' must name at least one user or group");
    }
    return s;
  }

  // --- sections -------------------------------------------------------------------------------

  void ReadServer(const Field& f) {
    std::optional<Fields> fields = Map(f, {"listen", "public_url"});
    if (!fields) return;
    if (const Field* listen = fields->Get("listen")) {
      if (auto s = String(*listen)) {
        if (s->empty()) {
          Error(LineOf(*listen), "'listen' must not be empty");
        } else {
          config_.server.listen = *s;
        }
      }
    }
    if (const Field* url = fields->Get("public_url")) {
      if (auto s = String(*url)) {
        if (Status ok = CheckPublicUrl(*s); !ok.ok()) {
          Error(LineOf(*url), ok.message());
        } else {
          config_.server.public_url = *s;
        }
      }
    }
  }

  // `ui: {session_key_file, session_lifetime}`.
  void ReadUi(const Field& f) {
    if (f.value.IsNull()) return;
    std::optional<Fields> fields = Map(f, {"session_key_file", "session_lifetime"});
    if (!fields) return;
    config_.ui.line = LineOf(f);
    if (fields->Get("session_key_file") != nullptr) {
      if (auto s = RequiredString(*fields, "session_key_file", LineOf(f), "'ui'")) {
        config_.ui.session_key_file = *s;
      }
    }
    if (const Field* lifetime = fields->Get("session_lifetime")) {
      if (auto d = PositiveDuration(*lifetime)) {
        if (*d < Duration(5 * 60 * 1000) || *d > Duration(7LL * 24 * 60 * 60 * 1000)) {
          Error(LineOf(*lifetime), "'session_lifetime' must be from 5m to 7d");
        } else {
          config_.ui.session_lifetime = *d;
        }
      }
    }
  }

  // `audit: {checkpoint_key_file, checkpoint_interval, checkpoint_file}`.
  void ReadAudit(const Field& f) {
    if (f.value.IsNull()) return;
    std::optional<Fields> fields =
        Map(f, {"checkpoint_key_file", "checkpoint_interval", "checkpoint_file"});
    if (!fields) return;
    AuditSettings& a = config_.audit;
    a.line = LineOf(f);
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"checkpoint_key_file", &a.checkpoint_key_file},
          std::pair<const char*, std::string*>{"checkpoint_file", &a.checkpoint_file}}) {
      const Field* x = fields->Get(key);
      if (x == nullptr) continue;
      if (auto s = String(*x)) {
        if (s->empty()) {
          Error(LineOf(*x), "'" + std::string(key) + "' must not be empty");
        } else {
          *out = *s;
        }
      }
    }
    if (const Field* x = fields->Get("checkpoint_interval")) {
      Result<Duration> d = x->value.IsScalar() ? ParseDuration(x->value.Scalar())
                                               : Result<Duration>(InvalidArgumentError(""));
      if (!d.ok() || *d < std::chrono::seconds(1) || *d > std::chrono::hours(1)) {
        Error(LineOf(*x), "'checkpoint_interval' must be a duration from 1s to 1h");
      } else {
        a.checkpoint_interval = *d;
      }
    }
    if (a.checkpoint_key_file.empty() && (fields->Get("checkpoint_file") != nullptr ||
                                          fields->Get("checkpoint_interval") != nullptr)) {
      Error(a.line, "'audit' names no 'checkpoint_key_file': checkpoints need a signing key");
    }
  }

  // `aws: {region, instance_arn, identity_store_id}`. A present section must name the
  // instance and its identity store; the region may come from the environment instead.
  void ReadAws(const Field& f) {
    if (f.value.IsNull()) return;
    std::optional<Fields> fields = Map(f, {"region", "instance_arn", "identity_store_id"});
    if (!fields) return;
    config_.aws.line = LineOf(f);
    if (const Field* region = fields->Get("region")) {
      if (auto s = String(*region)) {
        if (!aws::IsAwsRegion(*s)) {
          Error(LineOf(*region), "'" + *s + "' is not an AWS region (like us-east-1)");
        } else {
          config_.aws.region = *s;
        }
      }
    }
    if (auto arn = RequiredString(*fields, "instance_arn", LineOf(f), "'aws'")) {
      if (!aws::IsInstanceArn(*arn)) {
        Error(LineOf(*fields->Get("instance_arn")),
              "'" + *arn + "' is not an Identity Center instance ARN " +
                  "(arn:aws:sso:::instance/ssoins-<16>)");
      } else {
        config_.aws.instance_arn = *arn;
      }
    }
    if (auto id = RequiredString(*fields, "identity_store_id", LineOf(f), "'aws'")) {
      if (!aws::IsIdentityStoreId(*id)) {
        Error(LineOf(*fields->Get("identity_store_id")),
              "'" + *id + "' is not an identity store id (d-<10 hex digits>)");
      } else {
        config_.aws.identity_store_id = *id;
      }
    }
  }

  // --- notify: (docs/NOTIFY.md) -----------------------------------------------------------

  // `notify: [{type, name?, audiences?, events?, timeout?, <the type's keys>}]`.
  void ReadNotify(const Field& f) {
    if (f.value.IsNull()) return;
    if (!f.value.IsSequence()) {
      Error(LineOf(f), "'notify' must be a list of channels");
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, int> per_type;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, LineOf(f));
      std::optional<NotifyChannelConfig> c = ReadNotifyChannel(item, line);
      if (!c) continue;
      if (c->name.empty()) {
        int n = ++per_type[c->type];
        c->name = n == 1 ? c->type : c->type + "-" + std::to_string(n);
      }
      auto [it, fresh] = names.emplace(c->name, line);
      if (!fresh) {
        Error(line, "channel name '" + c->name + "' is already used on line " +
                        std::to_string(it->second) + "; give each channel its own 'name'");
        continue;
      }
      config_.notify.push_back(std::move(*c));
    }
  }

  // The keys each channel type takes besides type, name, audiences, events and timeout.
  static const std::vector<std::string>* NotifyKeys(const std::string& type) {
    static const std::map<std::string, std::vector<std::string>> kKeys = {
        {"webhook", {"url", "secret_file"}},
        {"slack",
         {"webhook_url_file", "signing_secret_file", "bot_token_file", "api_url", "team_id"}},
        {"teams", {"url", "webhook_url_file"}},
        {"email",
         {"smtp_url", "from", "to", "username", "password_file", "starttls", "ca_file",
          "to_requester"}},
        {"sns", {"topic_arn", "region", "format"}},
        {"eventbridge", {"bus", "source", "region"}},
        {"securityhub", {"region", "account_id"}},
    };
    auto it = kKeys.find(type);
    return it == kKeys.end() ? nullptr : &it->second;
  }

  std::optional<NotifyChannelConfig> ReadNotifyChannel(const YAML::Node& item, int line) {
    if (!item.IsMap()) {
      Error(line, "a 'notify' entry must be a map");
      return std::nullopt;
    }
    // The type decides which keys are allowed, so read it first.
    std::string type;
    for (auto it = item.begin(); it != item.end(); ++it) {
      const YAML::Node key = it->first;
      const YAML::Node value = it->second;
      if (key.IsScalar() && key.Scalar() == "type" && value.IsScalar()) type = value.Scalar();
    }
    std::vector<std::string> types = {"webhook", "slack",       "teams",      "email",
                                      "sns",     "eventbridge", "securityhub"};
    const std::vector<std::string>* keys = NotifyKeys(type);
    if (keys == nullptr) {
      Error(line, type.empty() ? "a 'notify' entry needs a 'type' (one of webhook, slack, teams, "
                                 "email, sns, eventbridge, securityhub)"
                               : "unknown channel type '" + type + "'" + Hint(type, types));
      return std::nullopt;
    }
    std::vector<std::string> allowed = {"type", "name", "audiences", "events", "timeout"};
    allowed.insert(allowed.end(), keys->begin(), keys->end());
    std::optional<Fields> fields = Map(item, line, "a " + type + " channel", allowed);
    if (!fields) return std::nullopt;
    const std::string what = "a " + type + " channel";

    NotifyChannelConfig c;
    c.type = type;
    c.line = line;
    auto optional_string = [&](const char* key, std::string& out) {
      if (fields->Get(key) == nullptr) return;
      if (auto s = RequiredString(*fields, key, line, what)) out = *s;
    };
    auto required_string = [&](const char* key, std::string& out) {
      if (auto s = RequiredString(*fields, key, line, what)) out = *s;
    };
    optional_string("name", c.name);
    if (const Field* a = fields->Get("audiences")) {
      static const std::vector<std::string> kAudiences = {"approvers", "requester", "security"};
      if (auto names = Names(*a)) {
        for (const Named& n : *names) {
          if (std::find(kAudiences.begin(), kAudiences.end(), n.value) == kAudiences.end()) {
            Error(n.line, "unknown audience '" + n.value +
                              "'; use approvers, requester or security" +
                              Hint(n.value, kAudiences));
          } else {
            c.audiences.push_back(n.value);
          }
        }
        if (names->empty()) Error(LineOf(*a), "'audiences' must not be empty");
      }
    }
    if (const Field* e = fields->Get("events")) {
      const std::vector<std::string>& known = NotifyEventNames();
      if (auto names = Names(*e)) {
        for (const Named& n : *names) {
          if (std::find(known.begin(), known.end(), n.value) == known.end()) {
            Error(n.line, "unknown event '" + n.value + "'" + Hint(n.value, known));
          } else {
            c.events.push_back(n.value);
          }
        }
        if (names->empty()) Error(LineOf(*e), "'events' must not be empty");
      }
    }
    if (const Field* t = fields->Get("timeout")) {
      Result<Duration> d = t->value.IsScalar() ? ParseDuration(t->value.Scalar())
                                               : Result<Duration>(InvalidArgumentError(""));
      if (!d.ok() || *d < Duration(1000) || *d > Duration(60 * 1000)) {
        Error(t->line, "'timeout' must be a duration from 1s to 60s");
      } else {
        c.timeout = *d;
      }
    }

    if (type == "webhook") {
      if (auto url = RequiredString(*fields, "url", line, what)) {
        if (!IsHttpsOrLoopbackHttpUrl(*url)) {
          Error(LineOf(*fields->Get("url")),
                "'url' must be an https URL (http only on a loopback host)");
        } else {
          c.url = *url;
        }
      }
      ReadableFile(*fields, "secret_file", line, what, /*required=*/true, c.secret_file);
    } else if (type == "slack") {
      ReadableFile(*fields, "webhook_url_file", line, what, true, c.webhook_url_file);
      ReadableFile(*fields, "signing_secret_file", line, what, false, c.signing_secret_file);
      ReadableFile(*fields, "bot_token_file", line, what, false, c.bot_token_file);
      if (!c.signing_secret_file.empty() && fields->Get("bot_token_file") == nullptr) {
        Error(LineOf(*fields->Get("signing_secret_file")),
              "'signing_secret_file' (Approve / Deny buttons) needs 'bot_token_file' too: jit "
              "looks the Slack user's e-mail up with it");
      }
      if (const Field* api = fields->Get("api_url")) {
        if (auto s = RequiredString(*fields, "api_url", line, what)) {
          if (!IsHttpsOrLoopbackHttpUrl(*s)) {
            Error(api->line, "'api_url' must be an https URL (http only on a loopback host)");
          } else {
            c.api_url = *s;
          }
        }
      }
      optional_string("team_id", c.team_id);
    } else if (type == "teams") {
      const Field* url = fields->Get("url");
      const Field* file = fields->Get("webhook_url_file");
      if ((url == nullptr) == (file == nullptr)) {
        Error(line, "a teams channel needs exactly one of 'url' and 'webhook_url_file'");
      } else if (url != nullptr) {
        if (auto s = RequiredString(*fields, "url", line, what)) {
          if (!IsHttpsOrLoopbackHttpUrl(*s)) {
            Error(url->line, "'url' must be an https URL (http only on a loopback host)");
          } else {
            c.url = *s;
          }
        }
      } else {
        ReadableFile(*fields, "webhook_url_file", line, what, true, c.webhook_url_file);
      }
    } else if (type == "email") {
      ReadEmailChannel(*fields, line, what, c);
    } else if (type == "sns") {
      if (auto arn = RequiredString(*fields, "topic_arn", line, what)) {
        static const std::regex kTopic(
            "arn:aws(-[a-z]{1,5}){0,3}:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?");
        if (!std::regex_match(*arn, kTopic)) {
          Error(LineOf(*fields->Get("topic_arn")),
                "'" + *arn + "' is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)");
        } else {
          c.topic_arn = *arn;
        }
      }
      if (fields->Get("format") != nullptr) {
        required_string("format", c.format);
        if (c.format != "json" && c.format != "text") {
          Error(LineOf(*fields->Get("format")), "'format' must be json or text");
        }
      }
    } else if (type == "eventbridge") {
      if (auto bus = RequiredString(*fields, "bus", line, what)) {
        static const std::regex kBus(
            "[/\\.\\-_A-Za-z0-9]{1,256}|arn:aws[\\w-]*:events:[a-z0-9-]+:\\d{12}:event-bus/"
            "[/\\.\\-_A-Za-z0-9]+");
        if (bus->size() > 1600 || !std::regex_match(*bus, kBus)) {
          Error(LineOf(*fields->Get("bus")), "'" + *bus + "' is not an event bus name or ARN");
        } else {
          c.bus = *bus;
        }
      }
      if (fields->Get("source") != nullptr) {
        required_string("source", c.source);
        if (c.source.size() > 256 || c.source.rfind("aws.", 0) == 0) {
          Error(LineOf(*fields->Get("source")),
                "'source' must be at most 256 characters and must not start with 'aws.'");
        }
      }
    } else if (type == "securityhub") {
      if (fields->Get("account_id") != nullptr) {
        required_string("account_id", c.account_id);
        if (!c.account_id.empty() && !IsDigits(c.account_id, 12)) {
          Error(LineOf(*fields->Get("account_id")), "'account_id' must be exactly 12 digits");
        }
      }
    }
    if (const Field* region = fields->Get("region")) {
      if (auto s = String(*region)) {
        if (!aws::IsAwsRegion(*s)) {
          Error(region->line, "'" + *s + "' is not an AWS region (like us-east-1)");
        } else {
          c.region = *s;
        }
      }
    }
    // A filter that lets nothing through is a mistake, not a way to switch a channel off.
    if (!c.audiences.empty() && !c.events.empty()) {
      bool any = false;
      for (const std::string& e : c.events) {
        std::string audience = NotifyEventAudience(e);
        any =
            any || std::find(c.audiences.begin(), c.audiences.end(), audience) != c.audiences.end();
      }
      if (!any) Error(line, "this channel's 'events' and 'audiences' have no event in common");
    }
    return c;
  }

  void ReadEmailChannel(const Fields& fields, int line, const std::string& what,
                        NotifyChannelConfig& c) {
    if (auto url = RequiredString(fields, "smtp_url", line, what)) {
      int url_line = LineOf(*fields.Get("smtp_url"));
      std::string_view rest;
      if (url->rfind("smtp://", 0) == 0) {
        rest = std::string_view(*url).substr(7);
      } else if (url->rfind("smtps://", 0) == 0) {
        rest = std::string_view(*url).substr(8);
      }
      std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
      if (authority.empty() || authority.find('@') != std::string_view::npos) {
        Error(url_line,
              "'smtp_url' must be smtp://HOST[:PORT] (STARTTLS) or smtps://HOST[:PORT], without "
              "user info (use 'username' and 'password_file')");
      } else {
        c.smtp_url = *url;
      }
    }
    if (auto from = RequiredString(fields, "from", line, what)) {
      if (!IsMailAddress(*from)) {
        Error(LineOf(*fields.Get("from")), "'from' is not an e-mail address: '" + *from + "'");
      } else {
        c.from = *from;
      }
    }
    if (const Field* to = fields.Get("to")) {
      if (auto names = Names(*to)) {
        for (const Named& n : *names) {
          if (!IsMailAddress(n.value)) {
            Error(n.line, "'" + n.value + "' is not an e-mail address");
          } else {
            c.to.push_back(n.value);
          }
        }
      }
    }
    if (const Field* f = fields.Get("to_requester")) {
      if (auto b = Bool(*f)) c.to_requester = *b;
    }
    if (c.to.empty() && !c.to_requester) {
      Error(line, "an email channel needs 'to' recipients (or 'to_requester: true')");
    }
    if (const Field* f = fields.Get("username")) {
      if (auto s = RequiredString(fields, "username", line, what)) c.username = *s;
      if (fields.Get("password_file") == nullptr) {
        Error(f->line, "'username' needs 'password_file'");
      }
    }
    ReadableFile(fields, "password_file", line, what, false, c.password_file);
    ReadableFile(fields, "ca_file", line, what, false, c.ca_file);
    if (const Field* f = fields.Get("starttls")) {
      if (auto b = Bool(*f)) {
        c.starttls = *b;
        if (!*b && !c.smtp_url.empty()) {
          std::string as_http = "http://" + c.smtp_url.substr(c.smtp_url.find("://") + 3);
          if (c.smtp_url.rfind("smtps://", 0) == 0) {
            Error(f->line, "'starttls: false' makes no sense with smtps:// (TLS from the start)");
          } else if (!IsHttpsOrLoopbackHttpUrl(as_http)) {
            Error(f->line,
                  "'starttls: false' is allowed only for a loopback SMTP server; mail to " +
                      c.smtp_url + " must be encrypted");
          }
        }
      }
    }
  }

  // A file path the broker must be able to read (secrets and URLs are kept in files). Only its
  // shape is checked here; CheckNotifyFiles (LoadConfigFile) checks that it can be read.
  void ReadableFile(const Fields& fields, const char* key, int line, const std::string& what,
                    bool required, std::string& out) {
    if (!required && fields.Get(key) == nullptr) return;
    if (std::optional<std::string> path = RequiredString(fields, key, line, what)) out = *path;
  }

  // `oidc: {issuer, audience, jwks_file | jwks_url, username_claim, groups_claim, leeway}`.
  // An empty `oidc:` is the same as none.
  void ReadOidc(const Field& f) {
    if (f.value.IsNull()) return;
    std::optional<Fields> fields =
        Map(f, {"issuer", "audience", "jwks_file", "jwks_url", "username_claim", "groups_claim",
                "leeway", "client_id", "client_secret_file", "scopes"});
    if (!fields) return;
    const int line = LineOf(f);
    OidcConfig oidc;
    oidc.line = line;
    if (auto issuer = RequiredString(*fields, "issuer", line, "'oidc'")) {
      if (!IsHttpsOrLoopbackHttpUrl(*issuer)) {
        Error(LineOf(*fields->Get("issuer")),
              "'issuer' must be an https URL (http only on a loopback host)");
      } else {
        oidc.issuer = *issuer;
      }
    }
    if (auto audience = RequiredString(*fields, "audience", line, "'oidc'")) {
      oidc.audience = *audience;
    }
    const Field* file = fields->Get("jwks_file");
    const Field* url = fields->Get("jwks_url");
    if (file != nullptr && url != nullptr) {
      Error(url->line, "'oidc' has both 'jwks_file' and 'jwks_url'; use one");
    } else if (file == nullptr && url == nullptr) {
      Error(line, "'oidc' has no 'jwks_file' or 'jwks_url'");
    } else if (file != nullptr) {
      if (auto s = RequiredString(*fields, "jwks_file", line, "'oidc'")) oidc.jwks_file = *s;
    } else if (auto s = RequiredString(*fields, "jwks_url", line, "'oidc'")) {
      if (!IsHttpsOrLoopbackHttpUrl(*s)) {
        Error(url->line, "'jwks_url' must be an https URL (http only on a loopback host)");
      } else {
        oidc.jwks_url = *s;
      }
    }
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"username_claim", &oidc.username_claim},
          std::pair<const char*, std::string*>{"groups_claim", &oidc.groups_claim}}) {
      if (fields->Get(key) == nullptr) continue;
      if (auto s = RequiredString(*fields, key, line, "'oidc'")) *out = *s;
    }
    if (const Field* leeway = fields->Get("leeway")) {
      Result<Duration> d = leeway->value.IsScalar() ? ParseDuration(leeway->value.Scalar())
                                                    : Result<Duration>(InvalidArgumentError(""));
      if (!d.ok() || d->count() < 0 || *d > Duration(5 * 60 * 1000)) {
        Error(leeway->line, "'leeway' must be a duration from 0s to 5m");
      } else {
        oidc.leeway = *d;
      }
    }
    ReadOidcLogin(*fields, line, oidc);
    config_.oidc = std::move(oidc);
  }

  // The web UI's sign-in keys of `oidc:`: client_id, client_secret_file, scopes.
  void ReadOidcLogin(const Fields& fields, int line, OidcConfig& oidc) {
    for (auto [key, out] :
         {std::pair<const char*, std::string*>{"client_id", &oidc.client_id},
          std::pair<const char*, std::string*>{"client_secret_file", &oidc.client_secret_file}}) {
      if (fields.Get(key) == nullptr) continue;
      if (auto s = RequiredString(fields, key, line, "'oidc'")) *out = *s;
    }
    if (const Field* scopes = fields.Get("scopes")) {
      if (auto names = Names(*scopes)) {
        oidc.scopes.clear();
        for (const Named& n : *names) {
          // RFC 6749 §3.3: printable ASCII but space, '"' and '\\'.
          if (!std::all_of(n.value.begin(), n.value.end(),
                           [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; })) {
            Error(n.line, "'" + n.value + "' is not a scope (one word of printable ASCII)");
            continue;
          }
          oidc.scopes.push_back(n.value);
        }
        if (std::find(oidc.scopes.begin(), oidc.scopes.end(), "openid") == oidc.scopes.end()) {
          Error(LineOf(*scopes), "'scopes' must include openid");
        }
      }
    }
  }

  void ReadAuth(const Field& f) {
    std::optional<Fields> fields = Map(f, {"oidc", "tokens"});
    if (!fields) return;
    if (const Field* oidc = fields->Get("oidc")) ReadOidc(*oidc);
    const Field* tokens = fields->Get("tokens");
    if (tokens == nullptr) return;
    if (!tokens->value.IsSequence()) {
      Error(LineOf(*tokens), "'tokens' must be a list");
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, int> hashes;
    for (const YAML::Node& item : tokens->value) {
      int line = LineOf(item, LineOf(*tokens));
      std::optional<Fields> t = Map(item, line, "a token", {"name", "sha256", "groups"});
      if (!t) continue;
      StaticToken token;
      if (auto name = RequiredString(*t, "name", line, "a token")) {
        token.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          Error(line,
                "token name '" + *name + "' is already used on line " + std::to_string(it->second));
        }
      }
      if (auto sha = RequiredString(*t, "sha256", line, "a token")) {
        int sha_line = LineOf(*t->Get("sha256"));
        if (!IsLowerHex(*sha, 64)) {
          Error(sha_line, "'sha256' must be 64 lowercase hex digits (the SHA-256 of the token)");
        } else {
          token.sha256_hex = *sha;
          auto [it, fresh] = hashes.emplace(*sha, sha_line);
          if (!fresh) {
            Error(sha_line,
                  "this token hash is already used on line " + std::to_string(it->second));
          }
        }
      }
      token.groups = NameList(t->Get("groups"));
      config_.tokens.push_back(std::move(token));
    }
  }

  void ReadAccounts(const Field& f) {
    if (!f.value.IsSequence()) {
      Error(LineOf(f), "'accounts' must be a list");
      return;
    }
    std::map<std::string, int> ids;
    std::map<std::string, int> names;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, LineOf(f));
      std::optional<Fields> fields = Map(item, line, "an account", {"id", "name", "tags"});
      if (!fields) continue;
      Account a;
      a.line = line;
      if (auto id = RequiredString(*fields, "id", line, "an account")) {
        // yaml-cpp keeps the scalar's text, so an unquoted 012345678901 keeps its zero.
        if (!IsDigits(*id, 12)) {
          Error(LineOf(*fields->Get("id")), "account id '" + *id + "' must be exactly 12 digits");
        } else {
          a.id = *id;
          auto [it, fresh] = ids.emplace(*id, line);
          if (!fresh) {
            Error(line,
                  "account id " + *id + " is already listed on line " + std::to_string(it->second));
          }
        }
      }
      if (auto name = RequiredString(*fields, "name", line, "an account")) {
        a.name = *name;
        if (IsDigits(*name, 12)) {
          // Accounts are looked up by id or name; a name that looks like an id is ambiguous.
          Error(LineOf(*fields->Get("name")),
                "account name '" + *name + "' looks like an account id");
        }
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          Error(line, "account name '" + *name + "' is already used on line " +
                          std::to_string(it->second));
        }
      }
      a.tags = NameList(fields->Get("tags"));
      config_.accounts.push_back(std::move(a));
    }
  }

  void ReadPermissionSets(const Field& f) {
    if (!f.value.IsSequence()) {
      Error(LineOf(f), "'permission_sets' must be a list");
      return;
    }
    std::map<std::string, int> names;
    std::map<std::string, int> arns;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, LineOf(f));
      std::optional<Fields> fields =
          Map(item, line, "a permission set", {"name", "arn", "max_duration"});
      if (!fields) continue;
      PermissionSet ps;
      ps.line = line;
      if (auto name = RequiredString(*fields, "name", line, "a permission set")) {
        ps.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          Error(line, "permission set name '" + *name + "' is already used on line " +
                          std::to_string(it->second));
        }
      }
      if (auto arn = RequiredString(*fields, "arn", line, "a permission set")) {
        if (!IsPermissionSetArn(*arn)) {
          Error(LineOf(*fields->Get("arn")),
                "'" + *arn +
                    "' is not a permission set ARN (arn:aws:sso:::permissionSet/ssoins-<16>/"
                    "ps-<16>)");
        } else {
          ps.arn = *arn;
          auto [it, fresh] = arns.emplace(*arn, line);
          if (!fresh) {
            Error(line, "permission set ARN is already used on line " + std::to_string(it->second));
          }
        }
      }
      if (const Field* max = fields->Get("max_duration")) {
        if (auto d = PositiveDuration(*max)) ps.max_duration = *d;
      }
      config_.permission_sets.push_back(std::move(ps));
    }
  }

  std::vector<std::string> AccountNames() const {
    std::vector<std::string> out;
    for (const Account& a : config_.accounts) out.push_back(a.name);
    return out;
  }

  std::vector<std::string> PermissionSetNames() const {
    std::vector<std::string> out;
    for (const PermissionSet& p : config_.permission_sets) out.push_back(p.name);
    return out;
  }

  AccountSelector ReadSelector(const Field& f) {
    AccountSelector sel;
    std::optional<Fields> fields = Map(f, {"all", "ids", "names", "tags"});
    if (!fields) return sel;
    bool bad_list = false;
    if (const Field* all = fields->Get("all")) {
      std::optional<bool> b = Bool(*all);
      bad_list = !b;
      sel.all = b.value_or(false);
    }
    std::vector<Named> ids, names, tags;
    auto read = [&](std::string_view key, std::vector<Named>& out) {
      if (const Field* x = fields->Get(key)) {
        std::optional<std::vector<Named>> list = Names(*x);
        bad_list = bad_list || !list;
        if (list) out = std::move(*list);
      }
    };
    read("ids", ids);
    read("names", names);
    read("tags", tags);
    for (const Named& id : ids) {
      if (!IsDigits(id.value, 12)) {
        Error(id.line, "account id '" + id.value + "' must be exactly 12 digits");
      } else if (std::none_of(config_.accounts.begin(), config_.accounts.end(),
                              [&](const Account& a) { return a.id == id.value; })) {
        Error(id.line, "account id " + id.value + " is not among the accounts");
      }
      sel.ids.push_back(id.value);
    }
    for (const Named& name : names) {
      if (std::none_of(config_.accounts.begin(), config_.accounts.end(),
                       [&](const Account& a) { return a.name == name.value; })) {
        Error(name.line, "unknown account '" + name.value + "'" + Hint(name.value, AccountNames()));
      }
      sel.names.push_back(name.value);
    }
    for (const Named& tag : tags) {
      if (std::none_of(config_.accounts.begin(), config_.accounts.end(), [&](const Account& a) {
            return std::find(a.tags.begin(), a.tags.end(), tag.value) != a.tags.end();
          })) {
        Error(tag.line, "no account has the tag '" + tag.value + "'");
      }
      sel.tags.push_back(tag.value);
    }
    bool listed = !ids.empty() || !names.empty() || !tags.empty();
    if (sel.all && listed) {
      Error(LineOf(f), "'accounts' has 'all: true' and a list; use one or the other");
    } else if (!sel.all && !listed && !bad_list) {
      Error(LineOf(f), "'accounts' selects no account; use all: true, ids, names or tags");
    }
    return sel;
  }

  void ReadApproval(const Field& f, Rule& rule) {
    if (f.value.IsScalar()) {
      if (f.value.Scalar() == "auto") {
        rule.approval.automatic = true;
      } else {
        Error(LineOf(f),
              "'approval' must be 'auto' or a map with approvers, not '" + f.value.Scalar() + "'");
      }
      return;
    }
    std::optional<Fields> fields = Map(f, {"approvers", "required", "timeout"});
    if (!fields) return;
    if (const Field* approvers = fields->Get("approvers")) {
      rule.approval.approvers = ReadSubjects(*approvers, true);
    } else {
      Error(LineOf(f), "'approval' has no 'approvers'");
    }
    if (const Field* required = fields->Get("required")) {
      if (auto n = Int(*required, 1, 100)) {
        rule.approval.required = *n;
        const Subjects& who = rule.approval.approvers;
        if (who.groups.empty() && !who.users.empty() &&
            static_cast<std::size_t>(*n) > who.users.size()) {
          Error(LineOf(*required), "'required' is " + std::to_string(*n) + " but only " +
                                       std::to_string(who.users.size()) + " approvers are listed");
        }
      }
    }
    if (const Field* timeout = fields->Get("timeout")) {
      if (auto d = PositiveDuration(*timeout)) rule.approval.timeout = *d;
    }
  }

  // "08:00" -> 480. "24:00" only when `allow_24` (the end of a window).
  std::optional<int> ClockTime(const Field& f, bool allow_24) {
    static const std::regex kTime("([01][0-9]|2[0-4]):([0-5][0-9])");
    std::smatch m;
    std::string s = f.value.IsScalar() ? f.value.Scalar() : std::string();
    if (!std::regex_match(s, m, kTime)) {
      Error(LineOf(f), "'" + f.key + "' must be a time of day such as \"08:00\"");
      return std::nullopt;
    }
    int minutes = std::stoi(m[1].str()) * 60 + std::stoi(m[2].str());
    if (minutes > 24 * 60 || (minutes == 24 * 60 && !allow_24)) {
      Error(LineOf(f), "'" + f.key + "' must be from 00:00 to " + (allow_24 ? "24:00" : "23:59"));
      return std::nullopt;
    }
    return minutes;
  }

  // `hours: {days: [mon, ...], from: "08:00", to: "18:00", timezone: Europe/Berlin}`.
  std::optional<AllowedHours> ReadHours(const Field& f) {
    std::optional<Fields> fields = Map(f, {"days", "from", "to", "timezone"});
    if (!fields) return std::nullopt;
    AllowedHours h;
    bool ok = true;
    if (const Field* days = fields->Get("days")) {
      static const std::vector<std::string> kDays = {"mon", "tue", "wed", "thu",
                                                     "fri", "sat", "sun"};
      if (auto names = Names(*days)) {
        if (names->empty()) {
          Error(LineOf(*days), "'days' must name at least one day");
          ok = false;
        }
        h.days.fill(false);
        for (const Named& d : *names) {
          auto it = std::find(kDays.begin(), kDays.end(), d.value);
          if (it == kDays.end()) {
            Error(d.line, "unknown day '" + d.value + "'; days are mon, tue, wed, thu, fri, " +
                              "sat, sun" + Hint(d.value, kDays));
            ok = false;
            continue;
          }
          h.days[static_cast<std::size_t>(it - kDays.begin())] = true;
        }
      } else {
        ok = false;
      }
    }
    std::optional<int> from;
    std::optional<int> to;
    if (const Field* x = fields->Get("from")) {
      from = ClockTime(*x, false);
    } else {
      Error(LineOf(f), "'hours' has no 'from'");
    }
    if (const Field* x = fields->Get("to")) {
      to = ClockTime(*x, true);
    } else {
      Error(LineOf(f), "'hours' has no 'to'");
    }
    if (!from || !to) return std::nullopt;
    if (*from == *to || (*from == 0 && *to == 24 * 60)) {
      Error(LineOf(*fields->Get("to")),
            "'from' and 'to' must differ (leave 'hours' out to allow any time)");
      return std::nullopt;
    }
    h.from_minute = *from;
    h.to_minute = *to;
    if (const Field* x = fields->Get("timezone")) {
      if (auto name = String(*x)) {
        Result<std::shared_ptr<const TimeZone>> zone = LoadTimeZone(*name, zoneinfo_dir_);
        if (!zone.ok()) {
          Error(LineOf(*x), zone.error().message());
          ok = false;
        } else {
          h.zone = *zone;
        }
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return h;
  }

  void ReadRules(const Field& f) {
    if (!f.value.IsSequence()) {
      Error(LineOf(f), "'rules' must be a list");
      return;
    }
    std::map<std::string, int> names;
    for (const YAML::Node& item : f.value) {
      int line = LineOf(item, LineOf(f));
      std::optional<Fields> fields =
          Map(item, line, "a rule",
              {"name", "requesters", "accounts", "permission_sets", "max_duration", "min_duration",
               "reason", "reason_min_length", "ticket", "approval", "break_glass", "hours",
               "schedule_window"});
      if (!fields) continue;
      Rule rule;
      rule.line = line;
      if (auto name = RequiredString(*fields, "name", line, "a rule")) {
        rule.name = *name;
        auto [it, fresh] = names.emplace(*name, line);
        if (!fresh) {
          Error(line,
                "rule name '" + *name + "' is already used on line " + std::to_string(it->second));
        }
      }
      std::string what = rule.name.empty() ? "a rule" : "rule '" + rule.name + "'";

      if (const Field* x = fields->Get("requesters")) {
        rule.requesters = ReadSubjects(*x, true);
      } else {
        Error(line, what + " has no 'requesters'");
      }

      if (const Field* x = fields->Get("accounts")) {
        rule.accounts = ReadSelector(*x);
      } else {
        Error(line, what + " has no 'accounts'");
      }

      if (const Field* x = fields->Get("permission_sets")) {
        if (auto list = Names(*x)) {
          if (list->empty()) Error(LineOf(*x), "'permission_sets' must name at least one");
          for (const Named& ps : *list) {
            if (std::none_of(config_.permission_sets.begin(), config_.permission_sets.end(),
                             [&](const PermissionSet& p) { return p.name == ps.value; })) {
              Error(ps.line, "unknown permission set '" + ps.value + "'" +
                                 Hint(ps.value, PermissionSetNames()));
            }
            rule.permission_sets.push_back(ps.value);
          }
        }
      } else {
        Error(line, what + " has no 'permission_sets'");
      }

      if (const Field* x = fields->Get("max_duration")) {
        if (auto d = PositiveDuration(*x)) rule.max_duration = *d;
      } else {
        Error(line, what + " has no 'max_duration'");
      }
      if (const Field* x = fields->Get("min_duration")) {
        if (auto d = PositiveDuration(*x)) {
          rule.min_duration = *d;
          if (rule.max_duration.count() > 0 && *d > rule.max_duration) {
            Error(LineOf(*x), "'min_duration' " + FormatDuration(*d) + " is longer than " +
                                  "'max_duration' " + FormatDuration(rule.max_duration));
          }
        }
      }

      if (const Field* x = fields->Get("reason")) {
        if (auto s = String(*x)) {
          if (*s == "required") {
            rule.reason_required = true;
          } else if (*s != "optional") {
            Error(LineOf(*x), "'reason' must be 'required' or 'optional', not '" + *s + "'");
          }
        }
      }

      if (const Field* x = fields->Get("reason_min_length")) {
        if (auto n = Int(*x, 0, 1000)) {
          rule.reason_min_length = *n;
          if (*n > 0) rule.reason_required = true;
          const Field* reason = fields->Get("reason");
          if (*n > 0 && reason != nullptr && reason->value.IsScalar() &&
              reason->value.Scalar() == "optional") {
            Error(LineOf(*x), "'reason_min_length' needs a reason, but 'reason' is 'optional'");
          }
        }
      }

      if (const Field* x = fields->Get("hours")) rule.hours = ReadHours(*x);

      if (const Field* x = fields->Get("ticket")) {
        if (auto s = String(*x)) {
          if (s->empty()) {
            Error(LineOf(*x), "'ticket' must not be empty");
          } else {
            try {
              std::regex re(*s, std::regex::ECMAScript);
              rule.ticket_pattern = *s;
            } catch (const std::regex_error& e) {
              Error(LineOf(*x),
                    "'ticket' is not a valid regular expression: " + std::string(e.what()));
            }
          }
        }
      }

      if (const Field* x = fields->Get("break_glass")) {
        if (auto b = Bool(*x)) rule.break_glass = *b;
      }
      if (const Field* x = fields->Get("schedule_window")) {
        Result<Duration> d = x->value.IsScalar() ? ParseDuration(x->value.Scalar())
                                                 : Result<Duration>(InvalidArgumentError(""));
        if (!d.ok() || d->count() < 0 || *d > kMaxScheduleWindow) {
          Error(LineOf(*x), "'schedule_window' must be a duration from 0s to " +
                                FormatDuration(kMaxScheduleWindow));
        } else if (rule.break_glass && d->count() > 0) {
          Error(LineOf(*x),
                "a break-glass rule cannot schedule access: it starts at once (schedule_window: "
                "0s or none)");
        } else {
          rule.schedule_window = *d;
        }
      }
      if (rule.break_glass) rule.schedule_window = Duration(0);
      const Field* approval = fields->Get("approval");
      if (rule.break_glass && approval != nullptr) {
        Error(approval->line, "a break-glass rule takes no 'approval'; it is self-activated");
      } else if (approval != nullptr) {
        ReadApproval(*approval, rule);
      } else if (!rule.break_glass) {
        Error(line, what +
                        " has no 'approval' (approval: auto, or approvers) and is not "
                        "break_glass: true");
      }
      config_.rules.push_back(std::move(rule));
    }
  }

  std::string file_name_;
  std::string zoneinfo_dir_;
  Config config_;
  std::vector<std::pair<int, std::string>> errors_;
};

}  // namespace

bool IsHttpsOrLoopbackHttpUrl(std::string_view url) {
  std::string_view rest;
  bool https = false;
  if (url.substr(0, 8) == "https://") {
    rest = url.substr(8);
    https = true;
  } else if (url.substr(0, 7) == "http://") {
    rest = url.substr(7);
  } else {
    return false;
  }
  std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  // User info would let "http://127.0.0.1@evil.example" pass for loopback.
  if (authority.empty() || authority.find('@') != std::string_view::npos) return false;
  if (https) return true;
  std::string_view host = authority;
  if (host.front() == '[') {
    std::size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view after = host.substr(close + 1);
    if (!after.empty() && after.front() != ':') return false;
    host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (host == "localhost" || host == "[::1]") return true;
  static const std::regex kLoopbackV4("127\\.([0-9]{1,3})\\.([0-9]{1,3})\\.([0-9]{1,3})");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(host.begin(), host.end(), m, kLoopbackV4)) return false;
  for (std::size_t i = 1; i < m.size(); ++i) {
    if (std::stoi(m[i].str()) > 255) return false;
  }
  return true;
}

Status CheckPublicUrl(std::string_view url) {
  if (!IsHttpsOrLoopbackHttpUrl(url)) {
    return InvalidArgumentError("'public_url' must be an https URL (http only on a loopback host)");
  }
  std::string_view rest = url.substr(url.find("://") + 3);
  std::size_t after_host = rest.find_first_of("/?#");
  if (after_host != std::string_view::npos && rest.substr(after_host) != "/") {
    return InvalidArgumentError(
        "'public_url' must have no path, query or fragment: jit serves its UI and API at the "
        "root (https://jit.example.com)");
  }
  return OkStatus();
}

namespace {

// Walks the documents of a YAML stream without building them, noting where each starts and
// where its first node is. See CountDocuments.
class DocumentMarks final : public YAML::EventHandler {
 public:
  YAML::Mark start;       // of the document being read
  YAML::Mark first_node;  // its first node; start when it has none
  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    first_node = mark;
    seen_node_ = false;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { Node(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    Node(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    Node(mark);
  }
  void OnMapEnd() override {}

 private:
  void Node(const YAML::Mark& mark) {
    if (!seen_node_) first_node = mark;
    seen_node_ = true;
  }
  bool seen_node_ = false;
};

// OK when `text` holds at most one YAML document. YAML::LoadAll cannot be used to find out: on
// some malformed input (",", ", b", ",]") yaml-cpp 0.7's parser reports an empty document
// without consuming the token, again and again, and LoadAll loops for ever, allocating as it
// goes (yaml-cpp issue 1040, fixed upstream after 0.8.0; found by fuzz/config_fuzzer). A
// document that starts where the one before started is that loop: a syntax error. Throws what
// the parser throws (YAML::Exception).
Status CheckOneDocument(const std::string& text, const std::string& file) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentMarks marks;
  std::optional<YAML::Mark> previous;
  for (int docs = 0; parser.HandleNextDocument(marks); ++docs) {
    if (previous && marks.start.pos == previous->pos) {
      return InvalidArgumentError(file + ":" + std::to_string(marks.start.line + 1) +
                                  ": not valid YAML at column " +
                                  std::to_string(marks.start.column + 1));
    }
    if (docs == 1) {
      // YAML::Load would read the first and silently drop the rest.
      return InvalidArgumentError(file + ":" + std::to_string(marks.first_node.line + 1) +
                                  ": the file holds more than one YAML document");
    }
    previous = marks.start;
  }
  return OkStatus();
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name,
                           std::string_view zoneinfo_dir) {
  std::string file(file_name.empty() ? "config" : file_name);
  try {
    std::string text(yaml_text);
    JIT_RETURN_IF_ERROR(CheckOneDocument(text, file));
    return Parser(file, zoneinfo_dir).Run(YAML::Load(text));
  } catch (const YAML::Exception& e) {
    int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
    return InvalidArgumentError(file + ":" + std::to_string(line) + ": " + e.msg);
  } catch (const std::exception& e) {
    return InvalidArgumentError(file + ":1: cannot read the config: " + e.what());
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFoundError("cannot read config file " + path);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return NotFoundError("cannot read config file " + path);
  JIT_ASSIGN_OR_RETURN(Config config, ParseConfig(text.str(), path));
  JIT_RETURN_IF_ERROR(CheckNotifyFiles(config, path));
  return config;
}

Status CheckNotifyFiles(const Config& config, std::string_view file_name) {
  std::string message;
  for (const NotifyChannelConfig& c : config.notify) {
    for (auto [key, path] :
         {std::pair<const char*, const std::string*>{"secret_file", &c.secret_file},
          {"webhook_url_file", &c.webhook_url_file},
          {"signing_secret_file", &c.signing_secret_file},
          {"bot_token_file", &c.bot_token_file},
          {"password_file", &c.password_file},
          {"ca_file", &c.ca_file}}) {
      if (path->empty()) continue;
      std::ifstream in(*path, std::ios::binary);
      if (in) continue;
      if (!message.empty()) message += '\n';
      message += std::string(file_name) + ":" + std::to_string(c.line) + ": " + c.type +
                 " channel '" + c.name + "': '" + key + "': cannot read " + *path;
    }
  }
  if (message.empty()) return OkStatus();
  return InvalidArgumentError(std::move(message));
}

const std::vector<std::string>& NotifyEventNames() {
  static const std::vector<std::string> kNames = {
      "request.created",      "request.reminder",  "extension.requested", "request.approved",
      "request.denied",       "request.cancelled", "request.timed_out",   "grant.activated",
      "grant.expiring_soon",  "grant.extended",    "grant.ended",         "grant.failed",
      "breakglass.activated", "drift.detected",    "revocation.overdue"};
  return kNames;
}

std::string NotifyEventAudience(std::string_view event_name) {
  const std::vector<std::string>& names = NotifyEventNames();
  auto it = std::find(names.begin(), names.end(), event_name);
  if (it == names.end()) return "";
  std::size_t i = static_cast<std::size_t>(it - names.begin());
  if (i <= 2) return "approvers";
  if (i <= 11) return "requester";
  return "security";
}

std::string_view DevConfigYaml() {
  static constexpr std::string_view kYaml = R"yaml(# jit serve --dev (DESIGN.md "Dev mode")
admins: {groups: [admins]}
auditors: {groups: [auditors]}
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
  - {id: "222222222222", name: prod, tags: [prod]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111", max_duration: 8h}
  - {name: Admin, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222", max_duration: 1h}
  - {name: BreakGlass, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-3333333333333333", max_duration: 1h}
rules:
  - name: readonly
    requesters: {groups: [engineers]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    max_duration: 8h
    min_duration: 5s
    approval: auto
  - name: prod-admin
    requesters: {groups: [engineers]}
    accounts: {names: [prod]}
    permission_sets: [Admin]
    max_duration: 1h
    min_duration: 5s
    reason: required
    approval: {approvers: {groups: [approvers]}, required: 1, timeout: 15m}
  - name: break-glass
    requesters: {groups: [sre]}
    accounts: {all: true}
    permission_sets: [BreakGlass]
    max_duration: 1h
    min_duration: 5s
    reason: required
    break_glass: true
)yaml";
  return kYaml;
}

std::vector<std::string> SettingsNeedingRestart(const Config& before, const Config& after) {
  std::vector<std::string> changed;
  auto check = [&changed](bool differs, const char* key) {
    if (differs) changed.emplace_back(key);
  };
  check(before.server.listen != after.server.listen, "server.listen");
  check(before.server.public_url != after.server.public_url, "server.public_url");
  check(before.store != after.store, "store");
  check(before.aws.region != after.aws.region, "aws.region");
  check(before.aws.instance_arn != after.aws.instance_arn, "aws.instance_arn");
  check(before.aws.identity_store_id != after.aws.identity_store_id, "aws.identity_store_id");
  check(before.audit.checkpoint_key_file != after.audit.checkpoint_key_file,
        "audit.checkpoint_key_file");
  check(before.audit.checkpoint_interval != after.audit.checkpoint_interval,
        "audit.checkpoint_interval");
  check(before.audit.checkpoint_file != after.audit.checkpoint_file, "audit.checkpoint_file");
  check(before.ui.session_key_file != after.ui.session_key_file, "ui.session_key_file");
  check(before.ui.session_lifetime != after.ui.session_lifetime, "ui.session_lifetime");
  check(before.oidc.client_id != after.oidc.client_id, "auth.oidc.client_id");
  check(before.oidc.client_secret_file != after.oidc.client_secret_file,
        "auth.oidc.client_secret_file");
  check(before.oidc.scopes != after.oidc.scopes, "auth.oidc.scopes");
  return changed;
}

}  // namespace jit::policy
