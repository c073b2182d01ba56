// A node:test reporter that prints, once the run ends, each test file's wall time (its process,
// from start to end) and its passed and failed top-level tests, longest first. The integration
// scripts run it beside the TAP reporter and print its first lines: where CI's minutes go.
import path from 'node:path';

export default async function* fileTimes(source) {
  const files = new Map();
  const get = (file) => {
    let f = files.get(file);
    if (!f) files.set(file, (f = { ms: 0, pass: 0, fail: 0 }));
    return f;
  };
  for await (const event of source) {
    const d = event.data;
    if (!d || !d.file || d.nesting !== 0) continue;
    const f = get(d.file);
    // The file's own test (named by its path) completes with its process's wall time.
    if (d.name === d.file) {
      if (event.type === 'test:complete' && d.details) f.ms = d.details.duration_ms;
      continue;
    }
    if (event.type === 'test:pass') f.pass++;
    if (event.type === 'test:fail') f.fail++;
  }
  const rows = [...files.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [file, f] of rows) yield `${(f.ms / 1000).toFixed(1)} ${path.basename(file)} ${f.pass} ${f.fail}\n`;
}
