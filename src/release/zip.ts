/**
 * The zip Terraform unpacks: one executable, with its exec bit in the archive (Terraform
 * keeps the mode it finds there) and a fixed timestamp, so the same executable always gives
 * the same archive and the same `zh:` hash.
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { ZipFile } from 'yazl';

/** The timestamp every entry gets: a build's time would change the archive's hash. */
const FIXED_MTIME = new Date(Date.UTC(2000, 0, 1));

/** Writes `zipFile` holding `executable` under the name `entryName`, mode 0755. */
export async function writeExecutableZip(options: { readonly executable: string; readonly entryName: string; readonly zipFile: string }): Promise<void> {
  const zip = new ZipFile();
  zip.addFile(options.executable, options.entryName, { mode: 0o100755, mtime: FIXED_MTIME, compress: true });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(options.zipFile));
}
