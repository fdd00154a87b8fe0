// Subscriptions through the official SDK: creation, shapes, statuses, updates with proration,
// cancellation, items, lists and search (time-driven behaviour: subscriptions-clock.test.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';

let t: TestServer;
const T0 = Date.UTC(2026, 3, 1) / 1000; // 1 April 2026: a 30-day month
const DAY = 86_400;
const clock = new FrozenClock(T0);
before(async () => { t = await startTestServer({ clock }); });
after(() => t.close());

const SUB_KEYS = [
  'application', 'application_fee_percent', 'automatic_tax', 'billing_cycle_anchor', 'billing_cycle_anchor_config', 'billing_mode',
  'billing_schedules', 'billing_thresholds', 'cancel_at', 'cancel_at_period_end', 'canceled_at', 'cancellation_details', 'collection_method',
  'created', 'currency', 'customer', 'customer_account', 'days_until_due', 'default_payment_method', 'default_source', 'default_tax_rates',
  'description', 'discounts', 'ended_at', 'id', 'invoice_settings', 'items', 'latest_invoice', 'livemode', 'managed_payments', 'metadata',
  'next_pending_invoice_item_invoice', 'object', 'on_behalf_of', 'pause_collection', 'payment_settings', 'pending_invoice_item_interval',
  'pending_setup_intent', 'pending_update', 'schedule', 'start_date', 'status', 'test_clock', 'transfer_data', 'trial_end', 'trial_settings',
  'trial_start',
];
const ITEM_KEYS = ['billing_thresholds', 'created', 'current_period_end', 'current_period_start', 'discounts', 'id', 'metadata', 'object', 'plan', 'price', 'quantity', 'subscription', 'tax_rates'];

interface Setup { s: Stripe; customer: Stripe.Customer; basic: Stripe.Price; pro: Stripe.Price; yearly: Stripe.Price; clockId: string }

