// PaymentMethods — https://docs.stripe.com/api/payment_methods
// Create from card data (raw numbers only with a publishable key, as Stripe.js sends them) or
// a token; the `pm_card_*` test ids work wherever a PaymentMethod id is accepted (each use makes
// a new PaymentMethod, as on Stripe); retrieve, update (attached only), attach / detach with
// payment_method.attached / detached, list by customer and type, and the customer-scoped list
// and retrieve under /v1/customers/{id}/payment_methods.
import { StripeError, invalidRequest, missingParam, noSuchResource } from '../api/errors.js';
import { listObjects } from '../api/list.js';
import { applyMetadata } from '../api/metadata.js';
import { address } from '../api/shapes.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import {
  INCORRECT_NUMBER_MESSAGE, INVALID_NUMBER_MESSAGE, LIVE_CARD_MESSAGE, authorize, cardByNumber, cardByPaymentMethodId,
  cardByToken, cardError, loadCardRef, paymentMethodCard, sepaAccount, storeCardRef, usBankAccount, type BankType, type CardRef, type TestCard,
} from '../engine/payments/index.js';
import type { StoredObject } from '../store/store.js';
import { indexEntries, insertObject, newObjectBase, saveObject, type Obj, type ResourceDef } from './define.js';
import { canonicalize, isCanonical } from '../api/render.js';

export const RAW_CARD_DATA_MESSAGE = 'Sending credit card numbers directly to the Stripe API is generally unsafe. We suggest you use test tokens that map to the test card you are using, see https://stripe.com/docs/testing. To enable testing raw card data APIs, see https://support.stripe.com/questions/enabling-access-to-raw-card-data-apis.';

const noSuchPaymentMethod = (id: string, param = 'id') => noSuchResource('PaymentMethod', id, param);

function cardFieldError(code: string, message: string, param: string): StripeError {
  return new StripeError(402, { type: 'card_error', code, message, param });
}

export function billingDetails(p: Params | null | undefined, current?: Obj): Obj {
  const base = current ?? { address: address({}), email: null, name: null, phone: null, tax_id: null };
  if (!p) return base;
  const next = { ...base };
  if (p.address !== undefined) next.address = address(p.address ?? {});
  for (const k of ['email', 'name', 'phone', 'tax_id'] as const) if (p[k] !== undefined) next[k] = p[k];
  return next;
}

/** The default expiry of test PaymentMethods and tokens: next year, as Stripe's fixtures have. */
function defaultExpiry(ctx: ReadContext): { month: number; year: number } {
  const d = new Date(ctx.now() * 1000);
  return { month: d.getUTCMonth() + 1, year: d.getUTCFullYear() + 1 };
}

export interface CardInput {
  card: TestCard;
  ref: CardRef;
  exp: { month: number; year: number };
}

