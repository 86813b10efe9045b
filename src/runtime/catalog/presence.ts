/**
 * A reaper replica's presence in the catalog: a session advisory lock keyed on the catalog's
 * schema ($1) and the replica's name ($2), held by the replica's listening connection for as
 * long as it runs. Another replica's lease round takes the same key with a transaction-level
 * try-lock (PRESENCE_GONE, over `r.holder` of reaper_replicas): getting it means no session
 * holds it, so that replica's process is gone and its leases can be taken at once instead of
 * after they lapse. Hash collisions can only make a dead replica look alive (the try-lock
 * fails), never the other way round; its leases then lapse as usual.
 */
export const PRESENCE_LOCK =
  "pg_catalog.pg_advisory_lock(pg_catalog.hashtext('adaptive-access reaper ' || $1::text), pg_catalog.hashtext($2::text))";

export const PRESENCE_GONE =
  "pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtext('adaptive-access reaper ' || $1::text), pg_catalog.hashtext(r.holder))";
