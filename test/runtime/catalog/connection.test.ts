/**
 * The catalog's own connection has libpq's sslmode semantics (the target connection code):
 * require encrypts without verifying, verify-full checks the CA, disable stays plain even
 * where the server demands TLS, prefer falls back to plain on a server without TLS, and no
 * sslmode means prefer. Each connection's TLS state is read from the server itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalCluster } from '../../../src/localpg';
import { Catalog, CatalogError, resolveCatalogSettings } from '../../../src/runtime/catalog';
import { ValidationError } from '../../../src/runtime/types';
import { createTestPki, type TestPki } from '../../fixtures/pki';
import { eachPostgres, startPostgres, startTlsPostgres } from '../../fixtures/postgres';

let opens = 0;

/**
 * Opens a catalog and reports whether its pooled connection is encrypted, as the server
 * sees it (pg_stat_ssl of the backend with the open's own application_name).
 */
async function openAndCheckTls(cluster: LocalCluster, url: string): Promise<boolean> {
  const applicationName = `catalog-tls-${++opens}`;
  const catalog = await Catalog.open(url, { applicationName });
  const admin = new Client({ ...cluster.clientConfig(), ssl: cluster === tlsCluster ? { rejectUnauthorized: false } : false });
  try {
    // The pool keeps the connection the migration check used.
    await catalog.listResources();
    await admin.connect();
    const { rows } = await admin.query<{ ssl: boolean }>(
      'select s.ssl from pg_stat_ssl s join pg_stat_activity a using (pid) where a.application_name = $1',
      [applicationName],
    );
    expect(rows.length).toBeGreaterThan(0);
    return rows.every((r) => r.ssl);
  } finally {
    await admin.end().catch(() => undefined);
    await catalog.close();
  }
}

let tlsCluster: LocalCluster | undefined;

async function failure(promise: Promise<unknown>): Promise<CatalogError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CatalogError);
  return err as CatalogError;
}

describe('catalog URL parameters', () => {
  it.each([
    ['postgres://u@h/db?sslmode=verify-everything', /sslmode 'verify-everything'; accepted: disable, allow, prefer, require, verify-ca, verify-full/],
    ['postgres://u@h/db?ssl=true', /unknown parameter 'ssl'; accepted: sslmode, sslrootcert/],
    ['postgres://u@h/db?sslcert=/tmp/c.crt', /only one of sslcert and sslkey/],
    ['postgres://u@h/db?sslmode=require&sslrootcert=system', /sslrootcert=system with sslmode 'require'/],
    ['postgres://u:hunter2@h/db?sslmode=disable&sslmode=require', /gives the parameter 'sslmode' twice/],
  ])('refuses %s at plan time, naming the setting', (url, reason) => {
    let err: unknown;
    try {
      resolveCatalogSettings({ url }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues[0]!.field).toBe('catalog_url');
    expect((err as ValidationError).message).toMatch(reason);
    expect((err as ValidationError).message).not.toContain('hunter2');
  });
});

describe.each(eachPostgres())('$name', ({ binaries }) => {
  let pki: TestPki;
  let tlsOnly: LocalCluster;
  let plain: LocalCluster;
  let dir: string;
  let rightCa: string;
  let otherCa: string;

  beforeAll(async () => {
    pki = await createTestPki();
    [tlsOnly, plain] = await Promise.all([startTlsPostgres(binaries, { pki, hba: 'tls-only' }), startPostgres(binaries)]);
    tlsCluster = tlsOnly;
    dir = mkdtempSync(path.join(os.tmpdir(), 'catalog-tls-'));
    rightCa = path.join(dir, 'ca.crt');
    otherCa = path.join(dir, 'other-ca.crt');
    writeFileSync(rightCa, pki.ca.certPem);
    writeFileSync(otherCa, pki.otherCa.certPem);
  });
  afterAll(async () => {
    await Promise.all([tlsOnly?.stop(), plain?.stop()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The cluster's URL with `localhost` (the name in its certificate) and query parameters. */
  function url(cluster: LocalCluster, params: string): string {
    return `${cluster.url().replace('@127.0.0.1:', '@localhost:')}${params}`;
  }

  it('works over a TLS-only cluster with sslmode=require (encrypted, certificate not verified)', async () => {
    expect(await openAndCheckTls(tlsOnly, url(tlsOnly, '?sslmode=require'))).toBe(true);
    const catalog = await Catalog.open(url(tlsOnly, '?sslmode=require'));
    try {
      await catalog.putAuthorization({ name: 'a', resourceType: 'postgresql', permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] } });
      expect((await catalog.listAuthorizations()).map((a) => a.name)).toEqual(['a']);
    } finally {
      await catalog.close();
    }
  });

  it('verifies the chain and host name with verify-full and the right CA', async () => {
    expect(await openAndCheckTls(tlsOnly, url(tlsOnly, `?sslmode=verify-full&sslrootcert=${encodeURIComponent(rightCa)}`))).toBe(true);
  });

  it('refuses verify-full with the wrong CA, saying why and what to change in the URL', async () => {
    const err = await failure(Catalog.open(url(tlsOnly, `?sslmode=verify-full&sslrootcert=${encodeURIComponent(otherCa)}`)));
    expect(err.code).toBe('connect');
    expect(err.message).toMatch(
      new RegExp(`^cannot connect to the catalog database postgres@localhost:${tlsOnly.port}/postgres: the server's certificate does not chain to sslrootcert .*with sslmode verify-full\\.`),
    );
    expect(err.message).toMatch(/To fix it in the catalog URL: set sslrootcert to the CA certificate/);
    expect(err.message).not.toMatch(/tls_root_cert|ssl_mode/);
    expect(err.message).not.toContain(tlsOnly.password);
  });

  it('refuses sslmode=disable against a TLS-only cluster: no silent upgrade', async () => {
    const err = await failure(Catalog.open(url(tlsOnly, '?sslmode=disable')));
    expect(err.code).toBe('connect');
    expect(err.message).toMatch(/the server accepts only encrypted connections and this one was not encrypted.*with sslmode disable/);
    expect(err.message).toMatch(/set sslmode to "require" or stricter/);
  });

  it('falls back to plain with sslmode=prefer on a cluster without TLS, and defaults to prefer', async () => {
    expect(await openAndCheckTls(plain, url(plain, '?sslmode=prefer'))).toBe(false);
    expect(await openAndCheckTls(plain, url(plain, ''))).toBe(false);
    // With no sslmode the TLS-only cluster gets TLS (prefer tries it first).
    expect(await openAndCheckTls(tlsOnly, url(tlsOnly, ''))).toBe(true);
  });

  it('refuses require against a cluster without TLS', async () => {
    const err = await failure(Catalog.open(url(plain, '?sslmode=require')));
    expect(err.message).toMatch(/the server does not support TLS, but sslmode "require" requires it/);
  });

  it('says which file it cannot read', async () => {
    const missing = path.join(dir, 'missing.crt');
    const err = await failure(Catalog.open(url(tlsOnly, `?sslmode=verify-ca&sslrootcert=${encodeURIComponent(missing)}`)));
    expect(err.message).toContain(`cannot read the file ${JSON.stringify(missing)} given as sslrootcert in the catalog URL (ENOENT)`);
  });
});
