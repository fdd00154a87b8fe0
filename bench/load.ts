// The load generator: autocannon in this (parent) process, keep-alive connections, with its
// own latency recording (autocannon's histogram has 1 ms resolution, too coarse for
// sub-millisecond servers) and CPU accounting of the loader and of the server process, so a
// run can tell whether the server or the loader was the bottleneck.
import { createRequire } from 'node:module';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);

interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: unknown) => AutocannonRequest;
}
interface AutocannonOptions {
  url: string;
  connections: number;
  duration: number;
  pipelining?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  requests?: AutocannonRequest[];
  timeout?: number;
}
interface AutocannonResult { errors: number; timeouts: number; non2xx: number; duration: number; requests: { total: number } }
interface AutocannonInstance {
  on(ev: 'response', fn: (client: unknown, status: number, bytes: number, ms: number) => void): void;
  stop(): void;
}
type Autocannon = (opts: AutocannonOptions, cb: (err: Error | null, r: AutocannonResult) => void) => AutocannonInstance;
const autocannon: Autocannon = require('autocannon');

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** Called per request to rewrite headers (fresh Idempotency-Key). */
  perRequestHeaders?: () => Record<string, string>;
}

export interface LoadResult {
  /** 2xx responses per second over the measured window. */
  rps: number;
  requests: number;
  non2xx: number;
  errors: number;
  seconds: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  /** CPU used during the run, as a fraction of one core. */
  loaderCpu: number;
  serverCpu: number;
}

let clkTck = 0;
function ticksPerSecond(): number {
  if (!clkTck) {
    try { clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clkTck = 100; }
  }
  return clkTck;
}

/** utime + stime of a process, in seconds (Linux /proc). */
export function processCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond(); // fields 14 and 15 of stat(5)
  } catch {
    return NaN;
  }
}

/** VmRSS of a process in MB (Linux /proc). */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export type Loader = 'autocannon' | 'wrk';

export interface LoadOptions { port: number; spec: RequestSpec; connections: number; duration: number; serverPid: number; loader?: Loader }

export function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return opts.loader === 'wrk' ? runWrk(opts) : runAutocannon(opts);
}

export function hasWrk(): boolean {
  try { execFileSync('wrk', ['--version'], { stdio: 'ignore' }); return true; } catch (e) {
    // wrk --version exits 1 after printing its banner: it exists if it ran at all.
    return (e as { status?: number }).status !== undefined && (e as { code?: string }).code !== 'ENOENT';
  }
}

