// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
// COMMIT crosses the threshold (1000 pages): it copies the WAL into the database file and
// fsyncs both, stalling every request of the process for tens of milliseconds (measured: the
// slowest commits of a create load took 40–100 ms, against a median of 0.5 ms). Here a worker
// thread with its own connection runs a PASSIVE checkpoint, which never blocks the writer or
// readers, every 250 ms; the writer connection's automatic checkpoint is off.
// Durability is unchanged: commits are in the WAL before a response is sent, as before.
//
// This module is also the worker's entry point (workerData.pinstripeCheckpoint).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * How often the worker checkpoints. A checkpoint with nothing new in the WAL costs a few
 * microseconds and no fsync; one after 250 ms of heavy writes copies a few MB.
 */
const CHECKPOINT_EVERY_MS = 250;

interface WorkerArgs { pinstripeCheckpoint: true; file: string }

export class Checkpointer {
  private worker: Worker;
  private exited: Promise<void>;

  /** Starts the worker; `onFailure` runs if it cannot work (the caller turns automatic checkpoints back on). */
  constructor(file: string, onFailure: (err: unknown) => void) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { pinstripeCheckpoint: true, file } satisfies WorkerArgs });
    this.worker.unref();
    this.worker.on('error', onFailure);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
  }

  /** Stops after any checkpoint in progress, with its connection closed (so the writer's close can remove the WAL). */
  async close(): Promise<void> {
    this.worker.ref(); // keeps the event loop alive until the worker has gone
    this.worker.postMessage('close');
    await this.exited;
  }
}

function runWorker(args: WorkerArgs): void {
  const db = new Database(args.file);
  db.pragma('busy_timeout = 5000');
  db.pragma('wal_autocheckpoint = 0');
  const timer = setInterval(() => {
    try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick */ }
  }, CHECKPOINT_EVERY_MS);
  parentPort!.on('message', (m) => {
    if (m !== 'close') return;
    clearInterval(timer);
    db.close();
    parentPort!.close();
  });
}

if (!isMainThread && (workerData as Partial<WorkerArgs> | null)?.pinstripeCheckpoint) runWorker(workerData as WorkerArgs);
