// Loads a node's editor definition (the registerType object of its .html) in a vm with a stub RED and the
// shared editor helpers, so the dialog's validators can be tested without a browser.
import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import vm from 'vm';

export interface EditorDef {
  defaults: Record<string, { value: unknown; validate?: (this: unknown, v: unknown, opt?: unknown) => unknown }>;
  outputs: number;
  outputLabels: string[];
  icon: string;
}

export function loadEditorDef(type: string): EditorDef {
  const html = readFileSync(path.join(__dirname, '..', '..', 'nodes', `${type}.html`), 'utf8');
  const js = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)![1]!;
  const window: Record<string, unknown> = {};
  vm.runInNewContext(readFileSync(path.join(__dirname, '..', '..', 'resources', 'shopify-d365-editor.js'), 'utf8'), { window });
  let def: any;
  const RED = {
    nodes: { registerType: (t: string, d: unknown) => { t.should.equal(type); def = d; } },
    validators: { regex: (re: RegExp) => (v: unknown, _opt?: unknown) => re.test(String(v)) },
  };
  vm.runInNewContext(js, { RED, window, $: () => { throw new Error('no DOM'); } });
  // Values made in the vm have its own Array/Object prototypes (no `should` getter): bring them over.
  return { ...def, outputLabels: Array.from(def.outputLabels) };
}


/**
 * Every validator's complaint for a node's settings, as "prop: message", read the way Node-RED 4's
 * validateNodeProperty reads it: a message string counts only from a validator declaring (v, opt); from a
 * one-parameter validator it is coerced to true ("valid"), so such a validator's complaints vanish here too.
 */
export function editorErrors(def: EditorDef, node: Record<string, unknown>): string[] {
  return Object.entries(def.defaults).flatMap(([k, d]) => {
    if (!d.validate) return [];
    const r = d.validate.call(node, node[k], {});
    const taken = (d.validate.length === 2 && typeof r === 'string') || Array.isArray(r) ? r : !!r;
    return taken === true ? [] : [`${k}: ${Array.isArray(taken) ? Array.from(taken).join('; ') : String(taken)}`];
  });
}

export const editorDefaults = (def: EditorDef): Record<string, unknown> =>
  Object.fromEntries(Object.entries(def.defaults).map(([k, d]) => [k, JSON.parse(JSON.stringify(d.value))]));
