-- 0005_sso_emails: an address asserted by a SAML identity provider proves itself only within
-- that provider's domains.
--
-- GoTrue records the email of a SAML assertion as confirmed (internal/api/samlacs.go: the
-- assertion's address, EmailVerified true), whatever its domain: it does not compare it with
-- the domains the provider was registered for (auth.sso_domains). A provider is registered for
-- a customer's own domains, and its administrator controls every assertion it makes; so
-- without this rule the administrator of any customer's identity provider could sign someone
-- in as ceo@acme.com and, read as a confirmed address by 0003 and 0004, join Acme by its
-- verified domain, use its domain-limited invitation links, or take the SCIM user Acme's own
-- directory provisioned. An SSO user's address now proves itself only when its domain is one
-- of the domains of the provider it signed in with; other users are read as before.
--
-- SSO users are told apart by auth.users.is_sso_user (set by GoTrue at creation) or an
-- identity of provider 'sso:<provider id>' (auth.identities); a database without GoTrue's SSO
-- tables has no SSO users. SECURITY DEFINER: the signed-in roles may not read auth.*.

-- core.supabase_sso_email_unproven(p_user_id, p_email, p_is_sso_user): is p_email, held by
-- the Supabase Auth user p_user_id, an SSO user's address outside every domain of the
-- providers they signed in with (or one whose provider is not known yet)? False for a user who
-- is not an SSO user. Internal. Raises nothing.
create or replace function core.supabase_sso_email_unproven(p_user_id uuid, p_email text, p_is_sso_user boolean)
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_domain constant text := pg_catalog.split_part(pg_catalog.lower(pg_catalog.btrim(p_email)), '@', 2);
begin
    if pg_catalog.to_regclass('auth.identities') is null or pg_catalog.to_regclass('auth.sso_domains') is null then
        -- No SSO tables: no SSO provider vouches for anyone, but one that says it is an SSO user
        -- proves nothing either.
        return coalesce(p_is_sso_user, false);
    end if;
    if not coalesce(p_is_sso_user, false) and not exists (
        select 1 from auth.identities as i
        where i.user_id = p_user_id and i.provider like 'sso:%'
    ) then
        return false;
    end if;
    return not exists (
        select 1
        from auth.identities as i
        join auth.sso_domains as d on i.provider = 'sso:' || d.sso_provider_id::text
        where i.user_id = p_user_id
          and v_domain <> ''
          and pg_catalog.lower(d.domain) = v_domain
    );
end
$$;

revoke all on function core.supabase_sso_email_unproven(uuid, text, boolean) from public, anon, authenticated, app_user;

-- core.current_user_verified_email(): 0003's, and null for an SSO user's address outside their
-- provider's domains. Same signature. Callable by the runtime roles. Raises nothing.
create or replace function core.current_user_verified_email()
returns text
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_me constant uuid := core.get_current_user_id();
    v_email text;
    v_is_sso boolean;
begin
    if v_me is null or pg_catalog.to_regclass('auth.users') is null then
        return null;
    end if;
    -- is_sso_user read from the row as JSON: GoTrue before December 2022 has no such column.
    select u.email, (pg_catalog.to_jsonb(u) ->> 'is_sso_user')::boolean into v_email, v_is_sso
    from auth.users as u
    where u.id = v_me
      and u.email_confirmed_at is not null;
    if v_email is null or core.supabase_sso_email_unproven(v_me, v_email, v_is_sso) then
        return null;
    end if;
    return nullif(pg_catalog.lower(pg_catalog.btrim(v_email)), '');
end
$$;

comment on function core.current_user_verified_email() is
    'SMTA (Supabase): the caller''s email when auth.users records it confirmed (an SSO user''s only within their provider''s domains), else null';

-- core.find_verified_user(p_email): 0004's, not counting an SSO user whose address is outside
-- their provider's domains. Same signature. Internal. Raises nothing.
create or replace function core.find_verified_user(p_email text)
returns uuid
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_ids uuid[];
begin
    if p_email is null or pg_catalog.to_regclass('auth.users') is null then
        return null;
    end if;
    select pg_catalog.array_agg(u.id) into v_ids
    from (select u.id from auth.users as u
          where u.email = p_email
            and u.email_confirmed_at is not null
            and not core.supabase_sso_email_unproven(u.id, u.email, (pg_catalog.to_jsonb(u) ->> 'is_sso_user')::boolean)
          limit 2) as u;
    if pg_catalog.cardinality(v_ids) = 1 then
        return v_ids[1];
    end if;
    return null;
end
$$;

-- core.bind_scim_users_of_auth_user(): 0004's trigger function, binding nothing for an SSO
-- user's address outside their provider's domains. GoTrue inserts an SSO user before its
-- identity (internal/api/external.go: signupNewUser, then createNewIdentity): at that insert
-- the provider is not known yet, so nothing binds then; the confirmation that follows
-- (email_confirmed_at) or a sign-in (last_sign_in_at), with the identity recorded, binds.
-- Raises nothing.
create or replace function core.bind_scim_users_of_auth_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text := pg_catalog.lower(pg_catalog.btrim(new.email));
begin
    if new.email_confirmed_at is null or v_email is null or v_email = '' then
        return null;
    end if;
    -- the common case (a sign-in, nothing to bind): one probe of the pending index, the domain
    -- read only for a pending row (one waiting for consent does not cost a binding each sign-in)
    if not exists (
        select 1 from core.scim_users as s
        where s.email = v_email
          and s.user_id is null
          and core.scim_binds_automatically(s.organization_id, s.email)
    ) then
        return null;
    end if;
    if core.supabase_sso_email_unproven(new.id, v_email, (pg_catalog.to_jsonb(new) ->> 'is_sso_user')::boolean) then
        return null;
    end if;
    begin
        perform core.bind_scim_users(new.id, v_email, false);
    exception
        when others then
            raise warning 'SMTA: binding the SCIM users of auth user % failed: %', new.id, sqlerrm;
    end;
    return null;
end
$$;
