// Billing arithmetic against Stripe's documented examples: periods, anchors, prorations.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMonthsClamped, anchorFromConfig, boundariesIn, boundary, formatDay, nextBoundaryAfter, periodContaining, shortestRecurrence, type Recurrence,
} from '../src/engine/billing/periods.js';
import { exactAmount, periodAmount, prorate, prorationLines, roundHalfAway } from '../src/engine/billing/proration.js';

const utc = (y: number, m: number, d: number, h = 0, mi = 0, s = 0) => Date.UTC(y, m - 1, d, h, mi, s) / 1000;
const iso = (t: number) => new Date(t * 1000).toISOString().slice(0, 19);
const monthly: Recurrence = { interval: 'month', interval_count: 1 };
const yearly: Recurrence = { interval: 'year', interval_count: 1 };

describe('periods', () => {
  test('monthly anchor on Sep 2 bills on the 2nd of every month', () => {
    const a = utc(2026, 9, 2, 10, 30);
    assert.deepEqual([1, 2, 3, 4].map((n) => iso(boundary(a, monthly, n))),
      ['2026-10-02T10:30:00', '2026-11-02T10:30:00', '2026-12-02T10:30:00', '2027-01-02T10:30:00']);
  });

  test('anchor on Jan 31: Feb 28, Mar 31, Apr 30, … (docs example), Feb 29 in a leap year', () => {
    const a = utc(2027, 1, 31, 12);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => iso(boundary(a, monthly, n)).slice(0, 10)),
      ['2027-02-28', '2027-03-31', '2027-04-30', '2027-05-31', '2027-06-30']);
    const leap = utc(2028, 1, 31);
    assert.equal(iso(boundary(leap, monthly, 1)).slice(0, 10), '2028-02-29');
    assert.equal(iso(boundary(leap, monthly, 2)).slice(0, 10), '2028-03-31');
  });

  test('anchor on the 29th and 30th return to their day after February', () => {
    for (const day of [29, 30]) {
      const a = utc(2027, 1, day);
      assert.equal(iso(boundary(a, monthly, 1)).slice(0, 10), '2027-02-28');
      assert.equal(iso(boundary(a, monthly, 2)).slice(0, 10), `2027-03-${day}`);
    }
  });

  test('yearly from Feb 29 bills Feb 28 in common years, Feb 29 again in leap years', () => {
    const a = utc(2028, 2, 29);
    assert.equal(iso(boundary(a, yearly, 1)).slice(0, 10), '2029-02-28');
    assert.equal(iso(boundary(a, yearly, 4)).slice(0, 10), '2032-02-29');
  });

  test('weekly (Friday June 3 bills every Friday), daily, interval_count', () => {
    const fri = utc(2022, 6, 3);
    const w = boundary(fri, { interval: 'week', interval_count: 1 }, 1);
    assert.equal(new Date(w * 1000).getUTCDay(), 5);
    assert.equal(iso(w).slice(0, 10), '2022-06-10');
    assert.equal(boundary(fri, { interval: 'day', interval_count: 3 }, 2), fri + 6 * 86400);
    assert.equal(iso(boundary(utc(2026, 11, 30), { interval: 'month', interval_count: 3 }, 1)).slice(0, 10), '2027-02-28');
    assert.equal(iso(boundary(utc(2026, 11, 30), { interval: 'month', interval_count: 3 }, 2)).slice(0, 10), '2027-05-30');
  });

  test('negative indices (backdated starts) and the period containing a moment', () => {
    const a = utc(2026, 3, 31);
    assert.equal(iso(boundary(a, monthly, -1)).slice(0, 10), '2026-02-28');
    const p = periodContaining(a, monthly, utc(2026, 5, 15));
    assert.deepEqual([iso(p.start), iso(p.end)], ['2026-04-30T00:00:00', '2026-05-31T00:00:00']);
    // A boundary itself starts the next period.
    const q = periodContaining(a, monthly, utc(2026, 4, 30));
    assert.equal(iso(q.start), '2026-04-30T00:00:00');
    assert.equal(iso(nextBoundaryAfter(a, monthly, utc(2026, 4, 30))), '2026-05-31T00:00:00');
    const before = periodContaining(a, monthly, utc(2025, 12, 1));
    assert.deepEqual([iso(before.start), iso(before.end)], ['2025-11-30T00:00:00', '2025-12-31T00:00:00']);
  });

  test('boundaries in an interval: a year of monthly renewals is 12, in order', () => {
    const a = utc(2026, 1, 31);
    const b = boundariesIn(a, monthly, a, boundary(a, yearly, 1));
    assert.equal(b.length, 12);
    assert.deepEqual(b.map((t) => iso(t).slice(5, 10)),
      ['02-28', '03-31', '04-30', '05-31', '06-30', '07-31', '08-31', '09-30', '10-31', '11-30', '12-31', '01-31']);
    assert.deepEqual(boundariesIn(a, monthly, a, a + 10), []);
  });

  test('billing_cycle_anchor_config: next day_of_month at the given time, clamped; month for yearly', () => {
    const start = utc(2026, 12, 1, 9, 15, 20);
    assert.equal(iso(anchorFromConfig(start, { day_of_month: 31 })), '2026-12-31T09:15:20');
    assert.equal(iso(anchorFromConfig(start, { day_of_month: 1, hour: 0, minute: 0, second: 0 })), '2027-01-01T00:00:00');
    assert.equal(iso(anchorFromConfig(utc(2027, 2, 3), { day_of_month: 31 })), '2027-02-28T00:00:00');
    assert.equal(iso(anchorFromConfig(utc(2027, 2, 28, 1), { day_of_month: 31, hour: 0 })), '2027-03-31T00:00:00');
    assert.equal(iso(anchorFromConfig(start, { day_of_month: 15, month: 3, hour: 12 })), '2027-03-15T12:15:20');
    assert.equal(iso(anchorFromConfig(start, { day_of_month: 1, month: 12, hour: 9, minute: 15, second: 20 })), '2026-12-01T09:15:20');
  });

  test('shortest recurrence and formatted dates', () => {
    assert.deepEqual(shortestRecurrence([yearly, monthly, { interval: 'week', interval_count: 5 }], utc(2026, 1, 1)), monthly);
    assert.deepEqual(shortestRecurrence([yearly, { interval: 'day', interval_count: 7 }], utc(2026, 1, 1)), { interval: 'day', interval_count: 7 });
    assert.equal(formatDay(utc(2017, 3, 3, 19, 14)), '03 Mar 2017');
    assert.equal(addMonthsClamped(utc(2026, 1, 31), 13), utc(2027, 2, 28));
  });
});

