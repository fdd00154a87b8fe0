// Tokens — https://docs.stripe.com/api/tokens — card tokens (raw numbers with a publishable
// key, as Stripe.js creates them) and retrieve; and legacy Card objects (`card_…`), the
// source a token or `tok_*` test token turns into when charged or saved on a customer.
import { invalidRequest, missingParam, noSuchResource } from '../api/errors.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import type { StoredObject } from '../store/store.js';
import { PAYOUT_INSTANT_INELIGIBLE, bankFingerprint, cardByToken, payoutFailureCode, paymentMethodCard, storeCardRef } from '../engine/payments/index.js';
import { cardFromRawData, cardFromToken, type CardInput } from './payment-methods.js';
import { indexEntries, insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';
import { canonicalize } from '../api/render.js';

const LEGACY_BRANDS: Record<string, string> = {
  visa: 'Visa', mastercard: 'MasterCard', amex: 'American Express', discover: 'Discover', diners: 'Diners Club',
  jcb: 'JCB', unionpay: 'UnionPay', cartes_bancaires: 'Cartes Bancaires', eftpos_au: 'Eftpos Australia',
};

/** A legacy Card object's fields from a card input. */
export function legacyCard(ctx: ReadContext, id: string, input: CardInput, p: Params = {}, customer?: string | null): Obj {
  const pc = paymentMethodCard(ctx.scope.account, input.card, input.ref, input.exp) as Obj;
  return {
    id, object: 'card',
    address_city: p.address_city ?? null, address_country: p.address_country ?? null, address_line1: p.address_line1 ?? null,
    address_line1_check: input.ref.line1 ? 'unchecked' : null, address_line2: p.address_line2 ?? null, address_state: p.address_state ?? null,
    address_zip: p.address_zip ?? null, address_zip_check: input.ref.postal ? 'unchecked' : null,
    brand: LEGACY_BRANDS[input.card.brand] ?? input.card.brand, country: pc.country, ...(customer !== undefined ? { customer } : {}),
    cvc_check: input.ref.cvc ? 'unchecked' : null, dynamic_last4: null, exp_month: pc.exp_month, exp_year: pc.exp_year,
    fingerprint: pc.fingerprint, funding: pc.funding, last4: pc.last4, metadata: {}, name: p.name ?? null,
    networks: { preferred: null }, regulated_status: 'unregulated', tokenization_method: null,
  };
}

/** Stores a Card object (and its hidden card reference), optionally on a customer. */
export async function insertCard(ctx: WriteContext, input: CardInput, customer: string | null, p: Params = {}): Promise<Obj> {
  const id = ctx.services.ids.id('card');
  const card = legacyCard(ctx, id, input, p, customer);
  await storeCardRef(ctx, id, input.ref);
  // Card objects carry neither created nor livemode; the row keeps the creation time for lists.
  const data = canonicalize(card);
  await ctx.tx.insert(ctx.scope, { id, type: 'card', created: ctx.now(), data, index: indexEntries(cards, data) });
  return data;
}

/** A source parameter (`tok_*`, a stored token, or a card id of the customer) as a Card object. */
export async function resolveSource(ctx: WriteContext, source: string, customer: string | null, param = 'source'): Promise<Obj> {
  if (source.startsWith('card_')) {
    const row = await ctx.tx.get(ctx.scope, source);
    if (!row || row.type !== 'card' || row.deleted || (customer !== null && row.data.customer !== customer)) {
      throw customer ? invalidRequest(`Customer ${customer} does not have a linked source with ID ${source}.`, param, 'missing') : noSuchResource('source', source, param);
    }
    return row.data;
  }
  if (source.startsWith('tok_') || cardByToken(source)) {
    const input = await cardFromToken(ctx, source, param);
    return insertCard(ctx, input, customer);
  }
  throw noSuchResource('source', source, param);
}

/** Cards are stored with created/livemode for listing; the API shape has neither. */
export function publicCard(card: Obj): Obj {
  const { created: _c, livemode: _l, ...rest } = card;
  return rest;
}

async function customerCard(ctx: ReadContext, customer: string, id: string): Promise<StoredObject> {
  const row = await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'card' || row.deleted || row.data.customer !== customer) throw noSuchResource('source', id);
  return row;
}

