// Rendering stored objects without re-serialising them. Retrieves and lists return objects
// exactly as stored far more often than anything else; wrapping such a result in StoredResult
// lets the edge render it once per (row, version, API version) and reuse the bytes while the
// row is unchanged. A row's `seq` is never reused and every write bumps its `version`, so a
// cached body can never be stale, on one process or many sharing PostgreSQL.
import type { StoredObject } from '../store/store.js';

export class StoredResult {
  constructor(readonly stored: StoredObject) {}
}

/** Unwraps a handler result item for code that needs the object itself. */
export function plain<T extends object>(value: T | StoredResult): T {
  return value instanceof StoredResult ? (value.stored.data as T) : value;
}

/** Bounded LRU of rendered bodies, by total characters. */
export class BodyCache {
  private entries = new Map<string, string>();
  private chars = 0;
  constructor(private readonly maxChars = 2 * 1024 * 1024) {}

  key(account: string, s: StoredObject, apiVersion: string): string {
    return `${account}:${s.seq}:${s.version}:${apiVersion}`;
  }

  get(key: string): string | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key); // refresh its place in the LRU order
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, body: string): void {
    if (body.length > this.maxChars / 16) return; // a few huge objects must not evict everything
    this.entries.set(key, body);
    this.chars += body.length;
    for (const [k, v] of this.entries) {
      if (this.chars <= this.maxChars) break;
      this.entries.delete(k);
      this.chars -= v.length;
    }
  }
}

/** Indents a pretty-printed body by `by` spaces, to nest it inside another pretty-printed one. */
export function indentBody(body: string, by: string): string {
  return body.replace(/\n/g, `\n${by}`);
}
