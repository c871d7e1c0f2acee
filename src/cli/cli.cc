#include "cli/cli.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>
#include <utility>

#include "cli/format.h"
#include "cli/http_client.h"
#include "config/config.h"
#include "core/duration.h"
#include "core/strings.h"
#include "core/time_format.h"

// Both come from the build (src/cli/CMakeLists.txt): the CMake project version and the git
// commit at configure time.
#ifndef JIT_VERSION
#define JIT_VERSION "0.0.0"
#endif
#ifndef JIT_COMMIT
#define JIT_COMMIT "unknown"
#endif

namespace jit::cli {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Everything a client command needs: the global flags and the outside world.
struct Context {
  std::string server = std::string(kDefaultServer);
  std::string token;
  std::string output = "table";
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  Clock* clock = nullptr;
  const std::function<void(Duration)>* sleep = nullptr;

  bool Json() const { return output == "json"; }
  bool Csv() const { return output == "csv"; }
};

// One line, whatever the message holds, with control characters escaped (EscapeForTerminal):
// messages from the server can quote what a user sent.
std::string OneLine(std::string_view text) {
  std::string line(text);
  std::replace(line.begin(), line.end(), '\n', ' ');
  std::replace(line.begin(), line.end(), '\r', ' ');
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return EscapeForTerminal(line);
}

// Text from the server for a terminal: EscapeForTerminal on each line, line breaks kept.
std::string Lines(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    out += EscapeForTerminal(text.substr(start, end - start));
    if (end < text.size()) out += '\n';
    start = end + 1;
  }
  return out;
}

// A successful API answer: the body parsed, and as received.
struct Answer {
  long status = 0;
  json body;
  std::string raw;
};

// The outcome of one API call: an answer, or the exit status after the error was reported.
struct CallResult {
  std::optional<Answer> answer;
  int exit_code = kExitOk;
  bool transient = false;  // unreachable or 5xx: worth another try while waiting
};

std::string ErrorMessage(const HttpResponse& response) {
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object()) {
    std::string message = Field(body.value("error", json::object()), "message");
    if (message.empty()) message = Field(body.value("error", json::object()), "code");
    if (message.empty() && body.contains("error")) message = Field(body, "error");
    if (!message.empty()) return OneLine(message);
  }
  std::string text = OneLine(response.body);
  if (text.size() > 200) text = text.substr(0, 200) + "...";
  return text.empty() ? "the server answered with an error" : text;
}

// Calls the API at `path` (with its query), reporting any failure on ctx.err.
CallResult Call(const Context& ctx, std::string_view method, const std::string& path,
                const std::optional<json>& body) {
  CallResult result;
  std::string payload = body.has_value() ? body->dump() : std::string();
  Result<HttpResponse> response = HttpCall(method, ctx.server + path, ctx.token, payload);
  if (!response.has_value()) {
    const Status& status = response.error();
    if (status.code() == StatusCode::kInvalidArgument) {
      *ctx.err << "jit: bad server URL " << ctx.server << ": " << OneLine(status.message()) << '\n';
      result.exit_code = kExitUsage;
      return result;
    }
    *ctx.err << "jit: cannot reach the jit server at " << ctx.server << ": "
             << OneLine(status.message()) << '\n';
    result.exit_code = kExitFailure;
    result.transient = true;
    return result;
  }
  if (response->status < 200 || response->status >= 300) {
    *ctx.err << "jit: " << ErrorMessage(*response) << " (HTTP " << response->status << ")\n";
    result.exit_code = kExitFailure;
    result.transient = response->status >= 500;
    return result;
  }
  Answer answer;
  answer.status = response->status;
  answer.raw = std::move(response->body);
  if (answer.raw.find_first_not_of(" \t\r\n") == std::string::npos) {
    answer.body = json();  // e.g. 204: nothing to show
  } else {
    answer.body = json::parse(answer.raw, nullptr, /*allow_exceptions=*/false);
    if (answer.body.is_discarded()) {
      *ctx.err << "jit: the server's answer is not JSON (HTTP " << answer.status << ")\n";
      result.exit_code = kExitFailure;
      return result;
    }
  }
  result.answer = std::move(answer);
  return result;
}

// `--output json`: the body as received, pretty-printed in its own key order.
void PrintJson(const Context& ctx, const Answer& answer) {
  ordered_json ordered = ordered_json::parse(answer.raw, nullptr, /*allow_exceptions=*/false);
  if (ordered.is_discarded()) {
    *ctx.out << answer.raw;
    if (answer.raw.empty() || answer.raw.back() != '\n') *ctx.out << '\n';
    return;
  }
  *ctx.out << ordered.dump(2, ' ', false, ordered_json::error_handler_t::replace) << '\n';
}

bool NeedToken(const Context& ctx) {
  if (!ctx.token.empty()) return true;
  *ctx.err << "jit: no token: use --token or JIT_TOKEN\n";
  return false;
}

// Adds "name=value" to a query string, percent-encoding the value.
void AddQuery(std::string& query, std::string_view name, const std::string& value) {
  query += query.empty() ? '?' : '&';
  query += name;
  query += '=';
  query += UrlEncode(value);
}

std::string RequestPath(const std::string& id) { return "/v1/requests/" + UrlEncode(id); }

// A CLI11 check that the value is a whole number of at least `min` (its own range check prints
// the largest double in full).
CLI::Validator WholeNumberAtLeast(std::int64_t min) {
  return CLI::Validator(
      [min](std::string& text) -> std::string {
        std::int64_t value = 0;
        auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec != std::errc() || end != text.data() + text.size() || value < min) {
          return "expected a whole number of at least " + std::to_string(min) + ", not '" + text +
                 "'";
        }
        return std::string();
      },
      "N>=" + std::to_string(min));
}

