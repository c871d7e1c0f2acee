#include "workflow/sent_messages.h"

#include <nlohmann/json.hpp>

namespace jit::workflow {
namespace {

using json = nlohmann::json;

std::string Str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Status StoreSentMessages::Keep(const std::string& request_id, const notify::SentMessage& m) {
  if (request_id.empty() || m.channel.empty() || m.ts.empty()) {
    return InvalidArgumentError("a kept Slack message needs a request, a channel and a ts");
  }
  std::string key = request_id + "/" + m.channel + "/" + m.ts;
  std::string value = json{{"ts", m.ts}, {"to", m.to}, {"delivery", m.delivery}}.dump(
      -1, ' ', false, json::error_handler_t::replace);
  return store_.Transact(
      [&](store::Tx& tx) { return tx.PutRecord(kSlackMessageKind, key, value); });
}

Result<std::vector<notify::SentMessage>> StoreSentMessages::Kept(const std::string& request_id) {
  std::vector<std::pair<std::string, std::string>> records;
  JIT_RETURN_IF_ERROR(store_.Transact([&](store::Tx& tx) -> Status {
    JIT_ASSIGN_OR_RETURN(records, tx.ListRecords(kSlackMessageKind, request_id + "/"));
    return OkStatus();
  }));
  std::vector<notify::SentMessage> out;
  for (const auto& [key, value] : records) {
    // "<request id>/<channel>/<ts>": the channel is between the first and the last slash.
    std::size_t first = key.find('/');
    std::size_t last = key.rfind('/');
    json j = json::parse(value, nullptr, /*allow_exceptions=*/false);
    if (first == std::string::npos || last <= first || !j.is_object()) continue;
    notify::SentMessage m;
    m.channel = key.substr(first + 1, last - first - 1);
    m.ts = Str(j, "ts");
    m.to = Str(j, "to");
    m.delivery = Str(j, "delivery");
    if (m.ts.empty()) continue;
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace jit::workflow
