// Disputes from the dispute test cards: funds withdrawn with the $15 fee, evidence that wins
// or loses, close, inquiries, early fraud warnings.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
async function disputed(s: Stripe, pm: string, amount = 5000) {
  const pi = await s.paymentIntents.create({ amount, currency: 'usd', ...card, payment_method: pm, confirm: true });
  const list = await s.disputes.list({ payment_intent: pi.id });
  return { pi, dispute: list.data[0] };
}

describe('disputes', () => {
  test('pm_card_createDispute: needs_response, charge disputed, funds withdrawn with the fee; winning evidence reinstates', async () => {
    const s = t.stripe(freshKey());
    const { pi, dispute } = await disputed(s, 'pm_card_createDispute');
    assert.ok(dispute);
    assert.match(dispute.id, /^du_/);
    assert.deepEqual([dispute.status, dispute.reason, dispute.amount, dispute.charge, dispute.is_charge_refundable], ['needs_response', 'fraudulent', 5000, pi.latest_charge, false]);
    assert.equal(dispute.balance_transactions.length, 1);
    const w = dispute.balance_transactions[0]!;
    assert.deepEqual([w.amount, w.fee, w.net, w.type, w.reporting_category], [-5000, 1500, -6500, 'adjustment', 'dispute']);
    assert.deepEqual(w.fee_details.map((f) => [f.amount, f.description]), [[1500, 'Dispute fee']]);
    assert.equal((await s.charges.retrieve(pi.latest_charge as string)).disputed, true);
    const staged = await s.disputes.update(dispute.id, { evidence: { customer_name: 'Jenny' }, metadata: { k: 'v' }, submit: false });
    assert.deepEqual([staged.status, staged.evidence.customer_name, staged.evidence_details.has_evidence, staged.evidence_details.submission_count], ['needs_response', 'Jenny', true, 0]);
    const won = await s.disputes.update(dispute.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    assert.equal(won.status, 'won');
    assert.equal(won.balance_transactions.length, 2);
    // Winning credits the amount and the dispute fee (https://docs.stripe.com/testing#evidence).
    const back = won.balance_transactions[1] as Stripe.BalanceTransaction;
    assert.deepEqual([back.amount, back.fee, back.net, back.reporting_category], [5000, -1500, 6500, 'dispute_reversal']);
    await assert.rejects(s.disputes.update(dispute.id, { evidence: { customer_name: 'x' } }), (e: any) => e.statusCode === 400);
    const types = (await s.events.list({ limit: 100 })).data.map((e) => e.type).reverse();
    for (const ty of ['charge.dispute.created', 'charge.dispute.funds_withdrawn', 'charge.dispute.updated', 'charge.dispute.closed', 'charge.dispute.funds_reinstated']) assert.ok((types as string[]).includes(ty), ty);
    const bal = await s.balance.retrieve();
    // 5000 - 175 fee pending; -6500 + 6500 available.
    assert.equal(bal.available[0]!.amount, 0);
  });

  test('losing evidence loses; close accepts (lost); product_not_received reason', async () => {
    const s = t.stripe(freshKey());
    const { pi, dispute } = await disputed(s, 'pm_card_createDispute');
    // A charged-back charge cannot be refunded; an inquiry's can.
    await assert.rejects(s.refunds.create({ payment_intent: pi.id }),
      (e: any) => e.statusCode === 400 && e.code === 'charge_disputed' && e.message === `Charge ${pi.latest_charge} has been charged back; cannot issue a refund.`);
    const { pi: inq } = await disputed(s, 'pm_card_createDisputeInquiry');
    assert.equal((await s.refunds.create({ payment_intent: inq.id, amount: 100 })).status, 'succeeded');
    const lost = await s.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'losing_evidence' } });
    assert.equal(lost.status, 'lost');
    const { dispute: pnr } = await disputed(s, 'pm_card_createDisputeProductNotReceived');
    assert.equal(pnr!.reason, 'product_not_received');
    const closed = await s.disputes.close(pnr!.id);
    assert.equal(closed.status, 'lost');
    await assert.rejects(s.disputes.close(pnr!.id), (e: any) => e.statusCode === 400);
    await assert.rejects(s.disputes.retrieve('du_nope'), (e: any) => e.statusCode === 404 && e.message === "No such dispute: 'du_nope'");
  });

  test('inquiry: warning_needs_response, no funds move, closes as warning_closed', async () => {
    const s = t.stripe(freshKey());
    const { dispute } = await disputed(s, 'pm_card_createDisputeInquiry');
    assert.deepEqual([dispute!.status, dispute!.balance_transactions.length, dispute!.payment_method_details!.card!.case_type], ['warning_needs_response', 0, 'inquiry']);
    const closed = await s.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    assert.equal(closed.status, 'warning_closed');
  });

  test('escalate_inquiry_evidence turns an inquiry into a chargeback that withdraws the amount and the fee; losing_evidence closes an inquiry', async () => {
    const s = t.stripe(freshKey());
    const { dispute } = await disputed(s, 'pm_card_createDisputeInquiry', 4000);
    const staged = await s.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'escalate_inquiry_evidence' }, submit: false });
    assert.equal(staged.status, 'warning_needs_response');
    const esc = await s.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'escalate_inquiry_evidence' } });
    assert.deepEqual([esc.status, esc.payment_method_details!.card!.case_type, esc.is_charge_refundable, esc.balance_transactions.length], ['needs_response', 'chargeback', false, 1]);
    const w = esc.balance_transactions[0]!;
    assert.deepEqual([w.amount, w.fee, w.net, w.reporting_category], [-4000, 1500, -5500, 'dispute']);
    const ev = (await s.events.list({ type: 'charge.dispute.funds_withdrawn' })).data;
    assert.deepEqual(ev.map((e) => (e.data.object as Stripe.Dispute).id), [dispute!.id]);
    const upd = (await s.events.list({ type: 'charge.dispute.updated' })).data[0]!;
    assert.equal((upd.data.previous_attributes as any).status, 'warning_needs_response');
    // Now a chargeback: winning evidence wins it and credits amount and fee.
    const won = await s.disputes.update(dispute!.id, { evidence: { uncategorized_text: 'winning_evidence' } });
    assert.equal(won.status, 'won');
    assert.equal((await s.balance.retrieve()).available[0]!.amount, 0);
    const { dispute: other } = await disputed(s, 'pm_card_createDisputeInquiry');
    const closed = await s.disputes.update(other!.id, { evidence: { uncategorized_text: 'losing_evidence' } });
    assert.deepEqual([closed.status, closed.balance_transactions.length], ['warning_closed', 0]);
  });

  test("the other dispute cards of Stripe's testing page: multiple disputes, Visa CE 3.0, Visa / Mastercard compliance, smart and prevention cards", async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const pi = await s.paymentIntents.create({ amount: 3000, currency: 'usd', ...card, payment_method: 'pm_card_createMultipleDisputes', confirm: true });
    const two = (await s.disputes.list({ payment_intent: pi.id })).data;
    assert.equal(two.length, 2);
    assert.ok(two.every((d) => d.status === 'needs_response' && d.amount === 3000 && d.balance_transactions.length === 1));
    assert.equal((await s.events.list({ type: 'charge.dispute.funds_withdrawn' })).data.length, 2);
    const { dispute: ce3 } = await disputed(s, 'pm_card_createCe3EligibleDispute');
    assert.deepEqual([ce3!.reason, ce3!.enhanced_eligibility_types, (ce3!.evidence_details.enhanced_eligibility as any).visa_compelling_evidence_3.status], ['fraudulent', ['visa_compelling_evidence_3'], 'requires_action']);
    const { dispute: visa } = await disputed(s, 'pm_card_createComplianceDispute');
    assert.deepEqual([visa!.reason, visa!.enhanced_eligibility_types, visa!.payment_method_details!.card!.case_type], ['noncompliant', ['visa_compliance'], 'compliance']);
    const { dispute: mc } = await disputed(s, 'pm_card_createMastercardComplianceDispute');
    assert.deepEqual([mc!.reason, mc!.enhanced_eligibility_types, mc!.payment_method_details!.card!.brand], ['noncompliant', ['mastercard_compliance'], 'mastercard']);
    for (const pm of ['pm_card_createAutoRepresentmentEligibleDispute', 'pm_card_createRapidDisputeResolutionDispute', 'pm_card_createCe3BlockDispute', 'pm_card_createEthocaAlert']) {
      const { dispute } = await disputed(s, pm);
      assert.deepEqual([dispute?.status, dispute?.reason], ['needs_response', 'fraudulent'], pm);
    }
    // By number too (Stripe.js with a publishable key).
    const byNumber = await t.stripe(key.replace('sk_', 'pk_')).paymentMethods.create({ type: 'card', card: { number: '5105008400000002', exp_month: 12, exp_year: 2040, cvc: '123' } });
    const { dispute: fromNumber } = await disputed(s, byNumber.id);
    assert.equal(fromNumber?.reason, 'noncompliant');
  });

  test('early fraud warning card: radar.early_fraud_warning.created; legacy charges dispute too', async () => {
    const alias = t.stripe(freshKey());
    const { pi: viaAlias } = await disputed(alias, 'pm_card_createIssuerFraudRecord');
    assert.equal((await alias.radar.earlyFraudWarnings.list({ charge: viaAlias.latest_charge as string })).data.length, 1);
    const viaTok = await alias.charges.create({ amount: 2000, currency: 'usd', source: 'tok_createIssuerFraudRecord' });
    assert.equal((await alias.radar.earlyFraudWarnings.list({ charge: viaTok.id })).data.length, 1);
    const s = t.stripe(freshKey());
    const { pi } = await disputed(s, 'pm_card_createEarlyFraudWarning');
    const efws = await s.radar.earlyFraudWarnings.list({ charge: pi.latest_charge as string });
    assert.equal(efws.data.length, 1);
    assert.equal(efws.data[0]!.actionable, true);
    assert.ok((await s.events.list()).data.some((e) => e.type === 'radar.early_fraud_warning.created'));
    const ch = await s.charges.create({ amount: 2000, currency: 'usd', source: 'tok_createDispute' });
    assert.equal(ch.disputed, true);
    assert.equal((await s.disputes.list({ charge: ch.id })).data.length, 1);
  });

  test('refunds on Radar\'s side: a full refund makes the early fraud warning non-actionable (radar.early_fraud_warning.updated); a refund closes an open review', async () => {
    const s = t.stripe(freshKey());
    const { pi } = await disputed(s, 'pm_card_createEarlyFraudWarning');
    const efw = (await s.radar.earlyFraudWarnings.list({ charge: pi.latest_charge as string })).data[0]!;
    await s.refunds.create({ payment_intent: pi.id, amount: 1000 });
    assert.equal((await s.radar.earlyFraudWarnings.retrieve(efw.id)).actionable, true, 'a partial refund leaves it actionable');
    await s.refunds.create({ payment_intent: pi.id });
    assert.equal((await s.radar.earlyFraudWarnings.retrieve(efw.id)).actionable, false);
    const up = (await s.events.list({ type: 'radar.early_fraud_warning.updated' })).data;
    assert.equal(up.length, 1);
    assert.deepEqual([(up[0]!.data.object as any).id, (up[0]!.data.object as any).actionable, (up[0]!.data.previous_attributes as any).actionable], [efw.id, false, true]);

    const r1 = await s.paymentIntents.create({ amount: 1500, currency: 'usd', ...card, payment_method: 'pm_card_riskLevelElevated', confirm: true });
    const r2 = await s.paymentIntents.create({ amount: 1500, currency: 'usd', ...card, payment_method: 'pm_card_riskLevelElevated', confirm: true });
    await s.refunds.create({ payment_intent: r1.id, amount: 100 });
    await s.refunds.create({ payment_intent: r2.id, reason: 'fraudulent' });
    const [v1, v2] = [await s.reviews.retrieve(r1.review as string), await s.reviews.retrieve(r2.review as string)];
    assert.deepEqual([v1.open, v1.closed_reason, v1.reason], [false, 'refunded', 'refunded']);
    assert.deepEqual([v2.open, v2.closed_reason], [false, 'refunded_as_fraud']);
    const closed = (await s.events.list({ type: 'review.closed' })).data.map((e) => (e.data.object as any).id).sort();
    assert.deepEqual(closed, [v1.id, v2.id].sort());
    await s.refunds.create({ payment_intent: r1.id, amount: 100 });
    assert.equal((await s.events.list({ type: 'review.closed' })).data.length, 2, 'a closed review is not closed again');
    await assert.rejects(s.reviews.approve(v1.id), (e: any) => e.statusCode === 400);
  });
});
