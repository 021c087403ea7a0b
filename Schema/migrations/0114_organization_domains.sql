-- 0114_organization_domains: verified email domains and joining by domain. An organization's
-- super_admin claims a domain (add_organization_domain) and publishes the returned token as a
-- DNS TXT record; the platform checks DNS and marks the domain verified
-- (platform.verify_organization_domain, which `smta domains verify` calls); from then on a
-- signed-in user whose email the adapter proves verified at exactly that domain sees the
-- organization (list_joinable_organizations) and may join it with the domain's role
-- (join_organization_by_domain).
--
-- The rules:
--   * only a verified email joins (core.current_user_verified_email, 0110): on platforms where
--     anyone may sign up with any address, an unproven address never does;
--   * a domain is verified by one organization at a time (a unique index over verified
--     domains): nobody can attach themselves to another company's domain;
--   * the role a domain gives is chosen when it is added (team unless said otherwise), within
--     the super_admin's reach and never super_admin; joining checks it is still usable;
--   * a person an organization REMOVED does not come back by domain (only by an invitation):
--     their removed membership names someone else as its deleter. Who left by their own act
--     may rejoin;
--   * an existing membership, expired included, is "already a member": renew it instead;
--   * the seat limit applies (every join is a membership insert);
--   * the verification token is not a secret: it is published in DNS. It only proves that whoever
--     added the domain also controls its DNS;
--   * the table is written only by these functions (RLS forced, no policy and no privilege for
--     tenants); every change is in the audit log.

-- =============================================================================================
-- The table
-- =============================================================================================
create table core.organization_domains (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    domain text not null constraint organization_domains_domain_format
        check (domain ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$'
               and length(domain) <= 253),
    -- published as the TXT record  _smta-verification.<domain>  "smta-domain-verification=<token>"
    verification_token text not null,
    -- the role a member joining by this domain gets
    role_id uuid not null references core.roles (id),
    verified_at timestamptz,
    created_by uuid,
    updated_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint organization_domains_organization_domain_key unique (organization_id, domain)
);

-- One organization per verified domain.
create unique index idx_organization_domains_verified_domain on core.organization_domains (domain)
    where verified_at is not null;
create index idx_organization_domains_role_id on core.organization_domains (role_id);

comment on table core.organization_domains is
    'SMTA: email domains organizations claim; verified by the platform through DNS; written only by the domain functions';

alter table core.organization_domains enable row level security;
alter table core.organization_domains force row level security;
-- No policy for app_user and no privilege: the functions below are the only path for tenants.
revoke all on core.organization_domains from public, anon, authenticated, app_user;
grant select, insert, update, delete on core.organization_domains to app_admin;

create trigger trg_organization_domains_updated before update on core.organization_domains
    for each row execute function utils.update_timestamp();
create trigger trg_organization_domains_tenant_keys before update on core.organization_domains
    for each row execute function core.forbid_tenant_key_change('organization_id', 'domain');
create trigger trg_organization_domains_role_scope before insert or update of role_id on core.organization_domains
    for each row execute function core.check_role_scope();
create trigger trg_organization_domains_audit after insert or update or delete on core.organization_domains
    for each row execute function core.audit_row_change('organization_id', '');

-- core.domain_verification_record(p_domain): the DNS name a domain's verification TXT record
-- is published under. Internal. Raises nothing.
create or replace function core.domain_verification_record(p_domain text)
returns text
language sql
immutable
set search_path = ''
as $$
    select '_smta-verification.' || p_domain;
$$;

revoke all on function core.domain_verification_record(text) from public, anon, authenticated, app_user;

-- =============================================================================================
-- Organizations
-- =============================================================================================

