// HTTP basic authentication (RFC 7617) against the web config's
// basic_auth_users (web_config.h): usernames with bcrypt password hashes,
// checked the way the Prometheus exporter-toolkit checks them.
//
// bcrypt is slow on purpose (cost 10 is tens of milliseconds), so a
// verified user+password is cached: a client that sends the same
// credentials on every request pays for bcrypt once. Failures are not
// cached. An unknown username still costs one bcrypt run (against a dummy
// hash of the users' usual cost), so response times do not tell which
// usernames exist. Results are compared in constant time.
//
// Thread safety: Verify may be called concurrently. The users and the dummy
// hash are fixed at construction; bcrypt runs outside any lock (concurrent
// runs are not serialised, unlike the toolkit's); one mutex guards the
// cache.
//
// bcrypt reads only the first 72 bytes of a password: longer ones that
// share those verify alike.
//
// Example, given `const WebConfig& web` and
// `std::string_view authorization`:
//   BasicAuthUsers users(web.basic_auth_users);
//   if (users.enabled() && !users.Verify(authorization)) {
//     // 401 with "WWW-Authenticate: Basic"
//   }
#ifndef AIQ_EXPORTER_HTTP_BASIC_AUTH_H_
#define AIQ_EXPORTER_HTTP_BASIC_AUTH_H_

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "exporter/http/web_config.h"

namespace aiq::http {

// The cost of a well-formed bcrypt hash: "$2a$", "$2b$" or "$2y$", a
// two-digit cost from 04 to 31, "$", then 53 characters of bcrypt's base64
// alphabet (22 of salt, 31 of hash): 60 in all. nullopt otherwise.
std::optional<int> BcryptCost(std::string_view hash);

struct BasicCredentials {
  std::string user;
  std::string password;
};

// The credentials of an Authorization header value "Basic <base64>": the
// scheme in any case, one or more spaces, canonical padded base64 of
// "user:password" (split at the first ':', so a password may contain ':').
// nullopt for anything else, including a NUL in the decoded text.
std::optional<BasicCredentials> ParseBasicAuthorization(std::string_view value);

class BasicAuthUsers {
 public:
  // The exporter-toolkit's cache size.
  static constexpr size_t kDefaultCacheCapacity = 100;

  // `users`: username -> bcrypt hash, as in WebConfig::basic_auth_users
  // (whose hashes LoadWebConfigFile has checked; a malformed one never
  // verifies).
  explicit BasicAuthUsers(std::map<std::string, std::string> users,
                          size_t cache_capacity = kDefaultCacheCapacity);
  BasicAuthUsers(const BasicAuthUsers&) = delete;
  BasicAuthUsers& operator=(const BasicAuthUsers&) = delete;

  // False when there are no users: the toolkit then requires no auth.
  bool enabled() const { return !users_.empty(); }

  // Whether `authorization_header_value` (the Authorization header's value)
  // carries the right password of a configured user.
  bool Verify(std::string_view authorization_header_value);

  // bcrypt runs so far (dummy runs for unknown users included), so tests can
  // tell a cache hit from a computation without timing anything.
  uint64_t bcrypt_runs() const {
    return bcrypt_runs_.load(std::memory_order_relaxed);
  }
  size_t cache_size() const;
  // The cost of the dummy hash unknown users are checked against: the most
  // common cost among the users (the lowest of a tie; 10 without users).
  int dummy_cost() const { return dummy_cost_; }

 private:
  struct CacheEntry {
    // The whole key, compared on a hit, so that a collision of the 64-bit
    // hash the map is keyed by can only cause a miss, never a false accept.
    // Holding passwords in memory is what the toolkit's cache does too.
    std::string user;
    std::string stored_hash;
    std::string password;
  };

  // Runs bcrypt: whether `password` hashes to `stored_hash`.
  bool Bcrypt(const std::string& password, const std::string& stored_hash);
  bool CacheHit(uint64_t key, std::string_view user,
                std::string_view stored_hash, std::string_view password);
  void CacheInsert(uint64_t key, CacheEntry entry);

  const std::map<std::string, std::string> users_;
  const size_t cache_capacity_;
  const int dummy_cost_;
  const std::string dummy_hash_;
  std::atomic<uint64_t> bcrypt_runs_{0};

  mutable absl::Mutex mu_;
  // Verified (user, stored hash, password), keyed by a hash of the three.
  // At most cache_capacity_ entries; when full, an arbitrary one is evicted.
  absl::flat_hash_map<uint64_t, CacheEntry> cache_ ABSL_GUARDED_BY(mu_);
};

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_BASIC_AUTH_H_
