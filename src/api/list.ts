// Lists and cursor pagination, shared by every resource: `{object:"list", data, has_more,
// url}`, newest first (creation order breaks ties), limit 1–100, starting_after /
// ending_before, created ranges. Filters that have a secondary index are answered from it;
// the rest are checked row by row while scanning, in batches, so a page costs O(limit) when
// filters are not very selective.
import { invalidRequest, noSuchResource } from './errors.js';
import type { ReadContext } from './context.js';
import type { IndexEntry, ScanQuery, StoredObject } from '../store/store.js';

export interface ListPage {
  object: 'list';
  data: Record<string, any>[];
  has_more: boolean;
  url: string;
}

export type CreatedFilter = number | { gt?: number; gte?: number; lt?: number; lte?: number };

export interface ListRequest {
  type: string;
  url: string;
  limit?: number;
  starting_after?: string;
  ending_before?: string;
  created?: CreatedFilter;
  index?: IndexEntry;
  indexPrefix?: { field: string; prefix: string };
  /** Extra per-row predicate for filters without an index. */
  filter?: (data: Record<string, any>) => boolean;
  includeDeleted?: boolean;
}

export function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return 10;
  if (limit < 1) throw invalidRequest('This value must be greater than or equal to 1.', 'limit', 'parameter_invalid_integer');
  if (limit > 100) throw invalidRequest('This value must be less than or equal to 100.', 'limit', 'parameter_invalid_integer');
  return limit;
}

export function createdRange(created: CreatedFilter | undefined): ScanQuery['created'] {
  if (created === undefined || created === null) return undefined;
  if (typeof created === 'number') return { gte: created, lte: created };
  return created;
}

/** Scans in batches until `want` rows pass the filter or the rows run out. */
export async function scanFiltered(ctx: ReadContext, q: ScanQuery, want: number, filter?: (d: Record<string, any>) => boolean): Promise<StoredObject[]> {
  if (!filter) return ctx.db.scan(ctx.scope, { ...q, limit: want });
  const out: StoredObject[] = [];
  let after = q.after;
  const batch = Math.max(want * 2, 20);
  for (;;) {
    const rows = await ctx.db.scan(ctx.scope, { ...q, after, limit: batch });
    for (const r of rows) {
      if (filter(r.data)) { out.push(r); if (out.length >= want) return out; }
    }
    if (rows.length < batch) return out;
    const last = rows[rows.length - 1]!;
    after = { created: last.created, seq: last.seq };
  }
}

export async function listObjects(ctx: ReadContext, req: ListRequest): Promise<{ rows: StoredObject[]; has_more: boolean }> {
  const limit = checkLimit(req.limit);
  if (req.starting_after !== undefined && req.ending_before !== undefined) {
    throw invalidRequest('Received both starting_after and ending_before parameters. Please pass in only one.');
  }
  const cursorId = req.starting_after ?? req.ending_before;
  const direction = req.ending_before !== undefined ? 'newer' : 'older';
  let after;
  if (cursorId !== undefined) {
    const param = req.starting_after !== undefined ? 'starting_after' : 'ending_before';
    const cur = await ctx.db.get(ctx.scope, cursorId);
    if (!cur || cur.type !== req.type) throw noSuchResource(req.type, cursorId, param);
    after = { created: cur.created, seq: cur.seq };
  }
  const q: ScanQuery = {
    type: req.type, index: req.index, indexPrefix: req.indexPrefix, created: createdRange(req.created),
    after, direction, limit: limit + 1, includeDeleted: req.includeDeleted,
  };
  const rows = await scanFiltered(ctx, q, limit + 1, req.filter);
  const has_more = rows.length > limit;
  const page = rows.slice(0, limit);
  if (direction === 'newer') page.reverse();
  return { rows: page, has_more };
}
