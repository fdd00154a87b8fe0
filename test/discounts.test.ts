// The pure discount arithmetic (src/engine/billing/discounts.ts) that invoices will call.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  addMonths, allocate, couponDiscountAmount, couponDiscountLines, couponRefusal, couponValid, discountActiveAt, discountEnd,
  minimumAmountIn, percentOf, promotionCodeRefusal,
} from '../src/engine/billing/discounts.js';

const pct = (percent_off: number, extra = {}) => ({ percent_off, amount_off: null, currency: null, times_redeemed: 0, max_redemptions: null, redeem_by: null, ...extra });
const off = (amount_off: number, currency = 'usd', extra = {}) => ({ percent_off: null, amount_off, currency, times_redeemed: 0, max_redemptions: null, redeem_by: null, ...extra });

describe('discounts: amounts', () => {
  test('percent_off rounds half away from zero to the minor unit', () => {
    assert.equal(percentOf(1999, 25.5), 510); // 509.745
    assert.equal(percentOf(1000, 33.333), 333);
    assert.equal(percentOf(5, 10), 1); // 0.5 → 1
    assert.equal(percentOf(4, 10), 0);
    assert.equal(couponDiscountAmount(pct(100), { amount: 1234, currency: 'eur' }), 1234);
    assert.equal(couponDiscountAmount(pct(20), { amount: 0, currency: 'usd' }), 0);
  });

  test('amount_off uses the coupon currency, then currency_options, else does not apply; capped at the amount', () => {
    const c = off(500, 'usd', { currency_options: { eur: { amount_off: 450 } } });
    assert.equal(couponDiscountAmount(c, { amount: 2000, currency: 'usd' }), 500);
    assert.equal(couponDiscountAmount(c, { amount: 2000, currency: 'EUR' }), 450);
    assert.equal(couponDiscountAmount(c, { amount: 2000, currency: 'gbp' }), 0);
    assert.equal(couponDiscountAmount(c, { amount: 300, currency: 'usd' }), 300);
  });

  test('applies_to products restricts the lines it discounts', () => {
    const c = pct(50, { applies_to: { products: ['prod_a'] } });
    assert.equal(couponDiscountAmount(c, { amount: 1000, currency: 'usd', product: 'prod_a' }), 500);
    assert.equal(couponDiscountAmount(c, { amount: 1000, currency: 'usd', product: 'prod_b' }), 0);
    assert.equal(couponDiscountAmount(c, { amount: 1000, currency: 'usd' }), 0);
    assert.equal(couponDiscountAmount(pct(50, { applies_to: { products: [] } }), { amount: 1000, currency: 'usd' }), 500);
  });

  test('allocate splits exactly, in proportion, by largest remainder', () => {
    assert.deepEqual(allocate(100, [1, 1, 1]), [34, 33, 33]);
    assert.deepEqual(allocate(500, [1000, 3000]), [125, 375]);
    assert.deepEqual(allocate(10, [0, 0]), [0, 0]);
    assert.deepEqual(allocate(7, [2, -5, 2]), [4, 0, 3]);
    const parts = allocate(1001, [333, 333, 334, 1]);
    assert.equal(parts.reduce((a, b) => a + b, 0), 1001);
  });

  test('couponDiscountLines: amount_off once over the eligible lines, percent per line', () => {
    const lines = [{ amount: 1000, currency: 'usd', product: 'prod_a' }, { amount: 3000, currency: 'usd', product: 'prod_b' }, { amount: 500, currency: 'usd', product: 'prod_c' }];
    assert.deepEqual(couponDiscountLines(off(800, 'usd', { applies_to: { products: ['prod_a', 'prod_b'] } }), lines), [200, 600, 0]);
    assert.deepEqual(couponDiscountLines(off(10_000), lines), [1000, 3000, 500]);
    assert.deepEqual(couponDiscountLines(pct(10), lines), [100, 300, 50]);
    assert.deepEqual(couponDiscountLines(off(100, 'eur'), lines), [0, 0, 0]);
    assert.deepEqual(couponDiscountLines(off(100), []), []);
  });
});

