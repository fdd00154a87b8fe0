// API keys, accounts and modes. Open mode: any well-formed key authenticates and each distinct
// key suffix is its own account, created on first use, so parallel test suites are isolated
// with no setup. sk_test_X, pk_test_X, rk_test_X and the live variants of X all belong to one
// account; the key's mode (test/live) decides which half of its data a request sees.
import { createHash } from 'node:crypto';
import { authenticationError, permissionError } from '../api/errors.js';
import type { KeyKind } from '../api/context.js';
import type { Scope } from '../store/store.js';

export interface Auth {
  scope: Scope;
  kind: KeyKind;
  maskedKey: string;
}

const KEY = /^(sk|pk|rk)_(test|live)_([A-Za-z0-9_]{1,247})$/;
const KINDS: Record<string, KeyKind> = { sk: 'secret', pk: 'publishable', rk: 'restricted' };
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Stripe masks keys in messages by keeping the first eight and the last four characters and
 * starring the rest, so the length is unchanged: sk_test_********************alls.
 */
export function maskKey(key: string): string {
  if (key.length <= 12) return '*'.repeat(Math.max(0, key.length - 4)) + key.slice(-4);
  return key.slice(0, 8) + '*'.repeat(key.length - 12) + key.slice(-4);
}

/** The account an API key suffix belongs to: a stable id derived from the suffix. */
export function accountIdFor(suffix: string): string {
  const digest = createHash('sha256').update(suffix).digest();
  let id = 'acct_';
  for (let i = 0; i < 16; i++) id += BASE62[digest[i]! % 62];
  return id;
}

const NO_KEY = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/** Authentications by the whole Authorization header: a client sends the same header every time. */
const byHeader = new Map<string, Auth>();

function keyFromHeader(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^(\S+)\s*(.*)$/s.exec(header.trim());
  const scheme = m?.[1] ?? '';
  const value = m?.[2] ?? '';
  if (/^bearer$/i.test(scheme)) return value;
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':')[0];
  }
  throw authenticationError(`Invalid API Key provided: ${maskKey(header.trim())}`);
}

export function authenticate(header: string | undefined): Auth {
  const known = header === undefined ? undefined : byHeader.get(header);
  if (known) return known;
  const key = keyFromHeader(header);
  if (!key) throw authenticationError(NO_KEY);
  const m = KEY.exec(key);
  if (!m) throw authenticationError(`Invalid API Key provided: ${maskKey(key)}`);
  const auth: Auth = {
    scope: { account: accountIdFor(m[3]!), livemode: m[2] === 'live' },
    kind: KINDS[m[1]!]!,
    maskedKey: maskKey(key),
  };
  if (byHeader.size > 10_000) byHeader.clear(); // bounded: a flood of distinct keys cannot grow memory
  byHeader.set(header!, auth);
  return auth;
}

export function requireSecretKey(auth: Auth): void {
  if (auth.kind === 'publishable') {
    throw authenticationError('This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.');
  }
}

/** Stripe-Account: Connect comes later; until then only the key's own account is allowed. */
export function checkStripeAccount(auth: Auth, header: string | undefined): void {
  if (header === undefined || header === auth.scope.account) return;
  throw permissionError(`The provided key '${auth.maskedKey}' does not have access to account '${header}' (or that account does not exist). Application access may have been revoked.`);
}
