-- 0020_secrets: tenant secrets (an organization's SMTP password, a user's API key, ...).
--
-- Storage. platform.tenant_secrets holds each secret's metadata and `secret_ref`, an opaque
-- reference returned by the store hook core.store_secret_impl. The value itself never lands in
-- a table in clear. The default store, defined here, is pgcrypto: the value is encrypted with
-- pgp_sym_encrypt (AES-256, no compression) into the private table
-- platform.encrypted_secrets, and the reference is that row's id (a uuid, as text). The key is
-- the transaction-local setting app.secrets_key, which the backend sets per transaction
-- (`set_config('app.secrets_key', $1, true)`); it is never stored. The Supabase adapter
-- replaces the three hooks with Supabase Vault when the supabase_vault extension is installed;
-- the reference is then the Vault secret's id.
--
-- Access. Organization secrets: the organization's super_admin creates, deletes and reads them;
-- every member sees their names. User secrets: only that user. Values are returned only by
-- public.read_secret, one secret at a time, and every read is audited. The service role may
-- rotate the pgcrypto key with platform.rotate_secrets_key.
--
-- Audit. Creations and deletions of platform.tenant_secrets rows reach core.audit_logs through
-- the core audit trigger (0004), with the organization and the actor; the reference column is
-- redacted. Reads change no row, so public.read_secret records each one with core.log_audit.
-- Neither ever carries a secret's value.

-- ---------------------------------------------------------------------------------------------
-- The pgcrypto store
-- ---------------------------------------------------------------------------------------------
-- platform.encrypted_secrets: one ciphertext per stored secret. Private: no role but its owner
-- (and so the SECURITY DEFINER hooks below) has any privilege on it, not even the service role.
create table platform.encrypted_secrets (
    id uuid primary key default gen_random_uuid(),
    -- The secret's display name (e.g. 'SMTP password'), for operators; not secret.
    name text,
    ciphertext bytea not null,
    created_at timestamptz not null default now(),
    -- Last (re-)encryption: creation or key rotation.
    updated_at timestamptz not null default now()
);

comment on table platform.encrypted_secrets is
    'SMTA pgcrypto secret store: ciphertexts keyed by app.secrets_key; reached only through core.*_secret_impl';

alter table platform.encrypted_secrets enable row level security;
alter table platform.encrypted_secrets force row level security;
-- No policy: every role subject to RLS sees nothing; privileges are revoked as well.
revoke all on table platform.encrypted_secrets from public, anon, authenticated, service_role,
    app_user, app_admin;

-- core.secrets_key: the transaction's app.secrets_key. Internal (owner only).
-- Raises 55000 when it is unset or empty, 22023 when it is shorter than 16 characters.
-- Messages never contain key material.
create or replace function core.secrets_key()
returns text
language plpgsql
stable
set search_path = ''
as $$
declare
    v_key text := nullif(pg_catalog.current_setting('app.secrets_key', true), '');
begin
    if v_key is null then
        raise exception 'The secrets key is not set'
            using errcode = '55000',
                  hint = 'Set app.secrets_key for the transaction: select set_config(''app.secrets_key'', <key>, true).';
    end if;
    if pg_catalog.length(v_key) < 16 then
        raise exception 'The secrets key must be at least 16 characters long'
            using errcode = '22023';
    end if;
    return v_key;
end;
$$;

revoke all on function core.secrets_key() from public, anon, authenticated;

-- core.secret_ref_id: the store row id a pgcrypto reference stands for. Internal (owner only).
-- Raises 22023 when the reference is not a uuid (the reference itself is not echoed).
create or replace function core.secret_ref_id(p_secret_ref text)
returns uuid
language plpgsql
immutable
set search_path = ''
as $$
begin
    if p_secret_ref is null
       or p_secret_ref !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        raise exception 'Invalid secret reference'
            using errcode = '22023';
    end if;
    return p_secret_ref::uuid;
end;
$$;

