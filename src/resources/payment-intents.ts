// PaymentIntents — https://docs.stripe.com/api/payment_intents
// create (confirm=true), retrieve (publishable key + client_secret), update, confirm, capture,
// cancel, list, search. The state machine:
//   requires_payment_method → requires_confirmation → (requires_action) → requires_capture | succeeded
//   any non-final state → canceled; declines return to requires_payment_method with
//   last_payment_error and a failed Charge. Transitions Stripe refuses are 400
//   payment_intent_unexpected_state. Every attempt goes through the card network
//   (engine/payments) and the ledger.
import { StripeError, invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import { shipping } from '../api/shapes.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { cardFee, recordBalanceTransaction } from '../engine/ledger.js';
import {
  authorize, cardError, checkAmount, checkCurrency, lastPaymentError, loadCardRef, markSetUp, settleThreeDSecure, threeDSNextAction, threeDSecureResult, type ThreeDSIntentKind,
  type NetworkDecline,
} from '../engine/payments/index.js';
import type { StoredObject } from '../store/store.js';
import { cancelTimer, registerTimeHandler, scheduleTimer } from '../engine/scheduler.js';
import { customerTestClock, notifyPaymentIntentFailed, notifyPaymentIntentSucceeded } from '../engine/payments/index.js';
import './bank-debits.js'; // registers the bank debits' settlement timer at load
import { LEGACY_TYPES, cardPaymentMethodData } from './intent-params.js';
import { captureChargeRow, eventCharge, insertCharge } from './charges.js';
import { canonicalize, isCanonical } from '../api/render.js';
import { createFromData, knownCardRef, loadCustomer, resolvePaymentMethod } from './payment-methods.js';
import { indexEntries, insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';
import { charges } from './charges.js';

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE = ['requires_payment_method', 'requires_capture', 'requires_confirmation', 'requires_action', 'processing'];
const UPDATABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const SUPPORTED_TYPES = ['card', 'us_bank_account', 'sepa_debit'];
/**
 * Card authorizations expire if not captured: seven days after they are made, except Visa
 * merchant-initiated (off-session) ones, whose window is 4 days 18 hours
 * (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method).
 */
export const AUTHORIZATION_SECONDS = 7 * 86_400;
export const VISA_MIT_AUTHORIZATION_SECONDS = 4 * 86_400 + 18 * 3600;
/** The scheduler's timer that cancels an intent whose authorization expired uncaptured. */
const EXPIRE_KIND = 'payment_intent.authorization_expire';

const WITH_CARD_DATA = cardPaymentMethodData('/v1/payment_intents/{id}/confirm');

export const RETURN_URL_REQUIRED = 'A `return_url` must be specified because this Payment Intent is configured to automatically accept the payment methods enabled in the Dashboard, some of which may require a full page redirect to succeed. If you do not want to accept redirect-based payment methods, set `automatic_payment_methods[enabled]` to `true` and `automatic_payment_methods[allow_redirects]` to `never` when creating Setup Intents and Payment Intents.';

const list = (xs: readonly string[]) => xs.join(', ');

function unexpectedState(message: string, pi?: Obj): StripeError {
  return new StripeError(400, { type: 'invalid_request_error', code: 'payment_intent_unexpected_state', message, ...(pi ? { payment_intent: pi } : {}) });
}

export const noSuchPaymentIntent = (id: string, param = 'id') => noSuchResource('payment_intent', id, param);

/** Writes the new state of an intent (CAS on version) and emits `eventType` without previous attributes, as Stripe's transition events have none. */
async function savePi(ctx: WriteContext, row: StoredObject | null, next: Obj, eventType?: string): Promise<StoredObject> {
  // Callers hand over an intent they own (a clone of the row, or the one being created): it is
  // copied only if it is not canonical already, and serialised once for the row and the event.
  const data = isCanonical(next) ? next : canonicalize(next);
  const json = JSON.stringify(data);
  // row null: an intent created and confirmed in one request is written once, in its final state.
  const updated = row
    ? await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, json, index: indexEntries(paymentIntents, data) })
    : await ctx.tx.insert(ctx.scope, { id: data.id, type: 'payment_intent', created: data.created, data, json, index: indexEntries(paymentIntents, data) });
  if (eventType) await emitEvent(ctx, eventType, data, undefined, json);
  if (eventType === 'payment_intent.succeeded') await notifyPaymentIntentSucceeded(ctx, data);
  if (eventType === 'payment_intent.payment_failed') await notifyPaymentIntentFailed(ctx, data);
  return { ...updated, data };
}

