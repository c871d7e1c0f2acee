// AWS Organizations as the emulator serves it (issue 16), over loopback with signed calls: a
// seeded organization of 3 OUs (one nested) and 200 accounts generated here.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "aws/http.h"
#include "aws/sigv4.h"
#include "core/clock.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "net/test_http_client.h"

namespace jit::emulator {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kOrg[] = "o-abcdef1234";
constexpr char kRoot[] = "r-ab12";
constexpr char kProd[] = "ou-ab12-prod0001";
constexpr char kProdWeb[] = "ou-ab12-prodweb1";  // nested in kProd
constexpr char kSandbox[] = "ou-ab12-sandbox1";
constexpr int kAccounts = 200;

struct OrgResponse {
  int status = 0;
  json body;
  std::string Type() const { return body.is_object() ? body.value("__type", "") : ""; }
};

// The generated accounts: 111111111111 (the management account) and 222222222222 of the default
// seed, then 198 more. Account i (from 0) sits in Prod, ProdWeb, Sandbox or the root by i % 4,
// is tagged env=prod when i is even (env=dev otherwise) and team=t<i % 3>, and is SUSPENDED
// when i % 25 == 7.
std::string AccountId(int i) {
  if (i == 0) return "111111111111";
  if (i == 1) return "222222222222";
  char buf[16];
  std::snprintf(buf, sizeof buf, "3000000%05d", i);
  return buf;
}
const char* ParentOf(int i) {
  switch (i % 4) {
    case 0:
      return kProd;
    case 1:
      return kProdWeb;
    case 2:
      return kSandbox;
    default:
      return kRoot;
  }
}

Seed OrganizationSeed() {
  Seed seed = DefaultSeed();
  seed.accounts.clear();
  for (int i = 0; i < kAccounts; ++i) {
    SeedAccount a;
    a.id = AccountId(i);
    a.name = "account-" + std::to_string(i);
    a.parent_id = ParentOf(i);
    a.status = i % 25 == 7 ? "SUSPENDED" : "ACTIVE";
    a.tags = {{"env", i % 2 == 0 ? "prod" : "dev"}, {"team", "t" + std::to_string(i % 3)}};
    if (i == 2) a.email = "ops@example.com";
    seed.accounts.push_back(a);
  }
  SeedOrganization org;
  org.id = kOrg;
  org.master_account_id = "111111111111";
  org.roots = {{kRoot, "Root"}};
  org.organizational_units = {{kProd, "Prod", kRoot, {{"cost-center", "42"}}},
                              {kProdWeb, "ProdWeb", kProd, {}},
                              {kSandbox, "Sandbox", kRoot, {}}};
  seed.organization = org;
  return seed;
}

class OrganizationsEmulatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EmulatorOptions options;
    options.seed = OrganizationSeed();
    Start(options);
  }

  void Start(EmulatorOptions options) {
    if (emulator_) emulator_->Stop();
    emulator_ = std::make_unique<Emulator>(std::move(options), clock_);
    ASSERT_OK(emulator_->Start());
  }

  // Signs a call AWSOrganizationsV20161128.<op> for `service` and sends it.
  OrgResponse Org(const std::string& op, const json& body,
                  const std::string& service = "organizations") {
    aws::HttpRequest req;
    req.method = "POST";
    req.path = "/";
    req.headers = {{"Host", "127.0.0.1:" + std::to_string(emulator_->port())},
                   {"Content-Type", "application/x-amz-json-1.1"},
                   {"X-Amz-Target", "AWSOrganizationsV20161128." + op}};
    req.body = body.dump();
    aws::SigningParams params;
    params.region = "us-east-1";
    params.service = service;
    params.time = clock_.Now();
    Result<aws::Signature> sig =
        aws::Sign(req, {"AKIDJITEMULATOR", "jit-emulator-secret", "", {}}, params);
    EXPECT_TRUE(sig.has_value()) << sig.error();
    net::testing::ClientRequest r;
    r.method = req.method;
    r.target = req.path;
    r.headers = req.headers;
    r.body = req.body;
    net::testing::ClientResponse res = net::testing::Fetch(emulator_->port(), r);
    return {res.status, json::parse(res.body, nullptr, /*allow_exceptions=*/false)};
  }

  // Every entry of `key` over all pages of `op`, `max_results` at a time; `pages` counts them.
  std::vector<json> All(const std::string& op, json body, const std::string& key,
                        int max_results = 0, int* pages = nullptr) {
    std::vector<json> out;
    if (max_results > 0) body["MaxResults"] = max_results;
    for (int page = 1; page < 1000; ++page) {
      OrgResponse r = Org(op, body);
      EXPECT_EQ(r.status, 200) << r.body.dump();
      if (r.status != 200) break;
      for (const json& e : r.body[key]) out.push_back(e);
      if (pages != nullptr) *pages = page;
      if (!r.body.contains("NextToken")) break;
      body["NextToken"] = r.body["NextToken"];
    }
    return out;
  }

  static std::set<std::string> Ids(const std::vector<json>& list) {
    std::set<std::string> ids;
    for (const json& e : list) ids.insert(e["Id"].get<std::string>());
    return ids;
  }

  static std::set<std::string> Expected(const std::string& parent) {
    std::set<std::string> ids;
    for (int i = 0; i < kAccounts; ++i) {
      if (parent == ParentOf(i)) ids.insert(AccountId(i));
    }
    return ids;
  }

  FakeClock clock_;
  std::unique_ptr<Emulator> emulator_;
};

