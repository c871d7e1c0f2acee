#pragma once
// The `findings:` section of the config file (docs/FINDINGS.md): which threat findings end the
// access of the principal they name, and the rule that decides it.
//
//   findings:
//     min_severity: HIGH                      # LOW | MEDIUM | HIGH | CRITICAL; default HIGH
//     types: ["UnauthorizedAccess:*", "CredentialAccess:*"]   # globs; default: any type

#include <string>
#include <vector>

#include "config/reader.h"
#include "findings/finding.h"

namespace jit::findings {

struct Settings {
  // Findings at or above this severity act; lower ones are audited as ignored.
  Severity min_severity = Severity::kHigh;
  // Globs ('*': any run of characters) of the finding types that act; one of a finding's types
  // must match one of them. Empty: every type.
  std::vector<std::string> types;
  int line = 0;  // of the `findings:` key; 0: the file has no such section (findings are off)

  bool Empty() const { return line == 0; }
};

// Reads `findings: {min_severity, types}`, reporting problems to `reader`. An empty `findings:`
// turns revocation on findings on with the defaults.
Settings ParseSettings(const config::Field& field, config::Reader& reader);

// Whether a finding acts under `settings`, and why not when it does not.
struct Decision {
  bool act = false;
  std::string why_not;  // "severity MEDIUM is below HIGH", "type X matches none of ..."
};
Decision Decide(const Settings& settings, const Finding& finding);

}  // namespace jit::findings
