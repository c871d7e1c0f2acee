#pragma once
// Shared by the notify tests only.

#include <string>
#include <vector>

#include "config/reader.h"
#include "core/clock.h"
#include "notify/channel_config.h"
#include "notify/notify.h"

namespace jit::notify::testing {

// The channels of a YAML document that holds only a `notify:` section, parsed as
// config::ParseConfig parses that section of a config file.
inline Result<std::vector<ChannelConfig>> ParseNotifySection(const std::string& yaml,
                                                             const std::string& file) {
  std::vector<ChannelConfig> out;
  JIT_RETURN_IF_ERROR(config::ReadDocument(yaml, file, {"notify"},
                                           [&](const config::Fields& top, config::Reader& r) {
                                             if (const config::Field* f = top.Get("notify"))
                                               out = ParseChannels(*f, r);
                                           }));
  return out;
}

// A pending prod/Admin request by alice, as the workflow would hand it over.
inline model::Request SampleRequest(Time now) {
  model::Request r;
  r.id = "req_01JD3Q8W5C2M7X9K4T6B1N0R8P";
  r.requester = "alice";
  r.principal_id = "a1b2c3d4-0000-4000-8000-000000000001";
  r.account_id = "222222222222";
  r.account_name = "prod";
  r.permission_set_name = "Admin";
  r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
  r.duration_seconds = 3600;
  r.reason = "rotate keys";
  r.ticket = "INC-42";
  r.rule = "prod-admin";
  r.approvals_required = 1;
  r.approver_groups = {"approvers"};
  r.state = model::RequestState::kPending;
  r.created_at = now;
  r.approval_deadline = now + std::chrono::minutes(15);
  return r;
}

inline Message SampleMessage(Event e, Time now) {
  Message m;
  m.event = e;
  m.request = SampleRequest(now);
  m.at = now;
  m.actor = e == Event::kRequestCreated ? "alice" : "bob";
  m.public_url = "https://jit.example.com/";
  return m;
}

}  // namespace jit::notify::testing