TEST_F(OrganizationsEmulatorTest, WithoutAnOrganizationEveryCallIsNotInUse) {
  EmulatorOptions options;
  options.seed.organization.reset();  // the default seed has one; a seed may have none
  for (SeedAccount& a : options.seed.accounts) a.parent_id.clear();
  Start(options);
  for (const char* op : {"ListRoots", "ListAccounts", "DescribeOrganization"}) {
    OrgResponse r = Org(op, json::object());
    EXPECT_EQ(r.status, 400) << op;
    EXPECT_EQ(r.Type(), "AWSOrganizationsNotInUseException") << op;
  }
  EXPECT_TRUE(emulator_->State()["organization"].is_null());
  EXPECT_EQ(emulator_->State()["calls"]["ListRoots"], 1);
}

TEST_F(OrganizationsEmulatorTest, DescribesTheOrganizationAndItsRoot) {
  OrgResponse org = Org("DescribeOrganization", json::object());
  ASSERT_EQ(org.status, 200) << org.body.dump();
  const json& o = org.body["Organization"];
  EXPECT_EQ(o["Id"], kOrg);
  EXPECT_EQ(o["Arn"], "arn:aws:organizations::111111111111:organization/o-abcdef1234");
  EXPECT_EQ(o["MasterAccountId"], "111111111111");
  EXPECT_EQ(o["MasterAccountArn"],
            "arn:aws:organizations::111111111111:account/o-abcdef1234/111111111111");
  EXPECT_EQ(o["MasterAccountEmail"], "aws+111111111111@example.com");
  EXPECT_EQ(o["FeatureSet"], "ALL");

  OrgResponse roots = Org("ListRoots", json::object());
  ASSERT_EQ(roots.status, 200);
  ASSERT_THAT(roots.body["Roots"], SizeIs(1));
  EXPECT_EQ(roots.body["Roots"][0]["Id"], kRoot);
  EXPECT_EQ(roots.body["Roots"][0]["Name"], "Root");
  EXPECT_EQ(roots.body["Roots"][0]["Arn"],
            "arn:aws:organizations::111111111111:root/o-abcdef1234/r-ab12");
  EXPECT_FALSE(roots.body.contains("NextToken"));
}

TEST_F(OrganizationsEmulatorTest, ListAccountsPagesThroughAllTwoHundredTwentyAtATime) {
  int pages = 0;
  std::vector<json> all = All("ListAccounts", json::object(), "Accounts", 0, &pages);
  EXPECT_THAT(all, SizeIs(kAccounts));
  EXPECT_EQ(pages, 10);  // the default (and largest) page is 20
  EXPECT_THAT(Ids(all), SizeIs(kAccounts));
  std::vector<json> by_seven = All("ListAccounts", json::object(), "Accounts", 7, &pages);
  EXPECT_EQ(pages, 29);
  EXPECT_EQ(Ids(by_seven), Ids(all));
  const json& third = all[2];
  EXPECT_EQ(third["Id"], "300000000002");
  EXPECT_EQ(third["Name"], "account-2");
  EXPECT_EQ(third["Email"], "ops@example.com");
  EXPECT_EQ(third["Status"], "ACTIVE");
  EXPECT_EQ(third["Arn"], "arn:aws:organizations::111111111111:account/o-abcdef1234/300000000002");
  EXPECT_EQ(third["JoinedMethod"], "INVITED");
  EXPECT_TRUE(third["JoinedTimestamp"].is_number());
  EXPECT_EQ(all[7]["Status"], "SUSPENDED");
}

