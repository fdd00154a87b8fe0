// Subscription features of the second billing round, through the official SDK on test clocks:
// how schedules end (subscription_schedule.expiring / completed / released / canceled / aborted,
// driven by the scheduler's timers), the pause and migrate endpoints, create_preview for new
// subscriptions and schedules, discounts and tax rates on schedule phases, billing thresholds.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
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

async function events(s: Stripe, keep: (type: string) => boolean): Promise<Stripe.Event[]> {
  const all: Stripe.Event[] = [];
  for await (const e of s.events.list({ limit: 100 })) all.push(e);
  return all.reverse().filter((e) => keep(e.type));
}

const invoices = subscriptionInvoices;

const scheduleEnds = (x: string) => ['subscription_schedule.expiring', 'subscription_schedule.completed', 'subscription_schedule.released',
  'subscription_schedule.canceled', 'subscription_schedule.aborted', 'customer.subscription.deleted'].includes(x);

describe('how subscription schedules end', () => {
  test('end_behavior cancel: expiring seven days before the end, then the subscription canceled and the schedule completed, in time order', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id, start_date: 'now', end_behavior: 'cancel',
      phases: [
        { items: [{ price: w.monthly.id }], duration: { interval: 'month' } },
        { items: [{ price: w.pro.id }], end_date: utc(2026, 3, 10) },
      ],
    });
    await advance(w, utc(2026, 3, 2));
    assert.deepEqual((await events(w.s, scheduleEnds)).map((e) => e.type), [], 'nothing before Mar 3');
    await advance(w, utc(2026, 3, 4));
    const exp = await events(w.s, scheduleEnds);
    assert.deepEqual(exp.map((e) => [e.type, e.created]), [['subscription_schedule.expiring', utc(2026, 3, 3)]]);
    const obj = exp[0]!.data.object as Stripe.SubscriptionSchedule;
    assert.equal(obj.id, sched.id);
    assert.equal(obj.status, 'active');
    assert.deepEqual(obj.current_phase, { start_date: utc(2026, 2, 10), end_date: utc(2026, 3, 10) });
    assert.equal((exp[0] as any).request.id, null);
    await advance(w, utc(2026, 3, 11));
    const all = await events(w.s, scheduleEnds);
    assert.deepEqual(all.map((e) => [e.type, day(e.created)]), [
      ['subscription_schedule.expiring', '2026-03-03'],
      ['customer.subscription.deleted', '2026-03-10'],
      ['subscription_schedule.completed', '2026-03-10'],
    ]);
    const done = all[2]!.data.object as Stripe.SubscriptionSchedule;
    assert.equal(done.status, 'completed');
    assert.equal(done.completed_at, utc(2026, 3, 10));
    assert.equal(done.current_phase, null);
    assert.deepEqual(all[2]!.data.previous_attributes, { completed_at: null, current_phase: { end_date: utc(2026, 3, 10), start_date: utc(2026, 2, 10) }, status: 'active' });
    assert.deepEqual(await w.s.subscriptionSchedules.retrieve(sched.id), done);
    const sub = await w.s.subscriptions.retrieve(sched.subscription as string);
    assert.equal(sub.status, 'canceled');
    assert.equal(sub.ended_at, utc(2026, 3, 10));
    // A completed schedule takes no more changes.
    await rejects(w.s.subscriptionSchedules.cancel(sched.id), {
      status: 400, message: 'You cannot cancel a subscription schedule that is currently in the `completed` status. It must be in one of the following statuses: `active`, `not_started`.',
    });
    await rejects(w.s.subscriptionSchedules.update(sched.id, { metadata: { a: '1' } }), {
      status: 400, message: 'You cannot update a subscription schedule that is currently in the `completed` status. It must be in one of the following statuses: `active`, `not_started`.',
    });
  });

  test('end_behavior release: expiring, then released (the subscription keeps renewing); a not_started schedule warns too; moving the end moves the warning', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id, start_date: start + 2 * DAY, end_behavior: 'release',
      phases: [{ items: [{ price: w.monthly.id }], end_date: utc(2026, 2, 20) }],
    });
    assert.equal(sched.status, 'not_started');
    // Extending the last phase (before it started) moves the warning from Feb 13 to Mar 13.
    await w.s.subscriptionSchedules.update(sched.id, { phases: [{ items: [{ price: w.monthly.id }], start_date: start + 2 * DAY, end_date: utc(2026, 3, 20) }] });
    await advance(w, utc(2026, 2, 25));
    assert.deepEqual((await events(w.s, scheduleEnds)).map((e) => e.type), []);
    await advance(w, utc(2026, 3, 21));
    const all = await events(w.s, scheduleEnds);
    assert.deepEqual(all.map((e) => [e.type, day(e.created)]), [['subscription_schedule.expiring', '2026-03-13'], ['subscription_schedule.released', '2026-03-20']]);
    const done = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(done.status, 'released');
    assert.equal(done.released_at, utc(2026, 3, 20));
    const sub = await w.s.subscriptions.retrieve(done.released_subscription!);
    assert.equal(sub.status, 'active');
    assert.equal(sub.schedule, null);
  });

  test('a schedule released or canceled early never warns', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const a = await w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.monthly.id }], end_date: utc(2026, 2, 20) }] });
    const b = await w.s.subscriptionSchedules.create({ customer: c.id, start_date: start + DAY, phases: [{ items: [{ price: w.monthly.id }], end_date: utc(2026, 2, 20) }] });
    await w.s.subscriptionSchedules.release(a.id);
    await w.s.subscriptionSchedules.cancel(b.id);
    await advance(w, utc(2026, 2, 21));
    assert.deepEqual((await events(w.s, (x) => x.startsWith('subscription_schedule.') && x !== 'subscription_schedule.updated')).map((e) => e.type), [
      'subscription_schedule.created', 'subscription_schedule.created', 'subscription_schedule.released', 'subscription_schedule.canceled',
    ]);
  });

  test('its subscription canceled outside the schedule: the schedule is canceled (subscription_schedule.canceled), no warning, no completion', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const sched = await w.s.subscriptionSchedules.create({ customer: c.id, end_behavior: 'cancel', phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month', interval_count: 2 } }] });
    await advance(w, utc(2026, 1, 20));
    await w.s.subscriptions.cancel(sched.subscription as string);
    const got = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(got.status, 'canceled');
    assert.equal(got.canceled_at, utc(2026, 1, 20));
    assert.equal(got.current_phase, null);
    await advance(w, utc(2026, 3, 20));
    assert.deepEqual((await events(w.s, scheduleEnds)).map((e) => [e.type, day(e.created)]), [
      ['customer.subscription.deleted', '2026-01-20'], ['subscription_schedule.canceled', '2026-01-20'],
    ]);
    await rejects(w.s.subscriptionSchedules.release(sched.id), {
      status: 400, message: 'You cannot release a subscription schedule that is currently in the `canceled` status. It must be in one of the following statuses: `active`, `not_started`.',
    });
  });

  test('its subscription canceled by dunning (delinquency): subscription_schedule.aborted', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const sched = await w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month', interval_count: 6 } }] });
    const bad = await w.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c.id });
    await w.s.customers.update(c.id, { invoice_settings: { default_payment_method: bad.id } });
    await advance(w, utc(2026, 4, 1, 2));
    assert.equal((await w.s.subscriptions.retrieve(sched.subscription as string)).status, 'past_due');
    assert.equal((await w.s.subscriptionSchedules.retrieve(sched.id)).status, 'active');
    await advance(w, utc(2026, 4, 20));
    const sub = await w.s.subscriptions.retrieve(sched.subscription as string);
    assert.equal(sub.status, 'canceled');
    assert.equal(sub.cancellation_details!.reason, 'payment_failed');
    const all = await events(w.s, scheduleEnds);
    assert.deepEqual(all.map((e) => e.type), ['customer.subscription.deleted', 'subscription_schedule.aborted']);
    assert.equal(all[1]!.created, sub.ended_at);
    const aborted = await w.s.subscriptionSchedules.retrieve(sched.id);
    assert.equal(aborted.status, 'canceled');
    assert.equal(aborted.canceled_at, sub.ended_at);
    assert.deepEqual(all[1]!.data.object as Stripe.SubscriptionSchedule, aborted);
  });
});

