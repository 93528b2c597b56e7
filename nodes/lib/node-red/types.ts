import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';

/** Node-RED's send/done as passed to a 3-argument input handler. */
export type Send = (msg: NodeMessage | (NodeMessage | NodeMessage[] | null)[]) => void;
export type Done = (err?: Error) => void;
export type InputHandler = (msg: NodeMessageInFlow, send: Send, done: Done) => void;

/** Registers an input handler (synchronous or async) that always ends in done() or done(err), never an unhandled rejection. */
export function onInput(node: Node, handler: (msg: NodeMessageInFlow, send: Send) => Promise<void> | void,
  onError?: (err: Error) => void): void {
  node.on('input', inputHandler(handler, onError));
}

/** The handler onInput registers, for a node that routes its input to several of them.
 * A literal 3-parameter function: Node-RED counts handler.length to decide that done is used. */
export function inputHandler(handler: (msg: NodeMessageInFlow, send: Send) => Promise<void> | void,
  onError?: (err: Error) => void): InputHandler {
  return (msg: NodeMessageInFlow, send: Send, done: Done) => {
    let p: Promise<void> | void;
    try {
      p = handler(msg, send);
    } catch (e) {
      const err = toError(e);
      onError?.(err);
      done(err);
      return;
    }
    // A handler that finished synchronously is done now: no promise to allocate and wait a microtask for.
    if (!isThenable(p)) {
      done();
      return;
    }
    p.then(() => done(), (e: unknown) => {
      const err = toError(e);
      onError?.(err);
      done(err);
    });
  };
}

export function isThenable<T>(v: T | PromiseLike<T>): v is PromiseLike<T> {
  return typeof (v as { then?: unknown } | null | undefined)?.then === 'function';
}

/** A value now, or later: a warm cache answers now, and a check then costs no promise. */
export type Maybe<T> = T | Promise<T>;

/** `f` applied to `v`: at once when `v` is a value, after it when it is a promise. */
export const andThen = <T, U>(v: Maybe<T>, f: (t: T) => Maybe<U>): Maybe<U> => (isThenable(v) ? v.then(f) : f(v));

export function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
