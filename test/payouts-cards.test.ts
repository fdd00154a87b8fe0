// Payouts to debit cards (Stripe's payout test cards), Instant Payouts (eligibility, currency,
// instant_available with advance funding, the fee, arrival now), and ACH disputes
// (pm_usBankAccount_dispute / 000555555559: final, no evidence, mandate invalidated).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Stripe from 'stripe';
import { FrozenClock } from '../src/api/clock.js';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';
import { PAYMENTS_EPOCH, runDueFor } from './helpers/timers.js';

let t: TestServer;
let clock: FrozenClock;
before(async () => { clock = new FrozenClock(PAYMENTS_EPOCH + 50 * 86_400); t = await startTestServer({ clock, schedulerTickMs: false }); });
after(() => t.close());

const pay = (s: Stripe, amount: number, pm = 'pm_card_bypassPending') =>
  s.paymentIntents.create({ amount, currency: 'usd', payment_method_types: ['card'], payment_method: pm, confirm: true } as any);

describe('payouts to debit cards', () => {
  test("Stripe's payout test cards: success, could_not_process failure, credit/prepaid refused, stored card tokens", async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await pay(s, 50_000);
    const start = (await s.balance.retrieve()).available[0]!.amount;

    const ok = await s.payouts.create({ amount: 1000, currency: 'usd', destination: 'tok_visa_debit_us_transferSuccess' });
    assert.deepEqual([ok.type, ok.status, ok.method], ['card', 'pending', 'standard']);
    assert.match(ok.destination as string, /^card_/);
    const card = (await s.payouts.retrieve(ok.id, { expand: ['destination'] })).destination as Stripe.Card;
    assert.deepEqual([card.id, card.object, card.brand, card.funding, card.last4, card.available_payout_methods], [ok.destination, 'card', 'Visa', 'debit', '5556', ['standard', 'instant']]);
    assert.ok(!JSON.stringify(card).includes('4000056655665556'));
    const mc = await s.payouts.create({ amount: 1000, currency: 'usd', destination: 'tok_mastercard_debit_us_transferSuccess' });
    const disc = await s.payouts.create({ amount: 1000, currency: 'usd', destination: 'tok_discover_debit_us_transferSuccess' });
    const fail = await s.payouts.create({ amount: 2000, currency: 'usd', destination: 'tok_visa_debit_us_transferFail' });
    assert.deepEqual([fail.type, fail.status, fail.failure_code], ['card', 'pending', null]);
    // The card becomes a reusable external account.
    const again = await s.payouts.create({ amount: 500, currency: 'usd', destination: ok.destination as string });
    assert.equal(again.destination, ok.destination);
    assert.deepEqual((await s.payouts.list({ destination: ok.destination as string })).data.map((p) => p.id).sort(), [ok.id, again.id].sort());

    for (const tok of ['tok_visa', 'tok_mastercard_prepaid', 'tok_amex']) {
      await assert.rejects(s.payouts.create({ amount: 100, currency: 'usd', destination: tok }),
        (e: any) => e.statusCode === 400 && e.code === 'invalid_card_type' && e.param === 'destination' && /non-prepaid debit card/.test(e.message), tok);
    }
    await assert.rejects(s.payouts.create({ amount: 100, currency: 'usd', destination: 'card_nope' }), (e: any) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'destination');
    await assert.rejects(s.payouts.create({ amount: 100, currency: 'usd', destination: 'tok_nope' }), (e: any) => e.statusCode === 400 && e.code === 'resource_missing' && e.param === 'destination');

    // A card tokenized as Stripe.js does (publishable key) with the failing payout number.
    const pk = t.stripe(key.replace('sk_test_', 'pk_test_'));
    const tok = await pk.tokens.create({ card: { number: '4000056655665572', exp_month: '12', exp_year: '2040', cvc: '123' } } as any);
    assert.deepEqual([tok.card!.funding, tok.card!.last4], ['debit', '5572']);
    const fromToken = await s.payouts.create({ amount: 700, currency: 'usd', destination: tok.id });
    await assert.rejects(s.payouts.create({ amount: 700, currency: 'usd', destination: tok.id }), (e: any) => e.statusCode === 400 && /more than once/.test(e.message));

    assert.equal((await s.balance.retrieve()).available[0]!.amount, start - 1000 * 3 - 2000 - 500 - 700);
    clock.set(ok.arrival_date + 1);
    await runDueFor(t, key);
    for (const p of [ok, mc, disc, again]) assert.equal((await s.payouts.retrieve(p.id)).status, 'paid');
    for (const [p, amount] of [[fail, 2000], [fromToken, 700]] as const) {
      const failed = await s.payouts.retrieve(p.id);
      assert.deepEqual([failed.status, failed.failure_code, failed.failure_message], ['failed', 'could_not_process', 'The bank could not process this payout.']);
      const back = await s.balanceTransactions.retrieve(failed.failure_balance_transaction as string);
      assert.deepEqual([back.type, back.amount, back.source], ['payout_failure', amount, p.id]);
    }
    assert.equal((await s.balance.retrieve()).available[0]!.amount, start - 1000 * 3 - 500);
    const failedEvents = (await s.events.list({ type: 'payout.failed' })).data.map((e) => (e.data.object as Stripe.Payout).id).sort();
    assert.deepEqual(failedEvents, [fail.id, fromToken.id].sort());
  });
});

