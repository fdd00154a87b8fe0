// Subscriptions over time: renewals, trials, coupons across renewals, dunning, expiry and
// cancellation, driven by test clocks (and once by real time), through the official SDK.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { setFinalFailureBehavior } from '../src/engine/billing/subscriptions.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { DAY, HOUR, advance, clockCustomer, clockWorld, day, subscriptionInvoices, utc, type World } from './helpers/clock-world.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const NOW = Date.UTC(2026, 11, 1) / 1000;
const clock = new FrozenClock(NOW);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const world = (frozen: number): Promise<World> => clockWorld(t, frozen);
const customer = clockCustomer;

const invoices = subscriptionInvoices;

async function types(s: Stripe, prefix = 'customer.subscription.'): Promise<string[]> {
  const all: Stripe.Event[] = [];
  for await (const e of s.events.list({ limit: 100 })) all.push(e);
  return all.map((e) => e.type).reverse().filter((x) => x.startsWith(prefix));
}

describe('renewals on a test clock', () => {
  test('monthly anchored on the 31st: Feb 28, Mar 31, Apr 30; each renewal a paid subscription_cycle invoice', async () => {
    const start = utc(2026, 1, 31, 10);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    assert.equal(sub.created, start);
    assert.equal(sub.test_clock, w.clockId);
    const ends: string[] = [];
    for (const to of [utc(2026, 2, 28, 12), utc(2026, 3, 31, 12), utc(2026, 4, 30, 12)]) {
      await advance(w, to);
      const now = await w.s.subscriptions.retrieve(sub.id);
      ends.push(day(now.items.data[0]!.current_period_end));
    }
    assert.deepEqual(ends, ['2026-03-31', '2026-04-30', '2026-05-31']);
    const invs = await invoices(w.s, sub.id);
    assert.deepEqual(invs.map((i) => i.billing_reason), ['subscription_create', 'subscription_cycle', 'subscription_cycle', 'subscription_cycle']);
    assert.deepEqual(invs.map((i) => i.status), ['paid', 'paid', 'paid', 'paid']);
    assert.deepEqual(invs.map((i) => i.amount_paid), [1000, 1000, 1000, 1000]);
    assert.deepEqual(invs.map((i) => day(i.created)), ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']);
    assert.deepEqual(invs.slice(1).map((i) => [day(i.lines.data[0]!.period.start), day(i.lines.data[0]!.period.end)]),
      [['2026-02-28', '2026-03-31'], ['2026-03-31', '2026-04-30'], ['2026-04-30', '2026-05-31']]);
    const latest = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(latest.latest_invoice, invs[3]!.id);
    assert.equal(latest.status, 'active');
  });

  test('yearly: one renewal a year later', async () => {
    const start = utc(2026, 2, 10);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.yearly.id }] });
    await advance(w, utc(2027, 2, 10, 2));
    const invs = await invoices(w.s, sub.id);
    assert.deepEqual(invs.map((i) => [i.billing_reason, i.amount_paid]), [['subscription_create', 10000], ['subscription_cycle', 10000]]);
    const now = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(now.items.data[0]!.current_period_start, utc(2027, 2, 10));
    assert.equal(now.items.data[0]!.current_period_end, utc(2028, 2, 10));
  });

  test('advancing more than two intervals of the shortest subscription is refused', async () => {
    const start = utc(2026, 1, 15);
    const w = await world(start);
    const c = await customer(w);
    await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const limit = utc(2026, 3, 15);
    await rejects(advance(w, limit + 1), {
      status: 400, param: 'frozen_time',
      message: `The frozen_time cannot be more than two intervals of the shortest subscription on this test clock (every month) after its current frozen_time (at most ${limit}).`,
    });
    await advance(w, limit);
    assert.equal((await w.s.testHelpers.testClocks.retrieve(w.clockId)).frozen_time, limit);
  });

  test('pending invoice items (prorations) are pulled into the next renewal', async () => {
    const start = utc(2026, 4, 1);
    const w = await world(start);
    const c = await customer(w);
    const pro = await w.s.prices.create({ product: w.product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    await advance(w, start + 15 * DAY);
    await w.s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: pro.id }] });
    await advance(w, utc(2026, 5, 1, 2));
    const renewal = (await invoices(w.s, sub.id))[1]!;
    assert.equal(renewal.billing_reason, 'subscription_cycle');
    // −500 unused Basic, +1000 remaining Pro, +2000 May on Pro.
    assert.equal(renewal.amount_paid, 2500);
    assert.equal(renewal.lines.data.length, 3);
    assert.equal((await w.s.invoiceItems.list({ customer: c.id, pending: true })).data.length, 0);
  });
});

