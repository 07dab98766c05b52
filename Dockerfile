# ai-quality-exporter container image (Debian bookworm, multi-stage).
#
#   docker build -t ai-quality-exporter .                       # the exporter
#   docker build --target simulator -t aiq-simulator .          # traffic generator
#   docker run --rm -p 127.0.0.1:9477:9477 ai-quality-exporter  # embedded demo config
#   docker run --rm -v $PWD/aiq.yaml:/etc/aiq/aiq.yaml:ro -p 127.0.0.1:9477:9477 \
#     ai-quality-exporter --config /etc/aiq/aiq.yaml
#
# docker-compose.yml builds both targets; docs/full_stack.md describes the stack.

# --- build: the repository's own setup and build scripts --------------------
FROM debian:bookworm AS build
WORKDIR /src
# setup.sh first and alone, so the package layer is cached across source edits.
COPY scripts/setup.sh scripts/setup.sh
RUN scripts/setup.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY scripts/ scripts/
COPY exporter/ exporter/
# The headers' usage examples are compiled as part of the build.
COPY tools/header_examples.py tools/header_examples.py
# Tests and benchmarks are built and run by CI (scripts/test.sh), not here.
# .git is not copied: pass the revision for aiq_exporter_build_info with
# `docker build --build-arg AIQ_GIT_REVISION=$(git rev-parse --short HEAD)`.
ARG AIQ_GIT_REVISION=unknown
RUN AIQ_BUILD_DIR=/build scripts/build.sh -DAIQ_BUILD_TESTS=OFF -DAIQ_BUILD_BENCHMARKS=OFF \
      -DAIQ_GIT_REVISION=${AIQ_GIT_REVISION} \
 && strip --strip-debug -o /ai_quality_exporter /build/ai_quality_exporter \
 && /ai_quality_exporter --version

# --- simulator: tools/simulate/ (stdlib Python only) -------------------------
FROM debian:bookworm-slim AS simulator
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 \
 && rm -rf /var/lib/apt/lists/*
# simulate.py imports demo_distributions.py from its own directory.
COPY tools/simulate/simulate.py tools/simulate/demo_distributions.py /usr/local/bin/
USER 65534:65534
ENTRYPOINT ["/usr/bin/python3", "-u", "/usr/local/bin/simulate.py"]
CMD ["--target", "http://exporter:9477"]

# --- runtime: only the shared libraries the binary links ---------------------
# Last stage = the default target of `docker build .`.
# From `ldd build/ai_quality_exporter` + `dpkg -S`: abseil, OpenSSL (TLS), libcrypt (bcrypt),
# prometheus-cpp core, RocksDB, simdjson, tcmalloc, yaml-cpp, libstdc++,
# zlib (libc, libgcc-s and libm come with the base image); the
# docker_runtime_libraries test checks the list against the binary. curl is
# for the HEALTHCHECK.
FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libabsl20220623 libssl3 libcrypt1 libprometheus-cpp-core1.0 librocksdb7.8 \
      libsimdjson14 libtcmalloc-minimal4 libyaml-cpp0.7 libstdc++6 zlib1g curl \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 aiq \
 && useradd --system --uid 10001 --gid aiq --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin aiq
COPY --from=build /ai_quality_exporter /usr/local/bin/ai_quality_exporter
USER 10001:10001
EXPOSE 9477
# Checks the default port; if you move it with --listen, override the check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
  CMD curl -fsS -o /dev/null http://127.0.0.1:9477/-/healthy || exit 1
# SIGTERM stops it gracefully (in-flight requests finish, exit 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/ai_quality_exporter", "serve"]
CMD []
