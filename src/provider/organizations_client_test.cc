// OrganizationsClient against the emulator over loopback: every call, every page, the snapshot
// and the resolver on it, an account moved out of an OU, error codes and throttling.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/json_client.h"
#include "core/testing.h"
#include "emulator/emulator.h"
#include "provider/organizations.h"

namespace jit::provider {
namespace {

using ::jit::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAre;

constexpr char kRoot[] = "r-ab12";
constexpr char kProd[] = "ou-ab12-prod0001";
constexpr char kProdWeb[] = "ou-ab12-prodweb1";  // nested in kProd
constexpr char kSandbox[] = "ou-ab12-sandbox1";
constexpr int kAccounts = 61;  // ListAccounts: 4 pages of 20

std::string AccountId(int i) {
  if (i == 0) return "111111111111";
  char buf[16];
  std::snprintf(buf, sizeof buf, "4000000%05d", i);
  return buf;
}

// Account i sits in Prod, ProdWeb, Sandbox or the root by i % 4; tagged env=prod when even;
// suspended when i == 9.
emulator::Seed Seed() {
  emulator::Seed seed = emulator::DefaultSeed();
  seed.accounts.clear();
  const char* parents[] = {kProd, kProdWeb, kSandbox, kRoot};
  for (int i = 0; i < kAccounts; ++i) {
    emulator::SeedAccount a;
    a.id = AccountId(i);
    a.name = "acct-" + std::to_string(i);
    a.parent_id = parents[i % 4];
    a.status = i == 9 ? "SUSPENDED" : "ACTIVE";
    a.tags = {{"env", i % 2 == 0 ? "prod" : "dev"}};
    seed.accounts.push_back(a);
  }
  emulator::SeedOrganization org;
  org.id = "o-abcdef1234";
  org.roots = {{kRoot, "Root"}};
  org.organizational_units = {{kProd, "Prod", kRoot, {{"owner", "ops"}}},
                              {kProdWeb, "ProdWeb", kProd, {}},
                              {kSandbox, "Sandbox", kRoot, {}}};
  seed.organization = org;
  return seed;
}

class OrganizationsClientTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(Seed()); }

  void Start(emulator::Seed seed) {
    emulator::EmulatorOptions options;
    options.seed = std::move(seed);
    emulator_ = std::make_unique<emulator::Emulator>(options, clock_);
    ASSERT_OK(emulator_->Start());
    http_ = aws::NewCurlTransport();
    creds_ = aws::NewStaticCredentials({"AKIDJITEMULATOR", "jit-emulator-secret", "", {}});
    limiter_ = aws::NewLimiter(clock_, 0, 10);
    aws::RetryPolicy retry{.max_attempts = 10, .sleep = [](Duration) {}};
    json_ = std::make_unique<aws::JsonClient>(OrganizationsSpec(emulator_->url(), "us-east-1"),
                                              *http_, *creds_, *limiter_, clock_, retry);
    client_ = std::make_unique<OrganizationsClient>(*json_);
  }

  std::int64_t Calls(const std::string& op) {
    return emulator_->State()["calls"].value(op, std::int64_t{0});
  }

  static std::set<std::string> Expected(int remainder) {
    std::set<std::string> ids;
    for (int i = remainder; i < kAccounts; i += 4) ids.insert(AccountId(i));
    return ids;
  }

  template <typename T>
  static std::set<std::string> Ids(const std::vector<T>& list) {
    std::set<std::string> ids;
    for (const T& e : list) ids.insert(e.id);
    return ids;
  }

  FakeClock clock_;
  std::unique_ptr<emulator::Emulator> emulator_;
  std::unique_ptr<aws::HttpTransport> http_;
  std::unique_ptr<aws::CredentialSource> creds_;
  std::unique_ptr<aws::Limiter> limiter_;
  std::unique_ptr<aws::JsonClient> json_;
  std::unique_ptr<OrganizationsClient> client_;
};

TEST_F(OrganizationsClientTest, EachCallReadsEveryPage) {
  Result<OrganizationInfo> org = client_->DescribeOrganization();
  ASSERT_OK(org);
  EXPECT_EQ(org->id, "o-abcdef1234");
  EXPECT_EQ(org->master_account_id, "111111111111");
  EXPECT_EQ(org->feature_set, "ALL");

  Result<std::vector<OrgRoot>> roots = client_->ListRoots();
  ASSERT_OK(roots);
  ASSERT_THAT(*roots, SizeIs(1));
  EXPECT_EQ((*roots)[0].id, kRoot);

  Result<std::vector<OrgAccount>> all = client_->ListAccounts();
  ASSERT_OK(all);
  EXPECT_THAT(*all, SizeIs(kAccounts));
  EXPECT_EQ(Calls("ListAccounts"), 4);  // 61 accounts, 20 a page
  EXPECT_EQ((*all)[9].status, "SUSPENDED");

  Result<std::vector<OrgChild>> children = client_->ListChildren(kRoot, "ORGANIZATIONAL_UNIT");
  ASSERT_OK(children);
  ASSERT_THAT(*children, SizeIs(2));
  EXPECT_EQ((*children)[0].id, kProd);
  EXPECT_EQ((*children)[0].type, "ORGANIZATIONAL_UNIT");
  Result<std::vector<OrgChild>> accounts = client_->ListChildren(kProd, "ACCOUNT");
  ASSERT_OK(accounts);
  EXPECT_EQ(Ids(*accounts), Expected(0));

  Result<std::vector<OrgAccount>> in_web = client_->ListAccountsForParent(kProdWeb);
  ASSERT_OK(in_web);
  EXPECT_EQ(Ids(*in_web), Expected(1));
  EXPECT_EQ((*in_web)[0].parent_id, kProdWeb);
  EXPECT_EQ((*in_web)[0].name, "acct-1");

  Result<std::vector<OrgUnit>> units = client_->ListOrganizationalUnitsForParent(kProd);
  ASSERT_OK(units);
  ASSERT_THAT(*units, SizeIs(1));
  EXPECT_EQ((*units)[0].id, kProdWeb);
  EXPECT_EQ((*units)[0].parent_id, kProd);

  Result<OrgAccount> one = client_->DescribeAccount(AccountId(4));
  ASSERT_OK(one);
  EXPECT_EQ(one->name, "acct-4");
  EXPECT_EQ(one->email, "aws+" + AccountId(4) + "@example.com");
  Result<std::map<std::string, std::string>> tags = client_->ListTagsForResource(kProd);
  ASSERT_OK(tags);
  EXPECT_EQ(tags->at("owner"), "ops");
}

