/**
 * `adaptive_resource` with `type = "postgres_aws_secrets_manager"`: Adaptive's own spelling of
 * a target whose admin credentials and address are in AWS Secrets Manager, read with an IAM
 * role assumed through STS:
 *
 *   type = "postgres_aws_secrets_manager", arn = <role>, region = <region>, secret_id = <secret>
 *
 * It is the `use_aws_secrets` form under other names (`secret_id` = `aws_secret_name`,
 * `region` = `aws_region`, `arn` = `aws_role_arn`), so the attributes are mapped onto that form
 * and checked by the same rules; an issue found on a mapped attribute is reported on the
 * attribute the user wrote.
 *
 * Decisions:
 * - `secret_id` is required; `arn` and `region` are optional (without `arn` the AWS
 *   credentials read the secret themselves; without `region` the provider's `aws_region`,
 *   then the SDK's configuration, decide).
 * - `host`, `port` and `database_name` are optional: the secret's `host`, `port` and `dbname`
 *   give the address (as the RDS secret format holds it); set, they win, as with
 *   `use_aws_secrets`.
 * - Not with the `use_aws_secrets` spelling (`use_aws_secrets`, `aws_secret_name`,
 *   `aws_region`, `aws_role_arn`), nor with `password`, `password_wo` or `connection_url`:
 *   one name for each setting, and the password is the secret's. The static keys
 *   (`aws_access_key_id`...) and the endpoints (`aws_endpoint`, `aws_sts_endpoint`) keep
 *   their names: they sign and route the AssumeRole and GetSecretValue requests.
 * - `arn`, `region` and `secret_id` with any other type are refused, naming the attribute.
 */
import type { ValidationIssue } from '../types';
import { isAbsent, isUnknown, issue, show, UNKNOWN } from './common';
import type { TargetInput } from './target';

/** The type that selects this form. */
export const ADAPTIVE_SECRETS_MANAGER_TYPE = 'postgres_aws_secrets_manager';

/** This form's attributes, with the `use_aws_secrets` attribute each stands for. */
const ADAPTIVE_NAMES = { secret_id: 'aws_secret_name', region: 'aws_region', arn: 'aws_role_arn' } as const;
type AdaptiveField = keyof typeof ADAPTIVE_NAMES;
const ADAPTIVE_FIELDS = Object.keys(ADAPTIVE_NAMES) as AdaptiveField[];

/** Attributes refused with this type, and what to write instead. */
const REFUSED: Readonly<Record<string, string>> = {
  use_aws_secrets: 'this type always reads the admin credentials from the secret secret_id; remove use_aws_secrets',
  aws_secret_name: 'secret_id names the secret with this type; remove aws_secret_name',
  aws_region: 'region gives the region with this type; remove aws_region',
  aws_role_arn: 'arn gives the role to assume with this type; remove aws_role_arn',
  password: 'the admin password comes from the secret secret_id; remove password',
  password_wo: 'the admin password comes from the secret secret_id; remove password_wo',
  connection_url: 'the secret secret_id gives the address (host, port and database_name may override it); remove connection_url',
};

/** An IAM role's ARN: `arn:<partition>:iam::<12-digit account>:role/<path and name>`. */
const ROLE_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Issues with a role ARN given in `field`; none when it is well formed. */
export function checkRoleArn(value: unknown, field: string): ValidationIssue[] {
  const hint = 'write the ARN of the IAM role to assume, e.g. arn:aws:iam::123456789012:role/secretsAccessRole';
  if (typeof value !== 'string') return [issue(field, `must be a string; ${hint}`)];
  if (value === '') return [issue(field, `is empty; ${hint} (or leave it out)`)];
  if (!ROLE_ARN.test(value)) return [issue(field, `${show(value)} is not the ARN of an IAM role; ${hint}`)];
  return [];
}

export interface AdaptiveExpansion {
  /** The input in the `use_aws_secrets` spelling. */
  readonly input: TargetInput;
  /** Issues about the combination of attributes. */
  readonly issues: ValidationIssue[];
  /** Moves issues found on mapped attributes to the attribute the user wrote. */
  readonly attribute: (issues: readonly ValidationIssue[]) => ValidationIssue[];
}

const unchanged = (found: readonly ValidationIssue[]): ValidationIssue[] => [...found];

/** Adaptive's form mapped onto the `use_aws_secrets` form; see the decisions above. */
export function withAdaptiveSecretsManager(input: TargetInput): AdaptiveExpansion {
  const type = input.type;
  const given = ADAPTIVE_FIELDS.filter((field) => !isAbsent(input[field]));
  if (isUnknown(type)) {
    // Which form applies is not known yet: what the secret would give stands as unknown.
    if (given.length === 0) return { input, issues: [], attribute: unchanged };
    const filled: Record<string, unknown> = { ...input };
    for (const field of ['host', 'database_name', 'username', 'password', 'use_aws_secrets'] as const) if (isAbsent(input[field])) filled[field] = UNKNOWN;
    return { input: filled, issues: [], attribute: unchanged };
  }
  if (type !== ADAPTIVE_SECRETS_MANAGER_TYPE) {
    const issues = given.map((field) =>
      issue(
        field,
        `is only used with type = "${ADAPTIVE_SECRETS_MANAGER_TYPE}" (Adaptive's Secrets Manager form); ` +
          `with type = "postgres" write use_aws_secrets = true with ${ADAPTIVE_NAMES[field]}, or remove ${field}`,
      ),
    );
    return { input, issues, attribute: unchanged };
  }

  const issues: ValidationIssue[] = [];
  for (const [field, instead] of Object.entries(REFUSED)) {
    const value = input[field as keyof TargetInput];
    if (isAbsent(value)) continue;
    issues.push(issue(field, `is not used with type = "${ADAPTIVE_SECRETS_MANAGER_TYPE}": ${instead}`));
  }
  if (isAbsent(input.secret_id)) {
    issues.push(
      issue('secret_id', `is required with type = "${ADAPTIVE_SECRETS_MANAGER_TYPE}": the name or ARN of the secret holding username, password, host, port and dbname`),
    );
  }
  const filled: Record<string, unknown> = {
    ...input,
    type: 'postgres',
    use_aws_secrets: true,
    // A missing secret_id was reported above, in this form's terms.
    aws_secret_name: isAbsent(input.secret_id) ? UNKNOWN : input.secret_id,
    aws_region: input.region,
    aws_role_arn: input.arn,
    // Refused above; left out so the use_aws_secrets rules do not report them again.
    password: undefined,
    password_wo: undefined,
    connection_url: undefined,
  };
  // From the secret when not set: they stand as unknown so that "is required" does not apply.
  for (const field of ['host', 'database_name'] as const) if (isAbsent(input[field])) filled[field] = UNKNOWN;
  const byUseAwsName = new Map<string, AdaptiveField>(ADAPTIVE_FIELDS.map((field) => [ADAPTIVE_NAMES[field], field]));
  return {
    input: filled,
    issues,
    attribute: (found) =>
      found.map((item) => {
        const own = byUseAwsName.get(item.field);
        return own === undefined ? item : issue(own, item.message.split(item.field).join(own));
      }),
  };
}