// Every customer lives on a test clock frozen at T0, so no subscription of this suite is left
// for the real-time tick of another server sharing the PostgreSQL database to renew.
async function setup(pm: string | null = 'pm_card_visa', extra: Stripe.CustomerCreateParams = {}): Promise<Setup> {
  const s = t.stripe(freshKey());
  const clockId = (await s.testHelpers.testClocks.create({ frozen_time: T0 })).id;
  const customer = await s.customers.create({ email: 'jenny@example.com', test_clock: clockId, ...(pm ? { payment_method: pm, invoice_settings: { default_payment_method: pm } } : {}), ...extra });
  const product = await s.products.create({ name: 'Basic' });
  const proProduct = await s.products.create({ name: 'Pro' });
  const basic = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  const pro = await s.prices.create({ product: proProduct.id, currency: 'usd', unit_amount: 2000, recurring: { interval: 'month' } });
  const yearly = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 10000, recurring: { interval: 'year' } });
  return { s, customer: (await s.customers.retrieve(customer.id)) as Stripe.Customer, basic, pro, yearly, clockId };
}

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('subscriptions: create', () => {
  test('monthly, charged at once: active, shape of the current version, periods on the item, first invoice paid', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], metadata: { plan: 'basic' }, expand: ['latest_invoice'] });
    assert.deepEqual(Object.keys(sub).sort(), SUB_KEYS);
    assert.match(sub.id, /^sub_/);
    assert.equal(sub.status, 'active');
    assert.equal(sub.created, T0);
    assert.equal(sub.start_date, T0);
    assert.equal(sub.billing_cycle_anchor, T0);
    assert.equal(sub.currency, 'usd');
    assert.equal(sub.collection_method, 'charge_automatically');
    assert.deepEqual(sub.billing_mode, { flexible: { proration_discounts: 'included' }, type: 'flexible', updated_at: T0 });
    assert.deepEqual(sub.metadata, { plan: 'basic' });
    assert.equal(sub.items.object, 'list');
    assert.equal(sub.items.url, `/v1/subscription_items?subscription=${sub.id}`);
    const item = sub.items.data[0]!;
    assert.deepEqual(Object.keys(item).sort(), ITEM_KEYS);
    assert.equal(item.current_period_start, T0);
    assert.equal(item.current_period_end, Date.UTC(2026, 4, 1) / 1000);
    assert.equal(item.price.id, basic.id);
    assert.equal(item.plan.id, basic.id);
    assert.equal(item.plan.object, 'plan');
    assert.equal(item.plan.amount, 1000);
    assert.equal(item.quantity, 1);
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.object, 'invoice');
    assert.equal(inv.status, 'paid');
    assert.equal(inv.billing_reason, 'subscription_create');
    assert.equal(inv.amount_paid, 1000);
    assert.equal(inv.parent?.subscription_details?.subscription, sub.id);
    assert.equal(inv.lines.data[0]!.description, '1 × Basic (at $10.00 / month)');
    assert.deepEqual(inv.lines.data[0]!.period, { start: T0, end: item.current_period_end });
    // Retrieve answers the same object; the customer lists it.
    const again = await s.subscriptions.retrieve(sub.id);
    assert.equal(again.latest_invoice, inv.id);
    assert.deepEqual({ ...again, latest_invoice: null }, { ...sub, latest_invoice: null });
    const c = await s.customers.retrieve(customer.id, { expand: ['subscriptions'] }) as Stripe.Customer;
    assert.deepEqual(c.subscriptions!.data.map((x) => x.id), [sub.id]);
    // One customer.subscription.created, carrying the state the request ended in, after the invoice's events.
    const types = await eventTypes(s);
    assert.deepEqual(types.filter((x) => x.startsWith('customer.subscription.')), ['customer.subscription.created']);
    assert.ok(types.indexOf('invoice.paid') < types.indexOf('customer.subscription.created'));
    const created = (await s.events.list({ type: 'customer.subscription.created' })).data[0]!;
    assert.equal((created.data.object as Stripe.Subscription).status, 'active');
    assert.equal((created.data.object as Stripe.Subscription).latest_invoice, inv.id);
  });

  test('quantity, several items, price_data, default_tax_rates, description', async () => {
    const { s, customer, basic } = await setup();
    const product = await s.products.create({ name: 'Seats' });
    const rate = await s.taxRates.create({ display_name: 'VAT', percentage: 20, inclusive: false });
    const sub = await s.subscriptions.create({
      customer: customer.id, description: 'Team plan', default_tax_rates: [rate.id],
      items: [{ price: basic.id, quantity: 3 }, { price_data: { currency: 'usd', product: product.id, unit_amount: 500, recurring: { interval: 'month' } } }],
      expand: ['latest_invoice'],
    });
    assert.equal(sub.items.data.length, 2);
    assert.equal(sub.items.data[0]!.quantity, 3);
    assert.equal(sub.items.data[1]!.price.unit_amount, 500);
    assert.equal(sub.items.data[1]!.price.active, false);
    assert.equal(sub.description, 'Team plan');
    assert.deepEqual(sub.default_tax_rates!.map((r) => r.id), [rate.id]);
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.subtotal, 3500);
    assert.equal(inv.total, 4200);
  });

  test('refused parameters: missing customer/items, one-time price, duplicate price, send_invoice without days_until_due', async () => {
    const { s, customer, basic } = await setup();
    const oneTime = await s.prices.create({ product: basic.product as string, currency: 'usd', unit_amount: 500 });
    await rejects(s.subscriptions.create({ items: [{ price: basic.id }] } as any), { status: 400, message: 'Missing required param: customer.', param: 'customer', code: 'parameter_missing' });
    await rejects(s.subscriptions.create({ customer: customer.id }), { status: 400, message: 'Missing required param: items.', param: 'items', code: 'parameter_missing' });
    await rejects(s.subscriptions.create({ customer: 'cus_nope', items: [{ price: basic.id }] }), { status: 400, message: "No such customer: 'cus_nope'", param: 'customer', code: 'resource_missing' });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: 'price_nope' }] }), { status: 400, message: "No such price: 'price_nope'", param: 'items[0][price]', code: 'resource_missing' });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: oneTime.id }] }), {
      status: 400, message: 'The price specified is set to `type=one_time` but this field only accepts prices with `type=recurring`.', param: 'items[0][price]',
    });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }, { price: basic.id }] }), {
      status: 400, message: 'Cannot add multiple subscription items with the same price.', param: 'items[1][price]',
    });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], collection_method: 'send_invoice' }), {
      status: 400, message: 'Missing required param: days_until_due.', param: 'days_until_due', code: 'parameter_missing',
    });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], trial_end: T0 - 10 }), {
      status: 400, message: 'Invalid timestamp: must be an integer Unix timestamp in the future.', param: 'trial_end',
    });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], payment_behavior: 'pending_if_incomplete' }), {
      status: 400, message: 'payment_behavior=pending_if_incomplete is only supported when updating a subscription.', param: 'payment_behavior',
    });
    // Nothing was created by the refused calls.
    assert.equal((await s.subscriptions.list({ status: 'all' })).data.length, 0);
  });

  test('no payment method: refused with allow_incomplete; default_incomplete answers incomplete with a confirmation secret', async () => {
    const { s, customer, basic } = await setup(null);
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] }), {
      status: 400, message: /^This customer has no attached payment source or default payment method/,
    });
    assert.equal((await s.subscriptions.list({ status: 'all' })).data.length, 0);
    const sub = await s.subscriptions.create({
      customer: customer.id, items: [{ price: basic.id }], payment_behavior: 'default_incomplete',
      payment_settings: { save_default_payment_method: 'on_subscription' }, expand: ['latest_invoice.confirmation_secret'],
    });
    assert.equal(sub.status, 'incomplete');
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'open');
    assert.match(inv.confirmation_secret!.client_secret, /^pi_.+_secret_/);
    assert.equal(sub.payment_settings!.save_default_payment_method, 'on_subscription');
  });

  test('declined card: allow_incomplete → incomplete; error_if_incomplete → 402 and nothing created', async () => {
    const { s, customer, basic } = await setup('pm_card_chargeCustomerFail');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], expand: ['latest_invoice'] });
    assert.equal(sub.status, 'incomplete');
    assert.equal((sub.latest_invoice as Stripe.Invoice).status, 'open');
    await assert.rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], payment_behavior: 'error_if_incomplete' }), (e: any) => {
      assert.ok(e instanceof Stripe.errors.StripeCardError);
      assert.equal(e.statusCode, 402);
      assert.equal(e.code, 'card_declined');
      return true;
    });
    assert.equal((await s.subscriptions.list({ status: 'all' })).data.length, 1);
  });

  test('3-D Secure card: incomplete, latest_invoice\'s PaymentIntent requires action with the confirmation secret Stripe.js uses', async () => {
    const { s, customer, basic } = await setup('pm_card_authenticationRequired');
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], expand: ['latest_invoice.payments'] });
    assert.equal(sub.status, 'incomplete');
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'open');
    const piId = (inv.payments!.data[0]!.payment as any).payment_intent as string;
    const pi = await s.paymentIntents.retrieve(piId);
    assert.equal(pi.status, 'requires_action');
    assert.equal((pi.next_action as any).type, 'use_stripe_sdk');
    assert.equal(pi.client_secret, inv.confirmation_secret?.client_secret ?? (await s.invoices.retrieve(inv.id, { expand: ['confirmation_secret'] })).confirmation_secret!.client_secret);
    // (Completing 3-D Secure pays the invoice and activates the subscription: invoice-confirmation.test.ts.)
  });

  test('send_invoice: active at once, the invoice open with its due date', async () => {
    const { s, customer, basic } = await setup(null);
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], collection_method: 'send_invoice', days_until_due: 30, expand: ['latest_invoice'] });
    assert.equal(sub.status, 'active');
    assert.equal(sub.days_until_due, 30);
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'open');
    assert.equal(inv.collection_method, 'send_invoice');
    assert.equal(inv.due_date, T0 + 30 * DAY);
  });

  test('trial_period_days: trialing with a $0 invoice; trial_end now; trial_from_plan', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], trial_period_days: 14, expand: ['latest_invoice'] });
    assert.equal(sub.status, 'trialing');
    assert.equal(sub.trial_start, T0);
    assert.equal(sub.trial_end, T0 + 14 * DAY);
    assert.equal(sub.billing_cycle_anchor, T0 + 14 * DAY);
    assert.equal(sub.items.data[0]!.current_period_end, T0 + 14 * DAY);
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.status, 'paid');
    assert.equal(inv.amount_due, 0);
    assert.equal(inv.lines.data[0]!.description, 'Trial period for Basic');
    const now = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], trial_end: 'now' });
    assert.equal(now.status, 'active');
    assert.equal(now.trial_end, null);
    const withTrial = await s.prices.create({ product: basic.product as string, currency: 'usd', unit_amount: 700, recurring: { interval: 'month', trial_period_days: 7 } });
    const fromPlan = await s.subscriptions.create({ customer: customer.id, items: [{ price: withTrial.id }], trial_from_plan: true });
    assert.equal(fromPlan.status, 'trialing');
    assert.equal(fromPlan.trial_end, T0 + 7 * DAY);
  });

  test('billing_cycle_anchor in the future: prorated first invoice to the anchor; proration_behavior none: free', async () => {
    const { s, customer, basic } = await setup();
    const anchor = T0 + 10 * DAY; // 11 April: the full period ending there is 11 March – 11 April (31 days)
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_cycle_anchor: anchor, expand: ['latest_invoice'] });
    assert.equal(sub.billing_cycle_anchor, anchor);
    assert.equal(sub.items.data[0]!.current_period_end, anchor);
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.amount_paid, Math.round(1000 * 10 / 31));
    assert.equal(inv.lines.data[0]!.parent?.subscription_item_details?.proration, true);
    const free = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_cycle_anchor: anchor, proration_behavior: 'none', expand: ['latest_invoice'] });
    assert.equal((free.latest_invoice as Stripe.Invoice).amount_due, 0);
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_cycle_anchor: T0 + 40 * DAY }), {
      status: 400, message: `billing_cycle_anchor cannot be later than next natural billing date (${Date.UTC(2026, 4, 1) / 1000}) for plan`, param: 'billing_cycle_anchor',
    });
  });

  test('billing_cycle_anchor_config: day 31 at midnight', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_cycle_anchor_config: { day_of_month: 31, hour: 0, minute: 0, second: 0 } });
    assert.equal(sub.billing_cycle_anchor, Date.UTC(2026, 3, 30) / 1000); // April has 30 days
    assert.deepEqual(sub.billing_cycle_anchor_config, { day_of_month: 31, hour: 0, minute: 0, month: null, second: 0 });
    await rejects(s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], billing_cycle_anchor_config: { day_of_month: 3, month: 5 } }), {
      status: 400, message: 'billing_cycle_anchor_config[month] can only be set with yearly prices.', param: 'billing_cycle_anchor_config[month]',
    });
  });

  test('backdate_start_date: the backdated time is billed on the first invoice', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], backdate_start_date: T0 - 15 * DAY, billing_cycle_anchor: T0, expand: ['latest_invoice'] });
    assert.equal(sub.start_date, T0 - 15 * DAY);
    assert.equal(sub.items.data[0]!.current_period_start, T0);
    const inv = sub.latest_invoice as Stripe.Invoice;
    // March has 31 days: 15 of them backdated, plus April in full.
    assert.equal(inv.amount_paid, 1000 + Math.round(1000 * 15 / 31));
  });

  test('discounts: a coupon on the subscription discounts its invoice', async () => {
    const { s, customer, basic } = await setup();
    const coupon = await s.coupons.create({ percent_off: 25, duration: 'forever' });
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], discounts: [{ coupon: coupon.id }], expand: ['latest_invoice', 'discounts'] });
    assert.equal((sub.latest_invoice as Stripe.Invoice).amount_paid, 750);
    const d = sub.discounts[0] as Stripe.Discount;
    assert.equal(d.object, 'discount');
    assert.equal(d.subscription, sub.id);
    assert.equal(d.source.coupon, coupon.id);
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 1);
    const removed = await s.subscriptions.deleteDiscount(sub.id);
    assert.equal(removed.deleted, true);
    assert.deepEqual((await s.subscriptions.retrieve(sub.id)).discounts, []);
    await rejects(s.subscriptions.deleteDiscount(sub.id), { status: 404, message: `No active discount for subscription: ${sub.id}`, code: 'resource_missing' });
  });

  test('add_invoice_items: one-time prices on the first invoice', async () => {
    const { s, customer, basic } = await setup();
    const setupFee = await s.prices.create({ product: basic.product as string, currency: 'usd', unit_amount: 2500 });
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], add_invoice_items: [{ price: setupFee.id }], expand: ['latest_invoice'] });
    const inv = sub.latest_invoice as Stripe.Invoice;
    assert.equal(inv.amount_paid, 3500);
    assert.equal(inv.lines.data.length, 2);
  });
});

