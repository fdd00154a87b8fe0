// 3-D Secure for PaymentIntents and SetupIntents alike: the next_action that sends the customer
// to Pinstripe's test authentication page (src/web/three-ds.ts), and the page's outcome
// (complete: the attempt continues as authenticated; fail: back to requires_payment_method
// with the intent's authentication failure error).
import { StripeError, invalidRequest } from '../../api/errors.js';
import type { ReadContext, WriteContext } from '../../api/context.js';
import type { StoredObject } from '../../store/store.js';

type Obj = Record<string, any>;

/** The authentication page of an intent (its client_secret authorizes it). */
export function threeDSUrl(ctx: ReadContext, intent: Obj): string {
  const origin = ctx.origin ?? 'http://127.0.0.1:12111';
  return `${origin}/pinstripe/3ds/${ctx.scope.account}/${ctx.scope.livemode ? 'live' : 'test'}/${intent.id}?client_secret=${encodeURIComponent(intent.client_secret)}`;
}

/** next_action of an intent that needs 3-D Secure: redirect_to_url with a return_url, else use_stripe_sdk. */
export function threeDSNextAction(ctx: ReadContext, intent: Obj, returnUrl?: string): Obj {
  const url = threeDSUrl(ctx, intent);
  return returnUrl
    ? { redirect_to_url: { return_url: returnUrl, url: `${url}&return_url=${encodeURIComponent(returnUrl)}` }, type: 'redirect_to_url' }
    : { type: 'use_stripe_sdk', use_stripe_sdk: { source: `src_${ctx.services.ids.random(24)}`, stripe_js: url, type: 'three_d_secure_redirect' } };
}

/** What differs between the two kinds of intent when the page settles one. */
export interface ThreeDSIntentKind {
  /** 'PaymentIntent' / 'SetupIntent', as Stripe names it in messages. */
  name: string;
  /** The field a card error carries the intent in, and the intent's own error field. */
  errorIntentField: 'payment_intent' | 'setup_intent';
  errorField: 'last_payment_error' | 'last_setup_error';
  failure: { code: string; message: string; event: string };
  save(ctx: WriteContext, row: StoredObject, intent: Obj, eventType: string): Promise<Obj>;
  /** Continues the attempt as authenticated (may throw a committing card error). */
  attempt(ctx: WriteContext, row: StoredObject, intent: Obj, returnUrl: string | undefined): Promise<Obj>;
}

/** The 3-D Secure page's outcome for an intent row (locked by the caller). */
export async function settleThreeDSecure(ctx: WriteContext, row: StoredObject, clientSecret: string, succeed: boolean, kind: ThreeDSIntentKind): Promise<Obj> {
  const intent = structuredClone(row.data);
  if (clientSecret !== intent.client_secret) throw invalidRequest(`The client_secret provided does not match the client_secret associated with the ${kind.name}.`, 'client_secret');
  if (intent.status !== 'requires_action') return intent;
  if (!succeed) {
    const pmRow = await ctx.tx.get(ctx.scope, intent.payment_method);
    intent.status = 'requires_payment_method';
    intent.next_action = null;
    intent[kind.errorField] = {
      code: kind.failure.code, doc_url: `https://stripe.com/docs/error-codes/${kind.failure.code.replace(/_/g, '-')}`,
      message: kind.failure.message, payment_method: pmRow?.data ?? null, type: 'invalid_request_error',
    };
    intent.payment_method = null;
    return kind.save(ctx, row, intent, kind.failure.event);
  }
  try {
    return await kind.attempt(ctx, row, intent, intent.next_action?.redirect_to_url?.return_url);
  } catch (err) {
    if (err instanceof StripeError && err.commit) return err.fields[kind.errorIntentField] as Obj;
    throw err;
  }
}
