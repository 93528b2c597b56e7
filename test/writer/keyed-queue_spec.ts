import 'should';
import { KeyedQueue } from '../../nodes/lib/writer/keyed-queue';

const tick = () => new Promise((r) => setImmediate(r));

describe('KeyedQueue', () => {
  it('runs tasks of one key in order, other keys alongside; a failure does not stop the next task; no keys left behind', async () => {
    const q = new KeyedQueue();
    const log: string[] = [];
    const task = (name: string, fail = false) => async () => {
      log.push(`${name} start`);
      await tick(); await tick();
      log.push(`${name} end`);
      if (fail) throw new Error(name);
      return name;
    };
    const a1 = q.run('a', task('a1', true));
    const a2 = q.run('a', task('a2'));
    const b1 = q.run('b', task('b1'));
    await a1.should.be.rejectedWith('a1');
    (await a2).should.equal('a2');
    (await b1).should.equal('b1');
    log.indexOf('a1 end').should.be.below(log.indexOf('a2 start'));
    log.indexOf('b1 start').should.be.below(log.indexOf('a1 end'));
    await tick();
    q.size.should.equal(0);
  });
});