describe('trials on a test clock', () => {
  test('trial_will_end three days before; trial end → active with a paid invoice', async () => {
    const start = utc(2026, 6, 1);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], trial_period_days: 14 });
    await advance(w, start + 10 * DAY);
    assert.deepEqual(await types(w.s), ['customer.subscription.created']);
    await advance(w, start + 12 * DAY);
    const ev = (await w.s.events.list({ type: 'customer.subscription.trial_will_end' })).data;
    assert.equal(ev.length, 1);
    assert.equal(ev[0]!.created, start + 11 * DAY);
    await advance(w, start + 14 * DAY + 2 * HOUR);
    const now = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(now.status, 'active');
    assert.equal(now.items.data[0]!.current_period_start, start + 14 * DAY);
    assert.equal(now.items.data[0]!.current_period_end, utc(2026, 7, 15));
    const invs = await invoices(w.s, sub.id);
    assert.deepEqual(invs.map((i) => [i.billing_reason, i.amount_paid, i.status]), [['subscription_create', 0, 'paid'], ['subscription_cycle', 1000, 'paid']]);
    const updated = (await w.s.events.list({ type: 'customer.subscription.updated' })).data.find((e) => (e.data.previous_attributes as any)?.status === 'trialing');
    assert.ok(updated, 'trialing → active is an updated event');
  });

  test('trial end without a payment method: pause (then resume), cancel, or an unpaid invoice (past_due)', async () => {
    const start = utc(2026, 6, 1);
    const w = await world(start);
    const a = await customer(w, null);
    const b = await customer(w, null);
    const paused = await w.s.subscriptions.create({ customer: a.id, items: [{ price: w.monthly.id }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    const canceled = await w.s.subscriptions.create({ customer: b.id, items: [{ price: w.monthly.id }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'cancel' } } });
    await advance(w, start + 8 * DAY);
    const p = await w.s.subscriptions.retrieve(paused.id);
    assert.equal(p.status, 'paused');
    assert.equal((await w.s.subscriptions.retrieve(canceled.id)).status, 'canceled');
    assert.ok((await types(w.s)).includes('customer.subscription.paused'));
    assert.ok((await types(w.s)).includes('customer.subscription.deleted'));
    // Resuming needs a payment method: attach one, then resume → active, billed from now.
    await w.s.paymentMethods.attach('pm_card_visa', { customer: a.id }).then((pm) => w.s.customers.update(a.id, { invoice_settings: { default_payment_method: pm.id } }));
    const r = await w.s.subscriptions.resume(paused.id, { expand: ['latest_invoice'] });
    assert.equal(r.status, 'active');
    assert.equal(r.billing_cycle_anchor, start + 8 * DAY);
    assert.equal((r.latest_invoice as Stripe.Invoice).amount_paid, 1000);
    assert.ok((await types(w.s)).includes('customer.subscription.resumed'));
    await rejects(w.s.subscriptions.resume(paused.id), { status: 400, message: 'Only subscriptions with `status=paused` can be resumed.' });
  });
});

