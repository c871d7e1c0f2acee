// Fuzzes the parser of threat findings as EventBridge delivers them to POST /v1/findings
// (findings::ParseEvent), the rules' decision on what parses (findings::Decide), and the glob
// matcher of findings.types. The first byte picks what the rest is:
//   0: an event body: ParseEvent, then Decide under the default rules and under a few globs;
//   1: a glob and a text, split at the first NUL byte: GlobMatch.
// What must hold (a violation aborts): a refused event is InvalidArgument with a message; a
// parsed event has an event id and 1..kMaxFindingsPerEvent findings, each with an id, at least
// one non-empty type, a severity text, and principals that are unique, non-empty and without
// white space at either end; Decide acts exactly when the severity is at or above the bar (the
// default rules: any type) and says why when it does not; GlobMatch is true for "*" and for a
// text without '*' matched against itself, and "*" + text + "*" matches the text.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "findings/finding.h"
#include "findings/settings.h"

namespace {

using jit::findings::Decide;
using jit::findings::Decision;
using jit::findings::Finding;
using jit::findings::GlobMatch;
using jit::findings::Settings;

[[noreturn]] void Fail(const std::string& why) {
  (void)std::fprintf(stderr, "findings_fuzzer: %s\n", why.c_str());
  std::abort();
}

bool Blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

void CheckEvent(std::string_view body) {
  auto event = jit::findings::ParseEvent(body);
  if (!event.has_value()) {
    if (event.error().code() != jit::StatusCode::kInvalidArgument) {
      Fail("a refusal is not InvalidArgument: " + event.error().ToString());
    }
    if (event.error().message().empty()) Fail("a refusal has no message");
    return;
  }
  if (event->event_id.empty()) Fail("a parsed event has no id");
  if (event->findings.empty() || event->findings.size() > jit::findings::kMaxFindingsPerEvent) {
    Fail("a parsed event has " + std::to_string(event->findings.size()) + " findings");
  }
  Settings rules;
  rules.line = 1;
  Settings typed = rules;
  typed.types = {"UnauthorizedAccess:*", "*IAMUser*"};
  for (const Finding& f : event->findings) {
    if (f.id.empty()) Fail("a finding has no id");
    if (f.types.empty()) Fail("a finding has no type");
    for (const std::string& t : f.types) {
      if (t.empty()) Fail("a finding has an empty type");
    }
    if (f.severity_text.empty()) Fail("a finding has no severity text");
    std::set<std::string> seen;
    for (const std::string& p : f.principals) {
      if (p.empty()) Fail("an empty principal");
      if (Blank(p.front()) || Blank(p.back())) Fail("a principal with white space: " + p);
      if (!seen.insert(p).second) Fail("a principal twice: " + p);
    }
    Decision d = Decide(rules, f);
    if (d.act != (f.severity >= rules.min_severity)) Fail("Decide does not follow the severity");
    if (!d.act && d.why_not.empty()) Fail("Decide refuses without saying why");
    if (d.act && !d.why_not.empty()) Fail("Decide acts and says why not");
    Decision t = Decide(typed, f);
    if (t.act && !d.act) Fail("a type filter let through what the severity stopped");
  }
}

void CheckGlob(std::string_view rest) {
  std::size_t nul = rest.find('\0');
  std::string_view pattern = rest.substr(0, nul);
  std::string_view text = nul == std::string_view::npos ? rest : rest.substr(nul + 1);
  (void)GlobMatch(pattern, text);
  if (!GlobMatch("*", text)) Fail("'*' does not match everything");
  if (text.find('*') == std::string_view::npos && !GlobMatch(text, text)) {
    Fail("a text without '*' does not match itself");
  }
  if (!GlobMatch("*" + std::string(text) + "*", text) && text.find('*') == std::string_view::npos) {
    Fail("*text* does not match the text");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    CheckEvent(rest);
  } else {
    CheckGlob(rest);
  }
  return 0;
}
