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

// Further orders for a name whose enums differ by endpoint (the one matching the values is used).
const MORE: Readonly<Record<string, ReadonlyArray<readonly string[]>>> = {
  // Recorded live (invoices list): "Invalid status: must be one of draft, open, void, paid, or uncollectible".
  status: [['draft', 'open', 'void', 'paid', 'uncollectible']],
};

/** `values` in Stripe's order when it is known for `path` and covers exactly these values. */
export function stripeEnumOrder(path: string, values: readonly string[]): readonly string[] {
  const leaf = /([^[\]]+)\]?$/.exec(path)?.[1] ?? path;
  for (const order of [ORDER[leaf], ...(MORE[leaf] ?? [])]) {
    if (order && order.length === values.length && values.every((v) => order.includes(v))) return order;
  }
  return values;
}