-- public.add_organization_domain: claims an email domain for the organization and returns
-- what to publish in DNS: a TXT record named record_name holding
-- "smta-domain-verification=<verification_token>". The platform then verifies it.
-- The organization's super_admin. Raises 42501 when not signed in, not the super_admin, or for
-- a role above the caller's own or super_admin; 22023 for missing ids, an invalid domain or an
-- unusable role; 23505 when the organization already claims the domain or another organization
-- has verified it.
create or replace function public.add_organization_domain(p_org_id uuid, p_domain text, p_role_id uuid default null)
returns table (
    id uuid,
    domain text,
    verification_token text,
    record_name text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_domain text := core.normalize_email_domain(p_domain);
    v_role_id uuid := coalesce(p_role_id,
        (select r.id from core.roles as r where r.name = 'team' and r.organization_id is null and not r.is_deleted));
    v_token text := core.new_invitation_token();
    v_id uuid;
begin
    if p_org_id is null or v_domain is null then
        raise exception 'Organization id and domain are required'
            using errcode = '22023';
    end if;
    if not (p_org_id = any (core.current_user_super_admin_org_ids())) then
        raise exception 'Only the organization''s super_admin can add a domain'
            using errcode = '42501';
    end if;
    perform core.assert_assignable_role(p_org_id, v_role_id);

    if exists (
        select 1 from core.organization_domains as d
        where d.domain = v_domain and d.verified_at is not null and d.organization_id <> p_org_id
    ) then
        raise exception 'Another organization has verified this domain'
            using errcode = '23505';
    end if;

    begin
        insert into core.organization_domains as d (organization_id, domain, verification_token, role_id, created_by, updated_by)
        values (p_org_id, v_domain, v_token, v_role_id, v_user_id, v_user_id)
        returning d.id into v_id;
    exception
        when unique_violation then
            raise exception 'The organization already claims this domain'
                using errcode = '23505';
    end;

    return query select v_id, v_domain, v_token, core.domain_verification_record(v_domain);
end;
$$;

revoke all on function public.add_organization_domain(uuid, text, uuid) from public, anon;
grant execute on function public.add_organization_domain(uuid, text, uuid) to app_user;

-- public.remove_organization_domain: gives up a domain (verified or not): nobody joins by it any
-- more. The organization's super_admin. Raises 42501 when not signed in or not the
-- super_admin; 22023 for a missing id; P0002 'Domain not found' (also another organization's).
create or replace function public.remove_organization_domain(p_domain_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_org_id uuid;
begin
    perform core.require_user_id();
    if p_domain_id is null then
        raise exception 'Domain id is required'
            using errcode = '22023';
    end if;
    select d.organization_id into v_org_id
    from core.organization_domains as d
    where d.id = p_domain_id
      and d.organization_id = any (core.current_user_org_ids());
    if not found then
        raise exception 'Domain not found'
            using errcode = 'P0002';
    end if;
    if not (v_org_id = any (core.current_user_super_admin_org_ids())) then
        raise exception 'Only the organization''s super_admin can remove a domain'
            using errcode = '42501';
    end if;
    delete from core.organization_domains as d where d.id = p_domain_id;
end;
$$;

revoke all on function public.remove_organization_domain(uuid) from public, anon;
grant execute on function public.remove_organization_domain(uuid) to app_user;

-- public.list_organization_domains: the organization's domains with their role, their DNS
-- record and whether they are verified. The organization's super_admin and managers. Raises
-- 42501 when not signed in or not allowed; 22023 for a missing id.
create or replace function public.list_organization_domains(p_org_id uuid)
returns table (
    id uuid,
    domain text,
    role_id uuid,
    role_name text,
    verified_at timestamptz,
    verification_token text,
    record_name text,
    created_at timestamptz
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
    if not (p_org_id = any (core.current_user_managed_org_ids())) then
        raise exception 'Only the organization''s super_admin and managers can list its domains'
            using errcode = '42501';
    end if;
    return query
    select d.id, d.domain, d.role_id, r.name, d.verified_at, d.verification_token,
           core.domain_verification_record(d.domain), d.created_at
    from core.organization_domains as d
    join core.roles as r on r.id = d.role_id
    where d.organization_id = p_org_id
    order by d.domain;
end;
$$;

revoke all on function public.list_organization_domains(uuid) from public, anon;
grant execute on function public.list_organization_domains(uuid) to app_user;

-- core.joinable_domains(): the verified domains of live organizations that the caller's verified
-- email belongs to, where the caller holds no membership and was not removed. Internal to the
-- two functions below. Raises nothing.
create or replace function core.joinable_domains()
returns setof core.organization_domains
language sql
stable
security definer
set search_path = ''
as $$
    -- The caller's domain and id are read once (the subqueries are InitPlans), not per row.
    select d.*
    from core.organization_domains as d
    join core.organizations as o on o.id = d.organization_id and not o.is_deleted
    where d.verified_at is not null
      and d.domain = (select pg_catalog.split_part(core.current_user_verified_email(), '@', 2))
      and not exists (
          select 1 from core.memberships as m
          where m.organization_id = d.organization_id
            and m.user_id = (select core.get_current_user_id())
            and (not m.is_deleted or m.deleted_by is distinct from m.user_id)
      );
$$;

revoke all on function core.joinable_domains() from public, anon, authenticated, app_user;

-- public.list_joinable_organizations: the organizations the caller may join by their verified
-- email's domain. Any signed-in user; empty without a verified email. Raises 42501 when not
-- signed in.
create or replace function public.list_joinable_organizations()
returns table (
    organization_id uuid,
    organization_name text,
    domain text,
    role_name text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    perform core.require_user_id();
    return query
    select d.organization_id, o.name, d.domain, r.name
    from core.joinable_domains() as d
    join core.organizations as o on o.id = d.organization_id
    join core.roles as r on r.id = d.role_id
    order by o.name, d.organization_id;
end;
$$;

revoke all on function public.list_joinable_organizations() from public, anon;
grant execute on function public.list_joinable_organizations() to app_user;

-- public.join_organization_by_domain: the caller joins an organization one of whose verified
-- domains is their verified email's, with that domain's role. Any signed-in user with such an
-- email. Raises 42501 when not signed in, without a verified email of a verified domain of the
-- organization, or when the organization removed them; 22023 for a missing id; 23505 when
-- they are already a member; P0001 when the domain's role is gone or the organization has no
-- free seat.
create or replace function public.join_organization_by_domain(p_org_id uuid)
returns table (
    organization_id uuid,
    role_id uuid,
    organization_name text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_email_domain constant text := pg_catalog.split_part(core.current_user_verified_email(), '@', 2);
    v_domain core.organization_domains%rowtype;
    v_membership core.memberships%rowtype;
    v_role_name text;
    v_org_name text;
begin
    if p_org_id is null then
        raise exception 'Organization id is required'
            using errcode = '22023';
    end if;

    select m.* into v_membership
    from core.memberships as m
    where m.organization_id = p_org_id
      and m.user_id = v_user_id;
    if found and not v_membership.is_deleted then
        raise exception 'You are already a member of this organization'
            using errcode = '23505';
    end if;

    select d.* into v_domain
    from core.organization_domains as d
    join core.organizations as o on o.id = d.organization_id and not o.is_deleted
    where d.organization_id = p_org_id
      and d.verified_at is not null
      and d.domain = v_email_domain;
    if not found then
        raise exception 'Your verified email does not belong to a verified domain of this organization'
            using errcode = '42501';
    end if;

    if v_membership.is_deleted and v_membership.deleted_by is distinct from v_user_id then
        raise exception 'You were removed from this organization: ask for an invitation'
            using errcode = '42501';
    end if;

    v_role_name := core.role_name_for_org(p_org_id, v_domain.role_id);
    if v_role_name is null or v_role_name = 'super_admin' then
        raise exception 'The role of this domain is no longer available'
            using errcode = 'P0001';
    end if;

    if core.join_organization(v_user_id, p_org_id, v_domain.role_id, v_domain.created_by) is null then
        raise exception 'You are already a member of this organization'
            using errcode = '23505';
    end if;

    select o.name into v_org_name from core.organizations as o where o.id = p_org_id;
    return query select p_org_id, v_domain.role_id, v_org_name;
end;
$$;

revoke all on function public.join_organization_by_domain(uuid) from public, anon;
grant execute on function public.join_organization_by_domain(uuid) to app_user;

-- =============================================================================================
-- The platform: verification
-- =============================================================================================

-- platform.list_pending_organization_domains(): every claimed domain not yet verified, with the
-- TXT record to look for: what `smta domains verify` checks. The platform (app_admin) only.
-- Raises nothing.
create or replace function platform.list_pending_organization_domains()
returns table (
    id uuid,
    organization_id uuid,
    domain text,
    record_name text,
    record_value text
)
language sql
stable
security definer
set search_path = ''
as $$
    select d.id, d.organization_id, d.domain, core.domain_verification_record(d.domain),
           'smta-domain-verification=' || d.verification_token
    from core.organization_domains as d
    join core.organizations as o on o.id = d.organization_id and not o.is_deleted
    where d.verified_at is null
    order by d.created_at, d.id;
$$;

revoke all on function platform.list_pending_organization_domains() from public, anon, authenticated, app_user;
grant execute on function platform.list_pending_organization_domains() to app_admin;

-- platform.verify_organization_domain(p_domain_id): marks a claimed domain verified, once the
-- platform has found its TXT record. Idempotent for a verified domain. The platform (app_admin)
-- only. Raises 22023 for a missing id; P0002 for an unknown domain; 23505 when another
-- organization has verified the same domain.
create or replace function platform.verify_organization_domain(p_domain_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    if p_domain_id is null then
        raise exception 'Domain id is required'
            using errcode = '22023';
    end if;
    perform 1 from core.organization_domains as d where d.id = p_domain_id for update;
    if not found then
        raise exception 'Domain not found'
            using errcode = 'P0002';
    end if;
    begin
        update core.organization_domains as d
        set verified_at = coalesce(d.verified_at, pg_catalog.now())
        where d.id = p_domain_id;
    exception
        when unique_violation then
            raise exception 'Another organization has verified this domain'
                using errcode = '23505';
    end;
end;
$$;

revoke all on function platform.verify_organization_domain(uuid) from public, anon, authenticated, app_user;
grant execute on function platform.verify_organization_domain(uuid) to app_admin;

comment on function platform.list_pending_organization_domains() is
    'SMTA: claimed domains not yet verified, with the TXT record to find (smta domains verify)';
comment on function platform.verify_organization_domain(uuid) is
    'SMTA: marks a claimed domain verified once its DNS TXT record was found; the platform only';

-- =============================================================================================
-- Organizations
-- =============================================================================================

comment on function public.add_organization_domain(uuid, text, uuid) is
$$Claims an email domain for the organization and returns the DNS TXT record that proves it.
Publish a TXT record named record_name with the value "smta-domain-verification=<verification_token>"; the platform then verifies the domain (smta domains verify). Once verified, users whose email the platform has verified at exactly that domain may join with p_role_id (default: team).
Callers: the organization's super_admin.
Returns: one row (id, domain, verification_token, record_name).
Errors: 42501 when not signed in, not the super_admin, or for super_admin or a role above the caller's own; 22023 for missing ids, an invalid domain or an unusable role; 23505 when the organization already claims the domain or another organization has verified it; P0002 for an unknown role.$$;

comment on function public.remove_organization_domain(uuid) is
$$Gives up one of the organization's domains: nobody joins by it any more.
Callers: the organization's super_admin.
Returns: nothing.
Errors: 42501 when not signed in or not the super_admin; 22023 for a missing id; P0002 when the domain does not exist or is another organization's.$$;

comment on function public.list_organization_domains(uuid) is
$$Lists the organization's email domains, with the role each gives and its verification state.
Callers: the organization's super_admin and managers.
Returns: one row per domain (id, domain, role_id, role_name, verified_at, verification_token, record_name, created_at); verified_at is null until the platform has verified it.
Errors: 42501 when not signed in or not allowed; 22023 for a missing id.$$;

comment on function public.list_joinable_organizations() is
$$Lists the organizations the caller may join by the domain of their verified email.
Only an email the platform has verified counts; someone an organization removed does not see it again, and organizations the caller already belongs to are left out.
Callers: any signed-in user.
Returns: one row per organization (organization_id, organization_name, domain, role_name); none without a verified email.
Errors: 42501 when not signed in.$$;

comment on function public.join_organization_by_domain(uuid) is
$$Joins the caller to an organization one of whose verified domains their verified email belongs to, with that domain's role.
Callers: any signed-in user whose email the platform has verified at a verified domain of the organization, who was not removed from it.
Returns: one row (organization_id, role_id, organization_name).
Errors: 42501 when not signed in, without such an email, or when the organization removed the caller; 22023 for a missing id; 23505 when already a member; P0001 when the domain's role is gone or the organization has no free seat.$$;
