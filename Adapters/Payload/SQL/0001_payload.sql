-- Payload adapter, SQL part: identity from the transaction-local setting app.current_user_id,
-- and the mapping from Payload's user ids (numbers by default, per auth collection) to stable
-- SMTA user ids. Applied after the core migrations.
--
-- Secrets: the pgcrypto store of 0020 (key in app.secrets_key) is the default; this adapter
-- adds nothing to it.

-- ---------------------------------------------------------------------------------------------
-- Identity hook
-- ---------------------------------------------------------------------------------------------
-- core.get_current_user_id(): the user id the bridge set for this transaction with
-- set_config('app.current_user_id', <uuid>, true); null when unset or empty. Stated here
-- explicitly (even though it equals the core default) so that this adapter's identity does not
-- depend on what the core migrations happen to define. Callable by app_user and app_admin;
-- raises only when the setting is not a uuid.
create or replace function core.get_current_user_id()
returns uuid
language sql
stable
set search_path = ''
as $$
    select nullif(pg_catalog.current_setting('app.current_user_id', true), '')::uuid
$$;

-- ---------------------------------------------------------------------------------------------
-- Identity links
-- ---------------------------------------------------------------------------------------------
-- core.identity_links: which external identity each SMTA user id stands for. A Payload user is
-- identified by provider 'payload' and subject '<collection>:<id>' (e.g. 'users:2'), so that
-- users 2 of two auth collections are two different SMTA users. Written only by
-- core.link_identity; readable by the service role; invisible to app_user.
create table core.identity_links (
    user_id uuid primary key,
    provider text not null,
    subject text not null,
    -- The email the provider last reported for this identity.
    email text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint identity_links_provider_subject_key unique (provider, subject)
);

comment on table core.identity_links is
    'SMTA: external identities (e.g. Payload users) mapped to SMTA user ids; written by core.link_identity';

create trigger trg_identity_links_updated
before update on core.identity_links
for each row execute function utils.update_timestamp();

alter table core.identity_links enable row level security;
alter table core.identity_links force row level security;
-- No policy: RLS-subject roles see nothing. The service role bypasses RLS and may read.
revoke all on table core.identity_links from public, anon, authenticated, app_user;
grant select on table core.identity_links to app_admin;

-- core.identity_user_id: the SMTA user id of an external identity, computed, never stored
-- anywhere else: a subject that is itself a uuid is that uuid; otherwise a name-based uuid
-- (version 5: SHA-1 of a namespace and '<provider>:<subject>'). The namespace is
-- 0721d336-6439-54d6-8816-c0c1b4983e2f (the version 5 uuid of 'urn:smta:identity-links' in the
-- URL namespace) and must never change, or every mapped user would get a new id.
-- Internal (owner only). Raises nothing.
create or replace function core.identity_user_id(p_provider text, p_subject text)
returns uuid
language plpgsql
immutable
strict
set search_path = ''
as $$
declare
    v_hash bytea;
begin
    if p_subject ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' then
        return p_subject::uuid;
    end if;

    v_hash := pg_catalog.substring(
        extensions.digest(
            pg_catalog.decode('0721d336643954d68816c0c1b4983e2f', 'hex')
                || pg_catalog.convert_to(p_provider || ':' || p_subject, 'UTF8'),
            'sha1'),
        1, 16);
    -- RFC 4122: version 5 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
    v_hash := pg_catalog.set_byte(v_hash, 6, (pg_catalog.get_byte(v_hash, 6) & 15) | 80);
    v_hash := pg_catalog.set_byte(v_hash, 8, (pg_catalog.get_byte(v_hash, 8) & 63) | 128);
    return pg_catalog.encode(v_hash, 'hex')::uuid;
end;
$$;

revoke all on function core.identity_user_id(text, text) from public, anon, authenticated;

-- core.link_identity: the SMTA user id of an external identity (e.g. 'payload', 'users:2'),
-- recorded in core.identity_links on first sight, and the identity's email recorded in that
-- user's core.users_meta row (created if missing), which email-bound invitations trust. The
-- bridge calls it on every request before switching to `authenticated`, so it writes nothing
-- when nothing changed. Executable by app_admin only: a tenant must never be able to attach
-- an email to a user id.
-- Raises 42501 for other callers (no EXECUTE privilege), 22023 for an empty provider or
-- subject, a provider containing ':', or a malformed email, 23505 when the computed user id is
-- already linked to a different identity.
create or replace function core.link_identity(p_provider text, p_subject text, p_email text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_provider text := btrim(p_provider);
    v_subject text := btrim(p_subject);
    v_email text := nullif(btrim(p_email), '');
    v_user_id uuid;
    v_link_email text;
    v_constraint text;
begin
    if coalesce(v_provider, '') = '' or coalesce(v_subject, '') = '' then
        raise exception 'A provider and a subject are required'
            using errcode = '22023';
    end if;
    -- '<provider>:<subject>' must be unambiguous: ('a:b', 'c') and ('a', 'b:c') may not meet.
    if pg_catalog.strpos(v_provider, ':') > 0 then
        raise exception 'A provider name may not contain '':'''
            using errcode = '22023';
    end if;
    if v_email is not null and v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
        raise exception 'The email is not a valid email address'
            using errcode = '22023';
    end if;

    -- Fast path: a known identity whose email is already recorded everywhere.
    select il.user_id, il.email into v_user_id, v_link_email
    from core.identity_links as il
    where il.provider = v_provider
      and il.subject = v_subject;

    if found
       and (v_email is null or v_link_email is not distinct from v_email)
       and exists (
           select 1 from core.users_meta as um
           where um.id = v_user_id
             and (v_email is null or um.email is not distinct from v_email)
       ) then
        return v_user_id;
    end if;

    begin
        insert into core.identity_links as il (user_id, provider, subject, email)
        values (core.identity_user_id(v_provider, v_subject), v_provider, v_subject, v_email)
        on conflict (provider, subject) do update
        set email = coalesce(excluded.email, il.email)
        returning il.user_id into v_user_id;
    exception when unique_violation then
        get stacked diagnostics v_constraint = constraint_name;
        if v_constraint = 'identity_links_pkey' then
            raise exception 'This identity maps to a user id that is already linked to another identity'
                using errcode = '23505';
        end if;
        raise;
    end;

    insert into core.users_meta as um (id, email, created_by, updated_by)
    values (v_user_id, v_email, v_user_id, v_user_id)
    on conflict (id) do update
    set email = excluded.email
    where excluded.email is not null
      and um.email is distinct from excluded.email;

    return v_user_id;
end;
$$;

revoke all on function core.link_identity(text, text, text) from public, anon, authenticated, app_user;
grant execute on function core.link_identity(text, text, text) to app_admin;
