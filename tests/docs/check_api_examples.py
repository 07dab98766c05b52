#!/usr/bin/python3
"""Replays the worked examples of docs/api.md against the real binary.

    /usr/bin/python3 tests/docs/check_api_examples.py BUILD/ai_quality_exporter [docs/api.md]

docs/api.md marks what this script reads with fenced-code info strings:

    ```yaml example-config          the config the server is started with
    ```sh example=NAME              a curl command (run in document order)
    ```json response=NAME status=N  its exact status and body (JSON bodies
                                    are compared as parsed JSON, so the doc
                                    may pretty-print them)
    ```text metrics=NAME            lines that must appear verbatim in
                                    GET /metrics right after example NAME

The server runs with `serve --config <that config> --listen 127.0.0.1:0`;
the port is read from its first stdout line ("... (port N) ..."), and
`http://localhost:9477` in the commands is pointed at it. Standard library
only; every wait is bounded. Prints `N passed, M failed` and exits 1 on any
failure.
"""

import base64
import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

DOC_BASE_URL = "http://localhost:9477"
START_TIMEOUT_S = 15
REQUEST_TIMEOUT_S = 10
STOP_TIMEOUT_S = 10

FENCE_RE = re.compile(r"^```(\S*)(.*)$")


def parse_blocks(text):
    """Returns [(lang, attrs dict, body)] for every fenced block."""
    blocks = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        lang, rest = m.group(1), m.group(2)
        attrs = {}
        for tok in rest.split():
            key, _, value = tok.partition("=")
            attrs[key] = value
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith("```"):
            body.append(lines[i])
            i += 1
        i += 1  # closing fence
        blocks.append((lang, attrs, "\n".join(body)))
    return blocks


class Example:
    def __init__(self, name, command):
        self.name = name
        self.command = command
        self.status = None
        self.response = None
        self.response_is_json = False
        self.metrics = []


def load_doc(path):
    with open(path, encoding="utf-8") as f:
        blocks = parse_blocks(f.read())
    config = None
    examples = {}
    order = []
    for lang, attrs, body in blocks:
        if "example-config" in attrs:
            config = body + "\n"
        elif "example" in attrs:
            name = attrs["example"]
            if name in examples:
                raise ValueError(f"example {name!r} defined twice")
            examples[name] = Example(name, body)
            order.append(name)
        elif "response" in attrs:
            ex = examples.get(attrs["response"])
            if ex is None:
                raise ValueError(f"response {attrs['response']!r} before its example")
            ex.status = int(attrs.get("status", "200"))
            ex.response = body
            ex.response_is_json = lang == "json"
        elif "metrics" in attrs:
            ex = examples.get(attrs["metrics"])
            if ex is None:
                raise ValueError(f"metrics {attrs['metrics']!r} before its example")
            ex.metrics = [l for l in body.split("\n") if l.strip()]
    if config is None:
        raise ValueError("no ```yaml example-config block")
    for name in order:
        if examples[name].response is None:
            raise ValueError(f"example {name!r} has no response block")
    return config, [examples[n] for n in order]


def parse_curl(command):
    """Turns a documented curl command into (method, url, headers, body)."""
    lines = command.split("\n")
    # A here-document ("<<'EOF'") supplies the body read by `-d @-`.
    heredoc = None
    first = []
    for i, line in enumerate(lines):
        m = re.search(r"<<-?'?(\w+)'?\s*$", line)
        if m:
            first.append(line[: m.start()])
            term = m.group(1)
            rest = lines[i + 1 :]
            if term not in rest:
                raise ValueError(f"here-document without {term}")
            heredoc = "\n".join(rest[: rest.index(term)]) + "\n"
            break
        first.append(line)
    argv = shlex.split("\n".join(first).replace("\\\n", " "))
    if not argv or argv[0] != "curl":
        raise ValueError("not a curl command")
    method, url, headers, body = None, None, {}, None
    i = 1
    while i < len(argv):
        a = argv[i]

        def value():
            nonlocal i
            i += 1
            if i >= len(argv):
                raise ValueError(f"{a} needs a value")
            return argv[i]

        if a in ("-s", "-S", "-sS", "--silent", "--show-error"):
            pass
        elif a in ("-X", "--request"):
            method = value()
        elif a in ("-H", "--header"):
            k, _, v = value().partition(":")
            headers[k.strip()] = v.strip()
        elif a in ("-d", "--data", "--data-binary"):
            body = value()
            if body == "@-":
                if heredoc is None:
                    raise ValueError("-d @- without a here-document")
                body = heredoc
        elif a in ("-u", "--user"):
            token = base64.b64encode(value().encode()).decode()
            headers["Authorization"] = "Basic " + token
        elif a.startswith("-"):
            raise ValueError(f"unsupported curl option {a}")
        elif url is None:
            url = a
        else:
            raise ValueError(f"unexpected argument {a!r}")
        i += 1
    if url is None:
        raise ValueError("no URL")
    if method is None:
        method = "POST" if body is not None else "GET"
    if body is not None and "Content-Type" not in headers:
        # What curl sends with -d; documented so readers are not surprised.
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    return method, url, headers, body


