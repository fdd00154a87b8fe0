// Prices — https://docs.stripe.com/api/prices
// Create with `product` or `product_data`; one_time and recurring; per_unit and tiered
// (graduated/volume, up_to inf); transform_quantity; unit_amount_decimal; custom_unit_amount;
// currency_options; lookup_key with transfer_lookup_key. Update of the mutable fields; list;
// search. Prices cannot be deleted, as in Stripe: DELETE /v1/prices/{id} is not routed, so it
// answers "Unrecognized request URL".
//
// Messages marked "verified" below were seen in real Stripe responses (see the report that
// introduced them); the others are Stripe-style sentences of our own.
import { invalidRequest, missingParam, type StripeError } from '../api/errors.js';
import { listObjects } from '../api/list.js';
import { checkListExpand } from '../api/expand.js';
import { applyMetadata } from '../api/metadata.js';
import { currency } from '../api/shapes.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import type { StoredObject } from '../store/store.js';
import { insertObject, missingObject, newObjectBase, saveObject, type Obj, type Operation, type ResourceDef } from './define.js';
import { buildProduct, products } from './products.js';

/** Longest billing period: three years, in each interval (docs: "Maximum of three years interval allowed"). */
const MAX_INTERVAL_COUNT: Record<string, { max: number; adjective: string }> = {
  day: { max: 1095, adjective: 'daily' },
  week: { max: 156, adjective: 'weekly' },
  month: { max: 36, adjective: 'monthly' },
  year: { max: 3, adjective: 'yearly' },
};
const MAX_LOOKUP_KEY = 200;
const MAX_LOOKUP_KEYS_FILTER = 10;
const MAX_DECIMAL_PLACES = 12;

/** `key` under the bracket path `base` as Stripe spells it: default_price_data[unit_amount]. */
export const pname = (base: string, key: string) => (base ? `${base}[${key}]` : key);

/** Verified: Stripe answers a body reference to a missing object with 400 (not 404) resource_missing. */
export function missingReference(objectName: string, id: string, param: string): StripeError {
  return invalidRequest(`No such ${objectName.replace(/_/g, ' ')}: '${id}'`, param, 'resource_missing', 400);
}

function invalidNonNegative(param: string): never {
  throw invalidRequest('Invalid non-negative integer', param, 'parameter_invalid_integer');
}

function invalidPositive(param: string): never {
  throw invalidRequest('Invalid positive integer', param, 'parameter_invalid_integer');
}

/** "You may only specify one of these parameters: a, b." (verified wording for product/product_data). */
function onlyOneOf(a: string, b: string, param = a): never {
  throw invalidRequest(`You may only specify one of these parameters: ${a}, ${b}.`, param);
}

/** A decimal string as Stripe returns it: no leading zeros, no trailing fractional zeros. */
function normalizeDecimal(raw: string, param: string): string {
  const s = String(raw).trim();
  if (s.startsWith('-')) throw invalidRequest(`Invalid decimal: ${raw}; must be greater than or equal to 0`, param);
  const [whole = '', frac = ''] = s.split('.');
  if (frac.length > MAX_DECIMAL_PLACES) {
    throw invalidRequest(`Invalid decimal: ${raw}; must have at most ${MAX_DECIMAL_PLACES} decimal places`, param);
  }
  const intPart = String(BigInt(whole || '0'));
  const fracPart = frac.replace(/0+$/, '');
  return fracPart ? `${intPart}.${fracPart}` : intPart;
}

/** The integer value of a normalized decimal, or null when it has a fractional part. */
const wholeOrNull = (decimal: string | null): number | null =>
  decimal === null || decimal.includes('.') ? null : Number(decimal);

interface Amount { unit_amount: number | null; unit_amount_decimal: string | null }

/**
 * unit_amount / unit_amount_decimal as Stripe returns them: the decimal always, the integer
 * only when whole ("represented as a whole integer if possible"). Null when neither is given.
 */