function paymentMethodOptions(p: Params | undefined, current?: Obj): Obj {
  const card = { installments: null, mandate_options: null, network: null, request_three_d_secure: 'automatic', ...(current?.card ?? {}) };
  const c = p?.card;
  if (c) {
    if (c.request_three_d_secure !== undefined) card.request_three_d_secure = c.request_three_d_secure;
    if (c.network !== undefined) card.network = c.network;
    if (c.capture_method !== undefined) card.capture_method = c.capture_method;
    if (c.setup_future_usage !== undefined) card.setup_future_usage = c.setup_future_usage;
    if (c.request_incremental_authorization !== undefined) card.request_incremental_authorization = c.request_incremental_authorization;
  }
  return { card };
}

function checkTypes(types: string[], param = 'payment_method_types'): string[] {
  for (const [i, t] of types.entries()) {
    if (!SUPPORTED_TYPES.includes(t)) {
      throw invalidRequest(`The payment method type "${t}" is invalid. Please ensure the provided type is activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any preview features that you are trying to use.`, `${param}[${i}]`);
    }
  }
  return types;
}

/** Applies the fields create, update and confirm share. */
/** Applies the parameters create, update and confirm share; returns the PaymentMethod row it resolved, if any. */
async function applyCommon(ctx: WriteContext, pi: Obj, p: Params): Promise<StoredObject | null> {
  if (p.description !== undefined) pi.description = p.description;
  if (p.receipt_email !== undefined) pi.receipt_email = p.receipt_email;
  if (p.shipping !== undefined) pi.shipping = shipping(p.shipping);
  if (p.statement_descriptor !== undefined) pi.statement_descriptor = p.statement_descriptor;
  if (p.statement_descriptor_suffix !== undefined) pi.statement_descriptor_suffix = p.statement_descriptor_suffix;
  if (p.transfer_group !== undefined) pi.transfer_group = p.transfer_group;
  if (p.setup_future_usage !== undefined) pi.setup_future_usage = p.setup_future_usage;
  if (p.capture_method !== undefined) pi.capture_method = p.capture_method;
  if (p.payment_method_options !== undefined) pi.payment_method_options = paymentMethodOptions(p.payment_method_options ?? undefined, pi.payment_method_options);
  const types = p.payment_method_types ?? p.allowed_payment_method_types;
  if (types !== undefined) {
    const param = p.payment_method_types !== undefined ? 'payment_method_types' : 'allowed_payment_method_types';
    pi.payment_method_types = checkTypes(types ?? ['card'], param);
    if (p.allowed_payment_method_types !== undefined) pi.allowed_payment_method_types = pi.payment_method_types;
    pi.automatic_payment_methods = null;
    pi.payment_method_configuration_details = null;
  }
  if (p.customer !== undefined) {
    if (p.customer !== null) await loadCustomer(ctx, p.customer);
    pi.customer = p.customer;
  }
  pi.metadata = applyMetadata(pi.metadata, p.metadata);
  if (p.payment_method_data !== undefined) {
    const pm = await createFromData(ctx, p.payment_method_data, 'payment_method_data');
    pi.payment_method = pm.id;
  } else if (p.payment_method !== undefined) {
    if (p.payment_method === null) pi.payment_method = null;
    else {
      const pmRow = await resolvePaymentMethod(ctx, p.payment_method);
      pi.payment_method = pmRow.id;
      return pmRow;
    }
  }
  return null;
}