describe('subscriptions: update, proration, cancel', () => {
  test('mid-cycle upgrade with create_prorations: pending proration items −500 / +1000 (docs example)', async () => {
    const { s, customer, basic, pro } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const half = T0 + 15 * DAY;
    const updated = await s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: pro.id }], proration_date: half });
    assert.equal(updated.items.data[0]!.price.id, pro.id);
    assert.equal(updated.items.data[0]!.id, sub.items.data[0]!.id);
    const items = (await s.invoiceItems.list({ customer: customer.id, pending: true })).data;
    const amounts = items.map((i) => i.amount).sort((a, b) => a - b);
    assert.deepEqual(amounts, [-500, 1000]);
    const credit = items.find((i) => i.amount < 0)!;
    assert.equal(credit.description, 'Unused time on 1 × Basic after 16 Apr 2026');
    assert.equal(credit.proration, true);
    assert.deepEqual(credit.period, { start: half, end: Date.UTC(2026, 4, 1) / 1000 });
    const debit = items.find((i) => i.amount > 0)!;
    assert.equal(debit.description, 'Remaining time on 1 × Pro after 16 Apr 2026');
    const ev = (await s.events.list({ type: 'customer.subscription.updated' })).data[0]!;
    assert.ok((ev.data.previous_attributes as any).items, 'previous_attributes has the old items');
  });

  test('invoices.createPreview of a proposed change: its prorations and the next period, nothing written', async () => {
    const { s, customer, basic, pro } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const preview = await s.invoices.createPreview({
      subscription: sub.id, subscription_details: { items: [{ id: sub.items.data[0]!.id, price: pro.id }], proration_date: T0 + 15 * DAY },
    });
    assert.equal(preview.object, 'invoice');
    assert.deepEqual(preview.lines.data.map((l) => l.amount), [-500, 1000, 2000]);
    assert.equal(preview.total, 2500);
    assert.equal(preview.parent?.subscription_details?.subscription, sub.id);
    const plain = await s.invoices.createPreview({ subscription: sub.id });
    assert.deepEqual(plain.lines.data.map((l) => [l.amount, l.period.start]), [[1000, Date.UTC(2026, 4, 1) / 1000]]);
    assert.equal((await s.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
    assert.equal((await s.subscriptions.retrieve(sub.id)).items.data[0]!.price.id, basic.id);
  });

  test('billing_mode flexible credits what was billed (net of a coupon); classic credits the list price', async () => {
    const { s, customer, basic, pro } = await setup();
    const coupon = await s.coupons.create({ percent_off: 25, duration: 'forever' });
    const credits: number[] = [];
    for (const type of ['flexible', 'classic'] as const) {
      const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], discounts: [{ coupon: coupon.id }], billing_mode: { type } });
      assert.equal(sub.billing_mode.type, type);
      const u = await s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: pro.id }], proration_date: T0 + 15 * DAY, proration_behavior: 'always_invoice', expand: ['latest_invoice'] });
      credits.push((u.latest_invoice as Stripe.Invoice).lines.data.find((l) => l.amount < 0)!.amount);
    }
    assert.deepEqual(credits, [-375, -500]);
  });

  test('always_invoice: a subscription_update invoice charged now; downgrade quantity credits', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id, quantity: 2 }] });
    const at = T0 + 10 * DAY;
    const up = await s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, quantity: 5 }], proration_behavior: 'always_invoice', proration_date: at, expand: ['latest_invoice'] });
    const inv = up.latest_invoice as Stripe.Invoice;
    assert.equal(inv.billing_reason, 'subscription_update');
    assert.deepEqual(inv.lines.data.map((l) => l.amount).sort((a, b) => a - b), [-1333, 3333]);
    assert.equal(inv.status, 'paid');
    assert.equal(inv.amount_paid, 2000);
    const none = await s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, quantity: 1 }], proration_behavior: 'none' });
    assert.equal(none.items.data[0]!.quantity, 1);
    assert.equal((await s.invoiceItems.list({ customer: customer.id, pending: true })).data.length, 0);
  });

  test('switching to a yearly price resets the anchor and invoices now', async () => {
    const { s, customer, basic, yearly } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const up = await s.subscriptions.update(sub.id, { items: [{ id: sub.items.data[0]!.id, price: yearly.id }], expand: ['latest_invoice'] });
    assert.equal(up.billing_cycle_anchor, T0);
    assert.equal(up.items.data[0]!.current_period_end, Date.UTC(2027, 3, 1) / 1000);
    const inv = up.latest_invoice as Stripe.Invoice;
    assert.equal(inv.billing_reason, 'subscription_update');
    assert.equal(inv.amount_paid, 10000 - 1000);
  });

  test('pending_if_incomplete: a failed payment leaves the changes pending; paying applies them', async () => {
    const { s, customer, basic, pro } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const bad = await s.paymentMethods.attach('pm_card_chargeCustomerFail', { customer: customer.id });
    await s.customers.update(customer.id, { invoice_settings: { default_payment_method: bad.id } });
    const u = await s.subscriptions.update(sub.id, {
      items: [{ id: sub.items.data[0]!.id, price: pro.id }], payment_behavior: 'pending_if_incomplete', proration_behavior: 'always_invoice', proration_date: T0 + 15 * DAY,
    });
    assert.equal(u.items.data[0]!.price.id, basic.id);
    assert.equal(u.status, 'active');
    assert.ok(u.pending_update);
    assert.equal(u.pending_update!.subscription_items![0]!.price.id, pro.id);
    assert.equal(u.pending_update!.expires_at, T0 + 23 * 3600);
    const good = await s.paymentMethods.attach('pm_card_visa', { customer: customer.id });
    await s.invoices.pay(u.latest_invoice as string, { payment_method: good.id });
    const after = await s.subscriptions.retrieve(sub.id);
    assert.equal(after.pending_update, null);
    assert.equal(after.items.data[0]!.price.id, pro.id);
    assert.equal((await s.events.list({ type: 'customer.subscription.pending_update_applied' })).data.length, 1);
  });

  test('cancel now (DELETE): canceled, deleted event; refused transitions after it', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const canceled = await s.subscriptions.cancel(sub.id, { cancellation_details: { comment: 'too expensive', feedback: 'too_expensive' } });
    assert.equal(canceled.status, 'canceled');
    assert.equal(canceled.canceled_at, T0);
    assert.equal(canceled.ended_at, T0);
    assert.deepEqual(canceled.cancellation_details, { comment: 'too expensive', feedback: 'too_expensive', reason: 'cancellation_requested' });
    const ev = (await s.events.list({ type: 'customer.subscription.deleted' })).data[0]!;
    assert.equal((ev.data.object as Stripe.Subscription).id, sub.id);
    await rejects(s.subscriptions.update(sub.id, { description: 'x' }), { status: 400, message: 'A canceled subscription can only update its cancellation_details and metadata.', param: 'description' });
    const meta = await s.subscriptions.update(sub.id, { metadata: { k: 'v' } });
    assert.deepEqual(meta.metadata, { k: 'v' });
    await rejects(s.subscriptions.cancel(sub.id), { status: 404, message: `This subscription has already been canceled: ${sub.id}`, code: 'resource_missing' });
    await rejects(s.subscriptions.resume(sub.id), { status: 400, message: 'Only subscriptions with `status=paused` can be resumed.' });
    // Listing hides canceled subscriptions unless asked.
    assert.deepEqual((await s.subscriptions.list()).data, []);
    assert.deepEqual((await s.subscriptions.list({ status: 'canceled' })).data.map((x) => x.id), [sub.id]);
    assert.deepEqual((await s.subscriptions.list({ status: 'ended' })).data.map((x) => x.id), [sub.id]);
  });

  test('cancel with prorate and invoice_now: a final invoice crediting the unused time', async () => {
    const { s, customer, basic, clockId } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    await s.testHelpers.testClocks.advance(clockId, { frozen_time: T0 + 15 * DAY });
    const canceled = await s.subscriptions.cancel(sub.id, { prorate: true, invoice_now: true, expand: ['latest_invoice'] });
    assert.equal(canceled.canceled_at, T0 + 15 * DAY);
    const inv = canceled.latest_invoice as Stripe.Invoice;
    assert.equal(inv.total, -500);
    assert.equal(inv.amount_due, 0);
    const c = await s.customers.retrieve(customer.id) as Stripe.Customer;
    assert.equal(c.balance, -500);
  });

  test('cancel_at_period_end sets cancel_at to the period end; unsetting it clears both', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const end = sub.items.data[0]!.current_period_end;
    const u = await s.subscriptions.update(sub.id, { cancel_at_period_end: true });
    assert.equal(u.cancel_at_period_end, true);
    assert.equal(u.cancel_at, end);
    assert.equal(u.canceled_at, T0);
    assert.equal(u.status, 'active');
    const back = await s.subscriptions.update(sub.id, { cancel_at_period_end: false });
    assert.equal(back.cancel_at, null);
    assert.equal(back.canceled_at, null);
    const at = await s.subscriptions.update(sub.id, { cancel_at: T0 + 5 * DAY });
    assert.equal(at.cancel_at, T0 + 5 * DAY);
    assert.equal(at.cancel_at_period_end, false);
  });

  test('pause_collection set and cleared', async () => {
    const { s, customer, basic } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const p = await s.subscriptions.update(sub.id, { pause_collection: { behavior: 'void', resumes_at: T0 + 40 * DAY } });
    assert.deepEqual(p.pause_collection, { behavior: 'void', resumes_at: T0 + 40 * DAY });
    const r = await s.subscriptions.update(sub.id, { pause_collection: '' as any });
    assert.equal(r.pause_collection, null);
  });
});

