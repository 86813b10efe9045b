/**
 * A registry-format release, installed by Terraform the way a team without Node.js would:
 * `adaptive-access release` writes the single-executable zip and the network mirror JSON
 * into a directory, a local HTTPS server (certificate from a CA made here, trusted through
 * SSL_CERT_FILE) serves it, and Terraform, with no `node` on its PATH, installs the provider
 * from that network mirror, plans and applies examples/basic (plus a group, so a member logs
 * in with an issued credential) against real PostgreSQL, and destroys. Terraform checks the
 * package against the mirror's hashes (a wrong zh: fails init, the right zh: alone passes)
 * and records the h1: it computes itself: exactly the release's, in `init` and in
 * `terraform providers lock -net-mirror` alike. (From a mirror Terraform records only h1:;
 * zh: hashes enter a lock file only from a registry's signed SHA256SUMS.) The same directory
 * also works as a packed filesystem mirror.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terraformPlatform } from '../../src/install';
import type { LocalCluster } from '../../src/localpg';
import type { ReleaseResult } from '../../src/release';
import { credentialList, exampleWorkspace, loginAs, prepareCluster, scratchDir } from '../fixtures/adaptive';
import { CertificateAuthority } from '../fixtures/pki';
import { eachPostgres, startPostgres } from '../fixtures/postgres';
import { terraformBinary, TerraformWorkspace } from '../fixtures/terraform';
import { runCli } from '../cli/run-cli';

const SOURCE = 'adaptive-access.local/access/adaptive';
const PLATFORM = terraformPlatform();

/** Beside examples/basic: a group whose member gets a credential from the released provider. */
const MEMBER_TF = `
resource "adaptive_authorization" "read" {
  name          = "release-read"
  resource_type = "postgres"
  permissions   = jsonencode({ grants = ["SELECT"], schemas = ["public"], tables = ["*"] })
}

resource "adaptive_endpoint" "read" {
  name          = "release-read-access"
  type          = "direct"
  ttl           = "1h"
  resource      = adaptive_resource.postgres.name
  authorization = adaptive_authorization.read.name
}

resource "adaptive_group" "readers" {
  name      = "release-readers"
  members   = ["reader@company.com"]
  endpoints = [adaptive_endpoint.read.name]
}

output "reader_credentials" {
  value     = adaptive_group.readers.credentials
  sensitive = true
}
`;

const scratch = scratchDir('adaptive-e2e-release-');
/** What the HTTPS server serves: the release, and copies of it with other hashes in the JSON. */
const webRoot = path.join(scratch.dir, 'www');
const releaseDir = path.join(webRoot, 'release');
let release: ReleaseResult;
let server: Server;
let serverUrl: string;
let mirrorUrl: string;
const served: string[] = [];
/** The environment Terraform runs in: the CA, and a PATH without Node.js. */
let terraformEnv: Record<string, string>;

/** Serves `root` read-only over HTTPS; records each path asked for. */
function serveStatic(root: string, tls: { certPem: string; keyPem: string }): Server {
  return createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url ?? '/', 'https://localhost').pathname);
    served.push(urlPath);
    const file = path.join(root, path.normalize(urlPath));
    if (!file.startsWith(root + path.sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.json') ? 'application/json' : 'application/zip' }).end(readFileSync(file));
  });
}

/** The hashes a lock file records for the provider. */
function lockedHashes(dir: string): string[] {
  const lock = readFileSync(path.join(dir, '.terraform.lock.hcl'), 'utf8');
  expect(lock).toContain(`provider "${SOURCE}"`);
  return [...lock.matchAll(/"((?:h1|zh):[^"]+)"/g)].map((m) => m[1]!).sort();
}

/** A CLI configuration installing the provider from the network mirror (at `url`) only. */
function networkMirrorConfig(dir: string, url = mirrorUrl): string {
  const file = path.join(dir, 'network-mirror.tfrc');
  writeFileSync(file, `provider_installation {\n  network_mirror {\n    url = ${JSON.stringify(url)}\n  }\n}\ndisable_checkpoint = true\n`);
  return file;
}

