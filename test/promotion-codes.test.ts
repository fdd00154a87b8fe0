// Promotion codes through the official SDK (the current shape: promotion {type, coupon}).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { rejects } from './helpers/errors.js';
import { asAccount as asAccountOf } from './helpers/context.js';
import type { WriteContext } from '../src/api/context.js';
import { redeemPromotionCode } from '../src/resources/promotion-codes.js';
import { redeemCoupon } from '../src/resources/coupons.js';

let t: TestServer;
let clock: FrozenClock;
const T0 = 1_750_000_000;
before(async () => { clock = new FrozenClock(T0); t = await startTestServer({ clock }); });
after(() => t.close());

const account = () => t.stripe(freshKey());

const PROMO_KEYS = ['active', 'code', 'created', 'customer', 'customer_account', 'expires_at', 'id', 'livemode', 'max_redemptions', 'metadata',
  'object', 'promotion', 'restrictions', 'times_redeemed'];

async function eventTypes(s: Stripe): Promise<string[]> {
  return (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
}

describe('promotion codes: create', () => {
  test('every field of the current shape; a code is generated when absent', async () => {
    const s = account();
    const coupon = await s.coupons.create({ percent_off: 20, id: 'TWENTY' });
    const p = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id } });
    assert.deepEqual(Object.keys(p).sort(), PROMO_KEYS);
    assert.match(p.id, /^promo_[A-Za-z0-9]{24}$/);
    assert.equal(p.object, 'promotion_code');
    assert.match(p.code, /^[A-Z0-9]{8}$/);
    assert.equal(p.active, true);
    assert.deepEqual(p.promotion, { coupon: 'TWENTY', type: 'coupon' });
    assert.deepEqual(p.restrictions, { first_time_transaction: false, minimum_amount: null, minimum_amount_currency: null });
    assert.equal(p.customer, null);
    assert.equal(p.customer_account, null);
    assert.equal(p.expires_at, null);
    assert.equal(p.max_redemptions, null);
    assert.equal(p.times_redeemed, 0);
    assert.deepEqual(p.metadata, {});
    assert.equal(p.created, T0);
    assert.deepEqual(await eventTypes(s), ['coupon.created', 'promotion_code.created']);
  });

  test('code, customer, expires_at, max_redemptions and restrictions; promotion.coupon expands', async () => {
    const s = account();
    const coupon = await s.coupons.create({ amount_off: 500, currency: 'usd' });
    const cus = await s.customers.create({ email: 'a@example.com' });
    const p = await s.promotionCodes.create({
      promotion: { type: 'coupon', coupon: coupon.id }, code: 'Fall-20', customer: cus.id, expires_at: T0 + 3600, max_redemptions: 5,
      metadata: { x: 'y' },
      restrictions: { first_time_transaction: true, minimum_amount: 1000, minimum_amount_currency: 'USD', currency_options: { eur: { minimum_amount: 900 } } },
    }, { idempotencyKey: 'abc' });
    assert.equal(p.code, 'Fall-20');
    assert.equal(p.customer, cus.id);
    assert.equal(p.expires_at, T0 + 3600);
    assert.equal(p.max_redemptions, 5);
    // restrictions.currency_options is includable: only returned when expanded, never in events.
    assert.deepEqual(p.restrictions, { first_time_transaction: true, minimum_amount: 1000, minimum_amount_currency: 'usd' });
    const withOptions = await s.promotionCodes.retrieve(p.id, { expand: ['restrictions.currency_options'] });
    assert.deepEqual(withOptions.restrictions, { currency_options: { eur: { minimum_amount: 900 } }, first_time_transaction: true, minimum_amount: 1000, minimum_amount_currency: 'usd' });
    const listedOptions = await s.promotionCodes.list({ expand: ['data.restrictions.currency_options'] });
    assert.deepEqual(listedOptions.data[0]!.restrictions.currency_options, { eur: { minimum_amount: 900 } });
    const created = (await s.events.list({ type: 'promotion_code.created' })).data[0]!;
    assert.deepEqual((created.data.object as Stripe.PromotionCode).restrictions, p.restrictions);
    const plainCode = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id } });
    assert.deepEqual((await s.promotionCodes.retrieve(plainCode.id, { expand: ['restrictions.currency_options'] })).restrictions.currency_options, {});
    const expanded = await s.promotionCodes.retrieve(p.id, { expand: ['promotion.coupon', 'customer'] });
    assert.equal((expanded.promotion.coupon as Stripe.Coupon).object, 'coupon');
    assert.equal((expanded.promotion.coupon as Stripe.Coupon).id, coupon.id);
    // The expanded coupon hides its includable fields unless they are expanded too.
    assert.equal('currency_options' in (expanded.promotion.coupon as Stripe.Coupon), false);
    assert.equal('applies_to' in (expanded.promotion.coupon as Stripe.Coupon), false);
    const deeper = await s.promotionCodes.retrieve(p.id, { expand: ['promotion.coupon.currency_options'] });
    assert.deepEqual((deeper.promotion.coupon as Stripe.Coupon).currency_options, {});
    assert.equal((expanded.customer as Stripe.Customer).email, 'a@example.com');
    const listed = await s.promotionCodes.list({ expand: ['data.promotion.coupon'] });
    assert.equal((listed.data[0]!.promotion.coupon as Stripe.Coupon).amount_off, 500);
  });

  test('validation messages', async () => {
    const s = account();
    const coupon = await s.coupons.create({ percent_off: 20, redeem_by: T0 + 100 });
    const promotion = { type: 'coupon' as const, coupon: coupon.id };
    await rejects(s.promotionCodes.create({ promotion: { type: 'coupon' } }), { status: 400, message: 'Missing required param: promotion[coupon].', param: 'promotion[coupon]', code: 'parameter_missing' });
    await rejects(s.promotionCodes.create({ promotion: { type: 'coupon', coupon: 'NOPE' } }), { status: 400, message: "No such coupon: 'NOPE'", param: 'promotion[coupon]', code: 'resource_missing' });
    await rejects(s.promotionCodes.create({ coupon: coupon.id } as any), { status: 400, message: 'Received unknown parameter: coupon', param: 'coupon', code: 'parameter_unknown' });
    await rejects(s.promotionCodes.create({ promotion, customer: 'cus_nope' }), { status: 400, message: "No such customer: 'cus_nope'", param: 'customer', code: 'resource_missing' });
    await rejects(s.promotionCodes.create({ promotion, code: 'no spaces' }), { status: 400, message: 'Promotion codes may only contain letters (a-z, A-Z), digits (0-9) and dashes (-).', param: 'code' });
    await rejects(s.promotionCodes.create({ promotion, expires_at: T0 }), { status: 400, message: 'The `expires_at` timestamp must be in the future.', param: 'expires_at' });
    await rejects(s.promotionCodes.create({ promotion, expires_at: T0 + 101 }), { status: 400, message: "The promotion code's `expires_at` may not be later than its coupon's `redeem_by`.", param: 'expires_at' });
    await rejects(s.promotionCodes.create({ promotion, max_redemptions: 0 }), { status: 400, message: 'Invalid positive integer', param: 'max_redemptions', code: 'parameter_invalid_integer' });
    await rejects(s.promotionCodes.create({ promotion, restrictions: { minimum_amount: 100 } }), { status: 400, message: 'Missing required param: restrictions[minimum_amount_currency].', param: 'restrictions[minimum_amount_currency]', code: 'parameter_missing' });
    await rejects(s.promotionCodes.create({ promotion, restrictions: { minimum_amount: 100, minimum_amount_currency: 'usd', currency_options: { usd: { minimum_amount: 1 } } } }), { status: 400, message: /matches `minimum_amount_currency`/, param: 'restrictions[currency_options][usd]' });
    clock.set(T0 + 101);
    await rejects(s.promotionCodes.create({ promotion }), { status: 400, message: `Coupon ${coupon.id} is no longer valid and cannot be used to create a promotion code.`, param: 'promotion[coupon]' });
    clock.set(T0);
  });

  test('codes are unique regardless of case among active codes of overlapping customers', async () => {
    const s = account();
    const coupon = await s.coupons.create({ percent_off: 5 });
    const promotion = { type: 'coupon' as const, coupon: coupon.id };
    const a = await s.promotionCodes.create({ promotion, code: 'SAVE' });
    await rejects(s.promotionCodes.create({ promotion, code: 'save' }), { status: 400, message: 'An active promotion code with `code: save` already exists.', param: 'code' });
    const cus = await s.customers.create({});
    await rejects(s.promotionCodes.create({ promotion, code: 'Save', customer: cus.id }), { status: 400, message: 'An active promotion code with `code: Save` already exists.', param: 'code' });
    // An inactive code does not hold the code; reactivating it while another holds it is refused.
    const inactive = await s.promotionCodes.create({ promotion, code: 'save', active: false });
    assert.equal(inactive.active, false);
    await rejects(s.promotionCodes.update(inactive.id, { active: true }), { status: 400, message: 'An active promotion code with `code: save` already exists.', param: 'code' });
    await s.promotionCodes.update(a.id, { active: false });
    assert.equal((await s.promotionCodes.update(inactive.id, { active: true })).active, true);
    // Codes of two different customers do not clash.
    const cus2 = await s.customers.create({});
    await s.promotionCodes.create({ promotion, code: 'MINE', customer: cus.id });
    await s.promotionCodes.create({ promotion, code: 'mine', customer: cus2.id });
  });

  test('concurrent creates of one code (any case), and a reactivation racing a create: exactly one holds the code', async () => {
    const s = account();
    const coupon = await s.coupons.create({ percent_off: 5 });
    const promotion = { type: 'coupon' as const, coupon: coupon.id };
    const codes = ['RACE', 'race', 'Race', 'rAcE', 'RACE', 'race'];
    const results = await Promise.allSettled(codes.map((code) => s.promotionCodes.create({ promotion, code })));
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(results.map((r) => r.status)));
    for (const r of results) if (r.status === 'rejected') assert.match(r.reason.message, /^An active promotion code with `code: \w+` already exists\.$/);
    assert.equal((await s.promotionCodes.list({ code: 'race', active: true })).data.length, 1);

    const dormant = await s.promotionCodes.create({ promotion, code: 'DUEL', active: false });
    const both = await Promise.allSettled([s.promotionCodes.update(dormant.id, { active: true }), s.promotionCodes.create({ promotion, code: 'duel' })]);
    assert.equal(both.filter((r) => r.status === 'fulfilled').length, 1, JSON.stringify(both.map((r) => r.status)));
    assert.equal((await s.promotionCodes.list({ code: 'duel', active: true })).data.length, 1);
  });
});