/** A raw card hash (`card[number]`, exp, cvc) checked as the network checks it. */
export function cardFromRawData(ctx: ReadContext, c: Params, prefix: string, billing: Obj | null): CardInput {
  if (ctx.keyKind !== 'publishable') throw invalidRequest(RAW_CARD_DATA_MESSAGE, `${prefix}[number]`);
  if (c.exp_month === undefined) throw missingParam(`${prefix}[exp_month]`);
  if (c.exp_year === undefined) throw missingParam(`${prefix}[exp_year]`);
  const found = cardByNumber(String(c.number));
  if ('error' in found) {
    if (found.error === 'incorrect_number') throw cardFieldError('incorrect_number', INCORRECT_NUMBER_MESSAGE, `${prefix}[number]`);
    if (found.error === 'invalid_number') throw cardFieldError('invalid_number', INVALID_NUMBER_MESSAGE, `${prefix}[number]`);
    throw new StripeError(402, { type: 'card_error', code: 'card_declined', decline_code: 'test_mode_live_card', message: LIVE_CARD_MESSAGE });
  }
  const month = c.exp_month as number;
  let year = c.exp_year as number;
  if (year < 100) year += 2000;
  if (month < 1 || month > 12) throw cardFieldError('invalid_expiry_month', "Your card's expiration month is invalid.", `${prefix}[exp_month]`);
  const now = new Date(ctx.now() * 1000);
  if (year < now.getUTCFullYear() || year > now.getUTCFullYear() + 50) throw cardFieldError('invalid_expiry_year', "Your card's expiration year is invalid.", `${prefix}[exp_year]`);
  if (year === now.getUTCFullYear() && month < now.getUTCMonth() + 1) throw cardFieldError('invalid_expiry_month', "Your card's expiration month is invalid.", `${prefix}[exp_month]`);
  if (c.cvc !== undefined && c.cvc !== null) {
    const want = found.card.brand === 'amex' ? /^\d{4}$/ : /^\d{3}$/;
    if (!want.test(c.cvc)) throw cardFieldError('invalid_cvc', "Your card's security code is invalid.", `${prefix}[cvc]`);
  }
  return {
    card: found.card,
    ref: { key: found.card.key, cvc: c.cvc != null, line1: !!billing?.address?.line1, postal: !!billing?.address?.postal_code, setUp: false },
    exp: { month, year },
  };
}

/** A test card from the table used through its magic id: CVC supplied, address checks for the AVS cards. */
function magicInput(ctx: ReadContext, card: TestCard): CardInput {
  const avs = card.behaviour.line1Check !== undefined || card.behaviour.postalCheck !== undefined;
  return { card, ref: { key: card.key, cvc: true, line1: avs, postal: avs, setUp: false }, exp: defaultExpiry(ctx) };
}

/** `card[token]` / `source`: a `tok_*` test token or a stored, unused card token. */
export async function cardFromToken(ctx: WriteContext, tokenId: string, param: string): Promise<CardInput> {
  const magic = cardByToken(tokenId);
  if (magic) return magicInput(ctx, magic);
  const row = await ctx.tx.getForUpdate(ctx.scope, tokenId);
  if (!row || row.type !== 'token') throw noSuchResource('token', tokenId, param);
  if (row.data.used) throw invalidRequest(`You cannot use a Stripe token more than once: ${tokenId}.`, param);
  const found = await loadCardRef(ctx, tokenId);
  if (!found) throw invalidRequest(`Invalid token id: ${tokenId}`, param);
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: { ...row.data, used: true }, index: [] });
  return { card: found.card, ref: { ...found.ref }, exp: { month: row.data.card.exp_month, year: row.data.card.exp_year } };
}

function newPaymentMethod(ctx: WriteContext, input: CardInput, p: Params): Obj {
  // One literal in canonical key order (no spread of a base object: see withBase in define.ts).
  return {
    id: ctx.services.ids.id(paymentMethods.prefix),
    object: paymentMethods.object,
    allow_redisplay: p.allow_redisplay ?? 'unspecified',
    billing_details: billingDetails(p.billing_details),
    card: paymentMethodCard(ctx.scope.account, input.card, input.ref, input.exp),
    created: ctx.now(),
    customer: null,
    customer_account: null,
    livemode: ctx.scope.livemode,
    metadata: applyMetadata({}, p.metadata),
    type: 'card',
  };
}

/** Stores a new card PaymentMethod and its hidden card reference. */
export async function insertCardPaymentMethod(ctx: WriteContext, input: CardInput, p: Params = {}): Promise<Obj> {
  const pm = newPaymentMethod(ctx, input, p);
  await storeCardRef(ctx, pm.id, input.ref);
  return insertObject(ctx, paymentMethods, pm);
}

