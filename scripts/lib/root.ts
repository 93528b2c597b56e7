import { existsSync, readFileSync } from 'fs';
import path from 'path';

/** The package root (the folder of this package's package.json), from dist/scripts or from the sources. */
export function packageRoot(from = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const pj = path.join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'node-red-contrib-shopify-d365') return dir;
    if (path.dirname(dir) === dir) throw new Error(`package root not found above ${from}`);
  }
}
