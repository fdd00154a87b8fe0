// Legacy Charges API — https://docs.stripe.com/api/charges/create — charges.create with a
// `source` (tok_* test tokens, stored tokens, a customer's card or default source) through
// the same card network, capture=false and POST /v1/charges/{id}/capture. PaymentIntent
// charges are captured through their PaymentIntent.
import { StripeError, invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import { shipping } from '../api/shapes.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { cardFee, recordBalanceTransaction } from '../engine/ledger.js';
import { authorize, cardError, checkAmount, checkCurrency, loadCardRef, paymentMethodCard } from '../engine/payments/index.js';
import { captureChargeRow, charges, insertCharge } from './charges.js';
import { indexEntries } from './define.js';
import { loadCustomer } from './payment-methods.js';
import { publicCard, resolveSource } from './tokens.js';
import type { Obj } from './define.js';

export async function createLegacyCharge(ctx: WriteContext, p: Params): Promise<Obj> {
  if (p.amount === undefined) throw invalidRequest('Missing required param: amount.', 'amount', 'parameter_missing');
  if (p.currency === undefined) throw invalidRequest('Missing required param: currency.', 'currency', 'parameter_missing');
  const currency = checkCurrency(p.currency);
  checkAmount(p.amount, currency);
  for (const unsupported of ['application_fee', 'application_fee_amount', 'destination', 'on_behalf_of', 'transfer_data'] as const) {
    if (p[unsupported] !== undefined) throw invalidRequest(`Pinstripe does not support \`${unsupported}\` on charges yet.`, unsupported);
  }
  let customer: string | null = null;
  if (p.customer !== undefined) customer = (await loadCustomer(ctx, p.customer)).id;
  let sourceId: string | undefined = p.source;
  if (sourceId === undefined) {
    if (!customer) throw invalidRequest('Must provide source or customer.', undefined, 'parameter_missing');
    const cus = (await ctx.tx.get(ctx.scope, customer))!.data;
    if (!cus.default_source) throw invalidRequest('Cannot charge a customer that has no active card', 'card', 'missing');
    sourceId = cus.default_source as string;
  }
  const card = await resolveSource(ctx, sourceId, sourceId.startsWith('card_') ? customer : null);
  const found = (await loadCardRef(ctx, card.id))!;
  const result = authorize(ctx, { card: found.card, ref: found.ref, offSession: false, authenticated: false });
  const captured = p.capture !== false;
  const pmView = {
    id: card.id,
    billing_details: { address: { city: card.address_city, country: card.address_country, line1: card.address_line1, line2: card.address_line2, postal_code: card.address_zip, state: card.address_state }, email: null, name: card.name, phone: null, tax_id: null },
    card: paymentMethodCard(ctx.scope.account, found.card, found.ref, { month: card.exp_month, year: card.exp_year }),
  };
  const common = {
    amount: p.amount, currency, customer, description: p.description ?? null, metadata: applyMetadata({}, p.metadata),
    payment_intent: null, paymentMethod: pmView, threeDS: null, receipt_email: p.receipt_email ?? null,
    shipping: p.shipping ? shipping(p.shipping) : null, statement_descriptor: p.statement_descriptor ?? null,
    statement_descriptor_suffix: p.statement_descriptor_suffix ?? null, transfer_group: p.transfer_group ?? null,
  };
  if (result.status !== 'succeeded') {
    const decline = result.status === 'failed' ? result.decline : 'authentication_required';
    const failed = result.status === 'failed' ? result : { outcome: (await import('../engine/payments/network.js')).declineOutcome(ctx, decline), checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null } };
    const info = cardError(decline).fields;
    const ch = await insertCharge(ctx, { ...common, outcome: failed.outcome, checks: failed.checks, succeeded: false, captured: false, failure: { code: info.code!, message: info.message }, balance_transaction: null });
    await setSource(ctx, ch.id, card);
    throw cardError(decline, { charge: ch.id }).committing();
  }
  const chargeId = ctx.services.ids.id('ch');
  const txn = captured ? await recordBalanceTransaction(ctx, {
    amount: p.amount, currency, type: 'charge', reporting_category: 'charge', source: chargeId, description: p.description ?? null,
    fee: cardFee(p.amount, currency), immediate: !!found.card.behaviour.bypassPending,
  }) : null;
  const review = result.review ? await (await import('./reviews.js')).openReview(ctx, chargeId, null) : null;
  const ch = await insertCharge(ctx, { ...common, id: chargeId, outcome: result.outcome, checks: result.checks, succeeded: true, captured, balance_transaction: txn?.id ?? null, review });
  const result2 = await setSource(ctx, ch.id, card);
  if (!captured) return result2;
  await (await import('./disputes.js')).afterCapture(ctx, ch.id);
  return (await ctx.tx.get(ctx.scope, ch.id))!.data;
}

/** Legacy charges carry their card as `source`. */
async function setSource(ctx: WriteContext, chargeId: string, card: Obj): Promise<Obj> {
  const row = (await ctx.tx.getForUpdate(ctx.scope, chargeId))!;
  const data = canonicalize({ ...row.data, source: publicCard(card) });
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(charges, data) });
  return data;
}

export async function captureCharge(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'charge') throw noSuchResource('charge', id);
  if (row.data.payment_intent) {
    const { capturePaymentIntent } = await import('./payment-intents.js');
    await capturePaymentIntent(ctx, row.data.payment_intent, { amount_to_capture: p.amount, statement_descriptor: p.statement_descriptor, statement_descriptor_suffix: p.statement_descriptor_suffix });
    return (await ctx.tx.get(ctx.scope, id))!.data;
  }
  const ch = structuredClone(row.data);
  if (ch.status !== 'succeeded') throw invalidRequest(`Charge ${id} cannot be captured because it has a status of ${ch.status}.`);
  if (ch.captured) throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_already_captured', message: `Charge ${id} has already been captured.` });
  if (ch.refunded) throw new StripeError(400, { type: 'invalid_request_error', code: 'charge_already_refunded', message: `Charge ${id} has already been refunded.` });
  const amount: number = p.amount ?? ch.amount;
  if (amount > ch.amount) throw invalidRequest(`Amount must be no more than the uncaptured amount (${ch.amount}).`, 'amount', 'amount_too_large');
  if (p.receipt_email !== undefined) ch.receipt_email = p.receipt_email;
  await captureChargeRow(ctx, row, ch, amount);
  return (await ctx.tx.get(ctx.scope, id))!.data;
}
