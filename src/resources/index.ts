// Every resource family the server exposes. Adding a family: write its definitions module and
// list it here; routing, validation, storage, events, lists and search come with it.
import { customers } from './customers.js';
import { events } from './events.js';
import { prices } from './prices.js';
import { products } from './products.js';
import { webhookEndpoints } from './webhook-endpoints.js';
import { operationsFor, type Operation, type ResourceDef } from './define.js';

export const RESOURCES: readonly ResourceDef[] = [customers, products, prices, events, webhookEndpoints];

export function allOperations(): Operation[] {
  return RESOURCES.flatMap(operationsFor);
}

/** Includable fields per object type: stored, but only returned when expanded. */
export const INCLUDABLE: ReadonlyMap<string, readonly string[]> = new Map(
  RESOURCES.filter((r) => r.includable).map((r) => [r.object, r.includable!]),
);
