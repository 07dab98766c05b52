#include "exporter/backtest/rule_evaluation.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

// GCC's -Wnull-dereference flags Asio's scheduler (thread_info of a thread
// that is not running the io_context), a false positive in Boost 1.74.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "exporter/util/absl_compat.h"

extern char** environ;

namespace aiq::backtest {
namespace {

namespace fs = std::filesystem;

// Bounds on every wait. promtool's imports grow with the history; a
// Prometheus query is cut by Prometheus itself (--query.timeout) before
// the HTTP wait gives up.
constexpr absl::Duration kCommandTimeout = absl::Minutes(30);
constexpr absl::Duration kReadyTimeout = absl::Seconds(60);
constexpr absl::Duration kStopTimeout = absl::Seconds(30);
constexpr absl::Duration kQueryTimeout = absl::Minutes(5);
constexpr absl::Duration kHttpTimeout = absl::Minutes(6);  // > kQueryTimeout
constexpr uint64_t kMaxResponseBytes = uint64_t{1} << 30;
// Prometheus refuses range queries of more than 11,000 points per series.
constexpr int64_t kMaxStepsPerQuery = 10000;

// ---------------------------------------------------------------------------
// Child processes.

// Where `name` runs from: itself when it has a slash, else the first
// executable of that name in PATH.
absl::StatusOr<std::string> FindBinary(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("empty binary name");
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) == 0) return name;
    return absl::NotFoundError(
        absl::StrCat(name, ": not an executable file: ", std::strerror(errno)));
  }
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(
           path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin", ':')) {
    const std::string candidate =
        absl::StrCat(dir.empty() ? "." : dir, "/", name);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(
      name, " not found in PATH (Debian: apt-get install prometheus)"));
}

std::string ReadTail(const std::string& path, int64_t from, size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  const int64_t begin =
      std::max<int64_t>(from, size - static_cast<int64_t>(max_bytes));
  if (begin >= size) return "";
  in.seekg(begin);
  std::string out(static_cast<size_t>(size - begin), '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  out.resize(static_cast<size_t>(in.gcount()));
  return out;
}

int64_t FileSize(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 ? st.st_size : 0;
}

std::string DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) {
    return absl::StrCat("exit status ", WEXITSTATUS(wait_status));
  }
  if (WIFSIGNALED(wait_status)) {
    return absl::StrCat("killed by signal ", WTERMSIG(wait_status));
  }
  return absl::StrCat("wait status ", wait_status);
}

// A child whose stdout and stderr go to a file. The destructor kills and
// reaps it, so no error path leaves one behind.
class Child {
 public:
  // fork + exec rather than posix_spawn for PR_SET_PDEATHSIG: a child
  // outlives a parent that crashes, and a Prometheus left running would
  // hold the TSDB lock. Only async-signal-safe calls run between fork and
  // exec (the parent may have threads).
  static absl::StatusOr<std::unique_ptr<Child>> Spawn(
      const std::string& binary, const std::vector<std::string>& args,
      const std::string& output_path, bool append) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(binary.c_str()));
    for (const std::string& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int out = open(
        output_path.c_str(),
        O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0644);
    if (out < 0) {
      return absl::InternalError(absl::StrCat("cannot open ", output_path, ": ",
                                              std::strerror(errno)));
    }
    const int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int exec_error[2];
    if (in < 0 || pipe2(exec_error, O_CLOEXEC) != 0) {
      const int e = errno;
      close(out);
      if (in >= 0) close(in);
      return absl::InternalError(absl::StrCat("pipe: ", std::strerror(e)));
    }
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(127);
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGPIPE, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0) _exit(127);
      // Descriptors the host process opened without O_CLOEXEC stay ours.
      const unsigned keep = static_cast<unsigned>(exec_error[1]);
      if (keep > 3) close_range(3, keep - 1, 0);
      close_range(keep + 1, ~0U, 0);
      execve(binary.c_str(), argv.data(), environ);
      const int e = errno;
      (void)!write(exec_error[1], &e, sizeof(e));
      _exit(127);
    }
    const int fork_errno = errno;
    close(out);
    close(in);
    close(exec_error[1]);
    if (pid < 0) {
      close(exec_error[0]);
      return absl::InternalError(
          absl::StrCat("fork: ", std::strerror(fork_errno)));
    }
    auto child = std::unique_ptr<Child>(new Child(pid));
    int e = 0;
    ssize_t n;
    do {
      n = read(exec_error[0], &e, sizeof(e));
    } while (n < 0 && errno == EINTR);
    close(exec_error[0]);
    if (n == static_cast<ssize_t>(sizeof(e))) {
      child->Wait(absl::Seconds(5));
      return absl::InternalError(
          absl::StrCat("cannot run ", binary, ": ", std::strerror(e)));
    }
    return child;
  }

  ~Child() { Stop(absl::ZeroDuration()); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  // The wait status once it has exited (reaping it), nullopt while running.
  std::optional<int> Poll() {
    if (pid_ < 0) return status_;
    int status = 0;
    const pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      status_ = status;
    } else if (r < 0 && errno == ECHILD) {  // reaped elsewhere
      pid_ = -1;
      status_ = -1;
    }
    return status_;
  }

  // Waits up to `timeout` for it to exit.
  std::optional<int> Wait(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      if (std::optional<int> s = Poll()) return s;
      if (absl::Now() >= deadline) return std::nullopt;
      absl::SleepFor(absl::Milliseconds(10));
    }
  }

  // SIGTERM, up to `grace` to exit, then SIGKILL. Returns the wait status.
  int Stop(absl::Duration grace) {
    if (std::optional<int> s = Poll()) return *s;
    if (grace > absl::ZeroDuration()) {
      kill(pid_, SIGTERM);
      if (std::optional<int> s = Wait(grace)) return *s;
    }
    kill(pid_, SIGKILL);
    // SIGKILL cannot be ignored; the bound only guards against a kernel
    // that never delivers it.
    if (std::optional<int> s = Wait(absl::Seconds(10))) return *s;
    return -1;
  }

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  std::optional<int> status_;
};

