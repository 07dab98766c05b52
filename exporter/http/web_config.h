// The web configuration file (`--web.config.file`) in the format of the
// Prometheus exporter-toolkit (docs/web-configuration.md there), so one file
// serves our exporter and the Go exporters beside it: TLS server settings,
// a fixed set of security response headers and bcrypt basic-auth users.
// This is parsing and verification only: it checks the file completely
// (unknown keys, enumerations, hash format, that the certificate, key and
// CA files can be read) and leaves building the TLS context to the server.
//
// Errors look like the main config's (config/yaml_reader.h): every problem,
// each with file, line and YAML path, joined into one InvalidArgument.
// Relative file names resolve against the web config file's directory, as
// the toolkit resolves them. An empty file means plain HTTP and no auth.
//
// Example:
//   #include <iostream>
//   absl::StatusOr<WebConfig> c =
//       aiq::http::LoadWebConfigFile("/etc/aiq/web.yml");
//   if (!c.ok()) {
//     std::cerr << c.status().message() << "\n";  // one line per problem
//   } else if (c->tls) {
//     const std::string& cert = c->tls->cert_file;  // absolute when given
//     bool mtls = VerifiesClientCert(c->tls->client_auth_type);
//   }
#ifndef AIQ_EXPORTER_HTTP_WEB_CONFIG_H_
#define AIQ_EXPORTER_HTTP_WEB_CONFIG_H_

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "exporter/http/server.h"
#include "exporter/util/enum_names.h"

namespace aiq::http {

// ClientAuthType and TlsVersion (server.h) by the names the toolkit
// accepts ("RequireClientCert" is also read, as the toolkit's old name of
// RequireAnyClientCert).
inline constexpr auto kClientAuthTypeNames =
    util::MakeEnumNames<ClientAuthType>({
        {ClientAuthType::kNoClientCert, "NoClientCert"},
        {ClientAuthType::kRequestClientCert, "RequestClientCert"},
        {ClientAuthType::kRequireAnyClientCert, "RequireAnyClientCert"},
        {ClientAuthType::kVerifyClientCertIfGiven, "VerifyClientCertIfGiven"},
        {ClientAuthType::kRequireAndVerifyClientCert,
         "RequireAndVerifyClientCert"},
    });

inline constexpr auto kTlsVersionNames = util::MakeEnumNames<TlsVersion>({
    {TlsVersion::kTls10, "TLS10"},
    {TlsVersion::kTls11, "TLS11"},
    {TlsVersion::kTls12, "TLS12"},
    {TlsVersion::kTls13, "TLS13"},
});

// A cipher suite by its Go name (the one the file uses) with OpenSSL's name
// for it, which is what an OpenSSL-based server passes on.
struct TlsCipherSuite {
  const char* name;          // "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
  const char* openssl_name;  // "ECDHE-RSA-AES128-GCM-SHA256"
  // A TLS 1.3 suite: OpenSSL sets those apart (SSL_CTX_set_ciphersuites,
  // not SSL_CTX_set_cipher_list). Go ignores them in its list.
  bool tls13;
};
// The names cipher_suites accepts: those of Go's tls.CipherSuites(), the
// list the toolkit checks against (current Go, which counts the RSA key
// exchange suites as insecure and leaves them out).
std::span<const TlsCipherSuite> TlsCipherSuites();

// An ECDHE curve by the toolkit's name and OpenSSL's group name.
struct TlsCurve {
  const char* name;          // "CurveP256"
  const char* openssl_name;  // "P-256" (SSL_CTX_set1_groups_list)
};
// The toolkit's curve names: CurveP256, CurveP384, CurveP521, X25519.
std::span<const TlsCurve> TlsCurves();

// tls_server_config. The certificate and the key come either from a file
// (cert_file, key_file) or inline as PEM text (cert, key); the same for the
// client CA (client_ca_file or client_ca). Exactly one of each pair is set
// for the certificate and the key; at most one for the CA.
struct TlsServerConfig {
  std::string cert_file;  // resolved against the web config's directory
  std::string cert_pem;   // `cert`
  std::string key_file;
  std::string key_pem;  // `key`: a secret, never log it
  std::string client_ca_file;
  std::string client_ca_pem;  // `client_ca`
  // A verifying type without a client CA is accepted, as by the toolkit: Go
  // then verifies client certificates against the system's trusted CAs
  // (with OpenSSL: SSL_CTX_set_default_verify_paths). A CA with
  // NoClientCert is an error.
  ClientAuthType client_auth_type = ClientAuthType::kNoClientCert;
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // In the file's (preference) order; empty: the TLS library's defaults.
  std::vector<TlsCipherSuite> cipher_suites;
  std::vector<TlsCurve> curve_preferences;
  // Accepted and stored because toolkit files have it (default true). Go
  // has ignored it since 1.17 (crypto/tls orders suites itself); what we
  // honour is its meaning in OpenSSL, SSL_OP_CIPHER_SERVER_PREFERENCE (the
  // server picks by cipher_suites' order), which the server sets when true.
  bool prefer_server_cipher_suites = true;
};

// http_server_config.
struct HttpServerConfig {
  // Accepted for toolkit files (default true); HTTP/2 applies only over TLS,
  // and only if the server speaks it at all.
  bool http2 = true;
  // Response headers to add, limited as the toolkit limits them: only
  // Content-Security-Policy, Strict-Transport-Security,
  // X-Content-Type-Options (nosniff), X-Frame-Options (deny, sameorigin)
  // and X-XSS-Protection. A header left blank is unset (not in the map).
  std::map<std::string, std::string> headers;
};

struct WebConfig {
  // nullopt: plain HTTP (no tls_server_config, or an empty one).
  std::optional<TlsServerConfig> tls;
  HttpServerConfig http;
  // Username -> bcrypt hash ($2a$, $2b$ or $2y$, checked); empty: no auth.
  std::map<std::string, std::string> basic_auth_users;
};

// Reads and checks the file at `path`. NotFound ("cannot read web config
// PATH: ...") when it cannot be read; otherwise as ParseWebConfig with
// errors named after `path` and relative files resolved against its
// directory.
absl::StatusOr<WebConfig> LoadWebConfigFile(const std::string& path);

// Parses and checks `yaml`. Errors name `file_name_for_errors`; relative
// file names resolve against `base_dir` (kept relative when it is empty).
// The referenced files are opened and checked here too.
absl::StatusOr<WebConfig> ParseWebConfig(std::string_view yaml,
                                         std::string_view file_name_for_errors,
                                         std::string_view base_dir);

// The server's TLS settings for `config` (OpenSSL's names).
TlsOptions ToTlsOptions(const TlsServerConfig& config);

}  // namespace aiq::http

#endif  // AIQ_EXPORTER_HTTP_WEB_CONFIG_H_
