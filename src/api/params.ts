// Parameter decoding and validation with Stripe's messages.
//
// Form bodies and query strings arrive as qs-decoded trees of strings. Each operation has a
// parameter schema (generated from the stripe package's TypeScript declarations, see
// scripts/gen-params.mjs); `validateParams` walks the tree against it, converts strings to
// integers/booleans/decimals, rejects unknown and missing parameters and names them as
// Stripe spells them (`items[0][price]`). An empty string on an emptyable parameter becomes
// `null`, meaning "unset".
import type { ParamSchema } from '../generated/params.js';
import { invalidRequest, missingParam, unknownParam, StripeError } from './errors.js';
import { stripeEnumOrder } from './enum-order.js';

export type Params = Record<string, any>;

const INTEGER = /^-?\d+$/;
const DECIMAL = /^-?(\d+\.?\d*|\.\d+)$/;

function describe(raw: unknown): string {
  if (typeof raw === 'string') return raw;
  return JSON.stringify(raw);
}

/** Stripe's list formatting in enum errors: "a, b, or c". */
export function oxfordList(values: readonly string[]): string {
  if (values.length <= 1) return values.join('');
  if (values.length === 2) return `${values[0]} or ${values[1]}`;
  return `${values.slice(0, -1).join(', ')}, or ${values[values.length - 1]}`;
}

function emptyError(path: string): StripeError {
  return invalidRequest(
    `You passed an empty string for '${path}'. We assume empty values are an attempt to unset a parameter; however '${path}' cannot be unset. You should remove '${path}' from your request or supply a non-empty value.`,
    path,
    'parameter_invalid_empty',
  );
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** qs turns arrays longer than its arrayLimit, or sparse ones, into index-keyed objects. */
function asArray(raw: unknown): unknown[] | undefined {
  if (Array.isArray(raw)) return raw;
  if (isPlainObject(raw)) {
    const keys = Object.keys(raw);
    if (keys.every((k) => /^\d+$/.test(k))) return keys.map(Number).sort((a, b) => a - b).map((k) => raw[String(k)]);
  }
  return undefined;
}

function coerce(raw: unknown, schema: ParamSchema, path: string): unknown {
  if (raw === '' && schema.t !== 'string') {
    if (schema.emptyable) return null;
    if (schema.t === 'union' && schema.of?.some((s) => s.emptyable)) return null;
    throw emptyError(path);
  }
  switch (schema.t) {
    case 'any':
      return raw;
    case 'string':
      // "" unsets an optional string (`description=`); required ones are checked by the caller.
      if (raw === '') return null;
      if (typeof raw !== 'string') throw invalidRequest(`Invalid string: ${describe(raw)}`, path, 'parameter_invalid_string');
      if (raw.length > 5000 && !schema.decimal) {
        throw invalidRequest(`Invalid string: ${raw.slice(0, 40)}...; must be at most 5000 characters`, path, 'parameter_invalid_string');
      }
      if (schema.decimal && !DECIMAL.test(raw)) throw invalidRequest(`Invalid decimal: ${raw}`, path);
      return raw;
    case 'integer':
      if (typeof raw !== 'string' || !INTEGER.test(raw) || !Number.isSafeInteger(Number(raw))) {
        throw invalidRequest(`Invalid integer: ${describe(raw)}`, path, 'parameter_invalid_integer');
      }
      return Number(raw);
    case 'number':
      if (typeof raw !== 'string' || !DECIMAL.test(raw)) throw invalidRequest(`Invalid decimal: ${describe(raw)}`, path);
      return Number(raw);
    case 'boolean':
      // v1 takes any letter case: python and .NET clients send str(True) = "True".
      if (typeof raw === 'string' && raw.toLowerCase() === 'true') return true;
      if (typeof raw === 'string' && raw.toLowerCase() === 'false') return false;
      throw invalidRequest(`Invalid boolean: ${describe(raw)}`, path);
    case 'enum': {
      const values = schema.values ?? [];
      if (typeof raw !== 'string' || !values.includes(raw)) {
        throw invalidRequest(`Invalid ${path}: must be one of ${oxfordList(stripeEnumOrder(path, values))}`, path);
      }
      return raw;
    }
    case 'array': {
      const arr = asArray(raw);
      if (!arr) throw invalidRequest(`Invalid array`, path);
      return arr.map((item, i) => coerce(item, schema.items ?? { t: 'any' }, `${path}[${i}]`));
    }
    case 'map': {
      if (!isPlainObject(raw)) throw invalidRequest(`Invalid object`, path);
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) {
        out[k] = v === '' ? null : coerce(v, schema.values ?? { t: 'string' }, `${path}[${k}]`);
      }
      return out;
    }
    case 'object':
      if (!isPlainObject(raw)) throw invalidRequest(`Invalid object`, path);
      return validateObject(raw, schema, path);
    case 'union': {
      const alts = schema.of ?? [];
      // Pick the alternative whose shape fits the raw value; report the first fitting error.
      const fits = alts.filter((s) =>
        isPlainObject(raw) ? s.t === 'object' || s.t === 'map' || s.t === 'any' || (s.t === 'array' && asArray(raw))
          : Array.isArray(raw) ? s.t === 'array' || s.t === 'any'
            : !['object', 'map', 'array'].includes(s.t));
      let first: unknown;
      for (const alt of fits) {
        try { return coerce(raw, alt, path); } catch (e) { first ??= e; }
      }
      if (first) throw first;
      throw invalidRequest(`Invalid ${path}`, path);
    }
  }
}

function validateObject(raw: Record<string, unknown>, schema: ParamSchema, prefix: string): Params {
  const props = schema.props ?? {};
  const out: Params = {};
  for (const [key, value] of Object.entries(raw)) {
    const path = prefix ? `${prefix}[${key}]` : key;
    const prop = props[key];
    if (!prop) throw unknownParam(path);
    out[key] = coerce(value, prop, path);
  }
  for (const req of schema.required ?? []) {
    const path = prefix ? `${prefix}[${req}]` : req;
    if (!(req in raw)) throw missingParam(path);
    if (raw[req] === '' && !props[req]?.emptyable) throw emptyError(path);
  }
  return out;
}

/** Validates a whole request's parameters against its operation schema. */
export function validateParams(raw: Record<string, unknown>, schema: ParamSchema): Params {
  return validateObject(raw, schema, '');
}