TEST_F(OrganizationsEmulatorTest, ListChildrenNamesAccountsAndOusOfEachParent) {
  std::vector<json> ous =
      All("ListChildren", {{"ParentId", kRoot}, {"ChildType", "ORGANIZATIONAL_UNIT"}}, "Children");
  EXPECT_THAT(Ids(ous), UnorderedElementsAre(kProd, kSandbox));
  EXPECT_EQ(ous[0]["Type"], "ORGANIZATIONAL_UNIT");
  std::vector<json> nested =
      All("ListChildren", {{"ParentId", kProd}, {"ChildType", "ORGANIZATIONAL_UNIT"}}, "Children");
  EXPECT_THAT(Ids(nested), ElementsAre(kProdWeb));
  for (const char* parent : {kRoot, kProd, kProdWeb, kSandbox}) {
    int pages = 0;
    std::vector<json> accounts = All(
        "ListChildren", {{"ParentId", parent}, {"ChildType", "ACCOUNT"}}, "Children", 20, &pages);
    EXPECT_EQ(Ids(accounts), Expected(parent)) << parent;
    EXPECT_EQ(pages, 3) << parent;  // 50 accounts each
    EXPECT_EQ(accounts[0]["Type"], "ACCOUNT");
  }
}

TEST_F(OrganizationsEmulatorTest, ListsAccountsAndOusForAParent) {
  std::vector<json> accounts =
      All("ListAccountsForParent", {{"ParentId", kProdWeb}}, "Accounts", 9);
  EXPECT_EQ(Ids(accounts), Expected(kProdWeb));
  EXPECT_EQ(accounts[0]["Id"], "222222222222");
  EXPECT_EQ(accounts[0]["Name"], "account-1");
  std::vector<json> ous =
      All("ListOrganizationalUnitsForParent", {{"ParentId", kRoot}}, "OrganizationalUnits", 1);
  ASSERT_THAT(ous, SizeIs(2));
  EXPECT_EQ(ous[0]["Id"], kProd);
  EXPECT_EQ(ous[0]["Name"], "Prod");
  EXPECT_EQ(ous[0]["Arn"], "arn:aws:organizations::111111111111:ou/o-abcdef1234/ou-ab12-prod0001");
  EXPECT_THAT(
      All("ListOrganizationalUnitsForParent", {{"ParentId", kSandbox}}, "OrganizationalUnits"),
      SizeIs(0));
}