describe('subscription items', () => {
  test('create (prorated), retrieve, update, list, delete; the last item cannot be deleted', async () => {
    const { s, customer, basic, pro } = await setup();
    const sub = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }] });
    const first = sub.items.data[0]!;
    assert.deepEqual(await s.subscriptionItems.retrieve(first.id), first);
    const added = await s.subscriptionItems.create({ subscription: sub.id, price: pro.id, quantity: 2, proration_date: T0 + 15 * DAY });
    assert.deepEqual(Object.keys(added).sort(), ITEM_KEYS);
    assert.equal(added.subscription, sub.id);
    assert.equal(added.quantity, 2);
    assert.equal(added.current_period_end, first.current_period_end);
    const pending = (await s.invoiceItems.list({ customer: customer.id, pending: true })).data;
    assert.deepEqual(pending.map((i) => i.amount), [2000]);
    const list = await s.subscriptionItems.list({ subscription: sub.id });
    assert.deepEqual(list.data.map((i) => i.id), [first.id, added.id]);
    const updated = await s.subscriptionItems.update(added.id, { quantity: 3, metadata: { seat: 'x' }, proration_behavior: 'none' });
    assert.equal(updated.quantity, 3);
    assert.deepEqual(updated.metadata, { seat: 'x' });
    const deleted = await s.subscriptionItems.del(added.id, { proration_behavior: 'none' });
    assert.deepEqual({ ...deleted }, { id: added.id, object: 'subscription_item', deleted: true });
    await rejects(s.subscriptionItems.retrieve(added.id), { status: 404, message: `No such subscription_item: '${added.id}'`, param: 'id', code: 'resource_missing' });
    await rejects(s.subscriptionItems.del(first.id), {
      status: 400, message: 'A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.',
    });
    await rejects(s.subscriptionItems.create({ subscription: sub.id, price: basic.id }), { status: 400, message: 'Cannot add multiple subscription items with the same price.', param: 'items' });
  });
});

