import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU time by where it is spent, in milliseconds, read from Linux's /proc: this process's main
 * thread (the engine, the interpreter, the CLI side), its Lambda sandboxes (worker threads named
 * `sluice:<function>`), its other threads (V8's garbage collector and compiler, libuv) and another
 * process (the services process: DynamoDB, S3). Read per thread because `process.cpuUsage()`
 * sums every thread of the process, sandboxes included.
 */
export interface CpuSplit {
  readonly main: number;
  readonly sandboxes: number;
  readonly other: number;
  readonly services: number;
}

/** What every thread of this process and the services process have spent so far. */
export interface CpuReading {
  /** Per thread id: its kind and CPU time. */
  readonly threads: ReadonlyMap<string, { readonly kind: 'main' | 'sandboxes' | 'other'; readonly ms: number }>;
  readonly services: number;
}

/** The CPU spent so far, or `undefined` where /proc is not there to read (not Linux). */
export function readCpu(servicesPid: number): CpuReading | undefined {
  try {
    const threads = new Map<string, { kind: 'main' | 'sandboxes' | 'other'; ms: number }>();
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const ms = ticks(`/proc/self/task/${tid}/stat`);
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        threads.set(tid, { kind: Number(tid) === process.pid ? 'main' : name.startsWith('sluice') ? 'sandboxes' : 'other', ms });
      } catch {
        // The thread ended meanwhile.
      }
    }
    return { threads, services: ticks(`/proc/${servicesPid}/stat`) };
  } catch {
    return undefined;
  }
}

/**
 * What was spent between two readings, by where. A thread that started in between counts from
 * zero; one that ended in between (a sandbox Lambda-style reaped when idle) is lost with what it
 * spent since the first reading, so sandboxes may be counted short.
 */
export function cpuBetween(before: CpuReading, after: CpuReading): CpuSplit {
  const split = { main: 0, sandboxes: 0, other: 0, services: after.services - before.services };
  for (const [tid, thread] of after.threads) split[thread.kind] += thread.ms - (before.threads.get(tid)?.ms ?? 0);
  return split;
}

/** {@link cpuBetween} per unit of work (a run), as `main / sandboxes / other / services` ms. */
export function cpuPer(before: CpuReading | undefined, after: CpuReading | undefined, units: number): string {
  if (!before || !after) return 'n/a';
  const split = cpuBetween(before, after);
  const per = (key: keyof CpuSplit) => (split[key] / units).toFixed(1);
  return `${per('main')} / ${per('sandboxes')} / ${per('other')} / ${per('services')}`;
}

/** User and system time of a thread or process, from its `stat` file, in milliseconds. */
function ticks(file: string): number {
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
}

/** `getconf CLK_TCK`: 100 on every Linux Node.js runs on. */
const CLOCK_TICKS = 100;
