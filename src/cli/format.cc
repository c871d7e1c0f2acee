#include "cli/format.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <utility>

#include "core/duration.h"
#include "core/strings.h"
#include "core/time_format.h"

namespace jit::cli {
namespace {

using nlohmann::json;

// Display width: counts UTF-8 code points, not bytes, so names with accents still line up.
size_t DisplayWidth(std::string_view s) {
  return static_cast<size_t>(
      std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string OrDash(std::string s) { return s.empty() ? "-" : s; }

std::string Compact(const json& value) {
  if (value.is_null()) return "";
  if (value.is_string()) return value.get<std::string>();
  if (value.is_object() && value.empty()) return "";
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string JoinStrings(const json& array, std::string_view separator) {
  std::string out;
  if (!array.is_array()) return out;
  for (const json& item : array) {
    if (!out.empty()) out += separator;
    out += Compact(item);
  }
  return out;
}

std::string DurationLabel(const json& request) {
  std::string text = Field(request, "duration");
  if (!text.empty()) return text;
  const json& seconds = Member(request, "duration_seconds");
  if (seconds.is_number_integer()) {
    return FormatDuration(std::chrono::seconds(seconds.get<std::int64_t>()));
  }
  return "";
}

// Time from `now` until the RFC 3339 `when`, whole seconds; empty when unknown or past.
std::string TimeLeft(std::string_view when, Time now) {
  Result<Time> t = ParseRfc3339(when);
  if (!t.has_value() || *t <= now) return "";
  auto left = std::chrono::duration_cast<std::chrono::seconds>(*t - now);
  return FormatDuration(left);
}

// Every value comes from the server and may hold what a user typed: it is printed escaped
// (EscapeForTerminal), so that no control sequence reaches the terminal.
void PrintLines(const std::vector<std::pair<std::string, std::string>>& lines, std::ostream& out) {
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, DisplayWidth(key));
  for (const auto& [key, value] : lines) {
    out << key << ':' << std::string(width - DisplayWidth(key) + 2, ' ') << EscapeForTerminal(value)
        << '\n';
  }
}

}  // namespace

std::string AccountLabel(const json& account) {
  if (account.is_string()) return account.get<std::string>();
  std::string id = Field(account, "id");
  std::string name = Field(account, "name");
  if (name.empty()) return id;
  if (id.empty() || id == name) return name;
  return name + " (" + id + ")";
}

const json& Member(const json& object, std::string_view key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  for (std::string& cell : cells) cell = EscapeForTerminal(cell);
  rows_.push_back(std::move(cells));
}

void Table::Print(std::ostream& out) const {
  std::vector<size_t> widths(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) widths[i] = DisplayWidth(headers_[i]);
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  auto print_row = [&](const std::vector<std::string>& row) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    out << line << '\n';
  };
  print_row(headers_);
  for (const auto& row : rows_) print_row(row);
}

std::string Field(const json& object, std::string_view key) {
  const json& value = Member(object, key);
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number() || value.is_boolean()) return value.dump();
  return "";
}

std::string ShortTime(std::string_view rfc3339) {
  if (rfc3339.empty()) return "-";
  Result<Time> t = ParseRfc3339(rfc3339);
  if (!t.has_value()) return std::string(rfc3339);
  std::time_t secs = std::chrono::system_clock::to_time_t(*t);
  std::tm tm{};
  if (gmtime_r(&secs, &tm) == nullptr) return std::string(rfc3339);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%SZ", &tm);
  return n == 0 ? std::string(rfc3339) : std::string(buffer, n);
}

void PrintRequestList(const json& list, std::ostream& out) {
  Table table(
      {"ID", "STATE", "REQUESTER", "ACCOUNT", "PERMISSION SET", "DURATION", "CREATED", "EXPIRES"});
  const json& items = Member(list, "items");
  if (items.is_array()) {
    for (const json& r : items) {
      table.AddRow({OrDash(Field(r, "id")), OrDash(Field(r, "state")),
                    OrDash(Field(r, "requester")), OrDash(AccountLabel(Member(r, "account"))),
                    OrDash(Field(Member(r, "permission_set"), "name")), OrDash(DurationLabel(r)),
                    ShortTime(Field(r, "created_at")), ShortTime(Field(r, "expires_at"))});
    }
  }
  if (table.Empty()) {
    out << "No requests.\n";
  } else {
    table.Print(out);
  }
  std::string cursor = Field(list, "next_cursor");
  if (!cursor.empty()) out << "(more: --cursor " << EscapeForTerminal(cursor) << ")\n";
}

void PrintRequest(const json& r, Time now, std::ostream& out) {
  std::vector<std::pair<std::string, std::string>> lines;
  auto add = [&lines](std::string key, std::string value) {
    lines.emplace_back(std::move(key), OrDash(std::move(value)));
  };
  auto add_if = [&lines](std::string key, std::string value) {
    if (!value.empty()) lines.emplace_back(std::move(key), std::move(value));
  };
  std::string state = Field(r, "state");
  std::string expires_at = Field(r, "expires_at");
  std::string state_line = state;
  if (state == "active") {
    std::string left = TimeLeft(expires_at, now);
    if (!left.empty()) state_line += " (" + left + " left)";
  }
  add("ID", Field(r, "id"));
  add("State", state_line);
  add("Requester", Field(r, "requester"));
  // Group elevation: the group whose membership is granted, in place of account and permission
  // set.
  const json& group = Member(r, "group");
  if (group.is_object()) add("Group", Field(group, "name") + " (" + Field(group, "id") + ")");
  if (!group.is_object()) add("Account", AccountLabel(Member(r, "account")));
  // A request of several accounts: each target's state.
  if (const json& targets = Member(r, "targets"); targets.is_array()) {
    for (const json& t : targets) {
      std::string line = AccountLabel(Member(t, "account")) + ": " + Field(t, "state");
      if (!Field(t, "failure_reason").empty()) line += " (" + Field(t, "failure_reason") + ")";
      line += "  " + Field(t, "id");
      add("Target", line);
    }
  }
  const json& ps = Member(r, "permission_set");
  std::string ps_label = Field(ps, "name");
  if (!Field(ps, "arn").empty()) ps_label += " (" + Field(ps, "arn") + ")";
  if (!group.is_object()) add("Permission set", ps_label);
  add("Duration", DurationLabel(r));
  add("Reason", Field(r, "reason"));
  add("Ticket", Field(r, "ticket"));
  add_if("Rule", Field(r, "rule"));
  if (Member(r, "break_glass").is_boolean() && Member(r, "break_glass").get<bool>()) {
    add("Break-glass", "yes");
  }
  if (!Field(r, "review_state").empty()) {
    std::string review = Field(r, "review_state");
    if (!Field(r, "reviewed_by").empty()) {
      review += " by " + Field(r, "reviewed_by") + " at " + ShortTime(Field(r, "reviewed_at"));
    }
    if (!Field(r, "review_comment").empty()) review += ": " + Field(r, "review_comment");
    add("Review", review);
  }
  const json& approvals = Member(r, "approvals");
  std::string required = Field(r, "approvals_required");
  size_t given = approvals.is_array() ? approvals.size() : 0;
  if (!required.empty() && required != "0") {
    add("Approvals", std::to_string(given) + " of " + required);
  } else if (given > 0) {
    add("Approvals", std::to_string(given));
  }
  if (approvals.is_array()) {
    for (const json& a : approvals) {
      std::string line = Field(a, "approver") + " at " + ShortTime(Field(a, "at"));
      if (!Field(a, "comment").empty()) line += ": " + Field(a, "comment");
      lines.emplace_back("  approved by", line);
    }
  }
  add("Created", ShortTime(Field(r, "created_at")));
  if (!Field(r, "start_at").empty()) add("Starts", ShortTime(Field(r, "start_at")));
  if (state == "pending") add_if("Approval deadline", ShortTime(Field(r, "approval_deadline")));
  if (!Field(r, "decided_at").empty()) {
    std::string decided = ShortTime(Field(r, "decided_at"));
    if (!Field(r, "decided_by").empty()) decided += " by " + Field(r, "decided_by");
    add("Decided", decided);
  }
  if (!Field(r, "activated_at").empty()) add("Activated", ShortTime(Field(r, "activated_at")));
  if (!expires_at.empty()) add("Expires", ShortTime(expires_at));
  if (const json& ext = Member(r, "extension"); ext.is_object()) {
    const json& ext_approvals = Member(ext, "approvals");
    std::size_t ext_given = ext_approvals.is_array() ? ext_approvals.size() : 0;
    add("Extension", "+" + Field(ext, "duration") + " awaiting approval (" +
                         std::to_string(ext_given) + " of " + Field(ext, "approvals_required") +
                         ", until " + ShortTime(Field(ext, "deadline")) + ")");
  }
  if (!Field(r, "ended_at").empty()) add("Ended", ShortTime(Field(r, "ended_at")));
  add_if("End reason", Field(r, "end_reason"));
  add_if("Failure", Field(r, "failure_reason"));
  PrintLines(lines, out);

  const json& history = Member(r, "history");
  if (history.is_array() && !history.empty()) {
    out << "History:\n";
    Table table({"  SEQ", "AT", "ACTOR", "ACTION", "SEVERITY", "DETAILS"});
    for (const json& h : history) {
      table.AddRow({"  " + Field(h, "seq"), ShortTime(Field(h, "at")), OrDash(Field(h, "actor")),
                    OrDash(Field(h, "action")), OrDash(Field(h, "severity")),
                    Compact(Member(h, "details"))});
    }
    table.Print(out);
  }
}

void PrintStanding(const json& standing, std::ostream& out) {
  Table table({"ACCOUNT", "PERMISSION SET", "TYPE", "PRINCIPAL", "NOTE"});
  const json& items = Member(standing, "items");
  if (items.is_array()) {
    for (const json& item : items) {
      std::string account = Field(item, "account_name");
      std::string id = Field(item, "account_id");
      account = account.empty() ? id : account + " (" + id + ")";
      std::string principal = Field(item, "principal_name");
      if (principal.empty()) principal = Field(item, "principal_id") + " (no name)";
      const json& held = Member(item, "held_through_jit");
      std::string note = held.is_boolean() && held.get<bool>() ? "jit grants it on top too" : "";
      table.AddRow({OrDash(account), OrDash(Field(item, "permission_set")),
                    OrDash(ToLower(Field(item, "principal_type"))), OrDash(principal),
                    OrDash(note)});
    }
  }
  if (table.Empty()) {
    std::string pairs = Field(standing, "pairs_listed");
    out << "No standing assignments in " << (pairs.empty() ? "the" : EscapeForTerminal(pairs))
        << " account and permission set pairs jit offers.\n";
  } else {
    table.Print(out);
  }
}

void PrintStandingCsv(const json& standing, std::ostream& out) {
  static const char* const kColumns[] = {"account_id",         "account_name",    "permission_set",
                                         "permission_set_arn", "principal_type",  "principal_id",
                                         "principal_name",     "held_through_jit"};
  bool first = true;
  for (const char* c : kColumns) {
    out << (first ? "" : ",") << c;
    first = false;
  }
  out << '\n';
  const json& items = Member(standing, "items");
  if (!items.is_array()) return;
  for (const json& item : items) {
    first = true;
    for (const char* c : kColumns) {
      out << (first ? "" : ",") << CsvField(Field(item, c));
      first = false;
    }
    out << '\n';
  }
}

namespace {

std::string JoinResources(const json& event) {
  std::string out;
  const json& resources = Member(event, "resources");
  if (!resources.is_array()) return out;
  for (const json& r : resources) {
    if (!r.is_string()) continue;
    if (!out.empty()) out += ';';
    out += r.get<std::string>();
  }
  return out;
}

}  // namespace

void PrintActivity(const json& activity, std::ostream& out) {
  const json& window = Member(activity, "window");
  const json& summary = Member(activity, "summary");
  const json& closed = Member(window, "closed");
  const std::string ends_by = Field(window, "ends_by");
  std::string state = "open";
  if (closed.is_boolean() && closed.get<bool>()) {
    state = "closed (" + ends_by + ")";
  } else if (!ends_by.empty() && ends_by != "open") {
    state = "ended (" + ends_by + "), CloudTrail may still deliver events";
  }
  out << "Request:     " << EscapeForTerminal(Field(activity, "request_id")) << '\n';
  out << "Window:      " << ShortTime(Field(window, "start")) << " to "
      << ShortTime(Field(window, "end")) << ", " << EscapeForTerminal(state) << '\n';
  std::string services;
  if (const json& s = Member(summary, "services"); s.is_array()) {
    for (const json& name : s) {
      if (!name.is_string()) continue;
      services += (services.empty() ? "" : ", ") + name.get<std::string>();
    }
  }
  out << "Events:      " << OrDash(Field(summary, "events")) << " ("
      << OrDash(Field(summary, "write_calls")) << " write calls, "
      << OrDash(Field(summary, "errors")) << " errors)\n";
  out << "Services:    " << EscapeForTerminal(OrDash(services)) << '\n';
  out << "Read:        " << ShortTime(Field(activity, "read_at")) << " from "
      << EscapeForTerminal(OrDash(Field(activity, "source"))) << '\n';
  const json& truncated = Member(activity, "truncated");
  if (truncated.is_boolean() && truncated.get<bool>()) {
    out << "Note:        more events than jit keeps for one grant; the oldest are left out\n";
  }
  Table table({"TIME", "SERVICE", "EVENT", "WRITE", "ERROR", "RESOURCES"});
  const json& events = Member(activity, "events");
  if (events.is_array()) {
    for (const json& e : events) {
      const json& read_only = Member(e, "read_only");
      bool write = read_only.is_boolean() && !read_only.get<bool>();
      table.AddRow({ShortTime(Field(e, "time")), OrDash(Field(e, "event_source")),
                    OrDash(Field(e, "event_name")), write ? "yes" : "no",
                    OrDash(Field(e, "error_code")), OrDash(JoinResources(e))});
    }
  }
  out << '\n';
  if (table.Empty()) {
    out << "No events in the window.\n";
  } else {
    table.Print(out);
  }
}

void PrintActivityCsv(const json& activity, std::ostream& out) {
  out << "event_id,time,event_source,event_name,read_only,error_code,region,access_key_id,"
         "resources\n";
  const json& events = Member(activity, "events");
  if (!events.is_array()) return;
  for (const json& e : events) {
    out << CsvField(Field(e, "event_id")) << ',' << CsvField(Field(e, "time")) << ','
        << CsvField(Field(e, "event_source")) << ',' << CsvField(Field(e, "event_name")) << ','
        << CsvField(Field(e, "read_only")) << ',' << CsvField(Field(e, "error_code")) << ','
        << CsvField(Field(e, "region")) << ',' << CsvField(Field(e, "access_key_id")) << ','
        << CsvField(JoinResources(e)) << '\n';
  }
}

void PrintCatalog(const json& catalog, std::ostream& out) {
  Table table(
      {"ACCOUNT", "PERMISSION SET", "RULE", "MAX DURATION", "APPROVAL", "REASON", "TICKET"});
  const json& items = Member(catalog, "items");
  if (items.is_array()) {
    for (const json& item : items) {
      std::string approval = Field(item, "approval");
      if (approval == "approvers") {
        std::string n = Field(item, "approvals_required");
        approval += " (" + (n.empty() ? std::string("1") : n) + ")";
      }
      const json& reason_required = Member(item, "reason_required");
      std::string reason =
          reason_required.is_boolean() && reason_required.get<bool>() ? "required" : "optional";
      std::string max = Field(item, "max_duration");
      if (max.empty() && Member(item, "max_duration_seconds").is_number_integer()) {
        max = FormatDuration(
            std::chrono::seconds(Member(item, "max_duration_seconds").get<std::int64_t>()));
      }
      // An account from AWS Organizations names the OU it is in.
      std::string account = AccountLabel(Member(item, "account"));
      if (std::string ou = Field(Member(item, "account"), "ou"); !ou.empty()) {
        account += " · " + ou;
      }
      table.AddRow({OrDash(account), OrDash(Field(Member(item, "permission_set"), "name")),
                    OrDash(Field(item, "rule")), OrDash(max), OrDash(approval), reason,
                    OrDash(Field(item, "ticket_pattern"))});
    }
  }
  if (table.Empty()) {
    out << "Nothing to request.\n";
  } else {
    table.Print(out);
  }
}

void PrintWhoami(const json& me, std::ostream& out) {
  PrintLines({{"Username", OrDash(Field(me, "username"))},
              {"Groups", OrDash(JoinStrings(Member(me, "groups"), ", "))},
              {"Principal ID", OrDash(Field(me, "principal_id"))},
              {"Roles", OrDash(JoinStrings(Member(me, "roles"), ", "))}},
             out);
}

void PrintAudit(const json& audit, std::ostream& out) {
  Table table({"SEQ", "AT", "ACTOR", "ACTION", "REQUEST", "SEVERITY", "DETAILS"});
  const json& items = Member(audit, "items");
  if (items.is_array()) {
    for (const json& e : items) {
      table.AddRow({Field(e, "seq"), ShortTime(Field(e, "at")), OrDash(Field(e, "actor")),
                    OrDash(Field(e, "action")), OrDash(Field(e, "request_id")),
                    OrDash(Field(e, "severity")), Compact(Member(e, "details"))});
    }
  }
  if (table.Empty()) {
    out << "No audit events.\n";
  } else {
    table.Print(out);
  }
  std::string next = Field(audit, "next_after");
  if (!next.empty()) out << "(next: --after " << EscapeForTerminal(next) << ")\n";
}

void PrintObject(const json& object, std::ostream& out) {
  if (!object.is_object()) {
    out << EscapeForTerminal(Compact(object)) << '\n';
    return;
  }
  std::vector<std::pair<std::string, std::string>> lines;
  for (const auto& [key, value] : object.items()) lines.emplace_back(key, OrDash(Compact(value)));
  PrintLines(lines, out);
}

namespace {

// "0.212s" below a minute, else whole seconds as a duration ("5m", "1h2m3s"); "-" for null.
std::string SecondsLabel(const json& value) {
  if (!value.is_number()) return "-";
  double v = value.get<double>();
  if (v < 60) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3fs", v);
    return buf;
  }
  return FormatDuration(std::chrono::seconds(static_cast<std::int64_t>(v + 0.5)));
}

std::string PercentLabel(const json& value) {
  if (!value.is_number()) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", value.get<double>() * 100.0);
  return buf;
}

// Numbers as JSON text, strings as they are, null as "".
std::string CsvValue(const json& value) { return value.is_null() ? "" : Compact(value); }

constexpr std::string_view kStates[] = {"pending", "approved",  "active",    "revoking", "ended",
                                        "denied",  "cancelled", "timed_out", "failed"};

}  // namespace

