// Parameters PaymentIntents and SetupIntents accept beyond the generated tables, the same way.
import { operationParams, type ParamSchema } from '../generated/params.js';

/** `payment_method_types`, which current SDK types call allowed_payment_method_types, is still accepted. */
export const LEGACY_TYPES = { payment_method_types: { t: 'array' as const, items: { t: 'string' as const } } };

/**
 * payment_method_data as Stripe.js sends it to an intent's confirm operation: with `type: card`
 * and raw `card` data (publishable keys).
 */
export function cardPaymentMethodData(confirmPath: string): Record<string, ParamSchema> {
  const base = operationParams('POST', confirmPath)?.params.props?.payment_method_data;
  const cardSchema = operationParams('POST', '/v1/payment_methods')?.params.props?.card;
  if (!base || !cardSchema) return {};
  const pmd = structuredClone(base) as ParamSchema & { props: Record<string, ParamSchema> };
  const type = pmd.props.type;
  if (type && type.t === 'enum' && !type.values?.includes('card')) type.values = ['card', ...(type.values ?? [])];
  pmd.props.card = cardSchema;
  return { payment_method_data: pmd };
}