describe('pause and migrate', () => {
  test('pause: paused with status_details, unused time credited as a pending item, no renewals while paused; resume bills the new period with the credit', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    await advance(w, utc(2026, 3, 16));
    const paused = await w.s.subscriptions.pause(sub.id);
    assert.equal(paused.status, 'paused');
    assert.deepEqual((paused as any).status_details, { paused: { subscription: { type: 'pause_requested' }, transitioned_at: utc(2026, 3, 16), type: 'subscription' } });
    const evs = await events(w.s, (x) => x.startsWith('customer.subscription.'));
    assert.deepEqual(evs.map((e) => e.type).slice(-2), ['customer.subscription.updated', 'customer.subscription.paused']);
    assert.equal((evs.at(-2)!.data.previous_attributes as any).status, 'active');
    // 16 of March's 31 days unused: 1000 × 16/31 = 516.13 → 516.
    const pending = (await w.s.invoiceItems.list({ customer: c.id, pending: true })).data;
    assert.deepEqual(pending.map((i) => [i.amount, i.proration]), [[-516, true]]);
    await rejects(w.s.subscriptions.pause(sub.id), {
      status: 400, message: 'You cannot pause a subscription with `status=paused`. Only subscriptions with `status=active` or `status=trialing` can be paused.',
    });
    await advance(w, utc(2026, 5, 10));
    assert.equal((await invoices(w.s, sub.id)).length, 1, 'no renewal invoices while paused');
    assert.equal((await w.s.events.list({ type: "invoice.upcoming" })).data.length, 0);
    const resumed = await w.s.subscriptions.resume(sub.id, { expand: ['latest_invoice'] });
    assert.equal(resumed.status, 'active');
    assert.equal((resumed as any).status_details, undefined);
    assert.equal(resumed.billing_cycle_anchor, utc(2026, 5, 10));
    assert.equal(resumed.items.data[0]!.current_period_end, utc(2026, 6, 10));
    const inv = resumed.latest_invoice as Stripe.Invoice;
    assert.equal(inv.amount_due, 1000 - 516);
    assert.equal(inv.status, 'paid');
    assert.deepEqual((await w.s.invoiceItems.list({ customer: c.id, pending: true })).data, []);
  });

  test('pause options: invoicing_behavior=invoice with the whole current period credited; unused_time_from none credits nothing', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const a = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    const b = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.pro.id }] });
    await advance(w, utc(2026, 3, 10));
    const pa = await w.s.subscriptions.pause(a.id, { invoicing_behavior: 'invoice', bill_for: { unused_time_from: { type: 'item_current_period_start' } }, expand: ['latest_invoice'] });
    const inv = pa.latest_invoice as Stripe.Invoice;
    assert.equal(inv.billing_reason, 'subscription_update');
    assert.equal(inv.total, -1000);
    assert.deepEqual(inv.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[-1000, start, utc(2026, 4, 1)]]);
    const pb = await w.s.subscriptions.pause(b.id, { bill_for: { unused_time_from: { type: 'none' } } });
    assert.equal(pb.status, 'paused');
    assert.equal(pb.latest_invoice, b.latest_invoice);
    assert.deepEqual((await w.s.invoiceItems.list({ customer: c.id, pending: true })).data, []);
  });

  test('pause refused: classic billing mode (until migrated), an attached schedule, canceled, send_invoice; unknown subscription 404', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const classic = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], billing_mode: { type: 'classic' } });
    await rejects(w.s.subscriptions.pause(classic.id), {
      status: 400, message: 'Only subscriptions with `billing_mode[type]=flexible` can be paused. Migrate the subscription to flexible billing mode first.',
    });
    const sched = await w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.pro.id }], duration: { interval: 'month', interval_count: 2 } }] });
    await rejects(w.s.subscriptions.pause(sched.subscription as string), {
      status: 400, message: `You cannot pause a subscription that is attached to a subscription schedule (\`${sched.id}\`). Release the schedule first.`,
    });
    const invoiced = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], collection_method: 'send_invoice', days_until_due: 30 });
    await rejects(w.s.subscriptions.pause(invoiced.id), { status: 400, message: 'Only subscriptions with `collection_method=charge_automatically` can be paused.' });
    const gone = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.pro.id }] });
    await w.s.subscriptions.cancel(gone.id);
    await rejects(w.s.subscriptions.pause(gone.id), {
      status: 400, message: 'You cannot pause a subscription with `status=canceled`. Only subscriptions with `status=active` or `status=trialing` can be paused.',
    });
    await rejects(w.s.subscriptions.pause('sub_missing'), { status: 404, message: "No such subscription: 'sub_missing'", param: 'id', code: 'resource_missing' });
    await rejects(w.s.subscriptions.migrate(gone.id, { billing_mode: { type: 'flexible' } }), { status: 400, message: 'You cannot migrate a subscription with `status=canceled`.' });

    // migrate: classic → flexible (an update with previous_attributes), then pause works; flexible cannot migrate again.
    await advance(w, utc(2026, 3, 5));
    const migrated = await w.s.subscriptions.migrate(classic.id, { billing_mode: { type: 'flexible', flexible: { proration_discounts: 'itemized' } } });
    assert.deepEqual(migrated.billing_mode, { flexible: { proration_discounts: 'itemized' }, type: 'flexible', updated_at: utc(2026, 3, 5) });
    const ev = (await w.s.events.list({ type: 'customer.subscription.updated', limit: 1 })).data[0]!;
    assert.deepEqual((ev.data.previous_attributes as any).billing_mode, { flexible: null, type: 'classic', updated_at: start });
    await rejects(w.s.subscriptions.migrate(classic.id, { billing_mode: { type: 'flexible' } }), {
      status: 400, message: 'This subscription already uses `billing_mode[type]=flexible`.', param: 'billing_mode[type]',
    });
    await rejects(w.s.subscriptions.migrate(classic.id, {} as any), { status: 400, message: 'Missing required param: billing_mode.', param: 'billing_mode', code: 'parameter_missing' });
    assert.equal((await w.s.subscriptions.pause(classic.id)).status, 'paused');
  });

  test('trialing → paused (nothing to credit) → canceled while paused; past_due cannot be paused', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const trial = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], trial_period_days: 14 });
    await advance(w, start + 3 * DAY);
    const paused = await w.s.subscriptions.pause(trial.id);
    assert.equal(paused.status, 'paused');
    assert.deepEqual((await w.s.invoiceItems.list({ customer: c.id, pending: true })).data, []);
    await advance(w, start + 20 * DAY);
    assert.equal((await w.s.subscriptions.retrieve(trial.id)).status, 'paused', 'the trial end does not run while paused');
    const canceled = await w.s.subscriptions.cancel(trial.id);
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.ended_at, start + 20 * DAY);
    await rejects(w.s.subscriptions.resume(trial.id), { status: 400, message: 'Only subscriptions with `status=paused` can be resumed.' });

    const c2 = await customer(w);
    const due = await w.s.subscriptions.create({ customer: c2.id, items: [{ price: w.monthly.id }] });
    const bad = await w.s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: c2.id });
    await w.s.customers.update(c2.id, { invoice_settings: { default_payment_method: bad.id } });
    await advance(w, utc(2026, 4, 21, 2)); // its first renewal (created Mar 21) fails
    assert.equal((await w.s.subscriptions.retrieve(due.id)).status, 'past_due');
    await rejects(w.s.subscriptions.pause(due.id), {
      status: 400, message: 'You cannot pause a subscription with `status=past_due`. Only subscriptions with `status=active` or `status=trialing` can be paused.',
    });
  });

  test('a trial that ends without a payment method (missing_payment_method=pause) pauses with status_details trial_end_without_payment_method', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w, null);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], trial_period_days: 7, trial_settings: { end_behavior: { missing_payment_method: 'pause' } } });
    await advance(w, start + 8 * DAY);
    const got = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(got.status, 'paused');
    assert.deepEqual((got as any).status_details, { paused: { subscription: { type: 'trial_end_without_payment_method' }, transitioned_at: start + 7 * DAY, type: 'subscription' } });
  });
});