/** A bank-debit PaymentMethod (us_bank_account, sepa_debit) from its parameters. */
export async function insertBankPaymentMethod(ctx: WriteContext, p: Params, prefix = ''): Promise<Obj> {
  const name = (k: string) => (prefix ? `${prefix}[${k}]` : k);
  const billing = billingDetails(p.billing_details);
  const type = p.type as BankType;
  if (!billing.name) throw missingParam(prefix ? `${prefix}[billing_details][name]` : 'billing_details[name]');
  if (type === 'sepa_debit' && !billing.email) throw missingParam(prefix ? `${prefix}[billing_details][email]` : 'billing_details[email]');
  const data = p[type];
  if (!data) throw missingParam(name(type));
  let account;
  if (type === 'us_bank_account') {
    if (data.financial_connections_account !== undefined) throw invalidRequest('Pinstripe does not support Financial Connections accounts yet; pass account_number and routing_number.', name('us_bank_account[financial_connections_account]'));
    if (data.account_number === undefined) throw missingParam(name('us_bank_account[account_number]'));
    if (data.routing_number === undefined) throw missingParam(name('us_bank_account[routing_number]'));
    account = usBankAccount(ctx.scope.account, data);
  } else {
    account = sepaAccount(ctx.scope.account, data.iban);
  }
  if ('error' in account) throw invalidRequest(account.error, prefix ? `${prefix}[${account.param}]` : account.param);
  const pm: Obj = {
    ...newObjectBase(ctx, paymentMethods),
    allow_redisplay: p.allow_redisplay ?? 'unspecified', billing_details: billing, customer: null, customer_account: null,
    metadata: applyMetadata({}, p.metadata), type, [type]: account.details,
  };
  await storeCardRef(ctx, pm.id, { key: account.key, cvc: false, line1: false, postal: false, setUp: false });
  return insertObject(ctx, paymentMethods, pm);
}

/**
 * Stripe's test us_bank_account PaymentMethods
 * (https://docs.stripe.com/billing/subscriptions/ach-debit#test-account-numbers): each stands for
 * its test account number (routing 110000000) and, like Stripe's, needs no microdeposits.
 */
const US_BANK_TEST_PAYMENT_METHODS: Record<string, string> = {
  pm_usBankAccount_success: '000123456789', pm_usBankAccount_accountClosed: '000111111113',
  pm_usBankAccount_noAccount: '000111111116', pm_usBankAccount_insufficientFunds: '000222222227',
  pm_usBankAccount_debitNotAuthorized: '000333333335', pm_usBankAccount_invalidCurrency: '000444444440',
  pm_usBankAccount_processing: '000000000009',
  pm_usBankAccount_dispute: '000555555559', pm_usBankAccount_weeklyLimitExceeded: '000777777771',
  pm_usBankAccount_failMicrodeposits: '000666666661',
};

async function insertTestBankPaymentMethod(ctx: WriteContext, accountNumber: string): Promise<Obj> {
  const account = usBankAccount(ctx.scope.account, { account_number: accountNumber, routing_number: '110000000' });
  if ('error' in account) throw new Error(account.error);
  const pm: Obj = {
    ...newObjectBase(ctx, paymentMethods),
    allow_redisplay: 'unspecified', billing_details: billingDetails(undefined), customer: null, customer_account: null,
    metadata: {}, type: 'us_bank_account', us_bank_account: account.details,
  };
  await storeCardRef(ctx, pm.id, { key: account.key, cvc: false, line1: false, postal: false, setUp: false, verified: accountNumber !== '000666666661' } as CardRef);
  return insertObject(ctx, paymentMethods, pm);
}

