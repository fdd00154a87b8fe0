// Bank debits of the simulated network: Stripe's test bank accounts for `us_bank_account`
// (ACH, https://docs.stripe.com/payments/ach-direct-debit/accept-a-payment#test-account-numbers)
// and `sepa_debit` (https://docs.stripe.com/testing#sepa-direct-debit). Debits are
// asynchronous: the PaymentIntent is `processing` until the clock passes BANK_SETTLE_SECONDS,
// then succeeds or fails with the account's failure code. Account numbers are not stored.
import { createHash } from 'node:crypto';

export const BANK_SETTLE_SECONDS = 10;

export type BankType = 'us_bank_account' | 'sepa_debit';

export interface BankFailure { code: string; message: string }

const ACH_FAILURES: Record<string, BankFailure> = {
  '000111111113': { code: 'account_closed', message: "The customer's bank account has been closed." },
  '000111111116': { code: 'no_account', message: "The customer's bank account could not be located." },
  '000222222227': { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." },
  '000333333335': { code: 'debit_not_authorized', message: 'The customer has notified their bank that this payment was unauthorized.' },
  '000444444440': { code: 'invalid_currency', message: 'The bank was unable to process this payment because of its currency.' },
  '000777777771': { code: 'charge_exceeds_source_limit', message: "This payment would make the account exceed its weekly payment volume limit." },
};

const SEPA_FAILURES: Record<string, BankFailure> = {
  DE62370400440532013001: { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." },
  AT861904300235473202: { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." },
  FR8420041010050500013M02607: { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." },
  // https://docs.stripe.com/payments/sepa-debit/accept-a-payment#test-integration
  AT051904300235473205: { code: 'insufficient_funds', message: "The customer's account has insufficient funds to cover this payment." },
  AT981904300000343434: { code: 'charge_exceeds_source_limit', message: "This payment would make the account exceed its weekly payment volume limit." },
  AT601904300000121212: { code: 'charge_exceeds_weekly_limit', message: "This payment exceeds the account's transaction volume limit." },
};

/** SEPA test IBANs that succeed then are disputed, or settle only after three minutes. */
const SEPA_DISPUTE = 'AT591904300235473203';
const SEPA_SLOW = new Set(['AT321904300235473204', 'AT051904300235473205']);
/** How long the slow test accounts stay processing ("after at least three minutes"). */
export const BANK_SLOW_SETTLE_SECONDS = 180;

/** Seconds a debit from this account stays processing. */
export function bankSettleSeconds(key: string): number {
  return SEPA_SLOW.has(key.slice(5)) && key.startsWith('sepa:') ? BANK_SLOW_SETTLE_SECONDS : BANK_SETTLE_SECONDS;
}

/** ACH test account that stays processing indefinitely (for testing cancellation). */
export const ACH_PROCESSING = '000000000009';

/** ACH test account whose debit succeeds and is then disputed (pm_usBankAccount_dispute). */
export const ACH_DISPUTE = '000555555559';

/** ACH test account whose microdeposits cannot be sent (pm_usBankAccount_failMicrodeposits). */
export const ACH_FAIL_MICRODEPOSITS = '000666666661';

/** The microdeposits to this account fail, and with them the payment. */
export function bankMicrodepositsFail(key: string): boolean {
  return key === `ach:${ACH_FAIL_MICRODEPOSITS}`;
}

/** The debit succeeds, then the customer's bank disputes it. */
export function bankDisputes(key: string): boolean {
  return key === `ach:${ACH_DISPUTE}` || key === `sepa:${SEPA_DISPUTE}`;
}

/** The debit never settles by itself (the processing test account). */
export function bankStaysProcessing(key: string): boolean {
  return key === `ach:${ACH_PROCESSING}`;
}

/** Stripe's test microdeposit values (amounts in cents, or the 0.01 descriptor code). */
export type MicrodepositOutcome = 'verified' | 'attempts_exceeded' | 'timeout' | 'mismatch';

export function microdepositOutcome(p: { amounts?: number[]; descriptor_code?: string }): MicrodepositOutcome {
  if (p.descriptor_code !== undefined) {
    return ({ SM11AA: 'verified', SM33CC: 'attempts_exceeded', SM44DD: 'timeout' } as Record<string, MicrodepositOutcome>)[p.descriptor_code] ?? 'mismatch';
  }
  const [a, b] = [...(p.amounts ?? [])].sort((x, y) => x - y);
  if (a === 32 && b === 45) return 'verified';
  if (a === 10 && b === 11) return 'attempts_exceeded';
  if (a === 40 && b === 41) return 'timeout';
  return 'mismatch';
}

export const MICRODEPOSIT_ERRORS = {
  amounts_invalid: { code: 'payment_method_microdeposit_verification_amounts_invalid', message: 'You must provide exactly two microdeposit amounts.' },
  mismatch_amounts: { code: 'payment_method_microdeposit_verification_amounts_mismatch', message: 'The amounts provided do not match the amounts that were sent to the bank account.' },
  mismatch_descriptor: { code: 'payment_method_microdeposit_verification_descriptor_code_mismatch', message: 'The verification code provided does not match the one sent to the bank account.' },
  attempts_exceeded: { code: 'payment_method_microdeposit_verification_attempts_exceeded', message: 'You have exceeded the number of allowed verification attempts.' },
  timeout: { code: 'payment_method_microdeposit_verification_timeout', message: 'Payment method should be verified with microdeposits within the required period.' },
} as const;

/** Verification attempts allowed before the account is refused. */
export const MICRODEPOSIT_ATTEMPTS = 3;

export interface BankAccount {
  type: BankType;
  /** Stored in place of the account number: the outcome key. */
  key: string;
  last4: string;
  details: Record<string, unknown>;
}

const fp = (account: string, value: string) => {
  const d = createHash('sha256').update(`pinstripe-bank:${account}:${value}`).digest();
  const A = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 16; i++) s += A[d[i]! % 62];
  return s;
};

export function usBankAccount(account: string, p: { account_number: string; routing_number: string; account_holder_type?: string; account_type?: string }): BankAccount | { error: string; param: string } {
  if (!/^\d{9}$/.test(p.routing_number)) return { error: 'Routing number must have 9 digits', param: 'us_bank_account[routing_number]' };
  if (!/^\d{4,17}$/.test(p.account_number)) return { error: 'Invalid account number', param: 'us_bank_account[account_number]' };
  return {
    type: 'us_bank_account', key: ACH_FAILURES[p.account_number] || p.account_number === ACH_PROCESSING || p.account_number === ACH_DISPUTE || p.account_number === ACH_FAIL_MICRODEPOSITS ? `ach:${p.account_number}` : 'ach:ok', last4: p.account_number.slice(-4),
    details: {
      account_holder_type: p.account_holder_type ?? 'individual', account_type: p.account_type ?? 'checking', bank_name: 'STRIPE TEST BANK',
      financial_connections_account: null, fingerprint: fp(account, `${p.routing_number}:${p.account_number}`), last4: p.account_number.slice(-4),
      networks: { preferred: 'ach', supported: ['ach'] }, routing_number: p.routing_number, status_details: null,
    },
  };
}

export function sepaAccount(account: string, ibanRaw: string): BankAccount | { error: string; param: string } {
  const iban = ibanRaw.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(iban)) return { error: 'Invalid IBAN', param: 'sepa_debit[iban]' };
  return {
    type: 'sepa_debit', key: SEPA_FAILURES[iban] || iban === SEPA_DISPUTE || SEPA_SLOW.has(iban) ? `sepa:${iban}` : 'sepa:ok', last4: iban.slice(-4),
    details: {
      bank_code: iban.slice(4, 12), branch_code: '', country: iban.slice(0, 2), fingerprint: fp(account, iban),
      generated_from: { charge: null, setup_attempt: null }, last4: iban.slice(-4),
    },
  };
}

/** The outcome of a debit from an account key. */
export function bankOutcome(key: string): BankFailure | null {
  const [kind, value] = key.split(':') as [string, string];
  if (value === 'ok' || key === `ach:${ACH_PROCESSING}`) return null;
  return (kind === 'ach' ? ACH_FAILURES : SEPA_FAILURES)[value] ?? null;
}

/** Stripe's pricing for bank debits: 0.8% capped at $5.00 (ACH), 0.8% capped at €5.00 (SEPA: flat €0.35 in some plans). */
export function bankFee(amount: number): number {
  return Math.min(Math.round(amount * 0.008), 500);
}

/**
 * Payouts to Stripe's test bank accounts (https://docs.stripe.com/connect/testing#payouts):
 * routing 110000000 with these account numbers makes a payout fail with the code; any other
 * account succeeds. Messages are Stripe's (its payout failure code table).
 */
const PAYOUT_FAILURES: Record<string, BankFailure> = {
  '000111111116': { code: 'no_account', message: 'The bank account details on file are probably incorrect. No bank account could be located with those details.' },
  '000111111113': { code: 'account_closed', message: 'The bank account has been closed.' },
  '000222222227': { code: 'insufficient_funds', message: 'Your Stripe account has insufficient funds to cover the payout.' },
  '000333333335': { code: 'debit_not_authorized', message: 'Debit transactions are not approved on the bank account. (Stripe requires bank accounts to be set up for both credit and debit payouts.)' },
  '000444444440': { code: 'invalid_currency', message: 'The bank was unable to process this payout because of its currency. This is probably because the bank account cannot accept payments in that currency.' },
};

/** Payout test bank account that is not eligible for Instant Payouts (method=instant fails). */
export const PAYOUT_INSTANT_INELIGIBLE = '000888888883';

/** The payout failure an external bank account's number makes (null: the payout succeeds). */
export function payoutFailureCode(accountNumber: string): string | null {
  return PAYOUT_FAILURES[accountNumber]?.code ?? null;
}

/** Stripe's failure_message for a payout failure_code. */
export function payoutFailure(code: string): BankFailure | null {
  return Object.values(PAYOUT_FAILURES).find((f) => f.code === code) ?? null;
}

/** A bank account's fingerprint (stable per account and number). */
export const bankFingerprint = fp;
