// What every operation receives: who is asking (account and mode), the request's identity
// for Events, time and ids, and the store to read or write through.
import type { Clock } from './clock.js';
import type { IdGenerator } from './ids.js';
import type { ReadOps, Scope, Store, Tx } from '../store/store.js';

export type KeyKind = 'secret' | 'restricted' | 'publishable';

export interface RequestInfo {
  requestId: string;
  idempotencyKey: string | null;
  apiVersion: string;
  keyKind: KeyKind;
  /** The API key itself, masked, for error messages. */
  maskedKey: string;
  /** Scheme and host the request reached, for URLs Pinstripe serves itself (3-D Secure pages). */
  origin?: string;
}

export interface Services {
  store: Store;
  clock: Clock;
  ids: IdGenerator;
}

export interface ReadContext extends RequestInfo {
  scope: Scope;
  services: Services;
  /** Reads go through the transaction when there is one, so writers see their own writes. */
  db: ReadOps;
  now(): number;
}

export interface WriteContext extends ReadContext {
  tx: Tx;
  db: Tx;
}
