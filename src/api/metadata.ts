// Metadata rules shared by every resource: at most 50 keys, keys up to 40 characters without
// square brackets, values up to 500 characters. `metadata[k]=` deletes k, `metadata=` clears all.
import { invalidRequest } from './errors.js';

export type Metadata = Record<string, string>;

export const METADATA_MAX_KEYS = 50;
export const METADATA_MAX_KEY_LENGTH = 40;
export const METADATA_MAX_VALUE_LENGTH = 500;

/**
 * Applies a validated `metadata` parameter (a map whose null values mean "delete", or null
 * meaning "clear all") to the current metadata and checks the result.
 */
export function applyMetadata(current: Metadata | undefined, param: Record<string, string | null> | null | undefined, paramName = 'metadata'): Metadata {
  if (param === undefined) return current ?? {};
  if (param === null) return {};
  const next: Metadata = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(param)) {
    if (key.length > METADATA_MAX_KEY_LENGTH) {
      throw invalidRequest(`Metadata keys can have up to ${METADATA_MAX_KEY_LENGTH} characters, but you passed in a key that is ${key.length} characters. Invalid key: ${key}`, `${paramName}[${key.slice(0, 100)}]`);
    }
    if (key === '') throw invalidRequest('Metadata keys must not be empty.', paramName);
    if (/[[\]]/.test(key)) {
      throw invalidRequest(`Metadata keys cannot contain square brackets. The key '${key}' is invalid.`, `${paramName}[${key}]`);
    }
    if (value === null) { delete next[key]; continue; }
    if (typeof value !== 'string') throw invalidRequest(`Invalid string: ${JSON.stringify(value)}`, `${paramName}[${key}]`);
    if (value.length > METADATA_MAX_VALUE_LENGTH) {
      throw invalidRequest(`Metadata values can have up to ${METADATA_MAX_VALUE_LENGTH} characters, but you passed in a value that is ${value.length} characters. Invalid value: ${value.slice(0, 40)}...`, `${paramName}[${key}]`);
    }
    next[key] = value;
  }
  if (Object.keys(next).length > METADATA_MAX_KEYS) {
    throw invalidRequest(`Metadata can have up to ${METADATA_MAX_KEYS} keys, but you've set ${Object.keys(next).length}.`, paramName);
  }
  return next;
}
