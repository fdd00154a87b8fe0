// `npm run bench`: Pinstripe's throughput and latency as ratios to a bare node:http server
// answering the same bytes, measured in the same run, so the machine's speed cancels out.
//
// Processes: this one runs the load generator (autocannon); Pinstripe (bench/server-child)
// and the reference (bench/reference-child) each run in a child process. On a machine with
// two or more CPUs the load generator is pinned to CPU 0 and both servers to CPU 1 (taskset),
// so each side gets one core and the reference and Pinstripe get the same one.
//
// Scenarios: GET retrieve of a customer; POST create with a fresh Idempotency-Key per request
// (as stripe-node sends them); POST /v1/payment_intents create-and-confirm with a test card
// (the card network, a charge, a balance transaction, three events per request); GET list limit=10 at 1k and at 100k customers (seeded through
// the store API in the server child). Then the server's RSS with 100k customers.
//
// Flags: --duration <s> (5) --warmup <s> (1) --connections <n> (20) --customers <n> (100000)
//        --store sqlite|postgres (postgres uses --database-url or DATABASE_URL)
//        --loader autocannon|wrk (wrk, if installed, costs the loader far less CPU per request)
//        --profile (an extra profiled pass per scenario; summaries printed, .cpuprofile kept)
//        --only get,post,pay,list (subset) --no-pin (skip CPU pinning) --out <file.json>
import { fork, execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID, randomBytes } from 'node:crypto';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { call } from './ipc.js';
import { backgroundLoad, hasWrk, runLoad, rssMb, type LoadResult, type Loader, type RequestSpec } from './load.js';
import { formatProfile, summarizeProfile, type ProfileSummary } from './profile.js';
import { NODE_FLAGS } from '../src/cli/defaults.js';

// ---------------------------------------------------------------- options

interface Options {
  duration: number;
  warmup: number;
  connections: number;
  customers: number;
  smallCustomers: number;
  store: 'sqlite' | 'postgres';
  databaseUrl?: string;
  profile: boolean;
  only: Set<string>;
  pin: boolean;
  out: string;
  loader: Loader;
}

const here = dirname(fileURLToPath(import.meta.url));
// dist/bench → the repository root is two levels up; results go to <root>/bench/results.
const root = resolve(here, '..', '..');

