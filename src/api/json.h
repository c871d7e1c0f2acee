#pragma once
// The API's JSON shapes (docs/ARCHITECTURE.md "HTTP API"): request objects, audit events, catalog
// entries and error bodies. Pure functions; nothing here throws.

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "audit/trail.h"
#include "core/result.h"
#include "model/audit_event.h"
#include "model/request.h"
#include "model/request_json.h"
#include "policy/config.h"
#include "policy/policy.h"
#include "workflow/workflow.h"

namespace jit::api {

// A request object is model::RequestToJson (model/request_json.h): notifications carry the
// same object.

// model::RequestToJson plus "history": [{seq, at, actor, action, severity, details}].
nlohmann::json RequestViewToJson(const workflow::RequestView& v);

// One audit event: {seq, at, actor, action, request_id (null when empty), severity, details
// (the parsed object), prev_hash, hash}.
nlohmann::json AuditEventToJson(const model::AuditEvent& e);

// One catalog item: {account {id, name, tags}, permission_set {name, arn}, rule, max_duration,
// max_duration_seconds, min_duration_seconds, approval ("auto", "approvers" or "break_glass"),
// approvals_required, reason_required, reason_min_length, ticket_pattern (null when none),
// hours (the allowed hours, e.g. "mon-fri 08:00-18:00 Europe/Berlin"; null: any time),
// schedule_window_seconds (how far ahead start_at may be; 0: at once only)}.
nlohmann::json CatalogEntryToJson(const policy::CatalogEntry& e);

// What GET /v1/catalog answers, as text: exactly Dump({"items": [CatalogEntryToJson(e)...]}),
// written without building the JSON values (a user with thousands of entries would wait tens of
// milliseconds for them; bench/catalog_bench.cc). Each account's, permission set's and string's
// text is made once.
std::string CatalogJsonText(const std::vector<policy::CatalogEntry>& entries);

// What GET /v1/catalog?view=compact answers: the same entries with each account, permission set
// and set of terms written once: {"accounts": [...], "items": [[account, permission set, terms]
// (indexes into the three lists)...], "permission_sets": [...], "terms": [...]}, where a terms
// object is a CatalogEntryToJson object without "account" and "permission_set". Expanding every
// item so gives CatalogJsonText's items, in order. A user who may request 2,000 accounts with 50
// permission sets each gets a few megabytes instead of 46 (docs/PERFORMANCE.md "Catalog and
// explain at scale").
std::string CatalogCompactJsonText(const std::vector<policy::CatalogEntry>& entries);

// What GET /v1/audit/verify answers: {ok, events, last_seq, last_hash, checkpoints,
// latest_checkpoint ({seq, hash, at, key_id} or null), first_bad_seq, problem, why (null when
// ok), warnings}.
nlohmann::json TrailReportToJson(const audit::TrailReport& r);

// What GET /v1/reports/summary answers (workflow/report.h; docs/OPERATIONS.md "Reports"):
// {since, until (RFC 3339), window ("30d"), requests {total, open, by_state {state: n} for all
// nine states}, time_to_approve {count, p50_seconds, p95_seconds}, approval_to_active {same},
// revoke_lag {count, p50_seconds, p99_seconds, max_seconds, objective_seconds, ended_late,
// overdue_now}, break_glass {uses, open_reviews}, decisions {decided, denial_rate,
// timeout_rate}, top {requesters [{name, requests}], accounts [{id, name, requests}],
// permission_sets [{name, arn, requests}]}}. Seconds are rounded to milliseconds; percentiles
// are null when their count is 0, rates null when nothing was decided.
nlohmann::json ReportSummaryToJson(const workflow::ReportSummary& s, Duration window);

// {"error": {"code": code, "message": message}}.
nlohmann::json ErrorJson(std::string_view code, std::string_view message);

// Parses a request body that must be a JSON object. An empty body reads as {}. InvalidArgument
// (with a message safe to show) for malformed JSON or anything but an object.
Result<nlohmann::json> ParseJsonObject(std::string_view body);

// Serializes for the wire; invalid UTF-8 in strings is replaced, never thrown about.
std::string Dump(const nlohmann::json& j);

}  // namespace jit::api
