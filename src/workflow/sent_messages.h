#pragma once
// notify::SentMessages in the store's keyed records: the Slack messages posted about a request,
// kept so that a decision can update them (docs/NOTIFY.md "slack"). Kind "slack_message", key
// "<request id>/<Slack conversation>/<ts>", value the JSON {"ts", "to", "delivery"}; a
// request's messages are those whose key starts with "<request id>/".

#include "notify/sent_messages.h"
#include "store/store.h"

namespace jit::workflow {

inline constexpr std::string_view kSlackMessageKind = "slack_message";

// Thread-safe. `store` must outlive it.
class StoreSentMessages final : public notify::SentMessages {
 public:
  explicit StoreSentMessages(store::Store& store) : store_(store) {}

  // Errors: the store's (Unavailable); InvalidArgument for a key the store cannot hold.
  Status Keep(const std::string& request_id, const notify::SentMessage& m) override;
  // In key order. A record that is not the JSON Keep writes is skipped.
  Result<std::vector<notify::SentMessage>> Kept(const std::string& request_id) override;

 private:
  store::Store& store_;
};

}  // namespace jit::workflow
