// Every resource family the server exposes. Adding a family: write its definitions module and
// list it here; routing, validation, storage, events, lists and search come with it.
import { coupons } from './coupons.js';
import { customers } from './customers.js';
import { events } from './events.js';
import { prices } from './prices.js';
import { products } from './products.js';
import { promotionCodes } from './promotion-codes.js';
import { taxRates } from './tax-rates.js';
import { shippingRates } from './shipping-rates.js';
import { customerDiscounts } from './discounts.js';
import { operationsFor, type Operation, type ResourceDef } from './define.js';

export const RESOURCES: readonly ResourceDef[] = [customers, products, prices, events,
  // Billing catalogue and discounts (issue 7).
  coupons, promotionCodes, taxRates, customerDiscounts, shippingRates];

export function allOperations(): Operation[] {
  return RESOURCES.flatMap(operationsFor);
}

/** Includable fields per object type: stored, but only returned when expanded. */
export const INCLUDABLE: ReadonlyMap<string, readonly string[]> = new Map(
  RESOURCES.filter((r) => r.includable).map((r) => [r.object, r.includable!]),
);
