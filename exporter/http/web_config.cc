#include "exporter/http/web_config.h"

#include <fcntl.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "exporter/config/config_error.h"
#include "exporter/config/yaml_reader.h"
#include "exporter/http/basic_auth.h"
#include "exporter/util/absl_compat.h"

namespace aiq::http {
namespace {

using config::ConfigError;
using config::YamlReader;
using config::YamlSection;

// Go's tls.CipherSuites() (crypto/tls/cipher_suites.go), which the toolkit's
// Cipher.UnmarshalYAML searches; the OpenSSL names are those
// `openssl ciphers -stdname` prints for the same IANA suites.
constexpr std::array<TlsCipherSuite, 13> kCipherSuites = {{
    {"TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", true},
    {"TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", true},
    {"TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", true},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", false},
    {"TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", false},
    {"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256",
     false},
    {"TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384",
     false},
    {"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
     false},
    {"TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
     false},
    {"TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-RSA-CHACHA20-POLY1305", false},
    {"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
     "ECDHE-ECDSA-CHACHA20-POLY1305", false},
}};

// The toolkit's `curves` table (web/tls_config.go).
constexpr std::array<TlsCurve, 4> kCurves = {{
    {"CurveP256", "P-256"},
    {"CurveP384", "P-384"},
    {"CurveP521", "P-521"},
    {"X25519", "X25519"},
}};

// The toolkit's extraHTTPHeaders (web/handler.go): the only headers a web
// config may set, and for some the only values. Names match exactly.
struct AllowedHeader {
  const char* name;
  std::vector<std::string_view> values;  // empty: any value
};
const std::vector<AllowedHeader>& AllowedHeaders() {
  static const auto* headers = new std::vector<AllowedHeader>{
      {"Content-Security-Policy", {}},
      {"Strict-Transport-Security", {}},
      {"X-Content-Type-Options", {"nosniff"}},
      {"X-Frame-Options", {"deny", "sameorigin"}},
      {"X-XSS-Protection", {}},
  };
  return *headers;
}

std::string Quoted(const std::vector<std::string_view>& values) {
  std::vector<std::string> q;
  for (std::string_view v : values) {
    q.push_back(absl::StrCat("\"", util::ToAbsl(v), "\""));
  }
  return absl::StrJoin(q, ", ");
}

void ReadBool(YamlSection& s, std::string_view key, bool& out) {
  std::optional<YAML::Node> n = s.Present(key);
  if (!n) return;
  bool v = false;
  if (!n->IsScalar() || !YAML::convert<bool>::decode(*n, v)) {
    s.reader().Error(*n, s.PathOf(key), "must be true or false");
    return;
  }
  out = v;
}

// A string scalar; null reads as "" (a blank header value).
std::optional<std::string> ScalarOrBlank(const YAML::Node& n) {
  if (n.IsNull()) return std::string();
  if (n.IsScalar()) return n.Scalar();
  return std::nullopt;
}

void ReadClientAuth(YamlSection& s, ClientAuthType& out) {
  std::optional<YAML::Node> n = s.Present("client_auth_type");
  if (!n) return;
  std::optional<ClientAuthType> v;
  if (n->IsScalar()) {
    // The toolkit keeps "RequireClientCert" as an old name.
    v = n->Scalar() == "RequireClientCert"
            ? ClientAuthType::kRequireAnyClientCert
            : kClientAuthTypeNames.Parse(n->Scalar());
  }
  if (!v) {
    s.reader().Error(
        *n, s.PathOf("client_auth_type"),
        absl::StrCat("must be one of ", kClientAuthTypeNames.List()));
    return;
  }
  out = *v;
}

// A list of names from `table` (TlsCipherSuite or TlsCurve), kept in order.
template <typename T, size_t N>
void ReadNameList(YamlSection& s, std::string_view key,
                  const std::array<T, N>& table, std::string_view what,
                  std::vector<T>& out) {
  std::optional<YAML::Node> n = s.Present(key);
  if (!n) return;
  const std::string path = s.PathOf(key);
  if (!n->IsSequence()) {
    s.reader().Error(*n, path, "must be a list of strings");
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < n->size(); ++i) {
    const YAML::Node item = (*n)[i];
    const std::string item_path = YamlReader::Index(path, i);
    const T* found = nullptr;
    if (item.IsScalar()) {
      for (const T& t : table) {
        if (item.Scalar() == t.name) found = &t;
      }
    }
    if (found == nullptr) {
      std::vector<std::string> names;
      for (const T& t : table) names.emplace_back(t.name);
      s.reader().Error(
          item, item_path,
          absl::StrCat("unknown ", util::ToAbsl(what),
                       item.IsScalar()
                           ? absl::StrCat(" \"", item.Scalar(), "\"")
                           : std::string(),
                       " (expected one of: ", absl::StrJoin(names, ", "), ")"));
      continue;
    }
    if (!seen.insert(found->name).second) {
      s.reader().Error(item, item_path,
                       absl::StrCat("duplicate \"", found->name, "\""));
      continue;
    }
    out.push_back(*found);
  }
}

std::string Resolve(std::string_view base_dir, const std::string& file) {
  // As the toolkit's config_util.JoinDir: absolute names stay as they are.
  if (file.empty() || base_dir.empty() ||
      std::filesystem::path(file).is_absolute()) {
    return file;
  }
  return (std::filesystem::path(base_dir) / file).lexically_normal().string();
}

// The whole file, or the reason it cannot be read.
bool ReadFile(const std::string& path, std::string& out, std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::strerror(errno);
    return false;
  }
  out.clear();
  char buf[8192];
  while (true) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return true;
}

// Every PEM block starts so; catches an empty, swapped-in DER or wrong file
// now rather than at the first handshake.
bool LooksLikePem(std::string_view text) {
  return text.find("-----BEGIN ") != std::string_view::npos;
}

// Errors at a mapping's keys once its YamlSection has ended, so that the
// checks across keys come after the unknown keys (which often explain them)
// in the error list.
class KeyErrors {
 public:
  KeyErrors(YamlReader& r, const YAML::Node& map, std::string path)
      : r_(r), map_(map), path_(std::move(path)) {}
  // At `key`'s value, or at the mapping when the key is absent.
  void Error(std::string_view key, std::string message) {
    const YAML::Node n = map_[std::string(key)];
    r_.Error(n.IsDefined() ? n : map_, YamlReader::Join(path_, key),
             std::move(message));
  }

