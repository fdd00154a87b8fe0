/**
 * Stripe's Search Query Language (the `query` parameter of `GET /v1/<resource>/search`).
 *
 * A pure module: no I/O and no dependencies. It parses a query string into a flat list of
 * clauses, validates it against the resource's searchable fields, and matches objects
 * against it.
 *
 * What Stripe documents (https://docs.stripe.com/search#search-query-language):
 *  - A clause is `field` `operator` `value`, e.g. `email:"amy@rocketrides.io"`.
 *  - Clauses are joined by whitespace (implicit AND) or by the keywords AND / OR, which are
 *    case-insensitive. AND and OR can't be mixed in one query, and there are no parentheses.
 *    A query holds up to 10 clauses.
 *  - `-` in front of a clause negates it (`-currency:"jpy"`).
 *  - Operators: `:` exact match (case-insensitive), `~` substring (case-insensitive, at least
 *    3 characters, string fields only), `>` `<` `>=` `<=` numeric comparisons.
 *  - Field types: token = exact match; string = exact match + substring, where an "exact"
 *    match means the record contains all the query's words in the same order
 *    (`name:"one two three"` matches "one two three four"); numeric = exact + comparisons.
 *  - String values must be quoted; quotes are optional for numbers (`last4:4242`,
 *    `amount>="10"`). A backslash escapes a quote inside a quoted value.
 *  - `metadata["key"]:"value"`; `field:null` (null is case-insensitive) matches an empty
 *    field, and `-metadata["key"]:null` matches records that have the key.
 *
 * Beyond the docs (our choices): single quotes work like double quotes (every example in the
 * API reference uses them, e.g. `metadata['order_id']:'6735'`); whitespace is allowed around
 * the operator; `\\` escapes a backslash and a backslash before any other character just
 * keeps that character.
 *
 * Error messages: see MESSAGES below; each says whether its wording was verified.
 */

export type SearchFieldKind = 'string' | 'token' | 'number' | 'timestamp' | 'boolean' | 'metadata';

/**
 * One searchable field.
 *  - token: exact-match identifier (currency, status, customer id...). `:` compares the whole
 *    value, case-insensitively.
 *  - string: text (name, description). `:` is a phrase match (the record's words contain the
 *    query's words, contiguous and in order, case-insensitively); `~` is a substring match.
 *  - number / timestamp: `:` `>` `<` `>=` `<=`; timestamps are Unix seconds in the object.
 *  - boolean: `:` with true / false (quoted or bare).
 *  - metadata: only as `field["key"]`, matched like a token.
 */
export interface SearchFieldDef {
  kind: SearchFieldKind;
  /** Where the value sits in the object. Defaults to the field name split on '.', so
   *  `payment_method_details.card.last4` needs no path. */
  path?: string[];
  /** Whether `~` is allowed. Defaults to true for string fields, false for the others; set it
   *  on a token field (e.g. email) to get whole-value `:` plus substring `~`. */
  substring?: boolean;
}

export type SearchFields = Record<string, SearchFieldDef>;

export class SearchQueryError extends Error {
  /** Stripe error type and param for the response body. */
  readonly type = 'invalid_request_error';
  readonly param = 'query';
  /** Where the parser gave up (for logs and debugging; not part of Stripe's message). */
  readonly detail?: string;

  constructor(message: string, detail?: string) {
    super(message);
    this.name = 'SearchQueryError';
    this.detail = detail;
  }
}

export type SearchOp = ':' | '~' | '>' | '<' | '>=' | '<=';

export interface SearchClause {
  field: string;
  metadataKey?: string;
  op: SearchOp;
  /** null for `field:null`; a number for number/timestamp fields; otherwise the string as
   *  written (booleans are normalised to 'true' / 'false'). */
  value: string | number | null;
  negated: boolean;
  /** Kind of the field, filled in by parseSearchQuery. */
  kind?: SearchFieldKind;
}

export interface SearchQuery {
  join: 'AND' | 'OR';
  clauses: SearchClause[];
}

export interface ParseSearchOptions {
  /** Resource name for error messages, e.g. 'customers' or 'payment_intents'. */
  resource?: string;
}

export const MAX_SEARCH_CLAUSES = 10;
export const MIN_SUBSTRING_LENGTH = 3;

