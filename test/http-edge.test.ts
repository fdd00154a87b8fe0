// The HTTP edge answers API requests on node:http directly (the fast path in src/http/server.ts)
// and leaves the rest to Fastify: these tests hold the two paths to the same wire behaviour.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

/** Header names of a response, without the ones that differ per response or connection. */
const headerNames = (h: Headers) => [...h.keys()].filter((k) => !['date', 'request-id', 'content-length', 'keep-alive', 'connection'].includes(k)).sort();

describe('HTTP edge', () => {
  test('a percent-encoded path (answered by Fastify) and a plain one (the fast path) answer alike', async () => {
    const created = await t.request('POST', '/v1/customers', { body: 'name=Edge' });
    assert.equal(created.status, 200);
    const id = created.json.id as string;
    const fast = await t.request('GET', `/v1/customers/${id}`);
    const slow = await t.request('GET', `/v1/customers/${id.replace('_', '%5F')}`);
    assert.equal(fast.status, 200);
    assert.equal(slow.status, 200);
    assert.equal(fast.text, slow.text);
    assert.deepEqual(headerNames(fast.headers), headerNames(slow.headers));
    assert.equal(fast.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(fast.headers.get('stripe-version'), slow.headers.get('stripe-version'));
    assert.match(fast.headers.get('request-id')!, /^req_/);
    assert.notEqual(fast.headers.get('request-id'), slow.headers.get('request-id'));

    // An error once the endpoint runs carries Idempotency-Key and Stripe-Version on both paths.
    const key = 'edge-key-1';
    const e1 = await t.request('POST', '/v1/customers/cus_missing', { body: 'name=x', headers: { 'Idempotency-Key': key } });
    const e2 = await t.request('POST', '/v1/customers/cus%5Fmissing', { body: 'name=x', headers: { 'Idempotency-Key': `${key}-b` } });
    for (const [r, k] of [[e1, key], [e2, `${key}-b`]] as const) {
      assert.equal(r.status, 404);
      assert.equal(r.json.error.message, "No such customer: 'cus_missing'");
      assert.equal(r.headers.get('idempotency-key'), k);
      assert.ok(r.headers.get('stripe-version'));
      assert.equal(r.headers.get('access-control-allow-origin'), '*');
    }
    assert.deepEqual(headerNames(e1.headers), headerNames(e2.headers));
    // The replay comes from the fast path too.
    const replay = await t.request('POST', '/v1/customers/cus_missing', { body: 'name=x', headers: { 'Idempotency-Key': key } });
    assert.equal(replay.status, 404);
    assert.equal(replay.headers.get('idempotent-replayed'), 'true');
  });

  test('a chunked body over the limit is a clean 413 with a Request-Id, and the server keeps serving', async () => {
    const r = await new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = http.request(`${t.url}/v1/customers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.key}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => { text += s; }).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
      });
      req.on('error', reject);
      req.write('description=');
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 18; i++) req.write(chunk); // 1.1 MB, past the 1 MB limit
      req.end();
    });
    assert.equal(r.status, 413);
    assert.equal(JSON.parse(r.text).error.type, 'invalid_request_error');
    assert.match(String(r.headers['request-id']), /^req_/);
    assert.equal((await t.request('GET', '/v1/customers')).status, 200);
    // Under the limit, a chunked form body is decoded as usual.
    const ok = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = http.request(`${t.url}/v1/customers`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${t.key}`, 'Content-Type': 'application/x-www-form-urlencoded', 'Transfer-Encoding': 'chunked' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => { text += s; }).on('end', () => resolve({ status: res.statusCode!, text }));
      });
      req.on('error', reject);
      req.write('name=Chun');
      req.end('ked%20%C3%BC');
    });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(JSON.parse(ok.text).name, 'Chunked ü');
  });
});
