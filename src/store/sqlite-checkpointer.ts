// WAL checkpoints off the event loop. SQLite's automatic checkpoint runs inside whichever
// COMMIT crosses the threshold (1000 pages): it copies the WAL into the database file and
// fsyncs both, stalling every request of the process for tens of milliseconds (measured: the
// slowest commits of a create load took 40–100 ms, against a median of 0.5 ms). Here a worker
// thread with its own connection runs a PASSIVE checkpoint, which never blocks the writer or
// readers, every 250 ms; the writer connection's automatic checkpoint is off.
// Durability is unchanged: commits are in the WAL before a response is sent, as before.
//
// A PASSIVE checkpoint alone never lets the WAL start over under a steady write load: by the
// time it has copied the WAL, the writer has appended more, and SQLite only rewinds the WAL
// when a write transaction begins with every frame copied. The file then grows for as long
// as the load lasts (800 MB after a minute of payments), and every frame goes to a fresh part
// of the file, which costs the kernel several times an overwrite of cached pages (zeroing
// new page-cache folios: measured 8.5 µs against 1.2 µs a frame, a fifth of a payment's
// CPU). So after each checkpoint that copied frames, the worker tells the store
// (`onCopied`); between two batches the store holds its writes back while the worker copies
// the few frames written meanwhile (finalPass, a few ms, the event loop free meanwhile); the
// next batch then begins with the WAL fully copied and rewinds it, and the WAL stays a few
// MB of cached pages.
//
// This module is also the worker's entry point (workerData.pinstripeCheckpoint).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

/**
 * How often the worker checkpoints. A checkpoint with nothing new in the WAL costs a few
 * microseconds and no fsync; one after 250 ms of heavy writes copies a few MB.
 */
const CHECKPOINT_EVERY_MS = 250;
/** Passes per checkpoint at most, and the growth during a pass below which no further one runs. */
const MAX_PASSES = 4;
const SMALL_TAIL_FRAMES = 64;
/** How long the store waits for a final pass before it writes on regardless. */
const FINAL_PASS_TIMEOUT_MS = 1000;

interface WorkerArgs { pinstripeCheckpoint: true; file: string }

export class Checkpointer {
  private worker: Worker;
  private exited: Promise<void>;

  /**
   * Starts the worker; `onCopied` runs after each checkpoint that copied frames, `onFailure`
   * if the worker cannot work (the caller turns automatic checkpoints back on).
   */
  constructor(file: string, onCopied: () => void, onFailure: (err: unknown) => void) {
    this.worker = new Worker(new URL(import.meta.url), { workerData: { pinstripeCheckpoint: true, file } satisfies WorkerArgs });
    this.worker.unref();
    this.worker.on('error', onFailure);
    this.worker.on('message', (m) => {
      if (m === 'copied') onCopied();
      else if (m === 'final-done') this.settleFinal();
    });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => { this.settleFinal(); resolve(); }));
  }

  private finalDone: (() => void) | null = null;
  private settleFinal(): void {
    const done = this.finalDone;
    this.finalDone = null;
    done?.();
  }

  /**
   * Has the worker copy what the WAL holds beyond its last pass, while the caller keeps its
   * own writes back (the store holds its writer lock): the WAL is then fully copied, so the
   * next write transaction starts it over, and the copy and its two fsyncs happen off the
   * event loop. Resolves when done, or after FINAL_PASS_TIMEOUT_MS whatever happened.
   */
  finalPass(): Promise<void> {
    return new Promise<void>((resolve) => {
      const timeout = setTimeout(() => { if (this.finalDone === finish) this.finalDone = null; resolve(); }, FINAL_PASS_TIMEOUT_MS);
      const finish = () => { clearTimeout(timeout); resolve(); };
      this.settleFinal(); // at most one outstanding
      this.finalDone = finish;
      this.worker.postMessage('final');
    });
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
  const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
  let lastCopied = 0;
  const timer = setInterval(() => {
    try {
      // log: frames in the WAL; checkpointed: frames copied into the database so far.
      let r = checkpoint.get() as { busy: number; log: number; checkpointed: number };
      // The writer went on appending while this pass copied; another pass copies that, and
      // so on while the passes shrink, so that what the store copies on its own thread (the
      // frames written during the last pass) is little.
      for (let pass = 1; r.busy === 0 && pass < MAX_PASSES; pass++) {
        const before = r.log;
        r = checkpoint.get() as typeof r;
        if (r.log - before < SMALL_TAIL_FRAMES) break;
      }
      if (r.busy === 0 && r.checkpointed > 0 && r.checkpointed !== lastCopied) parentPort!.postMessage('copied');
      lastCopied = r.checkpointed;
    } catch { /* busy: the next tick */ }
  }, CHECKPOINT_EVERY_MS);
  parentPort!.on('message', (m) => {
    if (m === 'final') {
      try { checkpoint.get(); } catch { /* busy: another process checkpointing; the next tick */ }
      parentPort!.postMessage('final-done');
      return;
    }
    if (m !== 'close') return;
    clearInterval(timer);
    db.close();
    parentPort!.close();
  });
}

if (!isMainThread && (workerData as Partial<WorkerArgs> | null)?.pinstripeCheckpoint) runWorker(workerData as WorkerArgs);
