#include "exporter/http/web_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace aiq::http {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::Pair;

constexpr char kCertPem[] =
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
constexpr char kKeyPem[] =
    "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
// The exporter-toolkit's web/testdata/web_config_users.good.yml: alice's
// password is "alice123" (its handler_test.go logs in with it).
constexpr char kAliceHash[] =
    "$2y$12$1DpfPeqF9HzHJt.EWswy1exHluGfbhnn3yXhR7Xes6m3WJqFg0Wby";
constexpr char kCarolHash[] =
    "$2y$10$qRTBuFoULoYNA7AQ/F3ck.trZBPyjV64.oA4ZsSBCIWvXuvQlQTuu";

// Each test gets its own directory with server.crt, server.key and ca.crt
// (PEM-looking text: only readability and the PEM marker are checked).
class WebConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::path(::testing::TempDir()) /
            ("web_config_test_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    Write("server.crt", kCertPem);
    Write("server.key", kKeyPem);
    Write("ca.crt", kCertPem);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const fs::path p = fs::path(dir_) / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string In(const std::string& name) const {
    return (fs::path(dir_) / name).string();
  }
  absl::StatusOr<WebConfig> Parse(const std::string& yaml) const {
    return ParseWebConfig(yaml, "web.yml", dir_);
  }
  // The error message of a failed parse ("" if it succeeded).
  std::string Error(const std::string& yaml) const {
    absl::StatusOr<WebConfig> c = Parse(yaml);
    if (c.ok()) return "";
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
    return std::string(c.status().message());
  }

  std::string dir_;
};

constexpr char kTlsKeys[] =
    "cert, key, client_ca, cert_file, key_file, client_ca_file, "
    "client_auth_type, min_version, max_version, cipher_suites, "
    "curve_preferences, prefer_server_cipher_suites, client_allowed_sans";