revoke all on function core.secret_ref_id(text) from public, anon, authenticated;

-- core.store_secret_impl: encrypts p_secret under app.secrets_key into the pgcrypto store and
-- returns its reference. The key is first checked against an existing ciphertext, so a
-- misconfigured key cannot silently start a second key generation. Called by
-- public.create_secret; executable by app_admin (backend tooling). Raises 55000/22023 (key
-- unset, too short, or not the store's key), 22023 for a null value.
create or replace function core.store_secret_impl(p_secret text, p_name text default null)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_key text := core.secrets_key();
    v_sample bytea;
    v_id uuid;
begin
    if p_secret is null then
        raise exception 'A secret value is required'
            using errcode = '22023';
    end if;

    -- FOR SHARE waits for a key rotation in progress (it updates every row) and then reads the
    -- re-encrypted row, so a store racing a rotation cannot write under the retired key
    -- (under REPEATABLE READ the race ends in a serialization failure instead).
    select s.ciphertext into v_sample
    from platform.encrypted_secrets as s
    limit 1
    for share;
    if v_sample is not null then
        begin
            perform extensions.pgp_sym_decrypt(v_sample, v_key);
        exception when sqlstate '39000' then
            raise exception 'The secrets key does not match the key of the secret store'
                using errcode = '22023';
        end;
    end if;

    insert into platform.encrypted_secrets (name, ciphertext)
    values (p_name,
            extensions.pgp_sym_encrypt(p_secret, v_key, 'cipher-algo=aes256, compress-algo=0'))
    returning encrypted_secrets.id into v_id;

    return v_id::text;
end;
$$;

revoke all on function core.store_secret_impl(text, text) from public, anon, authenticated;
grant execute on function core.store_secret_impl(text, text) to app_admin;

-- core.read_secret_impl: decrypts the secret a reference points to with app.secrets_key.
-- Called by public.read_secret; executable by app_admin (backend tooling, e.g. a mailer that
-- needs an organization's SMTP password). Raises 55000/22023 (key unset, too short or wrong),
-- 22023 for a malformed reference, P0002 when nothing is stored under it.
create or replace function core.read_secret_impl(p_secret_ref text)
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_key text := core.secrets_key();
    v_ciphertext bytea;
begin
    select s.ciphertext into v_ciphertext
    from platform.encrypted_secrets as s
    where s.id = core.secret_ref_id(p_secret_ref);
    if not found then
        raise exception 'Secret not found'
            using errcode = 'P0002';
    end if;

    return extensions.pgp_sym_decrypt(v_ciphertext, v_key);
exception when sqlstate '39000' then
    raise exception 'The secrets key does not decrypt this secret'
        using errcode = '22023';
end;
$$;

revoke all on function core.read_secret_impl(text) from public, anon, authenticated;
grant execute on function core.read_secret_impl(text) to app_admin;

-- core.delete_secret_impl: erases the ciphertext a reference points to (idempotent: an unknown
-- reference is a no-op). Needs no key. Called by public.delete_secret; executable by
-- app_admin. Raises 22023 for a malformed reference.
create or replace function core.delete_secret_impl(p_secret_ref text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    delete from platform.encrypted_secrets as s
    where s.id = core.secret_ref_id(p_secret_ref);
end;
$$;

revoke all on function core.delete_secret_impl(text) from public, anon, authenticated;
grant execute on function core.delete_secret_impl(text) to app_admin;

-- ---------------------------------------------------------------------------------------------
-- Audit
-- ---------------------------------------------------------------------------------------------
-- Every change of a tenant secret's metadata is audited under its organization (none for user
-- secrets); secret_ref is never copied into the log.
create trigger trg_tenant_secrets_audit
after insert or update or delete on platform.tenant_secrets
for each row execute function core.audit_row_change('organization_id', '', 'secret_ref');

-- ---------------------------------------------------------------------------------------------
-- Authorization helpers
-- ---------------------------------------------------------------------------------------------

-- core.can_see_secret: whether the caller may see this secret's metadata (a user secret: its
-- owner; an organization secret: any live member of that organization). Internal (owner only).
-- Raises nothing.
create or replace function core.can_see_secret(p_scope text, p_organization_id uuid, p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select case p_scope
        when 'user' then p_user_id = core.get_current_user_id()
        when 'organization' then core.is_org_member(p_organization_id)
        else false
    end;
$$;

revoke all on function core.can_see_secret(text, uuid, uuid) from public, anon, authenticated;

-- core.can_manage_secret: whether the caller may create, delete or read the value of a secret
-- of this owner (a user secret: its owner; an organization secret: the organization's
-- super_admin). Internal (owner only). Raises nothing.
create or replace function core.can_manage_secret(p_scope text, p_organization_id uuid, p_user_id uuid)
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select case p_scope
        when 'user' then p_user_id = core.get_current_user_id()
        when 'organization' then core.is_super_admin(p_organization_id)
        else false
    end;
$$;

revoke all on function core.can_manage_secret(text, uuid, uuid) from public, anon, authenticated;

-- ---------------------------------------------------------------------------------------------
-- Public API
-- ---------------------------------------------------------------------------------------------

-- public.create_secret: stores a secret for an organization (p_scope 'organization', p_id its
-- id) or for the caller (p_scope 'user', p_id the caller's id) and returns its id.
-- The organization's super_admin, or the user themself.
-- Raises 42501 when unauthenticated or not allowed, 22023 for a bad scope, missing id, empty
-- name or empty value, 23505 when a live secret with that name (case-insensitive) exists for
-- that owner, and the store's errors (e.g. 55000 when app.secrets_key is unset).
create or replace function public.create_secret(
    p_scope text,
    p_id uuid,
    p_name text,
    p_secret text
)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_name text := btrim(p_name);
    v_org_id uuid := case when p_scope = 'organization' then p_id end;
    v_owner_id uuid := case when p_scope = 'user' then p_id end;
    v_secret_id uuid;
begin
    if p_scope is null or p_scope not in ('organization', 'user') then
        raise exception 'The scope must be ''organization'' or ''user'''
            using errcode = '22023';
    end if;
    if p_id is null then
        raise exception 'An organization or user id is required'
            using errcode = '22023';
    end if;
    if coalesce(v_name, '') = '' then
        raise exception 'A secret name is required'
            using errcode = '22023';
    end if;
    if coalesce(p_secret, '') = '' then
        raise exception 'A secret value is required'
            using errcode = '22023';
    end if;
    if not core.can_manage_secret(p_scope, v_org_id, v_owner_id) then
        raise exception '%', case p_scope
                when 'organization' then 'Only the organization''s super_admin may manage its secrets'
                else 'You may manage only your own secrets'
            end
            using errcode = '42501';
    end if;

    -- Names are unique per owner among live secrets: serialize creators for this owner.
    perform pg_catalog.pg_advisory_xact_lock(
        pg_catalog.hashtextextended('platform.tenant_secrets:' || p_scope || ':' || p_id, 0)
    );
    if exists (
        select 1
        from platform.tenant_secrets as ts
        where ts.scope = p_scope
          and coalesce(ts.organization_id, ts.user_id) = p_id
          and lower(ts.secret_name) = lower(v_name)
          and not ts.is_deleted
    ) then
        raise exception 'A secret with this name already exists'
            using errcode = '23505';
    end if;

    insert into platform.tenant_secrets (
        scope, organization_id, user_id, secret_name, secret_ref, created_by, updated_by
    )
    values (
        p_scope, v_org_id, v_owner_id, v_name, core.store_secret_impl(p_secret, v_name),
        v_user_id, v_user_id
    )
    returning tenant_secrets.id into v_secret_id;

    return v_secret_id;
end;
$$;

revoke all on function public.create_secret(text, uuid, text, text) from public, anon;
grant execute on function public.create_secret(text, uuid, text, text) to app_user;

-- public.delete_secret: soft-deletes a secret's metadata and erases its stored value for good.
-- The organization's super_admin, or the owning user.
-- Raises 42501 when unauthenticated or when a member who may see the secret may not delete it,
-- P0002 when the secret does not exist, is deleted, or is not visible to the caller.
create or replace function public.delete_secret(p_secret_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_secret platform.tenant_secrets;
begin
    select ts.* into v_secret
    from platform.tenant_secrets as ts
    where ts.id = p_secret_id
      and not ts.is_deleted
    for update;

    if not found or not core.can_see_secret(v_secret.scope, v_secret.organization_id, v_secret.user_id) then
        raise exception 'Secret not found'
            using errcode = 'P0002';
    end if;
    if not core.can_manage_secret(v_secret.scope, v_secret.organization_id, v_secret.user_id) then
        raise exception 'Only the organization''s super_admin may manage its secrets'
            using errcode = '42501';
    end if;

    update platform.tenant_secrets as ts
    set is_deleted = true,
        deleted_at = now(),
        deleted_by = v_user_id,
        updated_by = v_user_id
    where ts.id = v_secret.id;

    perform core.delete_secret_impl(v_secret.secret_ref);
end;
$$;

revoke all on function public.delete_secret(uuid) from public, anon;
grant execute on function public.delete_secret(uuid) to app_user;

-- public.list_secrets: metadata (never values) of the live secrets the caller may see, newest
-- first: their own user secrets and the secrets of organizations they belong to; optionally
-- only one scope (p_scope), or one owner (p_scope and p_id together).
-- Any authenticated user. Raises 42501 when unauthenticated or when p_id names an organization
-- the caller is not a member of or another user, 22023 for a bad scope or p_id without p_scope.
create or replace function public.list_secrets(
    p_scope text default null,
    p_id uuid default null
)
returns table (
    id uuid,
    scope text,
    organization_id uuid,
    user_id uuid,
    secret_name text,
    created_at timestamptz,
    created_by uuid
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_org_ids uuid[] := core.current_user_org_ids();
begin
    if p_scope is not null and p_scope not in ('organization', 'user') then
        raise exception 'The scope must be ''organization'' or ''user'''
            using errcode = '22023';
    end if;
    if p_id is not null and p_scope is null then
        raise exception 'p_scope is required with p_id'
            using errcode = '22023';
    end if;
    if p_id is not null and not core.can_see_secret(p_scope,
            case when p_scope = 'organization' then p_id end,
            case when p_scope = 'user' then p_id end) then
        raise exception 'You may not view these secrets'
            using errcode = '42501';
    end if;

    return query
    select ts.id, ts.scope, ts.organization_id, ts.user_id, ts.secret_name, ts.created_at, ts.created_by
    from platform.tenant_secrets as ts
    where not ts.is_deleted
      and (
          (ts.scope = 'user' and ts.user_id = v_user_id)
          or (ts.scope = 'organization' and ts.organization_id = any (v_org_ids))
      )
      and (p_scope is null or ts.scope = p_scope)
      and (p_id is null or coalesce(ts.organization_id, ts.user_id) = p_id)
    order by ts.created_at desc, ts.id;
end;
$$;

revoke all on function public.list_secrets(text, uuid) from public, anon;
grant execute on function public.list_secrets(text, uuid) to app_user;

-- public.read_secret: the value of one live, active secret (our extension; audited).
-- Organization secrets: the organization's super_admin only; user secrets: that user only.
-- Raises 42501 when unauthenticated or when a member who may see the secret may not read it,
-- P0002 when the secret does not exist, is deleted, or is not visible to the caller, P0001
-- when it is inactive, and the store's errors (e.g. 55000 when app.secrets_key is unset).
create or replace function public.read_secret(p_secret_id uuid)
returns text
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user_id uuid := core.require_user_id();
    v_secret platform.tenant_secrets;
    v_value text;
begin
    select ts.* into v_secret
    from platform.tenant_secrets as ts
    where ts.id = p_secret_id
      and not ts.is_deleted;

    if not found or not core.can_see_secret(v_secret.scope, v_secret.organization_id, v_secret.user_id) then
        raise exception 'Secret not found'
            using errcode = 'P0002';
    end if;
    if not core.can_manage_secret(v_secret.scope, v_secret.organization_id, v_secret.user_id) then
        raise exception 'Only the organization''s super_admin may read its secrets'
            using errcode = '42501';
    end if;
    if v_secret.is_active is false then
        raise exception 'This secret is inactive'
            using errcode = 'P0001';
    end if;

    v_value := core.read_secret_impl(v_secret.secret_ref);

    -- The entry's organization is inferred from the secret's row (none for a user secret).
    perform core.log_audit(
        'read', 'platform.tenant_secrets', v_secret.id, 'Read a secret',
        jsonb_build_object('scope', v_secret.scope, 'secret_name', v_secret.secret_name)
    );

    return v_value;
end;
$$;

revoke all on function public.read_secret(uuid) from public, anon;
grant execute on function public.read_secret(uuid) to app_user;

-- ---------------------------------------------------------------------------------------------
-- Key rotation
-- ---------------------------------------------------------------------------------------------

-- platform.rotate_secrets_key: re-encrypts every ciphertext of the pgcrypto store from
-- p_old_key to p_new_key and returns how many were re-encrypted. All or nothing: if the old key
-- fails on any one of them, nothing changes. Concurrent writers of the store wait until the
-- rotation commits. Secrets kept in Supabase Vault are Vault's to rotate (they are not in this
-- store). Pass the keys as bind parameters: a literal in the statement text may reach the
-- server log. The service role (without an identity) or a platform super_admin.
-- Raises 42501 for other identities, 22023 for a missing or too short key, equal keys, or an
-- old key that does not decrypt the store, 25000 outside READ COMMITTED isolation.
create or replace function platform.rotate_secrets_key(p_old_key text, p_new_key text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count integer;
begin
    perform platform.ensure_platform_admin();

    if coalesce(p_old_key, '') = '' or coalesce(p_new_key, '') = '' then
        raise exception 'The old and the new key are required'
            using errcode = '22023';
    end if;
    if pg_catalog.length(p_new_key) < 16 then
        raise exception 'The new secrets key must be at least 16 characters long'
            using errcode = '22023';
    end if;
    if p_old_key = p_new_key then
        raise exception 'The new secrets key must differ from the old one'
            using errcode = '22023';
    end if;
    -- Under READ COMMITTED the update below sees every secret committed before the lock was
    -- granted; a transaction snapshot taken earlier (REPEATABLE READ, SERIALIZABLE) could miss
    -- one, leaving it under the old key.
    if pg_catalog.current_setting('transaction_isolation') <> 'read committed' then
        raise exception 'Rotate the secrets key in a READ COMMITTED transaction'
            using errcode = '25000';
    end if;

    -- Blocks stores and deletions (not reads) until this transaction ends.
    lock table platform.encrypted_secrets in exclusive mode;

    begin
        update platform.encrypted_secrets as s
        set ciphertext = extensions.pgp_sym_encrypt(
                extensions.pgp_sym_decrypt(s.ciphertext, p_old_key),
                p_new_key,
                'cipher-algo=aes256, compress-algo=0'),
            updated_at = now();
        get diagnostics v_count = row_count;
    exception when sqlstate '39000' then
        raise exception 'The old key does not decrypt every stored secret; nothing was changed'
            using errcode = '22023';
    end;

    perform platform.log_platform_action(
        'rotate', 'platform.encrypted_secrets', null, 'Rotated the secrets key',
        jsonb_build_object('secrets', v_count)
    );
    return v_count;
end;
$$;

revoke all on function platform.rotate_secrets_key(text, text) from public, anon, authenticated;
grant execute on function platform.rotate_secrets_key(text, text) to app_admin;
