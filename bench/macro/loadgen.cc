// A small closed-loop HTTP/1.1 load generator for the macro benchmark:
// C keep-alive connections (one thread each) POST the same prepared body
// until `--requests` requests were sent in total or `--max-seconds` passed.
// Prints one line of key=value pairs:
//   requests ok errors seconds req_per_s events_per_s p50_us p90_us p99_us
//   max_us
// Loopback only (--host must be 127.0.0.1); no dependencies beyond libc.
//
//   g++ -O2 -std=c++20 -pthread loadgen.cc -o loadgen
//   loadgen --port 9477 --path /api/v1/predictions --body-file b.ndjson \
//           --content-type application/x-ndjson --events-per-request 1000 \
//           --connections 2 --requests 2000 --max-seconds 20
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string method = "POST";
  std::string path = "/api/v1/predictions";
  std::string body_file;
  std::string content_type = "application/x-ndjson";
  long events_per_request = 1;
  int connections = 2;
  long requests = 1000;
  double max_seconds = 20;
};

using Clock = std::chrono::steady_clock;

int Connect(const Options& o) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &a.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool SendAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

// Reads one response; returns the status (or -1). `buf` keeps leftovers.
int ReadResponse(int fd, std::string& buf) {
  char tmp[65536];
  size_t header_end;
  while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return -1;
    buf.append(tmp, static_cast<size_t>(n));
  }
  int status = -1;
  if (buf.size() > 12) status = std::atoi(buf.c_str() + 9);
  long length = 0;
  // Case-insensitive Content-Length lookup.
  std::string head = buf.substr(0, header_end);
  for (char& c : head) c = static_cast<char>(std::tolower(c));
  if (size_t p = head.find("content-length:"); p != std::string::npos) {
    length = std::atol(head.c_str() + p + 15);
  }
  const size_t total = header_end + 4 + static_cast<size_t>(length);
  while (buf.size() < total) {
    ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return -1;
    buf.append(tmp, static_cast<size_t>(n));
  }
  buf.erase(0, total);
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host")
      o.host = v;
    else if (k == "--port")
      o.port = std::atoi(v.c_str());
    else if (k == "--method")
      o.method = v;
    else if (k == "--path")
      o.path = v;
    else if (k == "--body-file")
      o.body_file = v;
    else if (k == "--content-type")
      o.content_type = v;
    else if (k == "--events-per-request")
      o.events_per_request = std::atol(v.c_str());
    else if (k == "--connections")
      o.connections = std::atoi(v.c_str());
    else if (k == "--requests")
      o.requests = std::atol(v.c_str());
    else if (k == "--max-seconds")
      o.max_seconds = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (o.host != "127.0.0.1" || o.port <= 0 || o.connections < 1 ||
      o.requests < 1 || o.max_seconds <= 0 || o.max_seconds > 600) {
    std::fprintf(stderr, "loadgen: bad options (loopback only, bounded)\n");
    return 2;
  }
  std::string body;
  if (!o.body_file.empty()) {
    std::ifstream in(o.body_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    body = ss.str();
  }
  std::string request = o.method + " " + o.path +
                        " HTTP/1.1\r\nHost: " + o.host +
                        "\r\nConnection: keep-alive\r\n";
  if (o.method == "POST") {
    request += "Content-Type: " + o.content_type +
               "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  if (o.method == "POST") request += body;

  std::atomic<long> issued{0}, ok{0}, errors{0};
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(o.max_seconds));
  std::vector<std::vector<double>> lat(static_cast<size_t>(o.connections));
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) {
    threads.emplace_back([&, c] {
      int fd = Connect(o);
      std::string buf;
      auto& mine = lat[static_cast<size_t>(c)];
      while (fd >= 0 && Clock::now() < deadline &&
             issued.fetch_add(1) < o.requests) {
        const auto t0 = Clock::now();
        int status = SendAll(fd, request) ? ReadResponse(fd, buf) : -1;
        const auto t1 = Clock::now();
        mine.push_back(
            std::chrono::duration<double, std::micro>(t1 - t0).count());
        if (status >= 200 && status < 300) {
          ++ok;
        } else {
          ++errors;
          if (status < 0) {  // reconnect
            close(fd);
            buf.clear();
            fd = Connect(o);
          }
        }
      }
      if (fd >= 0) close(fd);
    });
  }
  for (auto& t : threads) t.join();
  const double secs =
      std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    if (all.empty()) return 0.0;
    size_t i = static_cast<size_t>(p * static_cast<double>(all.size() - 1));
    return all[i];
  };
  const long n = ok.load() + errors.load();
  std::printf(
      "requests=%ld ok=%ld errors=%ld seconds=%.3f req_per_s=%.1f "
      "events_per_s=%.1f p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
      n, ok.load(), errors.load(), secs, static_cast<double>(ok.load()) / secs,
      static_cast<double>(ok.load() * o.events_per_request) / secs, pct(0.5),
      pct(0.9), pct(0.99), all.empty() ? 0.0 : all.back());
  return errors.load() == 0 ? 0 : 1;
}
