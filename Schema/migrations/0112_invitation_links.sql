-- 0112_invitation_links: invitations without an email address. A member creates a link (its
-- token) for a role, optionally for a unit, a number of uses, an expiry and an email domain;
-- whoever signs in and presents the token joins with that role, until the link is used up,
-- expires or is revoked.
--
-- A link is a bearer credential for as many people as it has uses, so it follows the rules of
-- email invitations (0017, 0050) and adds its own:
--   * the token is made like an invitation's (core.new_invitation_token: 366 random bits),
--     returned once by create_invitation_link and stored only as its SHA-256
--     (core.invitation_links.token_hash); list_invitation_links never shows it;
--   * the role ceiling (core.may_grant_role): nobody creates a link for a role above their own
--     or for super_admin. It binds the link for its whole life: a link admits someone only while
--     its creator is still a live member who may give its role (a manager who is demoted or
--     leaves takes their links' power with them); list_invitation_links reports such a link as
--     'inactive';
--   * the seat limit (core.check_seat_limit, 0040): creating a link needs a free seat, and every
--     join is a membership insert, which the seat trigger checks;
--   * uses are counted under a row lock: N concurrent accepts of a link with k uses left admit
--     exactly k (the others wait for the lock, then see the link used up);
--   * a link restricted to an email domain admits only a caller whose email the adapter proves
--     verified (core.current_user_verified_email, 0110) at exactly that domain;
--   * expiry defaults to 7 days, like an email invitation; 'infinity' makes a link that never
--     expires (revoke it when it is no longer wanted);
--   * the table is written only by these functions (no privilege for app_user; RLS forced with
--     no policy for it), and every change is in the audit log without the token hash.
--
-- Who may do what: any live member of the organization creates links (at a role within their
-- reach; for a unit, a member of that unit or the organization's super_admin or a manager, as
-- for email invitations) and lists them; the link's creator, the super_admin and managers revoke
-- one; any signed-in user accepts one.

-- =============================================================================================
-- The table
-- =============================================================================================
create table core.invitation_links (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    unit_id uuid,
    role_id uuid not null references core.roles (id),
    -- lowercase hex SHA-256 of the raw token; the format check makes storing a raw token
    -- impossible by mistake
    token_hash text not null constraint invitation_links_token_hash_key unique
        constraint invitation_links_token_hash_is_sha256_hex check (token_hash ~ '^[0-9a-f]{64}$'),
    -- null: as many uses as the seat limit allows
    max_uses integer constraint invitation_links_max_uses_positive check (max_uses > 0),
    use_count integer not null default 0,
    expires_at timestamptz not null default (now() + interval '7 days'),
    -- null: any email; else the lowercase domain a verified email must have
    email_domain text constraint invitation_links_email_domain_format
        check (email_domain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
               and length(email_domain) <= 253),
    revoked_at timestamptz,
    revoked_by uuid,
    created_by uuid not null,
    updated_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint invitation_links_uses_within_max
        check (use_count >= 0 and (max_uses is null or use_count <= max_uses)),
    -- a unit link names a unit of the same organization
    constraint invitation_links_unit_id_fkey foreign key (unit_id, organization_id)
        references core.units (id, organization_id) on delete cascade
);

create index idx_invitation_links_organization_id on core.invitation_links (organization_id, created_at desc);
create index idx_invitation_links_unit_id on core.invitation_links (unit_id) where unit_id is not null;
create index idx_invitation_links_role_id on core.invitation_links (role_id);
-- (links by token are served by the unique index invitation_links_token_hash_key)

comment on table core.invitation_links is
    'SMTA: invitation links (tokens stored as SHA-256); written only by the invitation-link functions';

alter table core.invitation_links enable row level security;
alter table core.invitation_links force row level security;
-- No policy for app_user and no privilege: the functions below are the only path for tenants.
revoke all on core.invitation_links from public, anon, authenticated, app_user;
grant select, insert, update, delete on core.invitation_links to app_admin;

create trigger trg_invitation_links_updated before update on core.invitation_links
    for each row execute function utils.update_timestamp();
create trigger trg_invitation_links_tenant_keys before update on core.invitation_links
    for each row execute function core.forbid_tenant_key_change('organization_id', 'unit_id', 'token_hash', 'created_by');
create trigger trg_invitation_links_role_scope before insert or update of role_id on core.invitation_links
    for each row execute function core.check_role_scope();
-- the token hash never reaches the log
create trigger trg_invitation_links_audit after insert or update or delete on core.invitation_links
    for each row execute function core.audit_row_change('organization_id', '', 'token_hash');

-- =============================================================================================
-- Helpers
-- =============================================================================================

-- core.user_may_grant_role(p_user_id, p_org_id, p_role_id): core.may_grant_role (0050) for a
-- given user instead of the caller: may that user give this role in this organization? Same
-- rules, on a live, unexpired membership (0111). Internal (a tenant must not learn another
-- user's standing): not executable by app roles. Raises nothing.
create or replace function core.user_may_grant_role(p_user_id uuid, p_org_id uuid, p_role_id uuid)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_mine record;
    v_target core.roles;
begin
    if p_user_id is null or p_org_id is null or p_role_id is null then
        return false;
    end if;

    select m.is_super_admin, m.role_id, r.name, r.organization_id as role_org_id
    into v_mine
    from core.memberships as m
    join core.organizations as o on o.id = m.organization_id and not o.is_deleted
    join core.roles as r on r.id = m.role_id
    where m.user_id = p_user_id
      and m.organization_id = p_org_id
      and not m.is_deleted
      and (m.expires_at is null or m.expires_at > pg_catalog.now());
    if not found then
        return false;
    end if;

    select * into v_target from core.roles as r where r.id = p_role_id;
    if not found then
        return false;
    end if;

    if v_mine.is_super_admin then
        return true;
    end if;
    if v_mine.role_org_id is null and v_mine.name in ('super_admin', 'manager') then
        return not (v_target.organization_id is null and v_target.name = 'super_admin');
    end if;
    return v_mine.role_id = p_role_id;
end
$$;

revoke all on function core.user_may_grant_role(uuid, uuid, uuid) from public, anon, authenticated, app_user;

-- core.may_grant_role (0050), now one rule with core.user_may_grant_role: may the caller give
-- this role in this organization (the active one, if the request names one: 0111)? Same
-- signature. Callable by the runtime roles. Raises nothing.
create or replace function core.may_grant_role(p_org_id uuid, p_role_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select core.user_may_grant_role(core.get_current_user_id(), p_org_id, p_role_id)
       and (core.current_organization_id() is null or p_org_id = core.current_organization_id());
$$;

-- core.invitation_link_status(link): what a link is now: 'revoked', 'expired', 'used_up',
-- 'inactive' (its creator may no longer give its role, or its role or unit is gone) or
-- 'active'. One answer for list_invitation_links and accept_invitation_link. Internal.
-- Raises nothing.
create or replace function core.invitation_link_status(p_link core.invitation_links)
returns text
language sql
stable
security definer
set search_path = ''
as $$
    select case
        when p_link.revoked_at is not null then 'revoked'
        when p_link.expires_at <= pg_catalog.now() then 'expired'
        when p_link.max_uses is not null and p_link.use_count >= p_link.max_uses then 'used_up'
        when coalesce(link_role.name, 'super_admin') = 'super_admin'
          or (p_link.unit_id is not null and not exists (
                select 1 from core.units as u
                where u.id = p_link.unit_id and not u.is_deleted))
          or not core.user_may_grant_role(p_link.created_by, p_link.organization_id, p_link.role_id)
            then 'inactive'
        else 'active'
    end
    from (select core.role_name_for_org(p_link.organization_id, p_link.role_id) as name) as link_role;
$$;

revoke all on function core.invitation_link_status(core.invitation_links) from public, anon, authenticated, app_user;

-- core.normalize_email_domain(p_domain): a domain as links store it: trimmed, a leading '@'
-- dropped, lowercase; null for null or blank. Internal. Raises 22023 when the result is not a
-- domain name (letters, digits and hyphens in dot-separated labels, at least two labels).
create or replace function core.normalize_email_domain(p_domain text)
returns text
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_domain text := pg_catalog.lower(pg_catalog.ltrim(pg_catalog.btrim(p_domain), '@'));
begin
    if v_domain is null or v_domain = '' then
        return null;
    end if;
    if pg_catalog.length(v_domain) > 253
       or v_domain !~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$' then
        raise exception 'Invalid email domain'
            using errcode = '22023';
    end if;
    return v_domain;
end
$$;

revoke all on function core.normalize_email_domain(text) from public, anon, authenticated, app_user;

-- =============================================================================================
-- Invitations
-- =============================================================================================

-- public.create_invitation_link: creates an invitation link into an organization (and
-- optionally one of its units) with a role, and returns its id, the raw token (the only time it
-- is ever available: the application builds the URL from it) and its expiry.
-- Any live member of the organization, at a role within their reach (core.may_grant_role); for a
-- unit link, a member of that unit or the organization's super_admin or a manager. Raises 42501
-- when unauthenticated, not a member, not allowed into the unit, for the super_admin role or a
-- role above the caller's own; 22023 for a missing organization id, an unusable role, a unit of
-- another organization, max uses below 1, an expiry not in the future or an invalid domain;
-- P0001 when the organization has no free seat.
create or replace function public.create_invitation_link(
    p_org_id uuid,
    p_role_id uuid,
    p_max_uses integer default null,
    p_expires_at timestamptz default null,
    p_unit_id uuid default null,
    p_email_domain text default null
)
returns table (
    id uuid,
    token text,
    expires_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_role_name text;
    v_domain text;
    v_token text;
    v_link_id uuid;
    v_expires_at timestamptz := coalesce(p_expires_at, pg_catalog.now() + interval '7 days');
begin
    if p_org_id is null then
        raise exception 'Organization id is required'
            using errcode = '22023';
    end if;

    if not (p_org_id = any (core.current_user_org_ids())) then
        raise exception 'You must be a member of this organization to invite users'
            using errcode = '42501';
    end if;

    if p_unit_id is not null then
        if not exists (
            select 1 from core.units as u
            where u.id = p_unit_id
              and u.organization_id = p_org_id
              and not u.is_deleted
        ) then
            raise exception 'Unit does not belong to this organization'
                using errcode = '22023';
        end if;

        if not (p_unit_id = any (core.current_user_unit_ids())
                or p_org_id = any (core.current_user_managed_org_ids())) then
            raise exception 'You must be a member of this unit to invite users to it'
                using errcode = '42501';
        end if;
    end if;

    v_role_name := core.role_name_for_org(p_org_id, p_role_id);
    if v_role_name is null then
        raise exception 'Invalid role specified'
            using errcode = '22023';
    end if;
    if v_role_name = 'super_admin' then
        raise exception 'Cannot invite users as super_admin. Use public.transfer_super_admin() to transfer ownership.'
            using errcode = '42501';
    end if;
    if not core.may_grant_role(p_org_id, p_role_id) then
        raise exception 'You cannot invite at a role above your own'
            using errcode = '42501';
    end if;

    if p_max_uses is not null and p_max_uses < 1 then
        raise exception 'An invitation link needs at least one use'
            using errcode = '22023';
    end if;

    if v_expires_at <= pg_catalog.now() then
        raise exception 'The expiry of an invitation link must be in the future'
            using errcode = '22023';
    end if;

    v_domain := core.normalize_email_domain(p_email_domain);

    perform core.check_seat_limit(p_org_id);

    v_token := core.new_invitation_token();

    insert into core.invitation_links as l (
        organization_id, unit_id, role_id, token_hash, max_uses, expires_at, email_domain,
        created_by, updated_by
    )
    values (
        p_org_id, p_unit_id, p_role_id, core.hash_invitation_token(v_token), p_max_uses,
        v_expires_at, v_domain, v_user_id, v_user_id
    )
    returning l.id into v_link_id;

    return query select v_link_id, v_token, v_expires_at;
end;
$$;

revoke all on function public.create_invitation_link(uuid, uuid, integer, timestamptz, uuid, text) from public, anon;
grant execute on function public.create_invitation_link(uuid, uuid, integer, timestamptz, uuid, text) to app_user;

-- public.accept_invitation_link: the signed-in caller joins the link's organization (and unit)
-- with its role, using one of its uses, and gets the organization's id and name back. The link
-- row is locked first, so concurrent accepts take its uses one at a time.
-- Any signed-in user holding the token (with a verified email at the link's domain, for a
-- domain link). Raises 42501 when unauthenticated or the caller's verified email is not at the
-- link's domain; P0002 for an unknown token or a deleted organization; 23505 when the caller is
-- already a member; P0001 when the link is revoked, expired, used up or inactive, or the
-- organization has no free seat.
create or replace function public.accept_invitation_link(p_token text)
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
    v_link core.invitation_links%rowtype;
    v_status text;
    v_verified_email text;
    v_org_name text;
    v_membership_id uuid;
begin
    if p_token is null or p_token = '' then
        raise exception 'Invalid invitation link'
            using errcode = 'P0002';
    end if;

    select l.* into v_link
    from core.invitation_links as l
    where l.token_hash = core.hash_invitation_token(p_token)
    for update;

    if not found then
        raise exception 'Invalid invitation link'
            using errcode = 'P0002';
    end if;

    select o.name into v_org_name
    from core.organizations as o
    where o.id = v_link.organization_id
      and not o.is_deleted;
    if not found then
        raise exception 'The organization of this invitation link no longer exists'
            using errcode = 'P0002';
    end if;

    v_status := core.invitation_link_status(v_link);
    if v_status = 'revoked' then
        raise exception 'This invitation link has been revoked'
            using errcode = 'P0001';
    elsif v_status = 'expired' then
        raise exception 'This invitation link has expired'
            using errcode = 'P0001';
    elsif v_status = 'used_up' then
        raise exception 'This invitation link has been used up'
            using errcode = 'P0001';
    elsif v_status <> 'active' then
        raise exception 'This invitation link is no longer valid'
            using errcode = 'P0001';
    end if;

    if v_link.email_domain is not null then
        v_verified_email := core.current_user_verified_email();
        if v_verified_email is null
           or pg_catalog.split_part(v_verified_email, '@', 2) <> v_link.email_domain then
            raise exception 'This invitation link is only for verified @% email addresses', v_link.email_domain
                using errcode = '42501';
        end if;
    end if;

    if exists (
        select 1 from core.memberships as m
        where m.user_id = v_user_id
          and m.organization_id = v_link.organization_id
          and not m.is_deleted
    ) then
        raise exception 'You are already a member of this organization'
            using errcode = '23505';
    end if;

    update core.invitation_links as l
    set use_count = l.use_count + 1,
        updated_by = v_user_id
    where l.id = v_link.id;

    v_membership_id := core.join_organization(
        v_user_id, v_link.organization_id, v_link.role_id, v_link.created_by);

    if v_membership_id is null then
        raise exception 'You are already a member of this organization'
            using errcode = '23505';
    end if;

    if v_link.unit_id is not null then
        perform core.put_unit_membership(v_user_id, v_link.unit_id, v_link.role_id, v_user_id);
    end if;

    return query
    select v_link.organization_id, v_link.unit_id, v_link.role_id, v_org_name;
end;
$$;

revoke all on function public.accept_invitation_link(text) from public, anon;
grant execute on function public.accept_invitation_link(text) to app_user;

-- public.revoke_invitation_link: revokes an invitation link, so that its token stops working at
-- once. The link's creator, or the organization's super_admin or a manager (live members).
-- Raises 42501 when unauthenticated or another member's link; 22023 for a missing id; P0002
-- 'Invitation link not found' (also for another tenant's link, so its existence does not leak);
-- P0001 when it is already revoked.
create or replace function public.revoke_invitation_link(p_link_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_link core.invitation_links%rowtype;
begin
    if p_link_id is null then
        raise exception 'Invitation link id is required'
            using errcode = '22023';
    end if;

    select l.* into v_link
    from core.invitation_links as l
    where l.id = p_link_id
      and l.organization_id = any (core.current_user_org_ids())
    for update;
    if not found then
        raise exception 'Invitation link not found'
            using errcode = 'P0002';
    end if;

    if v_link.created_by <> v_user_id
       and not (v_link.organization_id = any (core.current_user_managed_org_ids())) then
        raise exception 'Only the link''s creator, the super_admin or a manager may revoke it'
            using errcode = '42501';
    end if;

    if v_link.revoked_at is not null then
        raise exception 'This invitation link is already revoked'
            using errcode = 'P0001';
    end if;

    update core.invitation_links as l
    set revoked_at = pg_catalog.now(),
        revoked_by = v_user_id,
        updated_by = v_user_id
    where l.id = v_link.id;
end;
$$;

revoke all on function public.revoke_invitation_link(uuid) from public, anon;
grant execute on function public.revoke_invitation_link(uuid) to app_user;

-- public.list_invitation_links: the organization's invitation links, newest first, with what
-- each is now (status) — never their tokens. Any live member of the organization. Raises 42501
-- when unauthenticated or not a member; 22023 for a missing id.
create or replace function public.list_invitation_links(p_org_id uuid)
returns table (
    id uuid,
    organization_id uuid,
    unit_id uuid,
    role_id uuid,
    role_name text,
    max_uses integer,
    use_count integer,
    expires_at timestamptz,
    email_domain text,
    status text,
    created_by uuid,
    created_at timestamptz,
    revoked_at timestamptz
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform core.require_user_id();
    if p_org_id is null then
        raise exception 'Organization id is required'
            using errcode = '22023';
    end if;
    if not (p_org_id = any (core.current_user_org_ids())) then
        raise exception 'You must be a member of this organization to see its invitation links'
            using errcode = '42501';
    end if;

    return query
    select l.id, l.organization_id, l.unit_id, l.role_id, r.name, l.max_uses, l.use_count,
           l.expires_at, l.email_domain, core.invitation_link_status(l), l.created_by,
           l.created_at, l.revoked_at
    from core.invitation_links as l
    join core.roles as r on r.id = l.role_id
    where l.organization_id = p_org_id
    order by l.created_at desc, l.id;
end;
$$;

revoke all on function public.list_invitation_links(uuid) from public, anon;
grant execute on function public.list_invitation_links(uuid) to app_user;

comment on function public.create_invitation_link(uuid, uuid, integer, timestamptz, uuid, text) is
$$Creates an invitation link into an organization (optionally one of its units) with a role, and returns its token once.
The token is stored only as a hash: build the link's URL from it now. A link admits up to p_max_uses people (null: no limit but the seat limit) until p_expires_at (null: 7 days; 'infinity': never); with p_email_domain only callers whose verified email is at that domain.
Callers: any live member of the organization, at a role no higher than their own (not super_admin); for a unit, a member of the unit or the organization's super_admin or a manager.
Returns: one row (id, token, expires_at).
Errors: 42501 when not signed in, not a member, not allowed into the unit, or for super_admin or a role above the caller's own; 22023 for a missing organization id, an unusable role, a unit of another organization, p_max_uses below 1, an expiry not in the future or an invalid domain; P0001 when the organization has no free seat.$$;

comment on function public.accept_invitation_link(text) is
$$Joins the caller to the organization (and unit) of an invitation link, using one of its uses.
Concurrent accepts take the uses one at a time: a link with k uses left admits exactly k callers. A link stops working when its creator leaves or can no longer give its role.
Callers: any signed-in user holding the token; for a domain link, with a verified email at that domain.
Returns: one row (organization_id, unit_id, role_id, organization_name).
Errors: 42501 when not signed in or the caller's verified email is not at the link's domain; P0002 for an unknown token or a deleted organization; 23505 when the caller is already a member; P0001 when the link is revoked, expired, used up or no longer valid, or the organization has no free seat.$$;

comment on function public.revoke_invitation_link(uuid) is
$$Revokes an invitation link: its token stops working at once.
Callers: the link's creator, or the organization's super_admin or a manager.
Returns: nothing.
Errors: 42501 when not signed in or the link is another member's; 22023 for a missing id; P0002 when the link does not exist or is another organization's; P0001 when it is already revoked.$$;

comment on function public.list_invitation_links(uuid) is
$$Lists an organization's invitation links, newest first, never their tokens.
status is active, expired, used_up, revoked or inactive (its creator can no longer give its role, or its role or unit is gone).
Callers: any live member of the organization.
Returns: one row per link (id, organization_id, unit_id, role_id, role_name, max_uses, use_count, expires_at, email_domain, status, created_by, created_at, revoked_at).
Errors: 42501 when not signed in or not a member; 22023 for a missing id.$$;
