/**
 * Static checks of everything under deploy/ (there is no Docker engine or cluster on the build
 * machine): the Dockerfile, both compose files, the Prometheus/Alertmanager/OTel/Grafana
 * configuration, the alert rules (through promtool) and the Kubernetes manifests — against
 * spec/operations.md §2, §4–§9 and against what the code actually exposes and reads.
 *
 *   cd /work/main && node --conditions=source --import tsx --test deploy/deploy.int.test.ts
 *
 * Needs `promtool` (Prometheus 2.x) on PATH or in PROMTOOL: without it the promtool tests FAIL
 * (CI installs it). `kubectl` is optional: when present the overlay is also rendered with
 * `kubectl kustomize`.
 *
 * Metric names: dashboards and alerts may only use (a) metrics the code registers, read
 * statically from every `new Counter|Gauge|Histogram|Summary({ name: '…' })` under
 * packages/*\/src and services/*\/src (plus the versioned cache's computed
 * `<metricPrefix>_<suffix>_total` counters), (b) `up`, and (c) the RabbitMQ plugin series listed
 * in EXTERNAL_METRICS. The static reading is itself cross-checked against /actuator/prometheus of
 * services booted in-process (embedded PGlite + in-process broker), so a metric the extractor
 * misses or invents fails a test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON documents are untyped by nature
type Any = any;

const DEPLOY = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(DEPLOY, '..');
const at = (...p: string[]) => join(DEPLOY, ...p);
const read = (path: string) => readFileSync(path, 'utf8');

// ------------------------------------------------------------------------------------------
// The contract (operations.md)
// ------------------------------------------------------------------------------------------

interface SpecService {
  name: string;
  short: string;
  port: number;
}
/** §1.1 / spec README: the six services and their ports. */
const SERVICES: readonly SpecService[] = [
  { name: 'order-service', short: 'order', port: 8081 },
  { name: 'inventory-service', short: 'inventory', port: 8082 },
  { name: 'payment-service', short: 'payment', port: 8083 },
  { name: 'auth-service', short: 'auth', port: 8084 },
  { name: 'catalog-service', short: 'catalog', port: 8085 },
  { name: 'notification-service', short: 'notification', port: 8086 },
];
/** §5: the scrape job names, exactly. */
const SPEC_JOBS = [
  'prometheus',
  'inventory-service',
  'order-service',
  'payment-service',
  'auth-service',
  'catalog-service',
  'notification-service',
];
/** Series the platform does not register itself: Prometheus' own `up`, RabbitMQ's plugin (per-object endpoint). */
const EXTERNAL_METRICS: Record<string, readonly string[]> = {
  up: ['job', 'instance'],
  rabbitmq_queue_messages_ready: ['vhost', 'queue', 'job', 'instance'],
  rabbitmq_queue_messages_unacked: ['vhost', 'queue', 'job', 'instance'],
  rabbitmq_queue_messages: ['vhost', 'queue', 'job', 'instance'],
  rabbitmq_queue_consumers: ['vhost', 'queue', 'job', 'instance'],
};

// ------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------

/** One YAML document; `<<` merge keys on (compose anchors), any parse error fails. */
function yamlFile(path: string): Any {
  const docs = yamlDocs(path);
  assert.equal(docs.length, 1, `${rel(path)}: expected one YAML document`);
  return docs[0];
}
function yamlDocs(path: string): Any[] {
  const docs = parseAllDocuments(read(path), { merge: true });
  assert.ok(Array.isArray(docs), `${rel(path)}: empty YAML stream`);
  for (const d of docs) assert.deepEqual(d.errors, [], `${rel(path)}: YAML errors`);
  return docs.map((d) => d.toJS()).filter((d) => d !== null && d !== undefined);
}
const rel = (path: string) => relative(ROOT, path);

function walk(dir: string, pred: (path: string) => boolean): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      out.push(...walk(path, pred));
    } else if (pred(path)) out.push(path);
  }
  return out;
}

/** A compose/k8s environment as a map (compose allows `KEY=value` lists too). */
function envMap(env: unknown): Record<string, string> {
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((e: string) => {
        const i = e.indexOf('=');
        return i === -1 ? [e, ''] : [e.slice(0, i), e.slice(i + 1)];
      }),
    );
  }
  return Object.fromEntries(Object.entries(env as Record<string, unknown>).map(([k, v]) => [k, String(v ?? '')]));
}

