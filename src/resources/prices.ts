// Prices — https://docs.stripe.com/api/prices
// Create with `product` or `product_data`; one_time and recurring; per_unit and tiered
// (graduated/volume, up_to inf); transform_quantity; unit_amount_decimal; custom_unit_amount;
// currency_options; lookup_key with transfer_lookup_key. Update of the mutable fields; list;
// search. Prices cannot be deleted, as in Stripe.
import { invalidRequest, missingParam, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { currency } from '../api/shapes.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { createObject, saveObject, type Obj, type ResourceDef } from './define.js';
import { products } from './products.js';

const MAX_INTERVAL: Record<string, number> = { day: 1095, week: 156, month: 36, year: 3 };

/** `key` under the bracket path `base` as Stripe spells it: items[0][price]. */
const pname = (base: string, key: string) => (base ? `${base}[${key}]` : key);

/** unit_amount and unit_amount_decimal as Stripe returns them (unit_amount null when fractional). */
function amounts(p: Params, base: string): { unit_amount: number | null; unit_amount_decimal: string | null } {
  if (p.unit_amount !== undefined && p.unit_amount_decimal !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: unit_amount, unit_amount_decimal.', pname(base, 'unit_amount'));
  }
  if (p.unit_amount !== undefined) {
    if (p.unit_amount < 0) throw invalidRequest('This value must be greater than or equal to 0.', pname(base, 'unit_amount'));
    return { unit_amount: p.unit_amount, unit_amount_decimal: String(p.unit_amount) };
  }
  if (p.unit_amount_decimal !== undefined) {
    const d = String(p.unit_amount_decimal);
    const [whole, frac = ''] = d.split('.');
    if (frac.length > 12) throw invalidRequest('unit_amount_decimal may have at most 12 decimal places.', pname(base, 'unit_amount_decimal'));
    const normal = frac.replace(/0+$/, '') ? `${BigInt(whole || '0')}.${frac.replace(/0+$/, '')}` : String(BigInt(whole || '0'));
    return { unit_amount: normal.includes('.') ? null : Number(normal), unit_amount_decimal: normal };
  }
  return { unit_amount: null, unit_amount_decimal: null };
}

function tiers(list: Params[] | undefined, mode: string | undefined, base: string): Obj[] {
  if (!list || !list.length) throw missingParam(pname(base, 'tiers'));
  if (!mode) throw missingParam(pname(base, 'tiers_mode'));
  let lastUpTo = 0;
  return list.map((t, i) => {
    const isLast = i === list.length - 1;
    if (t.up_to === 'inf' && !isLast) throw invalidRequest('Only the last tier may have `up_to` set to `inf`.', `${pname(base, 'tiers')}[${i}][up_to]`);
    if (isLast && t.up_to !== 'inf') throw invalidRequest('The last tier must have `up_to` set to `inf`.', `${pname(base, 'tiers')}[${i}][up_to]`);
    if (t.up_to !== 'inf') {
      if (t.up_to <= lastUpTo) throw invalidRequest('Tiers must be ordered by `up_to` ascending.', `${pname(base, 'tiers')}[${i}][up_to]`);
      lastUpTo = t.up_to;
    }
    const unit = amounts(t, `${pname(base, 'tiers')}[${i}]`);
    const flatDecimal = t.flat_amount !== undefined ? String(t.flat_amount) : t.flat_amount_decimal !== undefined ? String(t.flat_amount_decimal) : null;
    if (unit.unit_amount_decimal === null && flatDecimal === null) {
      throw invalidRequest('Each tier must have either `unit_amount`, `unit_amount_decimal`, `flat_amount` or `flat_amount_decimal` set.', `${pname(base, 'tiers')}[${i}]`);
    }
    return {
      flat_amount: flatDecimal !== null && !flatDecimal.includes('.') ? Number(flatDecimal) : null,
      flat_amount_decimal: flatDecimal,
      ...unit,
      up_to: t.up_to === 'inf' ? null : t.up_to,
    };
  });
}

function customUnitAmount(p: Params | undefined): Obj | null {
  if (!p) return null;
  if (!p.enabled) return null;
  if (p.minimum !== undefined && p.maximum !== undefined && p.minimum > p.maximum) {
    throw invalidRequest('custom_unit_amount[minimum] must be less than or equal to custom_unit_amount[maximum].', 'custom_unit_amount[minimum]');
  }
  return { maximum: p.maximum ?? null, minimum: p.minimum ?? null, preset: p.preset ?? null };
}

function currencyOptions(p: Params | undefined, main: string, scheme: string, tiersMode: string | undefined): Obj | undefined {
  if (!p) return undefined;
  const out: Obj = {};
  for (const [cur, o] of Object.entries(p)) {
    const code = currency(cur, `currency_options[${cur}]`);
    if (code === main) throw invalidRequest(`currency_options cannot include the price's own currency (${main}).`, `currency_options[${cur}]`);
    const base = `currency_options[${cur}]`;
    out[code] = {
      custom_unit_amount: customUnitAmount(o.custom_unit_amount),
      tax_behavior: o.tax_behavior ?? 'unspecified',
      ...(scheme === 'tiered' ? { tiers: tiers(o.tiers, tiersMode, base) } : amounts(o, base)),
    };
  }
  return out;
}

/** Builds a price object from create params (also used for a product's default_price_data). */
export async function buildPrice(ctx: WriteContext, p: Params, base: Obj, productId: string, paramPrefix = ''): Promise<Obj> {
  const name = (k: string) => pname(paramPrefix, k);
  const cur = currency(p.currency, name('currency'));
  const scheme: string = p.billing_scheme ?? 'per_unit';
  let recurring: Obj | null = null;
  if (p.recurring) {
    const r = p.recurring;
    const count = r.interval_count ?? 1;
    if (count < 1 || count > MAX_INTERVAL[r.interval]!) {
      throw invalidRequest('The maximum billing interval is 3 years (1095 days, 156 weeks or 36 months).', pname(name('recurring'), 'interval_count'));
    }
    recurring = {
      interval: r.interval,
      interval_count: count,
      meter: r.meter ?? null,
      trial_period_days: r.trial_period_days ?? null,
      usage_type: r.usage_type ?? 'licensed',
    };
    if (r.meter) {
      const meter = await ctx.db.get(ctx.scope, r.meter);
      if (!meter || meter.type !== 'billing.meter') throw noSuchResource('billing meter', r.meter, name('recurring') + '[meter]');
    }
  }
  const price: Obj = {
    ...base,
    active: p.active ?? true,
    billing_scheme: scheme,
    currency: cur,
    custom_unit_amount: null,
    lookup_key: p.lookup_key ?? null,
    metadata: applyMetadata({}, p.metadata, name('metadata')),
    nickname: p.nickname ?? null,
    product: productId,
    recurring,
    tax_behavior: p.tax_behavior ?? 'unspecified',
    tiers_mode: null,
    transform_quantity: null,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: null,
    unit_amount_decimal: null,
  };
  if (scheme === 'tiered') {
    if (!recurring) throw invalidRequest('Tiered pricing is only supported for recurring prices.', name('billing_scheme'));
    price.tiers = tiers(p.tiers, p.tiers_mode, paramPrefix);
    price.tiers_mode = p.tiers_mode;
    if (p.transform_quantity) throw invalidRequest('transform_quantity cannot be combined with tiered pricing.', name('transform_quantity'));
  } else {
    if (p.tiers !== undefined) throw invalidRequest('tiers can only be set when billing_scheme is tiered.', name('tiers'));
    if (p.custom_unit_amount?.enabled) {
      if (recurring) throw invalidRequest('custom_unit_amount is only supported for one-time prices.', name('custom_unit_amount'));
      if (p.unit_amount !== undefined || p.unit_amount_decimal !== undefined) {
        throw invalidRequest('custom_unit_amount cannot be combined with unit_amount or unit_amount_decimal.', name('custom_unit_amount'));
      }
      price.custom_unit_amount = customUnitAmount(p.custom_unit_amount);
    } else {
      const a = amounts(p, paramPrefix);
      if (a.unit_amount_decimal === null) throw missingParam(name('unit_amount'));
      Object.assign(price, a);
    }
  }
  if (p.transform_quantity) {
    const t = p.transform_quantity;
    if (t.divide_by < 1) throw invalidRequest('transform_quantity[divide_by] must be a positive integer.', name('transform_quantity') + '[divide_by]');
    price.transform_quantity = { divide_by: t.divide_by, round: t.round };
  }
  const opts = currencyOptions(p.currency_options, cur, scheme, p.tiers_mode);
  if (opts) price.currency_options = opts;
  if (price.lookup_key !== null) await claimLookupKey(ctx, price.lookup_key, price.id, !!p.transfer_lookup_key, name('lookup_key'));
  return price;
}

/** Lookup keys are unique per account and mode; transfer_lookup_key moves one off its price. */
async function claimLookupKey(ctx: WriteContext, key: string, priceId: string, transfer: boolean, param: string): Promise<void> {
  if (key.length > 200) throw invalidRequest('lookup_key must be at most 200 characters.', param);
  const holders = await ctx.db.scan(ctx.scope, { type: 'price', index: { field: 'lookup_key', value: key }, direction: 'older', limit: 2 });
  for (const holder of holders) {
    if (holder.id === priceId) continue;
    if (!transfer) {
      throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, param);
    }
    const locked = await ctx.tx.getForUpdate(ctx.scope, holder.id);
    if (locked) await saveObject(ctx, prices, locked, { ...locked.data, lookup_key: null });
  }
}