TEST_F(OrganizationsEmulatorTest, DescribeAccountAndItsTags) {
  OrgResponse a = Org("DescribeAccount", {{"AccountId", AccountId(7)}});
  ASSERT_EQ(a.status, 200) << a.body.dump();
  EXPECT_EQ(a.body["Account"]["Name"], "account-7");
  EXPECT_EQ(a.body["Account"]["Status"], "SUSPENDED");
  OrgResponse tags = Org("ListTagsForResource", {{"ResourceId", AccountId(4)}});
  ASSERT_EQ(tags.status, 200) << tags.body.dump();
  EXPECT_EQ(tags.body["Tags"], json::parse(R"([{"Key": "env", "Value": "prod"},
                                               {"Key": "team", "Value": "t1"}])"));
  OrgResponse ou = Org("ListTagsForResource", {{"ResourceId", kProd}});
  EXPECT_EQ(ou.body["Tags"], json::parse(R"([{"Key": "cost-center", "Value": "42"}])"));
  EXPECT_EQ(Org("ListTagsForResource", {{"ResourceId", kRoot}}).body["Tags"], json::array());

  OrgResponse missing = Org("DescribeAccount", {{"AccountId", "999999999999"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.Type(), "AccountNotFoundException");
  EXPECT_EQ(Org("ListTagsForResource", {{"ResourceId", "999999999999"}}).Type(),
            "TargetNotFoundException");
  EXPECT_EQ(Org("ListTagsForResource", {{"ResourceId", "ou-ab12-nothere1"}}).Type(),
            "TargetNotFoundException");
  OrgResponse bad = Org("DescribeAccount", {{"AccountId", "12345"}});
  EXPECT_EQ(bad.Type(), "InvalidInputException");
  EXPECT_EQ(bad.body["Reason"], "INVALID_PATTERN");
}

TEST_F(OrganizationsEmulatorTest, MoveAccountTakesAnAccountOutOfAnOuUntilReset) {
  std::string id = AccountId(4);  // in Prod
  OrgResponse moved =
      Org("MoveAccount",
          {{"AccountId", id}, {"SourceParentId", kProd}, {"DestinationParentId", kSandbox}});
  ASSERT_EQ(moved.status, 200) << moved.body.dump();
  EXPECT_EQ(moved.body, json::object());
  EXPECT_FALSE(Ids(All("ListAccountsForParent", {{"ParentId", kProd}}, "Accounts")).count(id));
  EXPECT_TRUE(Ids(All("ListAccountsForParent", {{"ParentId", kSandbox}}, "Accounts")).count(id));
  EXPECT_EQ(emulator_->State()["organization"]["accounts"][id], kSandbox);

  auto move = [&](const std::string& account, const std::string& from, const std::string& to) {
    return Org("MoveAccount",
               {{"AccountId", account}, {"SourceParentId", from}, {"DestinationParentId", to}})
        .Type();
  };
  EXPECT_EQ(move(id, kSandbox, kSandbox), "DuplicateAccountException");
  EXPECT_EQ(move(id, kProd, kRoot), "SourceParentNotFoundException");  // it is not there
  EXPECT_EQ(move(id, "ou-ab12-nothere1", kRoot), "SourceParentNotFoundException");
  EXPECT_EQ(move(id, kSandbox, "r-zz99"), "DestinationParentNotFoundException");
  EXPECT_EQ(move("999999999999", kSandbox, kRoot), "AccountNotFoundException");
  EXPECT_EQ(move(id, kSandbox, "elsewhere"), "InvalidInputException");
  EXPECT_EQ(emulator_->State()["organization"]["accounts"][id], kSandbox);  // unchanged

  emulator_->Reset();
  EXPECT_EQ(emulator_->State()["organization"]["accounts"][id], kProd);
}

TEST_F(OrganizationsEmulatorTest, BadInputIsInvalidInputWithAReason) {
  auto reason = [&](const std::string& op, const json& body) {
    OrgResponse r = Org(op, body);
    EXPECT_EQ(r.status, 400) << op << " " << body.dump();
    EXPECT_EQ(r.Type(), "InvalidInputException") << r.body.dump();
    return r.body.value("Reason", "");
  };
  EXPECT_EQ(reason("ListChildren", {{"ChildType", "ACCOUNT"}}), "INPUT_REQUIRED");
  EXPECT_EQ(reason("ListChildren", {{"ParentId", kRoot}, {"ChildType", "POLICY"}}), "INVALID_ENUM");
  EXPECT_EQ(reason("ListAccountsForParent", {{"ParentId", "root"}}), "INVALID_PATTERN");
  EXPECT_EQ(reason("ListAccounts", {{"MaxResults", 21}}), "MAX_VALUE_EXCEEDED");
  EXPECT_EQ(reason("ListAccounts", {{"MaxResults", 0}}), "MIN_VALUE_EXCEEDED");
  EXPECT_EQ(reason("ListAccounts", {{"NextToken", "garbage"}}), "INVALID_PAGINATION_TOKEN");
  // A token continues only the list it came from.
  OrgResponse first = Org("ListAccountsForParent", {{"ParentId", kProd}, {"MaxResults", 5}});
  ASSERT_TRUE(first.body.contains("NextToken"));
  EXPECT_EQ(reason("ListAccountsForParent",
                   {{"ParentId", kSandbox}, {"NextToken", first.body["NextToken"]}}),
            "INVALID_PAGINATION_TOKEN");
  EXPECT_EQ(reason("ListAccounts", {{"NextToken", first.body["NextToken"]}}),
            "INVALID_PAGINATION_TOKEN");

  OrgResponse parent =
      Org("ListChildren", {{"ParentId", "ou-ab12-nothere1"}, {"ChildType", "ACCOUNT"}});
  EXPECT_EQ(parent.Type(), "ParentNotFoundException");
  EXPECT_THAT(parent.body.value("message", ""), HasSubstr("ou-ab12-nothere1"));
  EXPECT_EQ(Org("ListOrganizationalUnitsForParent", {{"ParentId", "r-zz99"}}).Type(),
            "ParentNotFoundException");
  EXPECT_EQ(Org("DeleteOrganization", json::object()).Type(), "UnknownOperationException");
}

TEST_F(OrganizationsEmulatorTest, CallsMustBeSignedForOrganizations) {
  OrgResponse r = Org("ListRoots", json::object(), "sso");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.Type(), "InvalidSignatureException");
}

TEST_F(OrganizationsEmulatorTest, FaultsAnswerTooManyRequestsAndServiceException) {
  Faults f;
  f.throttle_rate = 1;
  emulator_->SetFaults(f);
  OrgResponse throttled = Org("ListRoots", json::object());
  EXPECT_EQ(throttled.status, 400);
  EXPECT_EQ(throttled.Type(), "TooManyRequestsException");
  f.throttle_rate = 0;
  f.server_error_rate = 1;
  emulator_->SetFaults(f);
  OrgResponse failed = Org("ListRoots", json::object());
  EXPECT_EQ(failed.status, 500);
  EXPECT_EQ(failed.Type(), "ServiceException");
  EXPECT_EQ(emulator_->State()["calls"]["ListRoots"], 2);
  emulator_->Reset();
  EXPECT_EQ(Org("ListRoots", json::object()).status, 200);
}

TEST(OrganizationSeed, ParsesTheOrganizationAndTheAccountsPlaceInIt) {
  Result<Seed> seed = ParseSeed(R"({
    "accounts": [{"id": "111111111111", "name": "mgmt"},
                 {"id": "222222222222", "name": "prod", "parent_id": "ou-ab12-prod0001",
                  "status": "SUSPENDED", "tags": {"env": "prod"}, "email": "p@example.com"}],
    "organization": {"id": "o-abcdef1234",
                     "roots": [{"id": "r-ab12"}],
                     "organizational_units": [{"id": "ou-ab12-prod0001", "name": "Prod",
                                               "parent_id": "r-ab12", "tags": {"a": "b"}}]}})");
  ASSERT_OK(seed);
  ASSERT_TRUE(seed->organization.has_value());
  EXPECT_EQ(seed->organization->master_account_id, "");  // the instance's owner account
  EXPECT_EQ(seed->organization->roots[0].name, "Root");
  EXPECT_EQ(seed->organization->organizational_units[0].tags.at("a"), "b");
  EXPECT_EQ(seed->accounts[1].parent_id, "ou-ab12-prod0001");
  EXPECT_EQ(seed->accounts[1].status, "SUSPENDED");
  EXPECT_EQ(seed->accounts[1].tags.at("env"), "prod");
  EXPECT_EQ(seed->accounts[1].email, "p@example.com");
  EXPECT_FALSE(ParseSeed("{}")->organization.has_value());
}