function parseArgs(argv: string[]): Options {
  const o: Options = {
    duration: 5, warmup: 1, connections: 20, customers: 100_000, smallCustomers: 1_000,
    store: 'sqlite', databaseUrl: process.env.DATABASE_URL, profile: false,
    only: new Set(['get', 'post', 'pay', 'list']), pin: true, out: join(root, 'bench', 'results', 'latest.json'), loader: 'autocannon',
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    const num = () => {
      const n = Number(value());
      if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} must be a positive number`);
      return n;
    };
    switch (flag) {
      case '--duration': o.duration = num(); break;
      case '--warmup': o.warmup = Number(value()); break;
      case '--connections': o.connections = Math.round(num()); break;
      case '--customers': o.customers = Math.round(num()); break;
      case '--store': {
        const s = value();
        if (s !== 'sqlite' && s !== 'postgres') throw new Error('--store must be sqlite or postgres');
        o.store = s;
        break;
      }
      case '--database-url': o.databaseUrl = value(); break;
      case '--loader': {
        const l = value();
        if (l !== 'autocannon' && l !== 'wrk') throw new Error('--loader must be autocannon or wrk');
        o.loader = l;
        break;
      }
      case '--profile': o.profile = true; break;
      case '--only': o.only = new Set(value().split(',').map((s) => s.trim())); break;
      case '--no-pin': o.pin = false; break;
      case '--out': o.out = resolve(value()); break;
      case '-h': case '--help':
        console.log('usage: npm run bench -- [--duration 5] [--warmup 1] [--connections 20] [--customers 100000] [--store sqlite|postgres] [--database-url URL] [--loader autocannon|wrk] [--profile] [--only get,post,pay,list] [--no-pin] [--out file.json]');
        process.exit(0);
      default: throw new Error(`unknown flag ${a}`);
    }
  }
  if (o.loader === 'wrk' && !hasWrk()) throw new Error('--loader wrk: wrk is not installed (apt-get install wrk); the default autocannon loader needs nothing');
  if (o.store === 'postgres' && !o.databaseUrl) throw new Error('--store postgres needs --database-url or DATABASE_URL');
  if (o.customers <= o.smallCustomers) o.smallCustomers = Math.max(1, Math.floor(o.customers / 10));
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

// ---------------------------------------------------------------- processes

function hasTaskset(): boolean {
  try { execFileSync('taskset', ['-V'], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Pins every thread of a process to one CPU (threads created later inherit it). */
function pin(pid: number, cpu: number): boolean {
  try { execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' }); return true; } catch { return false; }
}

interface Child { proc: ChildProcess; port: number; pid: number; name: string }

function startChild(name: string, script: string, args: unknown): Promise<Child> {
  // --expose-gc only adds global.gc(), used for the after-GC memory reading, never during load.
  const proc = fork(join(here, script), [JSON.stringify(args)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: ['--expose-gc', ...NODE_FLAGS] });
  return new Promise((resolveChild, reject) => {
    const onMessage = (m: { ready?: boolean; port?: number; pid?: number }) => {
      if (!m?.ready) return;
      proc.off('message', onMessage);
      proc.off('exit', onExit);
      resolveChild({ proc, port: m.port!, pid: m.pid!, name });
    };
    const onExit = (code: number | null) => reject(new Error(`${name} exited with ${code} before it was ready`));
    proc.on('message', onMessage);
    proc.on('exit', onExit);
  });
}

async function stopChild(c: Child | undefined): Promise<void> {
  if (!c || c.proc.exitCode !== null) return;
  const exited = new Promise<void>((r) => c.proc.once('exit', () => r()));
  try { await call(c.proc, 'close', {}, 10_000); } catch { /* it may have gone already */ }
  const timer = setTimeout(() => c.proc.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------- HTTP helpers

interface Captured { status: number; body: string; contentType: string }

async function request(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Captured> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, headers, body });
  return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

function expectOk(what: string, r: Captured): Record<string, any> {
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${r.body.slice(0, 300)}`);
  return JSON.parse(r.body);
}

// ---------------------------------------------------------------- measurement

interface Side { rps: number; p50: number; p90: number; p99: number; max: number; mean: number; requests: number; non2xx: number; errors: number; loaderCpu: number; serverCpu: number }
interface ScenarioResult {
  name: string;
  description: string;
  request: { method: string; path: string; bodyBytes: number; responseBytes: number };
  reference: Side;
  pinstripe: Side;
  throughputRatio: number;
  p99Ratio: number;
  profile?: { file: string; summary: ProfileSummary };
}

const side = (r: LoadResult): Side => ({
  rps: r.rps, p50: r.latencyMs.p50, p90: r.latencyMs.p90, p99: r.latencyMs.p99, max: r.latencyMs.max, mean: r.latencyMs.mean,
  requests: r.requests, non2xx: r.non2xx, errors: r.errors, loaderCpu: r.loaderCpu, serverCpu: r.serverCpu,
});

async function measure(o: Options, target: Child, spec: RequestSpec): Promise<LoadResult> {
  if (o.warmup > 0) await runLoad({ port: target.port, spec, connections: o.connections, duration: o.warmup, serverPid: target.pid, loader: o.loader });
  return runLoad({ port: target.port, spec, connections: o.connections, duration: o.duration, serverPid: target.pid, loader: o.loader });
}

async function scenario(
  o: Options, name: string, description: string, pin: Child, ref: Child, spec: RequestSpec, sample: Captured, resultsDir: string,
): Promise<ScenarioResult> {
  await call(ref.proc, 'respond', { status: sample.status, body: sample.body });
  log(`${name}: reference (${o.warmup}s warm-up + ${o.duration}s)`);
  const r = await measure(o, ref, spec);
  log(`${name}: pinstripe (${o.warmup}s warm-up + ${o.duration}s)`);
  const p = await measure(o, pin, spec);
  const out: ScenarioResult = {
    name, description,
    request: { method: spec.method, path: spec.path, bodyBytes: spec.body?.length ?? 0, responseBytes: Buffer.byteLength(sample.body) },
    reference: side(r), pinstripe: side(p),
    throughputRatio: p.rps / r.rps,
    p99Ratio: p.latencyMs.p99 / r.latencyMs.p99,
  };
  if (o.profile) {
    const file = join(resultsDir, `${name}.cpuprofile`);
    log(`${name}: profiled pass (${o.duration}s)`);
    await call(pin.proc, 'profile-start');
    await runLoad({ port: pin.port, spec, connections: o.connections, duration: o.duration, serverPid: pin.pid, loader: o.loader });
    await call(pin.proc, 'profile-stop', { file });
    out.profile = { file, summary: summarizeProfile(file, 20) };
  }
  return out;
}

