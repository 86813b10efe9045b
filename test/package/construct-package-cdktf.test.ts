/**
 * adaptive-access-cdktf, the CDKTF construct package (same API as src/constructs): built,
 * packed, installed into an empty app and run with `cdktf` against real PostgreSQL (see
 * construct-package.ts).
 */
import { describeConstructPackage } from './construct-package';

describeConstructPackage('cdktf');
