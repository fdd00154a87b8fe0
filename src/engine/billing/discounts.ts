// Discount arithmetic: pure functions over stored coupon / promotion code / discount objects,
// no I/O, no clock (callers pass `now`). Coupons and promotion codes use them to decide whether
// they can still be redeemed; invoices and subscriptions (issue 7, later) use them to compute
// each line's discount amounts and a discount's end.
//
// Stripe's rules implemented here (docs.stripe.com/billing/subscriptions/coupons):
// - percent_off takes that percentage of the amount, rounded to the nearest minor unit;
// - amount_off is in the coupon's `currency`, or in `currency_options[<currency>]` for other
//   currencies; a coupon with neither for the amount's currency does not apply (0);
// - a discount never exceeds the amount it is taken from;
// - `applies_to.products` restricts the coupon to lines of those products;
// - an amount_off coupon spread over several lines is allocated in proportion to the lines'
//   amounts (largest remainder, so the parts add up exactly).

export type Obj = Record<string, any>;

/** What a discount is taken from: an amount in minor units, its currency, and the line's product. */
export interface DiscountTarget {
  amount: number;
  currency: string;
  /** The product of the line (price.product); undefined for amounts with no product (whole invoice). */
  product?: string | null;
}

/** Whether the coupon restricts to products and this target's product is not among them. */
export function couponAppliesTo(coupon: Obj, product: string | null | undefined): boolean {
  const products: string[] | undefined = coupon.applies_to?.products;
  if (!products || products.length === 0) return true;
  return typeof product === 'string' && products.includes(product);
}

/** The coupon's amount_off in `currency`, or null when it has none for that currency. */
export function amountOffIn(coupon: Obj, currency: string): number | null {
  if (coupon.amount_off === null || coupon.amount_off === undefined) return null;
  const cur = currency.toLowerCase();
  if (coupon.currency === cur) return coupon.amount_off;
  const option = coupon.currency_options?.[cur];
  return option ? option.amount_off : null;
}

/** Whether the coupon can discount an amount in `currency` at all (percent_off always can). */
export function couponSupportsCurrency(coupon: Obj, currency: string): boolean {
  return typeof coupon.percent_off === 'number' || amountOffIn(coupon, currency) !== null;
}

/** Percent of an amount, rounded half away from zero to the minor unit. */
export function percentOf(amount: number, percent: number): number {
  // Work in integers of 1e-6 percent to avoid binary fractions (25.5% of 1999 = 509.745 → 510).
  const micro = Math.round(percent * 1_000_000);
  const numerator = amount * micro;
  const q = numerator / 100_000_000;
  return Math.sign(q) * Math.round(Math.abs(q) + 1e-9);
}

/**
 * The amount the coupon takes off one target, capped at the target's amount; 0 when it does not
 * apply (other product, no amount in that currency, non-positive amount).
 */
export function couponDiscountAmount(coupon: Obj, target: DiscountTarget): number {
  if (target.amount <= 0) return 0;
  if (!couponAppliesTo(coupon, target.product)) return 0;
  if (typeof coupon.percent_off === 'number') return Math.min(target.amount, percentOf(target.amount, coupon.percent_off));
  const off = amountOffIn(coupon, target.currency);
  return off === null ? 0 : Math.min(target.amount, off);
}

/**
 * Splits `total` over parts in proportion to `weights` (largest remainder; ties go to the
 * earlier part), so the parts sum to exactly `total`. Used to spread an amount_off coupon over an
 * invoice's eligible lines.
 */
export function allocate(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + Math.max(0, w), 0);
  if (sum <= 0 || total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (Math.max(0, w) * total) / sum);
  const parts = exact.map(Math.floor);
  let left = total - parts.reduce((a, b) => a + b, 0);
  const order = exact.map((e, i) => ({ i, r: e - Math.floor(e) })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) { if (left <= 0) break; parts[i]!++; left--; }
  return parts;
}

/**
 * The coupon's discount over several targets (an invoice's lines), per target. percent_off is
 * taken line by line; amount_off once in total over the eligible lines, allocated in proportion,
 * never more than their sum.
 */