struct CommandResult {
  int wait_status = 0;
  std::string output;  // stdout and stderr, interleaved
  bool ok() const {
    return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0;
  }
};

// Runs a command to completion (bounded), its output kept in `log_path`.
absl::StatusOr<CommandResult> RunCommand(const std::string& binary,
                                         const std::vector<std::string>& args,
                                         const std::string& log_path) {
  absl::StatusOr<std::unique_ptr<Child>> child =
      Child::Spawn(binary, args, log_path, /*append=*/false);
  if (!child.ok()) return child.status();
  std::optional<int> status = (*child)->Wait(kCommandTimeout);
  if (!status) {
    (*child)->Stop(absl::ZeroDuration());
    return absl::DeadlineExceededError(absl::StrCat(
        binary, " ", absl::StrJoin(args, " "), " took more than ",
        absl::FormatDuration(kCommandTimeout), "; output in ", log_path));
  }
  CommandResult result;
  result.wait_status = *status;
  result.output = ReadTail(log_path, 0, 64 << 10);
  return result;
}

// ---------------------------------------------------------------------------
// HTTP to the Prometheus on loopback.

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

// A blocking GET to 127.0.0.1:port, bounded by `timeout` as a whole (the
// asynchronous operations are what beast::tcp_stream's deadline covers).
absl::StatusOr<HttpResponse> HttpGet(int port, const std::string& target,
                                     absl::Duration timeout) {
  namespace asio = boost::asio;
  namespace beast = boost::beast;
  namespace http = beast::http;
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(absl::ToChronoMilliseconds(timeout));
  http::request<http::empty_body> request{http::verb::get, target, 11};
  request.set(http::field::host, absl::StrCat("127.0.0.1:", port));
  request.set(http::field::connection, "close");
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBytes);
  beast::error_code error;
  const asio::ip::tcp::endpoint endpoint(asio::ip::address_v4::loopback(),
                                         static_cast<uint16_t>(port));
  stream.async_connect(endpoint, [&](beast::error_code ec) {
    if (ec) {
      error = ec;
      return;
    }
    http::async_write(stream, request, [&](beast::error_code wec, size_t) {
      if (wec) {
        error = wec;
        return;
      }
      http::async_read(stream, buffer, parser,
                       [&](beast::error_code rec, size_t) { error = rec; });
    });
  });
  ioc.run();
  if (error) {
    const std::string what =
        absl::StrCat("GET http://127.0.0.1:", port, target.substr(0, 200), ": ",
                     error.message());
    if (error == beast::error::timeout) {
      return absl::DeadlineExceededError(what);
    }
    return absl::UnavailableError(what);
  }
  HttpResponse response;
  response.status = parser.get().result_int();
  response.body = std::move(parser.get().body());
  return response;
}

