/**
 * The one module that imports the CDK core. Everything hand-written in src/constructs, the
 * examples and the tests take `cdktf` and `constructs` from here, so building against
 * another core (CDK Terrain, `cdktn`) means changing these two imports and regenerating the
 * bindings (see README.md), not editing every file.
 */
export {
  App,
  AssetType,
  Fn,
  LocalBackend,
  TerraformAsset,
  TerraformHclModule,
  TerraformOutput,
  TerraformStack,
  TerraformVariable,
  Testing,
  Token,
} from 'cdktf';
export type { AppConfig, IResolvable, ITerraformDependable, LocalBackendConfig, TerraformResource, TerraformHclModuleConfig, TerraformOutputConfig, TerraformVariableConfig } from 'cdktf';
export { Construct } from 'constructs';
export type { IConstruct, IValidation } from 'constructs';
