import { z } from 'zod';

/**
 * A small RFC 4180 CSV reader/writer for the mapping tables the check dialogs import and export.
 * The editor has its own copy (resources/shopify-d365-editor.js, the browser cannot load npm modules);
 * test/checks/csv_spec.ts keeps the two in step. A semicolon delimiter is detected for files saved by
 * spreadsheet programs in locales where the comma is the decimal separator.
 */
export function parseCsv(text: string): string[][] {
  const src = text.replace(/^\uFEFF/, '');
  const delim = detectDelimiter(src);
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  const endRow = () => {
    row.push(field);
    field = '';
    if (row.length > 1 || row[0] !== '') rows.push(row); // blank lines carry no row
    row = [];
  };
  while (i < src.length) {
    const c = src[i]!;
    if (quoted) {
      if (c === '"') {
        if (src[i + 1] === '"') { field += '"'; i += 2; continue; }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && field === '') quoted = true;
    else if (c === delim) { row.push(field); field = ''; }
    else if (c === '\r' && src[i + 1] === '\n') { endRow(); i++; }
    else if (c === '\n' || c === '\r') endRow();
    else field += c;
    i++;
  }
  if (field !== '' || row.length) endRow();
  return rows;
}

/** Writes rows with `,`, quoting a field only when it needs it; lines end in CRLF as RFC 4180 says. */
export function formatCsv(rows: readonly (readonly unknown[])[]): string {
  return rows.map((r) => r.map((v) => {
    const s = v == null ? '' : String(v);
    return /[",\r\n;]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }).join(',')).join('\r\n') + (rows.length ? '\r\n' : '');
}

function detectDelimiter(text: string): ',' | ';' {
  let commas = 0;
  let semis = 0;
  let quoted = false;
  for (const c of text) {
    if (c === '"') quoted = !quoted;
    else if (!quoted && (c === '\n' || c === '\r')) break;
    else if (!quoted && c === ',') commas++;
    else if (!quoted && c === ';') semis++;
  }
  return semis > commas ? ';' : ',';
}

/** A config setting holding a list: an array, or text "a, b, c" (one CSV line) as a plain input saves it. */
export const commaList = z.union([
  z.array(z.string()),
  z.string().transform((s) => parseCsv(s.replace(/[\r\n]+/g, ','))[0] ?? []),
]).transform((xs) => xs.map((x) => x.trim()).filter(Boolean));
