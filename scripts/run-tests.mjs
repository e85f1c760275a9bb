#!/usr/bin/env node
// Runs every test/**/*.test.ts with node's built-in test runner through tsx.
// Node 20's --test takes file paths (globs arrived in 21), so we list them here.
// Usage: node scripts/run-tests.mjs [substring-filter ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const filters = process.argv.slice(2);
const files = [];
(function walk(dir) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') continue;
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts') && (filters.length === 0 || filters.some((f) => p.includes(f)))) files.push(p);
  }
})('test');
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || 'test/**/*.test.ts'}`);
  process.exit(1);
}
const args = ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files];
const r = spawnSync(process.execPath, args, { stdio: 'inherit', env: { ...process.env, PASTEWATCH_TEST: '1' } });
process.exit(r.status ?? 1);
