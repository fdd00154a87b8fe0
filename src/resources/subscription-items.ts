// Subscription items — https://docs.stripe.com/api/subscription_items
// Items live inside their subscription (subscription.items.data), which is indexed by each item
// id, so retrieve/update/delete find the subscription and change it through the same update
// path as POST /v1/subscriptions/{id} with items[] (prorations, events, invoices alike).
import { invalidRequest, missingParam, noSuchResource, StripeError } from '../api/errors.js';
import type { Params } from '../api/params.js';
import type { ReadContext, WriteContext } from '../api/context.js';
import { checkListExpand } from '../api/expand.js';
import { checkLimit } from '../api/list.js';
import type { StoredObject } from '../store/store.js';
import { lockSubscription } from '../engine/billing/subscriptions.js';
import { missingReference } from './prices.js';
import type { Obj, Operation, ResourceDef } from './define.js';
import { updateSubscription } from './subscriptions.js';

async function subscriptionOfItem(ctx: ReadContext, id: string): Promise<StoredObject> {
  const rows = await ctx.db.scan(ctx.scope, { type: 'subscription', index: { field: 'item', value: id }, direction: 'older', limit: 1 });
  const row = rows[0];
  if (!row || row.deleted) throw noSuchResource('subscription_item', id);
  return row;
}

async function lockedSubscriptionOfItem(ctx: WriteContext, id: string): Promise<StoredObject> {
  const found = await subscriptionOfItem(ctx, id);
  return (await lockSubscription(ctx, found.id))!;
}

const itemOf = (sub: Obj, id: string) => sub.items.data.find((it: Obj) => it.id === id);

/** The parameters the subscription update takes for an item change. */
function passThrough(p: Params): Params {
  const out: Params = {};
  for (const k of ['payment_behavior', 'proration_behavior', 'proration_date']) if (p[k] !== undefined) out[k] = p[k];
  return out;
}

/** Item parameters are named without the items[0] prefix on these endpoints. */
async function unprefixed<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof StripeError && typeof e.fields.param === 'string') e.fields.param = e.fields.param.replace(/^items\[0\]\[(\w+)\]/, '$1');
    throw e;
  }
}

function operations(def: ResourceDef): Operation[] {
  return [
    {
      method: 'POST', path: def.path, write: true,
      handler: async (ctx, p) => {
        const w = ctx as WriteContext;
        if (!p.subscription) throw missingParam('subscription');
        const row = await lockSubscription(w, p.subscription);
        if (!row) throw missingReference('subscription', p.subscription, 'subscription');
        const before = new Set(row.data.items.data.map((it: Obj) => it.id));
        const { subscription: _s, payment_behavior: _pb, proration_behavior: _pr, proration_date: _pd, expand: _e, ...item } = p;
        const sub = await unprefixed(() => updateSubscription(w, row, { ...passThrough(p), items: [item] }));
        return sub.items.data.find((it: Obj) => !before.has(it.id));
      },
    },
    {
      method: 'GET', path: `${def.path}/{id}`, write: false,
      handler: async (ctx, _p, path) => itemOf((await subscriptionOfItem(ctx, path.id!)).data, path.id!),
    },
    {
      method: 'POST', path: `${def.path}/{id}`, write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const row = await lockedSubscriptionOfItem(w, path.id!);
        const { payment_behavior: _pb, proration_behavior: _pr, proration_date: _pd, expand: _e, off_session: _o, ...item } = p;
        const sub = await unprefixed(() => updateSubscription(w, row, { ...passThrough(p), items: [{ ...item, id: path.id! }] }));
        return itemOf(sub, path.id!);
      },
    },
    {
      method: 'DELETE', path: `${def.path}/{id}`, write: true,
      handler: async (ctx, p, path) => {
        const w = ctx as WriteContext;
        const row = await lockedSubscriptionOfItem(w, path.id!);
        if (row.data.items.data.length === 1) {
          throw invalidRequest('A subscription must have at least one active plan. To cancel a subscription, please use the cancel API endpoint on /v1/subscriptions.', undefined);
        }
        await updateSubscription(w, row, { ...passThrough(p), items: [{ id: path.id!, deleted: true }] });
        return { id: path.id!, object: 'subscription_item', deleted: true };
      },
    },
    {
      method: 'GET', path: def.path, write: false, returnsList: true,
      handler: async (ctx, p) => {
        checkListExpand('subscription_item', p.expand);
        if (!p.subscription) throw missingParam('subscription');
        const row = await ctx.db.get(ctx.scope, p.subscription);
        if (!row || row.type !== 'subscription' || row.deleted) throw missingReference('subscription', p.subscription, 'subscription');
        const limit = checkLimit(p.limit);
        let data: Obj[] = row.data.items.data;
        // Oldest first, as Stripe lists a subscription's items.
        if (p.starting_after) {
          const i = data.findIndex((it) => it.id === p.starting_after);
          data = i < 0 ? [] : data.slice(i + 1);
        } else if (p.ending_before) {
          const i = data.findIndex((it) => it.id === p.ending_before);
          data = i < 0 ? [] : data.slice(Math.max(0, i - limit), i);
        }
        return { object: 'list', data: data.slice(0, limit), has_more: data.length > limit, url: def.path };
      },
    },
  ];
}

export const subscriptionItems: ResourceDef = {
  object: 'subscription_item',
  prefix: 'si',
  path: '/v1/subscription_items',
  standard: { create: false, retrieve: false, update: false, delete: false, list: false },
  operations,
};
