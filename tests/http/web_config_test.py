#!/usr/bin/python3
"""End to end: --web.config.file with TLS, client certificates (mTLS),
bcrypt basic auth and response headers, scraped by the real Prometheus.

Makes a CA, a server and a client certificate with the openssl CLI and a
bcrypt hash with libcrypt (Python's crypt module), starts the exporter with
a web config in the exporter-toolkit format on a loopback port, and checks:
  * curl with the client certificate and the right password gets /metrics
    over TLS, with the configured security header;
  * the wrong password, no password, and no client certificate are refused
    (401, 401, handshake failure); plain HTTP gets no answer;
  * ingest with a server.ingest_tokens bearer token still works (the
    route's own credentials are accepted beside the web config's users);
  * a real Prometheus (Debian's /usr/bin/prometheus) scraping with
    tls_config + basic_auth sees up == 1.
Exit 1 on failure, 77 (skipped) when openssl, curl or prometheus is missing.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import crypt  # libcrypt's bcrypt; deprecated in 3.11, bookworm has 3.11

PROMETHEUS = "/usr/bin/prometheus"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, **kw)


def make_certs(d):
    """CA, server (CN/SAN 127.0.0.1) and client certificates in `d`."""
    def p(name):
        return os.path.join(d, name)
    run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "2",
         "-subj", "/CN=aiq test CA"])
    for who, ext in (("server", "subjectAltName=IP:127.0.0.1"),
                     ("client", "extendedKeyUsage=clientAuth")):
        run(["openssl", "req", "-newkey", "rsa:2048", "-nodes",
             "-keyout", p(who + ".key"), "-out", p(who + ".csr"),
             "-subj", "/CN=aiq test " + who])
        with open(p(who + ".ext"), "w") as f:
            f.write(ext + "\n")
        run(["openssl", "x509", "-req", "-in", p(who + ".csr"),
             "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
             "-out", p(who + ".pem"), "-days", "2",
             "-extfile", p(who + ".ext")])


def curl(url, d, *extra):
    """(HTTP status or None when the connection failed, headers, body)."""
    r = subprocess.run(
        ["curl", "-s", "-S", "--max-time", "5", "-D", "-", url,
         "--cacert", os.path.join(d, "ca.pem"), *extra],
        capture_output=True, text=True)
    if r.returncode != 0:
        return None, "", r.stderr
    # Text mode reads "\r\n" as "\n".
    head, _, body = r.stdout.partition("\n\n")
    status = int(head.split()[1])
    return status, head, body


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args(argv)
    for tool in ("openssl", "curl"):
        if shutil.which(tool) is None:
            print("skip: %s not installed" % tool)
            return 77
    if not os.access(PROMETHEUS, os.X_OK):
        print("skip: %s not installed" % PROMETHEUS)
        return 77

    failures = []

    def check(ok, what):
        print(("ok   " if ok else "FAIL ") + what)
        if not ok:
            failures.append(what)

    d = tempfile.mkdtemp(prefix="aiq_web_config_")
    procs = []
    try:
        make_certs(d)
        password = "s3cret:with-colon"
        bcrypt_hash = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH,
                                                         rounds=1 << 6))
        with open(os.path.join(d, "web.yml"), "w") as f:
            f.write("tls_server_config:\n"
                    "  cert_file: server.pem\n"  # relative to web.yml
                    "  key_file: server.key\n"
                    "  client_ca_file: ca.pem\n"
                    "  client_auth_type: RequireAndVerifyClientCert\n"
                    "http_server_config:\n"
                    "  headers:\n"
                    "    X-Content-Type-Options: nosniff\n"
                    "basic_auth_users:\n"
                    "  prom: '%s'\n" % bcrypt_hash)
        port = free_port()
        with open(os.path.join(d, "aiq.yml"), "w") as f:
            f.write("server:\n"
                    "  listen: 127.0.0.1:%d\n"
                    "  ingest_tokens: [ingest-token-1]\n"
                    "models:\n"
                    "  - name: m\n"
                    "    task: classification\n"
                    "    classes: [a, b]\n" % port)
        exporter = subprocess.Popen(
            [args.binary, "serve", "--config", os.path.join(d, "aiq.yml"),
             "--web.config.file", os.path.join(d, "web.yml")],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append(exporter)
        line = exporter.stdout.readline()
        check("listening on" in line, "exporter starts: " + line.strip())
        base = "https://127.0.0.1:%d" % port
        cert = ["--cert", os.path.join(d, "client.pem"),
                "--key", os.path.join(d, "client.key")]

        status, head, body = curl(base + "/metrics", d, *cert,
                                  "-u", "prom:" + password)
        check(status == 200 and "aiq_exporter_build_info" in body,
              "mTLS + basic auth: GET /metrics 200 (%s)" % status)
        check("X-Content-Type-Options: nosniff" in head,
              "http_server_config.headers on the response")
        status, head, _ = curl(base + "/metrics", d, *cert,
                               "-u", "prom:wrong")
        check(status == 401 and 'WWW-Authenticate: Basic' in head,
              "wrong password: 401 with WWW-Authenticate: Basic (%s)" % status)
        status, _, _ = curl(base + "/-/healthy", d, *cert)
        check(status == 401, "no password, any endpoint: 401 (%s)" % status)
        status, _, err = curl(base + "/metrics", d, "-u", "prom:" + password)
        check(status is None, "no client certificate: handshake refused (%s)"
              % err.strip()[:80])
        status, _, _ = curl("http://127.0.0.1:%d/metrics" % port, d)
        check(status is None, "plain HTTP on the TLS port: no answer")
        event = json.dumps({"model": "m", "prediction": "a"})
        status, _, body = curl(base + "/api/v1/predictions", d, *cert,
                               "-H", "Authorization: Bearer ingest-token-1",
                               "-H", "Content-Type: application/json",
                               "--data-binary", event)
        check(status == 200, "ingest with its bearer token: 200 (%s %s)"
              % (status, body.strip()[:80]))

        pport = free_port()
        with open(os.path.join(d, "prometheus.yml"), "w") as f:
            f.write("global: {scrape_interval: 1s}\n"
                    "scrape_configs:\n"
                    "  - job_name: aiq\n"
                    "    scheme: https\n"
                    "    tls_config:\n"
                    "      ca_file: %(d)s/ca.pem\n"
                    "      cert_file: %(d)s/client.pem\n"
                    "      key_file: %(d)s/client.key\n"
                    "    basic_auth: {username: prom, password: '%(pw)s'}\n"
                    "    static_configs: [{targets: ['127.0.0.1:%(port)d']}]\n"
                    % {"d": d, "pw": password, "port": port})
        prom = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + os.path.join(d, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(d, "prom-data"),
             "--web.listen-address=127.0.0.1:%d" % pport, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(prom)
        up = None
        deadline = time.time() + 60
        while time.time() < deadline and up != "1":
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(
                        "http://127.0.0.1:%d/api/v1/query?query=up" % pport,
                        timeout=2) as r:
                    result = json.load(r)["data"]["result"]
                    up = result[0]["value"][1] if result else None
            except OSError:
                pass
        check(up == "1", "Prometheus scrapes over mTLS with basic auth: up "
              "== %s" % up)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(d, ignore_errors=True)
    print("%d failures" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