function unitAmount(p: Params, base: string): Amount | null {
  if (p.unit_amount !== undefined && p.unit_amount !== null && p.unit_amount_decimal !== undefined && p.unit_amount_decimal !== null) {
    onlyOneOf('unit_amount', 'unit_amount_decimal', pname(base, 'unit_amount'));
  }
  if (typeof p.unit_amount === 'number') {
    if (p.unit_amount < 0) invalidNonNegative(pname(base, 'unit_amount'));
    return { unit_amount: p.unit_amount, unit_amount_decimal: String(p.unit_amount) };
  }
  if (typeof p.unit_amount_decimal === 'string') {
    const d = normalizeDecimal(p.unit_amount_decimal, pname(base, 'unit_amount_decimal'));
    return { unit_amount: wholeOrNull(d), unit_amount_decimal: d };
  }
  return null;
}

/** Verified: the message when a per-unit price has no amount (no param, no code). */
function amountRequired(param?: string): never {
  throw invalidRequest('Prices require an `unit_amount` or `unit_amount_decimal` parameter to be set.', param);
}

function buildTiers(list: Params[] | undefined, base: string): Obj[] {
  const tiersParam = pname(base, 'tiers');
  if (!list || list.length === 0) throw missingParam(tiersParam);
  let previous = 0;
  return list.map((t, i) => {
    const at = `${tiersParam}[${i}]`;
    const isLast = i === list.length - 1;
    if (t.up_to === 'inf') {
      if (!isLast) throw invalidRequest('Only the last tier may have `up_to` set to `inf`.', `${at}[up_to]`);
    } else {
      if (isLast) throw invalidRequest('The last tier must have `up_to` set to `inf`.', `${at}[up_to]`);
      if (t.up_to < 1) invalidPositive(`${at}[up_to]`);
      if (t.up_to <= previous) {
        throw invalidRequest('Tiers must be in ascending order of `up_to`, and each `up_to` must be greater than the previous tier\'s.', `${at}[up_to]`);
      }
      previous = t.up_to;
    }
    const unit = unitAmount(t, at);
    if (t.flat_amount !== undefined && t.flat_amount_decimal !== undefined) onlyOneOf('flat_amount', 'flat_amount_decimal', `${at}[flat_amount]`);
    let flatDecimal: string | null = null;
    if (typeof t.flat_amount === 'number') {
      if (t.flat_amount < 0) invalidNonNegative(`${at}[flat_amount]`);
      flatDecimal = String(t.flat_amount);
    } else if (typeof t.flat_amount_decimal === 'string') {
      flatDecimal = normalizeDecimal(t.flat_amount_decimal, `${at}[flat_amount_decimal]`);
    }
    if (unit === null && flatDecimal === null) {
      throw invalidRequest('Each tier must have at least one of `unit_amount`, `unit_amount_decimal`, `flat_amount` or `flat_amount_decimal` set.', at);
    }
    return {
      flat_amount: wholeOrNull(flatDecimal),
      flat_amount_decimal: flatDecimal,
      unit_amount: unit?.unit_amount ?? null,
      unit_amount_decimal: unit?.unit_amount_decimal ?? null,
      up_to: t.up_to === 'inf' ? null : t.up_to,
    };
  });
}

/** custom_unit_amount (pay what you want): `enabled` is a switch and is not echoed back. */
function customUnitAmount(p: Params | undefined, base: string): Obj | null {
  if (!p || !p.enabled) return null;
  const param = pname(base, 'custom_unit_amount');
  for (const k of ['maximum', 'minimum', 'preset'] as const) {
    if (typeof p[k] === 'number' && p[k] < 0) invalidNonNegative(`${param}[${k}]`);
  }
  if (typeof p.minimum === 'number' && typeof p.maximum === 'number' && p.minimum > p.maximum) {
    throw invalidRequest('custom_unit_amount[minimum] must be less than or equal to custom_unit_amount[maximum].', `${param}[minimum]`);
  }
  if (typeof p.preset === 'number') {
    if (typeof p.minimum === 'number' && p.preset < p.minimum) {
      throw invalidRequest('custom_unit_amount[preset] must be greater than or equal to custom_unit_amount[minimum].', `${param}[preset]`);
    }
    if (typeof p.maximum === 'number' && p.preset > p.maximum) {
      throw invalidRequest('custom_unit_amount[preset] must be less than or equal to custom_unit_amount[maximum].', `${param}[preset]`);
    }
  }
  return { maximum: p.maximum ?? null, minimum: p.minimum ?? null, preset: p.preset ?? null };
}

/** The amount part a price (or one of its currency options) carries for its billing scheme. */
interface PricingShape { custom_unit_amount: Obj | null; tiers: Obj[] | null; unit_amount: number | null; unit_amount_decimal: string | null }

