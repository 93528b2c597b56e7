/** Seeded randomness for the BC simulator: the same seed gives the same GUIDs and the same fault sequence. */

import { rng } from '../catalogue';

export type Rand = () => number;

/** The catalogue's mulberry32, so the simulator's GUIDs and faults come from the same generator as its seed data. */
export const seededRandom: (seed: number) => Rand = rng;

/** A version-4-shaped GUID (lower case, like Business Central returns them) from the generator. */
export function guid(rand: Rand): string {
  const hex: string[] = [];
  for (let i = 0; i < 32; i++) hex.push(Math.floor(rand() * 16).toString(16));
  hex[12] = '4';
  hex[16] = (8 + Math.floor(rand() * 4)).toString(16);
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const GUID_RE = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