 private:
  YamlReader& r_;
  const YAML::Node& map_;
  std::string path_;
};

void CheckPemFile(KeyErrors& s, std::string_view key, const std::string& path) {
  if (path.empty()) return;
  std::string text;
  std::string error;
  if (!ReadFile(path, text, error)) {
    s.Error(key, absl::StrCat("cannot read ", path, ": ", error));
  } else if (!LooksLikePem(text)) {
    s.Error(key, absl::StrCat(path, " is not PEM (no -----BEGIN line)"));
  }
}

void CheckPemText(KeyErrors& s, std::string_view key, const std::string& text) {
  if (!text.empty() && !LooksLikePem(text)) {
    s.Error(key, "is not PEM text (no -----BEGIN line)");
  }
}

// One of an inline/file pair; both is ambiguous (the toolkit's docs say not
// to, its code silently prefers the file).
void CheckPair(KeyErrors& s, const std::string& inline_value,
               const std::string& file, std::string_view inline_key,
               std::string_view file_key, bool required) {
  if (!inline_value.empty() && !file.empty()) {
    s.Error(inline_key, absl::StrCat("set ", util::ToAbsl(inline_key), " or ",
                                     util::ToAbsl(file_key), ", not both"));
  } else if (required && inline_value.empty() && file.empty()) {
    // The toolkit's wording.
    s.Error(file_key, absl::StrCat("missing one of ", util::ToAbsl(inline_key),
                                   " or ", util::ToAbsl(file_key)));
  }
}

void ReadTls(YamlReader& r, const YAML::Node& node, std::string_view base_dir,
             WebConfig& out) {
  const std::string path = "tls_server_config";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!r.ExpectMap(node, path)) return;
  if (node.size() == 0) return;  // `{}` reads as absent
  TlsServerConfig t;
  {
    YamlSection s(r, node, path);
    s.String("cert", t.cert_pem);
    s.String("key", t.key_pem);
    s.String("client_ca", t.client_ca_pem);
    s.String("cert_file", t.cert_file);
    s.String("key_file", t.key_file);
    s.String("client_ca_file", t.client_ca_file);
    ReadClientAuth(s, t.client_auth_type);
    s.Enum("min_version", kTlsVersionNames, t.min_version);
    s.Enum("max_version", kTlsVersionNames, t.max_version);
    ReadNameList(s, "cipher_suites", kCipherSuites, "cipher suite",
                 t.cipher_suites);
    ReadNameList(s, "curve_preferences", kCurves, "curve", t.curve_preferences);
    ReadBool(s, "prefer_server_cipher_suites", t.prefer_server_cipher_suites);
    if (s.Present("client_allowed_sans")) {
      // Accepting it without enforcing it would let in certificates the
      // file means to refuse.
      s.Error("client_allowed_sans",
              "is not supported by this exporter (remove it, or restrict "
              "clients by client_ca_file)");
    }
  }  // unknown keys are reported here

