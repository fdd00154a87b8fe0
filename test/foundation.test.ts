// The foundation issue's wire requirements, line by line, where the other suites leave a gap:
// python's habits, auth edge cases, modes, Stripe-Account, unknown URLs, malformed bodies,
// list/expand/search errors with Stripe's exact messages, Request-Id on every kind of error,
// unexpected exceptions, and idempotency shared by two servers on one store.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { DATABASE_URL, freshKey, startTestServer, type RawResponse, type TestServer } from './helpers/server.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';

let t: TestServer;
before(async () => { t = await startTestServer(); });
after(() => t.close());

const REQ_ID = /^req_[A-Za-z0-9]{14}$/;

function assertError(r: RawResponse, status: number, fields: Record<string, unknown>): void {
  assert.equal(r.status, status, r.text);
  assert.deepEqual(Object.keys(r.json), ['error']);
  for (const [k, v] of Object.entries(fields)) assert.equal(r.json.error[k], v, `${k} of ${r.text}`);
  assert.match(r.headers.get('request-id') ?? '', REQ_ID);
  assert.equal(r.headers.get('content-type'), 'application/json; charset=utf-8');
}

/** Raw GET/POST as python's stripe library sends them: no Stripe-Version, escaped brackets in queries. */
const py = {
  get: (key: string, path: string) => t.request('GET', path, { key }),
  post: (key: string, path: string, body: string, idem: string = randomUUID()) =>
    t.request('POST', path, { key, body, headers: { 'Idempotency-Key': idem } }),
};

describe("python's habits", () => {
  test('pages through the list by its `url`, with escaped brackets and no Stripe-Version', async () => {
    const key = freshKey();
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await py.post(key, '/v1/customers', `email=p${i}%40example.com&metadata%5Bi%5D=${i}`)).json.id);
    let page = await py.get(key, '/v1/customers?limit=2&expand%5B0%5D=data.test_clock');
    assert.equal(page.headers.get('stripe-version'), '2026-10-28.endive');
    const seen: string[] = page.json.data.map((c: any) => c.id);
    while (page.json.has_more) {
      const last = page.json.data[page.json.data.length - 1].id;
      page = await py.get(key, `${page.json.url}?limit=2&starting_after=${last}&expand%5B0%5D=data.test_clock`);
      assert.equal(page.status, 200, page.text);
      seen.push(...page.json.data.map((c: any) => c.id));
    }
    assert.deepEqual(seen, [...made].reverse());
    // Search pages the same way: the url plus `page`.
    const q = encodeURIComponent("email~'example'");
    let s = await py.get(key, `/v1/customers/search?query=${q}&limit=3`);
    const found: string[] = s.json.data.map((c: any) => c.id);
    assert.equal(s.json.url, '/v1/customers/search');
    while (s.json.has_more) {
      s = await py.get(key, `${s.json.url}?query=${q}&limit=3&page=${encodeURIComponent(s.json.next_page)}`);
      found.push(...s.json.data.map((c: any) => c.id));
    }
    assert.deepEqual(found, [...made].reverse());
    assert.equal(s.json.next_page, null);
  });

  test("its own Stripe-Version (2026-06-24.dahlia) is accepted and echoed", async () => {
    const r = await t.request('POST', '/v1/customers', { body: 'name=Dahlia', headers: { 'Stripe-Version': '2026-06-24.dahlia' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.headers.get('stripe-version'), '2026-06-24.dahlia');
  });

  test('a bare uuid4 Idempotency-Key is replayed, echoed, and bound to its parameters', async () => {
    const key = freshKey();
    const idem = randomUUID();
    const a = await py.post(key, '/v1/customers', 'name=Py', idem);
    const b = await py.post(key, '/v1/customers', 'name=Py', idem);
    assert.equal(a.headers.get('idempotency-key'), idem);
    assert.equal(b.headers.get('idempotency-key'), idem);
    assert.equal(b.headers.get('idempotent-replayed'), 'true');
    assert.equal(b.text, a.text);
    assert.notEqual(b.headers.get('request-id'), a.headers.get('request-id'));
    const c = await py.post(key, '/v1/customers', 'name=Other', idem);
    assertError(c, 400, {
      type: 'idempotency_error',
      message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idem}' if you meant to execute a different request.`,
    });
    assert.equal((await py.get(key, '/v1/customers')).json.data.length, 1);
  });

  test('DELETE carries its parameters in the query string', async () => {
    const c = await t.request('POST', '/v1/customers', { body: 'name=Del' });
    const r = await t.request('DELETE', `/v1/customers/${c.json.id}?bogus%5Bx%5D=1`);
    assertError(r, 400, { message: 'Received unknown parameter: bogus', param: 'bogus', code: 'parameter_unknown' });
    assert.equal((await t.request('GET', `/v1/customers/${c.json.id}`)).json.name, 'Del');
    const ok = await t.request('DELETE', `/v1/customers/${c.json.id}`);
    assert.deepEqual(ok.json, { id: c.json.id, object: 'customer', deleted: true });
  });
});

