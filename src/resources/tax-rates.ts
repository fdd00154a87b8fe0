// Tax rates — https://docs.stripe.com/api/tax_rates
// Create (display_name, percentage, inclusive required; active, country, state, jurisdiction,
// description, tax_type, metadata), retrieve, update (everything but percentage and inclusive,
// which the parameter table already refuses as unknown), list (active, inclusive, created).
// Tax rates cannot be deleted. Manually defined rates carry `effective_percentage` equal to
// `percentage`, and `rate_type`, `flat_amount` and `jurisdiction_level` null (those describe
// rates Stripe Tax creates).
// taxAmount() is the arithmetic invoices will call for a line (inclusive or exclusive).
//
// Messages are Stripe-style sentences of our own unless marked verified.
import { invalidRequest } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import type { Params } from '../api/params.js';
import type { ReadContext } from '../api/context.js';
import type { Obj, ResourceDef } from './define.js';

const MAX_DISPLAY_NAME = 50;
const MAX_JURISDICTION = 50;
const MAX_DESCRIPTION = 5000;
const MAX_PERCENT_DECIMALS = 4;

function tooLong(value: string, max: number, param: string): never {
  throw invalidRequest(`Invalid string: ${value.length > 40 ? `${value.slice(0, 40)}...` : value}; must be at most ${max} characters`, param, 'parameter_invalid_string');
}

function cannotBeUnset(param: string): never {
  throw invalidRequest(
    `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    param, 'parameter_invalid_empty');
}

function percentage(v: number): number {
  if (!(v >= 0 && v <= 100)) throw invalidRequest('The percentage must be between 0 and 100 (inclusive).', 'percentage');
  const [, frac = ''] = String(v).split('.');
  if (frac.length > MAX_PERCENT_DECIMALS) throw invalidRequest(`The percentage can have at most ${MAX_PERCENT_DECIMALS} decimal places.`, 'percentage');
  return v;
}

/** Fields create and update share. */
function applyCommon(c: Obj, p: Params): void {
  if (p.display_name !== undefined) {
    if (p.display_name === null) cannotBeUnset('display_name');
    if (p.display_name.length > MAX_DISPLAY_NAME) tooLong(p.display_name, MAX_DISPLAY_NAME, 'display_name');
    c.display_name = p.display_name;
  }
  if (p.active !== undefined) {
    if (p.active === null) cannotBeUnset('active');
    c.active = p.active;
  }
  if (p.country !== undefined) {
    if (p.country !== null && !/^[A-Za-z]{2}$/.test(p.country)) {
      throw invalidRequest(`Country '${p.country}' is unknown. Try using a 2-character alphanumeric country code instead, such as 'US', 'EG', or 'GB'. A full list of country codes is available at https://stripe.com/docs/api/country_specs.`, 'country');
    }
    c.country = p.country === null ? null : p.country.toUpperCase();
  }
  if (p.state !== undefined) {
    if (p.state !== null && !/^[A-Za-z0-9]{1,3}$/.test(p.state)) {
      throw invalidRequest('The state must be an ISO 3166-2 subdivision code without the country prefix, such as "NY" for New York.', 'state');
    }
    c.state = p.state === null ? null : p.state.toUpperCase();
  }
  if (p.jurisdiction !== undefined) {
    if (typeof p.jurisdiction === 'string' && p.jurisdiction.length > MAX_JURISDICTION) tooLong(p.jurisdiction, MAX_JURISDICTION, 'jurisdiction');
    c.jurisdiction = p.jurisdiction;
  }
  if (p.description !== undefined) {
    if (typeof p.description === 'string' && p.description.length > MAX_DESCRIPTION) tooLong(p.description, MAX_DESCRIPTION, 'description');
    c.description = p.description;
  }
  if (p.tax_type !== undefined) c.tax_type = p.tax_type;
  c.metadata = applyMetadata(c.metadata, p.metadata);
}

export const taxRates: ResourceDef = {
  object: 'tax_rate',
  prefix: 'txr',
  path: '/v1/tax_rates',
  events: { created: 'tax_rate.created', updated: 'tax_rate.updated' },
  index: (r) => [{ field: 'active', value: String(r.active) }],
  listFilters: (p) => ({
    ...(p.active !== undefined ? { index: { field: 'active', value: String(p.active) } } : {}),
    filter: (d: Obj) => (p.active === undefined || d.active === p.active) && (p.inclusive === undefined || d.inclusive === p.inclusive),
  }),

  async create(_ctx, p, base) {
    const pct = percentage(p.percentage);
    const c: Obj = {
      ...base,
      active: true,
      country: null,
      description: null,
      display_name: p.display_name,
      effective_percentage: pct,
      flat_amount: null,
      inclusive: p.inclusive,
      jurisdiction: null,
      jurisdiction_level: null,
      metadata: {},
      percentage: pct,
      rate_type: null,
      state: null,
      tax_type: null,
    };
    applyCommon(c, p);
    return c;
  },

  async update(_ctx, c, p) {
    applyCommon(c, p);
    return c;
  },
};

/**
 * The tax on an amount in minor units, rounded half away from zero. Exclusive rates add
 * amount × rate; inclusive rates are already inside the amount: amount − amount / (1 + rate).
 */
export function taxAmount(rate: Pick<Obj, 'percentage' | 'inclusive'>, amount: number): number {
  const r = rate.percentage / 100;
  const exact = rate.inclusive ? amount - amount / (1 + r) : amount * r;
  return Math.sign(exact) * Math.round(Math.abs(exact) + 1e-9);
}

/** The tax rates named by `ids` (a parameter such as `tax_rates` or `default_tax_rates`), in order; a missing one is named at its index. */
export async function loadTaxRates(ctx: ReadContext, ids: string[] | null | undefined, param: string): Promise<Obj[]> {
  const out: Obj[] = [];
  for (const [i, id] of (ids ?? []).entries()) {
    const row = await ctx.db.get(ctx.scope, id);
    if (!row || row.type !== 'tax_rate' || row.deleted) throw invalidRequest(`No such tax rate: '${id}'`, `${param}[${i}]`, 'resource_missing');
    out.push(row.data);
  }
  return out;
}
