// Fuzzes how session activity reads what AWS answers (src/activity/activity.h,
// src/aws/assume_role.h): CloudTrail LookupEvents events, whose CloudTrailEvent record is JSON
// text inside JSON, and STS's AssumeRole XML. Nothing leaves the process. The first byte picks
// the target, the rest is its input:
//   0: one LookupEvents answer ({"Events": [...]}) for activity::Accept, against a fixed grant
//      (alice, 222222222222, permission set Admin) and window;
//   1: an AssumeRoleResponse for aws::ParseAssumeRoleResponse.
// What must hold (a violation aborts): nothing throws or crashes; an accepted event has an id
// and a name, its time is in the window, and its record names alice's session of an
// AWSReservedSSO_Admin_ role in 222222222222; the accepted events survive ActivityJson and
// ActivityFromJson unchanged; parsed credentials have a key id, a secret, a session token and
// an expiration.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "activity/activity.h"
#include "aws/assume_role.h"
#include "core/time_format.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "activity_event_fuzzer: %s\n", why.c_str());
  std::abort();
}

jit::model::Request Grant() {
  jit::model::Request r;
  r.id = "req_01FUZZ";
  r.requester = "alice";
  r.account_id = "222222222222";
  r.permission_set_name = "Admin";
  r.state = jit::model::RequestState::kEnded;
  r.activated_at = jit::ParseRfc3339("2026-12-05T10:00:00Z").value();
  r.ended_at = jit::ParseRfc3339("2026-12-05T11:00:00Z").value();
  return r;
}

void CheckEvents(std::string_view text) {
  json answer = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded()) return;
  static const jit::model::Request r = Grant();
  const jit::activity::Window w{*r.activated_at, *r.ended_at + std::chrono::hours(1), true,
                                "session_duration"};
  jit::activity::Activity a;
  a.request_id = r.id;
  a.window = w;
  a.read_at = w.end;
  const json* events = &answer;
  if (answer.is_object() && answer.contains("Events")) events = &answer["Events"];
  if (!events->is_array()) return;
  for (const json& e : *events) {
    std::optional<jit::activity::Event> ev = jit::activity::Accept(e, r, w);
    if (!ev) continue;
    if (ev->event_id.empty() || ev->event_name.empty()) Fail("accepted an event without id/name");
    if (ev->time < w.start || ev->time > w.end) Fail("accepted an event outside the window");
    json record = json::parse(e.at("CloudTrailEvent").get<std::string>());
    std::string arn = record["userIdentity"]["arn"].get<std::string>();
    const std::string head = "arn:aws:sts::222222222222:assumed-role/AWSReservedSSO_Admin_";
    if (arn.rfind(head, 0) != 0 || arn.size() < 6 || arn.substr(arn.size() - 6) != "/alice") {
      Fail("accepted an event of another session: " + arn);
    }
    a.events.push_back(std::move(*ev));
  }
  json encoded = jit::activity::ActivityJson(a, "cloudtrail");
  jit::Result<jit::activity::Activity> back =
      jit::activity::ActivityFromJson(encoded.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!back.has_value()) Fail("the cached form does not read back: " + back.error().message());
  // Invalid UTF-8 is replaced on the way out, so compare what the cache would hold.
  std::string once = encoded.dump(-1, ' ', false, json::error_handler_t::replace);
  std::string twice = jit::activity::ActivityJson(*back, "cloudtrail")
                          .dump(-1, ' ', false, json::error_handler_t::replace);
  if (once != twice) Fail("the cached form changes on a round trip");
}

void CheckAssumeRole(std::string_view xml) {
  jit::Result<jit::aws::Credentials> c = jit::aws::ParseAssumeRoleResponse(xml);
  if (!c.has_value()) {
    if (c.error().code() != jit::StatusCode::kInvalidArgument) Fail("not InvalidArgument");
    return;
  }
  if (c->access_key_id.empty() || c->secret_access_key.empty() || c->session_token.empty() ||
      !c->expiration) {
    Fail("parsed credentials lack a part");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  if ((data[0] & 1) == 0) {
    CheckEvents(rest);
  } else {
    CheckAssumeRole(rest);
  }
  return 0;
}
