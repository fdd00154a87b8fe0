// Customers — https://docs.stripe.com/api/customers
// Create, retrieve (a deleted customer retrieves as {id, object, deleted: true}), update,
// delete, list (email, created, test_clock), search (email, name, phone, metadata, created).
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { customerIncludables } from './customer-includables.js';
import { applyMetadata } from '../api/metadata.js';
import { address, shipping } from '../api/shapes.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import { searchIndexField } from '../api/search.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { withBase, type Obj, type ResourceDef } from './define.js';
import { attachPaymentMethod, detachAllPaymentMethods, requireAttached, resolvePaymentMethod } from './payment-methods.js';
import { publicCard, resolveSource } from './tokens.js';
import { emitEvent } from '../events/events.js';

const INVOICE_PREFIX = /^[A-Z0-9]{3,12}$/;

function invoicePrefix(value: string): string {
  if (!INVOICE_PREFIX.test(value)) {
    throw invalidRequest('Invoice prefix must be between 3 and 12 uppercase letters and numbers.', 'invoice_prefix');
  }
  return value;
}

function invoiceSettings(current: Obj | null, p: Params | null | undefined): Obj {
  const base = current ?? { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null };
  if (!p) return base;
  const next = { ...base };
  if (p.custom_fields !== undefined) next.custom_fields = p.custom_fields === null ? null : p.custom_fields.map((f: Obj) => ({ name: f.name, value: f.value }));
  if (p.footer !== undefined) next.footer = p.footer;
  if (p.rendering_options !== undefined) {
    next.rendering_options = p.rendering_options === null ? null : {
      amount_tax_display: p.rendering_options.amount_tax_display ?? null,
      template: p.rendering_options.template ?? null,
    };
  }
  // Checked against the customer's attached PaymentMethods by paymentMethodParams.
  if (p.default_payment_method !== undefined) next.default_payment_method = p.default_payment_method;
  return next;
}

/** Fields create and update share, applied onto `c`. */
function applyCommon(ctx: WriteContext, c: Obj, p: Params): void {
  for (const key of ['description', 'email', 'name', 'phone'] as const) {
    if (p[key] !== undefined) c[key] = p[key];
  }
  // Present only once set (`business_name?: string` in the current shape); "" removes them.
  // "This may be up to 150 characters" (API reference).
  for (const key of ['business_name', 'individual_name'] as const) {
    if (p[key] === undefined) continue;
    if (p[key] === null) { delete c[key]; continue; }
    if (p[key].length > 150) {
      throw invalidRequest(`Invalid string: ${p[key].slice(0, 40)}...; must be at most 150 characters`, key, 'parameter_invalid_string');
    }
    c[key] = p[key];
  }
  if (p.address !== undefined) c.address = address(p.address);
  if (p.shipping !== undefined) c.shipping = shipping(p.shipping);
  if (p.balance !== undefined) c.balance = p.balance;
  if (p.invoice_prefix !== undefined) c.invoice_prefix = invoicePrefix(p.invoice_prefix);
  if (p.next_invoice_sequence !== undefined) c.next_invoice_sequence = p.next_invoice_sequence;
  if (p.preferred_locales !== undefined) c.preferred_locales = p.preferred_locales ?? [];
  if (p.tax_exempt !== undefined) c.tax_exempt = p.tax_exempt ?? 'none';
  if (p.invoice_settings !== undefined) c.invoice_settings = invoiceSettings(c.invoice_settings, p.invoice_settings);
  c.metadata = applyMetadata(c.metadata, p.metadata);
  if (p.tax_id_data !== undefined) throw invalidRequest('Pinstripe does not support tax_id_data yet.', 'tax_id_data');
  void ctx;
}

/** `payment_method` (attached on create) and `invoice_settings[default_payment_method]` (must be attached). */
async function paymentMethodParams(ctx: WriteContext, c: Obj, p: Params): Promise<void> {
  if (p.payment_method !== undefined && p.payment_method !== null) {
    const pm = await resolvePaymentMethod(ctx, p.payment_method, 'payment_method');
    const attached = await attachPaymentMethod(ctx, pm, c.id);
    if (p.invoice_settings?.default_payment_method === p.payment_method) c.invoice_settings.default_payment_method = attached.id;
  }
  if (p.source !== undefined && p.source !== null) {
    // A card token saved on the customer (legacy sources); it becomes the default source.
    const card = await resolveSource(ctx, p.source, c.id, 'source');
    await emitEvent(ctx, 'customer.source.created', publicCard(card));
    c.default_source = card.id;
  }
  if (p.default_source !== undefined) {
    if (p.default_source !== null) {
      const row = await ctx.db.get(ctx.scope, p.default_source);
      if (!row || row.type !== 'card' || row.deleted || row.data.customer !== c.id) throw noSuchResource('source', p.default_source, 'default_source');
    }
    c.default_source = p.default_source;
  }
  const dpm = p.invoice_settings?.default_payment_method;
  if (dpm !== undefined && dpm !== null) await requireAttached(ctx, c.invoice_settings.default_payment_method, c.id, 'invoice_settings[default_payment_method]');
}

