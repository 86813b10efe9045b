// https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint
// generated from terraform resource schema

import { Construct } from 'constructs';
import * as cdktf from 'cdktf';

// Configuration

export interface EndpointConfig extends cdktf.TerraformMetaArguments {
  /**
  * `application_name` of the members' sessions unless their client sets one. Omitted: none.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#application_name Endpoint#application_name}
  */
  readonly applicationName?: string;
  /**
  * Name of the `adaptive_authorization` whose grants the endpoint applies.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#authorization Endpoint#authorization}
  */
  readonly authorization: string;
  /**
  * Most sessions each member may have open at once on this endpoint (per login role), at least 1. Omitted: no limit.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#connection_limit Endpoint#connection_limit}
  */
  readonly connectionLimit?: number;
  /**
  * How long a member's session may sit idle (outside a transaction) before PostgreSQL ends it, written like `statement_timeout`. PostgreSQL 14 and later.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#idle_session_timeout Endpoint#idle_session_timeout}
  */
  readonly idleSessionTimeout?: string;
  /**
  * Unique name; groups refer to it. Changing it replaces the endpoint.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#name Endpoint#name}
  */
  readonly name: string;
  /**
  * Name of the `adaptive_resource` (target). Changing it replaces the endpoint.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#resource Endpoint#resource}
  */
  readonly resource: string;
  /**
  * Schemas the members' sessions search, in order, e.g. `["app", "public"]` (schema names, or `$user`). Omitted: the database's default.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#search_path Endpoint#search_path}
  */
  readonly searchPath?: string[];
  /**
  * Longest a member's statement may run before PostgreSQL cancels it: `30s`, `5m`, `1h` (units s, m, h, d; up to 24d), or `0` for none. Omitted: the database's default.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#statement_timeout Endpoint#statement_timeout}
  */
  readonly statementTimeout?: string;
  /**
  * Time zone of the members' sessions, e.g. `UTC` or `Europe/Berlin`. Omitted: the database's default.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#timezone Endpoint#timezone}
  */
  readonly timezone?: string;
  /**
  * How long each credential lives from its grant: a number and a unit, e.g. `30m`, `8h`, `1h30m`, `1d`, `7d`, `90d` (1s to 365d). Changing it moves the expiry of live credentials to grant time + ttl.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#ttl Endpoint#ttl}
  */
  readonly ttl: string;
  /**
  * How members reach the target. Only `direct` (members connect to PostgreSQL themselves) is supported.
  *
  * Docs at Terraform Registry: {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#type Endpoint#type}
  */
  readonly type: string;
}

/**
* Represents a {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint adaptive_endpoint}
*/
export class Endpoint extends cdktf.TerraformResource {

  // =================
  // STATIC PROPERTIES
  // =================
  public static readonly tfResourceType = "adaptive_endpoint";

  // ==============
  // STATIC Methods
  // ==============
  /**
  * Generates CDKTF code for importing a Endpoint resource upon running "cdktf plan <stack-name>"
  * @param scope The scope in which to define this construct
  * @param importToId The construct id used in the generated config for the Endpoint to import
  * @param importFromId The id of the existing Endpoint that should be imported. Refer to the {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint#import import section} in the documentation of this resource for the id to use
  * @param provider? Optional instance of the provider where the Endpoint to import is found
  */
  public static generateConfigForImport(scope: Construct, importToId: string, importFromId: string, provider?: cdktf.TerraformProvider) {
        return new cdktf.ImportableResource(scope, importToId, { terraformResourceType: "adaptive_endpoint", importId: importFromId, provider });
      }

  // ===========
  // INITIALIZER
  // ===========

