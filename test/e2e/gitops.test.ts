/**
 * The GitOps example (examples/gitops): the workflow is parsed and checked for its triggers
 * and jobs; its scripts then run as the workflow runs them (install.sh, plan.sh, apply.sh,
 * plan.sh again, reap.sh) with real Terraform and the real plugin against a real
 * PostgreSQL cluster; finally the reaper command lines of the Kubernetes manifests and the
 * systemd units are taken from those files and run as they are, against the same catalog.
 *
 * One PostgreSQL major (the first eachPostgres() gives): the pipeline is the same on all.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { parseOptions } from '../../src/cli/args';
import { parseListenAddress } from '../../src/cli/reaper-observability';
import { REAP_OPTIONS } from '../../src/cli/specs/reap';
import type { LocalCluster } from '../../src/localpg';
import { REPO_ROOT, runCli, startCli, type CliProcess } from '../cli/run-cli';
import { accessRoles, catalogCounts, credentialList, EMPTY_CATALOG, loginAs, prepareCluster, scratchDir, sql } from '../fixtures/adaptive';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { terraformBinary } from '../fixtures/terraform';

const GITOPS = path.join(REPO_ROOT, 'examples', 'gitops');
const WORKFLOW_FILE = path.join(GITOPS, '.github', 'workflows', 'access.yml');
const SLOW = 180_000;

interface Step {
  readonly name?: string;
  readonly uses?: string;
  readonly run?: string;
}
interface Job {
  readonly if?: string;
  readonly concurrency?: { readonly group?: string; readonly 'cancel-in-progress'?: boolean } | string;
  readonly env?: Record<string, string>;
  readonly steps: Step[];
}
interface Workflow {
  readonly on: Record<string, unknown>;
  readonly env?: Record<string, string>;
  readonly jobs: Record<string, Job>;
}

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}

const workflow = parseYaml(readText(WORKFLOW_FILE)) as Workflow;

/** Every `run:` line of a job. */
function runs(job: Job): string[] {
  return job.steps.flatMap((s) => (s.run ? s.run.split('\n').filter((l) => l.trim() !== '') : []));
}

/** The example's scripts a job runs, as paths relative to the repository. */
function scriptsOf(job: Job): string[] {
  return runs(job).flatMap((l) => Array.from(l.matchAll(/(examples\/gitops\/ci\/[\w.-]+\.sh)/g), (m) => m[1] as string));
}

/** Every YAML document of a manifest, checked to parse without errors or warnings. */
function manifestDocs(file: string): Array<Record<string, unknown> & { kind: string }> {
  return parseAllDocuments(readText(file)).map((d, i) => {
    expect(d.errors, `${file} document ${i + 1}`).toEqual([]);
    expect(d.warnings, `${file} document ${i + 1}`).toEqual([]);
    return d.toJS() as Record<string, unknown> & { kind: string };
  });
}

interface Probe {
  readonly httpGet: { readonly path: string; readonly port: string | number };
  readonly periodSeconds?: number;
  readonly failureThreshold?: number;
  readonly initialDelaySeconds?: number;
}
interface Container {
  readonly command?: string[];
  readonly args?: string[];
  readonly ports?: Array<{ name?: string; containerPort: number }>;
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
}
type PodSpec = { containers: Container[] };

/** The (only) container of a manifest's (only) CronJob or Deployment. */
function workloadContainer(file: string): Container {
  const workloads = manifestDocs(file).filter((d) => d.kind === 'CronJob' || d.kind === 'Deployment');
  expect(workloads).toHaveLength(1);
  const doc = workloads[0] as { kind: string; spec: Record<string, unknown> };
  const podSpec =
    doc.kind === 'CronJob'
      ? (doc.spec as { jobTemplate: { spec: { template: { spec: PodSpec } } } }).jobTemplate.spec.template.spec
      : (doc.spec as { template: { spec: PodSpec } }).template.spec;
  expect(podSpec.containers).toHaveLength(1);
  return podSpec.containers[0]!;
}

/** The reaper's argv of a Kubernetes manifest's workload container: command + args. */
function containerArgv(file: string): string[] {
  const container = workloadContainer(file);
  return [...(container.command ?? []), ...(container.args ?? [])];
}

/** The argv with `--metrics-addr`'s value replaced (a test never listens on a fixed port). */
function withMetricsAddr(argv: readonly string[], address: string): string[] {
  const at = argv.indexOf('--metrics-addr');
  expect(at).toBeGreaterThan(0);
  return argv.map((a, i) => (i === at + 1 ? address : a));
}

