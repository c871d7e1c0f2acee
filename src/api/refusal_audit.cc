#include "api/refusal_audit.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <utility>

#include "core/strings.h"

namespace jit::api {
namespace {

constexpr std::string_view kRequestsPrefix = "/v1/requests/";
constexpr std::size_t kMaxMessageBytes = 300;

// The id in "/v1/requests/{id}[/verb]", or "".
std::string RequestIdOf(std::string_view path) {
  if (path.substr(0, kRequestsPrefix.size()) != kRequestsPrefix) return "";
  std::string_view rest = path.substr(kRequestsPrefix.size());
  rest = rest.substr(0, rest.find('/'));
  if (rest.empty() || rest.size() > 64) return "";
  for (char c : rest) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-';
    if (!ok) return "";
  }
  return std::string(rest);
}

}  // namespace

bool IsAuditedRefusal(std::string_view method, std::string_view path, int status) {
  if (status == 401 || status == 403 || status == 429) return true;
  if (status == 409) return method == "POST" && path == "/v1/requests";
  return status == 404 && path.substr(0, kRequestsPrefix.size()) == kRequestsPrefix &&
         path.size() > kRequestsPrefix.size();
}

RefusalAudit::RefusalAudit(workflow::Workflow& workflow, Clock& clock, Options options)
    : workflow_(workflow), clock_(clock), options_(options) {}

void RefusalAudit::Observe(std::string_view method, std::string_view target, std::string_view peer,
                           const ApiResponse& response) {
  // Most answers are not refusals: they leave before any string is made.
  const int status = response.status;
  if (status != 401 && status != 403 && status != 404 && status != 409 && status != 429) return;
  std::string path = PathForLog(target);
  if (!IsAuditedRefusal(method, path, status)) return;

  workflow::Refusal refusal;
  refusal.actor = response.user;
  refusal.source = EscapeForTerminal(peer);
  const std::string key =
      refusal.actor.empty() ? "addr:" + refusal.source : "user:" + refusal.actor;
  const std::int64_t minute =
      std::chrono::duration_cast<std::chrono::minutes>(clock_.Now().time_since_epoch()).count();
  {
    MutexLock lock(&mu_);
    if (sources_.size() >= options_.max_sources && sources_.find(key) == sources_.end()) {
      // Forget the sources whose minute has passed; if every one is current, start afresh.
      for (auto it = sources_.begin(); it != sources_.end();) {
        it = it->second.minute < minute && it->second.suppressed == 0 ? sources_.erase(it)
                                                                      : std::next(it);
      }
      if (sources_.size() >= options_.max_sources) sources_.clear();
    }
    Window& source = sources_[key];
    if (source.minute != minute) {
      source.minute = minute;
      source.written = 0;
    }
    if (total_.minute != minute) {
      total_.minute = minute;
      total_.written = 0;
    }
    if (source.written >= options_.per_source_per_minute ||
        total_.written >= options_.total_per_minute) {
      ++source.suppressed;
      ++suppressed_;
      return;
    }
    ++source.written;
    ++total_.written;
    ++written_;
    refusal.suppressed = source.suppressed;
    source.suppressed = 0;
  }

  refusal.method = EscapeForTerminal(method.substr(0, 16));
  refusal.path = path;
  refusal.status = response.status;
  refusal.request_id = response.request_id.empty() ? RequestIdOf(path) : response.request_id;
  nlohmann::json body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const nlohmann::json& error = body["error"];
    if (error.contains("code") && error["code"].is_string()) {
      refusal.code = EscapeForTerminal(error["code"].get<std::string>().substr(0, 64));
    }
    if (error.contains("message") && error["message"].is_string()) {
      refusal.message =
          EscapeForTerminal(error["message"].get<std::string>().substr(0, kMaxMessageBytes));
    }
  }
  if (Status s = workflow_.RecordRefusal(refusal); !s.ok()) {
    spdlog::warn("audit: could not record a refused {} {}: {}", refusal.method, refusal.path,
                 s.message());
  }
}

std::int64_t RefusalAudit::written() const {
  MutexLock lock(&mu_);
  return written_;
}

std::int64_t RefusalAudit::suppressed() const {
  MutexLock lock(&mu_);
  return suppressed_;
}

}  // namespace jit::api