  /**
  * Create a new {@link https://adaptive-access.local/providers/access/adaptive/0.1.0/docs/resources/endpoint adaptive_endpoint} Resource
  *
  * @param scope The scope in which to define this construct
  * @param id The scoped construct ID. Must be unique amongst siblings in the same scope
  * @param options EndpointConfig
  */
  public constructor(scope: Construct, id: string, config: EndpointConfig) {
    super(scope, id, {
      terraformResourceType: 'adaptive_endpoint',
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
    this._applicationName = config.applicationName;
    this._authorization = config.authorization;
    this._connectionLimit = config.connectionLimit;
    this._idleSessionTimeout = config.idleSessionTimeout;
    this._name = config.name;
    this._resource = config.resource;
    this._searchPath = config.searchPath;
    this._statementTimeout = config.statementTimeout;
    this._timezone = config.timezone;
    this._ttl = config.ttl;
    this._type = config.type;
  }

  // ==========
  // ATTRIBUTES
  // ==========

  // access_role - computed: true, optional: false, required: false
  public get accessRole() {
    return this.getStringAttribute('access_role');
  }

  // application_name - computed: false, optional: true, required: false
  private _applicationName?: string; 
  public get applicationName() {
    return this.getStringAttribute('application_name');
  }
  public set applicationName(value: string) {
    this._applicationName = value;
  }
  public resetApplicationName() {
    this._applicationName = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get applicationNameInput() {
    return this._applicationName;
  }

  // authorization - computed: false, optional: false, required: true
  private _authorization?: string; 
  public get authorization() {
    return this.getStringAttribute('authorization');
  }
  public set authorization(value: string) {
    this._authorization = value;
  }
  // Temporarily expose input value. Use with caution.
  public get authorizationInput() {
    return this._authorization;
  }

  // connection_limit - computed: false, optional: true, required: false
  private _connectionLimit?: number; 
  public get connectionLimit() {
    return this.getNumberAttribute('connection_limit');
  }
  public set connectionLimit(value: number) {
    this._connectionLimit = value;
  }
  public resetConnectionLimit() {
    this._connectionLimit = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get connectionLimitInput() {
    return this._connectionLimit;
  }

  // drift - computed: true, optional: false, required: false
  public get drift() {
    return this.getListAttribute('drift');
  }

  // id - computed: true, optional: false, required: false
  public get id() {
    return this.getStringAttribute('id');
  }

  // idle_session_timeout - computed: false, optional: true, required: false
  private _idleSessionTimeout?: string; 
  public get idleSessionTimeout() {
    return this.getStringAttribute('idle_session_timeout');
  }
  public set idleSessionTimeout(value: string) {
    this._idleSessionTimeout = value;
  }
  public resetIdleSessionTimeout() {
    this._idleSessionTimeout = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get idleSessionTimeoutInput() {
    return this._idleSessionTimeout;
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

  // resource - computed: false, optional: false, required: true
  private _resource?: string; 
  public get resource() {
    return this.getStringAttribute('resource');
  }
  public set resource(value: string) {
    this._resource = value;
  }
  // Temporarily expose input value. Use with caution.
  public get resourceInput() {
    return this._resource;
  }

  // search_path - computed: false, optional: true, required: false
  private _searchPath?: string[]; 
  public get searchPath() {
    return this.getListAttribute('search_path');
  }
  public set searchPath(value: string[]) {
    this._searchPath = value;
  }
  public resetSearchPath() {
    this._searchPath = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get searchPathInput() {
    return this._searchPath;
  }

  // statement_timeout - computed: false, optional: true, required: false
  private _statementTimeout?: string; 
  public get statementTimeout() {
    return this.getStringAttribute('statement_timeout');
  }
  public set statementTimeout(value: string) {
    this._statementTimeout = value;
  }
  public resetStatementTimeout() {
    this._statementTimeout = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get statementTimeoutInput() {
    return this._statementTimeout;
  }

  // timezone - computed: false, optional: true, required: false
  private _timezone?: string; 
  public get timezone() {
    return this.getStringAttribute('timezone');
  }
  public set timezone(value: string) {
    this._timezone = value;
  }
  public resetTimezone() {
    this._timezone = undefined;
  }
  // Temporarily expose input value. Use with caution.
  public get timezoneInput() {
    return this._timezone;
  }

  // ttl - computed: false, optional: false, required: true
  private _ttl?: string; 
  public get ttl() {
    return this.getStringAttribute('ttl');
  }
  public set ttl(value: string) {
    this._ttl = value;
  }
  // Temporarily expose input value. Use with caution.
  public get ttlInput() {
    return this._ttl;
  }

  // type - computed: false, optional: false, required: true
  private _type?: string; 
  public get type() {
    return this.getStringAttribute('type');
  }
  public set type(value: string) {
    this._type = value;
  }
  // Temporarily expose input value. Use with caution.
  public get typeInput() {
    return this._type;
  }

  // =========
  // SYNTHESIS
  // =========

  protected synthesizeAttributes(): { [name: string]: any } {
    return {
      application_name: cdktf.stringToTerraform(this._applicationName),
      authorization: cdktf.stringToTerraform(this._authorization),
      connection_limit: cdktf.numberToTerraform(this._connectionLimit),
      idle_session_timeout: cdktf.stringToTerraform(this._idleSessionTimeout),
      name: cdktf.stringToTerraform(this._name),
      resource: cdktf.stringToTerraform(this._resource),
      search_path: cdktf.listMapper(cdktf.stringToTerraform, false)(this._searchPath),
      statement_timeout: cdktf.stringToTerraform(this._statementTimeout),
      timezone: cdktf.stringToTerraform(this._timezone),
      ttl: cdktf.stringToTerraform(this._ttl),
      type: cdktf.stringToTerraform(this._type),
    };
  }

  protected synthesizeHclAttributes(): { [name: string]: any } {
    const attrs = {
      application_name: {
        value: cdktf.stringToHclTerraform(this._applicationName),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      authorization: {
        value: cdktf.stringToHclTerraform(this._authorization),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      connection_limit: {
        value: cdktf.numberToHclTerraform(this._connectionLimit),
        isBlock: false,
        type: "simple",
        storageClassType: "number",
      },
      idle_session_timeout: {
        value: cdktf.stringToHclTerraform(this._idleSessionTimeout),
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
      resource: {
        value: cdktf.stringToHclTerraform(this._resource),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      search_path: {
        value: cdktf.listMapperHcl(cdktf.stringToHclTerraform, false)(this._searchPath),
        isBlock: false,
        type: "list",
        storageClassType: "stringList",
      },
      statement_timeout: {
        value: cdktf.stringToHclTerraform(this._statementTimeout),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      timezone: {
        value: cdktf.stringToHclTerraform(this._timezone),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      ttl: {
        value: cdktf.stringToHclTerraform(this._ttl),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
      type: {
        value: cdktf.stringToHclTerraform(this._type),
        isBlock: false,
        type: "simple",
        storageClassType: "string",
      },
    };

    // remove undefined attributes
    return Object.fromEntries(Object.entries(attrs).filter(([_, value]) => value !== undefined && value.value !== undefined ))
  }
}