/** Metric names in a Prometheus text exposition's `# TYPE` lines, with a histogram's series. */
function exposedMetricNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The argv of a systemd unit's ExecStart= (one, no quoting in these units). */
function execStartArgv(file: string): string[] {
  const lines = readText(file)
    .split('\n')
    .filter((l) => l.startsWith('ExecStart='));
  expect(lines).toHaveLength(1);
  return lines[0]!.slice('ExecStart='.length).trim().split(/\s+/);
}

/** The CLI arguments after the `adaptive-access` entrypoint (which the test replaces by the repository's bin). */
function cliArgs(argv: readonly string[]): string[] {
  expect(path.posix.basename(argv[0] ?? '')).toBe('adaptive-access');
  return argv.slice(1);
}

describe('the workflow', () => {
  it('plans on pull requests, applies on pushes to main, reaps on a schedule and on demand', () => {
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push', 'schedule', 'workflow_dispatch']);
    expect(workflow.on.push).toEqual({ branches: ['main'] });
    const schedule = workflow.on.schedule as Array<{ cron: string }>;
    expect(schedule).toHaveLength(1);
    expect(schedule[0]!.cron.split(' ')).toHaveLength(5);
    expect(Object.keys(workflow.jobs).sort()).toEqual(['apply', 'plan', 'reap']);
  });

  it('the plan job runs install.sh then plan.sh, on pull requests only', () => {
    const job = workflow.jobs.plan!;
    expect(job.if).toBe("github.event_name == 'pull_request'");
    expect(scriptsOf(job)).toEqual(['examples/gitops/ci/install.sh', 'examples/gitops/ci/plan.sh']);
    expect(runs(job)).toContain('npm ci');
  });

  it('the apply job plans and applies that plan, only on a push to main, one run at a time', () => {
    const job = workflow.jobs.apply!;
    expect(job.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
    expect(scriptsOf(job)).toEqual(['examples/gitops/ci/install.sh', 'examples/gitops/ci/plan.sh', 'examples/gitops/ci/apply.sh']);
    expect(job.concurrency).toEqual({ group: expect.any(String) as string, 'cancel-in-progress': false });
    // No other job runs apply.sh.
    for (const [name, other] of Object.entries(workflow.jobs)) {
      if (name !== 'apply') expect(scriptsOf(other)).not.toContain('examples/gitops/ci/apply.sh');
    }
  });

  it('the reap job runs reap.sh on the schedule and on demand', () => {
    const job = workflow.jobs.reap!;
    expect(job.if).toBe("github.event_name == 'schedule' || github.event_name == 'workflow_dispatch'");
    expect(scriptsOf(job)).toEqual(['examples/gitops/ci/reap.sh']);
  });

  it('takes secrets from the secret store only, and every script it names exists and is executable', () => {
    for (const job of Object.values(workflow.jobs)) {
      for (const name of ['ADAPTIVE_CATALOG_URL', 'ADAPTIVE_CATALOG_KEY']) expect(job.env?.[name]).toBe(`\${{ secrets.${name} }}`);
    }
    expect(workflow.jobs.apply!.env?.TF_VAR_pg_password).toBe('${{ secrets.PG_PASSWORD }}');
    const scripts = new Set(Object.values(workflow.jobs).flatMap(scriptsOf));
    expect(scripts.size).toBe(4);
    for (const script of scripts) {
      const file = path.join(REPO_ROOT, script);
      expect(existsSync(file), script).toBe(true);
      expect(() => accessSync(file, constants.X_OK), `${script} is not executable`).not.toThrow();
      expect(readText(file)).toMatch(/^#!\/usr\/bin\/env bash\n[\s\S]*^set -euo pipefail$/m);
    }
    expect(existsSync(path.join(REPO_ROOT, workflow.env?.TF_DIR ?? '-', 'main.tf'))).toBe(true);
  });
});

describe('the reaper service files', () => {
  it('run `reap` once from the CronJob and the timer, and `reap --watch` from the Deployment and the service', () => {
    expect(cliArgs(containerArgv(path.join(GITOPS, 'k8s', 'reaper-cronjob.yaml')))).toEqual(['reap', '--json']);
    expect(cliArgs(execStartArgv(path.join(GITOPS, 'systemd', 'adaptive-access-reap.service')))).toEqual(['reap', '--json']);
    expect(cliArgs(containerArgv(path.join(GITOPS, 'k8s', 'reaper-deployment.yaml')))).toContain('--watch');
    expect(cliArgs(execStartArgv(path.join(GITOPS, 'systemd', 'adaptive-access-reaper.service')))).toContain('--watch');
    // A timer starts the service of its own name.
    expect(readText(path.join(GITOPS, 'systemd', 'adaptive-access-reap.timer'))).toMatch(/^\[Timer\]\nOnCalendar=\S+$/m);
  });

  it('are quoted verbatim in the reaper guide, and the GitOps guide names the workflow', () => {
    const body = (file: string): string => readText(file).trim();
    const reaperGuide = readText(path.join(REPO_ROOT, 'docs', 'guides', 'reaper-service.md'));
    for (const file of ['k8s/reaper-cronjob.yaml', 'k8s/reaper-deployment.yaml', 'k8s/reaper-prometheusrule.yaml', 'systemd/adaptive-access-reaper.service', 'systemd/adaptive-access-reap.service', 'systemd/adaptive-access-reap.timer']) {
      expect(reaperGuide, file).toContain(body(path.join(GITOPS, file)));
    }
    // The workflow's ${{ }} expressions cannot go through the docs templates: the guide names the file.
    expect(readText(path.join(REPO_ROOT, 'docs', 'guides', 'gitops.md'))).toContain('examples/gitops/.github/workflows/access.yml');
  });
});

describe('the Kubernetes manifests', () => {
  const k8s = (file: string): string => path.join(GITOPS, 'k8s', file);
  const DEPLOYMENT = k8s('reaper-deployment.yaml');
  const RULES = k8s('reaper-prometheusrule.yaml');
  const POD_LABELS = { 'app.kubernetes.io/name': 'adaptive-access-reaper' };

  it('parse, every document, as the kinds each file is for', () => {
    const kinds = (file: string): string[] => manifestDocs(k8s(file)).map((d) => d.kind);
    expect(kinds('reaper-cronjob.yaml')).toEqual(['CronJob']);
    expect(kinds('reaper-deployment.yaml')).toEqual(['Deployment', 'PodDisruptionBudget', 'Service']);
    expect(kinds('reaper-prometheusrule.yaml')).toEqual(['PodMonitor', 'PrometheusRule']);
    expect(kinds('reaper-secret.example.yaml')).toEqual(['Secret']);
  });

  it('the Deployment: two replicas rolled one at a time, args the CLI accepts, probes on the metrics port, a lenient liveness', () => {
    const [deployment] = manifestDocs(DEPLOYMENT) as unknown as Array<{
      spec: { replicas: number; strategy: { type: string; rollingUpdate: { maxUnavailable: number } }; template: { metadata: { labels: Record<string, string> } } };
    }>;
    expect(deployment!.spec.replicas).toBe(2);
    expect(deployment!.spec.strategy).toMatchObject({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0 } });
    expect(deployment!.spec.template.metadata.labels).toEqual(POD_LABELS);

    const container = workloadContainer(DEPLOYMENT);
    // The real CLI's parser (unknown options, missing values) and its check of the address.
    const values = parseOptions('reap', cliArgs(containerArgv(DEPLOYMENT)).slice(1), REAP_OPTIONS);
    expect(values.watch).toBe(true);
    expect(values.json).toBe(true);
    const listen = parseListenAddress(values['metrics-addr']!);
    expect(listen).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(container.ports).toEqual([{ name: 'metrics', containerPort: listen.port, protocol: 'TCP' }]);

    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    // /healthz fails while the catalog is away: a restart must wait minutes, not seconds.
    const live = container.livenessProbe!;
    expect((live.periodSeconds ?? 10) * (live.failureThreshold ?? 3)).toBeGreaterThanOrEqual(180);
  });

  it('a PodDisruptionBudget keeps one replica, a Service and a PodMonitor reach the metrics port of the pods', () => {
    const [, pdb, service] = manifestDocs(DEPLOYMENT) as unknown as [
      unknown,
      { spec: { minAvailable: number; selector: { matchLabels: Record<string, string> } } },
      { spec: { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: string }> } },
    ];
    expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: POD_LABELS } });
    expect(service.spec.selector).toEqual(POD_LABELS);
    expect(service.spec.ports).toEqual([{ name: 'metrics', port: 9464, targetPort: 'metrics' }]);
    const [monitor] = manifestDocs(RULES) as unknown as Array<{ spec: { jobLabel: string; selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: Array<{ port: string; path: string }> } }>;
    expect(monitor!.spec.selector.matchLabels).toEqual(POD_LABELS);
    expect(monitor!.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics' })]);
  });

  it('the PrometheusRule alerts on expired credentials unreaped for a minute, on no replica up, and on reap errors', () => {
    const rules = ruleExpressions();
    expect(rules.AdaptiveAccessExpiredUnreaped).toEqual({ expr: expect.stringMatching(/adaptive_reaper_credentials\{state="expired_unreaped"\}\) > 0$/) as string, for: '1m' });
    // The job the PodMonitor gives the scrapes: the value of its jobLabel on the pods.
    const [monitor] = manifestDocs(RULES) as unknown as Array<{ spec: { jobLabel: keyof typeof POD_LABELS } }>;
    expect(rules.AdaptiveAccessReaperDown?.expr).toBe(`absent(up{job="${POD_LABELS[monitor!.spec.jobLabel]}"} == 1)`);
    expect(rules.AdaptiveAccessReaperErrors?.expr).toMatch(/increase\(adaptive_reaper_errors_total\[\w+\]\)\) > 0$/);
  });
});

