// `node dist/bench/cpu.js [--requests 4000] [--connections 20] [--rounds 3] [--only get,post,pay]`:
// server CPU per request (µs of user+system time, from /proc, over a fixed number of requests),
// Pinstripe against the bare node:http reference answering the same bytes. CPU time per
// request is far less sensitive than throughput to other processes sharing the machine, so
// this is the figure to compare changes with on a busy box. Prints the median and the minimum
// of the rounds (the minimum is the least disturbed by other processes).
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from './ipc.js';
import { processCpuSeconds } from './load.js';
import { formatProfile, summarizeProfile } from './profile.js';
import { NODE_FLAGS } from '../src/cli/defaults.js';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (o: Record<string, unknown>, cb: (err: Error | null, r: { non2xx: number; errors: number; requests: { total: number } }) => void) => unknown;
const here = dirname(fileURLToPath(import.meta.url));

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : dflt; };
const requests = Number(opt('requests', '4000'));
const connections = Number(opt('connections', '20'));
const rounds = Number(opt('rounds', '3'));
const only = new Set(opt('only', 'get,post,pay').split(','));
const databaseUrl = opt('database-url', '') || undefined;
const profile = argv.includes('--profile');

function start(script: string, args: unknown): Promise<{ proc: ChildProcess; port: number; pid: number }> {
  const proc = fork(join(here, script), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: NODE_FLAGS });
  return new Promise((resolve, reject) => {
    proc.on('message', (m: { ready?: boolean; port?: number; pid?: number }) => { if (m?.ready) resolve({ proc, port: m.port!, pid: m.pid! }); });
    proc.on('exit', (c) => reject(new Error(`${script} exited ${c}`)));
  });
}

function load(port: number, spec: { method: string; path: string; headers: Record<string, string>; body?: string; fresh?: boolean }, amount: number): Promise<void> {
  const req: Record<string, unknown> = { method: spec.method, path: spec.path, headers: spec.headers, body: spec.body };
  if (spec.fresh) req.setupRequest = (r: { headers: Record<string, string> }) => ({ ...r, headers: { ...r.headers, 'Idempotency-Key': `stripe-node-retry-${randomUUID()}` } });
  return new Promise((resolve, reject) => {
    autocannon({ url: `http://127.0.0.1:${port}`, connections, amount, pipelining: 1, timeout: 30, requests: [req] }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx || r.errors) return reject(new Error(`${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve();
    });
  });
}

async function cpuPerRequest(pid: number, port: number, spec: Parameters<typeof load>[1]): Promise<number> {
  await load(port, spec, Math.max(200, requests / 4)); // warm-up
  const c0 = processCpuSeconds(pid);
  await load(port, spec, requests);
  return ((processCpuSeconds(pid) - c0) / requests) * 1e6;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dataDir = databaseUrl ? undefined : mkdtempSync(join(tmpdir(), 'pinstripe-cpu-'));
const pin = await start('server-child.js', { dataDir, databaseUrl });
const ref = await start('reference-child.js', {});
const key = `sk_test_cpu${randomBytes(6).toString('hex')}`;
const auth = { Authorization: `Bearer ${key}` };
const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
try {
  const created = await (await fetch(`http://127.0.0.1:${pin.port}/v1/customers`, { method: 'POST', headers: { ...auth, ...form }, body: 'email=a%40b.com&name=Bench' })).json() as { id: string };
  const scenarios = [
    { name: 'get', spec: { method: 'GET', path: `/v1/customers/${created.id}`, headers: auth } },
    { name: 'post', spec: { method: 'POST', path: '/v1/customers', headers: { ...auth, ...form }, body: 'email=a%40b.com&name=Bench', fresh: true } },
    { name: 'pay', spec: { method: 'POST', path: '/v1/payment_intents', headers: { ...auth, ...form }, body: 'amount=1000&currency=usd&payment_method=pm_card_visa&payment_method_types[0]=card&confirm=true', fresh: true } },
  ].filter((s) => only.has(s.name));
  console.log(`per-request server CPU, µs (median and minimum of ${rounds} rounds of ${requests} requests, ${connections} connections, ${databaseUrl ? 'postgres' : 'sqlite'})`);
  for (const s of scenarios) {
    const sample = await fetch(`http://127.0.0.1:${pin.port}${s.spec.path}`, { method: s.spec.method, headers: { ...s.spec.headers, ...(s.spec.fresh ? { 'Idempotency-Key': randomUUID() } : {}) }, body: s.spec.body });
    const body = await sample.text();
    if (sample.status !== 200) throw new Error(`${s.name}: ${sample.status} ${body.slice(0, 200)}`);
    await call(ref.proc, 'respond', { status: 200, body });
    const r: number[] = [];
    const p: number[] = [];
    for (let i = 0; i < rounds; i++) {
      r.push(await cpuPerRequest(ref.pid, ref.port, s.spec));
      p.push(await cpuPerRequest(pin.pid, pin.port, s.spec));
    }
    if (profile) {
      const file = join(tmpdir(), `pinstripe-cpu-${s.name}.cpuprofile`);
      await call(pin.proc, 'profile-start', { intervalUs: 100 });
      await load(pin.port, s.spec, requests);
      await call(pin.proc, 'profile-stop', { file });
      console.log(formatProfile(`${s.name} (${file})`, summarizeProfile(file, 40)));
    }
    const rm = median(r);
    const pm = median(p);
    const rmin = Math.min(...r);
    const pmin = Math.min(...p);
    console.log(`${s.name.padEnd(5)} median: reference ${rm.toFixed(0).padStart(5)}  pinstripe ${pm.toFixed(0).padStart(5)}  ratio ${(rm / pm).toFixed(3)}; min: ${rmin.toFixed(0)} / ${pmin.toFixed(0)} = ${(rmin / pmin).toFixed(3)}   (pinstripe rounds: ${p.map((x) => x.toFixed(0)).join(', ')}; ref: ${r.map((x) => x.toFixed(0)).join(', ')})`);
  }
} finally {
  if (databaseUrl) await call(pin.proc, 'reset', { keys: [key] }).catch(() => {});
  await call(pin.proc, 'close').catch(() => {});
  await call(ref.proc, 'close').catch(() => {});
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}
