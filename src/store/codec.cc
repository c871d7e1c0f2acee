#include "store/codec.h"

#include <cstdint>
#include <exception>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

namespace jit::store {
namespace {

using Json = nlohmann::json;

Json TimeJson(const std::optional<Time>& t) {
  return t.has_value() ? Json(ToUnixMillis(*t)) : Json(nullptr);
}

std::optional<Time> OptionalTime(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return FromUnixMillis(it->get<std::int64_t>());
}

Json ApprovalsJson(const std::vector<model::Approval>& approvals) {
  Json out = Json::array();
  for (const model::Approval& a : approvals) {
    out.push_back({{"approver", a.approver}, {"comment", a.comment}, {"at", ToUnixMillis(a.at)}});
  }
  return out;
}

std::vector<model::Approval> ApprovalsFrom(const Json& j, const char* key) {
  std::vector<model::Approval> out;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return out;
  for (const Json& a : *it) {
    out.push_back({a.at("approver").get<std::string>(), a.at("comment").get<std::string>(),
                   FromUnixMillis(a.at("at").get<std::int64_t>())});
  }
  return out;
}

// Whether `j` holds a floating-point number anywhere.
bool HoldsFloat(const Json& j) {
  if (j.is_number_float()) return true;
  if (j.is_structured()) {
    for (const Json& v : j) {
      if (HoldsFloat(v)) return true;
    }
  }
  return false;
}

}  // namespace

Result<std::string> EncodeRequestData(const model::Request& r) {
  try {
    Json extension = nullptr;
    if (r.extension.has_value()) {
      extension = {{"seconds", r.extension->seconds},
                   {"requested_at", ToUnixMillis(r.extension->requested_at)},
                   {"deadline", ToUnixMillis(r.extension->deadline)},
                   {"approvals", ApprovalsJson(r.extension->approvals)}};
    }
    Json j = {
        {"id", r.id},
        {"requester", r.requester},
        {"principal_id", r.principal_id},
        {"account_id", r.account_id},
        {"account_name", r.account_name},
        {"permission_set_name", r.permission_set_name},
        {"permission_set_arn", r.permission_set_arn},
        {"duration_seconds", r.duration_seconds},
        {"reason", r.reason},
        {"ticket", r.ticket},
        {"rule", r.rule},
        {"batch", r.batch},
        {"break_glass", r.break_glass},
        {"approvals_required", r.approvals_required},
        {"approver_users", r.approver_users},
        {"approver_groups", r.approver_groups},
        {"approvals", ApprovalsJson(r.approvals)},
        {"state", model::RequestStateName(r.state)},
        {"created_at", ToUnixMillis(r.created_at)},
        {"approval_deadline", TimeJson(r.approval_deadline)},
        {"start_at", TimeJson(r.start_at)},
        {"decided_at", TimeJson(r.decided_at)},
        {"activated_at", TimeJson(r.activated_at)},
        {"expires_at", TimeJson(r.expires_at)},
        {"ended_at", TimeJson(r.ended_at)},
        {"decided_by", r.decided_by},
        {"end_reason", r.end_reason},
        {"failure_reason", r.failure_reason},
        {"grant_operation_id", r.grant_operation_id},
        {"revoke_operation_id", r.revoke_operation_id},
        {"review_state", r.review_state},
        {"reviewed_by", r.reviewed_by},
        {"review_comment", r.review_comment},
        {"reviewed_at", TimeJson(r.reviewed_at)},
        {"extension", std::move(extension)},
        {"revoke_overdue_at", TimeJson(r.revoke_overdue_at)},
    };
    return j.dump();
  } catch (const Json::exception& e) {
    return InvalidArgumentError(std::string("request " + r.id + " cannot be stored: ") + e.what());
  }
}

Status DecodeRequestDataWithDom(std::string_view data, model::Request& r) {
  try {
    Json j = Json::parse(data);
    // The codec writes whole numbers only; a float (damage) would reach a conversion to an
    // integer that is undefined when out of range.
    if (HoldsFloat(j))
      return InternalError("request " + r.id + " is damaged: a number with a fraction");
    r.principal_id = j.value("principal_id", "");
    r.account_id = j.value("account_id", "");
    r.account_name = j.value("account_name", "");
    r.permission_set_name = j.value("permission_set_name", "");
    r.permission_set_arn = j.value("permission_set_arn", "");
    r.duration_seconds = j.value("duration_seconds", std::int64_t{0});
    r.reason = j.value("reason", "");
    r.ticket = j.value("ticket", "");
    r.rule = j.value("rule", "");
    r.batch = j.value("batch", std::vector<std::string>{});
    r.break_glass = j.value("break_glass", false);
    r.approvals_required = j.value("approvals_required", 0);
    r.approver_users = j.value("approver_users", std::vector<std::string>{});
    r.approver_groups = j.value("approver_groups", std::vector<std::string>{});
    r.approvals = ApprovalsFrom(j, "approvals");
    r.created_at = FromUnixMillis(j.value("created_at", std::int64_t{0}));
    r.approval_deadline = OptionalTime(j, "approval_deadline");
    r.start_at = OptionalTime(j, "start_at");
    r.decided_at = OptionalTime(j, "decided_at");
    r.activated_at = OptionalTime(j, "activated_at");
    r.expires_at = OptionalTime(j, "expires_at");
    r.ended_at = OptionalTime(j, "ended_at");
    r.decided_by = j.value("decided_by", "");
    r.end_reason = j.value("end_reason", "");
    r.failure_reason = j.value("failure_reason", "");
    r.grant_operation_id = j.value("grant_operation_id", "");
    r.revoke_operation_id = j.value("revoke_operation_id", "");
    r.review_state = j.value("review_state", "");
    r.reviewed_by = j.value("reviewed_by", "");
    r.review_comment = j.value("review_comment", "");
    r.reviewed_at = OptionalTime(j, "reviewed_at");
    r.revoke_overdue_at = OptionalTime(j, "revoke_overdue_at");
    r.extension.reset();
    if (auto it = j.find("extension"); it != j.end() && !it->is_null()) {
      model::PendingExtension e;
      e.seconds = it->at("seconds").get<std::int64_t>();
      e.requested_at = FromUnixMillis(it->at("requested_at").get<std::int64_t>());
      e.deadline = FromUnixMillis(it->at("deadline").get<std::int64_t>());
      e.approvals = ApprovalsFrom(*it, "approvals");
      r.extension = std::move(e);
    }
  } catch (const std::exception& e) {
    return InternalError("request " + r.id + " is damaged: " + e.what());
  }
  return OkStatus();
}

namespace {

// Reads the JSON text EncodeRequestData writes straight into a Request, without building a
// document: several times faster than nlohmann's parser on a typical row, which every list,
// page and report pays for each request. It accepts only the shapes EncodeRequestData writes
// (strings where strings go, whole numbers or null for times, ...) plus any whitespace and
// members it does not know, which it skips. Anything else -- a value of another type, a float,
// bytes that are not UTF-8, a lone surrogate -- makes Read return false, and the caller decodes
// the text with nlohmann instead, so the outcome (values or error) is always the DOM decoder's.
class FastRequestReader {
 public:
  explicit FastRequestReader(std::string_view text) : s_(text) {}

