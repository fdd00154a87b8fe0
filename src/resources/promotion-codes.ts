// Promotion codes — https://docs.stripe.com/api/promotion_codes
// The current shape: the coupon sits under `promotion` {type: 'coupon', coupon} (stripe-node 23,
// API 2025-09-30.clover and later), expandable as `expand[]=promotion.coupon`.
// Create (code generated when absent; unique, regardless of case, among active codes of the
// same customer scope), retrieve, update (active, metadata, restrictions[currency_options]),
// list (active, code case-insensitively, coupon, customer, created).
// redeemPromotionCode() is what discounts created from a code call (customers, subscriptions,
// invoices, Checkout later): it checks every restriction and counts the redemption.
//
// Messages are Stripe-style sentences of our own unless marked verified.
import { invalidRequest, missingParam } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { currency } from '../api/shapes.js';
import { canonicalize } from '../api/render.js';
import { registerNestedExpandable } from '../api/expand.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { couponRefusal, promotionCodeRefusal, type RedemptionContext } from '../engine/billing/discounts.js';
import { indexEntries, type Obj, type ResourceDef } from './define.js';
import { missingReference } from './prices.js';
import { redeemCoupon } from './coupons.js';

const CODE = /^[A-Za-z0-9-]+$/;
const MAX_CODE = 500;
const GENERATED_CODE_LENGTH = 8;

registerNestedExpandable('promotion_code', ['promotion', 'promotion.coupon']);

function positiveInteger(v: number, param: string): number {
  if (!Number.isInteger(v) || v < 1) throw invalidRequest('Invalid positive integer', param, 'parameter_invalid_integer');
  return v;
}

/** Whether two codes' customer scopes overlap: a code for everyone clashes with any other. */
const scopesOverlap = (a: string | null, b: string | null) => a === null || b === null || a === b;

/** Refuses a code that clashes with another active one (same code regardless of case, overlapping customers). */
async function assertCodeFree(ctx: WriteContext, code: string, customer: string | null, self?: string): Promise<boolean> {
  const rows = await ctx.db.scan(ctx.scope, { type: 'promotion_code', index: { field: 'active_code', value: code.toLowerCase() }, direction: 'older', limit: 1000 });
  return !rows.some((r) => r.id !== self && r.data.active && scopesOverlap(r.data.customer, customer));
}

/**
 * Serialises everything that may make `code` active: one lock row per code (case-folded) in the
 * objects table, locked for the rest of the transaction. On PostgreSQL two transactions that
 * both find no row both insert it; the loser's unique violation retries its transaction, which
 * then waits on the row and, once the winner has committed, sees the winner's code. (SQLite runs
 * one writer at a time, so the check and the insert cannot interleave there anyway.)
 */
async function lockCode(ctx: WriteContext, code: string): Promise<void> {
  const id = `promolock_${code.toLowerCase()}`;
  if (await ctx.tx.getForUpdate(ctx.scope, id)) return;
  await ctx.tx.insert(ctx.scope, { id, type: 'promotion_code_lock', created: ctx.now(), data: {}, index: [] });
}

function codeTaken(code: string): never {
  throw invalidRequest(`An active promotion code with \`code: ${code}\` already exists.`, 'code');
}

function currencyOptions(p: Params, top: string | null, current: Obj | undefined, base: string): Obj {
  const out: Obj = { ...(current ?? {}) };
  for (const [key, o] of Object.entries(p)) {
    const param = `${base}[currency_options][${key}]`;
    const code = currency(key, param);
    if (code === top) {
      throw invalidRequest('You are specifying a currency option that matches `minimum_amount_currency`. Please remove this currency option and use the top-level `minimum_amount` instead.', param);
    }
    if (o === null) { delete out[code]; continue; }
    if (o.minimum_amount === undefined || o.minimum_amount === null) throw missingParam(`${param}[minimum_amount]`);
    if (o.minimum_amount < 0) throw invalidRequest('Invalid non-negative integer', `${param}[minimum_amount]`, 'parameter_invalid_integer');
    out[code] = { minimum_amount: o.minimum_amount };
  }
  return out;
}

