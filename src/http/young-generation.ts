// An optional bound on V8's young generation, an experiment for the server's resident memory.
// Under load V8 grows the new space to two 16 MB semi-spaces (32 MB, all resident) and keeps
// it there. `--max-semi-space-size` would bound it, but only as a flag of the node process,
// which neither `pinstripe serve` (a plain shebang) nor a program embedding startServer
// controls. The growth factor, though, V8 reads whenever it grows the new space: after each
// minor garbage collection this lets the new space double while under the bound and stops
// its growth once there (V8 may still shrink it when idle; growth resumes then). The bound is
// the new space's size (both semi-spaces): PINSTRIPE_MAX_YOUNG_MB; unset or 0 leaves V8 alone
// (the default, see below).
import v8 from 'node:v8';
import { PerformanceObserver, constants } from 'node:perf_hooks';

// Off by default: on the full bench a bound of 16 MB did not lower the peak RSS (155.8 MB against
// 153.2 MB unbounded) and 8 MB raised it (204 MB: objects promoted early fill the old space).
const DEFAULT_MAX_YOUNG_MB = 0;
let started = false;

/** Starts bounding the new space (once per process; later calls do nothing). Importing this module starts it with the default bound. */
export function boundYoungGeneration(maxMb = Number(process.env.PINSTRIPE_MAX_YOUNG_MB ?? DEFAULT_MAX_YOUNG_MB)): void {
  if (started || !(maxMb > 0) || process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) return;
  started = true;
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

boundYoungGeneration();
