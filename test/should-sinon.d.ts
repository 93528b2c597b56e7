// Types for the should-sinon assertions the test helper installs on its spied Node methods.
import 'should';

declare module 'should' {
  interface Assertion {
    called(): this;
    calledOnce(): this;
    calledWith(...args: unknown[]): this;
    calledWithMatch(...args: unknown[]): this;
    callCount(n: number): this;
    alwaysCalledWithMatch(...args: unknown[]): this;
  }
}
