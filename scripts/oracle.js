// Fetches the interop oracle — microsandbox's own engine: its `msb` CLI and Node binding, from the npm
// package @superradcompany/microsandbox-linux-x64-gnu at the pinned version — into .oracle/ (ignored
// by git), with `npm pack` and `tar`. Idempotent: a complete copy of the right version is kept.
// Usage: npm run oracle
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE = '@superradcompany/microsandbox-linux-x64-gnu';
const VERSION = '0.6.18';
const cache = join(dirname(fileURLToPath(import.meta.url)), '..', '.oracle');
const unpacked = join(cache, 'package');

function present() {
  try {
    const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8'));
    return (
      manifest.name === PACKAGE && manifest.version === VERSION &&
      existsSync(join(unpacked, 'bin', 'msb')) && existsSync(join(unpacked, 'microsandbox.linux-x64-gnu.node'))
    );
  } catch {
    return false;
  }
}

if (present()) {
  console.log(`oracle: ${PACKAGE}@${VERSION} already in ${unpacked}`);
} else {
  rmSync(cache, { recursive: true, force: true });
  mkdirSync(cache, { recursive: true });
  // `npm pack` downloads the tarball whatever this machine's platform: it is not installed, only unpacked.
  execFileSync('npm', ['pack', `${PACKAGE}@${VERSION}`, '--silent', '--pack-destination', cache], { stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(cache).find((name) => name.endsWith('.tgz'));
  if (tarball === undefined) throw new Error(`oracle: npm pack left no tarball in ${cache}`);
  execFileSync('tar', ['-xzf', join(cache, tarball), '-C', cache], { stdio: 'inherit' });
  rmSync(join(cache, tarball));
  if (!present()) throw new Error(`oracle: ${unpacked} is incomplete after unpacking`);
  console.log(`oracle: ${PACKAGE}@${VERSION} unpacked into ${unpacked}`);
}
