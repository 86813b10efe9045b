/**
 * The PostgreSQL guide's complete production example, with the constructs: a primary and
 * a read replica whose admin credentials live in AWS Secrets Manager, verified TLS (mutual
 * TLS on the primary), developers on the primary for 8 hours and analysts on the replica
 * for 12 hours. Names and settings are the guide's; hosts, ports, secret names and the
 * certificates' directory come from the settings.
 */
import path from 'node:path';
import { AdaptiveProvider, AdminCredentials, PostgresAccess } from '../../src/constructs';
import { Fn, TerraformOutput, TerraformStack, TerraformVariable, type Construct } from '../../src/constructs/cdk';
import type { ProductionSettings } from './settings';
import { fromStack, localBackend } from './stack-paths';

/** Properties of the production stack. */
export interface ProductionStackProps extends ProductionSettings {
  /** Where the local state file goes. */
  readonly stateDir: string;
}

export class ProductionStack extends TerraformStack {
  /** Developers: CRUD on the primary for 8 hours. */
  readonly developers: PostgresAccess;
  /** Analysts: read-only on the replica for 12 hours. */
  readonly analysts: PostgresAccess;

  constructor(scope: Construct, id: string, props: ProductionStackProps) {
    super(scope, id);
    localBackend(this, props.stateDir);
    new AdaptiveProvider(this, 'adaptive', props.awsEndpoint !== undefined ? { awsEndpoint: props.awsEndpoint } : {});

    // Given at apply time (TF_VAR_aws_access_key, TF_VAR_aws_secret_key), as in the guide.
    const awsAccessKey = new TerraformVariable(this, 'aws_access_key', { type: 'string', sensitive: true });
    const awsSecretKey = new TerraformVariable(this, 'aws_secret_key', { type: 'string', sensitive: true });
    const secret = (secretName: string): AdminCredentials =>
      AdminCredentials.fromSecretsManager({
        secretName,
        region: props.awsRegion,
        accessKeyId: awsAccessKey.stringValue,
        secretAccessKey: awsSecretKey.stringValue,
      });
    // Terraform reads the PEM files when it plans, so the private key never enters cdktf.out.
    const certificate = (file: string): string => Fn.file(fromStack(this, path.join(props.certsDir, file)));

    this.developers = new PostgresAccess(this, 'developers', {
      name: 'backend-developers',
      authorizationName: 'developer-role',
      endpointName: 'postgres-dev-access',
      target: {
        name: 'postgres-production',
        host: props.primary.host,
        port: props.primary.port,
        databaseName: 'production',
        credentials: secret(props.primarySecret),
        tls: {
          mode: 'verify-full',
          rootCert: certificate('ca-cert.pem'),
          clientCert: certificate('client-cert.pem'),
          clientKey: certificate('client-key.pem'),
        },
        maxConnections: 100,
        minConnections: 20,
      },
      permissions: { grants: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'], schemas: ['public', 'app'], tables: ['*'] },
      ttl: '8h',
      members: ['dev1@company.com', 'dev2@company.com'],
    });

    this.analysts = new PostgresAccess(this, 'analysts', {
      name: 'data-analysts',
      authorizationName: 'analyst-role',
      endpointName: 'postgres-analyst-access',
      target: {
        name: 'postgres-read-replica',
        host: props.replica.host,
        port: props.replica.port,
        databaseName: 'production',
        credentials: secret(props.replicaSecret),
        // No root certificate: the server is verified against the system's trust store.
        tls: { mode: 'verify-full' },
      },
      permissions: { grants: ['SELECT'], schemas: ['public', 'analytics'], tables: ['*'] },
      ttl: '12h',
      members: ['analyst1@company.com', 'analyst2@company.com'],
    });

    new TerraformOutput(this, 'developer_credentials', { value: this.developers.credentials, sensitive: true });
    new TerraformOutput(this, 'analyst_credentials', { value: this.analysts.credentials, sensitive: true });
  }
}