describe('create_preview of subscriptions and schedules that do not exist yet', () => {
  test('customer + subscription_details.items: the first invoice the subscription would create (coupon, tax rate), nothing written; creating it gives the same invoice', async () => {
    const start = utc(2026, 3, 1, 9);
    const w = await world(start);
    const c = await customer(w);
    const coupon = await w.s.coupons.create({ percent_off: 20, duration: 'forever' });
    const tax = await w.s.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
    const eventsBefore = (await w.s.events.list({ limit: 100 })).data.length;
    const preview = await w.s.invoices.createPreview({
      customer: c.id, discounts: [{ coupon: coupon.id }],
      subscription_details: { items: [{ price: w.monthly.id, quantity: 2 }], default_tax_rates: [tax.id], metadata: { plan: 'basic' } },
    });
    assert.equal(preview.object, 'invoice');
    assert.match(String((preview as any).id), /^upcoming_in_/);
    assert.equal(preview.billing_reason, 'subscription_create');
    assert.equal(preview.customer, c.id);
    assert.equal(preview.parent?.subscription_details?.subscription, null);
    assert.deepEqual(preview.parent?.subscription_details?.metadata, { plan: 'basic' });
    assert.deepEqual(preview.lines.data.map((l) => [l.amount, l.quantity, l.period.start, l.period.end]), [[2000, 2, start, utc(2026, 4, 1, 9)]]);
    assert.equal(preview.lines.data[0]!.description, '2 × Basic (at $10.00 / month)');
    assert.equal(preview.subtotal, 2000);
    assert.equal(preview.total, 1760); // 2000 − 20% = 1600, + 10% tax
    // Nothing written: no subscription, no invoice, no redemption, no event.
    assert.deepEqual((await w.s.subscriptions.list({ customer: c.id })).data, []);
    assert.deepEqual((await w.s.invoices.list({ customer: c.id })).data, []);
    assert.equal((await w.s.coupons.retrieve(coupon.id)).times_redeemed, 0);
    assert.equal((await w.s.events.list({ limit: 100 })).data.length, eventsBefore);
    const sub = await w.s.subscriptions.create({
      customer: c.id, items: [{ price: w.monthly.id, quantity: 2 }], default_tax_rates: [tax.id], discounts: [{ coupon: coupon.id }], expand: ['latest_invoice'],
    });
    const real = sub.latest_invoice as Stripe.Invoice;
    for (const k of ['subtotal', 'total', 'amount_due', 'total_excluding_tax', 'period_start', 'period_end'] as const) assert.equal(preview[k], real[k], k);
    assert.deepEqual(preview.total_taxes, real.total_taxes);
    assert.deepEqual(preview.lines.data.map((l) => [l.amount, l.description, l.period]), real.lines.data.map((l) => [l.amount, l.description, l.period]));
  });

  test('a trial, an inline price, a future anchor (prorated), a past start_date (backdated) and a future one', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const trial = await w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: w.monthly.id }], trial_end: start + 7 * DAY } });
    assert.equal(trial.total, 0);
    assert.deepEqual(trial.lines.data.map((l) => [l.description, l.amount]), [['Trial period for Basic', 0]]);
    const pricesBefore = (await w.s.prices.list({ limit: 100 })).data.length;
    const inline = await w.s.invoices.createPreview({
      customer: c.id, subscription_details: { items: [{ price_data: { currency: 'usd', product: w.product.id, unit_amount: 700, recurring: { interval: 'month' } } }] },
    });
    assert.equal(inline.total, 700);
    assert.equal((await w.s.prices.list({ limit: 100 })).data.length, pricesBefore, 'no price stored');
    // Anchored on the 16th: Mar 1–16 prorated against the period ending at the anchor (Feb 16 – Mar 16): 1000 × 15/28 = 535.7 → 536.
    const anchored = await w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: w.monthly.id }], billing_cycle_anchor: { type: 'timestamp', timestamp: utc(2026, 3, 16) } } });
    assert.deepEqual(anchored.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[536, start, utc(2026, 3, 16)]]);
    const backdated = await w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: w.monthly.id }], start_date: utc(2026, 2, 1) } });
    assert.equal(backdated.total, 2000, 'February and March');
    const later = await w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: w.monthly.id }], start_date: utc(2026, 3, 20) } });
    assert.deepEqual(later.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[1000, utc(2026, 3, 20), utc(2026, 4, 20)]]);
    assert.equal(later.created, utc(2026, 3, 20));
    assert.deepEqual((await w.s.subscriptions.list({ customer: c.id })).data, []);
  });

  test('refusals: no customer, subscription and schedule fields together, an unknown price or coupon, a one-time price', async () => {
    const w = await world(utc(2026, 3, 1));
    const c = await customer(w);
    const once = await w.s.prices.create({ product: w.product.id, currency: 'usd', unit_amount: 500 });
    await rejects(w.s.invoices.createPreview({ subscription_details: { items: [{ price: w.monthly.id }] } }), {
      status: 400, message: 'Missing required param: customer.', param: 'customer', code: 'parameter_missing',
    });
    await rejects(w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: w.monthly.id }] }, schedule_details: { phases: [{ items: [{ price: w.monthly.id }] }] } }), {
      status: 400, message: 'You may only specify one of these parameters: schedule, schedule_details, subscription, subscription_details.', param: 'schedule_details',
    });
    await rejects(w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: 'price_missing' }] } }), {
      status: 400, message: "No such price: 'price_missing'", param: 'items[0][price]', code: 'resource_missing',
    });
    await rejects(w.s.invoices.createPreview({ customer: c.id, discounts: [{ coupon: 'nope' }], subscription_details: { items: [{ price: w.monthly.id }] } }), {
      status: 400, message: "No such coupon: 'nope'", param: 'discounts[0][coupon]', code: 'resource_missing',
    });
    await rejects(w.s.invoices.createPreview({ customer: c.id, subscription_details: { items: [{ price: once.id }] } }), {
      status: 400, message: 'The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', param: 'items[0][price]',
    });
  });

  test('schedule_details for a new schedule, a not-started schedule, an active one (the phase in effect at the next renewal), phases proposed over it; a completed one refused', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const fresh = await w.s.invoices.createPreview({
      customer: c.id, schedule_details: { phases: [{ items: [{ price: w.pro.id }], duration: { interval: 'month' } }, { items: [{ price: w.monthly.id }] }] },
    });
    assert.equal(fresh.billing_reason, 'subscription_create');
    assert.deepEqual(fresh.lines.data.map((l) => [l.amount, l.period.start]), [[3000, start]]);
    assert.deepEqual((await w.s.subscriptionSchedules.list({ customer: c.id })).data, []);

    const later = await w.s.subscriptionSchedules.create({ customer: c.id, start_date: utc(2026, 1, 20), phases: [{ items: [{ price: w.monthly.id, quantity: 3 }], duration: { interval: 'month' } }] });
    const first = await w.s.invoices.createPreview({ schedule: later.id });
    assert.deepEqual(first.lines.data.map((l) => [l.amount, l.period.start]), [[3000, utc(2026, 1, 20)]]);

    const active = await w.s.subscriptionSchedules.create({
      customer: c.id, end_behavior: 'cancel',
      phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month' } }, { items: [{ price: w.pro.id }], duration: { interval: 'month' } }],
    });
    const next = await w.s.invoices.createPreview({ schedule: active.id });
    assert.equal(next.billing_reason, 'upcoming');
    assert.deepEqual(next.lines.data.map((l) => [l.amount, l.period.start, l.period.end]), [[3000, utc(2026, 2, 10), utc(2026, 3, 10)]]);
    assert.equal(next.parent?.subscription_details?.subscription, active.subscription);
    const proposed = await w.s.invoices.createPreview({
      schedule: active.id,
      schedule_details: { phases: [{ items: [{ price: w.monthly.id }], duration: { interval: 'month' } }, { items: [{ price: w.pro.id, quantity: 2 }], duration: { interval: 'month' } }] },
    });
    assert.equal(proposed.total, 6000);
    // Nothing changed by the previews.
    assert.equal((await w.s.subscriptions.retrieve(active.subscription as string)).items.data[0]!.price.id, w.monthly.id);
    assert.equal((await w.s.subscriptionSchedules.retrieve(active.id)).phases[1]!.items[0]!.quantity, 1);
    await w.s.subscriptionSchedules.cancel(active.id);
    await rejects(w.s.invoices.createPreview({ schedule: active.id }), { status: 400, message: 'No upcoming invoices for a subscription schedule in the `canceled` status.', param: 'schedule' });
    await rejects(w.s.invoices.createPreview({ schedule: 'sub_sched_missing' }), { status: 400, message: "No such subscription schedule: 'sub_sched_missing'", param: 'schedule', code: 'resource_missing' });
  });
});

