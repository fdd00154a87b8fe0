// Payout destinations (https://docs.stripe.com/connect/testing#payouts): the account's default
// bank account, a bank account tokenized on the account (`ba_…` / `btok_…`), or a debit card:
// Stripe's payout test tokens (`tok_visa_debit_us_transferSuccess`, `…_transferFail`,
// `…_instantPayoutUnsupported`, the Mastercard and Discover debit ones), any debit `tok_*` test
// token or a card token made with tokens.create({ card }). A card becomes a `card_…` external
// account the first time it is used; credit and prepaid cards are refused (invalid_card_type).
// Instant Payouts (method=instant) need an eligible destination, USD, and at most the
// instant_available balance (card funds, pending ones included); see payouts.ts.
import { StripeError, noSuchResource } from '../api/errors.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { cardByToken } from '../engine/payments/index.js';
import { BANK_ACCOUNT_ROW, PAYOUT_OUTCOME_ROW, legacyCard } from './tokens.js';
import { cardFromToken } from './payment-methods.js';
import { canonicalize } from '../api/render.js';
import type { Obj } from './define.js';

/** Row of a debit card used as a payout destination: its public Card (the outcome is in `<id>:payout`). */
export const PAYOUT_CARD_ROW = 'payout_card';

export interface PayoutDestination {
  id: string;
  type: 'bank_account' | 'card';
  /** The failure_code a payout to it ends with (null: it is paid). */
  failure: string | null;
  instantEligible: boolean;
}

/** Card payout outcomes of Stripe's debit test cards, by card key. */
const CARD_OUTCOMES: Record<string, { failure?: string; instantIneligible?: boolean }> = {
  visa_debit_transfer_fail: { failure: 'could_not_process' },
  visa_debit_instant_unsupported: { instantIneligible: true },
};

/** Stripe's failure_message for the card payout failure codes (its payout failure code table). */
export const CARD_PAYOUT_FAILURES: Record<string, string> = {
  could_not_process: 'The bank could not process this payout.',
};

export const INSTANT_UNSUPPORTED_CARD = 'This card is not eligible for Instant Payouts. Try a debit card from a supported bank.';
export const INSTANT_UNSUPPORTED_BANK = 'This bank account is not eligible for Instant Payouts. Try a debit card or a bank account from a supported bank.';
const INVALID_CARD_TYPE = "The card provided as an external account isn't supported for payouts. Provide a non-prepaid debit card instead.";

/** The account's default bank account for payouts: a stable id per account. */
export const defaultDestination = (ctx: ReadContext) => `ba_${ctx.scope.account.slice(5).padEnd(24, '0').slice(0, 24)}`;

async function outcome(ctx: WriteContext, id: string, type: 'bank_account' | 'card', data: Obj): Promise<PayoutDestination> {
  const row = await ctx.tx.get(ctx.scope, `${id}:payout`);
  if (row?.type === PAYOUT_OUTCOME_ROW) return { id, type, failure: row.data.failure ?? null, instantEligible: row.data.instant_eligible !== false };
  // Bank account rows written before the outcome row existed kept it inline.
  return { id, type, failure: data.payout_failure ?? null, instantEligible: true };
}

/** Resolves a payout's `destination` parameter (undefined: the default bank account). */
export async function resolvePayoutDestination(ctx: WriteContext, dest: string | undefined): Promise<PayoutDestination> {
  if (dest === undefined || dest === defaultDestination(ctx)) return { id: defaultDestination(ctx), type: 'bank_account', failure: null, instantEligible: true };
  const missing = () => noSuchResource('external account', dest, 'destination');
  if (dest.startsWith('ba_')) {
    const row = await ctx.tx.get(ctx.scope, dest);
    if (!row || row.type !== BANK_ACCOUNT_ROW) throw missing();
    return outcome(ctx, dest, 'bank_account', row.data);
  }
  if (dest.startsWith('card_')) {
    const row = await ctx.tx.get(ctx.scope, dest);
    if (!row || row.type !== PAYOUT_CARD_ROW) throw missing();
    return outcome(ctx, dest, 'card', row.data);
  }
  if (dest.startsWith('btok_')) {
    const tok = await ctx.tx.get(ctx.scope, dest);
    if (!tok || tok.type !== 'token' || tok.data.type !== 'bank_account') throw missing();
    const row = await ctx.tx.get(ctx.scope, tok.data.bank_account.id);
    if (!row || row.type !== BANK_ACCOUNT_ROW) throw missing();
    return outcome(ctx, row.id, 'bank_account', row.data);
  }
  if (dest.startsWith('tok_') || cardByToken(dest)) {
    const input = await cardFromToken(ctx, dest, 'destination');
    if (input.card.funding !== 'debit') throw new StripeError(400, { type: 'invalid_request_error', code: 'invalid_card_type', message: INVALID_CARD_TYPE, param: 'destination' });
    const found = CARD_OUTCOMES[input.card.key] ?? {};
    const id = ctx.services.ids.id('card');
    const card = canonicalize({ ...legacyCard(ctx, id, input), available_payout_methods: found.instantIneligible ? ['standard'] : ['standard', 'instant'], currency: 'usd' });
    await ctx.tx.insert(ctx.scope, { id, type: PAYOUT_CARD_ROW, created: ctx.now(), index: [], data: card });
    await ctx.tx.insert(ctx.scope, { id: `${id}:payout`, type: PAYOUT_OUTCOME_ROW, created: ctx.now(), index: [], data: { failure: found.failure ?? null, instant_eligible: !found.instantIneligible } });
    return { id, type: 'card', failure: found.failure ?? null, instantEligible: !found.instantIneligible };
  }
  throw missing();
}

/** A payout failure's message, for bank and card codes alike. */
export function cardPayoutFailure(code: string): { code: string; message: string } | null {
  const message = CARD_PAYOUT_FAILURES[code];
  return message ? { code, message } : null;
}

/** instant_available of the balance: card funds can be paid out instantly as soon as the charge completes (USD). */
export function instantAvailable(balance: Obj): Obj[] {
  const amountOf = (list: Obj[]) => list.find((b) => b.currency === 'usd')?.amount ?? 0;
  const amount = Math.max(0, amountOf(balance.available) + amountOf(balance.pending));
  return [{ amount, currency: 'usd', source_types: { card: amount } }];
}

/** Stripe's Instant Payouts fee: 1% of the payout amount (https://support.stripe.com/questions/what-are-instant-payouts-and-who-is-eligible), at least $0.50. */
export function instantPayoutFee(amount: number): number {
  return Math.max(50, Math.round(amount * 0.01));
}
