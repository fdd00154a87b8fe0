// A fresh account with a test clock and a small catalogue (one product; monthly, pro-monthly and
// yearly prices), plus the date helpers the subscription tests share. Each world is its own
// account (fresh key), so tests stay isolated.
import type Stripe from 'stripe';
import { freshKey, type TestServer } from './server.js';

export const DAY = 86_400;
export const HOUR = 3600;
/** Unix seconds of a UTC date (month 1-12). */
export const utc = (y: number, m: number, d: number, h = 0) => Date.UTC(y, m - 1, d, h) / 1000;
/** YYYY-MM-DD of a unix timestamp, in UTC. */
export const day = (ts: number) => new Date(ts * 1000).toISOString().slice(0, 10);

export interface World {
  s: Stripe; clockId: string; product: Stripe.Product;
  monthly: Stripe.Price; pro: Stripe.Price; yearly: Stripe.Price;
}

export async function clockWorld(t: TestServer, frozen: number): Promise<World> {
  const s = t.stripe(freshKey());
  const c = await s.testHelpers.testClocks.create({ frozen_time: frozen });
  const product = await s.products.create({ name: 'Basic' });
  const monthly = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 1000, recurring: { interval: 'month' } });
  const pro = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 3000, recurring: { interval: 'month' } });
  const yearly = await s.prices.create({ product: product.id, currency: 'usd', unit_amount: 10000, recurring: { interval: 'year' } });
  return { s, clockId: c.id, product, monthly, pro, yearly };
}

/** A customer on the world's clock, with `pm` attached as its invoice default (null: none). */
export async function clockCustomer(w: World, pm: string | null = 'pm_card_visa'): Promise<Stripe.Customer> {
  return w.s.customers.create({ test_clock: w.clockId, ...(pm ? { payment_method: pm, invoice_settings: { default_payment_method: pm } } : {}) });
}

export const advance = (w: World, to: number) => w.s.testHelpers.testClocks.advance(w.clockId, { frozen_time: to });

/** A subscription's invoices, oldest first. */
export async function subscriptionInvoices(s: Stripe, sub: string): Promise<Stripe.Invoice[]> {
  return (await s.invoices.list({ subscription: sub, limit: 100 })).data.reverse();
}