describe('discounts and tax rates on schedule phases', () => {
  test('each phase sets the subscription its discounts and default tax rates when it starts; its invoices carry them', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const half = await w.s.coupons.create({ percent_off: 50, duration: 'forever' });
    const tenth = await w.s.coupons.create({ amount_off: 100, currency: 'usd', duration: 'forever' });
    const vat = await w.s.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id, start_date: 'now',
      phases: [
        { items: [{ price: w.monthly.id }], duration: { interval: 'month' }, discounts: [{ coupon: tenth.id }] },
        { items: [{ price: w.monthly.id }], duration: { interval: 'month' }, discounts: [{ coupon: half.id }], default_tax_rates: [vat.id] },
        { items: [{ price: w.monthly.id }], duration: { interval: 'month' } },
      ],
    });
    assert.deepEqual(sched.phases[0]!.discounts, [{ coupon: tenth.id, discount: null, promotion_code: null }]);
    assert.deepEqual(sched.phases[1]!.default_tax_rates!.map((r) => r.id), [vat.id]);
    assert.equal(sched.phases[1]!.default_tax_rates![0]!.object, 'tax_rate');
    const subId = sched.subscription as string;
    const first = await w.s.subscriptions.retrieve(subId, { expand: ['latest_invoice', 'discounts'] });
    assert.equal((first.discounts[0] as Stripe.Discount).source.coupon, tenth.id);
    assert.equal((first.latest_invoice as Stripe.Invoice).amount_due, 900);
    await advance(w, utc(2026, 2, 11));
    const second = await w.s.subscriptions.retrieve(subId, { expand: ['discounts'] });
    assert.deepEqual(second.discounts.map((d) => (d as Stripe.Discount).source.coupon), [half.id]);
    assert.deepEqual(second.default_tax_rates!.map((r) => r.id), [vat.id]);
    await advance(w, utc(2026, 3, 11));
    const third = await w.s.subscriptions.retrieve(subId);
    assert.deepEqual(third.discounts, []);
    assert.deepEqual(third.default_tax_rates, []);
    // Jan 10: 1000 − 100; Feb 10: 50% then 10% tax = 550; Mar 10: the third phase, no discount, no tax.
    assert.deepEqual((await invoices(w.s, subId)).map((i) => i.amount_due), [900, 550, 1000]);
    assert.equal((await w.s.coupons.retrieve(half.id)).times_redeemed, 1);
  });

  test('from_subscription keeps the subscription its discount and tax rates; a phase naming an unknown coupon or tax rate is refused', async () => {
    const start = utc(2026, 1, 10);
    const w = await world(start);
    const c = await customer(w);
    const coupon = await w.s.coupons.create({ percent_off: 20, duration: 'forever' });
    const vat = await w.s.taxRates.create({ display_name: 'VAT', percentage: 10, inclusive: false });
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], discounts: [{ coupon: coupon.id }], default_tax_rates: [vat.id] });
    const sched = await w.s.subscriptionSchedules.create({ from_subscription: sub.id });
    assert.deepEqual(sched.phases[0]!.discounts, [{ coupon: null, discount: sub.discounts[0] as string, promotion_code: null }]);
    await w.s.subscriptionSchedules.update(sched.id, {
      phases: [
        { items: [{ price: w.monthly.id }], start_date: start, end_date: utc(2026, 2, 10), discounts: [{ discount: sub.discounts[0] as string }], default_tax_rates: [vat.id] },
        { items: [{ price: w.pro.id }], duration: { interval: 'month' }, discounts: [{ discount: sub.discounts[0] as string }], default_tax_rates: [vat.id] },
      ],
    });
    assert.deepEqual((await w.s.subscriptions.retrieve(sub.id)).discounts, sub.discounts);
    await advance(w, utc(2026, 2, 11));
    const after = await w.s.subscriptions.retrieve(sub.id);
    assert.deepEqual(after.discounts, sub.discounts);
    assert.equal(after.items.data[0]!.price.id, w.pro.id);
    assert.equal((await invoices(w.s, sub.id)).at(-1)!.amount_due, 2640); // 3000 − 20%, + 10%
    await rejects(w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.monthly.id }], discounts: [{ coupon: 'nope' }] }] }), {
      status: 400, message: "No such coupon: 'nope'", param: 'phases[0][discounts][0][coupon]', code: 'resource_missing',
    });
    await rejects(w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: w.monthly.id }], default_tax_rates: ['txr_nope'] }] }), {
      status: 400, message: "No such tax rate: 'txr_nope'", param: 'phases[0][default_tax_rates][0]', code: 'resource_missing',
    });
  });
});