export async function createIntent(ctx: WriteContext, p: Params): Promise<Obj> {
  const currency = checkCurrency(p.currency);
  checkAmount(p.amount, currency);
  const explicitTypes = p.payment_method_types !== undefined || p.allowed_payment_method_types !== undefined;
  if (p.automatic_payment_methods !== undefined && explicitTypes) {
    throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', 'automatic_payment_methods');
  }
  if (p.off_session !== undefined && p.off_session !== false && !p.confirm) {
    throw invalidRequest('You can only pass `off_session` when `confirm` is also set to true.', 'off_session');
  }
  if (p.return_url !== undefined && !p.confirm) {
    throw invalidRequest('You can only pass `return_url` when `confirm` is also set to true.', 'return_url');
  }
  for (const unsupported of ['application_fee_amount', 'on_behalf_of', 'transfer_data', 'confirmation_token'] as const) {
    if (p[unsupported] !== undefined) throw invalidRequest(`Pinstripe does not support \`${unsupported}\` on PaymentIntents yet.`, unsupported);
  }
  const base = newObjectBase(ctx, paymentIntents);
  const apm = p.automatic_payment_methods;
  const automatic = !explicitTypes && (apm === undefined || apm?.enabled !== false);
  // In canonical key order (id, object, then alphabetical), as are its nested parts.
  const pi: Obj = {
    id: base.id,
    object: base.object,
    allowed_payment_method_types: null,
    amount: p.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: automatic ? { allow_redirects: apm?.allow_redirects ?? 'always', enabled: true } : null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: `${base.id}_secret_${ctx.services.ids.random(25)}`,
    confirmation_method: p.confirmation_method ?? 'automatic',
    created: base.created,
    currency,
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: base.livemode,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: automatic ? { id: `pmc_${ctx.services.ids.random(24)}`, parent: null } : null,
    payment_method_options: paymentMethodOptions(undefined),
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'requires_payment_method',
    transfer_data: null,
    transfer_group: null,
  };
  if (p.automatic_payment_methods && p.automatic_payment_methods.enabled === false) pi.automatic_payment_methods = null;
  const pmRow = await applyCommon(ctx, pi, p);
  if (pi.payment_method) pi.status = 'requires_confirmation';
  if (!p.confirm) {
    const stored = await insertObject(ctx, paymentIntents, pi);
    await emitEvent(ctx, 'payment_intent.created', stored);
    return stored;
  }
  // Created and confirmed at once: the created event carries the unconfirmed intent, the row is
  // written once with the outcome (a refused confirmation stores the intent as created).
  // `initial` is a canonical copy; `pi` itself goes on to the confirmation, which owns it.
  // A canonical intent is snapshotted as JSON only (the event is built around that text, and a
  // refused confirmation stores the intent parsed back from it).
  const canonical = isCanonical(pi);
  const initialJson = canonical ? JSON.stringify(pi) : undefined;
  const initial = canonical ? null : canonicalize(pi);
  await emitEvent(ctx, 'payment_intent.created', initial ?? pi, undefined, initialJson);
  try {
    return await confirmIntent(ctx, null, { return_url: p.return_url, off_session: p.off_session, error_on_requires_action: p.error_on_requires_action, use_stripe_sdk: p.use_stripe_sdk, mandate_data: p.mandate_data }, true, pi, pmRow);
  } catch (err) {
    if (err instanceof StripeError && !err.commit) {
      await savePi(ctx, null, initial ?? JSON.parse(initialJson!));
      // A refused confirmation still leaves the created intent (Stripe keeps it); the error commits.
      err.commit = true;
    }
    throw err;
  }
}

/**
 * What a publishable key sees of a PaymentIntent (Stripe.js): the fields Stripe documents as
 * retrievable with a publishable key (https://docs.stripe.com/api/payment_intents/object, the
 * stripe-js PaymentIntent type); secret-only fields (customer, metadata, charges, amounts
 * received or capturable, options, …) are left out.
 */
const PUBLISHABLE_FIELDS = [
  'id', 'object', 'amount', 'automatic_payment_methods', 'canceled_at', 'cancellation_reason', 'capture_method', 'client_secret',
  'confirmation_method', 'created', 'currency', 'description', 'last_payment_error', 'livemode', 'next_action', 'payment_method',
  'payment_method_configuration_details', 'payment_method_types', 'processing', 'receipt_email', 'setup_future_usage', 'shipping', 'source', 'status',
];

export function publishableView(ctx: ReadContext, pi: Obj): Obj {
  if (ctx.keyKind !== 'publishable') return pi;
  return Object.fromEntries(PUBLISHABLE_FIELDS.filter((k) => k in pi).map((k) => [k, pi[k]]));
}

/** The Stripe.js path: a publishable key must present the intent's client_secret. */
function checkClientSecret(ctx: ReadContext, pi: Obj, secret: string | undefined): void {
  if (ctx.keyKind !== 'publishable' && secret === undefined) return;
  if (secret === undefined) throw invalidRequest('The client_secret parameter is required when using a publishable key to retrieve this PaymentIntent.', 'client_secret');
  if (secret !== pi.client_secret) throw invalidRequest('The client_secret provided does not match the client_secret associated with the PaymentIntent.', 'client_secret');
}

async function load(ctx: ReadContext, id: string, forUpdate: boolean): Promise<StoredObject> {
  const row = forUpdate && 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'payment_intent' || row.deleted) throw noSuchPaymentIntent(id);
  return row;
}

export interface ConfirmParams {
  payment_method?: string | null;
  payment_method_data?: Params;
  return_url?: string;
  off_session?: boolean | string;
  error_on_requires_action?: boolean;
  use_stripe_sdk?: boolean;
  [k: string]: unknown;
}

