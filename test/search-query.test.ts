import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  indexableClause,
  matchesSearch,
  MESSAGES,
  parseSearchQuery,
  SearchQueryError,
  STRIPE_SEARCH_FIELDS,
  type SearchFields,
} from '../src/api/search-query.js';

const customers = STRIPE_SEARCH_FIELDS.customers!;
const charges = STRIPE_SEARCH_FIELDS.charges!;
const prices = STRIPE_SEARCH_FIELDS.prices!;
const products = STRIPE_SEARCH_FIELDS.products!;
const invoices = STRIPE_SEARCH_FIELDS.invoices!;

/** Asserts that parsing throws a SearchQueryError with exactly `message`. */
function rejects(query: string, fields: SearchFields, message: string, resource?: string): void {
  assert.throws(
    () => parseSearchQuery(query, fields, { resource }),
    (err: unknown) => {
      assert.ok(err instanceof SearchQueryError, `expected SearchQueryError, got ${String(err)}`);
      assert.equal(err.message, message);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.param, 'query');
      return true;
    },
  );
}

/** Parses `query` and matches it against `obj`. */
function matches(query: string, fields: SearchFields, obj: Record<string, unknown>): boolean {
  return matchesSearch(parseSearchQuery(query, fields), obj, fields);
}

// ---------------------------------------------------------------- parsing

test('parses a single exact-match clause with double or single quotes', () => {
  for (const q of [`email:"amy@rocketrides.io"`, `email:'amy@rocketrides.io'`]) {
    assert.deepEqual(parseSearchQuery(q, customers), {
      join: 'AND',
      clauses: [{ field: 'email', op: ':', value: 'amy@rocketrides.io', negated: false, kind: 'token' }],
    });
  }
});

test('parses every operator', () => {
  const q = parseSearchQuery('amount>1 amount<2 amount>=3 amount<=4 amount:5 currency:"usd"', charges);
  assert.deepEqual(q.clauses.map((c) => [c.op, c.value]), [
    ['>', 1], ['<', 2], ['>=', 3], ['<=', 4], [':', 5], [':', 'usd'],
  ]);
  const s = parseSearchQuery('name~"amy"', customers);
  assert.deepEqual(s.clauses[0], { field: 'name', op: '~', value: 'amy', negated: false, kind: 'string' });
});

test('numeric values may be quoted, negative or decimal', () => {
  assert.equal(parseSearchQuery('amount>="10"', charges).clauses[0]!.value, 10);
  assert.equal(parseSearchQuery("amount>'-5'", charges).clauses[0]!.value, -5);
  assert.equal(parseSearchQuery('amount>-5', charges).clauses[0]!.value, -5);
  assert.equal(parseSearchQuery('amount:1.5', charges).clauses[0]!.value, 1.5);
});

test('whitespace around the operator and the query is allowed', () => {
  const q = parseSearchQuery('  amount > 1000   currency : "usd"  ', charges);
  assert.equal(q.clauses.length, 2);
  assert.deepEqual(q.clauses.map((c) => c.value), [1000, 'usd']);
});

test('negation prefix', () => {
  const q = parseSearchQuery('-currency:"jpy"', charges);
  assert.equal(q.clauses[0]!.negated, true);
  assert.equal(q.clauses[0]!.value, 'jpy');
});

test('AND, OR and implicit AND; keywords are case-insensitive', () => {
  assert.equal(parseSearchQuery('currency:"usd" AND amount>1', charges).join, 'AND');
  assert.equal(parseSearchQuery('currency:"usd" and amount>1', charges).join, 'AND');
  assert.equal(parseSearchQuery('currency:"usd" amount>1', charges).join, 'AND');
  assert.equal(parseSearchQuery('currency:"usd" OR currency:"eur"', charges).join, 'OR');
  assert.equal(parseSearchQuery('currency:"usd" or currency:"eur" Or currency:"gbp"', charges).join, 'OR');
  assert.equal(parseSearchQuery('currency:"usd"', charges).join, 'AND');
});

