#include "tickets/jira.h"

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "core/encoding.h"
#include "core/secret_file.h"
#include "core/strings.h"
#include "core/url.h"

namespace jit::tickets {
namespace {

using json = nlohmann::json;

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// A string member of `j`, or "" when absent or not a string.
std::string StringAt(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool SameUser(std::string_view jira_name, std::string_view username) {
  return !jira_name.empty() && EqualsIgnoreCase(jira_name, username);
}

class JiraChecker final : public TicketChecker {
 public:
  JiraChecker(std::string url, std::string authorization, Duration timeout,
              aws::HttpTransport& http)
      : url_(std::move(url)),
        authorization_(std::move(authorization)),
        timeout_(timeout),
        http_(http) {}

  Result<TicketStatus> Check(std::string_view ticket, const model::Identity& requester,
                             Requirement requirement) override {
    if (!IsIssueKey(ticket)) {
      return InvalidArgumentError("ticket '" + PrintableExcerpt(ticket, 40) +
                                  "' is not a Jira issue key such as OPS-123");
    }
    std::string key(ticket);
    aws::HttpCall call;
    call.method = "GET";
    call.url = url_ + "/rest/api/2/issue/" + key + "?fields=status,assignee";
    call.headers = {{"Accept", "application/json"}, {"Authorization", authorization_}};
    call.connect_timeout = std::min(timeout_, Duration(3000));
    call.total_timeout = timeout_;
    Result<aws::HttpResponse> r = http_.Send(call);
    if (!r.ok()) {
      return UnavailableError("the Jira ticket " + key +
                              " could not be checked: " + r.error().message());
    }
    if (r->status == 404) {
      return InvalidArgumentError("ticket " + key +
                                  " does not exist in Jira (or jit may not see it)");
    }
    if (r->status == 401 || r->status == 403) {
      return UnavailableError("the Jira ticket " + key + " could not be checked: Jira refused " +
                              "jit's token (HTTP " + std::to_string(r->status) +
                              "); ask an administrator of jit");
    }
    if (r->status != 200) {
      return UnavailableError("the Jira ticket " + key + " could not be checked: HTTP " +
                              std::to_string(r->status));
    }
    json issue = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    if (!issue.is_object() || !issue.contains("fields") || !issue["fields"].is_object()) {
      return UnavailableError("the Jira ticket " + key +
                              " could not be checked: Jira's answer is not an issue");
    }
    const json& fields = issue["fields"];
    TicketStatus out;
    out.key = StringAt(issue, "key");
    if (out.key.empty()) out.key = key;
    const json status = fields.value("status", json());
    out.status = StringAt(status, "name");
    std::string category = StringAt(status.value("statusCategory", json()), "key");
    if (category.empty()) {
      return UnavailableError("the Jira ticket " + key +
                              " could not be checked: its status has no category");
    }
    const json assignee = fields.value("assignee", json());
    std::string name = StringAt(assignee, "name");
    std::string email = StringAt(assignee, "emailAddress");
    out.assignee = !name.empty()    ? name
                   : !email.empty() ? email
                                    : StringAt(assignee, "displayName");
    std::string_view local = std::string_view(email).substr(0, email.find('@'));
    out.assigned_to_requester =
        SameUser(name, requester.username) || SameUser(email, requester.username) ||
        (email.find('@') != std::string::npos && SameUser(local, requester.username));
    if (category == "done") {
      return InvalidArgumentError("ticket " + out.key + " is closed in Jira (" +
                                  EscapeForTerminal(out.status) + "): name an open ticket");
    }
    if (requirement == Requirement::kAssigned && !out.assigned_to_requester) {
      if (out.assignee.empty()) {
        return InvalidArgumentError("ticket " + out.key +
                                    " is not assigned to anyone in Jira; this rule needs a "
                                    "ticket assigned to you");
      }
      return InvalidArgumentError("ticket " + out.key + " is assigned to " +
                                  EscapeForTerminal(out.assignee) +
                                  " in Jira; this rule needs a ticket assigned to you");
    }
    return out;
  }

 private:
  const std::string url_;
  const std::string authorization_;
  const Duration timeout_;
  aws::HttpTransport& http_;
};

}  // namespace

bool IsIssueKey(std::string_view ticket) {
  std::size_t dash = ticket.rfind('-');
  if (dash == std::string_view::npos || dash == 0 || dash > 30) return false;
  std::string_view project = ticket.substr(0, dash);
  std::string_view number = ticket.substr(dash + 1);
  if (!IsUpper(project[0])) return false;
  for (char c : project) {
    if (!IsUpper(c) && !IsDigit(c) && c != '_') return false;
  }
  if (number.empty() || number.size() > 12) return false;
  for (char c : number) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

JiraSettings ParseJiraSettings(const config::Field& f, config::Reader& r) {
  JiraSettings s;
  if (f.value.IsNull()) return s;
  std::optional<config::Fields> fields = r.Map(f, {"url", "token_file", "user", "timeout"});
  if (!fields) return s;
  s.line = f.line;
  if (auto url = r.RequiredString(*fields, "url", f.line, "'jira'")) {
    std::string_view u = *url;
    while (!u.empty() && u.back() == '/') u.remove_suffix(1);
    if (!IsHttpsOrLoopbackHttpUrl(u) || u.find('?') != std::string_view::npos ||
        u.find('#') != std::string_view::npos) {
      r.Error(fields->Get("url")->line,
              "'url' must be an https URL (http only on a loopback host) without query or "
              "user info");
    } else {
      s.url = std::string(u);
    }
  }
  if (auto file = r.RequiredString(*fields, "token_file", f.line, "'jira'")) s.token_file = *file;
  if (const config::Field* x = fields->Get("user")) {
    if (auto user = r.String(*x)) {
      if (user->empty() || user->find(':') != std::string::npos) {
        r.Error(x->line, "'user' must be a Jira user name or e-mail without ':'");
      } else {
        s.user = *user;
      }
    }
  }
  if (const config::Field* x = fields->Get("timeout")) {
    if (auto d = r.DurationIn(*x, std::chrono::seconds(1), std::chrono::seconds(30),
                              "'timeout' must be a duration from 1s to 30s")) {
      s.timeout = *d;
    }
  }
  return s;
}

Result<std::unique_ptr<TicketChecker>> NewJiraChecker(const JiraSettings& settings,
                                                      aws::HttpTransport& http) {
  JIT_ASSIGN_OR_RETURN(std::string token, ReadSecretFile(settings.token_file, "jira token_file"));
  std::string authorization = settings.user.empty()
                                  ? "Bearer " + token
                                  : "Basic " + EncodeBase64(settings.user + ":" + token);
  return std::unique_ptr<TicketChecker>(
      new JiraChecker(settings.url, std::move(authorization), settings.timeout, http));
}

}  // namespace jit::tickets
