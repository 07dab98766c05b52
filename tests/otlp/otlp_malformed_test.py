#!/usr/bin/python3
"""End to end: malformed OTLP/HTTP bodies and overload against the real
exporter process on loopback.

Every malformed body (truncated, wrong wire types, lengths past the end,
group wire types, invalid UTF-8, nesting deeper than 32 levels, in
protobuf and in JSON) gets 400 with a google.rpc.Status (code 3) in the
request's encoding, nothing of it is applied, and the process stays
healthy. Under overload (a body holding the in-flight memory bound) a
second request gets 429 with Retry-After at once, as a google.rpc.Status
(code 8), and ingest works again once the first is done.

Exit 1 on failure.
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


# --- protobuf, by hand (opentelemetry-proto v1.9.0 field numbers) ----------

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, wire_type, payload):
    tag = varint(number << 3 | wire_type)
    if wire_type == 2:
        return tag + varint(len(payload)) + payload
    return tag + payload


def message(number, payload):
    return field(number, 2, payload)


def string(number, text):
    return message(number, text if isinstance(text, bytes) else text.encode())


def key_value(key, any_value):
    return string(1, key) + message(2, any_value)


def str_value(text):
    return string(1, text)


def traces_body(span_attributes, service="chatbot"):
    """ExportTraceServiceRequest with one chat span of 1 s."""
    start = int((time.time() - 60) * 1e9)
    span = (message(1, b"\x01" * 16) + message(2, b"\x02" * 8) +
            string(5, "chat") +
            field(7, 1, start.to_bytes(8, "little")) +
            field(8, 1, (start + 10**9).to_bytes(8, "little")))
    for kv in span_attributes:
        span += message(9, kv)
    resource = message(1, key_value("service.name", str_value(service)))
    scope_spans = message(2, span)
    resource_spans = message(1, resource) + message(2, scope_spans)
    return message(1, resource_spans)


CHAT = [key_value("gen_ai.operation.name", str_value("chat")),
        key_value("gen_ai.request.model", str_value("gpt-4o"))]


def nested_arrays(depth):
    """AnyValue{array_value: ArrayValue{values: [...]}} `depth` levels."""
    value = str_value("leaf")
    for _ in range(depth):
        value = message(5, message(1, value))
    return value


def malformed_protobuf():
    good = traces_body(CHAT)
    return [
        ("truncated", good[:-3]),
        ("wrong wire type for resource_spans", b"\x08\x01"),
        ("length past the end", b"\x0a" + varint(2**62) + b"xx"),
        ("group wire type", b"\x0b\x0c"),
        ("invalid UTF-8 key",
         traces_body(CHAT + [key_value(b"bad\xff\xfekey", str_value("x"))])),
        ("nesting 40 levels",
         traces_body(CHAT + [key_value("deep", nested_arrays(40))])),
        ("a 10-byte varint with high bits", b"\x08" + b"\xff" * 10),
    ]


def malformed_json():
    good = {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "chatbot"}}]},
        "scopeSpans": [{"spans": [{
            "name": "chat", "startTimeUnixNano": "1", "endTimeUnixNano": "2",
            "attributes": [{"key": "gen_ai.operation.name",
                            "value": {"stringValue": "chat"}}]}]}]}]}
    deep = {"stringValue": "leaf"}
    for _ in range(40):
        deep = {"arrayValue": {"values": [deep]}}
    nested = json.loads(json.dumps(good))
    nested["resourceSpans"][0]["scopeSpans"][0]["spans"][0][
        "attributes"].append({"key": "deep", "value": deep})
    wrong_type = json.loads(json.dumps(good))
    wrong_type["resourceSpans"][0]["scopeSpans"][0]["spans"][0][
        "startTimeUnixNano"] = {"not": "a number"}
    text = json.dumps(good)
    return [
        ("truncated", text[:-5].encode()),
        ("resourceSpans not an array", b'{"resourceSpans": 5}'),
        ("a time that is an object", json.dumps(wrong_type).encode()),
        ("nesting 40 levels", json.dumps(nested).encode()),
        ("not JSON", b"\x00\x01binary"),
    ]


class Exporter:
    def __init__(self, binary, tmp, extra_limits):
        self.port = free_port()
        config = os.path.join(tmp, "config.yaml")
        with open(config, "w") as f:
            f.write(f"""
