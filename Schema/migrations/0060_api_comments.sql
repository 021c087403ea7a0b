-- 0060_api_comments: the API reference of every public.* function, as a comment on the
-- function. The bridge serves these comments in its OpenAPI document (GET /): the first line
-- of a comment becomes the operation's summary, the whole comment its description. They are
-- written for the API's users, who call the functions through the bridge (or PostgREST): what
-- a function does, who may call it, what it returns and which errors it raises.
--
-- Each comment follows one shape:
--   line 1     one sentence, what the function does (the summary; keep it short);
--   "Callers:" who may call it. "Any signed-in user" means any request carrying a user
--              identity; a "live" member is one whose membership is not removed, in an
--              organization that is not deleted;
--   "Returns:" the result, and what an empty result means;
--   "Errors:"  each SQLSTATE the function raises and when (Schema/README.md, "Errors": 42501
--              not allowed or not signed in, P0002 not found, 22023 invalid input, 23505
--              duplicate, P0001 any other rule).
-- The text states the latest definition of each function: 0050_one_rule_per_path redefines
-- several of 0012, 0016 and 0017 (role ceiling, consent, invitations ending with membership
-- changes). The adapters' SQL defines no public.* function. Comments change no behaviour;
-- rerunning this file only rewrites them. A function added to public later needs its comment
-- here (or in its own migration) too.

-- =============================================================================================
-- Profile
-- =============================================================================================

comment on function public.get_user_profile() is
$$Returns the caller's own profile.
Callers: any signed-in user, for themselves only.
Returns: one row (id, email, first_name, last_name, avatar_url, timezone, locale); no row when the caller has no profile yet.
Errors: 42501 when the request carries no signed-in user.$$;

comment on function public.update_user_profile(text, text) is
$$Sets the caller's first and last name and returns the updated profile.
A null argument clears that name.
Callers: any signed-in user, for themselves only.
Returns: the updated profile row (id, email, first_name, last_name, avatar_url, timezone, locale).
Errors: 42501 when not signed in; P0002 when the caller has no profile.$$;

-- =============================================================================================
-- Organizations
-- =============================================================================================

comment on function public.list_my_organizations() is
$$Lists the organizations the caller belongs to, with the caller's role in each.
Callers: any signed-in user.
Returns: one row per live organization the caller is a live member of (id, name, description, role, role_label), ordered by name; role_label is the role's description.
Errors: 42501 when not signed in.$$;

comment on function public.get_user_organizations() is
$$Lists the organizations the caller belongs to (same result as list_my_organizations).
Kept under both names for SMTA 0.8 compatibility.
Callers: any signed-in user.
Returns: one row per live organization the caller is a live member of (id, name, description, role, role_label), ordered by name.
Errors: 42501 when not signed in.$$;

comment on function public.get_organization(uuid) is
$$Returns one organization the caller belongs to.
Callers: any live member of the organization.
Returns: one row (id, name, description, created_by, updated_by, is_deleted, deleted_at, deleted_by, created_at, updated_at); no row when the organization does not exist, is deleted, or the caller is not a member.
Errors: 42501 when not signed in.$$;

comment on function public.create_organization(text, text) is
$$Creates an organization and makes the caller its super_admin (owner).
The organization's settings row is created with it; the description is optional.
Callers: any signed-in user.
Returns: one row (id, name, created_at) of the new organization.
Errors: 42501 when not signed in; 22023 when the name is missing or blank.$$;

comment on function public.update_organization(uuid, text, text) is
$$Sets an organization's name and description and returns them.
An omitted or null description clears it.
Callers: the organization's super_admin only.
Returns: one row (id, name, description, updated_at).
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is deleted, or the caller is not a member; 22023 when the id is missing or the name is blank.$$;

