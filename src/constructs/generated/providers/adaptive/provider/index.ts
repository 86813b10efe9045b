// https://adaptive-access.local/providers/access/adaptive/0.1.0/docs
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AdaptiveProviderConfig {
  /**
  * Default Secrets Manager endpoint override (VPC endpoints, local testing).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#aws_endpoint AdaptiveProvider#aws_endpoint}
  */
  readonly awsEndpoint?: string;
  /**
  * Default AWS region for `adaptive_resource`s that use AWS Secrets Manager.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#aws_region AdaptiveProvider#aws_region}
  */
  readonly awsRegion?: string;
  /**
  * Default STS endpoint override for resources that assume an IAM role (`arn`, `aws_role_arn`): an STS VPC endpoint, or a local stand-in for testing.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#aws_sts_endpoint AdaptiveProvider#aws_sts_endpoint}
  */
  readonly awsStsEndpoint?: string;
  /**
  * Key that encrypts admin passwords and client keys stored in the catalog: 32 random bytes as 64 hex characters or base64 (`openssl rand -hex 32`). Default: `ADAPTIVE_CATALOG_KEY`. Needed whenever a target stores a secret here: `password`, `tls_key_file`, `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#catalog_key AdaptiveProvider#catalog_key}
  */
  readonly catalogKey?: string;
  /**
  * Schema of the catalog tables (default `adaptive`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#catalog_schema AdaptiveProvider#catalog_schema}
  */
  readonly catalogSchema?: string;
  /**
  * PostgreSQL URL of the catalog database (e.g. `postgres://user:pass@host:5432/adaptive`). Default: the `ADAPTIVE_CATALOG_URL` environment variable.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#catalog_url AdaptiveProvider#catalog_url}
  */
  readonly catalogUrl?: string;
  /**
  * During `terraform apply`, before the provider's first change, run the reaper over expired grants the catalog knows of: their sessions are ended and their roles dropped (default true). `terraform plan` and refresh never reap or write; between applies, run `adaptive-access reap`.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#reap_on_run AdaptiveProvider#reap_on_run}
  */
  readonly reapOnRun?: boolean | cdktf.IResolvable;
  /**
  * Alias name
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#alias AdaptiveProvider#alias}
  */
  readonly alias?: string;
}

