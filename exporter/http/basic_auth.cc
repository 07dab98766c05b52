#include "exporter/http/basic_auth.h"

#include <crypt.h>

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "exporter/util/absl_compat.h"

namespace aiq::http {
namespace {

bool IsBcryptBase64(char c) {
  return c == '.' || c == '/' || absl::ascii_isalnum(static_cast<uint8_t>(c));
}

bool IsBase64(char c) {
  return c == '+' || c == '/' || absl::ascii_isalnum(static_cast<uint8_t>(c));
}

bool IsOws(char c) { return c == ' ' || c == '\t'; }

// Constant in the contents: every byte of the longer input is looked at
// whatever the first difference, so timing tells nothing of where it is.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  const size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

// The salt of the toolkit's dummy hash (bcrypt of "fakepassword"); any
// fixed salt would do, only the cost matters for timing.
constexpr char kDummySalt[] = "QOauhQNbBCuQDKes6eFzPe";

int MostCommonCost(const std::map<std::string, std::string>& users) {
  std::map<int, int> count;  // ordered: a tie goes to the lowest cost
  for (const auto& [user, hash] : users) {
    if (std::optional<int> cost = BcryptCost(hash)) ++count[*cost];
  }
  int best = 10;  // htpasswd's and the toolkit dummy's cost
  int best_count = 0;
  for (const auto& [cost, n] : count) {
    if (n > best_count) {
      best = cost;
      best_count = n;
    }
  }
  return best;
}

// A full 60-character hash of `cost`; only its setting (the first 29
// characters) goes into bcrypt, and it is never accepted.
std::string DummyHash(int cost) {
  return absl::StrCat("$2y$", cost < 10 ? "0" : "", cost, "$", kDummySalt,
                      std::string(31, '.'));
}

}  // namespace

std::optional<int> BcryptCost(std::string_view hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' ||
      (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' ||
      !absl::ascii_isdigit(static_cast<uint8_t>(hash[4])) ||
      !absl::ascii_isdigit(static_cast<uint8_t>(hash[5])) || hash[6] != '$') {
    return std::nullopt;
  }
  const int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
  if (cost < 4 || cost > 31) return std::nullopt;
  if (!std::all_of(hash.begin() + 7, hash.end(), IsBcryptBase64)) {
    return std::nullopt;
  }
  return cost;
}

std::optional<BasicCredentials> ParseBasicAuthorization(
    std::string_view value) {
  while (!value.empty() && IsOws(value.front())) value.remove_prefix(1);
  while (!value.empty() && IsOws(value.back())) value.remove_suffix(1);
  constexpr std::string_view kScheme = "basic";
  if (value.size() <= kScheme.size() || value[kScheme.size()] != ' ' ||
      !absl::EqualsIgnoreCase(util::ToAbsl(value.substr(0, kScheme.size())),
                              util::ToAbsl(kScheme))) {
    return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  // Canonical padded base64 only (as Go's StdEncoding): absl would also skip
  // whitespace and accept missing padding.
  if (value.empty() || value.size() % 4 != 0) return std::nullopt;
  size_t padding = 0;
  while (padding < 2 && value[value.size() - 1 - padding] == '=') ++padding;
  if (!std::all_of(value.begin(), value.end() - static_cast<ptrdiff_t>(padding),
                   IsBase64)) {
    return std::nullopt;
  }
  std::string decoded;
  if (!absl::Base64Unescape(util::ToAbsl(value), &decoded)) return std::nullopt;
  // crypt(3) takes C strings: a NUL would cut the password short.
  if (decoded.find('\0') != std::string::npos) return std::nullopt;
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return std::nullopt;
  return BasicCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

BasicAuthUsers::BasicAuthUsers(std::map<std::string, std::string> users,
                               size_t cache_capacity)
    : users_(std::move(users)),
      cache_capacity_(std::max<size_t>(cache_capacity, 1)),
      dummy_cost_(MostCommonCost(users_)),
      dummy_hash_(DummyHash(dummy_cost_)) {}

size_t BasicAuthUsers::cache_size() const {
  absl::MutexLock lock(&mu_);
  return cache_.size();
}

bool BasicAuthUsers::Bcrypt(const std::string& password,
                            const std::string& stored_hash) {
  bcrypt_runs_.fetch_add(1, std::memory_order_relaxed);
  // Per call: crypt_rn keeps its state here, which makes it reentrant.
  // Value-initialised (zeroed), as crypt_rn requires on first use.
  auto data = std::make_unique<crypt_data>();
  const char* out = crypt_rn(password.c_str(), stored_hash.c_str(), data.get(),
                             static_cast<int>(sizeof(crypt_data)));
  return out != nullptr && ConstantTimeEquals(out, stored_hash);
}

bool BasicAuthUsers::CacheHit(uint64_t key, std::string_view user,
                              std::string_view stored_hash,
                              std::string_view password) {
  absl::MutexLock lock(&mu_);
  auto it = cache_.find(key);
  if (it == cache_.end()) return false;
  const CacheEntry& e = it->second;
  // Non-short-circuit, so the password compare runs whatever the user.
  const bool same_user = e.user == user && e.stored_hash == stored_hash;
  const bool same_password = ConstantTimeEquals(e.password, password);
  return same_user & same_password;
}

void BasicAuthUsers::CacheInsert(uint64_t key, CacheEntry entry) {
  absl::MutexLock lock(&mu_);
  if (cache_.size() >= cache_capacity_ && !cache_.contains(key)) {
    cache_.erase(cache_.begin());
  }
  cache_.insert_or_assign(key, std::move(entry));
}

bool BasicAuthUsers::Verify(std::string_view authorization_header_value) {
  if (users_.empty()) return false;
  std::optional<BasicCredentials> c =
      ParseBasicAuthorization(authorization_header_value);
  if (!c) return false;
  auto it = users_.find(c->user);
  const bool known = it != users_.end();
  // An unknown user runs bcrypt too (against the dummy), and is never
  // cached, so that it takes as long as a known user's wrong password.
  const std::string& stored_hash = known ? it->second : dummy_hash_;
  const uint64_t key = absl::HashOf(c->user, stored_hash, c->password);
  if (known && CacheHit(key, c->user, stored_hash, c->password)) return true;
  const bool ok = Bcrypt(c->password, stored_hash) && known;
  if (ok) {
    CacheInsert(key, CacheEntry{c->user, stored_hash, c->password});
  }
  return ok;
}

}  // namespace aiq::http