comment on function public.update_organization_meta(uuid, uuid, text, text, text) is
$$Sets an organization's logo, address, timezone and locale and returns them.
Every value omitted or null is cleared. The logo must be a live file of the same organization (see create_file).
Callers: the organization's super_admin only.
Returns: one row (id, logo_file_id, address, timezone, locale, updated_at).
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is deleted, or the caller is not a member; 22023 when the id is missing or the logo is not a live file of this organization.$$;

comment on function public.delete_organization(uuid) is
$$Soft-deletes an organization with everything in it; restore_organization undoes it.
Its units, unit memberships, files, invitations and every membership but the super_admin's are soft-deleted with it. The super_admin keeps their membership, so that they can restore the organization; it grants nothing while the organization is deleted.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is already deleted, or the caller is not a member; 22023 when the id is missing.$$;

comment on function public.restore_organization(uuid) is
$$Restores a deleted organization and exactly what its deletion removed.
Rows that had been deleted on their own before the organization was deleted stay deleted.
Callers: the deleted organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in, or when the caller is a member but not the super_admin; P0002 when the organization does not exist or the caller holds no membership in it; P0001 when the organization is not deleted, or when its restored members would exceed the seat limit of its plan; 22023 when the id is missing.$$;

comment on function public.transfer_super_admin(uuid, uuid) is
$$Hands ownership (the super_admin role) of an organization to another live member.
The two members swap roles: the new owner becomes super_admin and the former owner takes the new owner's previous role. Concurrent transfers of one organization run one after the other, so it always ends with exactly one owner.
Callers: the organization's current super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is deleted, or the caller is not a member, or when the new owner is not a live member; P0001 when transferring to oneself; 22023 when an argument is missing.$$;

comment on function public.get_user_role(uuid) is
$$Returns the name of the caller's role in an organization.
Callers: any signed-in user.
Returns: the role name (text), or null when the caller is not a live member of that live organization.
Errors: 42501 when not signed in.$$;

comment on function public.get_user_permissions(uuid) is
$$Returns the caller's role and its CASL rules in an organization, to build the app's abilities.
Callers: any signed-in user.
Returns: one row (role_name, casl_rules); no row when the caller is not a live member of that live organization.
Errors: 42501 when not signed in.$$;

-- =============================================================================================
-- Members
-- =============================================================================================

comment on function public.list_organization_members(uuid) is
$$Lists the live members of an organization with their profile and role.
A member who was added by user id alone and has not joined by their own act (accepting an invitation) is listed with null email and names; so is a member who has no profile.
Callers: any live member of the organization.
Returns: one row per live member (user_id, email, first_name, last_name, role, role_label, is_super_admin), the owner first, then by email; no rows when the caller is not a live member.
Errors: 42501 when not signed in.$$;

comment on function public.add_member_to_organization(uuid, uuid, uuid) is
$$Adds an existing user to an organization, by user id, with a role.
The user must have a profile. A removed member is re-added with the new role. Their email and names stay hidden from the organization until they join by their own act, unless they already share an organization with the caller in which they are visible. Adding them cancels their pending invitations to the organization.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in, not the super_admin, or for the super_admin role (ownership moves only through transfer_super_admin); P0002 when the organization does not exist, is deleted, or the caller is not a member, when the user is unknown, or when the role does not exist or belongs to another organization; 23505 when the user already is a live member; P0001 when the organization has reached the seat limit of its plan; 22023 when an argument is missing.$$;

comment on function public.update_member_role(uuid, uuid, uuid) is
$$Changes another member's role in an organization.
Never the caller's own membership nor the owner's, and never to the super_admin role (use transfer_super_admin).
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in, not the super_admin, for one's own or the owner's membership, or for the super_admin role; P0002 when the organization does not exist, is deleted, or the caller is not a member, when the user is not a live member, or when the role does not exist or belongs to another organization; 22023 when an argument is missing.$$;

comment on function public.remove_member_from_organization(uuid, uuid) is
$$Removes a member from an organization, with their unit memberships there.
The membership is soft-deleted (the user can be added again later) and their pending invitations to the organization are cancelled. The owner cannot be removed: transfer ownership first.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is deleted, or the caller is not a member, or when the user is not a live member; P0001 when the user is the owner; 22023 when an argument is missing.$$;

