import { readdirSync, readFileSync } from 'node:fs';
import { processCpuTimeMs } from './child-server.js';

/**
 * Where the CPU went during a measurement, from /proc (Linux; zeros elsewhere): the whole
 * machine's busy time, and the time of every process whose command name is one of `commands`
 * (e.g. `postgres`, `beam.smp`). A process that exits inside the window loses its share, one that
 * starts inside it counts from zero; every process of the box counts, including neighbours' (a
 * shared Postgres serves other test runs too), so treat the per-command numbers as an upper bound.
 */
export interface CpuSnapshot {
  /** ms of CPU by command name. */
  byCommand: Map<string, number>;
  /** ms of CPU by pid for those commands (to diff per process). */
  byPid: Map<number, { command: string; ms: number }>;
  /** Machine-wide busy and total jiffies → ms, all cores. */
  machineBusyMs: number;
  machineTotalMs: number;
}

const CLK_TCK = 100;

function readMachine(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((s, x) => s + x, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: ((total - idle) * 1000) / CLK_TCK, total: (total * 1000) / CLK_TCK };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export function cpuSnapshot(commands: readonly string[]): CpuSnapshot {
  const byPid = new Map<number, { command: string; ms: number }>();
  const byCommand = new Map<string, number>(commands.map((c) => [c, 0]));
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    /* not Linux */
  }
  for (const d of pids) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const command = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!byCommand.has(command)) continue;
      const ms = processCpuTimeMs(Number(d));
      if (!Number.isFinite(ms)) continue;
      byPid.set(Number(d), { command, ms });
      byCommand.set(command, (byCommand.get(command) ?? 0) + ms);
    } catch {
      /* gone meanwhile */
    }
  }
  const m = readMachine();
  return { byCommand, byPid, machineBusyMs: m.busy, machineTotalMs: m.total };
}

export interface CpuDelta {
  /** ms of CPU per command name in the window (processes alive at its end). */
  byCommand: Record<string, number>;
  /** Machine busy share in the window, % of all cores (100 = every core busy). */
  machineBusyPct: number;
  machineBusyMs: number;
}

export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuDelta {
  const byCommand: Record<string, number> = {};
  for (const [pid, a] of after.byPid) {
    const b = before.byPid.get(pid);
    byCommand[a.command] = (byCommand[a.command] ?? 0) + (a.ms - (b?.command === a.command ? b.ms : 0));
  }
  for (const c of before.byCommand.keys()) byCommand[c] ??= 0;
  const busy = after.machineBusyMs - before.machineBusyMs;
  const total = after.machineTotalMs - before.machineTotalMs;
  return {
    byCommand,
    machineBusyPct: total > 0 ? Math.round((busy / total) * 1000) / 10 : Number.NaN,
    machineBusyMs: Math.round(busy),
  };
}