describe('instant payouts', () => {
  test('eligible destinations, the 1% fee, arrival now, paid at the next tick, not cancelable', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await pay(s, 100_000); // available 100000 - 2930 = 97070
    const bal0 = await s.balance.retrieve();
    assert.deepEqual(bal0.instant_available, [{ amount: 97_070, currency: 'usd', source_types: { card: 97_070 } }]);

    const po = await s.payouts.create({ amount: 10_000, currency: 'usd', method: 'instant', destination: 'tok_visa_debit_us_transferSuccess' });
    assert.deepEqual([po.method, po.type, po.status, po.arrival_date], ['instant', 'card', 'pending', clock.now()]);
    const txn = await s.balanceTransactions.retrieve(po.balance_transaction as string);
    assert.deepEqual([txn.type, txn.amount, txn.fee, txn.net, txn.status], ['payout', -10_000, 100, -10_100, 'available']);
    assert.deepEqual(txn.fee_details, [{ amount: 100, application: null, currency: 'usd', description: 'Instant Payouts fee', type: 'stripe_fee' }]);
    // The minimum fee, and the default bank account is eligible.
    const small = await s.payouts.create({ amount: 1000, currency: 'usd', method: 'instant' });
    assert.equal((await s.balanceTransactions.retrieve(small.balance_transaction as string)).fee, 50);
    assert.equal(small.type, 'bank_account');
    assert.equal((await s.balance.retrieve()).available[0]!.amount, 97_070 - 10_100 - 1050);
    await assert.rejects(s.payouts.cancel(po.id), (e: any) => e.statusCode === 400 && /Instant Payouts cannot be canceled/.test(e.message));

    await assert.rejects(s.payouts.create({ amount: 1000, currency: 'usd', method: 'instant', destination: 'tok_visa_debit_us_instantPayoutUnsupported' }),
      (e: any) => e.statusCode === 400 && e.code === 'instant_payouts_unsupported' && e.param === 'destination' && /not eligible for Instant Payouts/.test(e.message));
    const bank = (n: string) => s.tokens.create({ bank_account: { country: 'US', currency: 'usd', routing_number: '110000000', account_number: n, account_holder_name: 'J', account_holder_type: 'individual' } } as any);
    const ineligible = await bank('000888888883');
    await assert.rejects(s.payouts.create({ amount: 1000, currency: 'usd', method: 'instant', destination: ineligible.bank_account!.id }),
      (e: any) => e.statusCode === 400 && e.code === 'instant_payouts_unsupported' && /bank account is not eligible/.test(e.message));
    // The same accounts take standard payouts.
    const std = await s.payouts.create({ amount: 1000, currency: 'usd', destination: ineligible.bank_account!.id });
    const ba = (await s.payouts.retrieve(std.id, { expand: ['destination'] })).destination as Stripe.BankAccount;
    assert.deepEqual([ba.id, ba.object, ba.last4, ba.routing_number], [ineligible.bank_account!.id, 'bank_account', '8883', '110000000']);
    const stdCard = await s.payouts.create({ amount: 1000, currency: 'usd', destination: 'tok_visa_debit_us_instantPayoutUnsupported' });
    assert.deepEqual([std.method, stdCard.method], ['standard', 'standard']);
    // A btok_ bank token is a destination too.
    const good = await bank('000123456789');
    const viaBtok = await s.payouts.create({ amount: 1000, currency: 'usd', method: 'instant', destination: good.id });
    assert.equal(viaBtok.destination, good.bank_account!.id);
    await assert.rejects(s.payouts.create({ amount: 1000, currency: 'eur', method: 'instant' }), (e: any) => e.statusCode === 400 && e.code === 'instant_payouts_currency_disabled' && e.param === 'currency');

    await runDueFor(t, key);
    for (const p of [po, small, viaBtok]) assert.equal((await s.payouts.retrieve(p.id)).status, 'paid');
    assert.equal((await s.payouts.retrieve(std.id)).status, 'pending');
    const paid = (await s.events.list({ type: 'payout.paid' })).data.map((e) => (e.data.object as Stripe.Payout).id).sort();
    assert.deepEqual(paid, [po.id, small.id, viaBtok.id].sort());

    // An instant payout to a failing card fails with the card's code.
    const f = await s.payouts.create({ amount: 1000, currency: 'usd', method: 'instant', destination: 'tok_visa_debit_us_transferFail' });
    await runDueFor(t, key);
    assert.deepEqual([(await s.payouts.retrieve(f.id)).status, (await s.payouts.retrieve(f.id)).failure_code], ['failed', 'could_not_process']);
  });

  test('instant_available includes pending card funds: the shortfall is advanced, then funded when the funds arrive', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    await pay(s, 10_000, 'pm_card_visa'); // pending 9680
    await pay(s, 2_000); // available 1912
    let bal = await s.balance.retrieve();
    assert.deepEqual([bal.available[0]!.amount, bal.pending[0]!.amount, bal.instant_available![0]!.amount], [1912, 9680, 11_592]);
    await assert.rejects(s.payouts.create({ amount: 5000, currency: 'usd' }), (e: any) => e.code === 'balance_insufficient');
    // amount + fee must fit in instant_available.
    await assert.rejects(s.payouts.create({ amount: 11_500, currency: 'usd', method: 'instant' }), (e: any) => e.statusCode === 400 && e.code === 'balance_insufficient' && /instant_available/.test(e.message));
    const po = await s.payouts.create({ amount: 5000, currency: 'usd', method: 'instant', destination: 'tok_visa_debit' });
    // fee 50; shortfall 5050 - 1912 = 3138
    const txns = (await s.balanceTransactions.list({ source: po.id })).data;
    const byType = Object.fromEntries(txns.map((x) => [x.type, x]));
    assert.deepEqual(Object.keys(byType).sort(), ['advance', 'advance_funding', 'payout']);
    assert.deepEqual([byType.advance!.amount, byType.advance!.status, byType.advance!.reporting_category], [3138, 'available', 'advance']);
    assert.deepEqual([byType.advance_funding!.amount, byType.advance_funding!.status], [-3138, 'pending']);
    bal = await s.balance.retrieve();
    assert.deepEqual([bal.available[0]!.amount, bal.pending[0]!.amount, bal.instant_available![0]!.amount], [0, 9680 - 3138, 9680 - 3138]);
    clock.set(byType.advance_funding!.available_on + 1);
    await runDueFor(t, key);
    bal = await s.balance.retrieve();
    assert.deepEqual([bal.available[0]!.amount, bal.pending[0]!.amount], [9680 - 3138, 0]);
  });
});

