-- 0017_api_invitations: inviting people into an organization (and optionally one of its units)
-- by email, and accepting, cancelling, resending and listing invitations.
--
-- Tokens. An invitation is a bearer credential: whoever holds the token and signs in with the
-- invited email joins with the invited role. The raw token is made here from the server's
-- cryptographic random source, returned exactly once (by create_invitation or
-- resend_invitation, for the application to mail), and never stored: core.invitations.token
-- holds only its SHA-256 in hex. accept_invitation and get_invitation_details hash the token
-- they are given and look the hash up. That equality lookup is not a timing oracle: at most,
-- timing could tell how many leading bytes of a guess's hash match a stored hash, which brings
-- an attacker no closer to a token whose hash matches entirely (that takes a SHA-256
-- preimage), and the token's entropy rules out guessing it outright.
--
-- Status. Stored statuses are 'pending', 'accepted', 'expired', 'cancelled'. A pending
-- invitation whose expires_at has passed is expired, whether or not a writer has marked it yet:
-- every read path here reports it as 'expired', accept_invitation refuses it, and
-- core.expire_old_invitations() (and create_invitation, for the address it invites) mark such
-- rows in the table. accept_invitation cannot mark the row itself: it refuses by raising, and a
-- raised error rolls back everything the call wrote.
--
-- Who may do what (SMTA 0.8): any live member of the organization creates, resends, cancels
-- and lists its invitations; for a unit invitation the inviter must also belong to that unit
-- (directly or through a unit above it, as 0003 defines); the invitee accepts. Which members
-- may do so beyond membership is the application's decision (its CASL rules). SMTA 0.8's
-- cancel also names the inviter, but under its policies an inviter who has left the
-- organization no longer sees the invitation; here too cancelling takes a live membership.
-- No invitation ever carries the super_admin role, and its role must be global or the
-- organization's own. A direct SQL client stays under the narrower policy of 0005 (the
-- super_admin and managers change invitations; nobody inserts them): the API is the path for
-- every member.
--
-- Every public function is SECURITY DEFINER with `search_path = ''` and decides itself who may
-- call it; audit rows come from the triggers of 0004 (which never copy the token hash).
-- Depends on core.require_user_id() (0010) and core.put_unit_membership() (0016).

-- core.role_name_for_org: the name of a role if it may be given out in an organization (a live
-- global role, or a live role of that organization), else null. Internal helper of the
-- invitation functions, which raise their own messages: not executable by app roles.
-- Raises nothing.
create or replace function core.role_name_for_org(p_org_id uuid, p_role_id uuid)
returns text
language sql
stable
set search_path = ''
as $$
  select r.name
  from core.roles as r
  where r.id = p_role_id
    and not r.is_deleted
    and (r.organization_id is null or r.organization_id = p_org_id);
$$;

revoke all on function core.role_name_for_org(uuid, uuid) from public, anon;

-- core.new_invitation_token: a fresh raw invitation token, URL-safe base64 (64 characters) of
-- 48 bytes drawn from three pg_catalog.gen_random_uuid() values: 366 random bits from the
-- server's cryptographic random source (the one pgcrypto's gen_random_bytes uses, available
-- without pgcrypto, which may live in any schema). Internal: not executable by app roles.
-- Raises nothing.
create or replace function core.new_invitation_token()
returns text
language sql
volatile
set search_path = ''
as $$
  select pg_catalog.translate(
    pg_catalog.encode(
      pg_catalog.decode(
        pg_catalog.replace(
          pg_catalog.gen_random_uuid()::text
            || pg_catalog.gen_random_uuid()::text
            || pg_catalog.gen_random_uuid()::text,
          '-', ''),
        'hex'),
      'base64'),
    '+/=', '-_');
$$;

revoke all on function core.new_invitation_token() from public, anon;

