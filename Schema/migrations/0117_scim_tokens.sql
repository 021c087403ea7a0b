-- 0117_scim_tokens: the bearer tokens an organization gives its identity provider (Okta,
-- Microsoft Entra ID, Google) for SCIM provisioning (issue 18). A token acts for its own
-- organization only: the bridge's SCIM endpoints look it up with
-- platform.authenticate_scim_token and act on the organization it names, never on one named in
-- the request.
--
-- The rules:
--   * only the organization's super_admin creates, lists and revokes its tokens (provisioning
--     adds and removes members, so it is an owner's decision);
--   * the raw token is returned once by create_scim_token and stored only as its SHA-256
--     (scim_tokens.token_hash); it starts with "smta_scim_" so that secret scanners recognise a
--     leaked one;
--   * a revoked token, or one of a deleted organization, authenticates nothing, at once;
--   * labels name tokens in the audit log (the actor of what SCIM changes); unique among an
--     organization's live tokens;
--   * the table is written only by these functions (RLS forced, no policy and no privilege for
--     tenants); every change is audited without the hash.

-- =============================================================================================
-- The table
-- =============================================================================================
create table core.scim_tokens (
    id uuid primary key default gen_random_uuid(),
    organization_id uuid not null references core.organizations (id) on delete cascade,
    label text not null constraint scim_tokens_label_length check (length(label) between 1 and 100),
    token_hash text not null constraint scim_tokens_token_hash_key unique
        constraint scim_tokens_token_hash_is_sha256_hex check (token_hash ~ '^[0-9a-f]{64}$'),
    last_used_at timestamptz,
    revoked_at timestamptz,
    revoked_by uuid,
    created_by uuid,
    updated_by uuid,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- Labels are unique among an organization's live tokens.
create unique index idx_scim_tokens_live_label on core.scim_tokens (organization_id, label)
    where revoked_at is null;

comment on table core.scim_tokens is
    'SMTA: SCIM provisioning tokens per organization (stored as SHA-256); written only by the SCIM token functions';

alter table core.scim_tokens enable row level security;
alter table core.scim_tokens force row level security;
-- No policy for app_user and no privilege: the functions below are the only path for tenants.
revoke all on core.scim_tokens from public, anon, authenticated, app_user;
grant select, insert, update, delete on core.scim_tokens to app_admin;

create trigger trg_scim_tokens_updated before update on core.scim_tokens
    for each row execute function utils.update_timestamp();
create trigger trg_scim_tokens_tenant_keys before update on core.scim_tokens
    for each row execute function core.forbid_tenant_key_change('organization_id', 'token_hash');
-- the token hash never reaches the log; last use is not a change worth a row
create trigger trg_scim_tokens_audit after insert or delete or update of label, revoked_at on core.scim_tokens
    for each row execute function core.audit_row_change('organization_id', '', 'token_hash');

-- =============================================================================================
-- The tokens
-- =============================================================================================

-- public.create_scim_token: creates a SCIM token for the organization and returns it once. The
-- organization's super_admin. Raises 42501 when not signed in or not the super_admin; 22023 for
-- a missing id or a label not 1 to 100 characters; 23505 when a live token has that label.
create or replace function public.create_scim_token(p_org_id uuid, p_label text)
returns table (
    id uuid,
    token text,
    label text,
    created_at timestamptz
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_label text := pg_catalog.btrim(p_label);
    v_token text := 'smta_scim_' || core.new_invitation_token();
    v_id uuid;
    v_created_at timestamptz;
begin
    if p_org_id is null then
        raise exception 'Organization id is required'
            using errcode = '22023';
    end if;
    if not (p_org_id = any (core.current_user_super_admin_org_ids())) then
        raise exception 'Only the organization''s super_admin can create SCIM tokens'
            using errcode = '42501';
    end if;
    if v_label is null or pg_catalog.length(v_label) not between 1 and 100 then
        raise exception 'A SCIM token needs a label of 1 to 100 characters'
            using errcode = '22023';
    end if;
    begin
        insert into core.scim_tokens as t (organization_id, label, token_hash, created_by, updated_by)
        values (p_org_id, v_label, core.hash_invitation_token(v_token), v_user_id, v_user_id)
        returning t.id, t.created_at into v_id, v_created_at;
    exception
        when unique_violation then
            raise exception 'A live SCIM token of this organization already has that label'
                using errcode = '23505';
    end;
    return query select v_id, v_token, v_label, v_created_at;
end;
$$;

revoke all on function public.create_scim_token(uuid, text) from public, anon;
grant execute on function public.create_scim_token(uuid, text) to app_user;

-- public.list_scim_tokens: the organization's SCIM tokens, newest first, never the tokens
-- themselves. The organization's super_admin. Raises 42501 when not signed in or not the
-- super_admin; 22023 for a missing id.
create or replace function public.list_scim_tokens(p_org_id uuid)
returns table (
    id uuid,
    label text,
    created_at timestamptz,
    created_by uuid,
    last_used_at timestamptz,
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
    if not (p_org_id = any (core.current_user_super_admin_org_ids())) then
        raise exception 'Only the organization''s super_admin can list SCIM tokens'
            using errcode = '42501';
    end if;
    return query
    select t.id, t.label, t.created_at, t.created_by, t.last_used_at, t.revoked_at
    from core.scim_tokens as t
    where t.organization_id = p_org_id
    order by t.created_at desc, t.id;
end;
$$;

revoke all on function public.list_scim_tokens(uuid) from public, anon;
grant execute on function public.list_scim_tokens(uuid) to app_user;

-- public.revoke_scim_token: revokes a SCIM token: it authenticates nothing from the next request
-- on. The super_admin of its organization. Raises 42501 when not signed in; 22023 for a missing
-- id; P0002 'SCIM token not found' (also another organization's, or for a caller who is not its
-- super_admin, so its existence does not leak); P0001 when it is already revoked.
create or replace function public.revoke_scim_token(p_token_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_token core.scim_tokens%rowtype;
begin
    if p_token_id is null then
        raise exception 'SCIM token id is required'
            using errcode = '22023';
    end if;
    select t.* into v_token
    from core.scim_tokens as t
    where t.id = p_token_id
      and t.organization_id = any (core.current_user_super_admin_org_ids())
    for update;
    if not found then
        raise exception 'SCIM token not found'
            using errcode = 'P0002';
    end if;
    if v_token.revoked_at is not null then
        raise exception 'This SCIM token is already revoked'
            using errcode = 'P0001';
    end if;
    update core.scim_tokens as t
    set revoked_at = pg_catalog.now(),
        revoked_by = v_user_id,
        updated_by = v_user_id
    where t.id = v_token.id;
end;
$$;

revoke all on function public.revoke_scim_token(uuid) from public, anon;
grant execute on function public.revoke_scim_token(uuid) to app_user;

-- =============================================================================================
-- The platform: authenticating a SCIM request
-- =============================================================================================

-- platform.authenticate_scim_token(p_token): the live token a SCIM request presents, and the live
-- organization it acts for; no row for an unknown, revoked or malformed token or a deleted
-- organization. Records the token's last use (at most once a minute, to keep reads cheap). The
-- bridge (app_admin) only. Raises nothing.
create or replace function platform.authenticate_scim_token(p_token text)
returns table (
    token_id uuid,
    organization_id uuid,
    label text
)
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_token core.scim_tokens%rowtype;
begin
    if p_token is null or p_token !~ '^smta_scim_[A-Za-z0-9_-]{64}$' then
        return;
    end if;
    select t.* into v_token
    from core.scim_tokens as t
    join core.organizations as o on o.id = t.organization_id and not o.is_deleted
    where t.token_hash = core.hash_invitation_token(p_token)
      and t.revoked_at is null;
    if not found then
        return;
    end if;
    if v_token.last_used_at is null or v_token.last_used_at < pg_catalog.now() - interval '1 minute' then
        update core.scim_tokens as t set last_used_at = pg_catalog.now() where t.id = v_token.id;
    end if;
    return query select v_token.id, v_token.organization_id, v_token.label;
end;
$$;

revoke all on function platform.authenticate_scim_token(text) from public, anon, authenticated, app_user;
grant execute on function platform.authenticate_scim_token(text) to app_admin;

comment on function platform.authenticate_scim_token(text) is
    'SMTA: the live SCIM token a request presents and the organization it acts for; the bridge only';

-- =============================================================================================
-- SCIM provisioning
-- =============================================================================================

comment on function public.create_scim_token(uuid, text) is
$$Creates a SCIM provisioning token for the organization and returns it once.
Give it to the identity provider (Okta, Microsoft Entra ID, Google) as the bearer token of the bridge's /scim/v2 endpoints; it acts for this organization only. It is stored only as a hash; its label names it in the audit log.
Callers: the organization's super_admin.
Returns: one row (id, token, label, created_at).
Errors: 42501 when not signed in or not the super_admin; 22023 for a missing id or a label not 1 to 100 characters; 23505 when a live token already has that label.$$;

comment on function public.list_scim_tokens(uuid) is
$$Lists the organization's SCIM tokens, newest first, never the tokens themselves.
Callers: the organization's super_admin.
Returns: one row per token (id, label, created_at, created_by, last_used_at, revoked_at).
Errors: 42501 when not signed in or not the super_admin; 22023 for a missing id.$$;

comment on function public.revoke_scim_token(uuid) is
$$Revokes a SCIM token: it authenticates nothing from the next request on.
Callers: the super_admin of the token's organization.
Returns: nothing.
Errors: 42501 when not signed in; 22023 for a missing id; P0002 when the token does not exist or the caller is not its organization's super_admin; P0001 when it is already revoked.$$;
