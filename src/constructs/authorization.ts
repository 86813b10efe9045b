/**
 * `Authorization`: a named permission set (`adaptive_authorization`) with typed
 * permissions instead of a JSON string. It grants nothing by itself; endpoints apply it.
 */
import { checkName, checkPermissions } from '../runtime/validation';
import { Construct } from './cdk';
import { authorization as l1 } from './generated/providers/adaptive';
import { permissionsJson, type Permissions } from './permissions';
import { forSynth, validateWith } from './validation';

/** Properties of an {@link Authorization}. */
export interface AuthorizationProps {
  /** Unique name; endpoints refer to it (`name`). 1-63 letters, digits, `-`, `_`, `.`. */
  readonly name: string;
  /** What the permission set is for (`description`). */
  readonly description?: string;
  /**
   * Which privileges on which tables of which schemas. Written to `permissions` as the JSON
   * text `jsonencode({ grants, schemas, tables })` produces.
   */
  readonly permissions: Permissions;
}

/** A permission set for PostgreSQL targets (`adaptive_authorization`, `resource_type = "postgres"`). */
export class Authorization extends Construct {
  /** The underlying `adaptive_authorization` (L1). */
  readonly authorization: l1.Authorization;
  /** The authorization's name, as a reference: using it makes dependents wait for it. */
  readonly authorizationName: string;

  constructor(scope: Construct, id: string, props: AuthorizationProps) {
    super(scope, id);
    this.authorization = new l1.Authorization(this, 'Default', {
      name: props.name,
      resourceType: 'postgres',
      permissions: permissionsJson(props.permissions),
      ...(props.description !== undefined && { description: props.description }),
    });
    this.authorizationName = this.authorization.name;
    validateWith(this, () => [
      ...checkName(forSynth(this.authorization.nameInput) as string, 'name'),
      ...checkPermissions(forSynth(this.authorization.permissionsInput)),
    ]);
  }
}