describe('ACH disputes', () => {
  test('pm_usBankAccount_dispute and account 000555555559: the debit succeeds, then a final, lost dispute withdraws the funds and the fee', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const cus = await s.customers.create({ name: 'Jenny' });
    const a = await s.paymentIntents.create({ amount: 8000, currency: 'usd', customer: cus.id, payment_method_types: ['us_bank_account'], payment_method: 'pm_usBankAccount_dispute', confirm: true, mandate_data: { customer_acceptance: { type: 'offline' } } } as any);
    const manual = await s.paymentIntents.create({
      amount: 3000, currency: 'usd', payment_method_types: ['us_bank_account'], confirm: true,
      payment_method_data: { type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number: '000555555559', routing_number: '110000000' }, billing_details: { name: 'J' } },
    } as any);
    const b = await s.paymentIntents.verifyMicrodeposits(manual.id, { amounts: [32, 45] });
    assert.deepEqual([a.status, b.status], ['processing', 'processing']);
    const okPi = await s.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: 'pm_usBankAccount_success', confirm: true, mandate_data: { customer_acceptance: { type: 'offline' } } } as any);
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    assert.equal((await s.disputes.list({ payment_intent: okPi.id })).data.length, 0);

    for (const [pi, amount] of [[a, 8000], [b, 3000]] as const) {
      assert.equal((await s.paymentIntents.retrieve(pi.id)).status, 'succeeded');
      const ch = await s.charges.retrieve(pi.latest_charge as string);
      assert.deepEqual([ch.status, ch.disputed], ['succeeded', true]);
      const [d] = (await s.disputes.list({ charge: ch.id })).data;
      assert.ok(d);
      assert.deepEqual([d.status, d.reason, d.amount, d.payment_intent, d.is_charge_refundable, d.payment_method_details, d.evidence_details.due_by], ['lost', 'debit_not_authorized', amount, pi.id, false, null, null]);
      const w = d.balance_transactions[0]!;
      assert.deepEqual([w.type, w.amount, w.fee, w.net, w.reporting_category, w.status], ['adjustment', -amount, 1500, -amount - 1500, 'dispute', 'available']);
      await assert.rejects(s.disputes.update(d.id, { evidence: { uncategorized_text: 'winning_evidence' } }), (e: any) => e.statusCode === 400 && /bank debit disputes are final/.test(e.message));
      await assert.rejects(s.disputes.close(d.id), (e: any) => e.statusCode === 400 && /already closed/.test(e.message));
      const mandate = await s.mandates.retrieve(ch.payment_method_details!.us_bank_account!.mandate as string);
      assert.equal(mandate.status, 'inactive');
    }
    const okMandate = await s.mandates.retrieve((await s.charges.retrieve(okPi.latest_charge as string)).payment_method_details!.us_bank_account!.mandate as string);
    assert.equal(okMandate.status, 'active');
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type as string).reverse();
    assert.ok(types.filter((x) => x === 'charge.dispute.created').length === 2);
    assert.ok(types.filter((x) => x === 'charge.dispute.funds_withdrawn').length === 2);
    assert.ok(!types.includes('charge.dispute.closed'));
    assert.ok(!types.includes('charge.dispute.funds_reinstated'));
    const disputedEvents = (await s.events.list({ type: 'charge.dispute.created' })).data;
    assert.ok(disputedEvents.every((e) => (e.data.object as Stripe.Dispute).status === 'lost'));
    // Available: only the dispute withdrawals so far (the debits' funds are pending).
    const bal = await s.balance.retrieve();
    assert.equal(bal.available[0]!.amount, -8000 - 1500 - 3000 - 1500);
  });

  test('SEPA test IBANs: the dispute IBAN, the weekly-limit failures, the three-minute accounts; ACH 000777777771', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const sepa = (iban: string) => s.paymentIntents.create({
      amount: 2000, currency: 'eur', payment_method_types: ['sepa_debit'], confirm: true,
      payment_method_data: { type: 'sepa_debit', sepa_debit: { iban }, billing_details: { name: 'J', email: 'j@example.com' } }, mandate_data: { customer_acceptance: { type: 'offline' } },
    } as any);
    const disputedPi = await sepa('AT591904300235473203');
    const volume = await sepa('AT981904300000343434');
    const weekly = await sepa('AT601904300000121212');
    const slowOk = await sepa('AT321904300235473204');
    const slowFail = await sepa('AT051904300235473205');
    const achLimit = await s.paymentIntents.create({
      amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], confirm: true,
      payment_method_data: { type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number: '000777777771', routing_number: '110000000' }, billing_details: { name: 'J' } },
    } as any);
    await s.paymentIntents.verifyMicrodeposits(achLimit.id, { descriptor_code: 'SM11AA' });
    const pmLimit = await s.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: 'pm_usBankAccount_weeklyLimitExceeded', confirm: true, mandate_data: { customer_acceptance: { type: 'offline' } } } as any);
    assert.equal(pmLimit.status, 'processing');
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    assert.equal((await s.paymentIntents.retrieve(disputedPi.id)).status, 'succeeded');
    const [d] = (await s.disputes.list({ payment_intent: disputedPi.id })).data;
    assert.deepEqual([d?.status, d?.currency, d?.amount, d?.balance_transactions[0]!.fee], ['lost', 'eur', 2000, 1500]);
    const ch = await s.charges.retrieve(disputedPi.latest_charge as string);
    assert.equal((await s.mandates.retrieve(ch.payment_method_details!.sepa_debit!.mandate as string)).status, 'inactive');
    for (const [pi, code] of [[volume, 'charge_exceeds_source_limit'], [weekly, 'charge_exceeds_weekly_limit'], [achLimit, 'charge_exceeds_source_limit'], [pmLimit, 'charge_exceeds_source_limit']] as const) {
      const got = await s.paymentIntents.retrieve(pi.id);
      assert.deepEqual([got.status, got.last_payment_error?.code], ['requires_payment_method', code]);
    }
    // The three-minute accounts are still processing after 11 seconds, settled after 180.
    assert.deepEqual([(await s.paymentIntents.retrieve(slowOk.id)).status, (await s.paymentIntents.retrieve(slowFail.id)).status], ['processing', 'processing']);
    clock.set(clock.now() + 170);
    await runDueFor(t, key);
    assert.deepEqual([(await s.paymentIntents.retrieve(slowOk.id)).status, (await s.paymentIntents.retrieve(slowFail.id)).status], ['succeeded', 'requires_payment_method']);
  });

  test('the failMicrodeposits account (000666666661 / pm_usBankAccount_failMicrodeposits): requires_action, then the payment fails with payment_method_microdeposit_failed', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const byPm = await s.paymentIntents.create({ amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], payment_method: 'pm_usBankAccount_failMicrodeposits', confirm: true, mandate_data: { customer_acceptance: { type: 'offline' } } } as any);
    const byNumber = await s.paymentIntents.create({
      amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], confirm: true,
      payment_method_data: { type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number: '000666666661', routing_number: '110000000' }, billing_details: { name: 'J' } },
    } as any);
    const ok = await s.paymentIntents.create({
      amount: 2000, currency: 'usd', payment_method_types: ['us_bank_account'], confirm: true,
      payment_method_data: { type: 'us_bank_account', us_bank_account: { account_holder_type: 'individual', account_number: '000123456789', routing_number: '110000000' }, billing_details: { name: 'J' } },
    } as any);
    for (const pi of [byPm, byNumber, ok]) assert.deepEqual([pi.status, pi.next_action?.type], ['requires_action', 'verify_with_microdeposits']);
    clock.set(clock.now() + 11);
    await runDueFor(t, key);
    for (const pi of [byPm, byNumber]) {
      const got = await s.paymentIntents.retrieve(pi.id);
      assert.deepEqual([got.status, got.next_action, got.payment_method, got.last_payment_error?.code], ['requires_payment_method', null, null, 'payment_method_microdeposit_failed']);
    }
    assert.equal((await s.paymentIntents.retrieve(ok.id)).status, 'requires_action');
    const failed = (await s.events.list({ type: 'payment_intent.payment_failed' })).data.map((e) => (e.data.object as Stripe.PaymentIntent).id).sort();
    assert.deepEqual(failed, [byPm.id, byNumber.id].sort());
  });
});
