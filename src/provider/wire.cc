#include "provider/wire.h"

#include <set>
#include <utility>

namespace jit::provider::wire {

using nlohmann::json;

namespace {
constexpr int kMaxPages = 10000;
}  // namespace

std::string String(const json& j, const char* key) {
  if (!j.is_object()) return {};
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

Status Malformed(const std::string& operation, const std::string& what) {
  return InternalError(operation + ": unexpected answer from Identity Center: " + what);
}

Status Paginate(aws::JsonClient& client, const std::string& operation, json body,
                const std::function<Status(const json&)>& page) {
  std::set<std::string> seen;
  for (int i = 0; i < kMaxPages; ++i) {
    Result<json> answer = client.Call(operation, body);
    if (!answer.has_value()) return answer.error();
    JIT_RETURN_IF_ERROR(page(*answer));
    std::string next = String(*answer, "NextToken");
    if (next.empty()) return OkStatus();
    if (!seen.insert(next).second) return Malformed(operation, "a NextToken came back twice");
    body["NextToken"] = next;
  }
  return Malformed(operation, "more than " + std::to_string(kMaxPages) + " pages");
}

Result<const json*> Array(const json& page, const char* key, const std::string& operation) {
  static const json kEmpty = json::array();
  auto it = page.find(key);
  if (it == page.end() || it->is_null()) return &kEmpty;
  if (!it->is_array()) return Malformed(operation, key);
  return &*it;
}

Result<Operation> OperationStatus(const json& answer, const char* field) {
  if (!answer.is_object() || !answer.contains(field) || !answer[field].is_object()) {
    return Malformed(field, std::string("no ") + field);
  }
  const json& st = answer[field];
  Operation op;
  op.id = String(st, "RequestId");
  std::string status = String(st, "Status");
  if (status == "IN_PROGRESS") {
    op.state = OperationState::kInProgress;
  } else if (status == "SUCCEEDED") {
    op.state = OperationState::kSucceeded;
  } else if (status == "FAILED") {
    op.state = OperationState::kFailed;
    op.failure_reason = String(st, "FailureReason");
    if (op.failure_reason.empty()) op.failure_reason = "no reason given";
  } else {
    return Malformed(field, "Status '" + status + "'");
  }
  if (op.state == OperationState::kInProgress && op.id.empty()) {
    return Malformed(field, "an IN_PROGRESS status without a RequestId");
  }
  return op;
}

}  // namespace jit::provider::wire
