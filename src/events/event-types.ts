// The catalogue of Stripe event types. The full list (what `enabled_events` accepts) is data:
// the enum of `enabled_events[]` in the generated parameter table (src/generated/params.json,
// produced from stripe-node's declarations by `npm run gen:params`). EMITTED lists the types
// Pinstripe actually writes today; each resource family adds its own as it arrives.
import { operationParams } from '../generated/params.js';

let all: readonly string[] | undefined;

/** Every event type Stripe documents, plus `*`, as accepted by `enabled_events`. */
export function allEventTypes(): readonly string[] {
  if (all) return all;
  const schema = operationParams('POST', '/v1/webhook_endpoints')?.params;
  const items = schema?.props?.enabled_events?.items;
  all = items && items.t === 'enum' && items.values ? [...items.values] : ['*'];
  return all;
}

/** Event types Pinstripe emits (README lists these). */
export const EMITTED_EVENT_TYPES: readonly string[] = [
  'customer.created', 'customer.updated', 'customer.deleted',
  'product.created', 'product.updated', 'product.deleted',
  'price.created', 'price.updated',
];

/** Does an endpoint subscribed to `enabled` receive an event of `type`? */
export function subscribes(enabled: readonly string[], type: string): boolean {
  return enabled.includes('*') || enabled.includes(type);
}
