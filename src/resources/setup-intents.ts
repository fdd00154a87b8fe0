// SetupIntents — https://docs.stripe.com/api/setup_intents — and SetupAttempts.
// create (confirm=true), retrieve (publishable key + client_secret), update, confirm, cancel,
// list; each confirmation records a SetupAttempt. The card network decides as for payments
// (declines, 3-D Secure via the same test page); success attaches the PaymentMethod to the
// customer and marks it set up for off-session use. Events setup_intent.created /
// requires_action / succeeded / setup_failed / canceled.
import { StripeError, invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { authorize, cardError, lastPaymentError, loadBankVerification, loadCardRef, markSetUp, settleThreeDSecure, threeDSNextAction, threeDSecureResult, type NetworkDecline, type ThreeDSIntentKind } from '../engine/payments/index.js';
import type { StoredObject } from '../store/store.js';
import { LEGACY_TYPES, cardPaymentMethodData } from './intent-params.js';
import { RETURN_URL_REQUIRED } from './payment-intents.js';
import { attachPaymentMethod, createFromData, loadCustomer, resolvePaymentMethod } from './payment-methods.js';
import { checkMicrodeposits, microdepositAction } from './bank-debits.js';
import { activateMandate, createMandate } from './mandates.js';
import { indexEntries, insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];

function unexpectedState(message: string, si?: Obj): StripeError {
  return new StripeError(400, { type: 'invalid_request_error', code: 'setup_intent_unexpected_state', message, ...(si ? { setup_intent: si } : {}) });
}

const WITH_CARD_DATA = cardPaymentMethodData('/v1/setup_intents/{id}/confirm');

async function save(ctx: WriteContext, def: ResourceDef, row: StoredObject, next: Obj, eventType?: string): Promise<StoredObject> {
  const data = canonicalize(next);
  const updated = await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: indexEntries(def, data) });
  if (eventType) await emitEvent(ctx, eventType, data);
  return { ...updated, data };
}

async function applyCommon(ctx: WriteContext, si: Obj, p: Params): Promise<void> {
  if (p.description !== undefined) si.description = p.description;
  if (p.usage !== undefined) si.usage = p.usage;
  if (p.customer !== undefined) {
    if (p.customer !== null) await loadCustomer(ctx, p.customer);
    si.customer = p.customer;
  }
  const types = p.payment_method_types ?? p.allowed_payment_method_types;
  if (types !== undefined) {
    for (const [i, ty] of (types ?? []).entries()) {
      if (!['card', 'us_bank_account', 'sepa_debit'].includes(ty)) throw invalidRequest(`The payment method type "${ty}" is invalid. Please ensure the provided type is activated in your dashboard (https://dashboard.stripe.com/account/payments/settings) and your account is enabled for any preview features that you are trying to use.`, `${p.payment_method_types !== undefined ? 'payment_method_types' : 'allowed_payment_method_types'}[${i}]`);
    }
    si.payment_method_types = types ?? ['card'];
    si.automatic_payment_methods = null;
    si.payment_method_configuration_details = null;
  }
  if (p.payment_method_options?.card?.request_three_d_secure !== undefined) {
    si.payment_method_options = { card: { ...si.payment_method_options.card, request_three_d_secure: p.payment_method_options.card.request_three_d_secure } };
  }
  si.metadata = applyMetadata(si.metadata, p.metadata);
  if (p.payment_method_data !== undefined) si.payment_method = (await createFromData(ctx, p.payment_method_data, 'payment_method_data')).id;
  else if (p.payment_method !== undefined) si.payment_method = p.payment_method === null ? null : (await resolvePaymentMethod(ctx, p.payment_method)).id;
}

