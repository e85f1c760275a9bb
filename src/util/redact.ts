/**
 * Redaction of secrets in command lines and similar free text (Falco's proc.cmdline and alert output,
 * /proc/<pid>/cmdline in live capture). It errs on the side of hiding: a command line is context for a
 * detection, never its evidence, so losing an argument is cheaper than leaking a token.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

// A value as a shell shows it: double-quoted, single-quoted, or a run up to a space, quote or shell operator.
const VALUE = String.raw`(?:"[^"]*"|'[^']*'|[^\s'";&|)]+)`;

// scheme://user:password@ -> scheme://user:***@ (the user name stays: it says which account was used).
// The scheme is bounded ({0,31}) so the pattern stays linear on long runs of scheme characters.
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s:/@'"]*):([^\s@/'"]+)@/gi;

// Authorization / Proxy-Authorization headers, with or without a scheme word.
const AUTH_HEADER = /\b((?:proxy-)?authorization\s*[:=]\s*)((?:bearer|basic|token|bot|digest|negotiate)\s+)?([^\s'"]+)/gi;

// Other headers whose value is a credential (X-Auth-Token, PRIVATE-TOKEN, X-Api-Key, Cookie ...).
// The name part is bounded ({0,64}): an unbounded [a-z-]* made this regex quadratic, so a workload could stall
// pastewatch for seconds with a long `x-x-x-...` argument (regression test: "redact is linear on x-x-x-...").
const SECRET_HEADER = /\b((?:x-)?[a-z-]{0,64}(?:token|api-?key|secret|cookie)\s*:\s*)([^\s'"]+)/gi;

// --token x, --token=x, --password=x, --api-key x, -password x; the secret word must end the flag name, so
// --token-file /path keeps its path.
const SECRET_FLAG = new RegExp(
  String.raw`(^|\s)(--?[a-z0-9_-]{0,64}(?:token|password|passwd|passphrase|secret|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|auth)(?:=|\s+))(?!-)(` + VALUE + ')',
  'gi',
);

// KEY=secret where KEY names a secret (GITHUB_TOKEN=..., AWS_SECRET_ACCESS_KEY=..., DB_PASSWORD=...). Name parts
// are bounded like the header names above, to keep every pattern linear in the input length.
const SECRET_ENV = new RegExp(
  String.raw`(^|[\s;&|('"=,])((?:[a-z_][a-z0-9_]{0,127})?(?:token|secret|password|passwd|api_?key|access_key|private_key)[a-z0-9_]{0,127}=)(` + VALUE + ')',
  'gi',
);

// curl -u user:password / --user user:password.
const CURL_USER = /(^|\s)(-u\s*|--user[\s=]+)(['"]?)([^\s:'"]+):([^\s'"]+)/g;

// mysql -pSECRET / -p SECRET, sshpass -p SECRET, redis-cli -a SECRET: only these programs, as -p means
// a port or "parents" elsewhere.
// The program names are found first and each command (up to the next | ; &) is searched once: a single regex
// with a lazy "anything up to -p" part rescanned the rest of the line for every program name, quadratic on a
// command line repeating "mysql" (regression test: "redact is linear on mysql-mysql-...").
const PROGRAM = /\b(?:mysql[a-z]*|mariadb[a-z-]*|sshpass|redis-cli)\b/gi;
const PROGRAM_FLAG = /(\s)(-[pa])(\s*)([^\s'"-][^\s'"]*)/gi;

function redactProgramPasswords(s: string): string {
  PROGRAM.lastIndex = 0;
  let out = '';
  let last = 0;
  let m: RegExpExecArray | null;
  while ((m = PROGRAM.exec(s)) !== null) {
    const start = m.index + m[0].length;
    let end = start;
    while (end < s.length) {
      const c = s.charCodeAt(end);
      if (c === 124 || c === 59 || c === 38) break; // | ; &
      end++;
    }
    out += s.slice(last, start) + s.slice(start, end).replace(PROGRAM_FLAG, (_m, sp: string, flag: string, sp2: string) => `${sp}${flag}${sp2}${REDACTED}`);
    last = end;
    PROGRAM.lastIndex = end;
  }
  return last === 0 ? s : out + s.slice(last);
}

// Long hex runs (keys, digests used as secrets) and long base64/base64url runs (tokens, JWT parts).
const LONG_HEX = /\b[0-9a-f]{32,}\b/gi;
const LONG_B64 = /[A-Za-z0-9+/_-]{32,}={0,2}/g;

function looksLikeToken(run: string): boolean {
  // A path (/usr/lib/python3.11/site-packages) is long but made of short words separated by slashes.
  if (run.startsWith('/') || run.includes('//')) return false;
  const longestSegment = run.split('/').reduce((m, s) => Math.max(m, s.length), 0);
  if (longestSegment < 24) return false;
  return /[A-Z]/.test(run) && /[a-z]/.test(run) && /[0-9]/.test(run);
}

/**
 * Hides secrets in a command line: flag values (--token x, --password=x), Authorization headers,
 * URL credentials (https://user:***@), KEY=value where KEY names a token/secret/password/key, curl -u
 * passwords, mysql/sshpass -p passwords, and long hex or base64 runs (>= 32 characters).
 */