TEST_F(WebConfigTest, ParsesACompleteExample) {
  absl::StatusOr<WebConfig> c = Parse(absl::StrCat(
      "tls_server_config:\n"
      "  cert_file: server.crt\n"
      "  key_file: server.key\n"
      "  client_ca_file: ca.crt\n"
      "  client_auth_type: RequireAndVerifyClientCert\n"
      "  min_version: TLS13\n"
      "  max_version: TLS13\n"
      "  cipher_suites:\n"
      "    - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256\n"
      "    - TLS_AES_256_GCM_SHA384\n"
      "  curve_preferences: [X25519, CurveP256]\n"
      "  prefer_server_cipher_suites: false\n"
      "http_server_config:\n"
      "  http2: false\n"
      "  headers:\n"
      "    X-Frame-Options: deny\n"
      "    Strict-Transport-Security: max-age=31536000; includeSubDomains\n"
      "    X-Content-Type-Options: nosniff\n"
      "    X-XSS-Protection: 1\n"
      "    Content-Security-Policy: \"default-src 'self'\"\n"
      "basic_auth_users:\n"
      "  alice: ",
      kAliceHash,
      "\n"
      "  carol: '",
      kCarolHash, "'\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->tls.has_value());
  const TlsServerConfig& t = *c->tls;
  EXPECT_EQ(t.cert_file, In("server.crt"));
  EXPECT_EQ(t.key_file, In("server.key"));
  EXPECT_EQ(t.client_ca_file, In("ca.crt"));
  EXPECT_EQ(t.cert_pem, "");
  EXPECT_EQ(t.key_pem, "");
  EXPECT_EQ(t.client_ca_pem, "");
  EXPECT_EQ(t.client_auth_type, ClientAuthType::kRequireAndVerifyClientCert);
  EXPECT_EQ(t.min_version, TlsVersion::kTls13);
  EXPECT_EQ(t.max_version, TlsVersion::kTls13);
  ASSERT_EQ(t.cipher_suites.size(), 2u);
  EXPECT_STREQ(t.cipher_suites[0].name,
               "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
  EXPECT_STREQ(t.cipher_suites[0].openssl_name, "ECDHE-RSA-AES128-GCM-SHA256");
  EXPECT_FALSE(t.cipher_suites[0].tls13);
  EXPECT_STREQ(t.cipher_suites[1].name, "TLS_AES_256_GCM_SHA384");
  EXPECT_STREQ(t.cipher_suites[1].openssl_name, "TLS_AES_256_GCM_SHA384");
  EXPECT_TRUE(t.cipher_suites[1].tls13);
  ASSERT_EQ(t.curve_preferences.size(), 2u);
  EXPECT_STREQ(t.curve_preferences[0].openssl_name, "X25519");
  EXPECT_STREQ(t.curve_preferences[1].name, "CurveP256");
  EXPECT_STREQ(t.curve_preferences[1].openssl_name, "P-256");
  EXPECT_FALSE(t.prefer_server_cipher_suites);
  EXPECT_FALSE(c->http.http2);
  EXPECT_THAT(c->http.headers,
              ElementsAre(Pair("Content-Security-Policy", "default-src 'self'"),
                          Pair("Strict-Transport-Security",
                               "max-age=31536000; includeSubDomains"),
                          Pair("X-Content-Type-Options", "nosniff"),
                          Pair("X-Frame-Options", "deny"),
                          Pair("X-XSS-Protection", "1")));
  EXPECT_THAT(c->basic_auth_users, ElementsAre(Pair("alice", kAliceHash),
                                               Pair("carol", kCarolHash)));
}

TEST_F(WebConfigTest, EmptyFileMeansPlainHttpAndNoAuth) {
  for (const char* yaml :
       {"", "# nothing\n", "tls_server_config:\nbasic_auth_users:\n",
        "tls_server_config: {}\nhttp_server_config: {}\n"}) {
    absl::StatusOr<WebConfig> c = Parse(yaml);
    ASSERT_TRUE(c.ok()) << yaml << ": " << c.status();
    EXPECT_FALSE(c->tls.has_value()) << yaml;
    EXPECT_TRUE(c->http.http2);
    EXPECT_TRUE(c->http.headers.empty());
    EXPECT_TRUE(c->basic_auth_users.empty());
  }
}

TEST_F(WebConfigTest, DefaultsAreTheToolkits) {
  absl::StatusOr<WebConfig> c = Parse(
      "tls_server_config:\n  cert_file: server.crt\n"
      "  key_file: server.key\n");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_TRUE(c->tls.has_value());
  EXPECT_EQ(c->tls->client_auth_type, ClientAuthType::kNoClientCert);
  EXPECT_EQ(c->tls->min_version, TlsVersion::kTls12);
  EXPECT_EQ(c->tls->max_version, TlsVersion::kTls13);
  EXPECT_TRUE(c->tls->cipher_suites.empty());
  EXPECT_TRUE(c->tls->curve_preferences.empty());
  EXPECT_TRUE(c->tls->prefer_server_cipher_suites);
  EXPECT_EQ(c->tls->client_ca_file, "");
  EXPECT_TRUE(c->http.http2);
}

TEST_F(WebConfigTest, UnknownKeyIsNamedWithItsLine) {
  // The toolkit's web_config_junk_key.yml.
  EXPECT_EQ(Error("tls_server_config:\n  cert_filse: \"server.crt\"\n"),
            absl::StrCat("web.yml:2: tls_server_config.cert_filse: unknown key "
                         "(expected one of: ",
                         kTlsKeys,
                         ")\n"
                         "web.yml:2: tls_server_config.cert_file: missing one "
                         "of cert or cert_file\n"
                         "web.yml:2: tls_server_config.key_file: missing one "
                         "of key or key_file"));
  EXPECT_EQ(Error("basic_auth_users: {}\nhttp_server_config:\n  http2: true\n"
                  "  header:\n    X-Frame-Options: deny\ntls_config: {}\n"),
            "web.yml:4: http_server_config.header: unknown key (expected one "
            "of: http2, headers)\n"
            "web.yml:6: tls_config: unknown key (expected one of: "
            "tls_server_config, http_server_config, basic_auth_users, "
            "rate_limit)");
}

TEST_F(WebConfigTest, RejectsABadClientAuthType) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: server.key\n"
                  "  client_auth_type: RequireAndVerify\n"),
            "web.yml:4: tls_server_config.client_auth_type: must be one of "
            "NoClientCert, RequestClientCert, RequireAnyClientCert, "
            "VerifyClientCertIfGiven, RequireAndVerifyClientCert");
}