function restrictions(p: Params | undefined): Obj {
  // currency_options is includable (expand[]=restrictions.currency_options): always stored.
  const r: Obj = { currency_options: {}, first_time_transaction: p?.first_time_transaction ?? false, minimum_amount: null, minimum_amount_currency: null };
  if (!p) return r;
  const hasAmount = p.minimum_amount !== undefined && p.minimum_amount !== null;
  const hasCurrency = p.minimum_amount_currency !== undefined && p.minimum_amount_currency !== null;
  if (hasAmount && !hasCurrency) throw missingParam('restrictions[minimum_amount_currency]');
  if (hasCurrency && !hasAmount) throw missingParam('restrictions[minimum_amount]');
  if (hasAmount) {
    if (p.minimum_amount < 0) throw invalidRequest('Invalid non-negative integer', 'restrictions[minimum_amount]', 'parameter_invalid_integer');
    r.minimum_amount = p.minimum_amount;
    r.minimum_amount_currency = currency(p.minimum_amount_currency, 'restrictions[minimum_amount_currency]');
  }
  if (p.currency_options !== undefined && p.currency_options !== null) {
    if (!hasAmount) throw invalidRequest('`restrictions[currency_options]` can only be set together with `restrictions[minimum_amount]`.', 'restrictions[currency_options]');
    r.currency_options = currencyOptions(p.currency_options, r.minimum_amount_currency, undefined, 'restrictions');
  }
  return r;
}

async function createPromotionCode(ctx: WriteContext, p: Params, base: Obj): Promise<Obj> {
  const couponId: string | undefined = p.promotion?.coupon ?? undefined;
  if (couponId === undefined || couponId === null) throw missingParam('promotion[coupon]');
  const coupon = await ctx.db.get(ctx.scope, couponId);
  if (!coupon || coupon.type !== 'coupon' || coupon.deleted) throw missingReference('coupon', couponId, 'promotion[coupon]');
  if (couponRefusal(coupon.data, ctx.now())) throw invalidRequest(`Coupon ${couponId} is no longer valid and cannot be used to create a promotion code.`, 'promotion[coupon]');

  let customer: string | null = null;
  if (p.customer !== undefined && p.customer !== null) {
    const c = await ctx.db.get(ctx.scope, p.customer);
    if (!c || c.type !== 'customer' || c.deleted) throw missingReference('customer', p.customer, 'customer');
    customer = p.customer;
  }
  // Accounts v2 do not exist in Pinstripe: no customer_account id can resolve.
  if (p.customer_account !== undefined && p.customer_account !== null) throw missingReference('account', p.customer_account, 'customer_account');

  const active: boolean = p.active ?? true;
  let code: string;
  if (p.code !== undefined && p.code !== null) {
    code = p.code;
    if (code.length > MAX_CODE) throw invalidRequest(`Invalid string: ${code.slice(0, 40)}...; must be at most ${MAX_CODE} characters`, 'code', 'parameter_invalid_string');
    if (!CODE.test(code)) throw invalidRequest('Promotion codes may only contain letters (a-z, A-Z), digits (0-9) and dashes (-).', 'code');
    if (active) await lockCode(ctx, code);
    if (active && !(await assertCodeFree(ctx, code, customer))) codeTaken(code);
  } else {
    do code = ctx.services.ids.random(GENERATED_CODE_LENGTH).toUpperCase();
    while (!(await assertCodeFree(ctx, code, customer)));
  }

  if (p.expires_at !== undefined && p.expires_at !== null) {
    if (p.expires_at <= ctx.now()) throw invalidRequest('The `expires_at` timestamp must be in the future.', 'expires_at');
    if (typeof coupon.data.redeem_by === 'number' && p.expires_at > coupon.data.redeem_by) {
      throw invalidRequest("The promotion code's `expires_at` may not be later than its coupon's `redeem_by`.", 'expires_at');
    }
  }
  if (p.max_redemptions !== undefined && p.max_redemptions !== null) positiveInteger(p.max_redemptions, 'max_redemptions');

  return {
    ...base,
    active,
    code,
    customer,
    customer_account: null,
    expires_at: p.expires_at ?? null,
    max_redemptions: p.max_redemptions ?? null,
    metadata: applyMetadata({}, p.metadata),
    promotion: { coupon: couponId, type: 'coupon' },
    restrictions: restrictions(p.restrictions),
    times_redeemed: 0,
  };
}

