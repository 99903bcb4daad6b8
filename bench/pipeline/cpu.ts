/**
 * CPU time of other processes, from /proc (Linux): user + system time in clock ticks. Processes are
 * found again at every sample, so PostgreSQL backends that connect during a window are counted too.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

interface ProcStat {
  ticks: number;
  /** Start time in ticks since boot. */
  started: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ticks: Number(fields[11]) + Number(fields[12]), started: Number(fields[19]) };
  } catch {
    return undefined; // gone
  }
}

function uptimeTicks(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]) * TICKS_PER_SECOND;
}

/** Every process whose command line matches, with its command line. */
export function findProcesses(match: (cmdline: string, comm: string) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const comm = readFileSync(`/proc/${entry}/comm`, 'utf8').trim();
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (match(cmdline, comm)) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** PostgreSQL processes: the backends of one database, and the server's own (WAL writer, checkpointer...). */
export function postgresProcesses(database: string): { backends: () => number[]; server: () => number[] } {
  const SERVER = /(checkpointer|background writer|walwriter|autovacuum launcher|logical replication launcher|archiver|bin\/postgres )/;
  return {
    backends: () => findProcesses((cmd, comm) => comm === 'postgres' && cmd.includes(` ${database} `)),
    server: () => findProcesses((cmd, comm) => comm === 'postgres' && SERVER.test(cmd)),
  };
}

/**
 * Measures groups of processes over a window: `start()`, then `stop()` returns CPU seconds per
 * group. A process that starts during the window counts from zero; one that exits during it counts
 * up to its last sample.
 */
export class CpuMeter {
  private readonly seen = new Map<string, Map<number, { first: number; last: number }>>();
  private timer?: NodeJS.Timeout;
  private windowStart = 0;
  private startedAt = 0;

  constructor(
    private readonly groups: Record<string, () => number[]>,
    private readonly sampleMs = 1_000,
  ) {}

  start(): void {
    this.seen.clear();
    this.windowStart = uptimeTicks();
    this.startedAt = performance.now();
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), this.sampleMs);
  }

  stop(): { seconds: number; cpuS: Record<string, number> } {
    clearInterval(this.timer);
    this.sample(false);
    const cpuS: Record<string, number> = {};
    for (const [group, pids] of this.seen) {
      let ticks = 0;
      for (const { first, last } of pids.values()) ticks += last - first;
      cpuS[group] = round(ticks / TICKS_PER_SECOND, 2);
    }
    return { seconds: (performance.now() - this.startedAt) / 1000, cpuS };
  }

  private sample(initial: boolean): void {
    for (const [group, find] of Object.entries(this.groups)) {
      const pids = this.seen.get(group) ?? new Map<number, { first: number; last: number }>();
      this.seen.set(group, pids);
      for (const pid of find()) {
        const stat = readStat(pid);
        if (!stat) continue;
        const known = pids.get(pid);
        if (known) known.last = stat.ticks;
        else {
          // Born during the window: all of its time is in it.
          const first = !initial && stat.started >= this.windowStart ? 0 : stat.ticks;
          pids.set(pid, { first, last: stat.ticks });
        }
      }
    }
  }
}

export const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;
