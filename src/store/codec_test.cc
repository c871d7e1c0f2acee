// The request codec (store/codec.h): what EncodeRequestData writes comes back unchanged, and the
// fast reader gives exactly what the JSON document decoder gives, or declines.

#include "store/codec.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "core/testing.h"

namespace jit::store::codec_test {
namespace {

using std::chrono::seconds;

model::Request Full() {
  model::Request r;
  r.id = "req_01KDVDNA00XNDGYMDB765XN6DE";
  r.requester = "alice";
  r.state = model::RequestState::kActive;
  r.principal_id = "a11ce000-0000-4000-8000-000000000001";
  r.account_id = "222222222222";
  r.account_name = "prod";
  r.permission_set_name = "Admin";
  r.permission_set_arn = "arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-2";
  r.duration_seconds = 3600;
  r.reason = "rotate \"the\" keys\\now\n\t\x01 caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x94\x91 </script>";
  r.ticket = "CHG-1042";
  r.rule = "prod-admin";
  r.break_glass = true;
  r.approvals_required = 2;
  r.approver_users = {"bob", "dave"};
  r.approver_groups = {"approvers", "sre"};
  r.approvals = {{"bob", "ok \"go\"", FromUnixMillis(1700000000123)},
                 {"dave", "", FromUnixMillis(1700000000456)}};
  r.created_at = FromUnixMillis(1700000000000);
  r.approval_deadline = FromUnixMillis(1700000900000);
  r.start_at = FromUnixMillis(-5);  // before 1970: a negative number
  r.decided_at = FromUnixMillis(1700000000456);
  r.activated_at = FromUnixMillis(1700000001000);
  r.expires_at = FromUnixMillis(1700003601000);
  r.decided_by = "dave";
  r.end_reason = "expired";
  r.failure_reason = "none";
  r.grant_operation_id = "op-1";
  r.revoke_operation_id = "op-2";
  r.review_state = "open";
  r.reviewed_by = "carol";
  r.review_comment = "fine";
  r.reviewed_at = FromUnixMillis(1700009999999);
  r.revoke_overdue_at = FromUnixMillis(1700003661000);
  model::PendingExtension e;
  e.seconds = 600;
  e.requested_at = FromUnixMillis(1700002000000);
  e.deadline = FromUnixMillis(1700003000000);
  e.approvals = {{"bob", "more", FromUnixMillis(1700002000500)}};
  r.extension = e;
  return r;
}

// The request as the codec sees it: every field, through its own encoding.
std::string Encoded(const model::Request& r) {
  Result<std::string> text = EncodeRequestData(r);
  EXPECT_TRUE(text.has_value());
  return text.has_value() ? *text : std::string();
}

// `r`'s columns (id, requester, state) on a request decoded from `data` by `decode`.
template <typename Decode>
model::Request Decoded(const model::Request& r, std::string_view data, Decode decode) {
  model::Request out;
  out.id = r.id;
  out.requester = r.requester;
  out.state = r.state;
  EXPECT_TRUE(decode(data, out));
  return out;
}

bool Fast(std::string_view d, model::Request& r) { return TryDecodeRequestDataFast(d, r); }
bool Dom(std::string_view d, model::Request& r) { return DecodeRequestDataWithDom(d, r).ok(); }

TEST(RequestCodec, FastReaderRoundTripsEveryField) {
  model::Request r = Full();
  std::string text = Encoded(r);
  EXPECT_EQ(Encoded(Decoded(r, text, Fast)), text);
  EXPECT_EQ(Encoded(Decoded(r, text, Dom)), text);
  model::Request empty;
  empty.id = "req_1";
  std::string empty_text = Encoded(empty);
  EXPECT_EQ(Encoded(Decoded(empty, empty_text, Fast)), empty_text);
}

// Random requests with text of every kind: both decoders agree on each, and the fast one takes it.
TEST(RequestCodec, FastReaderAgreesWithTheDocumentDecoderOnRandomRequests) {
  std::mt19937 rng(20261204);
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           "0",
                                           " ",
                                           "\"",
                                           "\\",
                                           "/",
                                           "\n",
                                           "\r",
                                           "\t",
                                           "\b",
                                           "\f",
                                           std::string(1, '\0'),
                                           "\x1f",
                                           "\x7f",
                                           "\xC3\xA9",
                                           "\xE2\x82\xAC",
                                           "\xF0\x9F\x94\x91",
                                           "\xEF\xBF\xBF",
                                           "u",
                                           ","};
  auto text = [&] {
    std::string s;
    int n = static_cast<int>(rng() % 12);
    for (int i = 0; i < n; ++i) s += pieces[rng() % pieces.size()];
    return s;
  };
  auto maybe_time = [&]() -> std::optional<Time> {
    if (rng() % 3 == 0) return std::nullopt;
    return FromUnixMillis(static_cast<std::int64_t>(rng()) - (1LL << 31));
  };
  for (int i = 0; i < 500; ++i) {
    model::Request r;
    r.id = "req_" + std::to_string(i);
    r.principal_id = text();
    r.account_name = text();
    r.reason = text();
    r.ticket = text();
    r.review_comment = text();
    r.duration_seconds = static_cast<std::int64_t>(rng()) * (rng() % 2 ? 1 : -1);
    r.approvals_required = static_cast<int>(rng() % 5);
    r.break_glass = rng() % 2;
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) r.approver_groups.push_back(text());
    for (int k = static_cast<int>(rng() % 3); k > 0; --k) {
      r.approvals.push_back({text(), text(), FromUnixMillis(rng())});
    }
    r.created_at = FromUnixMillis(rng());
    r.decided_at = maybe_time();
    r.expires_at = maybe_time();
    if (rng() % 4 == 0) r.extension = model::PendingExtension{1, FromUnixMillis(2), {}, {}};
    std::string data = Encoded(r);
    model::Request fast;
    ASSERT_TRUE(TryDecodeRequestDataFast(data, fast)) << data;
    EXPECT_EQ(Encoded(Decoded(r, data, Fast)), Encoded(Decoded(r, data, Dom))) << data;
    EXPECT_EQ(Encoded(Decoded(r, data, Fast)), data);
  }
}

