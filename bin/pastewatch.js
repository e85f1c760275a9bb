#!/usr/bin/env node
// Entry point: runs the compiled CLI (npm install builds dist/ through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const cli = new URL('../dist/src/cli.js', import.meta.url);
if (!existsSync(fileURLToPath(cli))) {
  process.stderr.write('pastewatch: dist/ is missing; run `npm install` (or `npm run build`) in the repository first\n');
  process.exit(2);
}
const { main } = await import(cli.href);
process.exitCode = await main(process.argv.slice(2));
// Everything was drained and flushed by now; a library handle left open must not keep the process alive.
setTimeout(() => process.exit(), 1500).unref();
