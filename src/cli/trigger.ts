// `pinstripe trigger <event>`: performs the API calls that make an event happen, like
// `stripe trigger`. Each entry is a short script of ordinary API requests, using Stripe's own
// test payment methods.
import { ApiClient, CliError, type ApiResult } from './client.js';

export interface Trigger {
  event: string;
  /** What the script does, for `--list`. */
  does: string;
  run(api: ApiClient): Promise<void>;
}

const tag = { metadata: { pinstripe_trigger: 'true' } };

async function post(api: ApiClient, path: string, params: Record<string, unknown>, allow: number[] = []): Promise<ApiResult> {
  return api.request('POST', path, params, allow);
}

async function paidIntent(api: ApiClient, pm = 'pm_card_visa', allow: number[] = []): Promise<any> {
  return (await post(api, '/v1/payment_intents', {
    amount: 2000, currency: 'usd', payment_method: pm, confirm: 'true',
    automatic_payment_methods: { enabled: 'true', allow_redirects: 'never' }, ...tag,
  }, allow)).json;
}

async function customerWithCard(api: ApiClient, pm = 'pm_card_visa'): Promise<any> {
  return (await post(api, '/v1/customers', {
    name: 'Pinstripe trigger', email: 'trigger@example.com', payment_method: pm,
    invoice_settings: { default_payment_method: pm }, ...tag,
  })).json;
}

/** A finalized one-item invoice of a customer paying with `pm` (not yet paid). */
async function openInvoice(api: ApiClient, pm = 'pm_card_visa'): Promise<any> {
  const cus = await customerWithCard(api, pm);
  const inv = (await post(api, '/v1/invoices', { customer: cus.id, pending_invoice_items_behavior: 'exclude', auto_advance: 'false', ...tag })).json;
  await post(api, '/v1/invoiceitems', { customer: cus.id, invoice: inv.id, amount: 2000, currency: 'usd', description: 'Pinstripe trigger' });
  return (await post(api, `/v1/invoices/${inv.id}/finalize`, {})).json;
}

async function subscription(api: ApiClient): Promise<any> {
  const cus = await customerWithCard(api);
  const price = await recurringPrice(api);
  return (await post(api, '/v1/subscriptions', { customer: cus.id, items: [{ price: price.id }], ...tag })).json;
}

async function recurringPrice(api: ApiClient): Promise<any> {
  return (await post(api, '/v1/prices', {
    currency: 'usd', unit_amount: 1500, recurring: { interval: 'month' }, product_data: { name: 'Pinstripe trigger plan' }, ...tag,
  })).json;
}