/**
 * POST /v1/payment_intents/{id}/confirm and create with confirm=true (`created`: the new
 * intent, which the confirmation may change in place; `pmRow`: its PaymentMethod row, as
 * create just resolved it).
 */
export async function confirmIntent(ctx: WriteContext, row: StoredObject | null, p: Params, fromCreate = false, created?: Obj, pmRow: StoredObject | null = null): Promise<Obj> {
  const pi = row ? structuredClone(row.data) : created!;
  if (!CONFIRMABLE.includes(pi.status)) {
    throw unexpectedState(`You cannot confirm this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be confirmed: ${list(CONFIRMABLE)}.`, pi);
  }
  if (!fromCreate) pmRow = await applyCommon(ctx, pi, p);
  if (!pi.payment_method) {
    throw unexpectedState("You cannot confirm this PaymentIntent because it's missing a payment method. You can either update the PaymentIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.", pi);
  }
  const returnUrl: string | undefined = p.return_url ?? undefined;
  if (pi.automatic_payment_methods?.enabled && pi.automatic_payment_methods.allow_redirects !== 'never' && !returnUrl) {
    throw invalidRequest(RETURN_URL_REQUIRED);
  }
  const offSession = p.off_session === true || p.off_session === 'one_off' || p.off_session === 'recurring';
  return attempt(ctx, row, pi, { authenticated: false, offSession, returnUrl, errorOnRequiresAction: !!p.error_on_requires_action, mandateData: p.mandate_data, pmRow });
}

interface AttemptOptions {
  authenticated: boolean;
  offSession: boolean;
  returnUrl?: string;
  errorOnRequiresAction?: boolean;
  /** mandate_data of the confirmation (bank debits). */
  mandateData?: Params | null;
  /** The PaymentMethod row this request resolved (locked), when it is the intent's: not read again. */
  pmRow?: StoredObject | null;
}