TEST_F(OrganizationsClientTest, TheSnapshotHoldsTheTreeAndTheResolverUsesIt) {
  OrganizationsClient small_pages(*json_, /*page_size=*/7);
  Result<OrganizationSnapshot> snapshot = small_pages.ReadSnapshot();
  ASSERT_OK(snapshot);
  EXPECT_THAT(snapshot->roots, SizeIs(1));
  ASSERT_THAT(snapshot->organizational_units, SizeIs(3));
  EXPECT_THAT(snapshot->accounts, SizeIs(kAccounts));
  for (const OrgUnit& u : snapshot->organizational_units) {
    EXPECT_EQ(u.parent_id, u.id == kProdWeb ? kProd : kRoot) << u.id;
  }
  for (const OrgAccount& a : snapshot->accounts) {
    EXPECT_FALSE(a.parent_id.empty()) << a.id;
    EXPECT_EQ(a.tags.size(), 1u) << a.id;
  }
  EXPECT_EQ(Calls("ListTagsForResource"), kAccounts);
  // 15 or 16 accounts in each of the 4 parents: 3 pages of 7 each.
  EXPECT_EQ(Calls("ListAccountsForParent"), 4 * 3);
  EXPECT_EQ(Calls("ListOrganizationalUnitsForParent"), 4);
  // Prod recursively: Prod's and ProdWeb's accounts, the suspended one (9, in ProdWeb) left out.
  Result<std::vector<OrgAccount>> prod =
      ResolveAccounts(*snapshot, {.ou = kProd, .recursive = true});
  ASSERT_OK(prod);
  std::set<std::string> expected = Expected(0);
  for (const std::string& id : Expected(1)) expected.insert(id);
  expected.erase(AccountId(9));
  EXPECT_EQ(Ids(*prod), expected);
  Result<std::vector<OrgAccount>> tagged =
      ResolveAccounts(*snapshot, {.ou = kSandbox, .tags = {{"env", "prod"}}});
  ASSERT_OK(tagged);
  EXPECT_EQ(Ids(*tagged), Expected(2));  // i % 4 == 2: all even
}

TEST_F(OrganizationsClientTest, AnAccountMovedOutOfAnOuLeavesItsSelection) {
  std::string id = AccountId(4);  // in Prod
  ASSERT_OK(client_->MoveAccount(id, kProd, kSandbox));
  Result<OrganizationSnapshot> snapshot = client_->ReadSnapshot();
  ASSERT_OK(snapshot);
  Result<std::vector<OrgAccount>> prod =
      ResolveAccounts(*snapshot, {.ou = kProd, .recursive = true});
  ASSERT_OK(prod);
  EXPECT_FALSE(Ids(*prod).count(id));
  Result<std::vector<OrgAccount>> sandbox = ResolveAccounts(*snapshot, {.ou = kSandbox});
  ASSERT_OK(sandbox);
  EXPECT_TRUE(Ids(*sandbox).count(id));
}

TEST_F(OrganizationsClientTest, OrganizationsErrorsGetTheirMeaningsCodes) {
  EXPECT_THAT(client_->DescribeAccount("999999999999"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->ListChildren("ou-ab12-nothere1", "ACCOUNT"),
              StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->ListTagsForResource("999999999999"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->MoveAccount(AccountId(4), kProd, kProd),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(client_->MoveAccount(AccountId(4), kSandbox, kRoot), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->ListAccountsForParent("not-a-parent"),
              StatusIs(StatusCode::kInvalidArgument));

  emulator::Seed none = emulator::DefaultSeed();  // which has one: take it away
  none.organization.reset();
  for (emulator::SeedAccount& a : none.accounts) a.parent_id.clear();
  Start(none);
  EXPECT_THAT(client_->ListRoots(), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(client_->ReadSnapshot(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(OrganizationsClientTest, ThrottlingAndServerErrorsAreRetried) {
  emulator::Faults faults;
  faults.throttle_rate = 0.3;
  faults.server_error_rate = 0.1;
  faults.seed = 7;
  emulator_->SetFaults(faults);
  Result<OrganizationSnapshot> snapshot = client_->ReadSnapshot();
  ASSERT_OK(snapshot);
  EXPECT_THAT(snapshot->accounts, SizeIs(kAccounts));
  EXPECT_GT(Calls("ListTagsForResource"), kAccounts);  // some were retried
}

}  // namespace
}  // namespace jit::provider