/** The PrometheusRule's alerts: name -> expression and `for`. */
function ruleExpressions(): Record<string, { expr: string; for?: string }> {
  const rule = manifestDocs(path.join(GITOPS, 'k8s', 'reaper-prometheusrule.yaml')).find((d) => d.kind === 'PrometheusRule') as unknown as {
    spec: { groups: Array<{ rules: Array<{ alert: string; expr: string; for?: string }> }> };
  };
  return Object.fromEntries(rule.spec.groups.flatMap((g) => g.rules).map((r) => [r.alert, { expr: r.expr, ...(r.for !== undefined ? { for: r.for } : {}) }]));
}

interface ScriptResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

describe.each(eachPostgres().slice(0, 1))('the pipeline, $name', ({ binaries }) => {
  const scratch = scratchDir('adaptive-gitops-');
  const tfDir = path.join(scratch.dir, 'terraform');
  const github = {
    GITHUB_ENV: path.join(scratch.dir, 'github-env'),
    GITHUB_OUTPUT: path.join(scratch.dir, 'github-output'),
    GITHUB_STEP_SUMMARY: path.join(scratch.dir, 'step-summary.md'),
  };
  let cluster: LocalCluster;
  let env: Record<string, string>;
  const watchers: CliProcess[] = [];

  /** The environment a workflow job gives the scripts: its env block's values, and the runner's files. */
  function jobEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TF_') && !k.startsWith('ADAPTIVE_') && !k.startsWith('GITHUB_')));
    return {
      ...base,
      // terraform from TERRAFORM_BINARY when the suite is given one.
      PATH: `${path.dirname(terraformBinary())}${path.delimiter}${process.env.PATH ?? ''}`,
      // Nothing may come from the network.
      HTTPS_PROXY: 'http://127.0.0.1:9',
      HTTP_PROXY: 'http://127.0.0.1:9',
      ...github,
      ...env,
      TF_VAR_pg_host: cluster.host,
      TF_VAR_pg_port: String(cluster.port),
      TF_VAR_pg_username: cluster.user,
      TF_VAR_pg_password: cluster.password,
      ...extra,
    };
  }

  function script(name: string, args: readonly string[], extra: Record<string, string> = {}): Promise<ScriptResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(path.join(GITOPS, 'ci', name), args, { cwd: REPO_ROOT, env: jobEnv(extra), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** TF_CLI_CONFIG_FILE as install.sh handed it on through $GITHUB_ENV. */
  function cliConfigFromGithubEnv(): Record<string, string> {
    const line = readText(github.GITHUB_ENV)
      .split('\n')
      .find((l) => l.startsWith('TF_CLI_CONFIG_FILE='));
    expect(line).toBeDefined();
    return { TF_CLI_CONFIG_FILE: line!.slice('TF_CLI_CONFIG_FILE='.length) };
  }

  function takeFile(file: string): string {
    const text = existsSync(file) ? readText(file) : '';
    writeFileSync(file, '');
    return text;
  }

  function expectNoSecrets(...texts: string[]): void {
    for (const text of texts) {
      expect(text).not.toContain(cluster.password);
      expect(text).not.toContain(env.ADAPTIVE_CATALOG_KEY!);
    }
  }

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    ({ env } = await prepareCluster(cluster));
    // The configuration as the checkout has it; the scripts take its directory as argument.
    cpSync(path.join(GITOPS, 'terraform'), tfDir, { recursive: true });
    for (const file of Object.values(github)) writeFileSync(file, '');
  });
  afterAll(async () => {
    await Promise.all(watchers.splice(0).map((w) => w.stop('SIGKILL')));
    await cluster?.stop();
    scratch.remove();
  });

  it(
    'install.sh installs the provider and hands TF_CLI_CONFIG_FILE to later steps',
    async () => {
      const r = await script('install.sh', [], { ADAPTIVE_ACCESS_DIR: path.join(scratch.dir, 'adaptive-access') });
      expect(r.code, r.stderr).toBe(0);
      const config = cliConfigFromGithubEnv().TF_CLI_CONFIG_FILE;
      expect(config).toBe(path.join(scratch.dir, 'adaptive-access', 'terraform.rc'));
      expect(r.stdout).toBe(`export TF_CLI_CONFIG_FILE=${config}\n`);
      expect(r.stderr).toContain('installed adaptive-access.local/access/adaptive');
    },
    SLOW,
  );

  it(
    'plan.sh saves a plan that adds the four resources and changes nothing yet',
    async () => {
      const r = await script('plan.sh', [tfDir], cliConfigFromGithubEnv());
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
      expect(existsSync(path.join(tfDir, 'tfplan'))).toBe(true);
      expect(takeFile(github.GITHUB_OUTPUT)).toBe('changes=true\n');
      const summary = takeFile(github.GITHUB_STEP_SUMMARY);
      expect(summary).toContain('## Terraform plan (terraform)');
      expect(summary).toContain('# adaptive_group.oncall will be created');
      expect(summary).toContain('Plan: 4 to add, 0 to change, 0 to destroy.');
      expectNoSecrets(r.stdout, r.stderr, summary);
      // A plan records nothing (the catalog's tables may not even exist yet) and grants nothing.
      const [made] = await sql<{ made: boolean }>(cluster, 'adaptive_catalog', "select to_regclass('adaptive.resources') is not null as made");
      if (made?.made) expect(await catalogCounts(cluster)).toEqual(EMPTY_CATALOG);
      expect(await accessRoles(cluster)).toEqual([]);
    },
    SLOW,
  );

  it(
    'apply.sh applies that plan: the catalog has the grants, and a member logs in',
    async () => {
      const tf = cliConfigFromGithubEnv();
      const r = await script('apply.sh', [tfDir], tf);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('Apply complete! Resources: 4 added, 0 changed, 0 destroyed.');
      expect(existsSync(path.join(tfDir, 'tfplan'))).toBe(false);
      expect(await catalogCounts(cluster)).toEqual({ resources: 1, authorizations: 1, endpoints: 1, groups: 1, liveCredentials: 2 });
      const summary = takeFile(github.GITHUB_STEP_SUMMARY);
      expect(summary).toContain('credentials = <sensitive>');
      expectNoSecrets(r.stdout, r.stderr, summary);

      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(terraformBinary(), [`-chdir=${tfDir}`, 'output', '-json', 'credentials'], { env: jobEnv(tf), stdio: ['ignore', 'pipe', 'inherit'] });
        let stdout = '';
        child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
        child.once('error', reject);
        child.once('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`terraform output exited ${code}`))));
      });
      const credentials = credentialList(JSON.parse(out));
      expect(credentials.map((c) => [c.member, c.endpoint]).sort()).toEqual([
        ['alice@company.com', 'gitops-oncall-readonly'],
        ['bob@company.com', 'gitops-oncall-readonly'],
      ]);
      const alice = await loginAs(credentials.find((c) => c.member === 'alice@company.com')!);
      try {
        expect((await alice.query('select count(*)::int as n from public.orders')).rows).toEqual([{ n: 2 }]);
        await expect(alice.query("insert into public.orders (item) values ('pen')")).rejects.toThrow(/permission denied/);
      } finally {
        await alice.end();
      }
    },
    SLOW,
  );

  it(
    'plan.sh again shows no changes; apply.sh without a saved plan refuses',
    async () => {
      const tf = cliConfigFromGithubEnv();
      const r = await script('plan.sh', [tfDir], tf);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('No changes.');
      expect(takeFile(github.GITHUB_OUTPUT)).toBe('changes=false\n');
      takeFile(github.GITHUB_STEP_SUMMARY);

      // The plan above was saved; a job that skipped plan.sh has none.
      rmSync(path.join(tfDir, 'tfplan'));
      const refused = await script('apply.sh', [tfDir], tf);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain(`apply.sh: error: no saved plan ${path.join(tfDir, 'tfplan')}: run plan.sh in the same job first`);
    },
    SLOW,
  );

  it(
    'reap.sh prints the JSON report and exits 0 when nothing is left over',
    async () => {
      const r = await script('reap.sh', []);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, reaped: [], failed: [], errors: [] });
      expect(takeFile(github.GITHUB_STEP_SUMMARY)).toMatch(/^## adaptive-access reap\n\ntargets: 1, reaped: 0, failed: 0, errors: 0 \(exit 0\)\n$/);
    },
    SLOW,
  );

  it(
    'reap.sh fails the job with exit 1 and an error annotation when the reaper fails, and with 2 when a secret is missing',
    async () => {
      const down = await script('reap.sh', [], { ADAPTIVE_CATALOG_URL: `postgres://nobody:x@127.0.0.1:9/adaptive_catalog`, GITHUB_ACTIONS: 'true' });
      expect(down.code, down.stdout + down.stderr).toBe(1);
      expect(down.stdout).toMatch(/^::error title=reap\.sh::/m);
      takeFile(github.GITHUB_STEP_SUMMARY);

      const missing = await script('reap.sh', [], { ADAPTIVE_CATALOG_KEY: '' });
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('reap.sh: error: ADAPTIVE_CATALOG_KEY is not set');
    },
    SLOW,
  );

  it(
    'the CronJob and the timer unit run one pass with their own arguments: exit 0',
    async () => {
      for (const argv of [containerArgv(path.join(GITOPS, 'k8s', 'reaper-cronjob.yaml')), execStartArgv(path.join(GITOPS, 'systemd', 'adaptive-access-reap.service'))]) {
        const r = await runCli(cliArgs(argv), { env });
        expect(r.code, r.stdout + r.stderr).toBe(0);
        expect(JSON.parse(r.stdout)).toMatchObject({ ok: true });
      }
    },
    SLOW,
  );

  it(
    'the Deployment and the service unit watch with their own arguments, and stop with exit 0 on SIGTERM',
    async () => {
      const deployment = cliArgs(containerArgv(path.join(GITOPS, 'k8s', 'reaper-deployment.yaml')));
      for (const args of [withMetricsAddr(deployment, '127.0.0.1:0'), cliArgs(execStartArgv(path.join(GITOPS, 'systemd', 'adaptive-access-reaper.service')))]) {
        const watch = startCli(args, { env });
        watchers.push(watch);
        await watch.waitForEvent((e) => e.event === 'started', { timeoutMs: 60_000 });
        await watch.waitForEvent((e) => e.event === 'sleeping', { timeoutMs: 60_000 });
        if (args.includes('--metrics-addr')) await checkServed(await watch.waitForEvent<{ address: string }>((e) => e.event === 'listening'));
        const end = await watch.stop('SIGTERM');
        expect(end.code, watch.transcript()).toBe(0);
        const events = watch.lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as { event: string; signal?: string });
        expect(events.at(-1)).toMatchObject({ event: 'stopped', signal: 'SIGTERM' });
        expect(events.filter((e) => e.event === 'error' || e.event === 'failed')).toEqual([]);
      }
    },
    SLOW,
  );
});

/**
 * What the Deployment's probes and the PrometheusRule point at, asked of a live watcher:
 * the probe paths answer 200 (catalog up, a pass done), and every metric the rules name
 * is in its /metrics.
 */
async function checkServed({ address }: { address: string }): Promise<void> {
  const container = workloadContainer(path.join(GITOPS, 'k8s', 'reaper-deployment.yaml'));
  for (const probe of [container.readinessProbe, container.livenessProbe]) {
    const res = await fetch(`http://${address}${probe!.httpGet.path}`);
    expect(res.status, probe!.httpGet.path).toBe(200);
  }
  const exposed = exposedMetricNames(await (await fetch(`http://${address}/metrics`)).text());
  const named = Object.values(ruleExpressions()).flatMap((r) => Array.from(r.expr.matchAll(/\b(adaptive_reaper_\w+)/g), (m) => m[1]!));
  expect(new Set(named)).toEqual(new Set(['adaptive_reaper_credentials', 'adaptive_reaper_errors_total']));
  for (const name of named) expect(exposed, name).toContain(name);
}
