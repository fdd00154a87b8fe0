// Coupons — https://docs.stripe.com/api/coupons
// Create (custom or generated id; exactly one of percent_off / amount_off + currency, with
// currency_options for amount_off; duration once / repeating / forever, duration_in_months only
// for repeating; max_redemptions, redeem_by, applies_to[products], name, metadata), retrieve,
// update (name, metadata, currency_options only), delete, list (created).
// `valid` is computed at read time (redeem_by passes without a write); `times_redeemed` grows
// through redeemCoupon(), which discounts on customers, subscriptions and invoices call.
//
// Messages marked "verified" were checked against Stripe; the others are Stripe-style
// sentences of our own (Stripe's exact wording was not found).
import { invalidRequest, missingParam } from '../api/errors.js';
import { listObjects } from '../api/list.js';
import { checkListExpand } from '../api/expand.js';
import { applyMetadata } from '../api/metadata.js';
import { currency } from '../api/shapes.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import type { StoredObject } from '../store/store.js';
import { couponValid, couponRefusal } from '../engine/billing/discounts.js';
import { indexEntries, missingObject, saveObject, type Obj, type Operation, type ResourceDef } from './define.js';
import { missingReference } from './prices.js';

const MAX_NAME = 40;
const MAX_ID = 200; // not documented; Stripe refuses longer ids
const ID_LENGTH = 8; // generated coupon ids are 8 upper-case alphanumerics (Z4OV52SU)

function tooLong(value: string, max: number, param: string): never {
  throw invalidRequest(`Invalid string: ${value.length > 40 ? `${value.slice(0, 40)}...` : value}; must be at most ${max} characters`, param, 'parameter_invalid_string');
}

function positiveInteger(v: number, param: string): number {
  if (!Number.isInteger(v) || v < 1) throw invalidRequest('Invalid positive integer', param, 'parameter_invalid_integer');
  return v;
}

/** currency_options of an amount_off coupon: {eur: {amount_off}}, never the coupon's own currency. */
function currencyOptions(p: Params, own: string, current: Obj | undefined): Obj {
  const out: Obj = { ...(current ?? {}) };
  for (const [key, o] of Object.entries(p)) {
    const param = `currency_options[${key}]`;
    const code = currency(key, param);
    if (code === own) {
      throw invalidRequest('You are specifying a currency option that matches the top-level currency for this coupon. Please remove this currency option and use the top-level `amount_off` instead.', param);
    }
    if (o === null) { delete out[code]; continue; }
    if (o.amount_off === undefined || o.amount_off === null) throw missingParam(`${param}[amount_off]`);
    if (o.amount_off < 1) throw invalidRequest('Invalid positive integer', `${param}[amount_off]`, 'parameter_invalid_integer');
    out[code] = { amount_off: o.amount_off };
  }
  return out;
}

/** A coupon as returned: `valid` recomputed for the read's time. */
export function couponView(data: Obj, now: number): Obj {
  const valid = couponValid(data, now);
  return valid === data.valid ? data : { ...data, valid };
}

/**
 * Records one redemption (a discount created from the coupon): refuses an invalid coupon with
 * Stripe's errors, increments times_redeemed, and emits coupon.updated only when it turns invalid
 * (Stripe sends no event per redemption). `param` names the request parameter that carried it.
 */
export async function redeemCoupon(ctx: WriteContext, id: string, param: string): Promise<Obj> {
  const found = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!found || found.type !== 'coupon' || found.deleted) throw missingReference('coupon', id, param);
  const refusal = couponRefusal(found.data, ctx.now());
  if (refusal === 'expired') throw invalidRequest(`Coupon expired: ${id}`, param);
  if (refusal === 'max_redemptions') throw invalidRequest(`Coupon ${id} has reached its maximum number of redemptions.`, param);
  const times = found.data.times_redeemed + 1;
  const next = canonicalize({ ...found.data, times_redeemed: times, valid: couponValid({ ...found.data, times_redeemed: times }, ctx.now()) });
  // A redemption that leaves the coupon valid is stored without an event; the one that uses it
  // up is a coupon.updated (valid: true → false).
  if (!next.valid) return saveObject(ctx, coupons, found, next);
  await ctx.tx.update(ctx.scope, { id: found.id, version: found.version, data: next, index: indexEntries(coupons, next) });
  return next;
}

