/**
 * A process's memory from /proc/<pid>/status (Linux): resident set now (VmRSS) and its peak
 * (VmHWM), the peak reset through /proc/<pid>/clear_refs ("5", Linux ≥ 4.0; needs to own the
 * process), and a sampler of VmRSS for windows where the reset is not available.
 */
import { readFileSync, writeFileSync } from 'node:fs';

export interface ProcMemory {
  /** Resident set size now, MiB. */
  rssMiB: number;
  /** Peak resident set size since start (or since the last reset), MiB. */
  hwmMiB: number;
}

/** NaN fields when the process is gone or /proc is missing. */
export function procMemory(pid: number): ProcMemory {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (field: string) => {
      const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) : Number.NaN;
    };
    return { rssMiB: kb('VmRSS') / 1024, hwmMiB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMiB: Number.NaN, hwmMiB: Number.NaN };
  }
}

/** Resets VmHWM to the current RSS; false when the kernel refuses (then rely on sampling). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `everyMs` until stopped; returns the largest value seen and the count. */
export function sampleRss(pid: number, everyMs = 5): { stop(): { maxMiB: number; samples: number } } {
  let maxMiB = procMemory(pid).rssMiB;
  let samples = 1;
  const timer = setInterval(() => {
    const { rssMiB } = procMemory(pid);
    if (Number.isFinite(rssMiB)) {
      samples++;
      if (rssMiB > maxMiB) maxMiB = rssMiB;
    }
  }, everyMs);
  return {
    stop() {
      clearInterval(timer);
      const last = procMemory(pid).rssMiB;
      if (last > maxMiB) maxMiB = last;
      return { maxMiB, samples: samples + 1 };
    },
  };
}
