/**
 * The viewer's static files. They are a fixed table read once at start-up:
 * a request path is looked up in the table, never joined onto a directory,
 * so no request can reach another file and there is no directory listing.
 *
 * tsc does not copy non-TypeScript files, so the files are looked for next
 * to the compiled module first (`dist/server/web/`, for a build that copies
 * them) and then in the source tree (`src/server/web/`, from the package root).
 */
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ViewerMissingError } from '../errors.js';
import { packagePath } from '../package-paths.js';
import { PAGE_CSP, SECURITY_HEADERS } from './security.js';

/** One file the server hands out. */
export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
}

const FILES: ReadonlyArray<readonly [path: string, file: string, contentType: string]> = [
  ['/', 'index.html', 'text/html; charset=utf-8'],
  ...['app.js', 'state.js', 'api.js', 'ansi.js', 'render.js', 'list.js', 'histogram.js', 'view.js', 'controls.js'].map(
    (file) => [`/${file}`, file, 'text/javascript; charset=utf-8'] as const,
  ),
  ['/style.css', 'style.css', 'text/css; charset=utf-8'],
];

// The built copy, or the sources' (a checkout whose build did not copy them).
const CANDIDATE_DIRECTORIES = [packagePath('dist', 'server', 'web'), packagePath('src', 'server', 'web')];

/** The directory the viewer's files are read from. */
export function viewerDirectory(): string {
  for (const candidate of CANDIDATE_DIRECTORIES) {
    if (existsSync(join(candidate, 'index.html'))) return `${candidate}/`;
  }
  throw new ViewerMissingError([...CANDIDATE_DIRECTORIES]);
}

/** Reads the viewer's files: request path → file. */
export function loadViewer(directory: string = viewerDirectory()): ReadonlyMap<string, StaticFile> {
  return new Map(
    FILES.map(
      ([path, file, contentType]) => [path, { body: readFileSync(`${directory}${file}`), contentType }] as const,
    ),
  );
}

/** Headers of the viewer's files. The HTML of the page is the only response that runs anything: it alone gets a policy that allows its script. */
export const STATIC_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'cache-control': 'no-cache',
});

/** Sends one of the viewer's files (no body for HEAD); the method is already checked. */
export function sendStaticFile(request: IncomingMessage, response: ServerResponse, file: StaticFile): void {
  const headers: Record<string, string> = {
    ...STATIC_HEADERS,
    'content-type': file.contentType,
    'content-length': String(file.body.length),
  };
  if (file.contentType.startsWith('text/html')) headers['content-security-policy'] = PAGE_CSP;
  response.writeHead(200, headers);
  response.end(request.method === 'HEAD' ? undefined : file.body);
}