/** A mirror at `<server>/<name>/` serving the release's zip with `hashes` in its version JSON. */
function mirrorWithHashes(name: string, hashes: readonly string[]): string {
  const from = path.join(releaseDir, SOURCE);
  const to = path.join(webRoot, name, SOURCE);
  mkdirSync(to, { recursive: true });
  const zip = path.basename(release.zipFile);
  linkSync(path.join(from, zip), path.join(to, zip));
  copyFileSync(path.join(from, 'index.json'), path.join(to, 'index.json'));
  writeFileSync(path.join(to, `${release.version}.json`), JSON.stringify({ archives: { [PLATFORM]: { url: zip, hashes } } }));
  return `${serverUrl}${name}/`;
}

const REQUIRED_PROVIDERS = `terraform {\n  required_providers {\n    adaptive = { source = "${SOURCE}" }\n  }\n}\n`;

beforeAll(async () => {
  // Given in another case, as a person may type it: Terraform looks providers up lower-cased,
  // so the release is written (and reported) under the lower-cased address.
  const r = await runCli(['release', '--out', releaseDir, '--source', SOURCE.toUpperCase(), '--json']);
  expect(r.code, r.stderr).toBe(0);
  release = JSON.parse(r.stdout) as ReleaseResult;

  const ca = await CertificateAuthority.create('Release Mirror Test CA');
  const caFile = path.join(scratch.dir, 'ca.pem');
  writeFileSync(caFile, ca.certPem);
  server = serveStatic(webRoot, await ca.issue({ commonName: 'localhost', dnsNames: ['localhost'], ipAddresses: ['127.0.0.1'] }));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `https://localhost:${(server.address() as AddressInfo).port}/`;
  mirrorUrl = `${serverUrl}release/`;

  // Terraform's PATH holds terraform and nothing else: no Node.js for the provider to lean on.
  const bin = path.join(scratch.dir, 'bin');
  mkdirSync(bin);
  symlinkSync(terraformBinary(), path.join(bin, 'terraform'));
  expect(() => execFileSync('/bin/sh', ['-c', 'command -v node'], { env: { PATH: bin }, stdio: 'pipe' })).toThrow();
  terraformEnv = { PATH: bin, SSL_CERT_FILE: caFile, NODE_OPTIONS: '', NO_PROXY: 'localhost,127.0.0.1' };
}, 600_000);

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  scratch.remove();
});