void PrintReport(const json& summary, std::ostream& out) {
  const json& requests = Member(summary, "requests");
  out << "Requests created " << EscapeForTerminal(ShortTime(Field(summary, "since"))) << " to "
      << EscapeForTerminal(ShortTime(Field(summary, "until"))) << " ("
      << EscapeForTerminal(Field(summary, "window")) << "): " << OrDash(Field(requests, "total"))
      << ", " << OrDash(Field(requests, "open")) << " open\n\n";

  Table states({"STATE", "REQUESTS"});
  const json& by_state = Member(requests, "by_state");
  for (std::string_view st : kStates) states.AddRow({std::string(st), OrDash(Field(by_state, st))});
  states.Print(out);
  out << '\n';

  Table timing({"FIGURE", "COUNT", "P50", "P95", "P99", "MAX"});
  for (const auto& [key, label] : std::vector<std::pair<std::string_view, std::string>>{
           {"time_to_approve", "time to approve"},
           {"approval_to_active", "approval to active"},
           {"revoke_lag", "revoke lag"}}) {
    const json& f = Member(summary, key);
    timing.AddRow({label, OrDash(Field(f, "count")), SecondsLabel(Member(f, "p50_seconds")),
                   SecondsLabel(Member(f, "p95_seconds")), SecondsLabel(Member(f, "p99_seconds")),
                   SecondsLabel(Member(f, "max_seconds"))});
  }
  timing.Print(out);
  out << '\n';

  const json& lag = Member(summary, "revoke_lag");
  const json& glass = Member(summary, "break_glass");
  const json& decisions = Member(summary, "decisions");
  PrintLines(
      {{"Ended later than the objective (" + SecondsLabel(Member(lag, "objective_seconds")) + ")",
        OrDash(Field(lag, "ended_late"))},
       {"Expired, still being revoked, past it", OrDash(Field(lag, "overdue_now"))},
       {"Break-glass uses", OrDash(Field(glass, "uses"))},
       {"Break-glass reviews open", OrDash(Field(glass, "open_reviews"))},
       {"Decided (needed an approval)", OrDash(Field(decisions, "decided"))},
       {"Denial rate", PercentLabel(Member(decisions, "denial_rate"))},
       {"Time-out rate", PercentLabel(Member(decisions, "timeout_rate"))}},
      out);

  const json& top = Member(summary, "top");
  struct List {
    std::string_view key;
    const char* header;
  };
  for (const List& list : {List{"requesters", "REQUESTER"}, List{"accounts", "ACCOUNT"},
                           List{"permission_sets", "PERMISSION SET"}}) {
    out << '\n';
    Table t({list.header, "REQUESTS"});
    const json& items = Member(top, list.key);
    if (items.is_array()) {
      for (const json& e : items) {
        std::string name = list.key == "accounts" ? AccountLabel(e) : Field(e, "name");
        t.AddRow({OrDash(name), OrDash(Field(e, "requests"))});
      }
    }
    if (t.Empty()) t.AddRow({"-", "0"});
    t.Print(out);
  }
}