/** payment_method_data on intents: `{type: 'card', card: {token} | {number…}, billing_details, metadata}`. */
export async function createFromData(ctx: WriteContext, data: Params, param: string): Promise<Obj> {
  if (data.type === undefined) throw missingParam(`${param}[type]`);
  if (data.type === 'us_bank_account' || data.type === 'sepa_debit') return insertBankPaymentMethod(ctx, data, param);
  if (data.type !== 'card') throw invalidRequest(`Pinstripe does not support payment method type '${data.type}' yet.`, `${param}[type]`);
  const c = data.card;
  if (!c) throw missingParam(`${param}[card]`);
  const billing = billingDetails(data.billing_details);
  const input = c.token !== undefined ? await cardFromToken(ctx, c.token, `${param}[card][token]`) : c.number !== undefined ? cardFromRawData(ctx, c, `${param}[card]`, billing) : (() => { throw missingParam(`${param}[card][number]`); })();
  return insertCardPaymentMethod(ctx, input, data);
}

/**
 * A PaymentMethod id given as a parameter: a stored one (locked for update) or a `pm_card_*`
 * test id, which creates a new PaymentMethod as Stripe does.
 */
const freshCardRefs = new WeakMap<StoredObject, { ref: CardRef; card: TestCard; version: number }>();

/** The card reference of a PaymentMethod row resolvePaymentMethod has just created, without reading it back. */
export function knownCardRef(row: StoredObject): { ref: CardRef; card: TestCard; version: number } | undefined {
  return freshCardRefs.get(row);
}

export async function resolvePaymentMethod(ctx: WriteContext, id: string, param = 'payment_method'): Promise<StoredObject> {
  const magic = cardByPaymentMethodId(id);
  if (magic) {
    // A new PaymentMethod: the row the insert returns is current (no read back), and its card
    // reference is known to whoever is handed this row (knownCardRef). No reference row is
    // stored: loadCardRef derives it from the PaymentMethod's fields (derivedCardRef).
    const input = magicInput(ctx, magic);
    const fresh = newPaymentMethod(ctx, input, {});
    const pm = isCanonical(fresh) ? fresh : canonicalize(fresh);
    const row = await ctx.tx.insert(ctx.scope, { id: pm.id, type: paymentMethods.object, created: pm.created, data: pm, index: indexEntries(paymentMethods, pm) });
    freshCardRefs.set(row, { ref: { ...input.ref }, card: input.card, version: 1 });
    return row;
  }
  const bankNumber = Object.hasOwn(US_BANK_TEST_PAYMENT_METHODS, id) ? US_BANK_TEST_PAYMENT_METHODS[id] : undefined;
  if (bankNumber) {
    const pm = await insertTestBankPaymentMethod(ctx, bankNumber);
    return (await ctx.tx.getForUpdate(ctx.scope, pm.id))!;
  }
  const row = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'payment_method' || row.deleted) throw noSuchPaymentMethod(id, param);
  return row;
}

export async function loadCustomer(ctx: ReadContext, id: string, param = 'customer'): Promise<StoredObject> {
  const row = await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'customer' || row.deleted) throw noSuchResource('customer', id, param);
  return row;
}

/** Attaches (verifying the card with the network, as Stripe does); emits payment_method.attached. */
export async function attachPaymentMethod(ctx: WriteContext, pm: StoredObject, customerId: string): Promise<Obj> {
  if (pm.data.customer) {
    if (pm.data.customer === customerId) return pm.data;
    throw invalidRequest('The payment method you provided has already been attached to a customer.', 'payment_method', 'payment_method_unexpected_state');
  }
  const found = await loadCardRef(ctx, pm.id);
  if (found) {
    const result = authorize(ctx, { card: found.card, ref: found.ref, offSession: false, authenticated: true, setup: true });
    if (result.status === 'failed') throw cardError(result.decline);
  }
  return saveObject(ctx, paymentMethods, pm, { ...pm.data, customer: customerId }, 'payment_method.attached');
}