TEST_F(WebConfigTest, RequireClientCertIsTheOldNameOfRequireAnyClientCert) {
  absl::StatusOr<WebConfig> c = Parse(
      "tls_server_config:\n  cert_file: server.crt\n"
      "  key_file: server.key\n  client_auth_type: RequireClientCert\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls->client_auth_type, ClientAuthType::kRequireAnyClientCert);
  EXPECT_TRUE(RequiresClientCert(c->tls->client_auth_type));
  EXPECT_FALSE(VerifiesClientCert(c->tls->client_auth_type));
}

TEST_F(WebConfigTest, RejectsABadTlsVersion) {
  // The toolkit's web_config_noAuth_wrongTLSVersion.bad.yml.
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: server.key\n"
                  "  client_auth_type: VerifyClientCertIfGiven\n"
                  "  min_version: TLS111\n"),
            "web.yml:5: tls_server_config.min_version: must be one of TLS10, "
            "TLS11, TLS12, TLS13");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: server.key\n"
                  "  min_version: TLS13\n  max_version: TLS11\n"),
            "web.yml:4: tls_server_config.min_version: TLS13 is above "
            "max_version TLS11");
}

TEST_F(WebConfigTest, RejectsAHeaderTheToolkitDoesNotAllow) {
  // The toolkit's web_config_headers_extra_header.bad.yml.
  EXPECT_EQ(Error("http_server_config:\n  headers:\n    Content-Type: foo\n"),
            "web.yml:3: http_server_config.headers.Content-Type: HTTP header "
            "\"Content-Type\" can not be configured (allowed: "
            "Content-Security-Policy, Strict-Transport-Security, "
            "X-Content-Type-Options, X-Frame-Options, X-XSS-Protection)");
  // Names match exactly, as in the toolkit's map.
  EXPECT_THAT(
      Error("http_server_config:\n  headers:\n    x-frame-options: deny\n"),
      ::testing::HasSubstr("HTTP header \"x-frame-options\" can not be"));
}

TEST_F(WebConfigTest, RejectsAHeaderValueOutsideTheToolkitsList) {
  EXPECT_EQ(Error("http_server_config:\n  headers:\n"
                  "    X-Frame-Options: DENY\n"
                  "    X-Content-Type-Options: sniff\n"),
            "web.yml:3: http_server_config.headers.X-Frame-Options: invalid "
            "value \"DENY\" (expected one of: \"deny\", \"sameorigin\")\n"
            "web.yml:4: http_server_config.headers.X-Content-Type-Options: "
            "invalid value \"sniff\" (expected one of: \"nosniff\")");
  EXPECT_EQ(Error("http_server_config:\n  headers:\n"
                  "    Content-Security-Policy: |\n      a\n      b\n"),
            "web.yml:3: http_server_config.headers.Content-Security-Policy: "
            "must not contain control characters");
}

TEST_F(WebConfigTest, ABlankFreeHeaderIsUnset) {
  absl::StatusOr<WebConfig> c = Parse(
      "http_server_config:\n  headers:\n    X-XSS-Protection: ''\n"
      "    Content-Security-Policy:\n    X-Frame-Options: sameorigin\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_THAT(c->http.headers,
              ElementsAre(Pair("X-Frame-Options", "sameorigin")));
  // Blank is not among an enumerated header's values.
  EXPECT_EQ(Error("http_server_config:\n  headers:\n    X-Frame-Options:\n"),
            "web.yml:3: http_server_config.headers.X-Frame-Options: invalid "
            "value \"\" (expected one of: \"deny\", \"sameorigin\")");
}

