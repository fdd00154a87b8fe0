// Raw card numbers never reach the store: after payments with typed-in numbers (publishable
// key), no stored byte of the SQLite database or its WAL contains them, nor any response.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { startServer, type RunningServer } from '../src/server.js';
import { freshKey } from './helpers/server.js';

let dir: string;
let server: RunningServer;
before(async () => { dir = mkdtempSync(join(tmpdir(), 'pinstripe-card-')); server = await startServer({ port: 0, dataDir: dir, logLevel: 'silent' }); });
after(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); });

describe('card data', () => {
  test('numbers typed into PaymentMethods, tokens and intents are not stored', async () => {
    const key = freshKey();
    const opts = { host: '127.0.0.1', port: server.port, protocol: 'http', maxNetworkRetries: 0 } as any;
    const sk = new Stripe(key, opts);
    const pk = new Stripe(key.replace('sk_', 'pk_'), opts);
    const numbers = ['4000056655665556', '5555555555554444', '378282246310005'];
    const pm = await pk.paymentMethods.create({ type: 'card', card: { number: numbers[0], exp_month: 1, exp_year: 2040, cvc: '123' } as any });
    const tok = await pk.tokens.create({ card: { number: numbers[1]!, exp_month: '1', exp_year: '2040', cvc: '123' } });
    const pi = await sk.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['card'] } as any);
    await pk.paymentIntents.confirm(pi.id, { client_secret: pi.client_secret!, payment_method_data: { type: 'card', card: { number: numbers[2], exp_month: 1, exp_year: 2040, cvc: '1234' } } } as any);
    await sk.paymentIntents.create({ amount: 1000, currency: 'usd', payment_method_types: ['card'], payment_method: pm.id, confirm: true } as any);
    await sk.charges.create({ amount: 1000, currency: 'usd', source: tok.id });
    // The scan sees the stored data (the PaymentMethod id is there), so a number would be found too.
    assert.ok(readdirSync(dir).some((f) => readFileSync(join(dir, f)).indexOf(pm.id) >= 0), 'stored data not found');
    for (const f of readdirSync(dir)) {
      const bytes = readFileSync(join(dir, f));
      for (const n of numbers) {
        assert.equal(bytes.indexOf(n), -1, `${n} found in ${f}`);
        assert.equal(bytes.indexOf(Buffer.from(n, 'utf16le')), -1, `${n} (utf16) found in ${f}`);
      }
    }
  });
});
