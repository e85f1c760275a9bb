/** Helpers to turn zod issues into config problems with friendly messages. */
import { z } from 'zod';
import type { Problem } from './problems.js';

/** Unwraps default/optional/nullable wrappers to reach an object schema, if any. */
function unwrap(schema: z.ZodType): z.ZodType {
  let s: z.ZodType = schema;
  for (let i = 0; i < 10; i++) {
    if (s instanceof z.ZodDefault || s instanceof z.ZodOptional || s instanceof z.ZodNullable || s instanceof z.ZodPrefault) {
      s = (s as unknown as { unwrap(): z.ZodType }).unwrap();
    } else break;
  }
  return s;
}

/** Keys an object schema accepts at a path inside it (for "did you mean" hints), or undefined. */
export function knownKeysAt(schema: z.ZodType, path: (string | number)[]): string[] | undefined {
  let s = unwrap(schema);
  for (const seg of path) {
    if (s instanceof z.ZodObject && typeof seg === 'string') s = unwrap(s.shape[seg] as z.ZodType);
    else if (s instanceof z.ZodArray && typeof seg === 'number') s = unwrap(s.element as z.ZodType);
    else if (s instanceof z.ZodRecord && typeof seg === 'string') s = unwrap(s.valueType as z.ZodType);
    else return undefined;
    if (!s) return undefined;
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : undefined;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The closest candidate to a misspelt word, when it is close enough to be a plausible typo. */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = distance(word.toLowerCase(), c.toLowerCase());
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Validates a value against a schema; returns the parsed value or problems under `base`. */
export function parseWithSchema<T>(schema: z.ZodType<T>, value: unknown, base: (string | number)[]): { value?: T; problems: Problem[] } {
  const r = schema.safeParse(value ?? {});
  if (r.success) return { value: r.data, problems: [] };
  const problems: Problem[] = [];
  for (const issue of r.error.issues) {
    const path = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(schema, path) ?? [];
      for (const key of issue.keys) {
        const hint = suggest(key, known);
        problems.push({
          path: [...base, ...path, key],
          message: `unknown key${hint ? ` (did you mean "${hint}"?)` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`,
        });
      }
      continue;
    }
    problems.push({ path: [...base, ...path], message: issue.message });
  }
  return { problems };
}