describe('billing thresholds', () => {
  async function metered(w: World) {
    const meter = await w.s.billing.meters.create({ display_name: 'API calls', event_name: 'api_calls', default_aggregation: { formula: 'sum' } });
    const price = await w.s.prices.create({ product: w.product.id, currency: 'usd', unit_amount: 5, recurring: { interval: 'month', usage_type: 'metered', meter: meter.id } });
    return price;
  }
  const use = (w: World, customer: string, value: number, timestamp: number) =>
    w.s.billing.meterEvents.create({ event_name: 'api_calls', payload: { stripe_customer_id: customer, value: String(value) }, timestamp });

  test('amount_gte: usage reaching the amount is invoiced at the next hourly check (subscription_threshold); the period end bills only what came after', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const price = await metered(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: price.id }], billing_thresholds: { amount_gte: 1000 } });
    assert.deepEqual(sub.billing_thresholds, { amount_gte: 1000, reset_billing_cycle_anchor: null });
    await advance(w, start + 2 * DAY);
    await use(w, c.id, 150, start + 2 * DAY); // $7.50: under the threshold
    await advance(w, start + 3 * DAY);
    assert.equal((await invoices(w.s, sub.id)).length, 1);
    await use(w, c.id, 100, start + 3 * DAY + 60); // $12.50 in all
    await advance(w, start + 3 * DAY + 3 * HOUR);
    const invs = await invoices(w.s, sub.id);
    assert.equal(invs.length, 2);
    const th = invs[1]!;
    assert.equal(th.billing_reason, 'subscription_threshold');
    assert.equal(th.created, start + 3 * DAY + HOUR, 'at the first whole hour after the usage');
    assert.deepEqual(th.lines.data.map((l) => [l.quantity, l.amount, l.period.start, l.period.end]), [[250, 1250, start, start + 3 * DAY + HOUR]]);
    assert.equal(th.status, 'paid', 'finalized and paid after its draft hour');
    const after = await w.s.subscriptions.retrieve(sub.id);
    assert.equal(after.latest_invoice, th.id);
    assert.equal(after.items.data[0]!.current_period_end, utc(2026, 4, 1));
    await advance(w, start + 10 * DAY);
    await use(w, c.id, 10, start + 10 * DAY);
    await advance(w, utc(2026, 4, 1, 2));
    const renewal = (await invoices(w.s, sub.id))[2]!;
    assert.equal(renewal.billing_reason, 'subscription_cycle');
    assert.deepEqual(renewal.lines.data.map((l) => [l.quantity, l.amount]), [[10, 50]]);
    // Removing the threshold: no more threshold invoices.
    const cleared = await w.s.subscriptions.update(sub.id, { billing_thresholds: '' as any });
    assert.equal(cleared.billing_thresholds, null);
    await use(w, c.id, 1000, utc(2026, 4, 1, 2));
    await advance(w, utc(2026, 4, 5));
    assert.equal((await invoices(w.s, sub.id)).length, 3);
  });

  test('usage_gte on an item; reset_billing_cycle_anchor starts a new period (unused licensed time credited, the new period billed)', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const price = await metered(w);
    const a = await w.s.subscriptions.create({ customer: c.id, items: [{ price: price.id, billing_thresholds: { usage_gte: 100 } }] });
    assert.deepEqual(a.items.data[0]!.billing_thresholds, { usage_gte: 100 });
    await use(w, c.id, 120, start + 60);
    await advance(w, start + 2 * HOUR);
    const th = (await invoices(w.s, a.id))[1]!;
    assert.equal(th.billing_reason, 'subscription_threshold');
    assert.equal(th.lines.data[0]!.quantity, 120);

    const c2 = await customer(w);
    const b = await w.s.subscriptions.create({
      customer: c2.id, items: [{ price: w.monthly.id }, { price: price.id }], billing_thresholds: { amount_gte: 500, reset_billing_cycle_anchor: true },
    });
    await advance(w, utc(2026, 3, 16, 1));
    await use(w, c2.id, 200, utc(2026, 3, 16, 1)); // $10
    await advance(w, utc(2026, 3, 16, 3));
    const reset = (await invoices(w.s, b.id))[1]!;
    const at = utc(2026, 3, 16, 2);
    assert.equal(reset.billing_reason, 'subscription_threshold');
    const got = await w.s.subscriptions.retrieve(b.id);
    assert.equal(got.billing_cycle_anchor, at);
    assert.deepEqual(got.items.data.map((it) => [it.current_period_start, it.current_period_end]), [[at, utc(2026, 4, 16, 2)], [at, utc(2026, 4, 16, 2)]]);
    // Usage $10; the $10 item's March 16 02:00 → April 1 02:00 credited (16 of 31 days: 516.1 → 516); a new month billed.
    assert.deepEqual(reset.lines.data.map((l) => l.amount).sort((x, y) => x - y), [-516, 1000, 1000]);
  });

  test('thresholds set on a subscription whose usage already reaches them are checked at the next whole hour; no usage, no checks', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const price = await metered(w);
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: price.id }] });
    await advance(w, start + 5 * HOUR + 30 * 60);
    await use(w, c.id, 300, start + 5 * HOUR);
    await advance(w, start + 8 * HOUR);
    assert.equal((await invoices(w.s, sub.id)).length, 1, 'no thresholds yet');
    await w.s.subscriptions.update(sub.id, { billing_thresholds: { amount_gte: 1000 } });
    await advance(w, start + 10 * HOUR);
    const th = (await invoices(w.s, sub.id))[1]!;
    assert.equal(th.billing_reason, 'subscription_threshold');
    assert.equal(th.created, start + 9 * HOUR);
    assert.equal(th.amount_due, 1500);
  });

  test('a schedule phase (of a metered price: no quantity) sets the subscription its billing_thresholds while it lasts', async () => {
    const start = utc(2026, 3, 1);
    const w = await world(start);
    const c = await customer(w);
    const price = await metered(w);
    const sched = await w.s.subscriptionSchedules.create({
      customer: c.id,
      phases: [
        { items: [{ price: price.id }], duration: { interval: 'month' }, billing_thresholds: { amount_gte: 1000 } },
        { items: [{ price: price.id }], duration: { interval: 'month' } },
      ],
    });
    assert.deepEqual(sched.phases[0]!.billing_thresholds, { amount_gte: 1000, reset_billing_cycle_anchor: null });
    assert.equal(sched.phases[1]!.billing_thresholds, null);
    await rejects(w.s.subscriptionSchedules.create({ customer: c.id, phases: [{ items: [{ price: price.id, quantity: 2 }] }] }), {
      status: 400, message: 'You cannot set the quantity for metered plans.', param: 'phases[0][items][0][quantity]',
    });
    const subId = sched.subscription as string;
    assert.deepEqual((await w.s.subscriptions.retrieve(subId)).billing_thresholds, { amount_gte: 1000, reset_billing_cycle_anchor: null });
    await use(w, c.id, 250, start);
    await advance(w, start + 2 * HOUR);
    assert.equal((await invoices(w.s, subId))[1]!.billing_reason, 'subscription_threshold');
    await advance(w, utc(2026, 4, 1, 2));
    assert.equal((await w.s.subscriptions.retrieve(subId)).billing_thresholds, null);
    await use(w, c.id, 1000, utc(2026, 4, 1, 2));
    await advance(w, utc(2026, 4, 2));
    assert.deepEqual((await invoices(w.s, subId)).map((i) => i.billing_reason), ['subscription_create', 'subscription_threshold', 'subscription_cycle']);
  });

  test('refusals: usage_gte on a licensed price (on create and on the item), amount_gte below 1', async () => {
    const w = await world(utc(2026, 3, 1));
    const c = await customer(w);
    await rejects(w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id, billing_thresholds: { usage_gte: 10 } }] }), {
      status: 400, message: 'Usage thresholds (`billing_thresholds[usage_gte]`) can only be set on items with metered prices.', param: 'items[0][billing_thresholds]',
    });
    await rejects(w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }], billing_thresholds: { amount_gte: 0 } }), {
      status: 400, message: 'Invalid positive integer', param: 'billing_thresholds[amount_gte]', code: 'parameter_invalid_integer',
    });
    const sub = await w.s.subscriptions.create({ customer: c.id, items: [{ price: w.monthly.id }] });
    await rejects(w.s.subscriptionItems.update(sub.items.data[0]!.id, { billing_thresholds: { usage_gte: 5 } }), {
      status: 400, message: 'Usage thresholds (`billing_thresholds[usage_gte]`) can only be set on items with metered prices.', param: 'billing_thresholds',
    });
  });
});