comment on function public.remove_user_from_organization(uuid, uuid) is
$$Removes another member from an organization (arguments: user id, then organization id).
SMTA 0.8's other spelling of remove_member_from_organization, open to managers too. The membership and the user's unit memberships there are soft-deleted and their pending invitations to the organization are cancelled. Never the owner, never oneself (use leave_organization).
Callers: the organization's super_admin and managers.
Returns: nothing.
Errors: 42501 when not signed in, neither super_admin nor manager, or for one's own membership; P0002 when the organization does not exist, is deleted, or the caller is not a member, or when the user is not a live member; P0001 when the user is the owner; 22023 when an argument is missing.$$;

comment on function public.leave_organization(uuid) is
$$Makes the caller leave an organization, with their unit memberships there.
The caller's membership is soft-deleted and their pending invitations to the organization are cancelled. The owner must transfer ownership before leaving.
Callers: any live member of the organization except its super_admin.
Returns: nothing.
Errors: 42501 when not signed in; P0002 when the organization does not exist, is deleted, or the caller is not a member; P0001 when the caller is the super_admin; 22023 when the id is missing.$$;

comment on function public.invite_user_to_organization(text, uuid) is
$$Invites an email address into the caller's only organization (legacy: use create_invitation).
It works only for a caller who belongs to exactly one organization, and creates an invitation there under all of create_invitation's rules. It adds nobody directly and does not return the invitation's token: get a deliverable token with resend_invitation, or call create_invitation instead.
Callers: any signed-in user who is a live member of exactly one organization.
Returns: nothing.
Errors: 42501 when not signed in or a member of no organization; P0001 when the caller belongs to several organizations; otherwise the errors of create_invitation.$$;

-- =============================================================================================
-- Roles
-- =============================================================================================

comment on function public.create_role(uuid, text, text, jsonb) is
$$Creates a role owned by one organization and returns it.
The role can be given out in that organization only. p_casl_rules is a JSON array of CASL rules (default: empty). Role names are unique across all organizations.
Callers: the organization's super_admin only.
Returns: one row (id, organization_id, name, description, casl_rules) of the new role.
Errors: 42501 when not signed in or not the super_admin; P0002 when the organization does not exist, is deleted, or the caller is not a member; 22023 when the organization id is missing, the name is blank or longer than 100 characters, or the CASL rules are not a JSON array; 23505 when a role with that name already exists.$$;

comment on function public.list_roles(uuid) is
$$Lists the roles that can be given out in an organization.
Callers: any live member of the organization.
Returns: the live global roles, then the organization's own (id, organization_id, name, description, casl_rules), each group by name; organization_id is null for a global role; no rows when the caller is not a live member.
Errors: 42501 when not signed in.$$;

-- =============================================================================================
-- Files
-- =============================================================================================

comment on function public.create_file(uuid, text, text, integer, jsonb) is
$$Records a file of an organization (its metadata; the bytes live in object storage at file_url).
Callers: any live member of the organization.
Returns: one row (id, organization_id, file_url, file_type, created_at) of the new file.
Errors: 42501 when not signed in; P0002 when the organization does not exist, is deleted, or the caller is not a member; 22023 when the organization id is missing, the URL or type is blank, or the size is negative.$$;

comment on function public.update_file_metadata(uuid, jsonb, integer) is
$$Updates a file's specs and/or size and returns the file.
A null argument keeps the current value.
Callers: any live member of the file's organization.
Returns: one row (id, file_url, file_type, updated_at).
Errors: 42501 when not signed in; P0002 when the file does not exist, is deleted, or belongs to an organization the caller is not a member of; 22023 when the id is missing or the size is negative.$$;