/** One payment attempt with the intent's PaymentMethod: the network decides, the intent moves. */
export async function attempt(ctx: WriteContext, row: StoredObject | null, pi: Obj, o: AttemptOptions): Promise<Obj> {
  const pmRow = o.pmRow?.id === pi.payment_method ? o.pmRow : await ctx.tx.getForUpdate(ctx.scope, pi.payment_method);
  if (!pmRow || pmRow.type !== 'payment_method') throw noSuchResource('PaymentMethod', pi.payment_method, 'payment_method');
  const pm = pmRow.data;
  if (pi.customer && pm.customer && pm.customer !== pi.customer) {
    throw invalidRequest(`The provided PaymentMethod is attached to another customer (${pm.customer}). It can only be used with that customer.`, 'payment_method');
  }
  if (pm.type === 'us_bank_account' || pm.type === 'sepa_debit') {
    const { bankAttempt } = await import('./bank-debits.js');
    return bankAttempt(ctx, pi, pm, async (next, eventType) => (await savePi(ctx, row, next, eventType)).data, o.mandateData);
  }
  const found = knownCardRef(pmRow) ?? await loadCardRef(ctx, pm.id);
  if (!found) throw invalidRequest('This PaymentMethod cannot be used for payments.', 'payment_method');
  const result = authorize(ctx, {
    card: found.card, ref: found.ref, offSession: o.offSession || !!o.errorOnRequiresAction, authenticated: o.authenticated,
    requestThreeDS: pi.payment_method_options?.card?.request_three_d_secure,
  });
  pi.last_payment_error = null;
  pi.next_action = null;

  if (result.status === 'requires_action') {
    pi.status = 'requires_action';
    pi.next_action = threeDSNextAction(ctx, pi, o.returnUrl);
    const saved = await savePi(ctx, row, pi, 'payment_intent.requires_action');
    return saved.data;
  }

  const manual = pi.capture_method === 'manual';
  const threeDS = o.authenticated ? threeDSecureResult(ctx) : null;
  if (result.status === 'failed') {
    const info = cardError(result.decline).fields;
    const charge = await insertCharge(ctx, {
      amount: pi.amount, currency: pi.currency, customer: pi.customer, description: pi.description, metadata: pi.metadata,
      payment_intent: pi.id, paymentMethod: pm, outcome: result.outcome, checks: result.checks, threeDS,
      succeeded: false, captured: false, failure: { code: info.code!, message: info.message }, receipt_email: pi.receipt_email,
      shipping: pi.shipping, statement_descriptor: pi.statement_descriptor, statement_descriptor_suffix: pi.statement_descriptor_suffix,
      transfer_group: pi.transfer_group, balance_transaction: null,
    });
    return decline(ctx, row, pi, pm, result.decline, charge.id);
  }

  // Authorized.
  const chargeId = ctx.services.ids.id('ch');
  const captureBefore = ctx.now() + (o.offSession && pm.card?.brand === 'visa' ? VISA_MIT_AUTHORIZATION_SECONDS : AUTHORIZATION_SECONDS);
  let txn: Obj | null = null;
  if (!manual) {
    txn = await recordBalanceTransaction(ctx, {
      amount: pi.amount, currency: pi.currency, type: 'charge', reporting_category: 'charge', source: chargeId, description: pi.description,
      fee: cardFee(pi.amount, pi.currency), immediate: !!found.card.behaviour.bypassPending,
    });
  }
  const charge = await insertCharge(ctx, {
    id: chargeId,
    ...(manual ? { captureBefore, incrementalAuthorization: incrementalAvailable(pi, pm) } : {}),
    amount: pi.amount, currency: pi.currency, customer: pi.customer, description: pi.description, metadata: pi.metadata,
    payment_intent: pi.id, paymentMethod: pm, outcome: result.outcome, checks: result.checks, threeDS,
    succeeded: true, captured: !manual, receipt_email: pi.receipt_email, shipping: pi.shipping,
    statement_descriptor: pi.statement_descriptor, statement_descriptor_suffix: pi.statement_descriptor_suffix,
    transfer_group: pi.transfer_group, balance_transaction: txn?.id ?? null,
    review: result.review ? await (await import('./reviews.js')).openReview(ctx, chargeId, pi.id) : null,
  });
  if (result.review) pi.review = charge.review;
  if (!manual && found.card.behaviour.dispute) await (await import('./disputes.js')).afterCapture(ctx, charge.id);
  pi.latest_charge = charge.id;
  if (manual) {
    pi.status = 'requires_capture';
    pi.amount_capturable = pi.amount;
    await scheduleTimer(ctx, { kind: EXPIRE_KIND, key: pi.id, at: captureBefore, testClock: await customerTestClock(ctx, pi.customer) });
  } else {
    pi.status = 'succeeded';
    pi.amount_received = pi.amount;
  }
  // setup_future_usage: the PaymentMethod is saved to the customer for later use.
  if (pi.setup_future_usage || pi.payment_method_options?.card?.setup_future_usage) {
    await markSetUp(ctx, pm.id);
    if (pi.customer && !pm.customer) {
      const { attachPaymentMethod } = await import('./payment-methods.js');
      const fresh = (await ctx.tx.getForUpdate(ctx.scope, pm.id))!;
      await attachPaymentMethod(ctx, fresh, pi.customer);
    }
  }
  const saved = await savePi(ctx, row, pi, manual ? 'payment_intent.amount_capturable_updated' : 'payment_intent.succeeded');
  return saved.data;
}

/** A declined attempt: back to requires_payment_method, last_payment_error, 402 that commits. */
async function decline(ctx: WriteContext, row: StoredObject | null, pi: Obj, pm: Obj, code: NetworkDecline, chargeId: string | null): Promise<never> {
  pi.status = 'requires_payment_method';
  pi.last_payment_error = lastPaymentError(code, chargeId, pm);
  pi.latest_charge = chargeId ?? pi.latest_charge;
  pi.payment_method = null;
  const saved = await savePi(ctx, row, pi, 'payment_intent.payment_failed');
  throw cardError(code, { ...(chargeId ? { charge: chargeId } : {}), payment_intent: saved.data, payment_method: pm }).committing();
}

const PAYMENT_INTENT_3DS: ThreeDSIntentKind = {
  name: 'PaymentIntent', errorIntentField: 'payment_intent', errorField: 'last_payment_error',
  failure: {
    code: 'payment_intent_authentication_failure', event: 'payment_intent.payment_failed',
    message: 'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.',
  },
  save: async (ctx, row, pi, eventType) => (await savePi(ctx, row, pi, eventType)).data,
  attempt: (ctx, row, pi, returnUrl) => attempt(ctx, row, pi, { authenticated: true, offSession: false, returnUrl }),
};

/** The 3-D Secure page's outcome: complete continues the attempt, fail returns the intent to requires_payment_method. */
export async function settleThreeDS(ctx: WriteContext, id: string, clientSecret: string, succeed: boolean): Promise<Obj> {
  return settleThreeDSecure(ctx, await load(ctx, id, true), clientSecret, succeed, PAYMENT_INTENT_3DS);
}

/**
 * An authorization expired uncaptured: the funds are released (the charge is refunded in full,
 * charge.expired) and the intent is canceled by Stripe (cancellation_reason automatic).
 */
