/**
 * Memory of a process tree, read from Linux's /proc: the benchmark's RSS figures for `next build`,
 * `next start`, `isr build/start` and the other servers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem, type } from 'node:os';

/** One live process: its parent and its process group, from /proc/<pid>/stat. */
interface ProcEntry {
  pid: number;
  ppid: number;
  pgrp: number;
}

/** Every live process (those that exit while being read are skipped). */
function listProcesses(): ProcEntry[] {
  const entries: ProcEntry[] = [];
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return entries;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(fields[1]);
    const pgrp = Number(fields[2]);
    if (Number.isInteger(ppid) && Number.isInteger(pgrp)) entries.push({ pid: Number(name), ppid, pgrp });
  }
  return entries;
}

/** VmRSS of one process in bytes; 0 if it has exited or has no user memory (a zombie, a kernel thread). */
function rssOf(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0;
  }
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * The process tree of `pid`: the process itself, its descendants (by parent pid), and the members of
 * the process group `pid` leads (so workers re-parented after their parent exited still count).
 */
export function treePids(pid: number): number[] {
  const processes = listProcesses();
  const children = new Map<number, number[]>();
  for (const entry of processes) {
    const siblings = children.get(entry.ppid);
    if (siblings) siblings.push(entry.pid);
    else children.set(entry.ppid, [entry.pid]);
  }
  const found = new Set<number>();
  if (processes.some((entry) => entry.pid === pid)) found.add(pid);
  for (const entry of processes) if (entry.pgrp === pid) found.add(entry.pid);
  const queue = [...found];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop()!) ?? []) {
      if (!found.has(child)) {
        found.add(child);
        queue.push(child);
      }
    }
  }
  return [...found];
}

/**
 * Resident memory of a process tree in bytes: the sum of VmRSS (/proc/<pid>/status) over `pid` and
 * all its descendants (found through the ppid of every /proc/<n>/stat) and the members of its
 * process group. 0 once everything has exited. Pages shared between processes count once per process.
 */
export function treeRssBytes(pid: number): number {
  let total = 0;
  for (const member of treePids(pid)) total += rssOf(member);
  return total;
}

/**
 * Samples {@link treeRssBytes} of `pid` now and every `intervalMs` until stopped.
 *
 * @returns `stop()`, which ends the sampling (taking one last sample) and returns the highest sum
 *   seen, in bytes. The timer does not keep the event loop alive.
 */
export function samplePeakRss(pid: number, intervalMs: number): { stop(): number } {
  let peak = 0;
  const sample = (): void => {
    const rss = treeRssBytes(pid);
    if (rss > peak) peak = rss;
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  let stopped = false;
  return {
    stop(): number {
      if (!stopped) {
        stopped = true;
        clearInterval(timer);
        sample();
      }
      return peak;
    },
  };
}

/** The machine a run measured, as every report states it. */
export function machineInfo(): { cpus: number; cpuModel: string; memoryBytes: number; os: string; node: string } {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    os: `${type()} ${release()}`,
    node: process.version,
  };
}
