// Shared setup of the check node specs: the sample order, a stand-in d365-connection, the usual test flow
// around one check node, and small waits/assertions over node-red-node-test-helper.
import 'should';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SinonSpy } from 'sinon';
import { readFileSync } from 'fs';
import path from 'path';

/** A fresh copy of test/fixtures/order-1001.json (Shopify's sample order). */
export const sampleOrder = (): any => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));

/**
 * Stands in for the d365-connection config node: what the checks use of it is getClient() and dryRun.
 * `client` is read on every getClient() call, so a spec may swap the client between tests.
 */
export function fakeConnection(client: () => unknown, dryRun: (def: NodeDef & { dryRun?: boolean }) => boolean = (def) => def.dryRun === true) {
  return (RED: NodeAPI) => {
    function FakeConnection(this: Node & { getClient?: () => unknown; dryRun?: boolean }, def: NodeDef & { dryRun?: boolean }) {
      RED.nodes.createNode(this, def);
      this.getClient = client;
      this.dryRun = dryRun(def);
    }
    RED.nodes.registerType('d365-connection', FakeConnection);
  };
}

export interface CheckFlowOptions {
  /** Helper node ids on output 1 and 2. */
  pass?: string;
  fail?: string;
  /** Id of the d365-connection node (and the check's `connection`); '' = no connection node. */
  connection?: string;
  /** Add a Catch node wired to a helper `caught`. */
  catch?: boolean;
}

/** A tab with one check node `n1` (config spread last), helpers on both outputs and, by default, a Catch. */
export function checkFlow(type: string, config: Record<string, unknown>, opts: CheckFlowOptions = {}): any[] {
  const { pass = 'pass', fail = 'fail', connection = 'bc' } = opts;
  return [
    { id: 't', type: 'tab' },
    ...(connection ? [{ id: connection, type: 'd365-connection' }] : []),
    { id: 'n1', z: 't', type, ...(connection ? { connection } : {}), ...config, wires: [[pass], [fail]] },
    { id: pass, z: 't', type: 'helper' },
    { id: fail, z: 't', type: 'helper' },
    ...(opts.catch === false ? [] : [
      { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 't', type: 'helper' },
    ]),
  ];
}

/** The next message a helper node receives. */
export const next = (id: string): Promise<any> => new Promise<any>((r) => helper.getNode(id).once('input', r));

/** Sends msg into node `entry` (default n1) and waits for it at helper `out`. */
export async function sendTo(out: string, msg: Record<string, unknown>, entry = 'n1'): Promise<any> {
  const got = next(out);
  helper.getNode(entry).receive(msg as never);
  return got;
}

/** The test helper spies on node methods with sinon; should's sinon assertions are not typed here. */
export const spy = (f: unknown) => f as { calledWithMatch(...args: unknown[]): boolean };

/** Asserts that one call of a spied node method matched, and shows the calls otherwise. */
export function calledWithMatch(fn: unknown, expected: unknown): void {
  const s = fn as SinonSpy;
  s.calledWithMatch(expected).should.be.true(`expected a call matching ${String(expected instanceof RegExp ? expected : JSON.stringify(expected))}; got ${JSON.stringify(s.args.map((a) => a[0]))}`);
}
