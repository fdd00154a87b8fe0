// The simulated card network's data: Stripe's documented test cards
// (https://docs.stripe.com/testing), by number, `pm_card_*` PaymentMethod id and `tok_*` token,
// with brand, funding, country and the outcome each one produces. Every payment path looks
// cards up here; nothing else in Pinstripe knows a card number.
import { createHash } from 'node:crypto';

export type Brand = 'visa' | 'mastercard' | 'amex' | 'discover' | 'diners' | 'jcb' | 'unionpay' | 'cartes_bancaires' | 'eftpos_au';
export type Funding = 'credit' | 'debit' | 'prepaid' | 'unknown';

/** What the issuer / Radar / 3DS do with a charge on this card. */
export interface CardBehaviour {
  /** Charge (and attach) declines with this decline code. */
  decline?: DeclineCode;
  /** Attaching to a customer succeeds, charges fail (chargeCustomerFail). */
  declineOnlyCharges?: boolean;
  cvcCheck?: 'fail' | 'unavailable';
  line1Check?: 'fail' | 'unavailable';
  postalCheck?: 'fail' | 'unavailable';
  /** Radar: 'block' always blocked; 'highest' blocked by the default rule; 'elevated' placed in review. */
  risk?: 'block' | 'highest' | 'elevated';
  /**
   * 3-D Secure: 'required' (unless set up for off-session use), 'always' (every transaction, off-session fails),
   * 'optional' (supported, not required), 'not_supported'.
   */
  threeDS?: 'required' | 'always' | 'optional' | 'not_supported';
  /** Declines after a successful authentication (authenticationRequiredChargeDeclinedInsufficientFunds). */
  declineAfterAuth?: DeclineCode;
  dispute?: 'fraudulent' | 'product_not_received' | 'inquiry' | 'early_fraud_warning' | 'multiple' | 'ce3' | 'noncompliant';
  refund?: 'pending' | 'fail';
  /** Funds go straight to the available balance. */
  bypassPending?: boolean;
}

export type DeclineCode =
  | 'generic_decline' | 'insufficient_funds' | 'lost_card' | 'stolen_card' | 'expired_card'
  | 'incorrect_cvc' | 'processing_error' | 'card_velocity_exceeded' | 'fraudulent';

export interface TestCard {
  /** Stable key of the table entry (stored instead of the number). */
  key: string;
  number: string;
  brand: Brand;
  /** The network brand shown on `card.brand` (co-branded cards: the international network). */
  display_brand: string;
  funding: Funding;
  country: string;
  pm?: string;
  tok?: string;
  behaviour: CardBehaviour;
}

type Row = [key: string, number: string, brand: Brand, funding: Funding, country: string, pm: string | null, tok: string | null, behaviour?: CardBehaviour];

