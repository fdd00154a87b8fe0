// The Pinstripe server under test, in its own process so the load generator does not share
// its CPU. Started by bench/run.ts with fork(); answers IPC commands:
//   seed     insert customers straight through the store (100k over HTTP would take minutes)
//   profile-start / profile-stop   CPU profile of this process (node:inspector)
//   memory   process.memoryUsage() (the parent reads VmRSS from /proc itself)
//   close    graceful shutdown
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { startServer } from '../src/server.js';
import { authenticate } from '../src/http/auth.js';
import { customers } from '../src/resources/customers.js';
import { indexEntries } from '../src/resources/define.js';
import type { NewObject } from '../src/store/store.js';
import { serve } from './ipc.js';

interface Args { dataDir?: string; databaseUrl?: string }
const args: Args = JSON.parse(process.argv[2] ?? '{}');

const server = await startServer({
  port: 0, host: '127.0.0.1', dataDir: args.dataDir, databaseUrl: args.databaseUrl, logLevel: 'warn',
});
const { store, ids } = server.services;
let session: Session | null = null;

serve({
  async seed(msg) {
    // Clones a customer created over HTTP (its stored form, so nothing the API renders
    // differently is lost) with fresh ids, emails and created times, in batches of `batch`.
    const key = msg.key as string;
    const templateId = msg.templateId as string;
    const count = msg.count as number;
    const batch = (msg.batch as number | undefined) ?? 1000;
    const startIndex = (msg.startIndex as number | undefined) ?? 0;
    const { scope } = authenticate(`Bearer ${key}`);
    const template = await store.get(scope, templateId);
    if (!template) throw new Error(`template ${templateId} not found`);
    const t0 = performance.now();
    for (let done = 0; done < count; done += batch) {
      const n = Math.min(batch, count - done);
      await store.transaction(async (tx) => {
        for (let j = 0; j < n; j++) {
          const i = startIndex + done + j;
          const data = structuredClone(template.data);
          data.id = ids.id('cus');
          // Spread over the ~28 hours before the template, a few customers per second.
          data.created = template.created - 1 - Math.floor((count + startIndex - i) / 4);
          data.email = `bench${i}@example.com`;
          data.name = `Bench ${i}`;
          data.invoice_prefix = ids.random(8).toUpperCase();
          const obj: NewObject = { id: data.id, type: 'customer', created: data.created, data, index: indexEntries(customers, data) }; // as the API writes them (search entries included)
          await tx.insert(scope, obj);
        }
      });
      // Let the event loop (and GC) breathe between batches, as a live server would.
      await new Promise((r) => setImmediate(r));
    }
    return { seeded: count, ms: Math.round(performance.now() - t0) };
  },

  async 'profile-start'(msg) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: (msg.intervalUs as number | undefined) ?? 200 });
    await session.post('Profiler.start');
    return true;
  },

  async 'profile-stop'(msg) {
    if (!session) throw new Error('profiler not started');
    const { profile } = await session.post('Profiler.stop');
    await session.post('Profiler.disable');
    session.disconnect();
    session = null;
    writeFileSync(msg.file as string, JSON.stringify(profile));
    return msg.file;
  },

  async reset(msg) {
    // Removes the bench accounts' data (PostgreSQL databases outlive the run).
    for (const key of msg.keys as string[]) await store.reset(authenticate(`Bearer ${key}`).scope.account);
    return true;
  },

  memory(msg) {
    // With gc: a full collection first (the child runs with --expose-gc), to tell garbage
    // left by the load from memory the server keeps.
    const g = (globalThis as { gc?: () => void }).gc;
    if (msg.gc && g) { g(); g(); }
    return process.memoryUsage();
  },

  async close() {
    await server.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});

process.send!({ ready: true, port: server.port, pid: process.pid, store: store.kind });
