import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, redactCommandLine } from '../../src/util/redact.js';

const R = REDACTED;

// [input, expected]
const TABLE: [string, string][] = [
  // Flags with a value, spaced or with '='.
  ['deploy --token abc123 --env prod', `deploy --token ${R} --env prod`],
  ['deploy --token=abc123', `deploy --token=${R}`],
  ['psql --password=s3cr3t -h db', `psql --password=${R} -h db`],
  ['tool --password hunter2 --verbose', `tool --password ${R} --verbose`],
  ['gh auth --github-token ghp_x', `gh auth --github-token ${R}`],
  ['aws --secret-access-key AKIAxyz', `aws --secret-access-key ${R}`],
  ['cli --api-key "two words" next', `cli --api-key ${R} next`],
  ['cli -password x1', `cli -password ${R}`],
  // Flags that name a secret's file or turn prompting off keep their argument.
  ['vault --token-file /run/secrets/t', 'vault --token-file /run/secrets/t'],
  ['psql --no-password -h db', 'psql --no-password -h db'],
  // Authorization and other credential headers.
  ['curl -H Authorization: Bearer eyJhbGciOi.abc.def https://x', `curl -H Authorization: Bearer ${R} https://x`],
  ["curl -H 'Authorization: Basic dXNlcjpwYXNz' https://x", `curl -H 'Authorization: Basic ${R}' https://x`],
  ['curl -H "PRIVATE-TOKEN: glpat-123" https://gitlab', `curl -H "PRIVATE-TOKEN: ${R}" https://gitlab`],
  ['curl -H X-Api-Key: k123 https://x', `curl -H X-Api-Key: ${R} https://x`],
  // URL credentials: the user stays, the password goes.
  ['git clone https://user:pass@github.com/acme/repo.git', 'git clone https://user:***@github.com/acme/repo.git'],
  ['psql postgres://app:pw%40x@db:5432/app', 'psql postgres://app:***@db:5432/app'],
  ['curl https://pastebin.com/raw/abc', 'curl https://pastebin.com/raw/abc'],
  // curl -u user:password.
  ['curl -u admin:secret https://x', 'curl -u admin:*** https://x'],
  ['curl --user=admin:secret https://x', 'curl --user=admin:*** https://x'],
  // Environment-style assignments whose name says secret.
  ['env GITHUB_TOKEN=ghs_abc make', `env GITHUB_TOKEN=${R} make`],
  ['AWS_SECRET_ACCESS_KEY=abc aws s3 ls', `AWS_SECRET_ACCESS_KEY=${R} aws s3 ls`],
  ['sh -c DB_PASSWORD=x;run', `sh -c DB_PASSWORD=${R};run`],
  ['export NPM_API_KEY=abc', `export NPM_API_KEY=${R}`],
  ['run PRIVATE_KEY="a b c" x', `run PRIVATE_KEY=${R} x`],
  ['docker run --env=SLACK_TOKEN=xoxb-1 img', `docker run --env=SLACK_TOKEN=${R} img`],
  ['make PATH=/usr/bin DEBUG=1', 'make PATH=/usr/bin DEBUG=1'],
  // Program-specific -p / -a passwords; elsewhere -p is kept.
  ['mysql -u root -pS3cret db', `mysql -u root -p${R} db`],
  ['sshpass -p hunter2 ssh host', `sshpass -p ${R} ssh host`],
  ['redis-cli -h r -a pw123 ping', `redis-cli -h r -a ${R} ping`],
  ['mkdir -p /tmp/x', 'mkdir -p /tmp/x'],
  ['ssh -p 2222 host', 'ssh -p 2222 host'],
  // Long hex and base64 runs.
  ['verify 0123456789abcdef0123456789abcdef', `verify ${R}`],
  ['push ghp_0123456789abcdefghijABCDEFGHIJ012345', `push ${R}`],
  ['decode dGhpcyBpcyBhIHNlY3JldCB0b2tlbiB2YWx1ZQ==', `decode ${R}`],
  // Long paths and ordinary words are not tokens.
  ['python3 /usr/lib/python3.11/site-packages/pip/__main__.py install', 'python3 /usr/lib/python3.11/site-packages/pip/__main__.py install'],
  ['node /home/runner/work/my-repository-name/node_modules/.bin/jest', 'node /home/runner/work/my-repository-name/node_modules/.bin/jest'],
  ['echo abcdefghijklmnopqrstuvwxyzabcdefghij', 'echo abcdefghijklmnopqrstuvwxyzabcdefghij'],
  ['uuid 123e4567-e89b-12d3-a456-426614174000', 'uuid 123e4567-e89b-12d3-a456-426614174000'],
  ['', ''],
  ['ls -la', 'ls -la'],
];