comment on function public.get_file(uuid) is
$$Returns one live file.
Callers: any live member of the file's organization.
Returns: one row (id, organization_id, file_url, file_type, created_at, updated_at); no row when the file does not exist, is deleted, or the caller is not a member of its organization.
Errors: 42501 when not signed in.$$;

comment on function public.list_files(uuid) is
$$Lists an organization's live files, oldest first.
Callers: any live member of the organization.
Returns: one row per live file (id, organization_id, file_url, file_type, created_at, updated_at); no rows when the caller is not a live member.
Errors: 42501 when not signed in.$$;

comment on function public.delete_file(uuid) is
$$Soft-deletes a file; restore_file undoes it.
Callers: any live member of the file's organization.
Returns: nothing.
Errors: 42501 when not signed in; P0002 when the file does not exist, is already deleted, or belongs to an organization the caller is not a member of; 22023 when the id is missing.$$;

comment on function public.restore_file(uuid) is
$$Restores a soft-deleted file.
Callers: any live member of the file's organization.
Returns: nothing.
Errors: 42501 when not signed in; P0002 when the file does not exist or belongs to an organization the caller is not a live member of; P0001 when the file is not deleted; 22023 when the id is missing.$$;

-- =============================================================================================
-- Audit
-- =============================================================================================

comment on function public.get_audit_log(uuid, integer) is
$$Returns an organization's most recent audit entries, newest first.
Every change to the organization's data is recorded, with the acting user. p_limit caps the number of rows: 1 to 1000, 100 when null.
Callers: any live member of the organization.
Returns: up to p_limit rows (id, actor_id, target_table, target_id, action, summary, metadata, created_at); no rows when the caller is not a live member.
Errors: 42501 when not signed in; 22023 when p_limit is outside 1..1000.$$;

-- =============================================================================================
-- Units
-- =============================================================================================

comment on function public.list_my_units() is
$$Lists the units the caller belongs to, in all their organizations, with the role that applies.
Membership of a unit extends to its sub-units, with the same role unless the caller holds a membership of their own further down.
Callers: any signed-in user, for themselves.
Returns: one row per live unit (id, organization_id, name, role, role_label), by name.
Errors: 42501 when not signed in.$$;

comment on function public.get_user_units(uuid) is
$$Lists the units of one organization the caller belongs to, with the role that applies.
Membership of a unit extends to its sub-units, with the same role unless the caller holds a membership of their own further down.
Callers: any signed-in user, for themselves.
Returns: one row per live unit (id, organization_id, name, role, role_label), by name; no rows when the caller is not a live member of the organization.
Errors: 42501 when not signed in.$$;

comment on function public.get_unit(uuid) is
$$Returns one live unit.
Callers: any live member of the unit's organization.
Returns: one row (id, organization_id, name, description, created_at, updated_at); no row when the unit does not exist, is deleted, or the caller is not a member of its organization.
Errors: 42501 when not signed in.$$;

comment on function public.list_units(uuid) is
$$Lists every live unit of an organization, not only the caller's own.
Callers: any live member of the organization.
Returns: one row per live unit (id, organization_id, name, description, created_at, updated_at), by name; no rows when the caller is not a live member.
Errors: 42501 when not signed in.$$;

comment on function public.list_unit_members(uuid) is
$$Lists the members recorded on a unit, with their profile and unit role.
Only memberships of this unit itself are listed: members of units above it reach it too but are listed on their own unit. A member added to the organization by user id alone, who has not joined by their own act, is listed with null email and names.
Callers: any live member of the unit's organization.
Returns: one row per live unit member who is still a live member of the organization (user_id, email, first_name, last_name, role, role_label); no rows when the unit does not exist, is deleted, or the caller is not a member of its organization.
Errors: 42501 when not signed in.$$;

comment on function public.get_user_unit_permissions(uuid) is
$$Returns the caller's role in a unit and its CASL rules, to build a unit-scoped ability.
The role is the caller's own membership of the unit, else that of the nearest unit above it they belong to.
Callers: any signed-in user, for themselves.
Returns: one row (role_name, casl_rules); no row when no unit role applies to the caller.
Errors: 42501 when not signed in.$$;

