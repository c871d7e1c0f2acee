#include "workflow/report.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

namespace jit::workflow {
namespace {

using model::RequestState;

double Seconds(std::chrono::duration<double> d) { return d.count(); }

// The value at nearest rank ceil(p/100 * n) of sorted, non-empty `v`.
double NearestRank(const std::vector<double>& v, int p) {
  std::size_t rank = static_cast<std::size_t>(
      std::ceil(static_cast<double>(p) / 100.0 * static_cast<double>(v.size())));
  if (rank < 1) rank = 1;
  return v[std::min(rank, v.size()) - 1];
}

std::vector<TopEntry> Top(std::vector<TopEntry> all) {
  std::sort(all.begin(), all.end(), [](const TopEntry& a, const TopEntry& b) {
    if (a.requests != b.requests) return a.requests > b.requests;
    if (a.name != b.name) return a.name < b.name;
    return a.id < b.id;
  });
  if (all.size() > static_cast<std::size_t>(kReportTopN)) all.resize(kReportTopN);
  return all;
}

// Approved by people: the request needed approvals and got past pending by them (it may have
// been revoked, failed or ended since).
bool HumanApproved(const model::Request& r) {
  if (r.break_glass || r.approvals_required == 0 || !r.decided_at) return false;
  switch (r.state) {
    case RequestState::kApproved:
    case RequestState::kActive:
    case RequestState::kRevoking:
    case RequestState::kEnded:
    case RequestState::kFailed:
      return true;
    default:
      return false;
  }
}

}  // namespace

Spread SpreadOf(std::vector<double>& seconds) {
  Spread s;
  if (seconds.empty()) return s;
  std::sort(seconds.begin(), seconds.end());
  s.count = static_cast<std::int64_t>(seconds.size());
  s.p50 = NearestRank(seconds, 50);
  s.p95 = NearestRank(seconds, 95);
  s.p99 = NearestRank(seconds, 99);
  s.max = seconds.back();
  return s;
}

SummaryBuilder::SummaryBuilder(Time since, Time now, Duration objective) {
  s_.since = since;
  s_.until = now;
  s_.objective = objective;
  for (RequestState st :
       {RequestState::kPending, RequestState::kApproved, RequestState::kActive,
        RequestState::kRevoking, RequestState::kEnded, RequestState::kDenied,
        RequestState::kCancelled, RequestState::kTimedOut, RequestState::kFailed}) {
    s_.by_state[st] = 0;
  }
}

void SummaryBuilder::Add(const model::Request& r) {
  if (r.created_at < s_.since) return;
  ++s_.total;
  ++s_.by_state[r.state];
  if (!model::IsTerminal(r.state)) ++s_.open;

  if (HumanApproved(r)) {
    approve_.push_back(Seconds(*r.decided_at - r.created_at));
    ++s_.decided;
  } else if (!r.break_glass && r.approvals_required > 0) {
    if (r.state == RequestState::kDenied) {
      ++s_.decided;
      ++denied_;
    } else if (r.state == RequestState::kTimedOut) {
      ++s_.decided;
      ++timed_out_;
    }
  }
  if (r.activated_at && r.decided_at) {
    Time from = *r.decided_at;
    if (r.start_at && *r.start_at > from) from = *r.start_at;
    activate_.push_back(std::max(0.0, Seconds(*r.activated_at - from)));
  }
  if (r.end_reason == "expired" && r.expires_at) {
    if (r.state == RequestState::kEnded && r.ended_at) {
      double lag = std::max(0.0, Seconds(*r.ended_at - *r.expires_at));
      lag_.push_back(lag);
      if (lag > Seconds(s_.objective)) ++s_.ended_late;
    } else if (r.state == RequestState::kRevoking && s_.until - *r.expires_at > s_.objective) {
      ++s_.overdue_now;
    }
  }
  if (r.break_glass) {
    ++s_.break_glass;
    if (r.review_state == "open") ++s_.open_reviews;
  }

  ++requesters_[r.requester];
  TopEntry& account = accounts_[r.account_id];
  account.id = r.account_id;
  account.name = r.account_name;
  ++account.requests;
  TopEntry& set = permission_sets_[r.permission_set_arn];
  set.id = r.permission_set_arn;
  set.name = r.permission_set_name;
  ++set.requests;
}

ReportSummary SummaryBuilder::Finish() {
  s_.time_to_approve = SpreadOf(approve_);
  s_.approval_to_active = SpreadOf(activate_);
  s_.revoke_lag = SpreadOf(lag_);
  if (s_.decided > 0) {
    s_.denial_rate = static_cast<double>(denied_) / static_cast<double>(s_.decided);
    s_.timeout_rate = static_cast<double>(timed_out_) / static_cast<double>(s_.decided);
  }
  std::vector<TopEntry> people;
  for (const auto& [name, n] : requesters_) people.push_back(TopEntry{"", name, n});
  s_.top_requesters = Top(std::move(people));
  std::vector<TopEntry> accounts, sets;
  for (auto& [id, e] : accounts_) accounts.push_back(std::move(e));
  for (auto& [id, e] : permission_sets_) sets.push_back(std::move(e));
  s_.top_accounts = Top(std::move(accounts));
  s_.top_permission_sets = Top(std::move(sets));
  return std::move(s_);
}

Result<ReportSummary> BuildSummary(store::Store& store, Time since, Time now) {
  SummaryBuilder builder(since, now);
  store::RequestFilter filter;
  filter.limit = 500;
  // Ids carry their creation time in milliseconds: a request of the same millisecond as `since`
  // may sort after an older one, so the read goes one millisecond further back.
  const Time stop = since - std::chrono::milliseconds(1);
  for (;;) {
    Result<store::RequestPage> page = store.ListRequests(filter);
    if (!page.has_value()) return page.error();
    bool older = false;
    for (const model::Request& r : page->items) {
      if (r.created_at < stop) {
        older = true;
        break;
      }
      builder.Add(r);
    }
    if (older || page->next_cursor.empty()) break;
    filter.cursor = page->next_cursor;
  }
  return builder.Finish();
}

}  // namespace jit::workflow
