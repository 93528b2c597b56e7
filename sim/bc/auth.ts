/**
 * A stand-in for the Microsoft Entra ID token endpoint (client credentials) and the Bearer check in
 * front of the API. Tokens are opaque JWT-shaped strings; only tokens this simulator issued, unexpired,
 * are accepted.
 */
import { randomBytes, randomUUID } from 'crypto';

export const BC_SCOPE = 'https://api.businesscentral.dynamics.com/.default';

export interface AuthConfig {
  tenant: string;
  clients: Record<string, string>;
  /** Seconds reported in expires_in. */
  expiresIn: number;
  /** Multiplies real token lifetime (1 = expires_in seconds of wall-clock time). */
  timeScale: number;
}

interface Issued { clientId: string; expiresAt: number }

export interface TokenResult { status: number; body: Record<string, unknown> }

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

export class Auth {
  private readonly tokens = new Map<string, Issued>();
  issuedCount = 0;

  constructor(public cfg: AuthConfig, private readonly now: () => number = Date.now) {}

  private entraError(status: number, error: string, code: number, description: string): TokenResult {
    const trace = randomUUID();
    const correlation = randomUUID();
    const timestamp = new Date(this.now()).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
    return {
      status,
      body: {
        error, error_description: `AADSTS${code}: ${description} Trace ID: ${trace} Correlation ID: ${correlation} Timestamp: ${timestamp}`,
        error_codes: [code], timestamp, trace_id: trace, correlation_id: correlation,
      },
    };
  }

  /** Handles `POST /{tenant}/oauth2/v2.0/token` with an already-parsed form body and Authorization header. */
  token(tenant: string, form: Record<string, string>, authorization?: string): TokenResult {
    if (tenant !== this.cfg.tenant) return this.entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    let clientId = form.client_id;
    let secret = form.client_secret;
    const basic = /^Basic\s+(.+)$/i.exec(authorization ?? '');
    if (basic) {
      const [id, ...rest] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      clientId = decodeURIComponent(id ?? '');
      secret = decodeURIComponent(rest.join(':'));
    }
    if (form.grant_type !== 'client_credentials') {
      return this.entraError(400, 'unsupported_grant_type', 70003, `The app requested an unsupported grant type '${form.grant_type ?? ''}'.`);
    }
    if (!clientId) return this.entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'client_id'.");
    if (!Object.hasOwn(this.cfg.clients, clientId)) {
      return this.entraError(400, 'unauthorized_client', 700016, `Application with identifier '${clientId}' was not found in the directory '${tenant}'.`);
    }
    if (!secret || this.cfg.clients[clientId] !== secret) {
      return this.entraError(401, 'invalid_client', 7000215, 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.');
    }
    if (form.scope !== BC_SCOPE) {
      return this.entraError(400, 'invalid_scope', 70011, `The provided request must include a 'scope' input parameter. The provided value for the input parameter 'scope' is not valid. The scope ${form.scope ?? ''} is not valid.`);
    }
    const iat = Math.floor(this.now() / 1000);
    const exp = iat + this.cfg.expiresIn;
    const token = [
      b64({ typ: 'JWT', alg: 'RS256', kid: 'sim' }),
      b64({ aud: 'https://api.businesscentral.dynamics.com', iss: `https://sts.windows.net/${tenant}/`, iat, nbf: iat, exp, appid: clientId, tid: tenant, roles: ['API.ReadWrite.All'] }),
      randomBytes(32).toString('base64url'),
    ].join('.');
    this.tokens.set(token, { clientId, expiresAt: this.now() + this.cfg.expiresIn * 1000 * this.cfg.timeScale });
    this.issuedCount++;
    return { status: 200, body: { token_type: 'Bearer', expires_in: this.cfg.expiresIn, ext_expires_in: this.cfg.expiresIn, access_token: token } };
  }

  /** The client id behind a valid `Authorization: Bearer …` header, or undefined. */
  check(authorization: string | undefined): string | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
    if (!m) return undefined;
    const t = this.tokens.get(m[1]!);
    if (!t) return undefined;
    if (t.expiresAt <= this.now()) { this.tokens.delete(m[1]!); return undefined; }
    return t.clientId;
  }

  /** Makes every issued token invalid (as if they had all expired). */
  expireAll(): void { this.tokens.clear(); }
}