describe('authentication, keys and modes', () => {
  const NO_KEY = "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";
  const PUBLISHABLE = 'This API call cannot be made with a publishable API key. Please use a secret API key. You can find a list of your API keys at https://dashboard.stripe.com/account/apikeys.';

  test('no key, an empty Bearer, an empty Basic user: 401 with Stripe message', async () => {
    for (const auth of [undefined, 'Bearer', 'Bearer ', `Basic ${Buffer.from(':').toString('base64')}`]) {
      const r = await t.request('GET', '/v1/customers', { key: null, headers: auth === undefined ? {} : { Authorization: auth } });
      assertError(r, 401, { type: 'invalid_request_error', message: NO_KEY });
    }
  });

  test('Basic auth: key as user name, with or without a password; a bad key is masked', async () => {
    const key = freshKey();
    for (const cred of [`${key}:`, `${key}:ignored`, key]) {
      const r = await t.request('POST', '/v1/customers', { key: null, body: 'name=B', headers: { Authorization: `Basic ${Buffer.from(cred).toString('base64')}` } });
      assert.equal(r.status, 200, `${cred}: ${r.text}`);
    }
    assert.equal((await t.request('GET', '/v1/customers', { key })).json.data.length, 3);
    const bad = await t.request('GET', '/v1/customers', { key: null, headers: { Authorization: `Basic ${Buffer.from('sk_test_fake local no real calls:').toString('base64')}` } });
    assertError(bad, 401, { message: 'Invalid API Key provided: sk_test_********************alls' });
    const scheme = await t.request('GET', '/v1/customers', { key: null, headers: { Authorization: 'Token sk_test_abcdefgh1234' } });
    assert.equal(scheme.status, 401);
    assert.equal(scheme.json.error.code, undefined);
  });

  test('publishable keys (test and live) are refused on secret-only endpoints', async () => {
    for (const key of [freshKey('test', 'pk'), freshKey('live', 'pk')]) {
      for (const [m, p, body] of [['GET', '/v1/customers'], ['POST', '/v1/products', 'name=x'], ['GET', '/v1/events']] as const) {
        assertError(await t.request(m, p, { key, body }), 401, { type: 'invalid_request_error', message: PUBLISHABLE });
      }
    }
  });

  test('rk_ keys act like secret keys in their own mode; live data never mixes with test data', async () => {
    const suffix = freshKey().slice('sk_test_'.length);
    const live = await t.request('POST', '/v1/customers', { key: `rk_live_${suffix}`, body: 'name=Live' });
    assert.equal(live.status, 200, live.text);
    assert.equal(live.json.livemode, true);
    const viaSk = await t.request('GET', `/v1/customers/${live.json.id}`, { key: `sk_live_${suffix}` });
    assert.equal(viaSk.json.name, 'Live');
    const ev = await t.request('GET', '/v1/events', { key: `sk_live_${suffix}` });
    assert.deepEqual(ev.json.data.map((e: any) => [e.type, e.livemode, e.data.object.livemode]), [['customer.created', true, true]]);
    // The test half of the same account sees nothing of it, and is told why.
    for (const k of [`sk_test_${suffix}`, `rk_test_${suffix}`]) {
      assertError(await t.request('GET', `/v1/customers/${live.json.id}`, { key: k }), 404, {
        code: 'resource_missing', param: 'id',
        message: `No such customer: '${live.json.id}'; a similar object exists in live mode, but a test mode key was used to make this request.`,
      });
      assert.deepEqual((await t.request('GET', '/v1/customers', { key: k })).json.data, []);
      assert.deepEqual((await t.request('GET', '/v1/events', { key: k })).json.data, []);
    }
    const test = await t.request('POST', '/v1/products', { key: `sk_test_${suffix}`, body: 'name=T' });
    assertError(await t.request('POST', `/v1/products/${test.json.id}`, { key: `sk_live_${suffix}`, body: 'name=U' }), 404, {
      message: `No such product: '${test.json.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`,
    });
    const price = await t.request('POST', '/v1/prices', { key: `sk_test_${suffix}`, body: `product=${test.json.id}&currency=usd&unit_amount=1` });
    assertError(await t.request('GET', `/v1/prices/${price.json.id}`, { key: `sk_live_${suffix}` }), 404, {
      param: 'price', message: `No such price: '${price.json.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`,
    });
    // Body references get the hint too, as 400s naming the parameter.
    assertError(await t.request('POST', '/v1/prices', { key: `sk_live_${suffix}`, body: `product=${test.json.id}&currency=usd&unit_amount=1` }), 400, {
      param: 'product', code: 'resource_missing',
      message: `No such product: '${test.json.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`,
    });
    assertError(await t.request('GET', `/v1/prices?product=${test.json.id}`, { key: `sk_live_${suffix}` }), 400, {
      param: 'product', message: `No such product: '${test.json.id}'; a similar object exists in test mode, but a live mode key was used to make this request.`,
    });
    // Another account's object is just missing.
    assertError(await t.request('GET', `/v1/customers/${live.json.id}`, { key: freshKey('live') }), 404, { message: `No such customer: '${live.json.id}'` });
  });

  test("Stripe-Account naming an account the key does not control: Stripe's permission error with the key masked", async () => {
    const key = 'sk_test_' + 'a'.repeat(20) + '1234';
    const r = await t.request('GET', '/v1/customers', { key, headers: { 'Stripe-Account': 'acct_1OtherAccount00' } });
    assertError(r, 403, {
      type: 'invalid_request_error',
      message: "The provided key 'sk_test_********************1234' does not have access to account 'acct_1OtherAccount00' (or that account does not exist). Application access may have been revoked.",
    });
    const post = await t.request('POST', '/v1/customers', { key, body: 'name=x', headers: { 'Stripe-Account': 'acct_x' } });
    assert.equal(post.status, 403);
    assert.deepEqual((await t.request('GET', '/v1/customers', { key })).json.data, [], 'nothing was created');
  });
});

