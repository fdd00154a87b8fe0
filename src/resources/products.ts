// Products — https://docs.stripe.com/api/products
// Create (with default_price_data, which creates the price), retrieve, update, delete
// (refused while the product has prices), list (active, ids, shippable, url, created), search.
import { invalidRequest, noSuchResource } from '../api/errors.js';
import { applyMetadata } from '../api/metadata.js';
import { STRIPE_SEARCH_FIELDS } from '../api/search-query.js';
import type { Params } from '../api/params.js';
import type { WriteContext } from '../api/context.js';
import { insertObject, newObjectBase, type Obj, type ResourceDef } from './define.js';
import { buildPrice, prices } from './prices.js';

function packageDimensions(p: Params | null): Obj | null {
  if (!p) return null;
  return { height: p.height, length: p.length, weight: p.weight, width: p.width };
}

function applyCommon(c: Obj, p: Params): void {
  for (const key of ['active', 'description', 'name', 'shippable', 'statement_descriptor', 'tax_code', 'unit_label', 'url'] as const) {
    if (p[key] !== undefined) c[key] = p[key];
  }
  if (p.name === null) throw invalidRequest("You passed an empty string for 'name'. We assume empty values are an attempt to unset a parameter; however 'name' cannot be unset. You should remove 'name' from your request or supply a non-empty value.", 'name');
  if (p.images !== undefined) c.images = p.images ?? [];
  if (p.marketing_features !== undefined) c.marketing_features = (p.marketing_features ?? []).map((f: Obj) => ({ name: f.name ?? null }));
  if (p.package_dimensions !== undefined) c.package_dimensions = packageDimensions(p.package_dimensions);
  if (p.statement_descriptor && p.statement_descriptor.length > 22) {
    throw invalidRequest('The statement descriptor must be at most 22 characters.', 'statement_descriptor');
  }
  c.metadata = applyMetadata(c.metadata, p.metadata);
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
    const filter = (d: Obj) =>
      (p.shippable === undefined || d.shippable === p.shippable) &&
      (p.url === undefined || d.url === p.url) &&
      (ids === undefined || ids.includes(d.id));
    const needsFilter = p.shippable !== undefined || p.url !== undefined || ids !== undefined;
    return {
      ...(p.active !== undefined ? { index: { field: 'active', value: String(p.active) } } : {}),
      ...(needsFilter ? { filter } : {}),
    };
  },

  async create(ctx, p, base) {
    if (p.id !== undefined) {
      if (await ctx.db.get(ctx.scope, p.id)) {
        throw invalidRequest(`Product already exists.`, 'id', 'resource_already_exists');
      }
      base.id = p.id;
    }
    const c: Obj = {
      ...base,
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
      type: 'service',
      unit_label: null,
      updated: base.created,
      url: null,
    };
    applyCommon(c, p);
    // The price is created right after the product; its id is known now so the product is
    // stored once, already pointing at it (Stripe's order: product.created, price.created).
    if (p.default_price_data) c.default_price = ctx.services.ids.id(prices.prefix);
    return c;
  },

  async afterCreate(ctx, product, p) {
    if (!p.default_price_data) return;
    const base = { ...newObjectBase(ctx, prices), id: product.default_price };
    const price = await buildPrice(ctx, p.default_price_data, base, product.id, 'default_price_data');
    await insertObject(ctx, prices, price);
  },

  async update(ctx, c, p) {
    applyCommon(c, p);
    if (p.default_price !== undefined) {
      if (p.default_price === null) c.default_price = null;
      else {
        const price = await ctx.db.get(ctx.scope, p.default_price);
        if (!price || price.type !== 'price' || price.deleted) throw noSuchResource('price', p.default_price, 'default_price');
        if (price.data.product !== c.id) {
          throw invalidRequest(`The price \`${p.default_price}\` is not associated with this product.`, 'default_price');
        }
        if (!price.data.active) throw invalidRequest('The default price must be active.', 'default_price');
        c.default_price = p.default_price;
      }
    }
    c.updated = ctx.now();
    return c;
  },

  async delete(ctx: WriteContext, c) {
    const owned = await ctx.db.scan(ctx.scope, { type: 'price', index: { field: 'product', value: c.id }, direction: 'older', limit: 1 });
    if (owned.length) {
      throw invalidRequest('This product cannot be deleted because it has one or more user-created prices.', undefined);
    }
  },
};
