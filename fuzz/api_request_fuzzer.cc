// Fuzzes the HTTP API's request handling: api::ApiHandler::Handle in-process, over the memory
// store, the fake provider and the dev config (the dev users' tokens), with the scheduler
// running due jobs inline after each request so that fuzzed requests reach grants and
// revocations too.
//
// Input: up to kMaxRequests requests separated by the byte 0x1e. Each request is
//   METHOD \n TARGET \n AUTHORIZATION \n BODY...
// (missing lines are empty). "{id}" in TARGET is replaced by the id of the last request the
// API created (a 201), so that a seed can submit and then act on what it made.
//
// What must hold for every input (a violation aborts, and libFuzzer keeps the input):
//   - no 500: bad input always gets a clear 4xx (the store and provider here never fail);
//   - every answer that says application/json is a JSON document, and every error is
//     {"error": {"code": string, "message": string}}.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/handlers.h"
#include "audit/trail.h"
#include "auth/auth.h"
#include "core/clock.h"
#include "policy/config.h"
#include "provider/fake_provider.h"
#include "scheduler/scheduler.h"
#include "store/memory_store.h"
#include "workflow/workflow.h"

namespace {

using nlohmann::json;

constexpr std::size_t kMaxRequests = 8;

[[noreturn]] void Fail(const std::string& why, const jit::api::ApiRequest& req,
                       const jit::api::ApiResponse& res) {
  (void)std::fprintf(stderr, "api_request_fuzzer: %s\n  %s %s\n  -> %d %s\n", why.c_str(),
                     req.method.c_str(), req.target.c_str(), res.status, res.body.c_str());
  std::abort();
}

const jit::policy::Config& DevConfig() {
  static const jit::policy::Config* config = [] {
    auto c = jit::policy::ParseConfig(jit::policy::DevPolicyYaml(), "dev-config");
    if (!c.has_value()) std::abort();
    return new jit::policy::Config(std::move(c).value());
  }();
  return *config;
}

jit::auth::Authenticator& Authenticator() {
  static jit::auth::Authenticator* auth =
      jit::auth::NewStaticAuthenticator(jit::auth::DevUsers(), {}).release();
  return *auth;
}

std::vector<std::string_view> Split(std::string_view data, char sep, std::size_t max) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max) {
    std::size_t at = data.find(sep);
    if (at == std::string_view::npos) break;
    out.push_back(data.substr(0, at));
    data.remove_prefix(at + 1);
  }
  out.push_back(data);
  return out;
}

void Check(const jit::api::ApiRequest& req, const jit::api::ApiResponse& res) {
  if (res.status < 200 || res.status > 599) Fail("status out of range", req, res);
  if (res.status >= 500 && res.status != 501 && res.status != 503) {
    Fail("server error for a request", req, res);
  }
  if (res.content_type != "application/json") return;
  json body = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) Fail("answer is not JSON", req, res);
  if (res.status >= 400) {
    const json* error = body.is_object() && body.contains("error") ? &body["error"] : nullptr;
    if (error == nullptr || !error->is_object() || !(*error)["code"].is_string() ||
        !(*error)["message"].is_string()) {
      Fail("error answer without {error: {code, message}}", req, res);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  jit::FakeClock clock;
  std::unique_ptr<jit::store::Store> store = jit::store::NewMemoryStore(clock);
  jit::provider::FakeProvider provider;
  jit::policy::ConfigHolder config(DevConfig());
  jit::workflow::Workflow workflow(*store, config, provider, clock);
  jit::scheduler::SchedulerOptions sched_opts;
  sched_opts.workers = 0;
  jit::scheduler::Scheduler scheduler(*store, workflow, clock, sched_opts);
  if (!scheduler.Start().ok()) std::abort();
  jit::api::ApiHooks hooks;
  jit::store::Store* st = store.get();
  hooks.verify_audit = [st]() {
    return jit::audit::VerifyTrail(
        [st](std::int64_t after, int limit) { return st->ListAudit(after, limit); }, {}, nullptr);
  };
  hooks.metrics = [] { return std::string("# no metrics\n"); };
  jit::api::ApiHandler handler(
      workflow, Authenticator(), config, [] { return jit::OkStatus(); }, hooks);

  std::string last_id;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  for (std::string_view one : Split(input, '\x1e', kMaxRequests)) {
    std::vector<std::string_view> lines = Split(one, '\n', 4);
    jit::api::ApiRequest req;
    req.method = std::string(lines.size() > 0 ? lines[0] : "");
    req.target = std::string(lines.size() > 1 ? lines[1] : "");
    req.authorization = std::string(lines.size() > 2 ? lines[2] : "");
    req.body = std::string(lines.size() > 3 ? lines[3] : "");
    for (std::size_t at = req.target.find("{id}"); at != std::string::npos;
         at = req.target.find("{id}", at + last_id.size())) {
      req.target.replace(at, 4, last_id);
    }
    jit::api::ApiResponse res = handler.Handle(req);
    Check(req, res);
    if (res.status == 201) {
      json body = json::parse(res.body, nullptr, false);
      if (body.is_object() && body["id"].is_string()) last_id = body["id"].get<std::string>();
    }
    // Let time pass: grants, expiries and approval timeouts run.
    clock.Advance(std::chrono::seconds(7));
  }
  clock.Advance(std::chrono::hours(9));  // everything ends
  scheduler.Stop();
  return 0;
}
