// Builds the OpenSSL context behind the server's TLS listener from
// TlsOptions (the exporter-toolkit's tls_server_config): certificate and
// key, minimum and maximum protocol versions, TLS 1.2 cipher suites by
// their IANA names, and client certificates as Go's tls.ClientAuthType
// asks for them. Internal to the http layer.
//
// Example, given `TlsOptions tls`:
//   #include <iostream>
//   absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> ctx =
//       aiq::http::detail::MakeTlsContext(tls);
//   if (!ctx.ok()) std::cerr << ctx.status() << "\n";  // names the file
#ifndef AIQ_EXPORTER_HTTP_TLS_CONTEXT_H_
#define AIQ_EXPORTER_HTTP_TLS_CONTEXT_H_

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "absl/status/statusor.h"
#include "exporter/http/server.h"

namespace aiq::http::detail {

absl::StatusOr<std::unique_ptr<boost::asio::ssl::context>> MakeTlsContext(
    const TlsOptions& tls);

}  // namespace aiq::http::detail

#endif  // AIQ_EXPORTER_HTTP_TLS_CONTEXT_H_
