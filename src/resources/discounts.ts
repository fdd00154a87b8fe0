// Discount objects (object: 'discount') — https://docs.stripe.com/api/discounts
// Discounts are not retrievable by id: they live embedded in what they discount (a customer's
// `discount`, later a subscription's or invoice's `discounts[]`). This module builds them in the
// current shape (the coupon under `source` {type: 'coupon', coupon}), applies and removes a
// customer's discount with customer.discount.created / customer.discount.deleted (and the
// customer.updated that the change of `customer.discount` is), and serves
// DELETE /v1/customers/{id}/discount.
//
// The current API (stripe-node 23) no longer takes `coupon` / `promotion_code` on customer
// create or update, so applyCustomerDiscount() has no route of its own yet: subscriptions,
// invoices and Checkout call buildDiscount()/applyCustomerDiscount() when they arrive.
import { invalidRequest } from '../api/errors.js';
import { registerNestedExpandable } from '../api/expand.js';
import type { WriteContext } from '../api/context.js';
import { emitEvent, previousAttributes } from '../events/events.js';
import { discountEnd } from '../engine/billing/discounts.js';
import { loadObject, saveObject, type Obj, type Operation, type ResourceDef } from './define.js';
import { customers } from './customers.js';
import { redeemCoupon } from './coupons.js';
import { redeemPromotionCode } from './promotion-codes.js';
import type { RedemptionContext } from '../engine/billing/discounts.js';

registerNestedExpandable('discount', ['source', 'source.coupon']);

/** What a discount is attached to; every other holder field is null. */
export interface DiscountHolder {
  customer?: string | null;
  subscription?: string | null;
  subscription_item?: string | null;
  invoice?: string | null;
  invoice_item?: string | null;
  checkout_session?: string | null;
}

/** A discount object in the current shape, `start` now and `end` from the coupon's duration. */
export function buildDiscount(ctx: WriteContext, coupon: Obj, promotionCode: string | null, holder: DiscountHolder): Obj {
  const start = ctx.now();
  return {
    checkout_session: holder.checkout_session ?? null,
    customer: holder.customer ?? null,
    customer_account: null,
    end: discountEnd(coupon, start),
    id: ctx.services.ids.id('di'),
    invoice: holder.invoice ?? null,
    invoice_item: holder.invoice_item ?? null,
    object: 'discount',
    promotion_code: promotionCode,
    source: { coupon: coupon.id, type: 'coupon' },
    start,
    subscription: holder.subscription ?? null,
    subscription_item: holder.subscription_item ?? null,
  };
}

/** A removed discount as the DELETE endpoints answer it (no `end`, `deleted: true`). */
export function deletedDiscount(d: Obj): Obj {
  const { end: _end, ...rest } = d;
  return { ...rest, deleted: true };
}

/**
 * Applies a coupon or promotion code to a customer, replacing any discount it had: redeems it
 * (every restriction checked, times_redeemed counted), sets `customer.discount`, and emits
 * customer.discount.created (customer.discount.updated when it replaces one) and
 * customer.updated. `params` names the request parameters for errors.
 */
export async function applyCustomerDiscount(
  ctx: WriteContext, customerId: string, source: { coupon?: string; promotion_code?: string },
  redemption: Omit<RedemptionContext, 'now' | 'customer'> = {}, params = { coupon: 'coupon', promotion_code: 'promotion_code' },
): Promise<Obj> {
  const current = await loadObject(ctx, customers, customerId, 'customer', true);
  let coupon: Obj;
  let promo: string | null = null;
  if (source.coupon !== undefined && source.promotion_code !== undefined) {
    throw invalidRequest('You may only specify one of these parameters: coupon, promotion_code.', params.coupon);
  }
  if (source.promotion_code !== undefined) {
    const code = await redeemPromotionCode(ctx, source.promotion_code, { ...redemption, customer: customerId }, params.promotion_code);
    coupon = (await ctx.db.get(ctx.scope, code.promotion.coupon))!.data;
    promo = code.id;
  } else if (source.coupon !== undefined) {
    coupon = await redeemCoupon(ctx, source.coupon, params.coupon);
  } else {
    throw invalidRequest('You must pass either `coupon` or `promotion_code`.', params.coupon);
  }
  const discount = buildDiscount(ctx, coupon, promo, { customer: customerId });
  // "customer.discount.updated: Occurs whenever a customer is switched from one coupon to another."
  if (current.data.discount) await emitEvent(ctx, 'customer.discount.updated', discount, previousAttributes(current.data.discount, discount));
  else await emitEvent(ctx, 'customer.discount.created', discount);
  await saveObject(ctx, customers, current, { ...current.data, discount });
  return discount;
}

/** Removes a customer's discount: customer.discount.deleted, then customer.updated. */
export async function removeCustomerDiscount(ctx: WriteContext, customerId: string): Promise<Obj> {
  const current = await loadObject(ctx, customers, customerId, 'id', true);
  const discount = current.data.discount;
  // Stripe-style wording of our own; 404 as for a missing sub-resource.
  if (!discount) throw invalidRequest(`No active discount for customer: ${customerId}`, undefined, 'resource_missing', 404);
  const removed = deletedDiscount(discount);
  await emitEvent(ctx, 'customer.discount.deleted', removed);
  await saveObject(ctx, customers, current, { ...current.data, discount: null });
  return removed;
}

/** The routes of customer discounts (a family of its own so customers.ts stays untouched). */
export const customerDiscounts: ResourceDef = {
  object: 'discount',
  prefix: 'di',
  path: '/v1/customers/{customer}/discount',
  standard: { create: false, retrieve: false, update: false, delete: false, list: false, search: false },
  operations: (): Operation[] => [{
    method: 'DELETE', path: '/v1/customers/{id}/discount', write: true,
    handler: (ctx, _params, path) => removeCustomerDiscount(ctx as WriteContext, path.id!),
  }],
};