comment on function public.create_unit(uuid, text, text, uuid) is
$$Creates a unit in an organization, optionally inside a parent unit, and returns it.
The parent must be a live unit of the same organization. Which members may create units beyond membership is the application's decision (its CASL rules).
Callers: any live member of the organization.
Returns: one row (id, organization_id, name, description, created_by, updated_by) of the new unit.
Errors: 42501 when not signed in or not a live member of the organization; 22023 when the organization id is missing or the name is blank; P0002 when the parent unit does not exist, is deleted, or belongs to another organization.$$;

comment on function public.update_unit(uuid, text, text) is
$$Renames a unit and sets its description, and returns it.
An omitted or null description clears it.
Callers: any live member of the unit's organization.
Returns: one row (id, name, description, updated_at).
Errors: 42501 when not signed in; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization; 22023 when the id is missing or the name is blank.$$;

comment on function public.delete_unit(uuid) is
$$Soft-deletes a unit with its unit memberships; restore_unit undoes it.
A unit that still has live sub-units cannot be deleted: delete them first.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when the unit does not exist, is already deleted, or the caller is not a member of its organization; P0001 when the unit has live sub-units; 22023 when the id is missing.$$;

comment on function public.restore_unit(uuid) is
$$Restores a deleted unit with the unit memberships its deletion removed.
Memberships are restored only for users still in the organization; those removed before the unit was deleted stay removed. A unit whose parent is deleted cannot be restored: restore the parent first.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when no unit with that id exists in one of the caller's organizations; P0001 when the unit is not deleted or its parent is deleted; 22023 when the id is missing.$$;

comment on function public.assign_user_to_unit(uuid, uuid, uuid) is
$$Puts a member of the organization into a unit with a role, or changes their role there.
Arguments: user id, unit id, role id. A removed unit member is re-added. The role must be a global role or one of the organization's own, never super_admin. Managers cannot change their own unit membership; the super_admin can.
Callers: the organization's super_admin and managers.
Returns: nothing.
Errors: 42501 when not signed in, neither super_admin nor manager, for a manager's own membership, or for the super_admin role; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization, or when the role does not exist or belongs to another organization; P0001 when the user is not a live member of the organization; 22023 when an argument is missing.$$;

comment on function public.remove_user_from_unit(uuid, uuid) is
$$Removes a user from a unit (arguments: user id, then unit id).
Callers: the organization's super_admin and managers; any live member for themselves.
Returns: nothing.
Errors: 42501 when not signed in, or when removing someone else without being the super_admin or a manager; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization, or when the user is not a live member of the unit; 22023 when an argument is missing.$$;

comment on function public.add_member_to_unit(uuid, uuid, uuid) is
$$Adds a member of the organization to a unit with a role.
Arguments: unit id, user id, role id. A removed unit member is re-added; a live one is a duplicate (change a role with update_unit_member_role). The role must be a global role or one of the organization's own, never super_admin.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in, not the super_admin, or for the super_admin role; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization, or when the role does not exist or belongs to another organization; P0001 when the user is not a live member of the organization; 23505 when the user already is a live member of the unit; 22023 when an argument is missing.$$;

comment on function public.update_unit_member_role(uuid, uuid, uuid) is
$$Changes the role of a live member of a unit.
Arguments: unit id, user id, role id. The role must be a global role or one of the organization's own, never super_admin.
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in, not the super_admin, or for the super_admin role; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization, when the user is not a live member of the unit, or when the role does not exist or belongs to another organization; P0001 when the user is not a live member of the organization; 22023 when an argument is missing.$$;

comment on function public.remove_member_from_unit(uuid, uuid) is
$$Removes a member from a unit (arguments: unit id, then user id).
Callers: the organization's super_admin only.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; P0002 when the unit does not exist, is deleted, or the caller is not a member of its organization, or when the user is not a live member of the unit; 22023 when an argument is missing.$$;