// ---------------------------------------------------------------- report

interface Check { name: string; measured: string; target: string; value: number; limit: number; pass: boolean; note?: string }

const fmt = (n: number, d = 0) => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : 'n/a');
const ms = (n: number) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : 'n/a');

function table(head: string[], rows: string[][]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(w[i]!) : c.padStart(w[i]!))).join(' | ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('-|-'), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const resultsDir = dirname(o.out);
  mkdirSync(resultsDir, { recursive: true });

  const ncpu = cpus().length;
  const pinning = o.pin && ncpu >= 2 && hasTaskset();
  if (pinning) pin(process.pid, 0);
  else log(`CPU pinning off (${!o.pin ? '--no-pin' : ncpu < 2 ? 'one CPU' : 'taskset not found'}): loader and servers share CPUs`);

  const dataDir = o.store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'pinstripe-bench-')) : undefined;
  const runId = randomBytes(6).toString('hex');
  const keyRw = `sk_test_bench${runId}`;
  const keyList = `sk_test_benchlist${runId}`;
  let pinstripe: Child | undefined;
  let reference: Child | undefined;
  const cleanup = async () => {
    if (pinstripe && o.store === 'postgres') {
      try { await call(pinstripe.proc, 'reset', { keys: [keyRw, keyList] }, 120_000); } catch (e) { log(`reset failed: ${(e as Error).message}`); }
    }
    await stopChild(pinstripe);
    await stopChild(reference);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => { void cleanup().finally(() => process.exit(130)); });

  try {
    pinstripe = await startChild('pinstripe', 'server-child.js', { dataDir, databaseUrl: o.store === 'postgres' ? o.databaseUrl : undefined });
    reference = await startChild('reference', 'reference-child.js', {});
    if (pinning) { pin(pinstripe.pid, 1); pin(reference.pid, 1); }
    const rssIdle = rssMb(pinstripe.pid);
    // Other processes eating CPU make every figure meaningless: say so up front.
    const bg = await backgroundLoad(1000, [pinstripe.pid, reference.pid]);
    const busyNote = bg.busyCores > 0.15
      ? `WARNING: the machine was already busy before the bench (${bg.busyCores.toFixed(2)} cores in use: ${bg.top.map((t) => `pid ${t.pid} ${Math.round(t.cores * 100)}% ${t.cmd}`).join('; ') || 'unknown'}); figures are unreliable.`
      : undefined;
    if (busyNote) log(busyNote);
    log(`pinstripe pid ${pinstripe.pid} port ${pinstripe.port} (${o.store}${dataDir ? ` in ${dataDir}` : ''}); reference pid ${reference.pid} port ${reference.port}; ${o.connections} connections, ${o.duration}s per run`);

    const auth = (key: string) => ({ Authorization: `Bearer ${key}` });
    const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
    const results: ScenarioResult[] = [];
    let rssSeeded = NaN;
    let rssAfterList = NaN;
    let seedMs = NaN;
    let rssAfterGc = NaN;
    let rssSmall = NaN;
    let heapAfterList: NodeJS.MemoryUsage | undefined;
    let heapAfterGc: NodeJS.MemoryUsage | undefined;

    // (1) GET retrieve
    const created = expectOk('create customer', await request(pinstripe.port, 'POST', '/v1/customers', { ...auth(keyRw), ...form }, 'email=a%40b.com&name=Bench'));
    if (o.only.has('get')) {
      const path = `/v1/customers/${created.id}`;
      const sample = await request(pinstripe.port, 'GET', path, auth(keyRw));
      expectOk('retrieve customer', sample);
      results.push(await scenario(o, 'get', 'GET /v1/customers/{id}', pinstripe, reference, { method: 'GET', path, headers: auth(keyRw) }, sample, resultsDir));
    }

    // (2) POST create, durable, fresh Idempotency-Key per request
    if (o.only.has('post')) {
      const body = 'email=a%40b.com&name=Bench';
      const headers = { ...auth(keyRw), ...form };
      const sample = await request(pinstripe.port, 'POST', '/v1/customers', { ...headers, 'Idempotency-Key': `stripe-node-retry-${randomUUID()}` }, body);
      expectOk('create customer (idempotent)', sample);
      results.push(await scenario(o, 'post', 'POST /v1/customers + Idempotency-Key', pinstripe, reference, {
        method: 'POST', path: '/v1/customers', headers, body,
        perRequestHeaders: () => ({ 'Idempotency-Key': `stripe-node-retry-${randomUUID()}` }),
      }, sample, resultsDir));
    }

    // (2b) create-and-confirm a PaymentIntent with a test card, fresh Idempotency-Key per request
    if (o.only.has('pay')) {
      const body = 'amount=1000&currency=usd&payment_method=pm_card_visa&payment_method_types[0]=card&confirm=true';
      const headers = { ...auth(keyRw), ...form };
      const sample = await request(pinstripe.port, 'POST', '/v1/payment_intents', { ...headers, 'Idempotency-Key': `stripe-node-retry-${randomUUID()}` }, body);
      if (expectOk('create-and-confirm', sample).status !== 'succeeded') throw new Error('create-and-confirm: the PaymentIntent did not succeed');
      results.push(await scenario(o, 'pay', 'POST /v1/payment_intents confirm=true (pm_card_visa) + Idempotency-Key', pinstripe, reference, {
        method: 'POST', path: '/v1/payment_intents', headers, body,
        perRequestHeaders: () => ({ 'Idempotency-Key': `stripe-node-retry-${randomUUID()}` }),
      }, sample, resultsDir));
    }

    // (3) list limit=10 at 1k, then at 100k customers (one account that grows)
    if (o.only.has('list')) {
      const template = expectOk('create template customer', await request(pinstripe.port, 'POST', '/v1/customers', { ...auth(keyList), ...form }, 'email=template%40example.com&name=Template&description=bench+template'));
      const seed = async (count: number, startIndex: number) => {
        log(`seeding ${fmt(count)} customers through the store`);
        const r = await call<{ seeded: number; ms: number }>(pinstripe!.proc, 'seed', { key: keyList, templateId: template.id, count, startIndex, batch: 1000 });
        log(`seeded ${fmt(r.seeded)} in ${fmt(r.ms / 1000, 1)} s`);
        return r.ms;
      };
      const spec: RequestSpec = { method: 'GET', path: '/v1/customers?limit=10', headers: auth(keyList) };
      const small = o.smallCustomers;
      seedMs = await seed(small - 1, 0);
      const sample1k = await request(pinstripe.port, 'GET', spec.path, spec.headers);
      const page1k = expectOk('list at 1k', sample1k);
      if (page1k.data.length !== 10 || page1k.has_more !== true) throw new Error('list at 1k: expected 10 items and has_more');
      const label = (n: number) => (n >= 1000 && n % 1000 === 0 ? `${n / 1000}k` : String(n));
      results.push(await scenario(o, `list-${label(small)}`, `GET /v1/customers?limit=10 (${fmt(small)} customers)`, pinstripe, reference, spec, sample1k, resultsDir));

      rssSmall = rssMb(pinstripe.pid);
      seedMs += await seed(o.customers - small, small - 1);
      rssSeeded = rssMb(pinstripe.pid);
      const sample100k = await request(pinstripe.port, 'GET', spec.path, spec.headers);
      expectOk('list at 100k', sample100k);
      results.push(await scenario(o, `list-${label(o.customers)}`, `GET /v1/customers?limit=10 (${fmt(o.customers)} customers)`, pinstripe, reference, spec, sample100k, resultsDir));
      rssAfterList = rssMb(pinstripe.pid);
      heapAfterList = await call<NodeJS.MemoryUsage>(pinstripe.proc, 'memory', { gc: false });
      heapAfterGc = await call<NodeJS.MemoryUsage>(pinstripe.proc, 'memory', { gc: true });
      rssAfterGc = rssMb(pinstripe.pid);
    }

    // ---- checks against the issue's targets
    const checks: Check[] = [];
    const byName = (n: string) => results.find((r) => r.name === n);
    const healthy = (r: ScenarioResult) => r.pinstripe.non2xx === 0 && r.pinstripe.errors === 0 && r.pinstripe.requests > 0;
    const note = (r: ScenarioResult) => (healthy(r) ? undefined : `${r.pinstripe.non2xx} non-2xx, ${r.pinstripe.errors} errors`);
    const get = byName('get');
    if (get) checks.push({ name: 'GET retrieve throughput', measured: `${get.throughputRatio.toFixed(2)}x reference`, target: '>= 0.50x', value: get.throughputRatio, limit: 0.5, pass: get.throughputRatio >= 0.5 && healthy(get), note: note(get) });
    const post = byName('post');
    if (post) checks.push({ name: 'POST create (durable, idempotent) throughput', measured: `${post.throughputRatio.toFixed(2)}x reference`, target: '>= 0.25x', value: post.throughputRatio, limit: 0.25, pass: post.throughputRatio >= 0.25 && healthy(post), note: note(post) });
    const pay = byName('pay');
    if (pay) checks.push({ name: 'PaymentIntent create-and-confirm throughput', measured: `${pay.throughputRatio.toFixed(2)}x reference`, target: '>= 0.15x', value: pay.throughputRatio, limit: 0.15, pass: pay.throughputRatio >= 0.15 && healthy(pay), note: note(pay) });
    const lists = results.filter((r) => r.name.startsWith('list-'));
    if (lists.length === 2) {
      const [a, b] = lists as [ScenarioResult, ScenarioResult];
      const ratio = b.pinstripe.p99 / a.pinstripe.p99;
      checks.push({ name: `list p99 at ${b.name.slice(5)} vs ${a.name.slice(5)}`, measured: `${ms(b.pinstripe.p99)} / ${ms(a.pinstripe.p99)} ms = ${ratio.toFixed(2)}x`, target: '<= 1.50x', value: ratio, limit: 1.5, pass: ratio <= 1.5 && healthy(a) && healthy(b), note: note(b) ?? note(a) });
    }
    const rssPeak = Math.max(rssSeeded, rssAfterList);
    if (Number.isFinite(rssPeak)) checks.push({ name: `server RSS with ${fmt(o.customers)} customers`, measured: `${rssPeak.toFixed(1)} MB`, target: '<= 150 MB', value: rssPeak, limit: 150, pass: rssPeak <= 150 });

    // ---- print
    const out: string[] = [];
    out.push('');
    out.push(`Pinstripe bench — store ${o.store}, loader ${o.loader}, ${o.connections} connections, ${o.duration}s per run after ${o.warmup}s warm-up, node ${process.version}, ${ncpu} CPUs (${cpus()[0]?.model.trim() ?? '?'})${pinning ? ', loader on CPU 0, servers on CPU 1' : ', no CPU pinning'}`);
    out.push('');
    out.push(table(
      ['scenario', 'reference req/s', 'pinstripe req/s', 'ratio', 'target', 'result'],
      results.map((r) => {
        const target = r.name === 'get' ? '>= 0.50x' : r.name === 'post' ? '>= 0.25x' : r.name === 'pay' ? '>= 0.15x' : '-';
        const check = r.name === 'get' || r.name === 'post' ? checks.find((c) => c.name.startsWith(r.name === 'get' ? 'GET' : 'POST'))
          : r.name === 'pay' ? checks.find((c) => c.name.startsWith('PaymentIntent')) : undefined;
        return [r.name, fmt(r.reference.rps), fmt(r.pinstripe.rps), `${r.throughputRatio.toFixed(2)}x`, target, check ? (check.pass ? 'PASS' : 'FAIL') : '-'];
      }),
    ));
    out.push('');
    out.push(table(
      ['latency (ms)', 'ref p50', 'ref p99', 'pin p50', 'pin p90', 'pin p99', 'pin max', 'p99 ratio', 'loader CPU ref/pin', 'server CPU ref/pin'],
      results.map((r) => [
        r.name, ms(r.reference.p50), ms(r.reference.p99), ms(r.pinstripe.p50), ms(r.pinstripe.p90), ms(r.pinstripe.p99),
        ms(r.pinstripe.max), `${r.p99Ratio.toFixed(2)}x`,
        `${pct(r.reference.loaderCpu)}/${pct(r.pinstripe.loaderCpu)}`, `${pct(r.reference.serverCpu)}/${pct(r.pinstripe.serverCpu)}`,
      ]),
    ));
    out.push('');
    out.push(table(['target', 'measured', 'target', 'result'], checks.map((c) => [c.name, c.measured, c.target, (c.pass ? 'PASS' : 'FAIL') + (c.note ? ` (${c.note})` : '')])));
    out.push('');
    if (Number.isFinite(rssPeak)) {
      out.push(`RSS of the server process (VmRSS): idle ${rssIdle.toFixed(1)} MB, after the ${fmt(o.smallCustomers)}-customer list load ${rssSmall.toFixed(1)} MB, after seeding ${fmt(o.customers)} customers ${rssSeeded.toFixed(1)} MB, after the list load ${rssAfterList.toFixed(1)} MB (seeding took ${fmt(seedMs / 1000, 1)} s)`);
      const mb = (n: number | undefined) => (n === undefined ? 'n/a' : (n / 1048576).toFixed(1));
      if (heapAfterList && heapAfterGc) {
        out.push(`  V8 heap used/total ${mb(heapAfterList.heapUsed)}/${mb(heapAfterList.heapTotal)} MB, external ${mb(heapAfterList.external)} MB; after a full GC: heap ${mb(heapAfterGc.heapUsed)}/${mb(heapAfterGc.heapTotal)} MB, RSS ${rssAfterGc.toFixed(1)} MB (diagnostic only; the target uses the readings above)`);
      }
    }
    if (busyNote) out.push(busyNote);
    const bad = results.filter((r) => r.pinstripe.non2xx || r.pinstripe.errors || r.reference.non2xx || r.reference.errors);
    for (const r of bad) out.push(`WARNING ${r.name}: pinstripe ${r.pinstripe.non2xx} non-2xx / ${r.pinstripe.errors} errors; reference ${r.reference.non2xx} / ${r.reference.errors}`);
    const loaderBound = results.filter((r) => r.reference.loaderCpu > 0.9 && r.reference.serverCpu < 0.9);
    for (const r of results) {
      for (const [who, x] of [['reference', r.reference], ['pinstripe', r.pinstripe]] as const) {
        if (x.serverCpu < 0.8 && x.loaderCpu < 0.8) out.push(`NOTE ${r.name}/${who}: neither the server (${pct(x.serverCpu)}) nor the loader (${pct(x.loaderCpu)}) used a full core: something else limited this run (other processes on the CPUs, or waiting on I/O or a database).`);
      }
    }
    for (const r of loaderBound) out.push(`NOTE ${r.name}: the load generator used ${pct(r.reference.loaderCpu)} of a core against the reference (server ${pct(r.reference.serverCpu)}): the reference figure is capped by the loader, so the ratio flatters Pinstripe.`);
    for (const r of results) if (r.profile) out.push('', formatProfile(`CPU profile of the server, ${r.name} (${r.profile.file})`, r.profile.summary));
    console.log(out.join('\n'));

    const json = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: ncpu,
      cpuModel: cpus()[0]?.model.trim(),
      pinned: pinning,
      options: { loader: o.loader, duration: o.duration, warmup: o.warmup, connections: o.connections, customers: o.customers, smallCustomers: o.smallCustomers, store: o.store },
      scenarios: results.map((r) => ({ ...r, profile: r.profile ? { file: r.profile.file, topFunctions: r.profile.summary.functions, areas: r.profile.summary.areas } : undefined })),
      rssMb: { idle: rssIdle, afterSmallList: rssSmall, afterSeed: rssSeeded, afterListLoad: rssAfterList, afterFullGc: rssAfterGc },
      memoryAfterList: heapAfterList,
      memoryAfterGc: heapAfterGc,
      seedMs,
      backgroundCores: bg.busyCores,
      backgroundTop: bg.top,
      checks,
      pass: checks.every((c) => c.pass),
    };
    writeFileSync(o.out, JSON.stringify(json, null, 2) + '\n');
    console.log(`\n${json.pass ? 'all targets met' : 'some targets missed'}; JSON in ${o.out}`);
  } finally {
    await cleanup();
  }
}

function pct(x: number): string { return Number.isFinite(x) ? `${Math.round(x * 100)}%` : 'n/a'; }

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exitCode = 1;
});
