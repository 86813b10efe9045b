/**
 * A grant made by `terraform apply` (the short-lived example, real Terraform and plugin)
 * while three `reap --watch` replicas run with a --poll far beyond the test: the catalog
 * notifies them (LISTEN/NOTIFY), so the member's open session is ended within 2 s of its
 * expiry, by exactly one replica, and none of them reports a failure.
 */
import type { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../src/localpg';
import { runCli, startCli, type CliProcess } from '../cli/run-cli';
import { credentialList, exampleWorkspace, loginAs, prepareCluster, scratchDir } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import type { TerraformWorkspace } from '../fixtures/terraform';

const scratch = scratchDir('adaptive-reaper-replicas-');
let mirrorDir: string;

beforeAll(async () => {
  const installed = await runCli(['install', '--json', '--dir', scratch.dir]);
  if (installed.code !== 0) throw new Error(`adaptive-access install failed:\n${installed.stderr}`);
  mirrorDir = (JSON.parse(installed.stdout) as { mirrorDir: string }).mirrorDir;
});
afterAll(() => scratch.remove());

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;
  let env: Record<string, string>;
  const replicas: CliProcess[] = [];
  let session: Client | undefined;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    ws = exampleWorkspace('short-lived', {
      mirrorDir,
      env,
      // Long enough to log in after the apply returns on a busy machine; short enough to wait for.
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password, ttl: '15s' },
    });
    await ws.init();
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.stop('SIGKILL')));
    await session?.end().catch(() => undefined);
    ws?.dispose();
    await cluster?.stop();
  });

  it('ends the session of a grant applied while the replicas sleep within 2 s of its expiry, without a --poll wait', async () => {
    for (let i = 0; i < 3; i++) replicas.push(startCli(['reap', '--watch', '--json', '--poll', '600', '--max-sleep', '600'], { env }));
    await Promise.all(replicas.map((r) => r.waitForEvent((e) => e.event === 'sleeping')));

    await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve']);
    const [credential] = credentialList((await ws.outputs()).credentials?.value);
    session = await loginAs(credential!);
    // The server ending the session is expected: heard here, not as an unhandled error.
    session.on('error', () => undefined);
    const ended = await new Promise<number>((resolve) => session!.once('error', () => resolve(Date.now())));
    const late = ended - Date.parse(credential!.expires_at);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(2000);

    // Exactly one replica reaped it (its event follows the pass that ended the session); none failed or erred.
    const reaped = replicas.map((r) => r.waitForEvent((e) => e.event === 'reaped' && e.role === credential!.username, { timeoutMs: 5000 }));
    await Promise.any(reaped);
    for (const r of reaped) r.catch(() => undefined);
    const reapedBy = replicas.filter((r) => r.lines.some((l) => l.includes('"event":"reaped"') && l.includes(credential!.username)));
    expect(reapedBy).toHaveLength(1);
    for (const r of replicas) {
      const events = r.lines.map((l) => JSON.parse(l) as { event: string });
      expect(events.filter((e) => e.event === 'error' || e.event === 'failed'), r.transcript()).toEqual([]);
    }
  });
});
