// Stripe-Version handling. Absent means the account default (the current version). Every
// version Stripe has published is accepted; objects are rendered in the current shape for now
// through renderForVersion (src/api/render.ts), the one place per-version rendering plugs in.
import { invalidRequest } from './errors.js';
import { CURRENT_API_VERSION, PUBLISHED_API_VERSIONS } from './api-versions-data.js';

export { CURRENT_API_VERSION };
const PUBLISHED = new Set(PUBLISHED_API_VERSIONS);

/** Validates a Stripe-Version header; returns the version to render with. */
export function resolveApiVersion(header: string | undefined): string {
  if (header === undefined || header.trim() === '') return CURRENT_API_VERSION;
  // Beta opt-ins ride along after a semicolon: "2024-09-30.acacia; feature_beta=v1".
  const version = header.split(';')[0]!.trim();
  if (PUBLISHED.has(version)) return version;
  throw invalidRequest(`Invalid Stripe API version: ${header.trim()}`);
}
