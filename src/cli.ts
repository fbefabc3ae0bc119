/**
 * `node dist/cli.js`, as the executable was called before it became
 * CommonJS: runs it (src/cli.cts). The package's `bin` is dist/cli.cjs,
 * which starts ~20 ms sooner.
 */
import './cli.cjs';
