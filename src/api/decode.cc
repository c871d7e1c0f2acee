#include "api/decode.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <limits>

#include "api/json.h"
#include "core/duration.h"
#include "core/form.h"
#include "core/ids.h"
#include "core/time_format.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;

// Longest duration accepted as whole seconds, like ParseDuration's limit.
constexpr std::int64_t kMaxDurationSeconds = 366LL * 24 * 60 * 60;

// A whole decimal number without sign or spaces.
std::optional<std::int64_t> ParseWholeNumber(std::string_view s) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return std::nullopt;
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// The member `name` of `body`; null when absent or JSON null.
const json* Member(const json& body, std::string_view name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string Field(std::string_view name) { return "field \"" + std::string(name) + "\""; }

std::string Param(const Query& query, const std::string& name) {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

}  // namespace

InputError BadShape(std::string message) { return {400, "bad_request", std::move(message)}; }

InputError BadValue(std::string message) { return {422, "invalid_argument", std::move(message)}; }

std::optional<InputError> FirstRefusal(int status,
                                       std::initializer_list<const InputError*> refusals) {
  for (const InputError* e : refusals) {
    if (e != nullptr && e->status == status) return *e;
  }
  return std::nullopt;
}

// ---- Bodies ----

Decoded<json> DecodeObject(std::string_view body) {
  Result<json> parsed = ParseJsonObject(body);
  if (!parsed) return BadShape(parsed.error().message());
  return *std::move(parsed);
}

std::optional<InputError> CheckKnownFields(const json& body,
                                           std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : body.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return BadShape("unknown field \"" + key + "\"");
    }
  }
  return std::nullopt;
}

Decoded<std::string> DecodeString(const json& body, std::string_view name) {
  const json* m = Member(body, name);
  if (m == nullptr) return std::string();
  if (!m->is_string()) return BadShape(Field(name) + " must be a string");
  return m->get<std::string>();
}

Decoded<std::string> DecodeRequiredString(const json& body, std::string_view name) {
  Decoded<std::string> s = DecodeString(body, name);
  if (s && s->empty()) return BadValue(std::string(name) + " is required");
  return s;
}

Decoded<std::vector<std::string>> DecodeAccounts(const json& body) {
  const json* m = Member(body, "accounts");
  if (m == nullptr) return std::vector<std::string>();
  if (!m->is_array()) return BadShape("accounts must be a list of strings");
  std::vector<std::string> out;
  for (const json& a : *m) {
    if (!a.is_string()) return BadShape("accounts must be a list of strings");
    if (a.get_ref<const std::string&>().empty()) return BadValue("accounts holds an empty name");
    out.push_back(a.get<std::string>());
  }
  if (out.empty()) return BadValue("accounts must name at least one account");
  return out;
}

Decoded<std::string> DecodeComment(const json& body) { return DecodeString(body, "comment"); }

Decoded<std::string> DecodeReason(const json& body, bool required) {
  return required ? DecodeRequiredString(body, "reason") : DecodeString(body, "reason");
}

Decoded<std::optional<Duration>> DecodeDuration(const json& body, bool required) {
  const json* d = Member(body, "duration");
  if (d == nullptr) {
    if (required) return BadValue("duration is required");
    return std::optional<Duration>();
  }
  if (d->is_string()) {
    Result<Duration> parsed = ParseDuration(d->get_ref<const std::string&>());
    if (!parsed) return BadValue(parsed.error().message());
    return std::optional<Duration>(*parsed);
  }
  // Parsed JSON holds a non-negative whole number as unsigned; one built in code may not.
  if (d->is_number_unsigned() || (d->is_number_integer() && d->get<std::int64_t>() >= 0)) {
    std::uint64_t s = d->get<std::uint64_t>();
    if (s > static_cast<std::uint64_t>(kMaxDurationSeconds)) {
      return BadValue("duration must be at most 366 days");
    }
    return std::optional<Duration>(std::chrono::seconds(static_cast<std::int64_t>(s)));
  }
  if (d->is_number_integer()) return BadValue("duration must not be negative");
  return BadShape(Field("duration") +
                  " must be a string like \"30m\" or a whole number of seconds");
}

Decoded<std::optional<Time>> DecodeStartAt(const json& body) {
  Decoded<std::string> text = DecodeString(body, "start_at");
  if (!text) return text.error();
  if (text->empty()) return std::optional<Time>();
  Result<Time> t = ParseRfc3339(*text);
  if (!t) return BadValue("start_at must be an RFC 3339 time like \"2026-12-01T09:00:00Z\"");
  return std::optional<Time>(*t);
}

