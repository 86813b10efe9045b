// https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface GroupConfig extends cdktf.TerraformMetaArguments {
  /**
  * With `secrets_manager`: Secrets Manager endpoint override (VPC endpoints, local testing); default the provider `aws_endpoint`, then the SDK configuration.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#aws_endpoint Group#aws_endpoint}
  */
  readonly awsEndpoint?: string;
  /**
  * With `secrets_manager`: the region of the secrets; default the provider `aws_region`, then the AWS SDK configuration.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#aws_region Group#aws_region}
  */
  readonly awsRegion?: string;
  /**
  * Where members' passwords go: `state`, `secrets_manager`, `none` (default `state`). `state`: in `credentials`, so in Terraform state. `secrets_manager`: one AWS Secrets Manager secret per member and endpoint (see `secret_prefix`; state holds only their ARNs, in `secrets`), deleted without recovery when the credential is revoked or reaped. `none`: no standing credential at all; the group only makes its members eligible for on-demand credentials. Changing it revokes the credentials delivered the old way and issues new ones the new way.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#credential_delivery Group#credential_delivery}
  */
  readonly credentialDelivery?: string;
  /**
  * Names of the `adaptive_endpoint`s the members get.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#endpoints Group#endpoints}
  */
  readonly endpoints: string[];
  /**
  * Email addresses of the people in the group (compared case-insensitively; each person once). Their order changes no access: reordering the list shows as an in-place update that issues and revokes nothing.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#members Group#members}
  */
  readonly members: string[];
  /**
  * Unique name of the group. Changing it replaces the group (new credentials).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#name Group#name}
  */
  readonly name: string;
  /**
  * With `credential_delivery = "secrets_manager"` (and required with it): each secret is named `<secret_prefix><group>/<member>/<endpoint>`. 1 to 256 characters: ASCII letters, digits and / _ + . @ - (Secrets Manager's name characters, but '='), e.g. adaptive/prod/. Characters of an email that Secrets Manager does not allow in a name are written as `=` and two hex digits (`=` itself as `=3D`).
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#secret_prefix Group#secret_prefix}
  */
  readonly secretPrefix?: string;
}
export interface GroupCredentials {
}

export function groupCredentialsToTerraform(struct?: GroupCredentials): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
  }
}


export function groupCredentialsToHclTerraform(struct?: GroupCredentials): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
  };
  return attrs;
}

export class GroupCredentialsOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectKey the key of this item in the map
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectKey: string) {
    super(terraformResource, terraformAttribute, false, complexObjectKey);
  }

  public get internalValue(): GroupCredentials | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GroupCredentials | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
    }
  }

  // ca_cert - computed: true, optional: false, required: false
  public get caCert() {
    return this.getStringAttribute('ca_cert');
  }

  // database - computed: true, optional: false, required: false
  public get database() {
    return this.getStringAttribute('database');
  }

  // endpoint - computed: true, optional: false, required: false
  public get endpoint() {
    return this.getStringAttribute('endpoint');
  }

  // expires_at - computed: true, optional: false, required: false
  public get expiresAt() {
    return this.getStringAttribute('expires_at');
  }

  // host - computed: true, optional: false, required: false
  public get host() {
    return this.getStringAttribute('host');
  }

  // member - computed: true, optional: false, required: false
  public get member() {
    return this.getStringAttribute('member');
  }

  // password - computed: true, optional: false, required: false
  public get password() {
    return this.getStringAttribute('password');
  }

  // port - computed: true, optional: false, required: false
  public get port() {
    return this.getNumberAttribute('port');
  }

  // sslmode - computed: true, optional: false, required: false
  public get sslmode() {
    return this.getStringAttribute('sslmode');
  }

  // uri - computed: true, optional: false, required: false
  public get uri() {
    return this.getStringAttribute('uri');
  }

  // username - computed: true, optional: false, required: false
  public get username() {
    return this.getStringAttribute('username');
  }
}

export class GroupCredentialsMap extends cdktf.ComplexMap {

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string) {
    super(terraformResource, terraformAttribute)
  }

  /**
  * @param key the key of the item to return
  */
  public get(key: string): GroupCredentialsOutputReference {
    return new GroupCredentialsOutputReference(this.terraformResource, this.terraformAttribute, key);
  }
}
export interface GroupSecrets {
}

export function groupSecretsToTerraform(struct?: GroupSecrets): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  return {
  }
}


export function groupSecretsToHclTerraform(struct?: GroupSecrets): any {
  if (!cdktf.canInspect(struct) || cdktf.Tokenization.isResolvable(struct)) { return struct; }
  if (cdktf.isComplexElement(struct)) {
    throw new Error("A complex element was used as configuration, this is not supported: https://cdk.tf/complex-object-as-configuration");
  }
  const attrs = {
  };
  return attrs;
}

export class GroupSecretsOutputReference extends cdktf.ComplexObject {
  private isEmptyObject = false;

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  * @param complexObjectKey the key of this item in the map
  */
  public constructor(terraformResource: cdktf.IInterpolatingParent, terraformAttribute: string, complexObjectKey: string) {
    super(terraformResource, terraformAttribute, false, complexObjectKey);
  }

  public get internalValue(): GroupSecrets | undefined {
    let hasAnyValues = this.isEmptyObject;
    const internalValueResult: any = {};
    return hasAnyValues ? internalValueResult : undefined;
  }

  public set internalValue(value: GroupSecrets | undefined) {
    if (value === undefined) {
      this.isEmptyObject = false;
    }
    else {
      this.isEmptyObject = Object.keys(value).length === 0;
    }
  }

