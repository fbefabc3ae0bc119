// A node:test reporter for test/repeat.js: one JSON line per failed test (its name, file and the
// names of the tests enclosing it), so that the runner can tell which tests failed in which run.
// Parents that failed only because a subtest did are left out: the subtest is the one to name.
export default async function* repeatReporter(source) {
  const enclosing = [];
  for await (const event of source) {
    if (event.type === 'test:start') {
      enclosing[event.data.nesting] = event.data.name;
      continue;
    }
    if (event.type !== 'test:fail') continue;
    const { name, nesting, file, details } = event.data;
    const error = details?.error;
    if (error?.failureType === 'subtestsFailed') continue;
    const cause = error?.cause ?? error;
    const text = String(cause?.message ?? cause ?? 'failed');
    const message = text.split('\n')[0].slice(0, 300);
    // The whole message too (a property test's seed and path are on its later lines), to replay the failure.
    const detail = text.slice(0, 8000);
    yield `${JSON.stringify({ name, file: file ?? null, path: enclosing.slice(0, nesting), message, detail })}\n`;
  }
}