export function redactCommandLine(s: string): string {
  if (s === '') return s;
  let out = s.replace(URL_CREDENTIALS, (_m, scheme: string, user: string) => `${scheme}${user}:***@`);
  out = out.replace(AUTH_HEADER, (_m, head: string, scheme: string | undefined) => `${head}${scheme ?? ''}${REDACTED}`);
  out = out.replace(SECRET_HEADER, (_m, head: string) => `${head}${REDACTED}`);
  out = out.replace(CURL_USER, (_m, pre: string, flag: string, q: string, user: string) => `${pre}${flag}${q}${user}:***`);
  out = redactProgramPasswords(out);
  out = out.replace(SECRET_FLAG, (_m, pre: string, flag: string) => `${pre}${flag}${REDACTED}`);
  out = out.replace(SECRET_ENV, (_m, pre: string, key: string) => `${pre}${key}${REDACTED}`);
  out = out.replace(LONG_HEX, REDACTED);
  out = out.replace(LONG_B64, (run) => (looksLikeToken(run) ? REDACTED : run));
  return out;
}

/** What URL credentials and secret query values become (OpenTelemetry's url.full convention). */
export const URL_REDACTED = 'REDACTED';

// Query parameters whose value is a credential: OpenTelemetry's list (AWSAccessKeyId, Signature, sig,
// X-Goog-Signature) and anything naming a token, key, secret, password or session.
const SECRET_QUERY_NAME = /(?:token|key|secret|passw|pwd|sig|signature|auth|credential|session|code)/i;

/**
 * Redacts a URL or HTTP request target for export (url.full, http target): `user:password@` becomes
 * `REDACTED:REDACTED@` and the values of secret-looking query parameters become `REDACTED`. Anything that is
 * not an absolute URL keeps its shape; only its query is treated. Never throws.
 */
export function redactUrl(target: string): string {
  let out = target;
  // Userinfo of an absolute URL: scheme://userinfo@host — the userinfo ends at the last @ before the path.
  const m = /^([a-z][a-z0-9+.-]{0,31}:\/\/)([^/?#]*)@/i.exec(out);
  if (m) out = `${m[1]}${URL_REDACTED}:${URL_REDACTED}@${out.slice(m[0].length)}`;
  const q = out.indexOf('?');
  if (q < 0) return out;
  const hash = out.indexOf('#', q);
  const query = out.slice(q + 1, hash < 0 ? undefined : hash);
  const parts = query.split('&').map((kv) => {
    const eq = kv.indexOf('=');
    if (eq <= 0) return kv;
    return SECRET_QUERY_NAME.test(kv.slice(0, eq)) ? `${kv.slice(0, eq)}=${URL_REDACTED}` : kv;
  });
  return `${out.slice(0, q + 1)}${parts.join('&')}${hash < 0 ? '' : out.slice(hash)}`;
}

/**
 * A URL as pastewatch writes it into its own log lines and health messages (exporter endpoints): scheme, host
 * and port, the path only when it looks like an API path, never credentials, query or long opaque path
 * segments (a Slack or generic webhook URL carries its secret in the path).
 */
export function urlForLog(url: string): string {
  try {
    const u = new URL(url);
    const segs = u.pathname.split('/').filter((s) => s !== '');
    const opaque = segs.some((s) => s.length > 12 || (s.length >= 8 && /[0-9]/.test(s) && /[a-z]/i.test(s)));
    return `${u.protocol}//${u.host}${segs.length === 0 ? '' : opaque ? '/…' : u.pathname}`;
  } catch {
    return '<invalid url>';
  }
}
