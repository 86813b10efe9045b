/**
 * adaptive-access-cdktn, the CDK Terrain construct package: built, packed, installed into an
 * empty app and run with `cdktn` against real PostgreSQL (see construct-package.ts).
 */
import { describeConstructPackage } from './construct-package';

describeConstructPackage('cdktn');
