#pragma once
// The services the broker notifies through, as the emulator stands in for them: SNS Publish
// (query protocol, signing name `sns`), STS GetCallerIdentity (query, `sts`), EventBridge
// PutEvents (awsJson 1.1, `AWSEvents.PutEvents`, `events`) and Security Hub
// BatchImportFindings (REST-JSON `POST /findings/import`, `securityhub`). Inputs are validated
// like the services do; what is accepted is recorded for GET /_emulator/state. Internal to
// jit_emulator; signatures are checked by the caller (emulator.cc).

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/mutex.h"
#include "emulator/emulator.h"

namespace jit::emulator {

// One answer, already in the service's wire format.
struct WireResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::string error_type;  // x-amzn-ErrorType (JSON and REST-JSON errors), else empty
};

// The query protocol's XML error: <ErrorResponse><Error><Type>Sender|Receiver</Type>
// <Code>code</Code><Message>message</Message></Error><RequestId>..</RequestId></ErrorResponse>.
WireResponse QueryError(int status, std::string_view code, std::string_view message);
// A REST-JSON error: x-amzn-ErrorType and {"Code": type, "Message": message}.
WireResponse RestJsonError(int status, std::string_view type, std::string_view message);

// Thread-safe.
class NotifyServices {
 public:
  // `clock` must outlive this.
  NotifyServices(std::string region, std::string account_id, std::string access_key_id,
                 Clock& clock);

  // A query-protocol call (form-encoded body) signed for `service` ("sns" or "sts").
  WireResponse HandleQuery(std::string_view service, std::string_view form_body);
  // EventBridge (X-Amz-Target AWSEvents.<op>), body parsed already.
  WireResponse HandleEvents(std::string_view operation, const nlohmann::json& input);
  // Security Hub POST /findings/import with the raw body.
  WireResponse HandleFindings(std::string_view body);

  void SetFaults(const Faults& faults);
  // Forgets everything recorded.
  void Reset();
  // {"sns": [published messages], "eventbridge": [events], "securityhub": [findings]}.
  nlohmann::json State() const;

 private:
  // The fault to answer with, if any (counts the call). REQUIRES: mu_ held.
  int FaultLocked() REQUIRES(mu_);  // 0 none, 1 throttle, 2 server error
  WireResponse Publish(const std::map<std::string, std::string>& params);
  WireResponse PutEvents(const nlohmann::json& input);

  const std::string region_;
  const std::string account_id_;
  const std::string access_key_id_;
  Clock& clock_;

  mutable Mutex mu_;
  Faults faults_ GUARDED_BY(mu_);
  std::uint64_t rng_state_ GUARDED_BY(mu_) = 1;
  nlohmann::json sns_ GUARDED_BY(mu_) = nlohmann::json::array();
  nlohmann::json events_ GUARDED_BY(mu_) = nlohmann::json::array();
  std::vector<nlohmann::json> findings_ GUARDED_BY(mu_);  // by first import
  // FIFO de-duplication: (topic, dedup id) -> (message id, when).
  std::map<std::pair<std::string, std::string>, std::pair<std::string, Time>> fifo_seen_
      GUARDED_BY(mu_);
};

}  // namespace jit::emulator
