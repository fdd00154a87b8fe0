// The simulated card network: every payment path (PaymentIntents, SetupIntents, PaymentMethod
// attach, legacy charges) asks it what happens to a card. It decides 3-D Secure, Radar and the
// issuer's answer from the test card table, and builds the Stripe-shaped pieces that record
// it: charge `outcome`, `payment_method_details.card`, checks, card errors.
//
// Card numbers never leave this module: a PaymentMethod or token stores a hidden reference
// (object type `pinstripe.card_ref`, never listed or routed) naming the table entry.
import { StripeError } from '../../api/errors.js';
import type { ReadContext, WriteContext } from '../../api/context.js';
import {
  DECLINES, TEST_CARDS, cardByKey, fingerprint, last4,
  type DeclineCode, type TestCard,
} from './cards.js';

export * from './cards.js';

export const CARD_REF_TYPE = 'pinstripe.card_ref';

/** What Pinstripe remembers about a card beyond its public fields. */
export interface CardRef {
  key: string;
  /** Which of CVC, address line 1 and postal code were supplied (the checks they get). */
  cvc: boolean;
  line1: boolean;
  postal: boolean;
  /** Set up for future off-session use (SetupIntent or setup_future_usage succeeded). */
  setUp: boolean;
}

const refId = (ownerId: string) => `${ownerId}.card`;

export async function storeCardRef(ctx: WriteContext, ownerId: string, ref: CardRef): Promise<void> {
  await ctx.tx.insert(ctx.scope, { id: refId(ownerId), type: CARD_REF_TYPE, created: ctx.now(), data: { ...ref }, index: [] });
}

export async function loadCardRef(ctx: ReadContext, ownerId: string): Promise<{ ref: CardRef; card: TestCard; version: number } | null> {
  const row = await ctx.db.get(ctx.scope, refId(ownerId));
  if (!row || row.type !== CARD_REF_TYPE) {
    const owner = row ? null : await ctx.db.get(ctx.scope, ownerId);
    const derived = owner && !owner.deleted ? derivedCardRef(ctx.scope.account, owner.data) : null;
    return derived ? { ...derived, version: 0 } : null;
  }
  const card = cardByKey(row.data.key);
  return card ? { ref: row.data as CardRef, card, version: row.version } : null;
}

const BY_LAST4 = new Map<string, TestCard[]>();
for (const c of TEST_CARDS) {
  const l4 = last4(c);
  BY_LAST4.set(l4, [...(BY_LAST4.get(l4) ?? []), c]);
}

/**
 * The card and reference of a card PaymentMethod stored without a reference row (the `pm_card_*`
 * test ids make those: one row fewer per payment), read back from its public fields: the card
 * is the table entry whose fingerprint (per account and number, see cards.ts) the PaymentMethod
 * carries, and `card.checks` says which of CVC, line 1 and postal code were supplied (null: not
 * supplied; those checks never change once the PaymentMethod is made). Such a PaymentMethod is
 * not set up until markSetUp writes its reference row.
 */
export function derivedCardRef(account: string, pm: Record<string, any>): { ref: CardRef; card: TestCard } | null {
  const c = pm.card;
  if (pm.object !== 'payment_method' || pm.type !== 'card' || !c || typeof c.last4 !== 'string') return null;
  for (const card of BY_LAST4.get(c.last4) ?? []) {
    if (card.brand !== c.brand || fingerprint(account, card) !== c.fingerprint) continue;
    const checks = c.checks ?? {};
    return {
      card,
      ref: { key: card.key, cvc: checks.cvc_check != null, line1: checks.address_line1_check != null, postal: checks.address_postal_code_check != null, setUp: false },
    };
  }
  return null;
}

/** The raw reference key (bank accounts store their outcome key here). */
export async function loadRefKey(ctx: ReadContext, ownerId: string): Promise<string | null> {
  const row = await ctx.db.get(ctx.scope, refId(ownerId));
  return row && row.type === CARD_REF_TYPE ? (row.data.key as string) : null;
}

