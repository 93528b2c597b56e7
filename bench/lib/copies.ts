/**
 * Counts deep copies of messages while a callback runs: Node-RED's own RED.util.cloneMessage (the
 * runtime calls it through the shared util object when a node has several wires, or a node asks for
 * a copy) and the platform's structuredClone.
 */
export async function countCopies<T>(run: () => Promise<T>): Promise<{ result: T; cloneMessage: number; structuredClone: number }> {
  const util = (require('@node-red/util') as { util: { cloneMessage: (m: unknown) => unknown } }).util;
  const origClone = util.cloneMessage;
  const origStructured = globalThis.structuredClone;
  let cloneMessage = 0;
  let structured = 0;
  util.cloneMessage = (m: unknown) => { cloneMessage++; return origClone(m); };
  globalThis.structuredClone = ((v: unknown, o?: StructuredSerializeOptions) => { structured++; return origStructured(v, o); }) as typeof structuredClone;
  try {
    const result = await run();
    return { result, cloneMessage, structuredClone: structured };
  } finally {
    util.cloneMessage = origClone;
    globalThis.structuredClone = origStructured;
  }
}
