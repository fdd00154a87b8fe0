// The assertion most tests share: a call through the SDK fails with an InvalidRequestError whose
// status, message, param and code are exactly Stripe's.
import assert from 'node:assert/strict';
import Stripe from 'stripe';

export interface ExpectedInvalidRequest {
  status: number;
  message: string | RegExp;
  param?: string;
  code?: string;
}

export async function rejects(p: Promise<unknown>, x: ExpectedInvalidRequest): Promise<void> {
  await assert.rejects(p, (e: any) => {
    assert.ok(e instanceof Stripe.errors.StripeInvalidRequestError, `not an InvalidRequestError: ${e}`);
    assert.equal(e.statusCode, x.status);
    if (x.message instanceof RegExp) assert.match(e.message, x.message); else assert.equal(e.message, x.message);
    assert.equal(e.param, x.param);
    assert.equal(e.code, x.code);
    return true;
  });
}
