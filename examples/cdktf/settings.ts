/**
 * What the example app reads from the environment at synth time: where the servers are,
 * which secrets hold their admin credentials, where the certificates and the state live.
 * Every default is the value in the PostgreSQL guide's production example, so with no
 * environment at all the app synthesizes exactly that configuration.
 *
 * Secrets are not read here: AWS keys and passwords are Terraform variables
 * (`TF_VAR_aws_access_key`, ...) given at apply time, so they never reach cdktf.out.
 */
import path from 'node:path';

/** One PostgreSQL server of the example. */
export interface ServerSettings {
  readonly host: string;
  readonly port: string;
}

/** Settings of the production stack. */
export interface ProductionSettings {
  readonly primary: ServerSettings;
  readonly replica: ServerSettings;
  /** Secrets Manager secrets holding the admin credentials. */
  readonly primarySecret: string;
  readonly replicaSecret: string;
  readonly awsRegion: string;
  /** Secrets Manager endpoint override for the provider (a VPC endpoint, a local stand-in). */
  readonly awsEndpoint?: string;
  /** Directory holding ca-cert.pem, client-cert.pem and client-key.pem for the primary. */
  readonly certsDir: string;
}

/** Settings of the stack that uses the HCL module. */
export interface ModuleSettings {
  readonly server: ServerSettings;
  readonly databaseName: string;
  readonly username: string;
}

/** Settings of the whole app. */
export interface AppSettings {
  readonly production: ProductionSettings;
  readonly module: ModuleSettings;
  /** Directory the local state files go to (the backend gets a path relative to the stack). */
  readonly stateDir: string;
}

function server(env: NodeJS.ProcessEnv, prefix: string, host: string): ServerSettings {
  return { host: env[`${prefix}_HOST`] || host, port: env[`${prefix}_PORT`] || '5432' };
}

/** Reads the settings, falling back to the guide's values. */
export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): AppSettings {
  const awsEndpoint = env.ADAPTIVE_AWS_ENDPOINT;
  return {
    production: {
      primary: server(env, 'ADAPTIVE_PRIMARY', 'postgres-primary.internal.company.net'),
      replica: server(env, 'ADAPTIVE_REPLICA', 'postgres-replica.internal.company.net'),
      primarySecret: env.ADAPTIVE_PRIMARY_SECRET || 'postgres-prod-credentials',
      replicaSecret: env.ADAPTIVE_REPLICA_SECRET || 'postgres-replica-credentials',
      awsRegion: env.ADAPTIVE_AWS_REGION || 'us-east-1',
      ...(awsEndpoint ? { awsEndpoint } : {}),
      certsDir: path.resolve(env.ADAPTIVE_CERTS_DIR || path.join(__dirname, 'certs')),
    },
    module: {
      server: server(env, 'ADAPTIVE_MODULE', 'postgres.example.com'),
      databaseName: env.ADAPTIVE_MODULE_DATABASE || 'production',
      username: env.ADAPTIVE_MODULE_USERNAME || 'postgres',
    },
    stateDir: path.resolve(env.ADAPTIVE_STATE_DIR || process.cwd()),
  };
}
