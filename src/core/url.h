#pragma once
// Shapes of URLs the broker accepts from its config and from identity providers.

#include <string_view>

namespace jit {

// True for an https URL, or an http URL whose host is loopback (localhost, 127.x.x.x, [::1]);
// URLs with user info are refused.
bool IsHttpsOrLoopbackHttpUrl(std::string_view url);

}  // namespace jit
