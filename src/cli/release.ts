/**
 * `adaptive-access release`: builds a registry-format release of the provider for this
 * platform into a release directory (src/release) and says what it wrote and how to use it.
 */
import { buildRelease, ReleaseInputError, type ReleaseResult, type ReleaseStep } from '../release';
import { CliError, errorText, EXIT_OK, UsageError } from '../terminal/errors';
import type { Output } from '../terminal/output';

const STEP_NOTES: Record<ReleaseStep, string> = {
  bundling: 'Bundling the provider plugin...',
  'single-executable': 'Building a single executable with this Node.js...',
  zipping: 'Zipping it...',
  publishing: 'Writing SHA256SUMS and the network mirror JSON...',
};

export async function release(
  values: { readonly out?: string | undefined; readonly source?: string | undefined; readonly version?: string | undefined; readonly json?: boolean | undefined },
  out: Output,
): Promise<number> {
  if (values.out === undefined) throw new UsageError("missing option '--out DIR' (the release directory)", 'release');
  let result: ReleaseResult;
  try {
    result = await buildRelease({
      outDir: values.out,
      ...(values.source === undefined ? {} : { source: values.source }),
      ...(values.version === undefined ? {} : { version: values.version }),
      onStep: (step) => out.note(STEP_NOTES[step]),
    });
  } catch (err) {
    if (err instanceof ReleaseInputError) throw new UsageError(`option '--${err.option}': ${err.message}`, 'release');
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot build the release into ${values.out}: ${errorText(err)}`, 'Fix the cause above (a release directory needs write access; the build needs an official Node.js binary), then run it again.', {
      cause: err,
    });
  }
  if (values.json) {
    out.json(result);
    return EXIT_OK;
  }
  const b = (text: string): string => out.paint('bold', text);
  out.line(`${out.paint('green', 'Released')} ${result.source} ${result.version} for ${result.platform} into ${result.providerDir}`);
  out.line();
  out.line(`  ${b('Zip:')}         ${result.zipFile}`);
  out.line(`  ${b('SHA256SUMS:')}  ${result.sha256SumsFile}`);
  out.line(`  ${b('Hashes:')}      ${result.hashes.h1}`);
  out.line(`               ${result.hashes.zh}`);
  out.line(`  ${b('Platforms:')}   ${result.platforms.join(', ')}`);
  out.line();
  out.line('Serve the release directory over HTTPS and point Terraform at it:');
  out.line('  provider_installation { network_mirror { url = "https://<your host>/<path to it>/" } }');
  out.line('or use it from disk as a filesystem_mirror. Run this command on each other OS/arch into');
  out.line('the same directory to add their platforms.');
  return EXIT_OK;
}