-- =============================================================================================
-- Invitations
-- =============================================================================================

comment on function public.create_invitation(text, uuid, uuid, uuid, jsonb) is
$$Invites an email address into an organization, optionally into one of its units, with a role.
The invitation is valid for 7 days. The returned token is the invitation's credential, for the application to send to the invitee; it is returned only here and by resend_invitation, and cannot be read back later. Nobody invites at a role above their own: the super_admin and managers may invite at every role but super_admin, any other member only at the role they hold. p_metadata must be a JSON object.
Callers: any live member of the organization; for a unit invitation, a member of that unit (directly or through a unit above it) or the organization's super_admin or a manager.
Returns: one row (id, token, email, expires_at); email is the address trimmed and lower-cased.
Errors: 42501 when not signed in, not a live member, not allowed to invite into the unit, for the super_admin role, or for a role above the caller's own; 22023 when the organization id is missing, the email is invalid, the role is missing or not usable in the organization, the unit is not a live unit of the organization, or the metadata is not a JSON object; 23505 when a pending invitation for that email to that organization exists or the email already belongs to a member; P0001 when the organization has reached the seat limit of its plan.$$;

comment on function public.accept_invitation(text) is
$$Accepts an invitation: the caller joins its organization (and unit) with the invited role.
The caller's email must equal the invited email (ignoring case). Of two simultaneous accepts of one invitation exactly one succeeds. Joining cancels the caller's other pending invitations to the organization.
Callers: the signed-in user the invitation was sent to.
Returns: one row (organization_id, unit_id, role_id, organization_name); unit_id is null for an organization invitation.
Errors: 42501 when not signed in or when the caller's email differs from the invited one; P0002 when the token is empty or unknown, or the organization was deleted; 23505 when the caller already is a member; P0001 when the invitation was already accepted, was cancelled, has expired, its role or unit no longer exists, or the organization has reached the seat limit of its plan.$$;

comment on function public.cancel_invitation(uuid) is
$$Cancels a pending invitation, so that its token stops working.
Callers: any live member of the invitation's organization.
Returns: nothing.
Errors: 42501 when not signed in; P0002 when the invitation does not exist, is deleted, or belongs to an organization the caller is not a member of; P0001 when the invitation is not pending; 22023 when the id is missing.$$;

comment on function public.resend_invitation(uuid) is
$$Renews a pending or expired invitation: a new token, valid for 7 more days.
The old token stops working. The new token is returned only here, once. As for create_invitation, nobody may renew an invitation at a role above their own.
Callers: any live member of the invitation's organization whose own role reaches the invitation's role.
Returns: one row (id, token, email, expires_at).
Errors: 42501 when not signed in or the invitation's role is above the caller's own; P0002 when the invitation does not exist, is deleted, or belongs to an organization the caller is not a member of; P0001 when the invitation was accepted or cancelled, its role or unit no longer exists, or the organization has reached the seat limit of its plan; 23505 when another pending invitation for that email exists or the email already belongs to a member; 22023 when the id is missing.$$;

comment on function public.list_invitations(uuid, text) is
$$Lists an organization's invitations, newest first, optionally in one status only.
p_status is one of pending, accepted, expired, cancelled, or null for all. A pending invitation past its expiry is reported as expired. Tokens are never returned.
Callers: any live member of the organization.
Returns: one row per invitation (id, email, organization_id, unit_id, role_name, role_label, invited_by_email, status, expires_at, created_at).
Errors: 42501 when not signed in, the organization id is missing, or the caller is not a live member; 22023 when the status is not one of the four.$$;

comment on function public.get_invitation_details(text) is
$$Shows what an invitation offers, for the page its link lands on, before the invitee signs in.
The token is the credential: anyone who holds it may read that one invitation. The inviter is shown by name only, never by email. A pending invitation past its expiry reads expired. Nothing is written.
Callers: anon and authenticated (the one API function anon may execute).
Returns: one row (id, email, organization_name, unit_name, role_name, role_label, invited_by_name, expires_at, status); no row for an empty or unknown token or an invitation of a deleted organization; invited_by_name is null when the inviter has no name.
Errors: none.$$;