async function createIntent(ctx: WriteContext, p: Params): Promise<Obj> {
  const explicit = p.payment_method_types !== undefined || p.allowed_payment_method_types !== undefined;
  if (p.automatic_payment_methods !== undefined && explicit) throw invalidRequest('You may only specify one of these parameters: automatic_payment_methods, payment_method_types.', 'automatic_payment_methods');
  if (p.return_url !== undefined && !p.confirm) throw invalidRequest('You can only pass `return_url` when `confirm` is also set to true.', 'return_url');
  for (const unsupported of ['on_behalf_of', 'confirmation_token', 'single_use', 'attach_to_self'] as const) {
    if (p[unsupported] !== undefined) throw invalidRequest(`Pinstripe does not support \`${unsupported}\` on SetupIntents yet.`, unsupported);
  }
  const base = newObjectBase(ctx, setupIntents);
  const automatic = !explicit && p.automatic_payment_methods?.enabled !== false;
  const si: Obj = {
    ...base,
    allowed_payment_method_types: null,
    application: null,
    automatic_payment_methods: automatic ? { allow_redirects: p.automatic_payment_methods?.allow_redirects ?? 'always', enabled: true } : null,
    cancellation_reason: null,
    client_secret: `${base.id}_secret_${ctx.services.ids.random(32)}`,
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    flow_directions: null,
    last_setup_error: null,
    latest_attempt: null,
    mandate: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: automatic ? { id: `pmc_${ctx.services.ids.random(24)}`, parent: null } : null,
    payment_method_options: { card: { mandate_options: null, network: null, request_three_d_secure: 'automatic' } },
    payment_method_types: ['card'],
    single_use_mandate: null,
    status: 'requires_payment_method',
    usage: 'off_session',
  };
  await applyCommon(ctx, si, p);
  if (si.payment_method) si.status = 'requires_confirmation';
  const stored = await insertObject(ctx, setupIntents, si);
  await emitEvent(ctx, 'setup_intent.created', stored);
  if (!p.confirm) return stored;
  const row = (await ctx.tx.getForUpdate(ctx.scope, stored.id))!;
  return confirm(ctx, row, { return_url: p.return_url, mandate_data: p.mandate_data }, true);
}

async function load(ctx: ReadContext, id: string, forUpdate: boolean): Promise<StoredObject> {
  const row = forUpdate && 'tx' in ctx ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'setup_intent') throw noSuchResource('setup_intent', id);
  return row;
}

/** What a publishable key sees of a SetupIntent (Stripe.js; the stripe-js SetupIntent type). */
const PUBLISHABLE_FIELDS = [
  'id', 'object', 'automatic_payment_methods', 'cancellation_reason', 'client_secret', 'created', 'description', 'last_setup_error',
  'livemode', 'next_action', 'payment_method', 'payment_method_configuration_details', 'payment_method_types', 'status', 'usage',
];

function publishableView(ctx: ReadContext, si: Obj): Obj {
  if (ctx.keyKind !== 'publishable') return si;
  return Object.fromEntries(PUBLISHABLE_FIELDS.filter((k) => k in si).map((k) => [k, si[k]]));
}

/** Runs a publishable-key operation: its result and its error's setup_intent in the publishable view. */
async function asPublishable(ctx: ReadContext, fn: () => Promise<Obj>): Promise<Obj> {
  try {
    return publishableView(ctx, await fn());
  } catch (err) {
    if (err instanceof StripeError && err.fields.setup_intent && ctx.keyKind === 'publishable') {
      (err.fields as Obj).setup_intent = publishableView(ctx, err.fields.setup_intent as Obj);
    }
    throw err;
  }
}

function checkClientSecret(ctx: ReadContext, si: Obj, secret: string | undefined): void {
  if (ctx.keyKind !== 'publishable' && secret === undefined) return;
  if (secret === undefined) throw invalidRequest('The client_secret parameter is required when using a publishable key to retrieve this SetupIntent.', 'client_secret');
  if (secret !== si.client_secret) throw invalidRequest('The client_secret provided does not match the client_secret associated with the SetupIntent.', 'client_secret');
}