async function createCoupon(ctx: WriteContext, p: Params, base: Obj): Promise<Obj> {
  if (p.id !== undefined && p.id !== null) {
    if (p.id.length > MAX_ID) tooLong(p.id, MAX_ID, 'id');
    // Same wording and code as products' custom ids.
    if (await ctx.db.get(ctx.scope, p.id)) throw invalidRequest('Coupon already exists.', 'id', 'resource_already_exists');
    base.id = p.id;
  } else {
    base.id = ctx.services.ids.random(ID_LENGTH).toUpperCase();
  }
  const hasPercent = p.percent_off !== undefined && p.percent_off !== null;
  const hasAmount = p.amount_off !== undefined && p.amount_off !== null;
  if (hasPercent && hasAmount) throw invalidRequest('You may only specify one of these parameters: amount_off, percent_off.', 'amount_off');
  if (!hasPercent && !hasAmount) throw invalidRequest('You must pass either `percent_off` or `amount_off`.', 'percent_off');
  let cur: string | null = null;
  if (hasPercent) {
    // Docs: "A positive float larger than 0, and smaller or equal to 100".
    if (!(p.percent_off > 0 && p.percent_off <= 100)) throw invalidRequest('percent_off must be greater than 0 and less than or equal to 100.', 'percent_off');
    if (p.currency !== undefined && p.currency !== null) throw invalidRequest('You may only specify `currency` with `amount_off`.', 'currency');
    if (p.currency_options !== undefined) throw invalidRequest('You may only specify `currency_options` with `amount_off`.', 'currency_options');
  } else {
    positiveInteger(p.amount_off, 'amount_off');
    if (p.currency === undefined || p.currency === null) throw invalidRequest('You must pass currency when passing amount_off', 'currency');
    cur = currency(p.currency);
  }
  const duration: string = p.duration ?? 'once'; // docs: "Defaults to `once`."
  let months: number | null = null;
  if (duration === 'repeating') {
    if (p.duration_in_months === undefined || p.duration_in_months === null) throw missingParam('duration_in_months');
    months = positiveInteger(p.duration_in_months, 'duration_in_months');
  } else if (p.duration_in_months !== undefined && p.duration_in_months !== null) {
    throw invalidRequest('duration_in_months can only be set when duration is `repeating`.', 'duration_in_months');
  }
  if (p.max_redemptions !== undefined && p.max_redemptions !== null) positiveInteger(p.max_redemptions, 'max_redemptions');
  if (p.redeem_by !== undefined && p.redeem_by !== null && p.redeem_by <= ctx.now()) {
    throw invalidRequest('Redeem by must be in the future', 'redeem_by');
  }
  if (typeof p.name === 'string' && p.name.length > MAX_NAME) tooLong(p.name, MAX_NAME, 'name');
  const c: Obj = {
    ...base,
    amount_off: hasAmount ? p.amount_off : null,
    currency: cur,
    duration,
    duration_in_months: months,
    max_redemptions: p.max_redemptions ?? null,
    metadata: applyMetadata({}, p.metadata),
    name: p.name ?? null,
    percent_off: hasPercent ? p.percent_off : null,
    redeem_by: p.redeem_by ?? null,
    times_redeemed: 0,
    valid: true,
  };
  // Includable (returned only when expanded); stored for every coupon so that expanding them
  // always works: no product restriction is an empty list, no other currency an empty map.
  c.applies_to = { products: [] };
  c.currency_options = {};
  if (p.applies_to !== undefined && p.applies_to !== null) {
    const list: string[] = p.applies_to.products ?? [];
    for (const [i, id] of list.entries()) {
      const product = await ctx.db.get(ctx.scope, id);
      if (!product || product.type !== 'product' || product.deleted) throw missingReference('product', id, `applies_to[products][${i}]`);
    }
    c.applies_to = { products: [...new Set(list)] };
  }
  if (hasAmount) c.currency_options = currencyOptions(p.currency_options ?? {}, cur!, undefined);
  return c;
}

async function updateCoupon(ctx: WriteContext, c: Obj, p: Params): Promise<Obj> {
  c.valid = couponValid(c, ctx.now()); // the response shows it as of now, as retrieve does
  if (p.name !== undefined) {
    if (typeof p.name === 'string' && p.name.length > MAX_NAME) tooLong(p.name, MAX_NAME, 'name');
    c.name = p.name;
  }
  c.metadata = applyMetadata(c.metadata, p.metadata);
  if (p.currency_options !== undefined) {
    if (c.amount_off === null) throw invalidRequest('You may only specify `currency_options` with `amount_off`.', 'currency_options');
    c.currency_options = currencyOptions(p.currency_options ?? {}, c.currency, c.currency_options);
  }
  return c;
}

async function loadCoupon(ctx: ReadContext, id: string): Promise<StoredObject> {
  const found = await ctx.db.get(ctx.scope, id);
  if (!found || found.type !== 'coupon' || found.deleted) throw await missingObject(ctx, 'coupon', 'coupon', id, 'id');
  return found;
}

function couponOperations(def: ResourceDef): Operation[] {
  return [
    {
      method: 'GET', path: `${def.path}/{id}`, write: false,
      handler: async (ctx, _params, path) => couponView((await loadCoupon(ctx, path.id!)).data, ctx.now()),
    },
    {
      method: 'GET', path: def.path, write: false, returnsList: true,
      handler: async (ctx, p) => {
        checkListExpand('coupon', p.expand);
        const { rows, has_more } = await listObjects(ctx, {
          type: 'coupon', url: def.path, limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created,
        });
        return { object: 'list', data: rows.map((r) => couponView(r.data, ctx.now())), has_more, url: def.path };
      },
    },
  ];
}

export const coupons: ResourceDef = {
  object: 'coupon',
  prefix: 'coupon',
  path: '/v1/coupons',
  events: { created: 'coupon.created', updated: 'coupon.updated', deleted: 'coupon.deleted' },
  includable: ['applies_to', 'currency_options'],
  standard: { retrieve: false, list: false },
  operations: couponOperations,
  create: createCoupon,
  update: updateCoupon,
  async delete() {
    // Existing discounts keep working; the coupon can no longer be redeemed.
  },
};
