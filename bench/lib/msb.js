// Where microsandbox's own engine (the oracle of the interop suite) is on this
// machine, for the benchmarks that run it as a peer: `bin/msb` (the Rust CLI)
// and the Node binding `microsandbox.linux-x64-gnu.node` of the npm package
// `@superradcompany/microsandbox-linux-x64-gnu`. Looked up in order:
// SANDLOG_MSB_DIR (the package directory, or a cache directory holding
// `package/`), the repository's `.oracle/package`, then /tmp/msbpkg/package.
// Absent (or not linux-x64) is not an error: the scenario skips the peer and
// says so in one line.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT } from './common.js';

const BINDING = 'microsandbox.linux-x64-gnu.node';

function candidates() {
  const list = [];
  const override = process.env.SANDLOG_MSB_DIR;
  if (override !== undefined && override !== '') list.push(override, join(override, 'package'));
  list.push(join(ROOT, '.oracle', 'package'), '/tmp/msbpkg/package');
  return list;
}

/**
 * `{ dir, bin, binding, version }` of the first package found, or
 * `{ missing: 'why' }`.
 */
export function locateMsb() {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    return {
      missing: `msb peer skipped: microsandbox's native package is linux-x64 only (this is ${process.platform}-${process.arch})`,
    };
  for (const dir of candidates()) {
    const bin = join(dir, 'bin', 'msb');
    if (!existsSync(bin)) continue;
    let version = 'unknown';
    try {
      version = execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch {
      continue;
    }
    const binding = join(dir, BINDING);
    return { dir, bin, binding: existsSync(binding) ? binding : undefined, version };
  }
  return { missing: 'msb peer skipped: no microsandbox package (set SANDLOG_MSB_DIR, or fetch it into .oracle/)' };
}

/**
 * Loads the binding and makes sandbox `name` known to it under `home` (the
 * binding looks sandboxes up in `$MSB_HOME/db/msb.db`: the first `Sandbox.get`
 * creates the database, a row makes the name known; reading logs needs no VM).
 * MSB_HOME must already be `home` in this process's environment.
 */
export async function openMsbSandbox(bindingPath, home, name) {
  const require = createRequire(import.meta.url);
  const binding = require(bindingPath);
  try {
    return await binding.Sandbox.get(name);
  } catch {
    // not known yet: the call created the database
  }
  const sql = `INSERT INTO sandbox(name,config,status,created_at,updated_at) VALUES('${name.replace(/'/g, "''")}','{}','Stopped',datetime('now'),datetime('now'))`;
  execFileSync('sqlite3', [join(home, 'db', 'msb.db'), sql], { stdio: ['ignore', 'ignore', 'pipe'] });
  return binding.Sandbox.get(name);
}
