-- OpenID Connect adapter, SQL part: identity from the transaction-local setting
-- app.current_user_id, and the mapping from each issuer's subjects ('auth0|abc', 'user_2x…',
-- Keycloak's uuids) to stable SMTA user ids. Applied after the core migrations.
--
-- Secrets: the pgcrypto store of 0020 (key in app.secrets_key) is the default; this adapter
-- adds nothing to it.

-- ---------------------------------------------------------------------------------------------
-- Identity hook
-- ---------------------------------------------------------------------------------------------
-- core.get_current_user_id(): the user id the bridge set for this transaction with
-- core.set_caller (app.current_user_id); null when unset or empty. Stated here so that this
-- adapter's identity does not depend on what the core migrations happen to define. Callable by
-- app_user and app_admin; raises only when the setting is not a uuid.
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
-- core.identity_links: which issuer's subject each SMTA user id stands for (provider: the
-- issuer URL exactly as the tokens' iss claim; subject: the subject claim). Written only by
-- core.link_identity; readable by the service role; invisible to app_user.
create table core.identity_links (
    user_id uuid primary key,
    provider text not null,
    subject text not null,
    -- The last email the issuer marked verified for this subject.
    email text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint identity_links_provider_subject_key unique (provider, subject)
);

comment on table core.identity_links is
    'SMTA: OIDC subjects (per issuer) mapped to SMTA user ids; written by core.link_identity';

create trigger trg_identity_links_updated
before update on core.identity_links
for each row execute function utils.update_timestamp();

alter table core.identity_links enable row level security;
alter table core.identity_links force row level security;
-- No policy: RLS-subject roles see nothing. The service role bypasses RLS and may read.
revoke all on table core.identity_links from public, anon, authenticated, app_user;
grant select on table core.identity_links to app_admin;

-- core.oidc_user_id: the SMTA user id of an issuer's subject, computed, never chosen by the
-- issuer: a name-based uuid (version 5: SHA-1 of a namespace and '<issuer>' LF '<subject>';
-- issuers are URLs, which never contain a line feed, so the pair is unambiguous). Even a
-- subject that is itself a uuid is hashed: two issuers can never produce the same user id.
-- The namespace is 6d3f1c5e-2b7a-5e0f-9c41-8a2d7b6e4f10 and must never change, or every user
-- would get a new id. Internal (owner only). Raises nothing.
create or replace function core.oidc_user_id(p_issuer text, p_subject text)
returns uuid
language plpgsql
immutable
strict
set search_path = ''
as $$
declare
    v_hash bytea;
begin
    v_hash := pg_catalog.substring(
        extensions.digest(
            pg_catalog.decode('6d3f1c5e2b7a5e0f9c418a2d7b6e4f10', 'hex')
                || pg_catalog.convert_to(p_issuer || E'\n' || p_subject, 'UTF8'),
            'sha1'),
        1, 16);
    -- RFC 4122: version 5 in the high nibble of byte 6, variant 10 in the top bits of byte 8.
    v_hash := pg_catalog.set_byte(v_hash, 6, (pg_catalog.get_byte(v_hash, 6) & 15) | 80);
    v_hash := pg_catalog.set_byte(v_hash, 8, (pg_catalog.get_byte(v_hash, 8) & 63) | 128);
    return pg_catalog.encode(v_hash, 'hex')::uuid;
end;
$$;

revoke all on function core.oidc_user_id(text, text) from public, anon, authenticated;

-- core.link_identity: the SMTA user id of subject p_subject of issuer p_provider, recorded in
-- core.identity_links on first sight; p_email (the adapter passes only an email the issuer
-- marked verified) is recorded in that user's core.users_meta row (created if missing), which
-- email-bound invitations trust. Called by core.set_caller on every request before the role
-- switch, so it writes nothing when nothing changed. Executable by app_admin only: a tenant
-- must never be able to attach an email to a user id.
-- Raises 42501 for other callers (no EXECUTE privilege), 22023 for an empty issuer or subject,
-- an issuer with a line feed, or a malformed email.
create or replace function core.link_identity(p_provider text, p_subject text, p_email text)
returns uuid
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text := nullif(btrim(p_email), '');
    v_user_id uuid;
    v_link_email text;
begin
    if coalesce(p_provider, '') = '' or coalesce(p_subject, '') = '' then
        raise exception 'An issuer and a subject are required'
            using errcode = '22023';
    end if;
    if pg_catalog.strpos(p_provider, E'\n') > 0 then
        raise exception 'An issuer may not contain a line feed'
            using errcode = '22023';
    end if;
    if v_email is not null and v_email !~* '^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$' then
        raise exception 'The email is not a valid email address'
            using errcode = '22023';
    end if;

    -- Fast path: a known subject whose email is already recorded everywhere.
    select il.user_id, il.email into v_user_id, v_link_email
    from core.identity_links as il
    where il.provider = p_provider
      and il.subject = p_subject;

    if found
       and (v_email is null or v_link_email is not distinct from v_email)
       and exists (
           select 1 from core.users_meta as um
           where um.id = v_user_id
             and (v_email is null or um.email is not distinct from v_email)
       ) then
        return v_user_id;
    end if;

    insert into core.identity_links as il (user_id, provider, subject, email)
    values (core.oidc_user_id(p_provider, p_subject), p_provider, p_subject, v_email)
    on conflict (provider, subject) do update
    set email = coalesce(excluded.email, il.email)
    returning il.user_id into v_user_id;

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
