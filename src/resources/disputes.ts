// Disputes — https://docs.stripe.com/api/disputes — opened by the dispute test cards right
// after their charge succeeds (https://docs.stripe.com/testing#disputes): fraudulent,
// product_not_received and inquiry; Early Fraud Warnings for pm_card_createEarlyFraudWarning.
// Evidence update, submit (the documented test values `winning_evidence` / `losing_evidence`
// in uncategorized_text decide the outcome), close (accept → lost). Funds: a dispute withdraws
// the amount plus Stripe's $15.00 fee (charge.dispute.funds_withdrawn); a won dispute
// reinstates the amount (charge.dispute.funds_reinstated).
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { recordBalanceTransaction } from '../engine/ledger.js';
import { loadCardRef } from '../engine/payments/index.js';
import { closeReview } from './reviews.js';
import type { StoredObject } from '../store/store.js';
import { charges, eventCharge } from './charges.js';
import { indexEntries, insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';

export const DISPUTE_FEE = 1500;
const EVIDENCE_FIELDS = [
  'access_activity_log', 'billing_address', 'cancellation_policy', 'cancellation_policy_disclosure', 'cancellation_rebuttal',
  'customer_communication', 'customer_email_address', 'customer_name', 'customer_purchase_ip', 'customer_signature',
  'duplicate_charge_documentation', 'duplicate_charge_explanation', 'duplicate_charge_id', 'product_description', 'receipt',
  'refund_policy', 'refund_policy_disclosure', 'refund_refusal_explanation', 'service_date', 'service_documentation',
  'shipping_address', 'shipping_carrier', 'shipping_date', 'shipping_documentation', 'shipping_tracking_number',
  'uncategorized_file', 'uncategorized_text',
];
const CLOSED = ['won', 'lost', 'warning_closed'];

async function write(ctx: WriteContext, def: ResourceDef, row: StoredObject, next: Obj): Promise<Obj> {
  const data = canonicalize(next);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(def, data) });
  return data;
}

/** A fully refunded charge's early fraud warning is no longer actionable (radar.early_fraud_warning.updated). */
export async function settleEarlyFraudWarning(ctx: WriteContext, chargeId: string): Promise<void> {
  const [row] = await ctx.tx.scan(ctx.scope, { type: 'radar.early_fraud_warning', index: { field: 'charge', value: chargeId }, direction: 'older', limit: 1 });
  if (!row || !row.data.actionable) return;
  const data = await write(ctx, earlyFraudWarnings, row, { ...row.data, actionable: false });
  await emitEvent(ctx, 'radar.early_fraud_warning.updated', data, { actionable: true });
}

