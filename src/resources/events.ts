// Events — https://docs.stripe.com/api/events
// Retrieve and list (type with `*` wildcards, types[], created, delivery_success). Events are
// written by the changes they describe (src/events/events.ts), never created through the API.
import { invalidRequest } from '../api/errors.js';
import type { Obj, ResourceDef } from './define.js';

/** `customer.*` → /^customer\..*$/ ; wildcards may stand anywhere in the type. */
function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

export const events: ResourceDef = {
  object: 'event',
  prefix: 'evt',
  path: '/v1/events',
  standard: { create: false, update: false, delete: false, search: false },
  listFilters: (p) => {
    if (p.type !== undefined && p.types !== undefined) {
      throw invalidRequest('You may only specify one of these parameters: type, types.', 'types');
    }
    const types: string[] | undefined = p.types;
    if (types && types.length > 20) throw invalidRequest('You may pass at most 20 types.', 'types');
    const deliveryFilter = p.delivery_success === undefined ? undefined
      : (d: Obj) => (d.pending_webhooks === 0) === p.delivery_success;
    let index;
    let typeFilter: ((d: Obj) => boolean) | undefined;
    let indexPrefix;
    if (typeof p.type === 'string') {
      const star = p.type.indexOf('*');
      if (star < 0) index = { field: 'type', value: p.type };
      else {
        if (star > 0) indexPrefix = { field: 'type', prefix: p.type.slice(0, star) };
        const re = wildcard(p.type);
        typeFilter = (d) => re.test(d.type);
      }
    } else if (types) {
      const set = new Set(types);
      typeFilter = (d) => set.has(d.type);
    }
    const filters = [typeFilter, deliveryFilter].filter((f): f is (d: Obj) => boolean => !!f);
    return {
      ...(index ? { index } : {}),
      ...(indexPrefix ? { indexPrefix } : {}),
      ...(filters.length ? { filter: (d: Obj) => filters.every((f) => f(d)) } : {}),
    };
  },
};