describe('the release directory', () => {
  it('holds the zip with the single executable, SHA256SUMS and the mirror JSON with the release\'s hashes', () => {
    const dir = path.join(releaseDir, SOURCE);
    const zip = `terraform-provider-adaptive_${release.version}_${PLATFORM}.zip`;
    expect(release).toMatchObject({ source: SOURCE, platform: PLATFORM, platforms: [PLATFORM], zipFile: path.join(dir, zip) });
    expect(JSON.parse(readFileSync(path.join(dir, 'index.json'), 'utf8'))).toEqual({ versions: { [release.version]: {} } });
    expect(JSON.parse(readFileSync(path.join(dir, `${release.version}.json`), 'utf8'))).toEqual({
      archives: { [PLATFORM]: { url: zip, hashes: [release.hashes.h1, release.hashes.zh] } },
    });
    const sums = readFileSync(path.join(dir, `terraform-provider-adaptive_${release.version}_SHA256SUMS`), 'utf8');
    expect(sums).toBe(`${release.hashes.zh.slice(3)}  ${zip}\n`);
    expect(execFileSync('sha256sum', ['-c', '--strict', '-'], { cwd: dir, input: sums, encoding: 'utf8' })).toBe(`${zip}: OK\n`);
    // A Node.js binary inside, not a script wrapper: `unzip -Z` lists one executable entry.
    const listing = execFileSync('unzip', ['-Z', release.zipFile], { encoding: 'utf8' });
    expect(listing).toMatch(new RegExp(`^-rwxr-xr-x .* terraform-provider-adaptive_v${release.version.replace(/\./g, '\\.')}$`, 'm'));
    expect(listing).toMatch(/^1 file, \d{8,} bytes uncompressed/m);
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let cluster: LocalCluster;
  let ws: TerraformWorkspace;

  beforeAll(async () => {
    cluster = await startPostgres(binaries);
    const { env } = await prepareCluster(cluster);
    ws = exampleWorkspace('basic', {
      mirrorDir: path.join(scratch.dir, 'no-filesystem-mirror'),
      env: { ...env, ...terraformEnv },
      vars: { pg_host: cluster.host, pg_port: String(cluster.port), pg_username: cluster.user, pg_password: cluster.password },
      files: { 'member.tf': MEMBER_TF },
    });
  });
  afterAll(async () => {
    ws?.dispose();
    await cluster?.stop();
  });

  function useNetworkMirror(): Record<string, string> {
    return { TF_CLI_CONFIG_FILE: networkMirrorConfig(ws.dir) };
  }

  it('terraform init installs the provider from the HTTPS network mirror and locks exactly the release\'s h1:', async () => {
    served.length = 0;
    await ws.ok(['init', '-no-color', '-input=false'], useNetworkMirror());
    expect(served).toContain(`/release/${SOURCE}/index.json`);
    expect(served).toContain(`/release/${SOURCE}/${release.version}.json`);
    expect(served).toContain(`/release/${SOURCE}/${path.basename(release.zipFile)}`);
    expect(lockedHashes(ws.dir)).toEqual([release.hashes.h1]);
    const installed = path.join(ws.dir, '.terraform', 'providers', SOURCE, release.version, PLATFORM, `terraform-provider-adaptive_v${release.version}`);
    expect(statSync(installed).size).toBeGreaterThan(10_000_000);
  });

  it('plans and applies examples/basic with a group, and the member logs in', async () => {
    const plan = await ws.run(['plan', '-no-color', '-input=false', '-detailed-exitcode'], useNetworkMirror());
    expect(plan.code, plan.stderr).toBe(2);
    await ws.ok(['apply', '-no-color', '-input=false', '-auto-approve'], useNetworkMirror());
    const outputs = (JSON.parse((await ws.ok(['output', '-json'], useNetworkMirror())).stdout)) as Record<string, { value: unknown }>;
    expect(outputs.server_version?.value).toMatch(new RegExp(`^${cluster.major}\\.`));
    const [credential] = credentialList(outputs.reader_credentials?.value);
    expect(credential?.member).toBe('reader@company.com');
    const client = await loginAs(credential!);
    try {
      const { rows } = await client.query<{ item: string }>('select item from public.orders order by id');
      expect(rows.map((row) => row.item)).toEqual(['book', 'lamp']);
    } finally {
      await client.end();
    }
  });

  it('terraform providers lock against the mirror records the same hash', async () => {
    rmSync(path.join(ws.dir, '.terraform.lock.hcl'));
    await ws.ok(['providers', 'lock', '-no-color', `-net-mirror=${mirrorUrl}`, `-platform=${PLATFORM}`], useNetworkMirror());
    expect(lockedHashes(ws.dir)).toEqual([release.hashes.h1]);
  });

  it('destroys everything', async () => {
    await ws.ok(['destroy', '-no-color', '-input=false', '-auto-approve'], useNetworkMirror());
    expect((await ws.ok(['state', 'list'], useNetworkMirror())).stdout.trim()).toBe('');
  });
});

describe('the hashes Terraform checks', () => {
  async function initFrom(url: string): Promise<{ code: number | null; text: string; hashes: () => string[] }> {
    const ws = new TerraformWorkspace({ files: { 'main.tf': REQUIRED_PROVIDERS }, env: terraformEnv });
    try {
      const r = await ws.run(['init', '-no-color', '-input=false'], { TF_CLI_CONFIG_FILE: networkMirrorConfig(ws.dir, url) });
      const hashes = r.code === 0 ? lockedHashes(ws.dir) : [];
      return { code: r.code, text: r.stdout + r.stderr, hashes: () => hashes };
    } finally {
      ws.dispose();
    }
  }

  it('the release\'s zh: alone authenticates the package (and Terraform records the h1: it computes)', async () => {
    const init = await initFrom(mirrorWithHashes('zh-only', [release.hashes.zh]));
    expect(init.code, init.text).toBe(0);
    expect(init.hashes()).toEqual([release.hashes.h1]);
  });

  it('a mirror whose JSON has other hashes is refused', async () => {
    const init = await initFrom(mirrorWithHashes('wrong', [`zh:${'0'.repeat(64)}`, 'h1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']));
    expect(init.code).toBe(1);
    expect(init.text).toMatch(/checksum/i);
  });
});

describe('as a packed filesystem mirror', () => {
  it('terraform init installs the same package from the release directory on disk', async () => {
    const ws = new TerraformWorkspace({ files: { 'main.tf': REQUIRED_PROVIDERS }, mirrorDir: releaseDir, env: terraformEnv });
    try {
      await ws.init();
      // A filesystem mirror has no list of hashes to trust: Terraform records the h1: it computes.
      expect(lockedHashes(ws.dir)).toEqual([release.hashes.h1]);
    } finally {
      ws.dispose();
    }
  });
});
