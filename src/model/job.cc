#include "model/job.h"

#include <array>
#include <utility>

namespace jit::model {
namespace {

constexpr std::array<std::pair<JobKind, std::string_view>, 7> kJobKindNames = {{
    {JobKind::kGrant, "grant"},
    {JobKind::kRevoke, "revoke"},
    {JobKind::kApprovalTimeout, "approval_timeout"},
    {JobKind::kNotify, "notify"},
    {JobKind::kCutoff, "session_cutoff"},
    {JobKind::kCutoffLift, "session_cutoff_lift"},
    {JobKind::kActivitySummary, "activity_summary"},
}};

}  // namespace

std::string_view JobKindName(JobKind k) {
  for (const auto& [kind, name] : kJobKindNames) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::optional<JobKind> ParseJobKind(std::string_view name) {
  for (const auto& [kind, n] : kJobKindNames) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

}  // namespace jit::model