async function runAutocannon(opts: LoadOptions): Promise<LoadResult> {
  const { spec } = opts;
  const request: AutocannonRequest = { method: spec.method, path: spec.path, headers: spec.headers, body: spec.body };
  if (spec.perRequestHeaders) {
    const extra = spec.perRequestHeaders;
    request.setupRequest = (req) => ({ ...req, headers: { ...req.headers, ...extra() } });
  }
  let lat = new Float64Array(1 << 16);
  let n = 0;
  let non2xx = 0;
  const cpu0 = process.cpuUsage();
  const srv0 = processCpuSeconds(opts.serverPid);
  const t0 = process.hrtime.bigint();
  const result = await new Promise<AutocannonResult>((resolve, reject) => {
    const inst = autocannon({
      url: `http://127.0.0.1:${opts.port}`,
      connections: opts.connections,
      duration: opts.duration,
      pipelining: 1,
      timeout: 30,
      requests: [request],
    }, (err, r) => (err ? reject(err) : resolve(r)));
    inst.on('response', (_c, status, _bytes, ms) => {
      if (status < 200 || status >= 300) { non2xx++; return; }
      if (n === lat.length) { const bigger = new Float64Array(lat.length * 2); bigger.set(lat); lat = bigger; }
      lat[n++] = ms;
    });
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const srv1 = processCpuSeconds(opts.serverPid);
  const sorted = lat.slice(0, n).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i]!;
  return {
    rps: n / seconds,
    requests: n,
    non2xx,
    errors: result.errors + result.timeouts,
    seconds,
    latencyMs: { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: n ? sorted[n - 1]! : NaN, mean: n ? sum / n : NaN },
    loaderCpu: (cpu.user + cpu.system) / 1e6 / seconds,
    serverCpu: (srv1 - srv0) / seconds,
  };
}

const lua = (s: string) => JSON.stringify(s); // a JSON string literal is a valid Lua string literal for these bytes

/** wrk (C, much cheaper per request than autocannon): one thread, a Lua script for the request. */
async function runWrk(opts: LoadOptions): Promise<LoadResult> {
  const { spec } = opts;
  const dir = mkdtempSync(join(tmpdir(), 'pinstripe-wrk-'));
  const script = join(dir, 'bench.lua');
  const headerLines = Object.entries(spec.headers).map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`).join('\n');
  const dynamic = spec.perRequestHeaders ? Object.keys(spec.perRequestHeaders()) : [];
  if (dynamic.some((k) => k.toLowerCase() !== 'idempotency-key')) throw new Error('wrk loader: only a per-request Idempotency-Key is supported');
  writeFileSync(script, `
wrk.method = ${lua(spec.method)}
wrk.path = ${lua(spec.path)}
${headerLines}
${spec.body !== undefined ? `wrk.body = ${lua(spec.body)}` : ''}
${dynamic.length ? `
local counter = 0
local hex = "0123456789abcdef"
local function uuid()
  local t = {}
  for i = 1, 32 do local r = math.random(1, 16); t[i] = hex:sub(r, r) end
  t[13] = "4"
  local s = table.concat(t)
  return s:sub(1, 8) .. "-" .. s:sub(9, 12) .. "-" .. s:sub(13, 16) .. "-" .. s:sub(17, 20) .. "-" .. s:sub(21, 32)
end
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 1000003)
end
function request()
  counter = counter + 1
  wrk.headers["Idempotency-Key"] = "stripe-node-retry-" .. uuid()
  return wrk.format()
end` : ''}
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('BENCH_JSON {"requests":%d,"duration_us":%d,"status":%d,"errors":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
`);
  const cpu0 = processCpuSeconds(opts.serverPid);
  const t0 = process.hrtime.bigint();
  const child = spawn('wrk', ['-t1', `-c${opts.connections}`, `-d${Math.max(1, Math.round(opts.duration))}s`, '--timeout', '30s', '-s', script, `http://127.0.0.1:${opts.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  // wrk's own CPU: sampled from /proc while it runs (its usage is gone once it has exited).
  let loaderCpuSec = 0;
  const sampler = setInterval(() => { const v = processCpuSeconds(child.pid!); if (Number.isFinite(v)) loaderCpuSec = v; }, 100);
  const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  clearInterval(sampler);
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const srvCpu = (processCpuSeconds(opts.serverPid) - cpu0) / seconds;
  rmSync(dir, { recursive: true, force: true });
  const line = stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (code !== 0 || !line) throw new Error(`wrk failed (${code}): ${stderr || stdout}`);
  const w = JSON.parse(line.slice('BENCH_JSON '.length)) as { requests: number; duration_us: number; status: number; errors: number; p50: number; p90: number; p99: number; max: number; mean: number };
  const ok = w.requests - w.status;
  const wrkSeconds = w.duration_us / 1e6;
  return {
    rps: ok / wrkSeconds,
    requests: ok,
    non2xx: w.status,
    errors: w.errors,
    seconds: wrkSeconds,
    latencyMs: { p50: w.p50 / 1000, p90: w.p90 / 1000, p99: w.p99 / 1000, max: w.max / 1000, mean: w.mean / 1000 },
    loaderCpu: loaderCpuSec / seconds,
    serverCpu: srvCpu,
  };
}

/** Busy fraction of all CPUs over `ms` (from /proc/stat), and the processes using the most CPU. */
export async function backgroundLoad(ms = 1000, exclude: number[] = []): Promise<{ busyCores: number; top: Array<{ pid: number; cmd: string; cores: number }> }> {
  const total = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = f[3]! + (f[4] ?? 0);
    return { idle, all: f.reduce((a, b) => a + b, 0) };
  };
  const perPid = () => {
    const m = new Map<number, number>();
    for (const name of readdirSync('/proc')) {
      const pid = Number(name);
      if (!Number.isInteger(pid) || exclude.includes(pid)) continue;
      const s = processCpuSeconds(pid);
      if (Number.isFinite(s)) m.set(pid, s);
    }
    return m;
  };
  try {
    const a = total();
    const pa = perPid();
    await new Promise((r) => setTimeout(r, ms));
    const b = total();
    const pb = perPid();
    const ncpu = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).length || 1;
    const busy = b.all - a.all ? (1 - (b.idle - a.idle) / (b.all - a.all)) * ncpu : 0;
    const top: Array<{ pid: number; cmd: string; cores: number }> = [];
    for (const [pid, s1] of pb) {
      const s0 = pa.get(pid);
      if (s0 === undefined || pid === process.pid) continue;
      const cores = (s1 - s0) / (ms / 1000);
      if (cores < 0.05) continue;
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim().slice(0, 100); } catch { /* gone */ }
      top.push({ pid, cmd, cores });
    }
    top.sort((x, y) => y.cores - x.cores);
    return { busyCores: busy, top: top.slice(0, 5) };
  } catch {
    return { busyCores: NaN, top: [] };
  }
}