/** Customer card sources: /v1/customers/{id}/sources (create from a token, list, retrieve, update, delete). */
export const cards: ResourceDef = {
  object: 'card',
  prefix: 'card',
  path: '/v1/pinstripe_cards', // no collection of its own: cards live under customers
  index: (c) => (c.customer ? [{ field: 'customer', value: c.customer }] : []),
  standard: { retrieve: false, list: false },
  operations: () => [
    {
      method: 'POST', path: '/v1/customers/{id}/sources', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const { loadCustomer } = await import('./payment-methods.js');
        const cusRow = await loadCustomer(ctx, path.id!, 'id');
        if (p.source === undefined) throw missingParam('source');
        if (typeof p.source !== 'string') throw invalidRequest('Pinstripe accepts source tokens only (not raw card hashes) here.', 'source');
        const card = await resolveSource(ctx, p.source, path.id!, 'source');
        const { emitEvent } = await import('../events/events.js');
        await emitEvent(ctx, 'customer.source.created', publicCard(card));
        if (!cusRow.data.default_source) {
          const fresh = (await ctx.tx.getForUpdate(ctx.scope, path.id!))!;
          const { customers } = await import('./customers.js');
          const { saveObject } = await import('./define.js');
          await saveObject(ctx, customers, fresh, { ...fresh.data, default_source: card.id });
        }
        return publicCard(card);
      },
    },
    {
      method: 'GET', path: '/v1/customers/{id}/sources', write: false, returnsList: true,
      handler: async (ctx, p, path) => {
        const { loadCustomer } = await import('./payment-methods.js');
        await loadCustomer(ctx, path.id!, 'id');
        const { listObjects } = await import('../api/list.js');
        const { rows, has_more } = await listObjects(ctx, {
          type: 'card', url: `/v1/customers/${path.id}/sources`, limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before,
          index: { field: 'customer', value: path.id! }, filter: p.object !== undefined ? () => p.object === 'card' : undefined,
        });
        return { object: 'list', data: rows.map((r) => publicCard(r.data)), has_more, url: `/v1/customers/${path.id}/sources` };
      },
    },
    { method: 'GET', path: '/v1/customers/{id}/sources/{source}', write: false, handler: async (ctx, _p, path) => publicCard((await customerCard(ctx, path.id!, path.source!)).data) },
    {
      method: 'POST', path: '/v1/customers/{id}/sources/{source}', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await customerCard(ctx, path.id!, path.source!);
        const next = { ...row.data };
        for (const k of ['address_city', 'address_country', 'address_line1', 'address_line2', 'address_state', 'address_zip', 'name', 'exp_month', 'exp_year'] as const) {
          if (p[k] !== undefined) next[k] = k === 'exp_month' || k === 'exp_year' ? Number(p[k]) : p[k];
        }
        const { applyMetadata } = await import('../api/metadata.js');
        next.metadata = applyMetadata(next.metadata, p.metadata);
        const { saveObject } = await import('./define.js');
        const saved = await saveObject(ctx, cards, row, next, 'customer.source.updated');
        return publicCard(saved);
      },
    },
    {
      method: 'DELETE', path: '/v1/customers/{id}/sources/{source}', write: true,
      handler: async (c, _p, path) => {
        const ctx = c as WriteContext;
        const row = await customerCard(ctx, path.id!, path.source!);
        await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: row.data, index: [], deleted: true });
        const { emitEvent } = await import('../events/events.js');
        await emitEvent(ctx, 'customer.source.deleted', publicCard(row.data));
        const cus = (await ctx.tx.getForUpdate(ctx.scope, path.id!))!;
        if (cus.data.default_source === row.id) {
          const { customers } = await import('./customers.js');
          const { saveObject } = await import('./define.js');
          await saveObject(ctx, customers, cus, { ...cus.data, default_source: null });
        }
        return { id: row.id, object: 'card', deleted: true };
      },
    },
  ],
};

/** The hidden row behind a tokenized bank account: its public object and its payout outcome. */
export const BANK_ACCOUNT_ROW = 'bank_account';
/** Hidden row `<ba_ or card_ id>:payout` of a payout destination: how payouts to it end. */
export const PAYOUT_OUTCOME_ROW = 'payout_outcome';

/**
 * A bank account token (`btok_…`, as Stripe.js or `tokens.create({ bank_account })` makes it).
 * Its `ba_…` id is a payout destination here; Stripe's test account numbers decide the outcome.
 */
