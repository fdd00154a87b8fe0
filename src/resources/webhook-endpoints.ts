// Webhook endpoints — https://docs.stripe.com/api/webhook_endpoints
// Create (the `secret` whsec_… is returned only then), retrieve, update (`disabled` switches
// status), delete, list. `enabled_events` is checked against every Stripe event type by the
// parameter tables (src/generated/params.json); `*` subscribes to all. http URLs are accepted
// since this server runs locally. Deliveries: src/events/webhooks.ts.
import { invalidRequest } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { canonicalize } from '../api/render.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { createObject, type Obj, type Operation, type ResourceDef } from './define.js';
import { forgetWebhookEndpoints } from '../events/events.js';

/** Endpoints per account and mode that events are matched against (src/events/events.ts). */
export const MAX_WEBHOOK_ENDPOINTS = 100;

/** Where the signing secret is kept: never rendered (includable), only returned by create. */
export const SECRET_FIELD = '_secret';

function checkUrl(value: string, param = 'url'): string {
  let u: URL | undefined;
  try { u = new URL(value); } catch { u = undefined; }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:') || !u.hostname) {
    throw invalidRequest(`Invalid URL: ${value}`, param, 'url_invalid');
  }
  return value;
}

function enabledEvents(list: string[] | null | undefined): string[] {
  if (!list || !list.length) throw invalidRequest('Missing required param: enabled_events.', 'enabled_events', 'parameter_missing');
  return [...new Set(list)];
}

/** The object a create responds with: the stored endpoint plus its secret. */
export function withSecret(stored: Obj): Obj {
  const { [SECRET_FIELD]: secret, ...rest } = stored;
  return canonicalize({ ...rest, secret });
}

export const webhookEndpoints: ResourceDef = {
  object: 'webhook_endpoint',
  prefix: 'we',
  path: '/v1/webhook_endpoints',
  includable: [SECRET_FIELD],
  standard: { create: false },

  async create(ctx: WriteContext, p: Params, base: Obj) {
    if (await ctx.db.count(ctx.scope, { type: 'webhook_endpoint' }) >= MAX_WEBHOOK_ENDPOINTS) {
      // Stripe's own limit is 16; Pinstripe's is higher but bounded, since every event is matched against them.
      throw invalidRequest(`You have reached the maximum of ${MAX_WEBHOOK_ENDPOINTS} webhook endpoints for this account in ${ctx.scope.livemode ? 'live' : 'test'} mode. Delete one before adding another.`);
    }
    // Checked in the order the object's fields are (enabled_events, metadata, url).
    const events = enabledEvents(p.enabled_events);
    const metadata = applyMetadata({}, p.metadata);
    const url = checkUrl(p.url);
    forgetWebhookEndpoints(ctx); // the insert follows in this transaction
    return {
      ...base,
      api_version: p.api_version ?? null,
      application: null,
      description: p.description ?? null,
      enabled_events: events,
      metadata,
      status: 'enabled',
      url,
      [SECRET_FIELD]: `whsec_${ctx.services.ids.random(32)}`,
    };
  },

  async update(ctx, c, p) {
    if (p.url !== undefined) c.url = checkUrl(p.url);
    if (p.enabled_events !== undefined) c.enabled_events = enabledEvents(p.enabled_events);
    if (p.description !== undefined) c.description = p.description;
    if (p.disabled !== undefined) c.status = p.disabled ? 'disabled' : 'enabled';
    c.metadata = applyMetadata(c.metadata, p.metadata);
    forgetWebhookEndpoints(ctx);
    return c;
  },

  async delete(ctx) {
    forgetWebhookEndpoints(ctx);
    // Undelivered rows of a deleted endpoint are dropped by the delivery worker.
  },

  operations: (def): Operation[] => [{
    // Create is the standard one except that its response carries the secret.
    method: 'POST', path: def.path, write: true,
    handler: async (ctx, params) => withSecret(await createObject(ctx as WriteContext, def, params)),
  }],
};