/** Compose durations (`20s`, `1m30s`) and memory (`512m`, `1g`) → numbers. */
function seconds(d: string): number {
  let total = 0;
  for (const [, n, u] of String(d).matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(n) * ({ ms: 0.001, s: 1, m: 60, h: 3600 } as Record<string, number>)[u!]!;
  }
  return total;
}
function bytes(m: string | number): number {
  if (typeof m === 'number') return m;
  const match = /^(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?$/i.exec(m.trim());
  assert.ok(match, `unparseable memory ${m}`);
  const unit = (match[2] ?? 'b').toLowerCase()[0]!;
  return Number(match[1]) * ({ b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as Record<string, number>)[unit]!;
}

let promtoolPath: string | undefined;
/** promtool from PROMTOOL or PATH; absent → a failing assertion (never a skip: CI installs it). */
function promtool(args: string[], cwd: string): { status: number | null; output: string } {
  if (!promtoolPath) {
    const candidates = [process.env.PROMTOOL, ...(process.env.PATH ?? '').split(':').map((d) => join(d, 'promtool'))];
    promtoolPath = candidates.find((c): c is string => !!c && existsSync(c));
  }
  assert.ok(
    promtoolPath,
    'promtool is not installed: the alert rules and Prometheus config cannot be checked. Install Prometheus 2.x ' +
      'promtool (Debian: apt-get install prometheus; or set PROMTOOL=/path/to/promtool).',
  );
  const r = spawnSync(promtoolPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

// ------------------------------------------------------------------------------------------
// What the code needs and exposes (read from the sources, so drift fails here)
// ------------------------------------------------------------------------------------------

const sourceFiles = (dir: string) =>
  existsSync(dir) ? walk(dir, (p) => p.endsWith('.ts') && !p.endsWith('.test.ts') && !p.includes('test-support')) : [];

/**
 * Environment a service cannot run without in a container (its defaults point at localhost or
 * at the embedded twin), derived from its app module and config code:
 *   `envPrefix: 'X'` (a database)          → X_DB_URL, X_DB_USER, X_DB_PASSWORD
 *   `messaging: {` (broker, /admin/dlq)     → RABBITMQ_HOST/PORT/USER/PASSWORD, AUTH_JWKS_URI
 *   readBearerConfig / createBearerVerifier → AUTH_JWKS_URI
 *   readCacheConnectionConfig               → REDIS_HOST, REDIS_PORT
 *   readHttpUrl(env, 'X')                   → X (CATALOG_SERVICE_URL, ORDER_SERVICE_URL)
 * plus, for every service: SERVICE, SERVER_PORT, SHUTDOWN_DRAIN_DELAY_MS, OTEL_EXPORTER_OTLP_ENDPOINT.
 */
function requiredEnv(short: string): Set<string> {
  const files = sourceFiles(join(ROOT, 'services', short, 'src'));
  assert.ok(files.length > 0, `services/${short}/src has no sources`);
  const code = files.map(read).join('\n');
  const need = new Set(['SERVICE', 'SERVER_PORT', 'SHUTDOWN_DRAIN_DELAY_MS', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
  for (const [, prefix] of code.matchAll(/envPrefix:\s*'([A-Z]+)'/g)) {
    for (const s of ['_DB_URL', '_DB_USER', '_DB_PASSWORD']) need.add(`${prefix}${s}`);
  }
  if (/\bmessaging:\s*\{/.test(code)) {
    for (const v of ['RABBITMQ_HOST', 'RABBITMQ_PORT', 'RABBITMQ_USER', 'RABBITMQ_PASSWORD', 'AUTH_JWKS_URI'])
      need.add(v);
  }
  if (/readBearerConfig|createBearerVerifierFromConfig/.test(code)) need.add('AUTH_JWKS_URI');
  if (/readCacheConnectionConfig/.test(code)) for (const v of ['REDIS_HOST', 'REDIS_PORT']) need.add(v);
  for (const [, name] of code.matchAll(/readHttpUrl\(\s*env\s*,\s*'([A-Z_]+)'/g)) need.add(name!);
  return need;
}

interface MetricDef {
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  labels: string[];
  owner: string; // 'platform' or a service short name
}

/** From `(` at `open`, the index of its matching `)`, skipping string literals. */
function matchParen(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    const c = src[i];
    if (c === "'" || c === '"' || c === '`') {
      for (i++; i < src.length && src[i] !== c; i++) if (src[i] === '\\') i++;
    } else if (c === '(') depth++;
    else if (c === ')' && --depth === 0) return i;
  }
  return -1;
}

/** Every prom-client metric registered by the platform and the services, read from the sources. */
function staticMetricCatalogue(): Map<string, MetricDef> {
  const families = new Map<string, MetricDef>();
  const add = (name: string, def: MetricDef) => {
    const prev = families.get(name);
    if (prev) assert.equal(prev.type, def.type, `${name} registered as ${prev.type} and ${def.type}`);
    families.set(name, prev ? { ...def, labels: [...new Set([...prev.labels, ...def.labels])] } : def);
  };
  const roots: [string, string][] = [
    ['platform', join(ROOT, 'packages/platform/src')],
    ...readdirSync(join(ROOT, 'services')).map((s): [string, string] => [s, join(ROOT, 'services', s, 'src')]),
  ];
  for (const [owner, dir] of roots) {
    for (const file of sourceFiles(dir)) {
      const src = read(file);
      for (const m of src.matchAll(/new (Counter|Gauge|Histogram|Summary)\s*\(/g)) {
        const end = matchParen(src, m.index! + m[0].length - 1);
        const args = src.slice(m.index!, end);
        const name = /\bname:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/.exec(args)?.[1];
        if (!name) continue; // computed name (the cache counters below)
        const labels = /labelNames:\s*\[([^\]]*)\]/.exec(args)?.[1];
        add(name, {
          type: m[1]!.toLowerCase() as MetricDef['type'],
          labels: labels ? [...labels.matchAll(/'([^']+)'/g)].map((l) => l[1]!) : [],
          owner,
        });
      }
    }
  }
  // The versioned cache registers `${prefix}_${suffix}_total` for each counter('<suffix>', …).
  const cacheSrc = read(join(ROOT, 'packages/platform/src/cache/versioned-cache.ts'));
  assert.ok(
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal source text being looked for
    cacheSrc.includes('`${prefix}_${suffix}_total`'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: quoted source text
    'versioned-cache.ts no longer names its counters `${prefix}_${suffix}_total`: update this extractor',
  );
  const suffixes = [...cacheSrc.matchAll(/counter\(\s*'([a-z_]+)'/g)].map((m) => m[1]!);
  assert.ok(suffixes.length > 0, 'no cache counter suffixes found in versioned-cache.ts');
  for (const s of readdirSync(join(ROOT, 'services'))) {
    for (const file of sourceFiles(join(ROOT, 'services', s, 'src'))) {
      for (const [, prefix] of read(file).matchAll(/metricPrefix:\s*'([a-z_]+)'/g)) {
        for (const suffix of suffixes) add(`${prefix}_${suffix}_total`, { type: 'counter', labels: [], owner: s });
      }
    }
  }
  return families;
}

/** Series name → allowed label names, for every series the families above expose, plus externals. */
function seriesCatalogue(families: Map<string, MetricDef>): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  const common = ['application', 'job', 'instance']; // default label + Prometheus target labels
  for (const [name, def] of families) {
    const labels = [...def.labels, ...common];
    if (def.type === 'histogram') {
      series.set(`${name}_bucket`, new Set([...labels, 'le']));
      series.set(`${name}_sum`, new Set(labels));
      series.set(`${name}_count`, new Set(labels));
    } else if (def.type === 'summary') {
      series.set(name, new Set([...labels, 'quantile']));
      series.set(`${name}_sum`, new Set(labels));
      series.set(`${name}_count`, new Set(labels));
    } else series.set(name, new Set(labels));
  }
  for (const [name, labels] of Object.entries(EXTERNAL_METRICS)) series.set(name, new Set(labels));
  return series;
}

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/** The metric selectors of a PromQL expression: metric name + the label names it matches on. */
function selectors(expr: string): { metric: string; labels: string[] }[] {
  let s = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""'); // string literals
  s = s.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' '); // label lists
  s = s.replace(/\[[^\]]*\]/g, ' '); // ranges and subqueries
  s = s.replace(/\boffset\s+\S+/g, ' ');
  const out: { metric: string; labels: string[] }[] = [];
  const re = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const start = m.index;
    if (start > 0 && /[a-zA-Z0-9_.]/.test(s[start - 1]!)) continue; // inside a number like 1e3
    const after = s.slice(re.lastIndex).trimStart();
    if (!m[2] && after.startsWith('(')) continue; // function or aggregation
    if (PROMQL_KEYWORDS.has(m[1]!.toLowerCase())) continue;
    const labels = m[2] ? [...m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!) : [];
    out.push({ metric: m[1]!, labels });
  }
  return out;
}

/** Failures of `expr` against the catalogue: unknown metrics, or labels the metric does not carry. */
function unknownSeries(expr: string, catalogue: Map<string, Set<string>>): string[] {
  const problems: string[] = [];
  const found = selectors(expr);
  if (found.length === 0) problems.push(`no metric in "${expr}"`);
  for (const { metric, labels } of found) {
    const allowed = catalogue.get(metric);
    if (!allowed) {
      problems.push(`unknown metric ${metric}`);
      continue;
    }
    for (const l of labels) if (!allowed.has(l)) problems.push(`${metric} has no label "${l}"`);
  }
  return problems;
}

/** `promtool check rules` on a throwaway recording-rule file: every expression must parse. */
function assertPromqlParses(exprs: { where: string; expr: string }[]) {
  const dir = mkdtempSync(join(tmpdir(), 'deploy-promql-'));
  try {
    const rules = {
      groups: [{ name: 'syntax', rules: exprs.map((e, i) => ({ record: `syntax:check:${i}`, expr: e.expr })) }],
    };
    writeFileSync(join(dir, 'rules.json'), JSON.stringify(rules)); // JSON is YAML
    const r = promtool(['check', 'rules', 'rules.json'], dir);
    assert.equal(
      r.status,
      0,
      `a query does not parse:\n${r.output}\n${exprs.map((e) => `${e.where}: ${e.expr}`).join('\n')}`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a `node -e` one-liner with env against a throwaway HTTP server answering `status`. */
async function runHealthcheck(script: string, status: number, env: (port: number) => Record<string, string>) {
  let path = '';
  const server = createServer((req, res) => {
    path = req.url ?? '';
    res.statusCode = req.url === '/actuator/health/readiness' ? status : 404;
    res.end('{}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  try {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env(port) },
      stdio: 'ignore',
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    return { code, path };
  } finally {
    server.close();
  }
}

// ------------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------------

describe('metric catalogue (what dashboards and alerts may reference)', () => {
  test('the PromQL selector reader finds metric names and matcher labels, and nothing else', () => {
    assert.deepEqual(
      selectors('histogram_quantile(0.95, sum by (le, application) (rate(x_bucket{application=~"a|b",le!="1"}[5m])))'),
      [{ metric: 'x_bucket', labels: ['application', 'le'] }],
    );
    assert.deepEqual(
      selectors(
        'label_replace(max by (queue) (q{queue=~".*\\\\.dlq"}), "service", "$1", "queue", "(.*)") > 0 and on (queue) up == 1',
      ),
      [
        { metric: 'q', labels: ['queue'] },
        { metric: 'up', labels: [] },
      ],
    );
    assert.deepEqual(selectors('sum(rate(a_total[1m])) / (sum(rate(b_total[1m])) + 1e3) offset 5m'), [
      { metric: 'a_total', labels: [] },
      { metric: 'b_total', labels: [] },
    ]);
    const cat = new Map([['a_total', new Set(['queue'])]]);
    assert.deepEqual(unknownSeries('rate(a_total{outcome="x"}[5m]) + rate(zzz[5m])', cat), [
      'a_total has no label "outcome"',
      'unknown metric zzz',
    ]);
  });

  test('the static catalogue holds the spec metrics (§4.2, §4.3, recommended §4.3) with their labels', () => {
    const families = staticMetricCatalogue();
    const http = families.get('http_server_requests_seconds');
    assert.equal(
      http?.type,
      'histogram',
      'http_server_requests_seconds must be a histogram (the p95 panels need _bucket)',
    );
    for (const l of ['method', 'uri', 'status', 'outcome', 'exception', 'error']) assert.ok(http.labels.includes(l), l);
    for (const c of ['hits', 'misses', 'fallback', 'writes', 'evictions']) {
      assert.equal(
        families.get(`inventory_stock_cache_${c}_total`)?.type,
        'counter',
        `inventory_stock_cache_${c}_total`,
      );
    }
    assert.deepEqual(families.get('messaging_consumed_total')?.labels.sort(), ['outcome', 'queue']);
    for (const g of ['outbox_pending_events', 'outbox_oldest_pending_age_seconds'])
      assert.equal(families.get(g)?.type, 'gauge', g);
    for (const c of ['messaging_retry_total', 'messaging_dlq_published_total', 'outbox_publish_failures_total']) {
      assert.equal(families.get(c)?.type, 'counter', c);
    }
  });

  test('the static catalogue matches /actuator/prometheus of services booted in-process (inventory, payment)', async () => {
    const families = staticMetricCatalogue();
    const { createService } = await import('@ecom/platform');
    const modules = {
      inventory: async () => (await import('@ecom/inventory-service')).createInventoryService(),
      payment: async () => (await import('@ecom/payment-service')).createPaymentService(),
    };
    for (const [short, load] of Object.entries(modules)) {
      // Embedded everything: nothing in env points at a real server.
      const service = await createService((await load()) as never, { env: { LOG_LEVEL: 'silent' } });
      try {
        const res = await service.app.inject({ method: 'GET', url: '/actuator/prometheus' });
        assert.equal(res.statusCode, 200);
        const exposed = new Map(
          [...res.body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!] as [string, string]),
        );
        const defaults = (n: string) => n.startsWith('process_') || n.startsWith('nodejs_'); // collectDefaultMetrics
        const expected = [...families].filter(([, d]) => d.owner === 'platform' || d.owner === short);
        for (const [name, def] of expected) {
          assert.equal(
            exposed.get(name),
            def.type,
            `${short}-service: static ${def.type} ${name} is not exposed as such`,
          );
        }
        for (const [name, type] of exposed) {
          if (defaults(name)) continue;
          assert.equal(
            families.get(name)?.type,
            type,
            `${short}-service exposes ${type} ${name}, unknown to the extractor`,
          );
        }
        assert.match(res.body, new RegExp(`application="${short}-service"`), 'every series carries application (§4.1)');
      } finally {
        await service.stop();
      }
    }
  });
});

describe('Dockerfile and .dockerignore', () => {
  const dockerfile = read(at('Dockerfile'));
  /** Instructions with line continuations joined and comments dropped. */
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const stages: { from: string; name: string; body: string[] }[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ from: from[1]!, name: from[2] ?? '', body: [] });
    else stages.at(-1)?.body.push(line);
  }
  const args = Object.fromEntries(
    instructions.flatMap((l) => {
      const m = /^ARG\s+([A-Za-z_]+)=(\S+)/.exec(l);
      return m ? [[m[1]!, m[2]!.replace(/^"|"$/g, '')]] : [];
    }),
  );
  const base = (from: string) => from.replace(/^\$\{(\w+)\}$/, (_, a) => args[a] ?? from);
  const runtime = stages.at(-1)!;

  test('multi-stage: deps (npm ci) → build (npm run build) → runtime, all on node:20-bookworm-slim', () => {
    assert.deepEqual(
      stages.map((s) => s.name),
      ['deps', 'build', 'runtime'],
    );
    assert.equal(base(stages[0]!.from), 'node:20-bookworm-slim');
    assert.equal(stages[1]!.from, 'deps');
    assert.equal(base(runtime.from), 'node:20-bookworm-slim');
    const deps = stages[0]!.body;
    const ci = deps.findIndex((l) => /^RUN\s+npm ci\b/.test(l));
    const skip = deps.findIndex((l) => /^ENV\s+.*ECOM_SKIP_PGLITE_TEMPLATE=1/.test(l));
    assert.ok(ci >= 0, 'deps stage runs npm ci');
    assert.ok(skip >= 0 && skip < ci, 'ECOM_SKIP_PGLITE_TEMPLATE=1 is set before npm ci');
    assert.ok(
      deps.some((l) => /^COPY\s+package\.json\s+package-lock\.json/.test(l)),
      'npm ci installs from the lock file',
    );
    assert.ok(
      stages[1]!.body.some((l) => /^RUN\s+npm run build\b/.test(l)),
      'build stage runs npm run build',
    );
    assert.ok(
      deps.some((l) => /^RUN .*process\.versions\.node/.test(l)),
      'the base image is checked for Node >= 20.19',
    );
  });

  test('every workspace manifest is copied before npm ci (else npm ci fails against the lock file)', () => {
    const workspaces: string[] = JSON.parse(read(join(ROOT, 'package.json'))).workspaces;
    const dirs = workspaces.flatMap((w) => {
      const parent = w.replace(/\/\*$/, '');
      return readdirSync(join(ROOT, parent))
        .map((d) => `${parent}/${d}`)
        .filter((d) => existsSync(join(ROOT, d, 'package.json')));
    });
    assert.ok(dirs.length >= 8, `found workspaces ${dirs}`);
    for (const d of dirs) {
      assert.ok(
        stages[0]!.body.some((l) => l.startsWith(`COPY ${d}/package.json `)),
        `deploy/Dockerfile: COPY ${d}/package.json is missing from the deps stage`,
      );
    }
  });

  test('runtime: non-root numeric USER, HEALTHCHECK on readiness with node fetch, GIT_COMMIT → env, SERVICE entrypoint', () => {
    const user = runtime.body.filter((l) => /^USER\s/.test(l)).at(-1);
    assert.ok(user, 'runtime stage sets USER');
    const uid = user.split(/\s+/)[1]!.split(':')[0]!;
    assert.match(uid, /^\d+$/, 'USER is numeric (Kubernetes runAsNonRoot can verify it)');
    assert.notEqual(Number(uid), 0, 'USER is not root');
    const hc = runtime.body.find((l) => /^HEALTHCHECK\s/.test(l));
    assert.ok(hc, 'runtime stage has a HEALTHCHECK');
    assert.match(hc, /\/actuator\/health\/readiness/);
    assert.match(hc, /CMD \["node", "-e",/);
    assert.doesNotMatch(hc, /curl|wget/, 'no curl/wget in node:20-bookworm-slim');
    assert.ok(runtime.body.some((l) => /^ARG\s+GIT_COMMIT/.test(l)));
    assert.ok(
      runtime.body.some((l) => /^ENV\s.*GIT_COMMIT=\$\{GIT_COMMIT\}/.test(l)),
      'GIT_COMMIT build arg → env',
    );
    assert.ok(
      runtime.body.some((l) => /^ENV\s.*SERVICE=\$\{SERVICE\}/.test(l)),
      'SERVICE build arg → env default',
    );
    assert.ok(
      runtime.body.some((l) => /^COPY\s+deploy\/docker-entrypoint\.sh\s/.test(l)),
      'the entrypoint script is copied',
    );
    assert.ok(
      runtime.body.some((l) => /^ENTRYPOINT\s+\[/.test(l)),
      'exec-form ENTRYPOINT',
    );
  });

  test('the HEALTHCHECK one-liner exits 0 on readiness 200 and 1 on 503 (SERVER_PORT, else the spec port of SERVICE)', async () => {
    const hc = runtime.body.find((l) => /^HEALTHCHECK\s/.test(l))!;
    const argv = JSON.parse(hc.slice(hc.indexOf('CMD') + 3).trim()) as string[];
    assert.equal(argv[0], 'node');
    const script = argv[2]!;
    const ok = await runHealthcheck(script, 200, (port) => ({ SERVICE: 'catalog', SERVER_PORT: String(port) }));
    assert.deepEqual(ok, { code: 0, path: '/actuator/health/readiness' });
    const down = await runHealthcheck(script, 503, (port) => ({ SERVICE: 'catalog', SERVER_PORT: String(port) }));
    assert.equal(down.code, 1);
    // The port table inside the one-liner matches the spec ports.
    for (const s of SERVICES) assert.match(script, new RegExp(`${s.short}:${s.port}\\b`));
  });

  test('the entrypoint runs services/<SERVICE>/dist/main.js and refuses an unknown or missing SERVICE', () => {
    const script = at('docker-entrypoint.sh');
    const text = read(script);
    assert.match(text, /exec node .*"\$entry"/);
    assert.match(text, /\/app\/services\/\$\{name\}\/dist\/main\.js/);
    const allowed = /case "\$name" in\s*\n\s*([a-z |]+)\)/
      .exec(text)?.[1]
      ?.split('|')
      .map((s) => s.trim());
    const present = readdirSync(join(ROOT, 'services')).filter((d) =>
      existsSync(join(ROOT, 'services', d, 'src/main.ts')),
    );
    assert.deepEqual(allowed?.sort(), present.sort(), 'the entrypoint accepts exactly the services that exist');
    assert.deepEqual(allowed?.sort(), SERVICES.map((s) => s.short).sort());
    for (const [env, code] of [
      [{}, 64],
      [{ SERVICE: 'shipping' }, 64],
      [{ SERVICE: 'catalog-service' }, 70], // valid name; the file is not in this checkout's /app
    ] as const) {
      const r = spawnSync('sh', [script], { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
      assert.equal(r.status, code, `SERVICE=${JSON.stringify(env)}: ${r.stderr}`);
    }
  });

  test('.dockerignore keeps host artefacts out and what the build needs in', () => {
    const lines = read(join(ROOT, '.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    for (const must of ['**/node_modules', '**/dist', '.git'])
      assert.ok(lines.includes(must), `.dockerignore: ${must}`);
    assert.ok(lines.includes('bench') || lines.includes('bench/results'), '.dockerignore: bench/results');
    for (const needed of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.base.json',
      'packages',
      'services',
    ]) {
      assert.ok(!lines.includes(needed) && !lines.includes(`${needed}/`), `.dockerignore must not exclude ${needed}`);
    }
    if (lines.includes('deploy')) {
      assert.ok(lines.includes('!deploy/docker-entrypoint.sh'), 'the entrypoint must stay in the build context');
    }
    // Every path the Dockerfile COPYs from the context exists.
    for (const l of instructions.filter((i) => /^COPY\s/.test(i) && !/--from=/.test(i))) {
      const parts = l
        .split(/\s+/)
        .slice(1)
        .filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) assert.ok(existsSync(join(ROOT, src)), `COPY source ${src} does not exist`);
    }
  });
});

describe('compose.yaml (platform)', () => {
  const compose = yamlFile(at('compose.yaml'));
  const obs = yamlFile(at('compose.observability.yaml'));
  const svc = compose.services as Record<string, Any>;

  test('infrastructure per §2: images, container names, ports, healthchecks, persistence', () => {
    const infra: Record<string, { image: string; container: string; ports: string[] }> = {
      postgres: { image: 'postgres:16', container: 'cloud-postgres', ports: ['55432:5432'] },
      rabbitmq: { image: 'rabbitmq:3.13-management', container: 'cloud-rabbitmq', ports: ['5672:5672', '15672:15672'] },
      redis: { image: 'redis:7-alpine', container: 'cloud-redis', ports: ['6379:6379'] },
    };
    for (const [name, want] of Object.entries(infra)) {
      const s = svc[name];
      assert.ok(s, `service ${name}`);
      assert.equal(s.image, want.image, `${name} image`);
      assert.equal(s.container_name, want.container, `${name} container_name`);
      for (const p of want.ports) assert.ok(s.ports.map(String).includes(p), `${name} publishes ${p}`);
      assert.ok(s.healthcheck?.test, `${name} healthcheck`);
      assert.ok(s.mem_limit || s.deploy?.resources?.limits?.memory, `${name} memory limit`);
    }
    assert.match(JSON.stringify(svc.postgres.healthcheck.test), /pg_isready/);
    assert.match(JSON.stringify(svc.rabbitmq.healthcheck.test), /rabbitmq-diagnostics.*check_running/);
    assert.deepEqual(envMap(svc.postgres.environment), {
      POSTGRES_USER: 'cloud',
      POSTGRES_PASSWORD: 'cloud',
      POSTGRES_DB: 'postgres',
    });
    assert.ok(
      svc.postgres.volumes.some((v: string) => v.startsWith('postgres_data:')),
      'postgres_data volume',
    );
    assert.equal(envMap(svc.rabbitmq.environment).RABBITMQ_DEFAULT_USER, 'cloud');
    assert.equal(envMap(svc.rabbitmq.environment).RABBITMQ_DEFAULT_PASS, 'cloud');
    const redis: string[] = svc.redis.command;
    assert.equal(redis[redis.indexOf('--save') + 1], '', 'redis: no RDB snapshots (--save "")');
    assert.equal(redis[redis.indexOf('--appendonly') + 1], 'no', 'redis: no AOF');
  });

  test('RabbitMQ enables rabbitmq_prometheus (the DLQ alert and Messaging dashboard read it)', () => {
    const mount = svc.rabbitmq.volumes.find((v: string) => v.endsWith(':/etc/rabbitmq/enabled_plugins:ro'));
    assert.ok(mount, 'enabled_plugins mounted');
    const plugins = read(at(mount.split(':')[0]));
    assert.match(plugins, /^\[.*\brabbitmq_prometheus\b.*\]\.\s*$/s);
    assert.match(plugins, /\brabbitmq_management\b/);
  });

  test('the init script creates one database per service, including every database a DB URL names', () => {
    const mount = svc.postgres.volumes.find((v: string) => v.includes('/docker-entrypoint-initdb.d'));
    const dir = at(mount.split(':')[0]);
    const sql = readdirSync(dir)
      .filter((f) => f.endsWith('.sql'))
      .map((f) => read(join(dir, f)))
      .join('\n');
    const created = new Set([...sql.matchAll(/CREATE DATABASE\s+(\w+)/gi)].map((m) => m[1]!));
    for (const db of ['order_db', 'inventory_db', 'payment_db', 'catalog_db', 'notification_db'])
      assert.ok(created.has(db), db);
    for (const s of SERVICES) {
      for (const [k, v] of Object.entries(envMap(svc[s.name]?.environment))) {
        if (k.endsWith('_DB_URL')) assert.ok(created.has(v.split('/').pop()!), `${s.name} ${k}=${v}: not created`);
      }
    }
  });

  for (const s of SERVICES) {
    test(`${s.name}: one image, port, healthcheck, memory limit, graceful stop, every needed variable`, () => {
      const c = svc[s.name];
      assert.ok(c, `compose service ${s.name}`);
      const env = envMap(c.environment);
      assert.equal(c.image, svc['order-service'].image, 'every service runs the one platform image');
      assert.equal(c.build?.dockerfile, 'deploy/Dockerfile');
      assert.ok(existsSync(join(DEPLOY, c.build.context, c.build.dockerfile)), 'build context + dockerfile exist');
      assert.equal(c.container_name, s.name);
      assert.equal(env.SERVICE, s.short);
      assert.equal(env.SERVER_PORT, String(s.port));
      assert.ok(c.ports.map(String).includes(`${s.port}:${s.port}`), `publishes ${s.port}`);
      assert.match(JSON.stringify(c.healthcheck?.test ?? ''), /\/actuator\/health\/readiness/);
      assert.ok(bytes(c.mem_limit ?? c.deploy?.resources?.limits?.memory) >= 128 * 1024 ** 2, 'memory limit');
      const drainMs = Number(env.SHUTDOWN_DRAIN_DELAY_MS);
      const timeoutMs = Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000);
      assert.ok(drainMs > 0, 'SHUTDOWN_DRAIN_DELAY_MS set');
      assert.ok(
        seconds(c.stop_grace_period) * 1000 > drainMs + timeoutMs,
        'stop_grace_period > drain + shutdown timeout',
      );

      for (const name of requiredEnv(s.short)) assert.ok(env[name], `${s.name} needs ${name}`);
      const services = new Set([...Object.keys(svc), ...Object.keys(obs.services)]);
      for (const [k, v] of Object.entries(env)) {
        if (k.endsWith('_DB_URL')) {
          assert.match(
            v,
            /^jdbc:postgresql:\/\/postgres:5432\/[a-z]+_db$/,
            `${k} is a JDBC URL to the compose postgres`,
          );
        }
      }
      if (env.RABBITMQ_HOST) assert.ok(svc[env.RABBITMQ_HOST], `RABBITMQ_HOST ${env.RABBITMQ_HOST} is a service`);
      if (env.REDIS_HOST) assert.ok(svc[env.REDIS_HOST], `REDIS_HOST ${env.REDIS_HOST} is a service`);
      if (env.AUTH_JWKS_URI) assert.equal(env.AUTH_JWKS_URI, 'http://auth-service:8084/.well-known/jwks.json');
      if (env.CATALOG_SERVICE_URL) assert.equal(env.CATALOG_SERVICE_URL, 'http://catalog-service:8085');
      const otel = new URL(env.OTEL_EXPORTER_OTLP_ENDPOINT!);
      assert.equal(otel.pathname, '/v1/traces', 'the OTLP endpoint is the traces URL (§1.1)');
      assert.ok(services.has(otel.hostname), `OTLP host ${otel.hostname} is a compose service`);

      // depends_on: with conditions, on every infrastructure host this service uses.
      const deps = c.depends_on ?? {};
      assert.ok(!Array.isArray(deps), 'depends_on uses the long form (with conditions)');
      const uses = [
        env[Object.keys(env).find((k) => k.endsWith('_DB_URL')) ?? ''] ? 'postgres' : '',
        env.RABBITMQ_HOST ?? '',
        env.REDIS_HOST ?? '',
      ].filter(Boolean);
      for (const u of uses) assert.equal(deps[u]?.condition, 'service_healthy', `${s.name} waits for ${u} healthy`);
      for (const [d, spec] of Object.entries(deps as Record<string, Any>)) {
        assert.ok(['service_healthy', 'service_started', 'service_completed_successfully'].includes(spec.condition), d);
        if (spec.condition === 'service_healthy') assert.ok(svc[d]?.healthcheck, `${d} has a healthcheck`);
      }
    });
  }

  test('the compose healthcheck one-liner exits 0 on readiness 200 and 1 on 503', async () => {
    const argv = svc['catalog-service'].healthcheck.test as string[];
    assert.deepEqual(argv.slice(0, 3), ['CMD', 'node', '-e']);
    const ok = await runHealthcheck(argv[3]!, 200, (port) => ({ SERVER_PORT: String(port) }));
    assert.deepEqual(ok, { code: 0, path: '/actuator/health/readiness' });
    assert.equal((await runHealthcheck(argv[3]!, 503, (port) => ({ SERVER_PORT: String(port) }))).code, 1);
  });

  test('every bind mount of both compose files exists', () => {
    for (const [file, doc] of [
      ['compose.yaml', compose],
      ['compose.observability.yaml', obs],
    ] as const) {
      for (const [name, s] of Object.entries(doc.services as Record<string, Any>)) {
        for (const v of (s.volumes ?? []) as string[]) {
          // `${PROMETHEUS_CONFIG:-prometheus.yml}` → both the default and the host variant must exist.
          const sources = v.includes('${PROMETHEUS_CONFIG:-')
            ? ['prometheus.yml', 'prometheus.host.yml'].map((f) => v.replace(/\$\{PROMETHEUS_CONFIG:-[^}]+\}/, f))
            : [v];
          for (const src of sources.map((x) => x.split(':')[0]!)) {
            if (src.startsWith('.')) assert.ok(existsSync(at(src)), `${file} ${name}: ${src} does not exist`);
          }
        }
      }
    }
  });
});

describe('compose.observability.yaml', () => {
  const compose = yamlFile(at('compose.yaml'));
  const obs = yamlFile(at('compose.observability.yaml'));
  const svc = obs.services as Record<string, Any>;

  test('containers per §2: images, names, ports, memory limits; same project as compose.yaml', () => {
    const want: Record<string, { image: string; container: string; ports: string[] }> = {
      jaeger: {
        image: 'jaegertracing/all-in-one:1.60',
        container: 'cloud-jaeger',
        ports: ['16686:16686', '4317:4317'],
      },
      'otel-collector': {
        image: 'otel/opentelemetry-collector-contrib:0.109.0',
        container: 'cloud-otel-collector',
        ports: ['4318:4318'],
      },
      alertmanager: { image: 'prom/alertmanager:v0.27.0', container: 'cloud-alertmanager', ports: ['9093:9093'] },
      prometheus: { image: 'prom/prometheus:v2.55.1', container: 'cloud-prometheus', ports: ['9090:9090'] },
      grafana: { image: 'grafana/grafana:11.2.2', container: 'cloud-grafana', ports: ['3000:3000'] },
    };
    for (const [name, w] of Object.entries(want)) {
      const s = svc[name];
      assert.ok(s, name);
      assert.equal(s.image, w.image, `${name} image`);
      assert.equal(s.container_name, w.container, `${name} container_name`);
      assert.deepEqual(s.ports.map(String), w.ports, `${name} ports`);
      assert.ok(s.mem_limit || s.deploy?.resources?.limits?.memory, `${name} memory limit`);
    }
    assert.equal(envMap(svc.jaeger.environment).COLLECTOR_OTLP_ENABLED, 'true');
    const g = envMap(svc.grafana.environment);
    assert.equal(g.GF_SECURITY_ADMIN_USER, 'admin');
    assert.equal(g.GF_SECURITY_ADMIN_PASSWORD, 'admin');
    assert.equal(g.GF_USERS_ALLOW_SIGN_UP, 'false');
    assert.equal(obs.name, compose.name, 'one compose project: both files share a network');
    assert.ok(svc.prometheus.extra_hosts.includes('host.docker.internal:host-gateway'));
  });

  test('OTel collector pipeline per §8: otlp (grpc 4317, http 4318) → batch → otlp/jaeger, traces only', () => {
    const mount = svc['otel-collector'].volumes[0].split(':');
    assert.match(svc['otel-collector'].command.join(' '), new RegExp(`--config=${mount[1]}`));
    const c = yamlFile(at(mount[0]));
    assert.deepEqual(c.receivers, {
      otlp: { protocols: { grpc: { endpoint: '0.0.0.0:4317' }, http: { endpoint: '0.0.0.0:4318' } } },
    });
    assert.deepEqual(Object.keys(c.processors), ['batch']);
    assert.deepEqual(c.exporters, { 'otlp/jaeger': { endpoint: 'jaeger:4317', tls: { insecure: true } } });
    assert.deepEqual(c.service.pipelines, {
      traces: { receivers: ['otlp'], processors: ['batch'], exporters: ['otlp/jaeger'] },
    });
  });

  test('Alertmanager per §6: one route to receiver `default` (no integrations), grouping and timings', () => {
    const c = yamlFile(at('alertmanager/alertmanager.yml'));
    assert.deepEqual(c.route, {
      receiver: 'default',
      group_by: ['alertname', 'service'],
      group_wait: '15s',
      group_interval: '30s',
      repeat_interval: '2h',
    });
    assert.deepEqual(c.receivers, [{ name: 'default' }]);
    assert.ok(
      svc.alertmanager.volumes.some((v: string) => v.startsWith('./alertmanager/alertmanager.yml:')),
      'mounted into the alertmanager container',
    );
  });
});

describe('Prometheus configuration (§5)', () => {
  const obs = yamlFile(at('compose.observability.yaml'));
  const compose = yamlFile(at('compose.yaml'));
  const variants = { 'prometheus.yml': 'compose', 'prometheus.host.yml': 'host' } as const;

  for (const [file, kind] of Object.entries(variants)) {
    test(`${file}: globals, rule file, Alertmanager, the exact job names and targets`, () => {
      const c = yamlFile(at('prometheus', file));
      assert.equal(c.global.scrape_interval, '15s');
      assert.equal(c.global.evaluation_interval, '15s');
      assert.deepEqual(c.rule_files, ['alerts.yml']);
      assert.deepEqual(c.alerting.alertmanagers, [{ static_configs: [{ targets: ['alertmanager:9093'] }] }]);
      const jobs = c.scrape_configs.map((j: Any) => j.job_name);
      assert.deepEqual(jobs.slice(0, SPEC_JOBS.length), SPEC_JOBS, 'the jobs of §5, exactly and in order');
      assert.deepEqual(jobs.slice(SPEC_JOBS.length), ['rabbitmq'], 'plus only the RabbitMQ job');
      const byName = Object.fromEntries(c.scrape_configs.map((j: Any) => [j.job_name, j]));
      assert.equal(byName.prometheus.metrics_path, undefined, 'prometheus job: default path');
      assert.deepEqual(byName.prometheus.static_configs, [{ targets: ['prometheus:9090'] }]);
      for (const s of SERVICES) {
        const j = byName[s.name];
        assert.equal(j.metrics_path, '/actuator/prometheus', `${s.name} metrics_path`);
        const host = kind === 'compose' ? s.name : 'host.docker.internal';
        assert.deepEqual(j.static_configs, [{ targets: [`${host}:${s.port}`] }], `${s.name} target`);
        if (kind === 'compose') assert.ok(compose.services[s.name], `${s.name} is a compose service`);
      }
      assert.equal(byName.rabbitmq.metrics_path, '/metrics/per-object');
      assert.deepEqual(byName.rabbitmq.static_configs, [{ targets: ['rabbitmq:15692'] }]);
      assert.ok(compose.services.rabbitmq, 'rabbitmq is a compose service');
    });

    test(`${file}: promtool check config`, () => {
      const r = promtool(['check', 'config', file], at('prometheus'));
      assert.equal(r.status, 0, r.output);
      assert.match(r.output, /SUCCESS: 1 rule files found/);
    });
  }

  test('compose mounts the config (either variant) and alerts.yml next to it', () => {
    const vols: string[] = obs.services.prometheus.volumes;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a compose variable, not a JS placeholder
    const config = './prometheus/${PROMETHEUS_CONFIG:-prometheus.yml}:/etc/prometheus/prometheus.yml:ro';
    assert.ok(vols.includes(config));
    assert.ok(vols.includes('./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'));
    assert.ok(obs.services.prometheus.command.includes('--config.file=/etc/prometheus/prometheus.yml'));
  });
});

describe('alert rules (§6 + new)', () => {
  const rulesFile = at('prometheus/alerts.yml');
  const rules = yamlFile(rulesFile);
  const alerts = new Map<string, Any & { group: string }>();
  for (const g of rules.groups) for (const r of g.rules) if (r.alert) alerts.set(r.alert, { ...r, group: g.name });

  test('promtool check rules', () => {
    const r = promtool(['check', 'rules', 'alerts.yml'], at('prometheus'));
    assert.equal(r.status, 0, r.output);
  });

  test('promtool test rules (alerts.test.yml)', () => {
    const r = promtool(['test', 'rules', 'alerts.test.yml'], at('prometheus'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
  });

  test('the nine original alerts, exactly: group, for, labels, threshold, selector', () => {
    const http = (app: string) => ({
      group: app === 'inventory-service' ? 'inventory-service-alerts' : 'platform-service-alerts',
      for: '5m',
      labels: { severity: 'critical', service: app },
      expr: [`application="${app}"`, 'status=~"5.."', 'http_server_requests_seconds_count', '[5m]', '> 0.2'],
    });
    const spec: Record<string, { group: string; for: string; labels: Record<string, string>; expr: string[] }> = {
      InventoryCacheFallbackSpike: {
        group: 'inventory-service-alerts',
        for: '3m',
        labels: { severity: 'warning', service: 'inventory-service' },
        expr: ['sum(rate(inventory_stock_cache_fallback_total[5m])) > 0'],
      },
      InventoryHttp5xxHigh: http('inventory-service'),
      InventoryCacheHitRatioLow: {
        group: 'inventory-service-alerts',
        for: '10m',
        labels: { severity: 'warning', service: 'inventory-service' },
        expr: ['inventory_stock_cache_hits_total[5m]', 'inventory_stock_cache_misses_total[5m]', '< 0.7', 'and', '> 1'],
      },
      OrderHttp5xxHigh: http('order-service'),
      PaymentHttp5xxHigh: http('payment-service'),
      AuthHttp5xxHigh: http('auth-service'),
      CatalogHttp5xxHigh: http('catalog-service'),
      NotificationHttp5xxHigh: http('notification-service'),
      ServiceScrapeDown: {
        group: 'platform-service-alerts',
        for: '2m',
        labels: { severity: 'critical' },
        expr: ['up{job=~"', '== 0'],
      },
    };
    for (const [name, want] of Object.entries(spec)) {
      const a = alerts.get(name);
      assert.ok(a, `alert ${name} is missing`);
      assert.equal(a.group, want.group, `${name} group`);
      assert.equal(a.for, want.for, `${name} for`);
      assert.deepEqual(a.labels, want.labels, `${name} labels`);
      const expr = a.expr.replace(/\s+/g, ' ');
      for (const piece of want.expr) assert.ok(expr.includes(piece), `${name}: expression lacks ${piece}: ${expr}`);
      assert.ok(a.annotations?.summary && a.annotations?.description, `${name} has summary and description`);
    }
    const jobs = /job=~"([^"]+)"/.exec(alerts.get('ServiceScrapeDown').expr)![1]!.split('|');
    assert.deepEqual(
      jobs.sort(),
      SERVICES.map((s) => s.name).sort(),
      'ServiceScrapeDown covers exactly the six service jobs',
    );
    assert.match(alerts.get('ServiceScrapeDown').annotations.description, /\{\{ \$labels\.job \}\}/, 'names the job');
  });

  test('the new alerts exist: DLQ not empty, outbox age > 60 s, saga timeouts, consumer failure rate', () => {
    const expr = (n: string) => {
      const a = alerts.get(n);
      assert.ok(a, `alert ${n} is missing`);
      assert.ok(
        a.labels?.severity && a.annotations?.summary && a.annotations?.description,
        `${n} severity/annotations`,
      );
      return a.expr.replace(/\s+/g, ' ');
    };
    assert.match(expr('DeadLetterQueueNotEmpty'), /rabbitmq_queue_messages_ready\{queue=~"\.\*\\\\\.dlq"\}.*> 0/);
    assert.match(expr('OutboxOldestPendingTooOld'), /outbox_oldest_pending_age_seconds\) > 60$/);
    assert.match(expr('OrderSagaTimeouts'), /order_saga_completed_total\{outcome="timeout"\}/);
    assert.match(expr('ConsumerFailureRateHigh'), /messaging_consumed_total\{outcome=~"dead_lettered\|poison"\}/);
    // Every DLQ name of the topology matches the alert's regex; no work/retry queue does.
    const topology = read(join(ROOT, 'packages/platform/src/messaging/topology.ts'));
    const dlqs = [...topology.matchAll(/'(q\.[a-z.-]+\.dlq)'/g)].map((m) => m[1]!);
    assert.ok(dlqs.length >= 3, 'the spec DLQs are in topology.ts');
    const re = /^(?:.*\.dlq)$/;
    for (const q of [...dlqs, 'q.order.inventory-result.dlq', 'q.notification.payment-result.dlq']) assert.match(q, re);
    for (const q of ['q.inventory.order-created', 'q.inventory.order-created.retry']) assert.doesNotMatch(q, re);
  });

  test('every alert has a firing and a non-firing case in alerts.test.yml', () => {
    const tests = yamlFile(at('prometheus/alerts.test.yml'));
    assert.deepEqual(tests.rule_files, ['alerts.yml']);
    const fires = new Set<string>();
    const silent = new Set<string>();
    for (const t of tests.tests) {
      for (const c of t.alert_rule_test ?? []) {
        if (!alerts.has(c.alertname)) assert.fail(`alerts.test.yml tests unknown alert ${c.alertname}`);
        (c.exp_alerts?.length ? fires : silent).add(c.alertname);
        for (const e of c.exp_alerts ?? []) {
          assert.ok(e.exp_labels?.severity, `${c.alertname}: expected labels are checked`);
          assert.ok(e.exp_annotations?.summary, `${c.alertname}: expected annotations are checked`);
        }
      }
    }
    for (const name of alerts.keys()) {
      assert.ok(fires.has(name), `${name}: no test case where it fires`);
      assert.ok(silent.has(name), `${name}: no test case where it does not fire`);
    }
  });

  test('alert expressions use only metrics (and labels) the platform, Prometheus or RabbitMQ expose', () => {
    const catalogue = seriesCatalogue(staticMetricCatalogue());
    for (const [name, a] of alerts) assert.deepEqual(unknownSeries(a.expr, catalogue), [], name);
  });

  test('deploy/README.md has a runbook row for every alert', () => {
    const readme = read(at('README.md'));
    for (const name of alerts.keys()) assert.match(readme, new RegExp(`^\\|\\s*\`${name}\`\\s*\\|`, 'm'), name);
  });
});

describe('Grafana provisioning (§7)', () => {
  const obs = yamlFile(at('compose.observability.yaml'));
  const grafana = obs.services.grafana;
  const mountOf = (local: string) => {
    const v = grafana.volumes.find((x: string) => x.startsWith(`${local}:`));
    assert.ok(v, `grafana mounts ${local}`);
    return v.split(':')[1] as string;
  };
  const datasources = yamlFile(at('grafana/provisioning/datasources/datasources.yml')).datasources as Any[];
  const dashDir = at('grafana/dashboards');
  const dashboards = Object.fromEntries(
    readdirSync(dashDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => {
        const d = JSON.parse(read(join(dashDir, f)));
        return [d.uid, d];
      }),
  ) as Record<string, Any>;

  test('datasources: Prometheus (uid prometheus, default) and Jaeger (uid jaeger), read-only', () => {
    assert.equal(mountOf('./grafana/provisioning'), '/etc/grafana/provisioning');
    const byName = Object.fromEntries(datasources.map((d) => [d.name, d]));
    assert.deepEqual(Object.keys(byName).sort(), ['Jaeger', 'Prometheus']);
    assert.deepEqual(byName.Prometheus, {
      name: 'Prometheus',
      uid: 'prometheus',
      type: 'prometheus',
      access: 'proxy',
      url: 'http://prometheus:9090',
      isDefault: true,
      editable: false,
    });
    assert.equal(byName.Jaeger.uid, 'jaeger');
    assert.equal(byName.Jaeger.type, 'jaeger');
    assert.equal(byName.Jaeger.url, 'http://jaeger:16686');
    assert.equal(byName.Jaeger.editable, false);
  });

  test('dashboard provider cloud-platform-dashboards: org 1, folder Cloud Platform, file, editable, deletable, 15 s', () => {
    const { providers } = yamlFile(at('grafana/provisioning/dashboards/dashboards.yml'));
    assert.equal(providers.length, 1);
    const p = providers[0];
    assert.equal(p.name, 'cloud-platform-dashboards');
    assert.equal(p.orgId, 1);
    assert.equal(p.folder, 'Cloud Platform');
    assert.equal(p.type, 'file');
    assert.equal(p.disableDeletion, false);
    assert.equal(p.allowUiUpdates, true);
    assert.equal(p.updateIntervalSeconds, 15);
    assert.equal(p.options.path, mountOf('./grafana/dashboards'), 'the provider reads the mounted dashboards');
  });

  interface PanelSpec {
    title: string;
    pos: [number, number, number, number];
    unit: string;
    legends: string[];
    expr: (string | RegExp)[];
  }
  const INV = 'application="inventory-service"';
  const spec: Record<string, { title: string; tags: string[]; panels: PanelSpec[] }> = {
    'inventory-overview': {
      title: 'Inventory Service Overview',
      tags: ['inventory', 'milestone-2'],
      panels: [
        {
          title: 'Inventory API Throughput',
          pos: [0, 0, 12, 8],
          unit: 'reqps',
          legends: ['RPS'],
          expr: [`rate(http_server_requests_seconds_count{${INV}}[1m])`],
        },
        {
          title: 'Inventory API Latency P95',
          pos: [12, 0, 12, 8],
          unit: 's',
          legends: ['p95'],
          expr: ['histogram_quantile(0.95,', `http_server_requests_seconds_bucket{${INV}}[5m]`, /by \(le\)/],
        },
        {
          title: 'Inventory Cache Hit Ratio',
          pos: [0, 8, 12, 8],
          unit: 'percentunit',
          legends: ['hit ratio'],
          expr: ['inventory_stock_cache_hits_total[5m]', 'inventory_stock_cache_misses_total[5m]', ' / '],
        },
        {
          title: 'Inventory Cache Counters',
          pos: [12, 8, 12, 8],
          unit: 'ops',
          legends: ['hits/s', 'misses/s', 'fallback/s'],
          expr: [
            'inventory_stock_cache_hits_total[1m]',
            'inventory_stock_cache_misses_total[1m]',
            'inventory_stock_cache_fallback_total[1m]',
          ],
        },
      ],
    },
    'platform-e2e-overview': {
      title: 'Platform E2E Overview',
      tags: ['platform', 'e2e', 'milestone-2'],
      panels: [
        {
          title: 'Service Throughput (RPS)',
          pos: [0, 0, 12, 8],
          unit: 'reqps',
          legends: ['{{application}}'],
          expr: ['http_server_requests_seconds_count{', '[1m]', /sum by \(application\)/],
        },
        {
          title: 'Service 5xx Rate',
          pos: [12, 0, 12, 8],
          unit: 'reqps',
          legends: ['{{application}} 5xx'],
          expr: ['status=~"5.."', '[5m]', /sum by \(application\)/],
        },
        {
          title: 'Service Latency P95',
          pos: [0, 8, 24, 8],
          unit: 's',
          legends: ['{{application}} p95'],
          expr: ['histogram_quantile(0.95,', 'http_server_requests_seconds_bucket{', '[5m]', /by \(le, application\)/],
        },
      ],
    },
  };

  test('the two dashboards of §7: uid, title, tags, refresh, range, panel titles, positions, units, legends, queries', () => {
    for (const [uid, want] of Object.entries(spec)) {
      const d = dashboards[uid];
      assert.ok(d, `dashboard ${uid} is missing`);
      assert.equal(d.title, want.title);
      assert.deepEqual(d.tags, want.tags);
      assert.equal(d.refresh, '15s');
      assert.deepEqual(d.time, { from: 'now-30m', to: 'now' });
      assert.deepEqual(
        d.panels.map((p: Any) => p.title),
        want.panels.map((p) => p.title),
        `${uid} panels`,
      );
      for (const [i, w] of want.panels.entries()) {
        const p = d.panels[i];
        assert.equal(p.type, 'timeseries', `${w.title} type`);
        assert.deepEqual([p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h], w.pos, `${w.title} position`);
        assert.equal(p.fieldConfig.defaults.unit, w.unit, `${w.title} unit`);
        assert.deepEqual(
          p.targets.map((t: Any) => t.legendFormat),
          w.legends,
          `${w.title} legends`,
        );
        const exprs = p.targets.map((t: Any) => t.expr).join('\n');
        for (const piece of w.expr) {
          if (typeof piece === 'string') assert.ok(exprs.includes(piece), `${w.title}: query lacks ${piece}: ${exprs}`);
          else assert.match(exprs, piece, `${w.title}`);
        }
      }
    }
    const apps = /application=~"([^"]+)"/.exec(dashboards['platform-e2e-overview'].panels[0].targets[0].expr)![1]!;
    assert.deepEqual(apps.split('|').sort(), SERVICES.map((s) => s.name).sort(), 'E2E panels cover the six services');
    assert.equal(dashboards['inventory-overview'].panels[2].fieldConfig.defaults.max, 1, 'ratio 0–1');
  });

  test('the Messaging dashboard (uid messaging-overview) covers queue/DLQ depth, consumers, retries, outbox, saga', () => {
    const d = dashboards['messaging-overview'];
    assert.ok(d, 'messaging-overview dashboard');
    assert.equal(d.refresh, '15s');
    const all = d.panels.flatMap((p: Any) => p.targets.map((t: Any) => t.expr)).join('\n');
    for (const m of [
      /rabbitmq_queue_messages_ready\{queue!~"\.\*\\\\\.dlq"\}/,
      /rabbitmq_queue_messages_ready\{queue=~"\.\*\\\\\.dlq"\}/,
      /messaging_consumed_total/,
      /by \(queue, outcome\)/,
      /messaging_retry_total/,
      /messaging_dlq_published_total/,
      /outbox_pending_events/,
      /outbox_oldest_pending_age_seconds/,
      /order_saga_completed_total/,
      /order_saga_duration_seconds_bucket/,
    ]) {
      assert.match(all, m);
    }
  });

  test('every dashboard: unique uid, known datasource uids, unique panel ids, panels inside 24 columns and not overlapping', () => {
    const files = readdirSync(dashDir).filter((f) => f.endsWith('.json'));
    assert.equal(Object.keys(dashboards).length, files.length, 'uids are unique');
    assert.deepEqual(Object.keys(dashboards).sort(), [
      'inventory-overview',
      'messaging-overview',
      'platform-e2e-overview',
    ]);
    const uids = new Set(datasources.map((ds) => ds.uid));
    for (const [uid, d] of Object.entries(dashboards)) {
      const ids = d.panels.map((p: Any) => p.id);
      assert.equal(new Set(ids).size, ids.length, `${uid}: panel ids unique`);
      const cells = new Set<string>();
      for (const p of d.panels) {
        assert.ok(uids.has(p.datasource.uid), `${uid}/${p.title}: datasource ${p.datasource.uid}`);
        for (const t of p.targets) assert.ok(uids.has(t.datasource.uid), `${uid}/${p.title}: target datasource`);
        const { x, y, w, h } = p.gridPos;
        assert.ok(x >= 0 && w > 0 && x + w <= 24, `${uid}/${p.title}: inside 24 columns`);
        for (let i = x; i < x + w; i++) {
          for (let j = y; j < y + h; j++) {
            assert.ok(!cells.has(`${i},${j}`), `${uid}/${p.title} overlaps another panel`);
            cells.add(`${i},${j}`);
          }
        }
      }
    }
  });

  test('every panel query uses only metrics (and labels) the platform, Prometheus or RabbitMQ expose', () => {
    const catalogue = seriesCatalogue(staticMetricCatalogue());
    for (const [uid, d] of Object.entries(dashboards)) {
      for (const p of d.panels) {
        for (const t of p.targets)
          assert.deepEqual(unknownSeries(t.expr, catalogue), [], `${uid} / ${p.title}: ${t.expr}`);
      }
    }
  });

  test('every panel query is valid PromQL (promtool)', () => {
    assertPromqlParses(
      Object.entries(dashboards).flatMap(([uid, d]) =>
        d.panels.flatMap((p: Any) => p.targets.map((t: Any) => ({ where: `${uid} / ${p.title}`, expr: t.expr }))),
      ),
    );
  });
});

describe('Kubernetes manifests (deploy/k8s)', () => {
  const K8S = at('k8s');
  const baseDir = join(K8S, 'base');
  const overlayDir = join(K8S, 'overlays/example');
  const kustomizations = walk(K8S, (p) => p.endsWith('kustomization.yaml'));
  const baseKz = yamlFile(join(baseDir, 'kustomization.yaml'));
  // Missing files are reported by the kustomization test below, not here (the suite must load).
  const objects: Any[] = (baseKz.resources as string[])
    .filter((r) => existsSync(join(baseDir, r)))
    .flatMap((r) => yamlDocs(join(baseDir, r)));
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const configMaps = (names: string[]) =>
    Object.assign({}, ...names.map((n) => find('ConfigMap', n)?.data ?? {})) as Record<string, string>;

  test('every kustomization lists files (or kustomization dirs) that exist, and every file in a dir is listed', () => {
    assert.ok(kustomizations.length >= 2);
    for (const k of kustomizations) {
      const dir = dirname(k);
      const kz = yamlFile(k);
      const refs = [
        ...(kz.resources ?? []),
        ...(kz.components ?? []),
        ...(kz.patches ?? []).map((p: Any) => p.path).filter(Boolean),
        ...(kz.patchesStrategicMerge ?? []),
      ] as string[];
      assert.ok(refs.length > 0, `${rel(k)} lists nothing`);
      for (const r of refs) {
        const path = resolve(dir, r);
        assert.ok(existsSync(path), `${rel(k)}: ${r} does not exist`);
        if (statSync(path).isDirectory())
          assert.ok(existsSync(join(path, 'kustomization.yaml')), `${r} is not a kustomization`);
      }
      const listed = new Set(refs.map((r) => resolve(dir, r)));
      for (const f of readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')) {
        assert.ok(listed.has(join(dir, f)), `${rel(join(dir, f))} is not listed in its kustomization`);
      }
    }
  });

  for (const s of SERVICES) {
    test(`${s.name}: Deployment (probes, resources, non-root, drain-based shutdown), Service, HPA, ConfigMap`, () => {
      const dep = find('Deployment', s.name);
      assert.ok(dep, `Deployment ${s.name}`);
      const pod = dep.spec.template.spec;
      assert.equal(pod.containers.length, 1);
      const c = pod.containers[0];
      assert.equal(c.image, 'ecom-platform', 'the one platform image (overlays pin the tag)');
      const port = c.ports.find((p: Any) => p.name === 'http');
      assert.equal(port?.containerPort, s.port);
      for (const [probe, path] of [
        ['livenessProbe', '/actuator/health/liveness'],
        ['readinessProbe', '/actuator/health/readiness'],
      ] as const) {
        assert.equal(c[probe]?.httpGet?.path, path, `${probe} path`);
        assert.ok([s.port, 'http'].includes(c[probe].httpGet.port), `${probe} port`);
      }
      for (const kind of ['requests', 'limits'] as const) {
        assert.ok(c.resources?.[kind]?.cpu && c.resources?.[kind]?.memory, `resources.${kind} cpu+memory`);
      }
      const nonRoot = c.securityContext?.runAsNonRoot ?? pod.securityContext?.runAsNonRoot;
      assert.equal(nonRoot, true, 'runAsNonRoot');
      assert.notEqual(c.securityContext?.runAsUser ?? pod.securityContext?.runAsUser, 0);
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false);
      assert.equal(c.lifecycle?.preStop, undefined, 'no preStop: the drain delay does that job');

      const refs = (c.envFrom ?? []).map((e: Any) => e.configMapRef?.name).filter(Boolean) as string[];
      for (const r of refs) assert.ok(find('ConfigMap', r), `ConfigMap ${r} exists`);
      const env = { ...configMaps(refs) };
      for (const e of c.env ?? []) {
        if (e.value !== undefined) env[e.name] = String(e.value);
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) {
          const secret = find('Secret', ref.name);
          assert.ok(secret, `Secret ${ref.name}`);
          assert.ok(ref.key in (secret.stringData ?? secret.data ?? {}), `Secret ${ref.name} has ${ref.key}`);
          env[e.name] = `<secret ${ref.name}/${ref.key}>`;
        }
      }
      for (const name of requiredEnv(s.short)) assert.ok(env[name], `${s.name} needs ${name}`);
      assert.equal(env.SERVICE, s.short);
      assert.equal(env.SERVER_PORT, String(s.port));
      for (const [k, v] of Object.entries(env)) {
        if (k.endsWith('_DB_URL')) assert.match(v, /^jdbc:postgresql:\/\/[a-z0-9.-]+:\d+\/[a-z]+_db$/, k);
        if (k.endsWith('_PASSWORD')) assert.match(v, /^<secret /, `${k} comes from a Secret, not a ConfigMap`);
      }
      if (env.AUTH_JWKS_URI) assert.equal(env.AUTH_JWKS_URI, 'http://auth-service:8084/.well-known/jwks.json');
      const drain = Number(env.SHUTDOWN_DRAIN_DELAY_MS);
      const timeout = Number(env.SHUTDOWN_TIMEOUT_MS ?? 10_000);
      assert.ok(drain >= 1000, 'a drain delay is configured');
      assert.ok(
        pod.terminationGracePeriodSeconds * 1000 > drain + timeout,
        `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds}s > drain ${drain} ms + timeout ${timeout} ms`,
      );
      const ann = dep.spec.template.metadata.annotations;
      assert.equal(ann['prometheus.io/scrape'], 'true');
      assert.equal(ann['prometheus.io/port'], String(s.port));
      assert.equal(ann['prometheus.io/path'], '/actuator/prometheus');

      const svc = find('Service', s.name);
      assert.ok(svc, `Service ${s.name} (its DNS name is what other services use)`);
      assert.deepEqual(svc.spec.selector, dep.spec.selector.matchLabels);
      for (const [k, v] of Object.entries(dep.spec.selector.matchLabels))
        assert.equal(dep.spec.template.metadata.labels[k], v);
      assert.equal(svc.spec.ports[0].port, s.port);

      const hpa = find('HorizontalPodAutoscaler', s.name);
      assert.equal(hpa?.apiVersion, 'autoscaling/v2');
      assert.deepEqual(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: s.name });
      assert.ok(hpa.spec.maxReplicas >= hpa.spec.minReplicas);
      assert.ok(
        hpa.spec.metrics.some((m: Any) => m.type === 'Resource' && m.resource.name === 'cpu'),
        'HPA scales on CPU',
      );
    });
  }

  test('no ConfigMap carries a secret (passwords and keys only in Secrets)', () => {
    for (const cm of objects.filter((o) => o.kind === 'ConfigMap')) {
      for (const k of Object.keys(cm.data ?? {})) {
        assert.doesNotMatch(k, /PASSWORD|_PEM$|SECRET/, `ConfigMap ${cm.metadata.name} holds ${k}`);
      }
    }
  });

  test('Secrets are placeholders, clearly marked', () => {
    const secrets = objects.filter((o) => o.kind === 'Secret');
    assert.ok(secrets.length >= 2);
    for (const s of secrets) {
      assert.equal(
        s.metadata.annotations?.['ecom.example/placeholder'],
        'true',
        `${s.metadata.name} marked placeholder`,
      );
      for (const [k, v] of Object.entries(s.stringData ?? {}))
        assert.match(String(v), /CHANGE_ME/, `${s.metadata.name}.${k}`);
    }
    assert.match(read(join(baseDir, 'secrets.yaml')), /PLACEHOLDER/);
  });

  test('auth-service replicas share one signing key: the PEM files come from a mounted Secret', () => {
    const config = read(join(ROOT, 'services/auth/src/config.ts'));
    for (const v of ['AUTH_RSA_PRIVATE_KEY_FILE', 'AUTH_RSA_PUBLIC_KEY_FILE']) {
      assert.ok(config.includes(v) || config.includes(v.replace(/_FILE$/, '')), `auth-service reads ${v}`);
    }
    const dep = find('Deployment', 'auth-service');
    const c = dep.spec.template.spec.containers[0];
    const env = configMaps(c.envFrom.map((e: Any) => e.configMapRef.name));
    const vol = dep.spec.template.spec.volumes.find((v: Any) => v.secret);
    assert.ok(vol, 'a Secret volume');
    const mount = c.volumeMounts.find((m: Any) => m.name === vol.name);
    assert.equal(mount.readOnly, true);
    const secret = find('Secret', vol.secret.secretName);
    assert.ok(secret, `Secret ${vol.secret.secretName}`);
    for (const v of ['AUTH_RSA_PRIVATE_KEY_FILE', 'AUTH_RSA_PUBLIC_KEY_FILE']) {
      const file = env[v] ?? '';
      assert.ok(file?.startsWith(`${mount.mountPath}/`), `${v}=${file} lies in the mount ${mount.mountPath}`);
      assert.ok(file.slice(mount.mountPath.length + 1) in secret.stringData, `${v}: the Secret has that key`);
    }
    assert.equal(env.DATA_DIR, undefined, 'no per-pod generated key');
  });

  test('overlays/example: namespace, pinned image, 2 replicas of order/inventory/payment with matching HPA minimum', () => {
    const kz = yamlFile(join(overlayDir, 'kustomization.yaml'));
    assert.ok(kz.namespace, 'namespace');
    assert.ok(kz.resources.includes('../../base'));
    const image = kz.images.find((i: Any) => i.name === 'ecom-platform');
    assert.ok(image?.newTag, 'image tag pinned');
    const counts = Object.fromEntries(kz.replicas.map((r: Any) => [r.name, r.count]));
    for (const n of ['order-service', 'inventory-service', 'payment-service'])
      assert.ok(counts[n] >= 2, `${n} replicas`);
    for (const n of Object.keys(counts)) assert.ok(find('Deployment', n), `replicas names Deployment ${n}`);
    const patches = (kz.patches as Any[]).flatMap((p) => yamlDocs(join(overlayDir, p.path)));
    for (const p of patches)
      assert.ok(find(p.kind, p.metadata.name), `patch target ${p.kind}/${p.metadata.name} exists`);
    for (const [n, count] of Object.entries(counts)) {
      const hpa = patches.find((p) => p.kind === 'HorizontalPodAutoscaler' && p.metadata.name === n);
      assert.ok(
        hpa?.spec?.minReplicas >= (count as number),
        `${n}: HPA minReplicas ≥ ${count} (else the HPA scales it back)`,
      );
    }
  });

  test('kubectl kustomize renders the overlay', () => {
    const kubectl = (process.env.PATH ?? '')
      .split(':')
      .map((d) => join(d, 'kubectl'))
      .find((p) => existsSync(p));
    // The machines this project runs on (dev and CI) ship kubectl; a missing one must be
    // noticed, not passed over.
    assert.ok(kubectl, 'kubectl is needed to render the kustomize overlay');
    const r = spawnSync(kubectl, ['kustomize', overlayDir], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const rendered = parseAllDocuments(r.stdout).map((d) => d.toJS());
    const kz = yamlFile(join(overlayDir, 'kustomization.yaml'));
    for (const o of rendered) if (o.kind !== 'Namespace') assert.equal(o.metadata.namespace, kz.namespace);
    const deps = rendered.filter((o) => o.kind === 'Deployment');
    assert.equal(deps.length, SERVICES.length);
    const img = kz.images[0];
    for (const d of deps) assert.equal(d.spec.template.spec.containers[0].image, `${img.newName}:${img.newTag}`);
    assert.equal(deps.find((d) => d.metadata.name === 'order-service').spec.replicas, 2);
  });
});
