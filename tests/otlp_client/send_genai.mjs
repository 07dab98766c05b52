#!/usr/bin/env node
// Sends a deterministic GenAI workload to an OTLP/HTTP receiver using the real
// OpenTelemetry JS SDK (providers, processors/readers and OTLP exporters).
//
//   node send_genai.mjs --endpoint http://127.0.0.1:PORT --protocol json|proto \
//        --signal traces|logs|metrics [--header 'Name=Value']... [--token TOKEN] \
//        [--service NAME] [--temporality delta|cumulative]
//
// --header may be repeated (e.g. --header 'Authorization=Bearer x');
// --token TOKEN is shorthand for --header 'Authorization=Bearer TOKEN'.
// --temporality applies to --signal metrics only; the default is delta.
//
// Exit status: 0 when every export call returned ExportResultCode.SUCCESS,
// 1 on export failure, 2 on usage error. The last stdout line is a JSON object
// with the values a receiver should derive from the workload; it is computed
// from the WORKLOAD tables below, never maintained separately.

import { parseArgs } from 'node:util';
import { diag, DiagConsoleLogger, DiagLogLevel, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OTLPTraceExporter as TraceJson } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as TraceProto } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPLogExporter as LogsJson } from '@opentelemetry/exporter-logs-otlp-http';
import { OTLPLogExporter as LogsProto } from '@opentelemetry/exporter-logs-otlp-proto';
import {
  OTLPMetricExporter as MetricsJson,
  AggregationTemporalityPreference,
} from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as MetricsProto } from '@opentelemetry/exporter-metrics-otlp-proto';

// ---------------------------------------------------------------- arguments
function usage(msg) {
  if (msg) process.stderr.write(`send_genai: ${msg}\n`);
  process.stderr.write(
    'usage: node send_genai.mjs --endpoint http://127.0.0.1:PORT --protocol json|proto ' +
      "--signal traces|logs|metrics [--header 'Name=Value']... [--token TOKEN] [--service NAME] " +
      '[--temporality delta|cumulative]\n',
  );
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      endpoint: { type: 'string' },
      protocol: { type: 'string' },
      signal: { type: 'string' },
      header: { type: 'string', multiple: true, default: [] },
      token: { type: 'string' },
      service: { type: 'string', default: 'chatbot' },
      temporality: { type: 'string', default: 'delta' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
} catch (e) {
  usage(e.message);
}
if (args.help) usage();
if (!args.endpoint) usage('--endpoint is required');
if (!['json', 'proto'].includes(args.protocol)) usage('--protocol must be json or proto');
if (!['traces', 'logs', 'metrics'].includes(args.signal)) usage('--signal must be traces, logs or metrics');
if (!['delta', 'cumulative'].includes(args.temporality)) usage('--temporality must be delta or cumulative');
if (!/^https?:\/\/[^/]+/.test(args.endpoint)) usage('--endpoint must be an http:// or https:// URL');
const HEADERS = {};
for (const h of args.header) {
  const eq = h.indexOf('=');
  if (eq <= 0) usage(`--header must be Name=Value, got ${JSON.stringify(h)}`);
  HEADERS[h.slice(0, eq).trim()] = h.slice(eq + 1);
}
if (args.token) HEADERS.Authorization = `Bearer ${args.token}`;

const ENDPOINT = args.endpoint.replace(/\/+$/, '');
const TIMEOUT_MS = 5000;
diag.setLogger(new DiagConsoleLogger(), DiagLogLevel.WARN); // diag goes to console.warn/error -> stderr

function exporterOptions(signal) {
  return { url: `${ENDPOINT}/v1/${signal}`, timeoutMillis: TIMEOUT_MS, headers: { ...HEADERS } };
}

// Wrap an SDK exporter so every export() result is recorded (the processors
// only log failures via diag; we need them for the exit status).
const exportResults = [];
function recording(exporter) {
  return new Proxy(exporter, {
    get(target, prop) {
      if (prop === 'export') {
        return (items, cb) =>
          target.export(items, (result) => {
            exportResults.push(result);
            cb(result);
          });
      }
      const v = Reflect.get(target, prop, target);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

const resource = resourceFromAttributes({ 'service.name': args.service });

// ---------------------------------------------------------------- workload
// Times: all spans lie inside the last hour; HrTime tuples keep durations exact.
const NOW_S = Math.floor(Date.now() / 1000);
const BASE_S = NOW_S - 30 * 60; // 30 minutes ago
const hr = (offsetMs) => {
  const totalMs = BASE_S * 1000 + offsetMs;
  return [Math.floor(totalMs / 1000), (totalMs % 1000) * 1e6];
};

// Each entry: name, kind, attributes, duration_s, status ('ok'|'error'|'unset'), events.
const SPANS = [
  ...[1, 2, 3].map((i) => ({
    name: 'chat gpt-4o',
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.response.id': `resp-${i}`,
      'gen_ai.usage.input_tokens': 100 * i,
      'gen_ai.usage.output_tokens': 10 * i,
    },
    duration_s: [0.5, 1, 2][i - 1],
    status: 'unset',
    events:
      i === 1
        ? [
            {
              name: 'gen_ai.evaluation.result',
              attributes: {
                'gen_ai.evaluation.name': 'relevance',
                'gen_ai.evaluation.score.value': 0.8,
                'gen_ai.evaluation.score.label': 'relevant',
              },
            },
          ]
        : [],
  })),
  {
    name: 'chat gpt-4o',
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
      'gen_ai.usage.input_tokens': 50,
      'gen_ai.usage.output_tokens': 5,
      'error.type': 'timeout',
    },
    duration_s: 1,
    status: 'error',
    statusMessage: 'request timed out',
    events: [],
  },
  {
    name: 'chat gpt-4o',
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o',
    },
    duration_s: 0.25,
    status: 'error',
    events: [],
  },
  {
    // deprecated (pre-1.37 semconv) attribute names
    name: 'chat gpt-4o-mini',
    kind: SpanKind.CLIENT,
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.prompt_tokens': 40,
      'gen_ai.usage.completion_tokens': 4,
    },
    duration_s: 0.75,
    status: 'unset',
    events: [],
  },
  // not GenAI spans: no gen_ai.operation.name -> must be ignored
  {
    name: 'GET /health',
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'url.path': '/health', 'http.response.status_code': 200 },
    duration_s: 0.01,
    status: 'unset',
    events: [],
  },
  {
    name: 'GET /health',
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'url.path': '/health',
      'http.response.status_code': 503,
      'error.type': '503',
    },
    duration_s: 0.02,
    status: 'error',
    events: [],
  },
];