describe('coupons across renewals', () => {
  test('once, repeating (3 months) and forever over five invoices', async () => {
    const start = utc(2026, 1, 5);
    const w = await world(start);
    const durations = [
      { duration: 'once' as const }, { duration: 'repeating' as const, duration_in_months: 3 }, { duration: 'forever' as const },
    ];
    const subs: string[] = [];
    for (const d of durations) {
      const c = await customer(w);
      const coupon = await w.s.coupons.create({ percent_off: 50, ...d });
      subs.push((await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], discounts: [{ coupon: coupon.id }] })).id);
    }
    await advance(w, utc(2026, 3, 4));
    await advance(w, utc(2026, 5, 4));
    await advance(w, utc(2026, 5, 5, 2));
    const paid = [];
    for (const id of subs) paid.push((await invoices(w.s, id)).map((i) => i.amount_paid));
    assert.deepEqual(paid, [
      [500, 1000, 1000, 1000, 1000],
      [500, 500, 500, 1000, 1000],
      [500, 500, 500, 500, 500],
    ]);
    assert.deepEqual((await w.s.subscriptions.retrieve(subs[0]!)).discounts, []);
    assert.deepEqual((await w.s.subscriptions.retrieve(subs[1]!)).discounts, []);
    assert.equal((await w.s.subscriptions.retrieve(subs[2]!)).discounts.length, 1);
  });
});

describe('statuses over time', () => {
  test('incomplete → incomplete_expired after 23 hours (its invoice voided)', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w, 'pm_card_chargeCustomerFail');
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    assert.equal(sub.status, 'incomplete');
    await advance(w, start + 22 * HOUR);
    assert.equal((await w.s.subscriptions.retrieve(sub.id)).status, 'incomplete');
    await advance(w, start + 24 * HOUR);
    const exp = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(exp.status, 'incomplete_expired');
    assert.equal(exp.ended_at, start + 23 * HOUR);
    assert.equal((await w.s.invoices.retrieve(exp.latest_invoice as string)).status, 'void');
    await rejects(w.s.subscriptions.update(sub.id, { items: [{ price: w.yearly.id }] }), { status: 400, message: 'A canceled subscription can only update its cancellation_details and metadata.', param: 'items' });
  });

  test('incomplete → active when its first invoice is paid', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w, 'pm_card_chargeCustomerFail');
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const pm = await w.s.paymentMethods.attach('pm_card_visa', { customer: c.id });
    await w.s.invoices.pay(sub.latest_invoice as string, { payment_method: pm.id });
    assert.equal((await w.s.subscriptions.retrieve(sub.id)).status, 'active');
  });

  test('dunning: renewal fails → past_due → retries → canceled after the last attempt (default setting)', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const bad = await w.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.id });
    await w.s.customers.update(c.id, { invoice_settings: { default_payment_method: bad.id } });
    await advance(w, utc(2026, 4, 1, 2));
    const pd = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(pd.status, 'past_due');
    await advance(w, utc(2026, 4, 20));
    const end = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(end.status, 'canceled');
    assert.equal(end.cancellation_details!.reason, 'payment_failed');
    const inv = await w.s.invoices.retrieve(end.latest_invoice as string);
    assert.equal(inv.attempt_count, 8);
    const statuses = (await types(w.s)).filter((x) => x !== 'customer.subscription.created');
    assert.deepEqual(statuses.slice(-2), ['customer.subscription.updated', 'customer.subscription.deleted']);
  });

  test('dunning with the unpaid setting; paying the invoice reactivates', async () => {
    setFinalFailureBehavior('unpaid');
    try {
      const start = utc(2026, 3, 1);
      const w = await world(start);
      const c = await customer(w);
      const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
      const bad = await w.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.id });
      await w.s.customers.update(c.id, { invoice_settings: { default_payment_method: bad.id } });
      await advance(w, utc(2026, 4, 1, 2));
      await advance(w, utc(2026, 4, 20));
      const u = await w.s.subscriptions.retrieve(sub.id);
      assert.equal(u.status, 'unpaid');
      const good = await w.s.paymentMethods.attach('pm_card_visa', { customer: c.id });
      await w.s.invoices.pay(u.latest_invoice as string, { payment_method: good.id });
      assert.equal((await w.s.subscriptions.retrieve(sub.id)).status, 'active');
    } finally { setFinalFailureBehavior('cancel'); }
  });

  test('pause_collection: renewals keep_as_draft / void / mark_uncollectible, nothing charged; resumes_at clears it', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const got: string[] = [];
    for (const behavior of ['keep_as_draft', 'void', 'mark_uncollectible'] as const) {
      const c = await customer(w);
      const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
      await w.s.subscriptions.update(sub.id, { pause_collection: { behavior, resumes_at: utc(2026, 4, 15) } });
      got.push(sub.id);
    }
    await advance(w, utc(2026, 4, 2));
    const statuses = [];
    for (const id of got) statuses.push((await invoices(w.s, id))[1]!.status);
    assert.deepEqual(statuses, ['draft', 'void', 'uncollectible']);
    await advance(w, utc(2026, 4, 16));
    assert.equal((await w.s.subscriptions.retrieve(got[0]!)).pause_collection, null);
  });

  test('cancel_at_period_end: canceled at the period end, no renewal invoice', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    await w.s.subscriptions.update(sub.id, { cancel_at_period_end: true });
    await advance(w, utc(2026, 4, 1, 2));
    const s2 = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(s2.status, 'canceled');
    assert.equal(s2.ended_at, utc(2026, 4, 1));
    assert.equal(s2.canceled_at, start);
    assert.equal((await invoices(w.s, sub.id)).length, 1);
  });
});

