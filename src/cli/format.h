#pragma once
// Renders the broker's API answers for people (`--output table`). The JSON shapes are those of
// docs/ARCHITECTURE.md "HTTP API". Missing or mistyped fields print as "-"; nothing here throws.

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"

namespace jit::cli {

// Every Print* function below escapes the text it prints (core EscapeForTerminal).

// Columns aligned on the widest cell, two spaces apart, headers first. Cells are printed escaped
// (core EscapeForTerminal): control characters in what users typed never reach the terminal.
class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  // REQUIRES: cells.size() == number of headers (missing cells print empty, extras are dropped).
  void AddRow(std::vector<std::string> cells);
  bool Empty() const { return rows_.empty(); }
  void Print(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// The member `key` of `object`; a null value when `object` is not an object or has no such
// member.
const nlohmann::json& Member(const nlohmann::json& object, std::string_view key);

// The string at `key`: strings as they are, numbers and booleans as JSON text, anything else
// (missing, null, objects) as "".
std::string Field(const nlohmann::json& object, std::string_view key);

// "prod (222222222222)" for an account object {id, name}, or whichever of the two is known.
std::string AccountLabel(const nlohmann::json& account);

// "2026-11-24 09:30:00Z" for an RFC 3339 time; "-" for ""; other text unchanged.
std::string ShortTime(std::string_view rfc3339);

// `{items, next_cursor}` of GET /v1/requests as a table (ID, STATE, REQUESTER, ACCOUNT,
// PERMISSION SET, DURATION, CREATED, EXPIRES).
void PrintRequestList(const nlohmann::json& list, std::ostream& out);

// One request as "Key: value" lines with its approvals and history; when it is active, also
// the time left from `now` until it expires.
void PrintRequest(const nlohmann::json& request, Time now, std::ostream& out);

// GET /v1/catalog as a table.
void PrintCatalog(const nlohmann::json& catalog, std::ostream& out);

// GET /v1/me as "Key: value" lines.
void PrintWhoami(const nlohmann::json& me, std::ostream& out);

// `{items, next_after}` of GET /v1/audit as a table.
void PrintAudit(const nlohmann::json& audit, std::ostream& out);

// GET /v1/reports/summary (docs/OPERATIONS.md "Reports") as tables: requests by state, the
// timing figures, revocation, break-glass and decision figures, the busiest requesters,
// accounts and permission sets.
void PrintReport(const nlohmann::json& summary, std::ostream& out);

// One CSV field (RFC 4180): control characters escaped first (core EscapeForTerminal, so a
// field never holds a line break), then quoted, with quotes doubled, when it holds a comma, a
// quote or a leading or trailing space. Text that a spreadsheet would run as a formula (it
// starts with =, +, -, @) gets a leading apostrophe.
std::string CsvField(std::string_view text);

// GET /v1/reports/summary as CSV: a header "section,name,id,value", then one row per figure
// (empty value for a figure with nothing to measure), e.g. "revoke_lag,p99_seconds,,0.21" and
// "top_accounts,prod,222222222222,7".
void PrintReportCsv(const nlohmann::json& summary, std::ostream& out);

// GET /v1/assignments/standing as a table (ACCOUNT, PERMISSION SET, TYPE, PRINCIPAL, NOTE), or
// "No standing assignments in N account and permission set pairs." when it lists none.
void PrintStanding(const nlohmann::json& standing, std::ostream& out);

// GET /v1/assignments/standing as CSV: a header "account_id,account_name,permission_set,
// permission_set_arn,principal_type,principal_id,principal_name,held_through_jit", then one row
// per assignment (CsvField for each).
void PrintStandingCsv(const nlohmann::json& standing, std::ostream& out);

// GET /v1/requests/{id}/activity (docs/AWS.md "Session activity"): the window and the summary
// as "Key: value" lines, then the events as a table (TIME, SERVICE, EVENT, WRITE, ERROR,
// RESOURCES), newest first, or "No events in the window."
void PrintActivity(const nlohmann::json& activity, std::ostream& out);

// GET /v1/requests/{id}/activity as CSV: a header "event_id,time,event_source,event_name,
// read_only,error_code,region,access_key_id,resources" (resources joined by ';'), then one row
// per event (CsvField for each).
void PrintActivityCsv(const nlohmann::json& activity, std::ostream& out);

// Any JSON object as "key: value" lines (nested values as compact JSON).
void PrintObject(const nlohmann::json& object, std::ostream& out);

}  // namespace jit::cli
