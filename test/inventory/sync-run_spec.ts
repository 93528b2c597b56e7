import 'should';
import { SharedRun } from '../../nodes/lib/inventory/sync-run';

// One report per trigger: who reports a shared sync run.
describe('SharedRun (inventory sync: timer and input messages share a run)', () => {
  /** A run that ends when the test says so; counts how many were started. */
  function gated() {
    let starts = 0;
    let finish!: (v: string) => void;
    let failWith!: (e: Error) => void;
    const shared = new SharedRun(() => {
      starts++;
      return new Promise<string>((resolve, reject) => { finish = resolve; failWith = reject; });
    });
    return { shared, starts: () => starts, finish: (v: string) => finish(v), fail: (e: Error) => failWith(e) };
  }
  const tickle = () => new Promise((r) => setImmediate(r));

  it('a tick joining a run an input message started reports nothing; the message gets the one report', async () => {
    const g = gated();
    const answered = g.shared.answer();
    const tick = g.shared.tick();
    await tickle();
    g.finish('run 1');
    (await answered).should.equal('run 1');
    (await tick === undefined).should.be.true();
    g.starts().should.equal(1);
  });

  it('a message joining a run a tick started is answered by it, and the tick then reports nothing', async () => {
    const g = gated();
    const tick = g.shared.tick();
    await tickle();
    const answered = g.shared.answer();
    g.finish('run 1');
    (await answered).should.equal('run 1');
    (await tick === undefined).should.be.true();
    g.starts().should.equal(1);
  });

  it('a tick alone reports its run; two messages on one run get one report each; after the end a new run starts', async () => {
    const g = gated();
    const tick = g.shared.tick();
    await tickle();
    g.finish('run 1');
    (await tick)!.should.eql({ result: 'run 1' });
    const a = g.shared.answer();
    const b = g.shared.answer();
    await tickle();
    g.finish('run 2');
    (await a).should.equal('run 2');
    (await b).should.equal('run 2');
    g.starts().should.equal(2);
  });

  it('a failure reaches the message that joined, not also the tick; a tick alone throws it', async () => {
    const g = gated();
    const tick = g.shared.tick();
    await tickle();
    const answered = g.shared.answer();
    g.fail(new Error('D365 down'));
    await answered.should.be.rejectedWith('D365 down');
    (await tick === undefined).should.be.true();
    const alone = g.shared.tick();
    await tickle();
    g.fail(new Error('still down'));
    await alone.should.be.rejectedWith('still down');
  });

  it('a start that throws at once is a rejected run, not a crash', async () => {
    const shared = new SharedRun<string>(() => { throw new Error('boom'); });
    await shared.answer().should.be.rejectedWith('boom');
    await shared.tick().should.be.rejectedWith('boom');
  });
});