-- core.hash_invitation_token: the form in which a raw invitation token is stored and looked up
-- (lowercase hex SHA-256 of its UTF-8 bytes). Internal: not executable by app roles.
-- Raises nothing (null in, null out).
create or replace function core.hash_invitation_token(p_token text)
returns text
language sql
immutable
strict
set search_path = ''
as $$
  select pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(p_token, 'UTF8')), 'hex');
$$;

revoke all on function core.hash_invitation_token(text) from public, anon;

-- core.expire_old_invitations: marks every pending invitation whose expiry has passed as
-- 'expired' and returns how many it marked. Housekeeping for a scheduler or the service role
-- (no identity: every organization), and callable by members (an identity: only the
-- organizations they belong to). Marking changes what nobody could still do: reads already
-- report such invitations as expired and accept refuses them.
-- Raises nothing.
create or replace function core.expire_old_invitations()
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.get_current_user_id();
  v_count integer;
begin
  update core.invitations as i
  set status = 'expired',
      updated_by = coalesce(v_user_id, i.updated_by)
  where i.status = 'pending'
    and i.expires_at <= now()
    and not i.is_deleted
    and (v_user_id is null or i.organization_id = any (core.current_user_org_ids()));

  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

revoke all on function core.expire_old_invitations() from public, anon;
grant execute on function core.expire_old_invitations() to app_user, app_admin;

-- public.create_invitation: invites an email address into an organization (and optionally one
-- of its units) with a role, valid for 7 days, and returns the invitation's id, the raw token
-- (the only time it is ever available), the normalized email and the expiry.
-- Any live member of the organization (also of the unit, for a unit invitation).
-- Raises 42501 when unauthenticated, not a member, not a member of the unit, or for the
-- super_admin role; 22023 for a missing organization id, an invalid email,
-- an unusable role, a unit of another organization or non-object metadata; 23505 when a live
-- invitation for that email and organization is pending or the email is already a member's.
create or replace function public.create_invitation(
  p_email text,
  p_organization_id uuid,
  p_role_id uuid,
  p_unit_id uuid default null,
  p_metadata jsonb default '{}'
)
returns table (
  id uuid,
  token text,
  email text,
  expires_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_email text := pg_catalog.lower(pg_catalog.btrim(p_email));
  v_role_name text;
  v_token text;
  v_invitation_id uuid;
  v_expires_at timestamptz := now() + interval '7 days';
begin
  if p_organization_id is null then
    raise exception 'Organization id is required'
      using errcode = '22023';
  end if;

  if not (p_organization_id = any (core.current_user_org_ids())) then
    raise exception 'You must be a member of this organization to invite users'
      using errcode = '42501';
  end if;

  if p_unit_id is not null then
    if not exists (
      select 1 from core.units as u
      where u.id = p_unit_id
        and u.organization_id = p_organization_id
        and not u.is_deleted
    ) then
      raise exception 'Unit does not belong to this organization'
        using errcode = '22023';
    end if;

    if not (p_unit_id = any (core.current_user_unit_ids())) then
      raise exception 'You must be a member of this unit to invite users to it'
        using errcode = '42501';
    end if;
  end if;

  v_role_name := core.role_name_for_org(p_organization_id, p_role_id);
  if v_role_name is null then
    raise exception 'Invalid role specified'
      using errcode = '22023';
  end if;
  if v_role_name = 'super_admin' then
    raise exception 'Cannot invite users as super_admin. Use public.transfer_super_admin() to transfer ownership.'
      using errcode = '42501';
  end if;

  if v_email is null or v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
    raise exception 'Invalid email address'
      using errcode = '22023';
  end if;

  if p_metadata is not null and pg_catalog.jsonb_typeof(p_metadata) <> 'object' then
    raise exception 'Invitation metadata must be a JSON object'
      using errcode = '22023';
  end if;

  -- One invitation per (organization, email) at a time: serialize creators of the same pair
  -- for the rest of this transaction so that the check below cannot be raced.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended('smta.invitation:' || p_organization_id::text || ':' || v_email, 0));

  -- A pending invitation past its expiry no longer blocks a new one; record it as expired.
  update core.invitations as i
  set status = 'expired',
      updated_by = v_user_id
  where i.organization_id = p_organization_id
    and pg_catalog.lower(i.email) = v_email
    and i.status = 'pending'
    and i.expires_at <= now()
    and not i.is_deleted;

  if exists (
    select 1 from core.invitations as i
    where i.organization_id = p_organization_id
      and pg_catalog.lower(i.email) = v_email
      and i.status = 'pending'
      and not i.is_deleted
  ) then
    raise exception 'A pending invitation to this email already exists for this organization'
      using errcode = '23505';
  end if;

  if exists (
    select 1
    from core.memberships as m
    join core.users_meta as meta on meta.id = m.user_id
    where m.organization_id = p_organization_id
      and not m.is_deleted
      and pg_catalog.lower(meta.email) = v_email
  ) then
    raise exception 'This user is already a member of the organization'
      using errcode = '23505';
  end if;

  v_token := core.new_invitation_token();

  insert into core.invitations as i (
    email, organization_id, unit_id, role_id, invited_by, token, expires_at, status,
    metadata, created_by, updated_by
  )
  values (
    v_email, p_organization_id, p_unit_id, p_role_id, v_user_id,
    core.hash_invitation_token(v_token), v_expires_at, 'pending',
    coalesce(p_metadata, '{}'::jsonb), v_user_id, v_user_id
  )
  returning i.id into v_invitation_id;

  return query select v_invitation_id, v_token, v_email, v_expires_at;
