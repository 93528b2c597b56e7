import { createHmac, randomUUID } from 'crypto';
import http from 'http';
import type { FlowNode } from '../../scripts/lib/flows';
import type { Rig } from './harness';

/**
 * Deliveries the fault tests make themselves, as Shopify would sign them: the HMAC is computed over
 * the exact bytes sent with the store's webhook secret, so hostile bodies get past the signature
 * check and reach parsing and the checks behind it.
 */

export interface PostResult {
  status: number;
  body: string;
}

export interface SignedPostOptions {
  topic?: string;
  webhookId?: string;
  /** Extra or overriding headers (lower-case names). */
  headers?: Record<string, string>;
}

/** POSTs `body` (exact bytes) to the rig's webhook route, signed with the simulator's webhook secret. */
export function postSigned(rig: Rig, body: Buffer | string, o: SignedPostOptions = {}): Promise<PostResult> {
  const shop = rig.sims.shopify.options;
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(raw.length),
    'x-shopify-topic': o.topic ?? 'orders/create',
    'x-shopify-hmac-sha256': createHmac('sha256', shop.webhookSecret).update(raw).digest('base64'),
    'x-shopify-shop-domain': shop.shop,
    'x-shopify-api-version': shop.apiVersion,
    'x-shopify-webhook-id': o.webhookId ?? randomUUID(),
    'x-shopify-event-id': randomUUID(),
    'x-shopify-triggered-at': new Date().toISOString(),
    ...o.headers,
  };
  const url = new URL('/shopify/webhooks', rig.nodeRed.url);
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    // The server may answer 413 before it has read an over-limit body; the answer still arrives.
    req.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    req.end(raw);
  });
}

/** Object.prototype's own property names in a clean Node.js process (the same in every supported version). */
const OBJECT_PROTO_NAMES = ['constructor', '__defineGetter__', '__defineSetter__', 'hasOwnProperty', '__lookupGetter__',
  '__lookupSetter__', 'isPrototypeOf', 'propertyIsEnumerable', 'toString', 'valueOf', '__proto__', 'toLocaleString'];

/**
 * An inject → function pair that reports, in Node-RED's log, whether the runtime's Object.prototype or
 * Array.prototype carries properties they should not. The function node's own literals live in its
 * sandbox realm, so it inspects the prototypes of msg and msg.payload, which the inject node made in
 * the runtime's realm, where webhook bodies are parsed and copied.
 */
export function pollutionProbe(tab: string, marker: string): { nodes: FlowNode[]; injectId: string } {
  const injectId = 'fault-proto-probe-inject';
  const func = `
const O = Object.getPrototypeOf(msg);
const A = Object.getPrototypeOf(msg.payload);
const std = new Set(${JSON.stringify(OBJECT_PROTO_NAMES)});
// Self-test: pollute on purpose for the duration of this report, to show the probe sees the runtime's prototype.
if (msg.selfTest === true) O.__faultProbeSelfTest = 'set';
const report = {
  isRootPrototype: Object.getPrototypeOf(O) === null && Array.isArray(msg.payload),
  objectExtra: Object.getOwnPropertyNames(O).filter((n) => !std.has(n)),
  arrayNames: Object.getOwnPropertyNames(A).filter((n) => !Object.getOwnPropertyNames(Array.prototype).includes(n)),
  inherited: [msg.polluted, msg.payload.polluted, ({}).polluted, [].polluted].map((v) => v === undefined ? 'undefined' : String(v)),
};
if (msg.selfTest === true) delete O.__faultProbeSelfTest;
node.warn(${JSON.stringify(marker)} + ' ' + JSON.stringify(report));
return null;`;
  return {
    injectId,
    nodes: [
      { id: injectId, type: 'inject', z: tab, name: 'prototype probe', props: [{ p: 'payload' }], payload: '[]', payloadType: 'json',
        repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', x: 100, y: 900, wires: [['fault-proto-probe-fn']] },
      { id: 'fault-proto-probe-fn', type: 'function', z: tab, name: 'prototype probe', func, outputs: 1, timeout: 0, noerr: 0,
        initialize: '', finalize: '', libs: [], x: 300, y: 900, wires: [[]] },
    ],
  };
}

export interface ProbeReport {
  /** Sanity: the probe looked at a root Object.prototype (and msg.payload was an array). */
  isRootPrototype: boolean;
  objectExtra: string[];
  arrayNames: string[];
  inherited: string[];
}

/**
 * Fires the probe and returns its report from the log. `selfTest` makes the probe pollute
 * Object.prototype with `__faultProbeSelfTest` while it looks (and remove it after), so a test can
 * show the probe would see real pollution. The inject node's properties are overridden per request.
 */
export async function runPollutionProbe(rig: Rig, injectId: string, marker: string, selfTest = false): Promise<ProbeReport> {
  const mark = rig.nodeRed.lineCount();
  await rig.nodeRed.post(`/inject/${injectId}`, {
    __user_inject_props__: [{ p: 'payload', v: '[]', vt: 'json' }, { p: 'selfTest', v: String(selfTest), vt: 'bool' }],
  });
  const end = Date.now() + 10_000;
  for (;;) {
    for (const l of rig.nodeRed.output(mark)) {
      const i = l.indexOf(`${marker} {`);
      if (i >= 0) return JSON.parse(l.slice(i + marker.length + 1)) as ProbeReport;
    }
    if (Date.now() > end) throw new Error(`the prototype probe did not report within 10 s:\n${rig.nodeRed.output(mark).slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
