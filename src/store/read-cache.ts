// A read-through cache of stored rows for the embedded store, where a point read costs far
// more than the rest of a retrieve (each SQLite statement opens and closes a WAL read
// transaction). Entries hold the row's columns and JSON text; every hit hands out a fresh
// lazily parsed object, so callers may still mutate what they get.
//
// Staleness: the store drops the keys its own transactions wrote as soon as they commit, and
// clears everything when another process has committed to the same file (see SqliteStore).
import { storedFromRow, type Scope, type StoredObject } from './store.js';

interface Entry {
  row: { id: string; type: string; created: number; seq: number; version: number; deleted: boolean };
  text: string;
  /** The insertion count when the entry last moved to the young end (see get). */
  stamp: number;
}

export class RowCache {
  private entries = new Map<string, Entry>();
  private chars = 0;
  private inserted = 0;
  constructor(private readonly maxEntries = 2000, private readonly maxChars = 2 * 1024 * 1024) {}

  static key(scope: Scope, id: string): string {
    return `${scope.livemode ? 'l' : 't'}${scope.account}\u0000${id}`;
  }

  get(key: string): StoredObject | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    // Most recently used goes last, but a hit moves its entry only once a quarter of the
    // cache was inserted since it last moved: a hot row stays clear of eviction, and most
    // hits skip a delete and re-insert.
    if (this.inserted - e.stamp > this.entries.size / 4) {
      this.entries.delete(key);
      this.entries.set(key, e);
      e.stamp = this.inserted;
    }
    return storedFromRow(e.row, e.text);
  }

  set(key: string, row: Entry['row'], text: string): void {
    this.delete(key);
    this.entries.set(key, { row, text, stamp: ++this.inserted });
    this.chars += text.length;
    for (const [k] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.chars <= this.maxChars) break;
      this.delete(k);
    }
  }

  delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.chars -= e.text.length;
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }
}
