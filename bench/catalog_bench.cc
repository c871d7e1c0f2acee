// Catalog and explain at scale (issue 16 item 5; docs/PERFORMANCE.md "Catalog and explain at
// scale"): a policy of 2,000 accounts, 50 permission sets and about 100 rules of the shapes real
// configs have (by account names, by tags, `all: true`; requester and approver groups, listed
// users, tickets, hours), and 20,000 users spread over team, on-call, lead and other groups.
// Generated as YAML and read with policy::ParseConfig, as `jit serve` reads its file. Measures,
// in-process, with p50/p99/max over many users:
//
//   parse          policy::ParseConfig of the whole YAML
//   catalog        policy::Catalog for one user (what GET /v1/catalog and the UI's request form
//                  start from)
//   catalog_api    GET /v1/catalog through the real ApiHandler (routing, authentication by a
//                  bench authenticator, Catalog, CatalogEntryToJson, the JSON text): what the UI's
//                  request form and `jit catalog` wait for, less the network
//   catalog_cli    `jit catalog`'s side: the JSON text parsed and printed by cli::PrintCatalog into
//                  a string stream
//   explain        policy::Explain for one (user, account, permission set)
//   explain_api    POST /v1/policy/explain through the real ApiHandler (what `jit policy explain`
//                  waits for, less the network): Explain, ToJson, ToText, the JSON text
//
// and the catalog of a user who may request everything (every account with every permission
// set): its entries, the bytes of its JSON and the time of each step for it.
//
// Goals (checked, and stated in docs/PERFORMANCE.md): catalog_api for one user p99 < 50 ms (a
// page that answers within 50 ms feels immediate; the catalog is fetched on every visit of the
// request form), explain p99 < 5 ms (a dry run someone types at a prompt, and the API answers it
// for every call), parse < 1 s (the config is read at start and on every SIGHUP, while requests
// wait on nothing but may not see the new policy until it is read).
//
//   catalog_bench [--accounts N] [--permission-sets N] [--users N] [--teams N]
//                 [--sample N] [--explains N] [--parses N] [--seed N] [--dump DIR]
//
// --dump DIR writes DIR/typical.json (the answer of a sampled user with the median number of
// entries) and DIR/everything.json, for bench/catalog_form.mjs, which times the UI's request
// form on them in Chromium.
//
// Output: one JSON line on stdout (the suite's shape, bench/suite/suite.py scenario "catalog");
// a readable table on stderr. Exit 1 when a goal is missed, 2 on bad arguments.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"
#include "api/json.h"
#include "auth/auth.h"
#include "cli/format.h"
#include "core/clock.h"
#include "policy/config.h"
#include "policy/explain.h"
#include "policy/policy.h"
#include "provider/fake_provider.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace {

using namespace jit;  // NOLINT(google-build-using-namespace): a small program
using nlohmann::json;

struct Args {
  int accounts = 2000;
  int permission_sets = 50;
  int users = 20000;
  int teams = 20;
  int sample = 400;  // users whose catalog is measured, drawn at random
  int explains = 4000;
  int parses = 5;
  unsigned seed = 42;
  std::string dump;  // a folder to write two GET /v1/catalog answers into (bench/catalog_form.mjs)
};

// Goals (the header says why).
constexpr double kCatalogGoalMs = 50;
constexpr double kExplainGoalMs = 5;
constexpr double kParseGoalMs = 1000;

// Permission sets that rules name; the rest (up to --permission-sets) are team deploy roles and
// operations roles that only their team's rules and the everything-rule name.
constexpr const char* kCommonSets[] = {
    "ReadOnly",      "ViewOnly",     "Admin",         "PowerUser",   "Billing",
    "SecurityAudit", "NetworkAdmin", "DatabaseAdmin", "SupportUser", "DataScientist"};

std::string Env(int account) {
  int k = account % 10;
  return k < 4 ? "prod" : k < 7 ? "staging" : "dev";
}
int TeamOf(int account, int teams) { return (account / 10) % teams; }
std::string AccountName(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "acct-%04d-%s", i, Env(i).c_str());
  return buf;
}
std::string AccountId(int i) {
  // Made-up 12-digit ids, far from any real one's shape: 900000000001, ...
  char buf[16];
  std::snprintf(buf, sizeof buf, "9%011d", i + 1);
  return buf;
}
std::string Team(int t) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "team-%02d", t);
  return buf;
}
std::string Username(int i) { return "user" + std::to_string(i); }

