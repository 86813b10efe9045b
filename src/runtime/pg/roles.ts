/**
 * The names of the roles adaptive-access keeps on every target, in one low place: the
 * access layer creates and checks them, and the connections layer's preflight names them
 * when it says what the admin needs, so neither has to import the other for a constant.
 */

/**
 * The NOLOGIN marker role every issued login role is a member of: how revocation and the
 * reaper recognise roles they may touch (access/marker.ts checks that it is ours).
 */
export const MANAGED_ROLE = 'adaptive_managed';

/**
 * The NOLOGIN role that owns what revoked credentials (and dropped access roles) created,
 * in `revoked_objects = "reassign"` mode: never the admin, which is often a superuser, so
 * that a member's SECURITY DEFINER function cannot end up running as the admin. It has no
 * login, no attributes, no privileges of its own, no memberships, and no member that may
 * inherit it or SET ROLE to it (on 16+ its non-superuser creator holds ADMIN OPTION only).
 * A role of this name that does not look exactly like that is refused (access/revoked-owner.ts).
 */
export const REVOKED_OWNER_ROLE = 'adaptive_revoked';