const EVAL_LOGS = [
  { name: 'relevance', score: 0.9, label: 'relevant', response_id: 'resp-1' },
  { name: 'relevance', score: 0.3, label: 'irrelevant', response_id: 'resp-2' },
  { name: 'faithfulness', score: 0.75, label: null, response_id: 'resp-3' },
  { name: 'toxicity', score: null, label: 'safe', response_id: null },
];
const PLAIN_LOGS = [{ body: 'hello', severity: SeverityNumber.INFO, severityText: 'INFO' }];

const METRIC_ATTRS = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
};
const HISTOGRAMS = [
  {
    name: 'gen_ai.server.time_to_first_token',
    description: 'Time to generate first token for successful responses',
    unit: 's',
    boundaries: [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    values: [0.05, 0.2, 0.2, 1.5],
  },
  {
    name: 'gen_ai.server.time_per_output_token',
    description: 'Time per output token generated after the first token for successful responses',
    unit: 's',
    boundaries: [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5],
    values: [0.02, 0.06],
  },
];

// ---------------------------------------------------------------- expectations
const round = (x) => Math.round(x * 1e9) / 1e9;
const inc = (obj, key, by = 1) => {
  obj[key] = round((obj[key] ?? 0) + by);
};

function expectTraces() {
  const genai = SPANS.filter((s) => 'gen_ai.operation.name' in s.attributes);
  const e = {
    spans_total: SPANS.length,
    genai_spans: genai.length,
    ignored_spans: SPANS.length - genai.length,
    counts_by_semconv_version: {}, // "current" (gen_ai.provider.name, input/output_tokens) vs "deprecated" (gen_ai.system, prompt/completion_tokens)
    requests: {}, // key "operation|provider|model" -> count
    calls_by_model: {}, // gen_ai.request.model (the exporter's "version") -> count
    input_tokens: {}, // model -> sum
    output_tokens: {},
    input_tokens_total: 0,
    output_tokens_total: 0,
    duration_seconds: {}, // model -> {count, sum}
    duration_seconds_sum: 0,
    errors_total: 0,
    error_reasons: {}, // error.type (or "_OTHER" when status ERROR without error.type) -> count
    error_reasons_by_model: {}, // model -> {reason -> count}
    evaluations: [], // from span events
  };
  for (const s of genai) {
    const a = s.attributes;
    const deprecated = !('gen_ai.provider.name' in a) && 'gen_ai.system' in a;
    inc(e.counts_by_semconv_version, deprecated ? 'deprecated' : 'current');
    const provider = a['gen_ai.provider.name'] ?? a['gen_ai.system'];
    const model = a['gen_ai.request.model'];
    inc(e.requests, `${a['gen_ai.operation.name']}|${provider}|${model}`);
    inc(e.calls_by_model, model);
    const inTok = a['gen_ai.usage.input_tokens'] ?? a['gen_ai.usage.prompt_tokens'];
    const outTok = a['gen_ai.usage.output_tokens'] ?? a['gen_ai.usage.completion_tokens'];
    if (inTok !== undefined) {
      inc(e.input_tokens, model, inTok);
      e.input_tokens_total += inTok;
    }
    if (outTok !== undefined) {
      inc(e.output_tokens, model, outTok);
      e.output_tokens_total += outTok;
    }
    const d = (e.duration_seconds[model] ??= { count: 0, sum: 0 });
    d.count += 1;
    d.sum = round(d.sum + s.duration_s);
    e.duration_seconds_sum = round(e.duration_seconds_sum + s.duration_s);
    if (s.status === 'error' || 'error.type' in a) {
      e.errors_total += 1;
      inc(e.error_reasons, a['error.type'] ?? '_OTHER');
      inc((e.error_reasons_by_model[model] ??= {}), a['error.type'] ?? '_OTHER');
    }
    for (const ev of s.events) {
      if (ev.name !== 'gen_ai.evaluation.result') continue;
      e.evaluations.push({
        name: ev.attributes['gen_ai.evaluation.name'],
        score: ev.attributes['gen_ai.evaluation.score.value'] ?? null,
        label: ev.attributes['gen_ai.evaluation.score.label'] ?? null,
        response_id: a['gen_ai.response.id'] ?? null,
        model,
      });
    }
  }
  return e;
}

function expectLogs() {
  const e = {
    records_total: EVAL_LOGS.length + PLAIN_LOGS.length,
    evaluation_records: EVAL_LOGS.length,
    ignored_records: PLAIN_LOGS.length,
    evaluations: EVAL_LOGS.map((l) => ({ ...l })),
    count_by_name: {},
    score_by_name: {}, // name -> {count, sum} over records that carry a score
    count_by_name_label: {}, // "name|label" over records that carry a label
  };
  for (const l of EVAL_LOGS) {
    inc(e.count_by_name, l.name);
    if (l.score !== null) {
      const s = (e.score_by_name[l.name] ??= { count: 0, sum: 0 });
      s.count += 1;
      s.sum = round(s.sum + l.score);
    }
    if (l.label !== null) inc(e.count_by_name_label, `${l.name}|${l.label}`);
  }
  return e;
}

function bucketCounts(boundaries, values) {
  // OTLP explicit buckets: bucket i holds (boundaries[i-1], boundaries[i]]; last is (b[n-1], +Inf)
  const counts = new Array(boundaries.length + 1).fill(0);
  for (const v of values) {
    let i = boundaries.findIndex((b) => v <= b);
    if (i < 0) i = boundaries.length;
    counts[i] += 1;
  }
  return counts;
}

function expectMetrics() {
  const e = { temporality: args.temporality, attributes: METRIC_ATTRS, histograms: {} };
  for (const h of HISTOGRAMS) {
    e.histograms[h.name] = {
      unit: h.unit,
      count: h.values.length,
      sum: round(h.values.reduce((a, b) => a + b, 0)),
      min: Math.min(...h.values),
      max: Math.max(...h.values),
      explicit_bounds: h.boundaries,
      bucket_counts: bucketCounts(h.boundaries, h.values),
    };
  }
  return e;
}

// ---------------------------------------------------------------- senders
// Deterministic ids make the captured bodies stable apart from timestamps.
class CountingIdGenerator {
  #n = 0;
  generateTraceId() {
    this.#n += 1;
    return (0x0a1e0000 + this.#n).toString(16).padStart(32, '0');
  }
  generateSpanId() {
    this.#n += 1;
    return (0x5a000000 + this.#n).toString(16).padStart(16, '0');
  }
}

async function sendTraces() {
  const Exporter = args.protocol === 'json' ? TraceJson : TraceProto;
  const exporter = recording(new Exporter(exporterOptions('traces')));
  const provider = new BasicTracerProvider({
    resource,
    idGenerator: new CountingIdGenerator(),
    spanProcessors: [
      new BatchSpanProcessor(exporter, {
        maxExportBatchSize: 512,
        maxQueueSize: 2048,
        scheduledDelayMillis: 60_000, // only our explicit forceFlush exports
        exportTimeoutMillis: TIMEOUT_MS,
      }),
    ],
  });
  const tracer = provider.getTracer('ai-quality-exporter-otlp-client', '1.0.0');
  let offsetMs = 0;
  for (const s of SPANS) {
    const durMs = Math.round(s.duration_s * 1000);
    const span = tracer.startSpan(s.name, { kind: s.kind, attributes: s.attributes, startTime: hr(offsetMs) });
    for (const ev of s.events) span.addEvent(ev.name, ev.attributes, hr(offsetMs + Math.floor(durMs / 2)));
    if (s.status === 'error') span.setStatus({ code: SpanStatusCode.ERROR, message: s.statusMessage });
    span.end(hr(offsetMs + durMs));
    offsetMs += durMs + 1000;
  }
  await provider.forceFlush();
  await provider.shutdown();
}

async function sendLogs() {
  const Exporter = args.protocol === 'json' ? LogsJson : LogsProto;
  const exporter = recording(new Exporter(exporterOptions('logs')));
  const provider = new LoggerProvider({
    resource,
    processors: [
      // sdk-logs 0.2xx: options object carries the exporter
      new BatchLogRecordProcessor({
        exporter,
        maxExportBatchSize: 512,
        scheduledDelayMillis: 60_000,
        exportTimeoutMillis: TIMEOUT_MS,
      }),
    ],
  });
  const logger = provider.getLogger('ai-quality-exporter-otlp-client', '1.0.0');
  let offsetMs = 0;
  for (const l of EVAL_LOGS) {
    const attributes = { 'gen_ai.evaluation.name': l.name };
    if (l.score !== null) attributes['gen_ai.evaluation.score.value'] = l.score;
    if (l.label !== null) attributes['gen_ai.evaluation.score.label'] = l.label;
    if (l.response_id !== null) attributes['gen_ai.response.id'] = l.response_id;
    logger.emit({
      eventName: 'gen_ai.evaluation.result', // api-logs >= 0.201 supports LogRecord.eventName
      severityNumber: SeverityNumber.INFO,
      severityText: 'INFO',
      timestamp: hr(offsetMs),
      attributes,
    });
    offsetMs += 1000;
  }
  for (const p of PLAIN_LOGS) {
    logger.emit({ body: p.body, severityNumber: p.severity, severityText: p.severityText, timestamp: hr(offsetMs) });
    offsetMs += 1000;
  }
  await provider.forceFlush();
  await provider.shutdown();
}

// A pull-style reader: collect() once and hand the result to the exporter
// ourselves, so exactly one export request is made.
class ManualReader extends MetricReader {
  constructor(exporter) {
    super({
      aggregationTemporalitySelector: (t) => exporter.selectAggregationTemporality(t),
      aggregationSelector: exporter.selectAggregation ? (t) => exporter.selectAggregation(t) : undefined,
    });
  }
  async onForceFlush() {}
  async onShutdown() {}
}

async function sendMetrics() {
  const Exporter = args.protocol === 'json' ? MetricsJson : MetricsProto;
  const exporter = new Exporter({
    ...exporterOptions('metrics'),
    temporalityPreference:
      args.temporality === 'delta'
        ? AggregationTemporalityPreference.DELTA
        : AggregationTemporalityPreference.CUMULATIVE,
  });
  const reader = new ManualReader(exporter);
  const provider = new MeterProvider({ resource, readers: [reader] });
  const meter = provider.getMeter('ai-quality-exporter-otlp-client', '1.0.0');
  for (const h of HISTOGRAMS) {
    const inst = meter.createHistogram(h.name, {
      description: h.description,
      unit: h.unit,
      advice: { explicitBucketBoundaries: h.boundaries },
    });
    for (const v of h.values) inst.record(v, METRIC_ATTRS);
  }
  const { resourceMetrics, errors } = await reader.collect({ timeoutMillis: TIMEOUT_MS });
  if (errors.length) for (const err of errors) process.stderr.write(`send_genai: collect error: ${err}\n`);
  const result = await new Promise((resolve) => exporter.export(resourceMetrics, resolve));
  exportResults.push(result);
  await provider.shutdown(); // ManualReader.onShutdown does not export
  await exporter.shutdown();
}

// ---------------------------------------------------------------- main
const senders = { traces: sendTraces, logs: sendLogs, metrics: sendMetrics };
const expectations = { traces: expectTraces, logs: expectLogs, metrics: expectMetrics };
let sendError = null;
try {
  await senders[args.signal]();
} catch (e) {
  sendError = e; // e.g. BatchSpanProcessor.forceFlush rejects when the export failed
}
const expected = expectations[args.signal]();

const failures = exportResults.filter((r) => r.code !== 0 /* ExportResultCode.SUCCESS */);
const ok = sendError === null && exportResults.length > 0 && failures.length === 0;
process.stdout.write(
  JSON.stringify({
    signal: args.signal,
    protocol: args.protocol,
    service: args.service,
    url: `${ENDPOINT}/v1/${args.signal}`,
    export_calls: exportResults.length,
    ok,
    expected,
  }) + '\n',
);
if (!ok) {
  if (sendError) process.stderr.write(`send_genai: ${sendError?.stack ?? sendError}\n`);
  else if (exportResults.length === 0) process.stderr.write('send_genai: no export was attempted\n');
  for (const f of failures) process.stderr.write(`send_genai: export failed: ${f.error?.message ?? f.error ?? 'unknown error'}\n`);
  process.exit(1);
}
