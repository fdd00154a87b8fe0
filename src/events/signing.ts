// What a webhook request looks like on the wire, kept free of server imports so the CLI
// (`pinstripe listen`) loads fast: Stripe's headers, the signature, and the retry-delay syntax.
import { createHmac } from 'node:crypto';

export const USER_AGENT = 'Stripe/1.0 (+https://stripe.com/docs/webhooks)';
export const CONTENT_TYPE = 'application/json; charset=utf-8';

/** The signature header Stripe sends; `stripe.webhooks.constructEvent` verifies it. */
export function signatureHeader(secret: string, body: string, timestamp: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${v1}`;
}

/** `1,5,30` → [1, 5, 30] (seconds); throws on anything else. */
export function parseRetryDelays(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const delays = parts.map(Number);
  if (!parts.length || delays.some((d) => !Number.isFinite(d) || d < 0)) {
    throw new Error(`invalid retry delays '${text}': expected comma-separated non-negative seconds, e.g. 1,5,30`);
  }
  return delays;
}
