import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';

/** IPC messages between the bench (parent) and a server started by `startServer`. */
export type ChildCommand =
  | { type: 'cpu-profile-start'; intervalUs: number }
  | { type: 'cpu-profile-stop'; file: string };
export type ChildReply =
  | { type: 'cpu-profile-started' }
  | { type: 'cpu-profile-written'; file: string }
  | { type: 'cpu-profile-error'; message: string };

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