async function confirm(ctx: WriteContext, row: StoredObject, p: Params, fromCreate = false): Promise<Obj> {
  const si = structuredClone(row.data);
  if (si.status === 'succeeded') throw unexpectedState('You cannot confirm this SetupIntent because it has already succeeded.', si);
  if (!CONFIRMABLE.includes(si.status)) throw unexpectedState(`You cannot confirm this SetupIntent because it has a status of ${si.status}. Only a SetupIntent with one of the following statuses may be confirmed: ${CONFIRMABLE.join(', ')}.`, si);
  if (!fromCreate) await applyCommon(ctx, si, p);
  if (!si.payment_method) throw unexpectedState("You cannot confirm this SetupIntent because it's missing a payment method. You can either update the SetupIntent with a payment method and then confirm it again, or confirm it again directly with a payment method.", si);
  if (si.automatic_payment_methods?.enabled && si.automatic_payment_methods.allow_redirects !== 'never' && !p.return_url) throw invalidRequest(RETURN_URL_REQUIRED);
  return attempt(ctx, row, si, false, p.return_url, p.mandate_data);
}

async function insertAttempt(ctx: WriteContext, si: Obj, pm: Obj, status: string, checks: Obj | null, threeDS: Obj | null, error: Obj | null): Promise<Obj> {
  const att: Obj = {
    id: ctx.services.ids.id('setatt'), object: 'setup_attempt', application: null, attach_to_self: false, created: ctx.now(),
    customer: si.customer, customer_account: null, flow_directions: null, livemode: ctx.scope.livemode, on_behalf_of: null,
    payment_method: pm.id,
    payment_method_details: pm.type !== 'card' ? { [pm.type]: {}, type: pm.type } : {
      card: {
        brand: pm.card.brand, checks: checks ?? null, country: pm.card.country, exp_month: pm.card.exp_month, exp_year: pm.card.exp_year,
        fingerprint: pm.card.fingerprint, funding: pm.card.funding, last4: pm.card.last4, network: pm.card.brand, three_d_secure: threeDS, wallet: null,
      },
      type: 'card',
    },
    setup_error: error, setup_intent: si.id, status, usage: si.usage,
  };
  await insertObject(ctx, setupAttempts, att);
  return att;
}

async function attempt(ctx: WriteContext, row: StoredObject, si: Obj, authenticated: boolean, returnUrl?: string, mandateData?: Params | null): Promise<Obj> {
  const pmRow = (await ctx.tx.getForUpdate(ctx.scope, si.payment_method))!;
  const pm = pmRow.data;
  if (pm.type === 'us_bank_account' || pm.type === 'sepa_debit') return bankSetup(ctx, row, pmRow, si, mandateData);
  const found = await loadCardRef(ctx, pm.id);
  if (!found) throw invalidRequest('This PaymentMethod cannot be set up.', 'payment_method');
  const result = authorize(ctx, { card: found.card, ref: found.ref, offSession: false, authenticated, setup: true, requestThreeDS: si.payment_method_options?.card?.request_three_d_secure });
  si.last_setup_error = null;
  si.next_action = null;
  if (result.status === 'requires_action') {
    si.status = 'requires_action';
    si.next_action = threeDSNextAction(ctx, si, returnUrl);
    const att = await insertAttempt(ctx, si, pm, 'requires_action', null, null, null);
    si.latest_attempt = att.id;
    return (await save(ctx, setupIntents, row, si, 'setup_intent.requires_action')).data;
  }
  const threeDS = authenticated ? threeDSecureResult(ctx) : null;
  if (result.status === 'failed') {
    const err = lastPaymentError(result.decline as NetworkDecline, null, pm);
    const att = await insertAttempt(ctx, si, pm, 'failed', result.checks, threeDS, err);
    si.status = 'requires_payment_method';
    si.latest_attempt = att.id;
    si.last_setup_error = err;
    si.payment_method = null;
    const saved = await save(ctx, setupIntents, row, si, 'setup_intent.setup_failed');
    throw cardError(result.decline, { setup_intent: saved.data, payment_method: pm }).committing();
  }
  const att = await insertAttempt(ctx, si, pm, 'succeeded', result.checks, threeDS, null);
  await markSetUp(ctx, pm.id);
  if (si.customer && !pm.customer) await attachPaymentMethod(ctx, pmRow, si.customer);
  si.status = 'succeeded';
  si.latest_attempt = att.id;
  return (await save(ctx, setupIntents, row, si, 'setup_intent.succeeded')).data;
}