function pricingShape(p: Params, scheme: string, recurring: boolean, base: string, forOption = false): PricingShape {
  const custom = customUnitAmount(p.custom_unit_amount, base);
  if (scheme === 'tiered') {
    if (p.unit_amount !== undefined || p.unit_amount_decimal !== undefined) {
      throw invalidRequest('`unit_amount` and `unit_amount_decimal` cannot be used with `billing_scheme=tiered`; set the amounts in `tiers` instead.', pname(base, p.unit_amount !== undefined ? 'unit_amount' : 'unit_amount_decimal'));
    }
    if (custom) throw invalidRequest('`custom_unit_amount` cannot be used with `billing_scheme=tiered`.', pname(base, 'custom_unit_amount'));
    return { custom_unit_amount: null, tiers: buildTiers(p.tiers, base), unit_amount: null, unit_amount_decimal: null };
  }
  if (p.tiers !== undefined) throw invalidRequest('`tiers` can only be set when `billing_scheme=tiered`.', pname(base, 'tiers'));
  if (custom) {
    if (recurring) throw invalidRequest('`custom_unit_amount` is only supported for one-time prices; it cannot be used with `recurring`.', pname(base, 'custom_unit_amount'));
    if (p.unit_amount !== undefined) onlyOneOf('custom_unit_amount', 'unit_amount', pname(base, 'custom_unit_amount'));
    if (p.unit_amount_decimal !== undefined) onlyOneOf('custom_unit_amount', 'unit_amount_decimal', pname(base, 'custom_unit_amount'));
    return { custom_unit_amount: custom, tiers: null, unit_amount: null, unit_amount_decimal: null };
  }
  const amount = unitAmount(p, base);
  if (!amount) amountRequired(forOption ? base : undefined);
  return { custom_unit_amount: null, tiers: null, ...amount };
}

function taxBehaviorChange(current: string | null | undefined, next: string | undefined, param: string): string | undefined {
  if (next === undefined || next === null) return undefined;
  if (current && current !== 'unspecified' && next !== current) {
    throw invalidRequest(`tax_behavior cannot be changed once it is set to \`${current}\`.`, param);
  }
  return next;
}

/** currency_options entry as rendered (tiers only on tiered prices). */
function optionObject(shape: PricingShape, taxBehavior: string, tiered: boolean): Obj {
  return {
    custom_unit_amount: shape.custom_unit_amount,
    tax_behavior: taxBehavior,
    ...(tiered ? { tiers: shape.tiers } : {}),
    unit_amount: shape.unit_amount,
    unit_amount_decimal: shape.unit_amount_decimal,
  };
}

/** Parses a currency_options map; null values (`currency_options[eur]=`) are returned as null (remove). */
function parseCurrencyOptions(p: Params, price: Obj, base: string, update: boolean): Record<string, Obj | null> {
  const out: Record<string, Obj | null> = {};
  const tiered = price.billing_scheme === 'tiered';
  for (const [key, o] of Object.entries(p)) {
    const param = `${pname(base, 'currency_options')}[${key}]`;
    const code = currency(key, param);
    if (code === price.currency) {
      throw invalidRequest(update
        // Verified wording (stripe-node#1559).
        ? 'You are specifying an update to a currency option that matches the top-level currency for this price. Please remove this currency option and update the top-level params instead.'
        : 'You are specifying a currency option that matches the top-level currency for this price. Please remove this currency option and use the top-level params instead.', param);
    }
    if (o === null) { out[code] = null; continue; }
    const shape = pricingShape(o, price.billing_scheme, price.type === 'recurring', param, true);
    const existing = price.currency_options?.[code];
    const tax = taxBehaviorChange(existing?.tax_behavior, o.tax_behavior, `${param}[tax_behavior]`) ?? existing?.tax_behavior ?? 'unspecified';
    out[code] = optionObject(shape, tax, tiered);
  }
  return out;
}

/** currency_options always holds the price's own currency too, mirroring the top-level fields. */
function withOwnCurrencyOption(price: Obj): Obj {
  const tiered = price.billing_scheme === 'tiered';
  price.currency_options = {
    ...(price.currency_options ?? {}),
    [price.currency]: optionObject(
      { custom_unit_amount: price.custom_unit_amount, tiers: price.tiers ?? null, unit_amount: price.unit_amount, unit_amount_decimal: price.unit_amount_decimal },
      price.tax_behavior, tiered),
  };
  return price;
}