async function expireAuthorization(ctx: WriteContext, row: StoredObject): Promise<StoredObject> {
  const { releaseAuthorization } = await import('./refunds.js');
  await releaseAuthorization(ctx, row.data.latest_charge);
  const ch = await ctx.tx.get(ctx.scope, row.data.latest_charge);
  if (ch) await emitEvent(ctx, 'charge.expired', eventCharge(ch.data));
  const pi = { ...structuredClone(row.data), status: 'canceled', canceled_at: ctx.now(), cancellation_reason: 'automatic', amount_capturable: 0 };
  return savePi(ctx, row, pi, 'payment_intent.canceled');
}

async function authorizationExpired(ctx: ReadContext, pi: Obj): Promise<boolean> {
  if (pi.status !== 'requires_capture' || !pi.latest_charge) return false;
  const ch = await ctx.db.get(ctx.scope, pi.latest_charge);
  const before = ch?.data.payment_method_details?.card?.capture_before;
  return typeof before === 'number' && before <= ctx.now();
}

registerTimeHandler(EXPIRE_KIND, {
  async run(ctx, item) {
    const row = await ctx.tx.getForUpdate(ctx.scope, item.key);
    if (row && row.type === 'payment_intent' && await authorizationExpired(ctx, row.data)) await expireAuthorization(ctx, row);
  },
});

export async function capturePaymentIntent(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  let row = await load(ctx, id, true);
  if (await authorizationExpired(ctx, row.data)) {
    row = await expireAuthorization(ctx, row);
    throw unexpectedState('This PaymentIntent could not be captured because it has a status of canceled. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.', row.data).committing();
  }
  const pi = structuredClone(row.data);
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(`This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`, pi);
  }
  const amount: number = p.amount_to_capture ?? pi.amount_capturable;
  if (amount > pi.amount_capturable) {
    throw invalidRequest(`The amount to capture (${amount}) must be less than or equal to the amount capturable (${pi.amount_capturable}).`, 'amount_to_capture', 'amount_too_large');
  }
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', 'amount_to_capture');
  const chRow = (await ctx.tx.getForUpdate(ctx.scope, pi.latest_charge))!;
  const ch = structuredClone(chRow.data);
  ch.payment_method_details.card.overcapture.status = 'unavailable';
  if (p.statement_descriptor !== undefined) { pi.statement_descriptor = p.statement_descriptor; ch.statement_descriptor = p.statement_descriptor; }
  if (p.statement_descriptor_suffix !== undefined) { pi.statement_descriptor_suffix = p.statement_descriptor_suffix; ch.statement_descriptor_suffix = p.statement_descriptor_suffix; }
  pi.metadata = applyMetadata(pi.metadata, p.metadata);
  await captureChargeRow(ctx, chRow, ch, amount);
  pi.status = 'succeeded';
  pi.amount_capturable = 0;
  pi.amount_received = amount;
  await cancelTimer(ctx, EXPIRE_KIND, pi.id);
  return (await savePi(ctx, row, pi, 'payment_intent.succeeded')).data;
}

// ---- Incremental authorization (https://docs.stripe.com/payments/incremental-authorization)

/** Card brands Stripe increments online authorizations for. */
const INCREMENTAL_BRANDS = ['visa', 'mastercard', 'amex', 'discover', 'unionpay'];
/** Each PaymentIntent has at most ten incremental authorization attempts, declines included. */
export const MAX_INCREMENT_ATTEMPTS = 10;
const INCREMENTS_TYPE = 'pinstripe.increments';

/** A manual-capture card authorization that asked for incremental authorization support, on a brand that has it. */
function incrementalAvailable(pi: Obj, pm: Obj): boolean {
  return pi.payment_method_options?.card?.request_incremental_authorization === 'if_available' && INCREMENTAL_BRANDS.includes(pm.card?.brand);
}

/**
 * The issuer's answer to an increment: declined when the new total is more than the larger of
 * +$500 (in USD) and +500% over the amount authorized so far.
 */
function incrementApproved(previous: number, amount: number, currency: string): boolean {
  const cap = Math.max(previous * 6, currency === 'usd' ? previous + 50_000 : 0);
  return amount <= cap;
}