async function createBankAccountToken(ctx: WriteContext, b: Params): Promise<Obj> {
  if (typeof b !== 'object' || b === null) throw invalidRequest('Invalid bank_account', 'bank_account');
  if (b.country === undefined) throw missingParam('bank_account[country]');
  if (b.account_number === undefined) throw missingParam('bank_account[account_number]');
  const country = String(b.country).toUpperCase();
  const number = String(b.account_number);
  const routing = b.routing_number === undefined ? null : String(b.routing_number);
  if (country === 'US') {
    if (routing === null) throw missingParam('bank_account[routing_number]');
    if (!/^\d{9}$/.test(routing)) throw invalidRequest(`Routing number must have 9 digits`, 'bank_account[routing_number]');
  }
  if (!/^[0-9A-Za-z]{4,34}$/.test(number)) throw invalidRequest('Invalid account number', 'bank_account[account_number]');
  const id = ctx.services.ids.id('ba');
  const bank: Obj = {
    id, object: 'bank_account', account_holder_name: b.account_holder_name ?? null, account_holder_type: b.account_holder_type ?? null,
    account_type: b.account_type ?? null, bank_name: 'STRIPE TEST BANK', country, currency: String(b.currency ?? (country === 'US' ? 'usd' : 'eur')).toLowerCase(),
    fingerprint: bankFingerprint(ctx.scope.account, `${routing ?? ''}:${number}`), last4: number.slice(-4), routing_number: routing, status: 'new',
  };
  // The account number itself is not kept: only the failure its test number makes.
  // The row holds the public object (so `expand[]=destination` shows it); the outcome is beside it.
  await ctx.tx.insert(ctx.scope, { id, type: BANK_ACCOUNT_ROW, created: ctx.now(), data: canonicalize(bank), index: [] });
  await ctx.tx.insert(ctx.scope, { id: `${id}:payout`, type: PAYOUT_OUTCOME_ROW, created: ctx.now(), data: { failure: payoutFailureCode(number), instant_eligible: number !== PAYOUT_INSTANT_INELIGIBLE }, index: [] });
  const base = { ...newObjectBase(ctx, tokens), id: ctx.services.ids.id('btok') };
  return insertObject(ctx, tokens, { ...base, bank_account: bank, client_ip: null, type: 'bank_account', used: false });
}

export const tokens: ResourceDef = {
  object: 'token',
  prefix: 'tok',
  path: '/v1/tokens',
  standard: { retrieve: false, list: false },
  operations: () => [
    {
      method: 'POST', path: '/v1/tokens', write: true, publishable: true,
      handler: async (c, p) => {
        const ctx = c as WriteContext;
        if (p.bank_account !== undefined) return createBankAccountToken(ctx, p.bank_account);
        for (const k of ['account', 'person', 'pii', 'cvc_update', 'customer'] as const) {
          if (p[k] !== undefined) throw invalidRequest(`Pinstripe supports card tokens only (not \`${k}\`) for now.`, k);
        }
        if (p.card === undefined) throw missingParam('card');
        let input: CardInput;
        let raw: Params = {};
        if (typeof p.card === 'string') {
          throw invalidRequest('Pinstripe does not support creating tokens from card ids (Connect) yet.', 'card');
        } else {
          raw = p.card;
          const num = (v: unknown) => (v === undefined || v === null ? v : /^\d+$/.test(String(v)) ? Number(v) : v);
          input = cardFromRawData(ctx, { ...raw, exp_month: num(raw.exp_month), exp_year: num(raw.exp_year) }, 'card', { address: { line1: raw.address_line1, postal_code: raw.address_zip } });
        }
        const base = newObjectBase(ctx, tokens);
        const token: Obj = {
          ...base, card: legacyCard(ctx, ctx.services.ids.id('card'), input, raw, null), client_ip: null, type: 'card', used: false,
        };
        await storeCardRef(ctx, base.id, input.ref);
        return insertObject(ctx, tokens, token);
      },
    },
    {
      method: 'GET', path: '/v1/tokens/{id}', write: false,
      handler: async (ctx, _p, path) => {
        const magic = cardByToken(path.id!);
        const row = await ctx.db.get(ctx.scope, path.id!);
        if (!row || row.type !== 'token') {
          if (magic) throw noSuchResource('token', path.id!);
          throw noSuchResource('token', path.id!);
        }
        return row.data;
      },
    },
  ],
};
