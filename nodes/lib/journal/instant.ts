/**
 * Shopify timestamps carry their shop's UTC offset (`2026-03-10T11:00:01-05:00`), so two of them can
 * only be ordered as instants, never as strings. Accepts ISO-8601 date-times WITH an offset (Z or
 * ±hh:mm / ±hhmm); anything else (no offset = ambiguous local time, free text) gives undefined so
 * the caller can decline to order it rather than guess.
 */
const ISO_WITH_OFFSET = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(Z|[+-]\d{2}:?\d{2})$/i;

export function parseInstant(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = ISO_WITH_OFFSET.exec(s.trim());
  if (!m) return undefined;
  const offset = m[2].toUpperCase() === 'Z' ? 'Z' : m[2].replace(/^([+-]\d{2}):?(\d{2})$/, '$1:$2');
  const ms = Date.parse(m[1] + offset);
  return Number.isFinite(ms) ? ms : undefined;
}