async function incrementAuthorization(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await load(ctx, id, true);
  const pi = structuredClone(row.data);
  for (const unsupported of ['application_fee_amount', 'transfer_data'] as const) {
    if (p[unsupported] !== undefined) throw invalidRequest(`Pinstripe does not support \`${unsupported}\` on PaymentIntents yet.`, unsupported);
  }
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(`This PaymentIntent could not be incremented because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be incremented: requires_capture.`, pi);
  }
  const chRow = (await ctx.tx.getForUpdate(ctx.scope, pi.latest_charge))!;
  const ch = structuredClone(chRow.data);
  if (ch.payment_method_details?.card?.incremental_authorization?.status !== 'available') {
    throw new StripeError(400, { type: 'invalid_request_error', message: 'This PaymentIntent is not eligible for incremental authorization because you did not request support using `request_incremental_authorization` when you created or confirmed it.', payment_intent: pi });
  }
  const amount: number = p.amount;
  checkAmount(amount, pi.currency);
  if (amount <= pi.amount) {
    throw invalidRequest(`The amount provided (${amount}) must be greater than the PaymentIntent's current amount (${pi.amount}). An incremental authorization can only increase the authorized amount.`, 'amount');
  }
  // Attempts (declines included) are counted beside the intent, out of its public fields.
  const counterId = `${pi.id}.increments`;
  const counter = await ctx.tx.getForUpdate(ctx.scope, counterId);
  const attempts = (counter?.data.attempts as number | undefined) ?? 0;
  if (attempts >= MAX_INCREMENT_ATTEMPTS) {
    throw new StripeError(400, { type: 'invalid_request_error', message: `This PaymentIntent has reached the maximum of ${MAX_INCREMENT_ATTEMPTS} incremental authorization attempts.`, payment_intent: pi });
  }
  if (counter) await ctx.tx.update(ctx.scope, { id: counterId, version: counter.version, data: { attempts: attempts + 1 }, index: [] });
  else await ctx.tx.insert(ctx.scope, { id: counterId, type: INCREMENTS_TYPE, created: ctx.now(), data: { attempts: 1 }, index: [] });
  if (!incrementApproved(pi.amount, amount, pi.currency)) {
    // Declined: nothing on the intent or the charge changes; the attempt is counted (the error commits).
    const pmRow = await ctx.tx.get(ctx.scope, ch.payment_method);
    throw cardError('generic_decline', { charge: ch.id, payment_intent: pi, payment_method: pmRow?.data }).committing();
  }
  ch.amount = amount;
  ch.payment_method_details.card.amount_authorized = amount;
  ch.payment_method_details.card.overcapture.maximum_amount_capturable = amount;
  if (p.description !== undefined) { pi.description = p.description; ch.description = p.description; }
  if (p.statement_descriptor !== undefined) { pi.statement_descriptor = p.statement_descriptor; ch.statement_descriptor = p.statement_descriptor; }
  pi.metadata = applyMetadata(pi.metadata, p.metadata);
  const { saveObject } = await import('./define.js');
  await saveObject(ctx, charges, chRow, ch);
  pi.amount = amount;
  pi.amount_capturable = amount;
  return (await savePi(ctx, row, pi, 'payment_intent.amount_capturable_updated')).data;
}

async function cancel(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await load(ctx, id, true);
  const pi = structuredClone(row.data);
  if (!CANCELABLE.includes(pi.status)) {
    throw unexpectedState(`You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${list(CANCELABLE)}.`, pi);
  }
  if (pi.status === 'requires_capture') {
    const { releaseAuthorization } = await import('./refunds.js');
    await releaseAuthorization(ctx, pi.latest_charge);
    pi.amount_capturable = 0;
    await cancelTimer(ctx, EXPIRE_KIND, pi.id);
  }
  pi.status = 'canceled';
  pi.canceled_at = ctx.now();
  pi.cancellation_reason = p.cancellation_reason ?? null;
  pi.next_action = null;
  return (await savePi(ctx, row, pi, 'payment_intent.canceled')).data;
}

async function update(ctx: WriteContext, id: string, p: Params): Promise<Obj> {
  const row = await load(ctx, id, true);
  const pi = structuredClone(row.data);
  const metadataOnly = Object.keys(p).every((k) => ['metadata', 'description', 'receipt_email', 'shipping', 'expand', 'statement_descriptor', 'statement_descriptor_suffix', 'transfer_group'].includes(k));
  if (!UPDATABLE.includes(pi.status) && !(metadataOnly && pi.status !== 'canceled') && !(Object.keys(p).every((k) => k === 'metadata' || k === 'expand'))) {
    const field = Object.keys(p).find((k) => k !== 'expand' && k !== 'metadata') ?? 'metadata';
    throw unexpectedState(`This PaymentIntent's ${field} could not be updated because it has a status of ${pi.status}. You may only update the ${field} of a PaymentIntent with one of the following statuses: ${list(UPDATABLE)}.`, pi);
  }
  if (p.amount !== undefined || p.currency !== undefined) {
    const currency = p.currency !== undefined ? checkCurrency(p.currency) : pi.currency;
    const amount = p.amount ?? pi.amount;
    checkAmount(amount, currency);
    pi.amount = amount;
    pi.currency = currency;
  }
  await applyCommon(ctx, pi, p);
  if (p.payment_method !== undefined || p.payment_method_data !== undefined) {
    pi.status = pi.payment_method ? 'requires_confirmation' : 'requires_payment_method';
    pi.next_action = null;
  }
  return (await savePi(ctx, row, pi)).data;
}

