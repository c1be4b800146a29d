// The child-process side of the target protocol (the runner side is lib/target-process.ts):
//   - listen on 127.0.0.1:$BENCH_PORT (chosen free by the runner);
//   - print `BENCH_READY <port>` on stdout once accepting connections;
//   - or print `BENCH_SKIP <reason>` and exit 0 when the target cannot run here;
//   - answer the IPC message `{ type: 'stats' }` with its own memory and CPU time, plus any
//     counters the target exposes (a side channel, so measuring adds no route to the server
//     under test);
//   - on SIGTERM, close and exit.

export const READY_PREFIX = 'BENCH_READY ';
export const SKIP_PREFIX = 'BENCH_SKIP ';

export interface StatsMessage {
  type: 'stats';
  rss: number;
  heapUsed: number;
  /** process.cpuUsage(): user + system CPU time since start, in microseconds. */
  cpuMicros: number;
  /** Monotonic counters of the target's own (e.g. `groupCommits`); the runner reports their deltas. */
  counters?: Record<string, number>;
}

export function benchPort(): number {
  const port = Number(process.env.BENCH_PORT);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new Error('BENCH_PORT is not set: targets are started by bench/run.ts');
  }
  return port;
}

export const BENCH_HOST = '127.0.0.1';

export function reportReady(
  port: number,
  close?: () => Promise<void> | void,
  counters?: () => Record<string, number>,
): void {
  process.on('message', (msg: unknown) => {
    if (typeof msg === 'object' && msg !== null && (msg as { type?: unknown }).type === 'stats') {
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      const reply: StatsMessage = {
        type: 'stats',
        rss: mem.rss,
        heapUsed: mem.heapUsed,
        cpuMicros: cpu.user + cpu.system,
        ...(counters ? { counters: counters() } : {}),
      };
      process.send?.(reply);
    }
  });
  // If the runner dies, the IPC channel closes: don't linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  const stop = async () => {
    try {
      await close?.();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  process.stdout.write(`${READY_PREFIX}${port}\n`);
}

export function reportSkip(reason: string): never {
  process.stdout.write(`${SKIP_PREFIX}${reason.replace(/\s+/g, ' ').trim()}\n`);
  process.exit(0);
}