// A free loopback port: bound with port 0 and released again, for
// Prometheus to bind (a rare race with another process is retried).
absl::StatusOr<int> PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int e = errno;
    close(fd);
    return absl::InternalError(
        absl::StrCat("bind 127.0.0.1:0: ", std::strerror(e)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : s) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (absl::ascii_isalnum(u) || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The working directory's layout and the Prometheus server.

struct WorkDir {
  std::string root;  // absolute
  std::string data() const { return root + "/data"; }
  std::string config() const { return root + "/prometheus.yml"; }
  std::string prometheus_log() const { return root + "/prometheus.log"; }
  std::string log(std::string_view what) const {
    return absl::StrCat(root, "/promtool-", util::ToAbsl(what), ".log");
  }
};

struct Tools {
  std::string prometheus, promtool;
};

class Prometheus {
 public:
  static absl::StatusOr<std::unique_ptr<Prometheus>> Start(
      const Tools& tools, const WorkDir& dir,
      std::optional<absl::Duration> lookback_delta) {
    absl::Status last;
    // A port can be taken between PickFreePort and Prometheus's bind.
    for (int attempt = 0; attempt < 3; ++attempt) {
      absl::StatusOr<int> port = PickFreePort();
      if (!port.ok()) return port.status();
      std::vector<std::string> args = {
          absl::StrCat("--config.file=", dir.config()),
          absl::StrCat("--storage.tsdb.path=", dir.data()),
          // The history can be from any time in the past.
          "--storage.tsdb.retention.time=100y",
          absl::StrCat("--web.listen-address=127.0.0.1:", *port),
          absl::StrCat("--query.timeout=", absl::ToInt64Seconds(kQueryTimeout),
                       "s"),
      };
      if (lookback_delta) {
        args.push_back(absl::StrCat("--query.lookback-delta=",
                                    absl::ToInt64Milliseconds(*lookback_delta),
                                    "ms"));
      }
      const int64_t log_start = FileSize(dir.prometheus_log());
      absl::StatusOr<std::unique_ptr<Child>> child = Child::Spawn(
          tools.prometheus, args, dir.prometheus_log(), /*append=*/true);
      if (!child.ok()) return child.status();
      auto server = std::unique_ptr<Prometheus>(
          new Prometheus(std::move(*child), *port, dir.prometheus_log()));
      last = server->WaitReady(log_start);
      if (last.ok()) return server;
      server->child_->Stop(kStopTimeout);
      if (!absl::StrContains(ReadTail(dir.prometheus_log(), log_start, 1 << 20),
                             "address already in use")) {
        break;
      }
    }
    return last;
  }

  ~Prometheus() { Stop(); }
  Prometheus(const Prometheus&) = delete;
  Prometheus& operator=(const Prometheus&) = delete;

  int port() const { return port_; }
  std::string url() const { return absl::StrCat("http://127.0.0.1:", port_); }

  // SIGTERM lets it close the TSDB cleanly; SIGKILL after kStopTimeout.
  void Stop() {
    if (child_) child_->Stop(kStopTimeout);
    child_.reset();
  }

 private:
  Prometheus(std::unique_ptr<Child> child, int port, std::string log)
      : child_(std::move(child)), port_(port), log_(std::move(log)) {}

  absl::Status WaitReady(int64_t log_start) {
    const absl::Time deadline = absl::Now() + kReadyTimeout;
    while (absl::Now() < deadline) {
      if (std::optional<int> status = child_->Poll()) {
        return absl::UnavailableError(
            absl::StrCat("prometheus exited (", DescribeExit(*status),
                         ") before it was ready; the end of ", log_, ":\n",
                         ReadTail(log_, log_start, 4096)));
      }
      absl::StatusOr<HttpResponse> r =
          HttpGet(port_, "/-/ready", absl::Seconds(2));
      if (r.ok() && r->status == 200) return absl::OkStatus();
      absl::SleepFor(absl::Milliseconds(100));
    }
    return absl::DeadlineExceededError(
        absl::StrCat("prometheus on 127.0.0.1:", port_, " was not ready after ",
                     absl::FormatDuration(kReadyTimeout), "; the end of ", log_,
                     ":\n", ReadTail(log_, log_start, 4096)));
  }

  std::unique_ptr<Child> child_;
  int port_;
  std::string log_;
};

// ---------------------------------------------------------------------------
// Rule files.

struct Rule {
  std::string file;
  std::string group;
  int index = 0;  // 1-based within its group, as promtool counts
  bool alerting = false;
  std::string name;  // `record` or `alert`
  std::string expr;
  absl::Duration hold = absl::ZeroDuration();         // for
  absl::Duration keep_firing = absl::ZeroDuration();  // keep_firing_for
  std::vector<std::pair<std::string, std::string>> labels;

  std::string Describe() const {
    return absl::StrCat(file, ": group \"", group, "\", rule ", index, " (",
                        alerting ? "alert" : "record", " ", name, ")");
  }
};

struct Group {
  std::string file;
  int file_index = 0;
  int group_index = 0;
  std::string name;
  std::vector<size_t> rules;  // indices into the rule list
};

// Prometheus durations (model.ParseDuration): units y w d h m s ms, each
// at most once and in that order, e.g. "1h30m"; "0" alone is zero.
std::optional<absl::Duration> ParsePromDuration(std::string_view s) {
  if (s == "0") return absl::ZeroDuration();
  // "ms" before "m", so that "5ms" is not read as 5m and a stray "s".
  static constexpr std::pair<std::string_view, int64_t> kUnits[] = {
      {"y", 365 * 24 * 3600 * int64_t{1000}},
      {"w", 7 * 24 * 3600 * int64_t{1000}},
      {"d", 24 * 3600 * int64_t{1000}},
      {"h", 3600 * int64_t{1000}},
      {"ms", 1},
      {"m", 60 * 1000},
      {"s", 1000}};
  static constexpr std::string_view kOrder[] = {"y", "w", "d", "h",
                                                "m", "s", "ms"};
  int64_t ms = 0;
  size_t next_unit = 0;
  size_t i = 0;
  if (s.empty()) return std::nullopt;
  while (i < s.size()) {
    const size_t digits_begin = i;
    while (i < s.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(s[i])))
      ++i;
    if (i == digits_begin) return std::nullopt;
    int64_t n = 0;
    if (!absl::SimpleAtoi(
            util::ToAbsl(s.substr(digits_begin, i - digits_begin)), &n)) {
      return std::nullopt;
    }
    std::string_view unit;
    int64_t unit_ms = 0;
    for (const auto& [u, u_ms] : kUnits) {
      if (s.substr(i, u.size()) == u) {
        unit = u;
        unit_ms = u_ms;
        break;
      }
    }
    if (unit.empty()) return std::nullopt;
    i += unit.size();
    size_t pos = next_unit;
    while (pos < std::size(kOrder) && kOrder[pos] != unit) ++pos;
    if (pos == std::size(kOrder)) return std::nullopt;  // out of order
    next_unit = pos + 1;
    ms += n * unit_ms;
  }
  return absl::Milliseconds(ms);
}

// rule_paths: files as they are, directories as their *.yml and *.yaml
// files (sorted, not recursive).
absl::StatusOr<std::vector<std::string>> ExpandRulePaths(
    const std::vector<std::string>& paths) {
  std::vector<std::string> files;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<std::string> in_dir;
      for (const fs::directory_entry& e : fs::directory_iterator(path, ec)) {
        const std::string ext = e.path().extension().string();
        if ((ext == ".yml" || ext == ".yaml") && !e.is_directory()) {
          in_dir.push_back(e.path().string());
        }
      }
      if (ec) {
        return absl::InvalidArgumentError(
            absl::StrCat("rule directory ", path, ": ", ec.message()));
      }
      if (in_dir.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "rule directory ", path, " has no *.yml or *.yaml files"));
      }
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else if (fs::is_regular_file(path, ec)) {
      files.push_back(path);
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("rule file ", path, ": no such file or directory"));
    }
  }
  if (files.empty()) return absl::InvalidArgumentError("no rule files given");
  return files;
}

