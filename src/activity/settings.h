#pragma once
// The `activity:` section of the config file (docs/AWS.md "Session activity"). A library of its
// own (jit_activity_settings) so that config/ can hold it without depending on the module.

#include <string>

#include "config/reader.h"
#include "core/clock.h"

namespace jit::activity {

// Session activity: the CloudTrail events of each grant's role sessions, read in the target
// account through a read-only role the broker assumes there.
struct Settings {
  // The role assumed in each account: arn:aws:iam::<account>:role/<role_name> (IAM's role name
  // syntax, 1..64 of [\w+=,.@-]). Empty: session activity is off.
  std::string role_name;
  // The RoleSessionName of the broker's sessions (2..64 of [\w+=,.@-]): what the member
  // account's own CloudTrail shows for the broker's LookupEvents calls.
  std::string session_name = "jit-activity";
  // LookupEvents calls a second per account (CloudTrail's quota is 2 per account and region).
  int calls_per_second = 2;  // 1..10
  // How long an answer for a window still open is reused before CloudTrail is asked again.
  Duration live_cache{std::chrono::seconds(30)};  // 1s..1h
  // How long after a window's end its events may still arrive: CloudTrail delivers an event
  // within about 15 minutes of the call. The window is read for good (cached, summarized) only
  // this long after its end.
  Duration settle{std::chrono::minutes(15)};  // 0s..2h
  // The most events kept for one grant; the rest is left out and the answer says "truncated".
  int max_events = 5000;  // 50..50,000
  int line = 0;           // of the `activity:` key (0: no section)

  bool Enabled() const { return !role_name.empty(); }
};

// Reads `activity: {role_name, session_name, calls_per_second, live_cache, settle, max_events}`,
// reporting problems to `reader`. A present section must name the role. A null `activity:` is
// the same as none.
Settings ParseSettings(const config::Field& field, config::Reader& reader);

}  // namespace jit::activity
