/** URL checks for config validation. */

/** A problem message when text is not an http(s) URL, else undefined. */
export function httpUrlProblem(text: string): string | undefined {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return `must be an http:// or https:// URL, got "${text}"`;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return `must be an http:// or https:// URL, got "${text}" (scheme ${u.protocol})`;
  return undefined;
}