async function updatePromotionCode(ctx: WriteContext, c: Obj, p: Params): Promise<Obj> {
  if (p.active !== undefined && p.active !== null && p.active !== c.active) {
    if (p.active) {
      const coupon = await ctx.db.get(ctx.scope, c.promotion.coupon);
      if (!coupon || coupon.deleted || couponRefusal(coupon.data, ctx.now())) {
        throw invalidRequest(`This promotion code cannot be reactivated because its coupon ${c.promotion.coupon} is no longer valid.`, 'active');
      }
      await lockCode(ctx, c.code);
      if (!(await assertCodeFree(ctx, c.code, c.customer, c.id))) codeTaken(c.code);
    }
    c.active = p.active;
  }
  c.metadata = applyMetadata(c.metadata, p.metadata);
  const o = p.restrictions?.currency_options;
  if (o !== undefined) {
    if (c.restrictions.minimum_amount === null && o !== null && Object.keys(o).length) {
      throw invalidRequest('`restrictions[currency_options]` can only be set together with `restrictions[minimum_amount]`.', 'restrictions[currency_options]');
    }
    c.restrictions.currency_options = currencyOptions(o ?? {}, c.restrictions.minimum_amount_currency, o === null ? undefined : c.restrictions.currency_options, 'restrictions');
  }
  return c;
}

export const promotionCodes: ResourceDef = {
  object: 'promotion_code',
  prefix: 'promo',
  path: '/v1/promotion_codes',
  events: { created: 'promotion_code.created', updated: 'promotion_code.updated' },
  includable: ['restrictions.currency_options'],
  index: (c) => [
    { field: 'active', value: String(c.active) },
    { field: 'code', value: String(c.code).toLowerCase() },
    { field: 'coupon', value: c.promotion.coupon },
    ...(c.active ? [{ field: 'active_code', value: String(c.code).toLowerCase() }] : []),
    ...(c.customer ? [{ field: 'customer', value: c.customer }] : []),
  ],
  listFilters: (p) => {
    const code = p.code !== undefined ? String(p.code).toLowerCase() : undefined;
    const filter = (d: Obj) =>
      (p.active === undefined || d.active === p.active) &&
      (code === undefined || String(d.code).toLowerCase() === code) &&
      (p.coupon === undefined || d.promotion.coupon === p.coupon) &&
      (p.customer === undefined || d.customer === p.customer) &&
      (p.customer_account === undefined || d.customer_account === p.customer_account);
    const index = code !== undefined ? { field: 'code', value: code }
      : p.coupon !== undefined ? { field: 'coupon', value: p.coupon }
        : p.customer !== undefined ? { field: 'customer', value: p.customer }
          : p.active !== undefined ? { field: 'active', value: String(p.active) } : undefined;
    return { ...(index ? { index } : {}), filter };
  },
  create: createPromotionCode,
  update: updatePromotionCode,
};

/** Stripe-style refusals of a promotion code at redemption, keyed by the discounts module's reasons. */
const REFUSALS: Record<string, (code: Obj) => string> = {
  inactive: (c) => `This promotion code (${c.code}) is inactive.`,
  deleted: (c) => `The coupon of promotion code ${c.code} has been deleted.`,
  expired: (c) => `The coupon of promotion code ${c.code} has expired.`,
  max_redemptions: (c) => `The coupon of promotion code ${c.code} has reached its maximum number of redemptions.`,
  code_expired: (c) => `This promotion code (${c.code}) has expired.`,
  code_max_redemptions: (c) => `This promotion code (${c.code}) has reached its maximum number of redemptions.`,
  customer: (c) => `This promotion code (${c.code}) cannot be redeemed by this customer.`,
  first_time_transaction: (c) => `This promotion code (${c.code}) can only be redeemed by first-time customers.`,
  minimum_amount: (c) => `This promotion code (${c.code}) requires a minimum purchase amount that has not been met.`,
  currency: (c) => `This promotion code (${c.code}) cannot be used in this currency.`,
};

/**
 * Redeems a promotion code (by id) for a discount: checks every restriction against `r`, counts
 * the redemption on the code and on its coupon (with their events when one becomes used up) and
 * returns the code's data. `param` names the request parameter that carried it.
 */
export async function redeemPromotionCode(ctx: WriteContext, id: string, r: Omit<RedemptionContext, 'now'>, param: string): Promise<Obj> {
  const found = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!found || found.type !== 'promotion_code' || found.deleted) throw missingReference('promotion code', id, param);
  const coupon = await ctx.db.get(ctx.scope, found.data.promotion.coupon);
  const couponData = coupon && !coupon.deleted ? coupon.data : { deleted: true };
  const refusal = promotionCodeRefusal(found.data, couponData, { ...r, now: ctx.now() });
  if (refusal) throw invalidRequest(REFUSALS[refusal]!(found.data), param);
  await redeemCoupon(ctx, found.data.promotion.coupon, param);
  const next = canonicalize({ ...found.data, times_redeemed: found.data.times_redeemed + 1 });
  await ctx.tx.update(ctx.scope, { id: found.id, version: found.version, data: next, index: indexEntries(promotionCodes, next) });
  return next;
}