/**
* Represents a {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs adaptive}
*/
export class AdaptiveProvider extends cdktf.TerraformProvider {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "adaptive";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a AdaptiveProvider resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the AdaptiveProvider to import
  * @param importFromId The id of the existing AdaptiveProvider that should be imported. Refer to the {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the AdaptiveProvider to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "adaptive", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs adaptive} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AdaptiveProviderConfig = {}
  */
  public constructor(scope: Construct, id: string, config: AdaptiveProviderConfig = {}) {
    super(scope, id, {
      terraformResourceType: 'adaptive',
      terraformGeneratorMetadata: {
        providerName: 'adaptive',
        providerVersion: '0.1.0'
      },
      terraformProviderSource: 'adaptive-access.local/access/adaptive'
    });
    this._awsEndpoint = config.awsEndpoint;
    this._awsRegion = config.awsRegion;
    this._awsStsEndpoint = config.awsStsEndpoint;
    this._catalogKey = config.catalogKey;
    this._catalogSchema = config.catalogSchema;
    this._catalogUrl = config.catalogUrl;
    this._reapOnRun = config.reapOnRun;
    this._alias = config.alias;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // aws_endpoint - computed: false, optional: true, required: false
  private _awsEndpoint?: string; 
  public get awsEndpoint() {
    return this._awsEndpoint;
  }
  public set awsEndpoint(value: string | undefined) {
    this._awsEndpoint = value;
  }
  public resetAwsEndpoint() {
    this._awsEndpoint = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsEndpointInput() {
    return this._awsEndpoint;
  }

  // aws_region - computed: false, optional: true, required: false
  private _awsRegion?: string; 
  public get awsRegion() {
    return this._awsRegion;
  }
  public set awsRegion(value: string | undefined) {
    this._awsRegion = value;
  }
  public resetAwsRegion() {
    this._awsRegion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsRegionInput() {
    return this._awsRegion;
  }

  // aws_sts_endpoint - computed: false, optional: true, required: false
  private _awsStsEndpoint?: string; 
  public get awsStsEndpoint() {
    return this._awsStsEndpoint;
  }
  public set awsStsEndpoint(value: string | undefined) {
    this._awsStsEndpoint = value;
  }
  public resetAwsStsEndpoint() {
    this._awsStsEndpoint = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsStsEndpointInput() {
    return this._awsStsEndpoint;
  }

  // catalog_key - computed: false, optional: true, required: false
  private _catalogKey?: string; 
  public get catalogKey() {
    return this._catalogKey;
  }
  public set catalogKey(value: string | undefined) {
    this._catalogKey = value;
  }
  public resetCatalogKey() {
    this._catalogKey = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get catalogKeyInput() {
    return this._catalogKey;
  }

  // catalog_schema - computed: false, optional: true, required: false
  private _catalogSchema?: string; 
  public get catalogSchema() {
    return this._catalogSchema;
  }
  public set catalogSchema(value: string | undefined) {
    this._catalogSchema = value;
  }
  public resetCatalogSchema() {
    this._catalogSchema = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get catalogSchemaInput() {
    return this._catalogSchema;
  }

  // catalog_url - computed: false, optional: true, required: false
  private _catalogUrl?: string; 
  public get catalogUrl() {
    return this._catalogUrl;
  }
  public set catalogUrl(value: string | undefined) {
    this._catalogUrl = value;
  }
  public resetCatalogUrl() {
    this._catalogUrl = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get catalogUrlInput() {
    return this._catalogUrl;
  }

  // reap_on_run - computed: false, optional: true, required: false
  private _reapOnRun?: boolean | cdktf.IResolvable; 
  public get reapOnRun() {
    return this._reapOnRun;
  }
  public set reapOnRun(value: boolean | cdktf.IResolvable | undefined) {
    this._reapOnRun = value;
  }
  public resetReapOnRun() {
    this._reapOnRun = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get reapOnRunInput() {
    return this._reapOnRun;
  }

  // alias - computed: false, optional: true, required: false
  private _alias?: string; 
  public get alias() {
    return this._alias;
  }
  public set alias(value: string | undefined) {
    this._alias = value;
  }
  public resetAlias() {
    this._alias = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get aliasInput() {
    return this._alias;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      aws_endpoint: cdktf.stringToTerraform(this._awsEndpoint),
      aws_region: cdktf.stringToTerraform(this._awsRegion),
      aws_sts_endpoint: cdktf.stringToTerraform(this._awsStsEndpoint),
      catalog_key: cdktf.stringToTerraform(this._catalogKey),
      catalog_schema: cdktf.stringToTerraform(this._catalogSchema),
      catalog_url: cdktf.stringToTerraform(this._catalogUrl),
      reap_on_run: cdktf.booleanToTerraform(this._reapOnRun),
      alias: cdktf.stringToTerraform(this._alias),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      aws_endpoint: {
        value: cdktf.stringToHclTerraform(this._awsEndpoint),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_region: {
        value: cdktf.stringToHclTerraform(this._awsRegion),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      aws_sts_endpoint: {
        value: cdktf.stringToHclTerraform(this._awsStsEndpoint),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      catalog_key: {
        value: cdktf.stringToHclTerraform(this._catalogKey),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      catalog_schema: {
        value: cdktf.stringToHclTerraform(this._catalogSchema),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      catalog_url: {
        value: cdktf.stringToHclTerraform(this._catalogUrl),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      reap_on_run: {
        value: cdktf.booleanToHclTerraform(this._reapOnRun),
        isBlock: false,
        type: "simple",
        storageClassType: "boolean",
      },
      alias: {
        value: cdktf.stringToHclTerraform(this._alias),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
