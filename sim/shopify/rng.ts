/** A seeded PRNG (the catalogue's mulberry32, `rng` in sim/catalogue.ts) so chaos and generated orders repeat for a seed. */
export type Rng = () => number;

export function pick<T>(rand: Rng, xs: readonly T[]): T {
  if (xs.length === 0) throw new RangeError('pick from an empty list');
  return xs[Math.floor(rand() * xs.length)]!;
}

export function intBetween(rand: Rng, min: number, max: number): number {
  return min + Math.floor(rand() * (max - min + 1));
}

/** A seeded RFC 4122 v4-shaped UUID (webhook and event ids must be unique, not secret). */
export function uuid(rand: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(rand() * 4)).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
