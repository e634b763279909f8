/**
 * The driver-independent half of `Database.notify` and of the `afterCommit` hook (database.ts).
 */

/**
 * Wake-ups by channel name: listeners of this process are called directly; a remote signal
 * (`send`, a NOTIFY) goes out only when there are none here, at most one in flight per name —
 * a notify arriving meanwhile sends exactly one more after it, so listeners always look after
 * the latest call. A failed send is dropped: wake-ups are hints, pollers are the guarantee.
 */
export function createWakeups(send: (name: string) => Promise<unknown>) {
  const local = new Map<string, Set<() => void>>();
  const inFlight = new Set<string>();
  const again = new Set<string>();

  const remote = (name: string): void => {
    if (inFlight.has(name)) {
      again.add(name);
      return;
    }
    inFlight.add(name);
    again.delete(name);
    send(name)
      .catch(() => undefined)
      .finally(() => {
        inFlight.delete(name);
        if (again.has(name)) remote(name);
      });
  };

  return {
    /** Adds a same-process listener; returns its removal. */
    register(name: string, fn: () => void): () => void {
      const set = local.get(name) ?? new Set<() => void>();
      local.set(name, set);
      set.add(fn);
      return () => {
        set.delete(fn);
        if (set.size === 0) local.delete(name);
      };
    },
    notify(name: string): void {
      const listeners = local.get(name);
      if (listeners) for (const fn of listeners) runQuietly(fn);
      else remote(name);
    },
  };
}

/** The callbacks one transaction registered with `afterCommit`, run once after its COMMIT. */
export function afterCommitHooks() {
  const hooks = new Set<() => void>();
  return {
    add: (fn: () => void): void => {
      hooks.add(fn);
    },
    run: (): void => {
      for (const fn of hooks) runQuietly(fn);
    },
  };
}

function runQuietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // The transaction's outcome is decided; a hook's failure must not turn it into an error.
  }
}
