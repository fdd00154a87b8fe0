// Form bodies and query strings as Stripe's clients send them: bracket nesting with raw or
// percent-escaped brackets (python escapes them in query strings), `a[0][b]` and `a[]`
// arrays of any length (qs's default arrayLimit of 20 would turn long arrays into objects),
// `+` as space. Nesting deeper than Stripe ever uses is refused rather than silently flattened.
import qs from 'qs';
import { invalidRequest } from '../api/errors.js';

export const MAX_DEPTH = 10;

const OPTIONS: qs.IParseOptions & { strictDepth: boolean; duplicates: 'last' } = {
  depth: MAX_DEPTH,
  strictDepth: true,
  arrayLimit: 10_000,
  parameterLimit: 100_000,
  allowPrototypes: false,
  plainObjects: true,
  duplicates: 'last',
};

export function decodeForm(text: string): Record<string, unknown> {
  if (!text) return {};
  try {
    return qs.parse(text, OPTIONS) as Record<string, unknown>;
  } catch (e) {
    if (e instanceof RangeError) {
      throw invalidRequest(`Invalid request: parameters may be nested at most ${MAX_DEPTH} levels deep.`);
    }
    throw invalidRequest('Invalid request: the form body could not be decoded.');
  }
}
