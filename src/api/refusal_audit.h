#pragma once
// Refused calls into the audit trail (issue 15, finding 4): which HTTP answers are refusals that
// matter for security, and how many of them per source are written, so that a flood of bad
// tokens cannot bloat the trail.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "api/handlers.h"
#include "core/clock.h"
#include "core/mutex.h"
#include "workflow/workflow.h"

namespace jit::api {

// Whether an answer is a refusal worth an "access.refused" audit event: 401 (a bad or missing
// token, a bad Slack signature), 403 (a permission or policy refusal, self-approval, a CSRF
// failure, a non-auditor reading the audit trail), 429 (a per-user limit), 409 to POST
// /v1/requests (a duplicate of the requester's open request: the per-user limit
// `refuse_duplicates`), and 404 on a request's path (another's request reads as not found).
// Other 404s (unknown routes) and other 409s (a decision on a request in the wrong state) are not.
bool IsAuditedRefusal(std::string_view method, std::string_view path, int status);

// Writes each audited refusal through Workflow::RecordRefusal, at most `per_source_per_minute`
// per source (the caller's name when known, else the client's address) and `total_per_minute` in
// all per clock minute; the refusals left out are counted and the next event written for that
// source says how many (`suppressed`). Thread-safe: the store write runs outside the lock. A
// failed write is logged and otherwise ignored (the answer stands).
class RefusalAudit {
 public:
  struct Options {
    int per_source_per_minute = 10;
    int total_per_minute = 300;
    std::size_t max_sources = 10000;  // sources remembered; beyond, the oldest windows go
  };

  RefusalAudit(workflow::Workflow& workflow, Clock& clock, Options options);

  // Called once per answered request.
  void Observe(std::string_view method, std::string_view target, std::string_view peer,
               const ApiResponse& response);

  // Refusals written and left out since the start (for tests and metrics).
  std::int64_t written() const;
  std::int64_t suppressed() const;

 private:
  struct Window {
    std::int64_t minute = 0;      // the clock minute counted
    int written = 0;              // events written in it
    std::int64_t suppressed = 0;  // left out since the last one written
  };

  workflow::Workflow& workflow_;
  Clock& clock_;
  const Options options_;
  mutable Mutex mu_;
  std::map<std::string, Window> sources_ GUARDED_BY(mu_);
  Window total_ GUARDED_BY(mu_);
  std::int64_t written_ GUARDED_BY(mu_) = 0;
  std::int64_t suppressed_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::api
