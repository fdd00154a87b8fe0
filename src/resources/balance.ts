// Balance — https://docs.stripe.com/api/balance — and BalanceTransactions —
// https://docs.stripe.com/api/balance_transactions: retrieve and list (type, source, payout,
// currency, created). Status is computed against the clock: pending until available_on.
import { noSuchResource } from '../api/errors.js';
import { listObjects } from '../api/list.js';
import type { ReadContext } from '../api/context.js';
import { BALANCE_TRANSACTION, computeBalance, currentView } from '../engine/ledger.js';
import type { ResourceDef } from './define.js';
import { instantAvailable } from './payout-destinations.js';

async function listTransactions(ctx: ReadContext, p: Record<string, any>) {
  // Currency has no index entry (src/engine/ledger.ts): the filter below applies it.
  const index = p.source !== undefined || p.payout !== undefined ? { field: 'source', value: p.source ?? p.payout }
    : p.type !== undefined ? { field: 'type', value: p.type } : undefined;
  const filter = (d: Record<string, any>) =>
    (p.type === undefined || d.type === p.type) && (p.currency === undefined || d.currency === p.currency.toLowerCase())
    && (p.source === undefined || d.source === p.source) && (p.payout === undefined || d.source === p.payout);
  const { rows, has_more } = await listObjects(ctx, {
    type: BALANCE_TRANSACTION, url: '/v1/balance_transactions', limit: p.limit, starting_after: p.starting_after,
    ending_before: p.ending_before, created: p.created, index, filter,
  });
  return { object: 'list', data: rows.map((r) => currentView(ctx, r.data)), has_more, url: '/v1/balance_transactions' };
}

export const balanceTransactions: ResourceDef = {
  object: BALANCE_TRANSACTION,
  prefix: 'txn',
  path: '/v1/balance_transactions',
  standard: { retrieve: false, list: false },
  operations: () => [
    {
      method: 'GET', path: '/v1/balance_transactions/{id}', write: false,
      handler: async (ctx, _p, path) => {
        const row = await ctx.db.get(ctx.scope, path.id!);
        if (!row || row.type !== BALANCE_TRANSACTION) throw noSuchResource('balance_transaction', path.id!);
        return currentView(ctx, row.data);
      },
    },
    { method: 'GET', path: '/v1/balance_transactions', write: false, returnsList: true, handler: (ctx, p) => listTransactions(ctx, p) },
    // The legacy alias of the balance transaction list.
    { method: 'GET', path: '/v1/balance/history', paramsKey: 'GET /v1/balance_transactions', write: false, returnsList: true, handler: (ctx, p) => listTransactions(ctx, p) },
    {
      method: 'GET', path: '/v1/balance', write: false,
      // instant_available: what Instant Payouts can pay out now (payout-destinations.ts).
      handler: async (ctx) => { const b = await computeBalance(ctx); return { ...b, instant_available: instantAvailable(b) }; },
    },
  ],
};