/** User-facing messages. */
export const MESSAGES = {
  // VERIFIED: the first sentence is asserted by stripe-ruby-mock's shared spec, which is also
  // run against live Stripe ("reports search errors", spec/shared_stripe_examples/price_examples.rb
  // and product_examples.rb); the full text is the one stripe-ruby-mock returns
  // (lib/stripe_mock/request_handlers/helpers/search_helpers.rb). Stripe's parser seems to give
  // this one message for every syntax error, so we use it for all of them.
  parse:
    'We were unable to parse your search query. Try using the format `metadata["key"]:"value"` to query for metadata or key:"value" to query for other fields.',
  // VERIFIED up to the first full stop (same spec, "Field `foo` is an unsupported search field
  // for resource `prices`."); the "See ..." sentence comes from stripe-ruby-mock's code.
  unsupportedField: (field: string, resource?: string): string =>
    resource
      ? `Field \`${field}\` is an unsupported search field for resource \`${resource}\`. See http://stripe.com/docs/search#query-fields-for-${resource.replace(/_/g, '-')} for a list of supported fields.`
      : `Field \`${field}\` is an unsupported search field.`,
  // UNVERIFIED: no source gives Stripe's wording for the messages below; they are plain
  // sentences in Stripe's style built from the docs' own phrases.
  mixedAndOr:
    "We were unable to parse your search query. You can't combine AND and OR in the same query.",
  tooManyClauses: `We were unable to parse your search query. You can combine up to ${MAX_SEARCH_CLAUSES} query clauses in a search.`,
  substringTooShort: (field: string): string =>
    `Substring search on field \`${field}\` must use a value of at least ${MIN_SUBSTRING_LENGTH} characters.`,
  unsupportedOperator: (op: string, field: string): string =>
    `The \`${op}\` operator is not supported for field \`${field}\`.`,
  nullOperator: (op: string, field: string): string =>
    `\`null\` can only be used with the \`:\` operator, not \`${op}\` (field \`${field}\`).`,
  numericValue: (field: string): string => `Field \`${field}\` requires a numeric value.`,
  booleanValue: (field: string): string =>
    `Field \`${field}\` only accepts the values "true" and "false".`,
} as const;

// ---------------------------------------------------------------------------------------
// Parser: recursive descent straight over the characters. Each read* function is a small
// on-demand tokenizer for one token type and advances `pos`.
//
//   query    := ws* clause ( sep clause )* ws*
//   sep      := ws+ ( ( "AND" | "OR" ) ws+ )?          keywords case-insensitive; bare ws = AND
//   clause   := "-"? field ws* op ws* value
//   field    := name ( "[" quoted "]" )?                brackets only for metadata fields
//   name     := [A-Za-z0-9_]+ ( "." [A-Za-z0-9_]+ )*
//   op       := ":" | "~" | ">=" | "<=" | ">" | "<"
//   value    := quoted | bare                           bare = non-whitespace, no quotes/brackets/operators
//   quoted   := "'" … "'" | '"' … '"'                   with backslash escapes
// ---------------------------------------------------------------------------------------

/** A value as written: quoted text, or a bare word. */
interface RawValue {
  text: string;
  quoted: boolean;
}

interface RawClause {
  field: string;
  metadataKey?: string;
  op: SearchOp;
  value: RawValue;
  negated: boolean;
}

const isWs = (c: string | undefined): boolean => c !== undefined && /\s/.test(c);
const isNameChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

class Parser {
  private pos = 0;

  constructor(private readonly src: string) {}

  /** Throws the generic syntax error, noting where parsing stopped. */
  private fail(what: string): never {
    throw new SearchQueryError(MESSAGES.parse, `${what} at position ${this.pos}`);
  }

  private peek(offset = 0): string | undefined {
    return this.src[this.pos + offset];
  }

  private atEnd(): boolean {
    return this.pos >= this.src.length;
  }

  /** Skips whitespace and reports whether there was any. */
  private skipWs(): boolean {
    const start = this.pos;
    while (isWs(this.peek())) this.pos++;
    return this.pos > start;
  }

  /** If the input continues with keyword `kw` (any case) followed by whitespace, eats it. */
  private eatKeyword(kw: 'AND' | 'OR'): boolean {
    const word = this.src.slice(this.pos, this.pos + kw.length);
    if (word.toUpperCase() !== kw || !isWs(this.peek(kw.length))) return false;
    this.pos += kw.length;
    return true;
  }

