#pragma once
// Decoding of the HTTP API's inputs: every body member, query parameter and path parameter is
// read and checked here, once, with one wording, for every handler (api/handlers.cc).
//
// What is checked here is the input's form: its JSON type, its syntax (a duration, an RFC 3339
// time, a whole number), and that a required field is there. Whether a well-formed value is
// allowed (a duration against a rule's maximum, a start against the schedule window, a page size
// against its range, who may do what) is checked below, in policy/ and workflow/, which every
// caller passes through.
//
// Conventions: a body member that is absent or null reads as absent. Refusals carry the HTTP
// status they earn: 400 bad_request for input of the wrong shape (not a JSON object, an unknown
// member, a member of the wrong JSON type, a malformed query string), 422 invalid_argument for
// input of the right shape that cannot be taken (a required field missing or empty, a value that
// does not parse). Pure functions; nothing here throws.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "model/request.h"

namespace jit::api {

// Why the API refuses an input, and how it answers.
struct InputError {
  int status = 400;       // 400 or 422, see above
  std::string_view code;  // "bad_request" or "invalid_argument", the JSON error body's code
  std::string message;    // safe to show; names the field
};

// 400 bad_request.
InputError BadShape(std::string message);
// 422 invalid_argument.
InputError BadValue(std::string message);

// A decoded value or the InputError that refused it.
template <typename T>
class [[nodiscard]] Decoded {
 public:
  Decoded(T value) : value_(std::move(value)) {}           // NOLINT: implicit, like Result
  Decoded(InputError error) : error_(std::move(error)) {}  // NOLINT: implicit, like Result

  bool has_value() const { return value_.has_value(); }
  explicit operator bool() const { return has_value(); }
  // REQUIRES: has_value().
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  // REQUIRES: !has_value().
  const InputError& error() const { return *error_; }
  // The refusal, or null when decoded.
  const InputError* refusal() const { return error_ ? &*error_ : nullptr; }

 private:
  std::optional<T> value_;
  std::optional<InputError> error_;
};

// The first of `refusals` (null: that field decoded) whose status is `status`; nullopt when
// there is none. A body with several faults is answered for its shape (400) first, then for its
// values (422), each in an order the handler gives.
std::optional<InputError> FirstRefusal(int status,
                                       std::initializer_list<const InputError*> refusals);

// ---- Bodies ----

// The body as a JSON object; an empty body reads as {}. 400 for malformed JSON or anything but
// an object.
Decoded<nlohmann::json> DecodeObject(std::string_view body);

// 400 `unknown field "x"` naming the first member (in key order) not in `allowed`.
std::optional<InputError> CheckKnownFields(const nlohmann::json& body,
                                           std::initializer_list<std::string_view> allowed);

// A string member; absent or null reads as "". 400 `field "name" must be a string`.
Decoded<std::string> DecodeString(const nlohmann::json& body, std::string_view name);

// DecodeString, and 422 `name is required` when it reads as "".
Decoded<std::string> DecodeRequiredString(const nlohmann::json& body, std::string_view name);
// `accounts` of a new request for several accounts: absent -> empty; 400 "accounts must be a
// list of strings" for another shape; 422 for an empty list or an empty entry.
Decoded<std::vector<std::string>> DecodeAccounts(const nlohmann::json& body);

// "comment" (approve, review): optional free text.
Decoded<std::string> DecodeComment(const nlohmann::json& body);

// "reason": optional free text (submit, revoke), or required (deny: 422 "reason is required").
Decoded<std::string> DecodeReason(const nlohmann::json& body, bool required);

// "duration": a string ParseDuration reads ("30m", "1h30m": 422 with its message when it does
// not) or a whole number of seconds (422 "duration must not be negative" / "duration must be at
// most 366 days"). 400 `field "duration" must be a string like "30m" or a whole number of
// seconds` for any other JSON type. Absent or null: nullopt, or 422 "duration is required" when
// `required`.
Decoded<std::optional<Duration>> DecodeDuration(const nlohmann::json& body, bool required);

// "start_at": an RFC 3339 time (422 `start_at must be an RFC 3339 time like
// "2026-12-01T09:00:00Z"` when not); 400 `field "start_at" must be a string`. Absent, null or "":
// nullopt (at once).
Decoded<std::optional<Time>> DecodeStartAt(const nlohmann::json& body);

// "groups": an array of strings; 400 `field "groups" must be an array of strings`. Absent or
// null: nullopt.
Decoded<std::optional<std::vector<std::string>>> DecodeGroups(const nlohmann::json& body);

// ---- Query strings ----

using Query = std::map<std::string, std::string>;

// "a=1&b=x+y" -> {a: "1", b: "x y"}; 400 "malformed query string" for a broken escape.
Decoded<Query> DecodeQuery(std::string_view query);

// ?limit=N, a page size: nullopt when absent. 422 with workflow::PageLimitError(max)'s message
// ("limit must be a whole number from 1 to <max>") when it is not a whole number. Whether it is
// within 1..max is the workflow's check (workflow::kMaxListLimit, kMaxAuditLimit), worded so.
Decoded<std::optional<int>> DecodeLimit(const Query& query, int max);
// GET /v1/catalog's `view`: false for absent or "full", true for "compact"; 422 otherwise.
Decoded<bool> DecodeCompactView(const Query& query);

// ?cursor=..., an opaque paging cursor; "" when absent.
std::string DecodeCursor(const Query& query);

// ?state=pending|approved|...: nullopt when absent; 422 naming the states when unknown.
Decoded<std::optional<model::RequestState>> DecodeState(const Query& query);

// ?mine=true|false|1|0: false when absent; 422 "mine must be true or false".
Decoded<bool> DecodeMine(const Query& query);
// `awaiting=me`: only requests waiting for the caller's decision. Empty or absent: false;
// anything else is refused.
Decoded<bool> DecodeAwaiting(const Query& query);

// ?review=open|closed: "" when absent. Its values are the workflow's to check.
std::string DecodeReview(const Query& query);

// ?after=SEQ, an audit sequence number: 0 when absent; 422 "after must be a whole number (an
// audit sequence number)".
Decoded<std::int64_t> DecodeAfter(const Query& query);

// ?format=jit|ocsf: "jit" when absent; 422 "format must be jit or ocsf".
Decoded<std::string> DecodeAuditFormat(const Query& query);

// ?since=DURATION, how far back a report reaches ("30d", "12h", "1d12h"; core ParseDuration):
// workflow::kDefaultReportWindow when absent. 400 bad_request "since must be a duration such as
// 30d or 12h, more than 0 and at most 366d: ..." when it cannot be read or is out of range.
Decoded<Duration> DecodeSince(const Query& query);
// ?account=ID_OR_NAME of GET /v1/assignments/standing: "" when absent (every account); 422
// "account must be an account id or name" when longer than 128 bytes or holding a control
// character. Whether the catalog has it is the workflow's question.
Decoded<std::string> DecodeAccountFilter(const Query& query);

// ---- Paths ----

// The {id} of /v1/requests/{id}...: 404 not_found "no such request" unless it is a well-formed
// request id ("req_..."), so that nothing malformed reaches the store.
Decoded<std::string> DecodeRequestId(std::string_view id);

}  // namespace jit::api
