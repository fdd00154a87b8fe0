// Runs engine code inside a store transaction as the account of a test key, as a request handler
// would: for behaviour that no route reaches yet (redemptions that subscriptions and invoices
// will trigger), tested directly and then observed through the SDK.
import type { WriteContext } from '../../src/api/context.js';
import { CURRENT_API_VERSION } from '../../src/api/versions.js';
import { accountIdFor } from '../../src/http/auth.js';
import type { TestServer } from './server.js';

export function asAccount<T>(t: TestServer, key: string, fn: (ctx: WriteContext) => Promise<T>): Promise<T> {
  const services = t.server.services;
  return services.store.transaction((tx) => fn({
    scope: { account: accountIdFor(key.replace(/^[sr]k_(test|live)_/, '')), livemode: key.includes('_live_') }, services,
    requestId: 'req_test', idempotencyKey: null, apiVersion: CURRENT_API_VERSION, keyKind: 'secret', maskedKey: 'sk_test_...',
    now: () => services.clock.now(), db: tx, tx,
  }));
}