/** Called after a charge is captured: the dispute and fraud-warning cards act here. */
export async function afterCapture(ctx: WriteContext, chargeId: string): Promise<void> {
  const chRow = await ctx.tx.getForUpdate(ctx.scope, chargeId);
  if (!chRow || !chRow.data.payment_method) return;
  const found = await loadCardRef(ctx, chRow.data.payment_method);
  const kind = found?.card.behaviour.dispute;
  if (!kind) return;
  const ch = chRow.data;
  if (kind === 'early_fraud_warning') {
    const efw: Obj = {
      id: ctx.services.ids.id('issfr'), object: 'radar.early_fraud_warning', actionable: true, charge: ch.id, created: ctx.now(),
      fraud_type: 'made_with_stolen_card', livemode: ctx.scope.livemode, payment_intent: ch.payment_intent,
    };
    await insertObject(ctx, earlyFraudWarnings, efw);
    await emitEvent(ctx, 'radar.early_fraud_warning.created', canonicalize(efw));
    return;
  }
  const inquiry = kind === 'inquiry';
  // createMultipleDisputes: the charge is disputed twice (https://docs.stripe.com/disputes/how-disputes-work#multiple-disputes).
  for (let n = kind === 'multiple' ? 2 : 1; n > 0; n--) {
    const base = newObjectBase(ctx, disputes);
    const amount = ch.amount_captured;
    const compliance = kind === 'noncompliant' ? (ch.payment_method_details.card.brand === 'mastercard' ? 'mastercard_compliance' : 'visa_compliance') : null;
    const reason = kind === 'product_not_received' ? 'product_not_received' : kind === 'inquiry' ? 'general' : kind === 'noncompliant' ? 'noncompliant' : 'fraudulent';
    const dispute: Obj = {
      ...base,
      amount,
      balance_transactions: [],
      charge: ch.id,
      currency: ch.currency,
      enhanced_eligibility_types: kind === 'ce3' ? ['visa_compelling_evidence_3'] : compliance ? [compliance] : [],
      evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])), enhanced_evidence: {} },
      evidence_details: {
        due_by: ctx.now() + 7 * 86400, has_evidence: false, past_due: false, submission_count: 0,
        enhanced_eligibility: kind === 'ce3' ? { visa_compelling_evidence_3: { required_actions: ['missing_customer_identifiers', 'missing_disputed_transaction_description', 'missing_merchandise_or_services', 'missing_prior_undisputed_transaction_description', 'missing_prior_undisputed_transactions'], status: 'requires_action' } }
          : compliance ? { [compliance]: { status: 'requires_fee_acknowledgement' } } : {},
      },
      is_charge_refundable: inquiry,
      metadata: {},
      payment_intent: ch.payment_intent,
      payment_method_details: { card: { brand: ch.payment_method_details.card.brand, case_type: inquiry ? 'inquiry' : kind === 'noncompliant' ? 'compliance' : 'chargeback', network_reason_code: kind === 'product_not_received' ? '13.1' : kind === 'noncompliant' ? null : '10.4' }, type: 'card' },
      reason,
      status: inquiry ? 'warning_needs_response' : 'needs_response',
    };
    if (!inquiry) {
      const txn = await recordBalanceTransaction(ctx, {
        amount: -amount, currency: ch.currency, type: 'adjustment', reporting_category: 'dispute', source: base.id,
        description: `Chargeback withdrawal for ${ch.id}`, fee: DISPUTE_FEE, feeDescription: 'Dispute fee', immediate: true,
      });
      dispute.balance_transactions = [txn];
    }
    const stored = await insertObject(ctx, disputes, dispute);
    await emitEvent(ctx, 'charge.dispute.created', stored);
    if (!inquiry) await emitEvent(ctx, 'charge.dispute.funds_withdrawn', stored);
  }
  const updatedCharge = await write(ctx, charges, chRow, { ...ch, disputed: true });
  await emitEvent(ctx, 'charge.updated', eventCharge(updatedCharge), { disputed: false });
  if (ch.review) await closeReview(ctx, ch.review, 'disputed');
}

/**
 * An ACH Direct Debit the customer's bank returns as unauthorized (pm_usBankAccount_dispute,
 * account 000555555559: https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment#test-account-numbers;
 * SEPA: AT591904300235473203, https://docs.stripe.com/payments/sepa-debit/accept-a-payment#test-integration),
 * right after the debit succeeds. ACH disputes are final (https://support.stripe.com/questions/respond-to-or-contest-an-ach-direct-debit-dispute-as-a-merchant):
 * the dispute opens `lost` with reason debit_not_authorized, takes no evidence, withdraws the
 * amount plus the $15.00 dispute fee at once (charge.dispute.created, charge.dispute.funds_withdrawn),
 * and invalidates the payment's mandate (mandate.updated, status inactive).
 */