export async function markSetUp(ctx: WriteContext, ownerId: string): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, refId(ownerId));
  if (!row) {
    // A PaymentMethod without a reference row (derivedCardRef): setting it up writes the row.
    const owner = await ctx.tx.get(ctx.scope, ownerId);
    const derived = owner && !owner.deleted ? derivedCardRef(ctx.scope.account, owner.data) : null;
    if (derived) await storeCardRef(ctx, ownerId, { ...derived.ref, setUp: true });
    return;
  }
  if (row.data.setUp) return;
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: { ...row.data, setUp: true }, index: [] });
}

/**
 * Bank accounts entered by hand must be verified with microdeposits before they are debited
 * (https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment#test-account-numbers);
 * the state lives on the account's hidden reference row.
 */
export interface BankVerification { verified: boolean; failedAttempts: number }

export async function loadBankVerification(ctx: ReadContext, ownerId: string): Promise<BankVerification> {
  const row = await ctx.db.get(ctx.scope, refId(ownerId));
  return { verified: !!row?.data.verified, failedAttempts: (row?.data.failedAttempts as number | undefined) ?? 0 };
}

export async function saveBankVerification(ctx: WriteContext, ownerId: string, v: BankVerification): Promise<void> {
  const row = await ctx.tx.getForUpdate(ctx.scope, refId(ownerId));
  if (!row) return;
  await ctx.tx.update(ctx.scope, { id: row.id, version: row.version, data: { ...row.data, verified: v.verified, failedAttempts: v.failedAttempts }, index: [] });
}

// ---- Public card fields

export type CheckResult = 'pass' | 'fail' | 'unavailable' | 'unchecked' | null;

export interface Checks {
  address_line1_check: CheckResult;
  address_postal_code_check: CheckResult;
  cvc_check: CheckResult;
}

/** The checks as the network answers them at authorization. */
export function networkChecks(card: TestCard, ref: CardRef): Checks {
  const b = card.behaviour;
  return {
    address_line1_check: ref.line1 ? (b.line1Check ?? 'pass') : null,
    address_postal_code_check: ref.postal ? (b.postalCheck ?? 'pass') : null,
    cvc_check: ref.cvc ? (b.cvcCheck ?? 'pass') : null,
  };
}

/** `card` of a PaymentMethod. */
export function paymentMethodCard(account: string, card: TestCard, ref: CardRef, exp: { month: number; year: number }, checks?: Checks): Record<string, unknown> {
  return {
    brand: card.brand,
    checks: checks ?? {
      address_line1_check: ref.line1 ? 'unchecked' : null,
      address_postal_code_check: ref.postal ? 'unchecked' : null,
      cvc_check: ref.cvc ? 'unchecked' : null,
    },
    country: card.country,
    display_brand: card.display_brand,
    exp_month: exp.month,
    exp_year: exp.year,
    fingerprint: fingerprint(account, card),
    funding: card.funding,
    generated_from: null,
    last4: last4(card),
    networks: { available: [card.brand], preferred: null },
    regulated_status: 'unregulated',
    three_d_secure_usage: { supported: card.behaviour.threeDS !== 'not_supported' },
    wallet: null,
  };
}

export interface ThreeDSResult {
  authentication_flow: string | null;
  electronic_commerce_indicator: string | null;
  exemption_indicator: string | null;
  result: string;
  result_reason: string | null;
  transaction_id: string | null;
  version: string;
}

/** `payment_method_details` of a Charge. */
export function chargeMethodDetails(pmCard: Record<string, any>, checks: Checks, amount: number, threeDS: ThreeDSResult | null, capturable: boolean): Record<string, unknown> {
  return {
    card: {
      amount_authorized: amount,
      authorization_code: null,
      brand: pmCard.brand,
      checks,
      country: pmCard.country,
      exp_month: pmCard.exp_month,
      exp_year: pmCard.exp_year,
      extended_authorization: { status: 'disabled' },
      fingerprint: pmCard.fingerprint,
      funding: pmCard.funding,
      incremental_authorization: { status: 'unavailable' },
      installments: null,
      last4: pmCard.last4,
      mandate: null,
      multicapture: { status: 'unavailable' },
      network: pmCard.brand === 'eftpos_au' ? 'eftpos_au' : pmCard.brand,
      network_token: { used: false },
      network_transaction_id: null,
      overcapture: { maximum_amount_capturable: amount, status: capturable ? 'available' : 'unavailable' },
      regulated_status: 'unregulated',
      three_d_secure: threeDS,
      wallet: null,
    },
    type: 'card',
  };
}

