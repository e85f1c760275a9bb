/**
 * A minimal glob for capture paths: `*` and `?` (and `[abc]` classes) in the last path segment only,
 * which is what `captures/*.pcap` needs; matches are regular files, sorted by name.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PastewatchError } from '../../util/errors.js';

/** True when the path contains glob characters. */
export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

/** Turns one path segment pattern into an anchored RegExp. */
export function segmentPattern(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close < 0) re += '\\[';
      else {
        const body = pattern.slice(i + 1, close).replace(/\\/g, '\\\\');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** A problem with a glob pattern itself (wildcards outside the last segment), or undefined. */
export function globProblem(path: string): string | undefined {
  if (hasWildcard(dirname(path))) return `wildcards are only supported in the file name, not in directories: ${path}`;
  return undefined;
}

/**
 * Expands a path: a plain path is returned as is; a pattern lists the matching regular files of its
 * directory in name order. Throws INPUT_NOT_FOUND when the directory is missing or nothing matches.
 */
export function expandPath(path: string): string[] {
  if (!hasWildcard(path)) return [path];
  const problem = globProblem(path);
  if (problem) throw new PastewatchError('CONFIG_INVALID', problem);
  const dir = dirname(path);
  const re = segmentPattern(basename(path));
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new PastewatchError('INPUT_NOT_FOUND', `${path}: cannot list directory ${dir} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
  }
  const out = names
    .filter((n) => re.test(n) && !n.startsWith('.'))
    .map((n) => (dir === '.' && !path.startsWith('./') ? n : join(dir, n)))
    .filter((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    })
    .sort();
  if (out.length === 0) throw new PastewatchError('INPUT_NOT_FOUND', `${path}: no file matches this pattern`);
  return out;
}