Decoded<std::optional<std::vector<std::string>>> DecodeGroups(const json& body) {
  const json* m = Member(body, "groups");
  if (m == nullptr) return std::optional<std::vector<std::string>>();
  InputError wrong = BadShape(Field("groups") + " must be an array of strings");
  if (!m->is_array()) return wrong;
  std::vector<std::string> groups;
  for (const json& g : *m) {
    if (!g.is_string()) return wrong;
    groups.push_back(g.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(groups));
}

// ---- Query strings ----

Decoded<Query> DecodeQuery(std::string_view query) {
  std::optional<Query> params = ParseForm(query);
  if (!params) return BadShape("malformed query string");
  return *std::move(params);
}

Decoded<std::optional<int>> DecodeLimit(const Query& query, int max) {
  std::string text = Param(query, "limit");
  if (text.empty()) return std::optional<int>();
  std::optional<std::int64_t> n = ParseWholeNumber(text);
  // A number too large for an int is out of range all the same; the workflow refuses max + 1.
  if (n && *n > std::numeric_limits<int>::max()) n = static_cast<std::int64_t>(max) + 1;
  if (!n) return BadValue(workflow::PageLimitError(max).message());
  return std::optional<int>(static_cast<int>(*n));
}

std::string DecodeCursor(const Query& query) { return Param(query, "cursor"); }

Decoded<bool> DecodeCompactView(const Query& query) {
  std::string view = Param(query, "view");
  if (view.empty() || view == "full") return false;
  if (view == "compact") return true;
  return BadValue("view must be full or compact");
}

Decoded<std::optional<model::RequestState>> DecodeState(const Query& query) {
  std::string text = Param(query, "state");
  if (text.empty()) return std::optional<model::RequestState>();
  std::optional<model::RequestState> state = model::ParseRequestState(text);
  if (!state) {
    return BadValue("unknown state \"" + text +
                    "\"; use pending, approved, active, revoking, ended, denied, cancelled, "
                    "timed_out or failed");
  }
  return state;
}

Decoded<bool> DecodeMine(const Query& query) {
  std::string text = Param(query, "mine");
  if (text == "true" || text == "1") return true;
  if (text.empty() || text == "false" || text == "0") return false;
  return BadValue("mine must be true or false");
}

Decoded<bool> DecodeAwaiting(const Query& query) {
  std::string text = Param(query, "awaiting");
  if (text.empty()) return false;
  if (text == "me") return true;
  return BadValue("awaiting must be me");
}

std::string DecodeReview(const Query& query) { return Param(query, "review"); }

Decoded<std::int64_t> DecodeAfter(const Query& query) {
  std::string text = Param(query, "after");
  if (text.empty()) return std::int64_t{0};
  std::optional<std::int64_t> n = ParseWholeNumber(text);
  if (!n) return BadValue("after must be a whole number (an audit sequence number)");
  return *n;
}

Decoded<std::string> DecodeAuditFormat(const Query& query) {
  std::string text = Param(query, "format");
  if (text.empty()) return std::string("jit");
  if (text != "jit" && text != "ocsf") return BadValue("format must be jit or ocsf");
  return text;
}

Decoded<Duration> DecodeSince(const Query& query) {
  auto it = query.find("since");
  if (it == query.end()) return workflow::kDefaultReportWindow;
  const std::string kWants =
      "since must be a duration such as 30d or 12h, more than 0 and at most " +
      FormatDuration(workflow::kMaxReportWindow);
  Result<Duration> d = ParseDuration(it->second);
  if (!d.has_value()) return BadShape(kWants + ": " + d.error().message());
  if (*d <= Duration(0) || *d > workflow::kMaxReportWindow) return BadShape(kWants);
  return *d;
}

Decoded<std::string> DecodeAccountFilter(const Query& query) {
  std::string text = Param(query, "account");
  constexpr std::size_t kMaxAccount = 128;
  bool control = std::any_of(text.begin(), text.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
  });
  if (text.size() > kMaxAccount || control) {
    return BadValue("account must be an account id or name");
  }
  return text;
}

// ---- Paths ----

Decoded<std::string> DecodeRequestId(std::string_view id) {
  if (!IsWellFormedId(id, "req_")) return InputError{404, "not_found", "no such request"};
  return std::string(id);
}

}  // namespace jit::api