async function detach(ctx: WriteContext, pm: StoredObject): Promise<Obj> {
  if (!pm.data.customer) {
    throw invalidRequest('The payment method you provided is not attached to a customer so detachment is impossible.', undefined, 'payment_method_unexpected_state');
  }
  const customer = await ctx.tx.getForUpdate(ctx.scope, pm.data.customer);
  if (customer && !customer.deleted && customer.data.invoice_settings?.default_payment_method === pm.id) {
    const { customers } = await import('./customers.js');
    await saveObject(ctx, customers, customer, { ...customer.data, invoice_settings: { ...customer.data.invoice_settings, default_payment_method: null } });
  }
  return saveObject(ctx, paymentMethods, pm, { ...pm.data, customer: null }, 'payment_method.detached');
}

/** A deleted customer's PaymentMethods are detached (payment_method.detached each). */
export async function detachAllPaymentMethods(ctx: WriteContext, customerId: string): Promise<void> {
  for (;;) {
    const rows = await ctx.tx.scan(ctx.scope, { type: 'payment_method', index: { field: 'customer', value: customerId }, direction: 'newer', limit: 100 });
    if (!rows.length) return;
    for (const r of rows) {
      const row = (await ctx.tx.getForUpdate(ctx.scope, r.id))!;
      await saveObject(ctx, paymentMethods, row, { ...row.data, customer: null }, 'payment_method.detached');
    }
  }
}

/** For customers: a PaymentMethod id that must be attached to this customer. */
export async function requireAttached(ctx: ReadContext, pmId: string, customerId: string, param: string): Promise<void> {
  const row = await ctx.db.get(ctx.scope, pmId);
  if (!row || row.type !== 'payment_method' || row.deleted) throw noSuchPaymentMethod(pmId, param);
  if (row.data.customer !== customerId) {
    throw invalidRequest(`The customer does not have a payment method with the ID ${pmId}. The payment method must be attached to the customer.`, param);
  }
}

async function listFor(ctx: ReadContext, url: string, params: Params, customer?: string): Promise<Obj> {
  const { rows, has_more } = await listObjects(ctx, {
    type: 'payment_method', url, limit: params.limit, starting_after: params.starting_after, ending_before: params.ending_before,
    ...(customer ? { index: { field: 'customer', value: customer } } : {}),
    filter: (d) => (params.type === undefined || d.type === params.type) && (params.allow_redisplay === undefined || d.allow_redisplay === params.allow_redisplay),
  });
  return { object: 'list', data: rows.map((r) => r.data), has_more, url };
}

async function retrieve(ctx: ReadContext, id: string): Promise<Obj> {
  const magic = cardByPaymentMethodId(id);
  if (magic) {
    const input = magicInput(ctx, magic);
    return {
      id, object: 'payment_method', allow_redisplay: 'unspecified', billing_details: billingDetails(null),
      card: paymentMethodCard(ctx.scope.account, input.card, input.ref, input.exp), created: ctx.now(), customer: null,
      customer_account: null, livemode: ctx.scope.livemode, metadata: {}, type: 'card',
    };
  }
  const row = await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'payment_method' || row.deleted) throw noSuchPaymentMethod(id);
  return row.data;
}

