#include "exporter/cli/commands.h"

#include <malloc.h>
#include <signal.h>

#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "exporter/app/exporter_app.h"
#include "exporter/backtest/backtest_command.h"
#include "exporter/config/config_loader.h"
#include "exporter/http/basic_auth.h"
#include "exporter/http/server.h"
#include "exporter/http/web_config.h"
#include "exporter/metrics/self_metrics.h"
#include "exporter/model/model_reference.h"
#include "exporter/report/report_command.h"

namespace aiq::cli {

const char* Usage() {
  return R"(Usage: ai_quality_exporter [COMMAND] [OPTIONS]

Commands:
  serve [--config FILE] [--listen HOST:PORT] [--state-dir DIR]
        [--web.config.file FILE]
        Serve the HTTP API and /metrics. Without --config, serves the
        embedded demo configuration (see `default-config`). --state-dir
        (or state.dir in the config) keeps the state across restarts and
        crashes (docs/state.md). --web.config.file: TLS, client
        certificates, basic auth users and response headers in the
        Prometheus exporter-toolkit format (docs/web_config.md).
  validate-config FILE
        Check a configuration file; prints every problem with its line and
        YAML path.
  default-config
        Print the embedded demo configuration.
  report --reference REF.csv --current CUR.csv [...]
        Batch drift and quality report (see `report --help`).
  backtest --config FILE --predictions FILE [--labels FILE] [...]
        [--rules PATH...] [--step 1m] [--out history.om] [--format text|json]
        Replay an event log in event-time order, write the metric history
        (OpenMetrics) and evaluate the alert rules over it with Prometheus
        (see `backtest --help`, docs/backtest.md).

Options:
  --version   Print the version and exit.
  --help      Print this help and exit.

Exit codes: 0 success; 1 runtime failure (e.g. cannot listen, or drift
detected with `report --fail-on-drift`); 2 usage or configuration error.
)";
}

int ValidateConfig(const std::vector<std::string>& args, std::ostream& out,
                   std::ostream& err) {
  if (args.size() != 1) {
    err << "usage: ai_quality_exporter validate-config FILE\n";
    return kExitUsage;
  }
  std::vector<config::ConfigError> errors;
  std::optional<config::Config> c = config::ParseConfigFile(args[0], errors);
  if (c) {
    // The references, read as `serve` reads them: the same parser resolved
    // their paths, the same loader checks their contents.
    for (size_t i = 0; i < c->models.size(); ++i) {
      const config::ModelConfig& m = c->models[i];
      if (m.reference_csv.empty()) continue;
      absl::StatusOr<std::shared_ptr<const model::ModelReference>> ref =
          model::LoadReference(m);
      if (!ref.ok()) {
        errors.push_back({args[0], 0, absl::StrCat("models[", i, "].reference"),
                          std::string(ref.status().message())});
      }
    }
  }
  if (!errors.empty()) {
    for (const config::ConfigError& e : errors) err << e.ToString() << "\n";
    err << errors.size() << (errors.size() == 1 ? " problem" : " problems")
        << " found\n";
    return kExitUsage;
  }
  out << args[0] << ": OK (" << c->models.size()
      << (c->models.size() == 1 ? " model" : " models") << ")\n";
  return kExitOk;
}