std::vector<std::string> PermissionSetNames(const Args& a) {
  std::vector<std::string> out(std::begin(kCommonSets), std::end(kCommonSets));
  for (int t = 0; static_cast<int>(out.size()) < a.permission_sets; ++t) {
    out.push_back((t % 2 == 0 ? "Deploy-" : "Ops-") + Team(t / 2 % a.teams));
    if (t >= 2 * a.teams) out.back() += "-" + std::to_string(t);
  }
  out.resize(static_cast<std::size_t>(a.permission_sets));
  return out;
}

std::string List(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const std::string& s : v) out += (out.size() > 1 ? ", " : "") + s;
  return out + "]";
}

// The config: accounts, permission sets and rules (docs/POLICY.md), about 100 rules: 4 global
// and 5 per team.
std::string ConfigYaml(const Args& a, std::vector<std::string>* ps_names) {
  std::string y = "admins: {groups: [jit-admins]}\nauditors: {groups: [jit-auditors]}\n";
  y += "accounts:\n";
  for (int i = 0; i < a.accounts; ++i) {
    y += "  - {id: \"" + AccountId(i) + "\", name: " + AccountName(i) + ", tags: [" + Env(i) +
         ", " + Team(TeamOf(i, a.teams)) + (i % 20 == 0 ? ", pci" : "") + "]}\n";
  }
  *ps_names = PermissionSetNames(a);
  y += "permission_sets:\n";
  for (std::size_t i = 0; i < ps_names->size(); ++i) {
    char arn[96];
    std::snprintf(arn, sizeof arn, "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-%016zx",
                  i + 1);
    y += "  - {name: " + (*ps_names)[i] + ", arn: \"" + arn + "\", max_duration: " +
         (i % 3 == 0   ? "1h"
          : i % 3 == 1 ? "4h"
                       : "12h") +
         "}\n";
  }
  y += "rules:\n";
  y += "  - {name: readonly-everywhere, requesters: {groups: [engineers]}, accounts: {all: true},\n"
       "     permission_sets: [ReadOnly, ViewOnly], max_duration: 8h, approval: auto}\n"
       "  - {name: break-glass, requesters: {groups: [sre]}, accounts: {all: true},\n"
       "     permission_sets: [Admin], max_duration: 1h, reason: required, break_glass: true}\n"
       "  - {name: security-audit, requesters: {groups: [security]}, accounts: {all: true},\n"
       "     permission_sets: [SecurityAudit, ReadOnly], max_duration: 12h, approval: auto}\n"
       "  - {name: cloud-admins, requesters: {groups: [cloud-admins]}, accounts: {all: true},\n"
       "     permission_sets: " +
       List(*ps_names) +
       ",\n"
       "     max_duration: 4h, reason_min_length: 20,\n"
       "     approval: {approvers: {groups: [cloud-admins, jit-admins]}, required: 1}}\n";
  for (int t = 0; t < a.teams; ++t) {
    std::string team = Team(t);
    std::vector<std::string> prod;  // the team's prod accounts, by name
    for (int i = 0; i < a.accounts; ++i) {
      if (TeamOf(i, a.teams) == t && Env(i) == "prod") prod.push_back(AccountName(i));
    }
    std::vector<std::string> leads;  // a few users listed by name beside the leads group
    for (int k = 0; k < 10; ++k) leads.push_back(Username((t + a.teams * k * 97) % a.users));
    std::string deploy = "Deploy-" + team, ops = "Ops-" + team;
    auto has = [&](const std::string& n) {
      return std::find(ps_names->begin(), ps_names->end(), n) != ps_names->end();
    };
    std::string team_sets = (has(deploy) ? ", " + deploy : "") + (has(ops) ? ", " + ops : "");
    y += "  - name: " + team + "-dev\n    requesters: {groups: [" + team +
         "]}\n    accounts: {tags: [dev]}\n    permission_sets: [PowerUser, DataScientist" +
         team_sets + "]\n    max_duration: 8h\n    approval: auto\n";
    y += "  - name: " + team + "-staging\n    requesters: {groups: [" + team +
         "]}\n    accounts: {tags: [staging]}\n    permission_sets: [PowerUser" + team_sets +
         "]\n    max_duration: 4h\n    reason: required\n    approval: {approvers: {groups: [" +
         team + "-leads]}, required: 1, timeout: 30m}\n";
    if (!prod.empty()) {
      y += "  - name: " + team + "-prod-deploy\n    requesters: {groups: [" + team +
           "-oncall]}\n    accounts: {names: " + List(prod) +
           "}\n    permission_sets: [DatabaseAdmin" + team_sets +
           "]\n    max_duration: 2h\n    reason_min_length: 20\n"
           "    ticket: \"^(INC|CHG)-[0-9]+$\"\n"
           "    approval: {approvers: {groups: [" +
           team + "-leads, sre]}, required: 1, timeout: 15m}\n";
      y += "  - name: " + team + "-prod-admin\n    requesters: {users: " + List(leads) +
           ", groups: [" + team + "-leads]}\n    accounts: {names: " + List(prod) +
           "}\n    permission_sets: [Admin, NetworkAdmin]\n    max_duration: 1h\n"
           "    reason: required\n"
           "    hours: {days: [mon, tue, wed, thu, fri], from: \"07:00\", to: \"20:00\", "
           "timezone: Europe/Berlin}\n"
           "    approval: {approvers: {groups: [" +
           team + "-leads, cloud-admins]}, required: 2, timeout: 1h}\n";
    }
    y += "  - name: " + team + "-billing\n    requesters: {groups: [" + team +
         "-leads]}\n    accounts: {tags: [" + team +
         "]}\n    permission_sets: [Billing, SupportUser]\n    max_duration: 12h\n"
         "    approval: auto\n";
  }
  return y;
}

