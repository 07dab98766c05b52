// LD_PRELOAD shim for the macro benchmark's "what if" row: sets TCP_NODELAY
// on every accepted socket, as civetweb's `tcp_nodelay=1` option would.
// Without it, a response written as headers + body (two sends) waits for
// the client's delayed ACK (Nagle): ~40 ms per keep-alive request.
//
//   cc -O2 -shared -fPIC nodelay_preload.c -o nodelay.so -ldl
//   LD_PRELOAD=./nodelay.so ai_quality_exporter serve --config aiq.yaml
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

static void nodelay(int fd) {
  if (fd >= 0) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  static int (*real)(int, struct sockaddr*, socklen_t*);
  if (!real)
    real =
        (int (*)(int, struct sockaddr*, socklen_t*))dlsym(RTLD_NEXT, "accept");
  int c = real(fd, addr, len);
  nodelay(c);
  return c;
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  static int (*real)(int, struct sockaddr*, socklen_t*, int);
  if (!real)
    real = (int (*)(int, struct sockaddr*, socklen_t*, int))dlsym(RTLD_NEXT,
                                                                  "accept4");
  int c = real(fd, addr, len, flags);
  nodelay(c);
  return c;
}
