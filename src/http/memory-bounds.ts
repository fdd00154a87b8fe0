// Soft bounds on the V8 heap, which is most of the server's resident memory under load.
//
// Left alone, V8 grows the new space to two 16 MB semi-spaces (32 MB, all resident) and lets
// the old space fill with promoted garbage up to about twice its live size and more before a
// full collection: on the bench (list load, 100k customers) the heap reached 80–115 MB committed
// for 17–30 MB live, and the process 170–190 MB. Both bounds below are soft: they change when
// V8 collects, never how much it may allocate (`--max-old-space-size` would be a hard limit
// that crashes the process on a large request), and both are V8 flags read at every GC, so
// they work when set at run time, for programs embedding startServer, which do not control
// node's command line. `npm start`, the `pinstripe` bin and the bench pass
// --max-semi-space-size (src/cli/defaults.ts NODE_FLAGS) instead, and the young bound below
// then stands aside: it acts after each minor GC, and under a bench load V8 sometimes grew the
// new space to 32 MB before it looked (heap 68 MB committed, RSS 153 MB in one run of five).
//
// - Young generation (PINSTRIPE_MAX_YOUNG_MB, default 16 = two 8 MB semi-spaces): the growth
//   factor of the new space is adjusted after each minor GC, so it doubles while under the
//   bound and stops there (V8 may still shrink it when idle).
// - Old generation (PINSTRIPE_HEAP_GROWING_PERCENT, default 20): V8's heap growing factor,
//   the old space's next full-GC limit as live size x (1 + percent/100) instead of V8's own
//   factor (1.1 to 4 depending on GC speed and the heap's size).
// Measured (bench list load then 100k customers, SQLite, same machine, two runs each): peak RSS
// 180–189 MB unbounded, 144–154 MB with the old-generation bound alone (the young bound alone
// did not lower it: objects promoted early fill the old space), 129–132 MB with both; server
// CPU per request unchanged within the noise (GET, POST, create-and-confirm). 0 disables either.
import v8 from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';

const DEFAULT_MAX_YOUNG_MB = 16;
const DEFAULT_HEAP_GROWING_PERCENT = 20;

const givenOnCommandLine = (flag: string) => process.execArgv.some((a) => a.startsWith(flag));
const envNumber = (name: string, dflt: number) => {
  const v = process.env[name];
  return v === undefined || v === '' ? dflt : Number(v);
};

let youngStarted = false;

/** Starts bounding the new space (once per process; later calls do nothing). */
export function boundYoungGeneration(maxMb = envNumber('PINSTRIPE_MAX_YOUNG_MB', DEFAULT_MAX_YOUNG_MB)): void {
  if (youngStarted || !(maxMb > 0) || givenOnCommandLine('--max-semi-space-size')) return;
  youngStarted = true;
  const limit = maxMb * 1024 * 1024;
  let growing = true;
  const check = () => {
    const space = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (!space) return;
    // Doubling from at least half the bound would pass it: stop at half already.
    const grow = space.space_size * 2 <= limit;
    if (grow === growing) return;
    growing = grow;
    v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  };
  check();
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (((e as unknown as { detail?: { kind?: number } }).detail)?.kind === constants.NODE_PERFORMANCE_GC_MINOR) { check(); return; }
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  (observer as unknown as { unref?: () => void }).unref?.();
}

/** Sets V8's heap growing factor for the old generation (process-wide; 0 leaves V8's own). */
export function boundOldGenerationGrowth(percent = envNumber('PINSTRIPE_HEAP_GROWING_PERCENT', DEFAULT_HEAP_GROWING_PERCENT)): void {
  if (!(percent > 0) || givenOnCommandLine('--heap-growing-percent')) return;
  v8.setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}

boundYoungGeneration();
boundOldGenerationGrowth();