// Brands, funding and country cards.
const ROWS: Row[] = [
  ['visa', '4242424242424242', 'visa', 'credit', 'US', 'pm_card_visa', 'tok_visa'],
  ['visa_debit', '4000056655665556', 'visa', 'debit', 'US', 'pm_card_visa_debit', 'tok_visa_debit'],
  ['mastercard', '5555555555554444', 'mastercard', 'credit', 'US', 'pm_card_mastercard', 'tok_mastercard'],
  ['mastercard_2series', '2223003122003222', 'mastercard', 'credit', 'US', null, null],
  ['mastercard_debit', '5200828282828210', 'mastercard', 'debit', 'US', 'pm_card_mastercard_debit', 'tok_mastercard_debit'],
  ['mastercard_prepaid', '5105105105105100', 'mastercard', 'prepaid', 'US', 'pm_card_mastercard_prepaid', 'tok_mastercard_prepaid'],
  ['amex', '378282246310005', 'amex', 'credit', 'US', 'pm_card_amex', 'tok_amex', { threeDS: 'not_supported' }],
  ['amex2', '371449635398431', 'amex', 'credit', 'US', null, null],
  ['discover', '6011111111111117', 'discover', 'credit', 'US', 'pm_card_discover', 'tok_discover'],
  ['discover2', '6011000990139424', 'discover', 'credit', 'US', null, null],
  ['discover_debit', '6011981111111113', 'discover', 'debit', 'US', null, null],
  ['diners', '3056930009020004', 'diners', 'credit', 'US', 'pm_card_diners', 'tok_diners'],
  ['diners14', '36227206271667', 'diners', 'credit', 'US', null, null],
  ['jcb', '3566002020360505', 'jcb', 'credit', 'JP', 'pm_card_jcb', 'tok_jcb'],
  ['unionpay', '6200000000000005', 'unionpay', 'credit', 'CN', 'pm_card_unionpay', 'tok_unionpay'],
  ['unionpay_debit', '6200000000000047', 'unionpay', 'debit', 'CN', null, null],
  ['unionpay19', '6205500000000000004', 'unionpay', 'credit', 'CN', null, null],
  ['visa_cartes_bancaires', '4000002500001001', 'cartes_bancaires', 'credit', 'FR', 'pm_card_visa_cartesBancaires', 'tok_visa_cartesBancaires'],
  ['mastercard_cartes_bancaires', '5555552500001001', 'cartes_bancaires', 'credit', 'FR', 'pm_card_mastercard_cartesBancaires', 'tok_mastercard_cartesBancaires'],
  ['visa_eftpos', '4000050360000001', 'eftpos_au', 'debit', 'AU', 'pm_card_visa_debit_eftposAuCoBranded', 'tok_visa_debit_eftposAuCoBranded'],
  ['mastercard_eftpos', '5555050360000080', 'eftpos_au', 'debit', 'AU', 'pm_card_mastercard_debit_eftposAuCoBranded', 'tok_mastercard_debit_eftposAuCoBranded'],
  // Cards by country.
  ['us', '4000000000000077', 'visa', 'credit', 'US', 'pm_card_bypassPending', 'tok_bypassPending', { bypassPending: true }],
  ['us_bypass_intl', '4000003720000278', 'visa', 'credit', 'IE', 'pm_card_bypassPendingInternational', 'tok_bypassPendingInternational', { bypassPending: true }],
  ['ar', '4000000320000021', 'visa', 'credit', 'AR', 'pm_card_ar', 'tok_ar'],
  ['br', '4000000760000002', 'visa', 'credit', 'BR', 'pm_card_br', 'tok_br'],
  ['ca', '4000001240000000', 'visa', 'credit', 'CA', 'pm_card_ca', 'tok_ca'],
  ['mx', '4000004840008001', 'visa', 'credit', 'MX', 'pm_card_mx', 'tok_mx'],
  ['at', '4000000400000008', 'visa', 'credit', 'AT', 'pm_card_at', 'tok_at'],
  ['be', '4000000560000004', 'visa', 'credit', 'BE', 'pm_card_be', 'tok_be'],
  ['dk', '4000002080000001', 'visa', 'credit', 'DK', 'pm_card_dk', 'tok_dk'],
  ['fi', '4000002460000001', 'visa', 'credit', 'FI', 'pm_card_fi', 'tok_fi'],
  ['fr', '4000002500000003', 'visa', 'credit', 'FR', 'pm_card_fr', 'tok_fr'],
  ['de', '4000002760000016', 'visa', 'credit', 'DE', 'pm_card_de', 'tok_de'],
  ['ie', '4000003720000005', 'visa', 'credit', 'IE', 'pm_card_ie', 'tok_ie'],
  ['it', '4000003800000008', 'visa', 'credit', 'IT', 'pm_card_it', 'tok_it'],
  ['nl', '4000005280000002', 'visa', 'credit', 'NL', 'pm_card_nl', 'tok_nl'],
  ['no', '4000005780000007', 'visa', 'credit', 'NO', 'pm_card_no', 'tok_no'],
  ['pt', '4000006200000007', 'visa', 'credit', 'PT', 'pm_card_pt', 'tok_pt'],
  ['es', '4000007240000007', 'visa', 'credit', 'ES', 'pm_card_es', 'tok_es'],
  ['se', '4000007520000008', 'visa', 'credit', 'SE', 'pm_card_se', 'tok_se'],
  ['ch', '4000007560000009', 'visa', 'credit', 'CH', 'pm_card_ch', 'tok_ch'],
  ['gb', '4000008260000000', 'visa', 'credit', 'GB', 'pm_card_gb', 'tok_gb'],
  ['gb_debit', '4000058260000005', 'visa', 'debit', 'GB', 'pm_card_gb_debit', 'tok_gb_debit'],
  ['gb_mastercard', '5555558265554449', 'mastercard', 'credit', 'GB', 'pm_card_gb_mastercard', 'tok_gb_mastercard'],
  ['au', '4000000360000006', 'visa', 'credit', 'AU', 'pm_card_au', 'tok_au'],
  ['hk', '4000003440000004', 'visa', 'credit', 'HK', 'pm_card_hk', 'tok_hk'],
  ['in', '4000003560000008', 'visa', 'credit', 'IN', 'pm_card_in', 'tok_in'],
  ['jp', '4000003920000003', 'visa', 'credit', 'JP', 'pm_card_jp', 'tok_jp'],
  ['jp_jcb', '3530111333300000', 'jcb', 'credit', 'JP', 'pm_card_jcb_jp', 'tok_jcb_jp'],
  ['my', '4000004580000002', 'visa', 'credit', 'MY', 'pm_card_my', 'tok_my'],
  ['nz', '4000005540000008', 'visa', 'credit', 'NZ', 'pm_card_nz', 'tok_nz'],
  ['sg', '4000007020000003', 'visa', 'credit', 'SG', 'pm_card_sg', 'tok_sg'],
  ['th', '4000007640000003', 'visa', 'credit', 'TH', 'pm_card_th', 'tok_th'],
  // Declines.
  ['charge_declined', '4000000000000002', 'visa', 'credit', 'US', 'pm_card_chargeDeclined', 'tok_chargeDeclined', { decline: 'generic_decline' }],
  ['insufficient_funds', '4000000000009995', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedInsufficientFunds', 'tok_chargeDeclinedInsufficientFunds', { decline: 'insufficient_funds' }],
  ['lost_card', '4000000000009987', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedLostCard', 'tok_chargeDeclinedLostCard', { decline: 'lost_card' }],
  ['stolen_card', '4000000000009979', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedStolenCard', 'tok_chargeDeclinedStolenCard', { decline: 'stolen_card' }],
  ['expired_card', '4000000000000069', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedExpiredCard', 'tok_chargeDeclinedExpiredCard', { decline: 'expired_card' }],
  ['incorrect_cvc', '4000000000000127', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedIncorrectCvc', 'tok_chargeDeclinedIncorrectCvc', { decline: 'incorrect_cvc' }],
  ['processing_error', '4000000000000119', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedProcessingError', 'tok_chargeDeclinedProcessingError', { decline: 'processing_error' }],
  ['velocity_exceeded', '4000000000006975', 'visa', 'credit', 'US', 'pm_card_chargeDeclinedVelocityLimitExceeded', 'tok_chargeDeclinedVelocityLimitExceeded', { decline: 'card_velocity_exceeded' }],
  ['charge_customer_fail', '4000000000000341', 'visa', 'credit', 'US', 'pm_card_chargeCustomerFail', 'tok_chargeCustomerFail', { decline: 'generic_decline', declineOnlyCharges: true }],
  // Fraud prevention: checks and Radar.
  ['cvc_fail', '4000000000000101', 'visa', 'credit', 'US', 'pm_card_cvcCheckFail', 'tok_cvcCheckFail', { cvcCheck: 'fail' }],
  ['avs_zip_fail', '4000000000000036', 'visa', 'credit', 'US', 'pm_card_avsZipFail', 'tok_avsZipFail', { postalCheck: 'fail' }],
  ['avs_line1_fail', '4000000000000028', 'visa', 'credit', 'US', 'pm_card_avsLine1Fail', 'tok_avsLine1Fail', { line1Check: 'fail' }],
  ['avs_fail', '4000000000000010', 'visa', 'credit', 'US', 'pm_card_avsFail', 'tok_avsFail', { line1Check: 'fail', postalCheck: 'fail' }],
  ['avs_unchecked', '4000000000000044', 'visa', 'credit', 'US', 'pm_card_avsUnchecked', 'tok_avsUnchecked', { line1Check: 'unavailable', postalCheck: 'unavailable' }],
  ['radar_block', '4100000000000019', 'visa', 'credit', 'US', 'pm_card_radarBlock', 'tok_radarBlock', { risk: 'block' }],
  ['risk_highest', '4000000000004954', 'visa', 'credit', 'US', 'pm_card_riskLevelHighest', 'tok_riskLevelHighest', { risk: 'highest' }],
  ['risk_elevated', '4000000000009235', 'visa', 'credit', 'US', 'pm_card_riskLevelElevated', 'tok_riskLevelElevated', { risk: 'elevated' }],
  // 3-D Secure.
  ['auth_required_on_setup', '4000002500003155', 'visa', 'credit', 'US', 'pm_card_authenticationRequiredOnSetup', 'tok_authenticationRequiredOnSetup', { threeDS: 'required' }],
  ['auth_required', '4000002760003184', 'visa', 'credit', 'DE', 'pm_card_authenticationRequired', 'tok_authenticationRequired', { threeDS: 'always' }],
  ['auth_required_insufficient', '4000008260003178', 'visa', 'credit', 'GB', 'pm_card_authenticationRequiredChargeDeclinedInsufficientFunds', 'tok_authenticationRequiredChargeDeclinedInsufficientFunds', { threeDS: 'always', declineAfterAuth: 'insufficient_funds' }],
  ['threeds_required', '4000000000003063', 'visa', 'credit', 'US', 'pm_card_threeDSecureRequired', 'tok_threeDSecureRequired', { threeDS: 'always' }],
  ['threeds2_required', '4000000000003220', 'visa', 'credit', 'US', 'pm_card_threeDSecure2Required', 'tok_threeDSecure2Required', { threeDS: 'always' }],
  ['threeds_optional', '4000000000003055', 'visa', 'credit', 'US', 'pm_card_threeDSecureOptional', 'tok_threeDSecureOptional', { threeDS: 'optional' }],
  // Disputes.
  ['dispute_fraudulent', '4000000000000259', 'visa', 'credit', 'US', 'pm_card_createDispute', 'tok_createDispute', { dispute: 'fraudulent' }],
  ['dispute_not_received', '4000000000002685', 'visa', 'credit', 'US', 'pm_card_createDisputeProductNotReceived', 'tok_createDisputeProductNotReceived', { dispute: 'product_not_received' }],
  ['dispute_inquiry', '4000000000001976', 'visa', 'credit', 'US', 'pm_card_createDisputeInquiry', 'tok_createDisputeInquiry', { dispute: 'inquiry' }],
  ['early_fraud_warning', '4000000000005423', 'visa', 'credit', 'US', 'pm_card_createEarlyFraudWarning', 'tok_createEarlyFraudWarning', { dispute: 'early_fraud_warning' }],
  // More dispute cards of https://docs.stripe.com/testing#disputes (the prevention cards dispute as fraudulent: no Dispute Resolution here).
  ['dispute_multiple', '4000000404000079', 'visa', 'credit', 'US', 'pm_card_createMultipleDisputes', 'tok_createMultipleDisputes', { dispute: 'multiple' }],
  ['dispute_ce3', '4000000404000038', 'visa', 'credit', 'US', 'pm_card_createCe3EligibleDispute', 'tok_createCe3EligibleDispute', { dispute: 'ce3' }],
  ['dispute_compliance', '4000008400000779', 'visa', 'credit', 'US', 'pm_card_createComplianceDispute', 'tok_createComplianceDispute', { dispute: 'noncompliant' }],
  ['dispute_mc_compliance', '5105008400000002', 'mastercard', 'credit', 'US', 'pm_card_createMastercardComplianceDispute', 'tok_createMastercardComplianceDispute', { dispute: 'noncompliant' }],
  ['dispute_smart', '4000000001000043', 'visa', 'credit', 'US', 'pm_card_createAutoRepresentmentEligibleDispute', 'tok_createAutoRepresentmentEligibleDispute', { dispute: 'fraudulent' }],
  ['dispute_rdr', '4000000404004816', 'visa', 'credit', 'US', 'pm_card_createRapidDisputeResolutionDispute', 'tok_createRapidDisputeResolutionDispute', { dispute: 'fraudulent' }],
  ['dispute_ce3_block', '4000000404005649', 'visa', 'credit', 'US', 'pm_card_createCe3BlockDispute', 'tok_createCe3BlockDispute', { dispute: 'fraudulent' }],
  ['dispute_ethoca', '5105000300000018', 'mastercard', 'credit', 'US', 'pm_card_createEthocaAlert', 'tok_createEthocaAlert', { dispute: 'fraudulent' }],
  // Refunds.
  ['refund_pending', '4000000000007726', 'visa', 'credit', 'US', 'pm_card_pendingRefund', 'tok_pendingRefund', { refund: 'pending' }],
  ['refund_fail', '4000000000005126', 'visa', 'credit', 'US', 'pm_card_refundFail', 'tok_refundFail', { refund: 'fail' }],
  // Payouts to debit cards (https://docs.stripe.com/connect/testing#payouts): outcomes in resources/payout-destinations.ts.
  ['visa_debit_transfer_fail', '4000056655665572', 'visa', 'debit', 'US', null, 'tok_visa_debit_us_transferFail'],
  ['visa_debit_instant_unsupported', '4000056755665555', 'visa', 'debit', 'US', null, 'tok_visa_debit_us_instantPayoutUnsupported'],
];

// The Luhn-failing number is not a card; it only exists to produce incorrect_number.
const INCORRECT_NUMBER = '4242424242424241';

export const TEST_CARDS: readonly TestCard[] = ROWS.filter((r) => r[1] !== INCORRECT_NUMBER).map(([key, number, brand, funding, country, pm, tok, behaviour]) => ({
  key, number, brand,
  display_brand: brand,
  funding, country,
  ...(pm ? { pm } : {}),
  ...(tok ? { tok } : {}),
  behaviour: behaviour ?? {},
}));

const BY_NUMBER = new Map(TEST_CARDS.map((c) => [c.number, c]));
const BY_KEY = new Map(TEST_CARDS.map((c) => [c.key, c]));
const BY_PM = new Map(TEST_CARDS.filter((c) => c.pm).map((c) => [c.pm!, c]));
const BY_TOK = new Map(TEST_CARDS.filter((c) => c.tok).map((c) => [c.tok!, c]));

// Brand-less aliases Stripe documents for the co-branded and brand cards.
BY_PM.set('pm_card_visa_chargeDeclined', BY_KEY.get('charge_declined')!);
BY_PM.set('pm_card_visa_chargeDeclinedInsufficientFunds', BY_KEY.get('insufficient_funds')!);
BY_PM.set('pm_card_visa_chargeDeclinedLostCard', BY_KEY.get('lost_card')!);
BY_PM.set('pm_card_visa_chargeDeclinedStolenCard', BY_KEY.get('stolen_card')!);
BY_PM.set('pm_card_visa_chargeDeclinedExpiredCard', BY_KEY.get('expired_card')!);
BY_PM.set('pm_card_visa_chargeDeclinedIncorrectCvc', BY_KEY.get('incorrect_cvc')!);
BY_PM.set('pm_card_visa_chargeDeclinedProcessingError', BY_KEY.get('processing_error')!);
BY_PM.set('pm_card_chargeDeclinedFraudulent', BY_KEY.get('radar_block')!);
BY_PM.set('pm_card_us', BY_KEY.get('visa')!);
BY_PM.set('pm_card_amex_threeDSecureNotSupported', BY_KEY.get('amex')!);
BY_TOK.set('tok_chargeDeclinedFraudulent', BY_KEY.get('radar_block')!);
BY_TOK.set('tok_us', BY_KEY.get('visa')!);
// Stripe's testing page names the early-fraud-warning card createIssuerFraudRecord.
BY_PM.set('pm_card_createIssuerFraudRecord', BY_KEY.get('early_fraud_warning')!);
BY_TOK.set('tok_createIssuerFraudRecord', BY_KEY.get('early_fraud_warning')!);
BY_TOK.set('tok_visa_debit_us_transferSuccess', BY_KEY.get('visa_debit')!);
BY_TOK.set('tok_mastercard_debit_us_transferSuccess', BY_KEY.get('mastercard_debit')!);
BY_TOK.set('tok_discover_debit_us_transferSuccess', BY_KEY.get('discover_debit')!);

export const cardByKey = (key: string): TestCard | undefined => BY_KEY.get(key);
export const cardByPaymentMethodId = (id: string): TestCard | undefined => BY_PM.get(id);
export const cardByToken = (id: string): TestCard | undefined => BY_TOK.get(id);
export const isMagicPaymentMethod = (id: string): boolean => BY_PM.has(id);

export function luhnValid(number: string): boolean {
  let sum = 0;
  for (let i = 0; i < number.length; i++) {
    let d = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
    sum += d;
  }
  return sum % 10 === 0;
}

export type NumberLookup = { card: TestCard } | { error: 'incorrect_number' | 'invalid_number' | 'live_card' };

/** Looks a raw card number up. Spaces are allowed, as Stripe allows them. */
export function cardByNumber(raw: string): NumberLookup {
  const number = raw.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(number)) return { error: 'invalid_number' };
  if (!luhnValid(number)) return { error: 'incorrect_number' };
  const card = BY_NUMBER.get(number);
  return card ? { card } : { error: 'live_card' };
}

/** Stable per (account, card number); the number itself is never stored. */
export function fingerprint(account: string, card: TestCard): string {
  const key = `${account}\u0000${card.number}`;
  const known = FINGERPRINTS.get(key);
  if (known !== undefined) return known;
  const digest = createHash('sha256').update(`pinstripe-fingerprint:${account}:${card.number}`).digest();
  const ALPHA = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let s = '';
  for (let i = 0; i < 16; i++) s += ALPHA[digest[i]! % 62];
  if (FINGERPRINTS.size >= MAX_FINGERPRINTS) FINGERPRINTS.clear();
  FINGERPRINTS.set(key, s);
  return s;
}

/** Fingerprints computed lately (a SHA-256 per new PaymentMethod otherwise), by account and number; bounded. */
const FINGERPRINTS = new Map<string, string>();
const MAX_FINGERPRINTS = 2000;

export const last4 = (card: TestCard): string => card.number.slice(-4);

// ---- Decline codes: the error Stripe returns and the charge outcome it records.

export interface DeclineInfo {
  /** The error `code` (card_declined unless the decline has its own code). */
  code: string;
  message: string;
}

export const DECLINES: Record<DeclineCode, DeclineInfo> = {
  generic_decline: { code: 'card_declined', message: 'Your card was declined.' },
  insufficient_funds: { code: 'card_declined', message: 'Your card has insufficient funds.' },
  lost_card: { code: 'card_declined', message: 'Your card was declined.' },
  stolen_card: { code: 'card_declined', message: 'Your card was declined.' },
  fraudulent: { code: 'card_declined', message: 'Your card was declined.' },
  expired_card: { code: 'expired_card', message: 'Your card has expired.' },
  incorrect_cvc: { code: 'incorrect_cvc', message: "Your card's security code is incorrect." },
  processing_error: { code: 'processing_error', message: 'An error occurred while processing your card. Try again in a little bit.' },
  card_velocity_exceeded: { code: 'card_declined', message: 'Your card was declined for making repeated attempts too frequently or exceeding its amount limit.' },
};

export const INCORRECT_NUMBER_MESSAGE = 'Your card number is incorrect.';
export const INVALID_NUMBER_MESSAGE = 'Your card number is invalid.';
export const LIVE_CARD_MESSAGE = 'Your card was declined. Your request was in test mode, but used a non test (live) card. For a list of valid test cards, visit: https://stripe.com/docs/testing.';
