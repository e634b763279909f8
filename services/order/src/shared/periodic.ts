import type { Logger } from 'pino';

export interface PeriodicJob {
  /** Runs one cycle now (tests); waits for a cycle already running. */
  runNow(): Promise<void>;
  /** No new cycle starts; resolves when the running one (if any) has finished. */
  stop(): Promise<void>;
}

/**
 * A background job every `intervalMs` (fixed delay: the next wait starts when a cycle ends, so
 * cycles never overlap within a process). A failing cycle is logged and the job keeps going;
 * the timer is unref'd so it never holds the process open.
 */
export function startPeriodic(opts: {
  name: string;
  intervalMs: number;
  run: () => Promise<void>;
  logger: Logger;
}): PeriodicJob {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;

  const cycle = (): Promise<void> => {
    running ??= opts
      .run()
      .catch((err: unknown) => opts.logger.warn({ err: (err as Error).message, job: opts.name }, 'periodic job failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      void cycle().then(schedule);
    }, opts.intervalMs);
    timer.unref();
  };
  schedule();

  return {
    runNow: cycle,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