  bool Read(model::Request& r) {
    Reset(r);
    Ws();
    return Object([&](const std::string& key) { return Member(key, r); }) && End();
  }

 private:
  // What the DOM decoder leaves in a field whose member is missing.
  static void Reset(model::Request& r) {
    r.principal_id.clear();
    r.account_id.clear();
    r.account_name.clear();
    r.permission_set_name.clear();
    r.permission_set_arn.clear();
    r.duration_seconds = 0;
    r.reason.clear();
    r.ticket.clear();
    r.rule.clear();
    r.batch.clear();
    r.break_glass = false;
    r.approvals_required = 0;
    r.approver_users.clear();
    r.approver_groups.clear();
    r.approvals.clear();
    r.created_at = FromUnixMillis(0);
    r.approval_deadline.reset();
    r.start_at.reset();
    r.decided_at.reset();
    r.activated_at.reset();
    r.expires_at.reset();
    r.ended_at.reset();
    r.decided_by.clear();
    r.end_reason.clear();
    r.failure_reason.clear();
    r.grant_operation_id.clear();
    r.revoke_operation_id.clear();
    r.review_state.clear();
    r.reviewed_by.clear();
    r.review_comment.clear();
    r.reviewed_at.reset();
    r.revoke_overdue_at.reset();
    r.extension.reset();
  }

