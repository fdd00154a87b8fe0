// Wire details the SDK hides: auth errors, versions, form decoding, response bytes,
// Request-Id, idempotency, unknown URLs, malformed input. Raw HTTP throughout.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freshKey, startTestServer, type TestServer } from './helpers/server.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();

describe('authentication', () => {
  test('no key: 401 with Stripe message', async () => {
    const r = await t.request('GET', '/v1/customers', { key: null });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.type, 'invalid_request_error');
    assert.match(r.json.error.message, /^You did not provide an API key/);
    assert.match(r.headers.get('request-id')!, /^req_[A-Za-z0-9]{14}$/);
  });
  test('malformed key is masked in the message', async () => {
    const r = await t.request('GET', '/v1/customers', { key: 'sk_test_bad key!abcd' });
    assert.equal(r.status, 401);
    assert.equal(r.json.error.message, 'Invalid API Key provided: sk_test_********abcd');
    const r2 = await t.request('GET', '/v1/customers', { key: 'nonsense1234' });
    assert.equal(r2.status, 401);
    assert.equal(r2.json.error.message, 'Invalid API Key provided: ********1234');
  });
  test('Basic auth with the key as user name', async () => {
    const key = freshKey();
    const basic = Buffer.from(`${key}:`).toString('base64');
    const r = await t.request('POST', '/v1/customers', { key: null, body: 'name=Basic', headers: { Authorization: `Basic ${basic}` } });
    assert.equal(r.status, 200);
    const r2 = await t.request('GET', `/v1/customers/${r.json.id}`, { key });
    assert.equal(r2.json.name, 'Basic');
  });
  test('publishable key on a secret-only endpoint', async () => {
    const r = await t.request('GET', '/v1/customers', { key: freshKey('test', 'pk') });
    assert.equal(r.status, 401);
    assert.match(r.json.error.message, /cannot be made with a publishable API key/);
  });
  test('restricted keys act like secret keys and share the account', async () => {
    const suffix = freshKey().slice(8);
    const c = await t.request('POST', '/v1/customers', { key: `sk_test_${suffix}`, body: 'name=R' });
    const r = await t.request('GET', `/v1/customers/${c.json.id}`, { key: `rk_test_${suffix}` });
    assert.equal(r.status, 200);
  });
  test('Stripe-Account for another account is a permission error', async () => {
    const r = await t.request('GET', '/v1/customers', { headers: { 'Stripe-Account': 'acct_1234567890abcdef' } });
    assert.equal(r.status, 403);
    assert.match(r.json.error.message, /does not have access to account 'acct_1234567890abcdef'/);
  });
});

describe('Stripe-Version', () => {
  test('absent, current, old and SDK-pinned versions are accepted', async () => {
    for (const v of [undefined, '2026-10-28.endive', '2026-06-24.dahlia', '2020-08-27', '2023-10-16']) {
      const r = await t.request('GET', '/v1/customers', { headers: v ? { 'Stripe-Version': v } : {} });
      assert.equal(r.status, 200, `version ${v}`);
      if (v) assert.equal(r.headers.get('stripe-version'), v);
    }
  });
  test('objects are rendered in the shape of the requested version', async () => {
    const p = await t.request('POST', '/v1/products', { body: 'name=Versioned&marketing_features[0][name]=Fast' });
    assert.deepEqual(p.json.marketing_features, [{ name: 'Fast' }]);
    assert.equal('features' in p.json, false);
    const old = await t.request('GET', `/v1/products/${p.json.id}`, { headers: { 'Stripe-Version': '2023-08-16' } });
    assert.deepEqual(old.json.features, [{ name: 'Fast' }]);
    assert.equal('marketing_features' in old.json, false);
    const keys = Object.keys(old.json);
    assert.deepEqual(keys.slice(2), [...keys.slice(2)].sort());
  });
  test('malformed or unpublished versions are a 400', async () => {
    for (const v of ['banana', '2020-08-28', '2026-10-28.zebra']) {
      const r = await t.request('GET', '/v1/customers', { headers: { 'Stripe-Version': v } });
      assert.equal(r.status, 400, v);
      assert.equal(r.json.error.type, 'invalid_request_error');
      assert.match(r.json.error.message, new RegExp(v.replace(/\./g, '\\.')));
    }
  });
});

