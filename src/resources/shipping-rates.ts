// Shipping rates — https://docs.stripe.com/api/shipping_rates
// Create (display_name; type fixed_amount with fixed_amount {amount, currency, currency_options};
// delivery_estimate; tax_behavior; tax_code; metadata), retrieve, update (active, metadata,
// tax_behavior, fixed_amount[currency_options]), list (active, currency, created). Stripe sends
// no events for shipping rates and they cannot be deleted. Checkout will use them.
//
// Messages are Stripe-style sentences of our own unless marked verified.
import { invalidRequest, missingParam } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { currency } from '../api/shapes.js';
import type { Params } from '../api/params.js';
import type { Obj, ResourceDef } from './define.js';

const MAX_DISPLAY_NAME = 100;
const TAX_CODE = /^txcd_\d{8}$/;
/** Rough lengths of the delivery units, to compare a minimum with a maximum in other units. */
const UNIT_HOURS: Record<string, number> = { hour: 1, day: 24, business_day: 24, week: 168, month: 720 };

function estimateBound(p: Params | undefined, param: string): Obj | null {
  if (!p) return null;
  if (!Number.isInteger(p.value) || p.value < 1) throw invalidRequest('Invalid positive integer', `${param}[value]`, 'parameter_invalid_integer');
  return { unit: p.unit, value: p.value };
}

function deliveryEstimate(p: Params | null | undefined): Obj | null {
  if (!p) return null;
  const minimum = estimateBound(p.minimum, 'delivery_estimate[minimum]');
  const maximum = estimateBound(p.maximum, 'delivery_estimate[maximum]');
  if (minimum && maximum && minimum.value * UNIT_HOURS[minimum.unit]! > maximum.value * UNIT_HOURS[maximum.unit]!) {
    throw invalidRequest('The delivery estimate minimum must not be greater than its maximum.', 'delivery_estimate[minimum]');
  }
  return { maximum, minimum };
}

function taxBehaviorChange(current: string | null | undefined, next: string | undefined | null, param: string): string | undefined {
  if (next === undefined || next === null) return undefined;
  if (current && current !== 'unspecified' && next !== current) {
    throw invalidRequest(`tax_behavior cannot be changed once it is set to \`${current}\`.`, param);
  }
  return next;
}

function currencyOptions(p: Params, own: string, current: Obj | undefined): Obj {
  const out: Obj = { ...(current ?? {}) };
  for (const [key, o] of Object.entries(p)) {
    const param = `fixed_amount[currency_options][${key}]`;
    const code = currency(key, param);
    if (code === own) {
      throw invalidRequest('You are specifying a currency option that matches the top-level currency for this shipping rate. Please remove this currency option and use the top-level `fixed_amount[amount]` instead.', param);
    }
    if (o === null) { delete out[code]; continue; }
    const existing = out[code];
    if (o.amount === undefined && !existing) throw missingParam(`${param}[amount]`);
    if (o.amount !== undefined && o.amount < 0) throw invalidRequest('Invalid non-negative integer', `${param}[amount]`, 'parameter_invalid_integer');
    out[code] = {
      amount: o.amount ?? existing.amount,
      tax_behavior: taxBehaviorChange(existing?.tax_behavior, o.tax_behavior, `${param}[tax_behavior]`) ?? existing?.tax_behavior ?? 'unspecified',
    };
  }
  return out;
}

export const shippingRates: ResourceDef = {
  object: 'shipping_rate',
  prefix: 'shr',
  path: '/v1/shipping_rates',
  includable: ['fixed_amount.currency_options'],
  index: (r) => [{ field: 'active', value: String(r.active) }],
  listFilters: (p) => {
    const cur = p.currency !== undefined ? String(p.currency).toLowerCase() : undefined;
    return {
      ...(p.active !== undefined ? { index: { field: 'active', value: String(p.active) } } : {}),
      filter: (d: Obj) => (p.active === undefined || d.active === p.active) &&
        (cur === undefined || d.fixed_amount?.currency === cur || !!d.fixed_amount?.currency_options?.[cur]),
    };
  },

  async create(_ctx, p, base) {
    if (typeof p.display_name === 'string' && p.display_name.length > MAX_DISPLAY_NAME) {
      throw invalidRequest(`Invalid string: ${p.display_name.slice(0, 40)}...; must be at most ${MAX_DISPLAY_NAME} characters`, 'display_name', 'parameter_invalid_string');
    }
    const type: string = p.type ?? 'fixed_amount';
    if (!p.fixed_amount) throw missingParam('fixed_amount');
    const fa = p.fixed_amount;
    if (fa.amount < 0) throw invalidRequest('Invalid non-negative integer', 'fixed_amount[amount]', 'parameter_invalid_integer');
    const cur = currency(fa.currency, 'fixed_amount[currency]');
    // currency_options is includable (expand[]=fixed_amount.currency_options): always stored.
    const fixed: Obj = { amount: fa.amount, currency: cur, currency_options: currencyOptions(fa.currency_options ?? {}, cur, undefined) };
    if (p.tax_code !== undefined && p.tax_code !== null && !TAX_CODE.test(p.tax_code)) {
      throw invalidRequest(`Invalid tax code: ${p.tax_code}. Tax codes look like txcd_10000000; see https://stripe.com/docs/tax/tax-categories.`, 'tax_code');
    }
    return {
      ...base,
      active: true,
      delivery_estimate: deliveryEstimate(p.delivery_estimate),
      display_name: p.display_name,
      fixed_amount: fixed,
      metadata: applyMetadata({}, p.metadata),
      tax_behavior: p.tax_behavior ?? 'unspecified',
      tax_code: p.tax_code ?? null,
      type,
    };
  },

  async update(_ctx, c, p) {
    if (p.active !== undefined && p.active !== null) c.active = p.active;
    c.metadata = applyMetadata(c.metadata, p.metadata);
    const tax = taxBehaviorChange(c.tax_behavior, p.tax_behavior, 'tax_behavior');
    if (tax !== undefined) c.tax_behavior = tax;
    const o = p.fixed_amount?.currency_options;
    if (o !== undefined) {
      c.fixed_amount.currency_options = currencyOptions(o ?? {}, c.fixed_amount.currency, o === null ? undefined : c.fixed_amount.currency_options);
    }
    return c;
  },
};
