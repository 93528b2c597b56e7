import 'should';
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import helper from 'node-red-node-test-helper';
import type { NodeAPI } from 'node-red';
import type { SinonSpy } from 'sinon';
import os from 'os';
import path from 'path';
import orderJournalNode = require('../nodes/order-journal');
import { journalFromConfig, resolveJournalFile } from '../nodes/lib/journal/config-node';
import type { OrderJournalConfigNode } from '../nodes/lib/journal/config-node';
import { SqliteJournal } from '../nodes/lib/journal/sqlite-journal';

const DAY = 24 * 3600 * 1000;
/** The test helper wraps node methods (log, error, status, …) in sinon spies. */
const calledWithMatch = (fn: unknown, expected: unknown) => (fn as SinonSpy).calledWithMatch(expected).should.be.true();
/** Flow entries carry the node's own settings, which the helper's NodeDef type does not know. */
type FlowItem = { id: string; type: string; [k: string]: unknown };
const load = (mod: (RED: NodeAPI) => void, flow: FlowItem[]) => helper.load(mod, flow as never);
const SHOP = 'acme.myshopify.com';

describe('order-journal config node', function () {
  let userDir: string;
  let RED: NodeAPI;
  const capture = (r: NodeAPI) => { RED = r; return orderJournalNode(r); };
  const journalNode = (id = 'j1') => helper.getNode(id) as unknown as OrderJournalConfigNode;

  beforeEach(() => {
    userDir = mkdtempSync(path.join(os.tmpdir(), 'order-journal-node-'));
    helper.settings({ userDir });
  });
  afterEach(async () => {
    await helper.unload();
    helper.settings({});
    rmSync(userDir, { recursive: true, force: true });
  });

  it('opens the default file in the user directory and hands every user the same journal', async () => {
    await load(orderJournalNode, [{ id: 'j1', type: 'order-journal', name: 'main', backend: 'sqlite', file: '', retentionDays: '7' }]);
    const a = journalNode().getJournal();
    a.should.equal(journalNode().getJournal());
    (await a.recordEvent({ shop: SHOP, dedupeKey: 'wh-1', topic: 'orders/create', body: '{}', meta: {} })).status.should.equal('new');
    const file = path.join(userDir, 'shopify-d365-journal.sqlite');
    existsSync(file).should.be.true();
    const db = new Database(file, { readonly: true });
    try {
      (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n.should.equal(1);
    } finally { db.close(); }
  });

  it('takes relative paths from the user directory and uses absolute paths as given', async () => {
    const abs = path.join(userDir, 'elsewhere', 'abs.sqlite');
    await load(orderJournalNode, [
      { id: 'j1', type: 'order-journal', file: 'data/journal.sqlite' },
      { id: 'j2', type: 'order-journal', file: abs },
    ]);
    await journalNode('j1').getJournal().setCursor('c', '1');
    await journalNode('j2').getJournal().setCursor('c', '2');
    existsSync(path.join(userDir, 'data', 'journal.sqlite')).should.be.true();
    existsSync(abs).should.be.true();
    resolveJournalFile(undefined, undefined).should.equal(path.resolve('shopify-d365-journal.sqlite'));
    resolveJournalFile(':memory:', userDir).should.equal(':memory:');
  });

  it('prunes emitted events older than the retention on start, keeping unemitted and recent ones', async () => {
    const file = path.join(userDir, 'shopify-d365-journal.sqlite');
    const past = SqliteJournal.open(file, { now: () => Date.now() - 10 * DAY });
    for (const k of ['old-emitted', 'old-unemitted']) {
      const r = await past.recordEvent({ shop: SHOP, dedupeKey: k, topic: 'orders/create', body: '{}', meta: {} });
      if (k === 'old-emitted' && r.status === 'new') await past.markEmitted(r.seq);
    }
    await past.close();
    const recent = SqliteJournal.open(file);
    const r = await recent.recordEvent({ shop: SHOP, dedupeKey: 'recent-emitted', topic: 'orders/create', body: '{}', meta: {} });
    if (r.status === 'new') await recent.markEmitted(r.seq);
    await recent.close();

    await load(orderJournalNode, [{ id: 'j1', type: 'order-journal', retentionDays: '7' }]);
    const j = journalNode().getJournal();
    // The start-up prune runs right after opening; recordEvent reports which keys are still known.
    await new Promise((r) => setImmediate(r));
    (await j.recordEvent({ shop: SHOP, dedupeKey: 'old-emitted', topic: 'orders/create', body: '{}', meta: {} })).status.should.equal('new');
    (await j.recordEvent({ shop: SHOP, dedupeKey: 'old-unemitted', topic: 'orders/create', body: '{}', meta: {} })).status.should.equal('duplicate');
    (await j.recordEvent({ shop: SHOP, dedupeKey: 'recent-emitted', topic: 'orders/create', body: '{}', meta: {} })).status.should.equal('duplicate');
    calledWithMatch(journalNode().log, /pruned 1 emitted webhook event\(s\) older than 7 day\(s\)/);
  });

  it('stays usable by the close handlers of the nodes that are stopped with it (a lease given back)', async () => {
    // A node that, like d365-trigger, gives its lease back when it is stopped.
    const failures: string[] = [];
    const leaseHolder = (r: NodeAPI) => {
      orderJournalNode(r);
      r.nodes.registerType('lease-holder', function (this: any, def: any) {
        r.nodes.createNode(this, def);
        // Like the package's nodes: the config node is looked up when the node starts (Node-RED no longer
        // finds it by id while stopping), its journal when needed.
        const config = r.nodes.getNode(def.journal) as unknown as OrderJournalConfigNode;
        this.on('close', (_removed: boolean, done: () => void) => {
          Promise.resolve().then(() => config.getJournal().releaseLease('poll', 'me')).then(() => done(), (e: Error) => { failures.push(e.message); done(); });
        });
      });
    };
    await load(leaseHolder, [{ id: 'j1', type: 'order-journal' }, { id: 'n1', type: 'lease-holder', journal: 'j1' }]);
    (await journalNode().getJournal().acquireLease('poll', 'me', 60_000)).should.be.true();
    await helper.unload();
    failures.should.eql([]);
    const again = SqliteJournal.open(path.join(userDir, 'shopify-d365-journal.sqlite'));
    (await again.acquireLease('poll', 'someone-else', 60_000)).should.be.true();
    await again.close();
  });

  it('closes the database when the flow stops', async () => {
    await load(orderJournalNode, [{ id: 'j1', type: 'order-journal' }]);
    const node = journalNode();
    const j = node.getJournal();
    await helper.unload();
    await j.getCursor('x').should.be.rejectedWith(/journal is closed/);
    (() => node.getJournal()).should.throw(/is not available: it was stopped/);
    // The file is released and intact.
    const again = SqliteJournal.open(path.join(userDir, 'shopify-d365-journal.sqlite'));
    (await again.getCursor('x') === undefined).should.be.true();
    await again.close();
  });

  it('reports invalid settings without crashing, and users get the reason', async () => {
    await load(orderJournalNode, [
      { id: 'j1', type: 'order-journal', name: 'shared', backend: 'redis', retentionDays: 'abc' },
    ]);
    const node = journalNode();
    calledWithMatch(node.error, /Redis backend is planned but not available yet/);
    calledWithMatch(node.error, /retentionDays/);
    calledWithMatch(node.status, { fill: 'red' });
    (() => node.getJournal()).should.throw(/order journal "shared" is not available: invalid order journal settings: backend: the Redis backend is planned/);
  });

  it('reports a file that cannot be opened', async () => {
    const blocker = path.join(userDir, 'a-file');
    new Database(blocker).close();
    await load(orderJournalNode, [{ id: 'j1', type: 'order-journal', file: path.join(blocker, 'journal.sqlite') }]);
    calledWithMatch(journalNode().error, /order journal: cannot open/);
    (() => journalNode().getJournal()).should.throw(/is not available: order journal: cannot open/);
  });

  it('journalFromConfig finds the journal behind a node setting, with clear errors otherwise', async () => {
    await load(capture, [{ id: 'j1', type: 'order-journal' }, { id: 't', type: 'tab' }, { id: 'h', z: 't', type: 'helper' }]);
    journalFromConfig(RED, 'j1').should.equal(journalNode().getJournal());
    (() => journalFromConfig(RED, '')).should.throw(/no order journal selected/);
    (() => journalFromConfig(RED, 'nope')).should.throw(/order journal nope is not deployed/);
    (() => journalFromConfig(RED, 'h')).should.throw(/node h is not an order journal/);
  });
});
