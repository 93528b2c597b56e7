import { fromMinor, toMinor, type MoneySet } from '../../nodes/lib/contract';

/** Money arithmetic in integer minor units (bigint) so every total adds up to the cent. */
export { fromMinor, toMinor };

/** A decimal as Shopify writes a discount application's value: no trailing zeros, at least one decimal ("10.0", "12.5"). */
export function discountValue(s: string): string {
  const [whole = '0', frac = ''] = s.split('.');
  return `${BigInt(whole)}.${frac.replace(/0+$/, '') || '0'}`;
}

/** Rounds num/den half-up (amounts here are non-negative). */
export function divRound(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('denominator must be positive');
  const neg = num < 0n;
  const a = neg ? -num : num;
  const q = (a * 2n + den) / (2n * den);
  return neg ? -q : q;
}

/** Applies a decimal rate (e.g. 0.0725) to a minor amount, rounded half-up to the cent. */
export function applyRate(minor: bigint, rate: number): bigint {
  const scaled = BigInt(Math.round(rate * 1_000_000));
  return divRound(minor * scaled, 1_000_000n);
}

/** Tax contained in a tax-inclusive amount: gross × rate / (1 + rate), rounded half-up. */
export function includedTax(gross: bigint, rate: number): bigint {
  const r = BigInt(Math.round(rate * 1_000_000));
  return divRound(gross * r, 1_000_000n + r);
}

/** Splits `total` across `weights` proportionally; the parts add up to `total` exactly (largest remainder). */
export function allocate(total: bigint, weights: readonly bigint[]): bigint[] {
  const sum = weights.reduce((s, w) => s + w, 0n);
  if (sum === 0n) return weights.map(() => 0n);
  const parts = weights.map((w) => (total * w) / sum);
  const rems = weights.map((w, i) => ({ i, r: (total * w) % sum }));
  let left = total - parts.reduce((s, p) => s + p, 0n);
  rems.sort((a, b) => (a.r === b.r ? a.i - b.i : a.r > b.r ? -1 : 1));
  for (const { i } of rems) {
    if (left <= 0n) break;
    parts[i]! += 1n;
    left -= 1n;
  }
  return parts;
}

/** Presentment conversion rates from the shop currency (USD); fixed so tests can predict amounts. */
export const FX: Record<string, number> = { USD: 1, EUR: 0.92, CAD: 1.36 };

export class MoneyCtx {
  constructor(readonly shopCurrency: string, readonly presentmentCurrency: string) {}

  /** Converts one atomic shop amount to presentment money (sums are always built from converted atoms). */
  present(minor: bigint): bigint {
    if (this.presentmentCurrency === this.shopCurrency) return minor;
    return applyRate(minor, FX[this.presentmentCurrency] ?? 1);
  }

  set(shop: bigint, presentment: bigint = this.present(shop)): MoneySet {
    return {
      shop_money: { amount: fromMinor(shop), currency_code: this.shopCurrency },
      presentment_money: { amount: fromMinor(presentment), currency_code: this.presentmentCurrency },
    };
  }
}
