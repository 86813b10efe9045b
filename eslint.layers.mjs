// The layers of src/, held by eslint-plugin-boundaries: which folder may import which.
// ARCHITECTURE.md draws them and each folder's README repeats its own line; a wrong import
// fails `npm run lint` (test/lint/layers.test.ts proves it on fixture sources).
// Tests, scripts and benchmarks are not elements: they may import anything (white-box).
import boundaries from 'eslint-plugin-boundaries';

// Folders are elements, the most specific first: a file belongs to the first that matches.
const ELEMENTS = [
  { type: 'plugin', pattern: 'src/plugin' },
  { type: 'resources', pattern: 'src/resources' },
  { type: 'provider', pattern: 'src/provider' },
  { type: 'runtime-validation', pattern: 'src/runtime/validation' },
  { type: 'runtime-pg', pattern: 'src/runtime/pg' },
  { type: 'runtime-connections', pattern: 'src/runtime/connections' },
  { type: 'runtime-catalog', pattern: 'src/runtime/catalog' },
  { type: 'runtime-access', pattern: 'src/runtime/access' },
  { type: 'runtime-delivery', pattern: 'src/runtime/delivery' },
  { type: 'runtime-service', pattern: 'src/runtime/service' },
  // The files directly in src/runtime: the interface (index.ts), types.ts, service.ts, leaves.
  { type: 'runtime', pattern: 'src/runtime' },
  { type: 'cli', pattern: 'src/cli' },
  { type: 'demo', pattern: 'src/demo' },
  { type: 'install', pattern: 'src/install' },
  { type: 'release', pattern: 'src/release' },
  { type: 'terminal', pattern: 'src/terminal' },
  { type: 'terraform', pattern: 'src/terraform' },
  { type: 'localpg', pattern: 'src/localpg' },
  { type: 'constructs', pattern: 'src/constructs' },
];

// Single files with a role of their own, inside those folders.
const FILES = [
  { category: 'runtime-interface', pattern: 'src/runtime/index.ts' },
  { category: 'runtime-types', pattern: 'src/runtime/types.ts' },
  { category: 'runtime-service', pattern: 'src/runtime/service.ts' },
  { category: 'demo-command', pattern: 'src/cli/demo.ts' },
  // Every source file, so that "none of these categories" also holds for a file with no role.
  { category: 'source', pattern: 'src/**/*.ts' },
];

const RUNTIME = ['runtime-validation', 'runtime-pg', 'runtime-connections', 'runtime-catalog', 'runtime-access', 'runtime-delivery', 'runtime-service', 'runtime'];
const ALL = ELEMENTS.map((e) => e.type);
const except = (...allowed) => ALL.filter((t) => !allowed.includes(t));

const from = (...types) => ({ element: { types: { anyOf: types } } });
const to = (...types) => ({ element: { types: { anyOf: types } } });
const file = (...categories) => ({ categories: { anyOf: categories } });
const notFile = (...categories) => ({ categories: { noneOf: categories } });

// A file directly in src/runtime, by its role.
const runtimeFile = (...categories) => ({ element: { type: 'runtime' }, file: file(...categories) });
const runtimeFileExcept = (...categories) => ({ element: { type: 'runtime' }, file: notFile(...categories) });

