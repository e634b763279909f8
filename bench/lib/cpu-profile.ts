import { readFile } from 'node:fs/promises';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO_ROOT } from './child-server.js';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface FrameShare {
  frame: string;
  ms: number;
  /** Share of all sampled time, including idle. */
  pct: number;
  /** Share of the busy (non-idle) time. */
  busyPct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  idleMs: number;
  /** Self time per function (where the CPU actually was). */
  topSelf: FrameShare[];
  /** Self time per module: a package in node_modules, a workspace, node internals, GC, … */
  byModule: FrameShare[];
  /** Inclusive time per function (counted once per sample even under recursion). */
  topInclusive: FrameShare[];
  /** Inclusive time of this repository's own functions (kernel, service, bench): what our code costs. */
  topInclusiveOwn: FrameShare[];
}

function where(url: string): string {
  if (!url) return '';
  if (url.startsWith('node:')) return url;
  const path = url.startsWith('file:') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) return path.slice(nm + '/node_modules/'.length);
  return relative(REPO_ROOT, path);
}

/** A file of this repository (not node_modules, not node itself). */
function isOwn(url: string): boolean {
  return url.startsWith('file:') && !url.includes('/node_modules/');
}

function frameName(f: CallFrame): string {
  const loc = where(f.url);
  const fn = f.functionName || '(anonymous)';
  // line:column of the code V8 ran (for .ts files that is tsx's output, not the source).
  return loc ? `${fn} ${loc}:${f.lineNumber + 1}:${f.columnNumber + 1}` : fn;
}

function moduleName(f: CallFrame): string {
  const loc = where(f.url);
  if (!loc) return f.functionName || '(native)'; // (garbage collector), (program), (idle)
  if (loc.startsWith('node:')) return 'node internals';
  if (!f.url.includes('/node_modules/')) {
    const parts = loc.split('/');
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : loc;
  }
  const parts = loc.split('/');
  return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? loc);
}

/**
 * Samples whose stack passes through the bench's own profiler control (child-guard: serialising
 * the profile on stop) are the harness, not the workload; they are left out.
 */
const HARNESS = /bench\/lib\/child-guard\.ts/;

/**
 * Reads a `.cpuprofile` (V8 profiler: `--cpu-prof` or the bench's IPC-controlled profiling) and
 * ranks where the time went. Note V8 samples on a timer, so a thread that is preempted inside a
 * syscall keeps being charged to that syscall: on a crowded box `writev` looks bigger than its
 * CPU cost.
 */
export async function summarizeCpuProfile(file: string, top = 15, exclude: RegExp = HARNESS): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) byId.set(n.id, n);
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  const self = new Map<string, number>();
  const modules = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const own = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = Math.max(0, profile.timeDeltas[i] ?? 0);
    const node = byId.get(id);
    if (!node) return;
    const stack: CallFrame[] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const cf = byId.get(cur)?.callFrame;
      if (cf && cf.functionName !== '(root)') stack.push(cf);
    }
    if (stack.some((cf) => exclude.test(cf.url))) return;
    totalUs += dt;
    if (node.callFrame.functionName === '(idle)') {
      idleUs += dt;
      return;
    }
    const leaf = frameName(node.callFrame);
    self.set(leaf, (self.get(leaf) ?? 0) + dt);
    const mod = moduleName(node.callFrame);
    modules.set(mod, (modules.get(mod) ?? 0) + dt);
    const seen = new Set<string>();
    for (const cf of stack) {
      const name = frameName(cf);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
      if (isOwn(cf.url)) own.set(name, (own.get(name) ?? 0) + dt);
    }
  });
  const busyUs = totalUs - idleUs;
  const rank = (m: Map<string, number>, n: number): FrameShare[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([frame, us]) => ({
        frame,
        ms: Math.round(us / 100) / 10,
        pct: Math.round((us / totalUs) * 1000) / 10,
        busyPct: Math.round((us / busyUs) * 1000) / 10,
      }));
  return {
    file: relative(REPO_ROOT, file).startsWith('..') ? file : relative(REPO_ROOT, file),
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    topSelf: rank(self, top),
    byModule: rank(modules, top),
    topInclusive: rank(inclusive, top),
    topInclusiveOwn: rank(own, top),
  };
}

export function formatProfileSummary(s: ProfileSummary): string {
  const block = (title: string, rows: FrameShare[]) => [
    title,
    ...rows.map((r) => `  ${r.busyPct.toFixed(1).padStart(5)}%  ${r.ms.toFixed(0).padStart(6)} ms  ${r.frame}`),
  ];
  return [
    `${s.file}: ${s.totalMs} ms sampled, ${s.idleMs} ms idle (percentages are of busy time)`,
    ...block('self time by module:', s.byModule),
    ...block('top frames by self time:', s.topSelf),
    ...block('top frames by inclusive time:', s.topInclusive),
    ...block('repository frames by inclusive time:', s.topInclusiveOwn),
  ].join('\n');
}
