// Loaded into each plugin process (NODE_OPTIONS=--import) by `npm run bench -- --profile DIR`: Node 20
// refuses --cpu-prof in NODE_OPTIONS, so the CPU profile is taken through the inspector;
// the peak RSS is written beside it. Output goes to ADAPTIVE_BENCH_PROFILE_DIR.
import fs from 'node:fs';
import inspector from 'node:inspector';
import path from 'node:path';
import process from 'node:process';

const dir = process.env.ADAPTIVE_BENCH_PROFILE_DIR ?? '.';
const session = new inspector.Session();
session.connect();
session.post('Profiler.enable', () => session.post('Profiler.start'));

function finish() {
  // The in-process session answers synchronously, so this completes inside 'exit'.
  session.post('Profiler.stop', (err, result) => {
    const base = path.join(dir, `plugin-${Date.now()}-${process.pid}`);
    if (!err && result) fs.writeFileSync(`${base}.cpuprofile`, JSON.stringify(result.profile));
    fs.writeFileSync(`${base}.rss`, `${process.resourceUsage().maxRSS * 1024}\n`);
  });
}
process.on('exit', finish);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    finish();
    process.exit(0);
  });
}