describe('promotion codes: update and list', () => {
  test('update active, metadata and restrictions[currency_options] with promotion_code.updated; nothing else', async () => {
    const s = account();
    const coupon = await s.coupons.create({ percent_off: 5 });
    const p = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, restrictions: { minimum_amount: 100, minimum_amount_currency: 'usd' } });
    const u = await s.promotionCodes.update(p.id, { active: false, metadata: { a: 'b' }, restrictions: { currency_options: { eur: { minimum_amount: 90 } } }, expand: ['restrictions.currency_options'] });
    assert.equal(u.active, false);
    assert.deepEqual(u.metadata, { a: 'b' });
    assert.deepEqual(u.restrictions.currency_options, { eur: { minimum_amount: 90 } });
    const ev = (await s.events.list({ type: 'promotion_code.updated' })).data;
    assert.equal(ev.length, 1);
    assert.deepEqual((ev[0]!.data as any).previous_attributes.active, true);
    await rejects(s.promotionCodes.update(p.id, { code: 'X' } as any), { status: 400, message: 'Received unknown parameter: code', param: 'code', code: 'parameter_unknown' });
    await assert.rejects(s.promotionCodes.retrieve('promo_missing'), (e: any) => e.statusCode === 404 && e.message === "No such promotion_code: 'promo_missing'");
    // Reactivation is refused once the coupon is deleted.
    await s.coupons.del(coupon.id);
    await rejects(s.promotionCodes.update(p.id, { active: true }), { status: 400, message: `This promotion code cannot be reactivated because its coupon ${coupon.id} is no longer valid.`, param: 'active' });
  });

  test('list filters: active, code (case-insensitive), coupon, customer, created', async () => {
    const s = account();
    const c1 = await s.coupons.create({ percent_off: 5 });
    const c2 = await s.coupons.create({ percent_off: 6 });
    const cus = await s.customers.create({});
    const a = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: c1.id }, code: 'ALPHA' });
    clock.set(clock.now() + 10);
    const b = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: c2.id }, code: 'BETA', customer: cus.id });
    clock.set(clock.now() + 10);
    const c = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: c1.id }, code: 'GAMMA', active: false });
    const ids = async (params: Stripe.PromotionCodeListParams) => (await s.promotionCodes.list(params)).data.map((x) => x.id);
    assert.deepEqual(await ids({}), [c.id, b.id, a.id]);
    assert.deepEqual(await ids({ active: true }), [b.id, a.id]);
    assert.deepEqual(await ids({ active: false }), [c.id]);
    assert.deepEqual(await ids({ code: 'alpha' }), [a.id]);
    assert.deepEqual(await ids({ coupon: c1.id }), [c.id, a.id]);
    assert.deepEqual(await ids({ coupon: c1.id, active: true }), [a.id]);
    assert.deepEqual(await ids({ customer: cus.id }), [b.id]);
    assert.deepEqual(await ids({ created: { gt: a.created } }), [c.id, b.id]);
  });
});