  parse(): { join: 'AND' | 'OR'; clauses: RawClause[] } {
    this.skipWs();
    if (this.atEnd()) this.fail('empty query');
    const clauses: RawClause[] = [this.readClause()];
    let join: 'AND' | 'OR' | null = null;

    while (true) {
      const hadWs = this.skipWs();
      if (this.atEnd()) break;
      if (!hadWs) this.fail('expected whitespace between clauses');
      let sep: 'AND' | 'OR' = 'AND'; // plain whitespace means AND
      if (this.eatKeyword('AND')) sep = 'AND';
      else if (this.eatKeyword('OR')) sep = 'OR';
      if (join !== null && join !== sep) throw new SearchQueryError(MESSAGES.mixedAndOr);
      join = sep;
      this.skipWs();
      if (this.atEnd()) this.fail(`expected a clause after ${sep}`);
      clauses.push(this.readClause());
    }
    return { join: join ?? 'AND', clauses };
  }

  private readClause(): RawClause {
    let negated = false;
    if (this.peek() === '-') {
      negated = true;
      this.pos++;
    }
    const field = this.readName();
    let metadataKey: string | undefined;
    if (this.peek() === '[') {
      this.pos++;
      const q = this.peek();
      if (q !== '"' && q !== "'") this.fail('expected a quoted metadata key');
      metadataKey = this.readQuoted();
      if (this.peek() !== ']') this.fail("expected ']'");
      this.pos++;
    }
    this.skipWs();
    const op = this.readOp();
    this.skipWs();
    const value = this.readValue();
    return { field, metadataKey, op, value, negated };
  }

  private readName(): string {
    const start = this.pos;
    while (true) {
      const segStart = this.pos;
      while (isNameChar(this.peek())) this.pos++;
      if (this.pos === segStart) this.fail('expected a field name');
      if (this.peek() === '.' && isNameChar(this.peek(1))) this.pos++;
      else break;
    }
    return this.src.slice(start, this.pos);
  }

  private readOp(): SearchOp {
    const c = this.peek();
    if (c === ':' || c === '~') {
      this.pos++;
      return c;
    }
    if (c === '>' || c === '<') {
      this.pos++;
      if (this.peek() === '=') {
        this.pos++;
        return c === '>' ? '>=' : '<=';
      }
      return c;
    }
    return this.fail('expected an operator (: ~ > < >= <=)');
  }

  private readValue(): RawValue {
    const c = this.peek();
    if (c === undefined) this.fail('expected a value');
    if (c === '"' || c === "'") {
      const text = this.readQuoted();
      // The next thing must be whitespace or the end: `email:"a"b` is an error.
      if (!this.atEnd() && !isWs(this.peek())) this.fail('unexpected character after quoted value');
      return { text, quoted: true };
    }
    const start = this.pos;
    while (!this.atEnd() && !isWs(this.peek())) {
      const ch = this.peek() as string;
      if ('"\'[]():~<>'.includes(ch)) this.fail(`unexpected '${ch}' in unquoted value`);
      this.pos++;
    }
    return { text: this.src.slice(start, this.pos), quoted: false };
  }

