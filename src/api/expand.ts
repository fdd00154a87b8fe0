// Expansion: `expand[]=customer`, dotted paths up to four levels, `data.` prefixed paths on
// lists. Only fields that Stripe marks expandable for the object type may be expanded
// (x-expandableFields in the spec); anything else is a 400 naming the path.
import { expandableFields } from '../generated/params.js';
import { invalidRequest } from './errors.js';
import type { ReadContext } from './context.js';

export const MAX_EXPAND_DEPTH = 4;

/** A tree of paths: { customer: { default_source: {} } }. */
export type ExpandTree = { [field: string]: ExpandTree };

/**
 * Parses expand[] paths. On lists every path must start with `data.` (the prefix counts as a
 * level, as in Stripe); `allowedExtras` are list-level expansions such as search's total_count.
 */
export function parseExpand(paths: readonly string[] | undefined, isList: boolean, allowedExtras: readonly string[] = []): ExpandTree {
  const tree: ExpandTree = {};
  for (const path of paths ?? []) {
    let parts = path.split('.');
    if (parts.length > MAX_EXPAND_DEPTH) {
      throw invalidRequest(`You cannot expand more than ${MAX_EXPAND_DEPTH} levels of a property. Property: ${path}`, undefined, 'property_expansion_max_depth');
    }
    if (isList) {
      if (allowedExtras.includes(path)) continue;
      if (parts[0] !== 'data' || parts.length < 2) {
        throw invalidRequest(`This property cannot be expanded (${parts[0]}). You may want to try expanding 'data.${path}' instead.`);
      }
      parts = parts.slice(1);
    }
    const empty = parts.find((p) => p === '');
    if (empty !== undefined) throw invalidRequest(`This property cannot be expanded (${path}).`);
    let node = tree;
    for (const p of parts) node = node[p] ??= {};
  }
  return tree;
}

/**
 * Expandable fields an object does not store but computes when expanded (Stripe's includable
 * lists such as a customer's `subscriptions`), registered per object type by the resource
 * families (ResourceDef.virtual). They cost nothing unless a request expands them.
 */
export type VirtualField = (ctx: ReadContext, obj: Record<string, any>) => Promise<unknown>;
const VIRTUAL = new Map<string, Readonly<Record<string, VirtualField>>>();
export function registerVirtualFields(type: string, fields: Readonly<Record<string, VirtualField>>): void {
  VIRTUAL.set(type, fields);
}

/**
 * On lists the first segment after `data.` is checked against the item type up front, so an
 * empty page answers a bad path as a full one does. Deeper segments are checked on the objects.
 */
export function checkListExpand(type: string, paths: readonly string[] | undefined): void {
  const allowed = expandableFields(type);
  if (!allowed.length) return;
  for (const path of paths ?? []) {
    const parts = path.split('.');
    if (parts[0] !== 'data' || parts.length < 2 || parts.length > MAX_EXPAND_DEPTH || parts[1] === '') continue;
    if (!allowed.includes(parts[1]!)) throw invalidRequest(`This property cannot be expanded (${parts[1]}).`);
  }
}

const looksLikeId = (v: unknown): v is string => typeof v === 'string' && /^[a-z]+_[A-Za-z0-9_]+$/.test(v);

/**
 * Expands `obj` in place (obj must be a private copy).
 */
export async function applyExpand(ctx: ReadContext, obj: Record<string, any>, tree: ExpandTree): Promise<void> {
  for (const [field, sub] of Object.entries(tree)) {
    const type = typeof obj.object === 'string' ? obj.object : undefined;
    const allowed = type ? expandableFields(type) : undefined;
    const value = obj[field];
    const permitted = allowed && allowed.length ? allowed.includes(field) : !type && (looksLikeId(value) || (value && typeof value === 'object'));
    const virtual = type && !(field in obj) ? VIRTUAL.get(type)?.[field] : undefined;
    if (!permitted || (!(field in obj) && !virtual)) {
      // Stripe names the first segment that cannot be expanded, not the whole path.
      throw invalidRequest(`This property cannot be expanded (${field}).`);
    }
    obj[field] = await expandValue(ctx, virtual ? await virtual(ctx, obj) : value, sub);
  }
}

async function expandValue(ctx: ReadContext, value: unknown, sub: ExpandTree): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v) => expandValue(ctx, v, sub)));
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
  if (Object.keys(sub).length) await applyExpand(ctx, target, sub);
  return target;
}