// User i's identity: engineers; one team (a tenth in a second one); on-call, leads, sre,
// security and cloud-admins by share; and 5 to 20 groups of the identity provider that no rule
// names (offices, departments, mailing lists), as real tokens carry.
model::Identity UserIdentity(int i, const Args& a) {
  model::Identity who;
  who.username = Username(i);
  std::mt19937 rng(static_cast<unsigned>(i) * 2654435761u + a.seed);
  int team = i % a.teams;
  who.groups.push_back("engineers");
  who.groups.push_back(Team(team));
  if (i % 10 == 3) who.groups.push_back(Team((team + 7) % a.teams));
  if (rng() % 100 < 15) who.groups.push_back(Team(team) + "-oncall");
  if (rng() % 100 < 3) who.groups.push_back(Team(team) + "-leads");
  if (i % 100 == 1) who.groups.push_back("sre");
  if (i % 200 == 2) who.groups.push_back("security");
  if (i % 1000 == 0) who.groups.push_back("cloud-admins");
  int noise = 5 + static_cast<int>(rng() % 16);
  for (int k = 0; k < noise; ++k) who.groups.push_back("idp-group-" + std::to_string(rng() % 500));
  char principal[40];
  std::snprintf(principal, sizeof principal, "be7c0000-0000-4000-8000-%012d", i);
  who.principal_id = principal;
  return who;
}

// Accepts "u<index>" tokens as that user; no hashing, so that the figures are the handler's.
class BenchAuthenticator final : public auth::Authenticator {
 public:
  BenchAuthenticator(const std::vector<model::Identity>& users) : users_(users) {}
  Result<model::Identity> Authenticate(std::string_view token) override {
    if (token.size() < 2 || token[0] != 'u') return UnauthenticatedError("unknown token");
    std::size_t i = std::strtoul(std::string(token.substr(1)).c_str(), nullptr, 10);
    if (i >= users_.size()) return UnauthenticatedError("unknown token");
    return users_[i];
  }

 private:
  const std::vector<model::Identity>& users_;
};

double Ms(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

template <typename F>
double TimeMs(F&& f) {
  auto t0 = std::chrono::steady_clock::now();
  f();
  return Ms(std::chrono::steady_clock::now() - t0);
}

struct Spread {
  double p50 = 0, p99 = 0, max = 0;
  std::size_t n = 0;
};

Spread Summarize(std::vector<double> v) {
  Spread s;
  s.n = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5))];
  };
  s.p50 = at(0.5);
  s.p99 = at(0.99);
  s.max = v.back();
  return s;
}

json SpreadJson(const Spread& s) {
  auto r = [](double x) { return std::round(x * 1000.0) / 1000.0; };
  return {{"n", s.n}, {"p50_ms", r(s.p50)}, {"p99_ms", r(s.p99)}, {"max_ms", r(s.max)}};
}