  bool Member(std::string_view key, model::Request& r) {
    struct StringField {
      std::string_view key;
      std::string model::Request::*field;
    };
    static constexpr StringField kStrings[] = {
        {"principal_id", &model::Request::principal_id},
        {"account_id", &model::Request::account_id},
        {"account_name", &model::Request::account_name},
        {"permission_set_name", &model::Request::permission_set_name},
        {"permission_set_arn", &model::Request::permission_set_arn},
        {"reason", &model::Request::reason},
        {"ticket", &model::Request::ticket},
        {"rule", &model::Request::rule},
        {"decided_by", &model::Request::decided_by},
        {"end_reason", &model::Request::end_reason},
        {"failure_reason", &model::Request::failure_reason},
        {"grant_operation_id", &model::Request::grant_operation_id},
        {"revoke_operation_id", &model::Request::revoke_operation_id},
        {"review_state", &model::Request::review_state},
        {"reviewed_by", &model::Request::reviewed_by},
        {"review_comment", &model::Request::review_comment},
    };
    struct TimeField {
      std::string_view key;
      std::optional<Time> model::Request::*field;
    };
    static constexpr TimeField kTimes[] = {
        {"approval_deadline", &model::Request::approval_deadline},
        {"start_at", &model::Request::start_at},
        {"decided_at", &model::Request::decided_at},
        {"activated_at", &model::Request::activated_at},
        {"expires_at", &model::Request::expires_at},
        {"ended_at", &model::Request::ended_at},
        {"reviewed_at", &model::Request::reviewed_at},
        {"revoke_overdue_at", &model::Request::revoke_overdue_at},
    };
    for (const StringField& f : kStrings) {
      if (key == f.key) return String(r.*f.field);
    }
    for (const TimeField& f : kTimes) {
      if (key == f.key) return OptionalTimeValue(r.*f.field);
    }
    if (key == "created_at") return TimeValue(r.created_at);
    if (key == "duration_seconds") return Int(r.duration_seconds);
    if (key == "approvals_required") {
      std::int64_t n = 0;
      if (!Int(n) || n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
        return false;
      }
      r.approvals_required = static_cast<int>(n);
      return true;
    }
    if (key == "break_glass") return Bool(r.break_glass);
    if (key == "batch") return Strings(r.batch);
    if (key == "approver_users") return Strings(r.approver_users);
    if (key == "approver_groups") return Strings(r.approver_groups);
    if (key == "approvals") return Approvals(r.approvals);
    if (key == "extension") return Extension(r.extension);
    return Skip(0);  // id, requester, state (the engine's columns) and members it does not know
  }

  bool End() {
    Ws();
    return i_ == s_.size();
  }
  void Ws() {
    while (i_ < s_.size() &&
           (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) {
      ++i_;
    }
  }
  bool Eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  // A whole number that fits std::int64_t. A fraction or an exponent makes it a float, which the
  // DOM decoder converts: those are declined, like leading zeros (not JSON).
  bool Int(std::int64_t& out) {
    bool negative = Eat('-');
    std::size_t start = i_;
    std::uint64_t v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      if (v > (std::numeric_limits<std::uint64_t>::max() - 9) / 10) return false;
      v = v * 10 + static_cast<std::uint64_t>(s_[i_] - '0');
      ++i_;
    }
    std::size_t digits = i_ - start;
    if (digits == 0 || (digits > 1 && s_[start] == '0')) return false;
    if (i_ < s_.size() && (s_[i_] == '.' || s_[i_] == 'e' || s_[i_] == 'E')) return false;
    const std::uint64_t limit =
        static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (negative ? 1 : 0);
    if (v > limit) return false;
    out = negative ? static_cast<std::int64_t>(0 - v) : static_cast<std::int64_t>(v);
    return true;
  }
  bool TimeValue(Time& out) {
    std::int64_t ms = 0;
    if (!Int(ms)) return false;
    out = FromUnixMillis(ms);
    return true;
  }
  bool OptionalTimeValue(std::optional<Time>& out) {
    if (Word("null")) {
      out.reset();
      return true;
    }
    Time t;
    if (!TimeValue(t)) return false;
    out = t;
    return true;
  }
  bool Bool(bool& out) {
    if (Word("true")) {
      out = true;
      return true;
    }
    if (Word("false")) {
      out = false;
      return true;
    }
    return false;
  }

