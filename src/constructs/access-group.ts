/**
 * `AccessGroup`: people, by email, given a set of endpoints (`adaptive_group`). Each
 * member gets a PostgreSQL login of their own per endpoint, valid for the endpoint's ttl;
 * the credentials come back as a sensitive attribute.
 */
import { checkMembers, checkName, checkNames } from '../runtime/validation';
import { Construct } from './cdk';
import { Endpoint } from './endpoint';
import { group as l1 } from './generated/providers/adaptive';
import { forSynth, validateWith } from './validation';

/** Properties of an {@link AccessGroup}. */
export interface AccessGroupProps {
  /** Unique name of the group (`name`); changing it replaces the group and its credentials. */
  readonly name: string;
  /** Email addresses of the people in the group (`members`), compared case-insensitively. */
  readonly members: readonly string[];
  /**
   * The endpoints the members get (`endpoints`): {@link Endpoint}s of this app, or names of
   * endpoints managed elsewhere.
   */
  readonly endpoints: ReadonlyArray<Endpoint | string>;
}

/** People given a set of endpoints (`adaptive_group`). */
export class AccessGroup extends Construct {
  /** The underlying `adaptive_group` (L1). */
  readonly group: l1.Group;
  /** The group's name, as a reference. */
  readonly groupName: string;

  constructor(scope: Construct, id: string, props: AccessGroupProps) {
    super(scope, id);
    this.group = new l1.Group(this, 'Default', {
      name: props.name,
      members: [...props.members],
      endpoints: props.endpoints.map((e) => (e instanceof Endpoint ? e.endpointName : e)),
    });
    this.groupName = this.group.name;
    validateWith(this, () => [
      ...checkName(forSynth(this.group.nameInput) as string, 'name'),
      ...checkMembers(forSynth(this.group.membersInput) as string[]),
      ...checkNames(forSynth(this.group.endpointsInput) as string[], 'endpoints'),
    ]);
  }

  /**
   * The issued credentials (sensitive): a map keyed `<endpoint>/<member>` (`.get(key)` for
   * one), one per member and endpoint, each with `member`, `endpoint`, `username`,
   * `password`, `expires_at`, `host`, `port`, `database`, `sslmode`, `uri` and `ca_cert`.
   * Hand them on with a sensitive `TerraformOutput`.
   */
  get credentials(): l1.GroupCredentialsMap {
    return this.group.credentials;
  }
}