void Row(const char* what, const Spread& s, const char* goal) {
  std::fprintf(stderr, "  %-12s n=%-6zu p50 %9.3f ms  p99 %9.3f ms  max %9.3f ms  %s\n", what, s.n,
               s.p50, s.p99, s.max, goal);
}

bool ParseArgs(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--dump" && i + 1 < argc) {
      a.dump = argv[++i];
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "catalog_bench: %s needs a value\n", arg.c_str());
      return false;
    }
    int v = std::atoi(argv[++i]);
    if (arg == "--accounts") {
      a.accounts = v;
    } else if (arg == "--permission-sets") {
      a.permission_sets = v;
    } else if (arg == "--users") {
      a.users = v;
    } else if (arg == "--teams") {
      a.teams = v;
    } else if (arg == "--sample") {
      a.sample = v;
    } else if (arg == "--explains") {
      a.explains = v;
    } else if (arg == "--parses") {
      a.parses = v;
    } else if (arg == "--seed") {
      a.seed = static_cast<unsigned>(v);
    } else {
      std::fprintf(stderr, "catalog_bench: unknown argument %s\n", arg.c_str());
      return false;
    }
  }
  if (a.accounts < 1 || a.accounts > 99999 || a.permission_sets < 10 || a.users < 1000 ||
      a.teams < 1 || a.sample < 1 || a.explains < 1 || a.parses < 1) {
    std::fprintf(stderr,
                 "catalog_bench: --accounts 1..99999, --permission-sets >= 10, --users >= 1000, "
                 "and the counts positive\n");
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!ParseArgs(argc, argv, args)) return 2;
  spdlog::set_level(spdlog::level::warn);

  std::vector<std::string> ps_names;
  std::string yaml = ConfigYaml(args, &ps_names);
  std::vector<double> parse_ms;
  std::optional<policy::Config> parsed;
  for (int i = 0; i < args.parses; ++i) {
    std::optional<Result<policy::Config>> r;
    parse_ms.push_back(TimeMs([&] { r.emplace(policy::ParseConfig(yaml, "bench.yaml")); }));
    if (!r->has_value()) {
      std::fprintf(stderr, "catalog_bench: the generated config does not parse: %s\n",
                   r->error().ToString().c_str());
      return 1;
    }
    parsed = std::move(**r);
  }
  const std::size_t rules = parsed->rules.size();

  std::vector<model::Identity> users;
  users.reserve(static_cast<std::size_t>(args.users));
  for (int i = 0; i < args.users; ++i) users.push_back(UserIdentity(i, args));

  // The API in-process, as handlers_test.cc drives it.
  FakeClock clock;
  store::MemoryStore store{clock};
  provider::FakeProvider provider;
  policy::ConfigHolder holder(*parsed);
  workflow::WorkflowOptions wo;
  wo.inventory = &provider;
  workflow::Workflow workflow(store, holder, provider, clock, wo);
  BenchAuthenticator authenticator(users);
  api::ApiHandler handler(workflow, authenticator, holder, nullptr);
  std::shared_ptr<const policy::Config> config = holder.Get();

  auto get_catalog = [&](std::size_t user, bool compact = false) {
    api::ApiRequest req;
    req.method = "GET";
    req.target = compact ? "/v1/catalog?view=compact" : "/v1/catalog";
    req.authorization = "Bearer u" + std::to_string(user);
    return handler.Handle(req);
  };

  // Catalog per user, over `sample` users.
  // Users drawn at random (not every k-th, which would meet the groups given by i % k).
  std::mt19937 rng(args.seed);
  std::vector<std::size_t> sample(users.size());
  for (std::size_t i = 0; i < sample.size(); ++i) sample[i] = i;
  std::shuffle(sample.begin(), sample.end(), rng);
  sample.resize(std::min(sample.size(), static_cast<std::size_t>(args.sample)));
  std::vector<double> catalog_ms, api_ms, compact_ms, cli_ms, entries;
  std::size_t bytes_max = 0, compact_bytes_max = 0;
  std::vector<std::string> bodies, compact_bodies;  // kept only with --dump
  for (std::size_t u : sample) {
    std::size_t n = 0;
    catalog_ms.push_back(TimeMs([&] { n = policy::Catalog(*config, users[u]).size(); }));
    entries.push_back(static_cast<double>(n));
    api::ApiResponse resp;
    api_ms.push_back(TimeMs([&] { resp = get_catalog(u); }));
    if (resp.status != 200) {
      std::fprintf(stderr, "catalog_bench: GET /v1/catalog answered %d: %s\n", resp.status,
                   resp.body.substr(0, 300).c_str());
      return 1;
    }
    bytes_max = std::max(bytes_max, resp.body.size());
    if (!args.dump.empty()) bodies.push_back(resp.body);
    api::ApiResponse compact;
    compact_ms.push_back(TimeMs([&] { compact = get_catalog(u, true); }));
    compact_bytes_max = std::max(compact_bytes_max, compact.body.size());
    if (!args.dump.empty()) compact_bodies.push_back(compact.body);
    std::ostringstream out;
    cli_ms.push_back(TimeMs([&] { cli::PrintCatalog(json::parse(resp.body), out); }));
  }

  // The user who may request everything: a cloud-admin (user 0) with every other group too.
  model::Identity all = users[0];
  for (int t = 0; t < args.teams; ++t) {
    for (const char* suffix : {"", "-oncall", "-leads"}) all.groups.push_back(Team(t) + suffix);
  }
  all.groups.push_back("sre");
  all.groups.push_back("security");
  users.push_back(all);
  const std::size_t all_index = users.size() - 1;
  std::size_t all_entries = 0;
  double all_catalog = TimeMs([&] { all_entries = policy::Catalog(*config, all).size(); });
  api::ApiResponse all_resp;
  double all_api = TimeMs([&] { all_resp = get_catalog(all_index); });
  api::ApiResponse all_compact;
  double all_compact_ms = TimeMs([&] { all_compact = get_catalog(all_index, true); });
  std::ostringstream all_out;
  double all_cli = TimeMs([&] { cli::PrintCatalog(json::parse(all_resp.body), all_out); });
  std::size_t expected_all =
      static_cast<std::size_t>(args.accounts) * static_cast<std::size_t>(args.permission_sets);

  // Explain: random (user, account, permission set), a third of them on the user's own team's
  // prod accounts (where the long rules are), with a duration, a reason and a ticket.
  std::vector<double> explain_ms, explain_api_ms;
  std::size_t explain_bytes_max = 0;
  for (int i = 0; i < args.explains; ++i) {
    std::size_t u = rng() % static_cast<std::size_t>(args.users);
    int account = static_cast<int>(rng() % static_cast<unsigned>(args.accounts));
    if (i % 3 == 0) {
      // An account of the user's team, prod if there is one near.
      int team = static_cast<int>(u) % args.teams;
      account = (account / (10 * args.teams)) * (10 * args.teams) + team * 10;
      if (account >= args.accounts) account = team * 10 % args.accounts;
    }
    const std::string& ps = ps_names[rng() % ps_names.size()];
    policy::AccessRequest ask;
    ask.account = i % 2 == 0 ? AccountName(account) : AccountId(account);
    ask.permission_set = ps;
    ask.duration = std::chrono::hours(1);
    ask.reason = "investigating the alert on the payments queue";
    ask.ticket = "INC-12345";
    explain_ms.push_back(
        TimeMs([&] { (void)policy::Explain(*config, users[u], ask, clock.Now()); }));
    api::ApiRequest req;
    req.method = "POST";
    req.target = "/v1/policy/explain";
    req.authorization = "Bearer u" + std::to_string(u);
    req.body = json{{"account", ask.account},
                    {"permission_set", ask.permission_set},
                    {"duration", "1h"},
                    {"reason", ask.reason},
                    {"ticket", ask.ticket}}
                   .dump();
    api::ApiResponse resp;
    explain_api_ms.push_back(TimeMs([&] { resp = handler.Handle(req); }));
    if (resp.status != 200) {
      std::fprintf(stderr, "catalog_bench: POST /v1/policy/explain answered %d: %s\n", resp.status,
                   resp.body.substr(0, 300).c_str());
      return 1;
    }
    explain_bytes_max = std::max(explain_bytes_max, resp.body.size());
  }

  if (!args.dump.empty()) {
    // The body whose entry count is the median's.
    std::vector<std::size_t> order(bodies.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](std::size_t x, std::size_t y) { return entries[x] < entries[y]; });
    std::filesystem::create_directories(args.dump);
    std::ofstream(std::filesystem::path(args.dump) / "typical.json")
        << bodies[order[order.size() / 2]];
    std::ofstream(std::filesystem::path(args.dump) / "typical-compact.json")
        << compact_bodies[order[order.size() / 2]];
    std::ofstream(std::filesystem::path(args.dump) / "everything.json") << all_resp.body;
    std::ofstream(std::filesystem::path(args.dump) / "everything-compact.json") << all_compact.body;
  }

  Spread parse = Summarize(parse_ms), catalog = Summarize(catalog_ms),
         catalog_api = Summarize(api_ms), catalog_compact = Summarize(compact_ms),
         catalog_cli = Summarize(cli_ms), explain = Summarize(explain_ms),
         explain_api = Summarize(explain_api_ms), entry_count = Summarize(entries);
  bool catalog_ok = catalog_api.p99 < kCatalogGoalMs;
  bool explain_ok = explain_api.p99 < kExplainGoalMs;
  bool parse_ok = parse.max < kParseGoalMs;
  bool all_ok = all_entries == expected_all;

  std::fprintf(stderr,
               "catalog_bench: %d accounts, %zu permission sets, %zu rules, %d users (%zu bytes "
               "of YAML)\n",
               args.accounts, ps_names.size(), rules, args.users, yaml.size());
  Row("parse", parse, parse_ok ? "(goal < 1000 ms: met)" : "(goal < 1000 ms: MISSED)");
  Row("catalog", catalog, "");
  Row("catalog_api", catalog_api,
      catalog_ok ? "(goal p99 < 50 ms: met)" : "(goal p99 < 50 ms: MISSED)");
  Row("catalog_compact_api", catalog_compact, "(GET /v1/catalog?view=compact, the web UI's)");
  Row("catalog_cli", catalog_cli, "");
  Row("explain", explain, "");
  Row("explain_api", explain_api,
      explain_ok ? "(goal p99 < 5 ms: met)" : "(goal p99 < 5 ms: MISSED)");
  std::fprintf(stderr, "  entries per sampled user: p50 %.0f, p99 %.0f, max %.0f\n",
               entry_count.p50, entry_count.p99, entry_count.max);
  std::fprintf(stderr,
               "  everything-user: %zu entries (expected %zu), %zu bytes of JSON; catalog %.1f ms, "
               "GET /v1/catalog %.1f ms, jit catalog's parse and print %.1f ms\n",
               all_entries, expected_all, all_resp.body.size(), all_catalog, all_api, all_cli);
  std::fprintf(stderr, "  everything-user, compact view: %zu bytes of JSON, %.1f ms\n",
               all_compact.body.size(), all_compact_ms);

  json line = {{"scenario", "catalog"},
               {"accounts", args.accounts},
               {"permission_sets", ps_names.size()},
               {"rules", rules},
               {"users", args.users},
               {"yaml_bytes", yaml.size()},
               {"parse", SpreadJson(parse)},
               {"catalog", SpreadJson(catalog)},
               {"catalog_api", SpreadJson(catalog_api)},
               {"catalog_cli", SpreadJson(catalog_cli)},
               {"catalog_entries_p50", entry_count.p50},
               {"catalog_entries_max", entry_count.max},
               {"catalog_json_bytes_max", bytes_max},
               {"catalog_compact_api", SpreadJson(catalog_compact)},
               {"catalog_compact_json_bytes_max", compact_bytes_max},
               {"explain", SpreadJson(explain)},
               {"explain_api", SpreadJson(explain_api)},
               {"explain_json_bytes_max", explain_bytes_max},
               {"everything_user",
                {{"entries", all_entries},
                 {"json_bytes", all_resp.body.size()},
                 {"catalog_ms", std::round(all_catalog * 10) / 10},
                 {"catalog_api_ms", std::round(all_api * 10) / 10},
                 {"catalog_cli_ms", std::round(all_cli * 10) / 10},
                 {"compact_json_bytes", all_compact.body.size()},
                 {"compact_api_ms", std::round(all_compact_ms * 10) / 10}}},
               {"goals",
                {{"catalog_api_p99_ms", kCatalogGoalMs},
                 {"explain_api_p99_ms", kExplainGoalMs},
                 {"parse_max_ms", kParseGoalMs}}},
               {"met",
                {{"catalog", catalog_ok},
                 {"explain", explain_ok},
                 {"parse", parse_ok},
                 {"everything_user_complete", all_ok}}}};
  std::printf("%s\n", line.dump().c_str());
  return catalog_ok && explain_ok && parse_ok && all_ok ? 0 : 1;
}
