#!/usr/bin/env node
// Starts a tiny OTLP/HTTP sink on 127.0.0.1 (random port), runs send_genai.mjs
// against it for every signal x protocol and writes the captured request bodies
// to <repo>/testdata/otlp/ as golden files, plus README.md and expected.json.
//
//   node capture.mjs [--out DIR]

import http from 'node:http';
import { execFile } from 'node:child_process';
import { mkdir, writeFile, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const { values: opts } = parseArgs({ options: { out: { type: 'string' } } });
const OUT = path.resolve(opts.out ?? path.join(REPO, 'testdata', 'otlp'));
const TOKEN = 'capture-test-token';

const requests = [];
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const contentType = req.headers['content-type'] ?? '';
    requests.push({
      method: req.method,
      url: req.url,
      contentType,
      contentEncoding: req.headers['content-encoding'] ?? null,
      authorization: req.headers.authorization ?? null,
      userAgent: req.headers['user-agent'] ?? null,
      body: Buffer.concat(chunks),
    });
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    // Empty body is a valid (empty) Export*ServiceResponse in both encodings.
    res.writeHead(200, { 'Content-Type': contentType || 'application/octet-stream', 'Content-Length': 0 });
    res.end();
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const endpoint = `http://127.0.0.1:${server.address().port}`;

function run(argv) {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(HERE, 'send_genai.mjs'), ...argv], { cwd: HERE, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

const runs = [];
for (const signal of ['traces', 'logs', 'metrics']) {
  for (const protocol of ['proto', 'json']) {
    // delta is send_genai's default temporality (metrics.*); cumulative -> metrics_cumulative.*
    const variants = signal === 'metrics' ? ['delta', 'cumulative'] : [null];
    for (const temporality of variants) {
      const argv = ['--endpoint', endpoint, '--protocol', protocol, '--signal', signal,
        '--header', `Authorization=Bearer ${TOKEN}`];
      if (temporality === 'cumulative') argv.push('--temporality', temporality);
      const before = requests.length;
      const r = await run(argv);
      const got = requests.slice(before);
      if (r.code !== 0) {
        process.stderr.write(`capture: send_genai ${argv.join(' ')} exited ${r.code}\n${r.stderr}`);
        process.exit(1);
      }
      if (got.length !== 1) {
        process.stderr.write(`capture: expected exactly 1 request for ${signal}/${protocol}, got ${got.length}\n`);
        process.exit(1);
      }
      const rq = got[0];
      if (rq.url !== `/v1/${signal}` || rq.authorization !== `Bearer ${TOKEN}`) {
        process.stderr.write(`capture: unexpected request ${rq.method} ${rq.url} auth=${rq.authorization}\n`);
        process.exit(1);
      }
      const wantType = protocol === 'json' ? 'application/json' : 'application/x-protobuf';
      if (rq.contentType.split(';')[0].trim() !== wantType) {
        process.stderr.write(`capture: ${signal}/${protocol}: Content-Type ${rq.contentType}, want ${wantType}\n`);
        process.exit(1);
      }
      if (protocol === 'json') {
        // sanity: what the goldens are meant to contain really is in them
        const text = rq.body.toString('utf8');
        const body = JSON.parse(text);
        const checks = {
          traces: () => body.resourceSpans?.[0]?.scopeSpans?.[0]?.spans?.length === 8 &&
            text.includes('"gen_ai.evaluation.result"'),
          logs: () => body.resourceLogs?.[0]?.scopeLogs?.[0]?.logRecords?.filter(
            (l) => l.eventName === 'gen_ai.evaluation.result').length === 4,
          metrics: () => body.resourceMetrics?.[0]?.scopeMetrics?.[0]?.metrics?.every(
            (m) => m.histogram?.aggregationTemporality === (temporality === 'cumulative' ? 2 : 1)),
        };
        if (!checks[signal]()) {
          process.stderr.write(`capture: ${signal}/json body does not hold the expected workload\n`);
          process.exit(1);
        }
      }
      const ext = protocol === 'json' ? 'json' : 'pb';
      const base = temporality === 'cumulative' ? `${signal}_cumulative` : signal;
      const file = `${base}.${ext}`;
      const lines = r.stdout.trim().split('\n');
      runs.push({ signal, protocol, temporality, file, request: rq, result: JSON.parse(lines[lines.length - 1]) });
      process.stderr.write(`capture: ${signal}/${protocol}${temporality ? '/' + temporality : ''} -> ${file} ` +
        `(${rq.body.length} bytes, ${rq.contentType})\n`);
    }
  }
}
server.close();

await mkdir(OUT, { recursive: true });
for (const r of runs) await writeFile(path.join(OUT, r.file), r.request.body);

// expected.json: one entry per signal (identical across protocols; metrics per temporality)
const expected = {};
for (const r of runs) {
  const key = r.signal === 'metrics' ? `metrics_${r.temporality}` : r.signal;
  expected[key] ??= { service: r.result.service, expected: r.result.expected };
}
await writeFile(path.join(OUT, 'expected.json'), JSON.stringify(expected, null, 2) + '\n');

// README.md
const pkg = JSON.parse(await readFile(path.join(HERE, 'package.json'), 'utf8'));
const lock = JSON.parse(await readFile(path.join(HERE, 'package-lock.json'), 'utf8'));
const installed = Object.entries(lock.packages)
  .filter(([k]) => k.startsWith('node_modules/'))
  .map(([k, v]) => `| \`${k.slice('node_modules/'.length)}\` | ${v.version} |`)
  .sort();
const table = runs.map((r) =>
  `| \`${r.file}\` | ${r.signal} | ${r.protocol}${r.temporality ? ` (${r.temporality})` : ''} | ` +
  `\`POST ${r.request.url}\` | \`${r.request.contentType}\` | ${r.request.contentEncoding ?? 'identity'} | ${r.request.body.length} |`);
const ua = [...new Set(runs.map((r) => r.request.userAgent).filter(Boolean))];

const readme = `# OTLP/HTTP golden request bodies

Generated by \`tests/otlp_client/capture.mjs\` — do not edit by hand.

These are the exact HTTP request bodies the **real OpenTelemetry JS SDK**
(OTLP/HTTP exporters, JSON and protobuf encodings) sends for the deterministic
GenAI workload defined in \`tests/otlp_client/send_genai.mjs\`. See
\`tests/otlp_client/README.md\` for the workload and the expected values.

## How they were produced

\`\`\`sh
tests/otlp_client/install.sh        # npm ci (pinned versions, package-lock.json)
node tests/otlp_client/capture.mjs  # writes testdata/otlp/*
\`\`\`

\`capture.mjs\` listens on \`127.0.0.1:<random port>\`, answers every POST with
\`200\` and an empty body (same Content-Type as the request), and for each row
below runs

\`\`\`sh
node send_genai.mjs --endpoint http://127.0.0.1:PORT --protocol <proto|json> \\
     --signal <traces|logs|metrics> --header 'Authorization=Bearer ${TOKEN}' [--temporality cumulative]
\`\`\`

Each run made exactly one request, to the path below, with
\`Authorization: Bearer ${TOKEN}\`.${ua.length ? ` User-Agent: ${ua.map((u) => `\`${u}\``).join(', ')}.` : ''}
Captured with Node ${process.version} on ${new Date().toISOString().slice(0, 10)}.

| file | signal | encoding | request | Content-Type | Content-Encoding | bytes |
|---|---|---|---|---|---|---|
${table.join('\n')}

\`metrics.*\` use DELTA temporality (send_genai's default, OTLP
\`aggregationTemporality\` 1); \`metrics_cumulative.*\` are the same workload
with \`--temporality cumulative\` (2).

\`expected.json\` holds the expectations \`send_genai.mjs\` printed (computed from
its workload tables): per signal, and per temporality for metrics.

Timestamps are relative to the capture time (spans/log records lie ~30 min
before it; metric start/end times are the capture time), so they differ between
captures; trace/span ids come from a counting id generator and are stable.

## Package versions (package-lock.json)

Direct dependencies are pinned exactly in \`tests/otlp_client/package.json\`.

| package | version |
|---|---|
${installed.join('\n')}
`;
await writeFile(path.join(OUT, 'README.md'), readme);
process.stderr.write(`capture: wrote ${runs.length} bodies + README.md + expected.json to ${OUT}\n`);
void pkg;