describe('a year of billing', () => {
  test('one-year advance, three customers: 12 renewals each, in order; billing-months per second', async () => {
    const start = utc(2026, 1, 31, 9);
    const w = await world(start);
    const subs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const c = await customer(w);
      subs.push((await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id, quantity: i + 1 }] })).id);
    }
    const began = process.hrtime.bigint();
    for (let m = 2; m <= 12; m += 2) await advance(w, Math.min(utc(2026, 1 + m, 1), utc(2027, 1, 31, 12)));
    await advance(w, utc(2027, 1, 31, 12));
    const seconds = Number(process.hrtime.bigint() - began) / 1e9;
    const months = 3 * 12;
    console.log(`# simulated billing-months per second: ${(months / seconds).toFixed(1)} (${months} in ${seconds.toFixed(2)} s)`);
    for (const [i, id] of subs.entries()) {
      const invs = await invoices(w.s, id);
      assert.equal(invs.length, 13);
      assert.ok(invs.every((x) => x.status === 'paid'));
      assert.ok(invs.every((x) => x.amount_paid === 1000 * (i + 1)));
      const created = invs.map((x) => x.created);
      assert.deepEqual([...created].sort((a, b) => a - b), created);
      assert.equal(day(invs[1]!.created), '2026-02-28');
      assert.equal(day(invs[12]!.created), '2027-01-31');
    }
  });
});

describe('real time', () => {
  test('without a test clock, the server tick renews when the server clock passes the period end', async () => {
    const s = t.stripe(freshKey());
    const product = await s.products.create({ name: 'Daily' });
    const price = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 100, recurring: { interval: 'day' } });
    const c = await s.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    clock.set(NOW);
    const sub = await s.subscriptions.create({ customer: c.id, items: [{ price: price.id }] });
    clock.set(NOW + DAY + 2 * HOUR);
    try {
      let invs: Stripe.Invoice[] = [];
      for (let i = 0; i < 300 && invs.length < 2; i++) { // the tick runs about once a second, every account's due timers
        await new Promise((r) => setTimeout(r, 100));
        invs = await invoices(s, sub.id);
      }
      assert.equal(invs.length, 2);
      assert.equal(invs[1]!.billing_reason, 'subscription_cycle');
      assert.equal(invs[1]!.created, NOW + DAY);
    } finally {
      // Nothing left for the real-time tick of other servers sharing a PostgreSQL database.
      await s.subscriptions.cancel(sub.id);
      clock.set(NOW);
    }
  });
});