/**
 * Setting up a bank account: a multi-use mandate; an ACH account entered by hand first waits in
 * requires_action (verify_with_microdeposits), a SEPA account (or a verified ACH one) is set up at once.
 */
async function bankSetup(ctx: WriteContext, row: StoredObject, pmRow: StoredObject, si: Obj, mandateData?: Params | null): Promise<Obj> {
  const pm = pmRow.data;
  if (!si.automatic_payment_methods && !si.payment_method_types.includes(pm.type)) {
    throw invalidRequest(`The PaymentMethod provided (${pm.type}) is not allowed for this SetupIntent. Please attach a PaymentMethod of one of the following types: ${si.payment_method_types.join(', ')}. Alternatively update the allowed payment_method_types for this SetupIntent to include "${pm.type}".`, 'payment_method');
  }
  const verified = pm.type !== 'us_bank_account' || (await loadBankVerification(ctx, pm.id)).verified;
  const mandate = await createMandate(ctx, { paymentMethod: pm, mandateData, status: verified ? 'active' : 'pending' });
  si.mandate = mandate.id;
  si.last_setup_error = null;
  if (!verified) {
    const att = await insertAttempt(ctx, si, pm, 'requires_action', null, null, null);
    si.latest_attempt = att.id;
    si.status = 'requires_action';
    si.next_action = microdepositAction(ctx, si.id);
    return (await save(ctx, setupIntents, row, si, 'setup_intent.requires_action')).data;
  }
  return bankSetupSucceeded(ctx, row, pmRow, si);
}

async function bankSetupSucceeded(ctx: WriteContext, row: StoredObject, pmRow: StoredObject, si: Obj): Promise<Obj> {
  const att = await insertAttempt(ctx, si, pmRow.data, 'succeeded', null, null, null);
  if (si.customer && !pmRow.data.customer) await attachPaymentMethod(ctx, pmRow, si.customer);
  si.status = 'succeeded';
  si.next_action = null;
  si.latest_attempt = att.id;
  return (await save(ctx, setupIntents, row, si, 'setup_intent.succeeded')).data;
}

async function verifySetupMicrodeposits(ctx: WriteContext, row: StoredObject, p: Params): Promise<Obj> {
  const si = structuredClone(row.data);
  if (si.status !== 'requires_action' || si.next_action?.type !== 'verify_with_microdeposits') {
    throw unexpectedState(`This SetupIntent's payment method could not be verified because the SetupIntent has a status of ${si.status}. Only a SetupIntent awaiting microdeposit verification (status requires_action, next_action verify_with_microdeposits) can be verified.`, si);
  }
  const pmRow = (await ctx.tx.getForUpdate(ctx.scope, si.payment_method))!;
  await checkMicrodeposits(ctx, pmRow.id, p, async (err) => {
    const failedAttempt = await insertAttempt(ctx, si, pmRow.data, 'failed', null, null, { code: err.code, message: err.message, type: 'invalid_request_error' });
    Object.assign(si, {
      status: 'requires_payment_method', next_action: null, payment_method: null, latest_attempt: failedAttempt.id,
      last_setup_error: { code: err.code, doc_url: `https://stripe.com/docs/error-codes/${err.code.replace(/_/g, '-')}`, message: err.message, payment_method: pmRow.data, type: 'invalid_request_error' },
    });
    return (await save(ctx, setupIntents, row, si, 'setup_intent.setup_failed')).data;
  }, 'setup_intent', si);
  await activateMandate(ctx, si.mandate);
  const fresh = (await ctx.tx.getForUpdate(ctx.scope, pmRow.id))!;
  return bankSetupSucceeded(ctx, row, fresh, si);
}

const SETUP_INTENT_3DS: ThreeDSIntentKind = {
  name: 'SetupIntent', errorIntentField: 'setup_intent', errorField: 'last_setup_error',
  failure: { code: 'setup_intent_authentication_failure', event: 'setup_intent.setup_failed', message: 'The latest attempt to set up the payment method has failed because authentication failed.' },
  save: async (ctx, row, si, eventType) => (await save(ctx, setupIntents, row, si, eventType)).data,
  attempt: (ctx, row, si, returnUrl) => attempt(ctx, row, si, true, returnUrl),
};

