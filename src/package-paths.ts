/**
 * Where sandlog's own files are: the package's root directory, found from
 * this module's place. This module is `dist/package-paths.js`, or part of
 * the CLI bundle `dist/cli.bundle.cjs` (whose `import.meta.url` is the
 * bundle's own URL): both stand in `dist/`, so its parent is the root. Code
 * that needs a file of the package asks here, never its own
 * `import.meta.url`, which the bundle does not keep per module.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root directory (the one holding `dist/` and `package.json`). */
export const PACKAGE_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A path inside the package, from its root (`packagePath('dist', 'cli.cjs')`). */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