// ---- Authorization

/**
 * What the network answers. `cvc_check_failed` is the CVC check failing (4000000000000101): Stripe
 * answers incorrect_cvc with `param: cvc` and no decline_code, unlike the issuer's incorrect_cvc
 * decline (4000000000000127).
 */
export type NetworkDecline = DeclineCode | 'authentication_required' | 'cvc_check_failed';

export interface AuthorizeRequest {
  card: TestCard;
  ref: CardRef;
  offSession: boolean;
  /** 3-D Secure was completed for this attempt. */
  authenticated: boolean;
  /** payment_method_options[card][request_three_d_secure]. */
  requestThreeDS?: 'automatic' | 'any' | 'challenge';
  /** A SetupIntent or attach verification, not a charge. */
  setup?: boolean;
}

export type Outcome = Record<string, unknown>;

export type AuthorizeResult =
  | { status: 'requires_action' }
  | { status: 'failed'; decline: NetworkDecline; outcome: Outcome; checks: Checks; blocked: boolean }
  | { status: 'succeeded'; outcome: Outcome; checks: Checks; review: boolean };

export const DECLINE_INFO: Record<NetworkDecline, { code: string; message: string; param?: string; noDeclineCode?: boolean }> = {
  ...DECLINES,
  incorrect_cvc: { ...DECLINES.incorrect_cvc, param: 'cvc' },
  cvc_check_failed: { code: 'incorrect_cvc', message: DECLINES.incorrect_cvc.message, param: 'cvc', noDeclineCode: true },
  authentication_required: { code: 'authentication_required', message: 'Your card was declined. This transaction requires authentication.' },
};

function riskScore(ctx: ReadContext, low: number, high: number): number {
  const r = ctx.services.ids.random(3);
  let n = 0;
  for (const ch of r) n = n * 62 + '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'.indexOf(ch);
  return low + (n % (high - low + 1));
}

function outcome(o: Partial<Outcome>): Outcome {
  return {
    advice_code: null, network_advice_code: null, network_decline_code: null,
    network_status: null, reason: null, risk_level: 'normal', risk_score: 0, seller_message: null, type: 'authorized', ...o,
  };
}

export function declineOutcome(ctx: ReadContext, decline: NetworkDecline): Outcome {
  const advice: Partial<Record<NetworkDecline, string>> = {
    insufficient_funds: 'try_again_later', lost_card: 'do_not_try_again', stolen_card: 'do_not_try_again',
    expired_card: 'do_not_try_again', incorrect_cvc: 'confirm_card_data', processing_error: 'try_again_later',
    card_velocity_exceeded: 'try_again_later',
  };
  return outcome({
    advice_code: advice[decline] ?? null,
    network_status: 'declined_by_network',
    reason: decline === 'cvc_check_failed' ? 'incorrect_cvc' : decline,
    risk_level: 'normal',
    risk_score: riskScore(ctx, 0, 64),
    seller_message: decline === 'generic_decline' ? 'The bank did not return any further details with this decline.' : `The bank returned the decline code \`${decline === 'cvc_check_failed' ? 'incorrect_cvc' : decline}\`.`,
    type: 'issuer_declined',
  });
}

