/**
 * Resources in the catalog: a target's settings in the clear, its secrets (password, TLS
 * client key, static AWS keys) encrypted with the catalog key and sealed together with the
 * settings that decide where they go (./binding), so a record changed outside
 * adaptive-access is refused before anything connects.
 */
import { runtimeSecrets } from '../secret-registry';
import type { AwsSecretRef, RdsIamAuth, TargetConfig } from '../types';
import { legacyResourceContext, resourceBinding } from './binding';
import { CATALOG_KEY_HOWTO, LEGACY_SEAL_FORMAT, checkBindingMac, macBinding, openSecret, sealSecret, sealedFormat } from './crypto';
import { CatalogError } from './errors';
import type { PublicAwsSecretRef, PublicTargetConfig, ResourceInfo, ResourceRecord } from './records';
import { StoreBase, referenced, requireName } from './store-base';
import { RESOURCE_COLUMNS, resourceInfo, stamps, type ResourceRow } from './store-rows';

/**
 * The secret parts of a TargetConfig, stored encrypted as one JSON document. The static AWS
 * keys are those of Secrets Manager or of IAM authentication: a target has one or the other.
 */
interface StoredSecrets {
  password?: string;
  tlsClientKey?: string;
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  awsSessionToken?: string;
}

/** Moves static AWS keys into the secrets, returning the rest (region, secret name...). */
function takeAwsKeys<T extends Partial<Pick<AwsSecretRef, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>>>(
  from: T,
  secrets: StoredSecrets,
): Omit<T, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'> {
  const { accessKeyId, secretAccessKey, sessionToken, ...rest } = from;
  if (accessKeyId !== undefined) secrets.awsAccessKeyId = accessKeyId;
  if (secretAccessKey !== undefined) secrets.awsSecretAccessKey = secretAccessKey;
  if (sessionToken !== undefined) secrets.awsSessionToken = sessionToken;
  return rest;
}

/** The static AWS keys among the secrets, as a TargetConfig holds them. */
function awsKeysOf(secrets: StoredSecrets): Partial<Pick<AwsSecretRef, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>> {
  return {
    ...(secrets.awsAccessKeyId !== undefined ? { accessKeyId: secrets.awsAccessKeyId } : {}),
    ...(secrets.awsSecretAccessKey !== undefined ? { secretAccessKey: secrets.awsSecretAccessKey } : {}),
    ...(secrets.awsSessionToken !== undefined ? { sessionToken: secrets.awsSessionToken } : {}),
  };
}

function splitTarget(target: TargetConfig): { config: PublicTargetConfig; secrets: StoredSecrets | undefined } {
  const { name: _name, password, tlsClientKey, aws, rdsIam, ...rest } = target;
  const secrets: StoredSecrets = {};
  if (password !== undefined) secrets.password = password;
  if (tlsClientKey !== undefined) secrets.tlsClientKey = tlsClientKey;
  const config: PublicTargetConfig = {
    ...rest,
    ...(aws ? { aws: takeAwsKeys(aws, secrets) } : {}),
    // The keys are sealed; region, role and STS endpoint stay in the clear (role and endpoint bound, see ./binding).
    ...(rdsIam ? { rdsIam: takeAwsKeys(rdsIam, secrets) } : {}),
  };
  return { config, secrets: Object.keys(secrets).length > 0 ? secrets : undefined };
}

function mergeTarget(name: string, config: PublicTargetConfig, secrets: StoredSecrets): TargetConfig {
  const { aws: publicAws, rdsIam: publicRdsIam, ...rest } = config;
  const aws: AwsSecretRef | undefined = publicAws ? ({ ...publicAws, ...awsKeysOf(secrets) } satisfies PublicAwsSecretRef & Partial<AwsSecretRef>) : undefined;
  const rdsIam: RdsIamAuth | undefined = publicRdsIam ? { ...publicRdsIam, ...awsKeysOf(secrets) } : undefined;
  return {
    ...rest,
    name,
    ...(secrets.password !== undefined ? { password: secrets.password } : {}),
    ...(secrets.tlsClientKey !== undefined ? { tlsClientKey: secrets.tlsClientKey } : {}),
    ...(aws ? { aws } : {}),
    ...(rdsIam ? { rdsIam } : {}),
  };
}

