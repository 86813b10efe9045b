/**
 * `npm run soak` in small: two targets, three members each, ttls of 5-8 s, two `reap
 * --watch` replicas with one killed every 5 s, for 15 s. Keeps the script from rotting:
 * it runs, its report has every field, replicas were killed and restarted, credentials
 * were issued and reaped, held sessions ended, and no role outlived its expiry by more
 * than 2 s. (The full soak, 10 minutes at scale, is run by hand: bench/README.md.)
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SoakReport } from '../../scripts/soak/report';
import { scratchDir } from '../fixtures/adaptive';
import { eachPostgres } from '../fixtures/postgres';
import { runRepoScript } from './run-script';



const NUMBER = expect.any(Number) as number;
const latency = { count: NUMBER, p50: NUMBER, p99: NUMBER, max: NUMBER };

describe.each(eachPostgres())('$name', ({ binaries }) => {
  const scratch = scratchDir('adaptive-soak-');
  afterAll(() => scratch.remove());

  it('runs, reports every field, and no role outlives its expiry by more than 2 s', async () => {
    const jsonFile = path.join(scratch.dir, `soak-${binaries.major}.json`);
    const args = ['--duration', '15', '--targets', '2', '--members', '3', '--replicas', '2', '--kill-every', '5', '--max-ttl', '8', '--pg', String(binaries.major), '--json', jsonFile];
    const run = await runRepoScript('scripts/soak.ts', args);
    // 0: a clean report (1 would be a report that shows a problem).
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(existsSync(jsonFile), run.stderr).toBe(true);
    const report = JSON.parse(readFileSync(jsonFile, 'utf8')) as SoakReport;
    expect(run.stdout).toContain(JSON.stringify(report, null, 2));
    expect(run.stdout).toMatch(/^outlived > 2 s +0 roles/m);

    expect(report).toEqual({
      ok: true,
      problems: [],
      postgres: `${binaries.major} (${binaries.source})`,
      options: { durationSeconds: 15, replicas: 2, targets: 2, members: 3, killEverySeconds: 5, maxTtlSeconds: 8, sessionsPerTarget: 3, pgMajor: binaries.major, pollSeconds: undefined },
      elapsedSeconds: NUMBER,
      interrupted: false,
      credentials: {
        issued: NUMBER,
        issueErrors: 0,
        reapedByReplicas: NUMBER,
        // Replicas hold disjoint leases, and a role another replica revoked first is skipped.
        reapedTwice: 0,
        revokedInCatalog: NUMBER,
        revokedExpiredInCatalog: NUMBER,
      },
      sessions: { opened: NUMBER, openErrors: 0, ended: NUMBER, stillOpenPastExpiry: 0 },
      latencySeconds: latency,
      replicaLatencySeconds: latency,
      outlived: { graceSeconds: 2, count: 0, worstSeconds: null, worstRole: null, polls: NUMBER, pollErrors: 0 },
      replicas: { count: 2, kills: NUMBER, restarts: NUMBER, unexpectedExits: 0 },
      events: { error: 0, failed: 0 },
      errorSamples: expect.any(Array) as string[],
    });
    // Six slots re-issued at expiry for 15 s: more than six credentials, and the ones that
    // expired were reaped. A replica records a revocation in the catalog before it logs it
    // (a replica killed in between logs nothing), so the catalog holds at least as many.
    expect(report.credentials.issued).toBeGreaterThan(6);
    expect(report.credentials.reapedByReplicas).toBeGreaterThan(0);
    expect(report.credentials.revokedExpiredInCatalog).toBeGreaterThanOrEqual(report.credentials.reapedByReplicas);
    expect(report.sessions.ended).toBeGreaterThan(0);
    expect(report.latencySeconds.count).toBe(report.sessions.ended);
    // Kills at 5 and 10 s (the one at 15 s may fall after the end): each restarted.
    expect(report.replicas.kills).toBeGreaterThanOrEqual(2);
    expect(report.replicas.restarts).toBe(report.replicas.kills);
    // The watcher looked about four times a second.
    expect(report.outlived.polls).toBeGreaterThan(30);
  });
});