describe('unknown URLs, methods and malformed requests', () => {
  const unrecognized = (m: string, p: string) => `Unrecognized request URL (${m}: ${p}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`;

  test('unknown URL / wrong method: the 404 names the method and the path as sent', async () => {
    for (const [m, p] of [['GET', '/v1/foo'], ['POST', '/v1/events'], ['DELETE', '/v1/products'], ['POST', '/v1/events/evt_1'], ['GET', '/v1/customers%3Fstarting_after=cus_1'], ['GET', '/v2/customers']]) {
      assertError(await t.request(m!, p!), 404, { type: 'invalid_request_error', message: unrecognized(m!, p!), code: undefined, param: undefined });
    }
    assertError(await t.request('GET', '/v1/foo?limit=3'), 404, { message: unrecognized('GET', '/v1/foo') });
    assertError(await t.request('GET', '/v1/customers/'), 404, {
      message: 'Unrecognized request URL (GET: /v1/customers/). If you are trying to list objects, remove the trailing slash. If you are trying to retrieve an object, make sure you passed a valid (non-empty) identifier in your code. Please see https://stripe.com/docs or we can help at https://support.stripe.com/.',
    });
  });

  test('a body over the limit is a clean 413 with a Request-Id, and the server keeps serving', async () => {
    const r = await t.request('POST', '/v1/customers', { body: 'metadata[a]=' + 'x'.repeat(1100 * 1024) });
    assertError(r, 413, { type: 'invalid_request_error' });
    assert.equal((await t.request('GET', '/v1/customers')).status, 200);
  });

  test("bodies that are not forms: Stripe's unsupported Content-Type message", async () => {
    for (const ctype of ['text/plain; charset=utf-8', 'application/json', 'multipart/form-data; boundary=x']) {
      const r = await t.request('POST', '/v1/customers', { body: 'name=x', headers: { 'Content-Type': ctype } });
      assertError(r, 400, {
        type: 'invalid_request_error',
        message: `Invalid request: unsupported Content-Type ${ctype}. If error persists and you need assistance, please contact support@stripe.com.`,
      });
    }
  });

  test('malformed form bodies never 5xx', async () => {
    for (const body of ['=', '&&&', 'name', 'a[=1', 'metadata[]=x', 'metadata[a][b]=1', 'expand=x', 'name[]=a', '%', '%%%%', 'name=%FF%FE']) {
      const r = await t.request('POST', '/v1/customers', { body });
      assert.ok(r.status === 200 || r.status === 400, `${body}: ${r.status} ${r.text}`);
      if (r.status === 400) assertError(r, 400, { type: 'invalid_request_error' });
    }
    const hash = await t.request('POST', '/v1/customers', { body: 'metadata=abc' });
    assertError(hash, 400, { param: 'metadata' });
  });
});