bool IsSettled(std::string_view state) {
  static constexpr std::array<std::string_view, 6> kSettled = {"active",    "ended",     "denied",
                                                               "cancelled", "timed_out", "failed"};
  return std::find(kSettled.begin(), kSettled.end(), state) != kSettled.end();
}

bool IsUnsuccessful(std::string_view state) {
  return state == "denied" || state == "cancelled" || state == "timed_out" || state == "failed";
}

// The state to wait on: the request's, or for a request of several accounts ("targets") the
// first target that has not settled ("pending" ...), else the first unsuccessful one, else the
// request's.
std::string WaitState(const json& request) {
  std::string state = Field(request, "state");
  const json& targets = Member(request, "targets");
  if (!targets.is_array()) return state;
  for (const json& t : targets) {
    if (!IsSettled(Field(t, "state"))) return Field(t, "state");
  }
  for (const json& t : targets) {
    if (IsUnsuccessful(Field(t, "state"))) return Field(t, "state");
  }
  return state;
}

// --- commands -------------------------------------------------------------------------------

struct RequestArgs {
  std::string account;
  std::string permission_set;
  std::string duration;
  std::string reason;
  std::string ticket;
  std::string start_at;  // RFC 3339, or "+DURATION" from now
  bool wait = false;
  std::string wait_timeout = "15m";
};

void ShowRequest(const Context& ctx, const Answer& answer) {
  if (ctx.Json()) {
    PrintJson(ctx, answer);
  } else {
    PrintRequest(answer.body, ctx.clock->Now(), *ctx.out);
  }
}

