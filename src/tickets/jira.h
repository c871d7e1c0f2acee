#pragma once
// Ticket checks (docs/POLICY.md "Ticket checks"): a rule with `ticket_check` makes a request's
// ticket a Jira issue that must exist and be open, and with `ticket_check: assigned` also be
// assigned to the requester. The workflow asks a TicketChecker before it files such a request
// and keeps what the check found in the request's history (`ticket.checked`).
//
// Jira is read with its REST API: `GET <url>/rest/api/2/issue/<KEY>?fields=status,assignee`,
// authenticated with a token from a file: `Authorization: Bearer <token>` (a Jira Data Center
// personal access token) or, when the settings name a `user`, HTTP Basic `<user>:<token>` (a
// Jira Cloud API token).

#include <memory>
#include <string>
#include <string_view>

#include "aws/http.h"
#include "config/reader.h"
#include "core/clock.h"
#include "core/result.h"
#include "model/identity.h"

namespace jit::tickets {

// The `jira:` section of the config file.
struct JiraSettings {
  std::string url;         // https (http only on a loopback host), without a trailing slash
  std::string token_file;  // the token, read at start and on SIGHUP
  std::string user;        // empty: the token is a bearer token; else HTTP Basic user:token
  Duration timeout{Duration(5000)};  // one call, 1s to 30s
  int line = 0;                      // of the `jira:` key (0: no section)
};

// Reads `jira: {url, token_file, user, timeout}`, reporting problems to `reader`. A null
// `jira:` is the same as none.
JiraSettings ParseJiraSettings(const config::Field& field, config::Reader& reader);

// What a rule asks of a ticket.
enum class Requirement {
  kOpen,      // `ticket_check: open`: the issue exists and is not done
  kAssigned,  // `ticket_check: assigned`: and its assignee is the requester
};

// What the check found: the `ticket.checked` event's details.
struct TicketStatus {
  std::string key;     // "OPS-123", as Jira names it
  std::string status;  // Jira's name of its status ("In Progress")
  // The assignee as Jira shows it (name, else e-mail, else display name); empty: unassigned.
  std::string assignee;
  bool assigned_to_requester = false;
};

// True for a Jira issue key: a project key (an upper-case letter, then upper-case letters,
// digits or '_', at most 30 in all), '-', and 1 to 12 digits.
bool IsIssueKey(std::string_view ticket);

// Thread-safe.
class TicketChecker {
 public:
  virtual ~TicketChecker() = default;
  // Checks `ticket` for a request by `requester`. Errors:
  // - InvalidArgument (the request is refused; the message is safe to show and says why): not
  //   an issue key, no such issue (or one jit may not see), the issue is done, or (kAssigned)
  //   it is unassigned or assigned to someone else;
  // - Unavailable: Jira could not answer (network, time-out, 429, 5xx) or refused jit's token
  //   (401, 403); the request is refused too (a check that cannot run does not pass).
  // The assignee is the requester when its Jira user name, or its e-mail address, or the part
  // of the e-mail before '@', equals the requester's user name (ignoring case).
  virtual Result<TicketStatus> Check(std::string_view ticket, const model::Identity& requester,
                                     Requirement requirement) = 0;
};

// A checker for the Jira at `settings.url`, with its token file read now. InvalidArgument
// naming the file when it cannot be read or is empty. `http` must outlive the checker.
Result<std::unique_ptr<TicketChecker>> NewJiraChecker(const JiraSettings& settings,
                                                      aws::HttpTransport& http);

}  // namespace jit::tickets
