import { z } from 'zod';
import { toMinor } from '../contract';

/**
 * Decimal settings and tolerance arithmetic shared by the price and tax checks. Amounts are bigint
 * minor units (cents) and percentages are bigint millionths of a percent, so no float ever rounds money.
 */

/** A non-negative decimal setting; the editor saves numbers as strings, flows written by hand may use numbers. */
export const decimalSetting = (what: string) => z.union([z.string(), z.number()])
  .transform((v) => String(v).trim())
  .refine((s) => /^\d+(\.\d+)?$/.test(s), { message: `${what} must be a non-negative decimal number, e.g. 0.01` });

export const percentSetting = (what: string) => decimalSetting(what)
  .refine((s) => Number(s) <= 100, { message: `${what} must be between 0 and 100` });

// The same few amounts recur order after order (catalogue prices, rates, tolerances, "0.00"); toMinor
// parses with a regex and builds a BigInt each time. One memo per scale, keyed by the amount itself (no
// key string to build per call). Bounded: cleared when full, rebuilt by use.
const MEMO_MAX = 50_000;
const cents = new Map<string, bigint>();
const otherScales = new Map<number, Map<string, bigint>>();

/** toMinor, remembered: the same string and scale always give the same amount (throws like toMinor). */
export function minor(amount: string, decimals = 2): bigint {
  let memo = decimals === 2 ? cents : otherScales.get(decimals);
  if (!memo) otherScales.set(decimals, (memo = new Map()));
  let v = memo.get(amount);
  if (v === undefined) {
    v = toMinor(amount, decimals);
    if (memo.size >= MEMO_MAX) memo.clear();
    memo.set(amount, v);
  }
  return v;
}

const PCT_SCALE = 4; // percent with 4 decimals: "6" -> 60000, "0.5" -> 5000
const PCT_ONE = 100n * 10n ** BigInt(PCT_SCALE); // 100 % in those units

export function percentUnits(pct: string): bigint {
  return minor(pct, PCT_SCALE);
}

/** a * num / den, rounded half away from zero. */
export function mulDivRound(a: bigint, num: bigint, den: bigint): bigint {
  const neg = (a < 0n) !== (num < 0n) !== (den < 0n);
  const q = (abs(a) * abs(num) * 2n + abs(den)) / (2n * abs(den));
  return neg ? -q : q;
}

const abs = (x: bigint): bigint => (x < 0n ? -x : x);

/** A tax rate parsed once for the many amounts of an order (see taxAt). */
export interface TaxRate { units: bigint; grossDen: bigint }

export function taxRate(ratePct: string): TaxRate {
  const units = percentUnits(ratePct);
  return { units, grossDen: PCT_ONE + units };
}

/** The tax in an amount at a parsed rate: contained in it (prices include tax: base * r / (1 + r)) or on top of it (base * r). */
export function taxAt(base: bigint, rate: TaxRate, included: boolean): bigint {
  return mulDivRound(base, rate.units, included ? rate.grossDen : PCT_ONE);
}

export interface Tolerance { absolute: string; percent: string }

/** The allowed difference around an expected amount: the larger of the absolute and the percent tolerance. */
export function allowedDifference(expected: bigint, tol: Tolerance): bigint {
  const absolute = minor(tol.absolute);
  const units = percentUnits(tol.percent);
  // 0 % (the usual percent tolerance) allows nothing: no BigInt arithmetic needed to say so.
  if (units === 0n) return absolute > 0n ? absolute : 0n;
  const pct = mulDivRound(abs(expected), units, PCT_ONE);
  return absolute > pct ? absolute : pct;
}

export function withinTolerance(actual: bigint, expected: bigint, tol: Tolerance): boolean {
  return actual === expected || abs(actual - expected) <= allowedDifference(expected, tol);
}

// BigInts of the usual line quantities, made once: BigInt(n) and a product allocate on every call.
const QUANTITIES = Array.from({ length: 101 }, (_, i) => BigInt(i));

/** A line's amount: a unit amount times a whole quantity. */
export function times(amount: bigint, quantity: number): bigint {
  if (quantity === 1) return amount;
  return amount * (QUANTITIES[quantity] ?? BigInt(quantity));
}

/** Sums one decimal field of each element, e.g. the `amount` of discount allocations, without an array of the amounts. */
export function sumOf<K extends string>(list: readonly { readonly [k in K]: string }[], field: K): bigint {
  let sum = 0n;
  for (let i = 0; i < list.length; i++) sum += minor(list[i]![field]);
  return sum;
}