describe('subscription schedules', () => {
  test('three phases on a test clock: phase transitions at their boundaries, then released', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const pro = await w.s.prices.create({ product: w.product.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id, start_date: 'now', end_behavior: 'release',
      phases: [
        { items: [{ price: w.monthly.id }], duration: { interval: 'month', interval_count: 1 } },
        { items: [{ price: pro.id }], duration: { interval: 'month', interval_count: 2 } },
        { items: [{ price: w.monthly.id, quantity: 2 }], end_date: utc(2026, 5, 10) },
      ],
    });
    assert.equal(sched.object, 'subscription_schedule');
    assert.deepEqual(Object.keys(sched).sort(), ['application', 'billing_mode', 'canceled_at', 'completed_at', 'created', 'current_phase', 'customer', 'customer_account',
      'default_settings', 'end_behavior', 'id', 'livemode', 'metadata', 'object', 'phases', 'released_at', 'released_subscription', 'status', 'subscription', 'test_clock']);
    assert.deepEqual(Object.keys(sched.phases[0]!).sort(), ['add_invoice_items', 'application_fee_percent', 'billing_cycle_anchor', 'billing_thresholds', 'collection_method',
      'currency', 'default_payment_method', 'default_tax_rates', 'description', 'discounts', 'end_date', 'invoice_settings', 'items', 'metadata', 'on_behalf_of',
      'proration_behavior', 'start_date', 'transfer_data', 'trial_end']);
    assert.match(sched.id, /^sub_sched_/);
    assert.equal(sched.status, 'active');
    assert.deepEqual(sched.current_phase, { start_date: start, end_date: utc(2026, 2, 10) });
    assert.deepEqual(sched.phases.map((p) => [day(p.start_date), day(p.end_date)]),
      [['2026-01-10', '2026-02-10'], ['2026-02-10', '2026-04-10'], ['2026-04-10', '2026-05-10']]);
    const subId = sched.subscription as string;
    const sub = await w.s.subscriptions.retrieve(subId);
    assert.equal(sub.schedule, sched.id);
    assert.equal(sub.items.data[0]!.price.id, w.monthly.id);
    await advance(w, utc(2026, 3, 1));
    assert.equal((await w.s.subscriptions.retrieve(subId)).items.data[0]!.price.id, pro.id);
    assert.deepEqual((await w.s.subscriptionSchedules.retrieve(sched.id)).current_phase, { start_date: utc(2026, 2, 10), end_date: utc(2026, 4, 10) });
    await advance(w, utc(2026, 4, 20));
    const s3 = await w.s.subscriptions.retrieve(subId);
    assert.equal(s3.items.data[0]!.price.id, w.monthly.id);
    assert.equal(s3.items.data[0]!.quantity, 2);
    await advance(w, utc(2026, 5, 11));
    const done = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(done.status, 'released');
    assert.equal(done.released_at, utc(2026, 5, 10));
    assert.equal(done.released_subscription, subId);
    const after = await w.s.subscriptions.retrieve(subId);
    assert.equal(after.schedule, null);
    assert.equal(after.status, 'active');
    // Each renewal billed the phase it opened: Basic, Pro, Pro, 2 × Basic, 2 × Basic (released, still renewing).
    assert.deepEqual((await invoices(w.s, subId)).map((i) => i.amount_paid), [1000, 2000, 2000, 2000, 2000]);
    await rejects(w.s.subscriptionSchedules.release(sched.id), {
      status: 400, message: 'You cannot release a subscription schedule that is currently in the `released` status. It must be in one of the following statuses: `active`, `not_started`.',
    });
  });

  test('starting in the future (not_started), end_behavior cancel; cancel endpoint', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id, start_date: start + 5 * DAY, end_behavior: 'cancel',
      phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month' } }],
    });
    assert.equal(sched.status, 'not_started');
    assert.equal(sched.subscription, null);
    await advance(w, start + 6 * DAY);
    const started = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(started.status, 'active');
    const sub = await w.s.subscriptions.retrieve(started.subscription as string);
    assert.equal(sub.start_date, start + 5 * DAY);
    await advance(w, utc(2026, 2, 16));
    const ended = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(ended.status, 'completed');
    assert.equal((await w.s.subscriptions.retrieve(sub.id)).status, 'canceled');
    const other = await w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month' } }] });
    const canceled = await w.s.subscriptionSchedules.cancel(other.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal((await w.s.subscriptions.retrieve(other.subscription as string)).status, 'canceled');
    const fromSub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const migrated = await w.s.subscriptionSchedules.create({ from_subscription: fromSub.id });
    assert.equal(migrated.status, 'active');
    assert.equal(migrated.subscription, fromSub.id);
    assert.equal((await w.s.subscriptions.retrieve(fromSub.id)).schedule, migrated.id);
    const list = await w.s.subscriptionSchedules.list({ customer: c.id });
    assert.equal(list.data.length, 3);
  });
});