test('a query mixing AND and OR is rejected (explicit or implicit AND)', () => {
  rejects('currency:"usd" AND amount>1 OR amount<5', charges, MESSAGES.mixedAndOr);
  rejects('currency:"usd" OR amount>1 AND amount<5', charges, MESSAGES.mixedAndOr);
  rejects('currency:"usd" amount>1 OR amount<5', charges, MESSAGES.mixedAndOr);
});

test('metadata clauses with either quote style', () => {
  for (const q of [`metadata["donation-id"]:"asdf-jkl"`, `metadata['donation-id']:'asdf-jkl'`]) {
    assert.deepEqual(parseSearchQuery(q, charges).clauses[0], {
      field: 'metadata', metadataKey: 'donation-id', op: ':', value: 'asdf-jkl', negated: false, kind: 'metadata',
    });
  }
});

test('null presence checks, case-insensitive; quoted "null" is a plain string', () => {
  assert.equal(parseSearchQuery('url:null', products).clauses[0]!.value, null);
  assert.equal(parseSearchQuery('url:NULL', products).clauses[0]!.value, null);
  const m = parseSearchQuery('-metadata["donation-id"]:null', charges).clauses[0]!;
  assert.equal(m.value, null);
  assert.equal(m.negated, true);
  assert.equal(parseSearchQuery('name:"null"', customers).clauses[0]!.value, 'null');
  assert.equal(parseSearchQuery('amount:null', charges).clauses[0]!.value, null);
});

test('escapes inside quoted values', () => {
  const q = parseSearchQuery('description:"the story called \\"The Sky and the Sea.\\""', products);
  assert.equal(q.clauses[0]!.value, 'the story called "The Sky and the Sea."');
  assert.equal(parseSearchQuery("name:'O\\'Brien'", customers).clauses[0]!.value, "O'Brien");
  assert.equal(parseSearchQuery('name:"back\\\\slash"', customers).clauses[0]!.value, 'back\\slash');
  assert.equal(parseSearchQuery(`name:"it's"`, customers).clauses[0]!.value, "it's");
});

test('dotted field names and bare numbers on token fields', () => {
  const q = parseSearchQuery('payment_method_details.card.last4:4242', charges);
  assert.deepEqual(q.clauses[0], {
    field: 'payment_method_details.card.last4', op: ':', value: '4242', negated: false, kind: 'token',
  });
});

test('boolean fields accept true/false quoted or bare', () => {
  assert.equal(parseSearchQuery('active:"true"', prices).clauses[0]!.value, 'true');
  assert.equal(parseSearchQuery('active:FALSE', prices).clauses[0]!.value, 'false');
  rejects('active:"yes"', prices, MESSAGES.booleanValue('active'));
});

test('up to 10 clauses are accepted, 11 are not', () => {
  const clause = 'amount>1';
  assert.equal(parseSearchQuery(Array(10).fill(clause).join(' AND '), charges).clauses.length, 10);
  rejects(Array(11).fill(clause).join(' AND '), charges, MESSAGES.tooManyClauses);
  rejects(Array(11).fill(clause).join(' '), charges, MESSAGES.tooManyClauses);
});

// ---------------------------------------------------------------- errors

test('syntax errors all give the parse message', () => {
  const bad = [
    '',
    '   ',
    'asdf',
    'email',
    'email:',
    'email: ',
    'email:"unterminated',
    "email:'unterminated",
    'email:"a\\',
    'email:"a"name:"b"',
    'email=amy',
    'email:amy', // strings must be quoted
    'email:"a" AND',
    'email:"a" OR',
    'AND email:"a"',
    '- email:"a"',
    '--email:"a"',
    '(email:"a" OR name:"b")',
    'metadata["k":"v"',
    'metadata[k]:"v"',
    'metadata:"v"', // metadata needs a key
    'email["k"]:"v"', // only metadata takes a key
    'email:"a" "b"',
    'email:a"b"',
    'created>>5',
    'created:5:6',
    'created<5)',
  ];
  for (const q of bad) {
    assert.throws(
      () => parseSearchQuery(q, customers),
      (err: unknown) => err instanceof SearchQueryError && err.message === MESSAGES.parse,
      `expected a parse error for ${JSON.stringify(q)}`,
    );
  }
});

