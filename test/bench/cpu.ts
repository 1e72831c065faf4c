/**
 * CPU time from /proc (Linux): of the whole machine, of this process by thread, of its child
 * processes (the Temporal dev server), and of given other processes (this benchmark's Postgres
 * backends). A snapshot before and after a phase gives each one's CPU seconds in between.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

const TICK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isFinite(n) && n > 0 ? n : 100;
})();

interface ProcTicks {
  comm: string;
  ppid: number;
  ticks: number;
}

/** comm, ppid and utime + stime of /proc/<pid>[/task/<tid>]/stat, or undefined if it is gone. */
function readStat(path: string): ProcTicks | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const comm = text.slice(open + 1, close);
  const f = text.slice(close + 2).split(' ');
  // after the comm: state(3) ppid(4) ... utime(14) stime(15), numbered from 1 with pid and comm
  return { comm, ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) };
}

function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest is counted in user)
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { busy: total - idle, total };
}

function descendants(root: number): Map<number, ProcTicks> {
  const all = new Map<number, ProcTicks>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(`/proc/${name}/stat`);
    if (s) all.set(Number(name), s);
  }
  const out = new Map<number, ProcTicks>();
  let frontier = [root];
  while (frontier.length > 0) {
    const next: number[] = [];
    for (const [pid, s] of all) {
      if (!frontier.includes(s.ppid) || out.has(pid)) continue;
      out.set(pid, s);
      next.push(pid);
    }
    frontier = next;
  }
  return out;
}

const roles = new Map<number, string>();

/**
 * Names the threads of this process that have no name yet, by what started them. Called at start
 * (the main JS thread, V8's platform threads) and after workers are created: the threads that
 * came with them run the workflow sandboxes (`node`) and the Rust core (`tokio-runtime-w`).
 */
export function nameNewThreads(started: 'process' | 'workers'): void {
  for (const tid of fs.readdirSync('/proc/self/task').map(Number)) {
    if (roles.has(tid)) continue;
    const comm = readStat(`/proc/self/task/${tid}/stat`)?.comm ?? '';
    if (tid === process.pid) roles.set(tid, 'main JS thread');
    else if (comm === 'node' || comm === 'tsx') roles.set(tid, started === 'process' ? 'runtime threads (GC, module loader)' : 'workflow threads');
    else if (/^(tokio|workflow-proces)/.test(comm)) roles.set(tid, 'Rust core');
    else if (/^libuv/.test(comm)) roles.set(tid, 'libuv pool');
  }
}

/** The role of a thread, or its name. */
function roleOf(tid: number, comm: string): string {
  return roles.get(tid) ?? (/^(tokio|workflow-proces)/.test(comm) ? 'Rust core' : /^libuv/.test(comm) ? 'libuv pool' : comm);
}

export interface CpuSnapshot {
  at: number;
  machine: { busy: number; total: number };
  threads: Map<number, ProcTicks>;
  children: Map<number, ProcTicks>;
  others: Map<number, ProcTicks & { group: string }>;
}

/** `others`: more processes to follow, by pid, under a group name (e.g. "postgres backends"). */
export function cpuSnapshot(others: Record<string, readonly number[]> = {}): CpuSnapshot {
  const threads = new Map<number, ProcTicks>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    const s = readStat(`/proc/self/task/${tid}/stat`);
    if (s) threads.set(Number(tid), s);
  }
  const o = new Map<number, ProcTicks & { group: string }>();
  for (const [group, pids] of Object.entries(others)) {
    for (const pid of pids) {
      const s = readStat(`/proc/${pid}/stat`);
      if (s) o.set(pid, { ...s, group });
    }
  }
  return { at: performance.now(), machine: machineTicks(), threads, children: descendants(process.pid), others: o };
}

export interface CpuUse {
  wallS: number;
  /** CPU seconds of the whole machine, and how many cores it has */
  machineS: number;
  cores: number;
  /** CPU seconds of this process, all threads */
  selfS: number;
  /** this process's threads, grouped by role (see nameNewThreads) or thread name */
  selfThreads: Record<string, number>;
  /** child processes by command name (the Temporal dev server is `temporal`) */
  children: Record<string, number>;
  /** the other processes followed, by group */
  others: Record<string, number>;
  /** the machine's CPU seconds not in this process, its children or the processes followed: other work */
  rest: number;
}

/** CPU seconds spent between two snapshots; a process or thread that appeared in between counts from zero. */
export function cpuBetween(a: CpuSnapshot, b: CpuSnapshot, cores: number): CpuUse {
  const diff = <T extends ProcTicks>(x: Map<number, T>, y: Map<number, T>, key: (s: T, id: number) => string) => {
    const out: Record<string, number> = {};
    for (const [id, s] of y) {
      const before = x.get(id);
      const d = (s.ticks - (before && before.comm === s.comm ? before.ticks : 0)) / TICK;
      out[key(s, id)] = (out[key(s, id)] ?? 0) + d;
    }
    return out;
  };
  const selfThreads = diff(a.threads, b.threads, (s, tid) => roleOf(tid, s.comm));
  const children = diff(a.children, b.children, (s) => s.comm);
  const others = diff(a.others, b.others, (s) => s.group);
  const sum = (r: Record<string, number>) => Object.values(r).reduce((t, v) => t + v, 0);
  const machineS = (b.machine.busy - a.machine.busy) / TICK;
  const selfS = sum(selfThreads);
  return {
    wallS: (b.at - a.at) / 1000,
    machineS,
    cores,
    selfS,
    selfThreads,
    children,
    others,
    rest: Math.max(0, machineS - selfS - sum(children) - sum(others)),
  };
}

/** The sum of CPU uses (of runs one after another): seconds add up, thread and process names merge. */
export function addCpu(a: CpuUse | undefined, b: CpuUse): CpuUse {
  if (!a) return b;
  const merge = (x: Record<string, number>, y: Record<string, number>) => {
    const out = { ...x };
    for (const [k, v] of Object.entries(y)) out[k] = (out[k] ?? 0) + v;
    return out;
  };
  return {
    wallS: a.wallS + b.wallS,
    machineS: a.machineS + b.machineS,
    cores: a.cores,
    selfS: a.selfS + b.selfS,
    selfThreads: merge(a.selfThreads, b.selfThreads),
    children: merge(a.children, b.children),
    others: merge(a.others, b.others),
    rest: a.rest + b.rest,
  };
}