  // arn - computed: true, optional: false, required: false
  public get arn() {
    return this.getStringAttribute('arn');
  }

  // endpoint - computed: true, optional: false, required: false
  public get endpoint() {
    return this.getStringAttribute('endpoint');
  }

  // expires_at - computed: true, optional: false, required: false
  public get expiresAt() {
    return this.getStringAttribute('expires_at');
  }

  // member - computed: true, optional: false, required: false
  public get member() {
    return this.getStringAttribute('member');
  }
}

export class GroupSecretsMap extends cdktf.ComplexMap {

  /**
  * @param terraformResource The parent resource
  * @param terraformAttribute The attribute on the parent resource this class is referencing
  */
  constructor(protected terraformResource: cdktf.IInterpolatingParent, protected terraformAttribute: string) {
    super(terraformResource, terraformAttribute)
  }

  /**
  * @param key the key of the item to return
  */
  public get(key: string): GroupSecretsOutputReference {
    return new GroupSecretsOutputReference(this.terraformResource, this.terraformAttribute, key);
  }
}

/**
* Represents a {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group adaptive_group}
*/
export class Group extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "adaptive_group";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Group resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Group to import
  * @param importFromId The id of the existing Group that should be imported. Refer to the {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Group to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "adaptive_group", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/group adaptive_group} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options GroupConfig
  */
  public constructor(scope: Construct, id: string, config: GroupConfig) {
    super(scope, id, {
      terraformResourceType: 'adaptive_group',
      terraformGeneratorMetadata: {
        providerName: 'adaptive',
        providerVersion: '0.1.0'
      },
      provider: config.provider,
      dependsOn: config.dependsOn,
      count: config.count,
      lifecycle: config.lifecycle,
      provisioners: config.provisioners,
      connection: config.connection,
      forEach: config.forEach
    });
    this._awsEndpoint = config.awsEndpoint;
    this._awsRegion = config.awsRegion;
    this._credentialDelivery = config.credentialDelivery;
    this._endpoints = config.endpoints;
    this._members = config.members;
    this._name = config.name;
    this._secretPrefix = config.secretPrefix;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // aws_endpoint - computed: false, optional: true, required: false
  private _awsEndpoint?: string; 
  public get awsEndpoint() {
    return this.getStringAttribute('aws_endpoint');
  }
  public set awsEndpoint(value: string) {
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
    return this.getStringAttribute('aws_region');
  }
  public set awsRegion(value: string) {
    this._awsRegion = value;
  }
  public resetAwsRegion() {
    this._awsRegion = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get awsRegionInput() {
    return this._awsRegion;
  }

  // credential_delivery - computed: true, optional: true, required: false
  private _credentialDelivery?: string; 
  public get credentialDelivery() {
    return this.getStringAttribute('credential_delivery');
  }
  public set credentialDelivery(value: string) {
    this._credentialDelivery = value;
  }
  public resetCredentialDelivery() {
    this._credentialDelivery = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get credentialDeliveryInput() {
    return this._credentialDelivery;
  }

  // credentials - computed: true, optional: false, required: false
  private _credentials = new GroupCredentialsMap(this, "credentials");
  public get credentials() {
    return this._credentials;
  }

  // drift - computed: true, optional: false, required: false
  public get drift() {
    return this.getListAttribute('drift');
  }

  // endpoints - computed: false, optional: false, required: true
  private _endpoints?: string[]; 
  public get endpoints() {
    return cdktf.Fn.tolist(this.getListAttribute('endpoints'));
  }
  public set endpoints(value: string[]) {
    this._endpoints = value;
  }
  // Temporarily expose input value. Use with caution.
  public get endpointsInput() {
    return this._endpoints;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // members - computed: false, optional: false, required: true
  private _members?: string[]; 
  public get members() {
    return this.getListAttribute('members');
  }
  public set members(value: string[]) {
    this._members = value;
  }
  // Temporarily expose input value. Use with caution.
  public get membersInput() {
    return this._members;
  }

  // name - computed: false, optional: false, required: true
  private _name?: string; 
  public get name() {
    return this.getStringAttribute('name');
  }
  public set name(value: string) {
    this._name = value;
  }
  // Temporarily expose input value. Use with caution.
  public get nameInput() {
    return this._name;
  }

  // secret_prefix - computed: false, optional: true, required: false
  private _secretPrefix?: string; 
  public get secretPrefix() {
    return this.getStringAttribute('secret_prefix');
  }
  public set secretPrefix(value: string) {
    this._secretPrefix = value;
  }
  public resetSecretPrefix() {
    this._secretPrefix = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get secretPrefixInput() {
    return this._secretPrefix;
  }

  // secrets - computed: true, optional: false, required: false
  private _secrets = new GroupSecretsMap(this, "secrets");
  public get secrets() {
    return this._secrets;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      aws_endpoint: cdktf.stringToTerraform(this._awsEndpoint),
      aws_region: cdktf.stringToTerraform(this._awsRegion),
      credential_delivery: cdktf.stringToTerraform(this._credentialDelivery),
      endpoints: cdktf.listMapper(cdktf.stringToTerraform, false)(this._endpoints),
      members: cdktf.listMapper(cdktf.stringToTerraform, false)(this._members),
      name: cdktf.stringToTerraform(this._name),
      secret_prefix: cdktf.stringToTerraform(this._secretPrefix),
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
      credential_delivery: {
        value: cdktf.stringToHclTerraform(this._credentialDelivery),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      endpoints: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._endpoints),
        isBlock: false,
        type: "set",
        storageClassType: "stringList",
      },
      members: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._members),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      secret_prefix: {
        value: cdktf.stringToHclTerraform(this._secretPrefix),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
