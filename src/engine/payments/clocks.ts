// Which time an object of the payments engine lives in: the test clock of its customer (its work
// runs when that clock advances), or real time (null: the server's tick runs it).
import type { ReadContext } from '../../api/context.js';

export async function customerTestClock(ctx: ReadContext, customer: string | null | undefined): Promise<string | null> {
  if (!customer) return null;
  const row = await ctx.db.get(ctx.scope, customer);
  return row && row.type === 'customer' && typeof row.data.test_clock === 'string' ? row.data.test_clock : null;
}
