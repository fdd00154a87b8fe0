// All time comes from a Clock. Resource code never calls Date.now(): test clocks (billing)
// and frozen time for deterministic test runs plug in here.

export interface Clock {
  /** Milliseconds since the epoch. */
  nowMs(): number;
  /** Unix seconds, the unit of every Stripe timestamp. */
  now(): number;
}

export class SystemClock implements Clock {
  /** Offset in ms added to the real time (lets tests and `--frozen-time` shift time). */
  constructor(private offsetMs = 0) {}
  nowMs(): number { return Date.now() + this.offsetMs; }
  now(): number { return Math.floor(this.nowMs() / 1000); }
}

/** A clock frozen at a given Unix time (seconds) until moved. */
export class FrozenClock implements Clock {
  constructor(private seconds: number) {}
  nowMs(): number { return this.seconds * 1000; }
  now(): number { return this.seconds; }
  set(seconds: number): void { this.seconds = seconds; }
}