describe('lists, expand and search: error paths', () => {
  test('limit: not an integer, out of range (lists, searches, events)', async () => {
    for (const path of ['/v1/customers', '/v1/products', '/v1/prices', '/v1/events', "/v1/customers/search?query=name:'x'&"]) {
      const sep = path.endsWith('&') ? '' : '?';
      assertError(await t.request('GET', `${path}${sep}limit=abc`), 400, { message: 'Invalid integer: abc', param: 'limit', code: 'parameter_invalid_integer' });
      assertError(await t.request('GET', `${path}${sep}limit=0`), 400, { message: 'This value must be greater than or equal to 1.', param: 'limit' });
      assertError(await t.request('GET', `${path}${sep}limit=101`), 400, { message: 'This value must be less than or equal to 100.', param: 'limit' });
      assert.equal((await t.request('GET', `${path}${sep}limit=100`)).status, 200);
      assert.equal((await t.request('GET', `${path}${sep}limit=1`)).status, 200);
    }
  });

  test('starting_after together with ending_before, on every list', async () => {
    const key = freshKey();
    const c = await t.request('POST', '/v1/customers', { key, body: 'name=x' });
    const ev = (await t.request('GET', '/v1/events', { key })).json.data[0].id;
    for (const [path, id] of [['/v1/customers', c.json.id], ['/v1/events', ev]]) {
      assertError(await t.request('GET', `${path}?starting_after=${id}&ending_before=${id}`, { key }), 400, {
        message: 'Received both starting_after and ending_before parameters. Please pass in only one.', code: undefined,
      });
    }
    assertError(await t.request('GET', '/v1/events?ending_before=evt_nope', { key }), 400, { message: "No such event: 'evt_nope'", param: 'ending_before', code: 'resource_missing' });
    // A cursor of another type is not an object of this list.
    assertError(await t.request('GET', `/v1/products?starting_after=${c.json.id}`, { key }), 400, { message: `No such product: '${c.json.id}'`, param: 'starting_after' });
  });

  test('expand: more than 4 levels, non-expandable fields, lists without data.', async () => {
    const key = freshKey();
    const p = await t.request('POST', '/v1/products', { key, body: 'name=E&default_price_data[currency]=usd&default_price_data[unit_amount]=5' });
    const five = 'default_price.product.default_price.product.default_price';
    assertError(await t.request('GET', `/v1/products/${p.json.id}?expand[]=${five}`, { key }), 400, {
      message: `You cannot expand more than 4 levels of a property. Property: ${five}`, code: 'property_expansion_max_depth',
    });
    assertError(await t.request('GET', `/v1/prices?expand[]=data.product.default_price.product.default_price`, { key }), 400, {
      message: 'You cannot expand more than 4 levels of a property. Property: data.product.default_price.product.default_price', code: 'property_expansion_max_depth',
    });
    assertError(await t.request('GET', `/v1/products/${p.json.id}?expand[]=invalid.deep.path`, { key }), 400, { message: 'This property cannot be expanded (invalid).', code: undefined, param: undefined });
    assertError(await t.request('GET', `/v1/products/${p.json.id}?expand[]=default_price.currency`, { key }), 400, { message: 'This property cannot be expanded (currency).' });
    assertError(await t.request('GET', '/v1/prices?expand[]=product', { key }), 400, { message: "This property cannot be expanded (product). You may want to try expanding 'data.product' instead." });
    assertError(await t.request('POST', '/v1/customers', { key, body: 'expand[]=name' }), 400, { message: 'This property cannot be expanded (name).' });
    // A create whose expansion fails is refused as a whole: nothing was stored.
    assert.equal((await t.request('GET', '/v1/customers', { key })).json.data.length, 0);
    await t.request('POST', '/v1/customers', { key, body: 'name=one' });
    assertError(await t.request('GET', '/v1/customers?expand[]=data.email', { key }), 400, { message: 'This property cannot be expanded (email).' });
  });

  test('search: missing query, syntax errors, AND mixed with OR, unknown fields, bad page, total_count only when expanded', async () => {
    const key = freshKey();
    for (let i = 0; i < 3; i++) await t.request('POST', '/v1/customers', { key, body: `name=Search ${i}&email=s${i}%40example.com` });
    assertError(await t.request('GET', '/v1/customers/search', { key }), 400, { message: 'Missing required param: query.', param: 'query', code: 'parameter_missing' });
    const PARSE = 'We were unable to parse your search query. Try using the format `metadata["key"]:"value"` to query for metadata or key:"value" to query for other fields.';
    for (const q of ['email:', "email:'unterminated", 'email', "(email:'a')", "email:'a' AND", "email::'a'"]) {
      assertError(await t.request('GET', `/v1/customers/search?query=${encodeURIComponent(q)}`, { key }), 400, { message: PARSE, param: 'query' });
    }
    assertError(await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("name:'a' AND email:'b' OR phone:'c'")}`, { key }), 400, {
      message: "We were unable to parse your search query. You can't combine AND and OR in the same query.", param: 'query',
    });
    assertError(await t.request('GET', `/v1/products/search?query=${encodeURIComponent("color:'red'")}`, { key }), 400, {
      message: 'Field `color` is an unsupported search field for resource `products`. See http://stripe.com/docs/search#query-fields-for-products for a list of supported fields.',
    });
    assertError(await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("email~'ab'")}`, { key }), 400, { param: 'query' });
    assertError(await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("email~'example'")}&page=garbage`, { key }), 400, { param: 'page' });
    const plain = await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("email~'example'")}&limit=2`, { key });
    assert.deepEqual(Object.keys(plain.json), ['object', 'data', 'has_more', 'next_page', 'url']);
    assert.equal('total_count' in plain.json, false);
    const counted = await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("email~'example'")}&limit=2&expand[]=total_count`, { key });
    assert.equal(counted.json.total_count, 3);
    assert.equal(counted.json.data.length, 2);
    const rest = await t.request('GET', `/v1/customers/search?query=${encodeURIComponent("email~'example'")}&limit=2&page=${counted.json.next_page}`, { key });
    assert.equal(rest.json.data.length, 1);
    assert.equal(rest.json.has_more, false);
    assert.equal(rest.json.next_page, null);
  });
});

describe('customers: list filters', () => {
  test('created (exact and ranges), email, test_clock', async () => {
    const key = freshKey();
    const s = t.stripe(key);
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await s.customers.create({ email: i === 1 ? 'x@example.com' : `c${i}@example.com` }));
    const ids = (l: { data: Stripe.Customer[] }) => l.data.map((c) => c.id);
    const created = made[0]!.created;
    assert.deepEqual(ids(await s.customers.list({ created })), made.filter((c) => c.created === created).map((c) => c.id).reverse());
    assert.deepEqual(ids(await s.customers.list({ created: { gte: created } })), made.map((c) => c.id).reverse());
    assert.deepEqual(ids(await s.customers.list({ created: { gt: created + 3600 } })), []);
    assert.deepEqual(ids(await s.customers.list({ created: { lt: created } })), []);
    assert.deepEqual(ids(await s.customers.list({ created: { lte: created + 3600, gte: created - 3600 } })), made.map((c) => c.id).reverse());
    assert.deepEqual(ids(await s.customers.list({ email: 'x@example.com' })), [made[1]!.id]);
    assert.deepEqual(ids(await s.customers.list({ email: 'X@example.com' })), [], 'the email filter is case-sensitive');
    // No customer is attached to a test clock (test clocks arrive with billing).
    assert.deepEqual(ids(await s.customers.list({ test_clock: 'clock_1NoSuchClock' })), []);
    await assert.rejects(s.customers.list({ created: { after: 1 } } as any), (e: any) => e.statusCode === 400 && e.message === 'Received unknown parameter: created[after]');
    await assert.rejects(s.customers.list({ created: 'yesterday' } as any), (e: any) => e.statusCode === 400 && e.param === 'created');
  });
});

describe('events: list filters and retrieve', () => {
  test('delivery_success with no webhook endpoints, types[] limits, retrieve errors, request info', async () => {
    const key = freshKey();
    const raw = await t.request('POST', '/v1/customers', { key, body: 'name=NoKey' });
    const idem = await t.request('POST', '/v1/customers', { key, body: 'name=Key', headers: { 'Idempotency-Key': 'ev-key-1' } });
    const list = (await t.request('GET', '/v1/events', { key })).json.data;
    assert.deepEqual(list.map((e: any) => e.request), [{ id: idem.headers.get('request-id'), idempotency_key: 'ev-key-1' }, { id: raw.headers.get('request-id'), idempotency_key: null }]);
    // The event carries the object exactly as the response did.
    assert.deepEqual(list[1].data.object, raw.json);
    // No endpoints: nothing is pending or failed, so every event counts as delivered.
    assert.equal((await t.request('GET', '/v1/events?delivery_success=true', { key })).json.data.length, 2);
    assert.equal((await t.request('GET', '/v1/events?delivery_success=false', { key })).json.data.length, 0);
    assertError(await t.request('GET', '/v1/events?delivery_success=maybe', { key }), 400, { message: 'Invalid boolean: maybe', param: 'delivery_success' });
    const many = Array.from({ length: 21 }, (_, i) => `types[]=t${i}`).join('&');
    assertError(await t.request('GET', `/v1/events?${many}`, { key }), 400, { param: 'types' });
    assert.equal((await t.request('GET', `/v1/events?types[]=customer.created&types[]=nope`, { key })).json.data.length, 2);
    assert.equal((await t.request('GET', `/v1/events?type=${encodeURIComponent('*')}`, { key })).json.data.length, 2);
    assert.equal((await t.request('GET', `/v1/events?type=${encodeURIComponent('product.*')}`, { key })).json.data.length, 0);
    assertError(await t.request('GET', '/v1/events/evt_nope', { key }), 404, { message: "No such event: 'evt_nope'", param: 'id', code: 'resource_missing' });
    assertError(await t.request('GET', `/v1/events/${raw.json.id}`, { key }), 404, { message: `No such event: '${raw.json.id}'` });
  });
});

describe('Request-Id', () => {
  test('every response carries one, successes and each kind of error, all distinct', async () => {
    const responses = [
      await t.request('GET', '/v1/customers'),
      await t.request('GET', '/v1/customers', { key: null }),
      await t.request('GET', '/v1/customers', { key: 'sk_test_x y' }),
      await t.request('GET', '/v1/customers', { headers: { 'Stripe-Account': 'acct_other' } }),
      await t.request('GET', '/v1/customers', { headers: { 'Stripe-Version': 'nope' } }),
      await t.request('GET', '/v1/nope'),
      await t.request('POST', '/v1/customers', { body: 'bogus=1' }),
      await t.request('POST', '/v1/customers', { body: 'x'.repeat(1100 * 1024) }),
      await t.request('POST', '/v1/customers', { body: 'name=x', headers: { 'Content-Type': 'text/plain' } }),
      await t.request('OPTIONS', '/v1/customers'),
    ];
    const ids = responses.map((r) => r.headers.get('request-id'));
    for (const [i, id] of ids.entries()) assert.match(id ?? '', REQ_ID, `response ${i} (${responses[i]!.status})`);
    assert.equal(new Set(ids).size, ids.length);
    // Error bodies point at the request's log entry.
    assert.equal(responses[6]!.json.error.request_log_url, `https://dashboard.stripe.com/test/logs/${ids[6]}`);
  });
});

