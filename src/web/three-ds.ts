// The 3-D Secure test page Pinstripe serves in place of the issuer's: `next_action` URLs
// (redirect_to_url.url, use_stripe_sdk.stripe_js) point here. The page shows the payment and
// two forms, Complete and Fail; submitting one settles the PaymentIntent (the attempt
// continues as authenticated, or fails with payment_intent_authentication_failure) and
// redirects to the return_url with payment_intent, payment_intent_client_secret and
// redirect_status, as Stripe does. Not part of the API: no key, the client_secret authorizes.
import type { FastifyReply } from 'fastify';
import type { Services, WriteContext } from '../api/context.js';
import { CURRENT_API_VERSION } from '../api/versions.js';
import { formatAmount } from '../engine/payments/money.js';
import { decodeForm } from '../http/forms.js';
import { settleThreeDS } from '../resources/payment-intents.js';
import { settleSetupThreeDS } from '../resources/setup-intents.js';
import type { Scope } from '../store/store.js';
import type { App } from '../http/server.js';

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(
    `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<style>body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem}button{font-size:1rem;padding:.6rem 1.2rem;margin:.3rem 0;width:100%}</style>' +
    `</head><body><h1>${esc(title)}</h1>${body}</body></html>\n`,
  );
}

function scopeOf(params: Record<string, string>): Scope | null {
  if (!/^acct_[A-Za-z0-9]+$/.test(params.account ?? '') || !['test', 'live'].includes(params.mode ?? '')) return null;
  return { account: params.account!, livemode: params.mode === 'live' };
}

/** return_url with Stripe's query parameters appended (existing ones kept). */
export function returnUrlFor(returnUrl: string, pi: Record<string, any>): string {
  const redirect_status = ['succeeded', 'requires_capture'].includes(pi.status) ? 'succeeded' : pi.status === 'processing' ? 'processing' : 'failed';
  const kind = pi.object === 'setup_intent' ? 'setup_intent' : 'payment_intent';
  const q = new URLSearchParams({ [kind]: pi.id, [`${kind}_client_secret`]: pi.client_secret, redirect_status }).toString();
  try {
    const u = new URL(returnUrl);
    for (const [k, v] of new URLSearchParams(q)) u.searchParams.set(k, v);
    return u.toString();
  } catch {
    return `${returnUrl}${returnUrl.includes('?') ? '&' : '?'}${q}`;
  }
}

export function registerThreeDS(app: App, services: Services): void {
  app.get('/pinstripe/3ds/:account/:mode/:pi', async (req, reply) => {
    const params = req.params as Record<string, string>;
    const scope = scopeOf(params);
    const secret = String((req.query as Record<string, unknown>).client_secret ?? '');
    const row = scope ? await services.store.get(scope, params.pi!) : null;
    if (!scope || !row || (row.type !== 'payment_intent' && row.type !== 'setup_intent') || row.data.client_secret !== secret) {
      return page(reply, 404, 'Authentication not found', '<p>This authentication link is invalid.</p>');
    }
    const pi = row.data;
    const action = `/pinstripe/3ds/${esc(params.account!)}/${esc(params.mode!)}/${esc(pi.id)}`;
    const hidden = `<input type="hidden" name="client_secret" value="${esc(secret)}">`;
    const pending = pi.status === 'requires_action';
    return page(reply, 200, '3D Secure 2 Test Page',
      (pi.object === 'setup_intent'
        ? `<p>Pinstripe is simulating the card issuer's authentication for saving a card (${esc(pi.id)}).</p>`
        : `<p>Pinstripe is simulating the card issuer's authentication for <strong>${esc(formatAmount(pi.amount, pi.currency))} ${esc(pi.currency.toUpperCase())}</strong> (${esc(pi.id)}).</p>`) +
      (pending
        ? `<form id="complete" method="post" action="${action}/complete">${hidden}<button type="submit" name="outcome" value="complete">Complete authentication</button></form>` +
          `<form id="fail" method="post" action="${action}/fail">${hidden}<button type="submit" name="outcome" value="fail">Fail authentication</button></form>`
        : `<p>This PaymentIntent is no longer awaiting authentication (status: ${esc(pi.status)}).</p>`));
  });

  const settle = (succeed: boolean) => async (req: any, reply: FastifyReply) => {
    const params = req.params as Record<string, string>;
    const scope = scopeOf(params);
    const form = typeof req.body === 'string' ? decodeForm(req.body) : {};
    const secret = String(form.client_secret ?? (req.query as Record<string, unknown>).client_secret ?? '');
    if (!scope) return page(reply, 404, 'Authentication not found', '<p>This authentication link is invalid.</p>');
    const before = await services.store.get(scope, params.pi!);
    if (!before || (before.type !== 'payment_intent' && before.type !== 'setup_intent') || before.data.client_secret !== secret) {
      return page(reply, 404, 'Authentication not found', '<p>This authentication link is invalid.</p>');
    }
    const returnUrl: string | undefined = before.data.next_action?.redirect_to_url?.return_url;
    const pi = await services.store.transaction(async (tx) => {
      const ctx: WriteContext = {
        scope, services, db: tx, tx, requestId: services.ids.id('req'), idempotencyKey: null, apiVersion: CURRENT_API_VERSION,
        keyKind: 'publishable', maskedKey: '', now: () => services.clock.now(), origin: `${req.protocol}://${req.headers.host}`,
      };
      return before.type === 'setup_intent' ? settleSetupThreeDS(ctx, params.pi!, secret, succeed) : settleThreeDS(ctx, params.pi!, secret, succeed);
    });
    if (returnUrl) return reply.code(303).header('Location', returnUrlFor(returnUrl, pi)).send();
    return page(reply, 200, succeed ? 'Authentication complete' : 'Authentication failed', `<p>You can close this window. The PaymentIntent is now ${esc(pi.status)}.</p>`);
  };
  app.post('/pinstripe/3ds/:account/:mode/:pi/complete', settle(true));
  app.post('/pinstripe/3ds/:account/:mode/:pi/fail', settle(false));
}
