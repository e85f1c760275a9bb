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
const URL_CREDENTIALS = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s:/@'"]*):([^\s@/'"]+)@/gi;

// Authorization / Proxy-Authorization headers, with or without a scheme word.
const AUTH_HEADER = /\b((?:proxy-)?authorization\s*[:=]\s*)((?:bearer|basic|token|bot|digest|negotiate)\s+)?([^\s'"]+)/gi;

// Other headers whose value is a credential (X-Auth-Token, PRIVATE-TOKEN, X-Api-Key, Cookie ...).
const SECRET_HEADER = /\b((?:x-)?[a-z-]*(?:token|api-?key|secret|cookie)\s*:\s*)([^\s'"]+)/gi;

// --token x, --token=x, --password=x, --api-key x, -password x; the secret word must end the flag name, so
// --token-file /path keeps its path.
const SECRET_FLAG = new RegExp(
  String.raw`(^|\s)(--?[a-z0-9_-]*(?:token|password|passwd|passphrase|secret|api[-_]?key|access[-_]?key|private[-_]?key|credentials?|auth)(?:=|\s+))(?!-)(` + VALUE + ')',
  'gi',
);

// KEY=secret where KEY names a secret (GITHUB_TOKEN=..., AWS_SECRET_ACCESS_KEY=..., DB_PASSWORD=...).
const SECRET_ENV = new RegExp(
  String.raw`(^|[\s;&|('"=,])((?:[a-z_][a-z0-9_]*)?(?:token|secret|password|passwd|api_?key|access_key|private_key)[a-z0-9_]*=)(` + VALUE + ')',
  'gi',
);

// curl -u user:password / --user user:password.
const CURL_USER = /(^|\s)(-u\s*|--user[\s=]+)(['"]?)([^\s:'"]+):([^\s'"]+)/g;

// mysql -pSECRET / -p SECRET, sshpass -p SECRET, redis-cli -a SECRET: only these programs, as -p means
// a port or "parents" elsewhere.
const PROGRAM_PASSWORD = /\b(mysql[a-z]*|mariadb[a-z-]*|sshpass|redis-cli)\b([^|;&]*?\s)(-[pa])(\s*)([^\s'"-][^\s'"]*)/gi;

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
  out = out.replace(PROGRAM_PASSWORD, (_m, prog: string, mid: string, flag: string, sp: string) => `${prog}${mid}${flag}${sp}${REDACTED}`);
  out = out.replace(SECRET_FLAG, (_m, pre: string, flag: string) => `${pre}${flag}${REDACTED}`);
  out = out.replace(SECRET_ENV, (_m, pre: string, key: string) => `${pre}${key}${REDACTED}`);
  out = out.replace(LONG_HEX, REDACTED);
  out = out.replace(LONG_B64, (run) => (looksLikeToken(run) ? REDACTED : run));
  return out;
}
