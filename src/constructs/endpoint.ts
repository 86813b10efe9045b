/**
 * `Endpoint`: an authorization applied to a target for a time-to-live
 * (`adaptive_endpoint`). On the target it becomes one NOLOGIN access role holding the
 * authorization's grants; members of groups using the endpoint get logins in that role.
 */
import { checkName, checkTtl } from '../runtime/validation';
import { checkSessionSettings } from '../runtime/validation/session-settings';
import { Construct } from './cdk';
import { Authorization } from './authorization';
import { endpoint as l1 } from './generated/providers/adaptive';
import { PostgresTarget } from './target';
import { forSynth, validateWith } from './validation';

/** Properties of an {@link Endpoint}. */
export interface EndpointProps {
  /** Unique name; groups refer to it (`name`). 1-63 letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /**
   * The target (`resource`): a {@link PostgresTarget} of this app (Terraform then creates it
   * first), or the name of one managed elsewhere.
   */
  readonly target: PostgresTarget | string;
  /**
   * The permission set to apply (`authorization`): an {@link Authorization} of this app, or
   * the name of one managed elsewhere.
   */
  readonly authorization: Authorization | string;
  /**
   * How long each member's credential lives from its grant (`ttl`): a number and a unit,
   * e.g. `30m`, `8h`, `1h30m`, `1d`, `7d`, `90d` (from 1s to 365d).
   */
  readonly ttl: string;
  /** Schemas the members' sessions search, in order (`search_path`); omitted: the database's default. */
  readonly searchPath?: string[];
  /** Longest a member's statement may run (`statement_timeout`): `30s`, `5m`, `1h`, or `0` for none. */
  readonly statementTimeout?: string;
  /** How long a member's session may sit idle (`idle_session_timeout`, PostgreSQL 14+), written like `statementTimeout`. */
  readonly idleSessionTimeout?: string;
  /** Most sessions each member may have open at once (`connection_limit`), at least 1; omitted: no limit. */
  readonly connectionLimit?: number;
  /** Time zone of the members' sessions (`timezone`). */
  readonly timezone?: string;
  /** `application_name` of the members' sessions unless their client sets one. */
  readonly applicationName?: string;
}

/** An authorization applied to a target for a ttl (`adaptive_endpoint`, `type = "direct"`). */
export class Endpoint extends Construct {
  /** The underlying `adaptive_endpoint` (L1). */
  readonly endpoint: l1.Endpoint;
  /** The endpoint's name, as a reference: using it makes dependents wait for the endpoint. */
  readonly endpointName: string;
  /** The NOLOGIN PostgreSQL role on the target that holds the grants. */
  readonly accessRole: string;

  constructor(scope: Construct, id: string, props: EndpointProps) {
    super(scope, id);
    this.endpoint = new l1.Endpoint(this, 'Default', {
      name: props.name,
      type: 'direct',
      ttl: props.ttl,
      resource: props.target instanceof PostgresTarget ? props.target.targetName : props.target,
      authorization: props.authorization instanceof Authorization ? props.authorization.authorizationName : props.authorization,
      ...(props.searchPath !== undefined && { searchPath: props.searchPath }),
      ...(props.statementTimeout !== undefined && { statementTimeout: props.statementTimeout }),
      ...(props.idleSessionTimeout !== undefined && { idleSessionTimeout: props.idleSessionTimeout }),
      ...(props.connectionLimit !== undefined && { connectionLimit: props.connectionLimit }),
      ...(props.timezone !== undefined && { timezone: props.timezone }),
      ...(props.applicationName !== undefined && { applicationName: props.applicationName }),
    });
    this.endpointName = this.endpoint.name;
    this.accessRole = this.endpoint.accessRole;
    validateWith(this, () => {
      const e = this.endpoint;
      return [
        ...checkName(forSynth(e.nameInput) as string, 'name'),
        ...checkTtl(forSynth(e.ttlInput) as string),
        ...checkName(forSynth(e.resourceInput) as string, 'resource'),
        ...checkName(forSynth(e.authorizationInput) as string, 'authorization'),
        ...checkSessionSettings({
          search_path: forSynth(e.searchPathInput) as string[] | undefined,
          statement_timeout: forSynth(e.statementTimeoutInput),
          idle_session_timeout: forSynth(e.idleSessionTimeoutInput),
          connection_limit: forSynth(e.connectionLimitInput),
          timezone: forSynth(e.timezoneInput),
          application_name: forSynth(e.applicationNameInput),
        }),
      ];
    });
  }
}
