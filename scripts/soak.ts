/**
 * `npm run soak`: the reaper under load, from outside. A throwaway cluster holds the
 * catalog and many target databases; credentials with ttls of 5-120 s are issued and
 * re-issued for the whole run; `reap --watch` replicas (the real CLI) end them, one of
 * them SIGKILLed at random every --kill-every seconds and restarted; the cluster is
 * watched for roles outliving their expiry and held sessions are timed to their end.
 * Prints a table and a JSON report (see bench/README.md "Reaper soak"); exit 0 when the
 * report is clean, 1 when it shows a problem, 2 on bad usage. Everything it starts is
 * stopped and removed on exit and on Ctrl-C.
 */
import { buildWorld, chooseBinaries, type SoakWorld } from './soak/cluster';
import { Issuer } from './soak/issuer';
import { runReportScript } from './report-script';
import { parseSoakOptions, USAGE, type SoakOptions } from './soak/options';
import { Replicas } from './soak/replicas';
import { buildReport, reportTable, type SoakReport } from './soak/report';
import { catalogCounts, OUTLIVE_GRACE_SECONDS, RoleWatch } from './soak/role-watch';

function log(text: string): void {
  process.stderr.write(`soak: ${text}\n`);
}

/** Resolves after `ms`, or at once when `signal` aborts: the run's length, cut short by Ctrl-C. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

async function runSoak(options: SoakOptions, signal: AbortSignal): Promise<SoakReport> {
  const binaries = chooseBinaries(options.pgMajor);
  log(`starting PostgreSQL ${binaries.major} (${binaries.source}) with ${options.targets} target databases`);
  const world: SoakWorld = await buildWorld(binaries, options);
  const issuer = new Issuer(world.runtime, world.targets, options.sessionsPerTarget, options.maxTtlSeconds);
  const replicas = new Replicas(world.catalogUrl, world.catalogKey, options.pollSeconds);
  const roleWatch = new RoleWatch(world.cluster);
  let killer: Promise<void> = Promise.resolve();
  try {
    await roleWatch.start();
    replicas.start(options.replicas);
    issuer.start();
    signal.addEventListener('abort', () => issuer.freeze(), { once: true });
    const started = Date.now();
    log(`running for ${options.durationSeconds} s (Ctrl-C ends it early and still reports)`);
    const kills = options.killEverySeconds > 0 ? setInterval(() => {
            killer = killer.then(() => replicas.killOneAndRestart());
          }, options.killEverySeconds * 1000) : undefined;
    await sleep(options.durationSeconds * 1000, signal);
    clearInterval(kills);
    await killer;
    await issuer.stop();
    const elapsedSeconds = (Date.now() - started) / 1000;
    // The last reaps and session ends of credentials that expired just now: a grace, then count.
    await sleep((OUTLIVE_GRACE_SECONDS + 1) * 1000, signal);
    await issuer.closeSessions();
    await roleWatch.stop();
    await replicas.stopAll();
    return buildReport({
      options,
      postgres: `${binaries.major} (${binaries.source})`,
      elapsedSeconds,
      interrupted: signal.aborted,
      issuer: issuer.stats,
      replicas: replicas.stats,
      outlived: roleWatch.stats,
      graceSeconds: OUTLIVE_GRACE_SECONDS,
      // Null when a Ctrl-C in the terminal stopped the server too.
      catalog: await catalogCounts(world.cluster, world.catalogDb).catch(() => null),
    });
  } finally {
    await issuer.stop();
    await issuer.closeSessions();
    await roleWatch.stop();
    await replicas.stopAll();
    await world.runtime.close().catch(() => undefined);
    await world.cluster.stop();
  }
}

runReportScript({ name: 'soak', usage: USAGE, parse: parseSoakOptions, run: runSoak, table: reportTable });
