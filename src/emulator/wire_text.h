#pragma once
// Small text helpers the emulator's services share for their wire answers: XML escaping, JSON
// text that survives invalid UTF-8, and the stable hashes behind made-up ids.

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace jit::emulator::wire {

// `s` with & < > " escaped for XML text and attribute values.
inline std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

// Compact JSON text; invalid UTF-8 in strings becomes U+FFFD rather than an exception.
inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// 64-bit FNV-1a of `s`, continuing from `h`.
inline std::uint64_t Fnv1a(std::string_view s, std::uint64_t h = 0xcbf29ce484222325ULL) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h;
}

// `v` as 16 lowercase hex digits.
inline std::string Hex64(std::uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace jit::emulator::wire