// Polls the request every second until it is active or settled, or `timeout` passes.
int WaitFor(const Context& ctx, Answer current, Duration timeout) {
  std::string id = Field(current.body, "id");
  std::string state = WaitState(current.body);
  if (id.empty()) {
    *ctx.err << "jit: the server's answer has no request id to wait for\n";
    return kExitFailure;
  }
  const MonoTime start = ctx.clock->MonoNow();
  if (!IsSettled(state) && !ctx.Json()) {
    *ctx.out << "Request " << OneLine(id) << " is " << OneLine(state) << "; waiting (up to "
             << FormatDuration(timeout) << ")...\n";
  }
  while (!IsSettled(state)) {
    if (ctx.clock->MonoNow() - start >= timeout) {
      ShowRequest(ctx, current);
      *ctx.err << "jit: gave up waiting for request " << OneLine(id) << " after "
               << FormatDuration(timeout) << " (it is still " << OneLine(state) << ")\n";
      return kExitFailure;
    }
    (*ctx.sleep)(std::chrono::seconds(1));
    CallResult polled = Call(ctx, "GET", RequestPath(id), std::nullopt);
    if (!polled.answer.has_value()) {
      if (polled.transient) continue;  // the broker may be restarting; keep waiting
      return polled.exit_code;
    }
    std::string next_state = WaitState(polled.answer->body);
    if (next_state != state && !ctx.Json() && !IsSettled(next_state)) {
      *ctx.out << "Request " << OneLine(id) << " is " << OneLine(next_state) << "...\n";
    }
    current = std::move(*polled.answer);
    state = next_state;
  }
  ShowRequest(ctx, current);
  if (IsUnsuccessful(state)) {
    std::string why = Field(current.body, "failure_reason");
    if (why.empty()) why = Field(current.body, "end_reason");
    if (const json& targets = Member(current.body, "targets"); targets.is_array()) {
      // A request of several accounts: name the targets that did not get their access.
      std::string failed;
      for (const json& t : targets) {
        if (!IsUnsuccessful(Field(t, "state"))) continue;
        failed += (failed.empty() ? "" : ", ") + AccountLabel(Member(t, "account")) + " " +
                  Field(t, "state");
      }
      *ctx.err << "jit: request " << OneLine(id)
               << ": not every account got access: " << OneLine(failed) << '\n';
      return kExitFailure;
    }
    *ctx.err << "jit: request " << OneLine(id) << " ended " << OneLine(state)
             << (why.empty() ? std::string() : ": " + OneLine(why)) << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

int DoRequest(const Context& ctx, const RequestArgs& args) {
  if (Result<Duration> d = ParseDuration(args.duration); !d.has_value()) {
    *ctx.err << "jit: --for: " << OneLine(d.error().message()) << '\n';
    return kExitUsage;
  }
  Result<Duration> wait_timeout = ParseDuration(args.wait_timeout);
  if (!wait_timeout.has_value()) {
    *ctx.err << "jit: --wait-timeout: " << OneLine(wait_timeout.error().message()) << '\n';
    return kExitUsage;
  }
  std::string start_at;
  if (!args.start_at.empty()) {
    if (args.start_at.front() == '+') {
      Result<Duration> in = ParseDuration(args.start_at.substr(1));
      if (!in.has_value()) {
        *ctx.err << "jit: --start-at: " << OneLine(in.error().message()) << '\n';
        return kExitUsage;
      }
      start_at = FormatRfc3339(ctx.clock->Now() + *in);
    } else if (Result<Time> t = ParseRfc3339(args.start_at); t.has_value()) {
      start_at = FormatRfc3339(*t);
    } else {
      *ctx.err << "jit: --start-at: expected an RFC 3339 time like 2026-12-01T09:00:00Z or "
                  "+DURATION like +2h, not '"
               << OneLine(args.start_at) << "'\n";
      return kExitUsage;
    }
  }
  // "prod,staging": one request for several accounts.
  std::vector<std::string> accounts;
  for (std::size_t at = 0;;) {
    std::size_t comma = args.account.find(',', at);
    accounts.push_back(args.account.substr(at, comma == std::string::npos ? comma : comma - at));
    if (accounts.back().empty()) {
      *ctx.err << "jit: ACCOUNT: an empty name in '" << OneLine(args.account)
               << "' (separate several accounts with commas: prod,staging)\n";
      return kExitUsage;
    }
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  if (!NeedToken(ctx)) return kExitUsage;
  json body = {{"permission_set", args.permission_set},
               {"duration", args.duration},
               {"reason", args.reason}};
  if (accounts.size() > 1) {
    body["accounts"] = accounts;
  } else {
    body["account"] = args.account;
  }
  if (!args.ticket.empty()) body["ticket"] = args.ticket;
  if (!start_at.empty()) body["start_at"] = start_at;
  CallResult created = Call(ctx, "POST", "/v1/requests", body);
  if (!created.answer.has_value()) return created.exit_code;
  if (args.wait) return WaitFor(ctx, std::move(*created.answer), *wait_timeout);
  ShowRequest(ctx, *created.answer);
  return kExitOk;
}

struct ListArgs {
  std::string state;
  bool mine = false;
  std::string review;
  int limit = 0;
  std::string cursor;
};

int DoList(const Context& ctx, const ListArgs& args) {
  if (!NeedToken(ctx)) return kExitUsage;
  std::string query;
  if (!args.state.empty()) AddQuery(query, "state", args.state);
  if (args.mine) AddQuery(query, "mine", "true");
  if (!args.review.empty()) AddQuery(query, "review", args.review);
  if (args.limit > 0) AddQuery(query, "limit", std::to_string(args.limit));
  if (!args.cursor.empty()) AddQuery(query, "cursor", args.cursor);
  CallResult listed = Call(ctx, "GET", "/v1/requests" + query, std::nullopt);
  if (!listed.answer.has_value()) return listed.exit_code;
  if (ctx.Json()) {
    PrintJson(ctx, *listed.answer);
  } else {
    PrintRequestList(listed.answer->body, *ctx.out);
  }
  return kExitOk;
}

int DoShow(const Context& ctx, const std::string& id) {
  if (!NeedToken(ctx)) return kExitUsage;
  CallResult shown = Call(ctx, "GET", RequestPath(id), std::nullopt);
  if (!shown.answer.has_value()) return shown.exit_code;
  ShowRequest(ctx, *shown.answer);
  return kExitOk;
}

// approve, deny, cancel, revoke, extend, review: POST /v1/requests/ID/<verb> with `body`.
int DoDecision(const Context& ctx, const std::string& id, std::string_view verb, const json& body) {
  if (!NeedToken(ctx)) return kExitUsage;
  CallResult decided = Call(ctx, "POST", RequestPath(id) + "/" + std::string(verb), body);
  if (!decided.answer.has_value()) return decided.exit_code;
  if (ctx.Json()) {
    PrintJson(ctx, *decided.answer);
    return kExitOk;
  }
  const json& r = decided.answer->body;
  if (verb == "review" && !Field(r, "review_state").empty()) {
    *ctx.out << "Request " << OneLine(Field(r, "id").empty() ? id : Field(r, "id")) << ": review "
             << OneLine(Field(r, "review_state"));
    if (!Field(r, "reviewed_by").empty()) *ctx.out << " by " << OneLine(Field(r, "reviewed_by"));
    *ctx.out << ".\n";
    return kExitOk;
  }
  std::string state = Field(r, "state");
  *ctx.out << "Request " << OneLine(Field(r, "id").empty() ? id : Field(r, "id"));
  if (state.empty()) {
    *ctx.out << ": " << verb << " done\n";
    return kExitOk;
  }
  *ctx.out << " is " << OneLine(state);
  if (state == "pending" && !Field(r, "approvals_required").empty()) {
    size_t given = r.contains("approvals") && r["approvals"].is_array() ? r["approvals"].size() : 0;
    *ctx.out << " (" << given << " of " << OneLine(Field(r, "approvals_required")) << " approvals)";
  }
  if (!Field(r, "expires_at").empty() && (state == "active" || verb == "extend")) {
    *ctx.out << "; expires " << OneLine(ShortTime(Field(r, "expires_at")));
  }
  if (const json& ext = Member(r, "extension"); ext.is_object()) {
    const json& given = Member(ext, "approvals");
    *ctx.out << "; extension by " << OneLine(Field(ext, "duration")) << " awaits approval ("
             << (given.is_array() ? given.size() : 0) << " of "
             << OneLine(Field(ext, "approvals_required")) << ")";
  }
  if (state == "approved" && !Field(r, "start_at").empty() && Field(r, "activated_at").empty()) {
    *ctx.out << "; starts " << OneLine(ShortTime(Field(r, "start_at")));
  }
  *ctx.out << ".\n";
  return kExitOk;
}

// GET `path` and print it with `table` in table mode.
int DoGet(const Context& ctx, const std::string& path,
          const std::function<void(const json&, std::ostream&)>& table) {
  if (!NeedToken(ctx)) return kExitUsage;
  CallResult got = Call(ctx, "GET", path, std::nullopt);
  if (!got.answer.has_value()) return got.exit_code;
  if (ctx.Json()) {
    PrintJson(ctx, *got.answer);
  } else {
    table(got.answer->body, *ctx.out);
  }
  return kExitOk;
}

struct ExplainArgs {
  std::string user;
  std::vector<std::string> groups;
  bool groups_given = false;
  std::string account;
  std::string permission_set;
  std::string duration;
  std::string reason;
  std::string ticket;
};

// policy explain: POST /v1/policy/explain; the table form is the server's own text.
int DoExplain(const Context& ctx, const ExplainArgs& args) {
  if (!NeedToken(ctx)) return kExitUsage;
  json body = {{"account", args.account}, {"permission_set", args.permission_set}};
  if (!args.user.empty()) body["user"] = args.user;
  if (args.groups_given) body["groups"] = args.groups;
  if (!args.duration.empty()) body["duration"] = args.duration;
  if (!args.reason.empty()) body["reason"] = args.reason;
  if (!args.ticket.empty()) body["ticket"] = args.ticket;
  CallResult got = Call(ctx, "POST", "/v1/policy/explain", body);
  if (!got.answer.has_value()) return got.exit_code;
  if (ctx.Json()) {
    PrintJson(ctx, *got.answer);
  } else {
    *ctx.out << Lines(Field(got.answer->body, "text"));
  }
  return kExitOk;
}

std::string OrDashText(std::string s) { return s.empty() ? "-" : s; }

// audit export: every event from the start, one JSON object per line, paging through
// GET /v1/audit (`format`: "jsonl" as the API shows events, "ocsf" as OCSF).
int DoAuditExport(const Context& ctx, const std::string& format) {
  if (!NeedToken(ctx)) return kExitUsage;
  std::int64_t after = 0;
  for (;;) {
    std::string query;
    AddQuery(query, "after", std::to_string(after));
    AddQuery(query, "limit", "1000");
    if (format == "ocsf") AddQuery(query, "format", "ocsf");
    CallResult got = Call(ctx, "GET", "/v1/audit" + query, std::nullopt);
    if (!got.answer.has_value()) return got.exit_code;
    const json& items = Member(got.answer->body, "items");
    if (!items.is_array() || items.empty()) return kExitOk;
    for (const json& e : items) *ctx.out << e.dump() << '\n';
    const json& next = Member(got.answer->body, "next_after");
    if (!next.is_number_integer() || next.get<std::int64_t>() <= after) return kExitOk;
    after = next.get<std::int64_t>();
    if (items.size() < 1000) return kExitOk;
  }
}

// audit tail --follow: the events after `after`, then every second the ones that came since,
// until interrupted (or `max_polls` polls, for tests; 0: no limit).
int DoAuditFollow(const Context& ctx, std::int64_t after, int max_polls) {
  if (!NeedToken(ctx)) return kExitUsage;
  for (int polls = 0; max_polls == 0 || polls < max_polls; ++polls) {
    if (polls > 0) (*ctx.sleep)(std::chrono::seconds(1));
    std::string query;
    AddQuery(query, "after", std::to_string(std::max<std::int64_t>(after, 0)));
    AddQuery(query, "limit", "1000");
    CallResult got = Call(ctx, "GET", "/v1/audit" + query, std::nullopt);
    if (!got.answer.has_value()) {
      if (got.transient) continue;  // the broker may be restarting
      return got.exit_code;
    }
    const json& items = Member(got.answer->body, "items");
    if (!items.is_array()) continue;
    for (const json& e : items) {
      if (ctx.Json()) {
        *ctx.out << e.dump() << '\n';
      } else {
        *ctx.out << EscapeForTerminal(Field(e, "seq")) << "  " << OneLine(ShortTime(Field(e, "at")))
                 << "  " << OneLine(OrDashText(Field(e, "actor"))) << "  "
                 << OneLine(OrDashText(Field(e, "action"))) << "  "
                 << OneLine(OrDashText(Field(e, "request_id"))) << "  "
                 << OneLine(Field(e, "severity")) << "  " << Member(e, "details").dump() << '\n';
      }
      if (Member(e, "seq").is_number_integer()) after = Member(e, "seq").get<std::int64_t>();
    }
    ctx.out->flush();
  }
  return kExitOk;
}

int DoAuditVerify(const Context& ctx) {
  if (!NeedToken(ctx)) return kExitUsage;
  CallResult got = Call(ctx, "GET", "/v1/audit/verify", std::nullopt);
  if (!got.answer.has_value()) return got.exit_code;
  const json& body = got.answer->body;
  if (ctx.Json()) {
    PrintJson(ctx, *got.answer);
  } else {
    PrintObject(body, *ctx.out);
  }
  if (body.is_object() && body.contains("ok") && body["ok"].is_boolean() && !body["ok"]) {
    std::string seq = Field(body, "first_bad_seq");
    std::string why = Field(body, "why");
    *ctx.err << "jit: the audit chain is broken"
             << (seq.empty() || seq == "0" ? std::string() : " at seq " + seq)
             << (why.empty() ? std::string() : ": " + OneLine(why)) << '\n';
    return kExitFailure;
  }
  return kExitOk;
}

int DoConfigCheck(const Context& ctx, const std::string& file, bool aws, const Commands& commands) {
  Result<config::Config> config = config::LoadConfigFile(file);
  if (!config.has_value()) {
    if (config.error().code() != StatusCode::kInvalidArgument) {  // could not read it
      *ctx.err << "jit: " << OneLine(config.error().message()) << '\n';
      return kExitFailure;
    }
    // Already one "FILE:LINE: problem" line per error.
    std::string message = config.error().message();
    if (!message.empty() && message.back() != '\n') message += '\n';
    *ctx.err << message;
    return kExitFailure;
  }
  *ctx.out << file << ": ok (" << config->policy.accounts.size() << " accounts, ";
  if (std::size_t n = config->policy.account_sources.size(); n > 0) {
    *ctx.out << n << " organization source" << (n == 1 ? "" : "s") << ", ";
  }
  *ctx.out << config->policy.permission_sets.size() << " permission sets, "
           << config->policy.rules.size() << " rules)\n";
  if (!aws) return kExitOk;
  if (!commands.check_aws) {
    *ctx.err << "jit: config check --aws is not available in this build\n";
    return kExitFailure;
  }
  Result<AwsCheck> check = commands.check_aws(*config);
  if (!check.has_value()) {
    *ctx.err << "jit: cannot check the config against AWS: " << OneLine(check.error().message())
             << '\n';
    return kExitFailure;
  }
  for (const std::string& n : check->notes) *ctx.out << file << ": AWS: " << OneLine(n) << '\n';
  for (const std::string& w : check->warnings) {
    *ctx.out << file << ": warning: " << OneLine(w) << '\n';
  }
  if (check->warnings.empty()) *ctx.out << file << ": AWS: no warnings\n";
  return kExitOk;
}

// report: GET /v1/reports/summary?since=... as tables, JSON or CSV. A bad --since is refused
// here, before any call (exit 2).
int DoReport(const Context& ctx, const std::string& since) {
  Result<Duration> window = ParseDuration(since);
  if (!window.has_value() || window->count() <= 0) {
    *ctx.err << "jit: --since: expected a duration such as 30d or 12h, more than 0 and at most "
                "366d"
             << (window.has_value() ? std::string() : ": " + OneLine(window.error().message()))
             << '\n';
    return kExitUsage;
  }
  if (!NeedToken(ctx)) return kExitUsage;
  std::string query;
  AddQuery(query, "since", since);
  CallResult got = Call(ctx, "GET", "/v1/reports/summary" + query, std::nullopt);
  if (!got.answer.has_value()) return got.exit_code;
  if (ctx.Json()) {
    PrintJson(ctx, *got.answer);
  } else if (ctx.Csv()) {
    PrintReportCsv(got.answer->body, *ctx.out);
  } else {
    PrintReport(got.answer->body, *ctx.out);
  }
  return kExitOk;
}

// The command line's command as typed ("audit tail", "ls"); "" when none was given.
std::string CommandName(const CLI::App& app) {
  std::string name;
  const CLI::App* at = &app;
  for (;;) {
    auto parsed = at->get_subcommands();
    if (parsed.empty()) return name;
    at = parsed.front();
    if (!name.empty()) name += ' ';
    name += at->get_name();
  }
}

int RunOrThrow(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
               const Commands& commands, Clock& clock, const std::function<void(Duration)>& sleep) {
  Context ctx;
  ctx.out = &out;
  ctx.err = &err;
  ctx.clock = &clock;
  ctx.sleep = &sleep;

  CLI::App app("jit: just-in-time privileged access for AWS IAM Identity Center", "jit");
  // Global options may come after the subcommand too: subcommands pass what they do not know
  // to their parent. Subcommands inherit this when they are made, so it comes first.
  app.fallthrough();
  // At most one command; none is reported below (CLI11's "A subcommand is required" would
  // also be its answer to an unknown command).
  app.require_subcommand(0, 1);
  app.set_version_flag("--version", "jit " JIT_VERSION " (commit " JIT_COMMIT ")");
  app.add_option("--server", ctx.server, "The broker's URL")
      ->envname("JIT_SERVER")
      ->capture_default_str();
  app.add_option("--token", ctx.token, "API token")->envname("JIT_TOKEN");
  app.add_option("--output,-o", ctx.output, "Output format")
      ->check(CLI::IsMember({"table", "json", "csv"}))
      ->capture_default_str();

  ServeOptions serve_options;
  CLI::App* serve_cmd = app.add_subcommand("serve", "Run the broker");
  serve_cmd->add_option("--config", serve_options.config_file, "Config file (YAML)");
  serve_cmd->add_flag("--dev", serve_options.dev, "Embedded dev broker with an emulator");
  serve_cmd->add_option("--listen", serve_options.listen, "Address to listen on (host:port)");
  serve_cmd->add_option("--data", serve_options.data_dir, "Data folder")->capture_default_str();
  serve_cmd->add_option("--emulator-listen", serve_options.emulator_listen,
                        "Address of the dev mode's emulator");
  serve_cmd
      ->add_option("--log-format", serve_options.log_format,
                   "json or text (default: text with --dev, json otherwise)")
      ->check(CLI::IsMember({"json", "text"}));

  RequestArgs request_args;
  CLI::App* request_cmd = app.add_subcommand("request", "Ask for access");
  request_cmd
      ->add_option("ACCOUNT", request_args.account,
                   "Account id or name; several separated by commas (prod,staging); `group` "
                   "for membership in an Identity Center group")
      ->required();
  request_cmd
      ->add_option("PERMISSION_SET", request_args.permission_set,
                   "Permission set name or ARN; after `group`, the group's name")
      ->required();
  request_cmd->add_option("--for", request_args.duration, "How long, e.g. 30m, 1h30m")->required();
  request_cmd->add_option("--reason", request_args.reason, "Why")->required();
  request_cmd->add_option("--ticket", request_args.ticket, "Ticket reference");
  request_cmd->add_option("--start-at", request_args.start_at,
                          "Start later: an RFC 3339 time, or +DURATION from now (e.g. +2h)");
  request_cmd->add_flag("--wait", request_args.wait, "Wait until active or settled");
  request_cmd->add_option("--wait-timeout", request_args.wait_timeout, "Longest wait")
      ->capture_default_str();

  ListArgs list_args;
  CLI::App* ls_cmd = app.add_subcommand("ls", "List requests");
  ls_cmd->add_option("--state", list_args.state, "Only requests in this state");
  ls_cmd->add_flag("--mine", list_args.mine, "Only my requests");
  ls_cmd
      ->add_option("--review", list_args.review,
                   "Only break-glass requests whose review is open or closed")
      ->check(CLI::IsMember({"open", "closed"}));
  ls_cmd->add_option("--limit", list_args.limit, "At most this many")->check(WholeNumberAtLeast(1));
  ls_cmd->add_option("--cursor", list_args.cursor, "Continue from a previous page");

  std::string id;
  CLI::App* show_cmd = app.add_subcommand("show", "Show one request with its history");
  show_cmd->add_option("ID", id, "Request id")->required();

  CLI::App* activity_cmd = app.add_subcommand(
      "activity",
      "What a grant's AWS sessions did: its CloudTrail events (--output table, json or csv)");
  activity_cmd->add_option("ID", id, "Request id")->required();

  std::string comment;
  CLI::App* approve_cmd = app.add_subcommand("approve", "Approve a request");
  approve_cmd->add_option("ID", id, "Request id")->required();
  approve_cmd->add_option("--comment", comment, "Comment");

  std::string reason;
  CLI::App* deny_cmd = app.add_subcommand("deny", "Deny a request");
  deny_cmd->add_option("ID", id, "Request id")->required();
  deny_cmd->add_option("--reason", reason, "Why")->required();

  CLI::App* cancel_cmd = app.add_subcommand("cancel", "Cancel your pending request");
  cancel_cmd->add_option("ID", id, "Request id")->required();

  CLI::App* revoke_cmd = app.add_subcommand("revoke", "End active access now");
  revoke_cmd->add_option("ID", id, "Request id")->required();
  revoke_cmd->add_option("--reason", reason, "Why");

  std::string extend_for;
  CLI::App* extend_cmd = app.add_subcommand("extend", "Extend active access");
  extend_cmd->add_option("ID", id, "Request id")->required();
  extend_cmd->add_option("--for", extend_for, "How much longer, e.g. 30m")->required();

  CLI::App* review_cmd =
      app.add_subcommand("review", "Close the post-incident review of break-glass access");
  review_cmd->add_option("ID", id, "Request id")->required();
  review_cmd->add_option("--comment", comment, "What the review found");

  CLI::App* catalog_cmd = app.add_subcommand("catalog", "What you may request");
  CLI::App* whoami_cmd = app.add_subcommand("whoami", "Who the broker thinks you are");

  std::int64_t audit_after = -1;
  int audit_limit = 0;
  CLI::App* audit_cmd = app.add_subcommand("audit", "The audit trail");
  audit_cmd->require_subcommand(0, 1);
  CLI::App* audit_tail_cmd = audit_cmd->add_subcommand("tail", "Audit events");
  audit_tail_cmd->add_option("--after", audit_after, "Only events after this seq")
      ->check(WholeNumberAtLeast(0));
  audit_tail_cmd->add_option("--limit", audit_limit, "At most this many")
      ->check(WholeNumberAtLeast(1));
  bool audit_follow = false;
  audit_tail_cmd->add_flag("-f,--follow", audit_follow, "Keep printing events as they come");
  int audit_max_polls = 0;  // stops --follow after this many polls (scripts and tests)
  audit_tail_cmd->add_option("--max-polls", audit_max_polls)
      ->group("")
      ->check(WholeNumberAtLeast(1));
  CLI::App* audit_verify_cmd =
      audit_cmd->add_subcommand("verify", "Check the hash chain and its signed checkpoints");
  std::string audit_format = "jsonl";
  CLI::App* audit_export_cmd =
      audit_cmd->add_subcommand("export", "Every event, one JSON object per line");
  audit_export_cmd->add_option("--format", audit_format, "jsonl or ocsf")
      ->check(CLI::IsMember({"jsonl", "ocsf"}))
      ->capture_default_str();

  ExplainArgs explain_args;
  std::string explain_groups;
  CLI::App* policy_cmd = app.add_subcommand("policy", "Policy tools");
  policy_cmd->require_subcommand(0, 1);
  CLI::App* explain_cmd = policy_cmd->add_subcommand(
      "explain", "Which rule would decide a request, and what it would need (a dry run)");
  explain_cmd->add_option("--user", explain_args.user, "Who asks (default: you)");
  explain_cmd->add_option("--groups", explain_groups, "Their groups, comma-separated");
  explain_cmd->add_option("--account", explain_args.account, "Account id or name")->required();
  explain_cmd->add_option("--permission-set", explain_args.permission_set, "Name or ARN")
      ->required();
  explain_cmd->add_option("--for", explain_args.duration, "Duration, e.g. 30m");
  explain_cmd->add_option("--reason", explain_args.reason, "The reason they would give");
  explain_cmd->add_option("--ticket", explain_args.ticket, "The ticket they would give");

  std::string config_file;
  CLI::App* config_cmd = app.add_subcommand("config", "Config file tools");
  config_cmd->require_subcommand(0, 1);
  CLI::App* config_check_cmd = config_cmd->add_subcommand("check", "Validate a config file");
  config_check_cmd->add_option("FILE", config_file, "Config file (YAML)")->required();
  bool config_check_aws = false;
  config_check_cmd->add_flag("--aws", config_check_aws,
                             "Also ask Identity Center (default credentials, region and "
                             "endpoints) and warn about permission sets whose sessions outlive "
                             "the longest grant");

  std::string report_since = "30d";
  CLI::App* report_cmd = app.add_subcommand(
      "report", "KPIs and service levels (admins and auditors; --output table, json or csv)");
  report_cmd->add_option("--since", report_since, "How far back, e.g. 7d, 30d, 12h (at most 366d)")
      ->capture_default_str();

  std::string standing_account;
  CLI::App* assignments_cmd =
      app.add_subcommand("assignments", "Identity Center's assignments (admins and auditors)");
  assignments_cmd->require_subcommand(0, 1);
  CLI::App* standing_cmd = assignments_cmd->add_subcommand(
      "standing",
      "Assignments of the permission sets jit offers that jit did not make: the standing access "
      "a cutover removes (--output table, json or csv)");
  standing_cmd->add_option("--account", standing_account, "Only this account (id or name)");

  PermissionSetsOptions permission_sets_options;
  CLI::App* permission_sets_cmd = app.add_subcommand(
      "permission-sets",
      "Permission sets as code: compare the config's definitions with Identity Center, or apply "
      "them (default credentials, region and endpoints)");
  permission_sets_cmd->require_subcommand(0, 1);
  CLI::App* permission_sets_plan_cmd = permission_sets_cmd->add_subcommand(
      "plan", "Print what apply would change (--output json too); writes nothing");
  CLI::App* permission_sets_apply_cmd = permission_sets_cmd->add_subcommand(
      "apply", "Create and update the defined permission sets and provision them");
  for (CLI::App* c : {permission_sets_plan_cmd, permission_sets_apply_cmd}) {
    c->add_option("--config", permission_sets_options.config_file, "Config file (YAML)")
        ->capture_default_str();
  }

  EmulatorCommandOptions emulator_options;
  CLI::App* emulator_cmd = app.add_subcommand("emulator", "The local Identity Center emulator");
  emulator_cmd->add_option("--listen", emulator_options.listen, "Address to listen on (host:port)")
      ->capture_default_str();
  emulator_cmd->add_option("--seed", emulator_options.seed_file,
                           "Seed file (JSON); default: the dev catalog");
  emulator_cmd
      ->add_option("--access-key-id", emulator_options.access_key_id, "The accepted access key id")
      ->capture_default_str();
  emulator_cmd->add_option("--secret-access-key", emulator_options.secret_access_key,
                           "Its secret access key");

  BackupOptions backup_options;
  CLI::App* backup_cmd = app.add_subcommand(
      "backup", "Copy the SQLite store to FILE while the broker serves (docs/STORAGE.md)");
  backup_cmd->add_option("FILE", backup_options.file, "Where the copy goes (must not exist)")
      ->required();
  backup_cmd->add_option("--data", backup_options.data_dir, "Data folder")->capture_default_str();
  backup_cmd->add_option("--config", backup_options.config_file,
                         "Config file whose store: names the store");

  RestoreOptions restore_options;
  CLI::App* restore_cmd = app.add_subcommand(
      "restore", "Replace the store of a stopped broker with a backup (docs/STORAGE.md)");
  restore_cmd->add_option("FILE", restore_options.file, "A backup made by jit backup")->required();
  restore_cmd->add_option("--data", restore_options.data_dir, "Data folder")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out << app.help();
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    out << app.help("", CLI::AppFormatMode::All);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    out << e.what() << '\n';
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    err << "jit: " << OneLine(e.what()) << " (see jit --help)\n";
    return kExitUsage;
  }

  // --output csv: only the commands that have a CSV form.
  if (ctx.Csv()) {
    static const std::vector<std::string> kCsvCommands = {"report", "assignments standing",
                                                          "activity"};
    std::string command = CommandName(app);
    if (!command.empty() &&
        std::find(kCsvCommands.begin(), kCsvCommands.end(), command) == kCsvCommands.end()) {
      err << "jit: --output csv is not supported by " << command << '\n';
      return kExitUsage;
    }
  }

  if (backup_cmd->parsed() || restore_cmd->parsed()) {
    const bool backup = backup_cmd->parsed();
    if (backup ? !commands.backup : !commands.restore) {
      err << "jit: " << (backup ? "backup" : "restore") << " is not available in this build\n";
      return kExitFailure;
    }
    return backup ? commands.backup(backup_options) : commands.restore(restore_options);
  }
  if (permission_sets_plan_cmd->parsed() || permission_sets_apply_cmd->parsed()) {
    if (!commands.permission_sets) {
      err << "jit: permission-sets is not available in this build\n";
      return kExitFailure;
    }
    permission_sets_options.apply = permission_sets_apply_cmd->parsed();
    permission_sets_options.json = ctx.Json();
    return commands.permission_sets(permission_sets_options);
  }
  if (permission_sets_cmd->parsed()) {
    err << "jit: permission-sets needs a command: plan or apply (see jit permission-sets --help)\n";
    return kExitUsage;
  }

  while (!ctx.server.empty() && ctx.server.back() == '/') ctx.server.pop_back();
  const bool needs_server =
      !serve_cmd->parsed() && !config_cmd->parsed() && !emulator_cmd->parsed();
  if (needs_server && ctx.server.rfind("http://", 0) != 0 && ctx.server.rfind("https://", 0) != 0) {
    err << "jit: --server must be an http:// or https:// URL, not '" << ctx.server << "'\n";
    return kExitUsage;
  }

  if (serve_cmd->parsed()) {
    if (!commands.serve) {
      err << "jit: serve is not available in this build\n";
      return kExitFailure;
    }
    return commands.serve(serve_options);
  }
  if (emulator_cmd->parsed()) {
    if (!commands.emulator) {
      err << "jit: emulator is not available in this build\n";
      return kExitFailure;
    }
    if (emulator_options.access_key_id.empty() || emulator_options.secret_access_key.empty()) {
      err << "jit: --access-key-id and --secret-access-key must not be empty\n";
      return kExitUsage;
    }
    return commands.emulator(emulator_options);
  }
  if (request_cmd->parsed()) return DoRequest(ctx, request_args);
  if (ls_cmd->parsed()) return DoList(ctx, list_args);
  if (show_cmd->parsed()) return DoShow(ctx, id);
  if (activity_cmd->parsed()) {
    return DoGet(ctx, RequestPath(id) + "/activity", ctx.Csv() ? PrintActivityCsv : PrintActivity);
  }
  if (approve_cmd->parsed()) {
    json body = json::object();
    if (!comment.empty()) body["comment"] = comment;
    return DoDecision(ctx, id, "approve", body);
  }
  if (deny_cmd->parsed()) return DoDecision(ctx, id, "deny", {{"reason", reason}});
  if (cancel_cmd->parsed()) return DoDecision(ctx, id, "cancel", json::object());
  if (revoke_cmd->parsed()) {
    json body = json::object();
    if (!reason.empty()) body["reason"] = reason;
    return DoDecision(ctx, id, "revoke", body);
  }
  if (extend_cmd->parsed()) {
    if (Result<Duration> d = ParseDuration(extend_for); !d.has_value()) {
      err << "jit: --for: " << OneLine(d.error().message()) << '\n';
      return kExitUsage;
    }
    return DoDecision(ctx, id, "extend", {{"duration", extend_for}});
  }
  if (review_cmd->parsed()) {
    json body = json::object();
    if (!comment.empty()) body["comment"] = comment;
    return DoDecision(ctx, id, "review", body);
  }
  if (catalog_cmd->parsed()) return DoGet(ctx, "/v1/catalog", PrintCatalog);
  if (whoami_cmd->parsed()) return DoGet(ctx, "/v1/me", PrintWhoami);
  if (audit_tail_cmd->parsed()) {
    if (audit_follow) return DoAuditFollow(ctx, audit_after, audit_max_polls);
    std::string query;
    if (audit_after >= 0) AddQuery(query, "after", std::to_string(audit_after));
    if (audit_limit > 0) AddQuery(query, "limit", std::to_string(audit_limit));
    return DoGet(ctx, "/v1/audit" + query, PrintAudit);
  }
  if (audit_verify_cmd->parsed()) return DoAuditVerify(ctx);
  if (report_cmd->parsed()) return DoReport(ctx, report_since);
  if (standing_cmd->parsed()) {
    std::string query;
    if (!standing_account.empty()) AddQuery(query, "account", standing_account);
    return DoGet(ctx, "/v1/assignments/standing" + query,
                 ctx.Csv() ? PrintStandingCsv : PrintStanding);
  }
  if (audit_export_cmd->parsed()) return DoAuditExport(ctx, audit_format);
  if (explain_cmd->parsed()) {
    if (!explain_args.duration.empty()) {
      if (Result<Duration> d = ParseDuration(explain_args.duration); !d.has_value()) {
        err << "jit: --for: " << OneLine(d.error().message()) << '\n';
        return kExitUsage;
      }
    }
    if (explain_cmd->count("--groups") > 0) {
      explain_args.groups_given = true;
      std::string_view rest = explain_groups;
      while (!rest.empty()) {
        std::size_t comma = rest.find(',');
        std::string_view g = rest.substr(0, comma);
        if (!g.empty()) explain_args.groups.emplace_back(g);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      }
    }
    return DoExplain(ctx, explain_args);
  }
  if (policy_cmd->parsed()) {
    err << "jit: policy needs a command: explain (see jit policy --help)\n";
    return kExitUsage;
  }
  if (config_check_cmd->parsed()) {
    return DoConfigCheck(ctx, config_file, config_check_aws, commands);
  }
  if (audit_cmd->parsed()) {
    err << "jit: audit needs a command: tail, verify or export (see jit audit --help)\n";
    return kExitUsage;
  }
  if (config_cmd->parsed()) {
    err << "jit: config needs a command: check (see jit config --help)\n";
    return kExitUsage;
  }
  if (assignments_cmd->parsed()) {
    err << "jit: assignments needs a command: standing (see jit assignments --help)\n";
    return kExitUsage;
  }
  err << "jit: no command given (see jit --help)\n";
  return kExitUsage;
}

}  // namespace

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const Commands& commands, Clock& clock, const std::function<void(Duration)>& sleep) {
  // CLI11 and nlohmann-json throw; nothing escapes past here.
  try {
    return RunOrThrow(argc, argv, out, err, commands, clock, sleep);
  } catch (const std::exception& e) {
    err << "jit: " << OneLine(e.what()) << '\n';
  } catch (...) {
    err << "jit: unexpected failure\n";
  }
  return kExitFailure;
}

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const Commands& commands) {
  RealClock clock;
  std::function<void(Duration)> sleep = [](Duration d) { std::this_thread::sleep_for(d); };
  return Run(argc, argv, out, err, commands, clock, sleep);
}

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve, Clock& clock,
        const std::function<void(Duration)>& sleep) {
  return Run(argc, argv, out, err, Commands{serve, nullptr}, clock, sleep);
}

int Run(int argc, const char* const* argv, std::ostream& out, std::ostream& err,
        const std::function<int(const ServeOptions&)>& serve) {
  return Run(argc, argv, out, err, Commands{serve, nullptr});
}

}  // namespace jit::cli