/** The 3-D Secure page's outcome for a SetupIntent. */
export async function settleSetupThreeDS(ctx: WriteContext, id: string, clientSecret: string, succeed: boolean): Promise<Obj> {
  return settleThreeDSecure(ctx, await load(ctx, id, true), clientSecret, succeed, SETUP_INTENT_3DS);
}

export const setupIntents: ResourceDef = {
  object: 'setup_intent',
  prefix: 'seti',
  path: '/v1/setup_intents',
  index: (si) => [
    ...(si.customer ? [{ field: 'customer', value: si.customer }] : []),
    ...(si.payment_method ? [{ field: 'payment_method', value: si.payment_method }] : []),
  ],
  listFilters: (p) => {
    if (p.customer !== undefined) return { index: { field: 'customer', value: p.customer }, filter: p.payment_method !== undefined ? (d) => d.payment_method === p.payment_method : undefined };
    if (p.payment_method !== undefined) return { index: { field: 'payment_method', value: p.payment_method } };
    return {};
  },
  standard: { create: false, retrieve: false, update: false },
  operations: () => [
    { method: 'POST', path: '/v1/setup_intents', write: true, extraParams: { ...LEGACY_TYPES, ...WITH_CARD_DATA }, handler: (ctx, p) => createIntent(ctx as WriteContext, p) },
    {
      method: 'GET', path: '/v1/setup_intents/{id}', write: false, publishable: true,
      handler: async (ctx, p, path) => { const row = await load(ctx, path.id!, false); checkClientSecret(ctx, row.data, p.client_secret); return publishableView(ctx, row.data); },
    },
    {
      method: 'POST', path: '/v1/setup_intents/{id}', write: true, extraParams: LEGACY_TYPES,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        const si = structuredClone(row.data);
        if (!CONFIRMABLE.includes(si.status) && Object.keys(p).some((k) => k !== 'metadata' && k !== 'expand')) {
          throw unexpectedState(`You cannot update this SetupIntent because it has a status of ${si.status}.`, si);
        }
        await applyCommon(ctx, si, p);
        if (p.payment_method !== undefined || p.payment_method_data !== undefined) si.status = si.payment_method ? 'requires_confirmation' : 'requires_payment_method';
        return (await save(ctx, setupIntents, row, si)).data;
      },
    },
    {
      method: 'POST', path: '/v1/setup_intents/{id}/confirm', write: true, publishable: true,
      extraParams: { ...LEGACY_TYPES, ...WITH_CARD_DATA, client_secret: { t: 'string' } },
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        checkClientSecret(ctx, row.data, p.client_secret);
        const { client_secret: _s, ...rest } = p;
        return asPublishable(ctx, () => confirm(ctx, row, rest));
      },
    },
    {
      method: 'POST', path: '/v1/setup_intents/{id}/verify_microdeposits', write: true, publishable: true, extraParams: { client_secret: { t: 'string' } },
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        checkClientSecret(ctx, row.data, p.client_secret);
        const { client_secret: _s, ...rest } = p;
        return asPublishable(ctx, () => verifySetupMicrodeposits(ctx, row, rest));
      },
    },
    {
      method: 'POST', path: '/v1/setup_intents/{id}/cancel', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await load(ctx, path.id!, true);
        const si = structuredClone(row.data);
        if (!CANCELABLE.includes(si.status)) {
          throw unexpectedState(`You cannot cancel this SetupIntent because it has a status of ${si.status}. Only a SetupIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`, si);
        }
        si.status = 'canceled';
        si.cancellation_reason = p.cancellation_reason ?? null;
        si.next_action = null;
        return (await save(ctx, setupIntents, row, si, 'setup_intent.canceled')).data;
      },
    },
  ],
};

export const setupAttempts: ResourceDef = {
  object: 'setup_attempt',
  prefix: 'setatt',
  path: '/v1/setup_attempts',
  index: (a) => [{ field: 'setup_intent', value: a.setup_intent }],
  listFilters: (p) => ({ index: { field: 'setup_intent', value: p.setup_intent } }),
  standard: { retrieve: false },
};
