// Billing period arithmetic: pure functions over Unix seconds (UTC), no I/O, no clock.
//
// Stripe's rules (docs.stripe.com/billing/subscriptions/billing-cycle):
// - A subscription's periods are aligned to its billing cycle anchor: the n-th boundary is the
//   anchor plus n × interval_count intervals, always computed *from the anchor* (never by
//   stepping from the previous boundary), so an anchor on the 31st bills on the last day of
//   shorter months and returns to the 31st afterwards: Jan 31 → Feb 28 (29) → Mar 31 → Apr 30.
//   Yearly anchors on Feb 29 bill on Feb 28 in common years.
// - day and week intervals are fixed lengths (86 400 s, 604 800 s); month and year intervals
//   are calendar months keeping the anchor's time of day.
// - billing_cycle_anchor_config (monthly and yearly prices only): the anchor is the next
//   occurrence, after the start, of day_of_month (clamped to the month's last day) at
//   hour:minute:second UTC (each defaulting to the start's own), in `month` when given.
// - backdate_start_date: the subscription starts in the past; the anchor defaults to the start
//   date, so the first period is the one that contains now (earlier periods are billed in one
//   invoice by the caller), unless a later anchor is given.

export type Interval = 'day' | 'week' | 'month' | 'year';

export interface Recurrence {
  interval: Interval;
  interval_count: number;
}

export const DAY = 86_400;
export const WEEK = 7 * DAY;

function daysInMonth(year: number, monthIndex: number): number {
  return new Date(Date.UTC(year, monthIndex + 1, 0)).getUTCDate();
}

/** `t` plus `months` calendar months, the day clamped to the target month's end. */
export function addMonthsClamped(t: number, months: number): number {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const ty = y + Math.floor(m / 12);
  const tm = ((m % 12) + 12) % 12;
  const day = Math.min(d.getUTCDate(), daysInMonth(ty, tm));
  return Date.UTC(ty, tm, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
}

/** The n-th boundary of a recurrence anchored at `anchor` (n may be negative). */
export function boundary(anchor: number, r: Recurrence, n: number): number {
  const k = n * r.interval_count;
  switch (r.interval) {
    case 'day': return anchor + k * DAY;
    case 'week': return anchor + k * WEEK;
    case 'month': return addMonthsClamped(anchor, k);
    case 'year': return addMonthsClamped(anchor, 12 * k);
  }
}

/** Approximate length of one period in seconds (for an initial guess of n; exactness comes from `boundary`). */
function approxLength(r: Recurrence): number {
  switch (r.interval) {
    case 'day': return r.interval_count * DAY;
    case 'week': return r.interval_count * WEEK;
    case 'month': return r.interval_count * 30.436875 * DAY;
    case 'year': return r.interval_count * 365.2425 * DAY;
  }
}

/** The index n of the period [boundary(n), boundary(n+1)) that contains `t`. */
export function periodIndex(anchor: number, r: Recurrence, t: number): number {
  let n = Math.floor((t - anchor) / approxLength(r));
  while (boundary(anchor, r, n) > t) n--;
  while (boundary(anchor, r, n + 1) <= t) n++;
  return n;
}

/** The anchored period containing `t`: start <= t < end. */
export function periodContaining(anchor: number, r: Recurrence, t: number): { start: number; end: number } {
  const n = periodIndex(anchor, r, t);
  return { start: boundary(anchor, r, n), end: boundary(anchor, r, n + 1) };
}

/** The first boundary strictly after `t`. */
export function nextBoundaryAfter(anchor: number, r: Recurrence, t: number): number {
  return boundary(anchor, r, periodIndex(anchor, r, t) + 1);
}

/** The end of a period starting at `start` (on a boundary or not): the next anchored boundary after it. */
export function periodEnd(anchor: number, r: Recurrence, start: number): number {
  return nextBoundaryAfter(anchor, r, start);
}

/** Every period boundary in (from, until], in order (renewals a clock advance runs). */
export function boundariesIn(anchor: number, r: Recurrence, from: number, until: number): number[] {
  const out: number[] = [];
  let n = periodIndex(anchor, r, from) + 1;
  for (let b = boundary(anchor, r, n); b <= until; b = boundary(anchor, r, ++n)) out.push(b);
  return out;
}

export interface AnchorConfig {
  day_of_month: number;
  month?: number | null;
  hour?: number | null;
  minute?: number | null;
  second?: number | null;
}

/**
 * The billing_cycle_anchor that billing_cycle_anchor_config describes, for a subscription
 * starting at `start`: the first moment strictly after `start` on day_of_month (clamped to the
 * month's end) at hour:minute:second UTC (defaults: the start's), in `month` (1–12) if given.
 * A moment equal to `start` is the start itself (no proration period).
 */
export function anchorFromConfig(start: number, config: AnchorConfig): number {
  const s = new Date(start * 1000);
  const hour = config.hour ?? s.getUTCHours();
  const minute = config.minute ?? s.getUTCMinutes();
  const second = config.second ?? s.getUTCSeconds();
  const at = (y: number, mi: number) => Date.UTC(y, mi, Math.min(config.day_of_month, daysInMonth(y, mi)), hour, minute, second) / 1000;
  const y0 = s.getUTCFullYear();
  if (config.month !== undefined && config.month !== null) {
    const mi = config.month - 1;
    for (let y = y0; ; y++) { const t = at(y, mi); if (t >= start) return t; }
  }
  for (let k = 0; ; k++) {
    const m = s.getUTCMonth() + k;
    const t = at(y0 + Math.floor(m / 12), m % 12);
    if (t >= start) return t;
  }
}

/** Seconds between two moments as a fraction of a period: the proration factor of [from, to) in [start, end). */
export function fractionOf(from: number, to: number, period: { start: number; end: number }): number {
  const len = period.end - period.start;
  if (len <= 0) return 0;
  return Math.max(0, Math.min(to, period.end) - Math.max(from, period.start)) / len;
}

/** The shortest of several recurrences, measured by one period from `t` (for the test-clock advance limit). */
export function shortestRecurrence(rs: readonly Recurrence[], t: number): Recurrence | null {
  let best: Recurrence | null = null;
  let bestEnd = Infinity;
  for (const r of rs) {
    const e = boundary(t, r, 1);
    if (e < bestEnd) { bestEnd = e; best = r; }
  }
  return best;
}

/** Whether two recurrences are the same interval. */
export function sameRecurrence(a: Recurrence, b: Recurrence): boolean {
  return a.interval === b.interval && a.interval_count === b.interval_count;
}

/** A date as Stripe writes it in line descriptions: "03 Mar 2017" (UTC). */
export function formatDay(t: number): string {
  const d = new Date(t * 1000);
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  return `${String(d.getUTCDate()).padStart(2, '0')} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()}`;
}