async function buildRecurring(ctx: WriteContext, r: Params, base: string): Promise<Obj> {
  const param = pname(base, 'recurring');
  const count: number = r.interval_count ?? 1;
  if (count < 1) invalidPositive(`${param}[interval_count]`);
  const limit = MAX_INTERVAL_COUNT[r.interval]!;
  if (count > limit.max) {
    // Verified pattern ("The interval_count for yearly prices can't be greater than 1", from the
    // one-year era); the limits are today's three years.
    throw invalidRequest(`The interval_count for ${limit.adjective} prices can't be greater than ${limit.max}`, `${param}[interval_count]`);
  }
  if (r.trial_period_days !== undefined && r.trial_period_days < 1) invalidPositive(`${param}[trial_period_days]`);
  if (r.meter !== undefined && r.meter !== null) {
    const meter = await ctx.db.get(ctx.scope, r.meter);
    if (!meter || meter.type !== 'billing.meter' || meter.deleted) throw missingReference('meter', r.meter, `${param}[meter]`);
  }
  const usage = r.usage_type ?? 'licensed';
  if (usage === 'metered' && !r.meter) {
    // Verified wording; no param.
    throw invalidRequest('Starting with Stripe version `2025-03-31.basil`, metered prices must be backed by meters.');
  }
  return {
    interval: r.interval,
    interval_count: count,
    meter: r.meter ?? null,
    trial_period_days: r.trial_period_days ?? null,
    usage_type: usage,
  };
}

/** Builds a price from create params (also a product's default_price_data, with `base` = that prefix). */
export async function buildPrice(ctx: WriteContext, p: Params, obj: Obj, productId: string, base = ''): Promise<Obj> {
  const cur = currency(p.currency, pname(base, 'currency'));
  const scheme: string = p.billing_scheme ?? 'per_unit';
  const recurring = p.recurring ? await buildRecurring(ctx, p.recurring, base) : null;
  if (scheme === 'tiered') {
    // Verified wording, including the param.
    if (!recurring) throw invalidRequest('Prices with `type=one_time` are not supported with tiered billing.', 'interval');
    if (!p.tiers_mode) throw missingParam(pname(base, 'tiers_mode'));
    if (p.transform_quantity) throw invalidRequest('`transform_quantity` cannot be combined with `billing_scheme=tiered`.', pname(base, 'transform_quantity'));
  } else if (p.tiers_mode !== undefined) {
    throw invalidRequest('`tiers_mode` can only be set when `billing_scheme=tiered`.', pname(base, 'tiers_mode'));
  }
  const shape = pricingShape(p, scheme, !!recurring, base);
  let transform: Obj | null = null;
  if (p.transform_quantity) {
    if (p.transform_quantity.divide_by < 1) invalidPositive(pname(base, 'transform_quantity') + '[divide_by]');
    if (shape.custom_unit_amount) throw invalidRequest('`transform_quantity` cannot be combined with `custom_unit_amount`.', pname(base, 'transform_quantity'));
    transform = { divide_by: p.transform_quantity.divide_by, round: p.transform_quantity.round };
  }
  const price: Obj = {
    ...obj,
    active: p.active ?? true,
    billing_scheme: scheme,
    currency: cur,
    currency_options: {},
    custom_unit_amount: shape.custom_unit_amount,
    lookup_key: null,
    metadata: applyMetadata({}, p.metadata, pname(base, 'metadata')),
    nickname: p.nickname ?? null,
    product: productId,
    recurring,
    tax_behavior: p.tax_behavior ?? 'unspecified',
    tiers: shape.tiers,
    tiers_mode: scheme === 'tiered' ? p.tiers_mode : null,
    transform_quantity: transform,
    type: recurring ? 'recurring' : 'one_time',
    unit_amount: shape.unit_amount,
    unit_amount_decimal: shape.unit_amount_decimal,
  };
  if (p.currency_options) {
    for (const [code, o] of Object.entries(parseCurrencyOptions(p.currency_options, price, base, false))) if (o) price.currency_options[code] = o;
  }
  withOwnCurrencyOption(price);
  if (p.lookup_key !== undefined && p.lookup_key !== null) {
    await claimLookupKey(ctx, p.lookup_key, price.id, !!p.transfer_lookup_key, pname(base, 'lookup_key'));
    price.lookup_key = p.lookup_key;
  }
  return price;
}