export async function openBankDispute(ctx: WriteContext, chargeId: string): Promise<void> {
  const chRow = await ctx.tx.getForUpdate(ctx.scope, chargeId);
  if (!chRow || chRow.data.disputed) return;
  const ch = chRow.data;
  const base = newObjectBase(ctx, disputes);
  const txn = await recordBalanceTransaction(ctx, {
    amount: -ch.amount_captured, currency: ch.currency, type: 'adjustment', reporting_category: 'dispute', source: base.id,
    description: `Chargeback withdrawal for ${ch.id}`, fee: DISPUTE_FEE, feeDescription: 'Dispute fee', immediate: true,
  });
  const dispute: Obj = {
    ...base,
    amount: ch.amount_captured,
    balance_transactions: [txn],
    charge: ch.id,
    currency: ch.currency,
    enhanced_eligibility_types: [],
    evidence: { ...Object.fromEntries(EVIDENCE_FIELDS.map((f) => [f, null])), enhanced_evidence: {} },
    evidence_details: { due_by: null, enhanced_eligibility: {}, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    metadata: {},
    payment_intent: ch.payment_intent,
    payment_method_details: null,
    reason: 'debit_not_authorized',
    status: 'lost',
  };
  const stored = await insertObject(ctx, disputes, dispute);
  await emitEvent(ctx, 'charge.dispute.created', stored);
  await emitEvent(ctx, 'charge.dispute.funds_withdrawn', stored);
  const updatedCharge = await write(ctx, charges, chRow, { ...ch, disputed: true });
  await emitEvent(ctx, 'charge.updated', eventCharge(updatedCharge), { disputed: false });
  const mandateId = ch.payment_method_details?.[ch.payment_method_details?.type]?.mandate;
  const mandate = mandateId ? await ctx.tx.getForUpdate(ctx.scope, mandateId) : null;
  if (mandate && mandate.type === 'mandate' && mandate.data.status !== 'inactive') {
    const { saveObject } = await import('./define.js');
    const { mandates } = await import('./mandates.js');
    await saveObject(ctx, mandates, mandate, { ...mandate.data, status: 'inactive' });
  }
}

const ACH_FINAL = 'This dispute is on a bank debit (ACH or SEPA Direct Debit): bank debit disputes are final and cannot be contested, so evidence cannot be submitted.';
const isBankDispute = (d: Obj) => d.payment_method_details === null && d.reason === 'debit_not_authorized';

async function load(ctx: WriteContext, id: string): Promise<StoredObject> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'dispute') throw noSuchResource('dispute', id);
  return row;
}

async function close(ctx: WriteContext, row: StoredObject, next: Obj, won: boolean): Promise<Obj> {
  const inquiry = next.payment_method_details?.card?.case_type === 'inquiry';
  next.status = inquiry ? 'warning_closed' : won ? 'won' : 'lost';
  next.is_charge_refundable = false;
  if (won && !inquiry) {
    // winning_evidence "credits your account for the amount of the charge and related fees"
    // (https://docs.stripe.com/testing#evidence): the dispute fee comes back as a negative fee.
    const txn = await recordBalanceTransaction(ctx, {
      amount: next.amount, currency: next.currency, type: 'adjustment', reporting_category: 'dispute_reversal', source: next.id,
      description: `Chargeback reversal for ${next.charge}`, fee: -DISPUTE_FEE, feeDescription: 'Dispute fee refund', immediate: true,
    });
    next.balance_transactions = [...next.balance_transactions, txn];
  }
  const saved = await write(ctx, disputes, row, next);
  await emitEvent(ctx, 'charge.dispute.closed', saved);
  if (won && !inquiry) await emitEvent(ctx, 'charge.dispute.funds_reinstated', saved);
  return saved;
}

/**
 * `escalate_inquiry_evidence` on an inquiry (https://docs.stripe.com/testing#evidence): the inquiry
 * becomes a chargeback (needs_response), and the amount plus the dispute fee are withdrawn.
 */
