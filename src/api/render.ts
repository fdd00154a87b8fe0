// Response rendering. Stripe's bodies are pretty-printed JSON (two spaces) with `id` and
// `object` first and every other key in alphabetical order, at every level; null fields are
// present as null. Stored objects are kept in this canonical order, so rendering a stored
// object is a plain JSON.stringify.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A copy of `value` with keys in Stripe's order: id, object, then alphabetical, recursively. */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonicalize) as T;
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if ('id' in src && src.id !== undefined) out.id = canonicalize(src.id);
  if ('object' in src && src.object !== undefined) out.object = canonicalize(src.object);
  for (const k of Object.keys(src).sort(compareKeys)) {
    if (k === 'id' || k === 'object' || src[k] === undefined) continue;
    out[k] = canonicalize(src[k]);
  }
  return out as T;
}

/** The body text of a response. */
export function toBody(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * Per-version rendering hook: every object leaves the server through here with the
 * request's Stripe-Version. Objects are in the current version's shape for now; a
 * version that renamed or removed fields plugs a transform in here, not in resources.
 */
export function renderForVersion(value: JsonObject, _apiVersion: string): JsonObject {
  return value;
}
