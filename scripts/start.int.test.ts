import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { waitFor } from '@ecom/platform/testing';

const root = new URL('..', import.meta.url).pathname;

/** The user's first command, as a user runs it: one process, embedded everything, spec ports (+ offset). */
test('npm start: auth and catalog answer readiness UP on PGlite, in one process under 1 GB, and stop on SIGTERM', async () => {
  // Ports 28081–30385: below the kernel's ephemeral range (32768+) where other test files' listeners
  // get their ports, above the reliability fleets' (10000–27999), apart from the other npm-start test.
  const offset = 20_000 + Math.floor(Math.random() * 2_300);
  const started = Date.now();
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', 'scripts/start.ts'], {
    cwd: root,
    env: { ...process.env, SERVICES: 'auth,catalog', PORT_OFFSET: String(offset), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const ready = async (port: number) =>
      (await fetch(`http://127.0.0.1:${port}/actuator/health/readiness`)).status === 200;
    await waitFor(async () => (await ready(8084 + offset)) && (await ready(8085 + offset)), {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    const readyMs = Date.now() - started;
    const health = (await (await fetch(`http://127.0.0.1:${8085 + offset}/actuator/health`)).json()) as {
      components: { db: { details: { mode: string } } };
    };
    assert.equal(health.components.db.details.mode, 'pglite', 'nothing configured → embedded PGlite');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1]);
    assert.ok(rssKb > 0 && rssKb < 1024 * 1024, `RSS ${Math.round(rssKb / 1024)} MB`);
    // Not a timing assertion (CI machines are shared); the figure is reported for the README.
    console.log(`# npm start: ready in ${readyMs} ms, RSS ${Math.round(rssKb / 1024)} MB`);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, `clean exit after SIGTERM\n${output}`);
  } finally {
    child.kill('SIGKILL');
  }
});
