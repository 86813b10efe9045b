/**
 * The README of a construct package (see build-construct-packages.ts): one text for both
 * flavours, with the core's names filled in, so the two cannot drift apart.
 */

/** What a README needs to know about its flavour. */
export interface ReadmeFlavour {
  /** The package's name on npm. */
  readonly packageName: string;
  /** The core's npm package (`cdktn`, `cdktf`). */
  readonly core: string;
  /** The core's CLI package and command (`cdktn-cli` / `cdktn`). */
  readonly cliPackage: string;
  readonly cliCommand: string;
  /** The core's name in prose. */
  readonly title: string;
  /** The range of the core this package's bindings were generated for. */
  readonly coreRange: string;
  readonly constructsRange: string;
  /** The other flavour's package, for the "which one" paragraph. */
  readonly otherPackageName: string;
}

const PROJECT = 'adaptive-access';

function whichOne(flavour: ReadmeFlavour): string {
  if (flavour.core === 'cdktn') {
    return [
      `This is the package for **CDK Terrain**, the maintained successor of CDKTF: pick it for new apps.`,
      `Apps still on CDKTF (archived upstream on 2025-12-10) use \`${flavour.otherPackageName}\`, the same API`,
      'built against `cdktf`. Moving an app over: replace `cdktf` and `cdktf-cli` with `cdktn` and',
      `\`cdktn-cli\`, \`${flavour.otherPackageName}\` with \`${flavour.packageName}\`, and rename the imports`,
      "`from 'cdktf'` to `from 'cdktn'`; `cdktf.json` and the logical ids (so the state) stay as they are.",
    ].join('\n');
  }
  return [
    `This is the package for **CDKTF** apps. CDKTF was archived upstream on 2025-12-10 (\`cdktf\` 0.21 is its`,
    `last release); new apps should use CDK Terrain and \`${flavour.otherPackageName}\`, the same API built`,
    "against `cdktn`. Moving an app over: replace `cdktf` and `cdktf-cli` with `cdktn` and `cdktn-cli`,",
    `\`${flavour.packageName}\` with \`${flavour.otherPackageName}\`, and rename the imports \`from 'cdktf'\``,
    "to `from 'cdktn'`; `cdktf.json` and the logical ids (so the state) stay as they are.",
  ].join('\n');
}

/** The package's README.md. */
export function constructPackageReadme(flavour: ReadmeFlavour): string {
  const { packageName, core, cliPackage, cliCommand, title } = flavour;
  return `# ${packageName}

${title} constructs for the \`adaptive\` Terraform provider of ${PROJECT}: time-limited,
per-person access to PostgreSQL. Typed constructs (\`PostgresTarget\`, \`Authorization\`,
\`Endpoint\`, \`AccessGroup\`, \`PostgresAccess\`) over bindings generated from the provider's
own schema, checked at synth time with the same validators the provider runs at plan time.

${whichOne(flavour)}

## Install

\`\`\`sh
npm install ${packageName} ${core}@'${flavour.coreRange}' constructs@'${flavour.constructsRange}'
npm install --save-dev ${cliPackage}@'${flavour.coreRange}'
\`\`\`

${flavour.core === 'cdktn' ? 'The CLI (`cdktn-cli`) needs Node.js 22.19 or later; the constructs themselves run on Node.js 20.\n\n' : ''}\`${core}\` and \`constructs\` are peer dependencies: the app's own copies are used, so the
constructs belong to the app's stacks. Never mix the two cores in one app. This package
does not contain the provider: Terraform installs \`adaptive\` from a registry or mirror (see
the ${PROJECT} README, "Install"), as for any provider.

## An app

\`cdktf.json\`:

\`\`\`json
{ "language": "typescript", "app": "node main.js", "output": "cdktf.out", "terraformProviders": [] }
\`\`\`

\`main.js\`:

\`\`\`js
const { App, LocalBackend, TerraformOutput, TerraformStack, TerraformVariable } = require('${core}');
const { AccessGroup, AdaptiveProvider, AdminCredentials, Authorization, Endpoint, PostgresTarget } = require('${packageName}');

const app = new App();
const stack = new TerraformStack(app, 'access');
new LocalBackend(stack, { path: 'terraform.access.tfstate' });
new AdaptiveProvider(stack, 'adaptive');
const adminPassword = new TerraformVariable(stack, 'admin_password', { type: 'string', sensitive: true });
const target = new PostgresTarget(stack, 'production', {
  name: 'postgres-production',
  host: 'db.internal.company.net',
  databaseName: 'production',
  credentials: AdminCredentials.fromPassword('adaptive_admin', adminPassword.stringValue),
  tls: { mode: 'verify-full' },
});
const readers = new Authorization(stack, 'readers', {
  name: 'readers',
  permissions: { grants: ['SELECT'], schemas: ['public'], tables: ['*'] },
});
const endpoint = new Endpoint(stack, 'read_access', { name: 'read-access', target, authorization: readers, ttl: '8h' });
const analysts = new AccessGroup(stack, 'analysts', { name: 'analysts', members: ['analyst@company.com'], endpoints: [endpoint] });
new TerraformOutput(stack, 'credentials', { value: analysts.credentials, sensitive: true });
app.synth();
\`\`\`

Then \`npx ${cliCommand} synth\`, and \`npx ${cliCommand} deploy access\` (\`TF_VAR_admin_password\` set,
the provider reachable by Terraform). Each member's credential (username, password, host,
port, database, sslmode, uri, expires_at) is in the \`credentials\` output, a map keyed
\`<endpoint>/<member>\` (\`analysts.credentials.get('<endpoint>/<member>')\` for one).
\`PostgresAccess\` wires a target, an authorization, an endpoint and a group from one object.

TypeScript apps: compile with \`skipLibCheck: true\`. One runtime type in the shipped
declarations (an admin connection, not used by any construct) names \`pg\`'s types, which
this package does not install.

The generated L1 classes are exported as \`l1.provider\`, \`l1.resource\`, \`l1.authorization\`,
\`l1.endpoint\` and \`l1.group\`.

## Links

- The provider, its resources and guides: the ${PROJECT} repository (README.md,
  docs/resources, docs/guides), and src/constructs/README.md there for every construct's props.
- ${title}: the \`${core}\` and \`${cliPackage}\` packages on npm.
`;
}
