#!/usr/bin/env node
// Puts each node's editor .html, its locales and the root icons/ next to the compiled .js, where
// Node-RED's loader looks for them (icons are resolved relative to each registered node file).
'use strict';
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const src = path.join(root, 'nodes');
const out = path.join(root, 'dist', 'nodes');
fs.mkdirSync(out, { recursive: true });
for (const f of fs.readdirSync(src)) {
  if (f.endsWith('.html')) fs.copyFileSync(path.join(src, f), path.join(out, f));
}
for (const dir of ['locales']) {
  if (fs.existsSync(path.join(src, dir))) fs.cpSync(path.join(src, dir), path.join(out, dir), { recursive: true });
}
fs.cpSync(path.join(root, 'icons'), path.join(out, 'icons'), { recursive: true });
if (fs.existsSync(path.join(root, 'nodes', 'plugins'))) {
  for (const f of fs.readdirSync(path.join(root, 'nodes', 'plugins'))) {
    if (f.endsWith('.html')) {
      fs.mkdirSync(path.join(out, 'plugins'), { recursive: true });
      fs.copyFileSync(path.join(root, 'nodes', 'plugins', f), path.join(out, 'plugins', f));
    }
  }
}