test('the parse error carries a debugging detail', () => {
  try {
    parseSearchQuery('email:"open', customers);
    assert.fail('should throw');
  } catch (err) {
    assert.ok(err instanceof SearchQueryError);
    assert.match(err.detail ?? '', /unterminated/);
  }
});

test('unknown field', () => {
  rejects('foo:"bar"', prices, MESSAGES.unsupportedField('foo', 'prices'), 'prices');
  rejects(
    'foo:"bar"',
    prices,
    'Field `foo` is an unsupported search field for resource `prices`. See http://stripe.com/docs/search#query-fields-for-prices for a list of supported fields.',
    'prices',
  );
  rejects('foo:"bar"', STRIPE_SEARCH_FIELDS.payment_intents!, MESSAGES.unsupportedField('foo', 'payment_intents'), 'payment_intents');
  assert.match(MESSAGES.unsupportedField('foo', 'payment_intents'), /#query-fields-for-payment-intents /);
  rejects('foo:"bar"', prices, 'Field `foo` is an unsupported search field.');
  rejects('toString:"x"', prices, MESSAGES.unsupportedField('toString'));
  rejects('metadata["k"]:"v"', { email: { kind: 'string' } }, MESSAGES.unsupportedField('metadata'));
});

test('~ needs at least 3 characters', () => {
  rejects('email~"am"', customers, MESSAGES.substringTooShort('email'));
  rejects('name~""', customers, MESSAGES.substringTooShort('name'));
  assert.equal(parseSearchQuery('email~"amy"', customers).clauses[0]!.value, 'amy');
  assert.equal(parseSearchQuery('name~"日本語"', customers).clauses[0]!.value, '日本語');
});

test('~ on a field without substring support', () => {
  rejects('currency~"usd"', charges, MESSAGES.unsupportedOperator('~', 'currency'));
  rejects('amount~"100"', charges, MESSAGES.unsupportedOperator('~', 'amount'));
  rejects('metadata["k"]~"abc"', charges, MESSAGES.unsupportedOperator('~', 'metadata'));
  rejects('name~"abc"', { name: { kind: 'string', substring: false } }, MESSAGES.unsupportedOperator('~', 'name'));
});

test('range operators on non-numeric fields', () => {
  rejects('email>"a"', customers, MESSAGES.unsupportedOperator('>', 'email'));
  rejects('name<="a"', customers, MESSAGES.unsupportedOperator('<=', 'name'));
  rejects('currency>=1', charges, MESSAGES.unsupportedOperator('>=', 'currency'));
  rejects('active<"true"', prices, MESSAGES.unsupportedOperator('<', 'active'));
  rejects('metadata["k"]>1', charges, MESSAGES.unsupportedOperator('>', 'metadata'));
});

test('numeric fields need numeric values; null only with :', () => {
  rejects('amount>"abc"', charges, MESSAGES.numericValue('amount'));
  rejects('created>"2023-01-01"', customers, MESSAGES.numericValue('created'));
  rejects('amount>null', charges, MESSAGES.nullOperator('>', 'amount'));
  rejects('email~null', customers, MESSAGES.nullOperator('~', 'email'));
});

// ---------------------------------------------------------------- matching

const amy = {
  id: 'cus_1',
  email: 'Amy@RocketRides.io',
  name: 'Amy Rose Pond',
  phone: null,
  created: 1_700_000_000,
  metadata: { plan: 'Gold', 'donation-id': 'asdf-jkl' },
};
const bob = {
  id: 'cus_2',
  email: 'bob@example.com',
  name: 'Bob',
  phone: '+15555550100',
  created: 1_600_000_000,
  metadata: {},
};

test('token : is a whole-value, case-insensitive match', () => {
  assert.equal(matches('email:"amy@rocketrides.io"', customers, amy), true);
  assert.equal(matches('email:"AMY@ROCKETRIDES.IO"', customers, amy), true);
  assert.equal(matches('email:"amy"', customers, amy), false);
  assert.equal(matches('currency:"USD"', charges, { currency: 'usd' }), true);
});

test('string : is a case-insensitive phrase match (docs: all words, same order)', () => {
  assert.equal(matches('name:"amy rose pond"', customers, amy), true);
  assert.equal(matches('name:"AMY ROSE"', customers, amy), true);
  assert.equal(matches('name:"rose pond"', customers, amy), true);
  assert.equal(matches('name:"pond rose"', customers, amy), false);
  assert.equal(matches('name:"amy pond"', customers, amy), false);
  assert.equal(matches('name:"amy rose pond williams"', customers, amy), false);
  assert.equal(matches('name:"one two three"', customers, { name: 'one two three four' }), true);
});

test('~ is a case-insensitive substring match', () => {
  assert.equal(matches('email~"rocket"', customers, amy), true);
  assert.equal(matches('email~"ROCKET"', customers, amy), true);
  assert.equal(matches('name~"ose po"', customers, amy), true);
  assert.equal(matches('email~"xyz"', customers, amy), false);
  assert.equal(matches('phone~"555"', customers, amy), false); // null never matches ~
  assert.equal(matches('phone~"555"', customers, bob), true);
});

test('numbers and timestamps compare numerically', () => {
  const ch = { amount: 1000, created: 1_620_310_503, currency: 'usd' };
  assert.equal(matches('amount:1000', charges, ch), true);
  assert.equal(matches('amount:"1000"', charges, ch), true);
  assert.equal(matches('amount>999', charges, ch), true);
  assert.equal(matches('amount>1000', charges, ch), false);
  assert.equal(matches('amount>=1000', charges, ch), true);
  assert.equal(matches('amount<1000', charges, ch), false);
  assert.equal(matches('amount<=1000', charges, ch), true);
  assert.equal(matches('created>1620310502', charges, ch), true);
  assert.equal(matches('created<1620310503', charges, ch), false);
  assert.equal(matches('amount>5', charges, { amount: null }), false);
});

test('booleans', () => {
  assert.equal(matches('active:"true"', prices, { active: true }), true);
  assert.equal(matches('active:"false"', prices, { active: true }), false);
  assert.equal(matches('active:false', prices, { active: false }), true);
  assert.equal(matches('-active:"true"', prices, { active: false }), true);
});

test('metadata matches obj.metadata[key], case-insensitively', () => {
  assert.equal(matches('metadata["plan"]:"gold"', customers, amy), true);
  assert.equal(matches(`metadata['plan']:'silver'`, customers, amy), false);
  assert.equal(matches('metadata["plan"]:"gold"', customers, bob), false);
  assert.equal(matches('metadata["constructor"]:null', customers, bob), true);
  assert.equal(matches('metadata["n"]:42', customers, { metadata: { n: '42' } }), true);
});

test('null checks and negated null checks', () => {
  assert.equal(matches('phone:null', customers, amy), true); // null
  assert.equal(matches('phone:null', customers, { email: 'x' }), true); // absent
  assert.equal(matches('phone:null', customers, { phone: '' }), true); // empty string
  assert.equal(matches('phone:null', customers, bob), false);
  assert.equal(matches('-phone:null', customers, bob), true);
  assert.equal(matches('metadata["donation-id"]:null', customers, amy), false);
  assert.equal(matches('-metadata["donation-id"]:null', customers, amy), true);
  assert.equal(matches('-metadata["donation-id"]:null', customers, bob), false);
  assert.equal(matches('metadata["donation-id"]:null', customers, { email: 'x' }), true); // no metadata at all
});

test('negation inverts, including for absent fields', () => {
  assert.equal(matches('-email:"amy@rocketrides.io"', customers, amy), false);
  assert.equal(matches('-email:"amy@rocketrides.io"', customers, bob), true);
  assert.equal(matches('-currency:"usd"', charges, {}), true);
  assert.equal(matches('-amount>500', charges, { amount: 100 }), true);
});

test('AND requires every clause, OR any', () => {
  assert.equal(matches('email~"rocket" AND metadata["plan"]:"gold"', customers, amy), true);
  assert.equal(matches('email~"rocket" metadata["plan"]:"silver"', customers, amy), false);
  assert.equal(matches('email:"nobody@x.io" OR name:"amy"', customers, amy), true);
  assert.equal(matches('email:"nobody@x.io" OR name:"zed"', customers, amy), false);
  assert.equal(matches('created>1650000000 OR phone:null', customers, bob), false);
  assert.equal(matches('created<1650000000 -phone:null', customers, bob), true);
});

test('dotted and explicit paths', () => {
  const ch = { payment_method_details: { card: { last4: '4242', exp_month: 12, brand: 'visa' } } };
  assert.equal(matches('payment_method_details.card.last4:4242', charges, ch), true);
  assert.equal(matches('payment_method_details.card.last4:"4242"', charges, ch), true);
  assert.equal(matches('payment_method_details.card.exp_month:12', charges, ch), true);
  assert.equal(matches('payment_method_details.card.brand:"VISA"', charges, ch), true);
  assert.equal(matches('payment_method_details.card_present.last4:4242', charges, ch), false);
  const inv = { last_finalization_error: { code: 'tax_id_invalid', type: 'invalid_request_error' } };
  assert.equal(matches('last_finalization_error_code:"tax_id_invalid"', invoices, inv), true);
  const custom: SearchFields = { owner: { kind: 'token', path: ['meta', 'owner_id'] } };
  assert.equal(matches('owner:"u_1"', custom, { meta: { owner_id: 'U_1' } }), true);
});

test('quoted values with escapes match literally', () => {
  const p = { description: 'the story called "The Sky and the Sea."' };
  assert.equal(matches('description:"the story called \\"The Sky and the Sea.\\""', products, p), true);
  assert.equal(matches('description~"\\"the sky"', products, p), true);
});

// ---------------------------------------------------------------- indexableClause

test('indexableClause picks the first positive : clause on a token field in an AND query', () => {
  const ix = (q: string, f: SearchFields) => indexableClause(parseSearchQuery(q, f));
  assert.deepEqual(ix('email:"amy@rocketrides.io"', customers)?.value, 'amy@rocketrides.io');
  assert.equal(ix('amount>5 currency:"usd" status:"succeeded"', charges)?.field, 'currency');
  assert.equal(ix('-currency:"usd" status:"succeeded"', charges)?.field, 'status');
  assert.equal(ix('product:"prod_1" AND active:"true"', prices)?.field, 'product');
  assert.equal(ix('currency:"usd" OR currency:"eur"', charges), null); // OR
  assert.equal(ix('email~"amy"', customers), null); // substring
  assert.equal(ix('customer:null', charges), null); // null check
  assert.equal(ix('name:"amy"', customers), null); // string field: phrase match
  assert.equal(ix('metadata["k"]:"v"', customers), null); // metadata
  assert.equal(ix('amount:100', charges), null); // numeric
  assert.equal(ix('active:"true"', prices), null); // boolean
});

test('the field tables cover the documented resources', () => {
  assert.deepEqual(Object.keys(STRIPE_SEARCH_FIELDS).sort(), [
    'charges', 'customers', 'invoices', 'payment_intents', 'prices', 'products', 'subscriptions',
  ]);
  assert.deepEqual(Object.keys(customers).sort(), ['created', 'email', 'metadata', 'name', 'phone']);
  assert.deepEqual(Object.keys(products).sort(), ['active', 'description', 'metadata', 'name', 'shippable', 'url']);
  assert.deepEqual(Object.keys(prices).sort(), ['active', 'currency', 'lookup_key', 'metadata', 'product', 'type']);
});
