// Stripe lists an enum's values in its own internal order in `Invalid x: must be one of …`
// messages, not alphabetically (the generated tables are sorted). Where the order is known it
// is kept here, keyed by the parameter's last name segment; other enums keep the sorted order.
const ORDER: Readonly<Record<string, readonly string[]>> = {
  // Verified live: "Invalid tax_exempt: must be one of none, reverse, or exempt".
  tax_exempt: ['none', 'reverse', 'exempt'],
  // Verified live (subscriptions list).
  status: ['active', 'past_due', 'unpaid', 'canceled', 'incomplete', 'incomplete_expired', 'trialing', 'paused', 'all', 'ended'],
  // Likely: the order Stripe's docs give for `interval` ("Either day, week, month or year").
  interval: ['day', 'week', 'month', 'year'],
};

/** `values` in Stripe's order when it is known for `path` and covers exactly these values. */
export function stripeEnumOrder(path: string, values: readonly string[]): readonly string[] {
  const leaf = /([^[\]]+)\]?$/.exec(path)?.[1] ?? path;
  const order = ORDER[leaf];
  if (!order || order.length !== values.length || !values.every((v) => order.includes(v))) return values;
  return order;
}
