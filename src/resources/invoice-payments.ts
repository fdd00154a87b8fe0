// Invoice payments — https://docs.stripe.com/api/invoice-payment
// The payments of invoices (object invoice_payment, written by the invoices engine: one per
// PaymentIntent created at finalization, or an out-of-band payment), retrieve and list
// (invoice, payment[type]/payment[payment_intent], status, created). Read-only here.
import type { Obj, ResourceDef } from './define.js';

export const invoicePaymentsFamily: ResourceDef = {
  object: 'invoice_payment',
  prefix: 'inpay',
  path: '/v1/invoice_payments',
  listFilters: (p) => {
    const filter = (d: Obj) => (p.status === undefined || d.status === p.status)
      && (p.invoice === undefined || d.invoice === p.invoice)
      && (p.payment?.type === undefined || d.payment?.type === p.payment.type)
      && (p.payment?.payment_intent === undefined || d.payment?.payment_intent === p.payment.payment_intent);
    if (p.invoice !== undefined) return { index: { field: 'invoice', value: p.invoice }, filter };
    if (p.payment?.payment_intent !== undefined) return { index: { field: 'payment_intent', value: p.payment.payment_intent }, filter };
    return { filter };
  },
};
