// Races: concurrent captures and refunds on one process, and concurrent confirms of one
// PaymentIntent through two servers sharing one PostgreSQL database.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Stripe from 'stripe';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { DATABASE_URL, freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

const card: any = { payment_method_types: ['card'] };
function noServerErrors(results: PromiseSettledResult<unknown>[], code: string): number {
  let ok = 0;
  for (const r of results) {
    if (r.status === 'fulfilled') { ok++; continue; }
    const e = r.reason;
    assert.ok(e.statusCode === 400 || e.statusCode === 429, `status ${e.statusCode}: ${e.message}`);
    if (e.statusCode === 400) assert.equal(e.code, code, e.message);
  }
  return ok;
}

describe('payment races', () => {
  test('twenty concurrent captures: one succeeds, one balance transaction', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 5000, currency: 'usd', ...card, capture_method: 'manual', payment_method: 'pm_card_visa', confirm: true });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => s.paymentIntents.capture(pi.id)));
    assert.equal(noServerErrors(results, 'payment_intent_unexpected_state'), 1);
    assert.equal((await s.balanceTransactions.list({ type: 'charge' })).data.length, 1);
  });

  test('twenty concurrent refunds of 10% each on a charge: exactly ten succeed, never more than the charge', async () => {
    const s = t.stripe(freshKey());
    const pi = await s.paymentIntents.create({ amount: 10_000, currency: 'usd', ...card, payment_method: 'pm_card_visa', confirm: true });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => s.refunds.create({ payment_intent: pi.id, amount: 1000 })));
    let ok = 0;
    for (const r of results) {
      if (r.status === 'fulfilled') { ok++; continue; }
      assert.ok(r.reason.statusCode === 400 || r.reason.statusCode === 429, `${r.reason.statusCode} ${r.reason.message}`);
    }
    assert.equal(ok, 10);
    const ch = await s.charges.retrieve(pi.latest_charge as string);
    assert.equal(ch.amount_refunded, 10_000);
    assert.equal((await s.refunds.list({ charge: ch.id, limit: 100 })).data.length, 10);
  });

  test('fifty concurrent confirms across two server processes sharing PostgreSQL make one charge', { skip: !DATABASE_URL && 'PostgreSQL only (set DATABASE_URL)' }, async () => {
    // A second, separate server process (the CLI) on the same database.
    const port = await new Promise<number>((res) => { const srv = createServer(); srv.listen(0, '127.0.0.1', () => { const p = (srv.address() as any).port; srv.close(() => res(p)); }); });
    const child = spawn(process.execPath, ['bin/pinstripe.js', 'serve', '--port', String(port), '--database-url', DATABASE_URL!, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const second = { close: async () => { child.kill('SIGTERM'); await once(child, 'exit'); } };
    try {
      for (let i = 0; ; i++) {
        try { await fetch(`http://127.0.0.1:${port}/v1/customers`); break; } catch { if (i > 100) throw new Error('second server did not start'); await new Promise((r) => setTimeout(r, 50)); }
      }
      const key = freshKey();
      const a = t.stripe(key);
      const b = new Stripe(key, { host: '127.0.0.1', port, protocol: 'http', maxNetworkRetries: 0 } as any);
      const pi = await a.paymentIntents.create({ amount: 1000, currency: 'usd', ...card, payment_method: 'pm_card_visa' });
      const results = await Promise.allSettled(Array.from({ length: 50 }, (_x, i) => (i % 2 ? a : b).paymentIntents.confirm(pi.id)));
      assert.equal(noServerErrors(results, 'payment_intent_unexpected_state'), 1);
      assert.equal((await b.charges.list({ payment_intent: pi.id })).data.length, 1);
      assert.equal((await a.paymentIntents.retrieve(pi.id)).status, 'succeeded');
    } finally {
      await second.close();
    }
  });
});
