// Products — https://docs.stripe.com/api/products
// Create (with default_price_data, which creates the price; custom ids), retrieve, update
// (default_price must be an active price of this product), delete (refused while the product
// has prices), list (active, ids, shippable, type, url, created), search.
import { invalidRequest } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import type { Obj, ResourceDef } from './define.js';
import { createDefaultPrice, pname, prices } from './prices.js';
import { missingObject } from './define.js';

const MAX_IMAGES = 8;
const MAX_MARKETING_FEATURES = 15;
const MAX_FEATURE_NAME = 80;
const MAX_STATEMENT_DESCRIPTOR = 22;
const MAX_UNIT_LABEL = 12;
const MAX_URL = 2048;

/** Stripe's message for an empty string on a parameter that cannot be unset. */
function cannotBeUnset(param: string): never {
  throw invalidRequest(
    `You passed an empty string for '${param}'. We assume empty values are an attempt to unset a parameter; however '${param}' cannot be unset. You should remove '${param}' from your request or supply a non-empty value.`,
    param, 'parameter_invalid_empty');
}

function tooLong(value: string, max: number, param: string): never {
  throw invalidRequest(`Invalid string: ${value.length > 40 ? `${value.slice(0, 40)}...` : value}; must be at most ${max} characters`, param, 'parameter_invalid_string');
}