  KeyErrors s(r, node, path);
  t.cert_file = Resolve(base_dir, t.cert_file);
  t.key_file = Resolve(base_dir, t.key_file);
  t.client_ca_file = Resolve(base_dir, t.client_ca_file);
  CheckPair(s, t.cert_pem, t.cert_file, "cert", "cert_file", true);
  CheckPair(s, t.key_pem, t.key_file, "key", "key_file", true);
  CheckPair(s, t.client_ca_pem, t.client_ca_file, "client_ca", "client_ca_file",
            false);
  if ((!t.client_ca_file.empty() || !t.client_ca_pem.empty()) &&
      t.client_auth_type == ClientAuthType::kNoClientCert) {
    // The toolkit refuses this too ("client CA's have been configured
    // without a Client Auth Policy"): the CA would silently go unused.
    s.Error(t.client_ca_file.empty() ? "client_ca" : "client_ca_file",
            "is set but client_auth_type is NoClientCert; set "
            "client_auth_type to RequireAndVerifyClientCert (or "
            "VerifyClientCertIfGiven)");
  }
  if (t.min_version > t.max_version) {
    s.Error("min_version", absl::StrCat(kTlsVersionNames.Name(t.min_version),
                                        " is above max_version ",
                                        kTlsVersionNames.Name(t.max_version)));
  }
  CheckPemText(s, "cert", t.cert_pem);
  CheckPemText(s, "key", t.key_pem);
  CheckPemText(s, "client_ca", t.client_ca_pem);
  CheckPemFile(s, "cert_file", t.cert_file);
  CheckPemFile(s, "key_file", t.key_file);
  CheckPemFile(s, "client_ca_file", t.client_ca_file);
  // Any error fails the whole file, so `t` is only used when complete.
  out.tls = std::move(t);
}

void ReadHeaders(YamlSection& http, HttpServerConfig& out) {
  std::optional<YAML::Node> n = http.Present("headers");
  if (!n) return;
  YamlReader& r = http.reader();
  const std::string path = http.PathOf("headers");
  if (!r.ExpectMap(*n, path)) return;
  std::vector<std::string> names;
  for (const AllowedHeader& h : AllowedHeaders()) names.emplace_back(h.name);
  std::set<std::string> seen;
  for (const auto& kv : *n) {
    const std::string name = kv.first.as<std::string>("");
    const std::string header_path = YamlReader::Join(path, name);
    const AllowedHeader* allowed = nullptr;
    for (const AllowedHeader& h : AllowedHeaders()) {
      if (name == h.name) allowed = &h;
    }
    if (allowed == nullptr) {
      r.Error(kv.first, header_path,
              absl::StrCat("HTTP header \"", name,
                           "\" can not be configured (allowed: ",
                           absl::StrJoin(names, ", "), ")"));
      continue;
    }
    if (!seen.insert(name).second) {
      r.Error(kv.first, header_path, "duplicate header");
      continue;
    }
    // A null value's mark is past it (on the next line): use the key's.
    const YAML::Node& at = kv.second.IsNull() ? kv.first : kv.second;
    std::optional<std::string> value = ScalarOrBlank(kv.second);
    if (!value) {
      r.Error(kv.second, header_path, "must be a string");
      continue;
    }
    if (!allowed->values.empty() &&
        std::find(allowed->values.begin(), allowed->values.end(), *value) ==
            allowed->values.end()) {
      r.Error(at, header_path,
              absl::StrCat("invalid value \"", *value, "\" (expected one of: ",
                           Quoted(allowed->values), ")"));
      continue;
    }
    // A block scalar can carry a newline, which would split the header.
    if (std::any_of(value->begin(), value->end(), [](char c) {
          return static_cast<unsigned char>(c) < 0x20 && c != '\t';
        })) {
      r.Error(kv.second, header_path, "must not contain control characters");
      continue;
    }
    if (value->empty()) continue;  // "Unset if blank" (the toolkit's docs)
    out.headers[name] = *value;
  }
}

