/**
 * Runs every command of the README's walkthrough against a fresh `npm start` (embedded, ports
 * shifted by PORT_OFFSET so a running stack is not disturbed) and checks the `# →` lines: each
 * fragment between `…` must appear in the command's output. A read that does not match yet is
 * retried for a while (the saga is asynchronous); anything else must match at once.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  deleteNamespacedTopology,
  dropDatabase,
  TEST_AMQP_URL,
  TEST_PG_ADMIN_URL,
  uniqueName,
  waitFor,
} from '@ecom/platform/testing';

const root = new URL('..', import.meta.url).pathname;

interface Step {
  command: string;
  expect: string[];
}

export function walkthroughSteps(readme: string): Step[] {
  const section = readme.slice(readme.indexOf('## A first walk through'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error('README has no walkthrough block');
  const steps: Step[] = [];
  const lines = block.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trimEnd();
    if (line.startsWith('# →')) {
      steps.at(-1)?.expect.push(
        ...line
          .slice(3)
          .trim()
          .split('…')
          .map((f) => f.trim())
          .filter(Boolean),
      );
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    let command = line;
    // Keep the backslash-newline: bash joins the lines exactly as a user's shell would.
    while (command.endsWith('\\')) command = `${command}\n${lines[++i]!.trimEnd()}`;
    steps.push({ command, expect: [] });
  }
  return steps;
}

/** The same walkthrough on the real servers, configured only through environment variables. */
function realServersEnv(): { env: Record<string, string>; databases: string[]; namespace?: string } {
  const ns = uniqueName('walk');
  const databases: string[] = [];
  const env: Record<string, string> = {
    RABBITMQ_URL: TEST_AMQP_URL,
    REDIS_HOST: '127.0.0.1',
    MESSAGING_NAMESPACE: `${ns}.`,
    APP_CACHE_STOCK_KEY_PREFIX: `${ns}:inventory:stock:`,
    SEED_DEMO_DATA: 'true',
  };
  for (const svc of ['ORDER', 'INVENTORY', 'PAYMENT', 'CATALOG', 'NOTIFICATION']) {
    const db = `${ns}_${svc.toLowerCase()}`;
    const url = new URL(TEST_PG_ADMIN_URL);
    env[`${svc}_DB_URL`] = `jdbc:postgresql://${url.host}/${db}`;
    env[`${svc}_DB_USER`] = url.username || 'postgres';
    databases.push(db);
  }
  return { env, databases, namespace: `${ns}.` };
}

for (const mode of ['embedded', 'real servers'] as const) {
  test(`the README walkthrough on the ${mode}: every command runs and shows what the README says`, async () => {
    const real: { env: Record<string, string>; databases: string[]; namespace?: string } =
      mode === 'real servers' ? realServersEnv() : { env: {}, databases: [] };
    const steps = walkthroughSteps(readFileSync(join(root, 'README.md'), 'utf8'));
    assert.ok(steps.length >= 15, `${steps.length} commands found`);
    // Ports 30391–32695: below the kernel's ephemeral range (32768+) where other test files' listeners
    // get their ports, above the reliability fleets' (10000–27999), apart from the other npm-start test.
    const offset = 22_310 + Math.floor(Math.random() * 2_300);
    const work = mkdtempSync(join(tmpdir(), 'walkthrough-'));
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'scripts/start.ts'], {
      cwd: root,
      env: {
        ...process.env,
        PORT_OFFSET: String(offset),
        LOG_LEVEL: 'warn',
        SERVICES: 'auth,catalog,order,inventory,payment,notification',
        ...real.env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let logs = '';
    child.stdout.on('data', (c) => (logs += c));
    child.stderr.on('data', (c) => (logs += c));
    try {
      const ports = [8081, 8082, 8083, 8084, 8085, 8086].map((p) => p + offset);
      await waitFor(
        async () => {
          for (const p of ports)
            if ((await fetch(`http://127.0.0.1:${p}/actuator/health/readiness`).catch(() => null))?.status !== 200)
              return false;
          return true;
        },
        { timeoutMs: 90_000, intervalMs: 200 },
      );
      // Demo data is seeded right after readiness; wait for it like a user would (the log says so).
      await waitFor(async () => (await fetch(`http://127.0.0.1:${8082 + offset}/api/stocks/SKU-004`)).status === 200, {
        timeoutMs: 30_000,
      });
      const state = join(work, 'state.sh');
      writeFileSync(state, '');
      for (const step of steps) {
        const command = step.command
          .replace(/localhost:(808[1-6])/g, (_m, p: string) => `localhost:${Number(p) + offset}`)
          .replaceAll('/tmp/', `${work}/`);
        const assigned = [...command.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]);
        const script = `set -euo pipefail\nsource ${state}\n${command}\n${assigned.map((v) => `declare -p ${v} >> ${state}`).join('\n')}`;
        const isRead = !/-X (POST|PUT|DELETE)/.test(command);
        const run = () => execFileSync('bash', ['-c', script], { encoding: 'utf8', timeout: 30_000 });
        let output = run();
        const missing = () => step.expect.filter((fragment) => !output.includes(fragment));
        for (let attempt = 0; isRead && missing().length > 0 && attempt < 40; attempt++) {
          await new Promise((r) => setTimeout(r, 250));
          output = run();
        }
        assert.deepEqual(missing(), [], `README command:\n${step.command}\nprinted:\n${output.slice(0, 1500)}`);
      }
    } catch (err) {
      console.log(logs.slice(-4000));
      throw err;
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(work, { recursive: true, force: true });
      await Promise.allSettled(real.databases.map((d) => dropDatabase(d)));
      if (real.namespace) await deleteNamespacedTopology(TEST_AMQP_URL, real.namespace).catch(() => undefined);
    }
  });
}
