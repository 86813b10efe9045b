/**
 * The value shapes `bench/terraform-alone.ts` gives a `terraform_data`: what a group of N
 * members puts in Terraform's hands, without the provider. Two kinds, as in the provider:
 *
 * - in the configuration, as a group's `members` are: one variable of a declared type, set
 *   from `terraform.tfvars.json` (decoded, not evaluated from `for` expressions), passed
 *   whole to `input`; terraform_data keeps it in the state twice (`input`, `output`);
 * - in the state only, computed, as a group's `credentials` are: `output` holds the value,
 *   `input` is a constant. terraform_data plans `output` as its prior value while `input`
 *   is unchanged, so the plan carries the value without any configuration producing it
 *   (converting a 10,000-key tfvars object to a map alone takes Terraform seconds, a cost
 *   the provider's computed attribute never has).
 */
import { createHash } from 'node:crypto';

export type ShapeId = 'emailSet' | 'emailList' | 'credentialList' | 'credentialMap';

export type Shape =
  | {
      readonly id: ShapeId;
      readonly in: 'configuration';
      /** The variable's Terraform type. */
      readonly type: string;
      /** The value for `members` members. */
      value(members: number): unknown;
    }
  | {
      readonly id: ShapeId;
      readonly in: 'state';
      /** The value's type as the state writes it (cty's JSON form). */
      readonly stateType: unknown;
      value(members: number): unknown;
    };

/** A row of the report: one terraform command on one shape, in the report's order. */
export interface RowSpec {
  readonly id: string;
  readonly what: (members: number) => string;
  readonly shape: ShapeId;
  readonly command: 'apply' | 'plan';
  /** The row this one is compared with (ratio = this / that), the same values in another shape. */
  readonly comparedWith: string | null;
}

export const ROWS: readonly RowSpec[] = [
  { id: 'emailSetApply', what: (n) => `apply (saved plan): ${n} emails as a set`, shape: 'emailSet', command: 'apply', comparedWith: 'emailListApply' },
  { id: 'emailListApply', what: (n) => `apply (saved plan): ${n} emails as a list`, shape: 'emailList', command: 'apply', comparedWith: null },
  { id: 'emailSetPlan', what: (n) => `no-op plan: ${n} emails as a set`, shape: 'emailSet', command: 'plan', comparedWith: 'emailListPlan' },
  { id: 'emailListPlan', what: (n) => `no-op plan: ${n} emails as a list`, shape: 'emailList', command: 'plan', comparedWith: null },
  { id: 'credentialListPlan', what: (n) => `no-op plan: ${n} credentials (computed) as a list`, shape: 'credentialList', command: 'plan', comparedWith: 'credentialMapPlan' },
  { id: 'credentialMapPlan', what: (n) => `no-op plan: ${n} credentials (computed) as a map`, shape: 'credentialMap', command: 'plan', comparedWith: null },
];

/** The main.tf of a shape's working directory. */
export function shapeConfig(shape: Shape): string {
  if (shape.in === 'state') return `resource "terraform_data" "shape" {\n  input = "${shape.id}"\n}\n`;
  return `variable "value" {\n  type = ${shape.type}\n}\n\nresource "terraform_data" "shape" {\n  input = var.value\n}\n`;
}

const ENDPOINT = 'postgres-dev-access';
const HOST = 'db.internal.example';
const DATABASE = 'production';

const email = (i: number): string => `member${String(i).padStart(5, '0')}@company.example`;

const emails = (members: number): string[] => Array.from({ length: members }, (_, i) => email(i));

/** The attributes of a group's credential (src/resources/adaptive-group.ts `credentialType`), as the state writes its type. */
const CREDENTIAL_TYPE = [
  'object',
  { member: 'string', endpoint: 'string', username: 'string', password: 'string', expires_at: 'string', host: 'string', port: 'number', database: 'string', sslmode: 'string', uri: 'string', ca_cert: 'string' },
];

/** One credential as the provider writes it: the login role `member/endpoint`, a 32-character password. */
function credential(i: number): Record<string, string | number | null> {
  const username = `${email(i)}/${ENDPOINT}`;
  const password = createHash('sha256').update(String(i)).digest().subarray(0, 24).toString('base64url');
  return {
    member: email(i),
    endpoint: ENDPOINT,
    username,
    password,
    expires_at: '2026-12-05T12:00:00.000Z',
    host: HOST,
    port: 5432,
    database: DATABASE,
    sslmode: 'verify-full',
    uri: `postgresql://${encodeURIComponent(username)}:${password}@${HOST}:5432/${DATABASE}?sslmode=verify-full&sslrootcert=system`,
    ca_cert: null,
  };
}

const credentials = (members: number): Record<string, string | number | null>[] => Array.from({ length: members }, (_, i) => credential(i));

export const SHAPES: Readonly<Record<ShapeId, Shape>> = {
  emailSet: { id: 'emailSet', in: 'configuration', type: 'set(string)', value: emails },
  emailList: { id: 'emailList', in: 'configuration', type: 'list(string)', value: emails },
  credentialList: { id: 'credentialList', in: 'state', stateType: ['list', CREDENTIAL_TYPE], value: credentials },
  credentialMap: {
    id: 'credentialMap',
    in: 'state',
    stateType: ['map', CREDENTIAL_TYPE],
    value: (members) => Object.fromEntries(credentials(members).map((c) => [`${String(c.endpoint)}/${String(c.member)}`, c])),
  },
};

/** The tfvars file setting the variable of a shape in the configuration to its value for `members` members. */
export function shapeVars(shape: Shape, members: number): string {
  return JSON.stringify({ value: shape.value(members) });
}

interface StateFile {
  serial: number;
  resources: { type: string; instances: { attributes: { input: { value: unknown }; output: { value: unknown; type: unknown } } }[] }[];
}

/**
 * The state holding the shape's value for `members` members, from the state of an apply with
 * 1 member (a shape in the configuration) or of the constant input (a shape in the state):
 * the same resource (id, lineage) with the full value where terraform_data keeps it. For a
 * shape in the configuration that is what an apply of N members leaves; setting up a no-op
 * plan this way costs no apply of N values (the set's apply is quadratic: minutes at
 * 10,000).
 */
export function stateWithMembers(oneMemberState: string, shape: Shape, members: number): string {
  const state = JSON.parse(oneMemberState) as StateFile;
  const instance = state.resources.find((r) => r.type === 'terraform_data')?.instances[0];
  if (instance === undefined) throw new Error('the setup apply left no terraform_data in the state');
  const value = shape.value(members);
  if (shape.in === 'configuration') {
    instance.attributes.input.value = value;
    instance.attributes.output.value = value;
  } else {
    instance.attributes.output = { value, type: shape.stateType };
  }
  state.serial += 1;
  return JSON.stringify(state, null, 2);
}
