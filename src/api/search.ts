// Search endpoints (`GET /v1/<resource>/search`): Stripe's search query language evaluated
// against the store. Unlike Stripe, results are immediately consistent. Results come newest
// first; `page` is an opaque cursor (the position of the last result), `next_page` is null on
// the last page, and `total_count` appears only with `expand[]=total_count`.
import { invalidRequest } from './errors.js';
import { checkLimit, scanFiltered } from './list.js';
import { indexableClause, matchesSearch, parseSearchQuery, SearchQueryError, type SearchFields } from './search-query.js';
import { StoredResult } from './stored-result.js';
import type { ReadContext } from './context.js';
import type { Params } from './params.js';
import type { Cursor } from '../store/store.js';

export interface SearchTarget {
  /** Object type, e.g. "customer". */
  type: string;
  url: string;
  fields: SearchFields;
}

/** Index key under which search finds token fields; values are lower-cased, as `:` is case-insensitive. */
export const searchIndexField = (field: string) => `search:${field}`;

function encodePage(c: Cursor): string {
  return Buffer.from(JSON.stringify([c.created, c.seq])).toString('base64url');
}

function decodePage(page: string): Cursor {
  try {
    const [created, seq] = JSON.parse(Buffer.from(page, 'base64url').toString('utf8'));
    if (Number.isInteger(created) && Number.isInteger(seq)) return { created, seq };
  } catch { /* fall through */ }
  throw invalidRequest(`Invalid page: ${page}`, 'page');
}

export async function searchObjects(ctx: ReadContext, target: SearchTarget, params: Params) {
  const limit = checkLimit(params.limit);
  const resource = target.url.split('/')[2];
  let query;
  try {
    query = parseSearchQuery(String(params.query ?? ''), target.fields, { resource });
  } catch (e) {
    if (e instanceof SearchQueryError) throw invalidRequest(e.message, 'query');
    throw e;
  }
  const filter = (data: Record<string, any>) => matchesSearch(query, data, target.fields);
  // An exact clause on a token field narrows the scan to its index entries (see indexEntries).
  const exact = indexableClause(query);
  const index = exact ? { field: searchIndexField(exact.field), value: String(exact.value).toLowerCase() } : undefined;
  const after = params.page ? decodePage(params.page) : undefined;
  const rows = await scanFiltered(ctx, { type: target.type, index, direction: 'older', after, limit: limit + 1 }, limit + 1, filter);
  const has_more = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  const result: Record<string, any> = {
    object: 'search_result',
    data: page.map((r) => new StoredResult(r)),
    has_more,
    next_page: has_more && last ? encodePage({ created: last.created, seq: last.seq }) : null,
    url: target.url,
  };
  if ((params.expand as string[] | undefined)?.includes('total_count')) {
    let total = 0;
    let cursor: Cursor | undefined;
    for (;;) {
      const batch = await ctx.db.scan(ctx.scope, { type: target.type, index, direction: 'older', after: cursor, limit: 1000 });
      total += batch.filter((r) => filter(r.data)).length;
      if (batch.length < 1000) break;
      const l = batch[batch.length - 1]!;
      cursor = { created: l.created, seq: l.seq };
    }
    result.total_count = total;
  }
  return result;
}