// What promtool has already checked is only re-read here; the checks that
// remain are the ones this evaluation adds.
absl::Status LoadRuleFile(const std::string& file, int file_index,
                          std::vector<Group>& groups,
                          std::vector<Rule>& rules) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(file);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
  try {
    const YAML::Node groups_node = root["groups"];
    if (!groups_node) return absl::OkStatus();  // promtool accepts it
    if (!groups_node.IsSequence()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ": `groups` is not a list"));
    }
    int group_index = 0;
    for (const YAML::Node& g : groups_node) {
      Group group;
      group.file = file;
      group.file_index = file_index;
      group.group_index = ++group_index;
      group.name = g["name"].as<std::string>();
      int rule_index = 0;
      const YAML::Node rules_node = g["rules"];
      if (!rules_node) continue;
      for (const YAML::Node& r : rules_node) {
        Rule rule;
        rule.file = file;
        rule.group = group.name;
        rule.index = ++rule_index;
        rule.alerting = static_cast<bool>(r["alert"]);
        rule.name = r[rule.alerting ? "alert" : "record"].as<std::string>();
        rule.expr = r["expr"].as<std::string>();
        for (const auto& [key, out] :
             {std::pair<const char*, absl::Duration*>{"for", &rule.hold},
              {"keep_firing_for", &rule.keep_firing}}) {
          if (!r[key]) continue;
          const std::string text = r[key].as<std::string>();
          std::optional<absl::Duration> d = ParsePromDuration(text);
          if (!d) {
            return absl::InvalidArgumentError(absl::StrCat(
                rule.Describe(), ": ", key, ": not a duration: ", text));
          }
          *out = *d;
        }
        if (r["labels"]) {
          for (const auto& kv : r["labels"]) {
            rule.labels.emplace_back(kv.first.as<std::string>(),
                                     kv.second.as<std::string>());
          }
        }
        group.rules.push_back(rules.size());
        rules.push_back(std::move(rule));
      }
      groups.push_back(std::move(group));
    }
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file, ": ", e.what()));
  }
  return absl::OkStatus();
}

// The identifiers of a PromQL expression: metric and function names, label
// names, keywords. Quoted strings and comments are skipped, and so are
// numbers and durations (the "m" of "5m" is no metric).
std::set<std::string> Identifiers(std::string_view expr) {
  std::set<std::string> out;
  const auto ident_start = [](char c) {
    return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_' ||
           c == ':';
  };
  const auto ident_char = [&](char c) {
    return ident_start(c) || absl::ascii_isdigit(static_cast<unsigned char>(c));
  };
  size_t i = 0;
  while (i < expr.size()) {
    const char c = expr[i];
    if (c == '"' || c == '\'' || c == '`') {
      ++i;
      while (i < expr.size() && expr[i] != c) {
        if (expr[i] == '\\' && c != '`') ++i;
        ++i;
      }
      ++i;
    } else if (c == '#') {
      while (i < expr.size() && expr[i] != '\n') ++i;
    } else if (absl::ascii_isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < expr.size() &&
                absl::ascii_isdigit(static_cast<unsigned char>(expr[i + 1])))) {
      while (i < expr.size() && (ident_char(expr[i]) || expr[i] == '.')) ++i;
    } else if (ident_start(c)) {
      const size_t begin = i;
      while (i < expr.size() && ident_char(expr[i])) ++i;
      out.emplace(expr.substr(begin, i - begin));
    } else {
      ++i;
    }
  }
  return out;
}

// The level of each recording rule: 0 when its expression names no
// recorded metric, else one more than the highest level it names. promtool
// evaluates all rules of a run against the same data, so each level is a
// run of its own over blocks that hold the levels below.
absl::StatusOr<std::vector<int>> RecordingLevels(
    const std::vector<Rule>& rules) {
  std::map<std::string, std::vector<size_t>> by_record;
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!rules[i].alerting) by_record[rules[i].name].push_back(i);
  }
  std::vector<std::vector<size_t>> deps(rules.size());
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].alerting) continue;
    for (const std::string& id : Identifiers(rules[i].expr)) {
      auto it = by_record.find(id);
      if (it != by_record.end()) {
        deps[i].insert(deps[i].end(), it->second.begin(), it->second.end());
      }
    }
  }
  std::vector<int> level(rules.size(), -1);
  std::vector<char> on_path(rules.size(), 0);
  std::vector<size_t> path;
  // Recursive depth-first search: the depth is the longest chain of
  // recording rules, a handful in practice.
  std::function<absl::Status(size_t)> visit = [&](size_t i) -> absl::Status {
    if (level[i] >= 0) return absl::OkStatus();
    if (on_path[i]) {
      std::vector<std::string> cycle;
      auto from = std::find(path.begin(), path.end(), i);
      for (auto it = from; it != path.end(); ++it) {
        cycle.push_back(rules[*it].name);
      }
      cycle.push_back(rules[i].name);
      return absl::InvalidArgumentError(
          absl::StrCat(rules[i].Describe(),
                       ": recording rules depend on each other in a cycle: ",
                       absl::StrJoin(cycle, " -> ")));
    }
    on_path[i] = 1;
    path.push_back(i);
    int l = 0;
    for (size_t d : deps[i]) {
      if (absl::Status st = visit(d); !st.ok()) return st;
      l = std::max(l, level[d] + 1);
    }
    path.pop_back();
    on_path[i] = 0;
    level[i] = l;
    return absl::OkStatus();
  };
  for (size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].alerting) continue;
    if (absl::Status st = visit(i); !st.ok()) return st;
  }
  return level;
}

// ---------------------------------------------------------------------------
// Aligning promtool's evaluation times with ours.
//
// promtool (like Prometheus) evaluates a group at times offset from the
// interval's multiples by a hash of the group's file and name
// (rules.Group.EvalTimestamp: offset = hash % interval), so its samples
// would land at t + offset: queried at t, a recorded series would lag one
// step, and range selectors would see other windows. The generated group
// names are chosen so that the offset puts the evaluations on our steps:
// Prometheus rounds query times to milliseconds, so an offset within
// [0, 0.45 ms) past a step is exactly the step. The hash is Prometheus's
// labels.Hash of {file, name}: xxHash64 of "file\xff<file>\xffname\xff
// <name>\xff". The blocks promtool writes are checked afterwards, so a
// Prometheus that hashed differently would be reported, not trusted.

uint64_t Rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

