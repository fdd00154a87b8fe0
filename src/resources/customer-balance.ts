// Customer balance transactions — https://docs.stripe.com/api/customer_balance_transactions
// POST /v1/customers/{id}/balance_transactions (amount, currency, description, metadata: an
// `adjustment`; negative amounts are credit, positive debit), list, retrieve, update
// (description, metadata). Every balance change goes through engine/billing/invoices.ts
// (recordCustomerBalance), which moves customer.balance in the same transaction and emits
// customer.updated; invoices add applied_to_invoice / unapplied_from_invoice, credit notes
// credit_note. Stripe has no event type for the transactions themselves.
import { invalidRequest, missingParam } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { listObjects } from '../api/list.js';
import { canonicalize } from '../api/render.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { clockContext, recordCustomerBalance } from '../engine/billing/invoices.js';
import type { StoredObject } from '../store/store.js';
import type { Obj, ResourceDef } from './define.js';

export const CUSTOMER_BALANCE_TRANSACTION = 'customer_balance_transaction';

async function customerOf(ctx: ReadContext, id: string): Promise<Obj> {
  const row = await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== 'customer' || row.deleted) throw invalidRequest(`No such customer: '${id}'`, 'customer', 'resource_missing', 404);
  return row.data;
}

async function loadTxn(ctx: ReadContext, customer: string, id: string, forUpdate = false): Promise<StoredObject> {
  await customerOf(ctx, customer);
  const row = forUpdate ? await (ctx as WriteContext).tx.getForUpdate(ctx.scope, id) : await ctx.db.get(ctx.scope, id);
  if (!row || row.type !== CUSTOMER_BALANCE_TRANSACTION || row.deleted || row.data.customer !== customer) {
    throw invalidRequest(`No such customer_balance_transaction: '${id}'`, 'transaction', 'resource_missing', 404);
  }
  return row;
}

export const customerBalanceTransactions: ResourceDef = {
  object: CUSTOMER_BALANCE_TRANSACTION,
  prefix: 'cbtxn',
  path: '/v1/customers/{id}/balance_transactions',
  standard: { create: false, retrieve: false, update: false, delete: false, list: false, search: false },
  operations: () => [
    {
      method: 'POST', path: '/v1/customers/{id}/balance_transactions', write: true,
      handler: async (c, p, path) => {
        const w = c as WriteContext;
        const customer = await customerOf(w, path.id!);
        const ctx = await clockContext(w, customer);
        if (p.amount === undefined) throw missingParam('amount');
        if (p.currency === undefined) throw missingParam('currency');
        const currency = String(p.currency).toLowerCase();
        if (customer.currency && customer.currency !== currency) {
          throw invalidRequest(`The currency of a customer balance transaction must match the customer's currency (${customer.currency}); ${currency} was given.`, 'currency');
        }
        return recordCustomerBalance(ctx, customer.id, {
          amount: p.amount, currency, type: 'adjustment', description: p.description ?? null, metadata: applyMetadata({}, p.metadata),
        });
      },
    },
    {
      method: 'GET', path: '/v1/customers/{id}/balance_transactions', write: false, returnsList: true,
      handler: async (ctx, p, path) => {
        await customerOf(ctx, path.id!);
        const url = `/v1/customers/${path.id}/balance_transactions`;
        const { rows, has_more } = await listObjects(ctx, {
          type: CUSTOMER_BALANCE_TRANSACTION, url, limit: p.limit, starting_after: p.starting_after, ending_before: p.ending_before,
          created: p.created, index: { field: 'customer', value: path.id! },
          ...(p.invoice !== undefined ? { filter: (d: Obj) => d.invoice === p.invoice } : {}),
        });
        return { object: 'list', data: rows.map((r) => r.data), has_more, url };
      },
    },
    {
      method: 'GET', path: '/v1/customers/{customerId}/balance_transactions/{id}', write: false,
      handler: async (ctx, _p, path) => (await loadTxn(ctx, path.customerId!, path.id!)).data,
    },
    {
      method: 'POST', path: '/v1/customers/{customerId}/balance_transactions/{id}', write: true,
      handler: async (c, p, path) => {
        const ctx = c as WriteContext;
        const row = await loadTxn(ctx, path.customerId!, path.id!, true);
        const next = structuredClone(row.data);
        if (p.description !== undefined) next.description = p.description;
        next.metadata = applyMetadata(next.metadata ?? {}, p.metadata);
        const data = canonicalize(next);
        await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data, index: [{ field: 'customer', value: next.customer }] });
        return data;
      },
    },
  ],
};