TEST(RequestCodec, WhitespaceUnknownMembersAndEscapesAreReadFast) {
  const std::string data = R"( { "id" : "x", "reason" : "a\u00e9\ud83d\udd11\/\u0000b" ,
      "future" : {"nested": [1, -2, true, null, "s", {"k": []}]},
      "approvals" : [ {"approver": "bob", "comment": "", "at": 5, "extra": false} ],
      "decided_at" : null , "created_at" : 7 } )";
  model::Request fast, dom;
  ASSERT_TRUE(TryDecodeRequestDataFast(data, fast));
  ASSERT_OK(DecodeRequestDataWithDom(data, dom));
  EXPECT_EQ(Encoded(fast), Encoded(dom));
  EXPECT_EQ(fast.reason, std::string("a\xC3\xA9\xF0\x9F\x94\x91/\0b", 10));
  ASSERT_EQ(fast.approvals.size(), 1u);
  EXPECT_EQ(fast.approvals[0].approver, "bob");
  EXPECT_EQ(ToUnixMillis(fast.created_at), 7);
}

// What the fast reader declines, DecodeRequestData still decodes (or refuses) as the document
// decoder does: values of another type, floats, bad UTF-8, lone surrogates, damage.
TEST(RequestCodec, SurprisesGoToTheDocumentDecoder) {
  struct Case {
    std::string data;
    bool dom_ok;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"duration_seconds": 1.5})", false},
           {R"({"created_at": 1e3})", false},
           {R"({"created_at": 1e300})", false},
           {R"({"approvals": [{"approver": "b", "comment": "", "at": -1e300}]})", false},
           {R"({"reason": null})", false},
           {R"({"break_glass": 1})", false},
           {R"({"approvals": [{"approver": "bob"}]})", false},
           {R"({"extension": {"seconds": 1}})", false},
           {R"({"approvals_required": 99999999999})", true},
           {"{\"reason\": \"\xC3\"}", false},
           {"{\"reason\": \"\xED\xA0\x80\"}", false},
           {R"({"reason": "\udc00"})", false},
           {R"({"reason": "\ud800x"})", false},
           {"{\"reason\": \"a\nb\"}", false},
           {R"({"reason": "x")", false},
           {R"({"reason": "x"} trailing)", false},
           {R"({"duration_seconds": 01})", false},
       }) {
    model::Request fast, via, dom;
    EXPECT_FALSE(TryDecodeRequestDataFast(c.data, fast)) << c.data;
    Status s = DecodeRequestData(c.data, via);
    Status d = DecodeRequestDataWithDom(c.data, dom);
    EXPECT_EQ(s.ok(), c.dom_ok) << c.data << " " << s;
    EXPECT_EQ(s.ok(), d.ok()) << c.data;
    if (s.ok()) {
      EXPECT_EQ(Encoded(via), Encoded(dom)) << c.data;
    }
  }
}

}  // namespace
}  // namespace jit::store::codec_test