describe('subscriptions: list and search', () => {
  test('filters: customer, price, status, collection_method, current_period_end; search by status and metadata', async () => {
    const { s, customer, basic, pro } = await setup();
    const { clockId } = { clockId: customer.test_clock as string };
    const other = await s.customers.create({ test_clock: clockId, payment_method: 'pm_card_visa', invoice_settings: { default_payment_method: 'pm_card_visa' } });
    const a = await s.subscriptions.create({ customer: customer.id, items: [{ price: basic.id }], metadata: { tier: 'gold' } });
    const b = await s.subscriptions.create({ customer: other.id, items: [{ price: pro.id }], trial_period_days: 5 });
    const c = await s.subscriptions.create({ customer: other.id, items: [{ price: basic.id }], collection_method: 'send_invoice', days_until_due: 10 });
    const ids = (l: Stripe.ApiList<Stripe.Subscription>) => l.data.map((x) => x.id);
    assert.deepEqual(ids(await s.subscriptions.list()), [c.id, b.id, a.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ customer: other.id })), [c.id, b.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ price: basic.id })), [c.id, a.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ status: 'trialing' })), [b.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ collection_method: 'send_invoice' })), [c.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ current_period_end: { lte: T0 + 6 * DAY } })), [b.id]);
    assert.deepEqual(ids(await s.subscriptions.list({ limit: 1 })), [c.id]);
    await rejects(s.subscriptions.list({ status: 'bogus' as any }), { status: 400, message: /^Invalid status/, param: 'status' });
    const found = await s.subscriptions.search({ query: "status:'trialing'" });
    assert.deepEqual(found.data.map((x) => x.id), [b.id]);
    const meta = await s.subscriptions.search({ query: "metadata['tier']:'gold'" });
    assert.deepEqual(meta.data.map((x) => x.id), [a.id]);
  });
});