TEST_F(WebConfigTest, RejectsABadPasswordHash) {
  const std::string kMessage =
      "must be a bcrypt hash: $2a$, $2b$ or $2y$, a cost of 04 to 31, 60 "
      "characters in all (make one with `htpasswd -nBC 10 \"\" | tr -d "
      "':\\n'`)";
  // The toolkit's web_config_auth_user_list_invalid.bad.yml.
  EXPECT_EQ(Error("basic_auth_users:\n  john: doe\n"),
            "web.yml:2: basic_auth_users.john: " + kMessage);
  const std::string good = kCarolHash;
  for (const std::string& bad : {
           "$2x$" + good.substr(4),                    // another variant
           "$1$" + good.substr(3),                     // md5-crypt prefix
           "$2y$03" + good.substr(6),                  // cost below 4
           "$2y$32" + good.substr(6),                  // cost above 31
           "$2y$1x" + good.substr(6),                  // cost not digits
           good.substr(0, 59),                         // too short
           good + "u",                                 // too long
           good.substr(0, 30) + "!" + good.substr(31)  // outside the alphabet
       }) {
    EXPECT_EQ(Error("basic_auth_users:\n  john: '" + bad + "'\n"),
              "web.yml:2: basic_auth_users.john: " + kMessage)
        << bad;
  }
  EXPECT_EQ(Error("basic_auth_users:\n  john:\n  'a:b': " + good +
                  "\n  carol: " + good + "\n  carol: " + good + "\n"),
            "web.yml:2: basic_auth_users.john: " + kMessage +
                "\n"
                "web.yml:3: basic_auth_users.a:b: a username cannot contain "
                "':'\n"
                "web.yml:5: basic_auth_users.carol: duplicate user");
  EXPECT_EQ(Error("basic_auth_users: [alice]\n"),
            "web.yml:1: basic_auth_users: must be a mapping");
}

TEST_F(WebConfigTest, RejectsAMissingCertFile) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: missing.crt\n"
                  "  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert_file: cannot read " +
                In("missing.crt") + ": No such file or directory");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: nokey\n  client_ca_file: noca\n"
                  "  client_auth_type: VerifyClientCertIfGiven\n"),
            "web.yml:3: tls_server_config.key_file: cannot read " +
                In("nokey") +
                ": No such file or directory\n"
                "web.yml:4: tls_server_config.client_ca_file: cannot read " +
                In("noca") + ": No such file or directory");
  // A directory opens but cannot be read.
  fs::create_directories(In("adir"));
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: adir\n"
                  "  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert_file: cannot read " +
                In("adir") + ": Is a directory");
}

TEST_F(WebConfigTest, RejectsAFileThatIsNotPem) {
  Write("der.crt", std::string("\x30\x82\x01\x0a", 4));
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: der.crt\n"
                  "  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert_file: " + In("der.crt") +
                " is not PEM (no -----BEGIN line)");
}

TEST_F(WebConfigTest, KeyWithoutCertAndCertWithoutKey) {
  // The toolkit's web_config_noAuth_certPath_empty.bad.yml: an empty name
  // is no name.
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: \"\"\n"
                  "  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert_file: missing one of cert or "
            "cert_file");
  EXPECT_EQ(Error("tls_server_config:\n  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert_file: missing one of cert or "
            "cert_file");
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"),
            "web.yml:2: tls_server_config.key_file: missing one of key or "
            "key_file");
  // Unlike the toolkit (which then serves plain HTTP), a section with only
  // version settings is an error too: it means TLS was intended.
  EXPECT_EQ(Error("tls_server_config:\n  min_version: TLS13\n"),
            "web.yml:2: tls_server_config.cert_file: missing one of cert or "
            "cert_file\n"
            "web.yml:2: tls_server_config.key_file: missing one of key or "
            "key_file");
}