def http(method, url, headers=None, body=None):
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=REQUEST_TIMEOUT_S) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


class Server:
    def __init__(self, binary, config_path):
        self.proc = subprocess.Popen(
            [binary, "serve", "--config", config_path, "--listen", "127.0.0.1:0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.first_line = None
        got = threading.Event()

        def read():
            self.first_line = self.proc.stdout.readline()
            got.set()
            for _ in self.proc.stdout:  # keep the pipe drained
                pass

        threading.Thread(target=read, daemon=True).start()
        if not got.wait(START_TIMEOUT_S):
            self.stop()
            raise RuntimeError(f"no output within {START_TIMEOUT_S}s")
        m = re.search(r"\(port (\d+)\)", self.first_line or "")
        if not m:
            self.stop()
            err = self.proc.stderr.read() if self.proc.poll() is not None else ""
            raise RuntimeError(f"cannot find the port in {self.first_line!r} {err}")
        self.base = f"http://127.0.0.1:{m.group(1)}"

    def stop(self):
        if self.proc.poll() is not None:
            return self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(STOP_TIMEOUT_S)
            return None


def main(argv):
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    binary = argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    doc = argv[2] if len(argv) == 3 else os.path.join(here, "..", "..", "docs", "api.md")
    config, examples = load_doc(doc)

    passed, failed = 0, 0

    def check(ok, what, detail=""):
        nonlocal passed, failed
        if ok:
            passed += 1
        else:
            failed += 1
            print(f"FAIL {what}{': ' + detail if detail else ''}")

    with tempfile.TemporaryDirectory() as tmp:
        config_path = os.path.join(tmp, "aiq.yaml")
        with open(config_path, "w", encoding="utf-8") as f:
            f.write(config)
        server = Server(binary, config_path)
        try:
            for ex in examples:
                try:
                    method, url, headers, body = parse_curl(ex.command)
                except ValueError as e:
                    check(False, f"{ex.name}: command", str(e))
                    continue
                check(url.startswith(DOC_BASE_URL), f"{ex.name}: URL", url)
                url = server.base + url[len(DOC_BASE_URL) :]
                status, got = http(method, url, headers, body)
                check(status == ex.status, f"{ex.name}: status", f"got {status}, documented {ex.status}")
                documented = ex.response.strip()
                got = got.strip()
                if ex.response_is_json:
                    try:
                        want = json.loads(documented)
                        documented = json.dumps(want, sort_keys=True)
                    except json.JSONDecodeError as e:
                        raise ValueError(f"{ex.name}: documented response is not JSON: {e}")
                    try:
                        same = json.loads(got) == want
                        got = json.dumps(json.loads(got), sort_keys=True)
                    except json.JSONDecodeError:
                        same = False
                else:
                    same = got == documented
                check(same, f"{ex.name}: body", f"\n  got:        {got}\n  documented: {documented}")
                if ex.metrics:
                    mstatus, scrape = http("GET", server.base + "/metrics")
                    check(mstatus == 200, f"{ex.name}: /metrics status", str(mstatus))
                    present = set(scrape.split("\n"))
                    for line in ex.metrics:
                        series = line.rsplit(" ", 1)[0]
                        actual = [l for l in present if l.rsplit(" ", 1)[0] == series]
                        check(line in present, f"{ex.name}: metric line",
                              f"{line} (exposed: {actual[0] if actual else 'nothing'})")
            code = server.stop()
            check(code == 0, "SIGTERM stops the server with exit code 0", str(code))
        finally:
            server.stop()
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (ValueError, RuntimeError, OSError) as e:
        print(f"error: {e}")
        print("0 passed, 1 failed")
        sys.exit(1)
