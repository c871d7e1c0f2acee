#pragma once
// Whether an assignment exists in Identity Center before jit creates it (the standing-access
// check of a grant), with one listing of an (account, permission set) reused across a burst of
// grants.

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "core/clock.h"
#include "core/mutex.h"
#include "core/result.h"
#include "core/thread_annotations.h"
#include "provider/provider.h"

namespace jit::workflow {

// A grant with no ledger entry asks Identity Center whether the user holds the assignment
// already (standing access, which jit must never delete). Asking costs ListAccountAssignments
// of the whole (account, permission set), one call per 100 assignments; a burst of grants for
// distinct users of one target would list it once per grant (issue 18: Identity Center calls
// per lifecycle).
//
// So a listing answers "absent" for up to `reuse` after it started, for every principal it
// does not name; concurrent checks of one target wait for the listing under way rather than
// start their own. "Present" is never taken from an earlier listing: it is asked again, so that
// an assignment jit itself held (and has deleted since) is never taken for standing access.
// The cost of the reuse: an assignment made outside jit less than `reuse` before a grant's check
// may be taken for absent, so that jit treats it as its own and deletes it when the grant ends
// (without the reuse the window is the time between the listing and the create). `reuse` of
// zero lists on every check. Listings of other callers (the reconciler, cut-off) are not
// affected.
//
// Errors are the provider's ListAssignments errors, passed on. Thread-safe.
class PresenceCheck {
 public:
  // `provider` and `clock` must outlive this object.
  PresenceCheck(provider::Provider& provider, Clock& clock, Duration reuse);

  // Whether Identity Center has `a` (USER principal), as described above.
  Result<bool> Exists(const provider::Assignment& a) EXCLUDES(mu_);

  // Listings made so far (for tests).
  std::int64_t listings() const EXCLUDES(mu_);

 private:
  using Key = std::pair<std::string, std::string>;  // account id, permission set ARN
  struct Target {
    bool listed = false;      // `started` and `principals` hold a finished listing
    std::int64_t number = 0;  // that listing's place among all listings (1, 2, ...)
    MonoTime started;         // when it was asked for
    std::set<std::string> principals;
    bool listing = false;  // a caller is listing the target now
  };

  // Lists the target and records the answer as its latest listing (the `number`th, asked for
  // at `started`); returns the principals. REQUIRES: the caller marked the target `listing`.
  Result<std::set<std::string>> List(const Key& key, MonoTime started, std::int64_t number)
      EXCLUDES(mu_);
  // Forgets targets whose listing has aged past `reuse` once there are many of them.
  void Prune(MonoTime now) REQUIRES(mu_);

  provider::Provider& provider_;
  Clock& clock_;
  const Duration reuse_;
  mutable Mutex mu_;
  CondVar cv_;
  std::map<Key, Target> targets_ GUARDED_BY(mu_);
  std::int64_t listings_ GUARDED_BY(mu_) = 0;
};

}  // namespace jit::workflow