export const paymentIntents: ResourceDef = {
  object: 'payment_intent',
  prefix: 'pi',
  path: '/v1/payment_intents',
  search: STRIPE_SEARCH_FIELDS.payment_intents,
  index: (pi) => [
    ...(pi.customer ? [{ field: 'customer', value: pi.customer }] : []),
  ],
  listFilters: (p) => (p.customer !== undefined ? { index: { field: 'customer', value: p.customer } } : {}),
  standard: { create: false, retrieve: false, update: false, list: false },
  operations: () => [
    { method: 'POST', path: '/v1/payment_intents', write: true, extraParams: { ...LEGACY_TYPES, ...WITH_CARD_DATA }, handler: (ctx, p) => createIntent(ctx as WriteContext, p) },
    {
      method: 'GET', path: '/v1/payment_intents/{id}', write: false, publishable: true,
      handler: async (ctx, p, path) => {
        const row = await load(ctx, path.id!, false);
        checkClientSecret(ctx, row.data, p.client_secret);
        return publishableView(ctx, row.data);
      },
    },
    {
      method: 'GET', path: '/v1/payment_intents', write: false, returnsList: true,
      handler: async (ctx, p) => {
        const { listObjects } = await import('../api/list.js');
        const { rows, has_more } = await listObjects(ctx, {
          type: 'payment_intent', url: '/v1/payment_intents', limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before, created: p.created,
          ...(p.customer !== undefined ? { index: { field: 'customer', value: p.customer } } : {}),
        });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url: '/v1/payment_intents' };
      },
    },
    { method: 'POST', path: '/v1/payment_intents/{id}', write: true, extraParams: LEGACY_TYPES, handler: (ctx, p, path) => update(ctx as WriteContext, path.id!, p) },
    {
      method: 'POST', path: '/v1/payment_intents/{id}/confirm', write: true, publishable: true,
      extraParams: { ...LEGACY_TYPES, ...WITH_CARD_DATA, client_secret: { t: 'string' } },
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        checkClientSecret(ctx, row.data, p.client_secret);
        const { client_secret: _s, ...rest } = p;
        try {
          return publishableView(ctx, await confirmIntent(ctx, row, rest));
        } catch (err) {
          // A declined confirmation's error carries the intent as the key may see it.
          if (err instanceof StripeError && err.fields.payment_intent && ctx.keyKind === 'publishable') {
            (err.fields as Obj).payment_intent = publishableView(ctx, err.fields.payment_intent as Obj);
          }
          throw err;
        }
      },
    },
    { method: 'POST', path: '/v1/payment_intents/{id}/capture', write: true, handler: (ctx, p, path) => capturePaymentIntent(ctx as WriteContext, path.id!, p) },
    { method: 'POST', path: '/v1/payment_intents/{id}/cancel', write: true, handler: (ctx, p, path) => cancel(ctx as WriteContext, path.id!, p) },
    {
      method: 'POST', path: '/v1/payment_intents/{id}/verify_microdeposits', write: true, publishable: true, extraParams: { client_secret: { t: 'string' } },
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        checkClientSecret(ctx, row.data, p.client_secret);
        const { verifyIntentMicrodeposits } = await import('./bank-debits.js');
        let current = row;
        try {
          return publishableView(ctx, await verifyIntentMicrodeposits(ctx, row, p, async (next, eventType) => { current = await savePi(ctx, current, next, eventType); return current.data; }));
        } catch (err) {
          if (err instanceof StripeError && err.fields.payment_intent && ctx.keyKind === 'publishable') {
            (err.fields as Obj).payment_intent = publishableView(ctx, err.fields.payment_intent as Obj);
          }
          throw err;
        }
      },
    },
    { method: 'POST', path: '/v1/payment_intents/{id}/increment_authorization', write: true, handler: (ctx, p, path) => incrementAuthorization(ctx as WriteContext, path.id!, p) },
  ],
};

