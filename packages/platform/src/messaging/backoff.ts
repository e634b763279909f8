export interface BackoffOptions {
  initialDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialDelayMs: 100, maxDelayMs: 5000 };

/**
 * Exponential back-off with "equal jitter": half the step is fixed, half random, so N services
 * that lost the broker at the same instant do not reconnect in lock-step, yet a delay never
 * collapses to ~0 (a hot loop against a broker that is still down). attempt starts at 1.
 */
export function backoffDelayMs(attempt: number, opts: BackoffOptions = DEFAULT_BACKOFF, random = Math.random): number {
  const step = Math.min(opts.maxDelayMs, opts.initialDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** A timer that never keeps the process alive on its own (shutdown must not wait for a retry). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