-- =============================================================================================
-- Secrets
-- =============================================================================================

comment on function public.create_secret(text, uuid, text, text) is
$$Stores a secret for an organization or for the caller and returns its id.
p_scope 'organization' with p_id the organization's id, or 'user' with p_id the caller's own user id. The value is stored encrypted and can be read back only with read_secret. Names are unique per owner among live secrets, ignoring case.
Callers: for an organization secret, the organization's super_admin only; for a user secret, that user only.
Returns: the new secret's id (uuid).
Errors: 42501 when not signed in or not allowed for that owner; 22023 when the scope is not organization or user, the id is missing, the name or value is empty, or the server's secrets key is too short or does not match the store; 23505 when a live secret with that name exists for that owner; 55000 when the server has no secrets key configured.$$;

comment on function public.delete_secret(uuid) is
$$Deletes a secret: its metadata is soft-deleted and its stored value erased for good.
Callers: for an organization secret, the organization's super_admin only; for a user secret, that user only.
Returns: nothing.
Errors: 42501 when not signed in, or when the caller may see the secret but not manage it (a member who is not the super_admin); P0002 when the secret does not exist, is deleted, or is not visible to the caller.$$;

comment on function public.list_secrets(text, uuid) is
$$Lists the secrets the caller may see (names and owners, never values), newest first.
These are the caller's own user secrets and the secrets of the organizations they are a live member of. p_scope ('organization' or 'user') keeps one scope; p_scope with p_id keeps one owner.
Callers: any signed-in user.
Returns: one row per live secret (id, scope, organization_id, user_id, secret_name, created_at, created_by).
Errors: 42501 when not signed in, or when p_id names an organization the caller is not a member of or another user; 22023 when the scope is not organization or user, or p_id is given without p_scope.$$;

comment on function public.read_secret(uuid) is
$$Returns the value of one active secret; every read is recorded in the audit log.
Callers: for an organization secret, the organization's super_admin only; for a user secret, that user only.
Returns: the secret's value (text).
Errors: 42501 when not signed in, or when the caller may see the secret but not read it (a member who is not the super_admin); P0002 when the secret does not exist, is deleted, or is not visible to the caller; P0001 when the secret is inactive; 55000 when the server has no secrets key configured; 22023 when the server's secrets key is too short or does not decrypt the secret.$$;

-- =============================================================================================
-- Billing
-- =============================================================================================

comment on function public.list_subscription_products() is
$$Lists the subscription products on offer, cheapest first (for a pricing or upgrade page).
Callers: any signed-in user.
Returns: one row per active product (id, name, description, billing_interval, amount, created_at, updated_at, created_by, updated_by), by amount, then name.
Errors: 42501 when not signed in.$$;

comment on function public.get_subscription(uuid) is
$$Returns an organization's subscription: provider, plan, status and period end.
status is one of active, trialing, past_due, canceled, unpaid, incomplete, incomplete_expired, paused; plan is the product's name. When there are several subscriptions, an active or trialing one comes first, else the most recent.
Callers: any live member of the organization.
Returns: at most one row (provider, plan, status, current_period_end, cancel_at_period_end); no row when the organization has no subscription or the caller is not a live member.
Errors: 42501 when not signed in.$$;

comment on function public.org_has_feature(uuid, text) is
$$Tells whether an organization's plan (or its platform override) includes a feature.
Cheap and stable, so usable in row-level security policies: wrap constant arguments in (select ...) to evaluate it once per statement.
Callers: any signed-in user; the answer is false for organizations the caller is not a live member of.
Returns: a boolean; false for a non-member, an unknown organization or an unknown feature.
Errors: 42501 when not signed in.$$;
