import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** IPC messages between the bench (parent) and a server started by `startServer`. */
export type ChildCommand =
  | { type: 'cpu-profile-start'; intervalUs: number }
  | { type: 'cpu-profile-stop'; file: string }
  /** A scenario-defined request to a worker child (see `serveCalls`). */
  | { type: 'bench-call'; id: number; request: unknown };
export type ChildReply =
  | { type: 'cpu-profile-started' }
  | { type: 'cpu-profile-written'; file: string }
  | { type: 'cpu-profile-error'; message: string }
  /** A worker child (readiness `{ ipc: true }`) is set up and waits for calls. */
  | { type: 'bench-ready' }
  | { type: 'bench-result'; id: number; result?: unknown; error?: string };

/**
 * For server entry points started by `startServer`:
 * - stops gracefully on SIGTERM/SIGINT, and also when the parent goes away (its IPC channel
 *   closes, even if it was SIGKILLed), so no benchmark server outlives the run; a stop that
 *   hangs is cut after hardExitMs;
 * - answers `cpu-profile-start` / `cpu-profile-stop` over IPC with the in-process V8 profiler,
 *   so a profile covers exactly the measured window (not start-up, not the warm-up).
 */
export function guardChild(stop: () => Promise<void>, { hardExitMs = 10_000 } = {}): void {
  let stopping = false;
  const shutdown = (code: number) => {
    if (stopping) return;
    stopping = true;
    setTimeout(() => process.exit(code === 0 ? 1 : code), hardExitMs).unref();
    stop().then(
      () => process.exit(code),
      (err: unknown) => {
        console.error('stop failed', err);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown(0));
  process.once('SIGINT', () => shutdown(0));
  if (!process.send) return;
  process.once('disconnect', () => shutdown(0));

  let session: Session | undefined;
  const reply = (m: ChildReply) => process.send?.(m);
  process.on('message', (m: ChildCommand) => {
    void (async () => {
      try {
        if (m.type === 'cpu-profile-start') {
          session = new Session();
          session.connect();
          await session.post('Profiler.enable');
          await session.post('Profiler.setSamplingInterval', { interval: m.intervalUs });
          await session.post('Profiler.start');
          reply({ type: 'cpu-profile-started' });
        } else if (m.type === 'cpu-profile-stop') {
          if (!session) throw new Error('no profile running');
          const { profile } = await session.post('Profiler.stop');
          session.disconnect();
          session = undefined;
          await writeFile(m.file, JSON.stringify(profile));
          reply({ type: 'cpu-profile-written', file: m.file });
        }
      } catch (err) {
        reply({ type: 'cpu-profile-error', message: (err as Error).message });
      }
    })();
  });
}

/** Reads a required environment variable or exits with a message naming it. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

/**
 * For worker entries started with readiness `{ ipc: true }` (no HTTP server: an outbox relay, a
 * consumer): tells the bench this process is set up. Call it after `guardChild`.
 */
export function signalReady(): void {
  process.send?.({ type: 'bench-ready' } satisfies ChildReply);
}

/**
 * Answers `ChildServer.call(request)` from the bench: one handler for every request; its result
 * (JSON-serialisable) or its error message goes back over IPC. Calls may overlap.
 */
export function serveCalls(handler: (request: unknown) => Promise<unknown>): void {
  process.on('message', (m: ChildCommand) => {
    if (m?.type !== 'bench-call') return;
    const reply = (r: ChildReply) => process.send?.(r);
    handler(m.request).then(
      (result) => reply({ type: 'bench-result', id: m.id, result }),
      (err: unknown) =>
        reply({
          type: 'bench-result',
          id: m.id,
          error: err instanceof Error ? (err.stack ?? err.message) : String(err),
        }),
    );
  });
}
