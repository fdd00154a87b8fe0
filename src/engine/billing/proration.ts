// Proration arithmetic: pure functions, no I/O, no clock.
//
// Stripe's rules (docs.stripe.com/billing/subscriptions/prorations):
// - Prorations are computed to the second: a change at `proration_date` inside the current
//   period [start, end) credits the unused time of the old price, (end − at) / (end − start) of
//   what it costs for the period, and charges the remaining time of the new price, the same
//   fraction of its cost. Upgrading from 10 USD to 20 USD halfway: −5 USD and +10 USD.
// - A quantity change is an old line (credit, old quantity) and a new line (debit, new
//   quantity): "Unused time on 1 × Basic after 03 Mar 2017", "Remaining time on 2 × Basic after
//   03 Mar 2017". Each line's period is [proration_date, period end).
// - Only licensed prices prorate (metered usage is billed in arrears).
// - billing_mode classic computes the credit from the old price's list amount; billing_mode
//   flexible (the default of 2025-06-30.basil onwards) computes it from what was actually billed
//   for the period (the item's last debit, its discounts included), so a customer is never
//   credited more than they paid, and nothing is credited for a period that was not billed
//   (a trial).
// - Amounts round half away from zero to the minor unit, per line.

export type Obj = Record<string, any>;

/** Rounds half away from zero. */
export function roundHalfAway(x: number): number {
  return Math.sign(x) * Math.round(Math.abs(x) + 1e-9);
}

/** The quantity a price bills after transform_quantity (divide_by, round up/down). */
export function billedQuantity(price: Obj, quantity: number): number {
  const t = price.transform_quantity;
  if (!t) return quantity;
  const q = quantity / t.divide_by;
  return t.round === 'up' ? Math.ceil(q - 1e-12) : Math.floor(q + 1e-12);
}

/** The unit amount of a price as a number (unit_amount_decimal may have fractions of a minor unit). */
function unitAmountOf(price: Obj): number {
  if (typeof price.unit_amount === 'number') return price.unit_amount;
  if (typeof price.unit_amount_decimal === 'string') return Number(price.unit_amount_decimal);
  return 0;
}

function tierNumber(n: number | null | undefined, d: string | null | undefined): number {
  if (typeof n === 'number') return n;
  if (typeof d === 'string') return Number(d);
  return 0;
}

/**
 * What a price costs for one full period at `quantity` (before discounts and taxes), in minor
 * units, possibly fractional for decimal amounts (the caller rounds once).
 * per_unit: unit × quantity (after transform_quantity); tiered volume: the tier the whole
 * quantity falls in; tiered graduated: each tier's share, plus each reached tier's flat amount.
 */
export function exactAmount(price: Obj, quantity: number): number {
  if (price.billing_scheme === 'tiered') {
    const tiers: Obj[] = price.tiers ?? [];
    if (price.tiers_mode === 'volume') {
      const tier = tiers.find((t) => t.up_to === null || quantity <= t.up_to) ?? tiers[tiers.length - 1];
      if (!tier) return 0;
      const flat = quantity > 0 ? tierNumber(tier.flat_amount, tier.flat_amount_decimal) : 0;
      return tierNumber(tier.unit_amount, tier.unit_amount_decimal) * quantity + flat;
    }
    let total = 0;
    let previous = 0;
    for (const t of tiers) {
      if (quantity <= previous) break;
      const top = t.up_to === null ? quantity : Math.min(quantity, t.up_to);
      total += tierNumber(t.unit_amount, t.unit_amount_decimal) * (top - previous) + tierNumber(t.flat_amount, t.flat_amount_decimal);
      previous = t.up_to === null ? quantity : t.up_to;
    }
    return total;
  }
  return unitAmountOf(price) * billedQuantity(price, quantity);
}

/** The price's amount for a full period, rounded to the minor unit. */
export function periodAmount(price: Obj, quantity: number): number {
  return roundHalfAway(exactAmount(price, quantity));
}

/** The prorated share of `amount` for [at, end) of the period [start, end), rounded. */
export function prorate(amount: number, period: { start: number; end: number }, at: number): number {
  const len = period.end - period.start;
  if (len <= 0) return 0;
  const remaining = Math.max(0, Math.min(period.end - at, len));
  return roundHalfAway((amount * remaining) / len);
}

export interface ItemState {
  price: Obj;
  quantity: number;
  /** What was billed for this item's current period (flexible mode credits from it). */
  billed?: { amount: number; start: number; end: number } | null;
}

export interface ProrationLine {
  kind: 'credit' | 'debit';
  amount: number;
  price: Obj;
  quantity: number;
  period: { start: number; end: number };
  description: string;
}

export type BillingMode = 'classic' | 'flexible';

/** "1 × Basic" as Stripe writes an item in line descriptions. */
export function itemLabel(productName: string, quantity: number): string {
  return `${quantity} × ${productName}`;
}

/**
 * The proration lines of one item's change at `at` in the period [start, end): a credit for the
 * old state's unused time and a debit for the new state's remaining time. `old` null = an item
 * added; `next` null = an item removed. Equal states prorate nothing. `names` gives the
 * product name of a price (for the descriptions).
 */
export function prorationLines(
  old: ItemState | null, next: ItemState | null, period: { start: number; end: number }, at: number,
  mode: BillingMode, names: (price: Obj) => string, dateLabel: string,
): ProrationLine[] {
  if (at >= period.end) return [];
  if (old && next && old.price.id === next.price.id && old.quantity === next.quantity) return [];
  const out: ProrationLine[] = [];
  const lineperiod = { start: Math.max(at, period.start), end: period.end };
  if (old && old.price.recurring?.usage_type !== 'metered') {
    let credit: number;
    if (mode === 'flexible') {
      // From what was billed for the period it was billed for; nothing billed, nothing credited.
      const b = old.billed;
      credit = b ? prorate(b.amount, { start: b.start, end: b.end }, Math.max(at, b.start)) : 0;
    } else {
      credit = prorate(periodAmount(old.price, old.quantity), period, at);
    }
    if (credit !== 0 || mode === 'classic') {
      out.push({
        kind: 'credit', amount: -credit, price: old.price, quantity: old.quantity, period: lineperiod,
        description: `Unused time on ${itemLabel(names(old.price), old.quantity)} after ${dateLabel}`,
      });
    }
  }
  if (next && next.price.recurring?.usage_type !== 'metered') {
    out.push({
      kind: 'debit', amount: prorate(periodAmount(next.price, next.quantity), period, at), price: next.price, quantity: next.quantity, period: lineperiod,
      description: `Remaining time on ${itemLabel(names(next.price), next.quantity)} after ${dateLabel}`,
    });
  }
  return out;
}