server:
  listen: 127.0.0.1:{self.port}
limits:
{extra_limits}
models:
  - name: chatbot
    task: generation
""")
        self.proc = subprocess.Popen([binary, "serve", "--config", config],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                if self.get("/-/ready")[0] == 200:
                    return
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("exporter did not start")
            time.sleep(0.1)

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, body, content_type):
        return self.request("POST", path, body,
                            {"Content-Type": content_type})

    def metric(self, name, labels):
        _, _, text = self.get("/metrics")
        prefix = name + labels + " "
        for line in text.decode().splitlines():
            if line.startswith(prefix):
                return float(line[len(prefix):])
        return 0.0

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def status_code_of(body, content_type):
    """The google.rpc.Status code of a reply body."""
    if content_type == "application/json":
        return json.loads(body)["code"]
    if not body or body[0] != 0x08:
        return None
    return body[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    args = ap.parse_args()
    failures = []
    tmp = tempfile.mkdtemp(prefix="aiq_otlp_malformed_")
    try:
        exporter = Exporter(args.binary, tmp,
                            "  max_body_bytes: 65536\n"
                            "  max_inflight_bytes: 65536")
        try:
            n = 0
            for content_type, cases in (
                    ("application/x-protobuf", malformed_protobuf()),
                    ("application/json", malformed_json())):
                for name, body in cases:
                    n += 1
                    status, headers, reply = exporter.post(
                        "/v1/traces", body, content_type)
                    code = status_code_of(reply, headers.get("Content-Type"))
                    if (status != 400 or
                            headers.get("Content-Type") != content_type or
                            code != 3):
                        failures.append(
                            f"{content_type} {name}: {status} "
                            f"{headers.get('Content-Type')} code {code} "
                            f"{reply[:200]!r}")
                    if exporter.get("/-/healthy")[0] != 200:
                        failures.append(f"unhealthy after {name}")
            seen = exporter.metric(
                "aiq_exporter_http_requests_total",
                '{code="400",handler="/v1/traces"}')
            if seen != n:
                failures.append(f"{seen} requests counted as 400, sent {n}")
            calls = exporter.metric("aiq_predictions_total",
                                    '{model="chatbot",version="gpt-4o"}')
            if calls != 0:
                failures.append(f"{calls} calls applied from malformed bodies")

            # Overload: a body of 60,000 bytes being read holds most of
            # the 64 KiB in-flight bound; a second request of 30,000
            # bytes is refused at once, its body unread.
            slow = socket.create_connection(("127.0.0.1", exporter.port))
            slow.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/x-protobuf\r\n"
                         b"Content-Length: 60000\r\n\r\n" + b"\x0a" * 10)
            time.sleep(0.3)
            started = time.time()
            status, headers, reply = exporter.post(
                "/v1/traces", b"\x00" * 30000, "application/x-protobuf")
            took = time.time() - started
            code = status_code_of(reply, headers.get("Content-Type"))
            if status != 429 or "Retry-After" not in headers or code != 8:
                failures.append(f"overload: {status} {headers} code {code}")
            if took > 2:
                failures.append(f"overload: the 429 took {took:.2f} s")
            if exporter.get("/-/healthy")[0] != 200:
                failures.append("unhealthy under overload")
            slow.close()

            # Ingest works again, and the valid request counts once.
            deadline = time.time() + 10
            while True:
                status, _, reply = exporter.post(
                    "/v1/traces", traces_body(CHAT), "application/x-protobuf")
                if status != 429 or time.time() > deadline:
                    break
                time.sleep(0.1)
            if status != 200 or reply not in (b"",):
                failures.append(f"after overload: {status} {reply!r}")
            calls = exporter.metric("aiq_predictions_total",
                                    '{model="chatbot",version="gpt-4o"}')
            if calls != 1:
                failures.append(f"{calls} calls counted after one valid one")
        finally:
            exporter.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        return 1
    print(f"ok: {n} malformed bodies refused with 400, nothing applied, "
          "healthy throughout; overload answered 429 at once")
    return 0


if __name__ == "__main__":
    sys.exit(main())
