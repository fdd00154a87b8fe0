// Amount rules per currency: zero-decimal and three-decimal currencies, Stripe's minimum
// charge amounts (https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts) and
// the maximum, with Stripe's error codes.
import { invalidRequest } from '../../api/errors.js';
import { currency as parseCurrency } from '../../api/shapes.js';

export const ZERO_DECIMAL = new Set(['bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf']);
export const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** Minimums in the currency's smallest unit. Others: the equivalent of $0.50, approximated by 50 units. */
const MINIMUMS: Record<string, number> = {
  usd: 50, aed: 200, aud: 50, bgn: 100, brl: 50, cad: 50, chf: 50, czk: 1500, dkk: 250, eur: 50, gbp: 30,
  hkd: 400, huf: 17500, inr: 50, jpy: 50, mxn: 1000, myr: 200, nok: 300, nzd: 50, pln: 200, ron: 200,
  sek: 300, sgd: 50, thb: 1000, krw: 500, bhd: 200, jod: 350, kwd: 150, omr: 200, tnd: 1500,
};
const SYMBOLS: Record<string, string> = { usd: '$', eur: '€', gbp: '£', jpy: '¥', aud: '$', cad: '$', nzd: '$', sgd: '$', hkd: '$', mxn: '$', inr: '₹', krw: '₩', chf: 'CHF ' };

/** Stripe's maximum amount: eight digits. */
export const MAX_AMOUNT = 99_999_999;

export function decimals(cur: string): number {
  return ZERO_DECIMAL.has(cur) ? 0 : THREE_DECIMAL.has(cur) ? 3 : 2;
}

/** $0.50, ¥50, 1.000 bhd: a minor-unit amount written the way Stripe's messages write it. */
export function formatAmount(amount: number, cur: string): string {
  const d = decimals(cur);
  const major = d === 0 ? String(amount) : (amount / 10 ** d).toFixed(d);
  const sym = SYMBOLS[cur];
  return sym ? `${sym}${major}` : major;
}

export function minimumAmount(cur: string): number {
  return MINIMUMS[cur] ?? 50;
}

/** The currencies Stripe supports: the list its invalid-currency message names (api/shapes). */
let supportedTail = '';
const SUPPORTED: ReadonlySet<string> = (() => {
  try { parseCurrency('!', 'currency'); } catch (e) {
    const m = /(Stripe currently supports these currencies: (.*))$/.exec((e as Error).message);
    if (m) { supportedTail = m[1]!; return new Set(m[2]!.split(',').map((c) => c.trim())); }
  }
  return new Set<string>();
})();

export function checkCurrency(value: string, param = 'currency'): string {
  const c = parseCurrency(value, param);
  if (SUPPORTED.size && !SUPPORTED.has(c)) throw invalidRequest(`Invalid currency: ${value}. ${supportedTail}`, param);
  return c;
}

/** Validates a charge amount for a currency; `param` names the amount parameter. */
export function checkAmount(amount: number, cur: string, param = 'amount'): void {
  if (amount < 1) throw invalidRequest('This value must be greater than or equal to 1.', param, 'parameter_invalid_integer');
  if (amount < minimumAmount(cur)) {
    throw invalidRequest(`Amount must be at least ${formatAmount(minimumAmount(cur), cur)} ${cur}`, param, 'amount_too_small');
  }
  if (amount > MAX_AMOUNT) {
    throw invalidRequest(`Amount must be no more than ${formatAmount(MAX_AMOUNT, cur).replace(/\B(?=(\d{3})+(?!\d))/g, ',')} ${cur}`, param, 'amount_too_large');
  }
  if (THREE_DECIMAL.has(cur) && amount % 10 !== 0) {
    throw invalidRequest(`Invalid amount: amounts in ${cur.toUpperCase()} must be a multiple of 10 (the smallest unit Stripe can settle is 0.010 ${cur.toUpperCase()}).`, param, 'invalid_amount');
  }
}
