// Session cut-off benchmark (docs/PERFORMANCE.md "Session cut-off"): N grants of distinct users
// on one permission set and account end at random moments within `--spread` seconds; the
// cut-off engine (cutoff/engine.h) runs their jobs on a SQLite store with the real scheduler and
// clock, against the fake provider, whose provisionings take `--polls` status polls (one a
// second: AWS takes a few seconds). Prints how many cut-offs were applied, the calls made
// (policy writes, ProvisionPermissionSet), the largest inline policy written, and the time from
// each grant's end to its sessions being denied (p50, p99, max); with `--lift`, waits for the
// session duration (`--session` seconds) and checks that every statement was taken out again.
//
//   cutoff_bench [--grants N] [--spread S] [--polls N] [--session S] [--lift] [--dir DIR]

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "cutoff/engine.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/sqlite_store.h"

namespace {

using namespace jit;  // NOLINT(google-build-using-namespace): a small program

constexpr char kPs[] = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2222222222222222";
constexpr char kProd[] = "222222222222";

struct Args {
  int grants = 1000;
  int spread = 60;
  int polls = 2;
  int session = 60;
  bool lift = false;
  std::string dir = "cutoff-bench-data";
};

std::string UserId(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08x-0000-4000-8000-%012x", i, i);
  return buf;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  std::size_t i = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

int Count(store::Store& store, const std::string& action, std::vector<double>* lags,
          std::size_t* max_size) {
  int n = 0;
  std::int64_t after = 0;
  for (;;) {
    auto page = store.ListAudit(after, 1000);
    if (!page.has_value() || page->empty()) break;
    for (const model::AuditEvent& e : *page) {
      after = e.seq;
      if (e.action != action) continue;
      ++n;
      auto d = nlohmann::json::parse(e.details, nullptr, false);
      if (lags && d.contains("lag_ms")) lags->push_back(d["lag_ms"].get<double>() / 1000.0);
      if (max_size && d.contains("policy_size")) {
        *max_size = std::max(*max_size, d["policy_size"].get<std::size_t>());
      }
    }
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--grants")
      args.grants = std::atoi(next().c_str());
    else if (a == "--spread")
      args.spread = std::atoi(next().c_str());
    else if (a == "--polls")
      args.polls = std::atoi(next().c_str());
    else if (a == "--session")
      args.session = std::atoi(next().c_str());
    else if (a == "--lift")
      args.lift = true;
    else if (a == "--dir")
      args.dir = next();
    else {
      std::fprintf(stderr, "cutoff_bench: unknown argument %s\n", a.c_str());
      return 2;
    }
  }
  if (args.grants < 1 || args.spread < 1 || args.polls < 0 || args.session < 1) {
    std::fprintf(stderr, "cutoff_bench: --grants, --spread and --session must be positive\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::path dir = args.dir;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  RealClock clock;
  store::SqliteOptions so;
  so.path = (dir / "jit.db").string();
  auto opened = store::OpenSqliteStore(so, clock);
  if (!opened.has_value()) {
    std::fprintf(stderr, "%s\n", opened.error().ToString().c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  provider::FakeProvider fake;
  fake.SetAsyncPolls(args.polls);
  fake.SetSessionDuration(kPs, std::chrono::seconds(args.session));
  cutoff::Engine engine(*store, fake, fake, clock);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 4;
  scheduler::Scheduler sched(*store, engine, clock, sched_opts);
  if (!sched.Start().ok()) return 1;

  policy::Config config;
  config.session_cutoff = true;
  std::mt19937 rng(42);
  std::vector<int> end_ms(args.grants);
  std::uniform_int_distribution<int> when(0, args.spread * 1000 - 1);
  for (int& t : end_ms) t = when(rng);
  std::sort(end_ms.begin(), end_ms.end());

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < args.grants; ++i) {
    std::this_thread::sleep_until(start + std::chrono::milliseconds(end_ms[i]));
    model::Request r;
    r.id = "req_bench" + std::to_string(i);
    r.principal_id = UserId(i);
    r.account_id = kProd;
    r.permission_set_arn = kPs;
    Time now = clock.Now();
    Status s = store->Transact(
        [&](store::Tx& tx) { return cutoff::ScheduleCutoff(tx, config, r, now, now); });
    if (!s.ok()) {
      std::fprintf(stderr, "cannot end grant %d: %s\n", i, s.ToString().c_str());
      return 1;
    }
  }
  std::vector<double> lags;
  std::size_t max_size = 0;
  int applied = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(5);
  while ((applied = Count(*store, "session.cutoff.applied", nullptr, nullptr)) < args.grants &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  applied = Count(*store, "session.cutoff.applied", &lags, &max_size);
  int failed = Count(*store, "session.cutoff.failed", nullptr, nullptr);
  std::string policy = fake.GetInlinePolicy(kPs).value_or("");
  std::printf("grants ended: %d over %d s; cut-offs applied: %d, failed: %d (%.1f s in all)\n",
              args.grants, args.spread, applied, failed, took);
  std::printf(
      "policy writes: %lld; ProvisionPermissionSet calls: %lld; rounds: %lld; "
      "merges: %lld\n",
      static_cast<long long>(fake.Calls(provider::FakeProvider::Op::kPutInlinePolicy)),
      static_cast<long long>(fake.Calls(provider::FakeProvider::Op::kProvision)),
      static_cast<long long>(engine.stats().rounds), static_cast<long long>(engine.stats().merges));
  std::printf(
      "largest inline policy written: %zu characters besides white space (limit %zu); "
      "now: %zu\n",
      max_size, provider::kMaxProvisionedPolicySize, provider::ProvisionedPolicySize(policy));
  std::printf("end of grant to sessions denied: p50 %.2f s, p99 %.2f s, max %.2f s\n",
              Percentile(lags, 0.5), Percentile(lags, 0.99), Percentile(lags, 1.0));
  int code = applied == args.grants && max_size <= provider::kMaxProvisionedPolicySize ? 0 : 1;
  if (args.lift) {
    auto lift_deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(args.session + args.spread + 60);
    int lifted = 0;
    while ((lifted = Count(*store, "session.cutoff.lifted", nullptr, nullptr)) < args.grants &&
           std::chrono::steady_clock::now() < lift_deadline) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
    std::string after = fake.GetInlinePolicy(kPs).value_or("");
    std::printf(
        "lifted: %d; inline policy after the lifts: %zu characters; "
        "ProvisionPermissionSet calls in all: %lld\n",
        lifted, after.size(),
        static_cast<long long>(fake.Calls(provider::FakeProvider::Op::kProvision)));
    if (lifted != args.grants || after.find("JitCutoff") != std::string::npos) code = 1;
  }
  sched.Stop();
  return code;
}