/** A row per (account, mode, lookup key) that writers lock, so two processes cannot both take a key. */
const LOOKUP_KEY_LOCK = 'price_lookup_key';
const lockId = (key: string) => `lookup_key:${key}`;

/**
 * Lookup keys are unique per account and mode, across active and inactive prices; with
 * transfer_lookup_key the holder loses the key (a price.updated event, before the new
 * holder's own event) and keeps everything else.
 */
async function claimLookupKey(ctx: WriteContext, key: string, priceId: string, transfer: boolean, param: string): Promise<void> {
  if (key.length > MAX_LOOKUP_KEY) {
    throw invalidRequest(`Invalid string: ${key.slice(0, 40)}...; must be at most ${MAX_LOOKUP_KEY} characters`, param, 'parameter_invalid_string');
  }
  const lock = await ctx.tx.getForUpdate(ctx.scope, lockId(key));
  if (!lock) {
    await ctx.tx.insert(ctx.scope, { id: lockId(key), type: LOOKUP_KEY_LOCK, created: ctx.now(), data: { key }, index: [] });
  }
  const holders = await ctx.db.scan(ctx.scope, { type: 'price', index: { field: 'lookup_key', value: key }, direction: 'older', limit: 10 });
  for (const holder of holders) {
    if (holder.id === priceId) continue;
    // Verified wording, param lookup_key.
    if (!transfer) throw invalidRequest(`A price (\`${holder.id}\`) already uses that lookup key.`, param);
    const locked = await ctx.tx.getForUpdate(ctx.scope, holder.id);
    if (locked) await saveObject(ctx, prices, locked, { ...locked.data, lookup_key: null });
  }
}

/** Resolves `product` or creates the product from `product_data` (verified messages). */
async function resolveProduct(ctx: WriteContext, p: Params): Promise<string> {
  if (p.product !== undefined && p.product_data !== undefined) onlyOneOf('product', 'product_data');
  if (p.product !== undefined && p.product !== null) {
    const product = await ctx.db.get(ctx.scope, p.product);
    if (!product || product.type !== 'product' || product.deleted) throw await missingObject(ctx, 'product', 'product', p.product, 'product', 400);
    return product.id;
  }
  if (p.product_data !== undefined && p.product_data !== null) {
    const obj = await buildProduct(ctx, p.product_data, newObjectBase(ctx, products), 'product_data');
    return (await insertObject(ctx, products, obj)).id;
  }
  throw invalidRequest('You must specify either `product` or `product_data` when creating a price.');
}

async function updatePrice(ctx: WriteContext, c: Obj, p: Params): Promise<Obj> {
  if (p.active !== undefined) {
    if (p.active === false && c.active) {
      const product = await ctx.db.get(ctx.scope, c.product);
      if (product && !product.deleted && product.data.default_price === c.id) {
        // Verified wording (stripe-python#658).
        throw invalidRequest('This price cannot be archived because it is the default price of its product.', 'active');
      }
    }
    c.active = p.active;
  }
  if (p.nickname !== undefined) c.nickname = p.nickname;
  const tax = taxBehaviorChange(c.tax_behavior, p.tax_behavior, 'tax_behavior');
  if (tax !== undefined) c.tax_behavior = tax;
  c.metadata = applyMetadata(c.metadata, p.metadata);
  if (p.lookup_key !== undefined) {
    if (p.lookup_key === null) c.lookup_key = null;
    else if (p.lookup_key !== c.lookup_key) {
      await claimLookupKey(ctx, p.lookup_key, c.id, !!p.transfer_lookup_key, 'lookup_key');
      c.lookup_key = p.lookup_key;
    }
  }
  if (p.currency_options !== undefined) {
    const own = c.currency_options?.[c.currency];
    if (p.currency_options === null) c.currency_options = {};
    else {
      const next = { ...(c.currency_options ?? {}) };
      for (const [code, o] of Object.entries(parseCurrencyOptions(p.currency_options, c, '', true))) {
        if (o === null) delete next[code]; else next[code] = o;
      }
      c.currency_options = next;
    }
    if (own) c.currency_options[c.currency] = own;
  }
  return withOwnCurrencyOption(c);
}