export const TRIGGERS: readonly Trigger[] = [
  {
    event: 'customer.created', does: 'creates a customer',
    run: async (api) => { await post(api, '/v1/customers', { name: 'Pinstripe trigger', ...tag }); },
  },
  {
    event: 'customer.updated', does: 'creates a customer, then updates it',
    run: async (api) => {
      const cus = (await post(api, '/v1/customers', { name: 'Pinstripe trigger', ...tag })).json;
      await post(api, `/v1/customers/${cus.id}`, { description: 'updated by pinstripe trigger' });
    },
  },
  {
    event: 'customer.deleted', does: 'creates a customer, then deletes it',
    run: async (api) => {
      const cus = (await post(api, '/v1/customers', { name: 'Pinstripe trigger', ...tag })).json;
      await api.request('DELETE', `/v1/customers/${cus.id}`);
    },
  },
  {
    event: 'product.created', does: 'creates a product',
    run: async (api) => { await post(api, '/v1/products', { name: 'Pinstripe trigger product', ...tag }); },
  },
  {
    event: 'product.updated', does: 'creates a product, then updates it',
    run: async (api) => {
      const p = (await post(api, '/v1/products', { name: 'Pinstripe trigger product', ...tag })).json;
      await post(api, `/v1/products/${p.id}`, { description: 'updated by pinstripe trigger' });
    },
  },
  {
    event: 'price.created', does: 'creates a product and a price for it',
    run: async (api) => {
      const p = (await post(api, '/v1/products', { name: 'Pinstripe trigger product', ...tag })).json;
      await post(api, '/v1/prices', { product: p.id, currency: 'usd', unit_amount: 1500, ...tag });
    },
  },
  {
    event: 'price.updated', does: 'creates a product and a price, then updates the price',
    run: async (api) => {
      const p = (await post(api, '/v1/products', { name: 'Pinstripe trigger product', ...tag })).json;
      const price = (await post(api, '/v1/prices', { product: p.id, currency: 'usd', unit_amount: 1500, ...tag })).json;
      await post(api, `/v1/prices/${price.id}`, { nickname: 'updated by pinstripe trigger' });
    },
  },
  {
    event: 'payment_intent.succeeded', does: 'creates and confirms a PaymentIntent with pm_card_visa',
    run: async (api) => { await paidIntent(api); },
  },
  {
    event: 'payment_intent.payment_failed', does: 'confirms a PaymentIntent with pm_card_chargeDeclined (declined)',
    run: async (api) => { await paidIntent(api, 'pm_card_chargeDeclined', [402]); },
  },
  {
    event: 'charge.refunded', does: 'pays a PaymentIntent, then refunds it',
    run: async (api) => {
      const pi = await paidIntent(api);
      await post(api, '/v1/refunds', { payment_intent: pi.id, ...tag });
    },
  },
  {
    event: 'charge.dispute.created', does: 'pays with pm_card_createDispute, which is disputed',
    run: async (api) => { await paidIntent(api, 'pm_card_createDispute'); },
  },
  {
    event: 'invoice.finalized', does: 'creates a customer with a card, an invoice item and an invoice, then finalizes it',
    run: async (api) => { await openInvoice(api); },
  },
  {
    event: 'invoice.paid', does: 'creates and finalizes an invoice for a customer with a card, then pays it',
    run: async (api) => {
      const inv = await openInvoice(api);
      await post(api, `/v1/invoices/${inv.id}/pay`, {});
    },
  },
  {
    event: 'invoice.payment_failed', does: 'creates and finalizes an invoice for a customer with pm_card_chargeCustomerFail, then tries to pay it (declined)',
    run: async (api) => {
      const inv = await openInvoice(api, 'pm_card_chargeCustomerFail');
      await post(api, `/v1/invoices/${inv.id}/pay`, {}, [402]);
    },
  },
  {
    event: 'customer.subscription.created', does: 'creates a customer with a card and a monthly price, then subscribes it',
    run: async (api) => { await subscription(api); },
  },
  {
    event: 'customer.subscription.updated', does: 'subscribes a customer to a monthly price, then updates the subscription',
    run: async (api) => {
      const sub = await subscription(api);
      await post(api, `/v1/subscriptions/${sub.id}`, { metadata: { updated_by: 'pinstripe trigger' } });
    },
  },
  {
    event: 'customer.subscription.deleted', does: 'subscribes a customer to a monthly price, then cancels the subscription',
    run: async (api) => {
      const sub = await subscription(api);
      await api.request('DELETE', `/v1/subscriptions/${sub.id}`);
    },
  },
];

export function findTrigger(event: string): Trigger {
  const t = TRIGGERS.find((x) => x.event === event);
  if (!t) throw new CliError(`Unknown trigger '${event}'. \`pinstripe trigger --list\` shows the supported events.`, 2);
  return t;
}

async function latestEventId(api: ApiClient, type: string): Promise<string | null> {
  const r = await api.request('GET', '/v1/events', { type, limit: 1 });
  return r.json?.data?.[0]?.id ?? null;
}

/**
 * Runs a trigger and checks that the event was written (some arrive a moment later, e.g. a
 * dispute after the charge); returns its id.
 */
export async function runTrigger(api: ApiClient, t: Trigger, waitMs = 3000): Promise<string> {
  const before = await latestEventId(api, t.event);
  await t.run(api);
  const deadline = Date.now() + waitMs;
  for (;;) {
    const id = await latestEventId(api, t.event);
    if (id && id !== before) return id;
    if (Date.now() > deadline) {
      throw new CliError(`The API calls for ${t.event} succeeded but the server wrote no ${t.event} event (it may not emit that event yet).`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
