/**
 * The HCL module examples/modules/postgres-access used from CDKTF: the module's folder is
 * copied into the stack as an asset (so the synthesized stack stands alone) and
 * instantiated with TerraformHclModule.
 */
import path from 'node:path';
import { AdaptiveProvider } from '../../src/constructs';
import { AssetType, TerraformAsset, TerraformHclModule, TerraformOutput, TerraformStack, TerraformVariable, type Construct } from '../../src/constructs/cdk';
import type { ModuleSettings } from './settings';
import { localBackend } from './stack-paths';

/** The module's source folder. */
export const POSTGRES_ACCESS_MODULE = path.resolve(__dirname, '..', 'modules', 'postgres-access');

/** Properties of the module stack. */
export interface ModuleStackProps extends ModuleSettings {
  /** Where the local state file goes. */
  readonly stateDir: string;
}

export class ModuleStack extends TerraformStack {
  /** The module instance; its `credentials` output is sensitive. */
  readonly analysts: TerraformHclModule;

  constructor(scope: Construct, id: string, props: ModuleStackProps) {
    super(scope, id);
    localBackend(this, props.stateDir);
    new AdaptiveProvider(this, 'adaptive');

    // Given at apply time (TF_VAR_pg_password).
    const password = new TerraformVariable(this, 'pg_password', { type: 'string', sensitive: true });
    const module = new TerraformAsset(this, 'postgres-access-module', { path: POSTGRES_ACCESS_MODULE, type: AssetType.DIRECTORY });

    this.analysts = new TerraformHclModule(this, 'analysts', {
      source: `./${module.path}`,
      // The asset above already places the module inside the stack.
      skipAssetCreationFromLocalModules: true,
      variables: {
        name: 'cdktf-module-analysts',
        target: {
          name: 'cdktf-module-postgres',
          host: props.server.host,
          port: props.server.port,
          database_name: props.databaseName,
          username: props.username,
        },
        admin_password: password.stringValue,
        grants: { grants: ['SELECT'], schemas: ['public', 'analytics'], tables: ['*'] },
        ttl: '12h',
        members: ['analyst1@company.com', 'analyst2@company.com'],
      },
    });

    new TerraformOutput(this, 'analyst_credentials', { value: this.analysts.interpolationForOutput('credentials'), sensitive: true });
  }
}
