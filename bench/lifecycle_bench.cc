// Lifecycle benchmark: submit -> auto-approve -> grant (fake provider) -> expire -> revoke, for
// many requests at once, against the SQLite store on this disk. Reports durable request
// transitions per second and, in the same run and folder, raw SQLite commits per second (one
// fsync'd commit per row), and their ratio: above 1 means group commit shares fsyncs.
//
//   lifecycle_bench [--requests N] [--submitters T] [--hold D] [--dir DIR] [--sync FULL|NORMAL]
//                   [--workers N]

#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/duration.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/sqlite_store.h"
#include "workflow/workflow.h"

namespace {

using namespace jit;  // NOLINT(google-build-using-namespace): a small program

constexpr char kConfig[] = R"(
accounts:
  - {id: "111111111111", name: sandbox, tags: [dev]}
permission_sets:
  - {name: ReadOnly, arn: "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-1111111111111111"}
rules:
  - name: bench
    requesters: {groups: [bench]}
    accounts: {all: true}
    permission_sets: [ReadOnly]
    min_duration: 1s
    max_duration: 1h
    approval: auto
)";

struct Args {
  int requests = 2000;
  int submitters = 16;
  std::string hold = "1s";
  std::string dir = "bench-data";
  std::string sync = "FULL";
  int workers = 8;
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Commits per second of single-row transactions, with the same journal settings as the store.
double RawCommitsPerSecond(const std::string& path, const std::string& sync, int commits) {
  sqlite3* db = nullptr;
  if (sqlite3_open(path.c_str(), &db) != SQLITE_OK) return 0;
  std::string pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=" + sync +
                        "; CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v TEXT);";
  sqlite3_exec(db, pragmas.c_str(), nullptr, nullptr, nullptr);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES ('a row of about the size of a job row')", -1,
                     &st, nullptr);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < commits; ++i) {
    sqlite3_step(st);  // autocommit: one durable commit per row
    sqlite3_reset(st);
  }
  double secs = Seconds(std::chrono::steady_clock::now() - start);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return commits / secs;
}

int Usage() {
  std::fprintf(stderr,
               "usage: lifecycle_bench [--requests N] [--submitters T] [--hold D] [--dir DIR] "
               "[--sync FULL|NORMAL] [--workers N]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--requests") {
      args.requests = std::atoi(v.c_str());
    } else if (a == "--submitters") {
      args.submitters = std::atoi(v.c_str());
    } else if (a == "--hold") {
      args.hold = v;
    } else if (a == "--dir") {
      args.dir = v;
    } else if (a == "--workers") {
      args.workers = std::atoi(v.c_str());
    } else if (a == "--sync") {
      args.sync = v;
    } else {
      return Usage();
    }
  }
  auto hold = ParseDuration(args.hold);
  if (args.requests < 1 || args.submitters < 1 || args.workers < 1 || !hold.has_value()) {
    return Usage();
  }
  spdlog::set_level(spdlog::level::warn);

  std::filesystem::path dir = args.dir;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  auto config = policy::ParseConfig(kConfig, "bench.yaml");
  if (!config.has_value()) {
    std::fprintf(stderr, "%s\n", config.error().ToString().c_str());
    return 1;
  }
  policy::ConfigHolder holder(std::move(config).value());
  RealClock clock;
  store::SqliteOptions so;
  so.path = (dir / "jit.db").string();
  so.synchronous = args.sync;
  auto opened = store::OpenSqliteStore(so, clock);
  if (!opened.has_value()) {
    std::fprintf(stderr, "%s\n", opened.error().ToString().c_str());
    return 1;
  }
  auto store = std::move(opened).value();
  provider::FakeProvider provider;
  workflow::Workflow flow(*store, holder, provider, clock);
  scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = args.workers;
  scheduler::Scheduler sched(*store, flow, clock, sched_opts);
  if (!sched.Start().ok()) return 1;

  store::SqliteStats before = store::GetSqliteStats(*store);
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> submitters;
  for (int t = 0; t < args.submitters; ++t) {
    submitters.emplace_back([&] {
      for (int i = next++; i < args.requests; i = next++) {
        // Distinct principals, so that every request makes and deletes its own assignment.
        char principal[64];
        std::snprintf(principal, sizeof principal, "be7c0000-0000-4000-8000-%012d", i);
        model::Identity who{"bench" + std::to_string(i), {"bench"}, principal};
        auto r = flow.Submit(who, {"sandbox", "ReadOnly", *hold, "benchmark", ""});
        if (!r.has_value()) ++failed;
      }
    });
  }
  for (auto& t : submitters) t.join();
  double submit_secs = Seconds(std::chrono::steady_clock::now() - start);

  // Wait until every request has ended.
  int ended = 0;
  for (;;) {
    ended = 0;
    store::RequestFilter f;
    f.state = model::RequestState::kEnded;
    f.limit = 500;
    for (;;) {
      auto page = store->ListRequests(f);
      if (!page.has_value()) break;
      ended += static_cast<int>(page->items.size());
      if (page->next_cursor.empty()) break;
      f.cursor = page->next_cursor;
    }
    if (ended + failed >= args.requests) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  double total_secs = Seconds(std::chrono::steady_clock::now() - start);
  store::SqliteStats after = store::GetSqliteStats(*store);
  sched.Stop();

  // Per request: created+approved, active, revoking, ended.
  const double transitions = 4.0 * ended;
  double holding = std::chrono::duration<double>(*hold).count();
  double busy_secs = total_secs;  // includes the hold time, during which work still flows
  auto tx = after.transactions - before.transactions;
  auto commits = after.commits - before.commits;
  double raw = RawCommitsPerSecond((dir / "raw.db").string(), args.sync, 500);

  std::printf("lifecycle benchmark (SQLite synchronous=%s, dir %s)\n", args.sync.c_str(),
              std::filesystem::absolute(dir).string().c_str());
  std::printf(
      "  requests             %d ended, %d refused, %d submitters, %d job workers, hold %s\n",
      ended, failed.load(), args.submitters, args.workers, args.hold.c_str());
  std::printf("  submit phase         %.2f s (%.0f submits/s)\n", submit_secs,
              args.requests / submit_secs);
  std::printf("  whole run            %.2f s (includes the %.1f s hold)\n", total_secs, holding);
  std::printf("  request transitions  %.0f (%.0f durable transitions/s)\n", transitions,
              transitions / busy_secs);
  std::printf("  store transactions   %lld in %lld commits (%.1f transactions per commit)\n",
              static_cast<long long>(tx), static_cast<long long>(commits),
              commits > 0 ? static_cast<double>(tx) / static_cast<double>(commits) : 0.0);
  std::printf("  raw SQLite           %.0f commits/s (one row per commit, same folder)\n", raw);
  std::printf("  ratio                %.2f durable transitions per raw commit time\n",
              (transitions / busy_secs) / raw);
  std::filesystem::remove_all(dir);
  return failed.load() == 0 ? 0 : 1;
}
