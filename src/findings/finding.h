#pragma once
// Threat findings as EventBridge delivers them to an API destination (docs/FINDINGS.md): the
// event envelope ({"version", "id", "detail-type", "source", "account", "time", "region",
// "resources", "detail"}) around a GuardDuty finding ("GuardDuty Finding", source
// "aws.guardduty") or a batch of Security Hub findings in the AWS Security Finding Format
// ("Security Hub Findings - Imported", source "aws.securityhub", detail.findings[]).
//
// Pure: parsing and the names a finding gives for the principal it is about. What jit does with
// a finding is workflow::Workflow::ActOnFindings; which findings act is findings/rules.h.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace jit::findings {

enum class Source { kGuardDuty, kSecurityHub };
// "guardduty", "securityhub".
std::string_view SourceName(Source s);

// Severity labels, lowest first (ASFF Severity.Label; GuardDuty's numbers map onto them).
enum class Severity { kInformational, kLow, kMedium, kHigh, kCritical };
// "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL".
std::string_view SeverityName(Severity s);
// The label, in any case; nullopt for anything else.
std::optional<Severity> ParseSeverity(std::string_view label);
// GuardDuty's severity number (0.0-10.0): below 4 LOW, below 7 MEDIUM, below 9 HIGH, else
// CRITICAL (GuardDuty's own bands; 0 is LOW too).
Severity FromGuardDutyScore(double score);
// ASFF Severity.Normalized (0-100) where a finding gives no label: 0 INFORMATIONAL, 1-39 LOW,
// 40-69 MEDIUM, 70-89 HIGH, 90-100 CRITICAL (the bands of the ASFF documentation).
Severity FromNormalized(double normalized);

// One finding, reduced to what jit decides and audits from. Strings are as the finding wrote
// them (untrusted: escape them before people read them).
struct Finding {
  Source source = Source::kGuardDuty;
  std::string id;  // GuardDuty detail.id, or the ASFF Id
  // GuardDuty: its one type ("UnauthorizedAccess:IAMUser/MaliciousIPCaller"); ASFF: Types[]
  // ("TTPs/Initial Access/UnauthorizedAccess:IAMUser-ConsoleLogin"), in order.
  std::vector<std::string> types;
  Severity severity = Severity::kInformational;
  std::string severity_text;  // as given: "8.5" (GuardDuty) or "HIGH" (ASFF)
  std::string title;
  std::string account;  // the AWS account the finding is in
  std::string region;
  // Every name the finding gives for the principal it is about, each once, in the order found:
  // user names (IAM user, access key principal name), role session names (the part of an
  // assumed role's principal id after ':', the last part of an assumed-role ARN), and ids
  // given as such. For an Identity Center session the role session name is the username.
  std::vector<std::string> principals;
};

// One delivery: the event and the findings it carries (GuardDuty: one; Security Hub: one or
// more).
struct Event {
  std::string event_id;     // the EventBridge event id ("id")
  std::string detail_type;  // "GuardDuty Finding" | "Security Hub Findings - Imported"
  Source source = Source::kGuardDuty;
  std::vector<Finding> findings;  // never empty
};

// The most bytes one event may have (EventBridge's limit on an event is 256 KiB).
inline constexpr std::size_t kMaxEventBytes = 256 * 1024;
// The most findings one Security Hub event may carry here (EventBridge sends up to 100).
inline constexpr std::size_t kMaxFindingsPerEvent = 100;

// Parses one delivery. InvalidArgument with a message naming the field for anything else: not
// JSON, too big, another source or detail-type (or the two disagreeing), no event id, a finding
// without an id, a type or a severity, more than kMaxFindingsPerEvent findings.
Result<Event> ParseEvent(std::string_view body);

// True when `pattern` matches all of `text`: '*' stands for any run of characters (also none),
// everything else for itself, case-sensitively.
bool GlobMatch(std::string_view pattern, std::string_view text);

// True when `s` has the shape of an Identity Center (identity store) user id: a UUID in lower
// case, optionally after ten hex digits and '-' ("9067d1a2f0-0d0b6a5c-...").
bool LooksLikeUserId(std::string_view s);

}  // namespace jit::findings
