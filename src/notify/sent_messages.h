#pragma once
// Where a Slack channel keeps the messages it posted about a request (its direct messages to
// approvers and its channel messages), so that it can update them once the request is decided
// (docs/NOTIFY.md "slack"), and so that a retried delivery does not post a message twice.
// notify defines it and knows no store: the workflow keeps them in the store's keyed records
// (workflow/sent_messages.h).

#include <string>
#include <vector>

#include "core/result.h"
#include "core/status.h"

namespace jit::notify {

// One message posted with chat.postMessage.
struct SentMessage {
  std::string channel;   // the Slack conversation it is in (C..., G..., D... for a DM)
  std::string ts;        // its Slack timestamp, which chat.update names it by
  std::string to;        // what chat.postMessage was asked to post to (a channel or user id)
  std::string delivery;  // the delivery (DeliveryId) that posted it

  friend bool operator==(const SentMessage&, const SentMessage&) = default;
};

// Thread-safe.
class SentMessages {
 public:
  virtual ~SentMessages() = default;
  // Keeps `m` as posted about `request_id` (a second Keep of the same channel and ts replaces
  // the first). Errors: Unavailable (ask again later), InvalidArgument (a value the keeper
  // cannot hold).
  virtual Status Keep(const std::string& request_id, const SentMessage& m) = 0;
  // Every message kept for `request_id`, in no promised order (empty when none). Errors:
  // Unavailable.
  virtual Result<std::vector<SentMessage>> Kept(const std::string& request_id) = 0;
};

}  // namespace jit::notify
