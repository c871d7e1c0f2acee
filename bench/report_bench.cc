// Report benchmark: the cost of workflow::BuildSummary (GET /v1/reports/summary, `jit report`)
// on a SQLite store the size of a busy year: N requests with their audit events (about 6.7 per
// request, so a million by default), created evenly over the last `--days` days. Prints the
// time to fill the store once and the time of the summary over 30 days and over 366 days
// (every request), best and median of `--runs` runs. docs/PERFORMANCE.md "Reports".
//
//   report_bench [--requests N] [--events N] [--days D] [--runs N] [--dir DIR] [--keep]

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/ids.h"
#include "model/audit_event.h"
#include "model/request.h"
#include "store/sqlite_store.h"
#include "workflow/report.h"

namespace {

using namespace jit;  // NOLINT(google-build-using-namespace): a small program
using std::chrono::hours;
using std::chrono::seconds;

struct Args {
  int requests = 150000;
  int events = 1000000;
  int days = 60;
  int runs = 5;
  std::string dir = "report-bench-data";
  bool keep = false;  // reuse the store in --dir when it is there
};

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

const char* const kPeople[] = {"alice", "bob",  "carol", "dave",    "erin", "frank",  "grace",
                               "heidi", "ivan", "judy",  "mallory", "niaj", "olivia", "peggy"};
const char* const kSets[] = {"ReadOnly", "Admin", "BreakGlass", "Billing", "Network"};

// Request i of n, created evenly over `days` days up to `now`, in a state its number picks:
// most ended by expiry, some denied, timed out, cancelled, active or pending.
model::Request MakeRequest(int i, int n, int days, Time now) {
  model::Request r;
  auto span = std::chrono::duration_cast<std::chrono::milliseconds>(hours(24) * days);
  r.created_at = now - span + span * i / n;
  r.id = NewId("req_", r.created_at);
  r.requester = kPeople[i % std::size(kPeople)];
  r.principal_id = "p-" + r.requester;
  bool prod = i % 3 == 0;
  r.account_id = prod ? "222222222222" : "111111111111";
  r.account_name = prod ? "prod" : "sandbox";
  r.permission_set_name = kSets[i % std::size(kSets)];
  r.permission_set_arn =
      "arn:aws:sso:::permissionSet/ssoins-1111111111111111/" + r.permission_set_name;
  r.duration_seconds = 3600;
  r.reason = "benchmark request number " + std::to_string(i);
  r.rule = "bench";
  r.break_glass = r.permission_set_name == "BreakGlass";
  r.approvals_required = r.break_glass || r.permission_set_name == "ReadOnly" ? 0 : 1;
  if (r.break_glass) r.review_state = i % 7 == 0 ? "open" : "closed";
  int pick = i % 20;
  Time decided = r.created_at + seconds(r.approvals_required == 0 ? 0 : 30 + i % 600);
  if (r.approvals_required > 0 && pick == 1) {
    r.state = model::RequestState::kDenied;
    r.decided_at = decided;
    r.ended_at = decided;
  } else if (r.approvals_required > 0 && pick == 2) {
    r.state = model::RequestState::kTimedOut;
    r.decided_at = r.created_at + hours(1);
    r.ended_at = r.decided_at;
  } else if (r.approvals_required > 0 && pick == 3) {
    r.state = model::RequestState::kCancelled;
    r.decided_at = decided;
    r.ended_at = decided;
  } else {
    r.state = model::RequestState::kEnded;
    r.decided_at = decided;
    r.approvals.push_back({"bob", "", decided});
    r.activated_at = decided + std::chrono::milliseconds(200 + i % 900);
    r.expires_at = *r.activated_at + seconds(r.duration_seconds);
    r.ended_at = *r.expires_at + std::chrono::milliseconds(150 + (i * 7919) % 2000);
    r.end_reason = "expired";
    if (*r.expires_at > now) {
      r.state = model::RequestState::kActive;
      r.ended_at.reset();
      r.end_reason.clear();
    }
  }
  if (r.created_at > now - hours(1) && r.approvals_required > 0 && pick == 4) {
    r.state = model::RequestState::kPending;
    r.decided_at.reset();
    r.ended_at.reset();
    r.activated_at.reset();
    r.expires_at.reset();
    r.approvals.clear();
    r.end_reason.clear();
  }
  return r;
}

model::AuditEvent Event(const model::Request& r, Time at, const char* action) {
  model::AuditEvent e;
  e.at = at;
  e.actor = "jit";
  e.action = action;
  e.request_id = r.id;
  e.severity = "info";
  e.details = R"({"note":"benchmark"})";
  return e;
}

Status Fill(store::Store& store, const Args& args, Time now) {
  const int kBatch = 1000;
  const double events_per_request =
      static_cast<double>(args.events) / static_cast<double>(args.requests);
  static const char* const kActions[] = {"request.approved",  "grant.started",   "grant.succeeded",
                                         "request.activated", "request.expired", "revoke.started",
                                         "revoke.succeeded",  "request.ended"};
  std::int64_t written = 0;
  for (int start = 0; start < args.requests; start += kBatch) {
    Status s = store.Transact([&](store::Tx& tx) -> Status {
      for (int i = start; i < std::min(start + kBatch, args.requests); ++i) {
        model::Request r = MakeRequest(i, args.requests, args.days, now);
        if (Status st = tx.InsertRequest(r); !st.ok()) return st;
        // Events up to this request's share of the total, request.created first.
        auto due = static_cast<std::int64_t>(events_per_request * (i + 1));
        for (int k = 0; written < due; ++k, ++written) {
          const char* action = k == 0 ? "request.created" : kActions[(k - 1) % std::size(kActions)];
          if (Result<model::AuditEvent> e = tx.AppendAudit(Event(r, r.created_at, action));
              !e.has_value()) {
            return e.error();
          }
        }
      }
      return OkStatus();
    });
    if (!s.ok()) return s;
  }
  return OkStatus();
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--keep") {
      args.keep = true;
      continue;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "report_bench: %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--requests") {
      args.requests = std::atoi(v.c_str());
    } else if (a == "--events") {
      args.events = std::atoi(v.c_str());
    } else if (a == "--days") {
      args.days = std::atoi(v.c_str());
    } else if (a == "--runs") {
      args.runs = std::atoi(v.c_str());
    } else if (a == "--dir") {
      args.dir = v;
    } else {
      std::fprintf(stderr, "report_bench: unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  if (args.requests < 1 || args.events < args.requests || args.days < 1 || args.runs < 1) {
    std::fprintf(stderr, "report_bench: need requests >= 1, events >= requests, days, runs >= 1\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  RealClock clock;
  const std::string path = args.dir + "/jit.db";
  bool fill = !(args.keep && std::filesystem::exists(path));
  if (fill) {
    std::filesystem::remove_all(args.dir);
    std::filesystem::create_directories(args.dir);
  }
  store::SqliteOptions so;
  so.path = path;
  so.synchronous = "NORMAL";
  auto opened = store::OpenSqliteStore(so, clock);
  if (!opened.has_value()) {
    std::fprintf(stderr, "report_bench: %s\n", opened.error().ToString().c_str());
    return 1;
  }
  store::Store& store = **opened;
  Time now = clock.Now();
  if (fill) {
    auto start = std::chrono::steady_clock::now();
    Status s = Fill(store, args, now);
    if (!s.ok()) {
      std::fprintf(stderr, "report_bench: filling the store: %s\n", s.ToString().c_str());
      return 1;
    }
    std::printf("filled %d requests and %d audit events in %.1f s (%s)\n", args.requests,
                args.events, Seconds(std::chrono::steady_clock::now() - start), path.c_str());
  }
  for (int days : {30, 366}) {
    std::vector<double> times;
    std::int64_t total = 0;
    for (int run = 0; run < args.runs; ++run) {
      Time at = clock.Now();
      auto start = std::chrono::steady_clock::now();
      Result<workflow::ReportSummary> s = workflow::BuildSummary(store, at - hours(24) * days, at);
      times.push_back(Seconds(std::chrono::steady_clock::now() - start));
      if (!s.has_value()) {
        std::fprintf(stderr, "report_bench: %s\n", s.error().ToString().c_str());
        return 1;
      }
      total = s->total;
    }
    std::sort(times.begin(), times.end());
    std::printf("summary over %3d days: %7lld requests, best %.3f s, median %.3f s (%d runs)\n",
                days, static_cast<long long>(total), times.front(), times[times.size() / 2],
                args.runs);
  }
  return 0;
}
