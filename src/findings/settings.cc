#include "findings/settings.h"

#include <optional>
#include <utility>

namespace jit::findings {

Settings ParseSettings(const config::Field& field, config::Reader& reader) {
  Settings out;
  out.line = field.line;
  if (field.value.IsNull()) return out;
  std::optional<config::Fields> fields = reader.Map(field, {"min_severity", "types"});
  if (!fields) return out;
  if (const config::Field* min = fields->Get("min_severity")) {
    if (std::optional<std::string> label = reader.String(*min)) {
      std::optional<Severity> s = ParseSeverity(*label);
      if (!s || *s == Severity::kInformational) {
        reader.Error(min->line, "'min_severity' must be LOW, MEDIUM, HIGH or CRITICAL");
      } else {
        out.min_severity = *s;
      }
    }
  }
  if (const config::Field* types = fields->Get("types")) {
    if (std::optional<std::vector<config::Named>> names = reader.Names(*types)) {
      for (config::Named& n : *names) out.types.push_back(std::move(n.value));
      if (out.types.empty()) {
        reader.Error(types->line, "'types' lists no type; leave it out to act on every type");
      }
    }
  }
  return out;
}

Decision Decide(const Settings& settings, const Finding& finding) {
  Decision d;
  if (finding.severity < settings.min_severity) {
    d.why_not = "severity " + std::string(SeverityName(finding.severity)) + " is below " +
                std::string(SeverityName(settings.min_severity));
    return d;
  }
  if (!settings.types.empty()) {
    bool matched = false;
    for (const std::string& type : finding.types) {
      for (const std::string& pattern : settings.types) {
        if (GlobMatch(pattern, type)) matched = true;
      }
    }
    if (!matched) {
      d.why_not = "its type matches none of findings.types";
      return d;
    }
  }
  d.act = true;
  return d;
}

}  // namespace jit::findings
