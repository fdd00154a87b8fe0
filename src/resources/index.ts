// Every resource family the server exposes. Adding a family: write its definitions module and
// list it here; routing, validation, storage, events, lists and search come with it.
import { coupons } from './coupons.js';
import { customers } from './customers.js';
import { events } from './events.js';
import { prices } from './prices.js';
import { products } from './products.js';
import { paymentMethods } from './payment-methods.js';
import { paymentIntents } from './payment-intents.js';
import { charges } from './charges.js';
import { refunds } from './refunds.js';
import { balanceTransactions } from './balance.js';
import { setupAttempts, setupIntents } from './setup-intents.js';
import { cards, tokens } from './tokens.js';
import { disputes, earlyFraudWarnings } from './disputes.js';
import { payouts } from './payouts.js';
import { reviews } from './reviews.js';
import { promotionCodes } from './promotion-codes.js';
import { taxRates } from './tax-rates.js';
import { shippingRates } from './shipping-rates.js';
import { customerDiscounts } from './discounts.js';
import { webhookEndpoints } from './webhook-endpoints.js';
import { testClocks } from './test-clocks.js';
import { mandates } from './mandates.js';
import { invoices } from './invoices.js';
import { invoiceItems } from './invoice-items.js';
import { customerBalanceTransactions } from './customer-balance.js';
import { creditNotes } from './credit-notes.js';
import { invoicePaymentsFamily } from './invoice-payments.js';
import { subscriptions } from './subscriptions.js';
import { subscriptionItems } from './subscription-items.js';
import { subscriptionSchedules } from './subscription-schedules.js';
import { billingMeters } from './billing-meters.js';
import { operationsFor, type Operation, type ResourceDef } from './define.js';

export const RESOURCES: readonly ResourceDef[] = [
  // Core (issue 4).
  customers, products, prices, events,
  // Payments (issue 5).
  paymentMethods, paymentIntents, charges, refunds, balanceTransactions, setupIntents, setupAttempts, tokens, cards,
  disputes, earlyFraudWarnings, payouts, reviews, mandates,
  // Webhooks (issue 6).
  webhookEndpoints,
  // Billing catalogue and discounts (issue 7).
  coupons, promotionCodes, taxRates, customerDiscounts, shippingRates,
  // Test clocks (issue 7).
  testClocks,
  // Invoices, invoice items, customer balance, credit notes (issue 7).
  invoices, invoiceItems, customerBalanceTransactions, creditNotes, invoicePaymentsFamily,
  // Subscriptions (issue 7).
  subscriptions, subscriptionItems, subscriptionSchedules,
  // Usage-based billing (issue 7).
  billingMeters,
];

export function allOperations(): Operation[] {
  return RESOURCES.flatMap(operationsFor);
}

/** Includable fields per object type: stored, but only returned when expanded. */
export const INCLUDABLE: ReadonlyMap<string, readonly string[]> = new Map(
  RESOURCES.filter((r) => r.includable).map((r) => [r.object, r.includable!]),
);