end;
$$;

revoke all on function public.create_invitation(text, uuid, uuid, uuid, jsonb) from public, anon;
grant execute on function public.create_invitation(text, uuid, uuid, uuid, jsonb) to app_user;

-- core.join_organization: makes a user a plain (not super_admin) member of an organization
-- with a role, for accept_invitation: inserts the membership, or revives the user's
-- soft-deleted one (its (user_id, organization_id) row survives removal, so re-joining must
-- reuse it: defect 10). A live membership is left untouched and null is returned, which is
-- how the caller learns the user is already a member (also when a concurrent acceptance of
-- another invitation won). Returns the membership id otherwise. Internal: not executable by
-- app roles. Raises nothing of its own.
create or replace function core.join_organization(
  p_user_id uuid,
  p_org_id uuid,
  p_role_id uuid,
  p_invited_by uuid
)
returns uuid
language sql
set search_path = ''
as $$
  insert into core.memberships as m (user_id, organization_id, role_id, is_super_admin, created_by, updated_by)
  values (p_user_id, p_org_id, p_role_id, false, p_invited_by, p_user_id)
  on conflict (user_id, organization_id) do update
    set role_id = excluded.role_id,
        is_super_admin = false,
        is_deleted = false,
        deleted_at = null,
        deleted_by = null,
        updated_by = p_user_id
    where m.is_deleted
  returning m.id;
$$;

revoke all on function core.join_organization(uuid, uuid, uuid, uuid) from public, anon;

