import should from 'should';
import { backoffDelay, parseRetryAfter } from '../../nodes/lib/http/backoff';
import { clip, redact } from '../../nodes/lib/http/redact';
import { Semaphore } from '../../nodes/lib/http/semaphore';
import { describeTransportError } from '../../nodes/lib/http/transport';

describe('http utilities', () => {
  it('parses Retry-After as seconds or HTTP date', () => {
    should(parseRetryAfter('2')).equal(2000);
    should(parseRetryAfter('2.0')).equal(2000);
    should(parseRetryAfter(['0.5'])).equal(500);
    const now = Date.parse('Wed, 21 Oct 2026 07:28:00 GMT');
    should(parseRetryAfter('Wed, 21 Oct 2026 07:28:30 GMT', now)).equal(30_000);
    should(parseRetryAfter('Wed, 21 Oct 2026 07:27:00 GMT', now)).equal(0);
    (parseRetryAfter(undefined) === undefined).should.be.true();
    (parseRetryAfter('soon') === undefined).should.be.true();
    (parseRetryAfter('-1') === undefined).should.be.true();
  });

  it('backs off exponentially with jitter in the upper half, capped', () => {
    backoffDelay(0, 100, 10_000, () => 0).should.equal(50);
    backoffDelay(0, 100, 10_000, () => 1).should.equal(100);
    backoffDelay(3, 100, 10_000, () => 0.5).should.equal(600);
    backoffDelay(20, 100, 10_000, () => 1).should.equal(10_000);
  });

  it('redacts secrets in plain and URL-encoded form and clips long text', () => {
    redact('token a+b/c= and a%2Bb%2Fc%3D', ['a+b/c=']).should.equal('token *** and ***');
    redact('short ab stays', ['ab']).should.equal('short ab stays');
    clip('x'.repeat(10), 5).should.equal('xxxx…');
  });

  it('classifies transport failures by whether the server may have seen the request', () => {
    describeTransportError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })).maybeProcessed.should.be.false();
    describeTransportError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).should.eql({ code: 'ECONNRESET', message: 'network error (ECONNRESET)', maybeProcessed: true });
    describeTransportError('weird').code.should.equal('ENETWORK');
  });

  it('semaphore hands slots over in order and never exceeds its limit', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    let active = 0;
    let peak = 0;
    await Promise.all([1, 2, 3, 4, 5].map((i) => s.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, 5));
      order.push(i);
      active--;
    })));
    peak.should.equal(2);
    s.peakInFlight.should.equal(2);
    s.inFlight.should.equal(0);
    order.should.eql([1, 2, 3, 4, 5]);
    (() => new Semaphore(0)).should.throw(/positive integer/);
  });
});
