// `node dist/bench/webhooks.js`: webhook delivery throughput and latency, as ratios to the API
// throughput measured in the same run.
//
// The server runs in a child process (bench/server-child, default delivery settings); this
// process runs the load (concurrent keep-alive POST /v1/customers) and a node:http receiver.
//   phase 1: API only (no endpoint): customers created per second -> the reference
//   phase 2: the same load with one `*` endpoint pointing at the receiver: API/s again, then
//            events delivered per second (from the first request to the last delivery) and,
//            per event, the time from the API response to its arrival at the receiver.
// Flags: --duration <s> (5) --connections <n> (20) --store sqlite|postgres (DATABASE_URL)
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from './ipc.js';
import { NODE_FLAGS } from '../src/cli/defaults.js';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const flag = (name: string, dflt: string) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const duration = Number(flag('--duration', '5')) * 1000;
const connections = Number(flag('--connections', '20'));
const storeKind = flag('--store', process.env.DATABASE_URL ? 'postgres' : 'sqlite');

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function startChild(): Promise<{ proc: ChildProcess; port: number; dir?: string }> {
  const dir = storeKind === 'sqlite' ? mkdtempSync(join(tmpdir(), 'pinstripe-bench-wh-')) : undefined;
  const args = storeKind === 'sqlite' ? { dataDir: dir } : { databaseUrl: process.env.DATABASE_URL };
  const proc = fork(join(here, 'server-child.js'), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: NODE_FLAGS });
  const port = await new Promise<number>((resolve, reject) => {
    proc.on('message', (m: any) => { if (m?.ready) resolve(m.port); });
    proc.on('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  return { proc, port, dir };
}

async function load(base: string, key: string, onResponse: (id: string, atMs: number) => void): Promise<{ requests: number; ms: number }> {
  const end = performance.now() + duration;
  const t0 = performance.now();
  let requests = 0;
  const worker = async (w: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const res = await fetch(`${base}/v1/customers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${key}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Idempotency-Key': `b-${w}-${i}-${randomBytes(6).toString('hex')}` },
        body: `name=bench+${w}+${i}&email=b${w}x${i}%40example.com`,
      });
      const body = await res.json() as { id: string };
      if (res.status !== 200) throw new Error(`API answered ${res.status}`);
      onResponse(body.id, performance.now());
      requests++;
    }
  };
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  return { requests, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  const { proc, port, dir } = await startChild();
  const base = `http://127.0.0.1:${port}`;
  const arrivals = new Map<string, number>();
  let lastArrival = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d) => chunks.push(d));
    req.on('end', () => {
      const now = performance.now();
      const ev = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      arrivals.set(ev.data.object.id, now);
      lastArrival = now;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const rxPort = (receiver.address() as AddressInfo).port;
  const keys: string[] = [];
  try {
    // Phase 1: API only.
    const k1 = `sk_test_bench${randomBytes(8).toString('hex')}`;
    keys.push(k1);
    const api = await load(base, k1, () => {});
    const apiRate = api.requests / (api.ms / 1000);

    // Phase 2: with an endpoint.
    const k2 = `sk_test_bench${randomBytes(8).toString('hex')}`;
    keys.push(k2);
    const we = await fetch(`${base}/v1/webhook_endpoints`, {
      method: 'POST', headers: { Authorization: `Bearer ${k2}`, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `url=${encodeURIComponent(`http://127.0.0.1:${rxPort}/`)}&enabled_events[]=*`,
    });
    if (we.status !== 200) throw new Error(`endpoint create failed: ${we.status}`);
    const responded = new Map<string, number>();
    const t0 = performance.now();
    const withHooks = await load(base, k2, (id, at) => responded.set(id, at));
    const hookApiRate = withHooks.requests / (withHooks.ms / 1000);
    const drainDeadline = performance.now() + 120_000;
    while (arrivals.size < responded.size && performance.now() < drainDeadline) await new Promise((r) => setTimeout(r, 20));
    const deliveredRate = arrivals.size / ((lastArrival - t0) / 1000);
    const lat = [...responded].filter(([id]) => arrivals.has(id)).map(([id, at]) => arrivals.get(id)! - at).sort((a, b) => a - b);
    const result = {
      store: storeKind, connections, durationS: duration / 1000,
      apiOnlyPerS: Math.round(apiRate),
      apiWithWebhooksPerS: Math.round(hookApiRate),
      apiSlowdown: +(hookApiRate / apiRate).toFixed(3),
      eventsCreated: responded.size, eventsDelivered: arrivals.size,
      deliveredPerS: Math.round(deliveredRate),
      deliveredToApiRatio: +(deliveredRate / apiRate).toFixed(3),
      responseToDeliveryMs: { p50: +percentile(lat, 50).toFixed(1), p99: +percentile(lat, 99).toFixed(1), max: +percentile(lat, 100).toFixed(1) },
    };
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  } finally {
    await call(proc, 'reset', { keys }).catch(() => {});
    await call(proc, 'close').catch(() => {});
    receiver.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

await main();
