#include "api/decode.h"

#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "core/time_format.h"
#include "workflow/workflow.h"

namespace jit::api {
namespace {

using nlohmann::json;

// The refusal of `d`, as "STATUS code: message"; "decoded" when there is none.
template <typename T>
std::string RefusalOf(const Decoded<T>& d) {
  if (d) return "decoded";
  return std::to_string(d.error().status) + " " + std::string(d.error().code) + ": " +
         d.error().message;
}

TEST(DecodeObject, EmptyBodyIsAnEmptyObjectAndOthersAre400) {
  Decoded<json> empty = DecodeObject("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->is_object() && empty->empty());
  EXPECT_EQ(DecodeObject("[1]").error().status, 400);
  EXPECT_EQ(DecodeObject("{not json").error().status, 400);
}

TEST(CheckKnownFields, NamesTheFirstUnknownMember) {
  std::optional<InputError> e = CheckKnownFields(json{{"coment", "x"}}, {"comment"});
  ASSERT_TRUE(e);
  EXPECT_EQ(e->status, 400);
  EXPECT_EQ(e->message, "unknown field \"coment\"");
  EXPECT_FALSE(CheckKnownFields(json{{"comment", "x"}}, {"comment"}));
}

TEST(DecodeString, AbsentOrNullIsEmptyAndOtherTypesAre400) {
  EXPECT_EQ(*DecodeString(json::object(), "ticket"), "");
  EXPECT_EQ(*DecodeString(json{{"ticket", nullptr}}, "ticket"), "");
  EXPECT_EQ(*DecodeString(json{{"ticket", "T-1"}}, "ticket"), "T-1");
  EXPECT_EQ(RefusalOf(DecodeString(json{{"ticket", 7}}, "ticket")),
            "400 bad_request: field \"ticket\" must be a string");
}

TEST(DecodeRequiredString, EmptyIs422NamingTheField) {
  EXPECT_EQ(RefusalOf(DecodeRequiredString(json{{"account", ""}}, "account")),
            "422 invalid_argument: account is required");
  EXPECT_EQ(RefusalOf(DecodeRequiredString(json::object(), "permission_set")),
            "422 invalid_argument: permission_set is required");
  EXPECT_EQ(RefusalOf(DecodeRequiredString(json{{"account", 1}}, "account")),
            "400 bad_request: field \"account\" must be a string");
}

TEST(DecodeReason, RequiredOnlyWhenAsked) {
  EXPECT_EQ(*DecodeReason(json::object(), false), "");
  EXPECT_EQ(RefusalOf(DecodeReason(json::object(), true)),
            "422 invalid_argument: reason is required");
  EXPECT_EQ(*DecodeComment(json{{"comment", "ok"}}), "ok");
}

TEST(DecodeDuration, ReadsTextAndWholeSeconds) {
  EXPECT_EQ(**DecodeDuration(json{{"duration", "1h30m"}}, true), std::chrono::minutes(90));
  EXPECT_EQ(**DecodeDuration(json{{"duration", 600}}, true), std::chrono::seconds(600));
  EXPECT_FALSE(*DecodeDuration(json::object(), false));
  EXPECT_FALSE(*DecodeDuration(json{{"duration", nullptr}}, false));
}

TEST(DecodeDuration, RefusesWithOneWording) {
  EXPECT_EQ(RefusalOf(DecodeDuration(json::object(), true)),
            "422 invalid_argument: duration is required");
  const std::string wrong_type =
      "400 bad_request: field \"duration\" must be a string like \"30m\" or a whole number of "
      "seconds";
  EXPECT_EQ(RefusalOf(DecodeDuration(json{{"duration", 1.5}}, true)), wrong_type);
  EXPECT_EQ(RefusalOf(DecodeDuration(json{{"duration", true}}, false)), wrong_type);
  EXPECT_EQ(RefusalOf(DecodeDuration(json{{"duration", -5}}, true)),
            "422 invalid_argument: duration must not be negative");
  EXPECT_EQ(RefusalOf(DecodeDuration(json{{"duration", 366LL * 86400 + 1}}, true)),
            "422 invalid_argument: duration must be at most 366 days");
  Decoded<std::optional<Duration>> bad = DecodeDuration(json{{"duration", "5x"}}, true);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().status, 422);
  EXPECT_NE(bad.error().message.find("5x"), std::string::npos) << bad.error().message;
}

TEST(DecodeStartAt, ReadsRfc3339AndAbsentEmptyOrNullIsAtOnce) {
  Decoded<std::optional<Time>> t = DecodeStartAt(json{{"start_at", "2026-01-02T09:00:00Z"}});
  ASSERT_TRUE(t && *t);
  EXPECT_EQ(FormatRfc3339(**t), "2026-01-02T09:00:00.000Z");
  EXPECT_FALSE(*DecodeStartAt(json::object()));
  EXPECT_FALSE(*DecodeStartAt(json{{"start_at", nullptr}}));
  EXPECT_FALSE(*DecodeStartAt(json{{"start_at", ""}}));
  EXPECT_EQ(RefusalOf(DecodeStartAt(json{{"start_at", "tomorrow"}})),
            "422 invalid_argument: start_at must be an RFC 3339 time like "
            "\"2026-12-01T09:00:00Z\"");
  EXPECT_EQ(RefusalOf(DecodeStartAt(json{{"start_at", 1767254400}})),
            "400 bad_request: field \"start_at\" must be a string");
}

TEST(DecodeGroups, AnArrayOfStrings) {
  EXPECT_EQ(**DecodeGroups(json{{"groups", {"a", "b"}}}), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(*DecodeGroups(json::object()));
  EXPECT_EQ(RefusalOf(DecodeGroups(json{{"groups", {"a", 1}}})),
            "400 bad_request: field \"groups\" must be an array of strings");
  EXPECT_EQ(RefusalOf(DecodeGroups(json{{"groups", "a"}})),
            "400 bad_request: field \"groups\" must be an array of strings");
}

TEST(FirstRefusal, PicksTheFirstOfTheAskedStatus) {
  InputError shape = BadShape("shape");
  InputError value = BadValue("value");
  EXPECT_EQ(FirstRefusal(400, {nullptr, &value, &shape})->message, "shape");
  EXPECT_EQ(FirstRefusal(422, {nullptr, &value, &shape})->message, "value");
  EXPECT_FALSE(FirstRefusal(400, {nullptr, &value}));
}

TEST(DecodeQuery, BrokenEscapeIs400) {
  EXPECT_EQ(RefusalOf(DecodeQuery("a=%zz")), "400 bad_request: malformed query string");
  EXPECT_EQ((*DecodeQuery("a=1&b=x+y"))["b"], "x y");
}

TEST(DecodeLimit, AWholeNumberWhoseRangeTheWorkflowChecks) {
  EXPECT_FALSE(*DecodeLimit({}, workflow::kMaxListLimit));
  EXPECT_EQ(**DecodeLimit({{"limit", "20"}}, workflow::kMaxListLimit), 20);
  // Out of range but a number: the workflow refuses it, in the same words.
  EXPECT_EQ(**DecodeLimit({{"limit", "0"}}, workflow::kMaxListLimit), 0);
  EXPECT_GT(**DecodeLimit({{"limit", "99999999999"}}, workflow::kMaxListLimit),
            workflow::kMaxListLimit);
  EXPECT_EQ(RefusalOf(DecodeLimit({{"limit", "abc"}}, workflow::kMaxListLimit)),
            "422 invalid_argument: limit must be a whole number from 1 to 500");
  EXPECT_EQ(RefusalOf(DecodeLimit({{"limit", "-1"}}, workflow::kMaxAuditLimit)),
            "422 invalid_argument: limit must be a whole number from 1 to 1000");
  EXPECT_EQ(workflow::PageLimitError(500).message(), "limit must be a whole number from 1 to 500");
}

TEST(DecodeQueryParameters, StateMineAfterFormat) {
  EXPECT_EQ(**DecodeState({{"state", "pending"}}), model::RequestState::kPending);
  EXPECT_FALSE(*DecodeState({}));
  EXPECT_EQ(RefusalOf(DecodeState({{"state", "odd"}})),
            "422 invalid_argument: unknown state \"odd\"; use pending, approved, active, "
            "revoking, ended, denied, cancelled, timed_out or failed");
  EXPECT_TRUE(*DecodeMine({{"mine", "1"}}));
  EXPECT_FALSE(*DecodeMine({}));
  EXPECT_EQ(RefusalOf(DecodeMine({{"mine", "yes"}})),
            "422 invalid_argument: mine must be true or false");
  EXPECT_EQ(*DecodeAfter({}), 0);
  EXPECT_EQ(*DecodeAfter({{"after", "42"}}), 42);
  EXPECT_EQ(RefusalOf(DecodeAfter({{"after", "-1"}})),
            "422 invalid_argument: after must be a whole number (an audit sequence number)");
  EXPECT_EQ(*DecodeAuditFormat({}), "jit");
  EXPECT_EQ(*DecodeAuditFormat({{"format", "ocsf"}}), "ocsf");
  EXPECT_EQ(RefusalOf(DecodeAuditFormat({{"format", "csv"}})),
            "422 invalid_argument: format must be jit or ocsf");
  EXPECT_EQ(DecodeCursor({{"cursor", "req_1"}}), "req_1");
  EXPECT_EQ(DecodeReview({{"review", "open"}}), "open");
}

TEST(DecodeRequestId, MalformedIdsAre404) {
  EXPECT_EQ(RefusalOf(DecodeRequestId("not-an-id")), "404 not_found: no such request");
  EXPECT_EQ(RefusalOf(DecodeRequestId("req_")), "404 not_found: no such request");
}

}  // namespace
}  // namespace jit::api