describe('form decoding', () => {
  test('escaped brackets, [] arrays, indexed arrays and long arrays', async () => {
    const body = 'metadata%5Bkey%5D=v1&preferred_locales[]=en&preferred_locales[]=fr&expand[0]=test_clock';
    const r = await t.request('POST', '/v1/customers', { body });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.metadata, { key: 'v1' });
    assert.deepEqual(r.json.preferred_locales, ['en', 'fr']);
    const many = Array.from({ length: 30 }, (_, i) => `preferred_locales[${i}]=l${i}`).join('&');
    const r2 = await t.request('POST', '/v1/customers', { body: many });
    assert.equal(r2.status, 200, r2.text);
    assert.equal(r2.json.preferred_locales.length, 30);
    assert.equal(r2.json.preferred_locales[25], 'l25');
  });
  test('python-style escaped brackets in the query string', async () => {
    const c = await t.request('POST', '/v1/customers', { body: 'email=py%40example.com' });
    const r = await t.request('GET', `/v1/customers?email=py%40example.com&expand%5B%5D=data.test_clock&limit=3`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data.map((x: any) => x.id), [c.json.id]);
  });
  test('type errors name the parameter with Stripe messages', async () => {
    const cases: Array<[string, number, RegExp, string]> = [
      ['balance=abc', 400, /^Invalid integer: abc$/, 'balance'],
      ['address[line1]=x&address[city][x]=y', 400, /^Invalid string/, 'address[city]'],
      ['invoice_settings[custom_fields][0][name]=a', 400, /^Missing required param: invoice_settings\[custom_fields\]\[0\]\[value\]\.$/, 'invoice_settings[custom_fields][0][value]'],
      ['tax_exempt=maybe', 400, /^Invalid tax_exempt: must be one of/, 'tax_exempt'],
      ['bogus=1', 400, /^Received unknown parameter: bogus$/, 'bogus'],
    ];
    for (const [body, status, msg, param] of cases) {
      const r = await t.request('POST', '/v1/customers', { body });
      assert.equal(r.status, status, body);
      assert.match(r.json.error.message, msg, body);
      assert.equal(r.json.error.param, param, body);
    }
    const bool = await t.request('GET', '/v1/products?active=yes');
    assert.equal(bool.status, 400);
    assert.equal(bool.json.error.message, 'Invalid boolean: yes');
    assert.equal(bool.json.error.param, 'active');
    // python's and .NET's clients send str(True): v1 reads booleans in any letter case.
    const p = (await t.request('POST', '/v1/products', { body: 'name=Cased&active=False&shippable=TRUE' })).json;
    assert.deepEqual([p.active, p.shippable], [false, true]);
    const listed = await t.request('GET', '/v1/products?active=False');
    assert.deepEqual(listed.json.data.map((x: any) => x.id), [p.id]);
  });
  test('limit out of range, both cursors, unknown cursor', async () => {
    for (const l of ['0', '101', '-1']) {
      const r = await t.request('GET', `/v1/customers?limit=${l}`);
      assert.equal(r.status, 400, l);
      assert.equal(r.json.error.param, 'limit');
    }
    const both = await t.request('GET', '/v1/customers?starting_after=cus_a&ending_before=cus_b');
    assert.equal(both.status, 400);
    assert.equal(both.json.error.message, 'Received both starting_after and ending_before parameters. Please pass in only one.');
    const unknown = await t.request('GET', '/v1/customers?starting_after=cus_nope');
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.error.code, 'resource_missing');
    assert.equal(unknown.json.error.message, "No such customer: 'cus_nope'");
    assert.equal(unknown.json.error.param, 'starting_after');
  });
  test('excessive nesting and huge bodies are clean 4xx', async () => {
    const deep = 'metadata' + '[a]'.repeat(30) + '=x';
    const r = await t.request('POST', '/v1/customers', { body: deep });
    assert.equal(r.status, 400);
    const big = await t.request('POST', '/v1/customers', { body: 'description=' + 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(big.status, 413);
    assert.equal(big.json.error.type, 'invalid_request_error');
  });
  test('a JSON body is refused with a 400, not a 500', async () => {
    const r = await t.request('POST', '/v1/customers', { body: '{"name":"x"}', headers: { 'Content-Type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.type, 'invalid_request_error');
  });
  test('garbage percent-encoding does not produce a 500', async () => {
    const r = await t.request('POST', '/v1/customers', { body: 'name=%E0%A4%A&metadata[%ZZ]=1' });
    assert.ok(r.status === 200 || r.status === 400, String(r.status));
    const r2 = await t.request('GET', '/v1/customers/%E0%A4%A');
    assert.ok(r2.status >= 400 && r2.status < 500, String(r2.status));
    assert.ok(r2.json.error);
  });
});

describe('response bytes', () => {
  test('two-space pretty JSON, id and object first, then alphabetical at every level', async () => {
    const r = await t.request('POST', '/v1/customers', { body: form({ name: 'Order', 'address[line1]': 'x', 'metadata[z]': '1', 'metadata[a]': '2' }) });
    assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.ok(r.text.startsWith('{\n  "id": "cus_'), r.text.slice(0, 40));
    const keys = Object.keys(r.json);
    assert.deepEqual(keys.slice(0, 2), ['id', 'object']);
    assert.deepEqual(keys.slice(2), [...keys.slice(2)].sort());
    assert.deepEqual(Object.keys(r.json.address), ['city', 'country', 'line1', 'line2', 'postal_code', 'state']);
    assert.equal(r.text, JSON.stringify(r.json, null, 2));
    const list = await t.request('GET', '/v1/customers?limit=1');
    assert.deepEqual(Object.keys(list.json), ['object', 'data', 'has_more', 'url']);
  });
  test('retrieves, lists and searches render byte for byte as JSON.stringify would, repeated reads included', async () => {
    const key = freshKey();
    // Replacement patterns ($&, $', $`) and escapes in values must pass through untouched.
    const tricky = { name: "Dollar $& $' $` $$ \\n \"q\" ünï", 'metadata[k]': '$1 <>&' };
    const a = await t.request('POST', '/v1/customers', { key, body: form(tricky) });
    const b = await t.request('POST', '/v1/customers', { key, body: form({ name: 'Plain', email: 'p@example.com' }) });
    for (let round = 0; round < 2; round++) { // the second round is served from cached bodies
      const one = await t.request('GET', `/v1/customers/${a.json.id}`, { key });
      assert.equal(one.text, a.text);
      const list = await t.request('GET', '/v1/customers', { key });
      assert.equal(list.text, JSON.stringify({ object: 'list', data: [b.json, a.json], has_more: false, url: '/v1/customers' }, null, 2));
      const found = await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("name:'Plain'")}`, { key });
      assert.equal(found.text, JSON.stringify({ object: 'search_result', data: [b.json], has_more: false, next_page: null, url: '/v1/customers/search' }, null, 2));
    }
    // An update changes what every later read renders.
    const u = await t.request('POST', `/v1/customers/${a.json.id}`, { key, body: form({ name: 'Renamed' }) });
    assert.equal((await t.request('GET', `/v1/customers/${a.json.id}`, { key })).text, u.text);
    assert.equal((await t.request('GET', '/v1/customers', { key })).json.data[1].name, 'Renamed');
  });
  test('errors have the error envelope and a Request-Id', async () => {
    const r = await t.request('GET', '/v1/customers/cus_missing');
    assert.equal(r.status, 404);
    assert.deepEqual(Object.keys(r.json), ['error']);
    assert.equal(r.json.error.message, "No such customer: 'cus_missing'");
    assert.equal(r.json.error.code, 'resource_missing');
    assert.equal(r.json.error.doc_url, 'https://stripe.com/docs/error-codes/resource-missing');
    assert.match(r.headers.get('request-id')!, /^req_/);
  });
  test('unknown URL and wrong method are Stripe 404s', async () => {
    const r = await t.request('GET', '/v1/foo');
    assert.equal(r.status, 404);
    assert.equal(r.json.error.message, 'Unrecognized request URL (GET: /v1/foo). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.');
    const r2 = await t.request('DELETE', '/v1/prices/price_123');
    assert.equal(r2.status, 404);
    assert.match(r2.json.error.message, /^Unrecognized request URL \(DELETE: \/v1\/prices\/price_123\)/);
  });
});

describe('idempotency', () => {
  test('replays the first response with Idempotent-Replayed', async () => {
    const key = `k-${Math.random()}`;
    const a = await t.request('POST', '/v1/customers', { body: 'name=Idem', headers: { 'Idempotency-Key': key } });
    const b = await t.request('POST', '/v1/customers', { body: 'name=Idem', headers: { 'Idempotency-Key': key } });
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('idempotency-key'), key);
    assert.equal(a.headers.get('idempotent-replayed'), null);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(b.text, a.text);
    assert.notEqual(b.headers.get('request-id'), null);
  });
  test('errors from execution are replayed too; validation errors are not saved', async () => {
    const key = `k-${Math.random()}`;
    const a = await t.request('POST', '/v1/customers', { body: 'test_clock=clock_missing', headers: { 'Idempotency-Key': key } });
    assert.equal(a.status, 400);
    const b = await t.request('POST', '/v1/customers', { body: 'test_clock=clock_missing', headers: { 'Idempotency-Key': key } });
    assert.equal(b.status, 400);
    assert.equal(b.text, a.text);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    const key2 = `k-${Math.random()}`;
    const v = await t.request('POST', '/v1/customers', { body: 'balance=abc', headers: { 'Idempotency-Key': key2 } });
    assert.equal(v.status, 400);
    const ok = await t.request('POST', '/v1/customers', { body: 'balance=5', headers: { 'Idempotency-Key': key2 } });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('idempotent-replayed'), null);
  });
  test('same key, other parameters: 400 idempotency_error', async () => {
    const key = `k-${Math.random()}`;
    await t.request('POST', '/v1/customers', { body: 'name=One', headers: { 'Idempotency-Key': key } });
    const r = await t.request('POST', '/v1/customers', { body: 'name=Two', headers: { 'Idempotency-Key': key } });
    assert.equal(r.status, 400);
    assert.equal(r.json.error.type, 'idempotency_error');
    assert.match(r.json.error.message, new RegExp(`other than '${key.replace('.', '\\.')}'`));
  });
  test('keys are per account; keys over 255 characters are refused', async () => {
    const key = `k-${Math.random()}`;
    const a = await t.request('POST', '/v1/customers', { body: 'name=A', headers: { 'Idempotency-Key': key } });
    const b = await t.request('POST', '/v1/customers', { key: freshKey(), body: 'name=A', headers: { 'Idempotency-Key': key } });
    assert.notEqual(a.json.id, b.json.id);
    const long = await t.request('POST', '/v1/customers', { body: 'name=A', headers: { 'Idempotency-Key': 'x'.repeat(256) } });
    assert.equal(long.status, 400);
    const ok = await t.request('POST', '/v1/customers', { body: 'name=A', headers: { 'Idempotency-Key': 'x'.repeat(255) } });
    assert.equal(ok.status, 200);
  });
  test('concurrent requests with one key create exactly one object', async () => {
    const key = freshKey();
    const idem = `k-${Math.random()}`;
    const results = await Promise.all(Array.from({ length: 8 }, () =>
      t.request('POST', '/v1/customers', { key, body: 'name=Race', headers: { 'Idempotency-Key': idem } })));
    const ok = results.filter((r) => r.status === 200);
    assert.ok(ok.length >= 1);
    assert.equal(new Set(ok.map((r) => r.json.id)).size, 1);
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409);
      assert.equal(r.json.error.code, 'idempotency_key_in_use');
      assert.equal(r.headers.get('stripe-should-retry'), 'true');
    }
    const list = await t.request('GET', '/v1/customers', { key });
    assert.equal(list.json.data.length, 1);
  });
  test('without a key, concurrent updates of one object lose no write', async () => {
    const c = await t.request('POST', '/v1/customers', { body: 'name=Concurrent' });
    await Promise.all(Array.from({ length: 20 }, (_, i) =>
      t.request('POST', `/v1/customers/${c.json.id}`, { body: `metadata[k${i}]=${i}` })));
    const r = await t.request('GET', `/v1/customers/${c.json.id}`);
    assert.equal(Object.keys(r.json.metadata).length, 20);
  });
});