async function listPrices(ctx: ReadContext, p: Params) {
  if (p.product !== undefined) {
    const product = await ctx.db.get(ctx.scope, p.product);
    if (!product || product.type !== 'product' || product.deleted) throw await missingObject(ctx, 'product', 'product', p.product, 'product', 400);
  }
  const keys: string[] | undefined = p.lookup_keys;
  if (keys && keys.length > MAX_LOOKUP_KEYS_FILTER) {
    throw invalidRequest(`You can pass at most ${MAX_LOOKUP_KEYS_FILTER} lookup_keys.`, 'lookup_keys');
  }
  // Docs: "Returns a list of your active prices ... For the list of inactive prices, set active to false."
  const active: boolean = p.active ?? true;
  const cur = p.currency !== undefined ? String(p.currency).toLowerCase() : undefined;
  const r = p.recurring;
  const filter = (d: Obj) =>
    d.active === active &&
    (cur === undefined || d.currency === cur) &&
    (p.product === undefined || d.product === p.product) &&
    (p.type === undefined || d.type === p.type) &&
    (keys === undefined || keys.includes(d.lookup_key)) &&
    (r === undefined || r === null || (d.recurring !== null &&
      (r.interval === undefined || d.recurring.interval === r.interval) &&
      (r.usage_type === undefined || d.recurring.usage_type === r.usage_type) &&
      (r.meter === undefined || d.recurring.meter === r.meter)));
  const index = p.product !== undefined ? { field: 'product', value: p.product }
    : keys?.length === 1 ? { field: 'lookup_key', value: keys[0]! }
      : { field: 'active', value: String(active) };
  const { rows, has_more } = await listObjects(ctx, {
    type: 'price', url: prices.path, limit: p.limit, starting_after: p.starting_after,
    ending_before: p.ending_before, created: p.created, index, filter,
  });
  return { object: 'list', data: rows.map((row) => row.data), has_more, url: prices.path };
}

/** The price named in the URL; a 404 naming the `price` path parameter, as Stripe's does. */
async function loadPrice(ctx: ReadContext, id: string, forUpdate = false): Promise<StoredObject> {
  const found = forUpdate ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!found || found.type !== 'price' || found.deleted) throw await missingObject(ctx, 'price', 'price', id, 'price', 404);
  return found;
}

function priceOperations(def: ResourceDef): Operation[] {
  const item = `${def.path}/{id}`;
  return [
    {
      // Retrieve and update name the path parameter `price` in their 404s, as Stripe does.
      method: 'GET', path: item, write: false,
      handler: async (ctx, _params, path) => (await loadPrice(ctx, path.id!)).data,
    },
    {
      method: 'POST', path: item, write: true,
      handler: async (ctx, params, path) => {
        const w = ctx as WriteContext;
        const current = await loadPrice(w, path.id!, true);
        const next = await updatePrice(w, structuredClone(current.data), params);
        return saveObject(w, def, current, next);
      },
    },
    {
      method: 'GET', path: def.path, write: false, returnsList: true,
      handler: (ctx, params) => { checkListExpand('price', params.expand); return listPrices(ctx, params); },
    },
  ];
}

export const prices: ResourceDef = {
  object: 'price',
  prefix: 'price',
  path: '/v1/prices',
  events: { created: 'price.created', updated: 'price.updated' },
  search: STRIPE_SEARCH_FIELDS.prices,
  includable: ['currency_options', 'tiers'],
  index: (p) => [
    { field: 'product', value: p.product },
    { field: 'active', value: String(p.active) },
    ...(p.lookup_key !== null ? [{ field: 'lookup_key', value: p.lookup_key }] : []),
  ],
  standard: { retrieve: false, update: false, list: false, delete: false },
  operations: priceOperations,

  async create(ctx, p, base) {
    const productId = await resolveProduct(ctx, p);
    return buildPrice(ctx, p, base, productId);
  },
};

/** Used by products.ts for default_price_data: the price's own create path, param names prefixed. */
export async function createDefaultPrice(ctx: WriteContext, p: Params, id: string, productId: string): Promise<Obj> {
  const price = await buildPrice(ctx, p, { ...newObjectBase(ctx, prices), id }, productId, 'default_price_data');
  return insertObject(ctx, prices, price);
}

