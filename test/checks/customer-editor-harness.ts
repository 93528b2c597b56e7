// Loads a node's editor definition (the registerType object of its .html) in a vm with a stub RED and the
// shared editor helpers, so the dialog's validators can be tested without a browser.
import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import vm from 'vm';

export interface EditorDef {
  defaults: Record<string, { value: unknown; validate?: (this: unknown, v: unknown) => unknown }>;
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
    validators: { regex: (re: RegExp) => (v: unknown) => re.test(String(v)) },
  };
  vm.runInNewContext(js, { RED, window, $: () => { throw new Error('no DOM'); } });
  // Values made in the vm have its own Array/Object prototypes (no `should` getter): bring them over.
  return { ...def, outputLabels: Array.from(def.outputLabels) };
}


/** Every validator's complaint for a node's settings, as "prop: message". */
export function editorErrors(def: EditorDef, node: Record<string, unknown>): string[] {
  return Object.entries(def.defaults).flatMap(([k, d]) => {
    const r = d.validate ? d.validate.call(node, node[k]) : true;
    return r === true ? [] : [`${k}: ${Array.isArray(r) ? Array.from(r).join('; ') : String(r)}`];
  });
}

export const editorDefaults = (def: EditorDef): Record<string, unknown> =>
  Object.fromEntries(Object.entries(def.defaults).map(([k, d]) => [k, JSON.parse(JSON.stringify(d.value))]));
