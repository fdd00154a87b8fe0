// The ledger: BalanceTransactions for every movement of funds (charges, refunds, their
// failures), Stripe's standard US card pricing (2.9% + 30¢, https://stripe.com/pricing) with
// fee_details, availability two days after the charge (or at once for the bypassPending
// cards), and the balance per currency computed from them. A BalanceTransaction's `status`
// is `pending` until the clock reaches `available_on`; then a 'balance.available' timer of the
// scheduler emits balance.available with the new balance (one per instant funds become available).
import type { ReadContext, WriteContext } from '../api/context.js';
import { emitEvent } from '../events/events.js';
import { registerTimeHandler, scheduleTimer } from './scheduler.js';
import { decimals } from './payments/money.js';
import type { Obj } from '../resources/define.js';

export const BALANCE_TRANSACTION = 'balance_transaction';
const DAY = 86_400;
/** Card funds become available two days after the charge, at midnight UTC. */
export const AVAILABILITY_DAYS = 2;
const AVAILABLE_KIND = 'balance.available';

export function cardFee(amount: number, currency: string): number {
  const fixed = decimals(currency) === 2 ? 30 : decimals(currency) === 3 ? 300 : 0;
  return Math.round(amount * 0.029) + fixed;
}

export interface NewBalanceTransaction {
  amount: number;
  currency: string;
  type: string;
  reporting_category: string;
  source: string;
  description?: string | null;
  fee?: number;
  feeDescription?: string;
  /** Available immediately (bypassPending cards, debits). */
  immediate?: boolean;
}

/** Stores a balance transaction; returns its id. */
export async function recordBalanceTransaction(ctx: WriteContext, t: NewBalanceTransaction): Promise<Obj> {
  const now = ctx.now();
  const fee = t.fee ?? 0;
  const available_on = t.immediate ? now : Math.floor(now / DAY) * DAY + AVAILABILITY_DAYS * DAY;
  const txn: Obj = {
    id: ctx.services.ids.id('txn'),
    object: BALANCE_TRANSACTION,
    amount: t.amount,
    available_on,
    balance_type: 'payments',
    created: now,
    currency: t.currency,
    description: t.description ?? null,
    exchange_rate: null,
    fee,
    fee_details: fee ? [{ amount: fee, application: null, currency: t.currency, description: t.feeDescription ?? 'Stripe processing fees', type: 'stripe_fee' }] : [],
    net: t.amount - fee,
    reporting_category: t.reporting_category,
    source: t.source,
    status: available_on <= now ? 'available' : 'pending',
    type: t.type,
  };
  await ctx.tx.insert(ctx.scope, {
    id: txn.id, type: BALANCE_TRANSACTION, created: now, data: txn,
    // No `currency` entry: nearly every transaction of an account has the same currency, so a
    // currency-filtered list walks the type order and filters (src/resources/balance.ts); the
    // entry cost a row per payment. Rows written before still carry one, unused.
    index: [{ field: 'type', value: t.type }, { field: 'source', value: t.source }],
  });
  // The balance is the account's: its availability runs in real time.
  if (available_on > now) await scheduleTimer(ctx, { kind: AVAILABLE_KIND, key: String(available_on), at: available_on, testClock: null });
  return txn;
}

/** The transaction as of now: pending turns available once the clock passes available_on. */
export function currentView(ctx: ReadContext, txn: Obj): Obj {
  if (txn.status === 'pending' && txn.available_on <= ctx.now()) return { ...txn, status: 'available' };
  return txn;
}

/** balance.retrieve: available and pending per currency, from every balance transaction. */
export async function computeBalance(ctx: ReadContext): Promise<Obj> {
  const available = new Map<string, number>();
  const pending = new Map<string, number>();
  let after;
  for (;;) {
    const rows = await ctx.db.scan(ctx.scope, { type: BALANCE_TRANSACTION, direction: 'newer', limit: 500, after });
    for (const r of rows) {
      const t = currentView(ctx, r.data);
      const m = t.status === 'available' ? available : pending;
      m.set(t.currency, (m.get(t.currency) ?? 0) + t.net);
      (t.status === 'available' ? pending : available).set(t.currency, (t.status === 'available' ? pending : available).get(t.currency) ?? 0);
    }
    if (rows.length < 500) break;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, seq: last.seq };
  }
  if (!available.size) { available.set('usd', 0); pending.set('usd', 0); }
  const entries = (m: Map<string, number>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([currency, amount]) => ({ amount, currency, source_types: { card: amount } }));
  return { object: 'balance', available: entries(available), livemode: ctx.scope.livemode, pending: entries(pending) };
}

registerTimeHandler(AVAILABLE_KIND, {
  async run(ctx) { await emitEvent(ctx, 'balance.available', await computeBalance(ctx)); },
});
