#include "exporter/http/basic_auth.h"

#include <crypt.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"

namespace aiq::http {
namespace {

// A fresh bcrypt hash of `password` (random salt), made the way htpasswd
// makes one; cost 4, bcrypt's lowest, keeps the tests fast.
std::string MakeHash(const std::string& password, const char* prefix = "$2b$",
                     int cost = 4) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  if (crypt_gensalt_rn(prefix, cost, nullptr, 0, setting, sizeof(setting)) ==
      nullptr) {
    ADD_FAILURE() << "crypt_gensalt_rn " << prefix;
    return "";
  }
  auto data = std::make_unique<crypt_data>();
  const char* hash = crypt_rn(password.c_str(), setting, data.get(),
                              static_cast<int>(sizeof(crypt_data)));
  if (hash == nullptr) {
    ADD_FAILURE() << "crypt_rn " << setting;
    return "";
  }
  return hash;
}

std::string Basic(const std::string& user_colon_password,
                  const std::string& scheme = "Basic") {
  return scheme + " " + absl::Base64Escape(user_colon_password);
}

TEST(BcryptCostTest, AcceptsOnlyWellFormedHashes) {
  const std::string h = MakeHash("pw");
  ASSERT_EQ(h.size(), 60u);
  EXPECT_EQ(BcryptCost(h), 4);
  EXPECT_EQ(BcryptCost("$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/"
                       "LDeSi"),
            10);
  EXPECT_EQ(BcryptCost("$2a$31$" + h.substr(7)), 31);
  EXPECT_EQ(BcryptCost("$2x$04$" + h.substr(7)), std::nullopt);
  EXPECT_EQ(BcryptCost("$2b$03$" + h.substr(7)), std::nullopt);
  EXPECT_EQ(BcryptCost("$2b$32$" + h.substr(7)), std::nullopt);
  EXPECT_EQ(BcryptCost("$2b$4$" + h.substr(7)), std::nullopt);
  EXPECT_EQ(BcryptCost(h.substr(0, 59)), std::nullopt);
  EXPECT_EQ(BcryptCost(h.substr(0, 59) + "+"), std::nullopt);
  EXPECT_EQ(BcryptCost(""), std::nullopt);
  EXPECT_EQ(BcryptCost("doe"), std::nullopt);
}

TEST(ParseBasicAuthorizationTest, FollowsRfc7617) {
  std::optional<BasicCredentials> c =
      ParseBasicAuthorization("Basic " + absl::Base64Escape("alice:s3:cr:et"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "alice");
  EXPECT_EQ(c->password, "s3:cr:et");  // split at the first ':'

  // The scheme in any case, more spaces, surrounding whitespace.
  for (const std::string& v :
       {Basic("a:b", "basic"), Basic("a:b", "BASIC"), Basic("a:b", "bAsIc"),
        "Basic   " + absl::Base64Escape("a:b"),
        " \tBasic " + absl::Base64Escape("a:b") + " "}) {
    c = ParseBasicAuthorization(v);
    ASSERT_TRUE(c.has_value()) << v;
    EXPECT_EQ(c->user, "a");
    EXPECT_EQ(c->password, "b");
  }
  c = ParseBasicAuthorization(Basic(":"));
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->user, "");
  EXPECT_EQ(c->password, "");

  for (const std::string& v : {
           std::string(""), std::string("Basic"), std::string("Basic "),
           std::string("Bearer YTpi"), std::string("Basics YTpi"),
           std::string("BasicYTpi"),
           std::string("Basic\tYTpi"),  // one or more SP, not tab
           Basic("no colon"),
           std::string("Basic YTpiYw"),  // padding missing
           std::string("Basic YTpiYw="),
           std::string("Basic YTpi Yw=="),  // whitespace inside
           std::string("Basic YTpi!w=="), std::string("Basic YT===="),
           Basic(std::string("a:b\0c", 5)),  // NUL would cut the password
       }) {
    EXPECT_FALSE(ParseBasicAuthorization(v).has_value()) << v;
  }
}

TEST(BasicAuthUsersTest, VerifiesRealBcryptHashes) {
  BasicAuthUsers users({{"alice", MakeHash("wonderland")},
                        {"bob", MakeHash("builder", "$2a$")},
                        {"carol", MakeHash("pa:ss:word", "$2y$")}});
  EXPECT_TRUE(users.enabled());
  EXPECT_TRUE(users.Verify(Basic("alice:wonderland")));
  EXPECT_TRUE(users.Verify(Basic("bob:builder")));
  EXPECT_TRUE(users.Verify(Basic("carol:pa:ss:word")));
  EXPECT_TRUE(users.Verify(Basic("alice:wonderland", "basic")));

  EXPECT_FALSE(users.Verify(Basic("alice:Wonderland")));
  EXPECT_FALSE(users.Verify(Basic("alice:wonderland ")));
  EXPECT_FALSE(users.Verify(Basic("alice:")));
  EXPECT_FALSE(users.Verify(Basic("bob:wonderland")));  // alice's password
  EXPECT_FALSE(users.Verify(Basic("carol:pa")));
  EXPECT_FALSE(users.Verify(Basic("Alice:wonderland")));  // names are exact
  EXPECT_FALSE(users.Verify(Basic("mallory:wonderland")));
  EXPECT_FALSE(
      users.Verify("Bearer " + absl::Base64Escape("alice:wonderland")));
  EXPECT_FALSE(users.Verify("Basic alice:wonderland"));
  EXPECT_FALSE(users.Verify(""));
}

TEST(BasicAuthUsersTest, VerifiesTheToolkitsHashes) {
  // exporter-toolkit web/testdata: alice's cost-12 hash of "alice123"
  // (handler_test.go) and its dummy, bcrypt of "fakepassword" (handler.go).
  BasicAuthUsers users(
      {{"alice",
        "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby"},
       {"fake",
        "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"}});
  EXPECT_TRUE(users.Verify(Basic("alice:alice123")));
  EXPECT_FALSE(users.Verify(Basic("alice:alice1234")));
  EXPECT_TRUE(users.Verify(Basic("fake:fakepassword")));
}

TEST(BasicAuthUsersTest, AnUnknownUserStillCostsOneBcryptRun) {
  BasicAuthUsers users({{"alice", MakeHash("wonderland")}});
  EXPECT_EQ(users.dummy_cost(), 4);  // the users' cost, so timing matches
  EXPECT_FALSE(users.Verify(Basic("fakeuser:fakepassword")));
  EXPECT_EQ(users.bcrypt_runs(), 1u);
  EXPECT_FALSE(users.Verify(Basic("fakeuser:fakepassword")));
  EXPECT_EQ(users.bcrypt_runs(), 2u);  // and is never cached
  EXPECT_EQ(users.cache_size(), 0u);
  // A malformed header costs nothing.
  EXPECT_FALSE(users.Verify("Basic !!!"));
  EXPECT_EQ(users.bcrypt_runs(), 2u);
}

TEST(BasicAuthUsersTest, TheDummyHasTheMostCommonCost) {
  const std::string cost5 = MakeHash("x", "$2b$", 5);
  const std::string cost4 = MakeHash("x", "$2b$", 4);
  EXPECT_EQ(
      BasicAuthUsers({{"a", cost5}, {"b", cost4}, {"c", cost5}}).dummy_cost(),
      5);
  EXPECT_EQ(BasicAuthUsers({{"a", cost5}, {"b", cost4}}).dummy_cost(), 4);
  EXPECT_EQ(BasicAuthUsers({}).dummy_cost(), 10);
}

TEST(BasicAuthUsersTest, CachesSuccessesOnly) {
  BasicAuthUsers users(
      {{"alice", MakeHash("wonderland")}, {"bob", MakeHash("wonderland")}});
  EXPECT_TRUE(users.Verify(Basic("alice:wonderland")));
  EXPECT_EQ(users.bcrypt_runs(), 1u);
  EXPECT_TRUE(users.Verify(Basic("alice:wonderland")));
  EXPECT_TRUE(users.Verify(Basic("alice:wonderland", "basic")));
  EXPECT_EQ(users.bcrypt_runs(), 1u);  // hits
  EXPECT_EQ(users.cache_size(), 1u);

  EXPECT_FALSE(users.Verify(Basic("alice:wonderlanD")));
  EXPECT_FALSE(users.Verify(Basic("alice:wonderlanD")));
  EXPECT_EQ(users.bcrypt_runs(), 3u);  // failures are not cached

  // The same password for another user is another entry.
  EXPECT_TRUE(users.Verify(Basic("bob:wonderland")));
  EXPECT_EQ(users.bcrypt_runs(), 4u);
  EXPECT_EQ(users.cache_size(), 2u);
}

TEST(BasicAuthUsersTest, TheCacheIsBounded) {
  std::map<std::string, std::string> map;
  for (int i = 0; i < 5; ++i) {
    map["u" + std::to_string(i)] = MakeHash("p" + std::to_string(i));
  }
  BasicAuthUsers users(map, /*cache_capacity=*/3);
  for (int i = 0; i < 5; ++i) {
    const std::string creds =
        "u" + std::to_string(i) + ":p" + std::to_string(i);
    EXPECT_TRUE(users.Verify(Basic(creds))) << creds;
    EXPECT_LE(users.cache_size(), 3u);
  }
  EXPECT_EQ(users.cache_size(), 3u);
  EXPECT_EQ(users.bcrypt_runs(), 5u);
  // The last one verified is still cached.
  EXPECT_TRUE(users.Verify(Basic("u4:p4")));
  EXPECT_EQ(users.bcrypt_runs(), 5u);
}

TEST(BasicAuthUsersTest, WithoutUsersNothingVerifies) {
  BasicAuthUsers users({});
  EXPECT_FALSE(users.enabled());
  EXPECT_FALSE(users.Verify(Basic("a:b")));
  EXPECT_EQ(users.bcrypt_runs(), 0u);
}

TEST(BasicAuthUsersTest, ConcurrentVerifies) {
  BasicAuthUsers users(
      {{"alice", MakeHash("wonderland")}, {"bob", MakeHash("builder")}});
  constexpr int kThreads = 8;
  constexpr int kRounds = 20;
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&users, &failures, t] {
      for (int i = 0; i < kRounds; ++i) {
        const bool right = users.Verify(
            Basic(t % 2 == 0 ? "alice:wonderland" : "bob:builder"));
        const bool wrong = users.Verify(Basic("alice:builder"));
        if (!right || wrong) ++failures[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], 0) << t;
  // Every wrong attempt runs bcrypt; each right pair at least once and at
  // most once per thread (before the first success is cached).
  EXPECT_GE(users.bcrypt_runs(), uint64_t{kThreads * kRounds + 2});
  EXPECT_LE(users.bcrypt_runs(), uint64_t{kThreads * kRounds + kThreads});
  EXPECT_EQ(users.cache_size(), 2u);
}

}  // namespace
}  // namespace aiq::http
