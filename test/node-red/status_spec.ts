import 'should';
import { EventEmitter } from 'events';
import type { Node, NodeStatus } from 'node-red';
import { StatusCounter } from '../../nodes/lib/node-red/status';

/** A node stand-in that records status calls and emits close like Node-RED does. */
function fakeNode(): { node: Node; shown: NodeStatus[]; close(): void } {
  const e = new EventEmitter();
  const shown: NodeStatus[] = [];
  const node = { on: e.on.bind(e), status: (s: NodeStatus) => { shown.push(s); } } as unknown as Node;
  return { node, shown, close: () => { e.emit('close'); } };
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StatusCounter', () => {
  it('shows colour changes at once and count-only changes at most once per interval, the last one always', async () => {
    const { node, shown } = fakeNode();
    const s = new StatusCounter(node, ['passed', 'flagged'], ['flagged'], 40);
    shown.should.eql([{ fill: 'grey', shape: 'ring', text: 'ready' }]);
    s.add('passed');
    shown.slice(-1).should.eql([{ fill: 'green', shape: 'dot', text: '1 passed' }]);
    for (let i = 0; i < 100; i++) s.add('passed');
    shown.length.should.equal(2); // 100 more passes within the interval: nothing shown yet
    s.add('flagged'); // green → yellow: at once
    shown.slice(-1).should.eql([{ fill: 'yellow', shape: 'dot', text: '101 passed · 1 flagged' }]);
    s.add('passed');
    shown.length.should.equal(3);
    await sleep(80);
    shown.slice(-1).should.eql([{ fill: 'yellow', shape: 'dot', text: '102 passed · 1 flagged' }]);
    shown.length.should.equal(4);
    await sleep(50);
    s.add('passed'); // the interval has passed since the last update: at once
    shown.slice(-1)[0]!.text!.should.equal('103 passed · 1 flagged');
  });

  it('without an interval (other nodes) every change is shown at once', () => {
    const { node, shown } = fakeNode();
    const s = new StatusCounter(node, ['received', 'duplicate'], []);
    s.add('received');
    s.add('duplicate');
    s.add('duplicate');
    shown.map((x) => x.text).should.eql(['ready', '1 received', '1 received · 1 duplicate', '1 received · 2 duplicate']);
  });

  it('a failure shows at once and the next success clears it at once', () => {
    const { node, shown } = fakeNode();
    const s = new StatusCounter(node, ['passed'], [], 10_000);
    s.add('passed');
    s.fail('D365 said no');
    shown.slice(-1).should.eql([{ fill: 'red', shape: 'ring', text: 'D365 said no' }]);
    s.add('passed');
    shown.slice(-1).should.eql([{ fill: 'green', shape: 'dot', text: '2 passed' }]);
    s.busy('working…');
    s.add('passed'); // blue → green: at once
    shown.slice(-1).should.eql([{ fill: 'green', shape: 'dot', text: '3 passed' }]);
  });

  it('a deferred update is dropped when the node closes', async () => {
    const { node, shown, close } = fakeNode();
    const s = new StatusCounter(node, ['passed'], [], 20);
    s.add('passed');
    s.add('passed');
    const before = shown.length;
    close();
    await sleep(50);
    shown.length.should.equal(before);
  });
});
