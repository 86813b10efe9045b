/**
 * Local, throwaway PostgreSQL: find server binaries (system packages or the embedded
 * build) and run short-lived clusters on loopback. Used by the test suite and the demo;
 * never by the provider at run time. Depends on nothing else in src/.
 */
export { findPostgresBinaries, embeddedBinDir, probeBinDir, type PostgresBinaries } from './binaries';
export { startCluster, templateFor, freePort, LocalCluster, SUPERUSER, type ClusterOptions, type ClusterFile } from './cluster';
export { blockingDirectory, LocalPostgresError, type RunAs } from './reach';
export { reachableBinaries, reachableTempDir, unreachableBecause } from './relocate';