describe('promotion codes: redemption (what discounts on subscriptions and invoices call)', () => {
  const asAccount = <T>(key: string, fn: (ctx: WriteContext) => Promise<T>) => asAccountOf(t, key, fn);

  test('counts on code and coupon; refuses each restriction; the redemption that uses the coupon up is a coupon.updated', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const coupon = await s.coupons.create({ percent_off: 10, max_redemptions: 2 });
    const cus = await s.customers.create({});
    const code = await s.promotionCodes.create({
      promotion: { type: 'coupon', coupon: coupon.id }, code: 'ONCE', max_redemptions: 1, customer: cus.id,
      restrictions: { minimum_amount: 1000, minimum_amount_currency: 'usd' },
    });
    const other = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'OTHER', restrictions: { first_time_transaction: true } });
    const refused = (id: string, r: Parameters<typeof redeemPromotionCode>[2], message: string) =>
      assert.rejects(asAccount(key, (ctx) => redeemPromotionCode(ctx, id, r, 'promotion_code')), (e: any) => e.message === message && e.fields.param === 'promotion_code');
    await refused(code.id, { customer: 'cus_other', amount: 5000, currency: 'usd' }, 'This promotion code (ONCE) cannot be redeemed by this customer.');
    await refused(code.id, { customer: cus.id, amount: 999, currency: 'usd' }, 'This promotion code (ONCE) requires a minimum purchase amount that has not been met.');
    await refused(other.id, { customerHasPriorTransactions: true }, 'This promotion code (OTHER) can only be redeemed by first-time customers.');
    await refused('promo_nope', {}, "No such promotion code: 'promo_nope'");
    const redeemed = await asAccount(key, (ctx) => redeemPromotionCode(ctx, code.id, { customer: cus.id, amount: 1000, currency: 'usd' }, 'promotion_code'));
    assert.equal(redeemed.times_redeemed, 1);
    assert.equal((await s.promotionCodes.retrieve(code.id)).times_redeemed, 1);
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 1);
    assert.equal((await s.coupons.retrieve(coupon.id)).valid, true);
    await refused(code.id, { customer: cus.id, amount: 1000, currency: 'usd' }, 'This promotion code (ONCE) has reached its maximum number of redemptions.');
    await asAccount(key, (ctx) => redeemPromotionCode(ctx, other.id, { customerHasPriorTransactions: false }, 'promotion_code'));
    const used = await s.coupons.retrieve(coupon.id);
    assert.equal(used.times_redeemed, 2);
    assert.equal(used.valid, false);
    const updates = (await s.events.list({ type: 'coupon.updated' })).data;
    assert.equal(updates.length, 1);
    assert.deepEqual((updates[0]!.data as any).previous_attributes, { times_redeemed: 1, valid: true });
    await refused(other.id, {}, 'The coupon of promotion code OTHER has reached its maximum number of redemptions.');
    await assert.rejects(asAccount(key, (ctx) => redeemCoupon(ctx, coupon.id, 'coupon')), (e: any) => e.message === `Coupon ${coupon.id} has reached its maximum number of redemptions.` && e.fields.param === 'coupon');
  });

  test('concurrent redemptions never exceed max_redemptions of the code or of its coupon', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const coupon = await s.coupons.create({ percent_off: 10, max_redemptions: 3 });
    const code = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'FEW', max_redemptions: 2 });
    const other = await s.promotionCodes.create({ promotion: { type: 'coupon', coupon: coupon.id }, code: 'MANY' });
    const tries = [code.id, code.id, code.id, other.id, other.id, other.id, code.id, other.id];
    const results = await Promise.allSettled(tries.map((id) => asAccount(key, (ctx) => redeemPromotionCode(ctx, id, {}, 'promotion_code'))));
    const ok = tries.filter((_, i) => results[i]!.status === 'fulfilled');
    assert.equal(ok.length, 3, 'the coupon allows three');
    assert.ok(ok.filter((id) => id === code.id).length <= 2, 'the code allows two');
    assert.equal((await s.coupons.retrieve(coupon.id)).times_redeemed, 3);
    assert.equal((await s.promotionCodes.retrieve(code.id)).times_redeemed + (await s.promotionCodes.retrieve(other.id)).times_redeemed, 3);
  });
});