async function escalate(ctx: WriteContext, row: StoredObject, d: Obj): Promise<Obj> {
  const txn = await recordBalanceTransaction(ctx, {
    amount: -d.amount, currency: d.currency, type: 'adjustment', reporting_category: 'dispute', source: d.id,
    description: `Chargeback withdrawal for ${d.charge}`, fee: DISPUTE_FEE, feeDescription: 'Dispute fee', immediate: true,
  });
  Object.assign(d, {
    status: 'needs_response', is_charge_refundable: false, balance_transactions: [...d.balance_transactions, txn],
    payment_method_details: { ...d.payment_method_details, card: { ...d.payment_method_details.card, case_type: 'chargeback' } },
    evidence_details: { ...d.evidence_details, due_by: ctx.now() + 7 * 86400 },
  });
  const saved = await write(ctx, disputes, row, d);
  await emitEvent(ctx, 'charge.dispute.updated', saved, { status: row.data.status, is_charge_refundable: row.data.is_charge_refundable });
  await emitEvent(ctx, 'charge.dispute.funds_withdrawn', saved);
  return saved;
}

async function update(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await load(ctx, id);
  const d = structuredClone(row.data);
  if (isBankDispute(d)) throw invalidRequest(ACH_FINAL);
  if (CLOSED.includes(d.status) || d.status === 'under_review' || d.status === 'warning_under_review') {
    throw invalidRequest(`This dispute is already closed or under review (status: ${d.status}); evidence can no longer be updated.`);
  }
  if (p.evidence) {
    for (const [k, v] of Object.entries(p.evidence)) {
      if (k === 'enhanced_evidence' || k === 'appeal') continue;
      d.evidence[k] = v;
    }
    d.evidence_details.has_evidence = EVIDENCE_FIELDS.some((f) => d.evidence[f] !== null);
  }
  d.metadata = applyMetadata(d.metadata, p.metadata);
  const submit = p.submit !== false;
  if (!submit) {
    const saved = await write(ctx, disputes, row, d);
    const { previousAttributes } = await import('../events/events.js');
    const prev = previousAttributes(row.data, saved);
    if (prev) await emitEvent(ctx, 'charge.dispute.updated', saved, prev);
    return saved;
  }
  d.evidence_details.submission_count += 1;
  const text = String(d.evidence.uncategorized_text ?? '');
  if (text.includes('winning_evidence')) return close(ctx, row, d, true);
  if (text.includes('losing_evidence')) return close(ctx, row, d, false);
  if (text.includes('escalate_inquiry_evidence') && d.payment_method_details?.card?.case_type === 'inquiry') return escalate(ctx, row, d);
  d.status = d.payment_method_details?.card?.case_type === 'inquiry' ? 'warning_under_review' : 'under_review';
  const saved = await write(ctx, disputes, row, d);
  await emitEvent(ctx, 'charge.dispute.updated', saved, { status: row.data.status });
  return saved;
}

export const disputes: ResourceDef = {
  object: 'dispute',
  prefix: 'du',
  path: '/v1/disputes',
  index: (d) => [{ field: 'charge', value: d.charge }, ...(d.payment_intent ? [{ field: 'payment_intent', value: d.payment_intent }] : [])],
  listFilters: (p) => (p.charge !== undefined ? { index: { field: 'charge', value: p.charge } } : p.payment_intent !== undefined ? { index: { field: 'payment_intent', value: p.payment_intent } } : {}),
  standard: { update: false },
  operations: () => [
    { method: 'POST', path: '/v1/disputes/{id}', write: true, handler: (ctx, p, path) => update(ctx as WriteContext, path.id!, p) },
    {
      method: 'POST', path: '/v1/disputes/{id}/close', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!);
        if (CLOSED.includes(row.data.status)) throw invalidRequest(`This dispute is already closed (status: ${row.data.status}).`);
        return close(ctx, row, structuredClone(row.data), false);
      },
    },
  ],
};

export const earlyFraudWarnings: ResourceDef = {
  object: 'radar.early_fraud_warning',
  prefix: 'issfr',
  path: '/v1/radar/early_fraud_warnings',
  index: (w) => [{ field: 'charge', value: w.charge }],
  listFilters: (p) => (p.charge !== undefined ? { index: { field: 'charge', value: p.charge } } : {}),
};
