// Summarises a V8 .cpuprofile (as written by the inspector or `node --cpu-prof`): self time
// per function and per package/area, so a bench run can say where the server's CPU went.
import { readFileSync } from 'node:fs';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

export interface ProfileLine { name: string; where: string; ms: number; pct: number }
export interface ProfileSummary { totalMs: number; functions: ProfileLine[]; areas: ProfileLine[]; inclusive: ProfileLine[] }

function shortUrl(url: string): string {
  if (!url) return '';
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const dist = u.indexOf('/dist/');
  if (dist >= 0) return u.slice(dist + '/dist/'.length);
  return u;
}

function area(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native/builtin)';
  const u = shortUrl(url);
  if (u.startsWith('node:')) return u.split('/').slice(0, 2).join('/');
  if (url.includes('/node_modules/')) {
    const parts = u.split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (u.startsWith('src/') || u.startsWith('bench/')) return u;
  return u;
}

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const p: CpuProfile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) byId.set(n.id, n);
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i] ?? 0;
    const id = p.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    total += dt;
  }
  const fnSelf = new Map<string, { name: string; where: string; us: number }>();
  const areaSelf = new Map<string, number>();
  const fnIncl = new Map<string, { name: string; where: string; us: number }>();
  const keyOf = (cf: CallFrame) => `${cf.functionName}|${cf.url}|${cf.lineNumber}`;
  for (const [id, us] of selfUs) {
    const cf = byId.get(id)!.callFrame;
    const name = cf.functionName || '(anonymous)';
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : '';
    const k = keyOf(cf);
    const e = fnSelf.get(k) ?? { name, where, us: 0 };
    e.us += us;
    fnSelf.set(k, e);
    const a = area(cf.url, name);
    areaSelf.set(a, (areaSelf.get(a) ?? 0) + us);
    // Inclusive: charge every distinct function on the stack once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const fk = keyOf(f);
      if (seen.has(fk)) continue;
      seen.add(fk);
      const ie = fnIncl.get(fk) ?? { name: f.functionName || '(anonymous)', where: f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '', us: 0 };
      ie.us += us;
      fnIncl.set(fk, ie);
    }
  }
  const toLines = (xs: Array<{ name: string; where: string; us: number }>) =>
    xs.sort((a, b) => b.us - a.us).slice(0, top).map((x) => ({ name: x.name, where: x.where, ms: x.us / 1000, pct: total ? (100 * x.us) / total : 0 }));
  return {
    totalMs: total / 1000,
    functions: toLines([...fnSelf.values()]),
    areas: toLines([...areaSelf].map(([name, us]) => ({ name, where: '', us }))),
    inclusive: toLines([...fnIncl.values()].filter((x) => !['(root)', '(program)', '(idle)'].includes(x.name))),
  };
}

export function formatProfile(title: string, s: ProfileSummary): string {
  const line = (l: ProfileLine) => `  ${l.pct.toFixed(1).padStart(5)}%  ${l.name}${l.where ? `  (${l.where})` : ''}`;
  return [
    `${title}: ${s.totalMs.toFixed(0)} ms sampled`,
    ' self time by area:',
    ...s.areas.slice(0, 10).map(line),
    ' self time by function:',
    ...s.functions.map(line),
    ' inclusive time (callers) — top:',
    ...s.inclusive.slice(0, 20).map(line),
  ].join('\n');
}

// `node dist/bench/profile.js file.cpuprofile` prints a summary of any profile.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const f = process.argv[2];
  if (!f) { console.error('usage: node dist/bench/profile.js <file.cpuprofile> [top]'); process.exit(2); }
  console.log(formatProfile(f, summarizeProfile(f, Number(process.argv[3] ?? 25))));
}