TEST(OrganizationSeed, RefusesOrganizationsAwsWouldNotHave) {
  auto error = [](const std::string& org,
                  const std::string& accounts = R"([{"id": "111111111111"}])") {
    Result<Seed> seed =
        ParseSeed(R"({"accounts": )" + accounts + R"(, "organization": )" + org + "}");
    EXPECT_FALSE(seed.has_value()) << org;
    return seed.has_value() ? std::string() : seed.error().message();
  };
  EXPECT_THAT(error(R"({"id": "o-short", "roots": [{"id": "r-ab12"}]})"),
              HasSubstr("organization.id"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": []})"), HasSubstr("roots"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "master_account_id": "333333333333",
                        "roots": [{"id": "r-ab12"}]})"),
              HasSubstr("not one of the seed's accounts"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}],
                        "organizational_units": [{"id": "ou-ab12-aaaaaaaa", "name": "A",
                                                  "parent_id": "ou-ab12-bbbbbbbb"}]})"),
              HasSubstr("names no root or OU"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}],
                        "organizational_units": [
                          {"id": "ou-ab12-aaaaaaaa", "name": "A", "parent_id": "ou-ab12-bbbbbbbb"},
                          {"id": "ou-ab12-bbbbbbbb", "name": "B", "parent_id": "ou-ab12-aaaaaaaa"}]})"),
              HasSubstr("cycle"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}], "extra": 1})"),
              HasSubstr("unknown organization member"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}]})",
                    R"([{"id": "111111111111", "parent_id": "ou-ab12-zzzzzzzz"}])"),
              HasSubstr("accounts[0].parent_id"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}]})",
                    R"([{"id": "111111111111", "status": "CLOSED"}])"),
              HasSubstr("ACTIVE or SUSPENDED"));
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}]})",
                    R"([{"id": "111111111111", "tags": {"aws:x": "y"}}])"),
              HasSubstr("aws:"));
  Result<Seed> no_org =
      ParseSeed(R"({"accounts": [{"id": "111111111111", "parent_id": "r-ab12"}]})");
  ASSERT_FALSE(no_org.has_value());
  EXPECT_THAT(no_org.error().message(), HasSubstr("needs an organization"));

  // Six OUs in a chain: one deeper than AWS allows.
  std::string chain;
  std::string parent = "r-ab12";
  for (int i = 1; i <= 6; ++i) {
    std::string id = "ou-ab12-level00" + std::to_string(i);
    chain += std::string(chain.empty() ? "" : ",") + R"({"id": ")" + id +
             R"(", "name": "L", "parent_id": ")" + parent + R"("})";
    parent = id;
  }
  EXPECT_THAT(error(R"({"id": "o-abcdef1234", "roots": [{"id": "r-ab12"}],
                        "organizational_units": [)" +
                    chain + "]}"),
              HasSubstr("more than 5 OUs deep"));
}

}  // namespace
}  // namespace jit::emulator