describe('metered prices', () => {
  test('usage of the closed period (a sum meter) is billed at the period end, in arrears', async () => {
    const s = t.stripe(freshKey());
    const meter = await s.billing.meters.create({ display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
    const product = await s.products.create({ name: 'API' });
    const metered = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    const c = await s.customers.create({ payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    clock.set(NOW);
    try {
      const sub = await s.subscriptions.create({ customer: c.id, items: [{ price: metered.id }], expand: ['latest_invoice'] });
      assert.equal(sub.status, 'active');
      assert.equal((sub.latest_invoice as Stripe.Invoice).amount_due, 0); // nothing in advance for metered prices
      await rejects(s.subscriptionItems.update(sub.items.data[0]!.id, { quantity: 3 }), { status: 400, message: 'You cannot set the quantity for metered plans.', param: 'quantity' });
      clock.set(NOW + 10 * DAY);
      for (const value of ['30', '12']) {
        await s.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: c.id, value }, timestamp: NOW + 5 * DAY });
      }
      const end = sub.items.data[0]!.current_period_end;
      clock.set(end + 2 * HOUR);
      let invs: Stripe.Invoice[] = [];
      for (let i = 0; i < 300 && !(invs.length === 2 && invs[1]!.status === 'paid'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        invs = await invoices(s, sub.id);
      }
      const renewal = invs[1]!;
      assert.equal(renewal.billing_reason, 'subscription_cycle');
      const line = renewal.lines.data[0]!;
      assert.equal(line.quantity, 42);
      assert.equal(line.amount, 210);
      assert.deepEqual(line.period, { start: NOW, end });
      assert.equal(renewal.amount_paid, 210);
      await s.subscriptions.cancel(sub.id);
    } finally { clock.set(NOW); }
  });
});

describe('invoice.upcoming', () => {
  test('three days before each automatic renewal, the invoice it will create (a preview, not stored); none for a subscription ending at period end', async () => {
    const start = utc(2026, 3, 1, 9);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const ending = await w.s.subscriptions.create({ customer: (await customer(w)).id, items: [{ price: w.monthly.id }], cancel_at_period_end: true });
    await advance(w, utc(2026, 3, 30, 12)); // past Mar 29 09:00, three days before the Apr 1 renewal
    let evs = (await w.s.events.list({ type: 'invoice.upcoming', limit: 10 })).data;
    assert.equal(evs.length, 1, 'one upcoming renewal (the other subscription ends at period end)');
    const inv = evs[0]!.data.object as Stripe.Invoice;
    assert.equal(evs[0]!.created, utc(2026, 3, 29, 9));
    assert.equal(inv.object, 'invoice');
    // Not a stored invoice: the preview's id form (create_preview answers alike), retrievable by no one.
    assert.match(String((inv as any).id), /^upcoming_in_/);
    await assert.rejects(w.s.invoices.retrieve((inv as any).id), (e: any) => e.statusCode === 404);
    assert.equal(inv.billing_reason, 'upcoming');
    assert.equal(inv.amount_due, 1000);
    assert.equal(inv.period_start, utc(2026, 4, 1, 9));
    assert.equal(inv.parent?.subscription_details?.subscription, sub.id);
    assert.equal((evs[0] as any).request.id, null);
    void ending;
    // A quarter later: once per renewal, each before its renewal's invoice.
    await advance(w, utc(2026, 5, 30, 12));
    const all: Stripe.Event[] = [];
    for await (const e of w.s.events.list({ limit: 100 })) all.push(e);
    const seq = all.reverse().filter((e) => e.type === 'invoice.upcoming' || (e.type === 'invoice.created' && (e.data.object as Stripe.Invoice).billing_reason === 'subscription_cycle'));
    assert.deepEqual(seq.map((e) => [e.type, day(e.created)]), [
      ['invoice.upcoming', '2026-03-29'], ['invoice.created', '2026-04-01'],
      ['invoice.upcoming', '2026-04-28'], ['invoice.created', '2026-05-01'],
      ['invoice.upcoming', '2026-05-29'],
    ]);
    evs = (await w.s.events.list({ type: 'invoice.upcoming', limit: 10 })).data;
    assert.ok(evs.every((e) => (e.data.object as Stripe.Invoice).parent?.subscription_details?.subscription === sub.id));
  });
});
