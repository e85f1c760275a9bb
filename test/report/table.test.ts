import { test } from 'node:test';
import assert from 'node:assert/strict';
import { printable, renderTable } from '../../src/report/table.js';

test('regression: terminal escapes in a detected name are shown as \\xNN, never sent to the terminal', () => {
  // Found in the security review: a DNS name may hold any byte, and `\x1b[2J.pastebin.com` is a paste name.
  const out = renderTable(['NAME', 'N'], [['\x1b[2Jx.pastebin.com\r', '1']]);
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f]/.test(out), JSON.stringify(out));
  assert.match(out, /\\x1b\[2Jx\.pastebin\.com\\x0d/);
  assert.equal(printable('pastebin.com'), 'pastebin.com');
  assert.equal(printable('a\u0085b'), 'a\\x85b');
});