export const prices: ResourceDef = {
  object: 'price',
  prefix: 'price',
  path: '/v1/prices',
  events: { created: 'price.created', updated: 'price.updated', deleted: 'price.deleted' },
  search: STRIPE_SEARCH_FIELDS.prices,
  includable: ['currency_options', 'tiers'],
  index: (p) => [
    { field: 'product', value: p.product },
    { field: 'active', value: String(p.active) },
    ...(p.lookup_key !== null ? [{ field: 'lookup_key', value: p.lookup_key }] : []),
  ],
  listFilters: (p) => {
    const keys: string[] | undefined = p.lookup_keys;
    const r = p.recurring;
    const filter = (d: Obj) =>
      (p.active === undefined || d.active === p.active) &&
      (p.currency === undefined || d.currency === String(p.currency).toLowerCase()) &&
      (p.type === undefined || d.type === p.type) &&
      (keys === undefined || keys.includes(d.lookup_key)) &&
      (r === undefined || (d.recurring !== null &&
        (r.interval === undefined || d.recurring.interval === r.interval) &&
        (r.usage_type === undefined || d.recurring.usage_type === r.usage_type) &&
        (r.meter === undefined || d.recurring.meter === r.meter)));
    const index = p.product !== undefined ? { field: 'product', value: p.product }
      : keys?.length === 1 ? { field: 'lookup_key', value: keys[0]! }
        : p.active !== undefined ? { field: 'active', value: String(p.active) } : undefined;
    return { ...(index ? { index } : {}), filter };
  },

  async create(ctx, p, base) {
    let productId: string;
    if (p.product !== undefined && p.product_data !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: product, product_data.', 'product');
    }
    if (p.product !== undefined) {
      const product = await ctx.db.get(ctx.scope, p.product);
      if (!product || product.type !== 'product' || product.deleted) throw noSuchResource('product', p.product, 'product');
      productId = product.id;
    } else if (p.product_data !== undefined) {
      productId = (await createObject(ctx, products, p.product_data)).id;
    } else {
      throw missingParam('product');
    }
    return buildPrice(ctx, p, base, productId);
  },

  async update(ctx, c, p) {
    for (const key of ['active', 'nickname', 'tax_behavior'] as const) if (p[key] !== undefined) c[key] = p[key];
    if (p.tax_behavior !== undefined && c.tax_behavior !== 'unspecified' && p.tax_behavior !== c.tax_behavior) {
      throw invalidRequest('tax_behavior cannot be changed once it is set to inclusive or exclusive.', 'tax_behavior');
    }
    c.metadata = applyMetadata(c.metadata, p.metadata);
    if (p.lookup_key !== undefined) {
      c.lookup_key = p.lookup_key;
      if (p.lookup_key !== null) await claimLookupKey(ctx, p.lookup_key, c.id, !!p.transfer_lookup_key, 'lookup_key');
    }
    if (p.currency_options !== undefined) {
      c.currency_options = { ...(c.currency_options ?? {}), ...currencyOptions(p.currency_options ?? {}, c.currency, c.billing_scheme, c.tiers_mode) };
    }
    return c;
  },
};