const POLICIES = [
  // The framework is generic: it knows no resource of ours and no engine, so it can serve any
  // provider (test/provider/toy is one) and only the plugin's entry point lists resources.
  { from: from('provider'), disallow: { to: to(...except('provider')) } },
  // Resources, the CLI and the demo reach the engine only through its public interface
  // (runtime/index.ts) and the pure validation functions, so the runtime can change inside
  // without breaking them.
  {
    from: from('resources', 'cli', 'demo'),
    disallow: { to: [to(...RUNTIME.filter((t) => t !== 'runtime' && t !== 'runtime-validation')), runtimeFileExcept('runtime-interface')] },
  },
  // The runtime is the engine: it knows nothing of Terraform, the CLI, the demo or packaging.
  { from: from(...RUNTIME), disallow: { to: to(...except(...RUNTIME)) } },
  // Validation is pure (the provider at plan time and the constructs at synth time give the same
  // messages): nothing else of the runtime but its types.
  {
    from: from('runtime-validation'),
    disallow: { to: [to('runtime-pg', 'runtime-connections', 'runtime-catalog', 'runtime-access', 'runtime-delivery', 'runtime-service'), runtimeFileExcept('runtime-types')] },
  },
  // Connections only open sessions: they sit below access, the catalog and the service.
  {
    from: from('runtime-connections'),
    disallow: { to: [to('runtime-access', 'runtime-catalog', 'runtime-delivery', 'runtime-service'), runtimeFile('runtime-service', 'runtime-interface')] },
  },
  // The catalog records what access did; it never grants, and never calls the verbs above it.
  { from: from('runtime-catalog'), disallow: { to: [to('runtime-access', 'runtime-delivery', 'runtime-service'), runtimeFile('runtime-service', 'runtime-interface')] } },
  // Delivery only writes and deletes secrets in AWS: of the runtime it takes the leaves (error
  // text, the secret registry, types), and only the service (the verbs) uses it.
  {
    from: from('runtime-delivery'),
    disallow: { to: [to('runtime-pg', 'runtime-connections', 'runtime-catalog', 'runtime-access', 'runtime-validation', 'runtime-service'), runtimeFile('runtime-service', 'runtime-interface')] },
  },
  // Only the CLI's `demo` command starts the demo: it is a client at the top, like the CLI.
  {
    from: [from(...except('demo', 'cli')), { element: { type: 'cli' }, file: notFile('demo-command') }],
    disallow: { to: to('demo') },
  },
  // Nothing builds on the CLI's internals: what the demo shares with it lives lower
  // (src/terminal, src/install, src/terraform).
  { from: from(...except('cli')), disallow: { to: to('cli') } },
  // Throwaway clusters are for tests and the demo; the plugin and the CLI never load them.
  { from: from(...except('localpg', 'demo')), disallow: { to: to('localpg') } },
  // Constructs run at synth time in the user's CDKTF app: the pure validation (and the
  // runtime's types) and nothing else of ours.
  {
    from: from('constructs'),
    disallow: { to: [to(...except('constructs', 'runtime-validation', 'runtime')), runtimeFileExcept('runtime-types')] },
  },
  // The lower modules the CLI, the demo and the tests share (terminal output and errors, the
  // Terraform runner, throwaway clusters) stand alone: they import nothing else of ours.
  ...['terraform', 'localpg'].map((type) => ({ from: from(type), disallow: { to: to(...except(type)) } })),
  // Terminal output and errors take only the runtime's error-text helper (through its public
  // interface), so a message reads the same whoever reports it.
  { from: from('terminal'), disallow: { to: [to(...except('terminal', 'runtime')), runtimeFileExcept('runtime-interface')] } },
  // The plugin's entry point wires the framework to our resources (and its version from
  // packaging); of the runtime it takes only the public interface (the registry of secrets
  // obtained at run time, for the log redactor).
  { from: from('plugin'), disallow: { to: [to(...except('plugin', 'provider', 'resources', 'runtime', 'install')), runtimeFileExcept('runtime-interface')] } },
  // Access changes what targets hold; the verbs (service) and the interface sit above it.
  { from: from('runtime-access'), disallow: { to: [to('runtime-delivery', 'runtime-service'), runtimeFile('runtime-service', 'runtime-interface')] } },
  // Packaging bundles the plugin by its path, never by import; it reports through terminal errors.
  { from: from('install'), disallow: { to: to(...except('install', 'terminal')) } },
  // Releases build on packaging (the bundle, the version, the platform's name) and, like it,
  // bundle the plugin by its path: nothing of the product loads into the CLI's start-up.
  { from: from('release'), disallow: { to: to(...except('release', 'install', 'terminal')) } },
];

/** The layer rules alone (the lint test runs just these, without type information). */
export const layers = {
  files: ['src/**/*.ts'],
  plugins: { boundaries },
  settings: {
    'import/resolver': { node: { extensions: ['.ts', '.js'] } },
    'boundaries/elements': ELEMENTS,
    'boundaries/files': FILES,
  },
  rules: {
    'boundaries/dependencies': [2, { default: 'allow', policies: POLICIES }],
  },
};

/** Sizes a newcomer can hold in their head; generated bindings are not hand-written. */
export const sizes = {
  files: ['src/**/*.ts'],
  ignores: ['src/constructs/generated/**'],
  rules: {
    'max-lines': ['error', { max: 600, skipBlankLines: true, skipComments: true }],
    'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
  },
};
