// Mandates — https://docs.stripe.com/api/mandates — the customer's permission to debit a bank
// account, made by confirming a PaymentIntent or SetupIntent with a sepa_debit or
// us_bank_account PaymentMethod (`mandate_data[customer_acceptance]`, or an offline acceptance
// when none is given). multi_use for SetupIntents and intents saving the method
// (setup_future_usage), single_use (amount, currency) otherwise. SEPA mandates are active at
// once; an ACH mandate waits, pending, until the account is verified with microdeposits, then
// becomes active (mandate.updated). Only retrieval is an API operation.
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import type { StoredObject } from '../store/store.js';
import { canonicalize } from '../api/render.js';
import { newObjectBase, saveObject, type Obj, type ResourceDef } from './define.js';

export interface NewMandate {
  paymentMethod: Obj;
  /** `mandate_data` of the confirmation, if any. */
  mandateData?: Params | null;
  /** A single-use mandate's amount and currency (PaymentIntents without setup_future_usage). */
  singleUse?: { amount: number; currency: string } | null;
  status: 'active' | 'pending';
}

function customerAcceptance(ctx: WriteContext, data: Params | null | undefined): Obj {
  const a = data?.customer_acceptance;
  if (!a) return { accepted_at: ctx.now(), offline: {}, type: 'offline' };
  const out: Obj = { accepted_at: a.accepted_at ?? ctx.now(), type: a.type };
  if (a.type === 'online') out.online = { ip_address: a.online?.ip_address ?? null, user_agent: a.online?.user_agent ?? null };
  else out.offline = {};
  return out;
}

export async function createMandate(ctx: WriteContext, m: NewMandate): Promise<Obj> {
  const base = newObjectBase(ctx, mandates);
  const type = m.paymentMethod.type as string;
  const details: Obj = type === 'sepa_debit'
    ? { sepa_debit: { reference: ctx.services.ids.random(16).toUpperCase(), url: `https://pinstripe.invalid/mandates/${base.id}` }, type }
    : { type, [type]: {} };
  const mandate: Obj = {
    id: base.id,
    object: 'mandate',
    customer_acceptance: customerAcceptance(ctx, m.mandateData),
    livemode: base.livemode,
    ...(m.singleUse ? {} : { multi_use: {} }),
    payment_method: m.paymentMethod.id,
    payment_method_details: details,
    ...(m.singleUse ? { single_use: { amount: m.singleUse.amount, currency: m.singleUse.currency } } : {}),
    status: m.status,
    type: m.singleUse ? 'single_use' : 'multi_use',
  };
  // Mandates have no `created` field: the row keeps the time, the object does not.
  const data = canonicalize(mandate);
  await ctx.tx.insert(ctx.scope, { id: data.id, type: 'mandate', created: base.created, data, index: [] });
  return data;
}

/** A pending mandate becomes active once its bank account is verified (mandate.updated). */
export async function activateMandate(ctx: WriteContext, id: string | null | undefined): Promise<void> {
  if (!id) return;
  const row: StoredObject | null = await ctx.tx.getForUpdate(ctx.scope, id);
  if (!row || row.type !== 'mandate' || row.data.status === 'active') return;
  await saveObject(ctx, mandates, row, { ...row.data, status: 'active' });
}

export const mandates: ResourceDef = {
  object: 'mandate',
  prefix: 'mandate',
  path: '/v1/mandates',
  events: { updated: 'mandate.updated' },
  standard: { create: false, list: false, update: false, delete: false, retrieve: true },
};