void ReadHttp(YamlReader& r, const YAML::Node& node, WebConfig& out) {
  const std::string path = "http_server_config";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!r.ExpectMap(node, path)) return;
  YamlSection s(r, node, path);
  ReadBool(s, "http2", out.http.http2);
  ReadHeaders(s, out.http);
}

void ReadUsers(YamlReader& r, const YAML::Node& node, WebConfig& out) {
  const std::string path = "basic_auth_users";
  if (!node.IsDefined() || node.IsNull()) return;
  if (!r.ExpectMap(node, path)) return;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) {
      r.Error(kv.first, path, "a username must be a string");
      continue;
    }
    const std::string user = kv.first.Scalar();
    const std::string user_path = YamlReader::Join(path, user);
    if (user.find(':') != std::string::npos) {
      // Basic auth splits "user:password" at the first ':'.
      r.Error(kv.first, user_path, "a username cannot contain ':'");
      continue;
    }
    if (out.basic_auth_users.count(user) > 0) {
      r.Error(kv.first, user_path, "duplicate user");
      continue;
    }
    // The hash itself is left out of messages: it is a credential.
    if (!kv.second.IsScalar() || !BcryptCost(kv.second.Scalar())) {
      // A null value's mark is past it (on the next line): use the key's.
      r.Error(kv.second.IsNull() ? kv.first : kv.second, user_path,
              "must be a bcrypt hash: $2a$, $2b$ or $2y$, a cost of 04 to 31, "
              "60 characters in all (make one with "
              "`htpasswd -nBC 10 \"\" | tr -d ':\\n'`)");
      continue;
    }
    out.basic_auth_users[user] = kv.second.Scalar();
  }
}

}  // namespace

std::span<const TlsCipherSuite> TlsCipherSuites() { return kCipherSuites; }

std::span<const TlsCurve> TlsCurves() { return kCurves; }

absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml,
                                         std::string_view file_name_for_errors,
                                         std::string_view base_dir) {
  std::vector<ConfigError> errors;
  YamlReader r(file_name_for_errors, errors);
  WebConfig config;
  std::optional<YAML::Node> root = r.Load(yaml);
  if (root && !root->IsNull() && r.ExpectMap(*root, "")) {
    YamlSection s(r, *root, "");
    ReadTls(r, s.Get("tls_server_config"), base_dir, config);
    ReadHttp(r, s.Get("http_server_config"), config);
    ReadUsers(r, s.Get("basic_auth_users"), config);
    if (s.Present("rate_limit")) {
      // Silently ignoring it would leave the endpoint unlimited.
      s.Error("rate_limit",
              "is not supported by this exporter (remove it, or limit "
              "requests in a reverse proxy)");
    }
  }
  if (!errors.empty()) {
    r.SortErrorsByLine();
    return config::JoinErrors(errors);
  }
  return config;
}

absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path) {
  std::string text;
  std::string error;
  if (!ReadFile(path, text, error)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read web config ", path, ": ", error));
  }
  return ParseWebConfig(text, path,
                        std::filesystem::path(path).parent_path().string());
}

TlsOptions ToTlsOptions(const TlsServerConfig& config) {
  TlsOptions t;
  t.cert_file = config.cert_file;
  t.cert_pem = config.cert_pem;
  t.key_file = config.key_file;
  t.key_pem = config.key_pem;
  t.client_ca_file = config.client_ca_file;
  t.client_ca_pem = config.client_ca_pem;
  t.client_auth = config.client_auth_type;
  t.min_version = config.min_version;
  t.max_version = config.max_version;
  for (const TlsCipherSuite& c : config.cipher_suites) {
    (c.tls13 ? t.tls13_suites : t.cipher_list).emplace_back(c.openssl_name);
  }
  for (const TlsCurve& c : config.curve_preferences) {
    t.groups.emplace_back(c.openssl_name);
  }
  t.prefer_server_cipher_suites = config.prefer_server_cipher_suites;
  return t;
}

}  // namespace aiq::http
