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

/** A rendered body, with its UTF-8 bytes and its indented form once responses have needed them. */
export interface Rendered {
  text: string;
  bytes: Buffer | undefined;
  /** The text indented as an item of a list's `data` (LIST_ITEM_INDENT). */
  listText: string | undefined;
  /** The cache's insertion count when the entry last moved to the young end. */
  stamp: number;
}

/**
 * Bounded LRU of rendered bodies, by total size. A hit moves its entry to the young end only
 * when a quarter of the cache has been inserted since it last moved there: a hot entry stays
 * well clear of eviction, and most hits cost one lookup instead of a delete and a re-insert.
 */
export class BodyCache {
  private entries = new Map<string, Rendered>();
  private size = 0;
  private inserted = 0;
  constructor(private readonly maxChars = 2 * 1024 * 1024) {}

  key(account: string, s: StoredObject, apiVersion: string): string {
    return `${account}:${s.seq}:${s.version}:${apiVersion}`;
  }

  get(key: string): Rendered | undefined {
    const hit = this.entries.get(key);
    if (hit !== undefined && this.inserted - hit.stamp > this.entries.size / 4) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      hit.stamp = this.inserted;
    }
    return hit;
  }

  set(key: string, text: string): Rendered {
    const entry: Rendered = { text, bytes: undefined, listText: undefined, stamp: ++this.inserted };
    if (text.length > this.maxChars / 16) return entry; // a few huge objects must not evict everything
    this.entries.set(key, entry);
    this.size += text.length;
    for (const [k, v] of this.entries) {
      if (this.size <= this.maxChars) break;
      this.entries.delete(k);
      this.size -= v.text.length + (v.bytes?.length ?? 0) + (v.listText?.length ?? 0);
    }
    return entry;
  }

  /** The body indented as a list item, worked out once per entry (a page of ten re-indented each time was a tenth of a list's CPU). */
  inList(entry: Rendered): string {
    if (entry.listText === undefined) {
      entry.listText = indentBody(entry.text, LIST_ITEM_INDENT);
      this.size += entry.listText.length;
    }
    return entry.listText;
  }

  /** The body as UTF-8, encoded once per entry: a response written from a Buffer skips encoding the string again. */
  bytes(entry: Rendered): Buffer {
    if (entry.bytes === undefined) {
      entry.bytes = Buffer.from(entry.text);
      this.size += entry.bytes.length;
    }
    return entry.bytes;
  }
}

/** How deep a list's items sit in its pretty-printed body: inside `{` and `"data": [`. */
export const LIST_ITEM_INDENT = '    ';

/** Indents a pretty-printed body by `by` spaces, to nest it inside another pretty-printed one. */
export function indentBody(body: string, by: string): string {
  return body.replace(/\n/g, `\n${by}`);
}
