// The python client: Debian's python3-stripe (installed by .ci/run) against a live server,
// for what python integrations send differently from stripe-node (its own encoder, no
// Stripe-Version unless set, auto-paging through the list url). Skips when no python3 with
// the stripe module is on the machine.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { startTestServer, type TestServer } from './helpers/server.js';

const PYTHON = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import stripe'], { stdio: 'ignore' }).status === 0);
const SCRIPT = join(process.cwd(), 'test', 'python', 'client_flows.py');

let t: TestServer;
before(async () => { if (PYTHON) t = await startTestServer(); });
after(async () => { if (PYTHON) await t.close(); });

test('python stripe: nested params, metadata unset, auto-paging, search, idempotent retry, errors', { skip: PYTHON ? false : 'no python3 with the stripe module (apt-get install python3-stripe)' }, async () => {
  // Asynchronously: the server answering it runs in this process.
  const { stdout } = await promisify(execFile)(PYTHON!, [SCRIPT, t.url, t.key], { encoding: 'utf8', timeout: 60_000 });
  const out = JSON.parse(stdout);
  assert.equal(out.customer.object, 'customer');
  assert.equal(out.customer.city, 'Springfield');
  assert.deepEqual(out.customer.locales, ['en', 'fr']);
  assert.deepEqual(out.customer.metadata, { plan: 'gold', drop: 'me' });
  assert.deepEqual(out.unset_metadata, { plan: 'gold' });
  assert.deepEqual(out.auto_paged_emails, ['page3@example.com', 'page2@example.com', 'page1@example.com', 'page0@example.com', 'py@example.com']);
  assert.deepEqual(out.search, [out.customer.id]);
  assert.deepEqual(out.payment, { status: 'succeeded', same_on_retry: true, charge_last4: '4242' });
  assert.deepEqual(out.decline, { status: 402, code: 'card_declined', decline_code: 'insufficient_funds' });
  assert.equal(out.unknown_param.status, 400);
  assert.equal(out.unknown_param.param, 'favourite_colour');
  assert.match(out.unknown_param.message, /Received unknown parameter: favourite_colour/);
  assert.deepEqual(out.missing, { status: 404, code: 'resource_missing' });
});
