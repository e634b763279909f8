/**
 * Watches a service's readiness (or health) every `intervalMs` during a fault and records the
 * transitions, so a scenario can say: DOWN at +x ms, UP again at +y ms.
 */
import { health, readiness } from './fleet.js';

export interface Transition {
  at: number;
  status: 'UP' | 'DOWN';
}

export interface WatchResult {
  target: string;
  endpoint: 'readiness' | 'health';
  transitions: Transition[];
  /** First DOWN seen after `since`; null = never DOWN. */
  downAt: number | null;
  /** First UP after that DOWN; null = never came back (within the watch). */
  upAt: number | null;
  /** Polls that answered DOWN. */
  downPolls: number;
}

export interface Watch {
  /** Resolves once the target went DOWN and came back UP (or the timeout passed). */
  recovered(timeoutMs: number): Promise<boolean>;
  stop(): Promise<WatchResult>;
}

export function watch(
  target: string,
  url: string,
  opts: { endpoint?: 'readiness' | 'health'; intervalMs?: number; since?: number } = {},
): Watch {
  const endpoint = opts.endpoint ?? 'readiness';
  const intervalMs = opts.intervalMs ?? 100;
  const since = opts.since ?? Date.now();
  const transitions: Transition[] = [];
  let last: 'UP' | 'DOWN' | undefined;
  let downAt: number | null = null;
  let upAt: number | null = null;
  let downPolls = 0;
  let stopped = false;
  const probe = endpoint === 'readiness' ? readiness : health;

  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      // A short timeout: a hung endpoint counts as DOWN rather than stalling the watch.
      const status = await probe(url, 1500);
      if (status !== last) {
        transitions.push({ at, status });
        last = status;
      }
      if (status === 'DOWN') {
        downPolls++;
        if (downAt === null && at >= since) downAt = at;
      } else if (downAt !== null && upAt === null) {
        upAt = at;
      }
      const wait = intervalMs - (Date.now() - at);
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  return {
    async recovered(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (upAt !== null) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return upAt !== null;
    },
    async stop() {
      stopped = true;
      await loop;
      return { target, endpoint, transitions, downAt, upAt, downPolls };
    },
  };
}
