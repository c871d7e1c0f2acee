#pragma once
// Which accounts jit manages when the config names accounts of the AWS Organization
// (docs/POLICY.md "Accounts from AWS Organizations"): the config's account sources resolved
// against one snapshot of the organization, and the open requests that the new scope no longer
// covers. Pure functions; thread-safe.

#include <string>
#include <vector>

#include "core/result.h"
#include "model/request.h"
#include "policy/config.h"
#include "provider/organizations.h"

namespace jit::org {

struct Resolution {
  policy::Config config;              // the policy with every account of the scope
  std::vector<std::string> warnings;  // one line each, for the log and `config check --aws`
  // One line per source: "line 12: ou-ab12-cdef3456 (recursive): 150 accounts".
  std::vector<std::string> sources;
};

// `base` (a policy as parsed: the accounts listed in the file and the sources) with the accounts
// the sources name in `snapshot` appended, in the order of the sources, each source's accounts
// sorted by id; an account already listed (in the file or by an earlier source) is not repeated.
// Every account of the result that the organization holds (also those listed in the file)
// gets its OUs (policy::Account::ous, innermost first, the root last), so rules by OU select
// them. An account from the organization is named by its name there, carries its AWS tags as
// "key=value", and SUSPENDED accounts are left out (provider::ResolveAccounts). When its name is
// empty, looks like an account id, or is taken by an account before it, the account is named by
// its id, with a warning. Errors: NotFound "accounts (line N): ..." for an `ou` not in the
// organization; InvalidArgument for a source that names nothing.
Result<Resolution> ResolveScope(const policy::Config& base,
                                const provider::OrganizationSnapshot& snapshot);

// An open request the scope no longer covers, and why.
struct OutOfScope {
  std::string request_id;
  std::string reason;  // "account 222222222222 is no longer in jit's scope", ...
};

// Among `open` (pending, approved or active requests), those `scope` no longer covers: their
// account is not among the scope's accounts, or the rule that admitted them still exists and
// no longer selects the account (an account moved out of the OU or lost the tag the rule names).
// A request whose rule is gone from the config is judged by its account alone.
std::vector<OutOfScope> FindOutOfScope(const policy::Config& scope,
                                       const std::vector<model::Request>& open);

}  // namespace jit::org