uint64_t XxHash64(std::string_view data) {
  constexpr uint64_t kP1 = 11400714785074694791ULL;
  constexpr uint64_t kP2 = 14029467366897019727ULL;
  constexpr uint64_t kP3 = 1609587929392839161ULL;
  constexpr uint64_t kP4 = 9650029242287828579ULL;
  constexpr uint64_t kP5 = 2870177450012600261ULL;
  const auto read64 = [&](size_t i) {
    uint64_t v;
    std::memcpy(&v, data.data() + i, 8);
    return v;  // little-endian hosts only (x86-64, arm64)
  };
  const auto read32 = [&](size_t i) {
    uint32_t v;
    std::memcpy(&v, data.data() + i, 4);
    return uint64_t{v};
  };
  const auto round = [&](uint64_t acc, uint64_t input) {
    acc += input * kP2;
    acc = Rotl(acc, 31);
    return acc * kP1;
  };
  const auto merge = [&](uint64_t acc, uint64_t v) {
    acc ^= round(0, v);
    return acc * kP1 + kP4;
  };
  const size_t n = data.size();
  size_t i = 0;
  uint64_t h;
  if (n >= 32) {
    uint64_t v1 = kP1 + kP2, v2 = kP2, v3 = 0, v4 = 0 - kP1;
    for (; i + 32 <= n; i += 32) {
      v1 = round(v1, read64(i));
      v2 = round(v2, read64(i + 8));
      v3 = round(v3, read64(i + 16));
      v4 = round(v4, read64(i + 24));
    }
    h = Rotl(v1, 1) + Rotl(v2, 7) + Rotl(v3, 12) + Rotl(v4, 18);
    h = merge(h, v1);
    h = merge(h, v2);
    h = merge(h, v3);
    h = merge(h, v4);
  } else {
    h = kP5;
  }
  h += n;
  for (; i + 8 <= n; i += 8) {
    h ^= round(0, read64(i));
    h = Rotl(h, 27) * kP1 + kP4;
  }
  if (i + 4 <= n) {
    h ^= read32(i) * kP1;
    h = Rotl(h, 23) * kP2 + kP3;
    i += 4;
  }
  for (; i < n; ++i) {
    h ^= uint64_t{static_cast<unsigned char>(data[i])} * kP5;
    h = Rotl(h, 11) * kP1;
  }
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

// A group name, `base` plus " #n", whose evaluation offset in `file` falls
// on start's phase within the step.
absl::StatusOr<std::string> AlignedGroupName(const std::string& file,
                                             const std::string& base,
                                             absl::Time start,
                                             absl::Duration step) {
  const uint64_t step_ns =
      static_cast<uint64_t>(absl::ToInt64Nanoseconds(step));
  const uint64_t target =
      static_cast<uint64_t>(absl::ToUnixNanos(start)) % step_ns;
  constexpr uint64_t kWindowNs = 450'000;
  const std::string prefix =
      absl::StrCat("file\xff", file, "\xffname\xff", base, " #");
  // Expected tries: step / 0.45 ms (133,000 for a minute); allow plenty.
  const uint64_t max_tries =
      std::max<uint64_t>(1'000'000, step_ns / kWindowNs * 40);
  std::string buf;
  for (uint64_t n = 0; n < max_tries; ++n) {
    buf = prefix;
    absl::StrAppend(&buf, n, "\xff");
    const uint64_t offset = XxHash64(buf) % step_ns;
    if ((offset + step_ns - target) % step_ns < kWindowNs) {
      return absl::StrCat(base, " #", n);
    }
  }
  return absl::InternalError(absl::StrCat(
      "found no group name whose evaluation offset matches a step of ",
      absl::FormatDuration(step)));
}

// ---------------------------------------------------------------------------
// Range queries.

using LabelSet = std::map<std::string, std::string>;

// Runs a rule's expression as range queries over the steps (in chunks
// under Prometheus's 11,000 points per series), calling `on_series` with
// each result series ({"metric": {...}, "values": [[t, "v"], ...]}).
absl::Status QueryRange(
    const Prometheus& server, const Rule& rule,
    const RuleEvaluationOptions& options, int64_t steps,
    const std::function<absl::Status(const nlohmann::json&)>& on_series) {
  const int64_t step_s = absl::ToInt64Seconds(options.step);
  const int64_t start_s = absl::ToUnixSeconds(options.start);
  for (int64_t first = 0; first < steps; first += kMaxStepsPerQuery) {
    const int64_t last = std::min(steps, first + kMaxStepsPerQuery) - 1;
    const std::string target =
        absl::StrCat("/api/v1/query_range?query=", UrlEncode(rule.expr),
                     "&start=", start_s + first * step_s,
                     "&end=", start_s + last * step_s, "&step=", step_s);
    absl::StatusOr<HttpResponse> r =
        HttpGet(server.port(), target, kHttpTimeout);
    if (!r.ok()) {
      return absl::Status(
          r.status().code(),
          absl::StrCat(rule.Describe(), ": ", r.status().message()));
    }
    try {
      const nlohmann::json body = nlohmann::json::parse(r->body);
      if (body.value("status", "") != "success") {
        return absl::InvalidArgumentError(absl::StrCat(
            rule.Describe(), ": Prometheus: ", body.value("errorType", ""),
            ": ", body.value("error", r->body.substr(0, 500))));
      }
      const nlohmann::json& data = body.at("data");
      if (data.at("resultType") != "matrix") {
        return absl::InternalError(
            absl::StrCat(rule.Describe(), ": a range query answered with a ",
                         data.at("resultType").get<std::string>()));
      }
      for (const nlohmann::json& series : data.at("result")) {
        if (absl::Status st = on_series(series); !st.ok()) return st;
      }
      if (options.progress && body.contains("warnings")) {
        for (const nlohmann::json& w : body.at("warnings")) {
          options.progress(absl::StrCat(
              rule.Describe(), ": Prometheus warning: ", w.get<std::string>()));
        }
      }
    } catch (const nlohmann::json::exception& e) {
      return absl::InternalError(
          absl::StrCat(rule.Describe(), ": unexpected answer from Prometheus (",
                       e.what(), "): ", r->body.substr(0, 500)));
    }
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Backfilling recording rules.

std::string Seconds(absl::Time t) {
  return absl::StrCat(absl::ToUnixSeconds(t));
}

absl::Status WriteFile(const std::string& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  return absl::OkStatus();
}

// One level's recording rules as a rule file, groups as in the sources
// (without their interval, so that --eval-interval applies) but renamed.
absl::StatusOr<std::string> LevelRuleFile(
    const std::string& path, const std::vector<Group>& groups,
    const std::vector<Rule>& rules, const std::vector<int>& level,
    int this_level, const RuleEvaluationOptions& options, int* rule_count) {
  YAML::Emitter out;
  out << YAML::BeginMap << YAML::Key << "groups" << YAML::Value
      << YAML::BeginSeq;
  for (const Group& g : groups) {
    std::vector<size_t> chosen;
    for (size_t r : g.rules) {
      if (!rules[r].alerting && level[r] == this_level) chosen.push_back(r);
    }
    if (chosen.empty()) continue;
    // The file and group indices keep names unique in the generated file
    // when two files have groups of the same name. Plain ASCII only: the
    // name is hashed as promtool will read it back from the YAML.
    std::string base;
    for (const char c : g.name) {
      base += absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                      c == '_' || c == '.' || c == ' '
                  ? c
                  : '_';
    }
    absl::StrAppend(&base, " [", g.file_index, ".", g.group_index, "]");
    absl::StatusOr<std::string> name =
        AlignedGroupName(path, base, options.start, options.step);
    if (!name.ok()) return name.status();
    out << YAML::BeginMap << YAML::Key << "name" << YAML::Value << *name
        << YAML::Key << "rules" << YAML::Value << YAML::BeginSeq;
    for (size_t r : chosen) {
      out << YAML::BeginMap << YAML::Key << "record" << YAML::Value
          << rules[r].name << YAML::Key << "expr" << YAML::Value
          << rules[r].expr;
      if (!rules[r].labels.empty()) {
        out << YAML::Key << "labels" << YAML::Value << YAML::BeginMap;
        for (const auto& [k, v] : rules[r].labels) {
          out << YAML::Key << k << YAML::Value << YAML::DoubleQuoted << v;
        }
        out << YAML::EndMap;
      }
      out << YAML::EndMap;
      ++*rule_count;
    }
    out << YAML::EndSeq << YAML::EndMap;
  }
  out << YAML::EndSeq << YAML::EndMap;
  if (!out.good()) {
    return absl::InternalError(
        absl::StrCat("YAML emitter: ", out.GetLastError()));
  }
  return std::string(out.c_str()) + "\n";
}

// Moves the blocks promtool wrote into data/, after checking that every
// block starts on one of our steps (see AlignedGroupName).
absl::Status MoveBlocks(const std::string& from, const std::string& data,
                        const RuleEvaluationOptions& options) {
  std::error_code ec;
  if (!fs::exists(from, ec)) return absl::OkStatus();  // nothing recorded
  const int64_t start_ms = absl::ToUnixMillis(options.start);
  const int64_t step_ms = absl::ToInt64Milliseconds(options.step);
  std::vector<fs::path> blocks;
  for (const fs::directory_entry& e : fs::directory_iterator(from, ec)) {
    if (!e.is_directory()) continue;
    const fs::path meta = e.path() / "meta.json";
    std::ifstream in(meta);
    if (!in) continue;
    int64_t min_time = 0;
    try {
      min_time = nlohmann::json::parse(in).at("minTime").get<int64_t>();
    } catch (const nlohmann::json::exception& ex) {
      return absl::InternalError(absl::StrCat(meta.string(), ": ", ex.what()));
    }
    if (((min_time - start_ms) % step_ms + step_ms) % step_ms != 0) {
      return absl::InternalError(absl::StrCat(
          "promtool evaluated recording rules at ", min_time,
          " ms, off the steps from ", start_ms, " ms every ", step_ms,
          " ms: this Prometheus aligns rule groups differently (block ",
          e.path().string(), ")"));
    }
    blocks.push_back(e.path());
  }
  if (ec) return absl::InternalError(absl::StrCat(from, ": ", ec.message()));
  for (const fs::path& b : blocks) {
    fs::rename(b, fs::path(data) / b.filename(), ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot move ", b.string(), " into ", data, ": ", ec.message()));
    }
  }
  fs::remove_all(from, ec);
  return absl::OkStatus();
}

absl::Status BackfillLevel(const Tools& tools, const WorkDir& dir,
                           const std::vector<Group>& groups,
                           const std::vector<Rule>& rules,
                           const std::vector<int>& level, int this_level,
                           int levels, const RuleEvaluationOptions& options,
                           std::optional<absl::Duration> lookback) {
  const std::string rule_file =
      absl::StrCat(dir.root, "/recording-rules-level-", this_level, ".yml");
  int count = 0;
  absl::StatusOr<std::string> text = LevelRuleFile(
      rule_file, groups, rules, level, this_level, options, &count);
  if (!text.ok()) return text.status();
  if (absl::Status st = WriteFile(rule_file, *text); !st.ok()) return st;
  if (options.progress) {
    options.progress(absl::StrCat("backfilling ", count,
                                  " recording rule(s), level ", this_level + 1,
                                  " of ", levels));
  }
  absl::StatusOr<std::unique_ptr<Prometheus>> server =
      Prometheus::Start(tools, dir, lookback);
  if (!server.ok()) return server.status();
  const std::string out_dir =
      absl::StrCat(dir.root, "/backfill-level-", this_level);
  std::error_code ec;
  fs::remove_all(out_dir, ec);
  // promtool queries block by block (2h blocks, aligned to multiples of
  // 2h), each from its first evaluation (a fraction of a millisecond past
  // our step, see AlignedGroupName) to min(block end, --end) in whole
  // seconds, and skips a block whose range ends before its first
  // evaluation: with --end = `end` on a block's start, the evaluation at
  // `end` would be lost. One second later keeps it, and adds no
  // evaluation since step >= 1s (at most one at end + 1s, after `end`).
  absl::StatusOr<CommandResult> run = RunCommand(
      tools.promtool,
      {"tsdb", "create-blocks-from", "rules",
       absl::StrCat("--start=", Seconds(options.start)),
       absl::StrCat("--end=", Seconds(options.end + absl::Seconds(1))),
       absl::StrCat("--url=", (*server)->url()),
       absl::StrCat("--output-dir=", out_dir),
       absl::StrCat("--eval-interval=", absl::ToInt64Seconds(options.step),
                    "s"),
       rule_file},
      dir.log(absl::StrCat("rules-level-", this_level)));
  if (!run.ok()) return run.status();
  if (!run->ok()) {
    // promtool's errors do not say which rule failed: the same queries,
    // rule by rule, do.
    const int64_t steps = (options.end - options.start) / options.step + 1;
    for (size_t r = 0; r < rules.size(); ++r) {
      if (rules[r].alerting || level[r] != this_level) continue;
      absl::Status st =
          QueryRange(**server, rules[r], options, steps,
                     [](const nlohmann::json&) { return absl::OkStatus(); });
      if (!st.ok()) return st;
    }
    return absl::InvalidArgumentError(absl::StrCat(
        "backfilling recording rules (level ", this_level + 1, ", ", rule_file,
        ") failed (", DescribeExit(run->wait_status), "):\n", run->output));
  }
  (*server)->Stop();
  return MoveBlocks(out_dir, dir.data(), options);
}

// ---------------------------------------------------------------------------
// Alerting rules: Prometheus's state machine over the range queries.

// Per label set (after the rule's labels), at which steps the expression
// returned it.
absl::StatusOr<std::map<LabelSet, std::vector<bool>>> QueryAlert(
    const Prometheus& server, const Rule& rule,
    const RuleEvaluationOptions& options, int64_t steps) {
  std::map<LabelSet, std::vector<bool>> present;
  const int64_t start_ms = absl::ToUnixMillis(options.start);
  const int64_t step_ms = absl::ToInt64Milliseconds(options.step);
  absl::Status st = QueryRange(
      server, rule, options, steps,
      [&](const nlohmann::json& series) -> absl::Status {
        LabelSet labels;
        for (const auto& [k, v] : series.at("metric").items()) {
          if (k != "__name__") labels[k] = v.get<std::string>();
        }
        for (const auto& [k, v] : rule.labels) labels[k] = v;
        labels["alertname"] = rule.name;
        std::vector<bool>& at = present[labels];
        at.resize(static_cast<size_t>(steps), false);
        for (const nlohmann::json& point : series.at("values")) {
          const double ts = point.at(0).get<double>();
          const int64_t offset = std::llround(ts * 1000) - start_ms;
          if (offset < 0 || offset % step_ms != 0 ||
              offset / step_ms >= steps) {
            return absl::InternalError(
                absl::StrCat(rule.Describe(), ": Prometheus answered for time ",
                             ts, ", not one of the steps"));
          }
          const size_t k = static_cast<size_t>(offset / step_ms);
          // Prometheus fails the rule's evaluation in this case too.
          if (at[k]) {
            return absl::InvalidArgumentError(absl::StrCat(
                rule.Describe(), ": at ", ts,
                " the expression returned several series with the same "
                "labels once __name__ is dropped and the rule's labels "
                "are applied"));
          }
          at[k] = true;
        }
        return absl::OkStatus();
      });
  if (!st.ok()) return st;
  return present;
}

// Prometheus's AlertingRule.Eval (2.42) for one label set over the steps:
// new -> pending (activeAt = t); pending -> firing once t - activeAt >=
// for; absent -> inactive, except that a firing alert keeps firing while
// t - (first absent evaluation) < keep_firing_for.
void ReplayStateMachine(const Rule& rule, const LabelSet& labels,
                        const std::vector<bool>& present,
                        const RuleEvaluationOptions& options,
                        std::vector<AlertInterval>& out) {
  enum class State { kInactive, kPending, kFiring } state = State::kInactive;
  absl::Time active_at, keep_firing_since;
  bool keeping = false;
  for (size_t k = 0; k < present.size(); ++k) {
    const absl::Time t = options.start + static_cast<int64_t>(k) * options.step;
    if (present[k]) {
      if (state == State::kInactive) {
        state = State::kPending;
        active_at = t;
      }
      keeping = false;
      if (state == State::kPending && t - active_at >= rule.hold) {
        state = State::kFiring;
        out.push_back({rule.name, labels, t, std::nullopt});
      }
      continue;
    }
    if (state == State::kFiring && rule.keep_firing > absl::ZeroDuration()) {
      if (!keeping) {
        keeping = true;
        keep_firing_since = t;
      }
      if (t - keep_firing_since < rule.keep_firing) continue;
    }
    if (state == State::kFiring) out.back().end = t;
    state = State::kInactive;
    keeping = false;
  }
}

absl::Status CheckOptions(const RuleEvaluationOptions& o) {
  if (o.history_path.empty()) {
    return absl::InvalidArgumentError("no history file given");
  }
  if (o.work_dir.empty()) {
    return absl::InvalidArgumentError("no work directory given");
  }
  if (o.step < absl::Seconds(1) ||
      o.step != absl::Seconds(absl::ToInt64Seconds(o.step))) {
    return absl::InvalidArgumentError(
        absl::StrCat("step ", absl::FormatDuration(o.step),
                     ": must be a whole number of seconds, at least 1s"));
  }
  for (const absl::Time t : {o.start, o.end}) {
    if (t != absl::FromUnixSeconds(absl::ToUnixSeconds(t)) ||
        t < absl::UnixEpoch()) {
      return absl::InvalidArgumentError(
          absl::StrCat("start and end must be whole seconds after 1970: ",
                       absl::FormatTime(t)));
    }
  }
  if (o.end < o.start) {
    return absl::InvalidArgumentError("end is before start");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<AlertInterval>> EvaluateRules(
    const RuleEvaluationOptions& options) {
  if (absl::Status st = CheckOptions(options); !st.ok()) return st;
  const auto progress = [&](std::string_view message) {
    if (options.progress) options.progress(message);
  };
  Tools tools;
  {
    absl::StatusOr<std::string> p = FindBinary(options.prometheus);
    if (!p.ok()) return p.status();
    absl::StatusOr<std::string> t = FindBinary(options.promtool);
    if (!t.ok()) return t.status();
    tools = {*p, *t};
  }
  std::error_code ec;
  fs::create_directories(options.work_dir, ec);
  if (ec) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot create work directory ", options.work_dir, ": ", ec.message()));
  }
  // Absolute, because the generated rule file's path is part of the hash
  // that places promtool's evaluations, and must be what promtool sees.
  WorkDir dir{fs::absolute(options.work_dir, ec).lexically_normal().string()};
  while (dir.root.size() > 1 && dir.root.back() == '/') dir.root.pop_back();

  // 1. The rule files: promtool's check, then our own reading.
  absl::StatusOr<std::vector<std::string>> files =
      ExpandRulePaths(options.rule_paths);
  if (!files.ok()) return files.status();
  progress(absl::StrCat("checking ", files->size(), " rule file(s)"));
  std::vector<Group> groups;
  std::vector<Rule> rules;
  for (size_t i = 0; i < files->size(); ++i) {
    const std::string& file = (*files)[i];
    absl::StatusOr<CommandResult> check =
        RunCommand(tools.promtool, {"check", "rules", file},
                   dir.log(absl::StrCat("check-rules-", i + 1)));
    if (!check.ok()) return check.status();
    if (!check->ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("rule file ", file, ": promtool check rules failed:\n",
                       check->output));
    }
    if (absl::Status st =
            LoadRuleFile(file, static_cast<int>(i + 1), groups, rules);
        !st.ok()) {
      return st;
    }
  }
  for (const Rule& rule : rules) {
    for (const auto& [k, v] : rule.labels) {
      if (rule.alerting && absl::StrContains(v, "{{")) {
        return absl::UnimplementedError(absl::StrCat(
            rule.Describe(), ": label ", k,
            " is a template; the backtest supports static labels only"));
      }
    }
    const std::set<std::string> ids = Identifiers(rule.expr);
    if (ids.count("ALERTS") || ids.count("ALERTS_FOR_STATE")) {
      return absl::UnimplementedError(absl::StrCat(
          rule.Describe(),
          ": the expression reads ALERTS, which the backtest does not "
          "record"));
    }
  }
  absl::StatusOr<std::vector<int>> level = RecordingLevels(rules);
  if (!level.ok()) return level.status();
  int levels = 0;
  for (const int l : *level) levels = std::max(levels, l + 1);

  // 2. The history, as blocks in data/ (a previous run's are replaced).
  fs::remove_all(dir.data(), ec);
  if (ec) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", dir.data(), ": ", ec.message()));
  }
  if (absl::Status st = WriteFile(
          dir.config(),
          "# Generated by ai_quality_exporter backtest: no scrape targets,\n"
          "# no rules; it only answers queries over the blocks in data/.\n"
          "global: {}\n");
      !st.ok()) {
    return st;
  }
  if (absl::Status st = WriteFile(dir.prometheus_log(), ""); !st.ok()) {
    return st;
  }
  progress(
      absl::StrCat("importing ", options.history_path, " into ", dir.data()));
  {
    absl::StatusOr<CommandResult> import =
        RunCommand(tools.promtool,
                   {"tsdb", "create-blocks-from", "openmetrics",
                    options.history_path, dir.data()},
                   dir.log("openmetrics"));
    if (!import.ok()) return import.status();
    if (!import->ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "history ", options.history_path,
          ": promtool tsdb create-blocks-from openmetrics failed (",
          DescribeExit(import->wait_status), "):\n", import->output));
    }
  }
  fs::create_directories(dir.data(), ec);  // an empty history writes none

  // Just under a step: a sample at t - step is out of sight at t.
  std::optional<absl::Duration> lookback;
  if (options.emulate_staleness)
    lookback = options.step - absl::Milliseconds(1);

  // 3. Recording rules, level by level.
  const bool any_recording = std::any_of(
      rules.begin(), rules.end(), [](const Rule& r) { return !r.alerting; });
  for (int l = 0; any_recording && l < levels; ++l) {
    if (absl::Status st = BackfillLevel(tools, dir, groups, rules, *level, l,
                                        levels, options, lookback);
        !st.ok()) {
      return st;
    }
  }

  // 4. Alerting rules over everything.
  std::vector<AlertInterval> alerts;
  const size_t alerting = static_cast<size_t>(std::count_if(
      rules.begin(), rules.end(), [](const Rule& r) { return r.alerting; }));
  if (alerting == 0) return alerts;
  progress(absl::StrCat("evaluating ", alerting, " alerting rule(s)"));
  absl::StatusOr<std::unique_ptr<Prometheus>> server =
      Prometheus::Start(tools, dir, lookback);
  if (!server.ok()) return server.status();
  const int64_t steps = (options.end - options.start) / options.step + 1;
  for (const Rule& rule : rules) {
    if (!rule.alerting) continue;
    absl::StatusOr<std::map<LabelSet, std::vector<bool>>> present =
        QueryAlert(**server, rule, options, steps);
    if (!present.ok()) return present.status();
    for (const auto& [labels, at] : *present) {
      ReplayStateMachine(rule, labels, at, options, alerts);
    }
  }
  (*server)->Stop();
  std::sort(alerts.begin(), alerts.end(),
            [](const AlertInterval& a, const AlertInterval& b) {
              return std::tie(a.start, a.alertname, a.labels, a.end) <
                     std::tie(b.start, b.alertname, b.labels, b.end);
            });
  progress(absl::StrCat(alerts.size(), " alert interval(s); TSDB blocks in ",
                        dir.data()));
  return alerts;
}

}  // namespace aiq::backtest
