/**
 * `PostgresAccess`: the whole pattern in one construct. A target, a permission set, an
 * endpoint applying it for a ttl, and a group of people given that endpoint, wired from
 * one props object: what four HCL blocks say in the PostgreSQL guide.
 */
import { Construct } from './cdk';
import { AccessGroup } from './access-group';
import { Authorization } from './authorization';
import { Endpoint } from './endpoint';
import type { group as l1Group } from './generated/providers/adaptive';
import type { Permissions } from './permissions';
import { PostgresTarget, type PostgresTargetProps } from './target';

/** Properties of a {@link PostgresAccess}. */
export interface PostgresAccessProps {
  /**
   * Default name of the authorization, the endpoint and the group this construct creates
   * (each kind has its own namespace, so one name serves all three).
   */
  readonly name: string;
  /**
   * The target: an existing {@link PostgresTarget} (shared between several accesses), or the
   * properties of a new one, created as a child named `Target`.
   */
  readonly target: PostgresTarget | PostgresTargetProps;
  /** What the members may do on the target. */
  readonly permissions: Permissions;
  /** How long each member's credential lives from its grant, e.g. `8h`, `12h`, `7d`. */
  readonly ttl: string;
  /** Email addresses of the people given access. */
  readonly members: readonly string[];
  /**
   * Description of the authorization.
   * @default none
   */
  readonly description?: string;
  /**
   * Name of the authorization.
   * @default `name`
   */
  readonly authorizationName?: string;
  /**
   * Name of the endpoint.
   * @default `name`
   */
  readonly endpointName?: string;
  /**
   * Name of the group.
   * @default `name`
   */
  readonly groupName?: string;
}

/** A target, an authorization, an endpoint and a group, wired together. */
export class PostgresAccess extends Construct {
  /** The target (created here, or the one passed in). */
  readonly target: PostgresTarget;
  /** The permission set. */
  readonly authorization: Authorization;
  /** The authorization applied to the target for `ttl`. */
  readonly endpoint: Endpoint;
  /** The people given the endpoint. */
  readonly group: AccessGroup;

  constructor(scope: Construct, id: string, props: PostgresAccessProps) {
    super(scope, id);
    this.target = props.target instanceof PostgresTarget ? props.target : new PostgresTarget(this, 'Target', props.target);
    this.authorization = new Authorization(this, 'Authorization', {
      name: props.authorizationName ?? props.name,
      permissions: props.permissions,
      ...(props.description !== undefined && { description: props.description }),
    });
    this.endpoint = new Endpoint(this, 'Endpoint', {
      name: props.endpointName ?? props.name,
      target: this.target,
      authorization: this.authorization,
      ttl: props.ttl,
    });
    this.group = new AccessGroup(this, 'Group', {
      name: props.groupName ?? props.name,
      members: props.members,
      endpoints: [this.endpoint],
    });
  }

  /** The members' credentials (sensitive); see {@link AccessGroup.credentials}. */
  get credentials(): l1Group.GroupCredentialsMap {
    return this.group.credentials;
  }
}