TEST_F(WebConfigTest, ClientCaNeedsAClientAuthType) {
  // The toolkit's web_config_noAuth.bad.yml.
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: server.key\n  client_ca_file: ca.crt\n"),
            "web.yml:4: tls_server_config.client_ca_file: is set but "
            "client_auth_type is NoClientCert; set client_auth_type to "
            "RequireAndVerifyClientCert (or VerifyClientCertIfGiven)");
  // A type that only requests a certificate may have a CA (the toolkit
  // accepts it).
  absl::StatusOr<WebConfig> c = Parse(
      "tls_server_config:\n  cert_file: server.crt\n"
      "  key_file: server.key\n  client_ca_file: ca.crt\n"
      "  client_auth_type: RequestClientCert\n");
  ASSERT_TRUE(c.ok()) << c.status();
}

TEST_F(WebConfigTest, VerifyingTypeWithoutCaIsAcceptedAsByTheToolkit) {
  // The toolkit's web_config_auth_clientCAs_missing.bad.yml, which its
  // current tests no longer list: Go verifies against the system's CAs.
  absl::StatusOr<WebConfig> c = Parse(
      "tls_server_config:\n  cert_file: \"server.crt\"\n"
      "  key_file: \"server.key\"\n"
      "  client_auth_type: \"RequireAndVerifyClientCert\"\n");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls->client_ca_file, "");
  EXPECT_TRUE(VerifiesClientCert(c->tls->client_auth_type));
}

TEST_F(WebConfigTest, RelativePathsResolveAgainstTheConfigsDirectory) {
  Write("certs/server.crt", kCertPem);
  const std::string abs_key = Write("elsewhere/server.key", kKeyPem);
  absl::StatusOr<WebConfig> c = ParseWebConfig(
      "tls_server_config:\n"
      "  cert_file: certs/server.crt\n"
      "  key_file: " +
          abs_key +
          "\n"
          "  client_ca_file: ../" +
          fs::path(dir_).filename().string() +
          "/certs/../ca.crt\n"
          "  client_auth_type: VerifyClientCertIfGiven\n",
      "web.yml", dir_);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls->cert_file, In("certs/server.crt"));
  EXPECT_EQ(c->tls->key_file, abs_key);             // absolute: as written
  EXPECT_EQ(c->tls->client_ca_file, In("ca.crt"));  // normalised

  // Without a base directory, names stay relative (to the working
  // directory), as the toolkit's "." does.
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  absl::StatusOr<WebConfig> here = ParseWebConfig(
      "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
      "web.yml", "");
  fs::current_path(cwd);
  ASSERT_TRUE(here.ok()) << here.status();
  EXPECT_EQ(here->tls->cert_file, "server.crt");
}

