import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** SQLite's own automatic checkpoint threshold, in WAL pages (restored if the worker dies). */
const AUTO_PAGES = 1000;
/** How often the worker checkpoints, if the WAL was written since its last look. */
const POLL_MS = 250;
/** After a checkpoint has reset the WAL, the file is truncated back to this (it otherwise keeps its peak size). */
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

// Runs in the worker (CommonJS, from a string: works the same from src/, a bundle or a package).
// Its own connection checkpoints PASSIVE (never waits for the writer, never blocks it) whenever
// the WAL file changed since its last look. The WAL is reused from its start once a checkpoint
// has caught up, so its size alone does not say whether frames are waiting.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { statSync } = require('node:fs');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { timeout: 0 });
const stamp = () => { try { const s = statSync(workerData.path + '-wal'); return s.mtimeMs + ':' + s.size; } catch { return ''; } };
// Nothing seen yet: a WAL left by writes made before this worker started is checkpointed at once.
let last = '';
let lastError = '';
const timer = setInterval(() => {
  const now = stamp();
  if (now === last) return;
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    // Busy, or frames left behind (a reader still needs them): the next poll tries again.
    if (!r.busy && r.checkpointed >= r.log) last = now;
    lastError = '';
  } catch (err) {
    // Reported once until it changes or a checkpoint succeeds: a lasting fault is one warning, not four a second.
    const message = String(err && err.message || err) + (err && err.code ? ' (' + err.code + ')' : '');
    if (message !== lastError) parentPort.postMessage({ error: message });
    lastError = message;
  }
}, workerData.pollMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever COMMIT
 * crosses 1,000 WAL pages, and with synchronous NORMAL or FULL it fsyncs the WAL and the database
 * file there: under a steady write load that stalls every request for milliseconds, about once a
 * second (bench/README.md). Here a worker thread with its own connection checkpoints instead, so
 * the writer's commits only append to the WAL. Should the worker die, the writer's automatic
 * checkpoint comes back on, so the WAL never grows without bound.
 */
export class Checkpointer {
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #stopped = false;

  constructor(
    private readonly db: BetterSqlite3.Database,
    path: string,
    private readonly onError: (message: string) => void,
  ) {
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    db.pragma('wal_autocheckpoint = 0');
    this.#worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: createRequire(import.meta.url).resolve('better-sqlite3'),
        path,
        pollMs: POLL_MS,
      },
    });
    this.#worker.unref();
    this.#exited = new Promise((resolve) => this.#worker.once('exit', () => resolve()));
    this.#worker.on('message', (m: { error?: string }) => {
      if (m.error) this.onError(`background WAL checkpoint failed: ${m.error}`);
    });
    this.#worker.on('error', (err) => this.onError(`WAL checkpoint worker failed: ${err.message}`));
    this.#worker.on('exit', () => {
      if (this.#stopped || !this.db.open) return;
      this.db.pragma(`wal_autocheckpoint = ${AUTO_PAGES}`);
    });
  }

  /** Ends the worker as a crash would (tests: the writer must take checkpoints back). */
  async kill(): Promise<void> {
    await this.#worker.terminate();
  }

  /** Stops the worker and waits for its connection to close (then the writer's close checkpoints the rest). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#worker.ref(); // the wait for its exit keeps the process alive
    this.#worker.postMessage('stop');
    await this.#exited;
  }
}