  /** Reads a quoted string starting at the opening quote; returns the unescaped contents. */
  private readQuoted(): string {
    const quote = this.peek();
    this.pos++;
    let out = '';
    while (true) {
      const ch = this.peek();
      if (ch === undefined) this.fail('unterminated quoted value');
      this.pos++;
      if (ch === quote) return out;
      if (ch === '\\') {
        const next = this.peek();
        if (next === undefined) this.fail('unterminated quoted value');
        out += next; // \" \' \\ and anything else: keep the escaped character
        this.pos++;
      } else {
        out += ch;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Validation against the resource's fields.
// ---------------------------------------------------------------------------------------

const NUMBER_RE = /^-?\d+(\.\d+)?$/;

function allowsSubstring(def: SearchFieldDef): boolean {
  return def.substring ?? def.kind === 'string';
}

function checkClause(raw: RawClause, fields: SearchFields, resource?: string): SearchClause {
  const def = Object.prototype.hasOwnProperty.call(fields, raw.field) ? fields[raw.field] : undefined;
  if (!def) throw new SearchQueryError(MESSAGES.unsupportedField(raw.field, resource));

  // Brackets go with metadata fields and only with them.
  if ((def.kind === 'metadata') !== (raw.metadataKey !== undefined)) {
    throw new SearchQueryError(MESSAGES.parse, `field ${raw.field}: metadata needs ["key"], other fields take none`);
  }

  const { op, value: rv } = raw;
  const base = { field: raw.field, op, negated: raw.negated, kind: def.kind };
  const withKey = raw.metadataKey !== undefined ? { metadataKey: raw.metadataKey } : {};

  // `null` (bare, any case) is the presence token.
  if (!rv.quoted && rv.text.toLowerCase() === 'null') {
    if (op !== ':') throw new SearchQueryError(MESSAGES.nullOperator(op, raw.field));
    return { ...base, ...withKey, value: null };
  }

  // Operator allowed for this kind?
  if (op === '~') {
    if (!allowsSubstring(def)) throw new SearchQueryError(MESSAGES.unsupportedOperator(op, raw.field));
  } else if (op !== ':' && def.kind !== 'number' && def.kind !== 'timestamp') {
    throw new SearchQueryError(MESSAGES.unsupportedOperator(op, raw.field));
  }

  const text = rv.text;
  switch (def.kind) {
    case 'number':
    case 'timestamp':
      // Quotes are optional around numbers (`amount>="10"` is in the docs).
      if (!NUMBER_RE.test(text)) throw new SearchQueryError(MESSAGES.numericValue(raw.field));
      return { ...base, value: Number(text) };
    case 'boolean': {
      const b = text.toLowerCase();
      if (b !== 'true' && b !== 'false') throw new SearchQueryError(MESSAGES.booleanValue(raw.field));
      return { ...base, value: b };
    }
    default:
      // Strings must be quoted; a bare number is fine (`payment_method_details.card.last4:4242`).
      if (!rv.quoted && !NUMBER_RE.test(text)) {
        throw new SearchQueryError(MESSAGES.parse, `field ${raw.field}: string values must be quoted`);
      }
      if (op === '~' && [...text].length < MIN_SUBSTRING_LENGTH) {
        throw new SearchQueryError(MESSAGES.substringTooShort(raw.field));
      }
      return { ...base, ...withKey, value: text };
  }
}

/**
 * Parses and validates a search query. Throws SearchQueryError with Stripe's message.
 * A missing/empty `query` param is the caller's "Missing required param: query." error;
 * a blank string that reaches here gets the generic parse error.
 */
export function parseSearchQuery(query: string, fields: SearchFields, options: ParseSearchOptions = {}): SearchQuery {
  const { join, clauses } = new Parser(query).parse();
  if (clauses.length > MAX_SEARCH_CLAUSES) throw new SearchQueryError(MESSAGES.tooManyClauses);
  return { join, clauses: clauses.map((c) => checkClause(c, fields, options.resource)) };
}

// ---------------------------------------------------------------------------------------
// Matching.
// ---------------------------------------------------------------------------------------

function getPath(obj: unknown, path: string[]): unknown {
  let cur: unknown = obj;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === '';
}

function asText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return null;
}

function asNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && NUMBER_RE.test(v)) return Number(v);
  return null;
}

const words = (s: string): string[] => s.toLowerCase().split(/\s+/).filter((w) => w !== '');

/** True when `needle`'s words occur contiguously, in order, in `hay`'s words. */
function phraseMatch(hay: string, needle: string): boolean {
  const h = words(hay);
  const n = words(needle);
  if (n.length === 0) return h.length === 0;
  outer: for (let i = 0; i + n.length <= h.length; i++) {
    for (let j = 0; j < n.length; j++) if (h[i + j] !== n[j]) continue outer;
    return true;
  }
  return false;
}

function clauseMatches(c: SearchClause, obj: Record<string, unknown>, fields: SearchFields): boolean {
  const def = fields[c.field];
  if (!def) return false;
  let actual = getPath(obj, def.path ?? c.field.split('.'));
  if (def.kind === 'metadata') {
    const key = c.metadataKey;
    actual = actual !== null && typeof actual === 'object' && key !== undefined && Object.prototype.hasOwnProperty.call(actual, key)
      ? (actual as Record<string, unknown>)[key]
      : undefined;
  }

  if (c.value === null) return isEmpty(actual); // field:null
  if (isEmpty(actual)) return false;

  switch (def.kind) {
    case 'number':
    case 'timestamp': {
      const a = asNumber(actual);
      const v = typeof c.value === 'number' ? c.value : asNumber(c.value);
      if (a === null || v === null) return false;
      switch (c.op) {
        case ':': return a === v;
        case '>': return a > v;
        case '<': return a < v;
        case '>=': return a >= v;
        case '<=': return a <= v;
        default: return false;
      }
    }
    case 'boolean': {
      const a = typeof actual === 'boolean' ? String(actual) : asText(actual)?.toLowerCase();
      return a === String(c.value).toLowerCase();
    }
    default: {
      const a = asText(actual);
      if (a === null) return false;
      const v = String(c.value);
      if (c.op === '~') return a.toLowerCase().includes(v.toLowerCase());
      if (def.kind === 'string') return phraseMatch(a, v);
      return a.toLowerCase() === v.toLowerCase(); // token, metadata
    }
  }
}

/** Whether `obj` satisfies the query. `fields` must be the set the query was parsed with. */
export function matchesSearch(q: SearchQuery, obj: Record<string, unknown>, fields: SearchFields): boolean {
  const test = (c: SearchClause): boolean => clauseMatches(c, obj, fields) !== c.negated;
  return q.join === 'OR' ? q.clauses.some(test) : q.clauses.every(test);
}

/**
 * A clause the store may answer from an equality index: the first non-negated `:` clause on
 * a token field, with a non-null value, in an AND query (a one-clause query counts as AND).
 * Every result must still match it, so the store can narrow candidates with it and then run
 * matchesSearch on them. Compare case-insensitively: Stripe's `:` is case-insensitive.
 *
 * String fields are left out on purpose: `:` on them is a phrase match (`name:"jane"` finds
 * "Jane Doe"), which a whole-value index would miss. Declare ID-like fields such as email as
 * `{ kind: 'token', substring: true }` to make them indexable. Metadata clauses are left out
 * as well (they need `metadataKey` too).
 */
export function indexableClause(q: SearchQuery): SearchClause | null {
  if (q.join !== 'AND' && q.clauses.length > 1) return null;
  for (const c of q.clauses) {
    if (!c.negated && c.op === ':' && typeof c.value === 'string' && c.kind === 'token') return c;
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Searchable fields per resource, from https://docs.stripe.com/search#supported-query-fields-for-each-resource
// Field lists follow the current docs (which add invoices.last_finalization_error_code/_type
// and subscriptions.canceled_at). Stripe types map to ours as: numeric -> number, or
// timestamp for created / canceled_at; token fields holding "true"/"false" -> boolean.
// Stripe calls email, product, subscription, number, receipt_number, lookup_key and invoice
// status "string" fields. Their values never contain spaces, so a phrase match is a
// whole-value match; they are declared token + substring, which gives the same results and
// lets the store index them.
// ---------------------------------------------------------------------------------------

const tok: SearchFieldDef = { kind: 'token' };
const tokSub: SearchFieldDef = { kind: 'token', substring: true };
const str: SearchFieldDef = { kind: 'string', substring: true };
const ts: SearchFieldDef = { kind: 'timestamp' };
const num: SearchFieldDef = { kind: 'number' };
const bool: SearchFieldDef = { kind: 'boolean' };
const meta: SearchFieldDef = { kind: 'metadata' };

function paymentMethodDetailFields(): SearchFields {
  const out: SearchFields = {};
  for (const source of ['card', 'card_present', 'interac_present']) {
    for (const f of ['last4', 'exp_month', 'exp_year', 'brand', 'fingerprint']) {
      out[`payment_method_details.${source}.${f}`] = tok;
    }
  }
  return out;
}

export const STRIPE_SEARCH_FIELDS: Readonly<Record<string, SearchFields>> = {
  charges: {
    amount: num,
    'billing_details.address.postal_code': tok,
    created: ts,
    currency: tok,
    customer: tok,
    disputed: bool,
    metadata: meta,
    ...paymentMethodDetailFields(),
    // Stripe: refunded:"true" = fully refunded, "false" = partially refunded, null = not
    // refunded. As a plain boolean, "false" here also matches charges that were never refunded.
    refunded: bool,
    status: tok,
  },
  customers: {
    created: ts,
    email: tokSub,
    metadata: meta,
    name: str,
    phone: str,
  },
  invoices: {
    created: ts,
    currency: tok,
    customer: tok,
    last_finalization_error_code: { kind: 'token', path: ['last_finalization_error', 'code'] },
    last_finalization_error_type: { kind: 'token', path: ['last_finalization_error', 'type'] },
    metadata: meta,
    number: tokSub,
    receipt_number: tokSub,
    status: tokSub,
    subscription: tokSub,
    total: num,
  },
  payment_intents: {
    amount: num,
    created: ts,
    currency: tok,
    customer: tok,
    metadata: meta,
    status: tok,
  },
  prices: {
    active: bool,
    currency: tok,
    lookup_key: tokSub,
    metadata: meta,
    product: tokSub,
    type: tok,
  },
  products: {
    active: bool,
    description: str,
    metadata: meta,
    name: str,
    shippable: bool,
    url: str,
  },
  subscriptions: {
    canceled_at: ts,
    created: ts,
    metadata: meta,
    status: tok,
  },
};