  static int Hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  bool Hex4(std::uint32_t& out) {
    if (s_.size() - i_ < 4) return false;
    out = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int h = Hex(s_[i_ + k]);
      if (h < 0) return false;
      out = out * 16 + static_cast<std::uint32_t>(h);
    }
    i_ += 4;
    return true;
  }
  static void AppendUtf8(std::uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  // The length of the well-formed UTF-8 sequence at i_ (whose lead byte is >= 0x80), or 0.
  std::size_t Utf8Length() const {
    auto byte = [this](std::size_t k) { return static_cast<unsigned char>(s_[i_ + k]); };
    auto cont = [&](std::size_t k) { return i_ + k < s_.size() && (byte(k) & 0xC0) == 0x80; };
    unsigned char b = byte(0);
    if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
      if (!cont(1) || !cont(2)) return 0;
      if (b == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
      if (b == 0xED && byte(1) >= 0xA0) return 0;  // a surrogate
      return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
      if (!cont(1) || !cont(2) || !cont(3)) return 0;
      if (b == 0xF0 && byte(1) < 0x90) return 0;   // overlong
      if (b == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
      return 4;
    }
    return 0;
  }

  bool String(std::string& out) {
    if (!Eat('"')) return false;
    out.clear();
    for (;;) {
      // The run of plain ASCII, copied at once.
      std::size_t run = i_;
      while (run < s_.size()) {
        unsigned char c = static_cast<unsigned char>(s_[run]);
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        ++run;
      }
      out.append(s_.data() + i_, run - i_);
      i_ = run;
      if (i_ >= s_.size()) return false;
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c < 0x20) return false;  // a raw control character: not JSON
      if (c >= 0x80) {
        std::size_t n = Utf8Length();
        if (n == 0) return false;
        out.append(s_.data() + i_, n);
        i_ += n;
        continue;
      }
      ++i_;  // the backslash
      if (i_ >= s_.size()) return false;
      char e = s_[i_++];
      if (e == 'u') {
        std::uint32_t cp = 0;
        if (!Hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          std::uint32_t low = 0;
          if (!Word("\\u") || !Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(cp, out);
        continue;
      }
      static constexpr std::string_view kFrom = "\"\\/bfnrt";
      static constexpr std::string_view kTo = "\"\\/\b\f\n\r\t";
      std::size_t at = kFrom.find(e);
      if (at == std::string_view::npos) return false;
      out += kTo[at];
    }
  }

  // [v, ...], each value read by `item`.
  template <typename F>
  bool Array(F&& item) {
    if (!Eat('[')) return false;
    Ws();
    if (Eat(']')) return true;
    for (;;) {
      Ws();
      if (!item()) return false;
      Ws();
      if (Eat(',')) continue;
      return Eat(']');
    }
  }
  // {"key": v, ...}, each value read by `member(key)`.
  template <typename F>
  bool Object(F&& member) {
    if (!Eat('{')) return false;
    Ws();
    if (Eat('}')) return true;
    for (;;) {
      Ws();
      std::string key;
      if (!String(key)) return false;
      Ws();
      if (!Eat(':')) return false;
      Ws();
      if (!member(key)) return false;
      Ws();
      if (Eat(',')) continue;
      return Eat('}');
    }
  }

  bool Strings(std::vector<std::string>& out) {
    out.clear();
    return Array([&] {
      out.emplace_back();
      return String(out.back());
    });
  }

  // null, or [{approver, comment, at}, ...] with each member present, as the DOM decoder's at()
  // requires.
  bool Approvals(std::vector<model::Approval>& out) {
    out.clear();
    if (Word("null")) return true;
    return Array([&] {
      model::Approval a;
      bool approver = false;
      bool comment = false;
      bool at = false;
      bool ok = Object([&](const std::string& key) {
        if (key == "approver") return approver = String(a.approver);
        if (key == "comment") return comment = String(a.comment);
        if (key == "at") return at = TimeValue(a.at);
        return Skip(0);
      });
      if (!ok || !approver || !comment || !at) return false;
      out.push_back(std::move(a));
      return true;
    });
  }

  bool Extension(std::optional<model::PendingExtension>& out) {
    out.reset();
    if (Word("null")) return true;
    model::PendingExtension e;
    bool seconds = false;
    bool requested = false;
    bool deadline = false;
    bool ok = Object([&](const std::string& key) {
      if (key == "seconds") return seconds = Int(e.seconds);
      if (key == "requested_at") return requested = TimeValue(e.requested_at);
      if (key == "deadline") return deadline = TimeValue(e.deadline);
      if (key == "approvals") return Approvals(e.approvals);
      return Skip(0);
    });
    if (!ok || !seconds || !requested || !deadline) return false;
    out = std::move(e);
    return true;
  }

  // Any JSON value, skipped (nested at most 32 deep; numbers whole only).
  bool Skip(int depth) {
    if (depth > 32 || i_ >= s_.size()) return false;
    char c = s_[i_];
    if (c == '"') {
      std::string ignored;
      return String(ignored);
    }
    if (c == '{') return Object([&](const std::string&) { return Skip(depth + 1); });
    if (c == '[') return Array([&] { return Skip(depth + 1); });
    if (Word("true") || Word("false") || Word("null")) return true;
    std::int64_t ignored = 0;
    return Int(ignored);
  }

  std::string_view s_;
  std::size_t i_ = 0;
};

}  // namespace

bool TryDecodeRequestDataFast(std::string_view data, model::Request& r) {
  return FastRequestReader(data).Read(r);
}

Status DecodeRequestData(std::string_view data, model::Request& r) {
  if (TryDecodeRequestDataFast(data, r)) return OkStatus();
  return DecodeRequestDataWithDom(data, r);
}

}  // namespace jit::store
