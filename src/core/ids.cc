#include "core/ids.h"

#include <cstdint>
#include <random>

#include "core/mutex.h"

namespace jit {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

std::uint64_t RandomBits() {
  static Mutex mu;
  static std::mt19937_64 gen = [] {
    std::random_device rd;
    std::seed_seq seq{rd(), rd(), rd(), rd()};
    return std::mt19937_64(seq);
  }();
  MutexLock lock(&mu);
  return gen();
}

}  // namespace

std::string NewId(std::string_view prefix, Time now) {
  std::uint64_t ms = static_cast<std::uint64_t>(ToUnixMillis(now)) & ((1ULL << 48) - 1);
  std::uint64_t r1 = RandomBits();
  std::uint64_t r2 = RandomBits() & 0xFFFF;  // 64 + 16 = 80 random bits
  std::string out(prefix);
  // 10 characters of time (50 bits, top 2 zero), 16 characters of randomness (80 bits).
  for (int i = 9; i >= 0; --i) out += kAlphabet[(ms >> (i * 5)) & 31];
  for (int i = 0; i < 16; ++i) {
    // Pull 5 bits at a time from r2:r1 (80 bits).
    unsigned idx = static_cast<unsigned>(r1 & 31);
    r1 = (r1 >> 5) | ((r2 & 31) << 59);
    r2 >>= 5;
    out += kAlphabet[idx];
  }
  return out;
}

bool IsWellFormedId(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + 26 || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size())) {
    bool ok = false;
    for (const char* p = kAlphabet; *p != '\0'; ++p) ok = ok || (*p == c);
    if (!ok) return false;
  }
  return true;
}

}  // namespace jit
