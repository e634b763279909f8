#!/usr/bin/env node
/**
 * The embedded database's template: PGlite's initdb, run ONCE per install, in its own process.
 *
 * Why: initdb inside PGlite grows the WASM heap to ~750 MB that is never returned and takes
 * 4–7 s; opening an existing data directory costs ~270 MB and under a second. So the root
 * package's `postinstall` runs this script (npm ci pays the 5 s, not every start), the kernel
 * runs it again in a child process if the template is missing, and every embedded start copies
 * the template and opens the copy.
 *
 *   node pglite-template.mjs              ensure the template exists (idempotent, race-safe)
 * Set ECOM_SKIP_PGLITE_TEMPLATE=1 to skip it at install time (images that never run embedded).
 * Plain JavaScript on purpose: it runs during `npm ci`, before anything is compiled.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

function pgliteEntry() {
  return require.resolve('@electric-sql/pglite');
}

export function pgliteVersion() {
  return JSON.parse(readFileSync(join(dirname(pgliteEntry()), '..', 'package.json'), 'utf8')).version;
}

/**
 * `PGLITE_TEMPLATE_DIR`, else `node_modules/.cache/ecom-pglite/<version>` beside the installed
 * PGlite (it lives and dies with the install), else the OS temp dir.
 */
export function templateDir() {
  const version = pgliteVersion();
  if (process.env.PGLITE_TEMPLATE_DIR) return join(process.env.PGLITE_TEMPLATE_DIR, version);
  const entry = pgliteEntry();
  const marker = `${sep}node_modules${sep}`;
  const at = entry.lastIndexOf(marker);
  if (at === -1) return join(tmpdir(), 'ecom-pglite-template', version);
  return join(entry.slice(0, at + marker.length - 1), '.cache', 'ecom-pglite', version);
}

export function templateExists(dir = templateDir()) {
  return existsSync(join(dir, 'PG_VERSION'));
}

/** Runs initdb into a staging directory, then renames it into place; the loser of a race discards its copy. */
export async function ensureTemplate(dir = templateDir()) {
  if (templateExists(dir)) return dir;
  const { PGlite } = await import('@electric-sql/pglite');
  const staging = `${dir}.staging-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  const db = await PGlite.create({ dataDir: staging });
  await db.query('SELECT 1');
  await db.close();
  try {
    renameSync(staging, dir);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    if (!templateExists(dir)) throw err;
  }
  return dir;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (process.env.ECOM_SKIP_PGLITE_TEMPLATE === '1') process.exit(0);
  const started = Date.now();
  try {
    const dir = await ensureTemplate();
    if (!process.env.ECOM_TEMPLATE_QUIET)
      console.log(`embedded database template ready in ${Date.now() - started} ms: ${dir}`);
    process.exit(0);
  } catch (err) {
    // Never fail an install over it: the kernel builds the template on first embedded start.
    console.warn(
      `could not prepare the embedded database template (${err?.message ?? err}); it will be built on first start`,
    );
    process.exit(process.env.ECOM_TEMPLATE_STRICT === '1' ? 1 : 0);
  }
}
