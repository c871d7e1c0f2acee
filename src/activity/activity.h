#pragma once
// Session activity (issue 17 item 2; docs/AWS.md "Session activity"): what a person did with a
// grant, as CloudTrail recorded it. This header holds the pure parts: the window a grant's
// sessions could act in, which CloudTrail events belong to the grant, the summary, and the JSON
// the API answers and the store caches.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "model/audit_event.h"
#include "model/request.h"

namespace jit::activity {

// One CloudTrail event of the grant's sessions, as jit shows it.
struct Event {
  std::string event_id;
  Time time;
  std::string event_name;    // "ListBuckets"
  std::string event_source;  // "s3.amazonaws.com"
  bool read_only = true;
  std::string error_code;  // "" when the call succeeded
  std::string region;      // awsRegion
  std::string access_key_id;
  std::vector<std::string> resources;  // ResourceName of each resource
};

// The time the grant's role sessions could act in: from the grant's start (activated_at) until
// its end plus the permission set's session duration (sessions opened just before the end live
// that long), or until the session cut-off, when cut-off denied them earlier.
struct Window {
  Time start;
  Time end;  // for an open window: now
  // The end has passed by `settle` (WindowOf): CloudTrail has delivered every event of it, and
  // nothing can be added any more.
  bool closed = false;
  // Why the window ends where it does: "open" (the grant is active, or its sessions may still
  // act), "session_duration" or "session_cutoff".
  std::string ends_by;
};

// The window of `r` at `now`, given its permission set's session duration and its history
// (a "session.cutoff.applied" event ends it at that event's time when earlier). Once the end
// has passed, `end` is the end; the window is closed only `settle` later (CloudTrail's delivery
// delay). FailedPrecondition when the request was never active or is a group membership (no
// account to read).
Result<Window> WindowOf(const model::Request& r, const std::vector<model::AuditEvent>& history,
                        Duration session_duration, Time now, Duration settle = Duration(0));

// The prefix of the role an Identity Center permission set becomes in an account,
// "AWSReservedSSO_<name>_"; the assumed-role ARNs of the grant's sessions are
// arn:aws:sts::<account>:assumed-role/AWSReservedSSO_<name>_<suffix>/<user>.
std::string ReservedRolePrefix(std::string_view permission_set_name);

// The event, when a LookupEvents event (its Events[] member) belongs to the grant of `r` in
// `window`: its CloudTrailEvent's userIdentity.arn is `r`'s requester's session of the
// permission set's role in `r`'s account, and its time is in the window (both ends included).
// nullopt for anything else, malformed events included (CloudTrail's answer is not trusted).
std::optional<Event> Accept(const nlohmann::json& lookup_event, const model::Request& r,
                            const Window& window);

// What the audit trail keeps when the window closes.
struct Summary {
  std::int64_t events = 0;
  std::vector<std::string> services;  // event sources, sorted, once each
  std::int64_t write_calls = 0;       // events that are not read-only
  std::int64_t errors = 0;            // events with an error code
};
Summary Summarize(const std::vector<Event>& events);
nlohmann::json SummaryJson(const Summary& s);

// A grant's activity.
struct Activity {
  std::string request_id;
  Window window;
  std::vector<Event> events;  // newest first
  bool truncated = false;     // more events than Settings::max_events: the oldest left out
  Time read_at;               // when CloudTrail was read
};

// {"request_id", "window": {"start", "end", "closed", "ends_by"}, "read_at", "truncated",
//  "summary": SummaryJson, "events": [{"event_id", "time", "event_name", "event_source",
//  "read_only", "error_code" (null when none), "region", "access_key_id", "resources"}]}.
// Times are RFC 3339. `source` ("cloudtrail" or "cache") says where this answer came from.
nlohmann::json ActivityJson(const Activity& a, std::string_view source);
// The inverse of ActivityJson (the store's cached copy). InvalidArgument when malformed.
Result<Activity> ActivityFromJson(std::string_view text);

}  // namespace jit::activity