std::string CsvField(std::string_view text) {
  std::string cell = EscapeForTerminal(text);
  if (!cell.empty() && (cell[0] == '=' || cell[0] == '+' || cell[0] == '-' || cell[0] == '@')) {
    cell.insert(cell.begin(), '\'');
  }
  bool quote = cell.find_first_of(",\"") != std::string::npos ||
               (!cell.empty() && (cell.front() == ' ' || cell.back() == ' '));
  if (!quote) return cell;
  std::string out = "\"";
  for (char c : cell) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

void PrintReportCsv(const json& summary, std::ostream& out) {
  auto row = [&out](std::string_view section, std::string_view name, std::string_view id,
                    const std::string& value) {
    out << CsvField(section) << ',' << CsvField(name) << ',' << CsvField(id) << ','
        << CsvField(value) << '\n';
  };
  row("section", "name", "id", "value");
  for (const char* key : {"since", "until", "window"}) row("window", key, "", Field(summary, key));
  const json& requests = Member(summary, "requests");
  row("requests", "total", "", CsvValue(Member(requests, "total")));
  row("requests", "open", "", CsvValue(Member(requests, "open")));
  const json& by_state = Member(requests, "by_state");
  for (std::string_view st : kStates) row("by_state", st, "", CsvValue(Member(by_state, st)));
  for (const char* section :
       {"time_to_approve", "approval_to_active", "revoke_lag", "break_glass", "decisions"}) {
    const json& f = Member(summary, section);
    if (!f.is_object()) continue;
    for (const auto& [name, value] : f.items()) row(section, name, "", CsvValue(value));
  }
  const json& top = Member(summary, "top");
  for (const auto& [key, section] : std::vector<std::pair<std::string_view, std::string_view>>{
           {"requesters", "top_requesters"},
           {"accounts", "top_accounts"},
           {"permission_sets", "top_permission_sets"}}) {
    const json& items = Member(top, key);
    if (!items.is_array()) continue;
    for (const json& e : items) {
      std::string id = key == "accounts" ? Field(e, "id") : Field(e, "arn");
      row(section, Field(e, "name"), id, CsvValue(Member(e, "requests")));
    }
  }
}

}  // namespace jit::cli
