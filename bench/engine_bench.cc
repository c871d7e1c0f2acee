// Engine benchmark of the suite (bench/suite, issue 18): the real workflow, scheduler and SQLite
// store (synchronous=FULL) with the in-process fake provider, which has no pacing, so that the
// engine's own limits show at N grants held by N distinct users. `jit serve` has no fake
// provider and paces Identity Center calls at a fixed 18/s, which would cap a run near 2 grants
// per second; the suite drives the real binary for what pacing does not hide (bench/suite).
//
// Every mode also takes --grant-rate R: the grants/s assumed when placing the expiries after
// the last grant (default 100, low enough for a debug build on a loaded machine; a run that
// seeds slower says "expired_before_all_active" / "expired_while_seeded").
//
//   engine_bench scale   --users N [--spread S] [--dir DIR] [--workers W]
//       N grants, N distinct users; expiring in one wave (all in the same second) or, with
//       --spread S, evenly over S seconds. Prints one JSON line: revoke-issue lag after
//       expires_at (p50/p99/max, ms) read from the audit trail, and resident bytes per active
//       grant (VmRSS of this process at N active minus before the first submit).
//   engine_bench seed    --users N --expire-in S [--dir DIR] [--workers W]
//       N active grants expiring S seconds after the last one is active; prints
//       {"seeded": N, "last_expires_at_ms": T, "seed_s", "grants_per_s", "expired_while_seeded"}
//       and waits to be killed (kill -9: recovery).
//   engine_bench recover --users N [--dir DIR] [--workers W]
//       Opens the store the seed left, starts the scheduler (what /readyz waits for), and waits
//       until every grant's revocation is issued. Prints one JSON line.
//
// Output is one JSON line on stdout; progress and errors go to stderr. Exit 1 on failure.

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/duration.h"
#include "core/time_format.h"
#include "model/identity.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/sqlite_store.h"
#include "workflow/workflow.h"

namespace {

using namespace jit;  // NOLINT(google-build-using-namespace): a small program
using Steady = std::chrono::steady_clock;

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
    max_duration: 12h
    approval: auto
limits: {open_requests_per_user: 0, requests_per_minute_per_user: 0, refuse_duplicates: false}
)";

// A low estimate of how fast grants become active, to place the expiries after the last one
// (--grant-rate overrides it: the wave of a 100,000-grant run would otherwise wait 1,000 s).
constexpr int kGrantsPerSecond = 100;

struct Args {
  std::string mode;
  int users = 2000;
  double spread = 0;     // seconds; 0: one wave
  double expire_in = 3;  // seed: seconds after the last grant is active
  std::string dir = "engine-bench-data";
  int workers = 4;                    // what `jit serve` runs
  int grant_rate = kGrantsPerSecond;  // grants/s assumed when placing the expiries
};

double Seconds(Steady::duration d) { return std::chrono::duration<double>(d).count(); }

std::int64_t EpochMs(Time t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

// Resident bytes of this process (VmRSS of /proc/self/status); 0 when unreadable.
std::int64_t ResidentBytes() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6) * 1024;
  }
  return 0;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Follows the audit trail from the start: per request, expires_at (request.expired) and the
// time the revocation was issued (the first of revoke.started, revoke.succeeded, request.ended
// after it). Reads only events it has not read yet.
class TrailReader {
 public:
  explicit TrailReader(store::Store& store) : store_(store) {}

  // Reads new events; false on a store error.
  bool Poll() {
    for (;;) {
      auto page = store_.ListAudit(after_, 1000);
      if (!page.has_value()) {
        std::fprintf(stderr, "reading the audit trail after %lld: %s\n",
                     static_cast<long long>(after_), page.error().ToString().c_str());
        return false;
      }
      for (const model::AuditEvent& e : *page) {
        after_ = e.seq;
        if (e.action == "request.expired") {
          auto d = nlohmann::json::parse(e.details, nullptr, false);
          if (d.is_object() && d.contains("expires_at")) {
            auto t = ParseRfc3339(d["expires_at"].get<std::string>());
            if (t.has_value()) expires_[e.request_id] = EpochMs(*t);
          }
        } else if (e.action == "revoke.started" || e.action == "revoke.succeeded" ||
                   e.action == "request.ended") {
          if (expires_.count(e.request_id) != 0 && issued_.count(e.request_id) == 0) {
            issued_[e.request_id] = EpochMs(e.at);
          }
        }
      }
      if (page->size() < 1000) return true;
    }
  }

  size_t Issued() const { return issued_.size(); }

  std::vector<double> LagsMs() const {
    std::vector<double> out;
    for (const auto& [id, at] : issued_) out.push_back(static_cast<double>(at - expires_.at(id)));
    return out;
  }
  std::int64_t LastIssuedMs() const {
    std::int64_t m = 0;
    for (const auto& [id, at] : issued_) m = std::max(m, at);
    return m;
  }
  std::int64_t ExpirySpreadMs() const {
    if (expires_.empty()) return 0;
    auto [lo, hi] =
        std::minmax_element(expires_.begin(), expires_.end(),
                            [](const auto& a, const auto& b) { return a.second < b.second; });
    return hi->second - lo->second;
  }