int Serve(const std::vector<std::string>& args, std::ostream& out,
          std::ostream& err) {
  std::string config_path, listen, state_dir, web_config_path;
  // Each flag as "--flag VALUE" or "--flag=VALUE".
  const std::pair<std::string_view, std::string*> flags[] = {
      {"--config", &config_path},
      {"-c", &config_path},
      {"--listen", &listen},
      {"--state-dir", &state_dir},
      {"--web.config.file", &web_config_path},
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view a = args[i];
    bool known = false;
    for (const auto& [flag, into] : flags) {
      if (a == flag && i + 1 < args.size()) {
        *into = args[++i];
      } else if (a.size() > flag.size() && a.substr(0, flag.size()) == flag &&
                 a[flag.size()] == '=') {
        *into = std::string(a.substr(flag.size() + 1));
      } else {
        continue;
      }
      known = true;
      break;
    }
    if (known) continue;
    err << "serve: unknown or incomplete option \"" << a << "\"\n" << Usage();
    return kExitUsage;
  }
  absl::StatusOr<config::Config> config =
      config_path.empty() ? config::LoadDefaultConfig()
                          : config::LoadConfigFile(config_path);
  if (!config.ok()) {
    err << config.status().message() << "\n";
    return kExitUsage;
  }
  if (!listen.empty()) {
    const size_t colon = listen.rfind(':');
    if (colon == std::string::npos || colon + 1 == listen.size()) {
      err << "serve: --listen must be HOST:PORT, got \"" << listen << "\"\n";
      return kExitUsage;
    }
    config->server.listen = listen;
  }
  if (!state_dir.empty()) config->state.dir = state_dir;

  // Large request bodies decode into multi-megabyte buffers per request;
  // without padding, glibc returns them to the kernel after every request
  // and page faults dominate (docs/benchmarks.md). Keep 64 MiB around.
  // (A no-op when linked with tcmalloc, AIQ_TCMALLOC, which keeps freed
  // memory itself.)
  mallopt(M_TOP_PAD, 64 << 20);

  // Block the shutdown signals in every thread (the server's workers
  // inherit this mask) and wait for them here.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  http::ServerOptions options;
  options.listen = config->server.listen;
  options.threads = config->server.threads;
  options.request_timeout_ms = static_cast<int>(
      absl::ToInt64Milliseconds(config->server.request_timeout));
  options.keep_alive_timeout_ms = static_cast<int>(
      absl::ToInt64Milliseconds(config->server.keep_alive_timeout));
  options.max_body_bytes = config->limits.max_body_bytes;
  options.max_inflight_bytes = config->limits.max_inflight_bytes;
  options.max_connections = config->server.max_connections;
  app::ExporterApp app(*std::move(config), util::Clock::Real());
  if (absl::Status st = app.Init(); !st.ok()) {
    err << "serve: " << st.message() << "\n";
    return kExitUsage;
  }
  if (!web_config_path.empty()) {
    absl::StatusOr<http::WebConfig> web =
        http::LoadWebConfigFile(web_config_path);
    if (!web.ok()) {
      err << "serve: --web.config.file: " << web.status().message() << "\n";
      return kExitUsage;
    }
    if (web->tls) options.tls = http::ToTlsOptions(*web->tls);
    for (const auto& [name, value] : web->http.headers) {
      options.response_headers.emplace_back(name, value);
    }
    if (!web->basic_auth_users.empty()) {
      app.SetWebUsers(std::make_unique<http::BasicAuthUsers>(
          std::move(web->basic_auth_users)));
    }
  }
  options.screen = [&app](const http::HttpRequest& r) { return app.Screen(r); };
  absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
      http::HttpServer::Start(options, [&app](const http::HttpRequest& r) {
        return app.Handle(r);
      });
  if (!server.ok()) {
    err << "serve: " << server.status().message() << "\n";
    return kExitFailure;
  }
  // server.otlp_listen: OTLP/HTTP only, same TLS, limits and auth.
  std::unique_ptr<http::HttpServer> otlp_server;
  if (!app.config().server.otlp_listen.empty()) {
    http::ServerOptions otlp_options = options;
    otlp_options.listen = app.config().server.otlp_listen;
    otlp_options.screen = [&app](const http::HttpRequest& r) {
      return app.ScreenOtlpListener(r);
    };
    absl::StatusOr<std::unique_ptr<http::HttpServer>> s =
        http::HttpServer::Start(otlp_options,
                                [&app](const http::HttpRequest& r) {
                                  return app.HandleOtlpListener(r);
                                });
    if (!s.ok()) {
      err << "serve: server.otlp_listen: " << s.status().message() << "\n";
      (*server)->Stop();
      return kExitFailure;
    }
    otlp_server = *std::move(s);
  }
  app.readiness().SetMet(app::ExporterApp::kServerCondition);
  out << "ai_quality_exporter " << metrics::BuildVersion() << " listening on "
      << options.listen << " (port " << (*server)->port() << "), "
      << app.config().models.size() << " models, config "
      << (config_path.empty() ? "<embedded>" : config_path) << std::endl;
  if (otlp_server) {
    out << "OTLP/HTTP also on " << app.config().server.otlp_listen << " (port "
        << otlp_server->port() << ")" << std::endl;
  }

  int sig = 0;
  sigwait(&signals, &sig);
  out << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
      << ", shutting down" << std::endl;
  if (otlp_server) otlp_server->Stop();
  (*server)->Stop();
  if (app::DurableState* durable = app.durable()) {
    // A final checkpoint makes the next start replay nothing.
    if (absl::Status st = durable->CheckpointNow(); !st.ok()) {
      err << "serve: final checkpoint failed (the log still has everything): "
          << st.message() << "\n";
    }
  }
  out << "stopped" << std::endl;
  return kExitOk;
}

int Main(const std::vector<std::string>& args, std::ostream& out,
         std::ostream& err) {
  if (args.empty()) return Serve({}, out, err);
  const std::string& cmd = args[0];
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--version" || cmd == "version") {
    out << "ai_quality_exporter " << metrics::BuildVersion() << " ("
        << metrics::BuildRevision() << ")\n";
    return kExitOk;
  }
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    out << Usage();
    return kExitOk;
  }
  if (cmd == "serve") return Serve(rest, out, err);
  if (cmd == "validate-config") return ValidateConfig(rest, out, err);
  if (cmd == "default-config") {
    out << config::DefaultConfigYaml();
    return kExitOk;
  }
  if (cmd == "report") return report::RunReportCommand(rest, out, err);
  if (cmd == "backtest") return backtest::BacktestCommand(rest, out, err);
  if (cmd.rfind("-", 0) == 0) return Serve(args, out, err);  // serve flags
  err << "unknown command \"" << cmd << "\"\n" << Usage();
  return kExitUsage;
}

}  // namespace aiq::cli