TEST_F(WebConfigTest, LoadWebConfigFileResolvesAgainstTheFilesDirectory) {
  const std::string path =
      Write("conf/web.yml",
            "tls_server_config:\n  cert_file: ../server.crt\n"
            "  key_file: ../server.key\n");
  absl::StatusOr<WebConfig> c = LoadWebConfigFile(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls->cert_file, In("server.crt"));
  EXPECT_EQ(c->tls->key_file, In("server.key"));

  // Errors name the file.
  const std::string bad = Write("conf/bad.yml", "basic_auth_users: 1\n");
  EXPECT_EQ(std::string(LoadWebConfigFile(bad).status().message()),
            bad + ":1: basic_auth_users: must be a mapping");

  absl::StatusOr<WebConfig> missing = LoadWebConfigFile(In("nope.yml"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(std::string(missing.status().message()),
            "cannot read web config " + In("nope.yml") +
                ": No such file or directory");
}

TEST_F(WebConfigTest, InlineCertAndKey) {
  absl::StatusOr<WebConfig> c =
      Parse(absl::StrCat("tls_server_config:\n  cert: |\n    ",
                         "-----BEGIN CERTIFICATE-----\n    MIIB\n    "
                         "-----END CERTIFICATE-----\n  key: |\n    ",
                         "-----BEGIN PRIVATE KEY-----\n    MIIE\n    "
                         "-----END PRIVATE KEY-----\n"
                         "  client_ca: |\n    -----BEGIN CERTIFICATE-----\n"
                         "  client_auth_type: VerifyClientCertIfGiven\n"));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->tls->cert_pem, kCertPem);
  EXPECT_EQ(c->tls->key_pem, kKeyPem);
  EXPECT_EQ(c->tls->client_ca_pem, "-----BEGIN CERTIFICATE-----\n");
  EXPECT_EQ(c->tls->cert_file, "");
  EXPECT_EQ(c->tls->key_file, "");

  EXPECT_EQ(Error("tls_server_config:\n  cert: x\n  cert_file: server.crt\n"
                  "  key: y\n  key_file: server.key\n"),
            "web.yml:2: tls_server_config.cert: set cert or cert_file, not "
            "both\n"
            "web.yml:2: tls_server_config.cert: is not PEM text (no -----BEGIN "
            "line)\n"
            "web.yml:4: tls_server_config.key: set key or key_file, not both\n"
            "web.yml:4: tls_server_config.key: is not PEM text (no -----BEGIN "
            "line)");
}

TEST_F(WebConfigTest, RejectsUnknownCipherSuitesAndCurves) {
  // The toolkit's web_config_noAuth_inventedCiphers.bad.yml, plus a curve.
  const std::string message = Error(
      "tls_server_config:\n  cert_file: server.crt\n"
      "  key_file: server.key\n  cipher_suites:\n"
      "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\n"
      "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
      "  - TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\n"
      "  curve_preferences: [CurveP256, P-256]\n");
  EXPECT_EQ(message,
            "web.yml:5: tls_server_config.cipher_suites[0]: unknown cipher "
            "suite \"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA2048\" (expected one "
            "of: TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384, "
            "TLS_CHACHA20_POLY1305_SHA256, "
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, "
            "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, "
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, "
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, "
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, "
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256)\n"
            "web.yml:7: tls_server_config.cipher_suites[2]: duplicate "
            "\"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256\"\n"
            "web.yml:8: tls_server_config.curve_preferences[1]: unknown curve "
            "\"P-256\" (expected one of: CurveP256, CurveP384, CurveP521, "
            "X25519)");
}

TEST_F(WebConfigTest, CipherSuitesAreThoseOfGo) {
  // The toolkit's web_config_noAuth_allCiphers.good.yml lists these 13.
  EXPECT_EQ(TlsCipherSuites().size(), 13u);
  int tls13 = 0;
  for (const TlsCipherSuite& s : TlsCipherSuites()) tls13 += s.tls13 ? 1 : 0;
  EXPECT_EQ(tls13, 3);
  EXPECT_EQ(TlsCurves().size(), 4u);
}

TEST_F(WebConfigTest, RejectsWhatThisExporterDoesNotSupport) {
  EXPECT_EQ(Error("tls_server_config:\n  cert_file: server.crt\n"
                  "  key_file: server.key\n"
                  "  client_auth_type: RequireAndVerifyClientCert\n"
                  "  client_ca_file: ca.crt\n"
                  "  client_allowed_sans: [one]\n"
                  "rate_limit:\n  interval: 1s\n  burst: 20\n"),
            "web.yml:6: tls_server_config.client_allowed_sans: is not "
            "supported by this exporter (remove it, or restrict clients by "
            "client_ca_file)\n"
            "web.yml:8: rate_limit: is not supported by this exporter (remove "
            "it, or limit requests in a reverse proxy)");
}

TEST_F(WebConfigTest, RejectsMalformedYamlAndWrongTypes) {
  // The toolkit's web_config_junk.yml is one multi-line plain scalar.
  EXPECT_EQ(Error("hWkNKCp3fvIx3jKnsaBI\nTuEjdwNS8A2vYdFbiKqr\n"),
            "web.yml:1: must be a mapping");
  EXPECT_EQ(Error("tls_server_config: [\n"),
            "web.yml:2: end of sequence flow not found");
  EXPECT_EQ(Error("http_server_config:\n  http2: maybe\n  headers: []\n"
                  "tls_server_config: yes\n"),
            "web.yml:2: http_server_config.http2: must be true or false\n"
            "web.yml:3: http_server_config.headers: must be a mapping\n"
            "web.yml:4: tls_server_config: must be a mapping");
}

}  // namespace
}  // namespace aiq::http