export const paymentMethods: ResourceDef = {
  object: 'payment_method',
  prefix: 'pm',
  path: '/v1/payment_methods',
  index: (pm) => (pm.customer ? [{ field: 'customer', value: pm.customer }] : []),
  standard: { create: false, retrieve: false, update: false, list: false },
  operations: () => [
    {
      method: 'POST', path: '/v1/payment_methods', write: true, publishable: true,
      handler: async (c, p) => {
        const ctx = c as WriteContext;
        if (p.payment_method !== undefined || p.customer !== undefined) {
          throw invalidRequest('Pinstripe does not support cloning PaymentMethods across accounts (Connect) yet.', p.payment_method !== undefined ? 'payment_method' : 'customer');
        }
        if (p.type === undefined) throw missingParam('type');
        if (p.type === 'us_bank_account' || p.type === 'sepa_debit') return insertBankPaymentMethod(ctx, p);
        if (p.type !== 'card') throw invalidRequest(`Pinstripe does not support payment method type '${p.type}' yet.`, 'type');
        if (!p.card) throw missingParam('card');
        const billing = billingDetails(p.billing_details);
        let input: CardInput;
        if (p.card.token !== undefined) input = await cardFromToken(ctx, p.card.token, 'card[token]');
        else if (p.card.number !== undefined) input = cardFromRawData(ctx, p.card, 'card', billing);
        else throw missingParam('card[number]');
        return insertCardPaymentMethod(ctx, input, p);
      },
    },
    { method: 'GET', path: '/v1/payment_methods/{id}', write: false, handler: (ctx, _p, path) => retrieve(ctx, path.id!) },
    {
      method: 'POST', path: '/v1/payment_methods/{id}', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await ctx.tx.getForUpdate(ctx.scope, path.id!);
        if (!row || row.type !== 'payment_method' || row.deleted) throw noSuchPaymentMethod(path.id!);
        if (!row.data.customer) throw invalidRequest('You must save this PaymentMethod to a customer before you can update it.');
        const next = structuredClone(row.data);
        if (p.billing_details !== undefined) next.billing_details = billingDetails(p.billing_details, next.billing_details);
        if (p.allow_redisplay !== undefined) next.allow_redisplay = p.allow_redisplay;
        next.metadata = applyMetadata(next.metadata, p.metadata);
        if (p.card) {
          if (next.type !== 'card') throw invalidRequest('card can only be updated on card PaymentMethods.', 'card');
          if (p.card.exp_month !== undefined) {
            if (p.card.exp_month < 1 || p.card.exp_month > 12) throw cardFieldError('invalid_expiry_month', "Your card's expiration month is invalid.", 'card[exp_month]');
            next.card.exp_month = p.card.exp_month;
          }
          if (p.card.exp_year !== undefined) {
            const y = p.card.exp_year < 100 ? p.card.exp_year + 2000 : p.card.exp_year;
            if (y < new Date(ctx.now() * 1000).getUTCFullYear()) throw cardFieldError('invalid_expiry_year', "Your card's expiration year is invalid.", 'card[exp_year]');
            next.card.exp_year = y;
          }
        }
        return saveObject(ctx, paymentMethods, row, next, 'payment_method.updated');
      },
    },
    { method: 'GET', path: '/v1/payment_methods', write: false, returnsList: true, handler: async (ctx, p) => {
      if (p.customer !== undefined) await loadCustomer(ctx, p.customer);
      return listFor(ctx, '/v1/payment_methods', p, p.customer);
    } },
    {
      method: 'POST', path: '/v1/payment_methods/{id}/attach', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        if (p.customer === undefined) throw missingParam('customer');
        await loadCustomer(ctx, p.customer);
        const pm = await resolvePaymentMethod(ctx, path.id!, 'id');
        return attachPaymentMethod(ctx, pm, p.customer);
      },
    },
    {
      method: 'POST', path: '/v1/payment_methods/{id}/detach', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await ctx.tx.getForUpdate(ctx.scope, path.id!);
        if (!row || row.type !== 'payment_method' || row.deleted) throw noSuchPaymentMethod(path.id!);
        return detach(ctx, row);
      },
    },
    {
      method: 'GET', path: '/v1/customers/{id}/payment_methods', write: false, returnsList: true,
      handler: async (ctx, p, path) => {
        await loadCustomer(ctx, path.id!, 'id');
        return listFor(ctx, `/v1/customers/${path.id}/payment_methods`, p, path.id);
      },
    },
    {
      method: 'GET', path: '/v1/customers/{id}/payment_methods/{pm}', write: false,
      handler: async (ctx, _p, path) => {
        await loadCustomer(ctx, path.id!, 'id');
        const row = await ctx.db.get(ctx.scope, path.pm!);
        if (!row || row.type !== 'payment_method' || row.deleted || row.data.customer !== path.id) throw noSuchPaymentMethod(path.pm!);
        return row.data;
      },
    },
  ],
};

