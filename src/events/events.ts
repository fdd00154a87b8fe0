// Events are written in the same transaction as the change they describe. `data.object` is
// the object as of the event; on updates `data.previous_attributes` holds the old values of
// what changed (nested hashes such as metadata diffed key by key, as Stripe does).
import { canonicalize, isCanonical } from '../api/render.js';
import type { WriteContext } from '../api/context.js';
import { subscribes } from './event-types.js';

export const EVENT_PREFIX = 'evt';

const isHash = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Old values of whatever changed between `before` and `after`; undefined when nothing did. */
export function previousAttributes(before: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> | undefined {
  const prev: Record<string, unknown> = {};
  for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const a = before[key];
    const b = after[key];
    if (equal(a, b)) continue;
    if (isHash(a) && isHash(b) && !('object' in a)) {
      const nested = previousAttributes(a, b);
      if (nested) prev[key] = nested;
    } else {
      prev[key] = a === undefined ? null : a;
    }
  }
  return Object.keys(prev).length ? prev : undefined;
}

/** Event types whose (account, mode) subscribers are notified after commit. */
/** `deliveries`: the webhook deliveries the event queued (its pending_webhooks). */
export type EventListener = (scope: WriteContext['scope'], eventId: string, deliveries: number) => void;
const listeners: EventListener[] = [];
export function onEvent(fn: EventListener): void { listeners.push(fn); }
export function offEvent(fn: EventListener): void {
  const i = listeners.indexOf(fn);
  if (i >= 0) listeners.splice(i, 1);
}

/** Endpoints an account and mode may have (src/resources/webhook-endpoints.ts enforces it). */
const MAX_ENDPOINTS = 100;

/** An enabled webhook endpoint as events are matched against it. */
interface EndpointView { id: string; enabled_events: readonly string[] }

/**
 * The enabled endpoints of each scope, read once per transaction: a request emitting several
 * events (a payment: payment_intent.created, charge.succeeded, payment_intent.succeeded) scans
 * them once. Keyed by the transaction, so nothing outlives it: another process's changes are
 * seen by the next transaction as before; this one's own endpoint writes drop the entry
 * (forgetWebhookEndpoints, called by the webhook_endpoint family's create, update and delete).
 * A store that reports changes (Tx.changeEpoch: the embedded one) lets them be kept across
 * transactions instead, until an endpoint may have changed: most requests emit an event, and
 * most accounts never change their endpoints.
 */
const endpointsByTx = new WeakMap<object, Map<string, EndpointView[]>>();
const endpointsByStore = new WeakMap<object, Map<string, { epoch: number; endpoints: EndpointView[] }>>();
/** Scopes whose endpoints are kept across transactions, per store, before the map starts over. */
const MAX_KEPT_SCOPES = 1000;
const scopeKey = (scope: WriteContext['scope']) => `${scope.livemode ? 'l' : 't'}${scope.account}`;

async function enabledEndpoints(ctx: WriteContext): Promise<EndpointView[]> {
  const key = scopeKey(ctx.scope);
  const epoch = ctx.tx.changeEpoch?.('webhook_endpoint');
  if (epoch !== undefined) {
    let kept = endpointsByStore.get(ctx.services.store);
    if (!kept) endpointsByStore.set(ctx.services.store, (kept = new Map()));
    const hit = kept.get(key);
    if (hit && hit.epoch === epoch) return hit.endpoints;
    const endpoints = await scanEnabledEndpoints(ctx);
    if (kept.size >= MAX_KEPT_SCOPES) kept.clear();
    kept.set(key, { epoch, endpoints });
    return endpoints;
  }
  let byScope = endpointsByTx.get(ctx.tx);
  if (!byScope) endpointsByTx.set(ctx.tx, (byScope = new Map()));
  let found = byScope.get(key);
  if (!found) byScope.set(key, (found = await scanEnabledEndpoints(ctx)));
  return found;
}

async function scanEnabledEndpoints(ctx: WriteContext): Promise<EndpointView[]> {
  return (await ctx.tx.scan(ctx.scope, { type: 'webhook_endpoint', direction: 'older', limit: MAX_ENDPOINTS }))
    .filter((e) => e.data.status === 'enabled')
    .map((e) => ({ id: e.id, enabled_events: (e.data.enabled_events ?? []) as string[] }));
}