/** Human names of the secrets present, for messages (never their values). */
function describeSecrets(secrets: StoredSecrets): string {
  const parts: string[] = [];
  if (secrets.password !== undefined) parts.push('the admin password');
  if (secrets.tlsClientKey !== undefined) parts.push('the TLS client key');
  if (secrets.awsAccessKeyId !== undefined || secrets.awsSecretAccessKey !== undefined || secrets.awsSessionToken !== undefined) {
    parts.push('the AWS access keys');
  }
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}` : parts.join('');
}

/**
 * The refusal of a record that does not match its seal. Nothing has connected anywhere
 * when it is raised: the record is checked before its settings are handed out.
 */
function changedOutside(name: string, why: string, cause?: unknown): CatalogError {
  return new CatalogError(
    'tampered',
    `catalog record of resource "${name}" was changed outside adaptive-access: ${why}. ` +
      `Nothing was sent to the settings it now holds. Re-apply the adaptive_resource "${name}" from its configuration ` +
      '(with the catalog key configured), which stores its settings and seals them again; ' +
      'if nobody meant to change it, find out who can write the catalog database before you do.',
    cause === undefined ? {} : { cause },
  );
}

/**
 * Runs a seal check, turning "does not match" (code `tampered`) into the refusal above;
 * a wrong or missing key keeps its own message.
 */
function verified<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof CatalogError && err.code === 'tampered') {
      throw changedOutside(
        name,
        'its connection settings (host, port, database, username, sslmode, TLS material or Secrets Manager reference) ' +
          'or its encrypted secrets are not the ones adaptive-access sealed together',
        err,
      );
    }
    throw err;
  }
}

/** The catalog API's resources (see `CatalogStore`). */
export abstract class ResourceStore extends StoreBase {
  /**
   * Stores a target (insert or replace). Its secrets (password, TLS client key, static
   * AWS keys) are encrypted with the catalog key, bound to the resource's name and the
   * settings that decide where they go (./binding); without a key, a target that has any
   * is refused. A target without secrets gets a MAC of the same binding when a key is
   * configured. Nothing secret is stored in plain text. Storing again also re-seals a
   * record sealed by an earlier build (name-only binding).
   */
  async putResource(target: TargetConfig): Promise<ResourceInfo> {
    requireName('resource', target.name);
    const { config, secrets } = splitTarget(target);
    let sealed: Buffer | null = null;
    if (secrets) {
      if (!this.ctx.key) {
        throw new CatalogError(
          'key',
          `resource "${target.name}": the catalog cannot store ${describeSecrets(secrets)} without a catalog key, ` +
            `and will not store them unencrypted. ${CATALOG_KEY_HOWTO} ` +
            'Alternatively keep the admin credentials in AWS Secrets Manager, so that only the reference is stored.',
        );
      }
      sealed = sealSecret(this.ctx.key, resourceBinding(target.name, config), Buffer.from(JSON.stringify(secrets), 'utf8'));
    }
    // Without secrets, the settings still decide where AWS credentials and the admin
    // password fetched with them go: a MAC protects them when a key is configured.
    const binding = sealed === null && this.ctx.key ? macBinding(this.ctx.key, resourceBinding(target.name, config)) : null;
    const detail = {
      host: target.host,
      port: target.port,
      database: target.database,
      sslMode: target.sslMode,
      adminSecret: target.aws ? 'aws secrets manager' : target.rdsIam ? 'rds iam' : secrets?.password !== undefined ? 'inline' : 'none',
    };
    const { rows } = await this.query<ResourceRow>(
      `with up as (
         insert into ${this.t.resources} (name, config, secrets, binding) values ($1, $2::jsonb, $3, $5)
         on conflict (name) do update set config = excluded.config, secrets = excluded.secrets, binding = excluded.binding,
           updated_at = now()
         returning ${RESOURCE_COLUMNS}, (xmax = 0) as inserted
       ), logged as (
         insert into ${this.t.audit} (event, resource, detail)
         select case when inserted then 'resource.create' else 'resource.update' end, name, $4::jsonb from up
       )
       select ${RESOURCE_COLUMNS} from up`,
      [target.name, JSON.stringify(config), sealed, JSON.stringify(detail), binding],
    );
    return resourceInfo(rows[0]!);
  }

  /**
   * A target with its secrets decrypted, or undefined when the catalog has no such
   * resource. Needs the catalog key when secrets are stored. With a key, the record must
   * match its seal (code `tampered` otherwise): this is checked here, before any caller
   * can connect anywhere with the settings. Without a key, a record without secrets has
   * nothing to be checked with and is returned as stored.
   */
  async getResource(name: string): Promise<ResourceRecord | undefined> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} where name = $1`, [name]);
    const row = rows[0];
    if (!row) return undefined;
    let secrets: StoredSecrets = {};
    if (row.secrets !== null) {
      if (!this.ctx.key) {
        throw new CatalogError(
          'key',
          `resource "${name}" has encrypted secrets in the catalog (such as its admin password), but no catalog key is configured. ` +
            'Set catalog_key or ADAPTIVE_CATALOG_KEY to the key they were stored with.',
        );
      }
      const key = this.ctx.key;
      const sealed = row.secrets;
      // Secrets sealed by earlier builds (format 1) were bound to the name only: they are
      // read as such, and sealed with the settings by the next putResource. A format-2
      // value cannot be passed off as format 1 (the format byte is authenticated).
      const context = sealedFormat(sealed) === LEGACY_SEAL_FORMAT ? legacyResourceContext(name) : resourceBinding(name, row.config);
      const plain = verified(name, () => openSecret(key, context, sealed, `the stored secrets of resource "${name}"`));
      secrets = JSON.parse(plain.toString('utf8')) as StoredSecrets;
      runtimeSecrets.register(...(Object.values(secrets) as unknown[]));
    } else if (this.ctx.key) {
      const key = this.ctx.key;
      const mac = row.binding;
      if (mac === null) {
        // Also what removing the seal along with a change looks like: with a key, every
        // record this build writes carries one, and Catalog.open sealed the records that
        // existed before seals did.
        throw changedOutside(
          name,
          'it carries no seal of its connection settings although a catalog key is configured ' +
            '(records written without the catalog key have none)',
        );
      }
      verified(name, () => checkBindingMac(key, resourceBinding(name, row.config), mac, `the stored settings of resource "${name}"`));
    }
    return { name: row.name, target: mergeTarget(row.name, row.config, secrets), ...stamps(row) };
  }

  /**
   * Seals the settings of records that have neither encrypted secrets nor a seal, as they
   * are: only for the records an earlier build wrote, when the migration that added seals
   * runs with a key (trust on upgrade, the trust those builds gave them on every run).
   * Returns how many it sealed.
   */
  protected async sealUnsealedResources(): Promise<number> {
    const key = this.ctx.key;
    if (!key) return 0;
    return this.atomically(async (tx) => {
      const { rows } = await tx.query<Pick<ResourceRow, 'name' | 'config'>>(
        `select name, config from ${tx.t.resources} where secrets is null and binding is null for update`,
      );
      for (const row of rows) {
        await tx.query(`update ${tx.t.resources} set binding = $2 where name = $1`, [row.name, macBinding(key, resourceBinding(row.name, row.config))]);
      }
      return rows.length;
    });
  }

  /** A resource's non-secret settings (no catalog key needed), or undefined. */
  async resourceInfo(name: string): Promise<ResourceInfo | undefined> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} where name = $1`, [name]);
    return rows[0] && resourceInfo(rows[0]);
  }

  /** Every resource's non-secret settings, by name. */
  async listResources(): Promise<ResourceInfo[]> {
    const { rows } = await this.query<ResourceRow>(`select ${RESOURCE_COLUMNS} from ${this.t.resources} order by name`);
    return rows.map(resourceInfo);
  }

  /**
   * Deletes a resource; false when there was none. Refused (code `referenced`) while an
   * endpoint uses it.
   */
  async deleteResource(name: string): Promise<boolean> {
    return this.atomically(async (tx) => {
      // Locking the row first makes the check exact: an endpoint being created for it
      // holds a key-share lock on it until it commits.
      const found = await tx.query(`select 1 from ${tx.t.resources} where name = $1 for update`, [name]);
      if (found.rowCount === 0) return false;
      const users = await tx.query<{ name: string }>(`select name from ${tx.t.endpoints} where resource = $1 order by name`, [name]);
      const endpoints = users.rows.map((r) => r.name);
      if (endpoints.length > 0) {
        throw referenced(`resource "${name}"`, { endpoints }, 'delete or move those endpoints first');
      }
      await tx.query(
        `with del as (delete from ${tx.t.resources} where name = $1 returning name)
         insert into ${tx.t.audit} (event, resource) select 'resource.delete', name from del`,
        [name],
      );
      return true;
    });
  }
}