function statementDescriptor(value: string, param: string): string {
  if (value.length > MAX_STATEMENT_DESCRIPTOR) tooLong(value, MAX_STATEMENT_DESCRIPTOR, param);
  if (/[<>\\'"*]/.test(value)) {
    throw invalidRequest('The statement descriptor contains one or more prohibited characters: < > \\ \' " *', param);
  }
  if (!/[A-Za-z]/.test(value)) throw invalidRequest('The statement descriptor must contain at least one letter.', param);
  return value;
}

const packageDimensions = (p: Params | null): Obj | null =>
  p ? { height: p.height, length: p.length, weight: p.weight, width: p.width } : null;

const taxDetails = (p: Params | null): Obj | null =>
  p ? { performance_location: p.performance_location ?? null, tax_code: p.tax_code ?? null } : null;

/** Fields create and update share, applied onto `c`; `base` prefixes param names (product_data). */
function applyCommon(c: Obj, p: Params, base: string): void {
  if (p.name === null) cannotBeUnset(pname(base, 'name'));
  for (const key of ['active', 'description', 'name', 'shippable', 'tax_code'] as const) {
    if (p[key] !== undefined) c[key] = p[key];
  }
  if (p.statement_descriptor !== undefined) {
    c.statement_descriptor = p.statement_descriptor === null ? null : statementDescriptor(p.statement_descriptor, pname(base, 'statement_descriptor'));
  }
  if (p.unit_label !== undefined) {
    if (typeof p.unit_label === 'string' && p.unit_label.length > MAX_UNIT_LABEL) tooLong(p.unit_label, MAX_UNIT_LABEL, pname(base, 'unit_label'));
    c.unit_label = p.unit_label;
  }
  if (p.url !== undefined) {
    if (typeof p.url === 'string' && p.url.length > MAX_URL) tooLong(p.url, MAX_URL, pname(base, 'url'));
    c.url = p.url;
  }
  if (p.images !== undefined) {
    const images: string[] = p.images ?? [];
    if (images.length > MAX_IMAGES) throw invalidRequest(`You can specify at most ${MAX_IMAGES} images.`, pname(base, 'images'));
    c.images = images;
  }
  if (p.marketing_features !== undefined) {
    const features: Params[] = p.marketing_features ?? [];
    if (features.length > MAX_MARKETING_FEATURES) {
      throw invalidRequest(`You can specify at most ${MAX_MARKETING_FEATURES} marketing features.`, pname(base, 'marketing_features'));
    }
    c.marketing_features = features.map((f, i) => {
      const param = `${pname(base, 'marketing_features')}[${i}][name]`;
      if (f.name === null) cannotBeUnset(param);
      if (f.name.length > MAX_FEATURE_NAME) tooLong(f.name, MAX_FEATURE_NAME, param);
      return { name: f.name };
    });
  }
  if (p.package_dimensions !== undefined) c.package_dimensions = packageDimensions(p.package_dimensions);
  if (p.tax_details !== undefined) c.tax_details = taxDetails(p.tax_details);
  c.metadata = applyMetadata(c.metadata, p.metadata, pname(base, 'metadata'));
}

/** A new product from create params (also a price's product_data, with `base` = 'product_data'). */
export async function buildProduct(ctx: WriteContext, p: Params, obj: Obj, base = ''): Promise<Obj> {
  if (p.id !== undefined && p.id !== null) {
    // Verified message (stripe-go#1774); the code is Stripe's documented one for this case.
    if (await ctx.db.get(ctx.scope, p.id)) throw invalidRequest('Product already exists.', pname(base, 'id'), 'resource_already_exists');
    obj.id = p.id;
  }
  const c: Obj = {
    ...obj,
    active: true,
    default_price: null,
    description: null,
    images: [],
    marketing_features: [],
    metadata: {},
    name: p.name,
    package_dimensions: null,
    shippable: null,
    statement_descriptor: null,
    tax_code: null,
    tax_details: null,
    // Defaults to `service` since API version 2018-02-05 (SDK docs for `type`).
    type: p.type ?? 'service',
    unit_label: null,
    updated: obj.created,
    url: null,
  };
  applyCommon(c, p, base);
  return c;
}

export const products: ResourceDef = {
  object: 'product',
  prefix: 'prod',
  path: '/v1/products',
  events: { created: 'product.created', updated: 'product.updated', deleted: 'product.deleted' },
  search: STRIPE_SEARCH_FIELDS.products,
  index: (p) => [{ field: 'active', value: String(p.active) }],
  listFilters: (p) => {
    const ids: string[] | undefined = p.ids;
    if (ids !== undefined && (p.starting_after !== undefined || p.ending_before !== undefined)) {
      // Docs: `ids` "Cannot be used with starting_after or ending_before". Verified wording
      // (stripe-node#1464): "You may only specify one of these parameters: ids, starting_after."
      throw invalidRequest(`You may only specify one of these parameters: ids, ${p.starting_after !== undefined ? 'starting_after' : 'ending_before'}.`, 'ids');
    }
    const idSet = ids ? new Set(ids) : undefined;
    const filter = (d: Obj) =>
      (p.active === undefined || d.active === p.active) &&
      (p.shippable === undefined || d.shippable === p.shippable) &&
      (p.type === undefined || d.type === p.type) &&
      (p.url === undefined || d.url === p.url) &&
      (idSet === undefined || idSet.has(d.id));
    return { ...(p.active !== undefined ? { index: { field: 'active', value: String(p.active) } } : {}), filter };
  },

  async create(ctx, p, base) {
    const c = await buildProduct(ctx, p, base);
    // The price is created right after the product; its id is known now so the product is
    // stored once, already pointing at it (Stripe's order: product.created, then price.created).
    if (p.default_price_data) c.default_price = ctx.services.ids.id(prices.prefix);
    return c;
  },

  async afterCreate(ctx, product, p) {
    if (p.default_price_data) await createDefaultPrice(ctx, p.default_price_data, product.default_price, product.id);
  },

  async update(ctx, c, p) {
    const before = JSON.stringify(c);
    applyCommon(c, p, '');
    if (p.default_price !== undefined) {
      // `default_price=` unsets it (confirmed by Stripe staff, stripe-python#658).
      if (p.default_price === null) c.default_price = null;
      else {
        const price = await ctx.db.get(ctx.scope, p.default_price);
        if (!price || price.type !== 'price' || price.deleted) throw await missingObject(ctx, 'price', 'price', p.default_price, 'default_price', 400);
        if (price.data.product !== c.id) {
          throw invalidRequest(`The price \`${p.default_price}\` does not belong to this product (\`${c.id}\`); the default price must be one of the product's prices.`, 'default_price');
        }
        // Stripe's wording for an inactive price given where an active one is required.
        if (!price.data.active) throw invalidRequest('The price specified is inactive. This field only accepts active prices.', 'default_price');
        c.default_price = p.default_price;
      }
    }
    if (JSON.stringify(c) !== before) c.updated = ctx.now();
    return c;
  },

  async delete(ctx: WriteContext, c) {
    const owned = await ctx.db.scan(ctx.scope, { type: 'price', index: { field: 'product', value: c.id }, direction: 'older', limit: 1 });
    // Verified wording: 400, no code, no param (active or archived prices alike).
    if (owned.length) throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.');
  },
};
