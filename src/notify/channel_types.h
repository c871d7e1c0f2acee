#pragma once
// The notification channel types: for each, the keys it reads from its `notify:` entry, its
// parser and its factory. One explicit table (no self-registration): a new channel type is a
// row here, its Options in channel_config.h, and its channel beside the others in notify/.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/reader.h"
#include "core/result.h"
#include "notify/channel_base.h"
#include "notify/channel_config.h"
#include "notify/notify.h"

namespace jit::notify {

struct ChannelType {
  std::string_view name;  // the `type:` value
  // The keys the type takes besides type, name, audiences, events and timeout.
  std::vector<std::string> keys;
  // Reads the type's keys of an entry (the fields of the map, the entry's line, "a TYPE
  // channel" for messages), reporting problems to the reader. Never null.
  std::shared_ptr<const ChannelOptions> (*parse)(const config::Fields& fields, int line,
                                                 const std::string& what, config::Reader& reader);
  // Builds the channel of `c` (whose options come from `parse`), reading its files. Errors as
  // NewChannels says.
  Result<std::unique_ptr<Channel>> (*make)(const ChannelConfig& c, ChannelSettings settings,
                                           const NotifierDeps& deps);
  // The events the type takes when its entry names no audiences or events.
  Filter default_filter;
};

// Every channel type, in the order the docs list them.
const std::vector<ChannelType>& ChannelTypes();
// The type named `name`, or null.
const ChannelType* FindChannelType(std::string_view name);

}  // namespace jit::notify