async function balanceTransaction(ctx: WriteContext, c: Obj, amount: number, type: string): Promise<void> {
  const { insertBalanceTransaction } = await import('../engine/billing/invoices.js');
  await insertBalanceTransaction(ctx, c.id, c.balance, { amount, currency: c.currency ?? 'usd', type });
}

/** Stripe's limit: a test clock holds at most three customers. */
export const MAX_CUSTOMERS_PER_TEST_CLOCK = 3;

async function assertClockHasRoom(ctx: WriteContext, clock: string): Promise<void> {
  const n = await ctx.db.count(ctx.scope, { type: 'customer', index: { field: 'test_clock', value: clock } });
  if (n >= MAX_CUSTOMERS_PER_TEST_CLOCK) {
    throw invalidRequest(`The test clock ${clock} already has the maximum number of customers (${MAX_CUSTOMERS_PER_TEST_CLOCK}). Delete a customer of the clock or use another test clock.`, 'test_clock');
  }
}

export const customers: ResourceDef = {
  object: 'customer',
  prefix: 'cus',
  path: '/v1/customers',
  events: { created: 'customer.created', updated: 'customer.updated', deleted: 'customer.deleted' },
  retrieveDeleted: true,
  virtual: customerIncludables,
  search: STRIPE_SEARCH_FIELDS.customers,
  // The `email` list filter reads search's entry (search:email, lower-cased; see
  // indexEntries) and keeps the exact, case-sensitive matches: one index row, not two.
  index: (c) => (c.test_clock ? [{ field: 'test_clock', value: c.test_clock }] : []),
  // "If no [test_clock] is provided, the response won't include customers with test clocks"
  // (API reference): a clock's customers are listed only by naming the clock.
  listFilters: (p) => {
    const clock: string | undefined = p.test_clock ?? undefined;
    if (p.email !== undefined) {
      const email = p.email;
      return { index: { field: searchIndexField('email'), value: String(email ?? '').toLowerCase() }, filter: (c) => c.email === email && (c.test_clock ?? undefined) === clock };
    }
    if (clock !== undefined) return { index: { field: 'test_clock', value: clock } };
    // Most accounts have no clock customers: then every customer passes, unparsed.
    return { filter: (c) => !c.test_clock, filterOnlyWith: 'test_clock' };
  },

  async create(ctx, p, base) {
    const c: Obj = withBase(base, {
      address: null,
      balance: 0,
      currency: null,
      customer_account: null,
      default_source: null,
      delinquent: false,
      description: null,
      discount: null,
      email: null,
      invoice_prefix: ctx.services.ids.random(8).toUpperCase().replace(/[^A-Z0-9]/g, 'X'),
      invoice_settings: invoiceSettings(null, null),
      metadata: {},
      name: null,
      next_invoice_sequence: 1,
      phone: null,
      preferred_locales: [],
      shipping: null,
      tax_exempt: 'none',
      test_clock: null,
    });
    if (p.test_clock !== undefined) {
      // Locked: concurrent creates on one clock count its customers one after another.
      const clock = await ctx.tx.getForUpdate(ctx.scope, p.test_clock);
      if (!clock || clock.type !== 'test_helpers.test_clock' || clock.deleted) throw noSuchResource('test_clock', p.test_clock, 'test_clock');
      await assertClockHasRoom(ctx, p.test_clock);
      c.test_clock = p.test_clock;
      // Objects living in a test clock's time are created at its frozen time.
      c.created = clock.data.frozen_time;
    }
    applyCommon(ctx, c, p);
    await paymentMethodParams(ctx, c, p);
    // A starting balance is the customer's first balance transaction (type initial).
    if (c.balance !== 0) await balanceTransaction(ctx, c, c.balance, 'initial');
    return c;
  },

  async update(ctx, c, p) {
    const before = c.balance;
    applyCommon(ctx, c, p);
    await paymentMethodParams(ctx, c, p);
    // Setting the balance directly records the difference as an adjustment.
    if (c.balance !== before) await balanceTransaction(ctx, c, c.balance - before, 'adjustment');
    return c;
  },

  async delete(ctx, c) {
    // Subscriptions and sources are detached here once they exist.
    await detachAllPaymentMethods(ctx, c.id);
  },
};