 private:
  store::Store& store_;
  std::int64_t after_ = 0;
  std::map<std::string, std::int64_t> expires_;
  std::map<std::string, std::int64_t> issued_;
};

// The engine as `jit serve` wires it, with the fake provider.
struct Engine {
  RealClock clock;
  std::unique_ptr<policy::ConfigHolder> holder;
  std::unique_ptr<store::Store> store;
  provider::FakeProvider provider;
  std::unique_ptr<workflow::Workflow> flow;
  std::unique_ptr<scheduler::Scheduler> sched;

  bool Open(const Args& args, bool fresh) {
    std::filesystem::path dir = args.dir;
    if (fresh) {
      std::filesystem::remove_all(dir);
      std::filesystem::create_directories(dir);
    }
    auto config = policy::ParseConfig(kConfig, "engine-bench.yaml");
    if (!config.has_value()) {
      std::fprintf(stderr, "%s\n", config.error().ToString().c_str());
      return false;
    }
    holder = std::make_unique<policy::ConfigHolder>(std::move(config).value());
    store::SqliteOptions so;
    so.path = (dir / "jit.db").string();
    so.synchronous = "FULL";
    auto opened = store::OpenSqliteStore(so, clock);
    if (!opened.has_value()) {
      std::fprintf(stderr, "%s\n", opened.error().ToString().c_str());
      return false;
    }
    store = std::move(opened).value();
    flow = std::make_unique<workflow::Workflow>(*store, *holder, provider, clock);
    scheduler::SchedulerOptions o;
    o.workers = args.workers;
    sched = std::make_unique<scheduler::Scheduler>(*store, *flow, clock, o);
    return sched->Start().ok();
  }
};

