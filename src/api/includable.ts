// Includable fields (stored, returned only when expanded) may be nested: `currency_options`
// inside a promotion code's `restrictions` ("restrictions.currency_options") or a shipping rate's
// `fixed_amount`. This removes the ones the expand tree does not ask for; nested objects on the
// way are copied first, so the stored object is never changed.
import type { ExpandTree } from './expand.js';

export function stripIncludable(obj: Record<string, any>, fields: readonly string[], tree: ExpandTree): void {
  for (const f of fields) {
    const parts = f.split('.');
    let node: Record<string, any> | undefined = obj;
    let sub: ExpandTree | undefined = tree;
    for (const part of parts.slice(0, -1)) {
      const next: unknown = node[part];
      if (!next || typeof next !== 'object' || Array.isArray(next)) { node = undefined; break; }
      node = node[part] = { ...(next as Record<string, any>) };
      sub = sub?.[part];
    }
    const last = parts[parts.length - 1]!;
    if (node && !(sub && last in sub)) delete node[last];
  }
}
