// The CLI's HTTP client for a running Pinstripe server: Stripe's form encoding, Bearer auth,
// Stripe-shaped errors turned into readable messages, and a clear message (exit code 3) when
// the server cannot be reached.
import { DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';

export const DEFAULT_API_BASE = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;

/** Exit codes: 1 a request or command failed, 2 bad usage, 3 the server is unreachable. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) { super(message); }
}

/** `{a: {b: 1}, c: [x, y]}` → `a[b]=1&c[0]=x&c[1]=y`, as Stripe's SDKs encode bodies. */
export function encodeForm(params: Record<string, unknown>, prefix = ''): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    const key = prefix ? `${prefix}[${k}]` : k;
    if (v !== null && typeof v === 'object') {
      const entries = Array.isArray(v) ? Object.fromEntries(v.map((x, i) => [String(i), x])) : v as Record<string, unknown>;
      const nested = encodeForm(entries, key);
      if (nested) parts.push(nested);
    } else {
      parts.push(`${encodeURIComponent(key).replace(/%5B/g, '[').replace(/%5D/g, ']')}=${encodeURIComponent(String(v ?? ''))}`);
    }
  }
  return parts.join('&');
}

export interface ApiResult { status: number; json: any }

export class ApiClient {
  readonly base: string;
  constructor(base: string, readonly key: string) {
    this.base = base.replace(/\/+$/, '');
  }

  /** Sends a request; a non-2xx answer throws CliError with the server's message (unless allowed). */
  async request(method: 'GET' | 'POST' | 'DELETE', path: string, params: Record<string, unknown> = {}, allow: number[] = []): Promise<ApiResult> {
    const form = encodeForm(params);
    const url = `${this.base}${path}${method !== 'POST' && form ? `?${form}` : ''}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers: {
          Authorization: `Bearer ${this.key}`,
          'User-Agent': 'pinstripe-cli',
          ...(method === 'POST' ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: method === 'POST' ? form : undefined,
        signal: AbortSignal.timeout(30_000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
      const why = e.cause?.code ?? e.cause?.errors?.[0]?.code ?? e.cause?.message ?? e.message;
      throw new CliError(`Cannot reach the Pinstripe server at ${this.base} (${why}). Is it running? Start it with \`npx pinstripe serve\`, or pass --api-base.`, 3);
    }
    const text = await res.text();
    let json: any;
    try { json = JSON.parse(text); } catch { json = undefined; }
    if (res.status >= 400 && !allow.includes(res.status)) {
      const msg = json?.error?.message ?? text.slice(0, 200);
      throw new CliError(`${method} ${path} failed (${res.status}): ${msg}`);
    }
    return { status: res.status, json };
  }
}

/** The API key from --api-key or the environment (PINSTRIPE_API_KEY, STRIPE_API_KEY). */
export function resolveKey(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const key = flag ?? env.PINSTRIPE_API_KEY ?? env.STRIPE_API_KEY;
  if (!key) throw new CliError('No API key: pass --api-key sk_test_… or set PINSTRIPE_API_KEY (any sk_test_ key works; `pinstripe keys` prints one).', 2);
  if (!/^(sk|rk)_(test|live)_/.test(key)) throw new CliError(`--api-key must be a secret key (sk_test_… or sk_live_…), got '${key.slice(0, 8)}…'.`, 2);
  return key;
}

export function resolveBase(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.PINSTRIPE_API_BASE ?? DEFAULT_API_BASE;
}