-- public.accept_invitation: the invitee accepts with the raw token: becomes a member of the
-- organization (and of the unit, for a unit invitation) with the invited role, and gets the
-- organization's id and name back. The invitation row is locked first, so of two sessions
-- accepting one invitation exactly one succeeds and the other sees it accepted.
-- The signed-in user whose email (core.get_current_user_email()) equals the invited email,
-- ignoring case. Raises 42501 when unauthenticated or the email differs; P0002 for an unknown
-- token or a deleted organization; P0001 when the invitation is no longer pending, has expired,
-- or its role or unit is gone; 23505 when the caller is already a member.
create or replace function public.accept_invitation(p_token text)
returns table (
  organization_id uuid,
  unit_id uuid,
  role_id uuid,
  organization_name text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_caller_email text;
  v_invitation core.invitations%rowtype;
  v_org_name text;
  v_role_name text;
  v_membership_id uuid;
begin
  if p_token is null or p_token = '' then
    raise exception 'Invalid invitation token'
      using errcode = 'P0002';
  end if;

  select i.* into v_invitation
  from core.invitations as i
  where i.token = core.hash_invitation_token(p_token)
    and not i.is_deleted
  for update;

  if not found then
    raise exception 'Invalid invitation token'
      using errcode = 'P0002';
  end if;

  if v_invitation.status <> 'pending' then
    raise exception 'This invitation has already been %', v_invitation.status
      using errcode = 'P0001';
  end if;

  if v_invitation.expires_at <= now() then
    raise exception 'This invitation has expired'
      using errcode = 'P0001';
  end if;

  v_caller_email := core.get_current_user_email();
  if v_caller_email is null
     or pg_catalog.lower(pg_catalog.btrim(v_caller_email)) <> pg_catalog.lower(v_invitation.email) then
    raise exception 'This invitation was sent to a different email address'
      using errcode = '42501';
  end if;

  select o.name into v_org_name
  from core.organizations as o
  where o.id = v_invitation.organization_id
    and not o.is_deleted;

  if not found then
    raise exception 'The organization of this invitation no longer exists'
      using errcode = 'P0002';
  end if;

  v_role_name := core.role_name_for_org(v_invitation.organization_id, v_invitation.role_id);
  if v_role_name is null or v_role_name = 'super_admin' then
    raise exception 'The role of this invitation is no longer available'
      using errcode = 'P0001';
  end if;

  if v_invitation.unit_id is not null and not exists (
    select 1 from core.units as u
    where u.id = v_invitation.unit_id
      and u.organization_id = v_invitation.organization_id
      and not u.is_deleted
  ) then
    raise exception 'The unit of this invitation no longer exists'
      using errcode = 'P0001';
  end if;

  v_membership_id := core.join_organization(
    v_user_id, v_invitation.organization_id, v_invitation.role_id, v_invitation.invited_by);

  if v_membership_id is null then
    raise exception 'You are already a member of this organization'
      using errcode = '23505';
  end if;

  if v_invitation.unit_id is not null then
    perform core.put_unit_membership(v_user_id, v_invitation.unit_id, v_invitation.role_id, v_user_id);
  end if;

  update core.invitations as i
  set status = 'accepted',
      accepted_at = now(),
      accepted_by = v_user_id,
      updated_by = v_user_id
  where i.id = v_invitation.id;

  return query
  select v_invitation.organization_id, v_invitation.unit_id, v_invitation.role_id, v_org_name;
end;
$$;

revoke all on function public.accept_invitation(text) from public, anon;
grant execute on function public.accept_invitation(text) to app_user;

-- public.cancel_invitation: cancels a pending invitation, so that its token stops working.
-- Any live member of the invitation's organization. Raises 42501 when unauthenticated,
-- 22023 for a missing id, P0002 'Invitation not found' (also for another tenant's invitation,
-- so its existence does not leak), P0001 when the invitation is not pending.
create or replace function public.cancel_invitation(p_invitation_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_status text;
begin
  if p_invitation_id is null then
    raise exception 'Invitation id is required'
      using errcode = '22023';
  end if;

  select i.status into v_status
  from core.invitations as i
  where i.id = p_invitation_id
    and not i.is_deleted
    and i.organization_id = any (core.current_user_org_ids())
  for update;

  if not found then
    raise exception 'Invitation not found'
      using errcode = 'P0002';
  end if;

  if v_status <> 'pending' then
    raise exception 'Can only cancel pending invitations'
      using errcode = 'P0001';
  end if;

  update core.invitations as i
  set status = 'cancelled',
      updated_by = v_user_id
  where i.id = p_invitation_id;
end;
$$;

revoke all on function public.cancel_invitation(uuid) from public, anon;
grant execute on function public.cancel_invitation(uuid) to app_user;

-- public.resend_invitation: gives a pending or expired invitation a new token and a new 7 days
-- (the old token stops working) and returns the new raw token, once.
-- Any live member of the invitation's organization. Raises 42501 when unauthenticated;
-- 22023 for a missing id; P0002 'Invitation not found' (also for another tenant's
-- invitation); P0001 when it is accepted or cancelled, or its role or unit is gone; 23505 when
-- another pending invitation for that email exists or the email is already a member's.
create or replace function public.resend_invitation(p_invitation_id uuid)
returns table (
  id uuid,
  token text,
  email text,
  expires_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_user_id uuid := core.require_user_id();
  v_invitation core.invitations%rowtype;
  v_role_name text;
  v_token text;
  v_expires_at timestamptz := now() + interval '7 days';
begin
  if p_invitation_id is null then
    raise exception 'Invitation id is required'
      using errcode = '22023';
  end if;

  select i.* into v_invitation
  from core.invitations as i
  where i.id = p_invitation_id
    and not i.is_deleted
    and i.organization_id = any (core.current_user_org_ids());

  if not found then
    raise exception 'Invitation not found'
      using errcode = 'P0002';
  end if;

  -- Same lock as create_invitation for this (organization, email), then the row itself.
  perform pg_catalog.pg_advisory_xact_lock(
    pg_catalog.hashtextextended(
      'smta.invitation:' || v_invitation.organization_id::text || ':' || pg_catalog.lower(v_invitation.email), 0));

  select i.* into v_invitation
  from core.invitations as i
  where i.id = p_invitation_id
    and not i.is_deleted
  for update;

  if not found then
    raise exception 'Invitation not found'
      using errcode = 'P0002';
  end if;

  if v_invitation.status not in ('pending', 'expired') then
    raise exception 'Can only resend pending or expired invitations'
      using errcode = 'P0001';
  end if;

  v_role_name := core.role_name_for_org(v_invitation.organization_id, v_invitation.role_id);
  if v_role_name is null or v_role_name = 'super_admin' then
    raise exception 'The role of this invitation is no longer available'
      using errcode = 'P0001';
  end if;

  if v_invitation.unit_id is not null and not exists (
    select 1 from core.units as u
    where u.id = v_invitation.unit_id
      and not u.is_deleted
  ) then
    raise exception 'The unit of this invitation no longer exists'
      using errcode = 'P0001';
  end if;

  if exists (
    select 1 from core.invitations as other
    where other.organization_id = v_invitation.organization_id
      and pg_catalog.lower(other.email) = pg_catalog.lower(v_invitation.email)
      and other.id <> v_invitation.id
      and other.status = 'pending'
      and other.expires_at > now()
      and not other.is_deleted
  ) then
    raise exception 'A pending invitation to this email already exists for this organization'
      using errcode = '23505';
  end if;

  if exists (
    select 1
    from core.memberships as m
    join core.users_meta as meta on meta.id = m.user_id
    where m.organization_id = v_invitation.organization_id
      and not m.is_deleted
      and pg_catalog.lower(meta.email) = pg_catalog.lower(v_invitation.email)
  ) then
    raise exception 'This user is already a member of the organization'
      using errcode = '23505';
  end if;

  v_token := core.new_invitation_token();

  update core.invitations as i
  set token = core.hash_invitation_token(v_token),
      expires_at = v_expires_at,
      status = 'pending',
      updated_by = v_user_id
  where i.id = v_invitation.id;

  return query select v_invitation.id, v_token, v_invitation.email, v_expires_at;
end;
$$;

revoke all on function public.resend_invitation(uuid) from public, anon;
grant execute on function public.resend_invitation(uuid) to app_user;

-- public.list_invitations: an organization's invitations, newest first, optionally only those
-- in one status (a pending invitation past its expiry counts as 'expired').
-- Any member of the organization. Raises 42501 when unauthenticated or not a member (decided
-- before the status is validated, so a non-member learns nothing from the error), 22023 for
-- an unknown status.
create or replace function public.list_invitations(p_organization_id uuid, p_status text default null)
returns table (
  id uuid,
  email text,
  organization_id uuid,
  unit_id uuid,
  role_name text,
  role_label text,
  invited_by_email text,
  status text,
  expires_at timestamptz,
  created_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform core.require_user_id();

  if p_organization_id is null or not (p_organization_id = any (core.current_user_org_ids())) then
    raise exception 'You are not authorized to view invitations for this organization'
      using errcode = '42501';
  end if;

  if p_status is not null and p_status not in ('pending', 'accepted', 'expired', 'cancelled') then
    raise exception 'Invalid status. Must be "pending", "accepted", "expired", or "cancelled".'
      using errcode = '22023';
  end if;

  return query
  select v.id, v.email, v.organization_id, v.unit_id, v.role_name, v.role_label,
         v.invited_by_email, v.status, v.expires_at, v.created_at
  from (
    select i.id, i.email, i.organization_id, i.unit_id,
           r.name as role_name,
           r.description as role_label,
           inviter.email as invited_by_email,
           case when i.status = 'pending' and i.expires_at <= now() then 'expired'
                else i.status end as status,
           i.expires_at, i.created_at
    from core.invitations as i
    join core.roles as r on r.id = i.role_id
    left join core.users_meta as inviter on inviter.id = i.invited_by
    where i.organization_id = p_organization_id
      and not i.is_deleted
  ) as v
  where p_status is null or v.status = p_status
  order by v.created_at desc, v.id;
end;
$$;

revoke all on function public.list_invitations(uuid, text) from public, anon;
grant execute on function public.list_invitations(uuid, text) to app_user;

-- public.get_invitation_details: what an invitation offers, for the page its link lands on,
-- before the invitee signs in or up: the invited email, the organization, unit and role, who
-- invited them, the expiry and the status (a pending invitation past its expiry reads
-- 'expired'). Nothing is returned for a missing or unknown token or an invitation of a deleted
-- organization; the function reads that one invitation only and writes nothing.
-- Callable by anyone holding the token, signed in or not: the one function of SMTA's API that
-- anon may execute (as in SMTA 0.8, whose suite asserts it). The raw token is the credential
-- here: 366 random bits, mailed to the invitee, never stored. Requiring a signed-in user as
-- well would protect nothing, since anyone can sign up, while it would break the landing page.
-- It reveals no more than an invitation mail carries: who is invited, where, as what, until
-- when, and the inviter's name (never the inviter's email: null when they have no name).
-- Raises nothing.
create or replace function public.get_invitation_details(p_token text)
returns table (
  id uuid,
  email text,
  organization_name text,
  unit_name text,
  role_name text,
  role_label text,
  invited_by_name text,
  expires_at timestamptz,
  status text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if p_token is null or p_token = '' then
    return;
  end if;

  return query
  select i.id,
         i.email,
         o.name,
         u.name,
         r.name,
         r.description,
         nullif(pg_catalog.btrim(pg_catalog.concat_ws(' ', inviter.first_name, inviter.last_name)), ''),
         i.expires_at,
         case when i.status = 'pending' and i.expires_at <= now() then 'expired'
              else i.status end
  from core.invitations as i
  join core.organizations as o on o.id = i.organization_id and not o.is_deleted
  join core.roles as r on r.id = i.role_id
  left join core.units as u on u.id = i.unit_id and not u.is_deleted
  left join core.users_meta as inviter on inviter.id = i.invited_by
  where i.token = core.hash_invitation_token(p_token)
    and not i.is_deleted;
end;
$$;

-- The one API function anon may execute, on purpose: the invitation link lands on a page the
-- invitee sees before signing in or up, and the raw token it carries is the credential. It
-- returns nothing for an unknown token and never the inviter's email (see above); SMTA 0.8's
-- own suite asserts this grant. Every other public function is revoked from anon.
revoke all on function public.get_invitation_details(text) from public;
grant execute on function public.get_invitation_details(text) to anon, app_user;