export function authorize(ctx: ReadContext, req: AuthorizeRequest): AuthorizeResult {
  const { card, ref } = req;
  const b = card.behaviour;
  const checks = networkChecks(card, ref);
  const fail = (decline: NetworkDecline): AuthorizeResult => ({ status: 'failed', decline, outcome: declineOutcome(ctx, decline), checks, blocked: false });

  // Radar runs first: blocked payments never reach the network.
  if (!req.setup && (b.risk === 'block' || b.risk === 'highest')) {
    // Stripe answers the always-blocked card with decline_code fraudulent and the highest-risk
    // card (blocked by the default Radar rule) with generic_decline.
    return {
      status: 'failed', decline: b.risk === 'block' ? 'fraudulent' : 'generic_decline', checks, blocked: true,
      outcome: outcome({
        network_status: 'not_sent_to_network', reason: 'highest_risk_level', risk_level: 'highest',
        risk_score: riskScore(ctx, 90, 99), seller_message: 'Stripe blocked this payment as too risky.', type: 'blocked',
      }),
    };
  }

  // 3-D Secure.
  if (!req.authenticated) {
    const needed =
      b.threeDS === 'always' ? true
        : b.threeDS === 'required' ? !(ref.setUp && req.offSession)
          : b.threeDS === 'not_supported' ? false
            : req.requestThreeDS === 'any' || req.requestThreeDS === 'challenge';
    if (needed) {
      if (req.offSession) return fail('authentication_required');
      return { status: 'requires_action' };
    }
  } else if (b.declineAfterAuth && !req.setup) {
    return fail(b.declineAfterAuth);
  }

  if (b.decline && !(req.setup && b.declineOnlyCharges)) return fail(b.decline);
  if (checks.cvc_check === 'fail') return fail('cvc_check_failed');

  if (req.setup) return { status: 'succeeded', outcome: outcome({}), checks, review: false };
  if (b.risk === 'elevated') {
    return {
      status: 'succeeded', checks, review: true,
      outcome: outcome({
        network_status: 'approved_by_network', reason: 'elevated_risk_level', risk_level: 'elevated', risk_score: riskScore(ctx, 65, 74),
        seller_message: 'Stripe evaluated this payment as having elevated risk, and placed it in your manual review queue.', type: 'manual_review',
      }),
    };
  }
  return {
    status: 'succeeded', checks, review: false,
    outcome: outcome({ network_status: 'approved_by_network', risk_score: riskScore(ctx, 0, 64), seller_message: 'Payment complete.', type: 'authorized' }),
  };
}

/** The 402 a declined card produces. */
export function cardError(decline: NetworkDecline, extra: { charge?: string; payment_intent?: unknown; payment_method?: unknown; setup_intent?: unknown } = {}): StripeError {
  const info = DECLINE_INFO[decline];
  return new StripeError(402, {
    type: 'card_error', code: info.code, ...(info.noDeclineCode ? {} : { decline_code: decline }), message: info.message,
    ...(info.param ? { param: info.param } : {}),
    ...(extra.charge ? { charge: extra.charge } : {}),
    ...(extra.payment_intent ? { payment_intent: extra.payment_intent } : {}),
    ...(extra.payment_method ? { payment_method: extra.payment_method } : {}),
    ...(extra.setup_intent ? { setup_intent: extra.setup_intent } : {}),
  });
}

/** `last_payment_error` of an intent after a decline. */
export function lastPaymentError(decline: NetworkDecline, charge: string | null, paymentMethod: unknown): Record<string, unknown> {
  const info = DECLINE_INFO[decline];
  return {
    ...(charge ? { charge } : {}),
    code: info.code,
    ...(info.noDeclineCode ? {} : { decline_code: decline }),
    doc_url: `https://stripe.com/docs/error-codes/${info.code.replace(/_/g, '-')}`,
    message: info.message,
    ...(info.param ? { param: info.param } : {}),
    payment_method: paymentMethod,
    type: 'card_error',
  };
}

export function threeDSecureResult(ctx: ReadContext): ThreeDSResult {
  const r = ctx.services.ids.random(32).toLowerCase();
  return {
    authentication_flow: 'challenge', electronic_commerce_indicator: '05', exemption_indicator: null, result: 'authenticated',
    result_reason: null, transaction_id: `${r.slice(0, 8)}-${r.slice(8, 12)}-${r.slice(12, 16)}-${r.slice(16, 20)}-${r.slice(20, 32)}`, version: '2.2.0',
  };
}
