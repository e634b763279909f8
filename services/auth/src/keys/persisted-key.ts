import { createPublicKey, randomUUID } from 'node:crypto';
import { link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateRsaKeyPair, type KeyPair } from './generate.js';
import { parsePrivateKeyPem, toPkcs8Pem } from './pem.js';

/** `<DATA_DIR>/auth/signing-key.pem`: the PKCS#8 private key; the public key is derived from it. */
export const SIGNING_KEY_FILE = 'signing-key.pem';

export interface PersistedKeyPair extends KeyPair {
  path: string;
  /** True when this call generated and published the key (false: it existed or a peer won). */
  created: boolean;
  /** The file is readable by group or others: the key may have leaked. */
  looseMode: boolean;
}

/**
 * The signing key stored under `dir`, generated once when absent. Replicas that share `dir`
 * and start together all end up with the same key: each publishes its candidate with an
 * atomic exclusive `link()`, exactly one wins, and everyone re-reads the winner's file.
 * Only the private key is stored (one file), so a crash can never leave a mismatched pair.
 */
export async function loadOrCreatePersistedKeyPair(dir: string): Promise<PersistedKeyPair> {
  const path = join(dir, SIGNING_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return { ...existing, path, created: false };

  await mkdir(dir, { recursive: true, mode: 0o700 });
  const candidate = await generateRsaKeyPair();
  const created = await publishExclusively(path, toPkcs8Pem(candidate.privateKey));
  const winner = await readKeyFile(path);
  if (!winner) throw new Error(`${path} vanished right after it was written`);
  return { ...winner, path, created };
}

async function readKeyFile(path: string): Promise<(KeyPair & { looseMode: boolean }) | undefined> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(path, 'utf8');
    mode = (await stat(path)).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const privateKey = parsePrivateKeyPem(text);
    return { privateKey, publicKey: createPublicKey(privateKey), looseMode: (mode & 0o077) !== 0 };
  } catch (err) {
    // Never overwrite it: replacing a key silently invalidates every token issued with it.
    throw new Error(`${path} ${(err as Error).message}; fix or delete the file`);
  }
}

/**
 * Writes `content` to `path` only if `path` does not exist yet, atomically: the content goes to
 * a private temp file first (mode 0600, fsynced), then `link()` gives it the final name — which
 * fails with EEXIST when another process got there first. Readers never see a partial file.
 */
async function publishExclusively(path: string, content: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomUUID()}.tmp`;
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(content);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await link(tmp, path);
    await syncDirectory(dirname(path));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Makes the new directory entry durable across a power loss; best effort (not every OS allows it). */
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability of the name only; the key itself is already fsynced.
  }
}
