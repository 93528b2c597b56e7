/**
 * Removes secrets from text that may reach an error message or a log line. The clients build their own
 * messages and never pass on transport errors (axios errors carry request headers, i.e. the token), so
 * this is a second line of defence, e.g. against a server that echoes a credential back in its error body.
 */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 4) continue;
    for (const form of new Set([s, encodeURIComponent(s)])) out = out.split(form).join('***');
  }
  return out;
}

/** Shortens server-provided text for an error message. */
export function clip(text: string, max = 500): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