// Submits one grant per user from 16 threads, each waiting for its grant to be active before
// the next; user i's duration makes it expire at `wave_at` + i * spread / N, give or take a
// second (a request's duration is in whole seconds, counted from its activation). Returns the
// number refused.
int SubmitAll(Engine& e, const Args& args, Time wave_at) {
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < args.users; i = next++) {
        char principal[64];
        std::snprintf(principal, sizeof principal, "be7c0000-0000-4000-8000-%012d", i);
        model::Identity who{"user" + std::to_string(i), {"bench"}, principal};
        Time target = wave_at + std::chrono::milliseconds(static_cast<std::int64_t>(
                                    args.spread * 1000.0 * i / std::max(1, args.users)));
        auto secs = std::chrono::duration_cast<std::chrono::seconds>(target - e.clock.Now());
        if (secs.count() < 1) secs = std::chrono::seconds(1);
        auto r = e.flow->Submit(who, {"sandbox", "ReadOnly", secs, "benchmark", ""});
        if (!r.has_value()) {
          if (failed++ == 0) std::fprintf(stderr, "submit: %s\n", r.error().ToString().c_str());
          continue;
        }
        // Closed loop: the next submit waits until this grant is active, so that a grant
        // becomes active within a few job runs of its submit and its expiry lands where its
        // duration aims (expires_at counts from activation).
        for (int polls = 0; polls < 60000; ++polls) {
          auto got = e.store->GetRequest(r->id);
          if (got.has_value() && got->state != model::RequestState::kApproved &&
              got->state != model::RequestState::kPending) {
            break;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return failed.load();
}

// Waits until `want` grants are active (the store's active requests, counted page by page).
bool WaitActive(Engine& e, int want, double timeout_s) {
  auto deadline = Steady::now() + std::chrono::milliseconds(static_cast<int>(timeout_s * 1000));
  while (Steady::now() < deadline) {
    int active = 0;
    store::RequestFilter f;
    f.state = model::RequestState::kActive;
    f.limit = 500;
    for (;;) {
      auto page = e.store->ListRequests(f);
      if (!page.has_value()) return false;
      active += static_cast<int>(page->items.size());
      if (page->next_cursor.empty()) break;
      f.cursor = page->next_cursor;
    }
    if (active >= want) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return false;
}

nlohmann::ordered_json LagJson(const TrailReader& trail) {
  std::vector<double> lags = trail.LagsMs();
  return {{"revocations", lags.size()},
          {"lag_p50_ms", Percentile(lags, 0.5)},
          {"lag_p99_ms", Percentile(lags, 0.99)},
          {"lag_max_ms", lags.empty() ? 0 : *std::max_element(lags.begin(), lags.end())},
          {"expiry_spread_ms", trail.ExpirySpreadMs()}};
}

int Scale(const Args& args) {
  Engine e;
  if (!e.Open(args, true)) return 1;
  std::int64_t rss_before = ResidentBytes();
  // Time to activate every grant (with 4 workers and synchronous=FULL, about 150 grants/s were
  // measured), then the wave, so that every grant is active before the first expires.
  Time wave_at = e.clock.Now() + std::chrono::seconds(3 + args.users / args.grant_rate);
  auto t0 = Steady::now();
  int failed = SubmitAll(e, args, wave_at);
  double submit_s = Seconds(Steady::now() - t0);
  bool active = WaitActive(e, args.users - failed, 600);
  double active_s = Seconds(Steady::now() - t0);
  std::int64_t rss_active = ResidentBytes();
  bool early = e.clock.Now() >= wave_at;
  if (early) std::fprintf(stderr, "warning: grants expired while created\n");
  TrailReader trail(*e.store);
  auto deadline = Steady::now() + std::chrono::seconds(600 + static_cast<int>(args.spread));
  while (trail.Issued() < static_cast<size_t>(args.users - failed) && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    if (!trail.Poll()) return 1;
  }
  e.sched->Stop();
  nlohmann::ordered_json out = {
      {"scenario", args.spread > 0 ? "scale_spread" : "scale_wave"},
      {"provider", "fake"},
      {"users", args.users},
      {"refused", failed},
      {"all_active", active},
      {"expired_before_all_active", early},
      {"submit_s", submit_s},
      {"submits_per_s", args.users / submit_s},
      {"all_active_after_s", active_s},
      {"spread_s", args.spread},
      {"rss_bytes_before", rss_before},
      {"rss_bytes_active", rss_active},
      {"rss_bytes_per_active_grant",
       static_cast<double>(rss_active - rss_before) / std::max(1, args.users)}};
  out.update(LagJson(trail));
  std::printf("%s\n", out.dump().c_str());
  std::fflush(stdout);
  return trail.Issued() == static_cast<size_t>(args.users - failed) ? 0 : 1;
}

int Seed(const Args& args) {
  Engine e;
  if (!e.Open(args, true)) return 1;
  // Far enough out that none expires before all are active; the grants are then extended by
  // nothing: the expiry is what the durations make it.
  Time wave_at = e.clock.Now() + std::chrono::seconds(static_cast<int>(args.expire_in) +
                                                      args.users / args.grant_rate);
  auto t0 = Steady::now();
  int failed = SubmitAll(e, args, wave_at);
  if (failed != 0 || !WaitActive(e, args.users, 600)) return 1;
  double seed_s = Seconds(Steady::now() - t0);
  bool expired_early = e.clock.Now() >= wave_at;
  if (expired_early) std::fprintf(stderr, "warning: grants expired while seeded\n");
  std::printf("%s\n", nlohmann::json{{"seeded", args.users},
                                     {"last_expires_at_ms", EpochMs(wave_at) + 1000},
                                     {"seed_s", seed_s},
                                     {"grants_per_s", args.users / std::max(1e-9, seed_s)},
                                     {"expired_while_seeded", expired_early}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(60));  // until kill -9
}

int Recover(const Args& args) {
  auto t0 = Steady::now();
  Engine e;
  if (!e.Open(args, false)) return 1;
  double ready_s = Seconds(Steady::now() - t0);
  TrailReader trail(*e.store);
  auto deadline = Steady::now() + std::chrono::seconds(900);
  while (trail.Issued() < static_cast<size_t>(args.users) && Steady::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!trail.Poll()) return 1;
  }
  double all_s = Seconds(Steady::now() - t0);
  e.sched->Stop();
  scheduler::SchedulerStats stats = e.sched->Stats();
  nlohmann::ordered_json out = {
      {"scenario", "recovery"},
      {"provider", "fake"},
      {"overdue", args.users},
      {"ready_ms", ready_s * 1000},
      {"all_revocations_issued_s", all_s},
      {"revocations_per_s", args.users / std::max(1e-9, all_s - ready_s)},
      {"claims", stats.claims},
      {"jobs_per_claim", static_cast<double>(stats.claimed) /
                             static_cast<double>(std::max<std::int64_t>(1, stats.claims))}};
  out.update(LagJson(trail));
  std::printf("%s\n", out.dump().c_str());
  return trail.Issued() == static_cast<size_t>(args.users) ? 0 : 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: engine_bench scale|seed|recover [--users N] [--spread S] "
               "[--expire-in S] [--dir DIR] [--workers W] [--grant-rate R]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  Args args;
  args.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) return Usage();
    std::string v = argv[++i];
    if (a == "--users") {
      args.users = std::atoi(v.c_str());
    } else if (a == "--spread") {
      args.spread = std::atof(v.c_str());
    } else if (a == "--expire-in") {
      args.expire_in = std::atof(v.c_str());
    } else if (a == "--dir") {
      args.dir = v;
    } else if (a == "--workers") {
      args.workers = std::atoi(v.c_str());
    } else if (a == "--grant-rate") {
      args.grant_rate = std::atoi(v.c_str());
    } else {
      return Usage();
    }
  }
  if (args.users < 1 || args.workers < 1 || args.spread < 0 || args.grant_rate < 1) return Usage();
  spdlog::set_level(spdlog::level::warn);
  if (args.mode == "scale") return Scale(args);
  if (args.mode == "seed") return Seed(args);
  if (args.mode == "recover") return Recover(args);
  return Usage();
}