for (const [input, expected] of TABLE) {
  test(`redactCommandLine(${JSON.stringify(input)})`, () => {
    assert.equal(redactCommandLine(input), expected);
  });
}

test('redaction is idempotent on every table row', () => {
  for (const [input] of TABLE) {
    const once = redactCommandLine(input);
    assert.equal(redactCommandLine(once), once, input);
  }
});

test('no secret from the table survives anywhere in the output', () => {
  const secrets = ['abc123', 's3cr3t', 'hunter2', 'dXNlcjpwYXNz', 'glpat-123', 'ghs_abc', 'S3cret', 'pw123', 'xoxb-1'];
  const all = TABLE.map(([i]) => redactCommandLine(i)).join('\n');
  for (const s of secrets) assert.ok(!all.includes(s), `${s} leaked`);
});

// Found by the fuzz suite (test/fuzz/config-redact.test.ts): unbounded name parts made these patterns
// quadratic, so one long argument stalled pastewatch for seconds (160 KB of `x-`: 22 s).
for (const [name, unit] of [['x-x-x-...', 'x-'], ['mysql-mysql-...', 'mysql-'], ['a_token a_token ...', 'a_token'], ['scheme-like runs', 'a-b.c+']] as const) {
  test(`regression: redact is linear on ${name}`, () => {
    const s = unit.repeat(Math.ceil(200_000 / unit.length));
    const t0 = performance.now();
    const out = redactCommandLine(s);
    const ms = performance.now() - t0;
    assert.ok(ms < 250, `${ms.toFixed(0)} ms for ${s.length} characters`);
    assert.equal(out.length > 0, true);
  });
}

test('regression: program passwords are still redacted after the linear rewrite', () => {
  assert.equal(redactCommandLine('mysql -h db -u root -pS3cret mydb | mysql -p other'), `mysql -h db -u root -p${R} mydb | mysql -p ${R}`);
  assert.equal(redactCommandLine('sshpass -p hunter2 ssh host; ls -p x'), `sshpass -p ${R} ssh host; ls -p x`);
});

test('redactUrl: URL credentials and secret query values (OpenTelemetry url.full convention)', async () => {
  const { redactUrl, urlForLog } = await import('../../src/util/redact.js');
  assert.equal(redactUrl('http://ci:hunter2@pastebin.com/api/api_post.php?api_dev_key=abc&format=json#x'), 'http://REDACTED:REDACTED@pastebin.com/api/api_post.php?api_dev_key=REDACTED&format=json#x');
  assert.equal(redactUrl('/upload?token=1&X-Goog-Signature=2&name=a.txt'), '/upload?token=REDACTED&X-Goog-Signature=REDACTED&name=a.txt');
  assert.equal(redactUrl('http://pastebin.com/raw/abc'), 'http://pastebin.com/raw/abc');
  assert.equal(redactUrl('pastebin.com:443'), 'pastebin.com:443');
  assert.equal(urlForLog('https://u:p@collector:4318/v1/logs?k=1'), 'https://collector:4318/v1/logs');
  assert.equal(urlForLog('https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX'), 'https://hooks.slack.com/…');
  assert.equal(urlForLog('not a url'), '<invalid url>');
});
