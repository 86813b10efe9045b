// https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface AuthorizationConfig extends cdktf.TerraformMetaArguments {
  /**
  * What the permission set is for.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization#description Authorization#description}
  */
  readonly description?: string;
  /**
  * Unique name; endpoints refer to it. Changing it replaces the authorization.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization#name Authorization#name}
  */
  readonly name: string;
  /**
  * JSON, usually `jsonencode({ grants = [...], schemas = [...], tables = [...] })`. `grants`: SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER (or ALL). `schemas`: schema names. `tables`: names, `schema.table`, or `"*"` for every table now and later. Optional `sequences = { privileges = [USAGE, SELECT, UPDATE or ALL], names = [...] }`, names written like `tables`. Optional `functions`: routines to EXECUTE, `"*"`, `name`, `schema.name` (every overload) or `schema.name(argtypes)`. `grants` and `tables` may be left out together when `sequences` or `functions` grant something. Or Adaptive's YAML form, `allow:` entries of `database` (the target's database), `privileges` and `objects` (`ALL` = every table of schema public, `schema.*`, `schema.table`, `table`); entries must agree on database and privileges.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization#permissions Authorization#permissions}
  */
  readonly permissions: string;
  /**
  * The kind of target it applies to. Only `postgres` is supported.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization#resource_type Authorization#resource_type}
  */
  readonly resourceType: string;
}

/**
* Represents a {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization adaptive_authorization}
*/
export class Authorization extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "adaptive_authorization";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Authorization resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Authorization to import
  * @param importFromId The id of the existing Authorization that should be imported. Refer to the {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Authorization to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "adaptive_authorization", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/authorization adaptive_authorization} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options AuthorizationConfig
  */
  public constructor(scope: Construct, id: string, config: AuthorizationConfig) {
    super(scope, id, {
      terraformResourceType: 'adaptive_authorization',
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
    this._description = config.description;
    this._name = config.name;
    this._permissions = config.permissions;
    this._resourceType = config.resourceType;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // description - computed: false, optional: true, required: false
  private _description?: string; 
  public get description() {
    return this.getStringAttribute('description');
  }
  public set description(value: string) {
    this._description = value;
  }
  public resetDescription() {
    this._description = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get descriptionInput() {
    return this._description;
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
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

  // permissions - computed: false, optional: false, required: true
  private _permissions?: string; 
  public get permissions() {
    return this.getStringAttribute('permissions');
  }
  public set permissions(value: string) {
    this._permissions = value;
  }
  // Temporarily expose input value. Use with caution.
  public get permissionsInput() {
    return this._permissions;
  }

  // resource_type - computed: false, optional: false, required: true
  private _resourceType?: string; 
  public get resourceType() {
    return this.getStringAttribute('resource_type');
  }
  public set resourceType(value: string) {
    this._resourceType = value;
  }
  // Temporarily expose input value. Use with caution.
  public get resourceTypeInput() {
    return this._resourceType;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      description: cdktf.stringToTerraform(this._description),
      name: cdktf.stringToTerraform(this._name),
      permissions: cdktf.stringToTerraform(this._permissions),
      resource_type: cdktf.stringToTerraform(this._resourceType),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      description: {
        value: cdktf.stringToHclTerraform(this._description),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      name: {
        value: cdktf.stringToHclTerraform(this._name),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      permissions: {
        value: cdktf.stringToHclTerraform(this._permissions),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      resource_type: {
        value: cdktf.stringToHclTerraform(this._resourceType),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