/** A store whose reads throw, to provoke an unexpected exception. */
function failing(store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'scan') return async () => { throw new Error('disk on fire'); };
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

describe('unexpected exceptions', () => {
  test("render Stripe's api_error shape with a 500 and a Request-Id, and the server keeps serving", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pinstripe-fail-'));
    const store = await openStore({ dataDir: dir, databaseUrl: DATABASE_URL });
    const s = await startTestServer({ store: failing(store) });
    try {
      const r = await s.request('GET', '/v1/customers');
      assertError(r, 500, { type: 'api_error', message: 'An unknown error occurred' });
      assert.doesNotMatch(r.text, /disk on fire/);
      const ok = await s.request('POST', '/v1/customers', { body: 'name=still here' });
      assert.equal(ok.status, 200, ok.text);
      // The SDK maps it to StripeAPIError.
      await assert.rejects(s.stripe().customers.list(), (e: any) => e instanceof Stripe.errors.StripeAPIError && e.statusCode === 500);
    } finally {
      await s.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('idempotency across servers sharing one store', () => {
  test('a key used on one server replays on the other; other parameters are refused there', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pinstripe-shared-'));
    const a = await startTestServer({ dataDir: dir });
    const b = await startTestServer({ dataDir: dir });
    try {
      const key = freshKey();
      const idem = randomUUID();
      const first = await a.request('POST', '/v1/customers', { key, body: 'name=Shared', headers: { 'Idempotency-Key': idem } });
      const replay = await b.request('POST', '/v1/customers', { key, body: 'name=Shared', headers: { 'Idempotency-Key': idem } });
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.text, first.text);
      const other = await b.request('POST', '/v1/customers', { key, body: 'name=Else', headers: { 'Idempotency-Key': idem } });
      assert.equal(other.status, 400);
      assert.equal(other.json.error.type, 'idempotency_error');
      // Concurrent requests with one fresh key over both servers make exactly one customer.
      const race = randomUUID();
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).request('POST', '/v1/customers', { key, body: 'name=Race', headers: { 'Idempotency-Key': race } })));
      const ok = results.filter((r) => r.status === 200);
      assert.ok(ok.length >= 1);
      assert.equal(new Set(ok.map((r) => r.json.id)).size, 1);
      for (const r of results) if (r.status !== 200) assertError(r, 409, { code: 'idempotency_key_in_use' });
      const names = (await a.request('GET', '/v1/customers', { key })).json.data.map((c: any) => c.name);
      assert.deepEqual(names.sort(), ['Race', 'Shared']);
    } finally {
      await a.close().catch(() => {});
      await b.close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('idempotency keys live 24 hours', () => {
  test('replayed until 24 h have passed, then the key runs the request afresh', async () => {
    const { FrozenClock } = await import('../src/api/clock.js');
    const T0 = 1_800_000_000;
    const clock = new FrozenClock(T0);
    const s = await startTestServer({ clock });
    try {
      const idem = randomUUID();
      const post = () => s.request('POST', '/v1/customers', { body: 'name=Day', headers: { 'Idempotency-Key': idem } });
      const first = await post();
      clock.set(T0 + 24 * 3600 - 1);
      const replay = await post();
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      assert.equal(replay.json.id, first.json.id);
      clock.set(T0 + 24 * 3600 + 1);
      const fresh = await post();
      assert.equal(fresh.status, 200);
      assert.equal(fresh.headers.get('idempotent-replayed'), null);
      assert.notEqual(fresh.json.id, first.json.id);
      assert.equal(fresh.json.created, T0 + 24 * 3600 + 1);
      // The periodic sweep deletes what has expired.
      assert.ok(await s.server.services.store.expireIdempotency(clock.nowMs() - 24 * 3600 * 1000) >= 0);
    } finally {
      await s.close();
    }
  });
});

describe('customer includable fields', () => {
  test('sources, subscriptions, tax_ids, cash_balance and tax appear only when expanded, on retrieve and on lists', async () => {
    const s = t.stripe(freshKey());
    const c = await s.customers.create({ name: 'Inc', address: { country: 'DE', state: 'BE' } });
    for (const f of ['sources', 'subscriptions', 'tax_ids', 'cash_balance', 'tax']) assert.equal(f in c, false, f);
    const x = await s.customers.retrieve(c.id, { expand: ['sources', 'subscriptions', 'tax_ids', 'cash_balance', 'tax'] }) as Stripe.Customer;
    for (const [f, suffix] of [['sources', 'sources'], ['subscriptions', 'subscriptions'], ['tax_ids', 'tax_ids']] as const) {
      assert.deepEqual((x as any)[f], { object: 'list', data: [], has_more: false, total_count: 0, url: `/v1/customers/${c.id}/${suffix}` }, f);
    }
    assert.deepEqual(x.cash_balance, {
      object: 'cash_balance', available: null, customer: c.id, customer_account: null, livemode: false,
      settings: { reconciliation_mode: 'automatic', using_merchant_default: true },
    });
    assert.deepEqual(x.tax, { automatic_tax: 'not_collecting', ip_address: null, location: { country: 'DE', source: 'billing_address', state: 'BE' }, provider: 'stripe' });
    const bare = await s.customers.create({});
    assert.deepEqual((await s.customers.retrieve(bare.id, { expand: ['tax'] }) as Stripe.Customer).tax!.automatic_tax, 'unrecognized_location');
    // Without expansion the stored object is unchanged.
    assert.deepEqual(await s.customers.retrieve(c.id), c);
    const list = await s.customers.list({ expand: ['data.subscriptions'] });
    assert.deepEqual(list.data.map((y) => y.subscriptions?.url), [`/v1/customers/${bare.id}/subscriptions`, `/v1/customers/${c.id}/subscriptions`]);
    const found = await s.customers.search({ query: "name:'Inc'", expand: ['data.tax_ids'] });
    assert.equal((found.data[0]!.tax_ids as any).total_count, 0);
    // Bad paths are refused on empty pages too.
    const empty = t.stripe(freshKey());
    await assert.rejects(empty.customers.list({ expand: ['data.email'] }), (e: any) => e.statusCode === 400 && e.message === 'This property cannot be expanded (email).');
    await assert.rejects(empty.prices.list({ expand: ['data.nickname'] }), (e: any) => e.statusCode === 400 && e.message === 'This property cannot be expanded (nickname).');
    await assert.rejects(empty.products.search({ query: "name:'x'", expand: ['data.name'] }), (e: any) => e.statusCode === 400 && e.message === 'This property cannot be expanded (name).');
    assert.equal((await empty.customers.list({ expand: ['data.subscriptions', 'data.test_clock'] })).data.length, 0);
  });
});

describe('customers: business_name and individual_name', () => {
  test('absent until set, set on create and update, removed by ""; at most 150 characters', async () => {
    const s = t.stripe(freshKey());
    const plain = await s.customers.create({ name: 'P' });
    assert.equal('business_name' in plain, false);
    assert.equal('individual_name' in plain, false);
    const c = await s.customers.create({ business_name: 'Acme GmbH', individual_name: 'Jenny Rosen' });
    assert.equal(c.business_name, 'Acme GmbH');
    assert.equal(c.individual_name, 'Jenny Rosen');
    const keys = Object.keys(c).slice(2);
    assert.deepEqual(keys, [...keys].sort());
    const u = await s.customers.update(c.id, { business_name: '', individual_name: 'J. Rosen' });
    assert.equal('business_name' in u, false);
    assert.equal(u.individual_name, 'J. Rosen');
    const ev = (await s.events.list({ type: 'customer.updated' })).data[0]!;
    assert.deepEqual(ev.data.previous_attributes, { business_name: 'Acme GmbH', individual_name: 'Jenny Rosen' });
    await assert.rejects(s.customers.create({ business_name: 'b'.repeat(151) }), (e: any) => e.statusCode === 400 && e.param === 'business_name');
    assert.equal((await s.customers.create({ business_name: 'b'.repeat(150) })).business_name!.length, 150);
  });
});