/** A webhook endpoint of this scope is about to be written in ctx's transaction: later events in it read them again. */
export function forgetWebhookEndpoints(ctx: WriteContext): void {
  endpointsByTx.get(ctx.tx)?.delete(scopeKey(ctx.scope));
}

/**
 * JSON.stringify(event) for an event built by emitEvent (its keys in that order), given its
 * object's JSON text: the text is spliced in, not serialised again, and the envelope is
 * written out directly (JSON.stringify of it alone took most of a microsecond).
 */
export function eventJson(event: { id: string; api_version: string; created: number; data: { previous_attributes?: unknown }; livemode: boolean; pending_webhooks: number; request: { id: string | null; idempotency_key?: string | null }; type: string }, objectJson: string): string {
  const q = JSON.stringify;
  const prev = event.data.previous_attributes === undefined ? '' : `,"previous_attributes":${q(event.data.previous_attributes)}`;
  const r = event.request;
  const request = `{"id":${r.id === null ? 'null' : q(r.id)}${r.idempotency_key === undefined ? '' : `,"idempotency_key":${r.idempotency_key === null ? 'null' : q(r.idempotency_key)}`}}`;
  return `{"id":${q(event.id)},"object":"event","api_version":${q(event.api_version)},"created":${q(event.created)},"data":{"object":${objectJson}${prev}},"livemode":${event.livemode},"pending_webhooks":${event.pending_webhooks},"request":${request},"type":${q(event.type)}}`;
}

/**
 * `objectJson`: JSON.stringify(object), when the caller has it (insertObject and saveObject
 * do: they have just stored it); `object` must then be canonical. The event's JSON is built
 * around it instead of serialising the object a second time.
 */
export async function emitEvent(ctx: WriteContext, type: string, object: Record<string, unknown>, previous?: Record<string, unknown>, objectJson?: string): Promise<Record<string, unknown>> {
  const created = ctx.now();
  // The webhook outbox: one row per enabled endpoint of this account and mode subscribed to
  // the type, committed with the event (src/events/webhooks.ts delivers them).
  const endpoints = (await enabledEndpoints(ctx)).filter((e) => subscribes(e.enabled_events, type));
  // Built in canonical key order; the object (and previous attributes) are copied into
  // canonical form only when they are not in it already (a stored object always is).
  const obj = objectJson !== undefined || isCanonical(object) ? object : canonicalize(object);
  const prev = previous === undefined || isCanonical(previous) ? previous : canonicalize(previous);
  const id = ctx.services.ids.id(EVENT_PREFIX);
  // '' = scheduler work, not a request. Built in canonical order (an undefined key is left out, as canonicalize would).
  const request = ctx.idempotencyKey === undefined ? { id: ctx.requestId || null } : { id: ctx.requestId || null, idempotency_key: ctx.idempotencyKey };
  const shape = (o: unknown): Record<string, unknown> => ({
    id,
    object: 'event',
    api_version: ctx.apiVersion,
    created,
    data: prev ? { object: o, previous_attributes: prev } : { object: o },
    livemode: ctx.scope.livemode,
    pending_webhooks: endpoints.length,
    request,
    type,
  });
  const event = shape(obj);
  // The same text JSON.stringify(event) gives: compact JSON nests verbatim.
  const json = objectJson === undefined ? undefined : eventJson(event as Parameters<typeof eventJson>[0], objectJson);
  await ctx.tx.insert(ctx.scope, {
    id: event.id as string,
    type: 'event',
    created,
    data: event,
    json,
    index: [{ field: 'type', value: type }],
  });
  if (endpoints.length) {
    const nowMs = ctx.services.clock.nowMs();
    await ctx.tx.insertDeliveries(ctx.scope, endpoints.map((e) => ({
      id: ctx.services.ids.id('whd'), eventId: event.id as string, endpointId: e.id, createdMs: nowMs,
    })));
  }
  const deliveries = endpoints.length;
  for (const l of listeners) ctx.tx.afterCommit(() => l(ctx.scope, event.id as string, deliveries));
  return event;
}
