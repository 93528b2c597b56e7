import { z } from 'zod';

/** Shopify sends money as decimal strings ("199.00"); keep them as strings so no float rounding creeps in. */
export const MoneyString = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal amount as a string, e.g. "19.99"');

/** Shopify ids are 64-bit integers; JSON gives numbers, GraphQL legacyResourceId gives strings. */
export const ShopifyId = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, 'expected a numeric id')]);
export type ShopifyId = z.infer<typeof ShopifyId>;

export const MoneyAmount = z.looseObject({ amount: MoneyString, currency_code: z.string().min(3).max(3) });
export const MoneySet = z.looseObject({ shop_money: MoneyAmount, presentment_money: MoneyAmount });
export type MoneySet = z.infer<typeof MoneySet>;

/** Converts a decimal money string to integer minor units (cents) without floating-point error. */
export function toMinor(amount: string, decimals = 2): bigint {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount.trim());
  if (!m) throw new RangeError(`not a decimal amount: ${JSON.stringify(amount)}`);
  const [, sign, whole, fracRaw = ''] = m;
  const frac = fracRaw.padEnd(decimals + 1, '0');
  let minor = BigInt(whole + frac.slice(0, decimals));
  if (Number(frac[decimals]) >= 5) minor += 1n; // half-up on the first dropped digit
  return sign === '-' ? -minor : minor;
}

/** Formats integer minor units back to a decimal string ("-5.00"). */
export function fromMinor(minor: bigint, decimals = 2): string {
  const neg = minor < 0n;
  const abs = (neg ? -minor : minor).toString().padStart(decimals + 1, '0');
  const out = decimals ? `${abs.slice(0, -decimals)}.${abs.slice(-decimals)}` : abs;
  return neg ? `-${out}` : out;
}
