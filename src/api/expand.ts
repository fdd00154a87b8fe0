// Expansion: `expand[]=customer`, dotted paths up to four levels, `data.` prefixed paths on
// lists. Only fields that Stripe marks expandable for the object type may be expanded
// (x-expandableFields in the spec); anything else is a 400 naming the path.
import { expandableFields } from '../generated/params.js';
import { invalidRequest } from './errors.js';
import type { ReadContext } from './context.js';

export const MAX_EXPAND_DEPTH = 4;

/** A tree of paths: { customer: { default_source: {} } }. */
export type ExpandTree = { [field: string]: ExpandTree };

export function parseExpand(paths: readonly string[] | undefined, isList: boolean): { tree: ExpandTree; extras: Set<string> } {
  const tree: ExpandTree = {};
  const extras = new Set<string>(); // list-level expansions such as total_count on searches
  for (const path of paths ?? []) {
    let parts = path.split('.');
    if (isList) {
      if (parts[0] !== 'data') { extras.add(path); continue; }
      parts = parts.slice(1);
    }
    if (parts.length === 0 || parts.some((p) => p === '')) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
    }
    if (parts.length > MAX_EXPAND_DEPTH) {
      throw invalidRequest(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, 'expand');
    }
    let node = tree;
    for (const p of parts) node = node[p] ??= {};
  }
  return { tree, extras };
}

const looksLikeId = (v: unknown): v is string => typeof v === 'string' && /^[a-z]+_[A-Za-z0-9_]+$/.test(v);

/**
 * Expands `obj` in place (obj must be a private copy). `prefix` is the path so far, for messages.
 */
export async function applyExpand(ctx: ReadContext, obj: Record<string, any>, tree: ExpandTree, prefix = ''): Promise<void> {
  for (const [field, sub] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${field}` : field;
    const type = typeof obj.object === 'string' ? obj.object : undefined;
    const allowed = type ? expandableFields(type) : undefined;
    const value = obj[field];
    const permitted = allowed && allowed.length ? allowed.includes(field) : !type && (looksLikeId(value) || (value && typeof value === 'object'));
    if (!permitted || !(field in obj)) {
      throw invalidRequest(`This property cannot be expanded (${path}).`, 'expand');
    }
    obj[field] = await expandValue(ctx, value, sub, path);
  }
}

async function expandValue(ctx: ReadContext, value: unknown, sub: ExpandTree, path: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => expandValue(ctx, v, sub, path)));
  let target: Record<string, any> | null = null;
  if (typeof value === 'string') {
    const found = await ctx.db.get(ctx.scope, value);
    if (!found) return value;
    target = found.deleted ? { id: found.id, object: found.data.object, deleted: true } : found.data;
  } else if (value && typeof value === 'object') {
    target = { ...(value as Record<string, any>) };
  } else {
    return value;
  }
  if (Object.keys(sub).length) await applyExpand(ctx, target, sub, path);
  return target;
}
