/** File checks for config validation. */
import { accessSync, constants } from 'node:fs';

/** A problem message when a file cannot be read (`cannot read "x" (no such file)`), else undefined. */
export function unreadableFile(path: string): string | undefined {
  try {
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `cannot read "${path}" (${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code ?? 'error'})`;
  }
}
