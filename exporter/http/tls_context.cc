#include "exporter/http/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace aiq::http::detail {
namespace {

namespace ssl = boost::asio::ssl;

// OpenSSL's reason for the last failure, for an error message.
std::string LastOpenSslError() {
  const unsigned long code = ERR_get_error();  // NOLINT(runtime/int)
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

int ProtocolVersion(TlsVersion v) {
  switch (v) {
    case TlsVersion::kTls10:
      return TLS1_VERSION;
    case TlsVersion::kTls11:
      return TLS1_1_VERSION;
    case TlsVersion::kTls12:
      return TLS1_2_VERSION;
    case TlsVersion::kTls13:
      return TLS1_3_VERSION;
  }
  return TLS1_2_VERSION;
}

// Accepts any certificate the client shows (Go's RequestClientCert and
// RequireAnyClientCert do not verify it).
int AcceptAnyCertificate(int /*preverified*/, X509_STORE_CTX* /*store*/) {
  return 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ssl::context>> MakeTlsContext(
    const TlsOptions& tls) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  if (tls.prefer_server_cipher_suites) {
    SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);
  }
  boost::system::error_code ec;
  const auto failed = [&](absl::string_view what, const std::string& file) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tls_server_config.", what, file.empty() ? "" : absl::StrCat(" ", file),
        ": ", ec ? ec.message() : LastOpenSslError()));
  };
  if (!tls.cert_file.empty()) {
    ctx->use_certificate_chain_file(tls.cert_file, ec);
  } else {
    ctx->use_certificate_chain(boost::asio::buffer(tls.cert_pem), ec);
  }
  if (ec)
    return failed(tls.cert_file.empty() ? "cert" : "cert_file", tls.cert_file);
  if (!tls.key_file.empty()) {
    ctx->use_private_key_file(tls.key_file, ssl::context::pem, ec);
  } else {
    ctx->use_private_key(boost::asio::buffer(tls.key_pem), ssl::context::pem,
                         ec);
  }
  if (ec)
    return failed(tls.key_file.empty() ? "key" : "key_file", tls.key_file);
  if (SSL_CTX_check_private_key(native) != 1) {
    return absl::InvalidArgumentError(
        "tls_server_config: the key does not match the certificate");
  }
  SSL_CTX_set_min_proto_version(native, ProtocolVersion(tls.min_version));
  SSL_CTX_set_max_proto_version(native, ProtocolVersion(tls.max_version));
  if (!tls.cipher_list.empty() &&
      SSL_CTX_set_cipher_list(
          native, absl::StrJoin(tls.cipher_list, ":").c_str()) != 1) {
    return failed("cipher_suites", "");
  }
  if (!tls.tls13_suites.empty() &&
      SSL_CTX_set_ciphersuites(
          native, absl::StrJoin(tls.tls13_suites, ":").c_str()) != 1) {
    return failed("cipher_suites", "");
  }
  if (!tls.groups.empty() &&
      SSL_CTX_set1_groups_list(native,
                               absl::StrJoin(tls.groups, ":").c_str()) != 1) {
    return failed("curve_preferences", "");
  }
  using ClientAuth = ClientAuthType;
  if (VerifiesClientCert(tls.client_auth)) {
    if (!tls.client_ca_file.empty()) {
      ctx->load_verify_file(tls.client_ca_file, ec);
      if (ec) return failed("client_ca_file", tls.client_ca_file);
      // Tells clients which CAs to pick a certificate for.
      SSL_CTX_set_client_CA_list(
          native, SSL_load_client_CA_file(tls.client_ca_file.c_str()));
    } else if (!tls.client_ca_pem.empty()) {
      ctx->add_certificate_authority(boost::asio::buffer(tls.client_ca_pem),
                                     ec);
      if (ec) return failed("client_ca", "");
    } else {
      ctx->set_default_verify_paths(ec);  // as Go: the system's CAs
      if (ec) return failed("client_auth_type (system CAs)", "");
    }
  }
  switch (tls.client_auth) {
    case ClientAuth::kNoClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
      break;
    case ClientAuth::kRequestClientCert:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, AcceptAnyCertificate);
      break;
    case ClientAuth::kRequireAnyClientCert:
      SSL_CTX_set_verify(native,
                         SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                         AcceptAnyCertificate);
      break;
    case ClientAuth::kVerifyClientCertIfGiven:
      SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
      break;
    case ClientAuth::kRequireAndVerifyClientCert:
      SSL_CTX_set_verify(
          native, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      break;
  }
  return ctx;
}

}  // namespace aiq::http::detail
