import { killAllChildren } from './child-server.js';

type CleanupFn = () => Promise<void> | void;

/**
 * Things to undo at the end of a run, run in reverse order (children stop before the database
 * they use is dropped). Runs on success, on failure, on SIGINT/SIGTERM and on the watchdog.
 */
export class Cleanup {
  private readonly fns: { what: string; fn: CleanupFn }[] = [];
  private running: Promise<void> | undefined;

  defer(what: string, fn: CleanupFn): void {
    this.fns.push({ what, fn });
  }

  run(): Promise<void> {
    this.running ??= (async () => {
      for (let item = this.fns.pop(); item; item = this.fns.pop()) {
        try {
          await item.fn();
        } catch (err) {
          console.error(`cleanup "${item.what}" failed: ${(err as Error).message}`);
        }
      }
      killAllChildren();
    })();
    return this.running;
  }
}

/**
 * Arms a watchdog (the whole run is bounded: past budgetMs it cleans up and exits 3) and
 * SIGINT/SIGTERM handlers (clean up, exit 130). Returns a disarm function for a normal finish.
 */
export function guardRun(cleanup: Cleanup, budgetMs: number): () => void {
  const bail = (code: number, why: string) => {
    console.error(`\n${why}: cleaning up`);
    // The cleanup itself is bounded too: children get SIGKILL on exit whatever happens.
    setTimeout(() => process.exit(code), 30_000).unref();
    void cleanup.run().finally(() => process.exit(code));
  };
  const watchdog = setTimeout(() => bail(3, `run exceeded its ${Math.round(budgetMs / 1000)} s budget`), budgetMs);
  watchdog.unref();
  const onSignal = (signal: NodeJS.Signals) => bail(130, `received ${signal}`);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    clearTimeout(watchdog);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
