#pragma once
// SHA-256, HMAC-SHA256 and a constant-time comparison (OpenSSL underneath). A failure inside
// OpenSSL (out of memory) aborts: the broker fails closed.

#include <string>
#include <string_view>

namespace jit {

// SHA-256 of `data`: 32 raw bytes.
std::string Sha256(std::string_view data);
// Lowercase hex of Sha256(data): 64 characters.
std::string Sha256Hex(std::string_view data);
// HMAC-SHA256 of `data` under `key`: 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data);

// True when `a` and `b` are equal, taking a time that depends only on their length (which is
// not secret: strings of different lengths are unequal at once).
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace jit