export function couponDiscountLines(coupon: Obj, targets: readonly DiscountTarget[]): number[] {
  if (typeof coupon.percent_off === 'number') return targets.map((t) => couponDiscountAmount(coupon, t));
  const eligible = targets.map((t) => (t.amount > 0 && couponAppliesTo(coupon, t.product) ? t.amount : 0));
  const currency = targets[0]?.currency;
  const off = currency === undefined ? null : amountOffIn(coupon, currency);
  if (off === null) return targets.map(() => 0);
  const cap = Math.min(off, eligible.reduce((a, b) => a + b, 0));
  return allocate(cap, eligible);
}

/** Why a coupon cannot be redeemed now, or null when it can. */
export type CouponRefusal = 'deleted' | 'expired' | 'max_redemptions';

export function couponRefusal(coupon: Obj, now: number): CouponRefusal | null {
  if (coupon.deleted) return 'deleted';
  if (typeof coupon.redeem_by === 'number' && now > coupon.redeem_by) return 'expired';
  if (typeof coupon.max_redemptions === 'number' && coupon.times_redeemed >= coupon.max_redemptions) return 'max_redemptions';
  return null;
}

/** Stripe's `valid`: "Taking account of the above properties, whether this coupon can still be applied to a customer." */
export function couponValid(coupon: Obj, now: number): boolean {
  return couponRefusal(coupon, now) === null;
}

export interface RedemptionContext {
  now: number;
  /** The customer redeeming it, if known. */
  customer?: string | null;
  /** The amount and currency of the purchase (for minimum_amount), if known. */
  amount?: number;
  currency?: string;
  /** Whether the customer has had any prior successful payment or paid invoice. */
  customerHasPriorTransactions?: boolean;
}

export type PromotionCodeRefusal =
  | CouponRefusal | 'inactive' | 'code_expired' | 'code_max_redemptions' | 'customer' | 'first_time_transaction' | 'minimum_amount' | 'currency';

/** Why a promotion code cannot be redeemed in this context, or null when it can. */
export function promotionCodeRefusal(code: Obj, coupon: Obj, r: RedemptionContext): PromotionCodeRefusal | null {
  if (!code.active) return 'inactive';
  const c = couponRefusal(coupon, r.now);
  if (c) return c;
  if (typeof code.expires_at === 'number' && r.now > code.expires_at) return 'code_expired';
  if (typeof code.max_redemptions === 'number' && code.times_redeemed >= code.max_redemptions) return 'code_max_redemptions';
  if (code.customer && r.customer !== undefined && r.customer !== code.customer) return 'customer';
  const rs = code.restrictions ?? {};
  if (rs.first_time_transaction && r.customerHasPriorTransactions) return 'first_time_transaction';
  if (r.currency !== undefined && !couponSupportsCurrency(coupon, r.currency)) return 'currency';
  if (r.amount !== undefined && r.currency !== undefined) {
    const min = minimumAmountIn(code, r.currency);
    if (min !== null && r.amount < min) return 'minimum_amount';
  }
  return null;
}

/** The promotion code's minimum amount in `currency` (restrictions or their currency_options). */
export function minimumAmountIn(code: Obj, currency: string): number | null {
  const rs = code.restrictions ?? {};
  const cur = currency.toLowerCase();
  if (rs.minimum_amount !== null && rs.minimum_amount !== undefined && rs.minimum_amount_currency === cur) return rs.minimum_amount;
  const o = rs.currency_options?.[cur];
  return o && typeof o.minimum_amount === 'number' ? o.minimum_amount : null;
}

/** `t` plus `months` calendar months in UTC, the day clamped to the month's end (Jan 31 + 1 = Feb 28/29). */
export function addMonths(t: number, months: number): number {
  const d = new Date(t * 1000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const lastDay = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const day = Math.min(d.getUTCDate(), lastDay);
  return Math.floor(Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000);
}

/** A discount's `end`: start + duration_in_months for repeating coupons, null otherwise. */
export function discountEnd(coupon: Obj, start: number): number | null {
  return coupon.duration === 'repeating' && typeof coupon.duration_in_months === 'number' ? addMonths(start, coupon.duration_in_months) : null;
}

/** Whether a discount applies to a charge at time `t` (a billing period start). `once` is the caller's: it applies to the first invoice only. */
export function discountActiveAt(discount: Obj, t: number): boolean {
  if (t < discount.start) return false;
  return discount.end === null || discount.end === undefined || t < discount.end;
}
