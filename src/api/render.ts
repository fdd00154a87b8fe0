// Response rendering. Stripe's bodies are pretty-printed JSON (two spaces) with `id` and
// `object` first and every other key in alphabetical order, at every level; null fields are
// present as null. Stored objects are kept in this canonical order, so rendering a stored
// object is a plain JSON.stringify.

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonObject = { [k: string]: Json };

/** A copy of `value` with keys in Stripe's order: id, object, then alphabetical, recursively. */
export function canonicalize<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonicalize) as T;
  if (value === null || typeof value !== 'object') return value;
  const src = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const id = src.id;
  if (id !== undefined) out.id = id !== null && typeof id === 'object' ? canonicalize(id) : id;
  const object = src.object;
  if (object !== undefined) out.object = object !== null && typeof object === 'object' ? canonicalize(object) : object;
  // sort() without a comparator orders strings by UTF-16 code units, as `<` does, and runs
  // without calling back into JavaScript for every comparison.
  const keys = Object.keys(src).sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === 'id' || k === 'object') continue;
    const v = src[k];
    if (v === undefined) continue;
    out[k] = v !== null && typeof v === 'object' ? canonicalize(v) : v;
  }
  return out as T;
}

/**
 * Whether `value` is already in canonical form (what canonicalize would return, as JSON):
 * plain objects with `id`, `object`, then the other keys in ascending order, no undefined
 * values, at every level. Checking allocates nothing, so callers handed objects that are
 * usually canonical already (a stored object passed to emitEvent) skip the copy.
 */
export function isCanonical(value: unknown): boolean {
  if (value === null) return true;
  if (typeof value !== 'object') return value !== undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) if (!isCanonical(value[i])) return false;
    return true;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const src = value as Record<string, unknown>;
  const keys = Object.keys(src);
  let i = 0;
  if (keys[i] === 'id') i++;
  else if ('id' in src) return false;
  if (keys[i] === 'object') i++;
  else if ('object' in src) return false;
  let prev: string | undefined;
  for (; i < keys.length; i++) {
    const k = keys[i]!;
    if (k === 'id' || k === 'object' || (prev !== undefined && !(prev < k))) return false;
    prev = k;
    if (!isCanonical(src[k])) return false;
  }
  return true;
}

/** The body text of a response. */
export function toBody(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/**
 * A change Stripe made to an object's shape in API version `since`: `down` rewrites an object
 * of the newer shape into the older one, for requests pinned to a version before `since`.
 */
interface VersionChange {
  since: string;
  object: string;
  down(obj: JsonObject): JsonObject;
}

const CHANGES: readonly VersionChange[] = [
  // 2024-04-10: Product `features` renamed to `marketing_features`.
  {
    since: '2024-04-10',
    object: 'product',
    down: ({ marketing_features, ...rest }) => canonicalize({ ...rest, features: marketing_features ?? [] }),
  },
];

/** Versions compare by their date part: 2024-09-30.acacia < 2025-03-31.basil. */
const dateOf = (version: string) => version.slice(0, 10);

/**
 * Per-version rendering: every object leaves the server through here with the request's
 * Stripe-Version. Objects are stored in the current shape; each change Stripe made after the
 * requested version is undone, newest first, on the object and every object nested in it.
 */
export function renderForVersion(value: JsonObject, apiVersion: string): JsonObject {
  const date = dateOf(apiVersion);
  const applicable = CHANGES.filter((c) => date < c.since);
  if (!applicable.length) return value;
  const walk = (v: Json): Json => {
    if (Array.isArray(v)) return v.map(walk);
    if (v === null || typeof v !== 'object') return v;
    // Events carry their data in the event's own api_version, not the request's.
    if (v.object === 'event') return v;
    let out: JsonObject = {};
    for (const [k, x] of Object.entries(v)) out[k] = walk(x);
    for (const c of applicable) if (out.object === c.object) out = c.down(out);
    return out;
  };
  return walk(value) as JsonObject;
}
