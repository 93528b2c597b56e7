/** Typed assignment of request-body fields onto a row, with BC's validation errors (type, length, read-only, unknown). */
import { BcError, stringTooLong } from './errors';
import { GUID_RE } from './random';
import type { Rec } from './state';

export type FieldSpec = { kind: 'text'; max: number } | { kind: 'num'; min?: number } | { kind: 'bool' } | { kind: 'date' } | { kind: 'guid' } | { kind: 'enum'; values: readonly string[] };
export type Spec = Record<string, FieldSpec>;

export const text = (max: number): FieldSpec => ({ kind: 'text', max });
export const num = (min?: number): FieldSpec => (min === undefined ? { kind: 'num' } : { kind: 'num', min });
export const bool: FieldSpec = { kind: 'bool' };
export const date: FieldSpec = { kind: 'date' };
export const guidField: FieldSpec = { kind: 'guid' };

const badValue = (field: string, v: unknown, edm: string) =>
  new BcError(400, 'BadRequest', `Cannot convert the literal '${typeof v === 'string' ? v : JSON.stringify(v)}' to the expected type '${edm}' for property '${field}'.`);

export function checkValue(field: string, spec: FieldSpec, v: unknown): unknown {
  switch (spec.kind) {
    case 'text':
      if (typeof v !== 'string') throw badValue(field, v, 'Edm.String');
      if (v.length > spec.max) throw stringTooLong(v, spec.max);
      return v;
    case 'num':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw badValue(field, v, 'Edm.Decimal');
      if (spec.min !== undefined && v < spec.min) {
        throw new BcError(400, 'Application_FieldValidationException', `The value of ${field} must be at least ${spec.min}; it is ${v}.`);
      }
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw badValue(field, v, 'Edm.Boolean');
      return v;
    case 'date':
      if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) throw badValue(field, v, 'Edm.Date');
      return v;
    case 'guid':
      if (typeof v !== 'string' || !GUID_RE.test(v)) throw badValue(field, v, 'Edm.Guid');
      return v.toLowerCase();
    case 'enum':
      if (typeof v !== 'string' || !spec.values.includes(v)) {
        throw new BcError(400, 'BadRequest', `'${String(v)}' is not a valid value for ${field}; expected one of ${spec.values.map((x) => `'${x}'`).join(', ')}.`);
      }
      return v;
  }
}

/**
 * Checks a body against the writable fields of an entity: rejects non-objects, unknown and read-only
 * properties (BC's API pages refuse both), ignores `@odata.*` annotations and, where allowed, the nested
 * collection used for deep insert. Returns the validated values without touching any row.
 */
export function validateBody(
  body: unknown, type: string, writable: Spec, readOnly: readonly string[], nested: readonly string[] = [],
): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BcError(400, 'BadRequest', 'The request body must be a JSON object.');
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k.startsWith('@odata.') || nested.includes(k)) continue;
    const spec = Object.hasOwn(writable, k) ? writable[k] : undefined;
    if (!spec) {
      if (readOnly.includes(k)) throw new BcError(400, 'BadRequest', `The property '${k}' is read-only and cannot be set.`);
      throw new BcError(400, 'BadRequest', `The property '${k}' does not exist on type 'Microsoft.NAV.${type}'. Make sure to only use property names that are defined by the type.`);
    }
    Object.defineProperty(out, k, { value: checkValue(k, spec, v), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

export function assign(rec: Rec, values: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(values)) rec[k] = v;
}