describe('proration', () => {
  const basic = { id: 'price_basic', billing_scheme: 'per_unit', unit_amount: 1000, unit_amount_decimal: '1000', recurring: { usage_type: 'licensed' } };
  const pro = { id: 'price_pro', billing_scheme: 'per_unit', unit_amount: 2000, unit_amount_decimal: '2000', recurring: { usage_type: 'licensed' } };
  const names = (p: any) => (p.id === 'price_pro' ? 'Pro' : 'Basic');
  const period = { start: utc(2026, 4, 1), end: utc(2026, 5, 1) }; // 30 days

  test('docs example: 10 USD → 20 USD halfway is −5 USD and +10 USD', () => {
    const half = period.start + 15 * 86400;
    const lines = prorationLines({ price: basic, quantity: 1 }, { price: pro, quantity: 1 }, period, half, 'classic', names, formatDay(half));
    assert.deepEqual(lines.map((l) => l.amount), [-500, 1000]);
    assert.equal(lines[0]!.description, 'Unused time on 1 × Basic after 16 Apr 2026');
    assert.equal(lines[1]!.description, 'Remaining time on 1 × Pro after 16 Apr 2026');
    assert.deepEqual(lines[0]!.period, { start: half, end: period.end });
  });

  test('second-level: one second into a 30-day period', () => {
    const at = period.start + 1;
    const len = period.end - period.start;
    assert.equal(prorate(2000, period, at), Math.round(2000 * (len - 1) / len));
    assert.equal(prorate(2000, period, period.end), 0);
    assert.equal(prorate(2000, period, period.start), 2000);
    // 1999 × 2/3 = 1332.67 → 1333; halves round away from zero.
    assert.equal(prorate(1999, { start: 0, end: 3 }, 1), 1333);
    assert.equal(roundHalfAway(2.5), 3);
    assert.equal(roundHalfAway(-2.5), -3);
  });

  test('quantity change: credit the old quantity, charge the new one (downgrade credits more than it charges)', () => {
    const at = period.start + 10 * 86400;
    const up = prorationLines({ price: basic, quantity: 1 }, { price: basic, quantity: 3 }, period, at, 'classic', names, 'x');
    assert.deepEqual(up.map((l) => [l.quantity, l.amount]), [[1, -667], [3, 2000]]);
    const down = prorationLines({ price: pro, quantity: 1 }, { price: basic, quantity: 1 }, period, at, 'classic', names, 'x');
    assert.deepEqual(down.map((l) => l.amount), [-1333, 667]);
    assert.deepEqual(prorationLines({ price: basic, quantity: 2 }, { price: basic, quantity: 2 }, period, at, 'classic', names, 'x'), []);
  });

  test('flexible mode credits from what was billed; nothing billed (trial), nothing credited', () => {
    const at = period.start + 15 * 86400;
    // Billed 750 (a 25% coupon) for the period: the credit is half of that, not half of 1000.
    const billed = { amount: 750, start: period.start, end: period.end };
    const lines = prorationLines({ price: basic, quantity: 1, billed }, { price: pro, quantity: 1 }, period, at, 'flexible', names, 'x');
    assert.deepEqual(lines.map((l) => l.amount), [-375, 1000]);
    const trial = prorationLines({ price: basic, quantity: 1, billed: null }, { price: pro, quantity: 1 }, period, at, 'flexible', names, 'x');
    assert.deepEqual(trial.map((l) => l.amount), [1000]);
    // Added and removed items.
    assert.deepEqual(prorationLines(null, { price: pro, quantity: 1 }, period, at, 'flexible', names, 'x').map((l) => l.kind), ['debit']);
    assert.deepEqual(prorationLines({ price: basic, quantity: 1, billed }, null, period, at, 'flexible', names, 'x').map((l) => l.amount), [-375]);
  });

  test('metered prices do not prorate', () => {
    const metered = { ...pro, id: 'price_m', recurring: { usage_type: 'metered' } };
    assert.deepEqual(prorationLines({ price: metered, quantity: 1 }, { price: pro, quantity: 1 }, period, period.start + 100, 'classic', names, 'x').map((l) => l.kind), ['debit']);
  });

  test('amounts of tiered, decimal and transformed prices', () => {
    const graduated = { billing_scheme: 'tiered', tiers_mode: 'graduated', tiers: [
      { up_to: 5, unit_amount: 500, unit_amount_decimal: '500', flat_amount: 100, flat_amount_decimal: '100' },
      { up_to: 10, unit_amount: 400, unit_amount_decimal: '400', flat_amount: null, flat_amount_decimal: null },
      { up_to: null, unit_amount: 300, unit_amount_decimal: '300', flat_amount: null, flat_amount_decimal: null },
    ] };
    assert.equal(exactAmount(graduated, 12), 100 + 5 * 500 + 5 * 400 + 2 * 300);
    assert.equal(exactAmount(graduated, 3), 100 + 3 * 500);
    const volume = { ...graduated, tiers_mode: 'volume' };
    assert.equal(exactAmount(volume, 12), 12 * 300);
    assert.equal(exactAmount(volume, 5), 100 + 5 * 500);
    assert.equal(periodAmount({ billing_scheme: 'per_unit', unit_amount: null, unit_amount_decimal: '0.5' }, 3), 2);
    assert.equal(periodAmount({ billing_scheme: 'per_unit', unit_amount: 100, transform_quantity: { divide_by: 10, round: 'up' } }, 11), 200);
    assert.equal(periodAmount({ billing_scheme: 'per_unit', unit_amount: 100, transform_quantity: { divide_by: 10, round: 'down' } }, 19), 100);
  });
});
