// Pinstripe's own routes, outside Stripe's API (under /_pinstripe/, so they never collide with
// a /v1 path). The CLI uses them: `reset` (one account's data, or the whole store with
// `all=true`) and `deliveries` (webhook delivery attempts of the key's account).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { invalidRequest } from '../api/errors.js';
import { toBody } from '../api/render.js';
import type { Services } from '../api/context.js';
import type { App } from './server.js';
import { authenticate, requireSecretKey } from './auth.js';

function auth(req: FastifyRequest) {
  const h = req.headers.authorization;
  const a = authenticate(Array.isArray(h) ? h[0] : h);
  requireSecretKey(a);
  return a;
}

function query(req: FastifyRequest): URLSearchParams {
  const i = req.url.indexOf('?');
  return new URLSearchParams(i >= 0 ? req.url.slice(i + 1) : '');
}

function json(reply: FastifyReply, value: unknown): FastifyReply {
  return reply.code(200).type('application/json').send(toBody(value));
}

export function registerPinstripeRoutes(app: App, services: Services): void {
  app.post('/_pinstripe/reset', async (req, reply) => {
    const a = auth(req);
    const all = query(req).get('all') === 'true';
    await services.store.reset(all ? undefined : a.scope.account);
    return json(reply, { object: 'pinstripe.reset', account: all ? null : a.scope.account, all, reset: true });
  });

  app.get('/_pinstripe/webhook_deliveries', async (req, reply) => {
    const a = auth(req);
    const q = query(req);
    const limit = Number(q.get('limit') ?? 20);
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('limit must be an integer between 1 and 100.', 'limit');
    const rows = await services.store.listDeliveries(a.scope, { eventId: q.get('event') ?? undefined, endpointId: q.get('endpoint') ?? undefined, limit });
    return json(reply, {
      object: 'list', url: '/_pinstripe/webhook_deliveries', has_more: false,
      data: rows.map((r) => ({
        id: r.id, object: 'pinstripe.webhook_delivery', event: r.eventId, webhook_endpoint: r.endpointId, state: r.state,
        attempts: r.attemptLog.map((x) => ({ at: x.at, status: x.status, latency_ms: x.latencyMs, response_excerpt: x.excerpt })),
        next_attempt_ms: r.state === 'pending' ? r.nextAttemptMs : null, created_ms: r.createdMs,
      })),
    });
  });
}


