// Fuzzes the emulator's request handling (emulator::Emulator::HandleRaw: the same code the
// server runs on a request it read, from the SigV4 check and JSON parsing to every operation of
// sso-admin and identitystore, and the test endpoints).
//
// Input: a flags byte, then lines: METHOD \n PATH \n X-AMZ-TARGET \n CONTENT-TYPE \n BODY...
// Flags: bit 0: sign the request with the emulator's key (as the broker and the SDKs do), so
// that the fuzzer gets past the signature check to the operations; bit 1: also send
// x-amz-content-sha256; bit 2: sign for the wrong region; bit 3: advance the clock by the
// completion delay first (in-progress operations finish). State is reset before every input.
//
// What must hold (a violation aborts): the answer is JSON; an AWS error answer carries its
// __type in the body and in x-amzn-ErrorType; never a 500 (faults are off, so a 500 is an
// exception or a bug).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "aws/sigv4.h"
#include "core/clock.h"
#include "emulator/emulator.h"

namespace {

using nlohmann::json;

[[noreturn]] void Fail(const std::string& why, const jit::emulator::RawRequest& req,
                       const jit::emulator::RawResponse& res) {
  (void)std::fprintf(stderr, "emulator_request_fuzzer: %s\n  %s %s\n  -> %d %s %s\n", why.c_str(),
                     req.method.c_str(), req.target.c_str(), res.status, res.error_type.c_str(),
                     res.body.c_str());
  std::abort();
}

jit::FakeClock& Clock() {
  static auto* clock = new jit::FakeClock();
  return *clock;
}

jit::emulator::Emulator& TheEmulator() {
  static auto* emulator = new jit::emulator::Emulator(jit::emulator::EmulatorOptions(), Clock());
  return *emulator;
}

std::vector<std::string_view> Lines(std::string_view data, std::size_t max) {
  std::vector<std::string_view> out;
  while (out.size() + 1 < max) {
    std::size_t at = data.find('\n');
    if (at == std::string_view::npos) break;
    out.push_back(data.substr(0, at));
    data.remove_prefix(at + 1);
  }
  out.push_back(data);
  while (out.size() < max) out.emplace_back();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  jit::emulator::Emulator& emulator = TheEmulator();
  emulator.Reset();
  const std::uint8_t flags = data[0];
  std::vector<std::string_view> f =
      Lines(std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1), 5);

  jit::aws::HttpRequest http;
  http.method = std::string(f[0].empty() ? std::string_view("POST") : f[0]);
  std::string_view path = f[1].empty() ? std::string_view("/") : f[1];
  std::size_t q = path.find('?');
  http.path = std::string(path.substr(0, q));
  if (q != std::string_view::npos) http.query = std::string(path.substr(q + 1));
  http.headers = {{"Host", "127.0.0.1:8081"}};
  if (!f[2].empty()) http.headers.emplace_back("X-Amz-Target", std::string(f[2]));
  http.headers.emplace_back(
      "Content-Type",
      std::string(f[3].empty() ? std::string_view("application/x-amz-json-1.1") : f[3]));
  http.body = std::string(f[4]);
  if ((flags & 8) != 0) Clock().Advance(jit::Duration(200));
  if ((flags & 1) != 0) {
    std::string_view target = f[2];
    jit::aws::SigningParams params;
    params.region = (flags & 4) != 0 ? "eu-west-1" : "us-east-1";
    params.service = target.rfind("AWSIdentityStore.", 0) == 0 ? "identitystore" : "sso";
    params.time = Clock().Now();
    params.sign_body = (flags & 2) != 0;
    // A request the signer refuses (a path it cannot normalise...) goes unsigned.
    (void)jit::aws::Sign(http, {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}}, params);
  }

  jit::emulator::RawRequest req;
  req.method = http.method;
  req.target = http.path + (http.query.empty() ? "" : "?" + http.query);
  req.headers = http.headers;
  req.body = http.body;
  jit::emulator::RawResponse res = emulator.HandleRaw(req);
  if (res.status >= 500) Fail("server error", req, res);
  json body = json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) Fail("answer is not JSON", req, res);
  if (!res.error_type.empty()) {
    if (!body.is_object() || body.value("__type", "") != res.error_type) {
      Fail("error type header and body disagree", req, res);
    }
  } else if (res.status >= 400 && res.content_type != "application/json") {
    Fail("an AWS error without x-amzn-ErrorType", req, res);
  }
  return 0;
}