describe('discounts: redemption rules', () => {
  test('couponRefusal: deleted, redeem_by passed, max_redemptions reached', () => {
    assert.equal(couponRefusal(pct(10), 100), null);
    assert.equal(couponRefusal(pct(10, { deleted: true }), 100), 'deleted');
    assert.equal(couponRefusal(pct(10, { redeem_by: 100 }), 100), null);
    assert.equal(couponRefusal(pct(10, { redeem_by: 100 }), 101), 'expired');
    assert.equal(couponRefusal(pct(10, { max_redemptions: 2, times_redeemed: 1 }), 0), null);
    assert.equal(couponRefusal(pct(10, { max_redemptions: 2, times_redeemed: 2 }), 0), 'max_redemptions');
    assert.equal(couponValid(pct(10, { max_redemptions: 2, times_redeemed: 2 }), 0), false);
  });

  test('promotionCodeRefusal: every restriction', () => {
    const code = (x = {}) => ({ active: true, expires_at: null, max_redemptions: null, times_redeemed: 0, customer: null, restrictions: { first_time_transaction: false, minimum_amount: null, minimum_amount_currency: null }, ...x });
    const c = pct(10);
    assert.equal(promotionCodeRefusal(code(), c, { now: 0 }), null);
    assert.equal(promotionCodeRefusal(code({ active: false }), c, { now: 0 }), 'inactive');
    assert.equal(promotionCodeRefusal(code(), pct(10, { redeem_by: 5 }), { now: 6 }), 'expired');
    assert.equal(promotionCodeRefusal(code({ expires_at: 5 }), c, { now: 6 }), 'code_expired');
    assert.equal(promotionCodeRefusal(code({ max_redemptions: 1, times_redeemed: 1 }), c, { now: 0 }), 'code_max_redemptions');
    assert.equal(promotionCodeRefusal(code({ customer: 'cus_a' }), c, { now: 0, customer: 'cus_b' }), 'customer');
    assert.equal(promotionCodeRefusal(code({ customer: 'cus_a' }), c, { now: 0, customer: 'cus_a' }), null);
    const first = code({ restrictions: { first_time_transaction: true } });
    assert.equal(promotionCodeRefusal(first, c, { now: 0, customerHasPriorTransactions: true }), 'first_time_transaction');
    assert.equal(promotionCodeRefusal(first, c, { now: 0, customerHasPriorTransactions: false }), null);
    const min = code({ restrictions: { first_time_transaction: false, minimum_amount: 1000, minimum_amount_currency: 'usd', currency_options: { eur: { minimum_amount: 900 } } } });
    assert.equal(promotionCodeRefusal(min, c, { now: 0, amount: 999, currency: 'usd' }), 'minimum_amount');
    assert.equal(promotionCodeRefusal(min, c, { now: 0, amount: 1000, currency: 'usd' }), null);
    assert.equal(promotionCodeRefusal(min, c, { now: 0, amount: 899, currency: 'eur' }), 'minimum_amount');
    assert.equal(minimumAmountIn(min, 'gbp'), null);
    assert.equal(promotionCodeRefusal(code(), off(100, 'usd'), { now: 0, amount: 5000, currency: 'eur' }), 'currency');
  });
});

describe('discounts: periods', () => {
  test('addMonths clamps to the end of the month', () => {
    const jan31 = Date.UTC(2025, 0, 31, 12, 30, 5) / 1000;
    assert.equal(addMonths(jan31, 1), Date.UTC(2025, 1, 28, 12, 30, 5) / 1000);
    assert.equal(addMonths(Date.UTC(2024, 0, 31) / 1000, 1), Date.UTC(2024, 1, 29) / 1000);
    assert.equal(addMonths(jan31, 12), Date.UTC(2026, 0, 31, 12, 30, 5) / 1000);
    assert.equal(addMonths(Date.UTC(2025, 10, 15) / 1000, 3), Date.UTC(2026, 1, 15) / 1000);
  });

  test('discountEnd for repeating coupons only; discountActiveAt', () => {
    const start = Date.UTC(2025, 0, 15) / 1000;
    assert.equal(discountEnd({ duration: 'repeating', duration_in_months: 3 }, start), Date.UTC(2025, 3, 15) / 1000);
    assert.equal(discountEnd({ duration: 'forever', duration_in_months: null }, start), null);
    assert.equal(discountEnd({ duration: 'once', duration_in_months: null }, start), null);
    const d = { start, end: start + 100 };
    assert.equal(discountActiveAt(d, start - 1), false);
    assert.equal(discountActiveAt(d, start), true);
    assert.equal(discountActiveAt(d, start + 100), false);
    assert.equal(discountActiveAt({ start, end: null }, start + 1e9), true);
  });
});
